/*
 * tencent_parse.c: the pure parsers of Tencent VOD API 3.0 responses
 * (version 2018-07-17): the Response envelope and its Error, ApplyUpload,
 * CommitUpload, PullEvents, DescribeMediaInfos and DescribeTaskDetail. No I/O:
 * unit tests and fuzzers call them directly.
 *
 * API errors come back as HTTP 200 with Response.Error.{Code,Message}; a
 * non-200 status is a transport-level failure. Identifiers are read only as
 * strings.
 *
 * Interface: cloud_tencent_parse_*, and the _cleanup functions of the
 * result structs.
 */
#include "cloud/cloud_int.h"
#include "common/json.h"

#include <stdlib.h>
#include <string.h>

#define TC_MAX_EVENTS 64

/* ================================================================ parsing */

static char *
dup_member(const cJSON *obj, const char *name)
{
	const char *s = json_get_str(obj, name);

	return s != NULL ? xstrdup(s) : NULL;
}

/*
 * Check status and the envelope; on success *doc is the parsed document
 * (caller deletes) and *resp its Response object.
 */
static int
tc_envelope(const char *what, long status, const char *body, size_t len,
	    cJSON **doc, const cJSON **resp, struct err *e)
{
	const cJSON *r, *er;
	const char *code, *msg;
	cJSON *d;

	*doc = NULL;
	*resp = NULL;
	if (status != 200)
		return err_set(e, status >= 500 ? ERR_UNAVAIL : ERR_REMOTE,
			       "%s failed: unexpected HTTP status %ld", what,
			       status);
	if ((d = json_parse(body, len)) == NULL)
		return err_set(e, ERR_REMOTE,
			       "%s failed: response is not valid JSON", what);
	r = json_get(d, "Response");
	if (!cJSON_IsObject(r)) {
		/* The deprecated API 2.0 shape {"code": n, "message": ...}. */
		int64_t c = 0;
		char cbuf[24];

		if (json_get_i64(d, "code", &c) && c != 0) {
			snprintf(cbuf, sizeof(cbuf), "%lld", (long long)c);
			err_set_remote(e, ERR_REMOTE, cbuf, "%s failed: %s",
				       what,
				       json_get_str(d, "message") != NULL
					   ? json_get_str(d, "message")
					   : "no message");
		} else {
			err_set(e, ERR_REMOTE,
				"%s failed: response has no Response object",
				what);
		}
		cJSON_Delete(d);
		return e != NULL ? e->code : ERR_REMOTE;
	}
	er = json_get(r, "Error");
	if (er != NULL) {
		int rc;

		code = json_get_str(er, "Code");
		msg = json_get_str(er, "Message");
		if (code == NULL)
			code = "UnknownError";
		rc = strncmp(code, "AuthFailure", 11) == 0 ? ERR_AUTH
							   : ERR_REMOTE;
		err_set_remote(e, rc, code, "%s failed: %s: %s (RequestId %s)",
			       what, code, msg != NULL ? msg : "no message",
			       json_get_str(r, "RequestId") != NULL
				   ? json_get_str(r, "RequestId")
				   : "none");
		cJSON_Delete(d);
		return rc;
	}
	*doc = d;
	*resp = r;
	return 0;
}

static int
missing(const char *what, const char *field, struct err *e)
{
	return err_set(e, ERR_REMOTE, "%s failed: response lacks %s", what,
		       field);
}

void
cloud_tencent_apply_cleanup(struct cloud_tencent_apply *r)
{
	if (r == NULL)
		return;
	free(r->storage_bucket);
	free(r->storage_region);
	free(r->media_storage_path);
	free(r->cover_storage_path);
	free(r->vod_session_key);
	free(r->tmp_secret_id);
	free(r->tmp_secret_key);
	free(r->tmp_token);
	free(r->request_id);
	memset(r, 0, sizeof(*r));
}

int
cloud_tencent_parse_apply(long status, const char *body, size_t len,
			  struct cloud_tencent_apply *r, struct err *e)
{
	const char *what = "ApplyUpload";
	const cJSON *resp, *tc;
	cJSON *doc = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = tc_envelope(what, status, body, len, &doc, &resp, e)) != 0)
		return rc;
	r->storage_bucket = dup_member(resp, "StorageBucket");
	r->storage_region = dup_member(resp, "StorageRegion");
	r->media_storage_path = dup_member(resp, "MediaStoragePath");
	r->cover_storage_path = dup_member(resp, "CoverStoragePath");
	r->vod_session_key = dup_member(resp, "VodSessionKey");
	r->request_id = dup_member(resp, "RequestId");
	tc = json_get(resp, "TempCertificate");
	if (cJSON_IsObject(tc)) {
		r->tmp_secret_id = dup_member(tc, "SecretId");
		r->tmp_secret_key = dup_member(tc, "SecretKey");
		r->tmp_token = dup_member(tc, "Token");
		if (!json_get_i64(tc, "ExpiredTime", &r->expired_time))
			r->expired_time = 0;
	}
	if (r->storage_bucket == NULL)
		rc = missing(what, "StorageBucket", e);
	else if (r->storage_region == NULL)
		rc = missing(what, "StorageRegion", e);
	else if (r->media_storage_path == NULL)
		rc = missing(what, "MediaStoragePath", e);
	else if (r->vod_session_key == NULL)
		rc = missing(what, "VodSessionKey", e);
	cJSON_Delete(doc);
	if (rc != 0)
		cloud_tencent_apply_cleanup(r);
	return rc;
}

void
cloud_tencent_commit_cleanup(struct cloud_tencent_commit *r)
{
	if (r == NULL)
		return;
	free(r->file_id);
	free(r->media_url);
	free(r->cover_url);
	free(r->request_id);
	memset(r, 0, sizeof(*r));
}

int
cloud_tencent_parse_commit(long status, const char *body, size_t len,
			   struct cloud_tencent_commit *r, struct err *e)
{
	const cJSON *resp;
	cJSON *doc = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = tc_envelope("CommitUpload", status, body, len, &doc, &resp,
			      e)) != 0)
		return rc;
	r->file_id = dup_member(resp, "FileId");
	r->media_url = dup_member(resp, "MediaUrl");
	r->cover_url = dup_member(resp, "CoverUrl");
	r->request_id = dup_member(resp, "RequestId");
	if (r->file_id == NULL) {
		rc = missing("CommitUpload", "FileId", e);
		cloud_tencent_commit_cleanup(r);
	}
	cJSON_Delete(doc);
	return rc;
}

void
cloud_tencent_pull_cleanup(struct cloud_tencent_pull *r)
{
	if (r == NULL)
		return;
	free(r->task_id);
	free(r->request_id);
	memset(r, 0, sizeof(*r));
}

/* PullUpload answers {"Response":{"TaskId":...,"RequestId":...}}. Source:
 * tencentcloud-sdk-go vod/v20180717 PullUploadResponseParams. */
int
cloud_tencent_parse_pull(long status, const char *body, size_t len,
			 struct cloud_tencent_pull *r, struct err *e)
{
	const cJSON *resp;
	cJSON *doc = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = tc_envelope("PullUpload", status, body, len, &doc, &resp,
			      e)) != 0)
		return rc;
	r->task_id = dup_member(resp, "TaskId");
	r->request_id = dup_member(resp, "RequestId");
	if (r->task_id == NULL || r->task_id[0] == '\0' ||
	    strlen(r->task_id) > CLOUD_TENCENT_ID_MAX) {
		rc = missing("PullUpload", "TaskId", e);
		cloud_tencent_pull_cleanup(r);
	}
	cJSON_Delete(doc);
	return rc;
}

void
cloud_tencent_events_cleanup(struct cloud_tencent_events *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_handles; i++)
		free(r->handles[i]);
	free(r->handles);
	free(r->request_id);
	cJSON_Delete(r->doc);
	memset(r, 0, sizeof(*r));
}

int
cloud_tencent_parse_events(long status, const char *body, size_t len,
			   struct cloud_tencent_events *r, struct err *e)
{
	const cJSON *resp, *set, *ev;
	cJSON *doc = NULL;
	int rc, n;

	memset(r, 0, sizeof(*r));
	if ((rc = tc_envelope("PullEvents", status, body, len, &doc, &resp,
			      e)) != 0)
		return rc;
	r->doc = doc;
	r->request_id = dup_member(resp, "RequestId");
	set = json_get(resp, "EventSet"); /* may be null: no events */
	if (set == NULL)
		return 0;
	if (!cJSON_IsArray(set)) {
		cloud_tencent_events_cleanup(r);
		return err_set(e, ERR_REMOTE,
			       "PullEvents failed: EventSet is not an array");
	}
	n = cJSON_GetArraySize(set);
	if (n > TC_MAX_EVENTS) {
		cloud_tencent_events_cleanup(r);
		return err_set(e, ERR_LIMIT,
			       "PullEvents failed: %d events (at most %d)", n,
			       TC_MAX_EVENTS);
	}
	r->set = set;
	r->handles = xcalloc((size_t)n + 1, sizeof(char *));
	cJSON_ArrayForEach(ev, set)
	{
		const char *h = json_get_str(ev, "EventHandle");

		if (h != NULL)
			r->handles[r->n_handles++] = xstrdup(h);
	}
	return 0;
}

void
cloud_tencent_media_infos_cleanup(struct cloud_tencent_media_infos *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_items; i++) {
		free(r->items[i].file_id);
		free(r->items[i].media_url);
		free(r->items[i].status);
	}
	free(r->items);
	free(r->request_id);
	cJSON_Delete(r->doc);
	memset(r, 0, sizeof(*r));
}

int
cloud_tencent_parse_media_infos(long status, const char *body, size_t len,
				struct cloud_tencent_media_infos *r,
				struct err *e)
{
	const char *what = "DescribeMediaInfos";
	const cJSON *resp, *set, *absent, *it;
	cJSON *doc = NULL;
	int rc, n1 = 0, n2 = 0;

	memset(r, 0, sizeof(*r));
	if ((rc = tc_envelope(what, status, body, len, &doc, &resp, e)) != 0)
		return rc;
	r->doc = doc;
	r->request_id = dup_member(resp, "RequestId");
	set = json_get(resp, "MediaInfoSet");
	absent = json_get(resp, "NotExistFileIdSet");
	if ((set != NULL && !cJSON_IsArray(set)) ||
	    (absent != NULL && !cJSON_IsArray(absent))) {
		cloud_tencent_media_infos_cleanup(r);
		return err_set(e, ERR_REMOTE, "%s failed: malformed response",
			       what);
	}
	n1 = set != NULL ? cJSON_GetArraySize(set) : 0;
	n2 = absent != NULL ? cJSON_GetArraySize(absent) : 0;
	if (n1 + n2 > 100) {
		cloud_tencent_media_infos_cleanup(r);
		return err_set(e, ERR_LIMIT, "%s failed: too many items", what);
	}
	r->items = xcalloc((size_t)(n1 + n2) + 1, sizeof(*r->items));
	cJSON_ArrayForEach(it, set)
	{
		struct cloud_tencent_media *m = &r->items[r->n_items];
		const cJSON *basic = json_get(it, "BasicInfo");
		const cJSON *tr =
		    json_get(json_get(it, "TranscodeInfo"), "TranscodeSet");

		if ((m->file_id = dup_member(it, "FileId")) == NULL)
			continue; /* cannot be matched to a request */
		m->exists = true;
		m->info = it;
		m->media_url = dup_member(basic, "MediaUrl");
		m->status = dup_member(basic, "Status");
		m->n_transcodes =
		    cJSON_IsArray(tr) ? (size_t)cJSON_GetArraySize(tr) : 0;
		r->n_items++;
	}
	cJSON_ArrayForEach(it, absent)
	{
		if (!cJSON_IsString(it))
			continue;
		r->items[r->n_items].file_id = xstrdup(it->valuestring);
		r->items[r->n_items].exists = false;
		r->n_items++;
	}
	return 0;
}

void
cloud_tencent_task_cleanup(struct cloud_tencent_task *r)
{
	if (r == NULL)
		return;
	free(r->task_type);
	free(r->status);
	free(r->request_id);
	cJSON_Delete(r->doc);
	memset(r, 0, sizeof(*r));
}

/*
 * The detail member of a DescribeTaskDetail answer: "<TaskType>Task"
 * (ProcedureTask, PullUploadTask, ...). The API reference names a few
 * members otherwise (ImageSprite: CreateImageSpriteTask), so when that
 * name is absent the one member ending in "Task" that holds an object is
 * taken; the others are null.
 * Source: DescribeTaskDetail, https://cloud.tencent.com/document/api/266/33431
 * and tencentcloud-sdk-go vod/v20180717 DescribeTaskDetailResponseParams.
 */
static const cJSON *
task_detail(const cJSON *resp, const char *type)
{
	const cJSON *it, *found = NULL;
	char name[96];

	if (type != NULL &&
	    (size_t)snprintf(name, sizeof(name), "%sTask", type) <
		sizeof(name) &&
	    cJSON_IsObject(json_get(resp, name)))
		return json_get(resp, name);
	cJSON_ArrayForEach(it, resp)
	{
		size_t n = it->string != NULL ? strlen(it->string) : 0;

		if (!cJSON_IsObject(it) || n < 4 ||
		    strcmp(it->string + n - 4, "Task") != 0)
			continue;
		if (found != NULL)
			return NULL; /* ambiguous: trust none */
		found = it;
	}
	return found;
}

int
cloud_tencent_parse_task_detail(long status, const char *body, size_t len,
				struct cloud_tencent_task *r, struct err *e)
{
	const char *what = "DescribeTaskDetail";
	const cJSON *resp;
	cJSON *doc = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = tc_envelope(what, status, body, len, &doc, &resp, e)) != 0)
		return rc;
	r->doc = doc;
	r->request_id = dup_member(resp, "RequestId");
	r->task_type = dup_member(resp, "TaskType");
	r->status = dup_member(resp, "Status");
	if (r->task_type == NULL || r->status == NULL) {
		cloud_tencent_task_cleanup(r);
		return missing(what, "TaskType or Status", e);
	}
	r->detail = task_detail(resp, r->task_type);
	return 0;
}

int
cloud_tencent_parse_empty(long status, const char *body, size_t len,
			  struct err *e)
{
	const cJSON *resp;
	cJSON *doc = NULL;
	int rc;

	rc = tc_envelope("ConfirmEvents", status, body, len, &doc, &resp, e);
	cJSON_Delete(doc);
	return rc;
}

int
cloud_tencent_parse_delete(long status, const char *body, size_t len,
			   struct err *e)
{
	const cJSON *resp;
	cJSON *doc = NULL;
	int rc;

	rc = tc_envelope("DeleteMedia", status, body, len, &doc, &resp, e);
	cJSON_Delete(doc);
	return rc;
}

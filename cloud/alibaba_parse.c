/*
 * alibaba_parse.c: the pure parsers of Alibaba VOD's RPC responses
 * (version 2017-03-21): the error shape, CreateUploadVideo /
 * RefreshUploadVideo / CreateUploadImage, GetVideoInfo, UploadMediaByURL,
 * GetURLUploadInfos, and the base64 JSON UploadAddress / UploadAuth. No
 * I/O: unit tests and fuzzers call them directly.
 *
 * Interface: cloud_alibaba_parse_*, cloud_alibaba_decode_upload_auth,
 * cloud_alibaba_url_outcome, and the _cleanup functions.
 */
#define _GNU_SOURCE /* strcasestr */
#include "cloud/cloud_int.h"
#include "common/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ALI_AUTH_MAX	(64 * 1024) /* decoded UploadAuth/Address */
#define ALI_DEFAULT_TTL 3000	    /* documented credential lifetime */
#define ALI_LIST_MAX	100	    /* entries of a GetURLUploadInfos answer */

static char *
dup_member(const cJSON *obj, const char *name)
{
	const char *s = json_get_str(obj, name);

	return s != NULL ? xstrdup(s) : NULL;
}

/* ================================================================ errors */

static bool
ali_auth_code(const char *code)
{
	static const char *const prefixes[] = {
	    "SignatureDoesNotMatch", "IncompleteSignature",
	    "InvalidAccessKeyId",    "InvalidSecurityToken",
	    "InvalidTimeStamp",	     "MissingSecurityToken",
	};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(code, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

/*
 * 0 for a 2xx status; else the error in the body ({Code, Message,
 * RequestId}) mapped to ERR_AUTH or ERR_REMOTE with Code in e->remote, or,
 * for a body that is not such JSON, ERR_UNAVAIL (5xx) / ERR_REMOTE.
 */
static int
ali_error(const char *what, long status, const char *body, size_t len,
	  struct err *e)
{
	cJSON *d;
	const char *code, *msg, *rid;
	int rc;

	if (status >= 200 && status < 300)
		return 0;
	d = json_parse(body, len);
	code = json_get_str(d, "Code");
	if (code == NULL) {
		cJSON_Delete(d);
		return err_set(e, status >= 500 ? ERR_UNAVAIL : ERR_REMOTE,
			       "%s failed: unexpected HTTP status %ld", what,
			       status);
	}
	msg = json_get_str(d, "Message");
	rid = json_get_str(d, "RequestId");
	rc = ali_auth_code(code) ? ERR_AUTH : ERR_REMOTE;
	err_set_remote(e, rc, code,
		       "%s failed: %s: %s (HTTP %ld, RequestId %s)", what, code,
		       msg != NULL ? msg : "no message", status,
		       rid != NULL ? rid : "none");
	cJSON_Delete(d);
	return rc;
}

int
cloud_alibaba_parse_error(long status, const char *body, size_t len,
			  struct err *e)
{
	return ali_error("request", status, body, len, e);
}

/* Check the status, then parse a 2xx JSON body into *doc. */
static int
ali_doc(const char *what, long status, const char *body, size_t len,
	cJSON **doc, struct err *e)
{
	int rc;

	*doc = NULL;
	if ((rc = ali_error(what, status, body, len, e)) != 0)
		return rc;
	if ((*doc = json_parse(body, len)) == NULL || !cJSON_IsObject(*doc)) {
		cJSON_Delete(*doc);
		*doc = NULL;
		return err_set(e, ERR_REMOTE,
			       "%s failed: response is not a JSON object",
			       what);
	}
	return 0;
}

/* ================================================================ upload auth
 */

void
cloud_alibaba_upload_auth_cleanup(struct cloud_alibaba_upload_auth *a)
{
	if (a == NULL)
		return;
	free(a->endpoint);
	free(a->bucket);
	free(a->file_name);
	free(a->object_prefix);
	free(a->access_key_id);
	/* The secret and token are erased before they are freed
	 * (explicit_bzero: a memset of memory about to be freed may be
	 * optimised away). */
	if (a->access_key_secret != NULL)
		explicit_bzero(a->access_key_secret,
			       strlen(a->access_key_secret));
	free(a->access_key_secret);
	if (a->security_token != NULL)
		explicit_bzero(a->security_token, strlen(a->security_token));
	free(a->security_token);
	free(a->region);
	memset(a, 0, sizeof(*a));
}

static cJSON *
b64_json(const char *what, const char *s, struct err *e)
{
	struct buf b;
	cJSON *d;

	buf_init(&b, ALI_AUTH_MAX);
	if (cloud_base64_decode(s, strlen(s), &b, e) != 0) {
		buf_free(&b);
		err_set(e, ERR_REMOTE, "could not decode %s: not base64", what);
		return NULL;
	}
	d = json_parse(buf_cstr(&b), b.len);
	buf_free(&b);
	if (d == NULL || !cJSON_IsObject(d)) {
		cJSON_Delete(d);
		err_set(e, ERR_REMOTE, "could not decode %s: not a JSON object",
			what);
		return NULL;
	}
	return d;
}

int
cloud_alibaba_decode_upload_auth(const char *upload_address,
				 const char *upload_auth, int64_t issued_at,
				 struct cloud_alibaba_upload_auth *a,
				 struct err *e)
{
	cJSON *addr = NULL, *auth = NULL;
	const char *exp;
	int64_t secs = 0;
	int rc = 0;

	memset(a, 0, sizeof(*a));
	if (upload_address == NULL || upload_auth == NULL)
		return err_set(e, ERR_REMOTE,
			       "response lacks UploadAddress or UploadAuth");
	if ((addr = b64_json("UploadAddress", upload_address, e)) == NULL ||
	    (auth = b64_json("UploadAuth", upload_auth, e)) == NULL) {
		rc = ERR_REMOTE;
		goto out;
	}
	a->endpoint = dup_member(addr, "Endpoint");
	a->bucket = dup_member(addr, "Bucket");
	a->file_name = dup_member(addr, "FileName");
	a->object_prefix = dup_member(addr, "ObjectPrefix");
	a->access_key_id = dup_member(auth, "AccessKeyId");
	a->access_key_secret = dup_member(auth, "AccessKeySecret");
	a->security_token = dup_member(auth, "SecurityToken");
	a->region = dup_member(auth, "Region");
	if (a->endpoint == NULL || a->bucket == NULL || a->file_name == NULL) {
		rc =
		    err_set(e, ERR_REMOTE,
			    "UploadAddress lacks Endpoint, Bucket or FileName");
		goto out;
	}
	if (a->access_key_id == NULL || a->access_key_secret == NULL ||
	    a->security_token == NULL) {
		rc = err_set(e, ERR_REMOTE,
			     "UploadAuth lacks AccessKeyId, AccessKeySecret "
			     "or SecurityToken");
		goto out;
	}
	/* ExpireUTCTime is absolute; Expiration is a duration ("3600"). */
	exp = json_get_str(auth, "ExpireUTCTime");
	if (exp != NULL && time_parse_rfc3339(exp, &a->expire_at, NULL) == 0)
		goto out;
	if (json_get_i64(auth, "Expiration", &secs) && secs > 0 &&
	    secs < 10 * 86400) {
		a->expire_at = issued_at + secs;
		goto out;
	}
	exp = json_get_str(auth, "Expiration");
	if (exp != NULL && time_parse_rfc3339(exp, &a->expire_at, NULL) == 0)
		goto out;
	a->expire_at = issued_at + ALI_DEFAULT_TTL;
out:
	cJSON_Delete(addr);
	cJSON_Delete(auth);
	if (rc != 0)
		cloud_alibaba_upload_auth_cleanup(a);
	return rc;
}

/* ================================================================ parsers */

void
cloud_alibaba_upload_cleanup(struct cloud_alibaba_upload *r)
{
	if (r == NULL)
		return;
	free(r->video_id);
	free(r->image_url);
	free(r->request_id);
	cloud_alibaba_upload_auth_cleanup(&r->auth);
	memset(r, 0, sizeof(*r));
}

/* The response object, unwrapping {"XxxResponse": {...}} if needed. */
static const cJSON *
ali_unwrap(const cJSON *doc)
{
	const cJSON *only = doc->child;

	if (only != NULL && only->next == NULL && cJSON_IsObject(only) &&
	    only->string != NULL && strlen(only->string) > 8 &&
	    strcmp(only->string + strlen(only->string) - 8, "Response") == 0)
		return only;
	return doc;
}

int
cloud_alibaba_parse_upload(long status, const char *body, size_t len,
			   int64_t issued_at, struct cloud_alibaba_upload *r,
			   struct err *e)
{
	const char *what = "upload request";
	const cJSON *o;
	cJSON *doc = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = ali_doc(what, status, body, len, &doc, e)) != 0)
		return rc;
	o = ali_unwrap(doc);
	r->video_id = dup_member(o, "VideoId");
	if (r->video_id == NULL)
		r->video_id = dup_member(o, "ImageId");
	if (r->video_id == NULL) /* CreateUploadAttachedMedia */
		r->video_id = dup_member(o, "MediaId");
	r->image_url = dup_member(o, "ImageURL");
	if (r->image_url == NULL)
		r->image_url = dup_member(o, "MediaURL");
	r->request_id = dup_member(o, "RequestId");
	if (r->video_id == NULL) {
		rc = err_set(
		    e, ERR_REMOTE,
		    "%s failed: response lacks VideoId/ImageId/MediaId", what);
		goto out;
	}
	rc = cloud_alibaba_decode_upload_auth(json_get_str(o, "UploadAddress"),
					      json_get_str(o, "UploadAuth"),
					      issued_at, &r->auth, e);
out:
	cJSON_Delete(doc);
	if (rc != 0)
		cloud_alibaba_upload_cleanup(r);
	return rc;
}

void
cloud_alibaba_video_info_cleanup(struct cloud_alibaba_video_info *r)
{
	if (r == NULL)
		return;
	cJSON_Delete(r->doc);
	free(r->video_id);
	free(r->status);
	free(r->request_id);
	memset(r, 0, sizeof(*r));
}

int
cloud_alibaba_parse_video_info(long status, const char *body, size_t len,
			       struct cloud_alibaba_video_info *r,
			       struct err *e)
{
	cJSON *doc = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = ali_doc("GetVideoInfo", status, body, len, &doc, e)) != 0)
		return rc;
	r->doc = doc;
	r->request_id = dup_member(doc, "RequestId");
	r->video = json_get(doc, "Video");
	if (!cJSON_IsObject(r->video)) {
		cloud_alibaba_video_info_cleanup(r);
		return err_set(e, ERR_REMOTE,
			       "GetVideoInfo failed: response lacks Video");
	}
	r->video_id = dup_member(r->video, "VideoId");
	r->status = dup_member(r->video, "Status");
	return 0;
}

void
cloud_alibaba_url_jobs_cleanup(struct cloud_alibaba_url_jobs *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->source_urls[i]);
		free(r->job_ids[i]);
	}
	free(r->source_urls);
	free(r->job_ids);
	free(r->request_id);
	cJSON_Delete(r->doc);
	memset(r, 0, sizeof(*r));
}

int
cloud_alibaba_parse_url_jobs(long status, const char *body, size_t len,
			     struct cloud_alibaba_url_jobs *r, struct err *e)
{
	const cJSON *jobs, *j;
	cJSON *doc = NULL;
	int rc, n;

	memset(r, 0, sizeof(*r));
	if ((rc = ali_doc("UploadMediaByURL", status, body, len, &doc, e)) != 0)
		return rc;
	r->doc = doc;
	r->request_id = dup_member(doc, "RequestId");
	jobs = json_get(doc, "UploadJobs");
	if (!cJSON_IsArray(jobs) || (n = cJSON_GetArraySize(jobs)) > 20) {
		cloud_alibaba_url_jobs_cleanup(r);
		return err_set(e, ERR_REMOTE,
			       "UploadMediaByURL failed: bad UploadJobs");
	}
	r->source_urls = xcalloc((size_t)n + 1, sizeof(char *));
	r->job_ids = xcalloc((size_t)n + 1, sizeof(char *));
	cJSON_ArrayForEach(j, jobs)
	{
		char *id = dup_member(j, "JobId");

		if (id == NULL)
			continue;
		r->job_ids[r->n] = id;
		r->source_urls[r->n] = dup_member(j, "SourceURL");
		r->n++;
	}
	return 0;
}

void
cloud_alibaba_url_infos_cleanup(struct cloud_alibaba_url_infos *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_items; i++) {
		free(r->items[i].job_id);
		free(r->items[i].media_id);
		free(r->items[i].status);
		free(r->items[i].error_code);
		free(r->items[i].error_message);
	}
	free(r->items);
	free(r->request_id);
	cJSON_Delete(r->doc);
	memset(r, 0, sizeof(*r));
}

enum cloud_url_outcome
cloud_alibaba_url_outcome(const char *status, const char *error_code,
			  const char *media_id)
{
	const char *s = status != NULL ? status : "";

	if (strncasecmp(s, "FAIL", 4) == 0 || strcasestr(s, "_FAIL") != NULL)
		return CLOUD_URL_FAILED;
	if (media_id != NULL && media_id[0] != '\0' &&
	    (strcasecmp(s, "SUCCESS") == 0 || strcasecmp(s, "NORMAL") == 0 ||
	     strcasecmp(s, "UPLOAD_SUCCESS") == 0))
		return CLOUD_URL_SUCCESS;
	if (error_code != NULL && error_code[0] != '\0' &&
	    strcmp(error_code, "200") != 0 && strcmp(error_code, "0") != 0)
		return CLOUD_URL_FAILED;
	return CLOUD_URL_PENDING;
}

/* A string member that is not empty, as an owned copy; NULL otherwise. */
static char *
dup_nonempty(const cJSON *obj, const char *name)
{
	const char *s = json_get_str(obj, name);

	return s != NULL && s[0] != '\0' ? xstrdup(s) : NULL;
}

int
cloud_alibaba_parse_url_upload_infos(long status, const char *body, size_t len,
				     struct cloud_alibaba_url_infos *r,
				     struct err *e)
{
	const char *what = "GetURLUploadInfos";
	const cJSON *o, *list, *absent, *it;
	cJSON *doc = NULL;
	int rc, n1, n2;

	memset(r, 0, sizeof(*r));
	if ((rc = ali_doc(what, status, body, len, &doc, e)) != 0)
		return rc;
	r->doc = doc;
	o = ali_unwrap(doc);
	r->request_id = dup_member(o, "RequestId");
	list = json_get(o, "URLUploadInfoList");
	absent = json_get(o, "NonExists");
	if ((list != NULL && !cJSON_IsArray(list)) ||
	    (absent != NULL && !cJSON_IsArray(absent))) {
		cloud_alibaba_url_infos_cleanup(r);
		return err_set(e, ERR_REMOTE, "%s failed: malformed response",
			       what);
	}
	n1 = list != NULL ? cJSON_GetArraySize(list) : 0;
	n2 = absent != NULL ? cJSON_GetArraySize(absent) : 0;
	if (n1 + n2 > ALI_LIST_MAX) {
		cloud_alibaba_url_infos_cleanup(r);
		return err_set(e, ERR_LIMIT, "%s failed: too many entries",
			       what);
	}
	r->items = xcalloc((size_t)(n1 + n2) + 1, sizeof(*r->items));
	cJSON_ArrayForEach(it, list)
	{
		struct cloud_alibaba_url_info *u = &r->items[r->n_items];
		const char *id = json_get_str(it, "JobId");
		const char *mid = json_get_str(it, "MediaId");
		const char *t = json_get_str(it, "CompleteTime");

		/* Without its JobId an entry cannot be matched to a job. */
		if (id == NULL || id[0] == '\0' ||
		    strlen(id) > CLOUD_ALIBABA_ID_MAX ||
		    (mid != NULL && strlen(mid) > CLOUD_ALIBABA_ID_MAX))
			continue;
		u->job_id = xstrdup(id);
		u->media_id = dup_nonempty(it, "MediaId");
		u->status = dup_nonempty(it, "Status");
		u->error_code = dup_nonempty(it, "ErrorCode");
		u->error_message = dup_nonempty(it, "ErrorMessage");
		if (!json_get_i64(it, "FileSize", &u->file_size) ||
		    u->file_size < 0)
			u->file_size = -1;
		if (t == NULL ||
		    time_parse_rfc3339(t, &u->complete_time, NULL) != 0)
			u->complete_time = 0;
		u->outcome = cloud_alibaba_url_outcome(u->status, u->error_code,
						       u->media_id);
		u->info = it;
		r->n_items++;
	}
	cJSON_ArrayForEach(it, absent)
	{
		struct cloud_alibaba_url_info *u = &r->items[r->n_items];

		if (!cJSON_IsString(it) || it->valuestring[0] == '\0' ||
		    strlen(it->valuestring) > CLOUD_ALIBABA_ID_MAX)
			continue;
		u->job_id = xstrdup(it->valuestring);
		u->file_size = -1;
		u->outcome = CLOUD_URL_UNKNOWN;
		r->n_items++;
	}
	return 0;
}

/* Whether the string array member name of obj holds id. */
static bool
lists_id(const cJSON *obj, const char *name, const char *id)
{
	const cJSON *el, *arr = json_get(obj, name);

	if (!cJSON_IsArray(arr))
		return false;
	cJSON_ArrayForEach(el, arr)
	{
		if (cJSON_IsString(el) && strcmp(el->valuestring, id) == 0)
			return true;
	}
	return false;
}

int
cloud_alibaba_parse_delete_video(long status, const char *body, size_t len,
				 const char *video_id, struct err *e)
{
	cJSON *doc;
	int rc;

	if ((rc = ali_doc("DeleteVideo", status, body, len, &doc, e)) != 0)
		return rc;
	if (lists_id(doc, "NonExistVideoIds", video_id))
		rc =
		    err_set_remote(e, ERR_REMOTE, "InvalidVideo.NotFound",
				   "DeleteVideo failed: InvalidVideo.NotFound: "
				   "the platform has no video "
				   "%s (NonExistVideoIds)",
				   video_id);
	else if (lists_id(doc, "ForbiddenVideoIds", video_id))
		rc = err_set_remote(e, ERR_REMOTE, "Forbidden",
				    "DeleteVideo failed: Forbidden: deleting "
				    "video %s is not "
				    "allowed (ForbiddenVideoIds)",
				    video_id);
	cJSON_Delete(doc);
	return rc;
}

/* ================================================================ images and
 * attached media */

void
cloud_alibaba_media_info_cleanup(struct cloud_alibaba_media_info *r)
{
	if (r == NULL)
		return;
	free(r->status);
	free(r->request_id);
	cJSON_Delete(r->doc);
	memset(r, 0, sizeof(*r));
}

/*
 * Whether the id list member name of obj holds id. The API reference shows
 * a plain array of strings; the XML-shaped JSON of other VOD answers
 * ({"MediaId": [...]}) is accepted too (UNCONFIRMED for these calls).
 */
static bool
lists_media_id(const cJSON *obj, const char *name, const char *id)
{
	const cJSON *arr = json_get(obj, name);

	if (cJSON_IsObject(arr))
		return lists_id(arr, "MediaId", id);
	return lists_id(obj, name, id);
}

/*
 * DeleteAttachedMedia (MediaIds, comma-separated, at most 20): the answer
 * lists the ids it did not delete in NonExistMediaIds. Sources:
 * help.aliyun.com/zh/vod/developer-reference/
 * api-vod-2017-03-21-deleteattachedmedia; alibabacloud SDK models
 * DeleteAttachedMediaRequest (MediaIds) and DeleteAttachedMediaResponseBody
 * (NonExistMediaIds, RequestId). The reference names no error code for an
 * unknown id: "InvalidMedia.NotFound" is vodhook's.
 */
int
cloud_alibaba_parse_delete_attached(long status, const char *body, size_t len,
				    const char *media_id, struct err *e)
{
	const char *what = "DeleteAttachedMedia";
	cJSON *doc;
	int rc;

	if ((rc = ali_doc(what, status, body, len, &doc, e)) != 0)
		return rc;
	if (lists_media_id(ali_unwrap(doc), "NonExistMediaIds", media_id))
		rc = err_set_remote(e, ERR_REMOTE, "InvalidMedia.NotFound",
				    "%s failed: InvalidMedia.NotFound: the "
				    "platform has no attached media %s "
				    "(NonExistMediaIds)",
				    what, media_id);
	cJSON_Delete(doc);
	return rc;
}

/*
 * The codes that say the media asked about does not exist. GetImageInfo's
 * reference lists no code for an unknown ImageId (UNCONFIRMED): any
 * "*.NotFound" or "*NotExist*" code is taken as one (InvalidImage.NotFound,
 * InvalidVideo.NotFound, ...).
 */
bool
cloud_alibaba_not_found_code(const char *code)
{
	size_t n = code != NULL ? strlen(code) : 0;

	return n > 0 && ((n >= 8 && strcmp(code + n - 8, "NotFound") == 0) ||
			 strstr(code, "NotExist") != NULL);
}

/*
 * GetImageInfo (ImageId): ImageInfo {ImageId, Status, URL, ...}, Status
 * Uploading, Normal or UploadFail. Sources: help.aliyun.com/document_detail/
 * 89742.html (GetImageInfo); alibabacloud SDK model GetImageInfoResponseBody.
 */
int
cloud_alibaba_parse_image_info(long status, const char *body, size_t len,
			       struct cloud_alibaba_media_info *r,
			       struct err *e)
{
	const char *what = "GetImageInfo";
	const cJSON *o;
	cJSON *doc = NULL;
	struct err pe;
	int rc;

	memset(r, 0, sizeof(*r));
	err_clear(&pe);
	if ((rc = ali_doc(what, status, body, len, &doc, &pe)) != 0) {
		if (rc == ERR_REMOTE && cloud_alibaba_not_found_code(pe.remote))
			return 0; /* r->exists false */
		*e = pe;
		return rc;
	}
	r->doc = doc;
	o = ali_unwrap(doc);
	r->request_id = dup_member(o, "RequestId");
	r->info = json_get(o, "ImageInfo");
	if (!cJSON_IsObject(r->info)) {
		cloud_alibaba_media_info_cleanup(r);
		return err_set(e, ERR_REMOTE,
			       "%s failed: response lacks ImageInfo", what);
	}
	r->status = dup_nonempty(r->info, "Status");
	r->exists = true;
	return 0;
}

/*
 * GetAttachedMediaInfo (MediaIds, at most 20): AttachedMediaList[]
 * {MediaId, Status, URL, Type, ...}, Status Uploading, Normal or
 * UploadFail, and NonExistMediaIds. Sources: help.aliyun.com/
 * document_detail/454905.html (GetAttachedMediaInfo); alibabacloud SDK
 * model GetAttachedMediaInfoResponseBody. The list as an array, or
 * {"AttachedMedia": [...]} (XML-shaped, UNCONFIRMED), is accepted.
 */
int
cloud_alibaba_parse_attached_media_info(long status, const char *body,
					size_t len, const char *media_id,
					struct cloud_alibaba_media_info *r,
					struct err *e)
{
	const char *what = "GetAttachedMediaInfo";
	const cJSON *o, *list, *it;
	cJSON *doc = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = ali_doc(what, status, body, len, &doc, e)) != 0)
		return rc;
	r->doc = doc;
	o = ali_unwrap(doc);
	r->request_id = dup_member(o, "RequestId");
	list = json_get(o, "AttachedMediaList");
	if (cJSON_IsObject(list))
		list = json_get(list, "AttachedMedia");
	if (list != NULL && !cJSON_IsArray(list)) {
		cloud_alibaba_media_info_cleanup(r);
		return err_set(e, ERR_REMOTE, "%s failed: malformed response",
			       what);
	}
	if (lists_media_id(o, "NonExistMediaIds", media_id))
		return 0;
	cJSON_ArrayForEach(it, list)
	{
		const char *id = json_get_str(it, "MediaId");

		if (id == NULL || strcmp(id, media_id) != 0)
			continue;
		r->info = it;
		r->status = dup_nonempty(it, "Status");
		r->exists = true;
		break;
	}
	return 0;
}

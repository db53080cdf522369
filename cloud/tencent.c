/*
 * tencent.c: the Tencent Cloud VOD API 3.0 client (version 2018-07-17):
 * JSON POST signed with TC3-HMAC-SHA256; tencent_parse.c reads the answers.
 *
 * Interface: cloud_tencent_apply_upload, cloud_tencent_commit_upload,
 * cloud_tencent_pull_upload,
 * cloud_tencent_pull_events, cloud_tencent_confirm_events,
 * cloud_tencent_describe_media_infos, cloud_tencent_describe_task_detail.
 *
 * SubAppId is written as a raw JSON number from its decimal text so that it
 * never passes through a double.
 */
#include "cloud/cloud_int.h"
#include "common/json.h"

#include <stdlib.h>
#include <string.h>

#define TC_VERSION	"2018-07-17"
#define TC_SERVICE	"vod"
#define TC_CTYPE	"application/json"
#define TC_DEFAULT_URL	"https://vod.tencentcloudapi.com"
#define TC_PULL_TIMEOUT 10000L

/* ================================================================ calls */

/* The authority ("host[:port]") of url into out. */
static int
url_host(const char *url, char *out, size_t size)
{
	const char *p = strstr(url, "://"), *end;

	p = p != NULL ? p + 3 : url;
	end = p + strcspn(p, "/?#");
	if (end == p || (size_t)(end - p) >= size)
		return ERR_INPUT;
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = '\0';
	return 0;
}

/* Error codes worth retrying for an idempotent call. */
static bool
tc_retryable_body(const struct cloud_response *r)
{
	cJSON *d = json_parse(buf_cstr(&r->body), r->body.len);
	const char *code =
	    json_get_str(json_get(json_get(d, "Response"), "Error"), "Code");
	bool yes = code != NULL && (strcmp(code, "InternalError") == 0 ||
				    strcmp(code, "RequestLimitExceeded") == 0 ||
				    strcmp(code, "ResourceUnavailable") == 0);

	cJSON_Delete(d);
	return yes;
}

/*
 * Sign and send one action with retries. body is the JSON payload. When
 * idempotent is false, only failures before the request left are retried.
 */
static int
tc_call(const struct cloud_opts *o, const char *action, const char *body,
	long timeout_ms, bool idempotent, struct cloud_response *resp,
	struct err *e)
{
	const char *url = o->tencent_api_url != NULL && o->tencent_api_url[0]
			      ? o->tencent_api_url
			      : TC_DEFAULT_URL;
	int attempts = cloud_http_max_attempts(o);
	char host[256];
	int rc = 0;

	if (o->tencent_secret_id == NULL || o->tencent_secret_key == NULL)
		return err_set(e, ERR_INPUT,
			       "%s failed: Tencent credentials not configured",
			       action);
	if (url_host(url, host, sizeof(host)) != 0)
		return err_set(e, ERR_INPUT, "invalid Tencent API URL \"%s\"",
			       url);
	for (int attempt = 1; attempt <= attempts; attempt++) {
		struct cloud_tc3_input in = {
		    .secret_id = o->tencent_secret_id,
		    .secret_key = o->tencent_secret_key,
		    .service = TC_SERVICE,
		    .host = host,
		    .method = "POST",
		    .content_type = TC_CTYPE,
		    .payload = body,
		    .payload_len = strlen(body),
		    .timestamp = time_unix(),
		};
		struct cloud_request req = {
		    .method = "POST",
		    .url = url,
		    .body = body,
		    .body_len = strlen(body),
		    .timeout_ms = timeout_ms,
		};
		struct curl_slist *hdrs = NULL;
		struct buf h;
		bool retry;

		buf_init(&h, 8192);
		if ((rc = buf_puts(&h, "Authorization: ")) != 0 ||
		    (rc = cloud_tc3_authorization(&in, &h)) != 0) {
			buf_free(&h);
			return err_set(e, rc, "could not sign %s", action);
		}
		hdrs = curl_slist_append(hdrs, buf_cstr(&h));
		buf_reset(&h);
		if (buf_printf(&h, "X-TC-Timestamp: %lld",
			       (long long)in.timestamp) != 0)
			fatal("out of memory");
		hdrs = curl_slist_append(hdrs, buf_cstr(&h));
		buf_reset(&h);
		if (buf_printf(&h, "X-TC-Action: %s", action) != 0)
			fatal("out of memory");
		hdrs = curl_slist_append(hdrs, buf_cstr(&h));
		hdrs = curl_slist_append(hdrs, "X-TC-Version: " TC_VERSION);
		hdrs = curl_slist_append(hdrs, "Content-Type: " TC_CTYPE);
		hdrs = curl_slist_append(hdrs, "Expect:");
		if (o->tencent_region != NULL && o->tencent_region[0]) {
			buf_reset(&h);
			if (buf_printf(&h, "X-TC-Region: %s",
				       o->tencent_region) != 0)
				fatal("out of memory");
			hdrs = curl_slist_append(hdrs, buf_cstr(&h));
		}
		buf_free(&h);
		if (hdrs == NULL)
			fatal("out of memory");
		req.headers = hdrs;
		rc = cloud_http_perform(o, &req, resp, e);
		curl_slist_free_all(hdrs);
		if (rc == ERR_NET)
			retry = !resp->sent || idempotent;
		else if (rc != 0)
			retry = false;
		else if (resp->status >= 500 || resp->status == 429)
			retry = idempotent;
		else
			retry = idempotent && tc_retryable_body(resp);
		if (!retry || attempt == attempts)
			break;
		log_msg(LOG_WARN, "cloud",
			"tencent %s attempt %d failed, retrying", action,
			attempt);
		cloud__sleep_ms(cloud_http_backoff_ms(o, attempt));
	}
	if (rc != 0 && e != NULL) {
		char m[sizeof(e->msg)];

		snprintf(m, sizeof(m), "%s", e->msg);
		err_set(e, rc, "%s: %s", action, m);
	}
	return rc;
}

/* A new request object with SubAppId when configured. */
static cJSON *
tc_body_new(const struct cloud_opts *o)
{
	cJSON *b = cJSON_CreateObject();
	const char *sub = o->tencent_subapp_id;

	if (b == NULL)
		fatal("out of memory");
	if (sub != NULL && sub[0] != '\0' && strcmp(sub, "0") != 0 &&
	    strlen(sub) <= 20 && strspn(sub, "0123456789") == strlen(sub))
		cJSON_AddRawToObject(b, "SubAppId", sub);
	return b;
}

static char *
tc_body_print(cJSON *b)
{
	char *s = cJSON_PrintUnformatted(b);

	cJSON_Delete(b);
	if (s == NULL)
		fatal("out of memory");
	return s;
}

static void
add_opt(cJSON *b, const char *name, const char *v)
{
	if (v != NULL && v[0] != '\0')
		cJSON_AddStringToObject(b, name, v);
}

int
cloud_tencent_apply_upload(const struct cloud_opts *o,
			   const struct cloud_tencent_apply_params *p,
			   struct cloud_tencent_apply *r, struct err *e)
{
	struct cloud_response resp;
	cJSON *b;
	char *body = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	if (p->media_type == NULL || p->media_type[0] == '\0')
		return err_set(e, ERR_INPUT, "ApplyUpload needs a media type");
	if (p->source_context != NULL && strlen(p->source_context) > 250)
		return err_set(e, ERR_INPUT,
			       "SourceContext longer than 250 characters");
	if (p->session_context != NULL && strlen(p->session_context) > 1000)
		return err_set(e, ERR_INPUT,
			       "SessionContext longer than 1000 characters");
	b = tc_body_new(o);
	add_opt(b, "MediaType", p->media_type);
	add_opt(b, "MediaName", p->media_name);
	add_opt(b, "CoverType", p->cover_type);
	add_opt(b, "Procedure", p->procedure);
	add_opt(b, "SourceContext", p->source_context);
	add_opt(b, "SessionContext", p->session_context);
	add_opt(b, "StorageRegion", p->storage_region);
	add_opt(b, "ExpireTime", p->expire_time);
	if (p->class_id != NULL && p->class_id[0] != '\0' &&
	    strlen(p->class_id) <= 18 &&
	    strspn(p->class_id, "0123456789") == strlen(p->class_id))
		cJSON_AddRawToObject(b, "ClassId", p->class_id);
	body = tc_body_print(b);
	cloud_response_init(&resp);
	/* An unused upload session is harmless: retry like an idempotent
	 * call. */
	if ((rc = tc_call(o, "ApplyUpload", body, 0, true, &resp, e)) == 0)
		rc = cloud_tencent_parse_apply(
		    resp.status, buf_cstr(&resp.body), resp.body.len, r, e);
	cloud_response_cleanup(&resp);
	cJSON_free(body);
	return rc;
}

int
cloud_tencent_commit_upload(const struct cloud_opts *o,
			    const char *vod_session_key,
			    struct cloud_tencent_commit *r, struct err *e)
{
	struct cloud_response resp;
	cJSON *b;
	char *body = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	if (vod_session_key == NULL || vod_session_key[0] == '\0')
		return err_set(e, ERR_INPUT,
			       "CommitUpload needs a session key");
	b = tc_body_new(o);
	cJSON_AddStringToObject(b, "VodSessionKey", vod_session_key);
	body = tc_body_print(b);
	cloud_response_init(&resp);
	if ((rc = tc_call(o, "CommitUpload", body, 0, false, &resp, e)) == 0)
		rc = cloud_tencent_parse_commit(
		    resp.status, buf_cstr(&resp.body), resp.body.len, r, e);
	cloud_response_cleanup(&resp);
	cJSON_free(body);
	return rc;
}

/* A decimal integer of at most max_len characters, a '-' allowed first. */
static bool
decimal_ok(const char *s, size_t max_len, bool sign)
{
	const char *d = s != NULL && sign && s[0] == '-' ? s + 1 : s;

	return d != NULL && d[0] != '\0' && strlen(s) <= max_len &&
	       strspn(d, "0123456789") == strlen(d);
}

static int
pull_check(const struct cloud_tencent_pull_params *p, struct err *e)
{
	if (p->media_url == NULL || p->media_url[0] == '\0')
		return err_set(e, ERR_INPUT, "PullUpload needs a MediaUrl");
	if (p->source_context != NULL && strlen(p->source_context) > 250)
		return err_set(e, ERR_INPUT,
			       "SourceContext longer than 250 characters");
	if (p->session_context != NULL && strlen(p->session_context) > 1000)
		return err_set(e, ERR_INPUT,
			       "SessionContext longer than 1000 characters");
	if (p->class_id != NULL && !decimal_ok(p->class_id, 18, false))
		return err_set(e, ERR_INPUT, "ClassId is not a number");
	if (p->tasks_priority != NULL &&
	    !decimal_ok(p->tasks_priority, 3, true))
		return err_set(e, ERR_INPUT, "TasksPriority is not a number");
	return 0;
}

int
cloud_tencent_pull_upload(const struct cloud_opts *o,
			  const struct cloud_tencent_pull_params *p,
			  struct cloud_tencent_pull *r, struct err *e)
{
	struct cloud_response resp;
	cJSON *b;
	char *body = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = pull_check(p, e)) != 0)
		return rc;
	b = tc_body_new(o);
	add_opt(b, "MediaUrl", p->media_url);
	add_opt(b, "MediaType", p->media_type);
	add_opt(b, "MediaName", p->media_name);
	add_opt(b, "CoverUrl", p->cover_url);
	add_opt(b, "Procedure", p->procedure);
	add_opt(b, "ExpireTime", p->expire_time);
	add_opt(b, "StorageRegion", p->storage_region);
	/* ClassId and TasksPriority are Integers: numbers from their
	 * digits. */
	if (p->class_id != NULL)
		cJSON_AddRawToObject(b, "ClassId", p->class_id);
	if (p->tasks_priority != NULL)
		cJSON_AddRawToObject(b, "TasksPriority", p->tasks_priority);
	add_opt(b, "SessionContext", p->session_context);
	add_opt(b, "SourceContext", p->source_context);
	body = tc_body_print(b);
	cloud_response_init(&resp);
	if ((rc = tc_call(o, "PullUpload", body, 0, false, &resp, e)) == 0)
		rc = cloud_tencent_parse_pull(resp.status, buf_cstr(&resp.body),
					      resp.body.len, r, e);
	cloud_response_cleanup(&resp);
	cJSON_free(body);
	return rc;
}

int
cloud_tencent_pull_events(const struct cloud_opts *o,
			  struct cloud_tencent_events *r, struct err *e)
{
	struct cloud_response resp;
	char *body = tc_body_print(tc_body_new(o));
	int rc;

	memset(r, 0, sizeof(*r));
	cloud_response_init(&resp);
	if ((rc = tc_call(o, "PullEvents", body, TC_PULL_TIMEOUT, true, &resp,
			  e)) == 0)
		rc = cloud_tencent_parse_events(
		    resp.status, buf_cstr(&resp.body), resp.body.len, r, e);
	cloud_response_cleanup(&resp);
	cJSON_free(body);
	return rc;
}

int
cloud_tencent_confirm_events(const struct cloud_opts *o,
			     const char *const *handles, size_t n,
			     struct err *e)
{
	struct cloud_response resp;
	cJSON *b, *arr;
	char *body = NULL;
	int rc;

	if (n == 0)
		return 0;
	if (n > 16)
		return err_set(e, ERR_INPUT,
			       "ConfirmEvents takes at most 16 handles");
	b = tc_body_new(o);
	if ((arr = cJSON_AddArrayToObject(b, "EventHandles")) == NULL)
		fatal("out of memory");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(handles[i]));
	body = tc_body_print(b);
	cloud_response_init(&resp);
	if ((rc = tc_call(o, "ConfirmEvents", body, 0, true, &resp, e)) == 0)
		rc = cloud_tencent_parse_empty(
		    resp.status, buf_cstr(&resp.body), resp.body.len, e);
	cloud_response_cleanup(&resp);
	cJSON_free(body);
	return rc;
}

int
cloud_tencent_describe_media_infos(const struct cloud_opts *o,
				   const char *const *file_ids, size_t n,
				   struct cloud_tencent_media_infos *r,
				   struct err *e)
{
	struct cloud_response resp;
	cJSON *b, *arr;
	char *body = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	if (n == 0 || n > 20)
		return err_set(e, ERR_INPUT,
			       "DescribeMediaInfos takes 1 to 20 file ids");
	b = tc_body_new(o);
	if ((arr = cJSON_AddArrayToObject(b, "FileIds")) == NULL)
		fatal("out of memory");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(file_ids[i]));
	body = tc_body_print(b);
	cloud_response_init(&resp);
	if ((rc = tc_call(o, "DescribeMediaInfos", body, 0, true, &resp, e)) ==
	    0)
		rc = cloud_tencent_parse_media_infos(
		    resp.status, buf_cstr(&resp.body), resp.body.len, r, e);
	cloud_response_cleanup(&resp);
	cJSON_free(body);
	return rc;
}

int
cloud_tencent_describe_task_detail(const struct cloud_opts *o,
				   const char *task_id,
				   struct cloud_tencent_task *r, struct err *e)
{
	struct cloud_response resp;
	char *body = NULL;
	cJSON *b;
	int rc;

	memset(r, 0, sizeof(*r));
	if (task_id == NULL || task_id[0] == '\0' ||
	    strlen(task_id) > CLOUD_TENCENT_ID_MAX)
		return err_set(e, ERR_INPUT,
			       "DescribeTaskDetail takes a task id of 1 to %d "
			       "bytes",
			       CLOUD_TENCENT_ID_MAX);
	b = tc_body_new(o);
	add_opt(b, "TaskId", task_id);
	body = tc_body_print(b);
	cloud_response_init(&resp);
	if ((rc = tc_call(o, "DescribeTaskDetail", body, 0, true, &resp, e)) ==
	    0)
		rc = cloud_tencent_parse_task_detail(
		    resp.status, buf_cstr(&resp.body), resp.body.len, r, e);
	cloud_response_cleanup(&resp);
	cJSON_free(body);
	return rc;
}

/*
 * DeleteMedia: FileId, and SubAppId as every call; no DeleteParts (the
 * media and everything made from it). The response is the envelope only;
 * a FileDeleted event follows. Source:
 * cloud.tencent.com/document/api/266/31764.
 */
int
cloud_tencent_delete_media(const struct cloud_opts *o, const char *file_id,
			   struct err *e)
{
	struct cloud_response resp;
	char *body = NULL;
	cJSON *b;
	int rc;

	if (file_id == NULL || file_id[0] == '\0' ||
	    strlen(file_id) > CLOUD_TENCENT_ID_MAX)
		return err_set(e, ERR_INPUT,
			       "DeleteMedia takes a file id of 1 to %d bytes",
			       CLOUD_TENCENT_ID_MAX);
	b = tc_body_new(o);
	add_opt(b, "FileId", file_id);
	body = tc_body_print(b);
	cloud_response_init(&resp);
	/* Deleting twice deletes once: a retry is safe. */
	if ((rc = tc_call(o, "DeleteMedia", body, 0, true, &resp, e)) == 0)
		rc = cloud_tencent_parse_delete(
		    resp.status, buf_cstr(&resp.body), resp.body.len, e);
	cloud_response_cleanup(&resp);
	cJSON_free(body);
	return rc;
}

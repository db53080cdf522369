/*
 * upload_http.c: the upload job API.
 *
 *   POST   /v1/uploads              queue a job; 202 with its record
 *   GET    /v1/uploads[?state=&limit=&cursor=]
 *   GET    /v1/uploads/{id}         state, bytes done and total, error
 *   DELETE /v1/uploads/{id}         cancel (aborts the multipart upload)
 *
 * The request body of POST is a JSON object: provider, path or url, name,
 * procedure, source_context, media_type; the platform-specific fields
 * (Tencent: class_id, storage_region, expire_time, session_context,
 * cover_path, sub_app_id, and for a pull cover_url, tasks_priority;
 * Alibaba: description, cover_url, cate_id, tags, workflow_id,
 * storage_location, image_type, media_kind, business_type, cate_ids,
 * app_id) are kept in the job's options
 * once upload_submit has checked them (400 with the reason, naming the
 * field). A missing or unreadable file is refused now (400), a path
 * outside the upload root too (403). url_upload ("stream" or "platform",
 * default: the <provider>_url_upload setting) chooses how a URL is
 * uploaded: through vodhook, or fetched by the platform itself (Alibaba
 * UploadMediaByURL, Tencent PullUpload; 400 for a path source).
 */
#include "server/handlers.h"

#include "common/json.h"
#include "server/config.h"
#include "upload/upload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Kept in the job's options; upload_submit checks them (upload/options.c). */
static const char *const option_fields[] = {
    /* Tencent only */
    "class_id", "storage_region", "expire_time", "session_context",
    "cover_path", "sub_app_id", "tasks_priority",
    /* Alibaba (and a Tencent pull: cover_url) */
    "description", "cover_url", "cate_id", "tags", "workflow_id",
    "storage_location", "image_type", "media_kind", "business_type", "cate_ids",
    "app_id", NULL};

static const char *const known_fields[] = {
    "provider",	      "path",	    "url",	  "name", "procedure",
    "source_context", "media_type", "url_upload", NULL};

static bool
in_list(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* A string field that, when present, must be a string. */
static int
str_field(const cJSON *doc, const char *name, const char **out, struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return err_set(e, ERR_INPUT, "%s must be a string", name);
	*out = v->valuestring;
	return 0;
}

/*
 * Copy option v into opts under name. A number is copied as its exact
 * text (cJSON prints doubles with 15 significant digits, which would
 * change a 16-digit integer); one at or above 2^53 already lost digits
 * when parsed and is refused.
 */
static int
option_copy(cJSON *opts, const char *name, const cJSON *v, struct err *e)
{
	char txt[40];
	double d;

	if (!cJSON_IsNumber(v)) {
		cJSON_AddItemToObject(opts, name, cJSON_Duplicate(v, true));
		return 0;
	}
	d = v->valuedouble;
	if (!isfinite(d) || fabs(d) >= JSON_EXACT_LIMIT)
		return err_set(e, ERR_INPUT,
			       "%s is not below 2^53: give it as a string of "
			       "digits",
			       name);
	snprintf(txt, sizeof(txt), d == floor(d) ? "%.0f" : "%.17g", d);
	cJSON_AddItemToObject(opts, name, cJSON_CreateRaw(txt));
	return 0;
}

static int
reply_json_text(struct http_req *r, int status, char *json)
{
	int sent = http_reply_text(r, status, json);

	free(json);
	return sent;
}

int
handle_upload_create(struct http_req *r, void *arg)
{
	struct app *app = arg;
	struct upload_request req = {.confine = true};
	struct buf body;
	cJSON *doc = NULL, *opts = NULL;
	char *json = NULL, *opts_txt = NULL, id[37];
	const cJSON *it;
	struct err e;
	int rc, status;

	err_clear(&e);
	buf_init(&body, 0);
	rc = http_read_body(r, (size_t)cfg.http_max_body_bytes, &body);
	if (rc != 0) {
		status = rc == ERR_LIMIT
			     ? http_reply_error(r, 413, "too_large",
						"body is too large")
			     : http_reply_error(r, 400, "bad_request",
						"could not read the body");
		goto out;
	}
	doc = json_parse(buf_cstr(&body), body.len);
	if (doc == NULL || !cJSON_IsObject(doc)) {
		status = http_reply_error(r, 400, "invalid_input",
					  "body must be a JSON object");
		goto out;
	}
	cJSON_ArrayForEach(it, doc)
	{
		if (!in_list(it->string, known_fields) &&
		    !in_list(it->string, option_fields)) {
			status = http_reply_error(r, 400, "invalid_input",
						  "unknown field \"%s\"",
						  it->string);
			goto out;
		}
	}
	if ((rc = str_field(doc, "provider", &req.provider, &e)) != 0 ||
	    (rc = str_field(doc, "path", &req.path, &e)) != 0 ||
	    (rc = str_field(doc, "url", &req.url, &e)) != 0 ||
	    (rc = str_field(doc, "name", &req.name, &e)) != 0 ||
	    (rc = str_field(doc, "procedure", &req.procedure, &e)) != 0 ||
	    (rc = str_field(doc, "source_context", &req.source_context, &e)) !=
		0 ||
	    (rc = str_field(doc, "media_type", &req.media_type, &e)) != 0 ||
	    (rc = str_field(doc, "url_upload", &req.url_upload, &e)) != 0) {
		status = http_reply_err(r, rc, &e);
		goto out;
	}
	opts = cJSON_CreateObject();
	for (size_t i = 0; option_fields[i] != NULL; i++) {
		cJSON *v =
		    cJSON_GetObjectItemCaseSensitive(doc, option_fields[i]);

		if (v == NULL || cJSON_IsNull(v))
			continue;
		if ((rc = option_copy(opts, option_fields[i], v, &e)) != 0) {
			status = http_reply_err(r, rc, &e);
			goto out;
		}
	}
	if ((opts_txt = cJSON_PrintUnformatted(opts)) == NULL)
		fatal("out of memory");
	req.options = opts_txt;
	rc = upload_submit(app->uploads, &req, &json, id, &e);
	if (rc != 0) {
		http_note(r, "refused: %s", e.msg);
		status = http_reply_err(r, rc, &e);
		goto out;
	}
	http_note(r, "upload %s queued", id);
	status = reply_json_text(r, 202, json);
out:
	cJSON_Delete(doc);
	cJSON_Delete(opts);
	free(opts_txt);
	buf_free(&body);
	return status;
}

int
handle_upload_get(struct http_req *r, void *arg)
{
	struct app *app = arg;
	char *json = NULL;
	struct err e;
	int rc;

	err_clear(&e);
	rc = store_upload_get_json(app->pool, r->params[0], &json, &e);
	if (rc != 0)
		return http_reply_err(r, rc, &e);
	return reply_json_text(r, 200, json);
}

int
handle_upload_list(struct http_req *r, void *arg)
{
	static const char *const states[] = {
	    "queued",	  "uploading", "committing", "uploaded", "confirmed",
	    "processing", "ready",     "failed",     "canceled", NULL};
	struct app *app = arg;
	char state[16], limit[16], cursor[40];
	const char *st = NULL, *after = NULL;
	char *json = NULL;
	int64_t lim = 50;
	struct err e;
	int rc;

	err_clear(&e);
	if (http_query(r, "state", state, sizeof(state))) {
		if (!in_list(state, states))
			return http_reply_error(
			    r, 400, "invalid_input",
			    "state must be one of queued, uploading, "
			    "committing, uploaded, confirmed, processing, "
			    "ready, failed, canceled");
		st = state;
	}
	if (http_query(r, "limit", limit, sizeof(limit)) &&
	    parse_i64(limit, 1, 500, &lim) != 0)
		return http_reply_error(r, 400, "invalid_input",
					"limit must be 1 to 500");
	if (http_query(r, "cursor", cursor, sizeof(cursor)))
		after = cursor;
	rc = store_upload_list_json(app->pool, st, after, (int)lim, &json, &e);
	if (rc != 0) {
		if (rc == ERR_INPUT)
			err_set(&e, ERR_INPUT,
				"cursor is not one this API gave");
		return http_reply_err(r, rc, &e);
	}
	return reply_json_text(r, 200, json);
}

int
handle_upload_cancel(struct http_req *r, void *arg)
{
	struct app *app = arg;
	char *json = NULL;
	struct err e;
	int rc;

	err_clear(&e);
	rc = store_upload_cancel(app->pool, r->params[0], &json, &e);
	if (rc != 0)
		return http_reply_err(r, rc, &e);
	http_note(r, "cancel requested");
	return reply_json_text(r, 202, json);
}

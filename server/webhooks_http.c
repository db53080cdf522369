/*
 * webhooks_http.c: the webhook subscription API.
 *
 *   POST   /v1/webhooks                      create; 201 with the secret
 *   GET    /v1/webhooks                      list
 *   GET    /v1/webhooks/{id}                 read (messages counted)
 *   PATCH  /v1/webhooks/{id}                 url, description, filter,
 *                                            enabled
 *   DELETE /v1/webhooks/{id}                 delete, with its messages
 *   POST   /v1/webhooks/{id}/rotate          new secret; 200 with it
 *   GET    /v1/webhooks/{id}/messages        [?state=&limit=&cursor=]
 *   GET    /v1/webhooks/{id}/messages/{msg}  one, with body and attempts
 *   POST   /v1/webhooks/{id}/messages/{msg}/resend
 *   POST   /v1/webhooks/{id}/resend          {"since": RFC 3339}: every
 *                                            failed message since then
 *
 * A body is a JSON object: url, description, filter {providers, states,
 * kinds} (each a list of strings, or null for all), enabled; rotate takes
 * grace_seconds. The secret appears in the answers of create and rotate
 * only, and is never logged.
 */
#include "server/handlers.h"

#include "common/json.h"
#include "server/config.h"
#include "webhooks/webhooks.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DESCRIPTION_MAX	 1024
#define FILTER_ITEMS_MAX 16

struct body {
	struct buf raw;
	cJSON *doc;
};

static void
body_free(struct body *b)
{
	cJSON_Delete(b->doc);
	buf_free(&b->raw);
}

/* Read the body as a JSON object with only the fields in known; 0, or the
 * status of the error sent. */
static int
read_object(struct http_req *r, struct body *b, const char *const *known,
	    bool optional)
{
	const cJSON *it;
	int rc;

	buf_init(&b->raw, 0);
	b->doc = NULL;
	rc = http_read_body(r, (size_t)cfg.http_max_body_bytes, &b->raw);
	if (rc != 0)
		return rc == ERR_LIMIT ? http_reply_error(r, 413, "too_large",
							  "body is too large")
				       : http_reply_error(r, 400, "bad_request",
							  "could not read the "
							  "body");
	if (optional && b->raw.len == 0) {
		b->doc = cJSON_CreateObject();
		return 0;
	}
	b->doc = json_parse(buf_cstr(&b->raw), b->raw.len);
	if (b->doc == NULL || !cJSON_IsObject(b->doc))
		return http_reply_error(r, 400, "invalid_input",
					"body must be a JSON object");
	cJSON_ArrayForEach(it, b->doc)
	{
		bool ok = false;

		for (const char *const *k = known; *k != NULL; k++)
			ok = ok || strcmp(*k, it->string) == 0;
		if (!ok)
			return http_reply_error(r, 400, "invalid_input",
						"unknown field \"%s\"",
						it->string);
	}
	return 0;
}

bool
webhook_id_ok(const char *s)
{
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return s[36] == '\0';
}

/* "msg_<n>" (or "<n>") into *id. */
static bool
msg_id(const char *s, int64_t *id)
{
	if (strncmp(s, "msg_", 4) == 0)
		s += 4;
	return parse_i64(s, 1, INT64_MAX, id) == 0;
}

/* Whether a filter value is allowed in list name. */
static bool
filter_value_ok(const char *name, const char *v)
{
	size_t n = strlen(v);

	if (strcmp(name, "providers") == 0)
		return strcmp(v, "tencent") == 0 || strcmp(v, "alibaba") == 0;
	if (strcmp(name, "kinds") == 0)
		return strcmp(v, "media") == 0 || strcmp(v, "upload") == 0;
	/* states: any state name, so that new states need no change here */
	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)v[i]) && v[i] != '_')
			return false;
	return true;
}

/* filter.name as a JSON array text (*out, caller frees; NULL: all). */
static int
filter_list(const cJSON *filter, const char *name, char **out, struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(filter, name), *it;
	int n = 0;

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0 ||
	    cJSON_GetArraySize(v) > FILTER_ITEMS_MAX)
		return err_set(e, ERR_INPUT,
			       "filter.%s must be null or a list of 1 to %d "
			       "strings",
			       name, FILTER_ITEMS_MAX);
	cJSON_ArrayForEach(it, v)
	{
		if (!cJSON_IsString(it) ||
		    !filter_value_ok(name, it->valuestring))
			return err_set(e, ERR_INPUT,
				       "filter.%s[%d] is not a known value",
				       name, n);
		n++;
	}
	if ((*out = cJSON_PrintUnformatted(v)) == NULL)
		fatal("out of memory");
	return 0;
}

int
webhook_sub_fields(const cJSON *doc, struct store_webhook_sub *w,
		   char *lists[3], struct err *e)
{
	static const char *const names[3] = {"providers", "states", "kinds"};
	const cJSON *url = cJSON_GetObjectItemCaseSensitive(doc, "url");
	const cJSON *desc =
	    cJSON_GetObjectItemCaseSensitive(doc, "description");
	const cJSON *filter = cJSON_GetObjectItemCaseSensitive(doc, "filter");
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(doc, "enabled");
	const cJSON *it;
	int rc;

	if (url != NULL && !cJSON_IsString(url))
		return err_set(e, ERR_INPUT, "url must be a string");
	if (desc != NULL && (!cJSON_IsString(desc) ||
			     strlen(desc->valuestring) > DESCRIPTION_MAX))
		return err_set(e, ERR_INPUT,
			       "description must be a string of at most %d "
			       "bytes",
			       DESCRIPTION_MAX);
	if (en != NULL && !cJSON_IsBool(en))
		return err_set(e, ERR_INPUT, "enabled must be true or false");
	if (filter != NULL && !cJSON_IsNull(filter) && !cJSON_IsObject(filter))
		return err_set(e, ERR_INPUT, "filter must be an object");
	cJSON_ArrayForEach(it, filter)
	{
		if (strcmp(it->string, "providers") != 0 &&
		    strcmp(it->string, "states") != 0 &&
		    strcmp(it->string, "kinds") != 0)
			return err_set(e, ERR_INPUT,
				       "unknown field \"filter.%s\"",
				       it->string);
	}
	w->url = url ? url->valuestring : NULL;
	w->description = desc ? desc->valuestring : NULL;
	w->enabled = en == NULL ? -1 : cJSON_IsTrue(en);
	w->set_filter = filter != NULL;
	for (int i = 0; i < 3; i++)
		if ((rc = filter_list(filter, names[i], &lists[i], e)) != 0)
			return rc;
	w->providers = lists[0];
	w->states = lists[1];
	w->kinds = lists[2];
	if (w->url != NULL) {
		struct webhook_url_opts uo = {
		    .allow_http = cfg.webhook_allow_http,
		    .allow_private = cfg.webhook_allow_private_urls};

		return webhook_url_check(&uo, w->url, e);
	}
	return 0;
}

static int
reply_owned(struct http_req *r, int status, char *json)
{
	int sent = http_reply_text(r, status, json);

	free(json);
	return sent;
}

/* Reply with record json and "secret" added first. */
static int
reply_with_secret(struct http_req *r, int status, char *json,
		  const char *secret)
{
	struct buf out;
	int sent;

	buf_init(&out, strlen(json) + WEBHOOK_SECRET_MAX + 16);
	if (buf_printf(&out, "{\"secret\":\"%s\",%s", secret, json + 1) != 0)
		fatal("out of memory");
	sent = http_reply_text(r, status, buf_cstr(&out));
	if (out.ptr != NULL)
		explicit_bzero(out.ptr, out.cap);
	buf_free(&out);
	free(json);
	return sent;
}

int
handle_webhook_create(struct http_req *r, void *arg)
{
	static const char *const known[] = {"url", "description", "filter",
					    NULL};
	struct app *app = arg;
	struct store_webhook_sub w = {0};
	char *lists[3] = {NULL, NULL, NULL}, *json = NULL;
	char secret[WEBHOOK_SECRET_MAX];
	struct body b;
	struct err e;
	int status, rc;

	err_clear(&e);
	if ((status = read_object(r, &b, known, false)) != 0)
		goto out;
	if ((rc = webhook_sub_fields(b.doc, &w, lists, &e)) != 0 ||
	    (w.url == NULL &&
	     (rc = err_set(&e, ERR_INPUT, "url is required")) != 0)) {
		status = http_reply_err(r, rc, &e);
		goto out;
	}
	if (webhook_secret_new(secret) != 0) {
		status = http_reply_error(r, 500, "internal",
					  "could not draw a secret");
		goto out;
	}
	if ((rc = store_webhook_create(app->pool, &w, secret, &json, &e)) !=
	    0) {
		status = http_reply_err(r, rc, &e);
		goto out;
	}
	http_note(r, "webhook created");
	status = reply_with_secret(r, 201, json, secret);
out:
	explicit_bzero(secret, sizeof(secret));
	for (int i = 0; i < 3; i++)
		free(lists[i]);
	body_free(&b);
	return status;
}

int
handle_webhook_list(struct http_req *r, void *arg)
{
	struct app *app = arg;
	char *json = NULL;
	struct err e;
	int rc;

	err_clear(&e);
	if ((rc = store_webhook_list_json(app->pool, &json, &e)) != 0)
		return http_reply_err(r, rc, &e);
	return reply_owned(r, 200, json);
}

/* The subscription id of the path, or the status of the 404 sent. */
static int
path_id(struct http_req *r)
{
	if (webhook_id_ok(r->params[0]))
		return 0;
	return http_reply_error(r, 404, "not_found", "no such webhook");
}

int
handle_webhook_get(struct http_req *r, void *arg)
{
	struct app *app = arg;
	char *json = NULL;
	struct err e;
	int rc;

	if ((rc = path_id(r)) != 0)
		return rc;
	err_clear(&e);
	if ((rc = store_webhook_get_json(app->pool, r->params[0], &json, &e)) !=
	    0)
		return http_reply_err(r, rc, &e);
	return reply_owned(r, 200, json);
}

int
handle_webhook_update(struct http_req *r, void *arg)
{
	static const char *const known[] = {"url", "description", "filter",
					    "enabled", NULL};
	struct app *app = arg;
	struct store_webhook_sub w = {0};
	char *lists[3] = {NULL, NULL, NULL}, *json = NULL;
	struct body b = {0};
	struct err e;
	int status, rc;

	if ((status = path_id(r)) != 0)
		return status;
	err_clear(&e);
	if ((status = read_object(r, &b, known, false)) != 0)
		goto out;
	if ((rc = webhook_sub_fields(b.doc, &w, lists, &e)) != 0 ||
	    (rc = store_webhook_update(app->pool, r->params[0], &w, &json,
				       &e)) != 0) {
		status = http_reply_err(r, rc, &e);
		goto out;
	}
	status = reply_owned(r, 200, json);
out:
	for (int i = 0; i < 3; i++)
		free(lists[i]);
	body_free(&b);
	return status;
}

int
handle_webhook_delete(struct http_req *r, void *arg)
{
	struct app *app = arg;
	struct err e;
	int rc;

	if ((rc = path_id(r)) != 0)
		return rc;
	err_clear(&e);
	if ((rc = store_webhook_delete(app->pool, r->params[0], &e)) != 0)
		return http_reply_err(r, rc, &e);
	return http_reply_text(r, 200, "{\"deleted\":true}");
}

int
handle_webhook_rotate(struct http_req *r, void *arg)
{
	static const char *const known[] = {"grace_seconds", NULL};
	struct app *app = arg;
	char secret[WEBHOOK_SECRET_MAX], *json = NULL;
	int64_t grace = cfg.webhook_rotation_grace;
	const cJSON *g;
	struct body b = {0};
	struct err e;
	int status, rc;

	if ((status = path_id(r)) != 0)
		return status;
	err_clear(&e);
	memset(secret, 0, sizeof(secret));
	if ((status = read_object(r, &b, known, true)) != 0)
		goto out;
	g = cJSON_GetObjectItemCaseSensitive(b.doc, "grace_seconds");
	if (g != NULL) {
		if (!cJSON_IsNumber(g) || g->valuedouble < 0 ||
		    g->valuedouble > 2592000 ||
		    g->valuedouble != (double)(int64_t)g->valuedouble) {
			status = http_reply_error(r, 400, "invalid_input",
						  "grace_seconds must be an "
						  "integer from 0 to 2592000");
			goto out;
		}
		grace = (int64_t)g->valuedouble;
	}
	if (webhook_secret_new(secret) != 0) {
		status = http_reply_error(r, 500, "internal",
					  "could not draw a secret");
		goto out;
	}
	if ((rc = store_webhook_rotate(app->pool, r->params[0], secret, grace,
				       &json, &e)) != 0) {
		status = http_reply_err(r, rc, &e);
		goto out;
	}
	http_note(r, "webhook secret rotated");
	status = reply_with_secret(r, 200, json, secret);
out:
	explicit_bzero(secret, sizeof(secret));
	body_free(&b);
	return status;
}

int
handle_webhook_messages(struct http_req *r, void *arg)
{
	struct app *app = arg;
	char state[16], limit[16], cursor[40], *json = NULL;
	const char *st = NULL;
	int64_t lim = 50, after = 0;
	struct err e;
	int rc;

	if ((rc = path_id(r)) != 0)
		return rc;
	err_clear(&e);
	if (http_query(r, "state", state, sizeof(state))) {
		if (strcmp(state, "pending") != 0 &&
		    strcmp(state, "delivered") != 0 &&
		    strcmp(state, "failed") != 0)
			return http_reply_error(r, 400, "invalid_input",
						"state must be pending, "
						"delivered or failed");
		st = state;
	}
	if (http_query(r, "limit", limit, sizeof(limit)) &&
	    parse_i64(limit, 1, 1000, &lim) != 0)
		return http_reply_error(r, 400, "invalid_input",
					"limit must be 1 to 1000");
	if (http_query(r, "cursor", cursor, sizeof(cursor)) &&
	    parse_i64(cursor, 0, INT64_MAX, &after) != 0)
		return http_reply_error(r, 400, "invalid_input",
					"cursor is not one this API gave");
	rc = store_webhook_messages_json(app->pool, r->params[0], st, after,
					 (int)lim, &json, &e);
	if (rc != 0)
		return http_reply_err(r, rc, &e);
	return reply_owned(r, 200, json);
}

/* What store_webhook_message_json and store_webhook_resend share. */
typedef int (*message_fn)(struct db_pool *pool, const char *id, int64_t msg,
			  char **json, struct err *e);

/* /v1/webhooks/{id}/messages/{msg_id}[/...]: fn's JSON with status. */
static int
on_message(struct http_req *r, struct app *app, message_fn fn, int status)
{
	char *json = NULL;
	int64_t id;
	struct err e;
	int rc;

	if ((rc = path_id(r)) != 0)
		return rc;
	if (!msg_id(r->params[1], &id))
		return http_reply_error(r, 404, "not_found", "no such message");
	err_clear(&e);
	rc = fn(app->pool, r->params[0], id, &json, &e);
	if (rc != 0)
		return http_reply_err(r, rc, &e);
	return reply_owned(r, status, json);
}

int
handle_webhook_message(struct http_req *r, void *arg)
{
	return on_message(r, arg, store_webhook_message_json, 200);
}

int
handle_webhook_resend(struct http_req *r, void *arg)
{
	return on_message(r, arg, store_webhook_resend, 202);
}

int
handle_webhook_resend_since(struct http_req *r, void *arg)
{
	static const char *const known[] = {"since", NULL};
	struct app *app = arg;
	const cJSON *since;
	char out[64];
	int64_t n = 0;
	struct body b = {0};
	struct err e;
	int status, rc;

	if ((status = path_id(r)) != 0)
		return status;
	err_clear(&e);
	if ((status = read_object(r, &b, known, false)) != 0)
		goto out;
	since = cJSON_GetObjectItemCaseSensitive(b.doc, "since");
	if (!cJSON_IsString(since)) {
		status = http_reply_error(r, 400, "invalid_input",
					  "since (an RFC 3339 date-time) is "
					  "required");
		goto out;
	}
	if ((rc = store_webhook_resend_since(
		 app->pool, r->params[0], since->valuestring, &n, &e)) != 0) {
		status = http_reply_err(r, rc, &e);
		goto out;
	}
	snprintf(out, sizeof(out), "{\"resent\":%lld}", (long long)n);
	status = http_reply_text(r, 202, out);
out:
	body_free(&b);
	return status;
}

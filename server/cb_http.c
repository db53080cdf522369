/*
 * cb_http.c: the callback endpoints and the media query API.
 *
 *   POST /callbacks/tencent[/{token}]   Tencent VOD push callbacks
 *   POST /callbacks/alibaba             Alibaba VOD HTTP callbacks
 *   GET  /v1/media[?state=&provider=&since=&limit=&cursor=]
 *   GET  /v1/media/{provider}/{file_id}
 *   GET  /v1/media/{provider}/{file_id}/events
 *
 * A callback is acknowledged (200) only once it is durable: committed, or
 * spooled while the database is away. Both callback endpoints take one
 * path (receive_callback): what the request carries (Tencent's path token,
 * Alibaba's signature headers), the body's size, what the body carries
 * (Tencent's Sign and T), then the event's content, then ingest.
 */
#include "server/handlers.h"

#include "callbacks/background.h"
#include "callbacks/ingest.h"
#include "server/activity.h"
#include "common/json.h"
#include "common/metrics.h"
#include "server/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rejections by reason, counted by provider in /metrics. */
enum reject {
	REJ_MALFORMED = METRIC_REJECT_MALFORMED,
	REJ_AUTH = METRIC_REJECT_UNAUTHORIZED,
	REJ_TOO_LARGE = METRIC_REJECT_TOO_LARGE,
	REJ_UNAVAIL = METRIC_REJECT_UNAVAILABLE
};

/* The label index of provider p in the metrics labelled by provider. */
static size_t
metric_provider(enum vod_provider p)
{
	return p == VOD_TENCENT ? METRIC_PROVIDER_TENCENT
				: METRIC_PROVIDER_ALIBABA;
}

static int
reject(struct http_req *r, enum vod_provider p, enum reject why, int status,
       const char *code, const char *msg)
{
	metric_add_at(METRIC_CALLBACKS_REJECTED,
		      metric_provider(p) * METRIC_REJECT_N + (size_t)why, 1);
	log_msg(LOG_WARN, "callbacks", "rejected %s callback: %s",
		vod_provider_name(p), msg);
	/* The route's name, not its path: Tencent's path may hold a token. */
	activity_callback_rejected(vod_provider_name(p),
				   p == VOD_TENCENT ? "/callbacks/tencent"
						    : "/callbacks/alibaba",
				   msg, r->ri->remote_addr);
	return http_reply_error(r, status, code, "%s", msg);
}

static int
reply_ack(struct http_req *r, enum vod_provider p, const struct vod_event *ev,
	  const struct ingest_result *res)
{
	cJSON *doc = cJSON_CreateObject();

	metric_add_at(METRIC_CALLBACKS_ACCEPTED, metric_provider(p), 1);
	activity_callback_received();
	cJSON_AddStringToObject(doc, "status",
				res->spooled	 ? "spooled"
				: res->duplicate ? "duplicate"
						 : "stored");
	cJSON_AddStringToObject(doc, "event_type", ev->event_type);
	http_note(r, "%s %s", ev->event_type,
		  res->spooled	   ? "spooled"
		  : res->duplicate ? "duplicate"
				   : "stored");
	return http_reply_json(r, 200, doc);
}

/* Read a callback body under the callback cap; 0 or the status sent. */
static int
read_callback_body(struct http_req *r, enum vod_provider p, struct buf *body)
{
	int rc = http_read_body(r, (size_t)cfg.callback_max_bytes, body);
	char msg[96];

	if (rc == ERR_LIMIT) {
		snprintf(msg, sizeof(msg), "body is larger than %lld bytes",
			 (long long)cfg.callback_max_bytes);
		return reject(r, p, REJ_TOO_LARGE, 413, "too_large", msg);
	}
	if (rc != 0)
		return reject(r, p, REJ_MALFORMED, 400, "bad_request",
			      "could not read the request body");
	return 0;
}

/* Record ev and answer: 200 once durable, 400 or 503 otherwise. */
static int
ingest_and_reply(struct http_req *r, struct app *app,
		 const struct vod_event *ev, const struct buf *body)
{
	struct ingest_result res;
	struct err e;
	int rc;

	err_clear(&e);
	rc = ingest_submit(app->ingest, ev, buf_cstr(body), body->len, VIA_PUSH,
			   &res, &e);
	if (rc == ERR_INPUT)
		return reject(r, ev->provider, REJ_MALFORMED, 400,
			      "bad_request", e.msg);
	if (rc != 0)
		return reject(r, ev->provider, REJ_UNAVAIL, 503, "unavailable",
			      e.msg);
	return reply_ack(r, ev->provider, ev, &res);
}

/* The query parameter a, or else b, decoded into out; NULL when neither. */
static const char *
query_any(struct http_req *r, const char *a, const char *b, char *out, size_t n)
{
	if (http_query(r, a, out, n) || http_query(r, b, out, n))
		return out;
	return NULL;
}

/* The Tencent path token, when one is configured; 0 or the status sent. */
static int
check_tencent_token(struct http_req *r)
{
	const char *token = cfg.tencent_callback_token;
	const char *given = r->nparams == 1 ? r->params[0] : "";

	if (token[0] == '\0')
		return r->nparams == 1
			   ? http_reply_error(r, 404, "not_found",
					      "no callback token is configured")
			   : 0;
	if (ct_equal(given, strlen(given), token, strlen(token)))
		return 0;
	return reject(r, VOD_TENCENT, REJ_AUTH, 401, "unauthorized",
		      r->nparams ? "wrong callback token"
				 : "callback token required");
}

/* The URL Alibaba signed: the configured one, else this request's. */
static void
alibaba_url(struct http_req *r, char *out, size_t n)
{
	const char *host = http_header(r, "Host");

	if (cfg.alibaba_callback_url[0] != '\0') {
		snprintf(out, n, "%s", cfg.alibaba_callback_url);
		return;
	}
	snprintf(out, n, "%s://%s%s%s%s", r->ri->is_ssl ? "https" : "http",
		 host ? host : "",
		 r->ri->request_uri ? r->ri->request_uri : "/",
		 r->query ? "?" : "", r->query ? r->query : "");
}

/* The Alibaba signature headers; 0 or the status sent. */
static int
verify_alibaba(struct http_req *r)
{
	char url[2048];
	struct err e;

	if (cfg.alibaba_callback_key[0] == '\0')
		return reject(r, VOD_ALIBABA, REJ_AUTH, 403, "not_configured",
			      "alibaba_callback_key is not configured: "
			      "Alibaba callbacks cannot be verified");
	alibaba_url(r, url, sizeof(url));
	err_clear(&e);
	if (cb_verify_alibaba(
		url, http_header(r, "X-VOD-TIMESTAMP"),
		http_header(r, "X-VOD-SIGNATURE"), cfg.alibaba_callback_key,
		cfg.alibaba_callback_key_old[0] ? cfg.alibaba_callback_key_old
						: NULL,
		time_unix(), cfg.alibaba_timestamp_window, &e) != 0)
		return reject(r, VOD_ALIBABA, REJ_AUTH, 401, "unauthorized",
			      e.msg);
	return 0;
}

/* Tencent's Sign and T, from the body or the query; 0 or the status sent. */
static int
verify_tencent(struct http_req *r, const cJSON *doc)
{
	char qsign[128], qt[32];
	struct err e;

	if (cfg.tencent_sign_key[0] == '\0')
		return 0;
	err_clear(&e);
	if (cb_verify_tencent_doc(
		doc, query_any(r, "sign", "Sign", qsign, sizeof(qsign)),
		query_any(r, "t", "T", qt, sizeof(qt)), cfg.tencent_sign_key,
		time_unix(), &e) != 0)
		return reject(r, VOD_TENCENT, REJ_AUTH, 401, "unauthorized",
			      e.msg);
	return 0;
}

/*
 * What the request carries before its body is read: Tencent's path token,
 * Alibaba's signature headers (which do not cover the body). 0 or the
 * status sent.
 */
static int
check_request(struct http_req *r, enum vod_provider p)
{
	return p == VOD_TENCENT ? check_tencent_token(r) : verify_alibaba(r);
}

/*
 * What the body carries: Tencent may send Sign and T in it, so it is
 * verified once parsed, on the document parsed from the raw bytes; Alibaba
 * has nothing there. 0 or the status sent.
 */
static int
check_body(struct http_req *r, enum vod_provider p, const cJSON *doc)
{
	return p == VOD_TENCENT ? verify_tencent(r, doc) : 0;
}

/*
 * The one path of both callback endpoints: check the request, read the
 * capped body, parse it as JSON once, verify, parse the event from it and
 * record it. Its duration, whatever the answer, goes to the callback
 * latency histogram, measured by the HTTP layer for its access log: no
 * clock read, lock or allocation more per callback. Returns the status
 * sent.
 */
static int
receive_callback(struct http_req *r, struct app *app, enum vod_provider p)
{
	struct vod_event ev;
	struct buf body;
	cJSON *doc = NULL;
	struct err e;
	int status;

	r->timed = true;
	r->latency_metric = METRIC_CALLBACK_DURATION;
	r->latency_series = metric_provider(p);
	vod_event_init(&ev);
	buf_init(&body, 0);
	err_clear(&e);
	if ((status = check_request(r, p)) != 0 ||
	    (status = read_callback_body(r, p, &body)) != 0)
		goto out;
	doc = json_parse(buf_cstr(&body), body.len);
	if (doc == NULL) {
		status = reject(r, p, REJ_MALFORMED, 400, "bad_request",
				"body is not valid JSON");
		goto out;
	}
	if ((status = check_body(r, p, doc)) != 0)
		goto out;
	if (cb_parse(p, doc, buf_cstr(&body), body.len, &ev, &e) != 0) {
		status = reject(r, p, REJ_MALFORMED, 400, "bad_request", e.msg);
		goto out;
	}
	status = ingest_and_reply(r, app, &ev, &body);
out:
	cJSON_Delete(doc);
	vod_event_cleanup(&ev);
	buf_free(&body);
	return status;
}

int
handle_cb_tencent(struct http_req *r, void *arg)
{
	return receive_callback(r, arg, VOD_TENCENT);
}

int
handle_cb_alibaba(struct http_req *r, void *arg)
{
	return receive_callback(r, arg, VOD_ALIBABA);
}

/* ------------------------------------------------------------ queries */

static int
reply_raw_json(struct http_req *r, int rc, char *json, const struct err *e)
{
	int status;

	if (rc != 0)
		return http_reply_err(r, rc, e);
	status = http_reply_text(r, 200, json);
	free(json);
	return status;
}

static bool
valid_provider(const char *p)
{
	return strcmp(p, "tencent") == 0 || strcmp(p, "alibaba") == 0;
}

int
handle_media_get(struct http_req *r, void *arg)
{
	struct app *app = arg;
	char *json = NULL;
	struct err e;
	int rc;

	err_clear(&e);
	if (!valid_provider(r->params[0]))
		return http_reply_error(r, 404, "not_found",
					"unknown provider \"%s\"",
					r->params[0]);
	rc = store_media_get_json(app->pool, r->params[0], r->params[1], 100,
				  &json, &e);
	return reply_raw_json(r, rc, json, &e);
}

int
handle_media_events(struct http_req *r, void *arg)
{
	struct app *app = arg;
	char *json = NULL;
	struct err e;
	int rc;

	err_clear(&e);
	if (!valid_provider(r->params[0]))
		return http_reply_error(r, 404, "not_found",
					"unknown provider \"%s\"",
					r->params[0]);
	rc = store_media_events_json(app->pool, r->params[0], r->params[1],
				     &json, &e);
	return reply_raw_json(r, rc, json, &e);
}

/*
 * DELETE /v1/media/{provider}/{file_id}: 202 with the record once the
 * platform accepted the deletion (200 when it was deleted already), 404
 * for a media vodhook has no record of (nothing is asked: a force form
 * would delete what vodhook never saw, which the platform's own console
 * does better), 502 with the platform's code when it refused.
 */
int
handle_media_delete(struct http_req *r, void *arg)
{
	struct app *app = arg;
	char *json = NULL;
	bool asked = false;
	struct err e;
	int rc, status;

	err_clear(&e);
	if (!valid_provider(r->params[0]))
		return http_reply_error(r, 404, "not_found",
					"unknown provider \"%s\"",
					r->params[0]);
	rc = cb_delete_media(app->cloud, app->pool, r->params[0], r->params[1],
			     &json, &asked, &e);
	free(json);
	if (rc != 0)
		return http_reply_err(r, rc, &e);
	rc = store_media_get_json(app->pool, r->params[0], r->params[1], 100,
				  &json, &e);
	if (rc != 0)
		return http_reply_err(r, rc, &e);
	status = http_reply_text(r, asked ? 202 : 200, json);
	free(json);
	return status;
}

int
handle_media_list(struct http_req *r, void *arg)
{
	static const char *const states[] = {"uploaded",   "confirmed",
					     "processing", "ready",
					     "failed",	   "deleted"};
	struct store_media_filter f = {.limit = 50};
	char state[16], provider[16], since[64], limit[16], cursor[24];
	struct app *app = arg;
	char *json = NULL;
	int64_t v;
	struct err e;
	bool ok = false;
	int rc;

	err_clear(&e);
	if (http_query(r, "state", state, sizeof(state))) {
		for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
			ok = ok || strcmp(state, states[i]) == 0;
		if (!ok)
			return http_reply_error(
			    r, 400, "invalid_input",
			    "state must be one of uploaded, "
			    "confirmed, processing, ready, "
			    "failed");
		f.state = state;
	}
	if (http_query(r, "provider", provider, sizeof(provider))) {
		if (!valid_provider(provider))
			return http_reply_error(r, 400, "invalid_input",
						"provider must be tencent or "
						"alibaba");
		f.provider = provider;
	}
	if (http_query(r, "since", since, sizeof(since)))
		f.since = since;
	if (http_query(r, "limit", limit, sizeof(limit))) {
		if (parse_i64(limit, 1, 500, &v) != 0)
			return http_reply_error(r, 400, "invalid_input",
						"limit must be 1 to 500");
		f.limit = (int)v;
	}
	if (http_query(r, "cursor", cursor, sizeof(cursor))) {
		if (parse_i64(cursor, 0, INT64_MAX, &v) != 0)
			return http_reply_error(r, 400, "invalid_input",
						"cursor is not one this API "
						"gave");
		f.after_id = v;
	}
	rc = store_media_list_json(app->pool, &f, &json, &e);
	return reply_raw_json(r, rc, json, &e);
}

/*
 * cloud/http.h: outgoing HTTP for the API clients and the transfer engine:
 * the settings every request gets (struct cloud_opts), the options every
 * libcurl easy handle gets (cloud_easy_*), one request on a fresh handle
 * (cloud_http_perform) and the retry policy (http.c).
 */
#ifndef VODHOOK_CLOUD_HTTP_H
#define VODHOOK_CLOUD_HTTP_H

#include "common/common.h"

#include <curl/curl.h>

/*
 * Settings for every outgoing request, filled by the configuration module.
 * All strings are borrowed and must stay valid while requests run. NULL or
 * 0 means the default given here.
 */
struct cloud_opts {
	const char *connect_to; /* CURLOPT_CONNECT_TO entry "H:P:h:p" or NULL */
	const char *ca_file;	/* CURLOPT_CAINFO or NULL */
	bool allow_http;	/* plain http allowed (emulator) */
	long connect_timeout_ms; /* default 5000 */
	long timeout_ms;	 /* default 30000 (whole request) */
	int max_attempts;	 /* retried API calls; default 3 */
	long retry_base_ms;	 /* first backoff; default 200, doubled */
	long retry_max_ms;	 /* one backoff at most; default 2000 */

	const char *tencent_secret_id;
	const char *tencent_secret_key;
	const char *tencent_region;    /* X-TC-Region, may be NULL */
	const char *tencent_subapp_id; /* decimal uint64; NULL/"0": none */
	const char
	    *tencent_api_url; /* default https://vod.tencentcloudapi.com */

	const char *alibaba_access_key_id;
	const char *alibaba_access_key_secret;
	const char *alibaba_region; /* default cn-shanghai */
	const char
	    *alibaba_api_url; /* default https://vod.<region>.aliyuncs.com */
	const char *alibaba_app_id; /* AppId, optional */
	/* UserData.MessageCallback.CallbackURL of uploads, optional */
	const char *alibaba_callback_url;
	/* sign OSS requests with OSS4-HMAC-SHA256 instead of V1 */
	bool alibaba_oss_v4;
};

/*
 * The application of one media or upload (app.c). A media belongs to one
 * application of the account, and every call about it must name that one:
 * a call about a media gets a copy of the options with its application.
 *
 * cloud_tencent_opts_for_subapp: *out is *o with SubAppId sub_app_id
 * (decimal text; NULL or "" keeps the setting's). cloud_alibaba_opts_for_app:
 * *out is *o with AppId app_id (NULL or "" keeps the setting's). The
 * strings stay borrowed: they must outlive *out. Pure, thread-safe.
 *
 * cloud_tencent_subapp_check: a decimal uint64 other than 0.
 * cloud_alibaba_app_check: "app-" and digits, at most CLOUD_APP_ID_MAX
 * bytes. 0 or ERR_INPUT naming the request field (sub_app_id, app_id).
 */
#define CLOUD_APP_ID_MAX 64
void cloud_tencent_opts_for_subapp(const struct cloud_opts *o,
				   const char *sub_app_id,
				   struct cloud_opts *out);
void cloud_alibaba_opts_for_app(const struct cloud_opts *o, const char *app_id,
				struct cloud_opts *out);
int cloud_tencent_subapp_check(const char *s, struct err *e) VH_MUST_CHECK;
int cloud_alibaba_app_check(const char *s, struct err *e) VH_MUST_CHECK;

#define CLOUD_BODY_MAX (4u << 20) /* API response cap */

/*
 * Per-handle state for an easy handle the caller owns (the transfer engine
 * uses it with curl multi). cloud_easy_init applies the common options:
 * NOSIGNAL, connect and total timeouts, ERRORBUFFER, protocols https (or
 * http,https), CONNECT_TO, CAINFO, TCP keepalive, and a write callback that
 * stores the response body in ce->body, capped at body_max. The caller may
 * override options afterwards (e.g. its own WRITEFUNCTION for downloads).
 * ce must stay at the same address while the handle is in use.
 */
struct cloud_easy {
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *connect_to;
	struct buf body;    /* response body */
	bool body_overflow; /* the body exceeded its cap */
};

int cloud_easy_init(struct cloud_easy *ce, CURL *h, const struct cloud_opts *o,
		    size_t body_max, struct err *e) VH_MUST_CHECK;
/* Free ce's resources (not the handle; clean up the handle first). */
void cloud_easy_cleanup(struct cloud_easy *ce);
/*
 * Map a finished transfer to an ERR_* code with a message in e: 0 when
 * curl succeeded (whatever the HTTP status), ERR_LIMIT for an oversized
 * body, ERR_INPUT for a malformed URL or a scheme not allowed (not worth
 * retrying), ERR_NET otherwise.
 */
int cloud_easy_result(const struct cloud_easy *ce, CURLcode cc, struct err *e);

/* One HTTP request. */
struct cloud_request {
	const char *method; /* "GET", "POST", "PUT" */
	const char *url;
	const struct curl_slist *headers; /* borrowed, may be NULL */
	const void *body;		  /* may be NULL */
	size_t body_len;
	long timeout_ms; /* 0: opts' timeout */
};

struct cloud_response {
	long status;	 /* HTTP status, 0 when none was received */
	struct buf body; /* capped at CLOUD_BODY_MAX; caller frees */
	bool sent;	 /* the request may have reached the server */
};

void cloud_response_init(struct cloud_response *r);
void cloud_response_cleanup(struct cloud_response *r);

/*
 * Perform one request on a fresh easy handle (no retry). 0 when a response
 * arrived (any status) and r is filled; ERR_NET, ERR_LIMIT or ERR_INPUT
 * (see cloud_easy_result) otherwise, with
 * r->sent telling whether the request may have reached the server.
 * Thread-safe once curl_global_init has run.
 */
int cloud_http_perform(const struct cloud_opts *o,
		       const struct cloud_request *req,
		       struct cloud_response *r, struct err *e) VH_MUST_CHECK;

/* Backoff after failed attempt number attempt (>= 1): retry_base_ms
 * doubled per attempt, capped at retry_max_ms, then a random value in
 * [d/2, d] (jitter). */
long cloud_http_backoff_ms(const struct cloud_opts *o, int attempt);
/* opts' max_attempts, default 3, at most 10. */
int cloud_http_max_attempts(const struct cloud_opts *o);

#endif

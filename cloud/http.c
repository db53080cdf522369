/*
 * http.c: the libcurl request helper shared by both API clients and the
 * transfer engine.
 *
 * Interface: cloud_easy_init, cloud_easy_cleanup, cloud_easy_result,
 * cloud_response_init, cloud_response_cleanup, cloud_http_perform,
 * cloud_http_backoff_ms, cloud_http_max_attempts.
 *
 * One easy handle per attempt (libcurl-thread.md): nothing here is shared
 * between threads, so every function is thread-safe once curl_global_init
 * has run in main().
 */
#include "cloud/cloud_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEF_CONNECT_MS 5000L
#define DEF_TIMEOUT_MS 30000L
#define DEF_ATTEMPTS   3
#define DEF_BASE_MS    200L
#define DEF_MAX_MS     2000L

static size_t
write_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct cloud_easy *ce = arg;
	size_t n = size * nmemb;

	if (buf_append(&ce->body, p, n) != 0) {
		ce->body_overflow = true;
		return 0; /* CURLE_WRITE_ERROR */
	}
	return n;
}

#define SETOPT(h, opt, val)                                                    \
	do {                                                                   \
		CURLcode cc_ = curl_easy_setopt((h), (opt), (val));            \
		if (cc_ != CURLE_OK) {                                         \
			rc = err_set(e, ERR_INTERNAL,                          \
				     "could not set curl option %s: %s", #opt, \
				     curl_easy_strerror(cc_));                 \
			goto out;                                              \
		}                                                              \
	} while (0)

int
cloud_easy_init(struct cloud_easy *ce, CURL *h, const struct cloud_opts *o,
		size_t body_max, struct err *e)
{
	long cto, to;
	int rc = 0;

	memset(ce, 0, sizeof(*ce));
	buf_init(&ce->body, body_max);
	cto =
	    o->connect_timeout_ms > 0 ? o->connect_timeout_ms : DEF_CONNECT_MS;
	to = o->timeout_ms > 0 ? o->timeout_ms : DEF_TIMEOUT_MS;
	SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, cto);
	SETOPT(h, CURLOPT_TIMEOUT_MS, to);
	SETOPT(h, CURLOPT_ERRORBUFFER, ce->errbuf);
	SETOPT(h, CURLOPT_PROTOCOLS_STR,
	       o->allow_http ? "http,https" : "https");
	SETOPT(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(h, CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(h, CURLOPT_TCP_KEEPIDLE, 30L);
	SETOPT(h, CURLOPT_TCP_KEEPINTVL, 15L);
	SETOPT(h, CURLOPT_WRITEFUNCTION, write_body);
	SETOPT(h, CURLOPT_WRITEDATA, ce);
	if (o->ca_file != NULL && o->ca_file[0] != '\0')
		SETOPT(h, CURLOPT_CAINFO, o->ca_file);
	if (o->connect_to != NULL && o->connect_to[0] != '\0') {
		ce->connect_to = curl_slist_append(NULL, o->connect_to);
		if (ce->connect_to == NULL)
			fatal("out of memory");
		SETOPT(h, CURLOPT_CONNECT_TO, ce->connect_to);
	}
out:
	if (rc != 0)
		cloud_easy_cleanup(ce);
	return rc;
}

void
cloud_easy_cleanup(struct cloud_easy *ce)
{
	if (ce == NULL)
		return;
	curl_slist_free_all(ce->connect_to);
	ce->connect_to = NULL;
	buf_free(&ce->body);
}

int
cloud_easy_result(const struct cloud_easy *ce, CURLcode cc, struct err *e)
{
	if (cc == CURLE_OK)
		return 0;
	if (ce->body_overflow)
		return err_set(e, ERR_LIMIT, "response body exceeded %zu bytes",
			       ce->body.max);
	/* A bad URL or a forbidden scheme is a configuration error: no
	 * retry can fix it. */
	if (cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT)
		return err_set(e, ERR_INPUT, "request refused: %s",
			       ce->errbuf[0] ? ce->errbuf
					     : curl_easy_strerror(cc));
	return err_set(e, ERR_NET, "request failed: %s",
		       ce->errbuf[0] ? ce->errbuf : curl_easy_strerror(cc));
}

bool
cloud__curl_not_sent(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return true;
	default:
		return false;
	}
}

void
cloud_response_init(struct cloud_response *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, CLOUD_BODY_MAX);
}

void
cloud_response_cleanup(struct cloud_response *r)
{
	if (r != NULL)
		buf_free(&r->body);
}

int
cloud_http_perform(const struct cloud_opts *o, const struct cloud_request *req,
		   struct cloud_response *r, struct err *e)
{
	struct cloud_easy ce;
	bool ce_live = false;
	CURL *h = NULL;
	CURLcode cc;
	int rc;

	buf_reset(&r->body);
	r->status = 0;
	r->sent = false;
	if ((h = curl_easy_init()) == NULL) {
		rc = err_set(e, ERR_INTERNAL, "could not create curl handle");
		goto out;
	}
	if ((rc = cloud_easy_init(&ce, h, o, r->body.max, e)) != 0)
		goto out;
	ce_live = true;
	SETOPT(h, CURLOPT_URL, req->url);
	if (req->timeout_ms > 0)
		SETOPT(h, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	if (req->headers != NULL)
		SETOPT(h, CURLOPT_HTTPHEADER, req->headers);
	if (strcmp(req->method, "GET") == 0) {
		SETOPT(h, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(req->method, "POST") == 0) {
		SETOPT(h, CURLOPT_POST, 1L);
	} else {
		SETOPT(h, CURLOPT_CUSTOMREQUEST, req->method);
		SETOPT(h, CURLOPT_POST, 1L);
	}
	if (strcmp(req->method, "GET") != 0) {
		SETOPT(h, CURLOPT_POSTFIELDS,
		       req->body != NULL ? req->body : "");
		SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE,
		       (curl_off_t)(req->body != NULL ? req->body_len : 0));
	}
	cc = curl_easy_perform(h);
	r->sent = !cloud__curl_not_sent(cc);
	if ((rc = cloud_easy_result(&ce, cc, e)) != 0)
		goto out;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	/* Move the body to the caller's buffer. */
	if (ce.body.len > 0) {
		size_t len;
		char *p = buf_take(&ce.body, &len);

		rc = buf_append(&r->body, p, len);
		free(p);
		if (rc != 0)
			err_set(e, rc, "response body too large");
	}
out:
	curl_easy_cleanup(h);
	if (ce_live)
		cloud_easy_cleanup(&ce);
	return rc;
}

long
cloud_http_backoff_ms(const struct cloud_opts *o, int attempt)
{
	long base = o->retry_base_ms > 0 ? o->retry_base_ms : DEF_BASE_MS;
	long cap = o->retry_max_ms > 0 ? o->retry_max_ms : DEF_MAX_MS;
	long d = base;
	uint32_t rnd = 0;

	for (int i = 1; i < attempt && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	/* Full jitter in [d/2, d]: spread retries of many workers. */
	if (random_bytes(&rnd, sizeof(rnd)) != 0)
		return d;
	return d / 2 + (long)(rnd % (uint32_t)(d / 2 + 1));
}

int
cloud_http_max_attempts(const struct cloud_opts *o)
{
	if (o->max_attempts <= 0)
		return DEF_ATTEMPTS;
	return o->max_attempts > 10 ? 10 : o->max_attempts;
}

void
cloud__sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

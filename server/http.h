/*
 * http.h: the HTTP layer over CivetWeb: routing, request ids, capped body
 * reading, JSON replies, and the one place where error codes become HTTP
 * statuses (http_reply_err).
 */
#ifndef VODHOOK_SERVER_HTTP_H
#define VODHOOK_SERVER_HTTP_H

#include "common/common.h"

#include <cjson/cJSON.h>
#include <civetweb.h>

#define HTTP_MAX_PARAMS 4

struct http_server;

struct http_req {
	struct http_server *server; /* the one serving this request */
	struct mg_connection *conn;
	const struct mg_request_info *ri;
	const char *method;
	const char *path;	       /* decoded path, no query */
	const char *query;	       /* raw query string or NULL */
	char *params[HTTP_MAX_PARAMS]; /* "*" segments, decoded */
	int nparams;
	char req_id[40];
	int status;	/* sent status, for the access log */
	long long sent; /* body bytes sent */
	char note[160]; /* short reason logged with the access line */
	/* When timed, the request's duration, measured for the access log,
	 * also goes to series latency_series of histogram latency_metric
	 * (common/metrics.h): set by the handler. */
	bool timed;
	int latency_metric;
	size_t latency_series;
};

/* A handler sends exactly one reply and returns its status. */
typedef int (*http_handler_fn)(struct http_req *r, void *arg);

#define ROUTE_SECRET_PATH 0x1 /* log the pattern, not the path */
#define ROUTE_API	  0x2 /* /v1: needs the bearer token */

struct http_route {
	const char *method; /* "GET", "POST", ... */
	const char
	    *pattern; /* "/v1/media/ * / *" without blanks: '*' = segment */
	http_handler_fn fn;
	void *arg;
	unsigned flags;
};

struct tls;

struct http_opts {
	const char *listen;	/* plain HTTP host:port; "" or NULL: none */
	const char *tls_listen; /* HTTPS host:port; "" or NULL: none */
	struct tls *tls;	/* borrowed; needed with tls_listen */
	int threads;
	long long request_timeout_ms; /* the headers, and each read/write */
	long long body_timeout_ms;    /* the whole body */
	const char *api_token;	      /* "" or NULL: /v1 answers 403 */
};

/*
 * Start listening and serving routes (copied; arg pointers must outlive the
 * server). On failure *e says why (address in use, ...). Stop with
 * http_stop, free with http_free.
 */
int http_start(const struct http_opts *o, const struct http_route *routes,
	       size_t nroutes, struct http_server **out,
	       struct err *e) VH_MUST_CHECK;
/*
 * Append vodhook_http_requests_total (by method, route and status; only
 * the series seen) to b in Prometheus' text format. 0 or ERR_LIMIT.
 * Thread-safe while s serves.
 */
int http_metrics_write(const struct http_server *s,
		       struct buf *b) VH_MUST_CHECK;
/* The port actually bound (useful with port 0). */
int http_port(const struct http_server *s);
/* Stop accepting and finish the requests in progress. Safe twice. */
void http_stop(struct http_server *s);
/* Stop if still serving, and free. NULL-safe. */
void http_free(struct http_server *s);

/*
 * Read the request body into out (initialised here with cap max), whether
 * sent with Content-Length or chunked. ERR_LIMIT past max (nothing more is
 * read), ERR_IO when the client went away or took longer than the body
 * timeout.
 */
int http_read_body(struct http_req *r, size_t max,
		   struct buf *out) VH_MUST_CHECK;

/* A request header, or NULL. Borrowed. */
const char *http_header(const struct http_req *r, const char *name);
/* A query parameter, decoded into out; false when absent or too long. */
bool http_query(const struct http_req *r, const char *name, char *out,
		size_t n);

/* Set the reason logged with the request's access line. */
void http_note(struct http_req *r, const char *fmt, ...) VH_PRINTF(2, 3);

/* Send body (may be NULL) as JSON with status; takes ownership of body. */
int http_reply_json(struct http_req *r, int status, cJSON *body);
/* Send json, already encoded, as application/json. */
int http_reply_text(struct http_req *r, int status, const char *json);
/* Send len bytes of body with Content-Type type. */
int http_reply_body(struct http_req *r, int status, const char *type,
		    const char *body, size_t len);
/*
 * Send one of the status page's files (200): with a Content-Security-Policy
 * that lets it load only this server's scripts, styles and API, nosniff,
 * no referrer, and no framing.
 */
int http_reply_page(struct http_req *r, const char *type, const void *body,
		    size_t len);
/* Send {"error":{"code":code,"message":...},"request_id":...}. */
int http_reply_error(struct http_req *r, int status, const char *code,
		     const char *fmt, ...) VH_PRINTF(4, 5);
/* Map an ERR_* code (and e's message) to a status and send it. */
int http_reply_err(struct http_req *r, int rc, const struct err *e);

#endif

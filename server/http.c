/*
 * http.c: vodhook's HTTP layer over CivetWeb.
 *
 * One CivetWeb request handler receives every request and dispatches it
 * through a route table, so that unknown paths (404), wrong methods (405
 * with Allow), API authentication, request ids and the access log are
 * handled in one place. Handlers run on CivetWeb's worker threads and send
 * exactly one reply.
 *
 * Interface: http_start, http_port, http_stop, http_free, http_read_body,
 * http_header, http_query, http_reply_json, http_reply_error, http_reply_err,
 * http_metrics_write.
 */
#include "server/http.h"

#include "server/tls.h"
#include "common/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HTTP_MAX_PATH 2048
/* Statuses counted per route: 100 to 599, one atomic each. */
#define HTTP_STATUS_MIN	 100
#define HTTP_STATUS_SPAN 500

struct http_server {
	struct mg_context *ctx;
	char *listen; /* as configured: where http_stop's waker connects */
	struct tls *tls;
	long long body_timeout_ms;
	struct http_route *routes;
	size_t nroutes;
	char *api_token;
	char id_prefix[9];
	atomic_uint_fast64_t next_id;
	/* requests by route (nroutes: none matched) and status, for
	 * /metrics: allocated once, so that counting takes no lock */
	atomic_int_fast64_t *requests;
	atomic_bool ready; /* the handlers are installed (http_start) */
};

static int http_reply_allow(struct http_req *r, const char *allow);

/*
 * CivetWeb serves from the moment mg_start2 returns, before http_start has
 * installed the authorization and request handlers: a request in between
 * got CivetWeb's own answer (a digest challenge when a /.htpasswd exists,
 * test_001's htpasswd test under ThreadSanitizer). It waits here for them
 * instead, the few microseconds http_start takes; begin_request runs before
 * CivetWeb looks up handlers or authorization.
 */
static int
civet_begin_request(struct mg_connection *conn)
{
	const struct http_server *s = mg_get_user_data(mg_get_context(conn));
	const struct timespec pause = {.tv_nsec = 100000};

	while (!atomic_load_explicit(&s->ready, memory_order_acquire))
		nanosleep(&pause, NULL);
	return 0;
}

/* CivetWeb's SSL_CTX is set up by tls.c (1: done; -1: fail). */
static int
civet_init_ssl(void *ssl_ctx, void *user_data)
{
	struct http_server *s = user_data;

	return s->tls != NULL && tls_configure_ctx(s->tls, ssl_ctx) == 0 ? 1
									 : -1;
}

static int
civet_log(const struct mg_connection *conn, const char *message)
{
	(void)conn;
	log_msg(LOG_WARN, "civetweb", "%s", message);
	return 1; /* handled: CivetWeb prints nothing itself */
}

/*
 * Match path against pattern segment by segment; '*' matches one non-empty
 * segment, captured into r->params (pointing into buf, a copy of the path;
 * route_terminate_params cuts them out once a route is chosen).
 */
static bool
route_match(const char *pattern, char *buf, struct http_req *r)
{
	const char *p = pattern;
	char *s = buf;

	r->nparams = 0;
	for (;;) {
		size_t seg;

		if (*p == '\0' || *s == '\0')
			return *p == '\0' && *s == '\0';
		if (*p++ != '/' || *s++ != '/')
			return false;
		seg = strcspn(s, "/");
		if (*p == '*') {
			if (seg == 0 || r->nparams == HTTP_MAX_PARAMS)
				return false;
			r->params[r->nparams++] = s;
			p++;
		} else {
			size_t plen = strcspn(p, "/");

			if (plen != seg || memcmp(p, s, seg) != 0)
				return false;
			p += plen;
		}
		s += seg;
	}
}

/* Cut the captured params out of buf once a route has matched. */
static void
route_terminate_params(struct http_req *r)
{
	for (int i = 0; i < r->nparams; i++) {
		char *end = strchr(r->params[i], '/');

		if (end != NULL)
			*end = '\0';
	}
}

static void
make_req_id(struct http_server *s, struct http_req *r)
{
	const char *given = mg_get_header(r->conn, "X-Request-Id");
	size_t len = given ? strlen(given) : 0;

	if (len > 0 && len < sizeof(r->req_id) &&
	    strspn(given, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			  "0123456789._-") == len) {
		memcpy(r->req_id, given, len + 1);
		return;
	}
	snprintf(r->req_id, sizeof(r->req_id), "%s%08llx", s->id_prefix,
		 (unsigned long long)atomic_fetch_add(&s->next_id, 1));
}

static int
check_api_token(struct http_server *s, struct http_req *r)
{
	const char *auth = mg_get_header(r->conn, "Authorization");
	size_t tlen = strlen(s->api_token);

	if (tlen == 0)
		return http_reply_error(r, 403, "api_disabled",
					"the HTTP API is disabled: set "
					"VODHOOK_API_TOKEN to enable it");
	if (auth == NULL || strncmp(auth, "Bearer ", 7) != 0 ||
	    !ct_equal(auth + 7, strlen(auth + 7), s->api_token, tlen)) {
		http_note(r, "%s",
			  auth ? "wrong bearer token" : "no bearer token");
		return http_reply_error(r, 401, "unauthorized",
					"a valid \"Authorization: Bearer "
					"<token>\" header is required");
	}
	return 0;
}

/*
 * Every request is authorized here: vodhook authenticates its own routes
 * (callback signatures and tokens, the API's bearer token). Without an
 * authorization handler, CivetWeb looks for "/.htpasswd" on every request
 * that a handler serves (at the file-system root, whatever document_root
 * says: no document root is configured, as vodhook serves no files), and
 * if one is there it demands HTTP digest credentials for every route,
 * callbacks included.
 */
static int
authorize_all(struct mg_connection *conn, void *cbdata)
{
	(void)conn;
	(void)cbdata;
	return 1;
}

/* Add method to the comma-separated list in allow (n bytes), if it fits. */
static void
allow_add(char *allow, size_t n, const char *method)
{
	size_t used = strlen(allow);

	if (used + 2 + strlen(method) < n)
		snprintf(allow + used, n - used, "%s%s", used ? ", " : "",
			 method);
}

/* Count a request by its route (NULL: none matched) and status. */
static void
count_request(struct http_server *s, const struct http_route *route, int status)
{
	size_t ri = route ? (size_t)(route - s->routes) : s->nroutes;

	if (status < HTTP_STATUS_MIN ||
	    status >= HTTP_STATUS_MIN + HTTP_STATUS_SPAN)
		return;
	atomic_fetch_add_explicit(
	    &s->requests[ri * HTTP_STATUS_SPAN +
			 (size_t)(status - HTTP_STATUS_MIN)],
	    1, memory_order_relaxed);
}

int
http_metrics_write(const struct http_server *s, struct buf *b)
{
	int rc = metrics_write_header(
	    b, "vodhook_http_requests_total", "counter",
	    "HTTP requests answered, by route and status (route \"none\": "
	    "no route matched).");

	for (size_t ri = 0; ri <= s->nroutes; ri++)
		for (int k = 0; k < HTTP_STATUS_SPAN; k++) {
			int64_t n = atomic_load_explicit(
			    &s->requests[ri * HTTP_STATUS_SPAN + (size_t)k],
			    memory_order_relaxed);

			if (n == 0)
				continue;
			rc |= buf_printf(
			    b,
			    "vodhook_http_requests_total{method=\"%s\","
			    "route=\"%s\",status=\"%d\"} %lld\n",
			    ri < s->nroutes ? s->routes[ri].method : "other",
			    ri < s->nroutes ? s->routes[ri].pattern : "none",
			    k + HTTP_STATUS_MIN, (long long)n);
		}
	return rc ? ERR_LIMIT : 0;
}

static int
dispatch(struct mg_connection *conn, void *cbdata)
{
	struct http_server *s = cbdata;
	char path[HTTP_MAX_PATH], allow[128] = "";
	const struct http_route *route = NULL;
	struct http_req r;
	int64_t t0 = time_mono_us(), dur;

	memset(&r, 0, sizeof(r));
	r.conn = conn;
	r.ri = mg_get_request_info(conn);
	r.method = r.ri->request_method;
	r.path = r.ri->local_uri ? r.ri->local_uri : "/";
	r.query = r.ri->query_string;
	r.server = s;
	make_req_id(s, &r);
	log_set_req_id(r.req_id);

	if (strlen(r.path) >= sizeof(path)) {
		http_reply_error(&r, 414, "uri_too_long",
				 "the path is too long");
		goto log;
	}
	for (size_t i = 0; i < s->nroutes; i++) {
		memcpy(path, r.path, strlen(r.path) + 1);
		if (!route_match(s->routes[i].pattern, path, &r))
			continue;
		if (strcmp(s->routes[i].method, r.method) == 0) {
			route = &s->routes[i];
			break;
		}
		allow_add(allow, sizeof(allow), s->routes[i].method);
	}
	if (route == NULL) {
		if (allow[0] != '\0') {
			http_reply_allow(&r, allow);
		} else {
			http_reply_error(&r, 404, "not_found",
					 "no such endpoint: %s %s", r.method,
					 r.path);
		}
		goto log;
	}
	route_terminate_params(&r);
	if ((route->flags & ROUTE_API) && check_api_token(s, &r) != 0)
		goto log;
	route->fn(&r, route->arg);
log:
	dur = time_mono_us() - t0;
	count_request(s, route, r.status);
	if (r.timed)
		metric_observe_us((enum metric_id)r.latency_metric,
				  r.latency_series, dur);
	log_msg(LOG_INFO, "http",
		"method=%s path=%s status=%d bytes=%lld dur_us=%lld%s%s",
		r.method,
		route && (route->flags & ROUTE_SECRET_PATH) ? route->pattern
							    : r.path,
		r.status, r.sent, (long long)dur, r.note[0] ? " note=" : "",
		r.note);
	log_set_req_id(NULL);
	return r.status > 0 ? r.status : 500;
}

/* "" for NULL. */
static const char *
str_or_empty(const char *v)
{
	return v != NULL ? v : "";
}

/*
 * CivetWeb's listening_ports: the plain address, then the HTTPS one with
 * CivetWeb's "s" suffix.
 */
static void
listening_ports(const struct http_opts *o, char *out, size_t n)
{
	const char *plain = str_or_empty(o->listen);
	const char *tls = str_or_empty(o->tls_listen);

	snprintf(out, n, "%s%s%s%s", plain, plain[0] && tls[0] ? "," : "", tls,
		 tls[0] ? "s" : "");
}

/*
 * The options given to CivetWeb. request_timeout_ms bounds the time a
 * client has to send its request line and headers, each read and write
 * after that, and the TLS handshake; keep_alive_timeout_ms bounds an idle
 * kept-alive connection the same way. A worker thread serves one
 * connection at a time, so these bound how long a slow or idle client
 * can hold one.
 */
static void
civet_options(char *ports, char *threads, char *timeout, const char *options[],
	      size_t n)
{
	const char *list[] = {
	    "listening_ports",
	    ports,
	    "num_threads",
	    threads,
	    "request_timeout_ms",
	    timeout,
	    "enable_keep_alive",
	    "yes",
	    "keep_alive_timeout_ms",
	    timeout,
	    "tcp_nodelay",
	    "1",
	    "max_request_size",
	    "16384",
	    "decode_url",
	    "yes",
	    "ssl_protocol_version",
	    "4", /* TLS 1.2 and later; tls.c sets the same minimum */
	    NULL,
	};

	if (n < sizeof(list) / sizeof(list[0]))
		fatal("civet_options: no room for the options");
	memcpy(options, list, sizeof(list));
}

static struct http_server *
server_new(const struct http_opts *o, const struct http_route *routes,
	   size_t nroutes)
{
	struct http_server *s = xcalloc(1, sizeof(*s));

	s->routes = xcalloc(nroutes, sizeof(*routes));
	memcpy(s->routes, routes, nroutes * sizeof(*routes));
	s->nroutes = nroutes;
	s->requests =
	    xcalloc((nroutes + 1) * HTTP_STATUS_SPAN, sizeof(*s->requests));
	s->listen =
	    xstrdup(str_or_empty(o->listen)[0] ? o->listen
					       : str_or_empty(o->tls_listen));
	s->tls = o->tls;
	s->body_timeout_ms = o->body_timeout_ms;
	s->api_token = xstrdup(o->api_token ? o->api_token : "");
	if (random_hex(s->id_prefix, 4) != 0)
		snprintf(s->id_prefix, sizeof(s->id_prefix), "00000000");
	atomic_init(&s->next_id, 1);
	atomic_init(&s->ready, false);
	return s;
}

int
http_start(const struct http_opts *o, const struct http_route *routes,
	   size_t nroutes, struct http_server **out, struct err *e)
{
	char ports[512], threads[16], timeout[24];
	const char *options[24];
	struct mg_callbacks cb;
	struct http_server *s;
	char ebuf[256] = "";
	struct mg_init_data init;
	struct mg_error_data err;

	*out = NULL;
	listening_ports(o, ports, sizeof(ports));
	snprintf(threads, sizeof(threads), "%d", o->threads);
	snprintf(timeout, sizeof(timeout), "%lld", o->request_timeout_ms);
	civet_options(ports, threads, timeout, options,
		      sizeof(options) / sizeof(options[0]));
	s = server_new(o, routes, nroutes);

	memset(&cb, 0, sizeof(cb));
	cb.log_message = civet_log;
	cb.init_ssl = civet_init_ssl;
	cb.begin_request = civet_begin_request;
	memset(&init, 0, sizeof(init));
	init.callbacks = &cb;
	init.user_data = s;
	init.configuration_options = options;
	memset(&err, 0, sizeof(err));
	err.text = ebuf;
	err.text_buffer_size = sizeof(ebuf);
	s->ctx = mg_start2(&init, &err);
	if (s->ctx == NULL) {
		err_set(e, ERR_IO, "could not listen on \"%s\": %s", ports,
			ebuf[0] ? ebuf : "unknown error");
		http_free(s);
		return ERR_IO;
	}
	mg_set_auth_handler(s->ctx, "/", authorize_all, NULL);
	mg_set_request_handler(s->ctx, "/", dispatch, s);
	atomic_store_explicit(&s->ready, true, memory_order_release);
	*out = s;
	return 0;
}

int
http_port(const struct http_server *s)
{
	struct mg_server_port ports[4];
	int n = mg_get_server_ports(s->ctx, 4, ports);

	return n > 0 ? ports[0].port : -1;
}

/*
 * mg_stop waits for CivetWeb's master thread, which looks for the stop
 * only between poll()s of its listening socket of up to 2 s each
 * (SOCKET_TIMEOUT_QUANTUM, built into libcivetweb 1.15), so a stop would
 * take up to 2 s. While mg_stop runs, a thread of ours connects to the
 * listening port every 10 ms, which ends that poll; a connection made
 * once the stop has begun is never accepted, and one accepted just before
 * is closed at once, so its worker finds it ended. A host name in the
 * listen setting is taken for the loopback address; where that does not
 * reach the socket, the stop waits for the poll to end.
 */
struct waker {
	struct sockaddr_in addr;
	atomic_bool done;
};

#define WAKE_EVERY_MS 10

static void *
waker_main(void *arg)
{
	struct waker *w = arg;
	const struct timespec pause = {0, WAKE_EVERY_MS * 1000000L};
	const struct timeval limit = {0, 100000}; /* a connect's longest */

	while (!atomic_load(&w->done)) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd >= 0) {
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit,
				   sizeof(limit));
			(void)connect(fd, (struct sockaddr *)&w->addr,
				      sizeof(w->addr));
			close(fd);
		}
		nanosleep(&pause, NULL);
	}
	return NULL;
}

/*
 * Where to connect to reach the listening socket: the listen setting's
 * host when it is an IPv4 address (0.0.0.0 reaches the host itself), else
 * the loopback address (Debian's libcivetweb listens on IPv4 only); the
 * port actually bound. False if unknown.
 */
static bool
waker_addr(const struct http_server *s, struct waker *w)
{
	struct mg_server_port ports[1];
	char host[INET_ADDRSTRLEN] = "";
	const char *colon = strrchr(s->listen, ':');
	size_t n = colon ? (size_t)(colon - s->listen) : 0;

	if (mg_get_server_ports(s->ctx, 1, ports) < 1 || ports[0].port <= 0)
		return false;
	if (n < sizeof(host))
		memcpy(host, s->listen, n);
	memset(&w->addr, 0, sizeof(w->addr));
	if (inet_pton(AF_INET, host, &w->addr.sin_addr) != 1)
		w->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	w->addr.sin_family = AF_INET;
	w->addr.sin_port = htons((uint16_t)ports[0].port);
	return true;
}

void
http_stop(struct http_server *s)
{
	struct waker w;
	pthread_t t;
	bool waking = false;

	if (s == NULL || s->ctx == NULL)
		return;
	atomic_init(&w.done, false);
	if (waker_addr(s, &w))
		waking = pthread_create(&t, NULL, waker_main, &w) == 0;
	mg_stop(s->ctx);
	s->ctx = NULL;
	if (waking) {
		atomic_store(&w.done, true);
		pthread_join(t, NULL);
	}
}

void
http_free(struct http_server *s)
{
	if (s == NULL)
		return;
	http_stop(s);
	explicit_bzero(s->api_token, strlen(s->api_token));
	free(s->api_token);
	free(s->listen);
	free(s->routes);
	free(s->requests);
	free(s);
}

int
http_read_body(struct http_req *r, size_t max, struct buf *out)
{
	const struct http_server *s = mg_get_user_data(mg_get_context(r->conn));
	int64_t deadline = time_mono_ms() + s->body_timeout_ms;
	char chunk[16384];
	int n;

	buf_init(out, max);
	if (r->ri->content_length > 0 &&
	    (unsigned long long)r->ri->content_length > max)
		return ERR_LIMIT;
	/* mg_read undoes chunked transfer encoding. buf_append refuses (and
	 * frees the buffer) as soon as the body would pass max, so an
	 * oversized chunked body is caught with at most max bytes held. The
	 * chunk on the stack costs a copy of each byte, which capped bodies
	 * can afford. A client that trickles its body is cut at the end of
	 * the first read past the deadline. mg_read returns once it has
	 * what it asked for (the chunk, or the rest of the body), waiting
	 * up to request_timeout_ms for each packet: reading in smaller
	 * pieces would bound a trickle more tightly, but every mg_read has
	 * a fixed cost, which a body read in small pieces would pay for
	 * each. A proxy in front bounds it strictly (deploy/nginx.conf). */
	while ((n = mg_read(r->conn, chunk, sizeof(chunk))) > 0) {
		if (buf_append(out, chunk, (size_t)n) != 0)
			return ERR_LIMIT;
		if (time_mono_ms() > deadline) {
			http_note(r, "body not received in time");
			buf_free(out);
			return ERR_IO;
		}
	}
	if (n < 0) {
		buf_free(out);
		return ERR_IO;
	}
	return 0;
}

const char *
http_header(const struct http_req *r, const char *name)
{
	return mg_get_header(r->conn, name);
}

bool
http_query(const struct http_req *r, const char *name, char *out, size_t n)
{
	if (r->query == NULL)
		return false;
	return mg_get_var(r->query, strlen(r->query), name, out, n) >= 0;
}

#define JSON_TYPE "application/json; charset=utf-8"

static const char *
status_text(int status)
{
	const char *t = mg_get_response_code_text(NULL, status);

	return t ? t : "";
}

/*
 * Send the status line, headers and body with as few writes as possible:
 * one for a small response. (mg_response_header_send writes the header
 * lines one by one, and with tcp_nodelay each becomes a packet of its own.)
 */
static int
send_body(struct http_req *r, int status, const char *type, const char *body,
	  size_t len, const char *extra)
{
	char small[8192];
	bool head = strcmp(r->method, "HEAD") == 0;
	int n;

	if (extra == NULL)
		extra = "";
	n = snprintf(small, sizeof(small),
		     "HTTP/1.1 %d %s\r\n"
		     "Content-Type: %s\r\n"
		     "Content-Length: %zu\r\n"
		     "X-Request-Id: %s\r\n"
		     "Cache-Control: no-store\r\n"
		     "%s\r\n",
		     status, status_text(status), type, len, r->req_id, extra);
	if (!head && len > 0 && (size_t)n + len <= sizeof(small)) {
		memcpy(small + n, body, len);
		mg_write(r->conn, small, (size_t)n + len);
	} else {
		mg_write(r->conn, small, (size_t)n);
		if (!head && len > 0)
			mg_write(r->conn, body, len);
	}
	r->status = status;
	r->sent = (long long)len;
	return status;
}

int
http_reply_json(struct http_req *r, int status, cJSON *body)
{
	char *text = NULL;
	int rc;

	if (body != NULL && (text = cJSON_PrintUnformatted(body)) == NULL) {
		cJSON_Delete(body);
		return http_reply_error(r, 500, "internal",
					"could not encode the response");
	}
	rc = send_body(r, status, JSON_TYPE, text ? text : "",
		       text ? strlen(text) : 0, NULL);
	cJSON_free(text);
	cJSON_Delete(body);
	return rc;
}

int
http_reply_body(struct http_req *r, int status, const char *type,
		const char *body, size_t len)
{
	return send_body(r, status, type, body, len, NULL);
}

int
http_reply_text(struct http_req *r, int status, const char *json)
{
	return send_body(r, status, JSON_TYPE, json, strlen(json), NULL);
}

/*
 * The status page's files: nothing but this server's own scripts and
 * styles may run or load (no inline code, nothing from elsewhere), the
 * page may not be framed, and no address leaks to another site.
 */
#define PAGE_HEADERS                                                           \
	"Content-Security-Policy: default-src 'none'; script-src 'self';"      \
	" style-src 'self'; connect-src 'self'; img-src 'self' data:;"         \
	" frame-ancestors 'none'; base-uri 'none'; form-action 'none'\r\n"     \
	"X-Content-Type-Options: nosniff\r\n"                                  \
	"Referrer-Policy: no-referrer\r\n"                                     \
	"X-Frame-Options: DENY\r\n"

int
http_reply_page(struct http_req *r, const char *type, const void *body,
		size_t len)
{
	return send_body(r, 200, type, body, len, PAGE_HEADERS);
}

void
http_note(struct http_req *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->note, sizeof(r->note), fmt, ap);
	va_end(ap);
}

static int
reply_error(struct http_req *r, int status, const char *code, const char *msg,
	    const char *extra, const char *extra_value)
{
	cJSON *doc = cJSON_CreateObject(), *err = cJSON_CreateObject();
	char *text, line[256] = "";
	int rc;

	cJSON_AddStringToObject(err, "code", code);
	cJSON_AddStringToObject(err, "message", msg);
	cJSON_AddItemToObject(doc, "error", err);
	cJSON_AddStringToObject(doc, "request_id", r->req_id);
	if (r->note[0] == '\0')
		http_note(r, "%s", code);
	text = cJSON_PrintUnformatted(doc);
	if (extra != NULL)
		snprintf(line, sizeof(line), "%s: %s\r\n", extra, extra_value);
	rc = send_body(r, status, JSON_TYPE, text ? text : "{}",
		       text ? strlen(text) : 2, line);
	cJSON_free(text);
	cJSON_Delete(doc);
	return rc;
}

int
http_reply_error(struct http_req *r, int status, const char *code,
		 const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (status == 401)
		return reply_error(r, status, code, msg, "WWW-Authenticate",
				   "Bearer");
	return reply_error(r, status, code, msg, NULL, NULL);
}

/* 405 with the Allow header listing the methods the path accepts. */
static int
http_reply_allow(struct http_req *r, const char *allow)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "%s is not allowed here; allowed: %s",
		 r->method, allow);
	return reply_error(r, 405, "method_not_allowed", msg, "Allow", allow);
}

int
http_reply_err(struct http_req *r, int rc, const struct err *e)
{
	const char *msg = e && e->msg[0] ? e->msg : err_str(rc);

	switch (rc) {
	case ERR_INPUT:
		return http_reply_error(r, 400, "invalid_input", "%s", msg);
	case ERR_AUTH:
		return http_reply_error(r, 401, "unauthorized", "%s", msg);
	case ERR_FORBIDDEN:
		return http_reply_error(r, 403, "forbidden", "%s", msg);
	case ERR_NOTFOUND:
		return http_reply_error(r, 404, "not_found", "%s", msg);
	case ERR_CONFLICT:
		return http_reply_error(r, 409, "conflict", "%s", msg);
	case ERR_LIMIT:
		return http_reply_error(r, 413, "too_large", "%s", msg);
	case ERR_UNAVAIL:
	case ERR_DB:
		return http_reply_error(r, 503, "unavailable", "%s", msg);
	case ERR_REMOTE:
	case ERR_NET:
		return http_reply_error(r, 502, "upstream", "%s", msg);
	default:
		return http_reply_error(r, 500, "internal", "%s", msg);
	}
}

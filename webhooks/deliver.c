/*
 * deliver.c: the delivery workers.
 *
 * Each thread claims a batch of one subscription's messages from the outbox
 * (store_webhook_claim: the oldest due, each subject's messages in order,
 * at most max_in_flight threads per subscription, FOR UPDATE SKIP LOCKED
 * and a lease, so that the threads of every instance share the work),
 * POSTs them one after another with the Standard Webhooks headers over one
 * kept-alive connection, and records the attempts in one statement. While
 * callbacks wait for the database, a thread pauses after each batch so as
 * to work busy_share percent of the time. A 2xx is
 * delivered; anything else, a timeout or a refused connection is tried
 * again after the schedule's next delay, and once the schedule is used up
 * the message is failed (it stays, and can be sent again). A worker that
 * dies mid-delivery leaves its lease to expire; the message is then sent
 * again: delivery is at least once, and the receiver drops a duplicate by
 * its webhook-id.
 *
 * The request: no redirect followed, no proxy, the subscription's rules on
 * every address connected to (as URL sources), a total timeout, and at
 * most RESPONSE_MAX bytes of the answer read (the first RESPONSE_KEEP kept
 * with the attempt).
 *
 * Interface: webhook_service_start, webhook_service_stop,
 * webhook_service_free.
 */
#include "webhooks/webhooks.h"

#include "common/metrics.h"
#include "common/thread.h"
#include "upload/upload.h"

#include <curl/curl.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define RESPONSE_MAX  (64 * 1024)
#define RESPONSE_KEEP 1024
/* A lease outlives the longest attempt by this much ... */
#define LEASE_MARGIN_S 10
/* ... and a batch starts its next attempt only while its lease outlives
 * that attempt's longest by this much. */
#define LEASE_SPARE_MS 2000

struct worker {
	struct webhook_service *svc;
	struct vh_thread thread;
	char owner[48];
	/* Kept from one delivery to the next for its connections: a receiver
	 * is sent one message after another over one kept-alive connection
	 * rather than a new one (and TLS handshake) each. */
	CURL *curl;
};

struct webhook_service {
	struct webhook_service_opts o;
	struct worker *workers;
	int n;
};

/* One attempt's request and answer. */
struct attempt {
	const struct webhook_url_opts *url;
	struct buf response; /* the first RESPONSE_KEEP bytes */
	size_t read;	     /* bytes of the answer read */
	bool refused;	     /* the address was refused */
	char refusal[160];
	struct vh_stop *stop; /* the worker's: an attempt ends on stop */
	bool stopped;	      /* it did */
};

/*
 * libcurl's progress callback, called while a transfer waits too: ending
 * the attempt when vodhook stops, rather than at webhook_timeout_ms, keeps
 * a stop prompt with a slow receiver.
 */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
	    curl_off_t ulnow)
{
	struct attempt *a = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (a->stop == NULL || !vh_stop_requested(a->stop))
		return 0;
	a->stopped = true;
	return 1;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct attempt *a = arg;
	size_t len = size * n;

	if (a->read + len > RESPONSE_MAX)
		return 0; /* enough: the status is what counts */
	a->read += len;
	if (a->response.len < RESPONSE_KEEP &&
	    buf_append(&a->response, p,
		       len < RESPONSE_KEEP - a->response.len
			   ? len
			   : RESPONSE_KEEP - a->response.len) != 0)
		return 0;
	return len;
}

/*
 * The answer's start as kept with the attempt: printable ASCII, every other
 * byte a '?', so that a receiver's binary or malformed answer can neither
 * cut the text (a NUL) nor make PostgreSQL refuse it (invalid UTF-8) and
 * with it the record of the attempt.
 */
static void
printable(struct buf *b)
{
	for (size_t i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->ptr[i];

		if ((c < 0x20 && c != '\n' && c != '\t') || c >= 0x7f)
			b->ptr[i] = '?';
	}
}

/* Every connection goes only to an address the subscription may reach. */
static curl_socket_t
open_checked(void *arg, curlsocktype purpose, struct curl_sockaddr *ca)
{
	struct attempt *a = arg;
	struct sockaddr_storage ss;
	const char *range = NULL;

	(void)purpose;
	if (ca->addrlen > sizeof(ss))
		return CURL_SOCKET_BAD;
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, &ca->addr, ca->addrlen);
	if (upload_addr_allowed((const struct sockaddr *)&ss,
				a->url->allow_private, &range))
		return socket(ca->family, ca->socktype | SOCK_CLOEXEC,
			      ca->protocol);
	a->refused = true;
	snprintf(a->refusal, sizeof(a->refusal),
		 "refused: the url leads to %s (webhook_allow_private_urls)",
		 range != NULL ? range : "an address webhooks may not reach");
	return CURL_SOCKET_BAD;
}

/* The headers of message m sent at ts; NULL when a secret is unusable. */
static struct curl_slist *
headers(const struct store_webhook_msg *m, int64_t ts)
{
	struct curl_slist *h = NULL;
	char line[160];
	struct buf sig;

	buf_init(&sig, 4096);
	snprintf(line, sizeof(line), "msg_%lld", (long long)m->id);
	if (buf_puts(&sig, "webhook-signature: ") != 0 ||
	    webhook_sign(m->secret, m->old_secret, line, ts, m->body,
			 strlen(m->body), &sig) != 0) {
		buf_free(&sig);
		return NULL;
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	snprintf(line, sizeof(line), "webhook-id: msg_%lld", (long long)m->id);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "webhook-timestamp: %lld", (long long)ts);
	h = curl_slist_append(h, line);
	h = curl_slist_append(h, buf_cstr(&sig));
	h = curl_slist_append(h, "Expect:");
	OPENSSL_cleanse(sig.ptr, sig.cap);
	buf_free(&sig);
	if (h == NULL)
		fatal("out of memory");
	return h;
}

/*
 * POST m with c; *status is the HTTP status (0 when none came). 0 when it
 * was a 2xx; otherwise ERR_* with why in err.
 */
static int
post(const struct webhook_service_opts *o, CURL *c,
     const struct store_webhook_msg *m, struct attempt *a, long *status,
     char *err, size_t errn)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *h;
	CURLcode cc;

	*status = 0;
	if ((h = headers(m, time_unix())) == NULL) {
		snprintf(err, errn, "the signing secret is not usable");
		return ERR_INTERNAL;
	}
	/* Every option again; the connections stay open for the next. */
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, m->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
			 o->url.allow_http ? "http,https" : "https");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, m->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)strlen(m->body));
	curl_easy_setopt(c, CURLOPT_USERAGENT, "vodhook-webhooks");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOPROXY, "");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)o->timeout_ms);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_checked);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, a);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, a);
	if (o->ca_file != NULL && o->ca_file[0] != '\0')
		curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL); /* errbuf's life ends */
	curl_slist_free_all(h);
	if (a->refused) {
		snprintf(err, errn, "%s", a->refusal);
		return ERR_FORBIDDEN;
	}
	if (a->stopped) {
		snprintf(err, errn, "vodhook stopped during the attempt");
		return ERR_NET;
	}
	if (*status >= 200 && *status < 300 &&
	    (cc == CURLE_OK || cc == CURLE_WRITE_ERROR))
		return 0;
	if (*status != 0)
		snprintf(err, errn, "HTTP status %ld", *status);
	else
		snprintf(err, errn, "%s",
			 errbuf[0] ? errbuf : curl_easy_strerror(cc));
	return ERR_NET;
}

/* A uniform draw in [0, 1) for the jitter. */
static double
draw(void)
{
	uint32_t v = 0;

	if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
		return 0.5;
	return (double)v / 4294967296.0;
}

/* One message's attempt: its outcome, and what the outcome points to. */
struct outcome {
	struct store_webhook_result r;
	struct buf response; /* the answer's start, kept with the attempt */
	char why[256];	     /* the error, when not delivered */
};

/* Send the claimed message m; out says how it went. */
static void
attempt(struct worker *w, const struct store_webhook_msg *m,
	struct outcome *out)
{
	const struct webhook_service_opts *o = &w->svc->o;
	struct attempt a = {.url = &o->url, .stop = &w->thread.stop};
	struct store_webhook_result *r = &out->r;
	int64_t t0 = time_mono_ms();
	long status = 0;

	buf_init(&a.response, RESPONSE_KEEP);
	r->tried = true;
	r->started_ms = time_unix_ms();
	r->ok =
	    post(o, w->curl, m, &a, &status, out->why, sizeof(out->why)) == 0;
	r->duration_ms = (int)(time_mono_ms() - t0);
	r->status = (int)status;
	r->error = r->ok ? NULL : out->why;
	printable(&a.response);
	out->response = a.response;
	r->response = a.response.len > 0 ? buf_cstr(&out->response) : NULL;
	/* An attempt that a stop ended is due again at once, for whichever
	 * process runs: the receiver is not to blame. */
	r->retry_ms =
	    r->ok || a.stopped
		? 0
		: webhook_schedule_delay(&o->schedule, m->attempts, draw());
}

/* The metrics and log line of an attempt recorded. */
static void
report(const struct store_webhook_msg *m, const struct store_webhook_result *r)
{
	if (r->ok) {
		metric_add(METRIC_WEBHOOK_DELIVERED, 1);
		metric_observe_us(METRIC_WEBHOOK_LATENCY, 0,
				  (time_unix_ms() - m->created_ms) * 1000);
	} else if (r->retry_ms >= 0) {
		metric_add(METRIC_WEBHOOK_RETRIED, 1);
		log_msg(LOG_INFO, "webhooks",
			"msg_%lld to webhook %s: attempt %d failed: %s; "
			"next in %lld ms",
			(long long)m->id, m->subscription, m->attempts,
			r->error, (long long)r->retry_ms);
	} else {
		metric_add(METRIC_WEBHOOK_FAILED, 1);
		log_msg(LOG_WARN, "webhooks",
			"msg_%lld to webhook %s failed after %d attempts: %s",
			(long long)m->id, m->subscription, m->attempts,
			r->error);
	}
}

/* Whether a batch claimed at t0 may send one more message: vodhook is not
 * stopping, and the lease outlasts that attempt's longest. */
static bool
may_send_more(struct worker *w, int64_t t0, int64_t lease_ms)
{
	return !vh_stop_requested(&w->thread.stop) &&
	       time_mono_ms() - t0 + w->svc->o.timeout_ms + LEASE_SPARE_MS <=
		   lease_ms;
}

/*
 * Send the claimed batch m[n] (one subscription's), one message after
 * another over the worker's connection, and record the outcomes in one
 * statement. The batch ends early, the rest left untried and due as they
 * were, at the first failure (the next claim then tries the receiver with
 * the rest one by one), when vodhook stops, or when the lease (lease_ms
 * from t0) could run out during the next attempt.
 */
static void
deliver(struct worker *w, const struct store_webhook_msg *m, int n, int64_t t0,
	int64_t lease_ms)
{
	const struct webhook_service_opts *o = &w->svc->o;
	struct outcome *out = xcalloc((size_t)n, sizeof(*out));
	struct store_webhook_result *r = xcalloc((size_t)n, sizeof(*r));
	bool go = true, disabled = false;
	struct err e;

	for (int i = 0; i < n; i++) {
		out[i].r.id = m[i].id;
		go = go && (i == 0 || may_send_more(w, t0, lease_ms));
		if (go) {
			attempt(w, &m[i], &out[i]);
			go = out[i].r.ok;
		}
		r[i] = out[i].r;
	}
	err_clear(&e);
	if (store_webhook_finish(o->pool, w->owner, r, n, o->disable_after_s,
				 &disabled, &e) != 0)
		log_msg(LOG_WARN, "webhooks",
			"could not record the attempts of msg_%lld and the "
			"%d after it: %s (they are sent again once their lease "
			"ends)",
			(long long)m[0].id, n - 1, e.msg);
	for (int i = 0; i < n; i++) {
		if (r[i].tried)
			report(&m[i], &r[i]);
		buf_free(&out[i].response);
	}
	if (disabled)
		log_msg(LOG_WARN, "webhooks",
			"webhook %s disabled: every delivery failed for "
			"%lld seconds",
			m[0].subscription, (long long)o->disable_after_s);
	free(r);
	free(out);
}

/* The pause after a batch that took took_us: none unless callbacks are
 * waiting for the database. */
static int64_t
pause_ms(const struct webhook_service_opts *o, int64_t took_us)
{
	if (o->busy == NULL || o->busy_share >= 100 || !o->busy(o->busy_arg))
		return 0;
	return webhook_busy_pause_ms(o->busy_share, took_us);
}

/*
 * Wait, idle, for the next claim: until o->wake moves past seen, when
 * listen, or else poll_ms. True when the thread is to stop; *woken tells
 * whether the wake ended the wait.
 */
static bool
idle(struct worker *w, uint64_t seen, bool listen, bool *woken)
{
	const struct webhook_service_opts *o = &w->svc->o;

	*woken = false;
	if (!listen || o->wake == NULL)
		return vh_stop_sleep(&w->thread.stop, o->poll_ms);
	*woken = vh_signal_wait(o->wake, seen, o->poll_ms);
	return vh_stop_requested(&w->thread.stop);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	const struct webhook_service_opts *o = &w->svc->o;
	int lease = (int)(o->timeout_ms / 1000) + LEASE_MARGIN_S;
	bool woken = false;

	if ((w->curl = curl_easy_init()) == NULL)
		fatal("out of memory");
	for (;;) {
		struct store_webhook_msg *m = NULL;
		int64_t t0 = time_mono_us(), pause;
		uint64_t seen = o->wake != NULL ? vh_signal_gen(o->wake) : 0;
		int n = 0;
		struct err e;

		if (vh_stop_requested(&w->thread.stop))
			break;
		err_clear(&e);
		if (store_webhook_claim(o->pool, w->owner, lease,
					o->max_in_flight, o->batch, &m, &n,
					&e) != 0)
			log_msg(LOG_WARN, "webhooks",
				"could not claim messages: %s", e.msg);
		if (n == 0) {
			/* A wake that found nothing (no subscription, or a
			 * filter that selects few changes) makes the next
			 * wait a poll, so that busy callbacks cost one more
			 * claim per poll at most. */
			if (idle(w, seen, !woken, &woken))
				break;
			continue;
		}
		woken = false;
		deliver(w, m, n, t0 / 1000, (int64_t)lease * 1000);
		store_webhook_msgs_free(m, n);
		pause = pause_ms(o, time_mono_us() - t0);
		if (pause > 0 && vh_stop_sleep(&w->thread.stop, pause))
			break;
	}
	curl_easy_cleanup(w->curl);
	w->curl = NULL;
	return NULL;
}

void
webhook_service_start(const struct webhook_service_opts *o,
		      struct webhook_service **out)
{
	struct webhook_service *s;
	char tag[17];

	*out = NULL;
	if (o->workers <= 0)
		return;
	s = xcalloc(1, sizeof(*s));
	s->o = *o;
	s->n = o->workers;
	s->workers = xcalloc((size_t)s->n, sizeof(*s->workers));
	if (random_hex(tag, 8) != 0)
		fatal("could not draw random bytes");
	for (int i = 0; i < s->n; i++) {
		struct worker *w = &s->workers[i];

		w->svc = s;
		snprintf(w->owner, sizeof(w->owner), "webhooks-%s-%d", tag, i);
		vh_thread_start(&w->thread, "webhooks", worker_main, w);
	}
	log_msg(LOG_INFO, "webhooks",
		"%d delivery workers, at most %d deliveries per subscription "
		"at once",
		s->n, o->max_in_flight);
	*out = s;
}

void
webhook_service_stop(struct webhook_service *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < s->n; i++)
		vh_stop_request(&s->workers[i].thread.stop);
	if (s->o.wake != NULL)
		vh_signal_raise(s->o.wake); /* those waiting on it */
	for (int i = 0; i < s->n; i++)
		vh_thread_stop(&s->workers[i].thread);
}

void
webhook_service_free(struct webhook_service *s)
{
	if (s == NULL)
		return;
	webhook_service_stop(s);
	free(s->workers);
	free(s);
}

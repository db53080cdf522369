/*
 * deliver.c: the delivery workers.
 *
 * Each thread claims one message at a time from the outbox
 * (store_webhook_claim: the oldest due, each subject's messages in order,
 * at most max_in_flight per subscription, FOR UPDATE SKIP LOCKED and a
 * lease, so that the threads of every instance share the work), POSTs it
 * with the Standard Webhooks headers, and records the attempt. A 2xx is
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
/* A lease outlives the longest attempt by this much. */
#define LEASE_MARGIN_S 10

struct worker {
	struct webhook_service *svc;
	struct vh_thread thread;
	char owner[48];
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
 * POST m; *status is the HTTP status (0 when none came). 0 when it was a
 * 2xx; otherwise ERR_* with why in err.
 */
static int
post(const struct webhook_service_opts *o, const struct store_webhook_msg *m,
     struct attempt *a, long *status, char *err, size_t errn)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *h;
	CURL *c;
	CURLcode cc;

	*status = 0;
	if ((h = headers(m, time_unix())) == NULL) {
		snprintf(err, errn, "the signing secret is not usable");
		return ERR_INTERNAL;
	}
	if ((c = curl_easy_init()) == NULL)
		fatal("out of memory");
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
	curl_easy_cleanup(c);
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

/* Send the claimed message m and record how it went. */
static void
deliver(struct worker *w, struct store_webhook_msg *m)
{
	const struct webhook_service_opts *o = &w->svc->o;
	struct attempt a = {.url = &o->url, .stop = &w->thread.stop};
	struct store_webhook_result r = {.id = m->id, .owner = w->owner};
	int64_t t0 = time_mono_ms();
	char why[256] = "";
	bool disabled = false;
	long status = 0;
	struct err e;

	buf_init(&a.response, RESPONSE_KEEP);
	r.started_ms = time_unix_ms();
	r.ok = post(o, m, &a, &status, why, sizeof(why)) == 0;
	r.duration_ms = (int)(time_mono_ms() - t0);
	r.status = (int)status;
	r.error = r.ok ? NULL : why;
	printable(&a.response);
	r.response = a.response.len > 0 ? buf_cstr(&a.response) : NULL;
	/* An attempt that a stop ended is due again at once, for whichever
	 * process runs: the receiver is not to blame. */
	r.retry_ms =
	    r.ok || a.stopped
		? 0
		: webhook_schedule_delay(&o->schedule, m->attempts, draw());
	r.disable_after_s = o->disable_after_s;
	err_clear(&e);
	if (store_webhook_finish(o->pool, &r, &disabled, &e) != 0)
		log_msg(LOG_WARN, "webhooks",
			"could not record the attempt of msg_%lld: %s "
			"(it is sent again once its lease ends)",
			(long long)m->id, e.msg);
	if (r.ok) {
		metric_add(METRIC_WEBHOOK_DELIVERED, 1);
		metric_observe_us(METRIC_WEBHOOK_LATENCY, 0,
				  (time_unix_ms() - m->created_ms) * 1000);
	} else if (r.retry_ms >= 0) {
		metric_add(METRIC_WEBHOOK_RETRIED, 1);
		log_msg(LOG_INFO, "webhooks",
			"msg_%lld to webhook %s: attempt %d failed: %s; "
			"next in %lld ms",
			(long long)m->id, m->subscription, m->attempts, why,
			(long long)r.retry_ms);
	} else {
		metric_add(METRIC_WEBHOOK_FAILED, 1);
		log_msg(LOG_WARN, "webhooks",
			"msg_%lld to webhook %s failed after %d attempts: %s",
			(long long)m->id, m->subscription, m->attempts, why);
	}
	if (disabled)
		log_msg(LOG_WARN, "webhooks",
			"webhook %s disabled: every delivery failed for "
			"%lld seconds",
			m->subscription, (long long)o->disable_after_s);
	buf_free(&a.response);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	const struct webhook_service_opts *o = &w->svc->o;
	int lease = (int)(o->timeout_ms / 1000) + LEASE_MARGIN_S;

	for (;;) {
		struct store_webhook_msg m;
		bool found = false;
		struct err e;

		if (vh_stop_requested(&w->thread.stop))
			break;
		err_clear(&e);
		if (store_webhook_claim(o->pool, w->owner, lease,
					o->max_in_flight, &m, &found, &e) != 0)
			log_msg(LOG_WARN, "webhooks",
				"could not claim a message: %s", e.msg);
		if (!found) {
			if (vh_stop_sleep(&w->thread.stop, o->poll_ms))
				break;
			continue;
		}
		deliver(w, &m);
		store_webhook_msg_cleanup(&m);
	}
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

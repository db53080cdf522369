/*
 * stream.c: GET /v1/stream, the changes of media and uploads as
 * Server-Sent Events, and the hub that fans the changes PostgreSQL
 * publishes (store_listener) out to the open streams.
 *
 * A stream holds its CivetWeb worker thread for its lifetime, so their
 * number is capped (stream_max, 503 beyond). Each stream has a bounded
 * queue: the listener's thread only appends to the queues (it never
 * writes to a socket), and a stream whose client reads too slowly to keep
 * up falls STREAM_QUEUE_MAX events behind and is dropped, instead of being
 * buffered without bound. A write that cannot progress within
 * request_timeout_ms fails (CivetWeb's sockets are nonblocking and
 * mg_write gives up when a poll for POLLOUT has waited that long; it also
 * returns at once when the server stops), and the stream ends.
 *
 * The body is chunked, so that a stream the server ends is complete to the
 * client at once. On connecting, and again each time the listener listens
 * afresh after losing its connection, a stream sends the current state of
 * what its filter names (store_changes_snapshot) then "event: synced":
 * the queue is emptied first, so that nothing older than the snapshot
 * follows it, and changes made while no one listened reach the client
 * through the snapshot. The snapshot waits until LISTEN is in effect, so
 * that no change falls between the two.
 *
 * The listener listens only while a stream is open: the first stream
 * wakes it, and it stops once it finds none (keep), since listening costs
 * every transaction that notifies.
 *
 * Interface: stream_hub_start, stream_hub_close, stream_hub_free,
 * handle_stream.
 */
#include "server/stream.h"

#include "common/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Events a stream may fall behind before it is dropped. */
#define STREAM_QUEUE_MAX 1024
/* Events taken from the queue at once, written without the lock. */
#define STREAM_BATCH 64
/* A snapshot's frames: at most STORE_SNAPSHOT_MAX of each kind, each
 * under 8000 bytes. */
#define SNAPSHOT_BYTES_MAX (2u * STORE_SNAPSHOT_MAX * 8200u)
/* After a snapshot the database could not give, try again after this. */
#define SNAPSHOT_RETRY_MS 1000

/* One change, framed once and shared by the queues it is in. */
struct msg {
	atomic_int refs;
	size_t len;
	char text[]; /* the chunk: size line, SSE frame, CRLF */
};

struct stream {
	struct stream *next;
	struct stream_filter f;
	struct msg *q[STREAM_QUEUE_MAX];
	size_t head, n;
	bool overflow; /* fell STREAM_QUEUE_MAX behind */
	bool resync;   /* send a snapshot, then synced */
};

struct stream_hub {
	struct stream_hub_opts o;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* broadcast on a change, a resync, closing */
	struct stream *list;
	int open;
	bool closing;
	bool listening; /* LISTEN in effect: a snapshot may be read */
	struct store_listener *listener;
};

static void
msg_unref(struct msg *m)
{
	if (m != NULL && atomic_fetch_sub(&m->refs, 1) == 1)
		free(m);
}

/* Frame data as one chunk of the chunked body. NULL when it cannot be
 * framed (a line break in it). */
static struct msg *
msg_new(const char *event, const char *data)
{
	struct buf frame;
	struct msg *m = NULL;
	int n;

	buf_init(&frame, 16384);
	if (sse_frame(&frame, event, data) == 0) {
		size_t cap = frame.len + 32;

		m = xmalloc(sizeof(*m) + cap);
		atomic_init(&m->refs, 1);
		n = snprintf(m->text, cap, "%zx\r\n%s\r\n", frame.len,
			     buf_cstr(&frame));
		m->len = (size_t)n;
	}
	buf_free(&frame);
	return m;
}

/* Empty s's queue (under the hub's lock). */
static void
queue_clear(struct stream *s)
{
	for (; s->n > 0; s->n--) {
		msg_unref(s->q[s->head]);
		s->head = (s->head + 1) % STREAM_QUEUE_MAX;
	}
}

/* The listener's thread: a change, queued to every stream it passes. */
static void
on_notify(const char *payload, void *arg)
{
	struct stream_hub *h = arg;
	struct stream_change c;
	struct msg *m;

	if (stream_change_parse(payload, &c) != 0 ||
	    (m = msg_new(c.kind, payload)) == NULL) {
		log_msg(LOG_WARN, "stream", "ignored a malformed change");
		return;
	}
	pthread_mutex_lock(&h->mu);
	for (struct stream *s = h->list; s != NULL; s = s->next) {
		if (s->resync || s->overflow || !stream_filter_match(&s->f, &c))
			continue;
		if (s->n == STREAM_QUEUE_MAX) {
			s->overflow = true;
			continue;
		}
		atomic_fetch_add(&m->refs, 1);
		s->q[(s->head + s->n++) % STREAM_QUEUE_MAX] = m;
	}
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	msg_unref(m);
}

/* The listener listens (again): every stream reads the state afresh. */
static void
on_listen(void *arg)
{
	struct stream_hub *h = arg;

	pthread_mutex_lock(&h->mu);
	h->listening = true;
	for (struct stream *s = h->list; s != NULL; s = s->next)
		s->resync = true;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

/* The listener lost its connection: a stream that opens now waits for
 * on_listen before its snapshot. */
static void
on_lost(void *arg)
{
	struct stream_hub *h = arg;

	pthread_mutex_lock(&h->mu);
	h->listening = false;
	pthread_mutex_unlock(&h->mu);
}

/* Listen while a stream is open; decided under the lock that hub_enter
 * takes, so that a stream entering after a no wakes the listener. */
static bool
keep(void *arg)
{
	struct stream_hub *h = arg;
	bool k;

	pthread_mutex_lock(&h->mu);
	k = h->open > 0 && !h->closing;
	if (!k)
		h->listening = false;
	pthread_mutex_unlock(&h->mu);
	return k;
}

int
stream_hub_start(const struct stream_hub_opts *o, struct stream_hub **out,
		 struct err *e)
{
	struct store_listener_opts lo = {
	    .conninfo = o->conninfo,
	    .connect_timeout_s = o->connect_timeout_s,
	    .timeout_ms = o->timeout_ms,
	    .keep = keep,
	    .on_listen = on_listen,
	    .on_lost = on_lost,
	    .on_notify = on_notify,
	};
	struct stream_hub *h = xcalloc(1, sizeof(*h));
	int rc;

	*out = NULL;
	h->o = *o;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	lo.arg = h;
	if ((rc = store_listener_start(&lo, &h->listener, e)) != 0) {
		stream_hub_free(h);
		return rc;
	}
	*out = h;
	return 0;
}

void
stream_hub_close(struct stream_hub *h)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->mu);
	h->closing = true;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

void
stream_hub_free(struct stream_hub *h)
{
	if (h == NULL)
		return;
	stream_hub_close(h);
	store_listener_free(h->listener); /* no on_notify after this */
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

/* ------------------------------------------------------------ a stream */

/* What a stream's handler keeps while it runs. */
struct stream_run {
	struct stream_hub *h;
	struct stream *s;
	struct http_req *r;
	struct buf snap; /* the snapshot's chunks */
	size_t nsnap;	 /* and how many */
	int64_t write_timeout_ms;
	bool stalled;	/* a write failed after waiting for the client */
	bool said_fail; /* a failed snapshot was logged: not every retry */
};

/* Write len bytes: 0, or -1 (the client went away or did not read). */
static int
put(struct stream_run *run, const char *p, size_t len)
{
	int64_t t0 = time_mono_ms();

	if (mg_write(run->r->conn, p, len) == (int)len) {
		run->r->sent += (long long)len;
		return 0;
	}
	run->stalled = time_mono_ms() - t0 >= run->write_timeout_ms;
	return -1;
}

/* store_changes_snapshot's callback: one chunk per record. */
static void
snapshot_row(const char *kind, const char *payload, void *arg)
{
	struct stream_run *run = arg;
	struct msg *m = msg_new(kind, payload);

	/* SNAPSHOT_BYTES_MAX holds the most rows a snapshot returns. */
	if (m != NULL && buf_append(&run->snap, m->text, m->len) == 0)
		run->nsnap++;
	msg_unref(m);
}

/*
 * Send the current state, then synced. 0; 1 when the database could not
 * give it (try again later); -1 when the client is gone.
 */
static int
send_snapshot(struct stream_run *run)
{
	struct change_filter cf;
	struct msg *synced;
	struct err e;
	int rc = 0;

	stream_filter_store(&run->s->f, &cf);
	buf_reset(&run->snap);
	run->nsnap = 0;
	err_clear(&e);
	if (store_changes_snapshot(run->h->o.pool, &cf, snapshot_row, run,
				   &e) != 0) {
		if (!run->said_fail)
			log_msg(LOG_WARN, "stream",
				"could not read the current state: %s; trying "
				"again every %d ms",
				e.msg, SNAPSHOT_RETRY_MS);
		run->said_fail = true;
		return 1;
	}
	run->said_fail = false;
	synced = msg_new("synced", "{}");
	if (put(run, buf_cstr(&run->snap), run->snap.len) != 0 ||
	    put(run, synced->text, synced->len) != 0)
		rc = -1;
	else
		metric_add(METRIC_STREAM_EVENTS_SENT, (int64_t)run->nsnap + 1);
	msg_unref(synced);
	return rc;
}

/*
 * Wait for something to do, under the lock: a resync due, events queued,
 * an overflow, closing, or the next heartbeat. Takes up to STREAM_BATCH
 * events into batch (*nb) or sets *resync. NULL to go on, else why the
 * stream ends.
 */
static const char *
wait_work(struct stream_run *run, int64_t next_ping, int64_t retry_at,
	  struct msg **batch, size_t *nb, bool *resync)
{
	struct stream_hub *h = run->h;
	struct stream *s = run->s;
	const char *why = NULL;

	*nb = 0;
	*resync = false;
	pthread_mutex_lock(&h->mu);
	for (;;) {
		int64_t now = time_mono_ms(), until = next_ping;

		if (h->closing) {
			why = "server stopping";
			break;
		}
		if (s->overflow) {
			run->stalled = true;
			why = "client fell behind";
			break;
		}
		if (s->resync && h->listening && now >= retry_at) {
			s->resync = false;
			queue_clear(s);
			*resync = true;
			break;
		}
		if (s->n > 0 || now >= next_ping)
			break;
		if (s->resync && h->listening && retry_at < until)
			until = retry_at;
		struct timespec ts = time_after_ms(until - now);
		pthread_cond_timedwait(&h->cv, &h->mu, &ts);
	}
	while (why == NULL && !*resync && s->n > 0 && *nb < STREAM_BATCH) {
		batch[(*nb)++] = s->q[s->head];
		s->head = (s->head + 1) % STREAM_QUEUE_MAX;
		s->n--;
	}
	pthread_mutex_unlock(&h->mu);
	return why;
}

/* Write the events of batch, releasing them all. 0 or -1. */
static int
send_batch(struct stream_run *run, struct msg **batch, size_t nb)
{
	int rc = 0;

	for (size_t i = 0; i < nb; i++) {
		if (rc == 0 && put(run, batch[i]->text, batch[i]->len) == 0)
			metric_add(METRIC_STREAM_EVENTS_SENT, 1);
		else
			rc = -1;
		msg_unref(batch[i]);
	}
	return rc;
}

/* Why a stream ended when its client stopped reading: the one reason after
 * which nothing more is written (compared by address). */
static const char GONE[] = "client gone or not reading";

/* Serve the stream until it ends; why it ended. */
static const char *
stream_loop(struct stream_run *run)
{
	static const char ping[] = "8\r\n: ping\n\n\r\n";
	int64_t hb = run->h->o.heartbeat_ms;
	int64_t next_ping = time_mono_ms() + hb, retry_at = 0;
	struct msg *batch[STREAM_BATCH];

	for (;;) {
		const char *why;
		bool resync;
		size_t nb;
		int rc;

		why = wait_work(run, next_ping, retry_at, batch, &nb, &resync);
		if (why != NULL)
			return why;
		if (resync) {
			rc = send_snapshot(run);
			if (rc < 0)
				return GONE;
			if (rc > 0) {
				pthread_mutex_lock(&run->h->mu);
				run->s->resync = true;
				pthread_mutex_unlock(&run->h->mu);
				retry_at = time_mono_ms() + SNAPSHOT_RETRY_MS;
			}
		}
		if (send_batch(run, batch, nb) != 0)
			return GONE;
		if (time_mono_ms() >= next_ping) {
			if (put(run, ping, sizeof(ping) - 1) != 0)
				return GONE;
			next_ping = time_mono_ms() + hb;
		}
	}
}

/* Read the filter from the query: 0, or 400 sent. */
static int
read_filter(struct http_req *r, struct stream_filter *f)
{
	static const char *const names[] = {"provider", "file_id", "upload_id",
					    "kind"};
	char v[STREAM_ID_MAX + 2];
	struct err e;

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int n = r->query ? mg_get_var(r->query, strlen(r->query),
					      names[i], v, sizeof(v))
				 : -1;

		if (n == -1)
			continue;
		err_clear(&e);
		if (n < 0 || stream_filter_set(f, names[i], v, &e) != 0)
			return http_reply_error(
			    r, 400, "invalid_input", "%s",
			    n < 0 ? "file_id must be 1 to 128 printable "
				    "characters without blanks"
				  : e.msg);
	}
	return 0;
}

/* Add a stream to the hub, waking the listener when it does not listen:
 * false when closing or full. */
static bool
hub_enter(struct stream_hub *h, struct stream *s)
{
	bool ok, wake;

	pthread_mutex_lock(&h->mu);
	ok = !h->closing && h->open < h->o.max;
	if (ok) {
		s->next = h->list;
		h->list = s;
		h->open++;
	}
	wake = ok && !h->listening;
	pthread_mutex_unlock(&h->mu);
	if (wake)
		store_listener_wake(h->listener);
	return ok;
}

/* Remove a stream; the last one lets the listener stop. */
static void
hub_leave(struct stream_hub *h, struct stream *s)
{
	bool last;

	pthread_mutex_lock(&h->mu);
	for (struct stream **p = &h->list; *p != NULL; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	last = --h->open == 0;
	queue_clear(s);
	pthread_mutex_unlock(&h->mu);
	if (last)
		store_listener_wake(h->listener);
}

int
handle_stream(struct http_req *r, void *arg)
{
	static const char end[] = "0\r\n\r\n";
	struct stream_run run = {.h = arg, .r = r};
	struct stream *s;
	const char *why;
	char head[512];
	int n;

	s = xcalloc(1, sizeof(*s));
	if (read_filter(r, &s->f) != 0) {
		free(s);
		return r->status;
	}
	s->resync = true;
	if (!hub_enter(run.h, s)) {
		free(s);
		http_note(r, "stream_max (%d) streams open", run.h->o.max);
		return http_reply_error(r, 503, "unavailable",
					"too many streams open (stream_max = "
					"%d), or the server is stopping",
					run.h->o.max);
	}
	metric_add(METRIC_STREAMS_OPEN, 1);
	run.s = s;
	run.write_timeout_ms = run.h->o.write_timeout_ms;
	buf_init(&run.snap, SNAPSHOT_BYTES_MAX);
	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 200 OK\r\n"
		     "Content-Type: text/event-stream\r\n"
		     "Transfer-Encoding: chunked\r\n"
		     "Cache-Control: no-store\r\n"
		     "X-Accel-Buffering: no\r\n"
		     "X-Request-Id: %s\r\n\r\n",
		     r->req_id);
	r->status = 200;
	why =
	    mg_write(r->conn, head, (size_t)n) == n ? stream_loop(&run) : GONE;
	if (!run.stalled && why != GONE)
		(void)put(&run, end, sizeof(end) - 1);
	hub_leave(run.h, s);
	metric_add(METRIC_STREAMS_OPEN, -1);
	if (run.stalled)
		metric_add(METRIC_STREAMS_DROPPED, 1);
	http_note(r, "stream ended: %s", run.stalled ? "dropped" : why);
	buf_free(&run.snap);
	free(s);
	return 200;
}

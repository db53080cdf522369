/*
 * ingest.c: group commit of event notifications, with the spool as the
 * fallback when PostgreSQL is unavailable.
 *
 * Request threads enqueue an item that lives on their own stack and wait
 * for it to be marked done. The committer thread takes every waiting item
 * (up to batch_max events and batch_max_bytes bytes), writes them with one
 * statement in one transaction and wakes the waiters once the commit is
 * durable. If the database cannot be reached, the batch is appended to the
 * spool and fsync'ed instead; only if that fails too is the event refused,
 * so that the platform delivers it again. The replay thread (replay.c)
 * moves spooled events into the database later.
 *
 * Batches are pipelined on one connection, two deep: as soon as a batch's
 * statement has run, and while its commit is being flushed to disk, the
 * committer takes what has queued meanwhile and sends it behind that
 * commit (store_events_send_next). The server goes from one batch to the
 * next without waiting for the committer to wake, answer and send; the
 * next batch still gathers every event that arrived during the statement.
 *
 * The WAL flush of each commit is not overlapped with the next statement:
 * a second connection for the next batch, or commits that do not wait for
 * the flush followed by a durable one on another connection, were both
 * slower on two cores, since every batch then pays for more wake-ups or one
 * more transaction than the flush they would hide.
 *
 * Interface: ingest_start, ingest_stop, ingest_free, ingest_submit,
 * ingest_get_stats.
 */
#include "callbacks/ingest.h"
#include "callbacks/ingest_int.h"
#include "common/thread.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>

struct item {
	struct item *next;
	const struct vod_event *ev;
	const char *raw;
	size_t len;
	enum vod_via via;
	/* set by the committer, then posted: the waiter alone wakes */
	sem_t done;
	int rc;
	struct ingest_result res;
	struct err err;
	struct item *wake[2]; /* the waiters this one wakes in turn */
};

struct ingest {
	struct db_pool *pool;
	struct db_pool *commit_pool;
	struct spool *spool;
	struct replay *replay;
	int batch_max;
	size_t batch_max_bytes;
	struct vh_signal *stored; /* borrowed; NULL: none */

	pthread_mutex_t mu;
	pthread_cond_t work_cv; /* items queued, or stopping */
	struct item *head, **tail;
	uint64_t queued; /* items waiting for a batch */
	bool stopping;
	struct vh_thread committer;

	struct ingest_stats stats; /* under mu */
};

/* A batch in the committer's hands; the arrays hold batch_max entries. */
struct batch {
	struct item **items;
	size_t n;
	struct store_event *sevs;	  /* one row per event */
	struct store_media_delta *deltas; /* one per media record */
	size_t ndeltas, dcap;
	bool *is_new;
	struct store_batch sb;
	int64_t t0; /* when it was sent */
};

/*
 * Wake a batch's waiters as a binary tree: the committer wakes the first,
 * and each waiter wakes two more before it replies (ingest_submit). Waking
 * a sleeping thread is a futex wake and an interrupt to another CPU; the
 * committer waking a whole batch one by one would keep the next batch
 * waiting for all of them. Each item stays valid until its waiter has been
 * woken, so the links are safe.
 */
static void
wake_batch(struct item **items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t c = 0; c < 2; c++) {
			size_t child = 2 * i + 1 + c;

			items[i]->wake[c] = child < n ? items[child] : NULL;
		}
	if (n > 0)
		sem_post(&items[0]->done);
}

static void
batch_init(struct batch *bt, size_t max)
{
	bt->items = xcalloc(max, sizeof(*bt->items));
	bt->sevs = xcalloc(max, sizeof(*bt->sevs));
	bt->deltas = xcalloc(max, sizeof(*bt->deltas));
	bt->dcap = max;
	bt->is_new = xcalloc(max, sizeof(*bt->is_new));
	bt->n = 0;
}

static void
batch_free(struct batch *bt)
{
	free(bt->items);
	free(bt->sevs);
	free(bt->deltas);
	free(bt->is_new);
}

/* Take what waits, within the batch limits (at least one). Under mu. */
static void
batch_take(struct ingest *ig, struct batch *bt)
{
	size_t bytes = 0;

	bt->n = 0;
	while (ig->head != NULL && bt->n < (size_t)ig->batch_max &&
	       (bt->n == 0 || bytes + ig->head->len <= ig->batch_max_bytes)) {
		struct item *it = ig->head;

		ig->head = it->next;
		bytes += it->len;
		bt->items[bt->n++] = it;
	}
	ig->queued -= bt->n;
	if (ig->head == NULL)
		ig->tail = &ig->head;
}

/* Fill the batch's rows from its items, and note when it is sent. */
static void
batch_rows(struct batch *bt)
{
	int64_t now = time_unix();

	bt->ndeltas = 0;
	for (size_t i = 0; i < bt->n; i++) {
		const struct item *it = bt->items[i];

		ingest__add_row(it->ev, it->raw, it->via, now, &bt->sevs[i],
				&bt->deltas, &bt->ndeltas, &bt->dcap);
	}
	bt->t0 = time_mono_us();
}

/*
 * Send bt on a connection of its own and run its statement. Notifications
 * are nearly always new, so the statement that assumes so goes first; if
 * an event was stored already (a delivery repeated), or two in the batch
 * are one, the batch goes again with the one that skips those (a batch
 * that failed changed nothing). assume_new false: that one at once.
 */
static int
batch_send(struct ingest *ig, struct batch *bt, bool assume_new, struct err *e)
{
	int rc;

	batch_rows(bt);
	rc = store_events_send(ig->commit_pool, bt->sevs, bt->n, bt->deltas,
			       bt->ndeltas, assume_new, bt->is_new, &bt->sb, e);
	if (rc == ERR_CONFLICT && assume_new) {
		err_clear(e);
		rc = store_events_send(ig->commit_pool, bt->sevs, bt->n,
				       bt->deltas, bt->ndeltas, false,
				       bt->is_new, &bt->sb, e);
	}
	return rc;
}

/* Queue bt behind prev's commit, on prev's connection. */
static int
batch_send_next(struct batch *prev, struct batch *bt, struct err *e)
{
	batch_rows(bt);
	return store_events_send_next(&prev->sb, bt->sevs, bt->n, bt->deltas,
				      bt->ndeltas, true, bt->is_new, &bt->sb,
				      e);
}

/*
 * The database did not take the batch's items (e says why): the spool takes
 * them. Whatever the database said (away, refusing the batch, or gone
 * before the commit was confirmed), the spool keeps the events and the
 * replay retries them: dedup makes that safe. The reconciler's own events
 * are not notifications the replay could parse; they are refused, and the
 * reconciler asks the platform again later. Fills each item's outcome.
 */
static void
spool_items(struct ingest *ig, struct item **items, size_t n,
	    const struct err *e)
{
	enum vod_provider *providers = xcalloc(n, sizeof(*providers));
	enum vod_via *vias = xcalloc(n, sizeof(*vias));
	const char **raws = xcalloc(n, sizeof(*raws));
	size_t *lens = xcalloc(n, sizeof(*lens));
	size_t ns = 0;
	struct err se;
	int rc;

	for (size_t i = 0; i < n; i++) {
		if (items[i]->via == VIA_RECONCILE)
			continue;
		providers[ns] = items[i]->ev->provider;
		vias[ns] = items[i]->via;
		raws[ns] = items[i]->raw;
		lens[ns] = items[i]->len;
		ns++;
	}
	log_msg(LOG_WARN, "ingest", "%s; spooling %zu event(s)", e->msg, ns);
	err_clear(&se);
	rc = ns == 0 ? 0
		     : spool__append(ig->spool, ns, providers, vias, raws, lens,
				     &se);
	if (rc != 0)
		log_msg(LOG_ERROR, "ingest",
			"could not store %zu event(s): database: %s; spool: %s",
			ns, e->msg, se.msg);
	for (size_t i = 0; i < n; i++) {
		bool spooled = rc == 0 && items[i]->via != VIA_RECONCILE;

		items[i]->rc = spooled ? 0 : ERR_UNAVAIL;
		items[i]->res.spooled = spooled;
		if (!spooled)
			err_set(&items[i]->err, ERR_UNAVAIL,
				rc == 0 ? "the database is unavailable"
					: "neither the database nor the spool "
					  "could take the event");
	}
	free(providers);
	free(vias);
	free(raws);
	free(lens);
}

/* Count the batch's outcomes, for ingest_get_stats. */
static void
count_batch(struct ingest *ig, struct item **items, size_t n, uint64_t us)
{
	pthread_mutex_lock(&ig->mu);
	ig->stats.batches++;
	ig->stats.commit_us += us;
	for (size_t i = 0; i < n; i++) {
		if (items[i]->rc != 0)
			ig->stats.failed++;
		else if (items[i]->res.spooled)
			ig->stats.spooled++;
		else if (items[i]->res.duplicate)
			ig->stats.duplicates++;
		else
			ig->stats.stored++;
	}
	pthread_mutex_unlock(&ig->mu);
}

/*
 * The database took bt (rc 0) or did not (rc, e): in that case the spool
 * takes it. Fills each item, counts, and wakes the waiters, and whoever
 * waits for new events stored.
 */
static void
batch_done(struct ingest *ig, struct batch *bt, int rc, const struct err *e)
{
	uint64_t us = (uint64_t)(time_mono_us() - bt->t0);
	bool stored = false;

	if (rc == 0) {
		for (size_t i = 0; i < bt->n; i++) {
			bt->items[i]->res.duplicate = !bt->is_new[i];
			stored = stored || bt->is_new[i];
		}
		/* Before the waiters are woken: the events are theirs. */
		ingest__settle_url_jobs(ig->pool, bt->sevs, bt->is_new, bt->n);
	} else {
		spool_items(ig, bt->items, bt->n, e);
	}
	if (stored && ig->stored != NULL)
		vh_signal_raise(ig->stored);
	count_batch(ig, bt->items, bt->n, us);
	wake_batch(bt->items, bt->n);
	bt->n = 0;
}

/*
 * The committer: at most two batches in flight, cur (its statement has run,
 * its commit is pending) and next (queued behind that commit).
 */
static void *
committer_main(void *arg)
{
	struct ingest *ig = arg;
	struct batch bts[2], *cur = NULL, *next;
	struct err e, ne;
	int rc, nrc;

	batch_init(&bts[0], (size_t)ig->batch_max);
	batch_init(&bts[1], (size_t)ig->batch_max);
	for (;;) {
		if (cur == NULL) {
			/* Nothing in flight: wait for events. */
			pthread_mutex_lock(&ig->mu);
			while (ig->head == NULL && !ig->stopping)
				pthread_cond_wait(&ig->work_cv, &ig->mu);
			if (ig->head == NULL) {
				pthread_mutex_unlock(&ig->mu);
				break;
			}
			batch_take(ig, &bts[0]);
			pthread_mutex_unlock(&ig->mu);
			err_clear(&e);
			if ((rc = batch_send(ig, &bts[0], true, &e)) != 0) {
				batch_done(ig, &bts[0], rc, &e);
				continue;
			}
			cur = &bts[0];
		}

		/* cur's commit is being flushed: queue what waits behind it. */
		next = cur == &bts[0] ? &bts[1] : &bts[0];
		pthread_mutex_lock(&ig->mu);
		batch_take(ig, next);
		pthread_mutex_unlock(&ig->mu);
		err_clear(&ne);
		nrc = next->n > 0 ? batch_send_next(cur, next, &ne) : 0;

		err_clear(&e);
		rc = store_events_wait(&cur->sb, &e);
		batch_done(ig, cur, rc, &e);
		cur = NULL;
		if (next->n == 0)
			continue;
		if (nrc == 0)
			nrc = store_events_result(&next->sb, &ne);
		if (nrc == ERR_UNAVAIL || nrc == ERR_CONFLICT) {
			/* The connection broke under it: once more on a
			 * fresh one (the statement is idempotent). Or an
			 * event was stored already: again, skipping it. */
			bool assume_new = nrc == ERR_UNAVAIL;

			err_clear(&ne);
			nrc = batch_send(ig, next, assume_new, &ne);
		}
		if (nrc != 0)
			batch_done(ig, next, nrc, &ne);
		else
			cur = next;
	}
	batch_free(&bts[0]);
	batch_free(&bts[1]);
	return NULL;
}

/* ------------------------------------------------------------ interface */

int
ingest_start(const struct ingest_opts *o, struct ingest **out, struct err *e)
{
	struct ingest *ig;
	int rc;

	*out = NULL;
	ig = xcalloc(1, sizeof(*ig));
	ig->pool = o->pool;
	ig->commit_pool = o->commit_pool ? o->commit_pool : o->pool;
	ig->batch_max = o->batch_max > 0 ? o->batch_max : 256;
	ig->batch_max_bytes =
	    o->batch_max_bytes ? o->batch_max_bytes : 8u << 20;
	ig->stored = o->stored;
	ig->tail = &ig->head;
	pthread_mutex_init(&ig->mu, NULL);
	pthread_cond_init(&ig->work_cv, NULL);
	if ((rc = spool__new(o->spool_dir, &ig->spool, e)) != 0 ||
	    (rc = replay__start(ig->spool, o->pool, o->replay_interval_ms,
				&ig->replay, e)) != 0) {
		ingest_free(ig);
		return rc;
	}
	vh_thread_start(&ig->committer, "ingest committer", committer_main, ig);
	*out = ig;
	return 0;
}

void
ingest_stop(struct ingest *ig)
{
	if (ig == NULL)
		return;
	/* The committer waits on work_cv, not on its thread's stop flag. */
	pthread_mutex_lock(&ig->mu);
	ig->stopping = true;
	pthread_cond_broadcast(&ig->work_cv);
	pthread_mutex_unlock(&ig->mu);
	vh_thread_stop(&ig->committer);
	replay__stop(ig->replay);
}

void
ingest_free(struct ingest *ig)
{
	if (ig == NULL)
		return;
	ingest_stop(ig);
	replay__free(ig->replay);
	spool__free(ig->spool);
	pthread_cond_destroy(&ig->work_cv);
	pthread_mutex_destroy(&ig->mu);
	free(ig);
}

int
ingest_submit(struct ingest *ig, const struct vod_event *ev, const char *raw,
	      size_t len, enum vod_via via, struct ingest_result *res,
	      struct err *e)
{
	struct item it;

	memset(res, 0, sizeof(*res));
	if (ev->dedup_key == NULL)
		return err_set(e, ERR_INPUT, "event has no dedup key");
	/* PostgreSQL rejects invalid text, which would fail a whole batch. */
	if (utf8_chars(raw, len) < 0)
		return err_set(e, ERR_INPUT,
			       "body is not valid UTF-8 (or contains NUL)");
	memset(&it, 0, sizeof(it));
	it.ev = ev;
	it.raw = raw;
	it.len = len;
	it.via = via;
	sem_init(&it.done, 0, 0);

	pthread_mutex_lock(&ig->mu);
	if (ig->stopping) {
		pthread_mutex_unlock(&ig->mu);
		sem_destroy(&it.done);
		return err_set(e, ERR_UNAVAIL, "vodhook is shutting down");
	}
	*ig->tail = &it;
	ig->tail = &it.next;
	ig->queued++;
	pthread_cond_signal(&ig->work_cv);
	pthread_mutex_unlock(&ig->mu);
	while (sem_wait(&it.done) != 0)
		; /* EINTR */
	for (size_t c = 0; c < 2; c++)
		if (it.wake[c] != NULL)
			sem_post(&it.wake[c]->done);
	sem_destroy(&it.done);

	if (it.rc != 0)
		return err_set(e, it.rc, "%s", it.err.msg);
	*res = it.res;
	return 0;
}

bool
ingest_busy(struct ingest *ig)
{
	bool busy;

	pthread_mutex_lock(&ig->mu);
	busy = ig->queued > 0;
	pthread_mutex_unlock(&ig->mu);
	return busy;
}

void
ingest_get_stats(struct ingest *ig, struct ingest_stats *st)
{
	pthread_mutex_lock(&ig->mu);
	*st = ig->stats;
	st->queued = ig->queued;
	pthread_mutex_unlock(&ig->mu);
	replay__counts(ig->replay, &st->replayed, &st->quarantined);
	st->spool_pending = spool__pending_bytes(ig->spool);
}

/*
 * replay.c: moving spooled events into PostgreSQL once it is back, and at
 * start-up.
 *
 * Each record is parsed again (cb_parse) and written in batches of
 * REPLAY_BATCH with the statement that skips events stored already, so a
 * record replayed twice (a crash between the commit and the file's
 * removal) is stored once. A batch the database refuses (SQLSTATE class 22
 * or 23: ERR_INPUT or ERR_CONFLICT) is tried again one event at a time, and
 * an event refused on its own, or one that no longer parses, is set aside
 * in quarantine.spool so that the events after it are replayed. Any other
 * error (the database away, out of disk, a deadlock) pauses the replay
 * until the next interval, setting nothing aside.
 *
 * Interface: replay__start, replay__stop, replay__free, replay__counts.
 */
#include "callbacks/ingest_int.h"
#include "common/thread.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define REPLAY_BATCH 256

struct replay {
	struct spool *sp;
	struct db_pool *pool;
	int interval_ms;
	struct vh_thread thread;
	atomic_uint_fast64_t replayed;
	atomic_uint_fast64_t quarantined;
};

/* Records read and parsed, waiting to be written. */
struct pending {
	struct spool_record recs[REPLAY_BATCH];
	struct vod_event evs[REPLAY_BATCH];
	size_t n;
};

/* An error the same events would meet again: the database refused one. */
static bool
refused(int rc)
{
	return rc == ERR_INPUT || rc == ERR_CONFLICT;
}

static void
pending_clear(struct pending *pd)
{
	for (size_t i = 0; i < pd->n; i++) {
		vod_event_cleanup(&pd->evs[i]);
		free(pd->recs[i].raw);
	}
	pd->n = 0;
}

static int
quarantine(struct replay *rp, const struct spool_record *r, const char *why)
{
	if (spool__quarantine(rp->sp, r, why) != 0)
		return -1;
	atomic_fetch_add(&rp->quarantined, 1);
	return 0;
}

/* Write n records with their parsed events; 0 or the database's error. */
static int
write_batch(struct replay *rp, const struct spool_record *recs,
	    const struct vod_event *evs, size_t n, struct err *e)
{
	const struct vod_event *pevs[REPLAY_BATCH];
	const char *raws[REPLAY_BATCH];
	enum vod_via vias[REPLAY_BATCH];
	bool is_new[REPLAY_BATCH];
	int rc;

	for (size_t i = 0; i < n; i++) {
		pevs[i] = &evs[i];
		raws[i] = recs[i].raw;
		vias[i] = VIA_SPOOL;
	}
	rc = ingest__record(rp->pool, pevs, raws, vias, n, is_new, e);
	if (rc == 0)
		for (size_t i = 0; i < n; i++)
			atomic_fetch_add(&rp->replayed, is_new[i]);
	return rc;
}

/*
 * Write what is pending. When the database refuses the batch (rather than
 * being away), each event is tried alone and the ones it refuses alone are
 * set aside: one bad event must not hold back every later one. 0, or the
 * error that stops the replay for now.
 */
static int
flush(struct replay *rp, struct pending *pd, struct err *e)
{
	size_t n = pd->n;
	int rc = write_batch(rp, pd->recs, pd->evs, n, e);

	if (rc == 0 || !refused(rc))
		return rc;
	if (n == 1)
		return quarantine(rp, &pd->recs[0], e->msg) == 0 ? 0 : rc;
	log_msg(LOG_WARN, "spool",
		"the database refused a batch of %zu spooled event(s) (%s); "
		"trying them one by one",
		n, e->msg);
	for (size_t i = 0; i < n; i++) {
		err_clear(e);
		rc = write_batch(rp, &pd->recs[i], &pd->evs[i], 1, e);
		if (rc == 0)
			continue;
		if (!refused(rc) || quarantine(rp, &pd->recs[i], e->msg) != 0)
			return rc;
	}
	return 0;
}

/*
 * Parse r into the next pending slot, taking r. A record that does not
 * parse any more is quarantined: it parsed when it was spooled, so a newer
 * parser refusing it is a bug to look at. 0, or -1 when it could not be
 * set aside.
 */
static int
add_record(struct replay *rp, struct pending *pd, struct spool_record *r)
{
	struct vod_event *ev = &pd->evs[pd->n];
	struct err e;
	char why[sizeof(e.msg) + 32];
	int rc;

	vod_event_init(ev);
	err_clear(&e);
	if (cb_parse(r->provider, NULL, r->raw, r->len, ev, &e) == 0) {
		pd->recs[pd->n++] = *r;
		return 0;
	}
	snprintf(why, sizeof(why), "it does not parse: %s", e.msg);
	vod_event_cleanup(ev);
	rc = quarantine(rp, r, why);
	free(r->raw);
	return rc;
}

/* Replay one file; 0 when all of it is in the database. */
static int
replay_file(struct replay *rp, const char *path)
{
	struct pending *pd = xcalloc(1, sizeof(*pd));
	struct spool_record r;
	size_t total = 0;
	struct err e;
	int rc = 0, got;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		free(pd);
		return -1;
	}
	err_clear(&e);
	do {
		got = spool__read(f, path, &r);
		if (got == 1 && (rc = add_record(rp, pd, &r)) != 0)
			break;
		if (pd->n == REPLAY_BATCH || (got == 0 && pd->n > 0)) {
			total += pd->n;
			rc = flush(rp, pd, &e);
			pending_clear(pd);
			if (rc != 0) {
				log_msg(LOG_WARN, "spool",
					"replay of \"%s\" paused: %s", path,
					e.msg);
				break;
			}
		}
	} while (got == 1);
	pending_clear(pd); /* left by a record that could not be set aside */
	fclose(f);
	free(pd);
	if (rc == 0)
		log_msg(LOG_INFO, "spool", "replayed %zu event(s) from \"%s\"",
			total, path);
	return rc;
}

/*
 * Replay every spool file, oldest first, if the database answers and has
 * this binary's schema: serve may start before the database is reachable,
 * and migrates it once it is, after this thread has started.
 */
static void
replay_all(struct replay *rp)
{
	char **paths;
	size_t n;
	struct err e;

	if (spool__pending_bytes(rp->sp) == 0)
		return;
	err_clear(&e);
	if (store_ready(rp->pool, &e) != 0)
		return; /* still away or not migrated: try again later */
	spool__rotate(rp->sp);
	spool__replay_paths(rp->sp, &paths, &n);
	for (size_t i = 0; i < n; i++) {
		if (replay_file(rp, paths[i]) != 0)
			break;
		spool__remove(rp->sp, paths[i]);
	}
	spool__paths_free(paths, n);
}

static void *
replay_main(void *arg)
{
	struct replay *rp = arg;

	do
		replay_all(rp);
	while (!vh_stop_sleep(&rp->thread.stop, rp->interval_ms));
	return NULL;
}

/* ------------------------------------------------------------ interface */

int
replay__start(struct spool *sp, struct db_pool *pool, int interval_ms,
	      struct replay **out, struct err *e)
{
	struct replay *rp = xcalloc(1, sizeof(*rp));

	(void)e;
	rp->sp = sp;
	rp->pool = pool;
	rp->interval_ms = interval_ms > 0 ? interval_ms : 1000;
	atomic_init(&rp->replayed, 0);
	atomic_init(&rp->quarantined, 0);
	vh_thread_start(&rp->thread, "spool replay", replay_main, rp);
	*out = rp;
	return 0;
}

void
replay__stop(struct replay *rp)
{
	if (rp != NULL)
		vh_thread_stop(&rp->thread);
}

void
replay__free(struct replay *rp)
{
	if (rp == NULL)
		return;
	replay__stop(rp);
	free(rp);
}

void
replay__counts(struct replay *rp, uint64_t *replayed, uint64_t *quarantined)
{
	*replayed = atomic_load(&rp->replayed);
	*quarantined = atomic_load(&rp->quarantined);
}

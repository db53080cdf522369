/*
 * recorder.c: the database writes of a held job, on a thread of their own.
 *
 * The heartbeat (lease and progress, every HEARTBEAT_MS) and the part
 * checkpoints may each wait on the database up to db_timeout_ms; a slow or
 * silent database must not hold the parts being sent. The transfer only
 * notes what is to be written (upload__recorder_note_part, _progress) and
 * reads the outcome from the job's flags (cancel asked for, lease lost).
 * The heartbeat runs from the claim until the job's outcome is to be
 * written, so that no step outlasts the lease: a URL downloaded whole
 * before the upload, or a platform call retried for minutes, would
 * otherwise let another worker claim the job and do it again.
 *
 * Interface: upload__recorder_start, upload__recorder_stop,
 * upload__recorder_free, upload__recorder_note_part,
 * upload__recorder_note_progress (upload/ only).
 */
#include "upload/worker_int.h"

#include "store/store.h"

#include <stdlib.h>
#include <time.h>

#define HEARTBEAT_MS 250 /* progress written at most 4 times a second */

struct upload_recorder {
	struct job_ctx *c;
	pthread_t thread;
	bool running;
	bool no_checkpoints; /* one failed: none more this attempt */
	pthread_mutex_t mu;  /* guards what follows */
	pthread_cond_t cv;
	bool stopping;
	int64_t done;		   /* the latest progress, in bytes */
	int64_t rate;		   /* and the rate, bytes/s */
	int parts_in_flight;	   /* and the parts in flight */
	struct upload_part *parts; /* sent, not yet checkpointed */
	size_t nparts, cap;
};

static void
lease_lost(struct job_ctx *c)
{
	log_msg(LOG_WARN, "upload", "upload %s: lease lost, stopping",
		c->job->id);
	atomic_store(&c->lease_lost, true);
}

/* Renew the lease and write progress; notes cancel and lease loss. */
static void
beat(struct job_ctx *c, int64_t done, int64_t rate, int parts)
{
	struct err e;
	bool cancel = false;

	err_clear(&e);
	if (store_upload_heartbeat(c->svc->pool, c->job->id, c->owner,
				   c->svc->c.lease_seconds, done, rate, parts,
				   &cancel, &e) != 0) {
		if (e.code == ERR_CONFLICT)
			lease_lost(c);
		return;
	}
	if (cancel)
		atomic_store(&c->cancel, true);
}

/*
 * Checkpoint a finished part. Only a lost lease stops the transfer: when
 * the write fails otherwise (the database unavailable, say), the part is
 * in the store all the same, and a resume finds it there (ListParts), as
 * it finds the parts sent after the last checkpoint of a killed worker.
 * The heartbeat is as lenient. After one failure the attempt writes no
 * more checkpoints (a database that fails one is likely to fail the next,
 * each after a timeout); the heartbeat still notices a lost lease.
 */
static void
checkpoint(struct upload_recorder *r, const struct upload_part *p)
{
	struct job_ctx *c = r->c;
	struct err pe;

	if (r->no_checkpoints)
		return;
	err_clear(&pe);
	if (store_upload_part_done(c->svc->pool, c->job->id, c->owner,
				   p->number, p->size, p->etag,
				   p->has_crc64 ? &p->crc64 : NULL, &pe) == 0)
		return;
	if (pe.code == ERR_CONFLICT) {
		lease_lost(c);
		return;
	}
	r->no_checkpoints = true;
	log_msg(LOG_WARN, "upload",
		"upload %s: part %d is sent but not checkpointed (%s); the "
		"transfer goes on without checkpoints",
		c->job->id, p->number, pe.msg);
}

/* Swap the parts noted with the empty list *todo (under r->mu), so that
 * the transfer notes into one list while the other is written. */
static size_t
take_parts(struct upload_recorder *r, struct upload_part **todo, size_t *cap)
{
	struct upload_part *t = *todo;
	size_t tcap = *cap, n = r->nparts;

	*todo = r->parts;
	*cap = r->cap;
	r->parts = t;
	r->cap = tcap;
	r->nparts = 0;
	return n;
}

static void *
recorder_main(void *arg)
{
	struct upload_recorder *r = arg;
	int64_t last_beat = time_mono_ms();
	struct upload_part *todo = NULL;
	size_t ntodo, todo_cap = 0;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		int64_t now = time_mono_ms(), done = r->done, rate = r->rate;
		int parts = r->parts_in_flight;
		bool stopping = r->stopping,
		     due = now - last_beat >= HEARTBEAT_MS;

		if (r->nparts == 0 && !stopping && !due) {
			struct timespec until =
			    time_after_ms(last_beat + HEARTBEAT_MS - now);

			pthread_cond_timedwait(&r->cv, &r->mu, &until);
			continue;
		}
		ntodo = take_parts(r, &todo, &todo_cap);
		pthread_mutex_unlock(&r->mu);
		for (size_t i = 0; i < ntodo; i++)
			checkpoint(r, &todo[i]);
		if (due && !stopping) {
			beat(r->c, done, rate, parts);
			last_beat = time_mono_ms();
		}
		pthread_mutex_lock(&r->mu);
		if (stopping && r->nparts == 0)
			break;
	}
	pthread_mutex_unlock(&r->mu);
	free(todo);
	return NULL;
}

struct upload_recorder *
upload__recorder_start(struct job_ctx *c)
{
	struct upload_recorder *r = xcalloc(1, sizeof(*r));

	r->c = c;
	r->done = -1;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	if (pthread_create(&r->thread, NULL, recorder_main, r) != 0)
		fatal("could not start a thread");
	r->running = true;
	return r;
}

void
upload__recorder_stop(struct upload_recorder *r)
{
	if (r == NULL || !r->running)
		return;
	pthread_mutex_lock(&r->mu);
	r->stopping = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	r->running = false;
}

void
upload__recorder_free(struct upload_recorder *r)
{
	if (r == NULL)
		return;
	upload__recorder_stop(r);
	free(r->parts);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

void
upload__recorder_note_part(struct upload_recorder *r,
			   const struct upload_part *p)
{
	pthread_mutex_lock(&r->mu);
	if (r->nparts == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->parts = xrealloc(r->parts, r->cap * sizeof(*r->parts));
	}
	r->parts[r->nparts++] = *p;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

void
upload__recorder_note_progress(struct upload_recorder *r, int64_t done,
			       int64_t rate_bps, int parts_in_flight)
{
	pthread_mutex_lock(&r->mu);
	r->done = done;
	r->rate = rate_bps;
	r->parts_in_flight = parts_in_flight;
	pthread_mutex_unlock(&r->mu);
}

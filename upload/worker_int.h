/*
 * worker_int.h: what the files of a job's life share (upload/ only).
 *
 *   struct upload_service  the settings, the pool and the worker threads
 *   struct job_ctx         one claimed job while a worker holds it
 *   recorder               the thread that writes a held job's heartbeat
 *                          and checkpoints (recorder.c)
 *   upload__job_run        the job's life from the claim to its outcome
 *                          (job.c); worker.c records the outcome
 */
#ifndef VODHOOK_UPLOAD_WORKER_INT_H
#define VODHOOK_UPLOAD_WORKER_INT_H

#include "upload/upload_int.h"

#include <pthread.h>
#include <stdatomic.h>

struct upload_service {
	struct upload_config c;
	struct db_pool *pool;
	struct upload_source_opts so;
	struct upload_conns conns; /* parts in flight, shared by the jobs */
	pthread_t *threads;
	int nthreads;
	atomic_bool stop;
	pthread_mutex_t mu; /* with cv: wakes an idle worker on a submit */
	pthread_cond_t cv;
	char instance[64];
};

struct upload_recorder;

/* One claimed job. The flags are set by the recorder's thread and read by
 * the transfer's (hook_stop). */
struct job_ctx {
	struct upload_service *svc;
	struct upload_job *job;
	const char *owner;
	atomic_bool cancel;		/* asked for, seen by a heartbeat */
	atomic_bool lease_lost;		/* another worker has the job */
	struct upload_session *session; /* during the transfer */
	struct upload_recorder *rec;	/* while the job is held */
	upload_progress_fn fn;
	void *fn_arg;
};

/*
 * The recorder of a held job: a thread that renews the lease with the
 * progress every 250 ms and writes the part checkpoints noted by the
 * transfer, so that no database wait holds the parts being sent.
 * upload__recorder_start allocates and starts it; upload__recorder_stop
 * writes the checkpoints still noted, stops the thread and waits for it
 * (safe to call twice); upload__recorder_free stops it if need be and
 * frees it (NULL allowed). The note functions are called from the
 * transfer's thread and never wait on the database.
 */
struct upload_recorder *upload__recorder_start(struct job_ctx *c);
void upload__recorder_stop(struct upload_recorder *r);
void upload__recorder_free(struct upload_recorder *r);
void upload__recorder_note_part(struct upload_recorder *r,
				const struct upload_part *p);
void upload__recorder_note_progress(struct upload_recorder *r, int64_t done,
				    int64_t rate_bps, int parts_in_flight);

/* How a held job ended. JOB_PARKED: the platform pulls the URL and the
 * callbacks finish the job (recorded already). */
enum upload_outcome {
	JOB_DONE,
	JOB_FAILED,
	JOB_RETRY,
	JOB_CANCELED,
	JOB_LOST,
	JOB_PARKED
};

/*
 * Run a claimed job to its end or to a point where it must be given back;
 * the recorder runs meanwhile. On JOB_DONE res holds the platform's
 * answer; otherwise e says why. Nothing of the outcome is recorded.
 */
enum upload_outcome upload__job_run(struct job_ctx *c,
				    struct upload_result *res, struct err *e);

/* Abort what a job left on the platform, from its saved session (a job
 * canceled before it ran); best effort. */
void upload__job_abandon_saved(struct job_ctx *c);

#endif

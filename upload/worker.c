/*
 * worker.c: the job workers: claim a job, run it, record its outcome.
 *
 * A job is claimed with FOR UPDATE SKIP LOCKED and held by a lease that
 * its recorder (recorder.c) renews with the progress four times a second
 * for as long as the job is held; a job whose holder died is claimed again
 * when its lease expires and resumes from its checkpoint (job.c). The
 * outcome is written once the recorder has stopped, and the write gives
 * the lease back: uploaded, failed with the platform's code, given back
 * for a later attempt with a growing delay (up to upload_max_attempts), or
 * canceled.
 *
 * Interface: upload_service_new, upload_service_start,
 * upload_service_stop, upload_service_free, upload_run.
 */
#include "upload/worker_int.h"

#include "common/json.h"
#include "common/metrics.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RETRY_BASE_MS 1000
#define RETRY_MAX_MS  60000

/* Take the strings of a claimed row into a job. */
static struct upload_job *
job_from_row(struct store_upload *row)
{
	struct upload_job *j = xcalloc(1, sizeof(*j));

	snprintf(j->id, sizeof(j->id), "%s", row->id);
	j->provider = row->provider;
	j->state = row->state;
	j->source_kind = row->source_kind;
	j->source = row->source;
	j->media_name = row->media_name;
	j->media_type = row->media_type;
	j->media_kind = row->media_kind;
	j->procedure = row->procedure;
	j->source_context = row->source_context;
	j->options = row->options
			 ? json_parse(row->options, strlen(row->options))
			 : NULL;
	if (j->options == NULL)
		j->options = cJSON_CreateObject();
	free(row->options);
	j->bytes_total = row->bytes_total;
	j->part_size = row->part_size;
	j->session = row->session;
	j->credential_expires_at = row->credential_expires_at;
	j->multipart_upload_id = row->multipart_upload_id;
	j->file_id = row->file_id;
	j->attempts = row->attempts;
	j->source_version = row->source_version;
	memset(row, 0, sizeof(*row));
	return j;
}

/* ---------------------------------------------------------------- outcome */

/* The platform has the media: the record must say so. */
static int
record_done(struct job_ctx *c, const struct upload_result *res, struct err *e)
{
	struct err se;

	err_clear(&se);
	if (store_upload_committed(c->svc->pool, c->job->id, c->owner,
				   res->file_id, res->media_url, &se) != 0) {
		log_msg(LOG_ERROR, "upload",
			"upload %s: committed as %s but not recorded: %s",
			c->job->id, res->file_id, se.msg);
		return err_set(e, se.code, "%s", se.msg);
	}
	log_msg(LOG_INFO, "upload", "upload %s: uploaded as %s", c->job->id,
		res->file_id);
	metric_add_at(METRIC_UPLOAD_JOBS_FINISHED, METRIC_OUTCOME_UPLOADED, 1);
	return 0;
}

/*
 * Record a canceled job. abort: first abort what it left on the platform,
 * with its saved session (a job canceled before it ran); a job canceled
 * mid-transfer has aborted with its own session, and a second abort would
 * only find no such upload.
 */
static int
record_canceled(struct job_ctx *c, bool abort, struct err *e)
{
	struct err se;

	if (abort)
		upload__job_abandon_saved(c);
	err_clear(&se);
	if (store_upload_canceled(c->svc->pool, c->job->id, c->owner, &se) != 0)
		log_msg(LOG_WARN, "upload", "upload %s: %s", c->job->id,
			se.msg);
	metric_add_at(METRIC_UPLOAD_JOBS_FINISHED, METRIC_OUTCOME_CANCELED, 1);
	return err_set(e, ERR_CANCELED, "the upload was canceled");
}

static int
record_failed(struct job_ctx *c, struct err *e)
{
	struct err se;

	log_msg(LOG_WARN, "upload", "upload %s: failed: %s", c->job->id,
		e->msg);
	metric_add_at(METRIC_UPLOAD_JOBS_FINISHED, METRIC_OUTCOME_FAILED, 1);
	err_clear(&se);
	if (store_upload_fail(c->svc->pool, c->job->id, c->owner,
			      e->remote[0] ? e->remote : err_name(e->code),
			      e->msg, &se) != 0)
		log_msg(LOG_ERROR, "upload",
			"upload %s: could not record the failure: %s",
			c->job->id, se.msg);
	return e->code ? e->code : ERR_INTERNAL;
}

/*
 * Give the job back for a later attempt: at once after a shutdown (a
 * prompt resume), else after the platform requests' backoff on the job's
 * scale, doubled per attempt and jittered from a random source (not
 * rand(), whose one unseeded sequence would retry every instance's jobs in
 * step). A job out of attempts fails with its reason.
 */
static int
record_retry(struct job_ctx *c, struct err *e)
{
	struct upload_service *svc = c->svc;
	const struct cloud_opts scale = {.retry_base_ms = RETRY_BASE_MS,
					 .retry_max_ms = RETRY_MAX_MS};
	struct err se;
	int64_t d;

	err_clear(&se);
	if (atomic_load(&svc->stop) && e->code == ERR_CANCELED) {
		if (store_upload_retry_later(svc->pool, c->job->id, c->owner, 0,
					     NULL, NULL, &se) != 0)
			log_msg(LOG_WARN, "upload", "upload %s: %s", c->job->id,
				se.msg);
		return ERR_CANCELED;
	}
	if (c->job->attempts >= svc->c.max_attempts)
		return record_failed(c, e);
	d = cloud_http_backoff_ms(&scale, c->job->attempts);
	metric_add_at(METRIC_UPLOAD_JOBS_FINISHED, METRIC_OUTCOME_RETRIED, 1);
	log_msg(LOG_WARN, "upload",
		"upload %s: attempt %d failed, retrying in %lld ms: %s",
		c->job->id, c->job->attempts, (long long)d, e->msg);
	if (store_upload_retry_later(
		svc->pool, c->job->id, c->owner, d,
		e->remote[0] ? e->remote : err_name(e->code), e->msg, &se) != 0)
		log_msg(LOG_WARN, "upload", "upload %s: %s", c->job->id,
			se.msg);
	return e->code ? e->code : ERR_NET;
}

/* Write a job's outcome (which gives the lease back); returns 0 when the
 * job finished well, else its error code with e. */
static int
record_outcome(struct job_ctx *c, enum upload_outcome oc,
	       const struct upload_result *res, struct err *e)
{
	switch (oc) {
	case JOB_DONE:
		return record_done(c, res, e);
	case JOB_PARKED: /* recorded already */
		return 0;
	case JOB_CANCELED:
		return record_canceled(c, false, e);
	case JOB_LOST:
		err_set(e, ERR_CONFLICT,
			"the job's lease was lost to another worker");
		log_msg(LOG_INFO, "upload", "upload %s: stopped: %s",
			c->job->id, e->msg);
		return ERR_CONFLICT;
	case JOB_RETRY:
		return record_retry(c, e);
	case JOB_FAILED:
		break;
	}
	return record_failed(c, e);
}

/* Run one claimed row and record its outcome. Returns 0 when the job
 * finished well, else its error in e. */
static int
process(struct upload_service *svc, struct store_upload *row, const char *owner,
	upload_progress_fn fn, void *arg, struct upload_result *res,
	struct err *e)
{
	struct job_ctx c = {
	    .svc = svc, .owner = owner, .fn = fn, .fn_arg = arg};
	bool cancel = row->cancel_requested;
	enum upload_outcome oc;
	int rc;

	c.job = job_from_row(row);
	log_set_req_id(c.job->id);
	if (cancel) {
		rc = record_canceled(&c, true, e);
	} else {
		log_msg(LOG_INFO, "upload",
			"upload %s: started (attempt %d, %s)", c.job->id,
			c.job->attempts, c.job->state);
		c.rec = upload__recorder_start(&c);
		metric_add(METRIC_UPLOAD_TRANSFERS_IN_PROGRESS, 1);
		oc = upload__job_run(&c, res, e);
		metric_add(METRIC_UPLOAD_TRANSFERS_IN_PROGRESS, -1);
		/* Before the outcome's write gives the lease back. */
		upload__recorder_free(c.rec);
		c.rec = NULL;
		rc = record_outcome(&c, oc, res, e);
	}
	upload__job_free(c.job);
	log_set_req_id(NULL);
	return rc;
}

/* ---------------------------------------------------------------- workers */

static void *
worker_main(void *arg)
{
	struct upload_service *svc = arg;
	char owner[96];
	char rnd[9];

	if (random_hex(rnd, 4) != 0)
		snprintf(rnd, sizeof(rnd), "%08x", (unsigned)time_unix());
	snprintf(owner, sizeof(owner), "%s/%s", svc->instance, rnd);
	while (!atomic_load(&svc->stop)) {
		struct store_upload row;
		struct upload_result res = {0};
		bool found = false;
		struct err e;

		err_clear(&e);
		if (store_upload_claim(svc->pool, owner, svc->c.lease_seconds,
				       NULL, &row, &found, &e) != 0)
			log_msg(LOG_WARN, "upload", "could not claim a job: %s",
				e.msg);
		if (found) {
			(void)process(svc, &row, owner, NULL, NULL, &res, &e);
			store_upload_cleanup(&row);
			upload__result_cleanup(&res);
			continue;
		}
		store_upload_cleanup(&row);
		pthread_mutex_lock(&svc->mu);
		if (!atomic_load(&svc->stop)) {
			struct timespec ts = time_after_ms(svc->c.poll_ms);

			pthread_cond_timedwait(&svc->cv, &svc->mu, &ts);
		}
		pthread_mutex_unlock(&svc->mu);
	}
	return NULL;
}

int
upload_service_new(const struct upload_config *c, struct db_pool *pool,
		   struct upload_service **out, struct err *e)
{
	struct upload_service *s = xcalloc(1, sizeof(*s));
	char host[48] = "host";

	(void)e;
	s->c = *c;
	s->conns.budget = c->connections;
	atomic_init(&s->conns.transfers, 0);
	atomic_init(&s->conns.in_flight, 0);
	if (s->c.lease_seconds <= 0)
		s->c.lease_seconds = 60;
	if (s->c.max_attempts <= 0)
		s->c.max_attempts = 5;
	if (s->c.poll_ms <= 0)
		s->c.poll_ms = 1000;
	s->pool = pool;
	s->so = (struct upload_source_opts){
	    .root = NULL, /* checked at submission, not when running */
	    .max_bytes = c->max_bytes,
	    .allow_private_urls = c->allow_private_urls,
	    .proxy = c->url_proxy,
	    .tmp_dir = c->tmp_dir,
	    .cloud = c->cloud,
	};
	gethostname(host, sizeof(host) - 1);
	snprintf(s->instance, sizeof(s->instance), "%s:%d", host,
		 (int)getpid());
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	atomic_init(&s->stop, false);
	*out = s;
	return 0;
}

int
upload_service_start(struct upload_service *s, struct err *e)
{
	if (s->c.workers <= 0)
		return 0;
	s->threads = xcalloc((size_t)s->c.workers, sizeof(*s->threads));
	for (int i = 0; i < s->c.workers; i++) {
		if (pthread_create(&s->threads[i], NULL, worker_main, s) != 0)
			return err_set(e, ERR_INTERNAL,
				       "could not start upload worker %d", i);
		s->nthreads++;
	}
	log_msg(LOG_INFO, "upload", "%d upload worker(s) started", s->nthreads);
	return 0;
}

void
upload_service_stop(struct upload_service *s)
{
	if (s != NULL)
		atomic_store(&s->stop, true);
}

void
upload_service_free(struct upload_service *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	atomic_store(&s->stop, true);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	for (int i = 0; i < s->nthreads; i++)
		pthread_join(s->threads[i], NULL);
	free(s->threads);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

int
upload_run(struct upload_service *svc, const char *id, const char *owner,
	   upload_progress_fn fn, void *arg, char **file_id, char **media_url,
	   struct err *e)
{
	int rc = ERR_INTERNAL;

	*file_id = *media_url = NULL;
	for (;;) {
		struct store_upload row;
		struct upload_result res = {0};
		bool found = false;

		if ((rc = store_upload_claim(svc->pool, owner,
					     svc->c.lease_seconds, id, &row,
					     &found, e)) != 0)
			return rc;
		if (!found) {
			store_upload_cleanup(&row);
			return err_set(e, ERR_CONFLICT,
				       "upload %s is held by another worker "
				       "or has ended",
				       id);
		}
		rc = process(svc, &row, owner, fn, arg, &res, e);
		store_upload_cleanup(&row);
		if (rc == 0) {
			*file_id = res.file_id;
			*media_url = res.media_url;
			res.file_id = res.media_url = NULL;
			upload__result_cleanup(&res);
			return 0;
		}
		upload__result_cleanup(&res);
		if (!upload__error_transient(rc) || atomic_load(&svc->stop))
			return rc;
		/* Given back: wait for its backoff, then claim it again. */
		nanosleep(&(struct timespec){1, 0}, NULL);
	}
}

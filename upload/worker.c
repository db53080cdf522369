/*
 * worker.c: upload jobs: submission, the worker threads and the life of
 * one job.
 *
 * A job is claimed with FOR UPDATE SKIP LOCKED and held by a lease that is
 * renewed (with the progress) four times a second for as long as the job
 * is held (a download, the platform's calls, the transfer), by a thread of
 * the job's own that also writes the checkpoints; a job
 * whose holder died is claimed again when its lease expires and resumes
 * from its checkpoint while the platform credential is valid, or starts
 * over with a new session when it is not. Failures are sorted: refusals
 * (credentials, bad input) fail the job at once with the platform's code;
 * network and 5xx failures give the job back for a later attempt, up to
 * upload_max_attempts. A URL Alibaba pulls itself (url_upload "platform")
 * is one UploadMediaByURL call, after which the job is parked for its
 * callbacks to finish (run_pull).
 *
 * Interface: upload_service_new, upload_service_start,
 * upload_service_stop, upload_service_free, upload_submit, upload_run;
 * upload__adapter_find, upload__target_set, upload__target_cleanup,
 * upload__job_free, upload__result_cleanup (upload/ only).
 */
#include "upload/upload_int.h"

#include "common/json.h"
#include "store/store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HEARTBEAT_MS  250 /* progress written at most 4 times a second */
#define CRED_MARGIN_S 120 /* a credential this close to expiry is old */
#define RETRY_BASE_MS 1000
#define RETRY_MAX_MS  60000

struct upload_service {
	struct upload_config c;
	struct db_pool *pool;
	struct upload_source_opts so;
	pthread_t *threads;
	int nthreads;
	atomic_bool stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char instance[64];
};

/* ---------------------------------------------------------------- helpers */

const struct upload_adapter *
upload__adapter_find(const char *provider)
{
	if (provider != NULL && strcmp(provider, "tencent") == 0)
		return &upload__tencent_adapter;
	if (provider != NULL && strcmp(provider, "alibaba") == 0)
		return &upload__alibaba_adapter;
	return NULL;
}

void
upload__target_set(struct upload_target *t, const char *scheme,
		   const char *host, const char *key)
{
	size_t n = strlen(scheme) + strlen(host) + 4;

	t->base_url = xmalloc(n);
	snprintf(t->base_url, n, "%s://%s", scheme, host);
	t->host = xstrdup(host);
	t->key = xstrdup(key[0] == '/' ? key + 1 : key);
}

void
upload__target_cleanup(struct upload_target *t)
{
	free(t->base_url);
	free(t->host);
	free(t->key);
	t->base_url = t->host = t->key = NULL;
}

void
upload__job_free(struct upload_job *job)
{
	if (job == NULL)
		return;
	free(job->provider);
	free(job->state);
	free(job->source_kind);
	free(job->source);
	free(job->media_name);
	free(job->media_type);
	free(job->media_kind);
	free(job->procedure);
	free(job->source_context);
	cJSON_Delete(job->options);
	free(job->session);
	free(job->multipart_upload_id);
	free(job->file_id);
	free(job->source_version);
	free(job);
}

void
upload__result_cleanup(struct upload_result *r)
{
	free(r->file_id);
	free(r->media_url);
	free(r->cover_url);
	memset(r, 0, sizeof(*r));
}

struct cJSON *
upload__session_doc(const char *provider)
{
	cJSON *doc = cJSON_CreateObject();

	if (doc == NULL)
		fatal("out of memory");
	json_add_str(doc, "provider", provider);
	return doc;
}

char *
upload__session_text(cJSON *doc, const struct upload_session *s)
{
	char *txt;

	cJSON_AddNumberToObject(doc, "expires_at", (double)s->expires_at);
	txt = cJSON_PrintUnformatted(doc); /* malloc: the caller free()s */
	cJSON_Delete(doc);
	if (txt == NULL)
		fatal("out of memory");
	return txt;
}

cJSON *
upload__session_parse(const char *json, int64_t *expires_at, struct err *e)
{
	cJSON *doc = json_parse(json, strlen(json));

	*expires_at = 0;
	if (doc == NULL) {
		err_set(e, ERR_INPUT, "stored session is not JSON");
		return NULL;
	}
	json_get_i64(doc, "expires_at", expires_at);
	return doc;
}

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

/* ---------------------------------------------------------------- one job */

struct recorder;

struct job_ctx {
	struct upload_service *svc;
	struct upload_job *job;
	const char *owner;
	atomic_bool cancel;		/* asked for, seen by a heartbeat */
	atomic_bool lease_lost;		/* another worker has the job */
	bool no_checkpoints;		/* one failed: none more this attempt */
	struct upload_session *session; /* during the transfer */
	struct recorder *rec;		/* while the job is held */
	upload_progress_fn fn;
	void *fn_arg;
};

/* Renew the lease and write progress; notes cancel and lease loss. */
static void
beat(struct job_ctx *c, int64_t done)
{
	struct err e;
	bool cancel = false;

	err_clear(&e);
	if (store_upload_heartbeat(c->svc->pool, c->job->id, c->owner,
				   c->svc->c.lease_seconds, done, &cancel,
				   &e) != 0) {
		if (e.code == ERR_CONFLICT) {
			log_msg(LOG_WARN, "upload",
				"upload %s: lease lost, stopping", c->job->id);
			atomic_store(&c->lease_lost, true);
		}
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
checkpoint(struct job_ctx *c, const struct upload_part *p)
{
	struct err pe;

	if (c->no_checkpoints)
		return;
	err_clear(&pe);
	if (store_upload_part_done(c->svc->pool, c->job->id, c->owner,
				   p->number, p->size, p->etag,
				   p->has_crc64 ? &p->crc64 : NULL, &pe) == 0)
		return;
	if (pe.code == ERR_CONFLICT) {
		log_msg(LOG_WARN, "upload", "upload %s: lease lost, stopping",
			c->job->id);
		atomic_store(&c->lease_lost, true);
		return;
	}
	c->no_checkpoints = true;
	log_msg(LOG_WARN, "upload",
		"upload %s: part %d is sent but not checkpointed (%s); the "
		"transfer goes on without checkpoints",
		c->job->id, p->number, pe.msg);
}

/*
 * A held job's database writes, the heartbeat (with the progress, every
 * HEARTBEAT_MS) and the part checkpoints, run on a thread of their own:
 * each may wait on the database up to db_timeout_ms, and a slow or silent
 * database must not hold the parts being sent. The transfer only notes
 * what is to be written (hook_part, hook_progress) and reads the outcome
 * (hook_stop: cancel asked for, lease lost). The heartbeat runs from the
 * claim until the job's outcome is to be written (process), so that no
 * step outlasts the lease: a URL downloaded whole before the upload, or a
 * platform call retried for minutes, would otherwise let another worker
 * claim the job and do it again.
 */
struct recorder {
	struct job_ctx *c;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;
	int64_t done;		   /* the latest progress, in bytes */
	struct upload_part *parts; /* sent, not yet checkpointed */
	size_t nparts, cap;
};

static void *
recorder_main(void *arg)
{
	struct recorder *r = arg;
	int64_t last_beat = time_mono_ms();
	struct upload_part *todo = NULL;
	size_t ntodo = 0, todo_cap = 0;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		int64_t now = time_mono_ms(), done = r->done;
		bool stopping = r->stopping,
		     due = now - last_beat >= HEARTBEAT_MS;

		if (r->nparts == 0 && !stopping && !due) {
			struct timespec until =
			    time_after_ms(last_beat + HEARTBEAT_MS - now);

			pthread_cond_timedwait(&r->cv, &r->mu, &until);
			continue;
		}
		/* Take the parts noted, leaving the transfer an empty list. */
		{
			struct upload_part *t = todo;
			size_t cap = todo_cap;

			todo = r->parts;
			todo_cap = r->cap;
			ntodo = r->nparts;
			r->parts = t;
			r->cap = cap;
			r->nparts = 0;
		}
		pthread_mutex_unlock(&r->mu);
		for (size_t i = 0; i < ntodo; i++)
			checkpoint(r->c, &todo[i]);
		if (due && !stopping) {
			beat(r->c, done);
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

static void
recorder_start(struct recorder *r, struct job_ctx *c)
{
	*r = (struct recorder){.c = c, .done = -1};
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	if (pthread_create(&r->thread, NULL, recorder_main, r) != 0)
		fatal("could not start a thread");
	c->rec = r;
}

/* Stop c's recorder, if it runs, once the checkpoints noted are written
 * (or have failed). */
static void
recorder_stop(struct job_ctx *c)
{
	struct recorder *r = c->rec;

	if (r == NULL)
		return;
	pthread_mutex_lock(&r->mu);
	r->stopping = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	c->rec = NULL;
	free(r->parts);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
}

static int
hook_init(void *arg, const char *upload_id, int64_t part_size, struct err *e)
{
	struct job_ctx *c = arg;

	return store_upload_set_multipart(c->svc->pool, c->job->id, c->owner,
					  upload_id, part_size, e);
}

/* A part is in the store: note it for a checkpoint (the recorder's). */
static int
hook_part(void *arg, const struct upload_part *p, struct err *e)
{
	struct recorder *r = ((struct job_ctx *)arg)->rec;

	(void)e;
	pthread_mutex_lock(&r->mu);
	if (r->nparts == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->parts = xrealloc(r->parts, r->cap * sizeof(*r->parts));
	}
	r->parts[r->nparts++] = *p;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return 0;
}

static void
hook_progress(void *arg, int64_t done, int64_t total)
{
	struct job_ctx *c = arg;

	pthread_mutex_lock(&c->rec->mu);
	c->rec->done = done;
	pthread_mutex_unlock(&c->rec->mu);
	if (c->fn != NULL)
		c->fn(c->fn_arg, "uploading", done, total);
}

/*
 * New credentials for session s (Alibaba RefreshUploadVideo), written to
 * uploads.session so that a job resumed after a restart goes on with them
 * instead of asking again; the checkpoint (multipart upload id, parts,
 * bytes) stays. A failure to record them does not stop the transfer,
 * which has them in memory; a lost lease does (hook_stop).
 */
static int
renew_credential(struct job_ctx *c, struct upload_session *s, struct err *e)
{
	const struct upload_adapter *ad =
	    upload__adapter_find(c->job->provider);
	struct err se;
	char *txt;
	int rc;

	if ((rc = ad->refresh(c->svc->c.cloud, c->job, s, e)) != 0)
		return rc;
	txt = ad->save(s);
	err_clear(&se);
	if (store_upload_set_credential(c->svc->pool, c->job->id, c->owner, txt,
					s->expires_at, &se) != 0) {
		if (se.code == ERR_CONFLICT)
			atomic_store(&c->lease_lost, true);
		log_msg(LOG_WARN, "upload",
			"upload %s: could not record the renewed credential: "
			"%s",
			c->job->id, se.msg);
	}
	free(txt);
	return 0;
}

/* New credentials for the session in use (Alibaba RefreshUploadVideo). */
static int
hook_refresh(void *arg, struct err *e)
{
	struct job_ctx *c = arg;

	return renew_credential(c, c->session, e);
}

static bool
hook_stop(void *arg)
{
	struct job_ctx *c = arg;

	return atomic_load(&c->cancel) || atomic_load(&c->lease_lost) ||
	       atomic_load(&c->svc->stop);
}

static void
transfer_opts(const struct upload_service *svc, const struct upload_job *job,
	      struct upload_transfer_opts *t)
{
	*t = (struct upload_transfer_opts){
	    .cloud = svc->c.cloud,
	    .part_size = job->part_size > 0 ? job->part_size : svc->c.part_size,
	    .threshold = svc->c.threshold,
	    .parallel = svc->c.parallel,
	    .max_attempts = svc->c.max_attempts,
	    .part_timeout_ms = svc->c.part_timeout_ms,
	};
}

/*
 * Whether a refusal means "the credential is gone": renew it, or start
 * over. Broader than the transfer engine's upload__token_expired, which
 * renews and resends a part: here also a signature the store found out of
 * its time window (COS: AccessDenied "Request has expired"; OSS:
 * RequestTimeTooSkewed). Whether COS reports a lapsed TempCertificate that
 * way is unconfirmed; a new session is the remedy that works either way,
 * and the restarts are bounded.
 */
static bool
credential_expired(const struct err *e)
{
	return upload__token_expired(e) ||
	       (e->code == ERR_AUTH &&
		(strcmp(e->remote, "RequestTimeTooSkewed") == 0 ||
		 (strcmp(e->remote, "AccessDenied") == 0 &&
		  strstr(e->msg, "xpired") != NULL)));
}

/* Upload the cover image given with the job, if any (one PUT). */
static int
send_cover(struct job_ctx *c, const struct upload_session *s, struct err *e)
{
	const char *path = json_get_str(c->job->options, "cover_path");
	struct upload_transfer_opts t;
	struct upload_session cs;
	struct upload_source *src = NULL;
	struct upload_job cj;
	char *mp = NULL;
	struct upload_part *parts = NULL;
	int np = 0, rc;

	if (path == NULL || s->cover_key == NULL)
		return 0;
	cj = *c->job;
	cj.source_kind = "file";
	cj.source = (char *)(uintptr_t)path;
	if ((rc = upload__source_open(&c->svc->so, &cj, 0, NULL, &src, e)) != 0)
		return rc;
	cs = *s;
	cs.target.key = s->cover_key;
	transfer_opts(c->svc, c->job, &t);
	t.threshold = INT64_MAX;
	rc =
	    upload__transfer_run(&t, &cs, src, &mp, &parts, &np, NULL, NULL, e);
	free(mp);
	free(parts);
	upload__source_free(src);
	return rc;
}

/* JOB_PARKED: the platform pulls the URL; the callbacks finish the job. */
enum outcome {
	JOB_DONE,
	JOB_FAILED,
	JOB_RETRY,
	JOB_CANCELED,
	JOB_LOST,
	JOB_PARKED
};

/* The outcome of a job that stopped when hook_stop said so. */
static enum outcome
stopped_outcome(struct job_ctx *c)
{
	return atomic_load(&c->cancel)	     ? JOB_CANCELED
	       : atomic_load(&c->lease_lost) ? JOB_LOST
					     : JOB_RETRY; /* shutdown */
}

/* The outcome of a failure: retried later, lost, or failed for good. */
static enum outcome
failed_outcome(int rc)
{
	if (rc == ERR_NET || rc == ERR_UNAVAIL || rc == ERR_DB)
		return JOB_RETRY;
	return rc == ERR_CONFLICT ? JOB_LOST : JOB_FAILED;
}

/*
 * A URL the platform pulls itself (Alibaba UploadMediaByURL): one call,
 * then the JobId is recorded and the job parked (state uploading, lease
 * released, never claimed again). Its callbacks finish it: the
 * FileUploadComplete that follows the pull names the upload in Extend, a
 * failed UploadByURLComplete names the JobId.
 *
 * The one window for a second pull of the same URL: the platform accepted
 * the call but the JobId was not recorded (a crash in between, a network
 * failure after the request left, the database unavailable at that
 * moment); the job is then claimed again once its lease expires or its
 * retry is due, and calls UploadMediaByURL again. Both pulls name the same
 * upload; the first media record to arrive is the upload's.
 */
static enum outcome
run_pull(struct job_ctx *c, struct err *e)
{
	struct upload_service *svc = c->svc;
	char *job_id = NULL;
	int rc;

	if (c->fn != NULL)
		c->fn(c->fn_arg, "uploading", 0, -1);
	if ((rc = upload__alibaba_url_pull(svc->c.cloud, c->job, &job_id, e)) !=
	    0)
		return failed_outcome(rc);
	/* Recording the job gives the lease back: no heartbeat after it. */
	recorder_stop(c);
	rc = store_upload_set_url_job(svc->pool, c->job->id, c->owner,
				      c->job->provider, job_id, e);
	if (rc != 0)
		log_msg(LOG_ERROR, "upload",
			"upload %s: the platform pulls the URL as job %s but "
			"that was not recorded: %s",
			c->job->id, job_id, e->msg);
	free(job_id);
	return rc == 0 ? JOB_PARKED : failed_outcome(rc);
}

/*
 * Where a resumed URL may be downloaded from: the first byte of the first
 * part the checkpoint lacks, so that the parts in the store are not
 * downloaded again (the source asks for the rest only if the URL is still
 * what it was). 0 unless the job goes on with its multipart upload. A part
 * that ListParts finds missing after all, or a session that cannot be
 * reused, needs bytes before it: the source then downloads the whole body.
 */
static int64_t
resume_offset(struct job_ctx *c, const struct upload_adapter *ad)
{
	const struct upload_job *job = c->job;
	struct store_upload_part *sp = NULL;
	int n = 0, next = 1;
	struct err e;

	if (strcmp(job->source_kind, "url") != 0 || job->session == NULL ||
	    job->multipart_upload_id == NULL || job->part_size <= 0 ||
	    strcmp(job->state, "committing") == 0 ||
	    (job->credential_expires_at <= time_unix() + CRED_MARGIN_S &&
	     (ad == NULL || ad->refresh == NULL)))
		return 0;
	err_clear(&e);
	if (store_upload_parts(c->svc->pool, job->id, &sp, &n, &e) != 0)
		return 0;
	/* In part number order: count the run from part 1. */
	for (int i = 0; i < n; i++) {
		if (sp[i].number == next && sp[i].size == job->part_size)
			next++;
		free(sp[i].etag);
	}
	free(sp);
	return (int64_t)(next - 1) * job->part_size;
}

/*
 * Run a claimed job to its end or to a point where it must be given back.
 * On JOB_DONE, res holds the platform's answer.
 */
/* The multipart upload and its checkpoint are void (a new session, or the
 * media sent again): the next transfer begins a new one. */
static void
forget_multipart(struct upload_job *job, struct upload_part **parts,
		 int *nparts)
{
	free(job->multipart_upload_id);
	job->multipart_upload_id = NULL;
	job->part_size = 0;
	free(*parts);
	*parts = NULL;
	*nparts = 0;
}

static enum outcome
run_claimed(struct job_ctx *c, struct upload_result *res, struct err *e)
{
	struct upload_service *svc = c->svc;
	struct upload_job *job = c->job;
	const struct upload_adapter *ad = upload__adapter_find(job->provider);
	const struct cloud_opts *o = svc->c.cloud;
	struct upload_session *s = NULL;
	struct upload_source *src = NULL;
	struct upload_transfer_opts t;
	struct upload_part *parts = NULL;
	int nparts = 0, rc = 0, restarts = 0, resends = 0, refreshes = 0;
	bool committing = strcmp(job->state, "committing") == 0;
	enum outcome out = JOB_FAILED;

	transfer_opts(svc, job, &t);
	if (ad == NULL) {
		err_set(e, ERR_INPUT, "provider \"%s\" is not supported yet",
			job->provider);
		return JOB_FAILED;
	}
	if (upload__alibaba_is_pull(job))
		return run_pull(c, e);
	rc = upload__source_open(&svc->so, job, resume_offset(c, ad),
				 &(struct upload_source_stop){hook_stop, c},
				 &src, e);
	if (rc == ERR_CANCELED)
		return stopped_outcome(c);
	if (rc != 0)
		return rc == ERR_NET ? JOB_RETRY : JOB_FAILED;

	/* Resume with the stored session while its credential is valid. */
	if (job->session != NULL &&
	    job->credential_expires_at > time_unix() + CRED_MARGIN_S) {
		struct err le;

		err_clear(&le);
		if (ad->load(o, job->session, &s, &le) != 0)
			s = NULL;
	} else if (job->session != NULL && ad->refresh != NULL) {
		struct err le;

		err_clear(&le);
		if (ad->load(o, job->session, &s, &le) != 0 ||
		    renew_credential(c, s, &le) != 0) {
			ad->free(s);
			s = NULL;
		}
	}
	/* A source that changed since the session began (a file rewritten, a
	 * URL with another ETag) would have its new parts joined to the old
	 * ones the store has: start over. A session begun before versions were
	 * recorded (NULL) is taken as unchanged. */
	if (s != NULL && !committing && job->source_version != NULL &&
	    strcmp(job->source_version, upload__source_version(src)) != 0) {
		log_msg(LOG_INFO, "upload",
			"upload %s: the source changed since the session "
			"began; starting over",
			job->id);
		if (job->multipart_upload_id != NULL)
			upload__transfer_abort(&t, s, job->multipart_upload_id);
		ad->free(s);
		s = NULL;
	}
	if (s == NULL)
		committing = false;
	for (;;) {
		if (s == NULL) {
			forget_multipart(job, &parts, &nparts);
			if ((rc = ad->apply(o, job, &s, e)) != 0)
				goto fail;
			{
				char *txt = ad->save(s);

				rc = store_upload_set_session(
				    svc->pool, job->id, c->owner, txt,
				    s->expires_at, upload__source_size(src),
				    s->file_id, upload__source_version(src), e);
				free(txt);
			}
			if (rc != 0)
				goto fail;
		} else if (!committing && job->multipart_upload_id != NULL) {
			struct store_upload_part *sp = NULL;
			int n = 0;

			if ((rc = store_upload_parts(svc->pool, job->id, &sp,
						     &n, e)) != 0)
				goto fail;
			free(parts);
			parts =
			    xcalloc((size_t)(n > 0 ? n : 1), sizeof(*parts));
			for (int i = 0; i < n; i++) {
				parts[i].number = sp[i].number;
				parts[i].size = sp[i].size;
				parts[i].done = true;
				snprintf(parts[i].etag, sizeof(parts[i].etag),
					 "%s", sp[i].etag);
				parts[i].has_crc64 = sp[i].has_crc64;
				parts[i].crc64 = sp[i].crc64;
				free(sp[i].etag);
			}
			free(sp);
			nparts = n;
		}
		if (committing)
			break;
		transfer_opts(svc, job, &t);
		c->session = s;
		rc = upload__transfer_run(
		    &t, s, src, &job->multipart_upload_id, &parts, &nparts,
		    &(struct upload_transfer_hooks){
			.arg = c,
			.on_init = hook_init,
			.on_part = hook_part,
			.on_progress = hook_progress,
			.should_stop = hook_stop,
			.refresh = ad->refresh ? hook_refresh : NULL},
		    NULL, e);
		if (rc == 0)
			break;
		if (rc == ERR_CANCELED) {
			if (atomic_load(&c->cancel))
				upload__transfer_abort(
				    &t, s, job->multipart_upload_id);
			out = stopped_outcome(c);
			goto done;
		}
		/* The credential expired where the engine could not renew
		 * it (a control request): renew it and go on with the same
		 * multipart upload when the platform allows it. */
		if (credential_expired(e) && ad->refresh != NULL &&
		    refreshes++ < 2) {
			struct err re;

			err_clear(&re);
			if (renew_credential(c, s, &re) == 0) {
				err_clear(e);
				continue;
			}
			log_msg(LOG_WARN, "upload",
				"upload %s: could not renew the credential: "
				"%s",
				job->id, re.msg);
		}
		/* The store holds other bytes than were sent (a part that
		 * came back wrong at every try, or an object completed with
		 * other bytes than its parts'): send the media again, to the
		 * same object in the same session, which the platform knows
		 * it by (a new session would be a second media, and an Alibaba
		 * video is created with its session), at most twice. */
		if (upload__crc_mismatch(e) && resends++ < 2) {
			log_msg(LOG_WARN, "upload",
				"upload %s: sending the media again: %s",
				job->id, e->msg);
			upload__transfer_abort(&t, s, job->multipart_upload_id);
			forget_multipart(job, &parts, &nparts);
			err_clear(e);
			continue;
		}
		/* The store forgot the multipart upload, or the credential
		 * expired: start over once with a new session. */
		if ((rc == ERR_NOTFOUND || credential_expired(e)) &&
		    restarts++ < 2) {
			log_msg(LOG_INFO, "upload",
				"upload %s: starting over with a new session: "
				"%s",
				job->id, e->msg);
			ad->free(s);
			s = NULL;
			err_clear(e);
			continue;
		}
		goto fail;
	}
	/* The object is complete: from here a retry commits, it never sends
	 * the media again (its multipart upload is gone). The cover, small
	 * and idempotent, is sent from this state. */
	if ((rc = store_upload_set_state(svc->pool, job->id, c->owner,
					 "committing", e)) != 0 ||
	    (rc = send_cover(c, s, e)) != 0)
		goto fail;
	if (c->fn != NULL)
		c->fn(c->fn_arg, "committing", upload__source_size(src),
		      upload__source_size(src));
	if (ad->commit != NULL) {
		if ((rc = ad->commit(o, job, s, res, e)) != 0)
			goto fail;
	} else {
		res->file_id = s->file_id ? xstrdup(s->file_id) : NULL;
	}
	out = JOB_DONE;
	goto done;
fail:
	out = failed_outcome(rc);
	/* Failed for good, or out of attempts: the parts the store holds
	 * would cost storage until the store's own lifecycle removes them. */
	if (s != NULL &&
	    (out == JOB_FAILED ||
	     (out == JOB_RETRY && job->attempts >= svc->c.max_attempts)))
		upload__transfer_abort(&t, s, job->multipart_upload_id);
done:
	if (s != NULL)
		ad->free(s);
	free(parts);
	upload__source_free(src);
	return out;
}

/*
 * Record a canceled job. abort: first abort what it left on the platform,
 * with its saved session (a job canceled before it ran); run_claimed has
 * aborted with its own session when the cancel came mid-transfer, and a
 * second abort would only find no such upload.
 */
static void
cancel_claimed(struct job_ctx *c, bool abort)
{
	const struct upload_adapter *ad =
	    upload__adapter_find(c->job->provider);
	struct upload_session *s = NULL;
	struct err e;

	err_clear(&e);
	if (abort && ad != NULL && c->job->session != NULL &&
	    c->job->multipart_upload_id != NULL &&
	    ad->load(c->svc->c.cloud, c->job->session, &s, &e) == 0) {
		struct upload_transfer_opts t;

		transfer_opts(c->svc, c->job, &t);
		upload__transfer_abort(&t, s, c->job->multipart_upload_id);
		ad->free(s);
	}
	if (store_upload_canceled(c->svc->pool, c->job->id, c->owner, &e) != 0)
		log_msg(LOG_WARN, "upload", "upload %s: %s", c->job->id, e.msg);
}

/* Run one claimed row; the result is recorded. Returns 0 when the job
 * finished well, else its error in e. */
static int
process(struct upload_service *svc, struct store_upload *row, const char *owner,
	upload_progress_fn fn, void *arg, struct upload_result *res,
	struct err *e)
{
	struct job_ctx c = {
	    .svc = svc, .owner = owner, .fn = fn, .fn_arg = arg};
	struct recorder rec;
	bool cancel = row->cancel_requested;
	enum outcome oc;
	struct err se;
	int rc = 0;

	c.job = job_from_row(row);
	log_set_req_id(c.job->id);
	if (cancel) {
		cancel_claimed(&c, true);
		rc = err_set(e, ERR_CANCELED, "the upload was canceled");
		goto out;
	}
	log_msg(LOG_INFO, "upload", "upload %s: started (attempt %d, %s)",
		c.job->id, c.job->attempts, c.job->state);
	recorder_start(&rec, &c);
	oc = run_claimed(&c, res, e);
	recorder_stop(&c); /* before the outcome's write gives the lease back */
	err_clear(&se);
	switch (oc) {
	case JOB_DONE:
		if (store_upload_committed(svc->pool, c.job->id, owner,
					   res->file_id, res->media_url,
					   &se) != 0) {
			/* The platform has it; the record must say so. */
			log_msg(LOG_ERROR, "upload",
				"upload %s: committed as %s but not recorded: "
				"%s",
				c.job->id, res->file_id, se.msg);
			rc = err_set(e, se.code, "%s", se.msg);
			break;
		}
		log_msg(LOG_INFO, "upload", "upload %s: uploaded as %s",
			c.job->id, res->file_id);
		break;
	case JOB_PARKED:
		/* Recorded already: nothing to write. */
		break;
	case JOB_CANCELED:
		cancel_claimed(&c, false);
		rc = err_set(e, ERR_CANCELED, "the upload was canceled");
		break;
	case JOB_LOST:
		rc = err_set(e, ERR_CONFLICT,
			     "the job's lease was lost to another worker");
		log_msg(LOG_INFO, "upload", "upload %s: stopped: %s", c.job->id,
			e->msg);
		break;
	case JOB_RETRY:
		if (atomic_load(&svc->stop) && e->code == ERR_CANCELED) {
			/* Shutdown: hand the job back for a prompt resume. */
			if (store_upload_retry_later(svc->pool, c.job->id,
						     owner, 0, NULL, NULL,
						     &se) != 0)
				log_msg(LOG_WARN, "upload", "upload %s: %s",
					c.job->id, se.msg);
			rc = ERR_CANCELED;
			break;
		}
		if (c.job->attempts < svc->c.max_attempts) {
			/* The platform requests' backoff, on the job's scale:
			 * doubled per attempt, jittered from a random source
			 * (not rand(), whose one unseeded sequence would
			 * retry every instance's jobs in step). */
			const struct cloud_opts scale = {
			    .retry_base_ms = RETRY_BASE_MS,
			    .retry_max_ms = RETRY_MAX_MS};
			int64_t d =
			    cloud_http_backoff_ms(&scale, c.job->attempts);
			log_msg(LOG_WARN, "upload",
				"upload %s: attempt %d failed, retrying in "
				"%lld ms: %s",
				c.job->id, c.job->attempts, (long long)d,
				e->msg);
			if (store_upload_retry_later(
				svc->pool, c.job->id, owner, d,
				e->remote[0] ? e->remote : err_name(e->code),
				e->msg, &se) != 0)
				log_msg(LOG_WARN, "upload", "upload %s: %s",
					c.job->id, se.msg);
			rc = e->code ? e->code : ERR_NET;
			break;
		}
		/* fall through: out of attempts */
		/* FALLTHROUGH */
	case JOB_FAILED:
		log_msg(LOG_WARN, "upload", "upload %s: failed: %s", c.job->id,
			e->msg);
		if (store_upload_fail(svc->pool, c.job->id, owner,
				      e->remote[0] ? e->remote
						   : err_name(e->code),
				      e->msg, &se) != 0)
			log_msg(LOG_ERROR, "upload",
				"upload %s: could not record the failure: %s",
				c.job->id, se.msg);
		rc = e->code ? e->code : ERR_INTERNAL;
		break;
	}
out:
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

/* ---------------------------------------------------------------- submit */

static void
new_uuid(char out[37])
{
	unsigned char b[16];

	if (random_bytes(b, sizeof(b)) != 0)
		fatal("could not read random bytes");
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x"
		 "%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* The extension of the last path segment of s (no query), or NULL. */
static char *
extension_of(const char *s)
{
	const char *end = s + strcspn(s, "?#");
	const char *slash = s, *dot = NULL;

	for (const char *p = s; p < end; p++)
		if (*p == '/')
			slash = p + 1;
	for (const char *p = slash; p < end; p++)
		if (*p == '.')
			dot = p;
	if (dot == NULL || dot + 1 >= end || end - dot > 12)
		return NULL;
	{
		char *x = xstrndup(dot + 1, (size_t)(end - dot - 1));

		for (char *p = x; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		return x;
	}
}

/* The base name without extension, for MediaName. */
static char *
base_name(const char *s)
{
	const char *end = s + strcspn(s, "?#"), *slash = s, *dot = NULL;

	for (const char *p = s; p < end; p++)
		if (*p == '/')
			slash = p + 1;
	for (const char *p = slash; p < end; p++)
		if (*p == '.')
			dot = p;
	if (dot != NULL && dot > slash)
		end = dot;
	return xstrndup(slash, (size_t)(end - slash));
}

int
upload_submit(struct upload_service *svc, const struct upload_request *r,
	      char **json, char id[37], struct err *e)
{
	struct upload_source_opts so = svc->so;
	char *resolved = NULL, *ext = NULL, *name = NULL, *opts_txt = NULL;
	const char *kind, *source, *media_kind = "video";
	cJSON *opts = NULL;
	int64_t size = -1;
	int rc = 0;
	bool pull = false; /* the platform fetches the URL itself */

	*json = NULL;
	id[0] = '\0';
	if (r->provider == NULL || upload__adapter_find(r->provider) == NULL) {
		if (r->provider != NULL && strcmp(r->provider, "alibaba") == 0)
			return err_set(e, ERR_INPUT,
				       "provider \"alibaba\" is not supported "
				       "yet");
		return err_set(e, ERR_INPUT,
			       "provider must be \"tencent\" or \"alibaba\"");
	}
	if ((r->path == NULL) == (r->url == NULL))
		return err_set(e, ERR_INPUT,
			       "give exactly one of path and url");
	if (r->source_context != NULL && strlen(r->source_context) > 4096)
		return err_set(e, ERR_INPUT, "source_context is too long");
	if ((rc = upload__url_mode(r->provider, r->url != NULL, r->url_upload,
				   svc->c.alibaba_url_upload, &pull, e)) != 0)
		return rc;
	if (r->path != NULL) {
		so.root = r->confine ? (svc->c.root ? svc->c.root : "") : NULL;
		if ((rc = upload__path_check(&so, r->path, &resolved, &size,
					     e)) != 0)
			goto out;
		kind = "file";
		source = resolved;
	} else {
		/*
		 * A URL the platform pulls is fetched from the platform's
		 * network, not from vodhook's: the private-address refusal,
		 * which keeps callers from making vodhook fetch from its own
		 * network (SSRF), has nothing to protect there, and the host
		 * is not resolved here either (the platform resolves it).
		 */
		rc = pull ? upload__pull_url_check(r->url, e)
			  : upload__url_check(&so, r->url, e);
		if (rc != 0)
			goto out;
		kind = "url";
		source = r->url;
	}
	ext = r->media_type ? xstrdup(r->media_type) : extension_of(source);
	if (ext == NULL) {
		rc = err_set(e, ERR_INPUT,
			     "media_type is needed: the source has no "
			     "extension");
		goto out;
	}
	name = r->name ? xstrdup(r->name) : base_name(source);
	opts = r->options ? json_parse(r->options, strlen(r->options)) : NULL;
	if (opts == NULL)
		opts = cJSON_CreateObject();
	if (!cJSON_IsObject(opts)) {
		rc = err_set(e, ERR_INPUT, "options must be a JSON object");
		goto out;
	}
	if ((rc = upload__options_check(r->provider, ext, opts, &media_kind,
					e)) != 0)
		goto out;
	if (strcmp(r->provider, "tencent") == 0 &&
	    json_get_str(opts, "storage_region") == NULL &&
	    svc->c.default_storage_region != NULL &&
	    svc->c.default_storage_region[0] != '\0')
		json_add_str(opts, "storage_region",
			     svc->c.default_storage_region);
	{
		const char *cover = json_get_str(opts, "cover_path");

		if (cover != NULL) {
			char *rc_path = NULL;
			int64_t csz;

			so.root = r->confine ? (svc->c.root ? svc->c.root : "")
					     : NULL;
			if ((rc = upload__path_check(&so, cover, &rc_path, &csz,
						     e)) != 0)
				goto out;
			cJSON_DeleteItemFromObject(opts, "cover_path");
			json_add_str(opts, "cover_path", rc_path);
			free(rc_path);
		}
	}
	/* UploadMediaByURL takes audio and video only: an image URL is
	 * streamed unless the request asked for a pull. */
	if (pull && strcmp(media_kind, "image") == 0) {
		if (r->url_upload != NULL) {
			rc = err_set(e, ERR_INPUT,
				     "url_upload \"platform\" takes audio and "
				     "video only (UploadMediaByURL)");
			goto out;
		}
		pull = false;
		if ((rc = upload__url_check(&so, r->url, e)) != 0)
			goto out;
	}
	/* The way an Alibaba URL is taken is decided now, for good. */
	if (strcmp(kind, "url") == 0 && strcmp(r->provider, "alibaba") == 0) {
		cJSON_DeleteItemFromObject(opts, "url_upload");
		json_add_str(opts, "url_upload", pull ? "platform" : "stream");
	}
	if ((opts_txt = cJSON_PrintUnformatted(opts)) == NULL)
		fatal("out of memory");
	new_uuid(id);
	{
		struct store_upload_new nu = {
		    .id = id,
		    .provider = r->provider,
		    .source_kind = kind,
		    .source = source,
		    .media_name = name,
		    .media_type = ext,
		    .media_kind = media_kind,
		    .procedure =
			r->procedure && r->procedure[0] ? r->procedure : NULL,
		    .source_context = r->source_context,
		    .options = opts_txt,
		    .bytes_total = size,
		    .lease_owner = r->lease_owner,
		    .lease_seconds = svc->c.lease_seconds,
		};

		rc = store_upload_create(svc->pool, &nu, json, e);
	}
	if (rc == 0) {
		/* Wake an idle worker of this process. */
		pthread_mutex_lock(&svc->mu);
		pthread_cond_signal(&svc->cv);
		pthread_mutex_unlock(&svc->mu);
	}
out:
	if (rc != 0)
		id[0] = '\0';
	cJSON_Delete(opts);
	free(opts_txt);
	free(resolved);
	free(ext);
	free(name);
	return rc;
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
		if (rc != ERR_NET && rc != ERR_UNAVAIL && rc != ERR_DB)
			return rc;
		if (atomic_load(&svc->stop))
			return rc;
		/* Retried: wait for its backoff, then claim it again. */
		{
			struct timespec ts = {1, 0};

			nanosleep(&ts, NULL);
		}
	}
}

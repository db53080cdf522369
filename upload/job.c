/*
 * job.c: the life of one claimed job, from its source to CommitUpload.
 *
 * upload__job_run is a sequence of named steps: open the source (from
 * where a resume needs it), resume the saved session while its credential
 * is valid and the source is what it was, send the media (a new session
 * when there is none, else the checkpoint; the transfer and its recovery
 * rules), then complete (the state committing, the cover, CommitUpload).
 * A failure is sorted by upload__error_transient: given back for a later
 * attempt, or failed for good, in which case what the job left in the
 * store is aborted. A URL the platform pulls itself is one call instead
 * (run_pull). Nothing here writes the outcome: worker.c does.
 *
 * Interface: upload__job_run, upload__job_abandon_saved,
 * upload__job_is_pull, upload__error_transient, upload__job_free,
 * upload__result_cleanup (upload/ only).
 */
#include "upload/worker_int.h"

#include "common/json.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CRED_MARGIN_S 120 /* a credential this close to expiry is old */
#define MAX_RENEWALS  2	  /* per attempt: credential renewed in place */
#define MAX_RESENDS   2	  /* per attempt: media sent again (CRC-64) */
#define MAX_RESTARTS  2	  /* per attempt: new sessions */

/* What one attempt at a job holds. */
struct job_run {
	struct job_ctx *c;
	struct upload_job *job;
	const struct upload_adapter *ad;
	const struct cloud_opts *o;
	struct upload_transfer_opts t;
	struct upload_source *src;
	struct upload_session *s; /* NULL: none yet, or dropped */
	struct upload_part *parts;
	int nparts;
	bool committing; /* the object is complete: commit only */
	bool stopped;	 /* the transfer stopped when hook_stop said so */
	int renewals, resends, restarts;
};

bool
upload__error_transient(int code)
{
	return code == ERR_NET || code == ERR_UNAVAIL || code == ERR_DB;
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

bool
upload__job_is_pull(const struct upload_job *job)
{
	const struct upload_adapter *ad = upload__adapter_find(job->provider);
	const char *mode = json_get_str(job->options, "url_upload");

	return ad != NULL && ad->pull != NULL && mode != NULL &&
	       strcmp(mode, "platform") == 0 && job->source_kind != NULL &&
	       strcmp(job->source_kind, "url") == 0;
}

/* ---------------------------------------------------------------- hooks */

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
	(void)e;
	upload__recorder_note_part(((struct job_ctx *)arg)->rec, p);
	return 0;
}

static void
hook_progress(void *arg, int64_t done, int64_t total)
{
	struct job_ctx *c = arg;

	upload__recorder_note_progress(c->rec, done);
	if (c->fn != NULL)
		c->fn(c->fn_arg, "uploading", done, total);
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

/* ---------------------------------------------------------------- helpers */

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
 * RequestTimeTooSkewed). A new session is the remedy that works whichever
 * way a store reports a lapsed temporary credential, and the restarts are
 * bounded.
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

/* The outcome of a job that stopped when hook_stop said so. */
static enum upload_outcome
stopped_outcome(struct job_ctx *c)
{
	return atomic_load(&c->cancel)	     ? JOB_CANCELED
	       : atomic_load(&c->lease_lost) ? JOB_LOST
					     : JOB_RETRY; /* shutdown */
}

/* The outcome of a failure: retried later, lost, or failed for good. */
static enum upload_outcome
failed_outcome(int rc)
{
	if (upload__error_transient(rc))
		return JOB_RETRY;
	return rc == ERR_CONFLICT ? JOB_LOST : JOB_FAILED;
}

/* The multipart upload and its checkpoint are void (a new session, or the
 * media sent again): the next transfer begins a new one. */
static void
forget_multipart(struct job_run *r)
{
	free(r->job->multipart_upload_id);
	r->job->multipart_upload_id = NULL;
	r->job->part_size = 0;
	free(r->parts);
	r->parts = NULL;
	r->nparts = 0;
}

/* Abort what the session left in the store and on the platform. */
static void
abandon(struct job_run *r)
{
	upload__transfer_abort(&r->t, r->s, r->job->multipart_upload_id);
	if (r->ad->abort != NULL)
		r->ad->abort(r->o, r->job, r->s);
}

void
upload__job_abandon_saved(struct job_ctx *c)
{
	const struct upload_adapter *ad =
	    upload__adapter_find(c->job->provider);
	struct job_run r = {
	    .c = c, .job = c->job, .ad = ad, .o = c->svc->c.cloud};
	struct err e;

	err_clear(&e);
	if (c->job->session == NULL || c->job->multipart_upload_id == NULL ||
	    ad->load(r.o, c->job->session, &r.s, &e) != 0)
		return;
	transfer_opts(c->svc, c->job, &r.t);
	abandon(&r);
	ad->free(r.s);
}

/* ---------------------------------------------------------------- a pull */

/*
 * A URL the platform pulls itself (Alibaba UploadMediaByURL, Tencent
 * PullUpload): one call, then the JobId (TaskId) is recorded and the job
 * parked (state uploading, lease released, never claimed again). Its
 * callbacks finish it: the FileUploadComplete that follows the pull names
 * the upload in Extend, a failed UploadByURLComplete names the JobId; a
 * PullComplete names the upload in SourceContext, or only its TaskId.
 *
 * The one window for a second pull of the same URL: the platform accepted
 * the call but the JobId was not recorded (a crash in between, a network
 * failure after the request left, the database unavailable at that
 * moment); the job is then claimed again once its lease expires or its
 * retry is due, and calls the pull again. Both pulls name the same
 * upload; the first media record to arrive is the upload's.
 */
static enum upload_outcome
run_pull(struct job_ctx *c, const struct upload_adapter *ad, struct err *e)
{
	struct upload_service *svc = c->svc;
	char *job_id = NULL;
	int rc;

	if (c->fn != NULL)
		c->fn(c->fn_arg, "uploading", 0, -1);
	if ((rc = ad->pull(svc->c.cloud, c->job, &job_id, e)) != 0)
		return failed_outcome(rc);
	/* Recording the job gives the lease back: no heartbeat after it. */
	upload__recorder_stop(c->rec);
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

/* ---------------------------------------------------------------- steps */

/*
 * Where a resumed URL may be downloaded from: the first byte of the first
 * part the checkpoint lacks, so that the parts in the store are not
 * downloaded again (the source asks for the rest only if the URL is still
 * what it was). 0 unless the job goes on with its multipart upload. A part
 * that ListParts finds missing after all, or a session that cannot be
 * reused, needs bytes before it: the source then downloads the whole body.
 */
static int64_t
resume_offset(const struct job_run *r)
{
	const struct upload_job *job = r->job;
	struct store_upload_part *sp = NULL;
	int n = 0, next = 1;
	struct err e;

	if (strcmp(job->source_kind, "url") != 0 || job->session == NULL ||
	    job->multipart_upload_id == NULL || job->part_size <= 0 ||
	    r->committing ||
	    (job->credential_expires_at <= time_unix() + CRED_MARGIN_S &&
	     r->ad->refresh == NULL))
		return 0;
	err_clear(&e);
	if (store_upload_parts(r->c->svc->pool, job->id, &sp, &n, &e) != 0)
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

/* Open the job's source, from where a resume needs its bytes. */
static int
open_source(struct job_run *r, struct err *e)
{
	return upload__source_new(&r->c->svc->so, r->job, resume_offset(r),
				  &(struct upload_source_stop){hook_stop, r->c},
				  &r->src, e);
}

/*
 * Take the saved session back while its credential is valid, or renewed
 * (when the platform renews); drop it when the source changed since it
 * began (a file rewritten, a URL with another ETag): its new parts would
 * be joined to the old ones the store has. A session begun before versions
 * were recorded (NULL) is taken as unchanged. Without a session, the job
 * starts over (even one that was committing).
 */
static void
resume_session(struct job_run *r)
{
	struct upload_job *job = r->job;
	struct err le;

	err_clear(&le);
	if (job->session != NULL &&
	    job->credential_expires_at > time_unix() + CRED_MARGIN_S) {
		if (r->ad->load(r->o, job->session, &r->s, &le) != 0)
			r->s = NULL;
	} else if (job->session != NULL && r->ad->refresh != NULL) {
		if (r->ad->load(r->o, job->session, &r->s, &le) != 0 ||
		    renew_credential(r->c, r->s, &le) != 0) {
			r->ad->free(r->s);
			r->s = NULL;
		}
	}
	if (r->s != NULL && !r->committing && job->source_version != NULL &&
	    strcmp(job->source_version, upload__source_version(r->src)) != 0) {
		log_msg(LOG_INFO, "upload",
			"upload %s: the source changed since the session "
			"began; starting over",
			job->id);
		abandon(r);
		r->ad->free(r->s);
		r->s = NULL;
	}
	if (r->s == NULL)
		r->committing = false;
}

/* A new platform session, recorded with the source's size and version. */
static int
begin_session(struct job_run *r, struct err *e)
{
	struct job_ctx *c = r->c;
	char *txt;
	int rc;

	forget_multipart(r);
	if ((rc = r->ad->apply(r->o, r->job, &r->s, e)) != 0)
		return rc;
	txt = r->ad->save(r->s);
	rc = store_upload_set_session(
	    c->svc->pool, r->job->id, c->owner, txt, r->s->expires_at,
	    upload__source_size(r->src), r->s->file_id,
	    upload__source_version(r->src), e);
	free(txt);
	return rc;
}

/* The parts checkpointed by earlier attempts (upload_parts). */
static int
load_checkpoint(struct job_run *r, struct err *e)
{
	struct store_upload_part *sp = NULL;
	int n = 0, rc;

	if ((rc = store_upload_parts(r->c->svc->pool, r->job->id, &sp, &n,
				     e)) != 0)
		return rc;
	free(r->parts);
	r->parts = xcalloc((size_t)(n > 0 ? n : 1), sizeof(*r->parts));
	for (int i = 0; i < n; i++) {
		struct upload_part *p = &r->parts[i];

		p->number = sp[i].number;
		p->size = sp[i].size;
		p->done = true;
		snprintf(p->etag, sizeof(p->etag), "%s", sp[i].etag);
		p->has_crc64 = sp[i].has_crc64;
		p->crc64 = sp[i].crc64;
		free(sp[i].etag);
	}
	free(sp);
	r->nparts = n;
	return 0;
}

/* One run of the transfer engine with the session in use. */
static int
transfer(struct job_run *r, struct err *e)
{
	struct job_ctx *c = r->c;
	int rc;

	transfer_opts(c->svc, r->job, &r->t);
	c->session = r->s;
	rc = upload__transfer_run(
	    &r->t, r->s, r->src, &r->job->multipart_upload_id, &r->parts,
	    &r->nparts,
	    &(struct upload_transfer_hooks){
		.arg = c,
		.on_init = hook_init,
		.on_part = hook_part,
		.on_progress = hook_progress,
		.should_stop = hook_stop,
		.refresh = r->ad->refresh ? hook_refresh : NULL},
	    NULL, e);
	r->stopped = rc == ERR_CANCELED;
	return rc;
}

/*
 * The recovery rules of a failed transfer, each bounded per attempt;
 * true when one applies (e cleared) and the transfer goes on:
 * - the credential expired where the engine could not renew it (a control
 *   request): renew it and go on with the same multipart upload, when the
 *   platform renews;
 * - the store holds other bytes than were sent (a part that came back
 *   wrong at every try, or an object completed with other bytes than its
 *   parts'): send the media again, to the same object in the same
 *   session, which the platform knows it by (a new session would be a
 *   second media, and an Alibaba video is created with its session);
 * - the store forgot the multipart upload, or the credential expired:
 *   start over with a new session.
 */
static bool
recover(struct job_run *r, int rc, struct err *e)
{
	const char *id = r->job->id;

	if (credential_expired(e) && r->ad->refresh != NULL &&
	    r->renewals++ < MAX_RENEWALS) {
		struct err re;

		err_clear(&re);
		if (renew_credential(r->c, r->s, &re) == 0) {
			err_clear(e);
			return true;
		}
		log_msg(LOG_WARN, "upload",
			"upload %s: could not renew the credential: %s", id,
			re.msg);
	}
	if (upload__crc_mismatch(e) && r->resends++ < MAX_RESENDS) {
		log_msg(LOG_WARN, "upload",
			"upload %s: sending the media again: %s", id, e->msg);
		upload__transfer_abort(&r->t, r->s,
				       r->job->multipart_upload_id);
		forget_multipart(r);
		err_clear(e);
		return true;
	}
	if ((rc == ERR_NOTFOUND || credential_expired(e)) &&
	    r->restarts++ < MAX_RESTARTS) {
		log_msg(LOG_INFO, "upload",
			"upload %s: starting over with a new session: %s", id,
			e->msg);
		r->ad->free(r->s);
		r->s = NULL;
		err_clear(e);
		return true;
	}
	return false;
}

/* Send the media until the store holds the whole object (or the job is
 * committing already), under the recovery rules. */
static int
send_media(struct job_run *r, struct err *e)
{
	int rc;

	for (;;) {
		if (r->s == NULL)
			rc = begin_session(r, e);
		else if (!r->committing && r->job->multipart_upload_id != NULL)
			rc = load_checkpoint(r, e);
		else
			rc = 0;
		if (rc != 0 || r->committing)
			return rc;
		rc = transfer(r, e);
		if (rc == 0 || r->stopped || !recover(r, rc, e))
			return rc;
	}
}

/* Upload the cover image given with the job, if any (one PUT). */
static int
send_cover(struct job_run *r, struct err *e)
{
	struct job_ctx *c = r->c;
	const char *path = json_get_str(r->job->options, "cover_path");
	struct upload_transfer_opts t;
	struct upload_session cs;
	struct upload_source *src = NULL;
	struct upload_job cj;
	char *mp = NULL;
	struct upload_part *parts = NULL;
	int np = 0, rc;

	if (path == NULL || r->s->cover_key == NULL)
		return 0;
	cj = *r->job;
	cj.source_kind = "file";
	cj.source = (char *)(uintptr_t)path;
	if ((rc = upload__source_new(&c->svc->so, &cj, 0, NULL, &src, e)) != 0)
		return rc;
	cs = *r->s;
	cs.target.key = r->s->cover_key;
	transfer_opts(c->svc, r->job, &t);
	t.threshold = INT64_MAX;
	rc =
	    upload__transfer_run(&t, &cs, src, &mp, &parts, &np, NULL, NULL, e);
	free(mp);
	free(parts);
	upload__source_free(src);
	return rc;
}

/*
 * The object is complete: from here a retry commits, it never sends the
 * media again (its multipart upload is gone). The cover, small and
 * idempotent, is sent from this state. Then CommitUpload, or the file id
 * the session knows.
 */
static int
complete(struct job_run *r, struct upload_result *res, struct err *e)
{
	struct job_ctx *c = r->c;
	int64_t size = upload__source_size(r->src);
	int rc;

	if ((rc = store_upload_set_state(c->svc->pool, r->job->id, c->owner,
					 "committing", e)) != 0 ||
	    (rc = send_cover(r, e)) != 0)
		return rc;
	if (c->fn != NULL)
		c->fn(c->fn_arg, "committing", size, size);
	if (r->ad->commit != NULL)
		return r->ad->commit(r->o, r->job, r->s, res, e);
	res->file_id = r->s->file_id ? xstrdup(r->s->file_id) : NULL;
	return 0;
}

/* The outcome of an attempt that did not complete. A job failed for good,
 * or out of attempts, aborts its parts: they would cost storage until the
 * store's own lifecycle removes them. */
static enum upload_outcome
attempt_failed(struct job_run *r, int rc)
{
	enum upload_outcome out;

	if (r->stopped) {
		if (atomic_load(&r->c->cancel))
			abandon(r);
		return stopped_outcome(r->c);
	}
	out = failed_outcome(rc);
	if (r->s != NULL && (out == JOB_FAILED ||
			     (out == JOB_RETRY &&
			      r->job->attempts >= r->c->svc->c.max_attempts)))
		abandon(r);
	return out;
}

enum upload_outcome
upload__job_run(struct job_ctx *c, struct upload_result *res, struct err *e)
{
	struct job_run r = {
	    .c = c,
	    .job = c->job,
	    .ad = upload__adapter_find(c->job->provider),
	    .o = c->svc->c.cloud,
	    .committing = strcmp(c->job->state, "committing") == 0,
	};
	enum upload_outcome out;
	int rc;

	if (upload__job_is_pull(r.job))
		return run_pull(c, r.ad, e);
	transfer_opts(c->svc, r.job, &r.t);
	if ((rc = open_source(&r, e)) != 0)
		return rc == ERR_CANCELED ? stopped_outcome(c)
					  : failed_outcome(rc);
	resume_session(&r);
	if ((rc = send_media(&r, e)) == 0 && (rc = complete(&r, res, e)) == 0)
		out = JOB_DONE;
	else
		out = attempt_failed(&r, rc);
	if (r.s != NULL)
		r.ad->free(r.s);
	free(r.parts);
	upload__source_free(r.src);
	return out;
}

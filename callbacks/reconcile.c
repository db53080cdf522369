/*
 * reconcile.c: advancing media records whose callbacks never came.
 *
 * The platforms barely retry callbacks (Alibaba gives up after three tries,
 * Tencent push retries only on timeouts). Every interval, each instance
 * claims a few records that have stayed in uploaded, confirmed or
 * processing for longer than the setting, looks them up with
 * DescribeMediaInfos / GetVideoInfo (Alibaba images: GetImageInfo;
 * attached media: GetAttachedMediaInfo), and records what the platform says as
 * an event ("Reconciled", received_via 'reconcile') through ingest, so that
 * the record moves by the same forward-only rules as for a callback and the
 * answer is kept as evidence.
 *
 * An Alibaba URL pull (UploadMediaByURL) has no media record until its
 * callbacks name the VideoId, so the parked jobs that waited as long are
 * looked up too, with GetURLUploadInfos (10 JobIds a call): a pull that
 * succeeded is recorded like its FileUploadComplete (a "Reconciled" event
 * for the MediaId, linked to the upload by its id), which links the upload
 * and moves it on, and from then on the media record is reconciled like
 * any other; a pull that failed fails the upload with the platform's code,
 * and one still unfinished url_pull_timeout after it was submitted fails it
 * with URLPullTimeout.
 *
 * A Tencent URL pull (PullUpload) parked as long is settled the same way,
 * with DescribeTaskDetail (reconcile_pull.c).
 *
 * A Tencent media whose task flow is known (ProcedureTaskId) is judged by
 * the task flow itself (DescribeTaskDetail), not by its outputs: a flow
 * whose transcode failed still lists the transcodes that succeeded, and a
 * flow without a transcode lists none. The platform keeps a task for three
 * days; past that, or without a task id, the outputs are the evidence.
 *
 * Interface: cb_reconcile_start, cb_reconcile_stop, cb_reconcile_free,
 * cb_reconcile_tencent_event, cb_reconcile_tencent_task_event,
 * cb_reconcile_alibaba_event, cb_reconcile_alibaba_media_event,
 * cb_reconcile_deleted_event,
 * cb__reconcile_submit, cb__reconcile_task_gone,
 * cb_reconcile_url_event, cb_reconcile_url_timeout_event.
 *
 * A media that the platform accepted to delete is claimed too once it has
 * waited as long: the platform's "not found" (DescribeMediaInfos'
 * NotExistFileIdSet, GetVideoInfo's InvalidVideo.NotFound, GetImageInfo's
 * not-found error, GetAttachedMediaInfo's NonExistMediaIds) completes the
 * deletion when its event was lost; one still there is asked about later.
 */
#include "callbacks/background.h"
#include "callbacks/reconcile_int.h"
#include "callbacks/parse_int.h"
#include "common/metrics.h"
#include "common/thread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECONCILE_BATCH 20 /* DescribeMediaInfos takes at most 20 ids */

struct cb_reconcile {
	struct cb_reconcile_opts o;
	struct vh_thread thread;
};

static void
set_reconciled(struct vod_event *ev, enum vod_provider p, const char *file_id,
	       const char *status, enum vod_effect effect)
{
	char key[300];

	ev->provider = p;
	ev->event_type = xstrdup("Reconciled");
	ev->file_id = xstrdup(file_id);
	ev->status = xstrdup(status);
	ev->effect = effect;
	snprintf(key, sizeof(key), "Reconciled:%s:%s", file_id, status);
	ev->dedup_key = xstrdup(key);
}

int
cb_reconcile_tencent_event(const struct cloud_tencent_media *m,
			   const char *procedure_task_id, const char *procedure,
			   struct vod_event *ev, struct err *e)
{
	bool expects_processing = (procedure_task_id && *procedure_task_id) ||
				  (procedure && *procedure);

	if (!m->exists)
		return err_set(e, ERR_INPUT, "media %s does not exist",
			       m->file_id);
	/* The file is there. Without processing asked for, that is the end;
	 * with it, transcoded outputs show that the task flow ran. */
	if (!expects_processing || m->n_transcodes > 0) {
		set_reconciled(ev, VOD_TENCENT, m->file_id, "ready",
			       EFFECT_READY);
	} else {
		set_reconciled(ev, VOD_TENCENT, m->file_id, "confirmed",
			       EFFECT_CONFIRMED);
		ev->processing_follows = 1;
	}
	if (m->media_url != NULL)
		ev->media_url = xstrdup(m->media_url);
	return 0;
}

int
cb_reconcile_tencent_task_event(const struct cloud_tencent_task *t,
				const char *file_id, struct vod_event *ev,
				struct err *e)
{
	int rc;

	if (strcmp(t->task_type, "Procedure") != 0 || t->detail == NULL)
		return err_set(e, ERR_INPUT,
			       "task of %s is a %s, not a task flow", file_id,
			       t->task_type);
	ev->provider = VOD_TENCENT;
	if ((rc = cb__parse_tencent_procedure(t->detail, ev, e)) != 0)
		return rc;
	if (ev->file_id == NULL || strcmp(ev->file_id, file_id) != 0)
		return err_set(e, ERR_INPUT, "task %s is not about media %s",
			       ev->task_id, file_id);
	/* The task's own status (WAITING, ABORTED) says more than the
	 * ProcedureTask's, which knows only PROCESSING and FINISH. */
	if (strcmp(t->status, "WAITING") == 0) {
		ev->effect = EFFECT_CONFIRMED;
		ev->processing_follows = 1;
	} else if (strcmp(t->status, "ABORTED") == 0) {
		ev->effect = EFFECT_FAILED;
		if (ev->error_code == NULL) {
			ev->error_code = xstrdup("ABORTED");
			ev->error_message =
			    xstrdup("the platform aborted the task flow");
		}
	} else if (ev->effect == EFFECT_NONE) {
		return err_set(e, ERR_INPUT,
			       "task %s: status \"%s\" says nothing new",
			       ev->task_id, t->status);
	}
	free(ev->event_type);
	ev->event_type = xstrdup("Reconciled");
	return cb__dedup_printf(ev, e, "Reconciled:%s:task:%s", file_id,
				t->status);
}

int
cb_reconcile_alibaba_event(const char *video_id, const char *status,
			   struct vod_event *ev, struct err *e)
{
	static const struct {
		const char *status;
		enum vod_effect effect;
	} map[] = {
	    /* GetVideoInfo Video.Status values (API reference). */
	    {"UploadSucc", EFFECT_CONFIRMED},
	    {"Transcoding", EFFECT_PROCESSING},
	    {"Normal", EFFECT_READY},
	    {"TranscodeFail", EFFECT_FAILED},
	    {"UploadFail", EFFECT_FAILED},
	};

	for (size_t i = 0; status != NULL && i < sizeof(map) / sizeof(map[0]);
	     i++) {
		if (strcmp(status, map[i].status) != 0)
			continue;
		set_reconciled(ev, VOD_ALIBABA, video_id, status,
			       map[i].effect);
		if (map[i].effect == EFFECT_CONFIRMED)
			ev->processing_follows = -1;
		if (map[i].effect == EFFECT_FAILED) {
			ev->error_code = xstrdup(status);
			ev->error_message =
			    xstrdup("the platform reports the video failed");
		}
		return 0;
	}
	return err_set(e, ERR_INPUT, "status \"%s\" of %s says nothing new",
		       status ? status : "(none)", video_id);
}

/*
 * Images and attached media: Status Uploading, Normal or UploadFail.
 * Sources: GetImageInfo (help.aliyun.com/document_detail/89742.html) and
 * GetAttachedMediaInfo (help.aliyun.com/document_detail/454905.html), and
 * the SDK models GetImageInfoResponseBody, GetAttachedMediaInfoResponseBody.
 */
int
cb_reconcile_alibaba_media_event(const char *kind, const char *media_id,
				 const char *status, struct vod_event *ev,
				 struct err *e)
{
	const char *what =
	    strcmp(kind, "image") == 0 ? "image" : "attached media";
	char msg[64];

	if (status != NULL && strcmp(status, "Normal") == 0) {
		set_reconciled(ev, VOD_ALIBABA, media_id, status, EFFECT_READY);
		return 0;
	}
	if (status != NULL && strcmp(status, "UploadFail") == 0) {
		set_reconciled(ev, VOD_ALIBABA, media_id, status,
			       EFFECT_FAILED);
		ev->error_code = xstrdup(status);
		snprintf(msg, sizeof(msg), "the platform reports the %s failed",
			 what);
		ev->error_message = xstrdup(msg);
		return 0;
	}
	return err_set(e, ERR_INPUT, "status \"%s\" of %s %s says nothing new",
		       status ? status : "(none)", what, media_id);
}

/*
 * An owned copy of s for a column: at most max bytes (cut at a character
 * boundary), NULL when s is NULL or not UTF-8.
 */
static char *
dup_text(const char *s, size_t max)
{
	size_t n;

	if (s == NULL)
		return NULL;
	n = strlen(s);
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	if (utf8_chars(s, n) < 0)
		return NULL;
	return xstrndup(s, n);
}

int
cb_reconcile_url_event(const struct cloud_alibaba_url_info *u,
		       const char *upload_id, struct vod_event *ev,
		       struct err *e)
{
	char key[CB_DEDUP_KEY_MAX + 1];
	const char *status = u->status != NULL ? u->status : "";

	if (u->outcome != CLOUD_URL_SUCCESS && u->outcome != CLOUD_URL_FAILED)
		return err_set(e, ERR_INPUT, "URL pull %s: %s", u->job_id,
			       u->outcome == CLOUD_URL_UNKNOWN
				   ? "the platform does not know it"
				   : "still under way");
	if (strlen(status) > CB_ID_MAX ||
	    utf8_chars(status, strlen(status)) < 0)
		return err_set(e, ERR_INPUT, "URL pull %s: unusable status",
			       u->job_id);
	ev->provider = VOD_ALIBABA;
	ev->event_type = xstrdup("Reconciled");
	ev->task_id = xstrdup(u->job_id);
	ev->status = u->status != NULL ? xstrdup(u->status) : NULL;
	ev->upload_id = xstrdup(upload_id);
	snprintf(key, sizeof(key), "Reconciled:job:%s:%s", u->job_id, status);
	ev->dedup_key = xstrdup(key);
	if (u->outcome == CLOUD_URL_SUCCESS) {
		/* As its FileUploadComplete would: the upload completed,
		 * whether processing follows is not said. */
		ev->file_id = xstrdup(u->media_id);
		ev->effect = EFFECT_CONFIRMED;
		ev->processing_follows = -1;
		ev->size = u->file_size;
		ev->event_time = u->complete_time;
		return 0;
	}
	/* The event only keeps the answer; the caller fails the upload. */
	ev->effect = EFFECT_NONE;
	ev->error_code = dup_text(u->error_code, CB_ID_MAX);
	if (ev->error_code == NULL)
		ev->error_code = dup_text(u->status, CB_ID_MAX);
	if (ev->error_code == NULL)
		ev->error_code = xstrdup("fail");
	ev->error_message = dup_text(u->error_message, CB_MESSAGE_MAX);
	return 0;
}

void
cb_reconcile_url_timeout_event(const char *job_id, const char *upload_id,
			       const char *status, int64_t parked_s,
			       struct vod_event *ev)
{
	char key[CB_DEDUP_KEY_MAX + 1], msg[CB_ID_MAX + 160];

	ev->provider = VOD_ALIBABA;
	ev->event_type = xstrdup("Reconciled");
	ev->task_id = xstrdup(job_id);
	ev->upload_id = xstrdup(upload_id);
	/* the platform's text, kept only if it is short, valid UTF-8 */
	ev->status = status != NULL ? dup_text(status, CB_ID_MAX) : NULL;
	snprintf(key, sizeof(key), "Reconciled:job:%s:timeout", job_id);
	ev->dedup_key = xstrdup(key);
	ev->effect = EFFECT_NONE;
	ev->error_code = xstrdup("URLPullTimeout");
	snprintf(msg, sizeof(msg),
		 "the platform had not finished pulling the URL %lld s after "
		 "it was submitted (%s%s)",
		 (long long)parked_s,
		 status == NULL	      ? "it does not know the job"
		 : ev->status == NULL ? "it gave no usable status"
				      : "status ",
		 ev->status != NULL ? ev->status : "");
	ev->error_message = xstrdup(msg);
}

void
cb_reconcile_deleted_event(enum vod_provider p, const char *file_id,
			   struct vod_event *ev)
{
	set_reconciled(ev, p, file_id, "deleted", EFFECT_DELETED);
}

void
cb__reconcile_submit(const struct cb_reconcile_opts *o, struct vod_event *ev,
		     const cJSON *evidence)
{
	struct ingest_result res;
	char *raw = evidence ? cJSON_PrintUnformatted(evidence) : NULL;
	struct err e;

	err_clear(&e);
	if (ingest_submit(o->ingest, ev, raw ? raw : "{}",
			  raw ? strlen(raw) : 2, VIA_RECONCILE, &res,
			  &e) != 0) {
		metric_add(METRIC_RECONCILE_ERRORS, 1);
		log_msg(LOG_WARN, "reconcile", "could not record \"%s\": %s",
			ev->dedup_key, e.msg);
	} else if (!res.duplicate) {
		metric_add(METRIC_RECONCILE_ADVANCED, 1);
		log_msg(LOG_INFO, "reconcile", "%s %s: %s",
			vod_provider_name(ev->provider),
			ev->file_id ? ev->file_id : ev->task_id,
			ev->status ? ev->status : "(no status)");
	}
	cJSON_free(raw);
}

/*
 * Whether a DescribeTaskDetail error means the platform no longer knows the
 * task (kept three days), so that the media's outputs are the evidence left.
 * Source: the API reference's error codes for DescribeTaskDetail
 * (cloud.tencent.com/document/api/266/33431).
 */
bool
cb__reconcile_task_gone(const struct err *e)
{
	return e->code == ERR_REMOTE &&
	       (strcmp(e->remote, "InvalidParameterValue.TaskId") == 0 ||
		strncmp(e->remote, "ResourceNotFound", 16) == 0);
}

/*
 * Judge media m by its task flow. Returns 0 when that settled it (an event
 * was submitted, or the flow said nothing new), 1 when the outputs must
 * judge instead, < 0 when the lookup failed (ask again next time).
 */
static int
reconcile_tencent_task(struct cb_reconcile *r, const struct cloud_opts *ao,
		       const struct cloud_tencent_media *m, const char *task_id)
{
	struct cloud_tencent_task t;
	struct vod_event ev;
	struct err e;
	int rc;

	err_clear(&e);
	metric_add(METRIC_RECONCILE_LOOKUPS, 1);
	if ((rc = cloud_tencent_describe_task_detail(ao, task_id, &t, &e)) !=
	    0) {
		cloud_tencent_task_cleanup(&t);
		if (cb__reconcile_task_gone(&e))
			return 1;
		metric_add(METRIC_RECONCILE_ERRORS, 1);
		log_msg(LOG_WARN, "reconcile",
			"could not describe task %s of tencent media %s: %s",
			task_id, m->file_id, e.msg);
		return rc;
	}
	vod_event_init(&ev);
	if (cb_reconcile_tencent_task_event(&t, m->file_id, &ev, &e) == 0)
		cb__reconcile_submit(&r->o, &ev, t.detail);
	else
		log_msg(LOG_DEBUG, "reconcile", "tencent media %s: %s",
			m->file_id, e.msg);
	vod_event_cleanup(&ev);
	cloud_tencent_task_cleanup(&t);
	return 0;
}

/* Judge media m by its outputs (DescribeMediaInfos). */
static void
reconcile_tencent_media(struct cb_reconcile *r, const struct cloud_opts *ao,
			const struct cloud_tencent_media *m,
			const struct store_stale_media *s)
{
	struct vod_event ev;
	struct err e;

	if (s->delete_requested) {
		/* Asked to be deleted: gone means deleted; still there,
		 * it is asked about again later. */
		if (!m->exists) {
			vod_event_init(&ev);
			cb_reconcile_deleted_event(VOD_TENCENT, m->file_id,
						   &ev);
			cb__reconcile_submit(&r->o, &ev, m->info);
			vod_event_cleanup(&ev);
		}
		return;
	}
	if (m->exists && s->procedure_task_id != NULL &&
	    reconcile_tencent_task(r, ao, m, s->procedure_task_id) != 1)
		return;
	err_clear(&e);
	vod_event_init(&ev);
	if (cb_reconcile_tencent_event(m, s->procedure_task_id, s->procedure,
				       &ev, &e) == 0)
		cb__reconcile_submit(&r->o, &ev, m->info);
	vod_event_cleanup(&ev);
}

static bool
same_app(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/*
 * One DescribeMediaInfos call about the media of stale[0..n) that belong
 * to the application of stale[first] (done[] marks them), in that
 * application: a FileId is unknown in another.
 */
static void
reconcile_tencent_app(struct cb_reconcile *r, struct store_stale_media *stale,
		      size_t n, size_t first, bool *done)
{
	struct cloud_tencent_media_infos infos;
	const char *ids[RECONCILE_BATCH];
	const char *app = stale[first].app_id;
	struct cloud_opts ao;
	size_t nids = 0;
	struct err e;

	err_clear(&e);
	for (size_t i = first; i < n; i++)
		if (!done[i] && same_app(stale[i].app_id, app)) {
			done[i] = true;
			ids[nids++] = stale[i].file_id;
		}
	cloud_tencent_opts_for_subapp(r->o.cloud, app, &ao);
	metric_add(METRIC_RECONCILE_LOOKUPS, 1);
	if (cloud_tencent_describe_media_infos(&ao, ids, nids, &infos, &e) !=
	    0) {
		metric_add(METRIC_RECONCILE_ERRORS, 1);
		log_msg(LOG_WARN, "reconcile",
			"could not describe %zu tencent media: %s", nids,
			e.msg);
		cloud_tencent_media_infos_cleanup(&infos);
		return;
	}
	for (size_t i = 0;
	     i < infos.n_items && !vh_stop_requested(&r->thread.stop); i++) {
		const struct cloud_tencent_media *m = &infos.items[i];

		for (size_t k = first; k < n; k++)
			if (same_app(stale[k].app_id, app) &&
			    strcmp(stale[k].file_id, m->file_id) == 0) {
				reconcile_tencent_media(r, &ao, m, &stale[k]);
				break;
			}
	}
	cloud_tencent_media_infos_cleanup(&infos);
}

/* The stale Tencent media, looked up in their applications. */
static void
reconcile_tencent(struct cb_reconcile *r)
{
	struct store_stale_media *stale = NULL;
	bool done[RECONCILE_BATCH] = {false};
	size_t n = 0;
	struct err e;

	err_clear(&e);
	if (store_media_claim_stale(r->o.pool, "tencent", r->o.after_s,
				    RECONCILE_BATCH, &stale, &n, &e) != 0 ||
	    n == 0)
		goto out;
	for (size_t i = 0; i < n && !vh_stop_requested(&r->thread.stop); i++)
		if (!done[i])
			reconcile_tencent_app(r, stale, n, i, done);
out:
	store_stale_media_free(stale, n);
}

/*
 * A media asked to be deleted that the platform no longer finds
 * (GetVideoInfo's InvalidVideo.NotFound, GetImageInfo's not-found error,
 * GetAttachedMediaInfo's NonExistMediaIds): deleted; the platform's answer
 * is the evidence.
 */
static void
reconcile_alibaba_gone(struct cb_reconcile *r, const char *media_id,
		       const char *code, const char *msg)
{
	cJSON *evidence = cJSON_CreateObject();
	struct vod_event ev;

	if (evidence == NULL ||
	    cJSON_AddStringToObject(evidence, "Code", code) == NULL ||
	    cJSON_AddStringToObject(evidence, "Message", msg) == NULL)
		fatal("out of memory");
	vod_event_init(&ev);
	cb_reconcile_deleted_event(VOD_ALIBABA, media_id, &ev);
	cb__reconcile_submit(&r->o, &ev, evidence);
	vod_event_cleanup(&ev);
	cJSON_Delete(evidence);
}

/* A stale video, looked up with GetVideoInfo. */
static void
reconcile_alibaba_video(struct cb_reconcile *r, const struct cloud_opts *ao,
			const struct store_stale_media *s)
{
	struct cloud_alibaba_video_info info;
	struct vod_event ev;
	struct err e;

	err_clear(&e);
	if (cloud_alibaba_get_video_info(ao, s->file_id, &info, &e) != 0 &&
	    s->delete_requested &&
	    strcmp(e.remote, "InvalidVideo.NotFound") == 0) {
		reconcile_alibaba_gone(r, s->file_id, e.remote, e.msg);
		cloud_alibaba_video_info_cleanup(&info);
		return;
	}
	if (e.code != 0) {
		metric_add(METRIC_RECONCILE_ERRORS, 1);
		log_msg(LOG_WARN, "reconcile",
			"could not get alibaba video %s: %s%s%s", s->file_id,
			e.remote, e.remote[0] ? ": " : "", e.msg);
		cloud_alibaba_video_info_cleanup(&info);
		return;
	}
	vod_event_init(&ev);
	/* Asked to be deleted and still there: wait for it. */
	if (!s->delete_requested &&
	    cb_reconcile_alibaba_event(s->file_id, info.status, &ev, &e) == 0)
		cb__reconcile_submit(&r->o, &ev, info.video);
	vod_event_cleanup(&ev);
	cloud_alibaba_video_info_cleanup(&info);
}

/*
 * A stale image (GetImageInfo) or attached media (GetAttachedMediaInfo):
 * GetVideoInfo does not know their ids.
 */
static void
reconcile_alibaba_other(struct cb_reconcile *r, const struct cloud_opts *ao,
			const struct store_stale_media *s)
{
	bool image = strcmp(s->kind, "image") == 0;
	struct cloud_alibaba_media_info info;
	struct vod_event ev;
	struct err e;
	int rc;

	err_clear(&e);
	rc = image ? cloud_alibaba_get_image_info(ao, s->file_id, &info, &e)
		   : cloud_alibaba_get_attached_media_info(ao, s->file_id,
							   &info, &e);
	if (rc != 0) {
		metric_add(METRIC_RECONCILE_ERRORS, 1);
		log_msg(LOG_WARN, "reconcile",
			"could not get alibaba %s %s: %s%s%s", s->kind,
			s->file_id, e.remote, e.remote[0] ? ": " : "", e.msg);
		cloud_alibaba_media_info_cleanup(&info);
		return;
	}
	if (!info.exists) {
		/* Gone: the deletion asked is complete; without one, the
		 * record is left as it is (the platform may lag). */
		if (s->delete_requested)
			reconcile_alibaba_gone(
			    r, s->file_id,
			    image ? "InvalidImage.NotFound"
				  : "NonExistMediaIds",
			    image ? "GetImageInfo: the image does not exist"
				  : "GetAttachedMediaInfo: NonExistMediaIds "
				    "lists the media");
		else
			log_msg(LOG_WARN, "reconcile",
				"alibaba %s %s: the platform does not have it",
				s->kind, s->file_id);
		cloud_alibaba_media_info_cleanup(&info);
		return;
	}
	vod_event_init(&ev);
	/* Asked to be deleted and still there: wait for it. */
	if (!s->delete_requested &&
	    cb_reconcile_alibaba_media_event(s->kind, s->file_id, info.status,
					     &ev, &e) == 0)
		cb__reconcile_submit(&r->o, &ev, info.info);
	vod_event_cleanup(&ev);
	cloud_alibaba_media_info_cleanup(&info);
}

static void
reconcile_alibaba(struct cb_reconcile *r)
{
	struct store_stale_media *stale = NULL;
	size_t n = 0;
	struct err e;

	err_clear(&e);
	if (store_media_claim_stale(r->o.pool, "alibaba", r->o.after_s,
				    RECONCILE_BATCH, &stale, &n, &e) != 0)
		goto out;
	for (size_t i = 0; i < n && !vh_stop_requested(&r->thread.stop); i++) {
		struct cloud_opts ao;

		metric_add(METRIC_RECONCILE_LOOKUPS, 1);
		/* in the media's own application, as its deletion was asked */
		cloud_alibaba_opts_for_app(r->o.cloud, stale[i].app_id, &ao);
		/* each kind has its own lookup */
		if (strcmp(stale[i].kind, "video") == 0)
			reconcile_alibaba_video(r, &ao, &stale[i]);
		else
			reconcile_alibaba_other(r, &ao, &stale[i]);
	}
out:
	store_stale_media_free(stale, n);
}

/* One GetURLUploadInfos call about jobs p[0..n), n <= 10. */
static void
reconcile_url_batch(struct cb_reconcile *r, const struct store_parked_pull *p,
		    size_t n)
{
	const char *ids[CLOUD_ALIBABA_URL_INFOS_MAX];
	/* the platform's answer about each job not done; NULL when it did
	 * not know the job or left it out */
	const struct cloud_alibaba_url_info *open[CLOUD_ALIBABA_URL_INFOS_MAX];
	bool done[CLOUD_ALIBABA_URL_INFOS_MAX] = {false};
	struct cloud_alibaba_url_infos infos;
	struct err e;

	err_clear(&e);
	for (size_t i = 0; i < n; i++) {
		ids[i] = p[i].url_job_id;
		open[i] = NULL;
	}
	metric_add(METRIC_RECONCILE_LOOKUPS, 1);
	if (cloud_alibaba_get_url_upload_infos(r->o.cloud, ids, n, &infos,
					       &e) != 0) {
		metric_add(METRIC_RECONCILE_ERRORS, 1);
		log_msg(LOG_WARN, "reconcile",
			"could not get %zu alibaba URL pull(s): %s%s%s", n,
			e.remote, e.remote[0] ? ": " : "", e.msg);
		cloud_alibaba_url_infos_cleanup(&infos);
		return;
	}
	for (size_t i = 0; i < infos.n_items; i++) {
		const struct cloud_alibaba_url_info *u = &infos.items[i];
		size_t k = 0;
		struct vod_event ev;

		while (k < n && strcmp(p[k].url_job_id, u->job_id) != 0)
			k++;
		if (k == n || done[k])
			continue;
		vod_event_init(&ev);
		err_clear(&e);
		if (cb_reconcile_url_event(u, p[k].id, &ev, &e) != 0) {
			/* Under way, or unknown: asked again after the
			 * delay, up to the timeout. */
			log_msg(LOG_DEBUG, "reconcile", "upload %s: %s",
				p[k].id, e.msg);
			if (u->outcome != CLOUD_URL_UNKNOWN)
				open[k] = u;
			vod_event_cleanup(&ev);
			continue;
		}
		/* A failure fails the upload in the same transaction
		 * (store/events.c, uj), as a failed UploadByURLComplete
		 * would. */
		done[k] = true;
		cb__reconcile_submit(&r->o, &ev, u->info);
		vod_event_cleanup(&ev);
	}
	/* A job not finished (under way, unknown to the platform, or left
	 * out of its answer) that has waited url_timeout_s fails. When the
	 * call itself failed (above), nothing is known and nothing fails. */
	for (size_t k = 0; k < n && r->o.url_timeout_s > 0; k++) {
		const char *status = NULL;
		struct vod_event ev;
		cJSON *evidence;

		if (done[k] || p[k].parked_s < r->o.url_timeout_s)
			continue;
		if (open[k] != NULL)
			status = open[k]->status != NULL ? open[k]->status : "";
		vod_event_init(&ev);
		cb_reconcile_url_timeout_event(p[k].url_job_id, p[k].id, status,
					       p[k].parked_s, &ev);
		/* the evidence: how long it waited, and the last answer */
		evidence = cJSON_CreateObject();
		cJSON_AddStringToObject(evidence, "JobId", p[k].url_job_id);
		cJSON_AddNumberToObject(evidence, "WaitedSeconds",
					(double)p[k].parked_s);
		if (open[k] != NULL && open[k]->info != NULL)
			cJSON_AddItemToObject(
			    evidence, "LastAnswer",
			    cJSON_Duplicate(open[k]->info, true));
		cb__reconcile_submit(&r->o, &ev, evidence);
		cJSON_Delete(evidence);
		vod_event_cleanup(&ev);
	}
	cloud_alibaba_url_infos_cleanup(&infos);
}

/* Alibaba URL pulls parked longer than after_s without their callbacks. */
static void
reconcile_alibaba_urls(struct cb_reconcile *r)
{
	struct store_parked_pull *parked = NULL;
	size_t n = 0;
	struct err e;

	err_clear(&e);
	if (store_upload_claim_parked(r->o.pool, "alibaba", r->o.after_s,
				      RECONCILE_BATCH, &parked, &n, &e) != 0)
		log_msg(LOG_DEBUG, "reconcile",
			"could not look for parked URL pulls: %s", e.msg);
	for (size_t i = 0; i < n && !vh_stop_requested(&r->thread.stop);
	     i += CLOUD_ALIBABA_URL_INFOS_MAX) {
		size_t k = n - i < CLOUD_ALIBABA_URL_INFOS_MAX
			       ? n - i
			       : CLOUD_ALIBABA_URL_INFOS_MAX;

		reconcile_url_batch(r, parked + i, k);
	}
	store_parked_pulls_free(parked, n);
}

static void *
reconcile_main(void *arg)
{
	struct cb_reconcile *r = arg;

	while (!vh_stop_sleep(&r->thread.stop, r->o.interval_ms)) {
		if (r->o.tencent) {
			reconcile_tencent(r);
			cb__reconcile_tencent_pulls(&r->o, &r->thread.stop);
		}
		if (r->o.alibaba) {
			reconcile_alibaba(r);
			reconcile_alibaba_urls(r);
		}
	}
	return NULL;
}

int
cb_reconcile_start(const struct cb_reconcile_opts *o, struct cb_reconcile **out,
		   struct err *e)
{
	struct cb_reconcile *r = xcalloc(1, sizeof(*r));

	(void)e;
	r->o = *o;
	vh_thread_start(&r->thread, "reconciler", reconcile_main, r);
	*out = r;
	return 0;
}

void
cb_reconcile_stop(struct cb_reconcile *r)
{
	if (r != NULL)
		vh_thread_stop(&r->thread);
}

void
cb_reconcile_free(struct cb_reconcile *r)
{
	if (r == NULL)
		return;
	cb_reconcile_stop(r);
	free(r);
}

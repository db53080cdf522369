/*
 * background.h: the event sources that vodhook runs itself, besides the
 * push endpoints:
 *
 *   pull       Tencent reliable callbacks (Mode = PULL): PullEvents (long
 *              poll), each event ingested like a pushed one, then
 *              ConfirmEvents for exactly those that are durable.
 *   reconcile  media records stuck in uploaded, confirmed or processing
 *              (a callback that never came) are looked up with
 *              DescribeMediaInfos / GetVideoInfo and advanced from the answer;
 *              Alibaba URL pulls parked as long, with GetURLUploadInfos,
 *              and Tencent ones with DescribeTaskDetail.
 *
 * Both run on their own thread until stopped; several vodhook instances may
 * run them at once (PullEvents hands an event to one caller at a time,
 * ingest deduplicates, the reconciler claims records with SKIP LOCKED).
 * Lifecycle: x_start allocates and starts, x_stop asks the thread to stop
 * and waits for it (safe twice), x_free stops if still running and frees
 * (NULL-safe).
 */
#ifndef VODHOOK_CALLBACKS_BACKGROUND_H
#define VODHOOK_CALLBACKS_BACKGROUND_H

#include "callbacks/ingest.h"
#include "cloud/cloud.h"

struct cb_pull;
struct cb_reconcile;

/*
 * Start polling, one thread per SubAppId of subapp_ids (the setting
 * tencent_pull_subapp_ids: decimal SubAppIds separated by commas; NULL or
 * empty: o's own). ERR_INPUT naming the setting for a bad list. o, ig,
 * pool: borrowed, outlive the poller (pool records the SubAppId of media
 * that pulled events created).
 */
int cb_pull_start(const struct cloud_opts *o, const char *subapp_ids,
		  struct ingest *ig, struct db_pool *pool, struct cb_pull **out,
		  struct err *e) VH_MUST_CHECK;
/* Stop; waits for a long poll in progress (at most ~10 s). Safe twice. */
void cb_pull_stop(struct cb_pull *p);
/* Stop if still running, and free. NULL-safe. */
void cb_pull_free(struct cb_pull *p);

struct cb_reconcile_opts {
	const struct cloud_opts *cloud; /* borrowed */
	struct db_pool *pool;		/* borrowed */
	struct ingest *ingest;		/* borrowed */
	bool tencent, alibaba;		/* which platforms have credentials */
	int64_t after_s;		/* stuck for this long */
	int64_t interval_ms;		/* how often to look */
	int64_t url_timeout_s; /* an unfinished URL pull fails; 0: never */
};

/* Start the reconciler; o is copied, what it points to is borrowed. */
int cb_reconcile_start(const struct cb_reconcile_opts *o,
		       struct cb_reconcile **out, struct err *e) VH_MUST_CHECK;
/* Stop, after the lookup in progress. Safe twice. */
void cb_reconcile_stop(struct cb_reconcile *r);
/* Stop if still running, and free. NULL-safe. */
void cb_reconcile_free(struct cb_reconcile *r);

/*
 * The event a lookup answer amounts to (pure, for tests): fills ev with a
 * "Reconciled" event for file_id whose effect follows the platform's
 * status. ERR_INPUT when the status says nothing new.
 */
int cb_reconcile_tencent_event(const struct cloud_tencent_media *m,
			       const char *procedure_task_id,
			       const char *procedure, struct vod_event *ev,
			       struct err *e) VH_MUST_CHECK;
/*
 * The event a DescribeTaskDetail answer t about the task flow of file_id
 * amounts to (pure, for tests): the ProcedureTask is read as its
 * ProcedureStateChanged callback would be, and recorded as a "Reconciled"
 * event keyed "Reconciled:<file_id>:task:<Status>". FINISH with no failed
 * sub-task is ready, FINISH with one failed is failed with that sub-task's
 * error, PROCESSING is processing, WAITING is the media confirmed with
 * processing to follow, ABORTED is failed ("ABORTED"). ERR_INPUT when the
 * answer is not about a task flow of file_id, or says nothing usable.
 */
int cb_reconcile_tencent_task_event(const struct cloud_tencent_task *t,
				    const char *file_id, struct vod_event *ev,
				    struct err *e) VH_MUST_CHECK;
/*
 * The event a DescribeTaskDetail answer t about the URL pull task_id of
 * upload_id amounts to (pure, for tests): the PullUploadTask is read as its
 * PullComplete callback would be, and recorded as a "Reconciled" event
 * keyed "Reconciled:job:<TaskId>:<Status>" with upload_id set. FINISH with
 * a FileId and no error confirms the media (linked to the upload); an
 * error (ErrCode, Message), or ABORTED, names no media and fails the
 * upload (store/events.c). ERR_INPUT while the pull is WAITING or
 * PROCESSING, or when the answer is not about this pull.
 */
int cb_reconcile_tencent_pull_event(const struct cloud_tencent_task *t,
				    const char *task_id, const char *upload_id,
				    struct vod_event *ev,
				    struct err *e) VH_MUST_CHECK;
/*
 * The event that completes the deletion of file_id, which the platform no
 * longer has after it was asked to delete it (pure, for tests): a
 * "Reconciled" event with status "deleted", key
 * "Reconciled:<file_id>:deleted", EFFECT_DELETED.
 */
void cb_reconcile_deleted_event(enum vod_provider p, const char *file_id,
				struct vod_event *ev);
int cb_reconcile_alibaba_event(const char *video_id, const char *status,
			       struct vod_event *ev,
			       struct err *e) VH_MUST_CHECK;
/*
 * The same for an image (GetImageInfo ImageInfo.Status) or an attached
 * media (GetAttachedMediaInfo AttachedMediaList[].Status), kind "image" or
 * "attached": Normal is ready (they need no processing), UploadFail is
 * failed; Uploading, or any other status, says nothing new (ERR_INPUT).
 */
int cb_reconcile_alibaba_media_event(const char *kind, const char *media_id,
				     const char *status, struct vod_event *ev,
				     struct err *e) VH_MUST_CHECK;
/*
 * The event a GetURLUploadInfos answer u about the URL pull of upload_id
 * (canonical UUID text) amounts to, keyed "Reconciled:job:<JobId>:<Status>"
 * with task_id the JobId and upload_id set. A success is recorded as its
 * FileUploadComplete would be: file_id the MediaId, EFFECT_CONFIRMED with
 * processing unknown, size FileSize, event_time CompleteTime. A failure
 * names no media (EFFECT_NONE) and carries the error code (ErrorCode, else
 * the status, else "fail") and message; recording it fails the upload
 * (store/events.c). ERR_INPUT while the pull is under way or the
 * job is unknown (nothing to record).
 */
int cb_reconcile_url_event(const struct cloud_alibaba_url_info *u,
			   const char *upload_id, struct vod_event *ev,
			   struct err *e) VH_MUST_CHECK;

/*
 * The event that gives up on a URL pull still unfinished after
 * url_timeout_s (pure, for tests): a "Reconciled" event for the JobId with
 * no media, error code URLPullTimeout and a message naming the wait and the
 * platform's last status (NULL: the platform did not know the job);
 * recording it fails the upload as a failed pull would. The provider is
 * Alibaba; the Tencent reconciler sets its own on the event.
 */
void cb_reconcile_url_timeout_event(const char *job_id, const char *upload_id,
				    const char *status, int64_t parked_s,
				    struct vod_event *ev);

/*
 * Ask the platform to delete media (provider, file_id) and record the
 * request on its record: Tencent DeleteMedia; Alibaba DeleteVideo, or
 * DeleteImage for an image (whose success deletes the record at once: no
 * event follows it). The event or the reconciler completes the others.
 * *json: the record afterwards (caller frees), also when the platform
 * refused (its code and message are on the record); *asked: whether the
 * platform was asked (not for a record deleted already). Returns 0,
 * ERR_NOTFOUND for a media vodhook has no record of (nothing asked), or
 * the platform's error (ERR_REMOTE with its code in e->remote, ...).
 * o, pool: borrowed. Thread-safe.
 */
int cb_delete_media(const struct cloud_opts *o, struct db_pool *pool,
		    const char *provider, const char *file_id, char **json,
		    bool *asked, struct err *e) VH_MUST_CHECK;
#endif

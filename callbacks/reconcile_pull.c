/*
 * reconcile_pull.c: Tencent URL pulls (PullUpload) whose PullComplete never
 * came. Each pull parked longer than reconcile_after is looked up with
 * DescribeTaskDetail of its TaskId (one call each; PullUploadTask) and
 * settled from the answer as its PullComplete would have settled it: the
 * FileId it names is recorded for the upload, an error fails the upload;
 * one still unfinished url_pull_timeout after it was submitted fails with
 * URLPullTimeout, as an Alibaba pull does (reconcile.c).
 *
 * Interface: cb_reconcile_tencent_pull_event, cb__reconcile_tencent_pulls.
 */
#include "callbacks/background.h"
#include "callbacks/parse_int.h"
#include "callbacks/reconcile_int.h"
#include "common/metrics.h"

#include <stdlib.h>
#include <string.h>

#define PULL_BATCH 20 /* pulls claimed per round */

int
cb_reconcile_tencent_pull_event(const struct cloud_tencent_task *t,
				const char *task_id, const char *upload_id,
				struct vod_event *ev, struct err *e)
{
	int rc;

	if (strcmp(t->task_type, "PullUpload") != 0 || t->detail == NULL)
		return err_set(e, ERR_INPUT, "task %s is a %s, not a pull",
			       task_id, t->task_type);
	if (strcmp(t->status, "WAITING") == 0 ||
	    strcmp(t->status, "PROCESSING") == 0)
		return err_set(e, ERR_INPUT, "pull %s: still under way",
			       task_id);
	ev->provider = VOD_TENCENT;
	if ((rc = cb__parse_tencent_pull(t->detail, ev, e)) != 0)
		return rc;
	if (strcmp(ev->task_id, task_id) != 0)
		return err_set(e, ERR_INPUT, "the answer is about task %s",
			       ev->task_id);
	if (strcmp(t->status, "ABORTED") == 0 && ev->error_code == NULL) {
		ev->error_code = xstrdup("ABORTED");
		ev->error_message = xstrdup("the platform aborted the pull");
	}
	if (ev->error_code != NULL) {
		/* No media: the TaskId alone fails the upload (uj). */
		free(ev->file_id);
		ev->file_id = NULL;
		ev->effect = EFFECT_NONE;
	} else if (ev->effect != EFFECT_CONFIRMED) {
		return err_set(e, ERR_INPUT,
			       "pull %s: status \"%s\" names no FileId",
			       task_id, t->status);
	}
	free(ev->event_type);
	ev->event_type = xstrdup("Reconciled");
	free(ev->upload_id);
	ev->upload_id = xstrdup(upload_id);
	free(ev->dedup_key);
	ev->dedup_key = NULL;
	return cb__dedup_printf(ev, e, "Reconciled:job:%s:%s", task_id,
				t->status);
}

/*
 * Tencent URL pulls parked longer than after_s without their PullComplete:
 * DescribeTaskDetail of each TaskId. A pull still under way, or a task the
 * platform no longer knows, fails once it has waited url_timeout_s; when
 * the call itself failed, nothing is known and nothing fails.
 */
static void
reconcile_tencent_pull(const struct cb_reconcile_opts *o,
		       const struct store_parked_pull *p)
{
	struct cloud_tencent_task t;
	struct cloud_opts ao;
	const char *status = NULL;
	struct vod_event ev;
	cJSON *evidence;
	struct err e;

	err_clear(&e);
	metric_add(METRIC_RECONCILE_LOOKUPS, 1);
	/* the task is known in the upload's own sub-application only */
	cloud_tencent_opts_for_subapp(o->cloud, p->app_id, &ao);
	if (cloud_tencent_describe_task_detail(&ao, p->url_job_id, &t, &e) !=
		0 &&
	    !cb__reconcile_task_gone(&e)) {
		metric_add(METRIC_RECONCILE_ERRORS, 1);
		log_msg(LOG_WARN, "reconcile",
			"could not describe tencent pull %s: %s", p->url_job_id,
			e.msg);
		cloud_tencent_task_cleanup(&t);
		return;
	}
	vod_event_init(&ev);
	if (t.doc != NULL && cb_reconcile_tencent_pull_event(
				 &t, p->url_job_id, p->id, &ev, &e) == 0) {
		cb__reconcile_submit(o, &ev, t.detail);
		goto out;
	}
	if (t.doc != NULL) {
		log_msg(LOG_DEBUG, "reconcile", "upload %s: %s", p->id, e.msg);
		status = t.status;
	}
	if (o->url_timeout_s <= 0 || p->parked_s < o->url_timeout_s)
		goto out;
	vod_event_cleanup(&ev);
	vod_event_init(&ev);
	cb_reconcile_url_timeout_event(p->url_job_id, p->id, status,
				       p->parked_s, &ev);
	ev.provider = VOD_TENCENT;
	evidence = cJSON_CreateObject();
	cJSON_AddStringToObject(evidence, "TaskId", p->url_job_id);
	cJSON_AddNumberToObject(evidence, "WaitedSeconds", (double)p->parked_s);
	if (t.detail != NULL)
		cJSON_AddItemToObject(evidence, "LastAnswer",
				      cJSON_Duplicate(t.detail, true));
	cb__reconcile_submit(o, &ev, evidence);
	cJSON_Delete(evidence);
out:
	vod_event_cleanup(&ev);
	cloud_tencent_task_cleanup(&t);
}

void
cb__reconcile_tencent_pulls(const struct cb_reconcile_opts *o,
			    struct vh_stop *stop)
{
	struct store_parked_pull *parked = NULL;
	size_t n = 0;
	struct err e;

	err_clear(&e);
	if (store_upload_claim_parked(o->pool, "tencent", o->after_s,
				      PULL_BATCH, &parked, &n, &e) != 0)
		log_msg(LOG_DEBUG, "reconcile",
			"could not look for parked URL pulls: %s", e.msg);
	for (size_t i = 0; i < n && !vh_stop_requested(stop); i++)
		reconcile_tencent_pull(o, &parked[i]);
	store_parked_pulls_free(parked, n);
}

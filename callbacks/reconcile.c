/*
 * reconcile.c: advancing media records whose callbacks never came.
 *
 * The platforms barely retry callbacks (Alibaba gives up after three tries,
 * Tencent push retries only on timeouts). Every interval, each instance
 * claims a few records that have stayed in uploaded, confirmed or
 * processing for longer than the setting, looks them up with
 * DescribeMediaInfos / GetVideoInfo, and records what the platform says as
 * an event ("Reconciled", received_via 'reconcile') through ingest, so that
 * the record moves by the same forward-only rules as for a callback and the
 * answer is kept as evidence.
 *
 * Interface: cb_reconcile_start, cb_reconcile_stop,
 * cb_reconcile_tencent_event, cb_reconcile_alibaba_event.
 */
#include "callbacks/background.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECONCILE_BATCH 20 /* DescribeMediaInfos takes at most 20 ids */

struct cb_reconcile {
	struct cb_reconcile_opts o;
	struct vh_stop stop;
	pthread_t thread;
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

static void
submit(struct cb_reconcile *r, struct vod_event *ev, const cJSON *evidence)
{
	struct ingest_result res;
	char *raw = evidence ? cJSON_PrintUnformatted(evidence) : NULL;
	struct err e;

	err_clear(&e);
	if (ingest_submit(r->o.ingest, ev, raw ? raw : "{}",
			  raw ? strlen(raw) : 2, VIA_RECONCILE, &res, &e) != 0)
		log_msg(LOG_WARN, "reconcile", "could not record \"%s\": %s",
			ev->dedup_key, e.msg);
	else if (!res.duplicate)
		log_msg(LOG_INFO, "reconcile", "%s %s: %s",
			vod_provider_name(ev->provider), ev->file_id,
			ev->status);
	cJSON_free(raw);
}

static void
reconcile_tencent(struct cb_reconcile *r)
{
	struct cloud_tencent_media_infos infos;
	struct store_stale_media *stale = NULL;
	const char *ids[RECONCILE_BATCH];
	size_t n = 0;
	struct err e;

	err_clear(&e);
	if (store_media_claim_stale(r->o.pool, "tencent", r->o.after_s,
				    RECONCILE_BATCH, &stale, &n, &e) != 0 ||
	    n == 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		ids[i] = stale[i].file_id;
	if (cloud_tencent_describe_media_infos(r->o.cloud, ids, n, &infos,
					       &e) != 0) {
		log_msg(LOG_WARN, "reconcile",
			"could not describe %zu tencent media: %s", n, e.msg);
		cloud_tencent_media_infos_cleanup(&infos);
		goto out;
	}
	for (size_t i = 0; i < infos.n_items; i++) {
		const struct cloud_tencent_media *m = &infos.items[i];
		const struct store_stale_media *s = NULL;
		struct vod_event ev;

		for (size_t k = 0; k < n; k++)
			if (strcmp(stale[k].file_id, m->file_id) == 0)
				s = &stale[k];
		if (s == NULL)
			continue;
		vod_event_init(&ev);
		if (cb_reconcile_tencent_event(m, s->procedure_task_id,
					       s->procedure, &ev, &e) == 0)
			submit(r, &ev, m->info);
		vod_event_cleanup(&ev);
	}
	cloud_tencent_media_infos_cleanup(&infos);
out:
	store_stale_media_free(stale, n);
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
	for (size_t i = 0; i < n && !vh_stop_requested(&r->stop); i++) {
		struct cloud_alibaba_video_info info;
		struct vod_event ev;

		err_clear(&e);
		if (cloud_alibaba_get_video_info(r->o.cloud, stale[i].file_id,
						 &info, &e) != 0) {
			log_msg(LOG_WARN, "reconcile",
				"could not get alibaba video %s: %s%s%s",
				stale[i].file_id, e.remote,
				e.remote[0] ? ": " : "", e.msg);
			cloud_alibaba_video_info_cleanup(&info);
			continue;
		}
		vod_event_init(&ev);
		if (cb_reconcile_alibaba_event(stale[i].file_id, info.status,
					       &ev, &e) == 0)
			submit(r, &ev, info.video);
		vod_event_cleanup(&ev);
		cloud_alibaba_video_info_cleanup(&info);
	}
out:
	store_stale_media_free(stale, n);
}

static void *
reconcile_main(void *arg)
{
	struct cb_reconcile *r = arg;

	while (!vh_stop_sleep(&r->stop, r->o.interval_ms)) {
		if (r->o.tencent)
			reconcile_tencent(r);
		if (r->o.alibaba)
			reconcile_alibaba(r);
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
	vh_stop_init(&r->stop);
	if (pthread_create(&r->thread, NULL, reconcile_main, r) != 0)
		fatal("could not start the reconciler thread");
	*out = r;
	return 0;
}

void
cb_reconcile_stop(struct cb_reconcile *r)
{
	if (r == NULL)
		return;
	vh_stop_request(&r->stop);
	pthread_join(r->thread, NULL);
	vh_stop_cleanup(&r->stop);
	free(r);
}

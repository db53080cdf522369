/*
 * rows.c: events as the rows of the statement that records a batch
 * (store/events.c): one row per event, and one delta per media record that
 * the batch's events move, so that the statement touches each record once.
 * The callback committer (ingest.c) and the spool replay (replay.c) both
 * write through here.
 *
 * Interface: ingest__add_row, ingest__record, ingest__settle_url_jobs.
 */
#include "callbacks/ingest_int.h"

#include <stdlib.h>
#include <string.h>

static void
to_store_event(const struct vod_event *ev, const char *raw, enum vod_via via,
	       struct store_event *out)
{
	out->provider = vod_provider_name(ev->provider);
	out->event_type = ev->event_type;
	out->dedup_key = ev->dedup_key;
	out->file_id = ev->file_id;
	out->task_id = ev->task_id;
	out->status = ev->status;
	out->error_code = ev->error_code;
	out->error_message = ev->error_message;
	out->upload_id = ev->upload_id;
	out->via = vod_via_name(via);
	out->event_time = ev->event_time;
	out->raw = raw;
}

static int64_t
min_time(int64_t a, int64_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

/*
 * The change ev makes to its media record, into x; false when it makes none
 * (no effect, or no file id to find the record by). now: the time of the
 * change when the event gives none.
 */
static bool
delta_of(const struct vod_event *ev, int64_t now, struct store_media_delta *x)
{
	int64_t t = ev->event_time > 0 ? ev->event_time : now;

	if (ev->effect == EFFECT_NONE || ev->file_id == NULL)
		return false;
	memset(x, 0, sizeof(*x));
	x->provider = vod_provider_name(ev->provider);
	x->file_id = ev->file_id;
	x->upload_id = ev->upload_id;
	x->media_url = ev->media_url;
	x->size = ev->size;
	x->procedure_task_id = ev->procedure_task_id;
	x->source_context = ev->source_context;
	switch (ev->effect) {
	case EFFECT_CONFIRMED:
		x->confirmed_at = t;
		if (ev->processing_follows == 0) {
			/* Nothing will process it: it is ready now. */
			x->rank = 4, x->state = "ready", x->ready_at = t;
		} else {
			x->rank = 2, x->state = "confirmed";
			x->maybe_ready = ev->processing_follows < 0;
		}
		return true;
	case EFFECT_PROCESSING:
		x->rank = 3, x->state = "processing", x->processing_at = t;
		return true;
	case EFFECT_READY:
		x->rank = 4, x->state = "ready", x->ready_at = t;
		return true;
	case EFFECT_FAILED:
		x->rank = 4, x->state = "failed", x->failed_at = t;
		x->error_code = ev->error_code;
		x->error_message = ev->error_message;
		return true;
	case EFFECT_DELETED:
		/* Only the time: what the record was stays as it was. */
		x->upload_id = NULL, x->media_url = NULL, x->size = -1;
		x->procedure_task_id = NULL, x->source_context = NULL;
		x->rank = 5, x->state = "deleted", x->deleted_at = t;
		return true;
	default:
		return false;
	}
}

#define FIRST(field)                                                           \
	do {                                                                   \
		if (d->field == NULL)                                          \
			d->field = x->field;                                   \
	} while (0)

/*
 * Merge x into d, a delta for the same record, by the statement's own
 * rules: forward only, earliest times, first values.
 */
static void
merge_delta(struct store_media_delta *d, const struct store_media_delta *x)
{
	if (x->rank > d->rank) {
		d->rank = x->rank;
		d->state = x->state;
	}
	d->maybe_ready = d->maybe_ready || x->maybe_ready;
	d->confirmed_at = min_time(d->confirmed_at, x->confirmed_at);
	d->processing_at = min_time(d->processing_at, x->processing_at);
	d->ready_at = min_time(d->ready_at, x->ready_at);
	d->failed_at = min_time(d->failed_at, x->failed_at);
	d->deleted_at = min_time(d->deleted_at, x->deleted_at);
	if (d->size < 0)
		d->size = x->size;
	FIRST(upload_id);
	FIRST(media_url);
	FIRST(procedure_task_id);
	FIRST(source_context);
	FIRST(error_code);
	FIRST(error_message);
}

#undef FIRST

/* Fold x into the deltas: one delta per media record. */
static void
put_delta(const struct store_media_delta *x, struct store_media_delta **deltas,
	  size_t *ndeltas, size_t *cap)
{
	struct store_media_delta *d = NULL;

	for (size_t i = 0; i < *ndeltas; i++)
		if (strcmp((*deltas)[i].file_id, x->file_id) == 0 &&
		    strcmp((*deltas)[i].provider, x->provider) == 0)
			d = &(*deltas)[i];
	if (d != NULL) {
		merge_delta(d, x);
		return;
	}
	if (*ndeltas == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*deltas = xrealloc(*deltas, *cap * sizeof(**deltas));
	}
	(*deltas)[(*ndeltas)++] = *x;
}

/*
 * Fold the effect of ev into the deltas, so that the batch statement
 * touches each record once; a deletion moves every media it names.
 */
static void
add_delta(const struct vod_event *ev, int64_t now,
	  struct store_media_delta **deltas, size_t *ndeltas, size_t *cap)
{
	struct store_media_delta x;

	if (!delta_of(ev, now, &x))
		return;
	if (ev->effect != EFFECT_DELETED || ev->n_deleted == 0) {
		put_delta(&x, deltas, ndeltas, cap);
		return;
	}
	for (size_t i = 0; i < ev->n_deleted; i++) {
		x.file_id = ev->deleted_ids[i];
		put_delta(&x, deltas, ndeltas, cap);
	}
}

void
ingest__add_row(const struct vod_event *ev, const char *raw, enum vod_via via,
		int64_t now, struct store_event *sev,
		struct store_media_delta **deltas, size_t *ndeltas, size_t *cap)
{
	to_store_event(ev, raw, via, sev);
	add_delta(ev, now, deltas, ndeltas, cap);
}

int
ingest__record(struct db_pool *pool, const struct vod_event *const *evs,
	       const char *const *raws, const enum vod_via *vias, size_t n,
	       bool *is_new, struct err *e)
{
	struct store_event *sevs = xcalloc(n, sizeof(*sevs));
	struct store_media_delta *deltas = xcalloc(n, sizeof(*deltas));
	size_t ndeltas = 0, cap = n;
	int64_t now = time_unix();
	int rc;

	for (size_t i = 0; i < n; i++)
		ingest__add_row(evs[i], raws[i], vias[i], now, &sevs[i],
				&deltas, &ndeltas, &cap);
	rc = store_events_record(pool, sevs, n, deltas, ndeltas, is_new, e);
	if (rc == 0)
		ingest__settle_url_jobs(pool, sevs, is_new, n);
	free(sevs);
	free(deltas);
	return rc;
}

void
ingest__settle_url_jobs(struct db_pool *pool, const struct store_event *sevs,
			const bool *is_new, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct store_event *sev = &sevs[i];
		struct err e;

		if (!is_new[i] || sev->task_id == NULL ||
		    sev->task_id[0] == '\0' ||
		    (strcmp(sev->event_type, "PullComplete") != 0 &&
		     strcmp(sev->event_type, "UploadByURLComplete") != 0))
			continue;
		err_clear(&e);
		if (store_upload_settle_url_job(pool, NULL, sev->provider,
						sev->task_id, &e) != 0)
			log_msg(LOG_WARN, "ingest",
				"URL pull job %s: %s (the reconciler asks the "
				"platform later)",
				sev->task_id, e.msg);
	}
}

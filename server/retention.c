/*
 * retention.c: the thread that deletes what is past its retention.
 *
 * Each wake-up runs a sweep per kind: events, then the part checkpoints of
 * finished uploads, then those uploads (their parts first, so that no
 * upload's deletion cascades to thousands of parts), then the webhook
 * messages that ended (each with its few attempts). A sweep deletes batch
 * after batch until one comes back short, pausing between them so that
 * the database serves callbacks and workers meanwhile. Every batch that
 * deleted rows is logged. A failure is logged and the sweep tried again at
 * the next wake-up: nothing is lost by waiting.
 *
 * Interface: retention_start, retention_stop, retention_free.
 */
#include "server/retention.h"

#include "common/thread.h"

#include <stdlib.h>

struct retention {
	struct retention_opts o;
	struct vh_thread thread;
};

typedef int (*delete_fn)(struct db_pool *pool, int days, int max, int *deleted,
			 struct err *e);

/* Delete batches of what until one is short; false when stop was asked. */
static bool
sweep(struct retention *r, delete_fn fn, int days, const char *what)
{
	for (;;) {
		struct err e;
		int n = 0;

		err_clear(&e);
		if (fn(r->o.pool, days, r->o.batch, &n, &e) != 0) {
			log_msg(LOG_WARN, "retention",
				"could not delete %s: %s", what, e.msg);
			return true;
		}
		if (n > 0)
			log_msg(LOG_INFO, "retention",
				"deleted %d %s older than %d days", n, what,
				days);
		if (n < r->o.batch)
			return true;
		if (vh_stop_sleep(&r->thread.stop, r->o.pause_ms))
			return false;
	}
}

static void *
retention_main(void *arg)
{
	struct retention *r = arg;

	while (!vh_stop_sleep(&r->thread.stop, r->o.interval_ms)) {
		if (r->o.events_days > 0 &&
		    !sweep(r, store_retention_delete_events, r->o.events_days,
			   "events"))
			break;
		if (r->o.uploads_days > 0 &&
		    (!sweep(r, store_retention_delete_parts, r->o.uploads_days,
			    "upload parts") ||
		     !sweep(r, store_retention_delete_uploads,
			    r->o.uploads_days, "uploads")))
			break;
		if (r->o.webhooks_days > 0 &&
		    !sweep(r, store_retention_delete_webhooks,
			   r->o.webhooks_days, "webhook messages"))
			break;
	}
	return NULL;
}

void
retention_start(const struct retention_opts *o, struct retention **out)
{
	struct retention *r;

	*out = NULL;
	if (o->events_days <= 0 && o->uploads_days <= 0 &&
	    o->webhooks_days <= 0)
		return;
	r = xcalloc(1, sizeof(*r));
	r->o = *o;
	vh_thread_start(&r->thread, "retention", retention_main, r);
	log_msg(LOG_INFO, "retention",
		"deleting events after %d days, finished uploads after %d "
		"days, ended webhook messages after %d days (0: kept)",
		o->events_days, o->uploads_days, o->webhooks_days);
	*out = r;
}

void
retention_stop(struct retention *r)
{
	if (r != NULL)
		vh_thread_stop(&r->thread);
}

void
retention_free(struct retention *r)
{
	if (r == NULL)
		return;
	retention_stop(r);
	free(r);
}

/*
 * pull.c: Tencent VOD reliable callbacks (event mode PULL).
 *
 * Loop: PullEvents (the platform holds the call up to 5 s when nothing is
 * waiting and returns at most 16 events) -> parse and ingest each event
 * through the same code as the push endpoint -> ConfirmEvents with the
 * handles of the events that are durable (committed or spooled). An event
 * that could not be stored is not confirmed: the platform hands it out
 * again after 30 s. An event that does not parse is stored as "Unparsed"
 * with the reason and confirmed too: left unconfirmed, the platform would
 * hand it out at every poll for as long as it keeps it (days).
 *
 * Interface: cb_pull_start, cb_pull_stop, cb_pull_free.
 */
#include "callbacks/background.h"
#include "common/metrics.h"
#include "common/thread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PULL_BACKOFF_MIN_MS 500
#define PULL_BACKOFF_MAX_MS 30000

struct cb_pull {
	const struct cloud_opts *opts;
	struct ingest *ig;
	struct vh_thread thread;
};

/* Ingest one element of EventSet; its handle goes to *confirm when it is
 * durable. */
static void
ingest_one(struct cb_pull *p, const cJSON *item, const char **confirm,
	   size_t *nconfirm)
{
	const char *handle = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(item, "EventHandle"));
	struct ingest_result res;
	struct vod_event ev;
	char *raw = NULL;
	struct err e;

	vod_event_init(&ev);
	err_clear(&e);
	if (cb_parse_tencent_json(item, &ev, &e) != 0) {
		char why[sizeof(e.msg)];

		snprintf(why, sizeof(why), "%s", e.msg);
		metric_add(METRIC_PULL_ERRORS, 1);
		log_msg(LOG_ERROR, "pull",
			"could not parse a pulled event, stored as Unparsed: "
			"%s",
			why);
		if (cb_parse_tencent_unparsed(item, why, &ev, &e) != 0)
			goto out;
	}
	raw = cJSON_PrintUnformatted(item);
	if (raw == NULL)
		fatal("could not print a pulled event");
	if (ingest_submit(p->ig, &ev, raw, strlen(raw), VIA_PULL, &res, &e) !=
	    0) {
		log_msg(LOG_WARN, "pull", "could not store event \"%s\": %s",
			ev.dedup_key, e.msg);
		metric_add(METRIC_PULL_ERRORS, 1);
		goto out;
	}
	if (handle != NULL && *nconfirm < 16)
		confirm[(*nconfirm)++] = handle;
out:
	cJSON_free(raw);
	vod_event_cleanup(&ev);
}

static void *
pull_main(void *arg)
{
	struct cb_pull *p = arg;
	int64_t backoff = PULL_BACKOFF_MIN_MS;

	while (!vh_stop_requested(&p->thread.stop)) {
		struct cloud_tencent_events evs;
		const char *confirm[16];
		size_t nconfirm = 0;
		const cJSON *item;
		struct err e;
		int rc;

		err_clear(&e);
		rc = cloud_tencent_pull_events(p->opts, &evs, &e);
		if (rc != 0) {
			metric_add(METRIC_PULL_ERRORS, 1);
			log_msg(LOG_WARN, "pull",
				"could not pull events: %s%s%s; retrying in "
				"%lld ms",
				e.remote, e.remote[0] ? ": " : "", e.msg,
				(long long)backoff);
			cloud_tencent_events_cleanup(&evs);
			if (vh_stop_sleep(&p->thread.stop, backoff))
				break;
			backoff = backoff * 2 > PULL_BACKOFF_MAX_MS
				      ? PULL_BACKOFF_MAX_MS
				      : backoff * 2;
			continue;
		}
		backoff = PULL_BACKOFF_MIN_MS;
		cJSON_ArrayForEach(item, evs.set)
		{
			metric_add(METRIC_PULL_EVENTS_PULLED, 1);
			ingest_one(p, item, confirm, &nconfirm);
		}
		if (nconfirm > 0) {
			err_clear(&e);
			if (cloud_tencent_confirm_events(p->opts, confirm,
							 nconfirm, &e) != 0) {
				/* Stored already; a redelivery is deduplicated.
				 */
				metric_add(METRIC_PULL_ERRORS, 1);
				log_msg(LOG_WARN, "pull",
					"could not confirm %zu event(s): %s",
					nconfirm, e.msg);
			} else {
				metric_add(METRIC_PULL_EVENTS_CONFIRMED,
					   (int64_t)nconfirm);
				log_msg(LOG_DEBUG, "pull",
					"confirmed %zu event(s)", nconfirm);
			}
		}
		cloud_tencent_events_cleanup(&evs);
	}
	return NULL;
}

int
cb_pull_start(const struct cloud_opts *o, struct ingest *ig,
	      struct cb_pull **out, struct err *e)
{
	struct cb_pull *p = xcalloc(1, sizeof(*p));

	(void)e;
	p->opts = o;
	p->ig = ig;
	vh_thread_start(&p->thread, "PullEvents", pull_main, p);
	*out = p;
	return 0;
}

void
cb_pull_stop(struct cb_pull *p)
{
	if (p != NULL)
		vh_thread_stop(&p->thread);
}

void
cb_pull_free(struct cb_pull *p)
{
	if (p == NULL)
		return;
	cb_pull_stop(p);
	free(p);
}

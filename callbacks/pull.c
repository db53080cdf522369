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
 * Each application (SubAppId) keeps its own events: PullEvents and
 * ConfirmEvents name one, and a handle is confirmed in the application
 * that handed it out. The setting tencent_pull_subapp_ids lists those to
 * poll (default: the one of tencent_subapp_id); each gets its own thread,
 * since a poll of an idle application is held for up to 5 s and must not
 * delay the events of another. A media that a pulled event of a listed
 * SubAppId created, and no upload of vodhook linked to an application,
 * is recorded in that one (media.app_id), so that the reconciler looks
 * for it there.
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

#define PULL_MAX_APPS 16

/* The poller of one application. */
struct pull_app {
	struct cloud_opts opts; /* with its SubAppId */
	char subapp[24];	/* its SubAppId, "" for the setting's */
	struct ingest *ig;
	struct db_pool *pool;
	struct vh_thread thread;
};

struct cb_pull {
	struct pull_app apps[PULL_MAX_APPS];
	size_t n;
};

/* Ingest one element of EventSet; its handle goes to *confirm when it is
 * durable. */
static void
ingest_one(struct pull_app *p, const cJSON *item, const char **confirm,
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
	if (p->subapp[0] != '\0' && ev.file_id != NULL && !res.spooled &&
	    store_media_set_app_id(p->pool, "tencent", ev.file_id, p->subapp,
				   &e) != 0)
		log_msg(LOG_WARN, "pull",
			"could not record the SubAppId of media %s: %s",
			ev.file_id, e.msg);
out:
	cJSON_free(raw);
	vod_event_cleanup(&ev);
}

static void *
pull_main(void *arg)
{
	struct pull_app *p = arg;
	int64_t backoff = PULL_BACKOFF_MIN_MS;

	while (!vh_stop_requested(&p->thread.stop)) {
		struct cloud_tencent_events evs;
		const char *confirm[16];
		size_t nconfirm = 0;
		const cJSON *item;
		struct err e;
		int rc;

		err_clear(&e);
		rc = cloud_tencent_pull_events(&p->opts, &evs, &e);
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
			if (cloud_tencent_confirm_events(&p->opts, confirm,
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

/*
 * The SubAppIds of list ("1500000001,1500000002"; blanks around each
 * allowed) into p->apps, each checked. An empty list is one poller with
 * the options as they are.
 */
static int
pull_apps(struct cb_pull *p, const struct cloud_opts *o, const char *list,
	  struct ingest *ig, struct db_pool *pool, struct err *e)
{
	const char *s = list != NULL ? list : "";

	s += strspn(s, " ");
	if (*s == '\0') {
		p->apps[0].opts = *o;
		p->apps[0].ig = ig;
		p->apps[0].pool = pool;
		p->n = 1;
		return 0;
	}
	for (;;) {
		size_t len = strcspn(s, ", ");
		struct pull_app *a;

		if (p->n == PULL_MAX_APPS)
			return err_set(e, ERR_INPUT,
				       "tencent_pull_subapp_ids: at most %d "
				       "SubAppIds",
				       PULL_MAX_APPS);
		a = &p->apps[p->n];
		if (len == 0 || len >= sizeof(a->subapp))
			return err_set(e, ERR_INPUT,
				       "tencent_pull_subapp_ids must be "
				       "SubAppIds separated by commas");
		memcpy(a->subapp, s, len);
		a->subapp[len] = '\0';
		if (cloud_tencent_subapp_check(a->subapp, e) != 0)
			return err_set(e, ERR_INPUT,
				       "tencent_pull_subapp_ids: \"%s\" is "
				       "not a SubAppId (a decimal uint64 other "
				       "than 0)",
				       a->subapp);
		for (size_t i = 0; i < p->n; i++)
			if (strcmp(p->apps[i].subapp, a->subapp) == 0)
				return err_set(e, ERR_INPUT,
					       "tencent_pull_subapp_ids names "
					       "%s twice",
					       a->subapp);
		cloud_tencent_opts_for_subapp(o, a->subapp, &a->opts);
		a->ig = ig;
		a->pool = pool;
		p->n++;
		s += len;
		s += strspn(s, " ");
		if (*s == '\0')
			return 0;
		if (*s++ != ',')
			return err_set(e, ERR_INPUT,
				       "tencent_pull_subapp_ids must be "
				       "SubAppIds separated by commas");
		s += strspn(s, " ");
	}
}

int
cb_pull_start(const struct cloud_opts *o, const char *subapp_ids,
	      struct ingest *ig, struct db_pool *pool, struct cb_pull **out,
	      struct err *e)
{
	struct cb_pull *p = xcalloc(1, sizeof(*p));
	int rc;

	*out = NULL;
	if ((rc = pull_apps(p, o, subapp_ids, ig, pool, e)) != 0) {
		free(p);
		return rc;
	}
	for (size_t i = 0; i < p->n; i++)
		vh_thread_start(&p->apps[i].thread, "PullEvents", pull_main,
				&p->apps[i]);
	*out = p;
	return 0;
}

void
cb_pull_stop(struct cb_pull *p)
{
	if (p == NULL)
		return;
	/* Ask them all first, so that their long polls end together. */
	for (size_t i = 0; i < p->n; i++)
		if (p->apps[i].thread.running)
			vh_stop_request(&p->apps[i].thread.stop);
	for (size_t i = 0; i < p->n; i++)
		vh_thread_stop(&p->apps[i].thread);
}

void
cb_pull_free(struct cb_pull *p)
{
	if (p == NULL)
		return;
	cb_pull_stop(p);
	free(p);
}

/*
 * summary_http.c: what the status page shows besides the media and upload
 * records.
 *
 *   GET /v1/summary[?minutes=N]   media per provider and state, upload jobs
 *                                 running, webhook subscriptions disabled
 *                                 and messages pending and failed, the
 *                                 spool's backlog, database readiness,
 *                                 callbacks per minute
 *   GET /v1/failures[?limit=N]    the last rejected callbacks (this
 *                                 process's), failed upload jobs, failed
 *                                 webhook messages and disabled webhooks
 *
 * The summary answers 200 while the database is away, with "ready": false
 * and its reason, so that the page can say so; what only the database
 * knows is null then. Counting the media reads every record, so the
 * counts are taken at most once a SUMMARY_FRESH_MS, however many pages
 * are open: the requests in between share the last ones (bench/page.sh
 * measures a count).
 *
 * Interface: handle_summary, handle_failures.
 */
#include "server/handlers.h"

#include "callbacks/ingest.h"
#include "server/activity.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUMMARY_MINUTES	   15
#define FAILURES_LIMIT	   50
#define FAILURES_LIMIT_MAX 200
#define SUMMARY_FRESH_MS   1000

/* The last counts and when they were taken (monotonic ms); the lock is
 * held while counting, so that concurrent requests wait for one count. */
static pthread_mutex_t counts_lock = PTHREAD_MUTEX_INITIALIZER;
static char *counts_text;
static int64_t counts_at_ms;

/*
 * Query parameter name as an integer in [min, max], or def when absent.
 * 0, or a 400 sent (the reply's status, negated).
 */
static int
query_int(struct http_req *r, const char *name, int min, int max, int def,
	  int *out)
{
	char v[16], *end = NULL;
	long n;

	*out = def;
	if (!http_query(r, name, v, sizeof(v)))
		return 0;
	n = strtol(v, &end, 10);
	if (v[0] == '\0' || *end != '\0' || n < min || n > max)
		return -http_reply_error(r, 400, "invalid_input",
					 "%s must be an integer from %d to %d",
					 name, min, max);
	*out = (int)n;
	return 0;
}

/* Attach text, JSON from the store, to doc as name (null if unparsable). */
static void
add_raw(cJSON *doc, const char *name, const char *text)
{
	cJSON *v = text ? cJSON_ParseWithLength(text, strlen(text)) : NULL;

	cJSON_AddItemToObject(doc, name, v ? v : cJSON_CreateNull());
}

/* "database": ready or not and why, as /readyz decides. */
static bool
add_readiness(cJSON *doc, struct app *app)
{
	cJSON *db = cJSON_AddObjectToObject(doc, "database");
	struct err e;
	bool ready;

	err_clear(&e);
	ready = store_ready(app->pool, &e) == 0 &&
		(app->commit_pool == NULL ||
		 db_pool_backoff(app->commit_pool, &e) == 0);
	cJSON_AddBoolToObject(db, "ready", ready);
	if (!ready)
		cJSON_AddStringToObject(db, "reason", e.msg);
	return ready;
}

static void
add_spool(cJSON *doc, struct app *app)
{
	cJSON *sp = cJSON_AddObjectToObject(doc, "spool");
	struct ingest_stats st;

	memset(&st, 0, sizeof(st));
	if (app->ingest != NULL)
		ingest_get_stats(app->ingest, &st);
	cJSON_AddNumberToObject(sp, "pending_bytes", (double)st.spool_pending);
	cJSON_AddNumberToObject(sp, "quarantined", (double)st.quarantined);
	cJSON_AddNumberToObject(sp, "queued", (double)st.queued);
}

/* The counts as JSON text (caller frees), at most SUMMARY_FRESH_MS old;
 * NULL with e set when the database could not answer. */
static char *
summary_counts(struct app *app, struct err *e)
{
	char *text = NULL;

	pthread_mutex_lock(&counts_lock);
	if (counts_text == NULL ||
	    time_mono_ms() - counts_at_ms >= SUMMARY_FRESH_MS) {
		if (store_summary_json(app->pool, &text, e) == 0) {
			free(counts_text);
			counts_text = text;
			counts_at_ms = time_mono_ms();
		}
	}
	text = counts_text ? xstrdup(counts_text) : NULL;
	pthread_mutex_unlock(&counts_lock);
	return text;
}

int
handle_summary(struct http_req *r, void *arg)
{
	/* What the counts hold: null while the database is away. */
	static const char *const counted[] = {"media", "uploads", "webhooks"};
	struct app *app = arg;
	cJSON *doc, *c = NULL;
	char *counts = NULL;
	struct err e;
	int minutes, rc;

	if ((rc = query_int(r, "minutes", 1, ACTIVITY_MINUTES, SUMMARY_MINUTES,
			    &minutes)) != 0)
		return -rc;
	doc = cJSON_CreateObject();
	err_clear(&e);
	if (add_readiness(doc, app) &&
	    (counts = summary_counts(app, &e)) == NULL)
		http_note(r, "%s", e.msg);
	if (counts != NULL)
		c = cJSON_ParseWithLength(counts, strlen(counts));
	for (size_t i = 0; i < sizeof(counted) / sizeof(counted[0]); i++) {
		cJSON *v = c ? cJSON_DetachItemFromObject(c, counted[i]) : NULL;

		cJSON_AddItemToObject(doc, counted[i],
				      v ? v : cJSON_CreateNull());
	}
	cJSON_Delete(c);
	free(counts);
	add_spool(doc, app);
	cJSON_AddItemToObject(doc, "callbacks", activity_minutes_json(minutes));
	return http_reply_json(r, 200, doc);
}

int
handle_failures(struct http_req *r, void *arg)
{
	struct app *app = arg;
	char *failed = NULL, *webhooks = NULL;
	struct err e;
	cJSON *doc;
	int limit, rc;

	if ((rc = query_int(r, "limit", 1, FAILURES_LIMIT_MAX, FAILURES_LIMIT,
			    &limit)) != 0)
		return -rc;
	err_clear(&e);
	if ((rc = store_failed_uploads_json(app->pool, limit, &failed, &e)) !=
		0 ||
	    (rc = store_failed_webhooks_json(app->pool, limit, &webhooks,
					     &e)) != 0) {
		free(failed);
		return http_reply_err(r, rc, &e);
	}
	doc = cJSON_CreateObject();
	cJSON_AddItemToObject(doc, "rejected_callbacks",
			      activity_rejections_json());
	add_raw(doc, "failed_uploads", failed);
	add_raw(doc, "webhooks", webhooks);
	free(failed);
	free(webhooks);
	return http_reply_json(r, 200, doc);
}

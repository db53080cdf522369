/*
 * metrics.c: GET /metrics, in Prometheus' text format (version 0.0.4).
 *
 * The modules count into common/metrics.h's registry; this file only
 * prints it, with what is kept elsewhere: ingest's statistics, the HTTP
 * layer's requests by route and status, the upload jobs by state (counted
 * in PostgreSQL at each scrape), whether the database answered, and the
 * build. When metrics_token is set, a scrape must carry it as a bearer
 * token (401 otherwise).
 *
 * Jobs by state: when the database does not answer within the scrape's
 * deadline, vodhook_upload_jobs is left out (a stale count would look
 * current) and vodhook_database_up is 0.
 *
 * Interface: handle_metrics.
 */
#include "server/handlers.h"

#include "callbacks/ingest.h"
#include "common/metrics.h"
#include "server/config.h"

#include <string.h>

#ifndef VODHOOK_VERSION
#define VODHOOK_VERSION "unknown"
#endif

/* The largest page /metrics sends. */
#define METRICS_MAX_BYTES (256 * 1024)

/* 0 when metrics_token is unset or the request carries it; else the
 * status sent. */
static int
check_metrics_token(struct http_req *r)
{
	const char *auth = http_header(r, "Authorization");
	size_t tlen = strlen(cfg.metrics_token);

	if (tlen == 0)
		return 0;
	if (auth != NULL && strncmp(auth, "Bearer ", 7) == 0 &&
	    ct_equal(auth + 7, strlen(auth + 7), cfg.metrics_token, tlen))
		return 0;
	http_note(r, "%s", auth ? "wrong metrics token" : "no metrics token");
	return http_reply_error(r, 401, "unauthorized",
				"a valid \"Authorization: Bearer <token>\" "
				"header is required");
}

/* A counter or gauge without labels, with its HELP and TYPE. */
static int
write_one(struct buf *b, const char *name, const char *type, const char *help,
	  double v)
{
	return metrics_write_header(b, name, type, help) |
	       buf_printf(b, "%s %.17g\n", name, v);
}

static int
write_ingest(struct buf *b, struct ingest *ig)
{
	struct ingest_stats st;
	int rc = 0;

	ingest_get_stats(ig, &st);
	rc |= write_one(b, "vodhook_events_stored_total", "counter",
			"Events stored as new.", (double)st.stored);
	rc |= write_one(b, "vodhook_events_duplicate_total", "counter",
			"Events received again and recognised as duplicates.",
			(double)st.duplicates);
	rc |= write_one(b, "vodhook_events_spooled_total", "counter",
			"Events written to the local spool while the database "
			"could not take them.",
			(double)st.spooled);
	rc |= write_one(b, "vodhook_events_replayed_total", "counter",
			"Spooled events later written to the database.",
			(double)st.replayed);
	rc |= write_one(b, "vodhook_events_failed_total", "counter",
			"Events that could be neither stored nor spooled.",
			(double)st.failed);
	rc |= write_one(b, "vodhook_ingest_batches_total", "counter",
			"Group commits of the callback committer.",
			(double)st.batches);
	rc |= write_one(b, "vodhook_ingest_commit_seconds_total", "counter",
			"Time spent waiting for group commits.",
			(double)st.commit_us / 1e6);
	rc |= write_one(b, "vodhook_spool_pending_bytes", "gauge",
			"Bytes in the spool not yet replayed.",
			(double)st.spool_pending);
	rc |= write_one(b, "vodhook_spool_quarantined_total", "counter",
			"Spooled events the database refused, set aside.",
			(double)st.quarantined);
	rc |= write_one(b, "vodhook_ingest_queued_events", "gauge",
			"Events waiting for a group commit now.",
			(double)st.queued);
	return rc;
}

/* Webhook messages created and pending (all processes); left out when
 * the database does not answer. */
static int
write_webhooks(struct buf *b, struct db_pool *pool)
{
	int64_t created = 0, pending = 0;
	struct err e;
	int rc = 0;

	err_clear(&e);
	if (store_webhook_stats(pool, &created, &pending, &e) != 0) {
		log_msg(LOG_WARN, "metrics",
			"could not count webhook messages: %s", e.msg);
		return 0;
	}
	rc |= write_one(b, "vodhook_webhook_messages_created_total", "counter",
			"Webhook messages created (all processes).",
			(double)created);
	rc |= write_one(b, "vodhook_webhook_messages_pending", "gauge",
			"Webhook messages waiting for delivery or a retry (all "
			"processes).",
			(double)pending);
	return rc;
}

/* Upload jobs by state, and whether the database answered. */
static int
write_database(struct buf *b, struct db_pool *pool)
{
	struct store_state_count c[STORE_UPLOAD_NSTATES];
	size_t n = 0;
	struct err e;
	int rc = 0, up;

	err_clear(&e);
	up = store_upload_count_states(pool, c, &n, &e) == 0;
	if (!up)
		log_msg(LOG_WARN, "metrics", "could not count upload jobs: %s",
			e.msg);
	rc |= write_one(b, "vodhook_database_up", "gauge",
			"1 when PostgreSQL answered this scrape's query.", up);
	if (!up)
		return rc;
	rc |= metrics_write_header(b, "vodhook_upload_jobs", "gauge",
				   "Upload jobs by state (all processes).");
	for (size_t i = 0; i < n; i++)
		rc |= buf_printf(b, "vodhook_upload_jobs{state=\"%s\"} %lld\n",
				 c[i].state, (long long)c[i].n);
	return rc | write_webhooks(b, pool);
}

int
handle_metrics(struct http_req *r, void *arg)
{
	struct app *app = arg;
	struct buf b;
	int status, rc;

	if ((status = check_metrics_token(r)) != 0)
		return status;
	buf_init(&b, METRICS_MAX_BYTES);
	rc = metrics_write_header(&b, "vodhook_build_info", "gauge",
				  "Always 1; the labels say which build runs.");
	rc |= buf_printf(&b, "vodhook_build_info{version=\"%s\"} 1\n",
			 VODHOOK_VERSION);
	rc |= metrics_write(&b);
	rc |= write_ingest(&b, app->ingest);
	rc |= http_metrics_write(r->server, &b);
	rc |= write_database(&b, app->pool);
	if (rc != 0) {
		buf_free(&b);
		return http_reply_error(r, 500, "internal",
					"could not format the metrics");
	}
	status = http_reply_body(r, 200, "text/plain; version=0.0.4",
				 buf_cstr(&b), b.len);
	buf_free(&b);
	return status;
}

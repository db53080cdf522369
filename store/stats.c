/*
 * stats.c: counts for /metrics, and what the status page's overview and
 * failures views show.
 *
 * Interface: store_upload_count_states, store_summary_json,
 * store_failed_uploads_json, store_failed_webhooks_json.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

/* Every state, zero included, so that a series does not vanish when its
 * last job moves on; counted through uploads_state_idx. */
static const char SQL_COUNT_STATES[] =
    "SELECT s.state, count(u.id)"
    " FROM unnest('{queued,uploading,committing,uploaded,confirmed,"
    "processing,ready,failed,canceled}'::text[]) WITH ORDINALITY"
    "  AS s(state, ord)"
    " LEFT JOIN uploads u ON u.state = s.state"
    " GROUP BY s.state, s.ord ORDER BY s.ord";

/* A scrape waits no longer than this, nor than the pool's timeout. */
#define STATS_TIMEOUT_MS 5000

int
store_upload_count_states(struct db_pool *pool,
			  struct store_state_count out[STORE_UPLOAD_NSTATES],
			  size_t *n, struct err *e)
{
	int64_t deadline = store__deadline(pool);
	int64_t cap = time_mono_ms() + STATS_TIMEOUT_MS;
	PGresult *res = NULL;
	PGconn *conn;
	int rc = 0;

	*n = 0;
	if ((conn = store__acquire_by(
		 pool, 1000, deadline == 0 || deadline > cap ? cap : deadline,
		 e)) == NULL)
		return ERR_UNAVAIL;
	res = store__exec(conn, SQL_COUNT_STATES, 0, NULL);
	if (!store__ok(res)) {
		rc = store__err(conn, res, "count the upload jobs", e);
		goto out;
	}
	for (int i = 0; i < PQntuples(res) && i < STORE_UPLOAD_NSTATES; i++) {
		snprintf(out[i].state, sizeof(out[i].state), "%s",
			 PQgetvalue(res, i, 0));
		if ((rc = store__int(res, i, 1, 0, INT64_MAX, &out[i].n,
				     "the count of upload jobs", e)) != 0)
			goto out;
		*n = (size_t)i + 1;
	}
out:
	PQclear(res);
	store__release(pool, conn);
	return rc;
}

/*
 * Media per provider and state, the upload jobs still running, and the
 * webhooks in trouble. The media count is one pass over media_state_idx
 * (an index-only scan once the table is vacuumed); bench/page.sh measures
 * it. The subscriptions are few, read whole; the pending messages are
 * counted through 016's partial indexes, the failed ones through 020's,
 * each reading only the entries it counts.
 */
static const char SQL_SUMMARY[] =
    "SELECT json_build_object("
    " 'media', (SELECT coalesce(json_agg(json_build_object('provider',"
    "  provider, 'state', state, 'count', n) ORDER BY provider, state),"
    "  '[]'::json) FROM (SELECT provider, state, count(*) AS n FROM media"
    "  GROUP BY provider, state) c),"
    " 'uploads', (SELECT json_object_agg(s.state, (SELECT count(*)"
    "  FROM uploads u WHERE u.state = s.state) ORDER BY s.ord)"
    "  FROM unnest('{queued,uploading,committing}'::text[])"
    "  WITH ORDINALITY AS s(state, ord)),"
    " 'webhooks', json_build_object('subscriptions', (SELECT"
    "  json_build_object('enabled', count(*) FILTER (WHERE enabled),"
    "  'disabled', count(*) FILTER (WHERE NOT enabled))"
    "  FROM webhook_subscriptions),"
    "  'messages', json_build_object("
    "  'pending', (SELECT count(*) FROM webhook_messages"
    "   WHERE state = 'pending'),"
    "  'failed', (SELECT count(*) FROM webhook_messages"
    "   WHERE state = 'failed'))))";

/* The last failed jobs, newest first; never their source, which may be a
 * URL with credentials in it. Through uploads_state_idx. */
static const char SQL_FAILED[] =
    "SELECT coalesce(json_agg(j ORDER BY created_at DESC, id DESC),"
    " '[]'::json) FROM (SELECT u.created_at, u.id, json_build_object("
    " 'id', u.id, 'provider', u.provider, 'file_id', u.file_id,"
    " 'name', u.media_name, 'source_kind', u.source_kind,"
    " 'attempts', u.attempts, 'error', json_build_object('code',"
    " u.error_code, 'message', u.error_message), 'created_at',"
    " u.created_at, 'finished_at', u.finished_at) AS j FROM uploads u"
    " WHERE u.state = 'failed' ORDER BY u.created_at DESC, u.id DESC"
    " LIMIT $1::int) x";

/* A subscription as the failures show it: its URL's host and port only,
 * since a path or a query may hold a token of the receiver's (the URL has
 * no user information: webhooks/url.c). Texts are capped. */
#define SUB_BRIEF                                                              \
	"json_build_object('id', s.id, 'description', left(s.description,"     \
	" 200), 'host', substring(s.url FROM"                                  \
	" '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^/?#@]*@)?([^/?#]*)'))"

/*
 * The last failed webhook messages, newest first (a backward scan of
 * 020's index), and the disabled subscriptions, most recently disabled
 * first; never a body, a secret or an answer's text.
 */
static const char SQL_FAILED_WEBHOOKS[] =
    "SELECT json_build_object("
    " 'failed_messages', (SELECT coalesce(json_agg(j ORDER BY t DESC,"
    "  id DESC), '[]'::json) FROM (SELECT coalesce(m.delivered_at,"
    "  m.failed_at) AS t, m.id, json_build_object('id', 'msg_' || m.id,"
    "  'subscription', " SUB_BRIEF ", 'type', m.type, 'subject',"
    "  left(m.subject, 600), 'attempts', m.attempts, 'last_status',"
    "  m.last_status, 'last_error', left(m.last_error, 500),"
    "  'created_at', m.created_at, 'failed_at', m.failed_at) AS j"
    "  FROM webhook_messages m"
    "  JOIN webhook_subscriptions s ON s.id = m.subscription_id"
    "  WHERE m.state = 'failed'"
    "  ORDER BY coalesce(m.delivered_at, m.failed_at) DESC, m.id DESC"
    "  LIMIT $1::int) x),"
    " 'disabled_subscriptions', (SELECT coalesce(json_agg(j ORDER BY t"
    "  DESC NULLS LAST, id), '[]'::json) FROM (SELECT s.disabled_at AS t,"
    "  s.id, " SUB_BRIEF "::jsonb || jsonb_build_object('disabled_at',"
    "  s.disabled_at, 'disabled_reason', left(s.disabled_reason, 500),"
    "  'failing_since', s.failing_since) AS j"
    "  FROM webhook_subscriptions s WHERE NOT s.enabled"
    "  ORDER BY s.disabled_at DESC NULLS LAST, s.id LIMIT $1::int) y))";

/* Run a one-row, one-column query with the stats deadline; *json (caller
 * frees) is its text. */
static int
stats_text(struct db_pool *pool, const char *sql, int nparams,
	   const char *const *params, const char *what, char **json,
	   struct err *e)
{
	int64_t deadline = store__deadline(pool);
	int64_t cap = time_mono_ms() + STATS_TIMEOUT_MS;
	PGresult *res = NULL;
	PGconn *conn;
	int rc = 0;

	*json = NULL;
	if ((conn = store__acquire_by(
		 pool, 1000, deadline == 0 || deadline > cap ? cap : deadline,
		 e)) == NULL)
		return ERR_UNAVAIL;
	res = store__exec(conn, sql, nparams, params);
	if (!store__ok(res) || PQntuples(res) != 1) {
		rc = store__err(conn, res, what, e);
		goto out;
	}
	*json = xstrdup(PQgetvalue(res, 0, 0));
out:
	PQclear(res);
	store__release(pool, conn);
	return rc;
}

int
store_summary_json(struct db_pool *pool, char **json, struct err *e)
{
	return stats_text(pool, SQL_SUMMARY, 0, NULL, "count the media", json,
			  e);
}

int
store_failed_uploads_json(struct db_pool *pool, int limit, char **json,
			  struct err *e)
{
	char n[16];
	const char *params[1] = {n};

	snprintf(n, sizeof(n), "%d", limit);
	return stats_text(pool, SQL_FAILED, 1, params,
			  "read the failed upload jobs", json, e);
}

int
store_failed_webhooks_json(struct db_pool *pool, int limit, char **json,
			   struct err *e)
{
	char n[16];
	const char *params[1] = {n};

	snprintf(n, sizeof(n), "%d", limit);
	return stats_text(pool, SQL_FAILED_WEBHOOKS, 1, params,
			  "read the failed webhooks", json, e);
}

/*
 * stats.c: counts for /metrics.
 *
 * Interface: store_upload_count_states, store_summary_json,
 * store_failed_uploads_json.
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
 * Media per provider and state, and the upload jobs still running. The
 * media count is one pass over media_state_idx (an index-only scan once
 * the table is vacuumed); bench/page.sh measures it.
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
    "  WITH ORDINALITY AS s(state, ord)))";

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

/*
 * stats.c: counts for /metrics.
 *
 * Interface: store_upload_count_states.
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

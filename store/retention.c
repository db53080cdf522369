/*
 * retention.c: deleting what is kept for a limited time: raw events by the
 * time they were received, finished upload jobs and their part checkpoints
 * by the time they finished, webhook messages delivered or failed by the
 * time they ended. Media records are never deleted.
 *
 * Each statement deletes at most max rows, so that a batch holds its locks
 * briefly, and picks them with FOR UPDATE SKIP LOCKED, so that several
 * instances deleting at once split the rows instead of waiting on each
 * other. Rows are found through an index on their age (schema/013), and
 * deleted by the ctid or id the claim returned (ARRAY(...), so that the
 * delete looks each one up rather than joining the whole table).
 *
 * An upload is deleted once it is finished (ready, failed or canceled, the
 * states no worker and no callback moves it out of) unless a media record
 * that is not finished yet names it: callbacks and the reconciler still
 * read that upload (whether processing was asked for, the procedure). A
 * media record that names a deleted upload stays, with upload_id set to
 * NULL by its foreign key. A callback batch that links a media record to
 * an upload at the moment it is deleted fails on that key, and is spooled
 * and replayed like any batch the database refused, then without the link.
 * Parts go first, in batches of their own, and an
 * upload is deleted only once it has none left, so that no batch cascades
 * to thousands of parts.
 *
 * A webhook message is deleted once it is delivered or failed, never while
 * it is pending (still to deliver, or resent), with its attempts by its
 * foreign key's cascade (an index lookup each): each time a message is
 * sent it gets at most one attempt more than the retry schedule has delays,
 * so that a batch of max messages deletes a few times max rows. Its
 * subject's sequence number (webhook_subjects) stays, so that a later
 * change of that record still counts up.
 *
 * Interface: store_retention_delete_events, store_retention_delete_parts,
 * store_retention_delete_uploads, store_retention_delete_webhooks.
 */
#include "store/store_int.h"

#include <stdio.h>

static const char SQL_DELETE_EVENTS[] =
    "DELETE FROM vod_events WHERE ctid = ANY (ARRAY("
    " SELECT ctid FROM vod_events"
    "  WHERE received_at < now() - make_interval(days => $1::int)"
    "  LIMIT $2::int FOR UPDATE SKIP LOCKED))";

/* An upload whose time is up (u). */
#define UPLOAD_DUE                                                             \
	" u.state IN ('ready', 'failed', 'canceled')"                          \
	" AND u.finished_at < now() - make_interval(days => $1::int)"          \
	" AND NOT EXISTS (SELECT 1 FROM media m WHERE m.upload_id = u.id"      \
	"  AND m.state_rank < 4)"

static const char SQL_DELETE_PARTS[] =
    "DELETE FROM upload_parts WHERE ctid = ANY (ARRAY("
    " SELECT p.ctid FROM uploads u JOIN upload_parts p ON p.upload_id = u.id"
    "  WHERE" UPLOAD_DUE " LIMIT $2::int FOR UPDATE OF p SKIP LOCKED))";

/* OFFSET 0 keeps the parts test a lookup per due upload: as an anti join,
 * PostgreSQL may hash every part of the table to find the few uploads. */
static const char SQL_DELETE_UPLOADS[] =
    "DELETE FROM uploads WHERE id = ANY (ARRAY("
    " SELECT u.id FROM uploads u WHERE" UPLOAD_DUE
    "  AND NOT EXISTS (SELECT 1 FROM upload_parts p"
    "   WHERE p.upload_id = u.id OFFSET 0)"
    "  LIMIT $2::int FOR UPDATE OF u SKIP LOCKED))";

/* Ordered as webhook_messages_ended_idx (schema/020) is, so that the claim
 * reads that index and stops after max rows, whatever share of the table
 * is due. */
static const char SQL_DELETE_WEBHOOKS[] =
    "DELETE FROM webhook_messages WHERE id = ANY (ARRAY("
    " SELECT id FROM webhook_messages"
    "  WHERE state IN ('delivered', 'failed')"
    "  AND coalesce(delivered_at, failed_at)"
    "   < now() - make_interval(days => $1::int)"
    "  ORDER BY state, coalesce(delivered_at, failed_at)"
    "  LIMIT $2::int FOR UPDATE SKIP LOCKED))";

/* Run one of the deletes with (days, max); *deleted: the rows deleted. */
static int
delete_batch(struct db_pool *pool, const char *sql, int days, int max,
	     const char *what, int *deleted, struct err *e)
{
	char sdays[16], smax[16];
	const char *params[2] = {sdays, smax};
	PGresult *res = NULL;
	PGconn *conn;
	int rc = 0;

	*deleted = 0;
	snprintf(sdays, sizeof(sdays), "%d", days);
	snprintf(smax, sizeof(smax), "%d", max);
	if ((conn = store__acquire(pool, 5000, e)) == NULL)
		return ERR_UNAVAIL;
	res = store__exec(conn, sql, 2, params);
	if (!store__ok(res))
		rc = store__err(conn, res, what, e);
	else
		rc = store__count(res, deleted, what, e);
	PQclear(res);
	store__release(pool, conn);
	return rc;
}

int
store_retention_delete_events(struct db_pool *pool, int days, int max,
			      int *deleted, struct err *e)
{
	return delete_batch(pool, SQL_DELETE_EVENTS, days, max,
			    "delete old events", deleted, e);
}

int
store_retention_delete_parts(struct db_pool *pool, int days, int max,
			     int *deleted, struct err *e)
{
	return delete_batch(pool, SQL_DELETE_PARTS, days, max,
			    "delete the parts of old uploads", deleted, e);
}

int
store_retention_delete_uploads(struct db_pool *pool, int days, int max,
			       int *deleted, struct err *e)
{
	return delete_batch(pool, SQL_DELETE_UPLOADS, days, max,
			    "delete old uploads", deleted, e);
}

int
store_retention_delete_webhooks(struct db_pool *pool, int days, int max,
				int *deleted, struct err *e)
{
	return delete_batch(pool, SQL_DELETE_WEBHOOKS, days, max,
			    "delete old webhook messages", deleted, e);
}

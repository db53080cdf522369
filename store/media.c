/*
 * media.c: reading media records for the HTTP API. PostgreSQL builds the
 * JSON (json_build_object), so that every value keeps its exact text: ids
 * never pass through a double.
 *
 * Interface: store_media_get_json, store_media_events_json,
 * store_media_list_json, store_media_claim_stale, store_stale_media_free,
 * store_media_app_id, store_media_set_app_id,
 * store_media_delete_target, store_media_delete_requested.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEDIA_JSON                                                             \
	"json_build_object('provider', m.provider, 'file_id', m.file_id,"      \
	" 'state', m.state, 'upload_id', m.upload_id, 'media_url',"            \
	" m.media_url, 'size', m.size, 'procedure_task_id',"                   \
	" m.procedure_task_id, 'source_context', m.source_context,"            \
	" 'app_id', m.app_id,"                                                 \
	" 'error_code', m.error_code, 'error_message', m.error_message,"       \
	" 'created_at', m.created_at, 'updated_at', m.updated_at,"             \
	" 'transitions', json_build_object('uploaded', m.uploaded_at,"         \
	" 'confirmed', m.confirmed_at, 'processing', m.processing_at,"         \
	" 'ready', m.ready_at, 'failed', m.failed_at, 'deleted',"              \
	" m.deleted_at), 'delete', CASE WHEN m.delete_requested_at IS NOT"     \
	" NULL THEN json_build_object('requested_at', m.delete_requested_at,"  \
	" 'error_code', m.delete_error_code, 'error_message',"                 \
	" m.delete_error_message) END)"

#define EVENT_JSON                                                             \
	"json_build_object('id', e.id::text, 'event_type', e.event_type,"      \
	" 'dedup_key', e.dedup_key, 'task_id', e.task_id, 'status', e.status," \
	" 'error_code', e.error_code, 'error_message', e.error_message,"       \
	" 'received_via', e.received_via, 'event_time', e.event_time,"         \
	" 'received_at', e.received_at, 'body', e.raw)"

static const char SQL_GET[] =
    "SELECT " MEDIA_JSON "::jsonb || jsonb_build_object("
    " 'upload', (SELECT json_build_object('id', u.id, 'state', u.state,"
    "  'source_kind', u.source_kind, 'media_name', u.media_name,"
    "  'procedure', u.procedure, 'source_context', u.source_context,"
    "  'bytes_total', u.bytes_total, 'bytes_done', u.bytes_done,"
    "  'created_at', u.created_at, 'finished_at', u.finished_at)"
    "  FROM uploads u WHERE u.id = m.upload_id),"
    " 'events', coalesce((SELECT json_agg(x.j ORDER BY x.id) FROM"
    "  (SELECT e.id, " EVENT_JSON " AS j FROM vod_events e"
    "   WHERE e.provider = m.provider AND e.file_id = m.file_id"
    "   ORDER BY e.id DESC LIMIT $3) x), '[]'::json))"
    " FROM media m WHERE m.provider = $1 AND m.file_id = $2";

static const char SQL_EVENTS[] =
    "SELECT coalesce(json_agg(" EVENT_JSON " ORDER BY e.id), '[]'::json),"
    " EXISTS (SELECT 1 FROM media WHERE provider = $1 AND file_id = $2)"
    " FROM vod_events e WHERE e.provider = $1 AND e.file_id = $2";

static const char SQL_LIST[] =
    "WITH page AS (SELECT m.id, " MEDIA_JSON " AS j FROM media m"
    " WHERE ($1::text IS NULL OR m.state = $1)"
    "  AND ($2::text IS NULL OR m.provider = $2)"
    "  AND ($3::timestamptz IS NULL OR m.updated_at >= $3)"
    "  AND m.id > $4::bigint"
    " ORDER BY m.id LIMIT $5::int)"
    " SELECT json_build_object('items', coalesce(json_agg(j ORDER BY id),"
    "  '[]'::json), 'next_cursor', CASE WHEN count(*) = $5::int"
    "  THEN max(id)::text END) FROM page";

/* Run a one-row, one-column query and hand back its text. */
static int
query_text(struct db_pool *pool, const char *sql, int nparams,
	   const char *const *params, char **json, bool *second, struct err *e)
{
	PGresult *res = NULL;
	PGconn *conn;
	int rc = 0;

	*json = NULL;
	if ((conn = store__acquire(pool, 5000, e)) == NULL)
		return ERR_UNAVAIL;
	res = store__exec(conn, sql, nparams, params);
	if (!store__ok(res)) {
		rc = store__err(conn, res, "read media", e);
		goto out;
	}
	if (PQntuples(res) == 0) {
		rc = err_set(e, ERR_NOTFOUND, "no such media");
		goto out;
	}
	*json = xstrdup(PQgetvalue(res, 0, 0));
	if (second != NULL)
		*second = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
out:
	PQclear(res);
	store__release(pool, conn);
	return rc;
}

int
store_media_get_json(struct db_pool *pool, const char *provider,
		     const char *file_id, int max_events, char **json,
		     struct err *e)
{
	char limit[16];
	const char *params[3] = {provider, file_id, limit};

	snprintf(limit, sizeof(limit), "%d", max_events);
	return query_text(pool, SQL_GET, 3, params, json, NULL, e);
}

int
store_media_events_json(struct db_pool *pool, const char *provider,
			const char *file_id, char **json, struct err *e)
{
	const char *params[2] = {provider, file_id};
	bool exists = false;
	int rc;

	rc = query_text(pool, SQL_EVENTS, 2, params, json, &exists, e);
	if (rc == 0 && !exists && strcmp(*json, "[]") == 0) {
		free(*json);
		*json = NULL;
		rc = err_set(e, ERR_NOTFOUND, "no such media");
	}
	return rc;
}

int
store_media_list_json(struct db_pool *pool, const struct store_media_filter *f,
		      char **json, struct err *e)
{
	char since[80], after[24], limit[16];
	const char *params[5] = {f->state, f->provider, NULL, after, limit};

	*json = NULL;
	if (f->since != NULL) {
		if (store__time_utc(f->since, since, sizeof(since)) != 0)
			return err_set(e, ERR_INPUT,
				       "since must be an RFC 3339 date-time, "
				       "such as 2026-01-02T03:04:05Z or "
				       "2026-01-02T11:04:05.5+08:00");
		params[2] = since;
	}
	snprintf(after, sizeof(after), "%lld", (long long)f->after_id);
	snprintf(limit, sizeof(limit), "%d", f->limit);
	return query_text(pool, SQL_LIST, 5, params, json, NULL, e);
}

/*
 * What kind of media a record is ("video", "image", "attached"), for the
 * calls about it (DeleteImage, GetImageInfo, ...): the upload says what it
 * sent, else an ImageUploadComplete or AttachedMediaUploadComplete event
 * names it, else it is a video. m is the media row.
 */
#define MEDIA_KIND                                                             \
	"coalesce((SELECT u.media_kind::text FROM uploads u"                   \
	"  WHERE u.id = m.upload_id),"                                         \
	" (SELECT CASE e.event_type WHEN 'ImageUploadComplete' THEN 'image'"   \
	"  ELSE 'attached' END FROM vod_events e"                              \
	"  WHERE e.file_id = m.file_id AND e.provider = m.provider"            \
	"   AND e.event_type IN ('ImageUploadComplete',"                       \
	"    'AttachedMediaUploadComplete') LIMIT 1),"                         \
	" 'video')"

/*
 * Stale: unfinished past the wait, or asked to be deleted (and accepted by
 * the platform) that long ago without the deletion coming back.
 */
static const char SQL_CLAIM_STALE[] =
    "UPDATE media m SET reconciled_at = now()"
    " FROM (SELECT id FROM media"
    "  WHERE provider = $1"
    "   AND ((state IN ('uploaded', 'confirmed', 'processing')"
    "     AND updated_at < now() - make_interval(secs => $2::bigint))"
    "    OR (delete_requested_at IS NOT NULL AND state <> 'deleted'"
    "     AND delete_error_code IS NULL"
    "     AND delete_requested_at < now() - make_interval(secs => $2::bigint)))"
    "   AND (reconciled_at IS NULL"
    "    OR reconciled_at < now() - make_interval(secs => $2::bigint))"
    "  ORDER BY updated_at LIMIT $3::int"
    "  FOR UPDATE SKIP LOCKED) s"
    " WHERE m.id = s.id"
    " RETURNING m.file_id, m.state, m.procedure_task_id,"
    "  (SELECT u.procedure FROM uploads u WHERE u.id = m.upload_id),"
    "  m.app_id,"
    "  m.delete_requested_at IS NOT NULL AND m.delete_error_code IS NULL,"
    "  " MEDIA_KIND;

int
store_media_claim_stale(struct db_pool *pool, const char *provider,
			int64_t older_than_s, int max,
			struct store_stale_media **out, size_t *n,
			struct err *e)
{
	PGresult *res = store__claim(pool, SQL_CLAIM_STALE, provider,
				     older_than_s, max, "claim stale media", e);

	*out = NULL;
	*n = 0;
	if (res == NULL)
		return e->code;
	*n = (size_t)PQntuples(res);
	*out = xcalloc(*n ? *n : 1, sizeof(**out));
	for (int r = 0; r < PQntuples(res); r++) {
		(*out)[r].file_id = xstrdup(PQgetvalue(res, r, 0));
		(*out)[r].state = xstrdup(PQgetvalue(res, r, 1));
		(*out)[r].procedure_task_id = store__dup_or_null(res, r, 2);
		(*out)[r].procedure = store__dup_or_null(res, r, 3);
		(*out)[r].app_id = store__dup_or_null(res, r, 4);
		(*out)[r].delete_requested =
		    strcmp(PQgetvalue(res, r, 5), "t") == 0;
		(*out)[r].kind = xstrdup(PQgetvalue(res, r, 6));
	}
	PQclear(res);
	return 0;
}

void
store_stale_media_free(struct store_stale_media *m, size_t n)
{
	for (size_t i = 0; m != NULL && i < n; i++) {
		free(m[i].file_id);
		free(m[i].state);
		free(m[i].procedure_task_id);
		free(m[i].procedure);
		free(m[i].app_id);
		free(m[i].kind);
	}
	free(m);
}

static const char SQL_APP_ID[] = "SELECT coalesce(app_id, '') FROM media"
				 " WHERE provider = $1 AND file_id = $2";

static const char SQL_SET_APP_ID[] =
    "UPDATE media SET app_id = $3"
    " WHERE provider = $1 AND file_id = $2 AND app_id IS NULL";

int
store_media_set_app_id(struct db_pool *pool, const char *provider,
		       const char *file_id, const char *app_id, struct err *e)
{
	const char *params[3] = {provider, file_id, app_id};
	PGresult *res = NULL;
	PGconn *conn;
	int rc = 0;

	if ((conn = store__acquire(pool, 5000, e)) == NULL)
		return store__acquire_failed(e);
	res = store__exec(conn, SQL_SET_APP_ID, 3, params);
	if (!store__ok(res))
		rc = store__err(conn, res, "set the application of a media", e);
	PQclear(res);
	store__release(pool, conn);
	return rc;
}

int
store_media_app_id(struct db_pool *pool, const char *provider,
		   const char *file_id, char **app_id, struct err *e)
{
	const char *params[2] = {provider, file_id};
	int rc = query_text(pool, SQL_APP_ID, 2, params, app_id, NULL, e);

	if (rc == 0 && (*app_id)[0] == '\0') {
		free(*app_id);
		*app_id = NULL;
	}
	return rc;
}

/*
 * An Alibaba image is deleted with DeleteImage, an attached media with
 * DeleteAttachedMedia: MEDIA_KIND says which.
 */
static const char SQL_DELETE_TARGET[] =
    "SELECT " MEDIA_KIND ", m.state::text = 'deleted'"
    " FROM media m WHERE m.provider = $1 AND m.file_id = $2";

int
store_media_delete_target(struct db_pool *pool, const char *provider,
			  const char *file_id, char **kind, bool *deleted,
			  struct err *e)
{
	const char *params[2] = {provider, file_id};

	return query_text(pool, SQL_DELETE_TARGET, 2, params, kind, deleted, e);
}

static const char SQL_DELETE_REQUESTED[] =
    "UPDATE media m SET delete_requested_at = now(),"
    " delete_error_code = $3, delete_error_message = $4,"
    " state = CASE WHEN $5::boolean THEN 'deleted' ELSE m.state END,"
    " state_rank = CASE WHEN $5::boolean THEN 5 ELSE m.state_rank END,"
    " deleted_at = CASE WHEN $5::boolean THEN coalesce(m.deleted_at, now())"
    "  ELSE m.deleted_at END,"
    " updated_at = now()"
    " WHERE m.provider = $1 AND m.file_id = $2"
    " RETURNING " MEDIA_JSON;

int
store_media_delete_requested(struct db_pool *pool, const char *provider,
			     const char *file_id, const char *error_code,
			     const char *error_message, bool deleted_now,
			     char **json, struct err *e)
{
	const char *params[5] = {provider, file_id, error_code, error_message,
				 deleted_now ? "true" : "false"};

	return query_text(pool, SQL_DELETE_REQUESTED, 5, params, json, NULL, e);
}

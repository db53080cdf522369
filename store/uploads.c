/*
 * uploads.c: the queries of upload jobs (uploads, upload_parts).
 *
 * Workers claim jobs with FOR UPDATE SKIP LOCKED and hold them by a lease
 * (lease_owner, lease_expires_at); every write a worker makes names its
 * owner, so an instance whose lease was taken over changes nothing. States
 * move forward only (upload_state_rank). PostgreSQL builds the JSON.
 *
 * Interface: store_upload_create, store_upload_get_json,
 * store_upload_list_json, store_upload_cancel, store_upload_claim,
 * store_upload_heartbeat, store_upload_set_session,
 * store_upload_set_credential,
 * store_upload_set_multipart, store_upload_part_done, store_upload_parts,
 * store_upload_set_state, store_upload_committed, store_upload_fail,
 * store_upload_retry_later, store_upload_canceled, store_upload_cleanup,
 * store_upload_set_url_job, store_upload_claim_parked,
 * store_parked_pulls_free.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UPLOAD_JSON                                                            \
	"json_build_object('id', u.id, 'provider', u.provider, 'state',"       \
	" u.state, 'source_kind', u.source_kind, 'source', u.source,"          \
	" 'name', u.media_name, 'media_type', u.media_type, 'media_kind',"     \
	" u.media_kind, 'procedure', u.procedure, 'source_context',"           \
	" u.source_context, 'options', u.options, 'bytes_total',"              \
	" u.bytes_total, 'bytes_done', u.bytes_done, 'part_size',"             \
	" u.part_size, 'rate_bps', CASE WHEN u.state = 'uploading' THEN"       \
	" u.rate_bps END, 'parts_in_flight', CASE WHEN u.state ="              \
	" 'uploading' THEN u.parts_in_flight END,"                             \
	" 'file_id', u.file_id, 'media_url', u.media_url,"                     \
	" 'url_job_id', u.url_job_id, 'app_id', u.app_id,"                     \
	" 'attempts', u.attempts, 'cancel_requested', u.cancel_requested,"     \
	" 'error', CASE WHEN u.error_code IS NULL AND u.error_message IS NULL" \
	"  THEN NULL ELSE json_build_object('code', u.error_code, 'message',"  \
	"  u.error_message) END,"                                              \
	" 'created_at', u.created_at, 'updated_at', u.updated_at,"             \
	" 'started_at', u.started_at, 'uploaded_at', u.uploaded_at,"           \
	" 'finished_at', u.finished_at)"

static const char SQL_CREATE[] =
    "INSERT INTO uploads AS u (id, provider, source_kind, source,"
    " media_name, media_type, media_kind, procedure, source_context,"
    " options, bytes_total, lease_owner, lease_expires_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, coalesce($7, 'video'), $8, $9,"
    "  coalesce($10::jsonb, '{}'::jsonb), $11::bigint, $12,"
    "  CASE WHEN $12::text IS NULL THEN NULL"
    "  ELSE now() + make_interval(secs => $13::int) END)"
    " RETURNING " UPLOAD_JSON;

static const char SQL_GET[] =
    "SELECT " UPLOAD_JSON " FROM uploads u WHERE u.id = $1::uuid";

static const char SQL_LIST[] =
    "WITH page AS (SELECT u.id, u.created_at, " UPLOAD_JSON " AS j"
    " FROM uploads u WHERE ($1::text IS NULL OR u.state = $1)"
    "  AND ($2::uuid IS NULL OR (u.created_at, u.id) >"
    "   (SELECT created_at, id FROM uploads WHERE id = $2::uuid))"
    " ORDER BY u.created_at, u.id LIMIT $3::int)"
    " SELECT json_build_object('items', coalesce(json_agg(j ORDER BY"
    "  created_at, id), '[]'::json), 'next_cursor', CASE WHEN count(*) ="
    "  $3::int THEN (array_agg(id ORDER BY created_at DESC, id DESC))[1]"
    "  END) FROM page";

/*
 * Cancel: a queued job nobody holds ends now; a running one is flagged. A
 * URL the platform is pulling (url_job_id set) cannot be canceled: no
 * worker holds it any more and the platform has no call to stop a pull.
 */
static const char SQL_CANCEL[] =
    "WITH c AS (UPDATE uploads u SET cancel_requested = true,"
    "  state = CASE WHEN u.state = 'queued' AND (u.lease_owner IS NULL"
    "   OR u.lease_expires_at < now()) THEN 'canceled' ELSE u.state END,"
    "  finished_at = CASE WHEN u.state = 'queued' AND (u.lease_owner IS"
    "   NULL OR u.lease_expires_at < now()) THEN now()"
    "   ELSE u.finished_at END,"
    "  updated_at = now()"
    " WHERE u.id = $1::uuid AND upload_state_rank(u.state) < 3"
    "  AND u.url_job_id IS NULL"
    " RETURNING " UPLOAD_JSON " AS j)"
    " SELECT (SELECT j FROM c),"
    "  EXISTS (SELECT 1 FROM uploads WHERE id = $1::uuid)";

#define CLAIM_COLS                                                             \
	" u.id, u.provider, u.state, u.source_kind, u.source, u.media_name,"   \
	" u.media_type, u.media_kind, u.procedure, u.source_context,"          \
	" u.options::text, coalesce(u.bytes_total, -1),"                       \
	" coalesce(u.part_size, 0), u.session::text,"                          \
	" coalesce(extract(epoch FROM u.credential_expires_at)::bigint, 0),"   \
	" u.multipart_upload_id, u.file_id, u.attempts, u.cancel_requested,"   \
	" u.source_version"

/* A job whose URL the platform pulls (url_job_id set) is never claimed
 * again: its callbacks finish it. */
static const char SQL_CLAIM[] =
    "WITH c AS (SELECT id FROM uploads"
    " WHERE state IN ('queued', 'uploading', 'committing')"
    "  AND url_job_id IS NULL"
    "  AND (lease_owner IS NULL OR lease_expires_at < now()"
    "   OR ($3::uuid IS NOT NULL AND lease_owner = $1))"
    "  AND (lease_expires_at IS NULL OR lease_expires_at < now()"
    "   OR $3::uuid IS NOT NULL)"
    "  AND ($3::uuid IS NULL OR id = $3::uuid)"
    " ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)"
    " UPDATE uploads u SET lease_owner = $1,"
    "  lease_expires_at = now() + make_interval(secs => $2::int),"
    "  attempts = u.attempts + 1, started_at = coalesce(u.started_at,"
    "  now()), updated_at = now()"
    " FROM c WHERE u.id = c.id RETURNING" CLAIM_COLS;

static const char SQL_HEARTBEAT[] =
    "UPDATE uploads SET lease_expires_at = now() +"
    "  make_interval(secs => $3::int),"
    "  bytes_done = CASE WHEN $4::bigint < 0 THEN bytes_done ELSE $4 END,"
    "  rate_bps = $5::bigint, parts_in_flight = $6::int,"
    "  updated_at = now()"
    " WHERE id = $1::uuid AND lease_owner = $2 RETURNING cancel_requested";

static const char SQL_SET_SESSION[] =
    "WITH d AS (DELETE FROM upload_parts WHERE upload_id = $1::uuid"
    "  AND EXISTS (SELECT 1 FROM uploads WHERE id = $1::uuid"
    "   AND lease_owner = $2))"
    " UPDATE uploads SET session = $3::jsonb,"
    "  credential_expires_at = CASE WHEN $4::bigint > 0"
    "   THEN to_timestamp($4::bigint) END,"
    "  bytes_total = $5::bigint, bytes_done = 0, source_version = $7,"
    "  multipart_upload_id = NULL, part_size = NULL,"
    "  file_id = coalesce($6, file_id),"
    "  state = CASE WHEN upload_state_rank(state) < 1 THEN 'uploading'"
    "   ELSE state END, updated_at = now()"
    " WHERE id = $1::uuid AND lease_owner = $2";

/* Renewed credentials: the session only, the checkpoint stays. */
static const char SQL_SET_CREDENTIAL[] =
    "UPDATE uploads SET session = $3::jsonb,"
    "  credential_expires_at = CASE WHEN $4::bigint > 0"
    "   THEN to_timestamp($4::bigint) END, updated_at = now()"
    " WHERE id = $1::uuid AND lease_owner = $2";

/* A new multipart upload: the parts of an earlier one are void. */
static const char SQL_SET_MULTIPART[] =
    "WITH d AS (DELETE FROM upload_parts WHERE upload_id = $1::uuid"
    "  AND EXISTS (SELECT 1 FROM uploads WHERE id = $1::uuid"
    "   AND lease_owner = $2))"
    " UPDATE uploads SET multipart_upload_id = $3, part_size = $4::bigint,"
    "  updated_at = now() WHERE id = $1::uuid AND lease_owner = $2";

/* The CRC-64, unsigned, is kept in a bigint as the same 64 bits. */
static const char SQL_PART_DONE[] =
    "INSERT INTO upload_parts (upload_id, part_number, size, etag, crc64)"
    " SELECT $1::uuid, $3::int, $4::bigint, $5, $6::bigint WHERE EXISTS"
    "  (SELECT 1 FROM uploads WHERE id = $1::uuid AND lease_owner = $2)"
    " ON CONFLICT (upload_id, part_number) DO UPDATE SET"
    "  size = EXCLUDED.size, etag = EXCLUDED.etag, crc64 = EXCLUDED.crc64,"
    "  done_at = now()";

static const char SQL_PARTS[] =
    "SELECT part_number, size, etag, crc64 FROM upload_parts"
    " WHERE upload_id = $1::uuid ORDER BY part_number";

static const char SQL_SET_STATE[] =
    "UPDATE uploads SET state = $3, updated_at = now()"
    " WHERE id = $1::uuid AND lease_owner = $2"
    "  AND upload_state_rank(state) < upload_state_rank($3)";

/*
 * The bytes are committed. The upload moves to 'uploaded' unless a
 * callback moved it further already; the media record is created at rank 1
 * or, when an early callback made it, linked and left where it is; then
 * the upload follows the media record forward (a callback that came
 * before the upload knew its file id could not link it).
 */
static const char SQL_COMMITTED[] =
    "WITH pm AS (SELECT m.state, m.error_code, m.error_message FROM media m,"
    "  uploads x WHERE x.id = $1::uuid AND m.provider = x.provider"
    "  AND m.file_id = $3),"
    " u AS (UPDATE uploads SET file_id = $3,"
    "  media_url = coalesce($4, media_url),"
    "  uploaded_at = coalesce(uploaded_at, now()),"
    "  bytes_done = coalesce(bytes_total, bytes_done),"
    "  state = (SELECT s FROM (VALUES (uploads.state), ('uploaded'),"
    "   ((SELECT state FROM pm))) v(s) WHERE s IS NOT NULL"
    "   ORDER BY upload_state_rank(s) DESC LIMIT 1),"
    "  finished_at = CASE WHEN (SELECT state FROM pm) IN ('ready',"
    "   'failed') THEN coalesce(finished_at, now()) ELSE finished_at END,"
    "  error_code = CASE WHEN (SELECT state FROM pm) = 'failed'"
    "   THEN (SELECT error_code FROM pm) END,"
    "  error_message = CASE WHEN (SELECT state FROM pm) = 'failed'"
    "   THEN (SELECT error_message FROM pm) END,"
    "  lease_owner = NULL, lease_expires_at = NULL, updated_at = now()"
    " WHERE id = $1::uuid AND $2::text IS NOT DISTINCT FROM $2::text"
    " RETURNING id, provider, file_id, media_url, state)"
    " INSERT INTO media AS m (provider, file_id, state, state_rank,"
    "  upload_id, media_url, uploaded_at)"
    " SELECT provider, file_id, 'uploaded', 1, id, media_url, now() FROM u"
    " ON CONFLICT (provider, file_id) DO UPDATE SET"
    "  upload_id = coalesce(m.upload_id, EXCLUDED.upload_id),"
    "  uploaded_at = coalesce(m.uploaded_at, EXCLUDED.uploaded_at),"
    "  media_url = coalesce(m.media_url, EXCLUDED.media_url),"
    "  updated_at = now()";

static const char SQL_FAIL[] =
    "UPDATE uploads SET state = 'failed', error_code = $3,"
    "  error_message = $4, finished_at = now(), lease_owner = NULL,"
    "  lease_expires_at = NULL, updated_at = now()"
    " WHERE id = $1::uuid AND lease_owner = $2"
    "  AND upload_state_rank(state) < 3";

static const char SQL_RETRY_LATER[] =
    "UPDATE uploads SET lease_owner = NULL,"
    "  lease_expires_at = now() + make_interval(secs => $3::float8 / 1000),"
    "  error_code = $4, error_message = $5, updated_at = now()"
    " WHERE id = $1::uuid AND lease_owner = $2";

/*
 * The platform accepted the URL (UploadMediaByURL): record its JobId and
 * park the job: state uploading (unless a callback moved it further
 * already), lease released; the claim never takes it again.
 */
static const char SQL_SET_URL_JOB[] =
    "UPDATE uploads SET url_job_id = $3,"
    "  state = CASE WHEN upload_state_rank(state) < 1 THEN 'uploading'"
    "   ELSE state END,"
    "  lease_owner = NULL, lease_expires_at = NULL, updated_at = now()"
    " WHERE id = $1::uuid AND lease_owner = $2";

/*
 * A URL pull's callbacks that were recorded before its JobId was (their
 * ingest could not find the upload): a failed UploadByURLComplete or
 * PullComplete fails the upload, as ingest would have. The upload is $1,
 * or when $1 is NULL whichever has JobId $3.
 */
static const char SQL_URL_JOB_EARLY_FAIL[] =
    "UPDATE uploads u SET state = 'failed',"
    "  error_code = f.error_code,"
    "  error_message = f.error_message,"
    "  finished_at = coalesce(u.finished_at, now()), updated_at = now()"
    " FROM (SELECT v.error_code, v.error_message FROM vod_events v"
    "  WHERE v.provider = $2 AND v.task_id = $3"
    "   AND ((v.event_type = 'UploadByURLComplete'"
    "     AND lower(v.status) = 'fail') OR (v.event_type = 'PullComplete'"
    "     AND v.error_code IS NOT NULL AND v.file_id IS NULL))"
    "  ORDER BY v.id LIMIT 1) f"
    " WHERE ($1::uuid IS NULL OR u.id = $1::uuid) AND u.provider = $2"
    "  AND u.url_job_id = $3"
    "  AND u.file_id IS NULL AND upload_state_rank(u.state) < 6";

/*
 * The same for a successful PullComplete naming no upload (the legacy
 * format has no SourceContext): it links its media record to the upload,
 * and the upload follows the record forward, as ingest would have done.
 */
static const char SQL_URL_JOB_EARLY_LINK[] =
    "WITH j AS (SELECT u.id FROM uploads u"
    "  WHERE ($1::uuid IS NULL OR u.id = $1::uuid) AND u.provider = $2"
    "   AND u.url_job_id = $3 LIMIT 1),"
    " f AS (SELECT v.file_id FROM vod_events v"
    "  WHERE v.provider = $2 AND v.task_id = $3"
    "   AND v.event_type = 'PullComplete' AND v.file_id IS NOT NULL"
    "  ORDER BY v.id LIMIT 1),"
    " m AS (UPDATE media m SET upload_id = j.id, updated_at = now()"
    "  FROM f, j WHERE m.provider = $2 AND m.file_id = f.file_id"
    "   AND (m.upload_id IS NULL OR m.upload_id = j.id)"
    "  RETURNING m.state, m.file_id, m.media_url, m.size, m.error_code,"
    "   m.error_message)"
    " UPDATE uploads u SET state = m.state,"
    "  file_id = coalesce(u.file_id, m.file_id),"
    "  media_url = coalesce(u.media_url, m.media_url),"
    "  bytes_total = coalesce(u.bytes_total, m.size),"
    "  bytes_done = CASE WHEN m.state = 'failed' THEN u.bytes_done"
    "   ELSE coalesce(u.bytes_total, m.size, u.bytes_done) END,"
    "  uploaded_at = CASE WHEN m.state = 'failed' THEN u.uploaded_at"
    "   ELSE coalesce(u.uploaded_at, now()) END,"
    "  error_code = CASE WHEN m.state = 'failed'"
    "   THEN coalesce(m.error_code, u.error_code) ELSE u.error_code END,"
    "  error_message = CASE WHEN m.state = 'failed'"
    "   THEN coalesce(m.error_message, u.error_message)"
    "   ELSE u.error_message END,"
    "  finished_at = CASE WHEN m.state IN ('ready', 'failed')"
    "   THEN coalesce(u.finished_at, now()) ELSE u.finished_at END,"
    "  updated_at = now()"
    " FROM m, j WHERE u.id = j.id"
    "  AND upload_state_rank(m.state) > upload_state_rank(u.state)";

/*
 * Parked URL pulls that waited too long for their callbacks, for the
 * reconciler: unchanged for $2 seconds and not looked up for as long.
 * reconciled_at is the claim; updated_at is left alone.
 */
static const char SQL_CLAIM_PARKED[] =
    "UPDATE uploads u SET reconciled_at = now()"
    " FROM (SELECT id FROM uploads"
    "  WHERE provider = $1 AND url_job_id IS NOT NULL"
    "   AND file_id IS NULL AND state = 'uploading'"
    "   AND finished_at IS NULL AND lease_owner IS NULL"
    "   AND updated_at < now() - make_interval(secs => $2::bigint)"
    "   AND (reconciled_at IS NULL"
    "    OR reconciled_at < now() - make_interval(secs => $2::bigint))"
    "  ORDER BY updated_at LIMIT $3::int"
    "  FOR UPDATE SKIP LOCKED) s"
    " WHERE u.id = s.id RETURNING u.id, u.url_job_id,"
    "  extract(epoch FROM now() - u.updated_at)::bigint, u.app_id";

static const char SQL_CANCELED[] =
    "UPDATE uploads SET state = 'canceled', finished_at = now(),"
    "  lease_owner = NULL, lease_expires_at = NULL, updated_at = now()"
    " WHERE id = $1::uuid AND lease_owner = $2"
    "  AND upload_state_rank(state) < 3";

/*
 * Run one statement. With out non-NULL, the first column of the first row
 * is copied there (caller frees; NULL for SQL NULL or no row). *nrows (may
 * be NULL) receives the rows returned or affected.
 */
static int
exec1(struct db_pool *pool, const char *sql, int nparams,
      const char *const *params, const char *what, char **out, int *nrows,
      struct err *e)
{
	PGresult *res = NULL;
	PGconn *conn;
	int rc = 0;

	if (out != NULL)
		*out = NULL;
	if ((conn = store__acquire(pool, 5000, e)) == NULL)
		return ERR_UNAVAIL;
	res = store__exec(conn, sql, nparams, params);
	if (!store__ok(res)) {
		/* ERR_INPUT: a value the caller gave is malformed (a bad
		 * uuid) or breaks a constraint */
		rc = store__err(conn, res, what, e);
		goto out;
	}
	if (nrows != NULL && (rc = store__count(res, nrows, what, e)) != 0)
		goto out;
	if (out != NULL && PQresultStatus(res) == PGRES_TUPLES_OK &&
	    PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		*out = xstrdup(PQgetvalue(res, 0, 0));
out:
	PQclear(res);
	store__release(pool, conn);
	return rc;
}

/* Lease-guarded write: ERR_CONFLICT when no row was changed. */
static int
exec_owned(struct db_pool *pool, const char *sql, int nparams,
	   const char *const *params, const char *what, struct err *e)
{
	int rc, n = 0;

	if ((rc = exec1(pool, sql, nparams, params, what, NULL, &n, e)) != 0)
		return rc;
	if (n == 0)
		return err_set(e, ERR_CONFLICT,
			       "could not %s: the job's lease was lost", what);
	return 0;
}

static void
fmt_i64(char *out, size_t n, int64_t v)
{
	snprintf(out, n, "%lld", (long long)v);
}

void
store_upload_cleanup(struct store_upload *u)
{
	if (u == NULL)
		return;
	free(u->provider);
	free(u->state);
	free(u->source_kind);
	free(u->source);
	free(u->media_name);
	free(u->media_type);
	free(u->media_kind);
	free(u->procedure);
	free(u->source_context);
	free(u->options);
	free(u->session);
	free(u->multipart_upload_id);
	free(u->file_id);
	free(u->source_version);
	memset(u, 0, sizeof(*u));
}

int
store_upload_create(struct db_pool *pool, const struct store_upload_new *u,
		    char **json, struct err *e)
{
	char total[24], lease[16];
	const char *params[13] = {
	    u->id,	   u->provider,	  u->source_kind,
	    u->source,	   u->media_name, u->media_type,
	    u->media_kind, u->procedure,  u->source_context,
	    u->options,	   total,	  u->lease_owner,
	    lease};

	fmt_i64(total, sizeof(total), u->bytes_total);
	if (u->bytes_total < 0)
		params[10] = NULL;
	snprintf(lease, sizeof(lease), "%d", u->lease_seconds);
	return exec1(pool, SQL_CREATE, 13, params, "create upload", json, NULL,
		     e);
}

int
store_upload_get_json(struct db_pool *pool, const char *id, char **json,
		      struct err *e)
{
	const char *params[1] = {id};
	int rc;

	rc = exec1(pool, SQL_GET, 1, params, "read upload", json, NULL, e);
	if (rc == ERR_INPUT || (rc == 0 && *json == NULL))
		return err_set(e, ERR_NOTFOUND, "no such upload");
	return rc;
}

int
store_upload_list_json(struct db_pool *pool, const char *state,
		       const char *after, int limit, char **json, struct err *e)
{
	char lim[16];
	const char *params[3] = {state, after, lim};

	snprintf(lim, sizeof(lim), "%d", limit);
	return exec1(pool, SQL_LIST, 3, params, "list uploads", json, NULL, e);
}

int
store_upload_cancel(struct db_pool *pool, const char *id, char **json,
		    struct err *e)
{
	const char *params[1] = {id};
	PGresult *res = NULL;
	PGconn *conn;
	int rc = 0;

	*json = NULL;
	if ((conn = store__acquire(pool, 5000, e)) == NULL)
		return ERR_UNAVAIL;
	res = store__exec(conn, SQL_CANCEL, 1, params);
	if (!store__ok(res)) {
		rc = store__err(conn, res, "cancel upload", e);
		if (rc == ERR_INPUT) /* not a uuid */
			rc = err_set(e, ERR_NOTFOUND, "no such upload");
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
		rc = err_set(e, ERR_NOTFOUND, "no such upload");
		goto out;
	}
	if (PQgetisnull(res, 0, 0)) {
		rc = err_set(e, ERR_CONFLICT,
			     "the upload can no longer be canceled: its bytes "
			     "are committed, the platform is pulling its URL, "
			     "or it has ended");
		goto out;
	}
	*json = xstrdup(PQgetvalue(res, 0, 0));
out:
	PQclear(res);
	store__release(pool, conn);
	return rc;
}

/* The columns of SQL_CLAIM (CLAIM_COLS) into u. */
static int
read_claimed(const PGresult *res, struct store_upload *u, struct err *e)
{
	int64_t attempts;
	int rc;

	snprintf(u->id, sizeof(u->id), "%s", PQgetvalue(res, 0, 0));
	u->provider = store__dup_or_null(res, 0, 1);
	u->state = store__dup_or_null(res, 0, 2);
	u->source_kind = store__dup_or_null(res, 0, 3);
	u->source = store__dup_or_null(res, 0, 4);
	u->media_name = store__dup_or_null(res, 0, 5);
	u->media_type = store__dup_or_null(res, 0, 6);
	u->media_kind = store__dup_or_null(res, 0, 7);
	u->procedure = store__dup_or_null(res, 0, 8);
	u->source_context = store__dup_or_null(res, 0, 9);
	u->options = store__dup_or_null(res, 0, 10);
	u->session = store__dup_or_null(res, 0, 13);
	u->multipart_upload_id = store__dup_or_null(res, 0, 15);
	u->file_id = store__dup_or_null(res, 0, 16);
	u->cancel_requested = strcmp(PQgetvalue(res, 0, 18), "t") == 0;
	u->source_version = store__dup_or_null(res, 0, 19);
	if ((rc = store__int(res, 0, 11, -1, INT64_MAX, &u->bytes_total,
			     "uploads.bytes_total", e)) != 0 ||
	    (rc = store__int(res, 0, 12, 0, INT64_MAX, &u->part_size,
			     "uploads.part_size", e)) != 0 ||
	    (rc = store__int(res, 0, 14, INT64_MIN, INT64_MAX,
			     &u->credential_expires_at,
			     "uploads.credential_expires_at", e)) != 0 ||
	    (rc = store__int(res, 0, 17, 0, INT32_MAX, &attempts,
			     "uploads.attempts", e)) != 0)
		return rc;
	u->attempts = (int)attempts;
	return 0;
}

int
store_upload_claim(struct db_pool *pool, const char *owner, int lease_seconds,
		   const char *id, struct store_upload *out, bool *found,
		   struct err *e)
{
	char lease[16];
	const char *params[3] = {owner, lease, id};
	PGresult *res = NULL;
	PGconn *conn;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	*found = false;
	snprintf(lease, sizeof(lease), "%d", lease_seconds);
	if ((conn = store__acquire(pool, 5000, e)) == NULL)
		return ERR_UNAVAIL;
	res = store__exec(conn, SQL_CLAIM, 3, params);
	if (!store__ok(res)) {
		rc = store__err(conn, res, "claim upload", e);
		goto out;
	}
	if (PQntuples(res) == 0)
		goto out;
	if ((rc = read_claimed(res, out, e)) != 0) {
		store_upload_cleanup(out);
		goto out;
	}
	*found = true;
out:
	PQclear(res);
	store__release(pool, conn);
	return rc;
}

int
store_upload_heartbeat(struct db_pool *pool, const char *id, const char *owner,
		       int lease_seconds, int64_t bytes_done, int64_t rate_bps,
		       int parts_in_flight, bool *cancel, struct err *e)
{
	char lease[16], done[24], rate[24], parts[16];
	const char *params[6] = {id, owner, lease, done, rate, parts};
	char *flag = NULL;
	int rc, n = 0;

	*cancel = false;
	snprintf(lease, sizeof(lease), "%d", lease_seconds);
	fmt_i64(done, sizeof(done), bytes_done);
	fmt_i64(rate, sizeof(rate), rate_bps);
	snprintf(parts, sizeof(parts), "%d", parts_in_flight);
	if (parts_in_flight <= 0) {
		params[4] = NULL;
		params[5] = NULL;
	}
	rc = exec1(pool, SQL_HEARTBEAT, 6, params, "renew upload lease", &flag,
		   &n, e);
	if (rc == 0 && n == 0)
		rc = err_set(e, ERR_CONFLICT,
			     "could not renew upload lease: it was lost");
	if (flag != NULL)
		*cancel = strcmp(flag, "t") == 0;
	free(flag);
	return rc;
}

int
store_upload_set_session(struct db_pool *pool, const char *id,
			 const char *owner, const char *session,
			 int64_t expires_at, int64_t bytes_total,
			 const char *file_id, const char *source_version,
			 struct err *e)
{
	char exp[24], total[24];
	const char *params[7] = {id,	owner,	 session,	exp,
				 total, file_id, source_version};

	fmt_i64(exp, sizeof(exp), expires_at);
	fmt_i64(total, sizeof(total), bytes_total);
	if (bytes_total < 0)
		params[4] = NULL;
	return exec_owned(pool, SQL_SET_SESSION, 7, params,
			  "record upload session", e);
}

int
store_upload_set_credential(struct db_pool *pool, const char *id,
			    const char *owner, const char *session,
			    int64_t expires_at, struct err *e)
{
	char exp[24];
	const char *params[4] = {id, owner, session, exp};

	fmt_i64(exp, sizeof(exp), expires_at);
	return exec_owned(pool, SQL_SET_CREDENTIAL, 4, params,
			  "record renewed upload credential", e);
}

int
store_upload_set_multipart(struct db_pool *pool, const char *id,
			   const char *owner, const char *multipart_id,
			   int64_t part_size, struct err *e)
{
	char ps[24];
	const char *params[4] = {id, owner, multipart_id, ps};

	fmt_i64(ps, sizeof(ps), part_size);
	return exec_owned(pool, SQL_SET_MULTIPART, 4, params,
			  "record multipart upload", e);
}

int
store_upload_part_done(struct db_pool *pool, const char *id, const char *owner,
		       int number, int64_t size, const char *etag,
		       const uint64_t *crc64, struct err *e)
{
	char num[16], sz[24], crc[24];
	const char *params[6] = {id, owner, num, sz, etag, NULL};

	snprintf(num, sizeof(num), "%d", number);
	fmt_i64(sz, sizeof(sz), size);
	if (crc64 != NULL) {
		fmt_i64(crc, sizeof(crc), (int64_t)*crc64);
		params[5] = crc;
	}
	return exec_owned(pool, SQL_PART_DONE, 6, params,
			  "checkpoint upload part", e);
}

/* Row i of SQL_PARTS into part (its etag allocated even on failure). */
static int
read_part(const PGresult *res, int i, struct store_upload_part *part,
	  struct err *e)
{
	int64_t number, crc64;
	int rc;

	part->etag = xstrdup(PQgetvalue(res, i, 2));
	if ((rc = store__int(res, i, 0, 1, 10000, &number,
			     "upload_parts.part_number", e)) != 0 ||
	    (rc = store__int(res, i, 1, 0, INT64_MAX, &part->size,
			     "upload_parts.size", e)) != 0)
		return rc;
	part->number = (int)number;
	if (PQgetisnull(res, i, 3))
		return 0;
	if ((rc = store__int(res, i, 3, INT64_MIN, INT64_MAX, &crc64,
			     "upload_parts.crc64", e)) != 0)
		return rc;
	part->has_crc64 = true;
	part->crc64 = (uint64_t)crc64;
	return 0;
}

static void
parts_free(struct store_upload_part *parts, int n)
{
	for (int i = 0; parts != NULL && i < n; i++)
		free(parts[i].etag);
	free(parts);
}

int
store_upload_parts(struct db_pool *pool, const char *id,
		   struct store_upload_part **parts, int *n, struct err *e)
{
	const char *params[1] = {id};
	PGresult *res = NULL;
	PGconn *conn;
	int rc = 0;

	*parts = NULL;
	*n = 0;
	if ((conn = store__acquire(pool, 5000, e)) == NULL)
		return ERR_UNAVAIL;
	res = store__exec(conn, SQL_PARTS, 1, params);
	if (!store__ok(res)) {
		rc = store__err(conn, res, "read upload parts", e);
		goto out;
	}
	if (PQntuples(res) > 0)
		*parts = xcalloc((size_t)PQntuples(res), sizeof(**parts));
	for (int i = 0; i < PQntuples(res) && rc == 0; i++)
		rc = read_part(res, i, &(*parts)[i], e);
	*n = PQntuples(res);
	if (rc != 0) {
		parts_free(*parts, *n);
		*parts = NULL;
		*n = 0;
	}
out:
	PQclear(res);
	store__release(pool, conn);
	return rc;
}

int
store_upload_set_state(struct db_pool *pool, const char *id, const char *owner,
		       const char *state, struct err *e)
{
	const char *params[3] = {id, owner, state};

	/* No row changed is fine: the job may be further along already. */
	return exec1(pool, SQL_SET_STATE, 3, params, "set upload state", NULL,
		     NULL, e);
}

int
store_upload_committed(struct db_pool *pool, const char *id, const char *owner,
		       const char *file_id, const char *media_url,
		       struct err *e)
{
	const char *params[4] = {id, owner, file_id, media_url};

	return exec1(pool, SQL_COMMITTED, 4, params, "record committed upload",
		     NULL, NULL, e);
}

int
store_upload_fail(struct db_pool *pool, const char *id, const char *owner,
		  const char *code, const char *message, struct err *e)
{
	const char *params[4] = {id, owner, code, message};

	return exec1(pool, SQL_FAIL, 4, params, "record failed upload", NULL,
		     NULL, e);
}

int
store_upload_retry_later(struct db_pool *pool, const char *id,
			 const char *owner, int64_t delay_ms, const char *code,
			 const char *message, struct err *e)
{
	char d[24];
	const char *params[5] = {id, owner, d, code, message};

	fmt_i64(d, sizeof(d), delay_ms);
	return exec1(pool, SQL_RETRY_LATER, 5, params, "release upload", NULL,
		     NULL, e);
}

int
store_upload_canceled(struct db_pool *pool, const char *id, const char *owner,
		      struct err *e)
{
	const char *params[2] = {id, owner};

	return exec1(pool, SQL_CANCELED, 2, params, "record canceled upload",
		     NULL, NULL, e);
}

int
store_upload_settle_url_job(struct db_pool *pool, const char *id,
			    const char *provider, const char *url_job_id,
			    struct err *e)
{
	const char *params[3] = {id, provider, url_job_id};
	int rc;

	if ((rc = exec1(pool, SQL_URL_JOB_EARLY_FAIL, 3, params,
			"apply an early URL pull failure", NULL, NULL, e)) != 0)
		return rc;
	return exec1(pool, SQL_URL_JOB_EARLY_LINK, 3, params,
		     "apply an early URL pull completion", NULL, NULL, e);
}

int
store_upload_set_url_job(struct db_pool *pool, const char *id,
			 const char *owner, const char *provider,
			 const char *url_job_id, struct err *e)
{
	const char *params[3] = {id, owner, url_job_id};
	struct err ce;
	int rc;

	if ((rc = exec_owned(pool, SQL_SET_URL_JOB, 3, params,
			     "record the URL pull job", e)) != 0)
		return rc;
	/* Parked whatever this says: a failure here only means that a
	 * callback which came first is not applied yet (the reconciler
	 * asks the platform later). */
	err_clear(&ce);
	if (store_upload_settle_url_job(pool, id, provider, url_job_id, &ce) !=
	    0)
		log_msg(LOG_WARN, "store", "upload %s: %s", id, ce.msg);
	return 0;
}

int
store_upload_claim_parked(struct db_pool *pool, const char *provider,
			  int64_t older_than_s, int max,
			  struct store_parked_pull **out, size_t *n,
			  struct err *e)
{
	PGresult *res =
	    store__claim(pool, SQL_CLAIM_PARKED, provider, older_than_s, max,
			 "claim parked URL pulls", e);
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (res == NULL)
		return e->code;
	*n = (size_t)PQntuples(res);
	*out = xcalloc(*n ? *n : 1, sizeof(**out));
	for (int r = 0; r < PQntuples(res); r++) {
		snprintf((*out)[r].id, sizeof((*out)[r].id), "%s",
			 PQgetvalue(res, r, 0));
		(*out)[r].url_job_id = xstrdup(PQgetvalue(res, r, 1));
		(*out)[r].app_id = store__dup_or_null(res, r, 3);
		if ((rc = store__int(res, r, 2, INT64_MIN, INT64_MAX,
				     &(*out)[r].parked_s,
				     "the time an upload was parked", e)) != 0)
			break;
	}
	PQclear(res);
	if (rc != 0) {
		store_parked_pulls_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

void
store_parked_pulls_free(struct store_parked_pull *p, size_t n)
{
	for (size_t i = 0; p != NULL && i < n; i++) {
		free(p[i].url_job_id);
		free(p[i].app_id);
	}
	free(p);
}

/*
 * events.c: recording event notifications and the media lifecycle.
 *
 * A batch of events is written with a single statement whose parameters
 * are arrays (unnest), so that a group of callbacks costs one round trip
 * and one commit: group commit is where callback throughput comes from.
 *
 * Interface: store_events_record, store_events_send, store_events_wait.
 */
#include "store/store_int.h"

#include <openssl/crypto.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * The statement skips the events already stored (SQL_SKIP_STORED), or
 * assumes there are none and fails (unique_violation) if one is. Skipping
 * costs a unique-index descent and a speculative insertion per event, and
 * a push notification is nearly always new: the callback path tries the
 * form that assumes so first (store_events_send).
 *
 * The parameter arrays are expanded by unnest in select lists, where they
 * are read row by row (ProjectSet), not in FROM, where each unnest would
 * first copy its whole array into a tuplestore of its own, one per
 * parameter and batch. Arrays of one length give the same rows either way.
 *
 * After the insert (ins): the media deltas (d), linked to their upload by
 * upload id or else by file id (a lateral index lookup each, whatever the
 * table statistics: a hash join built two hash tables per batch); the media
 * upsert (up); the upload follows its media forward, never back (ul), and holds
 * every byte once the media exists, even if the worker has not said so (or
 * never saw them: a URL the platform pulled itself); a URL the platform could
 * not pull has no VideoId, only the JobId, in its UploadByURLComplete or in the
 * reconciler's GetURLUploadInfos answer (a Reconciled event with an error
 * and no media), and fails its upload (uj); the same for a Tencent
 * PullComplete with an error and no FileId (its TaskId is the url_job_id).
 */
/* clang-format off */
#define SQL_INSERT \
    "WITH ins AS (" \
    " INSERT INTO vod_events (provider, event_type, dedup_key, file_id," \
    "  task_id, status, error_code, error_message, upload_id, received_via," \
    "  event_time, raw)" \
    " SELECT unnest($1::text[]), unnest($2::text[]), unnest($3::text[])," \
    "  unnest($4::text[]), unnest($5::text[]), unnest($6::text[])," \
    "  unnest($7::text[]), unnest($8::text[]), unnest($9::uuid[])," \
    "  unnest($10::text[]), unnest($11::timestamptz[]), unnest($12::text[])"

#define SQL_SKIP_STORED " ON CONFLICT (provider, dedup_key) DO NOTHING"

#define SQL_RETURNING " RETURNING provider, dedup_key"
/* what uj reads of the events */
#define SQL_RETURNING_MORE ", event_type, file_id, task_id, status," \
    " error_code, error_message"

#define SQL_DELTAS \
    " FROM (SELECT unnest($13::text[]) AS provider," \
    "  unnest($14::text[]) AS file_id, unnest($15::smallint[]) AS rank," \
    "  unnest($16::text[]) AS state, unnest($17::boolean[]) AS maybe_ready," \
    "  unnest($18::timestamptz[]) AS confirmed_at," \
    "  unnest($19::timestamptz[]) AS processing_at," \
    "  unnest($20::timestamptz[]) AS ready_at," \
    "  unnest($21::timestamptz[]) AS failed_at," \
    "  unnest($22::uuid[]) AS upload_id, unnest($23::text[]) AS media_url," \
    "  unnest($24::bigint[]) AS size," \
    "  unnest($25::text[]) AS procedure_task_id," \
    "  unnest($26::text[]) AS source_context," \
    "  unnest($27::text[]) AS error_code," \
    "  unnest($28::text[]) AS error_message," \
    "  unnest($29::timestamptz[]) AS deleted_at) d"

#define SQL_BY_FILE_ID \
    " LEFT JOIN LATERAL (SELECT id, procedure, options FROM uploads" \
    "  WHERE provider = d.provider AND file_id = d.file_id LIMIT 1) u2" \
    "  ON true),"

/* A Tencent PullComplete of the batch names its upload by TaskId only when
 * it carries no SourceContext (the legacy format): the upload whose
 * url_job_id it is. */
#define SQL_BY_URL_JOB \
    " LEFT JOIN LATERAL (SELECT u.id, u.procedure, u.options FROM ins i" \
    "  JOIN uploads u ON u.provider = i.provider AND u.url_job_id = i.task_id" \
    "  WHERE i.event_type = 'PullComplete' AND i.provider = d.provider" \
    "   AND i.file_id = d.file_id AND d.upload_id IS NULL LIMIT 1) u3" \
    "  ON true"

/* The media deltas, linked by upload id, by a pull's TaskId, or else by
 * file id. */
#define SQL_LINK_BY_ID \
    " d AS (" \
    " SELECT d.*, coalesce(u1.id, u3.id, u2.id) AS link," \
    "  (u1.id IS NOT NULL OR u3.id IS NOT NULL OR u2.id IS NOT NULL)" \
    "   AND coalesce(u1.procedure, u3.procedure, u2.procedure," \
    "    u1.options->>'workflow_id', u3.options->>'workflow_id'," \
    "    u2.options->>'workflow_id', '') = ''" \
    "   AS no_processing" \
    SQL_DELTAS \
    " LEFT JOIN LATERAL (SELECT id, procedure, options FROM uploads" \
    "  WHERE id = d.upload_id LIMIT 1) u1 ON true" \
    SQL_BY_URL_JOB \
    SQL_BY_FILE_ID

/* The same when no event names an upload id: by file id alone. */
#define SQL_LINK \
    " d AS (" \
    " SELECT d.*, u2.id AS link," \
    "  u2.id IS NOT NULL" \
    "   AND coalesce(u2.procedure, u2.options->>'workflow_id', '') = ''" \
    "   AS no_processing" \
    SQL_DELTAS \
    SQL_BY_FILE_ID

#define SQL_MEDIA \
    " up AS (" \
    " INSERT INTO media AS m (provider, file_id, state, state_rank," \
    "  upload_id, media_url, size, procedure_task_id, source_context," \
    "  error_code, error_message, confirmed_at, processing_at, ready_at," \
    "  failed_at, deleted_at)" \
    " SELECT provider, file_id," \
    "  CASE WHEN maybe_ready AND no_processing AND rank = 2" \
    "   THEN 'ready' ELSE state END," \
    "  CASE WHEN maybe_ready AND no_processing AND rank = 2" \
    "   THEN 4 ELSE rank END," \
    "  link, media_url, size, procedure_task_id, source_context," \
    "  error_code, error_message, confirmed_at, processing_at," \
    "  CASE WHEN maybe_ready AND no_processing" \
    "   THEN coalesce(ready_at, confirmed_at) ELSE ready_at END," \
    "  failed_at, deleted_at" \
    " FROM d" \
    " ON CONFLICT (provider, file_id) DO UPDATE SET" \
    "  state = CASE WHEN EXCLUDED.state_rank > m.state_rank" \
    "   THEN EXCLUDED.state ELSE m.state END," \
    "  state_rank = greatest(m.state_rank, EXCLUDED.state_rank)," \
    "  upload_id = coalesce(m.upload_id, EXCLUDED.upload_id)," \
    "  media_url = coalesce(m.media_url, EXCLUDED.media_url)," \
    "  size = coalesce(m.size, EXCLUDED.size)," \
    "  procedure_task_id = coalesce(m.procedure_task_id," \
    "   EXCLUDED.procedure_task_id)," \
    "  source_context = coalesce(m.source_context, EXCLUDED.source_context)," \
    "  error_code = coalesce(m.error_code, EXCLUDED.error_code)," \
    "  error_message = coalesce(m.error_message, EXCLUDED.error_message)," \
    "  confirmed_at = least(m.confirmed_at, EXCLUDED.confirmed_at)," \
    "  processing_at = least(m.processing_at, EXCLUDED.processing_at)," \
    "  ready_at = least(m.ready_at, EXCLUDED.ready_at)," \
    "  failed_at = least(m.failed_at, EXCLUDED.failed_at)," \
    "  deleted_at = least(m.deleted_at, EXCLUDED.deleted_at)," \
    "  updated_at = now()" \
    " RETURNING m.upload_id, m.state, m.file_id, m.media_url, m.size," \
    "  m.error_code, m.error_message)," \
    " ul AS (" \
    " UPDATE uploads u SET state = up.state," \
    "  file_id = coalesce(u.file_id, up.file_id)," \
    "  media_url = coalesce(u.media_url, up.media_url)," \
    "  bytes_total = coalesce(u.bytes_total, up.size)," \
    "  bytes_done = CASE WHEN up.state = 'failed' THEN u.bytes_done" \
    "   ELSE coalesce(u.bytes_total, up.size, u.bytes_done) END," \
    "  uploaded_at = CASE WHEN up.state = 'failed' THEN u.uploaded_at" \
    "   ELSE coalesce(u.uploaded_at, now()) END," \
    "  error_code = CASE WHEN up.state = 'failed'" \
    "   THEN coalesce(up.error_code, u.error_code) ELSE u.error_code END," \
    "  error_message = CASE WHEN up.state = 'failed'" \
    "   THEN coalesce(up.error_message, u.error_message)" \
    "   ELSE u.error_message END," \
    "  finished_at = CASE WHEN up.state IN ('ready', 'failed')" \
    "   THEN coalesce(u.finished_at, now()) ELSE u.finished_at END," \
    "  updated_at = now()" \
    " FROM up WHERE u.id = up.upload_id" \
    "  AND upload_state_rank(up.state) > upload_state_rank(u.state))"

/* A URL the platform could not pull fails its upload (Alibaba
 * UploadByURLComplete, Tencent PullComplete, or the reconciler's answer). */
#define SQL_URL_JOBS \
    ", uj AS (" \
    " UPDATE uploads u SET state = 'failed'," \
    "  error_code = i.error_code," \
    "  error_message = i.error_message," \
    "  finished_at = coalesce(u.finished_at, now()), updated_at = now()" \
    " FROM ins i WHERE ((i.event_type = 'UploadByURLComplete'" \
    "   AND lower(i.status) = 'fail') OR (i.event_type IN ('Reconciled'," \
    "   'PullComplete') AND i.error_code IS NOT NULL AND i.file_id IS NULL))" \
    "  AND u.provider = i.provider" \
    "  AND u.url_job_id = i.task_id AND u.file_id IS NULL" \
    "  AND upload_state_rank(u.state) < 6)"

#define SQL_END " SELECT provider, dedup_key FROM ins"

/* The statement whole, for a batch that names uploads (see below) ... */
#define SQL_WHOLE(skip) \
    SQL_INSERT skip SQL_RETURNING SQL_RETURNING_MORE ")," SQL_LINK_BY_ID \
    SQL_MEDIA SQL_URL_JOBS SQL_END
/* ... and for one that does not. */
#define SQL_LEAN(skip) \
    SQL_INSERT skip SQL_RETURNING ")," SQL_LINK SQL_MEDIA SQL_END
/* clang-format on */

/*
 * The statement's forms, by index (enum variant): it skips the events
 * stored already or assumes there are none, and has its parts for events
 * that name an upload or not. Only an event with an upload id is linked by
 * it (u1), and only a URL job's completion or a reconciled error can fail
 * a URL job (uj); a batch with neither runs the lean form, which leaves
 * those parts out, since their executor nodes are set up for every
 * execution whether or not a row reaches them (bench/record.sh measures
 * the difference). Every form takes the same parameters. All are prepared
 * together on a connection (prepare_all), so that a batch queued behind
 * another on it finds its own.
 */
enum variant {
	V_SKIP = 0,
	V_NEW = 1,  /* assume none is stored */
	V_LEAN = 2, /* no event names an upload */
	NVARIANTS = 4
};

static const char *const variant_sql[NVARIANTS] = {
    [V_SKIP] = SQL_WHOLE(SQL_SKIP_STORED),
    [V_NEW] = SQL_WHOLE(""),
    [V_SKIP | V_LEAN] = SQL_LEAN(SQL_SKIP_STORED),
    [V_NEW | V_LEAN] = SQL_LEAN(""),
};

static const char *const variant_name[NVARIANTS] = {
    [V_SKIP] = "vh_record_events",
    [V_NEW] = "vh_record_new_events",
    [V_SKIP | V_LEAN] = "vh_record_events_lean",
    [V_NEW | V_LEAN] = "vh_record_new_events_lean",
};

#define NPARAMS 29

/*
 * The parameters are one-dimensional arrays sent in PostgreSQL's binary
 * format (array_recv): the server copies each element, where an array
 * literal would be scanned and each element parsed by its type's input
 * function, a large share of the statement's cost. Layout, all integers
 * big-endian: ndim, has-nulls flag, element type OID, then per dimension
 * its length and lower bound; then per element its byte length (-1 for
 * NULL) and bytes.
 */
struct arr {
	struct buf b; /* ARR_HEAD bytes reserved, then the elements */
	uint32_t oid; /* the element type */
	uint32_t n;
	bool nulls;
};

#define ARR_HEAD 20
/* Element type OIDs (pg_type.dat); they never change. */
#define OID_BOOL	16
#define OID_INT8	20
#define OID_INT2	21
#define OID_TEXT	25
#define OID_TIMESTAMPTZ 1184
#define OID_UUID	2950
/* Unix time of PostgreSQL's epoch, 2000-01-01 00:00:00 UTC */
#define PG_EPOCH_UNIX INT64_C(946684800)

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static int
arr_init(struct arr *a, uint32_t oid, size_t max)
{
	static const unsigned char head[ARR_HEAD];

	buf_init(&a->b, max);
	a->oid = oid;
	a->n = 0;
	a->nulls = false;
	return buf_append(&a->b, head, sizeof(head));
}

/* Append one element of len bytes, or a NULL (p NULL). */
static int
arr_elem(struct arr *a, const void *p, size_t len)
{
	unsigned char l[4];
	int rc;

	if (p != NULL && len > INT32_MAX)
		return ERR_LIMIT;
	put32(l, p == NULL ? UINT32_MAX : (uint32_t)len);
	a->n++;
	a->nulls = a->nulls || p == NULL;
	if ((rc = buf_append(&a->b, l, sizeof(l))) != 0 || p == NULL)
		return rc;
	return buf_append(&a->b, p, len);
}

static int
arr_add(struct arr *a, const char *s)
{
	return arr_elem(a, s, s != NULL ? strlen(s) : 0);
}

static int
arr_add_int(struct arr *a, int64_t v, bool present)
{
	unsigned char x[8];
	size_t len = a->oid == OID_INT2 ? 2 : 8;

	for (size_t i = 0; i < len; i++)
		x[i] = (unsigned char)((uint64_t)v >> (8 * (len - 1 - i)));
	return arr_elem(a, present ? x : NULL, len);
}

/* Unix seconds as timestamptz (microseconds since 2000); NULL when <= 0. */
static int
arr_add_time(struct arr *a, int64_t t)
{
	if (t <= 0)
		return arr_add_int(a, 0, false);
	if (t > INT64_MAX / 1000000) /* PostgreSQL's own limit is lower */
		return ERR_INPUT;
	return arr_add_int(a, (t - PG_EPOCH_UNIX) * 1000000, true);
}

static int
arr_add_bool(struct arr *a, bool v)
{
	unsigned char x = v ? 1 : 0;

	return arr_elem(a, &x, 1);
}

/* A canonical UUID ("8-4-4-4-12" hex digits), or NULL. */
static int
arr_add_uuid(struct arr *a, const char *s)
{
	unsigned char u[16];
	size_t len = 0;

	if (s == NULL)
		return arr_elem(a, NULL, 0);
	if (strlen(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' ||
	    s[23] != '-' ||
	    OPENSSL_hexstr2buf_ex(u, sizeof(u), &len, s, '-') != 1 ||
	    len != sizeof(u))
		return ERR_INPUT;
	return arr_elem(a, u, sizeof(u));
}

/* The array's bytes (header filled in) and their number. */
static const char *
arr_finish(struct arr *a, int *len)
{
	unsigned char *h = (unsigned char *)a->b.ptr;

	if (a->b.len > INT32_MAX)
		return NULL;
	put32(h, a->n > 0 ? 1 : 0); /* no dimension: the empty array */
	put32(h + 4, a->nulls ? 1 : 0);
	put32(h + 8, a->oid);
	put32(h + 12, a->n);
	put32(h + 16, 1);
	*len = a->n > 0 ? (int)a->b.len : 12;
	return a->b.ptr;
}

/* Element types of the statement's parameters, $1 to $29. */
static const uint32_t param_oids[NPARAMS] = {
    OID_TEXT, OID_TEXT, OID_TEXT, OID_TEXT, OID_TEXT, OID_TEXT, OID_TEXT,
    OID_TEXT, OID_UUID, OID_TEXT, OID_TIMESTAMPTZ, OID_TEXT,
    /* the deltas */
    OID_TEXT, OID_TEXT, OID_INT2, OID_TEXT, OID_BOOL, OID_TIMESTAMPTZ,
    OID_TIMESTAMPTZ, OID_TIMESTAMPTZ, OID_TIMESTAMPTZ, OID_UUID, OID_TEXT,
    OID_INT8, OID_TEXT, OID_TEXT, OID_TEXT, OID_TEXT, OID_TIMESTAMPTZ};

/* The statement's parameters, in binary; they point into a[]. */
struct params {
	struct arr a[NPARAMS];
	const char *values[NPARAMS];
	int lengths[NPARAMS];
	int formats[NPARAMS];
	bool lean; /* the batch can run the lean form (is_lean) */
};

/*
 * Whether a batch can run the statement's lean form: no delta names an
 * upload id (u1 would find nothing) and no event is of a type that can
 * fail a URL job (uj would change nothing).
 */
static bool
is_lean(const struct store_event *events, size_t n,
	const struct store_media_delta *deltas, size_t ndeltas)
{
	for (size_t i = 0; i < ndeltas; i++)
		if (deltas[i].upload_id != NULL)
			return false;
	for (size_t i = 0; i < n; i++)
		if (events[i].event_type == NULL ||
		    strcmp(events[i].event_type, "UploadByURLComplete") == 0 ||
		    strcmp(events[i].event_type, "PullComplete") == 0 ||
		    strcmp(events[i].event_type, "Reconciled") == 0)
			return false;
	return true;
}

static int
add_event(struct arr *a, const struct store_event *ev)
{
	int rc;

	if ((rc = arr_add(&a[0], ev->provider)) != 0 ||
	    (rc = arr_add(&a[1], ev->event_type)) != 0 ||
	    (rc = arr_add(&a[2], ev->dedup_key)) != 0 ||
	    (rc = arr_add(&a[3], ev->file_id)) != 0 ||
	    (rc = arr_add(&a[4], ev->task_id)) != 0 ||
	    (rc = arr_add(&a[5], ev->status)) != 0 ||
	    (rc = arr_add(&a[6], ev->error_code)) != 0 ||
	    (rc = arr_add(&a[7], ev->error_message)) != 0 ||
	    (rc = arr_add_uuid(&a[8], ev->upload_id)) != 0 ||
	    (rc = arr_add(&a[9], ev->via)) != 0 ||
	    (rc = arr_add_time(&a[10], ev->event_time)) != 0)
		return rc;
	return arr_add(&a[11], ev->raw);
}

static int
add_delta(struct arr *a, const struct store_media_delta *d)
{
	int rc;

	if ((rc = arr_add(&a[12], d->provider)) != 0 ||
	    (rc = arr_add(&a[13], d->file_id)) != 0 ||
	    (rc = arr_add_int(&a[14], d->rank, true)) != 0 ||
	    (rc = arr_add(&a[15], d->state)) != 0 ||
	    (rc = arr_add_bool(&a[16], d->maybe_ready)) != 0 ||
	    (rc = arr_add_time(&a[17], d->confirmed_at)) != 0 ||
	    (rc = arr_add_time(&a[18], d->processing_at)) != 0 ||
	    (rc = arr_add_time(&a[19], d->ready_at)) != 0 ||
	    (rc = arr_add_time(&a[20], d->failed_at)) != 0 ||
	    (rc = arr_add_uuid(&a[21], d->upload_id)) != 0 ||
	    (rc = arr_add(&a[22], d->media_url)) != 0 ||
	    (rc = arr_add_int(&a[23], d->size, d->size >= 0)) != 0 ||
	    (rc = arr_add(&a[24], d->procedure_task_id)) != 0 ||
	    (rc = arr_add(&a[25], d->source_context)) != 0 ||
	    (rc = arr_add(&a[26], d->error_code)) != 0 ||
	    (rc = arr_add(&a[27], d->error_message)) != 0)
		return rc;
	return arr_add_time(&a[28], d->deleted_at);
}

static int
params_fail(int rc, struct err *e)
{
	if (rc == ERR_INPUT)
		return err_set(e, ERR_INPUT,
			       "an upload id is not a UUID, or a time is out "
			       "of range");
	return err_set(e, ERR_LIMIT, "event batch is too large");
}

/* Fill p from the events and deltas (params_free p whatever happens). */
static int
build_params(const struct store_event *events, size_t n,
	     const struct store_media_delta *deltas, size_t ndeltas,
	     struct params *p, struct err *e)
{
	int rc = 0;

	memset(p, 0, sizeof(*p));
	p->lean = is_lean(events, n, deltas, ndeltas);
	for (int i = 0; i < NPARAMS && rc == 0; i++)
		rc = arr_init(&p->a[i], param_oids[i], (size_t)1 << 30);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = add_event(p->a, &events[i]);
	for (size_t i = 0; i < ndeltas && rc == 0; i++)
		rc = add_delta(p->a, &deltas[i]);
	if (rc != 0)
		return params_fail(rc, e);
	for (int i = 0; i < NPARAMS; i++) {
		p->formats[i] = 1;
		if ((p->values[i] = arr_finish(&p->a[i], &p->lengths[i])) ==
		    NULL)
			return params_fail(ERR_LIMIT, e);
	}
	return 0;
}

/*
 * Read a pipeline's results up to and including its Sync. The first failed
 * result, if any, is kept in *failed (caller clears). False when the
 * connection broke before the Sync came back.
 */
static bool
drain_to_sync(PGconn *conn, PGresult **failed)
{
	int nulls = 0;

	for (;;) {
		PGresult *r = store__get(conn);

		if (r == NULL) {
			/* one NULL ends each query's results; two in a row
			 * mean nothing more will come */
			if (PQstatus(conn) != CONNECTION_OK || ++nulls > 1)
				return false;
			continue;
		}
		nulls = 0;
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			return true;
		}
		if (*failed == NULL && !store__ok(r))
			*failed = r;
		else
			PQclear(r);
	}
}

/*
 * Mark the events that were inserted now; the rest were duplicates. The
 * result has a row per inserted event, and events of one key are inserted
 * once: n rows mean every event is new (the common case, and the only one
 * of the forms that assume every event new), without matching rows to
 * events.
 */
static void
mark_new(const PGresult *res, const struct store_event *events, size_t n,
	 bool *is_new)
{
	if ((size_t)PQntuples(res) == n) {
		for (size_t i = 0; i < n; i++)
			is_new[i] = true;
		return;
	}
	for (int r = 0; r < PQntuples(res); r++) {
		const char *prov = PQgetvalue(res, r, 0);
		const char *key = PQgetvalue(res, r, 1);

		for (size_t i = 0; i < n; i++) {
			if (!is_new[i] &&
			    strcmp(events[i].dedup_key, key) == 0 &&
			    strcmp(events[i].provider, prov) == 0) {
				is_new[i] = true;
				break;
			}
		}
	}
}

/*
 * Sent before the statement, in its transaction. The plan cache would
 * otherwise plan the statement again for every small batch: it sees the
 * array lengths and finds a custom plan cheaper than the generic one
 * (which assumes 10 rows), and planning costs several times what
 * executing a small batch does, set_config a small part of it.
 * is_local true: the setting ends with the transaction, so the pooled
 * connection goes back as it was. A pool opened with generic_plans (the
 * callback committer's) has the setting for good, and skips it.
 */
static const char SQL_GENERIC[] =
    "SELECT set_config('plan_cache_mode', 'force_generic_plan', true)";

/* The form of the statement for p's batch. */
static enum variant
variant_of(const struct params *p, bool assume_new)
{
	return (assume_new ? V_NEW : V_SKIP) | (p->lean ? V_LEAN : 0);
}

/*
 * Prepare every form of the statement on conn, one round trip each, once
 * in the connection's life. One prepared already (a previous try stopped
 * half way) is no failure.
 */
static int
prepare_all(PGconn *conn, struct err *e)
{
	for (int v = 0; v < NVARIANTS; v++) {
		PGresult *res = store__prepare(conn, variant_name[v],
					       variant_sql[v], NPARAMS);
		const char *state =
		    res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		int rc = 0;

		/* 42P05: duplicate_prepared_statement */
		if (!store__ok(res) &&
		    (state == NULL || strcmp(state, "42P05") != 0))
			rc = store__err(conn, res, "prepare", e);
		PQclear(res);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/*
 * Queue the statement (after SQL_GENERIC unless the connection has generic
 * plans already) and a Sync in pipeline mode, with a Flush request in
 * between so that the server sends the statement's result at once instead
 * of after the commit. The commit (at the Sync) proceeds on the server
 * while the caller goes on. False when the connection broke.
 */
static bool
queue_record(PGconn *conn, bool generic, enum variant v, const struct params *p)
{
	if (PQpipelineStatus(conn) == PQ_PIPELINE_OFF &&
	    PQenterPipelineMode(conn) != 1)
		return false;
	return (generic || PQsendQueryParams(conn, SQL_GENERIC, 0, NULL, NULL,
					     NULL, NULL, 0) == 1) &&
	       PQsendQueryPrepared(conn, variant_name[v], NPARAMS, p->values,
				   p->lengths, p->formats, 0) == 1 &&
	       PQsendFlushRequest(conn) == 1 && PQpipelineSync(conn) == 1 &&
	       store__flush(conn) == 0;
}

/*
 * Read the result of the statement queued last, whose Sync is still to
 * come. On failure the pipeline is drained up to that Sync and left, and
 * the failure (or NULL: the connection broke) is returned.
 */
static PGresult *
read_record(PGconn *conn, bool generic)
{
	PGresult *res = store__get(conn), *failed = NULL;

	if (!generic && store__ok(res)) { /* SQL_GENERIC's; a NULL ends it */
		PQclear(res);
		if ((res = store__get(conn)) == NULL)
			res = store__get(conn);
	}
	if (store__ok(res)) {
		PGresult *more = store__get(conn);

		if (more == NULL)
			return res; /* the Sync is to come: store_events_wait */
		failed = more;
	}
	if (drain_to_sync(conn, &failed) && failed != NULL && store__ok(res)) {
		PQclear(res);
		res = failed;
		failed = NULL;
	}
	PQclear(failed);
	PQexitPipelineMode(conn);
	if (store__ok(res)) { /* more results than one statement gives */
		PQclear(res);
		res = NULL;
	}
	return res;
}

static bool
not_prepared(const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	/* 26000: invalid_sql_statement_name */
	return state != NULL && strcmp(state, "26000") == 0;
}

/*
 * Begin batch b: note its events, clear is_new, and fill the statement's
 * parameters into p (freed with params_free, whatever is returned).
 */
static int
batch_begin(struct store_batch *b, struct db_pool *pool,
	    const struct store_event *events, size_t n,
	    const struct store_media_delta *deltas, size_t ndeltas,
	    bool *is_new, struct params *p, struct err *e)
{
	b->pool = pool;
	b->conn = NULL;
	b->handed_on = false;
	b->deadline_ms = store__deadline(pool);
	b->events = events;
	b->n = n;
	b->is_new = is_new;
	for (size_t i = 0; i < n; i++)
		is_new[i] = false;
	return build_params(events, n, deltas, ndeltas, p, e);
}

static void
params_free(struct params *p)
{
	for (int i = 0; i < NPARAMS; i++)
		buf_free(&p->a[i].b);
}

int
store_events_send(struct db_pool *pool, const struct store_event *events,
		  size_t n, const struct store_media_delta *deltas,
		  size_t ndeltas, bool assume_new, bool *is_new,
		  struct store_batch *b, struct err *e)
{
	struct params p;
	PGresult *res = NULL;
	PGconn *conn = NULL;
	bool prepared = false;
	bool generic = store__generic_plans(pool);
	int rc;

	if ((rc = batch_begin(b, pool, events, n, deltas, ndeltas, is_new, &p,
			      e)) != 0)
		goto out;

	/* A pooled connection may have died while idle (the server was
	 * restarted): that is found only by using it. The statement is
	 * idempotent, so it is tried once more on a fresh connection before
	 * the caller falls back to the spool. A connection that has not
	 * prepared the statement yet prepares all its forms and tries again. */
	for (int attempt = 0; attempt < 2;) {
		if (conn == NULL &&
		    (conn = store__acquire_by(pool, 5000, b->deadline_ms, e)) ==
			NULL) {
			rc = ERR_UNAVAIL;
			goto out;
		}
		if (queue_record(conn, generic, variant_of(&p, assume_new),
				 &p)) {
			res = read_record(conn, generic);
		} else {
			res = NULL; /* the connection broke while sending */
			PQexitPipelineMode(conn);
		}
		if (store__ok(res))
			break;
		if (res != NULL && not_prepared(res) && !prepared) {
			PQclear(res);
			res = NULL;
			prepared = true;
			if ((rc = prepare_all(conn, e)) == 0)
				continue;
		} else {
			rc = store__err(conn, res, "record events", e);
		}
		/* A connection that missed the deadline is not tried again:
		 * the batch's time is up. */
		if (++attempt == 2 || PQstatus(conn) == CONNECTION_OK ||
		    store__timed_out(conn))
			goto out;
		PQclear(res);
		res = NULL;
		store__release(pool, conn); /* broken: the pool drops it */
		conn = NULL;
		prepared = false;
		rc = 0;
	}
	mark_new(res, events, n, is_new);
	b->conn = conn;
	conn = NULL;
out:
	PQclear(res);
	if (conn != NULL)
		store__release(pool, conn);
	params_free(&p);
	return rc;
}

int
store_events_send_next(struct store_batch *prev,
		       const struct store_event *events, size_t n,
		       const struct store_media_delta *deltas, size_t ndeltas,
		       bool assume_new, bool *is_new, struct store_batch *b,
		       struct err *e)
{
	struct params p;
	int rc;

	rc = batch_begin(b, prev->pool, events, n, deltas, ndeltas, is_new, &p,
			 e);
	if (rc == 0 && prev->conn == NULL)
		rc = err_set(e, ERR_INTERNAL, "no batch in flight");
	if (rc == 0 &&
	    !queue_record(prev->conn, store__generic_plans(prev->pool),
			  variant_of(&p, assume_new), &p))
		rc = store__err(prev->conn, NULL, "record events", e);
	if (rc == 0) {
		/* libpq has copied the parameters into its buffer */
		b->conn = prev->conn;
		prev->handed_on = true;
	}
	params_free(&p);
	return rc;
}

int
store_events_result(struct store_batch *b, struct err *e)
{
	PGconn *conn = b->conn;
	PGresult *res;
	int rc = 0;

	if (conn == NULL)
		return err_set(e, ERR_INTERNAL, "no batch in flight");
	store__set_deadline(conn, b->deadline_ms);
	res = read_record(conn, store__generic_plans(b->pool));
	if (store__ok(res)) {
		mark_new(res, b->events, b->n, b->is_new);
	} else {
		/* read_record left the pipeline: nothing follows this batch */
		rc = store__err(conn, res, "record events", e);
		store__release(b->pool, conn);
		b->conn = NULL;
	}
	PQclear(res);
	return rc;
}

int
store_events_wait(struct store_batch *b, struct err *e)
{
	PGconn *conn = b->conn;
	PGresult *failed = NULL;
	int rc = 0;

	if (conn == NULL)
		return err_set(e, ERR_INTERNAL, "no batch in flight");
	store__set_deadline(conn, b->deadline_ms);
	if (!drain_to_sync(conn, &failed) || failed != NULL)
		rc = store__err(conn, failed, "commit events", e);
	PQclear(failed);
	if (!b->handed_on) {
		PQexitPipelineMode(conn);
		store__release(b->pool, conn);
	}
	b->conn = NULL;
	return rc;
}

int
store_events_record(struct db_pool *pool, const struct store_event *events,
		    size_t n, const struct store_media_delta *deltas,
		    size_t ndeltas, bool *is_new, struct err *e)
{
	struct store_batch b;
	int rc = store_events_send(pool, events, n, deltas, ndeltas, false,
				   is_new, &b, e);

	if (rc == 0)
		rc = store_events_wait(&b, e);
	return rc;
}

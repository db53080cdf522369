/*
 * webhooks.c: webhook subscriptions and their outbox (016_webhooks.sql).
 *
 * The messages themselves are written by triggers, in the transaction of
 * the change they report; this file reads and manages them, and gives the
 * delivery workers (webhooks/deliver.c) their claims: FOR UPDATE SKIP
 * LOCKED and a lease, as upload jobs are claimed, so that every instance
 * shares the work and a message whose worker died is claimed again once
 * its lease ends. PostgreSQL builds the JSON the API returns. A secret is
 * read only by the claim (to sign) and is never part of a JSON answer.
 *
 * Interface: store_webhook_create, _list_json, _get_json, _update,
 * _delete, _rotate, _messages_json, _message_json, _resend, _resend_since,
 * _claim, _finish, store_webhook_msgs_free, store_webhook_stats.
 */
#include "store/store_int.h"

#include "common/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUB_JSON                                                               \
	"json_build_object('id', s.id, 'url', s.url, 'description',"           \
	" s.description, 'filter', json_build_object('providers',"             \
	" s.providers, 'states', s.states, 'kinds', s.kinds), 'enabled',"      \
	" s.enabled, 'disabled_at', s.disabled_at, 'disabled_reason',"         \
	" s.disabled_reason, 'failing_since', s.failing_since,"                \
	" 'old_secret_until', CASE WHEN s.old_secret_until > now()"            \
	"  THEN s.old_secret_until END,"                                       \
	" 'created_at', s.created_at, 'updated_at', s.updated_at)"

#define MSG_JSON                                                               \
	"json_build_object('id', 'msg_' || m.id, 'type', m.type, 'subject',"   \
	" m.subject, 'seq', m.seq, 'state', m.state, 'attempt_count',"         \
	" m.attempts, 'next_attempt_at', CASE WHEN m.state = 'pending'"        \
	"  THEN m.next_attempt_at END, 'last_status', m.last_status,"          \
	" 'last_error', m.last_error, 'created_at', m.created_at,"             \
	" 'delivered_at', m.delivered_at, 'failed_at', m.failed_at)"

/* A filter array from a JSON array text ($n), NULL when NULL. */
#define ARR(n)                                                                 \
	"(SELECT array_agg(x) FROM json_array_elements_text(" n "::json) x)"

static const char SQL_CREATE[] =
    "INSERT INTO webhook_subscriptions AS s (id, url, description,"
    " providers, states, kinds, secret)"
    " VALUES (gen_random_uuid(), $1, coalesce($2, ''), " ARR("$3") ", " ARR(
	"$4") ", " ARR("$5") ", $6)"
			     " RETURNING " SUB_JSON;

static const char SQL_LIST[] =
    "SELECT json_build_object('items', coalesce(json_agg(" SUB_JSON
    " ORDER BY s.created_at, s.id), '[]'::json))"
    " FROM webhook_subscriptions s";

static const char SQL_GET[] =
    "SELECT " SUB_JSON "::jsonb || jsonb_build_object('messages',"
    " (SELECT json_build_object('pending', count(*) FILTER (WHERE"
    "  state = 'pending'), 'delivered', count(*) FILTER (WHERE"
    "  state = 'delivered'), 'failed', count(*) FILTER (WHERE"
    "  state = 'failed')) FROM webhook_messages WHERE subscription_id ="
    "  s.id)) FROM webhook_subscriptions s WHERE s.id = $1::uuid";

/* $5 true: the filter ($3..$5 as JSON arrays or NULL) is replaced. */
static const char SQL_UPDATE[] =
    "UPDATE webhook_subscriptions s SET url = coalesce($2, s.url),"
    " description = coalesce($3, s.description),"
    " providers = CASE WHEN $7::boolean THEN " ARR(
	"$4") " ELSE s.providers END,"
	      " states = CASE WHEN $7::boolean THEN " ARR(
		  "$5") " ELSE s.states END,"
			" kinds = CASE WHEN $7::boolean THEN " ARR(
			    "$6") " ELSE s.kinds END,"
				  " enabled = coalesce($8::boolean, s.enabled),"
				  " disabled_at = CASE WHEN $8::boolean THEN "
				  "NULL"
				  "  WHEN NOT $8::boolean AND s.enabled THEN "
				  "now() ELSE s.disabled_at END,"
				  " disabled_reason = CASE WHEN $8::boolean "
				  "THEN NULL"
				  "  WHEN NOT $8::boolean AND s.enabled THEN "
				  "'disabled through the API'"
				  "  ELSE s.disabled_reason END,"
				  " failing_since = CASE WHEN $8::boolean THEN "
				  "NULL"
				  "  ELSE s.failing_since END,"
				  " updated_at = now()"
				  " WHERE s.id = $1::uuid RETURNING " SUB_JSON;

static const char SQL_DELETE[] = "SELECT 1 WHERE webhook_delete($1::uuid)";

static const char SQL_ROTATE[] =
    "UPDATE webhook_subscriptions s SET old_secret = s.secret,"
    " old_secret_until = now() + make_interval(secs => $3::bigint),"
    " secret = $2, updated_at = now()"
    " WHERE s.id = $1::uuid RETURNING " SUB_JSON;

static const char SQL_MESSAGES[] =
    "WITH page AS (SELECT m.id, " MSG_JSON " AS j FROM webhook_messages m"
    " WHERE m.subscription_id = $1::uuid"
    "  AND ($2::text IS NULL OR m.state = $2) AND m.id > $3::bigint"
    " ORDER BY m.id LIMIT $4::int)"
    " SELECT json_build_object('items', coalesce(json_agg(j ORDER BY id),"
    "  '[]'::json), 'next_cursor', CASE WHEN count(*) = $4::int"
    "  THEN max(id)::text END) FROM page"
    " HAVING EXISTS (SELECT 1 FROM webhook_subscriptions"
    "  WHERE id = $1::uuid)";

static const char SQL_MESSAGE[] =
    "SELECT " MSG_JSON "::jsonb || jsonb_build_object("
    "'body', webhook_message_body(m)::json,"
    " 'attempts', (SELECT coalesce(json_agg(json_build_object('started_at',"
    "  a.started_at, 'duration_ms', a.duration_ms, 'status', a.status,"
    "  'error', a.error, 'response', a.response) ORDER BY a.id),"
    "  '[]'::json) FROM webhook_attempts a WHERE a.message_id = m.id))"
    " FROM webhook_messages m"
    " WHERE m.subscription_id = $1::uuid AND m.id = $2::bigint";

/* A message is sent again with a fresh schedule; one pending is left. */
static const char SQL_RESEND[] =
    "UPDATE webhook_messages m SET state = 'pending', attempts = 0,"
    " next_attempt_at = now(), failed_at = NULL, delivered_at = NULL,"
    " lease_owner = NULL, lease_expires_at = NULL"
    " WHERE m.subscription_id = $1::uuid AND m.id = $2::bigint"
    "  AND m.state <> 'pending' RETURNING " MSG_JSON;

static const char SQL_RESEND_SINCE[] =
    "WITH r AS (UPDATE webhook_messages m SET state = 'pending',"
    " attempts = 0, next_attempt_at = now(), failed_at = NULL"
    " WHERE m.subscription_id = $1::uuid AND m.state = 'failed'"
    "  AND m.created_at >= $2::timestamptz RETURNING 1)"
    " SELECT count(*) FROM r"
    " HAVING EXISTS (SELECT 1 FROM webhook_subscriptions WHERE id = $1::uuid)";

/* webhook_claim_batch and webhook_finish_batch (022) say which and how. */
static const char SQL_CLAIM[] =
    "SELECT id, attempts, body, url, secret, old_secret, created_ms,"
    " subscription_id FROM webhook_claim_batch($1, $2::int, $3::int, $4::int)";

static const char SQL_FINISH[] =
    "SELECT webhook_finish_batch($1, $2::json, $3::bigint)";

static const char SQL_STATS[] =
    "SELECT (SELECT last_value FROM webhook_messages_id_seq)"
    "  - CASE WHEN (SELECT is_called FROM webhook_messages_id_seq)"
    "  THEN 0 ELSE 1 END,"
    " (SELECT count(*) FROM webhook_messages WHERE state = 'pending')";

/* Run sql; its result, or NULL with *e set. */
static PGresult *
run(struct db_pool *pool, const char *sql, int n, const char *const *params,
    const char *what, struct err *e)
{
	PGresult *res;
	PGconn *conn;

	if ((conn = store__acquire(pool, 5000, e)) == NULL)
		return NULL;
	res = store__exec(conn, sql, n, params);
	if (!store__ok(res)) {
		store__err(conn, res, what, e);
		PQclear(res);
		res = NULL;
	}
	store__release(pool, conn);
	return res;
}

/* The first value of sql's one row, ERR_NOTFOUND (notfound) without one. */
static int
run_text(struct db_pool *pool, const char *sql, int n,
	 const char *const *params, const char *what, const char *notfound,
	 char **json, struct err *e)
{
	PGresult *res = run(pool, sql, n, params, what, e);

	*json = NULL;
	if (res == NULL)
		return e->code;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return err_set(e, ERR_NOTFOUND, "%s", notfound);
	}
	*json = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

int
store_webhook_create(struct db_pool *pool, const struct store_webhook_sub *w,
		     const char *secret, char **json, struct err *e)
{
	const char *params[6] = {w->url,    w->description, w->providers,
				 w->states, w->kinds,	    secret};

	return run_text(pool, SQL_CREATE, 6, params, "create webhook", "", json,
			e);
}

int
store_webhook_list_json(struct db_pool *pool, char **json, struct err *e)
{
	return run_text(pool, SQL_LIST, 0, NULL, "list webhooks", "", json, e);
}

int
store_webhook_get_json(struct db_pool *pool, const char *id, char **json,
		       struct err *e)
{
	const char *params[1] = {id};

	return run_text(pool, SQL_GET, 1, params, "read webhook",
			"no such webhook", json, e);
}

int
store_webhook_update(struct db_pool *pool, const char *id,
		     const struct store_webhook_sub *w, char **json,
		     struct err *e)
{
	const char *enabled = w->enabled < 0 ? NULL : w->enabled ? "t" : "f";
	const char *params[8] = {id,
				 w->url,
				 w->description,
				 w->providers,
				 w->states,
				 w->kinds,
				 w->set_filter ? "t" : "f",
				 enabled};

	return run_text(pool, SQL_UPDATE, 8, params, "update webhook",
			"no such webhook", json, e);
}

int
store_webhook_delete(struct db_pool *pool, const char *id, struct err *e)
{
	const char *params[1] = {id};
	char *json = NULL;
	int rc = run_text(pool, SQL_DELETE, 1, params, "delete webhook",
			  "no such webhook", &json, e);

	free(json);
	return rc;
}

int
store_webhook_rotate(struct db_pool *pool, const char *id, const char *secret,
		     int64_t grace_s, char **json, struct err *e)
{
	char grace[24];
	const char *params[3] = {id, secret, grace};

	snprintf(grace, sizeof(grace), "%lld", (long long)grace_s);
	return run_text(pool, SQL_ROTATE, 3, params, "rotate webhook secret",
			"no such webhook", json, e);
}

int
store_webhook_messages_json(struct db_pool *pool, const char *id,
			    const char *state, int64_t after, int limit,
			    char **json, struct err *e)
{
	char a[24], l[16];
	const char *params[4] = {id, state, a, l};

	snprintf(a, sizeof(a), "%lld", (long long)after);
	snprintf(l, sizeof(l), "%d", limit);
	return run_text(pool, SQL_MESSAGES, 4, params, "list webhook messages",
			"no such webhook", json, e);
}

int
store_webhook_message_json(struct db_pool *pool, const char *id, int64_t msg,
			   char **json, struct err *e)
{
	char m[24];
	const char *params[2] = {id, m};

	snprintf(m, sizeof(m), "%lld", (long long)msg);
	return run_text(pool, SQL_MESSAGE, 2, params, "read webhook message",
			"no such message", json, e);
}

int
store_webhook_resend(struct db_pool *pool, const char *id, int64_t msg,
		     char **json, struct err *e)
{
	char m[24];
	const char *params[2] = {id, m};
	int rc;

	snprintf(m, sizeof(m), "%lld", (long long)msg);
	rc = run_text(pool, SQL_RESEND, 2, params, "resend webhook message",
		      "no such message", json, e);
	if (rc == ERR_NOTFOUND) {
		/* Either none, or one still pending: tell them apart. */
		char *cur = NULL;

		if (store_webhook_message_json(pool, id, msg, &cur, e) == 0)
			rc = err_set(e, ERR_CONFLICT,
				     "the message is still being delivered");
		free(cur);
	}
	return rc;
}

int
store_webhook_resend_since(struct db_pool *pool, const char *id,
			   const char *since, int64_t *count, struct err *e)
{
	char utc[80];
	const char *params[2] = {id, utc};
	char *txt = NULL;
	int rc;

	*count = 0;
	if (store__time_utc(since, utc, sizeof(utc)) != 0)
		return err_set(e, ERR_INPUT,
			       "since must be an RFC 3339 date-time, such as "
			       "2026-01-02T03:04:05Z");
	rc = run_text(pool, SQL_RESEND_SINCE, 2, params,
		      "resend webhook messages", "no such webhook", &txt, e);
	if (rc == 0 && parse_i64(txt, 0, INT64_MAX, count) != 0)
		rc = err_set(e, ERR_DB, "could not count the messages resent");
	free(txt);
	return rc;
}

void
store_webhook_msgs_free(struct store_webhook_msg *m, int n)
{
	if (m == NULL)
		return;
	for (int i = 0; i < n; i++) {
		free(m[i].body);
		free(m[i].url);
		free(m[i].secret);
		free(m[i].old_secret);
	}
	free(m);
}

/* Row r of a claim's result into m. */
static int
claimed(const PGresult *res, int r, struct store_webhook_msg *m, struct err *e)
{
	int64_t v;
	int rc;

	if ((rc = store__int(res, r, 0, 1, INT64_MAX, &m->id, "id", e)) != 0 ||
	    (rc = store__int(res, r, 1, 0, INT32_MAX, &v, "attempts", e)) !=
		0 ||
	    (rc = store__int(res, r, 6, 0, INT64_MAX, &m->created_ms,
			     "created_at", e)) != 0)
		return rc;
	m->attempts = (int)v;
	m->body = xstrdup(PQgetvalue(res, r, 2));
	m->url = xstrdup(PQgetvalue(res, r, 3));
	m->secret = xstrdup(PQgetvalue(res, r, 4));
	m->old_secret = store__dup_or_null(res, r, 5);
	snprintf(m->subscription, sizeof(m->subscription), "%s",
		 PQgetvalue(res, r, 7));
	return 0;
}

int
store_webhook_claim(struct db_pool *pool, const char *owner, int lease_s,
		    int max_in_flight, int batch,
		    struct store_webhook_msg **out, int *n, struct err *e)
{
	char lease[16], max[16], lim[16];
	const char *params[4] = {owner, lease, max, lim};
	struct store_webhook_msg *m;
	PGresult *res;
	int rows, rc = 0;

	*out = NULL;
	*n = 0;
	snprintf(lease, sizeof(lease), "%d", lease_s);
	snprintf(max, sizeof(max), "%d", max_in_flight);
	snprintf(lim, sizeof(lim), "%d", batch);
	if ((res = run(pool, SQL_CLAIM, 4, params, "claim webhook messages",
		       e)) == NULL)
		return e->code;
	/* None due, or gone meanwhile (their subscription deleted). */
	if ((rows = PQntuples(res)) == 0) {
		PQclear(res);
		return 0;
	}
	m = xcalloc((size_t)rows, sizeof(*m));
	for (int r = 0; r < rows && rc == 0; r++)
		rc = claimed(res, r, &m[r], e);
	PQclear(res);
	if (rc != 0) {
		/* Their leases run out, and they are sent then. */
		store_webhook_msgs_free(m, rows);
		return rc;
	}
	*out = m;
	*n = rows;
	return 0;
}

/* The outcomes as webhook_finish_batch reads them; ids as strings, which
 * cJSON would otherwise keep as doubles. */
static char *
outcomes_json(const struct store_webhook_result *r, int n)
{
	cJSON *arr = cJSON_CreateArray(), *o;
	char id[24];
	char *s;

	if (arr == NULL)
		fatal("out of memory");
	for (int i = 0; i < n; i++) {
		if ((o = cJSON_CreateObject()) == NULL)
			fatal("out of memory");
		cJSON_AddItemToArray(arr, o);
		snprintf(id, sizeof(id), "%lld", (long long)r[i].id);
		cJSON_AddStringToObject(o, "id", id);
		if (!r[i].tried)
			continue; /* ok null: not tried */
		cJSON_AddNumberToObject(o, "started_ms",
					(double)r[i].started_ms);
		cJSON_AddNumberToObject(o, "duration_ms", r[i].duration_ms);
		cJSON_AddBoolToObject(o, "ok", r[i].ok);
		cJSON_AddNumberToObject(o, "retry_ms", (double)r[i].retry_ms);
		if (r[i].status > 0)
			cJSON_AddNumberToObject(o, "status", r[i].status);
		json_add_str(o, "error", r[i].error);
		json_add_str(o, "response", r[i].response);
	}
	if ((s = cJSON_PrintUnformatted(arr)) == NULL)
		fatal("out of memory");
	cJSON_Delete(arr);
	return s;
}

int
store_webhook_finish(struct db_pool *pool, const char *owner,
		     const struct store_webhook_result *r, int n,
		     int64_t disable_after_s, bool *disabled, struct err *e)
{
	char off[24];
	char *outcomes = outcomes_json(r, n);
	const char *params[3] = {owner, outcomes, off};
	PGresult *res;

	*disabled = false;
	snprintf(off, sizeof(off), "%lld", (long long)disable_after_s);
	res = run(pool, SQL_FINISH, 3, params, "record webhook attempts", e);
	cJSON_free(outcomes);
	if (res == NULL)
		return e->code;
	*disabled = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) &&
		    PQgetvalue(res, 0, 0)[0] == 'f';
	PQclear(res);
	return 0;
}

int
store_webhook_stats(struct db_pool *pool, int64_t *created, int64_t *pending,
		    struct err *e)
{
	PGresult *res =
	    run(pool, SQL_STATS, 0, NULL, "count webhook messages", e);
	int rc;

	if (res == NULL)
		return e->code;
	if ((rc = store__int(res, 0, 0, 0, INT64_MAX, created, "created", e)) ==
	    0)
		rc = store__int(res, 0, 1, 0, INT64_MAX, pending, "pending", e);
	PQclear(res);
	return rc;
}

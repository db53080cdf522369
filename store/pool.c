/*
 * pool.c: a fixed-size, mutex-guarded pool of PGconn.
 *
 * A connection is used by one thread at a time. Connections are opened
 * lazily and reopened when found broken. After a failed connection attempt
 * the pool refuses new attempts for a short back-off, so that callers (the
 * callback path among them) learn at once that the database is away rather
 * than each waiting for a connect timeout.
 *
 * Interface: db_pool_new, db_pool_free, store_ping; store__acquire,
 * store__release, store__err, store__exec, store__ok, store__dup_or_null,
 * store__claim (store/ only).
 */
#include "store/store_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POOL_BACKOFF_MS 250

struct db_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *conninfo;
	char timeout[16];
	const char *app_name;
	char *options;	    /* server options sent on connecting, or NULL */
	bool generic_plans; /* options set plan_cache_mode (generic plans) */
	int size;
	PGconn **idle; /* stack of idle connections (may hold NULL slots) */
	int nidle;
	int64_t down_until_ms; /* no connection attempts before this */
	char down_msg[200];
};

/*
 * The server options for o's connections: those of the connection string,
 * if any, and plan_cache_mode when o asks for generic plans. NULL when there
 * is nothing to add to the connection string.
 */
static char *
server_options(const struct db_pool_opts *o, const PQconninfoOption *parsed)
{
	static const char generic[] = "-c plan_cache_mode=force_generic_plan";
	const char *given = "";
	size_t n;
	char *opts;

	if (!o->generic_plans)
		return NULL;
	for (const PQconninfoOption *p = parsed; p->keyword != NULL; p++)
		if (strcmp(p->keyword, "options") == 0 && p->val != NULL)
			given = p->val;
	/* The "options" keyword replaces the string's own: keep them. */
	n = strlen(given) + 1 + sizeof(generic);
	opts = xmalloc(n);
	snprintf(opts, n, "%s%s%s", given, given[0] ? " " : "", generic);
	return opts;
}

int
db_pool_new(const struct db_pool_opts *o, struct db_pool **out, struct err *e)
{
	PQconninfoOption *parsed;
	char *errmsg = NULL;
	struct db_pool *pool;
	char *options;

	*out = NULL;
	if (o->conninfo == NULL || o->conninfo[0] == '\0')
		return err_set(
		    e, ERR_INPUT,
		    "database_url is not set (VODHOOK_DATABASE_URL)");
	parsed = PQconninfoParse(o->conninfo, &errmsg);
	if (parsed == NULL) {
		/* libpq's message names the bad part, never the password. */
		err_set(e, ERR_INPUT, "database_url is invalid: %s",
			errmsg ? strtok(errmsg, "\n") : "out of memory");
		PQfreemem(errmsg);
		return ERR_INPUT;
	}
	options = server_options(o, parsed);
	PQconninfoFree(parsed);

	pool = xcalloc(1, sizeof(*pool));
	pool->options = options;
	pool->generic_plans = o->generic_plans;
	pthread_mutex_init(&pool->mu, NULL);
	pthread_cond_init(&pool->cv, NULL);
	pool->conninfo = xstrdup(o->conninfo);
	snprintf(pool->timeout, sizeof(pool->timeout), "%d",
		 o->connect_timeout_s > 0 ? o->connect_timeout_s : 5);
	pool->app_name = o->app_name ? o->app_name : "vodhook";
	pool->size = o->size > 0 ? o->size : 1;
	pool->idle = xcalloc((size_t)pool->size, sizeof(PGconn *));
	pool->nidle = pool->size; /* all slots free, none connected yet */
	*out = pool;
	return 0;
}

void
db_pool_free(struct db_pool *pool)
{
	if (pool == NULL)
		return;
	for (int i = 0; i < pool->nidle; i++)
		PQfinish(pool->idle[i]);
	explicit_bzero(pool->conninfo, strlen(pool->conninfo));
	free(pool->conninfo);
	free(pool->options);
	free(pool->idle);
	pthread_cond_destroy(&pool->cv);
	pthread_mutex_destroy(&pool->mu);
	free(pool);
}

/* First line of libpq's error message, for one-line logs. */
static void
first_line(const char *msg, char *out, size_t n)
{
	size_t len = strcspn(msg, "\n");

	snprintf(out, n, "%.*s", (int)len, msg);
}

static PGconn *
pool_connect(struct db_pool *pool, struct err *e)
{
	const char *keys[] = {"dbname", "connect_timeout", "application_name",
			      "options", NULL};
	const char *vals[] = {pool->conninfo, pool->timeout, pool->app_name,
			      pool->options, NULL};
	char why[200];
	PGconn *conn;

	/* expand_dbname = 1: dbname holds the whole connection string, and
	 * later keywords override what it says. */
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn != NULL && PQstatus(conn) == CONNECTION_OK)
		return conn;
	first_line(conn ? PQerrorMessage(conn) : "out of memory", why,
		   sizeof(why));
	PQfinish(conn);
	err_set(e, ERR_UNAVAIL, "could not connect to database: %s", why);
	pthread_mutex_lock(&pool->mu);
	pool->down_until_ms = time_mono_ms() + POOL_BACKOFF_MS;
	snprintf(pool->down_msg, sizeof(pool->down_msg), "%s", why);
	pthread_mutex_unlock(&pool->mu);
	return NULL;
}

bool
store__generic_plans(const struct db_pool *pool)
{
	return pool->generic_plans;
}

PGconn *
store__acquire(struct db_pool *pool, int wait_ms, struct err *e)
{
	struct timespec deadline;
	PGconn *conn;
	int64_t now;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += wait_ms / 1000;
	deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}

	pthread_mutex_lock(&pool->mu);
	while (pool->nidle == 0) {
		if (pthread_cond_timedwait(&pool->cv, &pool->mu, &deadline) ==
		    ETIMEDOUT) {
			pthread_mutex_unlock(&pool->mu);
			err_set(e, ERR_UNAVAIL,
				"could not get a database connection: all %d "
				"are busy",
				pool->size);
			return NULL;
		}
	}
	conn = pool->idle[--pool->nidle];
	now = time_mono_ms();
	if (conn == NULL && now < pool->down_until_ms) {
		pool->idle[pool->nidle++] = NULL;
		err_set(e, ERR_UNAVAIL, "could not connect to database: %s",
			pool->down_msg);
		pthread_mutex_unlock(&pool->mu);
		return NULL;
	}
	pthread_mutex_unlock(&pool->mu);

	if (conn != NULL && PQstatus(conn) != CONNECTION_OK) {
		PQfinish(conn);
		conn = NULL;
	}
	if (conn == NULL && (conn = pool_connect(pool, e)) == NULL) {
		store__release(pool, NULL);
		return NULL;
	}
	return conn;
}

void
store__release(struct db_pool *pool, PGconn *conn)
{
	if (conn != NULL && PQstatus(conn) == CONNECTION_OK &&
	    PQpipelineStatus(conn) == PQ_PIPELINE_OFF &&
	    PQtransactionStatus(conn) != PQTRANS_IDLE) {
		/* Left inside a transaction (a failed path): roll it back so
		 * that the next user starts clean. */
		PQclear(PQexec(conn, "ROLLBACK"));
	}
	if (conn != NULL && (PQstatus(conn) != CONNECTION_OK ||
			     PQpipelineStatus(conn) != PQ_PIPELINE_OFF ||
			     PQtransactionStatus(conn) != PQTRANS_IDLE)) {
		PQfinish(conn);
		conn = NULL;
	}
	pthread_mutex_lock(&pool->mu);
	pool->idle[pool->nidle++] = conn;
	pthread_cond_signal(&pool->cv);
	pthread_mutex_unlock(&pool->mu);
}

PGresult *
store__exec(PGconn *conn, const char *sql, int nparams,
	    const char *const *params)
{
	return PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
}

char *
store__dup_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL
					  : xstrdup(PQgetvalue(res, row, col));
}

PGresult *
store__claim(struct db_pool *pool, const char *sql, const char *provider,
	     int64_t older_than_s, int max, const char *what, struct err *e)
{
	char secs[24], limit[16];
	const char *params[3] = {provider, secs, limit};
	PGresult *res;
	PGconn *conn;

	snprintf(secs, sizeof(secs), "%lld", (long long)older_than_s);
	snprintf(limit, sizeof(limit), "%d", max);
	if ((conn = store__acquire(pool, 5000, e)) == NULL)
		return NULL;
	res = store__exec(conn, sql, 3, params);
	if (!store__ok(res)) {
		store__err(conn, res, what, e);
		PQclear(res);
		res = NULL;
	}
	store__release(pool, conn);
	return res;
}

bool
store__ok(const PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

int
store__err(PGconn *conn, const PGresult *res, const char *what, struct err *e)
{
	const char *state =
	    res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : "";
	char why[200];
	int code = ERR_DB;

	if (msg == NULL || msg[0] == '\0')
		msg = PQerrorMessage(conn);
	first_line(msg, why, sizeof(why));
	if (PQstatus(conn) != CONNECTION_OK ||
	    (state != NULL && strncmp(state, "08", 2) == 0) ||
	    (state != NULL && strncmp(state, "57P", 3) == 0))
		code = ERR_UNAVAIL;
	else if (state != NULL && strcmp(state, "23505") == 0)
		code = ERR_CONFLICT;
	/* 22xxx a malformed value, 23xxx a constraint: the same input would
	 * fail again */
	else if (state != NULL &&
		 (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0))
		code = ERR_INPUT;
	return err_set(e, code, "could not %s: %s", what, why);
}

int
store_ping(struct db_pool *pool, struct err *e)
{
	PGresult *res = NULL;
	PGconn *conn;
	int rc = 0;

	if ((conn = store__acquire(pool, 2000, e)) == NULL)
		return ERR_UNAVAIL;
	res = PQexec(conn, "SELECT 1");
	if (!store__ok(res))
		rc = store__err(conn, res, "query the database", e);
	PQclear(res);
	store__release(pool, conn);
	return rc;
}

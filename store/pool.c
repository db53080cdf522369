/*
 * pool.c: a fixed-size, mutex-guarded pool of PGconn.
 *
 * A connection is used by one thread at a time. Connections are opened
 * lazily and reopened when found broken. After a failed connection attempt
 * the pool refuses new attempts for a back-off (doubling while attempts go
 * on failing), so that callers (the callback path among them) learn at once
 * that the database is away rather than each waiting for a connect timeout.
 *
 * No call waits on the server without a deadline (libpq's own blocking
 * calls have none, and block until TCP gives up, a quarter of an hour, when
 * the server has gone silent): connections are opened with PQconnectPoll
 * and used in nonblocking mode, and every wait is a poll() bounded by the
 * connection's deadline (store__set_deadline; by default the pool's
 * timeout_ms from store__acquire). A connection that misses its deadline
 * is shut down, so that libpq finds it broken and every caller's path for
 * a broken connection applies; the pool then drops its idle connections
 * and backs off. The exception is the migrations' DDL, which may take as
 * long as it needs.
 *
 * Interface: db_pool_new, db_pool_free, db_pool_backoff, store_ping,
 * store_check_session;
 * store__acquire, store__acquire_by, store__release, store__set_deadline,
 * store__flush, store__get, store__timed_out, store__deadline, store__err,
 * store__exec, store__prepare, store__ok, store__dup_or_null, store__claim,
 * store__check_session (store/ only).
 */
#include "store/store_int.h"

#include <libpq-events.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define POOL_BACKOFF_MS	    250	 /* after the first failed attempt */
#define POOL_BACKOFF_MAX_MS 4000 /* doubled up to this while they fail */

struct db_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *conninfo;
	int connect_timeout_ms;
	int timeout_ms; /* per call; 0 = none */
	const char *app_name;
	char *options;	    /* server options sent on connecting, or NULL */
	bool generic_plans; /* options set plan_cache_mode (generic plans) */
	int size;
	PGconn **idle; /* stack of idle connections (may hold NULL slots) */
	int nidle;
	int64_t down_until_ms; /* no connection attempts before this */
	int backoff_ms;	       /* the last back-off; 0 after a success */
	int down_code;	       /* ERR_UNAVAIL, or ERR_AUTH when refused */
	char down_msg[200];
};

/*
 * What vodhook keeps with each connection of a pool (libpq instance data,
 * set when it is opened and freed with it): the deadline of the call using
 * it, and whether it was shut down for missing one.
 */
struct conn_note {
	int64_t deadline_ms; /* monotonic; 0 = none */
	int timeout_ms;	     /* the pool's, for messages */
	bool timed_out;
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
	pool->connect_timeout_ms =
	    (o->connect_timeout_s > 0 ? o->connect_timeout_s : 5) * 1000;
	pool->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 0;
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

static int
conn_event(PGEventId id, void *info, void *pass)
{
	(void)pass;
	if (id == PGEVT_CONNDESTROY) {
		PGconn *conn = ((PGEventConnDestroy *)info)->conn;

		free(PQinstanceData(conn, conn_event));
	}
	return 1;
}

static struct conn_note *
note_of(const PGconn *conn)
{
	return PQinstanceData(conn, conn_event);
}

/*
 * The server's notices ("relation ... already exists, skipping" from the
 * migrations, say) go to the log at debug level: libpq's default prints
 * them on stderr, in no format of ours, between the one-line messages.
 */
static void
log_notice(void *arg, const char *msg)
{
	char line[200];

	(void)arg;
	first_line(msg, line, sizeof(line));
	log_msg(LOG_DEBUG, "store", "server notice: %s", line);
}

/*
 * Wait until conn's socket is ready for events (POLLIN, POLLOUT), or until
 * deadline_ms (0: no limit). 0, or -1 when the deadline passed. Hand-written
 * because libpq's own PQsocketPoll came with PostgreSQL 17.
 */
static int
wait_socket(const PGconn *conn, short events, int64_t deadline_ms)
{
	struct pollfd p = {.fd = PQsocket(conn), .events = events};

	for (;;) {
		int ms = -1, n;

		if (deadline_ms > 0) {
			int64_t left = deadline_ms - time_mono_ms();

			if (left <= 0)
				return -1;
			ms = left > INT_MAX ? INT_MAX : (int)left;
		}
		n = poll(&p, 1, ms);
		if (n > 0 || (n < 0 && errno != EINTR))
			return 0; /* ready, or an error libpq will report */
	}
}

bool
store__timed_out(const PGconn *conn)
{
	return note_of(conn)->timed_out;
}

/* conn missed its deadline: shut it down, so that libpq finds it broken. */
static void
time_out(PGconn *conn)
{
	note_of(conn)->timed_out = true;
	shutdown(PQsocket(conn), SHUT_RDWR);
}

int
db_pool_backoff(struct db_pool *pool, struct err *e)
{
	int rc = 0;

	pthread_mutex_lock(&pool->mu);
	if (time_mono_ms() < pool->down_until_ms)
		rc = err_set(e, ERR_UNAVAIL,
			     "backing off after a failed connection: %s",
			     pool->down_msg);
	pthread_mutex_unlock(&pool->mu);
	return rc;
}

/* Back off from connection attempts after a failure (under no lock). */
static void
pool_down(struct db_pool *pool, int code, const char *why)
{
	pthread_mutex_lock(&pool->mu);
	pool->down_code = code;
	pool->backoff_ms = pool->backoff_ms == 0 ? POOL_BACKOFF_MS
			   : pool->backoff_ms * 2 > POOL_BACKOFF_MAX_MS
			       ? POOL_BACKOFF_MAX_MS
			       : pool->backoff_ms * 2;
	pool->down_until_ms = time_mono_ms() + pool->backoff_ms;
	snprintf(pool->down_msg, sizeof(pool->down_msg), "%s", why);
	pthread_mutex_unlock(&pool->mu);
}

/*
 * Why a connection attempt failed, from libpq's message (verbose, so that a
 * server's refusal carries its SQLSTATE: "...failed: FATAL:  28P01: ..."),
 * into why without the SQLSTATE. ERR_AUTH when the server refused the role
 * or its credentials (class 28): trying again cannot help, so start-up stops
 * on it. Anything else (refused, timed out, a server starting up, 57P03, a
 * name that does not resolve) is ERR_UNAVAIL: the database may come back.
 */
static int
connect_failure(const char *msg, char *why, size_t n)
{
	static const char fatal_tag[] = "FATAL:  ";
	const char *f = strstr(msg, fatal_tag), *state;
	size_t pre;

	first_line(msg, why, n);
	if (f == NULL || (size_t)(f - msg) >= strcspn(msg, "\n"))
		return ERR_UNAVAIL;
	state = f + sizeof(fatal_tag) - 1;
	if (strspn(state, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 5 ||
	    strncmp(state + 5, ": ", 2) != 0)
		return ERR_UNAVAIL;
	pre = (size_t)(state - msg);
	if (pre < n) /* why without "SSSSS: " */
		snprintf(why + pre, n - pre, "%.*s",
			 (int)strcspn(state + 7, "\n"), state + 7);
	return strncmp(state, "28", 2) == 0 ? ERR_AUTH : ERR_UNAVAIL;
}

/*
 * Open a connection, giving up at deadline_ms if that comes before the
 * pool's connect timeout (0: the connect timeout alone). PQconnectPoll
 * leaves the timing to the caller; the host name is still looked up
 * synchronously (libpq does so unless hostaddr is given).
 */
static PGconn *
pool_connect(struct db_pool *pool, int64_t deadline_ms, struct err *e)
{
	const char *keys[] = {"dbname", "application_name", "options", NULL};
	const char *vals[] = {pool->conninfo, pool->app_name, pool->options,
			      NULL};
	int64_t start = time_mono_ms(), by = start + pool->connect_timeout_ms;
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	struct conn_note *note;
	int code = ERR_UNAVAIL;
	char why[200];
	PGconn *conn;

	if (deadline_ms > 0 && deadline_ms < by)
		by = deadline_ms;
	/* expand_dbname = 1: dbname holds the whole connection string, and
	 * later keywords override what it says. */
	conn = PQconnectStartParams(keys, vals, 1);
	if (conn == NULL)
		fatal("out of memory");
	PQsetErrorVerbosity(conn, PQERRORS_VERBOSE); /* see connect_failure */
	PQsetNoticeProcessor(conn, log_notice, NULL);
	while (PQstatus(conn) != CONNECTION_BAD && st != PGRES_POLLING_OK &&
	       st != PGRES_POLLING_FAILED) {
		if (wait_socket(conn,
				st == PGRES_POLLING_READING ? POLLIN : POLLOUT,
				by) != 0) {
			snprintf(why, sizeof(why), "no answer within %lld ms",
				 (long long)(by - start));
			goto failed;
		}
		st = PQconnectPoll(conn);
	}
	if (st == PGRES_POLLING_OK && PQstatus(conn) == CONNECTION_OK) {
		note = xcalloc(1, sizeof(*note));
		note->timeout_ms = pool->timeout_ms;
		if (PQregisterEventProc(conn, conn_event, "vodhook", NULL) !=
			1 ||
		    PQsetInstanceData(conn, conn_event, note) != 1)
			fatal("out of memory");
		PQsetErrorVerbosity(conn, PQERRORS_DEFAULT);
		/* Sends queue in libpq and are flushed by store__flush. */
		if (PQsetnonblocking(conn, 1) == 0) {
			pthread_mutex_lock(&pool->mu);
			pool->backoff_ms = 0;
			pthread_mutex_unlock(&pool->mu);
			return conn;
		}
	}
	code = connect_failure(PQerrorMessage(conn), why, sizeof(why));
failed:
	PQfinish(conn);
	err_set(e, code, "could not connect to database: %s", why);
	pool_down(pool, code, why);
	return NULL;
}

/* pg_backend_pid() of conn's server session into *pid; 0, or the error. */
static int
backend_pid(PGconn *conn, long *pid, struct err *e)
{
	PGresult *res = store__exec(conn, "SELECT pg_backend_pid()", 0, NULL);
	int rc = 0;

	if (store__ok(res) && PQntuples(res) == 1)
		*pid = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	else
		rc = store__err(conn, res, "check the database session", e);
	PQclear(res);
	return rc;
}

/*
 * A pooler that hands a connection's transactions to whichever server
 * session is free (PgBouncer's pool_mode = transaction or statement) breaks
 * what vodhook keeps in a session: the migrations' advisory lock (left held
 * by a session no client owns, so that the next migration waits for ever),
 * the committer's prepared statements and pipeline, LISTEN. It is found
 * here from outside: conn and a second connection opened for the check ask
 * in turn which server process serves them. With a session each, the two
 * differ and neither changes; behind such a pooler, the server session one
 * of them just released is the one the other gets next (PgBouncer reuses
 * the most recently used first), or conn's changes. Four round trips and a
 * connection, at each start: cheap enough to refuse at once rather than
 * hang or spool.
 */
int
store__check_session(struct db_pool *pool, PGconn *conn, struct err *e)
{
	long a[2] = {-1, -1}, b[2] = {-2, -2};
	PGconn *other;
	int rc = 0;

	if ((other = pool_connect(pool, 0, e)) == NULL)
		return store__acquire_failed(e);
	/* A pooler short of server sessions makes the second wait. */
	store__set_deadline(other, time_mono_ms() + 10000);
	for (int i = 0; i < 2 && rc == 0; i++)
		if ((rc = backend_pid(conn, &a[i], e)) == 0)
			rc = backend_pid(other, &b[i], e);
	PQfinish(other);
	if (rc != 0)
		return rc;
	if (a[0] != a[1] || b[0] != b[1] || a[0] == b[0] || a[1] == b[1])
		return err_set(
		    e, ERR_CONFLICT,
		    "database_url (VODHOOK_DATABASE_URL): a connection's "
		    "transactions run in different server sessions (a pooler "
		    "in transaction mode, such as PgBouncer's pool_mode = "
		    "transaction?): vodhook needs a server session per "
		    "connection; use session pooling");
	return 0;
}

int
store__acquire_failed(const struct err *e)
{
	return e != NULL && e->code == ERR_AUTH ? ERR_AUTH : ERR_UNAVAIL;
}

bool
store__generic_plans(const struct db_pool *pool)
{
	return pool->generic_plans;
}

PGconn *
store__acquire(struct db_pool *pool, int wait_ms, struct err *e)
{
	return store__acquire_by(pool, wait_ms, store__deadline(pool), e);
}

PGconn *
store__acquire_by(struct db_pool *pool, int wait_ms, int64_t deadline_ms,
		  struct err *e)
{
	struct timespec until = time_after_ms(wait_ms);
	PGconn *conn;
	int64_t now;

	pthread_mutex_lock(&pool->mu);
	while (pool->nidle == 0) {
		if (pthread_cond_timedwait(&pool->cv, &pool->mu, &until) ==
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
		err_set(e, pool->down_code,
			"could not connect to database (tried again after a "
			"back-off): %s",
			pool->down_msg);
		pthread_mutex_unlock(&pool->mu);
		return NULL;
	}
	pthread_mutex_unlock(&pool->mu);

	if (conn != NULL && PQstatus(conn) != CONNECTION_OK) {
		PQfinish(conn);
		conn = NULL;
	}
	if (conn == NULL &&
	    (conn = pool_connect(pool, deadline_ms, e)) == NULL) {
		store__release(pool, NULL);
		return NULL;
	}
	store__set_deadline(conn, deadline_ms);
	return conn;
}

int64_t
store__deadline(const struct db_pool *pool)
{
	return pool->timeout_ms > 0 ? time_mono_ms() + pool->timeout_ms : 0;
}

void
store__set_deadline(PGconn *conn, int64_t deadline_ms)
{
	struct conn_note *note = note_of(conn);

	note->deadline_ms = deadline_ms;
}

/*
 * After a connection missed its deadline, the others are likely to miss
 * theirs too (the server or the network is away): close the idle ones, and
 * back off from opening new ones.
 */
static void
pool_timed_out(struct db_pool *pool, const struct conn_note *note)
{
	PGconn **idle = xcalloc((size_t)pool->size, sizeof(*idle));
	char why[80];
	int n = 0;

	pthread_mutex_lock(&pool->mu);
	for (int i = 0; i < pool->nidle; i++) {
		idle[n++] = pool->idle[i];
		pool->idle[i] = NULL;
	}
	pthread_mutex_unlock(&pool->mu);
	for (int i = 0; i < n; i++)
		PQfinish(idle[i]);
	free(idle);
	snprintf(why, sizeof(why), "a call had no answer within %d ms",
		 note->timeout_ms);
	pool_down(pool, ERR_UNAVAIL, why);
}

void
store__release(struct db_pool *pool, PGconn *conn)
{
	if (conn != NULL && PQstatus(conn) == CONNECTION_OK &&
	    PQpipelineStatus(conn) == PQ_PIPELINE_OFF &&
	    (PQtransactionStatus(conn) == PQTRANS_INTRANS ||
	     PQtransactionStatus(conn) == PQTRANS_INERROR)) {
		/* Left inside a transaction (a failed path): roll it back so
		 * that the next user starts clean. */
		store__set_deadline(conn, store__deadline(pool));
		PQclear(store__exec(conn, "ROLLBACK", 0, NULL));
	}
	if (conn != NULL && store__timed_out(conn))
		pool_timed_out(pool, note_of(conn));
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

int
store__flush(PGconn *conn)
{
	const struct conn_note *note = note_of(conn);
	int rc;

	/* As libpq's documentation asks of a nonblocking connection: read
	 * what the server sends meanwhile, so that neither side waits for
	 * the other to read. */
	while ((rc = PQflush(conn)) == 1) {
		if (wait_socket(conn, POLLIN | POLLOUT, note->deadline_ms) !=
		    0) {
			time_out(conn);
			return -1;
		}
		if (PQconsumeInput(conn) == 0)
			return -1;
	}
	return rc;
}

PGresult *
store__get(PGconn *conn)
{
	const struct conn_note *note = note_of(conn);

	if (store__flush(conn) == 0) {
		while (PQisBusy(conn)) {
			if (wait_socket(conn, POLLIN, note->deadline_ms) != 0)
				time_out(conn);
			if (PQconsumeInput(conn) == 0)
				break;
		}
	}
	/* A broken connection (shut down above, say) gives its error
	 * result at once; libpq does not wait on it. */
	return PQgetResult(conn);
}

/* The results of the query sent last, as PQexec gives them: the last one,
 * or the first that failed. NULL when the connection broke. */
static PGresult *
collect(PGconn *conn)
{
	PGresult *res, *kept = NULL;

	while ((res = store__get(conn)) != NULL) {
		if (kept != NULL && !store__ok(kept)) {
			PQclear(res);
			continue;
		}
		PQclear(kept);
		kept = res;
		if (PQstatus(conn) != CONNECTION_OK)
			break;
	}
	return kept;
}

PGresult *
store__exec(PGconn *conn, const char *sql, int nparams,
	    const char *const *params)
{
	if (PQsendQueryParams(conn, sql, nparams, NULL, params, NULL, NULL,
			      0) != 1)
		return NULL;
	return collect(conn);
}

PGresult *
store__prepare(PGconn *conn, const char *name, const char *sql, int nparams)
{
	if (PQsendPrepare(conn, name, sql, nparams, NULL) != 1)
		return NULL;
	return collect(conn);
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
	const struct conn_note *note = note_of(conn);
	char why[200];
	int code = ERR_DB;

	if (note->timed_out)
		return err_set(e, ERR_UNAVAIL,
			       "could not %s: no answer from the database "
			       "within %d ms",
			       what, note->timeout_ms);
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
store_check_session(struct db_pool *pool, struct err *e)
{
	PGconn *conn;
	int rc;

	if ((conn = store__acquire(pool, 2000, e)) == NULL)
		return store__acquire_failed(e);
	rc = store__check_session(pool, conn, e);
	store__release(pool, conn);
	return rc;
}

int
store_ping(struct db_pool *pool, struct err *e)
{
	PGresult *res = NULL;
	PGconn *conn;
	int rc = 0;

	if ((conn = store__acquire(pool, 2000, e)) == NULL)
		return store__acquire_failed(e);
	res = store__exec(conn, "SELECT 1", 0, NULL);
	if (!store__ok(res))
		rc = store__err(conn, res, "query the database", e);
	PQclear(res);
	store__release(pool, conn);
	return rc;
}

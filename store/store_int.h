/*
 * store_int.h: declarations shared by the files of store/ only.
 */
#ifndef VODHOOK_STORE_INT_H
#define VODHOOK_STORE_INT_H

#include "store/store.h"

#include <libpq-fe.h>

struct store_migration {
	int version;
	const char *name;
	const char *sha256; /* of the file, to detect an edited migration */
	const char *sql;
};

extern const struct store_migration store_migrations[];
extern const size_t store_nmigrations;

/*
 * Take a connection for this thread's exclusive use, opening it if needed;
 * waits up to wait_ms for one to be free. NULL with *e set (ERR_UNAVAIL)
 * when none can be had. The pool's timeout from now is its deadline
 * (store__set_deadline), and opening it counts. Give it back with
 * store__release.
 */
PGconn *store__acquire(struct db_pool *pool, int wait_ms, struct err *e);
/* The same for a call that must be over by deadline_ms (monotonic; 0:
 * no limit but the connect timeout). */
PGconn *store__acquire_by(struct db_pool *pool, int wait_ms,
			  int64_t deadline_ms, struct err *e);
/*
 * What a call returns when store__acquire gave it no connection (e as it
 * filled it): ERR_AUTH when the server refused the credentials, else
 * ERR_UNAVAIL.
 */
int store__acquire_failed(const struct err *e);
/*
 * Return a connection; a broken one or one left in a transaction is reset.
 * One that missed its deadline also closes the pool's idle connections and
 * starts a back-off.
 */
void store__release(struct db_pool *pool, PGconn *conn);
/*
 * The time (time_mono_ms) by which the server must have answered conn's
 * calls, 0 for none; past it store__flush and store__get shut the
 * connection down, and store__err says so.
 */
void store__set_deadline(PGconn *conn, int64_t deadline_ms);
/* The deadline of a call on pool's connections that starts now (0: the
 * pool has no timeout). */
int64_t store__deadline(const struct db_pool *pool);
/* Whether conn was shut down for missing its deadline. */
bool store__timed_out(const PGconn *conn);
/* PQflush until all is sent, waiting no longer than the deadline: 0, or -1
 * (the connection broke or was shut down). */
int store__flush(PGconn *conn);
/* PQgetResult, waiting for it no longer than the deadline. Only these two
 * wait on a pooled connection (libpq's blocking calls have no limit), but
 * for the migrations' PQexec, which may take as long as they need. */
PGresult *store__get(PGconn *conn);
/* True when the pool's connections were opened with generic plans. */
bool store__generic_plans(const struct db_pool *pool);

/*
 * 0 when conn keeps one server session across its transactions (a direct
 * connection, or a pooler in session mode); ERR_CONFLICT, e saying why,
 * when a pooler runs them in whichever session is free; ERR_UNAVAIL when
 * the check could not be made.
 */
int store__check_session(struct db_pool *pool, PGconn *conn, struct err *e);

/*
 * Turn a failed result into *e: ERR_UNAVAIL when the connection is gone,
 * ERR_CONFLICT for a unique violation, else ERR_DB; what says what failed.
 * Returns the code. res may be NULL.
 */
int store__err(PGconn *conn, const PGresult *res, const char *what,
	       struct err *e);

/* PQexecParams with text parameters (NULL ones are SQL NULLs), waiting no
 * longer than the deadline. */
PGresult *store__exec(PGconn *conn, const char *sql, int nparams,
		      const char *const *params);
/* PQprepare, waiting no longer than the deadline. */
PGresult *store__prepare(PGconn *conn, const char *name, const char *sql,
			 int nparams);
/* A copy of the value at (row, col), NULL for SQL NULL. Caller frees. */
char *store__dup_or_null(const PGresult *res, int row, int col);
/*
 * Run a claim statement whose parameters are (provider, older_than_s, max):
 * its rows, or NULL with *e set (ERR_UNAVAIL when the database is away);
 * what says what failed.
 */
PGresult *store__claim(struct db_pool *pool, const char *sql,
		       const char *provider, int64_t older_than_s, int max,
		       const char *what, struct err *e);
/* True when res is PGRES_COMMAND_OK or PGRES_TUPLES_OK. */
bool store__ok(const PGresult *res);

/*
 * The integer at (row, col) of res into *out: 0, or ERR_DB with *e naming
 * what (the column, say) when the value is NULL, not a number, or outside
 * [min, max].
 */
int store__int(const PGresult *res, int row, int col, int64_t min, int64_t max,
	       int64_t *out, const char *what, struct err *e) VH_MUST_CHECK;
/*
 * The rows res returned, or those its command changed, into *n: 0, or
 * ERR_DB with *e ("could not <what>: ...") when libpq's count is not a
 * number (a command that counts no rows).
 */
int store__count(PGresult *res, int *n, const char *what,
		 struct err *e) VH_MUST_CHECK;
/*
 * Check that s is an RFC 3339 date-time ("2026-01-02T03:04:05Z",
 * "2026-01-02T11:04:05.25+08:00") and write the same instant in UTC into
 * out, as "YYYY-MM-DDTHH:MM:SS[.fraction]Z" (at most nine digits of the
 * fraction, without trailing zeros).
 * 0; ERR_INPUT when s is not such a time or falls outside the years 1 to
 * 9999; ERR_LIMIT when out (n bytes) is too small. Pure.
 */
int store__time_utc(const char *s, char *out, size_t n) VH_MUST_CHECK;

#endif

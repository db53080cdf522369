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
 * when none can be had. Give it back with store__release.
 */
PGconn *store__acquire(struct db_pool *pool, int wait_ms, struct err *e);
/* Return a connection; a broken one or one left in a transaction is reset. */
void store__release(struct db_pool *pool, PGconn *conn);
/* True when the pool's connections were opened with generic plans. */
bool store__generic_plans(const struct db_pool *pool);

/*
 * Turn a failed result into *e: ERR_UNAVAIL when the connection is gone,
 * ERR_CONFLICT for a unique violation, else ERR_DB; what says what failed.
 * Returns the code. res may be NULL.
 */
int store__err(PGconn *conn, const PGresult *res, const char *what,
	       struct err *e);

/* PQexecParams with text parameters; NULL params are SQL NULLs. */
PGresult *store__exec(PGconn *conn, const char *sql, int nparams,
		      const char *const *params);
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

#endif

/*
 * migrate.c: the schema migration runner and the readiness check.
 *
 * Migrations are the files schema/NNN_name.sql, compiled into the binary
 * (cmake/embed_sql.cmake) so that a deployed vodhook always carries the
 * schema it needs. Each is applied in its own transaction and recorded in
 * schema_migrations with the file's SHA-256; a migration that was edited
 * after being applied is reported, never re-run.
 *
 * Interface: store_migrate, store_ready, store_schema_version.
 */
#include "store/store_int.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* pg_advisory_lock key: the ASCII bytes of "vodhook" as an integer. */
#define MIGRATE_LOCK "33336524291403627"

static const char SQL_LOCK[] = "SELECT pg_advisory_lock(" MIGRATE_LOCK ")";
static const char SQL_UNLOCK[] = "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")";
/* Created only when missing, and without CREATE TABLE IF NOT EXISTS: that
 * sends a NOTICE when the table exists, which libpq prints on stderr on
 * every run after the first. The migration lock is held, so the test and
 * the creation do not race. */
static const char SQL_CREATE[] =
    "DO $$BEGIN"
    " IF to_regclass('schema_migrations') IS NULL THEN"
    "  CREATE TABLE schema_migrations ("
    "   version integer PRIMARY KEY,"
    "   name text NOT NULL,"
    "   sha256 text NOT NULL,"
    "   applied_at timestamptz NOT NULL DEFAULT now());"
    " END IF;"
    "END$$";
static const char SQL_APPLIED[] =
    "SELECT version, sha256 FROM schema_migrations ORDER BY version";
static const char SQL_RECORD[] =
    "INSERT INTO schema_migrations (version, name, sha256)"
    " VALUES ($1, $2, $3)";
static const char SQL_CURRENT[] =
    "SELECT coalesce(max(version), 0) FROM schema_migrations";

int
store_schema_version(void)
{
	return store_nmigrations
		   ? store_migrations[store_nmigrations - 1].version
		   : 0;
}

static int
exec_simple(PGconn *conn, const char *sql, const char *what, struct err *e)
{
	PGresult *res = PQexec(conn, sql);
	int rc = store__ok(res) ? 0 : store__err(conn, res, what, e);

	PQclear(res);
	return rc;
}

/* Apply one migration in a transaction. */
static int
apply_one(PGconn *conn, const struct store_migration *m, struct err *e)
{
	char version[16], what[160];
	const char *params[3];
	PGresult *res = NULL;
	int rc;

	snprintf(what, sizeof(what), "apply migration \"%s\"", m->name);
	if ((rc = exec_simple(conn, "BEGIN", what, e)) != 0)
		return rc;
	/* PQexec runs the file's several statements; its text is ours, built
	 * into the binary, never input. */
	if ((rc = exec_simple(conn, m->sql, what, e)) != 0)
		goto out;
	snprintf(version, sizeof(version), "%d", m->version);
	params[0] = version;
	params[1] = m->name;
	params[2] = m->sha256;
	res = store__exec(conn, SQL_RECORD, 3, params);
	if (!store__ok(res)) {
		rc = store__err(conn, res, what, e);
		goto out;
	}
	rc = exec_simple(conn, "COMMIT", what, e);
out:
	PQclear(res);
	if (rc != 0)
		PQclear(PQexec(conn, "ROLLBACK"));
	return rc;
}

/*
 * Whether the rows of SQL_APPLIED in res record m, into *done; a recorded
 * file that differs from m is reported, never applied again.
 */
static int
find_applied(const PGresult *res, const struct store_migration *m, bool *done,
	     struct err *e)
{
	*done = false;
	for (int r = 0; r < PQntuples(res); r++) {
		int64_t v;

		if (store__int(res, r, 0, INT32_MIN, INT32_MAX, &v,
			       "schema_migrations.version", e) != 0)
			return ERR_DB;
		if (v != m->version)
			continue;
		*done = true;
		if (strcmp(PQgetvalue(res, r, 1), m->sha256) != 0)
			log_msg(
			    LOG_WARN, "store",
			    "migration \"%s\" differs from the one applied; "
			    "it is not applied again",
			    m->name);
	}
	return 0;
}

/*
 * Refuse a database that has a migration this binary does not know: the
 * schema has moved on (a newer vodhook migrated it), and this binary's
 * statements may no longer fit it.
 */
static int
check_not_newer(const PGresult *res, struct err *e)
{
	for (int r = 0; r < PQntuples(res); r++) {
		int64_t v;

		if (store__int(res, r, 0, INT32_MIN, INT32_MAX, &v,
			       "schema_migrations.version", e) != 0)
			return ERR_DB;
		if (v > store_schema_version())
			return err_set(e, ERR_CONFLICT,
				       "database has migration %lld, newer "
				       "than this binary knows (%d): run a "
				       "newer vodhook",
				       (long long)v, store_schema_version());
	}
	return 0;
}

int
store_migrate(struct db_pool *pool, int *applied, struct err *e)
{
	PGresult *res = NULL;
	bool locked = false;
	PGconn *conn;
	int rc, n = 0;

	if (applied != NULL)
		*applied = 0;
	if ((conn = store__acquire(pool, 10000, e)) == NULL)
		return store__acquire_failed(e);
	/* The lock is a session's: behind a pooler in transaction mode it
	 * would outlive this function, held by no one. */
	if ((rc = store__check_session(pool, conn, e)) != 0)
		goto out;
	/* Waiting for another instance's migrations, and DDL on a large
	 * table, take as long as they take. */
	store__set_deadline(conn, 0);
	if ((rc = exec_simple(conn, SQL_LOCK, "take the migration lock", e)) !=
	    0)
		goto out;
	locked = true;
	if ((rc = exec_simple(conn, SQL_CREATE, "create schema_migrations",
			      e)) != 0)
		goto out;
	res = PQexec(conn, SQL_APPLIED);
	if (!store__ok(res)) {
		rc = store__err(conn, res, "read schema_migrations", e);
		goto out;
	}
	if ((rc = check_not_newer(res, e)) != 0)
		goto out;
	for (size_t i = 0; i < store_nmigrations; i++) {
		const struct store_migration *m = &store_migrations[i];
		bool done;

		if ((rc = find_applied(res, m, &done, e)) != 0)
			goto out;
		if (done)
			continue;
		if ((rc = apply_one(conn, m, e)) != 0)
			goto out;
		log_msg(LOG_INFO, "store", "applied migration \"%s\"", m->name);
		n++;
	}
	if (applied != NULL)
		*applied = n;
out:
	PQclear(res);
	if (locked)
		PQclear(PQexec(conn, SQL_UNLOCK));
	store__release(pool, conn);
	return rc;
}

int
store_ready(struct db_pool *pool, struct err *e)
{
	PGresult *res = NULL;
	PGconn *conn;
	int64_t have;
	int rc = 0;

	if ((conn = store__acquire(pool, 1000, e)) == NULL)
		return store__acquire_failed(e);
	res = store__exec(conn, SQL_CURRENT, 0, NULL);
	if (!store__ok(res)) {
		struct err qe;

		rc = store__err(conn, res, "read schema_migrations", &qe);
		if (rc == ERR_DB)
			rc = err_set(e, ERR_CONFLICT,
				     "database is not migrated: %s", qe.msg);
		else
			err_set(e, rc, "%s", qe.msg);
		goto out;
	}
	if ((rc = store__int(res, 0, 0, INT32_MIN, INT32_MAX, &have,
			     "the schema version (schema_migrations)", e)) != 0)
		goto out;
	if (have < store_schema_version())
		rc = err_set(e, ERR_CONFLICT,
			     "database schema is at version %lld, this binary "
			     "needs %d: run \"vodhook migrate\"",
			     (long long)have, store_schema_version());
out:
	PQclear(res);
	store__release(pool, conn);
	return rc;
}

/*
 * values.c: checked conversions of the values exchanged with PostgreSQL
 * as text.
 *
 * A result's numbers are read with bounds: a value that is not a number,
 * or not in range (a column altered by hand, say), is an error that names
 * the value and where it came from, never a 0 taken for it.
 *
 * Interface (store/ only): store__int, store__count.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

int
store__int(const PGresult *res, int row, int col, int64_t min, int64_t max,
	   int64_t *out, const char *what, struct err *e)
{
	const char *s = PQgetvalue(res, row, col);

	if (PQgetisnull(res, row, col))
		return err_set(e, ERR_DB, "could not read %s: it is NULL",
			       what);
	if (parse_i64(s, min, max, out) != 0)
		return err_set(e, ERR_DB,
			       "could not read %s: \"%.64s\" is not an integer "
			       "from %lld to %lld",
			       what, s, (long long)min, (long long)max);
	return 0;
}

int
store__count(PGresult *res, int *n, const char *what, struct err *e)
{
	const char *s;
	int64_t v;

	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		*n = PQntuples(res);
		return 0;
	}
	s = PQcmdTuples(res);
	if (parse_i64(s, 0, INT32_MAX, &v) != 0)
		return err_set(e, ERR_DB,
			       "could not %s: the count of rows changed, "
			       "\"%.64s\", is not a number",
			       what, s);
	*n = (int)v;
	return 0;
}

/*
 * values.c: checked conversions of the values exchanged with PostgreSQL
 * as text.
 *
 * A result's numbers are read with bounds: a value that is not a number,
 * or not in range (a column altered by hand, say), is an error that names
 * the value and where it came from, never a 0 taken for it. A time given
 * by a client is checked here, before it reaches a query, so that the
 * client is told what is expected rather than PostgreSQL's own message,
 * and is sent on as the same instant in UTC, a form PostgreSQL always
 * reads.
 *
 * Interface (store/ only): store__int, store__count, store__time_utc.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

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

/*
 * RFC 3339 as time_parse_rfc3339 reads it; the instant must fall in the
 * years 1 to 9999 in UTC too, since PostgreSQL has no year zero.
 */
int
store__time_utc(const char *s, char *out, size_t n)
{
	/* Room for any int, so that the compiler can prove nothing is cut. */
	char frac[16] = "";
	int32_t ns;
	struct tm tm;
	int64_t t;
	time_t tt;
	int len;

	if (time_parse_rfc3339(s, &t, &ns) != 0)
		return ERR_INPUT;
	tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL || tm.tm_year + 1900 < 1 ||
	    tm.tm_year + 1900 > 9999)
		return ERR_INPUT;
	if (ns > 0) {
		/* ".25", not ".250000000" */
		snprintf(frac, sizeof(frac), ".%09d", (int)ns);
		for (len = (int)strlen(frac); frac[len - 1] == '0'; len--)
			frac[len - 1] = '\0';
	}
	len = snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d%sZ",
		       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		       tm.tm_min, tm.tm_sec, frac);
	if (len < 0 || (size_t)len >= n)
		return ERR_LIMIT;
	return 0;
}

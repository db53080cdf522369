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

/* n decimal digits at s, or -1. */
static int
digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int
days_in_month(int y, int m)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : mdays[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/*
 * RFC 3339 section 5.6: full-date "T" full-time, where the T may be a t or,
 * as its note allows, a space; time-secfrac has one digit or more; the
 * offset is Z, z or +hh:mm / -hh:mm. Year 0000 is refused: PostgreSQL
 * has no year zero.
 */
int
store__time_utc(const char *s, char *out, size_t n)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0;
	const char *frac = "", *p;
	size_t nfrac = 0;
	struct tm tm;
	int64_t t;
	time_t tt;
	int len;

	if (strlen(s) < 20)
		return ERR_INPUT;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (y < 1 || s[4] != '-' || mo < 1 || mo > 12 || s[7] != '-' || d < 1 ||
	    d > days_in_month(y, mo) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || h < 0 || h > 23 ||
	    s[13] != ':' || mi < 0 || mi > 59 || s[16] != ':' || sec < 0 ||
	    sec > 60)
		return ERR_INPUT;
	p = s + 19;
	if (*p == '.') {
		frac = ++p;
		nfrac = strspn(p, "0123456789");
		if (nfrac == 0)
			return ERR_INPUT;
		p += nfrac;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		if (strlen(p) != 6 || p[3] != ':')
			return ERR_INPUT;
		oh = digits(p + 1, 2);
		om = digits(p + 4, 2);
		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return ERR_INPUT;
		if (*p == '-') {
			oh = -oh;
			om = -om;
		}
		p += 6;
	} else {
		return ERR_INPUT;
	}
	if (*p != '\0')
		return ERR_INPUT;
	/* A leap second (:60) becomes the next minute's first, as it does
	 * in PostgreSQL. */
	t = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 +
	    (int64_t)mi * 60 + sec - (int64_t)oh * 3600 - (int64_t)om * 60;
	tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL || tm.tm_year + 1900 < 1 ||
	    tm.tm_year + 1900 > 9999)
		return ERR_INPUT;
	len =
	    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d%s%.*sZ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, nfrac ? "." : "", (int)nfrac, frac);
	if (len < 0 || (size_t)len >= n)
		return ERR_LIMIT;
	return 0;
}

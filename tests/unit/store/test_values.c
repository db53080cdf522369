/*
 * test_values.c: store/values.c's checked conversions: numbers read from
 * a result (one that is not a number is an error that names it, never a
 * 0), and the RFC 3339 check of a client's time filter.
 */
#include "store/store_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

/* A one-column result whose rows hold values (NULL: SQL NULL). */
static PGresult *
result_of(const char *const *values, int n)
{
	PGresAttDesc col = {.name = (char *)(uintptr_t) "v",
			    .typid = 25,
			    .typlen = -1,
			    .atttypmod = -1};
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);

	assert_non_null(res);
	assert_int_equal(PQsetResultAttrs(res, 1, &col), 1);
	for (int i = 0; i < n; i++)
		assert_int_equal(
		    PQsetvalue(res, i, 0, (char *)(uintptr_t)values[i],
			       values[i] ? (int)strlen(values[i]) : -1),
		    1);
	return res;
}

static void
test_int_reads_numbers_in_range(void **state)
{
	static const char *const v[] = {"42", "-1", "9223372036854775807"};
	PGresult *res = result_of(v, 3);
	struct err e;
	int64_t x = 0;

	(void)state;
	assert_int_equal(store__int(res, 0, 0, 0, 100, &x, "t.c", &e), 0);
	assert_int_equal(x, 42);
	assert_int_equal(store__int(res, 1, 0, -1, 0, &x, "t.c", &e), 0);
	assert_int_equal(x, -1);
	assert_int_equal(
	    store__int(res, 2, 0, INT64_MIN, INT64_MAX, &x, "t.c", &e), 0);
	assert_true(x == INT64_MAX);
	PQclear(res);
}

static void
test_int_refuses_what_is_not_a_number(void **state)
{
	static const char *const v[] = {"x", "12abc", "", " 7", "101", NULL};
	PGresult *res = result_of(v, 6);
	struct err e;
	int64_t x = -5;

	(void)state;
	for (int r = 0; r < 5; r++) {
		err_clear(&e);
		assert_int_equal(store__int(res, r, 0, 0, 100, &x,
					    "schema_migrations.version", &e),
				 ERR_DB);
		assert_int_equal(e.code, ERR_DB);
		assert_non_null(strstr(e.msg, "could not read "
					      "schema_migrations.version: \""));
		assert_non_null(strstr(e.msg, v[r]));
		assert_non_null(
		    strstr(e.msg, "is not an integer from 0 to 100"));
	}
	assert_int_equal(store__int(res, 5, 0, 0, 100, &x, "t.c", &e), ERR_DB);
	assert_string_equal(e.msg, "could not read t.c: it is NULL");
	assert_int_equal(x, -5); /* untouched */
	PQclear(res);
}

static void
test_count_of_rows(void **state)
{
	static const char *const v[] = {"a", "b"};
	PGresult *res = result_of(v, 2);
	struct err e;
	int n = -1;

	(void)state;
	assert_int_equal(store__count(res, &n, "list", &e), 0);
	assert_int_equal(n, 2);
	PQclear(res);
	/* A command result made here carries no count ("") */
	res = PQmakeEmptyPGresult(NULL, PGRES_COMMAND_OK);
	assert_int_equal(store__count(res, &n, "update upload", &e), ERR_DB);
	assert_non_null(strstr(e.msg, "could not update upload: the count"));
	PQclear(res);
}

static void
expect_utc(const char *in, const char *want)
{
	char out[80];

	if (store__time_utc(in, out, sizeof(out)) != 0)
		fail_msg("refused \"%s\"", in);
	if (strcmp(out, want) != 0)
		fail_msg("\"%s\" gave \"%s\", not \"%s\"", in, out, want);
}

static void
test_time_accepts_rfc3339_and_gives_utc(void **state)
{
	(void)state;
	expect_utc("2026-01-02T03:04:05Z", "2026-01-02T03:04:05Z");
	expect_utc("2026-01-02t03:04:05z", "2026-01-02T03:04:05Z");
	expect_utc("2026-01-02 03:04:05Z", "2026-01-02T03:04:05Z");
	expect_utc("2026-01-02T11:04:05.25+08:00", "2026-01-02T03:04:05.25Z");
	expect_utc("2026-01-01T22:00:00-05:30", "2026-01-02T03:30:00Z");
	/* offsets past PostgreSQL's own limit (15:59) are valid RFC 3339 */
	expect_utc("2026-01-02T23:00:00+23:59", "2026-01-01T23:01:00Z");
	expect_utc("2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z");
	expect_utc("2016-12-31T23:59:60Z", "2017-01-01T00:00:00Z");
	expect_utc("2026-01-02T03:04:05.123456789012Z",
		   "2026-01-02T03:04:05.123456789Z");
	expect_utc("2026-01-02T03:04:05.000Z", "2026-01-02T03:04:05Z");
	expect_utc("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z");
	expect_utc("9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z");
}

static void
test_time_refuses_anything_else(void **state)
{
	static const char *const bad[] = {
	    "",
	    "notadate",
	    "yesterday",
	    "now",
	    "2026-01-02",
	    "2026-01-02T03:04:05",	 /* no offset */
	    "2026-01-02T03:04Z",	 /* no seconds */
	    "2026-01-02T03:04:05+08",	 /* offset without minutes */
	    "2026-01-02T03:04:05+0800",	 /* offset without colon */
	    "2026-01-02T03:04:05+08:0",	 /* short offset */
	    "2026-01-02T03:04:05+24:00", /* offset hour */
	    "2026-01-02T03:04:05.Z",	 /* empty fraction */
	    "2026-01-02T03:04:05Zjunk",
	    "2026-13-02T03:04:05Z",
	    "2026-00-02T03:04:05Z",
	    "2026-02-29T03:04:05Z", /* not a leap year */
	    "1900-02-29T03:04:05Z", /* nor this */
	    "2026-04-31T03:04:05Z",
	    "2026-01-00T03:04:05Z",
	    "2026-01-02T24:00:00Z",
	    "2026-01-02T03:60:05Z",
	    "2026-01-02T03:04:61Z",
	    "2026-01-02X03:04:05Z",
	    "0000-01-01T00:00:00Z",	 /* PostgreSQL has no year 0 */
	    "0001-01-01T00:00:00+01:00", /* in UTC, year 0 */
	    "9999-12-31T23:59:59-01:00", /* in UTC, year 10000 */
	    "+2026-01-02T03:04:05Z",
	    "2026-1-02T03:04:05Z",
	};
	char out[80];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (store__time_utc(bad[i], out, sizeof(out)) != ERR_INPUT)
			fail_msg("accepted \"%s\"", bad[i]);
	assert_int_equal(store__time_utc("2026-01-02T03:04:05.123Z", out, 20),
			 ERR_LIMIT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_int_reads_numbers_in_range),
	    cmocka_unit_test(test_int_refuses_what_is_not_a_number),
	    cmocka_unit_test(test_count_of_rows),
	    cmocka_unit_test(test_time_accepts_rfc3339_and_gives_utc),
	    cmocka_unit_test(test_time_refuses_anything_else),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_values.c: store/values.c's checked conversions: numbers read from
 * a result (one that is not a number is an error that names it, never a
 * 0).
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_int_reads_numbers_in_range),
	    cmocka_unit_test(test_int_refuses_what_is_not_a_number),
	    cmocka_unit_test(test_count_of_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

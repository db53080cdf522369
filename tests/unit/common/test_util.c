/*
 * test_util.c: common/util.c's UTF-8 validation, which guards every raw
 * callback body before it reaches PostgreSQL and every text field of an
 * upload request.
 */
#include "common/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#define U8(s) utf8_chars((s), sizeof(s) - 1)

static void
test_utf8_counts_code_points(void **state)
{
	(void)state;
	assert_int_equal(U8(""), 0);
	assert_int_equal(U8("abc"), 3);
	assert_int_equal(U8("caf\xc3\xa9"), 4);		     /* é */
	assert_int_equal(U8("\xe8\xa7\x86\xe9\xa2\x91"), 2); /* 视频 */
	assert_int_equal(U8("\xf0\x9f\x8e\xac!"), 2);	     /* U+1F3AC */
	assert_int_equal(U8("\xf4\x8f\xbf\xbf"), 1);	     /* U+10FFFF */
	assert_int_equal(U8("\xef\xbf\xbf"), 1);	     /* U+FFFF */
}

static void
test_utf8_refuses_malformed(void **state)
{
	(void)state;
	assert_int_equal(U8("a\0b"), -1);	      /* NUL */
	assert_int_equal(U8("\xc0\x80"), -1);	      /* overlong NUL */
	assert_int_equal(U8("\xc1\xbf"), -1);	      /* overlong */
	assert_int_equal(U8("\xe0\x80\xaf"), -1);     /* overlong '/' */
	assert_int_equal(U8("\xf0\x80\x80\xaf"), -1); /* overlong */
	assert_int_equal(U8("\xed\xa0\x80"), -1);     /* surrogate */
	assert_int_equal(U8("\xf4\x90\x80\x80"), -1); /* > U+10FFFF */
	assert_int_equal(U8("\xf5\x80\x80\x80"), -1); /* bad lead */
	assert_int_equal(U8("\x80"), -1);	      /* lone continuation */
	assert_int_equal(U8("\xc3"), -1);	      /* truncated */
	assert_int_equal(U8("\xe8\xa7"), -1);	      /* truncated */
	assert_int_equal(U8("\xc3\x28"), -1);	      /* bad continuation */
	/* only len bytes are read: a valid prefix of a longer buffer */
	assert_int_equal(utf8_chars("ab\xff", 2), 2);
}

/* time_parse_rfc3339: the forms the platforms and clients send, and what
 * it refuses. The seconds are checked against known instants. */
static void
test_time_parse_rfc3339(void **state)
{
	static const char *const bad[] = {
	    "2020-07-29T15:20:31",	/* no offset */
	    "2020-07-29T15:20:31Zx",	/* trailing bytes */
	    "2020-13-29T15:20:31Z",	/* month */
	    "2021-02-29T00:00:00Z",	/* not a leap year */
	    "2020-07-29T24:00:00Z",	/* hour */
	    "2020-07-29T15:20:31.Z",	/* empty fraction */
	    "2020-07-29T15:20:31+0800", /* offset without colon */
	    "0000-01-01T00:00:00Z",	/* no year zero */
	    "3600",
	    "",
	};
	int64_t t = 0;
	int32_t ns = -1;

	(void)state;
	assert_int_equal(time_parse_rfc3339("2020-07-29T15:20:31Z", &t, &ns),
			 0);
	assert_int_equal(t, 1596036031);
	assert_int_equal(ns, 0);
	assert_int_equal(
	    time_parse_rfc3339("2020-07-29T15:20:31.123Z", &t, &ns), 0);
	assert_int_equal(t, 1596036031);
	assert_int_equal(ns, 123000000);
	assert_int_equal(
	    time_parse_rfc3339("2020-07-29T15:20:31.1234567891Z", &t, &ns), 0);
	assert_int_equal(ns, 123456789);
	assert_int_equal(
	    time_parse_rfc3339("2020-07-29T23:20:31+08:00", &t, NULL), 0);
	assert_int_equal(t, 1596036031);
	assert_int_equal(
	    time_parse_rfc3339("2020-07-29T10:50:31-04:30", &t, NULL), 0);
	assert_int_equal(t, 1596036031);
	assert_int_equal(time_parse_rfc3339("2020-07-29 15:20:31z", &t, NULL),
			 0);
	assert_int_equal(t, 1596036031);
	assert_int_equal(time_parse_rfc3339("2000-02-29T00:00:00Z", &t, NULL),
			 0);
	assert_int_equal(t, 951782400);
	assert_int_equal(time_parse_rfc3339("2016-12-31T23:59:60Z", &t, NULL),
			 0);
	assert_int_equal(t, 1483228800);
	assert_int_equal(time_parse_rfc3339(NULL, &t, NULL), ERR_INPUT);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (time_parse_rfc3339(bad[i], &t, NULL) != ERR_INPUT)
			fail_msg("accepted \"%s\"", bad[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_utf8_counts_code_points),
	    cmocka_unit_test(test_utf8_refuses_malformed),
	    cmocka_unit_test(test_time_parse_rfc3339),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_utf8_counts_code_points),
	    cmocka_unit_test(test_utf8_refuses_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

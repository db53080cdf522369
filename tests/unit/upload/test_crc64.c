/*
 * test_crc64.c: upload/crc64.c. The CRC is the stores' crc64ecma
 * (CRC-64/XZ), checked against its catalogued check value and a bitwise
 * implementation of its definition; combining the CRCs of two pieces must
 * give the CRC of the two joined, wherever the cut, so that an object sent
 * in parts out of order can be checked whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "upload/upload_int.h"

/* The definition, bit by bit: reflected ECMA-182, init and xorout ~0. */
static uint64_t
crc_by_bits(const unsigned char *p, size_t n)
{
	uint64_t c = ~UINT64_C(0);

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ UINT64_C(0xC96C5795D7870F42)
				  : c >> 1;
	}
	return ~c;
}

static void
test_check_value(void **state)
{
	const char *s = "123456789";

	(void)state;
	assert_true(upload__crc64(0, s, 9) == UINT64_C(0x995DC9BBDF1939FA));
	assert_true(crc_by_bits((const unsigned char *)s, 9) ==
		    UINT64_C(0x995DC9BBDF1939FA));
	/* Continued over two calls, as curl hands the body over. */
	assert_true(upload__crc64(upload__crc64(0, s, 4), s + 4, 5) ==
		    UINT64_C(0x995DC9BBDF1939FA));
	assert_true(upload__crc64(0, "", 0) == 0);
}

static void
test_combine(void **state)
{
	enum { N = 300000 };
	unsigned char *buf = malloc(N);
	uint64_t whole;
	const size_t cuts[] = {0, 1, 7, 8, 9, 1000, 65536, 131073, N - 1, N};

	(void)state;
	srand(7);
	for (size_t i = 0; i < N; i++)
		buf[i] = (unsigned char)rand();
	whole = upload__crc64(0, buf, N);
	assert_true(whole == crc_by_bits(buf, N));
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		size_t c = cuts[i];
		uint64_t a = upload__crc64(0, buf, c);
		uint64_t b = upload__crc64(0, buf + c, N - c);

		assert_true(upload__crc64_combine(a, b, (int64_t)(N - c)) ==
			    whole);
	}
	/* Many pieces folded from an empty start, as transfer.c does. */
	{
		uint64_t f = 0;

		for (size_t off = 0; off < N; off += 4099) {
			size_t len = N - off < 4099 ? N - off : 4099;

			f = upload__crc64_combine(
			    f, upload__crc64(0, buf + off, len), (int64_t)len);
		}
		assert_true(f == whole);
	}
	/* A changed byte changes it. */
	buf[N / 2] ^= 1;
	assert_true(upload__crc64(0, buf, N) != whole);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check_value),
	    cmocka_unit_test(test_combine),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * crc64.c: the CRC-64 that COS and OSS report for what they stored
 * (x-cos-hash-crc64ecma, x-oss-hash-crc64ecma).
 *
 * Their "CRC-64/ECMA" is the reflected ECMA-182 polynomial with all-ones
 * initial value and final xor, the check that xz uses (CRC-64/XZ; check
 * value 0x995DC9BBDF1939FA for "123456789"): liblzma's lzma_crc64 computes
 * it, fast enough to run on every body as curl reads it.
 *
 * Parts are read in parallel, out of order, so the whole object's CRC is
 * combined from the parts' (crc64_combine), which liblzma does not offer:
 * that is the one function written here, after zlib's crc32_combine (the
 * multiplication in GF(2) modulo the polynomial, and x^(2^k) by squaring).
 *
 * Interface: upload__crc64, upload__crc64_combine.
 */
#include "upload/upload_int.h"

#include <lzma.h>

/* The polynomial, reflected: bit 63 is x^0. */
#define POLY UINT64_C(0xC96C5795D7870F42)

uint64_t
upload__crc64(uint64_t crc, const void *p, size_t n)
{
	return lzma_crc64(p, n, crc);
}

/* a * b modulo the polynomial, both reflected. */
static uint64_t
multmodp(uint64_t a, uint64_t b)
{
	uint64_t m = UINT64_C(1) << 63, p = 0;

	for (;;) {
		if (a & m) {
			p ^= b;
			if ((a & (m - 1)) == 0)
				break;
		}
		m >>= 1;
		b = b & 1 ? (b >> 1) ^ POLY : b >> 1;
	}
	return p;
}

/* x^(n * 2^k) modulo the polynomial. */
static uint64_t
x2nmodp(uint64_t n, unsigned k)
{
	uint64_t p = UINT64_C(1) << 63;	 /* x^0 */
	uint64_t sq = UINT64_C(1) << 62; /* x^(2^0) = x^1 */

	/* sq = x^(2^k) */
	for (unsigned i = 0; i < k; i++)
		sq = multmodp(sq, sq);
	while (n) {
		if (n & 1)
			p = multmodp(sq, p);
		n >>= 1;
		sq = multmodp(sq, sq);
	}
	return p;
}

uint64_t
upload__crc64_combine(uint64_t crc1, uint64_t crc2, int64_t len2)
{
	if (len2 <= 0)
		return crc1;
	/* Shift crc1 over len2 bytes (8 * len2 bits = len2 * 2^3). */
	return multmodp(x2nmodp((uint64_t)len2, 3), crc1) ^ crc2;
}

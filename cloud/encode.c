/*
 * encode.c: the encodings the signatures need: base64, strict RFC 3986
 * percent-encoding, and UTC time formatting and parsing. Pure functions: no
 * I/O and no clock (the caller passes the time).
 *
 * Interface: cloud_base64_encode, cloud_base64_decode, cloud_uri_encode,
 * cloud_time_rfc1123, cloud_time_iso8601, cloud_time_iso8601_basic,
 * cloud_time_date. (Parsing is common's time_parse_rfc3339.)
 */
#include "cloud/cloud_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

/* ================================================================ base64 */

int
cloud_base64_encode(const void *p, size_t n, struct buf *out)
{
	char *tmp;
	int len, rc;

	if (n > (size_t)INT32_MAX / 4 * 3 - 3)
		return ERR_LIMIT;
	tmp = xmalloc(4 * ((n + 2) / 3) + 1);
	len = EVP_EncodeBlock((unsigned char *)tmp, p, (int)n);
	rc = buf_append(out, tmp, (size_t)len);
	free(tmp);
	return rc;
}

static bool
is_b64(unsigned char c)
{
	return isalnum(c) || c == '+' || c == '/';
}

int
cloud_base64_decode(const char *s, size_t n, struct buf *out, struct err *e)
{
	char *in = NULL;
	unsigned char *dec = NULL;
	size_t body = n, pad = 0, inlen;
	int dlen, rc;

	/* Up to two '=' at the end; everything before must be alphabet. */
	while (body > 0 && s[body - 1] == '=' && n - body < 2)
		body--;
	for (size_t i = 0; i < body; i++)
		if (!is_b64((unsigned char)s[i]))
			return err_set(e, ERR_INPUT,
				       "invalid base64: bad character at %zu",
				       i);
	if (body % 4 == 1 || body > (size_t)INT32_MAX / 2)
		return err_set(e, ERR_INPUT, "invalid base64: bad length");
	if (n != body && (body + (n - body)) % 4 != 0)
		return err_set(e, ERR_INPUT, "invalid base64: bad padding");
	/* EVP_DecodeBlock wants whole quads: restore any missing padding. */
	pad = (4 - body % 4) % 4;
	inlen = body + pad;
	in = xmalloc(inlen + 1);
	memcpy(in, s, body);
	memset(in + body, '=', pad);
	in[inlen] = '\0';
	dec = xmalloc(inlen / 4 * 3 + 1);
	dlen = EVP_DecodeBlock(dec, (unsigned char *)in, (int)inlen);
	if (dlen < 0 || (size_t)dlen < pad) {
		rc = err_set(e, ERR_INPUT, "invalid base64");
		goto out;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	if ((rc = buf_append(out, dec, (size_t)dlen - pad)) != 0)
		err_set(e, rc, "decoded base64 too large");
out:
	free(in);
	free(dec);
	return rc;
}

/* ================================================================ encoding */

static bool
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '~';
}

int
cloud_uri_encode(struct buf *out, const char *s, size_t n, bool keep_slash)
{
	static const char hexd[] = "0123456789ABCDEF";
	size_t i = 0;
	int rc;

	while (i < n) {
		size_t j = i;

		while (j < n && (unreserved((unsigned char)s[j]) ||
				 (keep_slash && s[j] == '/')))
			j++;
		if (j > i && (rc = buf_append(out, s + i, j - i)) != 0)
			return rc;
		if (j < n) {
			unsigned char c = (unsigned char)s[j];
			char pct[3] = {'%', hexd[c >> 4], hexd[c & 15]};

			if ((rc = buf_append(out, pct, 3)) != 0)
				return rc;
			j++;
		}
		i = j;
	}
	return 0;
}

/* ================================================================ time */

static int
utc(int64_t t, struct tm *tm)
{
	time_t tt = (time_t)t;

	if (t < 0 || t > 253402300799 /* 9999-12-31 */ ||
	    gmtime_r(&tt, tm) == NULL)
		return ERR_INPUT;
	return 0;
}

/* Write v as exactly n decimal digits (v is in range by construction). */
static char *
put_digits(char *p, int v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

static char *
put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

int
cloud_time_rfc1123(int64_t t, char out[30])
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed",
					   "Thu", "Fri", "Sat"};
	static const char *const mons[] = {"Jan", "Feb", "Mar", "Apr",
					   "May", "Jun", "Jul", "Aug",
					   "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	char *p = out;

	/* Not strftime: %a and %b depend on the locale. */
	if (utc(t, &tm) != 0)
		return ERR_INPUT;
	p = put_str(p, days[tm.tm_wday]);
	p = put_str(p, ", ");
	p = put_digits(p, tm.tm_mday, 2);
	*p++ = ' ';
	p = put_str(p, mons[tm.tm_mon]);
	*p++ = ' ';
	p = put_digits(p, tm.tm_year + 1900, 4);
	*p++ = ' ';
	p = put_digits(p, tm.tm_hour, 2);
	*p++ = ':';
	p = put_digits(p, tm.tm_min, 2);
	*p++ = ':';
	p = put_digits(p, tm.tm_sec, 2);
	p = put_str(p, " GMT");
	*p = '\0';
	return 0;
}

/* "YYYY<ds>MM<ds>DD" then, when tsep, "<T>hh<ts>mm<ts>ssZ". */
static int
put_iso(int64_t t, char *p, const char *ds, const char *ts, bool time_too)
{
	struct tm tm;

	if (utc(t, &tm) != 0)
		return ERR_INPUT;
	p = put_digits(p, tm.tm_year + 1900, 4);
	p = put_str(p, ds);
	p = put_digits(p, tm.tm_mon + 1, 2);
	p = put_str(p, ds);
	p = put_digits(p, tm.tm_mday, 2);
	if (time_too) {
		*p++ = 'T';
		p = put_digits(p, tm.tm_hour, 2);
		p = put_str(p, ts);
		p = put_digits(p, tm.tm_min, 2);
		p = put_str(p, ts);
		p = put_digits(p, tm.tm_sec, 2);
		*p++ = 'Z';
	}
	*p = '\0';
	return 0;
}

int
cloud_time_iso8601(int64_t t, char out[21])
{
	return put_iso(t, out, "-", ":", true);
}

int
cloud_time_iso8601_basic(int64_t t, char out[17])
{
	return put_iso(t, out, "", "", true);
}

int
cloud_time_date(int64_t t, char out[11])
{
	return put_iso(t, out, "-", "", false);
}

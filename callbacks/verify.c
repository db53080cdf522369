/*
 * verify.c: authentication of incoming VOD callbacks. Pure functions: the
 * caller passes the clock and the settings; nothing here does I/O or keeps
 * state.
 *
 *   Tencent   Sign == md5hex(SignKey + T), T an expiry time (Unix seconds),
 *             Sign/T as top-level body members or query parameters.
 *   Alibaba   X-VOD-SIGNATURE == md5hex(URL|X-VOD-TIMESTAMP|key), the
 *             timestamp within a window of now; an old key may also pass.
 *
 * Neither signature covers the body: they prove knowledge of the key and
 * freshness only. Digests are compared in constant time and ignoring case.
 * Error messages never contain a key or an expected signature.
 *
 * Interface: cb_verify_tencent_doc, cb_verify_tencent, cb_verify_alibaba.
 */
#include "callbacks/callbacks.h"
#include "common/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Longest key + T or URL|ts|key we are willing to hash. */
#define VERIFY_INPUT_MAX 16384

static bool
is_hex32(const char *s)
{
	size_t n = strlen(s);

	if (n != 32)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		      (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

/* Member name or its lowercase spelling alt; NULL when absent or null. */
static const cJSON *
member(const cJSON *doc, const char *name, const char *alt)
{
	const cJSON *it = json_get(doc, name);

	return it != NULL ? it : json_get(doc, alt);
}

/*
 * T as the decimal text that is hashed, into out. A string is used exactly
 * as sent; a JSON number is printed back in decimal, which is the text sent
 * for any integer written without exponent or fraction (cJSON keeps only the
 * value).
 */
static int
tencent_t_text(const cJSON *t, const char *query_t, char *out, size_t outsz,
	       int64_t *value, struct err *e)
{
	const char *s = NULL;

	if (t != NULL && cJSON_IsNumber(t)) {
		double d = t->valuedouble;

		if (d <= 0 || !json_exact_int(d))
			return err_set(e, ERR_INPUT,
				       "invalid T: not a positive integer");
		snprintf(out, outsz, "%" PRId64, (int64_t)d);
		*value = (int64_t)d;
		return 0;
	}
	if (t != NULL && !cJSON_IsString(t))
		return err_set(e, ERR_INPUT,
			       "invalid T: neither a number nor a string");
	s = t != NULL ? t->valuestring : query_t;
	if (s == NULL || s[0] == '\0')
		return err_set(e, ERR_AUTH, "missing T");
	if (strlen(s) >= outsz || parse_i64(s, 1, INT64_MAX, value) != 0)
		return err_set(e, ERR_INPUT,
			       "invalid T: not a positive decimal integer");
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

int
cb_verify_tencent_doc(const cJSON *doc, const char *query_sign,
		      const char *query_t, const char *sign_key, int64_t now,
		      struct err *e)
{
	const cJSON *sign_it, *t_it;
	const char *sign;
	char t_text[24], expect[33];
	int64_t t = 0;
	struct buf b;
	bool ok;
	int rc;

	if (sign_key == NULL || sign_key[0] == '\0')
		return 0;
	sign_it = member(doc, "Sign", "sign");
	t_it = member(doc, "T", "t");
	if (sign_it != NULL && !cJSON_IsString(sign_it))
		return err_set(e, ERR_INPUT, "invalid Sign: not a string");
	sign = sign_it != NULL ? sign_it->valuestring : query_sign;
	if (sign == NULL || sign[0] == '\0')
		return err_set(e, ERR_AUTH, "missing Sign");
	if ((rc = tencent_t_text(t_it, query_t, t_text, sizeof(t_text), &t,
				 e)) != 0)
		return rc;
	if (!is_hex32(sign))
		return err_set(e, ERR_INPUT,
			       "invalid Sign: not 32 hexadecimal digits");

	buf_init(&b, VERIFY_INPUT_MAX);
	if (buf_puts(&b, sign_key) != 0 || buf_puts(&b, t_text) != 0)
		return err_set(e, ERR_INPUT, "sign key too long");
	md5_hex(buf_cstr(&b), b.len, expect);
	buf_free(&b);
	ok = ct_equal_nocase(sign, strlen(sign), expect, 32);
	if (!ok)
		return err_set(e, ERR_AUTH, "signature mismatch");
	if (t < now - CB_TENCENT_T_GRACE_S)
		return err_set(e, ERR_AUTH,
			       "expired T: %" PRId64 " is %" PRId64
			       " s in the past",
			       t, now - t);
	return 0;
}

int
cb_verify_tencent(const char *body, size_t len, const char *query_sign,
		  const char *query_t, const char *sign_key, int64_t now,
		  struct err *e)
{
	cJSON *doc = NULL;
	int rc;

	if (sign_key == NULL || sign_key[0] == '\0')
		return 0;
	if (body != NULL && len > 0)
		doc = json_parse(body, len);
	rc = cb_verify_tencent_doc(doc, query_sign, query_t, sign_key, now, e);
	cJSON_Delete(doc);
	return rc;
}

/* md5hex(url|ts|key) into out[33]; ERR_INPUT when too long. */
static int
alibaba_digest(const char *url, const char *ts, const char *key, char out[33])
{
	struct buf b;
	int rc;

	buf_init(&b, VERIFY_INPUT_MAX);
	if ((rc = buf_printf(&b, "%s|%s|%s", url, ts, key)) != 0)
		return rc;
	md5_hex(buf_cstr(&b), b.len, out);
	buf_free(&b);
	return 0;
}

int
cb_verify_alibaba(const char *url, const char *timestamp_hdr,
		  const char *signature_hdr, const char *key,
		  const char *key_old, int64_t now, int64_t window_s,
		  struct err *e)
{
	char expect[33], expect_old[33];
	int64_t ts, diff;
	bool ok, ok_old;

	if (key == NULL || key[0] == '\0')
		return 0;
	if (url == NULL || url[0] == '\0')
		return err_set(e, ERR_INPUT, "no callback URL to verify with");
	if (window_s < 0 || now < 0)
		return err_set(e, ERR_INPUT,
			       "invalid verification window or clock");
	if (signature_hdr == NULL || signature_hdr[0] == '\0')
		return err_set(e, ERR_AUTH, "missing X-VOD-SIGNATURE header");
	if (timestamp_hdr == NULL || timestamp_hdr[0] == '\0')
		return err_set(e, ERR_AUTH, "missing X-VOD-TIMESTAMP header");
	if (strlen(timestamp_hdr) != 10 ||
	    parse_i64(timestamp_hdr, 1, 9999999999, &ts) != 0)
		return err_set(e, ERR_INPUT,
			       "malformed X-VOD-TIMESTAMP header: expected a "
			       "10-digit Unix time");
	if (!is_hex32(signature_hdr))
		return err_set(e, ERR_INPUT,
			       "malformed X-VOD-SIGNATURE header: expected 32 "
			       "hexadecimal digits");
	diff = now > ts ? now - ts : ts - now;
	if (diff > window_s)
		return err_set(e, ERR_AUTH,
			       "stale timestamp: %" PRId64
			       " s outside the %" PRId64 " s window",
			       diff, window_s);
	if (alibaba_digest(url, timestamp_hdr, key, expect) != 0)
		return err_set(e, ERR_INPUT, "callback URL or key too long");
	/* Compute both candidates whatever the first gives. */
	if (key_old != NULL && key_old[0] != '\0') {
		if (alibaba_digest(url, timestamp_hdr, key_old, expect_old) !=
		    0)
			return err_set(e, ERR_INPUT,
				       "callback URL or old key too long");
	} else {
		memcpy(expect_old, expect, sizeof(expect));
	}
	ok = ct_equal_nocase(signature_hdr, 32, expect, 32);
	ok_old = ct_equal_nocase(signature_hdr, 32, expect_old, 32);
	if (!ok && !ok_old)
		return err_set(e, ERR_AUTH, "signature mismatch");
	return 0;
}

/*
 * sign.c: TC3-HMAC-SHA256, COS q-sign, Alibaba RPC HMAC-SHA1, OSS V1/V4,
 * and the helpers they share (digests, HMAC, base64, RFC 3986 encoding, time
 * formatting). Everything here is pure: no I/O and no clock; the caller
 * passes the time. All crypto goes through OpenSSL.
 *
 * Interface: tc3_canonical_request, tc3_string_to_sign, tc3_authorization,
 * cos_http_string, cos_string_to_sign, cos_authorization,
 * ali_rpc_canonical_query, ali_rpc_string_to_sign, ali_rpc_signature,
 * ali_rpc_signed_query, oss_v1_string_to_sign, oss_v1_authorization,
 * oss_v4_canonical_request, oss_v4_string_to_sign, oss_v4_authorization,
 * cloud_sha256_hex, cloud_sha1_hex, cloud_base64_encode,
 * cloud_base64_decode, cloud_uri_encode, cloud_time_*.
 */
#include "cloud/cloud_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

/* ================================================================ digests */

static void
digest_hex(const EVP_MD *md, const void *p, size_t n, char *out)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;

	if (!EVP_Digest(p, n, d, &dlen, md, NULL))
		fatal("could not compute digest");
	hex_encode(d, dlen, out);
}

void
cloud_sha256_hex(const void *p, size_t n, char out[65])
{
	digest_hex(EVP_sha256(), p, n, out);
}

void
cloud_sha1_hex(const void *p, size_t n, char out[41])
{
	digest_hex(EVP_sha1(), p, n, out);
}

static size_t
hmac(const EVP_MD *md, const void *key, size_t klen, const void *msg,
     size_t mlen, unsigned char *out)
{
	unsigned int olen = 0;

	if (klen > INT32_MAX ||
	    HMAC(md, key, (int)klen, msg, mlen, out, &olen) == NULL)
		fatal("could not compute HMAC");
	return olen;
}

size_t
cloud__hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
		   unsigned char *out)
{
	return hmac(EVP_sha256(), key, klen, msg, mlen, out);
}

size_t
cloud__hmac_sha1(const void *key, size_t klen, const void *msg, size_t mlen,
		 unsigned char *out)
{
	return hmac(EVP_sha1(), key, klen, msg, mlen, out);
}

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

static int
enc(struct buf *out, const char *s)
{
	s = cloud__str(s);
	return cloud_uri_encode(out, s, strlen(s), false);
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

static bool
digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

int
cloud_time_parse_iso8601(const char *s, int64_t *out)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, sec, oh = 0, om = 0;
	int64_t off = 0;
	const char *p;

	if (s == NULL || strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' ||
	    !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return ERR_INPUT;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || sec > 60)
		return ERR_INPUT;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return ERR_INPUT;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		if (!digits(p + 1, 2, &oh) || p[3] != ':' ||
		    !digits(p + 4, 2, &om) || oh > 23 || om > 59)
			return ERR_INPUT;
		off = (int64_t)oh * 3600 + om * 60;
		if (*p == '+')
			off = -off;
		p += 6;
	} else {
		return ERR_INPUT;
	}
	if (*p != '\0')
		return ERR_INPUT;
	*out = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 +
	       (int64_t)mi * 60 + sec + off;
	return 0;
}

/* ================================================================ pairs */

/* A pair with its canonical (encoded or lowercased) name. */
struct pair {
	char *name;  /* owned */
	char *value; /* owned */
};

static void
pairs_free(struct pair *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
}

static int
pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->value, y->value);
}

static char *
lower_dup(const char *s)
{
	char *r = xstrdup(cloud__str(s));

	for (char *p = r; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return r;
}

static char *
trim_dup(const char *s)
{
	const char *b = cloud__str(s), *end;

	while (*b == ' ' || *b == '\t')
		b++;
	end = b + strlen(b);
	while (end > b && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return xstrndup(b, (size_t)(end - b));
}

/* Encode s strictly into a fresh string; NULL when it exceeds the cap. */
static char *
enc_dup(const char *s)
{
	struct buf b;

	buf_init(&b, 64 * 1024);
	if (enc(&b, s) != 0)
		return NULL;
	if (b.len == 0)
		return xstrdup("");
	return buf_take(&b, NULL);
}

/* ================================================================ TC3 */

static int
tc3_check(const struct tc3_input *in)
{
	if (in == NULL || in->secret_id == NULL || in->secret_key == NULL ||
	    in->service == NULL || in->host == NULL || in->method == NULL ||
	    in->content_type == NULL)
		return ERR_INPUT;
	return 0;
}

int
tc3_canonical_request(const struct tc3_input *in, struct buf *out)
{
	char payload_hash[65];
	int rc;

	if ((rc = tc3_check(in)) != 0)
		return rc;
	cloud_sha256_hex(in->payload != NULL ? in->payload : "",
			 in->payload != NULL ? in->payload_len : 0,
			 payload_hash);
	if ((rc = buf_printf(out, "%s\n/\n%s\ncontent-type:%s\nhost:%s\n",
			     in->method, cloud__str(in->query),
			     in->content_type, in->host)) != 0)
		return rc;
	if (in->action != NULL) {
		char *a = lower_dup(in->action);

		rc = buf_printf(out, "x-tc-action:%s\n", a);
		free(a);
		if (rc != 0)
			return rc;
	}
	return buf_printf(out, "\ncontent-type;host%s\n%s",
			  in->action != NULL ? ";x-tc-action" : "",
			  payload_hash);
}

static int
tc3_sts(const struct tc3_input *in, char date[11], struct buf *out)
{
	struct buf canon;
	char hash[65];
	int rc;

	if ((rc = tc3_check(in)) != 0)
		return rc;
	if (cloud_time_date(in->timestamp, date) != 0)
		return ERR_INPUT;
	buf_init(&canon, 1 << 20);
	if ((rc = tc3_canonical_request(in, &canon)) != 0)
		goto out;
	cloud_sha256_hex(canon.ptr, canon.len, hash);
	rc = buf_printf(out, "TC3-HMAC-SHA256\n%lld\n%s/%s/tc3_request\n%s",
			(long long)in->timestamp, date, in->service, hash);
out:
	buf_free(&canon);
	return rc;
}

int
tc3_string_to_sign(const struct tc3_input *in, struct buf *out)
{
	char date[11];

	return tc3_sts(in, date, out);
}

int
tc3_authorization(const struct tc3_input *in, struct buf *out)
{
	struct buf sts, key;
	unsigned char k1[EVP_MAX_MD_SIZE], k2[EVP_MAX_MD_SIZE];
	unsigned char k3[EVP_MAX_MD_SIZE], sig[EVP_MAX_MD_SIZE];
	char date[11], sighex[65];
	size_t n;
	int rc;

	buf_init(&sts, 1 << 20);
	buf_init(&key, 4096);
	if ((rc = tc3_sts(in, date, &sts)) != 0)
		goto out;
	if ((rc = buf_printf(&key, "TC3%s", in->secret_key)) != 0)
		goto out;
	n = cloud__hmac_sha256(key.ptr, key.len, date, strlen(date), k1);
	n = cloud__hmac_sha256(k1, n, in->service, strlen(in->service), k2);
	n = cloud__hmac_sha256(k2, n, "tc3_request", 11, k3);
	n = cloud__hmac_sha256(k3, n, sts.ptr, sts.len, sig);
	hex_encode(sig, n, sighex);
	rc = buf_printf(out,
			"TC3-HMAC-SHA256 Credential=%s/%s/%s/tc3_request, "
			"SignedHeaders=content-type;host%s, Signature=%s",
			in->secret_id, date, in->service,
			in->action != NULL ? ";x-tc-action" : "", sighex);
out:
	buf_free(&sts);
	buf_free(&key);
	return rc;
}

/* ================================================================ COS */

/*
 * "k1=v1&k2=v2" and "k1;k2" from pairs: names lowercased then encoded,
 * values encoded, sorted by encoded name.
 */
static int
cos_format(const struct cloud_kv *kv, size_t n, struct buf *pairs,
	   struct buf *list)
{
	struct pair *v = NULL;
	int rc = 0;

	if (n > CLOUD_MAX_PAIRS)
		return ERR_LIMIT;
	if (n == 0)
		return 0;
	v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		char *low = lower_dup(kv[i].key);

		v[i].name = enc_dup(low);
		v[i].value = enc_dup(kv[i].value);
		free(low);
		if (v[i].name == NULL || v[i].value == NULL) {
			rc = ERR_LIMIT;
			n = i + 1;
			goto out;
		}
	}
	qsort(v, n, sizeof(*v), pair_cmp);
	for (size_t i = 0; i < n; i++) {
		const char *sep = i > 0 ? "&" : "";

		if ((rc = buf_printf(pairs, "%s%s=%s", sep, v[i].name,
				     v[i].value)) != 0)
			goto out;
		if (list != NULL &&
		    (rc = buf_printf(list, "%s%s", i > 0 ? ";" : "",
				     v[i].name)) != 0)
			goto out;
	}
out:
	pairs_free(v, n);
	return rc;
}

static int
cos_check(const struct cos_sign_input *in)
{
	if (in == NULL || in->method == NULL || in->path == NULL ||
	    in->secret_id == NULL || in->secret_key == NULL ||
	    (in->n_headers > 0 && in->headers == NULL) ||
	    (in->n_params > 0 && in->params == NULL))
		return ERR_INPUT;
	return 0;
}

int
cos_http_string(const struct cos_sign_input *in, struct buf *out)
{
	char *method = NULL;
	int rc;

	if ((rc = cos_check(in)) != 0)
		return rc;
	method = lower_dup(in->method);
	if ((rc = buf_printf(out, "%s\n%s\n", method, in->path)) != 0)
		goto out;
	if ((rc = cos_format(in->params, in->n_params, out, NULL)) != 0)
		goto out;
	if ((rc = buf_putc(out, '\n')) != 0)
		goto out;
	if ((rc = cos_format(in->headers, in->n_headers, out, NULL)) != 0)
		goto out;
	rc = buf_putc(out, '\n');
out:
	free(method);
	return rc;
}

int
cos_string_to_sign(const struct cos_sign_input *in, struct buf *out)
{
	struct buf hs;
	char hash[41];
	int rc;

	buf_init(&hs, 1 << 20);
	if ((rc = cos_http_string(in, &hs)) != 0)
		goto out;
	cloud_sha1_hex(hs.ptr, hs.len, hash);
	rc = buf_printf(out, "sha1\n%lld;%lld\n%s\n", (long long)in->start,
			(long long)in->end, hash);
out:
	buf_free(&hs);
	return rc;
}

int
cos_authorization(const struct cos_sign_input *in, struct buf *out)
{
	struct buf sts, hl, pl, scratch;
	unsigned char mac[EVP_MAX_MD_SIZE];
	char keytime[48], signkey[41], sig[41];
	size_t n;
	int rc;

	buf_init(&sts, 1 << 20);
	buf_init(&hl, 1 << 16);
	buf_init(&pl, 1 << 16);
	buf_init(&scratch, 1 << 20);
	if ((rc = cos_string_to_sign(in, &sts)) != 0)
		goto out;
	if ((rc = cos_format(in->headers, in->n_headers, &scratch, &hl)) != 0)
		goto out;
	if ((rc = cos_format(in->params, in->n_params, &scratch, &pl)) != 0)
		goto out;
	snprintf(keytime, sizeof(keytime), "%lld;%lld", (long long)in->start,
		 (long long)in->end);
	n = cloud__hmac_sha1(in->secret_key, strlen(in->secret_key), keytime,
			     strlen(keytime), mac);
	hex_encode(mac, n, signkey);
	/* The key of the second HMAC is SignKey as its 40-char hex text. */
	n = cloud__hmac_sha1(signkey, 40, sts.ptr, sts.len, mac);
	hex_encode(mac, n, sig);
	rc = buf_printf(out,
			"q-sign-algorithm=sha1&q-ak=%s&q-sign-time=%s"
			"&q-key-time=%s&q-header-list=%s&q-url-param-list=%s"
			"&q-signature=%s",
			in->secret_id, keytime, keytime, buf_cstr(&hl),
			buf_cstr(&pl), sig);
out:
	buf_free(&sts);
	buf_free(&hl);
	buf_free(&pl);
	buf_free(&scratch);
	return rc;
}

/* ================================================================ Alibaba RPC
 */

int
ali_rpc_canonical_query(const struct cloud_kv *params, size_t n,
			struct buf *out)
{
	struct pair *v = NULL;
	size_t m = 0;
	int rc = 0;

	if (n > CLOUD_MAX_PAIRS)
		return ERR_LIMIT;
	if (n > 0 && params == NULL)
		return ERR_INPUT;
	if (n == 0)
		return 0;
	v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		if (params[i].key == NULL || params[i].value == NULL ||
		    params[i].value[0] == '\0')
			continue;
		v[m].name = enc_dup(params[i].key);
		v[m].value = enc_dup(params[i].value);
		m++;
		if (v[m - 1].name == NULL || v[m - 1].value == NULL) {
			rc = ERR_LIMIT;
			goto out;
		}
	}
	/* Encoding keeps the order of the ASCII names the API uses. */
	qsort(v, m, sizeof(*v), pair_cmp);
	for (size_t i = 0; i < m; i++)
		if ((rc = buf_printf(out, "%s%s=%s", i > 0 ? "&" : "",
				     v[i].name, v[i].value)) != 0)
			goto out;
out:
	pairs_free(v, m);
	return rc;
}

int
ali_rpc_string_to_sign(const char *method, const struct cloud_kv *params,
		       size_t n, struct buf *out)
{
	struct buf cq;
	int rc;

	if (method == NULL)
		return ERR_INPUT;
	buf_init(&cq, 1 << 20);
	if ((rc = ali_rpc_canonical_query(params, n, &cq)) != 0)
		goto out;
	if ((rc = buf_printf(out, "%s&%%2F&", method)) != 0)
		goto out;
	rc = cloud_uri_encode(out, buf_cstr(&cq), cq.len, false);
out:
	buf_free(&cq);
	return rc;
}

int
ali_rpc_signature(const char *secret, const char *method,
		  const struct cloud_kv *params, size_t n, struct buf *out)
{
	struct buf sts, key;
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t mlen;
	int rc;

	if (secret == NULL)
		return ERR_INPUT;
	buf_init(&sts, 1 << 21);
	buf_init(&key, 4096);
	if ((rc = ali_rpc_string_to_sign(method, params, n, &sts)) != 0)
		goto out;
	if ((rc = buf_printf(&key, "%s&", secret)) != 0)
		goto out;
	mlen = cloud__hmac_sha1(key.ptr, key.len, sts.ptr, sts.len, mac);
	rc = cloud_base64_encode(mac, mlen, out);
out:
	buf_free(&sts);
	buf_free(&key);
	return rc;
}

int
ali_rpc_signed_query(const char *secret, const char *method,
		     const struct cloud_kv *params, size_t n, struct buf *out)
{
	struct buf sig;
	int rc;

	buf_init(&sig, 256);
	if ((rc = ali_rpc_signature(secret, method, params, n, &sig)) != 0)
		goto out;
	if ((rc = ali_rpc_canonical_query(params, n, out)) != 0)
		goto out;
	if ((rc = buf_puts(out, "&Signature=")) != 0)
		goto out;
	rc = cloud_uri_encode(out, sig.ptr, sig.len, false);
out:
	buf_free(&sig);
	return rc;
}

/* ================================================================ OSS V1 */

/* Query parameters that are sub-resources and so part of the V1 resource
 * (the union of the OSS C SDK and Go SDK v2 lists). */
static const char *const oss_subresources[] = {
    "acl",
    "append",
    "bucketInfo",
    "callback",
    "callback-var",
    "cloudboxes",
    "continuation-token",
    "cors",
    "delete",
    "encryption",
    "inventory",
    "inventoryId",
    "lifecycle",
    "live",
    "location",
    "logging",
    "objectMeta",
    "partNumber",
    "policy",
    "position",
    "qos",
    "referer",
    "regionList",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "security-token",
    "sequential",
    "stat",
    "status",
    "symlink",
    "tagging",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
    "worm",
    "wormExtend",
    "wormId",
};

static bool
oss_is_subresource(const char *k)
{
	if (strncmp(k, "x-oss-", 6) == 0)
		return true;
	for (size_t i = 0;
	     i < sizeof(oss_subresources) / sizeof(oss_subresources[0]); i++)
		if (strcmp(k, oss_subresources[i]) == 0)
			return true;
	return false;
}

/*
 * Lowercased, trimmed headers selected by keep(), sorted, with duplicate
 * names merged by ",". *out_n is the count.
 */
static int
select_headers(const struct cloud_kv *kv, size_t n,
	       bool (*keep)(const char *low, const void *arg), const void *arg,
	       struct pair **out, size_t *out_n)
{
	struct pair *v;
	size_t m = 0;

	*out = NULL;
	*out_n = 0;
	if (n > CLOUD_MAX_PAIRS)
		return ERR_LIMIT;
	if (n == 0)
		return 0;
	if (kv == NULL)
		return ERR_INPUT;
	v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		char *low = lower_dup(kv[i].key);

		if (!keep(low, arg)) {
			free(low);
			continue;
		}
		v[m].name = low;
		v[m].value = trim_dup(kv[i].value);
		m++;
	}
	/* Stable order for equal names: by value (pair_cmp). */
	qsort(v, m, sizeof(*v), pair_cmp);
	for (size_t i = 1; i < m;) {
		if (strcmp(v[i].name, v[i - 1].name) != 0) {
			i++;
			continue;
		}
		size_t l1 = strlen(v[i - 1].value), l2 = strlen(v[i].value);
		char *j = xmalloc(l1 + l2 + 2);

		memcpy(j, v[i - 1].value, l1);
		j[l1] = ',';
		memcpy(j + l1 + 1, v[i].value, l2 + 1);
		free(v[i - 1].value);
		v[i - 1].value = j;
		free(v[i].name);
		free(v[i].value);
		memmove(&v[i], &v[i + 1], (m - i - 1) * sizeof(*v));
		m--;
	}
	*out = v;
	*out_n = m;
	return 0;
}

static bool
keep_x_oss(const char *low, const void *arg)
{
	(void)arg;
	return strncmp(low, "x-oss-", 6) == 0;
}

static int
raw_pair_cmp(const void *a, const void *b)
{
	const struct cloud_kv *x = a, *y = b;

	return strcmp(x->key, y->key);
}

int
oss_v1_string_to_sign(const struct oss_v1_input *in, struct buf *out)
{
	struct pair *h = NULL;
	struct cloud_kv *q = NULL;
	size_t nh = 0, nq = 0;
	int rc;

	if (in == NULL || in->verb == NULL || in->date == NULL ||
	    in->n_params > CLOUD_MAX_PAIRS ||
	    (in->n_params > 0 && in->params == NULL))
		return ERR_INPUT;
	if ((rc = select_headers(in->headers, in->n_headers, keep_x_oss, NULL,
				 &h, &nh)) != 0)
		return rc;
	if ((rc = buf_printf(out, "%s\n%s\n%s\n%s\n", in->verb,
			     cloud__str(in->content_md5),
			     cloud__str(in->content_type), in->date)) != 0)
		goto out;
	for (size_t i = 0; i < nh; i++)
		if ((rc = buf_printf(out, "%s:%s\n", h[i].name, h[i].value)) !=
		    0)
			goto out;
	if ((rc = buf_putc(out, '/')) != 0)
		goto out;
	if (in->bucket != NULL &&
	    (rc = buf_printf(out, "%s/", in->bucket)) != 0)
		goto out;
	if (in->key != NULL && (rc = buf_puts(out, in->key)) != 0)
		goto out;
	if (in->n_params > 0) {
		q = xcalloc(in->n_params, sizeof(*q));
		for (size_t i = 0; i < in->n_params; i++)
			if (in->params[i].key != NULL &&
			    oss_is_subresource(in->params[i].key))
				q[nq++] = in->params[i];
		qsort(q, nq, sizeof(*q), raw_pair_cmp);
		for (size_t i = 0; i < nq; i++) {
			const char *v = cloud__str(q[i].value);

			if ((rc = buf_printf(out, "%c%s%s%s", i ? '&' : '?',
					     q[i].key, *v ? "=" : "", v)) != 0)
				goto out;
		}
	}
out:
	pairs_free(h, nh);
	free(q);
	return rc;
}

int
oss_v1_authorization(const struct oss_v1_input *in, struct buf *out)
{
	struct buf sts;
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t n;
	int rc;

	if (in == NULL || in->access_key_id == NULL ||
	    in->access_key_secret == NULL)
		return ERR_INPUT;
	buf_init(&sts, 1 << 20);
	if ((rc = oss_v1_string_to_sign(in, &sts)) != 0)
		goto out;
	n = cloud__hmac_sha1(in->access_key_secret,
			     strlen(in->access_key_secret), sts.ptr, sts.len,
			     mac);
	if ((rc = buf_printf(out, "OSS %s:", in->access_key_id)) != 0)
		goto out;
	rc = cloud_base64_encode(mac, n, out);
out:
	buf_free(&sts);
	return rc;
}

/* ================================================================ OSS V4 */

static bool
oss_v4_default_signed(const char *low)
{
	return strncmp(low, "x-oss-", 6) == 0 ||
	       strcmp(low, "content-type") == 0 ||
	       strcmp(low, "content-md5") == 0;
}

/* The additional header names that count: lowercased, not signed by
 * default, present (non-empty) in the request, sorted, unique. */
static int
oss_v4_additional(const struct oss_v4_input *in, struct buf *list)
{
	char *names[CLOUD_MAX_PAIRS];
	size_t m = 0;
	int rc = 0;

	if (in->n_additional > CLOUD_MAX_PAIRS)
		return ERR_LIMIT;
	for (size_t i = 0; i < in->n_additional; i++) {
		char *low = lower_dup(in->additional[i]);
		bool present = false, dup = false;

		for (size_t j = 0; j < in->n_headers; j++)
			if (strcasecmp(cloud__str(in->headers[j].key), low) ==
				0 &&
			    cloud__str(in->headers[j].value)[0] != '\0')
				present = true;
		for (size_t j = 0; j < m; j++)
			if (strcmp(names[j], low) == 0)
				dup = true;
		if (oss_v4_default_signed(low) || !present || dup) {
			free(low);
			continue;
		}
		names[m++] = low;
	}
	for (size_t i = 1; i < m; i++)
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0;
		     j--) {
			char *t = names[j];

			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	for (size_t i = 0; i < m && rc == 0; i++)
		rc = buf_printf(list, "%s%s", i > 0 ? ";" : "", names[i]);
	for (size_t i = 0; i < m; i++)
		free(names[i]);
	return rc;
}

static bool
keep_v4(const char *low, const void *arg)
{
	const char *list = arg; /* "a;b;c" */
	size_t l = strlen(low);

	if (oss_v4_default_signed(low))
		return true;
	for (const char *p = list; *p;) {
		const char *semi = strchr(p, ';');
		size_t len = semi ? (size_t)(semi - p) : strlen(p);

		if (len == l && memcmp(p, low, l) == 0)
			return true;
		if (semi == NULL)
			break;
		p = semi + 1;
	}
	return false;
}

static int
oss_v4_canon(const struct oss_v4_input *in, const char *additional,
	     struct buf *out)
{
	struct pair *h = NULL, *q = NULL;
	size_t nh = 0, nq = 0;
	const char *payload = "UNSIGNED-PAYLOAD";
	int rc;

	if (in->n_params > CLOUD_MAX_PAIRS)
		return ERR_LIMIT;
	if (in->n_params > 0 && in->params == NULL)
		return ERR_INPUT;
	if ((rc = select_headers(in->headers, in->n_headers, keep_v4,
				 additional, &h, &nh)) != 0)
		return rc;
	if ((rc = buf_printf(out, "%s\n/", in->verb)) != 0)
		goto out;
	if (in->bucket != NULL) {
		if ((rc = cloud_uri_encode(out, in->bucket, strlen(in->bucket),
					   true)) != 0 ||
		    (rc = buf_putc(out, '/')) != 0)
			goto out;
	}
	if (in->key != NULL &&
	    (rc = cloud_uri_encode(out, in->key, strlen(in->key), true)) != 0)
		goto out;
	if ((rc = buf_putc(out, '\n')) != 0)
		goto out;
	if (in->n_params > 0) {
		q = xcalloc(in->n_params, sizeof(*q));
		for (size_t i = 0; i < in->n_params; i++) {
			if (in->params[i].key == NULL)
				continue;
			q[nq].name = enc_dup(in->params[i].key);
			q[nq].value = enc_dup(in->params[i].value);
			nq++;
			if (q[nq - 1].name == NULL || q[nq - 1].value == NULL) {
				rc = ERR_LIMIT;
				goto out;
			}
		}
		qsort(q, nq, sizeof(*q), pair_cmp);
		for (size_t i = 0; i < nq; i++)
			if ((rc = buf_printf(out, "%s%s%s%s", i ? "&" : "",
					     q[i].name, *q[i].value ? "=" : "",
					     q[i].value)) != 0)
				goto out;
	}
	if ((rc = buf_putc(out, '\n')) != 0)
		goto out;
	for (size_t i = 0; i < nh; i++) {
		if ((rc = buf_printf(out, "%s:%s\n", h[i].name, h[i].value)) !=
		    0)
			goto out;
		if (strcmp(h[i].name, "x-oss-content-sha256") == 0 &&
		    h[i].value[0] != '\0')
			payload = h[i].value;
	}
	rc = buf_printf(out, "\n%s\n%s", additional, payload);
out:
	pairs_free(h, nh);
	pairs_free(q, nq);
	return rc;
}

static int
oss_v4_check(const struct oss_v4_input *in)
{
	if (in == NULL || in->verb == NULL || in->region == NULL ||
	    in->access_key_id == NULL || in->access_key_secret == NULL ||
	    (in->n_headers > 0 && in->headers == NULL) ||
	    (in->n_additional > 0 && in->additional == NULL))
		return ERR_INPUT;
	return 0;
}

int
oss_v4_canonical_request(const struct oss_v4_input *in, struct buf *out)
{
	struct buf add;
	int rc;

	if ((rc = oss_v4_check(in)) != 0)
		return rc;
	buf_init(&add, 1 << 16);
	if ((rc = oss_v4_additional(in, &add)) == 0)
		rc = oss_v4_canon(in, buf_cstr(&add), out);
	buf_free(&add);
	return rc;
}

static const char *
oss_v4_product(const struct oss_v4_input *in)
{
	return in->product != NULL ? in->product : "oss";
}

int
oss_v4_string_to_sign(const struct oss_v4_input *in, struct buf *out)
{
	struct buf canon;
	char dt[17], hash[65];
	int rc;

	if ((rc = oss_v4_check(in)) != 0)
		return rc;
	if (cloud_time_iso8601_basic(in->time, dt) != 0)
		return ERR_INPUT;
	buf_init(&canon, 1 << 20);
	if ((rc = oss_v4_canonical_request(in, &canon)) != 0)
		goto out;
	cloud_sha256_hex(canon.ptr, canon.len, hash);
	rc = buf_printf(
	    out, "OSS4-HMAC-SHA256\n%s\n%.8s/%s/%s/aliyun_v4_request\n%s", dt,
	    dt, in->region, oss_v4_product(in), hash);
out:
	buf_free(&canon);
	return rc;
}

int
oss_v4_authorization(const struct oss_v4_input *in, struct buf *out)
{
	struct buf sts, key, add;
	unsigned char k[EVP_MAX_MD_SIZE], k2[EVP_MAX_MD_SIZE];
	char dt[17], date[9], sighex[65];
	const char *product;
	size_t n;
	int rc;

	if ((rc = oss_v4_check(in)) != 0)
		return rc;
	if (cloud_time_iso8601_basic(in->time, dt) != 0)
		return ERR_INPUT;
	memcpy(date, dt, 8);
	date[8] = '\0';
	product = oss_v4_product(in);
	buf_init(&sts, 1 << 20);
	buf_init(&key, 4096);
	buf_init(&add, 1 << 16);
	if ((rc = oss_v4_string_to_sign(in, &sts)) != 0 ||
	    (rc = oss_v4_additional(in, &add)) != 0 ||
	    (rc = buf_printf(&key, "aliyun_v4%s", in->access_key_secret)) != 0)
		goto out;
	n = cloud__hmac_sha256(key.ptr, key.len, date, 8, k);
	n = cloud__hmac_sha256(k, n, in->region, strlen(in->region), k2);
	n = cloud__hmac_sha256(k2, n, product, strlen(product), k);
	n = cloud__hmac_sha256(k, n, "aliyun_v4_request", 17, k2);
	n = cloud__hmac_sha256(k2, n, sts.ptr, sts.len, k);
	hex_encode(k, n, sighex);
	rc = buf_printf(out,
			"OSS4-HMAC-SHA256 Credential=%s/%s/%s/%s/"
			"aliyun_v4_request%s%s,Signature=%s",
			in->access_key_id, date, in->region, product,
			add.len > 0 ? ",AdditionalHeaders=" : "",
			buf_cstr(&add), sighex);
out:
	buf_free(&sts);
	buf_free(&key);
	buf_free(&add);
	return rc;
}

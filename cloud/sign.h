/*
 * cloud/sign.h: the platforms' request signatures and the encodings they
 * need, all pure functions (no I/O, no clock: the caller passes the time)
 * and thread-safe.
 *
 *   encoding  base64, strict RFC 3986 percent-encoding, time formatting and
 *             parsing (encode.c)
 *   tencent   cloud_tc3_*     Tencent API 3.0 TC3-HMAC-SHA256
 *             cloud_cos_*     Tencent COS q-sign (sha1)     (sign_tencent.c)
 *   alibaba   cloud_ali_rpc_* Alibaba VOD RPC HMAC-SHA1 (SignatureVersion 1.0)
 *             cloud_oss_v1_*  Alibaba OSS header signature V1
 *             cloud_oss_v4_*  Alibaba OSS OSS4-HMAC-SHA256  (sign_alibaba.c)
 *
 * Output goes to a caller-owned struct buf, appended to (not reset).
 * Functions return 0 or a negative ERR_* code; a struct buf that hits its
 * cap returns ERR_LIMIT and is emptied (see common.h).
 */
#ifndef VODHOOK_CLOUD_SIGN_H
#define VODHOOK_CLOUD_SIGN_H

#include "common/common.h"

/* A borrowed name/value pair (header or query parameter). */
struct cloud_kv {
	const char *key;
	const char *value; /* NULL is treated as "" */
};

/* ================================================================ encoding */

/* Standard base64 (with padding) of n bytes, appended to out. */
int cloud_base64_encode(const void *p, size_t n, struct buf *out) VH_MUST_CHECK;
/*
 * Decode standard base64 (padding optional, no whitespace inside) and append
 * the bytes to out. ERR_INPUT when s is not base64.
 */
int cloud_base64_decode(const char *s, size_t n, struct buf *out,
			struct err *e) VH_MUST_CHECK;
/*
 * Strict RFC 3986 percent-encoding of n bytes appended to out: only
 * A-Z a-z 0-9 - _ . ~ stay as they are ('/' too when keep_slash), every
 * other byte becomes %XY with uppercase hex (space is %20, '*' is %2A).
 */
int cloud_uri_encode(struct buf *out, const char *s, size_t n,
		     bool keep_slash) VH_MUST_CHECK;

/* Time formatting of Unix seconds t (UTC). 0 or ERR_INPUT (out of range). */
int cloud_time_rfc1123(int64_t t,
		       char out[30]); /* Sun, 06 Nov 1994 08:49:37 GMT */
int cloud_time_iso8601(int64_t t, char out[21]); /* 2017-03-29T12:00:00Z */
int cloud_time_iso8601_basic(int64_t t, char out[17]); /* 20231217T034736Z */
int cloud_time_date(int64_t t, char out[11]);	       /* 2019-02-25 */

/* ================================================= TC3-HMAC-SHA256 (API 3.0)
 */

struct cloud_tc3_input {
	const char *secret_id;
	const char *secret_key;
	const char *service;	  /* "vod" */
	const char *host;	  /* "vod.tencentcloudapi.com" */
	const char *method;	  /* "POST" or "GET" */
	const char *query;	  /* GET: canonical query; POST: NULL or "" */
	const char *content_type; /* exactly as sent */
	const void *payload;	  /* body bytes; NULL for GET */
	size_t payload_len;
	int64_t timestamp;  /* X-TC-Timestamp; the scope date is its UTC date */
	const char *action; /* non-NULL: x-tc-action is signed too */
};

/* The canonical request, string to sign and Authorization header value. */
int cloud_tc3_canonical_request(const struct cloud_tc3_input *in,
				struct buf *out) VH_MUST_CHECK;
int cloud_tc3_string_to_sign(const struct cloud_tc3_input *in,
			     struct buf *out) VH_MUST_CHECK;
int cloud_tc3_authorization(const struct cloud_tc3_input *in,
			    struct buf *out) VH_MUST_CHECK;

/* ============================================================ COS q-sign */

struct cloud_cos_sign_input {
	const char *method;		/* "PUT"; lowercased when signed */
	const char *path;		/* decoded UTF-8 path, "/key" */
	const struct cloud_kv *headers; /* headers to sign (names any case) */
	size_t n_headers;
	const struct cloud_kv *params; /* decoded query params to sign */
	size_t n_params;	       /* ("?uploads" is {"uploads", ""}) */
	const char *secret_id;
	const char *secret_key;
	int64_t start; /* q-sign-time = q-key-time = start;end */
	int64_t end;
};

int cloud_cos_http_string(const struct cloud_cos_sign_input *in,
			  struct buf *out) VH_MUST_CHECK;
int cloud_cos_string_to_sign(const struct cloud_cos_sign_input *in,
			     struct buf *out) VH_MUST_CHECK;
int cloud_cos_authorization(const struct cloud_cos_sign_input *in,
			    struct buf *out) VH_MUST_CHECK;

/* ============================================ Alibaba RPC (HMAC-SHA1, 1.0) */

/*
 * params: every request parameter except Signature. Pairs with an empty or
 * NULL value are skipped (as the SDKs do) in signing and in the query
 * alike; names are sorted by byte order. At most 128 pairs.
 */
int cloud_ali_rpc_canonical_query(const struct cloud_kv *params, size_t n,
				  struct buf *out) VH_MUST_CHECK;
/* METHOD&%2F&percentEncode(canonical query) */
int cloud_ali_rpc_string_to_sign(const char *method,
				 const struct cloud_kv *params, size_t n,
				 struct buf *out) VH_MUST_CHECK;
/* base64(HMAC-SHA1(secret + "&", string to sign)), not URL-encoded. */
int cloud_ali_rpc_signature(const char *secret, const char *method,
			    const struct cloud_kv *params, size_t n,
			    struct buf *out) VH_MUST_CHECK;
/* canonical query + "&Signature=" + percentEncode(signature): the full
 * query string (GET) or form body (POST). */
int cloud_ali_rpc_signed_query(const char *secret, const char *method,
			       const struct cloud_kv *params, size_t n,
			       struct buf *out) VH_MUST_CHECK;

/* ======================================================= OSS signature V1 */

struct cloud_oss_v1_input {
	const char *verb;
	const char *content_md5;  /* NULL = "" */
	const char *content_type; /* NULL = "" */
	const char *date;	  /* the Date (or x-oss-date) value */
	const struct cloud_kv
	    *headers; /* request headers; x-oss-* are signed */
	size_t n_headers;
	const char *bucket;	       /* NULL: resource "/" */
	const char *key;	       /* object key, not encoded; NULL: none */
	const struct cloud_kv *params; /* decoded query; sub-resources signed */
	size_t n_params;
	const char *access_key_id;
	const char *access_key_secret;
};

int cloud_oss_v1_string_to_sign(const struct cloud_oss_v1_input *in,
				struct buf *out) VH_MUST_CHECK;
/* "OSS <AccessKeyId>:<base64 signature>" */
int cloud_oss_v1_authorization(const struct cloud_oss_v1_input *in,
			       struct buf *out) VH_MUST_CHECK;

/* ======================================================= OSS signature V4 */

struct cloud_oss_v4_input {
	const char *verb;
	const char *bucket;	       /* NULL: none */
	const char *key;	       /* object key, not encoded; NULL: none */
	const struct cloud_kv *params; /* decoded query; encoded here */
	size_t n_params;
	/*
	 * Request headers as sent. content-type, content-md5 and x-oss-* are
	 * signed; the caller must send x-oss-date (cloud_time_iso8601_basic
	 * of time), x-oss-content-sha256 (UNSIGNED-PAYLOAD) and, with STS,
	 * x-oss-security-token, and list them here.
	 */
	const struct cloud_kv *headers;
	size_t n_headers;
	const char *const *additional; /* extra header names to sign */
	size_t n_additional;
	const char *region;  /* "cn-shanghai" */
	const char *product; /* NULL = "oss" */
	int64_t time;
	const char *access_key_id;
	const char *access_key_secret;
};

int cloud_oss_v4_canonical_request(const struct cloud_oss_v4_input *in,
				   struct buf *out) VH_MUST_CHECK;
int cloud_oss_v4_string_to_sign(const struct cloud_oss_v4_input *in,
				struct buf *out) VH_MUST_CHECK;
int cloud_oss_v4_authorization(const struct cloud_oss_v4_input *in,
			       struct buf *out) VH_MUST_CHECK;

#endif

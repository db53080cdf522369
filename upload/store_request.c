/*
 * store_request.c: one request to an object store (COS, OSS), and what its
 * answer says.
 *
 * Each request has its own easy handle (one per attempt). A body is read
 * by a read callback: pread() from the file at the piece's offset, or, for
 * a stream source, from a buffer holding that one piece; its CRC-64 is
 * computed as curl reads it, and the answer's ETag and CRC-64 header
 * (x-cos-hash-crc64ecma, x-oss-hash-crc64ecma) are kept. An error answer's
 * XML body (<Error><Code/><Message/></Error>) is classified: ERR_AUTH for
 * signature, key, token and access errors, ERR_NOTFOUND for NoSuchUpload,
 * ERR_UNAVAIL for 5xx, 408, 429 and the throttling codes, ERR_REMOTE
 * otherwise.
 *
 * Interface: upload__xfer_new, upload__xfer_free, upload__xfer_result,
 * upload__store_control, upload__store_error, upload__xml_tag,
 * upload__token_expired, upload__crc_mismatch (upload/ only).
 */
#include "upload/transfer_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- helpers */

char *
upload__xml_tag(const char *xml, size_t len, const char *tag)
{
	char open[64], close[64];
	const char *a, *b, *end = xml + len;
	size_t ol, cl;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	ol = strlen(open);
	cl = strlen(close);
	for (a = xml; a + ol <= end; a++)
		if (memcmp(a, open, ol) == 0)
			break;
	if (a + ol > end)
		return NULL;
	a += ol;
	for (b = a; b + cl <= end; b++)
		if (memcmp(b, close, cl) == 0)
			break;
	if (b + cl > end)
		return NULL;
	return xstrndup(a, (size_t)(b - a));
}

static bool
code_in(const char *code, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(code, *list) == 0)
			return true;
	return false;
}

int
upload__store_error(long status, const char *body, size_t len, struct err *e)
{
	static const char *const auth[] = {"AccessDenied",
					   "SignatureDoesNotMatch",
					   "InvalidAccessKeyId",
					   "InvalidSecurityToken",
					   "SecurityTokenExpired",
					   "ExpiredToken",
					   "InvalidToken",
					   "RequestTimeTooSkewed",
					   "AccessForbidden",
					   "InvalidArgument.Token",
					   "InvalidObjectState.Token",
					   NULL};
	static const char *const retry[] = {"InternalError",
					    "ServiceUnavailable",
					    "SlowDown",
					    "RequestTimeout",
					    "ServiceUnAvailable",
					    "TotalQpsLimitExceeded",
					    "UploadTrafficRateLimitExceeded",
					    NULL};
	char *code = upload__xml_tag(body, len, "Code");
	char *msg = upload__xml_tag(body, len, "Message");
	int rc;

	if (code != NULL && code_in(code, auth))
		rc = ERR_AUTH;
	else if (code != NULL && strcmp(code, "NoSuchUpload") == 0)
		rc = ERR_NOTFOUND;
	else if (status >= 500 || status == 408 || status == 429 ||
		 (code != NULL && code_in(code, retry)))
		rc = ERR_UNAVAIL;
	else if (status == 401 || status == 403)
		rc = ERR_AUTH;
	else
		rc = ERR_REMOTE;
	err_set_remote(e, rc, code ? code : "",
		       "object store answered %ld%s%s%s%s", status,
		       code ? " " : "", code ? code : "", msg ? ": " : "",
		       msg ? msg : "");
	free(code);
	free(msg);
	return rc;
}

/* ---------------------------------------------------------------- requests */

static size_t
read_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;
	int64_t left = x->len - x->pos;

	if ((int64_t)n > left)
		n = (size_t)left;
	if (n == 0)
		return 0;
	if (x->mem != NULL) {
		memcpy(p, x->mem + x->pos, n);
	} else if (upload__source_read(x->src, x->off + x->pos, p, n, NULL) !=
		   0) {
		return CURL_READFUNC_ABORT;
	}
	/* Bytes read again after a rewind are not added twice. */
	if (x->crc_len == x->pos) {
		x->crc = upload__crc64(x->crc, p, n);
		x->crc_len += (int64_t)n;
	}
	x->pos += (int64_t)n;
	if (x->sent != NULL)
		*x->sent += (int64_t)n;
	return n;
}

static int
seek_body(void *arg, curl_off_t off, int origin)
{
	struct xfer *x = arg;

	if (origin != SEEK_SET || off < 0 || off > x->len)
		return CURL_SEEKFUNC_CANTSEEK;
	x->pos = off;
	if (off == 0) {
		x->crc = 0;
		x->crc_len = 0;
	}
	return CURL_SEEKFUNC_OK;
}

/*
 * The answer's ETag and CRC-64 (x-cos-hash-crc64ecma /
 * x-oss-hash-crc64ecma, a decimal unsigned 64-bit integer; a malformed
 * one is taken as none), from the last response curl received.
 */
static void
read_answer_headers(struct xfer *x)
{
	struct curl_header *hd;
	const char *const crc_names[] = {"x-cos-hash-crc64ecma",
					 "x-oss-hash-crc64ecma"};

	x->etag[0] = '\0';
	x->store_crc.seen = false;
	if (curl_easy_header(x->h, "ETag", 0, CURLH_HEADER, -1, &hd) ==
		CURLHE_OK &&
	    strlen(hd->value) < sizeof(x->etag))
		snprintf(x->etag, sizeof(x->etag), "%s", hd->value);
	for (size_t i = 0; i < sizeof(crc_names) / sizeof(crc_names[0]); i++) {
		char *end;
		unsigned long long u;

		if (curl_easy_header(x->h, crc_names[i], 0, CURLH_HEADER, -1,
				     &hd) != CURLHE_OK ||
		    hd->value[0] < '0' || hd->value[0] > '9')
			continue;
		errno = 0;
		u = strtoull(hd->value, &end, 10);
		if (errno == 0 && *end == '\0') {
			x->store_crc.seen = true;
			x->store_crc.v = (uint64_t)u;
		}
	}
}

static int
xferinfo(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
	 curl_off_t ulnow)
{
	struct xfer *x = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	x->inflight = (int64_t)ulnow;
	return 0;
}

void
upload__xfer_free(struct xfer *x)
{
	if (x == NULL)
		return;
	curl_easy_cleanup(x->h);
	if (x->ce_live)
		cloud_easy_cleanup(&x->ce);
	curl_slist_free_all(x->hdrs);
	free(x->url);
	free(x->mem);
	free(x);
}

/*
 * COS: 503 SlowDown (https://cloud.tencent.com/document/product/436/7730);
 * OSS: 503 with TotalQpsLimitExceeded or UploadTrafficRateLimitExceeded
 * (https://www.alibabacloud.com/help/en/oss/support/http-status-code-503);
 * either may answer 429 at a gateway.
 */
bool
upload__xfer_throttled(struct xfer *x, const struct err *e)
{
	static const char *const codes[] = {"SlowDown", "TotalQpsLimitExceeded",
					    "UploadTrafficRateLimitExceeded",
					    NULL};
	long status = 0;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	if (status == 429 || status == 503)
		return true;
	return e != NULL && code_in(e->remote, codes);
}

void
upload__xfer_set_buffer(struct xfer *x, int parallel)
{
	long b = UPLOAD_BUF_ALL / (parallel > 0 ? parallel : 1);

	if (b > UPLOAD_BUF_SIZE)
		b = UPLOAD_BUF_SIZE;
	if (b < UPLOAD_BUF_MIN)
		b = UPLOAD_BUF_MIN;
	curl_easy_setopt(x->h, CURLOPT_UPLOAD_BUFFERSIZE, b);
}

/* The URL of the object with the given (decoded) query parameters. */
static int
build_url(const struct upload_target *t, const struct cloud_kv *params,
	  size_t n, char **out, struct err *e)
{
	struct buf b;
	int rc;

	buf_init(&b, 16384);
	rc = buf_printf(&b, "%s/", t->base_url);
	if (rc == 0)
		rc = cloud_uri_encode(&b, t->key, strlen(t->key), true);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = buf_putc(&b, i == 0 ? '?' : '&');
		if (rc == 0)
			rc = cloud_uri_encode(&b, params[i].key,
					      strlen(params[i].key), false);
		if (rc == 0 && params[i].value != NULL &&
		    params[i].value[0] != '\0') {
			rc = buf_putc(&b, '=');
			if (rc == 0)
				rc = cloud_uri_encode(&b, params[i].value,
						      strlen(params[i].value),
						      false);
		}
	}
	if (rc != 0)
		return err_set(e, rc, "object URL is too long");
	*out = buf_take(&b, NULL);
	return 0;
}

/*
 * Prepare one request on a fresh easy handle: URL, method, signed headers,
 * body (from the source at off/len, from mem, or none when len < 0).
 */
int
upload__xfer_new(const struct upload_transfer_opts *o,
		 const struct upload_session *s, const char *method,
		 const struct cloud_kv *params, size_t nparams,
		 const char *ctype, int64_t len, struct xfer **out,
		 struct err *e)
{
	struct upload_sign_input in = {
	    .method = method,
	    .params = params,
	    .n_params = nparams,
	    .content_type = ctype,
	    .content_length = len,
	    .now = time_unix(),
	};
	struct xfer *x = xcalloc(1, sizeof(*x));
	int rc;

	*out = NULL;
	x->len = len < 0 ? 0 : len;
	if ((x->h = curl_easy_init()) == NULL) {
		rc = err_set(e, ERR_INTERNAL, "could not create curl handle");
		goto out;
	}
	if ((rc = cloud_easy_init(&x->ce, x->h, o->cloud, STORE_BODY_MAX, e)) !=
	    0)
		goto out;
	x->ce_live = true;
	if ((rc = build_url(&s->target, params, nparams, &x->url, e)) != 0)
		goto out;
	if ((rc = s->target.sign(s, &in, &x->hdrs, e)) != 0)
		goto out;
	if (ctype != NULL) {
		char h[160];

		snprintf(h, sizeof(h), "Content-Type: %s", ctype);
		x->hdrs = curl_slist_append(x->hdrs, h);
	}
	/* No "Expect: 100-continue" round trip before each part. */
	x->hdrs = curl_slist_append(x->hdrs, "Expect:");
	if (x->hdrs == NULL)
		fatal("out of memory");
	curl_easy_setopt(x->h, CURLOPT_URL, x->url);
	curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->h, CURLOPT_TIMEOUT_MS, o->part_timeout_ms);
	curl_easy_setopt(x->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(x->h, CURLOPT_LOW_SPEED_TIME, STALL_SECONDS);
	if (strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0) {
		curl_easy_setopt(x->h, CURLOPT_UPLOAD, 1L);
		if (strcmp(method, "POST") == 0)
			curl_easy_setopt(x->h, CURLOPT_CUSTOMREQUEST, "POST");
		curl_easy_setopt(x->h, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)x->len);
		curl_easy_setopt(x->h, CURLOPT_READFUNCTION, read_body);
		curl_easy_setopt(x->h, CURLOPT_READDATA, x);
		curl_easy_setopt(x->h, CURLOPT_SEEKFUNCTION, seek_body);
		curl_easy_setopt(x->h, CURLOPT_SEEKDATA, x);
		curl_easy_setopt(x->h, CURLOPT_UPLOAD_BUFFERSIZE,
				 UPLOAD_BUF_SIZE);
		curl_easy_setopt(x->h, CURLOPT_XFERINFOFUNCTION, xferinfo);
		curl_easy_setopt(x->h, CURLOPT_XFERINFODATA, x);
		curl_easy_setopt(x->h, CURLOPT_NOPROGRESS, 0L);
	} else if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(x->h, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(x->h, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(x->h, CURLOPT_NOBODY, 1L);
	}
	*out = x;
	x = NULL;
out:
	upload__xfer_free(x);
	return rc;
}

/*
 * The outcome of a finished request: 0 for a 2xx, else the classified
 * error. *retry says whether another attempt may succeed.
 */
int
upload__xfer_result(struct xfer *x, CURLcode cc, bool *retry, struct err *e)
{
	long status = 0;
	int rc;

	*retry = false;
	if (cc != CURLE_OK) {
		rc = cloud_easy_result(&x->ce, cc, e);
		if (cc == CURLE_ABORTED_BY_CALLBACK || cc == CURLE_READ_ERROR)
			return err_set(e, ERR_IO, "could not read the source");
		*retry = rc == ERR_NET;
		return rc;
	}
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300) {
		read_answer_headers(x);
		return 0;
	}
	rc = upload__store_error(status, buf_cstr(&x->ce.body), x->ce.body.len,
				 e);
	*retry = rc == ERR_UNAVAIL;
	return rc;
}

/* One control request (no source body), with retries; *out gets the body
 * (caller frees) when out is not NULL, *crc the CRC-64 the answer reported
 * when crc is not NULL. */
int
upload__store_control(const struct upload_transfer_opts *o,
		      const struct upload_session *s, const char *method,
		      const struct cloud_kv *params, size_t nparams,
		      const char *ctype, const char *body, size_t body_max,
		      char **out, struct store_crc *crc, struct err *e)
{
	int attempts = o->max_attempts > 0 ? o->max_attempts : 3;
	int rc = ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	for (int a = 1; a <= attempts; a++) {
		struct xfer *x = NULL;
		bool retry = false;
		CURLcode cc;

		rc = upload__xfer_new(o, s, method, params, nparams, ctype,
				      body ? (int64_t)strlen(body) : -1, &x, e);
		if (rc != 0)
			return rc;
		if (body != NULL)
			x->mem = (unsigned char *)xstrdup(body);
		x->ce.body.max = body_max;
		cc = curl_easy_perform(x->h);
		rc = upload__xfer_result(x, cc, &retry, e);
		if (rc == 0 && out != NULL)
			*out = buf_take(&x->ce.body, NULL);
		if (rc == 0 && crc != NULL)
			*crc = x->store_crc;
		upload__xfer_free(x);
		if (rc == 0 || !retry)
			return rc;
		if (a < attempts) {
			long ms = cloud_http_backoff_ms(o->cloud, a);
			struct timespec ts = {ms / 1000,
					      (ms % 1000) * 1000000L};

			nanosleep(&ts, NULL);
		}
	}
	return rc;
}

bool
upload__token_expired(const struct err *e)
{
	return e->code == ERR_AUTH &&
	       (strcmp(e->remote, "SecurityTokenExpired") == 0 ||
		strcmp(e->remote, "ExpiredToken") == 0 ||
		strcmp(e->remote, "InvalidSecurityToken") == 0);
}

bool
upload__crc_mismatch(const struct err *e)
{
	return strcmp(e->remote, UPLOAD_CRC_MISMATCH) == 0;
}

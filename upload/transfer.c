/*
 * transfer.c: the transfer engine for COS and OSS (S3-style object stores).
 *
 * Below the threshold an object goes in one PUT; at or above it, in parts:
 * InitiateMultipartUpload (or ListParts to reconcile a checkpoint), the
 * parts in parallel on one curl multi handle, then
 * CompleteMultipartUpload, whose 200 answer may still carry an <Error>
 * (COS streams whitespace while it merges) and is checked for it.
 *
 * Each request has its own easy handle (one per attempt). A part's body is
 * read by a read callback: pread() from the file at the part's offset, or,
 * for a stream source, from a buffer holding that one part; memory is
 * therefore bounded by part size x parallelism for streams and by curl's
 * upload buffers for files, whatever the size of the file. A part is
 * retried with backoff and jitter after a network error, a 5xx, 408 or
 * 429; never after a refusal (signature, key, token, access). A file
 * written while it was read is not completed (upload__source_check).
 *
 * The CRC-64 of each body is computed as curl reads it and compared with
 * the one the store answers (x-cos-hash-crc64ecma, x-oss-hash-crc64ecma):
 * a part or PUT stored with other bytes than were sent is sent again, and
 * a completed object must have the CRC combined from its parts'. The
 * parts' CRCs are checkpointed with their ETags, so that a resumed upload
 * is checked whole too; a part whose CRC is unknown (stored just before a
 * crash, or checkpointed without its CRC) is read again from a file,
 * and a stream's stored but not checkpointed one is sent again.
 *
 * Interface: upload__part_size, upload__transfer_run,
 * upload__transfer_abort, upload__store_error, upload__xml_tag.
 */
#include "upload/upload_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MIB		(1024 * 1024)
#define UPLOAD_BUF_SIZE (2L * MIB) /* CURLOPT_UPLOAD_BUFFERSIZE (curl max) */
#define STORE_BODY_MAX	(1u << 20) /* XML answers */
#define LIST_BODY_MAX	(8u << 20) /* ListParts pages */
#define STALL_SECONDS	30L

/* The CRC-64 a store reported for what it stored, if it did. */
struct store_crc {
	bool seen;
	uint64_t v;
};

/* One request in flight: a part, the whole object, or a control call. */
struct xfer {
	CURL *h;
	struct cloud_easy ce;
	bool ce_live;
	struct curl_slist *hdrs;
	char *url;
	int idx;	    /* index in the piece table */
	int64_t off;	    /* offset of the body in the source */
	int64_t len;	    /* body length */
	int64_t pos;	    /* bytes read so far */
	unsigned char *mem; /* stream source: the part's bytes */
	struct upload_source *src;
	char etag[80];
	struct store_crc store_crc;
	uint64_t crc;	 /* of the body's bytes [0, crc_len) */
	int64_t crc_len; /* == len: crc is the whole body's */
	int64_t *sent;
	int64_t inflight; /* bytes of this body sent (progress) */
	int cred_gen;	  /* credential generation it was signed with */
};

/* One piece of the object: a part (number >= 1) or the whole (0). */
struct piece {
	int number;
	int64_t off, len;
	bool done;
	bool active;
	int attempts;
	int free_attempts;   /* resent after a credential renewal */
	int64_t retry_at_ms; /* not before (monotonic) */
	char etag[80];
	bool has_crc; /* crc is that of the piece's bytes as sent */
	uint64_t crc;
};

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

/* Undo the five XML entities in place ("&quot;" in ETags). */
static void
xml_unescape(char *s)
{
	static const struct {
		const char *ent;
		char c;
	} ents[] = {{"&quot;", '"'}, {"&#34;", '"'}, {"&amp;", '&'},
		    {"&lt;", '<'},   {"&gt;", '>'},  {"&apos;", '\''},
		    {"&#39;", '\''}};
	char *w = s;

	for (const char *r = s; *r;) {
		size_t i;

		for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
			size_t n = strlen(ents[i].ent);

			if (strncmp(r, ents[i].ent, n) == 0) {
				*w++ = ents[i].c;
				r += n;
				break;
			}
		}
		if (i == sizeof(ents) / sizeof(ents[0]))
			*w++ = *r++;
	}
	*w = '\0';
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
	static const char *const retry[] = {
	    "InternalError",  "ServiceUnavailable", "SlowDown",
	    "RequestTimeout", "ServiceUnAvailable", NULL};
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

int64_t
upload__part_size(int64_t size, int64_t want, int64_t min, int max_parts)
{
	int64_t ps = want > 0 ? want : 8 * MIB;

	if (ps < min)
		ps = min;
	if (max_parts <= 0)
		max_parts = 10000;
	while ((size + ps - 1) / ps > max_parts)
		ps *= 2;
	return ps;
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

static void
xfer_free(struct xfer *x)
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
static int
xfer_new(const struct upload_transfer_opts *o, const struct upload_session *s,
	 const char *method, const struct cloud_kv *params, size_t nparams,
	 const char *ctype, int64_t len, struct xfer **out, struct err *e)
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
	xfer_free(x);
	return rc;
}

/*
 * The outcome of a finished request: 0 for a 2xx, else the classified
 * error. *retry says whether another attempt may succeed.
 */
static int
xfer_result(struct xfer *x, CURLcode cc, bool *retry, struct err *e)
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
static int
control(const struct upload_transfer_opts *o, const struct upload_session *s,
	const char *method, const struct cloud_kv *params, size_t nparams,
	const char *ctype, const char *body, size_t body_max, char **out,
	struct store_crc *crc, struct err *e)
{
	int attempts = o->max_attempts > 0 ? o->max_attempts : 3;
	int rc = ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	for (int a = 1; a <= attempts; a++) {
		struct xfer *x = NULL;
		bool retry = false;
		CURLcode cc;

		rc = xfer_new(o, s, method, params, nparams, ctype,
			      body ? (int64_t)strlen(body) : -1, &x, e);
		if (rc != 0)
			return rc;
		if (body != NULL)
			x->mem = (unsigned char *)xstrdup(body);
		x->ce.body.max = body_max;
		cc = curl_easy_perform(x->h);
		rc = xfer_result(x, cc, &retry, e);
		if (rc == 0 && out != NULL)
			*out = buf_take(&x->ce.body, NULL);
		if (rc == 0 && crc != NULL)
			*crc = x->store_crc;
		xfer_free(x);
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

/* ---------------------------------------------------------------- multipart */

static int
initiate(const struct upload_transfer_opts *o, const struct upload_session *s,
	 char **upload_id, struct err *e)
{
	const struct cloud_kv params[] = {{"uploads", ""}};
	char *body = NULL;
	int rc;

	rc = control(o, s, "POST", params, 1, "application/octet-stream", "",
		     STORE_BODY_MAX, &body, NULL, e);
	if (rc != 0)
		return rc;
	*upload_id =
	    upload__xml_tag(body, strlen(body ? body : ""), "UploadId");
	free(body);
	if (*upload_id == NULL || (*upload_id)[0] == '\0') {
		free(*upload_id);
		*upload_id = NULL;
		return err_set(e, ERR_REMOTE,
			       "InitiateMultipartUpload answered without an "
			       "UploadId");
	}
	return 0;
}

/*
 * ListParts: mark as done the pieces the store has with the expected size
 * and the checkpointed ETag. A piece the checkpoint lacks (sent just
 * before the process died) is taken too when read from a file, whose
 * bytes give its CRC for the object's check (check_object_crc); from a
 * stream, which cannot be read again, it is sent again, so that every
 * piece's CRC is known.
 */
static int
reconcile(const struct upload_transfer_opts *o, const struct upload_session *s,
	  const char *upload_id, bool stream, struct piece *pieces, int n,
	  struct err *e)
{
	char marker[16] = "0";
	int rc = 0;
	bool more = true;

	for (int i = 0; i < n; i++)
		pieces[i].done = false;
	while (more) {
		const struct cloud_kv params[] = {
		    {"max-parts", "1000"},
		    {"part-number-marker", marker},
		    {"uploadId", upload_id}};
		char *body = NULL, *p, *trunc, *next;

		rc = control(o, s, "GET", params, 3, NULL, NULL, LIST_BODY_MAX,
			     &body, NULL, e);
		if (rc != 0)
			return rc;
		for (p = strstr(body, "<Part>"); p != NULL;
		     p = strstr(p + 6, "<Part>")) {
			char *end = strstr(p, "</Part>");
			size_t len = end ? (size_t)(end - p) : strlen(p);
			char *num = upload__xml_tag(p, len, "PartNumber");
			char *etag = upload__xml_tag(p, len, "ETag");
			char *size = upload__xml_tag(p, len, "Size");
			int64_t pn = 0, sz = -1;

			if (num && etag && size &&
			    parse_i64(num, 1, n, &pn) == 0 &&
			    parse_i64(size, 0, INT64_MAX, &sz) == 0) {
				struct piece *pc = &pieces[pn - 1];

				xml_unescape(etag);
				if (sz == pc->len &&
				    (pc->etag[0] == '\0'
					 ? !stream
					 : strcmp(pc->etag, etag) == 0)) {
					pc->done = true;
					snprintf(pc->etag, sizeof(pc->etag),
						 "%s", etag);
				}
			}
			free(num);
			free(etag);
			free(size);
		}
		trunc = upload__xml_tag(body, strlen(body), "IsTruncated");
		next =
		    upload__xml_tag(body, strlen(body), "NextPartNumberMarker");
		more = trunc != NULL && strcmp(trunc, "true") == 0 &&
		       next != NULL && strcmp(next, marker) != 0;
		if (more)
			snprintf(marker, sizeof(marker), "%s", next);
		free(trunc);
		free(next);
		free(body);
	}
	/* A checkpointed ETag the store does not list is sent again. */
	for (int i = 0; i < n; i++) {
		if (!pieces[i].done) {
			pieces[i].etag[0] = '\0';
			pieces[i].has_crc = false;
		}
	}
	return rc;
}

/*
 * The CRC of a piece sent before a restart and found in the store without
 * its checkpoint (the process died between the two): read again from the
 * file, which has not changed since (upload__source_check, and the
 * version a resumed session is checked against). A stream cannot be.
 */
static int
piece_crc_from_source(struct upload_source *src, struct piece *pc,
		      struct err *e)
{
	size_t bufsize = 1u << 20;
	unsigned char *buf;
	uint64_t crc = 0;
	int rc = 0;

	if (!upload__source_seekable(src))
		return 0;
	buf = xmalloc(bufsize);
	for (int64_t off = 0; off < pc->len && rc == 0;) {
		size_t k = pc->len - off < (int64_t)bufsize
			       ? (size_t)(pc->len - off)
			       : bufsize;

		if ((rc = upload__source_read(src, pc->off + off, buf, k, e)) ==
		    0) {
			crc = upload__crc64(crc, buf, k);
			off += (int64_t)k;
		}
	}
	free(buf);
	if (rc == 0) {
		pc->crc = crc;
		pc->has_crc = true;
	}
	return rc;
}

/*
 * The completed object's CRC, when the store reported it, must be the
 * parts' combined: else the store joined other bytes than were sent
 * (parts of another attempt, say). Unchecked when a part's CRC is unknown
 * (a stream resumed past parts sent before).
 */
static int
check_object_crc(struct upload_source *src, struct piece *pieces, int n,
		 const struct store_crc *crc, struct err *e)
{
	uint64_t whole = 0;
	int rc;

	if (!crc->seen)
		return 0;
	for (int i = 0; i < n; i++) {
		if (!pieces[i].has_crc &&
		    (rc = piece_crc_from_source(src, &pieces[i], e)) != 0)
			return rc;
		if (!pieces[i].has_crc)
			return 0;
		whole =
		    upload__crc64_combine(whole, pieces[i].crc, pieces[i].len);
	}
	if (whole == crc->v)
		return 0;
	return err_set_remote(e, ERR_UNAVAIL, UPLOAD_CRC_MISMATCH,
			      "the completed object's CRC-64 (%" PRIu64
			      ") is not that of the parts sent (%" PRIu64 ")",
			      crc->v, whole);
}

static int
complete(const struct upload_transfer_opts *o, const struct upload_session *s,
	 struct upload_source *src, const char *upload_id, struct piece *pieces,
	 int n, struct err *e)
{
	const struct cloud_kv params[] = {{"uploadId", upload_id}};
	int attempts = o->max_attempts > 0 ? o->max_attempts : 3;
	struct store_crc crc = {false, 0};
	struct buf xml;
	char *body = NULL;
	int rc = 0;

	buf_init(&xml, (size_t)n * 200 + 256);
	rc = buf_puts(&xml, "<CompleteMultipartUpload>");
	for (int i = 0; rc == 0 && i < n; i++) {
		/* ETags are quoted; escape the quotes for XML. */
		rc = buf_printf(&xml, "<Part><PartNumber>%d</PartNumber><ETag>",
				pieces[i].number);
		for (const char *c = pieces[i].etag; rc == 0 && *c; c++)
			rc = *c == '"'	 ? buf_puts(&xml, "&quot;")
			     : *c == '&' ? buf_puts(&xml, "&amp;")
			     : *c == '<' ? buf_puts(&xml, "&lt;")
					 : buf_putc(&xml, *c);
		if (rc == 0)
			rc = buf_puts(&xml, "</ETag></Part>");
	}
	if (rc == 0)
		rc = buf_puts(&xml, "</CompleteMultipartUpload>");
	if (rc != 0) {
		buf_free(&xml);
		return err_set(e, rc, "part list is too long");
	}
	for (int a = 1; a <= attempts; a++) {
		rc = control(o, s, "POST", params, 1, "application/xml",
			     buf_cstr(&xml), STORE_BODY_MAX, &body, &crc, e);
		if (rc != 0)
			break;
		/* A 200 may still carry an error: COS answers 200 at once and
		 * reports a failed merge in the body. */
		if (strstr(body ? body : "", "<Error>") != NULL ||
		    strstr(body ? body : "", "<ETag>") == NULL) {
			rc = upload__store_error(500, body ? body : "",
						 body ? strlen(body) : 0, e);
			if (strstr(body ? body : "", "<Error>") == NULL)
				rc = err_set(e, ERR_UNAVAIL,
					     "CompleteMultipartUpload answered "
					     "200 without a result");
			free(body);
			body = NULL;
			if (rc == ERR_UNAVAIL && a < attempts) {
				long ms = cloud_http_backoff_ms(o->cloud, a);
				struct timespec ts = {ms / 1000,
						      (ms % 1000) * 1000000L};

				nanosleep(&ts, NULL);
				continue;
			}
			break;
		}
		rc = check_object_crc(src, pieces, n, &crc, e);
		break;
	}
	free(body);
	buf_free(&xml);
	return rc;
}

bool
upload__crc_mismatch(const struct err *e)
{
	return strcmp(e->remote, UPLOAD_CRC_MISMATCH) == 0;
}

void
upload__transfer_abort(const struct upload_transfer_opts *o,
		       const struct upload_session *s, const char *multipart_id)
{
	const struct cloud_kv params[] = {{"uploadId", multipart_id}};
	struct upload_transfer_opts one = *o;
	struct err e;

	if (multipart_id == NULL || multipart_id[0] == '\0')
		return;
	one.max_attempts = 2;
	err_clear(&e);
	if (control(&one, s, "DELETE", params, 1, NULL, NULL, STORE_BODY_MAX,
		    NULL, NULL, &e) != 0 &&
	    e.code != ERR_NOTFOUND)
		log_msg(LOG_WARN, "upload",
			"could not abort multipart upload: %s", e.msg);
}

/* ---------------------------------------------------------------- the loop */

struct run {
	const struct upload_transfer_opts *o;
	const struct upload_session *s;
	struct upload_source *src;
	const char *upload_id; /* NULL: a single PUT */
	struct piece *pieces;
	int n;
	int64_t *sent;
	const struct upload_transfer_hooks *h;
	int64_t total;
	int64_t done_bytes;
	struct xfer **live;   /* the request in flight per piece, or NULL */
	int waiting;	      /* failed pieces waiting to be sent again */
	int cred_gen;	      /* bumped by every credential refresh */
	int reauth;	      /* refreshes after refusals since a part went */
	int64_t refreshed_ms; /* last refresh (monotonic), 0: none */
	/* run_pieces's loop */
	CURLM *m;
	unsigned char **kept; /* a stream's bytes of a piece to send again */
	int parallel;	      /* pieces in flight at most */
	int attempts;	      /* per piece, renewals not counted */
	bool seekable;	      /* the source is a file */
	int active;	      /* pieces in flight */
	int next;	      /* the lowest piece never started */
	int remaining;	      /* pieces not done */
};

#define MAX_REAUTH 3

bool
upload__token_expired(const struct err *e)
{
	return e->code == ERR_AUTH &&
	       (strcmp(e->remote, "SecurityTokenExpired") == 0 ||
		strcmp(e->remote, "ExpiredToken") == 0 ||
		strcmp(e->remote, "InvalidSecurityToken") == 0);
}

/* Renew the credential through the hook: when forced (a refusal), or when
 * it expires within the margin and was not renewed just now. */
static int
refresh_credential(struct run *r, bool force, struct err *e)
{
	int64_t now = time_mono_ms();
	int rc;

	if (r->h == NULL || r->h->refresh == NULL)
		return 0;
	if (!force &&
	    (r->s->expires_at <= 0 ||
	     time_unix() < r->s->expires_at - UPLOAD_REFRESH_MARGIN_S ||
	     (r->refreshed_ms != 0 &&
	      now - r->refreshed_ms < UPLOAD_REFRESH_EVERY_S * 1000L)))
		return 0;
	r->refreshed_ms = now;
	if ((rc = r->h->refresh(r->h->arg, e)) != 0) {
		/* Early renewal failed: go on while the old one is valid. */
		if (!force && time_unix() < r->s->expires_at) {
			log_msg(LOG_WARN, "upload",
				"could not renew the credential early: %s",
				e != NULL ? e->msg : "");
			err_clear(e);
			return 0;
		}
		return rc;
	}
	r->cred_gen++;
	return 0;
}

static int
add_xfer(struct run *r, CURLM *m, struct xfer *x, struct err *e)
{
	struct piece *pc = &r->pieces[x->idx];

	pc->active = true;
	pc->attempts++;
	if (curl_multi_add_handle(m, x->h) != CURLM_OK) {
		pc->active = false;
		xfer_free(x);
		return err_set(e, ERR_INTERNAL, "could not add curl handle");
	}
	r->live[x->idx] = x;
	return 0;
}

/*
 * Start piece i. mem, when not NULL, is the piece's bytes kept from a
 * failed attempt of a stream (taken over).
 */
static int
start_piece(struct run *r, CURLM *m, int i, unsigned char *mem, struct err *e)
{
	struct piece *pc = &r->pieces[i];
	char num[16];
	const struct cloud_kv params[] = {{"partNumber", num},
					  {"uploadId", r->upload_id}};
	struct xfer *x = NULL;
	int rc;

	snprintf(num, sizeof(num), "%d", pc->number);
	rc = xfer_new(r->o, r->s, "PUT", params, r->upload_id ? 2 : 0, NULL,
		      pc->len, &x, e);
	if (rc != 0) {
		free(mem);
		return rc;
	}
	x->idx = i;
	x->cred_gen = r->cred_gen;
	x->off = pc->off;
	x->src = r->src;
	x->sent = r->sent;
	x->mem = mem;
	if (x->mem == NULL && !upload__source_seekable(r->src)) {
		/* A stream is read once: keep the part for its retries. */
		x->mem = xmalloc(pc->len > 0 ? (size_t)pc->len : 1);
		if ((rc = upload__source_read(r->src, pc->off, x->mem,
					      (size_t)pc->len, e)) != 0) {
			xfer_free(x);
			return rc;
		}
	}
	return add_xfer(r, m, x, e);
}

/* A piece the store stored with another CRC than that of the bytes read
 * is not done: it is sent again (bounded, as after a failure). */
static int
check_piece_crc(const struct xfer *x, const struct piece *pc, struct err *e)
{
	char what[32];

	if (!x->store_crc.seen || x->crc_len != x->len ||
	    x->store_crc.v == x->crc)
		return 0;
	if (pc->number == 0)
		snprintf(what, sizeof(what), "the stored object's");
	else
		snprintf(what, sizeof(what), "part %d: the stored", pc->number);
	return err_set_remote(e, ERR_UNAVAIL, UPLOAD_CRC_MISMATCH,
			      "%s CRC-64 (%" PRIu64
			      ") is not that of the bytes sent (%" PRIu64 ")",
			      what, x->store_crc.v, x->crc);
}

static int64_t
inflight_bytes(const struct run *r)
{
	int64_t n = 0;

	for (int i = 0; i < r->n; i++)
		if (r->live[i] != NULL)
			n += r->live[i]->inflight;
	return n;
}

/*
 * Start the failed pieces whose retry is due, in piece order. Only while a
 * piece waits: the loop turns each time a socket can take more bytes, and
 * an object has up to 10,000 pieces.
 */
static int
start_due_retries(struct run *r, struct err *e)
{
	int64_t now = time_mono_ms();
	int rc;

	for (int i = 0; i < r->n && r->active < r->parallel && r->waiting > 0;
	     i++) {
		struct piece *pc = &r->pieces[i];

		if (pc->done || pc->active || pc->attempts == 0 ||
		    pc->retry_at_ms > now)
			continue;
		r->waiting--;
		rc = start_piece(r, r->m, i, r->kept[i], e);
		r->kept[i] = NULL;
		if (rc != 0)
			return rc;
		r->active++;
	}
	return 0;
}

/* Start pieces never sent, in ascending order (a stream is read in
 * order), while there is room. */
static int
start_new_pieces(struct run *r, struct err *e)
{
	int rc;

	for (; r->active < r->parallel && r->next < r->n; r->next++) {
		struct piece *pc = &r->pieces[r->next];

		if (pc->done || pc->active || pc->attempts > 0)
			continue;
		if ((rc = start_piece(r, r->m, r->next, NULL, e)) != 0)
			return rc;
		r->active++;
	}
	return 0;
}

/* A piece is stored: note it done and checkpoint it (a part). Takes x. */
static int
piece_stored(struct run *r, struct xfer *x, struct err *e)
{
	struct piece *pc = &r->pieces[x->idx];
	struct upload_part up;

	pc->done = true;
	snprintf(pc->etag, sizeof(pc->etag), "%s", x->etag);
	pc->has_crc = x->crc_len == x->len;
	pc->crc = x->crc;
	r->done_bytes += pc->len;
	r->remaining--;
	r->reauth = 0;
	xfer_free(x);
	if (r->upload_id == NULL || r->h == NULL || r->h->on_part == NULL)
		return 0;
	up = (struct upload_part){.number = pc->number,
				  .size = pc->len,
				  .done = true,
				  .has_crc64 = pc->has_crc,
				  .crc64 = pc->crc};
	snprintf(up.etag, sizeof(up.etag), "%s", pc->etag);
	return r->h->on_part(r->h->arg, &up, e);
}

/* Put a failed piece back in the queue, due at retry_at_ms; a stream's
 * bytes are kept for it. Takes x. */
static void
piece_requeue(struct run *r, struct xfer *x, int64_t retry_at_ms)
{
	struct piece *pc = &r->pieces[x->idx];

	pc->retry_at_ms = retry_at_ms;
	r->waiting++;
	if (!r->seekable) {
		r->kept[x->idx] = x->mem;
		x->mem = NULL;
	}
	xfer_free(x);
}

/* The outcome of a finished request: 0 when its piece is stored, else the
 * error; *retry says whether another attempt may succeed. */
static int
piece_result(struct run *r, struct xfer *x, CURLcode cc, bool *retry,
	     struct err *xe)
{
	const struct piece *pc = &r->pieces[x->idx];
	int xrc = xfer_result(x, cc, retry, xe);

	if (xrc == 0 && x->etag[0] == '\0' && r->upload_id) {
		*retry = true;
		return err_set(xe, ERR_UNAVAIL,
			       "part %d answered without an ETag", pc->number);
	}
	if (xrc == 0 && (xrc = check_piece_crc(x, pc, xe)) != 0)
		*retry = true;
	return xrc;
}

/*
 * Handle a finished request: its piece stored, sent again with a renewed
 * credential (a refused token; that try is not counted), retried after a
 * backoff, or the transfer's failure once its attempts ran out or it was
 * refused. Nonzero ends the transfer.
 */
static int
piece_finished(struct run *r, CURLMsg *msg, struct err *e)
{
	struct xfer *x = NULL;
	struct piece *pc;
	bool retry = false;
	struct err xe;
	int xrc, rc;

	curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
	curl_multi_remove_handle(r->m, x->h);
	r->live[x->idx] = NULL;
	r->active--;
	pc = &r->pieces[x->idx];
	pc->active = false;
	err_clear(&xe);
	xrc = piece_result(r, x, msg->data.result, &retry, &xe);
	if (xrc == 0)
		return piece_stored(r, x, e);
	if (upload__token_expired(&xe) && r->h && r->h->refresh &&
	    r->reauth < MAX_REAUTH) {
		/* Renew once per credential, then send the part again. */
		if (x->cred_gen == r->cred_gen) {
			log_msg(LOG_INFO, "upload",
				"part %d: %s; renewing the credential",
				pc->number, xe.msg);
			r->reauth++;
			if ((rc = refresh_credential(r, true, e)) != 0) {
				xfer_free(x);
				return rc;
			}
		}
		pc->free_attempts++;
		piece_requeue(r, x, 0);
		return 0;
	}
	if (!retry || pc->attempts - pc->free_attempts >= r->attempts) {
		if (retry)
			err_set_remote(e, xrc, xe.remote,
				       "%s (part %d, %d attempts)", xe.msg,
				       pc->number, pc->attempts);
		else if (e != NULL)
			*e = xe;
		xfer_free(x);
		return xrc;
	}
	log_msg(LOG_INFO, "upload", "part %d attempt %d failed, retrying: %s",
		pc->number, pc->attempts, xe.msg);
	piece_requeue(r, x,
		      time_mono_ms() +
			  cloud_http_backoff_ms(r->o->cloud, pc->attempts));
	return 0;
}

/* Bytes stored and in flight, to the progress hook at most every 100 ms. */
static void
report_progress(struct run *r, int64_t *last_ms)
{
	int64_t t;

	if (r->h == NULL || r->h->on_progress == NULL)
		return;
	t = time_mono_ms();
	if (t - *last_ms >= 100) {
		r->h->on_progress(r->h->arg, r->done_bytes + inflight_bytes(r),
				  r->total);
		*last_ms = t;
	}
}

/* Abandon whatever is still in flight, and the bytes kept for retries. */
static void
drop_in_flight(struct run *r)
{
	for (int i = 0; i < r->n; i++) {
		if (r->live[i] != NULL) {
			curl_multi_remove_handle(r->m, r->live[i]->h);
			xfer_free(r->live[i]);
			r->live[i] = NULL;
		}
		free(r->kept[i]);
	}
}

/*
 * Send every piece not done, r->parallel at a time on one multi handle:
 * each turn stops when asked, renews a credential about to expire, starts
 * the retries that are due and then new pieces, and handles the requests
 * that finished.
 */
static int
run_pieces(struct run *r, struct err *e)
{
	int64_t last_progress = 0;
	int rc = 0;

	r->parallel = r->o->parallel > 0 ? r->o->parallel : 4;
	r->attempts = r->o->max_attempts > 0 ? r->o->max_attempts : 3;
	r->seekable = upload__source_seekable(r->src);
	r->active = r->next = r->remaining = 0;
	if ((r->m = curl_multi_init()) == NULL)
		fatal("out of memory");
	r->kept = xcalloc((size_t)r->n, sizeof(*r->kept));
	r->live = xcalloc((size_t)r->n, sizeof(*r->live));
	for (int i = 0; i < r->n; i++) {
		if (r->pieces[i].done)
			r->done_bytes += r->pieces[i].len;
		else
			r->remaining++;
	}
	while (r->remaining > 0) {
		int running = 0, msgs = 0, finished = 0;
		CURLMsg *msg;

		if (r->h && r->h->should_stop && r->h->should_stop(r->h->arg)) {
			rc = err_set(e, ERR_CANCELED, "transfer stopped");
			break;
		}
		if ((rc = refresh_credential(r, false, e)) != 0 ||
		    (rc = start_due_retries(r, e)) != 0 ||
		    (rc = start_new_pieces(r, e)) != 0)
			break;
		curl_multi_perform(r->m, &running);
		while (rc == 0 &&
		       (msg = curl_multi_info_read(r->m, &msgs)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			finished++;
			rc = piece_finished(r, msg, e);
		}
		if (rc != 0)
			break;
		report_progress(r, &last_progress);
		/* A finished piece freed a connection: start the next one
		 * now rather than after the poll's timeout. */
		if (r->remaining > 0 && finished == 0)
			curl_multi_poll(r->m, NULL, 0, 100, NULL);
	}
	drop_in_flight(r);
	free(r->kept);
	free(r->live);
	r->kept = NULL;
	r->live = NULL;
	curl_multi_cleanup(r->m);
	r->m = NULL;
	if (r->h && r->h->on_progress)
		r->h->on_progress(r->h->arg, r->done_bytes, r->total);
	return rc;
}

int
upload__transfer_run(const struct upload_transfer_opts *o,
		     const struct upload_session *s, struct upload_source *src,
		     char **multipart_id, struct upload_part **parts,
		     int *nparts, const struct upload_transfer_hooks *h,
		     int64_t *sent, struct err *e)
{
	int64_t size = upload__source_size(src), ps;
	int64_t sent_local = 0;
	struct run r = {
	    .o = o,
	    .s = s,
	    .src = src,
	    .sent = sent != NULL ? sent : &sent_local,
	    .h = h,
	    .total = size,
	};
	int rc = 0;

	if (size < 0)
		return err_set(e, ERR_INTERNAL, "source size unknown");
	if (size < o->threshold || size == 0) {
		r.n = 1;
		r.pieces = xcalloc(1, sizeof(*r.pieces));
		r.pieces[0].len = size;
		rc = run_pieces(&r, e);
		/* Stored already: a file written meanwhile is sent again. */
		if (rc == 0)
			rc = upload__source_check(src, e);
		free(r.pieces);
		return rc;
	}
	ps = upload__part_size(size, o->part_size, s->target.min_part_size,
			       s->target.max_parts);
	r.n = (int)((size + ps - 1) / ps);
	r.pieces = xcalloc((size_t)r.n, sizeof(*r.pieces));
	for (int i = 0; i < r.n; i++) {
		r.pieces[i].number = i + 1;
		r.pieces[i].off = (int64_t)i * ps;
		r.pieces[i].len = i == r.n - 1 ? size - (int64_t)i * ps : ps;
	}
	/* The checkpoint is only valid for the same part layout. */
	if (*multipart_id != NULL && *nparts > 0 && (*parts)[0].size != ps &&
	    r.n > 1)
		*nparts = 0;
	for (int i = 0; i < *nparts; i++) {
		int k = (*parts)[i].number - 1;

		if (k >= 0 && k < r.n) {
			snprintf(r.pieces[k].etag, sizeof(r.pieces[k].etag),
				 "%s", (*parts)[i].etag);
			r.pieces[k].has_crc = (*parts)[i].has_crc64;
			r.pieces[k].crc = (*parts)[i].crc64;
		}
	}
	if ((rc = refresh_credential(&r, false, e)) != 0)
		goto out;
	if (*multipart_id != NULL) {
		rc = reconcile(o, s, *multipart_id,
			       !upload__source_seekable(src), r.pieces, r.n, e);
		if (rc != 0)
			goto out;
	} else {
		if ((rc = initiate(o, s, multipart_id, e)) != 0)
			goto out;
		if (h && h->on_init &&
		    (rc = h->on_init(h->arg, *multipart_id, ps, e)) != 0)
			goto out;
	}
	r.upload_id = *multipart_id;
	if ((rc = run_pieces(&r, e)) != 0)
		goto out;
	/* A file written while its parts were read is not completed. */
	if ((rc = upload__source_check(src, e)) != 0)
		goto out;
	if ((rc = refresh_credential(&r, false, e)) != 0)
		goto out;
	rc = complete(o, s, src, *multipart_id, r.pieces, r.n, e);
	/* Completed with other bytes: the multipart upload is no more. */
	if (rc != 0 && upload__crc_mismatch(e)) {
		free(*multipart_id);
		*multipart_id = NULL;
	}
out:
	free(*parts);
	*parts = xcalloc((size_t)r.n, sizeof(**parts));
	*nparts = r.n;
	for (int i = 0; i < r.n; i++) {
		(*parts)[i].number = r.pieces[i].number;
		(*parts)[i].size = r.pieces[i].len;
		(*parts)[i].done = r.pieces[i].done;
		snprintf((*parts)[i].etag, sizeof((*parts)[i].etag), "%s",
			 r.pieces[i].etag);
		(*parts)[i].has_crc64 = r.pieces[i].has_crc;
		(*parts)[i].crc64 = r.pieces[i].crc;
	}
	free(r.pieces);
	return rc;
}

/*
 * multipart.c: the control steps of a multipart upload: initiate,
 * reconcile a checkpoint with ListParts, complete, abort.
 *
 * CompleteMultipartUpload's 200 answer may still carry an <Error> (COS
 * streams whitespace while it merges) and is checked for it; the completed
 * object's CRC-64 must be the one combined from its parts'.
 *
 * Interface: upload__multipart_initiate, upload__multipart_reconcile,
 * upload__multipart_complete, upload__transfer_abort (upload/ only).
 */
#include "upload/transfer_int.h"

#include "common/metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int
upload__multipart_initiate(const struct upload_transfer_opts *o,
			   const struct upload_session *s, char **upload_id,
			   struct err *e)
{
	const struct cloud_kv params[] = {{"uploads", ""}};
	char *body = NULL;
	int rc;

	rc = upload__store_control(o, s, "POST", params, 1,
				   "application/octet-stream", "",
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
int
upload__multipart_reconcile(const struct upload_transfer_opts *o,
			    const struct upload_session *s,
			    const char *upload_id, bool stream,
			    struct piece *pieces, int n, struct err *e)
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

		rc = upload__store_control(o, s, "GET", params, 3, NULL, NULL,
					   LIST_BODY_MAX, &body, NULL, e);
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
	metric_add(METRIC_UPLOAD_CRC_MISMATCHES, 1);
	return err_set_remote(e, ERR_UNAVAIL, UPLOAD_CRC_MISMATCH,
			      "the completed object's CRC-64 (%" PRIu64
			      ") is not that of the parts sent (%" PRIu64 ")",
			      crc->v, whole);
}

int
upload__multipart_complete(const struct upload_transfer_opts *o,
			   const struct upload_session *s,
			   struct upload_source *src, const char *upload_id,
			   struct piece *pieces, int n, struct err *e)
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
		rc = upload__store_control(o, s, "POST", params, 1,
					   "application/xml", buf_cstr(&xml),
					   STORE_BODY_MAX, &body, &crc, e);
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
	if (upload__store_control(&one, s, "DELETE", params, 1, NULL, NULL,
				  STORE_BODY_MAX, NULL, NULL, &e) != 0 &&
	    e.code != ERR_NOTFOUND)
		log_msg(LOG_WARN, "upload",
			"could not abort multipart upload: %s", e.msg);
}

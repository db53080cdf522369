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
 * The requests themselves are store_request.c's, the multipart control
 * steps multipart.c's.
 *
 * Interface: upload__part_size, upload__transfer_run.
 */
#include "upload/transfer_int.h"

#include "common/metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int64_t
upload__part_size_spread(int64_t size, int64_t want, int64_t min, int max_parts,
			 int spread)
{
	int64_t ps = want > 0 ? want : 8 * MIB;
	int64_t floor = min > MIB ? min : MIB;

	if (spread > 1 && size / ps < spread && ps > floor) {
		/* Enough parts for spread at once, in whole MiB. */
		ps = (size / spread + MIB - 1) / MIB * MIB;
		if (ps < floor)
			ps = floor;
	}
	return upload__part_size(size, ps, min, max_parts);
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
	int parallel;	      /* pieces in flight at most, now */
	struct upload_tune tune;
	int64_t buffered; /* a stream's bytes held (in flight, kept) */
	int attempts;	  /* per piece, renewals not counted */
	bool seekable;	  /* the source is a file */
	int active;	  /* pieces in flight */
	int next;	  /* the lowest piece never started */
	int remaining;	  /* pieces not done */
};

#define MAX_REAUTH 3

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
	metric_add(METRIC_UPLOAD_CREDENTIAL_REFRESHES, 1);
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
		upload__xfer_free(x);
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
	rc = upload__xfer_new(r->o, r->s, "PUT", params, r->upload_id ? 2 : 0,
			      NULL, pc->len, &x, e);
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
	upload__xfer_set_buffer(x, r->parallel);
	if (x->mem == NULL && !upload__source_seekable(r->src)) {
		/* A stream is read once: keep the part for its retries. */
		r->buffered += pc->len;
		metric_add(METRIC_UPLOAD_STREAM_BUFFERED, pc->len);
		metric_max(METRIC_UPLOAD_STREAM_BUFFERED_PEAK, r->buffered);
		x->mem = xmalloc(pc->len > 0 ? (size_t)pc->len : 1);
		if ((rc = upload__source_read(r->src, pc->off, x->mem,
					      (size_t)pc->len, e)) != 0) {
			upload__xfer_free(x);
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
	metric_add(METRIC_UPLOAD_CRC_MISMATCHES, 1);
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
		if (!upload__conns_take(r->o->conns))
			break;
		r->waiting--;
		rc = start_piece(r, r->m, i, r->kept[i], e);
		r->kept[i] = NULL;
		if (rc != 0) {
			upload__conns_give(r->o->conns);
			return rc;
		}
		r->active++;
	}
	return 0;
}

/* A stream's part is read into memory: within the budget, unless it is
 * the only one (a part larger than the budget still goes, alone). */
static bool
stream_room(const struct run *r, const struct piece *pc)
{
	return r->seekable || r->buffered == 0 || r->o->stream_buffer <= 0 ||
	       r->buffered + pc->len <= r->o->stream_buffer;
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
		if (!stream_room(r, pc) || !upload__conns_take(r->o->conns))
			break;
		if ((rc = start_piece(r, r->m, r->next, NULL, e)) != 0) {
			upload__conns_give(r->o->conns);
			return rc;
		}
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
	if (x->mem != NULL && !r->seekable) {
		r->buffered -= pc->len;
		metric_add(METRIC_UPLOAD_STREAM_BUFFERED, -pc->len);
	}
	metric_add(METRIC_UPLOAD_SENT_BYTES, pc->len);
	r->remaining--;
	r->reauth = 0;
	upload__xfer_free(x);
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
	metric_add(METRIC_UPLOAD_PARTS_RETRIED, 1);
	if (!r->seekable) {
		r->kept[x->idx] = x->mem;
		x->mem = NULL;
	}
	upload__xfer_free(x);
}

/* The outcome of a finished request: 0 when its piece is stored, else the
 * error; *retry says whether another attempt may succeed. */
static int
piece_result(struct run *r, struct xfer *x, CURLcode cc, bool *retry,
	     struct err *xe)
{
	const struct piece *pc = &r->pieces[x->idx];
	int xrc = upload__xfer_result(x, cc, retry, xe);

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
	upload__conns_give(r->o->conns);
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
				upload__xfer_free(x);
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
		upload__xfer_free(x);
		return xrc;
	}
	log_msg(LOG_INFO, "upload", "part %d attempt %d failed, retrying: %s",
		pc->number, pc->attempts, xe.msg);
	upload__tune_failed(&r->tune, upload__xfer_throttled(x, &xe),
			    r->active + 1, time_mono_ms());
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
				  r->total, r->tune.rate, r->active);
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
			upload__xfer_free(r->live[i]);
			upload__conns_give(r->o->conns);
			r->live[i] = NULL;
		}
		free(r->kept[i]);
	}
	metric_add(METRIC_UPLOAD_STREAM_BUFFERED, -r->buffered);
	r->buffered = 0;
}

/* The parts in flight wanted this turn: the tuned count within the
 * process's share. */
static void
tune_turn(struct run *r)
{
	int want = upload__tune_sample(&r->tune, *r->sent, time_mono_ms());
	int share = upload__conns_share(r->o->conns);

	r->parallel = want < share ? want : share;
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

	upload__tune_init(&r->tune, r->o->parallel > 0 ? r->o->parallel : 16,
			  r->o->parallel_max, r->pieces[0].len, *r->sent,
			  time_mono_ms());
	r->parallel = r->tune.cur;
	r->attempts = r->o->max_attempts > 0 ? r->o->max_attempts : 3;
	r->seekable = upload__source_seekable(r->src);
	r->active = r->next = r->remaining = 0;
	if ((r->m = curl_multi_init()) == NULL)
		fatal("out of memory");
	upload__conns_join(r->o->conns);
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
		tune_turn(r);
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
	upload__conns_leave(r->o->conns);
	if (r->h && r->h->on_progress)
		r->h->on_progress(r->h->arg, r->done_bytes, r->total, 0, 0);
	if (r->tune.peak > r->tune.max / 2 || r->tune.throttles > 0)
		log_msg(LOG_INFO, "upload",
			"parts in flight: %d at most (of %d), %d at the end, "
			"%d throttled",
			r->tune.peak, r->tune.max, r->tune.cur,
			r->tune.throttles);
	return rc;
}

/*
 * Lay out the pieces of a multipart upload of size bytes in parts of ps,
 * and take the checkpoint's ETags and CRCs into them; a checkpoint is only
 * valid for the same part layout.
 */
static void
plan_parts(struct run *r, int64_t size, int64_t ps, bool resumed,
	   const struct upload_part *parts, int nparts)
{
	r->n = (int)((size + ps - 1) / ps);
	r->pieces = xcalloc((size_t)r->n, sizeof(*r->pieces));
	for (int i = 0; i < r->n; i++) {
		r->pieces[i].number = i + 1;
		r->pieces[i].off = (int64_t)i * ps;
		r->pieces[i].len = i == r->n - 1 ? size - (int64_t)i * ps : ps;
	}
	if (resumed && nparts > 0 && parts[0].size != ps && r->n > 1)
		nparts = 0;
	for (int i = 0; i < nparts; i++) {
		int k = parts[i].number - 1;

		if (k >= 0 && k < r->n) {
			snprintf(r->pieces[k].etag, sizeof(r->pieces[k].etag),
				 "%s", parts[i].etag);
			r->pieces[k].has_crc = parts[i].has_crc64;
			r->pieces[k].crc = parts[i].crc64;
		}
	}
}

/* Every piece as a checkpoint entry (caller frees). */
static struct upload_part *
parts_of(const struct run *r)
{
	struct upload_part *p = xcalloc((size_t)r->n, sizeof(*p));

	for (int i = 0; i < r->n; i++) {
		p[i].number = r->pieces[i].number;
		p[i].size = r->pieces[i].len;
		p[i].done = r->pieces[i].done;
		snprintf(p[i].etag, sizeof(p[i].etag), "%s", r->pieces[i].etag);
		p[i].has_crc64 = r->pieces[i].has_crc;
		p[i].crc64 = r->pieces[i].crc;
	}
	return p;
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
	/* A resumed upload keeps the part size of its checkpoint. */
	if (*multipart_id != NULL)
		ps = upload__part_size(size, o->part_size,
				       s->target.min_part_size,
				       s->target.max_parts);
	else
		ps = upload__part_size_spread(
		    size, o->part_size, s->target.min_part_size,
		    s->target.max_parts,
		    o->parallel_max > 0 ? o->parallel_max : o->parallel);
	plan_parts(&r, size, ps, *multipart_id != NULL, *parts, *nparts);
	if ((rc = refresh_credential(&r, false, e)) != 0)
		goto out;
	if (*multipart_id != NULL) {
		rc = upload__multipart_reconcile(o, s, *multipart_id,
						 !upload__source_seekable(src),
						 r.pieces, r.n, e);
		if (rc != 0)
			goto out;
	} else {
		if ((rc = upload__multipart_initiate(o, s, multipart_id, e)) !=
		    0)
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
	rc = upload__multipart_complete(o, s, src, *multipart_id, r.pieces, r.n,
					e);
	/* Completed with other bytes: the multipart upload is no more. */
	if (rc != 0 && upload__crc_mismatch(e)) {
		free(*multipart_id);
		*multipart_id = NULL;
	}
out:
	free(*parts);
	*parts = parts_of(&r);
	*nparts = r.n;
	free(r.pieces);
	return rc;
}

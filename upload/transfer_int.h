/*
 * transfer_int.h: what the files of the transfer engine share (upload/
 * only): the requests to the object store (store_request.c), the control
 * steps of a multipart upload (multipart.c) and the loop that sends the
 * pieces (transfer.c).
 */
#ifndef VODHOOK_UPLOAD_TRANSFER_INT_H
#define VODHOOK_UPLOAD_TRANSFER_INT_H

#include "upload/upload_int.h"

#define MIB		(1024 * 1024)
#define UPLOAD_BUF_SIZE (2L * MIB) /* CURLOPT_UPLOAD_BUFFERSIZE (curl max) */
#define UPLOAD_BUF_MIN	(256L * 1024)
#define UPLOAD_BUF_ALL	(16L * MIB) /* the upload buffers of one transfer */
#define STORE_BODY_MAX	(1u << 20)  /* XML answers */
#define LIST_BODY_MAX	(8u << 20)  /* ListParts pages */
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

/*
 * The count of parts in flight, searched for from the rate (tune.c): grown
 * while the rate rises, back to the best when it stops, lowered on
 * throttling and failures. Fixed when made with max 0.
 */
struct upload_tune {
	bool fixed;
	bool slow;	  /* slow start: doubling while it rises */
	int cur;	  /* parts in flight wanted now */
	int max;	  /* upload_parallel_max (or the fixed count) */
	int ceiling;	  /* lowered by each throttling answer */
	int peak;	  /* the most wanted so far */
	int best_n;	  /* the count that gave best_rate (0: none yet) */
	int throttles;	  /* throttling answers seen */
	int flat;	  /* windows in a row that did not rise */
	double best_rate; /* bytes/s */
	int64_t rate;	  /* bytes/s over the last window */
	bool win_open;	  /* false: the window starts at win_ms */
	int64_t part;	  /* bytes of a part: a window's unit */
	int64_t win_ms, win_bytes, hold_until_ms, cut_ms;
};

/* Start at start parts in flight, adapting up to max (0: fixed at start);
 * part: a part's bytes; bytes: the bytes sent so far; now_ms: monotonic. */
void upload__tune_init(struct upload_tune *t, int start, int max, int64_t part,
		       int64_t bytes, int64_t now_ms);
/* The count wanted now, given the bytes sent so far (one decision per
 * window). */
int upload__tune_sample(struct upload_tune *t, int64_t bytes, int64_t now_ms);
/* A part failed and will be retried; throttled: the store said "fewer"
 * (503, 429, SlowDown...); in_flight: the parts in flight with it. */
void upload__tune_failed(struct upload_tune *t, bool throttled, int in_flight,
			 int64_t now_ms);

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

/*
 * Prepare one request on a fresh easy handle: URL, method, signed headers,
 * body (from the source at off/len, from mem, or none when len < 0). The
 * caller sets the body's source (x->src, x->off, or x->mem) before it is
 * performed; free with upload__xfer_free.
 */
int upload__xfer_new(const struct upload_transfer_opts *o,
		     const struct upload_session *s, const char *method,
		     const struct cloud_kv *params, size_t nparams,
		     const char *ctype, int64_t len, struct xfer **out,
		     struct err *e) VH_MUST_CHECK;
/* The upload buffer of a body request (bytes), when parallel are in
 * flight: UPLOAD_BUF_ALL shared, within [UPLOAD_BUF_MIN, UPLOAD_BUF_SIZE]. */
void upload__xfer_set_buffer(struct xfer *x, int parallel);
void upload__xfer_free(struct xfer *x);
/* Whether a failed request was throttled: 429, 503 or a throttling code
 * (the store wants fewer requests at once). */
bool upload__xfer_throttled(struct xfer *x, const struct err *e);
/*
 * The outcome of a finished request: 0 for a 2xx (its ETag and CRC-64
 * read), else the classified error. *retry says whether another attempt
 * may succeed.
 */
int upload__xfer_result(struct xfer *x, CURLcode cc, bool *retry,
			struct err *e);
/*
 * One control request (no source body), with retries; *out gets the body
 * (caller frees) when out is not NULL, *crc the CRC-64 the answer reported
 * when crc is not NULL.
 */
int upload__store_control(const struct upload_transfer_opts *o,
			  const struct upload_session *s, const char *method,
			  const struct cloud_kv *params, size_t nparams,
			  const char *ctype, const char *body, size_t body_max,
			  char **out, struct store_crc *crc,
			  struct err *e) VH_MUST_CHECK;

/* InitiateMultipartUpload: *upload_id (caller frees). */
int upload__multipart_initiate(const struct upload_transfer_opts *o,
			       const struct upload_session *s, char **upload_id,
			       struct err *e) VH_MUST_CHECK;
/*
 * ListParts: mark as done the pieces the store has with the expected size
 * and the checkpointed ETag (see multipart.c for a piece the checkpoint
 * lacks). stream: the source cannot be read again.
 */
int upload__multipart_reconcile(const struct upload_transfer_opts *o,
				const struct upload_session *s,
				const char *upload_id, bool stream,
				struct piece *pieces, int n,
				struct err *e) VH_MUST_CHECK;
/*
 * CompleteMultipartUpload with the pieces' ETags; its 200 answer may still
 * carry an <Error>, and the object's CRC-64 must be the one combined from
 * the pieces' (UPLOAD_CRC_MISMATCH otherwise).
 */
int upload__multipart_complete(const struct upload_transfer_opts *o,
			       const struct upload_session *s,
			       struct upload_source *src, const char *upload_id,
			       struct piece *pieces, int n,
			       struct err *e) VH_MUST_CHECK;

#endif

/*
 * source_int.h: what the two halves of a source share (upload/ only): the
 * source object, what source.c asks of source_url.c, and what
 * source_url.c asks of url_guard.c.
 */
#ifndef VODHOOK_UPLOAD_SOURCE_INT_H
#define VODHOOK_UPLOAD_SOURCE_INT_H

#include "upload/upload_int.h"

#include <pthread.h>

#define RING_SIZE (1u << 20)

struct upload_source {
	int fd;	      /* file, or the spool of a URL; -1 for a stream */
	int64_t size; /* -1 until known */
	/* URL download */
	bool is_url;
	bool streaming; /* length known: bytes go through the ring */
	pthread_t thread;
	bool thread_live;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned char *ring;
	size_t head, count; /* ring[head..] holds count bytes */
	int64_t pos;	    /* offset of ring[head] in the body */
	int64_t from; /* the offset asked for (a Range), then the body's */
	char if_range[256]; /* the recorded validator sent with it */
	bool range_refused; /* the answer to it was not the range asked */
	bool decided;	    /* streaming or spooling chosen (or failed) */
	bool finished;	    /* download ended */
	bool aborted;	    /* the download is to stop (or has) */
	int rc;		    /* download result */
	struct err derr;
	int64_t received;
	char *url;
	struct upload_source_stop stop; /* asked while waiting for bytes */
	const struct upload_source_opts *opts; /* limits, curl's, spool dir */
	char validator[256]; /* a URL's ETag or Last-Modified, or "" */
	char version[320];   /* upload__source_version */
};

/* What the check of one download's connections keeps (url_guard.c). */
struct upload_url_guard {
	const struct upload_source_opts *opts;
	CURL *h;
	bool refused;	    /* a connection was refused by the check */
	struct err refusal; /* why: the error of the download */
};

/*
 * Set on h, for a download of url: the proxy (upload_url_proxy's, never
 * the environment's), the check of every connection or, through a proxy,
 * of every request's URL, and the redirects it may follow. g (filled here)
 * must stay in place until the transfer ends; a refusal sets g->refused.
 */
void upload__url_guard_setopt(struct upload_url_guard *g,
			      const struct upload_source_opts *o, CURL *h,
			      const char *url);

/*
 * Open a URL source into s (zeroed, mutex and condition initialised): its
 * check, then the download from `from` when the recorded version names a
 * validator (from 0 otherwise), waited for until it streams or, without a
 * length, until the whole body is in the spool.
 */
int upload__url_open(const struct upload_source_opts *o,
		     const struct upload_job *job, int64_t from,
		     struct upload_source *s, struct err *e) VH_MUST_CHECK;
/* Set s->version from the URL's size and validator. */
void upload__url_version(struct upload_source *s);
/* Stop the download thread, if it runs, and wait for it to end. */
void upload__url_stop(struct upload_source *s);
/* upload__source_read for a stream: the next n bytes at off, skipping
 * those before it; a read behind the stream downloads the body again. */
int upload__url_read(struct upload_source *s, int64_t off, void *p, size_t n,
		     struct err *e) VH_MUST_CHECK;

#endif

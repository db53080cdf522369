/*
 * retention.h: the background thread that deletes raw events, finished
 * upload jobs and ended webhook messages once they are older than their
 * retention (store/retention.c says what is deleted and what stays).
 *
 * It wakes every interval_ms and deletes in batches of at most batch rows,
 * pausing pause_ms between two full batches, until nothing more is due, so
 * that the callback path never waits on a long deletion. Several instances
 * may run it at once (the batches claim their rows with SKIP LOCKED).
 * Lifecycle: retention_start allocates and starts, retention_stop asks the
 * thread to stop and waits for the batch in progress (safe twice),
 * retention_free stops if still running and frees (NULL-safe).
 */
#ifndef VODHOOK_SERVER_RETENTION_H
#define VODHOOK_SERVER_RETENTION_H

#include "store/store.h"

struct retention;

struct retention_opts {
	struct db_pool *pool; /* borrowed, outlives the thread */
	int events_days;      /* raw events kept; 0 = for ever */
	int uploads_days;     /* finished uploads kept; 0 = for ever */
	int webhooks_days;    /* delivered, failed messages; 0 = for ever */
	int batch;	      /* rows one statement deletes at most */
	int64_t interval_ms;  /* how often to look for rows due */
	int64_t pause_ms;     /* between two full batches */
};

/*
 * Start the thread; o is copied. When every retention is 0 nothing is
 * started and *out is NULL (retention_free accepts it).
 */
void retention_start(const struct retention_opts *o, struct retention **out);
/* Stop, after the batch in progress. Safe twice. */
void retention_stop(struct retention *r);
/* Stop if still running, and free. NULL-safe. */
void retention_free(struct retention *r);

#endif

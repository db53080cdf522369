/*
 * spool.h: the local spool of verified events that PostgreSQL could not
 * take (callbacks/ only).
 *
 * Files in the spool directory:
 *   active.spool            appended to while the database is away
 *   replay-<ms>.spool       rotated out of active.spool, being replayed
 *   quarantine.spool        events the database refused even one by one
 *                           (or that no longer parse), set aside by the
 *                           replay so that later events are not held back
 * Each record is a header line "VH1 <provider> <via> <len> <md5>\n", the
 * raw body (len bytes) and "\n". A torn record (a crash or a failed
 * write, never acknowledged) can only be the last of its file: a file is
 * never appended to after a failed write, nor by a later process (the first
 * write of a process sets the file it finds aside for replay). The replay
 * ignores it and keeps every record before it.
 */
#ifndef VODHOOK_CALLBACKS_SPOOL_H
#define VODHOOK_CALLBACKS_SPOOL_H

#include "callbacks/callbacks.h"
#include "store/store.h"

struct spool;

/* Open (creating dir) and start the replay thread. */
int spool_open(const char *dir, struct db_pool *pool, int interval_ms,
	       struct spool **out, struct err *e) VH_MUST_CHECK;
/* Stop the replay thread and close. NULL-safe. */
void spool_close(struct spool *sp);
/*
 * Append n events and fdatasync them: when this returns 0 they survive a
 * crash. Thread-safe.
 */
int spool_write(struct spool *sp, size_t n, const enum vod_provider *providers,
		const enum vod_via *vias, const char *const *raws,
		const size_t *lens, struct err *e) VH_MUST_CHECK;
/* Events this process replayed into the database, and set aside in
 * quarantine.spool. */
void spool_get_counts(struct spool *sp, uint64_t *replayed,
		      uint64_t *quarantined);
uint64_t spool_pending_bytes(struct spool *sp);

/*
 * Record a batch of parsed events in the database (ingest.c): the one code
 * path shared by the committer and the replay. is_new[i] false = duplicate.
 */
int ingest__record(struct db_pool *pool, const struct vod_event *const *evs,
		   const char *const *raws, const enum vod_via *vias, size_t n,
		   bool *is_new, struct err *e) VH_MUST_CHECK;

#endif

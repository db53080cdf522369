/*
 * ingest_int.h: the pieces of ingest shared inside callbacks/ only.
 *
 *   rows.c     an event as the rows of the batch statement, and the
 *              recording of a batch (the committer and the replay write
 *              events through the same code)
 *   replay.c   the thread that moves spooled events into the database
 */
#ifndef VODHOOK_CALLBACKS_INGEST_INT_H
#define VODHOOK_CALLBACKS_INGEST_INT_H

#include "callbacks/callbacks.h"
#include "callbacks/spool_int.h"
#include "store/store.h"

/*
 * Fill sev with ev's row (borrowing ev's strings and raw) and fold ev's
 * effect on its media records into (*deltas)[*ndeltas], one delta per
 * record, merged by the statement's own rules; *deltas (heap, *cap
 * entries) grows when a deletion names more records than it has room for.
 * now: the time of an effect whose event gives none.
 */
void ingest__add_row(const struct vod_event *ev, const char *raw,
		     enum vod_via via, int64_t now, struct store_event *sev,
		     struct store_media_delta **deltas, size_t *ndeltas,
		     size_t *cap);
/*
 * Record n parsed events (bodies raws[i], received through vias[i]) in one
 * transaction on a connection of pool, checking for events stored already:
 * is_new[i] false = duplicate. 0, or the database's error.
 */
int ingest__record(struct db_pool *pool, const struct vod_event *const *evs,
		   const char *const *raws, const enum vod_via *vias, size_t n,
		   bool *is_new, struct err *e) VH_MUST_CHECK;

/*
 * After events sevs[n] committed: a new URL pull callback (PullComplete,
 * UploadByURLComplete naming a TaskId) is applied to the upload whose JobId
 * it names, in case that upload recorded the JobId while the events'
 * statement ran (neither saw the other; the upload worker does the same
 * once the JobId is committed: store_upload_settle_url_job). Rare: most
 * batches cost a string compare per event.
 */
void ingest__settle_url_jobs(struct db_pool *pool,
			     const struct store_event *sevs, const bool *is_new,
			     size_t n);

struct replay;

/*
 * Start the replay thread: every interval_ms (and at once), when the spool
 * holds events and the database answers with this binary's schema
 * (store_ready), the spool's active file is set
 * aside and every replay file is parsed again and recorded, oldest first.
 * sp and pool are borrowed and outlive the replay. Free with replay__free.
 */
int replay__start(struct spool *sp, struct db_pool *pool, int interval_ms,
		  struct replay **out, struct err *e) VH_MUST_CHECK;
/* Stop the thread, after the pass in progress if any; safe twice. */
void replay__stop(struct replay *rp);
/* Stop if still running, and free. NULL-safe. */
void replay__free(struct replay *rp);
/* Events this process replayed into the database, and quarantined. */
void replay__counts(struct replay *rp, uint64_t *replayed,
		    uint64_t *quarantined);

#endif

/*
 * ingest.h: recording verified event notifications, losing none.
 *
 * Callers (the HTTP callback handlers, the Tencent PULL poller, the
 * reconciler) hand a verified, parsed event to ingest_submit, which returns
 * once the event is durable: committed to PostgreSQL, or, when the database
 * is unavailable, appended to the local spool and fsync'ed. One committer
 * thread writes all waiting events in one transaction (group commit). A
 * replay thread moves spooled events into the database when it is back,
 * and at start-up; deduplication makes the replay exactly-once.
 */
#ifndef VODHOOK_CALLBACKS_INGEST_H
#define VODHOOK_CALLBACKS_INGEST_H

#include "callbacks/callbacks.h"
#include "store/store.h"

struct ingest;

struct ingest_opts {
	struct db_pool *pool; /* borrowed; outlives the ingest */
	/* The committer's own pool (borrowed; outlives the ingest): one
	 * connection opened with generic_plans, so that its prepared
	 * statement lives as long as the connection. NULL: pool. */
	struct db_pool *commit_pool;
	const char *spool_dir;	/* created when missing */
	int batch_max;		/* events per transaction */
	size_t batch_max_bytes; /* raw bytes per transaction */
	int replay_interval_ms; /* how often the spool is looked at */
	/* Raised after each batch that stored a new event (NULL: none), for
	 * whoever acts on what its triggers wrote (webhook deliveries). */
	struct vh_signal *stored;
};

struct ingest_result {
	bool duplicate; /* already stored: acknowledged all the same */
	bool spooled;	/* the database was away; the spool has it */
};

struct ingest_stats {
	uint64_t stored, duplicates, spooled, replayed, failed, batches;
	uint64_t commit_us;	/* sum over batches: sent to durable commit */
	uint64_t spool_pending; /* bytes in the spool not yet replayed */
	uint64_t quarantined;	/* spooled events the database refused */
	uint64_t queued;	/* events waiting for a batch now */
};

/*
 * Open the spool (creating spool_dir) and start the committer and replay
 * threads. Stop with ingest_stop, free with ingest_free.
 */
int ingest_start(const struct ingest_opts *o, struct ingest **out,
		 struct err *e) VH_MUST_CHECK;
/*
 * Finish the events in flight and stop the threads; ingest_submit refuses
 * events from then on (ERR_UNAVAIL). Safe to call twice.
 */
void ingest_stop(struct ingest *ig);
/* Stop if still running, and free. NULL-safe. */
void ingest_free(struct ingest *ig);

/*
 * Record ev (borrowed) whose notification body is raw[len] (borrowed),
 * received through via. Blocks until durable. 0 with *res filled;
 * ERR_INPUT when the event cannot be stored (invalid UTF-8, too large);
 * ERR_UNAVAIL when neither the database nor the spool could take it.
 * Thread-safe.
 */
int ingest_submit(struct ingest *ig, const struct vod_event *ev,
		  const char *raw, size_t len, enum vod_via via,
		  struct ingest_result *res, struct err *e) VH_MUST_CHECK;

/*
 * Whether events are waiting behind a commit in progress now: callbacks
 * are waiting for the database. Thread-safe.
 */
bool ingest_busy(struct ingest *ig);

/* Counters since start. Thread-safe. */
void ingest_get_stats(struct ingest *ig, struct ingest_stats *st);

#endif

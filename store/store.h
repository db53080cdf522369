/*
 * store.h: vodhook's PostgreSQL access: the connection pool, the migration
 * runner and one function per query. The only module that includes libpq;
 * callers see opaque handles and plain structs.
 *
 * Thread safety: a struct db_pool may be used from any number of threads;
 * each call takes a connection for its own duration.
 */
#ifndef VODHOOK_STORE_H
#define VODHOOK_STORE_H

#include "common/common.h"

struct db_pool;

struct db_pool_opts {
	const char *conninfo;	/* libpq connection string or URI */
	int size;		/* connections kept */
	int connect_timeout_s;	/* per connection attempt */
	const char *app_name;	/* application_name, e.g. "vodhook" */
};

/*
 * Create a pool. Connections are opened on first use; db_pool_new only
 * checks that conninfo parses. Caller frees with db_pool_free.
 */
int db_pool_new(const struct db_pool_opts *o, struct db_pool **out,
		struct err *e) VH_MUST_CHECK;
void db_pool_free(struct db_pool *pool);

/* Open a connection now and run "SELECT 1": 0, or ERR_UNAVAIL and why. */
int store_ping(struct db_pool *pool, struct err *e) VH_MUST_CHECK;

/*
 * Apply the migrations compiled into this binary (schema/NNN_name.sql) that
 * the database has not seen, in order, each in its own transaction, under an
 * advisory lock so that instances starting together do not race. *applied
 * (may be NULL) receives the number applied now.
 */
int store_migrate(struct db_pool *pool, int *applied, struct err *e)
	VH_MUST_CHECK;

/*
 * Whether the database is reachable and has every migration of this binary:
 * 0 when ready; ERR_UNAVAIL (unreachable) or ERR_CONFLICT (behind) with why.
 */
int store_ready(struct db_pool *pool, struct err *e) VH_MUST_CHECK;

/* The newest migration version compiled in. */
int store_schema_version(void);

/* ------------------------------------------------------------ events */

/* One received event notification, as stored in vod_events. */
struct store_event {
	const char *provider;	/* "tencent" | "alibaba" */
	const char *event_type;
	const char *dedup_key;
	const char *file_id;	/* NULL when the event names no media */
	const char *task_id;
	const char *status;
	const char *error_code;
	const char *error_message;
	const char *upload_id;	/* canonical UUID text, or NULL */
	const char *via;	/* "push", "pull", "spool", "reconcile" */
	int64_t event_time;	/* Unix seconds, 0 when unknown */
	const char *raw;	/* the body as received (valid UTF-8) */
};

/*
 * What a batch of events does to one media record (several events for the
 * same media within a batch are merged into one delta by the caller).
 * Timestamps are Unix seconds, 0 = not reached by these events.
 */
struct store_media_delta {
	const char *provider;
	const char *file_id;
	int rank;		/* 2 confirmed, 3 processing, 4 ready/failed */
	const char *state;	/* the state of that rank */
	bool maybe_ready;	/* confirmed, and ready when the linked upload
				 * asked for no processing */
	int64_t confirmed_at, processing_at, ready_at, failed_at;
	const char *upload_id;	/* canonical UUID text, or NULL */
	const char *media_url;
	int64_t size;		/* -1 when unknown */
	const char *procedure_task_id;
	const char *source_context;
	const char *error_code;
	const char *error_message;
};

/*
 * Record events and their media deltas in one statement (one round trip,
 * one transaction): insert the events, skipping those whose (provider,
 * dedup_key) is already stored; merge each delta into its media record
 * (states only move forward, milestone times keep the earliest, fields keep
 * the first value); link the record to its upload (by upload id, else by
 * the upload's file id) and move the upload's state forward with it.
 * Deltas are idempotent, so applying them again for a duplicate is
 * harmless. is_new[i] tells whether events[i] was stored now (false: a
 * duplicate). ERR_UNAVAIL when the database cannot be reached.
 */
int store_events_record(struct db_pool *pool, const struct store_event *events,
			size_t n, const struct store_media_delta *deltas,
			size_t ndeltas, bool *is_new, struct err *e)
	VH_MUST_CHECK;

/* ------------------------------------------------------------ queries */

/*
 * The media record (provider, file_id) as a JSON object: the record, its
 * transitions (milestone times), its linked upload and its events (newest
 * last, at most max_events). *json is freed by the caller with free().
 * ERR_NOTFOUND when there is no such record.
 */
int store_media_get_json(struct db_pool *pool, const char *provider,
			 const char *file_id, int max_events, char **json,
			 struct err *e) VH_MUST_CHECK;
/* The events of (provider, file_id), oldest first, as a JSON array. */
int store_media_events_json(struct db_pool *pool, const char *provider,
			    const char *file_id, char **json,
			    struct err *e) VH_MUST_CHECK;

struct store_media_filter {
	const char *state;    /* NULL = any */
	const char *provider; /* NULL = any */
	const char *since;    /* updated at or after (timestamptz text), NULL */
	int64_t after_id;     /* cursor: records with a larger id; 0 = start */
	int limit;
};
/*
 * A page of media records, by ascending id, as
 * {"items":[...],"next_cursor":"<id>"|null}. ERR_INPUT for a bad filter
 * value (e.g. since is not a time).
 */
int store_media_list_json(struct db_pool *pool,
			  const struct store_media_filter *f, char **json,
			  struct err *e) VH_MUST_CHECK;

#endif

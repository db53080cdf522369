/*
 * store.h: vodhook's PostgreSQL access: the connection pool, the migration
 * runner and one function per query. The only module that includes libpq;
 * callers see opaque handles and plain structs.
 *
 * Thread safety: a struct db_pool may be used from any number of threads;
 * each call takes a connection for its own duration.
 *
 * Errors: besides those each function names, ERR_UNAVAIL when the database
 * is away or missed the call's deadline (store_ping, store_migrate and
 * store_ready tell ERR_AUTH apart: the server refused the connection's role
 * or credentials, SQLSTATE class 28, and connecting again will not help),
 * and ERR_DB when it refuses a
 * statement or hands back a value its column should not hold (a number
 * that does not parse, say); the message names what failed.
 */
#ifndef VODHOOK_STORE_H
#define VODHOOK_STORE_H

#include "common/common.h"

struct db_pool;

struct db_pool_opts {
	const char *conninfo;  /* libpq connection string or URI */
	int size;	       /* connections kept */
	int connect_timeout_s; /* per connection attempt, all hosts tried */
	/* The most one call waits on the server (connecting included): past
	 * it the connection is dropped as if broken, the call fails with
	 * ERR_UNAVAIL, and the pool opens no connection for a back-off. A
	 * database that has gone silent (a network partition, a hung host)
	 * then fails calls instead of holding their threads. 0: no limit. */
	int timeout_ms;
	const char *app_name; /* application_name, e.g. "vodhook" */
	/* Prepared statements always run their generic plan: for a pool
	 * that runs one statement at a high rate (the callback committer's),
	 * whose custom plans cost more to make than they save. */
	bool generic_plans;
};

/*
 * Create a pool. Connections are opened on first use; db_pool_new only
 * checks that conninfo parses. Caller frees with db_pool_free.
 */
int db_pool_new(const struct db_pool_opts *o, struct db_pool **out,
		struct err *e) VH_MUST_CHECK;
void db_pool_free(struct db_pool *pool);

/*
 * Open a connection now and run "SELECT 1": 0, or ERR_UNAVAIL (the database
 * cannot be reached) or ERR_AUTH (it refuses the credentials) and why.
 */
int store_ping(struct db_pool *pool, struct err *e) VH_MUST_CHECK;

/*
 * Whether pool's connections keep one server session across transactions,
 * as vodhook needs: 0, or ERR_CONFLICT when a pooler runs them in whichever
 * session is free (transaction pooling; e says so), or ERR_UNAVAIL.
 * store_migrate makes the same check first.
 */
int store_check_session(struct db_pool *pool, struct err *e) VH_MUST_CHECK;

/*
 * Whether the pool would try to connect now: ERR_UNAVAIL with the last
 * failure while it backs off after one (no connection attempt before its
 * end, however the database is meanwhile), else 0. Takes no connection.
 */
int db_pool_backoff(struct db_pool *pool, struct err *e) VH_MUST_CHECK;

/*
 * Apply the migrations compiled into this binary (schema/NNN_name.sql) that
 * the database has not seen, in order, each in its own transaction, under an
 * advisory lock so that instances starting together do not race. *applied
 * (may be NULL) receives the number applied now. ERR_CONFLICT, applying
 * nothing, when the database has a migration newer than this binary knows:
 * an older binary must not run against a schema it does not know.
 */
int store_migrate(struct db_pool *pool, int *applied,
		  struct err *e) VH_MUST_CHECK;

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
	const char *provider; /* "tencent" | "alibaba" */
	const char *event_type;
	const char *dedup_key;
	const char *file_id; /* NULL when the event names no media */
	const char *task_id;
	const char *status;
	const char *error_code;
	const char *error_message;
	const char *upload_id; /* canonical UUID text, or NULL */
	const char *via;       /* "push", "pull", "spool", "reconcile" */
	int64_t event_time;    /* Unix seconds, 0 when unknown */
	const char *raw;       /* the body as received (valid UTF-8) */
};

/*
 * What a batch of events does to one media record (several events for the
 * same media within a batch are merged into one delta by the caller).
 * Timestamps are Unix seconds, 0 = not reached by these events.
 */
struct store_media_delta {
	const char *provider;
	const char *file_id;
	int rank;	   /* 2 confirmed, 3 processing, 4 ready/failed,
			      5 deleted */
	const char *state; /* the state of that rank */
	bool maybe_ready;  /* confirmed, and ready when the linked upload
			    * asked for no processing */
	int64_t confirmed_at, processing_at, ready_at, failed_at, deleted_at;
	const char *upload_id; /* canonical UUID text, or NULL */
	const char *media_url;
	int64_t size; /* -1 when unknown */
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
			size_t ndeltas, bool *is_new,
			struct err *e) VH_MUST_CHECK;

/*
 * store_events_record in parts, so that a caller can queue one batch's
 * statement behind the previous batch's commit on the same connection (the
 * callback path's group commit does): the server then goes from one batch
 * to the next without waiting for the client.
 *
 * assume_new: the caller expects none of the events to be stored already,
 * and a cheaper statement is used that fails with ERR_CONFLICT if one is
 * (or if two in the batch share a dedup key); the caller then sends the
 * batch again without it.
 *
 * store_events_send returns once the statement has run (is_new filled) and
 * its commit has been asked for. store_events_send_next queues the next
 * batch on that batch's connection while the commit is pending, and reads
 * nothing; store_events_result then reads its statement's result (is_new
 * filled), and must be called after the previous batch's wait. Each
 * store_events_wait returns once that batch's commit is durable, or failed
 * (then the outcome is unknown: the events may or may not be stored, and
 * recording them again is safe). Every successful send, and every
 * successful result, must be followed by exactly one wait; the last batch
 * on a connection releases it. events and is_new passed to
 * store_events_send_next stay valid until its result is read.
 *
 * A batch, from its send to its wait, is allowed the pool's timeout_ms
 * (connecting, the statement, and the commit): past it the connection is
 * dropped and the call fails with ERR_UNAVAIL, outcome unknown as above.
 */
struct store_batch {
	struct db_pool *pool;
	struct pg_conn *conn; /* libpq's PGconn, in pipeline mode */
	bool handed_on;	      /* a later batch was queued on conn */
	int64_t deadline_ms;  /* the pool's timeout from the batch's start */
	const struct store_event *events;
	size_t n;
	bool *is_new;
};

int store_events_send(struct db_pool *pool, const struct store_event *events,
		      size_t n, const struct store_media_delta *deltas,
		      size_t ndeltas, bool assume_new, bool *is_new,
		      struct store_batch *b, struct err *e) VH_MUST_CHECK;
int store_events_send_next(struct store_batch *prev,
			   const struct store_event *events, size_t n,
			   const struct store_media_delta *deltas,
			   size_t ndeltas, bool assume_new, bool *is_new,
			   struct store_batch *b, struct err *e) VH_MUST_CHECK;
int store_events_result(struct store_batch *b, struct err *e) VH_MUST_CHECK;
int store_events_wait(struct store_batch *b, struct err *e) VH_MUST_CHECK;

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
	const char *since;    /* updated at or after (RFC 3339), NULL */
	int64_t after_id;     /* cursor: records with a larger id; 0 = start */
	int limit;
};
/*
 * A page of media records, by ascending id, as
 * {"items":[...],"next_cursor":"<id>"|null}. ERR_INPUT for a bad filter
 * value: since that is not an RFC 3339 date-time (the message names the
 * parameter and the format).
 */
int store_media_list_json(struct db_pool *pool,
			  const struct store_media_filter *f, char **json,
			  struct err *e) VH_MUST_CHECK;

/* ============================================================ uploads
 * Upload jobs (uploads, upload_parts). Owned by upload/; the JSON texts are
 * built by PostgreSQL (ids and sizes keep their exact text). States only
 * move forward (upload_state_rank); every write by a worker is guarded by
 * its lease (lease_owner), so an instance that lost its lease changes
 * nothing.
 */

/* A new job. Strings are borrowed; NULL = SQL NULL. */
struct store_upload_new {
	const char *id;		 /* UUID text */
	const char *provider;	 /* "tencent" | "alibaba" */
	const char *source_kind; /* "file" | "url" */
	const char *source;
	const char *media_name;
	const char *media_type;
	const char *media_kind; /* "video" | "image" */
	const char *procedure;
	const char *source_context;
	const char *options;	 /* JSON object text */
	int64_t bytes_total;	 /* -1 unknown */
	const char *lease_owner; /* non-NULL: created already claimed (CLI) */
	int lease_seconds;
};

/* A claimed job. Owned strings; free with store_upload_cleanup. */
struct store_upload {
	char id[37];
	char *provider, *state, *source_kind, *source, *media_name, *media_type,
	    *media_kind, *procedure, *source_context, *options;
	int64_t bytes_total;	       /* -1 unknown */
	int64_t part_size;	       /* 0 unset */
	char *session;		       /* JSON text or NULL */
	int64_t credential_expires_at; /* Unix s, 0 none */
	char *multipart_upload_id;
	char *file_id;
	int attempts;
	bool cancel_requested;
	char *source_version; /* upload__source_version's at the session's start
			       */
};

void store_upload_cleanup(struct store_upload *u);

/* Insert a job; *json (caller frees) is its record. */
int store_upload_create(struct db_pool *pool, const struct store_upload_new *u,
			char **json, struct err *e) VH_MUST_CHECK;
/* The record of one job as JSON; ERR_NOTFOUND. */
int store_upload_get_json(struct db_pool *pool, const char *id, char **json,
			  struct err *e) VH_MUST_CHECK;
/* {"items":[...],"next_cursor":...} by creation order; state may be NULL;
 * after: the id of the last item of the previous page, or NULL. */
int store_upload_list_json(struct db_pool *pool, const char *state,
			   const char *after, int limit, char **json,
			   struct err *e) VH_MUST_CHECK;
/*
 * Ask for a job to be canceled: a queued job nobody holds is canceled at
 * once; a running one is flagged and its worker stops. ERR_NOTFOUND;
 * ERR_CONFLICT when the bytes are already uploaded, the platform is
 * pulling its URL, or the job ended.
 */
int store_upload_cancel(struct db_pool *pool, const char *id, char **json,
			struct err *e) VH_MUST_CHECK;

/*
 * Claim one job (queued or abandoned in progress, lease expired), oldest
 * first, with FOR UPDATE SKIP LOCKED; id non-NULL claims that job only
 * (and only if owner already holds it or nobody does). A job whose URL the
 * platform pulls (url_job_id set) is never claimed. 0 with *found false
 * when there is none.
 */
int store_upload_claim(struct db_pool *pool, const char *owner,
		       int lease_seconds, const char *id,
		       struct store_upload *out, bool *found,
		       struct err *e) VH_MUST_CHECK;
/*
 * Renew the lease and record progress (bytes_done; -1 leaves it), the
 * current rate (bytes/s) and parts in flight (0: none, recorded as NULL).
 * *cancel tells whether a cancel was requested. ERR_CONFLICT when the
 * lease was lost.
 */
int store_upload_heartbeat(struct db_pool *pool, const char *id,
			   const char *owner, int lease_seconds,
			   int64_t bytes_done, int64_t rate_bps,
			   int parts_in_flight, bool *cancel,
			   struct err *e) VH_MUST_CHECK;
/* A new platform session: state uploading, old checkpoints dropped. */
int store_upload_set_session(struct db_pool *pool, const char *id,
			     const char *owner, const char *session,
			     int64_t expires_at, int64_t bytes_total,
			     const char *file_id, const char *source_version,
			     struct err *e) VH_MUST_CHECK;
/*
 * Renewed credentials of the same session (Alibaba RefreshUploadVideo):
 * session and credential_expires_at only; the multipart upload id, the
 * parts and the bytes done stay. ERR_CONFLICT when the lease was lost.
 */
int store_upload_set_credential(struct db_pool *pool, const char *id,
				const char *owner, const char *session,
				int64_t expires_at,
				struct err *e) VH_MUST_CHECK;
/* The multipart upload id and part size (before any part is sent). */
int store_upload_set_multipart(struct db_pool *pool, const char *id,
			       const char *owner, const char *multipart_id,
			       int64_t part_size, struct err *e) VH_MUST_CHECK;
/* Checkpoint one finished part; crc64 (the part's CRC-64) is NULL when
 * unknown. */
int store_upload_part_done(struct db_pool *pool, const char *id,
			   const char *owner, int number, int64_t size,
			   const char *etag, const uint64_t *crc64,
			   struct err *e) VH_MUST_CHECK;
/* The checkpointed parts: parallel arrays, caller frees each etag and the
 * arrays. */
struct store_upload_part {
	int number;
	int64_t size;
	char *etag;
	bool has_crc64;
	uint64_t crc64;
};
int store_upload_parts(struct db_pool *pool, const char *id,
		       struct store_upload_part **parts, int *n,
		       struct err *e) VH_MUST_CHECK;
/* Move to state (forward only, rank-guarded), keeping the lease. */
int store_upload_set_state(struct db_pool *pool, const char *id,
			   const char *owner, const char *state,
			   struct err *e) VH_MUST_CHECK;
/*
 * CommitUpload returned: file id, media URL, uploaded_at, state uploaded
 * (never backwards), lease released; the media record (provider, file_id)
 * is created at rank 1 or linked, and the upload follows a media record
 * that early callbacks already advanced.
 */
int store_upload_committed(struct db_pool *pool, const char *id,
			   const char *owner, const char *file_id,
			   const char *media_url, struct err *e) VH_MUST_CHECK;
/* The job failed for good (only before the bytes were committed). */
int store_upload_fail(struct db_pool *pool, const char *id, const char *owner,
		      const char *code, const char *message,
		      struct err *e) VH_MUST_CHECK;
/* Give the job back for a later retry: lease released, not claimable for
 * delay_ms, the reason kept in error_code/error_message. */
int store_upload_retry_later(struct db_pool *pool, const char *id,
			     const char *owner, int64_t delay_ms,
			     const char *code, const char *message,
			     struct err *e) VH_MUST_CHECK;
/* The job was canceled (after the worker cleaned up). */
int store_upload_canceled(struct db_pool *pool, const char *id,
			  const char *owner, struct err *e) VH_MUST_CHECK;
/*
 * The platform pulls the job's URL itself as job url_job_id (Alibaba
 * UploadMediaByURL, Tencent PullUpload): record it and park the job (state
 * uploading, lease released, never claimed again; its callbacks finish
 * it). A failed UploadByURLComplete or PullComplete of that id recorded
 * before this call fails the job now; a successful PullComplete recorded
 * before it, not linked yet, links its media and moves the job with it.
 * ERR_CONFLICT when the lease was lost.
 */
int store_upload_set_url_job(struct db_pool *pool, const char *id,
			     const char *owner, const char *provider,
			     const char *url_job_id,
			     struct err *e) VH_MUST_CHECK;
/*
 * Apply the callbacks of URL pull job url_job_id recorded so far to its
 * upload (id; NULL: whichever upload has that job), as above. The JobId
 * and a callback may commit in either order, each in a transaction that
 * does not see the other yet: each side calls this once it has committed,
 * so that the later one applies the callback.
 */
int store_upload_settle_url_job(struct db_pool *pool, const char *id,
				const char *provider, const char *url_job_id,
				struct err *e) VH_MUST_CHECK;

/* A parked URL pull the reconciler should look up with the platform. */
struct store_parked_pull {
	char id[37];	  /* upload id */
	char *url_job_id; /* the platform's JobId */
	int64_t parked_s; /* seconds since the JobId was recorded */
	char *app_id;	  /* the upload's application; NULL: default */
};

/*
 * Claim up to max jobs of provider whose URL the platform pulls (url_job_id
 * set, no file id yet, state uploading) and that have not changed for at
 * least older_than_s seconds nor been looked up in the last older_than_s
 * seconds; the claim (setting uploads.reconciled_at, FOR UPDATE SKIP
 * LOCKED) keeps other instances from looking them up too. *out is an array
 * of *n entries freed with store_parked_pulls_free.
 */
int store_upload_claim_parked(struct db_pool *pool, const char *provider,
			      int64_t older_than_s, int max,
			      struct store_parked_pull **out, size_t *n,
			      struct err *e) VH_MUST_CHECK;
void store_parked_pulls_free(struct store_parked_pull *p, size_t n);

/* The number of upload jobs in one state. */
#define STORE_UPLOAD_NSTATES 9
struct store_state_count {
	char state[16];
	int64_t n;
};

/*
 * Count the upload jobs in each state (every state, zeros included) into
 * out[0..*n), for /metrics. Waits at most 5 s, or the pool's timeout when
 * shorter; ERR_UNAVAIL or ERR_DB when the database cannot answer.
 */
int
store_upload_count_states(struct db_pool *pool,
			  struct store_state_count out[STORE_UPLOAD_NSTATES],
			  size_t *n, struct err *e) VH_MUST_CHECK;

/*
 * {"media":[{"provider":..,"state":..,"count":n},...],"uploads":{"queued":n,
 * "uploading":n,"committing":n},"webhooks":{"subscriptions":{"enabled":n,
 * "disabled":n},"messages":{"pending":n,"failed":n}}} for GET /v1/summary;
 * *json caller frees. Waits as store_upload_count_states does.
 */
int store_summary_json(struct db_pool *pool, char **json,
		       struct err *e) VH_MUST_CHECK;
/* The last limit failed upload jobs, newest first, as a JSON array (id,
 * provider, file_id, name, source_kind, attempts, error, created_at,
 * finished_at; never the source). *json caller frees. */
int store_failed_uploads_json(struct db_pool *pool, int limit, char **json,
			      struct err *e) VH_MUST_CHECK;
/*
 * {"failed_messages":[...],"disabled_subscriptions":[...]}: the last limit
 * failed webhook messages, newest first (id, subscription {id,
 * description, host}, type, subject, attempts, last_status, last_error,
 * created_at, failed_at), and at most limit disabled subscriptions, most
 * recently disabled first (id, description, host, disabled_at,
 * disabled_reason, failing_since). Never a body, a secret or a URL's path.
 * *json caller frees.
 */
int store_failed_webhooks_json(struct db_pool *pool, int limit, char **json,
			       struct err *e) VH_MUST_CHECK;

/* A media record the reconciler should look up with the platform. */
struct store_stale_media {
	char *file_id;
	char *state;
	char *procedure_task_id; /* NULL when none is known */
	char *procedure;	 /* the linked upload's procedure, or NULL */
	char *app_id; /* its application (SubAppId, AppId); NULL: default */
	bool delete_requested; /* the platform accepted a deletion */
	char *kind; /* "video", "image" or "attached", as for its deletion */
};

/*
 * Claim up to max records of provider that have stayed in uploaded,
 * confirmed or processing for at least older_than_s seconds, or whose
 * deletion the platform accepted that long ago and that are not deleted
 * yet, and were not
 * looked up in the last older_than_s seconds either; the claim (setting
 * reconciled_at) keeps other instances from looking them up too. *out is
 * an array of *n entries freed with store_stale_media_free.
 */
int store_media_claim_stale(struct db_pool *pool, const char *provider,
			    int64_t older_than_s, int max,
			    struct store_stale_media **out, size_t *n,
			    struct err *e) VH_MUST_CHECK;
void store_stale_media_free(struct store_stale_media *m, size_t n);

/*
 * The application of media record (provider, file_id): the Tencent
 * SubAppId or Alibaba AppId that every call about it must name. *app_id
 * (caller frees) is NULL for the account's default application (the
 * setting's). ERR_NOTFOUND when there is no such record.
 */
int store_media_app_id(struct db_pool *pool, const char *provider,
		       const char *file_id, char **app_id,
		       struct err *e) VH_MUST_CHECK;
/*
 * Record that media (provider, file_id) belongs to application app_id,
 * when its record names none yet (a record that its upload linked to an
 * application keeps that one). No record: nothing changes, 0.
 */
int store_media_set_app_id(struct db_pool *pool, const char *provider,
			   const char *file_id, const char *app_id,
			   struct err *e) VH_MUST_CHECK;
/*
 * What deleting media (provider, file_id) takes: *kind "video", "image" or
 * "attached" (the upload's media kind, else the kind an ImageUploadComplete
 * or AttachedMediaUploadComplete event names; caller frees), *deleted whether
 * the record is deleted already. ERR_NOTFOUND when there is no such record.
 */
int store_media_delete_target(struct db_pool *pool, const char *provider,
			      const char *file_id, char **kind, bool *deleted,
			      struct err *e) VH_MUST_CHECK;
/*
 * Record that the platform was asked now to delete the media, and its
 * refusal (error_code and error_message, NULL when it accepted). With
 * deleted_now (the platform's answer is final and no event follows) the
 * record is deleted too. *json: the record as store_media_get_json gives
 * it without events (caller frees). ERR_NOTFOUND when there is none.
 */
int store_media_delete_requested(struct db_pool *pool, const char *provider,
				 const char *file_id, const char *error_code,
				 const char *error_message, bool deleted_now,
				 char **json, struct err *e) VH_MUST_CHECK;

/* ============================================================ retention
 * Deleting what is kept for a limited time, one batch a call (at most max
 * rows), rows older than days: 0 with *deleted the number deleted; fewer
 * than max means nothing more was due (or another instance holds the
 * rest). Rows are claimed with SKIP LOCKED, so that several instances may
 * run these at once. Media records are never deleted.
 */

/* Events received more than days ago. */
int store_retention_delete_events(struct db_pool *pool, int days, int max,
				  int *deleted, struct err *e) VH_MUST_CHECK;
/*
 * The part checkpoints of uploads finished (ready, failed, canceled) more
 * than days ago, except those of an upload that a media record still
 * unfinished names (callbacks and the reconciler read it).
 */
int store_retention_delete_parts(struct db_pool *pool, int days, int max,
				 int *deleted, struct err *e) VH_MUST_CHECK;
/*
 * The same uploads once their parts are gone; a media record that names
 * one keeps its row, with upload_id set to NULL.
 */
int store_retention_delete_uploads(struct db_pool *pool, int days, int max,
				   int *deleted, struct err *e) VH_MUST_CHECK;
/*
 * Webhook messages delivered or failed more than days ago, with their
 * attempts; pending ones stay, however old.
 */
int store_retention_delete_webhooks(struct db_pool *pool, int days, int max,
				    int *deleted, struct err *e) VH_MUST_CHECK;

/* ============================================================ webhooks
 * Subscriptions and their outbox (016_webhooks.sql; store/webhooks.c). The
 * triggers write the messages; these calls manage and deliver them. JSON
 * texts are built by PostgreSQL and never hold a secret; ids are UUID
 * texts the caller checked. ERR_NOTFOUND names what is missing.
 */

/* A subscription's fields; NULL = SQL NULL (unchanged by an update). The
 * filter lists are JSON arrays of strings, NULL for "all". */
struct store_webhook_sub {
	const char *url;
	const char *description;
	const char *providers, *states, *kinds;
	bool set_filter; /* update: replace the three lists */
	int enabled;	 /* update: 1 enable, 0 disable, -1 unchanged */
};

/* Create a subscription signed with secret; *json (caller frees) its
 * record, without the secret. */
int store_webhook_create(struct db_pool *pool,
			 const struct store_webhook_sub *w, const char *secret,
			 char **json, struct err *e) VH_MUST_CHECK;
/* {"items":[...]} oldest first. */
int store_webhook_list_json(struct db_pool *pool, char **json,
			    struct err *e) VH_MUST_CHECK;
/* One subscription with its messages counted by state. */
int store_webhook_get_json(struct db_pool *pool, const char *id, char **json,
			   struct err *e) VH_MUST_CHECK;
/* Change what w sets; enabling clears the failure and its reason. */
int store_webhook_update(struct db_pool *pool, const char *id,
			 const struct store_webhook_sub *w, char **json,
			 struct err *e) VH_MUST_CHECK;
/* Delete a subscription and its messages. */
int store_webhook_delete(struct db_pool *pool, const char *id,
			 struct err *e) VH_MUST_CHECK;
/* Sign with secret from now on, and with the current one for grace_s
 * seconds more. */
int store_webhook_rotate(struct db_pool *pool, const char *id,
			 const char *secret, int64_t grace_s, char **json,
			 struct err *e) VH_MUST_CHECK;
/* A page of messages by ascending id after `after` (state NULL: any), as
 * {"items":[...],"next_cursor":"<id>"|null}. */
int store_webhook_messages_json(struct db_pool *pool, const char *id,
				const char *state, int64_t after, int limit,
				char **json, struct err *e) VH_MUST_CHECK;
/* One message with its body and its attempts. */
int store_webhook_message_json(struct db_pool *pool, const char *id,
			       int64_t msg, char **json,
			       struct err *e) VH_MUST_CHECK;
/* Send a delivered or failed message again, with a fresh schedule;
 * ERR_CONFLICT while it is pending. */
int store_webhook_resend(struct db_pool *pool, const char *id, int64_t msg,
			 char **json, struct err *e) VH_MUST_CHECK;
/* Send again every failed message created at or after since (RFC 3339;
 * ERR_INPUT otherwise); *count says how many. */
int store_webhook_resend_since(struct db_pool *pool, const char *id,
			       const char *since, int64_t *count,
			       struct err *e) VH_MUST_CHECK;

/* A claimed message. Owned strings: store_webhook_msgs_free. */
struct store_webhook_msg {
	int64_t id;
	char *body;
	int attempts; /* this one included */
	char *url;
	char *secret;
	char *old_secret; /* NULL outside a rotation's grace period */
	int64_t created_ms;
	char subscription[37];
};
/* Free n messages and the array. NULL-safe. */
void store_webhook_msgs_free(struct store_webhook_msg *m, int n);
/*
 * Claim up to batch messages of one subscription (see webhooks.c for
 * which), leased to owner for lease_s seconds: *out (caller frees with
 * store_webhook_msgs_free) holds *n of them, in the order to send. 0 with
 * *n 0 when none is due.
 */
int store_webhook_claim(struct db_pool *pool, const char *owner, int lease_s,
			int max_in_flight, int batch,
			struct store_webhook_msg **out, int *n,
			struct err *e) VH_MUST_CHECK;

/* What an attempt came to, or that a claimed message was not tried. */
struct store_webhook_result {
	int64_t id;
	bool tried; /* false: the batch ended first; pending again as it was */
	int64_t started_ms; /* wall clock */
	int duration_ms;
	bool ok;
	int64_t retry_ms; /* when not ok: until the retry; < 0: failed */
	int status;	  /* HTTP status, 0 none */
	const char *error;
	const char *response; /* the body's start, or NULL */
};
/*
 * Record the outcomes r[n] of a claimed batch, in the order sent, for the
 * messages whose lease owner still holds. The last one tried speaks for
 * the subscription: failing for longer than disable_after_s (0: never)
 * disables it, and *disabled tells whether this did.
 */
int store_webhook_finish(struct db_pool *pool, const char *owner,
			 const struct store_webhook_result *r, int n,
			 int64_t disable_after_s, bool *disabled,
			 struct err *e) VH_MUST_CHECK;
/* Messages ever created, and those pending, in the whole database. */
int store_webhook_stats(struct db_pool *pool, int64_t *created,
			int64_t *pending, struct err *e) VH_MUST_CHECK;
/* ----------------------------------------------------------- changes */

/*
 * What a stream follows (server/stream.c); NULL: any. provider "tencent"
 * or "alibaba", kind "media" or "upload", upload_id a canonical UUID: the
 * caller checks them.
 */
struct change_filter {
	const char *provider;
	const char *file_id;
	const char *upload_id;
	const char *kind;
};

/* The most rows of each kind a snapshot returns. */
#define STORE_SNAPSHOT_MAX 1000

/* kind "media" or "upload", payload the notification's JSON. Both are
 * borrowed for the call. */
typedef void (*store_change_fn)(const char *kind, const char *payload,
				void *arg);

/*
 * The current state of what f names, in the payload shape of the
 * notifications on vodhook_changes ("from" null): every upload not
 * finished (queued, uploading, committing) and, when f names a file id or
 * an upload id, that upload and media whatever their state; at most
 * STORE_SNAPSHOT_MAX of each kind. fn is called for each before this
 * returns (the connection is held meanwhile: fn only copies). 0 or an
 * error.
 */
int store_changes_snapshot(struct db_pool *pool, const struct change_filter *f,
			   store_change_fn fn, void *arg,
			   struct err *e) VH_MUST_CHECK;

struct store_listener;

struct store_listener_opts {
	const char *conninfo; /* borrowed; outlives the listener */
	int connect_timeout_s;
	int timeout_ms; /* connecting and LISTEN */
	/* Whether to listen: asked before listening and each time the
	 * listener is woken (store_listener_wake). When it says false, the
	 * owner counts LISTEN as no longer in effect from then on (decided
	 * under the owner's lock, so that one who wants the changes after
	 * that wakes the listener), and the listener stops listening until
	 * woken again. NULL: always listen. */
	bool (*keep)(void *arg);
	/* LISTEN is in effect, the first time or after the connection was
	 * lost: changes made before now may not have been heard. */
	void (*on_listen)(void *arg);
	/* LISTEN is no longer in effect: the connection was lost (NULL: not
	 * told). on_listen follows once it is back. */
	void (*on_lost)(void *arg);
	/* A payload, borrowed for the call. */
	void (*on_notify)(const char *payload, void *arg);
	void *arg;
};

/*
 * Start a thread that listens on vodhook_changes on a connection of its
 * own while o.keep says so, opened again with back-off when lost, and
 * calls o's functions (on that thread). 0, or ERR_INPUT when the connection
 * string does not parse. Stop with store_listener_stop, free with
 * store_listener_free.
 */
int store_listener_start(const struct store_listener_opts *o,
			 struct store_listener **out,
			 struct err *e) VH_MUST_CHECK;
/* Have the listener ask o.keep again, from any thread. NULL-safe. */
void store_listener_wake(struct store_listener *l);
/* Stop listening and join the thread; safe twice. */
void store_listener_stop(struct store_listener *l);
/* Stop if still running, and free. NULL-safe. */
void store_listener_free(struct store_listener *l);

#endif

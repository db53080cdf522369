/*
 * upload.h: upload jobs, the transfer engine and the platform adapters.
 *
 *   upload_service_new / _start / _stop / _free   the job workers
 *   upload_submit      validate a request, queue a job
 *   upload_run         run one job in this thread (CLI)
 *
 * A job is a row of uploads; workers claim it with FOR UPDATE SKIP LOCKED
 * and a lease, so any number of processes may share one database. See
 * upload/README.md for the design and the adapter interface.
 */
#ifndef VODHOOK_UPLOAD_H
#define VODHOOK_UPLOAD_H

#include "common/common.h"

struct db_pool;
struct cloud_opts;

/* The settings of the upload module; strings borrowed for the service's
 * lifetime. */
struct upload_config {
	const struct cloud_opts *cloud;
	const char *root;    /* local files only from under it ("" = none) */
	const char *tmp_dir; /* spool for URL sources of unknown length */
	int workers;	     /* threads started by upload_service_start */
	int64_t part_size;
	int parallel;	  /* parts in flight at the start (always: max 0) */
	int parallel_max; /* adapt up to this; 0: fixed at parallel */
	int connections;  /* parts in flight of all the process's uploads */
	int64_t stream_buffer; /* a URL source's parts in memory, bytes */
	int64_t threshold;
	int64_t max_bytes;
	int lease_seconds;
	bool allow_private_urls;
	const char *url_proxy; /* proxy of URL sources ("" or NULL: none) */
	int max_attempts;
	long poll_ms;
	long part_timeout_ms;
	const char *default_storage_region; /* Tencent, may be "" */
	/* Alibaba URL sources without url_upload in the request: "stream"
	 * (through vodhook) or "platform" (UploadMediaByURL); NULL = stream */
	const char *alibaba_url_upload;
	/* the same for Tencent URL sources ("platform": PullUpload) */
	const char *tencent_url_upload;
};

struct upload_service;

/* Create the service (no thread yet). Caller frees with upload_service_free.
 */
int upload_service_new(const struct upload_config *c, struct db_pool *pool,
		       struct upload_service **out,
		       struct err *e) VH_MUST_CHECK;
/* Start c->workers worker threads (none when 0). */
int upload_service_start(struct upload_service *s, struct err *e) VH_MUST_CHECK;
/* Stop the workers (jobs in progress give their lease back so that they
 * resume from their checkpoint) and free everything. NULL is allowed. */
void upload_service_free(struct upload_service *s);

/* A request to upload, from the HTTP API or the CLI. Strings borrowed. */
struct upload_request {
	const char *provider; /* "tencent" | "alibaba" */
	const char *path;     /* exactly one of path and url */
	const char *url;
	const char *name;	/* MediaName; default: the file's base name */
	const char *media_type; /* default: the extension */
	const char *procedure;	/* may be NULL */
	const char *source_context; /* the caller's own context, may be NULL */
	const char *options;	    /* JSON object text of the other fields */
	bool confine;		    /* path must be under the upload root */
	const char *lease_owner;    /* non-NULL: created claimed by it (CLI) */
	/* URL sources: "stream" (vodhook downloads and uploads the bytes) or
	 * "platform" (the platform fetches the URL: Alibaba
	 * UploadMediaByURL, Tencent PullUpload); NULL = the provider's
	 * <provider>_url_upload setting */
	const char *url_upload;
};

/*
 * Check a request (provider known, source readable and confined, URL
 * allowed, size within the cap) and queue the job. ERR_INPUT (bad or
 * missing field, missing or unreadable file), ERR_FORBIDDEN (outside the
 * root, a URL to a refused address), ERR_LIMIT (too large). *json (caller
 * frees) is the new record; id receives its UUID. Thread-safe.
 */
int upload_submit(struct upload_service *s, const struct upload_request *r,
		  char **json, char id[37], struct err *e) VH_MUST_CHECK;

/* Progress of upload_run: state name, bytes, and while parts are sent the
 * rate (bytes/s over the last second, 0: not measured yet) and the parts
 * in flight. */
struct upload_progress {
	const char *state;
	int64_t done, total;
	int64_t rate_bps;
	int parts_in_flight;
};
typedef void (*upload_progress_fn)(void *arg, const struct upload_progress *p);

/*
 * Run job id in the calling thread (claiming it as owner) until it is
 * uploaded, failed, canceled or out of attempts. *file_id and *media_url
 * (caller frees) are set on success. A URL the platform pulls (url_upload
 * "platform") succeeds once the platform took it, with *file_id NULL: the
 * callbacks finish the record. ERR_* and the job's error otherwise.
 */
int upload_run(struct upload_service *s, const char *id, const char *owner,
	       upload_progress_fn fn, void *arg, char **file_id,
	       char **media_url, struct err *e) VH_MUST_CHECK;

/* Ask running work to stop soon (signal handler safe: sets a flag). */
void upload_service_stop(struct upload_service *s);

struct sockaddr;
/*
 * Whether an outgoing connection may go to sa (AF_INET or AF_INET6) under
 * the rules of URL sources: public addresses, and loopback and private-use
 * ones when allow_private; *range (may be NULL) names a refused block
 * (static). For webhooks/, which sends to URLs users give too. Pure.
 */
bool upload_addr_allowed(const struct sockaddr *sa, bool allow_private,
			 const char **range);

/* The parts of an http or https URL that its checks need. */
struct upload_url_parts {
	char *host; /* IPv6 brackets removed */
	char *port; /* the scheme's default when the URL names none */
	bool https;
	bool user; /* it holds a user name (or password) */
};
/*
 * Split url (libcurl's parser, as the transfer will read it): 0, or
 * ERR_INPUT when it does not parse or is neither http nor https. Free
 * with upload_url_parts_free. For webhooks/ too.
 */
int upload_url_split(const char *url, struct upload_url_parts *out,
		     struct err *e) VH_MUST_CHECK;
void upload_url_parts_free(struct upload_url_parts *p);

#endif

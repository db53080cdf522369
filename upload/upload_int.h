/*
 * upload_int.h: declarations shared by the files of upload/ only.
 *
 *   job       struct upload_job: one row of uploads, as a worker holds it
 *   adapter   struct upload_adapter: all that a platform (Tencent,
 *             Alibaba) provides: option checks and defaults, apply,
 *             session load+save, refresh, commit, abort, pull; it fills a
 *             struct upload_session whose target tells the transfer engine
 *             where the bytes go and how each request to the object store
 *             (COS, OSS) is signed
 *   errors    upload__error_transient: the one rule of what is retried
 *   source    struct upload_source: the bytes (a confined local file, or an
 *             http(s) URL streamed or spooled to a temporary file)
 *   transfer  upload__transfer_run: simple PUT or parallel multipart on
 *             curl multi, with per-part retries and checkpoints
 *
 * Both object stores speak the same S3-style protocol (PUT object;
 * POST ?uploads; PUT ?partNumber&uploadId; POST ?uploadId with the XML part
 * list; GET ?uploadId to list parts; DELETE ?uploadId to abort; XML
 * <Error><Code/><Message/></Error> bodies), so the engine is shared and an
 * adapter only supplies the address, the credential and a signing function.
 */
#ifndef VODHOOK_UPLOAD_INT_H
#define VODHOOK_UPLOAD_INT_H

#include "cloud/cloud.h"
#include "upload/upload.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>

/* ================================================================ job */

/*
 * One upload job as claimed by a worker (or run by the CLI). All strings
 * are owned by the job; free with upload__job_free. options holds the other
 * request fields ("class_id", "storage_region", "expire_time",
 * "session_context", "cover_path", ...), as stored in uploads.options.
 */
struct upload_job {
	char id[37];	   /* UUID text */
	char *provider;	   /* "tencent" | "alibaba" */
	char *state;	   /* state when claimed */
	char *source_kind; /* "file" | "url" */
	char *source;	   /* resolved path or URL */
	char *media_name;
	char *media_type; /* extension without dot: "mp4" */
	char *media_kind; /* "video" | "image" | "attached" */
	char *procedure;
	char *source_context;	       /* the user's own context */
	cJSON *options;		       /* owned; never NULL */
	int64_t bytes_total;	       /* -1 when unknown */
	int64_t part_size;	       /* 0 when not chosen yet */
	char *session;		       /* persisted session JSON, or NULL */
	int64_t credential_expires_at; /* Unix s, 0 when none */
	char *multipart_upload_id;     /* or NULL */
	char *file_id;		       /* or NULL */
	int attempts;
	char *source_version; /* the source's when the session began, or NULL */
};

void upload__job_free(struct upload_job *job);

/* ================================================================ target */

/* One request to the object store, as the engine asks it to be signed. */
struct upload_sign_input {
	const char *method;	       /* "PUT", "POST", "GET", "DELETE" */
	const struct cloud_kv *params; /* decoded query parameters */
	size_t n_params;	       /* ("?uploads" is {"uploads", ""}) */
	const char *content_type;      /* as sent, or NULL */
	int64_t content_length;	       /* -1: no body header sent */
	int64_t now;		       /* Unix seconds */
};

struct upload_session;

/*
 * Where the bytes go. Filled by the adapter; read-only for the engine.
 * The request URL is base_url + "/" + uri-encoded key (slashes kept) +
 * "?" + the query; the Host header is the URL's host (clients reach the
 * emulator through cloud_opts.connect_to), and host is what is signed.
 */
struct upload_target {
	char *base_url;	       /* "https://b-125.cos.ap-x.myqcloud.com" */
	char *host;	       /* "b-125.cos.ap-x.myqcloud.com" */
	char *key;	       /* object key, no leading '/' */
	int64_t min_part_size; /* smallest non-last part (COS 1 MiB) */
	int max_parts;	       /* 10000 */
	/*
	 * Append the headers that authorise one request (Authorization, the
	 * security token, a date) to *headers. Pure apart from the clock the
	 * caller passed in in->now; thread-safe for concurrent parts.
	 */
	int (*sign)(const struct upload_session *s,
		    const struct upload_sign_input *in,
		    struct curl_slist **headers, struct err *e);
};

/*
 * A platform upload session (Tencent: one ApplyUpload answer; Alibaba: one
 * CreateUploadVideo answer). Created by adapter->apply or ->load, freed by
 * adapter->free. The engine reads target and expires_at only.
 */
struct upload_session {
	const struct upload_adapter *adapter;
	struct upload_target target;
	int64_t expires_at; /* credential expiry, Unix seconds; 0 unknown */
	char *file_id;	    /* known before commit (Alibaba VideoId) or NULL */
	char *cover_key;    /* object key for the cover image, or NULL */
	void *priv;	    /* the adapter's own state */
};

/* What CommitUpload (or its equivalent) returned. Owned strings. */
struct upload_result {
	char *file_id;
	char *media_url;
	char *cover_url;
};

void upload__result_cleanup(struct upload_result *r);

/* ================================================================ adapter */

/* The kinds of a request option (options.c checks them). */
enum upload_opt_kind {
	UPLOAD_OPT_TEXT, /* UTF-8 text of at most max characters */
	UPLOAD_OPT_NAME, /* an identifier or host name: [A-Za-z0-9._-] */
	UPLOAD_OPT_INT,	 /* an integer of at least min, kept as digits */
	UPLOAD_OPT_URL,	 /* an http(s) URL of at most max bytes */
	UPLOAD_OPT_TAGS, /* at most max_items tags of at most max characters:
			    comma-separated text, or an array of strings */
	UPLOAD_OPT_ENUM, /* one of values */
	UPLOAD_OPT_TIME, /* ISO 8601 UTC date and time */
};

/* One option a platform takes; an adapter's table ends with a NULL name. */
struct upload_opt_spec {
	const char *name;
	enum upload_opt_kind kind;
	size_t max;	  /* characters (bytes for NAME and URL) */
	int64_t min;	  /* UPLOAD_OPT_INT */
	bool multiline;	  /* UPLOAD_OPT_TEXT: newlines and tabs allowed */
	size_t max_items; /* UPLOAD_OPT_TAGS */
	const char *const *values; /* UPLOAD_OPT_ENUM, NULL-terminated */
};

/*
 * A platform adapter: a static const table per platform (tencent.c,
 * alibaba.c), found by name with upload__adapter_find. The adapters are
 * the only code that knows a platform: whatever the submission or the
 * worker needs from one is a member here, NULL where the platform lacks
 * it. Every function gets the cloud options (credentials, endpoints, TLS)
 * and the job. Errors are ERR_* with e->remote holding the platform's
 * code; whether the job is tried again is upload__error_transient's rule.
 * Thread-safe: sessions are per job.
 */
struct upload_adapter {
	const char *provider; /* "tencent" | "alibaba" */

	/* The request options the platform takes, with their limits. */
	const struct upload_opt_spec *options;
	/* Platform rules of a request's options beyond the per-field checks
	 * of upload__options_check (Alibaba: what an image takes); sets
	 * *media_kind (static) to "video", "image" or "attached". NULL: every
	 * job is a video. 0 or ERR_INPUT. */
	int (*options_check)(const char *media_type, cJSON *opts,
			     const char **media_kind, struct err *e);
	/* Add the defaults the settings give to a request's options (Tencent:
	 * storage_region); a field given in the request is kept. May be
	 * NULL. */
	void (*options_defaults)(const struct upload_config *c, cJSON *opts);
	/* Start a new platform session for job (ApplyUpload with the job's
	 * name, type, procedure, context...). Caller frees with ->free. */
	int (*apply)(const struct cloud_opts *o, const struct upload_job *job,
		     struct upload_session **out, struct err *e);
	/* Serialise s to JSON text for uploads.session (caller frees with
	 * free()); the credential is included so that a resumed job can go
	 * on with it while it is valid. */
	char *(*save)(const struct upload_session *s);
	/* Rebuild a session from ->save's text, signing as the options say
	 * now (o may be NULL: the defaults). ERR_INPUT when unusable. */
	int (*load)(const struct cloud_opts *o, const char *json,
		    struct upload_session **out, struct err *e);
	/* New credentials for the same object and session when the platform
	 * allows it (Alibaba RefreshUploadVideo); NULL when it does not
	 * (Tencent: the job restarts with a new ->apply). */
	int (*refresh)(const struct cloud_opts *o, const struct upload_job *job,
		       struct upload_session *s, struct err *e);
	/* Tell the platform the bytes are there (CommitUpload); NULL when
	 * nothing is needed (Alibaba: the file id is known from apply). */
	int (*commit)(const struct cloud_opts *o, const struct upload_job *job,
		      struct upload_session *s, struct upload_result *res,
		      struct err *e);
	/* Best-effort platform-side cleanup of an abandoned session beyond
	 * the multipart abort the engine does; may be NULL. */
	void (*abort)(const struct cloud_opts *o, const struct upload_job *job,
		      struct upload_session *s);
	void (*free)(struct upload_session *s);
	/* The platform fetches a URL itself (Alibaba UploadMediaByURL,
	 * Tencent PullUpload) instead of apply / transfer / commit: one
	 * call, *job_id (caller frees) is the platform's JobId or TaskId.
	 * NULL when the platform cannot. */
	int (*pull)(const struct cloud_opts *o, const struct upload_job *job,
		    char **job_id, struct err *e);
	/* A URL the platform pulls gets the address checks of a streamed
	 * one too (its host resolves to allowed addresses only). */
	bool pull_checks_address;
	/* Options that only a pull takes (NULL-terminated), or NULL. */
	const char *const *pull_only_options;
};

/* The adapter for provider, or NULL; every adapter (*n of them). */
const struct upload_adapter *upload__adapter_find(const char *provider);
const struct upload_adapter *const *upload__adapters(size_t *n);

extern const struct upload_adapter upload__tencent_adapter;
extern const struct upload_adapter upload__alibaba_adapter;

/*
 * The one rule of what is worth trying again, for a job (the worker), the
 * opening of its source and a job run by the CLI (upload_run), given the
 * ERR_* code of the failure: ERR_NET (no
 * answer: connect, TLS, timeout), ERR_UNAVAIL (an answer that says "later":
 * 5xx, 408, 429, a throttle code, a source that changed under the
 * transfer) and ERR_DB (the database unreachable) are transient; every
 * other code is a refusal or a fault that the same request would meet
 * again, and fails the job with its reason.
 */
bool upload__error_transient(int code);

/* alibaba.c, pure (unit-tested): whether the job goes through
 * CreateUploadImage (option media_kind, else an image extension), and the
 * UserData JSON text for it: Extend {"vh": id, "ctx": source_context} and,
 * when callback_url is set, MessageCallback. Caller frees with free(). */
bool upload__alibaba_is_image(const struct upload_job *job);
char *upload__alibaba_user_data(const struct upload_job *job,
				const char *callback_url);

/* tencent_url.c, Tencent's ->pull: the PullUpload call. */
int upload__tencent_url_pull(const struct cloud_opts *o,
			     const struct upload_job *job, char **task_id,
			     struct err *e) VH_MUST_CHECK;

/*
 * alibaba_options.c, pure (unit-tested through upload__options_check): the
 * Alibaba adapter's ->options, ->options_check (what an image and attached
 * media take, the AppId's form) and ->options_defaults (the settings'
 * AppId).
 */
extern const struct upload_opt_spec upload__alibaba_options[];
int upload__alibaba_options_check(const char *media_type, cJSON *opts,
				  const char **media_kind,
				  struct err *e) VH_MUST_CHECK;
void upload__alibaba_options_defaults(const struct upload_config *c,
				      cJSON *opts);

/*
 * alibaba_attached.c: Alibaba auxiliary media (media_kind "attached").
 * upload__alibaba_is_attached and upload__alibaba_attached_check (what
 * such a job takes: business_type and the media types it allows, cate_ids;
 * no video-only field; ERR_INPUT with the reason) are pure;
 * upload__alibaba_attached_create is the CreateUploadAttachedMedia call
 * (MediaId in r->video_id), user_data as upload__alibaba_user_data makes it.
 */
bool upload__alibaba_is_attached(const struct upload_job *job);
int upload__alibaba_attached_check(const char *media_type, cJSON *opts,
				   struct err *e) VH_MUST_CHECK;
int upload__alibaba_attached_create(const struct cloud_opts *o,
				    const struct upload_job *job,
				    const char *user_data,
				    struct cloud_alibaba_upload *r,
				    struct err *e) VH_MUST_CHECK;

/*
 * alibaba_url.c, Alibaba's ->pull: upload__alibaba_url_metadatas (pure)
 * is the UploadMetadatas JSON text for the job, caller frees;
 * upload__alibaba_url_pull is the UploadMediaByURL call.
 */
char *upload__alibaba_url_metadatas(const struct upload_job *job);
int upload__alibaba_url_pull(const struct cloud_opts *o,
			     const struct upload_job *job, char **job_id,
			     struct err *e) VH_MUST_CHECK;

/*
 * submit.c, pure (unit-tested): the way a request's URL is taken.
 * upload__url_mode: whether it is pulled by the platform: requested
 * ("stream", "platform" or NULL for the setting's default, which applies
 * to the URL sources of a platform that can pull only); ERR_INPUT for
 * another value, or "platform" with a provider whose adapter has no
 * ->pull, or a path source. upload__pull_url_check: http or https, a host,
 * no blank or control character, at most UPLOAD_PULL_URL_MAX bytes; not
 * resolved and no private-address refusal (the platform fetches it, not
 * vodhook).
 */
#define UPLOAD_PULL_URL_MAX 4096
int upload__url_mode(const char *provider, bool is_url, const char *requested,
		     const char *setting, bool *platform,
		     struct err *e) VH_MUST_CHECK;
int upload__pull_url_check(const char *url, struct err *e) VH_MUST_CHECK;

/* job.c: whether a job is a pull (a URL source, url_upload "platform",
 * and a platform that pulls). */
bool upload__job_is_pull(const struct upload_job *job);

/*
 * options.c, pure (unit-tested): check the platform-specific fields of a
 * request in opts (a JSON object; fields of another platform refused,
 * JSON types and the limits of the adapter's ->options checked) and normalise
 * them in place (integers as strings of digits, tags as one comma-separated
 * string), then apply the adapter's ->options_check. *media_kind (static)
 * is "image" when the adapter says the job is an image, else "video". 0 or
 * ERR_INPUT with the reason.
 */
int upload__options_check(const char *provider, const char *media_type,
			  cJSON *opts, const char **media_kind,
			  struct err *e) VH_MUST_CHECK;

/* Helper for adapters (adapter.c): fill t->base_url ("scheme://host"),
 * t->host and t->key (a leading '/' is dropped). scheme is "https" unless
 * the allow_http setting is on and the adapter chooses "http". Owned
 * strings, freed by upload__target_cleanup. */
void upload__target_init(struct upload_target *t, const char *scheme,
			 const char *host, const char *key);
void upload__target_cleanup(struct upload_target *t);

/* Helpers for ->save and ->load: a session document names its provider
 * and holds expires_at; upload__session_text prints doc (and frees it). */
cJSON *upload__session_doc(const char *provider);
char *upload__session_text(cJSON *doc, const struct upload_session *s);
/* Parse ->save's text; *expires_at 0 when absent. Free with cJSON_Delete. */
cJSON *upload__session_parse(const char *json, int64_t *expires_at,
			     struct err *e);

/* ================================================================ source */

/*
 * The bytes of an upload. A file source supports reads at any offset from
 * any thread (pread). A stream source (URL with a known length) delivers
 * the bytes in order once: the engine asks for parts in ascending order
 * and each is read whole into a buffer of the part's size.
 */
struct upload_source;

struct upload_source_opts {
	const char *root;	 /* upload_root: files must resolve under it */
	int64_t max_bytes;	 /* upload_max_bytes */
	bool allow_private_urls; /* loopback/private addresses allowed */
	const char *tmp_dir;	 /* for URL sources of unknown length */
	const char *proxy;	 /* upload_url_proxy; NULL or "": none, whatever
				    the environment says */
	const struct cloud_opts *cloud; /* TLS / connect_to for downloads */
};

/*
 * Resolve and check a local path: realpath() under root (ERR_FORBIDDEN
 * outside it, after links), a readable regular file (ERR_INPUT when
 * missing or unreadable), at most max_bytes (ERR_LIMIT). *resolved is
 * the canonical path, caller frees; *size its length.
 */
int upload__path_check(const struct upload_source_opts *o, const char *path,
		       char **resolved, int64_t *size,
		       struct err *e) VH_MUST_CHECK;
/* Redirects a URL source may follow (signed CDN links redirect once or
 * twice); each hop's address is checked like the first. */
#define UPLOAD_URL_MAX_REDIRECTS 5

/* What an address is to a URL source (url_addr.c). */
enum upload_addr_class {
	UPLOAD_ADDR_PUBLIC,
	UPLOAD_ADDR_PRIVATE, /* loopback, private-use: allow_private_urls */
	UPLOAD_ADDR_SPECIAL, /* another special-purpose block: never */
};

/*
 * The class of sa (AF_INET or AF_INET6, the whole sockaddr_in or
 * sockaddr_in6) after the IANA special-purpose registries; *range (may be
 * NULL) names the block, static, NULL for a public address.
 */
enum upload_addr_class upload__addr_classify(const struct sockaddr *sa,
					     const char **range);
/* Whether a URL source may be downloaded from sa; *range as above. */
bool upload__addr_allowed(const struct sockaddr *sa, bool allow_private,
			  const char **range);

/*
 * Check a URL: http or https, host resolving only to addresses
 * upload__addr_allowed allows (ERR_FORBIDDEN otherwise). Does not fetch.
 */
int upload__url_check(const struct upload_source_opts *o, const char *url,
		      struct err *e) VH_MUST_CHECK;

/* Asked every 250 ms while a URL source waits for its download: true
 * gives up (ERR_CANCELED). It must not block. */
struct upload_source_stop {
	bool (*fn)(void *arg);
	void *arg;
};

/*
 * Open the job's source; stop (may be NULL) is asked while a URL's body of
 * unknown length is downloaded whole, and while a read waits for a
 * stream's bytes. from > 0: the bytes before it are not needed (a resume's
 * parts are in the store): a URL whose job->source_version names a
 * validator is asked for the rest only (Range, If-Range); a read before
 * from then downloads the whole body again. A URL answering 5xx, 408 or
 * 429 gives ERR_UNAVAIL, a failed connection ERR_NET (both transient),
 * another status ERR_INPUT. Caller frees with upload__source_free.
 */
int upload__source_new(const struct upload_source_opts *o,
		       const struct upload_job *job, int64_t from,
		       const struct upload_source_stop *stop,
		       struct upload_source **out, struct err *e) VH_MUST_CHECK;
void upload__source_free(struct upload_source *src);
/*
 * What identifies the source's content (never NULL), to tell on resume
 * whether it changed since the session began: a file's device, inode,
 * size, modification and status-change times; a URL's size and its strong
 * ETag or Last-Modified (the size alone when it sends neither).
 */
const char *upload__source_version(const struct upload_source *s);
/*
 * Whether a file is still what it was when opened (its version): called
 * once every byte has been read, before the object is completed. A file
 * written meanwhile gives ERR_UNAVAIL with the remote code "SourceChanged"
 * (the job is tried again later, and starts over since its version
 * changed). A URL's body is one response: always 0.
 */
int upload__source_check(const struct upload_source *s,
			 struct err *e) VH_MUST_CHECK;
/* Total size in bytes (known once open). */
int64_t upload__source_size(const struct upload_source *src);
/* Whether reads may be at any offset (file) or must be in order (stream). */
bool upload__source_seekable(const struct upload_source *src);
/* Read exactly n bytes at offset off (file: pread; stream: the next n
 * bytes, off must follow the previous read; bytes before off are skipped).
 * Thread-safe for a file source. */
int upload__source_read(struct upload_source *src, int64_t off, void *p,
			size_t n, struct err *e) VH_MUST_CHECK;
/* The file descriptor of a file source, -1 for a stream. */
int upload__source_fd(const struct upload_source *src);

/* ================================================================ transfer */

struct upload_transfer_opts {
	const struct cloud_opts *cloud;
	int64_t part_size;  /* wanted; grown so that parts <= max_parts */
	int64_t threshold;  /* below: one PUT; at or above: multipart */
	int parallel;	    /* parts in flight */
	int max_attempts;   /* per part (and per PUT) */
	long retry_base_ms; /* backoff: doubled per attempt, with jitter */
	long retry_max_ms;
	long part_timeout_ms; /* 0: none (low-speed limit still applies) */
};

/* The checkpoint of a multipart transfer (what upload_parts holds). */
struct upload_part {
	int number; /* 1-based */
	int64_t size;
	char etag[80];
	bool done;
	bool has_crc64; /* crc64 is the part's (known when it was sent) */
	uint64_t crc64;
};

/* Hooks the engine calls from the thread that runs it. */
struct upload_transfer_hooks {
	void *arg;
	/* Persist the multipart upload id before any part is sent. */
	int (*on_init)(void *arg, const char *upload_id, int64_t part_size,
		       struct err *e);
	/* Persist one finished part (checkpoint). */
	int (*on_part)(void *arg, const struct upload_part *p, struct err *e);
	/* Bytes confirmed so far (done parts) and bytes in flight; called
	 * often, the receiver rate-limits its own writes. */
	void (*on_progress)(void *arg, int64_t done, int64_t total);
	/* True to stop (cancel requested, lease lost, shutdown). */
	bool (*should_stop)(void *arg);
	/*
	 * Renew the session's credential in place, same object and multipart
	 * upload (Alibaba RefreshUploadVideo); NULL when the platform has
	 * none. Called between requests when the credential expires within
	 * UPLOAD_REFRESH_MARGIN_S (at most every UPLOAD_REFRESH_EVERY_S), and
	 * when a part was refused because its token expired; that part is
	 * then sent again with the new credential (bounded).
	 */
	int (*refresh)(void *arg, struct err *e);
};

#define UPLOAD_REFRESH_MARGIN_S 300
#define UPLOAD_REFRESH_EVERY_S	30

/*
 * Choose the part size for size bytes: want rounded up to a MiB, at least
 * min, grown (doubled) until size needs at most max_parts parts.
 */
int64_t upload__part_size(int64_t size, int64_t want, int64_t min,
			  int max_parts);

/*
 * Send src to the session's target. For a multipart transfer,
 * *multipart_id (in/out, owned, may be NULL) and parts[0..*nparts) (in:
 * the checkpoint; out: every part) carry the resume state: a known upload
 * id is reconciled with ListParts (a part counts as done when the store
 * lists it with the checkpointed ETag and size) and only missing parts
 * are sent. ERR_CANCELED when should_stop said so; ERR_AUTH/ERR_REMOTE for
 * a refusal from the store (e->remote holds its code, not retried);
 * ERR_NET/ERR_UNAVAIL after the retries ran out; ERR_NOTFOUND when the
 * multipart upload id is no longer known to the store (start over).
 *
 * What the store says it stored is checked against what was sent: when an
 * answer carries the object's or part's CRC-64 (x-cos-hash-crc64ecma,
 * x-oss-hash-crc64ecma), it must be that of the bytes read; a part or PUT
 * whose CRC differs is sent again like one that failed, and a completed
 * object whose CRC is not the one combined from its parts' gives
 * ERR_UNAVAIL with the code UPLOAD_CRC_MISMATCH (upload__crc_mismatch):
 * the object is not what was read, start over. An answer without the
 * header is taken as it is.
 * *sent receives the bytes put on the wire (for tests and the benchmark).
 */
int upload__transfer_run(const struct upload_transfer_opts *o,
			 const struct upload_session *s,
			 struct upload_source *src, char **multipart_id,
			 struct upload_part **parts, int *nparts,
			 const struct upload_transfer_hooks *h, int64_t *sent,
			 struct err *e) VH_MUST_CHECK;

/*
 * Whether a store's refusal says the temporary credential expired or was
 * replaced (SecurityTokenExpired, ExpiredToken, InvalidSecurityToken):
 * renewing it and sending the request again is the remedy.
 */
bool upload__token_expired(const struct err *e);

/* The code of a store answer whose CRC-64 is not that of what was sent. */
#define UPLOAD_CRC_MISMATCH "CRC64Mismatch"
bool upload__crc_mismatch(const struct err *e);

/* CRC-64/XZ (the stores' "crc64ecma") of n more bytes after crc (0 to
 * start), and the CRC of A followed by B from theirs and B's length. */
uint64_t upload__crc64(uint64_t crc, const void *p, size_t n);
uint64_t upload__crc64_combine(uint64_t crc_a, uint64_t crc_b, int64_t len_b);

/* Abort a multipart upload (DELETE ?uploadId), best effort. */
void upload__transfer_abort(const struct upload_transfer_opts *o,
			    const struct upload_session *s,
			    const char *multipart_id);

/*
 * Pure helpers (unit-tested): parse the store's XML error body into
 * e->remote/msg and classify it (ERR_AUTH for signature, key, token and
 * access errors; ERR_NOTFOUND for NoSuchUpload; ERR_UNAVAIL for 5xx and
 * SlowDown/RequestTimeout; ERR_REMOTE otherwise). Returns the code.
 */
int upload__store_error(long status, const char *body, size_t len,
			struct err *e);
/* The text of the first <tag>...</tag> in xml, or NULL. Caller frees. */
char *upload__xml_tag(const char *xml, size_t len, const char *tag);

#endif

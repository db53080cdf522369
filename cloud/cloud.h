/*
 * cloud.h: the platforms' APIs: request signing (pure functions) and one
 * client per platform.
 *
 *   helpers   SHA-256/SHA-1 hex, base64, strict RFC 3986 encoding, time
 *             formatting and parsing (all pure; the caller passes the time)
 *   signing   tc3_*      Tencent API 3.0 TC3-HMAC-SHA256
 *             cos_*      Tencent COS q-sign (sha1)
 *             ali_rpc_*  Alibaba VOD RPC HMAC-SHA1 (SignatureVersion 1.0)
 *             oss_v1_*   Alibaba OSS header signature V1
 *             oss_v4_*   Alibaba OSS OSS4-HMAC-SHA256
 *   http      cloud_opts, cloud_easy_* (options every libcurl handle gets),
 *             cloud_http_perform (one request), retry policy
 *   tencent   cloud_tencent_* (ApplyUpload, CommitUpload, PullEvents,
 *             ConfirmEvents, DescribeMediaInfos) and their pure parsers
 *   alibaba   cloud_alibaba_* (CreateUploadVideo, RefreshUploadVideo,
 *             CreateUploadImage, GetVideoInfo, UploadMediaByURL,
 *             GetURLUploadInfos) and their pure parsers,
 *             UploadAddress/UploadAuth decoding
 *
 * Every signing function is pure (no I/O, no clock) and thread-safe. Output
 * goes to a caller-owned struct buf, appended to (not reset). Functions
 * return 0 or a negative ERR_* code; a struct buf that hits its cap returns
 * ERR_LIMIT and is emptied (see common.h).
 */
#ifndef VODHOOK_CLOUD_H
#define VODHOOK_CLOUD_H

#include "common/common.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>

/* A borrowed name/value pair (header or query parameter). */
struct cloud_kv {
	const char *key;
	const char *value; /* NULL is treated as "" */
};

/* ================================================================ helpers */

/* Lowercase hex digests of n bytes. */
void cloud_sha256_hex(const void *p, size_t n, char out[65]);
void cloud_sha1_hex(const void *p, size_t n, char out[41]);

/* Standard base64 (with padding) of n bytes, appended to out. */
int cloud_base64_encode(const void *p, size_t n, struct buf *out) VH_MUST_CHECK;
/*
 * Decode standard base64 (padding optional, no whitespace inside) and append
 * the bytes to out. ERR_INPUT when s is not base64.
 */
int cloud_base64_decode(const char *s, size_t n, struct buf *out,
			struct err *e) VH_MUST_CHECK;
/*
 * Strict RFC 3986 percent-encoding of n bytes appended to out: only
 * A-Z a-z 0-9 - _ . ~ stay as they are ('/' too when keep_slash), every
 * other byte becomes %XY with uppercase hex (space is %20, '*' is %2A).
 */
int cloud_uri_encode(struct buf *out, const char *s, size_t n,
		     bool keep_slash) VH_MUST_CHECK;

/* Time formatting of Unix seconds t (UTC). 0 or ERR_INPUT (out of range). */
int cloud_time_rfc1123(int64_t t,
		       char out[30]); /* Sun, 06 Nov 1994 08:49:37 GMT */
int cloud_time_iso8601(int64_t t, char out[21]); /* 2017-03-29T12:00:00Z */
int cloud_time_iso8601_basic(int64_t t, char out[17]); /* 20231217T034736Z */
int cloud_time_date(int64_t t, char out[11]);	       /* 2019-02-25 */
/*
 * Parse "YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm|-hh:mm)" into Unix seconds
 * (fraction dropped). 0 or ERR_INPUT.
 */
int cloud_time_parse_iso8601(const char *s, int64_t *out);

/* ================================================= TC3-HMAC-SHA256 (API 3.0)
 */

struct tc3_input {
	const char *secret_id;
	const char *secret_key;
	const char *service;	  /* "vod" */
	const char *host;	  /* "vod.tencentcloudapi.com" */
	const char *method;	  /* "POST" or "GET" */
	const char *query;	  /* GET: canonical query; POST: NULL or "" */
	const char *content_type; /* exactly as sent */
	const void *payload;	  /* body bytes; NULL for GET */
	size_t payload_len;
	int64_t timestamp;  /* X-TC-Timestamp; the scope date is its UTC date */
	const char *action; /* non-NULL: x-tc-action is signed too */
};

/* The canonical request, string to sign and Authorization header value. */
int tc3_canonical_request(const struct tc3_input *in,
			  struct buf *out) VH_MUST_CHECK;
int tc3_string_to_sign(const struct tc3_input *in,
		       struct buf *out) VH_MUST_CHECK;
int tc3_authorization(const struct tc3_input *in,
		      struct buf *out) VH_MUST_CHECK;

/* ============================================================ COS q-sign */

struct cos_sign_input {
	const char *method;		/* "PUT"; lowercased when signed */
	const char *path;		/* decoded UTF-8 path, "/key" */
	const struct cloud_kv *headers; /* headers to sign (names any case) */
	size_t n_headers;
	const struct cloud_kv *params; /* decoded query params to sign */
	size_t n_params;	       /* ("?uploads" is {"uploads", ""}) */
	const char *secret_id;
	const char *secret_key;
	int64_t start; /* q-sign-time = q-key-time = start;end */
	int64_t end;
};

int cos_http_string(const struct cos_sign_input *in,
		    struct buf *out) VH_MUST_CHECK;
int cos_string_to_sign(const struct cos_sign_input *in,
		       struct buf *out) VH_MUST_CHECK;
int cos_authorization(const struct cos_sign_input *in,
		      struct buf *out) VH_MUST_CHECK;

/* ============================================ Alibaba RPC (HMAC-SHA1, 1.0) */

/*
 * params: every request parameter except Signature. Pairs with an empty or
 * NULL value are skipped (as the SDKs do) in signing and in the query
 * alike; names are sorted by byte order. At most 128 pairs.
 */
int ali_rpc_canonical_query(const struct cloud_kv *params, size_t n,
			    struct buf *out) VH_MUST_CHECK;
/* METHOD&%2F&percentEncode(canonical query) */
int ali_rpc_string_to_sign(const char *method, const struct cloud_kv *params,
			   size_t n, struct buf *out) VH_MUST_CHECK;
/* base64(HMAC-SHA1(secret + "&", string to sign)), not URL-encoded. */
int ali_rpc_signature(const char *secret, const char *method,
		      const struct cloud_kv *params, size_t n,
		      struct buf *out) VH_MUST_CHECK;
/* canonical query + "&Signature=" + percentEncode(signature): the full
 * query string (GET) or form body (POST). */
int ali_rpc_signed_query(const char *secret, const char *method,
			 const struct cloud_kv *params, size_t n,
			 struct buf *out) VH_MUST_CHECK;

/* ======================================================= OSS signature V1 */

struct oss_v1_input {
	const char *verb;
	const char *content_md5;  /* NULL = "" */
	const char *content_type; /* NULL = "" */
	const char *date;	  /* the Date (or x-oss-date) value */
	const struct cloud_kv
	    *headers; /* request headers; x-oss-* are signed */
	size_t n_headers;
	const char *bucket;	       /* NULL: resource "/" */
	const char *key;	       /* object key, not encoded; NULL: none */
	const struct cloud_kv *params; /* decoded query; sub-resources signed */
	size_t n_params;
	const char *access_key_id;
	const char *access_key_secret;
};

int oss_v1_string_to_sign(const struct oss_v1_input *in,
			  struct buf *out) VH_MUST_CHECK;
/* "OSS <AccessKeyId>:<base64 signature>" */
int oss_v1_authorization(const struct oss_v1_input *in,
			 struct buf *out) VH_MUST_CHECK;

/* ======================================================= OSS signature V4 */

struct oss_v4_input {
	const char *verb;
	const char *bucket;	       /* NULL: none */
	const char *key;	       /* object key, not encoded; NULL: none */
	const struct cloud_kv *params; /* decoded query; encoded here */
	size_t n_params;
	/*
	 * Request headers as sent. content-type, content-md5 and x-oss-* are
	 * signed; the caller must send x-oss-date (cloud_time_iso8601_basic
	 * of time), x-oss-content-sha256 (UNSIGNED-PAYLOAD) and, with STS,
	 * x-oss-security-token, and list them here.
	 */
	const struct cloud_kv *headers;
	size_t n_headers;
	const char *const *additional; /* extra header names to sign */
	size_t n_additional;
	const char *region;  /* "cn-shanghai" */
	const char *product; /* NULL = "oss" */
	int64_t time;
	const char *access_key_id;
	const char *access_key_secret;
};

int oss_v4_canonical_request(const struct oss_v4_input *in,
			     struct buf *out) VH_MUST_CHECK;
int oss_v4_string_to_sign(const struct oss_v4_input *in,
			  struct buf *out) VH_MUST_CHECK;
int oss_v4_authorization(const struct oss_v4_input *in,
			 struct buf *out) VH_MUST_CHECK;

/* ================================================================ http */

/*
 * Settings for every outgoing request, filled by the configuration module.
 * All strings are borrowed and must stay valid while requests run. NULL or
 * 0 means the default given here.
 */
struct cloud_opts {
	const char *connect_to; /* CURLOPT_CONNECT_TO entry "H:P:h:p" or NULL */
	const char *ca_file;	/* CURLOPT_CAINFO or NULL */
	bool allow_http;	/* plain http allowed (emulator) */
	long connect_timeout_ms; /* default 5000 */
	long timeout_ms;	 /* default 30000 (whole request) */
	int max_attempts;	 /* retried API calls; default 3 */
	long retry_base_ms;	 /* first backoff; default 200, doubled */
	long retry_max_ms;	 /* one backoff at most; default 2000 */

	const char *tencent_secret_id;
	const char *tencent_secret_key;
	const char *tencent_region;    /* X-TC-Region, may be NULL */
	const char *tencent_subapp_id; /* decimal uint64; NULL/"0": none */
	const char
	    *tencent_api_url; /* default https://vod.tencentcloudapi.com */

	const char *alibaba_access_key_id;
	const char *alibaba_access_key_secret;
	const char *alibaba_region; /* default cn-shanghai */
	const char
	    *alibaba_api_url; /* default https://vod.<region>.aliyuncs.com */
	const char *alibaba_app_id; /* AppId, optional */
	/* UserData.MessageCallback.CallbackURL of uploads, optional */
	const char *alibaba_callback_url;
	/* sign OSS requests with OSS4-HMAC-SHA256 instead of V1 */
	bool alibaba_oss_v4;
};

#define CLOUD_BODY_MAX (4u << 20) /* API response cap */

/*
 * Per-handle state for an easy handle the caller owns (the transfer engine
 * uses it with curl multi). cloud_easy_init applies the common options:
 * NOSIGNAL, connect and total timeouts, ERRORBUFFER, protocols https (or
 * http,https), CONNECT_TO, CAINFO, TCP keepalive, and a write callback that
 * stores the response body in ce->body, capped at body_max. The caller may
 * override options afterwards (e.g. its own WRITEFUNCTION for downloads).
 * ce must stay at the same address while the handle is in use.
 */
struct cloud_easy {
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *connect_to;
	struct buf body;    /* response body */
	bool body_overflow; /* the body exceeded its cap */
};

int cloud_easy_init(struct cloud_easy *ce, CURL *h, const struct cloud_opts *o,
		    size_t body_max, struct err *e) VH_MUST_CHECK;
/* Free ce's resources (not the handle; clean up the handle first). */
void cloud_easy_cleanup(struct cloud_easy *ce);
/*
 * Map a finished transfer to an ERR_* code with a message in e: 0 when
 * curl succeeded (whatever the HTTP status), ERR_LIMIT for an oversized
 * body, ERR_INPUT for a malformed URL or a scheme not allowed (not worth
 * retrying), ERR_NET otherwise.
 */
int cloud_easy_result(const struct cloud_easy *ce, CURLcode cc, struct err *e);

/* One HTTP request. */
struct cloud_request {
	const char *method; /* "GET", "POST", "PUT" */
	const char *url;
	const struct curl_slist *headers; /* borrowed, may be NULL */
	const void *body;		  /* may be NULL */
	size_t body_len;
	long timeout_ms; /* 0: opts' timeout */
};

struct cloud_response {
	long status;	 /* HTTP status, 0 when none was received */
	struct buf body; /* capped at CLOUD_BODY_MAX; caller frees */
	bool sent;	 /* the request may have reached the server */
};

void cloud_response_init(struct cloud_response *r);
void cloud_response_cleanup(struct cloud_response *r);

/*
 * Perform one request on a fresh easy handle (no retry). 0 when a response
 * arrived (any status) and r is filled; ERR_NET, ERR_LIMIT or ERR_INPUT
 * (see cloud_easy_result) otherwise, with
 * r->sent telling whether the request may have reached the server.
 * Thread-safe once curl_global_init has run.
 */
int cloud_http_perform(const struct cloud_opts *o,
		       const struct cloud_request *req,
		       struct cloud_response *r, struct err *e) VH_MUST_CHECK;

/* Backoff after failed attempt number attempt (>= 1): retry_base_ms
 * doubled per attempt, capped at retry_max_ms, then a random value in
 * [d/2, d] (jitter). */
long cloud_http_backoff_ms(const struct cloud_opts *o, int attempt);
/* opts' max_attempts, default 3, at most 10. */
int cloud_http_max_attempts(const struct cloud_opts *o);

/* ================================================================ tencent */

struct cloud_tencent_apply_params {
	const char *media_type;	     /* required: "mp4" */
	const char *media_name;	     /* optional */
	const char *cover_type;	     /* optional: "jpg" */
	const char *procedure;	     /* optional */
	const char *source_context;  /* optional, <= 250 chars */
	const char *session_context; /* optional, <= 1000 chars */
	const char *storage_region;  /* optional */
	const char *expire_time;     /* optional, ISO 8601 */
	const char *class_id;	     /* optional, decimal */
};

/* Owned strings (NULL when absent); free with _cleanup. */
struct cloud_tencent_apply {
	char *storage_bucket;
	char *storage_region;
	char *media_storage_path;
	char *cover_storage_path;
	char *vod_session_key;
	char *tmp_secret_id; /* TempCertificate; NULL when null */
	char *tmp_secret_key;
	char *tmp_token;
	int64_t expired_time; /* Unix seconds, 0 when absent */
	char *request_id;
};

struct cloud_tencent_commit {
	char *file_id;
	char *media_url;
	char *cover_url;
	char *request_id;
};

struct cloud_tencent_events {
	cJSON *doc;	  /* the whole response; owned, freed by _cleanup */
	const cJSON *set; /* Response.EventSet (array) or NULL; borrowed */
	char **handles;	  /* EventHandle of each event that has one */
	size_t n_handles;
	char *request_id;
};

struct cloud_tencent_media {
	char *file_id;
	bool exists;	     /* false: listed in NotExistFileIdSet */
	char *media_url;     /* BasicInfo.MediaUrl */
	char *status;	     /* BasicInfo.Status ("Normal", "Forbidden") */
	size_t n_transcodes; /* TranscodeInfo.TranscodeSet entries */
	const cJSON *info;   /* the raw MediaInfo, borrowed from doc */
};

struct cloud_tencent_media_infos {
	cJSON *doc; /* owned */
	struct cloud_tencent_media *items;
	size_t n_items;
	char *request_id;
};

void cloud_tencent_apply_cleanup(struct cloud_tencent_apply *r);
void cloud_tencent_commit_cleanup(struct cloud_tencent_commit *r);
void cloud_tencent_events_cleanup(struct cloud_tencent_events *r);
void cloud_tencent_media_infos_cleanup(struct cloud_tencent_media_infos *r);

/*
 * The API calls. Each signs a POST with TC3, retries transport failures
 * where that is safe (CommitUpload only when the request never left), and
 * maps Response.Error to ERR_AUTH (AuthFailure.*) or ERR_REMOTE with the
 * platform's code in e->remote. A non-200 status is ERR_UNAVAIL (5xx) or
 * ERR_REMOTE. Results are zeroed first and owned by the caller.
 */
int cloud_tencent_apply_upload(const struct cloud_opts *o,
			       const struct cloud_tencent_apply_params *p,
			       struct cloud_tencent_apply *r,
			       struct err *e) VH_MUST_CHECK;
int cloud_tencent_commit_upload(const struct cloud_opts *o,
				const char *vod_session_key,
				struct cloud_tencent_commit *r,
				struct err *e) VH_MUST_CHECK;
/* Long poll (held up to 5 s by the server; client timeout 10 s). */
int cloud_tencent_pull_events(const struct cloud_opts *o,
			      struct cloud_tencent_events *r,
			      struct err *e) VH_MUST_CHECK;
/* At most 16 handles. */
int cloud_tencent_confirm_events(const struct cloud_opts *o,
				 const char *const *handles, size_t n,
				 struct err *e) VH_MUST_CHECK;
/* At most 20 file ids. */
int cloud_tencent_describe_media_infos(const struct cloud_opts *o,
				       const char *const *file_ids, size_t n,
				       struct cloud_tencent_media_infos *r,
				       struct err *e) VH_MUST_CHECK;

/* Pure parsers of a response (HTTP status, body) used by the calls above. */
int cloud_tencent_parse_apply(long status, const char *body, size_t len,
			      struct cloud_tencent_apply *r,
			      struct err *e) VH_MUST_CHECK;
int cloud_tencent_parse_commit(long status, const char *body, size_t len,
			       struct cloud_tencent_commit *r,
			       struct err *e) VH_MUST_CHECK;
int cloud_tencent_parse_events(long status, const char *body, size_t len,
			       struct cloud_tencent_events *r,
			       struct err *e) VH_MUST_CHECK;
int cloud_tencent_parse_media_infos(long status, const char *body, size_t len,
				    struct cloud_tencent_media_infos *r,
				    struct err *e) VH_MUST_CHECK;
/* Envelope only (ConfirmEvents): 0 or the mapped error. */
int cloud_tencent_parse_empty(long status, const char *body, size_t len,
			      struct err *e) VH_MUST_CHECK;

/* ================================================================ alibaba */

/* Decoded UploadAddress + UploadAuth. Owned strings; free with _cleanup. */
struct cloud_alibaba_upload_auth {
	char *endpoint; /* "https://oss-cn-shanghai.aliyuncs.com" */
	char *bucket;
	char *file_name;     /* object key */
	char *object_prefix; /* may be NULL */
	char *access_key_id;
	char *access_key_secret;
	char *security_token;
	char *region;	   /* may be NULL */
	int64_t expire_at; /* Unix seconds: ExpireUTCTime, else issued_at
			      + Expiration, else issued_at + 3000 */
};

struct cloud_alibaba_upload {
	char *video_id;	 /* VideoId, or ImageId for images */
	char *image_url; /* CreateUploadImage: ImageURL */
	char *request_id;
	struct cloud_alibaba_upload_auth auth;
};

struct cloud_alibaba_video_params {
	const char *title;     /* required */
	const char *file_name; /* required, with extension */
	const char *file_size; /* optional decimal */
	const char *description;
	const char *cover_url;
	const char *cate_id;
	const char *tags;
	const char *template_group_id;
	const char *workflow_id;
	const char *storage_location;
	const char *user_data; /* JSON text */
};

struct cloud_alibaba_image_params {
	const char *image_type; /* "default" or "cover" */
	const char *image_ext;	/* "jpg" */
	const char *title;
	const char *tags;
	const char *storage_location;
	const char *user_data;
	const char *description;
	const char *cate_id;
};

struct cloud_alibaba_video_info {
	cJSON *doc;	    /* owned */
	const cJSON *video; /* "Video" object, borrowed */
	char *video_id;
	char *status; /* Uploading, UploadSucc, Transcoding, Normal, ... */
	char *request_id;
};

/* UploadMediaByURL parameters; strings borrowed, NULL or "" = absent. */
struct cloud_alibaba_url_params {
	const char *urls;      /* required: UploadURLs, comma-separated, each
				  URL-encoded (at most 20) */
	const char *metadatas; /* UploadMetadatas: JSON array text of
				  {SourceURL, Title, FileExtension, ...} */
	const char *template_group_id;
	const char *workflow_id;
	const char *storage_location;
	const char *user_data; /* JSON text */
};

struct cloud_alibaba_url_jobs {
	cJSON *doc; /* owned */
	char **source_urls;
	char **job_ids;
	size_t n;
	char *request_id;
};

/* Where a URL pull stands (GetURLUploadInfos), as vodhook reads it. */
enum cloud_url_outcome {
	CLOUD_URL_PENDING = 0, /* queued or under way (or a status not known) */
	CLOUD_URL_SUCCESS,     /* the media exists: media_id */
	CLOUD_URL_FAILED,      /* the pull failed: error_code, error_message */
	CLOUD_URL_UNKNOWN,     /* the platform does not know it (NonExists) */
};

#define CLOUD_ALIBABA_URL_INFOS_MAX 10 /* JobIds per GetURLUploadInfos */

/* One URL pull job. Owned strings (NULL when absent or empty). */
struct cloud_alibaba_url_info {
	char *job_id;
	char *media_id; /* MediaId: the VideoId, once the media exists */
	char *status;	/* as sent ("SUCCESS", "Normal", "DOWNLOADING", ...) */
	char *error_code;
	char *error_message;
	int64_t file_size;     /* FileSize (number or string), -1 unknown */
	int64_t complete_time; /* CompleteTime, Unix seconds, 0 unknown */
	enum cloud_url_outcome outcome;
	const cJSON *info; /* the raw element, borrowed from doc; NULL for an
			      entry of NonExists */
};

struct cloud_alibaba_url_infos {
	cJSON *doc; /* owned */
	struct cloud_alibaba_url_info *items;
	size_t n_items;
	char *request_id;
};

void cloud_alibaba_upload_auth_cleanup(struct cloud_alibaba_upload_auth *a);
void cloud_alibaba_upload_cleanup(struct cloud_alibaba_upload *r);
void cloud_alibaba_video_info_cleanup(struct cloud_alibaba_video_info *r);
void cloud_alibaba_url_jobs_cleanup(struct cloud_alibaba_url_jobs *r);
void cloud_alibaba_url_infos_cleanup(struct cloud_alibaba_url_infos *r);

/*
 * The API calls. Errors: non-2xx
 * with {Code, Message, RequestId} become ERR_AUTH (signature/key codes) or
 * ERR_REMOTE with Code in e->remote; a non-2xx body without Code is
 * ERR_UNAVAIL (5xx) or ERR_REMOTE. Only the idempotent calls
 * (RefreshUploadVideo, GetVideoInfo, GetURLUploadInfos) are retried after
 * the request may have been sent; every attempt gets a fresh
 * SignatureNonce. Requests are GET
 * with the signed parameters in the query string.
 */
int cloud_alibaba_create_upload_video(
    const struct cloud_opts *o, const struct cloud_alibaba_video_params *p,
    struct cloud_alibaba_upload *r, struct err *e) VH_MUST_CHECK;
int cloud_alibaba_refresh_upload_video(const struct cloud_opts *o,
				       const char *video_id,
				       struct cloud_alibaba_upload *r,
				       struct err *e) VH_MUST_CHECK;
int cloud_alibaba_create_upload_image(
    const struct cloud_opts *o, const struct cloud_alibaba_image_params *p,
    struct cloud_alibaba_upload *r, struct err *e) VH_MUST_CHECK;
int cloud_alibaba_get_video_info(const struct cloud_opts *o,
				 const char *video_id,
				 struct cloud_alibaba_video_info *r,
				 struct err *e) VH_MUST_CHECK;
/* UploadMediaByURL: the platform fetches the URLs itself (asynchronous;
 * each URL becomes one JobId, finished by an UploadByURLComplete event).
 * Not retried once the request may have been sent (a retry could queue
 * the same URL twice). */
int cloud_alibaba_upload_media_by_url(const struct cloud_opts *o,
				      const struct cloud_alibaba_url_params *p,
				      struct cloud_alibaba_url_jobs *r,
				      struct err *e) VH_MUST_CHECK;
/*
 * GetURLUploadInfos: where the URL pulls job_ids[0..n) stand (1 to
 * CLOUD_ALIBABA_URL_INFOS_MAX JobIds, sent comma-separated; an id that is
 * empty or holds a comma is ERR_INPUT). A job the platform does not know
 * comes back with outcome CLOUD_URL_UNKNOWN, or not at all.
 */
int cloud_alibaba_get_url_upload_infos(const struct cloud_opts *o,
				       const char *const *job_ids, size_t n,
				       struct cloud_alibaba_url_infos *r,
				       struct err *e) VH_MUST_CHECK;

/*
 * Pure parsers. issued_at is the local time the response arrived, used when
 * UploadAuth has no ExpireUTCTime.
 */
int cloud_alibaba_decode_upload_auth(const char *upload_address,
				     const char *upload_auth, int64_t issued_at,
				     struct cloud_alibaba_upload_auth *a,
				     struct err *e) VH_MUST_CHECK;
/* CreateUploadVideo / RefreshUploadVideo / CreateUploadImage responses
 * (flat or wrapped in {"CreateUploadImageResponse": {...}}). */
int cloud_alibaba_parse_upload(long status, const char *body, size_t len,
			       int64_t issued_at,
			       struct cloud_alibaba_upload *r,
			       struct err *e) VH_MUST_CHECK;
int cloud_alibaba_parse_video_info(long status, const char *body, size_t len,
				   struct cloud_alibaba_video_info *r,
				   struct err *e) VH_MUST_CHECK;
int cloud_alibaba_parse_url_jobs(long status, const char *body, size_t len,
				 struct cloud_alibaba_url_jobs *r,
				 struct err *e) VH_MUST_CHECK;
/*
 * GetURLUploadInfos: URLUploadInfoList[] (each with its outcome, see
 * cloud_alibaba_url_outcome; an element without JobId is skipped) and the
 * JobIds of NonExists[] (outcome CLOUD_URL_UNKNOWN). At most 100 entries
 * (ERR_LIMIT beyond); ids are read as strings only, at most 128 bytes.
 */
int cloud_alibaba_parse_url_upload_infos(long status, const char *body,
					 size_t len,
					 struct cloud_alibaba_url_infos *r,
					 struct err *e) VH_MUST_CHECK;
/*
 * What a URL pull's Status, ErrorCode and MediaId amount to. The status
 * values are not consistent across Alibaba's documentation ("SUCCESS",
 * "Normal", "UPLOAD_SUCCESS", "FAIL", "DOWNLOAD_FAIL", ...), so they are
 * compared without case: a status FAIL* or *_FAIL* is a failure; SUCCESS,
 * NORMAL or UPLOAD_SUCCESS with a MediaId is a success (even with an
 * ErrorCode); otherwise a non-empty ErrorCode other than "200" or "0" is a
 * failure, and anything else (PENDING, DOWNLOADING, a success without a
 * MediaId, an unknown word) means the pull is still under way.
 */
enum cloud_url_outcome cloud_alibaba_url_outcome(const char *status,
						 const char *error_code,
						 const char *media_id);
/* Error shape only: 0 for a 2xx status, else the mapped error. */
int cloud_alibaba_parse_error(long status, const char *body, size_t len,
			      struct err *e) VH_MUST_CHECK;

#endif

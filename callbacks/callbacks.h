/*
 * callbacks.h: verifying, parsing and recording VOD event notifications.
 *
 * Verifiers and parsers are pure functions (bytes in, struct out, no I/O) so
 * that unit tests and fuzzers reach them directly. Ingest (ingest.h) records
 * a parsed event in PostgreSQL, or in the local spool when the database is
 * unavailable; background.h has the PULL poller and the reconciler.
 */
#ifndef VODHOOK_CALLBACKS_H
#define VODHOOK_CALLBACKS_H

#include "common/common.h"

#include <cjson/cJSON.h>

enum vod_provider { VOD_TENCENT = 1, VOD_ALIBABA = 2 };

/* How an event reached vodhook (vod_events.received_via). */
enum vod_via { VIA_PUSH = 0, VIA_PULL, VIA_SPOOL, VIA_RECONCILE };

/*
 * What an event means for the media record. Media states, in rank order:
 * uploaded (1) -> confirmed (2) -> processing (3) -> ready | failed (4)
 * -> deleted (5), reachable from every state and final.
 */
enum vod_effect {
	EFFECT_NONE = 0,   /* stored only, the record does not move */
	EFFECT_CONFIRMED,  /* the platform says the upload completed */
	EFFECT_PROCESSING, /* processing (task flow, transcoding) under way */
	EFFECT_READY,	   /* processing finished successfully */
	EFFECT_FAILED,	   /* processing or upload failed */
	EFFECT_DELETED,	   /* the platform deleted the media */
};

/*
 * One notification, normalized across providers and formats. All string
 * members are NUL-terminated and owned by the event (freed by
 * vod_event_cleanup); NULL means "not present in the notification".
 */
struct vod_event {
	enum vod_provider provider;
	char *event_type; /* "NewFileUpload", "FileUploadComplete", ... */
	char *dedup_key;  /* semantic duplicate key, never NULL once parsed */
	char *file_id;	  /* Tencent FileId, Alibaba VideoId/ImageId */
	char *task_id;	  /* the task the event reports on */
	char *status;	  /* as sent: "FINISH", "success", ... */
	char *error_code; /* non-empty error code, or NULL */
	char *error_message;
	char *media_url;	 /* FileUrl / MediaUrl / FileURL */
	char *source_context;	 /* Tencent SourceContext / Alibaba Extend */
	char *session_context;	 /* Tencent SessionContext */
	char *procedure_task_id; /* Tencent ProcedureTaskId */
	char *upload_id;	 /* vodhook upload id found in the context */
	int64_t event_time;	 /* Unix seconds; 0 when not given */
	int64_t size;		 /* bytes; -1 when not given */
	enum vod_effect effect;
	/* For EFFECT_CONFIRMED: true when processing is known to follow
	 * (Tencent ProcedureTaskId present), false when known not to, and
	 * unknown (-1) when the notification does not say. */
	int processing_follows;
	/* For EFFECT_DELETED: every media the event deletes (file_id is the
	 * first), sorted and without repeats; NULL and 0 otherwise. */
	char **deleted_ids;
	size_t n_deleted;
};

void vod_event_init(struct vod_event *ev);
void vod_event_cleanup(struct vod_event *ev);
const char *vod_provider_name(enum vod_provider p);
const char *vod_via_name(enum vod_via v);

/* ------------------------------------------------------------ limits */

#define CB_ID_MAX	 128  /* FileId, TaskId, VideoId, status, codes */
#define CB_URL_MAX	 4096 /* media URLs */
#define CB_CONTEXT_MAX	 4096 /* SourceContext, SessionContext, Extend */
#define CB_MESSAGE_MAX	 4096 /* error messages */
#define CB_DEDUP_KEY_MAX 512  /* longer keys are refused with ERR_INPUT */
#define CB_DELETED_MAX	 1000 /* media ids one deletion event may name */
/* Seconds a Tencent T (an expiry time) may lie in the past and still pass:
 * none, the platform already grants ten minutes of validity. */
#define CB_TENCENT_T_GRACE_S 0

/* ------------------------------------------------------------ verify */

/*
 * Check the Tencent SignKey authentication of a push callback: Sign must be
 * md5hex(sign_key + T) (hex of either case, compared in constant time) and
 * T, an expiry time in Unix seconds, must not be earlier than now minus
 * CB_TENCENT_T_GRACE_S. Sign and T are read from the top-level members
 * "Sign"/"T" of doc (or "sign"/"t"; T as a JSON number or a decimal
 * string), else from query_sign/query_t (the placement is unconfirmed, both
 * are accepted; either may be NULL). Only those members are read: the
 * signature does not cover the body. doc may be NULL (body not JSON).
 *
 * Returns 0 at once when sign_key is NULL or "" (authentication not
 * configured). Otherwise 0 when valid, ERR_AUTH when Sign or T is missing,
 * expired or wrong, ERR_INPUT when T is not a decimal integer. Messages
 * never contain the key or the expected signature. Pure and thread-safe.
 */
int cb_verify_tencent_doc(const cJSON *doc, const char *query_sign,
			  const char *query_t, const char *sign_key,
			  int64_t now, struct err *e) VH_MUST_CHECK;
/*
 * cb_verify_tencent_doc on a body of len bytes, parsed here (a body that is
 * not JSON leaves only the query parameters). Use the _doc form to parse a
 * body once for both verifying and parsing.
 */
int cb_verify_tencent(const char *body, size_t len, const char *query_sign,
		      const char *query_t, const char *sign_key, int64_t now,
		      struct err *e) VH_MUST_CHECK;
/*
 * Check an Alibaba callback: X-VOD-SIGNATURE (signature_hdr) must be
 * md5hex(url "|" X-VOD-TIMESTAMP "|" key), where url is the callback URL as
 * configured on the platform, X-VOD-TIMESTAMP (timestamp_hdr) must be a
 * 10-digit Unix time within window_s seconds of now (either direction).
 * key_old (NULL when none) is a second accepted key, for rotation; both are
 * always computed so that timing does not tell which one matched.
 *
 * Returns 0 at once when key is NULL or "" (authentication not configured).
 * Otherwise 0, ERR_AUTH (missing header, stale timestamp, mismatch) or
 * ERR_INPUT (malformed header, negative window). Pure and thread-safe.
 */
int cb_verify_alibaba(const char *url, const char *timestamp_hdr,
		      const char *signature_hdr, const char *key,
		      const char *key_old, int64_t now, int64_t window_s,
		      struct err *e) VH_MUST_CHECK;

/* ------------------------------------------------------------ parse */

/*
 * Parse a notification from provider p into ev: the one entry point for
 * callers that handle both providers. body/len are the raw bytes as
 * received (needed to recover numeric ids exactly and to key unknown
 * events); doc is body already parsed as JSON (borrowed), or NULL to parse
 * it here. ev must be initialized (vod_event_init); on success its old
 * content is released and replaced, on failure it is left as it was. Every
 * string of the result is owned by ev. See callbacks/README.md for the
 * fields, effects and dedup keys. Returns 0, or ERR_INPUT when the body is
 * not a JSON object, has no event type, carries an id it cannot read
 * exactly or a field past its CB_*_MAX cap, or p is not a provider. An
 * unknown event type parses (EFFECT_NONE, dedup key over the raw bytes).
 * Pure and thread-safe.
 */
int cb_parse(enum vod_provider p, const cJSON *doc, const char *body,
	     size_t len, struct vod_event *ev, struct err *e) VH_MUST_CHECK;
/*
 * cb_parse of a Tencent push body of len bytes, v3 ("EventType" + one
 * payload object) or legacy ("eventType", "version" "4.0" or 4, "data").
 */
int cb_parse_tencent(const char *body, size_t len, struct vod_event *ev,
		     struct err *e) VH_MUST_CHECK;
/*
 * Parse one element of a PullEvents EventSet (borrowed; explicit nulls are
 * accepted anywhere). Without raw bytes, an id sent as a JSON number is
 * accepted only below 2^53 and refused with ERR_INPUT otherwise; an unknown
 * type is keyed by the SHA-256 of the element re-printed without its
 * EventHandle. Otherwise as cb_parse_tencent.
 */
int cb_parse_tencent_json(const cJSON *event, struct vod_event *ev,
			  struct err *e) VH_MUST_CHECK;
/*
 * A PullEvents element that cb_parse_tencent_json refused (why: the
 * reason), as an event to store and confirm so that the platform stops
 * handing it out again: type "Unparsed", no subject and no effect, the
 * reason as its error (code "Unparsed"), keyed by the SHA-256 of the
 * element re-printed without its EventHandle. 0, or ERR_INPUT when event is
 * not an object.
 */
int cb_parse_tencent_unparsed(const cJSON *event, const char *why,
			      struct vod_event *ev,
			      struct err *e) VH_MUST_CHECK;
/* cb_parse of an Alibaba callback body of len bytes. */
int cb_parse_alibaba(const char *body, size_t len, struct vod_event *ev,
		     struct err *e) VH_MUST_CHECK;

#endif

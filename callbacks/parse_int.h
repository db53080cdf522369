/*
 * parse_int.h: the providers' parsers behind cb_parse (parse.c), and the
 * helpers they share (parse_util.c). Folder-private: nothing outside
 * callbacks/ includes it.
 *
 * All helpers are pure and thread-safe. Strings they return are heap copies
 * that the caller owns (free()), or that they move into a struct vod_event.
 */
#ifndef VODHOOK_CALLBACKS_PARSE_INT_H
#define VODHOOK_CALLBACKS_PARSE_INT_H

#include "callbacks/callbacks.h"

/*
 * Where a document came from. raw/raw_len are the bytes it was parsed from
 * (NULL when unknown, as for a PullEvents element); they let a numeric id be
 * recovered digit for digit and an unknown event be hashed.
 */
struct cb_src {
	const char *raw;
	size_t raw_len;
};

/*
 * The providers' parsers of a body already parsed into doc (borrowed), for
 * cb_parse; body/len are the raw bytes doc was parsed from (body NULL or
 * doc not an object: ERR_INPUT).
 */
int cb__parse_tencent_doc(const cJSON *doc, const char *body, size_t len,
			  struct vod_event *ev, struct err *e) VH_MUST_CHECK;
int cb__parse_alibaba_doc(const cJSON *doc, const char *body, size_t len,
			  struct vod_event *ev, struct err *e) VH_MUST_CHECK;

/*
 * A v3 ProcedureTask (the ProcedureStateChangeEvent of a callback, or the
 * ProcedureTask of a DescribeTaskDetail answer) into ev as the callback is
 * read: task id, file id, status, URL, size, the first failed sub-task's
 * error, and the effect (PROCESSING: processing; FINISH: ready, or failed
 * with an error; anything else: none). ERR_INPUT when task is not an object
 * or lacks TaskId or Status. Ids are read as strings (no raw bytes).
 */
int cb__parse_tencent_procedure(const cJSON *task, struct vod_event *ev,
				struct err *e) VH_MUST_CHECK;
/*
 * A v3 PullUploadTask (the PullCompleteEvent of a callback, or the
 * PullUploadTask of a DescribeTaskDetail answer) into ev as the callback is
 * read: task id, file id, status, error (ErrCode, Message), contexts, and
 * the effect (confirmed when it finished with a
 * FileId and no error; none otherwise). ERR_INPUT when task is not an
 * object or lacks TaskId.
 */
int cb__parse_tencent_pull(const cJSON *task, struct vod_event *ev,
			   struct err *e) VH_MUST_CHECK;

/*
 * An identifier member of obj: a string (empty means absent) or a JSON
 * number, whose exact digits are recovered from src->raw because cJSON keeps
 * only a double. *out is NULL when absent or null. ERR_INPUT when the id is
 * not a string or an integer, is longer than CB_ID_MAX, holds control
 * characters, or is a number whose digits cannot be recovered exactly.
 * An existing *out is kept (so that callers can chain fallbacks); *out must
 * be NULL or a previous result.
 */
int cb__get_id(const cJSON *obj, const char *name, const struct cb_src *src,
	       char **out, struct err *e) VH_MUST_CHECK;
/*
 * As cb__get_id for an element of an array: item is the element, name the
 * member holding the array and index the position of item in it.
 */
int cb__id_value(const cJSON *item, const char *name, int index,
		 const struct cb_src *src, char **out,
		 struct err *e) VH_MUST_CHECK;
/*
 * A text member of obj, copied into *out: a string (empty means absent) or
 * an integer given as a JSON number (printed in decimal). Any other type
 * counts as absent. ERR_INPUT when longer than max bytes. *out is NULL when
 * absent; an existing *out is kept (so that callers can chain fallbacks).
 */
int cb__get_text(const cJSON *obj, const char *name, size_t max, char **out,
		 struct err *e) VH_MUST_CHECK;
/* As cb__get_text for the member it (NULL when absent) named name. */
int cb__text_value(const cJSON *it, const char *name, size_t max, char **out,
		   struct err *e) VH_MUST_CHECK;
/* Copy s (NULL or "" = absent, *out kept) capped to max; ERR_INPUT past it. */
int cb__set_text(char **out, const char *s, size_t max, const char *what,
		 struct err *e) VH_MUST_CHECK;
/* Check an event type: 1..CB_ID_MAX printable ASCII characters. */
int cb__check_type(const char *type, struct err *e) VH_MUST_CHECK;
/* Set ev->dedup_key from a format; ERR_INPUT past CB_DEDUP_KEY_MAX. */
int cb__dedup_printf(struct vod_event *ev, struct err *e, const char *fmt, ...)
    VH_PRINTF(3, 4) VH_MUST_CHECK;
/* Set ev->dedup_key to "<type>:sha256:<hex of n bytes at p>". */
int cb__dedup_hash(struct vod_event *ev, const char *type, const void *p,
		   size_t n, struct err *e) VH_MUST_CHECK;
/*
 * Take ids[0..n) (owned: each string and the array are freed here, on
 * failure too) as ev->deleted_ids, sorted and without repeats. ERR_INPUT
 * when more than CB_DELETED_MAX remain.
 */
int cb__take_deleted(struct vod_event *ev, char **ids, size_t n,
		     struct err *e) VH_MUST_CHECK;
/* True when s[0..36) is a canonical lowercase UUID (8-4-4-4-12 hex). */
bool cb__uuid_ok(const char *s, size_t n);
/*
 * Find the exact digits of a JSON number in raw: the value of member name
 * (index < 0) or element index of the array that is the value of member
 * name, whose parsed double equals value. Only plain digit strings of at
 * most outsz - 1 characters qualify. 0 with the digits in out, ERR_NOTFOUND
 * when there is none, ERR_CONFLICT when different digit strings match.
 */
int cb__raw_number(const char *raw, size_t len, const char *name, int index,
		   double value, char *out, size_t outsz);
/* Case-insensitive ASCII equality; NULL equals nothing. */
bool cb__streq_nocase(const char *a, const char *b);

#endif

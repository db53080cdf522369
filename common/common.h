/*
 * common.h: the pieces every vodhook module uses.
 *
 *   errors   ERR_* codes (0 = ok, negative = failure) and struct err, which
 *            carries a PostgreSQL-style message ("could not X: why") and, for
 *            failures reported by a cloud platform, the platform's own code.
 *   memory   xmalloc and friends abort on exhaustion (a daemon cannot go on).
 *   buf      a growable, always NUL-terminated byte buffer with a hard cap.
 *   log      one key=value line per record on stderr, level-checked.
 *   misc     hex, digests, constant-time compare, clocks, small string helpers.
 *
 * Nothing here depends on another vodhook module.
 */
#ifndef VODHOOK_COMMON_H
#define VODHOOK_COMMON_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define VH_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define VH_MUST_CHECK	__attribute__((warn_unused_result))

/* ---------------------------------------------------------------- errors */

#define VH_ERRORS(X)                                                           \
	X(ERR_NOMEM, -1, "out of memory")                                      \
	X(ERR_LIMIT, -2, "size limit exceeded")                                \
	X(ERR_INPUT, -3, "invalid input")                                      \
	X(ERR_DB, -4, "database failure")                                      \
	X(ERR_AUTH, -5, "authentication failed")                               \
	X(ERR_NOTFOUND, -6, "not found")                                       \
	X(ERR_IO, -7, "input/output error")                                    \
	X(ERR_NET, -8, "network failure")                                      \
	X(ERR_REMOTE, -9, "remote service error")                              \
	X(ERR_CONFLICT, -10, "conflict")                                       \
	X(ERR_UNAVAIL, -11, "temporarily unavailable")                         \
	X(ERR_FORBIDDEN, -12, "forbidden")                                     \
	X(ERR_INTERNAL, -13, "internal error")                                 \
	X(ERR_CANCELED, -14, "canceled")

enum vh_err {
#define VH_ERR_ENUM(name, val, text) name = val,
	VH_ERRORS(VH_ERR_ENUM)
#undef VH_ERR_ENUM
};

struct err {
	int code;	 /* ERR_* or 0 */
	char remote[64]; /* platform error code ("InvalidParameter"), or "" */
	char msg[256];	 /* human-readable, never contains a secret */
};

/* Name ("ERR_INPUT") and description of an ERR_* code; static strings. */
const char *err_name(int code);
const char *err_str(int code);

/*
 * Fill *e (which may be NULL) with code and a formatted message and return
 * code, so that callers can write "return err_set(e, ERR_INPUT, ...)".
 */
int err_set(struct err *e, int code, const char *fmt, ...) VH_PRINTF(3, 4);
/* Like err_set, and records the platform's own error code. */
int err_set_remote(struct err *e, int code, const char *remote, const char *fmt,
		   ...) VH_PRINTF(4, 5);
void err_clear(struct err *e);

/* ---------------------------------------------------------------- memory */

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Print "fatal: ..." to the log and abort: start-up failures and broken
 * invariants only, never request paths. */
_Noreturn void fatal(const char *fmt, ...) VH_PRINTF(1, 2);

/* ---------------------------------------------------------------- buf */

/*
 * A byte buffer that is always NUL-terminated and never grows past max bytes
 * of content. A failed append frees the content and returns ERR_LIMIT, so
 * that a caller cannot go on with a truncated value by mistake.
 */
struct buf {
	char *ptr; /* NULL until the first append; use buf_cstr() */
	size_t len;
	size_t cap;
	size_t max;
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
/* Empty the buffer, keeping its storage. */
void buf_reset(struct buf *b);
int buf_append(struct buf *b, const void *p, size_t n) VH_MUST_CHECK;
int buf_puts(struct buf *b, const char *s) VH_MUST_CHECK;
int buf_putc(struct buf *b, char c) VH_MUST_CHECK;
int buf_printf(struct buf *b, const char *fmt, ...)
    VH_PRINTF(2, 3) VH_MUST_CHECK;
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) VH_MUST_CHECK;
/* The content; "" for an empty buffer. Borrowed, valid until the next call. */
const char *buf_cstr(const struct buf *b);
/* Hand the content to the caller, who frees it with free(); b is empty. */
char *buf_take(struct buf *b, size_t *len);

/* ---------------------------------------------------------------- log */

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

extern enum log_level log_min_level;

void log_set_level(enum log_level level);
/* Parse "debug", "info", "warn", "error"; -1 when unknown. */
int log_level_parse(const char *s);
/* The request id logged with each line of this thread; NULL clears it. */
void log_set_req_id(const char *id);
const char *log_get_req_id(void);

void log_write(enum log_level level, const char *module, const char *fmt, ...)
    VH_PRINTF(3, 4);

/*
 * A status line kept at the bottom of a terminal (vodhook upload's progress
 * bar): text replaces it at once ("\r", erase the line, text, no newline),
 * and every log line written while it is shown first erases it, then
 * draws it again below itself, in the same write, so that a log line never
 * lands in the bar's line. NULL ends it: the last text stays and the cursor
 * moves to the next line. For a terminal on stderr only; thread-safe.
 */
void log_status(const char *text);

#define log_msg(level, module, ...)                                            \
	do {                                                                   \
		if ((level) >= log_min_level)                                  \
			log_write((level), (module), __VA_ARGS__);             \
	} while (0)

/* ---------------------------------------------------------------- misc */

/* Lowercase hex of n bytes into out, which must hold 2n+1 bytes. */
void hex_encode(const void *p, size_t n, char *out);
/* Lowercase hex digests of n bytes (MD5, SHA-1, SHA-256), NUL-terminated. */
void md5_hex(const void *p, size_t n, char out[33]);
void sha1_hex(const void *p, size_t n, char out[41]);
void sha256_hex(const void *p, size_t n, char out[65]);
/* Constant-time equality of two byte strings (lengths may differ). */
bool ct_equal(const void *a, size_t alen, const void *b, size_t blen);
/* As ct_equal, ignoring ASCII case: for hex digests of unknown case. */
bool ct_equal_nocase(const char *a, size_t alen, const char *b, size_t blen);
/*
 * The number of code points in p[0..len) when it is well-formed UTF-8
 * (RFC 3629 strict: no overlong forms, surrogates or values above
 * U+10FFFF) without NUL; -1 otherwise.
 */
long utf8_chars(const char *p, size_t len);
/* Fill p with n random bytes from the OS; 0 or ERR_IO. */
int random_bytes(void *p, size_t n);
/* A random lowercase hex token of 2n characters into out[2n+1]. */
int random_hex(char *out, size_t n);

int64_t time_unix(void);    /* wall clock, seconds */
int64_t time_unix_ms(void); /* wall clock, milliseconds */
int64_t time_mono_ms(void); /* monotonic, milliseconds */
int64_t time_mono_us(void); /* monotonic, microseconds */
/* The wall-clock time ms from now, for pthread_cond_timedwait. */
struct timespec time_after_ms(int64_t ms);

/*
 * Parse an RFC 3339 date-time (section 5.6): YYYY-MM-DD, "T" (or "t", or a
 * space as its note allows), hh:mm:ss, an optional fraction of a second of
 * any length, and "Z" (or "z") or an offset +hh:mm / -hh:mm. The day is
 * checked against the month (leap years too) and the year is 0001 to 9999;
 * a leap second (:60) counts as the first second of the next minute.
 * *secs: Unix seconds; *nsec (NULL: not wanted): the fraction in
 * nanoseconds, digits past the ninth dropped. 0 or ERR_INPUT.
 */
int time_parse_rfc3339(const char *s, int64_t *secs,
		       int32_t *nsec) VH_MUST_CHECK;

/*
 * Parse a decimal integer in [min, max] from the whole of s (no sign for
 * unsigned ranges, no trailing garbage). 0 or ERR_INPUT.
 */
int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

/*
 * A stop flag that background threads sleep on: vh_stop_sleep returns at
 * once when stop is requested, so that shutdown never waits for a timer.
 */
struct vh_stop {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};
void vh_stop_init(struct vh_stop *s);
void vh_stop_cleanup(struct vh_stop *s);
void vh_stop_request(struct vh_stop *s);
bool vh_stop_requested(struct vh_stop *s);
/* Sleep up to ms; true when stop was requested (before or during). */
bool vh_stop_sleep(struct vh_stop *s, int64_t ms);

/*
 * A count that threads wait on to change: vh_signal_raise counts up and
 * wakes every waiter; vh_signal_wait returns true once the count differs
 * from seen, false after ms. A waiter reads the count (vh_signal_gen)
 * before it looks for work, so that a raise meanwhile is never missed.
 */
struct vh_signal {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t gen;
};
void vh_signal_init(struct vh_signal *s);
void vh_signal_cleanup(struct vh_signal *s);
void vh_signal_raise(struct vh_signal *s);
uint64_t vh_signal_gen(struct vh_signal *s);
bool vh_signal_wait(struct vh_signal *s, uint64_t seen, int64_t ms);

/* Read a whole file of at most max bytes; caller frees *out. */
int file_slurp(const char *path, size_t max, char **out, size_t *len,
	       struct err *e) VH_MUST_CHECK;

#endif

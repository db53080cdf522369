/*
 * log.c: key=value log lines on stderr (for journald), one write(2) each so
 * that lines from different threads never interleave.
 *
 *   ts=2026-11-21T16:56:00.123Z level=info module=http req_id=ab12 msg="..."
 *
 * On a terminal, a status line (log_status: vodhook upload's bar) stays
 * below the log lines: each log line erases it and draws it again after
 * itself, in the same write.
 */
#include "common/common.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

enum log_level log_min_level = LOG_INFO;

static _Thread_local char req_id[40];

/* ANSI: carriage return, then erase to the end of the line. */
#define ERASE_LINE "\r\033[K"

/* The status line (log_status) and the lock that orders its redraws with
 * the log lines; status_on is read without it by log lines, which take it
 * only while a status line is shown. */
static pthread_mutex_t status_mu = PTHREAD_MUTEX_INITIALIZER;
static char status_text[256];
static atomic_bool status_on;

/* One write(2) of n bytes of p to stderr; nowhere to report a failure. */
static void
write_err(const char *p, size_t n)
{
	if (write(STDERR_FILENO, p, n) < 0) {
		/* Nowhere left to report it. */
	}
}

void
log_status(const char *text)
{
	char out[sizeof(status_text) + 16];
	int n;

	pthread_mutex_lock(&status_mu);
	if (text != NULL) {
		snprintf(status_text, sizeof(status_text), "%s", text);
		n = snprintf(out, sizeof(out), ERASE_LINE "%s", status_text);
		atomic_store(&status_on, true);
		write_err(out, (size_t)n);
	} else if (atomic_load(&status_on)) {
		atomic_store(&status_on, false);
		write_err("\n", 1);
	}
	pthread_mutex_unlock(&status_mu);
}

/* Write a log line, below the status line when one is shown. */
static void
write_line(const char *line, size_t n)
{
	char out[2048 + sizeof(status_text) + 16];
	size_t len;

	if (!atomic_load(&status_on)) {
		write_err(line, n);
		return;
	}
	pthread_mutex_lock(&status_mu);
	if (!atomic_load(&status_on)) {
		write_err(line, n);
	} else {
		len = (size_t)snprintf(out, sizeof(out), ERASE_LINE "%.*s%s",
				       (int)n, line, status_text);
		write_err(out, len < sizeof(out) ? len : sizeof(out) - 1);
	}
	pthread_mutex_unlock(&status_mu);
}

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
log_set_level(enum log_level level)
{
	log_min_level = level;
}

int
log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	     i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

void
log_set_req_id(const char *id)
{
	snprintf(req_id, sizeof(req_id), "%s", id ? id : "");
}

const char *
log_get_req_id(void)
{
	return req_id;
}

void
log_write(enum log_level level, const char *module, const char *fmt, ...)
{
	char line[2048], msg[1536], ts[32];
	struct timespec now;
	struct tm tm;
	size_t n = 0;
	va_list ap;
	int w;

	if (level < log_min_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	w = snprintf(line, sizeof(line), "ts=%s.%03ldZ level=%s module=%s", ts,
		     now.tv_nsec / 1000000, level_names[level], module);
	n = (size_t)w;
	if (req_id[0] != '\0')
		n += (size_t)snprintf(line + n, sizeof(line) - n, " req_id=%s",
				      req_id);
	n += (size_t)snprintf(line + n, sizeof(line) - n, " msg=\"");
	/* Escape the message so that a line is always one record. */
	for (const char *p = msg; *p != '\0' && n < sizeof(line) - 4; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"' || c == '\\') {
			line[n++] = '\\';
			line[n++] = (char)c;
		} else if (c == '\n') {
			line[n++] = '\\';
			line[n++] = 'n';
		} else if (c < 0x20) {
			line[n++] = ' ';
		} else {
			line[n++] = (char)c;
		}
	}
	line[n++] = '"';
	line[n++] = '\n';
	write_line(line, n);
}

/*
 * spool_int.h: the spool file format (callbacks/ only).
 *
 * The spool keeps verified events that PostgreSQL could not take, so that
 * they can be acknowledged and replayed later (replay.c). This file knows
 * the format and the files; it neither parses events nor talks to the
 * database.
 *
 * Files in the spool directory:
 *   active.spool            appended to while the database is away
 *   replay-<ms>.spool       rotated out of active.spool, to be replayed
 *   quarantine.spool        events the database refused even one by one
 *                           (or that no longer parse), set aside by the
 *                           replay so that later events are not held back
 *   lock                    flock'ed by the process that has the spool
 *                           open (its pid inside): one process a spool
 * Each record is a header line "VH1 <provider> <via> <len> <md5>\n", the
 * raw body (len bytes) and "\n". A torn record (a crash or a failed
 * write, never acknowledged) can only be the last of its file: a file is
 * never appended to after a failed write, nor by a later process (the first
 * append of a process sets the file it finds aside for replay). A reader
 * stops at it and keeps every record before it.
 */
#ifndef VODHOOK_CALLBACKS_SPOOL_INT_H
#define VODHOOK_CALLBACKS_SPOOL_INT_H

#include "callbacks/callbacks.h"

#include <stdio.h>

struct spool;

/* One record as read back. */
struct spool_record {
	enum vod_provider provider;
	enum vod_via via;
	char *raw; /* NUL-terminated; the reader's caller frees it */
	size_t len;
};

/*
 * Open the spool in dir, creating it when missing and checking that it is
 * writable, so that a bad spool_dir fails start-up rather than the first
 * outage. Takes the directory's lock for as long as the spool is open:
 * ERR_CONFLICT when another process (or another open spool) holds it.
 * Free with spool__free.
 */
int spool__new(const char *dir, struct spool **out,
	       struct err *e) VH_MUST_CHECK;
/* Close the active file and free. NULL-safe. */
void spool__free(struct spool *sp);

/*
 * Append n records to active.spool and fdatasync them: when this returns 0
 * they survive a crash. A failed append ends the file (it is set aside for
 * replay with whatever precedes the failure). Thread-safe.
 */
int spool__append(struct spool *sp, size_t n,
		  const enum vod_provider *providers, const enum vod_via *vias,
		  const char *const *raws, const size_t *lens,
		  struct err *e) VH_MUST_CHECK;

/*
 * Set active.spool aside as the newest replay file, so that what it holds
 * can be replayed while appends go to a new file. Failures are logged (the
 * file then stays active and is tried again next time). Thread-safe.
 */
void spool__rotate(struct spool *sp);
/*
 * The replay files' paths, oldest first, into *paths (*n of them; caller
 * frees with spool__paths_free).
 */
void spool__replay_paths(struct spool *sp, char ***paths, size_t *n);
void spool__paths_free(char **paths, size_t n);
/* Remove a replay file once all of it is in the database (logged). */
void spool__remove(struct spool *sp, const char *path);
/* Bytes in active.spool and the replay files: what waits to be replayed. */
uint64_t spool__pending_bytes(struct spool *sp);

/*
 * Read the next record of f (the file at path) into r: 1 when one was read
 * (the caller frees r->raw), 0 at the end or at a torn or damaged record,
 * which is logged and ends the file.
 */
int spool__read(FILE *f, const char *path, struct spool_record *r);

/*
 * Append r, durably, to quarantine.spool, for a person to look at; why
 * (logged) says what refused it. A failed write is cut off again so that
 * the file never holds a torn record in its middle. 0, or -1 when it could
 * not be kept (logged; the caller keeps the record where it was).
 */
int spool__quarantine(struct spool *sp, const struct spool_record *r,
		      const char *why);

#endif

/*
 * spool.c: the local spool, and its replay into PostgreSQL.
 *
 * Interface: spool_open, spool_close, spool_write, spool_get_counts,
 * spool_pending_bytes.
 */
#include "callbacks/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define ACTIVE_NAME	"active.spool"
#define REPLAY_PREFIX	"replay-"
#define QUARANTINE_NAME "quarantine.spool"
#define RECORD_MAX	(64u << 20)
#define REPLAY_BATCH	256

struct spool {
	char *dir;
	struct db_pool *pool;
	int interval_ms;
	pthread_mutex_t mu; /* the active file; counters */
	struct vh_stop stop;
	int fd; /* active.spool, or -1 */
	uint64_t replayed;
	uint64_t quarantined;
	pthread_t thread;
};

static int
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -1;
	if (fsync(fd) != 0)
		rc = -1;
	close(fd);
	return rc;
}

static int
write_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/*
 * Move active.spool aside for replay, as the newest replay file; sp->mu
 * held. The file is closed first: nothing is ever appended to a file after
 * it has been moved, so a torn record (a crash or a failed write) can only
 * be its last, which the replay skips without losing what precedes it.
 * link() rather than rename(), so that an existing replay file is never
 * replaced. 0, or -1 with errno when the file stays where it was.
 */
static int
rotate_locked(struct spool *sp)
{
	char from[4096], to[4096];
	struct stat st;
	int64_t ms = time_unix_ms();

	if (sp->fd >= 0) {
		close(sp->fd);
		sp->fd = -1;
	}
	snprintf(from, sizeof(from), "%s/" ACTIVE_NAME, sp->dir);
	if (stat(from, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (st.st_size == 0)
		return unlink(from);
	for (;;) {
		snprintf(to, sizeof(to), "%s/" REPLAY_PREFIX "%013lld.spool",
			 sp->dir, (long long)ms++);
		if (link(from, to) == 0)
			break;
		if (errno != EEXIST)
			return -1;
	}
	if (unlink(from) != 0 || sync_dir(sp->dir) != 0)
		return -1;
	return 0;
}

static void
rotate_active(struct spool *sp)
{
	pthread_mutex_lock(&sp->mu);
	if (rotate_locked(sp) != 0)
		log_msg(LOG_ERROR, "spool",
			"could not rotate \"%s/" ACTIVE_NAME "\": %s", sp->dir,
			strerror(errno));
	pthread_mutex_unlock(&sp->mu);
}

/* Append n records to fd; -1 (errno set) when a write failed. */
static int
append_records(int fd, size_t n, const enum vod_provider *providers,
	       const enum vod_via *vias, const char *const *raws,
	       const size_t *lens)
{
	for (size_t i = 0; i < n; i++) {
		char head[128], md5[33];
		struct iovec iov[3];
		int hn;

		md5_hex(raws[i], lens[i], md5);
		hn = snprintf(head, sizeof(head), "VH1 %d %d %zu %s\n",
			      (int)providers[i], (int)vias[i], lens[i], md5);
		iov[0].iov_base = head;
		iov[0].iov_len = (size_t)hn;
		iov[1].iov_base = (void *)(uintptr_t)raws[i];
		iov[1].iov_len = lens[i];
		iov[2].iov_base = (void *)(uintptr_t) "\n";
		iov[2].iov_len = 1;
		if (write_all(fd, iov, 3) != 0)
			return -1;
	}
	return 0;
}

int
spool_write(struct spool *sp, size_t n, const enum vod_provider *providers,
	    const enum vod_via *vias, const char *const *raws,
	    const size_t *lens, struct err *e)
{
	char path[4096];
	bool created = false;
	int rc = 0;

	pthread_mutex_lock(&sp->mu);
	if (sp->fd < 0) {
		/* A file left by an earlier process (or an earlier failed
		 * write) may end in a torn record: never append after it. */
		if (rotate_locked(sp) != 0) {
			rc = err_set(e, ERR_IO,
				     "could not set the spool's last file "
				     "aside: %s",
				     strerror(errno));
			goto out;
		}
		snprintf(path, sizeof(path), "%s/" ACTIVE_NAME, sp->dir);
		created = true;
		sp->fd = open(
		    path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600);
		if (sp->fd < 0) {
			rc = err_set(e, ERR_IO,
				     "could not open spool \"%s\": %s", path,
				     strerror(errno));
			goto out;
		}
	}
	if (append_records(sp->fd, n, providers, vias, raws, lens) != 0) {
		rc = err_set(e, ERR_IO, "could not write to the spool: %s",
			     strerror(errno));
		goto out;
	}
	if (fdatasync(sp->fd) != 0 || (created && sync_dir(sp->dir) != 0)) {
		rc = err_set(e, ERR_IO, "could not sync the spool: %s",
			     strerror(errno));
		goto out;
	}
out:
	/* A failed write may have left part of a record, and a failed sync
	 * leaves the file's state unknown: end the file here (the replay
	 * takes what precedes a torn record); the next write starts a new
	 * one, or fails while this one cannot be set aside. */
	if (rc != 0 && sp->fd >= 0 && rotate_locked(sp) != 0)
		log_msg(LOG_ERROR, "spool",
			"could not set \"%s/" ACTIVE_NAME "\" aside: %s",
			sp->dir, strerror(errno));
	pthread_mutex_unlock(&sp->mu);
	return rc;
}

/* ------------------------------------------------------------ replay */

struct record {
	enum vod_provider provider;
	enum vod_via via;
	char *raw;
	size_t len;
};

/*
 * Read the next record; 1 when one was read, 0 at the end (or at a torn
 * or damaged tail, which is logged).
 */
static int
read_record(FILE *f, const char *path, struct record *r)
{
	char head[160], md5[33], want[33];
	unsigned long long len;
	int prov, via;

	if (fgets(head, sizeof(head), f) == NULL)
		return 0;
	if (sscanf(head, "VH1 %d %d %llu %32s", &prov, &via, &len, want) != 4 ||
	    len > RECORD_MAX || (prov != VOD_TENCENT && prov != VOD_ALIBABA) ||
	    via < VIA_PUSH || via > VIA_RECONCILE) {
		log_msg(LOG_WARN, "spool", "ignored a damaged record in \"%s\"",
			path);
		return 0;
	}
	r->raw = xmalloc((size_t)len + 1);
	if (fread(r->raw, 1, (size_t)len + 1, f) != (size_t)len + 1 ||
	    r->raw[len] != '\n') {
		log_msg(LOG_WARN, "spool",
			"ignored a torn record at the end of \"%s\"", path);
		free(r->raw);
		return 0;
	}
	r->raw[len] = '\0';
	md5_hex(r->raw, (size_t)len, md5);
	if (strcmp(md5, want) != 0) {
		log_msg(LOG_WARN, "spool", "ignored a damaged record in \"%s\"",
			path);
		free(r->raw);
		return 0;
	}
	r->provider = (enum vod_provider)prov;
	r->via = (enum vod_via)via;
	r->len = (size_t)len;
	return 1;
}

/*
 * Set aside, durably, a record the database refuses whatever is tried
 * (or that no longer parses), so that the records after it are replayed:
 * appended to quarantine.spool, in the spool's own format, for a person to
 * look at. A failed write is cut off again so that the file never holds a
 * torn record in its middle. 0, or -1 when it could not be kept (the
 * replay then stops here and tries again later: nothing is dropped).
 */
static int
quarantine(struct spool *sp, const struct record *r, const char *why)
{
	char path[4096];
	struct stat st;
	bool created;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/" QUARANTINE_NAME, sp->dir);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || fstat(fd, &st) != 0) {
		rc = -1;
		goto out;
	}
	created = st.st_size == 0;
	if (append_records(fd, 1, &r->provider, &r->via,
			   (const char *const *)&r->raw, &r->len) != 0 ||
	    fdatasync(fd) != 0 || (created && sync_dir(sp->dir) != 0)) {
		int saved = errno;

		if (ftruncate(fd, st.st_size) != 0)
			log_msg(LOG_ERROR, "spool",
				"could not cut a failed write off \"%s\": %s",
				path, strerror(errno));
		errno = saved;
		rc = -1;
	}
out:
	if (rc == 0) {
		pthread_mutex_lock(&sp->mu);
		sp->quarantined++;
		pthread_mutex_unlock(&sp->mu);
		log_msg(LOG_ERROR, "spool",
			"set aside an event from %s in \"%s\": %s",
			vod_provider_name(r->provider), path, why);
	} else {
		log_msg(
		    LOG_ERROR, "spool",
		    "could not set aside an event from %s in \"%s\" (%s): %s",
		    vod_provider_name(r->provider), path, why, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

/* An error the same events would meet again: the database refused one. */
static bool
refused(int rc)
{
	return rc == ERR_INPUT || rc == ERR_CONFLICT;
}

static int
parse_record(const struct record *r, struct vod_event *ev, struct err *e)
{
	if (r->provider == VOD_TENCENT)
		return cb_parse_tencent(r->raw, r->len, ev, e);
	return cb_parse_alibaba(r->raw, r->len, ev, e);
}

/* Write the records parsed so far; 0 or the database's error. */
static int
write_batch(struct spool *sp, struct record *recs, struct vod_event *evs,
	    size_t n, struct err *e)
{
	const struct vod_event *pevs[REPLAY_BATCH];
	const char *raws[REPLAY_BATCH];
	enum vod_via vias[REPLAY_BATCH];
	bool is_new[REPLAY_BATCH];
	int rc;

	for (size_t i = 0; i < n; i++) {
		pevs[i] = &evs[i];
		raws[i] = recs[i].raw;
		vias[i] = VIA_SPOOL;
	}
	rc = ingest__record(sp->pool, pevs, raws, vias, n, is_new, e);
	if (rc == 0) {
		pthread_mutex_lock(&sp->mu);
		for (size_t i = 0; i < n; i++)
			sp->replayed += is_new[i];
		pthread_mutex_unlock(&sp->mu);
	}
	return rc;
}

/*
 * Write the records parsed so far. When the database refuses the batch
 * (rather than being away), each event is tried alone and the ones it
 * refuses alone are set aside: one bad event must not hold back every
 * later one. 0, or the error that stops the replay for now.
 */
static int
flush_batch(struct spool *sp, struct record *recs, struct vod_event *evs,
	    size_t n, struct err *e)
{
	int rc = write_batch(sp, recs, evs, n, e);

	if (rc == 0 || !refused(rc))
		return rc;
	if (n == 1)
		return quarantine(sp, &recs[0], e->msg) == 0 ? 0 : rc;
	log_msg(LOG_WARN, "spool",
		"the database refused a batch of %zu spooled event(s) (%s); "
		"trying them one by one",
		n, e->msg);
	for (size_t i = 0; i < n; i++) {
		err_clear(e);
		if ((rc = write_batch(sp, &recs[i], &evs[i], 1, e)) == 0)
			continue;
		if (!refused(rc) || quarantine(sp, &recs[i], e->msg) != 0)
			return rc;
	}
	return 0;
}

/* Replay one file; 0 when all of it is in the database. */
static int
replay_file(struct spool *sp, const char *path)
{
	struct record *recs = xcalloc(REPLAY_BATCH, sizeof(*recs));
	struct vod_event *evs = xcalloc(REPLAY_BATCH, sizeof(*evs));
	size_t n = 0, total = 0;
	struct err e;
	int rc = 0, got;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		free(recs);
		free(evs);
		return -1;
	}
	err_clear(&e);
	do {
		got = read_record(f, path, &recs[n]);
		if (got == 1) {
			vod_event_init(&evs[n]);
			if (parse_record(&recs[n], &evs[n], &e) != 0) {
				/* It parsed when it was spooled; a newer
				 * parser refusing it is a bug to look at. */
				char why[sizeof(e.msg) + 32];

				snprintf(why, sizeof(why),
					 "it does not parse: %s", e.msg);
				vod_event_cleanup(&evs[n]);
				rc = quarantine(sp, &recs[n], why);
				free(recs[n].raw);
				if (rc != 0)
					break;
				continue;
			}
			n++;
		}
		if (n == REPLAY_BATCH || (got == 0 && n > 0)) {
			rc = flush_batch(sp, recs, evs, n, &e);
			for (size_t i = 0; i < n; i++) {
				vod_event_cleanup(&evs[i]);
				free(recs[i].raw);
			}
			total += n;
			n = 0;
			if (rc != 0) {
				log_msg(LOG_WARN, "spool",
					"replay of \"%s\" paused: %s", path,
					e.msg);
				break;
			}
		}
	} while (got == 1);
	for (size_t i = 0; i < n; i++) { /* left by a stop */
		vod_event_cleanup(&evs[i]);
		free(recs[i].raw);
	}
	fclose(f);
	free(recs);
	free(evs);
	if (rc == 0)
		log_msg(LOG_INFO, "spool", "replayed %zu event(s) from \"%s\"",
			total, path);
	return rc;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay every spool file, oldest first. */
static void
replay_all(struct spool *sp)
{
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0;
	struct dirent *de;
	struct err e;
	DIR *d;

	if (spool_pending_bytes(sp) == 0)
		return;
	err_clear(&e);
	if (store_ping(sp->pool, &e) != 0)
		return; /* still away: try again later */
	rotate_active(sp);
	if ((d = opendir(sp->dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, REPLAY_PREFIX, strlen(REPLAY_PREFIX)) !=
		    0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", sp->dir, names[i]);
		if (replay_file(sp, path) != 0)
			break;
		if (unlink(path) != 0 || sync_dir(sp->dir) != 0)
			log_msg(LOG_ERROR, "spool",
				"could not remove \"%s\": %s", path,
				strerror(errno));
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void *
replay_main(void *arg)
{
	struct spool *sp = arg;

	do
		replay_all(sp);
	while (!vh_stop_sleep(&sp->stop, sp->interval_ms));
	return NULL;
}

/* ------------------------------------------------------------ interface */

static int
mkdir_p(const char *dir)
{
	char tmp[4096];

	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

int
spool_open(const char *dir, struct db_pool *pool, int interval_ms,
	   struct spool **out, struct err *e)
{
	struct spool *sp;
	char probe[4096];
	int fd;

	*out = NULL;
	if (dir == NULL || dir[0] == '\0' || strlen(dir) > 3000)
		return err_set(e, ERR_INPUT, "spool_dir is not set");
	if (mkdir_p(dir) != 0)
		return err_set(e, ERR_IO,
			       "spool_dir: could not create \"%s\": %s", dir,
			       strerror(errno));
	/* Fail at start-up, not at the first outage, if it is not writable. */
	snprintf(probe, sizeof(probe), "%s/.probe", dir);
	fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, ERR_IO,
			       "spool_dir: \"%s\" is not writable: %s", dir,
			       strerror(errno));
	close(fd);
	unlink(probe);

	sp = xcalloc(1, sizeof(*sp));
	sp->dir = xstrdup(dir);
	sp->pool = pool;
	sp->interval_ms = interval_ms > 0 ? interval_ms : 1000;
	sp->fd = -1;
	pthread_mutex_init(&sp->mu, NULL);
	vh_stop_init(&sp->stop);
	if (pthread_create(&sp->thread, NULL, replay_main, sp) != 0)
		fatal("could not start the spool replay thread");
	*out = sp;
	return 0;
}

void
spool_close(struct spool *sp)
{
	if (sp == NULL)
		return;
	vh_stop_request(&sp->stop);
	pthread_join(sp->thread, NULL);
	if (sp->fd >= 0)
		close(sp->fd);
	vh_stop_cleanup(&sp->stop);
	pthread_mutex_destroy(&sp->mu);
	free(sp->dir);
	free(sp);
}

void
spool_get_counts(struct spool *sp, uint64_t *replayed, uint64_t *quarantined)
{
	pthread_mutex_lock(&sp->mu);
	*replayed = sp->replayed;
	*quarantined = sp->quarantined;
	pthread_mutex_unlock(&sp->mu);
}

uint64_t
spool_pending_bytes(struct spool *sp)
{
	char path[4096];
	struct dirent *de;
	struct stat st;
	uint64_t v = 0;
	DIR *d;

	if ((d = opendir(sp->dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ACTIVE_NAME) != 0 &&
		    strncmp(de->d_name, REPLAY_PREFIX, strlen(REPLAY_PREFIX)) !=
			0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", sp->dir, de->d_name);
		if (stat(path, &st) == 0)
			v += (uint64_t)st.st_size;
	}
	closedir(d);
	return v;
}

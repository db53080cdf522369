/*
 * spool.c: the spool's files (spool_int.h): append with fdatasync, rotate,
 * list, read back, quarantine.
 *
 * Interface: spool__new, spool__free, spool__append, spool__rotate,
 * spool__replay_paths, spool__paths_free, spool__remove,
 * spool__pending_bytes, spool__read, spool__quarantine.
 */
#include "callbacks/spool_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define ACTIVE_NAME	"active.spool"
#define REPLAY_PREFIX	"replay-"
#define QUARANTINE_NAME "quarantine.spool"
#define LOCK_NAME	"lock"
#define RECORD_MAX	(64u << 20)

struct spool {
	char *dir;
	pthread_mutex_t mu; /* the active file */
	int fd;		    /* active.spool, or -1 */
	int lock_fd;	    /* the lock file, locked while open */
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

/* ------------------------------------------------------------ append */

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

void
spool__rotate(struct spool *sp)
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

/*
 * Open a new active.spool; sp->mu held. A file left by an earlier process
 * (or an earlier failed write) may end in a torn record: it is set aside
 * first, never appended to.
 */
static int
open_active_locked(struct spool *sp, struct err *e)
{
	char path[4096];

	if (rotate_locked(sp) != 0)
		return err_set(e, ERR_IO,
			       "could not set the spool's last file aside: %s",
			       strerror(errno));
	snprintf(path, sizeof(path), "%s/" ACTIVE_NAME, sp->dir);
	sp->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC,
		      0600);
	if (sp->fd < 0)
		return err_set(e, ERR_IO, "could not open spool \"%s\": %s",
			       path, strerror(errno));
	return 0;
}

int
spool__append(struct spool *sp, size_t n, const enum vod_provider *providers,
	      const enum vod_via *vias, const char *const *raws,
	      const size_t *lens, struct err *e)
{
	bool created = false;
	int rc = 0;

	pthread_mutex_lock(&sp->mu);
	if (sp->fd < 0) {
		if ((rc = open_active_locked(sp, e)) != 0)
			goto out;
		created = true;
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
	 * takes what precedes a torn record); the next append starts a new
	 * one, or fails while this one cannot be set aside. */
	if (rc != 0 && sp->fd >= 0 && rotate_locked(sp) != 0)
		log_msg(LOG_ERROR, "spool",
			"could not set \"%s/" ACTIVE_NAME "\" aside: %s",
			sp->dir, strerror(errno));
	pthread_mutex_unlock(&sp->mu);
	return rc;
}

/* ------------------------------------------------------------ read back */

int
spool__read(FILE *f, const char *path, struct spool_record *r)
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

int
spool__quarantine(struct spool *sp, const struct spool_record *r,
		  const char *why)
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
	if (rc == 0)
		log_msg(LOG_ERROR, "spool",
			"set aside an event from %s in \"%s\": %s",
			vod_provider_name(r->provider), path, why);
	else
		log_msg(
		    LOG_ERROR, "spool",
		    "could not set aside an event from %s in \"%s\" (%s): %s",
		    vod_provider_name(r->provider), path, why, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

/* ------------------------------------------------------------ files */

static bool
is_replay_name(const char *name)
{
	return strncmp(name, REPLAY_PREFIX, strlen(REPLAY_PREFIX)) == 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
spool__replay_paths(struct spool *sp, char ***paths, size_t *n)
{
	char **names = NULL, path[4096];
	size_t cap = 0;
	struct dirent *de;
	DIR *d;

	*paths = NULL;
	*n = 0;
	if ((d = opendir(sp->dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!is_replay_name(de->d_name))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	/* The names hold their rotation time, zero-padded: oldest first. */
	qsort(names, *n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < *n; i++) {
		snprintf(path, sizeof(path), "%s/%s", sp->dir, names[i]);
		free(names[i]);
		names[i] = xstrdup(path);
	}
	*paths = names;
}

void
spool__paths_free(char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

void
spool__remove(struct spool *sp, const char *path)
{
	if (unlink(path) != 0 || sync_dir(sp->dir) != 0)
		log_msg(LOG_ERROR, "spool", "could not remove \"%s\": %s", path,
			strerror(errno));
}

uint64_t
spool__pending_bytes(struct spool *sp)
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
		    !is_replay_name(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", sp->dir, de->d_name);
		if (stat(path, &st) == 0)
			v += (uint64_t)st.st_size;
	}
	closedir(d);
	return v;
}

/* ------------------------------------------------------------ lifetime */

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

/*
 * Take the spool directory for this process: an exclusive flock on its
 * lock file, held as long as the file stays open (the process's life; the
 * kernel lets go when the process ends, however it ends). Two processes
 * appending to and replaying one spool would each set aside the files the
 * other is writing. The file holds the owner's pid, for the message. 0
 * with the lock file's descriptor in *out, or the error.
 */
static int
lock_dir(const char *dir, int *out, struct err *e)
{
	char path[4096], pid[24] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/" LOCK_NAME, dir);
	*out = -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, ERR_IO,
			       "spool_dir: could not open \"%s\": %s", path,
			       strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int errnum = errno;

		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? strcspn(pid, "\n") : 0] = '\0';
		close(fd);
		if (errnum != EWOULDBLOCK)
			return err_set(e, ERR_IO,
				       "spool_dir: could not lock \"%s\": %s",
				       path, strerror(errnum));
		return err_set(e, ERR_CONFLICT,
			       "spool_dir: \"%s\" is in use by another "
			       "vodhook process (pid %s); each process needs "
			       "a spool directory of its own",
			       dir, pid[0] ? pid : "unknown");
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		log_msg(LOG_WARN, "spool", "could not write \"%s\": %s", path,
			strerror(errno));
	*out = fd;
	return 0;
}

int
spool__new(const char *dir, struct spool **out, struct err *e)
{
	struct spool *sp;
	char probe[4096];
	int fd, lock_fd, rc;

	*out = NULL;
	if (dir == NULL || dir[0] == '\0' || strlen(dir) > 3000)
		return err_set(e, ERR_INPUT, "spool_dir is not set");
	if (mkdir_p(dir) != 0)
		return err_set(e, ERR_IO,
			       "spool_dir: could not create \"%s\": %s", dir,
			       strerror(errno));
	if ((rc = lock_dir(dir, &lock_fd, e)) != 0)
		return rc;
	/* Fail at start-up, not at the first outage, if it is not writable. */
	snprintf(probe, sizeof(probe), "%s/.probe", dir);
	fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		close(lock_fd);
		return err_set(e, ERR_IO,
			       "spool_dir: \"%s\" is not writable: %s", dir,
			       strerror(errno));
	}
	close(fd);
	unlink(probe);

	sp = xcalloc(1, sizeof(*sp));
	sp->dir = xstrdup(dir);
	sp->fd = -1;
	sp->lock_fd = lock_fd;
	pthread_mutex_init(&sp->mu, NULL);
	*out = sp;
	return 0;
}

void
spool__free(struct spool *sp)
{
	if (sp == NULL)
		return;
	if (sp->fd >= 0)
		close(sp->fd);
	close(sp->lock_fd); /* lets go of the directory */
	pthread_mutex_destroy(&sp->mu);
	free(sp->dir);
	free(sp);
}

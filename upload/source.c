/*
 * source.c: the bytes of an upload: the source object, local files, and
 * the reads.
 *
 * A local file is confined to the upload root (realpath, so links are
 * resolved first) and read with pread() at any offset from any thread. A
 * URL is source_url.c's: a stream read once in order through a ring, or a
 * spool that is then read as a file.
 *
 * A file can change while it is read: upload__source_check tells, before
 * the object is completed, whether it still is what was opened.
 *
 * Interface: upload__path_check, upload__source_new, upload__source_check,
 * upload__source_free, upload__source_size, upload__source_seekable,
 * upload__source_read, upload__source_fd.
 */
#include "upload/source_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- checks */

int
upload__path_check(const struct upload_source_opts *o, const char *path,
		   char **resolved, int64_t *size, struct err *e)
{
	char *real = NULL, *root = NULL;
	struct stat st;
	int rc = 0, fd = -1;

	*resolved = NULL;
	if (path == NULL || path[0] == '\0')
		return err_set(e, ERR_INPUT, "path is empty");
	if (o->root != NULL && o->root[0] != '\0' && path[0] != '/') {
		/* Relative paths are taken relative to the root. */
		struct buf b;

		buf_init(&b, PATH_MAX * 2);
		if (buf_printf(&b, "%s/%s", o->root, path) != 0)
			return err_set(e, ERR_INPUT, "path is too long");
		real = realpath(buf_cstr(&b), NULL);
		buf_free(&b);
	} else {
		real = realpath(path, NULL);
	}
	if (real == NULL) {
		int errno_ = errno;
		size_t n = o->root != NULL ? strlen(o->root) : 0;

		/* Say nothing about paths outside the root, not even that
		 * they do not exist. */
		if (o->root != NULL &&
		    (n == 0 ||
		     (path[0] == '/' &&
		      !(strncmp(path, o->root, n) == 0 &&
			(path[n] == '/' || o->root[n - 1] == '/'))))) {
			rc = err_set(e, ERR_FORBIDDEN,
				     "\"%s\" is outside the upload root", path);
			goto out;
		}
		rc = err_set(e, ERR_INPUT, "could not open \"%s\": %s", path,
			     strerror(errno_));
		goto out;
	}
	if (o->root != NULL) {
		size_t n;

		if (o->root[0] == '\0') {
			rc = err_set(e, ERR_FORBIDDEN,
				     "local files are not accepted: "
				     "upload_root is not set");
			goto out;
		}
		if ((root = realpath(o->root, NULL)) == NULL) {
			rc = err_set(e, ERR_FORBIDDEN,
				     "upload_root \"%s\" is not usable: %s",
				     o->root, strerror(errno));
			goto out;
		}
		n = strlen(root);
		while (n > 1 && root[n - 1] == '/')
			n--;
		if (!(strncmp(real, root, n) == 0 &&
		      (real[n] == '/' || (n == 1 && root[0] == '/')))) {
			rc = err_set(e, ERR_FORBIDDEN,
				     "\"%s\" is outside the upload root", path);
			goto out;
		}
	}
	if ((fd = open(real, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = err_set(e, ERR_INPUT, "could not open \"%s\": %s", path,
			     strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc =
		    err_set(e, ERR_INPUT, "\"%s\" is not a regular file", path);
		goto out;
	}
	if (o->max_bytes > 0 && st.st_size > o->max_bytes) {
		rc = err_set(e, ERR_LIMIT,
			     "\"%s\" is %lld bytes, more than upload_max_bytes "
			     "(%lld)",
			     path, (long long)st.st_size,
			     (long long)o->max_bytes);
		goto out;
	}
	*size = st.st_size;
	*resolved = real;
	real = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(real);
	free(root);
	return rc;
}

/*
 * A file's version: what a write changes. The status-change time moves
 * with every write too, and also when a tool puts the modification time
 * back after writing (touch -r, cp -p over the file): the content may have
 * changed under the same size and mtime.
 */
static void
file_version(const struct stat *st, char *buf, size_t n)
{
	snprintf(buf, n, "file %ju %ju %lld %lld.%09ld %lld.%09ld",
		 (uintmax_t)st->st_dev, (uintmax_t)st->st_ino,
		 (long long)st->st_size, (long long)st->st_mtim.tv_sec,
		 st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec,
		 st->st_ctim.tv_nsec);
}

int
upload__source_new(const struct upload_source_opts *o,
		   const struct upload_job *job, int64_t from,
		   const struct upload_source_stop *stop,
		   struct upload_source **out, struct err *e)
{
	struct upload_source *s = xcalloc(1, sizeof(*s));
	int rc = 0;

	*out = NULL;
	s->fd = -1;
	s->size = -1;
	if (stop != NULL)
		s->stop = *stop;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (strcmp(job->source_kind, "url") == 0) {
		rc = upload__url_open(o, job, from, s, e);
	} else {
		struct stat st;

		s->fd = open(job->source, O_RDONLY | O_CLOEXEC);
		if (s->fd < 0 || fstat(s->fd, &st) != 0 ||
		    !S_ISREG(st.st_mode)) {
			rc = err_set(e, ERR_INPUT, "could not open \"%s\": %s",
				     job->source,
				     s->fd < 0 ? strerror(errno)
					       : "not a regular file");
		} else {
			s->size = st.st_size;
			file_version(&st, s->version, sizeof(s->version));
		}
	}
	if (rc != 0) {
		upload__source_free(s);
		return rc;
	}
	if (s->is_url)
		upload__url_version(s);
	*out = s;
	return 0;
}

const char *
upload__source_version(const struct upload_source *s)
{
	return s->version;
}

int
upload__source_check(const struct upload_source *s, struct err *e)
{
	struct stat st;
	char now[sizeof(s->version)];

	if (s->is_url)
		return 0; /* one response, or a spool of our own */
	if (fstat(s->fd, &st) != 0)
		return err_set(e, ERR_IO, "could not stat the file: %s",
			       strerror(errno));
	file_version(&st, now, sizeof(now));
	if (strcmp(now, s->version) == 0)
		return 0;
	return err_set_remote(
	    e, ERR_UNAVAIL, "SourceChanged",
	    "the file changed while it was being uploaded (%lld bytes when "
	    "opened, %lld now%s): what was sent may mix old and new bytes",
	    (long long)s->size, (long long)st.st_size,
	    st.st_size == s->size ? ", written since" : "");
}

void
upload__source_free(struct upload_source *s)
{
	if (s == NULL)
		return;
	upload__url_stop(s);
	if (s->fd >= 0)
		close(s->fd);
	free(s->ring);
	free(s->url);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

int64_t
upload__source_size(const struct upload_source *s)
{
	return s->size;
}

bool
upload__source_seekable(const struct upload_source *s)
{
	return s->fd >= 0;
}

int
upload__source_fd(const struct upload_source *s)
{
	return s->fd;
}

int
upload__source_read(struct upload_source *s, int64_t off, void *p, size_t n,
		    struct err *e)
{
	unsigned char *dst = p;

	if (s->fd >= 0) {
		size_t done = 0;

		while (done < n) {
			ssize_t r = pread(s->fd, dst + done, n - done,
					  (off_t)(off + (int64_t)done));

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return err_set(e, ERR_IO,
					       "could not read the source at "
					       "%lld: %s",
					       (long long)(off + (int64_t)done),
					       r < 0 ? strerror(errno)
						     : "file shrank");
			done += (size_t)r;
		}
		return 0;
	}
	return upload__url_read(s, off, p, n, e);
}

/*
 * source_url.c: http(s) URL sources.
 *
 * The addresses the download may connect to, its proxy and its
 * redirects are url_guard.c's.
 * The body is fetched by a download thread: with a Content-Length it goes
 * through a bounded ring buffer straight to the upload (a stream, read
 * once, in order); without one it is spooled to an unlinked temporary file
 * that then serves as a file source. A resume may ask for the body from an
 * offset on (Range, If-Range the validator recorded); anything but that
 * range, or a read before it, downloads it whole. Every wait for the
 * download gives up when the caller's stop says so.
 *
 * Interface: upload__url_open, upload__url_version, upload__url_stop,
 * upload__url_read (for source.c).
 */
#include "upload/source_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/*
 * What tells this content of the URL from another: its strong ETag, else
 * its Last-Modified (a weak ETag says only that two contents are
 * equivalent, not the same bytes). Values too long for the buffer are
 * left out rather than cut, so that two long ones never compare equal.
 */
static void
note_validator(struct upload_source *s, CURL *h)
{
	struct curl_header *hd;

	s->validator[0] = '\0';
	if (curl_easy_header(h, "ETag", 0, CURLH_HEADER, -1, &hd) ==
		CURLHE_OK &&
	    strncmp(hd->value, "W/", 2) != 0 &&
	    strlen(hd->value) + 6 < sizeof(s->validator)) {
		snprintf(s->validator, sizeof(s->validator), "etag %s",
			 hd->value);
		return;
	}
	if (curl_easy_header(h, "Last-Modified", 0, CURLH_HEADER, -1, &hd) ==
		CURLHE_OK &&
	    strlen(hd->value) + 15 < sizeof(s->validator))
		snprintf(s->validator, sizeof(s->validator), "last-modified %s",
			 hd->value);
}

/*
 * The total size a 206 answer gives in its Content-Range, when the range is
 * the one asked (from s->from to the end); -1 otherwise. RFC 9110 14.4:
 * "bytes first-last/complete-length".
 */
static int64_t
ranged_total(const struct upload_source *s, CURL *h)
{
	struct curl_header *hd;
	long long first, last, total;
	int end = 0;

	if (curl_easy_header(h, "Content-Range", 0, CURLH_HEADER, -1, &hd) !=
		CURLHE_OK ||
	    sscanf(hd->value, "bytes %lld-%lld/%lld%n", &first, &last, &total,
		   &end) != 3 ||
	    hd->value[end] != '\0')
		return -1;
	if (first != s->from || last != total - 1 || total <= first)
		return -1;
	return total;
}

/*
 * The error of a URL's answer other than the body: ERR_UNAVAIL when the
 * server says to come back later (5xx, 408 Request Timeout, 429 Too Many
 * Requests), as a store's answer is classified; ERR_INPUT otherwise (a
 * 404 or 403 stays what it is).
 */
static int
status_error(long status)
{
	return status >= 500 || status == 408 || status == 429 ? ERR_UNAVAIL
							       : ERR_INPUT;
}

/*
 * Decide between streaming and spooling on the first bytes or the end. A
 * ranged request (s->from > 0) streams a 206 answer from s->from; any
 * other answer to it is refused (range_refused) and the caller asks for
 * the whole body instead.
 */
static void
decide(struct upload_source *s, CURL *h)
{
	curl_off_t len = -1;
	long status = 0;

	if (s->decided)
		return;
	note_validator(s, h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (s->from > 0 && status != 200) {
		/* 206 with the range asked, or else the whole body again. */
		if (status != 206 || (len = ranged_total(s, h)) < 0) {
			s->range_refused = true;
			s->aborted = true;
			goto out;
		}
		s->pos = s->from;
	} else if (status != 200) {
		s->rc = err_set(&s->derr, status_error(status),
				"could not download the url: HTTP status %ld",
				status);
		s->aborted = true;
		goto out;
	} else {
		s->from = 0; /* the whole body */
		curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
	}
	if (len >= 0 && s->opts->max_bytes > 0 && len > s->opts->max_bytes) {
		s->rc = err_set(&s->derr, ERR_LIMIT,
				"the url's body is %lld bytes, more than "
				"upload_max_bytes (%lld)",
				(long long)len, (long long)s->opts->max_bytes);
		s->aborted = true;
	}
	s->streaming = len >= 0;
	s->size = len;
out:
	s->decided = true;
	pthread_cond_broadcast(&s->cv);
}

struct dl_ctx {
	struct upload_source *s;
	CURL *h;
	struct upload_url_guard guard; /* the check of its connections */
};

static size_t
dl_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct dl_ctx *c = arg;
	struct upload_source *s = c->s;
	size_t n = size * nmemb, done = 0;

	pthread_mutex_lock(&s->mu);
	decide(s, c->h);
	if (s->aborted) {
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	s->received += (int64_t)n;
	if (s->opts->max_bytes > 0 && s->received > s->opts->max_bytes) {
		s->rc = err_set(&s->derr, ERR_LIMIT,
				"the url's body is larger than "
				"upload_max_bytes (%lld)",
				(long long)s->opts->max_bytes);
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	if (!s->streaming) {
		pthread_mutex_unlock(&s->mu);
		while (done < n) {
			ssize_t w = write(s->fd, p + done, n - done);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				pthread_mutex_lock(&s->mu);
				s->rc = err_set(&s->derr, ERR_IO,
						"could not write the temporary "
						"copy: %s",
						strerror(errno));
				pthread_mutex_unlock(&s->mu);
				return 0;
			}
			done += (size_t)w;
		}
		return n;
	}
	while (done < n) {
		size_t tail, room;

		while (s->count == RING_SIZE && !s->aborted)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->aborted) {
			pthread_mutex_unlock(&s->mu);
			return 0;
		}
		tail = (s->head + s->count) % RING_SIZE;
		room = RING_SIZE - s->count;
		if (room > RING_SIZE - tail)
			room = RING_SIZE - tail;
		if (room > n - done)
			room = n - done;
		memcpy(s->ring + tail, p + done, room);
		s->count += room;
		done += room;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* Ends the download promptly once free() asked, even while no byte comes
 * (libcurl calls it about once a second then; dl_write sees only data). */
static int
dl_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
	    curl_off_t ulnow)
{
	struct upload_source *s = arg;
	bool aborted;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	pthread_mutex_lock(&s->mu);
	aborted = s->aborted;
	pthread_mutex_unlock(&s->mu);
	return aborted;
}
/* The error of a download curl ended with cc (s->mu held). */
static void
dl_failed(struct upload_source *s, const struct dl_ctx *c, CURLcode cc,
	  const char *errbuf)
{
	if (c->guard.refused) {
		s->rc = c->guard.refusal.code;
		s->derr = c->guard.refusal;
	} else if (cc == CURLE_TOO_MANY_REDIRECTS) {
		s->rc = err_set(&s->derr, ERR_INPUT,
				"could not download the url: more than %d "
				"redirects",
				UPLOAD_URL_MAX_REDIRECTS);
	} else if (cc == CURLE_UNSUPPORTED_PROTOCOL) {
		s->rc = err_set(&s->derr, ERR_INPUT,
				"could not download the url: a redirect to a "
				"scheme not allowed (http or https, never "
				"https to http): %s",
				errbuf[0] ? errbuf : curl_easy_strerror(cc));
	} else {
		s->rc =
		    err_set(&s->derr, ERR_NET, "could not download the url: %s",
			    errbuf[0] ? errbuf : curl_easy_strerror(cc));
	}
}

static void *
dl_main(void *arg)
{
	struct upload_source *s = arg;
	struct cloud_easy ce;
	struct dl_ctx c = {.s = s};
	struct curl_slist *hdrs = NULL;
	bool ce_live = false;
	struct err e;
	CURLcode cc;
	int rc;

	err_clear(&e);
	if ((c.h = curl_easy_init()) == NULL) {
		rc = err_set(&e, ERR_INTERNAL, "could not create curl handle");
		goto out;
	}
	if ((rc = cloud_easy_init(&ce, c.h, s->opts->cloud, 0, &e)) != 0)
		goto out;
	ce_live = true;
	curl_easy_setopt(c.h, CURLOPT_URL, s->url);
	curl_easy_setopt(c.h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c.h, CURLOPT_CONNECT_TO, NULL);
	upload__url_guard_setopt(&c.guard, s->opts, c.h, s->url);
	/* Downloads may be long: no total timeout, but a stall limit. */
	curl_easy_setopt(c.h, CURLOPT_TIMEOUT_MS, 0L);
	curl_easy_setopt(c.h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c.h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, dl_write);
	curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &c);
	curl_easy_setopt(c.h, CURLOPT_XFERINFOFUNCTION, dl_progress);
	curl_easy_setopt(c.h, CURLOPT_XFERINFODATA, s);
	curl_easy_setopt(c.h, CURLOPT_NOPROGRESS, 0L);
	if (s->from > 0) {
		/* The rest of the body, if it is still the one recorded; the
		 * whole (200) otherwise (RFC 9110 13.1.5). Both go to every
		 * hop of a redirect: the answer that counts is the last. */
		char range[32], cond[sizeof(s->if_range) + 16];

		snprintf(range, sizeof(range), "%lld-", (long long)s->from);
		snprintf(cond, sizeof(cond), "If-Range: %s", s->if_range);
		if ((hdrs = curl_slist_append(NULL, cond)) == NULL) {
			rc = err_set(&e, ERR_NOMEM, "out of memory");
			goto out;
		}
		curl_easy_setopt(c.h, CURLOPT_RANGE, range);
		curl_easy_setopt(c.h, CURLOPT_HTTPHEADER, hdrs);
	}
	cc = curl_easy_perform(c.h);
	pthread_mutex_lock(&s->mu);
	/* A failure first: without an answer there is no status to judge. */
	if (s->rc == 0 && cc != CURLE_OK && !s->aborted)
		dl_failed(s, &c, cc, ce.errbuf);
	if (s->rc == 0 && !s->decided)
		decide(s, c.h); /* an empty body */
	if (s->rc == 0 && !s->range_refused && s->streaming &&
	    s->from + s->received != s->size)
		s->rc = err_set(&s->derr, ERR_NET,
				"could not download the url: body ended "
				"after %lld of %lld bytes",
				(long long)(s->from + s->received),
				(long long)s->size);
	if (s->rc == 0 && !s->streaming)
		s->size = s->received;
	pthread_mutex_unlock(&s->mu);
	rc = 0;
out:
	if (ce_live)
		cloud_easy_cleanup(&ce);
	curl_easy_cleanup(c.h);
	curl_slist_free_all(hdrs);
	pthread_mutex_lock(&s->mu);
	if (rc != 0 && s->rc == 0) {
		s->rc = rc;
		s->derr = e;
	}
	s->decided = true;
	s->finished = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

#define STOP_CHECK_MS 250 /* how often a wait for the download asks */

static int restart_download(struct upload_source *s, struct err *e);

/*
 * Wait on s->cv (s->mu held) for at most STOP_CHECK_MS; true when the
 * caller's stop says to give up, asked first (it must not block).
 */
static bool
wait_or_stop(struct upload_source *s)
{
	struct timespec until = time_after_ms(STOP_CHECK_MS);

	if (s->stop.fn != NULL && s->stop.fn(s->stop.arg))
		return true;
	pthread_cond_timedwait(&s->cv, &s->mu, &until);
	return false;
}

/*
 * Start the download from s->from and wait until it streams, or, with the
 * length unknown, for the whole body in the spool. A ranged request that
 * got anything but its range is made again for the whole body.
 */
static int
start_download(struct upload_source *s, struct err *e)
{
	const struct upload_source_opts *o = s->opts;
	char tmpl[PATH_MAX];
	int rc;

	if (s->fd < 0) {
		/* The spool is created up front (unlinked at once) so that
		 * the download thread never has to. */
		snprintf(tmpl, sizeof(tmpl), "%s/vodhook-url-XXXXXX",
			 o->tmp_dir && o->tmp_dir[0] ? o->tmp_dir : "/tmp");
		if ((s->fd = mkstemp(tmpl)) < 0)
			return err_set(e, ERR_IO, "could not create \"%s\": %s",
				       tmpl, strerror(errno));
		unlink(tmpl);
	}
	if (pthread_create(&s->thread, NULL, dl_main, s) != 0)
		return err_set(e, ERR_INTERNAL,
			       "could not start the download thread");
	s->thread_live = true;
	pthread_mutex_lock(&s->mu);
	while (s->rc == 0 && !(s->decided && (s->streaming || s->finished))) {
		if (wait_or_stop(s)) {
			pthread_mutex_unlock(&s->mu);
			return err_set(e, ERR_CANCELED,
				       "stopped while downloading the url");
		}
	}
	rc = s->rc;
	if (rc != 0 && e != NULL)
		*e = s->derr;
	pthread_mutex_unlock(&s->mu);
	if (rc == 0 && s->range_refused) {
		log_msg(LOG_INFO, "upload",
			"the url did not answer with the range asked; "
			"downloading it whole");
		return restart_download(s, e);
	}
	if (rc == 0 && s->streaming) {
		close(s->fd);
		s->fd = -1;
	}
	return rc;
}

/* Stop the download thread, if it runs, and wait for it to end. */
void
upload__url_stop(struct upload_source *s)
{
	if (!s->thread_live)
		return;
	pthread_mutex_lock(&s->mu);
	s->aborted = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	s->thread_live = false;
}

/* Stop the download under way, forget its bytes and ask for the whole. */
static int
restart_download(struct upload_source *s, struct err *e)
{
	upload__url_stop(s);
	s->from = 0;
	s->head = s->count = 0;
	s->pos = s->received = 0;
	s->decided = s->finished = s->aborted = s->streaming = false;
	s->range_refused = false;
	s->rc = 0;
	err_clear(&s->derr);
	s->size = -1;
	return start_download(s, e);
}

/*
 * The validator a URL's version recorded (its strong ETag or Last-Modified,
 * see note_validator), to send as If-Range; false when it has none.
 */
static bool
recorded_validator(const char *version, char *out, size_t n)
{
	const char *p;

	if (version == NULL || strncmp(version, "url ", 4) != 0 ||
	    (p = strchr(version + 4, ' ')) == NULL)
		return false;
	p++;
	if (strncmp(p, "etag ", 5) == 0)
		p += 5;
	else if (strncmp(p, "last-modified ", 14) == 0)
		p += 14;
	else
		return false;
	if (*p == '\0' || strlen(p) >= n || strpbrk(p, "\r\n") != NULL)
		return false;
	snprintf(out, n, "%s", p);
	return true;
}

int
upload__url_open(const struct upload_source_opts *o,
		 const struct upload_job *job, int64_t from,
		 struct upload_source *s, struct err *e)
{
	int rc;

	if ((rc = upload__url_check(o, job->source, e)) != 0)
		return rc;
	s->is_url = true;
	s->url = xstrdup(job->source);
	s->ring = xmalloc(RING_SIZE);
	s->opts = o;
	if (from > 0 && recorded_validator(job->source_version, s->if_range,
					   sizeof(s->if_range)))
		s->from = from;
	return start_download(s, e);
}

/* A URL's version: its size and validator (see note_validator). */
void
upload__url_version(struct upload_source *s)
{
	snprintf(s->version, sizeof(s->version), "url %lld%s%s",
		 (long long)s->size, s->validator[0] ? " " : "", s->validator);
}

/* Take n bytes from the ring (n == 0 with p NULL: discard). */
static int
ring_take(struct upload_source *s, unsigned char *p, size_t n, struct err *e)
{
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	while (n > 0) {
		size_t k;

		while (s->count == 0 && s->rc == 0 && !s->finished) {
			if (wait_or_stop(s)) {
				rc = err_set(e, ERR_CANCELED,
					     "stopped while waiting for the "
					     "url's bytes");
				goto out;
			}
		}
		if (s->count == 0) {
			rc = s->rc != 0 ? s->rc : ERR_NET;
			if (e != NULL) {
				if (s->rc != 0)
					*e = s->derr;
				else
					err_set(e, ERR_NET,
						"the download ended early");
			}
			break;
		}
		k = s->count < n ? s->count : n;
		if (k > RING_SIZE - s->head)
			k = RING_SIZE - s->head;
		if (p != NULL) {
			memcpy(p, s->ring + s->head, k);
			p += k;
		}
		s->head = (s->head + k) % RING_SIZE;
		s->count -= k;
		s->pos += (int64_t)k;
		n -= k;
		pthread_cond_broadcast(&s->cv);
	}
out:
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
upload__url_read(struct upload_source *s, int64_t off, void *p, size_t n,
		 struct err *e)
{
	unsigned char *dst = p;

	if (off < s->pos) {
		/* A part behind the stream must be sent after all: one
		 * before a resume's Range (the store lost it), or the media
		 * sent again whole (the store's CRC was not that of the bytes
		 * sent). The whole body again, which must be the same one. */
		char was[sizeof(s->version)];
		int rc;

		snprintf(was, sizeof(was), "%s", s->version);
		if ((rc = restart_download(s, e)) != 0)
			return rc;
		upload__url_version(s);
		if (strcmp(was, s->version) != 0)
			return err_set_remote(e, ERR_UNAVAIL, "SourceChanged",
					      "the url changed while it was "
					      "being uploaded");
		/* A stream again, or a spool (no length this time). */
		return upload__source_read(s, off, p, n, e);
	}
	while (off > s->pos) {
		unsigned char skip[65536];
		int64_t k = off - s->pos;
		int rc;

		if (k > (int64_t)sizeof(skip))
			k = (int64_t)sizeof(skip);
		if ((rc = ring_take(s, skip, (size_t)k, e)) != 0)
			return rc;
	}
	return ring_take(s, dst, n, e);
}

/*
 * source_url.c: http(s) URL sources.
 *
 * A URL's host must resolve to public addresses only unless allowed
 * (loopback, private, link-local and other special addresses refused), and
 * the address checked is the one connected to (CURLOPT_RESOLVE pins it).
 * The body is fetched by a download thread: with a Content-Length it goes
 * through a bounded ring buffer straight to the upload (a stream, read
 * once, in order); without one it is spooled to an unlinked temporary file
 * that then serves as a file source. A resume may ask for the body from an
 * offset on (Range, If-Range the validator recorded); anything but that
 * range, or a read before it, downloads it whole. Every wait for the
 * download gives up when the caller's stop says so.
 *
 * Interface: upload__url_check; upload__url_open, upload__url_version,
 * upload__url_stop, upload__url_read (for source.c).
 */
#include "upload/source_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* True for addresses that are not on the public Internet. */
static bool
addr_private(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		uint32_t a = ntohl(in->sin_addr.s_addr);

		return (a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127 ||
		       (a >> 16) == 0xa9fe ||	       /* 169.254/16 */
		       (a >> 20) == 0xac1 ||	       /* 172.16/12 */
		       (a >> 16) == 0xc0a8 ||	       /* 192.168/16 */
		       (a >> 22) == (100u << 2 | 1) || /* 100.64/10 */
		       (a >> 28) >= 0xe;	       /* multicast, 240/4 */
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		const unsigned char *b = in6->sin6_addr.s6_addr;

		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			struct sockaddr_in v4 = {.sin_family = AF_INET};

			memcpy(&v4.sin_addr, b + 12, 4);
			return addr_private((const struct sockaddr *)&v4);
		}
		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
		       IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr) ||
		       (b[0] == 0xfe &&
			(b[1] & 0xc0) == 0x80) || /* fe80::/10 */
		       (b[0] & 0xfe) == 0xfc ||	  /* fc00::/7 */
		       b[0] == 0xff;		  /* multicast */
	}
	return true;
}

/*
 * Check url and, when resolve is not NULL, build the CURLOPT_RESOLVE entry
 * that pins the address checked.
 */
static int
url_check(const struct upload_source_opts *o, const char *url,
	  struct curl_slist **resolve, struct err *e)
{
	char *scheme = NULL, *host = NULL, *port = NULL;
	struct addrinfo hints = {0}, *ai = NULL;
	char addr[INET6_ADDRSTRLEN + 2] = "";
	CURLU *u = curl_url();
	int rc = 0, grc;

	if (u == NULL)
		fatal("out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
		CURLUE_OK) {
		rc = err_set(e, ERR_INPUT, "url is not a valid URL");
		goto out;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		rc = err_set(e, ERR_INPUT, "url must be http or https");
		goto out;
	}
	hints.ai_socktype = SOCK_STREAM;
	{
		/* CURLUPART_HOST keeps IPv6 brackets. */
		char *h = host;
		size_t n = strlen(h);

		if (h[0] == '[' && n > 2 && h[n - 1] == ']') {
			h[n - 1] = '\0';
			h++;
		}
		grc = getaddrinfo(h, port, &hints, &ai);
		if (grc != 0) {
			rc = err_set(e, ERR_INPUT,
				     "could not resolve \"%s\": %s", h,
				     gai_strerror(grc));
			goto out;
		}
	}
	for (struct addrinfo *p = ai; p != NULL; p = p->ai_next) {
		if (addr_private(p->ai_addr) && !o->allow_private_urls) {
			rc = err_set(e, ERR_FORBIDDEN,
				     "url resolves to a loopback or private "
				     "address (upload_allow_private_urls is "
				     "off)");
			goto out;
		}
	}
	if (resolve != NULL && ai != NULL) {
		char entry[512];
		const void *src =
		    ai->ai_family == AF_INET
			? (const void *)&(
			      (struct sockaddr_in *)(void *)ai->ai_addr)
			      ->sin_addr
			: (const void *)&(
			      (struct sockaddr_in6 *)(void *)ai->ai_addr)
			      ->sin6_addr;
		char txt[INET6_ADDRSTRLEN];
		const char *h = host[0] == '[' ? host + 1 : host;

		inet_ntop(ai->ai_family, src, txt, sizeof(txt));
		snprintf(addr, sizeof(addr),
			 ai->ai_family == AF_INET6 ? "[%s]" : "%s", txt);
		snprintf(entry, sizeof(entry), "%s:%s:%s", h, port, addr);
		*resolve = curl_slist_append(NULL, entry);
	}
out:
	if (ai != NULL)
		freeaddrinfo(ai);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

int
upload__url_check(const struct upload_source_opts *o, const char *url,
		  struct err *e)
{
	return url_check(o, url, NULL, e);
}

/* ---------------------------------------------------------------- download */

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

static void *
dl_main(void *arg)
{
	struct upload_source *s = arg;
	struct cloud_easy ce;
	struct dl_ctx c = {s, NULL};
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
	/* Downloads may be long: no total timeout, but a stall limit. */
	curl_easy_setopt(c.h, CURLOPT_TIMEOUT_MS, 0L);
	curl_easy_setopt(c.h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c.h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c.h, CURLOPT_RESOLVE, s->resolve);
	curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, dl_write);
	curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &c);
	curl_easy_setopt(c.h, CURLOPT_XFERINFOFUNCTION, dl_progress);
	curl_easy_setopt(c.h, CURLOPT_XFERINFODATA, s);
	curl_easy_setopt(c.h, CURLOPT_NOPROGRESS, 0L);
	if (s->from > 0) {
		/* The rest of the body, if it is still the one recorded; the
		 * whole (200) otherwise (RFC 9110 13.1.5). */
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
	if (s->rc == 0 && !s->decided)
		decide(s, c.h); /* an empty body */
	if (s->rc == 0 && cc != CURLE_OK && !s->aborted) {
		s->rc =
		    err_set(&s->derr, ERR_NET, "could not download the url: %s",
			    ce.errbuf[0] ? ce.errbuf : curl_easy_strerror(cc));
	}
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

	if ((rc = url_check(o, job->source, &s->resolve, e)) != 0)
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

/*
 * util.c: hex, MD5, constant-time comparison, randomness, clocks, bounded
 * integer parsing, file reading and UTF-8 validation.
 */
#include "common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

void
hex_encode(const void *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[s[i] >> 4];
		out[2 * i + 1] = digits[s[i] & 15];
	}
	out[2 * n] = '\0';
}

static void
digest_hex(const EVP_MD *md, const void *p, size_t n, char *out)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;

	if (!EVP_Digest(p, n, d, &dlen, md, NULL))
		fatal("could not compute digest");
	hex_encode(d, dlen, out);
}

void
md5_hex(const void *p, size_t n, char out[33])
{
	digest_hex(EVP_md5(), p, n, out);
}

void
sha1_hex(const void *p, size_t n, char out[41])
{
	digest_hex(EVP_sha1(), p, n, out);
}

void
sha256_hex(const void *p, size_t n, char out[65])
{
	digest_hex(EVP_sha256(), p, n, out);
}

bool
ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	/* Lengths are not secret (a digest has a fixed length). */
	if (alen != blen)
		return false;
	return CRYPTO_memcmp(a, b, alen) == 0;
}

bool
ct_equal_nocase(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char diff = 0;

	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		/* Fold ASCII letters to lowercase without branching on data. */
		x |= (unsigned char)(((unsigned)(x - 'A') < 26u) << 5);
		y |= (unsigned char)(((unsigned)(y - 'A') < 26u) << 5);
		diff |= x ^ y;
	}
	return diff == 0;
}

int
random_bytes(void *p, size_t n)
{
	unsigned char *s = p;

	while (n > 0) {
		ssize_t r = getrandom(s, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return ERR_IO;
		}
		s += r;
		n -= (size_t)r;
	}
	return 0;
}

int
random_hex(char *out, size_t n)
{
	unsigned char raw[64];

	if (n > sizeof(raw) || random_bytes(raw, n) != 0)
		return ERR_IO;
	hex_encode(raw, n, out);
	return 0;
}

int64_t
time_unix(void)
{
	return (int64_t)time(NULL);
}

int64_t
time_unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
time_mono_ms(void)
{
	return time_mono_us() / 1000;
}

int64_t
time_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct timespec
time_after_ms(int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* n decimal digits at s as a number; -1 when one is not a digit. */
static int
digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int
days_in_month(int y, int m)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : mdays[m - 1];
}

/* The fraction of a second at *p (after the '.'), in nanoseconds; digits
 * past the ninth are dropped. Advances *p. -1 when there is no digit. */
static int32_t
fraction_ns(const char **p)
{
	int32_t ns = 0;
	int n = 0;

	for (; **p >= '0' && **p <= '9'; (*p)++, n++)
		if (n < 9)
			ns = ns * 10 + (**p - '0');
	if (n == 0)
		return -1;
	for (; n < 9; n++)
		ns *= 10;
	return ns;
}

/* The offset at p ("Z", "z", "+hh:mm", "-hh:mm" and nothing after it) in
 * seconds east of UTC; ERR_INPUT otherwise. */
static int
utc_offset(const char *p, int64_t *off)
{
	int oh, om;

	if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0') {
		*off = 0;
		return 0;
	}
	if ((p[0] != '+' && p[0] != '-') || strlen(p) != 6 || p[3] != ':')
		return ERR_INPUT;
	oh = digits(p + 1, 2);
	om = digits(p + 4, 2);
	if (oh < 0 || oh > 23 || om < 0 || om > 59)
		return ERR_INPUT;
	*off = (int64_t)oh * 3600 + om * 60;
	if (p[0] == '-')
		*off = -*off;
	return 0;
}

int
time_parse_rfc3339(const char *s, int64_t *secs, int32_t *nsec)
{
	int y, mo, d, h, mi, sec;
	int32_t ns = 0;
	int64_t off;
	const char *p;

	if (s == NULL || strlen(s) < 20)
		return ERR_INPUT;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (y < 1 || s[4] != '-' || mo < 1 || mo > 12 || s[7] != '-' || d < 1 ||
	    d > days_in_month(y, mo) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || h < 0 || h > 23 ||
	    s[13] != ':' || mi < 0 || mi > 59 || s[16] != ':' || sec < 0 ||
	    sec > 60)
		return ERR_INPUT;
	p = s + 19;
	if (*p == '.') {
		p++;
		if ((ns = fraction_ns(&p)) < 0)
			return ERR_INPUT;
	}
	if (utc_offset(p, &off) != 0)
		return ERR_INPUT;
	*secs = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 +
		(int64_t)mi * 60 + sec - off;
	if (nsec != NULL)
		*nsec = ns;
	return 0;
}

int
parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	long long v;
	char *end;

	if (s == NULL || *s == '\0' || *s == ' ' || *s == '+')
		return ERR_INPUT;
	if (min >= 0 && *s == '-')
		return ERR_INPUT;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return ERR_INPUT;
	*out = v;
	return 0;
}

int
file_slurp(const char *path, size_t max, char **out, size_t *len, struct err *e)
{
	struct buf b;
	char chunk[8192];
	int fd, rc = 0;
	ssize_t n;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, ERR_IO, "could not open \"%s\": %s", path,
			       strerror(errno));
	buf_init(&b, max);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = err_set(e, ERR_IO, "could not read \"%s\": %s",
				     path, strerror(errno));
			goto out;
		}
		if (buf_append(&b, chunk, (size_t)n) != 0) {
			rc = err_set(e, ERR_LIMIT,
				     "file \"%s\" is larger than %zu bytes",
				     path, max);
			goto out;
		}
	}
	*out = buf_take(&b, len);
out:
	buf_free(&b);
	close(fd);
	return rc;
}

void
vh_stop_init(struct vh_stop *s)
{
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->stop = false;
}

void
vh_stop_cleanup(struct vh_stop *s)
{
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
}

void
vh_stop_request(struct vh_stop *s)
{
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

bool
vh_stop_requested(struct vh_stop *s)
{
	bool v;

	pthread_mutex_lock(&s->mu);
	v = s->stop;
	pthread_mutex_unlock(&s->mu);
	return v;
}

bool
vh_stop_sleep(struct vh_stop *s, int64_t ms)
{
	struct timespec until = time_after_ms(ms);
	bool v;

	pthread_mutex_lock(&s->mu);
	while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
		;
	v = s->stop;
	pthread_mutex_unlock(&s->mu);
	return v;
}

void
vh_signal_init(struct vh_signal *s)
{
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->gen = 0;
}

void
vh_signal_cleanup(struct vh_signal *s)
{
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
}

void
vh_signal_raise(struct vh_signal *s)
{
	pthread_mutex_lock(&s->mu);
	s->gen++;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

uint64_t
vh_signal_gen(struct vh_signal *s)
{
	uint64_t v;

	pthread_mutex_lock(&s->mu);
	v = s->gen;
	pthread_mutex_unlock(&s->mu);
	return v;
}

bool
vh_signal_wait(struct vh_signal *s, uint64_t seen, int64_t ms)
{
	struct timespec until = time_after_ms(ms);
	bool changed;

	pthread_mutex_lock(&s->mu);
	while (s->gen == seen &&
	       pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
		;
	changed = s->gen != seen;
	pthread_mutex_unlock(&s->mu);
	return changed;
}

long
utf8_chars(const char *p, size_t len)
{
	/* No library we depend on exposes a UTF-8 check (cJSON and libpq
	 * do not validate), so it is written here. */
	const unsigned char *s = (const unsigned char *)p, *end = s + len;
	long count = 0;

	for (; s < end; count++) {
		unsigned c = *s;
		size_t n;
		unsigned min;

		if (c == 0)
			return -1;
		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1, min = 0x80;
			c &= 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2, min = 0x800;
			c &= 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3, min = 0x10000;
			c &= 0x07;
		} else {
			return -1;
		}
		if ((size_t)(end - s) <= n)
			return -1;
		for (size_t i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return -1;
			c = (c << 6) | (s[i] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return -1;
		s += n + 1;
	}
	return count;
}

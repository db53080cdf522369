/*
 * sign.c: what the signatures of both platforms share: HMAC through OpenSSL
 * and canonical name/value pairs (owned copies, lowercased, trimmed or
 * encoded, sorted).
 *
 * Interface (folder-private, cloud_int.h): cloud__hmac_sha256,
 * cloud__hmac_sha1, cloud__pairs_free, cloud__pair_cmp, cloud__lower_dup,
 * cloud__trim_dup, cloud__enc_dup.
 */
#include "cloud/cloud_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

/* ================================================================ HMAC */

static size_t
hmac(const EVP_MD *md, const void *key, size_t klen, const void *msg,
     size_t mlen, unsigned char *out)
{
	unsigned int olen = 0;

	if (klen > INT32_MAX ||
	    HMAC(md, key, (int)klen, msg, mlen, out, &olen) == NULL)
		fatal("could not compute HMAC");
	return olen;
}

size_t
cloud__hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
		   unsigned char *out)
{
	return hmac(EVP_sha256(), key, klen, msg, mlen, out);
}

size_t
cloud__hmac_sha1(const void *key, size_t klen, const void *msg, size_t mlen,
		 unsigned char *out)
{
	return hmac(EVP_sha1(), key, klen, msg, mlen, out);
}

/* ================================================================ pairs */

void
cloud__pairs_free(struct cloud__pair *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
}

int
cloud__pair_cmp(const void *a, const void *b)
{
	const struct cloud__pair *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->value, y->value);
}

char *
cloud__lower_dup(const char *s)
{
	char *r = xstrdup(cloud__str(s));

	for (char *p = r; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return r;
}

char *
cloud__trim_dup(const char *s)
{
	const char *b = cloud__str(s), *end;

	while (*b == ' ' || *b == '\t')
		b++;
	end = b + strlen(b);
	while (end > b && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return xstrndup(b, (size_t)(end - b));
}

/* Encode s strictly into a fresh string; NULL when it exceeds the cap. */
char *
cloud__enc_dup(const char *s)
{
	struct buf b;

	buf_init(&b, 64 * 1024);
	s = cloud__str(s);
	if (cloud_uri_encode(&b, s, strlen(s), false) != 0)
		return NULL;
	if (b.len == 0)
		return xstrdup("");
	return buf_take(&b, NULL);
}

/*
 * cloud_int.h: declarations shared by the files of cloud/ only.
 */
#ifndef VODHOOK_CLOUD_INT_H
#define VODHOOK_CLOUD_INT_H

#include "cloud/cloud.h"

#include <openssl/evp.h> /* EVP_MAX_MD_SIZE */

#define CLOUD_MAX_PAIRS 128 /* headers or parameters signed at once */

/* HMAC with OpenSSL; out holds EVP_MAX_MD_SIZE bytes. Aborts on failure. */
size_t cloud__hmac_sha256(const void *key, size_t klen, const void *msg,
			  size_t mlen, unsigned char *out);
size_t cloud__hmac_sha1(const void *key, size_t klen, const void *msg,
			size_t mlen, unsigned char *out);

/* A name/value pair with its canonical (encoded or lowercased) name. */
struct cloud__pair {
	char *name;  /* owned */
	char *value; /* owned */
};

/* Free n pairs and the array (NULL-safe). */
void cloud__pairs_free(struct cloud__pair *v, size_t n);
/* qsort order: by name, then by value, byte order. */
int cloud__pair_cmp(const void *a, const void *b);
/* Owned copies of s (NULL is ""): lowercased; without leading and trailing
 * blanks and tabs; strictly percent-encoded (NULL when over 64 KiB). */
char *cloud__lower_dup(const char *s);
char *cloud__trim_dup(const char *s);
char *cloud__enc_dup(const char *s);

/* Whether curl result cc means the request never reached the server. */
bool cloud__curl_not_sent(CURLcode cc);
void cloud__sleep_ms(long ms);

/* A request body or parameter value: s or "" */
static inline const char *
cloud__str(const char *s)
{
	return s != NULL ? s : "";
}

#endif

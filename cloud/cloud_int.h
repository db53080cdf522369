/*
 * cloud_int.h: declarations shared by the files of cloud/ only.
 */
#ifndef VODHOOK_CLOUD_INT_H
#define VODHOOK_CLOUD_INT_H

#include "cloud/cloud.h"

#define CLOUD_MAX_PAIRS 128 /* headers or parameters signed at once */

/* HMAC with OpenSSL; out holds EVP_MAX_MD_SIZE bytes. Aborts on failure. */
size_t cloud__hmac_sha256(const void *key, size_t klen, const void *msg,
			  size_t mlen, unsigned char *out);
size_t cloud__hmac_sha1(const void *key, size_t klen, const void *msg,
			size_t mlen, unsigned char *out);

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

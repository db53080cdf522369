/*
 * sign.c: Standard Webhooks secrets and signatures.
 *
 * The signed content is "<webhook-id>.<webhook-timestamp>.<body>", the key
 * the bytes that the base64 after "whsec_" encodes, the signature
 * base64(HMAC-SHA256), sent as "v1,<signature>"; several are separated by
 * spaces
 * (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md,
 * "Signature scheme" and "Key rotation").
 *
 * Interface: webhook_secret_new, webhook_sign.
 */
#include "webhooks/webhooks.h"

#include "cloud/sign.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#define PREFIX "whsec_"

int
webhook_secret_new(char out[WEBHOOK_SECRET_MAX])
{
	unsigned char key[WEBHOOK_SECRET_BYTES];
	struct buf b;
	int rc;

	if (RAND_bytes(key, sizeof(key)) != 1)
		return ERR_IO;
	buf_init(&b, WEBHOOK_SECRET_MAX - 1);
	rc = buf_puts(&b, PREFIX);
	if (rc == 0)
		rc = cloud_base64_encode(key, sizeof(key), &b);
	if (rc == 0)
		snprintf(out, WEBHOOK_SECRET_MAX, "%s", buf_cstr(&b));
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(b.ptr, b.cap);
	buf_free(&b);
	return rc;
}

/* Append "v1,<signature>", after a space unless first. */
static int
sign_one(const char *secret, const char *id, int64_t ts, const char *body,
	 size_t body_len, bool first, struct buf *out)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	struct buf key, msg;
	int rc;

	if (strncmp(secret, PREFIX, strlen(PREFIX)) != 0)
		return ERR_INPUT;
	buf_init(&key, 256);
	buf_init(&msg, 64u << 20);
	rc = cloud_base64_decode(secret + strlen(PREFIX),
				 strlen(secret + strlen(PREFIX)), &key, NULL);
	if (rc != 0 || key.len == 0) {
		rc = ERR_INPUT;
		goto out;
	}
	if ((rc = buf_printf(&msg, "%s.%lld.", id, (long long)ts)) != 0 ||
	    (rc = buf_append(&msg, body, body_len)) != 0)
		goto out;
	if (HMAC(EVP_sha256(), key.ptr, (int)key.len,
		 (const unsigned char *)msg.ptr, msg.len, mac,
		 &mac_len) == NULL)
		fatal("could not compute HMAC");
	if ((rc = buf_puts(out, first ? "v1," : " v1,")) == 0)
		rc = cloud_base64_encode(mac, mac_len, out);
out:
	if (key.ptr != NULL)
		OPENSSL_cleanse(key.ptr, key.cap);
	buf_free(&key);
	buf_free(&msg);
	return rc;
}

int
webhook_sign(const char *secret, const char *old_secret, const char *id,
	     int64_t timestamp, const char *body, size_t body_len,
	     struct buf *out)
{
	int rc = sign_one(secret, id, timestamp, body, body_len, true, out);

	if (rc == 0 && old_secret != NULL)
		rc = sign_one(old_secret, id, timestamp, body, body_len, false,
			      out);
	return rc;
}

/*
 * tls.c: the HTTPS certificate and the TLS settings of the server.
 *
 * The certificate chain and key are read here rather than by CivetWeb so
 * that a bad file stops start-up with the setting's name and the reason,
 * and so that a renewed certificate can be swapped in on SIGHUP without
 * restarting the server: the SSL_CTX's certificate callback sets the
 * current pair on each new connection, and a reload replaces the pair
 * under a lock. Connections already open keep the pair they started with.
 *
 * Interface: tls_new, tls_reload, tls_configure_ctx, tls_free.
 */
#include "server/tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * TLS 1.2 suites with forward secrecy and AEAD only (Mozilla's
 * "intermediate" list); TLS 1.3 suites are OpenSSL's defaults, all
 * modern.
 */
#define TLS12_CIPHERS                                                          \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"           \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"           \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/* Files larger than this are not certificates or keys. */
#define TLS_MAX_PEM (1 << 20)

struct tls_pair {
	X509 *leaf;
	STACK_OF(X509) * chain; /* the intermediates, maybe empty */
	EVP_PKEY *key;
};

struct tls {
	char *cert_path, *key_path;
	pthread_mutex_t lock; /* guards cur */
	struct tls_pair cur;
};

static void
pair_clear(struct tls_pair *p)
{
	X509_free(p->leaf);
	sk_X509_pop_free(p->chain, X509_free);
	EVP_PKEY_free(p->key);
	memset(p, 0, sizeof(*p));
}

/* OpenSSL's first queued error as text, or fallback; clears the queue. */
static const char *
ssl_reason(char *out, size_t n, const char *fallback)
{
	unsigned long code = ERR_peek_error();

	if (code == 0)
		snprintf(out, n, "%s", fallback);
	else
		ERR_error_string_n(code, out, n);
	ERR_clear_error();
	return out;
}

/* Open path for reading as a BIO, or fail naming setting and errno. */
static int
open_pem(const char *setting, const char *path, BIO **out, struct err *e)
{
	char *data = NULL;
	size_t len = 0;
	struct err fe;

	*out = NULL;
	if (path == NULL || path[0] == '\0')
		return err_set(e, ERR_INPUT, "%s: not set", setting);
	err_clear(&fe);
	if (file_slurp(path, TLS_MAX_PEM, &data, &len, &fe) != 0)
		return err_set(e, ERR_INPUT, "%s: %s", setting, fe.msg);
	*out = BIO_new(BIO_s_mem());
	if (*out == NULL || BIO_write(*out, data, (int)len) != (int)len)
		fatal("could not allocate a BIO");
	explicit_bzero(data, len);
	free(data);
	return 0;
}

static int
load_chain(const char *path, struct tls_pair *p, struct err *e)
{
	char why[256];
	BIO *bio = NULL;
	X509 *x;
	int rc;

	if ((rc = open_pem("tls_cert_file", path, &bio, e)) != 0)
		return rc;
	ERR_clear_error();
	p->leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (p->leaf == NULL) {
		rc = err_set(e, ERR_INPUT,
			     "tls_cert_file: \"%s\" holds no PEM certificate: "
			     "%s",
			     path, ssl_reason(why, sizeof(why), "none found"));
		goto out;
	}
	p->chain = sk_X509_new_null();
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_push(p->chain, x) == 0)
			fatal("could not grow a certificate stack");
	}
	ERR_clear_error(); /* the end of the file */
out:
	BIO_free(bio);
	return rc;
}

static int
load_key(const char *path, struct tls_pair *p, struct err *e)
{
	char why[256];
	BIO *bio = NULL;
	int rc;

	if ((rc = open_pem("tls_key_file", path, &bio, e)) != 0)
		return rc;
	ERR_clear_error();
	p->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (p->key == NULL)
		rc = err_set(e, ERR_INPUT,
			     "tls_key_file: \"%s\" holds no PEM private key "
			     "(or one with a passphrase): %s",
			     path, ssl_reason(why, sizeof(why), "none found"));
	BIO_free(bio);
	return rc;
}

/* Load both files into p and check that they belong together. */
static int
load_pair(const struct tls *t, struct tls_pair *p, struct err *e)
{
	int rc;

	memset(p, 0, sizeof(*p));
	if ((rc = load_chain(t->cert_path, p, e)) != 0 ||
	    (rc = load_key(t->key_path, p, e)) != 0)
		goto fail;
	if (X509_check_private_key(p->leaf, p->key) != 1) {
		ERR_clear_error();
		rc = err_set(e, ERR_INPUT,
			     "tls_key_file: \"%s\" is not the key of the "
			     "certificate in tls_cert_file \"%s\"",
			     t->key_path, t->cert_path);
		goto fail;
	}
	return 0;
fail:
	pair_clear(p);
	return rc;
}

int
tls_new(const char *cert_path, const char *key_path, struct tls **out,
	struct err *e)
{
	struct tls *t = xcalloc(1, sizeof(*t));
	int rc;

	*out = NULL;
	t->cert_path = xstrdup(cert_path ? cert_path : "");
	t->key_path = xstrdup(key_path ? key_path : "");
	pthread_mutex_init(&t->lock, NULL);
	if ((rc = load_pair(t, &t->cur, e)) != 0) {
		tls_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

int
tls_reload(struct tls *t, struct err *e)
{
	struct tls_pair fresh, old;
	int rc;

	if ((rc = load_pair(t, &fresh, e)) != 0)
		return rc;
	pthread_mutex_lock(&t->lock);
	old = t->cur;
	t->cur = fresh;
	pthread_mutex_unlock(&t->lock);
	pair_clear(&old);
	return 0;
}

/*
 * Called by OpenSSL in each handshake before the certificate is chosen:
 * set the current pair on the connection (SSL_use_* take their own
 * references, so a reload may free the pair once this returns).
 */
static int
cert_cb(SSL *ssl, void *arg)
{
	struct tls *t = arg;
	int ok;

	pthread_mutex_lock(&t->lock);
	ok = SSL_use_certificate(ssl, t->cur.leaf) == 1 &&
	     SSL_use_PrivateKey(ssl, t->cur.key) == 1 &&
	     SSL_set1_chain(ssl, t->cur.chain) == 1;
	pthread_mutex_unlock(&t->lock);
	return ok ? 1 : 0;
}

int
tls_configure_ctx(struct tls *t, void *ssl_ctx)
{
	SSL_CTX *ctx = ssl_ctx;
	static const unsigned char sid[] = "vodhook";

	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1 ||
	    SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1) != 1) {
		char why[256];

		log_msg(LOG_ERROR, "tls", "could not set up TLS: %s",
			ssl_reason(why, sizeof(why), "unknown error"));
		return -1;
	}
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE |
				     SSL_OP_NO_COMPRESSION |
				     SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_cert_cb(ctx, cert_cb, t);
	return 0;
}

void
tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	pair_clear(&t->cur);
	pthread_mutex_destroy(&t->lock);
	free(t->cert_path);
	free(t->key_path);
	free(t);
}

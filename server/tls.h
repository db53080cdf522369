/*
 * tls.h: the HTTPS certificate: loaded and checked at start-up, reloaded
 * on SIGHUP, and handed to every TLS handshake of the HTTP server.
 */
#ifndef VODHOOK_SERVER_TLS_H
#define VODHOOK_SERVER_TLS_H

#include "common/common.h"

struct tls;

/*
 * Load the certificate chain (PEM: the server's certificate first, then
 * its intermediates) and its private key (PEM), and check that they
 * match. On failure *e names the setting (tls_cert_file or tls_key_file)
 * and the reason. The paths are copied. Free with tls_free.
 */
int tls_new(const char *cert_path, const char *key_path, struct tls **out,
	    struct err *e) VH_MUST_CHECK;
/*
 * Load the files again and, if they are good, serve them from the next
 * handshake on; otherwise keep serving the previous pair and say why in
 * *e. Thread-safe against handshakes in progress.
 */
int tls_reload(struct tls *t, struct err *e) VH_MUST_CHECK;
/*
 * Set up a server SSL_CTX (void * as CivetWeb passes it): TLS 1.2 and
 * later, the cipher list below, and a certificate callback that serves
 * the current pair. t must outlive the context. 0, or -1 with a log line.
 */
int tls_configure_ctx(struct tls *t, void *ssl_ctx);
/* NULL-safe. */
void tls_free(struct tls *t);

#endif

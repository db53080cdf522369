/*
 * civetweb_ssl.c: what Debian's CivetWeb needs to find in OpenSSL 3.
 *
 * Debian 12's libcivetweb loads OpenSSL at run time, dlopen("libssl.so")
 * then dlsym of each function it uses, and it still asks for
 * SSL_get_peer_certificate, a name OpenSSL 3 no longer exports (it is a
 * macro for SSL_get1_peer_certificate). Without it every HTTPS listener
 * fails with "cannot find SSL_get_peer_certificate". The vodhook program
 * is therefore linked with the soname "libssl.so" (server/CMakeLists.txt):
 * the dynamic loader answers CivetWeb's dlopen("libssl.so") with the
 * program itself, already loaded, and dlsym looks in it and then in the
 * libraries it needs, libssl.so.3 among them. This file gives the one
 * missing name; every other name resolves to libssl.so.3 as before.
 *
 * Interface: SSL_get_peer_certificate.
 */
#include <openssl/ssl.h>

#undef SSL_get_peer_certificate

X509 *SSL_get_peer_certificate(const SSL *s);

/* OpenSSL 1.1's name: the peer's certificate, a reference the caller frees. */
X509 *
SSL_get_peer_certificate(const SSL *s)
{
	return SSL_get1_peer_certificate(s);
}

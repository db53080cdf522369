/*
 * url.c: which URLs a subscription may name.
 *
 * A receiver's URL is a request vodhook makes on a user's behalf, so it
 * gets the rules of URL sources (server-side request forgery): http only
 * when allowed, and a host that resolves only to addresses
 * upload_addr_allowed accepts. This check runs when a subscription is
 * created or changed; every delivery checks again the address it connects
 * to (deliver.c), since a name may resolve elsewhere by then.
 *
 * Interface: webhook_url_check.
 */
#include "webhooks/webhooks.h"

#include "upload/upload.h"

#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

#define URL_MAX 2048

/* The parts of url that are checked, or ERR_INPUT: https, or http when
 * allowed, and no user information (the secret signs; a password in the
 * URL would be stored and shown). Free with upload_url_parts_free. */
static int
url_parts(const struct webhook_url_opts *o, const char *url,
	  struct upload_url_parts *p, struct err *e)
{
	int rc;

	if ((rc = upload_url_split(url, p, e)) != 0)
		return rc;
	if (!p->https && !o->allow_http)
		rc = err_set(e, ERR_INPUT,
			     "url must be https (webhook_allow_http is off)");
	else if (p->user)
		rc = err_set(e, ERR_INPUT,
			     "url must not hold a user name or password");
	if (rc != 0)
		upload_url_parts_free(p);
	return rc;
}

int
webhook_url_check(const struct webhook_url_opts *o, const char *url,
		  struct err *e)
{
	struct addrinfo hints = {0}, *ai = NULL;
	struct upload_url_parts parts;
	int rc, grc;

	if (strlen(url) > URL_MAX)
		return err_set(e, ERR_INPUT, "url is longer than %d bytes",
			       URL_MAX);
	if ((rc = url_parts(o, url, &parts, e)) != 0)
		return rc;
	hints.ai_socktype = SOCK_STREAM;
	grc = getaddrinfo(parts.host, parts.port, &hints, &ai);
	if (grc != 0) {
		rc = err_set(e, ERR_INPUT, "could not resolve \"%s\": %s",
			     parts.host, gai_strerror(grc));
		goto out;
	}
	for (struct addrinfo *p = ai; p != NULL; p = p->ai_next) {
		const char *range = NULL;

		if (!upload_addr_allowed(p->ai_addr, o->allow_private,
					 &range)) {
			rc = err_set(e, ERR_FORBIDDEN,
				     "url resolves to %s, which webhooks may "
				     "not reach (webhook_allow_private_urls "
				     "opens loopback and private-use "
				     "addresses only)",
				     range != NULL ? range : "an address");
			goto out;
		}
	}
out:
	if (ai != NULL)
		freeaddrinfo(ai);
	upload_url_parts_free(&parts);
	return rc;
}

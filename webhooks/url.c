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

#include <curl/curl.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

#define URL_MAX 2048

/* The parts of url that are checked, or ERR_INPUT. Caller curl_free()s. */
static int
url_parts(const struct webhook_url_opts *o, const char *url, char **host,
	  char **port, struct err *e)
{
	char *scheme = NULL, *user = NULL;
	CURLU *u = curl_url();
	int rc = 0;

	*host = *port = NULL;
	if (u == NULL)
		fatal("out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) !=
		CURLUE_OK) {
		rc = err_set(e, ERR_INPUT, "url is not a valid URL");
		goto out;
	}
	if (strcmp(scheme, "https") != 0 &&
	    !(o->allow_http && strcmp(scheme, "http") == 0)) {
		rc = err_set(e, ERR_INPUT,
			     o->allow_http ? "url must be http or https"
					   : "url must be https "
					     "(webhook_allow_http is off)");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		rc = err_set(e, ERR_INPUT,
			     "url must not hold a user name or password");
		goto out;
	}
	{
		char *h = *host;
		size_t n = strlen(h);

		if (h[0] == '[' && n > 2 && h[n - 1] == ']') {
			memmove(h, h + 1, n - 2);
			h[n - 2] = '\0';
		}
	}
out:
	if (rc != 0) {
		curl_free(*host);
		curl_free(*port);
		*host = *port = NULL;
	}
	curl_free(scheme);
	curl_free(user);
	curl_url_cleanup(u);
	return rc;
}

int
webhook_url_check(const struct webhook_url_opts *o, const char *url,
		  struct err *e)
{
	struct addrinfo hints = {0}, *ai = NULL;
	char *host = NULL, *port = NULL;
	int rc, grc;

	if (strlen(url) > URL_MAX)
		return err_set(e, ERR_INPUT, "url is longer than %d bytes",
			       URL_MAX);
	if ((rc = url_parts(o, url, &host, &port, e)) != 0)
		return rc;
	hints.ai_socktype = SOCK_STREAM;
	grc = getaddrinfo(host, port, &hints, &ai);
	if (grc != 0) {
		rc = err_set(e, ERR_INPUT, "could not resolve \"%s\": %s", host,
			     gai_strerror(grc));
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
	curl_free(host);
	curl_free(port);
	return rc;
}

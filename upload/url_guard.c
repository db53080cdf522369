/*
 * url_guard.c: where a URL source may be downloaded from.
 *
 * At submission and when a job opens its source, the URL must be http or
 * https and its host resolve only to addresses url_addr.c allows. That
 * proves nothing about the addresses the download connects to later (a
 * name may resolve to another one by then: DNS rebinding), nor about a
 * redirect's: every connection is checked again as curl opens its socket.
 * Through upload_url_proxy the proxy resolves and connects instead, and
 * each request's URL is checked before it is sent (a literal address in
 * it; a name is the proxy's to judge). No proxy is ever taken from the
 * environment. Redirects are followed, at most UPLOAD_URL_MAX_REDIRECTS,
 * never from https to http.
 *
 * Interface: upload_url_split, upload_url_parts_free (webhooks/ too);
 * upload__url_check; upload__url_guard_setopt (source_url.c).
 */
#include "upload/source_int.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/*
 * The refusal of a connection to an address of class cls in range: the
 * setting that opens it for a private one, "always" for the others.
 */
static int
refuse(struct err *e, const char *what, enum upload_addr_class cls,
       const char *range)
{
	if (cls == UPLOAD_ADDR_PRIVATE)
		return err_set(e, ERR_FORBIDDEN,
			       "%s %s, a loopback or private address "
			       "(upload_allow_private_urls is off)",
			       what, range);
	return err_set(e, ERR_FORBIDDEN,
		       "%s %s, a special-purpose address (always refused)",
		       what, range);
}

int
upload_url_split(const char *url, struct upload_url_parts *out, struct err *e)
{
	char *scheme = NULL, *user = NULL;
	CURLU *u = curl_url();
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (u == NULL)
		fatal("out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &out->host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &out->port, CURLU_DEFAULT_PORT) !=
		CURLUE_OK) {
		rc = err_set(e, ERR_INPUT, "url is not a valid URL");
		goto out;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		rc = err_set(e, ERR_INPUT, "url must be http or https");
		goto out;
	}
	out->https = strcmp(scheme, "https") == 0;
	out->user = curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK;
	{
		char *h = out->host;
		size_t n = strlen(h);

		if (h[0] == '[' && n > 2 && h[n - 1] == ']') {
			memmove(h, h + 1, n - 2);
			h[n - 2] = '\0';
		}
	}
out:
	if (rc != 0)
		upload_url_parts_free(out);
	curl_free(scheme);
	curl_free(user);
	curl_url_cleanup(u);
	return rc;
}

void
upload_url_parts_free(struct upload_url_parts *p)
{
	curl_free(p->host);
	curl_free(p->port);
	p->host = p->port = NULL;
}

/* Whether the URL sources go through a proxy (upload_url_proxy). */
static bool
via_proxy(const struct upload_source_opts *o)
{
	return o->proxy != NULL && o->proxy[0] != '\0';
}

/*
 * Check url: http or https, and every address its host resolves to
 * allowed. The download checks again each address it connects to (see
 * open_checked): the host may resolve to another one by then. Through a
 * proxy, the proxy resolves names, and only a literal address is checked.
 */
static int
url_check(const struct upload_source_opts *o, const char *url, struct err *e)
{
	struct addrinfo hints = {0}, *ai = NULL;
	struct upload_url_parts parts;
	char *host, *port;
	int rc, grc;

	if ((rc = upload_url_split(url, &parts, e)) != 0)
		return rc;
	host = parts.host;
	port = parts.port;
	hints.ai_socktype = SOCK_STREAM;
	if (via_proxy(o))
		hints.ai_flags = AI_NUMERICHOST;
	grc = getaddrinfo(host, port, &hints, &ai);
	if (grc == EAI_NONAME && via_proxy(o))
		goto out; /* a name: the proxy's to resolve and judge */
	if (grc != 0) {
		rc = err_set(e, ERR_INPUT, "could not resolve \"%s\": %s", host,
			     gai_strerror(grc));
		goto out;
	}
	for (struct addrinfo *p = ai; p != NULL; p = p->ai_next) {
		const char *range;

		if (!upload__addr_allowed(p->ai_addr, o->allow_private_urls,
					  &range)) {
			rc = refuse(e, "url resolves to",
				    upload__addr_classify(p->ai_addr, NULL),
				    range);
			goto out;
		}
	}
out:
	if (ai != NULL)
		freeaddrinfo(ai);
	upload_url_parts_free(&parts);
	return rc;
}

int
upload__url_check(const struct upload_source_opts *o, const char *url,
		  struct err *e)
{
	return url_check(o, url, e);
}

/*
 * CURLOPT_OPENSOCKETFUNCTION: the socket for a connection to an allowed
 * address only. curl calls it for each address it tries, of the URL's host
 * and of every redirect's, after its own resolution: the address checked
 * is the one connected to, whatever the name resolved to at submission
 * (DNS rebinding). A refused address makes curl try the host's next one.
 */
static curl_socket_t
open_checked(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct upload_url_guard *g = arg;
	struct sockaddr_storage ss;
	const char *range;
	long hops = 0;
	char what[64];

	(void)purpose;
	memset(&ss, 0, sizeof(ss));
	if (a->addrlen > sizeof(ss))
		return CURL_SOCKET_BAD;
	memcpy(&ss, &a->addr, a->addrlen);
	if (upload__addr_allowed((const struct sockaddr *)&ss,
				 g->opts->allow_private_urls, &range))
		return socket(a->family, a->socktype | SOCK_CLOEXEC,
			      a->protocol);
	curl_easy_getinfo(g->h, CURLINFO_REDIRECT_COUNT, &hops);
	snprintf(what, sizeof(what), "could not download the url: %s",
		 hops > 0 ? "a redirect leads to" : "it leads to");
	refuse(&g->refusal, what,
	       upload__addr_classify((const struct sockaddr *)&ss, NULL),
	       range);
	g->refused = true;
	return CURL_SOCKET_BAD;
}

/*
 * CURLOPT_PREREQFUNCTION, through a proxy: the proxy resolves and connects,
 * so each request (the URL's, then every redirect's) is checked by its
 * URL, before it is sent: a literal address in it must be allowed.
 */
static int
prereq_checked(void *arg, char *primary_ip, char *local_ip, int primary_port,
	       int local_port)
{
	struct upload_url_guard *g = arg;
	char *url = NULL;
	struct err e;

	(void)primary_ip, (void)local_ip, (void)primary_port, (void)local_port;
	if (curl_easy_getinfo(g->h, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK ||
	    url == NULL || url_check(g->opts, url, &e) == 0)
		return CURL_PREREQFUNC_OK;
	err_set(&g->refusal, e.code, "could not download the url: %s", e.msg);
	g->refused = true;
	return CURL_PREREQFUNC_ABORT;
}

void
upload__url_guard_setopt(struct upload_url_guard *g,
			 const struct upload_source_opts *o, CURL *h,
			 const char *url)
{
	bool tls = strncasecmp(url, "https:", 6) == 0;

	memset(g, 0, sizeof(*g));
	g->opts = o;
	g->h = h;
	/* curl would take http_proxy, https_proxy, ALL_PROXY and NO_PROXY
	 * from the environment otherwise. */
	curl_easy_setopt(h, CURLOPT_PROXY, via_proxy(o) ? o->proxy : "");
	curl_easy_setopt(h, CURLOPT_NOPROXY, "");
	if (via_proxy(o)) {
		curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, prereq_checked);
		curl_easy_setopt(h, CURLOPT_PREREQDATA, g);
	} else {
		curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_checked);
		curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, g);
	}
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)UPLOAD_URL_MAX_REDIRECTS);
	/* A URL asked over https is not then fetched in the clear. */
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR,
			 tls ? "https" : "http,https");
}

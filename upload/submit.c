/*
 * submit.c: a request to upload, checked and queued (upload_submit), for
 * the HTTP API and the CLI alike.
 *
 * The checks, in order: a known provider; exactly one of path and url; the
 * way a URL is taken (streamed by vodhook, or pulled by the platform when
 * its adapter can); the source (a path confined to upload_root, a URL
 * whose host resolves to allowed addresses only, a pulled URL only
 * parsed, or resolved too where the adapter asks); the media type and
 * name; the options (upload__options_check, then the adapter's defaults);
 * a cover path confined like the source. The job is then one row of
 * uploads, and an idle worker of this process is woken.
 *
 * Interface: upload_submit; upload__url_mode, upload__pull_url_check
 * (upload/ only).
 */
#include "upload/worker_int.h"

#include "common/json.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SOURCE_CONTEXT_MAX 4096

/* The providers, quoted and joined with "or" (those whose adapter pulls
 * when pull_only), into names. */
static void
provider_names(struct buf *names, bool pull_only)
{
	const struct upload_adapter *const *all;
	size_t n;

	all = upload__adapters(&n);
	buf_init(names, 256);
	for (size_t i = 0; i < n; i++)
		if ((!pull_only || all[i]->pull != NULL) &&
		    buf_printf(names, "%s\"%s\"", names->len ? " or " : "",
			       all[i]->provider) != 0)
			break;
}

/* Refuse a pull for a provider whose platform does not pull, naming those
 * whose platform does. */
static int
pull_refused(struct err *e)
{
	struct buf names;

	provider_names(&names, true);
	err_set(e, ERR_INPUT,
		"url_upload \"platform\" is for provider %s only (the "
		"platform fetches the URL itself)",
		buf_cstr(&names));
	buf_free(&names);
	return ERR_INPUT;
}

int
upload__url_mode(const char *provider, bool is_url, const char *requested,
		 const char *setting, bool *platform, struct err *e)
{
	const struct upload_adapter *ad = upload__adapter_find(provider);
	bool pulls = ad != NULL && ad->pull != NULL;

	*platform = false;
	if (requested != NULL && strcmp(requested, "stream") != 0 &&
	    strcmp(requested, "platform") != 0)
		return err_set(e, ERR_INPUT,
			       "url_upload must be \"stream\" or \"platform\"");
	if (requested != NULL && strcmp(requested, "platform") == 0) {
		if (!pulls)
			return pull_refused(e);
		if (!is_url)
			return err_set(e, ERR_INPUT,
				       "url_upload \"platform\" needs a url "
				       "source, not a path");
		*platform = true;
		return 0;
	}
	/* The setting is the default of the URL sources of a platform that
	 * pulls only. */
	*platform = requested == NULL && pulls && is_url && setting != NULL &&
		    strcmp(setting, "platform") == 0;
	return 0;
}

int
upload__pull_url_check(const char *url, struct err *e)
{
	char *scheme = NULL, *host = NULL;
	CURLU *u;
	int rc = 0;

	if (url == NULL || url[0] == '\0')
		return err_set(e, ERR_INPUT, "url is empty");
	if (strlen(url) > UPLOAD_PULL_URL_MAX)
		return err_set(e, ERR_INPUT,
			       "url is longer than %d bytes (url_upload "
			       "\"platform\")",
			       UPLOAD_PULL_URL_MAX);
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return err_set(
			    e, ERR_INPUT,
			    "url has a space or a control character");
	if ((u = curl_url()) == NULL)
		fatal("out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    host[0] == '\0') {
		rc = err_set(e, ERR_INPUT, "url is not a valid URL");
		goto out;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		rc = err_set(e, ERR_INPUT, "url must be http or https");
		goto out;
	}
	/* The text itself goes to the platform, not curl's reading of it
	 * (which takes "http:/h/x" and "http:///h/x" too). */
	if (strncasecmp(url, scheme, strlen(scheme)) != 0 ||
	    strncmp(url + strlen(scheme), "://", 3) != 0 ||
	    url[strlen(scheme) + 3] == '/')
		rc = err_set(e, ERR_INPUT, "url is not a valid URL");
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

static void
new_uuid(char out[37])
{
	unsigned char b[16];

	if (random_bytes(b, sizeof(b)) != 0)
		fatal("could not read random bytes");
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x"
		 "%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* The last path segment of s, query and fragment left out: [*seg, *end),
 * with *dot its last '.' (NULL when it has none). */
static void
last_segment(const char *s, const char **seg, const char **dot,
	     const char **end)
{
	*end = s + strcspn(s, "?#");
	*seg = s;
	*dot = NULL;
	for (const char *p = s; p < *end; p++)
		if (*p == '/')
			*seg = p + 1;
	for (const char *p = *seg; p < *end; p++)
		if (*p == '.')
			*dot = p;
}

/* The extension of the last path segment of s, lowercased, or NULL. */
static char *
extension_of(const char *s)
{
	const char *seg, *dot, *end;
	char *x;

	last_segment(s, &seg, &dot, &end);
	if (dot == NULL || dot + 1 >= end || end - dot > 12)
		return NULL;
	x = xstrndup(dot + 1, (size_t)(end - dot - 1));
	for (char *p = x; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return x;
}

/* The base name without extension, for MediaName. */
static char *
base_name(const char *s)
{
	const char *seg, *dot, *end;

	last_segment(s, &seg, &dot, &end);
	if (dot != NULL && dot > seg)
		end = dot;
	return xstrndup(seg, (size_t)(end - seg));
}

/* The source of a request: a path resolved under the root (its size
 * known), or a URL checked for the way it is taken. */
struct submission {
	const struct upload_request *r;
	const struct upload_adapter *ad;
	struct upload_source_opts so;
	bool pull; /* the platform fetches the URL itself */
	const char *kind;
	const char *source;
	char *resolved;
	int64_t size;
	char *ext, *name;
	cJSON *opts;
	const char *media_kind;
};

static int
check_request(struct upload_service *svc, struct submission *sb, struct err *e)
{
	const struct upload_request *r = sb->r;

	if ((sb->ad = upload__adapter_find(r->provider)) == NULL) {
		struct buf names;

		provider_names(&names, false);
		err_set(e, ERR_INPUT, "provider must be %s", buf_cstr(&names));
		buf_free(&names);
		return ERR_INPUT;
	}
	if ((r->path == NULL) == (r->url == NULL))
		return err_set(e, ERR_INPUT,
			       "give exactly one of path and url");
	if (r->source_context != NULL &&
	    strlen(r->source_context) > SOURCE_CONTEXT_MAX)
		return err_set(e, ERR_INPUT, "source_context is too long");
	return upload__url_mode(r->provider, r->url != NULL, r->url_upload,
				strcmp(r->provider, "tencent") == 0
				    ? svc->c.tencent_url_upload
				    : svc->c.alibaba_url_upload,
				&sb->pull, e);
}

/* The root a request's paths must resolve under (NULL: anywhere). */
static const char *
path_root(const struct upload_service *svc, const struct upload_request *r)
{
	return r->confine ? (svc->c.root ? svc->c.root : "") : NULL;
}

static int
check_source(struct upload_service *svc, struct submission *sb, struct err *e)
{
	const struct upload_request *r = sb->r;
	int rc;

	if (r->path != NULL) {
		sb->so.root = path_root(svc, r);
		if ((rc = upload__path_check(&sb->so, r->path, &sb->resolved,
					     &sb->size, e)) != 0)
			return rc;
		sb->kind = "file";
		sb->source = sb->resolved;
		return 0;
	}
	/*
	 * A URL the platform pulls is fetched from the platform's network,
	 * not from vodhook's: the private-address refusal, which keeps
	 * callers from making vodhook fetch from its own network (SSRF), has
	 * nothing to protect there, and the host is not resolved here either
	 * (the platform resolves it).
	 */
	rc = sb->pull ? upload__pull_url_check(r->url, e)
		      : upload__url_check(&sb->so, r->url, e);
	/* Where the adapter asks for it, a pulled URL also resolves to
	 * allowed addresses only: the caller then cannot have the platform
	 * fetch what vodhook itself would refuse to. */
	if (rc == 0 && sb->pull && sb->ad->pull_checks_address)
		rc = upload__url_check(&sb->so, r->url, e);
	if (rc != 0)
		return rc;
	sb->kind = "url";
	sb->source = r->url;
	return 0;
}

/* A cover path is confined like the source, and kept resolved. */
static int
resolve_cover(struct upload_service *svc, struct submission *sb, struct err *e)
{
	const char *cover = json_get_str(sb->opts, "cover_path");
	char *resolved = NULL;
	int64_t size;
	int rc;

	if (cover == NULL)
		return 0;
	sb->so.root = path_root(svc, sb->r);
	if ((rc = upload__path_check(&sb->so, cover, &resolved, &size, e)) != 0)
		return rc;
	cJSON_DeleteItemFromObject(sb->opts, "cover_path");
	json_add_str(sb->opts, "cover_path", resolved);
	free(resolved);
	return 0;
}

/* The options: checked, normalised, completed from the settings. */
static int
check_options(struct upload_service *svc, struct submission *sb, struct err *e)
{
	const struct upload_request *r = sb->r;
	int rc;

	sb->opts =
	    r->options ? json_parse(r->options, strlen(r->options)) : NULL;
	if (sb->opts == NULL)
		sb->opts = cJSON_CreateObject();
	if (!cJSON_IsObject(sb->opts))
		return err_set(e, ERR_INPUT, "options must be a JSON object");
	if ((rc = upload__options_check(r->provider, sb->ext, sb->opts,
					&sb->media_kind, e)) != 0)
		return rc;
	if (sb->ad->options_defaults != NULL)
		sb->ad->options_defaults(&svc->c, sb->opts);
	return resolve_cover(svc, sb, e);
}

/*
 * The way a URL is taken, decided now for good and kept in the options
 * (url_upload), for a platform that pulls. A pull takes audio and video
 * only: an image's or attached media's URL is streamed unless the request
 * asked for a pull.
 */
static int
settle_url_mode(struct submission *sb, struct err *e)
{
	int rc;

	if (sb->pull && strcmp(sb->media_kind, "video") != 0) {
		if (sb->r->url_upload != NULL)
			return err_set(e, ERR_INPUT,
				       "url_upload \"platform\" takes audio "
				       "and video only (UploadMediaByURL)");
		sb->pull = false;
		if ((rc = upload__url_check(&sb->so, sb->r->url, e)) != 0)
			return rc;
	}
	for (const char *const *o = sb->ad->pull_only_options;
	     !sb->pull && o != NULL && *o != NULL; o++)
		if (json_get(sb->opts, *o) != NULL)
			return err_set(e, ERR_INPUT,
				       "%s applies to url_upload \"platform\" "
				       "only (the platform fetching a URL)",
				       *o);
	/* A cover file goes with the bytes: a pull takes cover_url. */
	if (sb->pull && json_get(sb->opts, "cover_path") != NULL)
		return err_set(e, ERR_INPUT,
			       "cover_path is for uploads of the bytes: with "
			       "url_upload \"platform\" give cover_url");
	if (strcmp(sb->kind, "url") == 0 && sb->ad->pull != NULL) {
		cJSON_DeleteItemFromObject(sb->opts, "url_upload");
		json_add_str(sb->opts, "url_upload",
			     sb->pull ? "platform" : "stream");
	}
	return 0;
}

/* The job's row, created; wakes an idle worker of this process. */
static int
queue_job(struct upload_service *svc, struct submission *sb, char **json,
	  char id[37], struct err *e)
{
	const struct upload_request *r = sb->r;
	char *opts_txt;
	int rc;

	if ((opts_txt = cJSON_PrintUnformatted(sb->opts)) == NULL)
		fatal("out of memory");
	new_uuid(id);
	rc = store_upload_create(
	    svc->pool,
	    &(struct store_upload_new){
		.id = id,
		.provider = r->provider,
		.source_kind = sb->kind,
		.source = sb->source,
		.media_name = sb->name,
		.media_type = sb->ext,
		.media_kind = sb->media_kind,
		.procedure =
		    r->procedure && r->procedure[0] ? r->procedure : NULL,
		.source_context = r->source_context,
		.options = opts_txt,
		.bytes_total = sb->size,
		.lease_owner = r->lease_owner,
		.lease_seconds = svc->c.lease_seconds,
	    },
	    json, e);
	free(opts_txt);
	if (rc == 0) {
		pthread_mutex_lock(&svc->mu);
		pthread_cond_signal(&svc->cv);
		pthread_mutex_unlock(&svc->mu);
	}
	return rc;
}

int
upload_submit(struct upload_service *svc, const struct upload_request *r,
	      char **json, char id[37], struct err *e)
{
	struct submission sb = {
	    .r = r, .so = svc->so, .size = -1, .media_kind = "video"};
	int rc;

	*json = NULL;
	id[0] = '\0';
	if ((rc = check_request(svc, &sb, e)) != 0 ||
	    (rc = check_source(svc, &sb, e)) != 0)
		goto out;
	sb.ext =
	    r->media_type ? xstrdup(r->media_type) : extension_of(sb.source);
	if (sb.ext == NULL) {
		rc = err_set(e, ERR_INPUT,
			     "media_type is needed: the source has no "
			     "extension");
		goto out;
	}
	sb.name = r->name ? xstrdup(r->name) : base_name(sb.source);
	if ((rc = check_options(svc, &sb, e)) != 0 ||
	    (rc = settle_url_mode(&sb, e)) != 0)
		goto out;
	rc = queue_job(svc, &sb, json, id, e);
out:
	if (rc != 0)
		id[0] = '\0';
	cJSON_Delete(sb.opts);
	free(sb.resolved);
	free(sb.ext);
	free(sb.name);
	return rc;
}

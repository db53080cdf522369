/*
 * options.c: the checks of a request's platform-specific fields, shared by
 * the HTTP API and the CLI: upload_submit calls upload__options_check
 * before a job is queued, so that a bad field is refused at once (400, or
 * the CLI's usage error) instead of failing the job at the platform.
 *
 * Each adapter lists the fields its platform takes (->options, a table of
 * struct upload_opt_spec: name, kind, limits); a field of another
 * platform is refused with its name. Each field is checked for its JSON
 * type and the limits of its spec. What an adapter adds beyond a field's
 * own checks (Alibaba: what an image takes) is its ->options_check.
 * Integers are kept as strings of digits so that no identifier goes
 * through a double; tags given as a JSON array are joined with commas.
 * Fields this file does not know are left alone.
 *
 * Interface: upload__options_check.
 */
#include "upload/upload_int.h"

#include "common/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The number of characters of UTF-8 text s, or -1 when it is not
 * well-formed UTF-8 or holds a control character (newline, carriage return
 * and tab allowed when multiline).
 */
static long
text_chars(const char *s, bool multiline)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p < 0x20 || *p == 0x7f) &&
		    !(multiline && (*p == '\n' || *p == '\r' || *p == '\t')))
			return -1;
	return utf8_chars(s, strlen(s));
}

/* Check one UTF-8 text value. */
static int
check_text(const char *name, const char *v, size_t max, bool multiline,
	   struct err *e)
{
	long n = text_chars(v, multiline);

	if (n < 0)
		return err_set(e, ERR_INPUT,
			       "%s must be UTF-8 text without control "
			       "characters",
			       name);
	if ((size_t)n > max)
		return err_set(e, ERR_INPUT,
			       "%s is too long: %ld characters, at most %zu",
			       name, n, max);
	return 0;
}

static int
check_name(const char *name, const char *v, size_t max, struct err *e)
{
	size_t n = strlen(v);

	if (n == 0 || n > max)
		return err_set(e, ERR_INPUT, "%s must be 1 to %zu characters",
			       name, max);
	if (strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789._-") != n)
		return err_set(e, ERR_INPUT,
			       "%s may hold only letters, digits, '.', '_' "
			       "and '-'",
			       name);
	return 0;
}

/*
 * An integer of at least min, as a JSON integer below 2^53 or a string of
 * digits up to INT64_MAX; replaced by its decimal string in opts.
 */
static int
check_int(cJSON *opts, cJSON *v, const char *name, int64_t min, struct err *e)
{
	char txt[24];
	int64_t n;

	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;

		if (!isfinite(d) || d != floor(d))
			return err_set(e, ERR_INPUT, "%s must be an integer",
				       name);
		if (!json_exact_int(d))
			return err_set(e, ERR_INPUT,
				       "%s is not below 2^53: give it as a "
				       "string of digits",
				       name);
		n = (int64_t)d;
	} else if (cJSON_IsString(v)) {
		const char *s = v->valuestring;

		if (s[0] == '\0' || strspn(s, "0123456789") != strlen(s) ||
		    parse_i64(s, 0, INT64_MAX, &n) != 0)
			return err_set(e, ERR_INPUT,
				       "%s must be a string of digits (at "
				       "most %lld)",
				       name, (long long)INT64_MAX);
	} else {
		return err_set(e, ERR_INPUT,
			       "%s must be an integer or a string of digits",
			       name);
	}
	if (n < min)
		return err_set(e, ERR_INPUT, "%s must be at least %lld", name,
			       (long long)min);
	snprintf(txt, sizeof(txt), "%lld", (long long)n);
	cJSON_ReplaceItemInObjectCaseSensitive(opts, name,
					       cJSON_CreateString(txt));
	return 0;
}

static int
check_url(const char *name, const char *v, size_t max, struct err *e)
{
	size_t n = strlen(v), scheme;

	if (strncasecmp(v, "https://", 8) == 0)
		scheme = 8;
	else if (strncasecmp(v, "http://", 7) == 0)
		scheme = 7;
	else
		return err_set(e, ERR_INPUT,
			       "%s must be an http:// or https:// URL", name);
	if (n > max)
		return err_set(e, ERR_INPUT,
			       "%s is too long: %zu bytes, at most %zu", name,
			       n, max);
	if (strcspn(v + scheme, "/?#") == 0)
		return err_set(e, ERR_INPUT, "%s has no host", name);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return err_set(e, ERR_INPUT,
				       "%s must be an encoded URL (no spaces, "
				       "control or non-ASCII characters)",
				       name);
	return 0;
}

/* One tag of n bytes at p, of at most max characters. */
static int
check_tag(const char *p, size_t n, size_t max, struct err *e)
{
	char *tag;
	int rc;

	if (n == 0)
		return err_set(e, ERR_INPUT, "tags must not hold an empty tag");
	if (n > 4 * max)
		return err_set(e, ERR_INPUT,
			       "a tag is too long: at most %zu characters",
			       max);
	tag = xstrndup(p, n);
	if (strchr(tag, ',') != NULL)
		rc = err_set(e, ERR_INPUT, "a tag must not hold a comma");
	else
		rc = check_text("a tag", tag, max, false, e);
	free(tag);
	return rc;
}

/* Tags: "a,b" or ["a","b"]; at most sp->max_items of at most sp->max
 * characters each. Replaced by the comma-separated text in opts. */
static int
check_tags(const struct upload_opt_spec *sp, cJSON *opts, cJSON *v,
	   struct err *e)
{
	struct buf joined;
	int n = 0, rc = 0;

	buf_init(&joined, sp->max_items * (4 * sp->max + 1));
	if (cJSON_IsString(v)) {
		const char *p = v->valuestring;

		for (;;) {
			size_t len = strcspn(p, ",");

			if ((size_t)++n > sp->max_items)
				break;
			if ((rc = check_tag(p, len, sp->max, e)) != 0)
				goto out;
			if (p[len] == '\0')
				break;
			p += len + 1;
		}
		if ((size_t)n <= sp->max_items &&
		    (rc = buf_puts(&joined, v->valuestring)) != 0)
			rc = err_set(e, ERR_INPUT, "tags are too long");
	} else if (cJSON_IsArray(v)) {
		const cJSON *it;

		cJSON_ArrayForEach(it, v)
		{
			if ((size_t)++n > sp->max_items)
				break;
			if (!cJSON_IsString(it)) {
				rc = err_set(e, ERR_INPUT,
					     "tags must be strings");
				goto out;
			}
			if ((rc = check_tag(it->valuestring,
					    strlen(it->valuestring), sp->max,
					    e)) != 0)
				goto out;
			if ((n > 1 && buf_putc(&joined, ',') != 0) ||
			    buf_puts(&joined, it->valuestring) != 0) {
				rc = err_set(e, ERR_INPUT, "tags are too long");
				goto out;
			}
		}
		if (n == 0)
			rc = err_set(e, ERR_INPUT, "tags must not be empty");
	} else {
		rc = err_set(e, ERR_INPUT,
			     "tags must be a string of comma-separated tags "
			     "or an array of strings");
	}
	if (rc == 0 && (size_t)n > sp->max_items)
		rc = err_set(e, ERR_INPUT, "tags: at most %zu tags",
			     sp->max_items);
	if (rc == 0)
		cJSON_ReplaceItemInObjectCaseSensitive(
		    opts, "tags", cJSON_CreateString(buf_cstr(&joined)));
out:
	buf_free(&joined);
	return rc;
}

static int
check_enum(const char *name, const char *v, const char *const *values,
	   struct err *e)
{
	struct buf list;

	for (size_t i = 0; values[i] != NULL; i++)
		if (strcmp(v, values[i]) == 0)
			return 0;
	buf_init(&list, 256);
	for (size_t i = 0; values[i] != NULL; i++)
		if (buf_printf(&list, "%s\"%s\"", i ? " or " : "", values[i]) !=
		    0)
			break;
	err_set(e, ERR_INPUT, "%s must be %s", name, buf_cstr(&list));
	buf_free(&list);
	return ERR_INPUT;
}

static int
check_one(const struct upload_opt_spec *sp, cJSON *opts, cJSON *v,
	  struct err *e)
{
	int64_t t;

	switch (sp->kind) {
	case UPLOAD_OPT_INT:
		return check_int(opts, v, sp->name, sp->min, e);
	case UPLOAD_OPT_TAGS:
		return check_tags(sp, opts, v, e);
	default:
		break;
	}
	if (!cJSON_IsString(v))
		return err_set(e, ERR_INPUT, "%s must be a string", sp->name);
	switch (sp->kind) {
	case UPLOAD_OPT_TEXT:
		return check_text(sp->name, v->valuestring, sp->max,
				  sp->multiline, e);
	case UPLOAD_OPT_NAME:
		return check_name(sp->name, v->valuestring, sp->max, e);
	case UPLOAD_OPT_URL:
		return check_url(sp->name, v->valuestring, sp->max, e);
	case UPLOAD_OPT_ENUM:
		return check_enum(sp->name, v->valuestring, sp->values, e);
	case UPLOAD_OPT_TIME:
		if (strlen(v->valuestring) > sp->max ||
		    time_parse_rfc3339(v->valuestring, &t, NULL) != 0)
			return err_set(e, ERR_INPUT,
				       "%s must be an ISO 8601 UTC time such "
				       "as 2030-01-31T12:00:00Z",
				       sp->name);
		return 0;
	default:
		return err_set(e, ERR_INTERNAL, "%s: unknown check", sp->name);
	}
}

/* Whether adapter ad (may be NULL) takes a field of that name. */
static bool
takes(const struct upload_adapter *ad, const char *name)
{
	for (const struct upload_opt_spec *sp = ad ? ad->options : NULL;
	     sp != NULL && sp->name != NULL; sp++)
		if (strcmp(sp->name, name) == 0)
			return true;
	return false;
}

int
upload__options_check(const char *provider, const char *media_type, cJSON *opts,
		      const char **media_kind, struct err *e)
{
	const struct upload_adapter *ad = upload__adapter_find(provider);
	const struct upload_adapter *const *all;
	size_t n;
	int rc;

	*media_kind = "video";
	all = upload__adapters(&n);
	for (size_t i = 0; i < n; i++) {
		for (const struct upload_opt_spec *sp = all[i]->options;
		     sp != NULL && sp->name != NULL; sp++) {
			cJSON *v = json_get(opts, sp->name);

			/* A field two platforms share is checked by the
			 * requested one's spec. */
			if (v == NULL || (all[i] != ad && takes(ad, sp->name)))
				continue;
			if (all[i] != ad)
				return err_set(
				    e, ERR_INPUT,
				    "%s is a field of provider \"%s\" only; "
				    "provider \"%s\" does not take it",
				    sp->name, all[i]->provider, provider);
			if ((rc = check_one(sp, opts, v, e)) != 0)
				return rc;
		}
	}
	if (ad == NULL || ad->options_check == NULL)
		return 0;
	return ad->options_check(media_type, opts, media_kind, e);
}

/*
 * options.c: the checks of a request's platform-specific fields, shared by
 * the HTTP API and the CLI: upload_submit calls upload__options_check
 * before a job is queued, so that a bad field is refused at once (400, or
 * the CLI's usage error) instead of failing the job at the platform.
 *
 * Tencent only: class_id, storage_region, expire_time, session_context,
 * cover_path. Alibaba only: description, cover_url, cate_id, tags,
 * workflow_id, storage_location, image_type, media_kind. A field of the
 * other platform is refused with its name. Each field is checked for its
 * JSON type and the platform's limits (Alibaba CreateUploadVideo,
 * https://www.alibabacloud.com/help/en/vod/api-createuploadvideo:
 * Description <= 1024 characters, Tags <= 16 tags of <= 32 characters,
 * CateId a Long; Tencent ApplyUpload,
 * https://www.tencentcloud.com/document/api/266/34120: SessionContext
 * <= 1000 characters). What an adapter adds (Alibaba: what an image takes)
 * is its ->options_check.
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
#include <string.h>

#define ALI_MAX_TAGS  16
#define ALI_TAG_CHARS 32

enum opt_kind {
	OPT_TEXT, /* UTF-8 text of at most max characters */
	OPT_NAME, /* an identifier or host name: [A-Za-z0-9._-] */
	OPT_INT,  /* an integer of at least min */
	OPT_URL,  /* an http(s) URL */
	OPT_TAGS, /* comma-separated text, or an array of strings */
	OPT_ENUM, /* one of values */
	OPT_TIME, /* ISO 8601 UTC date and time */
};

static const char *const image_types[] = {"default", "cover", NULL};
static const char *const media_kinds[] = {"video", "image", NULL};

static const struct opt_spec {
	const char *name;
	const char *provider; /* the one platform that takes it */
	enum opt_kind kind;
	size_t max;	/* characters (bytes for NAME and URL) */
	int64_t min;	/* OPT_INT */
	bool multiline; /* OPT_TEXT: newlines and tabs allowed */
	const char *const *values;
} specs[] = {
    {"class_id", "tencent", OPT_INT, 0, 0, false, NULL},
    {"storage_region", "tencent", OPT_NAME, 64, 0, false, NULL},
    {"expire_time", "tencent", OPT_TIME, 32, 0, false, NULL},
    {"session_context", "tencent", OPT_TEXT, 1000, 0, false, NULL},
    {"cover_path", "tencent", OPT_TEXT, 4096, 0, false, NULL},
    {"description", "alibaba", OPT_TEXT, 1024, 0, true, NULL},
    {"cover_url", "alibaba", OPT_URL, 2048, 0, false, NULL},
    {"cate_id", "alibaba", OPT_INT, 0, 1, false, NULL},
    {"tags", "alibaba", OPT_TAGS, ALI_TAG_CHARS, 0, false, NULL},
    {"workflow_id", "alibaba", OPT_NAME, 128, 0, false, NULL},
    {"storage_location", "alibaba", OPT_NAME, 255, 0, false, NULL},
    {"image_type", "alibaba", OPT_ENUM, 0, 0, false, image_types},
    {"media_kind", "alibaba", OPT_ENUM, 0, 0, false, media_kinds},
};

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

/* One tag of n bytes at p. */
static int
check_tag(const char *p, size_t n, struct err *e)
{
	char tag[4 * ALI_TAG_CHARS + 1];

	if (n == 0)
		return err_set(e, ERR_INPUT, "tags must not hold an empty tag");
	if (n >= sizeof(tag))
		return err_set(e, ERR_INPUT,
			       "a tag is too long: at most %d characters",
			       ALI_TAG_CHARS);
	memcpy(tag, p, n);
	tag[n] = '\0';
	if (strchr(tag, ',') != NULL)
		return err_set(e, ERR_INPUT, "a tag must not hold a comma");
	return check_text("a tag", tag, ALI_TAG_CHARS, false, e);
}

/* Tags: "a,b" or ["a","b"]; at most 16 of at most 32 characters each.
 * Replaced by the comma-separated text in opts. */
static int
check_tags(cJSON *opts, cJSON *v, struct err *e)
{
	struct buf joined;
	int n = 0, rc = 0;

	buf_init(&joined, ALI_MAX_TAGS * (4 * ALI_TAG_CHARS + 1));
	if (cJSON_IsString(v)) {
		const char *p = v->valuestring;

		for (;;) {
			size_t len = strcspn(p, ",");

			if (++n > ALI_MAX_TAGS)
				break;
			if ((rc = check_tag(p, len, e)) != 0)
				goto out;
			if (p[len] == '\0')
				break;
			p += len + 1;
		}
		if (n <= ALI_MAX_TAGS &&
		    (rc = buf_puts(&joined, v->valuestring)) != 0)
			rc = err_set(e, ERR_INPUT, "tags are too long");
	} else if (cJSON_IsArray(v)) {
		const cJSON *it;

		cJSON_ArrayForEach(it, v)
		{
			if (++n > ALI_MAX_TAGS)
				break;
			if (!cJSON_IsString(it)) {
				rc = err_set(e, ERR_INPUT,
					     "tags must be strings");
				goto out;
			}
			if ((rc = check_tag(it->valuestring,
					    strlen(it->valuestring), e)) != 0)
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
	if (rc == 0 && n > ALI_MAX_TAGS)
		rc = err_set(e, ERR_INPUT, "tags: at most %d tags",
			     ALI_MAX_TAGS);
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
check_one(const struct opt_spec *sp, cJSON *opts, cJSON *v, struct err *e)
{
	int64_t t;

	switch (sp->kind) {
	case OPT_INT:
		return check_int(opts, v, sp->name, sp->min, e);
	case OPT_TAGS:
		return check_tags(opts, v, e);
	default:
		break;
	}
	if (!cJSON_IsString(v))
		return err_set(e, ERR_INPUT, "%s must be a string", sp->name);
	switch (sp->kind) {
	case OPT_TEXT:
		return check_text(sp->name, v->valuestring, sp->max,
				  sp->multiline, e);
	case OPT_NAME:
		return check_name(sp->name, v->valuestring, sp->max, e);
	case OPT_URL:
		return check_url(sp->name, v->valuestring, sp->max, e);
	case OPT_ENUM:
		return check_enum(sp->name, v->valuestring, sp->values, e);
	case OPT_TIME:
		if (strlen(v->valuestring) > sp->max ||
		    cloud_time_parse_iso8601(v->valuestring, &t) != 0)
			return err_set(e, ERR_INPUT,
				       "%s must be an ISO 8601 UTC time such "
				       "as 2030-01-31T12:00:00Z",
				       sp->name);
		return 0;
	default:
		return err_set(e, ERR_INTERNAL, "%s: unknown check", sp->name);
	}
}

int
upload__options_check(const char *provider, const char *media_type, cJSON *opts,
		      const char **media_kind, struct err *e)
{
	const struct upload_adapter *ad = upload__adapter_find(provider);
	int rc;

	*media_kind = "video";
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		cJSON *v = json_get(opts, specs[i].name);

		if (v == NULL)
			continue;
		if (strcmp(provider, specs[i].provider) != 0)
			return err_set(e, ERR_INPUT,
				       "%s is a field of provider \"%s\" only; "
				       "provider \"%s\" does not take it",
				       specs[i].name, specs[i].provider,
				       provider);
		if ((rc = check_one(&specs[i], opts, v, e)) != 0)
			return rc;
	}
	if (ad == NULL || ad->options_check == NULL)
		return 0;
	return ad->options_check(media_type, opts, media_kind, e);
}

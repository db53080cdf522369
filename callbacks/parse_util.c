/*
 * parse_util.c: helpers shared by the Tencent and Alibaba parsers: capped
 * string copies, identifiers that never pass through a double, dedup keys,
 * timestamps and UUIDs.
 *
 * Interface (parse_int.h): cb__get_id, cb__id_value, cb__get_text,
 * cb__take_deleted,
 * cb__text_value, cb__set_text, cb__check_type, cb__dedup_printf,
 * cb__dedup_hash, cb__uuid_ok, cb__raw_number,
 * cb__streq_nocase.
 */
#include "callbacks/parse_int.h"
#include "common/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Index just past the string that opens at raw[i] == '"', or len. */
static size_t
skip_string(const char *raw, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (raw[i] == '\\')
			i++;
		else if (raw[i] == '"')
			return i + 1;
	}
	return len;
}

static size_t
skip_ws(const char *raw, size_t len, size_t i)
{
	while (i < len && is_ws(raw[i]))
		i++;
	return i;
}

/* Index just past the number or literal token at raw[i]. */
static size_t
skip_token(const char *raw, size_t len, size_t i)
{
	while (i < len && !is_ws(raw[i]) && raw[i] != ',' && raw[i] != ']' &&
	       raw[i] != '}' && raw[i] != ':')
		i++;
	return i;
}

/*
 * Weigh one number token as a candidate: plain digits only, fits out, and
 * parses to value. Returns 1 when it matches, 0 when not, ERR_CONFLICT when
 * it matches but differs from an earlier match.
 */
static int
consider(const char *tok, size_t n, double value, char *out, size_t outsz,
	 bool *found)
{
	char tmp[64];

	if (n == 0 || n >= outsz || n >= sizeof(tmp))
		return 0;
	for (size_t k = 0; k < n; k++)
		if (!is_digit(tok[k]))
			return 0;
	memcpy(tmp, tok, n);
	tmp[n] = '\0';
	if (strtod(tmp, NULL) != value)
		return 0;
	if (*found && strcmp(out, tmp) != 0)
		return ERR_CONFLICT;
	memcpy(out, tmp, n + 1);
	*found = true;
	return 1;
}

/*
 * cJSON stores every number as a double, so an id such as
 * 5285890784246869930 (above 2^53) comes out of it rounded. This scanner
 * walks the raw bytes once, skipping string contents, and looks at the
 * tokens that follow the key "name" (or the elements of the flat array that
 * follows it). It is linear in len and allocates nothing. A key written
 * with escapes is not recognized, which only means "not found".
 */
int
cb__raw_number(const char *raw, size_t len, const char *name, int index,
	       double value, char *out, size_t outsz)
{
	size_t nlen = strlen(name), i = 0;
	bool found = false;
	int rc;

	while (i < len) {
		size_t start, end, k;

		if (raw[i] != '"') {
			i++;
			continue;
		}
		start = i + 1;
		end = skip_string(raw, len, i);
		i = end;
		if (end - start != nlen + 1 || memcmp(raw + start, name, nlen))
			continue;
		k = skip_ws(raw, len, end);
		if (k >= len || raw[k] != ':')
			continue;
		k = skip_ws(raw, len, k + 1);
		if (k >= len)
			break;
		if (index < 0) {
			size_t t = skip_token(raw, len, k);

			rc =
			    consider(raw + k, t - k, value, out, outsz, &found);
			if (rc < 0)
				return rc;
			continue;
		}
		if (raw[k] != '[')
			continue;
		/* A flat array: count elements up to index. */
		k++;
		for (int pos = 0; k < len; pos++) {
			size_t t;

			k = skip_ws(raw, len, k);
			if (k >= len || raw[k] == ']' || raw[k] == '{' ||
			    raw[k] == '[')
				break;
			if (raw[k] == '"') {
				t = skip_string(raw, len, k);
			} else {
				t = skip_token(raw, len, k);
				if (pos == index) {
					rc = consider(raw + k, t - k, value,
						      out, outsz, &found);
					if (rc < 0)
						return rc;
				}
			}
			k = skip_ws(raw, len, t);
			if (k >= len || raw[k] != ',')
				break;
			k++;
		}
	}
	return found ? 0 : ERR_NOTFOUND;
}

static int
check_id(const char *s, const char *name, struct err *e)
{
	size_t n = strlen(s);

	if (n > CB_ID_MAX)
		return err_set(e, ERR_INPUT,
			       "invalid \"%s\": longer than %d characters",
			       name, CB_ID_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return err_set(e, ERR_INPUT,
				       "invalid \"%s\": control character",
				       name);
	return 0;
}

int
cb__id_value(const cJSON *item, const char *name, int index,
	     const struct cb_src *src, char **out, struct err *e)
{
	char digits[CB_ID_MAX + 1];
	double d;
	int rc;

	if (*out != NULL || item == NULL || cJSON_IsNull(item))
		return 0;
	if (cJSON_IsString(item)) {
		if (item->valuestring[0] == '\0')
			return 0;
		if ((rc = check_id(item->valuestring, name, e)) != 0)
			return rc;
		*out = xstrdup(item->valuestring);
		return 0;
	}
	if (!cJSON_IsNumber(item))
		return err_set(e, ERR_INPUT,
			       "invalid \"%s\": neither a string nor a number",
			       name);
	d = item->valuedouble;
	if (!isfinite(d) || d < 0 || d != floor(d))
		return err_set(e, ERR_INPUT,
			       "invalid \"%s\": not a non-negative integer",
			       name);
	/* Never trust the double: take the digits as they were sent. */
	if (src != NULL && src->raw != NULL) {
		rc = cb__raw_number(src->raw, src->raw_len, name, index, d,
				    digits, sizeof(digits));
		if (rc == 0) {
			*out = xstrdup(digits);
			return 0;
		}
		if (rc == ERR_CONFLICT)
			return err_set(e, ERR_INPUT,
				       "ambiguous numeric \"%s\": several "
				       "values round to the same double",
				       name);
	}
	/* Without the raw digits only exactly representable values pass. */
	if (!json_exact_int(d))
		return err_set(e, ERR_INPUT,
			       "numeric \"%s\" exceeds 2^53 and its digits "
			       "could not be recovered",
			       name);
	snprintf(digits, sizeof(digits), "%lld", (long long)d);
	*out = xstrdup(digits);
	return 0;
}

int
cb__get_id(const cJSON *obj, const char *name, const struct cb_src *src,
	   char **out, struct err *e)
{
	return cb__id_value(json_get(obj, name), name, -1, src, out, e);
}

int
cb__set_text(char **out, const char *s, size_t max, const char *what,
	     struct err *e)
{
	if (s == NULL || s[0] == '\0' || *out != NULL)
		return 0;
	if (strlen(s) > max)
		return err_set(e, ERR_INPUT,
			       "invalid \"%s\": longer than %zu bytes", what,
			       max);
	*out = xstrdup(s);
	return 0;
}

int
cb__text_value(const cJSON *it, const char *name, size_t max, char **out,
	       struct err *e)
{
	char num[32];

	if (*out != NULL || it == NULL)
		return 0;
	if (cJSON_IsString(it))
		return cb__set_text(out, it->valuestring, max, name, e);
	if (cJSON_IsNumber(it) && json_exact_int(it->valuedouble)) {
		snprintf(num, sizeof(num), "%lld", (long long)it->valuedouble);
		return cb__set_text(out, num, max, name, e);
	}
	return 0;
}

int
cb__get_text(const cJSON *obj, const char *name, size_t max, char **out,
	     struct err *e)
{
	return cb__text_value(json_get(obj, name), name, max, out, e);
}

int
cb__check_type(const char *type, struct err *e)
{
	size_t n = strlen(type);

	if (n == 0 || n > CB_ID_MAX)
		return err_set(e, ERR_INPUT,
			       "invalid event type: empty or longer than %d "
			       "characters",
			       CB_ID_MAX);
	for (size_t i = 0; i < n; i++)
		if (type[i] < 0x21 || type[i] > 0x7e)
			return err_set(e, ERR_INPUT,
				       "invalid event type: not printable "
				       "ASCII");
	return 0;
}

int
cb__dedup_printf(struct vod_event *ev, struct err *e, const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	int rc;

	buf_init(&b, CB_DEDUP_KEY_MAX);
	va_start(ap, fmt);
	rc = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc != 0)
		return err_set(e, ERR_INPUT, "dedup key longer than %d bytes",
			       CB_DEDUP_KEY_MAX);
	free(ev->dedup_key);
	ev->dedup_key = buf_take(&b, NULL);
	return 0;
}

int
cb__dedup_hash(struct vod_event *ev, const char *type, const void *p, size_t n,
	       struct err *e)
{
	char hex[65];

	sha256_hex(p, n, hex);
	return cb__dedup_printf(ev, e, "%s:sha256:%s", type, hex);
}

bool
cb__uuid_ok(const char *s, size_t n)
{
	if (n < 36)
		return false;
	for (int i = 0; i < 36; i++) {
		char c = s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
		} else if (!is_digit(c) && !(c >= 'a' && c <= 'f')) {
			return false;
		}
	}
	return true;
}

bool
cb__streq_nocase(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return false;
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		char x = *a, y = *b;

		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return *a == *b;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
cb__take_deleted(struct vod_event *ev, char **ids, size_t n, struct err *e)
{
	size_t k = 0;

	qsort(ids, n, sizeof(*ids), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (k > 0 && strcmp(ids[i], ids[k - 1]) == 0)
			free(ids[i]);
		else
			ids[k++] = ids[i];
	}
	if (k > CB_DELETED_MAX) {
		for (size_t i = 0; i < k; i++)
			free(ids[i]);
		free(ids);
		return err_set(e, ERR_INPUT,
			       "a deletion event names more than %d media",
			       CB_DELETED_MAX);
	}
	ev->deleted_ids = ids;
	ev->n_deleted = k;
	return 0;
}

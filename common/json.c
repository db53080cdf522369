/*
 * json.c: helpers for reading untrusted JSON with cJSON.
 */
#include "common/json.h"
#include "common/common.h"

#include <math.h>
#include <string.h>

cJSON *
json_get(const cJSON *obj, const char *name)
{
	cJSON *it;

	if (obj == NULL || !cJSON_IsObject(obj))
		return NULL;
	it = cJSON_GetObjectItemCaseSensitive(obj, name);
	if (it == NULL || cJSON_IsNull(it))
		return NULL;
	return it;
}

const char *
json_get_str(const cJSON *obj, const char *name)
{
	cJSON *it = json_get(obj, name);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

bool
json_get_i64(const cJSON *obj, const char *name, int64_t *out)
{
	cJSON *it = json_get(obj, name);

	if (cJSON_IsNumber(it)) {
		double d = it->valuedouble;

		if (!json_exact_int(d))
			return false;
		*out = (int64_t)d;
		return true;
	}
	if (cJSON_IsString(it))
		return parse_i64(it->valuestring, INT64_MIN, INT64_MAX, out) ==
		       0;
	return false;
}

bool
json_exact_int(double d)
{
	return isfinite(d) && d == floor(d) && fabs(d) < JSON_EXACT_LIMIT;
}

cJSON *
json_parse(const char *p, size_t len)
{
	const char *end = NULL;
	cJSON *doc = cJSON_ParseWithLengthOpts(p, len, &end, false);

	if (doc == NULL)
		return NULL;
	/* Only whitespace may follow the value. */
	for (; end < p + len; end++) {
		if (*end != ' ' && *end != '\t' && *end != '\r' &&
		    *end != '\n' && *end != '\0') {
			cJSON_Delete(doc);
			return NULL;
		}
	}
	return doc;
}

void
json_add_str(cJSON *obj, const char *name, const char *s)
{
	if (s != NULL)
		cJSON_AddStringToObject(obj, name, s);
	else
		cJSON_AddNullToObject(obj, name);
}

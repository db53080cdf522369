/*
 * json.h: small helpers around cJSON for reading untrusted documents.
 *
 * cJSON keeps every number as a double, so an integer above 2^53 loses digits.
 * Identifiers are therefore read only through json_get_str (strings), and
 * json_get_i64 refuses numbers that a double cannot represent exactly.
 */
#ifndef VODHOOK_COMMON_JSON_H
#define VODHOOK_COMMON_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

/* Member name of obj, matched case-sensitively; NULL if absent or null. */
cJSON *json_get(const cJSON *obj, const char *name);
/* String member; NULL when absent, null or not a string. Borrowed. */
const char *json_get_str(const cJSON *obj, const char *name);
/*
 * Integer member, given as a JSON number or a decimal string ("123").
 * false when absent, null, fractional, outside +-2^53 (for numbers) or not
 * an integer.
 */
bool json_get_i64(const cJSON *obj, const char *name, int64_t *out);
/* Integers a double holds exactly: |x| < 2^53. */
#define JSON_EXACT_LIMIT 9007199254740992.0
/* True when d is an integer that cJSON read without losing digits. */
bool json_exact_int(double d);
/* Parse a document of len bytes; NULL when malformed. Caller cJSON_Deletes. */
cJSON *json_parse(const char *p, size_t len);
/* Add a string member, or null when s is NULL. */
void json_add_str(cJSON *obj, const char *name, const char *s);

#endif

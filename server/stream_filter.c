/*
 * stream_filter.c: the pure parts of GET /v1/stream: a stream's filter,
 * set from the query and matched against a change, and the Server-Sent
 * Events framing
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html).
 *
 * Interface: stream_filter_set, stream_filter_store, stream_change_parse,
 * stream_filter_match, sse_frame.
 */
#include "server/stream.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* The largest payload PostgreSQL's NOTIFY accepts. */
#define PAYLOAD_MAX 8000

/* Whether s is a canonical UUID (8-4-4-4-12 hex digits). */
static bool
is_uuid(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-'
			 : strchr("0123456789abcdefABCDEF", s[i]) == NULL ||
			       s[i] == '\0')
			return false;
	}
	return true;
}

/* A file id: printable ASCII without blanks, as the platforms issue. */
static bool
is_file_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > STREAM_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f)
			return false;
	return true;
}

int
stream_filter_set(struct stream_filter *f, const char *name, const char *value,
		  struct err *e)
{
	if (value[0] == '\0')
		return 0;
	if (strcmp(name, "provider") == 0) {
		if (strcmp(value, "tencent") != 0 &&
		    strcmp(value, "alibaba") != 0)
			return err_set(e, ERR_INPUT,
				       "provider must be tencent or alibaba");
		snprintf(f->provider, sizeof(f->provider), "%s", value);
	} else if (strcmp(name, "kind") == 0) {
		if (strcmp(value, "media") != 0 && strcmp(value, "upload") != 0)
			return err_set(e, ERR_INPUT,
				       "kind must be media or upload");
		snprintf(f->kind, sizeof(f->kind), "%s", value);
	} else if (strcmp(name, "upload_id") == 0) {
		if (!is_uuid(value))
			return err_set(e, ERR_INPUT,
				       "upload_id must be a UUID");
		/* PostgreSQL writes a uuid in lower case. */
		for (int i = 0; i < 36; i++)
			f->upload_id[i] =
			    (char)tolower((unsigned char)value[i]);
		f->upload_id[36] = '\0';
	} else if (strcmp(name, "file_id") == 0) {
		if (!is_file_id(value))
			return err_set(e, ERR_INPUT,
				       "file_id must be 1 to %d printable "
				       "characters without blanks",
				       STREAM_ID_MAX);
		snprintf(f->file_id, sizeof(f->file_id), "%s", value);
	} else {
		return err_set(e, ERR_INPUT, "unknown filter %s", name);
	}
	return 0;
}

static const char *
or_null(const char *s)
{
	return s[0] ? s : NULL;
}

void
stream_filter_store(const struct stream_filter *f, struct change_filter *out)
{
	out->provider = or_null(f->provider);
	out->file_id = or_null(f->file_id);
	out->upload_id = or_null(f->upload_id);
	out->kind = or_null(f->kind);
}

/* Copy string member name of o into out (n bytes); "" when it is null,
 * absent or does not fit. */
static void
copy_member(const cJSON *o, const char *name, char *out, size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	out[0] = '\0';
	if (cJSON_IsString(v) && strlen(v->valuestring) < n)
		memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
}

int
stream_change_parse(const char *payload, struct stream_change *c)
{
	size_t n = strnlen(payload, PAYLOAD_MAX + 1);
	cJSON *doc;

	memset(c, 0, sizeof(*c));
	if (n > PAYLOAD_MAX)
		return ERR_INPUT;
	doc = cJSON_ParseWithLength(payload, n);
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return ERR_INPUT;
	}
	copy_member(doc, "kind", c->kind, sizeof(c->kind));
	copy_member(doc, "provider", c->provider, sizeof(c->provider));
	copy_member(doc, "upload_id", c->upload_id, sizeof(c->upload_id));
	copy_member(doc, "file_id", c->file_id, sizeof(c->file_id));
	cJSON_Delete(doc);
	if (strcmp(c->kind, "media") != 0 && strcmp(c->kind, "upload") != 0)
		return ERR_INPUT;
	return 0;
}

/* A filter's value passes when unset or equal. */
static bool
passes(const char *want, const char *have)
{
	return want[0] == '\0' || strcmp(want, have) == 0;
}

bool
stream_filter_match(const struct stream_filter *f,
		    const struct stream_change *c)
{
	return passes(f->kind, c->kind) && passes(f->provider, c->provider) &&
	       passes(f->upload_id, c->upload_id) &&
	       passes(f->file_id, c->file_id);
}

int
sse_frame(struct buf *out, const char *name, const char *data)
{
	if (name[0] == '\0' ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz_") != strlen(name))
		return ERR_INPUT;
	if (strpbrk(data, "\r\n") != NULL)
		return ERR_INPUT;
	return buf_printf(out, "event: %s\ndata: %s\n\n", name, data);
}

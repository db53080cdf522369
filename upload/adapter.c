/*
 * adapter.c: the table of platform adapters and the helpers the adapters
 * call back into (their target, their session document).
 *
 * Interface: upload__adapter_find, upload__adapters, upload__target_init,
 * upload__target_cleanup, upload__session_doc, upload__session_text,
 * upload__session_parse (upload/ only).
 */
#include "upload/upload_int.h"

#include "common/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct upload_adapter *const adapters[] = {
    &upload__tencent_adapter,
    &upload__alibaba_adapter,
};

const struct upload_adapter *
upload__adapter_find(const char *provider)
{
	if (provider == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(adapters) / sizeof(adapters[0]); i++)
		if (strcmp(provider, adapters[i]->provider) == 0)
			return adapters[i];
	return NULL;
}

const struct upload_adapter *const *
upload__adapters(size_t *n)
{
	*n = sizeof(adapters) / sizeof(adapters[0]);
	return adapters;
}

void
upload__target_init(struct upload_target *t, const char *scheme,
		    const char *host, const char *key)
{
	size_t n = strlen(scheme) + strlen(host) + 4;

	t->base_url = xmalloc(n);
	snprintf(t->base_url, n, "%s://%s", scheme, host);
	t->host = xstrdup(host);
	t->key = xstrdup(key[0] == '/' ? key + 1 : key);
}

void
upload__target_cleanup(struct upload_target *t)
{
	free(t->base_url);
	free(t->host);
	free(t->key);
	t->base_url = t->host = t->key = NULL;
}

struct cJSON *
upload__session_doc(const char *provider)
{
	cJSON *doc = cJSON_CreateObject();

	if (doc == NULL)
		fatal("out of memory");
	json_add_str(doc, "provider", provider);
	return doc;
}

char *
upload__session_text(cJSON *doc, const struct upload_session *s)
{
	char *txt;

	cJSON_AddNumberToObject(doc, "expires_at", (double)s->expires_at);
	txt = cJSON_PrintUnformatted(doc); /* malloc: the caller free()s */
	cJSON_Delete(doc);
	if (txt == NULL)
		fatal("out of memory");
	return txt;
}

cJSON *
upload__session_parse(const char *json, int64_t *expires_at, struct err *e)
{
	cJSON *doc = json_parse(json, strlen(json));

	*expires_at = 0;
	if (doc == NULL) {
		err_set(e, ERR_INPUT, "stored session is not JSON");
		return NULL;
	}
	json_get_i64(doc, "expires_at", expires_at);
	return doc;
}

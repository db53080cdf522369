/*
 * fuzz_parse_tencent.c: libFuzzer target for the Tencent callback parser:
 * push bodies (cb_parse_tencent) and, when the input is a JSON object, the
 * PullEvents element form (cb_parse_tencent_json). Checks the invariants a
 * successful parse promises.
 */
#include "callbacks/callbacks.h"
#include "common/json.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct vod_event *ev)
{
	if (ev->provider != VOD_TENCENT || ev->event_type == NULL ||
	    ev->dedup_key == NULL || strlen(ev->dedup_key) > CB_DEDUP_KEY_MAX ||
	    (ev->file_id != NULL && strlen(ev->file_id) > CB_ID_MAX) ||
	    (ev->upload_id != NULL && strlen(ev->upload_id) != 36) ||
	    (unsigned)ev->effect > EFFECT_DELETED)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct vod_event ev;
	cJSON *doc;

	vod_event_init(&ev);
	if (cb_parse_tencent(body, size, &ev, NULL) == 0)
		check(&ev);
	vod_event_cleanup(&ev);
	doc = json_parse(body, size);
	if (doc != NULL) {
		if (cb_parse_tencent_json(doc, &ev, NULL) == 0)
			check(&ev);
		vod_event_cleanup(&ev);
		cJSON_Delete(doc);
	}
	return 0;
}

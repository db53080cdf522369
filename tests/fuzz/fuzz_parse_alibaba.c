/*
 * fuzz_parse_alibaba.c: libFuzzer target for the Alibaba callback parser.
 * Checks the invariants a successful parse promises.
 */
#include "callbacks/callbacks.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vod_event ev;

	vod_event_init(&ev);
	if (cb_parse_alibaba((const char *)data, size, &ev, NULL) == 0) {
		if (ev.provider != VOD_ALIBABA || ev.event_type == NULL ||
		    ev.dedup_key == NULL ||
		    strlen(ev.dedup_key) > CB_DEDUP_KEY_MAX ||
		    (ev.file_id != NULL && strlen(ev.file_id) > CB_ID_MAX) ||
		    (ev.upload_id != NULL && strlen(ev.upload_id) != 36) ||
		    (unsigned)ev.effect > EFFECT_DELETED)
			abort();
	}
	vod_event_cleanup(&ev);
	return 0;
}

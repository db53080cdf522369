/*
 * event.c: struct vod_event lifetime and names.
 */
#include "callbacks/callbacks.h"

#include <stdlib.h>
#include <string.h>

void
vod_event_init(struct vod_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->size = -1;
	ev->processing_follows = -1;
}

void
vod_event_cleanup(struct vod_event *ev)
{
	char **fields[] = {&ev->event_type,
			   &ev->dedup_key,
			   &ev->file_id,
			   &ev->task_id,
			   &ev->status,
			   &ev->error_code,
			   &ev->error_message,
			   &ev->media_url,
			   &ev->source_context,
			   &ev->session_context,
			   &ev->procedure_task_id,
			   &ev->upload_id};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		free(*fields[i]);
		*fields[i] = NULL;
	}
	for (size_t i = 0; i < ev->n_deleted; i++)
		free(ev->deleted_ids[i]);
	free(ev->deleted_ids);
	vod_event_init(ev);
}

const char *
vod_provider_name(enum vod_provider p)
{
	return p == VOD_TENCENT	  ? "tencent"
	       : p == VOD_ALIBABA ? "alibaba"
				  : "?";
}

const char *
vod_via_name(enum vod_via v)
{
	static const char *const names[] = {"push", "pull", "spool",
					    "reconcile"};

	return (unsigned)v < 4 ? names[v] : "?";
}

/*
 * delete.c: asking a platform to delete a media, for DELETE
 * /v1/media/{provider}/{file_id} and "vodhook delete".
 *
 * The platform is asked (Tencent DeleteMedia; Alibaba DeleteVideo,
 * DeleteImage for an image, DeleteAttachedMedia for an attached media) and its
 * answer is recorded on the media record (delete_requested_at, and the refusal
 * if any). The record moves to deleted when the platform says the media is
 * gone: its FileDeleted or DeleteMediaComplete event, or the reconciler finding
 * it no longer exists. DeleteImage and DeleteAttachedMedia are the exceptions:
 * no event follows them (DeleteMediaComplete comes from DeleteVideo only), so
 * their success deletes the record at once.
 *
 * The platform is asked in the media's own application (media.app_id:
 * Tencent SubAppId, Alibaba AppId; none: the setting's). Tencent knows a
 * FileId in its sub-application only: DeleteMedia naming another answers
 * ResourceNotFound.FileNotExist. Alibaba's DeleteVideo, DeleteImage and
 * DeleteAttachedMedia take no AppId (a VideoId is the account's), so the
 * options carry it for nothing there, but the same way.
 *
 * Interface: cb_delete_media.
 */
#include "callbacks/background.h"
#include "cloud/alibaba.h"
#include "cloud/tencent.h"

#include <stdlib.h>
#include <string.h>

/* Ask the platform; *final: its success deletes the record by itself. */
static int
ask_platform(const struct cloud_opts *o, const char *provider,
	     const char *file_id, const char *kind, bool *final, struct err *e)
{
	*final = false;
	if (strcmp(provider, "tencent") == 0)
		return cloud_tencent_delete_media(o, file_id, e);
	if (strcmp(kind, "image") == 0) {
		*final = true;
		return cloud_alibaba_delete_image(o, file_id, e);
	}
	if (strcmp(kind, "attached") == 0) {
		*final = true;
		return cloud_alibaba_delete_attached_media(o, file_id, e);
	}
	return cloud_alibaba_delete_video(o, file_id, e);
}

int
cb_delete_media(const struct cloud_opts *o, struct db_pool *pool,
		const char *provider, const char *file_id, char **json,
		bool *asked, struct err *e)
{
	char *kind = NULL, *app_id = NULL;
	const char *code = NULL;
	struct cloud_opts ao;
	bool deleted = false, final = false;
	struct err pe;
	int rc;

	*json = NULL;
	*asked = false;
	if (strcmp(provider, "tencent") != 0 &&
	    strcmp(provider, "alibaba") != 0)
		return err_set(e, ERR_NOTFOUND, "unknown provider \"%s\"",
			       provider);
	if ((rc = store_media_delete_target(pool, provider, file_id, &kind,
					    &deleted, e)) != 0)
		return rc;
	if (deleted) {
		/* Nothing to ask: the platform said so already. */
		free(kind);
		return store_media_get_json(pool, provider, file_id, 0, json,
					    e);
	}
	if ((rc = store_media_app_id(pool, provider, file_id, &app_id, e)) !=
	    0) {
		free(kind);
		return rc;
	}
	if (strcmp(provider, "tencent") == 0)
		cloud_tencent_opts_for_subapp(o, app_id, &ao);
	else
		cloud_alibaba_opts_for_app(o, app_id, &ao);
	err_clear(&pe);
	rc = ask_platform(&ao, provider, file_id, kind, &final, &pe);
	free(kind);
	free(app_id);
	*asked = true;
	if (rc != 0)
		code = pe.remote[0] ? pe.remote : err_name(rc);
	if (rc == 0)
		log_msg(LOG_INFO, "delete", "%s %s: deletion asked", provider,
			file_id);
	else
		log_msg(LOG_WARN, "delete", "%s %s: deletion refused: %s",
			provider, file_id, pe.msg);
	if (store_media_delete_requested(pool, provider, file_id, code,
					 rc != 0 ? pe.msg : NULL,
					 rc == 0 && final, json, e) != 0) {
		/* The platform's answer matters more than the bookkeeping's. */
		if (rc == 0)
			return e->code;
	}
	if (rc != 0) {
		*e = pe;
		return rc;
	}
	return 0;
}

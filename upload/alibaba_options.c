/*
 * alibaba_options.c: what an Alibaba upload request takes: the options of
 * CreateUploadVideo, CreateUploadImage and CreateUploadAttachedMedia with
 * their limits, which of the three a job goes through (media_kind, else
 * an image extension means an image), the rules of each beyond the
 * per-field checks, and the AppId default of the settings.
 *
 * Interface: upload__alibaba_options, upload__alibaba_options_check,
 * upload__alibaba_options_defaults, upload__alibaba_is_image.
 */
#include "upload/upload_int.h"

#include "common/json.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

bool
upload__alibaba_is_image(const struct upload_job *job)
{
	static const char *const exts[] = {"jpg", "jpeg", "png", "gif", NULL};
	const char *kind = json_get_str(job->options, "media_kind");

	if (kind != NULL) /* asked for explicitly */
		return strcmp(kind, "image") == 0;
	if (upload__alibaba_is_attached(job))
		return false;
	if (job->media_kind != NULL && strcmp(job->media_kind, "image") == 0)
		return true;
	for (int i = 0; exts[i] != NULL && job->media_type != NULL; i++)
		if (strcasecmp(job->media_type, exts[i]) == 0)
			return true;
	return false;
}

static const char *const image_types[] = {"default", "cover", NULL};
static const char *const media_kinds[] = {"video", "image", "attached", NULL};
static const char *const business_types[] = {"watermark", "subtitle",
					     "material", NULL};

/*
 * The request options CreateUploadVideo / CreateUploadImage take, with the
 * limits of the reference
 * (https://www.alibabacloud.com/help/en/vod/api-createuploadvideo:
 * Description at most 1024 characters, Tags at most 16 tags of at most 32
 * characters, CateId a Long), CreateUploadAttachedMedia's business_type
 * and cate_ids (alibaba_attached.c), media_kind, vodhook's choice between
 * the three, and app_id, the AppId of the application
 * (cloud_alibaba_app_check).
 */
const struct upload_opt_spec upload__alibaba_options[] = {
    {"description", UPLOAD_OPT_TEXT, 1024, 0, true, 0, NULL},
    {"cover_url", UPLOAD_OPT_URL, 2048, 0, false, 0, NULL},
    {"cate_id", UPLOAD_OPT_INT, 0, 1, false, 0, NULL},
    {"tags", UPLOAD_OPT_TAGS, 32, 0, false, 16, NULL},
    {"workflow_id", UPLOAD_OPT_NAME, 128, 0, false, 0, NULL},
    {"storage_location", UPLOAD_OPT_NAME, 255, 0, false, 0, NULL},
    {"image_type", UPLOAD_OPT_ENUM, 0, 0, false, 0, image_types},
    {"media_kind", UPLOAD_OPT_ENUM, 0, 0, false, 0, media_kinds},
    {"business_type", UPLOAD_OPT_ENUM, 0, 0, false, 0, business_types},
    {"cate_ids", UPLOAD_OPT_TEXT, 256, 0, false, 0, NULL},
    {"app_id", UPLOAD_OPT_NAME, CLOUD_APP_ID_MAX, 0, false, 0, NULL},
    {NULL, 0, 0, 0, false, 0, NULL},
};

/*
 * What an image takes (CreateUploadImage): no cover_url nor workflow_id,
 * and one of the image types; image_type applies to an image only.
 */
int
upload__alibaba_options_check(const char *media_type, cJSON *opts,
			      const char **media_kind, struct err *e)
{
	static const char *const image_exts[] = {"png", "jpg", "jpeg", "gif",
						 NULL};
	struct upload_job probe = {.media_type = (char *)(uintptr_t)media_type,
				   .options = opts};
	const char *app = json_get_str(opts, "app_id");

	if (app != NULL && cloud_alibaba_app_check(app, e) != 0)
		return ERR_INPUT;
	if (upload__alibaba_is_attached(&probe)) {
		*media_kind = "attached";
		return upload__alibaba_attached_check(media_type, opts, e);
	}
	if (json_get(opts, "business_type") != NULL ||
	    json_get(opts, "cate_ids") != NULL)
		return err_set(e, ERR_INPUT,
			       "%s applies to attached media only (media_kind "
			       "\"attached\")",
			       json_get(opts, "business_type") ? "business_type"
							       : "cate_ids");
	if (!upload__alibaba_is_image(&probe)) {
		if (json_get(opts, "image_type") != NULL)
			return err_set(e, ERR_INPUT,
				       "image_type applies to an image "
				       "only (media_kind \"image\" or "
				       "an image extension)");
		return 0;
	}
	*media_kind = "image";
	if (json_get(opts, "cover_url") != NULL ||
	    json_get(opts, "workflow_id") != NULL)
		return err_set(e, ERR_INPUT,
			       "%s does not apply to an image "
			       "(CreateUploadImage has no such parameter)",
			       json_get(opts, "cover_url") ? "cover_url"
							   : "workflow_id");
	for (size_t i = 0; image_exts[i] != NULL; i++)
		if (strcasecmp(media_type, image_exts[i]) == 0)
			return 0;
	return err_set(e, ERR_INPUT,
		       "an image must be png, jpg, jpeg or gif, not \"%s\"",
		       media_type);
}

/* The AppId of the settings, when the request names none: the upload
 * keeps the application it was made in. */
void
upload__alibaba_options_defaults(const struct upload_config *c, cJSON *opts)
{
	const char *app = c->cloud != NULL ? c->cloud->alibaba_app_id : NULL;

	if (json_get_str(opts, "app_id") == NULL && app != NULL &&
	    app[0] != '\0')
		json_add_str(opts, "app_id", app);
}

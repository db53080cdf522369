/*
 * alibaba_attached.c: Alibaba auxiliary media (watermarks, subtitles,
 * materials), the job option media_kind "attached": what such a job takes
 * and its CreateUploadAttachedMedia call. The bytes then go to OSS like a
 * video's, through the same engine, and the MediaId names the media record
 * at once, as a VideoId does.
 *
 * CreateUploadAttachedMedia
 * (https://www.alibabacloud.com/help/en/vod/api-createuploadattachedmedia,
 * https://help.aliyun.com/document_detail/98467.html) takes BusinessType
 * (required: watermark, subtitle or material) and MediaExt, whose values
 * depend on it: a watermark png, gif, apng or mov; a subtitle srt, ass,
 * stl, ttml or vtt; a material jpg, gif, png, mp4, mat, zip or apk. Then
 * Title (at most 128 bytes), FileName, FileSize, Tags, StorageLocation,
 * Description, CateIds (comma-separated category ids), UserData and AppId.
 * It answers MediaId, MediaURL, FileURL, UploadAddress and UploadAuth. Its
 * credential lasts 3000 s and cannot be refreshed: a new call makes a new
 * media. AttachedMediaUploadComplete (AttachedMediaId, FileURL, Status)
 * tells that the upload is done.
 *
 * Interface: upload__alibaba_is_attached, upload__alibaba_attached_check,
 * upload__alibaba_attached_create.
 */
#include "upload/upload_int.h"

#include "common/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *business_type;
	const char *const exts[8];
} attached_exts[] = {
    {"watermark", {"png", "gif", "apng", "mov", NULL}},
    {"subtitle", {"srt", "ass", "stl", "ttml", "vtt", NULL}},
    {"material", {"jpg", "gif", "png", "mp4", "mat", "zip", "apk", NULL}},
};

bool
upload__alibaba_is_attached(const struct upload_job *job)
{
	const char *kind = json_get_str(job->options, "media_kind");

	return (kind != NULL && strcmp(kind, "attached") == 0) ||
	       (job->media_kind != NULL &&
		strcmp(job->media_kind, "attached") == 0);
}

/* Category ids: 1 to 10 decimal ids separated by commas. */
static int
check_cate_ids(const char *s, struct err *e)
{
	int n = 0;

	for (const char *p = s;; p++) {
		size_t len = strspn(p, "0123456789");

		if (len == 0 || len > 19 || ++n > 10 ||
		    (p[len] != ',' && p[len] != '\0'))
			return err_set(e, ERR_INPUT,
				       "cate_ids must be 1 to 10 category ids "
				       "separated by commas");
		p += len;
		if (*p == '\0')
			return 0;
	}
}

int
upload__alibaba_attached_check(const char *media_type, cJSON *opts,
			       struct err *e)
{
	static const char *const video_only[] = {"cover_url", "workflow_id",
						 "image_type", "cate_id", NULL};
	const char *bt = json_get_str(opts, "business_type");
	const char *cids = json_get_str(opts, "cate_ids");

	for (size_t i = 0; video_only[i] != NULL; i++)
		if (json_get(opts, video_only[i]) != NULL)
			return err_set(e, ERR_INPUT,
				       "%s does not apply to attached media "
				       "(CreateUploadAttachedMedia has no such "
				       "parameter%s)",
				       video_only[i],
				       strcmp(video_only[i], "cate_id") == 0
					   ? "; give cate_ids"
					   : "");
	if (cids != NULL && check_cate_ids(cids, e) != 0)
		return ERR_INPUT;
	if (bt == NULL)
		return err_set(e, ERR_INPUT,
			       "attached media needs business_type "
			       "(watermark, subtitle or material)");
	for (size_t i = 0; i < sizeof(attached_exts) / sizeof(*attached_exts);
	     i++) {
		if (strcmp(bt, attached_exts[i].business_type) != 0)
			continue;
		for (size_t k = 0; attached_exts[i].exts[k] != NULL; k++)
			if (media_type != NULL &&
			    strcasecmp(media_type, attached_exts[i].exts[k]) ==
				0)
				return 0;
		return err_set(e, ERR_INPUT,
			       "a %s cannot be of type \"%s\" "
			       "(CreateUploadAttachedMedia's MediaExt)",
			       bt, media_type ? media_type : "");
	}
	return err_set(e, ERR_INPUT, "unknown business_type \"%s\"", bt);
}

int
upload__alibaba_attached_create(const struct cloud_opts *o,
				const struct upload_job *job,
				const char *user_data,
				struct cloud_alibaba_upload *r, struct err *e)
{
	const cJSON *opt = job->options;
	char size[24] = "";
	struct buf fname;
	int rc;

	buf_init(&fname, 2048);
	if (buf_printf(&fname, "%s.%s", job->media_name, job->media_type) !=
	    0) {
		buf_free(&fname);
		memset(r, 0, sizeof(*r));
		return err_set(e, ERR_INPUT, "media name is too long");
	}
	if (job->bytes_total >= 0)
		snprintf(size, sizeof(size), "%lld",
			 (long long)job->bytes_total);
	rc = cloud_alibaba_create_upload_attached_media(
	    o,
	    &(struct cloud_alibaba_attached_params){
		.business_type = json_get_str(opt, "business_type"),
		.media_ext = job->media_type,
		.title = job->media_name,
		.file_name = buf_cstr(&fname),
		.file_size = size[0] ? size : NULL,
		.tags = json_get_str(opt, "tags"),
		.storage_location = json_get_str(opt, "storage_location"),
		.description = json_get_str(opt, "description"),
		.cate_ids = json_get_str(opt, "cate_ids"),
		.user_data = user_data,
	    },
	    r, e);
	buf_free(&fname);
	return rc;
}

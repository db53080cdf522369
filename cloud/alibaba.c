/*
 * alibaba.c: the Alibaba Cloud ApsaraVideo VOD RPC client (version
 * 2017-03-21, HMAC-SHA1 SignatureVersion 1.0); alibaba_parse.c reads the
 * answers.
 *
 * Interface: cloud_alibaba_create_upload_video,
 * cloud_alibaba_refresh_upload_video, cloud_alibaba_create_upload_image,
 * cloud_alibaba_create_upload_attached_media,
 * cloud_alibaba_get_video_info, cloud_alibaba_upload_media_by_url,
 * cloud_alibaba_get_url_upload_infos, cloud_alibaba_delete_video,
 * cloud_alibaba_delete_image, cloud_alibaba_delete_attached_media,
 * cloud_alibaba_get_image_info, cloud_alibaba_get_attached_media_info.
 *
 * Requests are GET with every parameter in the signed query string, as the
 * API reference documents. A fresh SignatureNonce and Timestamp are made for
 * every attempt, so a retry is never refused as a replay.
 */
#include "cloud/cloud_int.h"
#include "common/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALI_VERSION	   "2017-03-21"
#define ALI_DEFAULT_REGION "cn-shanghai"
#define ALI_MAX_PARAMS	   32

/* ================================================================ calls */

static bool
ali_retryable(const struct cloud_response *r)
{
	cJSON *d;
	const char *code;
	bool yes;

	if (r->status >= 500 || r->status == 429)
		return true;
	d = json_parse(buf_cstr(&r->body), r->body.len);
	code = json_get_str(d, "Code");
	yes = code != NULL && (strncmp(code, "Throttling", 10) == 0 ||
			       strcmp(code, "ServiceUnavailable") == 0 ||
			       strcmp(code, "InternalError") == 0);
	cJSON_Delete(d);
	return yes;
}

/*
 * Sign and send one action (GET, parameters in the query) with retries.
 * extra: the action's own parameters (empty values are left out).
 */
static int
ali_call(const struct cloud_opts *o, const char *action,
	 const struct cloud_kv *extra, size_t n_extra, bool idempotent,
	 struct cloud_response *resp, struct err *e)
{
	const char *region = o->alibaba_region != NULL && o->alibaba_region[0]
				 ? o->alibaba_region
				 : ALI_DEFAULT_REGION;
	int attempts = cloud_http_max_attempts(o);
	struct buf url;
	int rc = 0;

	if (o->alibaba_access_key_id == NULL ||
	    o->alibaba_access_key_secret == NULL)
		return err_set(e, ERR_INPUT,
			       "%s failed: Alibaba credentials not configured",
			       action);
	if (n_extra > ALI_MAX_PARAMS - 8)
		return err_set(e, ERR_INPUT, "%s: too many parameters", action);
	buf_init(&url, 64 * 1024);
	for (int attempt = 1; attempt <= attempts; attempt++) {
		struct cloud_kv p[ALI_MAX_PARAMS];
		char ts[21], nonce[33];
		size_t n = 0;
		bool retry;
		struct cloud_request req = {.method = "GET"};

		if (cloud_time_iso8601(time_unix(), ts) != 0 ||
		    random_hex(nonce, 16) != 0) {
			rc = err_set(e, ERR_INTERNAL,
				     "could not make a timestamp or nonce");
			break;
		}
		p[n++] = (struct cloud_kv){"Action", action};
		p[n++] = (struct cloud_kv){"Format", "JSON"};
		p[n++] = (struct cloud_kv){"Version", ALI_VERSION};
		p[n++] =
		    (struct cloud_kv){"AccessKeyId", o->alibaba_access_key_id};
		p[n++] = (struct cloud_kv){"SignatureMethod", "HMAC-SHA1"};
		p[n++] = (struct cloud_kv){"SignatureVersion", "1.0"};
		p[n++] = (struct cloud_kv){"Timestamp", ts};
		p[n++] = (struct cloud_kv){"SignatureNonce", nonce};
		for (size_t i = 0; i < n_extra; i++)
			p[n++] = extra[i];
		buf_reset(&url);
		if (o->alibaba_api_url != NULL && o->alibaba_api_url[0])
			rc = buf_puts(&url, o->alibaba_api_url);
		else
			rc = buf_printf(&url, "https://vod.%s.aliyuncs.com",
					region);
		if (rc == 0 && url.len > 0 && url.ptr[url.len - 1] != '/')
			rc = buf_putc(&url, '/');
		if (rc == 0)
			rc = buf_putc(&url, '?');
		if (rc == 0)
			rc = cloud_ali_rpc_signed_query(
			    o->alibaba_access_key_secret, "GET", p, n, &url);
		if (rc != 0) {
			err_set(e, rc, "%s: could not build the request",
				action);
			break;
		}
		req.url = buf_cstr(&url);
		rc = cloud_http_perform(o, &req, resp, e);
		if (rc == ERR_NET)
			retry = !resp->sent || idempotent;
		else if (rc != 0)
			retry = false;
		else
			retry = idempotent && ali_retryable(resp);
		if (!retry || attempt == attempts)
			break;
		log_msg(LOG_WARN, "cloud",
			"alibaba %s attempt %d failed, retrying", action,
			attempt);
		cloud__sleep_ms(cloud_http_backoff_ms(o, attempt));
	}
	buf_free(&url);
	return rc;
}

static void
add(struct cloud_kv *p, size_t *n, const char *k, const char *v)
{
	if (v != NULL && v[0] != '\0')
		p[(*n)++] = (struct cloud_kv){k, v};
}

static int
ali_upload_call(const struct cloud_opts *o, const char *action,
		const struct cloud_kv *p, size_t n, bool idempotent,
		struct cloud_alibaba_upload *r, struct err *e)
{
	struct cloud_response resp;
	int rc;

	cloud_response_init(&resp);
	if ((rc = ali_call(o, action, p, n, idempotent, &resp, e)) == 0)
		rc = cloud_alibaba_parse_upload(
		    resp.status, buf_cstr(&resp.body), resp.body.len,
		    time_unix(), r, e);
	cloud_response_cleanup(&resp);
	return rc;
}

int
cloud_alibaba_create_upload_video(const struct cloud_opts *o,
				  const struct cloud_alibaba_video_params *v,
				  struct cloud_alibaba_upload *r, struct err *e)
{
	struct cloud_kv p[16];
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	if (v->title == NULL || v->title[0] == '\0' || v->file_name == NULL ||
	    v->file_name[0] == '\0')
		return err_set(e, ERR_INPUT,
			       "CreateUploadVideo needs a title and file name");
	add(p, &n, "Title", v->title);
	add(p, &n, "FileName", v->file_name);
	add(p, &n, "FileSize", v->file_size);
	add(p, &n, "Description", v->description);
	add(p, &n, "CoverURL", v->cover_url);
	add(p, &n, "CateId", v->cate_id);
	add(p, &n, "Tags", v->tags);
	add(p, &n, "TemplateGroupId", v->template_group_id);
	add(p, &n, "WorkflowId", v->workflow_id);
	add(p, &n, "StorageLocation", v->storage_location);
	add(p, &n, "UserData", v->user_data);
	add(p, &n, "AppId", o->alibaba_app_id);
	return ali_upload_call(o, "CreateUploadVideo", p, n, false, r, e);
}

int
cloud_alibaba_refresh_upload_video(const struct cloud_opts *o,
				   const char *video_id,
				   struct cloud_alibaba_upload *r,
				   struct err *e)
{
	struct cloud_kv p[1];
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	if (video_id == NULL || video_id[0] == '\0')
		return err_set(e, ERR_INPUT,
			       "RefreshUploadVideo needs a VideoId");
	add(p, &n, "VideoId", video_id);
	return ali_upload_call(o, "RefreshUploadVideo", p, n, true, r, e);
}

int
cloud_alibaba_create_upload_image(const struct cloud_opts *o,
				  const struct cloud_alibaba_image_params *ip,
				  struct cloud_alibaba_upload *r, struct err *e)
{
	struct cloud_kv p[16];
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	if (ip->image_type == NULL || ip->image_type[0] == '\0')
		return err_set(e, ERR_INPUT,
			       "CreateUploadImage needs an image type");
	add(p, &n, "ImageType", ip->image_type);
	add(p, &n, "ImageExt", ip->image_ext);
	add(p, &n, "Title", ip->title);
	add(p, &n, "Tags", ip->tags);
	add(p, &n, "StorageLocation", ip->storage_location);
	add(p, &n, "UserData", ip->user_data);
	add(p, &n, "Description", ip->description);
	add(p, &n, "CateId", ip->cate_id);
	add(p, &n, "AppId", o->alibaba_app_id);
	return ali_upload_call(o, "CreateUploadImage", p, n, false, r, e);
}

int
cloud_alibaba_create_upload_attached_media(
    const struct cloud_opts *o, const struct cloud_alibaba_attached_params *ap,
    struct cloud_alibaba_upload *r, struct err *e)
{
	struct cloud_kv p[16];
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	if (ap->business_type == NULL || ap->business_type[0] == '\0' ||
	    ap->media_ext == NULL || ap->media_ext[0] == '\0')
		return err_set(e, ERR_INPUT,
			       "CreateUploadAttachedMedia needs a business "
			       "type and a media extension");
	add(p, &n, "BusinessType", ap->business_type);
	add(p, &n, "MediaExt", ap->media_ext);
	add(p, &n, "Title", ap->title);
	add(p, &n, "FileName", ap->file_name);
	add(p, &n, "FileSize", ap->file_size);
	add(p, &n, "Tags", ap->tags);
	add(p, &n, "StorageLocation", ap->storage_location);
	add(p, &n, "Description", ap->description);
	add(p, &n, "CateIds", ap->cate_ids);
	add(p, &n, "UserData", ap->user_data);
	add(p, &n, "AppId", o->alibaba_app_id);
	return ali_upload_call(o, "CreateUploadAttachedMedia", p, n, false, r,
			       e);
}

int
cloud_alibaba_get_video_info(const struct cloud_opts *o, const char *video_id,
			     struct cloud_alibaba_video_info *r, struct err *e)
{
	struct cloud_response resp;
	struct cloud_kv p[1];
	size_t n = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	if (video_id == NULL || video_id[0] == '\0')
		return err_set(e, ERR_INPUT, "GetVideoInfo needs a VideoId");
	add(p, &n, "VideoId", video_id);
	cloud_response_init(&resp);
	if ((rc = ali_call(o, "GetVideoInfo", p, n, true, &resp, e)) == 0)
		rc = cloud_alibaba_parse_video_info(
		    resp.status, buf_cstr(&resp.body), resp.body.len, r, e);
	cloud_response_cleanup(&resp);
	return rc;
}

int
cloud_alibaba_upload_media_by_url(const struct cloud_opts *o,
				  const struct cloud_alibaba_url_params *up,
				  struct cloud_alibaba_url_jobs *r,
				  struct err *e)
{
	struct cloud_response resp;
	struct cloud_kv p[8];
	size_t n = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	if (up->urls == NULL || up->urls[0] == '\0')
		return err_set(e, ERR_INPUT, "UploadMediaByURL needs URLs");
	add(p, &n, "UploadURLs", up->urls);
	add(p, &n, "UploadMetadatas", up->metadatas);
	add(p, &n, "TemplateGroupId", up->template_group_id);
	add(p, &n, "WorkflowId", up->workflow_id);
	add(p, &n, "StorageLocation", up->storage_location);
	add(p, &n, "UserData", up->user_data);
	add(p, &n, "AppId", o->alibaba_app_id);
	cloud_response_init(&resp);
	if ((rc = ali_call(o, "UploadMediaByURL", p, n, false, &resp, e)) == 0)
		rc = cloud_alibaba_parse_url_jobs(
		    resp.status, buf_cstr(&resp.body), resp.body.len, r, e);
	cloud_response_cleanup(&resp);
	return rc;
}

int
cloud_alibaba_get_url_upload_infos(const struct cloud_opts *o,
				   const char *const *job_ids, size_t n,
				   struct cloud_alibaba_url_infos *r,
				   struct err *e)
{
	struct cloud_response resp;
	struct cloud_kv p[1];
	struct buf ids;
	size_t np = 0;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	if (n == 0 || n > CLOUD_ALIBABA_URL_INFOS_MAX)
		return err_set(e, ERR_INPUT,
			       "GetURLUploadInfos takes 1 to %d JobIds",
			       CLOUD_ALIBABA_URL_INFOS_MAX);
	buf_init(&ids,
		 CLOUD_ALIBABA_URL_INFOS_MAX * (CLOUD_ALIBABA_ID_MAX + 1));
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (job_ids[i] == NULL || job_ids[i][0] == '\0' ||
		    strchr(job_ids[i], ',') != NULL ||
		    strlen(job_ids[i]) > CLOUD_ALIBABA_ID_MAX) {
			rc = err_set(e, ERR_INPUT,
				     "GetURLUploadInfos: bad JobId");
			break;
		}
		if ((i > 0 && (rc = buf_putc(&ids, ',')) != 0) ||
		    (rc = buf_puts(&ids, job_ids[i])) != 0)
			err_set(e, rc, "GetURLUploadInfos: JobIds too long");
	}
	if (rc != 0) {
		buf_free(&ids);
		return rc;
	}
	add(p, &np, "JobIds", buf_cstr(&ids));
	cloud_response_init(&resp);
	if ((rc = ali_call(o, "GetURLUploadInfos", p, np, true, &resp, e)) == 0)
		rc = cloud_alibaba_parse_url_upload_infos(
		    resp.status, buf_cstr(&resp.body), resp.body.len, r, e);
	cloud_response_cleanup(&resp);
	buf_free(&ids);
	return rc;
}

/*
 * DeleteVideo (VideoIds, here one id): the video, its source file, streams
 * and snapshots; the answer lists the ids it did not delete
 * (NonExistVideoIds, ForbiddenVideoIds) and a DeleteMediaComplete event
 * follows. Source: help.aliyun.com/zh/vod/developer-reference/
 * api-vod-2017-03-21-deletevideo.
 */
int
cloud_alibaba_delete_video(const struct cloud_opts *o, const char *video_id,
			   struct err *e)
{
	struct cloud_response resp;
	struct cloud_kv p[1];
	size_t n = 0;
	int rc;

	if (video_id == NULL || video_id[0] == '\0' ||
	    strchr(video_id, ',') != NULL ||
	    strlen(video_id) > CLOUD_ALIBABA_ID_MAX)
		return err_set(e, ERR_INPUT, "DeleteVideo: bad VideoId");
	add(p, &n, "VideoIds", video_id);
	cloud_response_init(&resp);
	/* Deleting twice deletes once: a retry is safe. */
	if ((rc = ali_call(o, "DeleteVideo", p, n, true, &resp, e)) == 0)
		rc = cloud_alibaba_parse_delete_video(
		    resp.status, buf_cstr(&resp.body), resp.body.len, video_id,
		    e);
	cloud_response_cleanup(&resp);
	return rc;
}

/*
 * DeleteImage by ImageId (DeleteImageType ImageId, ImageIds): no event
 * follows, the answer is final. Source: help.aliyun.com/zh/vod/
 * developer-reference/api-vod-2017-03-21-deleteimage.
 */
int
cloud_alibaba_delete_image(const struct cloud_opts *o, const char *image_id,
			   struct err *e)
{
	struct cloud_response resp;
	struct cloud_kv p[2];
	size_t n = 0;
	int rc;

	if (image_id == NULL || image_id[0] == '\0' ||
	    strchr(image_id, ',') != NULL ||
	    strlen(image_id) > CLOUD_ALIBABA_ID_MAX)
		return err_set(e, ERR_INPUT, "DeleteImage: bad ImageId");
	add(p, &n, "DeleteImageType", "ImageId");
	add(p, &n, "ImageIds", image_id);
	cloud_response_init(&resp);
	if ((rc = ali_call(o, "DeleteImage", p, n, true, &resp, e)) == 0)
		rc = cloud_alibaba_parse_error(
		    resp.status, buf_cstr(&resp.body), resp.body.len, e);
	cloud_response_cleanup(&resp);
	return rc;
}

/*
 * DeleteAttachedMedia (MediaIds, here one id): no event follows, the answer
 * is final (DeleteMediaComplete "is generated only for the DeleteVideo
 * operation": help.aliyun.com/zh/vod/user-guide/deletemediacomplete).
 * Source: help.aliyun.com/zh/vod/developer-reference/
 * api-vod-2017-03-21-deleteattachedmedia.
 */
int
cloud_alibaba_delete_attached_media(const struct cloud_opts *o,
				    const char *media_id, struct err *e)
{
	struct cloud_response resp;
	struct cloud_kv p[1];
	size_t n = 0;
	int rc;

	if (media_id == NULL || media_id[0] == '\0' ||
	    strchr(media_id, ',') != NULL ||
	    strlen(media_id) > CLOUD_ALIBABA_ID_MAX)
		return err_set(e, ERR_INPUT,
			       "DeleteAttachedMedia: bad MediaId");
	add(p, &n, "MediaIds", media_id);
	cloud_response_init(&resp);
	/* Deleting twice deletes once: a retry is safe. */
	if ((rc = ali_call(o, "DeleteAttachedMedia", p, n, true, &resp, e)) ==
	    0)
		rc = cloud_alibaba_parse_delete_attached(
		    resp.status, buf_cstr(&resp.body), resp.body.len, media_id,
		    e);
	cloud_response_cleanup(&resp);
	return rc;
}

/* GetImageInfo (ImageId); see cloud_alibaba_parse_image_info. */
int
cloud_alibaba_get_image_info(const struct cloud_opts *o, const char *image_id,
			     struct cloud_alibaba_media_info *r, struct err *e)
{
	struct cloud_response resp;
	struct cloud_kv p[1];
	size_t n = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	if (image_id == NULL || image_id[0] == '\0')
		return err_set(e, ERR_INPUT, "GetImageInfo needs an ImageId");
	add(p, &n, "ImageId", image_id);
	cloud_response_init(&resp);
	if ((rc = ali_call(o, "GetImageInfo", p, n, true, &resp, e)) == 0)
		rc = cloud_alibaba_parse_image_info(
		    resp.status, buf_cstr(&resp.body), resp.body.len, r, e);
	cloud_response_cleanup(&resp);
	return rc;
}

/*
 * GetAttachedMediaInfo (MediaIds, here one id); see
 * cloud_alibaba_parse_attached_media_info. The action is singular
 * (GetAttachedMediaInfo), as the API reference and SDK name it.
 */
int
cloud_alibaba_get_attached_media_info(const struct cloud_opts *o,
				      const char *media_id,
				      struct cloud_alibaba_media_info *r,
				      struct err *e)
{
	struct cloud_response resp;
	struct cloud_kv p[1];
	size_t n = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	if (media_id == NULL || media_id[0] == '\0' ||
	    strchr(media_id, ',') != NULL ||
	    strlen(media_id) > CLOUD_ALIBABA_ID_MAX)
		return err_set(e, ERR_INPUT,
			       "GetAttachedMediaInfo: bad MediaId");
	add(p, &n, "MediaIds", media_id);
	cloud_response_init(&resp);
	if ((rc = ali_call(o, "GetAttachedMediaInfo", p, n, true, &resp, e)) ==
	    0)
		rc = cloud_alibaba_parse_attached_media_info(
		    resp.status, buf_cstr(&resp.body), resp.body.len, media_id,
		    r, e);
	cloud_response_cleanup(&resp);
	return rc;
}

/*
 * cloud/alibaba.h: the Alibaba Cloud ApsaraVideo VOD API client
 * (alibaba.c): CreateUploadVideo, RefreshUploadVideo, CreateUploadImage,
 * GetVideoInfo, GetImageInfo, GetAttachedMediaInfo, the deletions,
 * UploadMediaByURL and GetURLUploadInfos, signed with the RPC signature, their
 * pure response parsers, and UploadAddress/UploadAuth decoding.
 */
#ifndef VODHOOK_CLOUD_ALIBABA_H
#define VODHOOK_CLOUD_ALIBABA_H

#include "cloud/http.h"

#include <cjson/cJSON.h>

/* Decoded UploadAddress + UploadAuth. Owned strings; free with _cleanup. */
struct cloud_alibaba_upload_auth {
	char *endpoint; /* "https://oss-cn-shanghai.aliyuncs.com" */
	char *bucket;
	char *file_name;     /* object key */
	char *object_prefix; /* may be NULL */
	char *access_key_id;
	char *access_key_secret;
	char *security_token;
	char *region;	   /* may be NULL */
	int64_t expire_at; /* Unix seconds: ExpireUTCTime, else issued_at
			      + Expiration, else issued_at + 3000 */
};

struct cloud_alibaba_upload {
	char *video_id;	 /* VideoId; ImageId for images; MediaId for attached
			    media */
	char *image_url; /* CreateUploadImage: ImageURL; attached: MediaURL */
	char *request_id;
	struct cloud_alibaba_upload_auth auth;
};

struct cloud_alibaba_video_params {
	const char *title;     /* required */
	const char *file_name; /* required, with extension */
	const char *file_size; /* optional decimal */
	const char *description;
	const char *cover_url;
	const char *cate_id;
	const char *tags;
	const char *template_group_id;
	const char *workflow_id;
	const char *storage_location;
	const char *user_data; /* JSON text */
};

struct cloud_alibaba_image_params {
	const char *image_type; /* "default" or "cover" */
	const char *image_ext;	/* "jpg" */
	const char *title;
	const char *tags;
	const char *storage_location;
	const char *user_data;
	const char *description;
	const char *cate_id;
};

/*
 * CreateUploadAttachedMedia parameters (watermarks, subtitles, materials);
 * strings borrowed, NULL or "" = absent.
 * https://www.alibabacloud.com/help/en/vod/api-createuploadattachedmedia
 */
struct cloud_alibaba_attached_params {
	const char *business_type; /* required: watermark, subtitle, material */
	const char *media_ext;	   /* required: "png", "srt", ... */
	const char *title;
	const char *file_name;
	const char *file_size; /* decimal */
	const char *tags;
	const char *storage_location;
	const char *description;
	const char *cate_ids; /* comma-separated */
	const char *user_data;
};

struct cloud_alibaba_video_info {
	cJSON *doc;	    /* owned */
	const cJSON *video; /* "Video" object, borrowed */
	char *video_id;
	char *status; /* Uploading, UploadSucc, Transcoding, Normal, ... */
	char *request_id;
};

/*
 * Where an image (GetImageInfo) or an attached media (GetAttachedMediaInfo)
 * stands. exists false: the platform does not have it (GetImageInfo's
 * not-found error, GetAttachedMediaInfo's NonExistMediaIds, or an answer
 * that does not list it); status and info are then NULL.
 */
struct cloud_alibaba_media_info {
	cJSON *doc;	   /* owned */
	const cJSON *info; /* ImageInfo, or the AttachedMediaList element */
	char *status;	   /* Uploading, Normal, UploadFail; NULL if none */
	char *request_id;
	bool exists;
};

/* UploadMediaByURL parameters; strings borrowed, NULL or "" = absent. */
struct cloud_alibaba_url_params {
	const char *urls;      /* required: UploadURLs, comma-separated, each
				  URL-encoded (at most 20) */
	const char *metadatas; /* UploadMetadatas: JSON array text of
				  {SourceURL, Title, FileExtension, ...} */
	const char *template_group_id;
	const char *workflow_id;
	const char *storage_location;
	const char *user_data; /* JSON text */
};

struct cloud_alibaba_url_jobs {
	cJSON *doc; /* owned */
	char **source_urls;
	char **job_ids;
	size_t n;
	char *request_id;
};

/* Where a URL pull stands (GetURLUploadInfos), as vodhook reads it. */
enum cloud_url_outcome {
	CLOUD_URL_PENDING = 0, /* queued or under way (or a status not known) */
	CLOUD_URL_SUCCESS,     /* the media exists: media_id */
	CLOUD_URL_FAILED,      /* the pull failed: error_code, error_message */
	CLOUD_URL_UNKNOWN,     /* the platform does not know it (NonExists) */
};

#define CLOUD_ALIBABA_URL_INFOS_MAX 10	/* JobIds per GetURLUploadInfos */
#define CLOUD_ALIBABA_ID_MAX	    128 /* bytes of a JobId or MediaId */

/* One URL pull job. Owned strings (NULL when absent or empty). */
struct cloud_alibaba_url_info {
	char *job_id;
	char *media_id; /* MediaId: the VideoId, once the media exists */
	char *status;	/* as sent ("SUCCESS", "Normal", "DOWNLOADING", ...) */
	char *error_code;
	char *error_message;
	int64_t file_size;     /* FileSize (number or string), -1 unknown */
	int64_t complete_time; /* CompleteTime, Unix seconds, 0 unknown */
	enum cloud_url_outcome outcome;
	const cJSON *info; /* the raw element, borrowed from doc; NULL for an
			      entry of NonExists */
};

struct cloud_alibaba_url_infos {
	cJSON *doc; /* owned */
	struct cloud_alibaba_url_info *items;
	size_t n_items;
	char *request_id;
};

void cloud_alibaba_upload_auth_cleanup(struct cloud_alibaba_upload_auth *a);
void cloud_alibaba_upload_cleanup(struct cloud_alibaba_upload *r);
void cloud_alibaba_video_info_cleanup(struct cloud_alibaba_video_info *r);
void cloud_alibaba_media_info_cleanup(struct cloud_alibaba_media_info *r);
void cloud_alibaba_url_jobs_cleanup(struct cloud_alibaba_url_jobs *r);
void cloud_alibaba_url_infos_cleanup(struct cloud_alibaba_url_infos *r);

/*
 * The API calls. Errors: non-2xx
 * with {Code, Message, RequestId} become ERR_AUTH (signature/key codes) or
 * ERR_REMOTE with Code in e->remote; a non-2xx body without Code is
 * ERR_UNAVAIL (5xx) or ERR_REMOTE. Only the idempotent calls
 * (RefreshUploadVideo, the Get* lookups, the deletions) are retried after
 * the request may have been sent; every attempt gets a fresh
 * SignatureNonce. Requests are GET
 * with the signed parameters in the query string.
 */
int cloud_alibaba_create_upload_video(
    const struct cloud_opts *o, const struct cloud_alibaba_video_params *p,
    struct cloud_alibaba_upload *r, struct err *e) VH_MUST_CHECK;
int cloud_alibaba_refresh_upload_video(const struct cloud_opts *o,
				       const char *video_id,
				       struct cloud_alibaba_upload *r,
				       struct err *e) VH_MUST_CHECK;
int cloud_alibaba_create_upload_image(
    const struct cloud_opts *o, const struct cloud_alibaba_image_params *p,
    struct cloud_alibaba_upload *r, struct err *e) VH_MUST_CHECK;
/* CreateUploadAttachedMedia: MediaId in r->video_id, MediaURL in
 * r->image_url. Its credential cannot be refreshed (a new call makes a new
 * media). Not retried once the request may have been sent. */
int cloud_alibaba_create_upload_attached_media(
    const struct cloud_opts *o, const struct cloud_alibaba_attached_params *ap,
    struct cloud_alibaba_upload *r, struct err *e) VH_MUST_CHECK;
int cloud_alibaba_get_video_info(const struct cloud_opts *o,
				 const char *video_id,
				 struct cloud_alibaba_video_info *r,
				 struct err *e) VH_MUST_CHECK;
/* UploadMediaByURL: the platform fetches the URLs itself (asynchronous;
 * each URL becomes one JobId, finished by an UploadByURLComplete event).
 * Not retried once the request may have been sent (a retry could queue
 * the same URL twice). */
int cloud_alibaba_upload_media_by_url(const struct cloud_opts *o,
				      const struct cloud_alibaba_url_params *p,
				      struct cloud_alibaba_url_jobs *r,
				      struct err *e) VH_MUST_CHECK;
/*
 * GetURLUploadInfos: where the URL pulls job_ids[0..n) stand (1 to
 * CLOUD_ALIBABA_URL_INFOS_MAX JobIds, sent comma-separated; an id that is
 * empty or holds a comma is ERR_INPUT). A job the platform does not know
 * comes back with outcome CLOUD_URL_UNKNOWN, or not at all.
 */
int cloud_alibaba_get_url_upload_infos(const struct cloud_opts *o,
				       const char *const *job_ids, size_t n,
				       struct cloud_alibaba_url_infos *r,
				       struct err *e) VH_MUST_CHECK;

/*
 * DeleteVideo of one video (a DeleteMediaComplete event follows). A video
 * the platform does not have is ERR_REMOTE "InvalidVideo.NotFound" (the
 * answer's NonExistVideoIds), one it may not delete ERR_REMOTE "Forbidden"
 * (ForbiddenVideoIds).
 */
int cloud_alibaba_delete_video(const struct cloud_opts *o, const char *video_id,
			       struct err *e) VH_MUST_CHECK;
/* DeleteImage of one image by its ImageId; no event follows. */
int cloud_alibaba_delete_image(const struct cloud_opts *o, const char *image_id,
			       struct err *e) VH_MUST_CHECK;

/*
 * DeleteAttachedMedia of one attached media (MediaIds); no event follows,
 * the answer is final. One the platform does not have (the answer's
 * NonExistMediaIds) is ERR_REMOTE "InvalidMedia.NotFound".
 */
int cloud_alibaba_delete_attached_media(const struct cloud_opts *o,
					const char *media_id,
					struct err *e) VH_MUST_CHECK;
/*
 * GetImageInfo (ImageId) and GetAttachedMediaInfo (MediaIds, here one id):
 * where the media stands. A media the platform does not have is r->exists
 * false, not an error (see cloud_alibaba_not_found_code).
 */
int cloud_alibaba_get_image_info(const struct cloud_opts *o,
				 const char *image_id,
				 struct cloud_alibaba_media_info *r,
				 struct err *e) VH_MUST_CHECK;
int cloud_alibaba_get_attached_media_info(const struct cloud_opts *o,
					  const char *media_id,
					  struct cloud_alibaba_media_info *r,
					  struct err *e) VH_MUST_CHECK;

/*
 * Pure parsers. issued_at is the local time the response arrived, used when
 * UploadAuth has no ExpireUTCTime.
 */
int cloud_alibaba_decode_upload_auth(const char *upload_address,
				     const char *upload_auth, int64_t issued_at,
				     struct cloud_alibaba_upload_auth *a,
				     struct err *e) VH_MUST_CHECK;
/* CreateUploadVideo / RefreshUploadVideo / CreateUploadImage responses
 * (flat or wrapped in {"CreateUploadImageResponse": {...}}). */
int cloud_alibaba_parse_upload(long status, const char *body, size_t len,
			       int64_t issued_at,
			       struct cloud_alibaba_upload *r,
			       struct err *e) VH_MUST_CHECK;
int cloud_alibaba_parse_video_info(long status, const char *body, size_t len,
				   struct cloud_alibaba_video_info *r,
				   struct err *e) VH_MUST_CHECK;
int cloud_alibaba_parse_url_jobs(long status, const char *body, size_t len,
				 struct cloud_alibaba_url_jobs *r,
				 struct err *e) VH_MUST_CHECK;
/*
 * GetURLUploadInfos: URLUploadInfoList[] (each with its outcome, see
 * cloud_alibaba_url_outcome; an element without JobId is skipped) and the
 * JobIds of NonExists[] (outcome CLOUD_URL_UNKNOWN). At most 100 entries
 * (ERR_LIMIT beyond); ids are read as strings only, at most 128 bytes.
 */
int cloud_alibaba_parse_url_upload_infos(long status, const char *body,
					 size_t len,
					 struct cloud_alibaba_url_infos *r,
					 struct err *e) VH_MUST_CHECK;
/*
 * What a URL pull's Status, ErrorCode and MediaId amount to. The status
 * values are not consistent across Alibaba's documentation ("SUCCESS",
 * "Normal", "UPLOAD_SUCCESS", "FAIL", "DOWNLOAD_FAIL", ...), so they are
 * compared without case: a status FAIL* or *_FAIL* is a failure; SUCCESS,
 * NORMAL or UPLOAD_SUCCESS with a MediaId is a success (even with an
 * ErrorCode); otherwise a non-empty ErrorCode other than "200" or "0" is a
 * failure, and anything else (PENDING, DOWNLOADING, a success without a
 * MediaId, an unknown word) means the pull is still under way.
 */
enum cloud_url_outcome cloud_alibaba_url_outcome(const char *status,
						 const char *error_code,
						 const char *media_id);
/* DeleteVideo's answer about video_id (see cloud_alibaba_delete_video). */
int cloud_alibaba_parse_delete_video(long status, const char *body, size_t len,
				     const char *video_id,
				     struct err *e) VH_MUST_CHECK;
/* DeleteAttachedMedia's answer about media_id. */
int cloud_alibaba_parse_delete_attached(long status, const char *body,
					size_t len, const char *media_id,
					struct err *e) VH_MUST_CHECK;
/*
 * GetImageInfo's answer: ImageInfo.Status. An error whose Code says the
 * image does not exist (cloud_alibaba_not_found_code) is exists false, 0.
 */
int cloud_alibaba_parse_image_info(long status, const char *body, size_t len,
				   struct cloud_alibaba_media_info *r,
				   struct err *e) VH_MUST_CHECK;
/*
 * GetAttachedMediaInfo's answer about media_id: its AttachedMediaList
 * element (matched by MediaId), else exists false (NonExistMediaIds, or
 * not listed).
 */
int cloud_alibaba_parse_attached_media_info(long status, const char *body,
					    size_t len, const char *media_id,
					    struct cloud_alibaba_media_info *r,
					    struct err *e) VH_MUST_CHECK;
/* Whether an error Code says the media asked about does not exist. */
bool cloud_alibaba_not_found_code(const char *code);
/* Error shape only: 0 for a 2xx status, else the mapped error. */
int cloud_alibaba_parse_error(long status, const char *body, size_t len,
			      struct err *e) VH_MUST_CHECK;

#endif

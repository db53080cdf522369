/*
 * alibaba.c: the Alibaba ApsaraVideo VOD adapter: CreateUploadVideo (or
 * CreateUploadImage) -> OSS with the STS credential of UploadAuth (header
 * signature V1, or V4 with the alibaba_oss_signature setting;
 * x-oss-security-token) -> nothing to commit: the VideoId is known from the
 * first call. RefreshUploadVideo renews the credential of
 * the same VideoId and object, so a multipart upload goes on with it.
 *
 * The API calls are cloud/alibaba.c's; this file maps a job to their
 * parameters, describes the OSS target and signs OSS requests.
 * UserData.Extend is {"vh":"<upload id>","ctx":"<the user's context>"} so
 * that callbacks find the upload; UserData.MessageCallback names the
 * configured callback URL when there is one.
 *
 * Job options read here (all optional): description, cover_url, cate_id,
 * tags, workflow_id, storage_location, image_type ("default" | "cover"),
 * media_kind ("video" | "image" | "attached"; by default an image
 * extension means an image), business_type and cate_ids (attached media,
 * alibaba_attached.c), app_id (the AppId of CreateUpload*; the request's,
 * else the setting's, kept in the job's options). What a request may hold
 * is alibaba_options.c's.
 *
 * An image's or attached media's credential cannot be refreshed: when it
 * expires, the job starts over with a new Create* call, which makes a new
 * media (the first stays on the platform, empty).
 *
 * Interface: upload__alibaba_adapter, upload__alibaba_user_data.
 */
#include "upload/upload_int.h"

#include "common/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OSS_MIN_PART  (100 * 1024)
#define OSS_MAX_PARTS 10000

struct ali_priv {
	char *scheme;
	char *bucket;
	char *endpoint; /* host of UploadAddress.Endpoint */
	char *region;	/* may be NULL */
	char *access_key_id;
	char *access_key_secret;
	char *security_token;
	char *image_url; /* images: ImageURL */
	bool image;	 /* CreateUploadImage: cannot be refreshed */
	bool v4;	 /* OSS4-HMAC-SHA256 (cloud_opts.alibaba_oss_v4) */
};

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
wipe_free(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
	free(s);
}

static void
ali_free(struct upload_session *s)
{
	struct ali_priv *p;

	if (s == NULL)
		return;
	p = s->priv;
	if (p != NULL) {
		free(p->scheme);
		free(p->bucket);
		free(p->endpoint);
		free(p->region);
		free(p->access_key_id);
		wipe_free(p->access_key_secret);
		free(p->security_token);
		free(p->image_url);
		free(p);
	}
	upload__target_cleanup(&s->target);
	free(s->file_id);
	free(s->cover_key);
	free(s);
}

/* Append the header "name: value" to *headers. */
static int
add_header(struct curl_slist **headers, const char *name, const char *value,
	   struct err *e)
{
	struct buf line;
	struct curl_slist *l;

	buf_init(&line, 16384);
	if (buf_printf(&line, "%s: %s", name, value) != 0)
		return err_set(e, ERR_LIMIT, "OSS header %s is too long", name);
	l = curl_slist_append(*headers, buf_cstr(&line));
	buf_free(&line);
	if (l == NULL)
		fatal("out of memory");
	*headers = l;
	return 0;
}

/*
 * The OSS region that signature V4 is scoped to: Region of UploadAuth, else
 * the one of the endpoint "oss-<region>[-internal].aliyuncs.com".
 */
static int
oss_region(const struct ali_priv *p, char *out, size_t n, struct err *e)
{
	const char *h = p->endpoint;
	size_t len = 0;

	if (p->region != NULL && p->region[0] != '\0') {
		h = p->region;
		len = strlen(h);
	} else if (strncmp(h, "oss-", 4) == 0) {
		h += 4;
		len = strcspn(h, ".");
		if (len > 9 && strncmp(h + len - 9, "-internal", 9) == 0)
			len -= 9;
	}
	if (len == 0 || len >= n)
		return err_set(e, ERR_REMOTE,
			       "no OSS region to sign with (V4) in the upload "
			       "credential or the endpoint \"%s\"",
			       p->endpoint);
	memcpy(out, h, len);
	out[len] = '\0';
	return 0;
}

/*
 * Sign one OSS request with the STS credential, signature V4
 * (OSS4-HMAC-SHA256, reference 3.2): x-oss-date, x-oss-content-sha256
 * UNSIGNED-PAYLOAD, x-oss-security-token and Authorization headers; the
 * Content-Type the engine sends is signed too.
 */
static int
ali_sign_v4(const struct upload_session *s, const struct upload_sign_input *in,
	    struct curl_slist **headers, struct err *e)
{
	const struct ali_priv *p = s->priv;
	struct cloud_kv hdrs[4];
	size_t nh = 0, nsent;
	char date[17], region[64];
	struct buf auth;
	int rc;

	if (cloud_time_iso8601_basic(in->now, date) != 0)
		return err_set(e, ERR_INTERNAL, "clock out of range");
	if ((rc = oss_region(p, region, sizeof(region), e)) != 0)
		return rc;
	hdrs[nh++] = (struct cloud_kv){"x-oss-date", date};
	hdrs[nh++] =
	    (struct cloud_kv){"x-oss-content-sha256", "UNSIGNED-PAYLOAD"};
	if (p->security_token != NULL && p->security_token[0] != '\0')
		hdrs[nh++] = (struct cloud_kv){"x-oss-security-token",
					       p->security_token};
	nsent = nh; /* the engine sends Content-Type itself */
	if (in->content_type != NULL)
		hdrs[nh++] =
		    (struct cloud_kv){"content-type", in->content_type};
	buf_init(&auth, 4096);
	{
		struct cloud_oss_v4_input vi = {
		    .verb = in->method,
		    .bucket = p->bucket,
		    .key = s->target.key,
		    .params = in->params,
		    .n_params = in->n_params,
		    .headers = hdrs,
		    .n_headers = nh,
		    .region = region,
		    .time = in->now,
		    .access_key_id = p->access_key_id,
		    .access_key_secret = p->access_key_secret,
		};

		rc = cloud_oss_v4_authorization(&vi, &auth);
	}
	if (rc != 0) {
		rc = err_set(e, rc, "could not sign the OSS request (V4)");
		goto out;
	}
	if ((rc = add_header(headers, "Authorization", buf_cstr(&auth), e)) !=
	    0)
		goto out;
	for (size_t i = 0; i < nsent && rc == 0; i++)
		rc = add_header(headers, hdrs[i].key, hdrs[i].value, e);
out:
	buf_free(&auth);
	return rc;
}

/*
 * Sign one OSS request with the STS credential (signature V1, or V4 when
 * the session says so): Date, x-oss-security-token and Authorization
 * headers.
 */
static int
ali_sign(const struct upload_session *s, const struct upload_sign_input *in,
	 struct curl_slist **headers, struct err *e)
{
	const struct ali_priv *p = s->priv;
	struct cloud_kv hdrs[1];
	size_t nh = 0;
	char date[30];
	struct buf auth, line;
	int rc;

	if (p->v4)
		return ali_sign_v4(s, in, headers, e);
	if (cloud_time_rfc1123(in->now, date) != 0)
		return err_set(e, ERR_INTERNAL, "clock out of range");
	if (p->security_token != NULL && p->security_token[0] != '\0')
		hdrs[nh++] = (struct cloud_kv){"x-oss-security-token",
					       p->security_token};
	buf_init(&auth, 4096);
	buf_init(&line, 16384);
	{
		struct cloud_oss_v1_input vi = {
		    .verb = in->method,
		    .content_type = in->content_type,
		    .date = date,
		    .headers = hdrs,
		    .n_headers = nh,
		    .bucket = p->bucket,
		    .key = s->target.key,
		    .params = in->params,
		    .n_params = in->n_params,
		    .access_key_id = p->access_key_id,
		    .access_key_secret = p->access_key_secret,
		};

		rc = cloud_oss_v1_authorization(&vi, &auth);
	}
	if (rc != 0) {
		rc = err_set(e, rc, "could not sign the OSS request");
		goto out;
	}
	rc = buf_printf(&line, "Authorization: %s", buf_cstr(&auth));
	if (rc == 0) {
		*headers = curl_slist_append(*headers, buf_cstr(&line));
		buf_reset(&line);
		rc = buf_printf(&line, "Date: %s", date);
	}
	if (rc == 0) {
		*headers = curl_slist_append(*headers, buf_cstr(&line));
		buf_reset(&line);
		if (nh > 0) {
			rc = buf_printf(&line, "x-oss-security-token: %s",
					p->security_token);
			if (rc == 0)
				*headers = curl_slist_append(*headers,
							     buf_cstr(&line));
		}
	}
	if (rc != 0) {
		rc = err_set(e, ERR_LIMIT, "security token too long");
		goto out;
	}
	if (*headers == NULL)
		fatal("out of memory");
out:
	buf_free(&auth);
	buf_free(&line);
	return rc;
}

/* Split "https://oss-cn-shanghai.aliyuncs.com[/]" into scheme and host. */
static int
split_endpoint(const char *endpoint, char **scheme, char **host, struct err *e)
{
	const char *h = strstr(endpoint, "://");
	size_t n;

	*scheme = *host = NULL;
	if (h != NULL) {
		*scheme = xstrndup(endpoint, (size_t)(h - endpoint));
		h += 3;
	} else {
		*scheme = xstrdup("https");
		h = endpoint;
	}
	n = strcspn(h, "/?#");
	if (n == 0 || (strcasecmp(*scheme, "https") != 0 &&
		       strcasecmp(*scheme, "http") != 0)) {
		free(*scheme);
		*scheme = NULL;
		return err_set(e, ERR_REMOTE,
			       "UploadAddress has an unusable endpoint \"%s\"",
			       endpoint);
	}
	*host = xstrndup(h, n);
	return 0;
}

/* Build the session from its parts (all strings copied). */
static struct upload_session *
ali_session(const char *scheme, const char *bucket, const char *endpoint,
	    const char *region, const char *key, const char *ak, const char *sk,
	    const char *token, int64_t expires, const char *file_id,
	    const char *image_url, bool image)
{
	struct upload_session *s = xcalloc(1, sizeof(*s));
	struct ali_priv *p = xcalloc(1, sizeof(*p));
	struct buf host;

	buf_init(&host, 1024);
	if (buf_printf(&host, "%s.%s", bucket, endpoint) != 0)
		fatal("out of memory");
	s->adapter = &upload__alibaba_adapter;
	upload__target_init(&s->target, scheme, buf_cstr(&host), key);
	buf_free(&host);
	s->target.min_part_size = OSS_MIN_PART;
	s->target.max_parts = OSS_MAX_PARTS;
	s->target.sign = ali_sign;
	s->expires_at = expires;
	s->file_id = dup_or_null(file_id);
	p->scheme = xstrdup(scheme);
	p->bucket = xstrdup(bucket);
	p->endpoint = xstrdup(endpoint);
	p->region = dup_or_null(region);
	p->access_key_id = xstrdup(ak ? ak : "");
	p->access_key_secret = xstrdup(sk ? sk : "");
	p->security_token = dup_or_null(token);
	p->image_url = dup_or_null(image_url);
	p->image = image;
	s->priv = p;
	return s;
}

char *
upload__alibaba_user_data(const struct upload_job *job,
			  const char *callback_url)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *ext = cJSON_CreateObject();
	char *txt;

	if (doc == NULL || ext == NULL)
		fatal("out of memory");
	json_add_str(ext, "vh", job->id);
	if (job->source_context != NULL)
		json_add_str(ext, "ctx", job->source_context);
	if (callback_url != NULL && callback_url[0] != '\0') {
		cJSON *mc = cJSON_CreateObject();

		if (mc == NULL)
			fatal("out of memory");
		json_add_str(mc, "CallbackURL", callback_url);
		cJSON_AddItemToObject(doc, "MessageCallback", mc);
	}
	cJSON_AddItemToObject(doc, "Extend", ext);
	if ((txt = cJSON_PrintUnformatted(doc)) == NULL)
		fatal("out of memory");
	cJSON_Delete(doc);
	return txt;
}

/* A decimal option (number or numeric string) into out, or "" when absent.
 */
static void
opt_decimal(const cJSON *options, const char *name, char *out, size_t n)
{
	const char *s = json_get_str(options, name);
	int64_t v;

	out[0] = '\0';
	if (s != NULL)
		snprintf(out, n, "%s", s);
	else if (json_get_i64(options, name, &v))
		snprintf(out, n, "%lld", (long long)v);
}

static int
ali_apply(const struct cloud_opts *o, const struct upload_job *job,
	  struct upload_session **out, struct err *e)
{
	const cJSON *opt = job->options;
	struct cloud_alibaba_upload r = {0};
	char *user_data, *scheme = NULL, *host = NULL;
	char size[24] = "", cate[24];
	bool attached = upload__alibaba_is_attached(job);
	bool image = !attached && upload__alibaba_is_image(job);
	const char *call = attached ? "CreateUploadAttachedMedia"
			   : image  ? "CreateUploadImage"
				    : "CreateUploadVideo";
	struct cloud_opts ao;
	struct buf fname;
	int rc;

	*out = NULL;
	buf_init(&fname, 2048);
	cloud_alibaba_opts_for_app(o, json_get_str(opt, "app_id"), &ao);
	o = &ao;
	user_data = upload__alibaba_user_data(job, o->alibaba_callback_url);
	opt_decimal(opt, "cate_id", cate, sizeof(cate));
	if (attached) {
		rc = upload__alibaba_attached_create(o, job, user_data, &r, e);
	} else if (image) {
		struct cloud_alibaba_image_params ip = {
		    .image_type = json_get_str(opt, "image_type")
				      ? json_get_str(opt, "image_type")
				      : "default",
		    .image_ext = job->media_type,
		    .title = job->media_name,
		    .tags = json_get_str(opt, "tags"),
		    .storage_location = json_get_str(opt, "storage_location"),
		    .user_data = user_data,
		    .description = json_get_str(opt, "description"),
		    .cate_id = cate[0] ? cate : NULL,
		};

		rc = cloud_alibaba_create_upload_image(o, &ip, &r, e);
	} else {
		struct cloud_alibaba_video_params vp;

		/* FileName must carry the extension. */
		if (buf_printf(&fname, "%s.%s", job->media_name,
			       job->media_type) != 0) {
			rc = err_set(e, ERR_INPUT, "media name is too long");
			goto out;
		}
		if (job->bytes_total >= 0)
			snprintf(size, sizeof(size), "%lld",
				 (long long)job->bytes_total);
		vp = (struct cloud_alibaba_video_params){
		    .title = job->media_name,
		    .file_name = buf_cstr(&fname),
		    .file_size = size[0] ? size : NULL,
		    .description = json_get_str(opt, "description"),
		    .cover_url = json_get_str(opt, "cover_url"),
		    .cate_id = cate[0] ? cate : NULL,
		    .tags = json_get_str(opt, "tags"),
		    .template_group_id = job->procedure,
		    .workflow_id = json_get_str(opt, "workflow_id"),
		    .storage_location = json_get_str(opt, "storage_location"),
		    .user_data = user_data,
		};
		rc = cloud_alibaba_create_upload_video(o, &vp, &r, e);
	}
	if (rc != 0)
		goto out;
	if (r.video_id == NULL || r.video_id[0] == '\0' ||
	    r.auth.bucket == NULL || r.auth.endpoint == NULL ||
	    r.auth.file_name == NULL) {
		rc = err_set(e, ERR_REMOTE,
			     "%s answered without a media id or an upload "
			     "address",
			     call);
		goto out;
	}
	if ((rc = split_endpoint(r.auth.endpoint, &scheme, &host, e)) != 0)
		goto out;
	/* The emulator is reached over plain http when that is allowed. */
	*out = ali_session(o->allow_http ? "http" : "https", r.auth.bucket,
			   host, r.auth.region, r.auth.file_name,
			   r.auth.access_key_id, r.auth.access_key_secret,
			   r.auth.security_token, r.auth.expire_at, r.video_id,
			   r.image_url, image || attached);
	((struct ali_priv *)(*out)->priv)->v4 = o->alibaba_oss_v4;
	log_msg(LOG_INFO, "upload", "upload %s: %s %s created", job->id,
		attached ? "attached media"
		: image	 ? "image"
			 : "video",
		r.video_id);
out:
	free(scheme);
	free(host);
	free(user_data);
	buf_free(&fname);
	cloud_alibaba_upload_cleanup(&r);
	return rc;
}

static char *
ali_save(const struct upload_session *s)
{
	const struct ali_priv *p = s->priv;
	cJSON *doc = upload__session_doc("alibaba");

	json_add_str(doc, "scheme", p->scheme);
	json_add_str(doc, "bucket", p->bucket);
	json_add_str(doc, "endpoint", p->endpoint);
	json_add_str(doc, "region", p->region);
	json_add_str(doc, "key", s->target.key);
	json_add_str(doc, "media_id", s->file_id);
	json_add_str(doc, "image_url", p->image_url);
	cJSON_AddBoolToObject(doc, "image", p->image);
	json_add_str(doc, "access_key_id", p->access_key_id);
	json_add_str(doc, "access_key_secret", p->access_key_secret);
	json_add_str(doc, "security_token", p->security_token);
	return upload__session_text(doc, s);
}

static int
ali_load(const struct cloud_opts *o, const char *json,
	 struct upload_session **out, struct err *e)
{
	const char *scheme, *bucket, *endpoint, *key, *id;
	int64_t exp;
	cJSON *doc = upload__session_parse(json, &exp, e);

	*out = NULL;
	if (doc == NULL)
		return ERR_INPUT;
	scheme = json_get_str(doc, "scheme");
	bucket = json_get_str(doc, "bucket");
	endpoint = json_get_str(doc, "endpoint");
	key = json_get_str(doc, "key");
	id = json_get_str(doc, "media_id");
	if (!scheme || !bucket || !endpoint || !key || !id ||
	    !json_get_str(doc, "access_key_id")) {
		cJSON_Delete(doc);
		return err_set(e, ERR_INPUT, "stored session is incomplete");
	}
	*out =
	    ali_session(scheme, bucket, endpoint, json_get_str(doc, "region"),
			key, json_get_str(doc, "access_key_id"),
			json_get_str(doc, "access_key_secret"),
			json_get_str(doc, "security_token"), exp, id,
			json_get_str(doc, "image_url"),
			cJSON_IsTrue(json_get(doc, "image")));
	((struct ali_priv *)(*out)->priv)->v4 = o != NULL && o->alibaba_oss_v4;
	cJSON_Delete(doc);
	return 0;
}

/*
 * RefreshUploadVideo: a new credential for the same VideoId; the object
 * (bucket, key) stays, so a multipart upload goes on. Images cannot be
 * refreshed (ERR_NOTFOUND: the worker starts over with a new image).
 * Called from the thread that runs the transfer, between requests.
 */
static int
ali_refresh(const struct cloud_opts *o, const struct upload_job *job,
	    struct upload_session *s, struct err *e)
{
	struct ali_priv *p = s->priv;
	struct cloud_alibaba_upload r = {0};
	int rc;

	if (p->image)
		return err_set(e, ERR_NOTFOUND,
			       "the upload credential of an image or attached "
			       "media cannot be refreshed");
	if ((rc = cloud_alibaba_refresh_upload_video(o, s->file_id, &r, e)) !=
	    0)
		goto out;
	if (r.auth.access_key_id == NULL || r.auth.access_key_secret == NULL) {
		rc =
		    err_set(e, ERR_REMOTE,
			    "RefreshUploadVideo answered without a credential");
		goto out;
	}
	if (r.auth.file_name != NULL &&
	    strcmp(r.auth.file_name[0] == '/' ? r.auth.file_name + 1
					      : r.auth.file_name,
		   s->target.key) != 0)
		log_msg(LOG_WARN, "upload",
			"upload %s: RefreshUploadVideo named another object "
			"\"%s\"; keeping \"%s\"",
			job->id, r.auth.file_name, s->target.key);
	free(p->access_key_id);
	wipe_free(p->access_key_secret);
	free(p->security_token);
	p->access_key_id = r.auth.access_key_id;
	p->access_key_secret = r.auth.access_key_secret;
	p->security_token = r.auth.security_token;
	r.auth.access_key_id = r.auth.access_key_secret = NULL;
	r.auth.security_token = NULL;
	p->v4 = o->alibaba_oss_v4;
	s->expires_at = r.auth.expire_at;
	log_msg(LOG_INFO, "upload",
		"upload %s: credential of %s refreshed, valid %lld s", job->id,
		s->file_id, (long long)(s->expires_at - time_unix()));
out:
	cloud_alibaba_upload_cleanup(&r);
	return rc;
}

/* Nothing to tell the platform: the media id is known since apply. */
static int
ali_commit(const struct cloud_opts *o, const struct upload_job *job,
	   struct upload_session *s, struct upload_result *res, struct err *e)
{
	const struct ali_priv *p = s->priv;

	(void)o;
	(void)job;
	memset(res, 0, sizeof(*res));
	if (s->file_id == NULL)
		return err_set(e, ERR_INTERNAL, "session without a media id");
	res->file_id = xstrdup(s->file_id);
	res->media_url = dup_or_null(p->image_url);
	return 0;
}

/*
 * A session abandoned for good (the job canceled, or failed with no attempt
 * left): the video, image or attached media record that CreateUploadVideo,
 * CreateUploadImage or CreateUploadAttachedMedia made on the platform would
 * stay behind, empty, in the media library. Delete it with the call of its
 * kind (DeleteVideo, DeleteImage, DeleteAttachedMedia: a DeleteVideo of
 * another kind's id answers NonExistVideoIds). The client retries the call
 * on a transient failure (bounded, with back-off); a failure that remains
 * is logged and never changes the job's outcome, which the caller records
 * next.
 */
static void
ali_abort(const struct cloud_opts *o, const struct upload_job *job,
	  struct upload_session *s)
{
	bool attached = upload__alibaba_is_attached(job);
	bool image = !attached && upload__alibaba_is_image(job);
	const char *what = attached ? "attached media"
			   : image  ? "image"
				    : "video";
	struct cloud_opts ao;
	struct err e;
	int rc;

	if (s->file_id == NULL)
		return;
	/* the application the record was made in, as for its creation */
	cloud_alibaba_opts_for_app(o, json_get_str(job->options, "app_id"),
				   &ao);
	err_clear(&e);
	rc = attached ? cloud_alibaba_delete_attached_media(&ao, s->file_id, &e)
	     : image  ? cloud_alibaba_delete_image(&ao, s->file_id, &e)
		      : cloud_alibaba_delete_video(&ao, s->file_id, &e);
	if (rc == 0)
		log_msg(LOG_INFO, "upload",
			"upload %s: deleted %s %s from the platform", job->id,
			what, s->file_id);
	else
		log_msg(LOG_WARN, "upload",
			"upload %s: could not delete %s %s from the platform: "
			"%s",
			job->id, what, s->file_id, e.msg);
}

const struct upload_adapter upload__alibaba_adapter = {
    .provider = "alibaba",
    .options = upload__alibaba_options,
    .options_check = upload__alibaba_options_check,
    .options_defaults = upload__alibaba_options_defaults,
    .apply = ali_apply,
    .save = ali_save,
    .load = ali_load,
    .refresh = ali_refresh,
    .commit = ali_commit,
    .abort = ali_abort,
    .free = ali_free,
    .pull = upload__alibaba_url_pull,
};

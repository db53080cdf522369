/*
 * tencent.c: the Tencent VOD adapter: ApplyUpload -> COS with the
 * temporary credential (q-sign, x-cos-security-token) -> CommitUpload.
 *
 * The API calls themselves are cloud/tencent.c's; this file maps a job to
 * their parameters, describes the COS target and signs COS requests.
 * SourceContext is "vh1:<upload id>" so that callbacks find the upload;
 * the user's own context stays in the database. A URL the platform pulls
 * itself (url_upload "platform") is tencent_url.c's PullUpload.
 *
 * An image (MediaType jpg, png, ...) goes the same way and is recorded as
 * an image. The job's sub_app_id option (the request's, else the
 * setting's) names the sub-application of ApplyUpload and CommitUpload.
 *
 * Interface: upload__tencent_adapter.
 */
#include "upload/upload_int.h"

#include "common/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COS_MIN_PART (1024 * 1024)
#define COS_SIGN_TTL 3600

struct tc_priv {
	char *session_key;
	char *secret_id;
	char *secret_key;
	char *token;
	char *bucket;
	char *region;
	char *scheme;
};

static void
tc_free(struct upload_session *s)
{
	struct tc_priv *p;

	if (s == NULL)
		return;
	p = s->priv;
	if (p != NULL) {
		free(p->session_key);
		free(p->secret_id);
		if (p->secret_key != NULL)
			explicit_bzero(p->secret_key, strlen(p->secret_key));
		free(p->secret_key);
		free(p->token);
		free(p->bucket);
		free(p->region);
		free(p->scheme);
		free(p);
	}
	upload__target_cleanup(&s->target);
	free(s->file_id);
	free(s->cover_key);
	free(s);
}

/* Sign one COS request with the temporary credential. */
static int
tc_sign(const struct upload_session *s, const struct upload_sign_input *in,
	struct curl_slist **headers, struct err *e)
{
	const struct tc_priv *p = s->priv;
	struct cloud_kv hdrs[2];
	size_t nh = 0;
	struct buf path, auth;
	char line[4096];
	int rc;

	hdrs[nh++] = (struct cloud_kv){"host", s->target.host};
	if (p->token != NULL && p->token[0] != '\0')
		hdrs[nh++] =
		    (struct cloud_kv){"x-cos-security-token", p->token};
	buf_init(&path, 8192);
	buf_init(&auth, 8192);
	rc = buf_printf(&path, "/%s", s->target.key);
	if (rc == 0) {
		struct cloud_cos_sign_input ci = {
		    .method = in->method,
		    .path = buf_cstr(&path),
		    .headers = hdrs,
		    .n_headers = nh,
		    .params = in->params,
		    .n_params = in->n_params,
		    .secret_id = p->secret_id,
		    .secret_key = p->secret_key,
		    .start = in->now - 60,
		    .end = in->now + COS_SIGN_TTL,
		};

		rc = cloud_cos_authorization(&ci, &auth);
	}
	if (rc != 0) {
		rc = err_set(e, rc, "could not sign the COS request");
		goto out;
	}
	snprintf(line, sizeof(line), "Authorization: %s", buf_cstr(&auth));
	*headers = curl_slist_append(*headers, line);
	if (p->token != NULL && p->token[0] != '\0') {
		struct buf t;

		buf_init(&t, 16384);
		if (buf_printf(&t, "x-cos-security-token: %s", p->token) != 0) {
			rc = err_set(e, ERR_LIMIT, "security token too long");
			goto out;
		}
		*headers = curl_slist_append(*headers, buf_cstr(&t));
		buf_free(&t);
	}
	if (*headers == NULL)
		fatal("out of memory");
out:
	buf_free(&path);
	buf_free(&auth);
	return rc;
}

/* Build the session from its parts (all strings copied). */
static struct upload_session *
tc_session(const char *scheme, const char *bucket, const char *region,
	   const char *key, const char *cover_key, const char *session_key,
	   const char *sid, const char *skey, const char *token,
	   int64_t expires)
{
	struct upload_session *s = xcalloc(1, sizeof(*s));
	struct tc_priv *p = xcalloc(1, sizeof(*p));
	struct buf host;

	buf_init(&host, 1024);
	if (buf_printf(&host, "%s.cos.%s.myqcloud.com", bucket, region) != 0)
		fatal("out of memory");
	s->adapter = &upload__tencent_adapter;
	upload__target_init(&s->target, scheme, buf_cstr(&host), key);
	buf_free(&host);
	s->target.min_part_size = COS_MIN_PART;
	s->target.max_parts = 10000;
	s->target.sign = tc_sign;
	s->expires_at = expires;
	s->cover_key =
	    cover_key ? xstrdup(cover_key[0] == '/' ? cover_key + 1 : cover_key)
		      : NULL;
	p->scheme = xstrdup(scheme);
	p->bucket = xstrdup(bucket);
	p->region = xstrdup(region);
	p->session_key = xstrdup(session_key);
	p->secret_id = xstrdup(sid ? sid : "");
	p->secret_key = xstrdup(skey ? skey : "");
	p->token = token ? xstrdup(token) : NULL;
	s->priv = p;
	return s;
}

static const char *
opt_str(const cJSON *options, const char *name)
{
	return json_get_str(options, name);
}

static int
tc_apply(const struct cloud_opts *o, const struct upload_job *job,
	 struct upload_session **out, struct err *e)
{
	char ctx[64], class_id[24] = "";
	const char *cover = opt_str(job->options, "cover_path");
	const char *cover_type = NULL;
	struct cloud_tencent_apply_params ap = {0};
	struct cloud_tencent_apply r;
	struct cloud_opts ao;
	int64_t cid;
	int rc;

	*out = NULL;
	snprintf(ctx, sizeof(ctx), "vh1:%s", job->id);
	if (cover != NULL) {
		const char *dot = strrchr(cover, '.');

		cover_type = dot && !strchr(dot, '/') ? dot + 1 : "jpg";
	}
	if (json_get_i64(job->options, "class_id", &cid))
		snprintf(class_id, sizeof(class_id), "%lld", (long long)cid);
	cloud_tencent_opts_for_subapp(
	    o, json_get_str(job->options, "sub_app_id"), &ao);
	ap.media_type = job->media_type;
	ap.media_name = job->media_name;
	ap.cover_type = cover_type;
	ap.procedure = job->procedure;
	ap.source_context = ctx;
	ap.session_context = opt_str(job->options, "session_context");
	ap.storage_region = opt_str(job->options, "storage_region");
	ap.expire_time = opt_str(job->options, "expire_time");
	ap.class_id = class_id[0] ? class_id : NULL;
	if ((rc = cloud_tencent_apply_upload(&ao, &ap, &r, e)) != 0)
		return rc;
	if (r.storage_bucket == NULL || r.storage_region == NULL ||
	    r.media_storage_path == NULL || r.vod_session_key == NULL) {
		rc = err_set(e, ERR_REMOTE,
			     "ApplyUpload answered without a storage location");
		goto out;
	}
	/* Without a TempCertificate, COS takes the account's own key. */
	*out = tc_session(
	    o->allow_http ? "http" : "https", r.storage_bucket,
	    r.storage_region, r.media_storage_path, r.cover_storage_path,
	    r.vod_session_key,
	    r.tmp_secret_id ? r.tmp_secret_id : o->tencent_secret_id,
	    r.tmp_secret_id ? r.tmp_secret_key : o->tencent_secret_key,
	    r.tmp_token, r.expired_time);
out:
	cloud_tencent_apply_cleanup(&r);
	return rc;
}

static char *
tc_save(const struct upload_session *s)
{
	const struct tc_priv *p = s->priv;
	cJSON *doc = upload__session_doc("tencent");

	json_add_str(doc, "scheme", p->scheme);
	json_add_str(doc, "bucket", p->bucket);
	json_add_str(doc, "region", p->region);
	json_add_str(doc, "key", s->target.key);
	json_add_str(doc, "cover_key", s->cover_key);
	json_add_str(doc, "vod_session_key", p->session_key);
	json_add_str(doc, "secret_id", p->secret_id);
	json_add_str(doc, "secret_key", p->secret_key);
	json_add_str(doc, "token", p->token);
	return upload__session_text(doc, s);
}

static int
tc_load(const struct cloud_opts *o, const char *json,
	struct upload_session **out, struct err *e)
{
	const char *scheme, *bucket, *region, *key, *sk;
	int64_t exp;
	cJSON *doc = upload__session_parse(json, &exp, e);

	(void)o; /* COS signing has no options */
	*out = NULL;
	if (doc == NULL)
		return ERR_INPUT;
	scheme = json_get_str(doc, "scheme");
	bucket = json_get_str(doc, "bucket");
	region = json_get_str(doc, "region");
	key = json_get_str(doc, "key");
	sk = json_get_str(doc, "vod_session_key");
	if (!scheme || !bucket || !region || !key || !sk) {
		cJSON_Delete(doc);
		return err_set(e, ERR_INPUT, "stored session is incomplete");
	}
	*out = tc_session(
	    scheme, bucket, region, key, json_get_str(doc, "cover_key"), sk,
	    json_get_str(doc, "secret_id"), json_get_str(doc, "secret_key"),
	    json_get_str(doc, "token"), exp);
	cJSON_Delete(doc);
	return 0;
}

static int
tc_commit(const struct cloud_opts *o, const struct upload_job *job,
	  struct upload_session *s, struct upload_result *res, struct err *e)
{
	const struct tc_priv *p = s->priv;
	struct cloud_tencent_commit r;
	struct cloud_opts ao;
	int rc;

	/* The VodSessionKey is known to the application that issued it. */
	cloud_tencent_opts_for_subapp(
	    o, json_get_str(job->options, "sub_app_id"), &ao);
	memset(res, 0, sizeof(*res));
	if ((rc = cloud_tencent_commit_upload(&ao, p->session_key, &r, e)) != 0)
		return rc;
	if (r.file_id == NULL || r.file_id[0] == '\0') {
		cloud_tencent_commit_cleanup(&r);
		return err_set(e, ERR_REMOTE,
			       "CommitUpload answered without a FileId");
	}
	res->file_id = r.file_id;
	res->media_url = r.media_url;
	res->cover_url = r.cover_url;
	r.file_id = r.media_url = r.cover_url = NULL;
	cloud_tencent_commit_cleanup(&r);
	return 0;
}

/*
 * The request options ApplyUpload takes, with the limits of its reference
 * (https://www.tencentcloud.com/document/api/266/34120: SessionContext at
 * most 1000 characters; SubAppId a uint64), and the cover to send with the
 * media.
 */
static const struct upload_opt_spec tc_options[] = {
    {"sub_app_id", UPLOAD_OPT_INT, 0, 1, false, 0, NULL},
    {"class_id", UPLOAD_OPT_INT, 0, 0, false, 0, NULL},
    {"storage_region", UPLOAD_OPT_NAME, 64, 0, false, 0, NULL},
    {"expire_time", UPLOAD_OPT_TIME, 32, 0, false, 0, NULL},
    {"session_context", UPLOAD_OPT_TEXT, 1000, 0, false, 0, NULL},
    {"cover_path", UPLOAD_OPT_TEXT, 4096, 0, false, 0, NULL},
    /* PullUpload only (url_upload "platform"): CoverUrl, TasksPriority
     * (https://cloud.tencent.com/document/api/266/35575). */
    {"cover_url", UPLOAD_OPT_URL, 2048, 0, false, 0, NULL},
    {"tasks_priority", UPLOAD_OPT_INT, 0, -10, false, 0, NULL},
    {NULL, 0, 0, 0, false, 0, NULL},
};

static const char *const tc_pull_only[] = {"cover_url", "tasks_priority", NULL};

/*
 * The image types ApplyUpload takes as MediaType: "JPG, JPEG, PNG, GIF,
 * BMP, TIFF, AI, CDR, EPS, TIF and HEIF"
 * (https://www.tencentcloud.com/document/product/266/2846, and the image
 * upload guide, https://www.tencentcloud.com/document/product/266/37900).
 * Any other type is a video or audio file.
 */
static const char *const tc_image_types[] = {"jpg", "jpeg", "png",  "gif",
					     "bmp", "tiff", "tif",  "ai",
					     "cdr", "eps",  "heif", NULL};

static bool
is_image(const char *media_type)
{
	for (size_t i = 0; media_type != NULL && tc_image_types[i] != NULL; i++)
		if (strcasecmp(media_type, tc_image_types[i]) == 0)
			return true;
	return false;
}

/*
 * An image (its MediaType one of the image types) is recorded as one. A
 * cover applies to audio and video only: an image is its own cover, and
 * CoverType would make ApplyUpload hand out a second object for nothing.
 * TasksPriority is -10 to 10 (the spec gives the lower bound only).
 */
static int
tc_options_check(const char *media_type, cJSON *opts, const char **media_kind,
		 struct err *e)
{
	int64_t prio;

	if (json_get_i64(opts, "tasks_priority", &prio) && prio > 10)
		return err_set(e, ERR_INPUT,
			       "tasks_priority must be -10 to 10");
	if (!is_image(media_type))
		return 0;
	*media_kind = "image";
	if (json_get(opts, "cover_path") != NULL)
		return err_set(e, ERR_INPUT,
			       "cover_path does not apply to an image "
			       "(media type \"%s\")",
			       media_type);
	return 0;
}

/* The storage region and SubAppId of the settings, when the request names
 * none: the upload keeps the application it was made in, whatever the
 * setting says later. */
static void
tc_options_defaults(const struct upload_config *c, cJSON *opts)
{
	const char *sub = c->cloud != NULL ? c->cloud->tencent_subapp_id : NULL;

	if (json_get_str(opts, "sub_app_id") == NULL && sub != NULL &&
	    sub[0] != '\0' && strcmp(sub, "0") != 0)
		json_add_str(opts, "sub_app_id", sub);
	if (json_get_str(opts, "storage_region") == NULL &&
	    c->default_storage_region != NULL &&
	    c->default_storage_region[0] != '\0')
		json_add_str(opts, "storage_region", c->default_storage_region);
}

const struct upload_adapter upload__tencent_adapter = {
    .provider = "tencent",
    .options = tc_options,
    .options_check = tc_options_check,
    .options_defaults = tc_options_defaults,
    .apply = tc_apply,
    .save = tc_save,
    .load = tc_load,
    .refresh = NULL,
    .commit = tc_commit,
    .abort = NULL,
    .free = tc_free,
    .pull = upload__tencent_url_pull,
    .pull_checks_address = true,
    .pull_only_options = tc_pull_only,
};

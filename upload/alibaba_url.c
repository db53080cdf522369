/*
 * alibaba_url.c: the Alibaba adapter's ->pull: URL sources that Alibaba
 * VOD fetches itself (UploadMediaByURL), the "platform" way of url_upload;
 * the "stream" way (vodhook downloads the URL and uploads the bytes) is
 * the usual apply / transfer / commit.
 *
 * A pull job is one UploadMediaByURL call: UploadURLs is the one URL,
 * UploadMetadatas gives its Title, FileExtension and the optional
 * Description, CoverURL, CateId, Tags, TemplateGroupId and WorkflowId,
 * and UserData is upload__alibaba_user_data's, as for CreateUploadVideo
 * (Extend {"vh": upload id, "ctx": source_context}, MessageCallback), so
 * that the FileUploadComplete that follows the pull finds the upload. The
 * JobId it answers is recorded by the worker (uploads.url_job_id); the
 * callbacks finish the job: FileUploadComplete and the events after it
 * through Extend, a failed UploadByURLComplete through the JobId.
 *
 * Job options read here (all optional): description, cover_url, cate_id,
 * tags, workflow_id, storage_location; url_upload ("platform" marks a
 * pull job, set by upload_submit).
 *
 * Interface: upload__alibaba_url_metadatas, upload__alibaba_url_pull.
 */
#include "upload/upload_int.h"

#include "common/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Add a string member when s is set and not empty. */
static void
add_str(cJSON *obj, const char *name, const char *s)
{
	if (s != NULL && s[0] != '\0')
		json_add_str(obj, name, s);
}

char *
upload__alibaba_url_metadatas(const struct upload_job *job)
{
	const cJSON *opt = job->options;
	cJSON *arr = cJSON_CreateArray(), *m = cJSON_CreateObject();
	char *txt;
	int64_t cate;

	if (arr == NULL || m == NULL)
		fatal("out of memory");
	add_str(m, "SourceURL", job->source);
	add_str(m, "Title", job->media_name);
	add_str(m, "FileExtension", job->media_type);
	add_str(m, "Description", json_get_str(opt, "description"));
	add_str(m, "CoverURL", json_get_str(opt, "cover_url"));
	/* CateId is a Long: a JSON number written from its exact digits. */
	if (json_get_i64(opt, "cate_id", &cate)) {
		char num[24];

		snprintf(num, sizeof(num), "%lld", (long long)cate);
		if (cJSON_AddRawToObject(m, "CateId", num) == NULL)
			fatal("out of memory");
	}
	add_str(m, "Tags", json_get_str(opt, "tags"));
	add_str(m, "TemplateGroupId", job->procedure);
	add_str(m, "WorkflowId", json_get_str(opt, "workflow_id"));
	cJSON_AddItemToArray(arr, m);
	if ((txt = cJSON_PrintUnformatted(arr)) == NULL)
		fatal("out of memory");
	cJSON_Delete(arr);
	return txt;
}

int
upload__alibaba_url_pull(const struct cloud_opts *o,
			 const struct upload_job *job, char **job_id,
			 struct err *e)
{
	const cJSON *opt = job->options;
	struct cloud_alibaba_url_jobs r = {0};
	char *metadatas = NULL, *user_data = NULL;
	struct buf urls;
	int rc;

	*job_id = NULL;
	buf_init(&urls, 4 * UPLOAD_PULL_URL_MAX);
	/* UploadURLs is a comma-separated list of URL-encoded URLs. */
	if (job->source == NULL ||
	    cloud_uri_encode(&urls, job->source, strlen(job->source), false) !=
		0) {
		rc = err_set(e, ERR_INPUT, "url is missing or too long");
		goto out;
	}
	metadatas = upload__alibaba_url_metadatas(job);
	user_data = upload__alibaba_user_data(job, o->alibaba_callback_url);
	{
		struct cloud_alibaba_url_params p = {
		    .urls = buf_cstr(&urls),
		    .metadatas = metadatas,
		    .template_group_id = job->procedure,
		    .workflow_id = json_get_str(opt, "workflow_id"),
		    .storage_location = json_get_str(opt, "storage_location"),
		    .user_data = user_data,
		};

		struct cloud_opts ao;

		cloud_alibaba_opts_for_app(o, json_get_str(opt, "app_id"), &ao);
		rc = cloud_alibaba_upload_media_by_url(&ao, &p, &r, e);
	}
	if (rc != 0)
		goto out;
	if (r.n != 1 || r.job_ids[0] == NULL || r.job_ids[0][0] == '\0') {
		rc = err_set(e, ERR_REMOTE,
			     "UploadMediaByURL answered %zu jobs for one URL "
			     "(RequestId %s)",
			     r.n, r.request_id ? r.request_id : "none");
		goto out;
	}
	*job_id = xstrdup(r.job_ids[0]);
	log_msg(LOG_INFO, "upload",
		"upload %s: the platform pulls the URL as job %s", job->id,
		*job_id);
out:
	cloud_alibaba_url_jobs_cleanup(&r);
	free(metadatas);
	free(user_data);
	buf_free(&urls);
	return rc;
}

/*
 * tencent_url.c: the Tencent adapter's ->pull: URL sources that Tencent
 * VOD fetches itself (PullUpload), the "platform" way of url_upload; the
 * "stream" way (vodhook downloads the URL and uploads the bytes) is the
 * usual apply / transfer / commit.
 *
 * A pull job is one PullUpload call (API reference:
 * https://cloud.tencent.com/document/api/266/35575; tencentcloud-sdk-go
 * vod/v20180717 PullUploadRequestParams): MediaUrl is the URL, MediaName,
 * MediaType, Procedure and the options class_id, storage_region,
 * expire_time, session_context, cover_url and tasks_priority map to
 * ClassId, StorageRegion, ExpireTime, SessionContext, CoverUrl and
 * TasksPriority. SourceContext is "vh1:<upload id>", as for ApplyUpload,
 * so that the PullComplete event (MediaBasicInfo.SourceInfo.SourceContext)
 * finds the upload; the TaskId it answers is recorded by the worker
 * (uploads.url_job_id), which links the events that carry no context
 * (a failed pull, the legacy format) and the reconciler's lookups. The
 * job's sub_app_id (the request's, else the setting's, as for ApplyUpload)
 * is the SubAppId, so that the pulled media lives in the upload's
 * application.
 *
 * Interface: upload__tencent_url_pull.
 */
#include "upload/upload_int.h"

#include "common/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A string option, NULL when absent or empty. */
static const char *
opt(const cJSON *options, const char *name)
{
	const char *s = json_get_str(options, name);

	return s != NULL && s[0] != '\0' ? s : NULL;
}

int
upload__tencent_url_pull(const struct cloud_opts *o,
			 const struct upload_job *job, char **task_id,
			 struct err *e)
{
	struct cloud_tencent_pull r;
	struct cloud_opts ao;
	char ctx[64], class_id[24] = "", prio[8] = "";
	int64_t v;
	int rc;

	*task_id = NULL;
	snprintf(ctx, sizeof(ctx), "vh1:%s", job->id);
	if (json_get_i64(job->options, "class_id", &v))
		snprintf(class_id, sizeof(class_id), "%lld", (long long)v);
	if (json_get_i64(job->options, "tasks_priority", &v))
		snprintf(prio, sizeof(prio), "%lld", (long long)v);
	{
		struct cloud_tencent_pull_params p = {
		    .media_url = job->source,
		    .media_type = job->media_type,
		    .media_name = job->media_name,
		    .cover_url = opt(job->options, "cover_url"),
		    .procedure = job->procedure,
		    .expire_time = opt(job->options, "expire_time"),
		    .storage_region = opt(job->options, "storage_region"),
		    .class_id = class_id[0] ? class_id : NULL,
		    .tasks_priority = prio[0] ? prio : NULL,
		    .session_context = opt(job->options, "session_context"),
		    .source_context = ctx,
		};

		cloud_tencent_opts_for_subapp(
		    o, json_get_str(job->options, "sub_app_id"), &ao);
		rc = cloud_tencent_pull_upload(&ao, &p, &r, e);
	}
	if (rc != 0)
		return rc;
	*task_id = r.task_id;
	r.task_id = NULL;
	log_msg(LOG_INFO, "upload",
		"upload %s: the platform pulls the URL as task %s", job->id,
		*task_id);
	cloud_tencent_pull_cleanup(&r);
	return 0;
}

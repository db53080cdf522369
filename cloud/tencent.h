/*
 * cloud/tencent.h: the Tencent Cloud VOD API client (tencent.c):
 * ApplyUpload, CommitUpload, PullUpload, PullEvents, ConfirmEvents and
 * DescribeMediaInfos, signed with TC3, and their pure response parsers.
 */
#ifndef VODHOOK_CLOUD_TENCENT_H
#define VODHOOK_CLOUD_TENCENT_H

#include "cloud/http.h"

#include <cjson/cJSON.h>

#define CLOUD_TENCENT_ID_MAX 128 /* bytes of a TaskId this client sends */

struct cloud_tencent_apply_params {
	const char *media_type;	     /* required: "mp4" */
	const char *media_name;	     /* optional */
	const char *cover_type;	     /* optional: "jpg" */
	const char *procedure;	     /* optional */
	const char *source_context;  /* optional, <= 250 chars */
	const char *session_context; /* optional, <= 1000 chars */
	const char *storage_region;  /* optional */
	const char *expire_time;     /* optional, ISO 8601 */
	const char *class_id;	     /* optional, decimal */
};

/*
 * PullUpload: the platform fetches media_url itself. Source: the API
 * reference https://cloud.tencent.com/document/api/266/35575 and
 * tencentcloud-sdk-go vod/v20180717 PullUploadRequestParams.
 */
struct cloud_tencent_pull_params {
	const char *media_url;	     /* required, http(s) */
	const char *media_type;	     /* optional: "" detects it from the URL */
	const char *media_name;	     /* optional */
	const char *cover_url;	     /* optional */
	const char *procedure;	     /* optional */
	const char *expire_time;     /* optional, ISO 8601 */
	const char *storage_region;  /* optional */
	const char *class_id;	     /* optional, decimal */
	const char *tasks_priority;  /* optional, decimal -10 to 10 */
	const char *session_context; /* optional, <= 1000 chars */
	const char *source_context;  /* optional, <= 250 chars */
};

/* Owned strings (NULL when absent); free with _cleanup. */
struct cloud_tencent_apply {
	char *storage_bucket;
	char *storage_region;
	char *media_storage_path;
	char *cover_storage_path;
	char *vod_session_key;
	char *tmp_secret_id; /* TempCertificate; NULL when null */
	char *tmp_secret_key;
	char *tmp_token;
	int64_t expired_time; /* Unix seconds, 0 when absent */
	char *request_id;
};

struct cloud_tencent_commit {
	char *file_id;
	char *media_url;
	char *cover_url;
	char *request_id;
};

struct cloud_tencent_pull {
	char *task_id; /* the pull's TaskId */
	char *request_id;
};

struct cloud_tencent_events {
	cJSON *doc;	  /* the whole response; owned, freed by _cleanup */
	const cJSON *set; /* Response.EventSet (array) or NULL; borrowed */
	char **handles;	  /* EventHandle of each event that has one */
	size_t n_handles;
	char *request_id;
};

struct cloud_tencent_media {
	char *file_id;
	bool exists;	     /* false: listed in NotExistFileIdSet */
	char *media_url;     /* BasicInfo.MediaUrl */
	char *status;	     /* BasicInfo.Status ("Normal", "Forbidden") */
	size_t n_transcodes; /* TranscodeInfo.TranscodeSet entries */
	const cJSON *info;   /* the raw MediaInfo, borrowed from doc */
};

struct cloud_tencent_media_infos {
	cJSON *doc; /* owned */
	struct cloud_tencent_media *items;
	size_t n_items;
	char *request_id;
};

/*
 * A task as DescribeTaskDetail reports it. Status is the task's as a whole:
 * WAITING, PROCESSING, FINISH or ABORTED. The detail is the member named for
 * the task type ("Procedure" -> ProcedureTask, "PullUpload" ->
 * PullUploadTask), the very struct the ProcedureStateChanged and
 * PullComplete events carry, so a caller reads it as it reads those.
 */
struct cloud_tencent_task {
	cJSON *doc;	     /* owned */
	char *task_type;     /* TaskType */
	char *status;	     /* Status */
	const cJSON *detail; /* <TaskType>Task, borrowed from doc; NULL when
				the answer has none */
	char *request_id;
};

void cloud_tencent_apply_cleanup(struct cloud_tencent_apply *r);
void cloud_tencent_commit_cleanup(struct cloud_tencent_commit *r);
void cloud_tencent_pull_cleanup(struct cloud_tencent_pull *r);
void cloud_tencent_events_cleanup(struct cloud_tencent_events *r);
void cloud_tencent_media_infos_cleanup(struct cloud_tencent_media_infos *r);
void cloud_tencent_task_cleanup(struct cloud_tencent_task *r);

/*
 * The API calls. Each signs a POST with TC3, retries transport failures
 * where that is safe (CommitUpload only when the request never left), and
 * maps Response.Error to ERR_AUTH (AuthFailure.*) or ERR_REMOTE with the
 * platform's code in e->remote. A non-200 status is ERR_UNAVAIL (5xx) or
 * ERR_REMOTE. Results are zeroed first and owned by the caller.
 */
int cloud_tencent_apply_upload(const struct cloud_opts *o,
			       const struct cloud_tencent_apply_params *p,
			       struct cloud_tencent_apply *r,
			       struct err *e) VH_MUST_CHECK;
int cloud_tencent_commit_upload(const struct cloud_opts *o,
				const char *vod_session_key,
				struct cloud_tencent_commit *r,
				struct err *e) VH_MUST_CHECK;
/* Not retried once the request left: a second pull would fetch twice. */
int cloud_tencent_pull_upload(const struct cloud_opts *o,
			      const struct cloud_tencent_pull_params *p,
			      struct cloud_tencent_pull *r,
			      struct err *e) VH_MUST_CHECK;
/* Long poll (held up to 5 s by the server; client timeout 10 s). */
int cloud_tencent_pull_events(const struct cloud_opts *o,
			      struct cloud_tencent_events *r,
			      struct err *e) VH_MUST_CHECK;
/* At most 16 handles. */
int cloud_tencent_confirm_events(const struct cloud_opts *o,
				 const char *const *handles, size_t n,
				 struct err *e) VH_MUST_CHECK;
/* At most 20 file ids. */
int cloud_tencent_describe_media_infos(const struct cloud_opts *o,
				       const char *const *file_ids, size_t n,
				       struct cloud_tencent_media_infos *r,
				       struct err *e) VH_MUST_CHECK;

/*
 * DescribeTaskDetail of task_id (at most CLOUD_TENCENT_ID_MAX bytes). The
 * platform answers only for tasks created in the last three days; an older
 * or unknown one is an ERR_REMOTE with the platform's code
 * (InvalidParameterValue.TaskId or ResourceNotFound).
 */
int cloud_tencent_describe_task_detail(const struct cloud_opts *o,
				       const char *task_id,
				       struct cloud_tencent_task *r,
				       struct err *e) VH_MUST_CHECK;

/*
 * DeleteMedia of file_id: the media and every file made from it. The
 * deletion completes later (a FileDeleted event); a file the platform does
 * not know is an ERR_REMOTE with its code (ResourceNotFound.FileNotExist).
 */
int cloud_tencent_delete_media(const struct cloud_opts *o, const char *file_id,
			       struct err *e) VH_MUST_CHECK;

/* Pure parsers of a response (HTTP status, body) used by the calls above. */
int cloud_tencent_parse_apply(long status, const char *body, size_t len,
			      struct cloud_tencent_apply *r,
			      struct err *e) VH_MUST_CHECK;
int cloud_tencent_parse_commit(long status, const char *body, size_t len,
			       struct cloud_tencent_commit *r,
			       struct err *e) VH_MUST_CHECK;
int cloud_tencent_parse_pull(long status, const char *body, size_t len,
			     struct cloud_tencent_pull *r,
			     struct err *e) VH_MUST_CHECK;
int cloud_tencent_parse_events(long status, const char *body, size_t len,
			       struct cloud_tencent_events *r,
			       struct err *e) VH_MUST_CHECK;
int cloud_tencent_parse_media_infos(long status, const char *body, size_t len,
				    struct cloud_tencent_media_infos *r,
				    struct err *e) VH_MUST_CHECK;
int cloud_tencent_parse_task_detail(long status, const char *body, size_t len,
				    struct cloud_tencent_task *r,
				    struct err *e) VH_MUST_CHECK;
/* Envelope only (DeleteMedia): 0 or the mapped error. */
int cloud_tencent_parse_delete(long status, const char *body, size_t len,
			       struct err *e) VH_MUST_CHECK;
/* Envelope only (ConfirmEvents): 0 or the mapped error. */
int cloud_tencent_parse_empty(long status, const char *body, size_t len,
			      struct err *e) VH_MUST_CHECK;

#endif

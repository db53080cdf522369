/*
 * parse_tencent.c: Tencent Cloud VOD event notifications into struct
 * vod_event.
 *
 * Two body formats, told apart by content:
 *   v3      {"EventType":"NewFileUpload","FileUploadEvent":{...}}: one
 *           payload object per type (PascalCase keys). PullEvents elements
 *           are v3 too, with explicit nulls and an EventHandle.
 *   legacy  {"version":"4.0" (or 4),"eventType":"...","data":{...}}
 *           (lowerCamel keys).
 * When both EventType and eventType are present, EventType (v3) wins.
 *
 * The same event in either format gets the same dedup key; the keys are
 * documented in callbacks/README.md. Ids are never read through a double
 * (see cb__get_id). Pure and thread-safe.
 *
 * PullComplete (a URL the platform pulled, PullUpload) is the upload's
 * completion: with its FileId and no error it confirms the media, as
 * NewFileUpload does; with an error it has no FileId and only its TaskId
 * (the upload's url_job_id) links it, which fails the upload (store/).
 *
 * Interface: cb_parse_tencent, cb__parse_tencent_doc, cb_parse_tencent_json,
 * cb_parse_tencent_unparsed, cb__parse_tencent_procedure,
 * cb__parse_tencent_pull.
 */
#include "callbacks/parse_int.h"
#include "common/json.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum tc_kind {
	TC_UNKNOWN,
	TC_UPLOAD,
	TC_PROCEDURE,
	TC_DELETED,
	TC_PULL,
	TC_TASK
};

static int legacy_status(struct vod_event *ev, const cJSON *data,
			 struct err *e);

/* Known v3 event types and the member(s) carrying their payload. */
static const struct tc_type {
	const char *type;
	enum tc_kind kind;
	const char *field;
	const char *alt; /* another spelling seen in official code, or NULL */
} tc_types[] = {
    {"NewFileUpload", TC_UPLOAD, "FileUploadEvent", NULL},
    {"ProcedureStateChanged", TC_PROCEDURE, "ProcedureStateChangeEvent", NULL},
    {"FileDeleted", TC_DELETED, "FileDeleteEvent", NULL},
    {"RestoreMediaComplete", TC_TASK, "RestoreMediaCompleteEvent", NULL},
    {"PullComplete", TC_PULL, "PullCompleteEvent", NULL},
    {"EditMediaComplete", TC_TASK, "EditMediaCompleteEvent", NULL},
    {"SplitMediaComplete", TC_TASK, "SplitMediaCompleteEvent", NULL},
    {"ComposeMediaComplete", TC_TASK, "ComposeMediaCompleteEvent", NULL},
    {"WechatMiniProgramPublishComplete", TC_TASK,
     "WechatMiniProgramPublishCompleteEvent", "WechatMiniProgramPublishEvent"},
    {"WechatPublishComplete", TC_TASK, "WechatPublishCompleteEvent", NULL},
    {"RemoveWatermark", TC_TASK, "RemoveWatermarkCompleteEvent", NULL},
    {"RemoveWatermarkComplete", TC_TASK, "RemoveWatermarkCompleteEvent", NULL},
    {"RebuildMediaComplete", TC_TASK, "RebuildMediaCompleteEvent", NULL},
    {"ReviewAudioVideoComplete", TC_TASK, "ReviewAudioVideoCompleteEvent",
     NULL},
    {"ExtractTraceWatermarkComplete", TC_TASK,
     "ExtractTraceWatermarkCompleteEvent", NULL},
    {"ExtractCopyRightWatermarkComplete", TC_TASK,
     "ExtractCopyRightWatermarkCompleteEvent", NULL},
    {"DescribeFileAttributesComplete", TC_TASK,
     "DescribeFileAttributesCompleteEvent", NULL},
    {"QualityInspectComplete", TC_TASK, "QualityInspectCompleteEvent", NULL},
    {"QualityEnhanceComplete", TC_TASK, "QualityEnhanceCompleteEvent", NULL},
    {"PersistenceComplete", TC_TASK, "PersistenceCompleteEvent", NULL},
    {"ComplexAdaptiveDynamicStreamingComplete", TC_TASK,
     "ComplexAdaptiveDynamicStreamingCompleteEvent", NULL},
    {"ProcessMediaByMPSComplete", TC_TASK, "ProcessMediaByMPSCompleteEvent",
     NULL},
    {"AigcImageTaskComplete", TC_TASK, "AigcImageCompleteEvent", NULL},
    {"AigcVideoTaskComplete", TC_TASK, "AigcVideoCompleteEvent", NULL},
    {"DescribeAigcFaceInfoAsyncComplete", TC_TASK,
     "DescribeAigcFaceInfoAsyncCompleteEvent", NULL},
    /* The next type strings appear only in field comments (unconfirmed):
     * accept the comment's spelling and the field name. */
    {"MediaCastStatusChanged", TC_TASK, "MediaCastStatusChangedEvent", NULL},
    {"ExtractBlindWatermarkComplete", TC_TASK, "ExtractBlindWatermarkComplete",
     "ExtractBlindWatermarkCompleteEvent"},
    {"SceneAigcImageCompleteEvent", TC_TASK, "SceneAigcImageCompleteEvent",
     NULL},
    {"SceneAigcImageComplete", TC_TASK, "SceneAigcImageCompleteEvent", NULL},
    {"ProcessImageAsyncCompleteEvent", TC_TASK,
     "ProcessImageAsyncCompleteEvent", NULL},
    {"ProcessImageAsyncComplete", TC_TASK, "ProcessImageAsyncCompleteEvent",
     NULL},
    {"CreateAigcAdvancedCustomElementCompleteEvent", TC_TASK,
     "CreateAigcAdvancedCustomElementCompleteEvent", NULL},
    {"CreateAigcCustomVoiceCompleteEvent", TC_TASK,
     "CreateAigcCustomVoiceCompleteEvent", NULL},
    /* 2017 compatibility (also legacy event types). */
    {"TranscodeComplete", TC_TASK, "TranscodeCompleteEvent", NULL},
    {"ConcatComplete", TC_TASK, "ConcatCompleteEvent", NULL},
    {"ClipComplete", TC_TASK, "ClipCompleteEvent", NULL},
    {"CreateImageSpriteComplete", TC_TASK, "CreateImageSpriteCompleteEvent",
     NULL},
    {"CreateSnapshotByTimeOffsetComplete", TC_TASK,
     "SnapshotByTimeOffsetCompleteEvent", NULL},
    {"ReduceMediaBitrateComplete", TC_TASK, "ReduceMediaBitrateCompleteEvent",
     NULL},
};

#define N_TYPES (sizeof(tc_types) / sizeof(tc_types[0]))

static const struct tc_type *
find_type(const char *type)
{
	for (size_t i = 0; i < N_TYPES; i++)
		if (strcmp(tc_types[i].type, type) == 0)
			return &tc_types[i];
	return NULL;
}

/* The first object member of obj among names (NULL-terminated list). */
static const cJSON *
first_object(const cJSON *obj, const char *a, const char *b)
{
	const cJSON *it = json_get(obj, a);

	if (!cJSON_IsObject(it) && b != NULL)
		it = json_get(obj, b);
	return cJSON_IsObject(it) ? it : NULL;
}

/* The media URL of obj, under any of its known spellings. */
static int
get_url(const cJSON *obj, char **out, struct err *e)
{
	static const char *const names[] = {"FileUrl", "FileURL", "MediaUrl",
					    "fileUrl", "fileURL", "mediaUrl"};
	int rc = 0;

	for (size_t i = 0; i < 6 && rc == 0; i++)
		rc = cb__get_text(obj, names[i], CB_URL_MAX, out, e);
	return rc;
}

/* A non-negative size from obj.name (number or decimal string). */
static void
get_size(const cJSON *obj, const char *name, int64_t *size)
{
	int64_t v;

	if (*size < 0 && json_get_i64(obj, name, &v) && v >= 0)
		*size = v;
}

static void
get_time(const cJSON *obj, const char *name, int64_t *t)
{
	int64_t v;

	if (*t == 0 &&
	    time_parse_rfc3339(json_get_str(obj, name), &v, NULL) == 0)
		*t = v;
}

/*
 * The error of a task object as a code: ErrCodeExt (the current string
 * code) when non-empty, else ErrCode when non-zero (number or string).
 * *code stays NULL when the task reports no error.
 */
static int
task_error(const cJSON *task, const char *ext_name, const char *code_name,
	   char **code, struct err *e)
{
	const char *s;
	int64_t v;
	int rc;

	if ((rc = cb__get_text(task, ext_name, CB_ID_MAX, code, e)) != 0)
		return rc;
	if (*code != NULL)
		return 0;
	if (json_get_i64(task, code_name, &v)) {
		if (v != 0)
			return cb__get_text(task, code_name, CB_ID_MAX, code,
					    e);
		return 0;
	}
	/* A code that is not a number: keep it as text. */
	s = json_get_str(task, code_name);
	if (s != NULL && strcmp(s, "0") != 0)
		return cb__set_text(code, s, CB_ID_MAX, code_name, e);
	return 0;
}

/* Move the error of a failed task into ev unless ev already has one. */
static int
take_error(struct vod_event *ev, char **code, const cJSON *task,
	   const char *msg_name, struct err *e)
{
	int rc = 0;

	if (ev->error_code == NULL) {
		ev->error_code = *code;
		*code = NULL;
		rc = cb__get_text(task, msg_name, CB_MESSAGE_MAX,
				  &ev->error_message, e);
	}
	free(*code);
	*code = NULL;
	return rc;
}

/*
 * Check one sub-task: note its FinishTime and, when it failed (Status FAIL
 * or an error code) and ev has no error yet, move its error into ev.
 */
static int
check_subtask(struct vod_event *ev, const cJSON *task, bool legacy,
	      struct err *e)
{
	char *code = NULL;
	int64_t fin;
	int rc;

	if (!cJSON_IsObject(task))
		return 0;
	if (!legacy &&
	    time_parse_rfc3339(json_get_str(task, "FinishTime"), &fin, NULL) ==
		0 &&
	    fin > ev->event_time)
		ev->event_time = fin;
	if (ev->error_code != NULL)
		return 0;
	rc = task_error(task, legacy ? "errCodeExt" : "ErrCodeExt",
			legacy ? "errCode" : "ErrCode", &code, e);
	if (rc != 0)
		return rc;
	if (code == NULL &&
	    cb__streq_nocase(json_get_str(task, legacy ? "status" : "Status"),
			     "FAIL"))
		code = xstrdup("FAIL");
	if (code == NULL)
		return 0;
	return take_error(ev, &code, task, legacy ? "message" : "Message", e);
}

/*
 * Look for the first failed sub-task: v3 MediaProcessResultSet[] elements
 * hold one object per task type ({"Type":..., "TranscodeTask":{...},
 * "SnapshotByTimeOffsetTask":null}); legacy processTaskList[] elements are
 * the tasks themselves. Returns 0 (any failure is now in ev) or < 0.
 */
static int
subtask_failure(struct vod_event *ev, const cJSON *list, bool legacy,
		struct err *e)
{
	const cJSON *el, *task;
	int rc;

	if (!cJSON_IsArray(list))
		return 0;
	cJSON_ArrayForEach(el, list)
	{
		if (legacy) {
			if ((rc = check_subtask(ev, el, true, e)) != 0)
				return rc;
			continue;
		}
		if (!cJSON_IsObject(el))
			continue;
		cJSON_ArrayForEach(task, el)
		{
			if ((rc = check_subtask(ev, task, false, e)) != 0)
				return rc;
		}
	}
	return 0;
}

/*
 * FileDeleted: collect the ids (v3 FileIdSet[], else
 * FileDeleteResultInfo[].FileId; legacy fileInfo[].fileId), set file_id to
 * the first as sent, every id as the media deleted, and the key to the
 * sorted list (its SHA-256 when the list is too long for a key). A legacy
 * event with a non-zero data.status reports a deletion that failed: it is
 * stored and deletes nothing. Sources: the FileDeleteTask model
 * (tencentcloud-sdk-go vod/v20180717/models.go) and the sample of
 * cloud.tencent.com/document/product/266/13434 (v3) and its 4.0 form.
 */
static int
parse_deleted(struct vod_event *ev, const cJSON *p, bool legacy,
	      const struct cb_src *src, struct err *e)
{
	const cJSON *set, *el;
	char **ids = NULL;
	size_t n = 0, cap = 0;
	struct buf b;
	int64_t st;
	int rc = 0, idx = 0;

	buf_init(&b, 1u << 20);
	set = json_get(p, legacy ? "fileInfo" : "FileIdSet");
	if (!legacy && (!cJSON_IsArray(set) || cJSON_GetArraySize(set) == 0))
		set = json_get(p, "FileDeleteResultInfo");
	if (!cJSON_IsArray(set))
		set = NULL;
	cJSON_ArrayForEach(el, set)
	{
		char *id = NULL;

		if (cJSON_IsObject(el))
			rc = cb__get_id(el, legacy ? "fileId" : "FileId", src,
					&id, e);
		else
			rc = cb__id_value(el, "FileIdSet", idx, src, &id, e);
		idx++;
		if (rc != 0)
			goto out;
		if (id == NULL)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			ids = xrealloc(ids, cap * sizeof(*ids));
		}
		ids[n++] = id;
	}
	if (n == 0) {
		rc = 1; /* no subject: caller hashes */
		goto out;
	}
	ev->file_id = xstrdup(ids[0]);
	rc = cb__take_deleted(ev, ids, n, e);
	ids = NULL;
	n = 0;
	if (rc != 0)
		goto out;
	if (legacy && ((rc = legacy_status(ev, p, e)) != 0))
		goto out;
	ev->effect = legacy && json_get_i64(p, "status", &st) && st != 0
			 ? EFFECT_NONE
			 : EFFECT_DELETED;
	for (size_t i = 0; i < ev->n_deleted; i++) {
		if ((i > 0 && buf_putc(&b, ',') != 0) ||
		    buf_puts(&b, ev->deleted_ids[i]) != 0) {
			rc = err_set(e, ERR_INPUT, "too many file ids");
			goto out;
		}
	}
	if (b.len + sizeof("FileDeleted:") <= CB_DEDUP_KEY_MAX)
		rc = cb__dedup_printf(ev, e, "FileDeleted:%s", buf_cstr(&b));
	else
		rc = cb__dedup_hash(ev, "FileDeleted", buf_cstr(&b), b.len, e);
out:
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	buf_free(&b);
	return rc;
}

/* The vodhook upload id in "vh1:<uuid>[...]", or NULL. */
static char *
upload_id_of(const char *ctx)
{
	if (ctx == NULL || strncmp(ctx, "vh1:", 4) != 0 ||
	    !cb__uuid_ok(ctx + 4, strlen(ctx + 4)))
		return NULL;
	return xstrndup(ctx + 4, 36);
}

/* v3 NewFileUpload. Returns 1 when the event has no FileId. */
static int
v3_upload(struct vod_event *ev, const cJSON *p, const struct cb_src *src,
	  struct err *e)
{
	const cJSON *mbi = json_get(p, "MediaBasicInfo");
	const cJSON *si = json_get(mbi, "SourceInfo");
	int rc;

	if ((rc = cb__get_id(p, "FileId", src, &ev->file_id, e)) != 0 ||
	    (rc = cb__get_id(p, "ProcedureTaskId", src, &ev->procedure_task_id,
			     e)) != 0 ||
	    (rc = get_url(mbi, &ev->media_url, e)) != 0 ||
	    (rc = cb__get_text(si, "SourceContext", CB_CONTEXT_MAX,
			       &ev->source_context, e)) != 0 ||
	    (rc = cb__get_text(p, "SessionContext", CB_CONTEXT_MAX,
			       &ev->session_context, e)) != 0)
		return rc;
	get_size(json_get(p, "MetaData"), "Size", &ev->size);
	get_time(mbi, "CreateTime", &ev->event_time);
	if (ev->file_id == NULL)
		return 1;
	ev->effect = EFFECT_CONFIRMED;
	ev->processing_follows = ev->procedure_task_id != NULL;
	return cb__dedup_printf(ev, e, "NewFileUpload:%s", ev->file_id);
}

/* Effect of a task flow from its status and errors. */
static int
procedure_effect(struct vod_event *ev, const cJSON *p, bool legacy,
		 struct err *e)
{
	char *code = NULL;
	int rc;

	/* Sub-tasks first: their time and error are the most precise. */
	rc = subtask_failure(
	    ev,
	    json_get(p, legacy ? "processTaskList" : "MediaProcessResultSet"),
	    legacy, e);
	if (rc < 0)
		return rc;
	/* The deprecated top-level ErrCode still counts. */
	if ((rc = task_error(p, legacy ? "errCodeExt" : "ErrCodeExt",
			     legacy ? "errCode" : "ErrCode", &code, e)) != 0)
		return rc;
	if (code != NULL &&
	    (rc = take_error(ev, &code, p, legacy ? "message" : "Message",
			     e)) != 0)
		return rc;
	if (cb__streq_nocase(ev->status, "PROCESSING"))
		ev->effect = EFFECT_PROCESSING;
	else if (cb__streq_nocase(ev->status, "FINISH"))
		ev->effect =
		    ev->error_code != NULL ? EFFECT_FAILED : EFFECT_READY;
	else
		ev->effect = EFFECT_NONE;
	return 0;
}

/* v3 ProcedureStateChanged. Returns 1 when TaskId or Status is missing. */
static int
v3_procedure(struct vod_event *ev, const cJSON *p, const struct cb_src *src,
	     struct err *e)
{
	int rc;

	if ((rc = cb__get_id(p, "TaskId", src, &ev->task_id, e)) != 0 ||
	    (rc = cb__get_id(p, "FileId", src, &ev->file_id, e)) != 0 ||
	    (rc = cb__get_text(p, "Status", CB_ID_MAX, &ev->status, e)) != 0 ||
	    (rc = get_url(p, &ev->media_url, e)) != 0 ||
	    (rc = cb__get_text(p, "SessionContext", CB_CONTEXT_MAX,
			       &ev->session_context, e)) != 0)
		return rc;
	get_size(json_get(p, "MetaData"), "Size", &ev->size);
	if ((rc = procedure_effect(ev, p, false, e)) != 0)
		return rc;
	if (ev->task_id == NULL || ev->status == NULL)
		return 1;
	return cb__dedup_printf(ev, e, "ProcedureStateChanged:%s:%s",
				ev->task_id, ev->status);
}

int
cb__parse_tencent_procedure(const cJSON *task, struct vod_event *ev,
			    struct err *e)
{
	static const struct cb_src none = {NULL, 0};
	int rc;

	if (!cJSON_IsObject(task))
		return err_set(e, ERR_INPUT, "the task flow is not an object");
	if ((rc = v3_procedure(ev, task, &none, e)) < 0)
		return rc;
	if (rc > 0)
		return err_set(e, ERR_INPUT,
			       "the task flow lacks its TaskId or Status");
	return 0;
}

/* A task event's key: type, task and status (1: no task id). */
static int
task_key(struct vod_event *ev, struct err *e)
{
	if (ev->task_id == NULL)
		return 1;
	return cb__dedup_printf(ev, e, "%s:%s:%s", ev->event_type, ev->task_id,
				ev->status ? ev->status : "");
}

/* Any other known v3 task type. Returns 1 when it has no TaskId. */
static int
v3_task(struct vod_event *ev, const cJSON *p, const struct cb_src *src,
	struct err *e)
{
	const cJSON *mbi = json_get(p, "MediaBasicInfo");
	const cJSON *si = json_get(mbi, "SourceInfo");
	char *code = NULL;
	int rc;

	if ((rc = cb__get_id(p, "TaskId", src, &ev->task_id, e)) != 0 ||
	    (rc = cb__get_id(p, "FileId", src, &ev->file_id, e)) != 0 ||
	    (rc = cb__get_id(p, "ProcedureTaskId", src, &ev->procedure_task_id,
			     e)) != 0 ||
	    (rc = cb__get_text(p, "Status", CB_ID_MAX, &ev->status, e)) != 0 ||
	    (rc = get_url(p, &ev->media_url, e)) != 0 ||
	    (rc = get_url(mbi, &ev->media_url, e)) != 0 ||
	    (rc = cb__get_text(si, "SourceContext", CB_CONTEXT_MAX,
			       &ev->source_context, e)) != 0 ||
	    (rc = cb__get_text(p, "SessionContext", CB_CONTEXT_MAX,
			       &ev->session_context, e)) != 0 ||
	    (rc = task_error(p, "ErrCodeExt", "ErrCode", &code, e)) != 0)
		goto out;
	if (code != NULL && (rc = take_error(ev, &code, p, "Message", e)) != 0)
		goto out;
	get_size(json_get(p, "MetaData"), "Size", &ev->size);
	get_time(p, "FinishTime", &ev->event_time);
	get_time(p, "CreateTime", &ev->event_time);
	ev->effect = EFFECT_NONE;
	rc = task_key(ev, e);
out:
	free(code);
	return rc;
}

/*
 * The effect of a PullComplete, read as a task event is: a pull that
 * finished without an error and names its FileId confirms the media, and
 * processing follows when it started a task flow (ProcedureTaskId; legacy
 * transcodeTaskId). ErrCode 0 is success, others (40000, 60000, 70000) a
 * failure. Sources: PullUploadTask in tencentcloud-sdk-go vod/v20180717
 * models.go; https://cloud.tencent.com/document/product/266/7831.
 */
static void
pull_effect(struct vod_event *ev)
{
	ev->effect = EFFECT_NONE;
	if (ev->error_code != NULL || ev->file_id == NULL ||
	    cb__streq_nocase(ev->status, "PROCESSING") ||
	    cb__streq_nocase(ev->status, "WAITING"))
		return;
	ev->effect = EFFECT_CONFIRMED;
	ev->processing_follows = ev->procedure_task_id != NULL;
}

/* v3 PullComplete: a task event with the upload's effect. */
static int
v3_pull(struct vod_event *ev, const cJSON *p, const struct cb_src *src,
	struct err *e)
{
	int rc = v3_task(ev, p, src, e);

	if (rc >= 0)
		pull_effect(ev);
	return rc;
}

int
cb__parse_tencent_pull(const cJSON *task, struct vod_event *ev, struct err *e)
{
	static const struct cb_src none = {NULL, 0};
	int rc;

	if (!cJSON_IsObject(task))
		return err_set(e, ERR_INPUT, "the pull task is not an object");
	if ((rc = v3_pull(ev, task, &none, e)) < 0)
		return rc;
	if (rc > 0)
		return err_set(e, ERR_INPUT, "the pull task lacks its TaskId");
	return 0;
}

static int
parse_v3(struct vod_event *ev, const cJSON *doc, const struct cb_src *src,
	 struct err *e)
{
	const struct tc_type *t = find_type(ev->event_type);
	const cJSON *p;

	if (t == NULL)
		return 1;
	p = first_object(doc, t->field, t->alt);
	switch (t->kind) {
	case TC_UPLOAD:
		return v3_upload(ev, p, src, e);
	case TC_PROCEDURE:
		return v3_procedure(ev, p, src, e);
	case TC_DELETED:
		return parse_deleted(ev, p, false, src, e);
	case TC_PULL:
		return v3_pull(ev, p, src, e);
	case TC_TASK:
		return v3_task(ev, p, src, e);
	default:
		return 1;
	}
}

/* Legacy data.status: an integer (0 = success) or a state name. */
static int
legacy_status(struct vod_event *ev, const cJSON *data, struct err *e)
{
	int64_t v;
	int rc;

	if ((rc = cb__get_text(data, "status", CB_ID_MAX, &ev->status, e)) != 0)
		return rc;
	if (json_get_i64(data, "status", &v) && v != 0 &&
	    ev->error_code == NULL) {
		ev->error_code = xstrdup(ev->status);
		rc = cb__get_text(data, "message", CB_MESSAGE_MAX,
				  &ev->error_message, e);
	}
	return rc;
}

static int
parse_legacy(struct vod_event *ev, const cJSON *doc, const struct cb_src *src,
	     struct err *e)
{
	const cJSON *data = json_get(doc, "data");
	const struct tc_type *t = find_type(ev->event_type);
	const cJSON *meta;
	char *code = NULL;
	int rc;

	if (t == NULL)
		return 1;
	if (!cJSON_IsObject(data))
		data = NULL;
	if (t->kind == TC_DELETED)
		return parse_deleted(ev, data, true, src, e);
	meta = json_get(data, "metaData");
	if ((rc = cb__get_id(data, "fileId", src, &ev->file_id, e)) != 0 ||
	    (rc = cb__get_id(data, "vodTaskId", src, &ev->task_id, e)) != 0 ||
	    (rc = cb__get_id(data, "taskId", src, &ev->task_id, e)) != 0 ||
	    (rc = cb__get_id(data, "procedureTaskId", src,
			     &ev->procedure_task_id, e)) != 0 ||
	    (rc = get_url(data, &ev->media_url, e)) != 0 ||
	    (rc = cb__get_text(data, "sourceContext", CB_CONTEXT_MAX,
			       &ev->source_context, e)) != 0 ||
	    (rc = cb__get_text(data, "sessionContext", CB_CONTEXT_MAX,
			       &ev->session_context, e)) != 0)
		return rc;
	get_size(data, "fileSize", &ev->size);
	get_size(meta, "size", &ev->size);
	if (t->kind == TC_PROCEDURE) {
		if ((rc = cb__get_text(data, "status", CB_ID_MAX, &ev->status,
				       e)) != 0 ||
		    (rc = procedure_effect(ev, data, true, e)) != 0)
			return rc;
		if (ev->task_id == NULL || ev->status == NULL)
			return 1;
		return cb__dedup_printf(ev, e, "ProcedureStateChanged:%s:%s",
					ev->task_id, ev->status);
	}
	/* A PullComplete in the v3 keys inside the 4.0 envelope, as some of
	 * the platform's documents show it: read those too. */
	if (t->kind == TC_PULL &&
	    ((rc = cb__get_id(data, "TaskId", src, &ev->task_id, e)) != 0 ||
	     (rc = cb__get_id(data, "FileId", src, &ev->file_id, e)) != 0 ||
	     (rc = cb__get_id(data, "ProcedureTaskId", src,
			      &ev->procedure_task_id, e)) != 0 ||
	     (rc = cb__get_id(data, "transcodeTaskId", src,
			      &ev->procedure_task_id, e)) != 0 ||
	     (rc = task_error(data, "ErrCodeExt", "ErrCode", &code, e)) != 0 ||
	     (code != NULL &&
	      (rc = take_error(ev, &code, data, "Message", e)) != 0)))
		goto out;
	/* NewFileUpload and the task types report data.status 0 on success. */
	if ((rc = task_error(data, "errCodeExt", "errCode", &code, e)) != 0 ||
	    (code != NULL &&
	     (rc = take_error(ev, &code, data, "message", e)) != 0) ||
	    (rc = legacy_status(ev, data, e)) != 0)
		goto out;
	if (t->kind == TC_UPLOAD) {
		if (ev->file_id == NULL) {
			rc = 1;
			goto out;
		}
		/* An upload reported with an error confirms nothing. */
		ev->effect =
		    ev->error_code == NULL ? EFFECT_CONFIRMED : EFFECT_NONE;
		ev->processing_follows = ev->procedure_task_id != NULL;
		rc = cb__dedup_printf(ev, e, "NewFileUpload:%s", ev->file_id);
		goto out;
	}
	if (t->kind == TC_PULL)
		pull_effect(ev);
	rc = task_key(ev, e);
out:
	free(code);
	return rc;
}

/* The dedup key of an event we cannot key semantically. */
static int
hash_key(struct vod_event *ev, const cJSON *doc, const struct cb_src *src,
	 struct err *e)
{
	cJSON *copy;
	char *text;
	int rc;

	if (src->raw != NULL)
		return cb__dedup_hash(ev, ev->event_type, src->raw,
				      src->raw_len, e);
	/* A PullEvents element: its EventHandle changes on redelivery. */
	copy = cJSON_Duplicate(doc, true);
	if (copy == NULL)
		fatal("could not copy a JSON document");
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "EventHandle");
	text = cJSON_PrintUnformatted(copy);
	cJSON_Delete(copy);
	if (text == NULL)
		fatal("could not print a JSON document");
	rc = cb__dedup_hash(ev, ev->event_type, text, strlen(text), e);
	cJSON_free(text);
	return rc;
}

static int
parse_tencent(const cJSON *doc, const struct cb_src *src, struct vod_event *out,
	      struct err *e)
{
	struct vod_event ev;
	const cJSON *type;
	bool legacy = false;
	int rc;

	vod_event_init(&ev);
	ev.provider = VOD_TENCENT;
	if (!cJSON_IsObject(doc)) {
		rc = err_set(e, ERR_INPUT,
			     "invalid Tencent event: not a JSON object");
		goto out;
	}
	type = json_get(doc, "EventType");
	if (type == NULL) {
		type = json_get(doc, "eventType");
		legacy = true;
	}
	if (!cJSON_IsString(type)) {
		rc = err_set(e, ERR_INPUT,
			     "invalid Tencent event: no EventType or "
			     "eventType string");
		goto out;
	}
	if ((rc = cb__check_type(type->valuestring, e)) != 0)
		goto out;
	ev.event_type = xstrdup(type->valuestring);
	rc = legacy ? parse_legacy(&ev, doc, src, e)
		    : parse_v3(&ev, doc, src, e);
	if (rc < 0)
		goto out;
	if (rc > 0) {
		/* Unknown type or no subject to key on: store it, raw. */
		ev.effect = EFFECT_NONE;
		ev.processing_follows = -1;
		if ((rc = hash_key(&ev, doc, src, e)) != 0)
			goto out;
	}
	ev.upload_id = upload_id_of(ev.source_context);
	if (ev.upload_id == NULL)
		ev.upload_id = upload_id_of(ev.session_context);
	vod_event_cleanup(out);
	*out = ev;
	return 0;
out:
	vod_event_cleanup(&ev);
	return rc;
}

int
cb__parse_tencent_doc(const cJSON *doc, const char *body, size_t len,
		      struct vod_event *ev, struct err *e)
{
	struct cb_src src = {body, len};

	if (body == NULL)
		return err_set(e, ERR_INPUT, "no Tencent body");
	return parse_tencent(doc, &src, ev, e);
}

int
cb_parse_tencent(const char *body, size_t len, struct vod_event *ev,
		 struct err *e)
{
	cJSON *doc;
	int rc;

	doc = body != NULL ? json_parse(body, len) : NULL;
	if (doc == NULL)
		return err_set(e, ERR_INPUT,
			       "invalid Tencent event: malformed JSON");
	rc = cb__parse_tencent_doc(doc, body, len, ev, e);
	cJSON_Delete(doc);
	return rc;
}

int
cb_parse_tencent_json(const cJSON *event, struct vod_event *ev, struct err *e)
{
	struct cb_src src = {NULL, 0};

	return parse_tencent(event, &src, ev, e);
}

int
cb_parse_tencent_unparsed(const cJSON *event, const char *why,
			  struct vod_event *ev, struct err *e)
{
	static const struct cb_src none = {NULL, 0};
	size_t n = strlen(why);

	if (!cJSON_IsObject(event))
		return err_set(e, ERR_INPUT, "the event is not an object");
	vod_event_cleanup(ev);
	vod_event_init(ev);
	ev->provider = VOD_TENCENT;
	ev->event_type = xstrdup("Unparsed");
	ev->effect = EFFECT_NONE;
	ev->processing_follows = -1;
	ev->error_code = xstrdup("Unparsed");
	/* The reason is vodhook's own text, ASCII but for quoted bytes of the
	 * event: cut to the column's size at a character boundary. */
	if (n > CB_MESSAGE_MAX)
		n = CB_MESSAGE_MAX;
	while (n > 0 && ((unsigned char)why[n] & 0xc0) == 0x80)
		n--;
	ev->error_message = xstrndup(why, n);
	return hash_key(ev, event, &none, e);
}

/*
 * parse_alibaba.c: Alibaba Cloud ApsaraVideo VOD event notifications into
 * struct vod_event.
 *
 * One flat JSON object per event: EventType, EventTime
 * ("yyyy-MM-ddTHH:mm:ssZ"), Status ("success" / "fail"), a subject id
 * (VideoId, or ImageId, AttachedMediaId, MediaId by event), ErrorCode and
 * ErrorMessage, and Extend (the UserData.Extend we sent, as a string).
 * Quirks handled: numbers sent as strings, FileUrl vs FileURL, member names
 * with stray spaces ("SourceURL " in the docs), Extend as JSON text, as a
 * double-encoded string or as an object. Ids never pass through a double.
 *
 * Interface: cb_parse_alibaba, cb__parse_alibaba_doc.
 */
#include "callbacks/parse_int.h"
#include "common/json.h"

#include <stdlib.h>
#include <string.h>

static const char *const known_types[] = {
    "FileUploadComplete",	  "ImageUploadComplete",
    "StreamTranscodeComplete",	  "TranscodeComplete",
    "SnapshotComplete",		  "DynamicImageComplete",
    "AddLiveRecordVideoComplete", "LiveRecordVideoComposeStart",
    "UploadByURLComplete",	  "CreateAuditComplete",
    "VideoAnalysisComplete",	  "AttachedMediaUploadComplete",
    "ProduceMediaComplete",	  "DeleteMediaComplete",
    "MediaBaseChangeComplete",
};

/*
 * Video AI and review jobs, keyed by their job (JobId) and Status, so that
 * a redelivery is stored once and each outcome of a job once. Sources: the
 * event pages of help.aliyun.com/zh/vod/user-guide (aimediaauditcomplete,
 * aimediadnacomplete, the event list's AIProduceComplete and
 * MediaAiAnalysisComplete, the console's "AIComplete" group). Any other
 * type named "AI...Complete" is read the same way: the platform adds AI
 * jobs, and every documented one carries JobId, MediaId, Status and, when it
 * failed, Code and Message.
 */
static const char *const ai_types[] = {
    "AIMediaAuditComplete",    "AIMediaDNAComplete",	 "AIVideoTagComplete",
    "AIVideoCoverComplete",    "AIVideoSummaryComplete", "AIProduceComplete",
    "MediaAiAnalysisComplete",
};

static bool
is_ai(const char *type)
{
	size_t n = strlen(type);

	for (size_t i = 0; i < sizeof(ai_types) / sizeof(ai_types[0]); i++)
		if (strcmp(ai_types[i], type) == 0)
			return true;
	return n > 10 && strncmp(type, "AI", 2) == 0 &&
	       strcmp(type + n - 8, "Complete") == 0;
}

static bool
is_known(const char *type)
{
	for (size_t i = 0; i < sizeof(known_types) / sizeof(known_types[0]);
	     i++)
		if (strcmp(known_types[i], type) == 0)
			return true;
	return false;
}

/*
 * Member name of obj, or, failing that, a member whose name equals name
 * once surrounding spaces are dropped (the documentation's samples carry
 * keys such as "SourceURL "). NULL when absent or null.
 */
static const cJSON *
member(const cJSON *obj, const char *name)
{
	const cJSON *it = json_get(obj, name);
	size_t n = strlen(name);

	if (it != NULL || !cJSON_IsObject(obj))
		return it;
	cJSON_ArrayForEach(it, obj)
	{
		const char *k = it->string;
		size_t kn;

		if (k == NULL || cJSON_IsNull(it))
			continue;
		while (*k == ' ')
			k++;
		kn = strlen(k);
		while (kn > 0 && k[kn - 1] == ' ')
			kn--;
		if (kn == n && memcmp(k, name, n) == 0)
			return it;
	}
	return NULL;
}

static int
get_text(const cJSON *obj, const char *name, size_t max, char **out,
	 struct err *e)
{
	return cb__text_value(member(obj, name), name, max, out, e);
}

static int
get_id(const cJSON *obj, const char *name, const struct cb_src *src, char **out,
       struct err *e)
{
	return cb__id_value(member(obj, name), name, -1, src, out, e);
}

/* Size: a non-negative integer, as a number or a decimal string. */
static void
get_size(const cJSON *obj, int64_t *size)
{
	const cJSON *it = member(obj, "Size");
	int64_t v;

	if (cJSON_IsNumber(it) && it->valuedouble >= 0 &&
	    it->valuedouble < 9007199254740992.0 &&
	    it->valuedouble == (double)(int64_t)it->valuedouble)
		*size = (int64_t)it->valuedouble;
	else if (cJSON_IsString(it) &&
		 parse_i64(it->valuestring, 0, INT64_MAX, &v) == 0)
		*size = v;
}

/*
 * The upload id in an Extend value: a JSON object {"vh":"<uuid>",...},
 * possibly as JSON text, possibly that text encoded once more as a JSON
 * string. Only a canonical lowercase UUID is taken.
 */
static char *
upload_id_of(const cJSON *extend)
{
	const cJSON *cur = extend;
	cJSON *docs[3] = {NULL, NULL, NULL};
	char *id = NULL;

	for (int depth = 0; depth < 3 && cJSON_IsString(cur); depth++) {
		const char *s = cur->valuestring;

		docs[depth] = json_parse(s, strlen(s));
		cur = docs[depth];
	}
	if (cJSON_IsObject(cur)) {
		const char *vh = json_get_str(cur, "vh");

		if (vh != NULL && strlen(vh) == 36 && cb__uuid_ok(vh, 36))
			id = xstrdup(vh);
	}
	for (int i = 0; i < 3; i++)
		cJSON_Delete(docs[i]);
	return id;
}

/* Extend as text into ev->source_context, and the upload id it carries. */
static int
take_extend(struct vod_event *ev, const cJSON *doc, struct err *e)
{
	const cJSON *ext = member(doc, "Extend");
	char *text;
	int rc;

	if (ext == NULL)
		return 0;
	if (cJSON_IsString(ext)) {
		rc = cb__set_text(&ev->source_context, ext->valuestring,
				  CB_CONTEXT_MAX, "Extend", e);
	} else if (cJSON_IsObject(ext)) {
		text = cJSON_PrintUnformatted(ext);
		if (text == NULL)
			fatal("could not print a JSON document");
		rc = cb__set_text(&ev->source_context, text, CB_CONTEXT_MAX,
				  "Extend", e);
		cJSON_free(text);
	} else {
		return 0;
	}
	if (rc == 0)
		ev->upload_id = upload_id_of(ext);
	return rc;
}

/* The error of the first failed entry of StreamInfos[]. */
static int
stream_error(struct vod_event *ev, const cJSON *doc, struct err *e)
{
	const cJSON *el, *list = member(doc, "StreamInfos");
	int rc;

	if (!cJSON_IsArray(list))
		return 0;
	cJSON_ArrayForEach(el, list)
	{
		char *st = NULL;

		if ((rc = get_text(el, "Status", CB_ID_MAX, &st, e)) != 0)
			return rc;
		if (cb__streq_nocase(st, "fail")) {
			free(st);
			if ((rc = get_text(el, "ErrorCode", CB_ID_MAX,
					   &ev->error_code, e)) != 0 ||
			    (rc = get_text(el, "ErrorMessage", CB_MESSAGE_MAX,
					   &ev->error_message, e)) != 0)
				return rc;
			return 0;
		}
		free(st);
	}
	return 0;
}

/*
 * An AI job's outcome: "<type>:<JobId>:<Status>". Its error is Code and
 * Message, sent on success too ("0", "OK"), so they are taken only when
 * the job failed. Returns 1 (key by hash) without a JobId.
 */
static int
classify_ai(struct vod_event *ev, const cJSON *doc, bool fail, struct err *e)
{
	int rc;

	ev->effect = EFFECT_NONE;
	if (fail) {
		free(ev->error_code);
		ev->error_code = NULL;
		if ((rc = get_text(doc, "Code", CB_ID_MAX, &ev->error_code,
				   e)) != 0 ||
		    (rc = get_text(doc, "Message", CB_MESSAGE_MAX,
				   &ev->error_message, e)) != 0)
			return rc;
		if (ev->error_code == NULL)
			ev->error_code = xstrdup("fail");
	}
	if (ev->task_id == NULL)
		return 1;
	return cb__dedup_printf(ev, e, "%s:%s:%s", ev->event_type, ev->task_id,
				ev->status ? ev->status : "");
}

/*
 * A manual review (CreateAuditComplete) has no job: one review is the
 * media, its result (AuditStatus: Normal, Blocked) and when it was made
 * (CreationTime, else EventTime), so that a media reviewed again is stored
 * again. Source: help.aliyun.com/zh/vod/user-guide/createauditcomplete.
 */
static int
classify_audit(struct vod_event *ev, const cJSON *doc, struct err *e)
{
	char *audit = NULL, *when = NULL;
	int rc;

	ev->effect = EFFECT_NONE;
	if (ev->file_id == NULL)
		return 1;
	if ((rc = get_text(doc, "AuditStatus", CB_ID_MAX, &audit, e)) == 0 &&
	    (rc = get_text(doc, "CreationTime", CB_ID_MAX, &when, e)) == 0 &&
	    (when != NULL ||
	     (rc = get_text(doc, "EventTime", CB_ID_MAX, &when, e)) == 0))
		rc = cb__dedup_printf(ev, e, "CreateAuditComplete:%s:%s:%s",
				      ev->file_id, audit ? audit : "",
				      when ? when : "");
	free(audit);
	free(when);
	return rc;
}

/*
 * DeleteMediaComplete: the media deleted. MediaId names one medium; the
 * comma-separated lists MediaIds and VideoIds (DeleteVideo's own parameter
 * name) are read too, in case the platform reports a batch in one event.
 * Only a success that deleted the whole medium (DeleteType "all", or none
 * given) deletes the record: "mezzanine" and "stream" delete parts of it.
 * Source: help.aliyun.com/zh/vod/user-guide/deletemediacomplete.
 */
static int
classify_delete(struct vod_event *ev, const cJSON *doc, bool ok, struct err *e)
{
	static const char *const lists[] = {"MediaId", "MediaIds", "VideoIds",
					    "VideoId"};
	char **ids = NULL, *kind = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	for (size_t l = 0; l < 4 && rc == 0; l++) {
		char *text = NULL, *save = NULL;

		if ((rc = get_text(doc, lists[l], CB_CONTEXT_MAX, &text, e)) !=
			0 ||
		    text == NULL)
			continue;
		for (char *t = strtok_r(text, ", ", &save); t != NULL;
		     t = strtok_r(NULL, ", ", &save)) {
			if (strlen(t) > CB_ID_MAX) {
				rc = err_set(e, ERR_INPUT,
					     "invalid Alibaba event: %s: an id "
					     "is longer than %d bytes",
					     lists[l], CB_ID_MAX);
				break;
			}
			if (n == cap) {
				cap = cap ? cap * 2 : 4;
				ids = xrealloc(ids, cap * sizeof(*ids));
			}
			ids[n++] = xstrdup(t);
		}
		free(text);
	}
	if (rc == 0)
		rc = get_text(doc, "DeleteType", CB_ID_MAX, &kind, e);
	if (rc != 0 || n == 0) {
		for (size_t i = 0; i < n; i++)
			free(ids[i]);
		free(ids);
		free(kind);
		return rc;
	}
	/* MediaId "a,b" is not an id: the first of the list is. */
	if (ev->file_id != NULL && strchr(ev->file_id, ',') != NULL) {
		free(ev->file_id);
		ev->file_id = NULL;
	}
	if (ev->file_id == NULL)
		ev->file_id = xstrdup(ids[0]);
	rc = cb__take_deleted(ev, ids, n, e);
	if (rc == 0 && ok && (kind == NULL || cb__streq_nocase(kind, "all")))
		ev->effect = EFFECT_DELETED;
	free(kind);
	return rc;
}

/* Effect and dedup key, by event type. Returns 1 to key by hash. */
static int
classify(struct vod_event *ev, const cJSON *doc, struct err *e)
{
	const char *t = ev->event_type, *subject = ev->file_id;
	bool ok = cb__streq_nocase(ev->status, "success");
	bool fail = cb__streq_nocase(ev->status, "fail");
	char *def = NULL, *when = NULL;
	int rc = 0;

	/* TranscodeComplete: the first failed stream tells why. */
	if (fail && strcmp(t, "TranscodeComplete") == 0 &&
	    ev->error_code == NULL && (rc = stream_error(ev, doc, e)) != 0)
		return rc;
	if (fail && ev->error_code == NULL)
		ev->error_code = xstrdup("fail");
	if (strcmp(t, "FileUploadComplete") == 0) {
		ev->effect = fail ? EFFECT_FAILED : EFFECT_CONFIRMED;
		ev->processing_follows = -1;
		if (ev->file_id == NULL)
			return 1;
		return cb__dedup_printf(ev, e, "%s:%s", t, ev->file_id);
	}
	if (strcmp(t, "ImageUploadComplete") == 0 ||
	    strcmp(t, "AttachedMediaUploadComplete") == 0) {
		/* Images and attached media need no processing: uploaded
		 * means ready. */
		ev->effect = fail ? EFFECT_FAILED : EFFECT_READY;
	} else if (strcmp(t, "StreamTranscodeComplete") == 0) {
		/* One definition done; the outcome is TranscodeComplete's. */
		ev->effect = EFFECT_PROCESSING;
		if (ev->file_id == NULL)
			return 1;
		if ((rc = get_text(doc, "Definition", CB_ID_MAX, &def, e)) == 0)
			rc = cb__dedup_printf(ev, e, "%s:%s:%s:%s", t,
					      ev->file_id, def ? def : "",
					      ev->status ? ev->status : "");
		free(def);
		return rc;
	} else if (strcmp(t, "TranscodeComplete") == 0) {
		ev->effect = ok	    ? EFFECT_READY
			     : fail ? EFFECT_FAILED
				    : EFFECT_NONE;
		if (ev->file_id == NULL)
			return 1;
		return cb__dedup_printf(ev, e, "%s:%s:%s", t, ev->file_id,
					ev->status ? ev->status : "");
	} else if (strcmp(t, "UploadByURLComplete") == 0) {
		ev->effect = fail ? EFFECT_FAILED : EFFECT_NONE;
	} else if (strcmp(t, "DeleteMediaComplete") == 0) {
		ev->effect = EFFECT_NONE;
		if ((rc = classify_delete(ev, doc, ok, e)) != 0)
			return rc;
		subject = ev->file_id;
	} else if (strcmp(t, "CreateAuditComplete") == 0) {
		return classify_audit(ev, doc, e);
	} else if (is_ai(t)) {
		return classify_ai(ev, doc, fail, e);
	} else {
		ev->effect = EFFECT_NONE;
	}
	if (!is_known(t))
		return 1;
	if (subject == NULL)
		subject = ev->task_id;
	if (subject == NULL)
		return 1;
	if ((rc = get_text(doc, "EventTime", CB_ID_MAX, &when, e)) == 0)
		rc = cb__dedup_printf(ev, e, "%s:%s:%s:%s", t, subject,
				      ev->status ? ev->status : "",
				      when ? when : "");
	free(when);
	return rc;
}

int
cb__parse_alibaba_doc(const cJSON *doc, const char *body, size_t len,
		      struct vod_event *out, struct err *e)
{
	static const char *const id_names[] = {"VideoId", "ImageId",
					       "AttachedMediaId", "MediaId"};
	static const char *const url_names[] = {"FileUrl", "FileURL",
						"MediaUrl", "SourceURL"};
	struct cb_src src = {body, len};
	const cJSON *type;
	struct vod_event ev;
	char *when = NULL;
	int64_t t;
	int rc = 0;

	vod_event_init(&ev);
	ev.provider = VOD_ALIBABA;
	if (body == NULL || !cJSON_IsObject(doc)) {
		rc = err_set(e, ERR_INPUT,
			     "invalid Alibaba event: not a JSON object");
		goto out;
	}
	type = member(doc, "EventType");
	if (!cJSON_IsString(type)) {
		rc = err_set(e, ERR_INPUT,
			     "invalid Alibaba event: no EventType string");
		goto out;
	}
	if ((rc = cb__check_type(type->valuestring, e)) != 0)
		goto out;
	ev.event_type = xstrdup(type->valuestring);
	for (size_t i = 0; i < 4 && rc == 0; i++)
		rc = get_id(doc, id_names[i], &src, &ev.file_id, e);
	for (size_t i = 0; i < 4 && rc == 0; i++)
		rc = get_text(doc, url_names[i], CB_URL_MAX, &ev.media_url, e);
	if (rc != 0 || (rc = get_id(doc, "JobId", &src, &ev.task_id, e)) != 0 ||
	    (rc = get_text(doc, "Status", CB_ID_MAX, &ev.status, e)) != 0 ||
	    (rc = get_text(doc, "ErrorCode", CB_ID_MAX, &ev.error_code, e)) !=
		0 ||
	    (rc = get_text(doc, "ErrorMessage", CB_MESSAGE_MAX,
			   &ev.error_message, e)) != 0 ||
	    (rc = get_text(doc, "EventTime", CB_ID_MAX, &when, e)) != 0 ||
	    (rc = take_extend(&ev, doc, e)) != 0)
		goto out;
	get_size(doc, &ev.size);
	/* A malformed EventTime is kept in the key but gives no time. */
	if (time_parse_rfc3339(when, &t, NULL) == 0)
		ev.event_time = t;
	rc = classify(&ev, doc, e);
	if (rc < 0)
		goto out;
	if (rc > 0) {
		/* No subject to key on: stored only, keyed by its bytes. */
		ev.effect = EFFECT_NONE;
		if ((rc = cb__dedup_hash(&ev, ev.event_type, body, len, e)) !=
		    0)
			goto out;
	}
	vod_event_cleanup(out);
	*out = ev;
	free(when);
	return 0;
out:
	free(when);
	vod_event_cleanup(&ev);
	return rc;
}

int
cb_parse_alibaba(const char *body, size_t len, struct vod_event *ev,
		 struct err *e)
{
	cJSON *doc;
	int rc;

	doc = body != NULL ? json_parse(body, len) : NULL;
	if (doc == NULL)
		return err_set(e, ERR_INPUT,
			       "invalid Alibaba event: malformed JSON");
	rc = cb__parse_alibaba_doc(doc, body, len, ev, e);
	cJSON_Delete(doc);
	return rc;
}

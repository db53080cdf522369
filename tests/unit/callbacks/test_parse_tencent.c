/*
 * test_parse_tencent.c: callbacks/parse_tencent.c on every verbatim sample of
 * tencent-vod.md sections 1-2 and on the documented quirks.
 */
#include "callbacks/callbacks.h"
#include "common/json.h"
#include "samples.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define UUID "0f8fad5b-d9cb-469f-a165-70867728950e"

/* Parse a push body that must succeed. */
static void
parse_ok(const char *body, struct vod_event *ev)
{
	struct err e = {0};
	int rc = cb_parse_tencent(body, strlen(body), ev, &e);

	if (rc != 0)
		fail_msg("parse failed: %d %s", rc, e.msg);
	assert_int_equal(ev->provider, VOD_TENCENT);
	assert_non_null(ev->dedup_key);
}

/* Parse a push body, returning the code. */
static int
parse_rc(const char *body, struct vod_event *ev, struct err *e)
{
	return cb_parse_tencent(body, strlen(body), ev, e);
}

static void
parse_sample(const char *name, struct vod_event *ev)
{
	size_t len;
	char *body = sample_load(name, &len);
	struct err e = {0};
	int rc = cb_parse_tencent(body, len, ev, &e);

	free(body);
	if (rc != 0)
		fail_msg("%s: %d %s", name, rc, e.msg);
}

/* Parse EventSet[i] of a PullEvents response sample with the JSON form. */
static void
parse_pull_sample(const char *name, int i, struct vod_event *ev)
{
	size_t len;
	char *body = sample_load(name, &len);
	cJSON *doc = json_parse(body, len);
	cJSON *set = json_get(json_get(doc, "Response"), "EventSet");
	struct err e = {0};
	int rc;

	assert_non_null(set);
	rc = cb_parse_tencent_json(cJSON_GetArrayItem(set, i), ev, &e);
	cJSON_Delete(doc);
	free(body);
	if (rc != 0)
		fail_msg("%s: %d %s", name, rc, e.msg);
}

static void
v3_new_file_upload(void **state)
{
	struct vod_event ev, pull, frag;
	size_t len;
	char *body;
	cJSON *doc;

	(void)state;
	vod_event_init(&ev);
	vod_event_init(&pull);
	vod_event_init(&frag);
	parse_sample("tencent_v3_new_file_upload.json", &ev);
	assert_string_equal(ev.event_type, "NewFileUpload");
	assert_string_equal(ev.file_id, "5285890784273533167");
	assert_string_equal(ev.dedup_key, "NewFileUpload:5285890784273533167");
	assert_int_equal(ev.effect, EFFECT_CONFIRMED);
	assert_int_equal(ev.processing_follows, 0); /* ProcedureTaskId "" */
	assert_null(ev.procedure_task_id);
	assert_string_equal(ev.media_url,
			    "http://125676836723.vod2.myqcloud.com"
			    "/xxx/xxx/q1BORBPQH1IA.mp4");
	assert_null(ev.source_context); /* "" */
	assert_null(ev.upload_id);
	assert_null(ev.task_id);
	assert_null(ev.error_code);
	assert_int_equal(ev.event_time, 1547051782);
	assert_int_equal(ev.size, -1);

	/* The same event pulled: same key and fields. */
	parse_pull_sample("tencent_pull_response_new_file_upload.json", 0,
			  &pull);
	assert_string_equal(pull.dedup_key, ev.dedup_key);
	assert_int_equal(pull.effect, EFFECT_CONFIRMED);
	assert_string_equal(pull.media_url, ev.media_url);

	/* The EventSet fragment of the older PullEvents example. */
	body = sample_load("tencent_pull_element_new_file_upload.json", &len);
	doc = json_parse(body, len);
	assert_non_null(doc);
	assert_int_equal(cb_parse_tencent_json(doc, &frag, NULL), 0);
	assert_string_equal(frag.dedup_key, ev.dedup_key);
	assert_string_equal(
	    frag.media_url,
	    "http://123.vod2.myqcloud.com/1c1ae5d2vodgzp1256768367"
	    "/9ce0cd925285890784273533167/q1BORBPQH1IA.mp4");
	cJSON_Delete(doc);
	free(body);
	vod_event_cleanup(&ev);
	vod_event_cleanup(&pull);
	vod_event_cleanup(&frag);
}

static void
v3_procedure(void **state)
{
	struct vod_event ev, pull;

	(void)state;
	vod_event_init(&ev);
	vod_event_init(&pull);
	parse_sample("tencent_v3_procedure_state_changed.json", &ev);
	assert_string_equal(ev.event_type, "ProcedureStateChanged");
	assert_string_equal(ev.task_id,
			    "1256768367-Procedure-475b72xxxcb177t1");
	assert_string_equal(ev.status, "FINISH");
	assert_string_equal(ev.file_id, "5285890784246869930");
	assert_string_equal(
	    ev.media_url,
	    "https://1256768367.vod2.myqcloud.com/xxx/xxx/xxx.mp4");
	assert_int_equal(ev.size, 7700180);
	assert_int_equal(ev.effect, EFFECT_READY);
	assert_null(ev.error_code);
	assert_null(ev.error_message);
	assert_string_equal(ev.dedup_key,
			    "ProcedureStateChanged:1256768367-Procedure-"
			    "475b72xxxcb177t1:FINISH");

	/* PullEvents sample, explicit nulls everywhere. */
	parse_pull_sample("tencent_pull_response_procedure.json", 0, &pull);
	assert_string_equal(pull.task_id, "1256712345-Procedure-"
					  "475b7237438a39560b9879a4556cb177t2");
	assert_string_equal(pull.file_id, "5285890784246869930");
	assert_int_equal(pull.effect, EFFECT_READY);
	assert_int_equal(pull.event_time, 1694143409); /* FinishTime */
	assert_int_equal(pull.size, 7700180);
	assert_null(pull.session_context);
	assert_string_equal(pull.dedup_key,
			    "ProcedureStateChanged:1256712345-Procedure-"
			    "475b7237438a39560b9879a4556cb177t2:FINISH");
	vod_event_cleanup(&ev);
	vod_event_cleanup(&pull);
}

static void
v3_file_deleted(void **state)
{
	struct vod_event ev, legacy;

	(void)state;
	vod_event_init(&ev);
	vod_event_init(&legacy);
	parse_sample("tencent_v3_file_deleted.json", &ev);
	assert_string_equal(ev.file_id, "24961954183381008");
	assert_string_equal(ev.dedup_key, "FileDeleted:24961954183381008");
	assert_int_equal(ev.effect, EFFECT_DELETED);
	assert_int_equal(ev.n_deleted, 1);
	assert_string_equal(ev.deleted_ids[0], "24961954183381008");
	parse_sample("tencent_legacy_file_deleted.json", &legacy);
	assert_string_equal(legacy.dedup_key, ev.dedup_key);
	assert_string_equal(legacy.file_id, ev.file_id);
	assert_int_equal(legacy.effect, EFFECT_DELETED);
	assert_int_equal(legacy.n_deleted, 1);
	vod_event_cleanup(&ev);
	vod_event_cleanup(&legacy);
}

/* Every FileId of a FileDeleted is deleted, once each, in any format. */
static void
file_deleted_many(void **state)
{
	struct vod_event ev;

	(void)state;
	vod_event_init(&ev);
	parse_ok("{\"EventType\":\"FileDeleted\",\"FileDeleteEvent\":{"
		 "\"FileIdSet\":[\"b2\",\"a1\",\"b2\"]}}",
		 &ev);
	assert_string_equal(ev.file_id, "b2");
	assert_int_equal(ev.effect, EFFECT_DELETED);
	assert_int_equal(ev.n_deleted, 2);
	assert_string_equal(ev.deleted_ids[0], "a1");
	assert_string_equal(ev.deleted_ids[1], "b2");
	assert_string_equal(ev.dedup_key, "FileDeleted:a1,b2");
	/* No FileIdSet: the result list names them. */
	parse_ok("{\"EventType\":\"FileDeleted\",\"FileDeleteEvent\":{"
		 "\"FileIdSet\":null,\"FileDeleteResultInfo\":[{\"FileId\":"
		 "\"c3\",\"DeleteParts\":[]}]}}",
		 &ev);
	assert_int_equal(ev.effect, EFFECT_DELETED);
	assert_int_equal(ev.n_deleted, 1);
	assert_string_equal(ev.deleted_ids[0], "c3");
	/* A legacy deletion that failed deletes nothing. */
	parse_ok("{\"version\":\"4.0\",\"eventType\":\"FileDeleted\","
		 "\"data\":{\"status\":4000,\"message\":\"no such file\","
		 "\"fileInfo\":[{\"fileId\":\"d4\"}]}}",
		 &ev);
	assert_int_equal(ev.effect, EFFECT_NONE);
	assert_string_equal(ev.error_code, "4000");
	assert_string_equal(ev.dedup_key, "FileDeleted:d4");
	/* No id at all: stored, keyed by its bytes, deleting nothing. */
	parse_ok("{\"EventType\":\"FileDeleted\",\"FileDeleteEvent\":{}}", &ev);
	assert_int_equal(ev.effect, EFFECT_NONE);
	assert_int_equal(ev.n_deleted, 0);
	assert_non_null(strstr(ev.dedup_key, "FileDeleted:sha256:"));
	vod_event_cleanup(&ev);
}

static void
legacy_new_file_upload(void **state)
{
	struct vod_event ev, meta;

	(void)state;
	vod_event_init(&ev);
	vod_event_init(&meta);
	parse_sample("tencent_legacy_new_file_upload.json", &ev);
	assert_string_equal(ev.event_type, "NewFileUpload");
	assert_string_equal(ev.file_id, "5285890784273533167");
	/* Same key as the v3 sample of the same file. */
	assert_string_equal(ev.dedup_key, "NewFileUpload:5285890784273533167");
	assert_int_equal(ev.effect, EFFECT_CONFIRMED);
	assert_int_equal(ev.processing_follows, 1);
	assert_string_equal(
	    ev.procedure_task_id,
	    "125676836723-mango-fa2fdf6a0f850d673be119cf51a7603a");
	assert_string_equal(ev.source_context,
			    "rtmp://54xx.livepush.myqcloud"
			    ".com/live?bizid=54xx&record=mp4&xx");
	assert_string_equal(
	    ev.media_url,
	    "http://125676836723.vod2.myqcloud.com/xxx/xxx/f0.flv");

	parse_sample("tencent_legacy_new_file_upload_meta.json", &meta);
	assert_string_equal(meta.file_id, "24961954183381008");
	assert_int_equal(meta.size, 38394819);
	assert_int_equal(meta.effect, EFFECT_CONFIRMED);
	assert_int_equal(meta.processing_follows, 0);
	assert_string_equal(meta.status, "0");
	assert_null(meta.error_code);
	vod_event_cleanup(&ev);
	vod_event_cleanup(&meta);
}

static void
legacy_procedure(void **state)
{
	struct vod_event ev, v3;

	(void)state;
	vod_event_init(&ev);
	vod_event_init(&v3);
	parse_sample("tencent_legacy_procedure_state_changed.json", &ev);
	assert_string_equal(ev.task_id, "125676836723-xxx-25f5aac63");
	assert_string_equal(ev.status, "PROCESSING");
	assert_string_equal(ev.file_id, "14508071098244959037");
	assert_int_equal(ev.size, 10556);
	assert_int_equal(ev.effect, EFFECT_PROCESSING);
	assert_string_equal(ev.dedup_key,
			    "ProcedureStateChanged:"
			    "125676836723-xxx-25f5aac63:PROCESSING");
	/* The same state in v3: the same key. */
	parse_ok("{\"EventType\":\"ProcedureStateChanged\","
		 "\"ProcedureStateChangeEvent\":{\"TaskId\":"
		 "\"125676836723-xxx-25f5aac63\",\"Status\":\"PROCESSING\","
		 "\"FileId\":\"14508071098244959037\"}}",
		 &v3);
	assert_string_equal(v3.dedup_key, ev.dedup_key);
	assert_int_equal(v3.effect, EFFECT_PROCESSING);
	vod_event_cleanup(&ev);
	vod_event_cleanup(&v3);
}

static void
legacy_pull_complete(void **state)
{
	struct vod_event ev;

	(void)state;
	vod_event_init(&ev);
	parse_sample("tencent_legacy_pull_complete.json", &ev);
	assert_string_equal(ev.event_type, "PullComplete");
	assert_string_equal(ev.task_id, "Pull-f5ac8127b3b6b85cdc13f237c6005d8");
	assert_string_equal(ev.file_id, "14508071098244959037");
	assert_string_equal(
	    ev.media_url,
	    "http://125676836723.vod2.myqcloud.com/xxx/xxx/f0.flv");
	/* The pull is the upload: confirmed, and the transcode follows. */
	assert_int_equal(ev.effect, EFFECT_CONFIRMED);
	assert_int_equal(ev.processing_follows, 1);
	assert_string_equal(ev.procedure_task_id,
			    "transcode-0bee89b07a248e27c83fc3d5951213c1");
	assert_null(ev.error_code);
	assert_null(ev.upload_id);
	assert_string_equal(
	    ev.dedup_key,
	    "PullComplete:Pull-f5ac8127b3b6b85cdc13f237c6005d8:0");
	vod_event_cleanup(&ev);
}

/* A failed legacy pull: data.status is the error code, no media. */
static void
legacy_pull_failed(void **state)
{
	struct vod_event ev;

	(void)state;
	vod_event_init(&ev);
	parse_ok("{\"version\":\"4.0\",\"eventType\":\"PullComplete\","
		 "\"data\":{\"status\":60000,\"message\":\"source error\","
		 "\"vodTaskId\":\"Pull-1\",\"fileId\":\"\",\"fileUrl\":\"\","
		 "\"transcodeTaskId\":\"\"}}",
		 &ev);
	assert_int_equal(ev.effect, EFFECT_NONE);
	assert_string_equal(ev.task_id, "Pull-1");
	assert_null(ev.file_id);
	assert_string_equal(ev.error_code, "60000");
	assert_string_equal(ev.error_message, "source error");
	vod_event_cleanup(&ev);
	/* The v3 keys inside the 4.0 envelope, as some documents show it. */
	vod_event_init(&ev);
	parse_ok(
	    "{\"version\":\"4.0\",\"eventType\":\"PullComplete\","
	    "\"data\":{\"TaskId\":\"Pull-2\",\"ErrCode\":0,"
	    "\"Message\":\"\",\"FileId\":\"77\",\"FileUrl\":\"http://x/y\","
	    "\"ProcedureTaskId\":\"\"}}",
	    &ev);
	assert_int_equal(ev.effect, EFFECT_CONFIRMED);
	assert_int_equal(ev.processing_follows, 0);
	assert_string_equal(ev.task_id, "Pull-2");
	assert_string_equal(ev.file_id, "77");
	vod_event_cleanup(&ev);
	vod_event_init(&ev);
	parse_ok("{\"version\":\"4.0\",\"eventType\":\"PullComplete\","
		 "\"data\":{\"TaskId\":\"Pull-3\",\"ErrCode\":70000,"
		 "\"Message\":\"internal\",\"FileId\":\"\"}}",
		 &ev);
	assert_int_equal(ev.effect, EFFECT_NONE);
	assert_string_equal(ev.error_code, "70000");
	assert_string_equal(ev.error_message, "internal");
	vod_event_cleanup(&ev);
}

/* The v3 PullComplete of the event notification reference (verbatim). */
static void
v3_pull_complete(void **state)
{
	struct vod_event ev;

	(void)state;
	vod_event_init(&ev);
	parse_sample("tencent_v3_pull_complete.json", &ev);
	assert_string_equal(ev.event_type, "PullComplete");
	assert_string_equal(
	    ev.task_id, "125676836723-Pull-f5ac8127b3b6b85cdc13f237c6005d8");
	assert_string_equal(ev.file_id, "14508071098244959037");
	assert_string_equal(
	    ev.media_url,
	    "http://125676836723.vod2.myqcloud.com/xxx/xxx/xxx.mp4");
	/* No task flow: nothing follows, the media is ready at once. */
	assert_int_equal(ev.effect, EFFECT_CONFIRMED);
	assert_int_equal(ev.processing_follows, 0);
	assert_null(ev.procedure_task_id);
	assert_null(ev.error_code);
	assert_string_equal(ev.dedup_key,
			    "PullComplete:125676836723-Pull-"
			    "f5ac8127b3b6b85cdc13f237c6005d8:FINISH");
	vod_event_cleanup(&ev);
}

/* v3: the upload id from MediaBasicInfo.SourceInfo.SourceContext, a task
 * flow that follows, and a failure (ErrCode, Message, no FileId). */
static void
v3_pull_complete_variants(void **state)
{
	struct vod_event ev;

	(void)state;
	vod_event_init(&ev);
	parse_ok("{\"EventType\":\"PullComplete\",\"PullCompleteEvent\":{"
		 "\"TaskId\":\"T1\",\"Status\":\"FINISH\",\"ErrCode\":0,"
		 "\"Message\":\"SUCCESS\",\"FileId\":\"55\","
		 "\"MediaBasicInfo\":{\"SourceInfo\":{\"SourceContext\":"
		 "\"vh1:" UUID "\"}},\"ProcedureTaskId\":\"P1\","
		 "\"MetaData\":{\"Size\":1234}}}",
		 &ev);
	assert_int_equal(ev.effect, EFFECT_CONFIRMED);
	assert_int_equal(ev.processing_follows, 1);
	assert_string_equal(ev.procedure_task_id, "P1");
	assert_string_equal(ev.upload_id, UUID);
	assert_int_equal(ev.size, 1234);
	vod_event_cleanup(&ev);
	vod_event_init(&ev);
	parse_ok("{\"EventType\":\"PullComplete\",\"PullCompleteEvent\":{"
		 "\"TaskId\":\"T2\",\"Status\":\"FINISH\",\"ErrCode\":60000,"
		 "\"Message\":\"source file error\",\"FileId\":\"\","
		 "\"MediaBasicInfo\":null,\"ProcedureTaskId\":\"\"}}",
		 &ev);
	assert_int_equal(ev.effect, EFFECT_NONE);
	assert_null(ev.file_id);
	assert_string_equal(ev.task_id, "T2");
	assert_string_equal(ev.error_code, "60000");
	assert_string_equal(ev.error_message, "source file error");
	assert_string_equal(ev.dedup_key, "PullComplete:T2:FINISH");
	vod_event_cleanup(&ev);
}

static void
legacy_version_number(void **state)
{
	struct vod_event a, b;

	(void)state;
	vod_event_init(&a);
	vod_event_init(&b);
	parse_ok("{\"version\":4,\"eventType\":\"NewFileUpload\","
		 "\"data\":{\"fileId\":\"123\",\"procedureTaskId\":\"p-1\"}}",
		 &a);
	parse_ok("{\"version\":\"4.0\",\"eventType\":\"NewFileUpload\","
		 "\"data\":{\"fileId\":\"123\",\"procedureTaskId\":\"p-1\"}}",
		 &b);
	assert_string_equal(a.dedup_key, "NewFileUpload:123");
	assert_string_equal(a.dedup_key, b.dedup_key);
	assert_int_equal(a.effect, EFFECT_CONFIRMED);
	assert_int_equal(a.processing_follows, 1);
	vod_event_cleanup(&a);
	vod_event_cleanup(&b);
}

static void
finish_with_errors(void **state)
{
	struct vod_event ev;

	(void)state;
	vod_event_init(&ev);
	/* Deprecated top-level ErrCode, as a string. */
	parse_ok("{\"EventType\":\"ProcedureStateChanged\","
		 "\"ProcedureStateChangeEvent\":{\"TaskId\":\"t1\","
		 "\"Status\":\"FINISH\",\"ErrCode\":\"10008\","
		 "\"Message\":\"source file error\"}}",
		 &ev);
	assert_int_equal(ev.effect, EFFECT_FAILED);
	assert_string_equal(ev.error_code, "10008");
	assert_string_equal(ev.error_message, "source file error");
	/* A failed sub-task; the first failure wins, ErrCodeExt first. */
	parse_ok(
	    "{\"EventType\":\"ProcedureStateChanged\","
	    "\"ProcedureStateChangeEvent\":{\"TaskId\":\"t1\","
	    "\"Status\":\"FINISH\",\"ErrCode\":0,\"MediaProcessResultSet\":["
	    "{\"Type\":\"Transcode\",\"TranscodeTask\":{\"Status\":\"SUCCESS\","
	    "\"ErrCode\":0,\"ErrCodeExt\":\"\",\"Message\":\"SUCCESS\"},"
	    "\"CoverBySnapshotTask\":null},"
	    "{\"Type\":\"Transcode\",\"TranscodeTask\":{\"Status\":\"FAIL\","
	    "\"ErrCode\":30010,\"ErrCodeExt\":\"FailedOperation.Transcode\","
	    "\"Message\":\"bad input\"}},"
	    "{\"Type\":\"Transcode\",\"TranscodeTask\":{\"Status\":\"FAIL\","
	    "\"ErrCode\":1,\"Message\":\"second\"}}]}}",
	    &ev);
	assert_int_equal(ev.effect, EFFECT_FAILED);
	assert_string_equal(ev.error_code, "FailedOperation.Transcode");
	assert_string_equal(ev.error_message, "bad input");
	/* FAIL with no code at all. */
	parse_ok("{\"EventType\":\"ProcedureStateChanged\","
		 "\"ProcedureStateChangeEvent\":{\"TaskId\":\"t1\","
		 "\"Status\":\"FINISH\",\"MediaProcessResultSet\":[{\"Type\":"
		 "\"Transcode\",\"TranscodeTask\":{\"Status\":\"FAIL\"}}]}}",
		 &ev);
	assert_int_equal(ev.effect, EFFECT_FAILED);
	assert_string_equal(ev.error_code, "FAIL");
	/* Legacy: a failed processTaskList entry. */
	parse_ok(
	    "{\"version\":\"4.0\",\"eventType\":\"ProcedureStateChanged\","
	    "\"data\":{\"vodTaskId\":\"t2\",\"status\":\"FINISH\","
	    "\"errCode\":0,\"processTaskList\":[{\"taskType\":\"Transcode\","
	    "\"status\":\"FAIL\",\"errCode\":40000,\"message\":\"oops\"}]}}",
	    &ev);
	assert_int_equal(ev.effect, EFFECT_FAILED);
	assert_string_equal(ev.error_code, "40000");
	assert_string_equal(ev.error_message, "oops");
	assert_string_equal(ev.dedup_key, "ProcedureStateChanged:t2:FINISH");
	vod_event_cleanup(&ev);
}

static void
quirks(void **state)
{
	struct vod_event ev;

	(void)state;
	vod_event_init(&ev);
	/* FileURL spelling, Size and ErrCode as strings. */
	parse_ok("{\"EventType\":\"ProcedureStateChanged\","
		 "\"ProcedureStateChangeEvent\":{\"TaskId\":\"t\","
		 "\"Status\":\"FINISH\",\"ErrCode\":\"0\",\"FileId\":\"f\","
		 "\"FileURL\":\"https://x/y.mp4\",\"MetaData\":{\"Size\":"
		 "\"7700180\"}}}",
		 &ev);
	assert_string_equal(ev.media_url, "https://x/y.mp4");
	assert_int_equal(ev.size, 7700180);
	assert_int_equal(ev.effect, EFFECT_READY);
	/* Explicit nulls in a push body. */
	parse_ok(
	    "{\"EventType\":\"NewFileUpload\",\"FileUploadEvent\":{"
	    "\"FileId\":\"f1\",\"MediaBasicInfo\":null,\"ProcedureTaskId\":"
	    "null,\"MetaData\":null},\"ProcedureStateChangeEvent\":null}",
	    &ev);
	assert_string_equal(ev.dedup_key, "NewFileUpload:f1");
	assert_int_equal(ev.processing_follows, 0);
	assert_null(ev.media_url);
	vod_event_cleanup(&ev);
}

static void
big_numeric_ids(void **state)
{
	const char *body =
	    "{\"EventType\":\"ProcedureStateChanged\","
	    "\"ProcedureStateChangeEvent\":{\"TaskId\":\"t\",\"Status\":"
	    "\"FINISH\",\"FileId\":5285890784246869930}}";
	struct vod_event ev;
	struct err e = {0};
	cJSON *doc;

	(void)state;
	vod_event_init(&ev);
	parse_ok(body, &ev);
	assert_string_equal(ev.file_id, "5285890784246869930");
	/* A double would have printed 5285890784246869504. */
	parse_ok("{\"version\":4,\"eventType\":\"NewFileUpload\",\"data\":{"
		 "\"fileId\" : 5285890784273533167 }}",
		 &ev);
	assert_string_equal(ev.file_id, "5285890784273533167");
	assert_string_equal(ev.dedup_key, "NewFileUpload:5285890784273533167");
	/* Array elements are found by position. */
	parse_ok("{\"EventType\":\"FileDeleted\",\"FileDeleteEvent\":{"
		 "\"FileIdSet\":[5285890784246869931, 5285890784246869930]}}",
		 &ev);
	assert_string_equal(ev.file_id, "5285890784246869931");
	assert_string_equal(ev.dedup_key, "FileDeleted:5285890784246869930,"
					  "5285890784246869931");
	/* Two different FileIds with the same double: refused. */
	assert_int_equal(
	    parse_rc("{\"EventType\":\"PullComplete\",\"PullCompleteEvent\":{"
		     "\"TaskId\":\"t\",\"FileId\":5285890784246869930,\"x\":"
		     "{\"FileId\":5285890784246869931}}}",
		     &ev, &e),
	    ERR_INPUT);
	/* A lookalike inside a string does not count. */
	parse_ok("{\"EventType\":\"PullComplete\",\"PullCompleteEvent\":{"
		 "\"TaskId\":\"t\",\"FileId\":5285890784246869930,\"x\":"
		 "\"\\\"FileId\\\":5285890784246869931\"}}",
		 &ev);
	assert_string_equal(ev.file_id, "5285890784246869930");
	/* Without raw bytes (PullEvents element): exact below 2^53 only. */
	doc = json_parse(body, strlen(body));
	assert_int_equal(cb_parse_tencent_json(doc, &ev, &e), ERR_INPUT);
	/* Such an element is kept as Unparsed, keyed without its handle. */
	{
		char key[CB_DEDUP_KEY_MAX + 1];
		cJSON *again;

		assert_int_equal(cb_parse_tencent_unparsed(doc, "why", &ev, &e),
				 0);
		assert_string_equal(ev.event_type, "Unparsed");
		assert_int_equal(ev.provider, VOD_TENCENT);
		assert_int_equal(ev.effect, EFFECT_NONE);
		assert_null(ev.file_id);
		assert_string_equal(ev.error_code, "Unparsed");
		assert_string_equal(ev.error_message, "why");
		assert_non_null(strstr(ev.dedup_key, "Unparsed:sha256:"));
		snprintf(key, sizeof(key), "%s", ev.dedup_key);
		again = cJSON_Duplicate(doc, true);
		cJSON_AddStringToObject(again, "EventHandle", "h2");
		assert_int_equal(
		    cb_parse_tencent_unparsed(again, "why", &ev, &e), 0);
		assert_string_equal(ev.dedup_key, key);
		cJSON_Delete(again);
		assert_int_equal(
		    cb_parse_tencent_unparsed(
			cJSON_GetObjectItem(doc, "EventType"), "why", &ev, &e),
		    ERR_INPUT);
	}
	cJSON_Delete(doc);
	body = "{\"EventType\":\"NewFileUpload\",\"FileUploadEvent\":{"
	       "\"FileId\":9007199254740991}}";
	doc = json_parse(body, strlen(body));
	assert_int_equal(cb_parse_tencent_json(doc, &ev, &e), 0);
	assert_string_equal(ev.file_id, "9007199254740991");
	cJSON_Delete(doc);
	/* Fractional or negative ids are not ids. */
	assert_int_equal(parse_rc("{\"EventType\":\"NewFileUpload\","
				  "\"FileUploadEvent\":{\"FileId\":1.5}}",
				  &ev, &e),
			 ERR_INPUT);
	assert_int_equal(parse_rc("{\"EventType\":\"NewFileUpload\","
				  "\"FileUploadEvent\":{\"FileId\":-7}}",
				  &ev, &e),
			 ERR_INPUT);
	vod_event_cleanup(&ev);
}

static void
unknown_type(void **state)
{
	const char *a =
	    "{\"EventType\":\"BrandNewThing\",\"X\":{\"TaskId\":1}}";
	const char *b =
	    "{\"EventType\":\"BrandNewThing\",\"X\":{\"TaskId\":2}}";
	struct vod_event ea, eb, pa, pb;
	cJSON *da, *db;

	(void)state;
	vod_event_init(&ea);
	vod_event_init(&eb);
	vod_event_init(&pa);
	vod_event_init(&pb);
	parse_ok(a, &ea);
	assert_int_equal(ea.effect, EFFECT_NONE);
	assert_string_equal(ea.event_type, "BrandNewThing");
	assert_int_equal(strncmp(ea.dedup_key, "BrandNewThing:sha256:", 21), 0);
	assert_int_equal(strlen(ea.dedup_key), 21 + 64);
	parse_ok(a, &eb);
	assert_string_equal(ea.dedup_key, eb.dedup_key);
	parse_ok(b, &eb);
	assert_string_not_equal(ea.dedup_key, eb.dedup_key);
	/* Pulled twice with different handles: one key. */
	a = "{\"EventHandle\":\"h1\",\"EventType\":\"Z\"}";
	b = "{\"EventHandle\":\"h2\",\"EventType\":\"Z\"}";
	da = json_parse(a, strlen(a));
	db = json_parse(b, strlen(b));
	assert_int_equal(cb_parse_tencent_json(da, &pa, NULL), 0);
	assert_int_equal(cb_parse_tencent_json(db, &pb, NULL), 0);
	assert_string_equal(pa.dedup_key, pb.dedup_key);
	/* A known type without its subject is keyed the same way. */
	parse_ok("{\"EventType\":\"NewFileUpload\"}", &eb);
	assert_int_equal(eb.effect, EFFECT_NONE);
	assert_int_equal(strncmp(eb.dedup_key, "NewFileUpload:sha256:", 21), 0);
	cJSON_Delete(da);
	cJSON_Delete(db);
	vod_event_cleanup(&ea);
	vod_event_cleanup(&eb);
	vod_event_cleanup(&pa);
	vod_event_cleanup(&pb);
}

static void
upload_id(void **state)
{
	struct vod_event ev;

	(void)state;
	vod_event_init(&ev);
	parse_ok("{\"EventType\":\"NewFileUpload\",\"FileUploadEvent\":{"
		 "\"FileId\":\"1\",\"MediaBasicInfo\":{\"SourceInfo\":{"
		 "\"SourceContext\":\"vh1:" UUID "\"}}}}",
		 &ev);
	assert_string_equal(ev.upload_id, UUID);
	assert_string_equal(ev.source_context, "vh1:" UUID);
	parse_ok("{\"version\":\"4.0\",\"eventType\":\"NewFileUpload\","
		 "\"data\":{\"fileId\":\"1\",\"sourceContext\":\"vh1:" UUID
		 ";user context\"}}",
		 &ev);
	assert_string_equal(ev.upload_id, UUID);
	/* From SessionContext on a task flow. */
	parse_ok("{\"EventType\":\"ProcedureStateChanged\","
		 "\"ProcedureStateChangeEvent\":{\"TaskId\":\"t\",\"Status\":"
		 "\"PROCESSING\",\"SessionContext\":\"vh1:" UUID "\"}}",
		 &ev);
	assert_string_equal(ev.upload_id, UUID);
	assert_string_equal(ev.session_context, "vh1:" UUID);
	/* Not ours: upper case, short, other prefix. */
	parse_ok(
	    "{\"EventType\":\"NewFileUpload\",\"FileUploadEvent\":{"
	    "\"FileId\":\"1\",\"MediaBasicInfo\":{\"SourceInfo\":{"
	    "\"SourceContext\":\"vh1:0F8FAD5B-D9CB-469F-A165-70867728950E\""
	    "}}}}",
	    &ev);
	assert_null(ev.upload_id);
	parse_ok("{\"EventType\":\"NewFileUpload\",\"FileUploadEvent\":{"
		 "\"FileId\":\"1\",\"MediaBasicInfo\":{\"SourceInfo\":{"
		 "\"SourceContext\":\"vh1:0f8fad5b-d9cb\"}}}}",
		 &ev);
	assert_null(ev.upload_id);
	parse_ok("{\"EventType\":\"NewFileUpload\",\"FileUploadEvent\":{"
		 "\"FileId\":\"1\",\"MediaBasicInfo\":{\"SourceInfo\":{"
		 "\"SourceContext\":\"vh2:" UUID "\"}}}}",
		 &ev);
	assert_null(ev.upload_id);
	vod_event_cleanup(&ev);
}

static void
rejects(void **state)
{
	static const char *const bad[] = {
	    "",
	    "{",
	    "[]",
	    "\"NewFileUpload\"",
	    "{}",
	    "{\"version\":\"4.0\",\"data\":{}}",
	    "{\"EventType\":5}",
	    "{\"EventType\":\"\"}",
	    "{\"EventType\":\"a b\"}",
	    "{\"EventType\":\"NewFileUpload\"} trailing",
	    ("{\"EventType\":\"NewFileUpload\",\"FileUploadEvent\":{"
	     "\"FileId\":true}}"),
	};
	struct vod_event ev;
	struct err e = {0};

	(void)state;
	vod_event_init(&ev);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cb_parse_tencent(bad[i], strlen(bad[i]), &ev, &e) !=
		    ERR_INPUT)
			fail_msg("accepted: %s", bad[i]);
		assert_null(ev.event_type);
		assert_null(ev.dedup_key);
	}
	assert_int_equal(cb_parse_tencent_json(NULL, &ev, &e), ERR_INPUT);
	vod_event_cleanup(&ev);
}

static void
caps(void **state)
{
	char body[8192], id[CB_ID_MAX + 2], ctx[CB_CONTEXT_MAX + 2];
	struct vod_event ev;
	struct err e = {0};

	(void)state;
	vod_event_init(&ev);
	memset(id, 'a', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	snprintf(body, sizeof(body),
		 "{\"EventType\":\"NewFileUpload\",\"FileUploadEvent\":{"
		 "\"FileId\":\"%s\"}}",
		 id);
	assert_int_equal(cb_parse_tencent(body, strlen(body), &ev, &e),
			 ERR_INPUT);
	id[CB_ID_MAX] = '\0'; /* exactly at the cap */
	snprintf(body, sizeof(body),
		 "{\"EventType\":\"NewFileUpload\",\"FileUploadEvent\":{"
		 "\"FileId\":\"%s\"}}",
		 id);
	assert_int_equal(cb_parse_tencent(body, strlen(body), &ev, &e), 0);
	memset(ctx, 'c', sizeof(ctx) - 1);
	ctx[sizeof(ctx) - 1] = '\0';
	snprintf(body, sizeof(body),
		 "{\"version\":\"4.0\",\"eventType\":\"NewFileUpload\","
		 "\"data\":{\"fileId\":\"1\",\"sourceContext\":\"%s\"}}",
		 ctx);
	assert_int_equal(cb_parse_tencent(body, strlen(body), &ev, &e),
			 ERR_INPUT);
	/* A failed parse leaves the previous event in place. */
	assert_int_equal(strlen(ev.file_id), CB_ID_MAX);
	vod_event_cleanup(&ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(v3_new_file_upload),
	    cmocka_unit_test(v3_procedure),
	    cmocka_unit_test(v3_file_deleted),
	    cmocka_unit_test(legacy_new_file_upload),
	    cmocka_unit_test(legacy_procedure),
	    cmocka_unit_test(legacy_pull_complete),
	    cmocka_unit_test(legacy_pull_failed),
	    cmocka_unit_test(v3_pull_complete),
	    cmocka_unit_test(v3_pull_complete_variants),
	    cmocka_unit_test(legacy_version_number),
	    cmocka_unit_test(finish_with_errors),
	    cmocka_unit_test(quirks),
	    cmocka_unit_test(big_numeric_ids),
	    cmocka_unit_test(unknown_type),
	    cmocka_unit_test(upload_id),
	    cmocka_unit_test(rejects),
	    cmocka_unit_test(caps),
	    cmocka_unit_test(file_deleted_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

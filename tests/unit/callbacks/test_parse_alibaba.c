/*
 * test_parse_alibaba.c: callbacks/parse_alibaba.c on every verbatim sample of
 * alibaba-vod.md section 4 and on the documented quirks.
 */
#include "callbacks/callbacks.h"
#include "samples.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define UUID "0f8fad5b-d9cb-469f-a165-70867728950e"
#define TIME 1489996157 /* 2017-03-20T07:49:17Z */

static int
parse_rc(const char *body, struct vod_event *ev, struct err *e)
{
	return cb_parse_alibaba(body, strlen(body), ev, e);
}

static void
parse_ok(const char *body, struct vod_event *ev)
{
	struct err e = {0};
	int rc = parse_rc(body, ev, &e);

	if (rc != 0)
		fail_msg("parse failed: %d %s", rc, e.msg);
	assert_int_equal(ev->provider, VOD_ALIBABA);
	assert_non_null(ev->dedup_key);
}

static void
parse_sample(const char *name, struct vod_event *ev)
{
	size_t len;
	char *body = sample_load(name, &len);
	struct err e = {0};
	int rc = cb_parse_alibaba(body, len, ev, &e);

	free(body);
	if (rc != 0)
		fail_msg("%s: %d %s", name, rc, e.msg);
	assert_int_equal(ev->provider, VOD_ALIBABA);
}

static void
file_upload_complete(void **state)
{
	struct vod_event ev;

	(void)state;
	vod_event_init(&ev);
	parse_sample("alibaba_file_upload_complete.json", &ev);
	assert_string_equal(ev.event_type, "FileUploadComplete");
	assert_string_equal(ev.file_id, "43q91jdh7df****");
	assert_int_equal(ev.size, 1439213);
	assert_string_equal(ev.media_url,
			    "http://ss****-bucket.oss-cn-shanghai.aliyuncs.com/"
			    "27ffc438-164h67f57ef-0005-6884-51a-1****.mp4");
	assert_int_equal(ev.effect, EFFECT_CONFIRMED);
	assert_int_equal(ev.processing_follows, -1);
	assert_int_equal(ev.event_time, TIME);
	assert_null(ev.status);
	assert_string_equal(ev.dedup_key, "FileUploadComplete:43q91jdh7df****");
	vod_event_cleanup(&ev);
}

static void
image_upload_complete(void **state)
{
	struct vod_event ev;

	(void)state;
	vod_event_init(&ev);
	parse_sample("alibaba_image_upload_complete.json", &ev);
	assert_string_equal(ev.file_id, "59bdbf10df76a8d8b6137a5ad12****");
	assert_string_equal(
	    ev.media_url, "https://outin-bfefbb90a47c16sh280163e1c7426.oss-cn-"
			  "shanghai.aliyuncs.com/image/default/"
			  "AF8018C2908A434HD73JA678D08B0E****.jpg");
	assert_int_equal(ev.size, 105520);
	assert_int_equal(ev.effect, EFFECT_READY);
	assert_string_equal(
	    ev.dedup_key, "ImageUploadComplete:59bdbf10df76a8d8b6137a5ad12****:"
			  "success:2017-03-20T07:49:17Z");
	parse_ok(
	    "{\"EventType\":\"ImageUploadComplete\",\"ImageId\":\"i1\","
	    "\"Status\":\"fail\",\"ErrorCode\":\"E\",\"ErrorMessage\":\"m\"}",
	    &ev);
	assert_int_equal(ev.effect, EFFECT_FAILED);
	assert_string_equal(ev.error_code, "E");
	assert_string_equal(ev.error_message, "m");
	vod_event_cleanup(&ev);
}

static void
stream_transcode_complete(void **state)
{
	struct vod_event ev;

	(void)state;
	vod_event_init(&ev);
	parse_sample("alibaba_stream_transcode_complete.json", &ev);
	assert_string_equal(ev.file_id, "43q9fj74hdf****");
	assert_string_equal(ev.task_id, "ddddddddddd");
	assert_string_equal(ev.status, "success");
	assert_string_equal(ev.source_context, "test data");
	assert_null(ev.upload_id);
	assert_int_equal(ev.size, 1815321);
	assert_int_equal(ev.effect, EFFECT_PROCESSING);
	assert_string_equal(
	    ev.dedup_key, "StreamTranscodeComplete:43q9fj74hdf****:LD:success");
	/* A failed stream does not decide the outcome. */
	parse_ok(
	    "{\"EventType\":\"StreamTranscodeComplete\",\"VideoId\":\"v\","
	    "\"Status\":\"fail\",\"Definition\":\"HD\",\"ErrorCode\":\"X\"}",
	    &ev);
	assert_int_equal(ev.effect, EFFECT_PROCESSING);
	assert_string_equal(ev.dedup_key, "StreamTranscodeComplete:v:HD:fail");
	vod_event_cleanup(&ev);
}

static void
transcode_complete(void **state)
{
	struct vod_event ev;

	(void)state;
	vod_event_init(&ev);
	parse_sample("alibaba_transcode_complete.json", &ev);
	assert_string_equal(ev.file_id, "43q9fjsh73f****");
	assert_int_equal(ev.effect, EFFECT_READY);
	assert_null(ev.error_code);
	assert_string_equal(ev.dedup_key,
			    "TranscodeComplete:43q9fjsh73f****:success");
	/* Failure: the first failed stream's error. */
	parse_ok(
	    "{\"EventType\":\"TranscodeComplete\",\"VideoId\":\"v\","
	    "\"Status\":\"fail\",\"StreamInfos\":[{\"Status\":\"success\"},"
	    "{\"Status\":\"fail\",\"ErrorCode\":\"TranscodeFail\","
	    "\"ErrorMessage\":\"bad\"}]}",
	    &ev);
	assert_int_equal(ev.effect, EFFECT_FAILED);
	assert_string_equal(ev.error_code, "TranscodeFail");
	assert_string_equal(ev.error_message, "bad");
	assert_string_equal(ev.dedup_key, "TranscodeComplete:v:fail");
	/* Failure with a top-level error. */
	parse_ok("{\"EventType\":\"TranscodeComplete\",\"VideoId\":\"v\","
		 "\"Status\":\"fail\",\"ErrorCode\":\"Top\"}",
		 &ev);
	assert_int_equal(ev.effect, EFFECT_FAILED);
	assert_string_equal(ev.error_code, "Top");
	vod_event_cleanup(&ev);
}

static void
snapshot_complete(void **state)
{
	struct vod_event ev;

	(void)state;
	vod_event_init(&ev);
	/* No VideoId in the sample: keyed by its bytes. */
	parse_sample("alibaba_snapshot_complete.json", &ev);
	assert_null(ev.file_id);
	assert_int_equal(ev.effect, EFFECT_NONE);
	assert_int_equal(ev.event_time, 1533031651);
	assert_string_equal(ev.source_context, "test data");
	assert_int_equal(strncmp(ev.dedup_key, "SnapshotComplete:sha256:", 24),
			 0);
	assert_int_equal(strlen(ev.dedup_key), 24 + 64);
	vod_event_cleanup(&ev);
}

static void
video_analysis(void **state)
{
	struct vod_event ev;

	(void)state;
	vod_event_init(&ev);
	parse_sample("alibaba_video_analysis_success.json", &ev);
	assert_int_equal(ev.size, 1234568); /* "Size":"1234568" */
	assert_int_equal(ev.effect, EFFECT_NONE);
	assert_int_equal(ev.event_time, 1543399968);
	assert_string_equal(
	    ev.dedup_key, "VideoAnalysisComplete:84bd5b0566ddj39549986befd0e80"
			  "****:success:2018-11-28T10:12:48Z");
	parse_sample("alibaba_video_analysis_fail.json", &ev);
	assert_string_equal(ev.error_code,
			    "InvalidParameter.ResourceContentBad");
	assert_string_equal(ev.error_message,
			    "The resource operated InputFile is bad");
	assert_int_equal(ev.effect, EFFECT_NONE);
	vod_event_cleanup(&ev);
}

static void
upload_by_url(void **state)
{
	struct vod_event ev;

	(void)state;
	vod_event_init(&ev);
	parse_sample("alibaba_upload_by_url_success.json", &ev);
	assert_string_equal(ev.file_id, "43q9fjdun3f****");
	assert_string_equal(ev.task_id, "4c815bjs83j1****");
	/* "SourceURL " with its stray space. */
	assert_string_equal(ev.media_url,
			    "http://sample-bucket.oss-cn-shanghai.aliyuncs.com/"
			    "27ffc438-164d55217ef-0005-6884-51a-1****.mp4");
	assert_int_equal(ev.size, 123456);
	assert_int_equal(ev.effect, EFFECT_NONE);
	assert_string_equal(ev.dedup_key,
			    "UploadByURLComplete:43q9fjdun3f****:success:"
			    "2017-03-20T07:49:17Z");
	parse_sample("alibaba_upload_by_url_fail.json", &ev);
	assert_null(ev.file_id);
	assert_int_equal(ev.effect, EFFECT_FAILED);
	assert_string_equal(ev.error_code, "URLInvalidError ");
	assert_string_equal(
	    ev.error_message,
	    "download video failed by the url, please check it");
	assert_string_equal(ev.dedup_key,
			    "UploadByURLComplete:4c815bjsued19c8e:"
			    "fail:2017-03-20T07:49:17Z");
	vod_event_cleanup(&ev);
}

static void
attached_media(void **state)
{
	struct vod_event ev;

	(void)state;
	vod_event_init(&ev);
	parse_sample("alibaba_attached_media_upload.json", &ev);
	assert_string_equal(ev.file_id, "62cb3151eba52js82j2da3b55bc5****");
	assert_string_equal(ev.media_url, "https://vod.aliyunsample.com/"
					  "ABEBDE1JSU79FD4D1329/"
					  "ba52js82j2da3b55bc5****.png");
	assert_int_equal(ev.size, 14333);
	assert_int_equal(ev.event_time, 1547970557);
	/* Attached media need no processing: uploaded means ready. */
	assert_int_equal(ev.effect, EFFECT_READY);
	parse_ok("{\"EventType\":\"AttachedMediaUploadComplete\","
		 "\"AttachedMediaId\":\"a1\",\"Status\":\"fail\","
		 "\"EventTime\":\"2019-01-20T07:49:17Z\"}",
		 &ev);
	assert_int_equal(ev.effect, EFFECT_FAILED);
	assert_string_equal(ev.dedup_key, "AttachedMediaUploadComplete:a1:fail:"
					  "2019-01-20T07:49:17Z");
	/* The short-form DeleteMediaComplete: MediaId is the subject. */
	parse_ok("{\"EventType\":\"DeleteMediaComplete\",\"EventTime\":"
		 "\"2017-03-20T07:49:17Z\",\"Status\":\"fail\",\"MediaType\":"
		 "\"video\",\"DeleteType\":\"all\",\"MediaId\":\"m1\","
		 "\"ErrorCode\":\"InvalidVideo.NotFound\",\"ErrorMessage\":"
		 "\"The video does not exist.\"}",
		 &ev);
	assert_string_equal(ev.file_id, "m1");
	assert_int_equal(ev.effect, EFFECT_NONE);
	assert_string_equal(ev.dedup_key, "DeleteMediaComplete:m1:fail:"
					  "2017-03-20T07:49:17Z");
	vod_event_cleanup(&ev);
}

/* DeleteMediaComplete deletes the whole medium only, on success only. */
static void
delete_media_complete(void **state)
{
	struct vod_event ev;

	(void)state;
	vod_event_init(&ev);
	parse_ok("{\"EventType\":\"DeleteMediaComplete\",\"EventTime\":"
		 "\"2017-03-20T07:49:17Z\",\"Status\":\"success\","
		 "\"MediaType\":\"video\",\"DeleteType\":\"all\","
		 "\"MediaId\":\"1234343b689jsi3ka5422dfe1e47****\"}",
		 &ev);
	assert_string_equal(ev.file_id, "1234343b689jsi3ka5422dfe1e47****");
	assert_int_equal(ev.effect, EFFECT_DELETED);
	assert_int_equal(ev.n_deleted, 1);
	assert_string_equal(ev.deleted_ids[0], ev.file_id);
	assert_int_equal(ev.event_time, TIME);
	assert_string_equal(ev.dedup_key,
			    "DeleteMediaComplete:1234343b689jsi3ka5422dfe1e47"
			    "****:success:2017-03-20T07:49:17Z");
	/* Part of a medium (its source file, a stream): the record stays. */
	parse_ok("{\"EventType\":\"DeleteMediaComplete\",\"Status\":"
		 "\"success\",\"DeleteType\":\"mezzanine\",\"MediaId\":"
		 "\"m2\"}",
		 &ev);
	assert_int_equal(ev.effect, EFFECT_NONE);
	/* No DeleteType: the whole medium; a list in one event. */
	parse_ok("{\"EventType\":\"DeleteMediaComplete\",\"Status\":"
		 "\"success\",\"VideoIds\":\"v2, v1,v2\"}",
		 &ev);
	assert_int_equal(ev.effect, EFFECT_DELETED);
	assert_string_equal(ev.file_id, "v2");
	assert_int_equal(ev.n_deleted, 2);
	assert_string_equal(ev.deleted_ids[0], "v1");
	assert_string_equal(ev.deleted_ids[1], "v2");
	parse_ok("{\"EventType\":\"DeleteMediaComplete\",\"Status\":"
		 "\"success\",\"MediaId\":\"a,b\"}",
		 &ev);
	assert_string_equal(ev.file_id, "a");
	assert_int_equal(ev.n_deleted, 2);
	vod_event_cleanup(&ev);
}

/* AI jobs are keyed by job and status, not by their bytes. */
static void
ai_events(void **state)
{
	static const char audit[] =
	    "{\"EventTime\":\"2022-10-20T10:29:46:540Z\",\"EventType\":"
	    "\"AIMediaAuditComplete\",\"JobId\":\"43q91jdh7df****\","
	    "\"MediaId\":\"SHEN38505NDF9****\",\"Status\":\"success\","
	    "\"Code\":\"0\",\"Message\":\"OK\",\"Data\":{\"Label\":"
	    "\"porn\",\"Suggestion\":\"review\"}}";
	struct vod_event ev, again;

	(void)state;
	vod_event_init(&ev);
	vod_event_init(&again);
	parse_ok(audit, &ev);
	assert_string_equal(ev.dedup_key,
			    "AIMediaAuditComplete:43q91jdh7df****:success");
	assert_string_equal(ev.file_id, "SHEN38505NDF9****");
	assert_string_equal(ev.task_id, "43q91jdh7df****");
	assert_null(ev.error_code); /* "0" is no error */
	assert_int_equal(ev.effect, EFFECT_NONE);
	/* The same job delivered again, with another EventTime: one key. */
	parse_ok("{\"EventType\":\"AIMediaAuditComplete\",\"EventTime\":"
		 "\"2022-10-20T10:29:47:000Z\",\"JobId\":\"43q91jdh7df****\","
		 "\"MediaId\":\"SHEN38505NDF9****\",\"Status\":\"success\"}",
		 &again);
	assert_string_equal(again.dedup_key, ev.dedup_key);
	/* Another status of the same job: another key, with its error. */
	parse_ok("{\"EventType\":\"AIMediaAuditComplete\",\"JobId\":"
		 "\"43q91jdh7df****\",\"MediaId\":\"SHEN38505NDF9****\","
		 "\"Status\":\"fail\",\"Code\":\"InvalidMedia\","
		 "\"Message\":\"bad media\"}",
		 &again);
	assert_string_equal(again.dedup_key,
			    "AIMediaAuditComplete:43q91jdh7df****:fail");
	assert_string_equal(again.error_code, "InvalidMedia");
	assert_string_equal(again.error_message, "bad media");
	/* The documented DNA sample, and a type not listed but named so. */
	parse_ok(
	    "{\"EventTime\":\"2017-03-20T07:49:17:025Z\",\"EventType\":"
	    "\"AIMediaDNAComplete\",\"CompleteTime\":"
	    "\"2017-03-20T07:49:35Z\",\"JobId\":\"88c6ca184c0edj384a5b665e2"
	    "a12****\",\"MediaId\":\"3D12340d92cjsw83k1fab46a0b847fd****\","
	    "\"Status\":\"success\",\"Code\":\"0\",\"Message\":\"OK\","
	    "\"Data\":\"{}\"}",
	    &ev);
	assert_string_equal(ev.dedup_key, "AIMediaDNAComplete:88c6ca184c0edj384"
					  "a5b665e2a12****:success");
	parse_ok("{\"EventType\":\"AIVideoSomethingComplete\",\"JobId\":"
		 "\"j9\",\"MediaId\":\"m9\",\"Status\":\"success\"}",
		 &ev);
	assert_string_equal(ev.dedup_key,
			    "AIVideoSomethingComplete:j9:success");
	/* Without its JobId: keyed by its bytes. */
	parse_ok("{\"EventType\":\"AIVideoTagComplete\",\"MediaId\":"
		 "\"m9\",\"Status\":\"success\"}",
		 &ev);
	assert_non_null(strstr(ev.dedup_key, "AIVideoTagComplete:sha256:"));
	/* A manual review: the media, its result and when. */
	parse_ok("{\"EventType\":\"CreateAuditComplete\",\"EventTime\":"
		 "\"2017-03-20T07:49:17Z\",\"Status\":\"success\","
		 "\"MediaId\":\"m5\",\"SubType\":\"video\",\"AuditStatus\":"
		 "\"Blocked\",\"CreationTime\":\"2017-03-20T07:49:10Z\","
		 "\"Auditor\":\"a\",\"Reason\":\"r\"}",
		 &ev);
	assert_string_equal(ev.dedup_key, "CreateAuditComplete:m5:Blocked:"
					  "2017-03-20T07:49:10Z");
	vod_event_cleanup(&ev);
	vod_event_cleanup(&again);
}

static void
extend_upload_id(void **state)
{
	struct vod_event ev;

	(void)state;
	vod_event_init(&ev);
	/* JSON text in the string. */
	parse_ok("{\"EventType\":\"FileUploadComplete\",\"VideoId\":\"v\","
		 "\"Extend\":\"{\\\"vh\\\":\\\"" UUID
		 "\\\",\\\"ctx\\\":\\\"u\\\"}\"}",
		 &ev);
	assert_string_equal(ev.upload_id, UUID);
	assert_string_equal(ev.source_context,
			    "{\"vh\":\"" UUID "\",\"ctx\":\"u\"}");
	/* Double-encoded. */
	parse_ok("{\"EventType\":\"FileUploadComplete\",\"VideoId\":\"v\","
		 "\"Extend\":\"\\\"{\\\\\\\"vh\\\\\\\":\\\\\\\"" UUID
		 "\\\\\\\"}\\\"\"}",
		 &ev);
	assert_string_equal(ev.upload_id, UUID);
	/* An object. */
	parse_ok("{\"EventType\":\"FileUploadComplete\",\"VideoId\":\"v\","
		 "\"Extend\":{\"vh\":\"" UUID "\",\"ctx\":null}}",
		 &ev);
	assert_string_equal(ev.upload_id, UUID);
	assert_string_equal(ev.source_context,
			    "{\"vh\":\"" UUID "\",\"ctx\":null}");
	/* Not ours. */
	parse_ok("{\"EventType\":\"FileUploadComplete\",\"VideoId\":\"v\","
		 "\"Extend\":\"{\\\"vh\\\":\\\"not-a-uuid\\\"}\"}",
		 &ev);
	assert_null(ev.upload_id);
	parse_ok("{\"EventType\":\"FileUploadComplete\",\"VideoId\":\"v\","
		 "\"Extend\":\"{\\\"vh\\\":\\\"" UUID "x\\\"}\"}",
		 &ev);
	assert_null(ev.upload_id);
	vod_event_cleanup(&ev);
}

static void
quirks(void **state)
{
	struct vod_event ev;
	struct err e = {0};

	(void)state;
	vod_event_init(&ev);
	/* Exact digits of a numeric id, nulls, a bad time. */
	parse_ok("{\"EventType\":\"FileUploadComplete\",\"VideoId\":"
		 "5285890784246869930,\"FileUrl\":null,\"FileURL\":\"u\","
		 "\"Size\":null,\"EventTime\":\"2017-02-30T00:00:00Z\"}",
		 &ev);
	assert_string_equal(ev.file_id, "5285890784246869930");
	assert_string_equal(ev.media_url, "u");
	assert_int_equal(ev.size, -1);
	assert_int_equal(ev.event_time, 0);
	/* Fractional seconds are accepted and dropped. */
	parse_ok("{\"EventType\":\"FileUploadComplete\",\"VideoId\":\"v\","
		 "\"EventTime\":\"2017-03-20T07:49:17.250Z\"}",
		 &ev);
	assert_int_equal(ev.event_time, TIME);
	/* Any RFC 3339 form is read as the instant it names. */
	parse_ok("{\"EventType\":\"FileUploadComplete\",\"VideoId\":\"v\","
		 "\"EventTime\":\"2017-03-20T15:49:17+08:00\"}",
		 &ev);
	assert_int_equal(ev.event_time, TIME);
	parse_ok("{\"EventType\":\"FileUploadComplete\",\"VideoId\":\"v\","
		 "\"EventTime\":\"2017-03-20 07:49:17Z\"}",
		 &ev);
	assert_int_equal(ev.event_time, TIME);
	static const char *const bad_times[] = {
	    "2017-03-20T07:49:17",   "2017-03-20T24:00:00Z",
	    "2017-13-01T00:00:00Z",  "17-03-20T07:49:17Z",
	    "2017-03-20T07:49:17.Z", "2017-03-20T07:49:17+0800"};
	for (size_t i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++) {
		char body[256];

		snprintf(body, sizeof(body),
			 "{\"EventType\":\"FileUploadComplete\",\"VideoId\":"
			 "\"v\",\"EventTime\":\"%s\"}",
			 bad_times[i]);
		parse_ok(body, &ev);
		if (ev.event_time != 0)
			fail_msg("accepted time %s", bad_times[i]);
	}
	/* A FileUploadComplete reported as failed. */
	parse_ok("{\"EventType\":\"FileUploadComplete\",\"VideoId\":\"v\","
		 "\"Status\":\"fail\"}",
		 &ev);
	assert_int_equal(ev.effect, EFFECT_FAILED);
	assert_string_equal(ev.error_code, "fail");
	/* Ambiguous numeric ids. */
	assert_int_equal(parse_rc("{\"EventType\":\"FileUploadComplete\","
				  "\"VideoId\":5285890784246869930,\"x\":{"
				  "\"VideoId\":5285890784246869931}}",
				  &ev, &e),
			 ERR_INPUT);
	vod_event_cleanup(&ev);
}

static void
unknown_and_rejects(void **state)
{
	static const char *const bad[] = {
	    "",
	    "{",
	    "[]",
	    "{}",
	    "{\"EventType\":null}",
	    "{\"EventType\":[\"x\"]}",
	    "{\"EventType\":\"\"}",
	    "{\"EventType\":\"FileUploadComplete\",\"VideoId\":{}}",
	};
	struct vod_event ev, again;
	struct err e = {0};
	const char *body = "{\"EventType\":\"AIMediaDNAComplete\","
			   "\"VideoId\":\"v\",\"Status\":\"success\"}";

	(void)state;
	vod_event_init(&ev);
	vod_event_init(&again);
	parse_ok(body, &ev);
	assert_int_equal(ev.effect, EFFECT_NONE);
	assert_string_equal(ev.file_id, "v");
	assert_int_equal(
	    strncmp(ev.dedup_key, "AIMediaDNAComplete:sha256:", 26), 0);
	parse_ok(body, &again);
	assert_string_equal(ev.dedup_key, again.dedup_key);
	vod_event_cleanup(&ev);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_rc(bad[i], &ev, &e) != ERR_INPUT)
			fail_msg("accepted: %s", bad[i]);
		assert_null(ev.dedup_key);
	}
	vod_event_cleanup(&again);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(file_upload_complete),
	    cmocka_unit_test(image_upload_complete),
	    cmocka_unit_test(stream_transcode_complete),
	    cmocka_unit_test(transcode_complete),
	    cmocka_unit_test(snapshot_complete),
	    cmocka_unit_test(video_analysis),
	    cmocka_unit_test(upload_by_url),
	    cmocka_unit_test(attached_media),
	    cmocka_unit_test(delete_media_complete),
	    cmocka_unit_test(ai_events),
	    cmocka_unit_test(extend_upload_id),
	    cmocka_unit_test(quirks),
	    cmocka_unit_test(unknown_and_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_reconcile.c: the pure half of callbacks/reconcile.c: the events that
 * the platforms' lookup answers amount to, here those of GetURLUploadInfos
 * about parked Alibaba URL pulls (cb_reconcile_url_event), parsed from
 * canned answers by cloud_alibaba_parse_url_upload_infos, and the event
 * that gives up on a pull that never finishes
 * (cb_reconcile_url_timeout_event); and the verdict on a Tencent task flow
 * from its DescribeTaskDetail answer (cb_reconcile_tencent_task_event).
 */
#include "callbacks/background.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define UUID "0f8fad5b-d9cb-469f-a165-70867728950e"

static const char answer[] =
    "{\"RequestId\":\"r\",\"NonExists\":[\"gone\"],\"URLUploadInfoList\":["
    "{\"JobId\":\"j-ok\",\"Status\":\"SUCCESS\",\"MediaId\":\"m1\","
    "\"ErrorCode\":\"200\",\"ErrorMessage\":\"Success\",\"FileSize\":"
    "\"64610\",\"CompleteTime\":\"2021-11-07T10:05:00Z\"},"
    "{\"JobId\":\"j-bad\",\"Status\":\"FAIL\",\"ErrorCode\":"
    "\"URLInvalidError\",\"ErrorMessage\":\"download failed\"},"
    "{\"JobId\":\"j-busy\",\"Status\":\"DOWNLOADING\"},"
    "{\"JobId\":\"j-nocode\",\"Status\":\"DOWNLOAD_FAIL\"},"
    "{\"JobId\":\"j-bare\",\"ErrorCode\":\"InvalidParameter\"}]}";

static struct cloud_alibaba_url_infos infos;

static int
setup(void **state)
{
	struct err e;

	(void)state;
	err_clear(&e);
	if (cloud_alibaba_parse_url_upload_infos(200, answer, strlen(answer),
						 &infos, &e) != 0)
		fail_msg("parse: %s", e.msg);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cloud_alibaba_url_infos_cleanup(&infos);
	return 0;
}

static const struct cloud_alibaba_url_info *
job(const char *id)
{
	for (size_t i = 0; i < infos.n_items; i++)
		if (strcmp(infos.items[i].job_id, id) == 0)
			return &infos.items[i];
	fail_msg("no job %s", id);
	return NULL;
}

static void
test_success_is_a_confirmation(void **state)
{
	struct vod_event ev;
	struct err e;

	(void)state;
	vod_event_init(&ev);
	assert_int_equal(cb_reconcile_url_event(job("j-ok"), UUID, &ev, &e), 0);
	assert_int_equal(ev.provider, VOD_ALIBABA);
	assert_string_equal(ev.event_type, "Reconciled");
	assert_string_equal(ev.dedup_key, "Reconciled:job:j-ok:SUCCESS");
	assert_string_equal(ev.file_id, "m1");
	assert_string_equal(ev.task_id, "j-ok");
	assert_string_equal(ev.status, "SUCCESS");
	assert_string_equal(ev.upload_id, UUID);
	assert_int_equal(ev.effect, EFFECT_CONFIRMED);
	assert_int_equal(ev.processing_follows, -1);
	assert_int_equal(ev.size, 64610);
	assert_int_equal(ev.event_time, 1636279500);
	assert_null(ev.error_code);
	vod_event_cleanup(&ev);
}

static void
test_failure_names_no_media(void **state)
{
	struct vod_event ev;
	struct err e;

	(void)state;
	vod_event_init(&ev);
	assert_int_equal(cb_reconcile_url_event(job("j-bad"), UUID, &ev, &e),
			 0);
	assert_string_equal(ev.dedup_key, "Reconciled:job:j-bad:FAIL");
	assert_null(ev.file_id);
	assert_string_equal(ev.task_id, "j-bad");
	assert_string_equal(ev.upload_id, UUID);
	assert_int_equal(ev.effect, EFFECT_NONE);
	assert_string_equal(ev.error_code, "URLInvalidError");
	assert_string_equal(ev.error_message, "download failed");
	vod_event_cleanup(&ev);

	/* Without an ErrorCode, the status is the code. */
	vod_event_init(&ev);
	assert_int_equal(cb_reconcile_url_event(job("j-nocode"), UUID, &ev, &e),
			 0);
	assert_string_equal(ev.error_code, "DOWNLOAD_FAIL");
	assert_null(ev.error_message);
	vod_event_cleanup(&ev);

	/* Without a status, the key still names the job. */
	vod_event_init(&ev);
	assert_int_equal(cb_reconcile_url_event(job("j-bare"), UUID, &ev, &e),
			 0);
	assert_string_equal(ev.dedup_key, "Reconciled:job:j-bare:");
	assert_null(ev.status);
	assert_string_equal(ev.error_code, "InvalidParameter");
	vod_event_cleanup(&ev);
}

static void
test_under_way_or_unknown_records_nothing(void **state)
{
	struct vod_event ev;
	struct err e;

	(void)state;
	vod_event_init(&ev);
	assert_int_equal(cb_reconcile_url_event(job("j-busy"), UUID, &ev, &e),
			 ERR_INPUT);
	assert_non_null(strstr(e.msg, "under way"));
	assert_null(ev.dedup_key);
	assert_int_equal(cb_reconcile_url_event(job("gone"), UUID, &ev, &e),
			 ERR_INPUT);
	assert_non_null(strstr(e.msg, "does not know"));
	assert_null(ev.dedup_key);
	vod_event_cleanup(&ev);
}

static void
test_long_error_text_is_cut(void **state)
{
	struct cloud_alibaba_url_info u;
	char code[300], msg[5000];
	struct vod_event ev;
	struct err e;

	(void)state;
	memset(code, 'C', sizeof(code) - 1);
	code[sizeof(code) - 1] = '\0';
	/* A message of two-byte characters, cut between them. */
	for (size_t i = 0; i + 1 < sizeof(msg); i += 2)
		memcpy(msg + i, "\xc3\xa9", 2);
	msg[sizeof(msg) - 1] = '\0';
	memset(&u, 0, sizeof(u));
	u.job_id = "j";
	u.status = "FAIL";
	u.error_code = code;
	u.error_message = msg + 1; /* starts inside a character: not UTF-8 */
	u.outcome = CLOUD_URL_FAILED;
	vod_event_init(&ev);
	assert_int_equal(cb_reconcile_url_event(&u, UUID, &ev, &e), 0);
	assert_int_equal(strlen(ev.error_code), CB_ID_MAX);
	assert_null(ev.error_message);
	vod_event_cleanup(&ev);

	u.error_message = msg;
	vod_event_init(&ev);
	assert_int_equal(cb_reconcile_url_event(&u, UUID, &ev, &e), 0);
	assert_int_equal(strlen(ev.error_message), CB_MESSAGE_MAX);
	assert_true(utf8_chars(ev.error_message, CB_MESSAGE_MAX) > 0);
	vod_event_cleanup(&ev);
}

static void
test_timeout_fails_the_pull(void **state)
{
	struct vod_event ev;

	(void)state;
	vod_event_init(&ev);
	cb_reconcile_url_timeout_event("j-busy", UUID, "DOWNLOADING", 86412,
				       &ev);
	assert_string_equal(ev.event_type, "Reconciled");
	assert_string_equal(ev.dedup_key, "Reconciled:job:j-busy:timeout");
	assert_string_equal(ev.task_id, "j-busy");
	assert_string_equal(ev.upload_id, UUID);
	assert_null(ev.file_id); /* what makes recording it fail the upload */
	assert_int_equal(ev.effect, EFFECT_NONE);
	assert_string_equal(ev.status, "DOWNLOADING");
	assert_string_equal(ev.error_code, "URLPullTimeout");
	assert_string_equal(ev.error_message,
			    "the platform had not finished pulling the URL "
			    "86412 s after it was submitted (status "
			    "DOWNLOADING)");
	vod_event_cleanup(&ev);

	/* A job the platform does not know; a status that is not text. */
	vod_event_init(&ev);
	cb_reconcile_url_timeout_event("gone", UUID, NULL, 90000, &ev);
	assert_null(ev.status);
	assert_non_null(strstr(ev.error_message, "(it does not know the job)"));
	vod_event_cleanup(&ev);
	vod_event_init(&ev);
	cb_reconcile_url_timeout_event("j", UUID, "\xff\xfe", 90000, &ev);
	assert_null(ev.status);
	assert_non_null(strstr(ev.error_message, "(it gave no usable status)"));
	vod_event_cleanup(&ev);
}

/* A DescribeTaskDetail answer about task flow T1 of media F1: task status
 * top, ProcedureTask status proc, the second transcode's status sub2. */
static int
task_answer(struct cloud_tencent_task *t, const char *top, const char *proc,
	    const char *sub2)
{
	char body[2048];
	struct err e;
	int n;

	n = snprintf(
	    body, sizeof(body),
	    "{\"Response\":{\"TaskType\":\"Procedure\",\"Status\":\"%s\","
	    "\"ProcedureTask\":{\"TaskId\":\"T1\",\"Status\":\"%s\","
	    "\"FileId\":\"F1\",\"MediaProcessResultSet\":["
	    "{\"Type\":\"Transcode\",\"TranscodeTask\":{\"Status\":"
	    "\"SUCCESS\",\"ErrCodeExt\":\"\",\"ErrCode\":0,\"Message\":"
	    "\"SUCCESS\"}},{\"Type\":\"Transcode\",\"TranscodeTask\":{"
	    "\"Status\":\"%s\",\"ErrCodeExt\":\"%s\",\"ErrCode\":%d,"
	    "\"Message\":\"%s\"}},{\"Type\":\"SnapshotByTimeOffset\","
	    "\"TranscodeTask\":null,\"SnapshotByTimeOffsetTask\":{"
	    "\"Status\":\"SUCCESS\",\"ErrCode\":0}}]},"
	    "\"EditMediaTask\":null,\"RequestId\":\"r\"}}",
	    top, proc, sub2,
	    strcmp(sub2, "FAIL") == 0 ? "SourceFileError.ContentMalformed" : "",
	    strcmp(sub2, "FAIL") == 0 ? 30010 : 0,
	    strcmp(sub2, "FAIL") == 0 ? "source file is malformed" : "");
	assert_true(n > 0 && (size_t)n < sizeof(body));
	err_clear(&e);
	return cloud_tencent_parse_task_detail(200, body, (size_t)n, t, &e);
}

static void
expect_task(const char *top, const char *proc, const char *sub2, int effect,
	    const char *code)
{
	struct cloud_tencent_task t;
	struct vod_event ev;
	struct err e;
	char key[64];

	assert_int_equal(task_answer(&t, top, proc, sub2), 0);
	vod_event_init(&ev);
	err_clear(&e);
	if (effect < 0) {
		assert_int_equal(
		    cb_reconcile_tencent_task_event(&t, "F1", &ev, &e),
		    ERR_INPUT);
	} else {
		assert_int_equal(
		    cb_reconcile_tencent_task_event(&t, "F1", &ev, &e), 0);
		assert_int_equal(ev.effect, effect);
		assert_string_equal(ev.event_type, "Reconciled");
		assert_int_equal(ev.provider, VOD_TENCENT);
		snprintf(key, sizeof(key), "Reconciled:F1:task:%s", top);
		assert_string_equal(ev.dedup_key, key);
		assert_string_equal(ev.file_id, "F1");
		assert_string_equal(ev.task_id, "T1");
		if (code == NULL)
			assert_null(ev.error_code);
		else
			assert_string_equal(ev.error_code, code);
	}
	vod_event_cleanup(&ev);
	cloud_tencent_task_cleanup(&t);
}

static void
test_task_flow_verdict(void **state)
{
	(void)state;
	/* Every sub-task succeeded, one of them no transcode. */
	expect_task("FINISH", "FINISH", "SUCCESS", EFFECT_READY, NULL);
	/* One transcode failed while the other succeeded: failed, with the
	 * failed sub-task's error, not ready. */
	expect_task("FINISH", "FINISH", "FAIL", EFFECT_FAILED,
		    "SourceFileError.ContentMalformed");
	expect_task("PROCESSING", "PROCESSING", "PROCESSING", EFFECT_PROCESSING,
		    NULL);
	expect_task("WAITING", "PROCESSING", "PROCESSING", EFFECT_CONFIRMED,
		    NULL);
	expect_task("ABORTED", "PROCESSING", "PROCESSING", EFFECT_FAILED,
		    "ABORTED");
	/* A status nobody documents says nothing. */
	expect_task("PAUSED", "PAUSED", "PROCESSING", -1, NULL);
}

static void
test_task_flow_of_another_media(void **state)
{
	struct cloud_tencent_task t;
	struct vod_event ev;
	struct err e;

	(void)state;
	assert_int_equal(task_answer(&t, "FINISH", "FINISH", "SUCCESS"), 0);
	vod_event_init(&ev);
	assert_int_equal(cb_reconcile_tencent_task_event(&t, "F2", &ev, &e),
			 ERR_INPUT);
	vod_event_cleanup(&ev);
	/* Not a task flow at all. */
	free(t.task_type);
	t.task_type = xstrdup("PullUpload");
	vod_event_init(&ev);
	assert_int_equal(cb_reconcile_tencent_task_event(&t, "F1", &ev, &e),
			 ERR_INPUT);
	vod_event_cleanup(&ev);
	cloud_tencent_task_cleanup(&t);
}

/* A DescribeTaskDetail answer about pull T1 (PullUploadTask). */
static int
pull_answer(struct cloud_tencent_task *t, const char *top, const char *task)
{
	char body[1024];
	struct err e;
	int n = snprintf(body, sizeof(body),
			 "{\"Response\":{\"TaskType\":\"PullUpload\","
			 "\"Status\":\"%s\",\"ProcedureTask\":null,"
			 "\"PullUploadTask\":%s,\"RequestId\":\"r\"}}",
			 top, task);

	assert_true(n > 0 && (size_t)n < sizeof(body));
	err_clear(&e);
	return cloud_tencent_parse_task_detail(200, body, (size_t)n, t, &e);
}

static int
pull_event(const char *top, const char *task, struct vod_event *ev)
{
	struct cloud_tencent_task t;
	struct err e;
	int rc;

	assert_int_equal(pull_answer(&t, top, task), 0);
	err_clear(&e);
	rc = cb_reconcile_tencent_pull_event(&t, "T1", UUID, ev, &e);
	cloud_tencent_task_cleanup(&t);
	return rc;
}

static void
test_pull_task_verdict(void **state)
{
	struct vod_event ev;

	(void)state;
	/* Finished with its FileId: the upload's confirmation, linked. */
	vod_event_init(&ev);
	assert_int_equal(
	    pull_event("FINISH",
		       "{\"TaskId\":\"T1\",\"Status\":\"FINISH\",\"ErrCode\":0,"
		       "\"Message\":\"SUCCESS\",\"FileId\":\"F1\","
		       "\"ProcedureTaskId\":\"\",\"Progress\":100}",
		       &ev),
	    0);
	assert_string_equal(ev.event_type, "Reconciled");
	assert_int_equal(ev.provider, VOD_TENCENT);
	assert_int_equal(ev.effect, EFFECT_CONFIRMED);
	assert_int_equal(ev.processing_follows, 0);
	assert_string_equal(ev.file_id, "F1");
	assert_string_equal(ev.task_id, "T1");
	assert_string_equal(ev.upload_id, UUID);
	assert_string_equal(ev.dedup_key, "Reconciled:job:T1:FINISH");
	vod_event_cleanup(&ev);
	/* Failed: no media, the platform's code and message. */
	vod_event_init(&ev);
	assert_int_equal(
	    pull_event(
		"FINISH",
		"{\"TaskId\":\"T1\",\"Status\":\"FINISH\","
		"\"ErrCode\":60000,\"Message\":\"source\",\"FileId\":\"\"}",
		&ev),
	    0);
	assert_int_equal(ev.effect, EFFECT_NONE);
	assert_null(ev.file_id);
	assert_string_equal(ev.error_code, "60000");
	assert_string_equal(ev.error_message, "source");
	vod_event_cleanup(&ev);
	/* Aborted without an error of its own. */
	vod_event_init(&ev);
	assert_int_equal(pull_event("ABORTED",
				    "{\"TaskId\":\"T1\",\"Status\":"
				    "\"PROCESSING\",\"ErrCode\":0}",
				    &ev),
			 0);
	assert_string_equal(ev.error_code, "ABORTED");
	vod_event_cleanup(&ev);
	/* Under way, another task, or no FileId: nothing to record. */
	vod_event_init(&ev);
	assert_int_equal(pull_event("PROCESSING",
				    "{\"TaskId\":\"T1\",\"Status\":"
				    "\"PROCESSING\",\"ErrCode\":0}",
				    &ev),
			 ERR_INPUT);
	vod_event_cleanup(&ev);
	vod_event_init(&ev);
	assert_int_equal(
	    pull_event("FINISH",
		       "{\"TaskId\":\"T9\",\"Status\":"
		       "\"FINISH\",\"ErrCode\":0,\"FileId\":\"F\"}",
		       &ev),
	    ERR_INPUT);
	vod_event_cleanup(&ev);
	vod_event_init(&ev);
	assert_int_equal(pull_event("FINISH",
				    "{\"TaskId\":\"T1\",\"Status\":"
				    "\"FINISH\",\"ErrCode\":0}",
				    &ev),
			 ERR_INPUT);
	vod_event_cleanup(&ev);
}

/* A media asked to be deleted that the platform no longer has. */
static void
test_deleted_event(void **state)
{
	struct vod_event ev;

	(void)state;
	vod_event_init(&ev);
	cb_reconcile_deleted_event(VOD_ALIBABA, "v1", &ev);
	assert_string_equal(ev.event_type, "Reconciled");
	assert_string_equal(ev.file_id, "v1");
	assert_string_equal(ev.status, "deleted");
	assert_string_equal(ev.dedup_key, "Reconciled:v1:deleted");
	assert_int_equal(ev.effect, EFFECT_DELETED);
	assert_int_equal(ev.provider, VOD_ALIBABA);
	vod_event_cleanup(&ev);
}

/* An image's or attached media's status (GetImageInfo, GetAttachedMediaInfo).
 */
static void
test_image_and_attached_verdict(void **state)
{
	struct vod_event ev;
	struct err e;

	(void)state;
	err_clear(&e);
	vod_event_init(&ev);
	assert_int_equal(
	    cb_reconcile_alibaba_media_event("image", "i1", "Normal", &ev, &e),
	    0);
	assert_int_equal(ev.effect, EFFECT_READY);
	assert_string_equal(ev.dedup_key, "Reconciled:i1:Normal");
	assert_null(ev.error_code);
	vod_event_cleanup(&ev);
	vod_event_init(&ev);
	assert_int_equal(cb_reconcile_alibaba_media_event(
			     "attached", "m1", "UploadFail", &ev, &e),
			 0);
	assert_int_equal(ev.effect, EFFECT_FAILED);
	assert_string_equal(ev.error_code, "UploadFail");
	assert_non_null(strstr(ev.error_message, "attached media"));
	vod_event_cleanup(&ev);
	for (size_t i = 0; i < 3; i++) {
		static const char *const quiet[] = {"Uploading", "UploadSucc",
						    NULL};

		vod_event_init(&ev);
		assert_int_equal(cb_reconcile_alibaba_media_event(
				     "image", "i1", quiet[i], &ev, &e),
				 ERR_INPUT);
		assert_null(ev.dedup_key);
		vod_event_cleanup(&ev);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_success_is_a_confirmation),
	    cmocka_unit_test(test_failure_names_no_media),
	    cmocka_unit_test(test_under_way_or_unknown_records_nothing),
	    cmocka_unit_test(test_long_error_text_is_cut),
	    cmocka_unit_test(test_timeout_fails_the_pull),
	    cmocka_unit_test(test_task_flow_verdict),
	    cmocka_unit_test(test_task_flow_of_another_media),
	    cmocka_unit_test(test_deleted_event),
	    cmocka_unit_test(test_pull_task_verdict),
	    cmocka_unit_test(test_image_and_attached_verdict),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

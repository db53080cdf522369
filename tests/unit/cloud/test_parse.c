/*
 * test_parse.c: the pure response parsers of cloud/tencent.c and
 * cloud/alibaba.c on canned bodies (the reference docs' samples), including
 * error shapes and UploadAddress/UploadAuth decoding. No network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cloud/cloud.h"
#include "common/json.h"

#define P(s) (s), (sizeof(s) - 1)

/* ================================================================ tencent */

static const char tc_apply_ok[] =
    "{\n    \"Response\": {\n"
    "        \"CoverStoragePath\": \"/dir/cover.xx\",\n"
    "        \"RequestId\": \"880f3005-a8c9-4bba-8c87-74e216a17a0b\",\n"
    "        \"StorageBucket\": \"xadacq111211-100922\",\n"
    "        \"StorageRegion\": \"ap-chongqing\",\n"
    "        \"MediaStoragePath\": \"/dir/name.xx\",\n"
    "        \"VodSessionKey\": \"VodSessionKey\",\n"
    "        \"TempCertificate\": {\n"
    "            \"SecretId\": \"xxxxxxx\",\n"
    "            \"SecretKey\": \"xxxxxxxx\",\n"
    "            \"Token\": \"xxxxxxxx\",\n"
    "            \"ExpiredTime\": 182823331\n"
    "        }\n    }\n}";

static void
test_tc_apply_ok(void **state)
{
	struct cloud_tencent_apply r;
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(cloud_tencent_parse_apply(200, P(tc_apply_ok), &r, &e),
			 0);
	assert_string_equal(r.storage_bucket, "xadacq111211-100922");
	assert_string_equal(r.storage_region, "ap-chongqing");
	assert_string_equal(r.media_storage_path, "/dir/name.xx");
	assert_string_equal(r.cover_storage_path, "/dir/cover.xx");
	assert_string_equal(r.vod_session_key, "VodSessionKey");
	assert_string_equal(r.tmp_secret_id, "xxxxxxx");
	assert_string_equal(r.tmp_secret_key, "xxxxxxxx");
	assert_string_equal(r.tmp_token, "xxxxxxxx");
	assert_int_equal(r.expired_time, 182823331);
	assert_string_equal(r.request_id,
			    "880f3005-a8c9-4bba-8c87-74e216a17a0b");
	cloud_tencent_apply_cleanup(&r);
}

static void
test_tc_apply_null_cert_and_missing(void **state)
{
	static const char nocert[] =
	    "{\"Response\":{\"StorageBucket\":\"b-1\",\"StorageRegion\":"
	    "\"ap-x\",\"MediaStoragePath\":\"/p\",\"VodSessionKey\":\"k\","
	    "\"TempCertificate\":null,\"RequestId\":\"r\"}}";
	static const char nokey[] =
	    "{\"Response\":{\"StorageBucket\":\"b-1\",\"StorageRegion\":"
	    "\"ap-x\",\"MediaStoragePath\":\"/p\",\"RequestId\":\"r\"}}";
	struct cloud_tencent_apply r;
	struct err e;

	(void)state;
	assert_int_equal(cloud_tencent_parse_apply(200, P(nocert), &r, &e), 0);
	assert_null(r.tmp_secret_id);
	assert_int_equal(r.expired_time, 0);
	cloud_tencent_apply_cleanup(&r);
	assert_int_equal(cloud_tencent_parse_apply(200, P(nokey), &r, &e),
			 ERR_REMOTE);
	assert_non_null(strstr(e.msg, "VodSessionKey"));
	assert_null(r.storage_bucket); /* cleaned up on failure */
}

static void
test_tc_commit_ok(void **state)
{
	static const char body[] =
	    "{\n    \"Response\": {\n"
	    "        \"FileId\": \"24820810452266399\",\n"
	    "        \"MediaUrl\": \"http://251000333.vod2.myqcloud.com/"
	    "6c0f1c00vodgzp251000333/dee2125c24820810452266399/f0.mp4\",\n"
	    "        \"CoverUrl\": \"http://251000333.vod2.myqcloud.com/"
	    "6c0f1c00vodgzp251000333/dee2125c24820810452266399/"
	    "24820810452266400.jpg\",\n"
	    "        \"RequestId\": \"requestId\"\n    }\n}";
	struct cloud_tencent_commit r;
	struct err e;

	(void)state;
	assert_int_equal(cloud_tencent_parse_commit(200, P(body), &r, &e), 0);
	assert_string_equal(r.file_id, "24820810452266399");
	assert_non_null(strstr(r.media_url, "/f0.mp4"));
	assert_non_null(strstr(r.cover_url, "24820810452266400.jpg"));
	assert_string_equal(r.request_id, "requestId");
	cloud_tencent_commit_cleanup(&r);
}

/* The PullUpload example of the API reference (266/35575), verbatim. */
static void
test_tc_pull_ok(void **state)
{
	static const char body[] =
	    "{\n    \"Response\": {\n"
	    "        \"RequestId\": "
	    "\"5ca61e3a-6b8e-4b4e-9256-fdc701190064ef0\",\n"
	    "        \"TaskId\": "
	    "\"125xxxxxx07-pull-893dc41e6fdc22dcf24aa6e9c61cp94\"\n"
	    "    }\n}";
	static const char none[] = "{\"Response\":{\"RequestId\":\"r\"}}";
	struct cloud_tencent_pull r;
	struct err e;

	(void)state;
	assert_int_equal(cloud_tencent_parse_pull(200, P(body), &r, &e), 0);
	assert_string_equal(r.task_id,
			    "125xxxxxx07-pull-893dc41e6fdc22dcf24aa6e9c61cp94");
	assert_string_equal(r.request_id,
			    "5ca61e3a-6b8e-4b4e-9256-fdc701190064ef0");
	cloud_tencent_pull_cleanup(&r);
	err_clear(&e);
	assert_int_equal(cloud_tencent_parse_pull(200, P(none), &r, &e),
			 ERR_REMOTE);
	assert_non_null(strstr(e.msg, "TaskId"));
	assert_null(r.task_id);
}

static void
test_tc_errors(void **state)
{
	static const char auth[] =
	    "{\n    \"Response\": {\n        \"Error\": {\n"
	    "            \"Code\": \"AuthFailure.SignatureFailure\",\n"
	    "            \"Message\": \"The provided credentials could not "
	    "be validated. Please check your signature is correct.\"\n"
	    "        },\n"
	    "        \"RequestId\": \"ed93f3cb-f35e-473f-b9f3-0d451b8b79c6\"\n"
	    "    }\n}";
	static const char param[] =
	    "{\"Response\":{\"Error\":{\"Code\":"
	    "\"InvalidParameterValue.VodSessionKey\",\"Message\":\"bad\"},"
	    "\"RequestId\":\"r1\"}}";
	static const char v2[] =
	    "{\"code\":4000,\"message\":\"(100004)invalid\",\"codeDesc\":"
	    "\"InvalidParameter\"}";
	struct cloud_tencent_commit r;
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(cloud_tencent_parse_commit(200, P(auth), &r, &e),
			 ERR_AUTH);
	assert_int_equal(e.code, ERR_AUTH);
	assert_string_equal(e.remote, "AuthFailure.SignatureFailure");
	assert_non_null(strstr(e.msg, "could not be validated"));
	assert_non_null(strstr(e.msg, "ed93f3cb"));
	assert_null(r.file_id);

	err_clear(&e);
	assert_int_equal(cloud_tencent_parse_commit(200, P(param), &r, &e),
			 ERR_REMOTE);
	assert_string_equal(e.remote, "InvalidParameterValue.VodSessionKey");

	err_clear(&e);
	assert_int_equal(cloud_tencent_parse_empty(200, P(v2), &e), ERR_REMOTE);
	assert_string_equal(e.remote, "4000");

	err_clear(&e);
	assert_int_equal(cloud_tencent_parse_empty(502, P("<html>"), &e),
			 ERR_UNAVAIL);
	assert_string_equal(e.remote, "");
	assert_int_equal(cloud_tencent_parse_empty(404, P("{}"), &e),
			 ERR_REMOTE);
	assert_int_equal(cloud_tencent_parse_empty(200, P("{\"Resp"), &e),
			 ERR_REMOTE);
	assert_int_equal(cloud_tencent_parse_empty(200, P("[1]"), &e),
			 ERR_REMOTE);
	/* ConfirmEvents output from the doc. */
	assert_int_equal(cloud_tencent_parse_empty(
			     200,
			     P("{\"Response\":{\"RequestId\":"
			       "\"12ae8d8e-dce3-4151-9d4b-5594145287e1\"}}"),
			     &e),
			 0);
}

static void
test_tc_events(void **state)
{
	static const char body[] =
	    "{\"Response\":{\"EventSet\":[{\"EventHandle\":\"EventHandle1\","
	    "\"EventType\":\"ProcedureStateChanged\",\"FileUploadEvent\":"
	    "null,\"ProcedureStateChangeEvent\":{\"TaskId\":\"t\",\"FileId\":"
	    "\"5285890784246869930\"}},{\"EventHandle\":\"EventHandle2\","
	    "\"EventType\":\"NewFileUpload\"}],\"RequestId\":\"rq\"}}";
	static const char none[] =
	    "{\"Response\":{\"EventSet\":null,\"RequestId\":\"rq\"}}";
	struct cloud_tencent_events r;
	struct err e;

	(void)state;
	assert_int_equal(cloud_tencent_parse_events(200, P(body), &r, &e), 0);
	assert_int_equal(r.n_handles, 2);
	assert_string_equal(r.handles[0], "EventHandle1");
	assert_string_equal(r.handles[1], "EventHandle2");
	assert_int_equal(cJSON_GetArraySize(r.set), 2);
	assert_string_equal(r.request_id, "rq");
	/* The id stays a string, digits intact. */
	assert_string_equal(
	    cJSON_GetObjectItem(
		cJSON_GetObjectItem(cJSON_GetArrayItem(r.set, 0),
				    "ProcedureStateChangeEvent"),
		"FileId")
		->valuestring,
	    "5285890784246869930");
	cloud_tencent_events_cleanup(&r);
	assert_int_equal(cloud_tencent_parse_events(200, P(none), &r, &e), 0);
	assert_int_equal(r.n_handles, 0);
	assert_null(r.set);
	assert_non_null(r.doc);
	cloud_tencent_events_cleanup(&r);
	assert_int_equal(
	    cloud_tencent_parse_events(
		200, P("{\"Response\":{\"EventSet\":{}}}"), &r, &e),
	    ERR_REMOTE);
	assert_null(r.doc);
}

static void
test_tc_media_infos(void **state)
{
	static const char body[] =
	    "{\"Response\":{\"MediaInfoSet\":[{\"FileId\":"
	    "\"5285890784246869930\",\"BasicInfo\":{\"Name\":\"n\","
	    "\"MediaUrl\":\"https://x/f0.mp4\",\"Status\":\"Normal\"},"
	    "\"TranscodeInfo\":{\"TranscodeSet\":[{\"Definition\":0},"
	    "{\"Definition\":100010}]}}],\"NotExistFileIdSet\":"
	    "[\"9007199254740993\"],\"RequestId\":\"rq\"}}";
	struct cloud_tencent_media_infos r;
	struct err e;

	(void)state;
	assert_int_equal(cloud_tencent_parse_media_infos(200, P(body), &r, &e),
			 0);
	assert_int_equal(r.n_items, 2);
	assert_string_equal(r.items[0].file_id, "5285890784246869930");
	assert_true(r.items[0].exists);
	assert_string_equal(r.items[0].media_url, "https://x/f0.mp4");
	assert_string_equal(r.items[0].status, "Normal");
	assert_int_equal(r.items[0].n_transcodes, 2);
	assert_non_null(r.items[0].info);
	assert_string_equal(r.items[1].file_id, "9007199254740993");
	assert_false(r.items[1].exists);
	assert_null(r.items[1].media_url);
	cloud_tencent_media_infos_cleanup(&r);
}

/*
 * DescribeTaskDetail: the API reference's Procedure example (abridged; its
 * sibling members are null), a PullUpload answer, the error of a task the
 * platform no longer keeps, and an answer whose detail has another name.
 */
static void
test_tc_task_detail(void **state)
{
	static const char proc[] =
	    "{\"Response\":{\"TaskType\":\"Procedure\",\"Status\":\"FINISH\","
	    "\"CreateTime\":\"2019-02-21T08:27:42Z\",\"ProcedureTask\":{"
	    "\"TaskId\":\"12567683xx-Procedure-2e1af245t0\",\"Status\":"
	    "\"FINISH\",\"FileId\":\"5285890784246869930\","
	    "\"MediaProcessResultSet\":[]},\"EditMediaTask\":null,"
	    "\"PullUploadTask\":null,\"RequestId\":\"rq\"}}";
	static const char pull[] =
	    "{\"Response\":{\"TaskType\":\"PullUpload\",\"Status\":"
	    "\"PROCESSING\",\"ProcedureTask\":null,\"PullUploadTask\":{"
	    "\"TaskId\":\"Pull-1\",\"Status\":\"PROCESSING\",\"ErrCode\":0},"
	    "\"RequestId\":\"rq2\"}}";
	static const char gone[] =
	    "{\"Response\":{\"Error\":{\"Code\":"
	    "\"InvalidParameterValue.TaskId\",\"Message\":\"no such task\"},"
	    "\"RequestId\":\"rq3\"}}";
	static const char other[] =
	    "{\"Response\":{\"TaskType\":\"ImageSprite\",\"Status\":"
	    "\"FINISH\",\"CreateImageSpriteTask\":{\"TaskId\":\"t\"},"
	    "\"ProcedureTask\":null,\"RequestId\":\"rq4\"}}";
	static const char bare[] = "{\"Response\":{\"RequestId\":\"rq5\"}}";
	struct cloud_tencent_task r;
	struct err e;

	(void)state;
	assert_int_equal(cloud_tencent_parse_task_detail(200, P(proc), &r, &e),
			 0);
	assert_string_equal(r.task_type, "Procedure");
	assert_string_equal(r.status, "FINISH");
	assert_string_equal(r.request_id, "rq");
	assert_non_null(r.detail);
	assert_string_equal(json_get_str(r.detail, "FileId"),
			    "5285890784246869930");
	cloud_tencent_task_cleanup(&r);

	assert_int_equal(cloud_tencent_parse_task_detail(200, P(pull), &r, &e),
			 0);
	assert_string_equal(r.task_type, "PullUpload");
	assert_string_equal(json_get_str(r.detail, "TaskId"), "Pull-1");
	cloud_tencent_task_cleanup(&r);

	assert_int_equal(cloud_tencent_parse_task_detail(200, P(gone), &r, &e),
			 ERR_REMOTE);
	assert_string_equal(e.remote, "InvalidParameterValue.TaskId");
	assert_null(r.doc);

	assert_int_equal(cloud_tencent_parse_task_detail(200, P(other), &r, &e),
			 0);
	assert_string_equal(json_get_str(r.detail, "TaskId"), "t");
	cloud_tencent_task_cleanup(&r);

	assert_int_equal(cloud_tencent_parse_task_detail(200, P(bare), &r, &e),
			 ERR_REMOTE);
	assert_non_null(strstr(e.msg, "TaskType"));
}

/* ================================================================ alibaba */

/* Base64 of the decoded pair in alibaba-vod.md §1.7 (secret and token
 * replaced by placeholders, as the doc elides them). */
static const char ali_addr_b64[] =
    "eyJFbmRwb2ludCI6Imh0dHBzOi8vb3NzLWNuLXNoYW5naGFpLmFsaXl1bmNzLmNvbSIs"
    "IkJ1Y2tldCI6Im91dGluLTkyZmMzZDJiOGY1MDExZThhNGE1MDAxNjNlMWMzNWQ1Iiwi"
    "RmlsZU5hbWUiOiJzdi8yMzg2N2NiMy0xNzM5YWYyMzQ1Yi8yMzg2N2NiMy0xNzM5YWYy"
    "MzQ1Yi5tcDQifQ==";
static const char ali_auth_b64[] =
    "eyJTZWN1cml0eVRva2VuIjoiQ0FJUy10ZXN0LXRva2VuIiwiQWNjZXNzS2V5SWQiOiJT"
    "VFMuTlVvZldKeTdpcUN6dXRqeWJBUWdGTFBDQyIsIkV4cGlyZVVUQ1RpbWUiOiIyMDIw"
    "LTA3LTI5VDE1OjIwOjMxWiIsIkFjY2Vzc0tleVNlY3JldCI6InRlc3Qtc2VjcmV0LTQ0"
    "IiwiRXhwaXJhdGlvbiI6IjM2MDAiLCJSZWdpb24iOiJjbi1zaGFuZ2hhaSJ9";
/* {"SecurityToken":"tok","AccessKeyId":"STS.x","AccessKeySecret":"sec",
 *  "Expiration":"3600"} */
static const char ali_auth_noutc_b64[] =
    "eyJTZWN1cml0eVRva2VuIjoidG9rIiwiQWNjZXNzS2V5SWQiOiJTVFMueCIsIkFjY2Vz"
    "c0tleVNlY3JldCI6InNlYyIsIkV4cGlyYXRpb24iOiIzNjAwIn0=";

static void
test_ali_decode_upload_auth(void **state)
{
	struct cloud_alibaba_upload_auth a;
	struct err e;

	(void)state;
	assert_int_equal(cloud_alibaba_decode_upload_auth(
			     ali_addr_b64, ali_auth_b64, 1000, &a, &e),
			 0);
	assert_string_equal(a.endpoint, "https://oss-cn-shanghai.aliyuncs.com");
	assert_string_equal(a.bucket, "outin-92fc3d2b8f5011e8a4a500163e1c35d5");
	assert_string_equal(a.file_name,
			    "sv/23867cb3-1739af2345b/23867cb3-1739af2345b.mp4");
	assert_null(a.object_prefix);
	assert_string_equal(a.access_key_id, "STS.NUofWJy7iqCzutjybAQgFLPCC");
	assert_string_equal(a.access_key_secret, "test-secret-44");
	assert_string_equal(a.security_token, "CAIS-test-token");
	assert_string_equal(a.region, "cn-shanghai");
	/* ExpireUTCTime wins over Expiration ("3600" is a duration). */
	assert_int_equal(a.expire_at, 1596036031);
	cloud_alibaba_upload_auth_cleanup(&a);

	assert_int_equal(cloud_alibaba_decode_upload_auth(
			     ali_addr_b64, ali_auth_noutc_b64, 1000, &a, &e),
			 0);
	assert_int_equal(a.expire_at, 1000 + 3600);
	assert_null(a.region);
	cloud_alibaba_upload_auth_cleanup(&a);

	/* The doc's masked samples are not base64 (contain '*'). */
	assert_int_equal(cloud_alibaba_decode_upload_auth(
			     "eyJTZWN1cml0*****a2VuIjoiQ0FJU3p3TjF",
			     ali_auth_b64, 0, &a, &e),
			 ERR_REMOTE);
	/* Valid base64 of something that is not a JSON object. */
	assert_int_equal(
	    cloud_alibaba_decode_upload_auth(ali_addr_b64, "WzFd", 0, &a, &e),
	    ERR_REMOTE);
	/* Address without the credential fields. */
	assert_int_equal(cloud_alibaba_decode_upload_auth(
			     ali_addr_b64, ali_addr_b64, 0, &a, &e),
			 ERR_REMOTE);
	assert_null(a.endpoint);
}

static void
test_ali_parse_upload(void **state)
{
	char body[2048];
	struct cloud_alibaba_upload r;
	struct err e;

	(void)state;
	snprintf(body, sizeof(body),
		 "{\"RequestId\": \"25818875-5F78-4A*****F6-D7393642CA58\","
		 "\"VideoId\": \"93ab850b4f6f*****54b6e91d24d81d4\","
		 "\"UploadAddress\": \"%s\", \"UploadAuth\": \"%s\"}",
		 ali_addr_b64, ali_auth_b64);
	assert_int_equal(
	    cloud_alibaba_parse_upload(200, body, strlen(body), 0, &r, &e), 0);
	assert_string_equal(r.video_id, "93ab850b4f6f*****54b6e91d24d81d4");
	assert_string_equal(r.request_id,
			    "25818875-5F78-4A*****F6-D7393642CA58");
	assert_string_equal(r.auth.bucket,
			    "outin-92fc3d2b8f5011e8a4a500163e1c35d5");
	cloud_alibaba_upload_cleanup(&r);

	/* CreateUploadImage, wrapped as in the doc sample. */
	snprintf(body, sizeof(body),
		 "{\"CreateUploadImageResponse\": {\"RequestId\": \"r\","
		 "\"ImageId\": \"img1\", \"ImageURL\": \"https://x/i.png\","
		 "\"UploadAddress\": \"%s\", \"UploadAuth\": \"%s\"}}",
		 ali_addr_b64, ali_auth_b64);
	assert_int_equal(
	    cloud_alibaba_parse_upload(200, body, strlen(body), 0, &r, &e), 0);
	assert_string_equal(r.video_id, "img1");
	assert_string_equal(r.image_url, "https://x/i.png");
	cloud_alibaba_upload_cleanup(&r);

	/* CreateUploadAttachedMedia: MediaId and MediaURL. */
	snprintf(body, sizeof(body),
		 "{\"RequestId\": \"r\", \"MediaId\": \"m1\","
		 "\"MediaURL\": \"https://x/s.srt\", \"FileURL\": "
		 "\"https://x/s.srt\", \"UploadAddress\": \"%s\", "
		 "\"UploadAuth\": \"%s\"}",
		 ali_addr_b64, ali_auth_b64);
	assert_int_equal(
	    cloud_alibaba_parse_upload(200, body, strlen(body), 0, &r, &e), 0);
	assert_string_equal(r.video_id, "m1");
	assert_string_equal(r.image_url, "https://x/s.srt");
	cloud_alibaba_upload_cleanup(&r);

	/* The doc's masked (non-base64) sample is refused, not crashed on. */
	assert_int_equal(
	    cloud_alibaba_parse_upload(
		200,
		P("{\"RequestId\":\"r\",\"VideoId\":\"v\","
		  "\"UploadAddress\":\"eyJTZWN1cml0*****a2VuIjoiQ0FJU3p3TjF\","
		  "\"UploadAuth\":\"eyJFbmRw*****b2ludCI6Im\"}"),
		0, &r, &e),
	    ERR_REMOTE);
	assert_null(r.video_id);
}

static void
test_ali_errors(void **state)
{
	static const char unsupported[] =
	    "        {\n"
	    "                \"RequestId\": "
	    "\"8906582E-6722-409A-A6C4-0E7863B733A5\", \n"
	    "                \"HostId\": \"vod.cn-shanghai.aliyuncs.com\",\n"
	    "                \"Code\": \"UnsupportedOperation\",\n"
	    "                \"Message\": \"The specified action is not "
	    "supported.\"\n"
	    "        }";
	static const char sig[] =
	    "{\"Recommend\":\"x\",\"Message\":\"Specified signature is not "
	    "matched with our calculation. server string to sign is:POST&%2F"
	    "&...\",\"RequestId\":\"r\",\"HostId\":\"alidns.aliyuncs.com\","
	    "\"Code\":\"SignatureDoesNotMatch\"}";
	static const char expired[] =
	    "{\"Code\":\"InvalidSecurityToken.Expired\",\"Message\":\"m\","
	    "\"RequestId\":\"r\"}";
	static const char notfound[] =
	    "{\"Code\":\"InvalidVideo.NotFound\",\"Message\":\"The video "
	    "does not exist.\",\"RequestId\":\"r\"}";
	struct cloud_alibaba_upload r;
	struct cloud_alibaba_video_info vi;
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(cloud_alibaba_parse_error(400, P(unsupported), &e),
			 ERR_REMOTE);
	assert_string_equal(e.remote, "UnsupportedOperation");
	assert_non_null(strstr(e.msg, "The specified action is not supported"));
	assert_non_null(strstr(e.msg, "8906582E"));
	err_clear(&e);
	assert_int_equal(cloud_alibaba_parse_error(400, P(sig), &e), ERR_AUTH);
	assert_string_equal(e.remote, "SignatureDoesNotMatch");
	err_clear(&e);
	assert_int_equal(cloud_alibaba_parse_upload(403, P(expired), 0, &r, &e),
			 ERR_AUTH);
	assert_string_equal(e.remote, "InvalidSecurityToken.Expired");
	err_clear(&e);
	assert_int_equal(
	    cloud_alibaba_parse_video_info(404, P(notfound), &vi, &e),
	    ERR_REMOTE);
	assert_string_equal(e.remote, "InvalidVideo.NotFound");
	assert_null(vi.doc);
	err_clear(&e);
	assert_int_equal(cloud_alibaba_parse_error(503, P("busy"), &e),
			 ERR_UNAVAIL);
	assert_string_equal(e.remote, "");
	assert_int_equal(cloud_alibaba_parse_error(200, P("{}"), &e), 0);
	assert_int_equal(
	    cloud_alibaba_parse_video_info(200, P("nope"), &vi, &e),
	    ERR_REMOTE);
}

static void
test_ali_video_info_and_url_jobs(void **state)
{
	static const char vi_body[] =
	    "{\"RequestId\":\"r\",\"Video\":{\"VideoId\":"
	    "\"93ab850b4f6f54b6e91d24d81d4\",\"Status\":\"Normal\","
	    "\"Title\":\"t\",\"Size\":12345678901234567}}";
	static const char jobs_body[] =
	    "{\n    \"RequestId\":\"25818875-5F78-4A*****F6-D7393642CA58\",\n"
	    "    \"UploadJobs\":[\n        {\n"
	    "            \"SourceURL\":\"http://****.mp4\",\n"
	    "            \"JobId\":\"ad90a501b1b94*****fb72374ad005046\"\n"
	    "        }]\n}";
	struct cloud_alibaba_video_info vi;
	struct cloud_alibaba_url_jobs j;
	struct err e;

	(void)state;
	assert_int_equal(
	    cloud_alibaba_parse_video_info(200, P(vi_body), &vi, &e), 0);
	assert_string_equal(vi.video_id, "93ab850b4f6f54b6e91d24d81d4");
	assert_string_equal(vi.status, "Normal");
	assert_non_null(vi.video);
	cloud_alibaba_video_info_cleanup(&vi);
	assert_int_equal(
	    cloud_alibaba_parse_url_jobs(200, P(jobs_body), &j, &e), 0);
	assert_int_equal(j.n, 1);
	assert_string_equal(j.job_ids[0], "ad90a501b1b94*****fb72374ad005046");
	assert_string_equal(j.source_urls[0], "http://****.mp4");
	cloud_alibaba_url_jobs_cleanup(&j);
}

/* GetURLUploadInfos, the API reference's sample (doc-detail/106830),
 * with the masked ids of the sample made whole. */
static const char url_infos_doc[] =
    "{\n\"RequestId\": \"******11-DB8D-4A9A-875B-275798******\",\n"
    "\"NonExists\": [\n\"e3e71ae8e4a46e4893d8cadce50c3bd0\"\n],\n"
    "\"URLUploadInfoList\": [\n{\n"
    "\"CreationTime\": \"2021-11-07T10:03:37Z\",\n"
    "\"Status\": \"Normal\",\n\"ErrorMessage\": \"Success\",\n"
    "\"ErrorCode\": \"200\",\n"
    "\"CompleteTime\": \"2021-11-26 21:47:37\",\n"
    "\"JobId\": \"3829500c0fef429fa4ec1680b122d000\",\n"
    "\"UserData\": \"{\\\"Extend\\\":\\\"x\\\"}\",\n"
    "\"UploadURL\": \"http://****.mp4\",\n"
    "\"MediaId\": \"5014ca70f08171ecbf940764a0fd6000\",\n"
    "\"FileSize\": \"64610\"\n}\n]\n}";

static void
test_ali_url_upload_infos(void **state)
{
	static const char mixed[] =
	    "{\"RequestId\":\"r\",\"URLUploadInfoList\":["
	    "{\"JobId\":\"j1\",\"Status\":\"DOWNLOADING\","
	    "\"CreationTime\":\"2021-11-07T10:03:37Z\"},"
	    "{\"JobId\":\"j2\",\"Status\":\"FAIL\",\"ErrorCode\":"
	    "\"URLInvalidError\",\"ErrorMessage\":\"download failed\"},"
	    "{\"JobId\":\"j3\",\"Status\":\"SUCCESS\",\"MediaId\":\"m3\","
	    "\"FileSize\":12345678901,\"CompleteTime\":"
	    "\"2021-11-07T10:05:00Z\",\"ErrorCode\":\"\"},"
	    "{\"Status\":\"SUCCESS\",\"MediaId\":\"no-job\"},"
	    "{\"JobId\":\"j5\",\"Status\":\"success\",\"FileSize\":1.5}],"
	    "\"NonExists\":[\"j6\",7,\"\"]}";
	static const char wrapped[] =
	    "{\"GetURLUploadInfosResponse\":{\"RequestId\":\"r\","
	    "\"URLUploadInfoList\":[{\"JobId\":\"j\",\"Status\":"
	    "\"UPLOAD_SUCCESS\",\"MediaId\":\"m\"}]}}";
	static const char denied[] =
	    "{\"Code\":\"Forbidden.RAM\",\"Message\":\"m\","
	    "\"RequestId\":\"r\"}";
	struct cloud_alibaba_url_infos r;
	char big[4096];
	size_t n;
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(
	    cloud_alibaba_parse_url_upload_infos(200, P(url_infos_doc), &r, &e),
	    0);
	assert_int_equal(r.n_items, 2);
	assert_string_equal(r.request_id,
			    "******11-DB8D-4A9A-875B-275798******");
	assert_string_equal(r.items[0].job_id,
			    "3829500c0fef429fa4ec1680b122d000");
	assert_string_equal(r.items[0].media_id,
			    "5014ca70f08171ecbf940764a0fd6000");
	assert_string_equal(r.items[0].status, "Normal");
	assert_string_equal(r.items[0].error_code, "200");
	assert_string_equal(r.items[0].error_message, "Success");
	assert_int_equal(r.items[0].file_size, 64610);
	/* "2021-11-26 21:47:37" is not ISO 8601: unknown. */
	assert_int_equal(r.items[0].complete_time, 0);
	assert_int_equal(r.items[0].outcome, CLOUD_URL_SUCCESS);
	assert_non_null(r.items[0].info);
	assert_string_equal(r.items[1].job_id,
			    "e3e71ae8e4a46e4893d8cadce50c3bd0");
	assert_int_equal(r.items[1].outcome, CLOUD_URL_UNKNOWN);
	assert_null(r.items[1].info);
	assert_null(r.items[1].media_id);
	cloud_alibaba_url_infos_cleanup(&r);

	assert_int_equal(
	    cloud_alibaba_parse_url_upload_infos(200, P(mixed), &r, &e), 0);
	assert_int_equal(r.n_items, 5);
	assert_string_equal(r.items[0].job_id, "j1");
	assert_int_equal(r.items[0].outcome, CLOUD_URL_PENDING);
	assert_int_equal(r.items[0].file_size, -1);
	assert_null(r.items[0].media_id);
	assert_string_equal(r.items[1].job_id, "j2");
	assert_int_equal(r.items[1].outcome, CLOUD_URL_FAILED);
	assert_string_equal(r.items[1].error_code, "URLInvalidError");
	assert_string_equal(r.items[1].error_message, "download failed");
	assert_string_equal(r.items[2].job_id, "j3");
	assert_int_equal(r.items[2].outcome, CLOUD_URL_SUCCESS);
	assert_string_equal(r.items[2].media_id, "m3");
	assert_null(r.items[2].error_code); /* empty is absent */
	assert_int_equal(r.items[2].file_size, 12345678901LL);
	assert_int_equal(r.items[2].complete_time, 1636279500);
	/* The element without a JobId is skipped. */
	assert_string_equal(r.items[3].job_id, "j5");
	/* A success without a MediaId is not one yet; a fraction is no
	 * size. */
	assert_int_equal(r.items[3].outcome, CLOUD_URL_PENDING);
	assert_int_equal(r.items[3].file_size, -1);
	assert_string_equal(r.items[4].job_id, "j6");
	assert_int_equal(r.items[4].outcome, CLOUD_URL_UNKNOWN);
	cloud_alibaba_url_infos_cleanup(&r);

	assert_int_equal(
	    cloud_alibaba_parse_url_upload_infos(200, P(wrapped), &r, &e), 0);
	assert_int_equal(r.n_items, 1);
	assert_int_equal(r.items[0].outcome, CLOUD_URL_SUCCESS);
	cloud_alibaba_url_infos_cleanup(&r);

	/* Nothing listed at all: no entries, no error. */
	assert_int_equal(cloud_alibaba_parse_url_upload_infos(
			     200, P("{\"RequestId\":\"r\"}"), &r, &e),
			 0);
	assert_int_equal(r.n_items, 0);
	cloud_alibaba_url_infos_cleanup(&r);

	/* Errors. */
	assert_int_equal(
	    cloud_alibaba_parse_url_upload_infos(403, P(denied), &r, &e),
	    ERR_REMOTE);
	assert_string_equal(e.remote, "Forbidden.RAM");
	assert_null(r.doc);
	assert_int_equal(
	    cloud_alibaba_parse_url_upload_infos(
		200, P("{\"URLUploadInfoList\":{\"JobId\":\"j\"}}"), &r, &e),
	    ERR_REMOTE);
	assert_int_equal(cloud_alibaba_parse_url_upload_infos(
			     200, P("{\"NonExists\":\"j\"}"), &r, &e),
			 ERR_REMOTE);
	assert_int_equal(
	    cloud_alibaba_parse_url_upload_infos(200, P("[]"), &r, &e),
	    ERR_REMOTE);
	/* More entries than any answer to 10 JobIds may hold. */
	n = (size_t)snprintf(big, sizeof(big), "{\"NonExists\":[");
	for (int i = 0; i < 101; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "%s\"j%d\"",
				      i ? "," : "", i);
	n += (size_t)snprintf(big + n, sizeof(big) - n, "]}");
	assert_int_equal(
	    cloud_alibaba_parse_url_upload_infos(200, big, n, &r, &e),
	    ERR_LIMIT);
	assert_null(r.items);
}

static void
test_ali_url_outcome(void **state)
{
	static const struct {
		const char *status, *code, *media;
		enum cloud_url_outcome want;
	} cases[] = {
	    {"SUCCESS", "200", "m", CLOUD_URL_SUCCESS},
	    {"Normal", "200", "m", CLOUD_URL_SUCCESS},
	    {"success", NULL, "m", CLOUD_URL_SUCCESS},
	    {"UPLOAD_SUCCESS", NULL, "m", CLOUD_URL_SUCCESS},
	    {"SUCCESS", "InternalError", "m", CLOUD_URL_SUCCESS},
	    {"SUCCESS", NULL, NULL, CLOUD_URL_PENDING},
	    {"SUCCESS", "", "", CLOUD_URL_PENDING},
	    {"DOWNLOAD_SUCCESS", NULL, NULL, CLOUD_URL_PENDING},
	    {"DOWNLOAD_SUCCESS", "200", "m", CLOUD_URL_PENDING},
	    {"PENDING", NULL, NULL, CLOUD_URL_PENDING},
	    {"PROCESSING", "0", NULL, CLOUD_URL_PENDING},
	    {"DOWNLOADING", "200", NULL, CLOUD_URL_PENDING},
	    {"UPLOADING", NULL, NULL, CLOUD_URL_PENDING},
	    {NULL, NULL, NULL, CLOUD_URL_PENDING},
	    {"Something new", NULL, NULL, CLOUD_URL_PENDING},
	    {"FAIL", NULL, NULL, CLOUD_URL_FAILED},
	    {"fail", NULL, "m", CLOUD_URL_FAILED},
	    {"FAILED", "URLInvalidError", NULL, CLOUD_URL_FAILED},
	    {"Failure", NULL, NULL, CLOUD_URL_FAILED},
	    {"DOWNLOAD_FAIL", NULL, NULL, CLOUD_URL_FAILED},
	    {"upload_failed", NULL, NULL, CLOUD_URL_FAILED},
	    {"PROCESSING", "URLInvalidError", NULL, CLOUD_URL_FAILED},
	    {NULL, "InvalidParameter", NULL, CLOUD_URL_FAILED},
	    {"Normal", "InternalError", NULL, CLOUD_URL_FAILED},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum cloud_url_outcome got = cloud_alibaba_url_outcome(
		    cases[i].status, cases[i].code, cases[i].media);

		if (got != cases[i].want)
			fail_msg("case %zu (%s, %s, %s): %d, want %d", i,
				 cases[i].status ? cases[i].status : "NULL",
				 cases[i].code ? cases[i].code : "NULL",
				 cases[i].media ? cases[i].media : "NULL",
				 (int)got, (int)cases[i].want);
	}
}

static void
test_backoff(void **state)
{
	struct cloud_opts o = {.retry_base_ms = 100, .retry_max_ms = 1000};

	(void)state;
	for (int i = 0; i < 50; i++) {
		long d1 = cloud_http_backoff_ms(&o, 1);
		long d3 = cloud_http_backoff_ms(&o, 3);
		long d9 = cloud_http_backoff_ms(&o, 9);

		assert_in_range(d1, 50, 100);
		assert_in_range(d3, 200, 400);
		assert_in_range(d9, 500, 1000);
	}
	assert_int_equal(cloud_http_max_attempts(&o), 3);
	o.max_attempts = 50;
	assert_int_equal(cloud_http_max_attempts(&o), 10);
}

static void
test_app_ids(void **state)
{
	static const struct cloud_opts base = {
	    .tencent_subapp_id = "1500000001", .alibaba_app_id = "app-1000000"};
	struct cloud_opts o;
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(cloud_tencent_subapp_check("1500000002", &e), 0);
	assert_int_equal(cloud_tencent_subapp_check("18446744073709551615", &e),
			 0);
	assert_int_equal(cloud_tencent_subapp_check("18446744073709551616", &e),
			 ERR_INPUT);
	assert_int_equal(cloud_tencent_subapp_check("0", &e), ERR_INPUT);
	assert_int_equal(cloud_tencent_subapp_check("", &e), ERR_INPUT);
	assert_int_equal(cloud_tencent_subapp_check("12a", &e), ERR_INPUT);
	assert_non_null(strstr(e.msg, "sub_app_id"));
	assert_int_equal(cloud_alibaba_app_check("app-2000001", &e), 0);
	assert_int_equal(cloud_alibaba_app_check("app-", &e), ERR_INPUT);
	assert_int_equal(cloud_alibaba_app_check("App-1", &e), ERR_INPUT);
	assert_int_equal(cloud_alibaba_app_check("app-1x", &e), ERR_INPUT);
	assert_non_null(strstr(e.msg, "app_id"));
	/* A media's application wins over the setting's; none keeps it. */
	cloud_tencent_opts_for_subapp(&base, "1500000002", &o);
	assert_string_equal(o.tencent_subapp_id, "1500000002");
	assert_string_equal(o.alibaba_app_id, "app-1000000");
	cloud_tencent_opts_for_subapp(&base, NULL, &o);
	assert_string_equal(o.tencent_subapp_id, "1500000001");
	cloud_alibaba_opts_for_app(&base, "app-2000001", &o);
	assert_string_equal(o.alibaba_app_id, "app-2000001");
	cloud_alibaba_opts_for_app(&base, "", &o);
	assert_string_equal(o.alibaba_app_id, "app-1000000");
}

/* DeleteVideo's answer and DeleteMedia's envelope, as documented. */
static void
test_delete(void **state)
{
	static const char ok[] =
	    "{\"RequestId\":\"E4EBD2BF-5EB0-4476-8829-9D94E1B1****\","
	    "\"ForbiddenVideoIds\":[\"73ab\"],\"NonExistVideoIds\":"
	    "[\"e44e\"]}";
	static const char tc_gone[] =
	    "{\"Response\":{\"Error\":{\"Code\":"
	    "\"ResourceNotFound.FileNotExist\",\"Message\":\"The file does "
	    "not exist.\"},\"RequestId\":\"r\"}}";
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(cloud_alibaba_parse_delete_video(200, P(ok), "v0", &e),
			 0);
	assert_int_equal(
	    cloud_alibaba_parse_delete_video(200, P(ok), "e44e", &e),
	    ERR_REMOTE);
	assert_string_equal(e.remote, "InvalidVideo.NotFound");
	assert_non_null(strstr(e.msg, "e44e"));
	err_clear(&e);
	assert_int_equal(
	    cloud_alibaba_parse_delete_video(200, P(ok), "73ab", &e),
	    ERR_REMOTE);
	assert_string_equal(e.remote, "Forbidden");
	err_clear(&e);
	assert_int_equal(
	    cloud_tencent_parse_delete(
		200, P("{\"Response\":{\"RequestId\":\"r\"}}"), &e),
	    0);
	assert_int_equal(cloud_tencent_parse_delete(200, P(tc_gone), &e),
			 ERR_REMOTE);
	assert_string_equal(e.remote, "ResourceNotFound.FileNotExist");
	assert_non_null(strstr(e.msg, "DeleteMedia"));
}

/* DeleteAttachedMedia's answer (SDK model DeleteAttachedMediaResponseBody). */
static void
test_ali_delete_attached(void **state)
{
	static const char ok[] =
	    "{\"RequestId\":\"25818875-5F78-4AF6-D7393642CA58****\","
	    "\"NonExistMediaIds\":[\"e44e\"]}";
	static const char xmlish[] =
	    "{\"RequestId\":\"r\",\"NonExistMediaIds\":{\"MediaId\":"
	    "[\"e44e\"]}}";
	static const char denied[] =
	    "{\"RequestId\":\"r\",\"Code\":\"Forbidden\",\"Message\":\"no\"}";
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(
	    cloud_alibaba_parse_delete_attached(200, P(ok), "m1", &e), 0);
	assert_int_equal(
	    cloud_alibaba_parse_delete_attached(200, P("{}"), "m1", &e), 0);
	assert_int_equal(
	    cloud_alibaba_parse_delete_attached(200, P(ok), "e44e", &e),
	    ERR_REMOTE);
	assert_string_equal(e.remote, "InvalidMedia.NotFound");
	assert_non_null(strstr(e.msg, "e44e"));
	err_clear(&e);
	assert_int_equal(
	    cloud_alibaba_parse_delete_attached(200, P(xmlish), "e44e", &e),
	    ERR_REMOTE);
	err_clear(&e);
	assert_int_equal(
	    cloud_alibaba_parse_delete_attached(403, P(denied), "m1", &e),
	    ERR_REMOTE);
	assert_string_equal(e.remote, "Forbidden");
}

/* GetImageInfo's answer, as the API reference's sample has it. */
static void
test_ali_image_info(void **state)
{
	static const char ok[] =
	    "{\"RequestId\":\"AB99D4DF-FAFA-49DC-9C548C1E261E****\","
	    "\"ImageInfo\":{\"ImageId\":\"3e34733b40b9a96ccf5c1ff6f69****\","
	    "\"Status\":\"Normal\",\"ImageType\":\"default\",\"URL\":"
	    "\"https://example.com/image/default/41AE7ADABBE*****.png\","
	    "\"CreationTime\":\"2018-11-21T02:37:23Z\"}}";
	static const char gone[] =
	    "{\"RequestId\":\"r\",\"Code\":\"InvalidImage.NotFound\","
	    "\"Message\":\"The image does not exist.\"}";
	static const char denied[] = "{\"RequestId\":\"r\",\"Code\":"
				     "\"Forbidden.RAM\",\"Message\":\"no\"}";
	struct cloud_alibaba_media_info r;
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(cloud_alibaba_parse_image_info(200, P(ok), &r, &e), 0);
	assert_true(r.exists);
	assert_string_equal(r.status, "Normal");
	assert_string_equal(json_get_str(r.info, "ImageId"),
			    "3e34733b40b9a96ccf5c1ff6f69****");
	assert_string_equal(r.request_id,
			    "AB99D4DF-FAFA-49DC-9C548C1E261E****");
	cloud_alibaba_media_info_cleanup(&r);
	/* Not found is an answer, not an error. */
	assert_int_equal(cloud_alibaba_parse_image_info(404, P(gone), &r, &e),
			 0);
	assert_false(r.exists);
	assert_null(r.status);
	cloud_alibaba_media_info_cleanup(&r);
	assert_int_equal(cloud_alibaba_parse_image_info(403, P(denied), &r, &e),
			 ERR_REMOTE);
	assert_string_equal(e.remote, "Forbidden.RAM");
	cloud_alibaba_media_info_cleanup(&r);
	err_clear(&e);
	assert_int_equal(cloud_alibaba_parse_image_info(
			     200, P("{\"RequestId\":\"r\"}"), &r, &e),
			 ERR_REMOTE);
	cloud_alibaba_media_info_cleanup(&r);
	assert_true(cloud_alibaba_not_found_code("InvalidImage.NotFound"));
	assert_true(cloud_alibaba_not_found_code("InvalidImageId.NotExist"));
	assert_false(cloud_alibaba_not_found_code("Forbidden"));
	assert_false(cloud_alibaba_not_found_code(""));
	assert_false(cloud_alibaba_not_found_code(NULL));
}

/* GetAttachedMediaInfo's answer, as the API reference's sample has it. */
static void
test_ali_attached_media_info(void **state)
{
	static const char ok[] =
	    "{\"RequestId\":\"221BCB57-B217-42BF-619BD13378F9****\","
	    "\"NonExistMediaIds\":[\"eb1861d2c9a842340e989dd56****\"],"
	    "\"AttachedMediaList\":[{\"MediaId\":\"other\",\"Status\":"
	    "\"Uploading\"},{\"MediaId\":\"0222e203cf80f9c22870a4d2c****\","
	    "\"Status\":\"UploadFail\",\"Type\":\"subtitle\",\"URL\":"
	    "\"https://al*****.cn/subtitle/9843C2*****4E186F19B6.vtt\"}]}";
	static const char xmlish[] =
	    "{\"RequestId\":\"r\",\"NonExistMediaIds\":{\"MediaId\":[]},"
	    "\"AttachedMediaList\":{\"AttachedMedia\":[{\"MediaId\":\"m1\","
	    "\"Status\":\"Normal\"}]}}";
	static const char bad[] = "{\"AttachedMediaList\":\"x\"}";
	static const char denied[] =
	    "{\"RequestId\":\"r\",\"Code\":\"Forbidden\",\"Message\":\"no\"}";
	struct cloud_alibaba_media_info r;
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(
	    cloud_alibaba_parse_attached_media_info(
		200, P(ok), "0222e203cf80f9c22870a4d2c****", &r, &e),
	    0);
	assert_true(r.exists);
	assert_string_equal(r.status, "UploadFail");
	assert_string_equal(json_get_str(r.info, "Type"), "subtitle");
	cloud_alibaba_media_info_cleanup(&r);
	assert_int_equal(
	    cloud_alibaba_parse_attached_media_info(
		200, P(ok), "eb1861d2c9a842340e989dd56****", &r, &e),
	    0);
	assert_false(r.exists);
	cloud_alibaba_media_info_cleanup(&r);
	/* Not listed at all: not there either. */
	assert_int_equal(cloud_alibaba_parse_attached_media_info(
			     200, P(ok), "unlisted", &r, &e),
			 0);
	assert_false(r.exists);
	cloud_alibaba_media_info_cleanup(&r);
	assert_int_equal(cloud_alibaba_parse_attached_media_info(200, P(xmlish),
								 "m1", &r, &e),
			 0);
	assert_true(r.exists);
	assert_string_equal(r.status, "Normal");
	cloud_alibaba_media_info_cleanup(&r);
	assert_int_equal(
	    cloud_alibaba_parse_attached_media_info(200, P(bad), "m1", &r, &e),
	    ERR_REMOTE);
	cloud_alibaba_media_info_cleanup(&r);
	err_clear(&e);
	assert_int_equal(cloud_alibaba_parse_attached_media_info(403, P(denied),
								 "m1", &r, &e),
			 ERR_REMOTE);
	assert_string_equal(e.remote, "Forbidden");
	cloud_alibaba_media_info_cleanup(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tc_apply_ok),
	    cmocka_unit_test(test_tc_apply_null_cert_and_missing),
	    cmocka_unit_test(test_tc_commit_ok),
	    cmocka_unit_test(test_tc_pull_ok),
	    cmocka_unit_test(test_tc_errors),
	    cmocka_unit_test(test_tc_events),
	    cmocka_unit_test(test_tc_media_infos),
	    cmocka_unit_test(test_tc_task_detail),
	    cmocka_unit_test(test_ali_decode_upload_auth),
	    cmocka_unit_test(test_ali_parse_upload),
	    cmocka_unit_test(test_ali_errors),
	    cmocka_unit_test(test_ali_video_info_and_url_jobs),
	    cmocka_unit_test(test_ali_url_upload_infos),
	    cmocka_unit_test(test_ali_url_outcome),
	    cmocka_unit_test(test_backoff),
	    cmocka_unit_test(test_app_ids),
	    cmocka_unit_test(test_delete),
	    cmocka_unit_test(test_ali_delete_attached),
	    cmocka_unit_test(test_ali_image_info),
	    cmocka_unit_test(test_ali_attached_media_info),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

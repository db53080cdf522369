/*
 * test_alibaba.c: the pure parts of the Alibaba adapter (upload/alibaba.c):
 * UserData (Extend with the upload id and the user's context,
 * MessageCallback only when a URL is set), the image/video choice, the
 * session round trip and the OSS V1 and V4 signatures it produces for
 * parts and Complete (expected values computed independently with Python's
 * hmac, V4 with tests/emulator/emu_sig.py). No network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "upload/upload_int.h"

#define UID "0b7c3a52-6d1e-4f7a-9a43-6b1f0c2d9e11"

static struct upload_job *
job_new(const char *media_type, const char *ctx, const char *options)
{
	struct upload_job *j = calloc(1, sizeof(*j));

	assert_non_null(j);
	snprintf(j->id, sizeof(j->id), "%s", UID);
	j->provider = strdup("alibaba");
	j->media_kind = strdup("video");
	j->media_type = strdup(media_type);
	j->media_name = strdup("clip");
	j->source_context = ctx ? strdup(ctx) : NULL;
	j->options = json_parse(options, strlen(options));
	assert_non_null(j->options);
	j->bytes_total = -1;
	return j;
}

static void
test_user_data(void **state)
{
	struct upload_job *j = job_new("mp4", "my \"ctx\"", "{}");
	char *ud;
	cJSON *doc;

	(void)state;
	ud = upload__alibaba_user_data(j, NULL);
	assert_string_equal(ud, "{\"Extend\":{\"vh\":\"" UID
				"\",\"ctx\":\"my \\\"ctx\\\"\"}}");
	free(ud);
	ud =
	    upload__alibaba_user_data(j, "https://h.example/callbacks/alibaba");
	doc = json_parse(ud, strlen(ud));
	assert_non_null(doc);
	assert_string_equal(
	    json_get_str(json_get(doc, "MessageCallback"), "CallbackURL"),
	    "https://h.example/callbacks/alibaba");
	assert_string_equal(json_get_str(json_get(doc, "Extend"), "vh"), UID);
	cJSON_Delete(doc);
	free(ud);
	/* No context of the user's: no "ctx"; an empty URL: no callback. */
	free(j->source_context);
	j->source_context = NULL;
	ud = upload__alibaba_user_data(j, "");
	assert_string_equal(ud, "{\"Extend\":{\"vh\":\"" UID "\"}}");
	free(ud);
	upload__job_free(j);
}

static void
test_is_image(void **state)
{
	struct upload_job *j;

	(void)state;
	j = job_new("mp4", NULL, "{}");
	assert_false(upload__alibaba_is_image(j));
	upload__job_free(j);
	j = job_new("JPG", NULL, "{}");
	assert_true(upload__alibaba_is_image(j));
	upload__job_free(j);
	j = job_new("png", NULL, "{\"media_kind\":\"video\"}");
	assert_false(upload__alibaba_is_image(j));
	upload__job_free(j);
	j = job_new("bin", NULL, "{\"media_kind\":\"image\"}");
	assert_true(upload__alibaba_is_image(j));
	upload__job_free(j);
}

static const char SESSION[] =
    "{\"provider\":\"alibaba\",\"scheme\":\"https\",\"bucket\":\"outin-b\","
    "\"endpoint\":\"oss-cn-shanghai.aliyuncs.com\",\"region\":\"cn-shanghai\","
    "\"key\":\"sv/a b/c.mp4\",\"media_id\":\"vid1\",\"image\":false,"
    "\"access_key_id\":\"44CF9590006BF252F707\","
    "\"access_key_secret\":\"OtxrzxIsfpFjA7SwPzILwy8Bw21TLhquhboDYROV\","
    "\"security_token\":\"tok123\",\"expires_at\":1448183798}";

/* The header of s whose name is name (with ": "), or NULL. */
static const char *
header(const struct curl_slist *h, const char *name)
{
	size_t n = strlen(name);

	for (; h != NULL; h = h->next)
		if (strncmp(h->data, name, n) == 0 && h->data[n] == ':')
			return h->data + n + 2;
	return NULL;
}

static void
test_session_and_oss_signature(void **state)
{
	const struct upload_adapter *ad = upload__adapter_find("alibaba");
	struct upload_session *s = NULL, *s2 = NULL;
	const struct cloud_kv part[] = {{"partNumber", "3"},
					{"uploadId", "U1"}};
	const struct cloud_kv done[] = {{"uploadId", "U1"}};
	struct curl_slist *hdrs = NULL;
	struct upload_sign_input in = {.method = "PUT",
				       .params = part,
				       .n_params = 2,
				       .content_length = 5,
				       .now = 1448180198};
	struct upload_result res = {0};
	struct err e;
	char *txt;

	(void)state;
	err_clear(&e);
	assert_non_null(ad);
	assert_string_equal(ad->provider, "alibaba");
	assert_int_equal(ad->load(NULL, SESSION, &s, &e), 0);
	assert_string_equal(s->target.base_url,
			    "https://outin-b.oss-cn-shanghai.aliyuncs.com");
	assert_string_equal(s->target.host,
			    "outin-b.oss-cn-shanghai.aliyuncs.com");
	assert_string_equal(s->target.key, "sv/a b/c.mp4");
	assert_int_equal(s->target.min_part_size, 100 * 1024);
	assert_int_equal(s->target.max_parts, 10000);
	assert_int_equal(s->expires_at, 1448183798);
	assert_string_equal(s->file_id, "vid1");

	assert_int_equal(s->target.sign(s, &in, &hdrs, &e), 0);
	assert_string_equal(header(hdrs, "Authorization"),
			    "OSS 44CF9590006BF252F707:"
			    "Rg7DwYdxtGfaLscC6tvIqP9VKJk=");
	assert_string_equal(header(hdrs, "Date"),
			    "Sun, 22 Nov 2015 08:16:38 GMT");
	assert_string_equal(header(hdrs, "x-oss-security-token"), "tok123");
	curl_slist_free_all(hdrs);
	hdrs = NULL;
	in = (struct upload_sign_input){.method = "POST",
					.params = done,
					.n_params = 1,
					.content_type = "application/xml",
					.content_length = 10,
					.now = 1448180198};
	assert_int_equal(s->target.sign(s, &in, &hdrs, &e), 0);
	assert_string_equal(header(hdrs, "Authorization"),
			    "OSS 44CF9590006BF252F707:"
			    "eDCwZ0j0u825y0+p6K3a2HhCIGo=");
	curl_slist_free_all(hdrs);

	/* save -> load keeps everything; commit needs no call. */
	txt = ad->save(s);
	assert_int_equal(ad->load(NULL, txt, &s2, &e), 0);
	free(txt);
	assert_string_equal(s2->target.base_url, s->target.base_url);
	assert_string_equal(s2->target.key, s->target.key);
	assert_int_equal(s2->expires_at, s->expires_at);
	assert_int_equal(ad->commit(NULL, NULL, s2, &res, &e), 0);
	assert_string_equal(res.file_id, "vid1");
	assert_null(res.media_url);
	upload__result_cleanup(&res);
	ad->free(s);
	ad->free(s2);
	assert_int_equal(ad->load(NULL, "{\"scheme\":\"https\"}", &s, &e),
			 ERR_INPUT);
	assert_int_equal(ad->load(NULL, "not json", &s, &e), ERR_INPUT);
	ad->free(NULL);
}

/* With alibaba_oss_v4 the same session signs OSS4-HMAC-SHA256. */
static void
test_oss_v4_signature(void **state)
{
	const struct upload_adapter *ad = upload__adapter_find("alibaba");
	const struct cloud_opts v4 = {.alibaba_oss_v4 = true};
	struct upload_session *s = NULL;
	const struct cloud_kv part[] = {{"partNumber", "3"},
					{"uploadId", "U1"}};
	const struct cloud_kv done[] = {{"uploadId", "U1"}};
	const struct cloud_kv init[] = {{"uploads", ""}};
	struct curl_slist *hdrs = NULL;
	struct upload_sign_input in = {.method = "PUT",
				       .params = part,
				       .n_params = 2,
				       .content_length = 5,
				       .now = 1448180198};
	char *json, *p;
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(ad->load(&v4, SESSION, &s, &e), 0);
	assert_int_equal(s->target.sign(s, &in, &hdrs, &e), 0);
	assert_string_equal(
	    header(hdrs, "Authorization"),
	    "OSS4-HMAC-SHA256 Credential=44CF9590006BF252F707/20151122/"
	    "cn-shanghai/oss/aliyun_v4_request,Signature=af683f0e85a8fc0d6ce23"
	    "53ca15863a6f4bcec66d2e5c8edab3eacaa9f05443b");
	assert_string_equal(header(hdrs, "x-oss-date"), "20151122T081638Z");
	assert_string_equal(header(hdrs, "x-oss-content-sha256"),
			    "UNSIGNED-PAYLOAD");
	assert_string_equal(header(hdrs, "x-oss-security-token"), "tok123");
	assert_null(header(hdrs, "Date"));
	/* Content-Type is signed but sent by the engine, not the signer. */
	curl_slist_free_all(hdrs);
	hdrs = NULL;
	in = (struct upload_sign_input){.method = "POST",
					.params = done,
					.n_params = 1,
					.content_type = "application/xml",
					.content_length = 10,
					.now = 1448180198};
	assert_int_equal(s->target.sign(s, &in, &hdrs, &e), 0);
	assert_string_equal(
	    header(hdrs, "Authorization"),
	    "OSS4-HMAC-SHA256 Credential=44CF9590006BF252F707/20151122/"
	    "cn-shanghai/oss/aliyun_v4_request,Signature=4d9334b8327cd703286a6"
	    "05adcda130af8f4d2c4cbfe0543e5817779cfd5174d");
	assert_null(header(hdrs, "Content-Type"));
	curl_slist_free_all(hdrs);
	hdrs = NULL;
	ad->free(s);

	/* No Region in the credential: the one of the endpoint. */
	json = strdup(SESSION);
	p = strstr(json, "\"region\":\"cn-shanghai\",");
	memcpy(p, "\"regioX\":", 9);
	p = strstr(json, "oss-cn-shanghai.aliyuncs.com");
	memcpy(p, "oss-cn-hangzhou", 15);
	assert_int_equal(ad->load(&v4, json, &s, &e), 0);
	in = (struct upload_sign_input){.method = "POST",
					.params = init,
					.n_params = 1,
					.content_length = 0,
					.now = 1448180198};
	assert_int_equal(s->target.sign(s, &in, &hdrs, &e), 0);
	assert_string_equal(
	    header(hdrs, "Authorization"),
	    "OSS4-HMAC-SHA256 Credential=44CF9590006BF252F707/20151122/"
	    "cn-hangzhou/oss/aliyun_v4_request,Signature=343d14f4dcd7e7bf5bf8e"
	    "555dd175e55386843d157be03be8bb3c7d1986484f5");
	curl_slist_free_all(hdrs);
	ad->free(s);
	free(json);
}

static void
test_image_refresh_refused(void **state)
{
	const struct upload_adapter *ad = upload__adapter_find("alibaba");
	struct upload_session *s = NULL;
	struct upload_job *j = job_new("jpg", NULL, "{}");
	char *json = strdup(SESSION);
	char *p = strstr(json, "\"image\":false");
	struct err e;

	(void)state;
	err_clear(&e);
	memcpy(p, "\"image\":true ", 13);
	assert_int_equal(ad->load(NULL, json, &s, &e), 0);
	/* Images cannot be refreshed: the worker starts over. No network. */
	assert_int_equal(ad->refresh(NULL, j, s, &e), ERR_NOTFOUND);
	ad->free(s);
	free(json);
	upload__job_free(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_user_data),
	    cmocka_unit_test(test_is_image),
	    cmocka_unit_test(test_session_and_oss_signature),
	    cmocka_unit_test(test_oss_v4_signature),
	    cmocka_unit_test(test_image_refresh_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

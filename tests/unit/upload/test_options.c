/*
 * test_options.c: upload__options_check (upload/options.c), the checks of
 * the platform-specific request fields shared by the HTTP API and the CLI:
 * fields of the other platform, JSON types, the platform's limits, and the
 * normalised values (integers as strings, tags joined). No I/O.
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

/*
 * Check opts_json for provider and media type ext; returns the code, with
 * the message in msg and the normalised options as JSON text in *out
 * (caller frees; NULL on failure) and the media kind in *kind.
 */
static int
check(const char *provider, const char *ext, const char *opts_json, char **out,
      const char **kind, char msg[256])
{
	cJSON *opts = json_parse(opts_json, strlen(opts_json));
	const char *k = NULL;
	struct err e;
	int rc;

	assert_non_null(opts);
	err_clear(&e);
	rc = upload__options_check(provider, ext, opts, &k, &e);
	snprintf(msg, 256, "%s", e.msg);
	if (out != NULL)
		*out = rc == 0 ? cJSON_PrintUnformatted(opts) : NULL;
	if (kind != NULL)
		*kind = k;
	cJSON_Delete(opts);
	return rc;
}

/* Refused, with a message that contains want. */
static void
refused(const char *provider, const char *ext, const char *opts_json,
	const char *want)
{
	char msg[256];

	assert_int_equal(check(provider, ext, opts_json, NULL, NULL, msg),
			 ERR_INPUT);
	if (strstr(msg, want) == NULL)
		fail_msg("%s: message \"%s\" lacks \"%s\"", opts_json, msg,
			 want);
}

/* Accepted, normalised to want. */
static void
accepted(const char *provider, const char *ext, const char *opts_json,
	 const char *want)
{
	char msg[256], *out = NULL;

	if (check(provider, ext, opts_json, &out, NULL, msg) != 0)
		fail_msg("%s refused: %s", opts_json, msg);
	assert_string_equal(out, want);
	cJSON_free(out);
}

static void
test_other_platform_refused(void **state)
{
	(void)state;
	refused("tencent", "mp4", "{\"workflow_id\":\"w1\"}", "workflow_id");
	refused("tencent", "mp4", "{\"cate_id\":1}", "cate_id");
	refused("tencent", "mp4", "{\"media_kind\":\"video\"}", "media_kind");
	refused("alibaba", "mp4", "{\"class_id\":1}", "class_id");
	refused("alibaba", "mp4", "{\"storage_region\":\"ap-x\"}",
		"storage_region");
	refused("alibaba", "mp4", "{\"session_context\":\"s\"}",
		"session_context");
	refused("alibaba", "mp4", "{\"expire_time\":\"2030-01-01T00:00:00Z\"}",
		"expire_time");
	refused("alibaba", "mp4", "{\"cover_path\":\"/a.jpg\"}", "cover_path");
	refused("alibaba", "mp4", "{\"tasks_priority\":1}", "tasks_priority");
	/* A field both take is checked by the requested one's rules. */
	accepted("tencent", "mp4",
		 "{\"cover_url\":\"https://c.example/a.jpg\"}",
		 "{\"cover_url\":\"https://c.example/a.jpg\"}");
	refused("tencent", "mp4", "{\"cover_url\":\"ftp://c.example/a.jpg\"}",
		"cover_url");
	accepted("tencent", "mp4", "{\"tasks_priority\":-10}",
		 "{\"tasks_priority\":\"-10\"}");
	refused("tencent", "mp4", "{\"tasks_priority\":11}", "-10 to 10");
	refused("tencent", "mp4", "{\"tasks_priority\":-11}", "tasks_priority");
	/* null is absent; unknown fields are left alone. */
	accepted("alibaba", "mp4", "{\"class_id\":null,\"other\":1}",
		 "{\"class_id\":null,\"other\":1}");
}

static void
test_integers(void **state)
{
	(void)state;
	accepted("alibaba", "mp4", "{\"cate_id\":123}",
		 "{\"cate_id\":\"123\"}");
	accepted("alibaba", "mp4", "{\"cate_id\":\"9223372036854775807\"}",
		 "{\"cate_id\":\"9223372036854775807\"}");
	accepted("alibaba", "mp4", "{\"cate_id\":9007199254740991}",
		 "{\"cate_id\":\"9007199254740991\"}");
	refused("alibaba", "mp4", "{\"cate_id\":9007199254740993}", "2^53");
	refused("alibaba", "mp4", "{\"cate_id\":\"9223372036854775808\"}",
		"digits");
	refused("alibaba", "mp4", "{\"cate_id\":1.5}", "integer");
	refused("alibaba", "mp4", "{\"cate_id\":\"12a\"}", "digits");
	refused("alibaba", "mp4", "{\"cate_id\":\"-3\"}", "digits");
	refused("alibaba", "mp4", "{\"cate_id\":\"\"}", "digits");
	refused("alibaba", "mp4", "{\"cate_id\":0}", "at least 1");
	refused("alibaba", "mp4", "{\"cate_id\":true}", "cate_id");
	accepted("tencent", "mp4", "{\"class_id\":0}", "{\"class_id\":\"0\"}");
	refused("tencent", "mp4", "{\"class_id\":-1}", "at least 0");
}

static void
test_tags(void **state)
{
	char big[1024], msg[256];
	size_t n = 0;

	(void)state;
	accepted("alibaba", "mp4", "{\"tags\":\"a,b\"}", "{\"tags\":\"a,b\"}");
	accepted("alibaba", "mp4", "{\"tags\":[\"a\",\"b c\"]}",
		 "{\"tags\":\"a,b c\"}");
	/* 32 characters of two bytes each is one tag. */
	n += (size_t)snprintf(big, sizeof(big), "{\"tags\":\"");
	for (int i = 0; i < 32; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "\xc3\xa9");
	snprintf(big + n, sizeof(big) - n, "\"}");
	assert_int_equal(check("alibaba", "mp4", big, NULL, NULL, msg), 0);
	snprintf(big + n, sizeof(big) - n, "x\"}");
	refused("alibaba", "mp4", big, "too long");
	/* 16 tags, then 17. */
	n = (size_t)snprintf(big, sizeof(big), "{\"tags\":\"t");
	for (int i = 1; i < 16; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, ",t%d", i);
	snprintf(big + n, sizeof(big) - n, "\"}");
	assert_int_equal(check("alibaba", "mp4", big, NULL, NULL, msg), 0);
	snprintf(big + n, sizeof(big) - n, ",u\"}");
	refused("alibaba", "mp4", big, "at most 16");
	refused("alibaba", "mp4", "{\"tags\":\"a,,b\"}", "empty");
	refused("alibaba", "mp4", "{\"tags\":[\"a,b\"]}", "comma");
	refused("alibaba", "mp4", "{\"tags\":[1]}", "strings");
	refused("alibaba", "mp4", "{\"tags\":[]}", "empty");
	refused("alibaba", "mp4", "{\"tags\":7}", "tags");
}

static void
test_text_and_urls(void **state)
{
	char big[1100], msg[256];
	size_t n;

	(void)state;
	n = (size_t)snprintf(big, sizeof(big), "{\"description\":\"");
	memset(big + n, 'd', 1024);
	snprintf(big + n + 1024, sizeof(big) - n - 1024, "\"}");
	assert_int_equal(check("alibaba", "mp4", big, NULL, NULL, msg), 0);
	snprintf(big + n + 1024, sizeof(big) - n - 1024, "e\"}");
	refused("alibaba", "mp4", big, "at most 1024");
	accepted("alibaba", "mp4", "{\"description\":\"line\\nnext\"}",
		 "{\"description\":\"line\\nnext\"}");
	refused("alibaba", "mp4", "{\"description\":\"\xff\"}", "UTF-8");
	refused("alibaba", "mp4", "{\"description\":5}", "must be a string");
	refused("tencent", "mp4", "{\"session_context\":\"a\\u0001\"}",
		"control");
	accepted("alibaba", "mp4",
		 "{\"cover_url\":\"https://c.example/a.jpg\"}",
		 "{\"cover_url\":\"https://c.example/a.jpg\"}");
	refused("alibaba", "mp4", "{\"cover_url\":\"ftp://c.example/a.jpg\"}",
		"http");
	refused("alibaba", "mp4", "{\"cover_url\":\"https:///a.jpg\"}",
		"no host");
	refused("alibaba", "mp4", "{\"cover_url\":\"https://c.example/a b\"}",
		"spaces");
	refused("alibaba", "mp4", "{\"workflow_id\":\"wf 1\"}", "letters");
	refused("alibaba", "mp4", "{\"workflow_id\":\"\"}", "1 to 128");
	accepted(
	    "alibaba", "mp4",
	    "{\"storage_location\":\"out-1.oss-cn-shanghai.aliyuncs.com\"}",
	    "{\"storage_location\":\"out-1.oss-cn-shanghai.aliyuncs.com\"}");
	accepted("tencent", "mp4", "{\"expire_time\":\"2030-01-31T12:00:00Z\"}",
		 "{\"expire_time\":\"2030-01-31T12:00:00Z\"}");
	refused("tencent", "mp4", "{\"expire_time\":\"tomorrow\"}", "ISO 8601");
}

static void
test_images(void **state)
{
	const char *kind = NULL;
	char msg[256], *out = NULL;

	(void)state;
	assert_int_equal(check("alibaba", "mp4", "{}", NULL, &kind, msg), 0);
	assert_string_equal(kind, "video");
	assert_int_equal(check("alibaba", "JPG", "{\"image_type\":\"cover\"}",
			       &out, &kind, msg),
			 0);
	assert_string_equal(kind, "image");
	cJSON_free(out);
	assert_int_equal(check("alibaba", "png", "{\"media_kind\":\"video\"}",
			       NULL, &kind, msg),
			 0);
	assert_string_equal(kind, "video");
	assert_int_equal(check("tencent", "png", "{}", NULL, &kind, msg), 0);
	assert_string_equal(kind, "image"); /* tencent.c: ApplyUpload's types */
	refused("alibaba", "mp4", "{\"image_type\":\"cover\"}", "image only");
	refused("alibaba", "jpg", "{\"image_type\":\"poster\"}",
		"\"default\" or \"cover\"");
	refused("alibaba", "mp4", "{\"media_kind\":\"image\"}",
		"png, jpg, jpeg or gif");
	refused("alibaba", "mp4", "{\"media_kind\":\"audio\"}",
		"\"video\" or \"image\"");
	refused("alibaba", "gif", "{\"workflow_id\":\"w1\"}", "workflow_id");
	refused("alibaba", "gif", "{\"cover_url\":\"https://c.example/a\"}",
		"cover_url");
}

/* A media kind for provider and ext with opts_json, or NULL if refused. */
static const char *
kind_of(const char *provider, const char *ext, const char *opts_json)
{
	const char *k = NULL;
	char msg[256];

	return check(provider, ext, opts_json, NULL, &k, msg) == 0 ? k : NULL;
}

static void
test_applications(void **state)
{
	(void)state;
	/* Tencent SubAppId: a decimal integer, kept as digits. */
	accepted("tencent", "mp4", "{\"sub_app_id\":1500000002}",
		 "{\"sub_app_id\":\"1500000002\"}");
	accepted("tencent", "mp4", "{\"sub_app_id\":\"1500000002\"}",
		 "{\"sub_app_id\":\"1500000002\"}");
	refused("tencent", "mp4", "{\"sub_app_id\":0}", "sub_app_id");
	refused("tencent", "mp4", "{\"sub_app_id\":\"15x\"}", "sub_app_id");
	refused("tencent", "mp4", "{\"sub_app_id\":\"app-1\"}", "sub_app_id");
	refused("alibaba", "mp4", "{\"sub_app_id\":1}", "provider \"tencent\"");
	/* Alibaba AppId: "app-" and digits. */
	accepted("alibaba", "mp4", "{\"app_id\":\"app-2000001\"}",
		 "{\"app_id\":\"app-2000001\"}");
	refused("alibaba", "mp4", "{\"app_id\":\"app-\"}", "app_id must be");
	refused("alibaba", "mp4", "{\"app_id\":\"2000001\"}", "app_id must be");
	refused("alibaba", "mp4", "{\"app_id\":\"app-12a\"}", "app_id must be");
	refused("alibaba", "mp4", "{\"app_id\":7}", "app_id");
	refused("tencent", "mp4", "{\"app_id\":\"app-1\"}",
		"provider \"alibaba\"");
}

static void
test_tencent_images(void **state)
{
	(void)state;
	assert_string_equal(kind_of("tencent", "png", "{}"), "image");
	assert_string_equal(kind_of("tencent", "TIFF", "{}"), "image");
	assert_string_equal(kind_of("tencent", "heif", "{}"), "image");
	assert_string_equal(kind_of("tencent", "mp4", "{}"), "video");
	assert_string_equal(kind_of("tencent", "mp3", "{}"), "video");
	refused("tencent", "jpg", "{\"cover_path\":\"/c.jpg\"}",
		"cover_path does not apply to an image");
}

static void
test_attached_media(void **state)
{
	(void)state;
	assert_string_equal(
	    kind_of("alibaba", "srt",
		    "{\"media_kind\":\"attached\",\"business_type\":"
		    "\"subtitle\",\"cate_ids\":\"1,22\"}"),
	    "attached");
	assert_string_equal(kind_of("alibaba", "APNG",
				    "{\"media_kind\":\"attached\","
				    "\"business_type\":\"watermark\"}"),
			    "attached");
	assert_string_equal(kind_of("alibaba", "zip",
				    "{\"media_kind\":\"attached\","
				    "\"business_type\":\"material\"}"),
			    "attached");
	refused("alibaba", "srt", "{\"media_kind\":\"attached\"}",
		"needs business_type");
	refused("alibaba", "srt",
		"{\"media_kind\":\"attached\",\"business_type\":\"watermark\"}",
		"cannot be of type");
	refused("alibaba", "png",
		"{\"media_kind\":\"attached\",\"business_type\":\"logo\"}",
		"business_type");
	refused("alibaba", "png",
		"{\"media_kind\":\"attached\",\"business_type\":"
		"\"watermark\",\"workflow_id\":\"w\"}",
		"workflow_id does not apply to attached media");
	refused("alibaba", "png",
		"{\"media_kind\":\"attached\",\"business_type\":"
		"\"watermark\",\"cate_ids\":\"1,,2\"}",
		"cate_ids must be");
	refused("alibaba", "mp4", "{\"business_type\":\"material\"}",
		"attached media only");
	refused("alibaba", "mp4", "{\"cate_ids\":\"1\"}",
		"attached media only");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_other_platform_refused),
	    cmocka_unit_test(test_integers),
	    cmocka_unit_test(test_tags),
	    cmocka_unit_test(test_text_and_urls),
	    cmocka_unit_test(test_images),
	    cmocka_unit_test(test_applications),
	    cmocka_unit_test(test_tencent_images),
	    cmocka_unit_test(test_attached_media),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

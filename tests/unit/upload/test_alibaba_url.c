/*
 * test_alibaba_url.c: the pure parts of URL pulls (upload/alibaba_url.c):
 * which way a request's URL is taken (url_upload and the setting), the
 * URL check of a pull (no private-address refusal, no resolution), which
 * jobs are pulls, and the UploadMetadatas JSON. No network.
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
job_new(const char *kind, const char *source, const char *options)
{
	struct upload_job *j = calloc(1, sizeof(*j));

	assert_non_null(j);
	snprintf(j->id, sizeof(j->id), "%s", UID);
	j->provider = strdup("alibaba");
	j->source_kind = strdup(kind);
	j->source = strdup(source);
	j->media_kind = strdup("video");
	j->media_type = strdup("mp4");
	j->media_name = strdup("My clip");
	j->options = json_parse(options, strlen(options));
	assert_non_null(j->options);
	j->bytes_total = -1;
	return j;
}

/* rc of upload__url_mode, and *platform through p. */
static int
mode(const char *provider, bool is_url, const char *req, const char *setting,
     bool *p)
{
	struct err e;

	err_clear(&e);
	*p = true; /* must be overwritten */
	return upload__url_mode(provider, is_url, req, setting, p, &e);
}

static void
test_url_mode(void **state)
{
	bool p;

	(void)state;
	/* The setting is the default of Alibaba URL sources only. */
	assert_int_equal(mode("alibaba", true, NULL, "stream", &p), 0);
	assert_false(p);
	assert_int_equal(mode("alibaba", true, NULL, NULL, &p), 0);
	assert_false(p);
	assert_int_equal(mode("alibaba", true, NULL, "platform", &p), 0);
	assert_true(p);
	assert_int_equal(mode("alibaba", false, NULL, "platform", &p), 0);
	assert_false(p);
	assert_int_equal(mode("tencent", true, NULL, "stream", &p), 0);
	assert_false(p);
	/* Tencent pulls too (PullUpload); its own setting is passed. */
	assert_int_equal(mode("tencent", true, NULL, "platform", &p), 0);
	assert_true(p);
	assert_int_equal(mode("tencent", true, "platform", NULL, &p), 0);
	assert_true(p);
	/* The request wins over the setting. */
	assert_int_equal(mode("alibaba", true, "stream", "platform", &p), 0);
	assert_false(p);
	assert_int_equal(mode("alibaba", true, "platform", "stream", &p), 0);
	assert_true(p);
	assert_int_equal(mode("tencent", true, "stream", NULL, &p), 0);
	assert_false(p);
	/* Refusals. */
	assert_int_equal(mode("tencent", false, "platform", NULL, &p),
			 ERR_INPUT);
	assert_false(p);
	assert_int_equal(mode("alibaba", false, "platform", NULL, &p),
			 ERR_INPUT);
	assert_int_equal(mode("alibaba", true, "Platform", NULL, &p),
			 ERR_INPUT);
	assert_int_equal(mode("alibaba", true, "", NULL, &p), ERR_INPUT);
}

/* The refusal names the providers whose platform pulls, from the table. */
static void
test_url_mode_names_pullers(void **state)
{
	struct err e;
	bool p;

	(void)state;
	err_clear(&e);
	assert_int_equal(
	    upload__url_mode("vimeo", true, "platform", NULL, &p, &e),
	    ERR_INPUT);
	assert_string_equal(e.msg, "url_upload \"platform\" is for provider "
				   "\"tencent\" or \"alibaba\" only (the "
				   "platform fetches the URL itself)");
}

static void
test_pull_url_check(void **state)
{
	char long_url[UPLOAD_PULL_URL_MAX + 2];
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(
	    upload__pull_url_check("https://cdn.example/a.mp4", &e), 0);
	assert_int_equal(upload__pull_url_check(
			     "http://example.com:8080/v/a%20b.mp4?x=1,2", &e),
			 0);
	/* Loopback and private hosts: the platform fetches, not vodhook. */
	assert_int_equal(upload__pull_url_check("http://127.0.0.1/a.mp4", &e),
			 0);
	assert_int_equal(upload__pull_url_check("http://10.1.2.3/a.mp4", &e),
			 0);
	/* Not resolved: a name that does not resolve is not refused. */
	assert_int_equal(
	    upload__pull_url_check("http://no-such-host.invalid/a.mp4", &e), 0);
	assert_int_equal(upload__pull_url_check("ftp://example.com/a.mp4", &e),
			 ERR_INPUT);
	assert_int_equal(upload__pull_url_check("file:///etc/passwd", &e),
			 ERR_INPUT);
	assert_int_equal(upload__pull_url_check("http:///a.mp4", &e),
			 ERR_INPUT);
	assert_int_equal(upload__pull_url_check("http:/h.example/a.mp4", &e),
			 ERR_INPUT);
	assert_int_equal(upload__pull_url_check("HTTPS://h.example/a.mp4", &e),
			 0);
	assert_int_equal(upload__pull_url_check("not a url", &e), ERR_INPUT);
	assert_int_equal(
	    upload__pull_url_check("http://example.com/a b.mp4", &e),
	    ERR_INPUT);
	assert_int_equal(
	    upload__pull_url_check("http://example.com/a\n.mp4", &e),
	    ERR_INPUT);
	assert_int_equal(upload__pull_url_check("", &e), ERR_INPUT);
	/* Length cap: exactly the maximum passes, one more byte does not. */
	memset(long_url, 'a', sizeof(long_url));
	memcpy(long_url, "http://h.example/", 17);
	long_url[UPLOAD_PULL_URL_MAX] = '\0';
	assert_int_equal(upload__pull_url_check(long_url, &e), 0);
	long_url[UPLOAD_PULL_URL_MAX] = 'a';
	long_url[UPLOAD_PULL_URL_MAX + 1] = '\0';
	assert_int_equal(upload__pull_url_check(long_url, &e), ERR_INPUT);
	assert_non_null(strstr(e.msg, "longer"));
}

static void
test_is_pull(void **state)
{
	struct upload_job *j;

	(void)state;
	j = job_new("url", "http://h/a.mp4", "{\"url_upload\":\"platform\"}");
	assert_true(upload__job_is_pull(j));
	free(j->provider);
	j->provider = strdup("tencent"); /* PullUpload */
	assert_true(upload__job_is_pull(j));
	free(j->provider);
	j->provider = strdup("vimeo");
	assert_false(upload__job_is_pull(j));
	upload__job_free(j);
	j = job_new("url", "http://h/a.mp4", "{\"url_upload\":\"stream\"}");
	assert_false(upload__job_is_pull(j));
	upload__job_free(j);
	j = job_new("url", "http://h/a.mp4", "{}");
	assert_false(upload__job_is_pull(j));
	upload__job_free(j);
	j = job_new("file", "/x/a.mp4", "{\"url_upload\":\"platform\"}");
	assert_false(upload__job_is_pull(j));
	upload__job_free(j);
}

static void
test_metadatas(void **state)
{
	struct upload_job *j;
	char *m;

	(void)state;
	/* Only what is given; the URL as given (not encoded). */
	j = job_new("url", "http://h.example/a%20b.mp4?x=1,2", "{}");
	m = upload__alibaba_url_metadatas(j);
	assert_string_equal(m, "[{\"SourceURL\":\"http://h.example/a%20b.mp4?"
			       "x=1,2\",\"Title\":\"My clip\","
			       "\"FileExtension\":\"mp4\"}]");
	free(m);
	upload__job_free(j);
	/* Every optional field; CateId a number from its digits (also
	 * beyond 2^53), TemplateGroupId from the procedure. */
	j = job_new("url", "https://h/v",
		    "{\"description\":\"d \\\"q\\\"\",\"cover_url\":"
		    "\"https://h/c.jpg\",\"cate_id\":\"9007199254740993\","
		    "\"tags\":\"a,b\",\"workflow_id\":\"wf1\","
		    "\"storage_location\":\"out-1.oss\"}");
	j->procedure = strdup("tg1");
	m = upload__alibaba_url_metadatas(j);
	assert_string_equal(
	    m, "[{\"SourceURL\":\"https://h/v\",\"Title\":\"My clip\","
	       "\"FileExtension\":\"mp4\",\"Description\":\"d \\\"q\\\"\","
	       "\"CoverURL\":\"https://h/c.jpg\","
	       "\"CateId\":9007199254740993,\"Tags\":\"a,b\","
	       "\"TemplateGroupId\":\"tg1\",\"WorkflowId\":\"wf1\"}]");
	free(m);
	upload__job_free(j);
	/* A numeric CateId too. */
	j = job_new("url", "https://h/v.mp4", "{\"cate_id\":42}");
	m = upload__alibaba_url_metadatas(j);
	assert_non_null(strstr(m, "\"CateId\":42}"));
	free(m);
	upload__job_free(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url_mode),
	    cmocka_unit_test(test_url_mode_names_pullers),
	    cmocka_unit_test(test_pull_url_check),
	    cmocka_unit_test(test_is_pull),
	    cmocka_unit_test(test_metadatas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_stream_filter.c: server/stream_filter.c, the pure parts of
 * GET /v1/stream: filter values checked (a bad one is an error naming the
 * parameter), changes read from their payload and matched, and the
 * Server-Sent Events framing (no line break can end a field early).
 */
#include "server/stream.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static const char MEDIA[] =
    "{\"kind\":\"media\",\"provider\":\"tencent\",\"file_id\":\"5285890\","
    "\"state\":\"ready\",\"from\":\"processing\",\"upload_id\":"
    "\"0f8fad5b-d9cb-469f-a165-70867728950e\",\"time\":"
    "\"2026-12-05T02:12:07.752Z\"}";
static const char UPLOAD[] =
    "{\"kind\":\"upload\",\"upload_id\":"
    "\"7c9e6679-7425-40de-944b-e07fc1f90ae7\",\"provider\":\"alibaba\","
    "\"file_id\":null,\"state\":\"uploading\",\"from\":\"queued\","
    "\"bytes_done\":123,\"bytes_total\":456,\"time\":"
    "\"2026-12-05T02:12:07.752Z\"}";

static void
test_filter_accepts_good_values(void **state)
{
	struct stream_filter f;
	struct err e;

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(stream_filter_set(&f, "provider", "alibaba", &e), 0);
	assert_int_equal(stream_filter_set(&f, "kind", "upload", &e), 0);
	assert_int_equal(stream_filter_set(&f, "file_id", "v-1_2.x", &e), 0);
	assert_int_equal(
	    stream_filter_set(&f, "upload_id",
			      "7C9E6679-7425-40DE-944B-E07FC1F90AE7", &e),
	    0);
	assert_string_equal(f.provider, "alibaba");
	assert_string_equal(f.kind, "upload");
	assert_string_equal(f.file_id, "v-1_2.x");
	/* Lower case, as PostgreSQL writes a uuid. */
	assert_string_equal(f.upload_id,
			    "7c9e6679-7425-40de-944b-e07fc1f90ae7");
	/* An empty value leaves the filter unset. */
	assert_int_equal(stream_filter_set(&f, "provider", "", &e), 0);
	assert_string_equal(f.provider, "alibaba");
}

static void
test_filter_refuses_bad_values(void **state)
{
	static const struct {
		const char *name, *value, *says;
	} bad[] = {
	    {"provider", "aws", "provider must be tencent or alibaba"},
	    {"kind", "event", "kind must be media or upload"},
	    {"upload_id", "7c9e6679-7425-40de-944b-e07fc1f90ae", "UUID"},
	    {"upload_id", "7c9e6679x7425-40de-944b-e07fc1f90ae7", "UUID"},
	    {"upload_id", "7c9e6679-7425-40de-944b-e07fc1f90aeg", "UUID"},
	    {"file_id", "a b", "file_id must be"},
	    {"file_id", "a\nb", "file_id must be"},
	};
	char longid[STREAM_ID_MAX + 2];
	struct stream_filter f;
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&f, 0, sizeof(f));
		err_clear(&e);
		assert_int_equal(
		    stream_filter_set(&f, bad[i].name, bad[i].value, &e),
		    ERR_INPUT);
		assert_non_null(strstr(e.msg, bad[i].says));
	}
	memset(longid, 'x', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	assert_int_equal(stream_filter_set(&f, "file_id", longid, &e),
			 ERR_INPUT);
	longid[STREAM_ID_MAX] = '\0';
	assert_int_equal(stream_filter_set(&f, "file_id", longid, &e), 0);
}

static void
test_change_parse_reads_keys(void **state)
{
	struct stream_change c;

	(void)state;
	assert_int_equal(stream_change_parse(MEDIA, &c), 0);
	assert_string_equal(c.kind, "media");
	assert_string_equal(c.provider, "tencent");
	assert_string_equal(c.file_id, "5285890");
	assert_string_equal(c.upload_id,
			    "0f8fad5b-d9cb-469f-a165-70867728950e");
	assert_int_equal(stream_change_parse(UPLOAD, &c), 0);
	assert_string_equal(c.kind, "upload");
	assert_string_equal(c.file_id, ""); /* null */
	assert_int_equal(stream_change_parse("{\"kind\":\"x\"}", &c),
			 ERR_INPUT);
	assert_int_equal(stream_change_parse("[1]", &c), ERR_INPUT);
	assert_int_equal(stream_change_parse("{\"kind\":", &c), ERR_INPUT);
}

/* Whether the change in payload passes a filter of name=value pairs. */
static bool
passes(const char *payload, const char *const *kv)
{
	struct stream_filter f;
	struct stream_change c;
	struct err e;

	memset(&f, 0, sizeof(f));
	for (; kv[0] != NULL; kv += 2)
		assert_int_equal(stream_filter_set(&f, kv[0], kv[1], &e), 0);
	assert_int_equal(stream_change_parse(payload, &c), 0);
	return stream_filter_match(&f, &c);
}

static void
test_filter_matches(void **state)
{
	(void)state;
	assert_true(passes(MEDIA, (const char *[]){NULL}));
	assert_true(
	    passes(MEDIA, (const char *[]){"provider", "tencent", NULL}));
	assert_false(
	    passes(MEDIA, (const char *[]){"provider", "alibaba", NULL}));
	assert_true(passes(MEDIA, (const char *[]){"kind", "media", NULL}));
	assert_false(passes(MEDIA, (const char *[]){"kind", "upload", NULL}));
	assert_true(
	    passes(MEDIA, (const char *[]){"file_id", "5285890", NULL}));
	assert_false(
	    passes(MEDIA, (const char *[]){"file_id", "528589", NULL}));
	assert_true(passes(MEDIA, (const char *[]){"upload_id",
						   "0f8fad5b-d9cb-469f-a165-"
						   "70867728950e",
						   NULL}));
	/* An upload whose file id is not known yet does not pass a file id
	 * filter; every filter given must pass. */
	assert_false(
	    passes(UPLOAD, (const char *[]){"file_id", "5285890", NULL}));
	assert_false(passes(UPLOAD, (const char *[]){"provider", "alibaba",
						     "kind", "media", NULL}));
	assert_true(passes(UPLOAD, (const char *[]){"provider", "alibaba",
						    "kind", "upload", NULL}));
}

static void
test_sse_frame(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 1024);
	assert_int_equal(sse_frame(&b, "media", "{\"a\":1}"), 0);
	assert_string_equal(buf_cstr(&b), "event: media\ndata: {\"a\":1}\n\n");
	buf_reset(&b);
	/* A line break would end the data field and start another. */
	assert_int_equal(sse_frame(&b, "media", "{}\ndata: x"), ERR_INPUT);
	assert_int_equal(sse_frame(&b, "media", "{}\r"), ERR_INPUT);
	assert_int_equal(sse_frame(&b, "me dia", "{}"), ERR_INPUT);
	assert_int_equal(sse_frame(&b, "", "{}"), ERR_INPUT);
	assert_int_equal(b.len, 0);
	buf_free(&b);
	buf_init(&b, 8);
	assert_int_equal(sse_frame(&b, "synced", "{}"), ERR_LIMIT);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_filter_accepts_good_values),
	    cmocka_unit_test(test_filter_refuses_bad_values),
	    cmocka_unit_test(test_change_parse_reads_keys),
	    cmocka_unit_test(test_filter_matches),
	    cmocka_unit_test(test_sse_frame),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_ingest.c: the lifecycle of callbacks/ingest.c and its fallback,
 * without a database: an event submitted while PostgreSQL cannot be
 * reached is acknowledged as spooled, and appended to active.spool in the
 * spool's format; ingest_stop may be called twice, and refuses events
 * after it. Also cb_parse, the entry point the spool replay and the HTTP
 * path use: with or without a document, and an unknown provider.
 */
#include "callbacks/ingest.h"
#include "common/json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

static const char body[] = "{\"EventType\":\"FileUploadComplete\","
			   "\"VideoId\":\"v1\",\"Status\":\"success\"}";

struct fixture {
	char dir[64];
	struct db_pool *pool;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	/* Nothing listens on port 1: every connection is refused at once. */
	struct db_pool_opts o = {.conninfo = "host=127.0.0.1 port=1",
				 .size = 1,
				 .connect_timeout_s = 1,
				 .timeout_ms = 2000,
				 .app_name = "test"};
	struct err e;

	snprintf(f->dir, sizeof(f->dir), "/tmp/vh-ingest-XXXXXX");
	if (mkdtemp(f->dir) == NULL || db_pool_new(&o, &f->pool, &e) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	db_pool_free(f->pool);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void
test_spooled_when_the_database_is_away(void **state)
{
	struct fixture *f = *state;
	struct ingest_opts o = {
	    .pool = f->pool, .spool_dir = f->dir, .replay_interval_ms = 600000};
	struct ingest_result res;
	struct ingest_stats st;
	struct ingest *ig;
	struct vod_event ev;
	char path[128];
	struct stat sb;
	struct err e;

	vod_event_init(&ev);
	assert_int_equal(
	    cb_parse(VOD_ALIBABA, NULL, body, strlen(body), &ev, &e), 0);
	assert_int_equal(ingest_start(&o, &ig, &e), 0);
	assert_int_equal(
	    ingest_submit(ig, &ev, body, strlen(body), VIA_PUSH, &res, &e), 0);
	assert_true(res.spooled);
	ingest_get_stats(ig, &st);
	assert_int_equal(st.spooled, 1);
	assert_int_equal(st.stored, 0);
	assert_true(st.spool_pending > strlen(body));

	ingest_stop(ig);
	ingest_stop(ig);
	assert_int_equal(
	    ingest_submit(ig, &ev, body, strlen(body), VIA_PUSH, &res, &e),
	    ERR_UNAVAIL);
	ingest_free(ig);
	ingest_free(NULL);
	vod_event_cleanup(&ev);

	snprintf(path, sizeof(path), "%s/active.spool", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_true((size_t)sb.st_size > strlen(body));
}

static void
test_cb_parse_with_and_without_a_document(void **state)
{
	struct vod_event a, b;
	cJSON *doc = json_parse(body, strlen(body));
	struct err e;

	(void)state;
	vod_event_init(&a);
	vod_event_init(&b);
	assert_non_null(doc);
	assert_int_equal(cb_parse(VOD_ALIBABA, doc, body, strlen(body), &a, &e),
			 0);
	assert_int_equal(
	    cb_parse(VOD_ALIBABA, NULL, body, strlen(body), &b, &e), 0);
	assert_string_equal(a.dedup_key, b.dedup_key);
	assert_string_equal(a.dedup_key, "FileUploadComplete:v1");
	assert_int_equal(a.effect, EFFECT_CONFIRMED);
	assert_int_equal(
	    cb_parse((enum vod_provider)7, doc, body, strlen(body), &a, &e),
	    ERR_INPUT);
	assert_int_equal(cb_parse(VOD_TENCENT, NULL, "not json", 8, &a, &e),
			 ERR_INPUT);
	cJSON_Delete(doc);
	vod_event_cleanup(&a);
	vod_event_cleanup(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_spooled_when_the_database_is_away, setup, teardown),
	    cmocka_unit_test(test_cb_parse_with_and_without_a_document),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

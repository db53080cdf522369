/*
 * test_metrics.c: common/metrics.c's registry: a labelled series counts by
 * its index, a gauge goes down as well as up, a histogram's buckets are
 * cumulative with _count equal to +Inf, and every family is printed once
 * with its HELP and TYPE. Counts from several threads add up.
 */
#include "common/metrics.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static char *
page(void)
{
	struct buf b;
	char *out;

	buf_init(&b, 1 << 20);
	assert_int_equal(metrics_write(&b), 0);
	out = buf_take(&b, NULL);
	return out;
}

static void
test_labelled_counter_and_gauge(void **state)
{
	char *text;

	(void)state;
	metric_add_at(METRIC_CALLBACKS_REJECTED,
		      METRIC_PROVIDER_ALIBABA * METRIC_REJECT_N +
			  METRIC_REJECT_TOO_LARGE,
		      3);
	metric_add(METRIC_UPLOAD_TRANSFERS_IN_PROGRESS, 2);
	metric_add(METRIC_UPLOAD_TRANSFERS_IN_PROGRESS, -1);
	text = page();
	assert_non_null(strstr(text,
			       "vodhook_callbacks_rejected_total{provider="
			       "\"alibaba\",reason=\"too_large\"} 3\n"));
	assert_non_null(strstr(text,
			       "vodhook_callbacks_rejected_total{provider="
			       "\"tencent\",reason=\"too_large\"} 0\n"));
	assert_non_null(
	    strstr(text, "# TYPE vodhook_upload_transfers_in_progress gauge\n"
			 "vodhook_upload_transfers_in_progress 1\n"));
	free(text);
}

static void
test_histogram_is_cumulative(void **state)
{
	char *text;

	(void)state;
	metric_observe_us(METRIC_CALLBACK_DURATION, METRIC_PROVIDER_TENCENT,
			  400);
	metric_observe_us(METRIC_CALLBACK_DURATION, METRIC_PROVIDER_TENCENT,
			  1000);
	metric_observe_us(METRIC_CALLBACK_DURATION, METRIC_PROVIDER_TENCENT,
			  60000000);
	text = page();
	assert_non_null(strstr(text,
			       "vodhook_callback_duration_seconds_bucket{"
			       "provider=\"tencent\",le=\"0.0005\"} 1\n"));
	assert_non_null(strstr(text, "vodhook_callback_duration_seconds_bucket{"
				     "provider=\"tencent\",le=\"0.001\"} 2\n"));
	assert_non_null(strstr(text, "vodhook_callback_duration_seconds_bucket{"
				     "provider=\"tencent\",le=\"5\"} 2\n"));
	assert_non_null(strstr(text, "vodhook_callback_duration_seconds_bucket{"
				     "provider=\"tencent\",le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(text, "vodhook_callback_duration_seconds_sum{"
				     "provider=\"tencent\"} 60.001400\n"));
	assert_non_null(strstr(text, "vodhook_callback_duration_seconds_count{"
				     "provider=\"tencent\"} 3\n"));
	assert_int_equal(metric_observations(METRIC_CALLBACK_DURATION,
					     METRIC_PROVIDER_TENCENT),
			 3);
	free(text);
}

static void
test_each_family_once_with_help(void **state)
{
	char *text = page();
	int types = 0, helps = 0;

	(void)state;
	for (const char *p = text; (p = strstr(p, "# TYPE ")) != NULL; p++)
		types++;
	for (const char *p = text; (p = strstr(p, "# HELP ")) != NULL; p++)
		helps++;
	assert_int_equal(types, METRIC_N);
	assert_int_equal(helps, METRIC_N);
	free(text);
}

static void *
bump(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100000; i++)
		metric_add(METRIC_UPLOAD_SENT_BYTES, 1);
	return NULL;
}

static void
test_threads_add_up(void **state)
{
	pthread_t t[4];
	int64_t before = metric_value(METRIC_UPLOAD_SENT_BYTES, 0);

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, bump, NULL), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(metric_value(METRIC_UPLOAD_SENT_BYTES, 0) - before,
			 400000);
}

static void
test_small_buffer_fails(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 64);
	assert_int_equal(metrics_write(&b), ERR_LIMIT);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_labelled_counter_and_gauge),
	    cmocka_unit_test(test_histogram_is_cumulative),
	    cmocka_unit_test(test_each_family_once_with_help),
	    cmocka_unit_test(test_threads_add_up),
	    cmocka_unit_test(test_small_buffer_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

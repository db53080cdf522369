/*
 * test_schedule.c: webhooks/schedule.c: the default schedule parsed, the
 * delays with their jitter at its bounds, the end of the schedule, and
 * the refusals of a bad setting; the pause that callbacks waiting make.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "webhooks/webhooks.h"

static void
default_schedule(void **state)
{
	static const int64_t want[] = {5000,	 300000,   1800000, 7200000,
				       18000000, 36000000, 36000000};
	struct webhook_schedule s;
	struct err e;

	(void)state;
	assert_int_equal(
	    webhook_schedule_parse("5s,5m,30m,2h,5h,10h,10h", &s, &e), 0);
	assert_int_equal(s.n, 7);
	for (int i = 0; i < 7; i++)
		assert_int_equal(s.delay_ms[i], want[i]);
}

static void
jitter_within_a_fifth(void **state)
{
	struct webhook_schedule s;
	struct err e;

	(void)state;
	assert_int_equal(webhook_schedule_parse("100ms,5s,1d", &s, &e), 0);
	assert_int_equal(webhook_schedule_delay(&s, 1, 0.0), 80);
	assert_int_equal(webhook_schedule_delay(&s, 1, 0.5), 100);
	assert_true(webhook_schedule_delay(&s, 1, 0.999999) < 120);
	assert_int_equal(webhook_schedule_delay(&s, 2, 0.0), 4000);
	assert_int_equal(webhook_schedule_delay(&s, 3, 0.5), 86400000);
	/* three retries: a fourth failed attempt ends it */
	assert_int_equal(webhook_schedule_delay(&s, 4, 0.5), -1);
	assert_int_equal(webhook_schedule_delay(&s, 0, 0.5), -1);
}

static void
empty_means_no_retry(void **state)
{
	struct webhook_schedule s;
	struct err e;

	(void)state;
	assert_int_equal(webhook_schedule_parse("", &s, &e), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(webhook_schedule_delay(&s, 1, 0.5), -1);
}

static void
bad_schedules(void **state)
{
	static const char *const bad[] = {
	    "5",
	    "5x",
	    "5s,",
	    "5s;5m",
	    ",5s",
	    "s",
	    "-5s",
	    "5 s",
	    "31d",
	    "5s,,5m",
	    "99999999999s",
	    "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,"
	    "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s"};
	struct webhook_schedule s;
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		if (webhook_schedule_parse(bad[i], &s, &e) != ERR_INPUT)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(e.msg[0] != '\0');
	}
}

static void
busy_pause(void **state)
{
	(void)state;
	/* 5%: a 10 ms batch, then 190 ms of pause; 50%: as long as it took */
	assert_int_equal(webhook_busy_pause_ms(5, 10000), 190);
	assert_int_equal(webhook_busy_pause_ms(50, 7000), 7);
	/* 100% (off), and nothing to pause for */
	assert_int_equal(webhook_busy_pause_ms(100, 10000), 0);
	assert_int_equal(webhook_busy_pause_ms(5, 0), 0);
	/* a long batch pauses at most WEBHOOK_PAUSE_MAX_MS */
	assert_int_equal(webhook_busy_pause_ms(1, 60000000),
			 WEBHOOK_PAUSE_MAX_MS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(default_schedule),
	    cmocka_unit_test(jitter_within_a_fifth),
	    cmocka_unit_test(empty_means_no_retry),
	    cmocka_unit_test(bad_schedules),
	    cmocka_unit_test(busy_pause),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

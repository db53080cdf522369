/*
 * test_tune.c: upload/tune.c, the count of parts in flight searched for
 * from the rate (a simulated path, no network), and the process's shares;
 * the part size spread over enough parts (transfer.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "upload/transfer_int.h"

/* A path where each part in flight adds 20 MB/s up to a knee of k parts,
 * and no more after: one window of one second at n parts. */
static int64_t
path_window(int n, int k)
{
	return (int64_t)(n < k ? n : k) * 20000000;
}

/* Run the tuner for secs windows on that path; returns the count. */
static int
run_path(struct upload_tune *t, int k, int secs, int64_t *bytes, int64_t *now)
{
	int n = t->cur;

	for (int i = 0; i < secs; i++) {
		*bytes += path_window(n, k);
		*now += 1000;
		n = upload__tune_sample(t, *bytes, *now);
	}
	return n;
}

static void
test_grows_to_the_knee(void **state)
{
	struct upload_tune t;
	int64_t bytes = 0, now = 1000;
	int n;

	(void)state;
	upload__tune_init(&t, 4, 32, 8 * MIB, bytes, now);
	assert_int_equal(t.cur, 4);
	n = run_path(&t, 12, 10, &bytes, &now);
	/* Grew past the start, settled at a count that reaches the knee
	 * without going to the maximum: doubling, the first past it. */
	assert_true(t.peak > 4);
	assert_true(n >= 12 && n < 32);
	/* Holds there, then probes one more and comes back. */
	n = run_path(&t, 12, 40, &bytes, &now);
	assert_true(n >= 12 && n <= 17);
}

/* The same path sampled every 50 ms, as the transfer loop does, for ms;
 * returns the count. */
static int
run_path_ms(struct upload_tune *t, int k, int ms, int64_t *bytes, int64_t *now)
{
	int n = t->cur;

	for (int i = 0; i < ms / 50; i++) {
		*bytes += path_window(n, k) / 20;
		*now += 50;
		n = upload__tune_sample(t, *bytes, *now);
	}
	return n;
}

static void
test_climbs_within_a_short_upload(void **state)
{
	struct upload_tune t;
	int64_t bytes = 0, now = 1000;
	int n;

	(void)state;
	/* A 256 MiB upload at 200 MB/s lasts 1.3 s: from 4 to a knee of 16
	 * within windows of about a part each (8 MiB at 20 MB/s), not beyond
	 * the maximum. */
	upload__tune_init(&t, 4, 32, 8 * MIB, bytes, now);
	n = run_path_ms(&t, 16, 1200, &bytes, &now);
	assert_true(n >= 16);
	assert_true(t.peak <= 32);
	/* Then back to one that reaches the knee, not far above it. */
	n = run_path_ms(&t, 16, 3000, &bytes, &now);
	assert_true(n >= 16 && n <= 24);
}

static void
test_slow_path_decides_once_a_second(void **state)
{
	struct upload_tune t;
	int64_t bytes = 0, now = 0;

	(void)state;
	/* 100 kB/s a part: a window does not wait for a part per part in
	 * flight. The first starts once the connections are open. */
	upload__tune_init(&t, 4, 32, MIB, bytes, now);
	for (int i = 0; i < 21; i++) {
		bytes += 4 * 5000;
		now += 50;
		assert_int_equal(upload__tune_sample(&t, bytes, now), 4);
	}
	bytes += 4 * 5000;
	now += 50;
	assert_int_equal(upload__tune_sample(&t, bytes, now), 8);
	assert_int_equal(t.rate, 400000);
}

/* Samples every 50 ms of 4 parts at rate bytes/s each until the count
 * changes; the ms it took. */
static int64_t
window_ms(int64_t part, int64_t rate)
{
	struct upload_tune t;
	int64_t bytes = 0, now = 0;

	upload__tune_init(&t, 4, 32, part, bytes, now);
	while (upload__tune_sample(&t, bytes, now) == 4 && now < 5000) {
		bytes += 4 * rate / 20;
		now += 50;
	}
	return now;
}

static void
test_window_of_a_part_per_part(void **state)
{
	(void)state;
	/* The first window opens at 100 ms, ends once the 4 parts in flight
	 * could each have sent one: 4 MiB at 4 x 5 MB/s, 250 ms later. */
	assert_int_equal(window_ms(MIB, 5000000), 350);
	/* Not before 200 ms, however fast; at 1 s however slow. */
	assert_int_equal(window_ms(MIB, 100000000), 300);
	assert_int_equal(window_ms(64 * MIB, 5000000), 1100);
}

static void
test_never_above_max(void **state)
{
	struct upload_tune t;
	int64_t bytes = 0, now = 0;

	(void)state;
	upload__tune_init(&t, 4, 8, 8 * MIB, bytes, now);
	assert_int_equal(run_path(&t, 100, 20, &bytes, &now), 8);
	assert_int_equal(t.peak, 8);
}

static void
test_fixed(void **state)
{
	struct upload_tune t;
	int64_t bytes = 0, now = 0;

	(void)state;
	upload__tune_init(&t, 4, 0, 8 * MIB, bytes, now);
	assert_int_equal(run_path(&t, 100, 20, &bytes, &now), 4);
	upload__tune_failed(&t, true, 4, now);
	assert_int_equal(t.cur, 4);
	assert_true(t.rate > 0); /* measured all the same, for progress */
}

static void
test_throttled(void **state)
{
	struct upload_tune t;
	int64_t bytes = 0, now = 0;

	(void)state;
	upload__tune_init(&t, 4, 32, 8 * MIB, bytes, now);
	(void)run_path(&t, 100, 3, &bytes, &now);
	assert_true(t.cur > 6);
	/* The store takes 6: three parts beyond it fail at once. */
	upload__tune_failed(&t, true, 9, now);
	upload__tune_failed(&t, true, 8, now);
	upload__tune_failed(&t, true, 7, now);
	assert_int_equal(t.cur, 6);
	/* It never grows above that again in this transfer. */
	assert_true(run_path(&t, 100, 60, &bytes, &now) <= 6);
	assert_int_equal(t.throttles, 3);
}

static void
test_error_cuts_once_per_window(void **state)
{
	struct upload_tune t;
	int64_t bytes = 0, now = 0;

	(void)state;
	upload__tune_init(&t, 8, 32, 8 * MIB, bytes, now);
	upload__tune_failed(&t, false, 8, now + 10);
	upload__tune_failed(&t, false, 7, now + 20);
	assert_int_equal(t.cur, 6);
	upload__tune_failed(&t, false, 6, now + 1100);
	assert_int_equal(t.cur, 5);
}

static void
test_conns_share(void **state)
{
	struct upload_conns c = {.budget = 64};

	(void)state;
	atomic_init(&c.transfers, 0);
	assert_int_equal(upload__conns_share(NULL) > 1000, 1);
	upload__conns_join(&c);
	assert_int_equal(upload__conns_share(&c), 64);
	for (int i = 0; i < 9; i++)
		upload__conns_join(&c);
	assert_int_equal(upload__conns_share(&c), 6);
	c.budget = 4;
	assert_int_equal(upload__conns_share(&c), 1);
	for (int i = 0; i < 10; i++)
		upload__conns_leave(&c);
	assert_int_equal(atomic_load(&c.transfers), 0);
}

static void
test_conns_budget(void **state)
{
	struct upload_conns c = {.budget = 3};

	(void)state;
	atomic_init(&c.transfers, 0);
	atomic_init(&c.in_flight, 0);
	assert_true(upload__conns_take(NULL));
	for (int i = 0; i < 3; i++)
		assert_true(upload__conns_take(&c));
	assert_false(upload__conns_take(&c));
	upload__conns_give(&c);
	assert_true(upload__conns_take(&c));
	assert_int_equal(atomic_load(&c.in_flight), 3);
}

static void
test_part_size_spread(void **state)
{
	(void)state;
	/* Enough parts for 32 at once: 40 MiB in 2 MiB parts. */
	assert_int_equal(
	    upload__part_size_spread(40 * MIB, 8 * MIB, MIB, 10000, 32),
	    2 * MIB);
	/* Large enough: the wanted size. */
	assert_int_equal(
	    upload__part_size_spread(256LL * MIB, 8 * MIB, MIB, 10000, 32),
	    8 * MIB);
	/* Never below a MiB or the store's minimum. */
	assert_int_equal(
	    upload__part_size_spread(3 * MIB, 8 * MIB, 100 * 1024, 10000, 32),
	    MIB);
	assert_int_equal(
	    upload__part_size_spread(20 * MIB, 8 * MIB, 5 * MIB, 10000, 32),
	    5 * MIB);
	/* Never more than 10,000 parts. */
	assert_true(upload__part_size_spread(200000LL * MIB, 8 * MIB, MIB,
					     10000, 32) >= 32 * MIB);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_grows_to_the_knee),
	    cmocka_unit_test(test_climbs_within_a_short_upload),
	    cmocka_unit_test(test_slow_path_decides_once_a_second),
	    cmocka_unit_test(test_window_of_a_part_per_part),
	    cmocka_unit_test(test_never_above_max),
	    cmocka_unit_test(test_fixed),
	    cmocka_unit_test(test_throttled),
	    cmocka_unit_test(test_error_cuts_once_per_window),
	    cmocka_unit_test(test_conns_share),
	    cmocka_unit_test(test_conns_budget),
	    cmocka_unit_test(test_part_size_spread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

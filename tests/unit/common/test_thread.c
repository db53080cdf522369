/*
 * test_thread.c: common/thread.c's background thread: a stop wakes a
 * thread that sleeps on its flag at once, and stopping twice, or a thread
 * never started, does nothing (x_stop built on it must be safe to call
 * twice).
 */
#include "common/thread.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

struct sleeper {
	struct vh_thread thread;
	int rounds;
};

static void *
sleeper_main(void *arg)
{
	struct sleeper *s = arg;

	while (!vh_stop_sleep(&s->thread.stop, 60000))
		s->rounds++;
	return NULL;
}

static void
test_stop_wakes_a_sleeping_thread(void **state)
{
	struct sleeper s;
	int64_t t0;

	(void)state;
	memset(&s, 0, sizeof(s));
	vh_thread_start(&s.thread, "sleeper", sleeper_main, &s);
	t0 = time_mono_ms();
	vh_thread_stop(&s.thread);
	assert_true(time_mono_ms() - t0 < 5000);
	assert_int_equal(s.rounds, 0);
	assert_false(s.thread.running);
}

static void
test_stop_is_safe_twice_and_unstarted(void **state)
{
	struct vh_thread never;
	struct sleeper s;

	(void)state;
	memset(&never, 0, sizeof(never));
	vh_thread_stop(&never);
	memset(&s, 0, sizeof(s));
	vh_thread_start(&s.thread, "sleeper", sleeper_main, &s);
	vh_thread_stop(&s.thread);
	vh_thread_stop(&s.thread);
	/* and it can be started again once stopped */
	vh_thread_start(&s.thread, "sleeper", sleeper_main, &s);
	vh_thread_stop(&s.thread);
	assert_false(s.thread.running);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stop_wakes_a_sleeping_thread),
	    cmocka_unit_test(test_stop_is_safe_twice_and_unstarted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

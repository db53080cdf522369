/*
 * test_thread.c: common/thread.c's background thread: a stop wakes a
 * thread that sleeps on its flag at once, and stopping twice, or a thread
 * never started, does nothing (x_stop built on it must be safe to call
 * twice); a signal wakes a thread waiting on it, and a raise before the
 * wait is not missed.
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

struct waiter {
	struct vh_thread thread;
	struct vh_signal *sig;
	uint64_t seen;
	bool woken;
};

static void *
waiter_main(void *arg)
{
	struct waiter *w = arg;

	w->woken = vh_signal_wait(w->sig, w->seen, 60000);
	return NULL;
}

static void
test_signal_wakes_a_waiter(void **state)
{
	struct vh_signal sig;
	struct waiter w;
	int64_t t0;

	(void)state;
	vh_signal_init(&sig);
	memset(&w, 0, sizeof(w));
	w.sig = &sig;
	w.seen = vh_signal_gen(&sig);
	vh_thread_start(&w.thread, "waiter", waiter_main, &w);
	t0 = time_mono_ms();
	vh_signal_raise(&sig);
	vh_thread_stop(&w.thread); /* joins: the wait has returned */
	assert_true(time_mono_ms() - t0 < 5000);
	assert_true(w.woken);
	/* raised between reading the count and waiting: no wait at all */
	w.seen = vh_signal_gen(&sig);
	vh_signal_raise(&sig);
	assert_true(vh_signal_wait(&sig, w.seen, 60000));
	/* nothing raised: the wait times out */
	assert_false(vh_signal_wait(&sig, vh_signal_gen(&sig), 10));
	vh_signal_cleanup(&sig);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stop_wakes_a_sleeping_thread),
	    cmocka_unit_test(test_stop_is_safe_twice_and_unstarted),
	    cmocka_unit_test(test_signal_wakes_a_waiter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

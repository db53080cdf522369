/*
 * thread.h: a background thread that runs until it is asked to stop.
 *
 * Every long-running thread of vodhook (the callback committer, the spool
 * replay, the Tencent PULL poller, the reconciler) is started and stopped
 * through this one helper, so that each module's x_start / x_stop / x_free
 * writes no pthread_create, stop flag or join of its own.
 *
 *   struct vh_thread t;
 *   vh_thread_start(&t, "reconciler", reconcile_main, r);
 *   ...  reconcile_main loops while !vh_stop_sleep(&t.stop, interval_ms)
 *   vh_thread_stop(&t);    asks it to stop and joins it; safe twice
 *
 * A thread that waits on a condition of its own rather than on t.stop is
 * woken by its owner before vh_thread_stop joins it.
 */
#ifndef VODHOOK_COMMON_THREAD_H
#define VODHOOK_COMMON_THREAD_H

#include "common/common.h"

struct vh_thread {
	struct vh_stop stop; /* what the thread sleeps on and checks */
	pthread_t tid;
	bool running; /* started and not joined yet */
};

/*
 * Start fn(arg) on a new thread; name says which in the fatal() message.
 * t is caller storage that outlives the thread. Aborts through fatal() when
 * the thread cannot be created: threads are started at start-up only.
 */
void vh_thread_start(struct vh_thread *t, const char *name, void *(*fn)(void *),
		     void *arg);
/*
 * Request stop, wait for the thread to return and release t's resources.
 * A no-op on a thread never started or already stopped, so that it is safe
 * to call twice. Not thread-safe: one owner stops a thread.
 */
void vh_thread_stop(struct vh_thread *t);

#endif

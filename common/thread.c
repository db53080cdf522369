/*
 * thread.c: start and stop background threads (thread.h).
 *
 * Interface: vh_thread_start, vh_thread_stop.
 */
#include "common/thread.h"

void
vh_thread_start(struct vh_thread *t, const char *name, void *(*fn)(void *),
		void *arg)
{
	vh_stop_init(&t->stop);
	if (pthread_create(&t->tid, NULL, fn, arg) != 0)
		fatal("could not start the %s thread", name);
	t->running = true;
}

void
vh_thread_stop(struct vh_thread *t)
{
	if (!t->running)
		return;
	vh_stop_request(&t->stop);
	pthread_join(t->tid, NULL);
	vh_stop_cleanup(&t->stop);
	t->running = false;
}

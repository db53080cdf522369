/*
 * activity.c: callbacks per minute and the last rejections, in the process.
 *
 * Each minute's count is one 64-bit word: the minute (since the epoch) in
 * the high 32 bits, the count in the low 32. Counting is one
 * compare-and-swap that either adds one or starts the minute afresh, so a
 * count never mixes two minutes and the callback path takes no lock.
 * Rejections go to a ring under a mutex: they are rare next to
 * acknowledgements, and a flood of them only overwrites the ring.
 *
 * Interface: activity_callback_received, activity_callback_rejected,
 * activity_minutes_json, activity_rejections_json, activity_reset.
 */
#include "server/activity.h"

#include "common/common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static _Atomic uint64_t received[ACTIVITY_MINUTES];
static _Atomic uint64_t rejected[ACTIVITY_MINUTES];

struct rejection {
	int64_t time_ms;
	char provider[16];
	char route[48];
	char reason[200];
	char peer[48];
};

static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rejection ring[ACTIVITY_REJECTIONS];
static size_t ring_next, ring_len;

static uint64_t
minute_now(void)
{
	return (uint64_t)(time_unix() / 60) & 0xffffffffu;
}

static void
count(_Atomic uint64_t *slots)
{
	uint64_t m = minute_now();
	_Atomic uint64_t *slot = &slots[m % ACTIVITY_MINUTES];
	uint64_t v = atomic_load_explicit(slot, memory_order_relaxed), next;

	do {
		next = (v >> 32) == m ? v + 1 : (m << 32) | 1;
	} while (!atomic_compare_exchange_weak_explicit(
	    slot, &v, next, memory_order_relaxed, memory_order_relaxed));
}

/* The count of minute m in slots, 0 when its slot holds another minute. */
static int64_t
count_of(_Atomic uint64_t *slots, uint64_t m)
{
	uint64_t v = atomic_load_explicit(&slots[m % ACTIVITY_MINUTES],
					  memory_order_relaxed);

	return (v >> 32) == m ? (int64_t)(v & 0xffffffffu) : 0;
}

void
activity_callback_received(void)
{
	count(received);
}

void
activity_callback_rejected(const char *provider, const char *route,
			   const char *reason, const char *peer)
{
	struct rejection *x;

	count(rejected);
	pthread_mutex_lock(&ring_lock);
	x = &ring[ring_next];
	x->time_ms = time_unix_ms();
	snprintf(x->provider, sizeof(x->provider), "%s", provider);
	snprintf(x->route, sizeof(x->route), "%s", route);
	snprintf(x->reason, sizeof(x->reason), "%s", reason);
	snprintf(x->peer, sizeof(x->peer), "%s", peer ? peer : "");
	ring_next = (ring_next + 1) % ACTIVITY_REJECTIONS;
	if (ring_len < ACTIVITY_REJECTIONS)
		ring_len++;
	pthread_mutex_unlock(&ring_lock);
}

/* RFC 3339 UTC with milliseconds. */
static void
format_ms(int64_t ms, char *out, size_t n)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

cJSON *
activity_minutes_json(int minutes)
{
	cJSON *arr = cJSON_CreateArray();
	uint64_t now = minute_now();
	char when[40];

	if (minutes < 1)
		minutes = 1;
	if (minutes > ACTIVITY_MINUTES)
		minutes = ACTIVITY_MINUTES;
	for (uint64_t m = now - (uint64_t)minutes + 1; m <= now; m++) {
		cJSON *o = cJSON_CreateObject();

		format_ms((int64_t)m * 60000, when, sizeof(when));
		cJSON_AddStringToObject(o, "minute", when);
		cJSON_AddNumberToObject(o, "received",
					(double)count_of(received, m));
		cJSON_AddNumberToObject(o, "rejected",
					(double)count_of(rejected, m));
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

cJSON *
activity_rejections_json(void)
{
	cJSON *arr = cJSON_CreateArray();
	char when[40];

	pthread_mutex_lock(&ring_lock);
	for (size_t i = 0; i < ring_len; i++) {
		const struct rejection *x =
		    &ring[(ring_next + ACTIVITY_REJECTIONS - 1 - i) %
			  ACTIVITY_REJECTIONS];
		cJSON *o = cJSON_CreateObject();

		format_ms(x->time_ms, when, sizeof(when));
		cJSON_AddStringToObject(o, "time", when);
		cJSON_AddStringToObject(o, "provider", x->provider);
		cJSON_AddStringToObject(o, "route", x->route);
		cJSON_AddStringToObject(o, "reason", x->reason);
		cJSON_AddStringToObject(o, "peer", x->peer);
		cJSON_AddItemToArray(arr, o);
	}
	pthread_mutex_unlock(&ring_lock);
	return arr;
}

void
activity_reset(void)
{
	for (size_t i = 0; i < ACTIVITY_MINUTES; i++) {
		atomic_store(&received[i], 0);
		atomic_store(&rejected[i], 0);
	}
	pthread_mutex_lock(&ring_lock);
	ring_next = ring_len = 0;
	pthread_mutex_unlock(&ring_lock);
}

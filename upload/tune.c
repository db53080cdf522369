/*
 * tune.c: how many parts of one upload are in flight, found from the path.
 *
 * Across a wide-area network each connection is capped by its window over
 * the round trip and every request pays the latency: the aggregate rate
 * comes from running enough parts at once. The right count depends on the
 * path, so it is searched for, as a hill climb on the measured rate:
 *
 * - The count starts at upload_parallel, 16 by default: on a path that
 *   rewards more, an upload of a few hundred MiB is over within two or
 *   three windows, too soon for any climb from a few parts to pay.
 * - The rate is measured over windows of the bytes curl took, each
 *   starting TUNE_SETTLE_MS after the count changed (and at the start),
 *   once the new connections are open. Those bytes come in bursts: a
 *   part's first ones fill the socket's buffer at once, its last ones
 *   leave it with nothing counted. A window therefore ends once the parts
 *   in flight could each have sent one part (and TUNE_WINDOW_MIN_MS
 *   passed), or at TUNE_WINDOW_MAX_MS on a slow path.
 * - First, like TCP's slow start, the count doubles while a window's rate
 *   is more than TUNE_SLOW_GAIN (25%) above the best so far: on a path
 *   capped per connection, doubling the parts nearly doubles the rate,
 *   and growing by small steps takes longer than most uploads last.
 * - After that, while a window's rate is more than TUNE_GAIN (5%) above
 *   the best so far, the count grows by half (at least one).
 * - When it stops rising for two windows running (one is noisy), the
 *   count goes back to the one that gave the best rate (more connections
 *   for no more bytes only load the store) and holds for TUNE_HOLD_MS
 *   (5 s), then probes one more.
 * - A throttling answer (503, 429, SlowDown and the like) means the store
 *   wants fewer at once: the count falls to the parts then accepted (the
 *   ones in flight but this one) and never grows above that again for this
 *   transfer. Another failure (a network error, a 500) cuts the count by a
 *   quarter and holds, once per window: one bad moment often fails several
 *   parts together.
 *
 * A fixed count (upload_parallel_max 0) skips all of this.
 *
 * The transfers of one process share a budget of parts in flight
 * (upload_connections): never more parts in flight than the budget, and
 * each transfer within an equal share of the transfers running now, so
 * that ten jobs at once do not open ten times upload_parallel_max and a
 * job that came first gives way to the next.
 *
 * Interface: upload__tune_init, upload__tune_sample, upload__tune_failed,
 * upload__conns_join, upload__conns_leave, upload__conns_share,
 * upload__conns_take, upload__conns_give (upload/ only).
 */
#include "upload/transfer_int.h"

#include <limits.h>

#define TUNE_WINDOW_MIN_MS 200
#define TUNE_WINDOW_MAX_MS 1000
#define TUNE_SETTLE_MS	   100 /* new connections open: not measured */
#define TUNE_HOLD_MS	   5000
#define TUNE_GAIN	   0.05
#define TUNE_SLOW_GAIN	   0.25

static int
clamp(const struct upload_tune *t, int n)
{
	if (n > t->ceiling)
		n = t->ceiling;
	if (n > t->max)
		n = t->max;
	return n < 1 ? 1 : n;
}

void
upload__tune_init(struct upload_tune *t, int start, int max, int64_t part,
		  int64_t bytes, int64_t now_ms)
{
	*t = (struct upload_tune){0};
	t->fixed = max <= 0;
	t->max = t->fixed ? start : max;
	t->ceiling = t->max;
	t->cur = clamp(t, start);
	t->peak = t->cur;
	t->part = part > 0 ? part : 1;
	t->win_ms = now_ms + TUNE_SETTLE_MS;
	t->win_bytes = bytes;
	t->slow = !t->fixed;
	t->cut_ms = now_ms - TUNE_WINDOW_MAX_MS; /* a first failure cuts */
}

/* The next window starts once the connections of the new count are open. */
static void
set_count(struct upload_tune *t, int n, int64_t now_ms)
{
	n = clamp(t, n);
	if (n != t->cur) {
		t->win_open = false;
		t->win_ms = now_ms + TUNE_SETTLE_MS;
	}
	t->cur = n;
	if (t->cur > t->peak)
		t->peak = t->cur;
}

int
upload__tune_sample(struct upload_tune *t, int64_t bytes, int64_t now_ms)
{
	int64_t dt = now_ms - t->win_ms;
	double rate;

	if (!t->win_open) {
		if (dt >= 0) {
			t->win_open = true;
			t->win_ms = now_ms;
			t->win_bytes = bytes;
		}
		return t->cur;
	}
	if (dt < TUNE_WINDOW_MAX_MS &&
	    (dt < TUNE_WINDOW_MIN_MS ||
	     bytes - t->win_bytes < t->cur * t->part))
		return t->cur;
	rate = (double)(bytes - t->win_bytes) * 1000.0 / (double)dt;
	t->rate = (int64_t)rate;
	t->win_ms = now_ms;
	t->win_bytes = bytes;
	if (t->fixed)
		return t->cur;
	log_msg(LOG_DEBUG, "upload",
		"parts in flight %d: %.1f MB/s over %d ms (best %.1f MB/s at "
		"%d)%s",
		t->cur, rate / 1e6, (int)dt, t->best_rate / 1e6, t->best_n,
		t->hold_until_ms != 0 ? ", holding"
		: t->slow	      ? ", slow start"
				      : "");
	if (t->hold_until_ms != 0) {
		if (now_ms < t->hold_until_ms)
			return t->cur;
		/* Probe one more from where it held. */
		t->hold_until_ms = 0;
		t->best_rate = rate;
		t->best_n = t->cur;
		set_count(t, t->cur + 1, now_ms);
		return t->cur;
	}
	if (t->best_n == 0 || rate > t->best_rate * (1.0 + TUNE_GAIN)) {
		int step = t->cur / 2 > 1 ? t->cur / 2 : 1;

		/* Slow start ends at the first window that rose little. */
		if (t->best_n != 0 &&
		    rate < t->best_rate * (1.0 + TUNE_SLOW_GAIN))
			t->slow = false;
		t->best_rate = rate;
		t->best_n = t->cur;
		t->flat = 0;
		set_count(t, t->cur + (t->slow ? t->cur : step), now_ms);
		return t->cur;
	}
	t->slow = false;
	/* Not rising: one window more at this count, since one window's rate
	 * is noisy; then back to the count that did as well, and hold. */
	if (t->flat++ == 0)
		return t->cur;
	t->flat = 0;
	set_count(t, t->best_n, now_ms);
	t->hold_until_ms = now_ms + TUNE_HOLD_MS;
	return t->cur;
}

void
upload__tune_failed(struct upload_tune *t, bool throttled, int in_flight,
		    int64_t now_ms)
{
	if (t->fixed)
		return;
	if (throttled) {
		/* in_flight counts the throttled part: the others were
		 * accepted. Lower at each throttled answer, so that a burst of
		 * them lands at the count the store takes. */
		int accepted = in_flight - 1;

		t->throttles++;
		t->slow = false;
		t->ceiling = accepted < t->ceiling ? accepted : t->ceiling - 1;
		if (t->ceiling < 1)
			t->ceiling = 1;
		set_count(t, t->cur, now_ms);
		t->best_n = t->cur;
		t->best_rate = 0;
		t->hold_until_ms = now_ms + TUNE_HOLD_MS;
		return;
	}
	if (now_ms - t->cut_ms < TUNE_WINDOW_MAX_MS)
		return;
	t->cut_ms = now_ms;
	t->slow = false;
	set_count(t, t->cur - (t->cur / 4 > 1 ? t->cur / 4 : 1), now_ms);
	t->best_n = t->cur;
	t->best_rate = 0;
	t->hold_until_ms = now_ms + TUNE_HOLD_MS;
}

void
upload__conns_join(struct upload_conns *c)
{
	if (c != NULL)
		atomic_fetch_add(&c->transfers, 1);
}

void
upload__conns_leave(struct upload_conns *c)
{
	if (c != NULL)
		atomic_fetch_sub(&c->transfers, 1);
}

int
upload__conns_share(struct upload_conns *c)
{
	int n, share;

	if (c == NULL || c->budget <= 0)
		return INT_MAX;
	n = atomic_load(&c->transfers);
	share = c->budget / (n > 0 ? n : 1);
	return share > 0 ? share : 1;
}

bool
upload__conns_take(struct upload_conns *c)
{
	int n;

	if (c == NULL || c->budget <= 0)
		return true;
	n = atomic_load(&c->in_flight);
	while (n < c->budget)
		if (atomic_compare_exchange_weak(&c->in_flight, &n, n + 1))
			return true;
	return false;
}

void
upload__conns_give(struct upload_conns *c)
{
	if (c != NULL && c->budget > 0)
		atomic_fetch_sub(&c->in_flight, 1);
}

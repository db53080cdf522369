/*
 * schedule.c: when a failed delivery is tried again.
 *
 * The default follows Svix's schedule (at once, then 5 s, 5 min, 30 min,
 * 2 h, 5 h, 10 h, 10 h: about a day and a half in all,
 * https://docs.svix.com/retries): the first retries cover a receiver's
 * brief hiccup, the later ones an outage of hours. Each delay is drawn
 * within 20% of its value so that the retries of many messages that failed
 * together do not arrive together.
 *
 * Interface: webhook_schedule_parse, webhook_schedule_delay.
 */
#include "webhooks/webhooks.h"

#include <ctype.h>
#include <string.h>

/* Milliseconds in a unit, 0 when unknown. */
static int64_t
unit_ms(const char *u, size_t n)
{
	static const struct {
		const char *name;
		int64_t ms;
	} units[] = {{"ms", 1},
		     {"s", 1000},
		     {"m", 60000},
		     {"h", 3600000},
		     {"d", 86400000}};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].name) == n &&
		    memcmp(units[i].name, u, n) == 0)
			return units[i].ms;
	return 0;
}

int
webhook_schedule_parse(const char *s, struct webhook_schedule *out,
		       struct err *e)
{
	const char *p = s;

	memset(out, 0, sizeof(*out));
	if (*p == '\0')
		return 0; /* no retry */
	for (;;) {
		int64_t v = 0, ms;
		const char *u;

		if (!isdigit((unsigned char)*p))
			return err_set(e, ERR_INPUT,
				       "expected a number at \"%.16s\"", p);
		while (isdigit((unsigned char)*p)) {
			v = v * 10 + (*p++ - '0');
			if (v > 1000000)
				return err_set(e, ERR_INPUT,
					       "a delay is too long");
		}
		for (u = p; isalpha((unsigned char)*p); p++)
			;
		if ((ms = unit_ms(u, (size_t)(p - u))) == 0)
			return err_set(
			    e, ERR_INPUT,
			    "a delay needs a unit: ms, s, m, h or d");
		if (v * ms > 30LL * 86400000)
			return err_set(e, ERR_INPUT,
				       "a delay is longer than 30 days");
		if (out->n == WEBHOOK_SCHEDULE_MAX)
			return err_set(e, ERR_INPUT, "more than %d retries",
				       WEBHOOK_SCHEDULE_MAX);
		out->delay_ms[out->n++] = v * ms;
		if (*p == '\0')
			return 0;
		if (*p++ != ',')
			return err_set(e, ERR_INPUT,
				       "delays are separated by commas");
	}
}

int64_t
webhook_schedule_delay(const struct webhook_schedule *s, int attempt, double r)
{
	double d;

	if (attempt < 1 || attempt > s->n)
		return -1;
	d = (double)s->delay_ms[attempt - 1];
	return (int64_t)(d * (0.8 + 0.4 * r));
}

int64_t
webhook_busy_pause_ms(int share, int64_t took_us)
{
	int64_t ms;

	if (share >= 100 || share <= 0 || took_us <= 0)
		return 0;
	ms = took_us * (100 - share) / share / 1000;
	return ms < WEBHOOK_PAUSE_MAX_MS ? ms : WEBHOOK_PAUSE_MAX_MS;
}

/*
 * activity.h: what the process saw of its callbacks lately, for the status
 * page (GET /v1/summary, GET /v1/failures): callbacks acknowledged and
 * rejected in each of the last ACTIVITY_MINUTES minutes, and the last
 * ACTIVITY_REJECTIONS rejections with their reasons. Kept in the process
 * only: each instance reports its own, and a restart starts afresh.
 *
 * Every function is thread-safe.
 */
#ifndef VODHOOK_SERVER_ACTIVITY_H
#define VODHOOK_SERVER_ACTIVITY_H

#include <cjson/cJSON.h>

#define ACTIVITY_MINUTES    60
#define ACTIVITY_REJECTIONS 100

/* A callback was acknowledged. Lock-free: it is on the callback path. */
void activity_callback_received(void);
/*
 * A callback was rejected: provider and route name it, reason says why (a
 * message vodhook wrote, never the body or a signature), peer is the
 * client's address. Each string is copied and cut to its field's size.
 */
void activity_callback_rejected(const char *provider, const char *route,
				const char *reason, const char *peer);
/*
 * [{"minute":"<RFC 3339 UTC>","received":n,"rejected":n}, ...] for the
 * last minutes (1 to ACTIVITY_MINUTES) minutes, oldest first, the current
 * one last. Caller deletes.
 */
cJSON *activity_minutes_json(int minutes);
/*
 * The rejections kept, newest first: [{"time":...,"provider":...,
 * "route":...,"reason":...,"peer":...}, ...]. Caller deletes.
 */
cJSON *activity_rejections_json(void);
/* Forget everything (for the unit tests). */
void activity_reset(void);

#endif

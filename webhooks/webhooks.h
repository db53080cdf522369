/*
 * webhooks.h: signed outbound webhooks (Standard Webhooks): the signing
 * secrets and signatures, the retry schedule, the URL rules, and the
 * delivery workers that send the outbox (schema/016_webhooks.sql) to each
 * subscription's URL.
 *
 * The signing, the schedule and the URL check are pure or thread-safe
 * functions; struct webhook_service runs the delivery threads
 * (webhook_service_start / _stop / _free).
 */
#ifndef VODHOOK_WEBHOOKS_H
#define VODHOOK_WEBHOOKS_H

#include "common/common.h"
#include "store/store.h"

/* Bytes of a generated secret (Standard Webhooks: 24 to 64). */
#define WEBHOOK_SECRET_BYTES 32
/* Room for "whsec_" + base64 of WEBHOOK_SECRET_BYTES + NUL. */
#define WEBHOOK_SECRET_MAX 64
/* Retry delays a schedule may hold. */
#define WEBHOOK_SCHEDULE_MAX 32

/*
 * A new secret, "whsec_" + base64 of WEBHOOK_SECRET_BYTES random bytes
 * (OpenSSL RAND_bytes), into out. 0 or ERR_IO. Thread-safe.
 */
int webhook_secret_new(char out[WEBHOOK_SECRET_MAX]) VH_MUST_CHECK;

/*
 * The webhook-signature header's value for a message: "v1,<base64
 * HMAC-SHA256 of id.timestamp.body>" with secret's key (the base64 after
 * "whsec_"), followed by " v1,..." with old_secret's when old_secret is not
 * NULL (a rotation's grace period). Appended to out. 0; ERR_INPUT when a
 * secret is not whsec_ and base64. Pure.
 */
int webhook_sign(const char *secret, const char *old_secret, const char *id,
		 int64_t timestamp, const char *body, size_t body_len,
		 struct buf *out) VH_MUST_CHECK;

/* When each retry is due after a failed attempt. */
struct webhook_schedule {
	int64_t delay_ms[WEBHOOK_SCHEDULE_MAX]; /* before retry 1, 2, ... */
	int n;					/* retries; attempts = n + 1 */
};

/*
 * Parse a schedule: delays separated by commas, each an integer and a unit
 * (ms, s, m, h, d), e.g. "5s,5m,30m,2h,5h,10h,10h". 0, or ERR_INPUT with
 * *e saying why. Pure.
 */
int webhook_schedule_parse(const char *s, struct webhook_schedule *out,
			   struct err *e) VH_MUST_CHECK;
/*
 * The delay before the retry that follows failed attempt number attempt
 * (1 = the first), with jitter: a uniform draw in [0.8, 1.2) of the
 * scheduled delay, from r in [0, 1). -1 when the attempts are used up. Pure.
 */
int64_t webhook_schedule_delay(const struct webhook_schedule *s, int attempt,
			       double r);

/*
 * The pause after a batch of deliveries that took took_us while callbacks
 * wait for the database: enough that a thread works share percent of the
 * time (100: none), at most WEBHOOK_PAUSE_MAX_MS. Pure.
 */
#define WEBHOOK_PAUSE_MAX_MS 1000
int64_t webhook_busy_pause_ms(int share, int64_t took_us);

/* The URL rules of a subscription. */
struct webhook_url_opts {
	bool allow_http;    /* http as well as https */
	bool allow_private; /* loopback and private-use addresses */
};

/*
 * Check a subscription's URL: http(s) as allowed, at most 2048 bytes, no
 * user information, and its host resolving only to addresses URL sources
 * may reach (upload/url_addr.c). 0; ERR_INPUT (not such a URL, or its host
 * does not resolve) or ERR_FORBIDDEN (an address refused) with why.
 */
int webhook_url_check(const struct webhook_url_opts *o, const char *url,
		      struct err *e) VH_MUST_CHECK;

struct webhook_service;

struct webhook_service_opts {
	struct db_pool *pool;	 /* borrowed, outlives the service */
	int workers;		 /* delivery threads; 0: none started */
	int max_in_flight;	 /* deliveries per subscription at once */
	int batch;		 /* messages a worker claims at once */
	int64_t timeout_ms;	 /* one delivery, connecting included */
	int64_t poll_ms;	 /* an idle worker looks for messages */
	int64_t disable_after_s; /* failing this long disables a subscription */
	struct webhook_schedule schedule;
	struct webhook_url_opts url;
	const char *ca_file; /* NULL or "": the system's */
	/*
	 * Whether callbacks are waiting for the database now (NULL: never).
	 * While they are, each thread works at most busy_share percent of
	 * the time (100: no pause): the clouds give up on a slow callback,
	 * while a message waits in the outbox unharmed.
	 */
	bool (*busy)(void *arg);
	void *busy_arg;
	int busy_share;
	/*
	 * Raised when messages may have been written (callbacks stored; NULL:
	 * none): an idle thread claims then instead of at its next poll.
	 * Borrowed, outlives the service.
	 */
	struct vh_signal *wake;
};

/*
 * Start the delivery threads; o is copied (pool and ca_file borrowed).
 * *out is NULL when o->workers is 0 (webhook_service_free accepts it).
 */
void webhook_service_start(const struct webhook_service_opts *o,
			   struct webhook_service **out);
/* Stop: each thread ends after its delivery in progress. Safe twice. */
void webhook_service_stop(struct webhook_service *s);
/* Stop if still running, and free. NULL-safe. */
void webhook_service_free(struct webhook_service *s);

#endif

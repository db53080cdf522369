/*
 * metrics.h: vodhook's counters, gauges and histograms, one registry.
 *
 * Every module bumps its metrics here by id; server/ prints the registry
 * in Prometheus' text format. A metric is one or more series of C11
 * atomics updated with relaxed ordering: no lock, no allocation, so that
 * the callback path and the transfer loop may count freely. A family with
 * labels has a fixed list of label sets, chosen by index.
 *
 * Thread safety: every function may be called from any thread.
 */
#ifndef VODHOOK_COMMON_METRICS_H
#define VODHOOK_COMMON_METRICS_H

#include "common/common.h"

#include <stdint.h>

enum metric_id {
	/* callbacks received over HTTP (server/cb_http.c) */
	METRIC_CALLBACKS_ACCEPTED, /* by provider: METRIC_PROVIDER_* */
	METRIC_CALLBACKS_REJECTED, /* provider * 4 + reason */
	METRIC_CALLBACK_DURATION,  /* histogram, by provider */
	/* the Tencent PULL poller (callbacks/pull.c) */
	METRIC_PULL_EVENTS_PULLED,
	METRIC_PULL_EVENTS_CONFIRMED,
	METRIC_PULL_ERRORS,
	/* the reconciler (callbacks/reconcile.c) */
	METRIC_RECONCILE_LOOKUPS,
	METRIC_RECONCILE_ADVANCED,
	METRIC_RECONCILE_ERRORS,
	/* upload jobs (upload/) */
	METRIC_UPLOAD_JOBS_FINISHED, /* by outcome: METRIC_OUTCOME_* */
	METRIC_UPLOAD_SENT_BYTES,
	METRIC_UPLOAD_PARTS_RETRIED,
	METRIC_UPLOAD_CREDENTIAL_REFRESHES,
	METRIC_UPLOAD_CRC_MISMATCHES,
	METRIC_UPLOAD_TRANSFERS_IN_PROGRESS, /* gauge */
	METRIC_UPLOAD_STREAM_BUFFERED,	     /* gauge */
	METRIC_UPLOAD_STREAM_BUFFERED_PEAK,  /* gauge, metric_max */
	/* webhook deliveries (webhooks/) */
	METRIC_WEBHOOK_DELIVERED,
	METRIC_WEBHOOK_RETRIED,
	METRIC_WEBHOOK_FAILED,
	METRIC_WEBHOOK_LATENCY, /* histogram: change to delivery */
	/* the change streams (server/stream.c) */
	METRIC_STREAMS_OPEN, /* gauge */
	METRIC_STREAM_EVENTS_SENT,
	METRIC_STREAMS_DROPPED,
	METRIC_N
};

/* Label indexes of the families labelled by provider. */
enum { METRIC_PROVIDER_TENCENT, METRIC_PROVIDER_ALIBABA };
/* Reasons of METRIC_CALLBACKS_REJECTED, in each provider's block of 4. */
enum {
	METRIC_REJECT_MALFORMED,
	METRIC_REJECT_UNAUTHORIZED,
	METRIC_REJECT_TOO_LARGE,
	METRIC_REJECT_UNAVAILABLE,
	METRIC_REJECT_N
};
/* Label indexes of METRIC_UPLOAD_JOBS_FINISHED. */
enum {
	METRIC_OUTCOME_UPLOADED,
	METRIC_OUTCOME_FAILED,
	METRIC_OUTCOME_CANCELED,
	METRIC_OUTCOME_RETRIED
};

/* Add n (which may be negative for a gauge) to id's first series. */
void metric_add(enum metric_id id, int64_t n);
/* Add n to id's series i (a label index above); i out of range aborts. */
void metric_add_at(enum metric_id id, size_t i, int64_t n);
/* Raise id's first series to v if it is below (a high-water mark). */
void metric_max(enum metric_id id, int64_t v);
/* The current value of id's series i. */
int64_t metric_value(enum metric_id id, size_t i);
/* Record one observation of us microseconds in histogram id's series i. */
void metric_observe_us(enum metric_id id, size_t i, int64_t us);
/* The number of observations in histogram id's series i. */
int64_t metric_observations(enum metric_id id, size_t i);

/*
 * Append every metric of the registry to b in Prometheus' text format
 * (version 0.0.4), each family with its HELP and TYPE. 0 or ERR_LIMIT.
 */
int metrics_write(struct buf *b) VH_MUST_CHECK;
/* Append the HELP and TYPE lines of a family printed elsewhere. */
int metrics_write_header(struct buf *b, const char *name, const char *type,
			 const char *help) VH_MUST_CHECK;

#endif

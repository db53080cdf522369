/*
 * metrics.c: the registry behind metrics.h.
 *
 * One table names every family, its type, help and label sets; the values
 * are static arrays of atomics indexed by family and series, so that an
 * update is one relaxed atomic add and printing needs no lock. Histograms
 * keep per-bucket counts (not cumulative) and a sum in microseconds; the
 * printer accumulates them, and prints _count as the sum of the buckets so
 * that the +Inf bucket and _count always agree.
 *
 * Interface: metric_add, metric_add_at, metric_value, metric_observe_us,
 * metric_observations, metrics_write, metrics_write_header.
 */
#include "common/metrics.h"

#include <stdatomic.h>

#define METRIC_MAX_SERIES 8
#define METRIC_NBUCKETS	  13

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct metric_def {
	const char *name;
	enum metric_type type;
	const char *help;
	const char *const *labels; /* label sets; NULL: one unlabelled */
	size_t nseries;
};

struct hist_series {
	atomic_int_fast64_t bucket[METRIC_NBUCKETS + 1]; /* last: +Inf */
	atomic_int_fast64_t sum_us;
};

static const char *const by_provider[] = {"provider=\"tencent\"",
					  "provider=\"alibaba\""};
static const char *const by_reject[] = {
    "provider=\"tencent\",reason=\"malformed\"",
    "provider=\"tencent\",reason=\"unauthorized\"",
    "provider=\"tencent\",reason=\"too_large\"",
    "provider=\"tencent\",reason=\"unavailable\"",
    "provider=\"alibaba\",reason=\"malformed\"",
    "provider=\"alibaba\",reason=\"unauthorized\"",
    "provider=\"alibaba\",reason=\"too_large\"",
    "provider=\"alibaba\",reason=\"unavailable\""};
static const char *const by_outcome[] = {
    "outcome=\"uploaded\"", "outcome=\"failed\"", "outcome=\"canceled\"",
    "outcome=\"retried\""};

#define LABELS(a) a, sizeof(a) / sizeof(a[0])

static const struct metric_def defs[METRIC_N] = {
    [METRIC_CALLBACKS_ACCEPTED] = {"vodhook_callbacks_accepted_total",
				   METRIC_COUNTER,
				   "Callbacks acknowledged with 200 (stored, "
				   "duplicate or spooled).",
				   LABELS(by_provider)},
    [METRIC_CALLBACKS_REJECTED] = {"vodhook_callbacks_rejected_total",
				   METRIC_COUNTER,
				   "Callbacks answered with an error, by "
				   "reason.",
				   LABELS(by_reject)},
    [METRIC_CALLBACK_DURATION] = {"vodhook_callback_duration_seconds",
				  METRIC_HISTOGRAM,
				  "Time from a callback's request to its "
				  "answer.",
				  LABELS(by_provider)},
    [METRIC_PULL_EVENTS_PULLED] = {"vodhook_pull_events_pulled_total",
				   METRIC_COUNTER,
				   "Events received from Tencent's "
				   "PullEvents.",
				   NULL, 1},
    [METRIC_PULL_EVENTS_CONFIRMED] = {"vodhook_pull_events_confirmed_total",
				      METRIC_COUNTER,
				      "Events confirmed with ConfirmEvents "
				      "once durable.",
				      NULL, 1},
    [METRIC_PULL_ERRORS] = {"vodhook_pull_errors_total", METRIC_COUNTER,
			    "Failed PullEvents or ConfirmEvents calls and "
			    "pulled events not stored.",
			    NULL, 1},
    [METRIC_RECONCILE_LOOKUPS] = {"vodhook_reconcile_lookups_total",
				  METRIC_COUNTER,
				  "Calls to a platform's API about stale "
				  "records.",
				  NULL, 1},
    [METRIC_RECONCILE_ADVANCED] = {"vodhook_reconcile_advanced_total",
				   METRIC_COUNTER,
				   "Events the reconciler recorded that were "
				   "new.",
				   NULL, 1},
    [METRIC_RECONCILE_ERRORS] = {"vodhook_reconcile_errors_total",
				 METRIC_COUNTER,
				 "Failed lookups and events the reconciler "
				 "could not record.",
				 NULL, 1},
    [METRIC_UPLOAD_JOBS_FINISHED] = {"vodhook_upload_attempts_total",
				     METRIC_COUNTER,
				     "Upload job runs ended, by outcome "
				     "(retried: a transient failure, run "
				     "again later).",
				     LABELS(by_outcome)},
    [METRIC_UPLOAD_SENT_BYTES] = {"vodhook_upload_sent_bytes_total",
				  METRIC_COUNTER,
				  "Bytes of media accepted by COS or OSS "
				  "(parts and single PUTs).",
				  NULL, 1},
    [METRIC_UPLOAD_PARTS_RETRIED] = {"vodhook_upload_parts_retried_total",
				     METRIC_COUNTER,
				     "Part (or single PUT) attempts that "
				     "failed and were tried again.",
				     NULL, 1},
    [METRIC_UPLOAD_CREDENTIAL_REFRESHES] =
	{"vodhook_upload_credential_refreshes_total", METRIC_COUNTER,
	 "Temporary upload credentials refreshed before they expired.", NULL,
	 1},
    [METRIC_UPLOAD_CRC_MISMATCHES] = {"vodhook_upload_crc_mismatches_total",
				      METRIC_COUNTER,
				      "Parts whose CRC-64 from COS or OSS "
				      "differed from the bytes sent.",
				      NULL, 1},
    [METRIC_UPLOAD_TRANSFERS_IN_PROGRESS] =
	{"vodhook_upload_transfers_in_progress", METRIC_GAUGE,
	 "Upload jobs this process is running now.", NULL, 1},
    [METRIC_UPLOAD_STREAM_BUFFERED] =
	{"vodhook_upload_stream_buffered_bytes", METRIC_GAUGE,
	 "Bytes of URL sources' parts held in memory now (in flight or kept "
	 "for a retry).",
	 NULL, 1},
    [METRIC_UPLOAD_STREAM_BUFFERED_PEAK] =
	{"vodhook_upload_stream_buffered_peak_bytes", METRIC_GAUGE,
	 "The most bytes of parts one URL source held in memory at once since "
	 "the start (at most upload_stream_buffer, or one part).",
	 NULL, 1},
    [METRIC_WEBHOOK_DELIVERED] = {"vodhook_webhook_delivered_total",
				  METRIC_COUNTER,
				  "Webhook messages delivered (a 2xx answer).",
				  NULL, 1},
    [METRIC_WEBHOOK_RETRIED] = {"vodhook_webhook_retried_total", METRIC_COUNTER,
				"Webhook attempts that failed and were "
				"scheduled again.",
				NULL, 1},
    [METRIC_WEBHOOK_FAILED] = {"vodhook_webhook_failed_total", METRIC_COUNTER,
			       "Webhook messages failed for good, their "
			       "attempts used up.",
			       NULL, 1},
    [METRIC_WEBHOOK_LATENCY] = {"vodhook_webhook_delivery_seconds",
				METRIC_HISTOGRAM,
				"From the change's commit to its message's "
				"delivery.",
				NULL, 1},
    [METRIC_STREAMS_OPEN] = {"vodhook_streams_open", METRIC_GAUGE,
			     "Change streams (GET /v1/stream) open now.", NULL,
			     1},
    [METRIC_STREAM_EVENTS_SENT] = {"vodhook_stream_events_sent_total",
				   METRIC_COUNTER,
				   "Events written to change streams "
				   "(snapshots and synced included).",
				   NULL, 1},
    [METRIC_STREAMS_DROPPED] = {"vodhook_streams_dropped_total", METRIC_COUNTER,
				"Change streams ended because their client "
				"did not read: too far behind, or a write "
				"that timed out.",
				NULL, 1},
};

/* Bucket bounds of every histogram, in microseconds and as printed. */
static const int64_t bucket_us[METRIC_NBUCKETS] = {
    500,    1000,   2500,   5000,    10000,   25000,  50000,
    100000, 250000, 500000, 1000000, 2500000, 5000000};
static const char *const bucket_le[METRIC_NBUCKETS] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
    "0.1",    "0.25",  "0.5",	 "1",	  "2.5",  "5"};

static atomic_int_fast64_t values[METRIC_N][METRIC_MAX_SERIES];
static struct hist_series hists[METRIC_N][METRIC_MAX_SERIES];

static void
check_series(enum metric_id id, size_t i)
{
	if ((unsigned)id >= METRIC_N || i >= defs[id].nseries)
		fatal("metric %d has no series %zu", (int)id, i);
}

void
metric_add(enum metric_id id, int64_t n)
{
	metric_add_at(id, 0, n);
}

void
metric_add_at(enum metric_id id, size_t i, int64_t n)
{
	check_series(id, i);
	atomic_fetch_add_explicit(&values[id][i], n, memory_order_relaxed);
}

void
metric_max(enum metric_id id, int64_t v)
{
	int_fast64_t cur;

	check_series(id, 0);
	cur = atomic_load_explicit(&values[id][0], memory_order_relaxed);
	while (cur < v && !atomic_compare_exchange_weak_explicit(
			      &values[id][0], &cur, v, memory_order_relaxed,
			      memory_order_relaxed))
		;
}

int64_t
metric_value(enum metric_id id, size_t i)
{
	check_series(id, i);
	return atomic_load_explicit(&values[id][i], memory_order_relaxed);
}

void
metric_observe_us(enum metric_id id, size_t i, int64_t us)
{
	struct hist_series *h;
	size_t b = 0;

	check_series(id, i);
	h = &hists[id][i];
	while (b < METRIC_NBUCKETS && us > bucket_us[b])
		b++;
	atomic_fetch_add_explicit(&h->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
}

int64_t
metric_observations(enum metric_id id, size_t i)
{
	int64_t n = 0;

	check_series(id, i);
	for (size_t b = 0; b <= METRIC_NBUCKETS; b++)
		n += atomic_load_explicit(&hists[id][i].bucket[b],
					  memory_order_relaxed);
	return n;
}

int
metrics_write_header(struct buf *b, const char *name, const char *type,
		     const char *help)
{
	return buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
			  type);
}

static int
write_histogram(struct buf *b, const struct metric_def *d, size_t i,
		const struct hist_series *h)
{
	const char *lab = d->labels ? d->labels[i] : "";
	const char *sep = lab[0] ? "," : "";
	int64_t cum = 0;
	int rc = 0;

	for (size_t k = 0; k <= METRIC_NBUCKETS; k++) {
		cum +=
		    atomic_load_explicit(&h->bucket[k], memory_order_relaxed);
		rc |= buf_printf(b, "%s_bucket{%s%sle=\"%s\"} %lld\n", d->name,
				 lab, sep,
				 k < METRIC_NBUCKETS ? bucket_le[k] : "+Inf",
				 (long long)cum);
	}
	rc |= buf_printf(
	    b, "%s_sum%s%s%s %.6f\n", d->name, lab[0] ? "{" : "", lab,
	    lab[0] ? "}" : "",
	    (double)atomic_load_explicit(&h->sum_us, memory_order_relaxed) /
		1e6);
	rc |= buf_printf(b, "%s_count%s%s%s %lld\n", d->name, lab[0] ? "{" : "",
			 lab, lab[0] ? "}" : "", (long long)cum);
	return rc;
}

static int
write_family(struct buf *b, enum metric_id id)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};
	const struct metric_def *d = &defs[id];
	int rc = metrics_write_header(b, d->name, types[d->type], d->help);

	for (size_t i = 0; i < d->nseries; i++) {
		if (d->type == METRIC_HISTOGRAM) {
			rc |= write_histogram(b, d, i, &hists[id][i]);
			continue;
		}
		rc |= buf_printf(
		    b, "%s%s%s%s %lld\n", d->name, d->labels ? "{" : "",
		    d->labels ? d->labels[i] : "", d->labels ? "}" : "",
		    (long long)atomic_load_explicit(&values[id][i],
						    memory_order_relaxed));
	}
	return rc;
}

int
metrics_write(struct buf *b)
{
	int rc = 0;

	for (int id = 0; id < METRIC_N; id++)
		rc |= write_family(b, (enum metric_id)id);
	return rc ? ERR_LIMIT : 0;
}

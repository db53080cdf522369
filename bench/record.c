/*
 * record.c: what recording a batch of events costs PostgreSQL, without the
 * HTTP side. Not part of vodhook.
 *
 * bench/callbacks.sh measures the whole path, on a machine whose latency
 * noise moves its figures by a tenth from run to run; a change to the
 * schema or to the statement that records events (store/events.c) saves a
 * few percent, which only a quieter measure shows. This one records batch
 * after batch of new events of one shape (an Alibaba FileUploadComplete: a
 * new event and a new media record) as the callback committer does
 * (store_events_send expecting new events, then store_events_wait), and
 * reads the CPU time the server's backend spent (/proc/PID/schedstat, in
 * nanoseconds) and the WAL it wrote (pg_stat_wal). bench/record.sh runs it,
 * and counts the backend's instructions under callgrind.
 *
 *   vodhook-record-bench URL [EVENTS_PER_BATCH [BATCHES]]  defaults: 16, 4000
 *
 * URL must name a database this process may migrate; the server must run on
 * this machine (its backend's /proc entry is read). VH_BENCH_UPLOAD_IDS=1:
 * each event names an upload id (of no upload), as the events of a media
 * vodhook uploaded do, so that the statement runs its whole form rather
 * than the lean one (store/events.c).
 */
#include "common/common.h"
#include "store/store.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH_MAX  1024
#define NO_SAMPLE  "cannot read the backend's CPU time or pg_stat_wal"
#define EVENT_TIME 1795262400 /* 2026-11-21T10:00:00Z */

/* One batch of events and their media deltas, and the text they point to. */
struct batch {
	struct store_event ev[BATCH_MAX];
	struct store_media_delta d[BATCH_MAX];
	bool is_new[BATCH_MAX];
	char ids[BATCH_MAX][48], keys[BATCH_MAX][72], urls[BATCH_MAX][96];
	char raw[BATCH_MAX][320];
	char uploads[BATCH_MAX][48]; /* upload ids, with VH_BENCH_UPLOAD_IDS */
};

/* The server's totals that a run reads before and after. */
struct sample {
	int64_t cpu_ns; /* the backend's */
	int64_t wal_bytes, wal_records;
	int64_t at_us; /* monotonic */
};

/* Nanoseconds process pid has run on a CPU, or -1. */
static int64_t
cpu_ns(int pid)
{
	char path[64];
	long long ns = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fscanf(f, "%lld", &ns) != 1)
		ns = -1;
	fclose(f);
	return ns;
}

/* One number from a one-row query on conn, or -1. */
static int64_t
query_int(PGconn *conn, const char *sql)
{
	PGresult *r = PQexec(conn, sql);
	int64_t v = -1;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
	    !PQgetisnull(r, 0, 0))
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	else
		fprintf(stderr, "record-bench: %s: %s", sql,
			PQerrorMessage(conn));
	PQclear(r);
	return v;
}

/* Point b's first n events and deltas at b's text. */
static void
batch_init(struct batch *b, long n)
{
	const char *u = getenv("VH_BENCH_UPLOAD_IDS");
	bool uploads = u != NULL && strcmp(u, "1") == 0;

	for (long i = 0; i < n; i++) {
		b->ev[i] =
		    (struct store_event){.provider = "alibaba",
					 .event_type = "FileUploadComplete",
					 .file_id = b->ids[i],
					 .dedup_key = b->keys[i],
					 .via = "push",
					 .event_time = EVENT_TIME,
					 .raw = b->raw[i]};
		b->d[i] = (struct store_media_delta){.provider = "alibaba",
						     .file_id = b->ids[i],
						     .rank = 2,
						     .state = "confirmed",
						     .maybe_ready = true,
						     .confirmed_at = EVENT_TIME,
						     .media_url = b->urls[i],
						     .size = 1439213};
		if (uploads) {
			snprintf(b->uploads[i], sizeof(b->uploads[i]),
				 "00000000-0000-4000-8000-%012lx",
				 (unsigned long)i);
			b->ev[i].upload_id = b->uploads[i];
			b->d[i].upload_id = b->uploads[i];
		}
	}
}

/* Fill b's first n events as new ones: batch number k of run run. */
static void
batch_fill(struct batch *b, long n, long long run, long k)
{
	for (long i = 0; i < n; i++) {
		snprintf(b->ids[i], sizeof(b->ids[i]), "%lld-%ld-%ld", run, k,
			 i);
		snprintf(b->keys[i], sizeof(b->keys[i]),
			 "FileUploadComplete:%s", b->ids[i]);
		snprintf(b->urls[i], sizeof(b->urls[i]),
			 "http://bucket.oss-cn-shanghai.aliyuncs.com/%s.mp4",
			 b->ids[i]);
		snprintf(b->raw[i], sizeof(b->raw[i]),
			 "{\"EventTime\":\"2026-11-21T10:00:00Z\","
			 "\"EventType\":\"FileUploadComplete\","
			 "\"VideoId\":\"%s\",\"Size\":1439213,"
			 "\"FileUrl\":\"%s\"}",
			 b->ids[i], b->urls[i]);
	}
}

static int
fail(const char *why)
{
	fprintf(stderr, "record-bench: %s\n", why);
	return 1;
}

/* Read the backend's CPU time and the server's WAL totals: false if not. */
static bool
sample(PGconn *stats, int backend, struct sample *s)
{
	s->at_us = time_mono_us();
	s->cpu_ns = cpu_ns(backend);
	s->wal_bytes = query_int(stats, "SELECT wal_bytes FROM pg_stat_wal");
	s->wal_records =
	    query_int(stats, "SELECT wal_records FROM pg_stat_wal");
	return s->cpu_ns >= 0 && s->wal_bytes >= 0 && s->wal_records >= 0;
}

int
main(int argc, char **argv)
{
	static struct batch b;
	struct db_pool_opts o = {0};
	struct db_pool *pool = NULL;
	struct err e = {0};
	struct sample s0, s1;
	PGconn *stats;
	long per = argc > 2 ? strtol(argv[2], NULL, 10) : 16;
	long batches = argc > 3 ? strtol(argv[3], NULL, 10) : 4000;
	int backend;
	char app[48], sql[128];
	/* ids unique across runs, even two in one second */
	long long run = (long long)time_unix() * 100000 + getpid() % 100000;

	if (argc < 2 || per < 1 || per > BATCH_MAX || batches < 1) {
		fprintf(stderr, "usage: vodhook-record-bench URL "
				"[EVENTS_PER_BATCH (1-1024) [BATCHES]]\n");
		return 2;
	}
	o.conninfo = argv[1];
	o.size = 1;
	o.connect_timeout_s = 5;
	snprintf(app, sizeof(app), "vodhook-record-bench-%lld", run);
	o.app_name = app;
	o.generic_plans = true; /* as the callback committer's pool */
	if (db_pool_new(&o, &pool, &e) != 0 ||
	    store_migrate(pool, NULL, &e) != 0)
		return fail(e.msg);
	stats = PQconnectdb(argv[1]);
	if (PQstatus(stats) != CONNECTION_OK)
		return fail(PQerrorMessage(stats));
	/* the pool's one connection, opened by store_migrate, and named
	 * after this run: another run's connection is not taken for it */
	snprintf(sql, sizeof(sql),
		 "SELECT pid FROM pg_stat_activity WHERE application_name = "
		 "'%s'",
		 app);
	backend = (int)query_int(stats, sql);
	batch_init(&b, per);
	if (backend <= 0 || !sample(stats, backend, &s0))
		return fail(NO_SAMPLE);
	for (long k = 0; k < batches; k++) {
		struct store_batch sb;

		batch_fill(&b, per, run, k);
		/* as the callback committer does: the statement that expects
		 * new events, then the wait for its commit */
		if (store_events_send(pool, b.ev, (size_t)per, b.d, (size_t)per,
				      true, b.is_new, &sb, &e) != 0 ||
		    store_events_wait(&sb, &e) != 0)
			return fail(e.msg);
	}
	if (!sample(stats, backend, &s1))
		return fail(NO_SAMPLE);
	double n = (double)per * (double)batches;
	printf("RESULT backend_pid=%d events_per_batch=%ld events=%.0f "
	       "events_per_s=%.0f backend_us_per_event=%.2f "
	       "wal_bytes_per_event=%.0f wal_records_per_event=%.2f\n",
	       backend, per, n, n / ((double)(s1.at_us - s0.at_us) / 1e6),
	       (double)(s1.cpu_ns - s0.cpu_ns) / n / 1e3,
	       (double)(s1.wal_bytes - s0.wal_bytes) / n,
	       (double)(s1.wal_records - s0.wal_records) / n);
	PQfinish(stats);
	db_pool_free(pool);
	return 0;
}

/*
 * probe.c: the least a callback receiver of this design can do, as a
 * yardstick for bench/callbacks.sh. Not part of vodhook.
 *
 * Issue 4 quotes such a probe: CivetWeb, the MD5 check, cJSON, and one
 * committer thread that writes every waiting event as one multi-row INSERT
 * into one table per transaction before their requests are answered. This
 * is that probe, rebuilt so that it runs beside vodhook in the same
 * benchmark: the machine's latency noise varies from hour to hour (see
 * bench/noise.py), and vodhook's tail means something only next to what the
 * bare design reaches on the same machine in the same run.
 *
 * It does none of what makes vodhook a receiver: no dedup, no media
 * record, no lifecycle, no spool, no limits beyond the body cap. It reads
 * its settings from the environment:
 *
 *   PROBE_DATABASE_URL   libpq connection string (required)
 *   PROBE_LISTEN         host:port (required)
 *   PROBE_ALIBABA_KEY    the Alibaba callback key (required)
 *   PROBE_TOKEN          the Tencent path token (required)
 *
 * It serves until SIGTERM or SIGINT.
 */
#include "common/common.h"

#include <civetweb.h>
#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX  (1 << 20)
#define BATCH_MAX 256

struct item {
	struct item *next;
	const char *provider;
	char *event_type, *file_id;
	const char *raw;
	sem_t done;
	bool ok;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct item *head, **tail;
	PGconn *db;
	const char *key, *token, *base_url;
} P = {PTHREAD_MUTEX_INITIALIZER,
       PTHREAD_COND_INITIALIZER,
       NULL,
       &P.head,
       NULL,
       NULL,
       NULL,
       NULL};

static void
reply(struct mg_connection *c, int status, const char *text)
{
	mg_printf(c,
		  "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
		  "Content-Length: %zu\r\n\r\n%s",
		  status, status == 200 ? "OK" : "Error", strlen(text), text);
}

/* md5hex(url|ts|key) == sig, compared in constant time (the project's
 * helpers: the MD5 check is the same work vodhook does) */
static bool
alibaba_signed(struct mg_connection *c, const char *path)
{
	const char *ts = mg_get_header(c, "X-VOD-TIMESTAMP");
	const char *sig = mg_get_header(c, "X-VOD-SIGNATURE");
	char msg[1024], hex[33];
	int n;

	if (ts == NULL || sig == NULL)
		return false;
	n = snprintf(msg, sizeof(msg), "%s%s|%s|%s", P.base_url, path, ts,
		     P.key);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return false;
	md5_hex(msg, (size_t)n, hex);
	return ct_equal(hex, 32, sig, strlen(sig));
}

static char *
dup_string(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
}

static int
handle(struct mg_connection *c, void *arg)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	struct item it = {0};
	char *body;
	long long len = ri->content_length;
	int got = 0, r;
	cJSON *j;

	(void)arg;
	if (strcmp(ri->request_method, "POST") != 0)
		return reply(c, 405, "POST only"), 405;
	if (strcmp(ri->local_uri, "/callbacks/alibaba") == 0) {
		if (!alibaba_signed(c, ri->local_uri))
			return reply(c, 401, "bad signature"), 401;
		it.provider = "alibaba";
	} else if (strncmp(ri->local_uri, "/callbacks/tencent/", 19) == 0 &&
		   strcmp(ri->local_uri + 19, P.token) == 0) {
		it.provider = "tencent";
	} else {
		return reply(c, 404, "no such path"), 404;
	}
	if (len < 0 || len > BODY_MAX)
		return reply(c, 413, "length required, at most 1 MiB"), 413;
	body = malloc((size_t)len + 1);
	while (body != NULL && got < len &&
	       (r = mg_read(c, body + got, (size_t)(len - got))) > 0)
		got += r;
	if (body == NULL || got != len) {
		free(body);
		return reply(c, 400, "short body"), 400;
	}
	body[len] = '\0';
	j = cJSON_ParseWithLength(body, (size_t)len);
	if (j == NULL) {
		free(body);
		return reply(c, 400, "malformed JSON"), 400;
	}
	it.event_type = dup_string(j, "EventType");
	it.file_id = dup_string(j, "VideoId");
	if (it.file_id == NULL)
		it.file_id = dup_string(
		    cJSON_GetObjectItemCaseSensitive(j, "FileUploadEvent"),
		    "FileId");
	cJSON_Delete(j);
	it.raw = body;
	sem_init(&it.done, 0, 0);

	pthread_mutex_lock(&P.mu);
	*P.tail = &it;
	P.tail = &it.next;
	pthread_cond_signal(&P.cv);
	pthread_mutex_unlock(&P.mu);
	while (sem_wait(&it.done) != 0)
		;
	sem_destroy(&it.done);
	free(it.event_type);
	free(it.file_id);
	free(body);
	if (!it.ok)
		return reply(c, 503, "not stored"), 503;
	reply(c, 200, "ok");
	return 200;
}

/* INSERT ... VALUES ($1,$2,$3,$4),($5,...) for n rows */
static char *
insert_sql(int n)
{
	size_t cap = 80 + (size_t)n * 40;
	char *s = malloc(cap);
	size_t off;

	if (s == NULL)
		abort();
	off = (size_t)snprintf(s, cap,
			       "INSERT INTO probe_events (provider, "
			       "event_type, file_id, raw) VALUES ");
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(
		    s + off, cap - off, "%s($%d,$%d,$%d,$%d)", i ? "," : "",
		    4 * i + 1, 4 * i + 2, 4 * i + 3, 4 * i + 4);
	return s;
}

static void *
committer(void *arg)
{
	struct item *batch[BATCH_MAX];
	const char *params[4 * BATCH_MAX];

	(void)arg;
	for (;;) {
		int n = 0;
		char *sql;
		PGresult *res;
		bool ok;

		pthread_mutex_lock(&P.mu);
		while (P.head == NULL)
			pthread_cond_wait(&P.cv, &P.mu);
		while (P.head != NULL && n < BATCH_MAX) {
			batch[n++] = P.head;
			P.head = P.head->next;
		}
		if (P.head == NULL)
			P.tail = &P.head;
		pthread_mutex_unlock(&P.mu);

		for (int i = 0; i < n; i++) {
			params[4 * i] = batch[i]->provider;
			params[4 * i + 1] = batch[i]->event_type;
			params[4 * i + 2] = batch[i]->file_id;
			params[4 * i + 3] = batch[i]->raw;
		}
		sql = insert_sql(n);
		res =
		    PQexecParams(P.db, sql, 4 * n, NULL, params, NULL, NULL, 0);
		ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		if (!ok)
			fprintf(stderr, "probe: %s", PQerrorMessage(P.db));
		PQclear(res);
		free(sql);
		for (int i = 0; i < n; i++) {
			batch[i]->ok = ok;
			sem_post(&batch[i]->done);
		}
	}
	return NULL;
}

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0') {
		fprintf(stderr, "probe: %s is not set\n", name);
		exit(2);
	}
	return v;
}

int
main(void)
{
	static char base_url[300], port[256];
	const char *listen = env("PROBE_LISTEN");
	const char *opts[] = {
	    "listening_ports",	 port,	"num_threads", "40", "tcp_nodelay", "1",
	    "enable_keep_alive", "yes", NULL};
	struct mg_context *ctx;
	pthread_t th;
	PGresult *res;
	sigset_t stop;
	int sig;

	P.key = env("PROBE_ALIBABA_KEY");
	P.token = env("PROBE_TOKEN");
	snprintf(port, sizeof(port), "%s", listen);
	snprintf(base_url, sizeof(base_url), "http://%s", listen);
	P.base_url = base_url;
	P.db = PQconnectdb(env("PROBE_DATABASE_URL"));
	if (PQstatus(P.db) != CONNECTION_OK) {
		fprintf(stderr, "probe: %s", PQerrorMessage(P.db));
		return 1;
	}
	res = PQexec(P.db, "CREATE TABLE IF NOT EXISTS probe_events ("
			   " id bigserial PRIMARY KEY, provider text NOT NULL,"
			   " event_type text, file_id text, raw text NOT NULL,"
			   " received_at timestamptz NOT NULL DEFAULT now())");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "probe: %s", PQerrorMessage(P.db));
		return 1;
	}
	PQclear(res);
	/* every thread started from here on blocks them: main waits */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	if (pthread_create(&th, NULL, committer, NULL) != 0)
		return 1;
	mg_init_library(0);
	ctx = mg_start(NULL, NULL, opts);
	if (ctx == NULL) {
		fprintf(stderr, "probe: cannot listen on %s\n", listen);
		return 1;
	}
	mg_set_request_handler(ctx, "/callbacks/", handle, NULL);
	sigwait(&stop, &sig);
	/* The committer may be inside libpq: leave it to the exit. */
	mg_stop(ctx);
	return 0;
}

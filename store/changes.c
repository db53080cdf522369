/*
 * changes.c: the changes PostgreSQL publishes on the channel vodhook_changes
 * (schema/014_changes.sql): a listener on a connection of its own, and the
 * snapshot of the current state that a stream sends before the changes.
 *
 * The listener runs on one thread with one connection (a pool of one, so
 * that connecting has the pool's deadline, verbose errors and back-off). It
 * waits on the socket and on a pipe its owner writes to wake or stop it,
 * hands each notification's payload to on_notify, and pings the server when
 * the connection has been quiet for a while, under a deadline, so that a
 * database gone silent is noticed as well as one that closed the
 * connection. A lost connection is opened again with back-off, and
 * on_listen is called each time LISTEN is in effect again: what changed
 * meanwhile was not heard, and the caller must read the state afresh.
 * Nothing on the callback path waits on the listener.
 *
 * It listens only while its owner wants it to (o.keep, asked when it is
 * woken): a session that listens costs every committing transaction that
 * notifies, since PostgreSQL signals the listening backend, which reads
 * the queue and sends each payload on, and this thread takes each one in.
 * With no stream open, vodhook does not listen (bench/results/
 * 2026-12-05-notify.md).
 *
 * Interface: store_listener_start, store_listener_wake, store_listener_stop,
 * store_listener_free, store_changes_snapshot.
 */
#include "store/store_int.h"

#include "common/thread.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LISTEN_BACKOFF_MS     250  /* after the first failed attempt */
#define LISTEN_BACKOFF_MAX_MS 5000 /* doubled up to this */
/* A connection quiet for this long is pinged; the ping must be answered
 * within LISTEN_PING_TIMEOUT_MS or the connection is dropped. */
#define LISTEN_IDLE_MS	       10000
#define LISTEN_PING_TIMEOUT_MS 10000

static const char SQL_LISTEN[] = "LISTEN vodhook_changes";
static const char SQL_UNLISTEN[] = "UNLISTEN *";
static const char SQL_PING[] = "SELECT 1";

/*
 * The snapshot: uploads not finished, and, when the filter names a file id
 * or an upload id, that upload and media whatever their state; each in
 * the payload shape of the notifications, "from" null, the time the record
 * last changed. $1 provider, $2 file id, $3 upload id, $4 kind (NULL:
 * any), $5 the most rows of each kind.
 */
static const char SQL_SNAPSHOT[] =
    "(SELECT 'upload', vodhook_upload_change(u.id, u.provider, u.file_id,"
    "  u.state, NULL, u.bytes_done, u.bytes_total,"
    "  vodhook_change_time(u.updated_at))"
    " FROM uploads u"
    " WHERE ($4::text IS NULL OR $4 = 'upload')"
    "  AND ($1::text IS NULL OR u.provider = $1)"
    "  AND ($2::text IS NULL OR u.file_id = $2)"
    "  AND ($3::uuid IS NULL OR u.id = $3::uuid)"
    "  AND (u.state IN ('queued', 'uploading', 'committing')"
    "   OR $2 IS NOT NULL OR $3 IS NOT NULL)"
    " ORDER BY u.created_at LIMIT $5::int)"
    " UNION ALL"
    " (SELECT 'media', vodhook_media_change(m.provider, m.file_id, m.state,"
    "  NULL, m.upload_id, vodhook_change_time(m.updated_at))"
    " FROM media m"
    " WHERE ($4::text IS NULL OR $4 = 'media')"
    "  AND ($2 IS NOT NULL OR $3 IS NOT NULL)"
    "  AND ($1::text IS NULL OR m.provider = $1)"
    "  AND ($2::text IS NULL OR m.file_id = $2)"
    "  AND ($3::uuid IS NULL OR m.upload_id = $3::uuid)"
    " ORDER BY m.id LIMIT $5::int)";

struct store_listener {
	struct store_listener_opts o;
	struct db_pool *pool; /* of one connection: the listener's */
	struct vh_thread thread;
	int wake[2]; /* written by store_listener_wake and _stop */
};

int
store_changes_snapshot(struct db_pool *pool, const struct change_filter *f,
		       store_change_fn fn, void *arg, struct err *e)
{
	char max[16];
	const char *params[5] = {f->provider, f->file_id, f->upload_id, f->kind,
				 max};
	PGresult *res = NULL;
	PGconn *conn;
	int rc = 0;

	snprintf(max, sizeof(max), "%d", STORE_SNAPSHOT_MAX);
	if ((conn = store__acquire(pool, 5000, e)) == NULL)
		return store__acquire_failed(e);
	res = store__exec(conn, SQL_SNAPSHOT, 5, params);
	if (!store__ok(res)) {
		rc = store__err(conn, res, "read the current state", e);
		goto out;
	}
	for (int i = 0; i < PQntuples(res); i++)
		fn(PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), arg);
out:
	PQclear(res);
	store__release(pool, conn);
	return rc;
}

/* Empty the wake pipe: its bytes only say "look again". */
static void
drain(struct store_listener *l)
{
	char b[64];

	while (read(l->wake[0], b, sizeof(b)) > 0)
		;
}

/* Wait up to ms (-1: without end) for the pipe: true when stop was asked. */
static bool
wait_stop(struct store_listener *l, int ms)
{
	struct pollfd p = {.fd = l->wake[0], .events = POLLIN};

	if (vh_stop_requested(&l->thread.stop))
		return true;
	while (poll(&p, 1, ms) < 0 && errno == EINTR)
		;
	drain(l);
	return vh_stop_requested(&l->thread.stop);
}

/* Whether the owner wants LISTEN; when it says no, it counts LISTEN as no
 * longer in effect from then on. */
static bool
keep(struct store_listener *l)
{
	return l->o.keep == NULL || l->o.keep(l->o.arg);
}

/* Hand every notification libpq has read to on_notify. */
static void
deliver(struct store_listener *l, PGconn *conn)
{
	PGnotify *n;

	while ((n = PQnotifies(conn)) != NULL) {
		l->o.on_notify(n->extra, l->o.arg);
		PQfreemem(n);
	}
}

/* Drop the notifications libpq has read. */
static void
discard(PGconn *conn)
{
	PGnotify *n;

	while ((n = PQnotifies(conn)) != NULL)
		PQfreemem(n);
}

/* Run sql (SQL_PING, SQL_UNLISTEN) under its own deadline: 0, or -1 when
 * the connection is gone or silent (the pool then closes it). */
static int
exec_bounded(PGconn *conn, const char *sql)
{
	PGresult *res;
	int rc;

	store__set_deadline(conn, time_mono_ms() + LISTEN_PING_TIMEOUT_MS);
	res = store__exec(conn, sql, 0, NULL);
	rc = store__ok(res) ? 0 : -1;
	PQclear(res);
	store__set_deadline(conn, 0);
	return rc;
}

enum loop_end { LOOP_STOP, LOOP_UNWANTED, LOOP_LOST };

/*
 * Wait for notifications on conn until stop is asked, the owner no longer
 * wants them, or the connection breaks.
 */
static enum loop_end
listen_loop(struct store_listener *l, PGconn *conn)
{
	int64_t quiet_since = time_mono_ms();

	for (;;) {
		struct pollfd p[2] = {
		    {.fd = PQsocket(conn), .events = POLLIN},
		    {.fd = l->wake[0], .events = POLLIN},
		};
		int n = poll(p, 2, LISTEN_IDLE_MS);

		if (vh_stop_requested(&l->thread.stop))
			return LOOP_STOP;
		if (n < 0 && errno != EINTR)
			return LOOP_LOST;
		if (n > 0 && p[1].revents != 0) {
			drain(l);
			if (!keep(l))
				return LOOP_UNWANTED;
		}
		if (n > 0 && p[0].revents != 0) {
			if (PQconsumeInput(conn) == 0)
				return LOOP_LOST;
			quiet_since = time_mono_ms();
		} else if (time_mono_ms() - quiet_since >= LISTEN_IDLE_MS) {
			if (exec_bounded(conn, SQL_PING) != 0)
				return LOOP_LOST;
			quiet_since = time_mono_ms();
		}
		deliver(l, conn);
		if (PQstatus(conn) != CONNECTION_OK)
			return LOOP_LOST;
	}
}

/* Open the connection and LISTEN: the connection, or NULL with *e set. */
static PGconn *
start_listening(struct store_listener *l, struct err *e)
{
	PGresult *res;
	PGconn *conn;

	if ((conn = store__acquire(l->pool, 0, e)) == NULL)
		return NULL;
	res = store__exec(conn, SQL_LISTEN, 0, NULL);
	if (!store__ok(res)) {
		store__err(conn, res, "listen on vodhook_changes", e);
		PQclear(res);
		store__release(l->pool, conn);
		return NULL;
	}
	PQclear(res);
	store__set_deadline(conn, 0); /* waits are bounded by listen_loop */
	return conn;
}

static void *
listener_main(void *arg)
{
	struct store_listener *l = arg;
	int backoff = LISTEN_BACKOFF_MS;
	bool said_down = false;
	struct err e;

	while (!vh_stop_requested(&l->thread.stop)) {
		enum loop_end end;
		PGconn *conn;

		if (!keep(l)) {
			/* Until a stream wants the changes (or stop). */
			(void)wait_stop(l, -1);
			continue;
		}
		err_clear(&e);
		if ((conn = start_listening(l, &e)) == NULL) {
			if (!said_down)
				log_msg(LOG_WARN, "changes",
					"not listening for changes: %s; "
					"trying again",
					e.msg);
			said_down = true;
			if (wait_stop(l, backoff))
				break;
			backoff = backoff * 2 > LISTEN_BACKOFF_MAX_MS
				      ? LISTEN_BACKOFF_MAX_MS
				      : backoff * 2;
			continue;
		}
		backoff = LISTEN_BACKOFF_MS;
		log_msg(LOG_INFO, "changes", "listening for changes%s",
			said_down ? " again" : "");
		said_down = false;
		l->o.on_listen(l->o.arg);
		end = listen_loop(l, conn);
		if (end == LOOP_LOST) {
			log_msg(LOG_WARN, "changes",
				"lost the connection listening for changes: "
				"%.*s",
				(int)strcspn(PQerrorMessage(conn), "\n"),
				PQerrorMessage(conn));
			said_down = true;
			if (l->o.on_lost != NULL)
				l->o.on_lost(l->o.arg);
		} else if (end == LOOP_UNWANTED) {
			log_msg(LOG_INFO, "changes",
				"not listening for changes: no one reads them");
			/* Before the connection goes back to the pool; the
			 * notifications libpq read until then are dropped, or
			 * the next LISTEN would hand them on after its
			 * snapshot, older than it. */
			(void)exec_bounded(conn, SQL_UNLISTEN);
			discard(conn);
		}
		/* The pool closes a broken connection; one still open goes
		 * back idle, and LISTEN is sent on it again. */
		store__release(l->pool, conn);
		if (end == LOOP_STOP)
			break;
	}
	return NULL;
}

int
store_listener_start(const struct store_listener_opts *o,
		     struct store_listener **out, struct err *e)
{
	struct db_pool_opts po = {
	    .conninfo = o->conninfo,
	    .size = 1,
	    .connect_timeout_s = o->connect_timeout_s,
	    .timeout_ms = o->timeout_ms,
	    .app_name = "vodhook listener",
	};
	struct store_listener *l;
	int rc;

	*out = NULL;
	l = xcalloc(1, sizeof(*l));
	l->o = *o;
	l->wake[0] = l->wake[1] = -1;
	if ((rc = db_pool_new(&po, &l->pool, e)) != 0) {
		free(l);
		return rc;
	}
	if (pipe(l->wake) != 0)
		fatal("could not create a pipe: %s", strerror(errno));
	for (int i = 0; i < 2; i++)
		if (fcntl(l->wake[i], F_SETFD, FD_CLOEXEC) != 0 ||
		    fcntl(l->wake[i], F_SETFL, O_NONBLOCK) != 0)
			fatal("could not set up a pipe: %s", strerror(errno));
	vh_thread_start(&l->thread, "listener", listener_main, l);
	*out = l;
	return 0;
}

void
store_listener_wake(struct store_listener *l)
{
	if (l != NULL && write(l->wake[1], "x", 1) < 0 && errno != EAGAIN)
		log_msg(LOG_WARN, "changes", "could not wake the listener: %s",
			strerror(errno));
}

void
store_listener_stop(struct store_listener *l)
{
	if (l == NULL || !l->thread.running)
		return;
	vh_stop_request(&l->thread.stop);
	store_listener_wake(l);
	vh_thread_stop(&l->thread);
}

void
store_listener_free(struct store_listener *l)
{
	if (l == NULL)
		return;
	store_listener_stop(l);
	db_pool_free(l->pool);
	close(l->wake[0]);
	close(l->wake[1]);
	free(l);
}

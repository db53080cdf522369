"""vodhook serve through Debian's PgBouncer, as the README's operations
section says to put a connection pooler in front of PostgreSQL. Session
pooling with ignore_startup_parameters = options: migrations at start,
signed callbacks of both platforms stored, the API reads them, an upload job
through the emulator completes. Session pooling without it: PgBouncer
refuses the callback committer's connection (it sends `options`), so every
callback is spooled and then stored by the replay, nothing lost. Transaction
pooling: `serve` and `migrate` refuse at once with one line, before taking
the migration lock that such a pooler would leave held by no one, and `vodhook
check` fails on its database line."""
import os
import shutil
import subprocess
import unittest
import urllib.parse
import uuid

import harness as h
import test_002_callbacks as cb
import uploadlib as U
import vodevents as ve

EMU = None


def setUpModule():
    global EMU
    EMU = U.module_emu()


def tearDownModule():
    U.stop_emu(EMU)


class PgBouncer:
    """Debian's pgbouncer on a free loopback port in front of the suite's
    PostgreSQL, in the foreground (its log in work/pgbouncer.log)."""

    def __init__(self, mode, ignore="options"):
        exe = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        if not os.access(exe, os.X_OK):
            raise AssertionError("pgbouncer is not installed (deploy/deps.sh --test)")
        u = urllib.parse.urlsplit(h.BASE_URL)
        self.work = h.tmpdir("vodhook-pgbouncer-")
        os.chmod(self.work, 0o755)  # read by the postgres user, as root
        self.port = h.free_port()
        auth = os.path.join(self.work, "users.txt")
        with open(auth, "w") as f:
            f.write('"%s" ""\n' % u.username)
        conf = os.path.join(self.work, "pgbouncer.ini")
        with open(conf, "w") as f:
            f.write("[databases]\n* = host=%s port=%d\n[pgbouncer]\n"
                    "listen_addr = 127.0.0.1\nlisten_port = %d\nunix_socket_dir =\n"
                    "auth_type = trust\nauth_file = %s\npool_mode = %s\n"
                    "max_client_conn = 200\ndefault_pool_size = 40\n"
                    "ignore_startup_parameters = %s\n"
                    % (u.hostname, u.port, self.port, auth, mode, ignore))
        for p in (auth, conf):
            os.chmod(p, 0o644)
        self.log_path = os.path.join(self.work, "pgbouncer.log")
        self.log = open(self.log_path, "ab")
        # PgBouncer refuses to run as root.
        user = ["-u", "postgres"] if os.geteuid() == 0 else []
        self.proc = subprocess.Popen([exe] + user + [conf], stdout=self.log,
                                     stderr=subprocess.STDOUT)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("pgbouncer exited:\n" + self.logs())
            try:
                h.psql(self.url("postgres"), "SELECT 1")
                return True
            except AssertionError:
                return False
        h.wait_for(up, "pgbouncer to answer")

    def url(self, database_url):
        """database_url (or a database name) through this pooler."""
        if "/" not in database_url:
            database_url = h.db_url(h.BASE_URL, database_url)
        u = urllib.parse.urlsplit(database_url)
        netloc = "%s@127.0.0.1:%d" % (u.username, self.port)
        return urllib.parse.urlunsplit((u.scheme, netloc, u.path, "", ""))

    def logs(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=h.WAIT)
        self.log.close()


def count(url, sql, *args):
    return int(h.psql(url, sql, *args)[0][0])


def env(root, **extra):
    """Upload settings for the emulator, and the callback keys of test_002
    (the API token is uploadlib's)."""
    keys = {k: v for k, v in cb.daemon_env().items() if k != "VODHOOK_API_TOKEN"}
    keys.update(extra)
    return U.upload_env(EMU, root, keys)


class SessionPooling(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.pgb = PgBouncer("session")

    @classmethod
    def tearDownClass(cls):
        cls.pgb.stop()

    def setUp(self):
        self.root = U.tmpdir()
        self.db = h.fresh_database()

    def test_serve_callbacks_api_and_upload(self):
        with h.Daemon(self.pgb.url(self.db), env(self.root)) as d:
            # Migrated at start, through the pooler.
            self.assertRegex(d.logs(), r"\(([1-9]\d*) migration\(s\) applied now\)")
            self.assertGreater(count(self.db, "SELECT count(*) FROM schema_migrations"), 0)
            c = cb.Client(d)
            fid = "6" + str(uuid.uuid4().int)[:18]
            vid = "pgb-" + uuid.uuid4().hex
            st, _, body = c.tencent(ve.tencent_new_file_upload(fid))
            self.assertEqual((st, body["status"]), (200, "stored"), body)
            st, _, body = c.alibaba(ve.alibaba_event("FileUploadComplete", vid, Size=7,
                                                     FileUrl="http://o/v.mp4"))
            self.assertEqual((st, body["status"]), (200, "stored"), body)
            for provider, mid in (("tencent", fid), ("alibaba", vid)):
                st, _, m = d.client.json("GET", "/v1/media/%s/%s" % (provider, mid),
                                         headers=U.AUTH)
                self.assertEqual(st, 200, m)
                self.assertEqual(m["file_id"], mid)
            self.assertEqual(count(self.db, "SELECT count(*) FROM vod_events"), 2)
            # The committer's connection went through: the README's
            # PgBouncer setting drops its plan_cache_mode option.
            self.assertNotIn("unsupported startup parameter", d.logs())

            path, md5 = U.make_file(self.root, "pooled.mp4", 200 * 1024)
            uid = U.submit(self, d, "tencent", {"path": path, "name": "pooled"})["id"]
            doc = U.wait_state(d, uid, ("uploaded", "confirmed", "processing", "ready"))
            self.assertEqual(EMU.md5_size(doc["file_id"]), (md5, 200 * 1024))

    def test_options_refused_without_ignore_startup_parameters(self):
        # PgBouncer 1.18 refuses a client that sends the startup parameter
        # options unless it is in ignore_startup_parameters. The committer
        # sends it: each batch then goes to the spool, and the replay,
        # on a connection without it, stores it.
        pgb = PgBouncer("session", ignore="extra_float_digits")
        try:
            with h.Daemon(pgb.url(self.db), env(self.root)) as d:
                c = cb.Client(d)
                fids = ["6" + str(uuid.uuid4().int)[:18] for _ in range(5)]
                for fid in fids:
                    st, _, body = c.tencent(ve.tencent_new_file_upload(fid))
                    self.assertEqual((st, body["status"]), (200, "spooled"), body)
                h.wait_for(lambda: count(self.db, "SELECT count(*) FROM vod_events")
                           == len(fids), "the spooled callbacks to be stored")
                self.assertIn("unsupported startup parameter: options", d.logs())
        finally:
            pgb.stop()


class TransactionPooling(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.pgb = PgBouncer("transaction")

    @classmethod
    def tearDownClass(cls):
        cls.pgb.stop()

    def test_refused_at_start(self):
        db = h.fresh_database()
        url = self.pgb.url(db)
        want = ("a connection's transactions run in different server sessions "
                "(a pooler in transaction mode")
        for args in (["migrate"], ["serve"]):
            settings = {"VODHOOK_DATABASE_URL": url,
                        "VODHOOK_LISTEN": "127.0.0.1:%d" % h.free_port(),
                        "VODHOOK_SPOOL_DIR": os.path.join(h.tmpdir("vodhook-it-"), "spool"),
                        "VODHOOK_TENCENT_ALLOW_UNVERIFIED": "1"}
            r = h.run(args, settings, timeout=10)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
            self.assertIn(want, r.stderr)
        # vodhook check says so on its database line, and fails.
        r = h.run(["check"], {"VODHOOK_DATABASE_URL": url,
                              "VODHOOK_SPOOL_DIR": os.path.join(h.tmpdir("vodhook-it-"), "spool"),
                              "VODHOOK_TENCENT_ALLOW_UNVERIFIED": "1"}, timeout=10)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        line = [x for x in r.stdout.splitlines() if x.split()[1:2] == ["database"]]
        self.assertEqual(len(line), 1, r.stdout)
        self.assertIn(want, line[0])
        # Refused before anything was migrated or locked.
        self.assertEqual(count(db, "SELECT count(*) FROM pg_tables"
                                   " WHERE tablename = 'schema_migrations'"), 0)
        self.assertEqual(count(db, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                                   " AND database = (SELECT oid FROM pg_database"
                                   " WHERE datname = current_database())"), 0)


if __name__ == "__main__":
    unittest.main()

"""Starting while PostgreSQL is away: serve starts, spools verified callbacks,
answers 503 on /readyz with the reason, and migrates and replays once the
database is back; only a permanent error (credentials refused, a malformed
connection string, a database newer than the binary) stops start-up. And one
process per spool directory, by a lock. Real daemon, real PostgreSQL."""
import os
import re
import subprocess
import time
import unittest

import harness as h
import test_002_callbacks as cb


def readyz(d):
    st, _, body = d.client.json("GET", "/readyz")
    return st, (body or {}).get("error", {}).get("message", "")


def exited(d):
    return d.proc.poll() is not None


def one_line_exit(testcase, out):
    testcase.assertEqual(out.returncode, 1, out.stderr)
    lines = out.stderr.strip().splitlines()
    testcase.assertEqual(len(lines), 1, out.stderr)
    return lines[0]


class StartWithoutDatabase(unittest.TestCase):
    def setUp(self):
        h.require_env(self)

    def test_callbacks_spooled_until_the_database_starts(self):
        with cb.Cluster() as pg:
            pg.stop()
            # A role the server will refuse, once it answers: start-up waits
            # like the other, then stops on the refusal.
            bad_url = pg.url.replace("postgresql://vodhook@", "postgresql://nobody:pw@")
            refused = h.Daemon(bad_url, cb.daemon_env()).start()
            self.addCleanup(refused.stop)
            with h.Daemon(pg.url, cb.daemon_env()) as d:
                st, why = readyz(d)
                self.assertEqual(st, 503)
                self.assertIn("could not connect to database", why)
                acked = []
                cb.pump(d, 60, "early", acked)
                self.assertEqual(len(acked), 60)  # every one answered 200
                self.assertEqual(cb.metric(d, "vodhook_events_spooled_total"), 60)
                self.assertIsNone(refused.proc.poll(), refused.logs())

                pg.start()
                h.wait_for(lambda: readyz(d)[0] == 200, "the daemon to be ready")
                h.wait_for(lambda: cb.count(pg.url, "SELECT count(*) FROM vod_events") == 60,
                           "every spooled callback to be stored")
                self.assertEqual(
                    {r[0] for r in h.psql(pg.url, "SELECT file_id FROM vod_events"
                                                  " WHERE received_via = 'spool'")},
                    set(acked))
                cb.pump(d, 1, "late", acked)
                self.assertEqual(h.psql(pg.url, "SELECT received_via FROM vod_events"
                                                " WHERE file_id = 'late-0'"), [["push"]])
                self.assertIn("callbacks go to the spool until it is back", d.logs())
                self.assertIn("database is reachable", d.logs())

                self.wrong_password_exits_at_once(pg)

                h.wait_for(lambda: exited(refused), "the refused daemon to exit")
                rc = refused.stop()
                log = refused.logs()
                self.assertEqual(rc, 1, log)
                self.assertRegex(log, r"vodhook: database_url \(VODHOOK_DATABASE_URL\): "
                                      r"could not connect to database: .*FATAL: +role "
                                      r"\"nobody\" does not exist\n")
                self.assertNotIn("pw@", log)

    def wrong_password_exits_at_once(self, pg):
        """On pg (a cluster of the test's own, trusting everyone): a role
        that must give a password, and serve given a wrong one."""
        h.psql(pg.url, "CREATE ROLE pwuser LOGIN PASSWORD 'right'")
        hba = os.path.join(pg.dir, "data", "pg_hba.conf")
        with open(hba) as f:
            rules = f.read()
        with open(hba, "w") as f:
            f.write("host all pwuser 127.0.0.1/32 scram-sha-256\n" + rules)
        h.psql(pg.url, "SELECT pg_reload_conf()")
        url = pg.url.replace("postgresql://vodhook@", "postgresql://pwuser:wrong@")
        t0 = time.monotonic()
        out = h.run(["serve"], dict(cb.daemon_env(), VODHOOK_DATABASE_URL=url,
                                    VODHOOK_SPOOL_DIR=h.tmpdir("vodhook-spool-"),
                                    VODHOOK_LISTEN="127.0.0.1:%d" % h.free_port()))
        line = one_line_exit(self, out)
        self.assertRegex(line, r"^vodhook: database_url \(VODHOOK_DATABASE_URL\): could not "
                               r"connect to database: .*FATAL: +password authentication "
                               r"failed for user \"pwuser\"$")
        self.assertNotIn("wrong", line)
        self.assertLess(time.monotonic() - t0, 10)

    def test_stops_cleanly_while_waiting(self):
        url = "postgresql://vodhook@127.0.0.1:%d/x" % h.free_port()  # nothing there
        with h.Daemon(url, cb.daemon_env()) as d:
            st, why = readyz(d)
            self.assertEqual(st, 503)
            self.assertIn("could not connect to database", why)
            self.assertEqual(d.client.json("GET", "/v1/media",
                                           headers={"Authorization": "Bearer " +
                                                    cb.API_TOKEN})[0], 503)
        # stop_checked: SIGTERM while waiting for the database exits 0

    def test_permanent_errors_exit_1_at_once(self):
        listen = {"VODHOOK_TENCENT_ALLOW_UNVERIFIED": "1",
                  "VODHOOK_LISTEN": "127.0.0.1:%d" % h.free_port()}
        refused = h.db_url(h.BASE_URL, "postgres").replace("://vodhook@", "://nobody:pw@")
        malformed = "host=127.0.0.1 no_such_option=1"
        newer = h.fresh_database()
        self.assertEqual(h.run(["migrate"], {"VODHOOK_DATABASE_URL": newer}).returncode, 0)
        h.psql(newer, "INSERT INTO schema_migrations (version, name, sha256)"
                      " VALUES (99999, 'from the future', 'x')")
        cases = [(refused, r"database_url .*role \"nobody\" does not exist"),
                 (malformed, r"database_url is invalid: .*no_such_option"),
                 (newer, r"database has migration 99999, newer than this binary knows")]
        for url, pattern in cases:
            for cmd in (["serve"], ["migrate"]):
                t0 = time.monotonic()
                out = h.run(cmd, dict(listen, VODHOOK_DATABASE_URL=url), timeout=30)
                line = one_line_exit(self, out)
                self.assertRegex(line, pattern)
                self.assertNotIn("pw@", line)
                self.assertLess(time.monotonic() - t0, 10, (cmd, line))


class SpoolLock(unittest.TestCase):
    def setUp(self):
        h.require_env(self)

    def test_second_process_on_one_spool_refused(self):
        url = h.fresh_database()
        spool = h.tmpdir("vodhook-spool-")
        first = h.Daemon(url, cb.daemon_env(VODHOOK_SPOOL_DIR=spool)).start()
        self.addCleanup(first.stop)
        second = h.Daemon(url, cb.daemon_env(VODHOOK_SPOOL_DIR=spool))
        out = subprocess.run([h.BIN, "serve"], env=h.clean_env(second.env),
                             capture_output=True, text=True, timeout=60)
        line = one_line_exit(self, out)
        self.assertIn('spool_dir: "%s" is in use by another vodhook process (pid %d)'
                      % (spool, first.proc.pid), line)
        # The lock goes with the process, however it ends.
        first.kill()
        with h.Daemon(url, cb.daemon_env(VODHOOK_SPOOL_DIR=spool)) as again:
            self.assertEqual(readyz(again)[0], 200)
            with open(os.path.join(spool, "lock")) as f:
                self.assertEqual(f.read().strip(), str(again.proc.pid))


if __name__ == "__main__":
    unittest.main()

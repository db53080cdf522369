"""Foundation: configuration, migrations, health and readiness, HTTP basics,
start-up errors and clean shutdown, against the real daemon and PostgreSQL."""
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
import unittest
import unittest.mock

import harness as h


def unshare_flags():
    return ["--mount", "--propagation", "private"] if os.geteuid() == 0 else \
        ["--map-root-user", "--mount", "--propagation", "private"]


def can_give_a_root_of_its_own():
    if shutil.which("unshare") is None or shutil.which("chroot") is None:
        return False
    return subprocess.run(["unshare"] + unshare_flags() + ["true"],
                          capture_output=True).returncode == 0


# Runs the program given with root (a directory of the test's) as its root
# directory: in a mount namespace of its own, each top-level entry of the
# host's root is bound (or, for a link, copied) into root, whose other
# entries (a .htpasswd) stay its own. The mounts end with the namespace.
ROOT_WRAPPER = """#!/bin/sh
set -eu
PATH=/usr/sbin:/usr/bin:/sbin:/bin
root=%(root)s
if [ "${1:-}" != --in-namespace ]; then
    exec unshare %(flags)s "$0" --in-namespace "$@"
fi
shift
for e in /* /.[!.]*; do
    if [ ! -e "$e" ] && [ ! -L "$e" ] || [ -e "$root$e" ]; then
        continue
    fi
    if [ -L "$e" ]; then
        ln -s "$(readlink "$e")" "$root$e"
    elif [ -d "$e" ]; then
        mkdir "$root$e" && mount --rbind "$e" "$root$e"
    else
        : >"$root$e" && mount --bind "$e" "$root$e"
    fi
done
exec chroot "$root" /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$PWD" %(bin)s "$@"
"""


def root_wrapper(root):
    """A program that runs vodhook with root as its root directory."""
    path = os.path.join(os.path.dirname(root), "vodhook-in-root")
    with open(path, "w") as f:
        f.write(ROOT_WRAPPER % {"root": shlex.quote(root), "bin": shlex.quote(h.BIN),
                                "flags": " ".join(unshare_flags())})
    os.chmod(path, 0o755)
    return path


class Config(unittest.TestCase):
    def setUp(self):
        h.require_env(self)

    def test_example_file_documents_every_setting(self):
        out = h.run(["config", "--example"], {})
        self.assertEqual(out.returncode, 0, out.stderr)
        with open(os.path.join(h.SOURCE_DIR, "deploy", "vodhook.conf.example")) as f:
            self.assertEqual(f.read(), out.stdout,
                             "deploy/vodhook.conf.example differs from the settings "
                             "table: regenerate it with 'vodhook config --example'")

    def test_readme_lists_every_setting(self):
        out = h.run(["config", "--markdown"], {})
        with open(os.path.join(h.SOURCE_DIR, "README.md")) as f:
            readme = f.read()
        self.assertIn(out.stdout, readme,
                      "README.md's settings table differs from 'vodhook config --markdown'")

    def test_secrets_are_masked_and_files_read(self):
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write("from-a-file-token\n")
        out = h.run(["config"], {"VODHOOK_API_TOKEN_FILE": f.name,
                                 "VODHOOK_DATABASE_URL": "postgresql://u:hunter2@x/db",
                                 "VODHOOK_THREADS": "7"})
        os.unlink(f.name)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertNotIn("from-a-file-token", out.stdout + out.stderr)
        self.assertNotIn("hunter2", out.stdout + out.stderr)
        self.assertRegex(out.stdout, r"(?m)^api_token = \*{8}  # env$")
        self.assertRegex(out.stdout, r"(?m)^threads = 7  # env$")
        self.assertRegex(out.stdout, r"(?m)^listen = 127\.0\.0\.1:8080  # default$")

    def test_config_file_and_env_precedence(self):
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
            f.write("# comment\n\nthreads = 5\nlisten = \"127.0.0.1:9\"\n")
        out = h.run(["--config", f.name, "config"], {"VODHOOK_THREADS": "6"})
        os.unlink(f.name)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"(?m)^threads = 6  # env$")
        self.assertRegex(out.stdout, r"(?m)^listen = 127\.0\.0\.1:9  # file$")

    def test_bad_settings_stop_startup_with_a_clear_message(self):
        cases = [
            ({"VODHOOK_THREADS": "0"}, r"VODHOOK_THREADS: invalid value for \"threads\": expected an integer from 1 to 1024"),
            ({"VODHOOK_THREADS": "12abc"}, r"invalid value for \"threads\""),
            ({"VODHOOK_LISTNE": "x"}, r"VODHOOK_LISTNE: unknown setting"),
            ({"VODHOOK_LOG_LEVEL": "loud"}, r"log_level"),
            ({"VODHOOK_TENCENT_ALLOW_UNVERIFIED": "maybe"}, r"expected 1/0"),
        ]
        for env, pattern in cases:
            out = h.run(["serve"], env)
            self.assertEqual(out.returncode, 2, (env, out.stderr))
            self.assertRegex(out.stderr, pattern)
            self.assertEqual(len(out.stderr.strip().splitlines()), 1, out.stderr)

    def test_malformed_config_line_names_file_and_line(self):
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
            f.write("threads = 4\nthis line has no equals sign\n")
        out = h.run(["--config", f.name, "config"], {})
        self.assertEqual(out.returncode, 2)
        self.assertIn("%s:2: expected \"key = value\"" % f.name, out.stderr)
        with open(f.name, "w") as g:
            g.write("\n\nno_such_key = 1\n")
        out = h.run(["--config", f.name, "config"], {})
        os.unlink(f.name)
        self.assertEqual(out.returncode, 2)
        self.assertIn("%s:3: unknown setting \"no_such_key\"" % f.name, out.stderr)


class Database(unittest.TestCase):
    def setUp(self):
        h.require_env(self)

    def test_unreachable_database_one_line_exit_1(self):
        # serve waits for the database instead (test_045_database_away).
        port = h.free_port()  # nothing listens there
        for cmd in (["migrate"],):
            out = h.run(cmd, {"VODHOOK_DATABASE_URL":
                              "postgresql://vodhook:pw@127.0.0.1:%d/x" % port,
                              "VODHOOK_TENCENT_ALLOW_UNVERIFIED": "1",
                              "VODHOOK_LISTEN": "127.0.0.1:%d" % h.free_port()})
            self.assertEqual(out.returncode, 1, out.stderr)
            lines = out.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, out.stderr)
            self.assertIn("database_url", lines[0])
            self.assertIn("could not connect", lines[0])
            self.assertNotIn("pw@", lines[0])

    def test_missing_database_url(self):
        out = h.run(["migrate"], {})
        self.assertEqual(out.returncode, 1)
        self.assertIn("database_url is not set", out.stderr)

    def test_concurrent_migrations_apply_each_once(self):
        url = h.fresh_database()
        procs = [subprocess.Popen([h.BIN, "migrate"], env=h.clean_env(
            {"VODHOOK_DATABASE_URL": url}), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True) for _ in range(4)]
        for p in procs:
            _, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0, err)
        rows = h.psql(url, "SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY 1")
        self.assertGreaterEqual(len(rows), 1)
        for version, count in rows:
            self.assertEqual(count, "1", "migration %s recorded %s times" % (version, count))
        tables = {r[0] for r in h.psql(url, "SELECT tablename FROM pg_tables WHERE schemaname='public'")}
        self.assertTrue({"uploads", "upload_parts", "media", "vod_events",
                         "schema_migrations"} <= tables, tables)
        # Running it again applies nothing, and says so without the
        # server's notices (a newcomer should not have to read them).
        out = h.run(["migrate"], {"VODHOOK_DATABASE_URL": url})
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("0 migration(s) applied now", out.stderr)
        self.assertNotIn("NOTICE", out.stderr)

    def test_a_version_that_is_not_a_number_is_named(self):
        # schema_migrations altered by hand: a version that is not a number
        # stops the migration with an error naming it (it was read as 0, and
        # the migration went on as if nothing were wrong).
        url = h.fresh_database()
        out = h.run(["migrate"], {"VODHOOK_DATABASE_URL": url})
        self.assertEqual(out.returncode, 0, out.stderr)
        h.psql(url, "ALTER TABLE schema_migrations ALTER version TYPE text;"
                    " INSERT INTO schema_migrations (version, name, sha256)"
                    " VALUES ('x', 'tampered', '-')")
        out = h.run(["migrate"], {"VODHOOK_DATABASE_URL": url})
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertIn('vodhook: could not read schema_migrations.version: "x" is'
                      ' not an integer', out.stderr)

    def database_at(self, version, options=""):
        """A fresh database (CREATE DATABASE options) migrated up to schema
        version, recorded as vodhook's migrate records it."""
        url = h.fresh_database(options)
        schema = os.path.join(h.SOURCE_DIR, "schema")
        h.psql(url, "CREATE TABLE schema_migrations (version integer PRIMARY KEY,"
                    " name text NOT NULL, sha256 text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())")
        for name in sorted(os.listdir(schema)):
            if not name.endswith(".sql") or int(name[:3]) > version:
                continue
            with open(os.path.join(schema, name), "rb") as f:
                sql = f.read()
            h.psql(url, sql.decode())
            h.psql(url, "INSERT INTO schema_migrations VALUES (:'v1', :'v2', :'v3')",
                   int(name[:3]), name[:-4], hashlib.sha256(sql).hexdigest())
        return url

    def assert_refused(self, url, sql, constraint):
        """sql fails, and PostgreSQL's error names constraint."""
        out = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                             capture_output=True, text=True, timeout=60)
        self.assertNotEqual(out.returncode, 0, out.stdout)
        self.assertIn(constraint, out.stderr)

    def test_upgrade_to_the_event_key_keeps_every_event(self):
        # A database at schema 008 with events in it, as a running
        # installation has: 009 makes (dedup_key, provider) the primary key.
        url = self.database_at(8)
        h.psql(url, "INSERT INTO vod_events (provider, event_type, dedup_key, file_id,"
                    " received_via, raw) SELECT p, 'NewFileUpload', 'NewFileUpload:' || g,"
                    " g::text, 'push', '{}' FROM generate_series(1, 500) g,"
                    " unnest(ARRAY['tencent', 'alibaba']) p")
        before = h.psql(url, "SELECT id, provider, dedup_key FROM vod_events ORDER BY id")
        out = h.run(["migrate"], {"VODHOOK_DATABASE_URL": url})
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn('applied migration \\"009_event_key\\"', out.stderr)
        self.assertEqual(h.psql(url, "SELECT id, provider, dedup_key FROM vod_events"
                                     " ORDER BY id"), before)
        key = h.psql(url, "SELECT string_agg(a.attname, ',' ORDER BY k.n)"
                          " FROM pg_constraint c, unnest(c.conkey) WITH ORDINALITY k(att, n),"
                          " pg_attribute a WHERE c.conrelid = 'vod_events'::regclass"
                          " AND c.contype = 'p' AND a.attrelid = c.conrelid"
                          " AND a.attnum = k.att")
        self.assertEqual(key, [["dedup_key,provider"]])
        # The key still refuses a second copy of an event, and the statement
        # that skips stored events still finds it.
        self.assert_refused(url, "INSERT INTO vod_events (provider, event_type, dedup_key,"
                                 " received_via, raw) VALUES ('tencent', 'NewFileUpload',"
                                 " 'NewFileUpload:7', 'push', '{}')", "vod_events_pkey")
        self.assertEqual(h.psql(url, "INSERT INTO vod_events (provider, event_type,"
                                     " dedup_key, received_via, raw) VALUES ('tencent',"
                                     " 'NewFileUpload', 'NewFileUpload:7', 'push', '{}')"
                                     " ON CONFLICT (provider, dedup_key) DO NOTHING"
                                     " RETURNING id"), [])

    def test_upgrade_to_bytewise_ids_keeps_everything(self):
        # A database at schema 009 whose collation is a language's (ICU
        # en-US, as many servers are set up), with ids whose order there is
        # not their byte order: 010 makes every indexed id compare bytewise.
        url = self.database_at(9, "TEMPLATE template0 LOCALE_PROVIDER icu"
                                  " ICU_LOCALE 'en-US'")
        ids = ["a-1", "B-2", "b-3", "A-4", "_x", "Z"]
        h.psql(url, "INSERT INTO uploads (id, provider, state, source_kind, source,"
                    " file_id, url_job_id) SELECT gen_random_uuid(), 'alibaba', 'ready',"
                    " 'url', 'https://example.com/' || f, f, 'job-' || f"
                    " FROM unnest(string_to_array(:'v1', ',')) f", ",".join(ids))
        h.psql(url, "INSERT INTO media (provider, file_id, state, state_rank, upload_id)"
                    " SELECT provider, file_id, 'ready', 4, id FROM uploads")
        h.psql(url, "INSERT INTO vod_events (provider, event_type, dedup_key, file_id,"
                    " task_id, received_via, raw) SELECT provider, 'FileUploadComplete',"
                    " 'FileUploadComplete:' || file_id, file_id, url_job_id, 'push', '{}'"
                    " FROM uploads")
        tables = "('vod_events'::regclass, 'media'::regclass, 'uploads'::regclass)"
        rows = ["SELECT * FROM vod_events ORDER BY id",
                # (later migrations add columns: 011 source_version, 015 the
                # deletion's, 018 app_id)
                "SELECT to_jsonb(m) - 'app_id' - 'deleted_at' - 'delete_requested_at'"
                " - 'delete_error_code' - 'delete_error_message' FROM media m ORDER BY id",
                "SELECT to_jsonb(u) - 'source_version' - 'app_id' FROM uploads u ORDER BY id",
                "SELECT to_jsonb(l) - 'deleted_at' - 'delete_requested_at'"
                " FROM media_lifecycle l ORDER BY id",
                "SELECT oid, relfilenode FROM pg_class WHERE oid IN " + tables + " ORDER BY oid"]
        before = [h.psql(url, q) for q in rows]
        out = h.run(["migrate"], {"VODHOOK_DATABASE_URL": url})
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn('applied migration \\"010_id_collation\\"', out.stderr)
        # Every row kept, the view too, and no table rewritten.
        self.assertEqual([h.psql(url, q) for q in rows], before)
        # No index of these tables sorts text by a language's order.
        self.assertEqual(h.psql(url, "SELECT i.indexrelid::regclass, c.collname"
                                     " FROM pg_index i, unnest(i.indcollation) k(coll),"
                                     " pg_collation c WHERE i.indrelid IN " + tables +
                                     " AND c.oid = k.coll AND c.collname <> 'C'"), [])
        # The rebuilt indexes hold every row, in byte order (amcheck raises
        # an error on an index that does not).
        h.psql(url, "CREATE EXTENSION IF NOT EXISTS amcheck")
        checked = h.psql(url, "SELECT indexrelid::regclass, bt_index_check(indexrelid, true)"
                              " FROM pg_index WHERE indrelid IN " + tables)
        self.assertLessEqual({"vod_events_pkey", "vod_events_file_idx", "media_file_id_key",
                              "media_state_idx", "uploads_file_idx", "uploads_url_job_idx"},
                             {r[0] for r in checked})
        by_index = h.psql(url, "SET enable_seqscan = off; SET enable_sort = off;"
                               " SELECT file_id FROM media ORDER BY file_id, provider")
        self.assertEqual([r[0] for r in by_index], sorted(ids, key=str.encode))
        # The dedup key still refuses a second copy of an event.
        self.assert_refused(url, "INSERT INTO vod_events (provider, event_type, dedup_key,"
                                 " received_via, raw) VALUES ('alibaba', 'FileUploadComplete',"
                                 " 'FileUploadComplete:B-2', 'push', '{}')", "vod_events_pkey")


class Serve(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.url = h.fresh_database()

    def test_health_readiness_routes_and_shutdown(self):
        d = h.Daemon(self.url).start()
        try:
            c = d.client
            status, resp, body = c.json("GET", "/healthz")
            self.assertEqual(status, 200)
            self.assertEqual(body, {"status": "ok"})
            self.assertRegex(resp.getheader("X-Request-Id"), r"^[0-9a-f]{16}$")
            self.assertEqual(resp.getheader("Content-Type"), "application/json; charset=utf-8")

            status, resp, body = c.json("GET", "/readyz")
            self.assertEqual(status, 200, body)
            self.assertEqual(body["status"], "ready")

            # A caller's request id is kept when it is sane.
            status, resp, _ = c.json("GET", "/healthz", headers={"X-Request-Id": "abc-123"})
            self.assertEqual(resp.getheader("X-Request-Id"), "abc-123")

            status, resp, body = c.json("GET", "/no/such/thing")
            self.assertEqual(status, 404)
            self.assertEqual(body["error"]["code"], "not_found")
            self.assertTrue(body["request_id"])

            status, resp, body = c.json("DELETE", "/readyz")
            self.assertEqual(status, 405)
            self.assertEqual(body["error"]["code"], "method_not_allowed")
            self.assertEqual(resp.getheader("Allow"), "GET, HEAD")

            # Readiness follows the database: an unmigrated one is not ready.
            h.psql(self.url, "ALTER TABLE schema_migrations RENAME TO sm_away")
            try:
                status, _, body = c.json("GET", "/readyz")
                self.assertEqual(status, 503)
                self.assertIn("not migrated", body["error"]["message"])
            finally:
                h.psql(self.url, "ALTER TABLE sm_away RENAME TO schema_migrations")
            status, _, _ = c.json("GET", "/readyz")
            self.assertEqual(status, 200)

            # Keep-alive: many requests on one connection.
            for _ in range(50):
                self.assertEqual(c.request("GET", "/healthz")[0], 200)
        finally:
            rc = d.stop()
        self.assertEqual(rc, 0, d.logs())
        logs = d.logs()
        self.assertIn("received SIGTERM, shutting down", logs)
        self.assertRegex(logs, r"module=http req_id=abc-123 msg=\"method=GET path=/healthz status=200")
        self.assertRegex(logs, r"path=/no/such/thing status=404")
        self.assertNotIn("hunter2", logs)

    @unittest.skipUnless(can_give_a_root_of_its_own(),
                         "needs unshare and chroot, and mount namespaces (root, or user"
                         " namespaces)")
    def test_htpasswd_at_the_root_does_not_gate_routes(self):
        # For every request a handler serves, CivetWeb looks for "/.htpasswd"
        # at the file-system root, whatever document_root says, and when the
        # file is there demands digest credentials for every route. The
        # daemon runs with a root directory of its own that holds one, in the
        # test's temporary directory: nothing is written outside it.
        root = os.path.join(h.tmpdir("vodhook-root-"), "root")
        os.mkdir(root)
        with open(os.path.join(root, ".htpasswd"), "w") as f:
            f.write("user:localhost:0123456789abcdef0123456789abcdef\n")
        with unittest.mock.patch.object(h, "BIN", root_wrapper(root)):
            d = h.Daemon(self.url).start(wait_ready=False)

        def answer():
            try:
                return d.client.request("GET", "/healthz")[0]
            except OSError:
                return None
        try:
            self.assertEqual(h.wait_for(answer, "vodhook to answer /healthz"), 200)
            status, _, body = d.client.json("GET", "/v1/media")
            self.assertEqual(status, 403, body)  # vodhook's own answer
        finally:
            d.stop_checked()
            # The mounts were the namespace's own (private propagation) and
            # ended with it: the mount points are empty, or rmdir says so.
            for name in os.listdir(root):
                path = os.path.join(root, name)
                if os.path.isdir(path) and not os.path.islink(path):
                    os.rmdir(path)

    def test_sigint_stops_cleanly(self):
        d = h.Daemon(self.url).start()
        import signal
        rc = d.stop(signal.SIGINT)
        self.assertEqual(rc, 0, d.logs())
        self.assertIn("received SIGINT", d.logs())

    def test_stop_is_prompt(self):
        # CivetWeb's master thread sees a stop only between polls of its
        # listening socket, 2 s each, and a poll starts afresh after each
        # connection it accepts. A SIGTERM just after a new connection
        # took 2 s; vodhook wakes the poll, for each form of address.
        import signal
        import socket
        for host in ("127.0.0.1", "0.0.0.0"):
            d = h.Daemon(self.url)
            d.env["VODHOOK_LISTEN"] = "%s:%d" % (host, d.port)
            d.start(wait_ready=False)
            try:
                h.wait_for(lambda: "listening on" in d.logs(), "vodhook to listen on " + host)
                with socket.create_connection(("127.0.0.1", d.port)) as c:
                    c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    self.assertIn(b"200", c.recv(4096))
                t = time.monotonic()
                d.proc.send_signal(signal.SIGTERM)
                rc = d.proc.wait(h.WAIT)
                took = time.monotonic() - t
            finally:
                d.stop()
            self.assertEqual(rc, 0, d.logs())
            self.assertLess(took, 1.0, host)

    def test_port_in_use(self):
        d = h.Daemon(self.url).start()
        try:
            out = h.run(["serve"], {"VODHOOK_DATABASE_URL": self.url,
                                    "VODHOOK_TENCENT_ALLOW_UNVERIFIED": "1",
                                    "VODHOOK_LISTEN": "127.0.0.1:%d" % d.port})
            self.assertEqual(out.returncode, 1)
            self.assertIn("VODHOOK_LISTEN", out.stderr)
        finally:
            d.stop()


if __name__ == "__main__":
    unittest.main()

"""Callback receiver: verification, parsing, recording, deduplication,
delivery order, the spool while PostgreSQL is away, crash safety, and the
media query API; real daemon, real PostgreSQL, real HTTP."""
import contextlib
import hashlib
import http.client
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import unittest
import urllib.parse
import uuid

import harness as h
import vodevents as ve

SIGN_KEY = "SignKeyForTests1"
TOKEN = "tok3n-for-the-path"
ALI_KEY = "AliKeyForTests1"
API_TOKEN = "api-token-for-tests"


# For a test that holds the committer on a table lock: more time than the
# lock is held, lest the batch be spooled for missing its deadline.
LOCK_HELD = {"VODHOOK_CALLBACK_DB_TIMEOUT_MS": "60000"}


def daemon_env(**extra):
    env = {"VODHOOK_TENCENT_SIGN_KEY": SIGN_KEY,
           "VODHOOK_ALIBABA_CALLBACK_KEY": ALI_KEY,
           "VODHOOK_API_TOKEN": API_TOKEN,
           "VODHOOK_CALLBACK_MAX_BYTES": "65536"}
    env.update(extra)
    return env


class Client:
    """Sends correctly signed callbacks to one daemon."""

    def __init__(self, d):
        self.d = d
        self.c = d.client
        self.auth = {"Authorization": "Bearer " + API_TOKEN}

    def tencent(self, ev, t=None, path="/callbacks/tencent", in_query=False):
        t = int(time.time()) + 600 if t is None else t
        sign = ve.tencent_sign(SIGN_KEY, t)
        if in_query:
            return self.c.json("POST", "%s?sign=%s&t=%d" % (path, sign, t), ve.body(ev))
        ev = dict(ev, Sign=sign, T=t)
        return self.c.json("POST", path, ve.body(ev))

    def alibaba(self, ev, ts=None, key=ALI_KEY, raw=None):
        url = "http://127.0.0.1:%d/callbacks/alibaba" % self.d.port
        return self.c.json("POST", "/callbacks/alibaba",
                           raw if raw is not None else ve.body(ev),
                           ve.alibaba_headers(url, key, ts))

    def media(self, provider, file_id):
        return self.c.json("GET", "/v1/media/%s/%s" % (provider, file_id),
                           headers=self.auth)


def count(url, sql, *args):
    return int(h.psql(url, sql, *args)[0][0])


class Verification(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.url = h.fresh_database()
        cls.d = h.Daemon(cls.url, daemon_env()).start()
        cls.cl = Client(cls.d)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop_checked()

    def events(self):
        return count(self.url, "SELECT count(*) FROM vod_events")

    def test_tencent_signed_in_body_and_in_query(self):
        fid = str(uuid.uuid4().int)[:19]
        st, _, body = self.cl.tencent(ve.tencent_new_file_upload(fid))
        self.assertEqual((st, body["status"]), (200, "stored"), body)
        st, _, body = self.cl.tencent(ve.tencent_procedure(fid, "t-" + fid, "PROCESSING"), in_query=True)
        self.assertEqual((st, body["status"]), (200, "stored"), body)

    def test_tencent_rejections_store_nothing(self):
        before = self.events()
        fid = "9" + str(uuid.uuid4().int)[:18]
        ev = ve.tencent_new_file_upload(fid)
        t = int(time.time()) + 600
        cases = [
            (dict(ev, Sign="0" * 32, T=t), 401),                       # wrong signature
            (dict(ev, T=t), 401),                                      # Sign missing
            (ev, 401),                                                 # nothing
            (dict(ev, Sign=ve.tencent_sign(SIGN_KEY, t - 1200), T=t - 1200), 401),  # expired T
        ]
        for body, status in cases:
            st, _, resp = self.cl.c.json("POST", "/callbacks/tencent", ve.body(body))
            self.assertEqual(st, status, resp)
            self.assertEqual(resp["error"]["code"], "unauthorized")
        # malformed JSON, unrecognisable body
        st, _, resp = self.cl.c.json("POST", "/callbacks/tencent", b"{not json")
        self.assertEqual(st, 400)
        st, _, resp = self.cl.tencent({"Hello": "world"})
        self.assertEqual(st, 400, resp)
        self.assertEqual(self.events(), before)

    def test_oversized_bodies_413(self):
        before = self.events()
        fid = "8" + str(uuid.uuid4().int)[:18]
        big = dict(ve.tencent_new_file_upload(fid), Padding="x" * 70000)
        st, _, resp = self.cl.tencent(big)
        self.assertEqual(st, 413, resp)
        # chunked: no Content-Length, so the cap must hold while reading
        payload = ve.body(big)
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=h.WAIT) as s:
            req = (b"POST /callbacks/alibaba HTTP/1.1\r\nHost: x\r\n"
                   b"Transfer-Encoding: chunked\r\n")
            hdrs = ve.alibaba_headers("http://x/callbacks/alibaba", ALI_KEY)
            for k, v in hdrs.items():
                req += ("%s: %s\r\n" % (k, v)).encode()
            s.sendall(req + b"\r\n")
            try:
                for i in range(0, len(payload), 4096):
                    chunk = payload[i:i + 4096]
                    s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                s.sendall(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may stop reading once past the cap
            resp = s.recv(4096).decode(errors="replace")
        self.assertTrue(resp.startswith("HTTP/1.1 413"), resp)
        self.assertEqual(self.events(), before)

    def post_chunked(self, path, headers, payload, size=7):
        """POST payload in chunks of size bytes; the status code."""
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=h.WAIT) as s:
            req = (b"POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                   b"Transfer-Encoding: chunked\r\n" % (path.encode(), self.d.port))
            for k, v in headers.items():
                req += ("%s: %s\r\n" % (k, v)).encode()
            s.sendall(req + b"\r\n")
            for i in range(0, len(payload), size):
                chunk = payload[i:i + size]
                s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            s.sendall(b"0\r\n\r\n")
            resp = s.makefile("rb").readline().decode()
        return int(resp.split()[1])

    def test_chunked_bodies_accepted(self):
        # A body under the cap read chunk by chunk, with the signature
        # checked on the bytes reassembled: both providers store it.
        fid = "8" + str(uuid.uuid4().int)[:18]
        t = int(time.time()) + 600
        tev = dict(ve.tencent_new_file_upload(fid), Sign=ve.tencent_sign(SIGN_KEY, t), T=t)
        self.assertEqual(self.post_chunked("/callbacks/tencent", {}, ve.body(tev)), 200)
        vid = "chunked-" + uuid.uuid4().hex
        url = "http://127.0.0.1:%d/callbacks/alibaba" % self.d.port
        aev = ve.alibaba_event("FileUploadComplete", vid, Size=1)
        self.assertEqual(self.post_chunked("/callbacks/alibaba", ve.alibaba_headers(url, ALI_KEY),
                                           ve.body(aev)), 200)
        got = h.psql(self.url, "SELECT provider, raw FROM vod_events WHERE file_id IN (:'v1', :'v2')"
                               " ORDER BY provider", fid, vid)
        self.assertEqual(got, [["alibaba", ve.body(aev).decode()],
                               ["tencent", ve.body(tev).decode()]])

    def test_unquoted_id_beyond_a_double(self):
        # 2^53 + 1 sent as a bare JSON number: a double would make it
        # ...992; the id must be kept digit for digit.
        fid = 9007199254740993
        st, _, resp = self.cl.tencent(ve.tencent_new_file_upload(fid))
        self.assertEqual(st, 200, resp)
        st, _, m = self.cl.media("tencent", str(fid))
        self.assertEqual(st, 200, m)
        self.assertEqual(m["file_id"], "9007199254740993")
        self.assertEqual(count(self.url, "SELECT count(*) FROM vod_events"
                                         " WHERE file_id = '9007199254740993'"), 1)

    def test_alibaba_verification(self):
        before = self.events()
        vid = uuid.uuid4().hex
        ev = ve.alibaba_event("FileUploadComplete", vid, Size=10, FileUrl="http://a/b.mp4")
        st, _, resp = self.cl.alibaba(ev, key="wrong-key")
        self.assertEqual(st, 401, resp)
        self.assertIn("signature", resp["error"]["message"])
        st, _, resp = self.cl.alibaba(ev, ts=int(time.time()) - 1000)
        self.assertEqual(st, 401, resp)
        self.assertIn("stale", resp["error"]["message"])
        st, _, resp = self.cl.c.json("POST", "/callbacks/alibaba", ve.body(ev))
        self.assertEqual(st, 401, resp)
        st, _, resp = self.cl.alibaba(None, raw=b"[1,2")
        self.assertEqual(st, 400, resp)
        st, _, resp = self.cl.alibaba(None, raw=b'{"EventType":"FileUploadComplete","VideoId":"\xff\xfe"}')
        self.assertEqual(st, 400, resp)
        self.assertEqual(self.events(), before)
        st, _, resp = self.cl.alibaba(ev)
        self.assertEqual((st, resp["status"]), (200, "stored"), resp)
        # behind a proxy the configured public URL is what was signed
        self.assertEqual(self.events(), before + 1)

    def test_rejections_are_counted_and_logged_without_secrets(self):
        self.cl.c.json("POST", "/callbacks/tencent", b'{"EventType":"NewFileUpload","Sign":"00","T":1}')
        st, _, text = self.cl.c.request("GET", "/metrics")
        self.assertEqual(st, 200)
        self.assertRegex(text.decode(), r'vodhook_callbacks_rejected_total\{provider="tencent",reason="unauthorized"\} [1-9]')
        logs = self.d.logs()
        self.assertIn("rejected tencent callback", logs)
        for secret in (SIGN_KEY, ALI_KEY, API_TOKEN):
            self.assertNotIn(secret, logs)


class TokenPath(unittest.TestCase):
    def setUp(self):
        h.require_env(self)

    def test_token_in_path_required(self):
        url = h.fresh_database()
        with h.Daemon(url, {"VODHOOK_TENCENT_CALLBACK_TOKEN": TOKEN,
                            "VODHOOK_TENCENT_ALLOW_UNVERIFIED": "0"}) as d:
            ev = ve.body(ve.tencent_new_file_upload("123"))
            self.assertEqual(d.client.json("POST", "/callbacks/tencent", ev)[0], 401)
            self.assertEqual(d.client.json("POST", "/callbacks/tencent/wrong", ev)[0], 401)
            st, _, body = d.client.json("POST", "/callbacks/tencent/" + TOKEN, ev)
            self.assertEqual((st, body["status"]), (200, "stored"))
            self.assertNotIn(TOKEN, d.logs())

    def test_refuses_to_start_unverified(self):
        out = h.run(["serve"], {"VODHOOK_DATABASE_URL": h.fresh_database(),
                                "VODHOOK_LISTEN": "127.0.0.1:%d" % h.free_port()})
        self.assertEqual(out.returncode, 2)
        self.assertIn("VODHOOK_TENCENT_ALLOW_UNVERIFIED", out.stderr)


class Recording(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.url = h.fresh_database()
        # No upload workers: the uploads these tests insert stand for
        # transfers made elsewhere, and a worker polling the queue would
        # claim one (its file does not exist) and fail it whenever the
        # callbacks take longer than a poll, as under ThreadSanitizer.
        cls.d = h.Daemon(cls.url, daemon_env(VODHOOK_UPLOAD_WORKERS="0")).start()
        cls.cl = Client(cls.d)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop_checked()

    def test_schema_refuses_undocumented_values(self):
        # The enumerated columns are domains (schema 008): each refuses a
        # value outside its set, and the documented values pass.
        bad = [
            "INSERT INTO media (provider, file_id, state, state_rank)"
            " VALUES ('youtube', 'f', 'confirmed', 2)",
            "INSERT INTO media (provider, file_id, state, state_rank)"
            " VALUES ('tencent', 'f', 'done', 2)",
            "INSERT INTO media (provider, file_id, state, state_rank)"
            " VALUES ('tencent', 'f', 'confirmed', 6)",
            "INSERT INTO vod_events (provider, event_type, dedup_key, received_via, raw)"
            " VALUES ('alibaba', 'X', 'k', 'email', '{}')",
            "INSERT INTO uploads (id, provider, source_kind, source, state)"
            " VALUES (gen_random_uuid(), 'tencent', 'file', '/x', 'lost')",
            "INSERT INTO uploads (id, provider, source_kind, source)"
            " VALUES (gen_random_uuid(), 'tencent', 'disk', '/x')",
            "INSERT INTO uploads (id, provider, source_kind, source, media_kind)"
            " VALUES (gen_random_uuid(), 'tencent', 'file', '/x', 'audio')",
        ]
        for sql in bad:
            with self.assertRaisesRegex(AssertionError, "violates check constraint"):
                h.psql(self.url, "BEGIN; %s; ROLLBACK;" % sql)
        h.psql(self.url, "BEGIN; INSERT INTO media (provider, file_id, state, state_rank)"
                         " VALUES ('alibaba', 'f', 'processing', 3); ROLLBACK;")
        h.psql(self.url, "BEGIN; INSERT INTO media (provider, file_id, state, state_rank)"
                         " VALUES ('alibaba', 'f', 'deleted', 5); ROLLBACK;")

    def test_duplicates_stored_once(self):
        fid = "7" + str(uuid.uuid4().int)[:18]
        ev = ve.tencent_new_file_upload(fid, procedure_task_id="p-" + fid)
        statuses = [self.cl.tencent(ev)[2]["status"] for _ in range(3)]
        self.assertEqual(statuses, ["stored", "duplicate", "duplicate"])
        # concurrent duplicates too
        ev2 = ve.tencent_procedure(fid, "p-" + fid, "PROCESSING")
        results = []

        def send():
            c = Client(self.d)
            c.c = h.HttpClient(self.d.port)
            st, _, body = c.tencent(ev2)
            results.append((st, body.get("status")))
            c.c.close()
        threads = [threading.Thread(target=send) for _ in range(8)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        # Several of them share a batch: the first try of the batch fails
        # on the repeated key, and the batch goes again skipping it.
        self.assertEqual(sorted(results), [(200, "duplicate")] * 7 + [(200, "stored")])
        self.assertEqual(count(self.url, "SELECT count(*) FROM vod_events WHERE file_id = :'v1'", fid), 2)

    def test_every_order_ends_in_the_same_state(self):
        states = set()
        for order in itertools.permutations(range(3)):
            fid = "6" + str(uuid.uuid4().int)[:18]
            task = "proc-" + fid
            evs = [ve.tencent_new_file_upload(fid, procedure_task_id=task),
                   ve.tencent_procedure(fid, task, "PROCESSING"),
                   ve.tencent_procedure(fid, task, "FINISH")]
            for i in order:
                st, _, body = self.cl.tencent(evs[i])
                self.assertEqual(st, 200, body)
            st, _, m = self.cl.media("tencent", fid)
            self.assertEqual(st, 200, m)
            states.add((m["state"], m["procedure_task_id"] == task,
                        m["media_url"] is not None,
                        all(m["transitions"][k] for k in ("confirmed", "processing", "ready")),
                        len(m["events"])))
        self.assertEqual(states, {("ready", True, True, True, 3)})

    def test_failure_and_no_move_back(self):
        fid = "5" + str(uuid.uuid4().int)[:18]
        task = "proc-" + fid
        self.cl.tencent(ve.tencent_new_file_upload(fid, procedure_task_id=task))
        self.cl.tencent(ve.tencent_procedure(fid, task, "FINISH", err_code=10010, message="transcode failed"))
        self.cl.tencent(ve.tencent_procedure(fid, task, "PROCESSING"))  # late
        m = self.cl.media("tencent", fid)[2]
        self.assertEqual(m["state"], "failed")
        self.assertTrue(m["error_code"])
        self.assertEqual(len(m["events"]), 3)

    def test_alibaba_lifecycle_and_extend_links_upload(self):
        upload = str(uuid.uuid4())
        # Leased elsewhere, so that this daemon's workers do not claim the
        # job and fail it (there is no /x.mp4) before the callbacks come.
        h.psql(self.url, "INSERT INTO uploads (id, provider, source_kind, source, procedure,"
               " lease_owner, lease_expires_at) VALUES (:'v1', 'alibaba', 'file', '/x.mp4',"
               " 'tg-1', 'another-instance', now() + interval '1 hour')", upload)
        vid = uuid.uuid4().hex
        extend = json.dumps({"vh": upload, "ctx": "mine"})
        for ev in (ve.alibaba_event("FileUploadComplete", vid, Size=5, FileUrl="http://o/v.mp4", extend=extend),
                   ve.alibaba_event("StreamTranscodeComplete", vid, Definition="LD", extend=extend),
                   ve.alibaba_event("TranscodeComplete", vid, extend=extend)):
            st, _, body = self.cl.alibaba(ev)
            self.assertEqual(st, 200, body)
        m = self.cl.media("alibaba", vid)[2]
        self.assertEqual(m["state"], "ready")
        self.assertEqual(m["upload_id"], upload)
        self.assertEqual(m["upload"]["state"], "ready")
        self.assertEqual(h.psql(self.url, "SELECT state FROM uploads WHERE id = :'v1'", upload), [["ready"]])

    def test_api_auth_and_listing(self):
        c = self.cl.c
        self.assertEqual(c.json("GET", "/v1/media")[0], 401)
        self.assertEqual(c.json("GET", "/v1/media", headers={"Authorization": "Bearer nope"})[0], 401)
        st, _, m = self.cl.media("tencent", "does-not-exist")
        self.assertEqual(st, 404)
        for _ in range(5):
            self.cl.tencent(ve.tencent_new_file_upload("4" + str(uuid.uuid4().int)[:18]))
        seen, cursor = [], None
        while True:
            path = "/v1/media?provider=tencent&limit=2" + ("&cursor=" + cursor if cursor else "")
            st, _, page = c.json("GET", path, headers=self.cl.auth)
            self.assertEqual(st, 200, page)
            seen += [i["file_id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        total = count(self.url, "SELECT count(*) FROM media WHERE provider = 'tencent'")
        self.assertEqual(len(seen), total)
        self.assertEqual(len(set(seen)), total)
        # the state filter, against the table (other tests add media too):
        # each state lists exactly its media, together all of them
        listed = set()
        for state in ("uploaded", "confirmed", "processing", "ready", "failed"):
            st, _, page = c.json("GET", "/v1/media?provider=tencent&limit=500&state=" + state,
                                 headers=self.cl.auth)
            self.assertEqual(st, 200, page)
            want = {r[0] for r in h.psql(self.url, "SELECT file_id FROM media WHERE"
                                                   " provider = 'tencent' AND state = :'v1'", state)}
            got = {i["file_id"] for i in page["items"]}
            self.assertEqual(got, want, state)
            self.assertLessEqual({i["state"] for i in page["items"]}, {state})
            listed |= got
        self.assertLessEqual(set(seen), listed)
        st, _, page = c.json("GET", "/v1/media?state=bogus", headers=self.cl.auth)
        self.assertEqual(st, 400)
        # since: an RFC 3339 date-time, checked by vodhook; the answer says
        # what is expected, never in PostgreSQL's words
        for bad in ("yesterday-ish", "notadate", "2026-01-02", "2026-02-30T00:00:00Z",
                    "2026-01-02T03:04:05"):
            st, _, page = c.json("GET", "/v1/media?since=" + urllib.parse.quote(bad),
                                 headers=self.cl.auth)
            self.assertEqual(st, 400, (bad, page))
            self.assertEqual(page["error"]["code"], "invalid_input")
            msg = page["error"]["message"]
            self.assertIn("since", msg)
            self.assertIn("RFC 3339", msg)
            self.assertNotIn("syntax", msg)
            self.assertNotIn("timestamp with time zone", msg)
        # a valid one filters on updated_at, whatever its offset (+16:00 is
        # past PostgreSQL's own limit for an offset, and valid RFC 3339)
        fmt = 'YYYY-MM-DD"T"HH24:MI:SS.US'
        fid, utc, cst, later = h.psql(self.url, (
            "SELECT file_id, to_char(updated_at AT TIME ZONE 'UTC', :'v1') || 'Z',"
            " to_char((updated_at AT TIME ZONE 'UTC') + interval '8 hours', :'v1')"
            "  || '+08:00',"
            " to_char((updated_at + interval '1 microsecond') AT TIME ZONE"
            "  'UTC', :'v1') || 'Z'"
            " FROM media ORDER BY updated_at DESC LIMIT 1"), fmt)[0]
        for since, listed in ((utc, True), (cst, True), (later, False),
                              ("2000-01-02T03:04:05+16:00", None)):
            st, _, page = c.json("GET", "/v1/media?limit=500&since=" + urllib.parse.quote(since),
                                 headers=self.cl.auth)
            self.assertEqual(st, 200, (since, page))
            if listed is not None:
                self.assertEqual(fid in [i["file_id"] for i in page["items"]], listed, since)
        fid = seen[0]
        st, _, evs = c.json("GET", "/v1/media/tencent/%s/events" % fid, headers=self.cl.auth)
        self.assertEqual(st, 200)
        self.assertEqual(evs[0]["event_type"], "NewFileUpload")

    def test_api_disabled_without_token(self):
        url = h.fresh_database()
        with h.Daemon(url) as d:
            st, _, body = d.client.json("GET", "/v1/media", headers={"Authorization": "Bearer x"})
            self.assertEqual(st, 403)
            self.assertIn("VODHOOK_API_TOKEN", body["error"]["message"])


class ReadmeSql(unittest.TestCase):
    def test_readme_queries_run(self):
        h.require_env(self)
        url = h.fresh_database()
        with h.Daemon(url, daemon_env()) as d:
            cl = Client(d)
            fid = "3" + str(uuid.uuid4().int)[:18]
            cl.tencent(ve.tencent_new_file_upload(fid, procedure_task_id="p"))
            cl.tencent(ve.tencent_procedure(fid, "p", "FINISH"))
            with open(os.path.join(h.SOURCE_DIR, "README.md")) as f:
                readme = f.read()
            start = readme.index("## Query with SQL")
            blocks = readme[start:].split("```sql")[1:]
            self.assertGreaterEqual(len(blocks), 3)
            for b in blocks:
                sql = b.split("```")[0]
                h.psql(url, sql)  # fails the test on any SQL error
            rows = h.psql(url, "SELECT state FROM media_lifecycle WHERE file_id = :'v1'", fid)
            self.assertEqual(rows, [["ready"]])


def new_video(vid, size=0, **extra):
    """A new Alibaba video's FileUploadComplete."""
    return ve.alibaba_event("FileUploadComplete", vid, Size=size, FileUrl="http://o/%s" % vid,
                            **extra)


def post(c, ev):
    """POST one signed Alibaba callback on c, a connection of its own (the
    Client's is not for threads); its status."""
    url = "http://127.0.0.1:%d/callbacks/alibaba" % c.port
    return c.request("POST", "/callbacks/alibaba", ve.body(ev),
                     ve.alibaba_headers(url, ALI_KEY))[0]


def send(d, ev, acked):
    """Send one Alibaba callback; its VideoId (or JobId) to acked if acknowledged."""
    c = h.HttpClient(d.port)
    try:
        st = post(c, ev)
    finally:
        c.close()
    if st == 200:
        acked.append(ev.get("VideoId", ev.get("JobId")))


def pump(d, n, prefix, acked, stop_early=None):
    """Send n unique Alibaba callbacks on one connection, recording acks."""
    c = h.HttpClient(d.port)
    for i in range(n):
        vid = "%s-%d" % (prefix, i)
        try:
            st = post(c, new_video(vid, size=i))
        except OSError:
            break
        if st == 200:
            acked.append(vid)
        if stop_early is not None and stop_early.is_set():
            break
    c.close()


class Cluster:
    """A PostgreSQL server of a test's own, to stop and start."""

    def __init__(self):
        self.dir = h.tmpdir("vodhook-pg-")
        os.chmod(self.dir, 0o755)
        self.pg = os.path.join(h.SOURCE_DIR, "deploy", "pg.sh")
        self.env = dict(os.environ, PG_OPTS="-c fsync=off")
        self.url = self.start()

    def start(self):
        return subprocess.run([self.pg, "start", self.dir], env=self.env, capture_output=True,
                              text=True, check=True).stdout.strip()

    def stop(self):
        subprocess.run([self.pg, "stop", self.dir], check=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def spool_records(data):
    """The (provider, via, body) records of a spool file's bytes."""
    out, pos = [], 0
    while pos < len(data):
        nl = data.index(b"\n", pos)
        magic, prov, via, n, md5 = data[pos:nl].split()
        body = data[nl + 1:nl + 1 + int(n)]
        if magic != b"VH1" or hashlib.md5(body).hexdigest().encode() != md5:
            raise AssertionError("damaged spool record at %d" % pos)
        out.append((int(prov), int(via), body))
        pos = nl + 1 + int(n) + 1
    return out


@contextlib.contextmanager
def events_table_locked(url):
    """Hold an EXCLUSIVE lock on the database's vod_events (writes wait, reads
    go on) from a psql session: the block runs once it is granted."""
    lock = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        lock.stdin.write("BEGIN; LOCK TABLE vod_events IN EXCLUSIVE MODE;\n")
        lock.stdin.flush()
        h.wait_for(lambda: count(url, "SELECT count(*) FROM pg_locks l JOIN pg_class c"
                                      " ON c.oid = l.relation WHERE c.relname = 'vod_events'"
                                      " AND l.database = (SELECT oid FROM pg_database"
                                      "  WHERE datname = current_database())"
                                      " AND l.mode = 'ExclusiveLock' AND l.granted") == 1,
                   "the table lock")
        yield
    finally:
        lock.stdin.write("COMMIT;\n")
        lock.stdin.close()
        lock.wait(timeout=30)


def metric(d, name):
    text = d.client.request("GET", "/metrics")[2].decode()
    return int(float(re.search(r"^%s (\S+)$" % name, text, re.M).group(1)))


class Durability(unittest.TestCase):
    def setUp(self):
        h.require_env(self)

    def test_database_stopped_mid_stream(self):
        with Cluster() as pg:
            url = pg.url
            # Two batches in flight: a commit can be cut off with the next
            # batch queued behind it.
            with h.Daemon(url, daemon_env()) as d:
                acked = []
                pump(d, 150, "a", acked)
                pg.stop()
                pump(d, 150, "b", acked)      # database away: spooled
                self.assertEqual(len(acked), 300)
                st, _, text = d.client.request("GET", "/metrics")
                self.assertRegex(text.decode(), r"vodhook_events_spooled_total [1-9]")
                st, _, body = d.client.json("GET", "/readyz")
                self.assertEqual(st, 503)
                pg.start()
                # Ready again once the pool's back-off has let it reconnect;
                # from then on events go straight to the database.
                h.wait_for(lambda: d.client.json("GET", "/readyz")[0] == 200,
                           "the daemon to see the database again")
                pump(d, 100, "c", acked)
                h.wait_for(lambda: count(url, "SELECT count(*) FROM vod_events") == 400,
                           "every acknowledged event to reach the database")
                stored = {r[0] for r in h.psql(url, "SELECT file_id FROM vod_events")}
                self.assertEqual(stored, set(acked))
                spooled = {r[0] for r in h.psql(
                    url, "SELECT file_id FROM vod_events WHERE received_via = 'spool'")}
                self.assertEqual(spooled, {"b-%d" % i for i in range(150)})
                self.assertEqual(count(url, "SELECT count(*) FROM media WHERE state = 'confirmed'"), 400)

    def test_ready_means_callbacks_reach_the_database(self):
        # The committer has a connection of its own, and after failed
        # attempts it waits (doubling, up to 4 s) before the next, sending
        # callbacks to the spool meanwhile even with the database back.
        # /readyz says ready only once that wait is over, not as soon as
        # the API's pool reaches the database: the first callback after
        # it goes straight to the database. (Before, it went to the spool
        # whenever the committer's wait outlasted the pool's: seen in
        # test_database_stopped_mid_stream.) The callbacks below, 50 ms
        # apart for 4 s with the database away, bring the committer's wait
        # to 4 s.
        with Cluster() as pg, h.Daemon(pg.url, daemon_env()) as d:
            pg.stop()
            acked = []
            t_end = time.time() + 4
            i = 0
            while time.time() < t_end:
                pump(d, 1, "down%d" % i, acked)
                i += 1
                time.sleep(0.05)  # pacing the load, not awaiting a state
            pg.start()
            reasons = set()

            def ready():
                st, _, body = d.client.json("GET", "/readyz")
                if st != 200:
                    reasons.add(body["error"]["message"].split(":")[0])
                return st == 200
            h.wait_for(ready, "the daemon to be ready again", interval=0.01)
            pump(d, 1, "up", acked)
            self.assertEqual(h.psql(pg.url, "SELECT received_via FROM vod_events"
                                    " WHERE file_id = 'up-0'"), [["push"]], reasons)
            self.assertEqual(len(acked), i + 1)

    def test_neither_database_nor_spool(self):
        # 503 only when neither can take the event: the platform keeps it
        # and delivers it again.
        spool = h.tmpdir("vodhook-spool-")
        with Cluster() as pg, \
                h.Daemon(pg.url, daemon_env(VODHOOK_SPOOL_DIR=spool)) as d:
            pg.stop()
            os.unlink(os.path.join(spool, "lock"))  # still held, by its open file
            os.rmdir(spool)  # the spool's file cannot be created
            c = h.HttpClient(d.port)
            cb_url = "http://127.0.0.1:%d/callbacks/alibaba" % d.port
            ev = ve.alibaba_event("FileUploadComplete", "lost-0", Size=1)
            st, _, body = c.request("POST", "/callbacks/alibaba", ve.body(ev),
                                    ve.alibaba_headers(cb_url, ALI_KEY))
            self.assertEqual(st, 503, body)
            self.assertEqual(metric(d, "vodhook_events_failed_total"), 1)
            self.assertEqual(metric(d, "vodhook_events_spooled_total"), 0)
            # With the spool back, the same delivery is taken (spooled).
            os.mkdir(spool)
            st, _, body = c.request("POST", "/callbacks/alibaba", ve.body(ev),
                                    ve.alibaba_headers(cb_url, ALI_KEY))
            self.assertEqual(st, 200, body)
            c.close()
            self.assertEqual(metric(d, "vodhook_events_spooled_total"), 1)
            pg.start()
            h.wait_for(lambda: count(pg.url, "SELECT count(*) FROM vod_events"
                                             " WHERE file_id = 'lost-0'") == 1,
                       "the spooled event to be replayed")

    def test_database_gone_silent(self):
        # A database that stops answering without closing anything (a
        # network partition, a hung host): each callback is still answered
        # within callback_db_timeout_ms, from the spool, and reaches the
        # database once it answers again. Before the deadline the committer
        # waited on its socket for as long as TCP kept it open, and the
        # platform gave up on every callback meanwhile.
        url = h.fresh_database()
        with h.TcpProxy("127.0.0.1", urllib.parse.urlsplit(url).port) as px, \
                h.Daemon(px.url(url), daemon_env(VODHOOK_CALLBACK_DB_TIMEOUT_MS="1000",
                                                 VODHOOK_DB_TIMEOUT_MS="1000")) as d:
            acked, took = [], []
            pump(d, 20, "a", acked)
            px.freeze()

            def timed(i):
                t0 = time.monotonic()
                send(d, new_video("b-%d" % i), acked)
                took.append(time.monotonic() - t0)
            threads = [threading.Thread(target=timed, args=(i,)) for i in range(8)]
            [t.start() for t in threads]
            [t.join() for t in threads]
            self.assertEqual(len(acked), 28)
            # the 1 s allowed, then the spool's fsync; the platforms wait 5 s
            self.assertLess(max(took), 2.5, took)
            self.assertEqual(metric(d, "vodhook_events_spooled_total"), 8)
            self.assertIn("no answer from the database within 1000 ms", d.logs())
            # Past the pool's back-off the committer opens a new connection,
            # which the silent database does not answer either: the
            # callbacks meanwhile are still answered in time.
            def connect_timed_out():
                t0 = time.monotonic()
                send(d, new_video("c-%d" % len(acked)), acked)
                took.append(time.monotonic() - t0)
                return "could not connect to database: no answer within 1000 ms" in d.logs()
            h.wait_for(connect_timed_out, "a connection attempt to time out")
            self.assertLess(max(took), 2.5, took)
            # Nor does the readiness check wait on the silent database.
            t0 = time.monotonic()
            self.assertEqual(d.client.json("GET", "/readyz")[0], 503)
            self.assertLess(time.monotonic() - t0, 2.5)
            px.thaw()
            h.wait_for(lambda: count(url, "SELECT count(*) FROM vod_events") == len(acked),
                       "every acknowledged event to reach the database")
            self.assertEqual({r[0] for r in h.psql(url, "SELECT file_id FROM vod_events")},
                             set(acked))
            self.assertEqual(count(url, "SELECT count(*) FROM media WHERE state = 'confirmed'"),
                             len(acked))

    def test_answer_lost_after_the_commit(self):
        # The database commits a batch, but its answer does not come back
        # in time: the batch is spooled all the same, and the replay finds
        # its event stored already. It is recorded once.
        url = h.fresh_database()
        with h.TcpProxy("127.0.0.1", urllib.parse.urlsplit(url).port) as px, \
                h.Daemon(px.url(url), daemon_env(VODHOOK_CALLBACK_DB_TIMEOUT_MS="1000",
                                                 VODHOOK_DB_TIMEOUT_MS="1000")) as d:
            acked = []
            pump(d, 1, "a", acked)
            px.freeze(up=False, down=True)
            t = threading.Thread(target=send, args=(d, new_video("lost-answer-0"), acked))
            t.start()
            h.wait_for(lambda: count(url, "SELECT count(*) FROM vod_events"
                                          " WHERE file_id = 'lost-answer-0'") == 1,
                       "the database to commit the event")
            t.join()
            self.assertEqual(acked, ["a-0", "lost-answer-0"])
            self.assertEqual(metric(d, "vodhook_events_spooled_total"), 1)
            px.thaw()
            h.wait_for(lambda: metric(d, "vodhook_spool_pending_bytes") == 0,
                       "the spool to be replayed")
            self.assertEqual(h.psql(url, "SELECT file_id, received_via, count(*) OVER ()"
                                         " FROM vod_events ORDER BY 1"),
                             [["a-0", "push", "2"], ["lost-answer-0", "push", "2"]])
            self.assertEqual(count(url, "SELECT count(*) FROM media WHERE state = 'confirmed'"), 2)

    def two_batches(self, d, url, names):
        """two_batches_of a new video per name (name-0); returns the names
        acknowledged."""
        acked = self.two_batches_of(d, url, [new_video("%s-0" % n) for n in names])
        return [vid.rsplit("-", 1)[0] for vid in acked]

    def two_batches_of(self, d, url, events):
        """Send the events, the first alone in a batch held up by a table
        lock, the others queued meanwhile: when the lock goes, they form the
        next batch, queued behind the first one's commit. Returns the
        VideoIds (or JobIds) acknowledged."""
        acked = [[] for _ in events]
        threads = [threading.Thread(target=send, args=(d, ev, acked[i]))
                   for i, ev in enumerate(events)]
        with events_table_locked(url):
            threads[0].start()
            h.wait_for(lambda: count(url, "SELECT count(*) FROM pg_stat_activity"
                                          " WHERE wait_event_type = 'Lock'"
                                          " AND datname = current_database()") == 1,
                       "the committer to wait for the lock")
            [t.start() for t in threads[1:]]
            h.wait_for(lambda: metric(d, "vodhook_ingest_queued_events") == len(events) - 1,
                       "the other events to queue")
        [t.join() for t in threads]
        return [a[0] for a in acked if a]

    def test_duplicate_in_a_queued_batch(self):
        # The queued batch is first sent with the statement that assumes
        # its events are new; one was stored before, so it fails, and the
        # batch goes again skipping that one: nothing is spooled.
        url = h.fresh_database()
        with h.Daemon(url, daemon_env(**LOCK_HELD)) as d:
            stored = []
            pump(d, 1, "dup", stored)
            self.assertEqual(stored, ["dup-0"])
            batches0 = metric(d, "vodhook_ingest_batches_total")
            acked = self.two_batches(d, url, ["first", "a", "dup", "b"])
            self.assertEqual(sorted(acked), ["a", "b", "dup", "first"])
            self.assertEqual(metric(d, "vodhook_ingest_batches_total") - batches0, 2)
            self.assertEqual(metric(d, "vodhook_events_spooled_total"), 0)
            self.assertEqual(metric(d, "vodhook_events_duplicate_total"), 1)
            self.assertEqual(metric(d, "vodhook_events_stored_total"), 4)
            rows = h.psql(url, "SELECT file_id, count(*) FROM vod_events GROUP BY 1")
            self.assertEqual(sorted(rows), [["a-0", "1"], ["b-0", "1"], ["dup-0", "1"], ["first-0", "1"]])
            self.assertEqual(count(url, "SELECT count(*) FROM media WHERE state = 'confirmed'"), 4)

    def test_lean_and_whole_statement_in_one_pipeline(self):
        # A batch whose events name no upload (no upload id, no URL job's
        # event) runs the recording statement without those parts. Each
        # form is queued behind the other on the committer's connection,
        # either reason makes a batch take the whole form, and the lean one
        # still links media to uploads by file id.
        url = h.fresh_database()
        ext, byfile, byfile2, job = (str(uuid.uuid4()) for _ in range(4))
        url_failed = {"EventTime": "2026-11-21T10:00:00Z", "EventType": "UploadByURLComplete",
                      "Status": "fail", "JobId": "job-1", "ErrorCode": "URLInvalidError",
                      "ErrorMessage": "download failed", "SourceURL": "http://x/v.mp4"}
        with h.Daemon(url, daemon_env(**LOCK_HELD)) as d:
            # uploads under way in another process (leased: this daemon's
            # workers leave them alone)
            h.psql(url, "INSERT INTO uploads (id, provider, source_kind, source, state, file_id,"
                        " url_job_id, lease_owner, lease_expires_at)"
                        " SELECT id::uuid, 'alibaba', kind, src, st, fid, job, 'elsewhere',"
                        " now() + interval '1 hour' FROM (VALUES"
                        " (:'v1', 'file', '/a.mp4', 'committing', NULL, NULL),"
                        " (:'v2', 'file', '/b.mp4', 'uploaded', 'byfile-0', NULL),"
                        " (:'v3', 'file', '/c.mp4', 'uploaded', 'byfile2-0', NULL),"
                        " (:'v4', 'url', 'http://x/v.mp4', 'uploading', NULL, 'job-1'))"
                        " AS v (id, kind, src, st, fid, job)",
                   ext, byfile, byfile2, job)
            batches0 = metric(d, "vodhook_ingest_batches_total")
            # lean, then whole for the URL job's event alone
            acked = self.two_batches_of(d, url, [
                new_video("first-0"), url_failed, new_video("byfile-0")])
            self.assertEqual(sorted(acked), ["byfile-0", "first-0", "job-1"])
            # whole for the upload id alone, then lean
            acked = self.two_batches_of(d, url, [
                new_video("ext-0", extend=json.dumps({"vh": ext})),
                new_video("byfile2-0"), new_video("plain-0")])
            self.assertEqual(sorted(acked), ["byfile2-0", "ext-0", "plain-0"])
            self.assertEqual(metric(d, "vodhook_ingest_batches_total") - batches0, 4)
            self.assertEqual(metric(d, "vodhook_events_spooled_total"), 0)
        # A linked upload with no processing to come is ready with its media.
        self.assertEqual(sorted(h.psql(url, "SELECT file_id, state, upload_id FROM media")), [
            ["byfile-0", "ready", byfile], ["byfile2-0", "ready", byfile2],
            ["ext-0", "ready", ext], ["first-0", "confirmed", ""], ["plain-0", "confirmed", ""]])
        self.assertEqual(sorted(h.psql(url, "SELECT id, state, coalesce(file_id, ''),"
                                            " coalesce(error_code, '') FROM uploads")), sorted([
            [ext, "ready", "ext-0", ""], [byfile, "ready", "byfile-0", ""],
            [byfile2, "ready", "byfile2-0", ""], [job, "failed", "", "URLInvalidError"]]))

    def test_one_batch_wakes_every_waiter(self):
        # The waiters of the second batch must all be woken (each waiter
        # wakes two more: a tree several levels deep).
        url = h.fresh_database()
        n = 40
        with h.Daemon(url, daemon_env(VODHOOK_THREADS="64", **LOCK_HELD)) as d:
            batches0 = metric(d, "vodhook_ingest_batches_total")
            acked = self.two_batches(d, url, ["w%d" % i for i in range(n)])
            self.assertEqual(len(acked), n)
            self.assertEqual(metric(d, "vodhook_ingest_batches_total") - batches0, 2)
            self.assertEqual(metric(d, "vodhook_ingest_queued_events"), 0)
            self.assertEqual(count(url, "SELECT count(*) FROM vod_events"), n)

    def test_batch_refused_behind_a_commit(self):
        # The second batch is queued behind the first one's commit on the
        # same connection, and the database refuses it: the first batch is
        # stored, the second spooled, and its replay stores every event but
        # the refused one.
        url = h.fresh_database()
        spool = h.tmpdir("vodhook-spool-")
        with h.Daemon(url, daemon_env(VODHOOK_SPOOL_DIR=spool, **LOCK_HELD)) as d:
            h.psql(url, "ALTER TABLE vod_events ADD CONSTRAINT test_refuse"
                        " CHECK (file_id NOT LIKE 'refused-%')")
            batches0 = metric(d, "vodhook_ingest_batches_total")
            acked = self.two_batches(d, url, ["first", "q0", "refused", "q1", "q2"])
            self.assertEqual(sorted(acked), ["first", "q0", "q1", "q2", "refused"])
            self.assertEqual(metric(d, "vodhook_ingest_batches_total") - batches0, 2)
            self.assertEqual(metric(d, "vodhook_events_spooled_total"), 4)
            h.wait_for(lambda: metric(d, "vodhook_spool_pending_bytes") == 0
                       and metric(d, "vodhook_spool_quarantined_total") == 1,
                       "the spool to be replayed")
            stored = {r[0] for r in h.psql(url, "SELECT file_id FROM vod_events")}
            self.assertEqual(stored, {"first-0", "q0-0", "q1-0", "q2-0"})
            self.assertEqual(count(url, "SELECT count(*) FROM media WHERE state = 'confirmed'"), 4)

    def test_committer_keeps_the_url_options(self):
        # The committer has a connection of its own, opened with a server
        # option added (generic plans); the options the URL gives must
        # still apply to it. Here a lock_timeout: with it, a batch that
        # meets a table lock fails and is spooled instead of waiting.
        url = h.fresh_database()
        u = urllib.parse.urlsplit(url)
        query = "&".join(filter(None, [u.query, "options=-c%20lock_timeout%3D200"]))
        opt_url = urllib.parse.urlunsplit(u._replace(query=query))
        spool = h.tmpdir("vodhook-spool-")
        with h.Daemon(opt_url, daemon_env(VODHOOK_SPOOL_DIR=spool)) as d:
            with events_table_locked(url):
                acked = []
                t = threading.Thread(target=pump, args=(d, 1, "locked", acked))
                t.start()
                h.wait_for(lambda: metric(d, "vodhook_events_spooled_total") == 1,
                           "the batch to give up on the lock and be spooled")
                t.join()
                self.assertEqual(acked, ["locked-0"])
                # this database's: other tests' daemons run beside this one
                self.assertEqual(count(url, "SELECT count(*) FROM pg_stat_activity"
                                            " WHERE application_name = 'vodhook-ingest'"
                                            " AND datname = current_database()"), 1)
            h.wait_for(lambda: count(url, "SELECT count(*) FROM vod_events"
                                          " WHERE file_id = 'locked-0'") == 1,
                       "the spooled event to be replayed")

    def test_events_the_database_refuses_are_set_aside(self):
        spool = h.tmpdir("vodhook-spool-")
        # Left by an earlier process: an event, one that no longer parses,
        # another event. The replay at start-up sets the middle one aside.
        good = [ve.body(ve.alibaba_event("FileUploadComplete", "old-%d" % i, Size=1))
                for i in range(2)]
        bad = b'{"not": "an event"}'
        with open(os.path.join(spool, "replay-0000000000001.spool"), "wb") as f:
            for body in (good[0], bad, good[1]):
                f.write(b"VH1 2 0 %d %s\n%s\n" % (
                    len(body), hashlib.md5(body).hexdigest().encode(), body))
        with Cluster() as pg, \
                h.Daemon(pg.url, daemon_env(VODHOOK_SPOOL_DIR=spool)) as d:
            url = pg.url
            h.wait_for(lambda: count(url, "SELECT count(*) FROM vod_events") == 2,
                       "the spool left behind to be replayed")
            # The database refuses some events whatever is tried (a
            # constraint stands in for any such reason).
            h.psql(url, "ALTER TABLE vod_events ADD CONSTRAINT test_refuse"
                        " CHECK (file_id NOT LIKE 'refused-%')")
            acked = []
            pump(d, 1, "refused-live", acked)  # the batch fails: spooled
            pg.stop()
            pump(d, 5, "r", acked)              # all spooled, in one file
            pump(d, 1, "refused-away", acked)
            pump(d, 5, "s", acked)
            self.assertEqual(len(acked), 12)
            pg.start()
            # Every event but the refused ones reaches the database; the
            # refused ones do not hold back those behind them.
            h.wait_for(lambda: metric(d, "vodhook_spool_pending_bytes") == 0
                       and metric(d, "vodhook_spool_quarantined_total") == 3,
                       "the spool to be replayed")
            stored = {r[0] for r in h.psql(url, "SELECT file_id FROM vod_events")}
            self.assertEqual(stored, {"old-0", "old-1"} | {"r-%d" % i for i in range(5)}
                             | {"s-%d" % i for i in range(5)})
            self.assertEqual(count(url, "SELECT count(*) FROM media WHERE state = 'confirmed'"
                                        " AND file_id ~ '^[rs]-'"), 10)
            # Set aside durably, as received, for a person to look at.
            with open(os.path.join(spool, "quarantine.spool"), "rb") as f:
                kept = spool_records(f.read())
            self.assertEqual(kept[0], (2, 0, bad))
            self.assertEqual(sorted(json.loads(b)["VideoId"] for _, _, b in kept[1:]),
                             ["refused-away-0", "refused-live-0"])
            logs = d.logs()
            self.assertIn("does not parse", logs)
            self.assertRegex(logs, r'level=error.*set aside an event from alibaba.*test_refuse')

    def test_sigkill_under_load_then_restart(self):
        url = h.fresh_database()
        # Under load the kill finds a batch queued behind a commit.
        d = h.Daemon(url, daemon_env()).start()
        acked = [[] for _ in range(4)]
        stop = threading.Event()
        threads = [threading.Thread(target=pump, args=(d, 100000, "k%d" % i, acked[i], stop))
                   for i in range(4)]
        [t.start() for t in threads]
        h.wait_for(lambda: sum(map(len, acked)) >= 400, "load to build up")
        d.kill()
        stop.set()
        [t.join() for t in threads]
        all_acked = set(itertools.chain(*acked))
        stored = {r[0] for r in h.psql(url, "SELECT file_id FROM vod_events")}
        self.assertTrue(all_acked <= stored, "acknowledged but lost: %d" % len(all_acked - stored))
        # Each event committed with its media record, or neither: the kill
        # left no event without its record.
        self.assertEqual(count(url, "SELECT count(*) FROM vod_events e WHERE NOT EXISTS"
                              " (SELECT 1 FROM media m WHERE m.provider = e.provider"
                              "  AND m.file_id = e.file_id AND m.state = 'confirmed')"), 0)
        self.assertEqual(count(url, "SELECT count(*) FROM media"), len(stored))
        # Restarted on the same spool, it takes callbacks again; the
        # platform's redeliveries of acknowledged events (the last ones of
        # each connection, the ones closest to the kill) are duplicates, and
        # a redelivery of whatever was cut off unacknowledged is stored.
        d2 = h.Daemon(url, dict(daemon_env(), VODHOOK_SPOOL_DIR=d.env["VODHOOK_SPOOL_DIR"]))
        with d2:
            again = [[] for _ in range(4)]
            for i in range(4):
                last = len(acked[i])
                for k in range(max(0, last - 20), last + 2):
                    vid = "k%d-%d" % (i, k)
                    ev = ve.alibaba_event("FileUploadComplete", vid, Size=k,
                                          FileUrl="http://o/%s" % vid)
                    url_cb = "http://127.0.0.1:%d/callbacks/alibaba" % d2.port
                    st, _, body = d2.client.json("POST", "/callbacks/alibaba", ve.body(ev),
                                                 ve.alibaba_headers(url_cb, ALI_KEY))
                    self.assertEqual(st, 200, body)
                    again[i].append((vid, body["status"]))
            for i in range(4):
                for vid, status in again[i]:
                    want = "duplicate" if vid in stored else "stored"
                    self.assertEqual(status, want, (vid, again[i]))
            self.assertEqual(d2.client.json("GET", "/readyz")[0], 200)
        resent = {vid for a in again for vid, _ in a}
        self.assertEqual({r[0] for r in h.psql(url, "SELECT file_id FROM vod_events")},
                         stored | resent)
        self.assertEqual(count(url, "SELECT count(*) FROM media"), len(stored | resent))


if __name__ == "__main__":
    unittest.main()

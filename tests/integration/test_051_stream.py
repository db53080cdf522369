"""Change notifications and the live stream (issue 26): PostgreSQL publishes
every media state change and every upload state change and progress on
vodhook_changes in the transaction that makes it (schema/014_changes.sql),
and GET /v1/stream sends them as Server-Sent Events: the current state of
what the filter names, then "synced", then the changes, with heartbeats.

Checked here with real daemons, a real PostgreSQL and the cloud emulator: a
LISTEN (psql) sees each change once with its payload; the stream filters,
sends its snapshot, carries a change made through a second instance, drops
a client that does not read (and frees its worker), is capped (503) and
needs the token (401); the listening connection lost and back gives a
fresh snapshot that holds what changed meanwhile; SIGTERM ends streams."""
import http.client
import json
import os
import re
import socket
import subprocess
import threading
import time
import unittest
import uuid

import harness as h
import test_002_callbacks as cb
import uploadlib as U
import vodevents as ve

TOKEN = cb.API_TOKEN
AUTH = {"Authorization": "Bearer " + TOKEN}
EMU = None


def setUpModule():
    global EMU
    EMU = U.module_emu()


def tearDownModule():
    U.stop_emu(EMU)


class Stream:
    """A client of GET /v1/stream that reads its events on a thread."""

    def __init__(self, d, query="", token=TOKEN):
        self.conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=h.WAIT)
        headers = {"Authorization": "Bearer " + token} if token else {}
        self.conn.request("GET", "/v1/stream" + query, headers=headers)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.events = []  # (event name, data as parsed JSON)
        self.comments = 0
        self.ended = False
        self.cv = threading.Condition()
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()
        else:
            self.body = json.loads(self.resp.read())

    def _read(self):
        name, data = None, None
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    break
                line = line.decode().rstrip("\n")
                if line.startswith(":"):
                    with self.cv:
                        self.comments += 1
                        self.cv.notify_all()
                elif line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data = json.loads(line[6:])
                elif line == "" and name is not None:
                    with self.cv:
                        self.events.append((name, data))
                        self.cv.notify_all()
                    name, data = None, None
        except (OSError, http.client.HTTPException, ValueError,
                AttributeError):  # http.client, once the connection closed
            pass
        with self.cv:
            self.ended = True
            self.cv.notify_all()

    def wait(self, cond, what, timeout=None):
        deadline = time.monotonic() + (timeout or h.WAIT)
        with self.cv:
            while not cond():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("stream: timed out waiting for %s; "
                                         "events %s" % (what, self.events))
                self.cv.wait(left)

    def synced(self, n=1):
        """The events up to the n-th synced, once it arrived."""
        def count():
            return sum(1 for e in self.events if e[0] == "synced")
        self.wait(lambda: count() >= n, "synced #%d" % n)
        with self.cv:
            seen = 0
            for i, e in enumerate(self.events):
                seen += e[0] == "synced"
                if seen == n:
                    return self.events[:i]

    def find(self, pred, what):
        self.wait(lambda: any(pred(e) for e in self.events), what)
        with self.cv:
            return [e for e in self.events if pred(e)]

    def close(self):
        self.conn.close()


class Session:
    """One psql connection kept open, running what it is given."""

    def __init__(self, url):
        self.p = subprocess.Popen(["psql", "-X", "-q", "-tA", "-v",
                                   "ON_ERROR_STOP=1", url], text=True,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.run("SELECT 1;")

    def run(self, sql):
        self.p.stdin.write(sql + "\nSELECT 'done';\n")
        self.p.stdin.flush()
        out = []
        for line in self.p.stdout:
            if line.strip() == "done":
                return out
            out.append(line)
        raise AssertionError("psql ended: %s" % "".join(out))

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=10)
        self.p.stdout.close()


class Listener:
    """LISTEN vodhook_changes in psql, as the README shows it; psql prints
    the notifications it has received after each command, so a command is
    sent every few milliseconds."""

    NOTE = re.compile(r'^Asynchronous notification "vodhook_changes" with payload '
                      r'"(.*)" received from server process with PID \d+\.$')

    def __init__(self, url):
        self.p = subprocess.Popen(["psql", "-X", "-q", "-tA", url], text=True,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.payloads = []
        self.lock = threading.Lock()
        self.p.stdin.write("LISTEN vodhook_changes;\nSELECT 'listening';\n")
        self.p.stdin.flush()
        self.up = threading.Event()
        self.stop = False
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._poke, daemon=True).start()
        if not self.up.wait(h.WAIT):
            raise AssertionError("psql did not start listening")

    def _read(self):
        for line in self.p.stdout:
            line = line.rstrip("\n")
            if line == "listening":
                self.up.set()
            m = self.NOTE.match(line)
            if m:
                with self.lock:
                    self.payloads.append(json.loads(m.group(1)))

    def _poke(self):
        while not self.stop:
            try:
                self.p.stdin.write("SELECT 1 WHERE false;\n")
                self.p.stdin.flush()
            except (OSError, ValueError):
                return
            time.sleep(0.02)

    def seen(self):
        with self.lock:
            return list(self.payloads)

    def close(self):
        self.stop = True
        self.p.stdin.close()
        self.p.wait(timeout=10)
        self.p.stdout.close()


def metric(d, name):
    st, _, body = d.client.request("GET", "/metrics")
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError("no metric " + name)


def new_upload(db, provider="tencent", state="queued", file_id=None,
               done=0, total=None):
    uid = str(uuid.uuid4())
    h.psql(db, "INSERT INTO uploads (id, provider, source_kind, source, state,"
           " file_id, bytes_done, bytes_total) VALUES (:'v1', :'v2', 'file',"
           " '/x', :'v3', nullif(:'v4', ''), :'v5', nullif(:'v6', '')::bigint)",
           uid, provider, state, file_id or "", done, total or "")
    return uid


class StreamTest(unittest.TestCase):
    def setUp(self):
        h.require_env(self)
        self.db = h.fresh_database()
        self.daemons = []
        self.streams = []

    def tearDown(self):
        for s in self.streams:
            s.close()
        for d in self.daemons:
            d.stop()

    def daemon(self, **extra):
        # No upload worker: the jobs these tests write are not to be run.
        extra.setdefault("VODHOOK_UPLOAD_WORKERS", "0")
        d = h.Daemon(self.db, cb.daemon_env(**extra)).start()
        self.daemons.append(d)
        return d

    def stream(self, d, query="", **kw):
        s = Stream(d, query, **kw)
        self.streams.append(s)
        return s

    def test_listen_sees_each_change_once(self):
        root = U.tmpdir()
        env = U.upload_env(EMU, root, dict(cb.daemon_env(), **U.RESUMABLE))
        env["VODHOOK_API_TOKEN"] = "t0ken"
        d = h.Daemon(self.db, env).start()
        self.daemons.append(d)
        ls = Listener(self.db)
        # Slow enough for the worker to write its progress several times.
        EMU.ctl("config", {"rate_limit_bps": 2 * U.MIB})
        self.addCleanup(EMU.ctl, "config", {"rate_limit_bps": 0})
        try:
            path, _ = U.make_file(root, "a.mp4", 3 * U.MIB)
            up = U.submit(self, d, "tencent", {"path": path})
            done = U.wait_state(d, up["id"], ("uploaded", "failed"))
            self.assertEqual(done["state"], "uploaded", done)
            fid = done["file_id"]
            c = cb.Client(d)
            for ev in (ve.tencent_new_file_upload(fid, source_context=up["id"]),
                       ve.tencent_procedure(fid, "task-1", "PROCESSING"),
                       ve.tencent_procedure(fid, "task-1", "FINISH")):
                self.assertEqual(c.tencent(ev)[0], 200)
            h.wait_for(lambda: any(p["kind"] == "media" and p["state"] == "ready"
                                   for p in ls.seen()), "media ready on LISTEN")
            time.sleep(0.2)  # anything repeated would come right behind
        finally:
            ls.close()
        seen = ls.seen()
        ups = [p for p in seen if p["kind"] == "upload"]
        media = [p for p in seen if p["kind"] == "media"]
        for p in ups:
            self.assertEqual(p["upload_id"], up["id"])
            self.assertEqual(p["provider"], "tencent")
            self.assertRegex(p["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        # Each state change once, in order, each naming the state before.
        moves = [(p["from"], p["state"]) for p in ups if p["from"] is not None
                 or p is ups[0]]
        self.assertEqual(moves[0], (None, "queued"))
        states = [m[1] for m in moves]
        self.assertEqual(len(states), len(set(states)), moves)
        for (a, b), (c2, d2) in zip(moves, moves[1:]):
            self.assertEqual(c2, b, moves)
        self.assertIn("uploading", states)
        self.assertEqual(states[-1], "ready", moves)  # follows its media
        # Progress: bytes_done never goes back, reaches the size, and the
        # same progress is not published twice.
        progress = [(p["state"], p["bytes_done"]) for p in ups]
        self.assertEqual(len(progress), len(set(progress)), progress)
        done_bytes = [p["bytes_done"] for p in ups]
        self.assertEqual(done_bytes, sorted(done_bytes))
        self.assertEqual(done_bytes[-1], 3 * U.MIB)
        self.assertTrue(any(0 < b < 3 * U.MIB for b in done_bytes), progress)
        self.assertEqual(ups[-1]["bytes_total"], 3 * U.MIB)
        # The media: its insert, then each transition once.
        mm = [(p["from"], p["state"]) for p in media]
        self.assertEqual(mm[0][0], None, mm)
        self.assertEqual(len(mm), len(set(mm)), mm)
        self.assertEqual(mm[-1][1], "ready", mm)
        for p in media:
            self.assertEqual((p["provider"], p["file_id"], p["upload_id"]),
                             ("tencent", fid, up["id"]))

    def test_heartbeat_rate_alone_publishes_nothing(self):
        # 019's columns are written with every heartbeat; 014 publishes an
        # upload's state and bytes_done only, so a heartbeat that changes
        # the rate or the parts in flight alone publishes nothing.
        self.daemon()  # migrates
        uid = new_upload(self.db, "tencent", "uploading", done=5, total=100)
        ls = Listener(self.db)
        try:
            for rate, parts in ((1000, 4), (2000, 8), (None, None)):
                h.psql(self.db, "UPDATE uploads SET bytes_done = bytes_done,"
                       " rate_bps = nullif(:'v2', '')::bigint,"
                       " parts_in_flight = nullif(:'v3', '')::int,"
                       " updated_at = now() WHERE id = :'v1'",
                       uid, "" if rate is None else rate,
                       "" if parts is None else parts)
            h.psql(self.db, "UPDATE uploads SET bytes_done = 6, rate_bps = 3000,"
                   " parts_in_flight = 2 WHERE id = :'v1'", uid)
            h.wait_for(lambda: ls.seen(), "the progress on LISTEN")
            time.sleep(0.2)  # anything else would come right behind
        finally:
            ls.close()
        self.assertEqual([(p["upload_id"], p["bytes_done"]) for p in ls.seen()],
                         [(uid, 6)])
        self.assertNotIn("rate_bps", ls.seen()[0])

    def test_snapshot_filters_and_changes(self):
        d = self.daemon(VODHOOK_THREADS="16")  # streams: half of them
        a = new_upload(self.db, "alibaba", "queued")
        b = new_upload(self.db, "tencent", "uploading", done=5, total=100)
        fin = new_upload(self.db, "tencent", "ready", file_id="f-fin")
        h.psql(self.db, "INSERT INTO media (provider, file_id, state, state_rank,"
               " upload_id) VALUES ('tencent', 'f-fin', 'ready', 4, :'v1')", fin)
        everything = self.stream(d)
        ali = self.stream(d, "?provider=alibaba")
        by_file = self.stream(d, "?file_id=f-fin")
        by_upload = self.stream(d, "?upload_id=" + fin.upper())
        media_only = self.stream(d, "?kind=media")
        for s in (everything, ali, by_file, by_upload, media_only):
            self.assertEqual(s.status, 200)
            self.assertEqual(s.resp.getheader("Content-Type"), "text/event-stream")
        # The snapshot: uploads not finished, or the records named.
        snap = everything.synced()
        self.assertEqual(sorted(e[1]["upload_id"] for e in snap), sorted([a, b]))
        for name, p in snap:
            self.assertEqual(name, "upload")
            self.assertIsNone(p["from"])
        self.assertEqual([e[1]["bytes_done"] for e in snap
                          if e[1]["upload_id"] == b], [5])
        self.assertEqual([(e[0], e[1]["upload_id"]) for e in ali.synced()],
                         [("upload", a)])
        for s in (by_file, by_upload):
            got = sorted((e[0], e[1]["state"]) for e in s.synced())
            self.assertEqual(got, [("media", "ready"), ("upload", "ready")])
        self.assertEqual(media_only.synced(), [])
        # Changes, filtered: b's progress reaches everything but ali.
        h.psql(self.db, "UPDATE uploads SET bytes_done = 50 WHERE id = :'v1'", b)
        h.psql(self.db, "UPDATE uploads SET state = 'uploading' WHERE id = :'v1'", a)
        h.psql(self.db, "INSERT INTO media (provider, file_id, state, state_rank)"
               " VALUES ('alibaba', 'v-new', 'uploaded', 1)")
        h.psql(self.db, "UPDATE media SET state = 'confirmed', state_rank = 2"
               " WHERE file_id = 'v-new'")
        everything.find(lambda e: e[0] == "media" and e[1]["state"] == "confirmed",
                        "the media's transition")
        live = everything.events[len(snap) + 1:]
        self.assertEqual([(e[0], e[1]["state"], e[1]["from"]) for e in live],
                         [("upload", "uploading", None),
                          ("upload", "uploading", "queued"),
                          ("media", "uploaded", None),
                          ("media", "confirmed", "uploaded")])
        self.assertEqual(live[0][1]["bytes_done"], 50)
        ali.find(lambda e: e[0] == "media" and e[1]["state"] == "confirmed",
                 "alibaba's media on the alibaba stream")
        self.assertEqual([(e[0], e[1]["upload_id"] or e[1]["file_id"])
                          for e in ali.events[2:]],
                         [("upload", a), ("media", "v-new"), ("media", "v-new")])
        media_only.find(lambda e: e[1].get("state") == "confirmed", "media")
        self.assertEqual([e[0] for e in media_only.events],
                         ["synced", "media", "media"])
        # Nothing reached the streams filtered on another record.
        self.assertEqual(len(by_file.events), 3)
        self.assertEqual(len(by_upload.events), 3)

    def test_token_and_bad_filters(self):
        d = self.daemon()
        self.assertEqual(self.stream(d, token=None).status, 401)
        self.assertEqual(self.stream(d, token="wrong").status, 401)
        for q, says in (("?provider=aws", "provider must be tencent or alibaba"),
                        ("?kind=event", "kind must be media or upload"),
                        ("?upload_id=12", "upload_id must be a UUID"),
                        ("?file_id=a%20b", "file_id must be"),
                        ("?file_id=" + "x" * 300, "file_id must be")):
            s = self.stream(d, q)
            self.assertEqual(s.status, 400, q)
            self.assertEqual(s.body["error"]["code"], "invalid_input")
            self.assertIn(says, s.body["error"]["message"])

    def test_cap_and_heartbeat(self):
        d = self.daemon(VODHOOK_STREAM_MAX="2", VODHOOK_STREAM_HEARTBEAT_MS="200")
        one, two = self.stream(d), self.stream(d)
        one.synced()
        two.synced()
        third = self.stream(d)
        self.assertEqual(third.status, 503)
        self.assertIn("stream_max = 2", third.body["error"]["message"])
        self.assertEqual(metric(d, "vodhook_streams_open"), 2)
        # Heartbeats: comment lines on an idle stream.
        one.wait(lambda: one.comments >= 3, "three heartbeats")
        # A stream closed by its client frees its place (at the next
        # heartbeat's write at the latest).
        two.close()
        h.wait_for(lambda: metric(d, "vodhook_streams_open") == 1,
                   "the closed stream to leave")
        self.assertEqual(self.stream(d).status, 200)

    def test_change_through_second_instance(self):
        a = self.daemon()
        b = self.daemon()
        s = self.stream(a, "?provider=tencent")
        s.synced()
        fid = "52858907" + str(uuid.uuid4().int)[:10]
        st, _, body = cb.Client(b).tencent(ve.tencent_new_file_upload(fid))
        self.assertEqual(st, 200, body)
        got = s.find(lambda e: e[0] == "media" and e[1]["file_id"] == fid,
                     "b's media on a's stream")
        self.assertEqual(got[0][1]["provider"], "tencent")

    def test_stalled_client_dropped(self):
        d = self.daemon(VODHOOK_REQUEST_TIMEOUT_MS="1000")
        uid = new_upload(self.db, "tencent", "uploading", total=10 ** 9)
        # A client that sends its request and never reads, with a small
        # receive buffer.
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(("127.0.0.1", d.port))
        stalled.sendall(("GET /v1/stream HTTP/1.1\r\nHost: x\r\n"
                         "Authorization: Bearer %s\r\n\r\n" % TOKEN).encode())
        try:
            h.wait_for(lambda: metric(d, "vodhook_streams_open") == 1,
                       "the stalled stream to open")
            reader = self.stream(d, "?kind=media")
            reader.synced()
            # Many changes, many more than the socket buffers hold (the
            # kernel lets a send buffer grow to megabytes): batches of
            # 10,000 until the stream is dropped.
            for n in range(8):
                if metric(d, "vodhook_streams_dropped_total") >= 1:
                    break
                h.psql(self.db, "DO $$ BEGIN FOR i IN 1..10000 LOOP"
                       " UPDATE uploads SET bytes_done = %d + i WHERE id = '%s';"
                       " END LOOP; END $$" % (n * 10000, uid))
            h.wait_for(lambda: metric(d, "vodhook_streams_dropped_total") == 1,
                       "the stalled stream to be dropped")
            h.wait_for(lambda: metric(d, "vodhook_streams_open") == 1,
                       "its worker to be freed")
            self.assertRegex(d.logs(), r"path=/v1/stream status=200 .*"
                                       r"note=stream ended: dropped")
            # The reader, filtered on media, is still served.
            h.psql(self.db, "INSERT INTO media (provider, file_id, state,"
                   " state_rank) VALUES ('tencent', 'after', 'uploaded', 1)")
            reader.find(lambda e: e[1].get("file_id") == "after", "a later change")
        finally:
            stalled.close()

    def test_listener_lost_and_back(self):
        d = self.daemon()
        s = self.stream(d)
        self.assertEqual(s.synced(), [])
        # The snapshot waited for LISTEN.
        self.assertIn("listening for changes", d.logs())
        # The listener's connection is cut, and no connection can be made
        # for a while: a change made meanwhile is heard by no one, and must
        # reach the client through the fresh snapshot.
        name = self.db.rsplit("/", 1)[1]
        admin = h.db_url(h.BASE_URL, "postgres")
        uid = str(uuid.uuid4())
        inside = Session(self.db)  # a connection made before they are refused
        try:
            h.psql(admin, "ALTER DATABASE %s ALLOW_CONNECTIONS false" % name)
            inside.run("SELECT count(pg_terminate_backend(pid)) FROM"
                       " pg_stat_activity WHERE application_name ="
                       " 'vodhook listener' AND datname = current_database();"
                       "INSERT INTO uploads (id, provider, source_kind, source)"
                       " VALUES ('%s', 'alibaba', 'file', '/y');" % uid)
            h.wait_for(lambda: "lost the connection listening" in d.logs(),
                       "the listener to notice")
            time.sleep(0.5)  # it tries to connect again, and is refused
        finally:
            h.psql(admin, "ALTER DATABASE %s ALLOW_CONNECTIONS true" % name)
            inside.close()
        again = s.synced(2)
        first = again.index(("synced", {}))
        snap = again[first + 1:]
        self.assertIn(uid, [e[1]["upload_id"] for e in snap])
        self.assertIn("lost the connection listening for changes", d.logs())
        # And the live feed works again.
        new_upload(self.db, "tencent")
        s.wait(lambda: len(s.events) > len(again) + 1, "a live change")

    def test_listens_only_while_a_stream_is_open(self):
        # A listening session costs every transaction that notifies
        # (bench/results/2026-12-05-notify.md): vodhook listens only while
        # a stream is open. Its listener's last statement tells.
        def listener():
            return h.psql(self.db, "SELECT query FROM pg_stat_activity"
                          " WHERE application_name = 'vodhook listener'"
                          " AND datname = current_database()")
        # A closed stream leaves at its next heartbeat's write.
        d = self.daemon(VODHOOK_STREAM_HEARTBEAT_MS="200")
        new_upload(self.db)
        self.assertEqual(listener(), [], "no stream: no listening session")
        s = self.stream(d)
        s.synced()
        self.assertEqual(listener(), [["LISTEN vodhook_changes"]])
        s.close()
        h.wait_for(lambda: listener() == [["UNLISTEN *"]],
                   "the listener to stop once no stream is open")
        self.assertIn("not listening for changes: no one reads them", d.logs())
        # A change made while no one listens reaches the next stream through
        # its snapshot, and the changes after it arrive live.
        quiet = new_upload(self.db, "alibaba")
        s = self.stream(d)
        self.assertIn(quiet, [e[1]["upload_id"] for e in s.synced()])
        self.assertEqual(listener(), [["LISTEN vodhook_changes"]])
        live = new_upload(self.db, "alibaba")
        s.find(lambda e: e[0] == "upload" and e[1]["upload_id"] == live,
               "a live change")

    def test_sigterm_ends_streams(self):
        d = self.daemon()
        s = self.stream(d)
        s.synced()
        t0 = time.monotonic()
        self.assertEqual(d.stop(), 0)
        self.daemons.remove(d)
        self.assertLess(time.monotonic() - t0, 5 * h.SLOW)
        s.wait(lambda: s.ended, "the stream to end")


class UploadTerminal(unittest.TestCase):
    """vodhook upload on a terminal keeps its bar on its own line, below
    the log lines, and shows the time left; off a terminal, no bar."""

    def setUp(self):
        h.require_env(self)
        self.db = h.fresh_database()
        self.root = U.tmpdir()
        self.env = U.upload_env(EMU, self.root, {"VODHOOK_DATABASE_URL": self.db})
        r = h.run(["migrate"], self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        # A few seconds of transfer: the bar is drawn many times.
        EMU.ctl("config", {"rate_limit_bps": 2 * U.MIB})
        self.addCleanup(EMU.ctl, "config", {"rate_limit_bps": 0})

    def test_bar_on_its_own_line(self):
        path, _ = U.make_file(self.root, "tty.mp4", 8 * U.MIB)
        # In parts, one at a time: the progress rises part by part.
        env = dict(self.env, VODHOOK_UPLOAD_THRESHOLD=str(U.MIB),
                   VODHOOK_UPLOAD_PART_SIZE=str(U.MIB), VODHOOK_UPLOAD_PARALLEL="1")
        master, slave = os.openpty()
        p = subprocess.Popen([h.BIN, "upload", "--provider", "tencent", path],
                             env=h.clean_env(env), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the program closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        os.close(master)
        out_stdout = p.stdout.read().decode()
        p.stdout.close()
        self.assertEqual(p.wait(timeout=60), 0)
        tty = b"".join(chunks).decode(errors="replace")
        self.assertIn("file_id: ", out_stdout)
        self.assertIn("] 100%", tty)
        self.assertRegex(tty, r"MiB/s uploading +\d+:\d\d left")
        # Every log line starts a line of its own: right after a newline,
        # or after the bar was erased ("\r", erase to the end of line).
        starts = [m.start() for m in re.finditer("ts=", tty)]
        self.assertTrue(starts, tty)
        for i in starts:
            before = tty[max(0, i - 4):i]
            self.assertTrue(i == 0 or before.endswith("\n")
                            or before.endswith("\r\x1b[K"),
                            "a log line in the bar's line: %r" % tty[max(0, i - 80):i + 40])
        # The bar is drawn again after each log line, and the last one stays.
        self.assertTrue(tty.rstrip().endswith("committing"), tty[-200:])
        self.assertTrue(tty.endswith("\n"))

    def test_no_bar_off_a_terminal(self):
        path, _ = U.make_file(self.root, "pipe.mp4", 3 * U.MIB)
        r = h.run(["upload", "--provider", "tencent", path], self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("progress: state=uploading", r.stderr)
        self.assertNotIn("\r", r.stderr)
        self.assertNotIn("\x1b", r.stderr)
        self.assertNotIn("[#", r.stderr)


if __name__ == "__main__":
    unittest.main()

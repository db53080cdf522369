"""Helpers for the upload tests: the cloud emulator, test files, job polling.

The emulator (tests/emulator/emulator.py) runs once per test module; vodhook
reaches it through VODHOOK_CONNECT_TO, over plain http (allow_http) where TLS
is not under test, or over https trusting the emulator's test CA.
"""
import hashlib
import http.server
import json
import os
import re
import ssl
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import harness as h

sys.path.insert(0, os.path.join(h.SOURCE_DIR, "tests", "emulator"))
import emu_testlib  # noqa: E402
from emu_testlib import crc64  # noqa: E402,F401  (the stores' CRC-64, for tests)

MIB = 1024 * 1024


class Emu:
    def __init__(self):
        self.e = emu_testlib.Emulator()
        self.http = self.e.http
        self.https = self.e.https
        self.ca = self.e.ca

    def stop(self):
        self.e.stop()

    def ctl(self, path, data=None, method=None):
        url = "http://127.0.0.1:%d/_emu/%s" % (self.http, path)
        body = None if data is None else json.dumps(data).encode()
        req = urllib.request.Request(url, data=body, method=method or ("POST" if body is not None else "GET"))
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"null")

    def calls(self, action=None, since=0.0):
        return [c for c in self.ctl("calls")
                if (action is None or c["action"] == action) and c["t"] >= since]

    def calls_for(self, action, uid, since=0.0, skip_faults=False):
        """Calls of action whose UserData.Extend.vh names upload uid (Alibaba);
        skip_faults leaves out the injected faults."""
        out = []
        for c in self.calls(action, since):
            if skip_faults and c.get("fault"):
                continue
            try:
                if user_data(c)["Extend"]["vh"] == uid:
                    out.append(c)
            except (KeyError, ValueError, TypeError):
                pass
        return out

    def key_calls(self, action, key, since=0.0):
        """Object storage calls of action on object key."""
        return [c for c in self.calls(action, since) if c["params"].get("key") == key]

    def media(self, media_id):
        """The emulator's media record with this id (FileId, VideoId or ImageId)."""
        for m in self.ctl("media"):
            if m.get("id") == media_id:
                return m
        raise AssertionError("emulator has no media %s" % media_id)

    def stored(self, media_id):
        """The stored object (bucket, key, md5, size) of a media."""
        m = self.media(media_id)
        for o in self.objects():
            if o["key"] == m["key"] and o["bucket"] == m["bucket"]:
                return o
        raise AssertionError("no object for %s" % media_id)

    def md5_size(self, media_id):
        """(md5 hex, size) of the stored object of a media."""
        o = self.stored(media_id)
        return o["md5"], o["size"]

    def objects(self):
        return self.ctl("objects")

    def object_url(self, bucket, key):
        return "http://127.0.0.1:%d/_emu/object?bucket=%s&key=%s" % (self.http, bucket, key)

    def env(self, tls=False):
        """vodhook settings pointing at this emulator."""
        if tls:
            return {"VODHOOK_CONNECT_TO": "::127.0.0.1:%d" % self.https,
                    "VODHOOK_CA_FILE": self.ca,
                    "VODHOOK_TENCENT_API_URL": "https://vod.tencentcloudapi.com",
                    "VODHOOK_TENCENT_SECRET_ID": "AKIDemu",
                    "VODHOOK_TENCENT_SECRET_KEY": "emusecret"}
        return {"VODHOOK_CONNECT_TO": "::127.0.0.1:%d" % self.http,
                "VODHOOK_ALLOW_HTTP": "1",
                "VODHOOK_TENCENT_API_URL": "http://vod.tencentcloudapi.com",
                "VODHOOK_TENCENT_SECRET_ID": "AKIDemu",
                "VODHOOK_TENCENT_SECRET_KEY": "emusecret"}


def make_file(directory, name, size):
    """A file of size pseudo-random bytes; returns (path, md5 hex)."""
    path = os.path.join(directory, name)
    md5 = hashlib.md5()
    with open(path, "wb") as f:
        left, seed = size, os.urandom(MIB)
        while left > 0:
            chunk = seed[:min(left, MIB)]
            # Vary each MiB so that parts differ from one another.
            chunk = hashlib.sha256(chunk[:64] + left.to_bytes(8, "big")).digest() + chunk[32:]
            chunk = chunk[:min(left, MIB)]
            f.write(chunk)
            md5.update(chunk)
            left -= len(chunk)
    return path, md5.hexdigest()


def module_emu():
    """An emulator for a test module's setUpModule; None where the tests are
    skipped (not run through tests/run.sh)."""
    if not h.BIN or not h.BASE_URL:
        return None
    return Emu()


def stop_emu(emu):
    if emu is not None:
        emu.stop()


def user_data(call):
    """The UserData JSON of an Alibaba API call."""
    return json.loads(call["params"]["UserData"])


def ali_env(extra=None, tls=False):
    """vodhook's Alibaba settings for the emulator, then extra."""
    scheme = "https" if tls else "http"
    env = {"VODHOOK_ALIBABA_API_URL": scheme + "://vod.cn-shanghai.aliyuncs.com",
           "VODHOOK_ALIBABA_ACCESS_KEY_ID": "LTAIemu",
           "VODHOOK_ALIBABA_ACCESS_KEY_SECRET": "emusecret",
           "VODHOOK_ALIBABA_REGION": "cn-shanghai"}
    env.update(extra or {})
    return env


def upload_env(emu, root, extra=None, tls=False):
    env = emu.env(tls=tls)
    env.update({"VODHOOK_API_TOKEN": "t0ken",
                "VODHOOK_UPLOAD_ROOT": root,
                "VODHOOK_UPLOAD_TMP_DIR": root,
                "VODHOOK_UPLOAD_POLL_MS": "50",
                "VODHOOK_UPLOAD_WORKERS": "2",
                # A fixed count of parts in flight, and parts of exactly
                # upload_part_size (a file spread over fewer parts than the
                # count gets smaller ones): the tests count parts and
                # requests. test_012 tests the adaptive engine (its own
                # settings).
                "VODHOOK_UPLOAD_PARALLEL": "4",
                "VODHOOK_UPLOAD_PARALLEL_MAX": "0"})
    env.update(extra or {})
    return env


AUTH = {"Authorization": "Bearer t0ken", "Content-Type": "application/json"}


def post_upload(daemon, body):
    return daemon.client.json("POST", "/v1/uploads", body, AUTH)


def submit(tc, daemon, provider, body, queued=True):
    """POST body (for provider unless it names one); assert 202 and, unless
    queued is false, the queued state; returns the upload."""
    body.setdefault("provider", provider)
    st, _, doc = post_upload(daemon, body)
    tc.assertEqual(st, 202, doc)
    if queued:
        tc.assertEqual(doc["state"], "queued")
    return doc


def get_upload(daemon, uid):
    st, _, doc = daemon.client.json("GET", "/v1/uploads/" + uid, None, AUTH)
    assert st == 200, (st, doc)
    return doc


def wait_state(daemon, uid, states, timeout=None):
    last = {}

    def done():
        last["doc"] = get_upload(daemon, uid)
        return last["doc"]["state"] in states
    try:
        h.wait_for(done, "upload %s to reach %s" % (uid, states), timeout=timeout)
    except AssertionError:
        raise AssertionError("upload %s: %s\n%s" % (uid, json.dumps(last.get("doc"), indent=1),
                                                    daemon.logs()[-4000:]))
    return last["doc"]


ALI_KEY = "ali-callback-key"

# Restart tests: 1 MiB parts above 2 MiB, two at a time, one worker, and a
# lease short enough for a killed daemon's job to be taken again.
RESUMABLE = {"VODHOOK_UPLOAD_PART_SIZE": str(MIB),
             "VODHOOK_UPLOAD_THRESHOLD": str(2 * MIB),
             "VODHOOK_UPLOAD_PARALLEL": "2",
             "VODHOOK_UPLOAD_LEASE_SECONDS": "5",
             "VODHOOK_UPLOAD_WORKERS": "1"}


def class_db(cls, migrate=False):
    """Give test class cls an upload root (cls.root) and a fresh database
    (cls.db), migrated if asked (for the CLI, which does not migrate)."""
    cls.root = tmpdir()
    cls.db = h.fresh_database()
    if migrate:
        r = h.run(["migrate"], {"VODHOOK_DATABASE_URL": cls.db})
        assert r.returncode == 0, r.stderr


def class_daemon(cls, emu, extra=None):
    """class_db, and a daemon (cls.d, not started) on upload_env(extra)."""
    class_db(cls)
    cls.d = h.Daemon(cls.db, upload_env(emu, cls.root, extra))
    return cls.d


def start_ali_daemon(cls, emu, extra=None):
    """class_daemon with ali_env(extra), started, taking Alibaba callbacks
    signed with ALI_KEY at its own URL (cls.cb_url)."""
    d = class_daemon(cls, emu, ali_env(dict({"VODHOOK_ALIBABA_CALLBACK_KEY": ALI_KEY},
                                            **(extra or {}))))
    cls.cb_url = "http://127.0.0.1:%d/callbacks/alibaba" % d.port
    d.env["VODHOOK_ALIBABA_CALLBACK_URL"] = cls.cb_url
    d.start()
    emu.ctl("config", {"alibaba_auth_key": ALI_KEY})
    return d


def stop_daemon(d):
    """Stop a class's daemon; fail if it did not exit cleanly."""
    d.stop_checked()


def stop_class(cls):
    """Stop a class's daemon (failing if it did not exit cleanly), then its
    own emulator (cls.emu) whatever happened."""
    try:
        stop_daemon(cls.d)
    finally:
        cls.emu.stop()


def checkpointed(db, uid):
    """How many parts of upload uid are checkpointed."""
    return int(h.psql(db, "SELECT count(*) FROM upload_parts WHERE upload_id = :'v1'", uid)[0][0])


def kill_mid_transfer(tc, emu, db, env, body):
    """Submit body to a new daemon with the transfer slowed down and kill -9
    it once four parts are checkpointed; returns (upload id, parts done)."""
    d = h.Daemon(db, env).start()
    emu.ctl("faults", {"rate_limit_bps": 4 * MIB})
    try:
        st, _, doc = post_upload(d, body)
        tc.assertEqual(st, 202, doc)
        uid = doc["id"]
        h.wait_for(lambda: checkpointed(db, uid) >= 4, "four parts checkpointed", timeout=60)
        d.kill()
    finally:
        emu.ctl("faults", {"rate_limit_bps": 0})
    return uid, checkpointed(db, uid)


def resume_in_new_daemon(tc, db, env, uid, states, timeout=60):
    """Start a new daemon, wait for upload uid to reach states, stop it and
    check its exit; returns (the upload, the time the daemon was started)."""
    t_restart = time.time()
    d = h.Daemon(db, env).start()
    try:
        doc = wait_state(d, uid, states, timeout=timeout)
    finally:
        rc = d.stop()
    tc.assertIn(rc, (0, None), d.logs())
    return doc, t_restart


def object_md5(emu, key_suffix=None, file_id=None):
    for m in emu.ctl("media"):
        if m.get("file_id") == file_id:
            for o in emu.objects():
                if o["key"] == m["key"]:
                    return o["md5"], o["size"]
    return None, None


class MediaServer:
    """Media to fetch (vodhook's URL sources, the platform's pulls), on
    127.0.0.1: serves the files of its directory (404 for a missing one); a
    request for /gate/... waits until the gate is set; /slow/... is sent in
    pieces of self.chunk bytes self.interval seconds apart, /chunked/... as
    well and without a Content-Length (self.gone is set when the client
    leaves before the end); each with the MD5 of its body as ETag; logs (path, User-Agent) of every request, so that a test can tell who
    fetched what. A request for "Range: bytes=N-" is answered 206 with
    the rest from N (RFC 9110 14), unless its If-Range is not the ETag
    (200, the whole) or self.ranges is off (200, as a server without
    ranges); self.served logs (path, Range, If-Range, status, bytes sent).
    self.unavailable maps a file name to how many requests for it are
    answered 503 first; self.redirects maps a path to the Location a 302
    sends it to (logged in self.served too). A request in absolute form
    (GET http://host/path, to a proxy) is served by its path: the server
    is a proxy as well. With tls_dir (the emulator's certificates), it
    speaks https as 127.0.0.1."""

    def __init__(self, tls_dir=None):
        self.dir = tmpdir()
        self.gate = threading.Event()
        self.gone = threading.Event()
        self.chunk, self.interval = 65536, 0.0
        self.log = []
        self.served = []
        self.ranges = True
        self.unavailable = {}
        self.redirects = {}
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # for chunked bodies

            def do_GET(self):
                path = urllib.parse.urlsplit(self.path).path
                with outer.lock:
                    outer.log.append((path, self.headers.get("User-Agent", "")))
                if path.startswith("/gate/"):
                    outer.gate.wait(60)
                with outer.lock:
                    location = outer.redirects.get(path)
                    if location is not None:
                        outer.served.append((path, self.headers.get("Range"),
                                             self.headers.get("If-Range"), 302, 0))
                if location is not None:
                    self.send_response(302)
                    self.send_header("Location", location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with outer.lock:
                    busy = outer.unavailable.get(os.path.basename(path), 0)
                    if busy > 0:
                        outer.unavailable[os.path.basename(path)] = busy - 1
                        outer.served.append((path, None, None, 503, 0))
                if busy > 0:
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                name = os.path.join(outer.dir, os.path.basename(path))
                if not os.path.isfile(name):
                    self.send_error(404)
                    return
                with open(name, "rb") as f:
                    data = f.read()
                chunked = path.startswith("/chunked/")
                etag = '"%s"' % hashlib.md5(data).hexdigest()
                rng, cond = self.headers.get("Range"), self.headers.get("If-Range")
                m = re.fullmatch(r"bytes=(\d+)-", rng or "")
                status, total = 200, len(data)
                if m and outer.ranges and not chunked and cond in (None, etag):
                    if int(m.group(1)) >= total:
                        status, data = 416, b""
                    else:
                        status, data = 206, data[int(m.group(1)):]
                with outer.lock:
                    outer.served.append((path, rng, cond, status, len(data)))
                self.send_response(status)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("ETag", etag)
                if status == 206:
                    self.send_header("Content-Range", "bytes %d-%d/%d" % (
                        total - len(data), total - 1, total))
                elif status == 416:
                    self.send_header("Content-Range", "bytes */%d" % total)
                if chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if not chunked and not path.startswith("/slow/"):
                    try:
                        self.wfile.write(data)
                    except (BrokenPipeError, ConnectionResetError):
                        outer.gone.set()
                    return
                try:
                    for i in range(0, len(data), outer.chunk):
                        if i > 0:
                            time.sleep(outer.interval)
                        c = data[i:i + outer.chunk]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(c), c) if chunked else c)
                        self.wfile.flush()
                    if chunked:
                        self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    outer.gone.set()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.scheme = "http"
        if tls_dir:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(os.path.join(tls_dir, "server.pem"),
                                os.path.join(tls_dir, "server.key"))
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "%s://127.0.0.1:%d%s" % (self.scheme, self.port, path)

    def fetches(self, path):
        with self.lock:
            return [ua for p, ua in self.log if p == path]

    def stop(self):
        self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def tmpdir():
    return h.tmpdir("vodhook-up-")


def now():
    return time.time()

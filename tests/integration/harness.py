"""Shared helpers for vodhook's integration tests.

The tests drive the real vodhook binary (VODHOOK_BIN, set by CTest) over real
HTTP on 127.0.0.1, against the throwaway PostgreSQL cluster that tests/run.sh
starts (VH_TEST_DATABASE_URL). Each test class gets a database of its own.
Python standard library only.
"""
import http.client
import atexit
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid

BIN = os.environ.get("VODHOOK_BIN", "")
SOURCE_DIR = os.environ.get("VODHOOK_SOURCE_DIR",
                            os.path.join(os.path.dirname(__file__), "..", ".."))
BASE_URL = os.environ.get("VH_TEST_DATABASE_URL", "")
# Seconds any awaited condition may take before a test fails; tests/run.sh
# --tsan sets VH_TEST_WAIT longer, since instrumented code runs slower.
WAIT = float(os.environ.get("VH_TEST_WAIT", "30"))
# How much slower than usual the code under test runs (3 under --tsan): a
# test's own time limits (timeout=...) are stretched by it.
SLOW = max(1.0, WAIT / 30.0)


def require_env(testcase):
    # A failure, not a skip: a suite whose integration tests were skipped
    # must not look like one that passed.
    if not BIN or not BASE_URL:
        raise AssertionError("run through tests/run.sh (needs VODHOOK_BIN and "
                             "VH_TEST_DATABASE_URL); ctest -L unit runs the unit "
                             "tests alone")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, what, timeout=None, interval=0.02):
    """Poll cond() until it returns a true value; fail with what otherwise.
    timeout: seconds (stretched by SLOW), WAIT when None."""
    deadline = time.monotonic() + (WAIT if timeout is None else timeout * SLOW)
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(interval)


def db_url(base, dbname):
    u = urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + dbname, u.query, ""))


def psql(url, sql, *args):
    """Run sql (with psql variables :'v1'.. from args); rows as lists."""
    cmd = ["psql", "-X", "-q", "-tA", "-F", "\t", "-v", "ON_ERROR_STOP=1", url]
    for i, a in enumerate(args, 1):
        cmd += ["-v", "v%d=%s" % (i, a)]
    out = subprocess.run(cmd, input=sql, capture_output=True, text=True,
                         timeout=60)
    if out.returncode != 0:
        raise AssertionError("psql failed: %s\n%s" % (out.stderr, sql))
    return [line.split("\t") for line in out.stdout.splitlines() if line != ""]


def fresh_database(options=""):
    """A new, empty database; options: more of CREATE DATABASE's."""
    name = "t_" + uuid.uuid4().hex[:16]
    psql(db_url(BASE_URL, "postgres"), "CREATE DATABASE %s %s" % (name, options))
    return db_url(BASE_URL, name)


def clean_env(extra):
    """The environment for vodhook: ours, minus inherited VODHOOK_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VODHOOK_")}
    env.update(extra)
    return env


def run(args, env, timeout=60, **kw):
    r = subprocess.run([BIN] + args, env=clean_env(env), capture_output=True,
                       text=True, timeout=timeout * SLOW, **kw)
    # A test that expects the command to fail must not take a data race
    # (tests/run.sh --tsan) for the failure it expects.
    if "WARNING: ThreadSanitizer:" in (r.stderr or ""):
        raise AssertionError("ThreadSanitizer reported:\n" + r.stderr)
    return r


class HttpClient:
    def __init__(self, port):
        self.port = port
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        """One request on a kept-alive connection; (status, headers, body).
        Sent again, once, only when a reused connection turns out closed
        (the daemon ends idle ones); a request left unanswered for WAIT
        seconds fails, so that a hung handler cannot pass unnoticed."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        while True:
            reused = self.conn is not None
            if not reused:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=WAIT)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
                return resp.status, resp, data
            except (ConnectionError, http.client.HTTPException, OSError) as ex:
                self.conn.close()
                self.conn = None
                if not reused or isinstance(ex, TimeoutError):
                    raise

    def json(self, method, path, body=None, headers=None):
        status, resp, data = self.request(method, path, body, headers)
        return status, resp, (json.loads(data) if data else None)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def tmpdir(prefix):
    """A fresh directory under /tmp, removed with everything in it when the
    test process exits (a failing test has printed the logs it needs)."""
    d = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, d, True)
    return d


class Daemon:
    """A vodhook serve process on a free port."""

    def __init__(self, database_url, env=None, args=None):
        self.port = free_port()
        self.dir = tmpdir("vodhook-it-")
        self.log_path = os.path.join(self.dir, "vodhook.log")
        self.env = {
            "VODHOOK_DATABASE_URL": database_url,
            "VODHOOK_LISTEN": "127.0.0.1:%d" % self.port,
            "VODHOOK_THREADS": "8",
            "VODHOOK_SPOOL_DIR": os.path.join(self.dir, "spool"),
            "VODHOOK_TENCENT_ALLOW_UNVERIFIED": "1",
            "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
        }
        self.env.update(env or {})
        self.args = args or []
        self.proc = None
        self.client = HttpClient(self.port)

    def start(self, wait_ready=True):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([BIN] + self.args + ["serve"],
                                     env=clean_env(self.env),
                                     stdout=self.log, stderr=subprocess.STDOUT)
        if wait_ready:
            def up():
                if self.proc.poll() is not None:
                    raise AssertionError("vodhook exited with %s:\n%s" %
                                         (self.proc.returncode, self.logs()))
                try:
                    return self.client.request("GET", "/healthz")[0] == 200
                except OSError:
                    return False
            wait_for(up, "vodhook to answer /healthz")
        return self

    def logs(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=WAIT):
        """Stop the process; returns its exit status."""
        self.client.close()
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.log.close()
        self.proc = None
        self.check_no_race()
        return rc

    def check_no_race(self):
        """Fail when ThreadSanitizer reported in the log (tests/run.sh
        --tsan), even when the test ends the process by a signal and does
        not look at how it exited."""
        if "WARNING: ThreadSanitizer:" in self.logs():
            raise AssertionError("ThreadSanitizer reported:\n" + self.logs())

    def kill(self):
        return self.stop(signal.SIGKILL)

    def stop_checked(self):
        """Stop the process; fail unless it exited cleanly (a sanitizer
        report makes it exit non-zero)."""
        rc = self.stop()
        if rc not in (0, None):
            raise AssertionError("vodhook exited with %s:\n%s" % (rc, self.logs()))

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if exc[0] is None:
            self.stop_checked()
        else:
            self.stop()


class TcpProxy:
    """A TCP forwarder on a free loopback port to (host, port) that can be
    made to stop forwarding without closing anything: a database that has
    gone silent (a network partition, a hung host) rather than one that
    refuses connections. freeze(up, down) stops the client-to-server and/or
    the server-to-client direction; what arrives meanwhile waits in the
    sockets, and thaw() passes it on."""

    def __init__(self, host, port):
        self.target = (host, port)
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        self.frozen = {"up": False, "down": False}
        self.closing = False
        self.socks = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, database_url):
        """database_url with its host and port replaced by the proxy's."""
        u = urllib.parse.urlsplit(database_url)
        netloc = "127.0.0.1:%d" % self.port
        if "@" in u.netloc:
            netloc = u.netloc.rsplit("@", 1)[0] + "@" + netloc
        q = urllib.parse.parse_qsl(u.query)
        q = [(k, v) for k, v in q if k not in ("host", "port")]
        return urllib.parse.urlunsplit(("postgresql", netloc, u.path,
                                        urllib.parse.urlencode(q), ""))

    def _accept(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            s = socket.create_connection(self.target)
            for x in (c, s):
                x.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.socks += [c, s]
            threading.Thread(target=self._pump, args=(c, s, "up"), daemon=True).start()
            threading.Thread(target=self._pump, args=(s, c, "down"), daemon=True).start()

    def _pump(self, src, dst, direction):
        while not self.closing:
            if self.frozen[direction]:
                time.sleep(0.01)
                continue
            r, _, _ = select.select([src], [], [], 0.01)
            if not r or self.frozen[direction]:
                continue
            try:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
            except OSError:
                break
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def freeze(self, up=True, down=True):
        self.frozen.update(up=up, down=down)

    def thaw(self):
        self.frozen.update(up=False, down=False)

    def close(self):
        self.closing = True
        self.lsock.close()
        with self.lock:
            for s in self.socks:
                s.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

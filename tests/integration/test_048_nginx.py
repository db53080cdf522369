"""deploy/nginx.conf in front of vodhook, run with Debian's nginx on
127.0.0.1: with 1,000 idle connections held open on nginx, signed callbacks of
both platforms through it are answered within a second and stored, the API
answers through it, and the Tencent token in a callback's path stays out of
nginx's log."""
import os
import resource
import shutil
import socket
import subprocess
import time
import unittest
import uuid

import harness as h
import vodevents as ve
from pki import Pki, curl

SIGN_KEY = "SignKeyForTests1"
TOKEN = "tok3n-for-the-path"
ALI_KEY = "AliKeyForTests1"
API_TOKEN = "api-token-for-tests"
IDLE = 1000
CONF = os.path.join(h.SOURCE_DIR, "deploy", "nginx.conf")


def nginx_conf(work, tls_port, upstream_port, cert, key):
    """deploy/nginx.conf with the test's addresses, files and user."""
    with open(CONF) as f:
        text = f.read()
    subs = [
        ("user www-data;", "user root;" if os.geteuid() == 0 else ""),
        ("pid /run/nginx-vodhook.pid;", "pid %s/nginx.pid;" % work),
        ("/var/log/nginx/vodhook-error.log", work + "/error.log"),
        ("/var/log/nginx/vodhook-access.log", work + "/access.log"),
        ("listen 443 ssl;", "listen 127.0.0.1:%d ssl;" % tls_port),
        ("server 127.0.0.1:8080;", "server 127.0.0.1:%d;" % upstream_port),
        ("/etc/vodhook/tls/fullchain.pem", cert),
        ("/etc/vodhook/tls/privkey.pem", key),
        ("http {\n", "http {\n\tclient_body_temp_path %s/body;\n"
                     "\tproxy_temp_path %s/proxy;\n" % (work, work)),
    ]
    for old, new in subs:
        if old not in text:
            raise AssertionError("deploy/nginx.conf no longer has %r" % old)
        text = text.replace(old, new)
    path = os.path.join(work, "nginx.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def raise_fd_limit(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))


def still_open(socks):
    """How many of socks nginx has not closed."""
    n = 0
    for s in socks:
        s.setblocking(False)
        try:
            n += s.recv(1) != b""
        except BlockingIOError:
            n += 1
        except OSError:
            pass
    return n


class BehindNginx(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.access(nginx, os.X_OK):
            raise AssertionError("nginx is not installed (deploy/deps.sh --test)")
        raise_fd_limit(IDLE + 512)
        cls.pki = Pki()
        cert, key = cls.pki.server("nginx", 0xA1)
        cls.url = h.fresh_database()
        cls.tls_port = h.free_port()
        cls.base = "https://127.0.0.1:%d" % cls.tls_port
        # Few workers: nginx, not vodhook, is to absorb the idle clients.
        cls.d = h.Daemon(cls.url, {
            "VODHOOK_TENCENT_SIGN_KEY": SIGN_KEY,
            "VODHOOK_TENCENT_CALLBACK_TOKEN": TOKEN,
            "VODHOOK_ALIBABA_CALLBACK_KEY": ALI_KEY,
            "VODHOOK_ALIBABA_CALLBACK_URL": cls.base + "/callbacks/alibaba",
            "VODHOOK_API_TOKEN": API_TOKEN,
            "VODHOOK_THREADS": "8"}).start()
        cls.work = h.tmpdir("vodhook-nginx-")
        os.chmod(cls.work, 0o755)
        conf = nginx_conf(cls.work, cls.tls_port, cls.d.port, cert, key)
        cls.nginx = subprocess.Popen(
            [nginx, "-p", cls.work, "-c", conf, "-e", cls.work + "/error.log",
             "-g", "daemon off;"], stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT)

        def up():
            if cls.nginx.poll() is not None:
                raise AssertionError("nginx exited: " + cls.read("error.log"))
            try:
                return curl(cls.pki, cls.base + "/readyz")[0] == 200
            except AssertionError:
                return False
        h.wait_for(up, "nginx to answer /readyz")

    @classmethod
    def read(cls, name):
        try:
            with open(os.path.join(cls.work, name)) as f:
                return f.read()
        except OSError:
            return ""

    @classmethod
    def tearDownClass(cls):
        cls.nginx.terminate()
        try:
            cls.nginx.wait(timeout=h.WAIT)
        finally:
            if cls.nginx.poll() is None:
                cls.nginx.kill()
                cls.nginx.wait()
        cls.d.stop_checked()

    def tencent(self, path):
        t = int(time.time()) + 600
        fid = str(uuid.uuid4().int)[:19]
        ev = dict(ve.tencent_new_file_upload(fid), Sign=ve.tencent_sign(SIGN_KEY, t), T=t)
        return fid, self.timed(self.base + path, ve.body(ev))

    def alibaba(self):
        vid = uuid.uuid4().hex
        ev = ve.alibaba_event("FileUploadComplete", vid, Size=10, FileUrl="http://a/b.mp4")
        hdrs = ve.alibaba_headers(self.base + "/callbacks/alibaba", ALI_KEY)
        hdrs.pop("Content-Type")
        return vid, self.timed(self.base + "/callbacks/alibaba", ve.body(ev), hdrs)

    def timed(self, url, body, headers=None):
        t0 = time.monotonic()
        st, resp = curl(self.pki, url, body, headers)
        took = time.monotonic() - t0
        self.assertEqual((st, resp["status"]), (200, "stored"), resp)
        self.assertLess(took, 1.0, "callback answered in %.2f s" % took)
        return took

    def stored(self, provider, file_id):
        return int(h.psql(self.url, "SELECT count(*) FROM vod_events WHERE "
                                    "provider = :'v1' AND file_id = :'v2'",
                          provider, file_id)[0][0])

    def test_callbacks_answered_with_1000_idle_connections(self):
        idle = []
        try:
            # Half connect and say nothing; half start a TLS record and stop.
            for i in range(IDLE):
                s = socket.create_connection(("127.0.0.1", self.tls_port), timeout=10)
                if i % 2:
                    s.sendall(b"\x16\x03\x01")
                idle.append(s)
            ids = []
            for _ in range(5):
                fid, _ = self.tencent("/callbacks/tencent/" + TOKEN)
                ids.append(("tencent", fid))
                vid, _ = self.alibaba()
                ids.append(("alibaba", vid))
            # The idle connections were held all along.
            self.assertGreaterEqual(still_open(idle), IDLE - 10)
        finally:
            for s in idle:
                s.close()
        for provider, file_id in ids:
            self.assertEqual(self.stored(provider, file_id), 1, (provider, file_id))

    def test_api_and_what_is_refused(self):
        fid, _ = self.tencent("/callbacks/tencent/" + TOKEN)
        auth = {"Authorization": "Bearer " + API_TOKEN}
        st, m = curl(self.pki, self.base + "/v1/media/tencent/" + fid, headers=auth)
        self.assertEqual((st, m["file_id"]), (200, fid), m)
        st, _ = curl(self.pki, self.base + "/v1/media/tencent/" + fid)
        self.assertEqual(st, 401)
        st, _ = curl(self.pki, self.base + "/metrics")
        self.assertEqual(st, 404)
        # The status page and its files pass; other paths do not.
        st, page = curl(self.pki, self.base + "/")
        self.assertEqual(st, 200)
        self.assertIn("/ui/app.js", page)
        self.assertEqual(curl(self.pki, self.base + "/ui/app.css")[0], 200)
        self.assertEqual(curl(self.pki, self.base + "/index.html")[0], 404)
        # Bodies past vodhook's cap stop at nginx.
        st, _ = curl(self.pki, self.base + "/callbacks/alibaba", b"x" * (2 << 20))
        self.assertEqual(st, 413)
        h.wait_for(lambda: "/callbacks/tencent/*" in self.read("access.log"),
                   "nginx to log the callback")
        self.assertNotIn(TOKEN, self.read("access.log"))
        self.assertNotIn(TOKEN, self.d.logs())


if __name__ == "__main__":
    unittest.main()

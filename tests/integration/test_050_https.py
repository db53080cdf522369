"""HTTPS on the receiver: signed callbacks of both platforms and the API over
TLS (curl with a test CA), TLS 1.1 and plain HTTP to the HTTPS port refused
with nothing stored, HTTPS alone, start-up refusing a missing, unreadable or
mismatched certificate or key, and a renewed certificate taken on SIGHUP
without a restart; real daemon, real PostgreSQL, real openssl and curl."""
import shutil
import signal
import socket
import subprocess
import time
import unittest
import uuid

import harness as h
import vodevents as ve
from pki import Pki, curl

SIGN_KEY = "SignKeyForTests1"
ALI_KEY = "AliKeyForTests1"
API_TOKEN = "api-token-for-tests"


def daemon_env(pki, cert, key, tls_port, **extra):
    env = {"VODHOOK_TENCENT_SIGN_KEY": SIGN_KEY,
           "VODHOOK_ALIBABA_CALLBACK_KEY": ALI_KEY,
           "VODHOOK_API_TOKEN": API_TOKEN,
           "VODHOOK_TLS_LISTEN": "127.0.0.1:%d" % tls_port,
           "VODHOOK_TLS_CERT_FILE": cert,
           "VODHOOK_TLS_KEY_FILE": key}
    env.update(extra)
    return env


def served_serial(port, extra=()):
    """The serial of the certificate served on port (None: no handshake)."""
    hs = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
                         "-servername", "localhost"] + list(extra),
                        input=b"", capture_output=True, timeout=30)
    if hs.returncode != 0:
        return None
    x = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=hs.stdout,
                       capture_output=True, timeout=30)
    return x.stdout.decode().strip().split("=")[-1] if x.returncode == 0 else None


def count_events(url):
    return int(h.psql(url, "SELECT count(*) FROM vod_events")[0][0])


class Https(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.pki = Pki()
        cls.cert, cls.key = cls.pki.server("a", 0xA1)
        cls.url = h.fresh_database()
        cls.tls_port = h.free_port()
        cls.d = h.Daemon(cls.url, daemon_env(cls.pki, cls.cert, cls.key,
                                             cls.tls_port)).start()
        cls.base = "https://127.0.0.1:%d" % cls.tls_port

    @classmethod
    def tearDownClass(cls):
        cls.d.stop_checked()

    def tencent(self):
        fid = str(uuid.uuid4().int)[:19]
        t = int(time.time()) + 600
        ev = dict(ve.tencent_new_file_upload(fid), Sign=ve.tencent_sign(SIGN_KEY, t), T=t)
        return fid, ve.body(ev)

    def test_signed_callbacks_of_both_platforms(self):
        fid, body = self.tencent()
        st, resp = curl(self.pki, self.base + "/callbacks/tencent", body)
        self.assertEqual((st, resp["status"]), (200, "stored"), resp)
        # Alibaba signs the URL it posts to: here the https one.
        vid = uuid.uuid4().hex
        ali_url = self.base + "/callbacks/alibaba"
        ev = ve.alibaba_event("FileUploadComplete", vid, Size=10,
                              FileUrl="http://a/b.mp4")
        hdrs = ve.alibaba_headers(ali_url, ALI_KEY)
        hdrs.pop("Content-Type")
        st, resp = curl(self.pki, ali_url, ve.body(ev), hdrs)
        self.assertEqual((st, resp["status"]), (200, "stored"), resp)
        # The API over HTTPS finds both.
        auth = {"Authorization": "Bearer " + API_TOKEN}
        st, m = curl(self.pki, self.base + "/v1/media/tencent/" + fid, headers=auth)
        self.assertEqual((st, m["file_id"]), (200, fid), m)
        st, m = curl(self.pki, self.base + "/v1/media/alibaba/" + vid, headers=auth)
        self.assertEqual((st, m["file_id"]), (200, vid), m)
        st, m = curl(self.pki, self.base + "/v1/media/tencent/" + fid)
        self.assertEqual(st, 401, m)

    def test_tls_1_1_refused_by_the_server(self):
        # The client allows TLS 1.1 at any security level, so that it is the
        # server's minimum that refuses it; TLS 1.2 on the same terms works.
        lax = ["-cipher", "DEFAULT@SECLEVEL=0"]
        hs = subprocess.run(["openssl", "s_client", "-connect",
                             "127.0.0.1:%d" % self.tls_port, "-tls1_1"] + lax,
                            input=b"", capture_output=True, timeout=30)
        self.assertNotEqual(hs.returncode, 0)
        # Refused for its version (alert 70), not for a cipher or signature.
        self.assertIn(b"alert protocol version", hs.stdout + hs.stderr)
        self.assertEqual(served_serial(self.tls_port, ["-tls1_2"] + lax), "A1")

    def test_plain_http_to_the_https_port_refused(self):
        before = count_events(self.url)
        _, body = self.tencent()
        req = (b"POST /callbacks/tencent HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
               % len(body)) + body
        with socket.create_connection(("127.0.0.1", self.tls_port), timeout=10) as s:
            s.sendall(req)
            got = b""
            while True:
                try:
                    chunk = s.recv(4096)
                except (ConnectionResetError, TimeoutError):
                    break
                if not chunk:
                    break
                got += chunk
        self.assertFalse(got.startswith(b"HTTP/1.1 200"), got)
        # The plain port still answers, and nothing was stored.
        self.assertEqual(self.d.client.request("GET", "/healthz")[0], 200)
        self.assertEqual(count_events(self.url), before)


class HttpsAlone(unittest.TestCase):
    def test_plain_http_off(self):
        h.require_env(self)
        pki = Pki()
        cert, key = pki.server("a", 0xA1)
        tls_port = h.free_port()
        d = h.Daemon(h.fresh_database(), daemon_env(pki, cert, key, tls_port,
                                                    VODHOOK_LISTEN=""))
        d.start(wait_ready=False)
        try:
            base = "https://127.0.0.1:%d" % tls_port

            def up():
                if d.proc.poll() is not None:
                    raise AssertionError("vodhook exited:\n" + d.logs())
                try:
                    return curl(pki, base + "/healthz")[0] == 200
                except AssertionError:
                    return False
            h.wait_for(up, "vodhook to answer /healthz over HTTPS")
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", d.port), timeout=5).close()
        finally:
            d.stop()
        self.assertEqual(d.proc, None)


class StartUp(unittest.TestCase):
    """A bad certificate or key stops start-up: exit 1, one line naming the
    setting and the reason."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.pki = Pki()
        cls.cert, cls.key = cls.pki.server("a", 0xA1)
        cls.other_cert, cls.other_key = cls.pki.server("b", 0xB2)

    def serve(self, cert, key):
        env = daemon_env(self.pki, cert, key, h.free_port(),
                         VODHOOK_DATABASE_URL="postgresql://127.0.0.1:1/none",
                         VODHOOK_LISTEN="127.0.0.1:%d" % h.free_port())
        out = h.run(["serve"], env, timeout=30)
        lines = out.stderr.strip().splitlines()
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertEqual(len(lines), 1, out.stderr)
        return lines[0]

    def test_missing_files(self):
        line = self.serve(self.pki.path("nope.pem"), self.key)
        self.assertRegex(line, r"^vodhook: tls_cert_file: could not open .*nope.pem.*No such file")
        line = self.serve(self.cert, self.pki.path("nope.key"))
        self.assertRegex(line, r"^vodhook: tls_key_file: could not open .*nope.key.*No such file")

    def test_unreadable_files(self):
        # A directory cannot be read as a file, even by root.
        line = self.serve(self.pki.dir, self.key)
        self.assertRegex(line, r"^vodhook: tls_cert_file: could not read .*Is a directory")
        line = self.serve(self.cert, self.pki.dir)
        self.assertRegex(line, r"^vodhook: tls_key_file: could not read .*Is a directory")

    def test_not_pem(self):
        line = self.serve(self.key, self.key)
        self.assertRegex(line, r"^vodhook: tls_cert_file: .*a.key.* holds no PEM certificate")
        line = self.serve(self.cert, self.cert)
        self.assertRegex(line, r"^vodhook: tls_key_file: .*a.pem.* holds no PEM private key")

    def test_mismatched_key(self):
        line = self.serve(self.cert, self.other_key)
        self.assertRegex(line, r"^vodhook: tls_key_file: .*b.key.* is not the key of "
                               r"the certificate in tls_cert_file .*a.pem")

    def test_settings_that_go_together(self):
        env = {"VODHOOK_TLS_LISTEN": "127.0.0.1:1", "VODHOOK_TLS_CERT_FILE": self.cert,
               "VODHOOK_DATABASE_URL": "postgresql://127.0.0.1:1/none"}
        out = h.run(["serve"], env, timeout=30)
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn("tls_key_file: not set, and tls_listen needs it", out.stderr)
        env = {"VODHOOK_LISTEN": "", "VODHOOK_DATABASE_URL": "postgresql://127.0.0.1:1/none"}
        out = h.run(["serve"], env, timeout=30)
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn("would not listen at all", out.stderr)


class Reload(unittest.TestCase):
    def test_renewed_certificate_on_sighup(self):
        h.require_env(self)
        pki = Pki()
        cert, key = pki.server("live", 0xA1)
        renewed_cert, renewed_key = pki.server("renewed", 0xB2)
        _, other_key = pki.server("other", 0xC3)
        url = h.fresh_database()
        tls_port = h.free_port()
        with h.Daemon(url, daemon_env(pki, cert, key, tls_port)) as d:
            base = "https://127.0.0.1:%d" % tls_port
            self.assertEqual(served_serial(tls_port), "A1")
            shutil.copy(renewed_cert, cert)
            shutil.copy(renewed_key, key)
            d.proc.send_signal(signal.SIGHUP)
            h.wait_for(lambda: served_serial(tls_port) == "B2",
                       "the renewed certificate to be served")
            self.assertIn("reloaded the HTTPS certificate", d.logs())
            t = int(time.time()) + 600
            fid = str(uuid.uuid4().int)[:19]
            ev = dict(ve.tencent_new_file_upload(fid), Sign=ve.tencent_sign(SIGN_KEY, t), T=t)
            st, resp = curl(pki, base + "/callbacks/tencent", ve.body(ev))
            self.assertEqual((st, resp["status"]), (200, "stored"), resp)
            # A bad pair on SIGHUP is refused; the previous one is still served.
            shutil.copy(other_key, key)
            d.proc.send_signal(signal.SIGHUP)
            h.wait_for(lambda: "kept the previous HTTPS certificate" in d.logs(),
                       "the bad pair to be refused")
            self.assertEqual(served_serial(tls_port), "B2")
            self.assertIsNone(d.proc.poll())


if __name__ == "__main__":
    unittest.main()

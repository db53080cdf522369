"""URL sources and where they may lead: the special-purpose addresses
refused at submission and on every connection, redirects (followed, a
few, never from https to http), proxies (the environment's ignored,
upload_url_proxy's used). A resume through a redirect is test_010's
(UploadResume).
"""
import os
import re
import socket
import unittest

import harness as h
import uploadlib as U

EMU = None


def setUpModule():
    global EMU
    EMU = U.module_emu()


def tearDownModule():
    U.stop_emu(EMU)


class UrlApi(unittest.TestCase):
    """One daemon allowing private URLs (the media servers are on
    127.0.0.1), plain http to the emulator."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.class_daemon(cls, EMU, {"VODHOOK_UPLOAD_ALLOW_PRIVATE_URLS": "1"}).start()

    @classmethod
    def tearDownClass(cls):
        U.stop_daemon(cls.d)

    def submit(self, **body):
        return U.submit(self, self.d, "tencent", body)["id"]

    def test_special_addresses_refused_even_with_private_urls_allowed(self):
        # upload_allow_private_urls opens loopback and private-use blocks
        # only: benchmarking, IETF protocol, link-local (cloud metadata),
        # "this network" and the IPv4 in IPv6 forms of these stay refused.
        for url in ("http://198.18.0.1/x.mp4", "http://192.0.0.1/x.mp4",
                    "http://169.254.169.254/latest/x.mp4", "http://0.0.0.0/x.mp4",
                    "http://100.100.100.200/x.mp4", "http://[::ffff:198.18.0.1]/x.mp4",
                    "http://[64:ff9b::a9fe:a9fe]/x.mp4", "http://[fe80::1]/x.mp4"):
            with self.subTest(url=url):
                st, _, doc = U.post_upload(self.d, {"provider": "tencent", "url": url})
                self.assertEqual(st, 403, doc)
                self.assertIn("always refused", doc["error"]["message"])

    def url_job(self, srv, path, states=("uploaded", "confirmed", "ready", "failed")):
        uid = self.submit(url=srv.url(path))
        return U.wait_state(self.d, uid, states)

    def test_url_redirects_are_followed(self):
        # A signed CDN link redirects: each hop is followed (up to 5), the
        # body of the last one uploaded.
        srv = U.MediaServer()
        try:
            _, md5 = U.make_file(srv.dir, "cdn.mp4", 300 * 1024)
            srv.redirects["/link/cdn.mp4"] = "/signed/one/cdn.mp4"
            srv.redirects["/signed/one/cdn.mp4"] = srv.url("/signed/two/cdn.mp4?sig=abc")
            doc = self.url_job(srv, "/link/cdn.mp4")
            statuses = [(p, st) for p, _, _, st, _ in srv.served]
        finally:
            srv.stop()
        self.assertNotEqual(doc["state"], "failed", doc)
        self.assertEqual(statuses, [("/link/cdn.mp4", 302), ("/signed/one/cdn.mp4", 302),
                                    ("/signed/two/cdn.mp4", 200)])
        o = EMU.stored(doc["file_id"])
        self.assertEqual((o["md5"], o["size"]), (md5, 300 * 1024))

    def test_url_redirect_to_a_refused_address_fails(self):
        # The address of every hop is checked where curl connects: a
        # redirect to a special-purpose address fails the job for good,
        # without a connection to it.
        srv = U.MediaServer()
        try:
            srv.redirects["/to-bench.mp4"] = "http://198.18.0.1:9/x.mp4"
            srv.redirects["/to-metadata.mp4"] = "http://169.254.169.254/latest/x.mp4"
            docs = [self.url_job(srv, p) for p in ("/to-bench.mp4", "/to-metadata.mp4")]
        finally:
            srv.stop()
        for doc, block in zip(docs, ("198.18.0.0/15", "169.254.0.0/16")):
            self.assertEqual((doc["state"], doc["error"]["code"], doc["attempts"]),
                             ("failed", "ERR_FORBIDDEN", 1), doc)
            self.assertIn("a redirect leads to " + block, doc["error"]["message"])
            self.assertIn("always refused", doc["error"]["message"])

    def test_url_redirected_more_than_five_times_fails(self):
        srv = U.MediaServer()
        try:
            _, _ = U.make_file(srv.dir, "far.mp4", 1000)
            for i in range(6):
                srv.redirects["/hop%d/far.mp4" % i] = "/hop%d/far.mp4" % (i + 1)
            doc = self.url_job(srv, "/hop0/far.mp4")
            hops = [p for p, _, _, st, _ in srv.served]
        finally:
            srv.stop()
        self.assertEqual((doc["state"], doc["error"]["code"]), ("failed", "ERR_INPUT"), doc)
        self.assertIn("more than 5 redirects", doc["error"]["message"])
        self.assertEqual(hops, ["/hop%d/far.mp4" % i for i in range(6)])


class UrlCli(unittest.TestCase):
    """vodhook upload, in-process, over https with the emulator's CA: the
    environment's http_proxy then concerns the URL source only."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.class_db(cls, migrate=True)

    def cli(self, args, extra=None):
        env = U.upload_env(EMU, self.root, {"VODHOOK_DATABASE_URL": self.db}, tls=True)
        env.update(extra or {})
        return h.run(["upload"] + args, env, timeout=120)

    def cli_url(self, url, extra):
        """vodhook upload of url; (exit status, upload record or None, stderr)."""
        r = self.cli(["--provider", "tencent", url], dict({"VODHOOK_UPLOAD_MAX_ATTEMPTS": "1"},
                                                         **extra))
        m = re.search(r"upload_id: (\S+)", r.stdout)
        doc = None
        if m:
            rows = h.psql(self.db, "SELECT state, error_code, error_message, file_id, attempts"
                          " FROM uploads WHERE id = :'v1'", m.group(1))
            doc = dict(zip(("state", "error_code", "error_message", "file_id", "attempts"),
                           rows[0]))
        return r.returncode, doc, r.stderr

    def test_url_ignores_the_proxy_environment(self):
        # curl takes http_proxy from the environment unless told not to:
        # a URL source goes through no proxy but upload_url_proxy's. The
        # platform requests (https here) are not concerned.
        srv = U.MediaServer()
        closed = socket.socket()
        try:
            closed.bind(("127.0.0.1", 0))
            _, md5 = U.make_file(srv.dir, "noproxy.mp4", 200 * 1024)
            st, doc, err = self.cli_url(srv.url("/noproxy.mp4"), {
                "VODHOOK_UPLOAD_ALLOW_PRIVATE_URLS": "1",
                "http_proxy": "http://127.0.0.1:%d" % closed.getsockname()[1]})
        finally:
            closed.close()
            srv.stop()
        self.assertEqual(st, 0, err)
        self.assertEqual(EMU.stored(doc["file_id"])["md5"], md5)

    def test_url_that_does_not_answer_is_retried(self):
        # No answer at all (a closed port) is a network failure, tried
        # again like one, not a refusal read from a status never received.
        closed = socket.socket()
        try:
            closed.bind(("127.0.0.1", 0))
            st, doc, err = self.cli_url(
                "http://127.0.0.1:%d/x.mp4" % closed.getsockname()[1],
                {"VODHOOK_UPLOAD_ALLOW_PRIVATE_URLS": "1", "VODHOOK_UPLOAD_MAX_ATTEMPTS": "2"})
        finally:
            closed.close()
        self.assertEqual(st, 1, err)
        self.assertEqual((doc["state"], doc["error_code"], doc["attempts"]),
                         ("failed", "ERR_NET", "2"), doc)
        self.assertIn("could not download the url", doc["error_message"])

    def test_url_through_the_proxy_setting(self):
        # upload_url_proxy names a proxy (here on loopback, which is not
        # checked: the operator named it): the download goes through it,
        # and a name is the proxy's to resolve. A redirect to a literal
        # special-purpose address is still refused.
        proxy = U.MediaServer()
        try:
            _, md5 = U.make_file(proxy.dir, "proxied.mp4", 200 * 1024)
            proxy.redirects["/bounce.mp4"] = "http://198.18.0.1/x.mp4"
            env = {"VODHOOK_UPLOAD_URL_PROXY": proxy.url("")}
            st, doc, err = self.cli_url("http://media.invalid/proxied.mp4", env)
            st2, doc2, err2 = self.cli_url("http://media.invalid/bounce.mp4", env)
            fetched = proxy.fetches("/proxied.mp4")
        finally:
            proxy.stop()
        self.assertEqual(st, 0, err)
        self.assertEqual(EMU.stored(doc["file_id"])["md5"], md5)
        self.assertEqual(len(fetched), 1)
        self.assertEqual(st2, 1, err2)
        self.assertEqual((doc2["state"], doc2["error_code"]), ("failed", "ERR_FORBIDDEN"), doc2)
        self.assertIn("198.18.0.0/15", doc2["error_message"])

    def test_bad_proxy_setting_stops_start_up(self):
        r = self.cli(["--provider", "tencent", "http://media.invalid/x.mp4"],
                     {"VODHOOK_UPLOAD_URL_PROXY": "ftp://user:s3cr3t@proxy"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("upload_url_proxy", r.stderr)
        self.assertNotIn("s3cr3t", r.stderr)

    def test_url_redirect_from_https_to_http_refused(self):
        # An https URL may redirect to https only: its bytes are not
        # fetched in the clear because a server said so.
        tls = U.MediaServer(tls_dir=os.path.dirname(EMU.ca))
        plain = U.MediaServer()
        try:
            _, md5 = U.make_file(tls.dir, "secure.mp4", 100 * 1024)
            U.make_file(plain.dir, "plain.mp4", 100 * 1024)
            tls.redirects["/up.mp4"] = tls.url("/secure.mp4")
            tls.redirects["/down.mp4"] = plain.url("/plain.mp4")
            env = {"VODHOOK_UPLOAD_ALLOW_PRIVATE_URLS": "1"}
            st, doc, err = self.cli_url(tls.url("/up.mp4"), env)
            st2, doc2, err2 = self.cli_url(tls.url("/down.mp4"), env)
            plain_served = list(plain.served)
        finally:
            tls.stop()
            plain.stop()
        self.assertEqual(st, 0, err)
        self.assertEqual(EMU.stored(doc["file_id"])["md5"], md5)
        self.assertEqual(st2, 1, err2)
        self.assertEqual((doc2["state"], doc2["error_code"]), ("failed", "ERR_INPUT"), doc2)
        self.assertIn("never https to http", doc2["error_message"])
        self.assertEqual(plain_served, [])

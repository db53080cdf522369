"""The status page at / and the API it reads (/v1/summary, /v1/failures,
/v1/webhooks).

The page's files and the API are checked over HTTP; the page itself in
Debian's chromium, headless, driven by tests/integration/page/page.js
(puppeteer-core, pinned in page/package.json and installed there by npm on
the first run). Screenshots of each view go to <build>/artifacts/page/;
with VODHOOK_UPDATE_SCREENSHOT=1 the overview's also replaces
docs/status-page.png.
"""
import http.server
import json
import os
import shutil
import subprocess
import threading
import time
import unittest
import uuid

import harness as h
import uploadlib as U
import vodevents as ve

EMU = None
TOKEN = "t0ken"
AUTH = {"Authorization": "Bearer " + TOKEN}
ALI_KEY = "ali-page-key"
PAGE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "page")
PINS = {"puppeteer-core": "25.16.0"}
ARTIFACTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(h.BIN or "."))),
                         "artifacts", "page")


def setUpModule():
    global EMU
    EMU = U.module_emu()


def tearDownModule():
    U.stop_emu(EMU)


def installed():
    for name, ver in PINS.items():
        try:
            with open(os.path.join(PAGE_DIR, "node_modules", name, "package.json")) as f:
                if json.load(f).get("version") != ver:
                    return False
        except (OSError, ValueError):
            return False
    return True


def ensure_puppeteer():
    """puppeteer-core in page/node_modules, installed by npm when missing; a
    failure, not a skip, when it cannot be (deploy/deps.sh --test installs
    chromium and npm)."""
    if installed():
        return
    if not shutil.which("npm") or not shutil.which("node"):
        raise AssertionError("node/npm not found: run deploy/deps.sh --test")
    p = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=PAGE_DIR, capture_output=True, text=True, timeout=600)
    if p.returncode != 0 or not installed():
        raise AssertionError("npm install failed (rc=%s): %s"
                             % (p.returncode, (p.stderr or p.stdout)[-2000:]))


def problems(out):
    """What went wrong in the page: script errors, policy violations and
    refused requests."""
    return out["problems"]


def browse(scenario, **cfg):
    """Run one scenario of page.js; its JSON result."""
    cfg.setdefault("artifacts", ARTIFACTS)
    p = subprocess.run(["node", os.path.join(PAGE_DIR, "page.js"), scenario, json.dumps(cfg)],
                       cwd=PAGE_DIR, capture_output=True, text=True, timeout=300 * h.SLOW)
    if p.returncode != 0:
        raise AssertionError("page.js %s failed (rc=%d):\n%s" % (scenario, p.returncode,
                                                                   p.stderr[-4000:]))
    return json.loads(p.stdout.strip().splitlines()[-1])


class Refusing:
    """A webhook receiver on 127.0.0.1 that answers every POST 500, and
    counts them."""

    def __init__(self):
        owner = self
        self.hits = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.hits += 1
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hook" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def webhook(d, method, path, body=None):
    st, _, doc = d.client.json(method, path, body, dict(AUTH, **{
        "Content-Type": "application/json"}))
    return st, doc


class PageAndApi(unittest.TestCase):
    """The page's files and the API behind it, over plain HTTP."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.db = h.fresh_database()
        cls.d = h.Daemon(cls.db, {"VODHOOK_API_TOKEN": TOKEN,
                                  "VODHOOK_ALIBABA_CALLBACK_KEY": ALI_KEY}).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop_checked()

    def get(self, path, headers=None):
        return self.d.client.request("GET", path, headers=headers)

    def test_page_is_served_with_a_strict_policy(self):
        st, hdrs, body = self.get("/")
        self.assertEqual(st, 200)
        hdrs = {k.lower(): v for k, v in hdrs.getheaders()}
        self.assertTrue(hdrs["content-type"].startswith("text/html"), hdrs)
        csp = hdrs["content-security-policy"]
        for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'",
                          "connect-src 'self'", "img-src 'self' data:", "frame-ancestors 'none'",
                          "base-uri 'none'", "form-action 'none'"):
            self.assertIn(directive, csp)
        self.assertNotIn("unsafe", csp)
        self.assertEqual(hdrs["x-content-type-options"], "nosniff")
        self.assertEqual(hdrs["referrer-policy"], "no-referrer")
        html = body.decode()
        # No inline script or style, nothing from elsewhere.
        self.assertNotIn("<script>", html)
        self.assertNotIn("style=", html)
        self.assertNotIn("<style", html)
        self.assertNotIn("//", html.replace("http-equiv", "").split("<body>")[0]
                         .replace('href="/ui/', "").replace('src="/ui/', ""))
        for name, kind in (("app.js", "text/javascript"), ("app.css", "text/css")):
            st, hdrs, body = self.get("/ui/" + name)
            self.assertEqual(st, 200, name)
            hdrs = {k.lower(): v for k, v in hdrs.getheaders()}
            self.assertTrue(hdrs["content-type"].startswith(kind), hdrs)
            self.assertIn("default-src 'none'", hdrs["content-security-policy"])
            with open(os.path.join(h.SOURCE_DIR, "server", "ui", name), "rb") as f:
                self.assertEqual(body, f.read())
        self.assertEqual(self.get("/ui/nothing.js")[0], 404)
        self.assertEqual(self.get("/ui/index.html")[0], 404)
        self.assertEqual(self.get("/ui/../main.c")[0], 404)

    def test_summary_and_failures_need_the_token(self):
        for path in ("/v1/summary", "/v1/failures"):
            self.assertEqual(self.get(path)[0], 401)
            self.assertEqual(self.get(path, {"Authorization": "Bearer nope"})[0], 401)

    def test_summary_counts(self):
        vid = uuid.uuid4().hex
        url = "http://127.0.0.1:%d/callbacks/alibaba" % self.d.port
        st, _, doc = self.d.client.json("GET", "/v1/summary?minutes=5", headers=AUTH)
        self.assertEqual(st, 200, doc)
        before = sum(m["received"] for m in doc["callbacks"])
        for ev in (ve.alibaba_event("FileUploadComplete", vid, Size=5, FileUrl="http://o/v.mp4"),
                   ve.alibaba_event("TranscodeComplete", vid)):
            self.assertEqual(self.d.client.json("POST", "/callbacks/alibaba", ve.body(ev),
                                                ve.alibaba_headers(url, ALI_KEY))[0], 200)
        h.psql(self.db, "INSERT INTO uploads (id, provider, source_kind, source, state,"
               " lease_owner, lease_expires_at) VALUES (:'v1', 'tencent', 'file', '/x.mp4',"
               " 'uploading', 'elsewhere', now() + interval '1 hour')", str(uuid.uuid4()))
        last = {}

        def counted():
            st, _, last["doc"] = self.d.client.json("GET", "/v1/summary?minutes=5", headers=AUTH)
            self.assertEqual(st, 200, last["doc"])
            return ([m for m in last["doc"]["media"] if m["provider"] == "alibaba"
                     and m["state"] == "ready"] and last["doc"]["uploads"]["uploading"] >= 1)
        # The counts are at most a second old.
        h.wait_for(counted, "the summary to count the new records")
        doc = last["doc"]
        self.assertEqual(doc["database"], {"ready": True})
        self.assertEqual(len(doc["callbacks"]), 5)
        self.assertEqual(sum(m["received"] for m in doc["callbacks"]) - before, 2)
        self.assertEqual(set(doc["uploads"]), {"queued", "uploading", "committing"})
        self.assertEqual(set(doc["webhooks"]), {"subscriptions", "messages"})
        self.assertEqual(set(doc["webhooks"]["subscriptions"]), {"enabled", "disabled"})
        self.assertEqual(set(doc["webhooks"]["messages"]), {"pending", "failed"})
        self.assertEqual(doc["spool"]["pending_bytes"], 0)
        for bad in ("0", "61", "x", ""):
            self.assertEqual(self.get("/v1/summary?minutes=" + bad, AUTH)[0], 400, bad)

    def test_failures_keep_reasons_not_secrets(self):
        url = "http://127.0.0.1:%d/callbacks/alibaba" % self.d.port
        secret_body = '{"EventType":"FileUploadComplete","VideoId":"v-secret-body"}'
        hdrs = ve.alibaba_headers(url, "wrong-key")
        st, _, _ = self.d.client.request("POST", "/callbacks/alibaba", secret_body.encode(), hdrs)
        self.assertEqual(st, 401)
        st, _, _ = self.d.client.request("POST", "/callbacks/tencent/some-path-token", b"{}",
                                         {"Content-Type": "application/json"})
        h.psql(self.db, "INSERT INTO uploads (id, provider, source_kind, source, state,"
               " error_code, error_message) VALUES (:'v1', 'tencent', 'url',"
               " 'https://user:pw@example.com/a.mp4', 'failed', 'InvalidParameter', 'no such file')",
               str(uuid.uuid4()))
        st, _, doc = self.d.client.json("GET", "/v1/failures", headers=AUTH)
        self.assertEqual(st, 200, doc)
        rej = doc["rejected_callbacks"]
        self.assertTrue(rej, doc)
        ali = [r for r in rej if r["provider"] == "alibaba"][0]
        self.assertEqual(ali["route"], "/callbacks/alibaba")
        self.assertEqual(ali["peer"], "127.0.0.1")
        self.assertTrue(ali["reason"])
        self.assertRegex(ali["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        text = json.dumps(doc)
        for secret in ("v-secret-body", hdrs["X-VOD-SIGNATURE"], "some-path-token", "user:pw"):
            self.assertNotIn(secret, text)
        failed = doc["failed_uploads"]
        self.assertEqual(failed[0]["error"], {"code": "InvalidParameter", "message": "no such file"})
        self.assertNotIn("source", failed[0])
        self.assertEqual(doc["webhooks"], {"failed_messages": [], "disabled_subscriptions": []})

    def test_failures_show_webhooks_without_secrets(self):
        # A failed message and a disabled subscription, written as the
        # delivery and the API write them; the URL's path holds a token.
        sid = str(uuid.uuid4())
        h.psql(self.db, "INSERT INTO webhook_subscriptions (id, url, description, secret,"
               " enabled, disabled_at, disabled_reason) VALUES (:'v1',"
               " 'https://app.example:8443/hooks/path-token?key=query-token', 'billing',"
               " 'whsec_c2VjcmV0LXNpZ25pbmcta2V5', false, now(), 'disabled through the API')",
               sid)
        self.addCleanup(h.psql, self.db, "DELETE FROM webhook_subscriptions WHERE id = :'v1'",
                        sid)
        mid = h.psql(self.db, "INSERT INTO webhook_messages (subscription_id, type, subject,"
                     " seq, body, state, attempts, last_status, last_error, failed_at)"
                     " VALUES (:'v1', 'media.state_changed', 'media:tencent:f-9', 1,"
                     " '{\"body-secret\": 1}', 'failed', 8, 500, 'HTTP status 500', now())"
                     " RETURNING id", sid)[0][0]
        st, _, doc = self.d.client.json("GET", "/v1/failures", headers=AUTH)
        self.assertEqual(st, 200, doc)
        msg = doc["webhooks"]["failed_messages"][0]
        self.assertEqual(msg["id"], "msg_" + mid)
        self.assertEqual(msg["subscription"], {"id": sid, "description": "billing",
                                               "host": "app.example:8443"})
        self.assertEqual((msg["subject"], msg["attempts"], msg["last_status"], msg["last_error"]),
                         ("media:tencent:f-9", 8, 500, "HTTP status 500"))
        sub = doc["webhooks"]["disabled_subscriptions"][0]
        self.assertEqual((sub["id"], sub["host"], sub["disabled_reason"]),
                         (sid, "app.example:8443", "disabled through the API"))
        text = json.dumps(doc)
        for secret in ("path-token", "query-token", "whsec_", "body-secret"):
            self.assertNotIn(secret, text)

        def counted():
            st, _, s = self.d.client.json("GET", "/v1/summary", headers=AUTH)
            return s["webhooks"] if s["webhooks"]["messages"]["failed"] else None
        w = h.wait_for(counted, "the summary to count the failed message")
        self.assertEqual(w, {"subscriptions": {"enabled": 0, "disabled": 1},
                             "messages": {"pending": 0, "failed": 1}})
        self.assertEqual(self.get("/v1/failures?limit=0", AUTH)[0], 400)
        self.assertEqual(self.get("/v1/failures?limit=201", AUTH)[0], 400)

    def test_failures_ring_is_bounded(self):
        url = "http://127.0.0.1:%d/callbacks/alibaba" % self.d.port
        for i in range(105):
            self.d.client.request("POST", "/callbacks/alibaba", b"{}",
                                  ve.alibaba_headers(url, "wrong-%d" % i))
        st, _, doc = self.d.client.json("GET", "/v1/failures", headers=AUTH)
        self.assertEqual(st, 200)
        self.assertEqual(len(doc["rejected_callbacks"]), 100)
        times = [r["time"] for r in doc["rejected_callbacks"]]
        self.assertEqual(times, sorted(times, reverse=True))


class Browser(unittest.TestCase):
    """The page in chromium against a daemon, the emulator and its callbacks."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        ensure_puppeteer()
        U.class_daemon(cls, EMU, {
            "VODHOOK_API_TOKEN": TOKEN,
            "VODHOOK_ALIBABA_CALLBACK_KEY": ALI_KEY,
            "VODHOOK_UPLOAD_PART_SIZE": str(U.MIB),
            "VODHOOK_UPLOAD_THRESHOLD": str(2 * U.MIB),
            "VODHOOK_UPLOAD_PARALLEL": "1",
            # A message fails after two attempts, fast: the failures view.
            "VODHOOK_WEBHOOK_ALLOW_HTTP": "1",
            "VODHOOK_WEBHOOK_ALLOW_PRIVATE_URLS": "1",
            "VODHOOK_WEBHOOK_RETRY_SCHEDULE": "100ms",
            "VODHOOK_WEBHOOK_POLL_MS": "50",
        }).start()
        cls.base = "http://127.0.0.1:%d" % cls.d.port
        EMU.ctl("config", {"tencent_callback_url": cls.base + "/callbacks/tencent"})

    @classmethod
    def tearDownClass(cls):
        EMU.ctl("faults", {"rate_limit_bps": 0})
        U.stop_daemon(cls.d)

    def test_wrong_token_shows_an_error_and_no_data(self):
        out = browse("wrong-token", base=self.base, token=TOKEN)
        self.assertIn("refused", out["error"])
        self.assertTrue(out["navHidden"])
        self.assertEqual(out["visibleViews"], [])
        self.assertEqual(out["dataRows"], 0)
        self.assertIsNone(out["stored"])
        self.assertNotIn(TOKEN, out["url"])
        # The one refused request is the check of the token given.
        self.assertEqual(problems(out), ["401 /v1/summary"])

    def test_upload_travels_to_ready_live(self):
        # A rejected callback, for the failures view.
        self.d.client.request("POST", "/callbacks/alibaba", b"{}",
                              ve.alibaba_headers(self.base + "/callbacks/alibaba", "wrong"))
        path, _ = U.make_file(self.root, "page-clip.mp4", 5 * U.MIB)
        # About a second a part: the bar has time to rise where it is seen.
        EMU.ctl("faults", {"rate_limit_bps": U.MIB})
        try:
            out = browse("upload", base=self.base, token=TOKEN, rejectedReason="signature",
                         upload={"provider": "tencent", "path": path,
                                 "name": "page-clip"})
        finally:
            EMU.ctl("faults", {"rate_limit_bps": 0})
        values = [p["value"] for p in out["progress"]]
        between = [v for v in values if 0 < v < 100]
        self.assertGreaterEqual(len(set(between)), 2, out["progress"])
        self.assertEqual(values, sorted(values), out["progress"])
        self.assertEqual(out["marker"], "no reload")
        self.assertEqual(out["detail"]["marker"], "no reload")
        self.assertIn("ready", out["detail"]["timeline"])
        self.assertIn("signature", out["failures"])
        self.assertEqual(out["overview"]["db"], "ready")
        self.assertEqual(problems(out), [])
        for f in out["shots"].values():
            self.assertTrue(f and os.path.getsize(f) > 0, out["shots"])
        if os.environ.get("VODHOOK_UPDATE_SCREENSHOT") == "1":
            shutil.copyfile(out["shots"]["overview"],
                            os.path.join(h.SOURCE_DIR, "docs", "status-page.png"))

    def test_timeline_orders_events_by_time(self):
        vid = uuid.uuid4().hex
        url = self.base + "/callbacks/alibaba"
        # Delivered newest first: the page must show them oldest first.
        evs = [ve.alibaba_event("TranscodeComplete", vid, event_time="2026-11-21T10:00:30Z"),
               ve.alibaba_event("StreamTranscodeComplete", vid, Definition="LD",
                                event_time="2026-11-21T10:00:20Z"),
               ve.alibaba_event("FileUploadComplete", vid, Size=5, FileUrl="http://o/v.mp4",
                                event_time="2026-11-21T10:00:00Z")]
        for ev in evs:
            st, _, body = self.d.client.json("POST", "/callbacks/alibaba", ve.body(ev),
                                             ve.alibaba_headers(url, ALI_KEY))
            self.assertEqual(st, 200, body)
        out = browse("timeline", base=self.base, token=TOKEN, provider="alibaba", file_id=vid)
        # Alibaba's FileUploadComplete confirms the upload (docs/platforms.md).
        states = [s["state"] for s in out["timeline"]]
        self.assertEqual(states, ["confirmed", "processing", "ready"], out["timeline"])
        times = [s["time"] for s in out["timeline"]]
        self.assertEqual(times, sorted(times), out["timeline"])
        self.assertIn("20 s", out["timeline"][0]["text"])
        self.assertEqual([e["type"] for e in out["events"]],
                         ["FileUploadComplete", "StreamTranscodeComplete", "TranscodeComplete"])
        self.assertIn("out of order", out["events"][0]["text"])
        # A crafted address reads nothing but a media record.
        self.assertEqual(out["asked"], [])
        self.assertEqual(problems(out), [])

    def test_cancel_from_the_page(self):
        path, _ = U.make_file(self.root, "page-cancel.mp4", 5 * U.MIB)
        EMU.ctl("faults", {"rate_limit_bps": U.MIB // 2})
        try:
            out = browse("cancel", base=self.base, token=TOKEN,
                         upload={"provider": "tencent", "path": path, "name": "to-cancel"})
        finally:
            EMU.ctl("faults", {"rate_limit_bps": 0})
        self.assertEqual(U.get_upload(self.d, out["job"])["state"], "canceled")
        self.assertEqual(problems(out), [])

    def test_reconnects_and_resyncs_after_losing_vodhook(self):
        cfg = {"base": self.base, "token": TOKEN, "artifacts": ARTIFACTS,
               "upload_id": str(uuid.uuid4())}
        node = subprocess.Popen(["node", os.path.join(PAGE_DIR, "page.js"), "reconnect",
                                 json.dumps(cfg)], cwd=PAGE_DIR, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            self.assertEqual(node.stdout.readline().strip(), "live", node.stderr.read()
                             if node.poll() is not None else "")
            self.d.stop_checked()
            self.addCleanup(h.psql, self.d.env["VODHOOK_DATABASE_URL"],
                            "DELETE FROM uploads WHERE id = :'v1'", cfg["upload_id"])
            # Made while vodhook was away: only the snapshot can bring it.
            h.psql(self.d.env["VODHOOK_DATABASE_URL"],
                   "INSERT INTO uploads (id, provider, source_kind, source, state, bytes_total,"
                   " bytes_done, lease_owner, lease_expires_at) VALUES (:'v1', 'tencent', 'file',"
                   " '/x.mp4', 'uploading', 100, 40, 'elsewhere', now() + interval '1 hour')",
                   cfg["upload_id"])
            self.d.start()
            out, err = node.communicate(timeout=300 * h.SLOW)
        finally:
            if node.poll() is None:
                node.kill()
                node.wait()
        self.assertEqual(node.returncode, 0, err[-4000:])
        res = json.loads(out.strip().splitlines()[-1])
        self.assertIn("retrying", res["away"])
        self.assertEqual(res["marker"], "no reload")
        self.assertEqual(problems(res), [])

    def test_webhook_trouble_shows_with_its_reasons(self):
        rcv = Refusing()
        self.addCleanup(rcv.stop)
        subs = {}
        for name in ("failing", "stopped", "gave-up"):
            st, doc = webhook(self.d, "POST", "/v1/webhooks", {
                "url": rcv.url, "description": "page " + name, "filter": {"kinds": ["media"]}})
            self.assertEqual(st, 201, doc)
            subs[name] = doc["id"]
            self.addCleanup(webhook, self.d, "DELETE", "/v1/webhooks/" + doc["id"])
        # Disabled by hand, and by failing longer than webhook_disable_after
        # (5 days by default): its failure began 6 days ago, so the next
        # failed attempt disables it.
        st, doc = webhook(self.d, "PATCH", "/v1/webhooks/" + subs["stopped"], {"enabled": False})
        self.assertEqual(st, 200, doc)
        h.psql(self.db, "UPDATE webhook_subscriptions SET failing_since = now() -"
               " interval '6 days' WHERE id = :'v1'", subs["gave-up"])
        file_id = "webhook-page-" + uuid.uuid4().hex[:8]
        h.psql(self.db, "INSERT INTO media (provider, file_id, state, state_rank)"
               " VALUES ('tencent', :'v1', 'uploaded', 1)", file_id)

        def failed():
            st, doc = webhook(self.d, "GET", "/v1/webhooks/%s/messages?state=failed"
                              % subs["failing"])
            self.assertEqual(st, 200, doc)
            return doc["items"]
        msg = h.wait_for(failed, "the message to fail after the schedule")[0]
        h.wait_for(lambda: not webhook(self.d, "GET", "/v1/webhooks/" + subs["gave-up"])[1]
                   ["enabled"], "the subscription failing for days to be disabled")
        hits = rcv.hits
        self.assertEqual(hits, 3)  # two attempts of one, one of the other

        out = browse("webhooks", base=self.base, token=TOKEN, message=msg["id"],
                     subscriptions=subs, file_id=file_id)
        row = out["message"]
        self.assertEqual(row["subscription"], subs["failing"])
        for text in ("HTTP status 500", "page failing", "127.0.0.1", file_id, msg["id"]):
            self.assertIn(text, row["text"])
        self.assertEqual(row["attempts"], "2")
        self.assertEqual(row["link"], "#media/tencent/" + file_id)
        self.assertIn("disabled through the API", out["disabled"][subs["stopped"]])
        self.assertIn("every delivery failed since", out["disabled"][subs["gave-up"]])
        self.assertIn("page gave-up", out["disabled"][subs["gave-up"]])
        self.assertNotIn(subs["failing"], out["disabled"])
        # The overview counts them (other tests' subscriptions are gone).
        self.assertRegex(out["overview"]["subscriptions"], r"^1 enabled, 2 disabled$")
        self.assertRegex(out["overview"]["messages"], r"^1 pending, 1 failed$")
        # Resent from the keyboard: sent again, and failed again.
        self.assertIn("resent " + msg["id"], out["resent"])
        h.wait_for(lambda: rcv.hits >= hits + 2, "the resent message's two attempts")
        for f in out["shots"].values():
            self.assertTrue(f and os.path.getsize(f) > 0, out["shots"])
        # Never a secret: the page reads no secret, and shows no URL's path.
        self.assertNotIn("whsec_", json.dumps(out))
        self.assertNotIn("/hook", row["text"])
        self.assertEqual(problems(out), [])

    def test_keyboard_reaches_the_main_controls(self):
        out = browse("keyboard", base=self.base, token=TOKEN)
        self.assertIn("input#token", out["before"])
        self.assertTrue(any(x.startswith("button:Open") for x in out["before"]), out["before"])
        for nav in ("a#nav-overview", "a#nav-uploads", "a#nav-media", "a#nav-failures",
                    "button#signout"):
            self.assertIn(nav, out["after"])
        self.assertEqual(out["hash"], "#media")
        for control in ("select#mf-provider", "select#mf-state", "button:Filter", "input#ms-id",
                        "button:Find"):
            self.assertIn(control, out["inMedia"])
        self.assertEqual(problems(out), [])


if __name__ == "__main__":
    unittest.main()

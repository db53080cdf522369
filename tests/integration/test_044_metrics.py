"""/metrics covers every part: callbacks, uploads (with a part that fails,
a credential that expires and a part stored with other bytes), the PULL
poller, the reconciler, HTTP and the database; the page passes `promtool
check metrics`, the bearer token guards it when set, and the README's alert
rules pass `promtool check rules`."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest
import urllib.parse
import uuid

import harness as h
import uploadlib as U
import vodevents as ve

METRICS_TOKEN = "m3trics-t0ken"
SCRAPE = {"Authorization": "Bearer " + METRICS_TOKEN}
PROMTOOL = shutil.which("promtool")


def parse(text):
    """{series: value} of a Prometheus text page; series as printed."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def promtool(*args, stdin=None):
    return subprocess.run([PROMTOOL] + list(args), input=stdin, capture_output=True,
                          text=True, timeout=60)


class Metrics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        if PROMTOOL is None:
            raise AssertionError("promtool is missing: deploy/deps.sh --test installs it")
        cls.emu = U.Emu()
        cls.emu.ctl("config", {"tencent_event_mode": "pull"})
        U.start_ali_daemon(cls, cls.emu, {
            "VODHOOK_METRICS_TOKEN": METRICS_TOKEN,
            "VODHOOK_TENCENT_EVENT_MODE": "pull",
            "VODHOOK_RECONCILE_AFTER": "1",
            "VODHOOK_RECONCILE_INTERVAL_MS": "200",
            "VODHOOK_UPLOAD_PART_SIZE": str(U.MIB),
            "VODHOOK_UPLOAD_THRESHOLD": str(2 * U.MIB),
            "VODHOOK_UPLOAD_PARALLEL": "1",
            "VODHOOK_UPLOAD_WORKERS": "1"})

    @classmethod
    def tearDownClass(cls):
        U.stop_class(cls)

    def scrape(self):
        st, hdrs, body = self.d.client.request("GET", "/metrics", None, SCRAPE)
        self.assertEqual(st, 200, body)
        text = body.decode()
        r = promtool("check", "metrics", stdin=text)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + text)
        return text, parse(text)

    def test_token_required_when_set(self):
        st, _, _ = self.d.client.request("GET", "/metrics")
        self.assertEqual(st, 401)
        st, _, _ = self.d.client.request("GET", "/metrics", None,
                                         {"Authorization": "Bearer wrong"})
        self.assertEqual(st, 401)
        self.assertNotIn(METRICS_TOKEN, self.d.logs())

    def test_every_part_counts(self):
        _, m0 = self.scrape()
        self.assertEqual(m0['vodhook_build_info{version="0.1.0"}'], 1)
        self.assertEqual(m0["vodhook_database_up"], 1)

        # An upload in parts: the 2nd part fails once (503), the 4th is
        # stored with other bytes, and the credential expires after three
        # storage requests (Alibaba renews it with RefreshUploadVideo).
        size = 5 * U.MIB + 17
        path, _ = U.make_file(self.root, "metrics.mp4", size)
        self.emu.ctl("faults", [{"kind": "UploadPart", "nth": 2, "status": 503},
                                {"kind": "UploadPart", "nth": 4, "corrupt": True},
                                {"expire_credentials_after_requests": 3}])
        doc = U.submit(self, self.d, "alibaba", {"path": path})
        done = U.wait_state(self.d, doc["id"], ("uploaded", "confirmed", "ready", "failed"))
        self.assertNotEqual(done["state"], "failed", done)

        # An Alibaba upload whose callbacks never arrive: the reconciler
        # asks GetVideoInfo and advances it.
        path2, _ = U.make_file(self.root, "quiet.mp4", 100 * 1024)
        self.emu.ctl("faults", {"callbacks": "drop"})
        doc2 = U.submit(self, self.d, "alibaba", {"path": path2, "procedure": "tg-quiet"})
        U.wait_state(self.d, doc2["id"], ("ready",))

        # A Tencent event through PULL, then confirmed.
        fid = "52858907842" + str(uuid.uuid4().int)[:8]
        self.emu.ctl("tencent/event", ve.tencent_new_file_upload(fid))
        # A callback refused: no signature.
        st, _, _ = self.d.client.request("POST", "/callbacks/alibaba", b"{}")
        self.assertEqual(st, 401)

        def moved():
            _, m = self.scrape()
            return (m["vodhook_pull_events_confirmed_total"] >= 1 and
                    m["vodhook_reconcile_advanced_total"] >= 1)
        h.wait_for(moved, "the pulled event confirmed and a record reconciled")
        text, m = self.scrape()

        def grew(series, by=1):
            self.assertGreaterEqual(m.get(series, 0) - m0.get(series, 0), by, series)
        grew("vodhook_upload_sent_bytes_total", size)
        grew("vodhook_upload_parts_retried_total", 2)       # the 503 and the corrupt part
        grew("vodhook_upload_crc_mismatches_total")
        grew("vodhook_upload_credential_refreshes_total")
        grew('vodhook_upload_attempts_total{outcome="uploaded"}', 2)
        self.assertEqual(m["vodhook_upload_transfers_in_progress"], 0)
        self.assertGreaterEqual(m['vodhook_upload_jobs{state="ready"}'] +
                                m['vodhook_upload_jobs{state="uploaded"}'] +
                                m['vodhook_upload_jobs{state="confirmed"}'] +
                                m['vodhook_upload_jobs{state="processing"}'], 2)
        self.assertEqual(m['vodhook_upload_jobs{state="failed"}'], 0)
        grew("vodhook_pull_events_pulled_total")
        grew("vodhook_pull_events_confirmed_total")
        grew("vodhook_reconcile_lookups_total")
        grew("vodhook_reconcile_advanced_total")
        grew('vodhook_callbacks_accepted_total{provider="alibaba"}')
        grew('vodhook_callbacks_rejected_total{provider="alibaba",reason="unauthorized"}')
        grew('vodhook_callback_duration_seconds_count{provider="alibaba"}', 2)
        self.assertEqual(m['vodhook_callback_duration_seconds_bucket{provider="alibaba",le="+Inf"}'],
                         m['vodhook_callback_duration_seconds_count{provider="alibaba"}'])
        grew('vodhook_http_requests_total{method="POST",route="/v1/uploads",status="202"}', 2)
        grew('vodhook_http_requests_total{method="POST",route="/callbacks/alibaba",status="401"}')
        grew('vodhook_http_requests_total{method="GET",route="/metrics",status="200"}')

    def test_readme_alert_rules_pass_promtool(self):
        with open(os.path.join(h.SOURCE_DIR, "README.md")) as f:
            readme = f.read()
        blocks = re.findall(r"```yaml\n(groups:.*?)```", readme, re.S)
        self.assertEqual(len(blocks), 1, "one ```yaml block of alert rules in the README")
        for alert in ("VodhookSpoolNotDraining", "VodhookCallbacksRejected",
                      "VodhookUploadsFailing", "VodhookDatabaseUnreachable"):
            self.assertIn("alert: " + alert, blocks[0])
        with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
            f.write(blocks[0])
            f.flush()
            r = promtool("check", "rules", f.name)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


class DatabaseAway(unittest.TestCase):
    def setUp(self):
        h.require_env(self)

    def test_jobs_by_state_left_out_and_database_down(self):
        url = h.fresh_database()
        with h.TcpProxy("127.0.0.1", urllib.parse.urlsplit(url).port) as px, \
                h.Daemon(px.url(url), {"VODHOOK_DB_TIMEOUT_MS": "1000"}) as d:
            text = d.client.request("GET", "/metrics")[2].decode()
            self.assertIn("vodhook_database_up 1\n", text)
            self.assertIn('vodhook_upload_jobs{state="queued"} 0\n', text)
            px.freeze()
            st, _, body = d.client.request("GET", "/metrics")
            self.assertEqual(st, 200)
            text = body.decode()
            self.assertIn("vodhook_database_up 0\n", text)
            self.assertNotIn("vodhook_upload_jobs{", text)
            self.assertIn("vodhook_callbacks_accepted_total", text)
            r = promtool("check", "metrics", stdin=text)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            px.thaw()


if __name__ == "__main__":
    unittest.main()

"""The transfer engine adapts its parts in flight to the path, against the
emulator's WAN-like mode (each connection's body read at a capped rate,
each request answered late, throttling above N parts at once).

What is compared is what the emulator saw (its count of UploadPart
requests in flight, its calls) and what vodhook reports (the upload's
parts_in_flight, its metrics), never timings.
"""
import threading
import time
import unittest

import harness as h
import uploadlib as U

EMU = None
METRICS_TOKEN = "m3trics-t0ken"
SCRAPE = {"Authorization": "Bearer " + METRICS_TOKEN}
PART = U.MIB
RATE = 2 * U.MIB  # per connection: a part takes half a second


def setUpModule():
    global EMU
    EMU = U.module_emu()


def tearDownModule():
    U.stop_emu(EMU)


def settings(start, most, extra=None):
    env = {"VODHOOK_UPLOAD_PART_SIZE": str(PART),
           "VODHOOK_UPLOAD_THRESHOLD": str(4 * U.MIB),
           "VODHOOK_UPLOAD_PARALLEL": str(start),
           "VODHOOK_UPLOAD_PARALLEL_MAX": str(most),
           "VODHOOK_UPLOAD_MAX_ATTEMPTS": "5",
           "VODHOOK_UPLOAD_ALLOW_PRIVATE_URLS": "1",
           "VODHOOK_METRICS_TOKEN": METRICS_TOKEN}
    env.update(extra or {})
    return env


def wan(**faults):
    """The emulator's WAN-like mode (reset by the module's next call)."""
    base = {"rate_limit_bps": RATE, "request_delay_ms": 30, "slowdown_above": 0}
    base.update(faults)
    EMU.ctl("faults", base)


def wan_off():
    EMU.ctl("faults", {"rate_limit_bps": 0, "request_delay_ms": 0, "slowdown_above": 0})


def part_calls(since):
    return [c for c in EMU.calls("UploadPart", since)]


class Watch:
    """Polls GET /v1/uploads/{id} while it runs: (parts_in_flight, rate_bps)
    of each answer in the state uploading."""

    def __init__(self, d, uid):
        self.d, self.uid, self.seen = d, uid, []
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run)
        self.t.start()

    def run(self):
        client = h.HttpClient(self.d.port)  # one connection per thread
        while not self.stop.wait(0.05):
            st, _, doc = client.json("GET", "/v1/uploads/" + self.uid, None, U.AUTH)
            if st != 200:
                continue
            if doc["state"] == "uploading" and doc.get("parts_in_flight") is not None:
                self.seen.append((time.time(), doc["parts_in_flight"], doc["rate_bps"]))
            if doc["state"] not in ("queued", "uploading"):
                return

    def join(self):
        self.stop.set()
        self.t.join()
        return self.seen


class Adaptive(unittest.TestCase):
    """A file across a path capped per connection: the adaptive engine runs
    more parts at once than it starts with; with the count fixed it never
    does. One daemon each."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)

    def upload(self, start, most, size=40 * U.MIB):
        U.class_daemon(self, EMU, settings(start, most)).start()
        try:
            path, md5 = U.make_file(self.root, "wan.mp4", size)
            EMU.ctl("reset", {})
            wan()
            t0 = time.time()
            try:
                uid = U.submit(self, self.d, "tencent", {"path": path})["id"]
                w = Watch(self.d, uid)
                doc = U.wait_state(self.d, uid, ("uploaded", "confirmed", "ready", "failed"))
                seen = w.join()
            finally:
                wan_off()
            self.assertNotEqual(doc["state"], "failed", doc)
            self.assertEqual(EMU.md5_size(doc["file_id"]), (md5, size))
            # No part is left showing once the upload is done.
            self.assertIsNone(doc["parts_in_flight"])
            self.assertIsNone(doc["rate_bps"])
            return EMU.ctl("concurrency"), part_calls(t0), seen
        finally:
            U.stop_daemon(self.d)

    def test_fixed_count_stays_at_its_start(self):
        conc, calls, seen = self.upload(2, 0)
        self.assertEqual(conc["max"], 2, conc)
        self.assertEqual(len(calls), 40)
        self.assertTrue(seen and max(p for _, p, _ in seen) <= 2, seen)

    def test_grows_beyond_its_start(self):
        conc, calls, seen = self.upload(2, 12)
        # The emulator had more parts at once than the engine started
        # with, and never more than the maximum.
        self.assertGreater(conc["max"], 2, conc)
        self.assertLessEqual(conc["max"], 12, conc)
        # Doubling while the rate rises (slow start), it got to 8 at least
        # with most of the 40 parts still to send; steps by half from 2
        # took until about the last part.
        self.assertGreaterEqual(conc["max"], 8, conc)
        self.assertEqual(len(calls), 40)
        self.assertEqual(conc["slowdowns"], 0)
        # The API showed it: more parts in flight than the start, and a rate.
        self.assertGreater(max(p for _, p, _ in seen), 2, seen)
        self.assertGreater(max(r for _, _, r in seen), 0, seen)


class Throttled(unittest.TestCase):
    """The store answers 503 SlowDown above 3 parts at once: the engine
    settles at 3 or fewer and stores every part once."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.class_daemon(cls, EMU, settings(2, 16)).start()

    @classmethod
    def tearDownClass(cls):
        U.stop_daemon(cls.d)

    def test_settles_at_or_below_the_limit(self):
        size = 40 * U.MIB
        path, md5 = U.make_file(self.root, "slow.mp4", size)
        EMU.ctl("reset", {})
        wan(slowdown_above=3)
        t0 = time.time()
        try:
            uid = U.submit(self, self.d, "tencent", {"path": path})["id"]
            w = Watch(self.d, uid)
            doc = U.wait_state(self.d, uid, ("uploaded", "confirmed", "ready", "failed"))
            seen = w.join()
        finally:
            wan_off()
        self.assertNotEqual(doc["state"], "failed", doc)
        self.assertEqual(EMU.md5_size(doc["file_id"]), (md5, size))
        calls = part_calls(t0)
        stored = [c["params"]["partNumber"] for c in calls if c["status"] == 200]
        slowed = [c for c in calls if c.get("fault") == "slowdown"]
        # Every part stored once, in one attempt at the job.
        self.assertEqual(sorted(stored), list(range(1, 41)))
        self.assertEqual(doc["attempts"], 1)
        # It went past the limit (it probes), and came back under it for
        # good: a handful of throttled parts, none in the second half.
        conc = EMU.ctl("concurrency")
        self.assertGreaterEqual(conc["slowdowns"], 1, conc)
        self.assertLessEqual(conc["slowdowns"], 6, conc)
        self.assertEqual(len(slowed), conc["slowdowns"])
        half = sorted(c["t"] for c in calls if c["status"] == 200)[20]
        self.assertTrue(all(c["t"] < half for c in slowed), (slowed, half))
        # What the API showed after the last throttling: 3 or fewer.
        last = max(c["t"] for c in slowed)
        after = [p for t, p, _ in seen if t > last + 0.5]
        self.assertTrue(after, seen)
        self.assertLessEqual(max(after), 3, seen)
        self.assertRegex(self.d.logs(), r"parts in flight: \d+ at most \(of 16\), [123] at the end, "
                                        r"\d+ throttled")


class StreamBudget(unittest.TestCase):
    """A URL source is buffered part by part: with upload_stream_buffer 3
    MiB and 1 MiB parts, never more than 3 parts in memory (the engine's
    own high-water mark), however far the path would let it grow."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.class_daemon(cls, EMU, settings(2, 16, {
            "VODHOOK_UPLOAD_STREAM_BUFFER": str(3 * U.MIB)})).start()

    @classmethod
    def tearDownClass(cls):
        U.stop_daemon(cls.d)

    def metric(self, name):
        st, _, body = self.d.client.request("GET", "/metrics", None, SCRAPE)
        self.assertEqual(st, 200, body)
        for line in body.decode().splitlines():
            if line.startswith(name + " "):
                return int(float(line.split()[1]))
        raise AssertionError("no metric %s" % name)

    def test_url_stream_within_its_budget(self):
        size = 24 * U.MIB
        srv = U.MediaServer()
        try:
            _, md5 = U.make_file(srv.dir, "clip.mp4", size)
            EMU.ctl("reset", {})
            wan()
            try:
                uid = U.submit(self, self.d, "tencent", {"url": srv.url("/clip.mp4")})["id"]
                doc = U.wait_state(self.d, uid, ("uploaded", "confirmed", "ready", "failed"))
            finally:
                wan_off()
        finally:
            srv.stop()
        self.assertNotEqual(doc["state"], "failed", doc)
        self.assertEqual(EMU.md5_size(doc["file_id"]), (md5, size))
        peak = self.metric("vodhook_upload_stream_buffered_peak_bytes")
        self.assertGreaterEqual(peak, 2 * PART)
        self.assertLessEqual(peak, 3 * PART)
        self.assertEqual(self.metric("vodhook_upload_stream_buffered_bytes"), 0)
        self.assertLessEqual(EMU.ctl("concurrency")["max"], 3)


class SharedBudget(unittest.TestCase):
    """Two uploads at once in one process share upload_connections 4: the
    emulator never has more than 4 of their parts at once, and each
    upload gets some."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.class_daemon(cls, EMU, settings(4, 16, {
            "VODHOOK_UPLOAD_CONNECTIONS": "4",
            "VODHOOK_UPLOAD_WORKERS": "2"})).start()

    @classmethod
    def tearDownClass(cls):
        U.stop_daemon(cls.d)

    def test_two_uploads_share_the_budget(self):
        files = [U.make_file(self.root, "shared-%d.mp4" % i, 16 * U.MIB) for i in range(2)]
        EMU.ctl("reset", {})
        wan()
        t0 = time.time()
        try:
            uids = [U.submit(self, self.d, "tencent", {"path": p})["id"] for p, _ in files]
            docs = [U.wait_state(self.d, u, ("uploaded", "confirmed", "ready", "failed"))
                    for u in uids]
        finally:
            wan_off()
        for (_, md5), doc in zip(files, docs):
            self.assertNotEqual(doc["state"], "failed", doc)
            self.assertEqual(EMU.md5_size(doc["file_id"]), (md5, 16 * U.MIB))
        conc = EMU.ctl("concurrency")
        self.assertLessEqual(conc["max"], 4, conc)
        self.assertEqual(len([c for c in part_calls(t0) if c["status"] == 200]), 32)


if __name__ == "__main__":
    unittest.main()

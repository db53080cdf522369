"""Tencent URL sources pulled by the platform itself (url_upload "platform",
PullUpload), through the emulator: one API call with the documented
parameters, the TaskId recorded on the upload, and the PullComplete event
finishing it with its FileId, or failing it with the platform's ErrCode and
Message; in both arrival orders (the event after the TaskId is recorded,
and before: the emulator delivers it before PullUpload answers), in the v3
and the legacy 4.0 format, pushed or polled (PULL mode); the reconciler
settling a pull whose PullComplete was dropped (DescribeTaskDetail,
PullUploadTask), and failing one that never finishes; the request's and
the setting's validation.

The media are served by a small HTTP server on 127.0.0.1 (U.MediaServer:
the emulator fetches them as Tencent would); it logs every request with its
User-Agent. A pulled URL gets the same address checks as a streamed one, so
the daemons that pull from it allow private addresses.
"""
import time
import unittest

import harness as h
import uploadlib as U

EMU = None
SRV = None
PRIVATE_OK = {"VODHOOK_UPLOAD_ALLOW_PRIVATE_URLS": "1"}


def setUpModule():
    global EMU, SRV
    EMU = U.module_emu()
    if EMU is not None:
        SRV = U.MediaServer()


def tearDownModule():
    if SRV is not None:
        SRV.stop()
    U.stop_emu(EMU)


def media_file(name, size):
    """A file served by SRV: (path on the server, md5, size)."""
    _, md5 = U.make_file(SRV.dir, name, size)
    return "/v/" + name, md5, size


def pull_calls(emu, uid, since=0.0):
    """The PullUpload calls for upload uid (SourceContext "vh1:<uid>")."""
    return [c for c in emu.calls("PullUpload", since)
            if c["params"].get("SourceContext") == "vh1:" + uid and not c.get("fault")]


def pull_task(emu, task_id):
    for t in emu.ctl("pull_tasks"):
        if t["TaskId"] == task_id:
            return t
    raise AssertionError("emulator has no pull task %s" % task_id)


def event_types(db, uid):
    return sorted(r[0] for r in h.psql(db, "SELECT e.event_type FROM vod_events e, uploads u"
                                       " WHERE u.id = :'v1' AND (e.upload_id = u.id"
                                       " OR e.task_id = u.url_job_id OR e.file_id = u.file_id)", uid))


def tc_daemon(cls, emu, extra=None):
    """A daemon pulling from 127.0.0.1, with Tencent push callbacks."""
    U.class_daemon(cls, emu, dict(PRIVATE_OK, **(extra or {}))).start()
    emu.ctl("config", {"tencent_callback_url": "http://127.0.0.1:%d/callbacks/tencent" % cls.d.port})


class TcUrlPull(unittest.TestCase):
    """Push callbacks in the v3 format."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        tc_daemon(cls, EMU)

    @classmethod
    def tearDownClass(cls):
        U.stop_daemon(cls.d)

    def submit(self, **body):
        body.setdefault("url_upload", "platform")
        return U.submit(self, self.d, "tencent", body)

    def test_pulled_by_the_platform_ends_ready(self):
        path, md5, size = media_file("tc-pulled.mp4", 2 * U.MIB + 3)
        url = SRV.url(path) + "?sig=a,b&x=%2F"
        t0 = time.time()
        doc = self.submit(url=url, name="Pulled", procedure="p-pull", source_context="uctx",
                          class_id=7, storage_region="ap-chongqing",
                          expire_time="2031-01-31T12:00:00Z", session_context="sess",
                          cover_url="http://127.0.0.1/cover.jpg", tasks_priority=-3)
        uid = doc["id"]
        self.assertEqual(doc["options"]["url_upload"], "platform")
        doc = U.wait_state(self.d, uid, ("ready",))
        calls = pull_calls(EMU, uid, t0)
        self.assertEqual(len(calls), 1, EMU.calls("PullUpload", t0))
        p = calls[0]["params"]
        self.assertEqual(p["MediaUrl"], url)
        self.assertEqual(p["MediaName"], "Pulled")
        self.assertEqual(p["MediaType"], "mp4")
        self.assertEqual(p["Procedure"], "p-pull")
        self.assertEqual(p["ClassId"], 7)
        self.assertEqual(p["StorageRegion"], "ap-chongqing")
        self.assertEqual(p["ExpireTime"], "2031-01-31T12:00:00Z")
        self.assertEqual(p["SessionContext"], "sess")
        self.assertEqual(p["CoverUrl"], "http://127.0.0.1/cover.jpg")
        self.assertEqual(p["TasksPriority"], -3)
        # The TaskId is recorded; the FileId is the platform's.
        task = pull_task(EMU, doc["url_job_id"])
        self.assertEqual(doc["file_id"], task["FileId"])
        self.assertEqual(EMU.md5_size(doc["file_id"]), (md5, size))
        self.assertEqual(SRV.fetches(path), ["vodhook-emulator"])
        self.assertEqual(doc["source_context"], "uctx")
        # vodhook sent no bytes: no ApplyUpload for it.
        self.assertEqual([c for c in EMU.calls("ApplyUpload", t0)
                          if c["params"].get("SourceContext") == "vh1:" + uid], [])
        rows = h.psql(self.db, "SELECT state, upload_id, procedure_task_id FROM media"
                      " WHERE provider = 'tencent' AND file_id = :'v1'", doc["file_id"])
        self.assertEqual(rows, [["ready", uid, task["ProcedureTaskId"]]])
        self.assertIn("PullComplete", event_types(self.db, uid))
        self.assertIn("ProcedureStateChanged", event_types(self.db, uid))
        # A pulled job cannot be canceled any more.
        st, _, err = self.d.client.json("DELETE", "/v1/uploads/" + uid, None, U.AUTH)
        self.assertEqual(st, 409, err)

    def test_pulled_into_the_upload_s_sub_application(self):
        # PullUpload names the job's SubAppId, not the setting's: the media lives there.
        sub = "1500000002"
        path, md5, size = media_file("tc-pulled-sub.mp4", 64 * 1024)
        t0 = time.time()
        doc = self.submit(url=SRV.url(path), sub_app_id=int(sub))
        uid = doc["id"]
        doc = U.wait_state(self.d, uid, ("ready",))
        calls = pull_calls(EMU, uid, t0)
        self.assertEqual([str(c["params"].get("SubAppId")) for c in calls], [sub])
        self.assertEqual(EMU.md5_size(doc["file_id"]), (md5, size))
        rows = h.psql(self.db, "SELECT u.app_id, m.app_id FROM uploads u JOIN media m"
                      " ON m.upload_id = u.id WHERE u.id = :'v1'", uid)
        self.assertEqual(rows, [[sub, sub]])

    def test_event_after_the_task_is_recorded(self):
        path, md5, size = media_file("tc-after.mp4", 300 * 1024)
        EMU.ctl("faults", {"pull": "stall"})
        uid = self.submit(url=SRV.url(path))["id"]
        h.wait_for(lambda: h.psql(self.db, "SELECT 1 FROM uploads WHERE id = :'v1'"
                                  " AND url_job_id IS NOT NULL AND state = 'uploading'"
                                  " AND lease_owner IS NULL", uid), "the job to be parked")
        self.assertEqual(SRV.fetches(path), [])
        EMU.ctl("faults", {"pull": "release"})
        doc = U.wait_state(self.d, uid, ("ready",))
        self.assertEqual(EMU.md5_size(doc["file_id"]), (md5, size))

    def test_event_before_the_task_is_recorded(self):
        path, md5, size = media_file("tc-before.mp4", 300 * 1024)
        EMU.ctl("faults", {"pull": "sync"})
        t0 = time.time()
        uid = self.submit(url=SRV.url(path))["id"]
        U.wait_state(self.d, uid, ("ready",))
        # The upload can be ready before the worker records the TaskId.
        h.wait_for(lambda: U.get_upload(self.d, uid)["url_job_id"], "the TaskId of %s" % uid)
        doc = U.get_upload(self.d, uid)
        self.assertEqual(EMU.md5_size(doc["file_id"]), (md5, size))
        # The PullComplete was delivered (and stored: vodhook answers once
        # it is) before PullUpload answered with the TaskId.
        answered = pull_calls(EMU, uid, t0)[0]["t"]
        delivered = [c["t"] for c in EMU.ctl("callbacks") if c["t"] >= t0 and c.get("status") == 200
                     and doc["url_job_id"] in c["body"] and "PullComplete" in c["body"]]
        self.assertEqual(len(delivered), 1)
        self.assertLess(delivered[0], answered)

    def test_url_the_platform_cannot_fetch_fails(self):
        t0 = time.time()
        uid = self.submit(url=SRV.url("/v/tc-missing.mp4"))["id"]
        doc = U.wait_state(self.d, uid, ("failed",))
        self.assertEqual(doc["error"]["code"], "60000", doc)
        self.assertIn("download", doc["error"]["message"], doc)
        self.assertTrue(doc["url_job_id"], doc)
        self.assertIsNone(doc["file_id"], doc)
        self.assertEqual(len(pull_calls(EMU, uid, t0)), 1)
        self.assertEqual(SRV.fetches("/v/tc-missing.mp4"), ["vodhook-emulator"])

    def test_failure_before_the_task_is_recorded(self):
        EMU.ctl("faults", {"pull": "sync"})
        uid = self.submit(url=SRV.url("/v/tc-missing-early.mp4"))["id"]
        doc = U.wait_state(self.d, uid, ("failed",))
        self.assertEqual(doc["error"]["code"], "60000", doc)
        self.assertTrue(doc["url_job_id"], doc)  # failed only once it is known

    def test_request_validation(self):
        path, _, _ = media_file("tc-valid.mp4", 1000)
        local, _ = U.make_file(self.root, "tc-local.mp4", 1000)
        cover, _ = U.make_file(self.root, "tc-cover.jpg", 100)
        url = SRV.url(path)
        cases = [
            ({"path": local}, "url source"),
            ({"url": url, "tasks_priority": 11}, "tasks_priority"),
            ({"url": url, "tasks_priority": -11}, "tasks_priority"),
            ({"url": url, "url_upload": "stream", "cover_url": "http://127.0.0.1/c.jpg"},
             "cover_url"),
            ({"url": url, "url_upload": "stream", "tasks_priority": 1}, "tasks_priority"),
            ({"url": url, "cover_path": cover}, "cover_path"),
            ({"url": "ftp://127.0.0.1/a.mp4"}, "http"),
        ]
        n0 = h.psql(self.db, "SELECT count(*) FROM uploads")
        for body, word in cases:
            body.setdefault("url_upload", "platform")
            body["provider"] = "tencent"
            st, _, doc = U.post_upload(self.d, body)
            self.assertEqual(st, 400, (body, doc))
            self.assertIn(word, doc["error"]["message"], (body, doc))
        self.assertEqual(h.psql(self.db, "SELECT count(*) FROM uploads"), n0)


class TcUrlPullAddress(unittest.TestCase):
    """Without upload_allow_private_urls a pulled URL to a private address
    is refused, as a streamed one is, before the platform is asked."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.class_daemon(cls, EMU).start()

    @classmethod
    def tearDownClass(cls):
        U.stop_daemon(cls.d)

    def test_private_address_refused(self):
        t0 = time.time()
        st, _, doc = U.post_upload(self.d, {"provider": "tencent", "url": SRV.url("/v/x.mp4"),
                                            "url_upload": "platform"})
        self.assertEqual(st, 403, doc)
        self.assertEqual(EMU.calls("PullUpload", t0), [])


class TcUrlPullLegacy(unittest.TestCase):
    """The legacy 4.0 PullComplete: no SourceContext, only the TaskId
    (vodTaskId) links it, in either order."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        # test_failure_while_the_task_id_is_recorded holds a batch of
        # callbacks 4 s: longer than that, the batch would be spooled.
        tc_daemon(cls, EMU, {"VODHOOK_CALLBACK_DB_TIMEOUT_MS": "10000"})
        EMU.ctl("config", {"tencent_legacy": True})

    @classmethod
    def tearDownClass(cls):
        EMU.ctl("config", {"tencent_legacy": False})
        U.stop_daemon(cls.d)

    def check_ready(self, uid, md5, size):
        U.wait_state(self.d, uid, ("ready",))
        h.wait_for(lambda: U.get_upload(self.d, uid)["url_job_id"], "the TaskId of %s" % uid)
        doc = U.get_upload(self.d, uid)
        self.assertEqual(EMU.md5_size(doc["file_id"]), (md5, size))
        rows = h.psql(self.db, "SELECT state, upload_id FROM media WHERE provider = 'tencent'"
                      " AND file_id = :'v1'", doc["file_id"])
        self.assertEqual(rows, [["ready", uid]])
        # The event named no upload: the TaskId linked it.
        rows = h.psql(self.db, "SELECT upload_id IS NULL FROM vod_events"
                      " WHERE event_type = 'PullComplete' AND task_id = :'v1'", doc["url_job_id"])
        self.assertEqual(rows, [["t"]])
        return doc

    def test_after_the_task_is_recorded(self):
        path, md5, size = media_file("tc-legacy-after.mp4", 200 * 1024)
        EMU.ctl("faults", {"pull": "stall"})
        uid = U.submit(self, self.d, "tencent", {"url": SRV.url(path), "url_upload": "platform"})["id"]
        h.wait_for(lambda: h.psql(self.db, "SELECT 1 FROM uploads WHERE id = :'v1'"
                                  " AND url_job_id IS NOT NULL AND lease_owner IS NULL", uid),
                   "the job to be parked")
        EMU.ctl("faults", {"pull": "release"})
        self.check_ready(uid, md5, size)

    def test_before_the_task_is_recorded(self):
        path, md5, size = media_file("tc-legacy-before.mp4", 200 * 1024)
        EMU.ctl("faults", {"pull": "sync"})
        uid = U.submit(self, self.d, "tencent", {"url": SRV.url(path), "url_upload": "platform"})["id"]
        self.check_ready(uid, md5, size)

    def test_failure(self):
        uid = U.submit(self, self.d, "tencent", {"url": SRV.url("/v/tc-legacy-missing.mp4"),
                                                 "url_upload": "platform"})["id"]
        doc = U.wait_state(self.d, uid, ("failed",))
        self.assertEqual(doc["error"]["code"], "60000", doc)

    def test_failure_while_the_task_id_is_recorded(self):
        # The PullComplete's statement starts before the TaskId is committed
        # (it cannot find the upload) and commits after the upload worker
        # looked for callbacks that came first (it cannot see this one yet):
        # whichever commits last applies it. Two test triggers make that
        # interleaving certain: the TaskId's update waits 2 s before it
        # writes, the event's statement 4 s after its own.
        h.psql(self.db, """
            CREATE FUNCTION test_slow_task_id() RETURNS trigger LANGUAGE plpgsql
                AS $$ BEGIN PERFORM pg_sleep(2); RETURN NEW; END $$;
            CREATE TRIGGER test_slow_task_id BEFORE UPDATE OF url_job_id ON uploads
                FOR EACH ROW WHEN (OLD.url_job_id IS NULL AND NEW.url_job_id IS NOT NULL)
                EXECUTE FUNCTION test_slow_task_id();
            CREATE FUNCTION test_slow_event() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF EXISTS (SELECT 1 FROM added WHERE event_type = 'PullComplete') THEN
                    PERFORM pg_sleep(4);
                END IF;
                RETURN NULL;
            END $$;
            CREATE TRIGGER test_slow_event AFTER INSERT ON vod_events
                REFERENCING NEW TABLE AS added
                FOR EACH STATEMENT EXECUTE FUNCTION test_slow_event();""")
        self.addCleanup(h.psql, self.db, """
            DROP TRIGGER test_slow_task_id ON uploads;
            DROP TRIGGER test_slow_event ON vod_events;
            DROP FUNCTION test_slow_task_id();
            DROP FUNCTION test_slow_event();""")
        uid = U.submit(self, self.d, "tencent", {"url": SRV.url("/v/tc-legacy-raced.mp4"),
                                                 "url_upload": "platform"})["id"]
        doc = U.wait_state(self.d, uid, ("failed",))
        self.assertEqual(doc["error"]["code"], "60000", doc)


class TcUrlPullReconcile(unittest.TestCase):
    """Every callback dropped: the reconciler asks DescribeTaskDetail about
    the parked pulls (reconcile_after 1 s) and fails one still unfinished
    after url_pull_timeout (3 s)."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.emu = U.Emu()
        cls.emu.ctl("faults", {"callbacks": "drop", "repeat": True})
        tc_daemon(cls, cls.emu, {"VODHOOK_RECONCILE_AFTER": "1",
                                 "VODHOOK_RECONCILE_INTERVAL_MS": "200",
                                 "VODHOOK_URL_PULL_TIMEOUT": "3"})

    @classmethod
    def tearDownClass(cls):
        U.stop_class(cls)

    def lookups(self, task_id):
        return [c for c in self.emu.calls("DescribeTaskDetail")
                if c["params"].get("TaskId") == task_id]

    def test_dropped_callback_found_by_the_reconciler(self):
        path, md5, size = media_file("tc-rec.mp4", 200 * 1024)
        uid = U.submit(self, self.d, "tencent", {"url": SRV.url(path), "url_upload": "platform"})["id"]
        doc = U.wait_state(self.d, uid, ("ready",))
        self.assertEqual(self.emu.md5_size(doc["file_id"]), (md5, size))
        self.assertTrue(self.lookups(doc["url_job_id"]))
        rows = h.psql(self.db, "SELECT received_via FROM vod_events WHERE event_type = 'Reconciled'"
                      " AND task_id = :'v1'", doc["url_job_id"])
        self.assertEqual(rows, [["reconcile"]])
        dropped = [c for c in self.emu.ctl("callbacks") if c.get("dropped") and "PullComplete" in c["body"]
                   and doc["url_job_id"] in c["body"]]
        self.assertEqual(len(dropped), 1)

    def test_dropped_failure_found_by_the_reconciler(self):
        uid = U.submit(self, self.d, "tencent", {"url": SRV.url("/v/tc-rec-missing.mp4"),
                                                 "url_upload": "platform"})["id"]
        doc = U.wait_state(self.d, uid, ("failed",))
        self.assertEqual(doc["error"]["code"], "60000", doc)
        self.assertTrue(self.lookups(doc["url_job_id"]))

    def test_pull_that_never_finishes_times_out(self):
        path, _, _ = media_file("tc-stalled.mp4", 1000)
        self.emu.ctl("faults", {"pull": "stall"})
        try:
            uid = U.submit(self, self.d, "tencent", {"url": SRV.url(path),
                                                     "url_upload": "platform"})["id"]
            doc = U.wait_state(self.d, uid, ("failed",))
        finally:
            self.emu.ctl("faults", {"pull": "release"})
        self.assertEqual(doc["error"]["code"], "URLPullTimeout", doc)
        self.assertIn("PROCESSING", doc["error"]["message"], doc)
        self.assertGreaterEqual(len(self.lookups(doc["url_job_id"])), 2)


class TcUrlPullPullMode(unittest.TestCase):
    """Reliable callbacks (PULL mode): the PullComplete comes from
    PullEvents and finishes the upload."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.emu = U.Emu()
        cls.emu.ctl("config", {"tencent_event_mode": "pull"})
        U.class_daemon(cls, cls.emu, dict(PRIVATE_OK, VODHOOK_TENCENT_EVENT_MODE="pull")).start()

    @classmethod
    def tearDownClass(cls):
        U.stop_class(cls)

    def test_pull_complete_polled(self):
        path, md5, size = media_file("tc-polled.mp4", 200 * 1024)
        uid = U.submit(self, self.d, "tencent", {"url": SRV.url(path), "url_upload": "platform"})["id"]
        doc = U.wait_state(self.d, uid, ("ready",))
        self.assertEqual(self.emu.md5_size(doc["file_id"]), (md5, size))
        rows = h.psql(self.db, "SELECT received_via FROM vod_events WHERE event_type = 'PullComplete'"
                      " AND task_id = :'v1'", doc["url_job_id"])
        self.assertEqual(rows, [["pull"]])
        # Confirmed: nothing left in the queue.
        h.wait_for(lambda: self.emu.ctl("events") == [], "the events to be confirmed")


class TcUrlPullSetting(unittest.TestCase):
    """tencent_url_upload accepts stream and platform only; platform makes
    a Tencent URL source a pull when the request does not say."""

    def test_bad_setting_stops_start_up(self):
        h.require_env(self)
        r = h.run(["config"], {"VODHOOK_TENCENT_URL_UPLOAD": "pull"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("tencent_url_upload", r.stderr)
        r = h.run(["config"], {"VODHOOK_TENCENT_URL_UPLOAD": "platform"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("tencent_url_upload = platform", r.stdout)


class TcUrlPullSettingDefault(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        tc_daemon(cls, EMU, {"VODHOOK_TENCENT_URL_UPLOAD": "platform"})

    @classmethod
    def tearDownClass(cls):
        U.stop_daemon(cls.d)

    def test_setting_makes_a_pull(self):
        path, _, _ = media_file("tc-default.mp4", 1000)
        doc = U.submit(self, self.d, "tencent", {"url": SRV.url(path)})
        self.assertEqual(doc["options"]["url_upload"], "platform")
        doc = U.wait_state(self.d, doc["id"], ("ready",))
        self.assertTrue(doc["url_job_id"], doc)


if __name__ == "__main__":
    unittest.main()

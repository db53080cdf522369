"""Deletion as part of the media lifecycle, against the cloud emulator, the
real daemon and PostgreSQL: DELETE /v1/media/{provider}/{file_id} and
`vodhook delete` ask the platform (Tencent DeleteMedia, Alibaba DeleteVideo or
DeleteImage), the platform's event (FileDeleted, pushed or pulled;
DeleteMediaComplete) or, when it is lost, the reconciler moves the record to
deleted, where no late event moves it from; an Alibaba upload canceled or
failed for good deletes the video CreateUploadVideo made; Alibaba AI events
are deduplicated by job and status.

One emulator serves the module; each class has a database and a daemon of
its own.
"""
import json
import unittest
import uuid

import harness as h
import uploadlib as U
import vodevents as ve

EMU = None
DONE = ("uploaded", "confirmed", "processing", "ready")
# The reconciler looks at what waited 1 s, every 200 ms.
RECONCILE = {"VODHOOK_RECONCILE_AFTER": "1", "VODHOOK_RECONCILE_INTERVAL_MS": "200"}


def setUpModule():
    global EMU
    EMU = U.module_emu()


def tearDownModule():
    U.stop_emu(EMU)


def media(d, provider, fid):
    st, _, doc = d.client.json("GET", "/v1/media/%s/%s" % (provider, fid), None, U.AUTH)
    assert st == 200, (st, doc)
    return doc


def delete(d, provider, fid):
    return d.client.json("DELETE", "/v1/media/%s/%s" % (provider, fid), None, U.AUTH)


def wait_media_state(d, provider, fid, state):
    h.wait_for(lambda: media(d, provider, fid)["state"] == state,
               "media %s %s to be %s" % (provider, fid, state))
    return media(d, provider, fid)


def events(db, fid, event_type=None):
    rows = h.psql(db, "SELECT event_type, status, received_via FROM vod_events"
                  " WHERE file_id = :'v1' ORDER BY id", fid)
    return [r for r in rows if event_type is None or r[0] == event_type]


class TencentDelete(unittest.TestCase):
    """Push mode; the reconciler runs."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        d = U.class_daemon(cls, EMU, RECONCILE)
        d.start()
        cls.cb_url = "http://127.0.0.1:%d/callbacks/tencent" % d.port
        EMU.ctl("config", {"tencent_callback_url": cls.cb_url})

    @classmethod
    def tearDownClass(cls):
        U.stop_daemon(cls.d)

    def setUp(self):
        EMU.ctl("config", {"tencent_callback_url": self.cb_url})

    def upload(self, name, **body):
        path, _ = U.make_file(self.root, name, 200 * 1024)
        uid = U.submit(self, self.d, "tencent", dict(body, path=path))["id"]
        return U.wait_state(self.d, uid, ("ready",) if not body.get("procedure") else DONE)

    def cli(self, *args):
        env = U.upload_env(EMU, self.root, {"VODHOOK_DATABASE_URL": self.db})
        return h.run(["delete"] + list(args), env)

    def test_delete_through_the_api(self):
        fid = self.upload("api.mp4")["file_id"]
        t0 = U.now()
        st, _, doc = delete(self.d, "tencent", fid)
        self.assertEqual(st, 202, doc)
        self.assertIsNotNone(doc["delete"]["requested_at"], doc)
        self.assertIsNone(doc["delete"]["error_code"], doc)
        calls = EMU.calls("DeleteMedia", t0)
        self.assertEqual([c["params"]["FileId"] for c in calls], [fid])
        doc = wait_media_state(self.d, "tencent", fid, "deleted")
        self.assertIsNotNone(doc["transitions"]["deleted"], doc)
        self.assertIsNotNone(doc["transitions"]["ready"], doc)
        self.assertEqual(events(self.db, fid, "FileDeleted"), [["FileDeleted", "", "push"]])
        # Deleted already: nothing is asked again.
        st, _, doc = delete(self.d, "tencent", fid)
        self.assertEqual(st, 200, doc)
        self.assertEqual(len(EMU.calls("DeleteMedia", t0)), 1)
        # The state is listed and in the view.
        st, _, page = self.d.client.json("GET", "/v1/media?state=deleted", None, U.AUTH)
        self.assertEqual(st, 200, page)
        self.assertIn(fid, [m["file_id"] for m in page["items"]])
        rows = h.psql(self.db, "SELECT state, deleted_at IS NOT NULL, delete_requested_at IS NOT NULL"
                      " FROM media_lifecycle WHERE file_id = :'v1'", fid)
        self.assertEqual(rows, [["deleted", "t", "t"]])

    def test_delete_through_the_cli(self):
        fid = self.upload("cli.mp4")["file_id"]
        r = self.cli("tencent", fid)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["file_id"], fid)
        wait_media_state(self.d, "tencent", fid, "deleted")
        r = self.cli("tencent", fid)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("deleted already", r.stderr)
        r = self.cli("nosuch", fid)
        self.assertEqual(r.returncode, 2, r.stderr)

    def test_delete_before_a_late_procedure_event(self):
        # The task flow's FINISH comes 3 s after its PROCESSING; the media is
        # deleted in between: FINISH is stored and moves nothing.
        EMU.ctl("config", {"processing_delay_ms": 3000})
        try:
            path, _ = U.make_file(self.root, "late.mp4", 200 * 1024)
            uid = U.submit(self, self.d, "tencent", {"path": path, "procedure": "LongVideoPreset"})["id"]
            fid = U.wait_state(self.d, uid, ("processing",))["file_id"]
            st, _, doc = delete(self.d, "tencent", fid)
            self.assertEqual(st, 202, doc)
            wait_media_state(self.d, "tencent", fid, "deleted")
            h.wait_for(lambda: ["ProcedureStateChanged", "FINISH", "push"] in events(self.db, fid),
                       "the late FINISH to be stored")
        finally:
            EMU.ctl("config", {"processing_delay_ms": 0})
        doc = media(self.d, "tencent", fid)
        self.assertEqual(doc["state"], "deleted", doc)
        self.assertIsNotNone(doc["transitions"]["ready"], doc)

    def test_delete_after_a_procedure_finished(self):
        fid = self.upload("after.mp4", procedure="LongVideoPreset")["file_id"]
        wait_media_state(self.d, "tencent", fid, "ready")
        st, _, doc = delete(self.d, "tencent", fid)
        self.assertEqual(st, 202, doc)
        wait_media_state(self.d, "tencent", fid, "deleted")
        # A ProcedureStateChanged delivered again afterwards changes nothing.
        task = h.psql(self.db, "SELECT procedure_task_id FROM media WHERE file_id = :'v1'", fid)[0][0]
        EMU.ctl("tencent/event?sync=1", ve.tencent_procedure(fid, task, "PROCESSING"))
        self.assertEqual(media(self.d, "tencent", fid)["state"], "deleted")

    def test_lost_delete_event_is_completed_by_the_reconciler(self):
        fid = self.upload("lost.mp4")["file_id"]
        t0 = U.now()
        EMU.ctl("faults", {"callbacks": "drop_delete"})
        st, _, doc = delete(self.d, "tencent", fid)
        self.assertEqual(st, 202, doc)
        wait_media_state(self.d, "tencent", fid, "deleted")
        dropped = [json.loads(c["body"])["EventType"] for c in EMU.ctl("callbacks")
                   if c.get("dropped") and c.get("t", t0) >= t0]
        self.assertIn("FileDeleted", dropped)
        self.assertEqual(events(self.db, fid, "FileDeleted"), [])
        self.assertEqual(events(self.db, fid, "Reconciled")[-1], ["Reconciled", "deleted", "reconcile"])
        self.assertTrue(EMU.calls("DescribeMediaInfos", t0))

    def test_unknown_media(self):
        t0 = U.now()
        st, _, doc = delete(self.d, "tencent", "5285890799999999999")
        self.assertEqual(st, 404, doc)
        self.assertEqual(EMU.calls("DeleteMedia", t0), [])
        # A record the platform does not have (its events came from elsewhere):
        # the platform's code is shown and the record keeps its state.
        fid = "52858907" + str(uuid.uuid4().int)[:11]
        EMU.ctl("tencent/event?sync=1", ve.tencent_new_file_upload(fid))
        h.wait_for(lambda: h.psql(self.db, "SELECT state FROM media WHERE file_id = :'v1'", fid),
                   "the record of the injected event")
        before = media(self.d, "tencent", fid)["state"]
        st, _, doc = delete(self.d, "tencent", fid)
        self.assertEqual(st, 502, doc)
        self.assertIn("ResourceNotFound.FileNotExist", json.dumps(doc))
        after = media(self.d, "tencent", fid)
        self.assertEqual(after["state"], before)
        self.assertEqual(after["delete"]["error_code"], "ResourceNotFound.FileNotExist")
        r = self.cli("tencent", fid)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("ResourceNotFound.FileNotExist", r.stderr)
        self.assertEqual(h.psql(self.db, "SELECT state FROM media WHERE file_id = :'v1'", fid),
                         [[before]])

    def test_delete_event_for_unknown_media_and_legacy_format(self):
        fid = "52858907" + str(uuid.uuid4().int)[:11]
        ev = {"version": "4.0", "eventType": "FileDeleted",
              "data": {"status": 0, "message": "", "fileInfo": [{"fileId": fid}]}}
        EMU.ctl("tencent/event?sync=1", ev)
        EMU.ctl("tencent/event?sync=1", ev)
        h.wait_for(lambda: events(self.db, fid), "the deletion to be stored")
        self.assertEqual(events(self.db, fid), [["FileDeleted", "0", "push"]])
        self.assertEqual(media(self.d, "tencent", fid)["state"], "deleted")
        # A NewFileUpload that arrives after its deletion does not revive it.
        EMU.ctl("tencent/event?sync=1", ve.tencent_new_file_upload(fid))
        h.wait_for(lambda: len(events(self.db, fid)) == 2, "the upload event to be stored")
        self.assertEqual(media(self.d, "tencent", fid)["state"], "deleted")


class TencentDeletePull(unittest.TestCase):
    """Reliable callbacks: the FileDeleted event is pulled."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        EMU.ctl("config", {"tencent_event_mode": "pull"})
        U.class_daemon(cls, EMU, {"VODHOOK_TENCENT_EVENT_MODE": "pull"}).start()

    @classmethod
    def tearDownClass(cls):
        try:
            U.stop_daemon(cls.d)
        finally:
            EMU.ctl("config", {"tencent_event_mode": "push"})

    def test_pulled_deletion(self):
        path, _ = U.make_file(self.root, "pulled.mp4", 200 * 1024)
        uid = U.submit(self, self.d, "tencent", {"path": path})["id"]
        fid = U.wait_state(self.d, uid, ("ready",))["file_id"]
        st, _, doc = delete(self.d, "tencent", fid)
        self.assertEqual(st, 202, doc)
        wait_media_state(self.d, "tencent", fid, "deleted")
        self.assertEqual(events(self.db, fid, "FileDeleted"), [["FileDeleted", "", "pull"]])


class AlibabaDelete(unittest.TestCase):
    """Signed Alibaba callbacks; the reconciler runs."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.start_ali_daemon(cls, EMU, dict(RECONCILE, VODHOOK_UPLOAD_MAX_ATTEMPTS="1"))

    @classmethod
    def tearDownClass(cls):
        U.stop_daemon(cls.d)

    def upload(self, name, size=200 * 1024):
        path, _ = U.make_file(self.root, name, size)
        uid = U.submit(self, self.d, "alibaba", {"path": path})["id"]
        return U.wait_state(self.d, uid, ("ready",))["file_id"]

    def cli(self, *args):
        env = U.upload_env(EMU, self.root, U.ali_env({"VODHOOK_DATABASE_URL": self.db}))
        return h.run(["delete"] + list(args), env)

    def test_delete_video_through_the_api(self):
        vid = self.upload("api.mp4")
        t0 = U.now()
        st, _, doc = delete(self.d, "alibaba", vid)
        self.assertEqual(st, 202, doc)
        self.assertEqual([c["params"]["VideoIds"] for c in EMU.calls("DeleteVideo", t0)], [vid])
        wait_media_state(self.d, "alibaba", vid, "deleted")
        self.assertEqual(events(self.db, vid, "DeleteMediaComplete"),
                         [["DeleteMediaComplete", "success", "push"]])

    def test_delete_video_through_the_cli(self):
        vid = self.upload("cli.mp4")
        r = self.cli("alibaba", vid)
        self.assertEqual(r.returncode, 0, r.stderr)
        wait_media_state(self.d, "alibaba", vid, "deleted")

    def test_delete_image(self):
        iid = self.upload("pic.png", 50 * 1024)
        t0 = U.now()
        st, _, doc = delete(self.d, "alibaba", iid)
        self.assertEqual(st, 202, doc)
        # No event follows DeleteImage: its answer deletes the record.
        self.assertEqual(doc["state"], "deleted", doc)
        calls = EMU.calls("DeleteImage", t0)
        self.assertEqual([(c["params"]["DeleteImageType"], c["params"]["ImageIds"]) for c in calls],
                         [("ImageId", iid)])
        self.assertEqual(EMU.calls("DeleteVideo", t0), [])

    def test_lost_delete_event_is_completed_by_the_reconciler(self):
        vid = self.upload("lost.mp4")
        t0 = U.now()
        EMU.ctl("faults", {"callbacks": "drop_delete"})
        st, _, doc = delete(self.d, "alibaba", vid)
        self.assertEqual(st, 202, doc)
        wait_media_state(self.d, "alibaba", vid, "deleted")
        self.assertEqual(events(self.db, vid, "DeleteMediaComplete"), [])
        self.assertEqual(events(self.db, vid, "Reconciled")[-1], ["Reconciled", "deleted", "reconcile"])
        self.assertIn("InvalidVideo.NotFound",
                      [c.get("error") for c in EMU.calls("GetVideoInfo", t0)])

    def test_unknown_video(self):
        vid = uuid.uuid4().hex
        st, _, doc = delete(self.d, "alibaba", vid)
        self.assertEqual(st, 404, doc)
        EMU.ctl("alibaba/event?sync=1&url=" + self.cb_url, ve.alibaba_event("FileUploadComplete", vid))
        h.wait_for(lambda: h.psql(self.db, "SELECT 1 FROM media WHERE file_id = :'v1'", vid),
                   "the record of the injected event")
        state = media(self.d, "alibaba", vid)["state"]
        st, _, doc = delete(self.d, "alibaba", vid)
        self.assertEqual(st, 502, doc)
        self.assertIn("InvalidVideo.NotFound", json.dumps(doc))
        after = media(self.d, "alibaba", vid)
        self.assertEqual((after["state"], after["delete"]["error_code"]), (state, "InvalidVideo.NotFound"))

    def test_canceled_upload_deletes_its_video(self):
        path, _ = U.make_file(self.root, "cancel.mp4", 8 * U.MIB)
        t0 = U.now()
        EMU.ctl("faults", {"rate_limit_bps": U.MIB})
        try:
            uid = U.submit(self, self.d, "alibaba", {"path": path})["id"]
            h.wait_for(lambda: EMU.calls_for("CreateUploadVideo", uid, t0) and
                       U.get_upload(self.d, uid)["state"] == "uploading", "the transfer to start")
            st, _, doc = self.d.client.json("DELETE", "/v1/uploads/" + uid, None, U.AUTH)
            self.assertEqual(st, 202, doc)
            U.wait_state(self.d, uid, ("canceled",))
        finally:
            EMU.ctl("faults", {"rate_limit_bps": 0})
        vid = h.psql(self.db, "SELECT file_id FROM uploads WHERE id = :'v1'", uid)[0][0]
        h.wait_for(lambda: [c for c in EMU.calls("DeleteVideo", t0) if c["params"]["VideoIds"] == vid],
                   "DeleteVideo of the canceled upload's video")
        self.assertEqual(U.get_upload(self.d, uid)["state"], "canceled")

    def test_failed_upload_deletes_its_video(self):
        # One attempt (the class's setting), and its PutObject fails.
        path, _ = U.make_file(self.root, "fail.mp4", 100 * 1024)
        t0 = U.now()
        EMU.ctl("faults", {"kind": "PutObject", "nth": 1, "status": 403, "repeat": True})
        try:
            uid = U.submit(self, self.d, "alibaba", {"path": path})["id"]
            doc = U.wait_state(self.d, uid, ("failed",))
            created = [c for c in EMU.calls("CreateUploadVideo", t0) if not c.get("error")]
            deleted = [c["params"]["VideoIds"] for c in EMU.calls("DeleteVideo", t0)]
            left = [m.get("id") for m in EMU.ctl("media")]
        finally:
            EMU.ctl("reset", {})
            EMU.ctl("config", {"alibaba_auth_key": U.ALI_KEY})
        self.assertEqual(len(created), 1, created)
        self.assertEqual(len(deleted), 1, deleted)
        # The video is gone from the platform.
        self.assertNotIn(deleted[0], left)
        self.assertEqual(doc["state"], "failed")

    def test_ai_events_deduplicated_by_job_and_status(self):
        mid = uuid.uuid4().hex
        job = uuid.uuid4().hex

        def ai(status, when, **extra):
            ev = {"EventTime": when, "EventType": "AIMediaAuditComplete", "JobId": job,
                  "MediaId": mid, "Status": status, "Data": {"Suggestion": "pass"}}
            ev.update(extra)
            return ev
        url = "alibaba/event?sync=1&url=" + self.cb_url
        EMU.ctl(url, ai("success", "2026-12-05T10:00:00:100Z", Code="0", Message="OK"))
        EMU.ctl(url, ai("success", "2026-12-05T10:00:01:200Z", Code="0", Message="OK"))
        EMU.ctl(url, ai("fail", "2026-12-05T10:00:02:300Z", Code="InvalidMedia", Message="bad"))
        rows = h.psql(self.db, "SELECT dedup_key, error_code FROM vod_events WHERE file_id = :'v1'"
                      " ORDER BY id", mid)
        self.assertEqual(rows, [["AIMediaAuditComplete:%s:success" % job, ""],
                                ["AIMediaAuditComplete:%s:fail" % job, "InvalidMedia"]])


if __name__ == "__main__":
    unittest.main()

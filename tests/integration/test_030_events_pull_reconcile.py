"""Events without the push path: Tencent reliable callbacks (PullEvents /
ConfirmEvents) and the reconciler for callbacks that never arrive, against
the cloud emulator, the real daemon and PostgreSQL."""
import os
import json
import unittest
import uuid

import harness as h
import uploadlib as U
import vodevents as ve


def count(url, sql, *args):
    return int(h.psql(url, sql, *args)[0][0])


class Pull(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.emu = U.Emu()
        cls.emu.ctl("config", {"tencent_event_mode": "pull"})
        cls.root = U.tmpdir()
        cls.url = h.fresh_database()
        cls.d = h.Daemon(cls.url, U.upload_env(cls.emu, cls.root, {
            "VODHOOK_TENCENT_EVENT_MODE": "pull"})).start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.d.stop_checked()
        finally:
            cls.emu.stop()

    def test_pulled_events_are_stored_then_confirmed(self):
        fid = "52858907842" + str(uuid.uuid4().int)[:8]
        t0 = U.now()
        self.emu.ctl("tencent/event", ve.tencent_new_file_upload(fid, procedure_task_id="p-" + fid))
        self.emu.ctl("tencent/event", ve.tencent_procedure(fid, "p-" + fid, "FINISH"))
        h.wait_for(lambda: count(self.url, "SELECT count(*) FROM vod_events WHERE file_id = :'v1'"
                                 " AND received_via = 'pull'", fid) == 2,
                   "both pulled events to be stored")
        self.assertEqual(h.psql(self.url, "SELECT state FROM media WHERE file_id = :'v1'", fid), [["ready"]])
        # Both handles confirmed (the emulator accepts only live handles and
        # records a call only when it succeeded), each once.
        def confirmed():
            hs = []
            for c in self.emu.calls("ConfirmEvents", since=t0):
                v = c["params"].get("EventHandles") or []
                hs += [v] if isinstance(v, str) else v
            return hs
        h.wait_for(lambda: len(confirmed()) >= 2, "ConfirmEvents for both events")
        self.assertEqual(len(confirmed()), len(set(confirmed())))
        self.assertEqual(len(confirmed()), 2)

    def test_an_event_that_does_not_parse_is_stored_and_confirmed(self):
        # An id above 2^53 sent as a JSON number cannot be read exactly from a pulled element
        # (cJSON keeps a double): the event does not parse. Left unconfirmed, the platform hands
        # it out at every poll for days.
        t0 = U.now()
        body = {"EventType": "NewFileUpload",
                "FileUploadEvent": {"FileId": 52858907842468699301234, "MediaBasicInfo": {}}}
        self.emu.ctl("tencent/event", body)
        h.wait_for(lambda: count(self.url, "SELECT count(*) FROM vod_events WHERE event_type = 'Unparsed'"
                                 " AND received_via = 'pull'") == 1, "the event to be stored as Unparsed")
        rows = h.psql(self.url, "SELECT error_code, error_message, raw::jsonb -> 'FileUploadEvent' ? 'FileId'"
                      " FROM vod_events WHERE event_type = 'Unparsed'")
        self.assertEqual(rows[0][0], "Unparsed")
        self.assertIn("FileId", rows[0][1])
        self.assertEqual(rows[0][2], "t")
        h.wait_for(lambda: self.emu.calls("ConfirmEvents", since=t0), "the event to be confirmed")
        h.wait_for(lambda: self.emu.ctl("events") == [], "the platform's queue to be empty")
        self.assertEqual(count(self.url, "SELECT count(*) FROM vod_events WHERE event_type = 'Unparsed'"), 1)

    def test_procedure_upload_ready_through_pull(self):
        path, _ = U.make_file(self.root, "pull.mp4", 300 * 1024)
        st, _, doc = U.post_upload(self.d, {"provider": "tencent", "path": path, "name": "pulled",
                                            "procedure": "LongVideoPreset"})
        self.assertEqual(st, 202, doc)
        done = U.wait_state(self.d, doc["id"], ("ready", "failed"))
        self.assertEqual(done["state"], "ready", done)
        vias = {r[0] for r in h.psql(self.url, "SELECT received_via FROM vod_events e JOIN media m"
                                     " ON m.file_id = e.file_id WHERE m.upload_id = :'v1'", doc["id"])}
        self.assertEqual(vias, {"pull"})


class Reconcile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.emu = U.Emu()
        cls.root = U.tmpdir()
        cls.url = h.fresh_database()

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def test_tencent_callback_never_arrives(self):
        self.emu.ctl("faults", {"callbacks": "drop", "repeat": True})
        env = U.upload_env(self.emu, self.root, {
            "VODHOOK_RECONCILE_AFTER": "1", "VODHOOK_RECONCILE_INTERVAL_MS": "200"})
        with h.Daemon(self.url, env) as d:
            path, _ = U.make_file(self.root, "quiet.mp4", 200 * 1024)
            st, _, doc = U.post_upload(d, {"provider": "tencent", "path": path, "name": "quiet"})
            self.assertEqual(st, 202, doc)
            done = U.wait_state(d, doc["id"], ("ready", "failed"))
            self.assertEqual(done["state"], "ready", done)
            rows = h.psql(self.url, "SELECT e.event_type, e.received_via FROM vod_events e"
                          " JOIN uploads u ON u.file_id = e.file_id WHERE u.id = :'v1'", doc["id"])
            self.assertEqual(rows, [["Reconciled", "reconcile"]])
            self.assertTrue(self.emu.calls("DescribeMediaInfos"))
        self.emu.ctl("reset", {})

    def reconcile_task_flow(self, processing):
        """A Tencent upload with a Procedure whose task flow runs as the processing fault says and
        whose ProcedureStateChanged callbacks are lost (NewFileUpload, with the task id, arrives):
        the upload's end state once the reconciler has looked, and the media's last error."""
        self.emu.ctl("faults", {"callbacks": "drop_processing"})
        self.emu.ctl("faults", {"processing": processing})
        env = U.upload_env(self.emu, self.root, {
            "VODHOOK_RECONCILE_AFTER": "1", "VODHOOK_RECONCILE_INTERVAL_MS": "200"})
        try:
            with h.Daemon(self.url, env) as d:
                self.emu.ctl("config", {"tencent_callback_url":
                                        "http://127.0.0.1:%d/callbacks/tencent" % d.port})
                path, _ = U.make_file(self.root, "flow-%s.mp4" % processing, 200 * 1024)
                st, _, doc = U.post_upload(d, {"provider": "tencent", "path": path, "name": "flow",
                                               "procedure": "LongVideoPreset"})
                self.assertEqual(st, 202, doc)
                done = U.wait_state(d, doc["id"], ("ready", "failed"))
                rows = h.psql(self.url, "SELECT m.last_error_code, e.event_type, e.received_via"
                              " FROM media_lifecycle m JOIN vod_events e ON e.file_id = m.file_id"
                              " AND e.provider = m.provider WHERE m.upload_id = :'v1'"
                              " AND e.event_type = 'Reconciled'", doc["id"])
                sent = {(json.loads(c["body"])["EventType"], bool(c.get("dropped")))
                        for c in self.emu.ctl("callbacks")}
                self.assertEqual(sent, {("NewFileUpload", False), ("ProcedureStateChanged", True)})
                return done, rows, len(self.emu.calls("DescribeTaskDetail"))
        finally:
            self.emu.ctl("reset", {})

    def test_tencent_failed_task_flow_is_failed_not_ready(self):
        # One transcode failed, the other succeeded: DescribeMediaInfos lists a transcode, and that
        # alone made the media ready.
        done, rows, lookups = self.reconcile_task_flow("fail")
        self.assertEqual(done["state"], "failed", done)
        self.assertEqual(rows, [["SourceFileError.ContentMalformed", "Reconciled", "reconcile"]])
        self.assertGreater(lookups, 0)

    def test_tencent_task_flow_without_transcode_is_ready(self):
        # A task flow that only takes snapshots lists no transcode: the media stayed confirmed.
        done, rows, lookups = self.reconcile_task_flow("snapshot")
        self.assertEqual(done["state"], "ready", done)
        self.assertEqual(rows, [["", "Reconciled", "reconcile"]])
        self.assertGreater(lookups, 0)


if __name__ == "__main__":
    unittest.main()

"""Events without the push path: Tencent reliable callbacks (PullEvents /
ConfirmEvents) and the reconciler for callbacks that never arrive, against
the cloud emulator, the real daemon and PostgreSQL."""
import os
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


if __name__ == "__main__":
    unittest.main()

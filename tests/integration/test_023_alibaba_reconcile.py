"""Alibaba callbacks that never arrive: the reconciler asks GetVideoInfo
about media stuck before ready and records what it says as a 'Reconciled'
event, so that an upload with a TemplateGroupId ends ready, and one whose
processing failed ends failed, without a single callback.

Its own emulator: every callback batch is dropped for the whole module.
"""
import json
import unittest

import harness as h
import uploadlib as U


class AliReconcile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.emu = U.Emu()
        cls.emu.ctl("faults", {"callbacks": "drop", "repeat": True})
        U.start_ali_daemon(cls, cls.emu, {"VODHOOK_RECONCILE_AFTER": "1",
                                          "VODHOOK_RECONCILE_INTERVAL_MS": "200"})

    @classmethod
    def tearDownClass(cls):
        U.stop_class(cls)

    def upload(self, name):
        path, _ = U.make_file(self.root, name, 200 * 1024)
        st, _, doc = U.post_upload(self.d, {"provider": "alibaba", "path": path,
                                            "procedure": "tg-quiet"})
        self.assertEqual(st, 202, doc)
        return U.wait_state(self.d, doc["id"], ("ready", "failed"))

    def events(self, vid):
        return h.psql(self.db, "SELECT event_type, received_via, status FROM vod_events"
                      " WHERE provider = 'alibaba' AND file_id = :'v1' ORDER BY id", vid)

    def dropped(self, vid):
        """The callbacks the emulator produced for vid and dropped."""
        out = []
        for c in self.emu.ctl("callbacks"):
            try:
                body = json.loads(c.get("body") or "null")
            except ValueError:
                continue
            if isinstance(body, dict) and body.get("VideoId") == vid:
                self.assertTrue(c.get("dropped"), c)
                out.append(body["EventType"])
        return out

    def test_callbacks_dropped_reconciled_ready(self):
        done = self.upload("quiet.mp4")
        self.assertEqual(done["state"], "ready", done)
        vid = done["file_id"]
        evs = self.events(vid)
        self.assertTrue(evs)
        self.assertEqual({(t, via) for t, via, _ in evs}, {("Reconciled", "reconcile")}, evs)
        self.assertEqual(evs[-1][2], "Normal")
        # The platform did send them, and they were all lost.
        h.wait_for(lambda: "TranscodeComplete" in self.dropped(vid), "the dropped TranscodeComplete")
        self.assertIn("FileUploadComplete", self.dropped(vid))
        self.assertTrue([c for c in self.emu.calls("GetVideoInfo")
                         if c["params"].get("VideoId") == vid])
        rows = h.psql(self.db, "SELECT state, upload_id FROM media WHERE file_id = :'v1'", vid)
        self.assertEqual(rows, [["ready", done["id"]]])

    def test_callbacks_dropped_processing_failed(self):
        self.emu.ctl("faults", {"processing": "fail"})
        done = self.upload("broken.mp4")
        self.assertEqual(done["state"], "failed", done)
        vid = done["file_id"]
        evs = self.events(vid)
        self.assertEqual({(t, via) for t, via, _ in evs}, {("Reconciled", "reconcile")}, evs)
        self.assertEqual(evs[-1][2], "TranscodeFail")
        h.wait_for(lambda: "TranscodeComplete" in self.dropped(vid), "the dropped TranscodeComplete")
        rows = h.psql(self.db, "SELECT state, last_error_code FROM media_lifecycle"
                      " WHERE file_id = :'v1'", vid)
        self.assertEqual(rows, [["failed", "TranscodeFail"]])


if __name__ == "__main__":
    unittest.main()

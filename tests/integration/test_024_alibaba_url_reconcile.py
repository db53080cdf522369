"""Alibaba URL pulls whose callbacks never arrive: a job the platform pulls
(url_upload "platform") stays parked until its callbacks come; when none
does, the reconciler asks GetURLUploadInfos about it once it has waited
VODHOOK_RECONCILE_AFTER seconds, and asks again only after as long. A pull
that succeeded is recorded like its FileUploadComplete (a 'Reconciled'
event for the MediaId, linked to the upload), after which the media
reconciler (GetVideoInfo) takes over; one that failed fails the upload with
the platform's code; one still under way is left alone.

Its own emulator: every callback is dropped for the whole module.
"""
import json
import unittest

import harness as h
import uploadlib as U


class Pulls:
    """An emulator that drops every callback, a media server, and a daemon
    with these settings (and a 1 s reconcile_after)."""
    SETTINGS = {}

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.emu = U.Emu()
        cls.srv = U.MediaServer()
        cls.emu.ctl("faults", {"callbacks": "drop", "repeat": True})
        U.start_ali_daemon(cls, cls.emu, dict({"VODHOOK_RECONCILE_AFTER": "1",
                                               "VODHOOK_RECONCILE_INTERVAL_MS": "200"},
                                              **cls.SETTINGS))

    @classmethod
    def tearDownClass(cls):
        try:
            U.stop_daemon(cls.d)
        finally:
            cls.srv.stop()
            cls.emu.stop()

    def pull(self, path, **fields):
        """Submit a platform pull of path on the media server; returns the
        upload once parked with its JobId."""
        body = {"provider": "alibaba", "url": self.srv.url(path), "url_upload": "platform"}
        body.update(fields)
        st, _, doc = U.post_upload(self.d, body)
        self.assertEqual(st, 202, doc)
        uid = doc["id"]
        h.wait_for(lambda: U.get_upload(self.d, uid)["url_job_id"], "the JobId of %s" % uid)
        return U.get_upload(self.d, uid)

    def lookups(self, job):
        """The GetURLUploadInfos calls that asked about job, oldest first,
        with the emulator's answer (JobId -> Status) of each."""
        out = []
        for c in self.emu.calls("GetURLUploadInfos"):
            if job in c["params"].get("JobIds", "").split(","):
                out.append(c)
        return out

    def answers(self, job):
        return [c["answer"].get(job) for c in self.lookups(job)]

    def emu_job(self, job):
        for j in self.emu.ctl("url_jobs"):
            if j["JobId"] == job:
                return j
        raise AssertionError("the emulator has no URL job %s" % job)

    def events(self, uid):
        return h.psql(self.db, "SELECT event_type, received_via, file_id, task_id, status,"
                      " error_code FROM vod_events WHERE upload_id = :'v1'"
                      " OR file_id = (SELECT file_id FROM uploads WHERE id = :'v1') ORDER BY id",
                      uid)

    def dropped(self, job):
        """EventTypes of the callbacks the emulator produced for the pull
        job (and its media) and dropped; fails on one delivered."""
        vid = self.emu_job(job).get("MediaId")
        out = []
        for c in self.emu.ctl("callbacks"):
            try:
                body = json.loads(c.get("body") or "null")
            except ValueError:
                continue
            if isinstance(body, dict) and (body.get("JobId") == job or
                                           (vid and body.get("VideoId") == vid)):
                self.assertTrue(c.get("dropped"), c)
                out.append(body["EventType"])
        return out

    def assert_one_pull(self, uid):
        calls = self.emu.calls_for("UploadMediaByURL", uid, skip_faults=True)
        self.assertEqual(len(calls), 1, calls)


class AliUrlReconcile(Pulls, unittest.TestCase):
    def test_pulled_with_processing_ends_ready(self):
        path = "/v/proc.mp4"
        _, md5 = U.make_file(self.srv.dir, "proc.mp4", 300 * 1024)
        doc = self.pull(path, procedure="tg-quiet")
        uid, job = doc["id"], doc["url_job_id"]
        doc = U.wait_state(self.d, uid, ("ready", "failed"))
        self.assertEqual(doc["state"], "ready", doc)
        vid = doc["file_id"]
        # The VideoId is the platform's, and so are the bytes.
        self.assertEqual(self.emu_job(job)["MediaId"], vid)
        self.assertEqual(self.emu.media(vid)["job_id"], job)
        self.assertEqual(self.emu.md5_size(vid), (md5, 300 * 1024))
        self.assertEqual((doc["bytes_total"], doc["bytes_done"]), (300 * 1024, 300 * 1024))
        self.assertIsNone(doc["error"], doc)
        # The platform sent every callback, and all were lost.
        h.wait_for(lambda: "TranscodeComplete" in self.dropped(job), "the dropped TranscodeComplete")
        self.assertIn("UploadByURLComplete", self.dropped(job))
        self.assertIn("FileUploadComplete", self.dropped(job))
        # The calls: one pull; GetURLUploadInfos until it said SUCCESS,
        # never after; then GetVideoInfo about the media.
        self.assert_one_pull(uid)
        answers = self.answers(job)
        self.assertEqual(answers[-1], "SUCCESS", answers)
        self.assertNotIn("SUCCESS", answers[:-1])
        infos = [c for c in self.emu.calls("GetVideoInfo") if c["params"].get("VideoId") == vid]
        self.assertTrue(infos)
        self.assertGreater(infos[0]["t"], self.lookups(job)[-1]["t"])
        self.assertEqual(self.emu.calls_for("CreateUploadVideo", uid), [])
        # Every event is the reconciler's: the pull's, linked to the
        # upload, then the media's.
        evs = self.events(uid)
        self.assertEqual({e[1] for e in evs}, {"reconcile"}, evs)
        self.assertEqual(evs[0][:5], ["Reconciled", "reconcile", vid, job, "SUCCESS"])
        self.assertEqual(evs[-1][4], "Normal")
        rows = h.psql(self.db, "SELECT state, upload_id, size FROM media WHERE provider = 'alibaba'"
                      " AND file_id = :'v1'", vid)
        self.assertEqual(rows, [["ready", uid, str(300 * 1024)]])

    def test_pulled_without_processing_is_ready_at_once(self):
        path = "/v/plain.mp4"
        U.make_file(self.srv.dir, "plain.mp4", 1000)
        doc = self.pull(path)
        uid, job = doc["id"], doc["url_job_id"]
        doc = U.wait_state(self.d, uid, ("ready", "failed"))
        self.assertEqual(doc["state"], "ready", doc)
        vid = doc["file_id"]
        self.assertEqual(self.emu_job(job)["MediaId"], vid)
        # Nothing is processed: the upload's end is known from
        # GetURLUploadInfos alone, as from a FileUploadComplete.
        self.assert_one_pull(uid)
        self.assertEqual(self.answers(job)[-1], "SUCCESS")
        self.assertEqual([c for c in self.emu.calls("GetVideoInfo")
                          if c["params"].get("VideoId") == vid], [])
        evs = self.events(uid)
        self.assertEqual(len(evs), 1, evs)
        self.assertEqual(evs[0][:5], ["Reconciled", "reconcile", vid, job, "SUCCESS"])
        h.wait_for(lambda: "FileUploadComplete" in self.dropped(job), "the dropped FileUploadComplete")

    def test_url_the_platform_cannot_fetch_fails(self):
        doc = self.pull("/v/missing.mp4")
        uid, job = doc["id"], doc["url_job_id"]
        doc = U.wait_state(self.d, uid, ("failed", "ready"))
        self.assertEqual(doc["state"], "failed", doc)
        self.assertEqual(doc["error"]["code"], "URLInvalidError", doc)
        self.assertEqual(doc["error"]["message"], self.emu_job(job)["ErrorMessage"])
        self.assertIsNone(doc["file_id"], doc)
        self.assertEqual(self.srv.fetches("/v/missing.mp4"), ["vodhook-emulator"])
        # The failure callback was dropped: GetURLUploadInfos told.
        h.wait_for(lambda: self.dropped(job) == ["UploadByURLComplete"], "the dropped UploadByURLComplete")
        self.assert_one_pull(uid)
        answers = self.answers(job)
        self.assertEqual(answers[-1], "FAIL", answers)
        self.assertNotIn("FAIL", answers[:-1])
        evs = self.events(uid)
        self.assertEqual(evs, [["Reconciled", "reconcile", "", job, "FAIL", "URLInvalidError"]])
        self.assertEqual(h.psql(self.db, "SELECT count(*) FROM media"
                                " WHERE upload_id = :'v1'", uid), [["0"]])

    def test_pull_under_way_is_left_alone(self):
        name = "slow.mp4"
        _, md5 = U.make_file(self.srv.dir, name, 2000)
        path = "/gate/" + name
        self.srv.gate.clear()
        try:
            doc = self.pull(path)
            uid, job = doc["id"], doc["url_job_id"]
            h.wait_for(lambda: self.srv.fetches(path), "the platform to start fetching")
            # Asked about, twice, the second time no sooner than
            # reconcile_after later; told it is under way; not failed.
            h.wait_for(lambda: self.answers(job).count("DOWNLOADING") >= 2,
                       "two lookups of the pull under way")
            calls = self.lookups(job)
            self.assertGreaterEqual(calls[1]["t"] - calls[0]["t"], 0.9, calls)
            doc = U.get_upload(self.d, uid)
            self.assertEqual((doc["state"], doc["file_id"], doc["error"]),
                             ("uploading", None, None), doc)
            self.assertEqual(self.events(uid), [])
        finally:
            self.srv.gate.set()
        doc = U.wait_state(self.d, uid, ("ready", "failed"))
        self.assertEqual(doc["state"], "ready", doc)
        self.assertEqual(self.emu.md5_size(doc["file_id"]), (md5, 2000))
        answers = self.answers(job)
        self.assertEqual(answers[-1], "SUCCESS", answers)
        self.assertEqual(set(answers[:-1]), {"DOWNLOADING"}, answers)
        self.assert_one_pull(uid)


class AliUrlPullTimeout(Pulls, unittest.TestCase):
    """url_pull_timeout: a pull still under way after it fails its upload
    with URLPullTimeout, in the same transaction as the event that says
    so; one that has not waited as long is left alone."""
    SETTINGS = {"VODHOOK_URL_PULL_TIMEOUT": "3"}

    def test_pull_that_never_finishes_fails(self):
        name = "never.mp4"
        U.make_file(self.srv.dir, name, 2000)
        path = "/gate/" + name
        self.srv.gate.clear()
        try:
            doc = self.pull(path)
            uid, job = doc["id"], doc["url_job_id"]
            doc = U.wait_state(self.d, uid, ("failed", "ready"), timeout=30)
            self.assertEqual(doc["state"], "failed", doc)
            self.assertEqual(doc["error"]["code"], "URLPullTimeout", doc)
            self.assertRegex(doc["error"]["message"],
                             r"^the platform had not finished pulling the URL \d+ s after it"
                             r" was submitted \(status DOWNLOADING\)$")
            self.assertIsNone(doc["file_id"], doc)
            # Asked about before the timeout and told it was under way,
            # without failing it then; failed at a lookup 3 s or more
            # after the JobId was recorded.
            answers = self.answers(job)
            self.assertGreaterEqual(len(answers), 2, answers)
            self.assertEqual(set(answers), {"DOWNLOADING"}, answers)
            waited = h.psql(self.db, "SELECT (raw::json->>'WaitedSeconds')::int,"
                            " raw::json->'LastAnswer'->>'Status', status"
                            " FROM vod_events WHERE upload_id = :'v1'", uid)
            self.assertEqual(len(waited), 1, waited)
            self.assertGreaterEqual(int(waited[0][0]), 3, waited)
            self.assertEqual(waited[0][1:], ["DOWNLOADING", "DOWNLOADING"])
            self.assertEqual(self.events(uid),
                             [["Reconciled", "reconcile", "", job, "DOWNLOADING", "URLPullTimeout"]])
            failed_at = h.psql(self.db, "SELECT finished_at IS NOT NULL FROM uploads"
                               " WHERE id = :'v1'", uid)
            self.assertEqual(failed_at, [["t"]])
        finally:
            self.srv.gate.set()
        # The platform finishes the pull after all: the upload stays failed
        # (its callbacks are dropped here; a late one would add the media
        # record, not revive the upload).
        h.wait_for(lambda: self.emu_job(job).get("Status") == "SUCCESS", "the pull to end")
        self.assertEqual(U.get_upload(self.d, uid)["state"], "failed")
        self.assert_one_pull(uid)


if __name__ == "__main__":
    unittest.main()

"""Images, attached media and several applications, against the emulator:
a Tencent image upload; an Alibaba attached media (CreateUploadAttachedMedia)
linked by its AttachedMediaUploadComplete; uploads to a non-default Tencent
SubAppId and Alibaba AppId whose later calls (CommitUpload, the reconciler's
DescribeMediaInfos) name it; a SubAppId or AppId the account does not have,
refused with the platform's error; PULL mode polling two SubAppIds; the
deletion of a media in a non-default application, asked in that application;
Alibaba images and attached media deleted (DeleteAttachedMedia, also for a
failed upload's record) and reconciled (GetImageInfo, GetAttachedMediaInfo)
with their own calls.
"""
import unittest
import uuid

import harness as h
import uploadlib as U
import vodevents as ve

SUB = "1500000002"  # a sub-application the emulator's account has


def delete_and_wait(test, provider, fid):
    """DELETE /v1/media/{provider}/{fid}: accepted, and the record deleted once the platform's
    event came."""
    st, _, doc = test.d.client.json("DELETE", "/v1/media/%s/%s" % (provider, fid), None, U.AUTH)
    test.assertEqual(st, 202, doc)
    test.assertIsNone(doc["delete"]["error_code"], doc)

    def state():
        return test.d.client.json("GET", "/v1/media/%s/%s" % (provider, fid), None, U.AUTH)[2]["state"]
    h.wait_for(lambda: state() == "deleted", "%s media %s to be deleted" % (provider, fid))


def app_ids(db, uid):
    """(uploads.app_id, media.app_id) of upload uid."""
    return tuple(h.psql(db, "SELECT u.app_id, m.app_id FROM uploads u LEFT JOIN media m"
                        " ON m.upload_id = u.id WHERE u.id = :'v1'", uid)[0])


class TencentApps(unittest.TestCase):
    """A Tencent daemon taking pushed callbacks; the reconciler looks at
    records left without callbacks after 1 s."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.emu = U.Emu()
        U.class_daemon(cls, cls.emu, {"VODHOOK_RECONCILE_AFTER": "1",
                                      "VODHOOK_RECONCILE_INTERVAL_MS": "200"}).start()
        cls.emu.ctl("config", {"tencent_callback_url":
                               "http://127.0.0.1:%d/callbacks/tencent" % cls.d.port})

    @classmethod
    def tearDownClass(cls):
        U.stop_class(cls)

    def test_image_upload_is_recorded_as_an_image(self):
        path, md5 = U.make_file(self.root, "poster.png", 40 * 1024)
        t0 = U.now()
        doc = U.submit(self, self.d, "tencent", {"path": path})
        self.assertEqual(doc["media_kind"], "image")
        done = U.wait_state(self.d, doc["id"], ("ready", "failed"))
        self.assertEqual(done["state"], "ready", done)
        apply = self.emu.calls("ApplyUpload", since=t0)
        self.assertEqual([c["params"]["MediaType"] for c in apply], ["png"])
        self.assertEqual(self.emu.stored(done["file_id"])["md5"], md5)
        self.assertEqual(self.emu.media(done["file_id"])["category"], "Image")

    def test_image_refuses_a_cover(self):
        path, _ = U.make_file(self.root, "still.jpg", 1024)
        cover, _ = U.make_file(self.root, "cover.jpg", 1024)
        st, _, doc = U.post_upload(self.d, {"provider": "tencent", "path": path, "cover_path": cover})
        self.assertEqual(st, 400, doc)
        self.assertIn("cover_path does not apply to an image", doc["error"]["message"])

    def test_sub_app_id_is_kept_and_named_by_every_call(self):
        path, _ = U.make_file(self.root, "sub.mp4", 100 * 1024)
        t0 = U.now()
        # Callbacks lost: the reconciler must find the media, in its application.
        self.emu.ctl("faults", {"callbacks": "drop"})
        doc = U.submit(self, self.d, "tencent", {"path": path, "sub_app_id": int(SUB)})
        self.assertEqual(doc["options"]["sub_app_id"], SUB)
        done = U.wait_state(self.d, doc["id"], ("ready", "failed"))
        self.assertEqual(done["state"], "ready", done)
        for action in ("ApplyUpload", "CommitUpload"):
            calls = self.emu.calls(action, since=t0)
            self.assertEqual([str(c["params"].get("SubAppId")) for c in calls], [SUB], action)
        fid = done["file_id"]
        described = [c for c in self.emu.calls("DescribeMediaInfos", since=t0)
                     if fid in (c["params"].get("FileIds") or [])]
        self.assertTrue(described)
        self.assertTrue(all(str(c["params"].get("SubAppId")) == SUB for c in described), described)
        self.assertEqual(app_ids(self.db, doc["id"]), (SUB, SUB))
        st, _, media = self.d.client.json("GET", "/v1/media/tencent/" + fid, None, U.AUTH)
        self.assertEqual((st, media["app_id"]), (200, SUB))

    def test_delete_names_the_media_s_sub_app_id(self):
        # The media lives in SUB only: DeleteMedia must name it, whatever the setting says.
        path, _ = U.make_file(self.root, "gone.mp4", 20 * 1024)
        doc = U.submit(self, self.d, "tencent", {"path": path, "sub_app_id": int(SUB)})
        done = U.wait_state(self.d, doc["id"], ("ready", "failed"))
        self.assertEqual(done["state"], "ready", done)
        fid = done["file_id"]
        t0 = U.now()
        delete_and_wait(self, "tencent", fid)
        calls = self.emu.calls("DeleteMedia", since=t0)
        self.assertEqual([(c["params"]["FileId"], str(c["params"].get("SubAppId"))) for c in calls],
                         [(fid, SUB)])

    def test_a_sub_app_id_the_account_lacks_is_refused(self):
        path, _ = U.make_file(self.root, "nowhere.mp4", 10 * 1024)
        doc = U.submit(self, self.d, "tencent", {"path": path, "sub_app_id": "1500000099"})
        done = U.wait_state(self.d, doc["id"], ("failed",))
        self.assertEqual(done["error"]["code"], "InvalidParameterValue.SubAppId", done)

    def test_a_malformed_sub_app_id_is_a_400(self):
        path, _ = U.make_file(self.root, "bad.mp4", 1024)
        for v in ("15x", 0, -3, "app-1"):
            st, _, doc = U.post_upload(self.d, {"provider": "tencent", "path": path, "sub_app_id": v})
            self.assertEqual(st, 400, (v, doc))
            self.assertIn("sub_app_id", doc["error"]["message"])


class TencentPullApps(unittest.TestCase):
    """PULL mode over two SubAppIds: each polled and confirmed in its own."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.emu = U.Emu()
        cls.emu.ctl("config", {"tencent_event_mode": "pull"})
        U.class_daemon(cls, cls.emu, {"VODHOOK_TENCENT_EVENT_MODE": "pull",
                                      "VODHOOK_TENCENT_SUBAPP_ID": "1500000001",
                                      "VODHOOK_TENCENT_PULL_SUBAPP_IDS": "1500000001, " + SUB}).start()

    @classmethod
    def tearDownClass(cls):
        U.stop_class(cls)

    def test_events_of_both_applications_are_pulled_and_confirmed(self):
        t0 = U.now()
        ids = {}
        for sub in ("1500000001", SUB):
            path, _ = U.make_file(self.root, "p%s.mp4" % sub, 50 * 1024)
            body = {"path": path, "procedure": "LongVideoPreset"}
            if sub == SUB:
                body["sub_app_id"] = sub  # the other takes the setting's
            ids[sub] = U.submit(self, self.d, "tencent", body)["id"]
        for sub, uid in ids.items():
            done = U.wait_state(self.d, uid, ("ready", "failed"))
            self.assertEqual(done["state"], "ready", done)
            self.assertEqual(app_ids(self.db, uid), (sub, sub))
        polled = {str(c["params"].get("SubAppId")) for c in self.emu.calls("PullEvents", since=t0)}
        self.assertEqual(polled, {"1500000001", SUB})
        h.wait_for(lambda: {str(c["params"].get("SubAppId"))
                            for c in self.emu.calls("ConfirmEvents", since=t0)} == {"1500000001", SUB},
                   "ConfirmEvents in both applications")
        h.wait_for(lambda: self.emu.ctl("events") == [], "the platform's queues to be empty")

    def test_a_media_first_known_from_a_pulled_event_keeps_its_application(self):
        # Not uploaded by vodhook: its event, pulled in SUB, is all that tells where it lives.
        fid = "5285890784" + str(uuid.uuid4().int)[:9]
        self.emu.ctl("tencent/event?sub_app_id=" + SUB, ve.tencent_new_file_upload(fid))
        h.wait_for(lambda: h.psql(self.db, "SELECT app_id FROM media WHERE file_id = :'v1'", fid)
                   == [[SUB]], "the media to be recorded in its application")

    def test_a_bad_list_stops_start_up_naming_the_setting(self):
        r = h.run(["serve"], dict(self.d.env, VODHOOK_DATABASE_URL=self.db,
                                  VODHOOK_SPOOL_DIR=U.tmpdir(),
                                  VODHOOK_TENCENT_PULL_SUBAPP_IDS="1500000001,abc",
                                  VODHOOK_LISTEN="127.0.0.1:%d" % h.free_port()), timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("tencent_pull_subapp_ids", r.stderr)


class AlibabaAppsAttached(unittest.TestCase):
    """An Alibaba daemon taking signed callbacks."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.emu = U.Emu()
        U.start_ali_daemon(cls, cls.emu)

    @classmethod
    def tearDownClass(cls):
        U.stop_class(cls)

    def test_attached_media_upload_linked_by_its_event(self):
        path, md5 = U.make_file(self.root, "subs.srt", 3000)
        t0 = U.now()
        doc = U.submit(self, self.d, "alibaba", {
            "path": path, "name": "Subtitles", "media_kind": "attached", "business_type": "subtitle",
            "tags": ["en", "cc"], "cate_ids": "100,200", "description": "English"})
        self.assertEqual(doc["media_kind"], "attached")
        done = U.wait_state(self.d, doc["id"], ("ready", "failed"))
        self.assertEqual(done["state"], "ready", done)
        calls = self.emu.calls_for("CreateUploadAttachedMedia", doc["id"], t0)
        self.assertEqual(len(calls), 1, self.emu.calls("CreateUploadAttachedMedia", t0))
        p = calls[0]["params"]
        self.assertEqual((p["BusinessType"], p["MediaExt"], p["Title"], p["FileName"], p["FileSize"],
                          p["Tags"], p["CateIds"], p["Description"]),
                         ("subtitle", "srt", "Subtitles", "Subtitles.srt", "3000", "en,cc", "100,200",
                          "English"))
        self.assertEqual(self.emu.calls("CreateUploadVideo", t0), [])
        mid = done["file_id"]
        self.assertEqual(self.emu.stored(mid)["md5"], md5)
        rows = h.psql(self.db, "SELECT e.event_type, m.state, m.upload_id::text FROM vod_events e"
                      " JOIN media m ON m.file_id = e.file_id WHERE e.file_id = :'v1'", mid)
        self.assertEqual(rows, [["AttachedMediaUploadComplete", "ready", doc["id"]]])

    def test_attached_media_options_are_checked(self):
        path, _ = U.make_file(self.root, "mark.png", 1000)
        cases = [({"media_kind": "attached"}, "business_type"),
                 ({"media_kind": "attached", "business_type": "subtitle"}, "cannot be of type"),
                 ({"media_kind": "attached", "business_type": "watermark", "cate_id": 3}, "cate_ids"),
                 ({"business_type": "watermark"}, "attached media only")]
        for extra, why in cases:
            st, _, doc = U.post_upload(self.d, dict({"provider": "alibaba", "path": path}, **extra))
            self.assertEqual(st, 400, (extra, doc))
            self.assertIn(why, doc["error"]["message"])

    def test_app_id_is_named_and_kept(self):
        path, _ = U.make_file(self.root, "app.mp4", 20 * 1024)
        t0 = U.now()
        doc = U.submit(self, self.d, "alibaba", {"path": path, "app_id": "app-2000001"})
        done = U.wait_state(self.d, doc["id"], ("ready", "failed"))
        self.assertEqual(done["state"], "ready", done)
        calls = self.emu.calls_for("CreateUploadVideo", doc["id"], t0)
        self.assertEqual([c["params"].get("AppId") for c in calls], ["app-2000001"])
        self.assertEqual(app_ids(self.db, doc["id"]), ("app-2000001", "app-2000001"))

    def test_delete_of_a_video_in_another_app(self):
        # DeleteVideo takes no AppId (VideoIds, ReferenceIds): the video is deleted all the same.
        path, _ = U.make_file(self.root, "app-gone.mp4", 20 * 1024)
        doc = U.submit(self, self.d, "alibaba", {"path": path, "app_id": "app-2000001"})
        done = U.wait_state(self.d, doc["id"], ("ready", "failed"))
        self.assertEqual(done["state"], "ready", done)
        vid = done["file_id"]
        t0 = U.now()
        delete_and_wait(self, "alibaba", vid)
        self.assertEqual([c["params"]["VideoIds"] for c in self.emu.calls("DeleteVideo", t0)], [vid])

    def test_an_app_id_the_account_lacks_is_refused(self):
        path, _ = U.make_file(self.root, "lost.mp4", 1000)
        doc = U.submit(self, self.d, "alibaba", {"path": path, "app_id": "app-99"})
        done = U.wait_state(self.d, doc["id"], ("failed",))
        self.assertEqual(done["error"]["code"], "InvalidParameter", done)
        st, _, doc = U.post_upload(self.d, {"provider": "alibaba", "path": path, "app_id": "myapp"})
        self.assertEqual(st, 400, doc)
        self.assertIn("app_id must be an AppId", doc["error"]["message"])



class AppsCli(unittest.TestCase):
    """vodhook upload with --sub-app-id, --app-id, --media-kind attached."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.emu = U.Emu()
        U.class_db(cls, migrate=True)

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def cli(self, args):
        env = U.upload_env(self.emu, self.root, U.ali_env({"VODHOOK_DATABASE_URL": self.db}))
        return h.run(["upload"] + args, env, timeout=120)

    def test_cli_attached_media_in_an_application(self):
        path, md5 = U.make_file(self.root, "logo.png", 5000)
        t0 = U.now()
        r = self.cli(["--provider", "alibaba", "--media-kind", "attached", "--business-type", "watermark",
                      "--cate-ids", "7", "--app-id", "app-2000001", path])
        self.assertEqual(r.returncode, 0, r.stderr)
        out = dict(line.split(": ", 1) for line in r.stdout.splitlines() if ": " in line)
        calls = self.emu.calls_for("CreateUploadAttachedMedia", out["upload_id"], t0)
        self.assertEqual([(c["params"]["BusinessType"], c["params"]["MediaExt"], c["params"]["CateIds"],
                           c["params"]["AppId"]) for c in calls], [("watermark", "png", "7", "app-2000001")])
        self.assertEqual(self.emu.stored(out["file_id"])["md5"], md5)
        self.assertEqual(h.psql(self.db, "SELECT media_kind, app_id FROM uploads WHERE id = :'v1'",
                                out["upload_id"]), [["attached", "app-2000001"]])

    def test_cli_refusals(self):
        path, _ = U.make_file(self.root, "x.mp4", 1000)
        for args, want in ((["--provider", "tencent", "--sub-app-id", "abc"], "sub_app_id"),
                           (["--provider", "alibaba", "--sub-app-id", "1"], "sub_app_id"),
                           (["--provider", "alibaba", "--app-id", "default"], "app_id must be an AppId"),
                           (["--provider", "alibaba", "--business-type", "subtitle"], "attached media only")):
            r = self.cli(args + [path])
            self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
            self.assertIn(want, r.stderr, args)
        r = h.run(["upload", "--help"], {})
        for opt in ("--sub-app-id", "--app-id", "--business-type", "--cate-ids"):
            self.assertIn(opt, r.stdout)


if __name__ == "__main__":
    unittest.main()

class AlibabaKinds(unittest.TestCase):
    """Images and attached media after their upload: each kind is deleted
    and looked up with its own calls (DeleteAttachedMedia, GetImageInfo,
    GetAttachedMediaInfo), which GetVideoInfo and DeleteVideo are not. One
    attempt per upload; the reconciler looks at records left without
    callbacks after 1 s."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.emu = U.Emu()
        U.start_ali_daemon(cls, cls.emu, {"VODHOOK_RECONCILE_AFTER": "1",
                                          "VODHOOK_RECONCILE_INTERVAL_MS": "200",
                                          "VODHOOK_UPLOAD_MAX_ATTEMPTS": "1"})

    @classmethod
    def tearDownClass(cls):
        U.stop_class(cls)

    ATTACHED = {"media_kind": "attached", "business_type": "subtitle"}

    def upload(self, name, extra=None, drop=False):
        """The file id of a new upload of name once ready; drop: its completion callback is lost."""
        path, _ = U.make_file(self.root, name, 3000)
        if drop:
            self.emu.ctl("faults", {"callbacks": "drop"})
        doc = U.submit(self, self.d, "alibaba", dict({"path": path}, **(extra or {})))
        done = U.wait_state(self.d, doc["id"], ("ready", "failed"))
        self.assertEqual(done["state"], "ready", done)
        return done["file_id"]

    def events(self, fid):
        return h.psql(self.db, "SELECT event_type, status, received_via FROM vod_events"
                      " WHERE provider = 'alibaba' AND file_id = :'v1' ORDER BY id", fid)

    def test_attached_media_deleted_with_delete_attached_media(self):
        mid = self.upload("gone.srt", self.ATTACHED)
        t0 = U.now()
        st, _, doc = self.d.client.json("DELETE", "/v1/media/alibaba/" + mid, None, U.AUTH)
        self.assertEqual(st, 202, doc)
        # No event follows DeleteAttachedMedia: its answer deletes the record.
        self.assertEqual((doc["state"], doc["delete"]["error_code"]), ("deleted", None), doc)
        self.assertEqual([c["params"]["MediaIds"] for c in self.emu.calls("DeleteAttachedMedia", t0)
                          if not c.get("error")], [mid])
        self.assertEqual(self.emu.calls("DeleteVideo", t0) + self.emu.calls("DeleteImage", t0), [])
        self.assertNotIn(mid, [m.get("id") for m in self.emu.ctl("media")])

    def test_failed_attached_upload_deletes_its_record(self):
        path, _ = U.make_file(self.root, "fail.srt", 3000)
        t0 = U.now()
        self.emu.ctl("faults", {"kind": "PutObject", "nth": 1, "status": 403, "repeat": True})
        try:
            uid = U.submit(self, self.d, "alibaba", dict({"path": path}, **self.ATTACHED))["id"]
            doc = U.wait_state(self.d, uid, ("failed",))
            created = [c for c in self.emu.calls("CreateUploadAttachedMedia", t0) if not c.get("error")]
            h.wait_for(lambda: self.emu.calls("DeleteAttachedMedia", t0), "DeleteAttachedMedia")
            deleted = [c["params"]["MediaIds"] for c in self.emu.calls("DeleteAttachedMedia", t0)
                       if not c.get("error")]
            others = self.emu.calls("DeleteVideo", t0) + self.emu.calls("DeleteImage", t0)
            left = [m.get("id") for m in self.emu.ctl("media")]
        finally:
            self.emu.ctl("reset", {})
            self.emu.ctl("config", {"alibaba_auth_key": U.ALI_KEY})
        self.assertEqual(doc["state"], "failed")
        self.assertEqual(len(created), 1, created)
        mid = h.psql(self.db, "SELECT file_id FROM uploads WHERE id = :'v1'", uid)[0][0]
        self.assertEqual(deleted, [mid])
        self.assertEqual(others, [])
        self.assertNotIn(mid, left)

    def check_reconciled(self, fid, action, t0):
        """fid, whose completion callback was dropped, was made ready by the reconciler asking action."""
        self.assertEqual(self.events(fid), [["Reconciled", "Normal", "reconcile"]])
        self.assertTrue([c for c in self.emu.calls(action, t0) if not c.get("error")])
        self.assertEqual([c for c in self.emu.calls("GetVideoInfo", t0)
                          if c["params"].get("VideoId") == fid], [])

    def test_stale_image_reconciled_with_get_image_info(self):
        t0 = U.now()
        iid = self.upload("stale.png", drop=True)
        self.check_reconciled(iid, "GetImageInfo", t0)

    def test_stale_attached_media_reconciled_with_get_attached_media_info(self):
        t0 = U.now()
        mid = self.upload("stale.srt", self.ATTACHED, drop=True)
        self.check_reconciled(mid, "GetAttachedMediaInfo", t0)

    def check_gone_completes_deletion(self, fid, action):
        """A record whose deletion the platform accepted and that still waits for it (here made so:
        deleted through the API, then set back to ready with the deletion pending), its media gone
        from the platform: the reconciler's lookup finds nothing and completes the deletion."""
        st, _, doc = self.d.client.json("DELETE", "/v1/media/alibaba/" + fid, None, U.AUTH)
        self.assertEqual((st, doc["state"]), (202, "deleted"), doc)
        t0 = U.now()
        h.psql(self.db, "UPDATE media SET state = 'ready', state_rank = 4,"
               " deleted_at = NULL, reconciled_at = NULL,"
               " delete_requested_at = now() - interval '5 seconds' WHERE file_id = :'v1'", fid)
        h.wait_for(lambda: h.psql(self.db, "SELECT state FROM media WHERE file_id = :'v1'", fid)
                   == [["deleted"]], "the reconciler to complete the deletion")
        self.assertEqual(self.events(fid)[-1], ["Reconciled", "deleted", "reconcile"])
        self.assertTrue(self.emu.calls(action, t0))

    def test_deleted_image_not_found_completes_its_deletion(self):
        self.check_gone_completes_deletion(self.upload("gone.png"), "GetImageInfo")

    def test_deleted_attached_media_not_found_completes_its_deletion(self):
        self.check_gone_completes_deletion(self.upload("gone2.srt", self.ATTACHED), "GetAttachedMediaInfo")

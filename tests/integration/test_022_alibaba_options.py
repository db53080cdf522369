"""Alibaba-only request fields and settings, through the emulator: the
CreateUploadVideo / CreateUploadImage parameters that POST /v1/uploads and
`vodhook upload` produce (Description, CoverURL, CateId, Tags, WorkflowId,
StorageLocation, ImageType), the 400s and usage errors for bad or misplaced
fields, a WorkflowId upload that becomes ready only after processing, and
OSS signature V4 chosen by alibaba_oss_signature.
"""
import time
import unittest

import harness as h
import uploadlib as U

EMU = None
DONE = ("uploaded", "confirmed", "processing", "ready")
# Above 2^53: a double would change it.
BIG_CATE = "9007199254740993"


def setUpModule():
    global EMU
    EMU = U.module_emu()


def tearDownModule():
    U.stop_emu(EMU)


def oss_calls(vid, since):
    """The OSS requests made for the object of media vid."""
    m = EMU.media(vid)
    return [c for c in EMU.calls(None, since)
            if c["service"] == "oss" and c["params"].get("key") == m["key"]]


class AliOptionsApi(unittest.TestCase):
    """POST /v1/uploads with the Alibaba-only fields (default OSS V1)."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.start_ali_daemon(cls, EMU, {"VODHOOK_TENCENT_STORAGE_REGION": "ap-chongqing"})

    @classmethod
    def tearDownClass(cls):
        U.stop_daemon(cls.d)

    def submit(self, **body):
        return U.submit(self, self.d, "alibaba", body, queued=False)

    def test_video_fields_reach_create_upload_video(self):
        path, md5 = U.make_file(self.root, "opts.mp4", 200 * 1024)
        t0 = time.time()
        doc = self.submit(path=path, name="Opts", procedure="tg-opts",
                          description="Première ligne\nseconde",
                          cover_url="https://cdn.example.com/c/cover.jpg?x=1",
                          cate_id=BIG_CATE, tags=["alpha", "beta gamma"],
                          storage_location="outin-emu.oss-cn-shanghai.aliyuncs.com")
        uid = doc["id"]
        # Kept normalised in the job: digits as a string, tags joined, and
        # no Tencent StorageRegion default for an Alibaba job.
        self.assertEqual(doc["options"], {
            "description": "Première ligne\nseconde",
            "cover_url": "https://cdn.example.com/c/cover.jpg?x=1",
            "cate_id": BIG_CATE, "tags": "alpha,beta gamma",
            "storage_location": "outin-emu.oss-cn-shanghai.aliyuncs.com"})
        self.assertEqual(doc["media_kind"], "video")
        done = U.wait_state(self.d, uid, ("ready",))
        cv = EMU.calls_for("CreateUploadVideo", uid, t0)
        self.assertEqual(len(cv), 1)
        p = cv[0]["params"]
        self.assertEqual({k: p.get(k) for k in ("Title", "Description", "CoverURL", "CateId", "Tags",
                                                 "StorageLocation", "TemplateGroupId", "WorkflowId")},
                         {"Title": "Opts", "Description": "Première ligne\nseconde",
                          "CoverURL": "https://cdn.example.com/c/cover.jpg?x=1", "CateId": BIG_CATE,
                          "Tags": "alpha,beta gamma",
                          "StorageLocation": "outin-emu.oss-cn-shanghai.aliyuncs.com",
                          "TemplateGroupId": "tg-opts", "WorkflowId": None})
        self.assertEqual(EMU.md5_size(done["file_id"]), (md5, 200 * 1024))
        # OSS signature V1 by default.
        auths = {c.get("auth") for c in oss_calls(done["file_id"], t0)}
        self.assertEqual(auths, {"OSS"})

    def test_image_fields_reach_create_upload_image(self):
        path, md5 = U.make_file(self.root, "poster.jpg", 50 * 1024)
        t0 = time.time()
        # A JSON integer of 16 digits (below 2^53) keeps every digit.
        doc = self.submit(path=path, image_type="cover", cate_id=9007199254740991, tags="p,q",
                          description="a poster")
        uid = doc["id"]
        self.assertEqual(doc["media_kind"], "image")
        done = U.wait_state(self.d, uid, DONE)
        ci = EMU.calls_for("CreateUploadImage", uid, t0)
        self.assertEqual(len(ci), 1)
        p = ci[0]["params"]
        self.assertEqual((p["ImageType"], p["ImageExt"], p["CateId"], p["Tags"], p["Description"]),
                         ("cover", "jpg", "9007199254740991", "p,q", "a poster"))
        self.assertEqual(EMU.calls_for("CreateUploadVideo", uid, t0), [])
        self.assertEqual(EMU.md5_size(done["file_id"]), (md5, 50 * 1024))

    def test_media_kind_overrides_the_extension(self):
        path, _ = U.make_file(self.root, "frame.png", 10 * 1024)
        t0 = time.time()
        doc = self.submit(path=path, media_kind="video")
        self.assertEqual(doc["media_kind"], "video")
        U.wait_state(self.d, doc["id"], DONE)
        cv = EMU.calls_for("CreateUploadVideo", doc["id"], t0)
        self.assertEqual(cv[0]["params"]["FileName"], "frame.png")
        self.assertEqual(EMU.calls_for("CreateUploadImage", doc["id"], t0), [])

    def test_tencent_fields_still_reach_apply_upload(self):
        path, _ = U.make_file(self.root, "tc.mp4", 100 * 1024)
        t0 = time.time()
        st, _, doc = U.post_upload(self.d, {
            "provider": "tencent", "path": path, "class_id": 9007199254740991,
            "session_context": "sess", "expire_time": "2031-01-02T03:04:05Z"})
        self.assertEqual(st, 202, doc)
        # StorageRegion from tencent_storage_region, for Tencent only.
        self.assertEqual(doc["options"]["storage_region"], "ap-chongqing")
        U.wait_state(self.d, doc["id"], DONE)
        ap = [c for c in EMU.calls("ApplyUpload", t0)
              if c["params"].get("SourceContext") == "vh1:" + doc["id"]]
        self.assertEqual(len(ap), 1)
        self.assertEqual({k: ap[0]["params"].get(k) for k in ("ClassId", "SessionContext", "ExpireTime",
                                                              "StorageRegion")},
                         {"ClassId": 9007199254740991, "SessionContext": "sess",
                          "ExpireTime": "2031-01-02T03:04:05Z", "StorageRegion": "ap-chongqing"})

    def test_bad_or_misplaced_fields_are_400(self):
        path, _ = U.make_file(self.root, "bad.mp4", 1000)
        img, _ = U.make_file(self.root, "bad.gif", 1000)
        cases = [
            ({"provider": "tencent", "workflow_id": "wf1"}, "workflow_id"),
            ({"provider": "tencent", "description": "d"}, "description"),
            ({"provider": "tencent", "cate_id": 3}, "cate_id"),
            ({"provider": "tencent", "tags": "a"}, "tags"),
            ({"provider": "tencent", "cover_url": "https://c.example/a"}, "cover_url"),
            ({"provider": "tencent", "storage_location": "x"}, "storage_location"),
            ({"provider": "tencent", "image_type": "cover"}, "image_type"),
            ({"provider": "tencent", "media_kind": "image"}, "media_kind"),
            ({"class_id": 3}, "class_id"),
            ({"storage_region": "ap-chongqing"}, "storage_region"),
            ({"expire_time": "2030-01-01T00:00:00Z"}, "expire_time"),
            ({"session_context": "s"}, "session_context"),
            ({"cover_path": path}, "cover_path"),
            ({"cate_id": 9007199254740993}, "2^53"),
            ({"cate_id": 1.5}, "cate_id must be an integer"),
            ({"cate_id": "12x"}, "cate_id must be a string of digits"),
            ({"cate_id": 0}, "cate_id must be at least 1"),
            ({"cate_id": [1]}, "cate_id must be an integer or a string"),
            ({"tags": ",".join("t%d" % i for i in range(17))}, "at most 16 tags"),
            ({"tags": ["x" * 33]}, "tag is too long"),
            ({"tags": "a,,b"}, "empty tag"),
            ({"tags": {"a": 1}}, "tags must be"),
            ({"description": "d" * 1025}, "description is too long"),
            ({"description": 5}, "description must be a string"),
            ({"cover_url": "ftp://c.example/a.jpg"}, "cover_url must be an http"),
            ({"cover_url": "https://c.example/a b.jpg"}, "cover_url must be an encoded URL"),
            ({"workflow_id": "wf 1"}, "workflow_id may hold only"),
            ({"storage_location": "a/b"}, "storage_location may hold only"),
            ({"image_type": "cover"}, "image_type applies to an image only"),
            ({"media_kind": "audio"}, "media_kind must be"),
            ({"media_kind": "image"}, "an image must be png, jpg, jpeg or gif"),
            ({"path": img, "workflow_id": "wf1"}, "workflow_id does not apply to an image"),
            ({"path": img, "image_type": "poster"}, "image_type must be"),
            ({"colour": "red"}, "unknown field \"colour\""),
        ]
        before = h.psql(self.db, "SELECT count(*) FROM uploads")
        t0 = time.time()
        for extra, want in cases:
            body = {"provider": "alibaba", "path": path}
            body.update(extra)
            st, _, doc = U.post_upload(self.d, body)
            self.assertEqual(st, 400, (body, doc))
            self.assertEqual(doc["error"]["code"], "invalid_input", doc)
            self.assertIn(want, doc["error"]["message"], body)
        self.assertEqual(h.psql(self.db, "SELECT count(*) FROM uploads"), before)
        self.assertEqual(EMU.calls("CreateUploadVideo", t0) + EMU.calls("ApplyUpload", t0), [])

    def test_workflow_id_ready_only_after_processing(self):
        path, _ = U.make_file(self.root, "wf.mp4", 100 * 1024)
        EMU.ctl("config", {"processing_delay_ms": 3000})
        try:
            t0 = time.time()
            uid = self.submit(path=path, workflow_id="wf-emu-1")["id"]
            doc = U.wait_state(self.d, uid, DONE)
            vid = doc["file_id"]
            # FileUploadComplete is in, the transcode is 3 s away: the media
            # waits for it instead of becoming ready.
            h.wait_for(lambda: h.psql(self.db, "SELECT 1 FROM vod_events WHERE file_id = :'v1'"
                                      " AND event_type = 'FileUploadComplete'", vid),
                       "FileUploadComplete stored")
            st = h.psql(self.db, "SELECT state FROM media WHERE file_id = :'v1'", vid)
            self.assertNotEqual(st, [["ready"]])
            doc = U.wait_state(self.d, uid, ("ready",))
        finally:
            EMU.ctl("config", {"processing_delay_ms": 0})
        cv = EMU.calls_for("CreateUploadVideo", uid, t0)
        self.assertEqual(cv[0]["params"]["WorkflowId"], "wf-emu-1")
        self.assertNotIn("TemplateGroupId", cv[0]["params"])
        rows = h.psql(self.db, "SELECT m.ready_at >= e.event_time, m.ready_at >= f.received_at"
                      " FROM media m JOIN vod_events e ON e.file_id = m.file_id"
                      "  AND e.event_type = 'TranscodeComplete'"
                      " JOIN vod_events f ON f.file_id = m.file_id"
                      "  AND f.event_type = 'FileUploadComplete'"
                      " WHERE m.file_id = :'v1'", vid)
        self.assertEqual(rows, [["t", "t"]])


class AliOptionsCli(unittest.TestCase):
    """vodhook upload --provider alibaba with the Alibaba-only options."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.class_db(cls, migrate=True)

    def cli(self, args):
        env = U.upload_env(EMU, self.root, U.ali_env({"VODHOOK_DATABASE_URL": self.db}))
        return h.run(["upload"] + args, env, timeout=120)

    def test_cli_video_options(self):
        path, md5 = U.make_file(self.root, "cli.mp4", 300 * 1024)
        t0 = time.time()
        r = self.cli(["--provider", "alibaba", "--workflow-id", "wf-cli", "--description", "from the CLI",
                      "--cover-url", "http://cdn.example.com/c.jpg", "--cate-id", BIG_CATE,
                      "--tags", "one,two", "--storage-location", "outin-emu.oss-cn-shanghai.aliyuncs.com",
                      path])
        self.assertEqual(r.returncode, 0, r.stderr)
        out = dict(line.split(": ", 1) for line in r.stdout.splitlines() if ": " in line)
        cv = EMU.calls_for("CreateUploadVideo", out["upload_id"], t0)
        self.assertEqual(len(cv), 1)
        p = cv[0]["params"]
        self.assertEqual({k: p.get(k) for k in ("WorkflowId", "Description", "CoverURL", "CateId", "Tags",
                                                 "StorageLocation")},
                         {"WorkflowId": "wf-cli", "Description": "from the CLI",
                          "CoverURL": "http://cdn.example.com/c.jpg", "CateId": BIG_CATE,
                          "Tags": "one,two", "StorageLocation": "outin-emu.oss-cn-shanghai.aliyuncs.com"})
        self.assertEqual(EMU.md5_size(out["file_id"]), (md5, 300 * 1024))
        rows = h.psql(self.db, "SELECT options->>'cate_id', media_kind FROM uploads WHERE id = :'v1'",
                      out["upload_id"])
        self.assertEqual(rows, [[BIG_CATE, "video"]])

    def test_cli_image_options(self):
        path, md5 = U.make_file(self.root, "still.bin", 20 * 1024)
        t0 = time.time()
        r = self.cli(["--provider", "alibaba", "--media-type", "png", "--media-kind", "image",
                      "--image-type", "cover", "--tags", "still", path])
        self.assertEqual(r.returncode, 0, r.stderr)
        out = dict(line.split(": ", 1) for line in r.stdout.splitlines() if ": " in line)
        ci = EMU.calls_for("CreateUploadImage", out["upload_id"], t0)
        self.assertEqual(len(ci), 1)
        self.assertEqual((ci[0]["params"]["ImageType"], ci[0]["params"]["ImageExt"], ci[0]["params"]["Tags"]),
                         ("cover", "png", "still"))
        self.assertTrue(out["media_url"].endswith(".png"), out)
        self.assertEqual(EMU.md5_size(out["file_id"]), (md5, 20 * 1024))

    def test_cli_refusals(self):
        path, _ = U.make_file(self.root, "no.mp4", 1000)
        cases = [
            (["--provider", "tencent", "--workflow-id", "w"], "workflow_id"),
            (["--provider", "tencent", "--cate-id", "3"], "cate_id"),
            (["--provider", "alibaba", "--class-id", "3"], "class_id"),
            (["--provider", "alibaba", "--session-context", "s"], "session_context"),
            (["--provider", "alibaba", "--cate-id", "12x"], "cate_id must be a string of digits"),
            (["--provider", "alibaba", "--tags", ",".join("t%d" % i for i in range(17))], "at most 16 tags"),
            (["--provider", "alibaba", "--cover-url", "ftp://x/y"], "cover_url must be an http"),
            (["--provider", "alibaba", "--image-type", "cover"], "image_type applies to an image only"),
            (["--provider", "alibaba", "--media-kind", "sound"], "media_kind must be"),
        ]
        before = h.psql(self.db, "SELECT count(*) FROM uploads")
        for args, want in cases:
            r = self.cli(args + [path])
            self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
            self.assertIn(want, r.stderr, args)
            self.assertNotIn("upload_id", r.stdout)
        self.assertEqual(h.psql(self.db, "SELECT count(*) FROM uploads"), before)
        r = h.run(["upload", "--help"], {})
        for opt in ("--workflow-id", "--description", "--cover-url", "--cate-id", "--tags",
                    "--storage-location", "--media-kind", "--image-type"):
            self.assertIn(opt, r.stdout)


class AliOssV4(unittest.TestCase):
    """alibaba_oss_signature = v4: PutObject and multipart (with a credential
    renewed in the middle) signed OSS4-HMAC-SHA256."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.class_daemon(cls, EMU, U.ali_env({
            "VODHOOK_ALIBABA_OSS_SIGNATURE": "v4",
            "VODHOOK_UPLOAD_PART_SIZE": str(U.MIB),
            "VODHOOK_UPLOAD_THRESHOLD": str(2 * U.MIB)})).start()

    @classmethod
    def tearDownClass(cls):
        U.stop_daemon(cls.d)

    def test_put_object_and_multipart_signed_v4(self):
        small, md5s = U.make_file(self.root, "v4s.mp4", 300 * 1024)
        big, md5b = U.make_file(self.root, "v4b.mp4", 6 * U.MIB)
        t0 = time.time()
        st, _, a = U.post_upload(self.d, {"provider": "alibaba", "path": small})
        self.assertEqual(st, 202, a)
        a = U.wait_state(self.d, a["id"], DONE)
        # Initiate + 2 parts with the first credential, then it expires.
        EMU.ctl("faults", {"expire_credentials_after_requests": 3})
        st, _, b = U.post_upload(self.d, {"provider": "alibaba", "path": big})
        self.assertEqual(st, 202, b)
        b = U.wait_state(self.d, b["id"], DONE, timeout=60)
        self.assertEqual(EMU.md5_size(a["file_id"]), (md5s, 300 * 1024))
        self.assertEqual(EMU.md5_size(b["file_id"]), (md5b, 6 * U.MIB))
        ca, cb = oss_calls(a["file_id"], t0), oss_calls(b["file_id"], t0)
        self.assertEqual([c["action"] for c in ca], ["PutObject"])
        kinds = [c["action"] for c in cb]
        self.assertEqual((kinds.count("InitiateMultipartUpload"), kinds.count("CompleteMultipartUpload")),
                         (1, 1), kinds)
        self.assertEqual({int(c["params"]["partNumber"]) for c in cb if c["action"] == "UploadPart"},
                         set(range(1, 7)))
        self.assertEqual({c.get("auth") for c in ca + cb}, {"OSS4-HMAC-SHA256"})
        self.assertTrue([c for c in EMU.calls("RefreshUploadVideo", t0)
                         if c["params"].get("VideoId") == b["file_id"]])
        rej = [r for r in EMU.ctl("rejections") if r["t"] >= t0]
        self.assertEqual({r["code"] for r in rej}, {"SecurityTokenExpired"}, rej)

    def test_bad_value_stops_startup(self):
        r = h.run(["serve"], {"VODHOOK_ALIBABA_OSS_SIGNATURE": "v2"})
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("alibaba_oss_signature", r.stderr)


if __name__ == "__main__":
    unittest.main()

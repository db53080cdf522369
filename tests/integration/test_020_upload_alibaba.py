"""Uploads to Alibaba ApsaraVideo VOD through the emulator: CreateUploadVideo
and CreateUploadImage, OSS PutObject and parallel multipart with the STS
credential, credential renewal in the middle of a multipart upload, part
retries, URL sources, signed callbacks that finish the record, a restart
mid-transfer, and a refused secret.

One emulator serves the module (uploadlib.Emu, as the Tencent tests); each
class has a database and daemon(s) of its own.
"""
import os
import time
import unittest

import harness as h
import uploadlib as U

EMU = None
DONE = ("uploaded", "confirmed", "processing", "ready")


def setUpModule():
    global EMU
    EMU = U.module_emu()


def tearDownModule():
    U.stop_emu(EMU)


class AliUploadApi(unittest.TestCase):
    """One daemon (2 workers, 2 MiB parts above 4 MiB, plain http), with
    verified Alibaba callbacks."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.start_ali_daemon(cls, EMU, {
            "VODHOOK_UPLOAD_PART_SIZE": str(2 * U.MIB),
            "VODHOOK_UPLOAD_THRESHOLD": str(4 * U.MIB),
            "VODHOOK_UPLOAD_ALLOW_PRIVATE_URLS": "1",
            "VODHOOK_UPLOAD_MAX_ATTEMPTS": "4",
        })

    @classmethod
    def tearDownClass(cls):
        U.stop_daemon(cls.d)

    def submit(self, **body):
        return U.submit(self, self.d, "alibaba", body)["id"]

    def check_bytes(self, vid, md5, size):
        o = EMU.stored(vid)
        self.assertEqual((o["md5"], o["size"]), (md5, size))
        return o

    def test_small_file_put_object_ready_by_callback(self):
        size = 300 * 1024
        path, md5 = U.make_file(self.root, "small.mp4", size)
        t0 = time.time()
        uid = self.submit(path=path, name="Small one", source_context="my ctx")
        # No TemplateGroupId: FileUploadComplete makes the record ready.
        doc = U.wait_state(self.d, uid, ("ready",))
        self.assertEqual(doc["bytes_done"], size)
        self.assertEqual(doc["source_context"], "my ctx")
        vid = doc["file_id"]
        self.assertRegex(vid, "^[0-9a-f]{32}$")
        o = self.check_bytes(vid, md5, size)
        self.assertEqual(len(EMU.key_calls("PutObject", o["key"], t0)), 1)
        self.assertEqual(EMU.key_calls("InitiateMultipartUpload", o["key"], t0), [])
        cv = EMU.calls_for("CreateUploadVideo", uid, t0)
        self.assertEqual(len(cv), 1, EMU.calls("CreateUploadVideo", t0))
        p = cv[0]["params"]
        self.assertEqual((p["Title"], p["FileName"], p["FileSize"]),
                         ("Small one", "Small one.mp4", str(size)))
        self.assertNotIn("TemplateGroupId", p)
        self.assertEqual(U.user_data(cv[0]), {"Extend": {"vh": uid, "ctx": "my ctx"},
                                              "MessageCallback": {"CallbackURL": self.cb_url}})
        # The callback arrived at the configured URL, signed, and was taken.
        cbs = [c for c in EMU.ctl("callbacks") if vid in (c.get("body") or "")]
        self.assertTrue(cbs and all(c["url"] == self.cb_url and c["status"] == 200 for c in cbs),
                        cbs)
        rows = h.psql(self.db, "SELECT provider, state, upload_id FROM media WHERE file_id = :'v1'",
                      vid)
        self.assertEqual(rows, [["alibaba", "ready", uid]])

    def test_video_id_recorded_before_the_transfer(self):
        path, _ = U.make_file(self.root, "slow.mp4", 6 * U.MIB)
        EMU.ctl("faults", {"rate_limit_bps": 2 * U.MIB})
        try:
            uid = self.submit(path=path)
            h.wait_for(lambda: h.psql(self.db, "SELECT 1 FROM uploads WHERE id = :'v1'"
                                      " AND file_id IS NOT NULL AND state = 'uploading'", uid),
                       "the VideoId recorded while uploading")
        finally:
            EMU.ctl("faults", {"rate_limit_bps": 0})
        doc = U.wait_state(self.d, uid, ("ready",))
        self.assertEqual(len(EMU.calls_for("CreateUploadVideo", uid)), 1)
        self.assertTrue(doc["file_id"])

    def test_64mib_parallel_multipart(self):
        size = 64 * U.MIB
        path, md5 = U.make_file(self.root, "big.mp4", size)
        t0 = time.time()
        uid = self.submit(path=path)
        doc = U.wait_state(self.d, uid, DONE, timeout=120)
        o = self.check_bytes(doc["file_id"], md5, size)
        self.assertEqual(doc["part_size"], 2 * U.MIB)
        parts = EMU.key_calls("UploadPart", o["key"], t0)
        self.assertEqual(sorted(int(c["params"]["partNumber"]) for c in parts), list(range(1, 33)))
        self.assertEqual(len(EMU.key_calls("CompleteMultipartUpload", o["key"], t0)), 1)
        n = h.psql(self.db, "SELECT count(*) FROM upload_parts WHERE upload_id = :'v1'", uid)
        self.assertEqual(n[0][0], "32")

    def test_credentials_expire_mid_multipart_and_are_renewed(self):
        size = 16 * U.MIB
        path, md5 = U.make_file(self.root, "expire.mp4", size)
        t0 = time.time()
        # Initiate + 3 parts with the first credential, then it expires.
        EMU.ctl("faults", {"expire_credentials_after_requests": 4})
        uid = self.submit(path=path)
        doc = U.wait_state(self.d, uid, DONE, timeout=60)
        vid = doc["file_id"]
        o = self.check_bytes(vid, md5, size)
        refreshed = [c for c in EMU.calls("RefreshUploadVideo", t0)
                     if c["params"].get("VideoId") == vid]
        self.assertGreaterEqual(len(refreshed), 1)
        rej = [r for r in EMU.ctl("rejections")
               if r["t"] >= t0 and r.get("code") == "SecurityTokenExpired"]
        self.assertTrue(rej, "the first credential was never refused")
        # The same multipart upload went on: one Initiate, one Complete, every
        # part, and no second CreateUploadVideo.
        self.assertEqual(len(EMU.key_calls("InitiateMultipartUpload", o["key"], t0)), 1)
        self.assertEqual(len(EMU.key_calls("CompleteMultipartUpload", o["key"], t0)), 1)
        nums = {int(c["params"]["partNumber"]) for c in EMU.key_calls("UploadPart", o["key"], t0)}
        self.assertEqual(nums, set(range(1, 9)))
        self.assertEqual(len(EMU.calls_for("CreateUploadVideo", uid)), 1)

    def test_credential_renewed_before_it_expires(self):
        path, md5 = U.make_file(self.root, "early.mp4", 6 * U.MIB)
        # Credentials valid 200 s: inside the 300 s renewal margin at once.
        EMU.ctl("config", {"credential_ttl": 200})
        try:
            t0 = time.time()
            uid = self.submit(path=path)
            doc = U.wait_state(self.d, uid, DONE)
        finally:
            EMU.ctl("config", {"credential_ttl": 3600})
        vid = doc["file_id"]
        o = self.check_bytes(vid, md5, 6 * U.MIB)
        ref = [c for c in EMU.calls("RefreshUploadVideo", t0) if c["params"].get("VideoId") == vid]
        self.assertGreaterEqual(len(ref), 1)
        init = EMU.key_calls("InitiateMultipartUpload", o["key"], t0)
        # Renewed before the first request to OSS, not after a refusal.
        self.assertLess(ref[0]["t"], init[0]["t"])
        self.assertEqual([r for r in EMU.ctl("rejections") if r["t"] >= t0
                          and r.get("code") == "SecurityTokenExpired"], [])

    def test_image(self):
        size = 120 * 1024
        path, md5 = U.make_file(self.root, "cover.jpg", size)
        t0 = time.time()
        uid = self.submit(path=path, source_context="img")
        doc = U.wait_state(self.d, uid, DONE)
        iid = doc["file_id"]
        self.check_bytes(iid, md5, size)
        ci = EMU.calls_for("CreateUploadImage", uid, t0)
        self.assertEqual(len(ci), 1)
        self.assertEqual((ci[0]["params"]["ImageType"], ci[0]["params"]["ImageExt"]),
                         ("default", "jpg"))
        self.assertEqual(EMU.calls_for("CreateUploadVideo", uid, t0), [])
        self.assertEqual(EMU.media(iid)["kind"], "image")
        self.assertTrue(doc["media_url"].endswith(".jpg"), doc)

    def test_template_group_ready_through_signed_callbacks(self):
        path, _ = U.make_file(self.root, "proc.mp4", 200 * 1024)
        t0 = time.time()
        uid = self.submit(path=path, procedure="tg-emu-1", source_context="c1")
        doc = U.wait_state(self.d, uid, ("ready",))
        cv = EMU.calls_for("CreateUploadVideo", uid, t0)
        self.assertEqual(cv[0]["params"]["TemplateGroupId"], "tg-emu-1")
        vid = doc["file_id"]
        # Each callback is answered once it is durable, committed or spooled: one spooled under
        # load (a batch past callback_db_timeout_ms) is stored when the replay gets to it, after
        # the record may already be ready.
        def stored():
            types = {r[0] for r in h.psql(
                self.db, "SELECT event_type FROM vod_events WHERE file_id = :'v1'", vid)}
            return types >= {"TranscodeComplete", "FileUploadComplete"}
        h.wait_for(stored, "FileUploadComplete and TranscodeComplete to be stored")
        rows = h.psql(self.db, "SELECT state, upload_id FROM media WHERE file_id = :'v1'", vid)
        self.assertEqual(rows, [["ready", uid]])
        self.assertEqual(doc["source_context"], "c1")

    def test_part_fails_with_503_and_connection_drop_then_succeeds(self):
        size = 7 * U.MIB
        path, md5 = U.make_file(self.root, "faulty.mp4", size)
        EMU.ctl("faults", [{"kind": "UploadPart", "nth": 2, "status": 503},
                           {"kind": "UploadPart", "nth": 3, "drop_after_bytes": 100000}])
        t0 = time.time()
        uid = self.submit(path=path)
        doc = U.wait_state(self.d, uid, DONE)
        o = self.check_bytes(doc["file_id"], md5, size)
        faults = [c for c in EMU.calls("UploadPart", t0) if c.get("fault")]
        self.assertEqual(len(faults), 2, faults)
        nums = [int(c["params"]["partNumber"]) for c in EMU.key_calls("UploadPart", o["key"], t0)
                if not c.get("fault")]
        self.assertEqual(sorted(set(nums)), [1, 2, 3, 4])
        self.assertIn("retrying", self.d.logs())

    def test_bytes_stored_other_than_sent_are_sent_again(self):
        # x-oss-hash-crc64ecma: a part stored with other bytes than were
        # sent is sent again; an object completed with other bytes than its
        # parts' is sent again whole, to the same video.
        size = 7 * U.MIB
        path, md5 = U.make_file(self.root, "bitrot.mp4", size)
        EMU.ctl("faults", [{"kind": "UploadPart", "nth": 2, "corrupt": True},
                           {"kind": "CompleteMultipartUpload", "nth": 1, "corrupt": True}])
        t0 = time.time()
        uid = self.submit(path=path)
        # OSS tells VOD of the object once completed, wrong bytes or not:
        # its FileUploadComplete may make the record ready before the
        # bytes are sent again. The second Complete is the end.
        h.wait_for(lambda: len(EMU.calls("CompleteMultipartUpload", t0)) == 2, "a second Complete")
        doc = U.wait_state(self.d, uid, DONE)
        o = self.check_bytes(doc["file_id"], md5, size)
        self.assertEqual([c.get("fault") for c in EMU.calls("CompleteMultipartUpload", t0)],
                         ["corrupt", None])
        self.assertEqual(len(EMU.calls_for("CreateUploadVideo", uid, t0)), 1)
        self.assertEqual(len(EMU.key_calls("UploadPart", o["key"], t0)), 4 + 1 + 4)
        logs = self.d.logs()
        self.assertIn("the stored CRC-64", logs)
        self.assertIn("the completed object's CRC-64", logs)

    def test_url_source_streamed(self):
        size = 5 * U.MIB + 123
        path, md5 = U.make_file(self.root, "src.mp4", size)
        uid = self.submit(path=path)
        doc = U.wait_state(self.d, uid, DONE)
        m = EMU.media(doc["file_id"])
        url = EMU.object_url(m["bucket"], m["key"]) + "&x=.mp4"
        t0 = time.time()
        uid2 = self.submit(url=url, media_type="mp4")
        doc2 = U.wait_state(self.d, uid2, DONE)
        self.assertEqual(doc2["source_kind"], "url")
        o = self.check_bytes(doc2["file_id"], md5, size)
        self.assertEqual(len(EMU.key_calls("UploadPart", o["key"], t0)), 3)

    def test_platform_refusal_recorded(self):
        path, _ = U.make_file(self.root, "clip.mp4", 1000)
        # An extension the platform refuses: InvalidFileName.Extension.
        uid = self.submit(path=path, media_type="not-an-ext!")
        doc = U.wait_state(self.d, uid, ("failed",))
        self.assertEqual(doc["error"]["code"], "InvalidFileName.Extension", doc)
        self.assertEqual(doc["attempts"], 1, doc)


class AliUploadManyParts(unittest.TestCase):
    """1001 parts: a retried job reconciles its checkpoint with ListParts
    over two pages and completes with every part, sending none again."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.class_db(cls)

    def test_list_parts_past_1000(self):
        n = 1001
        size = n * U.MIB
        path, md5 = U.make_file(self.root, "many.mp4", size)
        env = U.upload_env(EMU, self.root, U.ali_env({
            "VODHOOK_UPLOAD_PART_SIZE": str(U.MIB),
            "VODHOOK_UPLOAD_THRESHOLD": str(U.MIB),
            "VODHOOK_UPLOAD_PARALLEL": "8",
            "VODHOOK_UPLOAD_MAX_ATTEMPTS": "3",
            "VODHOOK_UPLOAD_WORKERS": "1"}))
        # The first attempt's Complete fails 3 times (its retries), so the
        # job is given back and resumed from its checkpoint.
        EMU.ctl("faults", [{"kind": "CompleteMultipartUpload", "nth": k, "status": 503}
                           for k in (1, 2, 3)])
        d = h.Daemon(self.db, env).start()
        try:
            t0 = time.time()
            st, _, doc = U.post_upload(d, {"provider": "alibaba", "path": path})
            self.assertEqual(st, 202, doc)
            uid = doc["id"]
            h.wait_for(lambda: h.psql(self.db, "SELECT 1 FROM uploads WHERE id = :'v1'"
                                      " AND error_code = 'ServiceUnavailable'", uid),
                       "the first attempt to fail at Complete", timeout=120)
            t1 = time.time()
            doc = U.wait_state(d, uid, DONE, timeout=120)
        finally:
            rc = d.stop()
        self.assertIn(rc, (0, None), d.logs())
        self.assertEqual(EMU.ctl("config")["faults"], [])
        o = EMU.stored(doc["file_id"])
        self.assertEqual((o["md5"], o["size"]), (md5, size))
        self.assertEqual(len(EMU.key_calls("UploadPart", o["key"], t1)), 0)
        lp = EMU.key_calls("ListParts", o["key"], t1)
        self.assertEqual(len(lp), 2, lp)
        self.assertEqual(len(EMU.key_calls("InitiateMultipartUpload", o["key"], t0)), 1)
        self.assertEqual(len(EMU.key_calls("CompleteMultipartUpload", o["key"], t0)), 1)
        self.assertEqual(len([c for c in EMU.calls("CompleteMultipartUpload", t0)
                              if c.get("fault")]), 3)
        self.assertEqual(h.psql(self.db, "SELECT count(*) FROM upload_parts"
                                " WHERE upload_id = :'v1'", uid), [[str(n)]])


class AliUploadCli(unittest.TestCase):
    """vodhook upload --provider alibaba, in-process, over https."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.class_db(cls, migrate=True)

    def cli(self, args, extra=None):
        env = U.upload_env(EMU, self.root, U.ali_env({"VODHOOK_DATABASE_URL": self.db}, tls=True),
                           tls=True)
        env.update(extra or {})
        return h.run(["upload"] + args, env, timeout=120)

    def test_cli_multipart_over_https(self):
        path, md5 = U.make_file(self.root, "cli.mp4", 6 * U.MIB)
        r = self.cli(["--provider", "alibaba", "--source-context", "from cli",
                      "--procedure", "tg-cli", path],
                     {"VODHOOK_UPLOAD_THRESHOLD": str(4 * U.MIB),
                      "VODHOOK_UPLOAD_PART_SIZE": str(U.MIB)})
        self.assertEqual(r.returncode, 0, r.stderr)
        out = dict(line.split(": ", 1) for line in r.stdout.splitlines() if ": " in line)
        vid = out["file_id"]
        o = EMU.stored(vid)
        self.assertEqual((o["md5"], o["size"]), (md5, 6 * U.MIB))
        rows = h.psql(self.db, "SELECT state, file_id, source_context, procedure FROM uploads"
                      " WHERE id = :'v1'", out["upload_id"])
        self.assertEqual(rows, [["uploaded", vid, "from cli", "tg-cli"]])
        self.assertEqual(EMU.media(vid)["template_group_id"], "tg-cli")

    def test_wrong_secret_fails_with_platform_code(self):
        path, _ = U.make_file(self.root, "wrong.mp4", 1000)
        r = self.cli(["--provider", "alibaba", path],
                     {"VODHOOK_ALIBABA_ACCESS_KEY_SECRET": "wrong"})
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        uid = r.stdout.split("upload_id: ")[1].split()[0]
        rows = h.psql(self.db, "SELECT state, error_code, error_message, attempts FROM uploads"
                      " WHERE id = :'v1'", uid)
        self.assertEqual(rows[0][0], "failed")
        self.assertEqual(rows[0][1], "SignatureDoesNotMatch", rows)
        self.assertTrue(rows[0][2], rows)
        self.assertEqual(rows[0][3], "1")  # not retried


class AliUploadResume(unittest.TestCase):
    """A daemon killed mid-transfer resumes the same multipart upload."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.class_db(cls)

    def test_killed_mid_transfer_resumes(self):
        size = 16 * U.MIB
        path, md5 = U.make_file(self.root, "resume.mp4", size)
        env = U.upload_env(EMU, self.root, U.ali_env(U.RESUMABLE))
        uid, done = U.kill_mid_transfer(self, EMU, self.db, env,
                                        {"provider": "alibaba", "path": path})
        self.assertLess(done, 16)
        doc, t_restart = U.resume_in_new_daemon(self, self.db, env, uid, DONE)
        o = EMU.stored(doc["file_id"])
        self.assertEqual((o["md5"], o["size"]), (md5, size))
        resent = sum(c["bytes"] for c in EMU.key_calls("UploadPart", o["key"], t_restart))
        self.assertLess(resent, size)
        self.assertGreater(resent, 0)
        self.assertEqual(len(EMU.key_calls("ListParts", o["key"], t_restart)), 1)
        self.assertEqual(len(EMU.key_calls("InitiateMultipartUpload", o["key"])), 1)
        # One VideoId for the job: no second CreateUploadVideo.
        self.assertEqual(len(EMU.calls_for("CreateUploadVideo", uid)), 1)


class AliCredentialPersisted(unittest.TestCase):
    """A credential renewed by RefreshUploadVideo mid-multipart is written to
    uploads.session (the checkpoint kept), and a daemon killed after the
    renewal resumes with it instead of asking again."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.class_db(cls)

    def session(self, uid):
        rows = h.psql(self.db, "SELECT session->>'security_token', multipart_upload_id,"
                      " extract(epoch FROM credential_expires_at)::bigint FROM uploads"
                      " WHERE id = :'v1' AND session IS NOT NULL", uid)
        return rows[0] if rows else None

    def test_renewed_credential_persisted_and_reused_after_restart(self):
        size = 16 * U.MIB
        path, md5 = U.make_file(self.root, "persist.mp4", size)
        env = U.upload_env(EMU, self.root, U.ali_env(U.RESUMABLE))
        d = h.Daemon(self.db, env).start()
        t0 = time.time()
        # Initiate + 3 parts with the first credential, then it expires;
        # slow parts leave time to stop the daemon after the renewal.
        EMU.ctl("faults", [{"rate_limit_bps": U.MIB}, {"expire_credentials_after_requests": 4}])
        try:
            st, _, doc = U.post_upload(d, {"provider": "alibaba", "path": path})
            self.assertEqual(st, 202, doc)
            uid = doc["id"]
            first = h.wait_for(lambda: (lambda s: s if s and s[1] else None)(self.session(uid)),
                               "the first session and its multipart upload stored")
            second = h.wait_for(lambda: (lambda s: s if s and s[0] != first[0] else None)(
                self.session(uid)), "the renewed credential stored", timeout=60)
            d.kill()
        finally:
            EMU.ctl("faults", {"rate_limit_bps": 0})
        vid = h.psql(self.db, "SELECT file_id FROM uploads WHERE id = :'v1'", uid)[0][0]
        refreshed = [c for c in EMU.calls("RefreshUploadVideo", t0) if c["params"].get("VideoId") == vid]
        self.assertEqual(len(refreshed), 1)
        # The checkpoint survived the renewal: same multipart upload, parts
        # still recorded, a new expiry.
        self.assertEqual(second[1], first[1])
        self.assertGreater(U.checkpointed(self.db, uid), 0)
        self.assertGreater(int(second[2]), int(first[2]))
        doc, t_restart = U.resume_in_new_daemon(self, self.db, env, uid, DONE)
        o = EMU.stored(doc["file_id"])
        self.assertEqual((o["md5"], o["size"]), (md5, size))
        # Resumed with the stored credential: no second renewal, nothing
        # refused, the same multipart upload and VideoId.
        self.assertEqual([c for c in EMU.calls("RefreshUploadVideo", t_restart)
                          if c["params"].get("VideoId") == vid], [])
        self.assertEqual([r for r in EMU.ctl("rejections") if r["t"] >= t_restart], [])
        self.assertGreater(len(EMU.key_calls("UploadPart", o["key"], t_restart)), 0)
        self.assertEqual(len(EMU.key_calls("InitiateMultipartUpload", o["key"])), 1)
        self.assertEqual(len(EMU.calls_for("CreateUploadVideo", uid)), 1)
        self.assertEqual(self.session(uid)[0], second[0])


if __name__ == "__main__":
    unittest.main()

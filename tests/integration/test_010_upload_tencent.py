"""Uploads to Tencent VOD through the emulator: the HTTP API, the worker, the
transfer engine (simple PUT, parallel multipart, retries), URL sources,
callbacks that finish the record, and refusals.

One emulator serves the module; each class has a database and daemon(s) of
its own.
"""
import hashlib
import json
import os
import threading
import time
import unittest
import urllib.parse

import harness as h
import uploadlib as U

EMU = None


def setUpModule():
    global EMU
    EMU = U.module_emu()


def tearDownModule():
    U.stop_emu(EMU)


def assert_aborted_once(tc, upload_id, since):
    """The multipart upload was aborted exactly once since then, and no
    abort was refused (a second one would find no such upload)."""
    aborts = [c for c in EMU.calls("AbortMultipartUpload", since)
              if c["params"].get("uploadId") == upload_id]
    tc.assertEqual(len(aborts), 1, aborts)
    tc.assertEqual([r for r in EMU.ctl("rejections") if r["t"] >= since
                    and r["action"] == "AbortMultipartUpload"], [])


class UploadApi(unittest.TestCase):
    """One daemon (2 workers, 2 MiB parts above 4 MiB, plain http)."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.class_daemon(cls, EMU, {
            "VODHOOK_UPLOAD_PART_SIZE": str(2 * U.MIB),
            "VODHOOK_UPLOAD_THRESHOLD": str(4 * U.MIB),
            "VODHOOK_UPLOAD_ALLOW_PRIVATE_URLS": "1",
            "VODHOOK_UPLOAD_MAX_ATTEMPTS": "4",
        }).start()
        EMU.ctl("config", {"tencent_callback_url":
                           "http://127.0.0.1:%d/callbacks/tencent" % cls.d.port})

    @classmethod
    def tearDownClass(cls):
        U.stop_daemon(cls.d)

    def submit(self, **body):
        return U.submit(self, self.d, "tencent", body)["id"]

    def test_small_file_simple_put(self):
        path, md5 = U.make_file(self.root, "small.mp4", 300 * 1024)
        t0 = time.time()
        uid = self.submit(path=path, name="Small one", source_context="my ctx")
        doc = U.wait_state(self.d, uid, ("uploaded", "confirmed", "ready"))
        self.assertEqual(doc["bytes_done"], 300 * 1024)
        self.assertEqual(doc["bytes_total"], 300 * 1024)
        self.assertEqual(doc["source_context"], "my ctx")
        self.assertTrue(doc["file_id"] and doc["media_url"])
        o = EMU.stored(doc["file_id"])
        self.assertEqual((o["md5"], o["size"]), (md5, 300 * 1024))
        # One PUT, no multipart; ApplyUpload carried the upload id.
        puts = EMU.key_calls("PutObject", o["key"], t0)
        self.assertEqual(len(puts), 1)
        self.assertEqual(EMU.key_calls("InitiateMultipartUpload", o["key"], t0), [])
        applies = [c for c in EMU.calls("ApplyUpload", t0)
                   if c["params"].get("SourceContext") == "vh1:" + uid]
        self.assertEqual(len(applies), 1, EMU.calls("ApplyUpload", t0))
        self.assertEqual(applies[0]["params"].get("MediaName"), "Small one")
        # The media record exists and is linked.
        rows = h.psql(self.db, "SELECT state, upload_id FROM media WHERE file_id = :'v1'",
                      doc["file_id"])
        self.assertEqual(rows[0][1], uid)
        # Listing by state finds it (callbacks may move it meanwhile).
        def listed():
            state = U.get_upload(self.d, uid)["state"]
            st, _, lst = self.d.client.json("GET", "/v1/uploads?state=" + state, None, U.AUTH)
            self.assertEqual(st, 200)
            return uid in [i["id"] for i in lst["items"]]
        h.wait_for(listed, "the upload in the list of its state")
        st, _, lst = self.d.client.json("GET", "/v1/uploads?state=failed", None, U.AUTH)
        self.assertNotIn(uid, [i["id"] for i in lst["items"]])
        st, _, lst = self.d.client.json("GET", "/v1/uploads?state=bogus", None, U.AUTH)
        self.assertEqual(st, 400)

    def test_cover_failure_does_not_send_the_media_again(self):
        path, md5 = U.make_file(self.root, "withcover.mp4", 200 * 1024)
        cpath, cmd5 = U.make_file(self.root, "withcover.jpg", 5000)
        t0 = time.time()
        # The media's PUT succeeds, every try of the cover's (5, the
        # default upload_max_attempts) fails: the job is retried, from
        # committing, and sends the cover only.
        EMU.ctl("faults", [{"kind": "PutObject", "nth": n, "status": 503} for n in range(2, 7)])
        uid = self.submit(path=path, cover_path=cpath)
        doc = U.wait_state(self.d, uid, ("uploaded", "confirmed", "ready", "failed"))
        self.assertNotEqual(doc["state"], "failed", doc)
        self.assertEqual(EMU.ctl("config")["faults"], [])
        o = EMU.stored(doc["file_id"])
        self.assertEqual((o["md5"], o["size"]), (md5, 200 * 1024))
        self.assertEqual(len(EMU.key_calls("PutObject", o["key"], t0)), 1)
        cover_key = o["key"].rsplit("/", 1)[0] + "/cover.jpg"
        self.assertEqual([(c["md5"], c["size"]) for c in EMU.objects() if c["key"] == cover_key],
                         [(cmd5, 5000)])
        self.assertEqual(len(EMU.key_calls("PutObject", cover_key, t0)), 1)
        self.assertEqual(h.psql(self.db, "SELECT attempts FROM uploads WHERE id = :'v1'", uid),
                         [["2"]])
        applies = [c for c in EMU.calls("ApplyUpload", t0)
                   if c["params"].get("SourceContext") == "vh1:" + uid]
        self.assertEqual(len(applies), 1, applies)

    def test_64mib_parallel_multipart(self):
        size = 64 * U.MIB
        path, md5 = U.make_file(self.root, "big.mp4", size)
        t0 = time.time()
        uid = self.submit(path=path)
        doc = U.wait_state(self.d, uid, ("uploaded", "confirmed", "ready"), timeout=120)
        o = EMU.stored(doc["file_id"])
        self.assertEqual((o["md5"], o["size"]), (md5, size))
        self.assertEqual(doc["part_size"], 2 * U.MIB)
        parts = EMU.key_calls("UploadPart", o["key"], t0)
        self.assertEqual(sorted(c["params"]["partNumber"] for c in parts), list(range(1, 33)))
        self.assertEqual(len(EMU.calls("CompleteMultipartUpload", t0)), 1)
        n = h.psql(self.db, "SELECT count(*) FROM upload_parts WHERE upload_id = :'v1'", uid)
        self.assertEqual(n[0][0], "32")

    def test_checkpoint_that_cannot_be_written_does_not_stop_the_transfer(self):
        # Every part checkpoint fails to be written (a trigger stands in for
        # a database that cannot take it): the parts are in the store, the
        # transfer goes on, and the job is neither retried nor failed.
        h.psql(self.db, "CREATE FUNCTION vh_test_no_parts() RETURNS trigger"
               " LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no checkpoint'; END $$;"
               " CREATE TRIGGER vh_test_no_parts BEFORE INSERT ON upload_parts"
               " FOR EACH ROW EXECUTE FUNCTION vh_test_no_parts()")
        try:
            size = 7 * U.MIB
            path, md5 = U.make_file(self.root, "nocheckpoint.mp4", size)
            t0 = time.time()
            uid = self.submit(path=path)
            doc = U.wait_state(self.d, uid, ("uploaded", "confirmed", "ready", "failed"))
        finally:
            h.psql(self.db, "DROP TRIGGER vh_test_no_parts ON upload_parts;"
                   " DROP FUNCTION vh_test_no_parts()")
        self.assertNotEqual(doc["state"], "failed", doc)
        o = EMU.stored(doc["file_id"])
        self.assertEqual((o["md5"], o["size"]), (md5, size))
        parts = EMU.key_calls("UploadPart", o["key"], t0)
        self.assertEqual(sorted(c["params"]["partNumber"] for c in parts), [1, 2, 3, 4])
        self.assertEqual(h.psql(self.db, "SELECT attempts, (SELECT count(*) FROM upload_parts p"
                                " WHERE p.upload_id = u.id) FROM uploads u WHERE id = :'v1'", uid),
                         [["1", "0"]])
        # Told once: after the first failure the attempt stops writing them.
        self.assertEqual(self.d.logs().count("is sent but not checkpointed"), 1)

    def test_part_fails_with_503_and_connection_drop_then_succeeds(self):
        size = 7 * U.MIB
        path, md5 = U.make_file(self.root, "faulty.mp4", size)
        EMU.ctl("faults", [{"kind": "UploadPart", "nth": 2, "status": 503},
                           {"kind": "UploadPart", "nth": 3, "drop_after_bytes": 100000}])
        t0 = time.time()
        uid = self.submit(path=path)
        doc = U.wait_state(self.d, uid, ("uploaded", "confirmed", "ready"))
        o = EMU.stored(doc["file_id"])
        self.assertEqual((o["md5"], o["size"]), (md5, size))
        faults = [c for c in EMU.calls("UploadPart", t0) if c.get("fault")]
        self.assertEqual(len(faults), 2, faults)
        self.assertIn("retrying", self.d.logs())

    def test_credential_expired_mid_transfer_starts_over(self):
        size = 7 * U.MIB
        path, md5 = U.make_file(self.root, "expiring.mp4", size)
        EMU.ctl("faults", {"expire_credentials_after_requests": 3})
        t0 = time.time()
        uid = self.submit(path=path)
        doc = U.wait_state(self.d, uid, ("uploaded", "confirmed", "ready"))
        o = EMU.stored(doc["file_id"])
        self.assertEqual((o["md5"], o["size"]), (md5, size))
        applies = [c for c in EMU.calls("ApplyUpload", t0)
                   if c["params"].get("SourceContext") == "vh1:" + uid]
        self.assertEqual(len(applies), 2, "a new ApplyUpload after the credential expired")
        self.assertIn("starting over with a new session", self.d.logs())

    def test_url_source_streamed(self):
        path, md5 = U.make_file(self.root, "src.mp4", 5 * U.MIB + 123)
        uid = self.submit(path=path)
        doc = U.wait_state(self.d, uid, ("uploaded", "confirmed", "ready"))
        m = EMU.media(doc["file_id"])
        url = EMU.object_url(m["bucket"], m["key"]) + "&x=.mp4"
        t0 = time.time()
        uid2 = self.submit(url=url, media_type="mp4")
        doc2 = U.wait_state(self.d, uid2, ("uploaded", "confirmed", "ready"))
        self.assertEqual(doc2["source_kind"], "url")
        o = EMU.stored(doc2["file_id"])
        self.assertEqual((o["md5"], o["size"]), (md5, 5 * U.MIB + 123))
        self.assertEqual(len(EMU.key_calls("UploadPart", o["key"], t0)), 3)

    def test_url_source_unknown_length(self):
        # No Content-Length: the body is spooled to a temporary file first.
        srv = U.MediaServer()
        try:
            body = os.urandom(300 * 1024)
            with open(os.path.join(srv.dir, "clip.mp4"), "wb") as f:
                f.write(body)
            uid = self.submit(url=srv.url("/chunked/clip.mp4"))
            doc = U.wait_state(self.d, uid, ("uploaded", "confirmed", "ready"))
        finally:
            srv.stop()
        o = EMU.stored(doc["file_id"])
        self.assertEqual((o["md5"], o["size"]), (hashlib.md5(body).hexdigest(), len(body)))

    def test_url_answering_503_is_retried(self):
        # A source URL that answers 503 is tried again later, like a store
        # that answers 503: one rule says which errors are transient.
        srv = U.MediaServer()
        try:
            body = os.urandom(200 * 1024)
            with open(os.path.join(srv.dir, "busy.mp4"), "wb") as f:
                f.write(body)
            srv.unavailable["busy.mp4"] = 1
            uid = self.submit(url=srv.url("/v/busy.mp4"))
            doc = U.wait_state(self.d, uid, ("uploaded", "confirmed", "ready", "failed"))
            statuses = [st for p, _, _, st, _ in srv.served if p == "/v/busy.mp4"]
        finally:
            srv.stop()
        self.assertNotEqual(doc["state"], "failed", doc)
        self.assertEqual(statuses, [503, 200])
        rows = h.psql(self.db, "SELECT attempts FROM uploads WHERE id = :'v1'", uid)
        self.assertEqual(rows[0][0], "2")
        o = EMU.stored(doc["file_id"])
        self.assertEqual((o["md5"], o["size"]), (hashlib.md5(body).hexdigest(), len(body)))

    def test_procedure_reaches_ready_through_callbacks(self):
        path, _ = U.make_file(self.root, "proc.mp4", 200 * 1024)
        uid = self.submit(path=path, procedure="LongVideoPreset", source_context="c1")
        doc = U.wait_state(self.d, uid, ("ready",))
        # Awaited, not read once: a callback the database did not take
        # within callback_db_timeout_ms (a loaded machine) is spooled and
        # replayed, so NewFileUpload (the task id) may land after FINISH.
        h.wait_for(lambda: h.psql(self.db, "SELECT state, upload_id, procedure_task_id IS NOT NULL"
                                  " FROM media WHERE file_id = :'v1'", doc["file_id"])
                   == [["ready", uid, "t"]], "the media ready, linked, with its procedure task id")
        self.assertEqual(doc["source_context"], "c1")

    def test_refusals(self):
        st, _, doc = U.post_upload(self.d, {"provider": "tencent", "path": "/etc/passwd"})
        self.assertEqual(st, 403, doc)
        os.symlink("/etc/hostname", os.path.join(self.root, "link.mp4"))
        st, _, doc = U.post_upload(self.d, {"provider": "tencent",
                                            "path": os.path.join(self.root, "link.mp4")})
        self.assertEqual(st, 403, doc)
        st, _, doc = U.post_upload(self.d, {"provider": "tencent",
                                            "path": os.path.join(self.root, "missing.mp4")})
        self.assertEqual(st, 400, doc)
        p = os.path.join(self.root, "unreadable.mp4")
        with open(p, "wb") as f:
            f.write(b"x")
        os.chmod(p, 0)
        if os.geteuid() != 0:
            st, _, doc = U.post_upload(self.d, {"provider": "tencent", "path": p})
            self.assertEqual(st, 400, doc)
        st, _, doc = U.post_upload(self.d, {"provider": "nope", "path": p})
        self.assertEqual(st, 400, doc)
        st, _, doc = U.post_upload(self.d, {"provider": "tencent", "path": p, "bogus": 1})
        self.assertEqual(st, 400, doc)
        st, _, doc = self.d.client.json("GET", "/v1/uploads/00000000-0000-4000-8000-000000000000",
                                        None, U.AUTH)
        self.assertEqual(st, 404)

    def rewrite_while_uploading(self, size, rate, reached):
        """Upload a file of size with the store reading rate bytes/s; once
        reached(upload id) holds, write other bytes over its first MiB in
        place (the size stays). Returns (upload id, the file's MD5 after the
        write, the multipart upload id then or "", the time submitted)."""
        path, _ = U.make_file(self.root, "rewritten-%d.mp4" % size, size)
        t0 = time.time()
        EMU.ctl("faults", {"rate_limit_bps": rate})
        try:
            uid = self.submit(path=path)
            h.wait_for(lambda: reached(uid), "the transfer to be under way")
            mp = h.psql(self.db, "SELECT 'id', multipart_upload_id FROM uploads"
                        " WHERE id = :'v1'", uid)[0][1]
            with open(path, "r+b") as f:
                f.write(os.urandom(U.MIB))
        finally:
            EMU.ctl("faults", {"rate_limit_bps": 0})
        with open(path, "rb") as f:
            md5 = hashlib.md5(f.read()).hexdigest()
        return uid, md5, mp, t0

    def assert_sent_again(self, uid, md5, size, t0):
        """The upload was tried twice, the second time with a new session,
        and the store holds the file as it is now."""
        doc = U.wait_state(self.d, uid, ("uploaded", "confirmed", "ready", "failed"))
        self.assertNotEqual(doc["state"], "failed", doc)
        o = EMU.stored(doc["file_id"])
        self.assertEqual((o["md5"], o["size"]), (md5, size))
        self.assertEqual(h.psql(self.db, "SELECT attempts FROM uploads WHERE id = :'v1'", uid),
                         [["2"]])
        self.assertEqual(len([c for c in EMU.calls("ApplyUpload", t0)
                              if c["params"].get("SourceContext") == "vh1:" + uid]), 2)
        self.assertIn("changed while it was being uploaded", self.d.logs())

    def test_file_written_during_multipart_upload_is_sent_again(self):
        # Its first MiB (part 1, sent already) is written over while later
        # parts are still being read: the parts would make an object of
        # old and new bytes. It is not completed; the next attempt starts
        # over, since the file's version changed, and aborts it.
        size = 12 * U.MIB
        uid, md5, mp, t0 = self.rewrite_while_uploading(
            size, 2 * U.MIB, lambda uid: U.checkpointed(self.db, uid) >= 1)
        self.assertNotEqual(mp, "")
        self.assert_sent_again(uid, md5, size, t0)
        self.assertEqual([c for c in EMU.calls("CompleteMultipartUpload", t0)
                          if c["params"].get("uploadId") == mp], [])
        assert_aborted_once(self, mp, t0)

    def test_file_written_during_simple_put_is_sent_again(self):
        size = 3 * U.MIB
        uid, md5, mp, t0 = self.rewrite_while_uploading(
            size, U.MIB, lambda uid: U.get_upload(self.d, uid)["bytes_done"] > 0)
        self.assertEqual(mp, "")
        self.assert_sent_again(uid, md5, size, t0)

    def test_file_that_keeps_changing_fails_and_leaves_no_parts(self):
        # A file still being written (a recording going on): each attempt
        # finds it changed, and the last one fails with SourceChanged and
        # aborts its multipart upload, as the earlier ones were aborted
        # when the next one started over.
        size = 6 * U.MIB
        path, _ = U.make_file(self.root, "growing.mp4", size)
        stop = threading.Event()

        def grow():
            with open(path, "ab") as f:
                while not stop.wait(0.01):
                    f.write(b"x")
                    f.flush()
        writer = threading.Thread(target=grow)
        t0 = time.time()
        EMU.ctl("faults", {"rate_limit_bps": 8 * U.MIB})
        writer.start()
        try:
            uid = self.submit(path=path)
            doc = U.wait_state(self.d, uid, ("uploaded", "confirmed", "ready", "failed"))
        finally:
            stop.set()
            writer.join()
            EMU.ctl("faults", {"rate_limit_bps": 0})
        self.assertEqual(doc["state"], "failed", doc)
        self.assertEqual((doc["attempts"], doc["error"]["code"]), (4, "SourceChanged"))
        self.assertIn("changed while it was being uploaded", doc["error"]["message"])
        self.assertEqual(EMU.calls("CompleteMultipartUpload", t0), [])
        keys = {c["params"]["key"] for c in EMU.calls("InitiateMultipartUpload", t0)}
        self.assertEqual(len(keys), 4)
        self.assertEqual([u for u in EMU.ctl("uploads") if u["key"] in keys], [])

    def test_cancel_aborts_multipart(self):
        path, _ = U.make_file(self.root, "cancel.mp4", 12 * U.MIB)
        t0 = time.time()
        EMU.ctl("faults", {"rate_limit_bps": 2 * U.MIB})
        try:
            uid = self.submit(path=path)
            h.wait_for(lambda: h.psql(self.db, "SELECT multipart_upload_id FROM uploads"
                                      " WHERE id = :'v1' AND multipart_upload_id IS NOT NULL",
                                      uid), "the multipart upload to start")
            mp = h.psql(self.db, "SELECT multipart_upload_id FROM uploads WHERE id = :'v1'", uid)[0][0]
            st, _, doc = self.d.client.json("DELETE", "/v1/uploads/" + uid, None, U.AUTH)
            self.assertEqual(st, 202, doc)
            U.wait_state(self.d, uid, ("canceled",))
            h.wait_for(lambda: mp not in [u["uploadId"] for u in EMU.ctl("uploads")],
                       "the multipart upload to be aborted")
            # Aborted once, with the worker's own session: a second abort
            # would find no such upload.
            assert_aborted_once(self, mp, t0)
        finally:
            EMU.ctl("faults", {"rate_limit_bps": 0})
        st, _, doc = self.d.client.json("DELETE", "/v1/uploads/" + uid, None, U.AUTH)
        self.assertEqual(st, 409, doc)


class UploadLimits(unittest.TestCase):
    """upload_max_bytes (1 MiB here) for URLs, whose size is known only
    once downloaded: from the Content-Length, or counted as the bytes of
    a body without one arrive."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.class_daemon(cls, EMU, {"VODHOOK_UPLOAD_MAX_BYTES": str(U.MIB),
                                  "VODHOOK_UPLOAD_ALLOW_PRIVATE_URLS": "1"}).start()

    @classmethod
    def tearDownClass(cls):
        U.stop_daemon(cls.d)

    def test_url_over_the_limit_fails_without_upload(self):
        srv = U.MediaServer()
        try:
            U.make_file(srv.dir, "big.mp4", 2 * U.MIB)
            for path in ("/big.mp4", "/chunked/big.mp4"):
                with self.subTest(path=path):
                    t0 = time.time()
                    uid = U.submit(self, self.d, "tencent", {"url": srv.url(path)})["id"]
                    doc = U.wait_state(self.d, uid, ("failed", "uploaded", "confirmed", "ready"))
                    self.assertEqual(doc["state"], "failed", doc)
                    self.assertIn("upload_max_bytes", doc["error"]["message"])
                    # Refused before anything reached the platform.
                    self.assertEqual(EMU.calls("ApplyUpload", t0), [])
        finally:
            srv.stop()


class UploadIntegrity(unittest.TestCase):
    """What the store says it stored (x-cos-hash-crc64ecma, the CRC-64 of
    the bytes it keeps) is checked against what was read. The emulator's
    'corrupt' fault stores other bytes than it received and answers 200
    with their ETag and CRC, as a store that lost a bit would."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.class_daemon(cls, EMU, {
            "VODHOOK_UPLOAD_PART_SIZE": str(2 * U.MIB),
            "VODHOOK_UPLOAD_THRESHOLD": str(4 * U.MIB),
            "VODHOOK_UPLOAD_MAX_ATTEMPTS": "4",
            "VODHOOK_UPLOAD_ALLOW_PRIVATE_URLS": "1",
        }).start()

    @classmethod
    def tearDownClass(cls):
        U.stop_daemon(cls.d)

    def upload(self, name, size, faults):
        path, md5 = U.make_file(self.root, name, size)
        t0 = time.time()
        EMU.ctl("faults", faults)
        uid = U.submit(self, self.d, "tencent", {"path": path})["id"]
        doc = U.wait_state(self.d, uid, ("uploaded", "confirmed", "ready", "failed"))
        self.assertNotEqual(doc["state"], "failed", doc)
        o = EMU.stored(doc["file_id"])
        self.assertEqual((o["md5"], o["size"]), (md5, size))
        return uid, doc, o, t0

    def test_part_stored_with_other_bytes_is_sent_again(self):
        uid, doc, o, t0 = self.upload("bitrot-part.mp4", 12 * U.MIB,
                                      {"kind": "UploadPart", "nth": 3, "corrupt": True})
        parts = EMU.key_calls("UploadPart", o["key"], t0)
        bad = [c["params"]["partNumber"] for c in parts if c.get("fault") == "corrupt"]
        self.assertEqual(len(bad), 1, parts)
        self.assertEqual(sorted(c["params"]["partNumber"] for c in parts), sorted(list(range(1, 7)) + bad))
        self.assertEqual(doc["attempts"], 1)
        self.assertIn("part %d: the stored CRC-64" % bad[0], self.d.logs())

    def test_put_stored_with_other_bytes_is_sent_again(self):
        uid, doc, o, t0 = self.upload("bitrot-put.mp4", U.MIB,
                                      {"kind": "PutObject", "nth": 1, "corrupt": True})
        puts = EMU.key_calls("PutObject", o["key"], t0)
        self.assertEqual([c.get("fault") for c in puts], ["corrupt", None])

    def test_object_completed_with_other_bytes_is_sent_again(self):
        # Every part was stored right, the object made of them is not: it
        # is not committed; the media is sent again to the same object, in
        # the same session, and committed once.
        uid, doc, o, t0 = self.upload("bitrot-whole.mp4", 12 * U.MIB,
                                      {"kind": "CompleteMultipartUpload", "nth": 1, "corrupt": True})
        completes = EMU.calls("CompleteMultipartUpload", t0)
        self.assertEqual([(c.get("fault"), c["params"]["key"]) for c in completes],
                         [("corrupt", o["key"]), (None, o["key"])])
        self.assertEqual(len(EMU.key_calls("UploadPart", o["key"], t0)), 12)
        applies = [c for c in EMU.calls("ApplyUpload", t0)
                   if c["params"].get("SourceContext") == "vh1:" + uid]
        self.assertEqual(len(applies), 1)
        self.assertEqual(len(EMU.calls("CommitUpload", t0)), 1)
        self.assertEqual(doc["attempts"], 1)
        self.assertIn("sending the media again: the completed object's CRC-64", self.d.logs())

    def test_url_completed_with_other_bytes_is_sent_again(self):
        # A URL streamed: sent again whole means downloaded again whole,
        # and the body must be the same one.
        srv = U.MediaServer()
        try:
            _, md5 = U.make_file(srv.dir, "bitrot-url.mp4", 12 * U.MIB)
            t0 = time.time()
            EMU.ctl("faults", {"kind": "CompleteMultipartUpload", "nth": 1, "corrupt": True})
            uid = U.submit(self, self.d, "tencent", {"url": srv.url("/bitrot-url.mp4")})["id"]
            doc = U.wait_state(self.d, uid, ("uploaded", "confirmed", "ready", "failed"))
            self.assertNotEqual(doc["state"], "failed", doc)
            o = EMU.stored(doc["file_id"])
            self.assertEqual((o["md5"], o["size"]), (md5, 12 * U.MIB))
            self.assertEqual([c.get("fault") for c in EMU.calls("CompleteMultipartUpload", t0)],
                             ["corrupt", None])
            self.assertEqual([x[3:] for x in srv.served], [(200, 12 * U.MIB)] * 2)
        finally:
            srv.stop()

    def test_store_without_crc_answers(self):
        # Not every store, or proxy, answers with the CRC: nothing to check.
        EMU.ctl("config", {"crc64_headers": False})
        try:
            self.upload("nocrc-put.mp4", U.MIB, [])
            self.upload("nocrc-parts.mp4", 6 * U.MIB, [])
        finally:
            EMU.ctl("config", {"crc64_headers": True})


class UploadCli(unittest.TestCase):
    """vodhook upload, in-process, over https with the emulator's CA."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.class_db(cls, migrate=True)

    def cli(self, args, extra=None):
        env = U.upload_env(EMU, self.root, {"VODHOOK_DATABASE_URL": self.db}, tls=True)
        env.update(extra or {})
        return h.run(["upload"] + args, env, timeout=120)

    def test_cli_uploads_and_prints_file_id(self):
        path, md5 = U.make_file(self.root, "cli.mp4", 6 * U.MIB)
        r = self.cli(["--provider", "tencent", "--source-context", "from cli", path],
                     {"VODHOOK_UPLOAD_THRESHOLD": str(4 * U.MIB),
                      "VODHOOK_UPLOAD_PART_SIZE": str(U.MIB)})
        self.assertEqual(r.returncode, 0, r.stderr)
        out = dict(line.split(": ", 1) for line in r.stdout.splitlines())
        self.assertTrue(out["file_id"] and out["media_url"].startswith("http"))
        self.assertIn("progress: state=uploading", r.stderr)
        rows = h.psql(self.db, "SELECT state, file_id, source_context FROM uploads WHERE id = :'v1'",
                      out["upload_id"])
        self.assertEqual(rows, [["uploaded", out["file_id"], "from cli"]])
        n = h.psql(self.db, "SELECT count(*) FROM upload_parts WHERE upload_id = :'v1'",
                   out["upload_id"])
        self.assertEqual(n[0][0], "6")

    def test_wrong_secret_fails_with_platform_error(self):
        path, _ = U.make_file(self.root, "wrong.mp4", 1000)
        r = self.cli(["--provider", "tencent", path], {"VODHOOK_TENCENT_SECRET_KEY": "wrong"})
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        uid = r.stdout.split("upload_id: ")[1].split()[0]
        rows = h.psql(self.db, "SELECT state, error_code, error_message, attempts FROM uploads"
                      " WHERE id = :'v1'", uid)
        self.assertEqual(rows[0][0], "failed")
        self.assertTrue(rows[0][1].startswith("AuthFailure"), rows)
        self.assertTrue(rows[0][2], rows)
        self.assertEqual(rows[0][3], "1")  # not retried
        self.assertIn("AuthFailure", r.stderr)

    def test_network_faults_retried_within_bounds_then_failed(self):
        path, _ = U.make_file(self.root, "flaky.mp4", 5000)
        # Every PutObject of this test answers 503: 2 attempts per PUT,
        # 2 attempts of the job, then the job fails with the reason.
        EMU.ctl("faults", [{"kind": "PutObject", "nth": n, "status": 503} for n in (1, 2, 3, 4)])
        r = self.cli(["--provider", "tencent", path], {"VODHOOK_UPLOAD_MAX_ATTEMPTS": "2"})
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        uid = r.stdout.split("upload_id: ")[1].split()[0]
        rows = h.psql(self.db, "SELECT state, error_code, error_message, attempts FROM uploads"
                      " WHERE id = :'v1'", uid)
        self.assertEqual(rows[0][0], "failed")
        self.assertEqual(rows[0][1], "ServiceUnavailable")
        self.assertIn("503", rows[0][2])
        self.assertEqual(rows[0][3], "2")
        self.assertEqual(EMU.ctl("config")["faults"], [])

    def test_private_url_refused_unless_allowed(self):
        r = self.cli(["--provider", "tencent", "http://127.0.0.1:9/x.mp4"])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("private", r.stderr)

    def test_missing_file(self):
        r = self.cli(["--provider", "tencent", os.path.join(self.root, "nope.mp4")])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(h.psql(self.db, "SELECT count(*) FROM uploads WHERE source LIKE '%nope%'"),
                         [["0"]])


class UploadResume(unittest.TestCase):
    """A daemon killed mid-transfer resumes from its checkpoint."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.class_db(cls)

    def test_killed_mid_transfer_resumes(self):
        path, md5 = U.make_file(self.root, "resume.mp4", 16 * U.MIB)
        self.resume_unchanged({"path": path}, md5)

    def test_url_killed_mid_transfer_resumes(self):
        # The URL's version (size and ETag) is the same on the next
        # request: the job resumes its session rather than starting over,
        # and downloads only what follows the parts in the store (a Range
        # from the first part not checkpointed, If-Range its ETag).
        srv = U.MediaServer()
        try:
            _, md5 = U.make_file(srv.dir, "resume.mp4", 16 * U.MIB)
            run = self.resume_unchanged({"url": srv.url("/resume.mp4")}, md5)
            self.assertEqual(len(srv.served), 2, srv.served)
            self.assertEqual(srv.served[-1], ("/resume.mp4", "bytes=%d-" % (run * U.MIB),
                                              '"%s"' % md5, 206, (16 - run) * U.MIB))
        finally:
            srv.stop()

    def test_url_resumed_from_a_server_without_ranges(self):
        # The server answers the Range with the whole body (200): the
        # parts in the store are skipped over, as before ranges were asked.
        srv = U.MediaServer()
        srv.ranges = False
        try:
            _, md5 = U.make_file(srv.dir, "noranges.mp4", 16 * U.MIB)
            self.resume_unchanged({"url": srv.url("/noranges.mp4")}, md5)
            self.assertEqual([x[3:] for x in srv.served], [(200, 16 * U.MIB)] * 2)
            self.assertTrue(srv.served[-1][1].startswith("bytes="), srv.served)
        finally:
            srv.stop()

    def test_url_resumed_through_a_redirect(self):
        # A signed link is asked again on resume: its Range and If-Range
        # follow the redirect to the media, which answers with the rest.
        srv = U.MediaServer()
        try:
            _, md5 = U.make_file(srv.dir, "resume-r.mp4", 16 * U.MIB)
            srv.redirects["/link/resume-r.mp4"] = "/signed/resume-r.mp4"
            run = self.resume_unchanged({"url": srv.url("/link/resume-r.mp4")}, md5)
            rng, cond = "bytes=%d-" % (run * U.MIB), '"%s"' % md5
            self.assertEqual([x[0] for x in srv.served], ["/link/resume-r.mp4",
                             "/signed/resume-r.mp4"] * 2, srv.served)
            self.assertEqual(srv.served[-2][1:4], (rng, cond, 302))
            self.assertEqual(srv.served[-1], ("/signed/resume-r.mp4", rng, cond, 206,
                                              (16 - run) * U.MIB))
        finally:
            srv.stop()

    def test_url_resume_needs_a_part_before_its_range(self):
        # The checkpoint names parts the store does not have (ListParts):
        # one right after the run, so that the Range starts past bytes
        # still to be sent (the whole body is then downloaded again), or
        # every part, so that the Range starts at the end (416: the whole
        # body at once).
        for fake in ("next", "all"):
            with self.subTest(fake=fake):
                srv = U.MediaServer()
                try:
                    name = "lost-%s.mp4" % fake
                    _, md5 = U.make_file(srv.dir, name, 16 * U.MIB)
                    self.resume_unchanged({"url": srv.url("/" + name)}, md5,
                                          lambda uid, f=fake: self.fake_parts(uid, f))
                    statuses = [x[3] for x in srv.served[1:]]
                    self.assertEqual(statuses, [206, 200] if fake == "next" else [416, 200])
                    self.assertEqual(srv.served[-1][1:], (None, None, 200, 16 * U.MIB))
                finally:
                    srv.stop()

    def test_resumed_upload_checks_the_whole_object(self):
        # The object completed after a resume is checked whole, though
        # some parts were sent before the kill: their CRCs come from the
        # checkpoint, and for parts stored but not yet checkpointed when
        # the process died, from the file again, or, from a URL, which
        # cannot be read again, by sending them again. Made of other bytes
        # (the fault), the object is not committed: the media is sent again.
        for kind in ("file", "url"):
            with self.subTest(source=kind):
                srv = U.MediaServer()
                try:
                    self.resume_corrupt_object(kind, srv)
                finally:
                    srv.stop()

    def resume_corrupt_object(self, kind, srv):
        size = 16 * U.MIB
        name = "resume-crc.mp4"
        path, md5 = U.make_file(srv.dir if kind == "url" else self.root, name, size)
        body = {"url": srv.url("/" + name)} if kind == "url" else {"path": path}
        env = U.upload_env(EMU, self.root, dict(U.RESUMABLE, VODHOOK_UPLOAD_ALLOW_PRIVATE_URLS="1"))
        uid, done = U.kill_mid_transfer(self, EMU, self.db, env, dict(body, provider="tencent"))
        rows = h.psql(self.db, "SELECT part_number, size, crc64 FROM upload_parts"
                      " WHERE upload_id = :'v1' ORDER BY part_number", uid)
        self.assertGreaterEqual(len(rows), 4)
        with open(path, "rb") as f:
            for n, sz, crc in rows[:2]:
                f.seek((int(n) - 1) * U.MIB)
                self.assertEqual(int(crc) % (1 << 64), U.crc64(f.read(int(sz))), (n, crc))
        EMU.ctl("faults", {"kind": "CompleteMultipartUpload", "nth": 1, "corrupt": True})
        doc, t_restart = U.resume_in_new_daemon(self, self.db, env, uid, ("uploaded", "confirmed", "ready"))
        o = EMU.stored(doc["file_id"])
        self.assertEqual((o["md5"], o["size"]), (md5, size))
        completes = EMU.calls("CompleteMultipartUpload", t_restart)
        self.assertEqual([(c.get("fault"), c["params"]["key"]) for c in completes],
                         [("corrupt", o["key"]), (None, o["key"])])
        # The resumed transfer sent the parts missing after the kill (from
        # a file, not those stored unbeknown), the second one all 16.
        sent = len(EMU.key_calls("UploadPart", o["key"], t_restart))
        if kind == "url":
            self.assertEqual(sent, 32 - done)
        else:
            self.assertTrue(16 < sent <= 32 - done, (sent, done))

    def fake_parts(self, uid, which):
        """Checkpoint parts the store never got: the first one missing, or
        all of them."""
        h.psql(self.db, "INSERT INTO upload_parts (upload_id, part_number, size, etag)"
               " SELECT :'v1', n, 1048576, '\"lost\"' FROM generate_series(1, 16) n"
               " WHERE n NOT IN (SELECT part_number FROM upload_parts WHERE upload_id = :'v1')"
               " ORDER BY n LIMIT CASE :'v2' WHEN 'all' THEN 16 ELSE 1 END", uid, which)

    def resume_unchanged(self, body, md5, before_resume=None):
        """Kill the upload of body (16 MiB) mid-transfer, call
        before_resume(upload id) if given, and resume it: the same session
        goes on, and only the missing parts are sent. Returns how many parts
        from part 1 on were checkpointed in a row when it was killed."""
        size = 16 * U.MIB
        env = U.upload_env(EMU, self.root, dict(U.RESUMABLE, VODHOOK_UPLOAD_ALLOW_PRIVATE_URLS="1"))
        uid, done = U.kill_mid_transfer(self, EMU, self.db, env, dict(body, provider="tencent"))
        self.assertLess(done, 16)
        numbers = [int(r[0]) for r in h.psql(
            self.db, "SELECT part_number FROM upload_parts WHERE upload_id = :'v1'"
            " ORDER BY part_number", uid)]
        run = 0
        while run < len(numbers) and numbers[run] == run + 1:
            run += 1
        if before_resume:
            before_resume(uid)
        doc, t_restart = U.resume_in_new_daemon(self, self.db, env, uid,
                                                ("uploaded", "confirmed", "ready"))
        o = EMU.stored(doc["file_id"])
        self.assertEqual((o["md5"], o["size"]), (md5, size))
        resent = sum(c["bytes"] for c in EMU.key_calls("UploadPart", o["key"], t_restart))
        self.assertLess(resent, size)
        self.assertGreater(resent, 0)
        self.assertEqual(len(EMU.calls("ListParts", t_restart)), 1)
        # One session: no second ApplyUpload.
        self.assertEqual(len([c for c in EMU.calls("ApplyUpload")
                              if c["params"].get("SourceContext") == "vh1:" + uid]), 1)
        return run

    def resume_changed(self, body, rewrite):
        """Kill the upload of body mid-transfer, rewrite its source (same
        size, other bytes; rewrite returns their MD5) and resume it: it
        starts over with a new session, and the store holds the new bytes,
        not old parts joined to new ones."""
        env = U.upload_env(EMU, self.root, dict(U.RESUMABLE, VODHOOK_UPLOAD_ALLOW_PRIVATE_URLS="1"))
        uid, done = U.kill_mid_transfer(self, EMU, self.db, env, dict(body, provider="tencent"))
        self.assertLess(done, 16)
        mp = h.psql(self.db, "SELECT multipart_upload_id FROM uploads WHERE id = :'v1'", uid)[0][0]
        md5 = rewrite()
        doc, t_restart = U.resume_in_new_daemon(self, self.db, env, uid,
                                                ("uploaded", "confirmed", "ready"))
        o = EMU.stored(doc["file_id"])
        self.assertEqual((o["md5"], o["size"]), (md5, 16 * U.MIB))
        self.assertEqual(len([c for c in EMU.calls("ApplyUpload", t_restart)
                              if c["params"].get("SourceContext") == "vh1:" + uid]), 1)
        assert_aborted_once(self, mp, t_restart)

    def test_file_changed_before_resume_starts_over(self):
        path, _ = U.make_file(self.root, "changed.mp4", 16 * U.MIB)
        self.resume_changed({"path": path},
                            lambda: U.make_file(self.root, "changed.mp4", 16 * U.MIB)[1])

    def test_url_changed_before_resume_starts_over(self):
        srv = U.MediaServer()
        try:
            U.make_file(srv.dir, "changed.mp4", 16 * U.MIB)
            self.resume_changed({"url": srv.url("/changed.mp4")},
                                lambda: U.make_file(srv.dir, "changed.mp4", 16 * U.MIB)[1])
        finally:
            srv.stop()

    def test_transfer_goes_on_while_the_database_is_silent(self):
        # The heartbeat and the part checkpoints are written by a thread of
        # their own: a database gone silent mid-transfer (each call then
        # waits up to db_timeout_ms, a minute here) does not hold the parts,
        # which all reach the store meanwhile; the upload is committed once
        # the database answers again. When the transfer loop wrote them
        # itself, it stopped at the first heartbeat after the freeze.
        size = 12 * U.MIB
        path, md5 = U.make_file(self.root, "silent-db.mp4", size)
        with h.TcpProxy("127.0.0.1", urllib.parse.urlsplit(self.db).port) as px:
            env = U.upload_env(EMU, self.root, dict(U.RESUMABLE, VODHOOK_DB_TIMEOUT_MS="60000"))
            d = h.Daemon(px.url(self.db), env).start()
            EMU.ctl("faults", {"rate_limit_bps": 2 * U.MIB})
            try:
                t0 = time.time()
                uid = U.submit(self, d, "tencent", {"path": path})["id"]
                h.wait_for(lambda: U.checkpointed(self.db, uid) >= 1, "a part checkpointed")
                px.freeze()
                h.wait_for(lambda: len(EMU.calls("UploadPart", t0)) == 12,
                           "every part to reach the store", timeout=20)
                frozen_at = U.checkpointed(self.db, uid)
                px.thaw()
                doc = U.wait_state(d, uid, ("uploaded", "confirmed", "ready", "failed"))
            finally:
                EMU.ctl("faults", {"rate_limit_bps": 0})
                rc = d.stop()
        self.assertIn(rc, (0, None), d.logs())
        self.assertLess(frozen_at, 12)
        self.assertNotEqual(doc["state"], "failed", doc)
        o = EMU.stored(doc["file_id"])
        self.assertEqual((o["md5"], o["size"]), (md5, size))
        self.assertEqual(sorted(c["params"]["partNumber"] for c in EMU.key_calls("UploadPart", o["key"], t0)),
                         list(range(1, 13)))
        self.assertEqual(h.psql(self.db, "SELECT attempts FROM uploads WHERE id = :'v1'", uid), [["1"]])

    def test_lease_taken_over_mid_transfer_stops_it(self):
        # Another worker takes the job over mid-transfer: the heartbeat,
        # written beside the transfer, finds the lease gone, and the
        # transfer stops without completing the object or committing it.
        db = h.fresh_database()
        d = h.Daemon(db, U.upload_env(EMU, self.root, dict(U.RESUMABLE))).start()
        path, _ = U.make_file(self.root, "taken-over.mp4", 12 * U.MIB)
        EMU.ctl("faults", {"rate_limit_bps": U.MIB})
        t0 = time.time()
        try:
            uid = U.submit(self, d, "tencent", {"path": path})["id"]
            h.wait_for(lambda: h.psql(db, "SELECT 1 FROM uploads WHERE id = :'v1'"
                                      " AND multipart_upload_id IS NOT NULL", uid),
                       "the multipart upload to start")
            h.psql(db, "UPDATE uploads SET lease_owner = 'another-worker' WHERE id = :'v1'", uid)
            h.wait_for(lambda: "upload %s: stopped: the job's lease was lost" % uid in d.logs(),
                       "the worker to give the job up")
        finally:
            EMU.ctl("faults", {"rate_limit_bps": 0})
            rc = d.stop()
        self.assertIn(rc, (0, None), d.logs())
        self.assertIn("lease lost, stopping", d.logs())
        self.assertEqual(EMU.calls("CompleteMultipartUpload", t0), [])
        self.assertEqual(EMU.calls("CommitUpload", t0), [])
        self.assertLess(len(EMU.calls("UploadPart", t0)), 12)
        self.assertEqual(h.psql(db, "SELECT lease_owner, state FROM uploads WHERE id = :'v1'", uid),
                         [["another-worker", "uploading"]])

    def test_resumed_then_canceled_aborts_once(self):
        path, _ = U.make_file(self.root, "resume-cancel.mp4", 16 * U.MIB)
        env = U.upload_env(EMU, self.root, U.RESUMABLE)
        uid, _ = U.kill_mid_transfer(self, EMU, self.db, env,
                                     {"provider": "tencent", "path": path})
        mp = h.psql(self.db, "SELECT multipart_upload_id FROM uploads WHERE id = :'v1'", uid)[0][0]
        t_restart = time.time()
        EMU.ctl("faults", {"rate_limit_bps": 2 * U.MIB})
        d = h.Daemon(self.db, env).start()
        try:
            # Resumed: the new worker asked which parts the store has.
            h.wait_for(lambda: EMU.calls("ListParts", t_restart), "the upload to resume")
            st, _, doc = d.client.json("DELETE", "/v1/uploads/" + uid, None, U.AUTH)
            self.assertEqual(st, 202, doc)
            U.wait_state(d, uid, ("canceled",))
        finally:
            EMU.ctl("faults", {"rate_limit_bps": 0})
            d.stop()
        self.assertNotIn(mp, [u["uploadId"] for u in EMU.ctl("uploads")])
        # The worker's session aborts it; nothing aborts it a second time.
        assert_aborted_once(self, mp, t_restart)


class UploadLease(unittest.TestCase):
    """A worker renews its job's lease for as long as it holds the job, not
    only while parts are sent: a slow platform call or a long download
    does not let another worker take the job over and do it again. One
    daemon, two workers, 5 s leases."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.class_daemon(cls, EMU, dict(U.RESUMABLE, VODHOOK_UPLOAD_WORKERS="2",
                                      VODHOOK_UPLOAD_ALLOW_PRIVATE_URLS="1")).start()
        cls.srv = U.MediaServer()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        U.stop_daemon(cls.d)

    def attempts(self, uid):
        return h.psql(self.db, "SELECT attempts FROM uploads WHERE id = :'v1'", uid)[0][0]

    def media(self, name, size):
        data = os.urandom(size)
        with open(os.path.join(self.srv.dir, name), "wb") as f:
            f.write(data)
        return self.srv.url("/chunked/" + name), hashlib.md5(data).hexdigest()

    def test_slow_commit_keeps_the_lease(self):
        path, md5 = U.make_file(self.root, "slow-commit.mp4", 200 * 1024)
        t0 = time.time()
        EMU.ctl("faults", {"kind": "CommitUpload", "delay_ms": 8000})
        uid = U.submit(self, self.d, "tencent", {"path": path})["id"]
        h.wait_for(lambda: [c for c in EMU.calls("CommitUpload", t0) if c.get("delayed_ms")],
                   "the held CommitUpload to be answered", timeout=30)
        doc = U.wait_state(self.d, uid, ("uploaded", "confirmed", "ready"))
        # One commit, by the one worker that held the job throughout.
        self.assertEqual(len(EMU.calls("CommitUpload", t0)), 1, EMU.calls("CommitUpload", t0))
        self.assertEqual(self.attempts(uid), "1")
        self.assertNotIn("lease lost", self.d.logs())
        o = EMU.stored(doc["file_id"])
        self.assertEqual((o["md5"], o["size"]), (md5, 200 * 1024))

    def test_long_download_keeps_the_lease(self):
        # No Content-Length: the whole body is downloaded before the
        # upload starts, 8 s here, longer than the lease.
        url, md5 = self.media("slow.mp4", U.MIB)
        self.srv.chunk, self.srv.interval = 128 * 1024, 1.0
        uid = U.submit(self, self.d, "tencent", {"url": url})["id"]
        doc = U.wait_state(self.d, uid, ("uploaded", "confirmed", "ready"))
        self.assertEqual(len(self.srv.fetches("/chunked/slow.mp4")), 1)
        self.assertEqual(self.attempts(uid), "1")
        o = EMU.stored(doc["file_id"])
        self.assertEqual((o["md5"], o["size"]), (md5, U.MIB))

    def cancel_during_download(self, path, media):
        """Cancel the upload of path, slowly served, once its download has
        started; return the upload's id."""
        self.srv.gone.clear()
        uid = U.submit(self, self.d, "tencent", {"url": self.srv.url(path)})["id"]
        h.wait_for(lambda: self.srv.fetches(path) and media(uid), "the download to start")
        st, _, doc = self.d.client.json("DELETE", "/v1/uploads/" + uid, None, U.AUTH)
        self.assertEqual(st, 202, doc)
        U.wait_state(self.d, uid, ("canceled",), timeout=5)
        self.assertTrue(self.srv.gone.wait(5), "the download to be abandoned")
        self.assertEqual(self.attempts(uid), "1")  # by the worker holding it
        return uid

    def test_cancel_during_download(self):
        # A cancel stops a download at once, not when it ends (32 s here).
        self.media("long.mp4", 4 * U.MIB)
        self.srv.chunk, self.srv.interval = 64 * 1024, 0.5
        t0 = time.time()
        self.cancel_during_download("/chunked/long.mp4", lambda uid: True)
        self.assertEqual(EMU.calls("ApplyUpload", t0), [])

    def test_shutdown_during_download(self):
        # A daemon asked to stop does not wait for a download to end (32 s
        # here): the job is given back at once, for the next one to take.
        self.media("shutdown.mp4", 4 * U.MIB)
        self.srv.chunk, self.srv.interval = 64 * 1024, 0.5
        self.srv.gone.clear()
        db = h.fresh_database()  # out of the class daemon's reach
        d = h.Daemon(db, U.upload_env(EMU, self.root, dict(
            U.RESUMABLE, VODHOOK_UPLOAD_ALLOW_PRIVATE_URLS="1", VODHOOK_UPLOAD_WORKERS="1"))).start()
        try:
            uid = U.submit(self, d, "tencent", {"url": self.srv.url("/chunked/shutdown.mp4")})["id"]
            h.wait_for(lambda: self.srv.fetches("/chunked/shutdown.mp4"), "the download to start")
        finally:
            t = time.monotonic()
            rc = d.stop()
        self.assertEqual(rc, 0, d.logs())
        self.assertLess(time.monotonic() - t, 5)
        self.assertTrue(self.srv.gone.wait(5), "the download to be abandoned")
        self.assertEqual(h.psql(db, "SELECT state, lease_owner IS NULL, attempts FROM uploads"
                                " WHERE id = :'v1'", uid), [["queued", "t", "1"]])

    def test_cancel_while_a_stream_waits_for_bytes(self):
        # With a Content-Length the download streams into the parts; a
        # part waiting for the next bytes (1 MiB parts, 128 KiB a second)
        # gives up as soon as the cancel is seen.
        self.media("stream.mp4", 4 * U.MIB)
        self.srv.chunk, self.srv.interval = 64 * 1024, 0.5
        t0 = time.time()
        uid = self.cancel_during_download(
            "/slow/stream.mp4",
            lambda uid: h.psql(self.db, "SELECT 1 FROM uploads WHERE id = :'v1'"
                               " AND multipart_upload_id IS NOT NULL", uid))
        self.assertEqual(EMU.calls("CommitUpload", t0), [])
        mp = h.psql(self.db, "SELECT multipart_upload_id FROM uploads WHERE id = :'v1'", uid)[0][0]
        assert_aborted_once(self, mp, t0)


class UploadTwoInstances(unittest.TestCase):
    """Two daemons on one database share ten queued jobs: each once."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.class_db(cls)

    def test_ten_jobs_each_uploaded_once(self):
        env = U.upload_env(EMU, self.root, {"VODHOOK_UPLOAD_WORKERS": "0"})
        # Queue first with no worker anywhere, then start two instances.
        ids = []
        with h.Daemon(self.db, env) as q:
            for i in range(5):
                path, _ = U.make_file(self.root, "job%d.mp4" % i, 64 * 1024 + i)
                st, _, doc = U.post_upload(q, {"provider": "tencent", "path": path})
                self.assertEqual(st, 202, doc)
                ids.append(doc["id"])
        # Five more queued by the CLI for the servers.
        cli_env = dict(env, VODHOOK_DATABASE_URL=self.db)
        for i in range(5, 10):
            path, _ = U.make_file(self.root, "job%d.mp4" % i, 64 * 1024 + i)
            r = h.run(["upload", "--no-wait", "--provider", "tencent", path], cli_env)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("state: queued", r.stdout)
            ids.append(r.stdout.split("upload_id: ")[1].split()[0])
        self.assertEqual(h.psql(self.db, "SELECT count(*) FROM uploads WHERE state = 'queued'"),
                         [["10"]])
        env["VODHOOK_UPLOAD_WORKERS"] = "3"
        t0 = time.time()
        a, b = h.Daemon(self.db, env), h.Daemon(self.db, env)
        try:
            a.start(wait_ready=False)
            b.start()
            for uid in ids:
                U.wait_state(b, uid, ("uploaded", "confirmed", "ready"))
        finally:
            rcs = (a.stop(), b.stop())
        self.assertEqual(rcs, (0, 0), a.logs() + b.logs())
        for uid in ids:
            n = [c for c in EMU.calls("ApplyUpload", t0)
                 if c["params"].get("SourceContext") == "vh1:" + uid]
            self.assertEqual(len(n), 1, uid)
        rows = h.psql(self.db, "SELECT count(DISTINCT file_id), sum(attempts) FROM uploads")
        self.assertEqual(rows, [["10", "10"]])


if __name__ == "__main__":
    unittest.main()

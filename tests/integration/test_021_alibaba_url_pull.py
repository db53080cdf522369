"""Alibaba URL sources pulled by the platform itself (url_upload "platform",
UploadMediaByURL), through the emulator: one API call, the JobId recorded,
the job parked and finished by the callbacks (FileUploadComplete through
UserData.Extend, a failed UploadByURLComplete through the JobId); a pull
that fails, also when its callback comes before the JobId is recorded; a
network failure retried; a restart while the platform pulls; the request's
and the setting's validation, over HTTP and in the CLI.

The media are served by a small HTTP server on 127.0.0.1 (U.MediaServer:
the emulator fetches them as Alibaba would); it logs every request with
its User-Agent, so that the tests can tell who fetched what, and holds the
requests of a gated path until the test opens the gate.
"""
import hashlib
import json
import time
import unittest
import urllib.parse

import harness as h
import uploadlib as U

EMU = None
SRV = None
DONE = ("uploaded", "confirmed", "processing", "ready")


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


def pulls(uid, since=0.0):
    """The UploadMediaByURL calls (not the injected faults) for upload uid."""
    return EMU.calls_for("UploadMediaByURL", uid, since, skip_faults=True)


class AliUrlPull(unittest.TestCase):
    """One daemon with url_upload "stream" by default (the setting's
    default) and verified Alibaba callbacks."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.start_ali_daemon(cls, EMU)

    @classmethod
    def tearDownClass(cls):
        U.stop_daemon(cls.d)

    def submit(self, **body):
        return U.submit(self, self.d, "alibaba", body)

    def test_pulled_by_the_platform_ends_ready(self):
        path, md5, size = media_file("pulled.mp4", 3 * U.MIB + 7)
        # A comma and an escape in the query: UploadURLs is a
        # comma-separated list, so each URL must go URL-encoded.
        url = SRV.url(path) + "?sig=a,b&x=%2F"
        t0 = time.time()
        doc = self.submit(url=url, url_upload="platform", name="Pulled one",
                          source_context="pctx")
        uid = doc["id"]
        self.assertEqual(doc["options"]["url_upload"], "platform")
        doc = U.wait_state(self.d, uid, ("ready",))
        vid = doc["file_id"]
        self.assertRegex(vid, "^[0-9a-f]{32}$")
        # The bytes the platform stored are the file's.
        o = EMU.stored(vid)
        self.assertEqual((o["md5"], o["size"]), (md5, size))
        # Exactly one UploadMediaByURL, with the documented parameters.
        calls = pulls(uid, t0)
        self.assertEqual(len(calls), 1, EMU.calls("UploadMediaByURL", t0))
        p = calls[0]["params"]
        self.assertNotIn(",", p["UploadURLs"])
        self.assertEqual(urllib.parse.unquote(p["UploadURLs"]), url)
        self.assertEqual(json.loads(p["UploadMetadatas"]),
                         [{"SourceURL": url, "Title": "Pulled one", "FileExtension": "mp4"}])
        self.assertEqual(json.loads(p["UserData"]),
                         {"Extend": {"vh": uid, "ctx": "pctx"},
                          "MessageCallback": {"CallbackURL": self.cb_url}})
        self.assertNotIn("TemplateGroupId", p)
        # The JobId is recorded and shown; it is the emulator's.
        m = EMU.media(vid)
        self.assertEqual(doc["url_job_id"], m["job_id"])
        self.assertEqual(m["title"], "Pulled one")
        # vodhook sent no bytes and created no upload of its own; only the
        # platform fetched the URL.
        self.assertEqual(EMU.key_calls("PutObject", m["key"], t0), [])
        self.assertEqual([c for c in EMU.calls("CreateUploadVideo", t0)
                          if uid in json.dumps(c["params"])], [])
        self.assertEqual(SRV.fetches(path), ["vodhook-emulator"])
        self.assertEqual(doc["attempts"], 1, doc)
        self.assertEqual(doc["source_context"], "pctx")
        rows = h.psql(self.db, "SELECT state, upload_id FROM media WHERE provider = 'alibaba'"
                      " AND file_id = :'v1'", vid)
        self.assertEqual(rows, [["ready", uid]])
        types = {r[0] for r in h.psql(self.db, "SELECT event_type FROM vod_events"
                                      " WHERE task_id = :'v1' OR file_id = :'v2'",
                                      doc["url_job_id"], vid)}
        self.assertEqual(types, {"UploadByURLComplete", "FileUploadComplete"})
        # A pulled job cannot be canceled any more.
        st, _, err = self.d.client.json("DELETE", "/v1/uploads/" + uid, None, U.AUTH)
        self.assertEqual(st, 409, err)

    def test_template_group_and_fields_passed_on(self):
        path, _, _ = media_file("tg.mp4", 200 * 1024)
        url = SRV.url(path)
        t0 = time.time()
        uid = self.submit(url=url, url_upload="platform", procedure="tg-pull",
                          media_type="mp4", name="With group")["id"]
        doc = U.wait_state(self.d, uid, ("ready",))
        calls = pulls(uid, t0)
        self.assertEqual(len(calls), 1)
        p = calls[0]["params"]
        self.assertEqual(p["TemplateGroupId"], "tg-pull")
        self.assertEqual(json.loads(p["UploadMetadatas"])[0]["TemplateGroupId"], "tg-pull")
        self.assertEqual(EMU.media(doc["file_id"])["template_group_id"], "tg-pull")
        types = {r[0] for r in h.psql(self.db, "SELECT event_type FROM vod_events"
                                      " WHERE file_id = :'v1'", doc["file_id"])}
        self.assertIn("TranscodeComplete", types)

    def test_url_the_platform_cannot_fetch_fails(self):
        url = SRV.url("/v/missing.mp4")
        t0 = time.time()
        uid = self.submit(url=url, url_upload="platform")["id"]
        doc = U.wait_state(self.d, uid, ("failed",))
        self.assertEqual(doc["error"]["code"], "URLInvalidError", doc)
        self.assertTrue(doc["url_job_id"], doc)
        self.assertIsNone(doc["file_id"], doc)
        self.assertEqual(len(pulls(uid, t0)), 1)
        self.assertEqual(SRV.fetches("/v/missing.mp4"), ["vodhook-emulator"])

    def test_failure_callback_after_the_job_is_recorded(self):
        # The callback comes late: the upload is parked before it fails.
        EMU.ctl("faults", {"delay_ms": 500})
        url = SRV.url("/v/missing-late.mp4")
        uid = self.submit(url=url, url_upload="platform")["id"]
        h.wait_for(lambda: h.psql(self.db, "SELECT 1 FROM uploads WHERE id = :'v1'"
                                  " AND url_job_id IS NOT NULL AND state = 'uploading'"
                                  " AND lease_owner IS NULL", uid),
                   "the job to be parked")
        doc = U.wait_state(self.d, uid, ("failed",))
        self.assertEqual(doc["error"]["code"], "URLInvalidError", doc)

    def test_network_failure_is_retried(self):
        path, md5, size = media_file("retried.mp4", 100 * 1024)
        # The connection drops before an answer: the request may have
        # arrived, so the client does not retry it at once; the job is
        # given back and calls again.
        EMU.ctl("faults", {"kind": "UploadMediaByURL", "nth": 1, "drop_after_bytes": 0})
        t0 = time.time()
        uid = self.submit(url=SRV.url(path), url_upload="platform")["id"]
        doc = U.wait_state(self.d, uid, ("ready",))
        self.assertEqual(len(pulls(uid, t0)), 1)
        self.assertEqual(len([c for c in EMU.calls("UploadMediaByURL", t0) if c.get("fault")]), 1)
        self.assertEqual(doc["attempts"], 2, doc)
        o = EMU.stored(doc["file_id"])
        self.assertEqual((o["md5"], o["size"]), (md5, size))

    def test_platform_refusal_fails_with_its_code(self):
        path, _, _ = media_file("refused.mp4", 1000)
        EMU.ctl("faults", {"kind": "UploadMediaByURL", "nth": 1, "status": 500})
        uid = self.submit(url=SRV.url(path), url_upload="platform")["id"]
        doc = U.wait_state(self.d, uid, ("failed",))
        self.assertEqual(doc["error"]["code"], "InternalError", doc)
        self.assertIsNone(doc["url_job_id"], doc)
        self.assertEqual(doc["attempts"], 1, doc)

    def test_request_validation(self):
        path, _, _ = media_file("valid.mp4", 1000)
        local, _ = U.make_file(self.root, "local.mp4", 1000)
        url = SRV.url(path)
        cases = [
            ({"path": local, "url_upload": "platform"}, "url source"),
            ({"url": url, "url_upload": "server"}, "stream"),
            ({"url": url, "url_upload": 1}, "string"),
            ({"url": "ftp://127.0.0.1/a.mp4", "url_upload": "platform"}, "http"),
            ({"url": "http://127.0.0.1/" + "a" * 5000 + ".mp4", "url_upload": "platform"},
             "longer"),
            ({"url": SRV.url("/v/pic.jpg"), "url_upload": "platform"}, "video"),
        ]
        n0 = h.psql(self.db, "SELECT count(*) FROM uploads")
        for body, word in cases:
            body.setdefault("provider", "alibaba")
            st, _, doc = U.post_upload(self.d, body)
            self.assertEqual(st, 400, (body, doc))
            self.assertIn(word, doc["error"]["message"], (body, doc))
        self.assertEqual(h.psql(self.db, "SELECT count(*) FROM uploads"), n0)

    def test_private_address_refused_only_when_vodhook_fetches(self):
        # The daemon refuses private URLs (upload_allow_private_urls off).
        # Streamed (the setting's default, or asked for), vodhook would
        # fetch 127.0.0.1 itself: refused. Pulled by the platform, it is
        # not vodhook's network that is reached: accepted.
        path, md5, size = media_file("private.mp4", 1000)
        for body in ({}, {"url_upload": "stream"}):
            body.update({"provider": "alibaba", "url": SRV.url(path)})
            st, _, doc = U.post_upload(self.d, body)
            self.assertEqual(st, 403, (body, doc))
            self.assertIn("private", doc["error"]["message"])
        self.assertEqual(SRV.fetches(path), [])
        uid = self.submit(url=SRV.url(path), url_upload="platform")["id"]
        doc = U.wait_state(self.d, uid, ("ready",))
        o = EMU.stored(doc["file_id"])
        self.assertEqual((o["md5"], o["size"]), (md5, size))
        self.assertEqual(SRV.fetches(path), ["vodhook-emulator"])


class AliUrlPullFailureFirst(unittest.TestCase):
    """The failed UploadByURLComplete is stored before the worker records
    the JobId (a test trigger holds that write until the event is there):
    recording the JobId applies the failure."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.start_ali_daemon(cls, EMU)
        h.psql(cls.db, """
CREATE TABLE t_held (url_job_id text, event_first boolean);
CREATE FUNCTION t_hold_url_job() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..1000 LOOP
        EXIT WHEN EXISTS (SELECT 1 FROM vod_events WHERE task_id = NEW.url_job_id);
        PERFORM pg_sleep(0.01);
    END LOOP;
    INSERT INTO t_held VALUES (NEW.url_job_id, EXISTS (SELECT 1 FROM vod_events
        WHERE task_id = NEW.url_job_id));
    RETURN NEW;
END $$;
CREATE TRIGGER t_hold_url_job BEFORE UPDATE OF url_job_id ON uploads FOR EACH ROW
    WHEN (OLD.url_job_id IS NULL AND NEW.url_job_id IS NOT NULL)
    EXECUTE FUNCTION t_hold_url_job();
""")

    @classmethod
    def tearDownClass(cls):
        U.stop_daemon(cls.d)

    def test_failure_stored_before_the_job_id(self):
        st, _, doc = U.post_upload(self.d, {"provider": "alibaba", "url_upload": "platform",
                                            "url": SRV.url("/v/missing-first.mp4")})
        self.assertEqual(st, 202, doc)
        uid = doc["id"]
        doc = U.wait_state(self.d, uid, ("failed",))
        self.assertEqual(doc["error"]["code"], "URLInvalidError", doc)
        # The event was stored before the JobId was: ingest could not
        # have failed the upload itself.
        rows = h.psql(self.db, "SELECT h.event_first FROM t_held h, uploads u"
                      " WHERE u.id = :'v1' AND h.url_job_id = u.url_job_id", uid)
        self.assertEqual(rows, [["t"]])


class AliUrlPullRestart(unittest.TestCase):
    """A daemon restarted while the platform pulls: the parked job is not
    claimed again (no second UploadMediaByURL) and its callbacks, received
    by the new process, finish it. The setting makes "platform" the
    default of Alibaba URLs here."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.start_ali_daemon(cls, EMU, {"VODHOOK_ALIBABA_URL_UPLOAD": "platform",
                                      "VODHOOK_UPLOAD_WORKERS": "1",
                                      "VODHOOK_UPLOAD_LEASE_SECONDS": "5"})

    @classmethod
    def tearDownClass(cls):
        U.stop_daemon(cls.d)

    def test_restart_while_parked(self):
        name = "gated.mp4"
        _, md5 = U.make_file(SRV.dir, name, 2 * U.MIB + 1)
        path = "/gate/" + name
        SRV.gate.clear()
        t0 = time.time()
        st, _, doc = U.post_upload(self.d, {"provider": "alibaba", "url": SRV.url(path)})
        self.assertEqual(st, 202, doc)
        uid = doc["id"]
        self.assertEqual(doc["options"]["url_upload"], "platform")
        h.wait_for(lambda: h.psql(self.db, "SELECT 1 FROM uploads WHERE id = :'v1'"
                                  " AND url_job_id IS NOT NULL AND state = 'uploading'"
                                  " AND lease_owner IS NULL", uid),
                   "the job to be parked")
        h.wait_for(lambda: SRV.fetches(path), "the platform to start fetching")
        self.d.stop_checked()
        t_restart = time.time()
        self.d.start()
        # A job submitted after the restart is claimed and done: the
        # worker has looked for jobs, oldest first, and passed the parked
        # one by.
        local, _ = U.make_file(self.root, "after.mp4", 1000)
        st, _, doc = U.post_upload(self.d, {"provider": "alibaba", "path": local})
        self.assertEqual(st, 202, doc)
        U.wait_state(self.d, doc["id"], DONE)
        self.assertEqual(pulls(uid, t_restart), [])
        self.assertEqual(U.get_upload(self.d, uid)["state"], "uploading")
        SRV.gate.set()
        doc = U.wait_state(self.d, uid, ("ready",))
        self.assertEqual(len(pulls(uid, t0)), 1)
        self.assertEqual(doc["attempts"], 1, doc)
        o = EMU.stored(doc["file_id"])
        self.assertEqual((o["md5"], o["size"]), (md5, 2 * U.MIB + 1))


class AliUrlPullCli(unittest.TestCase):
    """vodhook upload --url-upload platform: the command ends once the
    platform took the URL; the daemon receives the callbacks."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.start_ali_daemon(cls, EMU, {"VODHOOK_UPLOAD_WORKERS": "0"})

    @classmethod
    def tearDownClass(cls):
        U.stop_daemon(cls.d)

    def cli(self, args):
        env = dict(self.d.env)
        env["VODHOOK_LISTEN"] = "127.0.0.1:0"
        return h.run(["upload"] + args, env, timeout=120)

    def test_cli_pull(self):
        path, md5, size = media_file("cli.mp4", 64 * 1024)
        r = self.cli(["--provider", "alibaba", "--url-upload", "platform",
                      "--source-context", "cli ctx", SRV.url(path)])
        self.assertEqual(r.returncode, 0, r.stderr)
        out = dict(line.split(": ", 1) for line in r.stdout.splitlines() if ": " in line)
        uid = out["upload_id"]
        self.assertTrue(out.get("url_job_id"), r.stdout)
        doc = U.wait_state(self.d, uid, ("ready",))
        self.assertEqual(doc["url_job_id"], out["url_job_id"])
        o = EMU.stored(doc["file_id"])
        self.assertEqual((o["md5"], o["size"]), (md5, size))
        self.assertEqual(len(pulls(uid)), 1)

    def test_cli_refuses_platform_for_files(self):
        local, _ = U.make_file(self.root, "cli-local.mp4", 1000)
        for args, word in ((["--provider", "alibaba", "--url-upload", "platform", local],
                            "url source"),
                           (["--provider", "alibaba", "--url-upload", "maybe",
                             SRV.url("/v/x.mp4")], "stream")):
            r = self.cli(args)
            self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
            self.assertIn(word, r.stderr, args)
            self.assertNotIn("upload_id", r.stdout)


class AliUrlPullSetting(unittest.TestCase):
    """The setting accepts stream and platform only."""

    def test_bad_setting_stops_start_up(self):
        h.require_env(self)
        r = h.run(["config"], {"VODHOOK_ALIBABA_URL_UPLOAD": "pull"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("alibaba_url_upload", r.stderr)
        r = h.run(["config"], {"VODHOOK_ALIBABA_URL_UPLOAD": "platform"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("alibaba_url_upload = platform", r.stdout)


if __name__ == "__main__":
    unittest.main()

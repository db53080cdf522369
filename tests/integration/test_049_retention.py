"""Retention: raw events, finished upload jobs (with their part
checkpoints) and ended webhook messages (with their attempts) older than
their setting are deleted by a background thread in batches; recent rows,
running jobs, pending messages and media records stay, and a setting of 0
(the default) deletes nothing. Rows are backdated through psql."""
import unittest
import uuid

import harness as h
import vodevents as ve

OLD = "10 days"  # past a retention of 7 days
NEW = "1 day"


def retention_env(events_days, uploads_days, batch=2, webhooks_days=0):
    return {"VODHOOK_RETENTION_EVENTS_DAYS": str(events_days),
            "VODHOOK_RETENTION_UPLOADS_DAYS": str(uploads_days),
            "VODHOOK_RETENTION_WEBHOOKS_DAYS": str(webhooks_days),
            # Nothing delivers: the messages keep the states given here.
            "VODHOOK_WEBHOOK_WORKERS": "0",
            "VODHOOK_RETENTION_BATCH": str(batch),
            "VODHOOK_RETENTION_INTERVAL_MS": "100",
            "VODHOOK_RETENTION_PAUSE_MS": "0"}


class Rows:
    """Backdated rows in a migrated database of its own."""

    def __init__(self):
        self.db = h.fresh_database()
        out = h.run(["migrate"], {"VODHOOK_DATABASE_URL": self.db})
        if out.returncode != 0:
            raise AssertionError(out.stderr)

    def sql(self, sql, *args):
        return h.psql(self.db, sql, *args)

    def event(self, age, key=None):
        key = key or "k-" + uuid.uuid4().hex
        self.sql("INSERT INTO vod_events (provider, event_type, dedup_key,"
                 " file_id, received_via, received_at, raw)"
                 " VALUES ('tencent', 'NewFileUpload', :'v1', 'f', 'push',"
                 " now() - :'v2'::interval, '{}')", key, age)
        return key

    def upload(self, state, age=None, parts=3, created=None):
        """A job in state, finished age ago (None: not finished), with
        parts checkpoints."""
        uid = str(uuid.uuid4())
        self.sql("INSERT INTO uploads (id, provider, state, source_kind, source,"
                 " created_at, finished_at) VALUES (:'v1', 'tencent', :'v2',"
                 " 'file', 'a.mp4', now() - :'v3'::interval,"
                 " now() - nullif(:'v4', '')::interval)",
                 uid, state, created or age or "30 days", age or "")
        for n in range(1, parts + 1):
            self.sql("INSERT INTO upload_parts (upload_id, part_number, size, etag,"
                     " done_at) VALUES (:'v1', :'v2', 5, 'e', now() - :'v3'::interval)",
                     uid, str(n), created or age or "30 days")
        return uid

    def media(self, file_id, state, upload_id):
        rank = {"processing": 3, "ready": 4, "failed": 4}[state]
        self.sql("INSERT INTO media (provider, file_id, state, state_rank, upload_id,"
                 " uploaded_at) VALUES ('tencent', :'v1', :'v2', :'v3', :'v4',"
                 " now() - interval '20 days')", file_id, state, str(rank), upload_id)

    def subscription(self):
        sid = str(uuid.uuid4())
        self.sql("INSERT INTO webhook_subscriptions (id, url, secret)"
                 " VALUES (:'v1', 'https://app.example/hook', 'whsec_x')", sid)
        return sid

    def message(self, sub, state, age, attempts=2):
        """A message of sub in state, ended (or, pending, created) age ago,
        with attempts attempts."""
        mid = self.sql("INSERT INTO webhook_messages (subscription_id, type, subject,"
                       " seq, body, state, attempts, created_at, next_attempt_at,"
                       " delivered_at, failed_at) VALUES (:'v1', 'media.state_changed',"
                       " 'media:tencent:f', 1, '{}', :'v2', :'v4', now() - :'v3'::interval,"
                       " now() + interval '1 day',"
                       " CASE WHEN :'v2' = 'delivered' THEN now() - :'v3'::interval END,"
                       " CASE WHEN :'v2' = 'failed' THEN now() - :'v3'::interval END)"
                       " RETURNING id", sub, state, age, str(attempts))[0][0]
        self.sql("INSERT INTO webhook_attempts (message_id, started_at, duration_ms,"
                 " status) SELECT :'v1', now() - :'v2'::interval, 5, 500"
                 " FROM generate_series(1, :'v3'::int)", mid, age, str(attempts))
        return mid

    def has_message(self, mid):
        return self.count("SELECT count(*) FROM webhook_messages WHERE id = :'v1'", mid)

    def attempts(self, mid):
        return self.count("SELECT count(*) FROM webhook_attempts WHERE message_id = :'v1'",
                          mid)

    def count(self, sql, *args):
        return int(self.sql(sql, *args)[0][0])

    def has_event(self, key):
        return self.count("SELECT count(*) FROM vod_events WHERE dedup_key = :'v1'", key)

    def has_upload(self, uid):
        return self.count("SELECT count(*) FROM uploads WHERE id = :'v1'", uid)

    def parts(self, uid):
        return self.count("SELECT count(*) FROM upload_parts WHERE upload_id = :'v1'", uid)


class Retention(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.require_env(cls)

    def test_old_rows_deleted_recent_running_and_media_kept(self):
        r = Rows()
        old_events = [r.event(OLD) for _ in range(5)]
        new_event = r.event(NEW)
        ready = r.upload("ready", OLD)
        r.media("f-ready", "ready", ready)
        failed = r.upload("failed", OLD)
        canceled = r.upload("canceled", OLD, parts=0)
        recent = r.upload("ready", NEW)
        running = r.upload("uploading", created="30 days")
        waiting = r.upload("processing", created="30 days")
        # A job that failed (its worker gave up) whose media record the
        # platform's callbacks are still moving: kept while the record is.
        unfinished = r.upload("failed", OLD)
        r.media("f-unfinished", "processing", unfinished)

        with h.Daemon(r.db, retention_env(7, 7)) as d:
            h.wait_for(lambda: not any(r.has_event(k) for k in old_events),
                       "the old events to be deleted")
            h.wait_for(lambda: not any(r.has_upload(u) for u in (ready, failed, canceled)),
                       "the old finished uploads to be deleted")
            logs = d.logs()

        self.assertTrue(r.has_event(new_event))
        for u in (ready, failed, canceled):
            self.assertEqual(r.parts(u), 0)
        for u in (recent, running, waiting, unfinished):
            self.assertTrue(r.has_upload(u), u)
            self.assertEqual(r.parts(u), 3, u)
        # Media records stay; the deleted job's link is cleared, the view
        # still shows the record.
        self.assertEqual(r.sql("SELECT file_id, state, upload_id FROM media"
                               " ORDER BY file_id"),
                         [["f-ready", "ready", ""],
                          ["f-unfinished", "processing", unfinished]])
        self.assertEqual(r.sql("SELECT state, upload_state FROM media_lifecycle"
                               " WHERE file_id = 'f-ready'"), [["ready", ""]])
        # Batches of 2: five events take three, each logged.
        self.assertIn("deleted 2 events older than 7 days", logs)
        self.assertIn("deleted 1 events older than 7 days", logs)
        self.assertIn("uploads older than 7 days", logs)
        self.assertIn("upload parts older than 7 days", logs)

    def test_ended_webhook_messages_deleted_pending_and_recent_kept(self):
        r = Rows()
        sub = r.subscription()
        old = [r.message(sub, "delivered", OLD) for _ in range(3)] + \
            [r.message(sub, "failed", OLD) for _ in range(2)]
        kept = [r.message(sub, "delivered", NEW), r.message(sub, "failed", NEW),
                # Pending, however old: still to deliver (or resent).
                r.message(sub, "pending", "30 days", attempts=1),
                r.message(sub, "pending", "30 days", attempts=0)]
        event = r.event(OLD)
        with h.Daemon(r.db, retention_env(0, 0, webhooks_days=7)) as d:
            h.wait_for(lambda: not any(r.has_message(m) for m in old),
                       "the old ended webhook messages to be deleted")
            logs = d.logs()
        for m in old:
            self.assertEqual(r.attempts(m), 0, m)
        for m, n in zip(kept, (2, 2, 1, 0)):
            self.assertTrue(r.has_message(m), m)
            self.assertEqual(r.attempts(m), n, m)
        self.assertEqual(r.count("SELECT count(*) FROM webhook_subscriptions"), 1)
        # Events kept (0).
        self.assertTrue(r.has_event(event))
        # Batches of 2: five messages take three, each logged.
        self.assertIn("deleted 2 webhook messages older than 7 days", logs)
        self.assertIn("deleted 1 webhook messages older than 7 days", logs)

    def test_zero_keeps_that_kind(self):
        # Events kept (0), uploads deleted: a wake-up sweeps events first,
        # so once the uploads are gone a whole wake-up has passed.
        r = Rows()
        event = r.event(OLD)
        upload = r.upload("ready", OLD)
        with h.Daemon(r.db, retention_env(0, 7)):
            h.wait_for(lambda: not r.has_upload(upload), "the old upload to be deleted")
        self.assertTrue(r.has_event(event))

        # Uploads kept (0), events deleted: a second old event deleted
        # after the first shows that the wake-up that deleted the first
        # (and would have swept uploads after it) has ended.
        r = Rows()
        upload = r.upload("ready", OLD)
        first = r.event(OLD)
        with h.Daemon(r.db, retention_env(7, 0)):
            h.wait_for(lambda: not r.has_event(first), "the first old event to be deleted")
            second = r.event(OLD)
            h.wait_for(lambda: not r.has_event(second), "the second old event to be deleted")
        self.assertTrue(r.has_upload(upload))
        self.assertEqual(r.parts(upload), 3)

    def test_default_deletes_nothing(self):
        out = h.run(["config"], {"VODHOOK_DATABASE_URL": "postgresql:///x"})
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("retention_events_days = 0", out.stdout)
        self.assertIn("retention_uploads_days = 0", out.stdout)
        self.assertIn("retention_webhooks_days = 0", out.stdout)
        r = Rows()
        event = r.event("10000 days")
        upload = r.upload("ready", "10000 days")
        message = r.message(r.subscription(), "delivered", "10000 days")
        with h.Daemon(r.db, {"VODHOOK_RETENTION_INTERVAL_MS": "100"}) as d:
            # Requests that need the database, so that the daemon has run
            # a while with it.
            for _ in range(3):
                self.assertEqual(d.client.request("GET", "/readyz")[0], 200)
            logs = d.logs()
        self.assertNotIn("module=retention", logs)
        self.assertTrue(r.has_event(event))
        self.assertTrue(r.has_upload(upload))
        self.assertTrue(r.has_message(message))

    def test_retention_within_tencent_pull_horizon_is_warned(self):
        r = Rows()
        env = dict(retention_env(4, 0),
                   VODHOOK_TENCENT_EVENT_MODE="pull",
                   VODHOOK_TENCENT_SECRET_ID="AKIDtest",
                   VODHOOK_TENCENT_SECRET_KEY="secret-key-for-tests",
                   VODHOOK_TENCENT_API_URL="http://127.0.0.1:%d" % h.free_port(),
                   VODHOOK_ALLOW_HTTP="1", VODHOOK_RECONCILE_AFTER="0")
        # The warning comes as the retention starts, once the database is up: after the
        # daemon answers /healthz.
        with h.Daemon(r.db, env) as d:
            h.wait_for(lambda: "retention_events_days = 4 is within the 4 days" in d.logs(),
                       "the warning about the pull horizon")
        with h.Daemon(r.db, dict(env, VODHOOK_RETENTION_EVENTS_DAYS="5")) as d:
            h.wait_for(lambda: "retention deletes" in d.logs() or "module=retention" in d.logs(),
                       "the retention to start")
            logs = d.logs()
        self.assertNotIn("is within the", logs)

    def test_several_instances_split_the_work(self):
        r = Rows()
        r.sql("INSERT INTO vod_events (provider, event_type, dedup_key, received_via,"
              " received_at, raw) SELECT 'alibaba', 'FileUploadComplete', 'k' || i,"
              " 'push', now() - interval '10 days', '{}'"
              " FROM generate_series(1, 3000) i")
        keep = r.event(NEW)
        env = retention_env(7, 7, batch=50)
        with h.Daemon(r.db, env) as a, h.Daemon(r.db, env) as b:
            h.wait_for(lambda: r.count("SELECT count(*) FROM vod_events") == 1,
                       "every old event to be deleted", timeout=2 * h.WAIT)
            logs = a.logs() + b.logs()
        self.assertTrue(r.has_event(keep))
        self.assertNotIn("could not delete", logs)

    def test_redelivered_after_deletion_is_stored_again_and_moves_nothing(self):
        r = Rows()
        fid = "5285890784246869163"
        first = ve.tencent_new_file_upload(fid)
        finish = ve.tencent_procedure(fid, "t-1", "FINISH")
        with h.Daemon(r.db, retention_env(7, 0)) as d:
            for ev in (first, finish):
                st, _, _ = d.client.json("POST", "/callbacks/tencent", ve.body(ev))
                self.assertEqual(st, 200)
            before = r.sql("SELECT state, confirmed_at, ready_at, updated_at FROM media"
                           " WHERE file_id = :'v1'", fid)
            self.assertEqual(before[0][0], "ready")
            r.sql("UPDATE vod_events SET received_at = now() - interval '10 days'")
            h.wait_for(lambda: r.count("SELECT count(*) FROM vod_events") == 0,
                       "the events to be deleted")
            # The platform delivers the first event again: its dedup key
            # is gone, so it is stored as new, and the record stays ready.
            st, _, _ = d.client.json("POST", "/callbacks/tencent", ve.body(first))
            self.assertEqual(st, 200)
        self.assertEqual(r.sql("SELECT event_type FROM vod_events"), [["NewFileUpload"]])
        after = r.sql("SELECT state, confirmed_at, ready_at FROM media WHERE file_id = :'v1'",
                      fid)
        self.assertEqual(after, [before[0][:3]])


if __name__ == "__main__":
    unittest.main()

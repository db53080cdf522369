"""Signed outbound webhooks (issue 28): the outbox written with each change,
delivered by the workers with Standard Webhooks signatures, retried, failed,
sent again, and never lost.

Every message is checked by webhooklib.Receiver, a Node receiver that
verifies signatures with the npm package standardwebhooks (the reference
library), not with vodhook's code. Changes come from the real lifecycle
(an Alibaba upload through the emulator and its signed callbacks) or, where
only delivery is under test, from SQL writes to the media table, which fire
the same triggers.
"""
import json
import subprocess
import threading
import time
import unittest

import harness as h
import uploadlib as U
import vodevents as V
import webhooklib as W

EMU = None
FAST = {
    "VODHOOK_WEBHOOK_ALLOW_HTTP": "1",
    "VODHOOK_WEBHOOK_ALLOW_PRIVATE_URLS": "1",
    "VODHOOK_WEBHOOK_RETRY_SCHEDULE": "200ms,400ms,800ms,1600ms,3200ms",
    "VODHOOK_WEBHOOK_POLL_MS": "50",
    "VODHOOK_WEBHOOK_TIMEOUT_MS": "4000",
    "VODHOOK_WEBHOOK_WORKERS": "4",
    "VODHOOK_WEBHOOK_MAX_IN_FLIGHT": "2",
}


def setUpModule():
    global EMU
    EMU = U.module_emu()


def tearDownModule():
    U.stop_emu(EMU)


def by_subject(msgs):
    out = {}
    for r in msgs:
        m = r["msg"]
        kind = "upload" if m["type"] == "upload.state_changed" else "media"
        rec = m["data"][kind]
        key = rec["id"] if kind == "upload" else rec["provider"] + ":" + rec["file_id"]
        out.setdefault(key, []).append(m)
    return out


class Webhooks(unittest.TestCase):
    """One daemon with a fast retry schedule, and one receiver."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.rcv = W.Receiver()
        U.start_ali_daemon(cls, EMU, FAST)

    @classmethod
    def tearDownClass(cls):
        U.stop_daemon(cls.d)
        cls.rcv.stop()

    def sub(self, path, secrets=None, **body):
        doc = W.create(self, self.d, self.rcv.url(path), **body)
        self.rcv.config(path, secrets=[doc["secret"]] + (secrets or []))
        self.addCleanup(W.api, self.d, "DELETE", "/v1/webhooks/" + doc["id"])
        return doc

    def assert_all_verified(self, path):
        for r in self.rcv.received(path):
            self.assertTrue(r["verified"] and all(r["verified"]), r)

    def test_upload_lifecycle_in_order_once(self):
        self.sub("/life")
        path, _ = U.make_file(self.root, "life.mp4", 200 * 1024)
        uid = U.submit(self, self.d, "alibaba", {"path": path})["id"]
        up = U.wait_state(self.d, uid, ("ready",))
        vid = up["file_id"]

        def complete():
            subj = by_subject(self.rcv.accepted("/life"))
            u, m = subj.get(uid, []), subj.get("alibaba:" + vid, [])
            return (u, m) if u and u[-1]["data"]["upload"]["state"] == "ready" \
                and m and m[-1]["data"]["media"]["state"] == "ready" else None
        u, m = h.wait_for(complete, "the whole lifecycle at the receiver")
        got = self.rcv.accepted("/life")
        self.assertEqual(len({r["id"] for r in got}), len(got), "a message came twice")
        self.assert_all_verified("/life")
        # An upload's sequence numbers count up from 1 with no gap; a media
        # record's are the rank of the state it moved to (a record moves
        # only up), so that a receiver can drop a stale one all the same.
        self.assertEqual([x["data"]["change"]["seq"] for x in u],
                         list(range(1, len(u) + 1)))
        rank = {"uploaded": 1, "confirmed": 2, "processing": 3, "ready": 4,
                "failed": 4, "deleted": 5}
        self.assertEqual([x["data"]["change"]["seq"] for x in m],
                         [rank[x["data"]["change"]["to"]] for x in m])
        for seq in (u, m):
            # In order: each message's from is the previous one's to, and
            # the sequence numbers grow.
            nums = [x["data"]["change"]["seq"] for x in seq]
            self.assertEqual(nums, sorted(set(nums)))
            self.assertIsNone(seq[0]["data"]["change"]["from"])
            for a, b in zip(seq, seq[1:]):
                self.assertEqual(b["data"]["change"]["from"], a["data"]["change"]["to"])
        self.assertEqual([x["data"]["change"]["to"] for x in u][:2], ["queued", "uploading"])
        self.assertEqual(u[-1]["data"]["upload"]["file_id"], vid)
        # The events behind the media's change are the callbacks recorded.
        self.assertTrue(any(e["event_type"] == "FileUploadComplete"
                            for x in m for e in x["data"]["change"]["events"]), m)
        # The record is the API's.
        api_rec = W.api(self.d, "GET", "/v1/media/alibaba/" + vid)[2]
        last = m[-1]["data"]["media"]
        for k in ("provider", "file_id", "state", "upload_id", "media_url", "size",
                  "app_id", "delete"):
            self.assertEqual(last[k], api_rec[k], k)
        # Every field the API returns (deletion's and the application's too),
        # but the upload and the events the API adds to one record.
        self.assertEqual(set(last), set(api_rec) - {"upload", "events"})
        self.assertEqual(set(last["transitions"]), set(api_rec["transitions"]))
        up_rec = W.api(self.d, "GET", "/v1/uploads/" + u[-1]["data"]["upload"]["id"])[2]
        self.assertEqual(set(u[-1]["data"]["upload"]), set(up_rec))

    def test_deleted_media_carries_the_deletion(self):
        # 015's deleted state and deletion request, and 018's application,
        # in the message as the API returns them.
        self.sub("/gone", filter={"states": ["deleted"]})
        W.media_changes(self.db, "gone", 1)
        h.psql(self.db, "UPDATE media SET app_id = 'app-7',"
                        " delete_requested_at = now() WHERE file_id = 'gone-1'")
        h.psql(self.db, "UPDATE media SET state = 'deleted', state_rank = 5,"
                        " deleted_at = now() WHERE file_id = 'gone-1'")
        got = W.wait_accepted(self, self.rcv, "/gone", 1)
        self.assert_all_verified("/gone")
        self.assertEqual(len(got), 1, got)
        media = got[0]["msg"]["data"]["media"]
        api_rec = W.api(self.d, "GET", "/v1/media/tencent/gone-1")[2]
        self.assertEqual(media["state"], "deleted")
        self.assertEqual(media["app_id"], "app-7")
        self.assertIsNotNone(media["transitions"]["deleted"])
        self.assertIsNotNone(media["delete"]["requested_at"])
        self.assertEqual(media["delete"], api_rec["delete"])
        self.assertEqual(set(media), set(api_rec) - {"upload", "events"})

    def test_delete_waits_for_a_change_in_flight(self):
        # A transaction that wrote a message for a subscription holds it:
        # deleting the subscription waits for that transaction, then takes
        # its message too, so that no message outlives its subscription.
        doc = W.create(self, self.d, self.rcv.url("/race"), filter={"states": ["uploaded"]})
        sid = doc["id"]
        tx = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", self.db],
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        try:
            tx.stdin.write("BEGIN; INSERT INTO media (provider, file_id, state, state_rank)"
                           " VALUES ('tencent', 'race-1', 'uploaded', 1);\n")
            tx.stdin.flush()
            h.wait_for(lambda: h.psql(self.db, "SELECT count(*) FROM pg_stat_activity"
                                               " WHERE state = 'idle in transaction'"
                                               " AND query LIKE '%race-1%'")[0][0] == "1",
                       "the change's transaction, open")
            done = []
            deleting = threading.Thread(target=lambda: done.append(
                W.api(self.d, "DELETE", "/v1/webhooks/" + sid)[0]))
            deleting.start()
            h.wait_for(lambda: h.psql(self.db, "SELECT count(*) FROM pg_stat_activity"
                                               " WHERE wait_event_type = 'Lock'"
                                               " AND query LIKE '%webhook_delete%'")[0][0] == "1",
                       "the deletion waiting for the change's transaction")
            self.assertEqual(done, [])
        finally:
            tx.stdin.write("COMMIT;\n")
            tx.stdin.close()
            tx.wait(timeout=30)
        deleting.join(timeout=30)
        self.assertEqual(done, [200])
        self.assertEqual(h.psql(self.db, "SELECT count(*) FROM webhook_messages"
                                         " WHERE subscription_id = :'v1'", sid), [["0"]])
        self.assertEqual(h.psql(self.db, "SELECT count(*) FROM media"
                                         " WHERE file_id = 'race-1'"), [["1"]])

    def test_500_then_200(self):
        s = self.sub("/flaky")
        self.rcv.config("/flaky", statuses=[500, 200])
        W.media_changes(self.db, "flaky", 1)
        got = W.wait_accepted(self, self.rcv, "/flaky", 1)
        seen = self.rcv.received("/flaky")
        self.assertEqual([r["status"] for r in seen], [500, 200])
        self.assertEqual(seen[0]["id"], seen[1]["id"])
        self.assert_all_verified("/flaky")
        msgs = W.api(self.d, "GET", "/v1/webhooks/%s/messages" % s["id"])[2]["items"]
        self.assertEqual(len(msgs), 1)
        one = h.wait_for(lambda: (lambda d: d if d["state"] == "delivered" else None)(
            W.api(self.d, "GET", "/v1/webhooks/%s/messages/%s" % (s["id"], msgs[0]["id"]))[2]),
            "the message to be delivered")
        self.assertEqual([a["status"] for a in one["attempts"]], [500, 200])
        self.assertEqual(one["body"], json.loads(got[0]["body"]))

    def test_binary_answer_is_recorded(self):
        # An answer that is not text (a NUL, invalid UTF-8) is kept made
        # printable: the attempt is recorded and the message delivered once.
        s = self.sub("/binary")
        self.rcv.config("/binary", reply_hex="ff00fe61626364")
        W.media_changes(self.db, "binary", 1)
        W.wait_accepted(self, self.rcv, "/binary", 1)
        base = "/v1/webhooks/%s/messages" % s["id"]
        h.wait_for(lambda: W.api(self.d, "GET", base + "?state=delivered")[2]["items"],
                   "the message recorded delivered")
        one = W.api(self.d, "GET", base + "/" +
                    W.api(self.d, "GET", base)[2]["items"][0]["id"])[2]
        self.assertEqual([(a["status"], a["response"]) for a in one["attempts"]],
                         [(200, "???abcd")])
        self.assertEqual(len(self.rcv.received("/binary")), 1)

    def test_receiver_down_gets_everything_once_back(self):
        port = h.free_port()
        doc = W.create(self, self.d, "http://127.0.0.1:%d/down" % port)
        self.addCleanup(W.api, self.d, "DELETE", "/v1/webhooks/" + doc["id"])
        W.media_changes(self.db, "down", 5)
        # Refused connections: every message is tried and scheduled again.
        h.wait_for(lambda: int(h.psql(self.db, "SELECT count(*) FROM webhook_messages"
                                      " WHERE subscription_id = :'v1' AND attempts >= 2",
                                      doc["id"])[0][0]) == 5, "two attempts of each")
        late = W.Receiver(port)
        self.addCleanup(late.stop)
        late.config("/down", secrets=[doc["secret"]])
        W.wait_accepted(self, late, "/down", 5)
        # Once all five are recorded delivered, none is sent again.
        h.wait_for(lambda: h.psql(self.db, "SELECT count(*) FROM webhook_messages"
                                  " WHERE subscription_id = :'v1' AND state = 'delivered'",
                                  doc["id"])[0][0] == "5", "the five recorded delivered")
        got = late.received("/down")
        self.assertEqual(len(got), 5, got)
        self.assertEqual(len({r["id"] for r in got}), 5)
        self.assertTrue(all(r["verified"] == [True] for r in got))

    def test_failed_then_resent_one_and_all_since(self):
        s = self.sub("/broken")
        self.rcv.config("/broken", statuses=[500])
        t0 = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 5))
        W.media_changes(self.db, "broken", 3)
        base = "/v1/webhooks/%s/messages" % s["id"]
        h.wait_for(lambda: len(W.api(self.d, "GET", base + "?state=failed")[2]["items"]) == 3,
                   "the three messages to fail after the whole schedule")
        failed = W.api(self.d, "GET", base + "?state=failed")[2]["items"]
        self.assertTrue(all(m["attempt_count"] == 6 for m in failed), failed)
        self.assertEqual(len(self.rcv.received("/broken")), 18)
        self.rcv.config("/broken", statuses=[200])
        st, _, one = W.api(self.d, "POST", "%s/%s/resend" % (base, failed[0]["id"]))
        self.assertEqual(st, 202, one)
        W.wait_accepted(self, self.rcv, "/broken", 1)
        st, _, res = W.api(self.d, "POST", "/v1/webhooks/%s/resend" % s["id"], {"since": t0})
        self.assertEqual((st, res), (202, {"resent": 2}))
        W.wait_accepted(self, self.rcv, "/broken", 3)
        st, _, res = W.api(self.d, "POST", "/v1/webhooks/%s/resend" % s["id"],
                           {"since": "yesterday"})
        self.assertEqual(st, 400, res)

    def test_slow_receiver_does_not_delay_another(self):
        self.sub("/slow")
        self.rcv.config("/slow", delay_ms=2500)
        self.sub("/fast")
        t0 = time.monotonic()
        W.media_changes(self.db, "both", 8)
        W.wait_accepted(self, self.rcv, "/fast", 8)
        took = time.monotonic() - t0
        slow = len(self.rcv.received("/slow"))
        # At most webhook_max_in_flight (2) of the slow one's at a time.
        self.assertLessEqual(slow, 2, "slow deliveries ran beyond the bound")
        self.assertLess(took, 2.5 * h.SLOW, "the fast receiver waited for the slow one")
        W.wait_accepted(self, self.rcv, "/slow", 8, timeout=60)
        self.assert_all_verified("/slow")

    def test_rotation_signs_with_both_in_grace(self):
        s = self.sub("/rot")
        first = s["secret"]
        st, _, r = W.api(self.d, "POST", "/v1/webhooks/%s/rotate" % s["id"], {"grace_seconds": 600})
        self.assertEqual(st, 200, r)
        second = r["secret"]
        self.assertNotEqual(first, second)
        self.assertIsNotNone(r["old_secret_until"])
        self.rcv.config("/rot", secrets=[first, second])
        W.media_changes(self.db, "rot1", 1)
        got = W.wait_accepted(self, self.rcv, "/rot", 1)
        self.assertEqual(got[0]["verified"], [True, True])
        self.assertEqual(len(got[0]["signature"].split(" ")), 2)
        # Without a grace period the old secret stops at once.
        st, _, r = W.api(self.d, "POST", "/v1/webhooks/%s/rotate" % s["id"], {"grace_seconds": 0})
        third = r["secret"]
        self.rcv.config("/rot", secrets=[second, third])
        W.media_changes(self.db, "rot2", 1)
        got = W.wait_accepted(self, self.rcv, "/rot", 2)
        self.assertEqual(got[-1]["verified"], [False, True])
        # A secret is shown at creation and rotation only.
        for p in ("/v1/webhooks", "/v1/webhooks/" + s["id"]):
            self.assertNotIn(b"whsec_", W.api(self.d, "GET", p)[2] and
                             json.dumps(W.api(self.d, "GET", p)[2]).encode())
        self.assertNotIn(third, self.d.logs())

    def test_api_validation_and_filter(self):
        bad = [({"url": "ftp://x"}, 400), ({"url": "http://127.0.0.1:1/", "x": 1}, 400),
               ({"url": "http://127.0.0.1:1/", "filter": {"providers": ["aws"]}}, 400),
               ({"url": "http://127.0.0.1:1/", "filter": {"kinds": []}}, 400),
               ({"description": "no url"}, 400),
               ({"url": "http://169.254.169.254/"}, 403)]
        for body, want in bad:
            st, _, doc = W.api(self.d, "POST", "/v1/webhooks", body)
            self.assertEqual(st, want, (body, doc))
        self.assertEqual(W.api(self.d, "GET", "/v1/webhooks/nope")[0], 404)
        self.assertEqual(W.api(self.d, "GET", "/v1/webhooks/%s" % ("0" * 8 + "-0000-0000-0000-" + "0" * 12))[0], 404)
        s = self.sub("/filtered", filter={"providers": ["alibaba"], "states": ["ready"]})
        W.media_changes(self.db, "filtered-tc", 2, "tencent")
        W.media_changes(self.db, "filtered-ali", 2, "alibaba")
        h.psql(self.db, "UPDATE media SET state = 'ready', state_rank = 4"
                        " WHERE file_id LIKE 'filtered-%'")
        W.wait_accepted(self, self.rcv, "/filtered", 2)
        h.wait_for(lambda: W.api(self.d, "GET", "/v1/webhooks/" + s["id"])[2]["messages"]
                   == {"pending": 0, "delivered": 2, "failed": 0}, "two recorded delivered")
        got = self.rcv.accepted("/filtered")
        self.assertEqual(sorted(r["msg"]["data"]["media"]["file_id"] for r in got),
                         ["filtered-ali-1", "filtered-ali-2"])
        # Disabled: no message is written for it.
        st, _, doc = W.api(self.d, "PATCH", "/v1/webhooks/" + s["id"], {"enabled": False})
        self.assertEqual((st, doc["enabled"], doc["disabled_reason"]),
                         (200, False, "disabled through the API"))
        W.media_changes(self.db, "filtered-off", 1, "alibaba")
        h.psql(self.db, "UPDATE media SET state = 'ready', state_rank = 4"
                        " WHERE file_id = 'filtered-off-1'")
        n = W.api(self.d, "GET", "/v1/webhooks/" + s["id"])[2]["messages"]
        self.assertEqual(n, {"pending": 0, "delivered": 2, "failed": 0})


class KilledDuringDeliveries(unittest.TestCase):
    """SIGKILL with deliveries in flight, then a restart: every message is
    delivered at least once and none is lost."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.rcv = W.Receiver()
        U.class_db(cls)
        env = dict(FAST, VODHOOK_API_TOKEN="t0ken", VODHOOK_WEBHOOK_TIMEOUT_MS="1000")
        cls.d = h.Daemon(cls.db, env)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.rcv.stop()

    def test_sigkill_loses_nothing(self):
        self.d.start()
        doc = W.create(self, self.d, self.rcv.url("/k"))
        self.rcv.config("/k", secrets=[doc["secret"]], delay_ms=100)
        W.media_changes(self.db, "k", 200)
        h.wait_for(lambda: len(self.rcv.received("/k")) >= 20, "deliveries under way")
        self.d.kill()
        before = len({r["id"] for r in self.rcv.received("/k")})
        self.assertLess(before, 200)
        self.d.start()
        got = W.wait_accepted(self, self.rcv, "/k", 200, timeout=120)
        self.assertEqual(len({r["id"] for r in got}), 200)
        self.assertTrue(all(r["verified"] == [True] for r in self.rcv.received("/k")))
        left = h.psql(self.db, "SELECT count(*) FROM webhook_messages WHERE state <> 'delivered'")
        h.wait_for(lambda: h.psql(self.db, "SELECT count(*) FROM webhook_messages"
                                  " WHERE state <> 'delivered'")[0][0] == "0",
                   "every message recorded delivered (left: %s)" % left)


class StopDuringDelivery(unittest.TestCase):
    """SIGTERM while a receiver takes its time: the attempt in flight ends
    at once instead of at webhook_timeout_ms, and its message is due again
    at once."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.rcv = W.Receiver()
        U.class_db(cls)
        env = dict(FAST, VODHOOK_API_TOKEN="t0ken", VODHOOK_WEBHOOK_TIMEOUT_MS="60000")
        cls.d = h.Daemon(cls.db, env)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.rcv.stop()

    def test_stop_ends_the_attempt_in_flight(self):
        import signal
        self.d.start()
        doc = W.create(self, self.d, self.rcv.url("/slow"))
        self.rcv.config("/slow", secrets=[doc["secret"]], delay_ms=50000)
        W.media_changes(self.db, "slow", 1)
        h.wait_for(lambda: self.rcv.arrived("/slow") == 1,
                   "the request sent, its answer awaited")
        t = time.monotonic()
        self.d.proc.send_signal(signal.SIGTERM)
        rc = self.d.proc.wait(h.WAIT)
        took = time.monotonic() - t
        self.assertEqual(rc, 0, self.d.logs())
        # libcurl calls its progress callback about once a second while a
        # transfer waits; the timeout is 60 s.
        self.assertLess(took, 5.0)
        row = h.psql(self.db, "SELECT state, next_attempt_at <= now(), last_error"
                              " FROM webhook_messages")
        self.assertEqual(len(row), 1, row)
        self.assertEqual((row[0][0], row[0][1]), ("pending", "t"), row)
        self.assertIn("stopped", row[0][2], self.d.logs())


class TenThousand(unittest.TestCase):
    """10,000 changes, delivered with none lost."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.rcv = W.Receiver()
        U.class_db(cls)
        cls.d = h.Daemon(cls.db, dict(FAST, VODHOOK_API_TOKEN="t0ken",
                                      VODHOOK_WEBHOOK_MAX_IN_FLIGHT="4"))
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop_checked()
        cls.rcv.stop()

    def test_ten_thousand(self):
        doc = W.create(self, self.d, self.rcv.url("/many"))
        self.rcv.config("/many", secrets=[doc["secret"]])
        for i in range(10):
            W.media_changes(self.db, "many%d" % i, 1000)
        got = W.wait_accepted(self, self.rcv, "/many", 10000, timeout=600)
        ids = {r["id"] for r in got}
        self.assertEqual(len(ids), 10000)
        names = {r["msg"]["data"]["media"]["file_id"] for r in got}
        self.assertEqual(len(names), 10000)
        self.assertTrue(all(r["verified"] == [True] for r in self.rcv.received("/many")))
        # No message was leased without being sent: each claim counts an
        # attempt, and each attempt sent is recorded. (A message committed
        # while a claim ran was once leased, not returned, and sent only
        # when its lease ended.)
        h.wait_for(lambda: h.psql(self.db, "SELECT count(*) FROM webhook_messages"
                                  " WHERE state = 'delivered'")[0][0] == "10000",
                   "every attempt recorded")
        self.assertEqual(h.psql(self.db, "SELECT count(*) FROM webhook_messages m"
                                " WHERE m.attempts <> (SELECT count(*) FROM"
                                " webhook_attempts a WHERE a.message_id = m.id)"),
                         [["0"]])


class Refused(unittest.TestCase):
    """Private addresses refused by default: at creation, and at delivery
    (a name that resolves elsewhere by then); a subscription that fails
    for longer than webhook_disable_after is disabled."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.rcv = W.Receiver()
        U.class_db(cls)
        cls.d = h.Daemon(cls.db, {
            "VODHOOK_API_TOKEN": "t0ken", "VODHOOK_WEBHOOK_ALLOW_HTTP": "1",
            "VODHOOK_WEBHOOK_RETRY_SCHEDULE": "200ms,200ms,200ms,200ms,200ms,200ms,"
                                              "200ms,200ms,200ms,200ms,200ms,200ms",
            "VODHOOK_WEBHOOK_POLL_MS": "50", "VODHOOK_WEBHOOK_DISABLE_AFTER": "1"})
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop_checked()
        cls.rcv.stop()

    def test_private_address_refused(self):
        st, _, doc = W.api(self.d, "POST", "/v1/webhooks", {"url": self.rcv.url("/p")})
        self.assertEqual(st, 403, doc)
        self.assertIn("webhook_allow_private_urls", doc["error"]["message"])
        st, _, doc = W.api(self.d, "POST", "/v1/webhooks", {"url": "https://[::1]/"})
        self.assertEqual(st, 403, doc)
        # As if the name had resolved to a public address at creation.
        sid = h.psql(self.db, "INSERT INTO webhook_subscriptions (id, url, secret)"
                              " VALUES (gen_random_uuid(), :'v1', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')"
                              " RETURNING id", self.rcv.url("/p"))[0][0]
        W.media_changes(self.db, "p", 1)
        sub = h.wait_for(lambda: (lambda d: d if not d["enabled"] else None)(
            W.api(self.d, "GET", "/v1/webhooks/" + sid)[2]), "the subscription to be disabled")
        self.assertTrue(sub["disabled_reason"].startswith("every delivery failed since"), sub)
        self.assertIsNotNone(sub["failing_since"])
        m = W.api(self.d, "GET", "/v1/webhooks/%s/messages" % sid)[2]["items"][0]
        self.assertIn("refused", m["last_error"])
        self.assertEqual(self.rcv.received("/p"), [])
        # Enabled again, it starts afresh.
        st, _, sub = W.api(self.d, "PATCH", "/v1/webhooks/" + sid, {"enabled": True})
        self.assertEqual((st, sub["enabled"], sub["failing_since"], sub["disabled_reason"]),
                         (200, True, None, None))


if __name__ == "__main__":
    unittest.main()


class Cli(unittest.TestCase):
    """vodhook webhooks ... does what the API does, on the database."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        U.class_db(cls, migrate=True)
        cls.env = {"VODHOOK_DATABASE_URL": cls.db, "VODHOOK_WEBHOOK_ALLOW_HTTP": "1",
                   "VODHOOK_WEBHOOK_ALLOW_PRIVATE_URLS": "1"}

    def cli(self, *args, rc=0, env=None):
        r = h.run(["webhooks"] + list(args), dict(self.env, **(env or {})))
        self.assertEqual(r.returncode, rc, r.stderr)
        return json.loads(r.stdout) if rc == 0 and r.stdout.strip() else r

    def test_create_list_update_rotate_delete(self):
        doc = self.cli("create", "--url", "http://127.0.0.1:9/h", "--kinds", "media",
                       "--states", "ready,failed", "--description", "app")
        sid, secret = doc["id"], doc["secret"]
        self.assertTrue(secret.startswith("whsec_"))
        self.assertEqual(doc["filter"], {"providers": None, "states": ["ready", "failed"],
                                         "kinds": ["media"]})
        listed = self.cli("list")
        self.assertEqual([s["id"] for s in listed["items"]], [sid])
        self.assertNotIn("whsec_", json.dumps(listed))
        self.assertFalse(self.cli("update", sid, "--disable")["enabled"])
        self.assertTrue(self.cli("update", sid, "--enable")["enabled"])
        rot = self.cli("rotate", sid, "--grace", "60")
        self.assertNotEqual(rot["secret"], secret)
        self.assertNotIn("whsec_", json.dumps(self.cli("show", sid)))
        self.assertEqual(self.cli("messages", sid), {"items": [], "next_cursor": None})
        self.assertEqual(self.cli("resend", sid, "--since", "2026-01-01T00:00:00Z"), {"resent": 0})
        r = self.cli("create", "--url", "http://10.1.2.3/", rc=2,
                     env={"VODHOOK_WEBHOOK_ALLOW_PRIVATE_URLS": "0"})
        self.assertIn("webhook_allow_private_urls", r.stderr)
        self.cli("delete", sid)
        r = self.cli("show", sid, rc=1)
        self.assertIn("no such webhook", r.stderr)


class Wake(unittest.TestCase):
    """A stored callback sends the delivery threads for its messages at once,
    whatever webhook_poll_ms says."""

    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.rcv = W.Receiver()
        U.start_ali_daemon(cls, EMU, dict(FAST, VODHOOK_WEBHOOK_POLL_MS="60000"))

    @classmethod
    def tearDownClass(cls):
        U.stop_daemon(cls.d)
        cls.rcv.stop()

    def test_stored_callback_wakes_the_threads(self):
        doc = W.create(self, self.d, self.rcv.url("/wake"))
        self.rcv.config("/wake", secrets=[doc["secret"]])
        # The threads looked once at start and next poll in 60 s: only the
        # callback's commit can send them in the 15 s waited here.
        st, _, res = self.d.client.json(
            "POST", "/callbacks/alibaba",
            V.body(V.alibaba_event("FileUploadComplete", "wake-1", Size=1000)),
            V.alibaba_headers(self.cb_url, U.ALI_KEY))
        self.assertEqual(st, 200, res)
        got = W.wait_accepted(self, self.rcv, "/wake", 1, timeout=15)
        self.assertEqual(got[0]["msg"]["data"]["media"]["file_id"], "wake-1")

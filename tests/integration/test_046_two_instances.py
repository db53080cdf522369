"""Two vodhook serve processes on one database, each with its own spool, as
the README's operations section says to scale out: callbacks sent to both
are stored once, jobs queued through both are uploaded once, a job of a
process killed mid-upload is finished by the other after its lease, Tencent
PULL mode on both stores and confirms each event once, and the reconciler on
both looks a record up once per interval. Real daemons, real PostgreSQL, the
cloud emulator."""
import json
import threading
import time
import unittest
import uuid

import harness as h
import test_002_callbacks as cb
import uploadlib as U
import vodevents as ve

EMU = None


def setUpModule():
    global EMU
    EMU = U.module_emu()


def tearDownModule():
    U.stop_emu(EMU)


def count(url, sql, *args):
    return int(h.psql(url, sql, *args)[0][0])


class TwoInstances(unittest.TestCase):
    def setUp(self):
        h.require_env(self)
        self.root = U.tmpdir()
        self.db = h.fresh_database()
        self.pair = []

    def tearDown(self):
        for d in self.pair:
            d.stop()
        EMU.ctl("reset", {})

    def start_pair(self, extra=None, first_only=False):
        """Two daemons on self.db, each with its own spool (Daemon gives
        each a directory of its own), settings upload_env + extra."""
        env = U.upload_env(EMU, self.root, dict({"VODHOOK_TENCENT_SIGN_KEY": cb.SIGN_KEY},
                                                **(extra or {})))
        for _ in range(1 if first_only else 2):
            self.pair.append(h.Daemon(self.db, env).start())
        return self.pair

    def test_callbacks_to_both_stored_once(self):
        a, b = self.start_pair()
        fids = ["2" + str(uuid.uuid4().int)[:18] for _ in range(40)]
        statuses = {}
        lock = threading.Lock()

        def deliver(d, order):
            c = cb.Client(d)  # d's own connection: one thread a daemon
            for fid in order:
                st, _, body = c.tencent(ve.tencent_new_file_upload(fid))
                self.assertEqual(st, 200, body)
                with lock:
                    statuses.setdefault(fid, []).append(body["status"])
        # The same deliveries to both at once, in opposite orders: each
        # event is stored by one and is a duplicate at the other.
        ts = [threading.Thread(target=deliver, args=(a, fids)),
              threading.Thread(target=deliver, args=(b, fids[::-1]))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(count(self.db, "SELECT count(*) FROM vod_events"), len(fids))
        self.assertEqual(count(self.db, "SELECT count(*) FROM media"), len(fids))
        for fid in fids:
            self.assertEqual(sorted(statuses[fid]), ["duplicate", "stored"], fid)

    def test_jobs_through_both_uploaded_once(self):
        a, b = self.start_pair()
        ids = []
        for i in range(6):
            path, _ = U.make_file(self.root, "both-%d.mp4" % i, 64 * 1024)
            d = (a, b)[i % 2]
            ids.append(U.submit(self, d, "tencent", {"path": path, "name": "both-%d" % i})["id"])
        for uid in ids:
            U.wait_state(a, uid, ("uploaded", "confirmed", "processing", "ready"))
        commits = EMU.calls("CommitUpload")
        self.assertEqual(len(commits), len(ids), commits)
        self.assertEqual(count(self.db, "SELECT count(DISTINCT file_id) FROM uploads"), len(ids))
        self.assertEqual(len(EMU.calls("ApplyUpload")), len(ids))

    def test_killed_mid_upload_finished_by_the_other(self):
        big = 24 * U.MIB
        path, md5 = U.make_file(self.root, "big.mp4", big)
        (a,) = self.start_pair(U.RESUMABLE, first_only=True)
        EMU.ctl("faults", {"rate_limit_bps": 2 * U.MIB})
        try:
            uid = U.submit(self, a, "tencent", {"path": path, "name": "big"})["id"]
            h.wait_for(lambda: U.checkpointed(self.db, uid) >= 2, "parts checkpointed",
                       timeout=60)
            # The second process starts while the first holds the job's
            # lease, so that the first is the one killed mid-upload.
            self.start_pair(U.RESUMABLE, first_only=True)
            b = self.pair[1]
            h.wait_for(lambda: U.checkpointed(self.db, uid) >= 4, "four parts checkpointed",
                       timeout=60)
            a.kill()
        finally:
            EMU.ctl("faults", {"rate_limit_bps": 0})
        done = U.wait_state(b, uid, ("uploaded", "confirmed", "processing", "ready"),
                            timeout=60)
        self.assertIn("file_id", done)
        m = EMU.md5_size(done["file_id"])
        self.assertEqual(m, (md5, big))
        self.assertEqual(len(EMU.calls("CommitUpload")), 1)

    def test_pull_mode_on_both(self):
        EMU.ctl("config", {"tencent_event_mode": "pull"})
        self.start_pair({"VODHOOK_TENCENT_EVENT_MODE": "pull"})
        t0 = U.now()
        fids = ["5" + str(uuid.uuid4().int)[:18] for _ in range(20)]
        for fid in fids:
            EMU.ctl("tencent/event", ve.tencent_new_file_upload(fid))
        h.wait_for(lambda: count(self.db, "SELECT count(*) FROM vod_events"
                                          " WHERE received_via = 'pull'") == len(fids),
                   "every pulled event to be stored")

        def confirmed():
            hs = []
            for c in EMU.calls("ConfirmEvents", since=t0):
                v = c["params"].get("EventHandles") or []
                hs += [v] if isinstance(v, str) else v
            return hs
        h.wait_for(lambda: len(confirmed()) >= len(fids), "every event confirmed")
        self.assertEqual(len(confirmed()), len(set(confirmed())))
        self.assertEqual(len(confirmed()), len(fids))
        self.assertEqual(count(self.db, "SELECT count(*) FROM vod_events"), len(fids))

    def test_reconciler_on_both(self):
        EMU.ctl("faults", {"callbacks": "drop", "repeat": True})
        a, b = self.start_pair({"VODHOOK_RECONCILE_AFTER": "1",
                                "VODHOOK_RECONCILE_INTERVAL_MS": "100"})
        ids = []
        for i in range(4):
            path, _ = U.make_file(self.root, "quiet-%d.mp4" % i, 64 * 1024)
            ids.append(U.submit(self, (a, b)[i % 2], "tencent",
                                {"path": path, "name": "quiet-%d" % i})["id"])
        fids = [U.wait_state(a, uid, ("ready", "failed"))["file_id"] for uid in ids]
        for fid in fids:
            times = sorted(c["t"] for c in EMU.calls("DescribeMediaInfos")
                           if fid in json.dumps(c["params"]))
            self.assertGreaterEqual(len(times), 1, fid)
            # Looked up again only after reconcile_after, whichever
            # process looked.
            for t1, t2 in zip(times, times[1:]):
                self.assertGreaterEqual(t2 - t1, 0.9, (fid, times))


if __name__ == "__main__":
    unittest.main()

"""vodhook check: each check's line and the exit status, against the real
PostgreSQL and the emulator (which verifies signatures as the platforms do):
good and wrong cloud keys, a database that does not answer, a spool
directory that cannot be written."""
import os
import re
import unittest

import harness as h
import uploadlib as U
from pki import Pki

EMU = None


def setUpModule():
    global EMU
    EMU = U.module_emu()


def tearDownModule():
    U.stop_emu(EMU)


def lines(out):
    """{check name: (status, note)} from check's output."""
    got = {}
    for line in out.stdout.splitlines():
        m = re.match(r"^(ok|skip|FAIL)\s+(\S+)\s+(.*)$", line)
        if m is None:
            raise AssertionError("unexpected line %r in:\n%s" % (line, out.stdout))
        got[m.group(2)] = (m.group(1), m.group(3))
    return got


class Check(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.require_env(cls)
        cls.url = h.fresh_database()

    def setUp(self):
        self.dir = h.tmpdir("vodhook-check-")

    def env(self, **extra):
        env = {
            "VODHOOK_DATABASE_URL": self.url,
            "VODHOOK_SPOOL_DIR": os.path.join(self.dir, "spool"),
            "VODHOOK_TENCENT_CALLBACK_TOKEN": "t0ken",
            "VODHOOK_CONNECT_TO": "::127.0.0.1:%d" % EMU.https,
            "VODHOOK_CA_FILE": EMU.ca,
            "VODHOOK_TENCENT_SECRET_ID": "AKIDemu",
            "VODHOOK_TENCENT_SECRET_KEY": "emusecret",
            "VODHOOK_ALIBABA_ACCESS_KEY_ID": "LTAIemu",
            "VODHOOK_ALIBABA_ACCESS_KEY_SECRET": "emusecret",
            "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
        }
        env.update(extra)
        return {k: v for k, v in env.items() if v is not None}

    def check(self, **extra):
        out = h.run(["check"], self.env(**extra))
        return out, lines(out)

    def test_all_good(self):
        out, got = self.check()
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(list(got), ["settings", "database", "spool", "tls",
                                     "tencent", "alibaba"])
        for name in ("settings", "database", "spool", "tencent", "alibaba"):
            self.assertEqual(got[name][0], "ok", got[name])
        self.assertEqual(got["tls"][0], "skip")
        self.assertIn("not migrated", got["database"][1])
        self.assertIn("DescribeMediaInfos", got["tencent"][1])
        self.assertIn("GetVideoInfo", got["alibaba"][1])
        self.assertEqual(os.listdir(os.path.join(self.dir, "spool")), [],
                         "the spool probe was left behind")
        # The calls were signed and accepted: the emulator rejected none.
        self.assertEqual([r for r in EMU.e.rejections()
                          if r.get("action") in ("DescribeMediaInfos", "GetVideoInfo")],
                         [])

    def test_https_files(self):
        # Loaded by the listener's own code: a good pair passes, a key of another certificate
        # fails naming the setting, and the check never serves.
        pki = Pki()
        cert, key = pki.server("good", 1)
        _, other_key = pki.server("other", 2)
        out, got = self.check(VODHOOK_TLS_LISTEN="127.0.0.1:0", VODHOOK_TLS_CERT_FILE=cert,
                              VODHOOK_TLS_KEY_FILE=key)
        self.assertEqual(got["tls"][0], "ok", out.stdout + out.stderr)
        out, got = self.check(VODHOOK_TLS_LISTEN="127.0.0.1:0", VODHOOK_TLS_CERT_FILE=cert,
                              VODHOOK_TLS_KEY_FILE=other_key)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertEqual(got["tls"][0], "FAIL")
        self.assertIn("tls_key_file", got["tls"][1])

    def test_migrated_database(self):
        self.assertEqual(h.run(["migrate"], self.env()).returncode, 0)
        out, got = self.check()
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertRegex(got["database"][1], r"^reachable, schema version \d+$")

    def test_clouds_not_configured_are_skipped(self):
        out, got = self.check(VODHOOK_TENCENT_SECRET_ID=None,
                              VODHOOK_TENCENT_SECRET_KEY=None,
                              VODHOOK_ALIBABA_ACCESS_KEY_ID=None,
                              VODHOOK_ALIBABA_ACCESS_KEY_SECRET=None)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(got["tencent"][0], "skip")
        self.assertEqual(got["alibaba"][0], "skip")

    def test_wrong_cloud_keys_give_the_platform_code(self):
        out, got = self.check(VODHOOK_TENCENT_SECRET_KEY="wrong",
                              VODHOOK_ALIBABA_ACCESS_KEY_ID="LTAIunknown")
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertEqual(got["tencent"][0], "FAIL")
        self.assertIn("AuthFailure.SignatureFailure", got["tencent"][1])
        self.assertEqual(got["alibaba"][0], "FAIL")
        self.assertIn("InvalidAccessKeyId.NotFound", got["alibaba"][1])
        self.assertEqual(got["database"][0], "ok")
        out, got = self.check(VODHOOK_TENCENT_SECRET_ID="AKIDunknown",
                              VODHOOK_ALIBABA_ACCESS_KEY_SECRET="wrong")
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("AuthFailure.SecretIdNotFound", got["tencent"][1])
        self.assertIn("SignatureDoesNotMatch", got["alibaba"][1])
        for secret in ("wrong", "emusecret"):
            self.assertNotIn(secret, out.stdout + out.stderr)

    def test_database_down(self):
        # A port nothing listens on: the connection is refused.
        url = "postgresql://vodhook@127.0.0.1:%d/vodhook" % h.free_port()
        out, got = self.check(VODHOOK_DATABASE_URL=url)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertEqual(got["database"][0], "FAIL")
        self.assertIn("database_url", got["database"][1])
        self.assertEqual(got["tencent"][0], "ok", "each check runs")

    def test_spool_not_writable(self):
        # A regular file where a directory is needed: not writable even by
        # root, which ignores permission bits.
        blocker = os.path.join(self.dir, "file")
        open(blocker, "w").close()
        out, got = self.check(VODHOOK_SPOOL_DIR=os.path.join(blocker, "spool"))
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertEqual(got["spool"][0], "FAIL")
        self.assertIn("spool_dir", got["spool"][1])
        self.assertIn("Not a directory", got["spool"][1])

    def test_settings_that_do_not_go_together(self):
        out, got = self.check(VODHOOK_TENCENT_CALLBACK_TOKEN=None)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertEqual(got["settings"][0], "FAIL")
        self.assertIn("tencent_allow_unverified", got["settings"][1])

    def test_bad_setting_stops_before_any_check(self):
        out = h.run(["check"], self.env(VODHOOK_THREADS="0"))
        self.assertEqual(out.returncode, 2)
        self.assertIn('"threads"', out.stderr)
        self.assertEqual(out.stdout, "")


if __name__ == "__main__":
    unittest.main()

"""The official Node clients (vod-node-sdk 1.1.0, ali-oss 6.23.0) agree with the emulator.

npm install goes into tests/emulator/node/node_modules (gitignored, reused when the pinned versions are
already there).  If it cannot be installed the test FAILS, unless VODHOOK_SKIP_NODE=1.
"""
import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emu_testlib import Emulator, md5hex, wait_for  # noqa: E402

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")
PINS = {"vod-node-sdk": "1.1.0", "ali-oss": "6.23.0"}


def installed():
    for name, ver in PINS.items():
        p = os.path.join(NODE_DIR, "node_modules", name, "package.json")
        try:
            with open(p) as f:
                if json.load(f).get("version") != ver:
                    return False
        except (OSError, ValueError):
            return False
    return True


def ensure_node_modules():
    if installed():
        return None
    if not shutil.which("npm") or not shutil.which("node"):
        return "node/npm not found"
    p = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR,
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0 or not installed():
        return "npm install failed (rc=%s): %s" % (p.returncode, (p.stderr or p.stdout)[-2000:])
    return None


@unittest.skipIf(os.environ.get("VODHOOK_SKIP_NODE") == "1", "VODHOOK_SKIP_NODE=1")
class NodeClientsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        err = ensure_node_modules()
        if err:
            raise AssertionError(err)
        cls.emu = Emulator()

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def test_official_clients_upload(self):
        files = {}
        for name, size in (("small.mp4", 150 * 1024 + 1), ("big.mp4", 3 * 1024 * 1024 + 4321)):
            data = os.urandom(size)
            p = os.path.join(self.emu.tmp, name)
            with open(p, "wb") as f:
                f.write(data)
            files[p] = data
        small, big = list(files)
        env = dict(os.environ, EMU_HTTPS_PORT=str(self.emu.https), NODE_EXTRA_CA_CERTS=self.emu.ca)
        p = subprocess.run(["node", "--require", os.path.join(NODE_DIR, "preload.js"),
                            os.path.join(NODE_DIR, "run_clients.js"), small, big],
                           cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        out = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertEqual(self.emu.rejections(), [])
        objs = self.emu.objects()
        # Tencent: the committed media are exactly the files
        media = {m["id"]: m for m in self.emu.ctl("media")}
        for r in out["tencent"]:
            m = media[r["FileId"]]
            o = objs[(m["bucket"], m["key"])]
            self.assertEqual((o["size"], o["md5"]), (len(files[r["File"]]), md5hex(files[r["File"]])))
        for r in out["alibaba"]:
            o = objs[(r["Bucket"], r["Key"])]
            self.assertEqual((o["size"], o["md5"]), (len(files[r["File"]]), md5hex(files[r["File"]])))
            wait_for(lambda: self.emu.ctl("media") and
                     {m["id"]: m for m in self.emu.ctl("media")}[r["VideoId"]]["state"] == "Normal",
                     what="video %s Normal" % r["VideoId"])
        calls = self.emu.calls()
        kinds = {(c["service"], c["action"]) for c in calls}
        for k in [("vod-tencent", "ApplyUpload"), ("vod-tencent", "CommitUpload"), ("cos", "UploadPart"),
                  ("cos", "CompleteMultipartUpload"), ("vod-alibaba", "CreateUploadVideo"), ("oss", "PutObject"),
                  ("oss", "UploadPart"), ("oss", "CompleteMultipartUpload")]:
            self.assertIn(k, kinds)
        self.assertGreaterEqual(len([c for c in calls if c["service"] == "oss" and c["action"] == "UploadPart"]), 4)
        auths = {c.get("auth") for c in calls if c["service"] == "vod-tencent"}
        self.assertTrue(auths, auths)


if __name__ == "__main__":
    unittest.main()

"""Helpers for the upload tests: the cloud emulator, test files, job polling.

The emulator (tests/emulator/emulator.py) runs once per test module; vodhook
reaches it through VODHOOK_CONNECT_TO, over plain http (allow_http) where TLS
is not under test, or over https trusting the emulator's test CA.
"""
import hashlib
import json
import os
import sys
import tempfile
import time
import urllib.request

import harness as h

sys.path.insert(0, os.path.join(h.SOURCE_DIR, "tests", "emulator"))
import emu_testlib  # noqa: E402

MIB = 1024 * 1024


class Emu:
    def __init__(self):
        self.e = emu_testlib.Emulator()
        self.http = self.e.http
        self.https = self.e.https
        self.ca = self.e.ca

    def stop(self):
        self.e.stop()

    def ctl(self, path, data=None, method=None):
        url = "http://127.0.0.1:%d/_emu/%s" % (self.http, path)
        body = None if data is None else json.dumps(data).encode()
        req = urllib.request.Request(url, data=body, method=method or ("POST" if body is not None else "GET"))
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"null")

    def calls(self, action=None, since=0.0):
        return [c for c in self.ctl("calls")
                if (action is None or c["action"] == action) and c["t"] >= since]

    def objects(self):
        return self.ctl("objects")

    def object_url(self, bucket, key):
        return "http://127.0.0.1:%d/_emu/object?bucket=%s&key=%s" % (self.http, bucket, key)

    def env(self, tls=False):
        """vodhook settings pointing at this emulator."""
        if tls:
            return {"VODHOOK_CONNECT_TO": "::127.0.0.1:%d" % self.https,
                    "VODHOOK_CA_FILE": self.ca,
                    "VODHOOK_TENCENT_API_URL": "https://vod.tencentcloudapi.com",
                    "VODHOOK_TENCENT_SECRET_ID": "AKIDemu",
                    "VODHOOK_TENCENT_SECRET_KEY": "emusecret"}
        return {"VODHOOK_CONNECT_TO": "::127.0.0.1:%d" % self.http,
                "VODHOOK_ALLOW_HTTP": "1",
                "VODHOOK_TENCENT_API_URL": "http://vod.tencentcloudapi.com",
                "VODHOOK_TENCENT_SECRET_ID": "AKIDemu",
                "VODHOOK_TENCENT_SECRET_KEY": "emusecret"}


def make_file(directory, name, size):
    """A file of size pseudo-random bytes; returns (path, md5 hex)."""
    path = os.path.join(directory, name)
    md5 = hashlib.md5()
    with open(path, "wb") as f:
        left, seed = size, os.urandom(MIB)
        while left > 0:
            chunk = seed[:min(left, MIB)]
            # Vary each MiB so that parts differ from one another.
            chunk = hashlib.sha256(chunk[:64] + left.to_bytes(8, "big")).digest() + chunk[32:]
            chunk = chunk[:min(left, MIB)]
            f.write(chunk)
            md5.update(chunk)
            left -= len(chunk)
    return path, md5.hexdigest()


def upload_env(emu, root, extra=None, tls=False):
    env = emu.env(tls=tls)
    env.update({"VODHOOK_API_TOKEN": "t0ken",
                "VODHOOK_UPLOAD_ROOT": root,
                "VODHOOK_UPLOAD_TMP_DIR": root,
                "VODHOOK_UPLOAD_POLL_MS": "50",
                "VODHOOK_UPLOAD_WORKERS": "2"})
    env.update(extra or {})
    return env


AUTH = {"Authorization": "Bearer t0ken", "Content-Type": "application/json"}


def post_upload(daemon, body):
    return daemon.client.json("POST", "/v1/uploads", body, AUTH)


def get_upload(daemon, uid):
    st, _, doc = daemon.client.json("GET", "/v1/uploads/" + uid, None, AUTH)
    assert st == 200, (st, doc)
    return doc


def wait_state(daemon, uid, states, timeout=h.WAIT):
    last = {}

    def done():
        last["doc"] = get_upload(daemon, uid)
        return last["doc"]["state"] in states
    try:
        h.wait_for(done, "upload %s to reach %s" % (uid, states), timeout=timeout)
    except AssertionError:
        raise AssertionError("upload %s: %s\n%s" % (uid, json.dumps(last.get("doc"), indent=1),
                                                    daemon.logs()[-4000:]))
    return last["doc"]


def object_md5(emu, key_suffix=None, file_id=None):
    for m in emu.ctl("media"):
        if m.get("file_id") == file_id:
            for o in emu.objects():
                if o["key"] == m["key"]:
                    return o["md5"], o["size"]
    return None, None


def tmpdir():
    return tempfile.mkdtemp(prefix="vodhook-up-")


def now():
    return time.time()

"""The webhook receiver of the integration tests (webhook_receiver/): a Node
process that checks every signature with the Standard Webhooks reference
library from npm (standardwebhooks, pinned in its package.json), not with
vodhook's code. npm installs it into webhook_receiver/node_modules
(gitignored) on first use; a failure to install fails the test.
"""
import json
import os
import shutil
import subprocess
import time
import urllib.request

import harness as h

DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "webhook_receiver")
PIN = "1.3.0"
AUTH = {"Authorization": "Bearer t0ken", "Content-Type": "application/json"}


def installed():
    try:
        with open(os.path.join(DIR, "node_modules", "standardwebhooks", "package.json")) as f:
            return json.load(f).get("version") == PIN
    except (OSError, ValueError):
        return False


def ensure_installed():
    if installed():
        return
    if not shutil.which("npm") or not shutil.which("node"):
        raise AssertionError("node and npm are needed (deploy/deps.sh --test)")
    p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=DIR, capture_output=True, text=True, timeout=600)
    if p.returncode != 0 or not installed():
        raise AssertionError("npm ci failed: %s" % (p.stderr or p.stdout)[-2000:])


class Receiver:
    """One receiver process on 127.0.0.1 (port: a free one unless given)."""

    def __init__(self, port=None):
        ensure_installed()
        d = h.tmpdir("vodhook-recv-")
        self.port_file = os.path.join(d, "port")
        self.log = open(os.path.join(d, "receiver.log"), "ab")
        args = ["node", os.path.join(DIR, "receiver.js"), self.port_file]
        if port:
            args.append(str(port))
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        h.wait_for(self._port, "the webhook receiver to listen")
        self.port = int(self._port())

    def _port(self):
        try:
            with open(self.port_file) as f:
                return f.read()
        except OSError:
            return None

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def ctl(self, path, data=None):
        req = urllib.request.Request("http://127.0.0.1:%d/_ctl/%s" % (self.port, path),
                                     data=json.dumps(data).encode() if data is not None else None,
                                     method="POST" if data is not None else "GET")
        with urllib.request.urlopen(req, timeout=h.WAIT) as r:
            return json.loads(r.read())

    def config(self, path, **kw):
        kw["path"] = path
        self.ctl("config", kw)

    def received(self, path):
        return self.ctl("received?path=" + path)

    def arrived(self, path):
        """How many requests reached path, answered or not yet."""
        return self.ctl("arrived?path=" + path)["n"]

    def accepted(self, path):
        """The messages answered 2xx, in arrival order, bodies parsed."""
        out = []
        for r in self.received(path):
            if r["status"] < 300:
                r["msg"] = json.loads(r["body"])
                out.append(r)
        return out

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()


def create(tc, d, url, **body):
    body["url"] = url
    st, _, doc = d.client.json("POST", "/v1/webhooks", body, AUTH)
    tc.assertEqual(st, 201, doc)
    tc.assertTrue(doc["secret"].startswith("whsec_"), doc)
    return doc


def api(d, method, path, body=None):
    return d.client.json(method, path, body, AUTH)


def media_changes(db, prefix, n, provider="tencent"):
    """n new media records (uploaded), one change each, in one statement."""
    h.psql(db, "INSERT INTO media (provider, file_id, state, state_rank)"
               " SELECT :'v1', :'v2' || '-' || i, 'uploaded', 1"
               " FROM generate_series(1, :v3) i", provider, prefix, n)


def wait_accepted(tc, rcv, path, n, timeout=None):
    """Wait for n distinct messages answered 2xx at path; returns them."""
    def done():
        got = rcv.accepted(path)
        return got if len({r["id"] for r in got}) >= n else None
    return h.wait_for(done, "%d messages at %s" % (n, path), timeout=timeout,
                      interval=0.1)


def when(cond):
    t = time.monotonic()
    h.wait_for(cond, "a condition")
    return time.monotonic() - t

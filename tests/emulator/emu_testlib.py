"""Helpers for the emulator tests: start/stop the emulator, drive it with curl, independent signers.

The signing code here is deliberately written separately from emu_sig.py (the emulator's verifier) so
that the tests are an independent check of the emulator.
"""
import atexit
import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
_CA_DIR = None


def ca_dir():
    global _CA_DIR
    if _CA_DIR is None:
        d = tempfile.mkdtemp(prefix="emu-ca-")
        atexit.register(shutil.rmtree, d, True)
        subprocess.run(["sh", os.path.join(HERE, "gen_ca.sh"), d], check=True, stdout=subprocess.DEVNULL)
        _CA_DIR = d
    return _CA_DIR


def wait_for(pred, timeout=15.0, interval=0.02, what="condition"):
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


class Emulator:
    def __init__(self, *extra):
        self.tmp = tempfile.mkdtemp(prefix="emu-test-")
        ca = ca_dir()
        self.ca = os.path.join(ca, "ca.pem")
        pf = os.path.join(self.tmp, "port.json")
        cmd = [sys.executable, os.path.join(HERE, "emulator.py"), "--https-port", "0", "--http-port", "0",
               "--port-file", pf, "--cert", os.path.join(ca, "server.pem"), "--key", os.path.join(ca, "server.key"),
               "--state-dir", os.path.join(self.tmp, "state")] + list(extra)
        self.log = open(os.path.join(self.tmp, "emu.log"), "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("emulator exited: %s" % open(os.path.join(self.tmp, "emu.log")).read())
            return os.path.exists(pf)
        wait_for(ready, 20, what="emulator port file")
        with open(pf) as f:
            info = json.load(f)
        self.https = info["https"]
        self.http = info["http"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # control API over plain HTTP
    def ctl(self, path, data=None):
        url = "http://127.0.0.1:%d/_emu/%s" % (self.http, path)
        body = None if data is None else json.dumps(data).encode()
        req = urllib.request.Request(url, data=body, method="POST" if data is not None else "GET")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def reset(self):
        return self.ctl("reset", {})

    def objects(self):
        return {(o["bucket"], o["key"]): o for o in self.ctl("objects")}

    def rejections(self):
        return self.ctl("rejections")

    def calls(self, action=None):
        c = self.ctl("calls")
        return [x for x in c if action is None or x["action"] == action]

    def curl(self, method, host, path, headers=None, data=None, data_file=None, https=True, extra=()):
        """Returns (status, headers-dict (lower-case), body bytes)."""
        port = self.https if https else self.http
        scheme = "https" if https else "http"
        d = tempfile.mkdtemp(prefix="curl-", dir=self.tmp)
        hf, bf = os.path.join(d, "h"), os.path.join(d, "b")
        cmd = ["curl", "-sS", "-X", method, "--connect-to", "::127.0.0.1:%d" % port, "--cacert", self.ca,
               "-D", hf, "-o", bf, "-w", "%{http_code}", "--max-time", "60"]
        for k, v in (headers or {}).items():
            if v is None:
                cmd += ["-H", "%s:" % k]          # remove a header curl would add
            elif v == "":
                cmd += ["-H", "%s;" % k]          # send an empty header
            else:
                cmd += ["-H", "%s: %s" % (k, v)]
        if data is not None:
            df = os.path.join(d, "d")
            with open(df, "wb") as f:
                f.write(data if isinstance(data, bytes) else data.encode())
            cmd += ["--data-binary", "@" + df]
        if data_file is not None:
            cmd += ["-T", data_file]
        cmd += list(extra)
        cmd.append("%s://%s%s" % (scheme, host, path))
        p = subprocess.run(cmd, capture_output=True)
        code = int(p.stdout.decode() or 0) if p.stdout.strip().isdigit() else 0
        hdrs = {}
        if os.path.exists(hf):
            with open(hf, "rb") as fh:
                raw = fh.read()
            for line in raw.decode("latin-1").split("\r\n"):
                if ":" in line:
                    k, v = line.split(":", 1)
                    hdrs[k.strip().lower()] = v.strip()
        body = b""
        if os.path.exists(bf):
            with open(bf, "rb") as fb:
                body = fb.read()
        shutil.rmtree(d, ignore_errors=True)
        return code, hdrs, body, p.returncode, p.stderr.decode()


# -------------------------------------------------------------------------------------------------
# Callback receiver
# -------------------------------------------------------------------------------------------------

class Receiver:
    def __init__(self, status=200):
        self.got = []
        self.status = status
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                outer.got.append({"path": self.path, "headers": dict(self.headers.items()), "body": body,
                                  "t": time.time()})
                self.send_response(outer.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def do_GET(self):
                # serves files for UploadMediaByURL tests
                data = outer.files.get(self.path)
                if data is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.files = {}
        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        self.url = "http://127.0.0.1:%d/cb" % self.port
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def json(self):
        return [json.loads(g["body"]) for g in self.got]

    def wait(self, n, timeout=15):
        return wait_for(lambda: len(self.got) >= n and self.got, timeout, what="%d callbacks (have %d)" % (n, len(self.got)))

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


# -------------------------------------------------------------------------------------------------
# Independent signers
# -------------------------------------------------------------------------------------------------

def enc(s, safe=""):
    return urllib.parse.quote(s.encode() if isinstance(s, str) else s, safe=safe + "-_.~")


def tc3_headers(secret_id, secret_key, action, payload, host="vod.tencentcloudapi.com", ts=None,
                region="ap-guangzhou", ctype="application/json; charset=utf-8", date=None, service="vod"):
    ts = int(time.time()) if ts is None else ts
    date = date or time.strftime("%Y-%m-%d", time.gmtime(ts))
    canon = "POST\n/\n\ncontent-type:%s\nhost:%s\n\ncontent-type;host\n%s" % (
        ctype, host, hashlib.sha256(payload).hexdigest())
    scope = "%s/%s/tc3_request" % (date, service)
    sts = "TC3-HMAC-SHA256\n%d\n%s\n%s" % (ts, scope, hashlib.sha256(canon.encode()).hexdigest())

    def hm(k, m):
        return hmac.new(k, m.encode(), hashlib.sha256).digest()
    k = hm(hm(hm(("TC3" + secret_key).encode(), date), service), "tc3_request")
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    return {"Authorization": "TC3-HMAC-SHA256 Credential=%s/%s, SignedHeaders=content-type;host, Signature=%s"
            % (secret_id, scope, sig),
            "Content-Type": ctype, "X-TC-Action": action, "X-TC-Version": "2018-07-17",
            "X-TC-Timestamp": str(ts), "X-TC-Region": region}


def tc_call(emu, action, params, sid="AKIDemu", skey="emusecret", **kw):
    payload = json.dumps(params).encode()
    h = tc3_headers(sid, skey, action, payload, **kw)
    code, _, body, rc, err = emu.curl("POST", kw.get("host", "vod.tencentcloudapi.com"), "/", h, payload)
    assert code == 200, (code, body, err)
    return json.loads(body)["Response"]


def cos_auth(ak, sk, method, path, params=None, headers=None, start=None, ttl=600):
    start = int(time.time()) - 10 if start is None else start
    kt = "%d;%d" % (start, start + ttl)
    params = params or {}
    headers = headers or {}
    pl = sorted((enc(k).lower(), enc(v)) for k, v in params.items())
    hl = sorted((enc(k).lower(), enc(v)) for k, v in headers.items())
    http_string = "%s\n%s\n%s\n%s\n" % (method.lower(), urllib.parse.unquote(path),
                                        "&".join("%s=%s" % x for x in pl), "&".join("%s=%s" % x for x in hl))
    sts = "sha1\n%s\n%s\n" % (kt, hashlib.sha1(http_string.encode()).hexdigest())
    signkey = hmac.new(sk.encode(), kt.encode(), hashlib.sha1).hexdigest()
    sig = hmac.new(signkey.encode(), sts.encode(), hashlib.sha1).hexdigest()
    return ("q-sign-algorithm=sha1&q-ak=%s&q-sign-time=%s&q-key-time=%s&q-header-list=%s&q-url-param-list=%s"
            "&q-signature=%s" % (ak, kt, kt, ";".join(k for k, _ in hl), ";".join(k for k, _ in pl), sig))


def ali_rpc_query(ak, secret, action, params, method="GET", ts=None, nonce=None):
    p = {"Action": action, "Format": "JSON", "Version": "2017-03-21", "AccessKeyId": ak,
         "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
         "SignatureNonce": nonce or os.urandom(16).hex(),
         "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts if ts is not None else time.time()))}
    p.update(params)
    cq = "&".join("%s=%s" % (enc(k), enc(v)) for k, v in sorted(p.items()))
    sts = method + "&%2F&" + enc(cq)
    sig = base64.b64encode(hmac.new((secret + "&").encode(), sts.encode(), hashlib.sha1).digest()).decode()
    return cq + "&Signature=" + enc(sig)


def ali_call(emu, action, params, ak="LTAIemu", secret="emusecret", host="vod.cn-shanghai.aliyuncs.com", **kw):
    q = ali_rpc_query(ak, secret, action, params, **kw)
    code, _, body, rc, err = emu.curl("GET", host, "/?" + q)
    return code, json.loads(body) if body else None


def oss_v1_auth(ak, sk, method, bucket, key, headers, sub=""):
    oss_h = sorted((k.lower(), v.strip()) for k, v in headers.items() if k.lower().startswith("x-oss-"))
    canon_h = "".join("%s:%s\n" % kv for kv in oss_h)
    res = "/%s/%s%s" % (bucket, key, sub)
    sts = "%s\n%s\n%s\n%s\n%s%s" % (method, headers.get("Content-MD5", ""), headers.get("Content-Type", ""),
                                    headers.get("Date", ""), canon_h, res)
    return "OSS %s:%s" % (ak, base64.b64encode(hmac.new(sk.encode(), sts.encode(), hashlib.sha1).digest()).decode())


def http_date(t=None):
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() if t is None else t))


def md5hex(b):
    return hashlib.md5(b).hexdigest()


def _crc64_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xC96C5795D7870F42 if c & 1 else c >> 1
        t.append(c)
    return t


_CRC64 = _crc64_table()


def crc64(b):
    """CRC-64/XZ (COS/OSS "crc64ecma") from its definition, written apart from the emulator's."""
    c = 0xFFFFFFFFFFFFFFFF
    t = _CRC64
    for x in b:
        c = t[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFFFFFFFFFF

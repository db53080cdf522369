"""A test certificate authority and server certificates for 127.0.0.1, made
with the openssl CLI in a directory of the test's (removed at exit)."""
import json
import os
import subprocess

import harness as h


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   capture_output=True, timeout=60)


class Pki:
    def __init__(self):
        self.dir = h.tmpdir("vodhook-pki-")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
                "-out", "ca.pem", "-subj", "/CN=vodhook test CA", "-days", "2",
                cwd=self.dir)
        with open(self.path("san.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        self.ca = self.path("ca.pem")

    def path(self, name):
        return os.path.join(self.dir, name)

    def server(self, name, serial):
        """(certificate, key) paths: name.pem, signed by the CA, and name.key."""
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
                "-subj", "/CN=localhost", cwd=self.dir)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem",
                "-CAkey", "ca.key", "-set_serial", str(serial), "-days", "2",
                "-out", name + ".pem", "-extfile", "san.ext", cwd=self.dir)
        return self.path(name + ".pem"), self.path(name + ".key")


def curl(pki, url, body=None, headers=None):
    """(status, parsed JSON body) of one request through curl, trusting only
    the test CA."""
    cmd = ["curl", "-sS", "--max-time", "20", "--cacert", pki.ca,
           "-o", "-", "-w", "\n%{http_code}", url]
    for k, v in (headers or {}).items():
        cmd += ["-H", "%s: %s" % (k, v)]
    if body is not None:
        cmd += ["--data-binary", "@-", "-H", "Content-Type: application/json"]
    out = subprocess.run(cmd, input=body, capture_output=True, timeout=30)
    if out.returncode != 0:
        raise AssertionError("curl failed: %s" % out.stderr.decode())
    text, _, code = out.stdout.decode().rpartition("\n")
    try:
        doc = json.loads(text) if text else None
    except ValueError:
        doc = text
    return int(code), doc

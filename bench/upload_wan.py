"""The WAN-like half of bench/upload.sh (--wan): one file sent to the
emulator's COS over TLS while the emulator reads each connection's body at
RATE_MB MB/s and answers each request DELAY_MS late (tests/emulator,
rate_limit_bps and request_delay_ms), in one run on the same file:

- curl -T on one connection (the per-connection ceiling);
- curl sending the parts (8 MiB) with a fixed parallelism of 4, 8 and 16;
- vodhook's defaults (Tencent and Alibaba), and its parts in flight over
  time as the emulator counted them;
- the official Node clients (tests/emulator/node) with their defaults;
- vodhook's peak RSS for an RSS_MIB file in the same conditions.

    upload_wan.py TOP VODHOOK WORK SIZE_MIB RSS_MIB RATE_MB DELAY_MS

Python standard library only; the emulator is started here (https, its test
CA). A benchmark, not a test: one run of each, figures printed.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

top, binary, work = sys.argv[1:4]
size_mib, rss_mib, rate_mb, delay_ms = map(int, sys.argv[4:8])
sys.path.insert(0, os.path.join(top, "tests", "emulator"))
import emu_testlib as T  # noqa: E402

MIB = 1 << 20
PART_MIB = 8
NODE_DIR = os.path.join(top, "tests", "emulator", "node")
EMU = T.Emulator()
PORT = EMU.https


def ctl(path, data=None):
    req = urllib.request.Request("http://127.0.0.1:%d/_emu/%s" % (EMU.http, path),
                                 data=None if data is None else json.dumps(data).encode(),
                                 method="GET" if data is None else "POST")
    return json.loads(urllib.request.urlopen(req).read())


def wan(on):
    ctl("faults", {"rate_limit_bps": rate_mb * 1000000 if on else 0,
                   "request_delay_ms": delay_ms if on else 0})


def make(path, mib):
    block = os.urandom(MIB)
    with open(path, "wb") as f:
        for i in range(mib):
            f.write(block[:-8] + i.to_bytes(8, "big"))


def timed(cmd, env=None):
    """Run cmd; (seconds, peak RSS MiB, stdout). Fails the benchmark if it fails.
    The peak RSS is GNU time's (%M): the rusage of a process forked from this
    one would count this Python process's pages, copied before the exec."""
    rss_file = os.path.join(work, "rss")
    t = time.monotonic()
    with open(os.path.join(work, "run.err"), "w+") as err:
        p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file] + cmd, env=env,
                           stdout=subprocess.PIPE, stderr=err)
        dt = time.monotonic() - t
        out = p.stdout.decode()
        if p.returncode != 0:
            err.seek(0)
            raise SystemExit("%s failed: %s%s" % (cmd[0], out[-1000:], err.read()[-2000:]))
    with open(rss_file) as f:
        return dt, int(f.read().split()[-1]) / 1024.0, out


def vodhook_env(extra=None):
    e = dict(os.environ)
    e.pop("VODHOOK_ALLOW_HTTP", None)  # http would reach the TLS port
    e.update({"VODHOOK_CONNECT_TO": "::127.0.0.1:%d" % PORT, "VODHOOK_CA_FILE": EMU.ca,
              "VODHOOK_TENCENT_API_URL": "https://vod.tencentcloudapi.com",
              "VODHOOK_ALIBABA_API_URL": "https://vod.cn-shanghai.aliyuncs.com"})
    e.update(extra or {})
    return e


def vodhook(provider, path, extra=None):
    dt, rss, out = timed([binary, "upload", "--provider", provider, path], vodhook_env(extra))
    if "file_id:" not in out:
        raise SystemExit("vodhook upload failed: " + out)
    return dt, rss


def cos_url(method, key, params):
    host = "vodtest-1250000000.cos.ap-guangzhou.myqcloud.com"
    auth = T.cos_auth("AKIDemu", "emusecret", method, "/" + key, params=params, headers={"host": host})
    q = "&".join(k if v == "" else "%s=%s" % (k, v) for k, v in sorted(params.items()))
    return "https://%s/%s%s" % (host, key, "?" + q if q else ""), ["-H", "Authorization: " + auth]


def curl_base():
    return ["-sS", "-f", "-H", "Expect:", "--connect-to", "::127.0.0.1:%d" % PORT, "--cacert", EMU.ca]


def curl(args, out="/dev/null"):
    r = subprocess.run(["curl"] + curl_base() + ["-o", out or "-"] + args,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise SystemExit("curl failed (exit %d): %s" % (r.returncode, r.stderr.decode()[-2000:]))
    return r.stdout.decode()


def curl_put(path):
    url, hdrs = cos_url("PUT", "bench/put-%d" % time.time_ns(), {})
    t = time.monotonic()
    curl(["-T", path] + hdrs + [url])
    return time.monotonic() - t


def curl_multipart(parts, parallel):
    """Initiate, the parts `parallel` at a time by one curl (--parallel),
    complete; seconds."""
    key = "bench/parts-%d" % time.time_ns()
    t = time.monotonic()
    url, hdrs = cos_url("POST", key, {"uploads": ""})
    uid = re.search(r"<UploadId>([^<]+)</UploadId>", curl(["--data-binary", ""] + hdrs + [url], None)).group(1)
    args, heads = ["--parallel", "--parallel-max", str(parallel)], []
    for n, part in enumerate(parts, 1):
        url, hdrs = cos_url("PUT", key, {"partNumber": str(n), "uploadId": uid})
        heads.append(os.path.join(work, "part-%d.head" % n))
        if n > 1:
            args += ["--next"] + curl_base() + ["-o", "/dev/null"]
        args += ["-T", part, "-D", heads[-1]] + hdrs + [url]
    curl(args)
    body = "<CompleteMultipartUpload>"
    for n, head in enumerate(heads, 1):
        with open(head) as f:
            etag = re.search(r"^etag:\s*(\S+)", f.read(), re.I | re.M).group(1)
        body += "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (n, etag)
    url, hdrs = cos_url("POST", key, {"uploadId": uid})
    out = curl(["--data-binary", body + "</CompleteMultipartUpload>"] + hdrs + [url], None)
    if "<CompleteMultipartUploadResult>" not in out:
        raise SystemExit("curl's CompleteMultipartUpload failed: " + out[-2000:])
    return time.monotonic() - t


def split(path):
    parts = []
    with open(path, "rb") as f:
        while True:
            b = f.read(PART_MIB * MIB)
            if not b:
                return parts
            parts.append("%s.part%d" % (path, len(parts) + 1))
            with open(parts[-1], "wb") as out:
                out.write(b)


def node(provider, path):
    """An official client with its defaults; (seconds, peak RSS MiB), or None
    when node or its modules are missing."""
    if not shutil.which("node") or not os.path.isdir(os.path.join(NODE_DIR, "node_modules")):
        return None
    env = dict(os.environ, EMU_HTTPS_PORT=str(PORT), NODE_EXTRA_CA_CERTS=EMU.ca,
               NODE_PATH=os.path.join(NODE_DIR, "node_modules"))
    dt, rss, out = timed(["node", "--require", os.path.join(NODE_DIR, "preload.js"),
                          os.path.join(top, "bench", "upload_node.js"), provider, path], env)
    return float(out.strip().splitlines()[-1]), rss


def in_flight(since, step=0.2):
    """UploadPart requests in flight as the emulator saw them, every step s."""
    calls = [c for c in ctl("calls") if c["action"] == "UploadPart" and c["t"] >= since and "t0" in c]
    if not calls:
        return []
    start, end = min(c["t0"] for c in calls), max(c["t"] for c in calls)
    out, t = [], start
    while t < end:
        out.append(sum(1 for c in calls if c["t0"] <= t < c["t"]))
        t += step
    return out


def main():
    f = os.path.join(work, "wan.mp4")
    big = os.path.join(work, "big.mp4")
    make(f, size_mib)
    make(big, rss_mib)
    parts = split(f)
    mb = size_mib * MIB / 1e6
    print("== WAN-like: %d MiB file over TLS, each connection read at %d MB/s, each request "
          "answered %d ms late" % (size_mib, rate_mb, delay_ms))
    rows = []

    def row(label, dt, rss=None):
        rows.append((label, mb / dt))
        print("%-44s %7.1f MB/s%s" % (label, mb / dt, "" if rss is None else "   peak RSS %6.1f MiB" % rss),
              flush=True)
    ctl("reset", {})
    wan(True)
    row("curl -T (one connection)", curl_put(f))
    for n in (4, 8, 16):
        ctl("reset", {})
        wan(True)
        row("curl, %d MiB parts x%d" % (PART_MIB, n), curl_multipart(parts, n))
    best_curl = max(r for label, r in rows if "parts" in label)
    series = None
    for provider in ("tencent", "alibaba"):
        ctl("reset", {})
        wan(True)
        t0 = time.time()
        dt, rss = vodhook(provider, f)
        row("vodhook %s, defaults" % provider, dt, rss)
        if provider == "tencent":
            series = in_flight(t0)
            vh = mb / dt
            ctl("reset", {})
            wan(True)
            dt, rss = vodhook(provider, f, {"VODHOOK_UPLOAD_PARALLEL": "4",
                                            "VODHOOK_UPLOAD_PARALLEL_MAX": "0"})
            row("vodhook %s, fixed 4 (upload_parallel_max 0)" % provider, dt, rss)
    best_node = 0.0
    for provider, label in (("tencent", "vod-node-sdk"), ("alibaba", "ali-oss multipartUpload")):
        ctl("reset", {})
        wan(True)
        r = node(provider, f)
        if r is None:
            print("%-44s skipped (node or tests/emulator/node/node_modules missing)" % label)
            continue
        row("official %s, its defaults" % label, r[0], r[1])
        best_node = max(best_node, mb / r[0])
    print("vodhook tencent defaults: %.2fx the best fixed-parallelism curl (%.1f MB/s)%s"
          % (vh / best_curl, best_curl,
             "" if not best_node else ", %.2fx the best official client (%.1f MB/s)" % (vh / best_node, best_node)))
    print("vodhook tencent parts in flight every 0.2 s (emulator's count): %s" % " ".join(map(str, series)))
    ctl("reset", {})
    wan(True)
    dt, rss = vodhook("tencent", big)
    print("vodhook tencent, %d MiB file, defaults: %.1f MB/s, peak RSS %.1f MiB"
          % (rss_mib, rss_mib * MIB / 1e6 / dt, rss))
    wan(False)


try:
    main()
finally:
    EMU.stop()

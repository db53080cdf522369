"""The measuring half of bench/upload.sh (which builds vodhook and starts
PostgreSQL and the emulator): for each provider, `vodhook upload` of one file
next to curl sending the same file to the emulator's object store the same
way, the speedup of parallel parts against a per-connection rate limit
(Tencent), and vodhook's peak RSS. Python standard library only.

    upload_bench.py TOP VODHOOK WORK EMU_PORT SIZE_MIB BIG_MIB RATE_MIB

Each vodhook run is compared with the curl run that does the same work:
one stream with `curl -T` (a single PUT), parts with curl's own multipart
upload (InitiateMultipartUpload, the parts sent by one curl process with
--parallel, as many at a time as vodhook sends, CompleteMultipartUpload).
vodhook does more per upload than curl (ApplyUpload or CreateUploadVideo,
CommitUpload, the database's job and checkpoints, the CRC-64 check), so
the ratio is what that costs, not a difference of transfer code alone.
"""
import base64
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

top, binary, work = sys.argv[1:4]
port, size_mib, big_mib, rate_mib = map(int, sys.argv[4:8])
sys.path.insert(0, os.path.join(top, "tests", "emulator"))
import emu_testlib as T  # noqa: E402

MIB = 1 << 20
# vodhook's part size and a fixed parallelism (upload_parallel with
# upload_parallel_max 0), which the curl multipart baseline uses too.
PART_MIB = 8
PARALLEL = 4
FIXED = {"VODHOOK_UPLOAD_PARALLEL": str(PARALLEL), "VODHOOK_UPLOAD_PARALLEL_MAX": "0"}


def ctl(path, data):
    req = urllib.request.Request("http://127.0.0.1:%d/_emu/%s" % (port, path),
                                 data=json.dumps(data).encode(), method="POST")
    urllib.request.urlopen(req).read()


def make(path, mib):
    block = os.urandom(MIB)
    with open(path, "wb") as f:
        for i in range(mib):
            f.write(block[:-8] + i.to_bytes(8, "big"))


def vodhook(provider, path, env=None):
    """Run `vodhook upload`; (seconds, peak RSS in MiB of that process)."""
    e = dict(os.environ)
    e.update(env or {})
    t = time.monotonic()
    with open(os.path.join(work, "upload.err"), "w+") as err:
        p = subprocess.Popen([binary, "upload", "--provider", provider, path], env=e,
                             stdout=subprocess.PIPE, stderr=err)
        out = p.stdout.read().decode()
        _, ru = os.wait4(p.pid, 0)[1:]
        dt = time.monotonic() - t
        if "file_id:" not in out:
            err.seek(0)
            raise SystemExit("vodhook upload failed: " + out + err.read()[-2000:])
    return dt, ru.ru_maxrss / 1024.0


def curl(args, out="/dev/null"):
    """Run curl against the emulator; its output (when out is None) or ''.
    Its stderr is shown only when it fails: curl 7.88 draws its progress
    meter in --parallel mode even with --silent."""
    r = subprocess.run(["curl", "-sS", "-f", "-H", "Expect:", "--connect-to", "::127.0.0.1:%d" % port,
                        "-o", out or "-"] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise SystemExit("curl failed (exit %d): %s" % (r.returncode, r.stderr.decode()[-2000:]))
    return r.stdout.decode()


def cos_store():
    """Requests to a new COS object, signed with the emulator's permanent key:
    a function (method, query parameters, content type) -> (URL, curl header
    arguments). A store is made after the emulator's reset, before the clock
    starts."""
    key = "bench/curl-%d.bin" % time.time_ns()
    host = "vodtest-1250000000.cos.ap-guangzhou.myqcloud.com"

    def sign(method, params, ctype=None):
        auth = T.cos_auth("AKIDemu", "emusecret", method, "/" + key, params=params,
                          headers={"host": host})
        hdrs = ["-H", "Authorization: " + auth]
        if ctype:
            hdrs += ["-H", "Content-Type: " + ctype]
        return "http://%s/%s%s" % (host, key, query(params)), hdrs
    return sign


def oss_store():
    """Requests to OSS with the STS credential of a CreateUploadVideo, V1-signed
    (the reset forgets credentials, so each run fetches its own)."""
    q = T.ali_rpc_query("LTAIemu", "emusecret", "CreateUploadVideo",
                        {"Title": "bench", "FileName": "bench.mp4"})
    req = urllib.request.Request("http://127.0.0.1:%d/?%s" % (port, q),
                                 headers={"Host": "vod.cn-shanghai.aliyuncs.com"})
    r = json.loads(urllib.request.urlopen(req).read())
    addr = json.loads(base64.b64decode(r["UploadAddress"]))
    auth = json.loads(base64.b64decode(r["UploadAuth"]))
    bucket, key = addr["Bucket"], addr["FileName"]
    host = "%s.%s" % (bucket, addr["Endpoint"].split("://", 1)[1])

    def sign(method, params, ctype=None):
        hdrs = {"Date": T.http_date(), "x-oss-security-token": auth["SecurityToken"]}
        if ctype:
            hdrs["Content-Type"] = ctype
        sig = T.oss_v1_auth(auth["AccessKeyId"], auth["AccessKeySecret"], method, bucket, key,
                            hdrs, query(params))
        args = ["-H", "Authorization: " + sig]
        for k, v in hdrs.items():
            args += ["-H", "%s: %s" % (k, v)]
        return "http://%s/%s%s" % (host, key, query(params)), args
    return sign


def query(params):
    """?a=1&b (sorted by name, as OSS's canonical resource wants them)."""
    q = "&".join(k if v == "" else "%s=%s" % (k, v) for k, v in sorted(params.items()))
    return "?" + q if q else ""


def curl_put(store, path):
    """One PUT of the whole file (curl -T); seconds."""
    url, hdrs = store("PUT", {})
    t = time.monotonic()
    curl(["-T", path] + hdrs + [url])
    return time.monotonic() - t


def curl_multipart(store, parts, parallel):
    """The multipart upload vodhook does, with curl: initiate, the parts
    `parallel` at a time by one curl process (--parallel, one connection per
    transfer in flight), complete with the parts' ETags; seconds."""
    t = time.monotonic()
    url, hdrs = store("POST", {"uploads": ""}, "application/xml")
    m = re.search(r"<UploadId>([^<]+)</UploadId>", curl(["--data-binary", ""] + hdrs + [url], None))
    uid = m.group(1)
    args = ["--parallel", "--parallel-max", str(parallel)]
    heads = []
    for n, part in enumerate(parts, 1):
        url, hdrs = store("PUT", {"partNumber": str(n), "uploadId": uid})
        heads.append(os.path.join(work, "part-%d.head" % n))
        if n > 1:
            args += ["--next", "-sS", "-f", "-H", "Expect:", "--connect-to", "::127.0.0.1:%d" % port,
                     "-o", "/dev/null"]
        args += ["-T", part, "-D", heads[-1]] + hdrs + [url]
    curl(args)
    body = "<CompleteMultipartUpload>"
    for n, head in enumerate(heads, 1):
        with open(head) as f:
            etag = re.search(r"^etag:\s*(\S+)", f.read(), re.I | re.M).group(1)
        body += "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (n, etag)
    body += "</CompleteMultipartUpload>"
    url, hdrs = store("POST", {"uploadId": uid}, "application/xml")
    out = curl(["--data-binary", body] + hdrs + [url], None)
    if "<CompleteMultipartUploadResult>" not in out:
        raise SystemExit("curl's CompleteMultipartUpload failed: " + out[-2000:])
    return time.monotonic() - t


def split(path, part_mib):
    """The file's parts as files of their own, since curl -T sends whole
    files; made once, before any clock starts (the page cache holds them as
    it holds the file vodhook reads)."""
    parts = []
    with open(path, "rb") as f:
        while True:
            b = f.read(part_mib * MIB)
            if not b:
                return parts
            parts.append("%s.part%d" % (path, len(parts) + 1))
            with open(parts[-1], "wb") as out:
                out.write(b)


def speed(provider, store, f1, parts):
    mb = size_mib * MIB / 1e6
    print("== %s: %d MiB file, emulator on loopback (plain http)" % (provider, size_mib))
    # Each run: (label, what it runs, the run it is compared with).
    # Interleaved, best of two each, the emulator emptied before each run
    # so that its disk writes weigh the same on every run.
    multi = "%d MiB parts x%d" % (PART_MIB, PARALLEL)
    runs = {
        "curl": ("curl -T (one stream)", lambda: curl_put(store(), f1), None),
        "curlpar": ("curl, " + multi, lambda: curl_multipart(store(), parts, PARALLEL), None),
        "curlpar1": ("curl, %d MiB parts x1" % PART_MIB, lambda: curl_multipart(store(), parts, 1), None),
        "one": ("vodhook, one stream",
                lambda: vodhook(provider, f1, {"VODHOOK_UPLOAD_THRESHOLD": str(1 << 32)}), "curl"),
        "par": ("vodhook, " + multi, lambda: vodhook(provider, f1, FIXED), "curlpar"),
        # Parts one at a time: what multipart costs against this emulator,
        # apart from how it copes with several connections.
        "par1": ("vodhook, %d MiB parts x1" % PART_MIB,
                 lambda: vodhook(provider, f1, dict(FIXED, VODHOOK_UPLOAD_PARALLEL="1")), "curlpar1"),
    }
    best = dict.fromkeys(runs, float("inf"))
    rss = 0.0
    for _ in range(2):
        for name, (_, run, base) in runs.items():
            ctl("reset", {})
            r = run()
            dt = r if base is None else r[0]
            if name == "par":
                rss = max(rss, r[1])
            best[name] = min(best[name], dt)
    for name, (label, _, base) in runs.items():
        ratio = "" if base is None else "  (%.2fx %s)" % (best[base] / best[name], runs[base][0])
        print("%-32s %7.1f MB/s%s" % (label, mb / best[name], ratio))
    return rss


def parallel_speedup(f2):
    print("== tencent: parallel parts with the emulator limiting each connection to %d MiB/s"
          % rate_mib)
    ctl("faults", {"rate_limit_bps": rate_mib * MIB})
    s = {n: vodhook("tencent", f2, dict(FIXED, VODHOOK_UPLOAD_PARALLEL=str(n)))[0] for n in (1, 4, 8)}
    ctl("faults", {"rate_limit_bps": 0})
    mbs = {n: 256 * MIB / 1e6 / t for n, t in s.items()}
    print("parallel 1: %6.1f MB/s   parallel 4: %6.1f MB/s (%.1fx)   parallel 8: %6.1f MB/s (%.1fx)"
          % (mbs[1], mbs[4], s[1] / s[4], mbs[8], s[1] / s[8]))


f1 = os.path.join(work, "a.mp4")
fb = os.path.join(work, "b.mp4")
f2 = os.path.join(work, "r.mp4")
make(f1, size_mib)
make(fb, big_mib)
make(f2, 256)
parts = split(f1, PART_MIB)
for provider, store in (("tencent", cos_store), ("alibaba", oss_store)):
    r1 = speed(provider, store, f1, parts)
    if provider == "tencent":
        parallel_speedup(f2)
    print("== %s: peak RSS of vodhook upload (8 MiB parts x4)" % provider)
    ctl("reset", {})
    tb, rb = vodhook(provider, fb, FIXED)
    print("%5d MiB file: peak RSS %6.1f MiB" % (size_mib, r1))
    print("%5d MiB file: peak RSS %6.1f MiB   (%.1f MB/s)" % (big_mib, rb, big_mib * MIB / 1e6 / tb))

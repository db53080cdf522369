"""The measuring half of bench/upload.sh (which builds vodhook and starts
PostgreSQL and the emulator): for each provider, curl -T of one file to the
emulator's object store next to `vodhook upload` of the same file, the
speedup of parallel parts against a per-connection rate limit (Tencent),
and vodhook's peak RSS. Python standard library only.

    upload_bench.py TOP VODHOOK WORK EMU_PORT SIZE_MIB BIG_MIB RATE_MIB
"""
import base64
import json
import os
import subprocess
import sys
import time
import urllib.request

top, binary, work = sys.argv[1:4]
port, size_mib, big_mib, rate_mib = map(int, sys.argv[4:8])
sys.path.insert(0, os.path.join(top, "tests", "emulator"))
import emu_testlib as T  # noqa: E402

MIB = 1 << 20


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


def curl(args):
    t = time.monotonic()
    subprocess.run(["curl", "-sS", "-f", "-o", "/dev/null", "-H", "Expect:",
                    "--connect-to", "::127.0.0.1:%d" % port] + args, check=True)
    return time.monotonic() - t


def curl_cos(path):
    """curl -T to COS, signed with the emulator's permanent key."""
    key = "bench/curl-%d.bin" % time.time_ns()
    host = "vodtest-1250000000.cos.ap-guangzhou.myqcloud.com"
    auth = T.cos_auth("AKIDemu", "emusecret", "PUT", "/" + key, headers={"host": host})
    return curl(["-T", path, "-H", "Authorization: " + auth, "http://%s/%s" % (host, key)])


def curl_oss(path):
    """curl -T to OSS with the STS credential of a CreateUploadVideo, V1-signed."""
    q = T.ali_rpc_query("LTAIemu", "emusecret", "CreateUploadVideo",
                        {"Title": "bench", "FileName": "bench.mp4"})
    req = urllib.request.Request("http://127.0.0.1:%d/?%s" % (port, q),
                                 headers={"Host": "vod.cn-shanghai.aliyuncs.com"})
    r = json.loads(urllib.request.urlopen(req).read())
    addr = json.loads(base64.b64decode(r["UploadAddress"]))
    auth = json.loads(base64.b64decode(r["UploadAuth"]))
    host = "%s.%s" % (addr["Bucket"], addr["Endpoint"].split("://", 1)[1])
    hdrs = {"Date": T.http_date(), "x-oss-security-token": auth["SecurityToken"]}
    sig = T.oss_v1_auth(auth["AccessKeyId"], auth["AccessKeySecret"], "PUT", addr["Bucket"],
                        addr["FileName"], hdrs)
    args = ["-T", path, "-H", "Authorization: " + sig, "http://%s/%s" % (host, addr["FileName"])]
    for k, v in hdrs.items():
        args += ["-H", "%s: %s" % (k, v)]
    return curl(args)


def speed(provider, curl_put, f1):
    mb = size_mib * MIB / 1e6
    print("== %s: %d MiB file, emulator on loopback (plain http)" % (provider, size_mib))
    # Interleaved, best of two each, the emulator emptied before each run
    # so that its disk writes weigh the same on every run.
    runs = {"curl": ("curl -T (one stream)", None),
            "one": ("vodhook, one stream", {"VODHOOK_UPLOAD_THRESHOLD": str(1 << 32)}),
            "par": ("vodhook, 8 MiB parts x4", {}),
            # Parts one at a time: what multipart costs against this
            # emulator, apart from how it copes with several connections.
            "par1": ("vodhook, 8 MiB parts x1", {"VODHOOK_UPLOAD_PARALLEL": "1"})}
    best = dict.fromkeys(runs, float("inf"))
    rss = 0.0
    for _ in range(2):
        for name, (_, env) in runs.items():
            ctl("reset", {})
            if env is None:
                dt = curl_put(f1)
            else:
                dt, r = vodhook(provider, f1, env)
                if name == "par":
                    rss = max(rss, r)
            best[name] = min(best[name], dt)
    for name, (label, _) in runs.items():
        ratio = "" if name == "curl" else "  (%.2fx curl)" % (best["curl"] / best[name])
        print("%-32s %7.1f MB/s%s" % (label, mb / best[name], ratio))
    return rss


def parallel_speedup(f2):
    print("== tencent: parallel parts with the emulator limiting each connection to %d MiB/s"
          % rate_mib)
    ctl("faults", {"rate_limit_bps": rate_mib * MIB})
    s = {n: vodhook("tencent", f2, {"VODHOOK_UPLOAD_PARALLEL": str(n)})[0] for n in (1, 4, 8)}
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
for provider, curl_put in (("tencent", curl_cos), ("alibaba", curl_oss)):
    r1 = speed(provider, curl_put, f1)
    if provider == "tencent":
        parallel_speedup(f2)
    print("== %s: peak RSS of vodhook upload (8 MiB parts x4)" % provider)
    ctl("reset", {})
    tb, rb = vodhook(provider, fb)
    print("%5d MiB file: peak RSS %6.1f MiB" % (size_mib, r1))
    print("%5d MiB file: peak RSS %6.1f MiB   (%.1f MB/s)" % (big_mib, rb, big_mib * MIB / 1e6 / tb))

#!/usr/bin/env bash
# bench/upload.sh: upload throughput and memory of the transfer engine,
# against the local cloud emulator (tests/emulator) over plain http on
# loopback. Prints figures; it is a benchmark, not a test.
#
#   bench/upload.sh [SIZE_MIB=1024] [BIG_MIB=4096]
#
# 1. curl -T of a SIZE_MIB file to the emulator's COS (signed with the
#    emulator's permanent key) next to `vodhook upload` of the same file:
#    one stream (a single PUT) and parallel parts (the defaults).
# 2. The speedup of parallel parts when the emulator limits each
#    connection's rate (RATE_MIB per connection, 256 MiB file).
# 3. vodhook's peak RSS for SIZE_MIB and BIG_MIB files.
#
# Builds a Release binary in build-bench; starts (and stops) its own
# PostgreSQL cluster and emulator. Needs about BIG_MIB + SIZE_MIB of /tmp.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
size_mib=${1:-1024}
big_mib=${2:-4096}
rate_mib=${RATE_MIB:-16}
build="$top/build-bench"

cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DVODHOOK_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" >/dev/null

work=$(mktemp -d /tmp/vodhook-bench.XXXXXX)
chmod 755 "$work"
emu_pid=
cleanup() {
  [ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null || true
  "$top/deploy/pg.sh" stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

export PG_OPTS="-c fsync=off -c synchronous_commit=off"
db=$("$top/deploy/pg.sh" start "$work/pg")

python3 "$top/tests/emulator/emulator.py" --http-port 0 \
  --port-file "$work/emu.json" --state-dir "$work/emu" >"$work/emu.log" 2>&1 &
emu_pid=$!
for _ in $(seq 100); do [ -s "$work/emu.json" ] && break; sleep 0.1; done
port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"])' "$work/emu.json")

export VODHOOK_DATABASE_URL="$db" VODHOOK_CONNECT_TO="::127.0.0.1:$port" \
  VODHOOK_ALLOW_HTTP=1 VODHOOK_TENCENT_API_URL=http://vod.tencentcloudapi.com \
  VODHOOK_TENCENT_SECRET_ID=AKIDemu VODHOOK_TENCENT_SECRET_KEY=emusecret \
  VODHOOK_LOG_LEVEL=warn VODHOOK_UPLOAD_MAX_BYTES=$(( (big_mib + 1) << 20 ))
"$build/server/vodhook" migrate >/dev/null 2>&1

python3 - "$top" "$build/server/vodhook" "$work" "$port" "$size_mib" \
  "$big_mib" "$rate_mib" <<'EOF'
import json, os, resource, subprocess, sys, time, urllib.request
top, binary, work, port, size_mib, big_mib, rate_mib = sys.argv[1:]
port, size_mib, big_mib, rate_mib = int(port), int(size_mib), int(big_mib), int(rate_mib)
sys.path.insert(0, os.path.join(top, "tests", "emulator"))
import emu_testlib as T

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

def vodhook(path, env=None):
    """Run `vodhook upload`; (seconds, peak RSS in MiB of that process)."""
    e = dict(os.environ)
    e.update(env or {})
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.monotonic()
    err = open(os.path.join(work, "upload.err"), "w+")
    p = subprocess.Popen([binary, "upload", "--provider", "tencent", path], env=e,
                         stdout=subprocess.PIPE, stderr=err)
    out = p.stdout.read().decode()
    _, ru = os.wait4(p.pid, 0)[1:]
    dt = time.monotonic() - t
    if "file_id:" not in out:
        err.seek(0)
        raise SystemExit("vodhook upload failed: " + out + err.read()[-2000:])
    return dt, ru.ru_maxrss / 1024.0

def curl_put(path):
    key = "bench/curl-%d.bin" % time.time_ns()
    host = "vodtest-1250000000.cos.ap-guangzhou.myqcloud.com"
    auth = T.cos_auth("AKIDemu", "emusecret", "PUT", "/" + key, headers={"host": host})
    t = time.monotonic()
    subprocess.run(["curl", "-sS", "-f", "-o", "/dev/null", "-T", path, "-H", "Authorization: " + auth,
                    "-H", "Expect:", "--connect-to", "::127.0.0.1:%d" % port,
                    "http://%s/%s" % (host, key)], check=True)
    return time.monotonic() - t

f1 = os.path.join(work, "a.mp4")
make(f1, size_mib)
mb = size_mib * MIB / 1e6
print("== %d MiB file, emulator on loopback (plain http)" % size_mib)
# Interleaved, best of two each, the emulator emptied before each run so
# that its disk writes weigh the same on every run.
tc = one = par = par1 = float("inf")
for _ in range(2):
    ctl("reset", {})
    tc = min(tc, curl_put(f1))
    ctl("reset", {})
    one = min(one, vodhook(f1, {"VODHOOK_UPLOAD_THRESHOLD": str(1 << 32)})[0])
    ctl("reset", {})
    par = min(par, vodhook(f1)[0])
    ctl("reset", {})
    par1 = min(par1, vodhook(f1, {"VODHOOK_UPLOAD_PARALLEL": "1"})[0])
print("curl -T (one stream)             %7.1f MB/s" % (mb / tc))
print("vodhook, one stream (single PUT) %7.1f MB/s  (%.2fx curl)" % (mb / one, tc / one))
print("vodhook, 8 MiB parts x4          %7.1f MB/s  (%.2fx curl)" % (mb / par, tc / par))
# Parts one at a time: what multipart costs against this emulator, apart
# from how it copes with several connections at once.
print("vodhook, 8 MiB parts x1          %7.1f MB/s  (%.2fx curl)" % (mb / par1, tc / par1))

print("== parallel parts with the emulator limiting each connection to %d MiB/s" % rate_mib)
f2 = os.path.join(work, "r.mp4")
make(f2, 256)
ctl("faults", {"rate_limit_bps": rate_mib * MIB})
s1, _ = vodhook(f2, {"VODHOOK_UPLOAD_PARALLEL": "1"})
s4, _ = vodhook(f2, {"VODHOOK_UPLOAD_PARALLEL": "4"})
s8, _ = vodhook(f2, {"VODHOOK_UPLOAD_PARALLEL": "8"})
ctl("faults", {"rate_limit_bps": 0})
print("parallel 1: %6.1f MB/s   parallel 4: %6.1f MB/s (%.1fx)   parallel 8: %6.1f MB/s (%.1fx)"
      % (256 * MIB / 1e6 / s1, 256 * MIB / 1e6 / s4, s1 / s4, 256 * MIB / 1e6 / s8, s1 / s8))
os.unlink(f2)

print("== peak RSS of vodhook upload (8 MiB parts x4)")
ctl("reset", {})
_, r1 = vodhook(f1)
os.unlink(f1)
ctl("reset", {})
fb = os.path.join(work, "b.mp4")
make(fb, big_mib)
tb, rb = vodhook(fb)
print("%5d MiB file: peak RSS %6.1f MiB" % (size_mib, r1))
print("%5d MiB file: peak RSS %6.1f MiB   (%.1f MB/s)" % (big_mib, rb, big_mib * MIB / 1e6 / tb))
EOF

# ---------------------------------------------------------------- Alibaba
# 4. The same against the emulator's Alibaba VOD + OSS: curl -T of the
#    SIZE_MIB file to OSS (with the STS credential of a CreateUploadVideo,
#    V1-signed) next to `vodhook upload --provider alibaba`, and vodhook's
#    peak RSS for the SIZE_MIB and BIG_MIB files.
export VODHOOK_ALIBABA_API_URL=http://vod.cn-shanghai.aliyuncs.com \
  VODHOOK_ALIBABA_ACCESS_KEY_ID=LTAIemu VODHOOK_ALIBABA_ACCESS_KEY_SECRET=emusecret \
  VODHOOK_ALIBABA_REGION=cn-shanghai
python3 - "$top" "$build/server/vodhook" "$work" "$port" "$size_mib" \
  "$big_mib" <<'EOF'
import base64, json, os, subprocess, sys, time, urllib.request
top, binary, work, port, size_mib, big_mib = sys.argv[1:]
port, size_mib, big_mib = int(port), int(size_mib), int(big_mib)
sys.path.insert(0, os.path.join(top, "tests", "emulator"))
import emu_testlib as T

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

def vodhook(path, env=None):
    """Run `vodhook upload --provider alibaba`; (seconds, peak RSS MiB)."""
    e = dict(os.environ)
    e.update(env or {})
    t = time.monotonic()
    err = open(os.path.join(work, "upload-ali.err"), "w+")
    p = subprocess.Popen([binary, "upload", "--provider", "alibaba", path], env=e,
                         stdout=subprocess.PIPE, stderr=err)
    out = p.stdout.read().decode()
    _, ru = os.wait4(p.pid, 0)[1:]
    dt = time.monotonic() - t
    if "file_id:" not in out:
        err.seek(0)
        raise SystemExit("vodhook upload failed: " + out + err.read()[-2000:])
    return dt, ru.ru_maxrss / 1024.0

def curl_put(path):
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
    args = ["curl", "-sS", "-f", "-o", "/dev/null", "-T", path, "-H", "Expect:",
            "-H", "Authorization: " + sig, "--connect-to", "::127.0.0.1:%d" % port,
            "http://%s/%s" % (host, addr["FileName"])]
    for k, v in hdrs.items():
        args += ["-H", "%s: %s" % (k, v)]
    t = time.monotonic()
    subprocess.run(args, check=True)
    return time.monotonic() - t

f1 = os.path.join(work, "ali.mp4")
make(f1, size_mib)
mb = size_mib * MIB / 1e6
print("== Alibaba: %d MiB file, emulator on loopback (plain http)" % size_mib)
tc = one = par = float("inf")
r1 = 0.0
for _ in range(2):
    ctl("reset", {})
    tc = min(tc, curl_put(f1))
    ctl("reset", {})
    one = min(one, vodhook(f1, {"VODHOOK_UPLOAD_THRESHOLD": str(1 << 32)})[0])
    ctl("reset", {})
    dt, rss = vodhook(f1)
    par, r1 = min(par, dt), max(r1, rss)
print("curl -T to OSS (one stream)      %7.1f MB/s" % (mb / tc))
print("vodhook, one stream (PutObject)  %7.1f MB/s  (%.2fx curl)" % (mb / one, tc / one))
print("vodhook, 8 MiB parts x4          %7.1f MB/s  (%.2fx curl)" % (mb / par, tc / par))
os.unlink(f1)
print("== Alibaba: peak RSS of vodhook upload (8 MiB parts x4)")
ctl("reset", {})
fb = os.path.join(work, "b.mp4")
if not os.path.exists(fb) or os.path.getsize(fb) != big_mib * MIB:
    make(fb, big_mib)
tb, rb = vodhook(fb)
print("%5d MiB file: peak RSS %6.1f MiB" % (size_mib, r1))
print("%5d MiB file: peak RSS %6.1f MiB   (%.1f MB/s)" % (big_mib, rb, big_mib * MIB / 1e6 / tb))
EOF

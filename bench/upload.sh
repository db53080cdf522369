#!/usr/bin/env bash
# bench/upload.sh: upload throughput and memory of the transfer engine,
# against the local cloud emulator (tests/emulator) over plain http on
# loopback. Prints figures; it is a benchmark, not a test.
#
#   bench/upload.sh [SIZE_MIB=1024] [BIG_MIB=4096]
#   bench/upload.sh --wan [SIZE_MIB=256] [RSS_MIB=1024]
#
# 1. `vodhook upload` of a SIZE_MIB file next to curl doing the same work
#    against the emulator's object store: one stream (vodhook's single PUT
#    against `curl -T`) and parts (vodhook's defaults, 8 MiB parts 4 at a
#    time, and one at a time, against curl's own multipart upload with the
#    same parts and parallelism). Each vodhook row prints its ratio to the
#    curl row it is compared with.
# 2. The speedup of parallel parts when the emulator limits each
#    connection's rate (RATE_MIB per connection, 256 MiB file).
# 3. vodhook's peak RSS for SIZE_MIB and BIG_MIB files.
# 1 and 3 for both providers. curl signs COS requests with the emulator's
# permanent key and OSS requests with the STS credential of a
# CreateUploadVideo. The measuring is upload_bench.py.
#
# --wan: a path like a wide-area one instead (upload_wan.py, over TLS): the
# emulator reads each connection's body at WAN_RATE_MB MB/s (20) and
# answers each request WAN_DELAY_MS late (30); curl -T, curl's parts at a
# fixed 4, 8 and 16 at a time, vodhook's defaults and its parts in flight
# over time, the official Node clients (tests/emulator/node, installed by
# its test), and vodhook's peak RSS for an RSS_MIB file.
#
# Builds a Release binary in build-bench; starts (and stops) its own
# PostgreSQL cluster and emulator. Needs about BIG_MIB + 2 x SIZE_MIB + 256
# MiB of /tmp (curl's parts are a copy of the file). Figures and how to read
# them: bench/README.md.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
wan=
if [ "${1:-}" = --wan ]; then
  wan=1
  shift
fi
size_mib=${1:-$([ -n "$wan" ] && echo 256 || echo 1024)}
big_mib=${2:-$([ -n "$wan" ] && echo 1024 || echo 4096)}
rate_mib=${RATE_MIB:-16}
build="$top/build-bench"
# The largest file uploaded: BIG_MIB, SIZE_MIB or the 256 MiB of step 2.
max_mib=$(printf '%s\n' "$big_mib" "$size_mib" 256 | sort -n | tail -n 1)

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
  VODHOOK_LOG_LEVEL=warn VODHOOK_UPLOAD_MAX_BYTES=$(( (max_mib + 1) << 20 ))
"$build/server/vodhook" migrate >/dev/null 2>&1

export VODHOOK_ALIBABA_API_URL=http://vod.cn-shanghai.aliyuncs.com \
  VODHOOK_ALIBABA_ACCESS_KEY_ID=LTAIemu VODHOOK_ALIBABA_ACCESS_KEY_SECRET=emusecret \
  VODHOOK_ALIBABA_REGION=cn-shanghai
if [ -n "$wan" ]; then
  python3 "$top/bench/upload_wan.py" "$top" "$build/server/vodhook" "$work" \
    "$size_mib" "$big_mib" "${WAN_RATE_MB:-20}" "${WAN_DELAY_MS:-30}"
  exit 0
fi
python3 "$top/bench/upload_bench.py" "$top" "$build/server/vodhook" "$work" \
  "$port" "$size_mib" "$big_mib" "$rate_mib"

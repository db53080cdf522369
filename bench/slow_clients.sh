#!/usr/bin/env bash
# Slow clients: how many connections that send half a request line and then
# wait a release vodhook absorbs, with its default worker count and
# timeouts, while signed callbacks sent after them are still answered within
# a second (bench/slow_clients.py measures; see bench/README.md).
#
#   bench/slow_clients.sh [COUNTS...]    default: 0 32 64 96 120 127 128 160 256
#
# VODHOOK_THREADS, VODHOOK_REQUEST_TIMEOUT_MS and the other settings pass
# through to vodhook, to try other values than the defaults.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
"$top/deploy/deps.sh" --bench
cmake -S "$top" -B "$top/build-release" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DVODHOOK_BUILD_TESTS=OFF >/dev/null
cmake --build "$top/build-release" >/dev/null

work=$(mktemp -d /tmp/vodhook-bench.XXXXXX)
chmod 755 "$work"
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  "$top/deploy/pg.sh" stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

url=$("$top/deploy/pg.sh" start "$work/pg")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
token=benchtoken
# Each slow client is a file descriptor of the benchmark's and one of
# vodhook's.
ulimit -n 4096

VODHOOK_DATABASE_URL="$url" VODHOOK_LISTEN="127.0.0.1:$port" \
VODHOOK_SPOOL_DIR="$work/spool" VODHOOK_TENCENT_CALLBACK_TOKEN=$token \
VODHOOK_LOG_LEVEL=warn \
  "$top/build-release/server/vodhook" serve 2>"$work/vodhook.log" &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
echo "vodhook slow-client benchmark: $(nproc) cores; vodhook settings: $(
  "$top/build-release/server/vodhook" config 2>/dev/null |
  grep -E '^(threads|request_timeout_ms|body_timeout_ms) ' | cut -d' ' -f1-3 | paste -sd' ')"
python3 "$top/bench/slow_clients.py" "$port" "/callbacks/tencent/$token" "$pid" \
  "${@:-0 32 64 96 120 127 128 160 256}"

#!/usr/bin/env bash
# Webhook delivery: a release vodhook, PostgreSQL (fsync and synchronous_commit
# on) and a local receiver (bench/sink.js, answering 204 at once) on this
# machine. Two figures:
#   - drain: N media changes committed at once (one SQL statement, firing the
#     same triggers as callbacks do), then the time until every message is
#     delivered: messages per second;
#   - latency: signed Alibaba callbacks at RATE per second for SECONDS, each a
#     new media record, and for each message the time from its change's
#     commit (the callback is acknowledged just after) to its delivery's
#     record: p50, p99, max.
#
#   bench/delivery.sh [N] [RATE] [SECONDS]    defaults: 10000, 100, 10
#
# VH_BENCH_WORKERS (webhook_workers, default 4), VH_BENCH_IN_FLIGHT
# (webhook_max_in_flight, default 4), VH_BENCH_POLL_MS (webhook_poll_ms,
# default the setting's), VH_BENCH_SUBSCRIPTIONS (subscriptions selecting
# every change, all to the same receiver: each change is that many
# messages; default 1).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-10000}
rate=${2:-100}
secs=${3:-10}
"$top/deploy/deps.sh" --bench
command -v node >/dev/null || { echo "delivery.sh: node is needed (deploy/deps.sh --test)" >&2; exit 1; }
cmake -S "$top" -B "$top/build-release" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DVODHOOK_BUILD_TESTS=OFF >/dev/null
cmake --build "$top/build-release" >/dev/null

work=$(mktemp -d /tmp/vodhook-bench.XXXXXX)
chmod 755 "$work"
pid= sink_pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  # node ends with 143 on SIGTERM: not a failure of the cleanup
  [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null && { wait "$sink_pid" 2>/dev/null || true; }
  "$top/deploy/pg.sh" stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

export PG_OPTS="-c shared_buffers=256MB -c max_wal_size=4GB"
url=$("$top/deploy/pg.sh" start "$work/pg")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
key=BenchAliKey1
token=benchtoken
node "$top/bench/sink.js" "$work/sink.port" &
sink_pid=$!
for _ in $(seq 1 100); do [ -s "$work/sink.port" ] && break; sleep 0.1; done
sink=$(cat "$work/sink.port")

env VODHOOK_DATABASE_URL="$url" VODHOOK_LISTEN="127.0.0.1:$port" VODHOOK_API_TOKEN=$token \
  VODHOOK_SPOOL_DIR="$work/spool" VODHOOK_ALIBABA_CALLBACK_KEY=$key \
  VODHOOK_ALIBABA_TIMESTAMP_WINDOW=3600 VODHOOK_TENCENT_ALLOW_UNVERIFIED=1 \
  VODHOOK_LOG_LEVEL=warn VODHOOK_WEBHOOK_ALLOW_HTTP=1 VODHOOK_WEBHOOK_ALLOW_PRIVATE_URLS=1 \
  VODHOOK_WEBHOOK_WORKERS=${VH_BENCH_WORKERS:-4} \
  VODHOOK_WEBHOOK_MAX_IN_FLIGHT=${VH_BENCH_IN_FLIGHT:-4} \
  ${VH_BENCH_POLL_MS:+VODHOOK_WEBHOOK_POLL_MS=$VH_BENCH_POLL_MS} \
  "$top/build-release/server/vodhook" serve 2>"$work/vodhook.log" &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
for _ in $(seq 1 "${VH_BENCH_SUBSCRIPTIONS:-1}"); do
  curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"url\":\"http://127.0.0.1:$sink/hook\"}" "http://127.0.0.1:$port/v1/webhooks" >/dev/null
done

q() { psql -X -tA -F' ' "$url" -c "$1"; }
wait_delivered() {
  while [ "$(q "SELECT count(*) FROM webhook_messages WHERE state <> 'delivered'")" != 0 ]; do
    sleep 0.05
  done
}
echo "vodhook webhook delivery benchmark: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)," \
  "webhook_workers=${VH_BENCH_WORKERS:-4} webhook_max_in_flight=${VH_BENCH_IN_FLIGHT:-4}" \
  "subscriptions=${VH_BENCH_SUBSCRIPTIONS:-1}"

q "INSERT INTO media (provider, file_id, state, state_rank)
   SELECT 'tencent', 'drain-' || i, 'uploaded', 1 FROM generate_series(1, $n) i" >/dev/null
wait_delivered
q "SELECT 'drain: ' || count(*) || ' messages in ' ||
     round(extract(epoch FROM max(delivered_at) - min(created_at))::numeric, 2) || ' s: ' ||
     round(count(*) / extract(epoch FROM max(delivered_at) - min(created_at))::numeric) ||
     ' messages/s; sink received ' || '$(curl -fsS "http://127.0.0.1:$sink/")'
   FROM webhook_messages"

python3 - "$port" "$key" "$rate" "$secs" <<'PY'
import hashlib, http.client, sys, time
port, key, rate, secs = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
path = "/callbacks/alibaba"
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
t0 = time.monotonic()
i = 0
while time.monotonic() - t0 < secs:
    ts = str(int(time.time()))
    sig = hashlib.md5(("http://127.0.0.1:%d%s|%s|%s" % (port, path, ts, key)).encode()).hexdigest()
    body = ('{"EventTime":"2026-11-21T10:00:00Z","EventType":"FileUploadComplete",'
            '"VideoId":"lat-%d","Size":1439213}' % i)
    c.request("POST", path, body, {"Content-Type": "application/json",
                                   "X-VOD-TIMESTAMP": ts, "X-VOD-SIGNATURE": sig})
    r = c.getresponse(); r.read()
    if r.status != 200:
        sys.exit("callback answered %d" % r.status)
    i += 1
    time.sleep(max(0.0, t0 + i / rate - time.monotonic()))
PY
wait_delivered
q "SELECT 'latency, callback commit to delivery, ' || count(*) || ' callbacks at $rate/s: p50 ' ||
     round(1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - created_at))::numeric, 1) ||
     ' ms, p99 ' ||
     round(1000 * percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - created_at))::numeric, 1) ||
     ' ms, max ' || round(1000 * max(extract(epoch FROM delivered_at - created_at))::numeric, 1) || ' ms'
   FROM webhook_messages WHERE subject LIKE 'media:alibaba:lat-%'"
curl -fsS "http://127.0.0.1:$port/metrics" | grep -E '^vodhook_webhook_(delivered|retried|failed)_total'

#!/usr/bin/env bash
# Callback throughput: PostgreSQL (synchronous_commit on, fsync on) and a
# release vodhook on this machine, signed Alibaba and Tencent callbacks with
# unique ids driven by wrk over loopback. Prints throughput, p50/p99 latency
# and acknowledged versus stored counts for each provider.
#
#   bench/callbacks.sh [SECONDS] [CONNECTIONS]    defaults: 15 s, 32
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-15}
conns=${2:-32}
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
  [ -n "${VH_BENCH_KEEP_LOG:-}" ] && cp "$work/pg/server.log" "$VH_BENCH_KEEP_LOG" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# Durable settings, as in production: fsync and synchronous_commit on.
# track_wal_io_timing: how long the WAL syncs (the disk part of a commit) take.
export PG_OPTS="-c shared_buffers=256MB -c min_wal_size=2GB -c max_wal_size=4GB -c track_wal_io_timing=on ${VH_BENCH_PG_OPTS:-}"
url=$("$top/deploy/pg.sh" start "$work/pg")
# A server that has been running has WAL segments to recycle; a new cluster
# creates and zero-fills a 16 MB segment every half second at these rates,
# and each of those stalls commits for tens of milliseconds. Write 1.5 GB of
# WAL once and checkpoint, so that the run recycles segments as production
# does.
psql -X -q "$url" -c "CREATE TABLE bench_warm AS SELECT repeat('x', 1800) AS pad
  FROM generate_series(1, 750000)" -c "DROP TABLE bench_warm" -c "CHECKPOINT"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
key=BenchAliKey1
token=benchtoken

VODHOOK_DATABASE_URL="$url" VODHOOK_LISTEN="127.0.0.1:$port" \
VODHOOK_THREADS=40 VODHOOK_DB_POOL_SIZE=${VODHOOK_DB_POOL_SIZE:-8} VODHOOK_SPOOL_DIR="$work/spool" \
VODHOOK_ALIBABA_CALLBACK_KEY=$key VODHOOK_ALIBABA_TIMESTAMP_WINDOW=3600 \
VODHOOK_TENCENT_CALLBACK_TOKEN=$token VODHOOK_LOG_LEVEL=warn \
  "$top/build-release/server/vodhook" serve 2>"$work/vodhook.log" &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

count() { psql -X -tA "$url" -c "SELECT count(*) FROM vod_events WHERE provider = '$1'"; }
# CPU time (clock ticks, user + system) of every process whose command is $1,
# and the machine's idle ticks: where the time of one event goes.
ticks() {
  local t=0 f
  for f in /proc/[0-9]*/stat; do
    { read -r line <"$f"; } 2>/dev/null || continue
    [ "${line#*(}" != "$line" ] && [ "${line#*($1) }" != "$line" ] || continue
    set -- "$1" ${line##*) } # $2 is field 3 (state): utime is $13, stime $14
    t=$((t + ${13} + ${14}))
  done
  echo $t
}
# WAL written: bytes, records, full-page images, syncs and their time in
# microseconds (pg_stat_wal)
wal() { psql -X -tA -F' ' "$url" -c "SELECT wal_bytes, wal_records, wal_fpi, wal_sync,
  round(wal_sync_time * 1000)::bigint FROM pg_stat_wal"; }
idle() { awk '/^cpu /{print $5 + $6}' /proc/stat; }
hz=$(getconf CLK_TCK)

echo "vodhook callbacks benchmark: ${secs}s per provider, $conns connections, $(nproc) cores"
for provider in alibaba tencent; do
  ts=$(date +%s)
  if [ "$provider" = alibaba ]; then
    path=/callbacks/alibaba
    sig=$(printf '%s' "http://127.0.0.1:$port$path|$ts|$key" | md5sum | cut -d' ' -f1)
  else
    path=/callbacks/tencent/$token
    sig=
  fi
  before=$(count $provider) wal0=$(wal)
  pg0=$(ticks postgres) vh0=$(awk '{print $14 + $15}' /proc/$pid/stat) idle0=$(idle)
  TIMEFORMAT='%U %S'
  { time VH_PROVIDER=$provider VH_PATH=$path VH_TS=$ts VH_SIG=$sig \
        wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$top/bench/callbacks.lua" \
        "http://127.0.0.1:$port" >"$work/wrk.out"; } 2>"$work/wrk.time"
  pg1=$(ticks postgres) vh1=$(awk '{print $14 + $15}' /proc/$pid/stat) idle1=$(idle)
  out=$(grep '^RESULT' "$work/wrk.out")
  after=$(count $provider) wal1=$(wal)
  acked=$(sed -n 's/.*acked=\([0-9]*\).*/\1/p' <<<"$out")
  stored=$((after - before))
  echo "$provider: $out stored=$stored stored_per_s=$(( stored / secs )) lost=$(( acked > stored ? acked - stored : 0 ))"
  # CPU per stored event, in microseconds, and the share of the cores left idle
  awk -v pg=$((pg1 - pg0)) -v vh=$((vh1 - vh0)) -v idle=$((idle1 - idle0)) -v hz="$hz" \
      -v n="$stored" -v secs="$secs" -v cores="$(nproc)" -v wrk="$(cat "$work/wrk.time")" \
      'BEGIN { split(wrk, w, " "); if (n == 0) exit
               printf "%s: CPU per event: postgres %.0f us, vodhook %.0f us, wrk %.0f us; idle %.0f%%\n",
                 "'"$provider"'", pg / hz / n * 1e6, vh / hz / n * 1e6, (w[1] + w[2]) / n * 1e6,
                 100 * idle / hz / (secs * cores) }'
  read -r wb0 wr0 wf0 ws0 wt0 <<<"$wal0"
  read -r wb1 wr1 wf1 ws1 wt1 <<<"$wal1"
  [ "$stored" -gt 0 ] && echo "$provider: WAL per event: $(( (wb1 - wb0) / stored )) bytes, $(( (wr1 - wr0) / stored )) records; full-page images $(( wf1 - wf0 )), WAL syncs $(( ws1 - ws0 )) of $(( (wt1 - wt0) / (ws1 - ws0 + (ws1 == ws0)) )) us on average"
done
metrics=$(curl -fsS "http://127.0.0.1:$port/metrics")
grep -E 'batches|spooled|failed|commit' <<<"$metrics"
# The group commit at work: events per transaction, and how long one took
# from being sent to its durable commit (a batch queued behind the previous
# one's commit counts its wait there too).
awk '/^vodhook_events_stored_total /{s=$2} /^vodhook_ingest_batches_total /{b=$2}
     /^vodhook_ingest_commit_seconds_total /{t=$2}
     END{if (b > 0) printf "group commit: %.1f events per transaction, %.2f ms from send to commit\n", s/b, 1000*t/b}' <<<"$metrics"

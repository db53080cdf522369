#!/usr/bin/env bash
# Callback throughput: PostgreSQL (synchronous_commit on, fsync on) and a
# release vodhook on this machine, signed Alibaba and Tencent callbacks with
# unique ids driven by wrk over loopback. Prints throughput, p50/p99 latency
# and acknowledged versus stored counts for each provider; then the same for
# bench/probe.c, the bare design, as a yardstick (see bench/README.md).
#
#   bench/callbacks.sh [SECONDS] [CONNECTIONS]    defaults: 15 s, 32
#
# VH_BENCH_ORDER: the providers' runs, in order (default "alibaba tencent";
# a provider may repeat). VH_BENCH_NOISE_SECONDS: how long bench/noise.py
# measures the idle machine first, per kind (default 3). VH_BENCH_PG_OPTS:
# more PostgreSQL settings. VH_BENCH_KEEP_LOG: where to copy its log.
# VH_BENCH_PROBE=0: without the yardstick (bench/probe.c) run after each.
# VH_BENCH_DB_OPTS: vodhook and the probe use a database created with these
# options of CREATE DATABASE instead of the cluster's own (C collation), as
# VH_BENCH_DB_OPTS="TEMPLATE template0 LOCALE 'en_US.UTF-8'".
# VH_BENCH_WEBHOOK=1: one webhook subscription selecting every change, to
# bench/sink.js on loopback, delivered during the run (needs node).
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
pid= probe_pid= sink_pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  # node ends with 143 on SIGTERM: not a failure of the cleanup
  [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null && { wait "$sink_pid" 2>/dev/null || true; }
  [ -n "$probe_pid" ] && kill "$probe_pid" 2>/dev/null && wait "$probe_pid" 2>/dev/null
  "$top/deploy/pg.sh" stop "$work/pg" || true
  [ -n "${VH_BENCH_KEEP_LOG:-}" ] && cp "$work/pg/server.log" "$VH_BENCH_KEEP_LOG" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# Durable settings, as in production: fsync and synchronous_commit on.
# track_wal_io_timing: how long the WAL syncs (the disk part of a commit) take.
export PG_OPTS="-c shared_buffers=256MB -c min_wal_size=2GB -c max_wal_size=4GB -c track_wal_io_timing=on ${VH_BENCH_PG_OPTS:-}"
url=$("$top/deploy/pg.sh" start "$work/pg")
if [ -n "${VH_BENCH_DB_OPTS:-}" ]; then
  psql -X -q "$url" -c "CREATE DATABASE bench $VH_BENCH_DB_OPTS"
  url=${url%/*}/bench
fi
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
VODHOOK_API_TOKEN=$token VODHOOK_WEBHOOK_ALLOW_HTTP=1 VODHOOK_WEBHOOK_ALLOW_PRIVATE_URLS=1 \
  "$top/build-release/server/vodhook" serve 2>"$work/vodhook.log" &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
if [ "${VH_BENCH_WEBHOOK:-0}" = 1 ]; then
  node "$top/bench/sink.js" "$work/sink.port" &
  sink_pid=$!
  for _ in $(seq 1 100); do [ -s "$work/sink.port" ] && break; sleep 0.1; done
  curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"url\":\"http://127.0.0.1:$(cat "$work/sink.port")/hook\"}" \
    "http://127.0.0.1:$port/v1/webhooks" >/dev/null
  echo "webhooks: one subscription, every change, to bench/sink.js"
fi
# The yardstick (bench/probe.c): the bare design, same threads, same load.
probe_port=
if [ "${VH_BENCH_PROBE:-1}" = 1 ]; then
  probe_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  PROBE_DATABASE_URL="$url" PROBE_LISTEN="127.0.0.1:$probe_port" PROBE_ALIBABA_KEY=$key \
  PROBE_TOKEN=$token "$top/build-release/bench/vodhook-probe" 2>"$work/probe.log" &
  probe_pid=$!
  for _ in $(seq 1 100); do
    curl -sS -o /dev/null "http://127.0.0.1:$probe_port/" 2>/dev/null && break
    sleep 0.1
  done
fi

# events stored by target $1 (vodhook or probe) for provider $2
count() {
  local table=vod_events
  [ "$1" = probe ] && table=probe_events
  psql -X -tA "$url" -c "SELECT count(*) FROM $table WHERE provider = '$2'"
}
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
# PostgreSQL's own background work: autovacuum and autoanalyze runs, and
# checkpoints (a run that met one has its tail there)
bgwork() { psql -X -tA -F' ' "$url" -c "SELECT (SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0)
  FROM pg_stat_user_tables), checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter"; }
idle() { awk '/^cpu /{print $5 + $6}' /proc/stat; }
# time the host ran something else on our virtual CPUs, where it says so
steal() { awk '/^cpu /{print $9}' /proc/stat; }
hz=$(getconf CLK_TCK)

# One run of wrk against target $1 (vodhook or probe) with provider $2's
# callbacks; prints its figures, each line led by "$2" or "$2 probe".
run() {
  local target=$1 provider=$2 tport=$port tpid=$pid label=$2 ts path sig
  if [ "$target" = probe ]; then
    tport=$probe_port tpid=$probe_pid label="$provider probe"
  fi
  ts=$(date +%s)
  if [ "$provider" = alibaba ]; then
    path=/callbacks/alibaba
    sig=$(printf '%s' "http://127.0.0.1:$tport$path|$ts|$key" | md5sum | cut -d' ' -f1)
  else
    path=/callbacks/tencent/$token
    sig=
  fi
  local wsecs before wal0 bg0 bg1 av0 av1 cp0 cp1 pg0 vh0 idle0 kd0 st0 pg1 vh1 idle1 kd1 st1 out after wal1 acked stored
  before=$(count "$target" "$provider") wal0=$(wal) bg0=$(bgwork)
  pg0=$(ticks postgres) vh0=$(awk '{print $14 + $15}' /proc/$tpid/stat) idle0=$(idle)
  kd0=$(ticks kdamond.0) st0=$(steal)
  TIMEFORMAT='%U %S'
  { time VH_PROVIDER=$provider VH_PATH=$path VH_TS=$ts VH_SIG=$sig \
        wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$top/bench/callbacks.lua" \
        "http://127.0.0.1:$tport" >"$work/wrk.out"; } 2>"$work/wrk.time"
  pg1=$(ticks postgres) vh1=$(awk '{print $14 + $15}' /proc/$tpid/stat) idle1=$(idle)
  kd1=$(ticks kdamond.0) st1=$(steal)
  out=$(grep '^RESULT' "$work/wrk.out")
  after=$(count "$target" "$provider") wal1=$(wal) bg1=$(bgwork)
  acked=$(sed -n 's/.*acked=\([0-9]*\).*/\1/p' <<<"$out")
  stored=$((after - before))
  # per second of wrk's own duration, which can pass SECONDS by a tenth
  wsecs=$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$out")
  echo "$label: $out stored=$stored stored_per_s=$(awk -v n="$stored" -v s="${wsecs:-$secs}" 'BEGIN { printf "%.0f", n / s }') lost=$(( acked > stored ? acked - stored : 0 ))"
  # CPU per stored event, in microseconds, and the share of the cores left idle
  awk -v pg=$((pg1 - pg0)) -v vh=$((vh1 - vh0)) -v idle=$((idle1 - idle0)) -v hz="$hz" \
      -v n="$stored" -v secs="$secs" -v cores="$(nproc)" -v wrk="$(cat "$work/wrk.time")" \
      -v label="$label" -v target="$target" \
      'BEGIN { split(wrk, w, " "); if (n == 0) exit
               printf "%s: CPU per event: postgres %.0f us, %s %.0f us, wrk %.0f us; idle %.0f%%\n",
                 label, pg / hz / n * 1e6, target, vh / hz / n * 1e6, (w[1] + w[2]) / n * 1e6,
                 100 * idle / hz / (secs * cores) }'
  # the machine's share: its memory reclaim (DAMON's kdamond, where it runs)
  # and the host's steal, in ms per second of the run; and PostgreSQL's
  read -r av0 cp0 <<<"$bg0"
  read -r av1 cp1 <<<"$bg1"
  echo "$label: machine's own CPU during the run: kdamond $(( (kd1 - kd0) * 1000 / hz / secs )) ms/s, steal $(( (st1 - st0) * 1000 / hz / secs )) ms/s; PostgreSQL's autovacuum and autoanalyze runs $((av1 - av0)), checkpoints $((cp1 - cp0))"
  local wb0 wr0 wf0 ws0 wt0 wb1 wr1 wf1 ws1 wt1
  read -r wb0 wr0 wf0 ws0 wt0 <<<"$wal0"
  read -r wb1 wr1 wf1 ws1 wt1 <<<"$wal1"
  [ "$stored" -gt 0 ] && echo "$label: WAL per event: $(( (wb1 - wb0) / stored )) bytes, $(( (wr1 - wr0) / stored )) records; full-page images $(( wf1 - wf0 )), WAL syncs $(( ws1 - ws0 )) of $(( (wt1 - wt0) / (ws1 - ws0 + (ws1 == ws0)) )) us on average"
  return 0
}

echo "vodhook callbacks benchmark: ${secs}s per provider, $conns connections, $(nproc) cores"
# What the machine itself adds to any latency here, measured idle: the tail
# below cannot be read without it (bench/noise.py says why).
python3 "$top/bench/noise.py" "$work" "${VH_BENCH_NOISE_SECONDS:-3}"
# How long an idle virtual CPU polls before it halts (a KVM guest's haltpoll
# cpuidle driver): at 0 every wake-up of an idle core is a VM exit, which
# moves throughput by a quarter here (see bench/README.md).
poll=/sys/module/haltpoll/parameters/guest_halt_poll_ns
if [ -r "$poll" ] && [ "$(cat /sys/devices/system/cpu/cpuidle/current_driver 2>/dev/null)" = haltpoll ]; then
  echo "machine: idle vCPUs poll $(cat "$poll") ns before halting (haltpoll.guest_halt_poll_ns)"
fi
# vodhook, then the probe, per provider: each pair on the machine as it is
# at that moment
for provider in ${VH_BENCH_ORDER:-alibaba tencent}; do
  run vodhook "$provider"
  if [ -n "$probe_port" ]; then run probe "$provider"; fi
done
metrics=$(curl -fsS "http://127.0.0.1:$port/metrics")
grep -E 'batches|spooled|failed|commit|^vodhook_webhook_(messages|delivered)' <<<"$metrics"
# The group commit at work: events per transaction, and how long one took
# from being sent to its durable commit (a batch queued behind the previous
# one's commit counts its wait there too).
awk '/^vodhook_events_stored_total /{s=$2} /^vodhook_ingest_batches_total /{b=$2}
     /^vodhook_ingest_commit_seconds_total /{t=$2}
     END{if (b > 0) printf "group commit: %.1f events per transaction, %.2f ms from send to commit\n", s/b, 1000*t/b}' <<<"$metrics"

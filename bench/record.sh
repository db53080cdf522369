#!/usr/bin/env bash
# What PostgreSQL spends recording callbacks, without HTTP: the measure for
# a change to the schema or to the statement that records a batch
# (store/events.c).
#
#   bench/record.sh [BATCH_SIZES]     default: "1 16 64"
#
# bench/record.c records batches of new events as the callback committer
# does; this script prints, per batch size:
#
#   1. the backend's CPU time per event and the WAL per event, durable
#      settings as in bench/callbacks.sh (median of three runs; this
#      machine's noise moves single runs by a tenth);
#   2. under callgrind: the backend's instructions per batch and per event,
#      the same from run to run to a few hundredths of a percent. A batch's
#      count is (60 batches - 10 batches) / 50, so that starting the
#      connection and the first executions do not count. The server runs
#      under valgrind with fsync, synchronous commit and autovacuum off, to
#      be quicker: the counts are the backend's own work, and came out the
#      same with the durable settings.
#
# VH_BENCH_CPU=0 skips part 1, VH_BENCH_CALLGRIND=0 part 2. VH_BENCH_SQL: SQL
# run on each fresh database after the migrations, to measure a change to
# the schema before writing its migration (what an index costs:
# VH_BENCH_SQL='DROP INDEX media_state_idx'). VH_BENCH_DB_OPTS: options of
# CREATE DATABASE for those databases, to measure under another collation
# than the cluster's C (VH_BENCH_DB_OPTS="TEMPLATE template0
# LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"). VH_BENCH_UPLOAD_IDS=1: every
# event names an upload id, as those of a media vodhook uploaded do, and
# the statement runs its whole form instead of the lean one.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
sizes=${1:-1 16 64}
callgrind=${VH_BENCH_CALLGRIND:-1}
"$top/deploy/deps.sh" --bench
cmake -S "$top" -B "$top/build-release" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DVODHOOK_BUILD_TESTS=OFF >/dev/null
cmake --build "$top/build-release" >/dev/null
bin=$top/build-release/bench/vodhook-record-bench

work=$(mktemp -d /tmp/vodhook-record.XXXXXX)
chmod 755 "$work"
vg_pid=
cleanup() {
  # pg.sh stops the server under valgrind too (its pid is the postmaster's)
  "$top/deploy/pg.sh" stop "$work/pg" || true
  [ -n "$vg_pid" ] && wait "$vg_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

opts="-c shared_buffers=256MB -c min_wal_size=2GB -c max_wal_size=4GB"
export PG_OPTS=$opts
url=$("$top/deploy/pg.sh" start "$work/pg")
base=${url%/*}

# a fresh database $1 with the schema, and its URL
fresh() {
  psql -X -q "$url" -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1 ${VH_BENCH_DB_OPTS:-}"
  "$bin" "$base/$1" 1 1 >/dev/null 2>&1 || "$bin" "$base/$1" 1 1
  [ -z "${VH_BENCH_SQL:-}" ] || psql -X -q -v ON_ERROR_STOP=1 "$base/$1" -c "$VH_BENCH_SQL" >&2
  echo "$base/$1"
}
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }

echo "PostgreSQL recording callbacks: $(nproc) cores, events of one shape (a new event and a new media record)"
for n in $sizes; do
  [ "${VH_BENCH_CPU:-1}" = 1 ] || break
  db=$(fresh "record_$n")
  batches=$(( 48000 / n ))
  for _ in 1 2 3; do "$bin" "$db" "$n" "$batches" 2>/dev/null; done >"$work/runs"
  cpu=$(field backend_us_per_event <"$work/runs" | sort -n | sed -n 2p)
  wal=$(field wal_bytes_per_event <"$work/runs" | sort -n | sed -n 2p)
  rate=$(field events_per_s <"$work/runs" | sort -n | sed -n 2p)
  echo "batch $n: RESULT backend_us_per_event=$cpu wal_bytes_per_event=$wal events_per_s=$rate (one connection, each batch committed before the next)"
done

[ "$callgrind" = 1 ] || exit 0
# The same server under callgrind, one profile per process (%p).
"$top/deploy/pg.sh" stop "$work/pg"
bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
mkdir -p "$work/cg"
owner=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$work/cg"
  owner=(runuser -u postgres --)
fi
port=$(cat "$work/pg/port")
"${owner[@]}" valgrind --tool=callgrind --callgrind-out-file="$work/cg/cg.%p" \
  "$bindir/postgres" -D "$work/pg/data" -p "$port" -k "$work/pg" \
  -c listen_addresses=127.0.0.1 $opts -c fsync=off -c synchronous_commit=off \
  -c autovacuum=off >"$work/valgrind.log" 2>&1 &
vg_pid=$!
for _ in $(seq 1 600); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 0.1
done

# instructions of the backend that recorded $3 batches of $2 events in $1
instructions() {
  local pid f
  pid=$("$bin" "$1" "$2" "$3" 2>/dev/null | field backend_pid)
  f=$work/cg/cg.$pid
  # the backend writes its profile as it exits, after the client has gone
  for _ in $(seq 1 300); do
    grep -q '^totals:' "$f" 2>/dev/null && break
    sleep 0.1
  done
  awk '/^totals:/{print $2}' "$f"
}
for n in $sizes; do
  db=$(fresh "callgrind_$n")
  "$bin" "$db" "$n" 20 >/dev/null 2>&1 # rows in the tables, as a running server has
  a=$(instructions "$db" "$n" 10)
  b=$(instructions "$db" "$n" 60)
  if [ -z "$a" ] || [ -z "$b" ]; then
    echo "record.sh: no callgrind profile of the backend; valgrind said:" >&2
    tail -20 "$work/valgrind.log" >&2
    exit 1
  fi
  echo "batch $n: RESULT instructions_per_batch=$(( (b - a) / 50 )) instructions_per_event=$(( (b - a) / 50 / n )) (callgrind)"
done

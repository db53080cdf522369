#!/usr/bin/env bash
# What the status page's requests cost with many media records: a release
# vodhook over a database of N media (default 100000) with their events
# and upload jobs, each request the page makes timed over loopback.
#
#   bench/page.sh [MEDIA]
#
# The records are made by SQL (generate_series) in the shapes the callbacks
# leave: 3 events a media, 97 % Tencent, states weighted as a busy day
# leaves them (most ready, a few failed or still processing), one upload
# job for every tenth media, 200 of them failed. The table is vacuumed and
# analysed first, as autovacuum would have. page.py then sends each request
# 200 times on one kept-alive connection (after 20 not counted) and prints
# the median, 95th percentile and largest time, and each summary query's
# plan and time from EXPLAIN ANALYZE.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
media=${1:-100000}
"$top/deploy/deps.sh"
cmake -S "$top" -B "$top/build-release" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DVODHOOK_BUILD_TESTS=OFF >/dev/null
cmake --build "$top/build-release" >/dev/null

work=$(mktemp -d /tmp/vodhook-page.XXXXXX)
chmod 755 "$work"
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  "$top/deploy/pg.sh" stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

export PG_OPTS="-c shared_buffers=256MB"
url=$("$top/deploy/pg.sh" start "$work/pg")
VODHOOK_DATABASE_URL="$url" "$top/build-release/server/vodhook" migrate >/dev/null 2>&1
echo "making $media media records, their events and upload jobs" >&2
psql -X -q -v ON_ERROR_STOP=1 -v n="$media" "$url" <<'SQL'
INSERT INTO uploads (id, provider, source_kind, source, state, bytes_total, bytes_done,
                     error_code, error_message, created_at, updated_at, finished_at)
SELECT md5(i::text)::uuid, 'tencent', 'file', '/m/' || i || '.mp4',
       CASE WHEN i <= 200 THEN 'failed' ELSE 'ready' END, 1048576, 1048576,
       CASE WHEN i <= 200 THEN 'InvalidParameter' END,
       CASE WHEN i <= 200 THEN 'the file is not a video' END,
       now() - i * interval '1 second', now(), now()
FROM generate_series(1, :n / 10) i;
INSERT INTO media (provider, file_id, state, state_rank, upload_id, size, uploaded_at,
                   confirmed_at, processing_at, ready_at, failed_at, created_at, updated_at)
SELECT CASE WHEN i % 33 = 0 THEN 'alibaba' ELSE 'tencent' END,
       CASE WHEN i % 33 = 0 THEN md5(i::text) ELSE (5285890800000000000 + i)::text END,
       s.state, s.rank, CASE WHEN i % 10 = 0 THEN md5((i / 10)::text)::uuid END, 1048576,
       t, t + interval '1 s', t + interval '2 s',
       CASE WHEN s.state = 'ready' THEN t + interval '30 s' END,
       CASE WHEN s.state = 'failed' THEN t + interval '30 s' END, t, t + interval '30 s'
FROM generate_series(1, :n) i,
     LATERAL (SELECT now() - (:n - i) * interval '1 second' AS t) w,
     LATERAL (SELECT CASE WHEN i % 100 = 7 THEN 'failed' WHEN i % 100 = 8 THEN 'processing'
                          WHEN i % 1000 = 9 THEN 'uploaded' ELSE 'ready' END AS state,
                     CASE WHEN i % 100 = 7 THEN 4 WHEN i % 100 = 8 THEN 3
                          WHEN i % 1000 = 9 THEN 1 ELSE 4 END::smallint AS rank) s;
INSERT INTO vod_events (provider, file_id, event_type, dedup_key, status, received_via,
                        event_time, received_at, raw)
SELECT m.provider, m.file_id, e.type, m.file_id || ':' || e.type || ':' || coalesce(e.status, ''),
       e.status, 'push',
       m.created_at + e.after, m.created_at + e.after, '{"bench":true}'
FROM media m,
     (VALUES ('NewFileUpload', NULL, interval '0 s'),
             ('ProcedureStateChanged', 'PROCESSING', interval '2 s'),
             ('ProcedureStateChanged', 'FINISH', interval '30 s')) e(type, status, after);
VACUUM ANALYZE;
SQL
psql -X -q -At "$url" -c "SELECT 'media ' || count(*) FROM media" \
  -c "SELECT 'events ' || count(*) FROM vod_events" -c "SELECT 'uploads ' || count(*) FROM uploads" >&2

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
token=$(openssl rand -hex 16)
VODHOOK_DATABASE_URL="$url" VODHOOK_LISTEN="127.0.0.1:$port" VODHOOK_API_TOKEN="$token" \
VODHOOK_SPOOL_DIR="$work/spool" VODHOOK_UPLOAD_WORKERS=0 VODHOOK_LOG_LEVEL=warn \
VODHOOK_TENCENT_CALLBACK_TOKEN=$(openssl rand -hex 16) \
  "$top/build-release/server/vodhook" serve 2>"$work/vodhook.log" &
pid=$!
ready=
for _ in $(seq 1 300); do
  if curl -fsS --max-time 2 "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
    ready=1
    break
  fi
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "page.sh: vodhook did not become ready:" >&2
  cat "$work/vodhook.log" >&2
  exit 1
fi
echo "vodhook $(git -C "$top" rev-parse --short HEAD), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
VH_BENCH_TOKEN="$token" python3 "$top/bench/page.py" "$port" "$url"

#!/usr/bin/env bash
# The embedded default: everything vodhook needs, on this machine, in one
# command. Installs what is missing (as root; otherwise says what to run),
# builds a release binary, starts a private PostgreSQL cluster under
# ./.local/ on loopback, migrates, and runs "vodhook serve" in the
# foreground on 127.0.0.1:8080. Ctrl-C stops everything it started; running
# it again reuses the data.
#
# Settings: any VODHOOK_* variable set in the environment is passed on
# (VODHOOK_LISTEN to move the port, cloud credentials, ...).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
state="$top/.local"
build="$top/build-release"

"$top/deploy/deps.sh"

echo "local.sh: building vodhook (release) in $build" >&2
cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DVODHOOK_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" >/dev/null

mkdir -p "$state"
chmod 755 "$state"

# Secrets made once and kept: the API token and the callback keys.
secret() {
  local f="$state/$1"
  if [ ! -s "$f" ]; then
    (umask 077; openssl rand -hex 24 >"$f")
  fi
  echo "$f"
}

pids=()
stop_all() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  "$top/deploy/pg.sh" stop "$state/pg" || true
  echo "local.sh: stopped" >&2
}
trap stop_all INT TERM EXIT

db_url=$("$top/deploy/pg.sh" start "$state/pg")
echo "local.sh: PostgreSQL running: $db_url (data in $state/pg)" >&2

export VODHOOK_DATABASE_URL="${VODHOOK_DATABASE_URL:-$db_url}"
export VODHOOK_LISTEN="${VODHOOK_LISTEN:-127.0.0.1:8080}"
export VODHOOK_SPOOL_DIR="${VODHOOK_SPOOL_DIR:-$state/spool}"
export VODHOOK_API_TOKEN_FILE="${VODHOOK_API_TOKEN_FILE:-$(secret api_token)}"
export VODHOOK_TENCENT_CALLBACK_TOKEN_FILE="${VODHOOK_TENCENT_CALLBACK_TOKEN_FILE:-$(secret tencent_callback_token)}"
export VODHOOK_ALIBABA_CALLBACK_KEY_FILE="${VODHOOK_ALIBABA_CALLBACK_KEY_FILE:-$(secret alibaba_callback_key)}"

"$build/server/vodhook" migrate

"$build/server/vodhook" serve &
pids+=($!)

base="http://$VODHOOK_LISTEN"
for _ in $(seq 1 300); do
  if curl -fsS "$base/readyz" >/dev/null 2>&1; then
    cat <<MSG >&2

vodhook is running (Ctrl-C stops it and PostgreSQL):
  health        $base/healthz
  readiness     $base/readyz
  HTTP API      $base/v1/   (Authorization: Bearer $(cat "$VODHOOK_API_TOKEN_FILE"))
  Tencent push  $base/callbacks/tencent/$(cat "$VODHOOK_TENCENT_CALLBACK_TOKEN_FILE")
  Alibaba push  $base/callbacks/alibaba   (auth key in $VODHOOK_ALIBABA_CALLBACK_KEY_FILE)
  SQL           psql '$VODHOOK_DATABASE_URL'

MSG
    break
  fi
  if ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "local.sh: vodhook exited; see the messages above" >&2
    exit 1
  fi
  sleep 0.2
done
wait "${pids[0]}"

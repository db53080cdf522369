#!/usr/bin/env bash
# The embedded default: everything vodhook needs, on this machine, in one
# command. Installs what is missing (as root; otherwise says what to run),
# builds a release binary, starts a private PostgreSQL cluster under
# ./.local/ on loopback, migrates, and runs "vodhook serve" in the
# foreground on 127.0.0.1:8080. Ctrl-C stops everything it started; running
# it again reuses the data.
#
# Settings: any VODHOOK_* variable set in the environment is passed on
# (VODHOOK_LISTEN to move the port, cloud credentials, ...). For the tests:
# VH_LOCAL_BIN runs that vodhook instead of building one, VH_LOCAL_STATE
# keeps the state somewhere else than ./.local/.
#
# When any process it started ends (vodhook, the emulator, PostgreSQL), it
# stops the others and exits 1: what is left would not work without it.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
state="${VH_LOCAL_STATE:-$top/.local}"
build="$top/build-release"
vodhook="${VH_LOCAL_BIN:-$build/server/vodhook}"

"$top/deploy/deps.sh"

if [ -z "${VH_LOCAL_BIN:-}" ]; then
  echo "local.sh: building vodhook (release) in $build" >&2
  cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DVODHOOK_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" >/dev/null
fi

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

# What was started: pids[i] is the process named names[i].
pids=()
names=()
stop_all() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  "$top/deploy/pg.sh" stop "$state/pg" || true
  echo "local.sh: stopped" >&2
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# When a process started here has ended: stop everything (the EXIT trap)
# and exit 1, naming it. Processes are watched by polling rather than with
# "wait -n": bash forgets a job killed by a signal once it has reported it,
# and "wait -n" then waits for the others.
check_ended() {
  local i
  if [ -n "${pg_pid:-}" ] && ! kill -0 "$pg_pid" 2>/dev/null; then
    echo "local.sh: PostgreSQL exited; see $state/pg/server.log" >&2
    exit 1
  fi
  for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      echo "local.sh: ${names[$i]} exited; see the messages above" >&2
      exit 1
    fi
  done
}

db_url=$("$top/deploy/pg.sh" start "$state/pg")
echo "local.sh: PostgreSQL running: $db_url (data in $state/pg)" >&2
# Its server process (pg_ctl detached it), watched like the others.
pg_pid=$(head -n 1 "$state/pg/data/postmaster.pid")

export VODHOOK_DATABASE_URL="${VODHOOK_DATABASE_URL:-$db_url}"
export VODHOOK_LISTEN="${VODHOOK_LISTEN:-127.0.0.1:8080}"
export VODHOOK_SPOOL_DIR="${VODHOOK_SPOOL_DIR:-$state/spool}"
export VODHOOK_API_TOKEN_FILE="${VODHOOK_API_TOKEN_FILE:-$(secret api_token)}"
export VODHOOK_TENCENT_CALLBACK_TOKEN_FILE="${VODHOOK_TENCENT_CALLBACK_TOKEN_FILE:-$(secret tencent_callback_token)}"
export VODHOOK_ALIBABA_CALLBACK_KEY_FILE="${VODHOOK_ALIBABA_CALLBACK_KEY_FILE:-$(secret alibaba_callback_key)}"

# Without cloud credentials, a demo cloud: the project's emulator of Tencent
# VOD + COS and Alibaba VOD + OSS on loopback, so that uploads and their
# callbacks can be seen end to end on this machine.
if [ -z "${VODHOOK_TENCENT_SECRET_ID:-}" ] && [ -z "${VODHOOK_ALIBABA_ACCESS_KEY_ID:-}" ]; then
  emu="$state/emulator"
  mkdir -p "$emu/state"
  sh "$top/tests/emulator/gen_ca.sh" "$emu/ca" >/dev/null
  rm -f "$emu/ports.json"
  cb="http://$VODHOOK_LISTEN"
  python3 "$top/tests/emulator/emulator.py" --https-port 0 --port-file "$emu/ports.json" \
    --cert "$emu/ca/server.pem" --key "$emu/ca/server.key" --state-dir "$emu/state" \
    --tencent-callback-url "$cb/callbacks/tencent/$(cat "$VODHOOK_TENCENT_CALLBACK_TOKEN_FILE")" \
    --alibaba-callback-url "$cb/callbacks/alibaba" \
    --alibaba-auth-key "$(cat "$VODHOOK_ALIBABA_CALLBACK_KEY_FILE")" --demo &
  pids+=($!)
  names+=("the emulator")
  for _ in $(seq 1 100); do
    [ -s "$emu/ports.json" ] && break
    check_ended
    sleep 0.1
  done
  emu_port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["https"])' "$emu/ports.json")
  export VODHOOK_CONNECT_TO="::127.0.0.1:$emu_port"
  export VODHOOK_CA_FILE="$emu/ca/ca.pem"
  export VODHOOK_TENCENT_SECRET_ID=AKIDemu VODHOOK_TENCENT_SECRET_KEY=emusecret
  export VODHOOK_ALIBABA_ACCESS_KEY_ID=LTAIemu VODHOOK_ALIBABA_ACCESS_KEY_SECRET=emusecret
  export VODHOOK_ALIBABA_CALLBACK_URL="$cb/callbacks/alibaba"
  export VODHOOK_UPLOAD_ROOT="${VODHOOK_UPLOAD_ROOT:-$top}"
  demo=1
fi

"$vodhook" migrate

"$vodhook" serve &
pids+=($!)
names+=("vodhook")

base="http://$VODHOOK_LISTEN"
for _ in $(seq 1 300); do
  check_ended
  # Bounded: the port may belong to a program that never answers.
  if curl -fsS --max-time 2 "$base/readyz" >/dev/null 2>&1; then
    cat <<MSG >&2

vodhook is running (Ctrl-C stops it and PostgreSQL):
  status page   $base/   (paste the token: $(cat "$VODHOOK_API_TOKEN_FILE"))
  health        $base/healthz
  readiness     $base/readyz
  HTTP API      $base/v1/   (Authorization: Bearer $(cat "$VODHOOK_API_TOKEN_FILE"))
  Tencent push  $base/callbacks/tencent/$(cat "$VODHOOK_TENCENT_CALLBACK_TOKEN_FILE")
  Alibaba push  $base/callbacks/alibaba   (auth key in $VODHOOK_ALIBABA_CALLBACK_KEY_FILE)
  SQL           psql '$VODHOOK_DATABASE_URL'

MSG
    if [ -n "${demo:-}" ]; then
      cat <<MSG >&2
DEMO CLOUD: no cloud credentials are configured, so uploads go to vodhook's
emulator of Tencent VOD and Alibaba VOD on 127.0.0.1:$emu_port (not the real
clouds). Try, in another terminal, with the same settings:
  curl -H 'Authorization: Bearer $(cat "$VODHOOK_API_TOKEN_FILE")' -d '{"provider":"tencent","path":"$top/README.md","name":"readme","procedure":"demo"}' $base/v1/uploads

MSG
    fi
    ready=1
    break
  fi
  sleep 0.2
done
if [ -z "${ready:-}" ]; then
  echo "local.sh: vodhook did not answer $base/readyz within a minute" >&2
  exit 1
fi
# Until one of them ends (or Ctrl-C, whose trap exits).
while true; do
  check_ended
  sleep 0.2
done

#!/usr/bin/env bash
# Build deploy/Containerfile with podman, without pulling any image, and run
# the image against a private PostgreSQL (deploy/pg.sh) and the project's
# cloud emulator, as an operator would: /healthz, the HEALTHCHECK, `vodhook
# check` inside the container, signed callbacks of both platforms stored and
# read through the API, secrets as files, the user it runs as, a clean stop.
#
#   deploy/container-check.sh        as root; prints one line per check
#
# The base image: BASE_IMAGE if set (an image already in podman's storage);
# otherwise localhost/vodhook-base:bookworm, made once with debootstrap
# (--variant=minbase, Debian 12) from the mirror in the apt sources, with
# those sources copied in, and imported. Not part of tests/run.sh: the
# build takes one to two minutes on two cores, the first base image one
# more, and it needs root and podman (deploy/deps.sh --container).
#
# Where this machine differs from a usual podman host (a VM whose root lacks
# CAP_SYS_RESOURCE and has cgroups v1 with a cgroup2 hierarchy beside them),
# the script passes what it needs: runc instead of crun (crun: "cgroups in
# hybrid mode not supported"), and ulimits no higher than the current ones
# (podman's defaults are refused: "setrlimit RLIMIT_NOFILE: Operation not
# permitted"). Periodic health checks need systemd on the host; the check is
# run here once with `podman healthcheck run`.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "container-check.sh: run as root" >&2; exit 1; }
"$top/deploy/deps.sh" --container

image=localhost/vodhook:check
base=${BASE_IMAGE:-localhost/vodhook-base:bookworm}
name=vodhook-check-$$
work=$(mktemp -d /tmp/vodhook-container.XXXXXX)
chmod 755 "$work"
emu_pid=
cleanup() {
  podman rm -f -t 5 "$name" >/dev/null 2>&1 || true
  for s in database_url api_token tencent_sign_key alibaba_callback_key tencent_secret_key; do
    podman secret rm "$name-$s" >/dev/null 2>&1 || true
  done
  [ -z "$emu_pid" ] || kill "$emu_pid" 2>/dev/null || true
  "$top/deploy/pg.sh" stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

ok() { echo "ok: $*"; }
fail() {
  echo "FAILED: $*" >&2
  podman logs "$name" 2>/dev/null | tail -20 >&2 || true
  exit 1
}

podman=(podman)
if [ -e /sys/fs/cgroup/unified/cgroup.controllers ] && command -v runc >/dev/null; then
  podman+=(--runtime runc)
fi
limits=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096)

# The base image.
if ! podman image exists "$base"; then
  [ -z "${BASE_IMAGE:-}" ] || fail "no image $BASE_IMAGE in podman's storage"
  mirror=$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
  [ -n "$mirror" ] || mirror=$(sed -n 's/^deb \(http[^ ]*\) bookworm .*/\1/p' /etc/apt/sources.list 2>/dev/null | head -n 1)
  mirror=${mirror:-http://deb.debian.org/debian}
  echo "making $base with debootstrap from $mirror" >&2
  debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap"; }
  rm -f "$work/rootfs/etc/apt/sources.list"
  cp /etc/apt/sources.list.d/*.sources "$work/rootfs/etc/apt/sources.list.d/" 2>/dev/null ||
    cp /etc/apt/sources.list "$work/rootfs/etc/apt/sources.list"
  rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/"*.bin
  tar -C "$work/rootfs" -c . | podman import --quiet --change 'CMD ["bash"]' - "$base" >/dev/null
  rm -rf "$work/rootfs"
fi
ok "base image $base"

# The build, as the Containerfile's header says, from the base image.
start=$(date +%s)
"${podman[@]}" build --format docker --pull=never --network host "${limits[@]}" \
  --build-arg "BASE=$base" -f "$top/deploy/Containerfile" -t "$image" "$top" \
  >"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; fail "podman build"; }
ok "built $image in $(($(date +%s) - start)) s ($(podman image inspect "$image" --format '{{.Size}}') bytes)"

# PostgreSQL and the emulator on loopback, as the tests start them.
db=$("$top/deploy/pg.sh" start "$work/pg")
sh "$top/tests/emulator/gen_ca.sh" "$work/ca" >/dev/null
python3 "$top/tests/emulator/emulator.py" --http-port 0 --https-port 0 \
  --port-file "$work/emu.json" --cert "$work/ca/server.pem" --key "$work/ca/server.key" \
  --state-dir "$work/emu" >"$work/emu.log" 2>&1 &
emu_pid=$!
for _ in $(seq 1 100); do
  [ -s "$work/emu.json" ] && break
  sleep 0.1
done
emu_http=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"])' "$work/emu.json")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# Secrets as files (podman secrets, in /run/secrets as compose puts them),
# never on a command line.
sign_key=$(openssl rand -hex 12)
ali_key=$(openssl rand -hex 12)
token=$(openssl rand -hex 16)
settings=(-e "VODHOOK_LISTEN=127.0.0.1:$port"
          -e "VODHOOK_CONNECT_TO=::127.0.0.1:$emu_http" -e VODHOOK_ALLOW_HTTP=1
          -e VODHOOK_TENCENT_API_URL=http://vod.tencentcloudapi.com
          -e VODHOOK_TENCENT_SECRET_ID=AKIDemu)
secrets=()
secret() { # NAME VALUE: the setting NAME's _FILE, from a podman secret
  printf '%s' "$2" | podman secret create "$name-$1" - >/dev/null
  secrets+=(--secret "$name-$1,target=$1,mode=0444")
  settings+=(-e "VODHOOK_${1^^}_FILE=/run/secrets/$1")
}
secret database_url "$db"
secret api_token "$token"
secret tencent_sign_key "$sign_key"
secret alibaba_callback_key "$ali_key"
secret tencent_secret_key emusecret  # the emulator's

"${podman[@]}" run -d --name "$name" --network host "${limits[@]}" "${secrets[@]}" \
  "${settings[@]}" "$image" >/dev/null 2>>"$work/podman.log" ||
  { cat "$work/podman.log" >&2; fail "podman run"; }
for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  [ "$(podman inspect "$name" --format '{{.State.Running}}')" = true ] || fail "the container exited"
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || fail "/healthz"
ok "/healthz answers on 127.0.0.1:$port (host network)"
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || fail "/readyz"
ok "/readyz: migrated and ready"
podman healthcheck run "$name" >>"$work/podman.log" 2>&1 || fail "HEALTHCHECK"
[ "$(podman inspect "$name" --format '{{.State.Health.Status}}')" = healthy ] || fail "HEALTHCHECK"
ok "HEALTHCHECK healthy (podman healthcheck run), on the port VODHOOK_LISTEN names"

uid=$(podman exec "$name" sh -c 'id -u; id -g; grep ^CapEff /proc/1/status')
[ "$(echo "$uid" | head -n 2 | tr '\n' ' ')" = "10001 10001 " ] || fail "runs as $uid"
echo "$uid" | grep -q 'CapEff:	0000000000000000' || fail "capabilities: $uid"
ok "runs as uid 10001, gid 10001, no capabilities"
podman exec "$name" vodhook check >"$work/check.log" 2>&1 || { cat "$work/check.log" >&2; fail "vodhook check"; }
ok "vodhook check in the container: $(grep -c . "$work/check.log") checks passed"

# Signed callbacks of both platforms, stored, and read through the API.
fid=$(date +%s%N | cut -c1-19)
vid="container-$fid"
t=$(($(date +%s) + 600))
sign=$(printf '%s%s' "$sign_key" "$t" | md5sum | cut -d' ' -f1)
out=$(curl -fsS -X POST "http://127.0.0.1:$port/callbacks/tencent" \
  -d "{\"EventType\":\"NewFileUpload\",\"FileUploadEvent\":{\"FileId\":\"$fid\"},\"Sign\":\"$sign\",\"T\":$t}")
[[ "$out" == *'"status":"stored"'* ]] || fail "Tencent callback: $out"
url="http://127.0.0.1:$port/callbacks/alibaba"
ts=$(date +%s)
sig=$(printf '%s|%s|%s' "$url" "$ts" "$ali_key" | md5sum | cut -d' ' -f1)
out=$(curl -fsS -X POST "$url" -H "X-VOD-TIMESTAMP: $ts" -H "X-VOD-SIGNATURE: $sig" \
  -H 'Content-Type: application/json' \
  -d "{\"EventTime\":\"2026-11-21T10:00:00Z\",\"EventType\":\"FileUploadComplete\",\"VideoId\":\"$vid\",\"Status\":\"success\",\"Size\":7}")
[[ "$out" == *'"status":"stored"'* ]] || fail "Alibaba callback: $out"
out=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/callbacks/tencent" \
  -d "{\"EventType\":\"NewFileUpload\",\"FileUploadEvent\":{\"FileId\":\"1$fid\"},\"Sign\":\"$(printf %032d 0)\",\"T\":$t}")
[ "$out" = 401 ] || fail "a wrongly signed callback answered $out"
n=$(psql -X -tA "$db" -c "SELECT count(*) FROM vod_events")
[ "$n" = 2 ] || fail "$n events stored, not 2"
for m in "tencent/$fid" "alibaba/$vid"; do
  curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$port/v1/media/$m" >/dev/null ||
    fail "GET /v1/media/$m"
done
ok "signed Tencent and Alibaba callbacks stored (a wrongly signed one 401), read through the API"
podman exec "$name" sh -c 'test -d /var/lib/vodhook/spool && test -w /var/lib/vodhook/spool' ||
  fail "the spool directory"
ok "spool in the volume /var/lib/vodhook, writable by vodhook"

# A clean stop: SIGTERM to PID 1 (vodhook), exit 0.
podman stop -t 20 "$name" >/dev/null 2>>"$work/podman.log"
rc=$(podman inspect "$name" --format '{{.State.ExitCode}}')
[ "$rc" = 0 ] || fail "exit status $rc after podman stop"
podman logs "$name" 2>&1 | grep -q 'msg="stopped"' || fail "no \"stopped\" in the log"
ok "podman stop: exit 0"
echo "container-check.sh: all checks passed"

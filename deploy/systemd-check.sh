#!/usr/bin/env bash
# Run deploy/vodhook.service under systemd: a podman container with systemd
# as PID 1 (Debian 12, systemd, Debian's PostgreSQL and the build packages
# of deploy/deps.sh), in which the README's "Run it under systemd" commands
# run as written (cmake --install, the database user, the settings and
# credential files, systemctl enable --now). Then it checks that the service
# runs as the README says: as a dynamic user named vodhook, its secrets from
# LoadCredential=, its spool in StateDirectory=, sandboxed (no new
# privileges, no capabilities, a system-call filter, a read-only system),
# and that it stores a signed Tencent callback (the sign key the README's
# commands make) and answers the API with its token.
#
#   deploy/systemd-check.sh          as root; prints one line per check
#
# The container has a network of its own (podman's bridge): PostgreSQL and
# vodhook keep their usual ports, and the checks run inside it. Its base
# image is container-check.sh's (BASE_IMAGE, or localhost/vodhook-base:
# bookworm, made by that script). Not part of tests/run.sh: it builds
# vodhook once more inside the container: about a minute (the first image
# build half a minute more).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "systemd-check.sh: run as root" >&2; exit 1; }
"$top/deploy/deps.sh" --container

base=${BASE_IMAGE:-localhost/vodhook-base:bookworm}
image=localhost/vodhook-systemd:check
name=vodhook-systemd-$$
work=$(mktemp -d /tmp/vodhook-systemd.XXXXXX)
cleanup() {
  podman rm -f -t 5 "$name" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

ok() { echo "ok: $*"; }
fail() {
  echo "FAILED: $*" >&2
  podman exec "$name" journalctl -u vodhook --no-pager -n 30 >&2 2>/dev/null || true
  exit 1
}
ctr() { podman exec "$name" "$@"; }

podman image exists "$base" ||
  fail "no base image $base: run deploy/container-check.sh first (it makes one)"
podman=(podman)
if [ -e /sys/fs/cgroup/unified/cgroup.controllers ] && command -v runc >/dev/null; then
  podman+=(--runtime runc)  # see container-check.sh
fi
limits=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096)

# An image with systemd and what the README's commands need (apt's lists
# kept, as on a server); the sources in /src, built by those commands.
cat >"$work/Containerfile" <<EOF
FROM $base
COPY deploy/deps.sh /usr/local/lib/vodhook/deps.sh
RUN /usr/local/lib/vodhook/deps.sh \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \\
      systemd systemd-sysv dbus >/dev/null
COPY . /src
WORKDIR /src
STOPSIGNAL SIGRTMIN+3
CMD ["/sbin/init"]
EOF
start=$(date +%s)
"${podman[@]}" build --pull=never --network host "${limits[@]}" -f "$work/Containerfile" \
  -t "$image" "$top" >"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; fail "podman build"; }
ok "image $image with systemd built in $(($(date +%s) - start)) s"

"${podman[@]}" run -d --name "$name" --systemd=always "${limits[@]}" \
  "$image" >/dev/null 2>"$work/podman.log" || { cat "$work/podman.log" >&2; fail "podman run"; }
for _ in $(seq 1 300); do
  state=$(ctr systemctl is-system-running 2>/dev/null || true)
  case "$state" in running|degraded) break ;; esac
  sleep 0.1
done
[ "$(ctr cat /proc/1/comm)" = systemd ] || fail "PID 1 is not systemd"
ok "systemd $(ctr systemctl --version | head -n 1 | cut -d' ' -f2) is PID 1 ($state)"
for _ in $(seq 1 300); do
  ctr runuser -u postgres -- psql -tAc 'SELECT 1' >/dev/null 2>&1 && break
  sleep 0.1
done

# The README's commands, as written.
awk '/^## Run it under systemd/{f=1} f&&/^```sh/{g=1;next} g&&/^```/{exit} g' \
  "$top/README.md" >"$work/readme.sh"
[ -s "$work/readme.sh" ] || fail "no sh block in the README's \"Run it under systemd\""
start=$(date +%s)
podman cp "$work/readme.sh" "$name:/tmp/readme.sh"
ctr bash -euo pipefail /tmp/readme.sh >"$work/readme.log" 2>&1 ||
  { tail -30 "$work/readme.log" >&2; fail "the README's commands"; }
ok "the README's commands ran ($(($(date +%s) - start)) s, with the build)"
for _ in $(seq 1 300); do
  ctr curl -fsS http://127.0.0.1:8080/readyz >/dev/null 2>&1 && break
  sleep 0.1
done
ctr curl -fsS http://127.0.0.1:8080/readyz >/dev/null || fail "/readyz"
ok "vodhook.service active ($(ctr systemctl is-active vodhook)), /readyz answers"

# How it runs.
pid=$(ctr systemctl show -P MainPID vodhook)
[ "$pid" -gt 0 ] || fail "no main process"
user=$(ctr systemctl show -P User vodhook)
uid=$(ctr sed -n 's/^Uid:	\([0-9]*\).*/\1/p' "/proc/$pid/status")
if [ "$user" != vodhook ] || [ "$uid" -lt 61184 ] || [ "$uid" -gt 65519 ]; then
  fail "runs as $user ($uid), not the dynamic user vodhook"
fi
ok "runs as the dynamic user vodhook (uid $uid)"
status=$(ctr cat "/proc/$pid/status")
grep -q '^NoNewPrivs:	1' <<<"$status" || fail "NoNewPrivs"
grep -q '^CapEff:	0000000000000000' <<<"$status" || fail "capabilities"
grep -q '^CapBnd:	0000000000000000' <<<"$status" || fail "capability bounding set"
grep -q '^Seccomp:	2' <<<"$status" || fail "no system-call filter"
ok "no new privileges, no capabilities (effective and bounding), seccomp filter on"
ctr grep -qE '^[0-9]+ [0-9]+ [^ ]+ / / ro[, ]' "/proc/$pid/mountinfo" || fail "/ not read-only"
ctr sh -c "touch /tmp/outside && test ! -e /proc/$pid/root/tmp/outside" || fail "no private /tmp"
ok "/ mounted read-only for it, a /tmp of its own (a file in the system's /tmp not in it)"
creds=$(ctr sh -c "tr '\0' '\n' </proc/$pid/environ | grep _FILE=")
grep -q '^VODHOOK_API_TOKEN_FILE=/run/credentials/vodhook.service/api_token$' <<<"$creds" ||
  fail "API token not from LoadCredential: $creds"
grep -q '^VODHOOK_TENCENT_SIGN_KEY_FILE=/run/credentials/vodhook.service/tencent_sign_key$' <<<"$creds" ||
  fail "sign key not from LoadCredential: $creds"
ok "secrets from LoadCredential= (/run/credentials/vodhook.service), read through *_FILE"
spool=$(ctr sh -c "tr '\0' '\n' </proc/$pid/environ | sed -n 's/^VODHOOK_SPOOL_DIR=//p'")
[ "$spool" = /var/lib/vodhook/spool ] || fail "spool $spool"
ctr test -d /var/lib/private/vodhook/spool || fail "no spool in /var/lib/private/vodhook"
[ "$(ctr stat -c %u /var/lib/private/vodhook)" = "$uid" ] || fail "state directory owner"
ok "spool in StateDirectory= ($spool, /var/lib/private/vodhook, owned by uid $uid)"

# A signed callback, stored; the API with the credential's token.
key=$(ctr cat /etc/vodhook/credentials/tencent_sign_key)
fid=$(date +%s%N | cut -c1-19)
t=$(($(date +%s) + 600))
sign=$(printf '%s%s' "$key" "$t" | md5sum | cut -d' ' -f1)
out=$(ctr curl -sS -X POST http://127.0.0.1:8080/callbacks/tencent \
  -d "{\"EventType\":\"NewFileUpload\",\"FileUploadEvent\":{\"FileId\":\"$fid\"},\"Sign\":\"$sign\",\"T\":$t}")
[[ "$out" == *'"status":"stored"'* ]] || fail "signed callback: $out"
n=$(ctr runuser -u postgres -- psql -tA vodhook -c "SELECT count(*) FROM vod_events WHERE file_id = '$fid'")
[ "$n" = 1 ] || fail "$n rows for the callback"
token=$(ctr cat /etc/vodhook/credentials/api_token)
code=$(ctr curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
  "http://127.0.0.1:8080/v1/media/tencent/$fid")
[ "$code" = 200 ] || fail "GET /v1/media with the token: $code"
ok "signed Tencent callback stored, read through the API with the credential's token"

score=$(ctr systemd-analyze security vodhook --no-pager 2>/dev/null | sed -n 's/.*Overall exposure level for vodhook.service: //p')
ok "systemd-analyze security in the container: $score"
ctr systemctl stop vodhook
[ "$(ctr systemctl show -P Result vodhook)" = success ] || fail "stop: $(ctr systemctl show -P Result vodhook)"
ok "systemctl stop: result success"
echo "systemd-check.sh: all checks passed"

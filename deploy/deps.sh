#!/usr/bin/env bash
# Install what vodhook needs from Debian's packages, if anything is missing.
#
#   deploy/deps.sh            build and run (compiler, libraries, PostgreSQL)
#   deploy/deps.sh --test     also what tests/run.sh needs (cmocka, nginx for the
#                             proxy test, pgbouncer for the pooler test,
#                             promtool, chromium for the status page's
#                             browser test)
#   deploy/deps.sh --bench    also what bench/ needs (wrk, clang, valgrind)
#   deploy/deps.sh --container  also what deploy/container-check.sh needs
#                             (podman, runc, debootstrap)
#   deploy/deps.sh --runtime  only what a built vodhook needs to run (the
#                             container's final stage; a test checks the
#                             list against the binary's libraries)
#
# Idempotent: a no-op when everything is installed. Installs with apt-get
# when run as root; otherwise prints the command to run and exits 1.
set -euo pipefail

pkgs=(gcc libc6-dev make cmake ninja-build pkg-config
      libcivetweb-dev libcjson-dev libcurl4-openssl-dev libssl-dev libpq-dev liblzma-dev
      postgresql postgresql-client python3 curl openssl ca-certificates)
for arg in "$@"; do
  case "$arg" in
    --runtime)
      # The libraries vodhook links (their Debian 12 packages), the CA
      # certificates for the platforms' https, and curl for health checks.
      pkgs=(libcivetweb1 libcjson1 libcurl4 libssl3 libpq5 liblzma5
            ca-certificates curl) ;;
    --test) pkgs+=(libcmocka-dev systemd nginx pgbouncer prometheus chromium) ;;
    --bench) pkgs+=(wrk clang libclang-rt-dev time valgrind) ;;
    --container) pkgs+=(podman runc debootstrap) ;;
    *) echo "deps.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
# Node.js (the official-SDK conformance test) may come from elsewhere than
# Debian; only install Debian's when there is none at all.
if [[ " $* " == *" --test "* ]] && ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing packages: ${missing[*]}" >&2
  echo "deps.sh: run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

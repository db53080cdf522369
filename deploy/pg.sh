#!/usr/bin/env bash
# A private PostgreSQL cluster for development and tests.
#
#   deploy/pg.sh start DIR [PORT]   create (first time) and start; prints the URL
#   deploy/pg.sh stop DIR           stop it (fast shutdown)
#   deploy/pg.sh url DIR            print the connection URL
#
# The server listens on 127.0.0.1 and on a Unix socket in DIR. initdb refuses
# to run as root, so as root the cluster belongs to the "postgres" user (made
# by Debian's postgresql package). Extra server options: PG_OPTS.
set -euo pipefail

cmd=${1:?usage: pg.sh start|stop|url DIR [PORT]}
dir=${2:?usage: pg.sh start|stop|url DIR [PORT]}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data="$dir/data"

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/initdb" ] || { echo "pg.sh: PostgreSQL server not installed (deploy/deps.sh)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

url() {
  echo "postgresql://vodhook@127.0.0.1:$(cat "$dir/port")/vodhook"
}

case "$cmd" in
start)
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
    if ! runuser -u postgres -- test -w "$dir"; then
      echo "pg.sh: the postgres user cannot write $dir (a parent directory is private?)" >&2
      exit 1
    fi
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    as_owner "$bindir/initdb" -D "$data" -U vodhook --auth=trust -E UTF8 \
      --no-locale --no-sync >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  port=${3:-}
  [ -n "$port" ] || port=$(cat "$dir/port" 2>/dev/null || free_port)
  as_owner sh -c "echo $port >'$dir/port'"
  if ! as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_owner "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 ${PG_OPTS:-}" \
      start >/dev/null || { tail -20 "$dir/server.log" >&2; exit 1; }
  fi
  if ! as_owner "$bindir/psql" -h "$dir" -p "$port" -U vodhook -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='vodhook'" | grep -q 1; then
    as_owner "$bindir/createdb" -h "$dir" -p "$port" -U vodhook vodhook
  fi
  url
  ;;
stop)
  if [ -f "$data/PG_VERSION" ]; then
    as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  ;;
url)
  url
  ;;
*)
  echo "pg.sh: unknown command $cmd" >&2
  exit 2
  ;;
esac

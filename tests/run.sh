#!/usr/bin/env bash
# vodhook's test suite: installs what is missing, builds with -Werror and
# ASan+UBSan, starts a throwaway PostgreSQL cluster on a free port, runs every
# test with ctest, and stops what it started, even on failure.
#
#   tests/run.sh [ctest arguments...]     e.g. tests/run.sh -L unit
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build="${VODHOOK_TEST_BUILD:-$top/build-test}"
"$top/deploy/deps.sh" --test

cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DVODHOOK_WERROR=ON -DVODHOOK_SANITIZE=ON -DVODHOOK_BUILD_TESTS=ON >/dev/null
cmake --build "$build"

work=$(mktemp -d /tmp/vodhook-test.XXXXXX)
chmod 755 "$work"
cleanup() {
  "$top/deploy/pg.sh" stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# The tests run many short transactions: durability is not under test here.
export PG_OPTS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
VH_TEST_DATABASE_URL=$("$top/deploy/pg.sh" start "$work/pg")
export VH_TEST_DATABASE_URL VH_TEST_PG_DIR="$work/pg" VH_TEST_WORK="$work"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

cd "$build"
ctest --output-on-failure -j2 "$@"

#!/usr/bin/env bash
# vodhook's test suite: installs what is missing, builds with -Werror and
# ASan+UBSan, starts a throwaway PostgreSQL cluster on a free port, runs every
# test with ctest, and stops what it started, even on failure.
#
#   tests/run.sh [ctest arguments...]          e.g. tests/run.sh -L unit
#   tests/run.sh --tsan [ctest arguments...]   the same with ThreadSanitizer
#
# --tsan builds into build-tsan (VODHOOK_TSAN_BUILD moves it) with
# ThreadSanitizer instead of ASan+UBSan, which cannot share a process with it,
# and leaves out the emulator's tests, which run no vodhook code. A data race
# stops the process that has it (halt_on_error), so the test fails; the races
# in uninstrumented libraries that tests/tsan.supp lists, each with its reason,
# are ignored.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tsan=0
if [ "${1:-}" = "--tsan" ]; then
  tsan=1
  shift
fi
"$top/deploy/deps.sh" --test

if [ "$tsan" = 1 ]; then
  build="${VODHOOK_TSAN_BUILD:-$top/build-tsan}"
  sanitizer=(-DVODHOOK_SANITIZE=OFF -DVODHOOK_TSAN=ON)
else
  build="${VODHOOK_TEST_BUILD:-$top/build-test}"
  sanitizer=(-DVODHOOK_SANITIZE=ON -DVODHOOK_TSAN=OFF)
fi
cmake -S "$top" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DVODHOOK_WERROR=ON "${sanitizer[@]}" -DVODHOOK_BUILD_TESTS=ON >/dev/null
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

run=()
if [ "$tsan" = 1 ]; then
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$top/tests/tsan.supp"
  export VH_TEST_WAIT=90
  # gcc 12's ThreadSanitizer expects the address space layout of kernels with
  # fewer random mmap bits; on a kernel with more it stops at start-up with
  # "unexpected memory mapping". Without address randomisation (setarch -R,
  # inherited by every process ctest starts) the layout is the expected one.
  if ! probe=$("$build/server/vodhook" --help 2>&1) &&
    grep -q "unexpected memory mapping" <<<"$probe"; then
    echo "ThreadSanitizer: unexpected memory mapping; running under setarch -R" >&2
    run=(setarch "$(uname -m)" -R)
  fi
  set -- -LE emulator "$@"
else
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi

cd "$build"
"${run[@]}" ctest --output-on-failure -j2 "$@"

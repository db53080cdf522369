#!/usr/bin/env bash
# bench/fuzz.sh [seconds]: build the libFuzzer targets with clang in
# build-fuzz/ (VODHOOK_BUILD_FUZZERS=ON) and run each for N seconds (default
# 60) on a scratch copy of its committed corpus, printing execs/s and any
# crash. Exit status 1 when a fuzzer found a crash, leak or timeout.
#
# Crash inputs are kept in build-fuzz/fuzz-out/<target>/; to keep a new
# interesting input, copy it into tests/fuzz/corpus/<target>/.
set -euo pipefail

secs=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-fuzz
targets=(fuzz_parse_tencent fuzz_parse_alibaba fuzz_verify)

CC=clang cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DVODHOOK_BUILD_FUZZERS=ON -DVODHOOK_SANITIZE=OFF -DVODHOOK_WERROR=ON >/dev/null
ninja -C "$build" "${targets[@]}" >/dev/null

status=0
for t in "${targets[@]}"; do
	out=$build/fuzz-out/$t
	work=$out/corpus
	rm -rf "$work"
	mkdir -p "$work"
	cp "$root/tests/fuzz/corpus/$t/"* "$work/"
	log=$out/run.log
	rc=0
	(cd "$out" && "$build/tests/fuzz/$t" -max_total_time="$secs" -max_len=16384 \
		-dict="$root/tests/fuzz/callbacks.dict" -print_final_stats=1 \
		"$work" >"$log" 2>&1) || rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)
	printf '%-22s %10s runs %8s execs/s  %s\n' "$t" "${runs:-?}" "${speed:-?}" "$cov"
	if [ "$rc" -ne 0 ]; then
		status=1
		echo "  $t FAILED (exit $rc), log $log; artifacts:"
		ls "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* 2>/dev/null | sed 's/^/    /'
		grep -m 5 -E 'ERROR|SUMMARY' "$log" | sed 's/^/    /'
	fi
done
exit $status

#!/usr/bin/env bash
# tests/fuzz/run.sh (--seconds N | --runs N) BUILD_DIR TARGET...
# Run each libFuzzer target BUILD_DIR/fuzz/TARGET on its seeds
# (BUILD_DIR/seeds/TARGET). --seconds: a timed campaign that grows the
# kept corpus BUILD_DIR/corpus/TARGET. --runs: a bounded smoke run with a
# fixed seed into a throw-away corpus. Crash inputs go to
# BUILD_DIR/artifacts/. Prints one line per target; exits 1 if any failed.
set -u
mode=$1 n=$2 build=$3
shift 3
fail=0
mkdir -p "$build/artifacts"
for t in "$@"; do
	bin=$build/fuzz/$t
	seeds=$build/seeds/$t
	log=$build/artifacts/$t.log
	if [ "$mode" = --seconds ]; then
		corpus=$build/corpus/$t
		mkdir -p "$corpus"
		args=(-max_total_time="$n" -print_final_stats=1)
	else
		corpus=$(mktemp -d "${TMPDIR:-/tmp}/cvisor-fuzz.XXXXXX")
		args=(-runs="$n" -seed=1 -print_final_stats=1)
	fi
	# -timeout: one input taking seconds is a hang worth reporting.
	"$bin" "${args[@]}" -timeout=10 -rss_limit_mb=4096 \
		-artifact_prefix="$build/artifacts/$t-" "$corpus" "$seeds" >"$log" 2>&1
	rc=$?
	[ "$mode" = --seconds ] || rm -rf "$corpus"
	runs=$(grep -m1 -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
	secs=$(grep -m1 -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$')
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
	if [ $rc -eq 0 ]; then
		printf 'PASS  %-12s %s runs, %s exec/s, %s\n' "$t" "${runs:-?}" "${secs:-?}" "${cov:-?}"
	else
		printf 'FAIL  %-12s exit %d, log %s\n' "$t" "$rc" "$log"
		grep -E 'ERROR|SUMMARY|fuzz_(elf|gofer):|Test unit written' "$log" | head -8 | sed 's/^/      /'
		fail=1
	fi
done
exit $fail

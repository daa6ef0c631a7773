#!/usr/bin/env bash
# bench/run.sh [--bin PATH_TO_cvisor] [--runs N] — benchmarks side by side.
#
# Columns: native | cvisor-systrap | cvisor-ptrace | runsc-ptrace
# Rows:    getpid, open+close, read 4KiB (ns/op, from build/bench/*_bench),
#          startup (median wall ms of N runs of `do /bin/busybox true`;
#          runsc: `do /bin/true`), RSS (peak of the summed PSS of the runtime's whole
#          process tree while running `sleep 1`, MiB).
# Builds nothing (make bench builds build/bench/*). Never asserts on timing; a missing
# runtime shows n/a, a failed run shows "fail". Always exits 0 once it has run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
CVISOR=$top/bin/cvisor
RUNS=20
while [ $# -gt 0 ]; do
	case "$1" in
	--bin) CVISOR=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	*) echo "usage: bench/run.sh [--bin PATH] [--runs N]" >&2; exit 2 ;;
	esac
done
case "$CVISOR" in /*) ;; *) CVISOR="$(pwd)/$CVISOR" ;; esac
BENCH=$top/build/bench
T=${BENCH_TIMEOUT:-120}
# The sandbox's /tmp is a private tmpfs: a checkout under the host's /tmp is
# invisible inside, so run copies of the benchmark programs from /var/tmp.
STAGE=""
case "$BENCH" in
/tmp/*)
	STAGE=$(mktemp -d /var/tmp/cvisor-bench-stage.XXXXXX)
	cp "$BENCH"/*_bench "$STAGE"/ 2>/dev/null
	BENCH=$STAGE ;;
esac

COLS=(native cvisor-systrap cvisor-ptrace runsc-ptrace)
RUNSC=$(command -v runsc || true)
RUNSC_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/cvisor-bench-runsc.XXXXXX")
trap 'rm -rf "$RUNSC_ROOT" ${STAGE:+"$STAGE"}' EXIT

# prefix COL -> the command prefix as words in PREFIX, or return 1 if unavailable.
prefix() {
	case "$1" in
	native) PREFIX=() ;;
	cvisor-systrap) [ -x "$CVISOR" ] || return 1; PREFIX=("$CVISOR" --platform=systrap do --) ;;
	cvisor-ptrace) [ -x "$CVISOR" ] || return 1; PREFIX=("$CVISOR" --platform=ptrace do --) ;;
	runsc-ptrace)
		# runsc do needs root; it runs the command with the host / as the root
		# (overlay), no bundle. --root keeps its state out of /var/run.
		[ -n "$RUNSC" ] && [ "$(id -u)" -eq 0 ] || return 1
		PREFIX=("$RUNSC" --root="$RUNSC_ROOT" --network=none --platform=ptrace do) ;;
	esac
}

declare -A R

# ---- micro-benchmarks ------------------------------------------------------------
BENCHES=(getpid:getpid_bench open_close:open_close_bench read4k:read4k_bench)
for col in "${COLS[@]}"; do
	if ! prefix "$col"; then
		for b in "${BENCHES[@]}"; do R["${b%%:*}|$col"]=n/a; done
		R["startup|$col"]=n/a
		R["rss|$col"]=n/a
		continue
	fi
	for b in "${BENCHES[@]}"; do
		key=${b%%:*} prog=$BENCH/${b#*:}
		if [ ! -x "$prog" ]; then R["$key|$col"]=n/a; continue; fi
		out=$( (timeout -k 5 "$T" "${PREFIX[@]}" "$prog" 2>/dev/null </dev/null; exit $?) 2>/dev/null)
		v=$(printf '%s\n' "$out" | awk -v k="$key" '$1 == k { print $2 }' | tail -n 1)
		R["$key|$col"]=${v:-fail}
	done
done

# ---- startup: median wall time of RUNS x `do true` ---------------------------------
now_ns() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "fail"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
for col in "${COLS[@]}"; do
	prefix "$col" || continue
	case "$col" in runsc-*) cmd=(/bin/true) ;; *) cmd=(/bin/busybox true) ;; esac
	times=()
	for ((i = 0; i < RUNS; i++)); do
		t0=$(now_ns)
		if (timeout -k 5 "$T" "${PREFIX[@]}" "${cmd[@]}" >/dev/null 2>&1 </dev/null; exit $?) 2>/dev/null; then
			t1=$(now_ns)
			times+=($(((t1 - t0) / 1000)))   # microseconds
		fi
	done
	if [ ${#times[@]} -eq 0 ]; then
		R["startup|$col"]=fail
	else
		us=$(printf '%s\n' "${times[@]}" | median)
		R["startup|$col"]=$(awk -v u="$us" 'BEGIN { printf "%.1f", u / 1000 }')
	fi
done

# ---- RSS: poll the process tree, sum PSS (RSS if PSS is unreadable) ------------------
descendants() { # PID -> PID and all its descendants (by ppid, one /proc scan)
	local root=$1
	awk -v root="$root" '
		FNR == 1 {
			# /proc/PID/stat: "pid (comm) state ppid ..."; comm may contain spaces
			line = $0; sub(/^.*\) /, "", line); split(line, f, " ")
			pid = FILENAME; sub("/proc/", "", pid); sub("/stat", "", pid)
			parent[pid] = f[2]; nextfile
		}
		END {
			keep[root] = 1; changed = 1
			while (changed) {
				changed = 0
				for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; changed = 1 }
			}
			for (p in keep) print p
		}' /proc/[0-9]*/stat 2>/dev/null
}
tree_kb() { # PID -> summed Pss (or VmRSS) in KiB over the tree
	local sum=0 p v
	for p in $(descendants "$1"); do
		v=$(awk '/^Pss:/ { print $2; exit }' "/proc/$p/smaps_rollup" 2>/dev/null)
		[ -z "$v" ] && v=$(awk '/^VmRSS:/ { print $2; exit }' "/proc/$p/status" 2>/dev/null)
		sum=$((sum + ${v:-0}))
	done
	echo $sum
}
for col in "${COLS[@]}"; do
	prefix "$col" || continue
	case "$col" in runsc-*) cmd=(/bin/sleep 1) ;; *) cmd=(/bin/busybox sleep 1) ;; esac
	timeout -k 5 "$T" "${PREFIX[@]}" "${cmd[@]}" >/dev/null 2>&1 </dev/null &
	pid=$!
	peak=0
	while kill -0 "$pid" 2>/dev/null; do
		kb=$(tree_kb "$pid")
		[ "$kb" -gt "$peak" ] && peak=$kb
		sleep 0.05
	done
	if wait "$pid" && [ "$peak" -gt 0 ]; then
		R["rss|$col"]=$(awk -v k="$peak" 'BEGIN { printf "%.1f", k / 1024 }')
	else
		R["rss|$col"]=fail
	fi
done

# ---- table ---------------------------------------------------------------------------
ROWS=("getpid:getpid (ns/op)" "open_close:open+close (ns/op)" "read4k:read 4KiB (ns/op)"
	"startup:startup, do true (ms)" "rss:RSS, peak PSS (MiB)")
printf '%-26s' ""
for col in "${COLS[@]}"; do printf ' | %14s' "$col"; done
echo
printf '%-26s' "" | tr ' ' '-'
for col in "${COLS[@]}"; do printf -- '-+-%14s' "" | tr ' ' '-'; done
echo
for row in "${ROWS[@]}"; do
	key=${row%%:*}
	printf '%-26s' "${row#*:}"
	for col in "${COLS[@]}"; do printf ' | %14s' "${R["$key|$col"]:-n/a}"; done
	echo
done
echo "(startup: median of $RUNS runs; cvisor/native run /bin/busybox true, runsc runs /bin/true)"
exit 0

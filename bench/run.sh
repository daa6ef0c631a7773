#!/usr/bin/env bash
# bench/run.sh [--bin PATH_TO_cvisor] [--bench-dir DIR] [--runs N] [--only KEYS]
#   — benchmarks side by side.
# --bench-dir: where the *_bench programs are (default: bench/ next to --bin's
#   cvisor when it exists, e.g. build-fsperf/bench for build-fsperf/cvisor, else
#   build/bench). --only: comma-separated row keys to run (getpid, open_close,
#   read4k, fork_exit_wait, pipe_rtt, pagefault, seqread, stat10k, startup,
#   python, rss), e.g. --only seqread,stat10k,python for the file-system bars.
#
# Columns: native | cvisor-systrap | cvisor-ptrace | runsc-ptrace
# Rows:    getpid, open+close, read 4KiB (ns/op), fork+exit+wait (us/iter), pipe 1-byte
#          round trip between two processes (us), first touch of fresh anonymous pages
#          (ns/page), sequential 1 MiB read()s of a 256 MiB host file (MiB/s), a
#          find-like walk (getdents64 + fstatat) of a 10k-file host tree (median ms
#          per walk) — all from build/bench/*_bench —, startup (median wall ms of N
#          runs of `do /bin/busybox true`; runsc: `do /bin/true`), python3 startup
#          (median wall ms of PY_RUNS runs of /usr/bin/python3 -c 'import json, email,
#          http.client' after one untimed run), RSS (peak of the summed PSS of the
#          runtime's whole process tree while running `sleep 1`, MiB).
# The 256 MiB file and the 10k-file tree are made on the host under /var/tmp (so the
# sandboxes see them through their gofers, not their private /tmp) and removed at exit.
# Under the table: the ratios the project's bars are stated in (informational).
# Builds nothing (make bench builds build/bench/*). Never asserts on timing; a missing
# runtime shows n/a, a failed run shows "fail". Always exits 0 once it has run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
CVISOR=$top/bin/cvisor
RUNS=20
PY_RUNS=10
BENCH=""
ONLY=""
while [ $# -gt 0 ]; do
	case "$1" in
	--bin) CVISOR=$2; shift 2 ;;
	--bench-dir) BENCH=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--only) ONLY=",$2,"; shift 2 ;;
	*) echo "usage: bench/run.sh [--bin PATH] [--bench-dir DIR] [--runs N] [--only KEYS]" >&2; exit 2 ;;
	esac
done
case "$CVISOR" in /*) ;; *) CVISOR="$(pwd)/$CVISOR" ;; esac
if [ -z "$BENCH" ]; then
	BENCH=$top/build/bench
	[ -d "$(dirname "$CVISOR")/bench" ] && BENCH=$(dirname "$CVISOR")/bench
fi
case "$BENCH" in /*) ;; *) BENCH="$(pwd)/$BENCH" ;; esac
# want KEY: is the row selected by --only (all rows without it)?
want() { [ -z "$ONLY" ] || [[ "$ONLY" == *",$1,"* ]]; }
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

# BENCH_COLS="native cvisor-systrap" runs a subset of the columns.
read -r -a COLS <<<"${BENCH_COLS:-native cvisor-systrap cvisor-ptrace runsc-ptrace}"
RUNSC=$(command -v runsc || true)
RUNSC_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/cvisor-bench-runsc.XXXXXX")
DATA=$(mktemp -d /var/tmp/cvisor-bench-data.XXXXXX)
trap 'rm -rf "$RUNSC_ROOT" "$DATA" ${STAGE:+"$STAGE"}' EXIT

# ---- data on the host: a 256 MiB file, a tree of 100 dirs x 100 empty files ------------
BIGFILE=$DATA/seq256m TREE=$DATA/tree
want seqread && { dd if=/dev/zero of="$BIGFILE" bs=1M count=256 status=none 2>/dev/null || rm -f "$BIGFILE"; }
want stat10k && mkdir -p "$TREE" && for d in $(seq -w 0 99); do
	if ! { mkdir "$TREE/d$d" && (cd "$TREE/d$d" && touch f{00..99}); }; then
		rm -rf "$TREE"
		break
	fi
done

# prefix COL -> the command prefix as words in PREFIX, or return 1 if unavailable.
prefix() {
	case "$1" in
	native) PREFIX=() ;;
	cvisor-systrap) [ -x "$CVISOR" ] || return 1; PREFIX=("$CVISOR" --platform=systrap "do" --) ;;
	cvisor-ptrace) [ -x "$CVISOR" ] || return 1; PREFIX=("$CVISOR" --platform=ptrace "do" --) ;;
	runsc-ptrace)
		# runsc do needs root; it runs the command with the host / as the root
		# (overlay), no bundle. --root keeps its state out of /var/run.
		[ -n "$RUNSC" ] && [ "$(id -u)" -eq 0 ] || return 1
		PREFIX=("$RUNSC" --root="$RUNSC_ROOT" --network=none --platform=ptrace "do") ;;
	esac
}

declare -A R

# ---- micro-benchmarks: "key:program[:args]", each prints "key value" -------------------
BENCHES=(getpid:getpid_bench open_close:open_close_bench read4k:read4k_bench
	fork_exit_wait:fork_bench pipe_rtt:pipe_bench pagefault:pagefault_bench
	seqread:seqread_bench:"$BIGFILE" stat10k:stat10k_bench:"$TREE")
for col in "${COLS[@]}"; do
	if ! prefix "$col"; then
		for b in "${BENCHES[@]}" startup python rss; do R["${b%%:*}|$col"]=n/a; done
		continue
	fi
	for b in "${BENCHES[@]}"; do
		IFS=: read -r key name args <<<"$b"
		want "$key" || continue
		prog=$BENCH/$name
		if [ ! -x "$prog" ]; then R["$key|$col"]=n/a; continue; fi
		case "$name" in # the data they read must exist
		seqread_bench) [ -f "$BIGFILE" ] || { R["$key|$col"]=n/a; continue; } ;;
		stat10k_bench) [ -d "$TREE" ] || { R["$key|$col"]=n/a; continue; } ;;
		esac
		# shellcheck disable=SC2086 # args: one path, no spaces (mktemp under /var/tmp)
		out=$( (timeout -k 5 "$T" "${PREFIX[@]}" "$prog" $args 2>/dev/null </dev/null; exit $?) 2>/dev/null)
		v=$(printf '%s\n' "$out" | awk -v k="$key" '$1 == k { print $2 }' | tail -n 1)
		R["$key|$col"]=${v:-fail}
	done
done
rm -f "$BIGFILE" # 256 MiB: not needed past this point

# ---- startup: median wall time of N runs of a command -------------------------------
now_ns() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "fail"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
wall_median_ms() { # N CMD... (with PREFIX set) -> median wall ms of the runs that exited 0, or fail
	local n=$1 i t0 t1 times=()
	shift
	for ((i = 0; i < n; i++)); do
		t0=$(now_ns)
		if (timeout -k 5 "$T" "${PREFIX[@]}" "$@" >/dev/null 2>&1 </dev/null; exit $?) 2>/dev/null; then
			t1=$(now_ns)
			times+=($(((t1 - t0) / 1000)))   # microseconds
		fi
	done
	if [ ${#times[@]} -eq 0 ]; then
		echo fail
	else
		printf '%s\n' "${times[@]}" | median | awk '{ if ($1 == "fail") print; else printf "%.1f\n", $1 / 1000 }'
	fi
}
PYTHON=/usr/bin/python3 # the host's dynamic python3 (not a pyenv shim script)
PYCODE='import json, email, http.client'
for col in "${COLS[@]}"; do
	prefix "$col" || continue
	case "$col" in runsc-*) cmd=(/bin/true) ;; *) cmd=(/bin/busybox true) ;; esac
	want startup && R["startup|$col"]=$(wall_median_ms "$RUNS" "${cmd[@]}")
	if ! want python; then
		:
	elif [ -x "$PYTHON" ]; then
		wall_median_ms 1 "$PYTHON" -c "$PYCODE" >/dev/null # untimed: warm the host page cache
		R["python|$col"]=$(wall_median_ms "$PY_RUNS" "$PYTHON" -c "$PYCODE")
	else
		R["python|$col"]=n/a
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
	want rss || break
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
	"fork_exit_wait:fork+exit+wait (us/iter)" "pipe_rtt:pipe 1-byte RTT (us)"
	"pagefault:page fault, anon (ns/page)" "seqread:seq read 256MiB (MiB/s)"
	"stat10k:walk+stat 10k files (ms)" "startup:startup, do true (ms)"
	"python:python3 import (ms)" "rss:RSS, peak PSS (MiB)")
printf '%-32s' ""
for col in "${COLS[@]}"; do printf ' | %14s' "$col"; done
echo
printf '%-32s' "" | tr ' ' '-'
for col in "${COLS[@]}"; do printf -- '-+-%14s' "" | tr ' ' '-'; done
echo
for row in "${ROWS[@]}"; do
	key=${row%%:*}
	printf '%-32s' "${row#*:}"
	for col in "${COLS[@]}"; do printf ' | %14s' "${R["$key|$col"]:-n/a}"; done
	echo
done
echo "(startup: median of $RUNS runs; cvisor/native run /bin/busybox true, runsc runs /bin/true;"
echo " python3 import: median of $PY_RUNS runs of $PYTHON -c '$PYCODE';"
echo " walk+stat: median of >= 3 in-process walks, the first one cold)"

# ---- ratios the project's bars are stated in (informational, never a failure) ---------
# ratio KEY COL MODE -> COL/native ("x") or, MODE=pct, COL as a percentage of native
ratio() {
	awk -v a="${R["$1|$2"]:-}" -v b="${R["$1|native"]:-}" -v m="$3" 'BEGIN {
		if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b + 0 == 0) { print "n/a"; exit }
		if (m == "pct") printf "%.0f%%\n", 100 * a / b; else printf "%.2fx\n", a / b }'
}
# verdict VALUE OP BAR -> "met" / "not met" / "" (VALUE like 3.10x or 85%)
verdict() {
	awk -v v="$1" -v op="$2" -v bar="$3" 'BEGIN {
		sub(/[x%]$/, "", v); if (v !~ /^[0-9.]+$/) exit
		ok = (op == "<=") ? (v + 0 <= bar + 0) : (v + 0 >= bar + 0)
		print ok ? "met" : "NOT met" }'
}
echo
echo "ratios vs native (cvisor-systrap / cvisor-ptrace; bars from the project goals):"
bar_line() { # LABEL KEY MODE OP BAR BARTEXT
	local s p vs vp
	s=$(ratio "$2" cvisor-systrap "$3") p=$(ratio "$2" cvisor-ptrace "$3")
	printf '  %-34s systrap %8s   ptrace %8s' "$1" "$s" "$p"
	if [ -n "$4" ]; then
		vs=$(verdict "$s" "$4" "$5") vp=$(verdict "$p" "$4" "$5")
		printf '   (bar %s: systrap %s, ptrace %s)' "$6" "${vs:-n/a}" "${vp:-n/a}"
	fi
	echo
}
bar_line "getpid, cvisor/native" getpid x "" "" ""
bar_line "pipe RTT, cvisor/native" pipe_rtt x "<=" 5 "<= 5x"
bar_line "seq read, cvisor as % of native" seqread pct ">=" 80 ">= 80%"
bar_line "walk+stat 10k, cvisor/native" stat10k x "<=" 3 "<= 3x"
bar_line "python3 import, cvisor/native" python x "<=" 2 "<= 2x"
exit 0

#!/usr/bin/env bash
# tests/run.sh — run syscall test binaries natively and under each cvisor platform and
# print a matrix.
#
#   tests/run.sh [--bin PATH_TO_cvisor] [--platforms "native systrap ptrace"]
#                [--filter REGEX] [--timeout SEC] [--verbose] TEST...
#
# TAP binaries (tests/syscalls/*_test.c): one cell per test x platform. A cell passes
# when the process exits 0, a plan line is present and matches the number of test
# lines, and there is no "not ok". Cells read "PASS p/n" (p tests passed or skipped of
# n planned), "FAIL p/n", "CRASH(SIGSEGV)", "TIMEOUT", "CRASH(nobin)" (runtime binary missing).
#
# gtest binaries (detected with --gtest_list_tests natively): every Suite.Case is run
# on its own with --gtest_filter on every platform and counts as one cell; the matrix
# shows one compact row per binary ("PASS 40/42" = cases passed of cases run).
#
# Ends with "N passed, M failed" (test x platform cells) and exits 1 if M > 0.
# Plain bash + coreutils; no python.
set -u

CVISOR=""
PLATFORMS="native systrap ptrace"
FILTER=""
TIMEOUT=60
VERBOSE=0
TESTS=()

usage() {
	sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--bin) CVISOR="$2"; shift 2 ;;
	--bin=*) CVISOR="${1#*=}"; shift ;;
	--platforms) PLATFORMS="$2"; shift 2 ;;
	--platforms=*) PLATFORMS="${1#*=}"; shift ;;
	--filter) FILTER="$2"; shift 2 ;;
	--filter=*) FILTER="${1#*=}"; shift ;;
	--timeout) TIMEOUT="$2"; shift 2 ;;
	--timeout=*) TIMEOUT="${1#*=}"; shift ;;
	-v|--verbose) VERBOSE=1; shift ;;
	-h|--help) usage ;;
	--) shift; TESTS+=("$@"); break ;;
	-*) echo "run.sh: unknown option $1" >&2; usage ;;
	*) TESTS+=("$1"); shift ;;
	esac
done

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
if [ ${#TESTS[@]} -eq 0 ]; then
	for t in "$top"/build/tests/*_test; do
		[ -x "$t" ] && TESTS+=("$t")
	done
fi
if [ -z "$CVISOR" ]; then
	CVISOR="$top/bin/cvisor"
fi
case "$CVISOR" in /*) ;; *) CVISOR="$(pwd)/$CVISOR" ;; esac

# The sandbox root the tests expect: an overlay by default (runsc
# --overlay2=root:memory); CVISOR_TEST_ROOT=ro for a read-only root.
if [ "${CVISOR_TEST_ROOT:-overlay}" = ro ]; then
	ROOT_ENV=CVISOR_EXPECT_RO_ROOT=1
else
	ROOT_ENV=CVISOR_EXPECT_OVERLAY=1
fi

read -r -a PLATS <<<"$PLATFORMS"
[ ${#PLATS[@]} -gt 0 ] || { echo "run.sh: no platforms" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cvisor-run.XXXXXX")
# Inside the sandbox /tmp is a private tmpfs, so test binaries that live under
# the host's /tmp (a checkout there) are copied to a directory it can see.
STAGE=""
trap 'rm -rf "$WORK" ${STAGE:+"$STAGE"}' EXIT

NPASS=0
NFAIL=0
NOBIN_SEEN=""
ROWS=()          # row labels
declare -A CELL  # "$row|$plat" -> cell text
FAILLOG="$WORK/failures"
: >"$FAILLOG"

sig_name() {
	local n
	n=$(kill -l "$1" 2>/dev/null) || n="$1"
	echo "SIG$n"
}

# run_cmd PLAT OUT ERR BIN ARGS... -> sets RC; handles a missing runtime.
run_cmd() {
	local plat=$1 out=$2 err=$3
	shift 3
	local bin=$1
	shift
	if [ "$plat" = native ]; then
		# The subshell keeps bash's "Segmentation fault" job notice off our stderr.
		( timeout -k 5 "$TIMEOUT" "$bin" "$@" >"$out" 2>"$err" </dev/null; exit $? ) 2>/dev/null
		RC=$?
	else
		if [ ! -x "$CVISOR" ]; then
			echo "cvisor binary not found: $CVISOR" >"$err"
			: >"$out"
			RC=-1
			return
		fi
		( timeout -k 5 "$TIMEOUT" "$CVISOR" --platform="$plat" do \
			--env "$ROOT_ENV" -- "$bin" "$@" >"$out" 2>"$err" </dev/null; exit $? ) 2>/dev/null
		RC=$?
	fi
}

# classify_rc RC -> echoes "" for a normal exit, or TIMEOUT / CRASH(SIGx) / NOBIN.
classify_rc() {
	local rc=$1
	if [ "$rc" -eq -1 ]; then echo "CRASH(nobin)"
	elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then echo TIMEOUT
	elif [ "$rc" -gt 128 ] && [ "$rc" -lt 160 ]; then echo "CRASH($(sig_name $((rc - 128))))"
	elif [ "$rc" -eq 126 ] || [ "$rc" -eq 127 ]; then echo "CRASH(exec:$rc)"
	else echo ""
	fi
}

add_failure() { # header file-with-details
	{
		echo "--- $1"
		cat "$2"
	} >>"$FAILLOG"
}

# ---- TAP ------------------------------------------------------------------------
run_tap() {
	local bin=$1 name=$2 plat out err
	for plat in "${PLATS[@]}"; do
		out="$WORK/out" err="$WORK/err"
		run_cmd "$plat" "$out" "$err" "$bin"
		local rc=$RC bad
		bad=$(classify_rc "$rc")
		local okc notok skipc plan total
		okc=$(grep -c '^ok ' "$out")
		notok=$(grep -c '^not ok ' "$out")
		skipc=$(grep -ciE '^ok [0-9]+.*# *skip' "$out")
		plan=$(grep -m1 -oE '^1\.\.[0-9]+' "$out" | cut -d. -f3)
		total=$((okc + notok))
		local cell status=fail why=""
		if [ -n "$bad" ]; then
			cell="$bad"
			why="$bad after $total test lines (exit status $rc)"
		elif [ -z "$plan" ]; then
			cell="FAIL $okc/?"
			why="no TAP plan (exit status $rc)"
		elif [ "$plan" -ne "$total" ]; then
			cell="FAIL $okc/$plan"
			why="plan 1..$plan but $total test lines"
		elif [ "$notok" -ne 0 ]; then
			cell="FAIL $okc/$plan"
		elif [ "$rc" -ne 0 ]; then
			cell="FAIL(exit $rc) $okc/$plan"
			why="all tests ok but exit status $rc"
		else
			cell="PASS $okc/$plan"
			status=pass
		fi
		[ "$skipc" -gt 0 ] && [ "$status" = pass ] && cell="$cell s$skipc"
		CELL["$name|$plat"]="$cell"
		if [ "$status" = pass ]; then
			NPASS=$((NPASS + 1))
		else
			NFAIL=$((NFAIL + 1))
			if [ "$bad" = "CRASH(nobin)" ]; then NOBIN_SEEN=1; continue; fi
			{
				[ -n "$why" ] && echo "  $why"
				# each "not ok" with the diagnostics that follow it
				awk '/^not ok /{p=1; print "  " $0; next} /^#/{ if (p) print "  " $0; next} {p=0}' "$out" | head -60
				grep -m1 '^Bail out!' "$out" | sed 's/^/  /'
				if [ -s "$err" ]; then
					echo "  stderr (last 15 lines):"
					tail -n 15 "$err" | sed 's/^/    /'
				fi
			} >"$WORK/detail"
			add_failure "$name [$plat]: $cell" "$WORK/detail"
		fi
		if [ $VERBOSE -eq 1 ]; then
			echo "== $name [$plat] rc=$rc"
			cat "$out"
		fi
	done
}

# ---- gtest -----------------------------------------------------------------------
# Parses a --gtest_list_tests listing into Suite.Case lines (drops "# TypeParam..."
# comments, keeps parameterised names as printed).
parse_gtest_list() {
	awk '
		/^[^ \t#]/ { suite = $1; next }
		/^  [^ \t#]/ { if (suite != "") print suite $1 }
	' "$1"
}

is_gtest() {
	local bin=$1
	# Cheap check first: gtest binaries carry the flag name in their strings.
	grep -qa -- 'gtest_list_tests' "$bin" 2>/dev/null || return 1
	timeout 30 "$bin" --gtest_list_tests >"$WORK/list" 2>/dev/null </dev/null || return 1
	parse_gtest_list "$WORK/list" >"$WORK/cases"
	[ -s "$WORK/cases" ]
}

run_gtest() {
	local bin=$1 name=$2 plat
	local -a cases=()
	mapfile -t cases <"$WORK/cases"
	if [ -n "$FILTER" ]; then
		local -a keep=()
		local c
		for c in "${cases[@]}"; do
			if [[ "$c" =~ $FILTER ]] || [[ "$name" =~ $FILTER ]]; then keep+=("$c"); fi
		done
		cases=("${keep[@]}")
	fi
	local n=${#cases[@]}
	for plat in "${PLATS[@]}"; do
		local p=0 f=0 t=0 c
		: >"$WORK/gdetail"
		for c in "${cases[@]}"; do
			run_cmd "$plat" "$WORK/out" "$WORK/err" "$bin" "--gtest_filter=$c"
			local rc=$RC bad
			bad=$(classify_rc "$rc")
			if [ -z "$bad" ] && [ "$rc" -eq 0 ] && ! grep -q '^\[  FAILED  \]' "$WORK/out" &&
				grep -q '^\[  PASSED  \] 1 test' "$WORK/out"; then
				p=$((p + 1))
			else
				f=$((f + 1))
				[ "$bad" = TIMEOUT ] && t=$((t + 1))
				{
					echo "  $c: ${bad:-exit $rc}"
					grep -E 'Failure|Expected|Which is|Value of|Actual|error:' "$WORK/out" |
						head -8 | sed 's/^/    /'
					[ -n "$bad" ] && [ -s "$WORK/err" ] && tail -n 5 "$WORK/err" | sed 's/^/    /'
				} >>"$WORK/gdetail"
			fi
			[ $VERBOSE -eq 1 ] && echo "== $name $c [$plat] rc=$rc"
		done
		NPASS=$((NPASS + p))
		NFAIL=$((NFAIL + f))
		local cell
		if [ $n -eq 0 ]; then cell="none"
		elif [ $f -eq 0 ]; then cell="PASS $p/$n"
		else cell="FAIL $p/$n"; [ $t -gt 0 ] && cell="$cell T$t"
		fi
		CELL["$name|$plat"]="$cell"
		[ $f -gt 0 ] && add_failure "$name [$plat] (gtest): $f of $n cases failed" "$WORK/gdetail"
	done
}

# ---- main loop -------------------------------------------------------------------
for t in "${TESTS[@]}"; do
	name=$(basename "$t")
	case "$t" in /*) abs="$t" ;; *) abs="$(pwd)/$t" ;; esac
	case "$abs" in
	/tmp/*)
		if [ -x "$abs" ]; then
			[ -n "$STAGE" ] || STAGE=$(mktemp -d /var/tmp/cvisor-run-stage.XXXXXX)
			cp "$abs" "$STAGE/$name" && abs="$STAGE/$name"
		fi ;;
	esac
	if [ ! -x "$abs" ]; then
		ROWS+=("$name")
		for plat in "${PLATS[@]}"; do
			CELL["$name|$plat"]="MISSING"
			NFAIL=$((NFAIL + 1))
		done
		echo "--- $name: test binary $abs not found or not executable" >>"$FAILLOG"
		continue
	fi
	if is_gtest "$abs"; then
		row="$name (gtest)"
		if [ -n "$FILTER" ] && ! grep -qE -- "$FILTER" "$WORK/cases" && ! [[ "$name" =~ $FILTER ]]; then
			continue
		fi
		ROWS+=("$row")
		run_gtest "$abs" "$row"
	else
		if [ -n "$FILTER" ] && ! [[ "$name" =~ $FILTER ]]; then
			continue
		fi
		ROWS+=("$name")
		run_tap "$abs" "$name"
	fi
done

# ---- report ----------------------------------------------------------------------
w=4
for r in "${ROWS[@]}"; do [ ${#r} -gt $w ] && w=${#r}; done
cw=16
for plat in "${PLATS[@]}"; do
	for r in "${ROWS[@]}"; do
		c=${CELL["$r|$plat"]:-}
		[ ${#c} -ge $cw ] && cw=$((${#c} + 1))
	done
done
printf '%-*s' "$w" "test"
for plat in "${PLATS[@]}"; do printf ' | %-*s' "$cw" "$plat"; done
echo
printf '%*s' "$w" '' | tr ' ' '-'
for plat in "${PLATS[@]}"; do printf -- '-+-%*s' "$cw" '' | tr ' ' '-'; done
echo
for r in "${ROWS[@]}"; do
	printf '%-*s' "$w" "$r"
	for plat in "${PLATS[@]}"; do printf ' | %-*s' "$cw" "${CELL["$r|$plat"]:-}"; done
	echo
done
echo "(cells: passed/planned; sN = N skipped, counted as passed)"

[ -n "$NOBIN_SEEN" ] && echo "note: runtime binary $CVISOR is missing; its cells count as CRASH(nobin)" >>"$FAILLOG"
if [ -s "$FAILLOG" ]; then
	echo
	echo "Failures:"
	cat "$FAILLOG"
fi
echo
echo "$NPASS passed, $NFAIL failed"
[ "$NFAIL" -eq 0 ]

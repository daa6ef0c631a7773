# tests/integration/lib.sh — the shared header of the integration scripts (sourced).
#
#   . "$(dirname "$0")/lib.sh"
#   lib_init TAG [TIMEOUT]
#
# After lib_init: CVISOR (absolute; from $1, else $CVISOR, else bin/cvisor), PLATFORMS
# (default "systrap ptrace"), T (TIMEOUT, default 60), BB=/bin/busybox, FIX (a fixture
# directory under /var/tmp, removed at exit: the sandbox's /tmp is a private tmpfs that
# hides the host's), OUT and ERR (files in FIX), and the functions below. A script
# that needs more clean-up sets LIB_CLEANUP to a command run before FIX is removed.

# ok STATUS DESC: one TAP test point; counts failures in $failed.
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}
# skip DESC WHY
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# ... | diag: TAP diagnostics
diag() { sed 's/^/# /'; }
# skip_all COUNT WHY: the whole plan skipped (a prerequisite is missing).
skip_all() {
	local i
	for i in $(seq 1 "$1"); do echo "ok $i # SKIP $2"; done
}

# cv ARGS...: run cvisor with a timeout and stdin from /dev/null; stdout -> $OUT,
# stderr -> $ERR, exit status -> $RC.
cv() {
	( timeout -k 5 "$T" "$CVISOR" "$@" >"$OUT" 2>"$ERR" </dev/null; exit $? ) 2>/dev/null
	RC=$?
}
# show [LINES]: what the last cv did, as diagnostics (call after a failure).
show() {
	local l=${1:-8}
	{
		echo "exit status $RC"
		echo "stdout:"; head -n "$l" "$OUT"
		echo "stderr:"; tail -n "$l" "$ERR"
	} | diag
}
# check STATUS DESC: ok, plus show on failure.
check() {
	ok "$1" "$2"
	[ "$1" -eq 0 ] || show
}

lib_cleanup() {
	[ -n "${LIB_CLEANUP:-}" ] && eval "$LIB_CLEANUP"
	rm -rf "$FIX"
}

lib_init() { # lib_init TAG [TIMEOUT]
	CVISOR=${LIB_ARG1:-${CVISOR:-bin/cvisor}}
	case "$CVISOR" in /*) ;; *) CVISOR="$(pwd)/$CVISOR" ;; esac
	PLATFORMS=${PLATFORMS:-"systrap ptrace"}
	T=${2:-60}
	BB=/bin/busybox
	n=0
	failed=0
	RC=0
	FIX=$(mktemp -d "/var/tmp/cvisor-$1.XXXXXX")
	OUT=$FIX/out
	ERR=$FIX/err
	: >"$OUT"
	: >"$ERR"
	trap lib_cleanup EXIT
}
# lib_test_bin NAME: the syscall test program NAME built next to $CVISOR
# (`make BUILD=X X/tests/NAME`), else in make's build/tests; empty if neither.
lib_test_bin() {
	local c
	for c in "$(dirname "$CVISOR")/tests/$1" "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/tests/$1"; do
		[ -x "$c" ] && { echo "$c"; return 0; }
	done
	return 1
}
LIB_ARG1=${1:-}

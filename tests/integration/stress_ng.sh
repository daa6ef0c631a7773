#!/usr/bin/env bash
# stress-ng's process, signal and IPC stressors inside the sandbox (TAP), on every
# platform: each must end with "successful run completed", exit 0 and print no
# "fail:" line. A hang or a sentry crash shows as a timeout or a bad status.
#   CVISOR=bin/cvisor tests/integration/stress_ng.sh      (or pass the path as $1)
# `make stress` runs it. It is not part of `make test`: it still finds intermittent
# bugs (--wait hung once under systrap, --sem once saw a MAP_SHARED counter as 0 under
# ptrace), which are open work, not something to retry away in CI.
set -u
CVISOR=${1:-${CVISOR:-bin/cvisor}}
case "$CVISOR" in /*) ;; *) CVISOR="$(pwd)/$CVISOR" ;; esac
PLATFORMS=${PLATFORMS:-"systrap ptrace"}
T=${STRESS_TIMEOUT:-60}
SECS=${STRESS_SECONDS:-1}
STRESSORS=${STRESSORS:-"fork vfork clone pthread kill sigchld sigsuspend sigrt sigq
	wait zombie futex pipe pipeherd eventfd sigfd pidfd timerfd sem-sysv msg mq
	shm shm-sysv inotify splice"}
# Left out: --sem (POSIX semaphores) fails now and then under ptrace with
# "corrupted bogo-ops counter": a MAP_SHARED page written by the child read as 0
# by the parent; a known open bug, not hidden by a retry.
SNG=$(command -v stress-ng || true)

n=0
ok() { # ok STATUS DESC
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
total=$(($(echo $STRESSORS | wc -w) * $(echo $PLATFORMS | wc -w)))
echo "1..$total"
if [ -z "$SNG" ]; then
	for i in $(seq 1 "$total"); do echo "ok $i - stress-ng # SKIP not installed"; done
	exit 0
fi
OUT=$(mktemp /var/tmp/cvisor-stress.XXXXXX)
trap 'rm -f "$OUT"' EXIT
for p in $PLATFORMS; do
	for s in $STRESSORS; do
		# stress-ng writes temporary files in its cwd: the sandbox's /tmp.
		( timeout -k 5 "$T" "$CVISOR" --platform="$p" do --cwd /tmp -- \
			"$SNG" --"$s" 1 --timeout "$SECS" >"$OUT" 2>&1 </dev/null; exit $? ) 2>/dev/null
		rc=$?
		grep -q 'successful run completed' "$OUT" && ! grep -q 'fail:' "$OUT" &&
			[ "$rc" -eq 0 ]
		st=$?
		ok $st "$p: stress-ng --$s"
		[ $st -eq 0 ] || { echo "# exit status $rc"; tail -n 6 "$OUT" | sed 's/^/# /'; }
	done
done

#!/usr/bin/env bash
# Processes end to end (TAP): a busybox shell forks, pipes, execs and waits inside the
# sandbox on every platform; exit statuses come back; init's end ends the sandbox.
#   CVISOR=bin/cvisor tests/integration/test_process.sh      (or pass the path as $1)
set -u
. "$(dirname "$0")/lib.sh"
lib_init proc "${PROC_TIMEOUT:-60}"

echo "1..$((6 * $(echo $PLATFORMS | wc -w)))"
if [ ! -x "$BB" ]; then
	skip_all $((6 * $(echo $PLATFORMS | wc -w))) "no $BB"
	exit 0
fi
for p in $PLATFORMS; do
	cv --platform="$p" do -- $BB sh -c "echo a | $BB tr a b"
	[ "$RC" -eq 0 ] && [ "$(cat "$OUT")" = b ]; s=$?
	ok $s "$p: echo a | tr a b"; [ $s -eq 0 ] || show

	cv --platform="$p" do -- $BB sh -c "for i in 1 2 3; do $BB true; done; echo done"
	[ "$RC" -eq 0 ] && [ "$(cat "$OUT")" = done ]; s=$?
	ok $s "$p: for loop of three execs"; [ $s -eq 0 ] || show

	cv --platform="$p" do -- $BB sh -c "$BB sh -c 'exit 7'; echo \$?"
	[ "$RC" -eq 0 ] && [ "$(cat "$OUT")" = 7 ]; s=$?
	ok $s "$p: a child's exit status reaches the shell"; [ $s -eq 0 ] || show

	cv --platform="$p" do -- $BB sh -c "exit 5"
	[ "$RC" -eq 5 ]; s=$?
	ok $s "$p: init's exit status is the sandbox's"; [ $s -eq 0 ] || show

	# The shell exits while a background child still runs: init's end kills it.
	cv --platform="$p" do -- $BB sh -c "$BB sleep 30 & echo started"
	[ "$RC" -eq 0 ] && [ "$(cat "$OUT")" = started ]; s=$?
	ok $s "$p: init exits with a child running; the sandbox ends"; [ $s -eq 0 ] || show

	# 100 concurrent children, all reaped by the shell's wait. (The EAGAIN of a
	# fork bomb is checked by process_fork_test through RLIMIT_NPROC; the
	# 4096-task cap is too slow to reach here: two stub processes per child.)
	cv --platform="$p" do -- $BB sh -c "i=0; while [ \$i -lt 100 ]; do $BB true & i=\$((i+1)); done; wait; echo alive"
	[ "$RC" -eq 0 ] && grep -q alive "$OUT"; s=$?
	ok $s "$p: 100 background children, wait reaps them all"; [ $s -eq 0 ] || show
done

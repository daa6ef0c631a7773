#!/usr/bin/env bash
# /proc, /sys and dmesg inside the sandbox (TAP): the seed lab's commands see the
# sandbox's own processes, cvisor's kernel identity and log, never the host's.
#   CVISOR=bin/cvisor tests/integration/test_proc.sh      (or pass the path as $1)
set -u
. "$(dirname "$0")/lib.sh"
lib_init procfs "${PROC_TIMEOUT:-60}"
PER=10

NP=$(echo $PLATFORMS | wc -w)
echo "1..$((PER * NP))"
if [ ! -x "$BB" ]; then
	skip_all $((PER * NP)) "no $BB"
	exit 0
fi
for p in $PLATFORMS; do
	cv --platform="$p" do -- $BB ps
	[ "$RC" -eq 0 ] && grep -q "ps" "$OUT" && [ "$(wc -l <"$OUT")" -le 4 ]; s=$?
	ok $s "$p: busybox ps shows only the sandbox"; [ $s -eq 0 ] || show

	cv --platform="$p" do -- $BB sh -c "$BB ls /proc | $BB wc -l"
	[ "$RC" -eq 0 ] && [ "$(cat "$OUT")" -lt 25 ] && [ "$(cat "$OUT")" -gt 5 ]; s=$?
	ok $s "$p: ls /proc | wc -l is small ($(cat "$OUT"))"; [ $s -eq 0 ] || show

	cv --platform="$p" do -- /bin/cat /proc/version
	[ "$RC" -eq 0 ] && grep -q "^Linux version .*cvisor" "$OUT"; s=$?
	ok $s "$p: /proc/version is cvisor's"; [ $s -eq 0 ] || show

	cv --platform="$p" do -- $BB sh -c "$BB dmesg | $BB grep -i cvisor"
	[ "$RC" -eq 0 ] && grep -qi "starting cvisor" "$OUT"; s=$?
	ok $s "$p: busybox dmesg shows the sandbox's boot log"; [ $s -eq 0 ] || show

	cv --platform="$p" do -- $BB free
	[ "$RC" -eq 0 ] && grep -q "^Mem:" "$OUT"; s=$?
	ok $s "$p: busybox free"; [ $s -eq 0 ] || show

	cv --platform="$p" do -- $BB uptime
	[ "$RC" -eq 0 ] && grep -q "load average" "$OUT"; s=$?
	ok $s "$p: busybox uptime"; [ $s -eq 0 ] || show

	cv --platform="$p" do -- nproc
	[ "$RC" -eq 0 ] && [ "$(cat "$OUT")" = "$(nproc)" ]; s=$?
	ok $s "$p: nproc matches the host's CPUs"; [ $s -eq 0 ] || show

	cv --platform="$p" do -- /bin/sh -c 'echo hi | cat /dev/stdin'
	[ "$RC" -eq 0 ] && [ "$(cat "$OUT")" = hi ]; s=$?
	ok $s "$p: cat /dev/stdin reads a pipe through /proc/self/fd/0"; [ $s -eq 0 ] || show

	# Listing only: stat of a cached dead PID still succeeds until the
	# dentry is pruned (vfs/namei.c has no revalidate hook; see procfs.c).
	cv --platform="$p" do -- /bin/sh -c 'sleep 0.2 & p=$!; test -d /proc/$p && wait $p; ls /proc | grep -qx $p || echo gone'
	[ "$RC" -eq 0 ] && [ "$(cat "$OUT")" = gone ]; s=$?
	ok $s "$p: a reaped PID leaves the /proc listing"; [ $s -eq 0 ] || show

	if command -v dmesg >/dev/null; then
		cv --platform="$p" do -- dmesg
		[ "$RC" -eq 0 ] && grep -qi "cvisor" "$OUT" && ! grep -q "$(uname -r)" "$OUT"; s=$?
		ok $s "$p: util-linux dmesg shows cvisor's log, not the host's"; [ $s -eq 0 ] || show
	else
		ok 0 "$p: util-linux dmesg # SKIP not installed"
	fi
done

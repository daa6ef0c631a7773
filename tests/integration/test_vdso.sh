#!/usr/bin/env bash
# The vDSO answers clock_gettime without a trap (TAP): on each platform,
# `vdso_test loop 1000` (1000 clock_gettime(CLOCK_MONOTONIC) calls through libc) runs
# under `cvisor --strace`, which logs every syscall the sentry serves, and fewer than
# 10 clock_gettime lines may appear (without a vDSO there are 1000). vdso_test itself
# checks that the answers are right (tests/syscalls/vdso_test.c).
#   tests/integration/run.sh build-vdso/cvisor tests/integration/test_vdso.sh
# The test binary: $VDSO_TEST, else tests/vdso_test next to cvisor, else build/.
set -u
. "$(dirname "$0")/lib.sh"
lib_init vdso "${VDSO_TIMEOUT:-60}"
BIN=${VDSO_TEST:-$(lib_test_bin vdso_test)}

set -- $PLATFORMS
echo "1..$((2 * $#))"
if [ -z "$BIN" ]; then
	skip_all $((2 * $#)) "vdso_test not built"
	exit 0
fi
# The sandbox's /tmp is private: run a copy from /var/tmp.
cp "$BIN" "$FIX/vdso_test"
for p in $PLATFORMS; do
	cv --platform="$p" --strace do -- "$FIX/vdso_test" loop 1000
	check $RC "$p: 1000 clock_gettime calls run"
	# --strace lines go to stderr: "[tid] +time clock_gettime(...) = 0 <...>"
	calls=$(grep -c 'clock_gettime(' "$ERR")
	[ "$calls" -lt 10 ]
	ok $? "$p: they do not trap ($calls clock_gettime syscalls served)"
done

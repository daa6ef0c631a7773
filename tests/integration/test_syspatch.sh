#!/usr/bin/env bash
# systrap syscall patching (TAP): tests/syscalls/syspatch_test passes with patching on
# (the default) and off (--systrap-patch=false, CVISOR_SYSTRAP_PATCH=0), and the
# platform's debug counters show that the patched path was really taken on, and never
# off, so a patcher that silently stops patching fails here.
#   CVISOR=build-patch/cvisor tests/integration/test_syspatch.sh   (or pass the path as $1)
# The test binary: $SYSPATCH_TEST, else tests/syspatch_test next to cvisor, else build/.
set -u
. "$(dirname "$0")/lib.sh"
lib_init syspatch "${SYSPATCH_TIMEOUT:-120}"
BIN=${SYSPATCH_TEST:-$(lib_test_bin syspatch_test)}

echo "1..9"
if [ -z "$BIN" ]; then
	skip_all 9 "syspatch_test not built"
	exit 0
fi
# The sandbox's /tmp is private: run a copy from /var/tmp.
cp "$BIN" "$FIX/syspatch_test"
run() { # run LOG [cvisor flags...]
	local log=$1
	shift
	( timeout -k 5 "$T" "$CVISOR" --debug-log="$log" "$@" do -- "$FIX/syspatch_test" \
		>"$FIX/out" 2>&1 </dev/null; exit $? ) 2>/dev/null
	RC=$?
	grep -q '^not ok' "$FIX/out" && RC=1
	[ $RC -eq 0 ] || sed 's/^/# /' "$FIX/out" | grep -v '^# ok' | tail -n 15
}
# "systrap: syscall patching: N sites patched, M patched syscalls, R reframes, F fallbacks"
counter() { # counter LOG FIELD_INDEX(1=sites 2=syscalls 3=reframes 4=fallbacks)
	sed -n 's/.*syscall patching: \([0-9]*\) sites patched, \([0-9]*\) patched syscalls, \([0-9]*\) reframes, \([0-9]*\) fallbacks.*/\1 \2 \3 \4/p' "$1" |
		tail -n 1 | cut -d' ' -f"$2"
}

run "$FIX/on.log" --platform=systrap --debug
ok $RC "systrap (patching on): syspatch_test passes"
sites=$(counter "$FIX/on.log" 1); calls=$(counter "$FIX/on.log" 2)
reframes=$(counter "$FIX/on.log" 3); fallbacks=$(counter "$FIX/on.log" 4)
echo "# on: ${sites:-?} sites, ${calls:-?} patched syscalls, ${reframes:-?} reframes, ${fallbacks:-?} fallbacks"
[ "${sites:-0}" -ge 4 ]; ok $? "sites were patched (${sites:-none})"
# The loops make ~120k syscalls on the test's own sites after their first trap.
[ "${calls:-0}" -ge 100000 ]; ok $? "syscalls went through the trampoline (${calls:-none})"
[ "${reframes:-0}" -ge 1 ]; ok $? "signals took the full-state path (${reframes:-none} reframes)"
[ "${fallbacks:-0}" -ge 1 ]; ok $? "a thread with its own GS base fell back (${fallbacks:-none})"

run "$FIX/off.log" --platform=systrap --debug --systrap-patch=false
ok $RC "systrap --systrap-patch=false: syspatch_test passes"
! grep -q 'sites patched' "$FIX/off.log" && ! grep -q 'patched syscall [0-9]* at' "$FIX/off.log"
ok $? "--systrap-patch=false patches nothing"

CVISOR_SYSTRAP_PATCH=0 run "$FIX/env.log" --platform=systrap --debug
s=$RC
! grep -q 'patched syscall [0-9]* at' "$FIX/env.log"
ok $((s | $?)) "CVISOR_SYSTRAP_PATCH=0: passes, patches nothing"

run "$FIX/ptrace.log" --platform=ptrace
ok $RC "ptrace: syspatch_test passes"

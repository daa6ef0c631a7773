#!/usr/bin/env bash
# End-to-end CLI checks of `cvisor do` on every platform (TAP).
#   CVISOR=bin/cvisor tests/integration/test_cli.sh      (or pass the path as $1)
# Expected behaviour: the sandbox sees the host / read-only, a private writable tmpfs
# at /tmp and its own /dev; exit status is propagated, 128+sig on signal death; a
# missing command exits 127 with a message.
# Host-side fixtures live under /var/tmp, because the sandbox's /tmp is a private tmpfs
# that hides the host's /tmp.
set -u
. "$(dirname "$0")/lib.sh"
lib_init cli "${CLI_TIMEOUT:-60}"
# check COND DESC: as lib.sh's, but always fails when the binary is missing.
check() {
	local s=$1
	[ -x "$CVISOR" ] || s=1
	ok "$s" "$2"
	[ "$s" -eq 0 ] || show 10
}

if [ ! -x "$CVISOR" ]; then
	echo "# cvisor binary $CVISOR not found; every check fails"
fi

# ---- platform-independent CLI ---------------------------------------------------
cv --version
[ $RC -eq 0 ] && grep -qiE 'cvisor|version|[0-9]+\.[0-9]+' "$OUT"
check $? "--version prints a version and exits 0"
cv help
[ $RC -eq 0 ] && grep -qw do "$OUT" "$ERR"
check $? "help exits 0 and mentions the do command"

# Fixtures: a small root with a busybox copy, a marker and an escaping symlink.
ROOT=$FIX/root
mkdir -p "$ROOT/bin" "$ROOT/tmp" "$ROOT/dev"
cp "$BB" "$ROOT/bin/busybox"
echo inside-root >"$ROOT/cvisor-root-marker"
ln -s /../../.. "$ROOT/escape"
ln -s ../../../../../.. "$ROOT/escape-rel"
# A file with ELF magic followed by garbage.
BAD=$FIX/bad-elf
{ printf '\177ELF\002\001\001\000'; head -c 200 /dev/urandom; } >"$BAD"
chmod +x "$BAD"

for P in $PLATFORMS; do
	G=(--platform="$P")
	cv "${G[@]}" do -- $BB echo hello
	[ $RC -eq 0 ] && [ "$(cat "$OUT")" = hello ]
	check $? "[$P] do busybox echo hello prints hello, exit 0"

	cv "${G[@]}" do -- $BB sh -c 'exit 7'
	[ $RC -eq 7 ]
	check $? "[$P] exit status 7 is propagated"

	# SIGTERM sent to cvisor reaches the workload (default action: die).
	# (kill from inside the sandbox comes with signal delivery.)
	"$CVISOR" "${G[@]}" do -- $BB sleep 30 >"$OUT" 2>"$ERR" </dev/null &
	cvpid=$!
	sleep 0.5
	kill -TERM $cvpid
	( sleep 10; kill -KILL $cvpid 2>/dev/null ) &
	killer=$!
	wait $cvpid
	RC=$?
	kill $killer 2>/dev/null; wait $killer 2>/dev/null
	[ $RC -eq 143 ]
	check $? "[$P] SIGTERM to cvisor kills the workload: 128+15"

	cv "${G[@]}" do -- $BB ls /etc
	$BB ls /etc >"$FIX/native-ls"
	[ $RC -eq 0 ] && [ -s "$OUT" ] && cmp -s "$OUT" "$FIX/native-ls"
	check $? "[$P] ls /etc matches native ls /etc"
	[ $RC -eq 0 ] || diff "$FIX/native-ls" "$OUT" 2>/dev/null | head -n 10 | diag

	cv "${G[@]}" do -- $BB cat /etc/hostname
	[ $RC -eq 0 ] && cmp -s "$OUT" /etc/hostname
	check $? "[$P] cat /etc/hostname reads the host file"

	cv "${G[@]}" --strace do -- $BB true
	[ $RC -eq 0 ] && grep -qE '(brk|arch_prctl|set_tid_address|exit_group|execve|getpid)' "$ERR"
	check $? "[$P] --strace writes syscall lines to stderr"

	# The root is an overlay (writes go to memory) by default: the host
	# never changes. (--overlay2=none writes to the host root: below, with a
	# private root only.)
	rm -f /cvisor-should-not-exist
	cv "${G[@]}" do -- $BB sh -c 'echo x > /cvisor-should-not-exist && . /cvisor-should-not-exist 2>/dev/null; echo y >> /cvisor-should-not-exist && echo ok'
	[ $RC -eq 0 ] && [ "$(cat "$OUT")" = ok ] && [ ! -e /cvisor-should-not-exist ]
	check $? "[$P] writing under / works in the sandbox and the host is unchanged"
	rm -f "$ROOT/written"
	cv --overlay2=none "${G[@]}" do --root "$ROOT" -- /bin/busybox sh -c 'echo x > /written'
	[ $RC -eq 0 ] && [ "$(cat "$ROOT/written" 2>/dev/null)" = x ]
	check $? "[$P] --overlay2=none: a write under / lands in the (private) host root"
	rm -f /cvisor-should-not-exist "$ROOT/written"

	# A host file of our own (not /etc/*: a broken sandbox must not damage the host).
	echo original >"$FIX/hostfile"
	cv "${G[@]}" do -- $BB sh -c "echo x >> $FIX/hostfile && . $FIX/hostfile"
	[ "$(cat "$FIX/hostfile")" = original ]
	check $? "[$P] appending to a host file changes only the sandbox's copy"
	cv "${G[@]}" do --root "$ROOT" -- /bin/busybox sh -c 'echo x > /written && echo y >> /cvisor-root-marker'
	[ $RC -eq 0 ] && [ ! -e "$ROOT/written" ] && [ "$(cat "$ROOT/cvisor-root-marker")" = inside-root ]
	check $? "[$P] the default overlay over a --root: the host root is unchanged"

	name=/tmp/cvisor-it-$$-$P
	rm -f "$name"
	# Shell builtins only: fork/exec come with the processes issue
	# (`read` needs poll, `cat` needs fork: the processes issue.)
	cv "${G[@]}" do -- $BB sh -c "echo 'echo data' > $name && . $name"
	[ $RC -eq 0 ] && [ "$(cat "$OUT")" = data ] && [ ! -e "$name" ]
	check $? "[$P] /tmp is writable inside and private (nothing on the host /tmp)"

	cv "${G[@]}" do -- $BB sh -c 'echo z > /dev/null'
	[ $RC -eq 0 ] && [ ! -s "$OUT" ]
	check $? "[$P] writing /dev/null works"
	cv "${G[@]}" do -- $BB head -c 4 /dev/zero
	[ $RC -eq 0 ] && [ "$(od -An -tx1 "$OUT" | tr -d ' ')" = 00000000 ]
	check $? "[$P] reading /dev/zero gives zeros"

	cv "${G[@]}" do --env CVISOR_IT=bar -- $BB sh -c 'echo $CVISOR_IT'
	[ $RC -eq 0 ] && [ "$(cat "$OUT")" = bar ]
	check $? "[$P] --env K=V reaches the workload"

	cv "${G[@]}" do --cwd /etc -- $BB pwd
	[ $RC -eq 0 ] && [ "$(cat "$OUT")" = /etc ]
	check $? "[$P] --cwd sets the working directory"

	cv "${G[@]}" do --root "$ROOT" -- /bin/busybox ls /
	[ $RC -eq 0 ] && grep -qx cvisor-root-marker "$OUT" && ! grep -qx etc "$OUT"
	check $? "[$P] --root DIR: / is DIR"

	cv "${G[@]}" do --root "$ROOT" -- /bin/busybox ls /escape/
	[ $RC -eq 0 ] && grep -qx cvisor-root-marker "$OUT" && ! grep -qxE 'etc|usr' "$OUT"
	check $? "[$P] --root DIR: symlink to /../../.. stays inside DIR"

	cv "${G[@]}" do --root "$ROOT" -- /bin/busybox ls /escape-rel/
	[ $RC -eq 0 ] && grep -qx cvisor-root-marker "$OUT" && ! grep -qxE 'etc|usr' "$OUT"
	check $? "[$P] --root DIR: relative ../.. symlink stays inside DIR"

	cv "${G[@]}" do --root "$ROOT" -- /bin/busybox cat /../../../etc/hostname
	[ $RC -ne 0 ]
	check $? "[$P] --root DIR: /../../../etc/hostname is not reachable"

	cv "${G[@]}" do -- "$BAD"
	[ $RC -ne 0 ] && [ $RC -lt 128 ] && [ -s "$ERR" ]
	check $? "[$P] bad ELF: clear error, non-zero exit, no crash"

	cv "${G[@]}" do -- /nonexistent/cvisor-no-such-command
	[ $RC -eq 127 ] && [ -s "$ERR" ]
	check $? "[$P] nonexistent command exits 127 with a message"
done

echo "1..$n"
echo "$((n - failed)) passed, $failed failed"
[ $failed -eq 0 ]

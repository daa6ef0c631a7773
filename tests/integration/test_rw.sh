#!/usr/bin/env bash
# Writes through the gofer (TAP): on an rw bind mount (--volume HOST:GUEST)
# chmod, chown, lchown, utimensat (explicit, UTIME_OMIT, UTIME_NOW),
# truncate and O_TRUNC, symlink, link and rename(2)/renameat2
# (NOREPLACE, EXCHANGE, across directories, directories) and user.* xattrs
# reach the host
# with Linux results, and the sandbox's cached attributes agree; rename and
# link across two mounts are EXDEV; on a :ro volume each op is EROFS and
# the host is unchanged; --overlay2=none writes a (private) root directory
# on the host, the default overlay never does; the syscall tests of these
# areas pass with their /tmp on an rw volume.
#   CVISOR=bin/cvisor tests/integration/test_rw.sh   (or pass the path as $1)
# Host fixtures live under /var/tmp; the ops run through a small static
# helper (tests/integration/rw_helper.c, built here) that prints each
# result as "op ok" or "op ERRNO".
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
lib_init rw "${RW_TIMEOUT:-60}"
PER=9

NP=$(echo $PLATFORMS | wc -w)
echo "1..$((PER * NP + 1))"
H=$FIX/root/bin/rwh
mkdir -p "$FIX/root/bin" "$FIX/root/etc"
if ! cc -static -O1 -o "$H" "$here/rw_helper.c" 2>"$FIX/cc.err" ||
	! file -L "$BB" 2>/dev/null | grep -q 'statically linked'; then
	skip_all $((PER * NP + 1)) "no cc or no static $BB"
	exit 0
fi
cp "$BB" "$FIX/root/bin/busybox"
# cv ARGS...: cvisor with a timeout; output in $OUT/$ERR, status returned.
cv() { timeout -k 5 "$T" "$CVISOR" "$@" </dev/null >"$OUT" 2>"$ERR"; }
# In the sandbox: busybox sh with the helper as "h".
run() { cv "${G[@]}" do --root "$FIX/root" "$@"; }
hstat() { stat -c '%a %u %g %s %h %i %X %Y' "$@"; }

for P in $PLATFORMS; do
	G=(--platform="$P")
	V=$FIX/vol
	rm -rf "$V" "$FIX/vol2" "$FIX/ro"
	mkdir -p "$V/sub" "$V/d1/inner" "$V/full" "$FIX/vol2" "$FIX/ro"
	echo hello-world >"$V/f"
	echo 0123456789 >"$V/t"
	echo other >"$V/o"
	echo x >"$V/ex1"; echo yy >"$V/ex2"	# ex2 is emptied by O_TRUNC in 1.
	echo keep >"$V/full/k"
	echo two >"$FIX/vol2/w"
	echo r >"$FIX/ro/r"
	ln -s f "$V/lnk"
	touch -d '2001-01-01 00:00:00' "$V/o"

	# 1. Attributes: the host sees each, and stat inside agrees.
	run --volume "$V:/v" -- /bin/busybox sh -c \
		'cd /v; h() { /bin/rwh "$@"; }
		 h chmod f 4751; h chown f 1234 5678; h lchown lnk 77 88;
		 h utimens f 1000000000 1100000000; h utimens o omit 1200000000;
		 h truncate t 4; : > ex2; h stat f; h stat t; h stat o'
	rc=$?
	# (stat before reading t: the read would move its atime)
	f=$(hstat "$V/f"); t=$(stat -c %s "$V/t"); o=$(hstat "$V/o")
	tline="644 0 0 4 1 $(stat -c '%i %X %Y' "$V/t")"
	[ $rc -eq 0 ] && [ "$(grep -c ' ok$' "$FIX/out")" -eq 6 ] &&
		[ "$(stat -c '%a %u %g %X %Y' "$V/f")" = "751 1234 5678 1000000000 1100000000" ] &&
		[ "$(stat -c '%u %g' "$V/lnk")" = "77 88" ] && [ "$(readlink "$V/lnk")" = f ] &&
		[ "$t" = 4 ] && [ "$(head -c 4 "$V/t")" = 0123 ] && [ "$(stat -c %s "$V/ex2")" = 0 ] &&
		[ "$(stat -c '%X %Y' "$V/o")" = "$(date -d '2001-01-01 00:00:00' +%s) 1200000000" ] &&
		grep -qx "751 1234 5678 12 1 $(stat -c %i "$V/f") 1000000000 1100000000" "$FIX/out" &&
		grep -qx "$tline" "$FIX/out"
	ok $? "[$P] rw: chmod (setuid cleared by chown), chown, lchown, utimensat (omit), truncate, O_TRUNC on the host"
	[ $rc -eq 0 ] || diag <"$FIX/err"; echo "host f: $f; o: $o" | diag; diag <"$FIX/out"

	# 2. UTIME_NOW: both times now (within a few seconds of the host's clock).
	before=$(date +%s)
	run --volume "$V:/v" -- /bin/rwh utimens /v/o now now
	now=$(stat -c %Y "$V/o"); a=$(stat -c %X "$V/o")
	[ "$(cat "$FIX/out")" = "utimens ok" ] && [ "$now" -ge "$before" ] &&
		[ "$now" -le $((before + 30)) ] && [ "$a" = "$now" ]
	ok $? "[$P] rw: utimensat(UTIME_NOW) sets both times to now on the host"

	# 3. symlink and link: target text, one inode with two names.
	run --volume "$V:/v" -- /bin/busybox sh -c \
		'cd /v; h() { /bin/rwh "$@"; }
		 h symlink ../some/where sub/s; h link f sub/hard; h stat f; h stat sub/hard;
		 h link sub/s sub/s2; h link sub sub/dirlink; h link f sub/hard'
	[ "$(readlink "$V/sub/s")" = ../some/where ] && [ "$(readlink "$V/sub/s2")" = ../some/where ] &&
		[ "$(stat -c %i "$V/f")" = "$(stat -c %i "$V/sub/hard")" ] &&
		[ "$(stat -c %h "$V/f")" = 2 ] && [ "$(stat -c %h "$V/sub/s")" = 2 ] &&
		[ "$(grep -c "^751 1234 5678 12 2 $(stat -c %i "$V/f") " "$FIX/out")" = 2 ] &&
		grep -qx 'link EPERM' "$FIX/out" && grep -qx 'link EEXIST' "$FIX/out" &&
		[ ! -e "$V/sub/dirlink" ]
	ok $? "[$P] rw: symlink target and hard links (nlink, inode; a symlink itself; EPERM dir, EEXIST)"
	diag <"$FIX/out"

	# 4. rename: across directories, over a file, a directory, NOREPLACE,
	# EXCHANGE, ENOTEMPTY, EXDEV to another mount; then what the sandbox
	# lists agrees with the host.
	ino_o=$(stat -c %i "$V/o")
	run --volume "$V:/v" --volume "$FIX/vol2:/w" -- /bin/busybox sh -c \
		'cd /v; h() { /bin/rwh "$@"; }
		 h rename o sub/o2; h rename ex1 ex2 noreplace; h rename ex1 ex2 exchange;
		 h rename d1 sub/d2; h rename t sub/o2; h rename sub/d2 full;
		 h rename f /w/f; h rename /w/w /v/w; h link f /w/f;
		 ls /v /v/sub /v/sub/d2; cat ex1 ex2'
	[ ! -e "$V/o" ] && [ "$(stat -c %i "$V/sub/o2")" != "$ino_o" ] &&
		[ "$(head -c 4 "$V/sub/o2")" = 0123 ] && [ ! -e "$V/t" ] &&
		[ "$(stat -c %s "$V/ex1")" = 0 ] &&
		[ "$(cat "$V/ex2")" = x ] && [ -d "$V/sub/d2/inner" ] && [ ! -e "$V/d1" ] &&
		[ -e "$V/full/k" ] && [ -e "$V/f" ] && [ -e "$FIX/vol2/w" ] && [ ! -e "$FIX/vol2/f" ] &&
		[ "$(grep -c '^rename ok$' "$FIX/out")" = 4 ] &&
		grep -qx 'rename EEXIST' "$FIX/out" && grep -qx 'rename ENOTEMPTY' "$FIX/out" &&
		[ "$(grep -c '^rename EXDEV$' "$FIX/out")" = 2 ] && grep -qx 'link EXDEV' "$FIX/out" &&
		grep -qx 'o2' "$FIX/out" && grep -qx 'inner' "$FIX/out" && ! grep -qx 'd1' "$FIX/out"
	ok $? "[$P] rw: rename(2)/renameat2 NOREPLACE, EXCHANGE, dirs, over files; EXDEV across mounts"
	diag <"$FIX/out"

	# 5. user.* xattrs: set (CREATE, REPLACE), get, remove; the host sees
	# them (read with the same helper, natively).
	echo x >"$V/xa"
	run --volume "$V:/v" -- /bin/busybox sh -c \
		'cd /v; h() { /bin/rwh "$@"; }
		 h setxattr xa user.one 1; h setxattr xa user.two 2 create;
		 h setxattr xa user.two 22 replace; h setxattr xa user.three 3 replace;
		 h setxattr xa user.one 1 create; h getxattr xa user.two;
		 h setxattr xa user.gone g; h removexattr xa user.gone; h getxattr xa user.gone'
	[ "$("$H" getxattr "$V/xa" user.one)" = "getxattr 1" ] &&
		[ "$("$H" getxattr "$V/xa" user.two)" = "getxattr 22" ] &&
		[ "$("$H" getxattr "$V/xa" user.gone)" = "getxattr ENODATA" ] &&
		[ "$(grep -c '^setxattr ok$' "$FIX/out")" = 4 ] &&
		grep -qx 'setxattr ENODATA' "$FIX/out" && grep -qx 'setxattr EEXIST' "$FIX/out" &&
		grep -qx 'getxattr 22' "$FIX/out" && grep -qx 'removexattr ok' "$FIX/out" &&
		grep -qx 'getxattr ENODATA' "$FIX/out"
	ok $? "[$P] rw: user.* setxattr (CREATE/REPLACE), getxattr, removexattr on the host"
	diag <"$FIX/out"

	# 6. :ro: every op EROFS (rename/link into it from an rw mount: EXDEV
	# for rename first, EROFS for link, as Linux), the host unchanged.
	before=$(hstat "$FIX/ro/r")
	run --volume "$FIX/ro:/ro:ro" --volume "$V:/v" -- /bin/busybox sh -c \
		'cd /ro; h() { /bin/rwh "$@"; }
		 h chmod r 600; h chown r 1 1; h lchown r 1 1; h utimens r 5 5; h utimens r now now;
		 h truncate r 0; h symlink t l; h link r r2; h rename r r3; h rename r r noreplace;
		 h rename /v/f /ro/f; h link /v/f /ro/f; h setxattr r user.x 1;
		 h removexattr r user.x; echo x >> r'
	[ "$(grep -c ' EROFS$' "$FIX/out")" = 13 ] && grep -qx 'rename EXDEV' "$FIX/out" &&
		grep -q 'Read-only file system' "$FIX/err" &&
		[ "$(hstat "$FIX/ro/r")" = "$before" ] && [ "$(ls "$FIX/ro")" = r ]
	ok $? "[$P] :ro volume: chmod, chown, utimensat, truncate, symlink, link, rename setxattr, removexattr all EROFS"
	diag <"$FIX/out"

	# 7. --overlay2=none: / is the host directory, written through the
	# gofer (runsc); a private copy of a root here, never the host's /.
	echo orig >"$FIX/root/etc/file"
	rm -f "$FIX/root/new"
	cv "${G[@]}" --overlay2=none do --root "$FIX/root" -- /bin/busybox sh -c \
		'echo changed >/etc/file && echo n >/new && /bin/rwh chmod /new 600 &&
		 /bin/rwh rename /new /etc/new2 && /bin/rwh symlink file /etc/l'
	rc=$?
	[ $rc -eq 0 ] && [ "$(cat "$FIX/root/etc/file")" = changed ] &&
		[ "$(stat -c %a "$FIX/root/etc/new2")" = 600 ] && [ "$(readlink "$FIX/root/etc/l")" = file ]
	ok $? "[$P] --overlay2=none: writes, chmod, rename, symlink reach the host root directory"
	[ $rc -eq 0 ] || diag <"$FIX/err"

	# 8. The default overlay over the same root: nothing reaches the host.
	run -- /bin/busybox sh -c \
		'echo again >/etc/file && echo m >/m && /bin/rwh chmod /etc/file 600 &&
		 /bin/rwh rename /etc/new2 /etc/new3 && cat /etc/file'
	rc=$?
	[ $rc -eq 0 ] && [ "$(tail -n 1 "$FIX/out")" = again ] && [ "$(cat "$FIX/root/etc/file")" = changed ] &&
		[ ! -e "$FIX/root/m" ] && [ -e "$FIX/root/etc/new2" ] &&
		[ "$(stat -c %a "$FIX/root/etc/file")" = 644 ]
	ok $? "[$P] default overlay: the same writes stay in the sandbox"
	[ $rc -eq 0 ] || diag <"$FIX/err"
	rm -f "$FIX/root/etc/new2" "$FIX/root/etc/l"

	# 9. The syscall tests of these areas (built next to cvisor, as
	# `make BUILD=... BUILD/tests/X_test`) with their scratch space /tmp
	# on an rw volume: the same Linux results through the gofer.
	TD=$(dirname "$CVISOR")/tests
	[ -d "$TD" ] || TD=$here/../../build/tests	# bin/cvisor: make's build/
	fails=""
	have=0
	for t in rename_test link_test chmod_test readlink_test dir_test access_test \
		truncate_test open_test lock_test splice_test fd_test mmap_file_test \
		openat2_test bigread_test; do
		[ -x "$TD/$t" ] || continue
		have=$((have + 1))
		rm -rf "$FIX/tmpvol"; mkdir -p "$FIX/tmpvol"
		timeout -k 5 "$T" "$CVISOR" "${G[@]}" do --volume "$FIX/tmpvol:/tmp" -- "$TD/$t" \
			</dev/null >"$FIX/out" 2>&1 || fails="$fails $t"
		grep '^not ok' "$FIX/out" | diag
	done
	if [ $have -eq 0 ]; then
		ok 0 "[$P] syscall tests on a gofer /tmp # SKIP not built in $TD"
	else
		[ -z "$fails" ]
		ok $? "[$P] $have syscall tests (rename, link, chmod, readlink, dir, access, truncate incl. fallocate) pass with /tmp an rw volume${fails:+: failed$fails}"
	fi
done

# Last: config.json (--spec) mounts[] are the same gofer mounts: a bind
# (rw) takes rename, link and chmod to the host, and root.readonly keeps
# the root read-only without the overlay.
V=$FIX/specvol
rm -rf "$V"; mkdir -p "$V"; echo s >"$V/a"
cat >"$FIX/config.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {"args": ["/bin/busybox", "sh", "-c",
    "/bin/rwh rename /s/a /s/b; /bin/rwh link /s/b /s/c; /bin/rwh chmod /s/c 600; /bin/rwh chmod /bin/rwh 700"],
    "cwd": "/"},
  "root": {"path": "$FIX/root", "readonly": true},
  "mounts": [{"destination": "/s", "type": "bind", "source": "$V", "options": ["rbind", "rw"]}]
}
JSON
mode=$(stat -c %a "$H")
cv --overlay2=none do --spec "$FIX/config.json"
[ ! -e "$V/a" ] && [ "$(stat -c '%a %h' "$V/b")" = "600 2" ] &&
	[ "$(stat -c %i "$V/b")" = "$(stat -c %i "$V/c")" ] &&
	grep -qx 'chmod EROFS' "$FIX/out" && [ "$(stat -c %a "$H")" = "$mode" ]
r=$?
ok $r "--spec: a bind mount in mounts[] takes rename, link, chmod; root.readonly stays EROFS"
[ $r -eq 0 ] || { diag <"$FIX/out"; diag <"$FIX/err"; }

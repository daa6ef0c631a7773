#!/usr/bin/env bash
# The gofer never serves a byte from outside the sandbox root (TAP), on every
# platform:
#  - while sandboxes repeatedly open and read (and list) paths under --root
#    DIR, a host loop rename(2)s a directory component of those paths back
#    and forth between a real directory and a symlink to the host's "/":
#    no byte of a secret file outside DIR (a marker string) is ever read;
#  - DIR/escape -> / and DIR/up -> ../../..: reading through them inside
#    gives the sandbox's own view of the path (a decoy inside DIR), never
#    the host's file; "/.." stays "/";
#  - the same with the root served directly (--overlay2=none, writable);
#  - a bind mount (--volume DIR2:/vol, ro and rw) under the same rename race
#    inside DIR2, and symlinks in DIR2 that climb out of it (../host/secret)
#    or name the host path: never the host's secret (each mount is its own
#    gofer root with its own handle namespace);
#  - writes on an rw bind mount under the same race, with "sub" flipping to
#    a symlink to a host directory outside the mount: link, rename
#    (plain and RENAME_EXCHANGE), symlink, chmod and truncate below "sub"
#    never touch that directory (the gofer acts on directory handles and
#    single names, never on re-walked paths).
#   CVISOR=bin/cvisor tests/integration/test_gofer_security.sh   (or pass the path as $1)
# Host fixtures live under /var/tmp (the sandbox's /tmp is a private tmpfs).
set -u
. "$(dirname "$0")/lib.sh"
lib_init gsec "${GSEC_TIMEOUT:-60}"
RUNS=${GSEC_RUNS:-8}	# sandboxes per platform during the swap loop
PER=6

NP=$(echo $PLATFORMS | wc -w)
echo "1..$((PER * NP))"
if [ ! -x "$BB" ] || ! file -L "$BB" 2>/dev/null | grep -q 'statically linked'; then
	skip_all $((PER * NP)) "no static $BB"
	exit 0
fi

SWAP=""
LIB_CLEANUP='[ -n "$SWAP" ] && kill "$SWAP" 2>/dev/null && wait "$SWAP" 2>/dev/null'

# The secret: outside the root, at an absolute host path S.
MARK="CVISOR-HOST-SECRET-$$-$RANDOM$RANDOM"
mkdir -p "$FIX/host"
echo "$MARK" >"$FIX/host/secret"
S=$FIX/host/secret

# The root: busybox, decoys at the same path under the root itself and under
# the real directory "sub.dir", a symlink "sub.lnk" to the host's "/", the
# two escape links.
R=$FIX/root
mkdir -p "$R/bin" "$R$FIX/host"
cp "$BB" "$R/bin/busybox"
echo inside-root >"$R$S"
ln -s / "$R/escape"
ln -s ../../../../../../.. "$R/up"
make_subs() {
	rm -rf "$R/sub" "$R/sub.old" "$R/sub.dir" "$R/sub.lnk"
	mkdir -p "$R/sub.dir$FIX/host"
	echo inside-subdir >"$R/sub.dir$S"
	ln -s / "$R/sub.lnk"
	cp -a "$R/sub.dir" "$R/sub"	# "sub" exists when the loop starts
}
make_subs

cv() { timeout -k 5 "$T" "$CVISOR" "$@" </dev/null; }

# The write ops of 6. run through tests/integration/rw_helper.c.
RWH=""
if cc -static -O1 -o "$R/bin/rwh" "$(dirname "$0")/rw_helper.c" 2>/dev/null; then
	RWH=$R/bin/rwh
fi

# The swap loop: sub <- sub.dir, back; sub <- sub.lnk, back; each a rename(2).
# In directory $1 (default: the root).
swap_loop() {
	local R=${1:-$R}

	if command -v python3 >/dev/null; then
		exec python3 -c '
import os, sys
r = sys.argv[1]
while True:
    for src in ("sub.dir", "sub.lnk"):
        try:
            os.rename(r + "/sub", r + "/sub.old")
            os.rename(r + "/" + src, r + "/sub")
            os.rename(r + "/sub", r + "/" + src)
            os.rename(r + "/sub.old", r + "/sub")
        except OSError:
            pass
' "$R"
	fi
	while :; do
		for src in sub.dir sub.lnk; do
			mv -Tf "$R/sub" "$R/sub.old" 2>/dev/null
			mv -Tf "$R/$src" "$R/sub" 2>/dev/null
			mv -Tf "$R/sub" "$R/$src" 2>/dev/null
			mv -Tf "$R/sub.old" "$R/sub" 2>/dev/null
		done
	done
}

# Inside: shell builtins only. Reads through the swapped component, the
# escape links and "..", lists the swapped directory (READDIR_PLUS, then
# lazy walks of what it listed), reads again.
WORK="i=0; while [ \$i -lt 40 ]; do i=\$((i+1));
 { read -r l </sub$S && echo \"\$l\"; } 2>/dev/null
 { read -r l </sub/sub$S && echo \"\$l\"; } 2>/dev/null
 { read -r l </escape$S && echo \"\$l\"; } 2>/dev/null
 { read -r l </up$S && echo \"\$l\"; } 2>/dev/null
 for f in /sub/* /sub$FIX/host/*; do { read -r l <\"\$f\" && echo \"\$l\"; } 2>/dev/null; done
done; echo done"

for P in $PLATFORMS; do
	G=(--platform="$P")

	# 1. The race: many fresh sandboxes (fresh dentry caches) while the
	# component flips between a directory and a symlink to the host "/".
	swap_loop &
	SWAP=$!
	leak=0 reads=0 ran=0
	for i in $(seq 1 "$RUNS"); do
		ov=()
		[ $((i % 2)) -eq 0 ] && ov=(--overlay2=none)
		cv "${G[@]}" "${ov[@]}" do --root "$R" -- /bin/busybox sh -c "$WORK" \
			>"$FIX/out" 2>"$FIX/err"
		grep -q "$MARK" "$FIX/out" "$FIX/err" && leak=$((leak + 1))
		grep -q '^done$' "$FIX/out" && ran=$((ran + 1))
		reads=$((reads + $(grep -c '^inside' "$FIX/out")))
	done
	kill "$SWAP" 2>/dev/null
	wait "$SWAP" 2>/dev/null
	SWAP=""
	make_subs	# whatever state the loop was killed in
	[ $leak -eq 0 ] && [ $ran -eq "$RUNS" ] && [ $reads -gt 0 ]
	ok $? "[$P] dir<->symlink-to-/ rename race: no host byte read ($RUNS sandboxes, $reads reads inside, $leak leaks)"
	[ $ran -eq "$RUNS" ] || diag <"$FIX/err"

	# 2. DIR/escape -> /: the sandbox's own / (the decoy), not the host's.
	cv "${G[@]}" do --root "$R" -- /bin/busybox sh -c \
		"read -r a </escape$S; read -r b </escape/escape/escape$S; echo \"\$a \$b\"" \
		>"$FIX/out" 2>"$FIX/err"
	[ "$(cat "$FIX/out")" = "inside-root inside-root" ]
	ok $? "[$P] ln -s / DIR/escape: DIR/escape$S is the sandbox's file"
	grep -q "$MARK" "$FIX/out" "$FIX/err" && echo "# LEAK: $(cat "$FIX/out")"

	# 3. ../ everywhere: DIR/up -> ../../../../../../.., "/..", "sub/../..".
	cv "${G[@]}" do --root "$R" -- /bin/busybox sh -c \
		"read -r a </up$S; read -r b </../../..$S; read -r c </sub/../../..$S; echo \"\$a \$b \$c\"" \
		>"$FIX/out" 2>"$FIX/err"
	[ "$(cat "$FIX/out")" = "inside-root inside-root inside-root" ]
	ok $? "[$P] ../ (in links and paths) stops at the sandbox root"
	grep -q "$MARK" "$FIX/out" "$FIX/err" && echo "# LEAK: $(cat "$FIX/out")"

	# 4. The same with the root served directly (no overlay; writable now).
	cv "${G[@]}" --overlay2=none do --root "$R" -- /bin/busybox sh -c \
		"read -r a </escape$S; read -r b </up$S; read -r c </sub.lnk$S; echo \"\$a \$b \$c\"" \
		>"$FIX/out" 2>"$FIX/err"
	[ "$(cat "$FIX/out")" = "inside-root inside-root inside-root" ]
	ok $? "[$P] --overlay2=none: escape links read the sandbox's files"
	[ "$(cat "$FIX/out")" = "inside-root inside-root inside-root" ] ||
		{ cat "$FIX/out"; tail -n 3 "$FIX/err"; } | diag

	# 5. A bind mount: the same race inside its source, plus links out of
	# it. DIR2 sits next to the host's secret directory, so ../host/secret
	# from DIR2 is the secret on the host; in the sandbox it is /host/secret
	# (absent) and the absolute link names the decoy of the root.
	V=$FIX/vol
	rm -rf "$V"
	mkdir -p "$V/sub.dir$FIX/host"
	echo inside-vol >"$V/sub.dir$S"
	ln -s / "$V/sub.lnk"
	cp -a "$V/sub.dir" "$V/sub"
	ln -s ../host/secret "$V/up"
	ln -s "$S" "$V/abs"
	swap_loop "$V" &
	SWAP=$!
	leak=0 reads=0 ran=0
	VWORK="i=0; while [ \$i -lt 30 ]; do i=\$((i+1));
	 for f in /vol/sub$S /vol/up /vol/abs /vol/sub/* /vol/sub$FIX/host/*; do
	  { read -r l <\"\$f\" && echo \"\$l\"; } 2>/dev/null; done
	done; echo done"
	for i in $(seq 1 $((RUNS / 2 + 1))); do
		mode=ro
		[ $((i % 2)) -eq 0 ] && mode=rw
		cv "${G[@]}" do --root "$R" --volume "$V:/vol:$mode" -- \
			/bin/busybox sh -c "$VWORK" >"$FIX/out" 2>"$FIX/err"
		grep -q "$MARK" "$FIX/out" "$FIX/err" && leak=$((leak + 1))
		grep -q '^done$' "$FIX/out" && ran=$((ran + 1))
		reads=$((reads + $(grep -c '^inside' "$FIX/out")))
	done
	kill "$SWAP" 2>/dev/null
	wait "$SWAP" 2>/dev/null
	SWAP=""
	[ $leak -eq 0 ] && [ $ran -eq $((RUNS / 2 + 1)) ] && [ $reads -gt 0 ]
	ok $? "[$P] --volume (ro and rw) under the rename race and links out of it: no host byte ($reads reads inside, $leak leaks)"
	[ $ran -eq $((RUNS / 2 + 1)) ] || diag <"$FIX/err"

	# 6. Writes under the race: V/sub flips between a directory and a
	# symlink to $O, a host directory outside the mount holding the same
	# names. Whatever a walk saw, the ops must land inside V.
	if [ -z "$RWH" ]; then
		ok 0 "[$P] rw volume writes under the rename race # SKIP no cc"
		continue
	fi
	O=$FIX/outside
	rm -rf "$V" "$O"
	mkdir -p "$V/sub.dir" "$O"
	for d in "$V/sub.dir" "$O"; do
		echo data >"$d/file"; echo a >"$d/a"; echo b >"$d/b"
	done
	ln -s "$O" "$V/sub.lnk"
	cp -a "$V/sub.dir" "$V/sub"
	osnap=$(cd "$O" && stat -c '%n %a %s %h %i %Y' * | sort)
	swap_loop "$V" &
	SWAP=$!
	WWORK="i=0; while [ \$i -lt 12 ]; do i=\$((i+1));
	 h link /vol/sub/file /vol/sub/l\$i; h rename /vol/sub/a /vol/sub/n\$i;
	 h rename /vol/sub/n\$i /vol/sub/a; h rename /vol/sub/a /vol/sub/b exchange;
	 h symlink / /vol/sub/s\$i; h chmod /vol/sub/file 600; h truncate /vol/sub/b 0;
	done; echo done"
	ran=0 wrote=0
	for i in $(seq 1 $((RUNS / 2 + 1))); do
		cv "${G[@]}" do --root "$R" --volume "$V:/vol" -- /bin/busybox sh -c \
			"h() { /bin/rwh \"\$@\"; }; $WWORK" >"$FIX/out" 2>"$FIX/err"
		grep -q '^done$' "$FIX/out" && ran=$((ran + 1))
		grep -q '^done$' "$FIX/out" || { tail -n 3 "$FIX/out"; tail -n 3 "$FIX/err"; } >"$FIX/why"
		wrote=$((wrote + $(grep -c ' ok$' "$FIX/out")))
	done
	kill "$SWAP" 2>/dev/null
	wait "$SWAP" 2>/dev/null
	SWAP=""
	[ "$(cd "$O" && stat -c '%n %a %s %h %i %Y' * | sort)" = "$osnap" ] &&
		[ $ran -eq $((RUNS / 2 + 1)) ] && [ $wrote -gt 0 ]
	ok $? "[$P] rw volume: link, rename, exchange, symlink, chmod, truncate under the rename race stay inside ($ran sandboxes ran, $wrote ops done)"
	[ $ran -eq $((RUNS / 2 + 1)) ] || { diag <"$FIX/why"; ls -la "$O" | diag; }
done

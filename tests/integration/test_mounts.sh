#!/usr/bin/env bash
# Mounts from the caller (TAP): `cvisor do --volume HOST:GUEST[:ro|:rw]`
# (a bind mount served by the gofer; rw writes reach the host, ro is EROFS),
# `--mount type=tmpfs,dst=...,size=...,mode=...` (ENOSPC past size),
# `--spec config.json` (process + root + mounts[] of an OCI runtime spec),
# broken config.json files (exit 125 and a message, never a crash), and no
# escape out of a bind mount through symlinks pointing outside it.
#   CVISOR=bin/cvisor tests/integration/test_mounts.sh   (or pass the path as $1)
# Host fixtures live under /var/tmp (the sandbox's /tmp is a private tmpfs,
# and the gofer opens bind sources in the host's mount namespace).
set -u
. "$(dirname "$0")/lib.sh"
lib_init mounts "${MOUNTS_TIMEOUT:-60}"
PER=5
NP=$(echo $PLATFORMS | wc -w)

echo "1..$((PER * NP + 9))"

cd "$FIX" || exit 1
# cv ARGS...: cvisor with a timeout; output to the caller, status returned.
cv() { timeout -k 5 "$T" "$CVISOR" "$@" </dev/null; }

MARK="CVISOR-HOST-SECRET-$$-$RANDOM$RANDOM"
echo "$MARK" >"$FIX/secret"

for P in $PLATFORMS; do
	G=(--platform="$P")
	rm -rf "$FIX/rw" "$FIX/ro"
	mkdir -p "$FIX/rw/old" "$FIX/ro"
	echo before >"$FIX/rw/existing"
	echo gone >"$FIX/rw/old/f"
	echo readonly-data >"$FIX/ro/r"

	# 1. rw: create, overwrite, append, mkdir and rm reach the host.
	cv "${G[@]}" do --volume "$FIX/rw:/data" -- /bin/sh -c \
		'echo new >/data/created && echo after >/data/existing &&
		 echo more >>/data/existing && mkdir /data/newdir &&
		 echo in-dir >/data/newdir/f && rm /data/old/f && rmdir /data/old &&
		 cat /data/existing && ls /data' >"$FIX/out" 2>"$FIX/err"
	rc=$?
	[ $rc -eq 0 ] && [ "$(cat "$FIX/rw/created")" = new ] &&
		[ "$(cat "$FIX/rw/existing")" = "$(printf 'after\nmore')" ] &&
		[ "$(cat "$FIX/rw/newdir/f")" = in-dir ] && [ ! -e "$FIX/rw/old" ] &&
		grep -q '^after$' "$FIX/out" && grep -q '^newdir$' "$FIX/out"
	ok $? "[$P] --volume rw: writes, mkdir and rm inside are on the host"
	[ $rc -eq 0 ] || diag <"$FIX/err"

	# 2. ro: reads work, every write is EROFS, the host is unchanged.
	cv "${G[@]}" do --volume "$FIX/ro:/ro:ro" -- /bin/sh -c \
		'cat /ro/r; echo x >/ro/new; echo y >/ro/r; mkdir /ro/d; rm /ro/r;
		 grep " /ro " /proc/self/mountinfo' >"$FIX/out" 2>"$FIX/err"
	[ "$(head -1 "$FIX/out")" = readonly-data ] &&
		[ "$(grep -c 'Read-only file system' "$FIX/err")" -eq 4 ] &&
		[ "$(cat "$FIX/ro/r")" = readonly-data ] && [ ! -e "$FIX/ro/new" ] &&
		[ ! -e "$FIX/ro/d" ] && grep -qE '^[0-9]+ [0-9]+ [0-9]+:[0-9]+ / /ro ro,' "$FIX/out"
	ok $? "[$P] --volume :ro: reads work, writes EROFS, mountinfo says ro"
	{ cat "$FIX/out"; cat "$FIX/err"; } | diag

	# 3. --mount tmpfs with size= and mode=: ENOSPC past the size.
	cv "${G[@]}" do --mount type=tmpfs,dst=/scratch,size=256k,mode=0700 -- /bin/sh -c \
		'stat -c %a /scratch; dd if=/dev/zero of=/scratch/f bs=4k count=200;
		 grep " /scratch " /proc/self/mountinfo' >"$FIX/out" 2>"$FIX/err"
	[ "$(head -1 "$FIX/out")" = 700 ] && grep -q 'No space left on device' "$FIX/err" &&
		grep -qE ' /scratch rw,relatime - tmpfs tmpfs rw,size=256k,mode=700$' "$FIX/out"
	ok $? "[$P] --mount type=tmpfs,size=256k,mode=0700: mode, ENOSPC, mountinfo"
	{ cat "$FIX/out"; tail -2 "$FIX/err"; } | diag

	# 4. No way out of a bind mount through symlinks: relative ones that
	# climb out of it and absolute host paths resolve in the sandbox, whose
	# root (a busybox tree) has a decoy where the host has the secret.
	rm -rf "$FIX/vol" "$FIX/root"
	mkdir -p "$FIX/vol/a/b" "$FIX/root/bin" "$FIX/root$FIX"
	cp /bin/busybox "$FIX/root/bin/busybox"
	echo decoy >"$FIX/root$FIX/secret"
	ln -s ../secret "$FIX/vol/up"
	ln -s ../../../secret "$FIX/vol/a/b/up3"
	ln -s "$FIX/secret" "$FIX/vol/abs"
	ln -s / "$FIX/vol/root"
	cv "${G[@]}" do --root "$FIX/root" --volume "$FIX/vol:$FIX/vol:ro" -- \
		/bin/busybox sh -c \
		"cd $FIX/vol; cat up a/b/up3 abs root$FIX/secret ../secret $FIX/vol/../secret;
		 echo done" >"$FIX/out" 2>"$FIX/err"
	! grep -q "$MARK" "$FIX/out" "$FIX/err" && grep -q '^done$' "$FIX/out" &&
		[ "$(grep -c '^decoy$' "$FIX/out")" -eq 6 ]
	ok $? "[$P] symlinks pointing outside a bind mount resolve in the sandbox, never on the host"
	grep -q "$MARK" "$FIX/out" "$FIX/err" && echo "# LEAK: $(cat "$FIX/out")"
	{ cat "$FIX/out"; cat "$FIX/err"; } | diag

	# 5. A volume stacked on a tmpfs from --mount, and both in /proc/mounts.
	cv "${G[@]}" do --mount type=tmpfs,dst=/m --volume "$FIX/ro:/m/inner:ro" -- /bin/sh -c \
		'cat /m/inner/r && touch /m/ok && grep -E " /m(/inner)? " /proc/mounts' \
		>"$FIX/out" 2>"$FIX/err"
	[ "$(head -1 "$FIX/out")" = readonly-data ] &&
		grep -q '^tmpfs /m tmpfs rw' "$FIX/out" && grep -q ' /m/inner 9p ro' "$FIX/out"
	ok $? "[$P] a volume inside a --mount tmpfs"
	{ cat "$FIX/out"; cat "$FIX/err"; } | diag
done

# 6. --spec: a real config.json (docker's default mounts, a bind, a tmpfs;
# process args, env and cwd).
mkdir -p "$FIX/bundle"
cat >"$FIX/bundle/config.json" <<EOF
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": ["/bin/sh", "-c", "echo \$GREETING; pwd; cat /vol/r; echo x >/vol/x; grep -E ' /(vol|work|dev/shm|dev/mqueue|sys/fs/cgroup) ' /proc/self/mountinfo"],
    "env": ["PATH=/usr/bin:/bin", "GREETING=hello-from-spec"],
    "cwd": "/work"
  },
  "root": {"path": "/", "readonly": true},
  "hostname": "cvisor",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
    {"destination": "/vol", "source": "$FIX/ro", "options": ["rbind", "ro"]},
    {"destination": "/work", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=755"]}
  ]
}
EOF
cv do --spec "$FIX/bundle/config.json" >"$FIX/out" 2>"$FIX/err"
rc=$?
[ $rc -eq 0 ] && [ "$(sed -n 1p "$FIX/out")" = hello-from-spec ] &&
	[ "$(sed -n 2p "$FIX/out")" = /work ] && [ "$(sed -n 3p "$FIX/out")" = readonly-data ] &&
	grep -q 'Read-only file system' "$FIX/err" &&
	grep -qE ' /vol ro,relatime - 9p ' "$FIX/out" &&
	grep -qE ' /work rw,relatime - tmpfs tmpfs rw,size=1024k,mode=755$' "$FIX/out" &&
	grep -qE ' /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=65536k$' "$FIX/out" &&
	grep -qE ' /dev/mqueue rw,nosuid,nodev,noexec,relatime - mqueue mqueue rw$' "$FIX/out" &&
	grep -qE ' /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup ro$' "$FIX/out"
ok $? "--spec config.json: args, env, cwd and mounts[] (bind ro, tmpfs, shm, mqueue, cgroup)"
[ $rc -eq 0 ] && grep -q /vol "$FIX/out" || { cat "$FIX/out"; cat "$FIX/err"; } | diag

# 7. The command line overrides process.args; root.readonly gives EROFS.
cv do --spec "$FIX/bundle/config.json" -- /bin/sh -c 'touch /rootfile; cat /vol/r' \
	>"$FIX/out" 2>"$FIX/err"
[ "$(cat "$FIX/out")" = readonly-data ] && grep -q 'Read-only file system' "$FIX/err"
ok $? "--spec with a command: the command wins, root.readonly is a read-only root"

# 8-13. Broken config.json files: exit 125 and a message naming the problem.
broken() { # name content expected-message-regex
	printf '%s' "$2" >"$FIX/bad.json"
	cv do --spec "$FIX/bad.json" -- /bin/true >"$FIX/out" 2>"$FIX/err"
	rc=$?
	[ $rc -eq 125 ] && grep -qE "$3" "$FIX/err"
	ok $? "broken config.json ($1): exit 125 and \"$(head -c 100 "$FIX/err" | tr -d '\n')\""
	[ $rc -eq 125 ] || echo "# exit $rc" 
}
broken "truncated" '{"mounts": [ {"destination": "/x", ' 'cannot read it as JSON'
broken "not an object" '[1, 2, 3]' 'top level must be a JSON object'
broken "args not a list" '{"process": {"args": "/bin/true"}}' 'process.args must be an array'
broken "mount without destination" '{"mounts": [{"type": "tmpfs"}]}' 'mounts\[0\]\.destination is missing'
broken "unknown mount type" '{"mounts": [{"destination": "/x", "type": "nfs4"}]}' 'unsupported mount type "nfs4"'
broken "bad size" '{"mounts": [{"destination": "/x", "type": "tmpfs", "options": ["size=lots"]}]}' 'bad option "size=lots"'

# 14. A missing --volume source or spec file is a clear set-up error.
cv do --volume /nonexistent-cvisor-vol:/x -- /bin/true >"$FIX/out" 2>"$FIX/err"
rc=$?
cv do --spec "$FIX/none.json" -- /bin/true >>"$FIX/out" 2>>"$FIX/err"
rc2=$?
[ $rc -eq 125 ] && [ $rc2 -eq 125 ] && grep -q 'nonexistent-cvisor-vol' "$FIX/err" &&
	grep -q 'none.json' "$FIX/err"
ok $? "missing --volume source or --spec file: exit 125 with the path"
diag <"$FIX/err"

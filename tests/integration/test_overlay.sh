#!/usr/bin/env bash
# The default overlay root (runsc --overlay2=root:memory): the sandbox writes
# under /, /etc and /usr, reads its writes back, and the host is unchanged.
#   CVISOR=bin/cvisor tests/integration/test_overlay.sh      (or pass the path as $1)
# Host fixtures live under /var/tmp (the sandbox's /tmp is a private tmpfs).
set -u
. "$(dirname "$0")/lib.sh"
lib_init ovl "${OVL_TIMEOUT:-60}"

# A snapshot of what the sandbox touches: names, sizes, mtimes, contents' hash.
snap() {
	{
		# Names only for / (the host's /proc, /dev, /tmp change by
		# themselves); full details for the directories the test writes.
		ls -1a / 2>&1
		ls -la --time-style=full-iso /etc /usr 2>&1
		md5sum /etc/passwd /etc/hostname "$FIX/hostfile" "$FIX/script.sh" 2>&1
	} | grep -v ' \.\.\?$'
}

echo "1..$((7 * $(echo $PLATFORMS | wc -w)))"
echo original >"$FIX/hostfile"
echo "echo one" >"$FIX/script.sh"
for P in $PLATFORMS; do
	G=(--platform="$P")
	snap >"$FIX/before"
	# Shell builtins only (no fork): redirections create, append, truncate.
	cv "${G[@]}" do -- $BB sh -c "echo new > /cvisor-ovl-root && echo e > /etc/cvisor-ovl-etc && \
echo u > /usr/cvisor-ovl-usr && echo x >> /etc/passwd && echo y > $FIX/hostfile && \
echo h > /etc/hostname"
	[ $RC -eq 0 ]
	ok $? "[$P] writes under /, /etc, /usr succeed inside the sandbox"
	[ $RC -eq 0 ] || diag <"$ERR"

	# Shell builtins only (no fork yet): '.' reads a file back.
	cv "${G[@]}" do -- $BB sh -c "echo 'echo a' > /etc/cvisor-ovl-a; echo 'echo b' >> /etc/cvisor-ovl-a; . /etc/cvisor-ovl-a"
	[ $RC -eq 0 ] && [ "$(cat "$OUT")" = "$(printf 'a\nb')" ]
	ok $? "[$P] a file created under /etc reads back"

	cv "${G[@]}" do -- $BB sh -c "echo 'echo two' >> $FIX/script.sh; . $FIX/script.sh"
	[ $RC -eq 0 ] && [ "$(cat "$OUT")" = "$(printf 'one\ntwo')" ] &&
		[ "$(cat "$FIX/script.sh")" = "echo one" ]
	ok $? "[$P] appending to a host file is seen inside (copy-up keeps the data)"

	cv "${G[@]}" do -- $BB rm /etc/hostname
	[ $RC -eq 0 ] && [ -e /etc/hostname ]
	ok $? "[$P] rm of a host file works inside, host keeps it"

	cv "${G[@]}" do -- $BB mkdir -p /usr/cvisor-ovl-d/e
	[ $RC -eq 0 ] && [ ! -e /usr/cvisor-ovl-d ]
	ok $? "[$P] mkdir -p under /usr works, nothing on the host"

	cv "${G[@]}" do -- $BB mv /etc/hostname /etc/cvisor-ovl-moved
	[ $RC -eq 0 ] && [ -e /etc/hostname ] && [ ! -e /etc/cvisor-ovl-moved ]
	ok $? "[$P] rename of a host file works inside, host unchanged"

	snap >"$FIX/after"
	cmp -s "$FIX/before" "$FIX/after" && [ "$(cat "$FIX/hostfile")" = original ]
	ok $? "[$P] host /, /etc, /usr and files are unchanged"
	cmp -s "$FIX/before" "$FIX/after" || diff "$FIX/before" "$FIX/after" | head -10 | diag
done

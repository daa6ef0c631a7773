#!/usr/bin/env bash
# Pseudo-terminals end to end (TAP): python3's pty module inside the sandbox on every
# platform — openpty() data both ways with echo and ONLCR, tty.setraw(), EIO on the
# master once the slave is closed, pty.fork() (setsid + TIOCSCTTY: the child is a
# session leader on a terminal), ^C killing the foreground child with SIGINT, and
# /dev/tty giving ENXIO without a controlling terminal. No script(1) needed.
#   CVISOR=bin/cvisor tests/integration/test_tty.sh      (or pass the path as $1)
set -u
. "$(dirname "$0")/lib.sh"
lib_init tty "${TTY_TIMEOUT:-60}"
PY=/usr/bin/python3
NCHECK=6

NPLAT=$(echo $PLATFORMS | wc -w)
echo "1..$((NCHECK * NPLAT))"
if [ ! -x "$PY" ]; then
	skip_all $((NCHECK * NPLAT)) "no $PY"
	exit 0
fi

cat >"$FIX/roundtrip.py" <<'EOF'
import os, pty
m, s = pty.openpty()
os.write(m, b"hello\n")
line = os.read(s, 100)
echo = os.read(m, 100)
os.write(s, b"a\nb")
out = os.read(m, 100)
print("ok" if (line, echo, out) == (b"hello\n", b"hello\r\n", b"a\r\nb") else
      "bad %r %r %r" % (line, echo, out))
EOF
cat >"$FIX/raw.py" <<'EOF'
import os, pty, tty
m, s = pty.openpty()
tty.setraw(s)
os.write(m, b"x\r\x03")
got = os.read(s, 100)
os.write(s, b"y\n")
back = os.read(m, 100)
print("ok" if (got, back) == (b"x\r\x03", b"y\n") else "bad %r %r" % (got, back))
EOF
cat >"$FIX/eio.py" <<'EOF'
import errno, os, pty
m, s = pty.openpty()
os.write(s, b"last")
os.close(s)
first = os.read(m, 100)
try:
    os.read(m, 100)
    print("bad: no error")
except OSError as e:
    print("ok" if first == b"last" and e.errno == errno.EIO else "bad %r %d" % (first, e.errno))
EOF
cat >"$FIX/fork.py" <<'EOF'
import os, pty
pid, fd = pty.fork()
if pid == 0:
    print("child", os.isatty(0), os.getsid(0) == os.getpid(), os.tcgetpgrp(0) == os.getpid())
    os._exit(7)
out = b""
while True:
    try:
        d = os.read(fd, 100)
    except OSError:
        break
    if not d:
        break
    out += d
_, st = os.waitpid(pid, 0)
print("ok" if out == b"child True True True\r\n" and os.WEXITSTATUS(st) == 7 else "bad %r %d" % (out, st))
EOF
cat >"$FIX/intr.py" <<'EOF'
import os, pty, signal, time
pid, fd = pty.fork()
if pid == 0:
    os.write(1, b"R")
    time.sleep(30)
    os._exit(0)
os.read(fd, 1)
os.write(fd, b"\x03")
_, st = os.waitpid(pid, 0)
echo = os.read(fd, 100)
print("ok" if os.WIFSIGNALED(st) and os.WTERMSIG(st) == signal.SIGINT and b"^C" in echo
      else "bad %d %r" % (st, echo))
EOF
cat >"$FIX/devtty.py" <<'EOF'
import errno, os
try:
    os.setsid()    # already a session leader as the sandbox's init: EPERM
except OSError:
    pass
try:
    open("/dev/tty", "rb")
    print("bad: opened")
except OSError as e:
    print("ok" if e.errno == errno.ENXIO else "bad %d" % e.errno)
EOF

for p in $PLATFORMS; do
	for t in roundtrip raw eio fork intr devtty; do
		cv --platform="$p" do -- "$PY" "$FIX/$t.py"
		[ "$RC" -eq 0 ] && [ "$(cat "$OUT")" = ok ]; s=$?
		ok $s "$p: $t"; [ $s -eq 0 ] || show
	done
done

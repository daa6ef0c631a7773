/* Pseudo-terminals (pty(7), termios(3), tty_ioctl(4)): /dev/ptmx and
 * /dev/pts/N, the canonical line discipline (editing, echo, ICRNL, ONLCR,
 * EOF), non-canonical VMIN/VTIME, window size and SIGWINCH, controlling
 * terminals (setsid + TIOCSCTTY, /dev/tty), ISIG, job control (SIGTTIN,
 * SIGTTOU with TOSTOP), hang-up and EIO, poll, blocking reads with EINTR
 * and SA_RESTART. Children report through their exit status. */
#include "tap.h"

#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int open_master(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0)
		return -1;
	if (grantpt(m) || unlockpt(m)) {
		close(m);
		return -1;
	}
	return m;
}

static int open_pair(int *m, int *s)
{
	char *name;

	*m = open_master();
	if (*m < 0)
		return -1;
	name = ptsname(*m);
	*s = name ? open(name, O_RDWR | O_NOCTTY) : -1;
	if (*s < 0) {
		close(*m);
		return -1;
	}
	return 0;
}

/* Read until want bytes arrived or ms passed (the host pushes input to
 * the line discipline asynchronously). */
static ssize_t read_for(int fd, char *buf, size_t want, int ms)
{
	size_t got = 0;
	long end = now_ms() + ms;

	while (got < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left = end - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		if (!(p.revents & POLLIN))
			break;
		n = read(fd, buf + got, want - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = 0;
	return (ssize_t)got;
}

static void wr(int fd, const char *s)
{
	ssize_t n = write(fd, s, strlen(s));
	(void)n;
}

static void set_lflag(int fd, tcflag_t on, tcflag_t off)
{
	struct termios t;
	tcgetattr(fd, &t);
	t.c_lflag = (t.c_lflag | on) & ~off;
	tcsetattr(fd, TCSANOW, &t);
}

static void test_open(void)
{
	int m = open_master(), s, n = -1, lock = 1;
	char *name, path[64];
	struct stat st;

	ok_sys(m, "posix_openpt + grantpt + unlockpt");
	ok(isatty(m), "the master is a terminal");
	ok_sys(ioctl(m, TIOCGPTN, &n), "TIOCGPTN");
	name = ptsname(m);
	snprintf(path, sizeof(path), "/dev/pts/%d", n);
	ok(name && !strcmp(name, path), "ptsname is /dev/pts/%d (%s)", n,
	   name ? name : "NULL");
	ok(stat(path, &st) == 0 && S_ISCHR(st.st_mode) &&
		   major(st.st_rdev) >= 136 && major(st.st_rdev) < 144,
	   "the slave node is a character device of the pts majors");
	ok(stat("/dev/ptmx", &st) == 0 && S_ISCHR(st.st_mode) &&
		   st.st_rdev == makedev(5, 2),
	   "/dev/ptmx is c 5:2");
	ok_sys(ioctl(m, TIOCSPTLCK, &lock), "TIOCSPTLCK 1 locks again");
	is_errno(open(path, O_RDWR | O_NOCTTY), EIO, "a locked slave: EIO");
	lock = 0;
	ioctl(m, TIOCSPTLCK, &lock);
	s = open(path, O_RDWR | O_NOCTTY);
	ok_sys(s, "unlocked slave opens");
	ok(isatty(s), "the slave is a terminal");
	is_errno(ioctl(s, TIOCGPTN, &n), ENOTTY, "TIOCGPTN on the slave: ENOTTY");
	close(s);
	s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	ok_sys(s, "TIOCGPTPEER opens the slave");
	if (s >= 0) {
		char buf[16];
		wr(s, "peer\n");
		ok(read_for(m, buf, 6, 2000) == 6 && !memcmp(buf, "peer\r\n", 6),
		   "data from the TIOCGPTPEER slave reaches the master");
		close(s);
	}
	close(m);
	is_errno(stat(path, &st), ENOENT, "the node goes away with the master");
}

static void test_data(void)
{
	int m, s;
	char buf[256];
	struct termios t;
	ssize_t n;

	if (open_pair(&m, &s)) {
		ok(0, "open a pty pair");
		return;
	}
	ok(tcgetattr(s, &t) == 0 && (t.c_lflag & ICANON) && (t.c_lflag & ECHO) &&
		   (t.c_iflag & ICRNL) && (t.c_oflag & ONLCR),
	   "default slave termios: ICANON ECHO ICRNL ONLCR");
	ok(tcgetattr(m, &t) == 0 && (t.c_lflag & ICANON),
	   "tcgetattr on the master shows the slave's termios");

	wr(m, "hello\n");
	n = read(s, buf, sizeof(buf));
	ok(n == 6 && !memcmp(buf, "hello\n", 6), "master -> slave line (%zd)", n);
	n = read_for(m, buf, 7, 2000);
	ok(n == 7 && !strcmp(buf, "hello\r\n"), "echo comes back with ONLCR");

	wr(s, "a\nb");
	n = read_for(m, buf, 4, 2000);
	ok(n == 4 && !memcmp(buf, "a\r\nb", 4), "slave -> master with ONLCR");

	/* ERASE (DEL) with ECHOE, then KILL (^U) with ECHOKE. */
	wr(m, "abc\177\177d\n");
	n = read(s, buf, sizeof(buf));
	ok(n == 3 && !memcmp(buf, "ad\n", 3), "ERASE edits the line");
	n = read_for(m, buf, 12, 2000);
	ok(n == 12 && !memcmp(buf, "abc\b \b\b \bd\r\n", 12),
	   "ERASE echoes backspace-space-backspace (%zd)", n);
	wr(m, "xyz\025q\n");
	n = read(s, buf, sizeof(buf));
	ok(n == 2 && !memcmp(buf, "q\n", 2), "KILL discards the line");
	read_for(m, buf, 200, 200);

	/* ICRNL: CR ends the line as NL. */
	wr(m, "r\r");
	n = read(s, buf, sizeof(buf));
	ok(n == 2 && !memcmp(buf, "r\n", 2), "ICRNL maps CR to NL");
	read_for(m, buf, 200, 200);

	/* EOF: pending data without its EOF, then a 0-byte read. */
	wr(m, "ab\004");
	n = read(s, buf, sizeof(buf));
	ok(n == 2 && !memcmp(buf, "ab", 2), "EOF pushes a partial line");
	wr(m, "\004");
	n = read(s, buf, sizeof(buf));
	is_long(n, 0, "EOF at line start reads 0");

	/* A line longer than the buffer comes in pieces. */
	wr(m, "abcdef\n");
	n = read(s, buf, 4);
	ok(n == 4 && !memcmp(buf, "abcd", 4), "short read of a line");
	n = read(s, buf, sizeof(buf));
	ok(n == 3 && !memcmp(buf, "ef\n", 3), "the rest of the line");
	read_for(m, buf, 200, 200);

	/* FIONREAD counts only complete lines in canonical mode. */
	{
		struct pollfd p = { .fd = s, .events = POLLIN };
		int q = -1;

		wr(m, "part");
		ok(poll(&p, 1, 100) == 0, "a partial line is not readable");
		ok(ioctl(s, FIONREAD, &q) == 0 && q == 0, "FIONREAD 0 (%d)", q);
		wr(m, "\n");
		ok(poll(&p, 1, 2000) == 1 && (p.revents & POLLIN),
		   "a complete line is readable");
		ok(ioctl(s, FIONREAD, &q) == 0 && q == 5, "FIONREAD 5 (%d)", q);
		ok_sys(tcflush(s, TCIFLUSH), "tcflush TCIFLUSH");
		ok(ioctl(s, FIONREAD, &q) == 0 && q == 0, "flushed (%d)", q);
		read_for(m, buf, 200, 200);
	}

	/* No ECHO, ECHONL: only the newline is echoed. */
	set_lflag(s, ECHONL, ECHO);
	wr(m, "quiet\n");
	n = read(s, buf, sizeof(buf));
	ok(n == 6, "line read without echo");
	n = read_for(m, buf, 10, 300);
	ok(n == 2 && !memcmp(buf, "\r\n", 2), "ECHONL echoes only the newline");
	set_lflag(s, ECHO, ECHONL);

	/* No OPOST: output is raw. */
	tcgetattr(s, &t);
	t.c_oflag &= ~OPOST;
	tcsetattr(s, TCSANOW, &t);
	wr(s, "x\n");
	n = read_for(m, buf, 3, 300);
	ok(n == 2 && !memcmp(buf, "x\n", 2), "no OPOST: NL stays NL");
	t.c_oflag |= OPOST;
	tcsetattr(s, TCSANOW, &t);

	/* Master output readiness. */
	{
		struct pollfd p = { .fd = m, .events = POLLIN | POLLOUT };

		ok(poll(&p, 1, 0) == 1 && !(p.revents & POLLIN) &&
			   (p.revents & POLLOUT),
		   "master: writable, nothing to read");
		wr(s, "z");
		p.revents = 0;
		ok(poll(&p, 1, 2000) == 1 && (p.revents & POLLIN),
		   "master readable after a slave write");
		read_for(m, buf, 1, 500);
	}
	close(s);
	close(m);
}

static void test_raw(void)
{
	int m, s;
	char buf[64];
	struct termios t;
	ssize_t n;
	long t0;

	if (open_pair(&m, &s)) {
		ok(0, "open a pty pair");
		return;
	}
	tcgetattr(s, &t);
	t.c_lflag &= ~(ICANON | ECHO);
	t.c_iflag &= ~ICRNL;
	t.c_iflag |= INLCR;
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	ok_sys(tcsetattr(s, TCSANOW, &t), "non-canonical, VMIN=0 VTIME=0");
	n = read(s, buf, sizeof(buf));
	is_long(n, 0, "VMIN=0 VTIME=0 with no data returns 0 at once");
	wr(m, "k\r\n");
	n = read_for(s, buf, 3, 2000);
	ok(n == 3 && !memcmp(buf, "k\r\r", 3),
	   "no ICRNL: CR stays; INLCR: NL becomes CR");
	t.c_cc[VTIME] = 2;
	tcsetattr(s, TCSANOW, &t);
	t0 = now_ms();
	n = read(s, buf, sizeof(buf));
	t0 = now_ms() - t0;
	ok(n == 0 && t0 >= 150 && t0 < 2000,
	   "VMIN=0 VTIME=2 times out with 0 after ~200ms (%ld ms)", t0);
	t.c_cc[VMIN] = 3;
	t.c_cc[VTIME] = 0;
	tcsetattr(s, TCSANOW, &t);
	wr(m, "xyz");
	n = read(s, buf, sizeof(buf));
	ok(n == 3 && !memcmp(buf, "xyz", 3), "VMIN=3 returns three bytes");
	/* IGNCR drops CR. */
	t.c_iflag = IGNCR;
	t.c_cc[VMIN] = 1;
	tcsetattr(s, TCSANOW, &t);
	wr(m, "\ri");
	n = read_for(s, buf, 1, 2000);
	ok(n == 1 && buf[0] == 'i', "IGNCR ignores CR");
	close(s);
	close(m);
}

static void test_winsize(void)
{
	int m, s;
	struct winsize w = { .ws_row = 24, .ws_col = 80 }, g = { 0 };

	if (open_pair(&m, &s)) {
		ok(0, "open a pty pair");
		return;
	}
	ok_sys(ioctl(m, TIOCSWINSZ, &w), "TIOCSWINSZ on the master");
	ok(ioctl(s, TIOCGWINSZ, &g) == 0 && g.ws_row == 24 && g.ws_col == 80,
	   "TIOCGWINSZ on the slave sees it");
	close(s);
	close(m);
}

static volatile sig_atomic_t got_sig;
static void on_sig(int sig)
{
	got_sig = sig;
}

static void catch_sig(int sig, bool restart)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigaction(sig, &sa, NULL);
}

/* Child side: a new session with the slave as controlling terminal. */
static int become_session(const char *path)
{
	int fd;

	if (setsid() < 0)
		return -1;
	fd = open(path, O_RDWR | O_NOCTTY);
	if (fd < 0)
		return -1;
	if (ioctl(fd, TIOCSCTTY, 0) < 0)
		return -1;
	return fd;
}

static int wait_child(pid_t pid, int *st)
{
	long end = now_ms() + 10000;

	while (now_ms() < end) {
		pid_t r = waitpid(pid, st, WNOHANG | WUNTRACED);
		if (r == pid)
			return 0;
		if (r < 0) {
			diag("waitpid(%d): %s", (int)pid, strerror(errno));
			return -1;
		}
		msleep(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, st, 0);
	return -1;
}

/*
 * The set-ups the controlling-terminal cases share (and tap_fork_ready()).
 * fork_leader: a child becomes a session leader with the slave as its
 * controlling terminal (exit 11 if it cannot) and exits with
 * body(fd, arg). fork_hup_waiter (inside a leader): a child in its own
 * process group that waits for SIGHUP; it returns once the child's
 * handler is in place.
 */
static pid_t fork_leader(const char *path, int (*body)(int fd, void *arg),
			 void *arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = become_session(path);

		if (fd < 0)
			_exit(11);
		_exit(body(fd, arg));
	}
	return pid;
}

/* The child exits 0 on SIGHUP (40 without one), or, with resfd >= 0,
 * reports 'H' or 'X' there. -1 if it could not be started. */
static pid_t fork_hup_waiter(int resfd)
{
	int p[2];
	pid_t fg;
	char c;

	if (pipe(p))
		return -1;
	fg = fork();
	if (fg == 0) {
		catch_sig(SIGHUP, false);
		setpgid(0, 0);
		if (write(p[1], "r", 1) != 1)
			_exit(41);
		for (int i = 0; i < 500 && got_sig != SIGHUP; i++)
			msleep(10);
		if (resfd < 0)
			_exit(got_sig == SIGHUP ? 0 : 40);
		c = got_sig == SIGHUP ? 'H' : 'X';
		_exit(write(resfd, &c, 1) == 1 ? 0 : 42);
	}
	close(p[1]);
	if (fg > 0)
		setpgid(fg, fg);
	if (fg > 0 && read(p[0], &c, 1) != 1)	/* its handler is in place */
		fg = -1;
	close(p[0]);
	return fg;
}

/* ^C: no controlling terminal before setsid (/dev/tty ENXIO), then the
 * slave is one; waits to be killed. */
static int ctrl_c_body(void *arg, int readyfd)
{
	const char *path = arg;
	int fd, t;
	pid_t pg = -1, sid = -1;

	t = open("/dev/tty", O_RDWR);
	if (t >= 0 || errno != ENXIO)
		return 10;
	fd = become_session(path);
	if (fd < 0)
		return 11;
	if (ioctl(fd, TIOCGPGRP, &pg) || pg != getpid())
		return 12;
	if (ioctl(fd, TIOCGSID, &sid) || sid != getpid())
		return 13;
	t = open("/dev/tty", O_RDWR);
	if (t < 0)
		return 14;
	{
		struct winsize w;
		if (ioctl(t, TIOCGWINSZ, &w))
			return 15;
	}
	if (write(readyfd, "r", 1) != 1)
		return 16;
	for (;;)
		pause();
}

static int winch_body(void *arg, int readyfd)
{
	catch_sig(SIGWINCH, true);
	if (become_session(arg) < 0)
		return 11;
	if (write(readyfd, "r", 1) != 1)
		return 12;
	for (int i = 0; i < 500 && got_sig != SIGWINCH; i++)
		msleep(10);
	return got_sig == SIGWINCH ? 0 : 13;
}

/* Job control, from a background group of the leader's session. */
static int jobctl_body(int fd, void *arg)
{
	int st = 0;
	pid_t bg;

	(void)arg;
	bg = fork();
	if (bg == 0) {
		char b[8];
		ssize_t n;

		setpgid(0, 0);
		catch_sig(SIGTTIN, false);
		n = read(fd, b, sizeof(b));
		if (n != -1 || errno != EINTR || got_sig != SIGTTIN)
			_exit(20);
		signal(SIGTTIN, SIG_IGN);
		n = read(fd, b, sizeof(b));
		if (n != -1 || errno != EIO)
			_exit(21);
		{
			struct termios t;
			tcgetattr(fd, &t);
			t.c_lflag |= TOSTOP;
			/* tcsetattr from the background: SIGTTOU,
			 * ignored here so it goes through. */
			signal(SIGTTOU, SIG_IGN);
			if (tcsetattr(fd, TCSANOW, &t))
				_exit(22);
		}
		if (write(fd, "w", 1) != 1)
			_exit(23);
		got_sig = 0;
		catch_sig(SIGTTOU, false);
		n = write(fd, "w", 1);
		if (n != -1 || errno != EINTR || got_sig != SIGTTOU)
			_exit(24);
		_exit(0);
	}
	setpgid(bg, bg);
	if (wait_child(bg, &st) || !WIFEXITED(st))
		return 30;
	return WEXITSTATUS(st);
}

/* TIOCSPGRP to a new group, then TIOCNOTTY by the leader. */
static int notty_body(int fd, void *arg)
{
	int st = 0;
	pid_t fg = fork_hup_waiter(-1);

	(void)arg;
	if (fg < 0)
		return 17;
	if (ioctl(fd, TIOCSPGRP, &fg))
		return 12;
	{
		pid_t g = 0;
		if (ioctl(fd, TIOCGPGRP, &g) || g != fg)
			return 13;
	}
	signal(SIGTTOU, SIG_IGN);
	if (ioctl(fd, TIOCNOTTY))
		return 14;
	if (open("/dev/tty", O_RDWR) >= 0 || errno != ENXIO)
		return 15;
	if (wait_child(fg, &st) || !WIFEXITED(st))
		return 16;
	return WEXITSTATUS(st);
}

/* A new foreground group, then the leader exits. */
static int leader_exit_body(int fd, void *arg)
{
	pid_t fg = fork_hup_waiter(*(int *)arg);

	if (fg < 0 || ioctl(fd, TIOCSPGRP, &fg))
		return 12;
	return 0;
}

static void test_ctty_signals(void)
{
	int m, s, st = 0, rfd, cs;
	char path[64], buf[64], c;
	pid_t pid;

	if (open_pair(&m, &s)) {
		ok(0, "open a pty pair");
		return;
	}
	snprintf(path, sizeof(path), "%s", ptsname(m));
	close(s);

	/* ^C from the master kills the foreground group with SIGINT. */
	pid = tap_fork_ready(ctrl_c_body, path, &rfd);
	if (pid < 0)
		return;
	ok(read(rfd, &c, 1) == 1, "child: setsid, TIOCSCTTY, /dev/tty");
	wr(m, "\003");
	cs = wait_child(pid, &st);
	ok(cs == 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGINT,
	   "^C sends SIGINT to the foreground group (status %#x)", st);
	ok(read_for(m, buf, 2, 2000) == 2 && !memcmp(buf, "^C", 2),
	   "^C is echoed as ^C");
	close(rfd);

	/* SIGWINCH to the foreground group on a size change. */
	pid = tap_fork_ready(winch_body, path, &rfd);
	if (pid < 0)
		return;
	if (read(rfd, &c, 1) == 1) {
		struct winsize w = { .ws_row = 50, .ws_col = 132 };
		ioctl(m, TIOCSWINSZ, &w);
	}
	cs = wait_child(pid, &st);
	ok(cs == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "TIOCSWINSZ sends SIGWINCH (status %#x)", st);
	close(rfd);

	/* Job control: a background group reading gets SIGTTIN (EIO when
	 * it ignores it); writing with TOSTOP gets SIGTTOU. */
	pid = fork_leader(path, jobctl_body, NULL);
	cs = wait_child(pid, &st);
	ok(cs == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "background read: SIGTTIN then EIO; TOSTOP write: SIGTTOU (status %#x)",
	   st);
	read_for(m, buf, sizeof(buf) - 1, 200);

	/* TIOCSPGRP moves the foreground; TIOCNOTTY by the leader hangs
	 * the foreground group up (SIGHUP). */
	pid = fork_leader(path, notty_body, NULL);
	cs = wait_child(pid, &st);
	ok(cs == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "TIOCSPGRP, then TIOCNOTTY by the leader: SIGHUP to the foreground (status %#x)",
	   st);

	/* The session leader exits: its terminal's foreground group gets
	 * SIGHUP (disassociate_ctty(1)). */
	{
		int res[2];

		if (pipe(res))
			return;
		pid = fork_leader(path, leader_exit_body, &res[1]);
		close(res[1]);
		cs = wait_child(pid, &st);
		c = 0;
		{
			struct pollfd q = { .fd = res[0], .events = POLLIN };

			if (poll(&q, 1, 8000) == 1 && read(res[0], &c, 1) != 1)
				c = 0;
		}
		ok(cs == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 && c == 'H',
		   "leader exit: the foreground group gets SIGHUP (%#x, %c)", st,
		   c ? c : '0');
		close(res[0]);
	}
	close(m);
}

static void test_blocking(void)
{
	int m, s, st = 0, cs;
	pid_t pid;
	char buf[64];

	if (open_pair(&m, &s)) {
		ok(0, "open a pty pair");
		return;
	}
	pid = fork();
	if (pid == 0) {
		struct itimerval it = { { 0, 0 }, { 0, 100000 } };
		ssize_t n;

		catch_sig(SIGALRM, false);
		setitimer(ITIMER_REAL, &it, NULL);
		n = read(s, buf, sizeof(buf));
		if (n != -1 || errno != EINTR)
			_exit(1);
		catch_sig(SIGALRM, true);
		setitimer(ITIMER_REAL, &it, NULL);
		n = read(s, buf, sizeof(buf));
		_exit(n == 5 && !memcmp(buf, "late\n", 5) ? 0 : 2);
	}
	msleep(400);
	wr(m, "late\n");
	cs = wait_child(pid, &st);
	ok(cs == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "blocking slave read: EINTR, then restarted by SA_RESTART (status %#x)",
	   st);
	read_for(m, buf, sizeof(buf) - 1, 200);

	/* Master read after every slave closed: EIO (data first). */
	wr(s, "bye");
	close(s);
	ok(read_for(m, buf, 3, 2000) == 3 && !memcmp(buf, "bye", 3),
	   "data written before the slave closed is still read");
	{
		struct pollfd p = { .fd = m, .events = POLLIN };
		ok(poll(&p, 1, 1000) == 1 && (p.revents & POLLHUP),
		   "master polls POLLHUP with no slave");
	}
	is_errno(read(m, buf, sizeof(buf)), EIO, "master read with no slave: EIO");

	/* Slave after the master closed: read 0, write EIO. */
	close(m);
	if (open_pair(&m, &s)) {
		ok(0, "open a pty pair");
		return;
	}
	close(m);
	is_long(read(s, buf, sizeof(buf)), 0, "slave read after hang-up: 0");
	is_errno(write(s, "x", 1), EIO, "slave write after hang-up: EIO");
	close(s);
}

int main(void)
{
	signal(SIGTTOU, SIG_IGN);
	test_open();
	test_data();
	test_raw();
	test_winsize();
	test_ctty_signals();
	test_blocking();
	return done_testing();
}

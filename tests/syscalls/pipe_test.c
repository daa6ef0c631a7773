/*
 * pipe_test: pipe(2)/pipe2(2) and pipe(7) buffer semantics, within one
 * process (a pipe to itself), plus fork-based checks when fork works.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

static char big[1 << 20];

/* Fill a non-blocking pipe with writes of sz bytes; return bytes held. */
static long fill(int wfd, size_t sz)
{
	long total = 0;

	for (;;) {
		ssize_t n = write(wfd, big, sz);

		if (n < 0)
			return errno == EAGAIN ? total : -1;
		total += n;
	}
}

static long drain(int rfd)
{
	long total = 0;
	char buf[8192];

	for (;;) {
		ssize_t n = read(rfd, buf, sizeof(buf));

		if (n <= 0)
			return total;
		total += n;
	}
}

static volatile int alarm_seen, alarm_fd = -1;
static void on_alarm(int sig)
{
	(void)sig;
	alarm_seen++;
}
static void on_alarm_write(int sig)
{
	(void)sig;
	if (write(alarm_fd, "r", 1) != 1)
		alarm_seen = -100;
}

static int sigpipe_seen;
static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipe_seen++;
}

int main(void)
{
	int p[2], q[2];
	char buf[64];
	struct stat st;
	int v;

	memset(big, 'x', sizeof(big));

	/* Basics. */
	ok_sys(pipe(p), "pipe()");
	is_long(fcntl(p[0], F_GETFL), O_RDONLY, "read end F_GETFL is O_RDONLY");
	is_long(fcntl(p[1], F_GETFL), O_WRONLY, "write end F_GETFL is O_WRONLY");
	is_long(fcntl(p[0], F_GETFD), 0, "pipe(): no FD_CLOEXEC");
	is_long(write(p[1], "hello", 5), 5, "write 5 bytes");
	ok_sys(ioctl(p[0], FIONREAD, &v), "FIONREAD");
	is_long(v, 5, "FIONREAD counts 5 bytes");
	is_long(read(p[0], buf, 3), 3, "short read takes 3");
	is_long(read(p[0], buf + 3, sizeof(buf) - 3), 2, "read returns what is there");
	ok(memcmp(buf, "hello", 5) == 0, "data arrives in order");
	is_errno(write(p[0], "x", 1), EBADF, "write to read end: EBADF");
	is_errno(read(p[1], buf, 1), EBADF, "read from write end: EBADF");
	is_errno(lseek(p[0], 0, SEEK_SET), ESPIPE, "lseek: ESPIPE");
	is_errno(pread(p[0], buf, 1, 0), ESPIPE, "pread: ESPIPE");
	is_long(write(p[1], buf, 0), 0, "zero-length write");

	/* fstat(2) itself (glibc's fstat is newfstatat(AT_EMPTY_PATH), a
	 * path-walk question, tested by stat_test). */
	ok_sys(syscall(SYS_fstat, p[0], &st), "fstat");
	ok(S_ISFIFO(st.st_mode), "S_IFIFO");
	is_long(st.st_mode & 07777, 0600, "mode 0600");
	is_long(st.st_blksize, 4096, "st_blksize 4096");
	is_long(st.st_nlink, 1, "st_nlink 1");
	{
		struct stat st2;

		syscall(SYS_fstat, p[1], &st2);
		ok(st.st_ino == st2.st_ino && st.st_dev == st2.st_dev,
		   "both ends share one inode");
	}

	/* EOF and EPIPE. */
	ok_sys(close(p[1]), "close write end");
	is_long(read(p[0], buf, 1), 0, "read at EOF returns 0");
	close(p[0]);
	ok_sys(pipe(p), "pipe again");
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	is_errno(write(p[1], "x", 1), EPIPE, "write with no readers: EPIPE");
	close(p[1]);

	/* pipe2 flags. */
	is_errno(syscall(SYS_pipe2, p, 0x1), EINVAL, "pipe2 bad flag: EINVAL");
	is_errno(syscall(SYS_pipe2, BAD_PTR, 0), EFAULT, "pipe2 bad pointer: EFAULT");
	ok_sys(pipe2(p, O_CLOEXEC | O_NONBLOCK), "pipe2(O_CLOEXEC|O_NONBLOCK)");
	is_long(fcntl(p[0], F_GETFD), FD_CLOEXEC, "FD_CLOEXEC set");
	is_long(fcntl(p[0], F_GETFL), O_RDONLY | O_NONBLOCK, "F_GETFL has O_NONBLOCK");
	is_errno(read(p[0], buf, 1), EAGAIN, "empty non-blocking read: EAGAIN");

	/* Capacity: 16 pages. */
	is_long(fill(p[1], 1), 65536, "1-byte writes fill 65536 bytes");
	is_errno(write(p[1], "x", 1), EAGAIN, "full non-blocking write: EAGAIN");
	is_long(drain(p[0]), 65536, "drain 65536");
	is_long(fill(p[1], 4096), 65536, "4096-byte writes fill 65536");
	drain(p[0]);
	/* Sub-page writes that cannot merge take a page each. */
	is_long(fill(p[1], 3000), 16 * 3000, "3000-byte writes take a page each");
	drain(p[0]);
	/* Large non-blocking write: partial. */
	is_long(write(p[1], big, 100000), 65536, "100000-byte write is partial");
	is_errno(write(p[1], big, 1), EAGAIN, "then EAGAIN");
	drain(p[0]);
	/* PIPE_BUF atomicity: with 100 bytes of room short writes don't split. */
	is_long(write(p[1], big, 65536 - 100), 65536 - 100, "leave 100 bytes room");
	is_errno(write(p[1], big, 200), EAGAIN,
		 "200-byte write with 100 free: EAGAIN (atomic)");
	is_long(write(p[1], big, 100), 100, "100-byte write fits exactly");
	drain(p[0]);
	/* Merge: small writes share the last page. */
	is_long(write(p[1], "ab", 2), 2, "write ab");
	is_long(write(p[1], "cd", 2), 2, "write cd");
	is_long(read(p[0], buf, sizeof(buf)), 4, "one read gets both writes");

	/* F_GETPIPE_SZ / F_SETPIPE_SZ. */
	v = fcntl(p[0], F_GETPIPE_SZ);
	{
		is_long(v, 65536, "F_GETPIPE_SZ 65536");
		is_long(fcntl(p[1], F_SETPIPE_SZ, 5000), 8192,
			"F_SETPIPE_SZ rounds 5000 to 8192");
		is_long(fcntl(p[0], F_GETPIPE_SZ), 8192, "size is now 8192");
		is_long(fill(p[1], 1), 8192, "holds 8192");
		is_errno(fcntl(p[1], F_SETPIPE_SZ, 4096), EBUSY,
			 "shrink below contents: EBUSY");
		drain(p[0]);
		is_long(fcntl(p[1], F_SETPIPE_SZ, 0), 4096, "size 0 rounds to a page");
		is_long(fcntl(p[1], F_SETPIPE_SZ, 1 << 20), 1 << 20, "1 MiB allowed");
		is_long(fill(p[1], 4096), 1 << 20, "holds 1 MiB");
		drain(p[0]);
		is_errno(fcntl(p[1], F_SETPIPE_SZ, 0x80000001u), EINVAL,
			 "size above 2^31: EINVAL");
		is_errno(fcntl(0 + open("/dev/null", O_RDONLY), F_GETPIPE_SZ),
			 EBADF, "F_GETPIPE_SZ on a non-pipe: EBADF");
	}
	close(p[0]);
	close(p[1]);

	/* O_DIRECT packet mode. */
	ok_sys(pipe2(p, O_DIRECT | O_NONBLOCK), "pipe2(O_DIRECT)");
	is_long(fcntl(p[1], F_GETFL) & O_DIRECT, O_DIRECT, "O_DIRECT in F_GETFL");
	ok(write(p[1], "one", 3) == 3, "packet one");
	ok(write(p[1], "two", 3) == 3, "packet two");
	is_long(read(p[0], buf, sizeof(buf)), 3, "packet: a read takes one write");
	is_long(read(p[0], buf, 2), 2, "packet: short read");
	is_errno(read(p[0], buf, sizeof(buf)), EAGAIN,
		 "packet: rest of a packet is discarded");
	close(p[0]);
	close(p[1]);

	/* A blocking read interrupted by a handler without SA_RESTART. */
	{
		struct sigaction sa = { .sa_handler = on_alarm };
		struct itimerval it = { .it_value = { 0, 50000 } };

		ok_sys(pipe(p), "pipe for EINTR");
		sigaction(SIGALRM, &sa, NULL);
		setitimer(ITIMER_REAL, &it, NULL);
		is_errno(read(p[0], buf, 1), EINTR, "blocking read: EINTR");
		ok(alarm_seen == 1, "SIGALRM handler ran");
		/* With SA_RESTART the read restarts and gets the data
		 * written by the handler. */
		sa.sa_flags = SA_RESTART;
		sa.sa_handler = on_alarm_write;
		alarm_fd = p[1];
		sigaction(SIGALRM, &sa, NULL);
		setitimer(ITIMER_REAL, &it, NULL);
		is_long(read(p[0], buf, 1), 1, "SA_RESTART: read restarts");
		close(p[0]);
		close(p[1]);
	}

	/* fork-based checks. */
	ok_sys(pipe(p), "pipe for fork");
	ok_sys(pipe(q), "second pipe");
	pid_t pid = fork();
	if (pid < 0) {
		skip("fork not available", "blocking read wakes on child's write");
		skip("fork not available", "EOF after child exits");
		skip("fork not available", "child SIGPIPE");
	} else if (pid == 0) {
		close(p[0]);
		usleep(50000);
		if (write(p[1], "late", 4) != 4) _exit(1);
		_exit(0);
	} else {
		int status;

		close(p[1]);
		is_long(read(p[0], buf, sizeof(buf)), 4,
			"blocking read wakes on child's write");
		is_long(read(p[0], buf, sizeof(buf)), 0, "EOF after child exits");
		waitpid(pid, &status, 0);
		close(p[0]);

		close(q[0]);
		signal(SIGPIPE, on_sigpipe);
		is_errno(write(q[1], "x", 1), EPIPE, "EPIPE with a handler");
		ok(sigpipe_seen == 1, "SIGPIPE delivered to the writer");
		close(q[1]);
	}
	return done_testing();
}

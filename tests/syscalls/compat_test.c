/*
 * compat_test: behaviour real programs from a distribution rely on, each case
 * reduced from a failure seen running them in the sandbox
 * (tests/integration/test_programs.sh).
 *
 *  - named pipes (fifo(7), open(2)): `mkfifo f; echo x > f & cat f` in a shell.
 *    A blocking open waits for the other end; O_NONBLOCK read-only succeeds at
 *    once, O_NONBLOCK write-only without a reader is ENXIO; O_RDWR never blocks.
 *    Checked on the private /tmp and on the overlay root.
 *  - posix_fadvise (fadvise64(2)): cat, cp, sort and tar call it on their input;
 *    0 on a regular file, ESPIPE on a pipe, EBADF on a bad fd, EINVAL on a bad
 *    advice (mm/fadvise.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

/* A writer child: opens path for writing (blocking), writes msg, exits. */
static pid_t fifo_writer(const char *path, const char *msg)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(path, O_WRONLY);

		if (fd < 0)
			_exit(10);
		if (write(fd, msg, strlen(msg)) != (ssize_t)strlen(msg))
			_exit(11);
		_exit(close(fd) ? 12 : 0);
	}
	return pid;
}

static void fifo_cases(const char *where, const char *path)
{
	char buf[64];
	int fd, fd2, st = -1;
	pid_t pid;
	ssize_t n;

	unlink(path);
	if (!ok_sys(mkfifo(path, 0600), "%s: mkfifo", where)) {
		skip("no fifo", "%s: fifo cases", where);
		return;
	}

	/* Blocking read-open meets a blocking write-open in another process. */
	pid = fifo_writer(path, "abc");
	ok_sys(pid, "%s: fork writer", where);
	fd = open(path, O_RDONLY);
	ok_sys(fd, "%s: blocking O_RDONLY open returns once a writer opens", where);
	n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
	ok(n == 3 && !memcmp(buf, "abc", 3), "%s: reads what the writer wrote", where);
	{
		struct stat fst, pst;

		ok(fd >= 0 && fstat(fd, &fst) == 0 && stat(path, &pst) == 0 &&
			   S_ISFIFO(fst.st_mode) && fst.st_ino == pst.st_ino &&
			   fst.st_dev == pst.st_dev,
		   "%s: fstat of the open fifo is the fifo's inode", where);
	}
	if (pid > 0)
		waitpid(pid, &st, 0);
	ok(pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: writer exited 0 (status %#x)",
	   where, st);
	n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
	is_long(n, 0, "%s: EOF once the writer closed", where);
	if (fd >= 0)
		close(fd);

	/* Non-blocking opens. */
	is_errno(open(path, O_WRONLY | O_NONBLOCK), ENXIO,
		 "%s: O_WRONLY|O_NONBLOCK without a reader is ENXIO", where);
	fd = open(path, O_RDONLY | O_NONBLOCK);
	ok_sys(fd, "%s: O_RDONLY|O_NONBLOCK opens at once", where);
	fd2 = open(path, O_WRONLY | O_NONBLOCK);
	ok_sys(fd2, "%s: O_WRONLY|O_NONBLOCK with a reader opens", where);
	ok(fd2 >= 0 && write(fd2, "xy", 2) == 2, "%s: write into the fifo", where);
	n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
	ok(n == 2 && !memcmp(buf, "xy", 2), "%s: read it back", where);
	if (fd2 >= 0)
		close(fd2);
	if (fd >= 0)
		close(fd);

	/* O_RDWR never blocks (fifo(7): Linux-specific, both ends held). */
	fd = open(path, O_RDWR);
	ok_sys(fd, "%s: O_RDWR opens without a partner", where);
	ok(fd >= 0 && write(fd, "z", 1) == 1 && read(fd, buf, 1) == 1 && buf[0] == 'z',
	   "%s: O_RDWR end writes and reads itself", where);
	if (fd >= 0)
		close(fd);

	ok_sys(unlink(path), "%s: unlink the fifo", where);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void fifo_eintr(const char *path)
{
	struct sigaction sa = { .sa_handler = on_alarm };

	unlink(path);
	mkfifo(path, 0600);
	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART */
	alarm(1);
	is_errno(open(path, O_RDONLY), EINTR, "blocked fifo open is interrupted by SIGALRM");
	alarm(0);
	unlink(path);
}

static void fadvise_cases(void)
{
	int p[2], fd;
	const char *f = SPATH("fadv");

	fd = open(f, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ok_sys(fd, "create a file for fadvise");
	ok(fd >= 0 && write(fd, "hello", 5) == 5, "write it");
	is_long(syscall(SYS_fadvise64, fd, 0, 0, POSIX_FADV_SEQUENTIAL), 0,
		"fadvise64 SEQUENTIAL on a file is 0");
	is_long(syscall(SYS_fadvise64, fd, 0, 4096, POSIX_FADV_DONTNEED), 0,
		"fadvise64 DONTNEED on a file is 0");
	is_long(syscall(SYS_fadvise64, fd, 0, 0, POSIX_FADV_WILLNEED), 0,
		"fadvise64 WILLNEED on a file is 0");
	is_errno(syscall(SYS_fadvise64, fd, 0, 0, 42), EINVAL, "fadvise64 bad advice is EINVAL");
	is_errno(syscall(SYS_fadvise64, fd, 0, -1L, POSIX_FADV_NORMAL), EINVAL,
		 "fadvise64 negative len is EINVAL");
	is_errno(syscall(SYS_fadvise64, -1, 0, 0, POSIX_FADV_NORMAL), EBADF,
		 "fadvise64 on fd -1 is EBADF");
	if (pipe(p) == 0) {
		is_errno(syscall(SYS_fadvise64, p[0], 0, 0, POSIX_FADV_NORMAL), ESPIPE,
			 "fadvise64 on a pipe is ESPIPE");
		close(p[0]);
		close(p[1]);
	} else {
		skip("pipe failed", "fadvise64 on a pipe");
	}
	if (fd >= 0)
		close(fd);
	unlink(f);
}

int main(void)
{
	char ovl[64];

	scratch_init("compat");
	fifo_cases("tmp", SPATH("fifo"));
	fifo_eintr(SPATH("fifo-intr"));
	/* On the overlay root inside the sandbox; natively a host directory. */
	snprintf(ovl, sizeof(ovl), "/var/tmp/cvisor-compat-fifo.%d", (int)getpid());
	fifo_cases("var-tmp", ovl);
	fadvise_cases();
	scratch_cleanup();
	return done_testing();
}

/* dup/dup2/dup3, fcntl (F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD/SETFD, F_GETFL/SETFL), ioctl
 * (FIONREAD, FIOCLEX/FIONCLEX, TCGETS). dup(2), fcntl(2), ioctl_tty(2), fs/fcntl.c,
 * fs/ioctl.c. */
#include "tap.h"

#include <sys/ioctl.h>
#include <sys/resource.h>
#include <termios.h>

static int fd_valid(int fd) { return syscall(SYS_fcntl, fd, F_GETFD) != -1; }

static void test_dup(int fd)
{
	long d = syscall(SYS_dup, fd);
	ok(d > fd, "dup returns a new, higher fd");
	/* Shared open file description: shared offset. */
	syscall(SYS_lseek, fd, 3, SEEK_SET);
	is_long(syscall(SYS_lseek, d, 0, SEEK_CUR), 3, "dup shares the file offset");
	is_long(syscall(SYS_fcntl, d, F_GETFD), 0, "dup clears FD_CLOEXEC");
	syscall(SYS_close, d);
	is_errno(syscall(SYS_dup, -1), EBADF, "dup(-1) -> EBADF");
	is_errno(syscall(SYS_dup, 99999), EBADF, "dup(unused) -> EBADF");

	is_long(syscall(SYS_dup2, fd, 50), 50, "dup2 to 50");
	syscall(SYS_lseek, 50, 5, SEEK_SET);
	is_long(syscall(SYS_lseek, fd, 0, SEEK_CUR), 5, "dup2 shares the offset");
	long nul = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY);
	is_long(syscall(SYS_dup2, nul, 50), 50, "dup2 onto an open fd replaces it");
	char c;
	is_long(syscall(SYS_read, 50, &c, 1), 0, "fd 50 is now /dev/null");
	is_long(syscall(SYS_dup2, 50, 50), 50, "dup2(fd, fd) returns fd");
	is_errno(syscall(SYS_dup2, 51, 51), EBADF, "dup2(closed, same) -> EBADF");
	is_errno(syscall(SYS_dup2, -1, 52), EBADF, "dup2(-1, 52) -> EBADF");
	is_errno(syscall(SYS_dup2, fd, -1), EBADF, "dup2(fd, -1) -> EBADF");
	ok(!fd_valid(52), "failed dup2 did not create the target");
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	is_errno(syscall(SYS_dup2, fd, (long)rl.rlim_cur), EBADF, "dup2 to RLIMIT_NOFILE -> EBADF");
	is_errno(syscall(SYS_dup2, fd, 1L << 30), EBADF, "dup2 to 1<<30 -> EBADF");

	is_long(syscall(SYS_dup3, fd, 60, O_CLOEXEC), 60, "dup3 O_CLOEXEC");
	is_long(syscall(SYS_fcntl, 60, F_GETFD), FD_CLOEXEC, "dup3 sets FD_CLOEXEC");
	is_long(syscall(SYS_dup3, fd, 61, 0), 61, "dup3 flags 0");
	is_long(syscall(SYS_fcntl, 61, F_GETFD), 0, "dup3 flags 0 no FD_CLOEXEC");
	is_errno(syscall(SYS_dup3, fd, fd, 0), EINVAL, "dup3 same fd -> EINVAL");
	is_errno(syscall(SYS_dup3, fd, 62, O_NONBLOCK), EINVAL, "dup3 bad flags -> EINVAL");
	is_errno(syscall(SYS_dup3, 99999, 62, 0), EBADF, "dup3 bad oldfd -> EBADF");
	is_errno(syscall(SYS_dup3, fd, -1, 0), EBADF, "dup3 bad newfd -> EBADF");
	syscall(SYS_close_range, 50, 70, 0);
	syscall(SYS_close, nul);
}

static void test_fcntl(int fd)
{
	long d = syscall(SYS_fcntl, fd, F_DUPFD, 40);
	is_long(d, 40, "F_DUPFD 40 -> 40");
	is_long(syscall(SYS_fcntl, fd, F_DUPFD, 40), 41, "F_DUPFD 40 again -> 41 (lowest >= arg)");
	is_long(syscall(SYS_fcntl, 40, F_GETFD), 0, "F_DUPFD: no cloexec");
	long dc = syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 40);
	is_long(dc, 42, "F_DUPFD_CLOEXEC -> 42");
	is_long(syscall(SYS_fcntl, dc, F_GETFD), FD_CLOEXEC, "F_DUPFD_CLOEXEC sets cloexec");
	is_errno(syscall(SYS_fcntl, fd, F_DUPFD, -1), EINVAL, "F_DUPFD negative -> EINVAL");
	is_errno(syscall(SYS_fcntl, fd, F_DUPFD, 1L << 30), EINVAL, "F_DUPFD >= RLIMIT_NOFILE -> EINVAL");
	syscall(SYS_close_range, 40, 42, 0);

	is_long(syscall(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC), 0, "F_SETFD FD_CLOEXEC");
	is_long(syscall(SYS_fcntl, fd, F_GETFD), FD_CLOEXEC, "F_GETFD reads it back");
	is_long(syscall(SYS_fcntl, fd, F_SETFD, 0), 0, "F_SETFD 0");
	is_long(syscall(SYS_fcntl, fd, F_GETFD), 0, "F_GETFD cleared");

	long fl = syscall(SYS_fcntl, fd, F_GETFL);
	is_long(fl & O_ACCMODE, O_RDWR, "F_GETFL access mode O_RDWR");
	is_long(syscall(SYS_fcntl, fd, F_SETFL, fl | O_APPEND | O_NONBLOCK), 0, "F_SETFL O_APPEND|O_NONBLOCK");
	fl = syscall(SYS_fcntl, fd, F_GETFL);
	ok((fl & O_APPEND) && (fl & O_NONBLOCK), "F_GETFL shows O_APPEND|O_NONBLOCK");
	long d2 = syscall(SYS_dup, fd);
	ok(syscall(SYS_fcntl, d2, F_GETFL) & O_APPEND, "status flags are shared by dups");
	syscall(SYS_close, d2);
	/* Access mode and creation flags are ignored by F_SETFL. */
	is_long(syscall(SYS_fcntl, fd, F_SETFL, O_RDONLY | O_CREAT | O_TRUNC), 0, "F_SETFL ignores accmode");
	fl = syscall(SYS_fcntl, fd, F_GETFL);
	ok((fl & O_ACCMODE) == O_RDWR && !(fl & O_APPEND), "access mode unchanged, O_APPEND cleared");
	is_errno(syscall(SYS_fcntl, -1, F_GETFL), EBADF, "F_GETFL on -1 -> EBADF");
	is_errno(syscall(SYS_fcntl, 99999, F_GETFD), EBADF, "F_GETFD on unused -> EBADF");
	is_errno(syscall(SYS_fcntl, fd, 0x7fff, 0), EINVAL, "unknown fcntl cmd -> EINVAL");
}

static void test_ioctl(int fd)
{
	int n = -1;
	syscall(SYS_lseek, fd, 0, SEEK_SET);
	is_long(syscall(SYS_ioctl, fd, FIONREAD, &n), 0, "FIONREAD on a regular file");
	is_long(n, 10, "FIONREAD = bytes to EOF (10)");
	syscall(SYS_lseek, fd, 4, SEEK_SET);
	syscall(SYS_ioctl, fd, FIONREAD, &n);
	is_long(n, 6, "FIONREAD after lseek 4 = 6");
	is_errno(syscall(SYS_ioctl, fd, FIONREAD, BAD_PTR), EFAULT, "FIONREAD into (void*)1 -> EFAULT");

	is_long(syscall(SYS_ioctl, fd, FIOCLEX), 0, "FIOCLEX");
	is_long(syscall(SYS_fcntl, fd, F_GETFD), FD_CLOEXEC, "FIOCLEX set FD_CLOEXEC");
	is_long(syscall(SYS_ioctl, fd, FIONCLEX), 0, "FIONCLEX");
	is_long(syscall(SYS_fcntl, fd, F_GETFD), 0, "FIONCLEX cleared FD_CLOEXEC");

	struct termios t;
	is_errno(syscall(SYS_ioctl, fd, TCGETS, &t), ENOTTY, "TCGETS on a file -> ENOTTY");
	long nul = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR);
	is_errno(syscall(SYS_ioctl, nul, TCGETS, &t), ENOTTY, "TCGETS on /dev/null -> ENOTTY");
	is_errno(syscall(SYS_ioctl, nul, TIOCGWINSZ, &t), ENOTTY, "TIOCGWINSZ on /dev/null -> ENOTTY");
	syscall(SYS_close, nul);
	is_errno(syscall(SYS_ioctl, -1, FIONREAD, &n), EBADF, "ioctl on -1 -> EBADF");
	is_errno(syscall(SYS_ioctl, 99999, FIOCLEX), EBADF, "FIOCLEX on unused -> EBADF");
}

int main(void)
{
	scratch_init("fd");
	char f[PATH_MAX];
	spath(f, sizeof(f), "file");
	write_file(f, "0123456789", 10);
	int fd = (int)syscall(SYS_openat, AT_FDCWD, f, O_RDWR);
	ok_sys(fd, "open scratch file");
	test_dup(fd);
	test_fcntl(fd);
	test_ioctl(fd);
	syscall(SYS_close, fd);
	scratch_cleanup();
	return done_testing();
}

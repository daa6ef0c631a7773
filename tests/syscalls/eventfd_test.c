/*
 * eventfd_test: eventfd(2)/eventfd2 counter semantics, within one process
 * (plus a fork-based blocking check when fork works).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

int main(void)
{
	uint64_t v;
	char small[4];
	struct stat st;
	int e;

	e = eventfd(5, EFD_NONBLOCK | EFD_CLOEXEC);
	ok_sys(e, "eventfd2(5, NONBLOCK|CLOEXEC)");
	is_long(fcntl(e, F_GETFL), O_RDWR | O_NONBLOCK, "F_GETFL O_RDWR|O_NONBLOCK");
	is_long(fcntl(e, F_GETFD), FD_CLOEXEC, "FD_CLOEXEC");
	ok_sys(syscall(SYS_fstat, e, &st), "fstat");
	is_long(st.st_mode, 0600, "anon inode mode 0600 (no type bits)");
	is_long(read(e, &v, 8), 8, "read 8 bytes");
	is_long((long)v, 5, "initial value");
	is_errno(read(e, &v, 8), EAGAIN, "zero count: EAGAIN");
	is_errno(read(e, small, 4), EINVAL, "read < 8 bytes: EINVAL");
	is_errno(write(e, small, 4), EINVAL, "write < 8 bytes: EINVAL");
	v = 3;
	is_long(write(e, &v, 8), 8, "write 3");
	v = 4;
	is_long(write(e, &v, 8), 8, "write 4");
	{
		char buf[16];

		is_long(read(e, buf, sizeof(buf)), 8, "16-byte read returns 8");
		memcpy(&v, buf, 8);
		is_long((long)v, 7, "counts add up");
	}
	v = ~0ULL;
	is_errno(write(e, &v, 8), EINVAL, "write 0xffffffffffffffff: EINVAL");
	v = 0xfffffffffffffffeULL;
	is_long(write(e, &v, 8), 8, "write the maximum 0xfffffffffffffffe");
	v = 1;
	is_errno(write(e, &v, 8), EAGAIN, "overflow would block: EAGAIN");
	v = 0;
	is_long(write(e, &v, 8), 8, "adding 0 always fits");
	is_long(read(e, &v, 8), 8, "read");
	ok(v == 0xfffffffffffffffeULL, "got the maximum back");
	is_long(lseek(e, 0, SEEK_END), 0, "lseek: a no-op returning 0");
	close(e);

	/* Semaphore mode. */
	e = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
	ok_sys(e, "EFD_SEMAPHORE");
	is_long(read(e, &v, 8), 8, "semaphore read");
	is_long((long)v, 1, "returns 1");
	is_long(read(e, &v, 8), 8, "second read");
	is_long((long)v, 1, "returns 1 again");
	is_errno(read(e, &v, 8), EAGAIN, "then EAGAIN");
	close(e);

	is_errno(syscall(SYS_eventfd2, 0, 0x4), EINVAL, "eventfd2 bad flags: EINVAL");
	e = syscall(SYS_eventfd, 1);
	ok_sys(e, "eventfd(1) (old call)");
	is_long(fcntl(e, F_GETFL), O_RDWR, "blocking by default");
	is_long(read(e, &v, 8), 8, "read 1");

	/* Blocking read woken from another process. */
	pid_t pid = fork();
	if (pid < 0) {
		skip("fork not available", "blocking read woken by child");
	} else if (pid == 0) {
		uint64_t one = 42;

		usleep(50000);
		_exit(write(e, &one, 8) == 8 ? 0 : 1);
	} else {
		int status;

		is_long(read(e, &v, 8), 8, "blocking read woken by child");
		is_long((long)v, 42, "child's value");
		waitpid(pid, &status, 0);
	}
	close(e);
	return done_testing();
}

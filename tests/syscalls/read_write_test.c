/* read/write/readv/writev/pread64/pwrite64/lseek on a tmpfs file and /dev/{null,zero,full}.
 * Linux semantics from read(2), write(2), readv(2), pread(2) and fs/read_write.c. */
#include "tap.h"

#include <sys/mman.h>
#include <sys/uio.h>

static long sys_read(int fd, void *b, size_t n) { return syscall(SYS_read, fd, b, n); }
static long sys_write(int fd, const void *b, size_t n) { return syscall(SYS_write, fd, b, n); }

static void test_file(void)
{
	char path[PATH_MAX], buf[64];
	spath(path, sizeof(path), "rw");
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ok_sys(fd, "create %s", path);

	is_long(sys_write(fd, "hello world", 11), 11, "write returns count");
	is_long(syscall(SYS_lseek, fd, 0, SEEK_CUR), 11, "file offset advanced by write");
	is_long(sys_write(fd, "x", 0), 0, "write of 0 bytes returns 0");
	is_long(syscall(SYS_lseek, fd, 0, SEEK_SET), 0, "lseek SEEK_SET 0");
	memset(buf, 0, sizeof(buf));
	is_long(sys_read(fd, buf, sizeof(buf)), 11, "read returns file size");
	ok(memcmp(buf, "hello world", 11) == 0, "read returns written data");
	is_long(sys_read(fd, buf, sizeof(buf)), 0, "read at EOF returns 0");
	is_long(sys_read(fd, buf, 0), 0, "read of 0 bytes returns 0");

	/* pread/pwrite do not move the file offset. */
	memset(buf, 0, sizeof(buf));
	is_long(syscall(SYS_pread64, fd, buf, 5, 6), 5, "pread64 at offset 6");
	ok(memcmp(buf, "world", 5) == 0, "pread64 data");
	is_long(syscall(SYS_lseek, fd, 0, SEEK_CUR), 11, "pread64 leaves offset");
	is_long(syscall(SYS_pwrite64, fd, "W", 1, 6), 1, "pwrite64 at offset 6");
	is_long(syscall(SYS_lseek, fd, 0, SEEK_CUR), 11, "pwrite64 leaves offset");
	is_long(syscall(SYS_pread64, fd, buf, sizeof(buf), 0), 11, "pread64 whole file");
	ok(memcmp(buf, "hello World", 11) == 0, "pwrite64 changed the data");
	is_long(syscall(SYS_pread64, fd, buf, sizeof(buf), 100), 0, "pread64 past EOF returns 0");
	is_errno(syscall(SYS_pread64, fd, buf, 1, -1L), EINVAL, "pread64 negative offset -> EINVAL");
	is_errno(syscall(SYS_pwrite64, fd, "x", 1, -1L), EINVAL, "pwrite64 negative offset -> EINVAL");

	/* pwrite past EOF leaves a hole that reads as zeros. */
	is_long(syscall(SYS_pwrite64, fd, "Z", 1, 20), 1, "pwrite64 past EOF");
	memset(buf, 'q', sizeof(buf));
	is_long(syscall(SYS_pread64, fd, buf, sizeof(buf), 0), 21, "file grew to 21 bytes");
	ok(buf[11] == 0 && buf[19] == 0 && buf[20] == 'Z', "hole reads as zeros");

	/* writev/readv gather and scatter in order. */
	struct iovec wv[3] = {
		{ .iov_base = "abc", .iov_len = 3 },
		{ .iov_base = "", .iov_len = 0 },
		{ .iov_base = "defgh", .iov_len = 5 },
	};
	syscall(SYS_lseek, fd, 0, SEEK_SET);
	is_long(syscall(SYS_writev, fd, wv, 3), 8, "writev 3 iovecs (one empty)");
	char a[2], b[4], c[16];
	memset(c, 0, sizeof(c));
	struct iovec rv[3] = { { a, 2 }, { b, 4 }, { c, sizeof(c) } };
	syscall(SYS_lseek, fd, 0, SEEK_SET);
	is_long(syscall(SYS_readv, fd, rv, 3), 21, "readv returns total");
	ok(memcmp(a, "ab", 2) == 0 && memcmp(b, "cdef", 4) == 0 && memcmp(c, "gh", 2) == 0,
	   "readv scatters in order");
	is_long(syscall(SYS_readv, fd, rv, 0), 0, "readv iovcnt 0 returns 0");
	is_errno(syscall(SYS_readv, fd, rv, 1025), EINVAL, "readv iovcnt 1025 -> EINVAL");
	is_errno(syscall(SYS_writev, fd, wv, 1025), EINVAL, "writev iovcnt 1025 -> EINVAL");
	is_errno(syscall(SYS_readv, fd, rv, -1), EINVAL, "readv iovcnt -1 -> EINVAL");
	struct iovec huge[2] = { { buf, 1 }, { buf, (size_t)SSIZE_MAX + 1 } };
	is_errno(syscall(SYS_writev, fd, huge, 2), EINVAL, "writev iov_len > SSIZE_MAX -> EINVAL");
	is_errno(syscall(SYS_readv, fd, BAD_PTR, 1), EFAULT, "readv iov array (void*)1 -> EFAULT");
	is_errno(syscall(SYS_writev, fd, KERNEL_PTR, 1), EFAULT, "writev iov array kernel -> EFAULT");
	struct iovec badbase = { BAD_PTR, 4 };
	syscall(SYS_lseek, fd, 0, SEEK_SET);
	is_errno(syscall(SYS_readv, fd, &badbase, 1), EFAULT, "readv iov_base (void*)1 -> EFAULT");
	is_errno(syscall(SYS_writev, fd, &badbase, 1), EFAULT, "writev iov_base (void*)1 -> EFAULT");

	/* Wild buffers: EFAULT, not a crash, and nothing transferred. */
	syscall(SYS_lseek, fd, 0, SEEK_SET);
	is_errno(sys_read(fd, BAD_PTR, 4), EFAULT, "read into (void*)1 -> EFAULT");
	is_errno(sys_read(fd, KERNEL_PTR, 4), EFAULT, "read into kernel address -> EFAULT");
	is_errno(sys_write(fd, BAD_PTR, 4), EFAULT, "write from (void*)1 -> EFAULT");
	is_errno(sys_write(fd, KERNEL_PTR, 4), EFAULT, "write from kernel address -> EFAULT");
	is_errno(syscall(SYS_pread64, fd, BAD_PTR, 4, 0), EFAULT, "pread64 into (void*)1 -> EFAULT");
	is_errno(syscall(SYS_pwrite64, fd, KERNEL_PTR, 4, 0), EFAULT,
		 "pwrite64 from kernel address -> EFAULT");
	is_long(syscall(SYS_lseek, fd, 0, SEEK_CUR), 0, "failed reads/writes left offset at 0");
	is_long(syscall(SYS_pread64, fd, buf, 3, 0), 3, "file still readable");
	ok(memcmp(buf, "abc", 3) == 0, "EFAULT writes did not change data");

	/* A buffer whose second page is PROT_NONE: the copy stops at the boundary and
	 * the call returns the short count (Linux copies page by page). */
	char big[8192];
	memset(big, 'B', sizeof(big));
	is_long(syscall(SYS_pwrite64, fd, big, sizeof(big), 0), 8192, "pwrite64 8 KiB");
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m != MAP_FAILED && mprotect(m + 4096, 4096, PROT_NONE) == 0) {
		is_long(syscall(SYS_pread64, fd, m, 8192, 0), 4096,
			"pread64 into half-PROT_NONE buffer -> short count 4096");
		ok(m[0] == 'B' && m[4095] == 'B', "first page was filled");
		is_errno(syscall(SYS_pread64, fd, m + 4096, 16, 0), EFAULT,
			 "pread64 into PROT_NONE page -> EFAULT");
		munmap(m, 8192);
	} else {
		skip("mmap failed", "partial copy into half-PROT_NONE buffer");
	}

	is_long(syscall(SYS_close, fd), 0, "close");

	/* Access mode is enforced: EBADF, not EACCES. */
	fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY);
	is_errno(sys_write(fd, "x", 1), EBADF, "write on O_RDONLY fd -> EBADF");
	is_errno(syscall(SYS_pwrite64, fd, "x", 1, 0), EBADF, "pwrite64 on O_RDONLY fd -> EBADF");
	is_errno(syscall(SYS_writev, fd, wv, 1), EBADF, "writev on O_RDONLY fd -> EBADF");
	syscall(SYS_close, fd);
	fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY);
	is_errno(sys_read(fd, buf, 1), EBADF, "read on O_WRONLY fd -> EBADF");
	is_errno(syscall(SYS_pread64, fd, buf, 1, 0), EBADF, "pread64 on O_WRONLY fd -> EBADF");
	is_errno(syscall(SYS_readv, fd, rv, 1), EBADF, "readv on O_WRONLY fd -> EBADF");
	syscall(SYS_close, fd);

	/* EBADF comes before EFAULT. */
	is_errno(sys_read(-1, buf, 1), EBADF, "read fd -1 -> EBADF");
	is_errno(sys_write(-1, buf, 1), EBADF, "write fd -1 -> EBADF");
	is_errno(sys_read(fd, buf, 1), EBADF, "read closed fd -> EBADF");
	is_errno(sys_read(1000000, BAD_PTR, 1), EBADF, "read bad fd + bad buffer -> EBADF first");
	is_errno(syscall(SYS_pread64, -1, buf, 1, 0), EBADF, "pread64 fd -1 -> EBADF");
	is_errno(syscall(SYS_writev, -1, wv, 1), EBADF, "writev fd -1 -> EBADF");

	/* Directories. */
	int dfd = (int)syscall(SYS_openat, AT_FDCWD, "/tmp", O_RDONLY | O_DIRECTORY);
	is_errno(sys_read(dfd, buf, 1), EISDIR, "read on a directory -> EISDIR");
	is_errno(syscall(SYS_pread64, dfd, buf, 1, 0), EISDIR, "pread64 on a directory -> EISDIR");
	syscall(SYS_close, dfd);
}

static void test_dev(void)
{
	char buf[256];
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR);
	ok_sys(fd, "open /dev/null");
	is_long(sys_write(fd, "abc", 3), 3, "write /dev/null returns count");
	is_long(sys_read(fd, buf, sizeof(buf)), 0, "read /dev/null returns 0 (EOF)");
	/* /dev/null never touches the buffer, so even a wild pointer "succeeds". */
	is_long(sys_write(fd, BAD_PTR, 16), 16, "write /dev/null from (void*)1 returns count");
	struct iovec v[2] = { { "ab", 2 }, { "cde", 3 } };
	is_long(syscall(SYS_writev, fd, v, 2), 5, "writev /dev/null");
	is_long(syscall(SYS_pwrite64, fd, "x", 1, 1000), 1, "pwrite64 /dev/null");
	syscall(SYS_close, fd);

	fd = (int)syscall(SYS_openat, AT_FDCWD, "/dev/zero", O_RDWR);
	ok_sys(fd, "open /dev/zero");
	memset(buf, 0x55, sizeof(buf));
	is_long(sys_read(fd, buf, sizeof(buf)), sizeof(buf), "read /dev/zero fills buffer");
	int allzero = 1;
	for (size_t i = 0; i < sizeof(buf); i++)
		allzero &= buf[i] == 0;
	ok(allzero, "/dev/zero data is all zeros");
	is_long(sys_write(fd, "abc", 3), 3, "write /dev/zero returns count");
	is_errno(sys_read(fd, BAD_PTR, 8), EFAULT, "read /dev/zero into (void*)1 -> EFAULT");
	is_errno(sys_read(fd, KERNEL_PTR, 8), EFAULT, "read /dev/zero into kernel address -> EFAULT");
	char a[3], b[5];
	struct iovec rv[2] = { { a, 3 }, { b, 5 } };
	memset(a, 1, 3);
	memset(b, 1, 5);
	is_long(syscall(SYS_readv, fd, rv, 2), 8, "readv /dev/zero");
	ok(a[2] == 0 && b[4] == 0, "readv /dev/zero zero-fills every iovec");
	syscall(SYS_close, fd);

	fd = (int)syscall(SYS_openat, AT_FDCWD, "/dev/full", O_RDWR);
	ok_sys(fd, "open /dev/full");
	is_errno(sys_write(fd, "abc", 3), ENOSPC, "write /dev/full -> ENOSPC");
	is_errno(syscall(SYS_writev, fd, v, 2), ENOSPC, "writev /dev/full -> ENOSPC");
	buf[0] = 1;
	is_long(sys_read(fd, buf, 16), 16, "read /dev/full returns zeros");
	ok(buf[0] == 0, "/dev/full reads zeros");
	syscall(SYS_close, fd);

	fd = (int)syscall(SYS_openat, AT_FDCWD, "/dev/urandom", O_RDONLY);
	ok_sys(fd, "open /dev/urandom");
	is_long(sys_read(fd, buf, 64), 64, "read /dev/urandom 64 bytes");
	syscall(SYS_close, fd);
}

int main(void)
{
	scratch_init("rw");
	test_file();
	test_dev();
	scratch_cleanup();
	return done_testing();
}

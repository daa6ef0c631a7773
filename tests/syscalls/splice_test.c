/* sendfile, copy_file_range, splice, tee, vmsplice: data, offsets, how much
 * one call moves, and errors in Linux's order. sendfile(2),
 * copy_file_range(2), splice(2), tee(2), vmsplice(2); fs/read_write.c,
 * fs/splice.c. */
#include "tap.h"

#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#define SZ 100000
static char pat[SZ] __attribute__((aligned(4096)));
static char src[PATH_MAX];

static long sys_sendfile(int out, int in, int64_t *off, size_t n)
{
	return syscall(SYS_sendfile, out, in, off, n);
}
static long sys_cfr(int in, int64_t *oi, int out, int64_t *oo, size_t n, unsigned f)
{
	return syscall(SYS_copy_file_range, in, oi, out, oo, n, f);
}
static long sys_splice(int in, int64_t *oi, int out, int64_t *oo, size_t n, unsigned f)
{
	return syscall(SYS_splice, in, oi, out, oo, n, f);
}

static int same(int fd, const char *want, size_t n)
{
	static char buf[SZ];
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got == n && !memcmp(buf, want, n);
}

static int fresh(const char *leaf, int flags)
{
	char p[PATH_MAX];
	return open(spath(p, sizeof(p), leaf), flags | O_CREAT | O_TRUNC, 0600);
}

static void test_sendfile(void)
{
	int p[2], in = open(src, O_RDONLY);
	int64_t off = 10;

	ok_sys(pipe(p), "pipe");
	is_long(sys_sendfile(p[1], in, &off, 100), 100, "sendfile file->pipe with offset");
	is_long(off, 110, "offset advanced");
	is_long(lseek(in, 0, SEEK_CUR), 0, "file position untouched");
	ok(same(p[0], pat + 10, 100), "pipe data");
	is_long(sys_sendfile(p[1], in, NULL, 50), 50, "sendfile without offset");
	is_long(lseek(in, 0, SEEK_CUR), 50, "file position advanced");
	ok(same(p[0], pat, 50), "pipe data from position 0");
	/* Into a pipe: at most what its free slots hold, page by page of
	 * the file (the first slot takes the rest of the page at 50). */
	is_long(sys_sendfile(p[1], in, NULL, SZ), 65536 - 50, "sendfile fills the 64 KiB pipe only");
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	is_errno(sys_sendfile(p[1], in, NULL, 10), EAGAIN, "full O_NONBLOCK pipe -> EAGAIN");
	ok(same(p[0], pat + 50, 65536 - 50), "pipe data of the big transfer");
	fcntl(p[1], F_SETFL, 0);

	int out = fresh("sf_out", O_RDWR);
	off = 1000;
	lseek(out, 7, SEEK_SET);
	is_long(sys_sendfile(out, in, &off, 90000), 90000, "sendfile file->file");
	is_long(lseek(out, 0, SEEK_CUR), 90007, "output position advanced");
	is_long(off, 91000, "input offset advanced");
	ok(lseek(out, 7, SEEK_SET) == 7 && same(out, pat + 1000, 90000), "file data");
	is_errno(sys_sendfile(out, in, NULL, (size_t)-1), EINVAL, "count (size_t)-1 -> EINVAL");
	off = SZ - 10;
	is_long(sys_sendfile(out, in, &off, 1000), 10, "sendfile stops at EOF");
	is_long(sys_sendfile(out, in, &off, 1000), 0, "sendfile at EOF -> 0");

	/* Errors. */
	off = -1;
	is_errno(sys_sendfile(out, in, &off, 10), EINVAL, "negative offset -> EINVAL");
	off = INT64_MAX - 5;
	is_errno(sys_sendfile(out, in, &off, 10), EINVAL, "offset + count past loff_t -> EINVAL");
	is_errno(sys_sendfile(out, 999, NULL, 10), EBADF, "bad in_fd -> EBADF");
	is_errno(sys_sendfile(999, in, NULL, 10), EBADF, "bad out_fd -> EBADF");
	off = -1;
	is_errno(sys_sendfile(999, in, &off, 10), EINVAL, "in offset checked before out_fd");
	int wo = fresh("sf_wo", O_WRONLY);
	is_errno(sys_sendfile(out, wo, NULL, 10), EBADF, "in_fd write-only -> EBADF");
	is_errno(sys_sendfile(in, in, NULL, 10), EBADF, "out_fd read-only -> EBADF");
	off = 0;
	is_errno(sys_sendfile(out, p[0], &off, 10), ESPIPE, "offset with a pipe in_fd -> ESPIPE");
	write(p[1], "abc", 3);
	is_errno(sys_sendfile(out, p[0], NULL, 10), EINVAL, "pipe in_fd -> EINVAL");
	char ap[PATH_MAX];
	int app = open(spath(ap, sizeof(ap), "sf_out"), O_WRONLY | O_APPEND);
	is_errno(sys_sendfile(app, in, NULL, 10), EINVAL, "O_APPEND out_fd -> EINVAL");
	is_errno(sys_sendfile(out, in, (int64_t *)BAD_PTR, 10), EFAULT, "bad offset pointer -> EFAULT");
	close(app);
	close(wo);
	close(out);
	close(in);
	close(p[0]);
	close(p[1]);
}

static void test_copy_file_range(void)
{
	int in = open(src, O_RDONLY);
	int out = fresh("cfr", O_RDWR);
	int64_t oi = 5, oo = 3;

	is_long(sys_cfr(in, &oi, out, &oo, 70000, 0), 70000, "copy_file_range with offsets");
	is_long(oi, 70005, "in offset advanced");
	is_long(oo, 70003, "out offset advanced");
	is_long(lseek(in, 0, SEEK_CUR), 0, "in position untouched");
	is_long(lseek(out, 0, SEEK_CUR), 0, "out position untouched");
	lseek(out, 3, SEEK_SET);
	ok(same(out, pat + 5, 70000), "copied data");
	lseek(in, 100, SEEK_SET);
	lseek(out, 0, SEEK_SET);
	is_long(sys_cfr(in, NULL, out, NULL, 10, 0), 10, "copy_file_range with positions");
	is_long(lseek(in, 0, SEEK_CUR), 110, "in position advanced");
	is_long(lseek(out, 0, SEEK_CUR), 10, "out position advanced");
	oi = SZ - 4;
	is_long(sys_cfr(in, &oi, out, NULL, 100, 0), 4, "stops at EOF");
	oi = SZ + 10;
	is_long(sys_cfr(in, &oi, out, NULL, 100, 0), 0, "past EOF -> 0");

	oi = 0;
	oo = 0;
	is_long(sys_cfr(in, &oi, out, &oo, (size_t)-1, 0), SZ, "len SIZE_MAX copies to EOF");
	oi = 0;
	oo = 1;
	is_errno(sys_cfr(in, &oi, out, &oo, (size_t)-1, 0), EOVERFLOW, "out offset wraps -> EOVERFLOW");
	is_errno(sys_cfr(in, NULL, out, NULL, 10, 1), EINVAL, "flags != 0 -> EINVAL");
	is_errno(sys_cfr(999, NULL, out, NULL, 10, 0), EBADF, "bad fd_in -> EBADF");
	is_errno(sys_cfr(in, NULL, 999, NULL, 10, 0), EBADF, "bad fd_out -> EBADF");
	is_errno(sys_cfr(in, (int64_t *)BAD_PTR, out, NULL, 10, 0), EFAULT, "bad off_in -> EFAULT");
	/* Same file: overlapping ranges are refused, disjoint ones copied. */
	oi = 0;
	oo = 100;
	is_errno(sys_cfr(out, &oi, out, &oo, 200, 0), EINVAL, "overlapping same-file copy -> EINVAL");
	oi = 0;
	oo = 1000;
	is_long(sys_cfr(out, &oi, out, &oo, 100, 0), 100, "disjoint same-file copy");
	oi = -1;
	is_errno(sys_cfr(in, &oi, out, NULL, 10, 0), EOVERFLOW, "offset -1 wraps -> EOVERFLOW");
	oi = -4096;
	is_errno(sys_cfr(in, &oi, out, NULL, 10, 0), EINVAL, "negative offset -> EINVAL");
	int dir = open(scratch_dir, O_RDONLY | O_DIRECTORY);
	is_errno(sys_cfr(dir, NULL, out, NULL, 10, 0), EISDIR, "directory -> EISDIR");
	close(dir);
	dir = open(scratch_dir, O_PATH | O_DIRECTORY);
	is_errno(sys_cfr(dir, NULL, out, NULL, 10, 0), EBADF, "O_PATH fd -> EBADF");
	is_errno(sys_sendfile(out, dir, NULL, 10), EBADF, "sendfile from O_PATH fd -> EBADF");
	close(dir);
	int p[2];
	pipe(p);
	is_errno(sys_cfr(p[0], NULL, out, NULL, 10, 0), EINVAL, "pipe -> EINVAL");
	close(p[0]);
	close(p[1]);
	int wo = fresh("cfr_wo", O_WRONLY);
	is_errno(sys_cfr(wo, NULL, out, NULL, 10, 0), EBADF, "fd_in write-only -> EBADF");
	char ap[PATH_MAX];
	int app = open(spath(ap, sizeof(ap), "cfr"), O_WRONLY | O_APPEND);
	is_errno(sys_cfr(in, NULL, app, NULL, 10, 0), EBADF, "O_APPEND fd_out -> EBADF");
	close(app);
	close(wo);
	/* Across file systems: EXDEV (Linux >= 5.19). */
	int ps = open("/proc/self/status", O_RDONLY);
	is_errno(sys_cfr(ps, NULL, out, NULL, 10, 0), EXDEV, "procfs -> tmp file: EXDEV");
	close(ps);
	close(out);
	close(in);
}

static void test_splice(void)
{
	int in = open(src, O_RDONLY), p[2], q[2];
	int out = fresh("sp_out", O_RDWR);
	int64_t off = 20, oo = 4;
	char buf[64];

	pipe(p);
	pipe(q);
	is_long(sys_splice(in, &off, p[1], NULL, 30, 0), 30, "splice file->pipe with off_in");
	is_long(off, 50, "off_in advanced");
	is_long(lseek(in, 0, SEEK_CUR), 0, "file position untouched");
	is_long(sys_splice(p[0], NULL, out, &oo, 100, SPLICE_F_MOVE), 30, "splice pipe->file with off_out");
	is_long(oo, 34, "off_out advanced");
	is_long(lseek(out, 0, SEEK_CUR), 0, "out position untouched");
	ok(pread(out, buf, 30, 4) == 30 && !memcmp(buf, pat + 20, 30), "file data");
	is_long(sys_splice(in, NULL, p[1], NULL, 10, 0), 10, "splice file->pipe, position");
	is_long(lseek(in, 0, SEEK_CUR), 10, "position advanced");
	is_long(sys_splice(p[0], NULL, out, NULL, 10, 0), 10, "splice pipe->file, position");
	is_long(lseek(out, 0, SEEK_CUR), 10, "out position advanced");
	is_long(sys_splice(in, NULL, p[1], NULL, SZ, 0), 65536 - 10, "file->pipe stops when the pipe is full");
	is_errno(sys_splice(in, NULL, p[1], NULL, 10, SPLICE_F_NONBLOCK), EAGAIN,
		 "full pipe with SPLICE_F_NONBLOCK -> EAGAIN");
	/* pipe -> pipe moves; tee copies without consuming. */
	is_long(sys_splice(p[0], NULL, q[1], NULL, 100, 0), 100, "splice pipe->pipe");
	ok(same(q[0], pat + 10, 100), "pipe->pipe data");
	is_long(syscall(SYS_tee, p[0], q[1], 200, 0), 200, "tee");
	ok(same(q[0], pat + 110, 200), "tee data in the second pipe");
	ok(same(p[0], pat + 110, 65536 - 10 - 100), "first pipe still holds everything");
	is_errno(syscall(SYS_tee, p[0], q[1], 10, SPLICE_F_NONBLOCK), EAGAIN, "tee empty NONBLOCK -> EAGAIN");
	is_long(syscall(SYS_tee, p[0], q[1], 0, 0), 0, "tee len 0 -> 0");
	is_errno(syscall(SYS_tee, p[0], p[1], 10, 0), EINVAL, "tee to the same pipe -> EINVAL");
	is_errno(syscall(SYS_tee, in, q[1], 10, 0), EINVAL, "tee from a file -> EINVAL");
	is_errno(syscall(SYS_tee, p[0], q[1], 10, 0x10), EINVAL, "tee bad flags -> EINVAL");
	is_errno(syscall(SYS_tee, q[1], p[1], 10, 0), EBADF, "tee from a write end -> EBADF");

	/* Errors. */
	is_long(sys_splice(in, NULL, p[1], NULL, 0, 0), 0, "len 0 -> 0");
	is_errno(sys_splice(in, NULL, p[1], NULL, 10, 0x10), EINVAL, "bad flags -> EINVAL");
	is_errno(sys_splice(999, NULL, p[1], NULL, 10, 0), EBADF, "bad fd -> EBADF");
	off = 0;
	is_errno(sys_splice(p[0], &off, out, NULL, 10, 0), ESPIPE, "offset on the pipe side -> ESPIPE");
	is_errno(sys_splice(in, NULL, p[1], &off, 10, 0), ESPIPE, "off_out on a pipe -> ESPIPE");
	is_errno(sys_splice(in, NULL, out, NULL, 10, 0), EINVAL, "no pipe -> EINVAL");
	is_errno(sys_splice(p[0], NULL, p[1], NULL, 10, 0), EINVAL, "pipe to itself -> EINVAL");
	is_errno(sys_splice(p[1], NULL, out, NULL, 10, 0), EBADF, "from a write end -> EBADF");
	is_errno(sys_splice(p[0], NULL, out, NULL, 10, SPLICE_F_NONBLOCK), EAGAIN,
		 "empty pipe NONBLOCK -> EAGAIN");
	char ap[PATH_MAX];
	int app = open(spath(ap, sizeof(ap), "sp_out"), O_WRONLY | O_APPEND);
	write(p[1], "x", 1);
	is_errno(sys_splice(p[0], NULL, app, NULL, 10, 0), EINVAL, "O_APPEND output -> EINVAL");
	close(app);
	is_errno(sys_splice(in, (int64_t *)BAD_PTR, p[1], NULL, 10, 0), EFAULT, "bad off_in -> EFAULT");
	close(p[1]);
	is_long(sys_splice(p[0], NULL, out, NULL, 10, 0), 1, "drains what is left");
	is_long(sys_splice(p[0], NULL, out, NULL, 10, 0), 0, "no writers and empty -> 0");
	close(p[0]);
	/* A blocking splice waits for the writer. */
	pipe(p);
	pid_t pid = fork();
	if (pid == 0) {
		usleep(100000);
		write(p[1], "late", 4);
		_exit(0);
	}
	close(p[1]);
	oo = 0;
	is_long(sys_splice(p[0], NULL, out, &oo, 100, 0), 4, "splice waits for data");
	ok(pread(out, buf, 4, 0) == 4 && !memcmp(buf, "late", 4), "late data");
	waitpid(pid, NULL, 0);
	close(p[0]);
	pipe(p);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	is_errno(sys_splice(in, NULL, p[1], NULL, 10, 0), EPIPE, "no readers -> EPIPE");
	close(p[1]);
	close(q[0]);
	close(q[1]);
	close(out);
	close(in);
}

static void test_vmsplice(void)
{
	int p[2];
	char a[] = "hello ", b[] = "world", got[16] = { 0 };
	struct iovec iov[2] = { { a, 6 }, { b, 5 } };

	pipe(p);
	is_long(syscall(SYS_vmsplice, p[1], iov, 2, 0), 11, "vmsplice user->pipe");
	struct iovec r[2] = { { got, 3 }, { got + 3, 8 } };
	is_long(syscall(SYS_vmsplice, p[0], r, 2, 0), 11, "vmsplice pipe->user");
	ok(!memcmp(got, "hello world", 11), "data round trip");
	is_errno(syscall(SYS_vmsplice, p[0], r, 2, SPLICE_F_NONBLOCK), EAGAIN, "empty NONBLOCK -> EAGAIN");
	is_errno(syscall(SYS_vmsplice, p[1], iov, 2, 0x10), EINVAL, "bad flags -> EINVAL");
	is_errno(syscall(SYS_vmsplice, 999, iov, 2, 0), EBADF, "bad fd -> EBADF");
	int f = open(src, O_RDONLY);
	is_errno(syscall(SYS_vmsplice, f, r, 2, 0), EBADF, "not a pipe -> EBADF");
	close(f);
	is_long(syscall(SYS_vmsplice, p[1], iov, 0, 0), 0, "no segments -> 0");
	is_errno(syscall(SYS_vmsplice, p[1], BAD_PTR, 1, 0), EFAULT, "bad iovec -> EFAULT");
	struct iovec big = { pat, SZ };
	is_long(syscall(SYS_vmsplice, p[1], &big, 1, 0), 65536, "vmsplice fills the pipe only");
	is_errno(syscall(SYS_vmsplice, p[1], &big, 1, SPLICE_F_NONBLOCK), EAGAIN, "full NONBLOCK -> EAGAIN");
	ok(same(p[0], pat, 65536), "pipe data");
	close(p[0]);
	close(p[1]);
}

/* From a file of the root (under cvisor: read through the gofer). */
static void test_root_file(void)
{
	static char a[12000], b[12000];
	int exe = open("/proc/self/exe", O_RDONLY);
	int out = fresh("exe_copy", O_RDWR);
	int64_t off = 100;

	is_long(sys_sendfile(out, exe, &off, sizeof(a)), sizeof(a), "sendfile from a root file");
	ok(pread(exe, a, sizeof(a), 100) == sizeof(a) && pread(out, b, sizeof(b), 0) == sizeof(b) &&
	   !memcmp(a, b, sizeof(a)), "same bytes as read()");
	int p[2];
	pipe(p);
	off = 0;
	is_long(sys_splice(exe, &off, p[1], NULL, 4096, 0), 4096, "splice a root file into a pipe");
	ok(read(p[0], b, 4096) == 4096 && pread(exe, a, 4096, 0) == 4096 && !memcmp(a, b, 4096),
	   "pipe holds the file's bytes");
	close(p[0]);
	close(p[1]);
	close(out);
	close(exe);
}

int main(void)
{
	scratch_init("splice");
	for (int i = 0; i < SZ; i++)
		pat[i] = (char)(i * 7 + i / 251);
	int fd = open(spath(src, sizeof(src), "src"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, pat, SZ) != SZ)
		bail_out("cannot write the source file");
	close(fd);
	test_sendfile();
	test_copy_file_range();
	test_splice();
	test_vmsplice();
	test_root_file();
	scratch_cleanup();
	return done_testing();
}

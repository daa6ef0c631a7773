/* open/openat/close/close_range: flags, path errors, errno order. open(2), openat(2),
 * close_range(2), fs/namei.c, fs/open.c. */
#include "tap.h"

/* tests/run.sh sets CVISOR_EXPECT_OVERLAY=1 for sandbox runs: the default
 * root is a writable overlay (runsc --overlay2=root:memory). */
static int expect_overlay_root(void)
{
	const char *e = getenv("CVISOR_EXPECT_OVERLAY");
	return e && e[0] == '1';
}

#include <linux/close_range.h>
#include <sys/stat.h>

static long sys_openat(int dfd, const char *p, int fl, int mode)
{
	return syscall(SYS_openat, dfd, p, fl, mode);
}
static long sys_open(const char *p, int fl, int mode) { return syscall(SYS_open, p, fl, mode); }
static long sys_close(int fd) { return syscall(SYS_close, fd); }

static int fd_valid(int fd) { return syscall(SYS_fcntl, fd, F_GETFD) != -1; }

static off_t fsize(int fd)
{
	struct stat st;
	return syscall(SYS_fstat, fd, &st) == 0 ? st.st_size : -1;
}

static void test_create_flags(void)
{
	char f[PATH_MAX], buf[32];
	spath(f, sizeof(f), "file");

	is_errno(sys_open(f, O_RDONLY, 0), ENOENT, "open missing file -> ENOENT");
	long fd = sys_open(f, O_RDWR | O_CREAT | O_EXCL, 0640);
	ok_sys(fd, "O_CREAT|O_EXCL creates");
	ok(fd >= 3, "new fd is >= 3 (lowest free)");
	struct stat st;
	ok(syscall(SYS_fstat, fd, &st) == 0 && S_ISREG(st.st_mode), "created a regular file");
	/* mode is filtered by umask; set a known umask first would need umask(2) —
	 * compare with the process umask instead. */
	mode_t um = (mode_t)syscall(SYS_umask, 022);
	syscall(SYS_umask, um);
	is_long(st.st_mode & 07777, 0640 & ~um, "mode is 0640 & ~umask");
	is_long(syscall(SYS_write, fd, "0123456789", 10), 10, "write 10 bytes");
	sys_close(fd);

	is_errno(sys_open(f, O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST, "O_CREAT|O_EXCL existing -> EEXIST");
	fd = sys_open(f, O_RDWR | O_CREAT, 0600);
	ok_sys(fd, "O_CREAT without O_EXCL opens existing");
	is_long(fsize((int)fd), 10, "existing file kept its data");
	sys_close(fd);

	fd = sys_open(f, O_WRONLY | O_APPEND, 0);
	ok_sys(fd, "open O_APPEND");
	syscall(SYS_lseek, fd, 0, SEEK_SET);
	is_long(syscall(SYS_write, fd, "ab", 2), 2, "append write");
	is_long(syscall(SYS_lseek, fd, 0, SEEK_CUR), 12, "O_APPEND writes at end despite lseek 0");
	sys_close(fd);
	fd = sys_open(f, O_RDONLY, 0);
	memset(buf, 0, sizeof(buf));
	is_long(syscall(SYS_read, fd, buf, sizeof(buf)), 12, "read appended file");
	ok(memcmp(buf, "0123456789ab", 12) == 0, "appended data at the end");
	sys_close(fd);

	fd = sys_open(f, O_RDWR | O_TRUNC, 0);
	ok_sys(fd, "open O_TRUNC");
	is_long(fsize((int)fd), 0, "O_TRUNC truncated to 0");
	sys_close(fd);

	is_errno(sys_open(f, O_RDONLY | O_DIRECTORY, 0), ENOTDIR, "O_DIRECTORY on a file -> ENOTDIR");
	char sub[PATH_MAX];
	snprintf(sub, sizeof(sub), "%s/x", f);
	is_errno(sys_open(sub, O_RDONLY, 0), ENOTDIR, "file used as directory -> ENOTDIR");
	is_errno(sys_open(sub, O_RDWR | O_CREAT, 0600), ENOTDIR, "O_CREAT under a file -> ENOTDIR");
	snprintf(sub, sizeof(sub), "%s/", f);
	is_errno(sys_open(sub, O_RDONLY, 0), ENOTDIR, "trailing slash on a file -> ENOTDIR");

	/* O_CREAT in a missing directory. */
	snprintf(sub, sizeof(sub), "%s/nodir-%ld/x", scratch_dir, (long)getpid());
	is_errno(sys_open(sub, O_RDWR | O_CREAT, 0600), ENOENT, "O_CREAT in missing dir -> ENOENT");
}

static void test_dirs(void)
{
	long fd = sys_open("/tmp", O_RDONLY | O_DIRECTORY, 0);
	ok_sys(fd, "O_DIRECTORY on /tmp");
	sys_close(fd);
	is_errno(sys_open("/tmp", O_WRONLY, 0), EISDIR, "open directory O_WRONLY -> EISDIR");
	is_errno(sys_open("/tmp", O_RDWR, 0), EISDIR, "open directory O_RDWR -> EISDIR");
	is_errno(sys_open("/tmp", O_RDWR | O_CREAT, 0600), EISDIR, "O_CREAT on a directory -> EISDIR");
	is_errno(sys_open("/tmp/", O_RDWR | O_CREAT, 0600), EISDIR, "O_CREAT on dir with slash -> EISDIR");
	fd = sys_open("/tmp/", O_RDONLY, 0);
	ok_sys(fd, "trailing slash on a directory is fine");
	sys_close(fd);
	fd = sys_open("/", O_RDONLY | O_DIRECTORY, 0);
	ok_sys(fd, "open /");
	sys_close(fd);
	fd = sys_open("/tmp/../tmp/./", O_RDONLY | O_DIRECTORY, 0);
	ok_sys(fd, "open with .. and . components");
	sys_close(fd);
	fd = sys_open("/..", O_RDONLY | O_DIRECTORY, 0);
	struct stat a, b;
	ok(fd >= 0 && syscall(SYS_fstat, fd, &a) == 0 && stat("/", &b) == 0 &&
	   a.st_ino == b.st_ino && a.st_dev == b.st_dev, "/.. is /");
	sys_close(fd);
	is_errno(sys_open("", O_RDONLY, 0), ENOENT, "empty path -> ENOENT");
	is_errno(sys_open("/nonexistent-cvisor-dir/x", O_RDONLY, 0), ENOENT, "missing dir -> ENOENT");
	is_errno(sys_open(BAD_PTR, O_RDONLY, 0), EFAULT, "path (void*)1 -> EFAULT");
	is_errno(sys_open(KERNEL_PTR, O_RDONLY, 0), EFAULT, "path kernel address -> EFAULT");
}

static void test_openat(void)
{
	char f[PATH_MAX];
	long dfd = sys_open(scratch_dir, O_RDONLY | O_DIRECTORY, 0);
	ok_sys(dfd, "open scratch dir");
	char leaf[128];
	snprintf(leaf, sizeof(leaf), "%sat", scratch_pfx);
	long fd = sys_openat((int)dfd, leaf, O_RDWR | O_CREAT | O_EXCL, 0600);
	ok_sys(fd, "openat(dirfd, relative, O_CREAT)");
	sys_close(fd);
	struct stat st;
	ok(stat(spath(f, sizeof(f), "at"), &st) == 0, "file created relative to dirfd");
	fd = sys_openat(-1, f, O_RDONLY, 0);
	ok_sys(fd, "openat ignores a bad dirfd for absolute paths");
	sys_close(fd);
	is_errno(sys_openat(-1, leaf, O_RDONLY, 0), EBADF, "openat bad dirfd, relative -> EBADF");
	is_errno(sys_openat(12345, leaf, O_RDONLY, 0), EBADF, "openat closed dirfd -> EBADF");
	long ffd = sys_open(f, O_RDONLY, 0);
	is_errno(sys_openat((int)ffd, "x", O_RDONLY, 0), ENOTDIR, "openat with file dirfd -> ENOTDIR");
	sys_close(ffd);
	/* AT_FDCWD + relative path, after chdir. */
	char cwd[PATH_MAX];
	if (syscall(SYS_getcwd, cwd, sizeof(cwd)) > 0 && syscall(SYS_chdir, scratch_dir) == 0) {
		fd = sys_openat(AT_FDCWD, leaf, O_RDONLY, 0);
		ok_sys(fd, "openat(AT_FDCWD, relative) after chdir");
		sys_close(fd);
		syscall(SYS_chdir, cwd);
	} else {
		skip("chdir failed", "openat AT_FDCWD relative");
	}
	is_errno(sys_openat((int)dfd, "", O_RDONLY, 0), ENOENT, "openat empty path -> ENOENT");
	sys_close(dfd);

	/* O_CLOEXEC sets FD_CLOEXEC; plain open does not. */
	fd = sys_open(f, O_RDONLY | O_CLOEXEC, 0);
	is_long(syscall(SYS_fcntl, fd, F_GETFD), FD_CLOEXEC, "O_CLOEXEC sets FD_CLOEXEC");
	sys_close(fd);
	fd = sys_open(f, O_RDONLY, 0);
	is_long(syscall(SYS_fcntl, fd, F_GETFD), 0, "no O_CLOEXEC, no FD_CLOEXEC");
	is_long(syscall(SYS_fcntl, fd, F_GETFL) & (O_ACCMODE | O_APPEND), O_RDONLY, "F_GETFL O_RDONLY");
	sys_close(fd);
	fd = sys_open(f, O_WRONLY | O_APPEND, 0);
	is_long(syscall(SYS_fcntl, fd, F_GETFL) & (O_ACCMODE | O_APPEND), O_WRONLY | O_APPEND,
		"F_GETFL O_WRONLY|O_APPEND");
	sys_close(fd);
	/* O_PATH: usable as dirfd / for fstat, not for read. */
	fd = sys_open(f, O_PATH, 0);
	if (fd >= 0) {
		char c;
		is_errno(syscall(SYS_read, fd, &c, 1), EBADF, "read on O_PATH fd -> EBADF");
		ok(syscall(SYS_fstat, fd, &st) == 0, "fstat on O_PATH fd");
		sys_close(fd);
	} else {
		ok_sys(fd, "open O_PATH");
	}
}

static void test_symlinks(void)
{
	/* Host symlink that exists everywhere on merged-/usr Debian: /bin -> usr/bin. */
	struct stat st;
	if (lstat("/bin", &st) == 0 && S_ISLNK(st.st_mode)) {
		is_errno(sys_open("/bin", O_RDONLY | O_NOFOLLOW, 0), ELOOP, "O_NOFOLLOW on symlink -> ELOOP");
		long fd = sys_open("/bin", O_RDONLY | O_DIRECTORY, 0);
		ok_sys(fd, "following /bin symlink");
		sys_close(fd);
		fd = sys_open("/bin/", O_RDONLY | O_NOFOLLOW, 0);
		ok_sys(fd, "O_NOFOLLOW only applies to the last component (/bin/ resolves)");
		sys_close(fd);
		fd = sys_open("/bin", O_PATH | O_NOFOLLOW, 0);
		ok_sys(fd, "O_PATH|O_NOFOLLOW opens the link itself");
		if (fd >= 0) {
			ok(syscall(SYS_fstat, fd, &st) == 0 && S_ISLNK(st.st_mode), "fstat says symlink");
			sys_close(fd);
		}
	} else {
		skip("/bin is not a symlink on this host", "host symlink checks");
	}

	char a[PATH_MAX], b[PATH_MAX], t[PATH_MAX];
	spath(a, sizeof(a), "loopA");
	spath(b, sizeof(b), "loopB");
	if (symlink(b, a) != 0 || symlink(a, b) != 0) {
		skip("symlink(2) not available", "symlink loop -> ELOOP");
		skip("symlink(2) not available", "own symlink follow / O_NOFOLLOW");
		return;
	}
	is_errno(sys_open(a, O_RDONLY, 0), ELOOP, "symlink loop -> ELOOP");
	is_errno(sys_open(a, O_RDWR | O_CREAT, 0600), ELOOP, "O_CREAT through loop -> ELOOP");
	spath(t, sizeof(t), "target");
	write_file(t, "T", 1);
	spath(a, sizeof(a), "link");
	symlink(t, a);
	long fd = sys_open(a, O_RDONLY, 0);
	char c = 0;
	ok(fd >= 0 && syscall(SYS_read, fd, &c, 1) == 1 && c == 'T', "open follows symlink");
	sys_close(fd);
	is_errno(sys_open(a, O_RDONLY | O_NOFOLLOW, 0), ELOOP, "O_NOFOLLOW own symlink -> ELOOP");
	/* A dangling symlink with O_CREAT creates the target. */
	spath(b, sizeof(b), "dangling");
	spath(t, sizeof(t), "created-through-link");
	symlink(t, b);
	fd = sys_open(b, O_RDWR | O_CREAT, 0600);
	ok(fd >= 0 && stat(t, &st) == 0, "O_CREAT through dangling symlink creates target");
	sys_close(fd);
	is_errno(sys_open(b, O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST,
		 "O_CREAT|O_EXCL on a symlink -> EEXIST");
}

static void test_names(void)
{
	char p[PATH_MAX + 64];
	memset(p, 'a', sizeof(p));
	p[0] = '/';
	p[sizeof(p) - 1] = '\0';
	is_errno(sys_open(p, O_RDONLY, 0), ENAMETOOLONG, "path >= PATH_MAX -> ENAMETOOLONG");
	char c[300];
	int n = snprintf(c, sizeof(c), "/tmp/");
	memset(c + n, 'b', sizeof(c) - n - 1);
	c[sizeof(c) - 1] = '\0';
	is_errno(sys_open(c, O_RDONLY, 0), ENAMETOOLONG, "component > NAME_MAX -> ENAMETOOLONG");
	is_errno(sys_open(c, O_RDWR | O_CREAT, 0600), ENAMETOOLONG,
		 "O_CREAT component > NAME_MAX -> ENAMETOOLONG");
	/* Exactly NAME_MAX is fine (ENOENT, not ENAMETOOLONG). */
	c[5 + NAME_MAX] = '\0';
	is_errno(sys_open(c, O_RDONLY, 0), ENOENT, "component == NAME_MAX -> ENOENT");
	is_errno(sys_open("/tmp", O_RDONLY | O_TMPFILE | O_CREAT | O_EXCL | 0x40000000, 0),
		 EINVAL, "garbage + O_TMPFILE without write access -> EINVAL");
}

/* The default sandbox root is an overlay (runsc --overlay2=root:memory):
 * writes anywhere succeed and stay inside the sandbox. */
static void test_overlay_root(void)
{
	char p[128], buf[16] = { 0 };
	snprintf(p, sizeof(p), "/cvisor-open-test-%ld", (long)getpid());
	long fd = sys_open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ok_sys(fd, "overlay root: O_CREAT under /");
	ok(fd >= 0 && write((int)fd, "ovl", 3) == 3, "overlay root: write the new file");
	sys_close(fd);
	fd = sys_open(p, O_RDONLY, 0);
	ok(fd >= 0 && read((int)fd, buf, sizeof(buf)) == 3 && !strcmp(buf, "ovl"),
	   "overlay root: read it back");
	sys_close(fd);
	ok_sys(unlink(p), "overlay root: unlink it");
	fd = sys_open("/etc/hostname", O_WRONLY | O_APPEND, 0);
	ok_sys(fd, "overlay root: O_WRONLY on a host file (copy-up)");
	sys_close(fd);
	is_long(syscall(SYS_access, "/etc/passwd", W_OK), 0, "overlay root: W_OK on /etc/passwd");
}

static void test_readonly_root(void)
{
	int ro = root_is_readonly();
	if (expect_overlay_root()) {
		test_overlay_root();
		return;
	}
	if (!ro && !expect_ro_root()) {
		skip("host / is writable (native run)", "EROFS creating a file under /");
		skip("host / is writable (native run)", "EROFS opening an existing host file O_WRONLY");
		skip("host / is writable (native run)", "O_RDONLY of host files still works");
		return;
	}
	ok(ro, "root filesystem is read-only in the sandbox");
	char p[128];
	snprintf(p, sizeof(p), "/cvisor-open-test-%ld", (long)getpid());
	is_errno(sys_open(p, O_WRONLY | O_CREAT, 0600), EROFS, "O_CREAT under / -> EROFS");
	is_errno(sys_open("/etc/hostname", O_WRONLY, 0), EROFS, "O_WRONLY on host file -> EROFS");
	is_errno(sys_open("/etc/hostname", O_RDONLY | O_TRUNC, 0), EROFS, "O_TRUNC on host file -> EROFS");
	long fd = sys_open("/etc/hostname", O_RDONLY, 0);
	ok_sys(fd, "O_RDONLY of host files still works");
	sys_close(fd);
	/* O_CREAT of an existing file on a read-only fs without write access is fine. */
	fd = sys_open("/etc/hostname", O_RDONLY | O_CREAT, 0600);
	ok_sys(fd, "O_RDONLY|O_CREAT of an existing host file works");
	sys_close(fd);
}

static void test_close(void)
{
	is_errno(sys_close(-1), EBADF, "close(-1) -> EBADF");
	is_errno(sys_close(99999), EBADF, "close(unused) -> EBADF");
	long fd = sys_open("/dev/null", O_RDONLY, 0);
	is_long(sys_close(fd), 0, "close ok");
	is_errno(sys_close(fd), EBADF, "double close -> EBADF");

	/* Lowest-numbered free fd is reused. */
	long a = sys_open("/dev/null", O_RDONLY, 0), b = sys_open("/dev/null", O_RDONLY, 0);
	sys_close(a);
	long c = sys_open("/dev/null", O_RDONLY, 0);
	is_long(c, a, "lowest free fd is reused");
	sys_close(b);
	sys_close(c);

	/* close_range. Use fds 100..109 via dup2 so the range is known. */
	long base = sys_open("/dev/null", O_RDONLY, 0);
	for (int i = 100; i < 110; i++)
		syscall(SYS_dup2, base, i);
	is_long(syscall(SYS_close_range, 102, 104, 0), 0, "close_range 102..104");
	ok(fd_valid(101) && !fd_valid(102) && !fd_valid(104) && fd_valid(105), "exactly 102..104 closed");
	is_long(syscall(SYS_close_range, 105, 106, CLOSE_RANGE_CLOEXEC), 0, "close_range CLOEXEC");
	ok(syscall(SYS_fcntl, 105, F_GETFD) == FD_CLOEXEC && syscall(SYS_fcntl, 107, F_GETFD) == 0,
	   "CLOSE_RANGE_CLOEXEC marks only the range");
	is_errno(syscall(SYS_close_range, 5, 4, 0), EINVAL, "close_range first > last -> EINVAL");
	is_errno(syscall(SYS_close_range, 100, 110, 0x80), EINVAL, "close_range bad flags -> EINVAL");
	is_long(syscall(SYS_close_range, 100, ~0U, 0), 0, "close_range 100..~0U");
	ok(!fd_valid(100) && !fd_valid(109) && fd_valid((int)base), "all fds >= 100 closed");
	is_long(syscall(SYS_close_range, 5000, 6000, 0), 0, "close_range on empty range is 0");
	sys_close(base);
}

int main(void)
{
	scratch_init("open");
	test_create_flags();
	test_dirs();
	test_openat();
	test_symlinks();
	test_names();
	test_readonly_root();
	test_close();
	scratch_cleanup();
	return done_testing();
}

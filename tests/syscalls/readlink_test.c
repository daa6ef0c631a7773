/* readlink/readlinkat. readlink(2), fs/stat.c do_readlinkat(). */
#include "tap.h"

#include <sys/stat.h>

static long sys_readlink(const char *p, char *b, long n) { return syscall(SYS_readlink, p, b, n); }
static long sys_readlinkat(int d, const char *p, char *b, long n)
{
	return syscall(SYS_readlinkat, d, p, b, n);
}

static void check_link(const char *path, const char *want)
{
	char buf[PATH_MAX];
	size_t wl = strlen(want);
	memset(buf, 'Z', sizeof(buf));
	is_long(sys_readlink(path, buf, sizeof(buf)), (long)wl, "readlink %s length", path);
	ok(memcmp(buf, want, wl) == 0, "readlink %s -> %s", path, want);
	ok(buf[wl] == 'Z', "readlink does not NUL-terminate");
	memset(buf, 'Z', sizeof(buf));
	is_long(sys_readlink(path, buf, 3), 3, "readlink %s into 3-byte buffer truncates", path);
	ok(memcmp(buf, want, 3) == 0 && buf[3] == 'Z', "truncated contents, nothing past bufsiz");
	memset(buf, 0, sizeof(buf));
	is_long(sys_readlinkat(AT_FDCWD, path, buf, sizeof(buf)), (long)wl, "readlinkat AT_FDCWD %s", path);
	ok(!strcmp(buf, want), "readlinkat contents");
}

static void test_host_links(void)
{
	struct stat st;
	if (lstat("/bin", &st) != 0 || !S_ISLNK(st.st_mode)) {
		skip("/bin is not a symlink", "host symlink /bin");
		return;
	}
	check_link("/bin", "usr/bin");

	char buf[64];
	/* Relative to a dirfd, and the link itself through O_PATH + "" (Linux >= 2.6.39). */
	long dfd = syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY | O_DIRECTORY);
	memset(buf, 0, sizeof(buf));
	is_long(sys_readlinkat((int)dfd, "bin", buf, sizeof(buf)), 7, "readlinkat(dirfd \"/\", \"bin\")");
	ok(!strcmp(buf, "usr/bin"), "readlinkat relative contents");
	is_errno(sys_readlinkat(-1, "bin", buf, sizeof(buf)), EBADF, "readlinkat bad dirfd -> EBADF");
	syscall(SYS_close, dfd);
	long lfd = syscall(SYS_openat, AT_FDCWD, "/bin", O_PATH | O_NOFOLLOW);
	if (lfd >= 0) {
		memset(buf, 0, sizeof(buf));
		is_long(sys_readlinkat((int)lfd, "", buf, sizeof(buf)), 7, "readlinkat(O_PATH link fd, \"\")");
		ok(!strcmp(buf, "usr/bin"), "empty path reads the fd's link");
		syscall(SYS_close, lfd);
	} else {
		skip("O_PATH|O_NOFOLLOW open failed", "readlinkat on O_PATH fd");
	}

	/* Errno order: bufsiz first, then the path, then the buffer. */
	is_errno(sys_readlink("/bin", buf, 0), EINVAL, "bufsiz 0 -> EINVAL");
	is_errno(sys_readlink("/bin", buf, -1), EINVAL, "bufsiz -1 -> EINVAL");
	is_errno(sys_readlink("/nonexistent-cvisor", buf, 0), EINVAL, "bufsiz 0 beats ENOENT");
	is_errno(sys_readlink("/bin", BAD_PTR, 16), EFAULT, "buffer (void*)1 -> EFAULT");
	is_errno(sys_readlink("/bin", KERNEL_PTR, 16), EFAULT, "buffer kernel address -> EFAULT");
	is_errno(sys_readlink("/etc", BAD_PTR, 16), EINVAL, "not a link beats a bad buffer -> EINVAL");
	is_errno(sys_readlink(BAD_PTR, buf, 16), EFAULT, "path (void*)1 -> EFAULT");
	is_errno(sys_readlink("/bin/", buf, sizeof(buf)), EINVAL, "trailing slash follows: a dir -> EINVAL");
}

static void test_errors(void)
{
	char buf[64];
	is_errno(sys_readlink("/etc/passwd", buf, sizeof(buf)), EINVAL, "regular file -> EINVAL");
	is_errno(sys_readlink("/etc", buf, sizeof(buf)), EINVAL, "directory -> EINVAL");
	is_errno(sys_readlink("/dev/null", buf, sizeof(buf)), EINVAL, "device -> EINVAL");
	is_errno(sys_readlink("/nonexistent-cvisor", buf, sizeof(buf)), ENOENT, "missing -> ENOENT");
	is_errno(sys_readlink("/etc/passwd/x", buf, sizeof(buf)), ENOTDIR, "file/x -> ENOTDIR");
	is_errno(sys_readlink("", buf, sizeof(buf)), ENOENT, "empty path -> ENOENT");
	is_errno(sys_readlinkat(AT_FDCWD, "", buf, sizeof(buf)), ENOENT,
		 "readlinkat(AT_FDCWD, \"\") -> ENOENT (cwd is not a link)");
}

static void test_own_links(void)
{
	char l[PATH_MAX], l2[PATH_MAX];
	spath(l, sizeof(l), "ln");
	if (symlink("some/relative/../target", l) != 0) {
		skip("symlink(2) not available", "own symlinks in /tmp");
		return;
	}
	check_link(l, "some/relative/../target");
	spath(l2, sizeof(l2), "ln2");
	symlink(l, l2);
	char buf[PATH_MAX];
	memset(buf, 0, sizeof(buf));
	is_long(sys_readlink(l2, buf, sizeof(buf)), (long)strlen(l), "readlink reads one level only");
	ok(!strcmp(buf, l), "link to link returns the first target");
	/* A 4095-byte target round trips. */
	char *big = malloc(PATH_MAX);
	memset(big, 'q', PATH_MAX - 1);
	big[PATH_MAX - 1] = '\0';
	spath(l2, sizeof(l2), "big");
	if (symlink(big, l2) == 0) {
		char *rb = malloc(PATH_MAX + 16);
		is_long(sys_readlink(l2, rb, PATH_MAX + 16), PATH_MAX - 1, "4095-byte link target");
		ok(memcmp(rb, big, PATH_MAX - 1) == 0, "long target contents");
		free(rb);
	} else {
		skip("long symlink not supported here", "4095-byte link target");
	}
	free(big);
}

int main(void)
{
	scratch_init("readlink");
	test_host_links();
	test_errors();
	test_own_links();
	scratch_cleanup();
	return done_testing();
}

/* access/faccessat/faccessat2. access(2), fs/open.c do_faccessat(). */
#include "tap.h"

/* tests/run.sh sets CVISOR_EXPECT_OVERLAY=1 for sandbox runs: the default
 * root is a writable overlay (runsc --overlay2=root:memory). */
static int expect_overlay_root(void)
{
	const char *e = getenv("CVISOR_EXPECT_OVERLAY");
	return e && e[0] == '1';
}

#include <sys/stat.h>

static long sys_faccessat2(int d, const char *p, int m, int f)
{
	return syscall(SYS_faccessat2, d, p, m, f);
}

int main(void)
{
	scratch_init("access");
	char f[PATH_MAX], x[PATH_MAX];
	spath(f, sizeof(f), "plain");
	spath(x, sizeof(x), "exec");
	write_file(f, "x", 1);
	long fd = syscall(SYS_openat, AT_FDCWD, x, O_WRONLY | O_CREAT | O_EXCL, 0755);
	syscall(SYS_close, fd);
	int root = geteuid() == 0;

	is_long(syscall(SYS_access, f, F_OK), 0, "access F_OK existing");
	is_long(syscall(SYS_access, f, R_OK | W_OK), 0, "access R_OK|W_OK own file");
	if (root)
		is_errno(syscall(SYS_access, f, X_OK), EACCES,
			 "X_OK on 0644 file -> EACCES even for root");
	else
		is_errno(syscall(SYS_access, f, X_OK), EACCES, "X_OK on 0644 file -> EACCES");
	is_long(syscall(SYS_access, x, X_OK), 0, "X_OK on 0755 file");
	is_long(syscall(SYS_access, "/tmp", R_OK | W_OK | X_OK), 0, "rwx on /tmp");
	is_long(syscall(SYS_access, "/bin/sh", X_OK), 0, "X_OK on /bin/sh");
	is_long(syscall(SYS_access, "/etc/passwd", R_OK), 0, "R_OK on /etc/passwd");
	is_long(syscall(SYS_access, "/dev/null", R_OK | W_OK), 0, "R_OK|W_OK on /dev/null");
	is_errno(syscall(SYS_access, "/nonexistent-cvisor", F_OK), ENOENT, "missing -> ENOENT");
	is_errno(syscall(SYS_access, "/etc/passwd/x", F_OK), ENOTDIR, "file/x -> ENOTDIR");
	is_errno(syscall(SYS_access, "", F_OK), ENOENT, "empty path -> ENOENT");
	is_errno(syscall(SYS_access, BAD_PTR, F_OK), EFAULT, "path (void*)1 -> EFAULT");
	is_errno(syscall(SYS_access, KERNEL_PTR, F_OK), EFAULT, "path kernel address -> EFAULT");
	is_errno(syscall(SYS_access, f, 8), EINVAL, "mode 8 -> EINVAL");
	is_errno(syscall(SYS_access, "/nonexistent-cvisor", 0x10), EINVAL, "bad mode beats ENOENT");
	is_errno(syscall(SYS_access, BAD_PTR, 0x10), EINVAL, "bad mode beats EFAULT");

	long dfd = syscall(SYS_openat, AT_FDCWD, scratch_dir, O_RDONLY | O_DIRECTORY);
	char leaf[160];
	snprintf(leaf, sizeof(leaf), "%splain", scratch_pfx);
	is_long(syscall(SYS_faccessat, dfd, leaf, R_OK), 0, "faccessat(dirfd, relative)");
	is_errno(syscall(SYS_faccessat, -1, leaf, R_OK), EBADF, "faccessat bad dirfd -> EBADF");
	is_long(syscall(SYS_faccessat, -1, f, R_OK), 0, "faccessat bad dirfd, absolute path ok");
	is_errno(syscall(SYS_faccessat, dfd, leaf, 0xff), EINVAL, "faccessat bad mode -> EINVAL");
	long ffd = syscall(SYS_openat, AT_FDCWD, f, O_RDONLY);
	is_errno(syscall(SYS_faccessat, ffd, "x", F_OK), ENOTDIR, "faccessat file dirfd -> ENOTDIR");

	is_long(sys_faccessat2((int)dfd, leaf, R_OK, 0), 0, "faccessat2 flags 0");
	is_long(sys_faccessat2((int)dfd, leaf, R_OK, AT_EACCESS), 0, "faccessat2 AT_EACCESS");
	is_long(sys_faccessat2((int)ffd, "", R_OK, AT_EMPTY_PATH), 0, "faccessat2 AT_EMPTY_PATH on fd");
	is_errno(sys_faccessat2((int)ffd, "", R_OK, 0), ENOENT, "faccessat2 empty path w/o flag -> ENOENT");
	is_errno(sys_faccessat2((int)dfd, leaf, R_OK, 0x1), EINVAL, "faccessat2 bad flags -> EINVAL");
	is_errno(sys_faccessat2((int)dfd, leaf, R_OK, AT_NO_AUTOMOUNT), EINVAL,
		 "faccessat2 AT_NO_AUTOMOUNT (not accepted) -> EINVAL");
	is_errno(sys_faccessat2((int)dfd, leaf, 0x8, 0), EINVAL, "faccessat2 bad mode -> EINVAL");
	is_errno(sys_faccessat2(AT_FDCWD, "/nonexistent-cvisor", F_OK, AT_EACCESS), ENOENT,
		 "faccessat2 missing -> ENOENT");
	syscall(SYS_close, ffd);
	syscall(SYS_close, dfd);

	struct stat st;
	if (lstat("/bin", &st) == 0 && S_ISLNK(st.st_mode)) {
		is_long(sys_faccessat2(AT_FDCWD, "/bin", F_OK, AT_SYMLINK_NOFOLLOW), 0,
			"faccessat2 AT_SYMLINK_NOFOLLOW on a symlink");
		is_long(sys_faccessat2(AT_FDCWD, "/bin", X_OK, 0), 0, "faccessat2 follows /bin");
	} else {
		skip("/bin is not a symlink", "faccessat2 AT_SYMLINK_NOFOLLOW");
	}

	/* W_OK on a read-only filesystem: EROFS even for root (access(2)). */
	if (expect_overlay_root()) {
		/* The default overlay root is writable inside the sandbox. */
		is_long(syscall(SYS_access, "/etc/passwd", W_OK), 0, "W_OK on the overlay root");
		is_long(syscall(SYS_access, "/", W_OK), 0, "W_OK on / (overlay)");
		is_long(syscall(SYS_access, "/dev/null", W_OK), 0, "W_OK on /dev/null still ok");
		is_long(syscall(SYS_access, "/tmp", W_OK), 0, "W_OK on /tmp (tmpfs) ok");
	} else if (root_is_readonly() || expect_ro_root()) {
		is_errno(syscall(SYS_access, "/etc/passwd", W_OK), EROFS, "W_OK on read-only root -> EROFS");
		is_errno(syscall(SYS_access, "/", W_OK), EROFS, "W_OK on / -> EROFS");
		is_long(syscall(SYS_access, "/dev/null", W_OK), 0, "W_OK on /dev/null still ok");
		is_long(syscall(SYS_access, "/tmp", W_OK), 0, "W_OK on /tmp (tmpfs) ok");
	} else {
		skip("host / is writable (native run)", "W_OK on read-only root -> EROFS");
	}

	scratch_cleanup();
	return done_testing();
}

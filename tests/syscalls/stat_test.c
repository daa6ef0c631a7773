/* stat/lstat/fstat/newfstatat/statx. stat(2), statx(2), fs/stat.c. */
#include "tap.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

static long sys_statx(int dfd, const char *p, int fl, unsigned mask, struct statx *sx)
{
	return syscall(SYS_statx, dfd, p, fl, mask, sx);
}

static void test_basic(void)
{
	char f[PATH_MAX];
	spath(f, sizeof(f), "file");
	char data[1000];
	memset(data, 'x', sizeof(data));
	write_file(f, data, sizeof(data));

	struct stat st, st2;
	is_long(syscall(SYS_stat, f, &st), 0, "stat file");
	ok(S_ISREG(st.st_mode), "S_ISREG");
	is_long(st.st_size, 1000, "st_size");
	is_long(st.st_nlink, 1, "st_nlink 1");
	is_long(st.st_uid, (long)getuid(), "st_uid is our uid");
	ok(st.st_blksize > 0, "st_blksize > 0");
	ok(st.st_ino != 0, "st_ino non-zero");
	ok(st.st_mtim.tv_sec > 1600000000, "st_mtime is a recent date");

	long fd = syscall(SYS_openat, AT_FDCWD, f, O_RDONLY);
	is_long(syscall(SYS_fstat, fd, &st2), 0, "fstat");
	ok(st.st_ino == st2.st_ino && st.st_dev == st2.st_dev && st2.st_size == 1000,
	   "fstat matches stat");
	is_long(syscall(SYS_newfstatat, fd, "", &st2, AT_EMPTY_PATH), 0, "newfstatat AT_EMPTY_PATH");
	ok(st.st_ino == st2.st_ino, "AT_EMPTY_PATH stats the fd");
	is_errno(syscall(SYS_newfstatat, fd, "", &st2, 0), ENOENT, "empty path without AT_EMPTY_PATH -> ENOENT");
	is_errno(syscall(SYS_newfstatat, AT_FDCWD, f, &st2, 0x1), EINVAL, "newfstatat bad flags -> EINVAL");
	is_errno(syscall(SYS_fstat, fd, BAD_PTR), EFAULT, "fstat into (void*)1 -> EFAULT");
	is_errno(syscall(SYS_fstat, fd, KERNEL_PTR), EFAULT, "fstat into kernel address -> EFAULT");
	syscall(SYS_close, fd);
	is_errno(syscall(SYS_fstat, -1, &st2), EBADF, "fstat(-1) -> EBADF");
	is_errno(syscall(SYS_fstat, 99999, &st2), EBADF, "fstat(unused) -> EBADF");

	long dfd = syscall(SYS_openat, AT_FDCWD, scratch_dir, O_RDONLY | O_DIRECTORY);
	char leaf[160];
	snprintf(leaf, sizeof(leaf), "%sfile", scratch_pfx);
	is_long(syscall(SYS_newfstatat, dfd, leaf, &st2, 0), 0, "newfstatat(dirfd, relative)");
	ok(st2.st_ino == st.st_ino, "relative to dirfd finds the file");
	is_errno(syscall(SYS_newfstatat, -1, leaf, &st2, 0), EBADF, "newfstatat bad dirfd -> EBADF");
	syscall(SYS_close, dfd);

	is_errno(syscall(SYS_stat, "/nonexistent-cvisor", &st2), ENOENT, "stat missing -> ENOENT");
	char sub[PATH_MAX];
	snprintf(sub, sizeof(sub), "%s/x", f);
	is_errno(syscall(SYS_stat, sub, &st2), ENOTDIR, "stat file/x -> ENOTDIR");
	is_errno(syscall(SYS_stat, BAD_PTR, &st2), EFAULT, "stat path (void*)1 -> EFAULT");
	is_errno(syscall(SYS_stat, f, BAD_PTR), EFAULT, "stat buf (void*)1 -> EFAULT");
	is_errno(syscall(SYS_lstat, KERNEL_PTR, &st2), EFAULT, "lstat path kernel -> EFAULT");

	is_long(syscall(SYS_stat, "/tmp", &st2), 0, "stat /tmp");
	ok(S_ISDIR(st2.st_mode) && (st2.st_mode & S_ISVTX), "/tmp is a sticky directory");
	is_long(syscall(SYS_stat, "/", &st2), 0, "stat /");
	ok(S_ISDIR(st2.st_mode), "/ is a directory");
	is_long(syscall(SYS_stat, "/dev/null", &st2), 0, "stat /dev/null");
	ok(S_ISCHR(st2.st_mode) && major(st2.st_rdev) == 1 && minor(st2.st_rdev) == 3,
	   "/dev/null is char 1:3");
	is_long(syscall(SYS_stat, "/dev/zero", &st2), 0, "stat /dev/zero");
	ok(S_ISCHR(st2.st_mode) && major(st2.st_rdev) == 1 && minor(st2.st_rdev) == 5,
	   "/dev/zero is char 1:5");
	is_long(syscall(SYS_stat, "/etc/passwd", &st2), 0, "stat a host file");
	ok(S_ISREG(st2.st_mode) && st2.st_size > 0, "host file is regular and non-empty");
}

static void test_symlink(void)
{
	struct stat st, lst;
	if (lstat("/bin", &lst) != 0 || !S_ISLNK(lst.st_mode)) {
		skip("/bin is not a symlink", "lstat/AT_SYMLINK_NOFOLLOW");
		return;
	}
	is_long(syscall(SYS_lstat, "/bin", &lst), 0, "lstat /bin");
	ok(S_ISLNK(lst.st_mode), "lstat sees a symlink");
	is_long(lst.st_size, 7, "symlink st_size is strlen(\"usr/bin\")");
	is_long(syscall(SYS_stat, "/bin", &st), 0, "stat /bin");
	ok(S_ISDIR(st.st_mode), "stat follows to a directory");
	is_long(syscall(SYS_newfstatat, AT_FDCWD, "/bin", &st, AT_SYMLINK_NOFOLLOW), 0,
		"newfstatat AT_SYMLINK_NOFOLLOW");
	ok(S_ISLNK(st.st_mode), "AT_SYMLINK_NOFOLLOW sees the link");
	is_long(syscall(SYS_lstat, "/bin/", &st), 0, "lstat /bin/ (trailing slash)");
	ok(S_ISDIR(st.st_mode), "trailing slash follows the link");
	is_long(syscall(SYS_lstat, "/bin/sh", &st), 0, "lstat through a symlinked directory");
}

static void test_statx(void)
{
	char f[PATH_MAX];
	spath(f, sizeof(f), "file");
	struct stat st;
	syscall(SYS_stat, f, &st);
	struct statx sx;
	memset(&sx, 0xff, sizeof(sx));
	is_long(sys_statx(AT_FDCWD, f, 0, STATX_BASIC_STATS, &sx), 0, "statx BASIC_STATS");
	ok((sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS, "stx_mask has all basic stats");
	is_long((long)sx.stx_size, 1000, "stx_size");
	is_long((long)sx.stx_ino, (long)st.st_ino, "stx_ino matches stat");
	is_long(sx.stx_mode, st.st_mode, "stx_mode matches stat");
	is_long(sx.stx_nlink, 1, "stx_nlink");
	is_long(makedev(sx.stx_dev_major, sx.stx_dev_minor), (long)st.st_dev, "stx_dev matches st_dev");
	is_long(sx.stx_mtime.tv_sec, st.st_mtim.tv_sec, "stx_mtime matches");

	memset(&sx, 0, sizeof(sx));
	is_long(sys_statx(AT_FDCWD, f, 0, STATX_SIZE, &sx), 0, "statx STATX_SIZE only");
	ok(sx.stx_mask & STATX_SIZE, "mask includes STATX_SIZE");
	is_long((long)sx.stx_size, 1000, "stx_size with narrow mask");

	long fd = syscall(SYS_openat, AT_FDCWD, f, O_RDONLY);
	memset(&sx, 0, sizeof(sx));
	is_long(sys_statx((int)fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx), 0, "statx AT_EMPTY_PATH");
	is_long((long)sx.stx_ino, (long)st.st_ino, "statx AT_EMPTY_PATH stats the fd");
	syscall(SYS_close, fd);
	is_errno(sys_statx(AT_FDCWD, f, 0, STATX__RESERVED, &sx), EINVAL, "statx reserved mask bit -> EINVAL");
	is_errno(sys_statx(AT_FDCWD, f, 0x80000000, STATX_BASIC_STATS, &sx), EINVAL, "statx bad flags -> EINVAL");
	is_errno(sys_statx(AT_FDCWD, f, AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC, STATX_BASIC_STATS, &sx),
		 EINVAL, "statx FORCE_SYNC|DONT_SYNC -> EINVAL");
	is_errno(sys_statx(AT_FDCWD, "/nonexistent-cvisor", 0, STATX_BASIC_STATS, &sx), ENOENT, "statx missing -> ENOENT");
	is_errno(sys_statx(AT_FDCWD, f, 0, STATX_BASIC_STATS, BAD_PTR), EFAULT, "statx buf (void*)1 -> EFAULT");
	is_errno(sys_statx(AT_FDCWD, BAD_PTR, 0, STATX_BASIC_STATS, &sx), EFAULT, "statx path (void*)1 -> EFAULT");
	is_errno(sys_statx(-1, "x", 0, STATX_BASIC_STATS, &sx), EBADF, "statx bad dirfd -> EBADF");
	is_errno(sys_statx(AT_FDCWD, "", 0, STATX_BASIC_STATS, &sx), ENOENT, "statx empty path -> ENOENT");

	struct stat lst;
	if (lstat("/bin", &lst) == 0 && S_ISLNK(lst.st_mode)) {
		memset(&sx, 0, sizeof(sx));
		is_long(sys_statx(AT_FDCWD, "/bin", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx), 0,
			"statx AT_SYMLINK_NOFOLLOW");
		ok(S_ISLNK(sx.stx_mode), "statx sees the symlink");
		is_long(sys_statx(AT_FDCWD, "/bin", 0, STATX_BASIC_STATS, &sx), 0, "statx follows");
		ok(S_ISDIR(sx.stx_mode), "statx follows to the directory");
	} else {
		skip("/bin is not a symlink", "statx AT_SYMLINK_NOFOLLOW");
	}
}

int main(void)
{
	scratch_init("stat");
	test_basic();
	test_symlink();
	test_statx();
	scratch_cleanup();
	return done_testing();
}

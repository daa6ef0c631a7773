/*
 * fs_ops_test: mkdir/rmdir/unlink/symlink/mknod, fsync family, statfs and
 * locks on tmpfs, with Linux's errno order; overlay-root checks when
 * CVISOR_EXPECT_OVERLAY=1 (skipped natively).
 */
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include "tap.h"

static int expect_overlay(void)
{
	const char *e = getenv("CVISOR_EXPECT_OVERLAY");
	return e && e[0] == '1';
}

static int count_entries(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (!name || !strcmp(de->d_name, name))
			n++;
	closedir(d);
	return n;
}

static void overlay_checks(void)
{
	struct stat st, st2;
	char buf[64] = { 0 };
	int fd;

	if (!expect_overlay()) {
		for (int i = 0; i < 10; i++)
			skip("CVISOR_EXPECT_OVERLAY not set", "overlay check %d", i);
		return;
	}
	ok_sys(write_file("/etc/cvisor-ovl-new", "new\n", 4), "create a file under /etc");
	fd = open("/etc/cvisor-ovl-new", O_RDONLY);
	ok(fd >= 0 && read(fd, buf, sizeof(buf)) == 4 && !strcmp(buf, "new\n"),
	   "read it back");
	close(fd);
	ok(stat("/etc/passwd", &st) == 0, "stat lower /etc/passwd");
	fd = open("/etc/passwd", O_WRONLY | O_APPEND);
	ok(fd >= 0 && write(fd, "x\n", 2) == 2, "append to a lower file (copy-up)");
	close(fd);
	ok(stat("/etc/passwd", &st2) == 0 && st2.st_ino == st.st_ino &&
	   st2.st_dev == st.st_dev && st2.st_size == st.st_size + 2,
	   "st_ino/st_dev stable across copy-up, size grew");
	ok_sys(unlink("/etc/cvisor-ovl-new"), "unlink an upper file");
	ok(mkdir("/usr/cvisor-ovl-dir", 0755) == 0 &&
	   rename("/etc/hostname", "/usr/cvisor-ovl-dir/h") == 0 &&
	   access("/etc/hostname", F_OK) == -1 && errno == ENOENT,
	   "rename a lower file across directories (whiteout left)");
	ok(count_entries("/etc", "hostname") == 0 &&
	   count_entries("/usr/cvisor-ovl-dir", "h") == 1,
	   "readdir merges: whiteout hides, new name shows");
	ok(rmdir("/usr/bin") == -1 && errno == ENOTEMPTY,
	   "rmdir of a non-empty lower directory is ENOTEMPTY");
	ok(count_entries("/usr/bin", NULL) > 10, "lower directory lists its entries");
}

int main(void)
{
	char buf[256];
	struct stat st;
	struct statfs sfs;
	int fd, fd2;

	scratch_init("fsops");
	mode_t old = umask(022);

	/* mkdir */
	ok_sys(mkdir(SPATH("d"), 0777), "mkdir");
	ok(stat(SPATH("d"), &st) == 0 && S_ISDIR(st.st_mode) &&
	   (st.st_mode & 07777) == 0755 && st.st_nlink == 2,
	   "mkdir honours umask, nlink 2");
	is_errno(mkdir(SPATH("d"), 0777), EEXIST, "mkdir existing: EEXIST");
	is_errno(mkdir(SPATH("nope/x"), 0777), ENOENT, "mkdir in missing dir: ENOENT");
	ok_sys(mkdir(SPATH("d/sub/"), 0700), "mkdir with trailing slash");
	ok(stat(SPATH("d"), &st) == 0 && st.st_nlink == 3, "parent nlink grows");
	is_errno(mkdir(SPATH("d/."), 0700), EEXIST, "mkdir d/.: EEXIST");
	ok_sys(mkdirat(AT_FDCWD, SPATH("d2"), 0700), "mkdirat");
	is_errno(mkdir((char *)BAD_PTR, 0700), EFAULT, "mkdir bad pointer: EFAULT");

	/* rmdir */
	is_errno(rmdir(SPATH("d")), ENOTEMPTY, "rmdir non-empty: ENOTEMPTY");
	is_errno(rmdir(SPATH("d/sub/.")), EINVAL, "rmdir dir/.: EINVAL");
	is_errno(rmdir(SPATH("d/sub/..")), ENOTEMPTY, "rmdir dir/..: ENOTEMPTY");
	ok_sys(rmdir(SPATH("d/sub")), "rmdir empty");
	ok(stat(SPATH("d"), &st) == 0 && st.st_nlink == 2, "parent nlink shrinks");
	is_errno(rmdir(SPATH("d/sub")), ENOENT, "rmdir again: ENOENT");
	ok_sys(write_file(SPATH("f"), "abc", 3), "create a file");
	is_errno(rmdir(SPATH("f")), ENOTDIR, "rmdir a file: ENOTDIR");
	/* A read-only root answers EROFS first (mnt_want_write). */
	is_errno(rmdir("/dev"), root_is_readonly() ? EROFS : EBUSY,
		 "rmdir a mount point: EBUSY (EROFS on a read-only root)");
	is_errno(rmdir("/"), EBUSY, "rmdir /: EBUSY");

	/* unlink */
	is_errno(unlink(SPATH("d")), EISDIR, "unlink a directory: EISDIR");
	is_errno(unlink(SPATH("f/")), ENOTDIR, "unlink file/: ENOTDIR");
	is_errno(unlinkat(AT_FDCWD, SPATH("f"), 0x1), EINVAL, "unlinkat bad flag: EINVAL");
	fd = open(SPATH("f"), O_RDWR);
	ok_sys(unlink(SPATH("f")), "unlink an open file");
	is_errno(access(SPATH("f"), F_OK), ENOENT, "name is gone");
	ok(fd >= 0 && fstat(fd, &st) == 0 && st.st_nlink == 0, "open file has nlink 0");
	ok(pread(fd, buf, 3, 0) == 3 && !memcmp(buf, "abc", 3), "data still readable");
	close(fd);
	ok_sys(unlinkat(AT_FDCWD, SPATH("d2"), AT_REMOVEDIR), "unlinkat AT_REMOVEDIR");

	/* cwd in a removed directory */
	{
		int here = open(".", O_RDONLY | O_DIRECTORY);
		ok(mkdir(SPATH("gone"), 0700) == 0 && chdir(SPATH("gone")) == 0 &&
		   rmdir(SPATH("gone")) == 0, "rmdir the cwd");
		is_errno(open("x", O_CREAT | O_WRONLY, 0600), ENOENT,
			 "create in a removed cwd: ENOENT");
		fchdir(here);
		close(here);
	}

	/* symlink */
	ok_sys(symlink("target-x", SPATH("l")), "symlink");
	ok(readlink(SPATH("l"), buf, sizeof(buf)) == 8 && !memcmp(buf, "target-x", 8),
	   "readlink");
	ok(lstat(SPATH("l"), &st) == 0 && S_ISLNK(st.st_mode) && st.st_size == 8,
	   "lstat symlink");
	is_errno(symlink("t", SPATH("l")), EEXIST, "symlink over existing: EEXIST");
	is_errno(symlink("", SPATH("l2")), ENOENT, "empty target: ENOENT");
	is_errno(mkdir(SPATH("l"), 0700), EEXIST, "mkdir over dangling symlink: EEXIST");
	ok_sys(unlink(SPATH("l")), "unlink symlink");

	/* mknod */
	ok_sys(mknod(SPATH("fifo"), S_IFIFO | 0644, 0), "mknod fifo");
	ok(lstat(SPATH("fifo"), &st) == 0 && S_ISFIFO(st.st_mode), "fifo type");
	ok_sys(mknod(SPATH("reg"), 0644, 0), "mknod mode 0 = regular");
	ok(lstat(SPATH("reg"), &st) == 0 && S_ISREG(st.st_mode), "regular type");
	is_errno(mknod(SPATH("dd"), S_IFDIR | 0700, 0), EPERM, "mknod S_IFDIR: EPERM");
	is_errno(mknod(SPATH("bad"), 0170000 | 0700, 0), EINVAL, "mknod bad type: EINVAL");
	ok_sys(mknod(SPATH("null"), S_IFCHR | 0666, makedev(1, 3)), "mknod /dev/null twin");
	fd = open(SPATH("null"), O_WRONLY);
	ok(fd >= 0 && write(fd, "zz", 2) == 2, "write to the twin");
	close(fd);

	/* sync family */
	fd = open(SPATH("reg"), O_RDWR);
	ok_sys(fsync(fd), "fsync");
	ok_sys(fdatasync(fd), "fdatasync");
	ok_sys(syncfs(fd), "syncfs");
	sync();
	ok(1, "sync");
	ok_sys(sync_file_range(fd, 0, 0, 0), "sync_file_range");
	is_errno(sync_file_range(fd, -1, 0, 0), EINVAL, "sync_file_range off<0: EINVAL");
	is_errno(sync_file_range(fd, 0, 0, 8), EINVAL, "sync_file_range bad flags: EINVAL");
	is_errno(fsync(-1), EBADF, "fsync bad fd: EBADF");

	/* statfs */
	ok(statfs("/dev/shm", &sfs) == 0 && sfs.f_type == 0x01021994 &&
	   sfs.f_bsize > 0, "statfs /dev/shm is tmpfs");
	{
		struct statfs s2;
		ok(statfs(scratch_dir, &s2) == 0 && fstatfs(fd, &sfs) == 0 &&
		   sfs.f_type == s2.f_type && sfs.f_namelen == 255, "fstatfs");
	}
	is_errno(statfs(SPATH("missing"), &sfs), ENOENT, "statfs missing: ENOENT");

	/* flock */
	fd2 = open(SPATH("reg"), O_RDWR);
	ok_sys(flock(fd, LOCK_EX), "flock LOCK_EX");
	is_errno(flock(fd2, LOCK_SH | LOCK_NB), EWOULDBLOCK,
		 "second description: EWOULDBLOCK");
	ok_sys(flock(fd, LOCK_SH), "convert to LOCK_SH");
	ok_sys(flock(fd2, LOCK_SH | LOCK_NB), "shared with shared");
	ok_sys(flock(fd, LOCK_UN), "LOCK_UN");
	ok_sys(flock(fd2, LOCK_UN), "LOCK_UN 2");
	is_errno(flock(fd, 0), EINVAL, "flock bad op: EINVAL");

	/* POSIX record locks: one process owns all its locks */
	{
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
				    .l_start = 0, .l_len = 10 };
		ok_sys(fcntl(fd, F_SETLK, &fl), "F_SETLK write lock");
		fl.l_type = F_WRLCK;
		ok(fcntl(fd2, F_GETLK, &fl) == 0 && fl.l_type == F_UNLCK,
		   "F_GETLK: own process never conflicts");
		struct flock ofd = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
				     .l_start = 5, .l_len = 1 };
		ok(fcntl(fd2, F_OFD_GETLK, &ofd) == 0 && ofd.l_type == F_WRLCK &&
		   ofd.l_start == 0 && ofd.l_len == 10 && ofd.l_pid == getpid(),
		   "F_OFD_GETLK sees the process lock");
		ofd.l_type = F_RDLCK;
		ofd.l_pid = 0;
		is_errno(fcntl(fd2, F_OFD_SETLK, &ofd), EAGAIN, "OFD lock conflicts: EAGAIN");
		fl.l_type = F_UNLCK;
		fl.l_start = 0;
		fl.l_len = 0;
		ok_sys(fcntl(fd, F_SETLK, &fl), "unlock");
		ofd.l_type = F_RDLCK;
		ofd.l_pid = 0;
		ok_sys(fcntl(fd2, F_OFD_SETLK, &ofd), "OFD lock after unlock");
		fl.l_type = 7;
		is_errno(fcntl(fd, F_SETLK, &fl), EINVAL, "bad l_type: EINVAL");
		int ro = open(SPATH("reg"), O_RDONLY);
		fl.l_type = F_WRLCK;
		is_errno(fcntl(ro, F_SETLK, &fl), EBADF, "write lock on O_RDONLY: EBADF");
		close(ro);
	}
	close(fd);
	close(fd2);

	overlay_checks();
	umask(old);
	scratch_cleanup();
	return done_testing();
}

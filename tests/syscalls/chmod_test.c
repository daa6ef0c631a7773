/* chmod_test: chmod/chown/utimes families, umask and DAC/sticky checks. */
#include <sys/stat.h>
#include <sys/time.h>
#include <utime.h>
#include "tap.h"

static mode_t mode_of(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

/* Become uid/gid 1000 for fs checks (saved uid stays 0); 0 on success. */
static int drop(void)
{
	if (syscall(SYS_setresgid, 1000, 1000, 0) != 0)
		return -1;
	return (int)syscall(SYS_setresuid, 1000, 1000, 0);
}

static void regain(void)
{
	syscall(SYS_setresuid, 0, 0, 0);
	syscall(SYS_setresgid, 0, 0, 0);
}

int main(void)
{
	struct stat st;
	int fd;

	scratch_init("chmod");
	umask(022);
	write_file(SPATH("f"), "x", 1);
	ok(mode_of(SPATH("f")) == 0644, "umask applied on create");
	ok_sys(chmod(SPATH("f"), 04755), "chmod");
	ok(mode_of(SPATH("f")) == 04755, "mode set with setuid");
	ok_sys(fchmodat(AT_FDCWD, SPATH("f"), 0600, 0), "fchmodat");
	ok(mode_of(SPATH("f")) == 0600, "fchmodat mode");
	fd = open(SPATH("f"), O_RDONLY);
	ok_sys(fchmod(fd, 0640), "fchmod on a read-only fd");
	ok(mode_of(SPATH("f")) == 0640, "fchmod mode");
	is_errno(chmod(SPATH("missing"), 0600), ENOENT, "chmod missing: ENOENT");
	is_errno(fchmod(-1, 0600), EBADF, "fchmod bad fd: EBADF");
	symlink("f", SPATH("l"));
	ok_sys(chmod(SPATH("l"), 0444), "chmod follows symlinks");
	ok(mode_of(SPATH("f")) == 0444 && mode_of(SPATH("l")) == 0777, "target changed, link not");
	is_errno(fchmodat(AT_FDCWD, SPATH("l"), 0600, 0x1), EINVAL, "fchmodat bad flag: EINVAL");

	/* chown */
	ok_sys(chown(SPATH("f"), 1000, 1000), "chown");
	ok(stat(SPATH("f"), &st) == 0 && st.st_uid == 1000 && st.st_gid == 1000, "owner set");
	ok_sys(chown(SPATH("f"), -1, 2000), "chown -1 keeps uid");
	ok(stat(SPATH("f"), &st) == 0 && st.st_uid == 1000 && st.st_gid == 2000, "gid only");
	ok_sys(lchown(SPATH("l"), 3000, -1), "lchown the link");
	ok(lstat(SPATH("l"), &st) == 0 && st.st_uid == 3000, "link owner");
	ok(stat(SPATH("f"), &st) == 0 && st.st_uid == 1000, "target untouched");
	ok_sys(fchown(fd, 0, 0), "fchown");
	ok_sys(fchownat(AT_FDCWD, SPATH("l"), 0, 0, AT_SYMLINK_NOFOLLOW), "fchownat nofollow");
	chmod(SPATH("f"), 06755);
	ok_sys(chown(SPATH("f"), 5, 5), "chown a setuid/setgid executable");
	ok(mode_of(SPATH("f")) == 0755, "setuid and setgid cleared");
	chmod(SPATH("f"), 02745);
	chown(SPATH("f"), 6, 6);
	ok(mode_of(SPATH("f")) == 02745, "setgid without group exec kept (mandatory-lock bit)");
	mkdir(SPATH("sd"), 0755);
	chmod(SPATH("sd"), 02755);
	chown(SPATH("sd"), 7, 7);
	ok(mode_of(SPATH("sd")) == 02755, "directory setgid kept on chown");
	close(fd);

	/* times */
	struct timespec ts[2] = { { 1000, 5 }, { 2000, 7 } };
	ok_sys(utimensat(AT_FDCWD, SPATH("f"), ts, 0), "utimensat");
	ok(stat(SPATH("f"), &st) == 0 && st.st_atim.tv_sec == 1000 && st.st_atim.tv_nsec == 5 &&
	   st.st_mtim.tv_sec == 2000 && st.st_mtim.tv_nsec == 7, "times set");
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = 3000;
	ts[1].tv_nsec = 0;
	ok_sys(utimensat(AT_FDCWD, SPATH("f"), ts, 0), "UTIME_OMIT atime");
	ok(stat(SPATH("f"), &st) == 0 && st.st_atim.tv_sec == 1000 && st.st_mtim.tv_sec == 3000,
	   "atime kept, mtime set");
	ts[0].tv_nsec = UTIME_NOW;
	ts[1].tv_nsec = UTIME_OMIT;
	ok_sys(utimensat(AT_FDCWD, SPATH("f"), ts, 0), "UTIME_NOW atime");
	ok(stat(SPATH("f"), &st) == 0 && st.st_atim.tv_sec > 1000000000 && st.st_mtim.tv_sec == 3000,
	   "atime now");
	ts[0].tv_nsec = 1000000000;
	is_errno(utimensat(AT_FDCWD, SPATH("f"), ts, 0), EINVAL, "bad nsec: EINVAL");
	ts[0].tv_sec = 42; ts[0].tv_nsec = 0; ts[1].tv_sec = 43; ts[1].tv_nsec = 0;
	ok_sys(utimensat(AT_FDCWD, SPATH("l"), ts, AT_SYMLINK_NOFOLLOW), "AT_SYMLINK_NOFOLLOW");
	ok(lstat(SPATH("l"), &st) == 0 && st.st_mtim.tv_sec == 43 &&
	   stat(SPATH("f"), &st) == 0 && st.st_mtim.tv_sec == 3000, "link times only");
	struct timeval tv[2] = { { 50, 1 }, { 60, 2 } };
	ok_sys(utimes(SPATH("f"), tv), "utimes");
	ok(stat(SPATH("f"), &st) == 0 && st.st_mtim.tv_sec == 60 && st.st_mtim.tv_nsec == 2000,
	   "utimes microseconds");
	ok_sys(futimesat(AT_FDCWD, SPATH("f"), NULL), "futimesat NULL = now");
	struct utimbuf ub = { 70, 80 };
	ok_sys(utime(SPATH("f"), &ub), "utime");
	ok(stat(SPATH("f"), &st) == 0 && st.st_atime == 70 && st.st_mtime == 80, "utime times");
	fd = open(SPATH("f"), O_RDONLY);
	ok_sys(futimens(fd, NULL), "futimens");
	close(fd);

	/* DAC as an unprivileged user (needs setresuid) */
	chmod(scratch_dir, 01777);
	write_file(SPATH("rootfile"), "r", 1);
	mkdir(SPATH("ro"), 0555);
	if (drop() != 0) {
		for (int i = 0; i < 7; i++)
			skip("setresuid unavailable", "DAC check %d", i);
	} else {
		is_errno(unlink(SPATH("rootfile")), EPERM, "sticky dir: unlink others' file: EPERM");
		is_errno(rename(SPATH("rootfile"), SPATH("mine")), EPERM,
			 "sticky dir: rename others' file: EPERM");
		is_errno(mkdir(SPATH("ro/x"), 0700), EACCES, "mkdir in 0555 dir: EACCES");
		is_errno(chmod(SPATH("rootfile"), 0777), EPERM, "chmod others' file: EPERM");
		is_errno(chown(SPATH("rootfile"), 1000, -1), EPERM, "chown as user: EPERM");
		ok(write_file(SPATH("mine"), "m", 1) == 0 && unlink(SPATH("mine")) == 0,
		   "own file in sticky dir: ok");
		is_errno(utimensat(AT_FDCWD, SPATH("rootfile"), ts, 0), EPERM,
			 "explicit times on others' file: EPERM");
		regain();
	}
	scratch_cleanup();
	return done_testing();
}

/* link_test: link/linkat/symlinkat and link counts on tmpfs. */
#include <sys/stat.h>
#include "tap.h"

int main(void)
{
	struct stat st, st2;
	int fd;

	scratch_init("link");
	write_file(SPATH("f"), "data", 4);
	mkdir(SPATH("d"), 0755);
	ok_sys(link(SPATH("f"), SPATH("g")), "link");
	ok(stat(SPATH("f"), &st) == 0 && st.st_nlink == 2, "nlink 2");
	ok(stat(SPATH("g"), &st2) == 0 && st2.st_ino == st.st_ino, "same inode");
	is_errno(link(SPATH("f"), SPATH("g")), EEXIST, "existing target: EEXIST");
	is_errno(link(SPATH("d"), SPATH("d2")), EPERM, "link a directory: EPERM");
	is_errno(link(SPATH("missing"), SPATH("m")), ENOENT, "missing source: ENOENT");
	is_errno(link(SPATH("f"), SPATH("g2/")), ENOENT, "target with slash: ENOENT");
	is_errno(link(SPATH("f"), "/dev/cvisor-link-x"), EXDEV, "across mounts: EXDEV");
	is_errno(linkat(AT_FDCWD, SPATH("f"), AT_FDCWD, SPATH("h"), 0x8000), EINVAL,
		 "bad flag: EINVAL");
	ok_sys(unlink(SPATH("f")), "unlink one name");
	ok(stat(SPATH("g"), &st) == 0 && st.st_nlink == 1, "nlink back to 1");

	ok_sys(symlink("g", SPATH("s")), "symlink");
	ok_sys(linkat(AT_FDCWD, SPATH("s"), AT_FDCWD, SPATH("s2"), 0), "linkat the link itself");
	ok(lstat(SPATH("s2"), &st) == 0 && S_ISLNK(st.st_mode) && st.st_nlink == 2,
	   "hard link to a symlink");
	ok_sys(linkat(AT_FDCWD, SPATH("s"), AT_FDCWD, SPATH("s3"), AT_SYMLINK_FOLLOW),
	       "AT_SYMLINK_FOLLOW");
	ok(lstat(SPATH("s3"), &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 2,
	   "followed to the file");

	fd = open(SPATH("g"), O_RDONLY);
	ok_sys(linkat(fd, "", AT_FDCWD, SPATH("viafd"), AT_EMPTY_PATH), "AT_EMPTY_PATH");
	ok(stat(SPATH("viafd"), &st) == 0 && st.st_nlink == 3, "nlink 3");
	close(fd);

	int dfd = open(scratch_dir, O_RDONLY | O_DIRECTORY);
	ok_sys(symlinkat("target", dfd, "sat"), "symlinkat relative to a dirfd");
	is_errno(symlinkat("t", -5, "sat2"), EBADF, "symlinkat bad dirfd: EBADF");
	ok_sys(linkat(dfd, "g", dfd, "g3", 0), "linkat with dirfds");
	close(dfd);

	/* last link + last close frees, data remains readable until then */
	fd = open(SPATH("g"), O_RDONLY);
	unlink(SPATH("g"));
	unlink(SPATH("g3"));
	unlink(SPATH("viafd"));
	unlink(SPATH("s3"));
	char b[4];
	ok(fstat(fd, &st) == 0 && st.st_nlink == 0 && read(fd, b, 4) == 4 &&
	   !memcmp(b, "data", 4), "orphan still readable");
	close(fd);
	scratch_cleanup();
	return done_testing();
}

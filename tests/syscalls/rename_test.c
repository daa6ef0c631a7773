/* rename_test: rename/renameat/renameat2 with Linux semantics on tmpfs. */
#include <linux/fs.h>
#include <sys/stat.h>
#include "tap.h"

static int renat2(const char *a, const char *b, unsigned int flags)
{
	return (int)syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, flags);
}

static int content_is(const char *p, const char *want)
{
	char buf[64] = { 0 };
	int fd = open(p, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n == (ssize_t)strlen(want) && !strcmp(buf, want);
}

int main(void)
{
	struct stat st, st2;

	scratch_init("rename");
	write_file(SPATH("a"), "A", 1);
	write_file(SPATH("b"), "B", 1);
	mkdir(SPATH("d"), 0755);
	mkdir(SPATH("e"), 0755);
	write_file(SPATH("e/x"), "X", 1);

	stat(SPATH("a"), &st);
	ok_sys(rename(SPATH("a"), SPATH("c")), "rename file");
	ok(stat(SPATH("c"), &st2) == 0 && st2.st_ino == st.st_ino, "same inode under the new name");
	is_errno(access(SPATH("a"), F_OK), ENOENT, "old name gone");
	ok_sys(rename(SPATH("c"), SPATH("b")), "rename over a file");
	ok(content_is(SPATH("b"), "A"), "target replaced");
	is_errno(rename(SPATH("missing"), SPATH("z")), ENOENT, "missing source: ENOENT");
	is_errno(rename(SPATH("b"), SPATH("d")), EISDIR, "file over dir: EISDIR");
	is_errno(rename(SPATH("d"), SPATH("b")), ENOTDIR, "dir over file: ENOTDIR");
	is_errno(rename(SPATH("d"), SPATH("e")), ENOTEMPTY, "dir over non-empty dir: ENOTEMPTY");
	is_errno(rename(SPATH("d"), SPATH("d/sub")), EINVAL, "dir into itself: EINVAL");
	is_errno(rename(SPATH("e"), SPATH("e/x/y")), ENOTDIR, "under a file: ENOTDIR");
	is_errno(rename(SPATH("b/"), SPATH("q")), ENOTDIR, "file with trailing slash: ENOTDIR");
	is_errno(rename(SPATH("b"), SPATH("q/")), ENOTDIR, "to name/ for a file: ENOTDIR");
	is_errno(rename(SPATH("d/."), SPATH("q")), EBUSY, "rename dir/.: EBUSY");
	is_errno(rename(SPATH("b"), SPATH("d/..")), EBUSY, "rename onto ..: EBUSY");
	is_errno(rename(SPATH("b"), "/dev/cvisor-rename-x"), EXDEV, "across mounts: EXDEV");
	ok_sys(mkdir(SPATH("empty"), 0755), "mkdir empty");
	ok_sys(rename(SPATH("d"), SPATH("empty")), "dir over empty dir");
	ok(stat(SPATH("empty"), &st) == 0 && S_ISDIR(st.st_mode), "dir moved");
	ok_sys(mkdir(SPATH("empty/in"), 0755), "mkdir below");
	stat(scratch_dir, &st);
	ok_sys(rename(SPATH("empty/in"), SPATH("in2")), "move dir up a level");
	ok(stat(scratch_dir, &st2) == 0 && st2.st_nlink == st.st_nlink + 1, "parent nlink updated");
	link(SPATH("b"), SPATH("b2"));
	ok(rename(SPATH("b"), SPATH("b2")) == 0 && access(SPATH("b"), F_OK) == 0,
	   "rename between hard links: no-op, both stay");
	ok_sys(rename(SPATH("b"), SPATH("b")), "rename to itself");

	/* renameat2 */
	is_errno(renat2(SPATH("b"), SPATH("e/x"), RENAME_NOREPLACE), EEXIST, "NOREPLACE: EEXIST");
	ok_sys(renat2(SPATH("b"), SPATH("nr"), RENAME_NOREPLACE), "NOREPLACE to a free name");
	ok_sys(renat2(SPATH("nr"), SPATH("e/x"), RENAME_EXCHANGE), "EXCHANGE");
	ok(content_is(SPATH("e/x"), "A") && content_is(SPATH("nr"), "X"), "contents swapped");
	is_errno(renat2(SPATH("nr"), SPATH("nothere"), RENAME_EXCHANGE), ENOENT,
		 "EXCHANGE with missing target: ENOENT");
	ok_sys(renat2(SPATH("nr"), SPATH("e"), RENAME_EXCHANGE), "EXCHANGE file and dir");
	ok(stat(SPATH("nr"), &st) == 0 && S_ISDIR(st.st_mode) &&
	   stat(SPATH("e"), &st2) == 0 && S_ISREG(st2.st_mode), "types swapped");
	is_errno(renat2(SPATH("e"), SPATH("nr"), RENAME_EXCHANGE | RENAME_NOREPLACE),
		 EINVAL, "EXCHANGE|NOREPLACE: EINVAL");
	is_errno(renat2(SPATH("e"), SPATH("nr"), 0x100), EINVAL, "unknown flag: EINVAL");
	ok_sys(renameat(AT_FDCWD, SPATH("e"), AT_FDCWD, SPATH("e2")), "renameat");
	is_errno(rename((char *)BAD_PTR, SPATH("x")), EFAULT, "bad pointer: EFAULT");

	/* sticky /tmp-like directory: others' files cannot be moved */
	ok(1, "sticky checks in chmod_test");
	scratch_cleanup();
	return done_testing();
}

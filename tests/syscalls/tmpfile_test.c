/* O_TMPFILE: unnamed files on tmpfs (/tmp) and in a directory of the root
 * (the overlay's tmpfs upper under cvisor), linkat(AT_EMPTY_PATH) and
 * linkat via /proc/self/fd with AT_SYMLINK_FOLLOW, O_EXCL, errors.
 * open(2) "O_TMPFILE", linkat(2), fs/namei.c do_tmpfile()/vfs_tmpfile(). */
#include "tap.h"

#include <dirent.h>
#include <sys/stat.h>

static int count_entries(const char *dir)
{
	int n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_in(const char *dir, const char *where)
{
	char p[PATH_MAX], q[PATH_MAX], buf[16];
	struct stat st;
	long fd;
	int n0 = count_entries(dir);

	mode_t um = umask(022);
	umask(um);
	fd = open(dir, O_TMPFILE | O_RDWR, 0640);
	ok_sys(fd, "%s: O_TMPFILE|O_RDWR", where);
	if (fd < 0)
		return;
	ok(fstat((int)fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 0,
	   "%s: regular file with nlink 0", where);
	is_long(st.st_mode & 0777, 0640 & ~um, "%s: mode from the call and umask", where);
	is_long(fcntl((int)fd, F_GETFL) & O_ACCMODE, O_RDWR, "%s: F_GETFL O_RDWR", where);
	is_long(write((int)fd, "hello", 5), 5, "%s: write", where);
	is_long(pread((int)fd, buf, 5, 0), 5, "%s: read back", where);
	ok(!memcmp(buf, "hello", 5), "%s: data", where);
	is_long(count_entries(dir), n0, "%s: no new directory entry", where);

	/* linkat(fd, "", AT_EMPTY_PATH) gives it a name. */
	snprintf(p, sizeof(p), "%s/named", dir);
	ok_sys(linkat((int)fd, "", AT_FDCWD, p, AT_EMPTY_PATH), "%s: linkat AT_EMPTY_PATH", where);
	ok(stat(p, &st) == 0 && st.st_nlink == 1 && st.st_size == 5, "%s: named, nlink 1", where);
	ok(fstat((int)fd, &st) == 0 && st.st_nlink == 1, "%s: fstat sees nlink 1", where);
	is_errno(linkat((int)fd, "", AT_FDCWD, p, AT_EMPTY_PATH), EEXIST,
		 "%s: link over an existing name -> EEXIST", where);
	close((int)fd);
	fd = open(p, O_RDONLY);
	ok(fd >= 0 && read((int)fd, buf, 5) == 5 && !memcmp(buf, "hello", 5),
	   "%s: the named file has the data after close", where);
	close((int)fd);
	unlink(p);

	/* Through /proc/self/fd/N with AT_SYMLINK_FOLLOW. */
	fd = open(dir, O_TMPFILE | O_WRONLY, 0600);
	ok_sys(fd, "%s: O_TMPFILE|O_WRONLY", where);
	write((int)fd, "xy", 2);
	snprintf(q, sizeof(q), "/proc/self/fd/%ld", fd);
	snprintf(p, sizeof(p), "%s/viaproc", dir);
	is_errno(linkat(AT_FDCWD, q, AT_FDCWD, p, 0), EXDEV,
		 "%s: linkat of the magic link itself (no follow) -> EXDEV", where);
	ok_sys(linkat(AT_FDCWD, q, AT_FDCWD, p, AT_SYMLINK_FOLLOW),
	       "%s: linkat /proc/self/fd/N AT_SYMLINK_FOLLOW", where);
	ok(stat(p, &st) == 0 && st.st_size == 2 && st.st_nlink == 1, "%s: linked via /proc", where);
	close((int)fd);
	unlink(p);

	/* O_EXCL: never linkable. */
	fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL, 0600);
	ok_sys(fd, "%s: O_TMPFILE|O_EXCL", where);
	snprintf(p, sizeof(p), "%s/excl", dir);
	is_errno(linkat((int)fd, "", AT_FDCWD, p, AT_EMPTY_PATH), ENOENT,
		 "%s: O_EXCL tmpfile linkat -> ENOENT", where);
	snprintf(q, sizeof(q), "/proc/self/fd/%ld", fd);
	is_errno(linkat(AT_FDCWD, q, AT_FDCWD, p, AT_SYMLINK_FOLLOW), ENOENT,
		 "%s: O_EXCL tmpfile linkat via /proc -> ENOENT", where);
	close((int)fd);
	is_long(count_entries(dir), n0, "%s: nothing left behind", where);
}

static void test_errors(const char *dir)
{
	char f[PATH_MAX];

	is_errno(open(dir, O_TMPFILE | O_RDONLY, 0600), EINVAL, "O_TMPFILE|O_RDONLY -> EINVAL");
	spath(f, sizeof(f), "plain");
	close(open(f, O_WRONLY | O_CREAT, 0600));
	is_errno(open(f, O_TMPFILE | O_RDWR, 0600), ENOTDIR, "O_TMPFILE on a file -> ENOTDIR");
	spath(f, sizeof(f), "missing/x");
	is_errno(open(f, O_TMPFILE | O_RDWR, 0600), ENOENT, "O_TMPFILE in a missing dir -> ENOENT");
	is_errno(open("/proc", O_TMPFILE | O_RDWR, 0600), EOPNOTSUPP,
		 "O_TMPFILE on procfs -> EOPNOTSUPP");
	spath(f, sizeof(f), "plain");
	unlink(f);
}

int main(void)
{
	char root_dir[] = "/var/tmp/cvisor-tmpfile-XXXXXX";

	scratch_init("tmpfile");
	if (!scratch_owned)
		bail_out("needs a scratch directory");
	test_in(scratch_dir, "tmp");
	test_errors(scratch_dir);
	/* A directory of the root file system (under cvisor: the overlay's
	 * tmpfs upper over a lower /var/tmp). */
	if (mkdtemp(root_dir)) {
		test_in(root_dir, "root");
		/* In /var/tmp itself (a lower directory under cvisor), named
		 * in the fresh directory, then removed. */
		char p[PATH_MAX];
		long fd = open("/var/tmp", O_TMPFILE | O_RDWR, 0600);
		ok_sys(fd, "O_TMPFILE in /var/tmp");
		snprintf(p, sizeof(p), "%s/fromlower", root_dir);
		ok_sys(linkat((int)fd, "", AT_FDCWD, p, AT_EMPTY_PATH), "linked into a subdirectory");
		is_long(count_entries(root_dir), 1, "one entry there");
		close((int)fd);
		unlink(p);
		rmdir(root_dir);
	} else {
		skip("no /var/tmp", "O_TMPFILE in a root directory");
	}
	scratch_cleanup();
	return done_testing();
}

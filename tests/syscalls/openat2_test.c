/* openat2(2): struct open_how size and argument checks, each RESOLVE_* flag
 * with symlinks, ".." escapes and /proc/self/fd magic links; plus creat(2),
 * O_NOATIME, O_DIRECT and O_PATH behaviour. openat2(2), open(2),
 * path_resolution(7), fs/open.c build_open_flags(), fs/namei.c. */
#include "tap.h"

#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

struct how {
	uint64_t flags, mode, resolve;
};
#define R_NO_XDEV 0x01
#define R_NO_MAGICLINKS 0x02
#define R_NO_SYMLINKS 0x04
#define R_BENEATH 0x08
#define R_IN_ROOT 0x10
#define R_CACHED 0x20

static long o2(int dfd, const char *p, uint64_t flags, uint64_t mode, uint64_t resolve)
{
	struct how h = { flags, mode, resolve };
	return syscall(SYS_openat2, dfd, p, &h, sizeof(h));
}

/* Open and read the first byte: the file we meant? */
static char o2_byte(int dfd, const char *p, uint64_t resolve)
{
	long fd = o2(dfd, p, O_RDONLY, 0, resolve);
	char c = 0;

	if (fd < 0)
		return (char)-errno;
	if (read((int)fd, &c, 1) != 1)
		c = '?';
	close((int)fd);
	return c;
}

static int dfd;		/* scratch/a */
static char dir_a[PATH_MAX];

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		bail_out("cannot write %s", path);
	close(fd);
}

static void setup(void)
{
	char p[PATH_MAX];

	spath(dir_a, sizeof(dir_a), "a");
	if (mkdir(dir_a, 0755) || mkdir(SPATH("a/sub"), 0755))
		bail_out("mkdir");
	put(SPATH("a/f"), "A");
	put(SPATH("f0"), "0");
	put(SPATH("a/sub/g"), "G");
	symlink("f", SPATH("a/rel"));
	symlink("../f0", SPATH("a/esc"));
	symlink("sub", SPATH("a/ldir"));
	symlink("/f", SPATH("a/absf"));
	snprintf(p, sizeof(p), "%s/f", dir_a);
	symlink(p, SPATH("a/absfull"));
	dfd = open(dir_a, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		bail_out("open a");
}

static void test_struct(void)
{
	struct {
		struct how h;
		uint64_t pad[4];
	} big = { { O_RDONLY, 0, 0 }, { 0 } };

	is_errno(syscall(SYS_openat2, dfd, "f", &big, 0), EINVAL, "size 0 -> EINVAL");
	is_errno(syscall(SYS_openat2, dfd, "f", &big, 23), EINVAL, "size 23 -> EINVAL");
	long fd = syscall(SYS_openat2, dfd, "f", &big, 24);
	ok_sys(fd, "size 24 (VER0)");
	close((int)fd);
	fd = syscall(SYS_openat2, dfd, "f", &big, sizeof(big));
	ok_sys(fd, "larger struct with zero tail");
	close((int)fd);
	big.pad[3] = 1;
	is_errno(syscall(SYS_openat2, dfd, "f", &big, sizeof(big)), E2BIG,
		 "larger struct with nonzero tail -> E2BIG");
	is_errno(syscall(SYS_openat2, dfd, "f", NULL, 24), EFAULT, "how NULL -> EFAULT");
	is_errno(syscall(SYS_openat2, dfd, "f", BAD_PTR, 24), EFAULT, "how bad -> EFAULT");
	big.pad[3] = 0;
	is_errno(syscall(SYS_openat2, dfd, BAD_PTR, &big, 24), EFAULT, "path bad -> EFAULT");
	/* Argument checks come before the path is read. */
	struct how h = { 1ULL << 40, 0, 0 };
	is_errno(syscall(SYS_openat2, dfd, BAD_PTR, &h, sizeof(h)), EINVAL,
		 "unknown flag bit -> EINVAL (before EFAULT of the path)");
	is_errno(o2(dfd, "f", O_RDONLY, 0, 0x40), EINVAL, "unknown resolve bit -> EINVAL");
	is_errno(o2(dfd, "f", O_RDONLY, 0644, 0), EINVAL, "mode without O_CREAT -> EINVAL");
	is_errno(o2(dfd, "new", O_RDWR | O_CREAT, 010000, 0), EINVAL, "mode beyond 07777 -> EINVAL");
	is_errno(o2(dfd, "f", O_RDONLY, 0, R_BENEATH | R_IN_ROOT), EINVAL,
		 "BENEATH|IN_ROOT -> EINVAL");
	is_errno(o2(dfd, "f", O_PATH | O_RDWR, 0, 0), EINVAL, "O_PATH|O_RDWR -> EINVAL");
	is_errno(o2(dfd, ".", O_TMPFILE | O_RDONLY, 0600, 0), EINVAL, "O_TMPFILE|O_RDONLY -> EINVAL");
	is_errno(o2(dfd, "f", O_RDWR | O_CREAT, 0600, R_CACHED), EAGAIN, "CACHED|O_CREAT -> EAGAIN");
	is_errno(o2(dfd, "f", O_RDWR | O_TRUNC, 0, R_CACHED), EAGAIN, "CACHED|O_TRUNC -> EAGAIN");
	fd = o2(dfd, "new", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640, 0);
	ok_sys(fd, "openat2 O_CREAT with mode");
	is_long(fcntl((int)fd, F_GETFD), FD_CLOEXEC, "O_CLOEXEC honoured");
	close((int)fd);
	unlinkat(dfd, "new", 0);
}

static void test_beneath(void)
{
	long fd;

	is_long(o2_byte(dfd, "f", R_BENEATH), 'A', "BENEATH: plain name");
	is_long(o2_byte(dfd, "sub/../f", R_BENEATH), 'A', "BENEATH: sub/../f stays inside");
	is_long(o2_byte(dfd, "../f0", 0), '0', "no flags: ../f0 reaches the parent");
	is_long(o2_byte(dfd, "../f0", R_BENEATH), -EXDEV, "BENEATH: ../f0 -> EXDEV");
	is_long(o2_byte(dfd, "sub/../../f0", R_BENEATH), -EXDEV, "BENEATH: sub/../../f0 -> EXDEV");
	is_long(o2_byte(dfd, "/etc/passwd", R_BENEATH), -EXDEV, "BENEATH: absolute -> EXDEV");
	is_long(o2_byte(-1, "/etc/passwd", R_BENEATH), -EXDEV,
		"BENEATH: absolute with bad dirfd -> EXDEV");
	is_long(o2_byte(dfd, "rel", R_BENEATH), 'A', "BENEATH: relative symlink inside");
	is_long(o2_byte(dfd, "ldir/g", R_BENEATH), 'G', "BENEATH: symlinked dir inside");
	is_long(o2_byte(dfd, "esc", R_BENEATH), -EXDEV, "BENEATH: symlink to ../ -> EXDEV");
	is_long(o2_byte(dfd, "absfull", R_BENEATH), -EXDEV, "BENEATH: absolute symlink -> EXDEV");
	fd = o2(dfd, ".", O_RDONLY | O_DIRECTORY, 0, R_BENEATH);
	ok_sys(fd, "BENEATH: . is the start");
	close((int)fd);
	is_errno(o2(dfd, "..", O_RDONLY, 0, R_BENEATH), EXDEV, "BENEATH: .. -> EXDEV");
}

static void test_in_root(void)
{
	is_long(o2_byte(dfd, "../f", R_IN_ROOT), 'A', "IN_ROOT: ../f clamps at the root");
	is_long(o2_byte(dfd, "../../../f", R_IN_ROOT), 'A', "IN_ROOT: many .. clamp");
	is_long(o2_byte(dfd, "/f", R_IN_ROOT), 'A', "IN_ROOT: /f is root/f");
	is_long(o2_byte(dfd, "absf", 0), -ENOENT, "no flags: symlink to /f -> ENOENT");
	is_long(o2_byte(dfd, "absf", R_IN_ROOT), 'A', "IN_ROOT: symlink to /f resolves in the root");
	is_long(o2_byte(dfd, "esc", 0), '0', "no flags: symlink ../f0 escapes");
	is_long(o2_byte(dfd, "esc", R_IN_ROOT), -ENOENT, "IN_ROOT: symlink ../f0 stays in (ENOENT)");
	long fd = o2(dfd, "/", O_RDONLY | O_DIRECTORY, 0, R_IN_ROOT);
	struct stat a, b;
	ok(fd >= 0 && fstat((int)fd, &a) == 0 && fstat(dfd, &b) == 0 && a.st_ino == b.st_ino,
	   "IN_ROOT: / is the dirfd");
	close((int)fd);
}

static void test_symlinks_magic(void)
{
	char p[64];
	long fd;

	is_long(o2_byte(dfd, "rel", R_NO_SYMLINKS), -ELOOP, "NO_SYMLINKS: trailing symlink -> ELOOP");
	is_long(o2_byte(dfd, "ldir/g", R_NO_SYMLINKS), -ELOOP, "NO_SYMLINKS: symlink in the middle -> ELOOP");
	is_long(o2_byte(dfd, "f", R_NO_SYMLINKS), 'A', "NO_SYMLINKS: plain file");
	fd = o2(dfd, "rel", O_PATH | O_NOFOLLOW, 0, R_NO_SYMLINKS);
	ok_sys(fd, "NO_SYMLINKS: O_PATH|O_NOFOLLOW gets the link itself");
	close((int)fd);
	is_long(o2_byte(dfd, "rel", R_NO_MAGICLINKS), 'A', "NO_MAGICLINKS: ordinary symlink ok");

	int ffd = openat(dfd, "f", O_RDONLY);
	snprintf(p, sizeof(p), "/proc/self/fd/%d", ffd);
	is_long(o2_byte(AT_FDCWD, p, 0), 'A', "magic link followed");
	is_long(o2_byte(AT_FDCWD, p, R_NO_MAGICLINKS), -ELOOP, "NO_MAGICLINKS: /proc/self/fd/N -> ELOOP");
	is_long(o2_byte(AT_FDCWD, p, R_NO_SYMLINKS), -ELOOP, "NO_SYMLINKS: /proc/self -> ELOOP");
	fd = o2(AT_FDCWD, p, O_PATH | O_NOFOLLOW, 0, R_NO_MAGICLINKS);
	ok_sys(fd, "NO_MAGICLINKS: O_PATH|O_NOFOLLOW on the magic link");
	close((int)fd);
	int pfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
	snprintf(p, sizeof(p), "%d", ffd);
	is_long(o2_byte(pfd, p, R_BENEATH), -EXDEV, "BENEATH: magic link -> EXDEV");
	is_long(o2_byte(pfd, p, R_IN_ROOT), -EXDEV, "IN_ROOT: magic link -> EXDEV");
	is_long(o2_byte(pfd, p, R_NO_XDEV), -EXDEV, "NO_XDEV: magic link to another mount -> EXDEV");
	close(pfd);
	close(ffd);

	/* The jump reaches a file that has no name any more. */
	put(SPATH("a/gone"), "U");
	ffd = openat(dfd, "gone", O_RDONLY);
	unlinkat(dfd, "gone", 0);
	snprintf(p, sizeof(p), "/proc/self/fd/%d", ffd);
	is_long(o2_byte(AT_FDCWD, p, 0), 'U', "magic link to an unlinked file");
	close(ffd);
}

static void test_xdev_cached(void)
{
	long fd;
	int pfd = open("/proc", O_RDONLY | O_DIRECTORY);

	is_long(o2_byte(dfd, "sub/g", R_NO_XDEV), 'G', "NO_XDEV: same mount");
	is_errno(o2(pfd, "..", O_RDONLY | O_DIRECTORY, 0, R_NO_XDEV), EXDEV,
		 "NO_XDEV: .. out of a mount root -> EXDEV");
	fd = o2(pfd, "..", O_RDONLY | O_DIRECTORY, 0, 0);
	ok_sys(fd, "no flags: .. out of /proc");
	close((int)fd);
	int rfd = open("/", O_RDONLY | O_DIRECTORY);
	is_errno(o2(rfd, "proc", O_RDONLY | O_DIRECTORY, 0, R_NO_XDEV), EXDEV,
		 "NO_XDEV: onto a mount point -> EXDEV");
	is_errno(o2(rfd, "proc/self/status", O_RDONLY, 0, R_NO_XDEV), EXDEV,
		 "NO_XDEV: through a mount point -> EXDEV");
	close(rfd);
	close(pfd);

	fd = o2(dfd, "f", O_RDONLY, 0, R_CACHED);
	ok(fd >= 0 || errno == EAGAIN, "CACHED: opens or EAGAIN");
	if (fd >= 0)
		close((int)fd);
	/* After a plain open the dentry is cached: Linux then succeeds. */
	is_long(o2_byte(dfd, "sub/g", 0), 'G', "warm the cache");
	is_long(o2_byte(dfd, "sub/g", R_CACHED), 'G', "CACHED: cached path opens");
}

/* ---- creat, O_NOATIME, O_DIRECT, O_PATH ---- */

static void test_open_flags(void)
{
	char f[PATH_MAX], c;
	struct stat st;
	long fd;

	spath(f, sizeof(f), "a/c");
	fd = syscall(SYS_creat, f, 0640);
	ok_sys(fd, "creat");
	is_long(fcntl((int)fd, F_GETFL) & O_ACCMODE, O_WRONLY, "creat is O_WRONLY");
	is_errno(read((int)fd, &c, 1), EBADF, "creat fd not readable");
	is_long(write((int)fd, "xyz", 3), 3, "write to creat fd");
	close((int)fd);
	mode_t um = umask(022);
	umask(um);
	fd = syscall(SYS_creat, f, 0600);
	ok(fd >= 0 && fstat((int)fd, &st) == 0 && st.st_size == 0, "creat truncates an existing file");
	is_long(st.st_mode & 0777, 0640 & ~um, "creat of an existing file keeps its mode");
	close((int)fd);

	/* Linux >= 6.4: O_CREAT|O_DIRECTORY is EINVAL and creates nothing. */
	char nd[PATH_MAX];
	spath(nd, sizeof(nd), "a/nodir");
	is_errno(open(nd, O_RDWR | O_CREAT | O_DIRECTORY, 0600), EINVAL, "O_CREAT|O_DIRECTORY -> EINVAL");
	is_errno(access(nd, F_OK), ENOENT, "... and nothing was created");
	is_errno(open(dir_a, O_TMPFILE | O_CREAT | O_RDWR, 0600), EINVAL, "O_TMPFILE|O_CREAT -> EINVAL");

	/* O_NOATIME: owner or CAP_FOWNER. */
	chmod(f, 0644);
	fd = open(f, O_RDONLY | O_NOATIME);
	ok_sys(fd, "O_NOATIME as owner");
	ok(fcntl((int)fd, F_GETFL) & O_NOATIME, "F_GETFL shows O_NOATIME");
	close((int)fd);
	chmod(scratch_dir, 0755);
	pid_t pid = fork();
	if (pid == 0) {
		int bad = 0;
		if (syscall(SYS_setresuid, 65534, 65534, 65534))
			_exit(3);
		if (open(f, O_RDONLY | O_NOATIME) != -1 || errno != EPERM)
			bad |= 1;
		int r = open(f, O_RDONLY);
		if (r < 0)
			bad |= 2;
		else if (fcntl(r, F_SETFL, O_NOATIME) != -1 || errno != EPERM)
			bad |= 4;
		_exit(bad);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		skip("setresuid unavailable", "O_NOATIME EPERM for a non-owner");
	else
		is_long(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0,
			"non-owner: O_NOATIME open and F_SETFL -> EPERM, plain open ok");
	chmod(scratch_dir, 0700);

	/* O_DIRECT is accepted and shown. */
	fd = open(f, O_RDWR | O_DIRECT);
	ok_sys(fd, "open O_DIRECT");
	ok(fd >= 0 && (fcntl((int)fd, F_GETFL) & O_DIRECT), "F_GETFL shows O_DIRECT");
	close((int)fd);

	/* O_PATH: a handle, no I/O. */
	fd = open(f, O_PATH);
	ok_sys(fd, "open O_PATH");
	is_long(fcntl((int)fd, F_GETFL), O_PATH, "F_GETFL of O_PATH is O_PATH");
	is_errno(read((int)fd, &c, 1), EBADF, "O_PATH read -> EBADF");
	is_errno(write((int)fd, "x", 1), EBADF, "O_PATH write -> EBADF");
	is_errno(lseek((int)fd, 0, SEEK_SET), EBADF, "O_PATH lseek -> EBADF");
	is_errno(fchmod((int)fd, 0600), EBADF, "O_PATH fchmod -> EBADF");
	int n;
	is_errno(ioctl((int)fd, FIONREAD, &n), EBADF, "O_PATH ioctl -> EBADF");
	ok(mmap(NULL, 4096, PROT_READ, MAP_SHARED, (int)fd, 0) == MAP_FAILED && errno == EBADF,
	   "O_PATH mmap -> EBADF");
	ok(fstat((int)fd, &st) == 0 && S_ISREG(st.st_mode), "O_PATH fstat");
	ok(fstatat((int)fd, "", &st, AT_EMPTY_PATH) == 0, "O_PATH fstatat AT_EMPTY_PATH");
	long d2 = fcntl((int)fd, F_DUPFD_CLOEXEC, 0);
	ok_sys(d2, "O_PATH dup");
	close((int)d2);
	close((int)fd);
	fd = open(dir_a, O_PATH | O_DIRECTORY);
	is_long(o2_byte((int)fd, "f", 0), 'A', "O_PATH dir as dirfd");
	char buf[256];
	is_errno(syscall(SYS_getdents64, fd, buf, sizeof(buf)), EBADF, "O_PATH getdents -> EBADF");
	char cwd[PATH_MAX];
	if (getcwd(cwd, sizeof(cwd))) {
		ok(fchdir((int)fd) == 0 && o2_byte(AT_FDCWD, "f", 0) == 'A', "O_PATH fchdir");
		chdir(cwd);
	}
	close((int)fd);
	put(f, "xyz");
	fd = open(f, O_PATH | O_RDWR | O_TRUNC | O_CREAT, 0600);
	ok(fd >= 0 && fstat((int)fd, &st) == 0 && st.st_size == 3 &&
	   fcntl((int)fd, F_GETFL) == O_PATH, "open O_PATH ignores other flags");
	close((int)fd);
	unlink(f);
}

int main(void)
{
	scratch_init("openat2");
	if (!scratch_owned)
		bail_out("needs a scratch directory");
	setup();
	test_struct();
	test_beneath();
	test_in_root();
	test_symlinks_magic();
	test_xdev_cached();
	test_open_flags();
	close(dfd);
	scratch_cleanup();
	return done_testing();
}

/* getdents64, getcwd, chdir, fchdir. getdents(2), getcwd(2), chdir(2), fs/readdir.c. */
#include "tap.h"

#include <dirent.h>
#include <sys/stat.h>

#define NFILES 300

static long sys_getdents64(int fd, void *buf, size_t n)
{
	return syscall(SYS_getdents64, fd, buf, n);
}

/* Reads the whole directory with a buffer of bufsz bytes; counts our NFILES
 * entries (seen[i]), ".", ".." and others. Returns the number of entries or -1. */
static long scan(int fd, size_t bufsz, unsigned char *seen, int *dots, int *bad_reclen)
{
	char buf[65536];
	long total = 0;
	*dots = 0;
	*bad_reclen = 0;
	memset(seen, 0, NFILES);
	syscall(SYS_lseek, fd, 0, SEEK_SET);
	size_t plen = strlen(scratch_pfx);
	for (;;) {
		long n = sys_getdents64(fd, buf, bufsz);
		if (n < 0)
			return -1;
		if (n == 0)
			return total;
		for (long off = 0; off < n;) {
			struct tap_dirent64 *d = (struct tap_dirent64 *)(buf + off);
			if (d->d_reclen == 0 || d->d_reclen % 8 || off + d->d_reclen > n) {
				*bad_reclen = 1;
				return total;
			}
			off += d->d_reclen;
			total++;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..")) {
				(*dots)++;
				continue;
			}
			int i;
			if (!strncmp(d->d_name, scratch_pfx, plen) &&
			    sscanf(d->d_name + plen, "e%03d", &i) == 1 && i >= 0 && i < NFILES) {
				if (seen[i] < 255)
					seen[i]++;
				if (d->d_type != DT_REG)
					*bad_reclen = 2;
			}
		}
	}
}

static void test_getdents(void)
{
	char p[PATH_MAX], leaf[32];
	int created = 0;
	for (int i = 0; i < NFILES; i++) {
		snprintf(leaf, sizeof(leaf), "e%03d", i);
		long fd = syscall(SYS_openat, AT_FDCWD, spath(p, sizeof(p), leaf),
				  O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd >= 0) {
			created++;
			syscall(SYS_close, fd);
		}
	}
	is_long(created, NFILES, "created %d files", NFILES);

	long dfd = syscall(SYS_openat, AT_FDCWD, scratch_dir, O_RDONLY | O_DIRECTORY);
	ok_sys(dfd, "open scratch directory");
	unsigned char seen[NFILES];
	int dots, bad;
	/* 64 bytes fits one of our records; only safe when the directory holds only ours. */
	size_t sizes[] = { 65536, 4096, 512, scratch_pfx[0] ? 256 : 64 };
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		long total = scan((int)dfd, sizes[s], seen, &dots, &bad);
		int once = 1;
		for (int i = 0; i < NFILES; i++)
			once &= seen[i] == 1;
		ok(total > 0 && !bad, "getdents64 buf=%zu: well-formed records", sizes[s]);
		ok(once, "getdents64 buf=%zu: each of %d files exactly once", sizes[s], NFILES);
		is_long(dots, 2, "getdents64 buf=%zu: . and .. present", sizes[s]);
		if (scratch_pfx[0] == '\0')
			is_long(total, NFILES + 2, "getdents64 buf=%zu: nothing else", sizes[s]);
	}
	/* d_off of the last record resumes after EOF; lseek back to 0 restarts. */
	char buf[4096];
	syscall(SYS_lseek, dfd, 0, SEEK_SET);
	long n = sys_getdents64((int)dfd, buf, sizeof(buf));
	ok(n > 0, "getdents64 after rewind returns entries");
	/* Buffer too small for one entry: EINVAL. */
	syscall(SYS_lseek, dfd, 0, SEEK_SET);
	is_errno(sys_getdents64((int)dfd, buf, 8), EINVAL, "getdents64 tiny buffer -> EINVAL");
	is_errno(sys_getdents64((int)dfd, BAD_PTR, 4096), EFAULT, "getdents64 into (void*)1 -> EFAULT");
	is_errno(sys_getdents64((int)dfd, KERNEL_PTR, 4096), EFAULT, "getdents64 into kernel -> EFAULT");
	syscall(SYS_close, dfd);

	is_errno(sys_getdents64(-1, buf, sizeof(buf)), EBADF, "getdents64 bad fd -> EBADF");
	long ffd = syscall(SYS_openat, AT_FDCWD, spath(p, sizeof(p), "e000"), O_RDONLY);
	is_errno(sys_getdents64((int)ffd, buf, sizeof(buf)), ENOTDIR, "getdents64 on a file -> ENOTDIR");
	syscall(SYS_close, ffd);

	/* A host (read-only, gofer-backed) directory lists the same as lstat says. */
	dfd = syscall(SYS_openat, AT_FDCWD, "/etc", O_RDONLY | O_DIRECTORY);
	long total = 0, passwd = 0;
	for (;;) {
		n = sys_getdents64((int)dfd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (long off = 0; off < n;) {
			struct tap_dirent64 *d = (struct tap_dirent64 *)(buf + off);
			off += d->d_reclen;
			total++;
			if (!strcmp(d->d_name, "passwd"))
				passwd += d->d_type == DT_REG;
		}
	}
	ok(n == 0 && total > 10, "getdents64 /etc to EOF (%ld entries)", total);
	is_long(passwd, 1, "/etc lists passwd as a regular file");
	syscall(SYS_close, dfd);
}

static void test_cwd(void)
{
	char orig[PATH_MAX], buf[PATH_MAX];
	long n = syscall(SYS_getcwd, orig, sizeof(orig));
	ok(n > 0 && orig[0] == '/', "getcwd returns an absolute path");
	is_long(n, (long)strlen(orig) + 1, "getcwd returns length including NUL");

	is_long(syscall(SYS_chdir, "/tmp"), 0, "chdir /tmp");
	n = syscall(SYS_getcwd, buf, sizeof(buf));
	ok(n == 5 && !strcmp(buf, "/tmp"), "getcwd is /tmp");
	is_errno(syscall(SYS_getcwd, buf, 4), ERANGE, "getcwd size too small -> ERANGE");
	is_long(syscall(SYS_getcwd, buf, 5), 5, "getcwd size == strlen+1 is enough");
	is_errno(syscall(SYS_getcwd, buf, 0), ERANGE, "getcwd size 0 -> ERANGE");
	is_errno(syscall(SYS_getcwd, BAD_PTR, sizeof(buf)), EFAULT, "getcwd into (void*)1 -> EFAULT");

	is_long(syscall(SYS_chdir, "/"), 0, "chdir /");
	n = syscall(SYS_getcwd, buf, sizeof(buf));
	ok(n == 2 && !strcmp(buf, "/"), "getcwd is /");
	is_long(syscall(SYS_chdir, ".."), 0, "chdir .. at / stays at /");
	syscall(SYS_getcwd, buf, sizeof(buf));
	ok(!strcmp(buf, "/"), "getcwd still /");

	is_long(syscall(SYS_chdir, scratch_dir), 0, "chdir scratch");
	syscall(SYS_getcwd, buf, sizeof(buf));
	ok(!strcmp(buf, scratch_dir), "getcwd is the scratch dir");
	char rel[PATH_MAX];
	snprintf(rel, sizeof(rel), "%se000", scratch_pfx);
	struct stat st;
	ok(stat(rel, &st) == 0, "relative paths resolve against the new cwd");

	is_errno(syscall(SYS_chdir, "/nonexistent-cvisor"), ENOENT, "chdir missing -> ENOENT");
	is_errno(syscall(SYS_chdir, rel), ENOTDIR, "chdir to a file -> ENOTDIR");
	is_errno(syscall(SYS_chdir, ""), ENOENT, "chdir empty -> ENOENT");
	is_errno(syscall(SYS_chdir, BAD_PTR), EFAULT, "chdir (void*)1 -> EFAULT");

	long dfd = syscall(SYS_openat, AT_FDCWD, "/etc", O_RDONLY | O_DIRECTORY);
	is_long(syscall(SYS_fchdir, dfd), 0, "fchdir /etc");
	syscall(SYS_getcwd, buf, sizeof(buf));
	ok(!strcmp(buf, "/etc"), "getcwd after fchdir is /etc");
	ok(stat("passwd", &st) == 0, "relative lookup after fchdir");
	syscall(SYS_close, dfd);
	long ffd = syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
	is_errno(syscall(SYS_fchdir, ffd), ENOTDIR, "fchdir to a file -> ENOTDIR");
	syscall(SYS_close, ffd);
	is_errno(syscall(SYS_fchdir, -1), EBADF, "fchdir(-1) -> EBADF");
	is_errno(syscall(SYS_fchdir, 99999), EBADF, "fchdir(unused) -> EBADF");

	syscall(SYS_chdir, "/bin/");
	syscall(SYS_getcwd, buf, sizeof(buf));
	ok(!strcmp(buf, "/usr/bin") || !strcmp(buf, "/bin"), "getcwd after chdir through symlink is canonical (%s)", buf);
	is_long(syscall(SYS_chdir, orig), 0, "chdir back");
}

int main(void)
{
	scratch_init("dir");
	test_getdents();
	test_cwd();
	scratch_cleanup();
	return done_testing();
}

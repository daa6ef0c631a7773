/*
 * tap.h — a tiny TAP producer for the syscall tests (tests/syscalls/<area>_test.c).
 *
 * Every test program is one static binary that must pass natively first and then
 * under each cvisor platform (tests/run.sh runs the matrix).  Output is written with
 * write(2) straight to fd 1, unbuffered, so that a crash mid-test still leaves every
 * line printed so far for the runner to show.
 *
 *   ok(cond, fmt, ...)                 pass iff cond
 *   ok_sys(ret, fmt, ...)              pass iff ret != -1 (prints errno on failure)
 *   is_errno(ret, E, fmt, ...)         pass iff ret == -1 && errno == E
 *   is_long(got, want, fmt, ...)       pass iff got == want
 *   skip(reason, fmt, ...)             "ok N - desc # SKIP reason"
 *   diag(fmt, ...)                     "# ..."
 *   plan(n) (optional), return done_testing();   exit status 1 on any failure.
 *
 * Scratch space: scratch_init("area") makes /tmp/cvisor-area-XXXXXX with mkdtemp.
 * mkdir/unlink/rmdir are not part of cvisor's first milestone, so if mkdtemp fails
 * the tests fall back to creating uniquely prefixed files directly in /tmp (the
 * sandbox's /tmp is a private tmpfs thrown away at exit).  spath() builds a path
 * inside the scratch space either way; scratch_cleanup() removes what it can.
 *
 * Two-process set-ups: tap_fork_ready(body, arg, &rfd) forks a child that runs
 * body(arg, readyfd) and exits with its return value (its verdict); the child
 * writes one byte to readyfd when the parent may go on (read end in *rfd).
 */
#ifndef CVISOR_TESTS_TAP_H
#define CVISOR_TESTS_TAP_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Test paths are short; snprintf truncation warnings are noise here. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

/* A user-space address that is never mapped (page 0) and a kernel-half address:
 * both must give EFAULT, never a crash of the sandbox. */
#define BAD_PTR    ((void *)1)
#define KERNEL_PTR ((void *)0xffff800000000000UL)

static int tap_n, tap_failed, tap_skipped, tap_planned = -1;

static void tap_write(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(1, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		len -= (size_t)w;
	}
}

__attribute__((format(printf, 1, 0)))
static void tap_vprintf(const char *fmt, va_list ap)
{
	char buf[2048];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	tap_write(buf, (size_t)n);
}

__attribute__((format(printf, 1, 2), unused))
static void tap_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tap_vprintf(fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 1, 2), unused))
static void diag(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	tap_printf("# ");
	va_start(ap, fmt);
	tap_vprintf(fmt, ap);
	va_end(ap);
	tap_printf("\n");
	errno = saved;
}

static const char *tap_errname(int e)
{
	const char *s = strerrorname_np(e);
	return s ? s : "E?";
}

__attribute__((unused))
static void plan(int n)
{
	tap_planned = n;
	tap_printf("1..%d\n", n);
}

__attribute__((format(printf, 2, 0)))
static int tap_vok(int cond, const char *fmt, va_list ap)
{
	int saved = errno;
	tap_n++;
	if (!cond)
		tap_failed++;
	tap_printf("%sok %d - ", cond ? "" : "not ", tap_n);
	tap_vprintf(fmt, ap);
	tap_printf("\n");
	errno = saved;
	return cond;
}

__attribute__((format(printf, 2, 3), unused))
static int ok(int cond, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = tap_vok(cond, fmt, ap);
	va_end(ap);
	return r;
}

/* Success of a raw syscall()/libc call returning -1 + errno on failure. */
__attribute__((format(printf, 2, 3), unused))
static int ok_sys(long ret, const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	int r = tap_vok(ret != -1, fmt, ap);
	va_end(ap);
	if (!r)
		diag("  failed with errno %d (%s)", e, tap_errname(e));
	errno = e;
	return r;
}

__attribute__((format(printf, 3, 4), unused))
static int is_errno(long ret, int want, const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	int cond = (ret == -1 && e == want);
	va_start(ap, fmt);
	int r = tap_vok(cond, fmt, ap);
	va_end(ap);
	if (!r) {
		if (ret == -1)
			diag("  got errno %d (%s), want %s", e, tap_errname(e), tap_errname(want));
		else
			diag("  got success (ret=%ld), want %s", ret, tap_errname(want));
	}
	errno = e;
	return r;
}

__attribute__((format(printf, 3, 4), unused))
static int is_long(long got, long want, const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	int r = tap_vok(got == want, fmt, ap);
	va_end(ap);
	if (!r) {
		diag("  got %ld (0x%lx), want %ld (0x%lx)", got, (unsigned long)got, want,
		     (unsigned long)want);
		if (got == -1)
			diag("  errno %d (%s)", e, tap_errname(e));
	}
	errno = e;
	return r;
}

__attribute__((format(printf, 2, 3), unused))
static void skip(const char *reason, const char *fmt, ...)
{
	va_list ap;
	tap_n++;
	tap_skipped++;
	tap_printf("ok %d - ", tap_n);
	va_start(ap, fmt);
	tap_vprintf(fmt, ap);
	va_end(ap);
	tap_printf(" # SKIP %s\n", reason);
}

__attribute__((format(printf, 1, 2), noreturn, unused))
static void bail_out(const char *fmt, ...)
{
	va_list ap;
	tap_printf("Bail out! ");
	va_start(ap, fmt);
	tap_vprintf(fmt, ap);
	va_end(ap);
	tap_printf("\n");
	exit(2);
}

__attribute__((unused))
static int done_testing(void)
{
	if (tap_planned < 0)
		tap_printf("1..%d\n", tap_n);
	else if (tap_planned != tap_n) {
		diag("planned %d tests but ran %d", tap_planned, tap_n);
		return 1;
	}
	if (tap_failed)
		diag("%d of %d tests failed", tap_failed, tap_n);
	return tap_failed ? 1 : 0;
}

/* ---- scratch space ----------------------------------------------------------- */

static char scratch_dir[256];      /* directory holding our files */
static char scratch_pfx[128];        /* leaf prefix ("" when we own the directory) */
static int scratch_owned;            /* 1: scratch_dir is our mkdtemp directory */

__attribute__((unused))
static const char *scratch_init(const char *area)
{
	snprintf(scratch_dir, sizeof(scratch_dir), "/tmp/cvisor-%s-XXXXXX", area);
	if (mkdtemp(scratch_dir)) {
		scratch_owned = 1;
		scratch_pfx[0] = '\0';
		return scratch_dir;
	}
	diag("mkdtemp failed (%s); using prefixed files directly in /tmp",
	     tap_errname(errno));
	strcpy(scratch_dir, "/tmp");
	snprintf(scratch_pfx, sizeof(scratch_pfx), "cvisor-%s-%ld-", area,
		 (long)syscall(SYS_getpid));
	scratch_owned = 0;
	return scratch_dir;
}

/* Path of leaf inside the scratch space; returns buf. */
__attribute__((unused))
static char *spath(char *buf, size_t len, const char *leaf)
{
	if ((size_t)snprintf(buf, len, "%s/%s%s", scratch_dir, scratch_pfx, leaf) >= len)
		bail_out("scratch path too long: %s", leaf);
	return buf;
}

#define SPATH(leaf) spath((char[PATH_MAX]){0}, PATH_MAX, (leaf))

struct tap_dirent64 {
	unsigned long long d_ino;
	long long d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Remove everything in dirfd whose name starts with pfx (recursing into dirs). */
static void tap_rm_in(int dirfd, const char *pfx, int depth)
{
	char buf[8192];
	for (;;) {
		long n = syscall(SYS_getdents64, dirfd, buf, sizeof(buf));
		if (n <= 0)
			return;
		for (long off = 0; off < n;) {
			struct tap_dirent64 *d = (struct tap_dirent64 *)(buf + off);
			off += d->d_reclen;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			if (strncmp(d->d_name, pfx, strlen(pfx)) != 0)
				continue;
			if (unlinkat(dirfd, d->d_name, 0) == 0)
				continue;
			if (depth < 8) {
				int sub = openat(dirfd, d->d_name,
						 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (sub >= 0) {
					tap_rm_in(sub, "", depth + 1);
					close(sub);
				}
			}
			unlinkat(dirfd, d->d_name, AT_REMOVEDIR);
		}
	}
}

__attribute__((unused))
static void scratch_cleanup(void)
{
	if (!scratch_dir[0])
		return;
	int fd = open(scratch_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		tap_rm_in(fd, scratch_pfx, 0);
		close(fd);
	}
	if (scratch_owned)
		rmdir(scratch_dir);
	scratch_dir[0] = '\0';
}

/* Write a whole file (create/truncate); returns 0 or -1. */
__attribute__((unused))
static int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, data, len);
	close(fd);
	return w == (ssize_t)len ? 0 : -1;
}

/* True when the root filesystem is read-only, i.e. we run in the sandbox.  Natively
 * the host / is writable (and we are root), so root-read-only checks skip there.
 * CVISOR_EXPECT_RO_ROOT=1 (set by tests/run.sh for sandbox platforms) turns a
 * writable root into a failure instead of a skip. */
__attribute__((unused))
static int root_is_readonly(void)
{
	return syscall(SYS_access, "/", W_OK) == -1 && errno == EROFS;
}

__attribute__((unused))
static int expect_ro_root(void)
{
	const char *e = getenv("CVISOR_EXPECT_RO_ROOT");
	return e && e[0] == '1';
}

/* See the header comment. -1 if the pipe or the fork failed. */
static inline pid_t tap_fork_ready(int (*body)(void *arg, int readyfd),
				   void *arg, int *rfd)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		_exit(body(arg, p[1]));
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	*rfd = p[0];
	return pid;
}

#endif /* CVISOR_TESTS_TAP_H */

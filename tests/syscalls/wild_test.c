/*
 * wild_test: every implemented call that takes a pointer, given wild pointers
 * (page 0, a kernel-half address, an unmapped page, a PROT_NONE page, a
 * buffer running off the end of a mapping), returns what Linux returns
 * (EFAULT in nearly every case) and the caller survives. Passes natively;
 * under cvisor it proves the sentry's copy helpers are the EFAULT boundary.
 */
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#include "tap.h"

#define NBAD 5

static void *bad[NBAD];
static const char *badname[NBAD] = { "page0", "kernel", "unmapped", "PROT_NONE",
				     "runs off the end" };

static void setup_bad(void)
{
	char *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	/* [m] rw, [m+4096] unmapped, [m+8192] PROT_NONE */
	munmap(m + 4096, 4096);
	mprotect(m + 8192, 4096, PROT_NONE);
	bad[0] = BAD_PTR;
	bad[1] = KERNEL_PTR;
	bad[2] = m + 4096;
	bad[3] = m + 8192;
	bad[4] = m + 4096 - 2; /* 2 good bytes, then a hole */
}

#define EXPECT(call, err, what)                                                \
	do {                                                                   \
		for (int i = 0; i < NBAD; i++) {                               \
			void *p = bad[i];                                      \
			long r = (call);                                       \
			is_errno(r, err, "%s with %s pointer", what,           \
				 badname[i]);                                  \
		}                                                              \
	} while (0)

int main(void)
{
	int fd, dfd;
	char path[64];

	setup_bad();
	snprintf(path, sizeof(path), "/tmp/cvisor-wild-%d", getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ok(fd >= 0, "scratch file");
	ok(write(fd, "0123456789abcdefghijklmnopqrstuvwxyz", 36) == 36, "fill it");
	dfd = open("/", O_RDONLY | O_DIRECTORY);

	/* Data transfer: buffer pointers. (A short read into a buffer that
	 * runs off its mapping returns the bytes that fit, as Linux does, so
	 * the "runs off" case uses lengths that start in the hole.) */
	for (int i = 0; i < NBAD - 1; i++) {
		is_errno(syscall(SYS_pread64, fd, bad[i], 16, 0), EFAULT,
			 "pread64 into %s", badname[i]);
		is_errno(syscall(SYS_pwrite64, fd, bad[i], 16, 0), EFAULT,
			 "pwrite64 from %s", badname[i]);
		is_errno(syscall(SYS_getrandom, bad[i], 16, 0), EFAULT,
			 "getrandom into %s", badname[i]);
	}
	/* A buffer that runs into a hole: Linux transfers what fits. */
	is_long(syscall(SYS_pread64, fd, bad[4], 16, 0), 2,
		"pread64 into a buffer running off its mapping reads what fits");
	is_long(syscall(SYS_pwrite64, fd, bad[4], 16, 0), 2,
		"pwrite64 from a buffer running off its mapping writes what fits");
	is_long(syscall(SYS_getrandom, bad[4], 16, 0), 2,
		"getrandom into a buffer running off its mapping fills what fits");
	/* Its two good bytes start the unterminated paths below: random
	 * ones could hold a NUL (a short path, ENOENT) one run in 128. */
	memcpy(bad[4], "ab", 2);
	EXPECT(syscall(SYS_readv, fd, p, 1), EFAULT, "readv iovec array");
	EXPECT(syscall(SYS_writev, fd, p, 1), EFAULT, "writev iovec array");
	/* Paths. */
	EXPECT(syscall(SYS_openat, AT_FDCWD, p, O_RDONLY), EFAULT, "openat path");
	EXPECT(syscall(SYS_open, p, O_RDONLY), EFAULT, "open path");
	EXPECT(syscall(SYS_stat, p, path), EFAULT, "stat path");
	EXPECT(syscall(SYS_lstat, p, path), EFAULT, "lstat path");
	EXPECT(syscall(SYS_newfstatat, dfd, p, path, 0), EFAULT, "newfstatat path");
	EXPECT(syscall(SYS_access, p, F_OK), EFAULT, "access path");
	EXPECT(syscall(SYS_faccessat, dfd, p, F_OK), EFAULT, "faccessat path");
	EXPECT(syscall(SYS_chdir, p), EFAULT, "chdir path");
	EXPECT(syscall(SYS_readlink, p, path, sizeof(path)), EFAULT, "readlink path");
	EXPECT(syscall(SYS_readlinkat, dfd, p, path, sizeof(path)), EFAULT,
	       "readlinkat path");
	/* Out-structures. */
	EXPECT(syscall(SYS_fstat, fd, p), EFAULT, "fstat buffer");
	EXPECT(syscall(SYS_stat, "/", p), EFAULT, "stat buffer");
	EXPECT(syscall(SYS_statx, dfd, ".", 0, 0x7ff, p), EFAULT, "statx buffer");
	EXPECT(syscall(SYS_getdents64, dfd, p, 4096), EFAULT, "getdents64 buffer");
	/* A cwd longer than the 2 good bytes of the last case. */
	ok(chdir("/dev") == 0, "chdir /dev");
	EXPECT(syscall(SYS_getcwd, p, 4096), EFAULT, "getcwd buffer");
	EXPECT(syscall(SYS_uname, p), EFAULT, "uname buffer");
	EXPECT(syscall(SYS_sysinfo, p), EFAULT, "sysinfo buffer");
	EXPECT(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, p), EFAULT,
	       "clock_gettime buffer");
	EXPECT(syscall(SYS_clock_getres, CLOCK_MONOTONIC, p), EFAULT,
	       "clock_getres buffer");
	EXPECT(syscall(SYS_gettimeofday, p, NULL), EFAULT, "gettimeofday buffer");
	EXPECT(syscall(SYS_nanosleep, p, NULL), EFAULT, "nanosleep request");
	EXPECT(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, p, NULL), EFAULT,
	       "clock_nanosleep request");
	EXPECT(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, p), EFAULT,
	       "prlimit64 old limit");
	EXPECT(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, p, NULL), EFAULT,
	       "prlimit64 new limit");
	EXPECT(syscall(SYS_getrlimit, RLIMIT_NOFILE, p), EFAULT, "getrlimit buffer");
	EXPECT(syscall(SYS_rt_sigaction, SIGUSR1, p, NULL, 8), EFAULT,
	       "rt_sigaction new action");
	EXPECT(syscall(SYS_rt_sigaction, SIGUSR1, NULL, p, 8), EFAULT,
	       "rt_sigaction old action");
	EXPECT(syscall(SYS_rt_sigprocmask, SIG_BLOCK, p, NULL, 8), EFAULT,
	       "rt_sigprocmask set");
	EXPECT(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, p, 8), EFAULT,
	       "rt_sigprocmask old set");
	EXPECT(syscall(SYS_sigaltstack, p, NULL), EFAULT, "sigaltstack new");
	EXPECT(syscall(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, p), EFAULT,
	       "arch_prctl ARCH_GET_FS");
	EXPECT(syscall(SYS_sched_getaffinity, 0, 8, p), EFAULT,
	       "sched_getaffinity mask");
	EXPECT(syscall(SYS_ioctl, fd, FIONREAD, p), EFAULT,
	       "ioctl FIONREAD result on a file");

	/* Wild pointers with a zero length are not dereferenced (Linux). */
	ok(syscall(SYS_pread64, fd, BAD_PTR, 0, 0) == 0, "pread64 of 0 bytes into page 0 is fine");
	ok(syscall(SYS_getrandom, BAD_PTR, 0, 0) == 0, "getrandom of 0 bytes is fine");

	close(dfd);
	close(fd);
	unlink(path);
	return done_testing();
}

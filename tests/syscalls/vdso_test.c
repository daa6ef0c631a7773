/* The vDSO: AT_SYSINFO_EHDR, the time calls it answers (clock_gettime, gettimeofday,
 * time, clock_getres) agreeing with the real syscalls, the calls it does not answer
 * (CPU-time clocks, bad clock ids) falling back to them, fork and execve keeping it,
 * and /proc/self/maps listing it. vdso(7), arch/x86/entry/vdso/, lib/vdso/gettimeofday.c.
 *
 *   vdso_test            the TAP test
 *   vdso_test loop N     N clock_gettime(CLOCK_MONOTONIC) calls, then exit 0
 *                        (tests/integration/test_vdso.sh counts their traps)
 *   vdso_test exec       what the re-executed copy runs (exit 0 when all is well) */
#include "tap.h"

#include <elf.h>
#include <sched.h>
#include <sys/auxv.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#define MS 1000000LL

static long long ns(const struct timespec *t) { return t->tv_sec * 1000000000LL + t->tv_nsec; }

static long long sys_now(clockid_t c)
{
	struct timespec t = { 0, 0 };
	if (syscall(SYS_clock_gettime, c, &t))
		return -1;
	return ns(&t);
}

static long long vdso_now(clockid_t c)
{
	struct timespec t = { 0, 0 };
	if (clock_gettime(c, &t))
		return -1;
	return ns(&t);
}

/* The vDSO the kernel gave us: a 64-bit ELF shared object. */
static int vdso_ok(void)
{
	const Elf64_Ehdr *e = (const Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR);
	return e && memcmp(e->e_ident, ELFMAG, SELFMAG) == 0 &&
	       e->e_ident[EI_CLASS] == ELFCLASS64 && e->e_type == ET_DYN;
}

/* syscall, vDSO, syscall: the vDSO's answer lies between the two (slack: for the
 * settable clocks, which a host NTP step may move). */
static int agrees(clockid_t c, long long slack)
{
	long long a = sys_now(c), b = vdso_now(c), d = sys_now(c);
	return a > 0 && b > 0 && d > 0 && a <= b + slack && b <= d + slack;
}

static int exec_child(void)
{
	return vdso_ok() && agrees(CLOCK_MONOTONIC, 0) && agrees(CLOCK_REALTIME, 10 * MS) ? 0 : 1;
}

static void test_auxv(void)
{
	unsigned long base = getauxval(AT_SYSINFO_EHDR);
	ok(base != 0, "AT_SYSINFO_EHDR is set (%#lx)", base);
	ok(base % 4096 == 0, "the vDSO is page aligned");
	ok(vdso_ok(), "AT_SYSINFO_EHDR points at a 64-bit ELF shared object");
}

static void test_clocks(void)
{
	static const struct { clockid_t id; const char *name; long long slack; } clocks[] = {
		{ CLOCK_MONOTONIC, "MONOTONIC", 0 },
		{ CLOCK_REALTIME, "REALTIME", 10 * MS },
		{ CLOCK_BOOTTIME, "BOOTTIME", 0 },
		{ CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW", 0 },
		{ CLOCK_MONOTONIC_COARSE, "MONOTONIC_COARSE", 0 },
		{ CLOCK_REALTIME_COARSE, "REALTIME_COARSE", 10 * MS },
		{ CLOCK_TAI, "TAI", 10 * MS },
	};
	for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
		struct timespec r1 = { -1, -1 }, r2 = { -2, -2 };
		ok(agrees(clocks[i].id, clocks[i].slack),
		   "clock_gettime(%s): libc (vDSO) between two syscalls", clocks[i].name);
		clock_getres(clocks[i].id, &r1);
		syscall(SYS_clock_getres, clocks[i].id, &r2);
		ok(r1.tv_sec == r2.tv_sec && r1.tv_nsec == r2.tv_nsec,
		   "clock_getres(%s) agrees with the syscall (%ld ns)", clocks[i].name,
		   (long)r1.tv_nsec);
	}
	/* TAI - REALTIME is the host's TAI offset either way. */
	long long d1 = vdso_now(CLOCK_TAI) - vdso_now(CLOCK_REALTIME);
	long long d2 = sys_now(CLOCK_TAI) - sys_now(CLOCK_REALTIME);
	ok(llabs(d1 - d2) < 10 * MS, "TAI - REALTIME agrees (%lld vs %lld s)", d1 / 1000000000LL,
	   d2 / 1000000000LL);
}

static void test_tod(void)
{
	struct timeval a, b, c;
	syscall(SYS_gettimeofday, &a, NULL);
	int r = gettimeofday(&b, NULL);
	syscall(SYS_gettimeofday, &c, NULL);
	long long ua = a.tv_sec * 1000000LL + a.tv_usec, ub = b.tv_sec * 1000000LL + b.tv_usec,
		  uc = c.tv_sec * 1000000LL + c.tv_usec;
	ok(r == 0 && ua <= ub + 10000 && ub <= uc + 10000,
	   "gettimeofday: libc (vDSO) between two syscalls");
	ok(b.tv_usec >= 0 && b.tv_usec < 1000000, "tv_usec in range");

	long t1 = syscall(SYS_time, NULL);
	time_t t2 = time(NULL);
	long t3 = syscall(SYS_time, NULL);
	ok(t1 <= t2 && t2 <= t3, "time: libc (vDSO) between two syscalls (%ld)", (long)t2);
	time_t tt = 0;
	ok(time(&tt) == tt && tt >= t1, "time(&t) stores what it returns");
}

static void test_monotonic(void)
{
	long long prev = vdso_now(CLOCK_MONOTONIC), first = prev;
	int mono = 1;
	for (int i = 0; i < 100000; i++) {
		long long t = vdso_now(CLOCK_MONOTONIC);
		mono &= t >= prev;
		prev = t;
	}
	ok(mono, "CLOCK_MONOTONIC never goes backwards (100000 libc reads)");
	ok(prev > first, "CLOCK_MONOTONIC advances");
	long long s = sys_now(CLOCK_MONOTONIC);
	ok(s >= prev, "a syscall after them is not behind them");
}

static void burn(void)
{
	volatile unsigned long x = 0;
	for (unsigned long i = 0; i < 20000000UL; i++)
		x += i;
}

/* Clocks the vDSO does not serve: it makes the syscall itself, from its own code. */
static void test_fallback(void)
{
	struct timespec a, b, t;
	ok(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a) == 0, "clock_gettime(PROCESS_CPUTIME_ID)");
	burn();
	int r = clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	ok(r == 0 && ns(&b) > ns(&a), "PROCESS_CPUTIME_ID advances with work (%lld ns)",
	   ns(&b) - ns(&a));
	ok(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a) == 0, "clock_gettime(THREAD_CPUTIME_ID)");
	burn();
	ok(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b) == 0 && ns(&b) > ns(&a),
	   "THREAD_CPUTIME_ID advances with work");
	/* A pid's CPU clock (MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED),
	 * include/linux/posix-timers.h): whatever the syscall answers, libc answers. */
	clockid_t cid = (clockid_t)((~(unsigned)getpid() << 3) | 2);
	errno = 0;
	int r1 = clock_gettime(cid, &t), e1 = errno;
	errno = 0;
	int r2 = (int)syscall(SYS_clock_gettime, cid, &t), e2 = errno;
	ok(r1 == r2 && e1 == e2, "clock_gettime(pid CPU clock): libc = syscall (%d/%d, errno %d/%d)",
	   r1, r2, e1, e2);
	ok(clock_getres(CLOCK_PROCESS_CPUTIME_ID, &t) == 0 && t.tv_sec == 0 && t.tv_nsec == 1,
	   "clock_getres(PROCESS_CPUTIME_ID) is 1 ns");
	errno = 0;
	r = clock_gettime((clockid_t)100, &t);
	ok(r == -1 && errno == EINVAL, "clock_gettime(100) -> EINVAL (errno %d)", errno);
	errno = 0;
	ok(clock_getres((clockid_t)100, &t) == -1 && errno == EINVAL, "clock_getres(100) -> EINVAL");
}

static void test_fork(void)
{
	pid_t p = fork();
	if (p == 0)
		_exit(vdso_ok() && agrees(CLOCK_MONOTONIC, 0) &&
				      agrees(CLOCK_REALTIME, 10 * MS) &&
				      getauxval(AT_SYSINFO_EHDR) != 0 ? 0 : 1);
	int st = -1;
	ok(p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "a fork()ed child has a working vDSO");
}

static void test_exec(const char *argv0)
{
	pid_t p = fork();
	if (p == 0) {
		char *args[] = { (char *)argv0, (char *)"exec", NULL };
		execv("/proc/self/exe", args);
		execv(argv0, args);
		_exit(127);
	}
	int st = -1;
	pid_t w = p > 0 ? waitpid(p, &st, 0) : -1;
	ok(w == p && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "an execve()d program has a working vDSO (status %#x)", st);
}

static void test_maps(void)
{
	char buf[65536];
	int fd = open("/proc/self/maps", O_RDONLY);
	ssize_t n = 0, r;
	while (fd >= 0 && n < (ssize_t)sizeof(buf) - 1 &&
	       (r = read(fd, buf + n, sizeof(buf) - 1 - (size_t)n)) > 0)
		n += r;
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	char *l = strstr(buf, "[vdso]");
	while (l && l > buf && l[-1] != '\n')
		l--;
	unsigned long lo = 0, hi = 0;
	char perms[5] = "";
	ok(l && sscanf(l, "%lx-%lx %4s", &lo, &hi, perms) == 3, "/proc/self/maps lists [vdso]");
	ok(lo == getauxval(AT_SYSINFO_EHDR) && hi > lo, "... at AT_SYSINFO_EHDR (%#lx-%#lx)", lo,
	   hi);
	ok(strcmp(perms, "r-xp") == 0, "... r-xp (%s)", perms);
	ok(strstr(buf, "[vvar]") != NULL, "/proc/self/maps lists [vvar]");
}

static void test_getcpu(void)
{
	int cpu = sched_getcpu();
	long n = sysconf(_SC_NPROCESSORS_CONF);
	ok(cpu >= 0 && cpu < (n > 0 ? n : 1024), "sched_getcpu() = %d (of %ld)", cpu, n);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exec") == 0)
		return exec_child();
	if (argc > 2 && strcmp(argv[1], "loop") == 0) {
		struct timespec t;
		long n = atol(argv[2]);
		for (long i = 0; i < n; i++)
			clock_gettime(CLOCK_MONOTONIC, &t);
		return 0;
	}
	test_auxv();
	test_clocks();
	test_tod();
	test_monotonic();
	test_fallback();
	test_fork();
	test_exec(argv[0]);
	test_maps();
	test_getcpu();
	return done_testing();
}

/* clock_gettime/clock_getres/clock_nanosleep/nanosleep/gettimeofday/time.
 * clock_gettime(2), nanosleep(2), clock_nanosleep(2), kernel/time/posix-timers.c.
 * The vDSO may be absent in the sandbox; syscall(2) is used so the sentry is tested. */
#include "tap.h"

#include <pthread.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static long long ns(const struct timespec *t) { return t->tv_sec * 1000000000LL + t->tv_nsec; }

static long long now(clockid_t c)
{
	struct timespec t;
	syscall(SYS_clock_gettime, c, &t);
	return ns(&t);
}

static void test_gettime(void)
{
	struct timespec a, b;
	is_long(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &a), 0, "clock_gettime MONOTONIC");
	ok(a.tv_nsec >= 0 && a.tv_nsec < 1000000000L, "tv_nsec in range");
	int mono = 1;
	long long prev = ns(&a);
	for (int i = 0; i < 1000; i++) {
		long long t = now(CLOCK_MONOTONIC);
		mono &= t >= prev;
		prev = t;
	}
	ok(mono, "CLOCK_MONOTONIC never goes backwards (1000 reads)");
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &b);
	ok(ns(&b) > ns(&a), "CLOCK_MONOTONIC advances");

	struct timespec rt;
	is_long(syscall(SYS_clock_gettime, CLOCK_REALTIME, &rt), 0, "clock_gettime REALTIME");
	long t = syscall(SYS_time, NULL);
	ok(t >= rt.tv_sec && t - rt.tv_sec <= 2, "time() close to CLOCK_REALTIME (%ld vs %ld)", t,
	   (long)rt.tv_sec);
	ok(rt.tv_sec > 1600000000, "REALTIME is after 2020");
	time_t tt = 0;
	long t2 = syscall(SYS_time, &tt);
	is_long(tt, t2, "time(&t) stores the result");
	is_errno(syscall(SYS_time, BAD_PTR), EFAULT, "time((void*)1) -> EFAULT");

	struct timeval tv;
	struct timezone tz;
	is_long(syscall(SYS_gettimeofday, &tv, NULL), 0, "gettimeofday");
	ok(tv.tv_usec >= 0 && tv.tv_usec < 1000000 && labs(tv.tv_sec - rt.tv_sec) <= 2,
	   "gettimeofday close to REALTIME");
	is_long(syscall(SYS_gettimeofday, NULL, &tz), 0, "gettimeofday(NULL, &tz)");
	is_long(syscall(SYS_gettimeofday, NULL, NULL), 0, "gettimeofday(NULL, NULL)");
	is_errno(syscall(SYS_gettimeofday, BAD_PTR, NULL), EFAULT, "gettimeofday (void*)1 -> EFAULT");

	clockid_t clocks[] = { CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE,
			       CLOCK_BOOTTIME, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID };
	const char *names[] = { "MONOTONIC_RAW", "REALTIME_COARSE", "MONOTONIC_COARSE", "BOOTTIME",
				"PROCESS_CPUTIME_ID", "THREAD_CPUTIME_ID" };
	for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
		struct timespec x = { -1, -1 };
		long r = syscall(SYS_clock_gettime, clocks[i], &x);
		ok(r == 0 && x.tv_sec >= 0 && x.tv_nsec >= 0 && x.tv_nsec < 1000000000L,
		   "clock_gettime %s", names[i]);
	}
	long long b1 = now(CLOCK_BOOTTIME), m1 = now(CLOCK_MONOTONIC);
	ok(b1 >= m1 - 1000000, "BOOTTIME >= MONOTONIC");
	long long c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	volatile unsigned long spin = 0;
	long long end = now(CLOCK_MONOTONIC) + 20000000LL;
	while (now(CLOCK_MONOTONIC) < end)
		spin++;
	ok(now(CLOCK_PROCESS_CPUTIME_ID) > c0, "CPU-time clock advances while spinning");

	is_errno(syscall(SYS_clock_gettime, 12345, &a), EINVAL, "clock_gettime bad clock -> EINVAL");
	is_errno(syscall(SYS_clock_gettime, -1, &a), EINVAL, "clock_gettime clock -1 -> EINVAL");
	is_errno(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, BAD_PTR), EFAULT,
		 "clock_gettime (void*)1 -> EFAULT");
	is_errno(syscall(SYS_clock_gettime, CLOCK_REALTIME, KERNEL_PTR), EFAULT,
		 "clock_gettime kernel address -> EFAULT");
}

static void test_getres(void)
{
	struct timespec r = { 99, 99 };
	is_long(syscall(SYS_clock_getres, CLOCK_MONOTONIC, &r), 0, "clock_getres MONOTONIC");
	ok(r.tv_sec == 0 && r.tv_nsec > 0 && r.tv_nsec <= 1000000, "resolution <= 1ms (%ld ns)", r.tv_nsec);
	is_long(syscall(SYS_clock_getres, CLOCK_REALTIME, &r), 0, "clock_getres REALTIME");
	is_long(syscall(SYS_clock_getres, CLOCK_REALTIME, NULL), 0, "clock_getres NULL res is allowed");
	is_errno(syscall(SYS_clock_getres, 12345, &r), EINVAL, "clock_getres bad clock -> EINVAL");
	is_errno(syscall(SYS_clock_getres, CLOCK_MONOTONIC, BAD_PTR), EFAULT, "clock_getres (void*)1 -> EFAULT");
}

static void test_sleep(void)
{
	struct timespec req = { 0, 10000000 }, rem = { 7, 7 };
	long long t0 = now(CLOCK_MONOTONIC);
	is_long(syscall(SYS_nanosleep, &req, &rem), 0, "nanosleep 10ms");
	long long el = now(CLOCK_MONOTONIC) - t0;
	ok(el >= 10000000LL, "nanosleep slept >= 10ms (%lld us)", el / 1000);
	ok(el < 2000000000LL, "nanosleep did not sleep for ages");

	req.tv_nsec = 0;
	is_long(syscall(SYS_nanosleep, &req, NULL), 0, "nanosleep 0");
	req.tv_nsec = 1000000000L;
	is_errno(syscall(SYS_nanosleep, &req, NULL), EINVAL, "nanosleep tv_nsec 1e9 -> EINVAL");
	req.tv_nsec = -1;
	is_errno(syscall(SYS_nanosleep, &req, NULL), EINVAL, "nanosleep tv_nsec -1 -> EINVAL");
	req.tv_sec = -1;
	req.tv_nsec = 0;
	is_errno(syscall(SYS_nanosleep, &req, NULL), EINVAL, "nanosleep tv_sec -1 -> EINVAL");
	is_errno(syscall(SYS_nanosleep, BAD_PTR, NULL), EFAULT, "nanosleep (void*)1 -> EFAULT");
	is_errno(syscall(SYS_nanosleep, KERNEL_PTR, NULL), EFAULT, "nanosleep kernel address -> EFAULT");

	/* clock_nanosleep returns the error number directly, not -1/errno. */
	req.tv_sec = 0;
	req.tv_nsec = 10000000;
	t0 = now(CLOCK_MONOTONIC);
	is_long(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, NULL), 0, "clock_nanosleep relative 10ms");
	el = now(CLOCK_MONOTONIC) - t0;
	ok(el >= 10000000LL, "relative clock_nanosleep slept >= 10ms (%lld us)", el / 1000);

	struct timespec abs;
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &abs);
	abs.tv_nsec += 20000000;
	if (abs.tv_nsec >= 1000000000L) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000L;
	}
	is_long(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL), 0,
		"clock_nanosleep TIMER_ABSTIME +20ms");
	ok(now(CLOCK_MONOTONIC) >= ns(&abs), "woke at or after the absolute deadline");
	struct timespec past = { 1, 0 };
	t0 = now(CLOCK_MONOTONIC);
	is_long(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL), 0,
		"TIMER_ABSTIME in the past returns at once");
	ok(now(CLOCK_MONOTONIC) - t0 < 500000000LL, "... quickly");
	struct timespec rabs;
	syscall(SYS_clock_gettime, CLOCK_REALTIME, &rabs);
	rabs.tv_nsec += 5000000;
	if (rabs.tv_nsec >= 1000000000L) {
		rabs.tv_sec++;
		rabs.tv_nsec -= 1000000000L;
	}
	is_long(syscall(SYS_clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, &rabs, NULL), 0,
		"clock_nanosleep REALTIME TIMER_ABSTIME");

	/* Raw syscall: -1/errno from the glibc syscall() wrapper. */
	req.tv_nsec = 1000000000L;
	is_errno(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, NULL), EINVAL,
		 "clock_nanosleep tv_nsec 1e9 -> EINVAL");
	req.tv_nsec = 1000;
	is_errno(syscall(SYS_clock_nanosleep, 12345, 0, &req, NULL), EINVAL, "clock_nanosleep bad clock -> EINVAL");
	/* The man page says EINVAL; the kernel (posix-timers.c: no nsleep op) says EOPNOTSUPP. */
	is_errno(syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL), EOPNOTSUPP,
		 "clock_nanosleep THREAD_CPUTIME -> EOPNOTSUPP");
	is_errno(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, BAD_PTR, NULL), EFAULT,
		 "clock_nanosleep (void*)1 -> EFAULT");
	/* glibc's wrapper returns the error as the value. */
	req.tv_nsec = -5;
	is_long(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL), EINVAL, "libc clock_nanosleep returns EINVAL");
}

/* CPU-time clock ids (include/linux/posix-timers_types.h): ~pid << 3, bit 2
 * per-thread, bits 0-1 PROF/VIRT/SCHED; kernel/time/posix-cpu-timers.c
 * pid_for_clock decides EINVAL. */
static clockid_t cpu_clock(pid_t pid, int thread, int which)
{
	return (clockid_t)((~(unsigned)pid << 3) | (thread ? 4 : 0) | (unsigned)which);
}

static void spin_ms(int ms)
{
	long long end = now(CLOCK_THREAD_CPUTIME_ID) + ms * 1000000LL;
	while (now(CLOCK_THREAD_CPUTIME_ID) < end)
		;
}

static void test_cpuclocks(void)
{
	struct timespec ts, res;
	clockid_t cid;
	int go[2], ready[2];
	char c;

	spin_ms(5);
	is_long(clock_getcpuclockid(getpid(), &cid), 0, "clock_getcpuclockid(getpid())");
	is_long(syscall(SYS_clock_gettime, cid, &ts), 0, "its clock reads");
	ok(ns(&ts) > 0, "and is past 0 (%lld ns)", ns(&ts));
	is_long(syscall(SYS_clock_gettime, cpu_clock(0, 0, 2), &ts), 0,
		"pid 0 process SCHED clock: the caller's");
	is_long(syscall(SYS_clock_gettime, cpu_clock(0, 1, 2), &ts), 0, "pid 0 thread clock");
	is_long(syscall(SYS_clock_gettime, cpu_clock(getpid(), 0, 0), &ts), 0, "PROF clock");
	is_long(syscall(SYS_clock_gettime, cpu_clock(getpid(), 0, 1), &ts), 0, "VIRT clock");
	is_errno(syscall(SYS_clock_gettime, cpu_clock(getpid(), 0, 3), &ts), EINVAL,
		 "which 3 -> EINVAL");
	is_errno(syscall(SYS_clock_gettime, cpu_clock(999999, 0, 2), &ts), EINVAL,
		 "no such pid -> EINVAL");
	is_errno(syscall(SYS_clock_gettime, cpu_clock(getpid(), 0, 2), BAD_PTR), EFAULT,
		 "CPU clock to (void*)1 -> EFAULT");
	is_long(syscall(SYS_clock_getres, cpu_clock(getpid(), 0, 2), &res), 0,
		"clock_getres of a SCHED clock");
	ok(res.tv_sec == 0 && res.tv_nsec == 1, "resolution 1 ns (%ld)", (long)res.tv_nsec);
	is_errno(syscall(SYS_clock_getres, cpu_clock(999999, 0, 2), &res), EINVAL,
		 "clock_getres, no such pid -> EINVAL");

	pthread_getcpuclockid(pthread_self(), &cid);
	is_long(syscall(SYS_clock_gettime, cid, &ts), 0, "pthread_getcpuclockid(self) reads");

	/* Another process: its process clock reads, its thread clocks do not
	 * (only threads of the caller's group). */
	if (pipe(go) || pipe(ready))
		bail_out("pipe");
	pid_t pid = fork();
	if (pid == 0) {
		spin_ms(60);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	if (read(ready[0], &c, 1) != 1)
		bail_out("child");
	is_long(clock_getcpuclockid(pid, &cid), 0, "clock_getcpuclockid(child)");
	is_long(syscall(SYS_clock_gettime, cid, &ts), 0, "the child's clock reads");
	ok(ns(&ts) >= 30000000LL, "and shows its CPU time (%lld ms >= 30)", ns(&ts) / 1000000);
	is_errno(syscall(SYS_clock_gettime, cpu_clock(pid, 1, 2), &ts), EINVAL,
		 "a thread clock of another process -> EINVAL");
	if (write(go[1], "g", 1) != 1)
		bail_out("go");
	int st;
	waitpid(pid, &st, 0);
	is_errno(syscall(SYS_clock_gettime, cpu_clock(pid, 0, 2), &ts), EINVAL,
		 "the reaped child's clock -> EINVAL");
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
}

int main(void)
{
	test_gettime();
	test_getres();
	test_sleep();
	test_cpuclocks();
	return done_testing();
}

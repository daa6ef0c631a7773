/*
 * rusage_test: getrusage(RUSAGE_SELF/CHILDREN/THREAD), wait4 and waitid
 * rusage, times(2): CPU time burnt by the workload shows up as ru_utime,
 * maxrss is reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

static long tv_ms(const struct timeval *tv)
{
	return tv->tv_sec * 1000L + tv->tv_usec / 1000;
}

static long cpu_ms(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Spin in user space until the given CPU clock has advanced by ms. */
static void burn(clockid_t c, long ms)
{
	long start = cpu_ms(c);
	volatile uint64_t x = 1;

	while (cpu_ms(c) - start < ms)
		for (int i = 0; i < 200000; i++)
			x = x * 6364136223846793005ULL + 1;
}

static long thread_ru_ms;

static void *burner(void *arg)
{
	struct rusage ru;

	(void)arg;
	burn(CLOCK_THREAD_CPUTIME_ID, 150);
	getrusage(RUSAGE_THREAD, &ru);
	thread_ru_ms = tv_ms(&ru.ru_utime) + tv_ms(&ru.ru_stime);
	return NULL;
}

/* /proc/self/stat into buf (NUL-terminated): the fields after "(comm) ",
 * or NULL. */
static char *self_stat(char *buf, size_t size)
{
	char *p;
	int fd = open("/proc/self/stat", O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	p = strrchr(buf, ')');
	return p && p[1] ? p + 2 : NULL;
}

/* minflt, cminflt, majflt, cmajflt from /proc/self/stat (fields 10-13). */
static int stat_faults(unsigned long long f[4])
{
	char buf[1024], *p = self_stat(buf, sizeof(buf));

	return p && sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %llu %llu %llu "
				  "%llu", &f[0], &f[1], &f[2], &f[3]) == 4;
}

/* Touch n fresh anonymous pages, one write each (first-touch faults). */
static void touch_pages(size_t n)
{
	char *m = mmap(NULL, n * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return;
	for (size_t i = 0; i < n; i++)
		((volatile char *)m)[i * 4096] = 1;
	munmap(m, n * 4096);
}

/* Page faults: ru_minflt/ru_majflt of the process, a thread, reaped
 * children, and /proc/self/stat's fields (counted per fault served; the
 * sandbox maps up to 16 pages per fault, so fewer than natively). */
static void test_faults(void)
{
	struct rusage a, b, c;
	unsigned long long f[4];
	pid_t pid;
	int st;

	ok_sys(getrusage(RUSAGE_SELF, &a), "faults: getrusage");
	ok(a.ru_minflt > 0, "ru_minflt %ld > 0 (loading the program)",
	   a.ru_minflt);
	touch_pages(256);
	getrusage(RUSAGE_SELF, &b);
	ok(b.ru_minflt > a.ru_minflt && b.ru_majflt >= a.ru_majflt,
	   "touching 256 fresh pages: minflt %ld -> %ld", a.ru_minflt,
	   b.ru_minflt);
	getrusage(RUSAGE_THREAD, &c);
	ok(c.ru_minflt > 0 && c.ru_minflt <= b.ru_minflt + 64,
	   "RUSAGE_THREAD minflt %ld", c.ru_minflt);
	st = stat_faults(f);
	ok(st && f[0] >= (unsigned long long)b.ru_minflt &&
	   f[2] >= (unsigned long long)b.ru_majflt,
	   "/proc/self/stat minflt %llu >= %ld, majflt %llu", f[0],
	   b.ru_minflt, f[2]);
	getrusage(RUSAGE_CHILDREN, &a);
	pid = fork();
	if (pid == 0) {
		touch_pages(256);
		_exit(0);
	}
	memset(&b, 0, sizeof(b));
	is_long(wait4(pid, &st, 0, &b), pid, "faults: wait4");
	ok(b.ru_minflt > 0, "wait4: the child's ru_minflt %ld > 0",
	   b.ru_minflt);
	getrusage(RUSAGE_CHILDREN, &c);
	ok(c.ru_minflt >= a.ru_minflt + b.ru_minflt &&
	   c.ru_majflt >= a.ru_majflt + b.ru_majflt,
	   "RUSAGE_CHILDREN adds them: %ld -> %ld", a.ru_minflt, c.ru_minflt);
	st = stat_faults(f);
	ok(st && f[1] == (unsigned long long)c.ru_minflt &&
	   f[3] == (unsigned long long)c.ru_majflt,
	   "/proc/self/stat cminflt %llu = %ld, cmajflt %llu", f[1],
	   c.ru_minflt, f[3]);
}

int main(void)
{
	struct rusage ru, ru2;
	struct tms tm;
	long hz = sysconf(_SC_CLK_TCK);
	pid_t pid;
	int st;

	is_errno(getrusage(99, &ru), EINVAL, "bad who: EINVAL");
	is_errno(getrusage(RUSAGE_SELF, BAD_PTR), EFAULT, "bad pointer: EFAULT");

	burn(CLOCK_PROCESS_CPUTIME_ID, 200);
	ok_sys(getrusage(RUSAGE_SELF, &ru), "getrusage(RUSAGE_SELF)");
	ok(tv_ms(&ru.ru_utime) >= 150, "RUSAGE_SELF ru_utime %ld ms >= 150",
	   tv_ms(&ru.ru_utime));
	ok(ru.ru_maxrss > 0, "ru_maxrss %ld KiB > 0", ru.ru_maxrss);

	/* A thread's own usage, and the process total includes it. */
	{
		pthread_t th;

		pthread_create(&th, NULL, burner, NULL);
		pthread_join(th, NULL);
		ok(thread_ru_ms >= 120 && thread_ru_ms < tv_ms(&ru.ru_utime) + 150,
		   "RUSAGE_THREAD in the thread: %ld ms", thread_ru_ms);
		getrusage(RUSAGE_SELF, &ru2);
		ok(tv_ms(&ru2.ru_utime) + tv_ms(&ru2.ru_stime) >=
			   tv_ms(&ru.ru_utime) + 120,
		   "RUSAGE_SELF counts the exited thread (%ld -> %ld ms)",
		   tv_ms(&ru.ru_utime), tv_ms(&ru2.ru_utime));
		getrusage(RUSAGE_THREAD, &ru2);
		ok(tv_ms(&ru2.ru_utime) < tv_ms(&ru.ru_utime) + 100,
		   "RUSAGE_THREAD of main excludes it (%ld ms)",
		   tv_ms(&ru2.ru_utime));
	}

	/* Children. */
	ok_sys(getrusage(RUSAGE_CHILDREN, &ru), "getrusage(RUSAGE_CHILDREN)");
	is_long(tv_ms(&ru.ru_utime), 0, "no children yet: 0");
	pid = fork();
	if (pid == 0) {
		burn(CLOCK_PROCESS_CPUTIME_ID, 300);
		_exit(0);
	}
	memset(&ru, 0, sizeof(ru));
	is_long(wait4(pid, &st, 0, &ru), pid, "wait4 with rusage");
	ok(tv_ms(&ru.ru_utime) >= 250, "child's ru_utime %ld ms >= 250",
	   tv_ms(&ru.ru_utime));
	ok(ru.ru_maxrss > 0, "child's ru_maxrss %ld KiB", ru.ru_maxrss);
	getrusage(RUSAGE_CHILDREN, &ru2);
	ok(tv_ms(&ru2.ru_utime) >= 250, "RUSAGE_CHILDREN after reaping: %ld ms",
	   tv_ms(&ru2.ru_utime));
	ok(ru2.ru_maxrss > 0, "RUSAGE_CHILDREN maxrss %ld KiB", ru2.ru_maxrss);
	ok_sys(times(&tm), "times");
	ok(tm.tms_cutime >= 25 * hz / 100, "tms_cutime %ld ticks",
	   (long)tm.tms_cutime);
	ok(tm.tms_utime >= 30 * hz / 100, "tms_utime %ld ticks (self, with the thread)",
	   (long)tm.tms_utime);

	/* /proc/self/stat utime/cutime agree with times(). */
	{
		char buf[1024], *p = self_stat(buf, sizeof(buf));
		unsigned long long f[4] = { 0 };

		/* after ")": state ppid pgrp session tty tpgid flags minflt
		 * cminflt majflt cmajflt utime stime cutime cstime */
		ok(p && sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
				       "%llu %llu %llu %llu", &f[0], &f[1], &f[2],
				&f[3]) == 4, "parse /proc/self/stat");
		times(&tm);
		ok(f[0] + 10 >= (unsigned long long)tm.tms_utime &&
		   f[0] <= (unsigned long long)tm.tms_utime + 10,
		   "stat utime %llu ~ times %ld", f[0], (long)tm.tms_utime);
		ok(f[2] + 10 >= (unsigned long long)tm.tms_cutime &&
		   f[2] <= (unsigned long long)tm.tms_cutime + 10 && f[2] >= 25,
		   "stat cutime %llu ~ times %ld", f[2], (long)tm.tms_cutime);
	}

	/* waitid's fifth argument, and a child that is not waited with
	 * rusage leaves the totals alone until reaped. */
	pid = fork();
	if (pid == 0) {
		burn(CLOCK_PROCESS_CPUTIME_ID, 100);
		_exit(3);
	}
	{
		siginfo_t si;

		memset(&ru, 0, sizeof(ru));
		memset(&si, 0, sizeof(si));
		is_long(syscall(SYS_waitid, P_PID, pid, &si, WEXITED, &ru), 0,
			"waitid with rusage");
		ok(si.si_status == 3 && tv_ms(&ru.ru_utime) >= 70,
		   "waitid rusage utime %ld ms", tv_ms(&ru.ru_utime));
		is_errno(syscall(SYS_waitid, P_ALL, 0, &si, WEXITED, BAD_PTR),
			 ECHILD, "no child: ECHILD before the rusage copy");
	}
	/* Grandchildren count once their parent reaped them. */
	pid = fork();
	if (pid == 0) {
		pid_t g = fork();

		if (g == 0) {
			burn(CLOCK_PROCESS_CPUTIME_ID, 100);
			_exit(0);
		}
		waitpid(g, NULL, 0);
		_exit(0);
	}
	getrusage(RUSAGE_CHILDREN, &ru2);
	wait4(pid, &st, 0, &ru);
	ok(tv_ms(&ru.ru_utime) >= 70, "wait4 rusage includes the grandchild (%ld ms)",
	   tv_ms(&ru.ru_utime));
	test_faults();
	return done_testing();
}

/* Timers: setitimer/getitimer, alarm, POSIX timers, nanosleep interrupted
 * with the remaining time, times/getrusage. setitimer(2), alarm(2),
 * timer_create(2), nanosleep(2), times(2), getrusage(2). */
#include "tap.h"

#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>

static volatile sig_atomic_t alrm, rt_hits;
static volatile int rt_code, rt_value, rt_timerid;

static void h_alrm(int sig) { (void)sig; alrm++; }
static void h_rt(int sig, siginfo_t *si, void *uc)
{
	(void)sig; (void)uc;
	rt_hits++;
	rt_code = si->si_code;
	rt_value = si->si_value.sival_int;
	rt_timerid = si->si_timerid;
}

static void wait_for(volatile sig_atomic_t *v, int n)
{
	for (int i = 0; i < 200 && *v < n; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

static void test_itimer(void)
{
	struct sigaction sa = { 0 };
	sa.sa_handler = h_alrm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);

	struct itimerval it = { { 0, 0 }, { 0, 100000 } }, got;
	is_long(setitimer(ITIMER_REAL, &it, NULL), 0, "setitimer REAL 100 ms");
	is_long(getitimer(ITIMER_REAL, &got), 0, "getitimer");
	ok(got.it_value.tv_sec == 0 && got.it_value.tv_usec > 0 && got.it_value.tv_usec <= 100000,
	   "remaining time within the value");
	alrm = 0;
	wait_for(&alrm, 1);
	is_long(alrm, 1, "SIGALRM delivered once");
	getitimer(ITIMER_REAL, &got);
	ok(got.it_value.tv_sec == 0 && got.it_value.tv_usec == 0, "one-shot timer disarmed");

	struct itimerval per = { { 0, 20000 }, { 0, 20000 } }, off = { { 0, 0 }, { 0, 0 } };
	alrm = 0;
	setitimer(ITIMER_REAL, &per, NULL);
	wait_for(&alrm, 3);
	setitimer(ITIMER_REAL, &off, &got);
	ok(alrm >= 3, "periodic timer fires repeatedly");
	is_long(got.it_interval.tv_usec, 20000, "old interval returned");

	is_errno(setitimer(5, &it, NULL), EINVAL, "bad which -> EINVAL");
	struct itimerval bad = { { 0, 0 }, { 0, 1000000 } };
	is_errno(setitimer(ITIMER_REAL, &bad, NULL), EINVAL, "usec 1000000 -> EINVAL");
	is_errno(getitimer(ITIMER_REAL, BAD_PTR), EFAULT, "getitimer bad pointer -> EFAULT");

	/* alarm returns the seconds left of the previous alarm. */
	is_long(alarm(10), 0, "alarm(10) with none pending returns 0");
	is_long(alarm(0), 10, "alarm(0) returns the 10 s left (rounded)");
	alrm = 0;
	alarm(1);
	wait_for(&alrm, 1);
	is_long(alrm, 1, "alarm(1) delivers SIGALRM");

	/* A CPU-time timer: ITIMER_PROF fires while spinning. */
	static volatile sig_atomic_t prof;
	(void)prof;
	signal(SIGALRM, SIG_DFL);
}

static volatile sig_atomic_t profs;
static void h_prof(int sig) { (void)sig; profs++; }

static void test_prof(void)
{
	signal(SIGPROF, h_prof);
	struct itimerval it = { { 0, 0 }, { 0, 20000 } };
	profs = 0;
	setitimer(ITIMER_PROF, &it, NULL);
	for (volatile unsigned long i = 0; i < 4000000000UL && !profs; i++)
		;
	is_long(profs, 1, "ITIMER_PROF fires after 20 ms of CPU time");
	signal(SIGPROF, SIG_DFL);
}

static void test_posix_timers(void)
{
	struct sigaction sa = { 0 };
	sa.sa_sigaction = h_rt;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN, &sa, NULL);

	struct sigevent ev = { 0 };
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGRTMIN;
	ev.sigev_value.sival_int = 77;
	timer_t tid;
	is_long(syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &tid), 0, "timer_create MONOTONIC");
	struct itimerspec its = { { 0, 0 }, { 0, 50 * 1000 * 1000 } }, cur;
	is_long(syscall(SYS_timer_settime, tid, 0, &its, NULL), 0, "timer_settime 50 ms");
	is_long(syscall(SYS_timer_gettime, tid, &cur), 0, "timer_gettime");
	ok(cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 50000000,
	   "gettime: remaining within the value");
	rt_hits = 0;
	wait_for(&rt_hits, 1);
	is_long(rt_hits, 1, "timer signal delivered");
	is_long(rt_code, SI_TIMER, "si_code SI_TIMER");
	is_long(rt_value, 77, "si_value from sigev_value");
	is_long(syscall(SYS_timer_getoverrun, tid), 0, "no overrun");

	/* Periodic timer while its signal is blocked: overruns count. */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &set, &old);
	struct itimerspec per = { { 0, 10 * 1000 * 1000 }, { 0, 10 * 1000 * 1000 } };
	syscall(SYS_timer_settime, tid, 0, &per, NULL);
	struct timespec w = { 0, 100 * 1000 * 1000 };
	nanosleep(&w, NULL);
	struct itimerspec zero = { { 0, 0 }, { 0, 0 } };
	siginfo_t si;
	struct timespec nowait = { 0, 0 };
	/* Take it while the timer still runs (newer kernels drop a pending
	 * timer signal when the timer is re-armed or disarmed). */
	is_long(syscall(SYS_rt_sigtimedwait, &set, &si, &nowait, 8), SIGRTMIN, "one queued timer signal");
	syscall(SYS_timer_settime, tid, 0, &zero, NULL);
	ok(si.si_overrun >= 3, "si_overrun counts the missed expirations");
	sigprocmask(SIG_SETMASK, &old, NULL);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);

	/* Absolute REALTIME expiry. */
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	now.tv_nsec += 20 * 1000 * 1000;
	if (now.tv_nsec >= 1000000000) { now.tv_sec++; now.tv_nsec -= 1000000000; }
	struct itimerspec abs = { { 0, 0 }, now };
	timer_t t2;
	is_long(syscall(SYS_timer_create, CLOCK_REALTIME, &ev, &t2), 0, "timer_create REALTIME");
	rt_hits = 0;
	is_long(syscall(SYS_timer_settime, t2, TIMER_ABSTIME, &abs, NULL), 0, "TIMER_ABSTIME");
	wait_for(&rt_hits, 1);
	is_long(rt_hits, 1, "absolute timer fired");
	is_long(syscall(SYS_timer_delete, t2), 0, "timer_delete");
	is_errno(syscall(SYS_timer_delete, t2), EINVAL, "deleted id -> EINVAL");
	is_errno(syscall(SYS_timer_gettime, (timer_t)(long)12345, &cur), EINVAL, "unknown id -> EINVAL");
	is_errno(syscall(SYS_timer_create, 99, &ev, &t2), EINVAL, "bad clock -> EINVAL");
	ev.sigev_notify = 99;
	is_errno(syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &t2), EINVAL, "bad sigev_notify -> EINVAL");
	ev.sigev_notify = SIGEV_NONE;
	is_long(syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &t2), 0, "SIGEV_NONE timer");
	its.it_value.tv_sec = 5;
	its.it_value.tv_nsec = 0;
	syscall(SYS_timer_settime, t2, 0, &its, NULL);
	syscall(SYS_timer_gettime, t2, &cur);
	ok(cur.it_value.tv_sec == 4 || cur.it_value.tv_sec == 5, "SIGEV_NONE: gettime counts down");
	syscall(SYS_timer_delete, t2);
	syscall(SYS_timer_delete, tid);
	signal(SIGRTMIN, SIG_DFL);
}

static void test_nanosleep_interrupted(void)
{
	struct sigaction sa = { 0 };
	sa.sa_handler = h_alrm;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { { 0, 0 }, { 0, 100000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	struct timespec req = { 1, 0 }, rem = { 0, 0 };
	is_errno(nanosleep(&req, &rem), EINTR, "nanosleep interrupted: EINTR");
	ok(rem.tv_sec == 0 && rem.tv_nsec > 700000000 && rem.tv_nsec < 950000000,
	   "rem is about 0.9 s");
	setitimer(ITIMER_REAL, &it, NULL);
	req.tv_sec = 1;
	req.tv_nsec = 0;
	is_long(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem), EINTR,
		"clock_nanosleep interrupted returns EINTR");
	ok(rem.tv_sec == 0 && rem.tv_nsec > 700000000, "clock_nanosleep rem");
	signal(SIGALRM, SIG_DFL);
}

static void test_times(void)
{
	struct tms t;
	for (volatile unsigned long i = 0; i < 100000000UL; i++)
		;
	clock_t c = times(&t);
	ok(c != (clock_t)-1, "times() returns ticks");
	ok(t.tms_utime + t.tms_stime > 0, "CPU time accounted after a busy loop");
	is_errno(syscall(SYS_times, BAD_PTR), EFAULT, "times bad pointer -> EFAULT");
	struct rusage ru;
	is_long(getrusage(RUSAGE_SELF, &ru), 0, "getrusage SELF");
	ok(ru.ru_utime.tv_sec > 0 || ru.ru_utime.tv_usec > 0, "user time > 0");
	ok(ru.ru_maxrss > 0, "maxrss > 0");
	is_long(getrusage(RUSAGE_CHILDREN, &ru), 0, "getrusage CHILDREN");
	is_long(getrusage(RUSAGE_THREAD, &ru), 0, "getrusage THREAD");
	is_errno(getrusage(5, &ru), EINVAL, "getrusage bad who -> EINVAL");
	is_errno(getrusage(RUSAGE_SELF, BAD_PTR), EFAULT, "getrusage bad pointer -> EFAULT");
}

int main(void)
{
	test_itimer();
	test_prof();
	test_posix_timers();
	test_nanosleep_interrupted();
	test_times();
	return done_testing();
}

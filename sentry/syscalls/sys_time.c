// SPDX-License-Identifier: GPL-2.0
/*
 * Clocks and sleeps (kernel/time/posix-timers.c, hrtimer.c semantics).
 * Wall and monotonic clocks come from the host; sleeps block only the task's
 * own host thread and return early with EINTR when the sandbox is shutting
 * down (the sentry interrupts the thread with a host signal).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "cvisor/util.h"
#include "../kernel/signal_impl.h"

struct cv_timespec {
	int64_t sec, nsec;
};

/* CPU-time clock ids of a given process or thread (negative ids,
 * include/linux/posix-timers_types.h): ~pid << 3, bit 2 per-thread, bits 0-1
 * which clock (PROF user+system, VIRT user, SCHED run time). */
#define CPUCLOCK_PID(c) ((int32_t) ~((c) >> 3))
#define CPUCLOCK_PERTHREAD(c) (((c) & 4) != 0)
#define CPUCLOCK_WHICH(c) ((c) & 3)
#define CPUCLOCK_VIRT 1
#define CPUCLOCK_MAX 3

/*
 * Read CPU-time clock id (< 0) into *ns, or -EINVAL where Linux's
 * pid_for_clock finds nothing: a bad `which`, no such pid, a thread clock of
 * another thread group, or (!gettime, clock_getres) a process clock named by
 * a thread id that is not a thread group's. Values are the sentry's
 * accounting (procinfo.c): user = the stub thread, system = the sentry
 * thread serving it; SCHED and PROF are their sum.
 */
static int cpu_clock_read(struct task *t, int32_t id, bool gettime, uint64_t *ns)
{
	int32_t pid = CPUCLOCK_PID(id);
	bool thread = CPUCLOCK_PERTHREAD(id);
	struct task *o;
	uint64_t u = 0, s = 0;

	if (CPUCLOCK_WHICH(id) >= CPUCLOCK_MAX)
		return -EINVAL;
	pthread_mutex_lock(&t->k->lock);
	o = pid ? kernel_find_task(t->k, pid) : t;
	if (!o || (thread && o->proc != t->proc) ||
	    (!thread && !gettime && o->tid != o->tgid)) {
		pthread_mutex_unlock(&t->k->lock);
		return -EINVAL;
	}
	if (thread)
		task_cputimes(o, &u, &s);
	else
		task_get(o);
	pthread_mutex_unlock(&t->k->lock);
	if (!thread) {
		uint64_t v[4];

		procinfo_cputimes(o, false, v);
		task_put(o);
		u = v[0];
		s = v[1];
	}
	*ns = CPUCLOCK_WHICH(id) == CPUCLOCK_VIRT ? u : u + s;
	return 0;
}

/* Clocks a workload may name (include/uapi/linux/time.h); negative ids are
 * CPU-time clocks (cpu_clock_read). */
static int clock_valid(int64_t id)
{
	switch (id) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
	case CLOCK_REALTIME_ALARM:
	case CLOCK_BOOTTIME_ALARM:
	case CLOCK_TAI:
		return 1;
	default:
		return 0;
	}
}

SYSCALL_DEFINE(clock_gettime)
{
	struct timespec ts;
	struct cv_timespec out;
	int64_t id = (int32_t)args->a[0];

	if (id < 0) {
		uint64_t ns;
		int r = cpu_clock_read(t, (int32_t)id, true, &ns);

		if (r)
			return r;
		out.sec = (int64_t)(ns / 1000000000ULL);
		out.nsec = (int64_t)(ns % 1000000000ULL);
		return mm_copy_out(t->mm, args->a[1], &out, sizeof(out)) ? -EFAULT : 0;
	}
	if (!clock_valid(id))
		return -EINVAL;
	/* The alarm clocks read like their base clocks. */
	if (id == CLOCK_REALTIME_ALARM)
		id = CLOCK_REALTIME;
	if (id == CLOCK_BOOTTIME_ALARM)
		id = CLOCK_BOOTTIME;
	if (id == CLOCK_PROCESS_CPUTIME_ID || id == CLOCK_THREAD_CPUTIME_ID) {
		/* The workload's CPU time is its stub's, not the sentry's.
		 * One thread per process for now, so both clocks agree. */
		uint64_t ns = 0;

		if (t->ctx && t->k->platform->ops->ctx_cputime)
			t->k->platform->ops->ctx_cputime(t->ctx, &ns);
		ts.tv_sec = (time_t)(ns / 1000000000ULL);
		ts.tv_nsec = (long)(ns % 1000000000ULL);
	} else if (clock_gettime((clockid_t)id, &ts)) {
		return -EINVAL;
	}
	out.sec = ts.tv_sec;
	out.nsec = ts.tv_nsec;
	if (mm_copy_out(t->mm, args->a[1], &out, sizeof(out)))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE(clock_getres)
{
	struct timespec ts;
	struct cv_timespec out;
	int64_t id = (int32_t)args->a[0];
	uint64_t ns;

	if (id < 0) {
		/* posix_cpu_clock_getres: the pid must exist; the answer
		 * does not depend on it (1 ns for SCHED, a tick else): the
		 * host's for the same kind of clock of the sentry itself. */
		int r = cpu_clock_read(t, (int32_t)id, false, &ns);

		if (r)
			return r;
		id = (int32_t)(((uint32_t)id & 7) | ~7u); /* pid 0: the caller */
	} else if (!clock_valid(id)) {
		return -EINVAL;
	}
	if (id == CLOCK_REALTIME_ALARM)
		id = CLOCK_REALTIME;
	if (id == CLOCK_BOOTTIME_ALARM)
		id = CLOCK_BOOTTIME;
	if (clock_getres((clockid_t)id, &ts))
		return -EINVAL;
	if (!args->a[1])
		return 0;
	out.sec = ts.tv_sec;
	out.nsec = ts.tv_nsec;
	if (mm_copy_out(t->mm, args->a[1], &out, sizeof(out)))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE(gettimeofday)
{
	struct timeval tv;
	int64_t out[2];

	gettimeofday(&tv, NULL);
	if (args->a[0]) {
		out[0] = tv.tv_sec;
		out[1] = tv.tv_usec;
		if (mm_copy_out(t->mm, args->a[0], out, sizeof(out)))
			return -EFAULT;
	}
	if (args->a[1]) {
		/* struct timezone: the kernel's sys_tz, zero by default. */
		int32_t tz[2] = { 0, 0 };

		if (mm_copy_out(t->mm, args->a[1], tz, sizeof(tz)))
			return -EFAULT;
	}
	return 0;
}

SYSCALL_DEFINE(time)
{
	int64_t now = (int64_t)time(NULL);

	if (args->a[0] && mm_copy_out(t->mm, args->a[0], &now, sizeof(now)))
		return -EFAULT;
	return now;
}

uint64_t time_clock_ns(int clockid)
{
	struct timespec ts;

	if (clock_gettime((clockid_t)clockid, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int time_block_until(struct task *t, int clockid, uint64_t deadline_ns)
{
	for (;;) {
		uint64_t now = time_clock_ns(clockid), mono;
		struct timespec ts;

		if (now >= deadline_ns)
			return 0;
		/* task_block sleeps on CLOCK_MONOTONIC: convert, and look at
		 * the clock again when it says the time is up. */
		mono = util_now_ns() + (deadline_ns - now);
		ts.tv_sec = (time_t)(mono / 1000000000ULL);
		ts.tv_nsec = (long)(mono % 1000000000ULL);
		if (task_block(t, &ts) == -EINTR)
			return -EINTR;
	}
}

/* hrtimer_nanosleep: an interrupted relative sleep reports the remaining
 * time and restarts through restart_syscall(2) with the same deadline
 * (-ERESTART_RESTARTBLOCK); an absolute one restarts as is
 * (-ERESTARTNOHAND). A handler turns both into EINTR. */
static long sleep_until(struct task *t, int clk, uint64_t deadline, bool abs,
			uint64_t rem_addr)
{
	uint64_t now, rem;

	if (time_block_until(t, clk, deadline) == 0) {
		t->sig.restart.fn = NULL;
		return 0;
	}
	if (abs)
		return -ERESTARTNOHAND;
	now = time_clock_ns(clk);
	rem = deadline > now ? deadline - now : 0;
	if (rem_addr) {
		struct cv_timespec out = { (int64_t)(rem / 1000000000ULL),
					   (int64_t)(rem % 1000000000ULL) };

		if (mm_copy_out(t->mm, rem_addr, &out, sizeof(out)))
			return -EFAULT;
	}
	return -ERESTART_RESTARTBLOCK;
}

static long sleep_restart(struct task *t)
{
	return sleep_until(t, t->sig.restart.clockid, t->sig.restart.deadline_ns,
			   false, t->sig.restart.rmtp);
}

static long do_sleep(struct task *t, clockid_t clk, int flags, uint64_t req_addr,
		     uint64_t rem_addr)
{
	struct cv_timespec req;
	uint64_t deadline, req_ns;
	bool abs = flags & TIMER_ABSTIME;

	if (mm_copy_in(t->mm, &req, req_addr, sizeof(req)))
		return -EFAULT;
	if (req.sec < 0 || req.nsec < 0 || req.nsec >= 1000000000)
		return -EINVAL;
	req_ns = (uint64_t)req.sec > UINT64_MAX / 2000000000ULL ?
			 UINT64_MAX / 2 :
			 (uint64_t)req.sec * 1000000000ULL + (uint64_t)req.nsec;
	deadline = abs ? req_ns : time_clock_ns(clk) + req_ns;
	t->sig.restart.fn = sleep_restart;
	t->sig.restart.clockid = clk;
	t->sig.restart.deadline_ns = deadline;
	t->sig.restart.rmtp = rem_addr;
	return sleep_until(t, clk, deadline, abs, rem_addr);
}

SYSCALL_DEFINE(nanosleep)
{
	return do_sleep(t, CLOCK_MONOTONIC, 0, args->a[0], args->a[1]);
}

/* CPU time: the workload's (its stub's) time as user time, the sentry
 * threads' own time serving it as system time (procinfo.c). */
static uint64_t tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000ULL + (uint64_t)tv->tv_usec * 1000;
}

SYSCALL_DEFINE(times)
{
	uint64_t u, s, hz = (uint64_t)sysconf(_SC_CLK_TCK);
	int64_t tms[4];

	if (!hz)
		hz = 100;
	if (args->a[0]) {
		struct rusage self, ch;

		process_rusage(t, RUSAGE_SELF, &self);
		process_rusage(t, RUSAGE_CHILDREN, &ch);
		u = tv_ns(&self.ru_utime);
		s = tv_ns(&self.ru_stime);
		tms[0] = (int64_t)(u / (1000000000ULL / hz));
		tms[1] = (int64_t)(s / (1000000000ULL / hz));
		tms[2] = (int64_t)(tv_ns(&ch.ru_utime) / (1000000000ULL / hz));
		tms[3] = (int64_t)(tv_ns(&ch.ru_stime) / (1000000000ULL / hz));
		if (mm_copy_out(t->mm, args->a[0], tms, sizeof(tms)))
			return -EFAULT;
	}
	/* Clock ticks since an arbitrary point: the sandbox's boot. */
	return (long)((util_now_ns() - t->k->boot_ns) / (1000000000ULL / hz));
}

SYSCALL_DEFINE(getrusage)
{
	int who = (int)args->a[0];
	struct rusage ru;

	switch (who) {
	case RUSAGE_SELF:
	case RUSAGE_THREAD:
	case RUSAGE_CHILDREN:
		break;
	default:
		return -EINVAL;
	}
	process_rusage(t, who, &ru);
	if (mm_copy_out(t->mm, args->a[1], &ru, sizeof(ru)))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE(clock_nanosleep)
{
	int64_t id = (int32_t)args->a[0];
	int flags = (int)args->a[1];

	switch (id) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_BOOTTIME:
	case CLOCK_TAI:
		break;
	case CLOCK_THREAD_CPUTIME_ID:
		/* What kernel/time/posix-cpu-timers.c returns (the man page
		 * says EINVAL; the kernel decides). */
		return -EOPNOTSUPP;
	case CLOCK_PROCESS_CPUTIME_ID:
		/* CPU-time sleeps need the processes issue's accounting. */
		return -EOPNOTSUPP;
	default:
		return clock_valid(id) ? -EOPNOTSUPP : -EINVAL;
	}
	if (flags & ~TIMER_ABSTIME)
		flags &= TIMER_ABSTIME; /* Linux ignores unknown flag bits */
	return do_sleep(t, (clockid_t)id, flags, args->a[2], args->a[3]);
}

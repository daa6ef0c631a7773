// SPDX-License-Identifier: GPL-2.0
/*
 * Clocks and sleeps (kernel/time/posix-timers.c, hrtimer.c semantics).
 * Wall and monotonic clocks come from the host; sleeps block only the task's
 * own host thread and return early with EINTR when the sandbox is shutting
 * down (the sentry interrupts the thread with a host signal).
 */
#include <errno.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "cvisor/util.h"

struct cv_timespec {
	int64_t sec, nsec;
};

/* Clocks a workload may name (include/uapi/linux/time.h). CPU-time clocks of
 * other processes (negative ids) come with the processes issue. */
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

	if (!clock_valid(id))
		return -EINVAL;
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

static long do_sleep(struct task *t, clockid_t clk, int flags, uint64_t req_addr,
		     uint64_t rem_addr)
{
	struct cv_timespec req;
	struct timespec ts, rem = { 0, 0 };
	int r;

	if (mm_copy_in(t->mm, &req, req_addr, sizeof(req)))
		return -EFAULT;
	if (req.sec < 0 || req.nsec < 0 || req.nsec >= 1000000000)
		return -EINVAL;
	ts.tv_sec = req.sec;
	ts.tv_nsec = req.nsec;
	r = clock_nanosleep(clk, flags, &ts, &rem);
	if (r == 0)
		return 0;
	if (r != EINTR)
		return -r;
	/* Interrupted by the sentry (shutdown or a signal for the task):
	 * report the remaining time for relative sleeps like Linux. */
	if (!(flags & TIMER_ABSTIME) && rem_addr) {
		struct cv_timespec out = { rem.tv_sec, rem.tv_nsec };

		if (mm_copy_out(t->mm, rem_addr, &out, sizeof(out)))
			return -EFAULT;
	}
	return -EINTR;
}

SYSCALL_DEFINE(nanosleep)
{
	return do_sleep(t, CLOCK_MONOTONIC, 0, args->a[0], args->a[1]);
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

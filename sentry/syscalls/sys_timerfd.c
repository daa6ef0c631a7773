// SPDX-License-Identifier: GPL-2.0
/*
 * timerfd_create(2), timerfd_settime, timerfd_gettime (fs/timerfd.c); the
 * timer is vfs/anon/timerfd.c.
 *
 * Locks: none. References: file references are put before returning.
 */
#include <errno.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "../../vfs/vfs_impl.h"

#define NSEC 1000000000LL

/* struct __kernel_itimerspec: four 64-bit fields. */
struct k_itimerspec {
	int64_t interval_sec, interval_nsec, value_sec, value_nsec;
};

static void file_putp(struct file **f)
{
	if (*f)
		vfs_file_put(*f);
}

SYSCALL_DEFINE(timerfd_create)
{
	int clockid = (int)args->a[0];
	int flags = (int)args->a[1];
	uint64_t lim = t->rlimits[RLIMIT_NOFILE].rlim_cur;
	struct file *f;
	int r;

	ipc_set_current(t);
	r = timerfd_create_file(clockid, flags, &f);
	if (r < 0)
		return r;
	r = fdtable_alloc(t->fdt, f, 0, flags & TFD_CLOEXEC,
			  lim > VFS_NR_OPEN ? VFS_NR_OPEN : (int)lim);
	vfs_file_put(f);
	return r;
}

static bool ts_valid(int64_t sec, int64_t nsec)
{
	return sec >= 0 && nsec >= 0 && nsec < NSEC;
}

static void to_k(const struct itimerspec *its, struct k_itimerspec *k)
{
	k->interval_sec = its->it_interval.tv_sec;
	k->interval_nsec = its->it_interval.tv_nsec;
	k->value_sec = its->it_value.tv_sec;
	k->value_nsec = its->it_value.tv_nsec;
}

SYSCALL_DEFINE(timerfd_settime)
{
	int flags = (int)args->a[1];
	struct k_itimerspec kn, ko;
	struct itimerspec nv, old;
	_cleanup_(file_putp) struct file *f = NULL;
	int r;

	ipc_set_current(t);
	if (mm_copy_in(t->mm, &kn, args->a[2], sizeof(kn)))
		return -EFAULT;
	if ((flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) ||
	    !ts_valid(kn.interval_sec, kn.interval_nsec) ||
	    !ts_valid(kn.value_sec, kn.value_nsec))
		return -EINVAL;
	f = fdtable_get(t->fdt, (int)args->a[0]);
	if (!f)
		return -EBADF;
	nv.it_interval.tv_sec = kn.interval_sec;
	nv.it_interval.tv_nsec = kn.interval_nsec;
	nv.it_value.tv_sec = kn.value_sec;
	nv.it_value.tv_nsec = kn.value_nsec;
	r = timerfd_settime_file(f, flags, &nv, &old);
	if (r < 0)
		return r;
	to_k(&old, &ko);
	if (args->a[3] && mm_copy_out(t->mm, args->a[3], &ko, sizeof(ko)))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE(timerfd_gettime)
{
	_cleanup_(file_putp) struct file *f = fdtable_get(t->fdt, (int)args->a[0]);
	struct itimerspec cur;
	struct k_itimerspec k;
	int r;

	if (!f)
		return -EBADF;
	r = timerfd_gettime_file(f, &cur);
	if (r < 0)
		return r;
	to_k(&cur, &k);
	return mm_copy_out(t->mm, args->a[1], &k, sizeof(k)) ? -EFAULT : 0;
}

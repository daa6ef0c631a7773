// SPDX-License-Identifier: GPL-2.0
/*
 * epoll_create(2), epoll_create1, epoll_ctl(2), epoll_wait(2), epoll_pwait,
 * epoll_pwait2 (fs/eventpoll.c). The instance lives in vfs/anon/epoll.c;
 * this file copies arguments and checks them in Linux's order.
 * epoll_wait never restarts: a signal gives EINTR.
 *
 * Locks: none. References: file references are put before returning.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "cvisor/mm.h"
#include "cvisor/signal.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "../../vfs/vfs_impl.h"
#include "uaccess.h"

#define NSEC 1000000000LL
/* EP_MAX_EVENTS: INT_MAX / sizeof(struct epoll_event). */
#define EP_MAX_EVENTS (0x7fffffff / (int)sizeof(struct cv_epoll_event))

static void file_putp(struct file **f)
{
	if (*f)
		vfs_file_put(*f);
}
#define _cleanup_file_ _cleanup_(file_putp)

static long do_epoll_create(struct task *t, unsigned int flags)
{
	_cleanup_file_ struct file *f = NULL;
	uint64_t lim = t->rlimits[RLIMIT_NOFILE].rlim_cur;
	int r;

	ipc_set_current(t);
	if (flags & ~EPOLL_CLOEXEC)
		return -EINVAL;
	r = epoll_create_file(flags, &f);
	if (r < 0)
		return r;
	return fdtable_alloc(t->fdt, f, 0, flags & EPOLL_CLOEXEC,
			     lim > VFS_NR_OPEN ? VFS_NR_OPEN : (int)lim);
}

SYSCALL_DEFINE(epoll_create)
{
	if ((int)args->a[0] <= 0)
		return -EINVAL;
	return do_epoll_create(t, 0);
}

SYSCALL_DEFINE(epoll_create1)
{
	return do_epoll_create(t, (unsigned int)args->a[0]);
}

SYSCALL_DEFINE(epoll_ctl)
{
	int op = (int)args->a[1];
	int fd = (int)args->a[2];
	struct cv_epoll_event ev = { 0, 0 };
	_cleanup_file_ struct file *epf = NULL;
	_cleanup_file_ struct file *tf = NULL;

	ipc_set_current(t);
	if (op != EPOLL_CTL_DEL &&
	    mm_copy_in(t->mm, &ev, args->a[3], sizeof(ev)))
		return -EFAULT;
	epf = fdtable_get(t->fdt, (int)args->a[0]);
	if (!epf)
		return -EBADF;
	tf = fdtable_get(t->fdt, fd);
	if (!tf)
		return -EBADF;
	return epoll_ctl_file(epf, op, fd, tf, ev.events, ev.data);
}

static long do_epoll_wait(struct task *t, int epfd, uint64_t uev, int maxevents,
			  int64_t deadline)
{
	_cleanup_file_ struct file *f = NULL;
	_cleanup_free_ struct cv_epoll_event *buf = NULL;
	int n;

	ipc_set_current(t);
	if (maxevents <= 0 || maxevents > EP_MAX_EVENTS)
		return -EINVAL;
	if (!access_ok(uev, (uint64_t)maxevents * sizeof(*buf)))
		return -EFAULT;
	f = fdtable_get(t->fdt, epfd);
	if (!f)
		return -EBADF;
	if (!file_is_epoll(f))
		return -EINVAL;
	/* A bounded sentry buffer: more than this many are reported by the
	 * next call (level-triggered items stay ready). */
	if (maxevents > 1024)
		maxevents = 1024;
	buf = calloc((size_t)maxevents, sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	n = epoll_wait_file(t, f, buf, maxevents, deadline);
	if (n > 0 && mm_copy_out(t->mm, uev, buf, (size_t)n * sizeof(*buf)))
		return -EFAULT;
	return n;
}

static int64_t ms_deadline(int ms)
{
	if (ms < 0)
		return -1;
	if (ms == 0)
		return 0;
	return (int64_t)util_now_ns() + (int64_t)ms * 1000000;
}

SYSCALL_DEFINE(epoll_wait)
{
	return do_epoll_wait(t, (int)args->a[0], args->a[1], (int)args->a[2],
			     ms_deadline((int)args->a[3]));
}

static long pwait(struct task *t, const struct syscall_args *args,
		  int64_t deadline)
{
	bool masked;
	long r;

	r = poll_set_sigmask(t, args->a[4], args->a[5], &masked);
	if (r < 0)
		return r;
	r = do_epoll_wait(t, (int)args->a[0], args->a[1], (int)args->a[2],
			  deadline);
	poll_restore_sigmask(t, masked, r);
	return r;
}

SYSCALL_DEFINE(epoll_pwait)
{
	return pwait(t, args, ms_deadline((int)args->a[3]));
}

SYSCALL_DEFINE(epoll_pwait2)
{
	int64_t ts[2], deadline = -1;

	if (args->a[3]) {
		if (mm_copy_in(t->mm, ts, args->a[3], sizeof(ts)))
			return -EFAULT;
		if (ts[0] < 0 || ts[1] < 0 || ts[1] >= NSEC)
			return -EINVAL;
		if (!ts[0] && !ts[1])
			deadline = 0;
		else if (ts[0] > INT64_MAX / NSEC / 2)
			deadline = -1;
		else
			deadline = (int64_t)util_now_ns() + ts[0] * NSEC + ts[1];
	}
	return pwait(t, args, deadline);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * poll(2), ppoll(2), select(2), pselect6(2) (fs/select.c).
 *
 * One core for all four: take a reference on each file, poll every file
 * once registering a waiter on the queue its poll op hands to poll_wait(),
 * then sleep in ipc_block() (task_block, or host poll for host fds, see
 * vfs/anon/anon.c) and poll everything again on each wake-up, once more
 * after the timeout, like do_poll()/do_select(). Errors in Linux's order:
 * timeout (EFAULT, EINVAL), sigmask (EINVAL size, EFAULT), nfds (EINVAL),
 * the fd arrays (EFAULT), then EBADF for select.
 *
 * A signal ends the wait with -ERESTARTNOHAND (restarted with the full
 * timeout when no handler runs: Linux restarts poll() with the remaining
 * time through restart_syscall, a small gap). select/pselect6/ppoll write
 * the remaining time back, and a fault there is ignored.
 *
 * The ppoll/pselect6/epoll_pwait mask: poll_set_sigmask() saves the blocked
 * mask in t->sig.saved_mask and installs the new one; poll_restore_sigmask()
 * puts it back, or, when the call was interrupted, leaves that to signal
 * delivery (t->sig.restore_saved_mask), so the handler runs under the
 * temporary mask as in Linux.
 *
 * Locks: none held across the wait. References: all file references are
 * put before returning.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "cvisor/mm.h"
#include "cvisor/signal.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "cvisor/waitq.h"
#include "../../vfs/vfs_impl.h"
/* The blocked-mask setter of the signal syscalls (sigsuspend does the
 * same dance). */
#include "../kernel/signal_impl.h"

#define NSEC 1000000000LL
#define POLLIN_SET (EPOLLRDNORM | EPOLLRDBAND | EPOLLIN | EPOLLHUP | EPOLLERR)
#define POLLOUT_SET (EPOLLWRBAND | EPOLLWRNORM | EPOLLOUT | EPOLLERR)
#define POLLEX_SET (EPOLLPRI)

struct pentry {
	struct task *t;
	struct file *f;		/* NULL: skipped */
	uint32_t key;
	uint32_t revents;
	struct waiter w;
	struct waitq *wq;
};

int poll_set_sigmask(struct task *t, uint64_t umask, uint64_t size,
		     bool *applied)
{
	uint64_t m;

	*applied = false;
	if (!umask)
		return 0;
	if (size != sizeof(uint64_t))
		return -EINVAL;
	if (mm_copy_in(t->mm, &m, umask, sizeof(m)))
		return -EFAULT;
	sig_lock(t);
	t->sig.saved_mask = t->sig.blocked;
	signal_set_blocked_locked(t, m);
	sig_unlock(t);
	*applied = true;
	return 0;
}

void poll_restore_sigmask(struct task *t, bool applied, long ret)
{
	if (!applied)
		return;
	sig_lock(t);
	if (ret == -EINTR || ret == -ERESTARTNOHAND)
		t->sig.restore_saved_mask = true;
	else
		signal_set_blocked_locked(t, t->sig.saved_mask);
	sig_unlock(t);
}

static void pentry_queue(struct poll_table *pt, struct file *f,
			 struct waitq *wq)
{
	struct pentry *e = pt->priv;

	(void)f;
	if (e->wq)
		return;
	waiter_init(&e->w, e->t, ~0ULL);
	e->wq = wq;
	waitq_add(wq, &e->w);
}

/* Poll n entries until one is ready, the deadline (CLOCK_MONOTONIC ns;
 * 0 = no wait; < 0 = none) or a signal. Returns 0 or -ERESTARTNOHAND /
 * -ENOMEM; results in e[i].revents. */
static int poll_core(struct task *t, struct pentry *e, int n,
		     int64_t deadline)
{
	bool first = true, timed_out = deadline == 0;
	int r = 0;

	for (;;) {
		struct ipc_waitset ws;
		bool ready = false;

		ipc_waitset_init(&ws);
		for (int i = 0; i < n; i++) {
			struct poll_table pt;

			if (!e[i].f)
				continue;
			e[i].t = t;
			poll_table_reset(&pt);
			pt.queue = first && !timed_out ? pentry_queue : NULL;
			pt.priv = &e[i];
			pt.key = e[i].key;
			e[i].revents = vfs_poll(e[i].f, &pt) & e[i].key;
			if (e[i].revents)
				ready = true;
			if (!ready && ipc_waitset_note(&ws, &pt, e[i].key) < 0)
				r = -ENOMEM;
		}
		first = false;
		if (ready || timed_out || r) {
			ipc_waitset_free(&ws);
			break;
		}
		r = ipc_block(t, deadline, &ws);
		ipc_waitset_free(&ws);
		if (r == -EINTR) {
			r = -ERESTARTNOHAND;
			break;
		}
		if (r == -ETIMEDOUT)
			timed_out = true;
		r = 0;
	}
	for (int i = 0; i < n; i++)
		if (e[i].wq)
			waitq_remove(e[i].wq, &e[i].w);
	return r;
}

static void pentries_put(struct pentry *e, int n)
{
	for (int i = 0; i < n; i++)
		if (e[i].f)
			vfs_file_put(e[i].f);
}

/* poll_select_set_timeout(): absolute CLOCK_MONOTONIC ns, 0 for a zero
 * timeout; -EINVAL for a negative or denormal value. */
static int set_timeout(int64_t sec, int64_t nsec, int64_t *deadline)
{
	if (sec < 0 || nsec < 0 || nsec >= NSEC)
		return -EINVAL;
	if (!sec && !nsec) {
		*deadline = 0;
		return 0;
	}
	if (sec > (INT64_MAX - (int64_t)util_now_ns()) / NSEC - 1)
		*deadline = -1; /* beyond any wait: forever */
	else
		*deadline = (int64_t)util_now_ns() + sec * NSEC + nsec;
	return 0;
}

/* poll_select_finish(): remaining time back to the workload (timespec or
 * timeval); a fault is ignored (and makes a restart an EINTR). */
static long finish_timeout(struct task *t, uint64_t uaddr, bool timeval,
			   int64_t deadline, long ret)
{
	int64_t rem, v[2];

	if (!uaddr || deadline <= 0)
		return ret;
	rem = deadline - (int64_t)util_now_ns();
	if (rem < 0)
		rem = 0;
	v[0] = rem / NSEC;
	v[1] = timeval ? (rem % NSEC) / 1000 : rem % NSEC;
	if (mm_copy_out(t->mm, uaddr, v, sizeof(v)) && ret == -ERESTARTNOHAND)
		ret = -EINTR;
	return ret;
}

static long do_poll(struct task *t, uint64_t ufds, uint64_t nfds,
		    int64_t deadline)
{
	_cleanup_free_ struct pollfd *fds = NULL;
	_cleanup_free_ struct pentry *e = NULL;
	long count = 0;
	int r;

	if (nfds > t->rlimits[RLIMIT_NOFILE].rlim_cur)
		return -EINVAL;
	fds = calloc(nfds ? nfds : 1, sizeof(*fds));
	e = calloc(nfds ? nfds : 1, sizeof(*e));
	if (!fds || !e)
		return -ENOMEM;
	if (nfds && mm_copy_in(t->mm, fds, ufds, nfds * sizeof(*fds)))
		return -EFAULT;
	for (uint64_t i = 0; i < nfds; i++) {
		if (fds[i].fd < 0)
			continue;
		e[i].f = fdtable_get(t->fdt, fds[i].fd);
		/* do_pollfd(): ERR and HUP are always reported. */
		e[i].key = (uint16_t)fds[i].events | EPOLLERR | EPOLLHUP;
	}
	r = poll_core(t, e, (int)nfds, deadline);
	for (uint64_t i = 0; i < nfds; i++) {
		if (fds[i].fd < 0)
			fds[i].revents = 0;
		else if (!e[i].f)
			fds[i].revents = POLLNVAL;
		else
			fds[i].revents = (short)e[i].revents;
		if (fds[i].revents)
			count++;
	}
	pentries_put(e, (int)nfds);
	if (r < 0 && !(r == -ERESTARTNOHAND && count))
		return r;
	if (nfds && mm_copy_out(t->mm, ufds, fds, nfds * sizeof(*fds)))
		return -EFAULT;
	return count;
}

SYSCALL_DEFINE(poll)
{
	int ms = (int)args->a[2];
	int64_t deadline = -1;

	ipc_set_current(t);
	if (ms >= 0 && set_timeout(ms / 1000, (int64_t)(ms % 1000) * 1000000,
				   &deadline) < 0)
		return -EINVAL;
	return do_poll(t, args->a[0], args->a[1], deadline);
}

SYSCALL_DEFINE(ppoll)
{
	uint64_t utsp = args->a[2];
	int64_t deadline = -1, ts[2];
	bool masked;
	long r;

	ipc_set_current(t);
	if (utsp) {
		if (mm_copy_in(t->mm, ts, utsp, sizeof(ts)))
			return -EFAULT;
		if (set_timeout(ts[0], ts[1], &deadline) < 0)
			return -EINVAL;
	}
	r = poll_set_sigmask(t, args->a[3], args->a[4], &masked);
	if (r < 0)
		return r;
	r = do_poll(t, args->a[0], args->a[1], deadline);
	poll_restore_sigmask(t, masked, r);
	return finish_timeout(t, utsp, false, deadline, r);
}

/* core_sys_select(). */
static long do_select(struct task *t, int64_t n, uint64_t uin, uint64_t uout,
		      uint64_t uex, int64_t deadline)
{
	uint64_t uset[3] = { uin, uout, uex };
	_cleanup_free_ uint64_t *sets = NULL;
	_cleanup_free_ struct pentry *e = NULL;
	uint32_t keys[3] = { POLLIN_SET, POLLOUT_SET, POLLEX_SET };
	size_t words, bytes;
	int max_fds;
	long count = 0;
	int r;

	if (n < 0)
		return -EINVAL;
	pthread_mutex_lock(&t->fdt->lock);
	max_fds = MAX(t->fdt->size, 64);
	pthread_mutex_unlock(&t->fdt->lock);
	if (n > max_fds)
		n = max_fds;
	words = ((size_t)n + 63) / 64;
	bytes = words * 8;
	/* in, out, ex, then the three result sets. */
	sets = calloc(6 * (words ? words : 1), 8);
	e = calloc(n ? (size_t)n : 1, sizeof(*e));
	if (!sets || !e)
		return -ENOMEM;
	for (int k = 0; k < 3; k++)
		if (uset[k] && bytes &&
		    mm_copy_in(t->mm, sets + k * words, uset[k], bytes))
			return -EFAULT;
	/* max_select_fd(): every fd named must be open. */
	for (int64_t fd = 0; fd < n; fd++) {
		uint64_t bit = 1ULL << (fd % 64);
		size_t w = (size_t)fd / 64;
		uint32_t key = 0;

		for (int k = 0; k < 3; k++)
			if (sets[k * words + w] & bit)
				key |= keys[k];
		if (!key)
			continue;
		e[fd].f = fdtable_get(t->fdt, (int)fd);
		if (!e[fd].f) {
			pentries_put(e, (int)n);
			return -EBADF;
		}
		e[fd].key = key;
	}
	r = poll_core(t, e, (int)n, deadline);
	for (int64_t fd = 0; fd < n; fd++) {
		uint64_t bit = 1ULL << (fd % 64);
		size_t w = (size_t)fd / 64;

		if (!e[fd].f)
			continue;
		for (int k = 0; k < 3; k++) {
			if ((sets[k * words + w] & bit) &&
			    (e[fd].revents & keys[k])) {
				sets[(3 + k) * words + w] |= bit;
				count++;
			}
		}
	}
	pentries_put(e, (int)n);
	if (r < 0 && !(r == -ERESTARTNOHAND && count))
		return r;
	for (int k = 0; k < 3; k++)
		if (uset[k] && bytes &&
		    mm_copy_out(t->mm, uset[k], sets + (3 + k) * words, bytes))
			return -EFAULT;
	return count;
}

SYSCALL_DEFINE(select)
{
	uint64_t utv = args->a[4];
	int64_t deadline = -1, tv[2];
	long r;

	ipc_set_current(t);
	if (utv) {
		if (mm_copy_in(t->mm, tv, utv, sizeof(tv)))
			return -EFAULT;
		/* Microseconds carry into seconds (kern_select()). */
		if (set_timeout(tv[0] + tv[1] / 1000000,
				(tv[1] % 1000000) * 1000, &deadline) < 0)
			return -EINVAL;
	}
	r = do_select(t, (int32_t)args->a[0], args->a[1], args->a[2],
		      args->a[3], deadline);
	return finish_timeout(t, utv, true, deadline, r);
}

SYSCALL_DEFINE(pselect6)
{
	uint64_t utsp = args->a[4];
	int64_t deadline = -1, ts[2];
	uint64_t sig[2] = { 0, 0 };
	bool masked = false;
	long r;

	ipc_set_current(t);
	if (utsp) {
		if (mm_copy_in(t->mm, ts, utsp, sizeof(ts)))
			return -EFAULT;
		if (set_timeout(ts[0], ts[1], &deadline) < 0)
			return -EINVAL;
	}
	/* The sixth argument: { const sigset_t *ss; size_t ss_len; }. */
	if (args->a[5] && mm_copy_in(t->mm, sig, args->a[5], sizeof(sig)))
		return -EFAULT;
	r = poll_set_sigmask(t, sig[0], sig[1], &masked);
	if (r < 0)
		return r;
	r = do_select(t, (int32_t)args->a[0], args->a[1], args->a[2],
		      args->a[3], deadline);
	poll_restore_sigmask(t, masked, r);
	return finish_timeout(t, utsp, false, deadline, r);
}

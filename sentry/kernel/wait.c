// SPDX-License-Identifier: GPL-2.0
/*
 * wait4/waitid (kernel/exit.c do_wait).
 *
 * Locks: kernel->lock over the scan of the children (taking a child
 * leader's sighand->lock inside it through signal_wait_stopped/continued);
 * the caller sleeps on its process's child_wait queue with the lock
 * dropped. A reaped child's process and leader are released through
 * kernel->dead_tasks.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "cvisor/signal.h"
#include "cvisor/task.h"
#include "cvisor/util.h"
#include "cvisor/waitq.h"

#pragma weak signal_wait_stopped
#pragma weak signal_wait_continued

#ifndef __WNOTHREAD
#define __WNOTHREAD 0x20000000
#endif
#ifndef __WALL
#define __WALL 0x40000000
#endif
#ifndef __WCLONE
#define __WCLONE 0x80000000
#endif

struct wait_result {
	int pid;
	int status;	/* wait status word */
	int si_code;
	int wstat;	/* si_status */
	uint32_t wuid;
	struct rusage ru;	/* zeroes for stop/continue reports */
};

static bool eligible(const struct process *c, int which, int id, int options)
{
	switch (which) {
	case P_PID:
		if (c->tgid != id)
			return false;
		break;
	case P_PGID:
		if (c->pgid != id)
			return false;
		break;
	default:
		break;
	}
	/* eligible_child(): a "clone" child reports a signal other than
	 * SIGCHLD; __WALL waits for both kinds. */
	if (!(options & __WALL) &&
	    ((c->exit_signal != SIGCHLD) ^ !!(options & __WCLONE)))
		return false;
	return true;
}

static void fill_exit(const struct process *c, struct wait_result *r)
{
	int st = c->exit_status;

	r->pid = c->tgid;
	r->status = st;
	r->wuid = c->leader->cred.ruid;
	process_zombie_rusage(c, &r->ru);
	if (WIFEXITED(st)) {
		r->si_code = CLD_EXITED;
		r->wstat = WEXITSTATUS(st);
	} else {
		r->si_code = WCOREDUMP(st) ? CLD_DUMPED : CLD_KILLED;
		r->wstat = WTERMSIG(st);
	}
}

/* One pass over the children (k->lock held): 1 reported, 0 nothing yet,
 * -ECHILD no eligible child at all. */
static int wait_scan(struct task *t, int which, int id, int options,
		     struct wait_result *r)
{
	struct process *c, *tmp;
	bool any = false;
	int st;

	list_for_each_entry_safe(c, tmp, &t->proc->children, sibling) {
		if (!eligible(c, which, id, options))
			continue;
		any = true;
		if (c->state == PROC_ZOMBIE) {
			if (!(options & WEXITED))
				continue;
			fill_exit(c, r);
			if (!(options & WNOWAIT)) {
				/* wait_task_zombie(): the parent inherits
				 * the child's usage. */
				process_reap_account_locked(t->proc, c);
				process_release_locked(c);
			}
			return 1;
		}
		if (c->state != PROC_RUNNING || !c->leader)
			continue;
		if ((options & WSTOPPED) && signal_wait_stopped &&
		    signal_wait_stopped(c->leader, !(options & WNOWAIT), &st)) {
			r->pid = c->tgid;
			r->status = st;
			r->wuid = c->leader->cred.ruid;
			r->si_code = CLD_STOPPED;
			r->wstat = (st >> 8) & 0xff;
			return 1;
		}
		if ((options & WCONTINUED) && signal_wait_continued &&
		    signal_wait_continued(c->leader, !(options & WNOWAIT), &st)) {
			r->pid = c->tgid;
			r->status = st;
			r->wuid = c->leader->cred.ruid;
			r->si_code = CLD_CONTINUED;
			r->wstat = SIGCONT;
			return 1;
		}
	}
	return any ? 0 : -ECHILD;
}

/* Returns the pid reported, 0 (WNOHANG, nothing yet) or -errno
 * (-ECHILD, -ERESTARTSYS). */
static long do_wait(struct task *t, int which, int id, int options,
		    struct wait_result *r)
{
	struct kernel *k = t->k;
	struct process *p = t->proc;
	struct waiter w;
	long ret;

	waiter_init(&w, t, ~0ULL);
	pthread_mutex_lock(&k->lock);
	waitq_add(&p->child_wait, &w);
	for (;;) {
		int s = wait_scan(t, which, id, options, r);

		if (s) {
			ret = s < 0 ? s : r->pid;
			break;
		}
		if (options & WNOHANG) {
			ret = 0;
			break;
		}
		pthread_mutex_unlock(&k->lock);
		s = task_block(t, NULL);
		pthread_mutex_lock(&k->lock);
		if (s == -EINTR) {
			ret = -ERESTARTSYS;
			break;
		}
	}
	waitq_remove(&p->child_wait, &w);
	pthread_mutex_unlock(&k->lock);
	process_release_flush(k);
	return ret;
}

#define WAIT4_OPTIONS (WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | \
		       __WCLONE | __WALL)

long process_wait4(struct task *t, int pid, int options, int *status,
		   struct rusage *ru)
{
	struct wait_result r = { 0 };
	int which, id;
	long ret;

	if ((unsigned int)options & ~(unsigned int)WAIT4_OPTIONS)
		return -EINVAL;
	/* -INT_MIN would overflow (kernel_wait4). */
	if (pid == (int)0x80000000)
		return -ESRCH;
	if (pid == -1) {
		which = P_ALL;
		id = 0;
	} else if (pid < 0) {
		which = P_PGID;
		id = -pid;
	} else if (pid == 0) {
		which = P_PGID;
		id = process_getpgid(t);
	} else {
		which = P_PID;
		id = pid;
	}
	ret = do_wait(t, which, id, options | WEXITED, &r);
	if (ret > 0) {
		*status = r.status;
		if (ru)
			*ru = r.ru;
	}
	return ret;
}

#define WAITID_OPTIONS (WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | \
			__WNOTHREAD | __WCLONE | __WALL)

long process_waitid(struct task *t, int which, int id, int options,
		    siginfo_t *info, struct rusage *ru)
{
	struct wait_result r = { 0 };
	bool nonblock = false;
	long ret;

	if ((unsigned int)options & ~(unsigned int)WAITID_OPTIONS)
		return -EINVAL;
	if (!(options & (WEXITED | WSTOPPED | WCONTINUED)))
		return -EINVAL;
	switch (which) {
	case P_ALL:
		break;
	case P_PID:
		if (id <= 0)
			return -EINVAL;
		break;
	case P_PGID:
		if (id < 0)
			return -EINVAL;
		if (id == 0)	/* since Linux 5.4: the caller's group */
			id = process_getpgid(t);
		break;
	case P_PIDFD: {
		unsigned int f_flags = 0;
		int tgid;

		if (id < 0)
			return -EINVAL;
		tgid = pidfd_get_tgid(t, id, &f_flags);
		if (tgid < 0)
			return tgid;
		/* A reaped process has no pid any more: 0 matches no child
		 * (ECHILD). PIDFD_NONBLOCK: EAGAIN instead of waiting
		 * (kernel_waitid). */
		which = P_PID;
		id = tgid;
		nonblock = f_flags & O_NONBLOCK;
		break;
	}
	default:
		return -EINVAL;
	}
	ret = do_wait(t, which, id, options | (nonblock ? WNOHANG : 0), &r);
	if (ret == 0 && nonblock && !(options & WNOHANG))
		ret = -EAGAIN;
	if (ru)
		*ru = r.ru;
	memset(info, 0, sizeof(*info));
	if (ret > 0) {
		info->si_signo = SIGCHLD;
		info->si_code = r.si_code;
		info->si_pid = r.pid;
		info->si_uid = r.wuid;
		info->si_status = r.wstat;
		ret = 0;
	}
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * pidfd_open, pidfd_send_signal, pidfd_getfd (kernel/pid.c, kernel/signal.c)
 * and the pidfd helpers of clone (CLONE_PIDFD) and waitid (P_PIDFD). The
 * file itself is vfs/anon/pidfd.c.
 *
 * Gaps: PIDFD_THREAD (thread pidfds, Linux 6.9) and PIDFD_SELF* are not
 * offered (EINVAL / EBADF); CLONE_PIDFD with CLONE_THREAD stays EINVAL as
 * before Linux 6.9.
 *
 * Locks: kernel->lock around task look-ups and signal sends (the signal
 * code is called with it held, as kill(2) does); none held while touching
 * fd tables. References: every file from fdtable_get() is put here; the
 * pidfd file holds its process.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "../kernel/signal_impl.h"
#include "../../vfs/vfs_impl.h"

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif
#define PIDFD_SIGNAL_THREAD 1
#define PIDFD_SIGNAL_THREAD_GROUP 2
#define PIDFD_SIGNAL_PROCESS_GROUP 4
#define CV_CAP_SYS_PTRACE 19

static int fd_limit(struct task *t)
{
	uint64_t lim = t->rlimits[RLIMIT_NOFILE].rlim_cur;

	return lim > VFS_NR_OPEN ? VFS_NR_OPEN : (int)lim;
}

int pidfd_install(struct task *t, struct process *p, uint64_t uaddr)
{
	struct file *f;
	int fd, r;

	r = pidfd_create(p, 0, &f);
	if (r < 0)
		return r;
	fd = fdtable_alloc(t->fdt, f, 0, true, fd_limit(t));
	vfs_file_put(f);
	if (fd < 0 || !uaddr)
		return fd;
	if (mm_copy_out(t->mm, uaddr, &fd, sizeof(fd))) {
		fdtable_close(t->fdt, fd);
		return -EFAULT;
	}
	return fd;
}

/* The process behind pidfd fd, referenced (process_put), or -EBADF. */
static int pidfd_get(struct task *t, int fd, struct process **out,
		     unsigned int *f_flags)
{
	struct file *f = fdtable_get(t->fdt, fd);
	struct process *p;

	if (!f)
		return -EBADF;
	p = pidfd_file_process(f);
	if (p) {
		process_get(p);
		if (f_flags)
			*f_flags = f->flags;
	}
	vfs_file_put(f);
	if (!p)
		return -EBADF;	/* pidfd_pid(): not a pidfd */
	*out = p;
	return 0;
}

/* pidfd_send_signal also takes an fd of a /proc/[pid] directory
 * (tgid_pidfd_to_pid()): the process it names now, -EBADF for any other
 * file, -ESRCH once the process is gone. */
static int proc_dir_process(struct task *t, int fd, struct process **out)
{
	struct file *f = fdtable_get(t->fdt, fd);
	struct task *target;
	int tgid;

	if (!f)
		return -EBADF;
	tgid = procfs_file_tgid(f);
	vfs_file_put(f);
	if (tgid <= 0)
		return -EBADF;
	pthread_mutex_lock(&t->k->lock);
	target = kernel_find_task(t->k, tgid);
	if (!target || target->tgid != tgid || !target->proc) {
		pthread_mutex_unlock(&t->k->lock);
		return -ESRCH;
	}
	*out = target->proc;
	process_get(*out);
	pthread_mutex_unlock(&t->k->lock);
	return 0;
}

int pidfd_get_tgid(struct task *t, int fd, unsigned int *f_flags)
{
	struct process *p;
	int r = pidfd_get(t, fd, &p, f_flags);

	if (r)
		return r;
	r = __atomic_load_n(&p->state, __ATOMIC_SEQ_CST) == PROC_DEAD ? 0 :
									   p->tgid;
	process_put(p);
	return r;
}

SYSCALL_DEFINE(pidfd_open)
{
	int pid = (int)args->a[0];
	unsigned int flags = (unsigned int)args->a[1];
	struct kernel *k = t->k;
	struct process *p;
	struct task *target;
	struct file *f;
	int fd, r;

	if (flags & ~(unsigned int)PIDFD_NONBLOCK)
		return -EINVAL;
	if (pid <= 0)
		return -EINVAL;
	pthread_mutex_lock(&k->lock);
	target = kernel_find_task(k, pid);
	if (!target) {
		pthread_mutex_unlock(&k->lock);
		return -ESRCH;
	}
	/* pidfd_prepare(): only thread-group leaders without PIDFD_THREAD
	 * (ENOENT since Linux 6.9, EINVAL before). */
	if (target->tgid != pid || !target->proc ||
	    target->proc->state == PROC_DEAD) {
		pthread_mutex_unlock(&k->lock);
		return -ENOENT;
	}
	p = target->proc;
	process_get(p);
	pthread_mutex_unlock(&k->lock);
	r = pidfd_create(p, flags, &f);
	process_put(p);
	if (r < 0)
		return r;
	/* The close-on-exec flag is always set (pidfd_open(2)). */
	fd = fdtable_alloc(t->fdt, f, 0, true, fd_limit(t));
	vfs_file_put(f);
	return fd;
}

/* Send to p's group, or its leader thread with PIDFD_SIGNAL_THREAD
 * (k->lock held): 0, -ESRCH once reaped. */
static int send_locked(struct task *t, struct process *p, int sig,
		       const siginfo_t *info, unsigned int flags)
{
	struct task *target;

	if (p->state == PROC_DEAD)
		return -ESRCH;
	if (sig < 0 || sig > CV_NSIG)
		return -EINVAL;
	if (p->state == PROC_ZOMBIE)
		return 0;	/* sent to a zombie: goes nowhere */
	target = kernel_find_task(t->k, p->tgid);
	if (!target || target->proc != p)
		return -ESRCH;
	if (flags & PIDFD_SIGNAL_THREAD)
		return signal_send_task(target, info);
	return signal_send_group(target, info);
}

SYSCALL_DEFINE(pidfd_send_signal)
{
	int pidfd = (int)args->a[0], sig = (int)args->a[1];
	unsigned int flags = (unsigned int)args->a[3];
	const unsigned int all = PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_THREAD_GROUP |
				 PIDFD_SIGNAL_PROCESS_GROUP;
	struct process *p;
	siginfo_t info;
	int r, pgid;

	if (flags & ~all)
		return -EINVAL;
	if (__builtin_popcount(flags) > 1)
		return -EINVAL;
	r = pidfd_get(t, pidfd, &p, NULL);
	if (r == -EBADF)
		r = proc_dir_process(t, pidfd, &p);
	if (r)
		return r;
	if (args->a[2]) {
		if (mm_copy_in(t->mm, &info, args->a[2], sizeof(info))) {
			r = -EFAULT;
			goto out;
		}
		if (info.si_signo != sig) {
			r = -EINVAL;
			goto out;
		}
		/* Only yourself may be sent arbitrary siginfo: the caller
		 * must be the process's own leader thread. */
		if ((t->tid != p->tgid || (flags & PIDFD_SIGNAL_PROCESS_GROUP)) &&
		    (info.si_code >= 0 || info.si_code == SI_TKILL)) {
			r = -EPERM;
			goto out;
		}
	} else {
		/* prepare_kill_siginfo() */
		memset(&info, 0, sizeof(info));
		info.si_signo = sig;
		info.si_code = (flags & PIDFD_SIGNAL_THREAD) ? SI_TKILL : SI_USER;
		info.si_pid = t->tgid;
		info.si_uid = (uid_t)t->cred.ruid;
	}
	if (flags & PIDFD_SIGNAL_PROCESS_GROUP) {
		pthread_mutex_lock(&t->k->lock);
		pgid = p->state == PROC_DEAD ? 0 : p->pgid;
		pthread_mutex_unlock(&t->k->lock);
		if (!pgid) {
			r = -ESRCH;
			goto out;
		}
		if (sig < 0 || sig > CV_NSIG) {
			r = -EINVAL;
			goto out;
		}
		r = signal_send_pgrp(t, pgid, &info);
		goto out;
	}
	pthread_mutex_lock(&t->k->lock);
	r = send_locked(t, p, sig, &info, flags);
	pthread_mutex_unlock(&t->k->lock);
out:
	process_put(p);
	return r;
}

/* ptrace_may_access(PTRACE_MODE_ATTACH_REALCREDS) on the sandbox's
 * credentials: the same process, CAP_SYS_PTRACE, or matching real ids and
 * a dumpable target. */
static bool may_access(struct task *t, struct task *target)
{
	const struct cred *c = &t->cred, *o = &target->cred;

	if (t->tgid == target->tgid)
		return true;
	if (cred_capable(c, CV_CAP_SYS_PTRACE))
		return true;
	if (c->ruid != o->euid || c->ruid != o->suid || c->ruid != o->ruid ||
	    c->rgid != o->egid || c->rgid != o->sgid || c->rgid != o->rgid)
		return false;
	return target->proc && target->proc->dumpable;
}

SYSCALL_DEFINE(pidfd_getfd)
{
	int pidfd = (int)args->a[0], targetfd = (int)args->a[1];
	struct task_refs refs;
	struct process *p;
	struct file *f;
	int r, tgid;

	if (args->a[2])
		return -EINVAL;
	r = pidfd_get(t, pidfd, &p, NULL);
	if (r)
		return r;
	tgid = __atomic_load_n(&p->state, __ATOMIC_SEQ_CST) == PROC_DEAD ? 0 :
									      p->tgid;
	if (!tgid || procinfo_get(t->k, tgid, PROCINFO_FDT, &refs) < 0) {
		process_put(p);
		return -ESRCH;
	}
	r = refs.t->proc != p ? -ESRCH : !may_access(t, refs.t) ? -EPERM : 0;
	process_put(p);
	if (r) {
		procinfo_put(&refs);
		return r;
	}
	/* An exited process has no files any more (fget_task). */
	f = refs.fdt ? fdtable_get(refs.fdt, targetfd) : NULL;
	procinfo_put(&refs);
	if (!f)
		return -EBADF;
	/* receive_fd(file, NULL, O_CLOEXEC) */
	r = fdtable_alloc(t->fdt, f, 0, true, fd_limit(t));
	vfs_file_put(f);
	return r;
}

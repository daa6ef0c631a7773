// SPDX-License-Identifier: GPL-2.0
/*
 * pidfd files (kernel/pid.c, fs/pidfs.c, pidfd_open(2)): a file that names
 * a process. It is readable in the poll sense (EPOLLIN) once the process
 * has exited, and also hung up (EPOLLHUP) once it has been reaped; read and
 * write are EINVAL. The system calls are in sentry/syscalls/sys_pidfd.c.
 *
 * Locks: none of its own; the process state is read atomically (it is
 * written under kernel->lock, which also wakes p->pidfd_wq).
 * References: the file holds a process reference (process_get), so the
 * struct process and its pidfd_wq outlive the file; p->leader must not be
 * used once the process is PROC_DEAD (the leader task is freed at reap).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "cvisor/task.h"
#include "cvisor/waitq.h"
#include "../vfs_impl.h"

static const struct file_ops pidfd_fops;

bool file_is_pidfd(const struct file *f)
{
	return f->ops == &pidfd_fops;
}

struct process *pidfd_file_process(const struct file *f)
{
	return file_is_pidfd(f) ? f->priv : NULL;
}

int pidfd_file_pid(const struct file *f)
{
	struct process *p = pidfd_file_process(f);

	if (!p || __atomic_load_n(&p->state, __ATOMIC_SEQ_CST) == PROC_DEAD)
		return -1;
	return p->tgid;
}

static uint32_t pidfd_poll(struct file *f, struct poll_table *pt)
{
	struct process *p = f->priv;

	poll_wait(f, &p->pidfd_wq, pt);
	switch (__atomic_load_n(&p->state, __ATOMIC_SEQ_CST)) {
	case PROC_DEAD:
		return EPOLLIN | EPOLLRDNORM | EPOLLHUP;
	case PROC_ZOMBIE:
		return EPOLLIN | EPOLLRDNORM;
	case PROC_RUNNING:
		break;
	}
	return 0;
}

static void pidfd_release(struct file *f)
{
	struct process *p = f->priv;

	epoll_release_file(f, &p->pidfd_wq);
	process_put(p);
}

static const struct file_ops pidfd_fops = {
	.llseek = anon_noop_llseek,
	.fstat = anon_fstat,
	.release = pidfd_release,
	.poll = pidfd_poll,
};

int pidfd_create(struct process *p, unsigned int flags, struct file **out)
{
	int r = anon_file_new(&pidfd_fops, p, flags, out);

	if (r < 0)
		return r;
	process_get(p);
	return 0;
}

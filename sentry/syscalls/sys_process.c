// SPDX-License-Identifier: GPL-2.0
/*
 * Identity, exit, thread-area and resource-limit calls. Each handler touches
 * only its own task (no locks); semantics follow kernel/sys.c, kernel/exit.c
 * and arch/x86/kernel/process_64.c.
 */
#include <asm/prctl.h>
#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "cvisor/util.h"

/* arch/x86: TASK_SIZE_MAX for 4-level paging. */
#define CV_TASK_SIZE_MAX 0x7ffffffff000ULL

SYSCALL_DEFINE(exit)
{
	/* This thread only; the process ends with its last thread. */
	task_exit(t, (int)((args->a[0] & 0xff) << 8));
	return 0;
}

SYSCALL_DEFINE(exit_group)
{
	task_group_exit(t, (int)((args->a[0] & 0xff) << 8));
	task_exit(t, (int)((args->a[0] & 0xff) << 8));
	return 0;
}

SYSCALL_DEFINE(getpid) { (void)args; return t->tgid; }
SYSCALL_DEFINE(gettid) { (void)args; return t->tid; }
SYSCALL_DEFINE(getppid) { (void)args; return process_getppid(t); }

/* Find a process by pid (k->lock held): its leader's process, even a
 * zombie's. */
static struct process *find_process(struct kernel *k, int pid)
{
	struct task *l = kernel_find_task(k, pid);

	if (!l || l->proc->tgid != pid || l->proc->state == PROC_DEAD)
		return NULL;
	return l->proc;
}

SYSCALL_DEFINE(getpgid)
{
	int pid = (int)args->a[0];
	struct process *p;
	long r;

	if (pid == 0)
		return process_getpgid(t);
	pthread_mutex_lock(&t->k->lock);
	p = pid > 0 ? find_process(t->k, pid) : NULL;
	r = p ? p->pgid : -ESRCH;
	pthread_mutex_unlock(&t->k->lock);
	return r;
}

SYSCALL_DEFINE(getpgrp)
{
	(void)args;
	return process_getpgid(t);
}

SYSCALL_DEFINE(getsid)
{
	int pid = (int)args->a[0];
	struct process *p;
	long r;

	if (pid == 0)
		return process_getsid(t);
	pthread_mutex_lock(&t->k->lock);
	p = pid > 0 ? find_process(t->k, pid) : NULL;
	r = p ? p->sid : -ESRCH;
	pthread_mutex_unlock(&t->k->lock);
	return r;
}

static void set_ids_locked(struct process *p)
{
	struct task *th;

	list_for_each_entry(th, &p->threads, thread_link) {
		th->pgid = p->pgid;
		th->sid = p->sid;
	}
}

/* kernel/sys.c setsid(): fails if a process group of our number exists
 * (we lead one). */
SYSCALL_DEFINE(setsid)
{
	struct kernel *k = t->k;
	struct process *p = t->proc, *q;
	long r = p->tgid;

	(void)args;
	pthread_mutex_lock(&k->lock);
	list_for_each_entry(q, &k->processes, k_link) {
		if (q->pgid == p->tgid) {
			r = -EPERM;
			break;
		}
	}
	if (r > 0) {
		p->sid = p->pgid = p->tgid;
		set_ids_locked(p);
	}
	pthread_mutex_unlock(&k->lock);
	return r;
}

/* kernel/sys.c setpgid(). */
SYSCALL_DEFINE(setpgid)
{
	struct kernel *k = t->k;
	struct process *self = t->proc, *p, *q;
	int pid = (int)args->a[0], pgid = (int)args->a[1];
	long r = 0;

	if (!pid)
		pid = self->tgid;
	if (!pgid)
		pgid = pid;
	if (pgid < 0)
		return -EINVAL;
	pthread_mutex_lock(&k->lock);
	p = pid > 0 ? find_process(k, pid) : NULL;
	if (!p) {
		r = -ESRCH;
		goto out;
	}
	if (p->parent == self) {
		if (p->sid != self->sid) {
			r = -EPERM;
			goto out;
		}
		if (p->did_exec) {
			r = -EACCES;
			goto out;
		}
	} else if (p != self) {
		r = -ESRCH;
		goto out;
	}
	if (p->sid == p->tgid) {	/* a session leader */
		r = -EPERM;
		goto out;
	}
	if (pgid != pid) {
		bool found = false;

		list_for_each_entry(q, &k->processes, k_link) {
			if (q->pgid == pgid && q->sid == self->sid) {
				found = true;
				break;
			}
		}
		if (!found) {
			r = -EPERM;
			goto out;
		}
	}
	p->pgid = pgid;
	set_ids_locked(p);
out:
	pthread_mutex_unlock(&k->lock);
	return r;
}

SYSCALL_DEFINE(set_tid_address)
{
	t->clear_child_tid = args->a[0];
	return t->tid;
}

SYSCALL_DEFINE(set_robust_list)
{
	/* kernel/futex/syscalls.c: the head must be exactly one
	 * struct robust_list_head (3 words). */
	if (args->a[1] != 24)
		return -EINVAL;
	t->robust_list = args->a[0];
	t->robust_list_len = args->a[1];
	return 0;
}

SYSCALL_DEFINE(arch_prctl)
{
	uint64_t code = args->a[0], addr = args->a[1];
	uint64_t v;

	switch (code) {
	case ARCH_SET_FS:
		if (addr >= CV_TASK_SIZE_MAX)
			return -EPERM;
		t->regs.fs_base = addr;
		return 0;
	case ARCH_SET_GS:
		if (addr >= CV_TASK_SIZE_MAX)
			return -EPERM;
		t->regs.gs_base = addr;
		return 0;
	case ARCH_GET_FS:
		v = t->regs.fs_base;
		return mm_copy_out(t->mm, addr, &v, sizeof(v)) ? -EFAULT : 0;
	case ARCH_GET_GS:
		v = t->regs.gs_base;
		return mm_copy_out(t->mm, addr, &v, sizeof(v)) ? -EFAULT : 0;
	case ARCH_GET_CPUID:
		/* CPUID faulting is not offered: cpuid always executes. */
		return 1;
	case ARCH_SET_CPUID:
		return -ENODEV;
	default:
		return -EINVAL;
	}
}

/* struct rlimit64 as the syscall ABI has it. */
struct cv_rlimit64 {
	uint64_t cur, max;
};

static long do_prlimit(struct task *t, unsigned int res, uint64_t new_addr,
		       uint64_t old_addr)
{
	struct cv_rlimit64 nl, ol;

	if (res >= RLIM_NLIMITS || res >= CV_RLIM_NLIMITS)
		return -EINVAL;
	if (new_addr) {
		if (mm_copy_in(t->mm, &nl, new_addr, sizeof(nl)))
			return -EFAULT;
		if (nl.cur > nl.max)
			return -EINVAL;
		/* Linux: RLIMIT_NOFILE may not exceed fs.nr_open. */
		if (res == RLIMIT_NOFILE && nl.max > 1048576)
			return -EPERM;
	}
	ol.cur = t->rlimits[res].rlim_cur;
	ol.max = t->rlimits[res].rlim_max;
	if (new_addr) {
		/* Raising a hard limit needs CAP_SYS_RESOURCE. */
		if (nl.max > ol.max && !cred_capable(&t->cred, CAP_SYS_RESOURCE))
			return -EPERM;
		struct task *th;

		pthread_mutex_lock(&t->k->lock);
		list_for_each_entry(th, &t->proc->threads, thread_link) {
			th->rlimits[res].rlim_cur = nl.cur;
			th->rlimits[res].rlim_max = nl.max;
		}
		pthread_mutex_unlock(&t->k->lock);
		if (res == RLIMIT_STACK)
			mm_set_stack_rlimit(t->mm, nl.cur);
	}
	if (old_addr && mm_copy_out(t->mm, old_addr, &ol, sizeof(ol)))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE(prlimit64)
{
	int pid = (int)args->a[0];

	if (pid != 0 && pid != t->tgid)
		return -ESRCH;
	return do_prlimit(t, (unsigned int)args->a[1], args->a[2], args->a[3]);
}

SYSCALL_DEFINE(setrlimit)
{
	if (args->a[0] >= RLIM_NLIMITS)
		return -EINVAL;
	return do_prlimit(t, (unsigned int)args->a[0], args->a[1], 0);
}

SYSCALL_DEFINE(getrlimit)
{
	if (args->a[0] >= RLIM_NLIMITS)
		return -EINVAL;
	return do_prlimit(t, (unsigned int)args->a[0], 0, args->a[1]) ;
}

SYSCALL_DEFINE(sched_yield)
{
	(void)t;
	(void)args;
	sched_yield();
	return 0;
}

SYSCALL_DEFINE(sched_getaffinity)
{
	int pid = (int)args->a[0];
	uint64_t len = args->a[1];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	/* kernel/sched/core.c: the user mask must hold nr_cpu_ids bits and be
	 * a multiple of sizeof(long); the call returns the kernel's
	 * cpumask size. */
	size_t ksize = (size_t)((ncpu + 63) / 64) * 8;
	unsigned char mask[128] = { 0 };

	if (pid < 0)
		return -ESRCH;
	if (pid != 0 && pid != t->tid)
		return -ESRCH;
	if ((len * 8) < (uint64_t)ncpu || (len & 7))
		return -EINVAL;
	if (ncpu < 1)
		ncpu = 1;
	if (ksize > sizeof(mask))
		ksize = sizeof(mask);
	for (long i = 0; i < ncpu && i < (long)sizeof(mask) * 8; i++)
		mask[i / 8] |= (unsigned char)(1u << (i % 8));
	if (mm_copy_out(t->mm, args->a[2], mask, MIN(ksize, len)))
		return -EFAULT;
	return (long)MIN(ksize, len);
}

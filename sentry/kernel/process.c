// SPDX-License-Identifier: GPL-2.0
/*
 * Tasks and processes: allocation, PIDs, fork/vfork/clone (kernel/fork.c).
 *
 * Locks: kernel->lock for the task/process lists, PIDs, the process tree and
 * every struct process field; taken before sighand->lock;
 * never held across mm, vfs or platform calls.
 * References: a task has one reference for its host thread and one for its
 * place on kernel->tasks (dropped when it is released: a non-leader thread at
 * exit, a leader when its process is reaped). A process has one reference per
 * member task, one until it is reaped, and one per child process (the child's
 * ->parent pointer).
 * Threads: the parent's thread makes the child's mm (mm_fork drives the
 * parent's address space); the child's host thread creates its own platform
 * context (ctx_new), then runs the task loop.
 */
#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cvisor/log.h"
#include "cvisor/mm.h"
#include "cvisor/signal.h"
#include "cvisor/task.h"
#include "cvisor/util.h"
#include "cvisor/vfs.h"
#include "../../vfs/vfs_impl.h"

/* arch/x86: TASK_SIZE_MAX for 4-level paging. */
#define CV_TASK_SIZE_MAX 0x7ffffffff000ULL
#define TASK_HOST_STACK (1u << 20)

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif
#define CLONE_NS_FLAGS                                                         \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |         \
	 CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

void task_get(struct task *t)
{
	__atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
}

static void task_free(struct task *t)
{
	struct process *p = t->proc;

	if (t->sig.sighand)
		signal_task_free(t);
	task_sched_destroy(t);
	free(t);
	if (p)
		process_put(p);
}

void task_put(struct task *t)
{
	if (t && !__atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL))
		task_free(t);
}

void process_get(struct process *p)
{
	__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
}

void process_put(struct process *p)
{
	if (p && !__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL)) {
		waitq_destroy(&p->child_wait);
		waitq_destroy(&p->pidfd_wq);
		free(p);
	}
}

static struct task *task_alloc(struct kernel *k)
{
	struct task *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->k = k;
	t->refs = 1;
	list_init(&t->k_link);
	list_init(&t->thread_link);
	task_sched_init(t);
	return t;
}

static struct process *process_alloc(void)
{
	struct process *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->refs = 1;	/* until reaped */
	list_init(&p->threads);
	list_init(&p->children);
	list_init(&p->sibling);
	list_init(&p->k_link);
	waitq_init(&p->child_wait);
	waitq_init(&p->pidfd_wq);
	p->dumpable = true;
	return p;
}

static bool pid_in_use(struct kernel *k, int pid)
{
	struct process *p;

	if (kernel_find_task(k, pid))
		return true;
	/* A process group or session keeps its number while it exists. */
	list_for_each_entry(p, &k->processes, k_link)
		if (p->pgid == pid || p->sid == pid)
			return true;
	return false;
}

/* alloc_pid(): the next free number, wrapping at pid_max like Linux (the
 * low numbers stay reserved after a wrap: RESERVED_PIDS 300). */
static int alloc_pid(struct kernel *k)
{
	for (int tries = 0; tries < CV_PID_MAX; tries++) {
		int pid = k->next_pid++;

		if (k->next_pid >= CV_PID_MAX)
			k->next_pid = 300;
		if (!pid_in_use(k, pid))
			return pid;
	}
	return -EAGAIN;
}

int process_create_init(struct kernel *k, struct task **out)
{
	struct task *t = task_alloc(k);
	struct process *p = process_alloc();
	int err;

	if (!t || !p) {
		free(t);
		free(p);
		return -ENOMEM;
	}
	t->refs = 2;	/* the running thread + kernel->tasks */
	cred_init_root(&t->cred);
	memcpy(t->rlimits, k->default_rlimits, sizeof(t->rlimits));
	p->exit_signal = SIGCHLD;
	err = signal_task_init(t, NULL, 0);
	if (err) {
		free(p);
		task_sched_destroy(t);
		free(t);
		return err;
	}
	pthread_mutex_lock(&k->lock);
	t->tid = t->tgid = alloc_pid(k);
	p->tgid = p->pgid = p->sid = t->tid;
	t->pgid = t->sid = t->tid;
	t->ppid = 0;
	p->leader = t;
	t->proc = p;
	process_get(p);
	list_add_tail(&t->thread_link, &p->threads);
	p->nr_threads = 1;
	list_add_tail(&t->k_link, &k->tasks);
	list_add_tail(&p->k_link, &k->processes);
	k->nr_tasks++;
	pthread_mutex_unlock(&k->lock);
	t->host_tid = (pid_t)syscall(SYS_gettid);
	*out = t;
	return 0;
}

void process_release_locked(struct process *p)
{
	struct kernel *k = p->leader->k;
	struct task *l = p->leader;

	if (p->state == PROC_DEAD)
		return;
	p->state = PROC_DEAD;
	list_del(&p->sibling);
	list_del(&p->k_link);
	/* A zombie's leader is still listed (its tid stays taken). */
	list_del(&l->k_link);
	list_add_tail(&l->k_link, &k->dead_tasks);
	if (p->parent) {
		process_put(p->parent);
		p->parent = NULL;
	}
	/* pidfd pollers: the pid is gone (EPOLLHUP). */
	waitq_wake(&p->pidfd_wq, ~0ULL);
	process_put(p);	/* the "until reaped" reference */
}

void process_release_flush(struct kernel *k)
{
	struct list_head dead;
	struct task *t, *tmp;

	list_init(&dead);
	pthread_mutex_lock(&k->lock);
	if (!list_empty(&k->dead_tasks)) {
		dead.next = k->dead_tasks.next;
		dead.prev = k->dead_tasks.prev;
		dead.next->prev = &dead;
		dead.prev->next = &dead;
		list_init(&k->dead_tasks);
	}
	pthread_mutex_unlock(&k->lock);
	list_for_each_entry_safe(t, tmp, &dead, k_link) {
		list_del(&t->k_link);
		task_put(t);
	}
}

int process_getppid(struct task *t)
{
	int r;

	pthread_mutex_lock(&t->k->lock);
	r = t->proc->parent ? t->proc->parent->tgid : 0;
	pthread_mutex_unlock(&t->k->lock);
	return r;
}

int process_getpgid(struct task *t)
{
	int r;

	pthread_mutex_lock(&t->k->lock);
	r = t->proc->pgid;
	pthread_mutex_unlock(&t->k->lock);
	return r;
}

int process_getsid(struct task *t)
{
	int r;

	pthread_mutex_lock(&t->k->lock);
	r = t->proc->sid;
	pthread_mutex_unlock(&t->k->lock);
	return r;
}

/* ---- clone ---- */

struct vfork_done {
	bool done;		/* under kernel->lock */
	struct task *parent;
};

void task_vfork_release_locked(struct task *t)
{
	struct vfork_done *vd = t->vfork_done;

	if (!vd)
		return;
	t->vfork_done = NULL;
	vd->done = true;
	task_wake(vd->parent);
}

struct child_start {
	struct task *child;
	sem_t setup_done;	/* child -> parent: ctx made (err) */
	sem_t go;		/* parent -> child: committed (or abort) */
	int err;
	bool abort;
	bool retry;		/* parent replaced child->mm: ctx_new again */
	bool settid;
	uint64_t child_tid;
};

static void host_thread_done(struct kernel *k)
{
	pthread_mutex_lock(&k->lock);
	k->nr_host_threads--;
	pthread_cond_broadcast(&k->cond);
	pthread_mutex_unlock(&k->lock);
}

static void *task_thread(void *arg)
{
	struct child_start *cs = arg;
	struct task *t = cs->child;
	struct kernel *k = t->k;
	struct platform_ctx *ctx = NULL;
	sigset_t set;

	/* Forwarded signals stay blocked (sandbox.c's signal thread takes
	 * them); the interrupt signal must get through. */
	sigemptyset(&set);
	sigaddset(&set, CV_SIG_INTERRUPT);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	__atomic_store_n(&t->host_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);

	/* The tracer rule: each task thread makes its own context. */
	cs->err = k->platform->ops->ctx_new(mm_platform_as(t->mm), &ctx);
	sem_post(&cs->setup_done);
	sem_wait(&cs->go);
	if (cs->retry) {
		cs->err = k->platform->ops->ctx_new(mm_platform_as(t->mm), &ctx);
		sem_post(&cs->setup_done);
		sem_wait(&cs->go);
	}
	if (cs->abort) {
		/* The parent undoes everything else; cs is its stack. */
		if (ctx)
			k->platform->ops->ctx_release(ctx);
		sem_post(&cs->setup_done);
		host_thread_done(k);
		return NULL;
	}
	pthread_mutex_lock(&k->lock);
	t->ctx = ctx;
	pthread_mutex_unlock(&k->lock);
	if (cs->settid) {
		uint32_t tid = (uint32_t)t->tid;

		/* schedule_tail(): in the child's memory; a fault is
		 * ignored like Linux's put_user there. */
		mm_copy_out(t->mm, cs->child_tid, &tid, sizeof(tid));
	}
	sem_post(&cs->setup_done);	/* cs is gone after this */
	task_run(t);
	task_do_exit(t);
	task_put(t);
	host_thread_done(k);
	return NULL;
}

static int count_user_tasks(struct kernel *k, uint32_t uid)
{
	struct task *t;
	int n = 0;

	list_for_each_entry(t, &k->tasks, k_link)
		if (!t->exited && t->cred.ruid == uid)
			n++;
	return n;
}

/* copy_process() flag checks, in Linux's order. */
static int clone_check_flags(struct task *t, uint64_t flags)
{
	if ((flags & (CLONE_NEWNS | CLONE_FS)) == (CLONE_NEWNS | CLONE_FS))
		return -EINVAL;
	if ((flags & (CLONE_NEWUSER | CLONE_FS)) == (CLONE_NEWUSER | CLONE_FS))
		return -EINVAL;
	if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND))
		return -EINVAL;
	if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
		return -EINVAL;
	/* Init of a PID namespace may not make siblings. */
	if ((flags & CLONE_PARENT) && t->proc->tgid == 1)
		return -EINVAL;
	if ((flags & CLONE_THREAD) && (flags & (CLONE_NEWUSER | CLONE_NEWPID)))
		return -EINVAL;
	if ((flags & CLONE_PIDFD) && (flags & (CLONE_DETACHED | CLONE_THREAD)))
		return -EINVAL;
	/* Namespaces are not offered inside the sandbox. */
	if (flags & CLONE_NS_FLAGS)
		return -EINVAL;
	return 0;
}

static int clone_resources(struct task *t, struct task *c, uint64_t flags)
{
	int err;

	if (flags & CLONE_FS) {
		fs_struct_get_ref(t->fs);
		c->fs = t->fs;
	} else {
		err = fs_struct_copy(t->fs, &c->fs);
		if (err)
			return err;
	}
	if (flags & CLONE_FILES) {
		fdtable_get_ref(t->fdt);
		c->fdt = t->fdt;
	} else {
		err = fdtable_copy(t->fdt, &c->fdt);
		if (err)
			return err;
	}
	if (flags & CLONE_VM) {
		mm_get(t->mm);
		c->mm = t->mm;
	} else {
		err = mm_fork(t->mm, &c->mm);
		if (err)
			return err;
	}
	return 0;
}

static void clone_undo(struct task *c)
{
	if (c->mm)
		mm_put(c->mm);
	if (c->fdt)
		fdtable_put(c->fdt);
	if (c->fs)
		fs_struct_put(c->fs);
	c->mm = NULL;
	c->fdt = NULL;
	c->fs = NULL;
}

/* Link the child into the process tree (k->lock held). */
static void clone_commit_locked(struct task *t, struct task *c,
				struct process *np, const struct clone_params *cp)
{
	struct kernel *k = t->k;
	struct process *p = t->proc;

	if (cp->flags & CLONE_THREAD) {
		c->proc = p;
		c->tgid = p->tgid;
		process_get(p);
		list_add_tail(&c->thread_link, &p->threads);
		p->nr_threads++;
	} else {
		struct process *parent = (cp->flags & CLONE_PARENT) ? p->parent : p;

		np->tgid = c->tid;
		np->leader = c;
		np->pgid = p->pgid;
		np->sid = p->sid;
		np->parent = parent;
		np->has_child_subreaper = p->has_child_subreaper ||
					  p->is_child_subreaper;
		/* CLONE_PARENT: the caller's own exit signal (kernel/fork.c). */
		np->exit_signal = (cp->flags & CLONE_PARENT) ? p->exit_signal
							     : cp->exit_signal;
		np->dumpable = p->dumpable;
		if (parent) {
			process_get(parent);
			list_add_tail(&np->sibling, &parent->children);
		}
		list_add_tail(&np->k_link, &k->processes);
		c->proc = np;
		c->tgid = c->tid;
		process_get(np);
		list_add_tail(&c->thread_link, &np->threads);
		np->nr_threads = 1;
	}
	c->pgid = c->proc->pgid;
	c->sid = c->proc->sid;
	c->ppid = c->proc->parent ? c->proc->parent->tgid : 0;
}

long process_clone(struct task *t, const struct clone_params *cp)
{
	struct kernel *k = t->k;
	uint64_t flags = cp->flags;
	struct child_start cs = { 0 };
	struct vfork_done vd = { .parent = t };
	struct process *np = NULL;
	pthread_attr_t attr;
	pthread_t thr;
	struct task *c;
	int err, tid, pidfd_err = 0;

	err = clone_check_flags(t, flags);
	if (err)
		return err;
	if ((flags & CLONE_SETTLS) && cp->tls >= CV_TASK_SIZE_MAX)
		return -EPERM;

	c = task_alloc(k);
	if (!c)
		return -ENOMEM;
	if (!(flags & CLONE_THREAD)) {
		np = process_alloc();
		if (!np) {
			task_put(c);
			return -ENOMEM;
		}
	}
	c->cred = t->cred;
	memcpy(c->comm, t->comm, sizeof(c->comm));
	c->no_new_privs = t->no_new_privs;
	c->regs = t->regs;
	c->regs.rax = 0;
	if (cp->stack)
		c->regs.rsp = cp->stack;
	if (flags & CLONE_SETTLS)
		c->regs.fs_base = cp->tls;
	if (flags & CLONE_CHILD_CLEARTID)
		c->clear_child_tid = cp->child_tid;
	/* signal_task_init looks at the new task's process-to-be. */
	c->proc = (flags & CLONE_THREAD) ? t->proc : np;
	memcpy(c->rlimits, t->rlimits, sizeof(c->rlimits));

	/* Limits first (copy_process: RLIMIT_NPROC, then threads-max). */
	pthread_mutex_lock(&k->lock);
	if (t->cred.ruid != 0 && !cred_capable(&t->cred, CAP_SYS_RESOURCE) &&
	    !cred_capable(&t->cred, CAP_SYS_ADMIN) &&
	    (uint64_t)count_user_tasks(k, t->cred.ruid) >=
		    t->rlimits[RLIMIT_NPROC].rlim_cur)
		err = -EAGAIN;
	else if (k->nr_tasks >= CV_MAX_TASKS || __atomic_load_n(&k->shutting_down, __ATOMIC_SEQ_CST))
		err = -EAGAIN;
	pthread_mutex_unlock(&k->lock);
	if (err)
		goto fail_early;

	err = clone_resources(t, c, flags);
	if (err)
		goto fail_res;
	err = signal_task_init(c, t, flags);
	if (err)
		goto fail_res;

	pthread_mutex_lock(&k->lock);
	tid = alloc_pid(k);
	if (tid < 0 || k->nr_tasks >= CV_MAX_TASKS) {
		pthread_mutex_unlock(&k->lock);
		err = -EAGAIN;
		goto fail_res;
	}
	c->tid = tid;
	/* Listed at once so the number stays taken; others skip it until
	 * it is committed (c->proc is not linked yet: exited=true hides it
	 * from kick and lookups that check it). */
	c->exited = true;
	list_add_tail(&c->k_link, &k->tasks);
	k->nr_tasks++;
	k->nr_host_threads++;
	pthread_mutex_unlock(&k->lock);
	c->refs = 2;	/* host thread + kernel->tasks */

	cs.child = c;
	cs.settid = flags & CLONE_CHILD_SETTID;
	cs.child_tid = cp->child_tid;
	sem_init(&cs.setup_done, 0, 0);
	sem_init(&cs.go, 0, 0);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, TASK_HOST_STACK);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = -pthread_create(&thr, &attr, task_thread, &cs);
	pthread_attr_destroy(&attr);
	if (err) {
		err = -EAGAIN;
		pthread_mutex_lock(&k->lock);
		k->nr_host_threads--;
		goto fail_listed;
	}
	sem_wait(&cs.setup_done);
	if (cs.err == -EBUSY && (flags & CLONE_VFORK) && !(flags & CLONE_THREAD)) {
		/* The platform has one context per address space: a vfork
		 * child gets a copy-on-write copy instead of the parent's
		 * memory (its writes are not seen by the parent: a gap until
		 * platforms offer several contexts). */
		mm_put(c->mm);
		c->mm = NULL;
		err = mm_fork(t->mm, &c->mm);
		if (err) {
			cs.err = err;
			c->mm = NULL;
			cs.abort = true;
			sem_post(&cs.go);
			sem_wait(&cs.setup_done);
			pthread_mutex_lock(&k->lock);
			goto fail_listed;
		}
		cs.retry = true;
		sem_post(&cs.go);
		sem_wait(&cs.setup_done);
	}
	if (cs.err) {
		log_debug("clone: child context: %s", strerror(-cs.err));
		/* One context per address space until the platform offers
		 * more: threads and CLONE_VM children fail with EAGAIN. */
		err = cs.err == -ENOMEM ? -ENOMEM : -EAGAIN;
		cs.abort = true;
		sem_post(&cs.go);
		sem_wait(&cs.setup_done);	/* the thread is done with cs */
		pthread_mutex_lock(&k->lock);
		goto fail_listed;
	}

	pthread_mutex_lock(&k->lock);
	clone_commit_locked(t, c, np, cp);
	c->exited = false;
	if (flags & CLONE_VFORK) {
		c->vfork_done = &vd;
		task_get(c);
	}
	pthread_mutex_unlock(&k->lock);

	if (flags & CLONE_PARENT_SETTID) {
		uint32_t v = (uint32_t)tid;

		mm_copy_out(t->mm, cp->parent_tid, &v, sizeof(v));
	}
	if (flags & CLONE_PIDFD) {
		/* Installed after the child's fd table was copied, before it
		 * runs (copy_process). The callers checked that the pointer
		 * is writable; a failure here (EMFILE) kills the child, which
		 * Linux avoids by reserving the fd first: a documented gap. */
		pidfd_err = pidfd_install(t, c->proc, cp->pidfd);
		if (pidfd_err > 0)
			pidfd_err = 0;
		if (pidfd_err)
			__atomic_store_n(&c->killed, true, __ATOMIC_SEQ_CST);
	}
	sem_post(&cs.go);
	sem_wait(&cs.setup_done);
	sem_destroy(&cs.setup_done);
	sem_destroy(&cs.go);

	if (flags & CLONE_VFORK) {
		/* wait_for_vfork_done(): only a fatal signal ends the wait
		 * early (killable, freezable). */
		pthread_mutex_lock(&k->lock);
		while (!vd.done) {
			pthread_mutex_unlock(&k->lock);
			int r = task_block_killable(t, NULL);
			pthread_mutex_lock(&k->lock);
			if (r == -EINTR) {
				if (!vd.done)
					c->vfork_done = NULL;
				break;
			}
		}
		pthread_mutex_unlock(&k->lock);
		task_put(c);
	}
	return pidfd_err ? pidfd_err : tid;

fail_listed:
	/* k->lock held */
	list_del(&c->k_link);
	k->nr_tasks--;
	pthread_mutex_unlock(&k->lock);
	c->refs = 1;
	sem_destroy(&cs.setup_done);
	sem_destroy(&cs.go);
fail_res:
	clone_undo(c);
fail_early:
	c->proc = NULL;
	task_put(c);
	if (np) {
		np->refs = 1;
		process_put(np);
	}
	return err;
}

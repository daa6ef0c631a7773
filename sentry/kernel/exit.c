// SPDX-License-Identifier: GPL-2.0
/*
 * Exit (kernel/exit.c): exit, exit_group, zombies, reparenting, SIGCHLD,
 * the end of the sandbox when init's process ends.
 *
 * Locks: kernel->lock for the process tree and exit state; the parent's
 * sighand->lock is taken inside it to read its SIGCHLD disposition. Signals
 * are sent (signal_send_tgid) after kernel->lock is dropped: the signal code
 * takes it itself. Resources (context, mm, fds, fs) are dropped on the
 * task's own host thread without kernel->lock.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cvisor/ipc.h"
#include "cvisor/log.h"
#include "cvisor/mm.h"
#include "cvisor/signal.h"
#include "cvisor/task.h"
#include "cvisor/util.h"
#include "cvisor/vfs.h"

#ifndef SA_NOCLDWAIT
#define SA_NOCLDWAIT 2
#endif

void task_exit(struct task *t, int wait_status)
{
	if (t->exiting)
		return;
	t->exiting = true;
	t->exit_status = wait_status;
}

static void kill_thread_fn(struct task *th, void *arg)
{
	(void)arg;
	if (th->exited)
		return;
	__atomic_store_n(&th->killed, true, __ATOMIC_SEQ_CST);
	task_kick(th);
}

void task_group_exit(struct task *t, int wait_status)
{
	struct kernel *k = t->k;
	struct process *p = t->proc;

	pthread_mutex_lock(&k->lock);
	if (!p->group_exiting) {
		p->group_exit_status = wait_status;
		__atomic_store_n(&p->group_exiting, true, __ATOMIC_SEQ_CST);
	}
	process_for_each_thread(t, kill_thread_fn, NULL);
	pthread_mutex_unlock(&k->lock);
}

/* Pending notifications, sent once kernel->lock is dropped. */
struct notify {
	int tgid;
	siginfo_t info;
};

struct notify_list {
	struct notify *v;
	int n, cap;
};

static void notify_add(struct notify_list *l, int tgid, const siginfo_t *si)
{
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 8;
		struct notify *v = realloc(l->v, (size_t)cap * sizeof(*v));

		if (!v)
			return;	/* out of memory: the signal is lost */
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].tgid = tgid;
	l->v[l->n].info = *si;
	l->n++;
}

static void chld_info(struct process *p, siginfo_t *si, int sig)
{
	int st = p->exit_status;

	memset(si, 0, sizeof(*si));
	si->si_signo = sig;
	si->si_pid = p->tgid;
	si->si_uid = p->leader->cred.ruid;
	if (WIFEXITED(st)) {
		si->si_code = CLD_EXITED;
		si->si_status = WEXITSTATUS(st);
	} else {
		si->si_code = WCOREDUMP(st) ? CLD_DUMPED : CLD_KILLED;
		si->si_status = WTERMSIG(st);
	}
}

/* Parent ignores SIGCHLD (or set SA_NOCLDWAIT): children are reaped at
 * exit (kernel/signal.c do_notify_parent). *send says whether SIGCHLD is
 * still sent (SA_NOCLDWAIT with a handler). */
static bool parent_autoreaps(struct process *parent, bool *send)
{
	struct sighand *sh = parent->leader ? parent->leader->sig.sighand : NULL;
	bool r = false;

	*send = true;
	if (!sh)
		return false;
	pthread_mutex_lock(&sh->lock);
	if (sh->action[SIGCHLD - 1].handler == (uint64_t)(uintptr_t)SIG_IGN) {
		r = true;
		*send = false;
	} else if (sh->action[SIGCHLD - 1].flags & SA_NOCLDWAIT) {
		r = true;
	}
	pthread_mutex_unlock(&sh->lock);
	return r;
}

/* Tell p's parent that p is a zombie (do_notify_parent). k->lock held. */
static void notify_parent_locked(struct process *p, struct notify_list *nl)
{
	struct process *parent = p->parent;
	bool send = true;
	siginfo_t si;

	if (!parent) {
		/* init's own end: nobody to tell; reaped at teardown. */
		p->state = PROC_ZOMBIE;
		return;
	}
	p->state = PROC_ZOMBIE;
	if (p->exit_signal == SIGCHLD && parent_autoreaps(parent, &send)) {
		if (send) {
			chld_info(p, &si, SIGCHLD);
			notify_add(nl, parent->tgid, &si);
		}
		/* Waiters must see the child gone (ECHILD). */
		waitq_wake(&parent->child_wait, ~0ULL);
		process_release_locked(p);
		return;
	}
	if (p->exit_signal > 0) {
		chld_info(p, &si, p->exit_signal);
		notify_add(nl, parent->tgid, &si);
	}
	waitq_wake(&parent->child_wait, ~0ULL);
}

static void pdeath_fn(struct task *th, void *arg)
{
	struct notify_list *nl = arg;
	siginfo_t si;

	if (th->exited || !th->pdeath_signal)
		return;
	memset(&si, 0, sizeof(si));
	si.si_signo = th->pdeath_signal;
	si.si_code = SI_USER;
	/* Sent to the process (Linux: to the thread); good enough while
	 * children are tracked per process. */
	notify_add(nl, th->tgid, &si);
}

/* find_new_reaper(): the nearest living ancestor marked as child
 * subreaper, else init. */
static struct process *find_reaper(struct kernel *k, struct process *p)
{
	struct process *a;

	if (p->has_child_subreaper) {
		for (a = p->parent; a; a = a->parent) {
			if (a->tgid == 1)
				break;
			if (a->is_child_subreaper && a->state == PROC_RUNNING &&
			    !a->group_exiting)
				return a;
		}
	}
	return k->init ? k->init->proc : NULL;
}

/* p's last thread exited: reparent its children and become a zombie. */
static void exit_notify_locked(struct kernel *k, struct process *p,
			       struct notify_list *nl)
{
	struct process *c, *tmp, *reaper = NULL;

	if (p->tgid != 1)
		reaper = find_reaper(k, p);
	if (reaper == p)
		reaper = NULL;
	list_for_each_entry_safe(c, tmp, &p->children, sibling) {
		struct task *ct;

		list_for_each_entry(ct, &c->threads, thread_link)
			pdeath_fn(ct, nl);
		list_del(&c->sibling);
		process_put(p);
		c->parent = reaper;
		if (!reaper)
			continue;	/* init is gone: everything is killed */
		process_get(reaper);
		list_add_tail(&c->sibling, &reaper->children);
		list_for_each_entry(ct, &c->threads, thread_link)
			ct->ppid = reaper->tgid;
		if (c->state == PROC_ZOMBIE) {
			/* The new parent learns of it like of its own. */
			bool send;

			if (c->exit_signal == SIGCHLD &&
			    parent_autoreaps(reaper, &send)) {
				process_release_locked(c);
				continue;
			}
			if (c->exit_signal > 0) {
				siginfo_t si;

				chld_info(c, &si, c->exit_signal);
				notify_add(nl, reaper->tgid, &si);
			}
			waitq_wake(&reaper->child_wait, ~0ULL);
		}
	}
	p->exit_status = p->group_exiting ? p->group_exit_status
					  : p->leader->exit_status;
	notify_parent_locked(p, nl);
	/* do_notify_pidfd(): pidfd pollers see the exit. */
	waitq_wake(&p->pidfd_wq, ~0ULL);
}

static void shutdown_fn(struct task *t, void *arg)
{
	(void)arg;
	if (t->exited)
		return;
	__atomic_store_n(&t->killed, true, __ATOMIC_SEQ_CST);
	task_kick(t);
}

void task_do_exit(struct task *t)
{
	struct kernel *k = t->k;
	struct process *p = t->proc;
	struct notify_list nl = { 0 };
	struct platform_ctx *ctx;
	uint64_t ut, st, rss;
	bool leader;

	/* The last thread of a session leader hangs up its controlling
	 * terminal (disassociate_ctty(1)); before any kernel lock. */
	if (p->nr_threads == 1)
		tty_session_leader_exit(t);

	/* mm_release(): robust futexes, then CLONE_CHILD_CLEARTID. */
	if (t->mm) {
		futex_exit_robust_list(t);
		if (t->clear_child_tid) {
			uint32_t zero = 0;

			if (!mm_copy_out(t->mm, t->clear_child_tid, &zero,
					 sizeof(zero)))
				futex_wake(k, t->mm, t->clear_child_tid, 1);
			t->clear_child_tid = 0;
		}
	}
	/* The thread's usage joins the group's in the section that clears
	 * ctx (procinfo.c), so it is never counted twice or lost. */
	rss = t->mm ? mm_resident(t->mm) / 1024 : 0;
	task_cputimes(t, &ut, &st);
	pthread_mutex_lock(&k->lock);
	task_account_exit_locked(t, ut, st, rss);
	task_vfork_release_locked(t);
	ctx = t->ctx;
	t->ctx = NULL;
	pthread_mutex_unlock(&k->lock);
	if (ctx)
		k->platform->ops->ctx_release(ctx);
	if (t->mm)
		mm_put(t->mm);
	t->mm = NULL;
	if (t->fdt)
		fdtable_put(t->fdt);
	t->fdt = NULL;
	if (t->fs)
		fs_struct_put(t->fs);
	t->fs = NULL;

	pthread_mutex_lock(&k->lock);
	if (p->group_exiting)
		t->exit_status = p->group_exit_status;
	t->exited = true;
	list_del(&t->thread_link);
	p->nr_threads--;
	k->nr_tasks--;
	leader = p->leader == t;
	if (!leader) {
		/* release_task() of a non-leader thread: its tid is free. */
		list_del(&t->k_link);
		list_add_tail(&t->k_link, &k->dead_tasks);
	}
	if (p->exec_waiter && p->nr_threads <= 1)
		task_wake(p->exec_waiter);
	if (p->nr_threads == 0) {
		/* exit_sem() before the parent can see the zombie. */
		ipc_process_exit(k, p->tgid);
		exit_notify_locked(k, p, &nl);
		if (p->tgid == 1) {
			/* Like a PID namespace: init's end kills the rest. */
			__atomic_store_n(&k->shutting_down, 1, __ATOMIC_SEQ_CST);
			kernel_for_each_task(k, shutdown_fn, NULL);
		}
		pthread_cond_broadcast(&k->cond);
	}
	pthread_mutex_unlock(&k->lock);
	process_release_flush(k);

	for (int i = 0; i < nl.n; i++)
		signal_send_tgid(k, nl.v[i].tgid, &nl.v[i].info);
	free(nl.v);
}

void process_child_state_changed(struct task *child)
{
	struct process *parent;

	/* Callable with a sighand lock held: no kernel->lock here. The
	 * parent process stays allocated while it has children (a
	 * reference per child). */
	parent = __atomic_load_n(&child->proc->parent, __ATOMIC_ACQUIRE);
	if (parent)
		waitq_wake(&parent->child_wait, ~0ULL);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Signal queues, sending and delivery (kernel/signal.c and
 * arch/x86/kernel/signal.c semantics). Frames are in signal_frame.c.
 *
 * Locks (see cvisor/signal.h): kernel->lock -> signal_group->lock ->
 * sighand->lock (task_wake takes no lock). Senders look targets up with
 * kernel->lock held, so a target cannot go away under them. Per-thread
 * pending sets and masks change only with the group lock held; the
 * thread's sigpending flag is read without it (task_block).
 * References: a task holds one reference on its sighand and, when this
 * file allocated it, on its signal_group; queued struct sigqueue entries
 * are owned by the pending list they are on, except a POSIX timer's
 * preallocated one, owned by the timer.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cvisor/log.h"
#include "cvisor/mm.h"
#include "cvisor/signal.h"
#include "cvisor/task.h"
#include "signal_impl.h"

#ifndef CLONE_SIGHAND
#define CLONE_SIGHAND 0x00000800
#endif
#ifndef CLONE_THREAD
#define CLONE_THREAD 0x00010000
#endif

/* Provided by the processes engineer (see cvisor/signal.h); weak until
 * then, with single-task fallbacks. */
struct task *kernel_find_task(struct kernel *k, int tid) __attribute__((weak));
void kernel_for_each_task(struct kernel *k, void (*fn)(struct task *, void *),
			  void *arg) __attribute__((weak));
void task_group_exit(struct task *t, int wait_status) __attribute__((weak));
void process_child_state_changed(struct task *child) __attribute__((weak));

static __thread struct task *cur_task;

struct task *signal_current(void)
{
	return cur_task;
}

/* With k->lock held. */
static struct task *find_task_locked(struct kernel *k, int tid)
{
	if (kernel_find_task)
		return kernel_find_task(k, tid);
	if (k->init && k->init->tid == tid && !k->init->exiting)
		return k->init;
	return NULL;
}

static void for_each_task_locked(struct kernel *k,
				 void (*fn)(struct task *, void *), void *arg)
{
	if (kernel_for_each_task) {
		kernel_for_each_task(k, fn, arg);
		return;
	}
	if (k->init && !k->init->exiting)
		fn(k->init, arg);
}

static void group_exit(struct task *t, int status)
{
	if (task_group_exit)
		task_group_exit(t, status);
	else
		task_exit(t, status);
}

/* Default actions (man 7 signal). */
enum sig_default { SD_TERM, SD_CORE, SD_STOP, SD_CONT, SD_IGN };

static enum sig_default sig_default_action(int sig)
{
	switch (sig) {
	case SIGCHLD:
	case SIGURG:
	case SIGWINCH:
		return SD_IGN;
	case SIGCONT:
		return SD_CONT;
	case SIGSTOP:
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
		return SD_STOP;
	case SIGQUIT:
	case SIGILL:
	case SIGTRAP:
	case SIGABRT:
	case SIGBUS:
	case SIGFPE:
	case SIGSEGV:
	case SIGXCPU:
	case SIGXFSZ:
	case SIGSYS:
		return SD_CORE;
	default:
		return SD_TERM;
	}
}

bool signal_handler_ignores(const struct cv_sigaction *ka, int sig)
{
	if (ka->handler == H_IGN)
		return true;
	return ka->handler == H_DFL && sig_default_action(sig) == SD_IGN;
}

/* ---- pending sets ---- */

static void pending_init(struct sigpending *p)
{
	p->set = 0;
	list_init(&p->list);
}

static void sigqueue_free(struct signal_group *g, struct sigqueue *q)
{
	if (q->counted)
		g->nr_queued--;
	if (q->timer) /* owned by its timer */
		return;
	free(q);
}

static void pending_flush(struct signal_group *g, struct sigpending *p,
			  uint64_t mask)
{
	struct sigqueue *q, *tmp;

	list_for_each_entry_safe(q, tmp, &p->list, link) {
		if (CV_SIGBIT(q->info.si_signo) & mask) {
			list_del(&q->link);
			sigqueue_free(g, q);
		}
	}
	p->set &= ~mask;
}

/* Take the first queued sig from p (collect_signal). */
static void pending_collect(struct signal_group *g, struct sigpending *p,
			    int sig, siginfo_t *info)
{
	struct sigqueue *q, *first = NULL;
	bool more = false;

	list_for_each_entry(q, &p->list, link) {
		if (q->info.si_signo != sig)
			continue;
		if (first) {
			more = true;
			break;
		}
		first = q;
	}
	if (!more)
		p->set &= ~CV_SIGBIT(sig);
	if (first) {
		list_del(&first->link);
		*info = first->info;
		if (first->timer) {
			info->si_overrun = posix_timer_dequeued(first->timer);
		}
		sigqueue_free(g, first);
	} else {
		/* Queued without info (the rlimit was hit for a
		 * kernel-generated signal): Linux reports SI_USER. */
		memset(info, 0, sizeof(*info));
		info->si_signo = sig;
		info->si_code = SI_USER;
	}
}

static int next_signal(uint64_t pending)
{
	uint64_t sync = pending & SIG_SYNCHRONOUS;

	if (sync)
		return __builtin_ctzll(sync) + 1;
	return pending ? __builtin_ctzll(pending) + 1 : 0;
}

uint64_t signal_pending_set_locked(struct task *t)
{
	return t->sig.pending.set | t->sig.group->shared_pending.set;
}

static void recalc_sigpending(struct task *t)
{
	uint64_t p = signal_pending_set_locked(t) & ~t->sig.blocked;

	__atomic_store_n(&t->sig.sigpending, p != 0 || t->sig.group->exiting,
			 __ATOMIC_SEQ_CST);
}

int signal_dequeue_locked(struct task *t, uint64_t mask, siginfo_t *info)
{
	struct signal_group *g = t->sig.group;
	int sig = next_signal(t->sig.pending.set & ~mask);

	if (sig) {
		pending_collect(g, &t->sig.pending, sig, info);
	} else {
		sig = next_signal(g->shared_pending.set & ~mask);
		if (sig)
			pending_collect(g, &g->shared_pending, sig, info);
	}
	recalc_sigpending(t);
	return sig;
}

void signal_flush_group_locked(struct task *t, uint64_t mask)
{
	struct signal_group *g = t->sig.group;
	struct task_signal *ts;

	pending_flush(g, &g->shared_pending, mask);
	list_for_each_entry(ts, &g->threads, group_link) {
		pending_flush(g, &ts->pending, mask);
		recalc_sigpending(container_of(ts, struct task, sig));
	}
}

/* ---- waking ---- */

void signal_kick(struct task *t)
{
	task_wake(t);
	if (t == cur_task)
		return;
	if (t->ctx)
		t->k->platform->ops->ctx_interrupt(t->ctx);
	if (__atomic_load_n(&t->sig.in_host_block, __ATOMIC_SEQ_CST)) {
		pid_t tid = __atomic_load_n(&t->host_tid, __ATOMIC_SEQ_CST);

		if (tid > 0)
			syscall(SYS_tgkill, getpid(), tid, CV_SIG_INTERRUPT);
	}
}

void signal_host_block_begin(struct task *t)
{
	__atomic_store_n(&t->sig.in_host_block, 1, __ATOMIC_SEQ_CST);
}

void signal_host_block_end(struct task *t)
{
	__atomic_store_n(&t->sig.in_host_block, 0, __ATOMIC_SEQ_CST);
}

static bool wants_signal(struct task *t, int sig)
{
	if (t->exiting)
		return false;
	if (sig == SIGKILL)
		return true;
	return !(t->sig.blocked & CV_SIGBIT(sig));
}

/* complete_signal: pick the thread to handle sig and wake it. */
static void complete_signal(struct task *t, int sig, bool group)
{
	struct signal_group *g = t->sig.group;
	struct task *target = NULL;
	struct task_signal *ts;

	/* signalfd_notify(): signalfd readers wait with the signal blocked. */
	waitq_wake(&g->signalfd_wq, ~0ULL);
	if (!group || wants_signal(t, sig)) {
		target = t;
	} else {
		list_for_each_entry(ts, &g->threads, group_link) {
			struct task *o = container_of(ts, struct task, sig);

			if (wants_signal(o, sig)) {
				target = o;
				break;
			}
		}
	}
	if (sig == SIGKILL) {
		/* Everyone must see it: SIGKILL ends the whole group, a
		 * stopped one too (threads parked in stop_wait_locked). */
		pthread_cond_broadcast(&g->stop_cond);
		list_for_each_entry(ts, &g->threads, group_link) {
			struct task *o = container_of(ts, struct task, sig);

			__atomic_store_n(&o->sig.sigpending, 1, __ATOMIC_SEQ_CST);
			signal_kick(o);
		}
		return;
	}
	if (!target || !wants_signal(target, sig))
		return; /* blocked everywhere: stays pending */
	recalc_sigpending(target);
	signal_kick(target);
}

/* sig_ignored(): a blocked signal is never ignored at send time. */
static bool sig_ignored(struct task *t, int sig, bool force)
{
	struct cv_sigaction ka;

	if ((t->sig.blocked | t->sig.real_blocked) & CV_SIGBIT(sig))
		return false;
	ka = sig_action(t, sig);
	/* The sandbox's init ignores signals it has no handler for unless
	 * they come from an ancestor namespace (sig_task_ignored). */
	if (t->sig.group->unkillable && ka.handler == H_DFL &&
	    !(force && (sig == SIGKILL || sig == SIGSTOP)))
		return true;
	return signal_handler_ignores(&ka, sig);
}

static void wake_all(struct signal_group *g)
{
	struct task_signal *ts;

	list_for_each_entry(ts, &g->threads, group_link)
		signal_kick(container_of(ts, struct task, sig));
}

/*
 * prepare_signal: stop/continue side effects at send time, with the group
 * lock held. A SIGCONT that ends a group stop makes WCONTINUED reportable
 * and wakes the parent's waiters at once; the SIGCHLD (CLD_CONTINUED) is
 * sent by the first of the group's threads to run again
 * (signal_deliver_pending), as Linux's get_signal() does for
 * SIGNAL_CLD_CONTINUED. So no sender ever notifies a parent itself, and
 * senders may hold kernel->lock.
 */
static void prepare_signal(struct task *t, int sig)
{
	struct signal_group *g = t->sig.group;

	if (CV_SIGBIT(sig) & SIG_STOPS) {
		signal_flush_group_locked(t, CV_SIGBIT(SIGCONT));
	} else if (sig == SIGCONT) {
		signal_flush_group_locked(t, SIG_STOPS);
		if (g->stopped) {
			g->stopped = false;
			g->stop_report = false;
			g->cont_report = true;
			__atomic_store_n(&g->cont_notify, true, __ATOMIC_SEQ_CST);
			pthread_cond_broadcast(&g->stop_cond);
			wake_all(g);
			if (process_child_state_changed)
				process_child_state_changed(t);
		}
	}
}

/* send_signal_locked(). group: to the shared pending set. */
static int send_locked(struct task *t, const siginfo_t *info, bool group,
		       bool force)
{
	struct signal_group *g = t->sig.group;
	struct sigpending *p = group ? &g->shared_pending : &t->sig.pending;
	int sig = info->si_signo;
	struct sigqueue *q;
	uint64_t limit;

	if (g->exiting)
		return 0;
	prepare_signal(t, sig);
	if (sig_ignored(t, sig, force))
		return 0;
	/* Standard signals coalesce. */
	if (sig < SIGRTMIN && (p->set & CV_SIGBIT(sig)))
		return 0;
	limit = t->rlimits[RLIMIT_SIGPENDING].rlim_cur;
	q = NULL;
	if (sig < SIGRTMIN || (uint64_t)g->nr_queued < limit)
		q = calloc(1, sizeof(*q));
	if (q) {
		q->info = *info;
		q->counted = true;
		g->nr_queued++;
		list_add_tail(&q->link, &p->list);
	} else if (sig >= SIGRTMIN && info->si_code != SI_USER) {
		/* __send_signal_locked: rt signals need their info. */
		return -EAGAIN;
	}
	p->set |= CV_SIGBIT(sig);
	complete_signal(t, sig, group);
	return 0;
}

/* Takes the group lock only: callable with or without kernel->lock. */
static int send_common(struct task *t, const siginfo_t *info, bool group,
		       bool force)
{
	int r;

	if (info->si_signo == 0)
		return 0;
	if (info->si_signo < 1 || info->si_signo > CV_NSIG)
		return -EINVAL;
	sig_lock(t);
	r = send_locked(t, info, group, force);
	sig_unlock(t);
	return r;
}

int signal_send_task(struct task *t, const siginfo_t *info)
{
	return send_common(t, info, false, false);
}

int signal_send_group_locked(struct task *t, const siginfo_t *info)
{
	return send_locked(t, info, true, true);
}

int signal_send_group(struct task *t, const siginfo_t *info)
{
	return send_common(t, info, true, false);
}

int signal_send_tgid(struct kernel *k, int tgid, const siginfo_t *info)
{
	struct task *t;
	int r;

	pthread_mutex_lock(&k->lock);
	t = find_task_locked(k, tgid);
	if (!t || t->tgid != tgid) {
		pthread_mutex_unlock(&k->lock);
		return -ESRCH;
	}
	r = send_common(t, info, true, false);
	pthread_mutex_unlock(&k->lock);
	return r;
}

bool signal_send_prealloc(struct task *t, struct sigqueue *q, bool to_thread)
{
	struct signal_group *g = t->sig.group;
	struct sigpending *p = to_thread ? &t->sig.pending : &g->shared_pending;
	int sig = q->info.si_signo;

	/* Called with the group lock held (the timer's owner). */
	if (!list_empty(&q->link))
		return false;
	if (g->exiting)
		return true;
	prepare_signal(t, sig);
	if (sig_ignored(t, sig, false))
		return true;
	q->counted = false;
	list_add_tail(&q->link, &p->list);
	p->set |= CV_SIGBIT(sig);
	complete_signal(t, sig, !to_thread);
	return true;
}

void signal_host_signal(struct task *t, int signo)
{
	siginfo_t info;

	memset(&info, 0, sizeof(info));
	info.si_signo = signo;
	info.si_code = SI_KERNEL;
	send_common(t, &info, false, true);
}

int signal_dequeue_mask(struct task *t, uint64_t mask, siginfo_t *info)
{
	int sig;

	sig_lock(t);
	sig = signal_dequeue_locked(t, ~mask, info);
	sig_unlock(t);
	return sig;
}

bool signal_pending_mask(struct task *t, uint64_t mask)
{
	bool r;

	sig_lock(t);
	r = (signal_pending_set_locked(t) & mask) != 0;
	sig_unlock(t);
	return r;
}

bool signal_pending(struct task *t)
{
	if (__atomic_load_n(&t->k->kill_sig, __ATOMIC_SEQ_CST))
		return true;
	return __atomic_load_n(&t->sig.sigpending, __ATOMIC_SEQ_CST) != 0;
}

void signal_set_blocked_locked(struct task *t, uint64_t newmask)
{
	struct signal_group *g = t->sig.group;
	uint64_t newly = newmask & ~t->sig.blocked & g->shared_pending.set;

	t->sig.blocked = newmask & ~SIG_UNBLOCKABLE;
	recalc_sigpending(t);
	/* retarget_shared_pending: another thread may take what this one
	 * now blocks. */
	while (newly) {
		int sig = __builtin_ctzll(newly) + 1;

		newly &= newly - 1;
		complete_signal(t, sig, true);
	}
}

/* ---- parent notification, group stop ---- */

/* do_notify_parent_cldstop(): t's group stopped or continued. Called by a
 * thread of that group with no lock held. */
static void notify_parent(struct task *t, int code, int status)
{
	struct kernel *k = t->k;
	struct task *parent;
	siginfo_t info;

	pthread_mutex_lock(&k->lock);
	if (process_child_state_changed)
		process_child_state_changed(t);
	if (t->ppid <= 0) {
		pthread_mutex_unlock(&k->lock);
		return;
	}
	memset(&info, 0, sizeof(info));
	info.si_signo = SIGCHLD;
	info.si_code = code;
	info.si_pid = t->tgid;
	info.si_uid = (uid_t)t->cred.ruid;
	info.si_status = status;
	parent = find_task_locked(t->k, t->ppid);
	if (parent) {
		struct cv_sigaction ka = sig_action(parent, SIGCHLD);

		/* do_notify_parent_cldstop: SA_NOCLDSTOP silences it. */
		if (!(ka.flags & SA_NOCLDSTOP))
			send_common(parent, &info, true, true);
		task_wake(parent);
	}
	pthread_mutex_unlock(&k->lock);
}

static bool killed(struct task *t)
{
	return __atomic_load_n(&t->k->kill_sig, __ATOMIC_SEQ_CST) ||
	       t->sig.group->exiting ||
	       (signal_pending_set_locked(t) & CV_SIGBIT(SIGKILL));
}

/* Park while the group is stopped (with the group lock held; returns with
 * it held). Only SIGCONT, SIGKILL or a sandbox kill end it. */
static void stop_wait_locked(struct task *t)
{
	struct signal_group *g = t->sig.group;

	while (g->stopped && !killed(t)) {
		struct timespec ts;

		/* Poll the sandbox kill (kernel_kill only wakes task_block). */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 50000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&g->stop_cond, &g->lock, &ts);
	}
}

bool signal_wait_stopped(struct task *leader, bool consume, int *status)
{
	struct signal_group *g = leader->sig.group;
	bool r;

	sig_lock(leader);
	r = g->stopped && g->stop_report;
	if (r) {
		*status = 0x7f | (g->stop_sig << 8);
		if (consume)
			g->stop_report = false;
	}
	sig_unlock(leader);
	return r;
}

bool signal_wait_continued(struct task *leader, bool consume, int *status)
{
	struct signal_group *g = leader->sig.group;
	bool r;

	sig_lock(leader);
	r = g->cont_report;
	if (r) {
		*status = 0xffff;
		if (consume)
			g->cont_report = false;
	}
	sig_unlock(leader);
	return r;
}

/* ---- task life cycle ---- */

void signal_group_init(struct signal_group *g)
{
	pthread_condattr_t ca;

	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->stop_cond, &ca);
	pthread_condattr_destroy(&ca);
	pending_init(&g->shared_pending);
	list_init(&g->threads);
	list_init(&g->posix_timers);
	waitq_init(&g->signalfd_wq);
}

void signal_group_destroy(struct signal_group *g)
{
	signal_group_timers_free(g);
	pending_flush(g, &g->shared_pending, ~0ULL);
	waitq_destroy(&g->signalfd_wq);
	pthread_cond_destroy(&g->stop_cond);
	pthread_mutex_destroy(&g->lock);
}

void signal_group_get(struct signal_group *g)
{
	if (g->allocated)
		__atomic_add_fetch(&g->refs, 1, __ATOMIC_SEQ_CST);
}

void signal_group_put(struct signal_group *g)
{
	if (g->allocated && __atomic_sub_fetch(&g->refs, 1, __ATOMIC_SEQ_CST) == 0) {
		signal_group_destroy(g);
		free(g);
	}
}

int signal_task_init(struct task *child, struct task *parent,
		     uint64_t clone_flags)
{
	struct task_signal *s = &child->sig;
	struct signal_group *g = s->group;

	pending_init(&s->pending);
	list_init(&s->group_link);
	if (parent && (clone_flags & CLONE_SIGHAND)) {
		s->sighand = parent->sig.sighand;
		__atomic_add_fetch(&s->sighand->refs, 1, __ATOMIC_SEQ_CST);
	} else {
		s->sighand = calloc(1, sizeof(*s->sighand));
		if (!s->sighand)
			return -ENOMEM;
		pthread_mutex_init(&s->sighand->lock, NULL);
		s->sighand->refs = 1;
		if (parent) {
			pthread_mutex_lock(&parent->sig.sighand->lock);
			memcpy(s->sighand->action, parent->sig.sighand->action,
			       sizeof(s->sighand->action));
			pthread_mutex_unlock(&parent->sig.sighand->lock);
		}
	}
	if (!g && parent && (clone_flags & CLONE_THREAD)) {
		g = parent->sig.group;
		if (g->allocated)
			__atomic_add_fetch(&g->refs, 1, __ATOMIC_SEQ_CST);
	} else if (!g) {
		g = malloc(sizeof(*g));
		if (!g) {
			if (__atomic_sub_fetch(&s->sighand->refs, 1, __ATOMIC_SEQ_CST) == 0)
				free(s->sighand);
			s->sighand = NULL;
			return -ENOMEM;
		}
		signal_group_init(g);
		g->allocated = true;
		g->refs = 1;
		g->unkillable = !parent; /* the sandbox's init */
	}
	s->group = g;
	if (parent) {
		/* fork/clone inherit the mask; pending sets start empty. */
		s->blocked = parent->sig.blocked;
		if (!(clone_flags & CLONE_THREAD))
			g->cutime_ns = g->cstime_ns = 0;
		/* The altstack is inherited by fork, cleared for threads
		 * (copy_process: CLONE_VM without CLONE_VFORK). */
		if (!(clone_flags & CLONE_THREAD)) {
			s->altstack_sp = parent->sig.altstack_sp;
			s->altstack_size = parent->sig.altstack_size;
			s->altstack_flags = parent->sig.altstack_flags;
		}
	}
	pthread_mutex_lock(&g->lock);
	list_add_tail(&s->group_link, &g->threads);
	g->nr_threads++;
	pthread_mutex_unlock(&g->lock);
	return 0;
}

void signal_task_exec(struct task *t)
{
	struct sighand *sh = t->sig.sighand;

	/* de_thread: a shared sighand is unshared on exec. */
	if (__atomic_load_n(&sh->refs, __ATOMIC_SEQ_CST) > 1) {
		struct sighand *n = calloc(1, sizeof(*n));

		if (n) {
			pthread_mutex_init(&n->lock, NULL);
			n->refs = 1;
			pthread_mutex_lock(&sh->lock);
			memcpy(n->action, sh->action, sizeof(n->action));
			pthread_mutex_unlock(&sh->lock);
			if (__atomic_sub_fetch(&sh->refs, 1, __ATOMIC_SEQ_CST) == 0)
				free(sh);
			t->sig.sighand = sh = n;
		}
	}
	/* flush_signal_handlers(t, 1): handlers back to SIG_DFL, ignored
	 * ones stay ignored; flags and masks cleared. */
	pthread_mutex_lock(&sh->lock);
	for (int i = 0; i < CV_NSIG; i++) {
		struct cv_sigaction *ka = &sh->action[i];

		if (ka->handler != H_IGN)
			ka->handler = H_DFL;
		ka->flags = 0;
		ka->restorer = 0;
		ka->mask = 0;
	}
	pthread_mutex_unlock(&sh->lock);
	t->sig.altstack_sp = 0;
	t->sig.altstack_size = 0;
	t->sig.altstack_flags = 0;
}

void signal_task_free(struct task *t)
{
	struct task_signal *s = &t->sig;
	struct signal_group *g = s->group;

	if (g) {
		bool last;

		pthread_mutex_lock(&g->lock);
		list_del(&s->group_link);
		g->nr_threads--;
		last = g->nr_threads == 0;
		pending_flush(g, &s->pending, ~0ULL);
		pthread_mutex_unlock(&g->lock);
		if (last)
			signal_group_timers_free(g);
		if (g->allocated &&
		    __atomic_sub_fetch(&g->refs, 1, __ATOMIC_SEQ_CST) == 0) {
			signal_group_destroy(g);
			free(g);
		}
		s->group = NULL;
	}
	if (s->sighand &&
	    __atomic_sub_fetch(&s->sighand->refs, 1, __ATOMIC_SEQ_CST) == 0) {
		pthread_mutex_destroy(&s->sighand->lock);
		free(s->sighand);
	}
	s->sighand = NULL;
}

/* ---- delivery ---- */

/* arch/x86/kernel/signal.c: fix up an interrupted syscall's return. */
static void restart_fixup(struct task *t, bool handler, uint64_t sa_flags)
{
	int64_t rax = (int64_t)t->regs.rax;

	if ((int64_t)t->regs.orig_rax < 0)
		return;
	switch (rax) {
	case -ERESTART_RESTARTBLOCK:
		if (handler) {
			t->regs.rax = (uint64_t)-EINTR;
		} else {
			t->regs.rax = SYS_restart_syscall;
			t->regs.rip -= 2;
		}
		break;
	case -ERESTARTNOHAND:
		if (handler) {
			t->regs.rax = (uint64_t)-EINTR;
			break;
		}
		t->regs.rax = t->regs.orig_rax;
		t->regs.rip -= 2;
		break;
	case -ERESTARTSYS:
		if (handler && !(sa_flags & SA_RESTART)) {
			t->regs.rax = (uint64_t)-EINTR;
			break;
		}
		/* fallthrough */
	case -ERESTARTNOINTR:
		t->regs.rax = t->regs.orig_rax;
		t->regs.rip -= 2;
		break;
	default:
		break;
	}
}

/* force_sig_info_to_task: unblock/unignore and queue to the thread. */
static void force_sig_locked(struct task *t, const siginfo_t *info)
{
	int sig = info->si_signo;
	struct sighand *sh = t->sig.sighand;
	struct cv_sigaction *ka;

	pthread_mutex_lock(&sh->lock);
	ka = &sh->action[sig - 1];
	if (ka->handler == H_IGN || (t->sig.blocked & CV_SIGBIT(sig))) {
		if (t->sig.blocked & CV_SIGBIT(sig))
			ka->handler = H_DFL;
		else
			ka->handler = H_DFL;
		t->sig.blocked &= ~CV_SIGBIT(sig);
	}
	if (ka->handler == H_DFL)
		t->sig.group->unkillable = false;
	pthread_mutex_unlock(&sh->lock);
	send_locked(t, info, false, true);
	recalc_sigpending(t);
}

static void force_sigsegv_locked(struct task *t, int failed_sig)
{
	siginfo_t info;

	/* force_sigsegv: a SIGSEGV handler that cannot run is reset. */
	if (failed_sig == SIGSEGV) {
		pthread_mutex_lock(&t->sig.sighand->lock);
		t->sig.sighand->action[SIGSEGV - 1].handler = H_DFL;
		pthread_mutex_unlock(&t->sig.sighand->lock);
	}
	memset(&info, 0, sizeof(info));
	info.si_signo = SIGSEGV;
	info.si_code = SI_KERNEL;
	force_sig_locked(t, &info);
}

void signal_force_sigsegv(struct task *t)
{
	sig_lock(t);
	force_sigsegv_locked(t, 0);
	sig_unlock(t);
}

static void do_group_stop(struct task *t, int sig)
{
	struct signal_group *g = t->sig.group;

	if (!g->stopped) {
		struct task_signal *ts;

		g->stopped = true;
		g->stop_sig = sig;
		g->stop_report = true;
		g->cont_report = false;
		list_for_each_entry(ts, &g->threads, group_link) {
			struct task *o = container_of(ts, struct task, sig);

			if (o != t)
				signal_kick(o);
		}
		sig_unlock(t);
		notify_parent(t, CLD_STOPPED, sig);
		sig_lock(t);
	}
	stop_wait_locked(t);
}

void signal_deliver_pending(struct task *t)
{
	struct signal_group *g = t->sig.group;
	bool delivered = false;

	cur_task = t;
	signal_check_cpu_timers(t);
	if (!__atomic_load_n(&t->sig.sigpending, __ATOMIC_SEQ_CST) &&
	    !g->stopped && !t->sig.restore_saved_mask &&
	    !__atomic_load_n(&g->cont_notify, __ATOMIC_SEQ_CST)) {
		restart_fixup(t, false, 0);
		return;
	}
	sig_lock(t);
	for (;;) {
		struct cv_sigaction ka;
		siginfo_t info;
		int sig;

		if (__atomic_load_n(&t->k->kill_sig, __ATOMIC_SEQ_CST) ||
		    t->exiting)
			break;
		if (g->exiting) {
			int st = g->exit_status;

			sig_unlock(t);
			task_exit(t, st);
			return;
		}
		if (g->cont_notify) {
			/* get_signal(): SIGNAL_CLD_CONTINUED, told by the
			 * first thread to run after the SIGCONT. */
			__atomic_store_n(&g->cont_notify, false,
					 __ATOMIC_SEQ_CST);
			sig_unlock(t);
			notify_parent(t, CLD_CONTINUED, SIGCONT);
			sig_lock(t);
			continue;
		}
		if (g->stopped && !killed(t)) {
			stop_wait_locked(t);
			continue;
		}
		/* Killed while stopped (stop_wait_locked returned on a
		 * pending SIGKILL): take the SIGKILL and nothing else, or
		 * this loop would spin here with the group lock held. */
		sig = signal_dequeue_locked(t, g->stopped ? ~CV_SIGBIT(SIGKILL) :
					    t->sig.blocked, &info);
		if (!sig)
			break;
		pthread_mutex_lock(&t->sig.sighand->lock);
		ka = t->sig.sighand->action[sig - 1];
		if (ka.handler != H_DFL && ka.handler != H_IGN &&
		    (ka.flags & SA_RESETHAND))
			t->sig.sighand->action[sig - 1].handler = H_DFL;
		pthread_mutex_unlock(&t->sig.sighand->lock);
		if (ka.handler == H_IGN)
			continue;
		if (ka.handler == H_DFL) {
			enum sig_default d = sig_default_action(sig);

			/* get_signal: init ignores what it doesn't handle
			 * (only SIGKILL/SIGSTOP from outside get here). */
			if (g->unkillable && sig != SIGKILL && sig != SIGSTOP)
				continue;
			if (d == SD_IGN || d == SD_CONT)
				continue;
			if (d == SD_STOP) {
				do_group_stop(t, sig);
				continue;
			}
			/* Terminate (no core file is written, so the
			 * core bit stays clear). */
			g->exiting = true;
			g->exit_status = sig;
			pthread_cond_broadcast(&g->stop_cond);
			wake_all(g);
			sig_unlock(t);
			log_debug("task %d: killed by signal %d", t->tid, sig);
			group_exit(t, sig);
			if (!t->exiting)
				task_exit(t, sig);
			return;
		}
		/* handle_signal */
		restart_fixup(t, true, ka.flags);
		{
			uint64_t oldmask = t->sig.restore_saved_mask ?
						   t->sig.saved_mask : t->sig.blocked;
			uint64_t nm;

			sig_unlock(t);
			if (signal_frame_setup(t, sig, &info, &ka, oldmask)) {
				sig_lock(t);
				force_sigsegv_locked(t, sig);
				continue;
			}
			sig_lock(t);
			t->sig.restore_saved_mask = false;
			nm = t->sig.blocked | ka.mask;
			if (!(ka.flags & SA_NODEFER))
				nm |= CV_SIGBIT(sig);
			signal_set_blocked_locked(t, nm);
			delivered = true;
		}
	}
	if (!delivered) {
		restart_fixup(t, false, 0);
		if (t->sig.restore_saved_mask) {
			t->sig.restore_saved_mask = false;
			signal_set_blocked_locked(t, t->sig.saved_mask);
		}
	}
	sig_unlock(t);
}

/* SEGV_MAPERR vs SEGV_ACCERR: is there a mapping at addr? mm has no VMA
 * query, so read the maps dump (faults are rare). */
static int segv_code(struct task *t, uint64_t addr, int fallback)
{
	size_t size = 1 << 16;
	char *buf = malloc(size);
	int n, code = SEGV_MAPERR;

	if (!buf)
		return fallback;
	n = mm_dump_maps(t->mm, buf, size);
	if (n < 0 || (size_t)n >= size - 1) {
		free(buf);
		return fallback;
	}
	for (char *l = buf; l && *l;) {
		unsigned long long lo, hi;

		if (sscanf(l, "%llx-%llx", &lo, &hi) == 2 && addr >= lo &&
		    addr < hi) {
			code = SEGV_ACCERR;
			break;
		}
		l = strchr(l, '\n');
		if (l)
			l++;
	}
	free(buf);
	return code;
}

void signal_fault(struct task *t, const struct stop_info *st)
{
	siginfo_t info;

	memset(&info, 0, sizeof(info));
	info.si_signo = st->signo;
	info.si_code = st->si_code;
	info.si_addr = (void *)(uintptr_t)st->addr;
	if (st->signo == SIGSEGV && st->si_code > 0)
		info.si_code = segv_code(t, st->addr, st->si_code);
	/* The exception details sigcontext reports (thread.trap_nr etc.). */
	t->sig.fault_trapno = st->trapno;
	t->sig.fault_addr = st->addr;
	t->sig.fault_err = 4 | ((st->access & PROT_WRITE) ? 2 : 0) |
			   ((st->access & PROT_EXEC) ? 16 : 0) |
			   (info.si_code == SEGV_ACCERR ? 1 : 0);
	log_debug("task %d: fault sig %d code %d addr %#llx rip %#llx",
		  t->tid, st->signo, info.si_code, (unsigned long long)st->addr,
		  (unsigned long long)t->regs.rip);
	sig_lock(t);
	force_sig_locked(t, &info);
	sig_unlock(t);
}

/* Used by kill(-1) and kill(-pgrp) (sys_signal.c). */
struct pgrp_send {
	struct task *self;
	int pgid;	/* 0: every process but init and self */
	const siginfo_t *info;
	int count, err;
};

static void pgrp_send_one(struct task *o, void *arg)
{
	struct pgrp_send *ps = arg;
	int r;

	if (o->tid != o->tgid)
		return;
	if (ps->pgid > 0 ? o->pgid != ps->pgid :
	    (o->tgid <= 1 || o->tgid == ps->self->tgid))
		return;
	ps->count++;
	r = send_common(o, ps->info, true, false);
	if (r && r != -EPERM)
		ps->err = r;
	else if (!r && ps->pgid > 0)
		ps->err = ps->err ? ps->err : 0;
}

int signal_send_pgrp(struct task *self, int pgid, const siginfo_t *info)
{
	struct pgrp_send ps = { self, pgid, info, 0, 0 };

	pthread_mutex_lock(&self->k->lock);
	for_each_task_locked(self->k, pgrp_send_one, &ps);
	pthread_mutex_unlock(&self->k->lock);
	return ps.count ? ps.err : -ESRCH;
}

/* tkill/tgkill/rt_tgsigqueueinfo: one thread, tgid 0 = any group. */
int signal_send_tid(struct kernel *k, int tgid, int tid, const siginfo_t *info)
{
	struct task *t;
	int r;

	pthread_mutex_lock(&k->lock);
	t = find_task_locked(k, tid);
	if (!t || (tgid > 0 && t->tgid != tgid)) {
		pthread_mutex_unlock(&k->lock);
		return -ESRCH;
	}
	r = send_common(t, info, false, false);
	pthread_mutex_unlock(&k->lock);
	return r;
}

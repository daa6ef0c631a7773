/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Signals: the interface between the task/process code (kernel.c, task.c,
 * process.c...) and signal delivery (sentry/kernel/signal*.c).
 *
 * NOTE TO THE PROCESSES ENGINEER (owner of task.h, task.c, process.c, exit.c,
 * wait.c) — how the signal state is split, Linux-style:
 *  - struct task_signal (per thread) is embedded in struct task as `t->sig`.
 *    For now task.h keeps `t->sigmask` as an alias of t->sig.blocked so the
 *    old task.c compiles; please switch to t->sig.blocked and drop the alias.
 *  - struct sighand (handlers, the lock) is refcounted and shared by
 *    CLONE_SIGHAND; struct signal_group (shared pending set, group stop,
 *    itimers, POSIX timers, rlimit accounting) is shared by CLONE_THREAD.
 *    signal_task_init() allocates a refcounted signal_group unless
 *    CLONE_THREAD is set (then it shares the parent's). If you embed a
 *    struct signal_group in your thread-group struct instead, call
 *    signal_group_init() on it and set child->sig.group before
 *    signal_task_init(): a preset group is used as is and not freed here.
 *  - Functions signal.c calls on your side (weak until you define them;
 *    the fallbacks implement the single-task model, init only):
 *      struct task *kernel_find_task(struct kernel *k, int tid);
 *          called WITH k->lock held, must not take it; borrowed pointer.
 *      void kernel_for_each_task(struct kernel *k,
 *                                void (*fn)(struct task *, void *), void *);
 *          called WITH k->lock held; every live task.
 *      void task_group_exit(struct task *t, int wait_status);
 *          end every thread of t's group (fallback: task_exit()).
 *      void process_child_state_changed(struct task *child);
 *          the group of `child` stopped or continued: wake the parent's
 *          wait4/waitid waiters (SIGCHLD itself is sent from here).
 *  - For WUNTRACED / WCONTINUED, wait.c calls signal_wait_stopped() and
 *    signal_wait_continued() below on a child's group leader.
 *  - task.c: on STOP_SIGNAL please call signal_host_signal(t, signo) and on
 *    kill_sig keep what you do today (external kill = ancestor namespace).
 *  - struct kernel: please add `struct timer_service *timers;` — until then
 *    the timer service (sentry/kernel/timers.c) is one per sentry process,
 *    created on first use (one sandbox per sentry process today).
 *
 * The task loop calls signal_deliver_pending() before every ctx_switch. It
 * handles syscall restart like arch/x86/kernel/signal.c: a handler that
 * returned -ERESTART* leaves that value in regs.rax with regs.orig_rax
 * intact; delivery either turns it into -EINTR or rewinds rip by 2 (the
 * length of `syscall`) and restores rax = orig_rax. It then builds the
 * signal frame for the first deliverable signal, or applies its default
 * action (terminate/core: group exit; stop/continue; ignore).
 *
 * Locking: signal_group->lock guards the group, the pending sets and
 * blocked masks of its threads; sighand->lock guards the handlers and is
 * taken inside it. Order: kernel->lock -> group->lock -> sighand->lock
 * (task_block/task_wake take no lock). The timer service lock is a leaf: fire functions run
 * without it, and timer_arm/timer_cancel are never called with a group
 * lock held (they wait for a running fire(), which takes group locks).
 */
#ifndef CVISOR_SIGNAL_H
#define CVISOR_SIGNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "cvisor/platform.h"
#include "cvisor/util.h"
#include "cvisor/waitq.h"

/* Kernel-internal restart codes (include/linux/errno.h). Never seen by the
 * workload. */
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

#define CV_SIGBIT(s) (1ULL << ((s) - 1))

struct kernel;
struct task;
struct timer_service;
struct cv_timer;

/* Linux's struct k_sigaction layout for rt_sigaction (x86-64). */
struct cv_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

/* One queued signal (kernel/signal.c struct sigqueue). */
struct sigqueue {
	struct list_head link;
	siginfo_t info;
	bool counted;		/* counts against RLIMIT_SIGPENDING */
	struct cv_timer *timer;	/* POSIX timer's preallocated entry */
};

struct sigpending {
	uint64_t set;
	struct list_head list;	/* of struct sigqueue, in arrival order */
};

/* Handlers, shared by CLONE_SIGHAND. */
struct sighand {
	pthread_mutex_t lock;
	int refs;		/* atomic */
	struct cv_sigaction action[64];
};

/* Process-wide signal state (Linux's signal_struct), shared by
 * CLONE_THREAD. Guarded by the sighand lock of its threads. */
struct signal_group {
	pthread_mutex_t lock;	/* Linux's siglock for this group */
	pthread_cond_t stop_cond;	/* group stop ends */
	int refs;		/* atomic; only for groups signal.c allocated */
	bool allocated;
	struct sigpending shared_pending;
	int nr_queued;		/* queued signals, against RLIMIT_SIGPENDING */
	struct list_head threads;	/* task_signal.group_link */
	int nr_threads;
	/* Group stop (kernel/signal.c do_signal_stop, simplified: the
	 * group is stopped as soon as a thread takes the stop). */
	bool stopped;
	int stop_sig;
	bool stop_report;	/* WUNTRACED not yet collected */
	bool cont_report;	/* WCONTINUED not yet collected */
	bool cont_notify;	/* CLD_CONTINUED not yet sent (atomic) */
	bool exiting;		/* group exit under way (fatal signal) */
	int exit_status;
	bool unkillable;	/* init of the sandbox: SIGNAL_UNKILLABLE */
	/* Timers (sys_timer.c): ITIMER_REAL, VIRTUAL, PROF and POSIX
	 * timers. Touched with the sighand lock held. */
	struct cv_timer *itimer_real;
	uint64_t itimer_cpu_value[2];	/* VIRTUAL, PROF: expiry in CPU ns */
	uint64_t itimer_cpu_interval[2];
	struct list_head posix_timers;
	int next_timer_id;
	/* Children's usage for getrusage(RUSAGE_CHILDREN) and times(): the
	 * processes engineer adds a reaped child's totals here. */
	uint64_t cutime_ns, cstime_ns;
	/* Usage of exited threads (added under kernel->lock as each thread
	 * drops its platform context) and resident high-water marks in KiB
	 * (ru_maxrss of the group and of its reaped children). Atomic. */
	uint64_t dead_utime_ns, dead_stime_ns;
	uint64_t maxrss_kb, cmaxrss_kb;
	/* Page faults (minor, major) of exited threads and of reaped
	 * children, like utime/cutime. Atomic. */
	uint64_t dead_min_flt, dead_maj_flt, cmin_flt, cmaj_flt;
	/* signalfd readers of this group's threads (Linux's
	 * sighand->signalfd_wqh): woken whenever a signal is queued. */
	struct waitq signalfd_wq;
};

/* restart_syscall(2) state (include/linux/restart_block.h). */
struct restart_block {
	long (*fn)(struct task *t);
	int clockid;
	uint64_t deadline_ns;	/* absolute, in clockid's time */
	uint64_t rmtp;
};

/* Per-thread signal state, embedded in struct task as `sig`. blocked MUST
 * stay first (task.h aliases it as t->sigmask for now). */
struct task_signal {
	uint64_t blocked;
	uint64_t real_blocked;	/* rt_sigtimedwait: mask before the wait */
	uint64_t saved_mask;	/* sigsuspend/pselect: restored after */
	bool restore_saved_mask;
	struct sighand *sighand;
	struct signal_group *group;
	struct list_head group_link;
	struct sigpending pending;
	uint64_t altstack_sp, altstack_size;
	int altstack_flags;	/* SS_AUTODISARM */
	struct restart_block restart;
	/* Set around a blocking host call (read of a host pipe/tty) so a
	 * sender knocks the thread out with CV_SIG_INTERRUPT; atomic. */
	int in_host_block;
	/* TIF_SIGPENDING: an unblocked signal is pending for this thread;
	 * recalculated under the group lock, read without it. Atomic. */
	int sigpending;
	/* The last fault, for sigcontext trapno/err/cr2. */
	uint64_t fault_trapno, fault_addr, fault_err;
};

/* Set up the signal state of a new task: share (CLONE_SIGHAND) or copy the
 * parent's handlers, inherit the mask, empty pending set. parent may be
 * NULL for the init task. Returns 0 or -ENOMEM. */
int signal_task_init(struct task *child, struct task *parent,
		     uint64_t clone_flags);
/* execve: handlers reset to default except ignored ones, altstack off. */
void signal_task_exec(struct task *t);
/* The task is gone: drop its signal state. */
void signal_task_free(struct task *t);
/* For a signal_group embedded elsewhere (see the note above). */
void signal_group_init(struct signal_group *g);
void signal_group_destroy(struct signal_group *g);
/* Extra references on a group signal.c allocated (a signalfd watching its
 * signalfd_wq); no-ops on embedded groups. put may free the group. */
void signal_group_get(struct signal_group *g);
void signal_group_put(struct signal_group *g);

/* Queue a signal. info->si_signo must be valid; 0 is a no-op (kill -0).
 * _tgid: to a thread group (any thread that doesn't block it); _task: to
 * one thread. Returns 0 or -errno (-ESRCH, -EINVAL, -EAGAIN). */
int signal_send_tgid(struct kernel *k, int tgid, const siginfo_t *info);
int signal_send_task(struct task *t, const siginfo_t *info);
/* The same with the target's group already known (timers, SIGCHLD).
 * Sending never takes kernel->lock (a SIGCONT's CLD_CONTINUED is sent
 * later by the continued group), so callers holding it may send too. */
int signal_send_group(struct task *t, const siginfo_t *info);
/* A host signal reached the workload thread (STOP_SIGNAL): queue it to
 * the thread as if the kernel had sent it. */
void signal_host_signal(struct task *t, int signo);

/* signalfd (vfs/anon/signalfd.c): take t's first pending signal (its own
 * queue, then the group's) that is in mask; 0 if none. Is one pending? */
int signal_dequeue_mask(struct task *t, uint64_t mask, siginfo_t *info);
bool signal_pending_mask(struct task *t, uint64_t mask);

/* Does the task have an unblocked pending signal (or is it being killed)?
 * task_block() returns -EINTR when this is true. */
bool signal_pending(struct task *t);

/* Called by the task loop before resuming the workload (see above). */
void signal_deliver_pending(struct task *t);

/* A synchronous fault mm could not resolve: force the matching signal
 * (SIGSEGV with si_addr, SIGBUS, SIGFPE, SIGILL, SIGTRAP). */
void signal_fault(struct task *t, const struct stop_info *st);

/* Around a blocking host call that a signal must interrupt (EINTR). */
void signal_host_block_begin(struct task *t);
void signal_host_block_end(struct task *t);

/* wait(2) side of group stop/continue, called on a child's group leader
 * by wait.c: true once per stop (WUNTRACED) / continue (WCONTINUED); with
 * consume=false (WNOWAIT) the report stays. *status is the wait status
 * (0x7f | sig << 8 for stopped, 0xffff for continued). */
bool signal_wait_stopped(struct task *leader, bool consume, int *status);
bool signal_wait_continued(struct task *leader, bool consume, int *status);

/* Timers (sentry/kernel/timers.c): one host thread serves every timer.
 * fire() runs on the timer thread without the service lock; it returns
 * the next expiry (absolute CLOCK_MONOTONIC ns) or 0 to stop. */
struct cv_timer {
	uint64_t expires;	/* CLOCK_MONOTONIC ns; 0 = disarmed */
	uint64_t (*fire)(struct cv_timer *tm, uint64_t now);
	void *priv;
	/* service bookkeeping */
	struct list_head link;
	bool queued;
	bool firing;
};
void timer_init(struct cv_timer *tm, uint64_t (*fire)(struct cv_timer *, uint64_t),
		void *priv);
/* Arm at an absolute monotonic time (0 disarms). Waits for a running
 * fire() of this timer to finish, so after timer_cancel() returns fire()
 * is not running and will not run again. Never call either from fire()
 * of the same timer. */
void timer_arm(struct cv_timer *tm, uint64_t expires);
void timer_cancel(struct cv_timer *tm);
/* Remaining time of an armed timer in ns (0 if disarmed). */
uint64_t timer_remaining(struct cv_timer *tm);

/* Posix timers and itimers of a group go away with it (sys_timer.c). */
void signal_group_timers_free(struct signal_group *g);
/* CPU-time itimers (ITIMER_VIRTUAL/PROF) checked from the task loop. */
void signal_check_cpu_timers(struct task *t);
/* CPU time of a task's workload thread in ns (platform ctx_cputime). */
uint64_t signal_task_cputime(struct task *t);

#endif

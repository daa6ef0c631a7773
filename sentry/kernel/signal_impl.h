/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internals shared by sentry/kernel/signal*.c, timers.c and the signal,
 * time and timer syscalls. Not an interface for other subsystems.
 */
#ifndef CVISOR_SIGNAL_IMPL_H
#define CVISOR_SIGNAL_IMPL_H

#include <stdint.h>

#include "cvisor/signal.h"
#include "cvisor/task.h"

#define SIG_UNBLOCKABLE (CV_SIGBIT(SIGKILL) | CV_SIGBIT(SIGSTOP))
/* Signals raised by the CPU, dequeued first (kernel/signal.c). */
#define SIG_SYNCHRONOUS (CV_SIGBIT(SIGSEGV) | CV_SIGBIT(SIGBUS) | \
			 CV_SIGBIT(SIGILL) | CV_SIGBIT(SIGTRAP) |  \
			 CV_SIGBIT(SIGFPE) | CV_SIGBIT(SIGSYS))
#define SIG_STOPS (CV_SIGBIT(SIGSTOP) | CV_SIGBIT(SIGTSTP) | \
		   CV_SIGBIT(SIGTTIN) | CV_SIGBIT(SIGTTOU))

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31) /* include/uapi/linux/signal.h */
#endif
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif
#ifndef SA_UNSUPPORTED
#define SA_UNSUPPORTED 0x00000400
#endif
#ifndef SA_EXPOSE_TAGBITS
#define SA_EXPOSE_TAGBITS 0x00000800
#endif

#define H_DFL 0ULL
#define H_IGN 1ULL

static inline void sig_lock(struct task *t)
{
	pthread_mutex_lock(&t->sig.group->lock);
}
static inline void sig_unlock(struct task *t)
{
	pthread_mutex_unlock(&t->sig.group->lock);
}
/* The handler of sig, read under the sighand lock. */
static inline struct cv_sigaction sig_action(struct task *t, int sig)
{
	struct cv_sigaction ka;

	pthread_mutex_lock(&t->sig.sighand->lock);
	ka = t->sig.sighand->action[sig - 1];
	pthread_mutex_unlock(&t->sig.sighand->lock);
	return ka;
}

/* With the sighand lock held. */
/* Dequeue the first signal not in mask (blocked set): thread-private
 * first, then shared; synchronous signals first. 0 if none. */
int signal_dequeue_locked(struct task *t, uint64_t mask, siginfo_t *info);
/* Set the blocked mask (KILL/STOP removed), retargeting shared signals
 * newly blocked here to another thread (kernel/signal.c
 * __set_task_blocked). */
void signal_set_blocked_locked(struct task *t, uint64_t newmask);
/* Remove the signals of mask from every pending set of the group. */
void signal_flush_group_locked(struct task *t, uint64_t mask);
/* Is sig ignored by its handler (SIG_IGN or default-ignore)? */
bool signal_handler_ignores(const struct cv_sigaction *ka, int sig);
/* Pending (private | shared) set of t. */
uint64_t signal_pending_set_locked(struct task *t);

/* Queue a kernel-generated info to t's group using a preallocated entry
 * (POSIX timers): returns false if the entry is still queued. */
bool signal_send_prealloc(struct task *t, struct sigqueue *q, bool to_thread);

/* Wake t to look at its signals: task_wake, interrupt the workload, knock
 * it out of a blocking host call. */
void signal_kick(struct task *t);

/* The current task of this host thread (set by signal_deliver_pending). */
struct task *signal_current(void);

/* Frames (signal_frame.c). setup: build the rt_sigframe for sig and point
 * the registers at the handler; 0 or -EFAULT. */
int signal_frame_setup(struct task *t, int sig, const siginfo_t *info,
		       const struct cv_sigaction *ka, uint64_t oldmask);
/* rt_sigreturn: restore from the frame at rsp-8; 0 or -EFAULT for a bad
 * frame (the caller forces SIGSEGV). */
int signal_frame_return(struct task *t);

/* Kernel-generated signal to t's group with the group lock held. */
int signal_send_group_locked(struct task *t, const siginfo_t *info);
/* Senders for kill/tkill/tgkill (signal.c). */
int signal_send_pgrp(struct task *self, int pgid, const siginfo_t *info);
int signal_send_tid(struct kernel *k, int tgid, int tid, const siginfo_t *info);
/* rt_sigreturn with a bad frame, or an unusable handler. */
void signal_force_sigsegv(struct task *t);
/* A POSIX timer's signal was dequeued: returns its overrun count. */
int posix_timer_dequeued(struct cv_timer *tm);

/* Is sp on t's alternate stack? (kernel/signal.c on_sig_stack) */
bool signal_on_altstack(struct task *t, uint64_t sp);

/* Time helpers (sys_time.c). */
uint64_t time_clock_ns(int clockid);
/* Block t until the absolute deadline on clockid (REALTIME, MONOTONIC,
 * BOOTTIME, TAI) or a signal: 0 at the deadline, -EINTR. */
int time_block_until(struct task *t, int clockid, uint64_t deadline_ns);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Signals: the interface between the task/process code (kernel.c, task.c,
 * process.c...) and signal delivery (sentry/kernel/signal*.c).
 *
 * The task loop calls signal_deliver_pending() before every ctx_switch. It
 * handles syscall restart like arch/x86/kernel/signal.c: a handler that
 * returned -ERESTART* leaves that value in regs.rax with regs.orig_rax
 * intact; delivery either turns it into -EINTR or rewinds rip by 2 (the
 * length of `syscall`) and restores rax = orig_rax. It then builds the
 * signal frame for the first deliverable signal, or applies its default
 * action (terminate/core: group exit; stop/continue; ignore).
 */
#ifndef CVISOR_SIGNAL_H
#define CVISOR_SIGNAL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "cvisor/platform.h"

/* Kernel-internal restart codes (include/linux/errno.h). Never seen by the
 * workload. */
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

struct kernel;
struct task;

/* Set up the signal state of a new task: share (CLONE_SIGHAND) or copy the
 * parent's handlers, inherit the mask, empty pending set. parent may be
 * NULL for the init task. Returns 0 or -ENOMEM. */
int signal_task_init(struct task *child, struct task *parent,
		     uint64_t clone_flags);
/* execve: handlers reset to default except ignored ones, altstack off. */
void signal_task_exec(struct task *t);
/* The task is gone: drop its signal state. */
void signal_task_free(struct task *t);

/* Queue a signal. info->si_signo must be valid; 0 is a no-op (kill -0).
 * _tgid: to a thread group (any thread that doesn't block it); _task: to
 * one thread. Returns 0 or -errno (-ESRCH, -EINVAL, -EAGAIN). */
int signal_send_tgid(struct kernel *k, int tgid, const siginfo_t *info);
int signal_send_task(struct task *t, const siginfo_t *info);

/* Does the task have an unblocked pending signal (or is it being killed)?
 * task_block() returns -EINTR when this is true. */
bool signal_pending(struct task *t);

/* Called by the task loop before resuming the workload (see above). */
void signal_deliver_pending(struct task *t);

/* A synchronous fault mm could not resolve: force the matching signal
 * (SIGSEGV with si_addr, SIGBUS, SIGFPE, SIGILL, SIGTRAP). */
void signal_fault(struct task *t, const struct stop_info *st);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * Signals, first revision: dispositions are recorded (sys_signal.c), nothing
 * is queued or delivered yet; a fault the workload cannot survive ends the
 * task with the signal's default action. The processes issue replaces this
 * with real queues and frames behind the same interface (cvisor/signal.h).
 */
#include <errno.h>
#include <stddef.h>

#include "cvisor/log.h"
#include "cvisor/signal.h"
#include "cvisor/task.h"

int signal_task_init(struct task *child, struct task *parent,
		     uint64_t clone_flags)
{
	(void)clone_flags;
	if (parent) {
		for (int i = 0; i < CV_NSIG; i++)
			child->sigactions[i] = parent->sigactions[i];
		child->sigmask = parent->sigmask;
	}
	return 0;
}

void signal_task_exec(struct task *t)
{
	for (int i = 0; i < CV_NSIG; i++)
		if (t->sigactions[i].handler != (uint64_t)(uintptr_t)SIG_IGN)
			t->sigactions[i].handler = (uint64_t)(uintptr_t)SIG_DFL;
	t->sigaltstack_sp = 0;
	t->sigaltstack_size = 0;
}

void signal_task_free(struct task *t)
{
	(void)t;
}

int signal_send_tgid(struct kernel *k, int tgid, const siginfo_t *info)
{
	(void)k;
	(void)tgid;
	(void)info;
	return -ENOSYS;
}

int signal_send_task(struct task *t, const siginfo_t *info)
{
	(void)t;
	(void)info;
	return -ENOSYS;
}

bool signal_pending(struct task *t)
{
	return __atomic_load_n(&t->k->kill_sig, __ATOMIC_SEQ_CST) != 0;
}

void signal_deliver_pending(struct task *t)
{
	int64_t rax = (int64_t)t->regs.rax;

	/* With no signal to deliver, a restartable call restarts (Linux's
	 * behaviour when no handler runs). */
	if (rax == -ERESTARTSYS || rax == -ERESTARTNOINTR ||
	    rax == -ERESTARTNOHAND) {
		t->regs.rax = t->regs.orig_rax;
		t->regs.rip -= 2;
	}
}

void signal_fault(struct task *t, const struct stop_info *st)
{
	log_debug("task %d: fatal fault sig %d code %d addr %#llx rip %#llx",
		  t->tid, st->signo, st->si_code, (unsigned long long)st->addr,
		  (unsigned long long)t->regs.rip);
	/* No core dumps are written, so the core bit stays clear. */
	task_exit(t, st->signo);
}

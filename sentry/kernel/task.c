// SPDX-License-Identifier: GPL-2.0
/*
 * The task loop: run the workload on the platform until it stops, serve the
 * stop, repeat. Runs on the task's own host thread; touches only its task and
 * reads the kill state (t->killed, proc->group_exiting, kernel->kill_sig,
 * kernel->shutting_down) atomically. No locks of its own.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cvisor/log.h"
#include "cvisor/mm.h"
#include "cvisor/signal.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "cvisor/util.h"

#pragma weak signal_host_signal

/* Default action of a signal sent to the whole sandbox from outside
 * (man 7 signal): the ones that do not terminate. */
static bool default_kills(int sig)
{
	switch (sig) {
	case SIGCHLD:
	case SIGCONT:
	case SIGURG:
	case SIGWINCH:
		return false;
	default:
		return true;
	}
}

bool task_must_die(struct task *t)
{
	int sig = __atomic_load_n(&t->k->kill_sig, __ATOMIC_SEQ_CST);

	if (__atomic_load_n(&t->killed, __ATOMIC_SEQ_CST))
		return true;
	if (t->proc && __atomic_load_n(&t->proc->group_exiting, __ATOMIC_SEQ_CST))
		return true;
	if (__atomic_load_n(&t->k->shutting_down, __ATOMIC_SEQ_CST))
		return true;
	return sig && default_kills(sig);
}

static void handle_fault(struct task *t, const struct stop_info *st)
{
	if (st->signo == SIGSEGV || st->signo == SIGBUS) {
		uint64_t t0 = unlikely(cv_log.strace) ? util_now_ns() : 0;
		int r = task_mm_fault(t, st->addr, st->access);

		/* --strace: faults the sentry resolves, in the syscall
		 * lines' format. */
		if (unlikely(cv_log.strace)) {
			uint64_t t1 = util_now_ns();

			fprintf(stderr, "[%5d] +%llu.%06llu fault(%#llx, %d) = %d <%.6f>\n",
				t->tid, (unsigned long long)(t0 / 1000000000ULL),
				(unsigned long long)(t0 % 1000000000ULL / 1000),
				(unsigned long long)st->addr, st->access, r,
				(double)(t1 - t0) / 1e9);
		}
		if (r == 0)
			return;
	}
	signal_fault(t, st);
}

void task_run(struct task *t)
{
	const struct platform_ops *ops = t->k->platform->ops;
	struct stop_info st;
	struct syscall_args a;

	__atomic_store_n(&t->host_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	while (!t->exiting) {
		int err;

		if (unlikely(task_must_die(t))) {
			int sig = __atomic_load_n(&t->k->kill_sig, __ATOMIC_SEQ_CST);

			/* The group's status (if any) wins in task_do_exit. */
			task_exit(t, sig && default_kills(sig) ? sig : SIGKILL);
			break;
		}
		signal_deliver_pending(t);
		if (unlikely(t->exiting))
			break;
		err = ops->ctx_switch(t->ctx, &t->regs, &st);
		if (unlikely(err)) {
			log_err("task %d: platform switch failed: %s", t->tid,
				strerror(-err));
			task_group_exit(t, SIGKILL);
			break;
		}
		switch (st.reason) {
		case STOP_SYSCALL:
			a.a[0] = t->regs.rdi;
			a.a[1] = t->regs.rsi;
			a.a[2] = t->regs.rdx;
			a.a[3] = t->regs.r10;
			a.a[4] = t->regs.r8;
			a.a[5] = t->regs.r9;
			t->regs.rax = (uint64_t)syscall_dispatch(
				t, t->regs.orig_rax, &a);
			break;
		case STOP_FAULT:
			handle_fault(t, &st);
			break;
		case STOP_SIGNAL:
			log_debug("task %d: host signal %d", t->tid, st.signo);
			if (signal_host_signal)
				signal_host_signal(t, st.signo);
			else if (default_kills(st.signo) &&
				 !(t->sig.blocked & CV_SIGBIT(st.signo)))
				task_group_exit(t, st.signo);
			break;
		case STOP_INTERRUPTED:
			break;
		case STOP_DEAD:
			log_warn("task %d: stub died", t->tid);
			task_group_exit(t, SIGKILL);
			break;
		}
	}
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The task loop: run the workload on the platform until it stops, serve the
 * stop, repeat. Runs on the task's own host thread; touches only its task and
 * reads kernel->kill_sig atomically.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cvisor/log.h"
#include "cvisor/mm.h"
#include "cvisor/signal.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "cvisor/util.h"

#define SIGBIT(s) (1ULL << ((s) - 1))

void task_exit(struct task *t, int wait_status)
{
	if (t->exiting)
		return;
	t->exiting = true;
	t->exit_status = wait_status;
}

/* Default action of a signal the workload cannot handle yet (delivery to
 * handlers comes with the processes issue): man 7 signal. Returns true if
 * the task dies. */
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

static void handle_fault(struct task *t, const struct stop_info *st)
{
	if (st->signo == SIGSEGV || st->signo == SIGBUS) {
		if (mm_fault(t->mm, st->addr, st->access) == 0)
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
		int sig = __atomic_load_n(&t->k->kill_sig, __ATOMIC_SEQ_CST);
		int err;

		if (unlikely(sig) && default_kills(sig)) {
			task_exit(t, sig);
			break;
		}
		signal_deliver_pending(t);
		if (unlikely(t->exiting))
			break;
		err = ops->ctx_switch(t->ctx, &t->regs, &st);
		if (unlikely(err)) {
			log_err("task %d: platform switch failed: %s", t->tid,
				strerror(-err));
			task_exit(t, SIGKILL);
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
			if (default_kills(st.signo) &&
			    !(t->sigmask & SIGBIT(st.signo)))
				task_exit(t, st.signo);
			break;
		case STOP_INTERRUPTED:
			break;
		case STOP_DEAD:
			log_warn("task %d: stub died", t->tid);
			task_exit(t, SIGKILL);
			break;
		}
	}
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Signal system calls (kernel/signal.c): dispositions, masks, the
 * alternate stack, sending (kill, tkill, tgkill, sigqueue), waiting
 * (sigsuspend, pause, sigtimedwait) and rt_sigreturn. Errors are checked
 * in Linux's order. Locks: the thread group's lock (sig_lock) around mask
 * and pending-set changes; sighand->lock inside it for handlers.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "../kernel/signal_impl.h"

#define SIGBIT(s) CV_SIGBIT(s)
#define UNBLOCKABLE SIG_UNBLOCKABLE

SYSCALL_DEFINE(rt_sigaction)
{
	int sig = (int)args->a[0];
	struct cv_sigaction act, old;

	if (args->a[3] != sizeof(uint64_t))
		return -EINVAL;
	if (args->a[1] && mm_copy_in(t->mm, &act, args->a[1], sizeof(act)))
		return -EFAULT;
	if (sig < 1 || sig > CV_NSIG)
		return -EINVAL;
	if (args->a[1] && (sig == SIGKILL || sig == SIGSTOP))
		return -EINVAL;
	sig_lock(t);
	pthread_mutex_lock(&t->sig.sighand->lock);
	old = t->sig.sighand->action[sig - 1];
	if (args->a[1]) {
		act.mask &= ~UNBLOCKABLE;
		t->sig.sighand->action[sig - 1] = act;
	}
	pthread_mutex_unlock(&t->sig.sighand->lock);
	/* do_sigaction: a signal that becomes ignored is discarded from
	 * every pending set of the group (POSIX 3.3.1.3). */
	if (args->a[1] && signal_handler_ignores(&act, sig))
		signal_flush_group_locked(t, SIGBIT(sig));
	sig_unlock(t);
	if (args->a[2] && mm_copy_out(t->mm, args->a[2], &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE(rt_sigprocmask)
{
	int how = (int)args->a[0];
	uint64_t set, nm, old = t->sig.blocked;

	if (args->a[3] != sizeof(uint64_t))
		return -EINVAL;
	if (args->a[1]) {
		if (mm_copy_in(t->mm, &set, args->a[1], sizeof(set)))
			return -EFAULT;
		set &= ~UNBLOCKABLE;
		switch (how) {
		case SIG_BLOCK:
			nm = old | set;
			break;
		case SIG_UNBLOCK:
			nm = old & ~set;
			break;
		case SIG_SETMASK:
			nm = set;
			break;
		default:
			return -EINVAL;
		}
		sig_lock(t);
		signal_set_blocked_locked(t, nm);
		sig_unlock(t);
	}
	if (args->a[2] && mm_copy_out(t->mm, args->a[2], &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

/* stack_t as laid out on x86-64. */
struct cv_stack {
	uint64_t sp;
	int32_t flags;
	int32_t pad;
	uint64_t size;
};

SYSCALL_DEFINE(sigaltstack)
{
	struct cv_stack ss, old;

	memset(&old, 0, sizeof(old));
	old.sp = t->sig.altstack_sp;
	old.size = t->sig.altstack_size;
	/* sas_ss_flags(sp) | SS_AUTODISARM bit (do_sigaltstack). */
	old.flags = !t->sig.altstack_size ? SS_DISABLE :
		    signal_on_altstack(t, t->regs.rsp) ? SS_ONSTACK : 0;
	old.flags |= (int32_t)((uint32_t)t->sig.altstack_flags & SS_AUTODISARM);
	if (args->a[0]) {
		int mode;

		if (mm_copy_in(t->mm, &ss, args->a[0], sizeof(ss)))
			return -EFAULT;
		if (signal_on_altstack(t, t->regs.rsp))
			return -EPERM;
		/* kernel/signal.c do_sigaltstack: SS_AUTODISARM may be or-ed
		 * in; the mode must be 0, SS_ONSTACK or SS_DISABLE. */
		mode = (int)((uint32_t)ss.flags & ~SS_AUTODISARM);
		if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0)
			return -EINVAL;
		if (mode == SS_DISABLE) {
			t->sig.altstack_sp = 0;
			t->sig.altstack_size = 0;
			t->sig.altstack_flags = 0;
		} else {
			if (ss.size < (uint64_t)MINSIGSTKSZ)
				return -ENOMEM;
			t->sig.altstack_sp = ss.sp;
			t->sig.altstack_size = ss.size;
			t->sig.altstack_flags = (int)((uint32_t)ss.flags & SS_AUTODISARM);
		}
	}
	if (args->a[1] && mm_copy_out(t->mm, args->a[1], &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE(rt_sigreturn)
{
	(void)args;
	/* badframe: SIGSEGV, and the call itself returns 0. */
	if (signal_frame_return(t)) {
		signal_force_sigsegv(t);
		return 0;
	}
	return (long)t->regs.rax;
}

SYSCALL_DEFINE(rt_sigpending)
{
	uint64_t set;
	size_t size = args->a[1];

	/* sigpending copies sigsetsize bytes; more than 8 is EINVAL. */
	if (size > sizeof(uint64_t))
		return -EINVAL;
	sig_lock(t);
	set = signal_pending_set_locked(t) & t->sig.blocked;
	sig_unlock(t);
	if (mm_copy_out(t->mm, args->a[0], &set, size))
		return -EFAULT;
	return 0;
}

/* Sleep until a signal is delivered (sigsuspend/pause). */
static void wait_for_signal(struct task *t)
{
	while (task_block(t, NULL) != -EINTR)
		;
}

SYSCALL_DEFINE(rt_sigsuspend)
{
	uint64_t set;

	if (args->a[1] != sizeof(uint64_t))
		return -EINVAL;
	if (mm_copy_in(t->mm, &set, args->a[0], sizeof(set)))
		return -EFAULT;
	sig_lock(t);
	t->sig.saved_mask = t->sig.blocked;
	t->sig.restore_saved_mask = true;
	signal_set_blocked_locked(t, set);
	sig_unlock(t);
	wait_for_signal(t);
	return -ERESTARTNOHAND;
}

SYSCALL_DEFINE(pause)
{
	(void)args;
	wait_for_signal(t);
	return -ERESTARTNOHAND;
}

struct cv_timespec {
	int64_t sec, nsec;
};

SYSCALL_DEFINE(rt_sigtimedwait)
{
	uint64_t set, deadline = 0;
	struct cv_timespec ts;
	siginfo_t info;
	int sig, r = 0;

	if (args->a[3] != sizeof(uint64_t))
		return -EINVAL;
	if (mm_copy_in(t->mm, &set, args->a[0], sizeof(set)))
		return -EFAULT;
	if (args->a[2]) {
		if (mm_copy_in(t->mm, &ts, args->a[2], sizeof(ts)))
			return -EFAULT;
		if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= 1000000000)
			return -EINVAL;
		deadline = util_now_ns() + (uint64_t)ts.sec * 1000000000ULL +
			   (uint64_t)ts.nsec;
	}
	set &= ~UNBLOCKABLE;
	sig_lock(t);
	sig = signal_dequeue_locked(t, ~set, &info);
	if (!sig && !(args->a[2] && ts.sec == 0 && ts.nsec == 0)) {
		/* Wait with the awaited signals unblocked (do_sigtimedwait). */
		t->sig.real_blocked = t->sig.blocked;
		t->sig.blocked &= ~set;
		signal_set_blocked_locked(t, t->sig.blocked);
		sig_unlock(t);
		if (args->a[2])
			r = time_block_until(t, CLOCK_MONOTONIC, deadline);
		else
			while ((r = task_block(t, NULL)) == 0)
				;
		sig_lock(t);
		t->sig.blocked = t->sig.real_blocked;
		t->sig.real_blocked = 0;
		signal_set_blocked_locked(t, t->sig.blocked);
		sig = signal_dequeue_locked(t, ~set, &info);
	}
	sig_unlock(t);
	if (!sig)
		return r == -EINTR ? -EINTR : -EAGAIN;
	/* Only the 128-byte siginfo goes out. */
	if (args->a[1] && mm_copy_out(t->mm, args->a[1], &info, sizeof(info)))
		return -EFAULT;
	return sig;
}

static void fill_kill_info(struct task *t, siginfo_t *info, int sig, int code)
{
	memset(info, 0, sizeof(*info));
	info->si_signo = sig;
	info->si_code = code;
	info->si_pid = t->tgid;
	info->si_uid = (uid_t)t->cred.ruid;
}

SYSCALL_DEFINE(kill)
{
	int pid = (int)args->a[0], sig = (int)args->a[1];
	siginfo_t info;

	fill_kill_info(t, &info, sig, SI_USER);
	if (pid > 0)
		return signal_send_tgid(t->k, pid, &info);
	if (pid == -1) {
		if (sig < 0 || sig > CV_NSIG)
			return -EINVAL;
		return signal_send_pgrp(t, 0, &info);
	}
	if (pid == INT32_MIN)
		return -ESRCH;
	if (sig < 0 || sig > CV_NSIG)
		return -EINVAL;
	return signal_send_pgrp(t, pid == 0 ? t->pgid : -pid, &info);
}

SYSCALL_DEFINE(tkill)
{
	int tid = (int)args->a[0], sig = (int)args->a[1];
	siginfo_t info;

	if (tid <= 0)
		return -EINVAL;
	fill_kill_info(t, &info, sig, SI_TKILL);
	return signal_send_tid(t->k, 0, tid, &info);
}

SYSCALL_DEFINE(tgkill)
{
	int tgid = (int)args->a[0], tid = (int)args->a[1], sig = (int)args->a[2];
	siginfo_t info;

	if (tid <= 0 || tgid <= 0)
		return -EINVAL;
	fill_kill_info(t, &info, sig, SI_TKILL);
	return signal_send_tid(t->k, tgid, tid, &info);
}

SYSCALL_DEFINE(rt_sigqueueinfo)
{
	int pid = (int)args->a[0], sig = (int)args->a[1];
	siginfo_t info;

	if (mm_copy_in(t->mm, &info, args->a[2], sizeof(info)))
		return -EFAULT;
	/* Nobody may pretend to be the kernel or kill()/tkill() for
	 * another process. */
	if ((info.si_code >= 0 || info.si_code == SI_TKILL) && pid != t->tgid)
		return -EPERM;
	info.si_signo = sig;
	return signal_send_tgid(t->k, pid, &info);
}

SYSCALL_DEFINE(rt_tgsigqueueinfo)
{
	int tgid = (int)args->a[0], tid = (int)args->a[1], sig = (int)args->a[2];
	siginfo_t info;

	if (mm_copy_in(t->mm, &info, args->a[3], sizeof(info)))
		return -EFAULT;
	if (tid <= 0 || tgid <= 0)
		return -EINVAL;
	if ((info.si_code >= 0 || info.si_code == SI_TKILL) && tgid != t->tgid)
		return -EPERM;
	info.si_signo = sig;
	return signal_send_tid(t->k, tgid, tid, &info);
}

SYSCALL_DEFINE(restart_syscall)
{
	(void)args;
	if (!t->sig.restart.fn)
		return -EINTR;
	return t->sig.restart.fn(t);
}

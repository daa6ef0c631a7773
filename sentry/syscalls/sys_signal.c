// SPDX-License-Identifier: GPL-2.0
/*
 * Signal dispositions, mask and alternate stack: recorded per task with the
 * validation of kernel/signal.c. Delivery comes with the processes issue.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31) /* include/uapi/linux/signal.h */
#endif

#define SIGBIT(s) (1ULL << ((s) - 1))
#define UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))

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
	old = t->sigactions[sig - 1];
	if (args->a[1]) {
		act.mask &= ~UNBLOCKABLE;
		t->sigactions[sig - 1] = act;
	}
	if (args->a[2] && mm_copy_out(t->mm, args->a[2], &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE(rt_sigprocmask)
{
	int how = (int)args->a[0];
	uint64_t set, old = t->sigmask;

	if (args->a[3] != sizeof(uint64_t))
		return -EINVAL;
	if (args->a[1]) {
		if (mm_copy_in(t->mm, &set, args->a[1], sizeof(set)))
			return -EFAULT;
		set &= ~UNBLOCKABLE;
		switch (how) {
		case SIG_BLOCK:
			t->sigmask |= set;
			break;
		case SIG_UNBLOCK:
			t->sigmask &= ~set;
			break;
		case SIG_SETMASK:
			t->sigmask = set;
			break;
		default:
			return -EINVAL;
		}
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
	old.sp = t->sigaltstack_sp;
	old.size = t->sigaltstack_size;
	old.flags = t->sigaltstack_size ? t->sigaltstack_flags : SS_DISABLE;
	if (args->a[0]) {
		int mode;

		if (mm_copy_in(t->mm, &ss, args->a[0], sizeof(ss)))
			return -EFAULT;
		/* kernel/signal.c do_sigaltstack: SS_AUTODISARM may be or-ed
		 * in; the mode must be 0, SS_ONSTACK or SS_DISABLE. */
		mode = (int)((uint32_t)ss.flags & ~SS_AUTODISARM);
		if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0)
			return -EINVAL;
		if (mode == SS_DISABLE) {
			t->sigaltstack_sp = 0;
			t->sigaltstack_size = 0;
			t->sigaltstack_flags = SS_DISABLE;
		} else {
			if (ss.size < (uint64_t)MINSIGSTKSZ)
				return -ENOMEM;
			t->sigaltstack_sp = ss.sp;
			t->sigaltstack_size = ss.size;
			t->sigaltstack_flags = (int)((uint32_t)ss.flags & SS_AUTODISARM);
		}
	}
	if (args->a[1] && mm_copy_out(t->mm, args->a[1], &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

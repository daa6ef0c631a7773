// SPDX-License-Identifier: GPL-2.0
/*
 * fork, vfork, clone, clone3 (kernel/fork.c): argument decoding; the work
 * is process_clone() in sentry/kernel/process.c. No locks here.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "cvisor/util.h"

#ifndef CSIGNAL
#define CSIGNAL 0xff
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#define CLONE_INTO_CGROUP 0x200000000ULL
#define CLONE_LEGACY_FLAGS 0xffffffffULL
#define CLONE_ARGS_SIZE_VER0 64
#define CLONE_ARGS_SIZE_VER2 88
#define MAX_PID_NS_LEVEL 32

/* CLONE_PIDFD: the fd is written after the child exists, so make sure now
 * that the int at addr can be written (copy_process fails the clone with
 * EFAULT before the child runs). */
static int pidfd_addr_ok(struct task *t, uint64_t addr)
{
	int32_t v;

	if (mm_copy_in(t->mm, &v, addr, sizeof(v)) ||
	    mm_copy_out(t->mm, addr, &v, sizeof(v)))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE(fork)
{
	struct clone_params cp = { .flags = 0, .exit_signal = SIGCHLD };

	(void)args;
	return process_clone(t, &cp);
}

SYSCALL_DEFINE(vfork)
{
	struct clone_params cp = {
		.flags = CLONE_VM | CLONE_VFORK, .exit_signal = SIGCHLD,
	};

	(void)args;
	return process_clone(t, &cp);
}

/* x86-64 argument order: flags, newsp, parent_tid, child_tid, tls. */
SYSCALL_DEFINE(clone)
{
	uint64_t flags = args->a[0] & CLONE_LEGACY_FLAGS;
	struct clone_params cp = {
		.flags = flags & ~(uint64_t)CSIGNAL,
		.exit_signal = (int)(flags & CSIGNAL),
		.stack = args->a[1],
		.parent_tid = args->a[2],
		.child_tid = args->a[3],
		.tls = args->a[4],
	};

	/* The pidfd would go to parent_tid: both at once is ambiguous. */
	if ((flags & CLONE_PIDFD) && (flags & CLONE_PARENT_SETTID))
		return -EINVAL;
	if (flags & CLONE_THREAD)
		cp.exit_signal = 0;
	else if (cp.exit_signal > 64)
		return -EINVAL;
	if (flags & CLONE_PIDFD) {
		/* clone(2) returns the pidfd through parent_tid. */
		cp.pidfd = cp.parent_tid;
		if (!(flags & (CLONE_THREAD | CLONE_DETACHED)) &&
		    pidfd_addr_ok(t, cp.pidfd))
			return -EFAULT;
	}
	return process_clone(t, &cp);
}

struct clone_args_v2 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack,
		stack_size, tls, set_tid, set_tid_size, cgroup;
};

SYSCALL_DEFINE(clone3)
{
	struct clone_args_v2 ca = { 0 };
	uint64_t usize = args->a[1];
	struct clone_params cp;

	/* copy_clone_args_from_user(). */
	if (usize > PAGE_SIZE)
		return -E2BIG;
	if (usize < CLONE_ARGS_SIZE_VER0)
		return -EINVAL;
	if (mm_copy_in(t->mm, &ca, args->a[0], MIN(usize, sizeof(ca))))
		return -EFAULT;
	if (usize > sizeof(ca)) {
		/* copy_struct_from_user: unknown trailing bytes must be 0. */
		unsigned char tail[256];

		for (uint64_t off = sizeof(ca); off < usize; off += sizeof(tail)) {
			size_t n = MIN(sizeof(tail), usize - off);

			if (mm_copy_in(t->mm, tail, args->a[0] + off, n))
				return -EFAULT;
			for (size_t i = 0; i < n; i++)
				if (tail[i])
					return -E2BIG;
		}
	}
	if (ca.set_tid_size > MAX_PID_NS_LEVEL)
		return -EINVAL;
	if (!ca.set_tid && ca.set_tid_size > 0)
		return -EINVAL;
	if (ca.set_tid && ca.set_tid_size == 0)
		return -EINVAL;
	if ((ca.exit_signal & ~(uint64_t)CSIGNAL) || ca.exit_signal > 64)
		return -EINVAL;
	if ((ca.flags & CLONE_INTO_CGROUP) &&
	    (ca.cgroup > INT32_MAX || usize < CLONE_ARGS_SIZE_VER2))
		return -EINVAL;
	/* clone3_args_valid(). */
	if (ca.flags & ~(CLONE_LEGACY_FLAGS | CLONE_CLEAR_SIGHAND |
			 CLONE_INTO_CGROUP))
		return -EINVAL;
	if (ca.flags & (CLONE_DETACHED | (CSIGNAL & ~(uint64_t)CLONE_NEWTIME)))
		return -EINVAL;
	if ((ca.flags & (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND)) ==
	    (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND))
		return -EINVAL;
	if ((ca.flags & (CLONE_THREAD | CLONE_PARENT)) && ca.exit_signal)
		return -EINVAL;
	if ((ca.stack == 0 && ca.stack_size != 0) ||
	    (ca.stack != 0 && ca.stack_size == 0))
		return -EINVAL;
	/* Not offered: choosing the child's pid, cgroups, resetting the
	 * handlers in the child. */
	if (ca.set_tid || (ca.flags & (CLONE_INTO_CGROUP | CLONE_CLEAR_SIGHAND |
				      CLONE_NEWTIME)))
		return -EINVAL;
	/* kernel_clone(): both results at one address is ambiguous. */
	if ((ca.flags & CLONE_PIDFD) && (ca.flags & CLONE_PARENT_SETTID) &&
	    ca.pidfd == ca.parent_tid)
		return -EINVAL;
	if ((ca.flags & CLONE_PIDFD) &&
	    !(ca.flags & (CLONE_THREAD | CLONE_DETACHED)) &&
	    pidfd_addr_ok(t, ca.pidfd))
		return -EFAULT;
	memset(&cp, 0, sizeof(cp));
	cp.flags = ca.flags;
	cp.pidfd = ca.pidfd;
	cp.exit_signal = (int)ca.exit_signal;
	cp.stack = ca.stack ? ca.stack + ca.stack_size : 0;
	cp.parent_tid = ca.parent_tid;
	cp.child_tid = ca.child_tid;
	cp.tls = ca.tls;
	return process_clone(t, &cp);
}

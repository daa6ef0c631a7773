// SPDX-License-Identifier: GPL-2.0
/*
 * futex, get_robust_list (kernel/futex/syscalls.c). The work is in
 * sentry/kernel/futex.c.
 */
#include <errno.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"

SYSCALL_DEFINE(futex)
{
	return futex_op(t, args->a[0], (int)args->a[1], (uint32_t)args->a[2],
			args->a[3], args->a[4], (uint32_t)args->a[5]);
}

SYSCALL_DEFINE(get_robust_list)
{
	int pid = (int)args->a[0];
	uint64_t head, len = 24;
	struct task *target;

	pthread_mutex_lock(&t->k->lock);
	target = pid ? kernel_find_task(t->k, pid) : t;
	if (!target || target->exited) {
		pthread_mutex_unlock(&t->k->lock);
		return -ESRCH;
	}
	head = target->robust_list;
	pthread_mutex_unlock(&t->k->lock);
	if (mm_copy_out(t->mm, args->a[2], &len, sizeof(len)))
		return -EFAULT;
	if (mm_copy_out(t->mm, args->a[1], &head, sizeof(head)))
		return -EFAULT;
	return 0;
}

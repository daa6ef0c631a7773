// SPDX-License-Identifier: GPL-2.0
/*
 * POSIX message queue system calls (ipc/mqueue.c). The work is in
 * sentry/ipc/mqueue.c.
 *
 * Locks: none here. References: none.
 */
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "../ipc/ipc_impl.h"

SYSCALL_DEFINE(mq_open)
{
	return pmq_open(t, args->a[0], (int)args->a[1], (uint32_t)args->a[2],
			args->a[3]);
}

SYSCALL_DEFINE(mq_unlink)
{
	return pmq_unlink(t, args->a[0]);
}

SYSCALL_DEFINE(mq_timedsend)
{
	return pmq_timedsend(t, (int)args->a[0], args->a[1], args->a[2],
			     (uint32_t)args->a[3], args->a[4]);
}

SYSCALL_DEFINE(mq_timedreceive)
{
	return pmq_timedreceive(t, (int)args->a[0], args->a[1], args->a[2],
				args->a[3], args->a[4]);
}

SYSCALL_DEFINE(mq_notify)
{
	return pmq_notify(t, (int)args->a[0], args->a[1]);
}

SYSCALL_DEFINE(mq_getsetattr)
{
	return pmq_getsetattr(t, (int)args->a[0], args->a[1], args->a[2]);
}

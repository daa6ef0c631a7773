// SPDX-License-Identifier: GPL-2.0
/*
 * execve, execveat: the work is process_execve() (sentry/kernel/exec.c).
 */
#include <fcntl.h>

#include "cvisor/syscall.h"
#include "cvisor/task.h"

SYSCALL_DEFINE(execve)
{
	return process_execve(t, AT_FDCWD, args->a[0], args->a[1], args->a[2], 0);
}

SYSCALL_DEFINE(execveat)
{
	return process_execve(t, (int)args->a[0], args->a[1], args->a[2],
			      args->a[3], (int)args->a[4]);
}

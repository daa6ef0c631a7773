// SPDX-License-Identifier: GPL-2.0
/*
 * wait4, waitid (kernel/exit.c): copy-out only; the work is in
 * sentry/kernel/wait.c, the usage figures in sentry/kernel/procinfo.c.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"

static long put_rusage(struct task *t, uint64_t addr, const struct rusage *ru)
{
	if (!addr)
		return 0;
	return mm_copy_out(t->mm, addr, ru, sizeof(*ru)) ? -EFAULT : 0;
}

SYSCALL_DEFINE(wait4)
{
	int status = 0;
	struct rusage ru;
	long r;

	memset(&ru, 0, sizeof(ru));
	r = process_wait4(t, (int)args->a[0], (int)args->a[2], &status, &ru);

	if (r > 0) {
		if (args->a[1] && mm_copy_out(t->mm, args->a[1], &status,
					      sizeof(status)))
			return -EFAULT;
		if (put_rusage(t, args->a[3], &ru))
			return -EFAULT;
	}
	return r;
}

SYSCALL_DEFINE(waitid)
{
	siginfo_t si;
	struct rusage ru;
	long r;

	memset(&ru, 0, sizeof(ru));
	r = process_waitid(t, (int)args->a[0], (int)args->a[1], (int)args->a[3],
			   &si, &ru);

	if (r < 0)
		return r;
	if (args->a[2] && mm_copy_out(t->mm, args->a[2], &si, sizeof(si)))
		return -EFAULT;
	if (put_rusage(t, args->a[4], &ru))
		return -EFAULT;
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * syslog(2): the sandbox's own kernel log (sentry/kernel/syslog.c), never
 * the host's. Locks: none here.
 */
#include <errno.h>
#include <stdlib.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/syslog.h"
#include "cvisor/task.h"
#include "cvisor/util.h"

#define CAP_SYS_ADMIN_NR 21
#define CAP_SYSLOG_NR 34

SYSCALL_DEFINE(syslog)
{
	int type = (int)args->a[0];
	int len = (int)args->a[2];
	bool cap = cred_capable(&t->cred, CAP_SYSLOG_NR) ||
		   cred_capable(&t->cred, CAP_SYS_ADMIN_NR);
	_cleanup_free_ char *buf = NULL;
	long r;

	/* Reads copy out of a sentry buffer (do_syslog works on a kernel
	 * copy too). */
	if ((type == 2 || type == 3 || type == 4) && len > 0) {
		if (!args->a[1])
			return -EINVAL;
		buf = malloc((size_t)MIN(len, 1 << 20));
		if (!buf)
			return -ENOMEM;
		len = MIN(len, 1 << 20);
	}
	r = syslog_do(t->k, type, buf, len, cap);
	if (r > 0 && buf && mm_copy_out(t->mm, args->a[1], buf, (size_t)r))
		return -EFAULT;
	return r;
}

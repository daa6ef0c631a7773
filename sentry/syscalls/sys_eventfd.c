// SPDX-License-Identifier: GPL-2.0
/*
 * eventfd(2), eventfd2 (fs/eventfd.c); the counter is vfs/anon/eventfd.c.
 *
 * Locks: none. References: the new file is put after install.
 */
#include <errno.h>
#include <sys/eventfd.h>

#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "../../vfs/vfs_impl.h"

static long do_eventfd(struct task *t, unsigned int initval, int flags)
{
	uint64_t lim = t->rlimits[RLIMIT_NOFILE].rlim_cur;
	struct file *f;
	int r;

	ipc_set_current(t);
	r = eventfd_create(initval, flags, &f);
	if (r < 0)
		return r;
	r = fdtable_alloc(t->fdt, f, 0, flags & EFD_CLOEXEC,
			  lim > VFS_NR_OPEN ? VFS_NR_OPEN : (int)lim);
	vfs_file_put(f);
	return r;
}

SYSCALL_DEFINE(eventfd)
{
	return do_eventfd(t, (unsigned int)args->a[0], 0);
}

SYSCALL_DEFINE(eventfd2)
{
	return do_eventfd(t, (unsigned int)args->a[0], (int)args->a[1]);
}

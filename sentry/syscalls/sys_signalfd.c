// SPDX-License-Identifier: GPL-2.0
/*
 * signalfd, signalfd4 (fs/signalfd.c): argument checks in Linux's order;
 * the file is vfs/anon/signalfd.c.
 *
 * Locks: none. References: a new file is put after install; an existing
 * one (mask update) is put after the update.
 */
#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "../kernel/signal_impl.h"
#include "../../vfs/vfs_impl.h"

static long do_signalfd4(struct task *t, int ufd, uint64_t umask,
			 uint64_t sizemask, int flags)
{
	uint64_t lim = t->rlimits[RLIMIT_NOFILE].rlim_cur;
	uint64_t mask;
	struct file *f;
	int r;

	if (sizemask != sizeof(uint64_t))
		return -EINVAL;
	if (mm_copy_in(t->mm, &mask, umask, sizeof(mask)))
		return -EFAULT;
	if (flags & ~(SFD_CLOEXEC | SFD_NONBLOCK))
		return -EINVAL;
	mask &= ~SIG_UNBLOCKABLE;
	if (ufd == -1) {
		ipc_set_current(t);
		r = signalfd_create(mask, flags, &f);
		if (r < 0)
			return r;
		r = fdtable_alloc(t->fdt, f, 0, flags & SFD_CLOEXEC,
				  lim > VFS_NR_OPEN ? VFS_NR_OPEN : (int)lim);
		vfs_file_put(f);
		return r;
	}
	f = fdtable_get(t->fdt, ufd);
	if (!f)
		return -EBADF;
	r = signalfd_update(f, mask);
	vfs_file_put(f);
	return r < 0 ? r : ufd;
}

SYSCALL_DEFINE(signalfd)
{
	return do_signalfd4(t, (int)args->a[0], args->a[1], args->a[2], 0);
}

SYSCALL_DEFINE(signalfd4)
{
	return do_signalfd4(t, (int)args->a[0], args->a[1], args->a[2],
			    (int)args->a[3]);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * pipe(2), pipe2(2) (fs/pipe.c do_pipe2): both fds are installed or none;
 * the fd pair is copied out last, and a fault there closes them again.
 *
 * Locks: none here. References: the two new files are put after install.
 */
#include <errno.h>
#include <fcntl.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "../../vfs/vfs_impl.h"

/* include/uapi/linux/watch_queue.h */
#ifndef O_NOTIFICATION_PIPE
#define O_NOTIFICATION_PIPE O_EXCL
#endif

static long do_pipe2(struct task *t, uint64_t ufds, unsigned int flags)
{
	struct file *rd, *wr;
	uint64_t lim = t->rlimits[RLIMIT_NOFILE].rlim_cur;
	int limit = lim > VFS_NR_OPEN ? VFS_NR_OPEN : (int)lim;
	int fds[2], r;

	ipc_set_current(t);
	if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT | O_NOTIFICATION_PIPE))
		return -EINVAL;
	/* Watch-queue pipes need CONFIG_WATCH_QUEUE: not offered. */
	if (flags & O_NOTIFICATION_PIPE)
		return -ENOPKG;
	r = pipe_create(t, flags, &rd, &wr);
	if (r < 0)
		return r;
	fds[0] = fdtable_alloc(t->fdt, rd, 0, flags & O_CLOEXEC, limit);
	if (fds[0] < 0) {
		r = fds[0];
		goto out;
	}
	fds[1] = fdtable_alloc(t->fdt, wr, 0, flags & O_CLOEXEC, limit);
	if (fds[1] < 0) {
		r = fds[1];
		fdtable_close(t->fdt, fds[0]);
		goto out;
	}
	if (mm_copy_out(t->mm, ufds, fds, sizeof(fds))) {
		fdtable_close(t->fdt, fds[0]);
		fdtable_close(t->fdt, fds[1]);
		r = -EFAULT;
		goto out;
	}
	r = 0;
out:
	vfs_file_put(rd);
	vfs_file_put(wr);
	return r;
}

SYSCALL_DEFINE(pipe)
{
	return do_pipe2(t, args->a[0], 0);
}

SYSCALL_DEFINE(pipe2)
{
	return do_pipe2(t, args->a[0], (unsigned int)args->a[1]);
}

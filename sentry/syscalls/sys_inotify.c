// SPDX-License-Identifier: GPL-2.0
/*
 * inotify_init(2), inotify_init1, inotify_add_watch(2), inotify_rm_watch(2)
 * (fs/notify/inotify/inotify_user.c), with its errno order: mask checks
 * before EBADF, EINVAL for a file that is not an inotify instance, then
 * the path walk. The instance is vfs/anon/inotify.c, the watches and the
 * vfs hooks vfs/fsnotify.c.
 *
 * Locks: none of its own. References: fdtable_get() results and the new
 * file are put before returning.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "../../vfs/fsnotify.h"

/* ALL_INOTIFY_BITS */
#define INOTIFY_VALID_BITS (FSN_ALL_EVENTS | FSN_UNMOUNT | FSN_Q_OVERFLOW | \
			    FSN_IGNORED | FSN_ONLYDIR | FSN_DONT_FOLLOW | \
			    FSN_EXCL_UNLINK | FSN_MASK_CREATE | FSN_MASK_ADD | \
			    FSN_ISDIR | FSN_ONESHOT)

static long do_inotify_init(struct task *t, int flags)
{
	uint64_t lim = t->rlimits[RLIMIT_NOFILE].rlim_cur;
	struct file *f;
	int r;

	ipc_set_current(t);
	r = inotify_create(t->fs->vfs, flags, &f);
	if (r < 0)
		return r;
	r = fdtable_alloc(t->fdt, f, 0, flags & O_CLOEXEC,
			  lim > VFS_NR_OPEN ? VFS_NR_OPEN : (int)lim);
	vfs_file_put(f);
	return r;
}

SYSCALL_DEFINE(inotify_init)
{
	(void)args;
	return do_inotify_init(t, 0);
}

SYSCALL_DEFINE(inotify_init1)
{
	return do_inotify_init(t, (int)args->a[0]);
}

SYSCALL_DEFINE(inotify_add_watch)
{
	int fd = (int)args->a[0];
	uint32_t mask = (uint32_t)args->a[2];
	char *path;
	struct file *f;
	ssize_t n;
	long r;

	if ((mask & FSN_MASK_ADD) && (mask & FSN_MASK_CREATE))
		return -EINVAL;
	if (mask & ~INOTIFY_VALID_BITS)
		return -EINVAL;
	if (!(mask & INOTIFY_VALID_BITS))
		return -EINVAL;
	f = fdtable_get(t->fdt, fd);
	if (!f)
		return -EBADF;
	if (!file_is_inotify(f)) {
		vfs_file_put(f);
		return -EINVAL;
	}
	path = malloc(VFS_PATH_MAX);
	if (!path) {
		vfs_file_put(f);
		return -ENOMEM;
	}
	n = mm_strncpy_in(t->mm, path, args->a[1], VFS_PATH_MAX);
	r = n < 0 ? n : inotify_add_watch_file(t, f, path, mask);
	free(path);
	vfs_file_put(f);
	return r;
}

SYSCALL_DEFINE(inotify_rm_watch)
{
	struct file *f = fdtable_get(t->fdt, (int)args->a[0]);
	long r;

	if (!f)
		return -EBADF;
	r = file_is_inotify(f) ? inotify_rm_watch_file(f, (int)args->a[1])
			       : -EINVAL;
	vfs_file_put(f);
	return r;
}

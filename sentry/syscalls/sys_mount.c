// SPDX-License-Identifier: GPL-2.0
/*
 * mount(2) and umount2(2) (fs/namespace.c): copy the arguments in, the
 * mount table in vfs/mount.c does the rest. The sandbox is one mount
 * namespace; root of the sandbox (CAP_SYS_ADMIN in its own creds) may
 * mount, nobody else (EPERM).
 *
 * Locks: none here (vfs->lock inside vfs/mount.c). No references kept.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "cvisor/util.h"
#include "../../vfs/vfs_impl.h"

#define MOUNT_DATA_MAX 4096	/* copy_mount_options(): one page */

/* A NUL-terminated string of at most max bytes, or NULL for addr 0. */
static long copy_str(struct task *t, uint64_t addr, size_t max, char **out)
{
	char *s;
	ssize_t n;

	*out = NULL;
	if (!addr)
		return 0;
	s = malloc(max);
	if (!s)
		return -ENOMEM;
	n = mm_strncpy_in(t->mm, s, addr, max);
	if (n < 0) {
		free(s);
		return n;
	}
	*out = s;
	return 0;
}

SYSCALL_DEFINE(mount)
{
	_cleanup_free_ char *source = NULL, *target = NULL, *type = NULL;
	_cleanup_free_ char *data = NULL;
	unsigned long flags = args->a[3];
	long r;

	r = copy_str(t, args->a[0], VFS_PATH_MAX, &source);
	if (r == 0)
		r = copy_str(t, args->a[1], VFS_PATH_MAX, &target);
	if (r == 0)
		r = copy_str(t, args->a[2], 256, &type);
	/* Mount data is a page that may hold anything; only option strings
	 * are understood here, so it is read as one (cut at a page). */
	if (r == 0 && args->a[4]) {
		data = calloc(1, MOUNT_DATA_MAX);
		if (!data)
			return -ENOMEM;
		r = mm_strncpy_in(t->mm, data, args->a[4], MOUNT_DATA_MAX);
		if (r == -ENAMETOOLONG) {
			data[MOUNT_DATA_MAX - 1] = '\0';
			r = 0;
		}
		if (r > 0)
			r = 0;
	}
	if (r < 0)
		return r;
	if (!target)
		return -EFAULT;
	return vfs_do_mount(t, source, target, type, flags, data);
}

SYSCALL_DEFINE(umount2)
{
	_cleanup_free_ char *target = NULL;
	long r = copy_str(t, args->a[0], VFS_PATH_MAX, &target);

	if (r < 0)
		return r;
	if (!target)
		return -EFAULT;
	return vfs_do_umount(t, target, (int)args->a[1]);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Name operations: mkdir, rmdir, unlink, rename, link, symlink, mknod and
 * their *at forms (fs/namei.c). Flag and mode checks come before the names
 * are used, as in Linux; paths are copied in with mm_strncpy_in (EFAULT,
 * ENAMETOOLONG at PATH_MAX) and resolved by vfs/dirops.c.
 *
 * Locks: none here. References: none held across calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/sysmacros.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "cvisor/util.h"
#include "cvisor/vfs.h"
#include "../../vfs/vfs_impl.h"

static int get_path(struct task *t, uint64_t upath, char **out)
{
	char *buf = malloc(VFS_PATH_MAX);
	ssize_t n;

	*out = buf;
	if (!buf)
		return -ENOMEM;
	n = mm_strncpy_in(t->mm, buf, upath, VFS_PATH_MAX);
	return n < 0 ? (int)n : 0;
}

static long do_mkdirat(struct task *t, int dirfd, uint64_t upath, mode_t mode)
{
	_cleanup_free_ char *path = NULL;
	int r = get_path(t, upath, &path);

	return r < 0 ? r : vfs_mkdirat(t, dirfd, path, mode);
}

SYSCALL_DEFINE(mkdir)
{
	return do_mkdirat(t, AT_FDCWD, args->a[0], (mode_t)args->a[1]);
}

SYSCALL_DEFINE(mkdirat)
{
	return do_mkdirat(t, (int)args->a[0], args->a[1], (mode_t)args->a[2]);
}

static long do_mknodat(struct task *t, int dirfd, uint64_t upath, mode_t mode,
		       uint64_t dev)
{
	_cleanup_free_ char *path = NULL;
	int r;

	/* may_mknod() before the name. */
	switch (mode & S_IFMT) {
	case 0: case S_IFREG: case S_IFCHR: case S_IFBLK: case S_IFIFO:
	case S_IFSOCK:
		break;
	case S_IFDIR:
		return -EPERM;
	default:
		return -EINVAL;
	}
	r = get_path(t, upath, &path);
	if (r < 0)
		return r;
	/* new_decode_dev(): the 32-bit dev_t of the system call. */
	dev &= 0xffffffffULL;
	return vfs_mknodat(t, dirfd, path, mode,
			   makedev((unsigned int)((dev & 0xfff00) >> 8),
				   (unsigned int)((dev & 0xff) |
						  ((dev >> 12) & 0xfff00))));
}

SYSCALL_DEFINE(mknod)
{
	return do_mknodat(t, AT_FDCWD, args->a[0], (mode_t)args->a[1],
			  args->a[2]);
}

SYSCALL_DEFINE(mknodat)
{
	return do_mknodat(t, (int)args->a[0], args->a[1], (mode_t)args->a[2],
			  args->a[3]);
}

static long do_unlinkat(struct task *t, int dirfd, uint64_t upath, int flags)
{
	_cleanup_free_ char *path = NULL;
	int r;

	if (flags & ~AT_REMOVEDIR)
		return -EINVAL;
	r = get_path(t, upath, &path);
	return r < 0 ? r : vfs_unlinkat(t, dirfd, path, flags);
}

SYSCALL_DEFINE(rmdir)
{
	return do_unlinkat(t, AT_FDCWD, args->a[0], AT_REMOVEDIR);
}

SYSCALL_DEFINE(unlink)
{
	return do_unlinkat(t, AT_FDCWD, args->a[0], 0);
}

SYSCALL_DEFINE(unlinkat)
{
	return do_unlinkat(t, (int)args->a[0], args->a[1], (int)args->a[2]);
}

static long do_renameat2(struct task *t, int odfd, uint64_t oldp, int ndfd,
			 uint64_t newp, unsigned int flags)
{
	_cleanup_free_ char *from = NULL, *to = NULL;
	int r;

	if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) ||
	    ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE)) ||
	    ((flags & RENAME_WHITEOUT) && (flags & RENAME_EXCHANGE)))
		return -EINVAL;
	r = get_path(t, oldp, &from);
	if (r == 0)
		r = get_path(t, newp, &to);
	return r < 0 ? r : vfs_renameat2(t, odfd, from, ndfd, to, flags);
}

SYSCALL_DEFINE(rename)
{
	return do_renameat2(t, AT_FDCWD, args->a[0], AT_FDCWD, args->a[1], 0);
}

SYSCALL_DEFINE(renameat)
{
	return do_renameat2(t, (int)args->a[0], args->a[1], (int)args->a[2],
			    args->a[3], 0);
}

SYSCALL_DEFINE(renameat2)
{
	return do_renameat2(t, (int)args->a[0], args->a[1], (int)args->a[2],
			    args->a[3], (unsigned int)args->a[4]);
}

static long do_linkat(struct task *t, int odfd, uint64_t oldp, int ndfd,
		      uint64_t newp, int flags)
{
	_cleanup_free_ char *from = NULL, *to = NULL;
	int r;

	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	r = get_path(t, oldp, &from);
	if (r == 0)
		r = get_path(t, newp, &to);
	return r < 0 ? r : vfs_linkat(t, odfd, from, ndfd, to, flags);
}

SYSCALL_DEFINE(link)
{
	return do_linkat(t, AT_FDCWD, args->a[0], AT_FDCWD, args->a[1], 0);
}

SYSCALL_DEFINE(linkat)
{
	return do_linkat(t, (int)args->a[0], args->a[1], (int)args->a[2],
			 args->a[3], (int)args->a[4]);
}

static long do_symlinkat(struct task *t, uint64_t target, int dirfd,
			 uint64_t upath)
{
	_cleanup_free_ char *from = NULL, *to = NULL;
	int r = get_path(t, target, &from);

	if (r == 0)
		r = get_path(t, upath, &to);
	return r < 0 ? r : vfs_symlinkat(t, from, dirfd, to);
}

SYSCALL_DEFINE(symlink)
{
	return do_symlinkat(t, args->a[0], AT_FDCWD, args->a[1]);
}

SYSCALL_DEFINE(symlinkat)
{
	return do_symlinkat(t, args->a[0], (int)args->a[1], args->a[2]);
}

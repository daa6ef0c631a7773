// SPDX-License-Identifier: GPL-2.0
/*
 * stat family and readlink (fs/stat.c). Paths are copied in with
 * mm_strncpy_in (EFAULT, ENAMETOOLONG at PATH_MAX) and resolved by vfs/.
 *
 * Locks: none here. References: fdtable_get() results are put on return.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "cvisor/util.h"
#include "cvisor/vfs.h"
#include "../../vfs/vfs_impl.h"

#ifndef AT_STATX_SYNC_TYPE
#define AT_STATX_SYNC_TYPE 0x6000
#endif
#ifndef STATX__RESERVED
#define STATX__RESERVED 0x80000000U
#endif

static void file_putp(struct file **f)
{
	if (*f)
		vfs_file_put(*f);
}

/* Copy a path in; with AT_EMPTY_PATH a NULL pointer is "" (Linux 6.11
 * getname_maybe_null()). */
static int get_path(struct task *t, uint64_t upath, char *buf, bool maybe_null)
{
	ssize_t n;

	if (maybe_null && upath == 0) {
		buf[0] = '\0';
		return 0;
	}
	n = mm_strncpy_in(t->mm, buf, upath, VFS_PATH_MAX);
	return n < 0 ? (int)n : 0;
}

static int stat_at(struct task *t, int dirfd, uint64_t upath, int flags,
		   struct stat *st)
{
	char path[VFS_PATH_MAX]; /* no malloc per stat: 1 MiB host stacks */
	int r;

	r = get_path(t, upath, path, flags & AT_EMPTY_PATH);
	if (r < 0)
		return r;
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH |
		      AT_STATX_SYNC_TYPE))
		return -EINVAL;
	return vfs_stat_at(t, dirfd, path, flags, st);
}

static long copy_stat(struct task *t, uint64_t ubuf, const struct stat *st)
{
	/* struct stat is the kernel's x86-64 layout under glibc. */
	return mm_copy_out(t->mm, ubuf, st, sizeof(*st)) ? -EFAULT : 0;
}

SYSCALL_DEFINE(fstat)
{
	_cleanup_(file_putp) struct file *f = fdtable_get(t->fdt, (int)args->a[0]);
	struct stat st;
	int r;

	if (!f)
		return -EBADF;
	r = vfs_fstat(f, &st);
	return r < 0 ? r : copy_stat(t, args->a[1], &st);
}

SYSCALL_DEFINE(stat)
{
	struct stat st;
	int r = stat_at(t, AT_FDCWD, args->a[0], 0, &st);

	return r < 0 ? r : copy_stat(t, args->a[1], &st);
}

SYSCALL_DEFINE(lstat)
{
	struct stat st;
	int r = stat_at(t, AT_FDCWD, args->a[0], AT_SYMLINK_NOFOLLOW, &st);

	return r < 0 ? r : copy_stat(t, args->a[1], &st);
}

SYSCALL_DEFINE(newfstatat)
{
	int flags = (int)args->a[3];
	struct stat st;
	int r;

	/* vfs_fstatat() takes no AT_STATX_* flags. */
	if (flags & AT_STATX_SYNC_TYPE)
		return -EINVAL;
	r = stat_at(t, (int)args->a[0], args->a[1], flags, &st);
	return r < 0 ? r : copy_stat(t, args->a[2], &st);
}

SYSCALL_DEFINE(statx)
{
	int dirfd = (int)args->a[0];
	int flags = (int)args->a[2];
	unsigned int mask = (unsigned int)args->a[3];
	struct statx sx;
	struct stat st;
	int r;

	/* do_statx(): reserved mask bit and both sync types are EINVAL. */
	if (mask & STATX__RESERVED)
		return -EINVAL;
	if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE)
		return -EINVAL;
	r = stat_at(t, dirfd, args->a[1], flags, &st);
	if (r < 0)
		return r;
	memset(&sx, 0, sizeof(sx));
	sx.stx_mask = STATX_BASIC_STATS;
	sx.stx_blksize = (uint32_t)st.st_blksize;
	sx.stx_nlink = (uint32_t)st.st_nlink;
	sx.stx_uid = st.st_uid;
	sx.stx_gid = st.st_gid;
	sx.stx_mode = (uint16_t)st.st_mode;
	sx.stx_ino = st.st_ino;
	sx.stx_size = (uint64_t)st.st_size;
	sx.stx_blocks = (uint64_t)st.st_blocks;
	sx.stx_atime.tv_sec = st.st_atim.tv_sec;
	sx.stx_atime.tv_nsec = (uint32_t)st.st_atim.tv_nsec;
	sx.stx_mtime.tv_sec = st.st_mtim.tv_sec;
	sx.stx_mtime.tv_nsec = (uint32_t)st.st_mtim.tv_nsec;
	sx.stx_ctime.tv_sec = st.st_ctim.tv_sec;
	sx.stx_ctime.tv_nsec = (uint32_t)st.st_ctim.tv_nsec;
	sx.stx_rdev_major = major(st.st_rdev);
	sx.stx_rdev_minor = minor(st.st_rdev);
	sx.stx_dev_major = major(st.st_dev);
	sx.stx_dev_minor = minor(st.st_dev);
	return mm_copy_out(t->mm, args->a[4], &sx, sizeof(sx)) ? -EFAULT : 0;
}

static long do_readlinkat(struct task *t, int dirfd, uint64_t upath,
			  uint64_t ubuf, int bufsiz)
{
	_cleanup_free_ char *path = malloc(VFS_PATH_MAX);
	_cleanup_free_ char *target = malloc(VFS_PATH_MAX);
	struct path p;
	int r;

	/* do_readlinkat(): the size is checked before the name. */
	if (bufsiz <= 0)
		return -EINVAL;
	if (!path || !target)
		return -ENOMEM;
	r = get_path(t, upath, path, false);
	if (r < 0)
		return r;
	/* An empty name means the dirfd itself (LOOKUP_EMPTY). */
	r = vfs_lookup_at(t, dirfd, path, 0, true, &p);
	if (r < 0)
		return r;
	if (!S_ISLNK(p.dentry->inode->mode))
		return path[0] ? -EINVAL : -ENOENT;
	r = vfs_readlink_path(&p, target, VFS_PATH_MAX);
	if (r < 0)
		return r;
	r = MIN(r, bufsiz);
	return mm_copy_out(t->mm, ubuf, target, r) ? -EFAULT : r;
}

SYSCALL_DEFINE(readlink)
{
	return do_readlinkat(t, AT_FDCWD, args->a[0], args->a[1],
			     (int)args->a[2]);
}

SYSCALL_DEFINE(readlinkat)
{
	return do_readlinkat(t, (int)args->a[0], args->a[1], args->a[2],
			     (int)args->a[3]);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Extended attributes: {,l,f}{get,set,list,remove}xattr (fs/xattr.c).
 * Order as Linux: flags, the name (ERANGE when empty or longer than
 * XATTR_NAME_MAX), the size (E2BIG past XATTR_SIZE_MAX), the value, then
 * the path or fd; namespace and permission checks are in vfs/attr.c.
 *
 * Locks: none here. References: fdtable_get() results are put on return.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "cvisor/util.h"
#include "cvisor/vfs.h"
#include "../../vfs/vfs_impl.h"

#define XATTR_NAME_MAX 255
#define XATTR_SIZE_MAX 65536
#define XATTR_LIST_MAX 65536

/* Where the attribute lives: a path (follow or not) or an fd. */
struct xtarget {
	struct inode *ino;
	bool ro;
	struct file *f;
};

static int get_target(struct task *t, int fd, uint64_t upath, bool follow,
		      struct xtarget *x)
{
	x->f = NULL;
	if (fd >= 0) {
		struct file *f = fdtable_get(t->fdt, fd);

		if (!f || (f->fmode & FMODE_PATH)) {
			if (f)
				vfs_file_put(f);
			return -EBADF;
		}
		x->f = f;
		if (!f->inode)
			return -EOPNOTSUPP;
		x->ino = f->inode;
		x->ro = vfs_mnt_readonly(f->path.mnt);
		return 0;
	} else {
		_cleanup_free_ char *path = malloc(VFS_PATH_MAX);
		struct path p;
		ssize_t n;
		int r;

		if (!path)
			return -ENOMEM;
		n = mm_strncpy_in(t->mm, path, upath, VFS_PATH_MAX);
		if (n < 0)
			return (int)n;
		r = vfs_lookup_at(t, AT_FDCWD, path, follow ? WALK_FOLLOW : 0,
				  false, &p);
		if (r < 0)
			return r;
		x->ino = p.dentry->inode;
		x->ro = vfs_mnt_readonly(p.mnt);
		return 0;
	}
}

static void put_target(struct xtarget *x)
{
	if (x->f)
		vfs_file_put(x->f);
}

/* strncpy_from_user() into a XATTR_NAME_MAX + 1 buffer. */
static int get_name(struct task *t, uint64_t uname, char *name)
{
	ssize_t n = mm_strncpy_in(t->mm, name, uname, XATTR_NAME_MAX + 1);

	if (n == -ENAMETOOLONG || n == 0)
		return -ERANGE;
	return n < 0 ? (int)n : 0;
}

static long do_setxattr(struct task *t, int fd, uint64_t upath, bool follow,
			uint64_t uname, uint64_t uval, uint64_t size, int flags)
{
	char name[XATTR_NAME_MAX + 1];
	_cleanup_free_ void *val = NULL;
	struct xtarget x;
	int r;

	if (flags & ~(XATTR_CREATE | XATTR_REPLACE))
		return -EINVAL;
	r = get_name(t, uname, name);
	if (r < 0)
		return r;
	if (size > XATTR_SIZE_MAX)
		return -E2BIG;
	if (size) {
		val = malloc(size);
		if (!val)
			return -ENOMEM;
		if (mm_copy_in(t->mm, val, uval, size))
			return -EFAULT;
	}
	r = get_target(t, fd, upath, follow, &x);
	if (r == 0)
		r = vfs_setxattr(t, x.ino, x.ro, name, val, size, flags);
	put_target(&x);
	return r;
}

SYSCALL_DEFINE(setxattr)
{
	return do_setxattr(t, -1, args->a[0], true, args->a[1], args->a[2],
			   args->a[3], (int)args->a[4]);
}

SYSCALL_DEFINE(lsetxattr)
{
	return do_setxattr(t, -1, args->a[0], false, args->a[1], args->a[2],
			   args->a[3], (int)args->a[4]);
}

SYSCALL_DEFINE(fsetxattr)
{
	if ((int)args->a[0] < 0)
		return -EBADF;
	return do_setxattr(t, (int)args->a[0], 0, true, args->a[1], args->a[2],
			   args->a[3], (int)args->a[4]);
}

static long do_getxattr(struct task *t, int fd, uint64_t upath, bool follow,
			uint64_t uname, uint64_t uval, uint64_t size)
{
	char name[XATTR_NAME_MAX + 1];
	_cleanup_free_ void *val = NULL;
	struct xtarget x;
	ssize_t r;

	/* Path and fd first for getxattr (path_getxattr looks up, then
	 * getxattr() copies the name). */
	r = get_target(t, fd, upath, follow, &x);
	if (r == 0)
		r = get_name(t, uname, name);
	if (r == 0) {
		size = MIN(size, (uint64_t)XATTR_SIZE_MAX);
		val = size ? malloc(size) : NULL;
		if (size && !val)
			r = -ENOMEM;
	}
	if (r == 0)
		r = vfs_getxattr(t, x.ino, name, val, size);
	put_target(&x);
	if (r > 0 && size && mm_copy_out(t->mm, uval, val, (size_t)r))
		r = -EFAULT;
	return r;
}

SYSCALL_DEFINE(getxattr)
{
	return do_getxattr(t, -1, args->a[0], true, args->a[1], args->a[2],
			   args->a[3]);
}

SYSCALL_DEFINE(lgetxattr)
{
	return do_getxattr(t, -1, args->a[0], false, args->a[1], args->a[2],
			   args->a[3]);
}

SYSCALL_DEFINE(fgetxattr)
{
	if ((int)args->a[0] < 0)
		return -EBADF;
	return do_getxattr(t, (int)args->a[0], 0, true, args->a[1], args->a[2],
			   args->a[3]);
}

static long do_listxattr(struct task *t, int fd, uint64_t upath, bool follow,
			 uint64_t ulist, uint64_t size)
{
	_cleanup_free_ char *buf = NULL;
	struct xtarget x;
	ssize_t r;

	r = get_target(t, fd, upath, follow, &x);
	if (r == 0) {
		size = MIN(size, (uint64_t)XATTR_LIST_MAX);
		buf = size ? malloc(size) : NULL;
		if (size && !buf)
			r = -ENOMEM;
	}
	if (r == 0)
		r = vfs_listxattr(t, x.ino, buf, size);
	put_target(&x);
	if (r > 0 && size && mm_copy_out(t->mm, ulist, buf, (size_t)r))
		r = -EFAULT;
	return r;
}

SYSCALL_DEFINE(listxattr)
{
	return do_listxattr(t, -1, args->a[0], true, args->a[1], args->a[2]);
}

SYSCALL_DEFINE(llistxattr)
{
	return do_listxattr(t, -1, args->a[0], false, args->a[1], args->a[2]);
}

SYSCALL_DEFINE(flistxattr)
{
	if ((int)args->a[0] < 0)
		return -EBADF;
	return do_listxattr(t, (int)args->a[0], 0, true, args->a[1],
			    args->a[2]);
}

static long do_removexattr(struct task *t, int fd, uint64_t upath, bool follow,
			   uint64_t uname)
{
	char name[XATTR_NAME_MAX + 1];
	struct xtarget x;
	int r;

	r = get_name(t, uname, name);
	if (r < 0)
		return r;
	r = get_target(t, fd, upath, follow, &x);
	if (r == 0)
		r = vfs_removexattr(t, x.ino, x.ro, name);
	put_target(&x);
	return r;
}

SYSCALL_DEFINE(removexattr)
{
	return do_removexattr(t, -1, args->a[0], true, args->a[1]);
}

SYSCALL_DEFINE(lremovexattr)
{
	return do_removexattr(t, -1, args->a[0], false, args->a[1]);
}

SYSCALL_DEFINE(fremovexattr)
{
	if ((int)args->a[0] < 0)
		return -EBADF;
	return do_removexattr(t, (int)args->a[0], 0, true, args->a[1]);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Per-process file system state: access, getcwd, chdir, fchdir, umask
 * (fs/open.c, fs/d_path.c).
 *
 * Locks: t->fs->lock guards cwd and umask; it is never held across a path
 * walk. References: fdtable_get() results are put on return.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "cvisor/util.h"
#include "cvisor/vfs.h"
#include "../../vfs/vfs_impl.h"

static void file_putp(struct file **f)
{
	if (*f)
		vfs_file_put(*f);
}

static long do_faccessat(struct task *t, int dirfd, uint64_t upath, int mode,
			 int flags)
{
	_cleanup_free_ char *path = malloc(VFS_PATH_MAX);
	ssize_t n;

	/* do_faccessat(): mode and flags before the name. */
	if (mode & ~(R_OK | W_OK | X_OK))
		return -EINVAL;
	if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	if (!path)
		return -ENOMEM;
	n = mm_strncpy_in(t->mm, path, upath, VFS_PATH_MAX);
	if (n < 0)
		return n;
	return vfs_access_at(t, dirfd, path, mode, flags);
}

SYSCALL_DEFINE(access)
{
	return do_faccessat(t, AT_FDCWD, args->a[0], (int)args->a[1], 0);
}

SYSCALL_DEFINE(faccessat)
{
	return do_faccessat(t, (int)args->a[0], args->a[1], (int)args->a[2], 0);
}

SYSCALL_DEFINE(faccessat2)
{
	return do_faccessat(t, (int)args->a[0], args->a[1], (int)args->a[2],
			    (int)args->a[3]);
}

SYSCALL_DEFINE(getcwd)
{
	_cleanup_free_ char *buf = malloc(VFS_PATH_MAX);
	uint64_t size = args->a[1];
	struct path root, cwd;
	int n;

	if (!buf)
		return -ENOMEM;
	pthread_mutex_lock(&t->fs->lock);
	root = t->fs->root;
	cwd = t->fs->cwd;
	pthread_mutex_unlock(&t->fs->lock);
	n = vfs_path_name(t->fs->vfs, &root, &cwd, buf, VFS_PATH_MAX);
	if (n < 0)
		return -ENAMETOOLONG;
	/* The return value counts the NUL; a short buffer is ERANGE. */
	if ((uint64_t)n + 1 > size)
		return -ERANGE;
	if (mm_copy_out(t->mm, args->a[0], buf, (size_t)n + 1))
		return -EFAULT;
	return n + 1;
}

static long set_cwd(struct task *t, const struct path *p)
{
	struct inode *ino = p->dentry->inode;
	int r;

	if (!S_ISDIR(ino->mode))
		return -ENOTDIR;
	r = vfs_permission(ino, &t->cred, MAY_EXEC, false);
	if (r < 0)
		return r;
	fs_struct_set_cwd(t->fs, p);
	return 0;
}

SYSCALL_DEFINE(chdir)
{
	_cleanup_free_ char *path = malloc(VFS_PATH_MAX);
	struct path p;
	ssize_t n;
	int r;

	if (!path)
		return -ENOMEM;
	n = mm_strncpy_in(t->mm, path, args->a[0], VFS_PATH_MAX);
	if (n < 0)
		return n;
	/* vfs->lock (recursive) from the walk until the cwd holds its
	 * dentry and mount: no umount or rmdir in between. */
	pthread_mutex_lock(&t->fs->vfs->lock);
	r = vfs_lookup_at(t, AT_FDCWD, path, WALK_FOLLOW, false, &p);
	if (r == 0)
		r = set_cwd(t, &p);
	pthread_mutex_unlock(&t->fs->vfs->lock);
	return r;
}

SYSCALL_DEFINE(fchdir)
{
	_cleanup_(file_putp) struct file *f = fdtable_get(t->fdt, (int)args->a[0]);

	if (!f)
		return -EBADF;
	if (!f->path.mnt)
		return -ENOTDIR;
	return set_cwd(t, &f->path);
}

SYSCALL_DEFINE(umask)
{
	mode_t old;

	pthread_mutex_lock(&t->fs->lock);
	old = t->fs->umask;
	t->fs->umask = (mode_t)args->a[0] & 0777;
	pthread_mutex_unlock(&t->fs->lock);
	return old;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Attribute system calls: chmod/chown/utimes families, truncate/ftruncate,
 * fallocate, the sync family and statfs (fs/open.c, fs/utimes.c,
 * fs/sync.c, fs/statfs.c). Checks come in Linux's order: flags and
 * values, then the fd or the name, then the vfs (vfs/attr.c).
 *
 * Locks: none here. References: fdtable_get() results are put on return.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/time.h>
#include <utime.h>

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
#define _cleanup_file_ _cleanup_(file_putp)

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

/* Resolve (dirfd, path) honouring AT_SYMLINK_NOFOLLOW / AT_EMPTY_PATH. */
static int lookup(struct task *t, int dirfd, uint64_t upath, int atflags,
		  struct path *p)
{
	_cleanup_free_ char *path = malloc(VFS_PATH_MAX);
	int r;

	if (!path)
		return -ENOMEM;
	r = get_path(t, upath, path, atflags & AT_EMPTY_PATH);
	if (r < 0)
		return r;
	return vfs_lookup_at(t, dirfd, path,
			     (atflags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW,
			     atflags & AT_EMPTY_PATH, p);
}

static long setattr_fd(struct task *t, int fd, const struct vfs_setattr *a)
{
	_cleanup_file_ struct file *f = fdtable_get(t->fdt, fd);

	if (!f || (f->fmode & FMODE_PATH))
		return -EBADF;
	return vfs_setattr(t, NULL, f, a);
}

/* ---- chmod ---- */

static long do_fchmodat(struct task *t, int dirfd, uint64_t upath, mode_t mode,
			int flags)
{
	struct vfs_setattr a = { .valid = VFS_ATTR_MODE, .mode = mode & 07777 };
	struct path p;
	int r;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	r = lookup(t, dirfd, upath, flags, &p);
	if (r < 0)
		return r;
	/* Symlink modes cannot change (chmod_common on a link). */
	if (S_ISLNK(p.dentry->inode->mode))
		return -EOPNOTSUPP;
	return vfs_setattr(t, &p, NULL, &a);
}

SYSCALL_DEFINE(chmod)
{
	return do_fchmodat(t, AT_FDCWD, args->a[0], (mode_t)args->a[1], 0);
}

SYSCALL_DEFINE(fchmodat)
{
	return do_fchmodat(t, (int)args->a[0], args->a[1], (mode_t)args->a[2], 0);
}

SYSCALL_DEFINE(fchmod)
{
	struct vfs_setattr a = { .valid = VFS_ATTR_MODE,
				 .mode = (mode_t)args->a[1] & 07777 };

	return setattr_fd(t, (int)args->a[0], &a);
}

/* ---- chown ---- */

static void chown_attr(struct vfs_setattr *a, uint32_t uid, uint32_t gid)
{
	memset(a, 0, sizeof(*a));
	if (uid != (uint32_t)-1) {
		a->valid |= VFS_ATTR_UID;
		a->uid = uid;
	}
	if (gid != (uint32_t)-1) {
		a->valid |= VFS_ATTR_GID;
		a->gid = gid;
	}
	/* chown(-1, -1) still clears setuid (ATTR_KILL_SUID). */
	if (!a->valid)
		a->valid = VFS_ATTR_UID, a->uid = (uid_t)-1;
}

static long do_fchownat(struct task *t, int dirfd, uint64_t upath,
			uint32_t uid, uint32_t gid, int flags)
{
	struct vfs_setattr a;
	struct path p;
	int r;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	r = lookup(t, dirfd, upath, flags, &p);
	if (r < 0)
		return r;
	chown_attr(&a, uid, gid);
	if (uid == (uint32_t)-1 && gid == (uint32_t)-1) {
		a.valid = VFS_ATTR_UID;
		a.uid = p.dentry->inode->uid;
	}
	return vfs_setattr(t, &p, NULL, &a);
}

SYSCALL_DEFINE(chown)
{
	return do_fchownat(t, AT_FDCWD, args->a[0], (uint32_t)args->a[1],
			   (uint32_t)args->a[2], 0);
}

SYSCALL_DEFINE(lchown)
{
	return do_fchownat(t, AT_FDCWD, args->a[0], (uint32_t)args->a[1],
			   (uint32_t)args->a[2], AT_SYMLINK_NOFOLLOW);
}

SYSCALL_DEFINE(fchownat)
{
	return do_fchownat(t, (int)args->a[0], args->a[1], (uint32_t)args->a[2],
			   (uint32_t)args->a[3], (int)args->a[4]);
}

SYSCALL_DEFINE(fchown)
{
	_cleanup_file_ struct file *f = fdtable_get(t->fdt, (int)args->a[0]);
	uint32_t uid = (uint32_t)args->a[1], gid = (uint32_t)args->a[2];
	struct vfs_setattr a;

	if (!f || (f->fmode & FMODE_PATH))
		return -EBADF;
	if (!f->inode)
		return -EBADF;
	chown_attr(&a, uid, gid);
	if (uid == (uint32_t)-1 && gid == (uint32_t)-1)
		a.uid = f->inode->uid;
	return vfs_setattr(t, NULL, f, &a);
}

/* ---- utimes ---- */

static bool nsec_valid(long ns)
{
	return (ns >= 0 && ns <= 999999999) || ns == UTIME_NOW ||
	       ns == UTIME_OMIT;
}

/* do_utimes(): times NULL = now. */
static long do_utimes(struct task *t, int dirfd, uint64_t upath,
		      const struct timespec *ts, int flags)
{
	struct vfs_setattr a = { 0 };

	if (ts && (!nsec_valid(ts[0].tv_nsec) || !nsec_valid(ts[1].tv_nsec)))
		return -EINVAL;
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	if (!ts) {
		a.valid = VFS_ATTR_TIMES_NULL;
	} else {
		if (ts[0].tv_nsec == UTIME_OMIT && ts[1].tv_nsec == UTIME_OMIT)
			a.valid = 0;
		else
			a.valid = VFS_ATTR_TIMES;
		a.atime = ts[0];
		a.mtime = ts[1];
	}
	if (upath == 0 && dirfd != AT_FDCWD) {
		/* utimensat(fd, NULL, ...): the fd itself (futimens). */
		_cleanup_file_ struct file *f = fdtable_get(t->fdt, dirfd);

		if (flags & AT_SYMLINK_NOFOLLOW)
			return -EINVAL;
		if (!f)
			return -EBADF;
		if (!a.valid)
			return 0;
		if (!f->inode)
			return -EBADF;
		return vfs_setattr(t, NULL, f, &a);
	}
	if (upath == 0)
		return -EFAULT;
	{
		struct path p;
		int r = lookup(t, dirfd, upath, flags, &p);

		if (r < 0 || !a.valid)
			return r;
		return vfs_setattr(t, &p, NULL, &a);
	}
}

SYSCALL_DEFINE(utimensat)
{
	struct timespec ts[2];
	uint64_t uts = args->a[2];

	if (uts && mm_copy_in(t->mm, ts, uts, sizeof(ts)))
		return -EFAULT;
	return do_utimes(t, (int)args->a[0], args->a[1], uts ? ts : NULL,
			 (int)args->a[3]);
}

static long do_futimesat(struct task *t, int dirfd, uint64_t upath,
			 uint64_t utv)
{
	struct timeval tv[2];
	struct timespec ts[2];

	if (!utv)
		return do_utimes(t, dirfd, upath, NULL, 0);
	if (mm_copy_in(t->mm, tv, utv, sizeof(tv)))
		return -EFAULT;
	/* utimes(2) takes no UTIME_* and checks the microseconds. */
	for (int i = 0; i < 2; i++) {
		if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000)
			return -EINVAL;
		ts[i].tv_sec = tv[i].tv_sec;
		ts[i].tv_nsec = tv[i].tv_usec * 1000;
	}
	return do_utimes(t, dirfd, upath, ts, 0);
}

SYSCALL_DEFINE(futimesat)
{
	return do_futimesat(t, (int)args->a[0], args->a[1], args->a[2]);
}

SYSCALL_DEFINE(utimes)
{
	return do_futimesat(t, AT_FDCWD, args->a[0], args->a[1]);
}

SYSCALL_DEFINE(utime)
{
	struct utimbuf ub;
	struct timespec ts[2];

	if (!args->a[1])
		return do_utimes(t, AT_FDCWD, args->a[0], NULL, 0);
	if (mm_copy_in(t->mm, &ub, args->a[1], sizeof(ub)))
		return -EFAULT;
	ts[0].tv_sec = ub.actime;
	ts[1].tv_sec = ub.modtime;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	return do_utimes(t, AT_FDCWD, args->a[0], ts, 0);
}

/* ---- truncate, fallocate ---- */

SYSCALL_DEFINE(truncate)
{
	struct vfs_setattr a = { .valid = VFS_ATTR_SIZE,
				 .size = (int64_t)args->a[1] };
	struct path p;
	int r;

	if (a.size < 0)
		return -EINVAL;
	r = lookup(t, AT_FDCWD, args->a[0], 0, &p);
	if (r < 0)
		return r;
	return vfs_setattr(t, &p, NULL, &a);
}

SYSCALL_DEFINE(ftruncate)
{
	struct vfs_setattr a = { .valid = VFS_ATTR_SIZE,
				 .size = (int64_t)args->a[1] };
	_cleanup_file_ struct file *f = NULL;

	if (a.size < 0)
		return -EINVAL;
	f = fdtable_get(t->fdt, (int)args->a[0]);
	if (!f || (f->fmode & FMODE_PATH))
		return -EBADF;
	/* do_ftruncate(): a regular file open for writing. */
	if (!f->inode || !S_ISREG(f->inode->mode) || !(f->fmode & FMODE_WRITE))
		return -EINVAL;
	if (f->flags & O_APPEND)
		return -EPERM;
	return vfs_setattr(t, NULL, f, &a);
}

SYSCALL_DEFINE(fallocate)
{
	_cleanup_file_ struct file *f = fdtable_get(t->fdt, (int)args->a[0]);

	if (!f || (f->fmode & FMODE_PATH))
		return -EBADF;
	return vfs_fallocate(f, (int)args->a[1], (int64_t)args->a[2],
			     (int64_t)args->a[3]);
}

/* ---- sync: everything lives in memory or on a read-only host tree, so
 * these only validate their arguments (fs/sync.c). ---- */

static long fd_sync(struct task *t, int fd)
{
	_cleanup_file_ struct file *f = fdtable_get(t->fdt, fd);

	if (!f || (f->fmode & FMODE_PATH))
		return -EBADF;
	/* vfs_fsync_range(): files without fsync (pipes, sockets, ttys
	 * in Linux) are EINVAL; tmpfs, gofer files and devices are fine. */
	if (!f->inode && f->hostfd < 0)
		return -EINVAL;
	if (f->inode && (S_ISFIFO(f->inode->mode) || S_ISSOCK(f->inode->mode)))
		return -EINVAL;
	return 0;
}

SYSCALL_DEFINE(fsync)
{
	return fd_sync(t, (int)args->a[0]);
}

SYSCALL_DEFINE(fdatasync)
{
	return fd_sync(t, (int)args->a[0]);
}

SYSCALL_DEFINE(syncfs)
{
	_cleanup_file_ struct file *f = fdtable_get(t->fdt, (int)args->a[0]);

	return f ? 0 : -EBADF;
}

SYSCALL_DEFINE(sync)
{
	(void)t;
	(void)args;
	return 0;
}

SYSCALL_DEFINE(sync_file_range)
{
	int64_t off = (int64_t)args->a[1], nbytes = (int64_t)args->a[2];
	unsigned int flags = (unsigned int)args->a[3];
	_cleanup_file_ struct file *f = NULL;
	int64_t end;

	/* ksys_sync_file_range() -> sync_file_range(): flags, then range,
	 * then the fd; only regular files, directories, links and block
	 * devices (ESPIPE otherwise). */
	if (flags & ~7U)
		return -EINVAL;
	if (off < 0 || nbytes < 0 || __builtin_add_overflow(off, nbytes, &end))
		return -EINVAL;
	f = fdtable_get(t->fdt, (int)args->a[0]);
	if (!f || (f->fmode & FMODE_PATH))
		return -EBADF;
	if (!f->inode || (!S_ISREG(f->inode->mode) && !S_ISDIR(f->inode->mode) &&
			  !S_ISLNK(f->inode->mode) && !S_ISBLK(f->inode->mode)))
		return -ESPIPE;
	return 0;
}

/* ksys_fadvise64_64() -> generic_fadvise() (mm/fadvise.c): the fd, then
 * ESPIPE for pipes and FIFOs, then the length, then the advice. There is
 * no page cache to prime or drop, so valid advice is a no-op that succeeds
 * (cat, cp, sort and tar call it on their input). */
SYSCALL_DEFINE(fadvise64)
{
	int64_t len = (int64_t)args->a[2];
	int advice = (int)args->a[3];
	_cleanup_file_ struct file *f = fdtable_get(t->fdt, (int)args->a[0]);
	struct stat st;

	if (!f || (f->fmode & FMODE_PATH))
		return -EBADF;
	if (vfs_fstat(f, &st) == 0 && S_ISFIFO(st.st_mode))
		return -ESPIPE;
	if (len < 0)
		return -EINVAL;
	switch (advice) {
	case POSIX_FADV_NORMAL:
	case POSIX_FADV_RANDOM:
	case POSIX_FADV_SEQUENTIAL:
	case POSIX_FADV_WILLNEED:
	case POSIX_FADV_DONTNEED:
	case POSIX_FADV_NOREUSE:
		return 0;
	default:
		return -EINVAL;
	}
}

/* ---- statfs ---- */

SYSCALL_DEFINE(statfs)
{
	struct statfs sfs;
	struct path p;
	int r = lookup(t, AT_FDCWD, args->a[0], 0, &p);

	if (r < 0)
		return r;
	r = vfs_statfs(&p, &sfs);
	if (r < 0)
		return r;
	return mm_copy_out(t->mm, args->a[1], &sfs, sizeof(sfs)) ? -EFAULT : 0;
}

SYSCALL_DEFINE(fstatfs)
{
	_cleanup_file_ struct file *f = fdtable_get(t->fdt, (int)args->a[0]);
	struct statfs sfs;
	int r;

	if (!f)
		return -EBADF;
	if (!f->path.mnt) {
		/* Host stdio, pipes: Linux answers from their pseudo fs. */
		memset(&sfs, 0, sizeof(sfs));
		sfs.f_type = 0x50495045; /* PIPEFS_MAGIC */
		sfs.f_bsize = 4096;
		sfs.f_namelen = VFS_NAME_MAX;
	} else {
		r = vfs_statfs(&f->path, &sfs);
		if (r < 0)
			return r;
	}
	return mm_copy_out(t->mm, args->a[1], &sfs, sizeof(sfs)) ? -EFAULT : 0;
}

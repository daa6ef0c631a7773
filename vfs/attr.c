// SPDX-License-Identifier: GPL-2.0
/*
 * Inode attributes: chmod/chown/utimes/truncate (fs/attr.c
 * setattr_prepare + notify_change, fs/open.c chmod_common/chown_common,
 * fs/utimes.c), fallocate (vfs_fallocate), statfs, and the namespace and
 * permission checks of fs/xattr.c in front of the file system's xattr ops.
 *
 * A file system whose files live elsewhere (goferfs) gets chmod/chown/
 * utimes through iops->setattr after the checks here and caches what the
 * host answers.
 *
 * Locks: inode->lock around the attribute update; the data side of a
 * truncate takes it inside iops->truncate. No vfs->lock: the caller's path
 * or file keeps the dentry and inode alive.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "cvisor/task.h"
#include "vfs_impl.h"
#include "fsnotify.h"

#define XATTR_NAME_MAX 255
#define XATTR_SIZE_MAX 65536
#define XATTR_LIST_MAX 65536

static bool capable(const struct cred *c)
{
	return c->fsuid == 0;
}

static bool owner_or_capable(const struct cred *c, const struct inode *ino)
{
	return c->fsuid == ino->uid || capable(c);
}

static bool in_group_or_capable(const struct cred *c, gid_t gid)
{
	if (c->fsgid == gid || capable(c))
		return true;
	for (int i = 0; i < c->ngroups && i < (int)ARRAY_SIZE(c->groups); i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

static void set_time(struct timespec *dst, const struct timespec *src,
		     const struct timespec *now)
{
	*dst = src->tv_nsec == UTIME_NOW ? *now : *src;
}

int vfs_setattr(struct task *t, const struct path *p, struct file *f,
		const struct vfs_setattr *a)
{
	struct inode *ino = f ? f->inode : p->dentry->inode;
	const struct cred *cred = &t->cred;
	unsigned int valid = a->valid;
	struct timespec now;
	mode_t mode;
	int r;

	if (!ino)
		return -EBADF;
	/* mnt_want_write(): EROFS before any other check. */
	if ((ino->sb->readonly && (!f || f->path.mnt)) ||
	    vfs_mnt_readonly(f ? f->path.mnt : p ? p->mnt : NULL))
		return -EROFS;
	if (valid & VFS_ATTR_SIZE) {
		if (!S_ISREG(ino->mode))
			return S_ISDIR(ino->mode) ? -EISDIR : -EINVAL;
		/* truncate(2) needs write permission; ftruncate(2) a file
		 * open for writing (checked by the caller). */
		if (!f) {
			r = vfs_permission(ino, cred, MAY_WRITE, false);
			if (r < 0)
				return r;
		}
		if (!ino->iops->truncate)
			return -EINVAL;
		if (ino->iops->copy_up) {
			r = ino->iops->copy_up(ino);
			if (r < 0)
				return r;
		}
		r = ino->iops->truncate(ino, a->size);
		if (r < 0)
			return r;
	}
	if (valid & (VFS_ATTR_TIMES | VFS_ATTR_TIMES_NULL)) {
		bool touch = (valid & VFS_ATTR_TIMES_NULL) ||
			     (a->atime.tv_nsec == UTIME_NOW &&
			      a->mtime.tv_nsec == UTIME_NOW);

		/* vfs_utimes(): "now" needs ownership or write access;
		 * explicit times need ownership. */
		if (touch) {
			if (!owner_or_capable(cred, ino)) {
				r = vfs_permission(ino, cred, MAY_WRITE, false);
				if (r < 0)
					return r;
			}
		} else if (!owner_or_capable(cred, ino)) {
			return -EPERM;
		}
	}
	if ((valid & VFS_ATTR_MODE) && !owner_or_capable(cred, ino))
		return -EPERM;
	/* setattr_prepare() for chown. */
	if ((valid & VFS_ATTR_UID) && !capable(cred) &&
	    (cred->fsuid != ino->uid || a->uid != ino->uid))
		return -EPERM;
	if ((valid & VFS_ATTR_GID) && !capable(cred) &&
	    (cred->fsuid != ino->uid ||
	     (a->gid != ino->gid && !in_group_or_capable(cred, a->gid))))
		return -EPERM;

	/* A gofer mount: the host does it (and its suid/sgid kills, ctime);
	 * only the setgid rule for a non-member is the sentry's to apply. */
	if (ino->iops->setattr && (valid & ~VFS_ATTR_SIZE)) {
		struct vfs_setattr ga = *a;

		ga.valid &= ~VFS_ATTR_SIZE;
		if ((valid & VFS_ATTR_MODE) &&
		    !in_group_or_capable(cred, (valid & VFS_ATTR_GID) ? a->gid
								     : ino->gid))
			ga.mode &= ~S_ISGID;
		r = ino->iops->setattr(ino, &ga);
		if (r < 0)
			return r;
		fsnotify_change(f, p, valid, a);
		return 0;
	}
	vfs_now(&now);
	pthread_mutex_lock(&ino->lock);
	mode = ino->mode;
	if (valid & VFS_ATTR_MODE) {
		mode = (mode & S_IFMT) | (a->mode & 07777);
		/* A non-member may not set the group's setgid bit. */
		if (!in_group_or_capable(cred,
					 (valid & VFS_ATTR_GID) ? a->gid : ino->gid))
			mode &= ~S_ISGID;
	}
	if ((valid & (VFS_ATTR_UID | VFS_ATTR_GID | VFS_ATTR_MODE)) &&
	    (valid & (VFS_ATTR_UID | VFS_ATTR_GID)) && !S_ISDIR(mode)) {
		/* chown_common(): ATTR_KILL_SUID, and setgid when it
		 * means "setgid" (group exec) or the caller may not keep
		 * it (setattr_should_drop_sgid()). */
		mode &= ~S_ISUID;
		if ((mode & S_ISGID) &&
		    ((mode & S_IXGRP) || !in_group_or_capable(cred, ino->gid)))
			mode &= ~S_ISGID;
	}
	ino->mode = mode;
	if (valid & VFS_ATTR_UID)
		ino->uid = a->uid;
	if (valid & VFS_ATTR_GID)
		ino->gid = a->gid;
	if (valid & VFS_ATTR_TIMES_NULL) {
		ino->atime = ino->mtime = now;
	} else if (valid & VFS_ATTR_TIMES) {
		if (a->atime.tv_nsec != UTIME_OMIT)
			set_time(&ino->atime, &a->atime, &now);
		if (a->mtime.tv_nsec != UTIME_OMIT)
			set_time(&ino->mtime, &a->mtime, &now);
	}
	if (valid & ~VFS_ATTR_SIZE)
		ino->ctime = now;
	pthread_mutex_unlock(&ino->lock);
	fsnotify_change(f, p, valid, a);
	return 0;
}

int vfs_fallocate(struct file *f, int mode, int64_t off, int64_t len)
{
	struct inode *ino = f->inode;
	int64_t end;

	if (off < 0 || len <= 0)
		return -EINVAL;
	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE |
		     FALLOC_FL_NO_HIDE_STALE | FALLOC_FL_COLLAPSE_RANGE |
		     FALLOC_FL_ZERO_RANGE | FALLOC_FL_INSERT_RANGE |
		     FALLOC_FL_UNSHARE_RANGE))
		return -EOPNOTSUPP;
	if ((mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) ==
	    (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))
		return -EOPNOTSUPP;
	if ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE))
		return -EOPNOTSUPP;
	if ((mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE)) &&
	    (mode & ~(FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE)))
		return -EINVAL;
	if (!(f->fmode & FMODE_WRITE))
		return -EBADF;
	if (!ino)
		return -ESPIPE;
	if (S_ISFIFO(ino->mode))
		return -ESPIPE;
	if (S_ISDIR(ino->mode))
		return -EISDIR;
	if (!S_ISREG(ino->mode) && !S_ISBLK(ino->mode))
		return -ENODEV;
	if (__builtin_add_overflow(off, len, &end) ||
	    (ino->sb->kind != FS_GOFER && end > ino->sb->bytes_max))
		return -EFBIG;
	/* A gofer mount: the host file system's own fallocate on the donated
	 * host fd (its modes, its errors), then the new size and blocks. */
	if (ino->sb->kind == FS_GOFER) {
		struct stat st;
		int r = f->hostfd < 0 ? -EBADF
			: fallocate(f->hostfd, mode, off, len) < 0 ? -errno : 0;

		if (r == 0 && fstat(f->hostfd, &st) == 0) {
			pthread_mutex_lock(&ino->lock);
			ino->size = st.st_size;
			ino->blocks = st.st_blocks;
			ino->mtime = st.st_mtim;
			ino->ctime = st.st_ctim;
			pthread_mutex_unlock(&ino->lock);
		}
		return (int)fsnotify_modify_ret(f, r, 0);
	}
	if (ino->sb->kind != FS_TMPFS && ino->sb->kind != FS_OVERLAY)
		return -EOPNOTSUPP;
	/* shmem_fallocate(): only allocation and punching. */
	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE))
		return -EOPNOTSUPP;
	return (int)fsnotify_modify_ret(f, tmpfs_fallocate(ino, mode, off, len),
					0);
}

static int statfs_fs(const struct path *p, struct statfs *sfs)
{
	struct inode *ino = p->dentry->inode;
	struct super_block *sb = ino->sb;
	int64_t used;

	memset(sfs, 0, sizeof(*sfs));
	if (ino->iops->statfs)
		return ino->iops->statfs(ino, sfs);
	/* shmem_statfs(), in pages. */
	used = atomic_load(&sb->bytes_used);
	sfs->f_type = sb->kind == FS_OVERLAY ? VFS_OVERLAYFS_MAGIC
					      : VFS_TMPFS_MAGIC;
	sfs->f_bsize = 4096;
	sfs->f_frsize = 4096;
	sfs->f_blocks = (fsblkcnt_t)(sb->bytes_max / 4096);
	sfs->f_bfree = sfs->f_bavail =
		(fsblkcnt_t)((sb->bytes_max - used) / 4096);
	sfs->f_files = sfs->f_blocks;
	sfs->f_ffree = sfs->f_files - MIN((uint64_t)sfs->f_files,
					  atomic_load(&sb->next_ino));
	sfs->f_namelen = VFS_NAME_MAX;
	sfs->f_flags = ST_NOSUID | ST_NODEV | (sb->readonly ? ST_RDONLY : 0) |
		       0x20 /* ST_VALID */;
	memcpy(&sfs->f_fsid, &sb->dev, MIN(sizeof(sfs->f_fsid),
					   sizeof(sb->dev)));
	return 0;
}

/* statfs(2): the file system's answer, f_flags from the mount
 * (flags_by_mnt() | flags_by_sb() in fs/statfs.c). */
int vfs_statfs(const struct path *p, struct statfs *sfs)
{
	int r = statfs_fs(p, sfs);

	if (r == 0 && p->mnt)
		sfs->f_flags = (long)vfs_mnt_statfs_flags(p->mnt);
	return r;
}

/* ---- xattrs ---- */

static bool has_prefix(const char *name, const char *pfx)
{
	return !strncmp(name, pfx, strlen(pfx));
}

/* xattr_permission() */
static int xattr_permission(struct task *t, struct inode *ino,
			    const char *name, int mask)
{
	if (has_prefix(name, "security.") || has_prefix(name, "system."))
		return 0;
	if (has_prefix(name, "trusted.")) {
		if (!capable(&t->cred))
			return (mask & MAY_WRITE) ? -EPERM : -ENODATA;
		return 0;
	}
	if (has_prefix(name, "user.")) {
		if (!S_ISREG(ino->mode) && !S_ISDIR(ino->mode))
			return (mask & MAY_WRITE) ? -EPERM : -ENODATA;
		if (S_ISDIR(ino->mode) && (ino->mode & S_ISVTX) &&
		    (mask & MAY_WRITE) && !owner_or_capable(&t->cred, ino))
			return -EPERM;
	}
	return vfs_permission(ino, &t->cred, mask, false);
}

/* The namespaces the file systems here store. */
static bool known_ns(const char *name)
{
	return has_prefix(name, "user.") || has_prefix(name, "trusted.") ||
	       has_prefix(name, "security.");
}

ssize_t vfs_getxattr(struct task *t, struct inode *ino, const char *name,
		     void *buf, size_t size)
{
	int r = xattr_permission(t, ino, name, MAY_READ);

	if (r < 0)
		return r;
	if (!known_ns(name) || !ino->iops->getxattr)
		return -EOPNOTSUPP;
	return ino->iops->getxattr(ino, name, buf, MIN(size,
						       (size_t)XATTR_SIZE_MAX));
}

int vfs_setxattr(struct task *t, struct inode *ino, bool ro, const char *name,
		 const void *val, size_t size, int flags)
{
	int r;

	if (ro)
		return -EROFS;
	r = xattr_permission(t, ino, name, MAY_WRITE);
	if (r < 0)
		return r;
	if (!known_ns(name) || !ino->iops->setxattr)
		return -EOPNOTSUPP;
	r = ino->iops->setxattr(ino, name, val, size, flags);
	if (r == 0) {
		pthread_mutex_lock(&ino->lock);
		vfs_now(&ino->ctime);
		pthread_mutex_unlock(&ino->lock);
		fsnotify_xattr(ino);
	}
	return r;
}

ssize_t vfs_listxattr(struct task *t, struct inode *ino, char *buf,
		      size_t size)
{
	char tmp[XATTR_LIST_MAX];
	ssize_t n, out = 0;

	if (!ino->iops->listxattr)
		return 0;
	n = ino->iops->listxattr(ino, tmp, sizeof(tmp));
	if (n < 0)
		return n;
	/* trusted.* is listed only for CAP_SYS_ADMIN. */
	for (ssize_t i = 0; i < n;) {
		size_t l = strlen(tmp + i) + 1;

		if (!has_prefix(tmp + i, "trusted.") || capable(&t->cred)) {
			if (size) {
				if ((size_t)out + l > size)
					return -ERANGE;
				memcpy(buf + out, tmp + i, l);
			}
			out += (ssize_t)l;
		}
		i += (ssize_t)l;
	}
	return out;
}

int vfs_removexattr(struct task *t, struct inode *ino, bool ro,
		    const char *name)
{
	int r;

	if (ro)
		return -EROFS;
	r = xattr_permission(t, ino, name, MAY_WRITE);
	if (r < 0)
		return r;
	if (!known_ns(name) || !ino->iops->removexattr)
		return -EOPNOTSUPP;
	r = ino->iops->removexattr(ino, name);
	if (r == 0) {
		pthread_mutex_lock(&ino->lock);
		vfs_now(&ino->ctime);
		pthread_mutex_unlock(&ino->lock);
		fsnotify_xattr(ino);
	}
	return r;
}

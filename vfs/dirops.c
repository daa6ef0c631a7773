// SPDX-License-Identifier: GPL-2.0
/*
 * Name operations: mknod, mkdir, symlink, unlink, rmdir, link, rename, with
 * the checks and the errno order of fs/namei.c (filename_create,
 * may_create, may_delete, do_unlinkat, do_rmdir, do_linkat,
 * do_renameat2/vfs_rename) and the tree edits of simple_* / shmem_*.
 *
 * The dentry tree is the directory for every writable file system here
 * (tmpfs, devfs, the overlay root), so these operations edit it directly
 * and call the file system only to make inodes (iops->mknod), to copy
 * data up (iops->copy_up) and to ask whether a removed name must leave a
 * whiteout because a lower directory still has it (iops->has_lower).
 * goferfs on a writable mount has its directories on the host: there the
 * change is made first through iops->mknod_at/symlink_at/link_at/
 * rename_at/unlink (after every check here, so errno order stays Linux's)
 * and the dentry tree follows.
 *
 * Locks: vfs->lock (recursive) is held from the parent walk to the end of
 * the edit, so each operation is atomic with respect to every other path
 * operation (Linux's i_rwsem on both parents plus s_vfs_rename_mutex).
 * fs_struct->lock (umask) and fdtable->lock (dirfds) are taken before it.
 * inode->lock is taken inside it for link counts and times.
 *
 * References: removed dentries are detached (vfs_d_detach) and freed with
 * their last reference; the inode with its last link and last open file.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "cvisor/task.h"
#include "vfs_impl.h"
#include "fsnotify.h"

struct nameop {
	struct path root, start;
	struct file *df;
	struct walk_result res;
};

static int nameop_start(struct task *t, int dirfd, const char *name,
			bool allow_empty, struct nameop *op, bool *empty)
{
	bool e = false;
	int r = vfs_walk_start(t, dirfd, name, allow_empty, &op->root,
			       &op->start, &op->df, &e);

	if (empty)
		*empty = e;
	return r;
}

static void nameop_done(struct nameop *op)
{
	if (op->df)
		vfs_file_put(op->df);
	op->df = NULL;
}

static mode_t task_umask(struct task *t)
{
	mode_t m;

	pthread_mutex_lock(&t->fs->lock);
	m = t->fs->umask;
	pthread_mutex_unlock(&t->fs->lock);
	return m;
}

static void touch_dir(struct inode *dir, int nlink_delta)
{
	pthread_mutex_lock(&dir->lock);
	dir->nlink += nlink_delta;
	vfs_now(&dir->mtime);
	dir->ctime = dir->mtime;
	pthread_mutex_unlock(&dir->lock);
}

static void touch_ctime(struct inode *ino, int nlink_delta)
{
	pthread_mutex_lock(&ino->lock);
	if (nlink_delta < 0 && ino->nlink < (nlink_t)-nlink_delta)
		ino->nlink = 0;
	else
		ino->nlink += nlink_delta;
	vfs_now(&ino->ctime);
	pthread_mutex_unlock(&ino->lock);
}

static bool capable(const struct cred *c)
{
	return c->fsuid == 0;
}

/* may_create(): the caller checked that the name is free. */
static int may_create(const struct cred *cred, struct dentry *dir)
{
	if (dir->dead)
		return -ENOENT;
	return vfs_permission(dir->inode, cred, MAY_WRITE | MAY_EXEC, false);
}

/* check_sticky(): in a sticky directory only the owner of the file or of
 * the directory (or CAP_FOWNER) may remove or rename it. */
static bool check_sticky(const struct cred *cred, const struct inode *dir,
			 const struct inode *ino)
{
	if (!(dir->mode & S_ISVTX))
		return false;
	if (ino->uid == cred->fsuid || dir->uid == cred->fsuid)
		return false;
	return !capable(cred);
}

/* may_delete() */
static int may_delete(const struct cred *cred, struct dentry *dir,
		      struct dentry *victim, bool isdir)
{
	int r = vfs_permission(dir->inode, cred, MAY_WRITE | MAY_EXEC, false);

	if (r < 0)
		return r;
	if (check_sticky(cred, dir->inode, victim->inode))
		return -EPERM;
	if (isdir) {
		if (!S_ISDIR(victim->inode->mode))
			return -ENOTDIR;
	} else if (S_ISDIR(victim->inode->mode)) {
		return -EISDIR;
	}
	if (dir->dead)
		return -ENOENT;
	return 0;
}

static bool has_lower(struct dentry *dir)
{
	struct inode *ino = dir->inode;

	return ino->iops->has_lower && ino->iops->has_lower(ino);
}

/* A name in an overlay directory that a lower layer may still have turns
 * into a whiteout (a negative dentry that is never dropped). */
static void add_whiteout(struct vfs *vfs, struct dentry *dir, const char *name,
			 size_t len)
{
	if (!has_lower(dir) || vfs_dentry_find(dir, name, len))
		return;
	if (vfs_dentry_add(dir, name, len, NULL))
		vfs->nr_negative++;
}

/* Remove d from its directory (the caller fixed link counts). */
static void remove_name(struct vfs *vfs, struct dentry *d)
{
	struct dentry *dir = d->parent;
	char name[VFS_NAME_MAX + 1];
	size_t len = d->namelen;

	memcpy(name, d->name, len);
	vfs_d_detach(vfs, d);
	add_whiteout(vfs, dir, name, len);
}

/* ---- creation ---- */

/* filename_create() + may_create() + vfs_mknod/mkdir/symlink(). */
static int do_create(struct task *t, int dirfd, const char *name, mode_t mode,
		     dev_t rdev, const char *target)
{
	struct vfs *vfs = t->fs->vfs;
	bool is_dir = S_ISDIR(mode);
	struct nameop op = { 0 };
	struct dentry *dir, *d;
	struct inode *ino;
	int r;

	r = nameop_start(t, dirfd, name, false, &op, NULL);
	if (r < 0) {
		nameop_done(&op);
		return r;
	}
	pthread_mutex_lock(&vfs->lock);
	r = vfs_walk(vfs, &t->cred, &op.root, &op.start, name, WALK_PARENT,
		     &op.res);
	if (r < 0)
		goto out;
	if (op.res.last_type != WALK_LAST_NORM) {
		r = -EEXIST;
		goto out;
	}
	dir = op.res.parent.dentry;
	r = vfs_lookup_child(vfs, dir, op.res.last, strlen(op.res.last), &d);
	if (r == 0) {
		r = -EEXIST;
		goto out;
	}
	if (r != -ENOENT)
		goto out;
	/* "newfile/" asked for a directory that does not exist. */
	if (!is_dir && op.res.last_slash) {
		r = -ENOENT;
		goto out;
	}
	if (vfs_mnt_readonly(op.res.parent.mnt)) {
		r = -EROFS;
		goto out;
	}
	r = may_create(&t->cred, dir);
	if (r < 0)
		goto out;
	if (S_ISCHR(mode) || S_ISBLK(mode)) {
		/* vfs_mknod(): CAP_MKNOD; in the sandbox only the devices
		 * devfs drives (and the 0:0 whiteout) can be made. */
		if (!capable(&t->cred) ||
		    (rdev != 0 && (!S_ISCHR(mode) || !devfs_driver(rdev)))) {
			r = -EPERM;
			goto out;
		}
	}
	if (target && dir->inode->iops->symlink_at)
		r = dir->inode->iops->symlink_at(dir->inode, op.res.last,
						 strlen(op.res.last), target,
						 &t->cred, &ino);
	else if (dir->inode->iops->mknod_at && !target && !rdev)
		r = dir->inode->iops->mknod_at(dir->inode, op.res.last,
					       strlen(op.res.last), mode,
					       &t->cred, &ino);
	else if (!dir->inode->iops->mknod)
		r = -EPERM;
	else
		r = dir->inode->iops->mknod(dir->inode, mode, rdev, target,
					    &t->cred, &ino);
	if (r < 0)
		goto out;
	d = vfs_d_instantiate(dir, op.res.last, strlen(op.res.last), ino);
	if (!d) {
		vfs_inode_get(ino);
		vfs_inode_put(ino);
		r = -ENOMEM;
		goto out;
	}
	touch_dir(dir->inode, is_dir ? 1 : 0);
	fsnotify_create(dir->inode, op.res.last, ino);
out:
	pthread_mutex_unlock(&vfs->lock);
	nameop_done(&op);
	return r;
}

int vfs_mknodat(struct task *t, int dirfd, const char *name, mode_t mode,
		dev_t rdev)
{
	/* may_mknod(): 0 means a regular file; directories are mkdir's. */
	switch (mode & S_IFMT) {
	case 0:
		mode |= S_IFREG;
		break;
	case S_IFREG: case S_IFCHR: case S_IFBLK: case S_IFIFO: case S_IFSOCK:
		break;
	case S_IFDIR:
		return -EPERM;
	default:
		return -EINVAL;
	}
	if (!S_ISCHR(mode) && !S_ISBLK(mode))
		rdev = 0;
	mode = (mode & S_IFMT) | (mode & 07777 & ~task_umask(t));
	return do_create(t, dirfd, name, mode, rdev, NULL);
}

int vfs_mkdirat(struct task *t, int dirfd, const char *name, mode_t mode)
{
	mode = S_IFDIR | (mode & 01777 & ~task_umask(t));
	return do_create(t, dirfd, name, mode, 0, NULL);
}

int vfs_symlinkat(struct task *t, const char *target, int dirfd,
		  const char *name)
{
	if (!*target)
		return -ENOENT;
	return do_create(t, dirfd, name, S_IFLNK | 0777, 0, target);
}

/* ---- removal ---- */

static int do_rmdir(struct task *t, int dirfd, const char *name)
{
	struct vfs *vfs = t->fs->vfs;
	struct nameop op = { 0 };
	struct dentry *dir, *d;
	int r;

	r = nameop_start(t, dirfd, name, false, &op, NULL);
	if (r < 0) {
		nameop_done(&op);
		return r;
	}
	pthread_mutex_lock(&vfs->lock);
	r = vfs_walk(vfs, &t->cred, &op.root, &op.start, name, WALK_PARENT,
		     &op.res);
	if (r < 0)
		goto out;
	switch (op.res.last_type) {
	case WALK_LAST_DOTDOT:
		r = -ENOTEMPTY;
		goto out;
	case WALK_LAST_DOT:
		r = -EINVAL;
		goto out;
	case WALK_LAST_ROOT:
		r = -EBUSY;
		goto out;
	case WALK_LAST_NORM:
		break;
	}
	if (vfs_mnt_readonly(op.res.parent.mnt)) {
		r = -EROFS;
		goto out;
	}
	dir = op.res.parent.dentry;
	r = vfs_lookup_child(vfs, dir, op.res.last, strlen(op.res.last), &d);
	if (r < 0)
		goto out;
	r = may_delete(&t->cred, dir, d, true);
	if (r < 0)
		goto out;
	if (d->mounted) {
		r = -EBUSY;
		goto out;
	}
	if (!tmpfs_dir_empty(vfs, d)) {
		r = -ENOTEMPTY;
		goto out;
	}
	if (dir->inode->iops->unlink) {
		r = dir->inode->iops->unlink(dir->inode, d->name, d->namelen,
					     true);
		if (r < 0)
			goto out;
	}
	touch_ctime(d->inode, -(int)d->inode->nlink);
	touch_dir(dir->inode, -1);
	fsnotify_delete(dir->inode, d, true);
	remove_name(vfs, d);
out:
	pthread_mutex_unlock(&vfs->lock);
	nameop_done(&op);
	return r;
}

int vfs_unlinkat(struct task *t, int dirfd, const char *name, int flags)
{
	struct vfs *vfs = t->fs->vfs;
	struct nameop op = { 0 };
	struct dentry *dir, *d;
	int r;

	if (flags & AT_REMOVEDIR)
		return do_rmdir(t, dirfd, name);
	r = nameop_start(t, dirfd, name, false, &op, NULL);
	if (r < 0) {
		nameop_done(&op);
		return r;
	}
	pthread_mutex_lock(&vfs->lock);
	r = vfs_walk(vfs, &t->cred, &op.root, &op.start, name, WALK_PARENT,
		     &op.res);
	if (r < 0)
		goto out;
	if (op.res.last_type != WALK_LAST_NORM) {
		r = -EISDIR;
		goto out;
	}
	if (vfs_mnt_readonly(op.res.parent.mnt)) {
		r = -EROFS;
		goto out;
	}
	dir = op.res.parent.dentry;
	r = vfs_lookup_child(vfs, dir, op.res.last, strlen(op.res.last), &d);
	if (r < 0)
		goto out;
	if (op.res.last_slash) {
		r = S_ISDIR(d->inode->mode) ? -EISDIR : -ENOTDIR;
		goto out;
	}
	r = may_delete(&t->cred, dir, d, false);
	if (r < 0)
		goto out;
	if (d->mounted) {
		r = -EBUSY;
		goto out;
	}
	if (dir->inode->iops->unlink) {
		r = dir->inode->iops->unlink(dir->inode, d->name, d->namelen,
					     false);
		if (r < 0)
			goto out;
	}
	touch_ctime(d->inode, -1);
	touch_dir(dir->inode, 0);
	fsnotify_delete(dir->inode, d, false);
	remove_name(vfs, d);
out:
	pthread_mutex_unlock(&vfs->lock);
	nameop_done(&op);
	return r;
}

/* ---- link ---- */

/* may_linkat() with fs.protected_hardlinks = 1 (the default). */
static int may_linkat(const struct cred *cred, const struct inode *ino)
{
	if (ino->uid == cred->fsuid || capable(cred))
		return 0;
	if (S_ISREG(ino->mode) && !(ino->mode & S_ISUID) &&
	    (ino->mode & (S_ISGID | S_IXGRP)) != (S_ISGID | S_IXGRP) &&
	    vfs_permission(ino, cred, MAY_READ | MAY_WRITE, false) == 0)
		return 0;
	return -EPERM;
}

int vfs_linkat(struct task *t, int olddirfd, const char *oldname,
	       int newdirfd, const char *newname, int flags)
{
	struct vfs *vfs = t->fs->vfs;
	struct nameop oop = { 0 }, nop = { 0 };
	struct walk_result ores;
	struct path old;
	struct dentry *dir, *d;
	struct inode *ino;
	bool empty = false;
	int r;

	r = nameop_start(t, olddirfd, oldname, flags & AT_EMPTY_PATH, &oop,
			 &empty);
	if (r == 0)
		r = nameop_start(t, newdirfd, newname, false, &nop, NULL);
	if (r < 0)
		goto done;
	pthread_mutex_lock(&vfs->lock);
	if (empty) {
		/* linkat(fd, "", ..., AT_EMPTY_PATH): the fd's own file. */
		old = oop.start;
	} else {
		r = vfs_walk(vfs, &t->cred, &oop.root, &oop.start, oldname,
			     (flags & AT_SYMLINK_FOLLOW) ? WALK_FOLLOW : 0,
			     &ores);
		if (r < 0)
			goto out;
		old = ores.path;
	}
	r = vfs_walk(vfs, &t->cred, &nop.root, &nop.start, newname,
		     WALK_PARENT, &nop.res);
	if (r < 0)
		goto out;
	if (nop.res.last_type != WALK_LAST_NORM) {
		r = -EEXIST;
		goto out;
	}
	dir = nop.res.parent.dentry;
	r = vfs_lookup_child(vfs, dir, nop.res.last, strlen(nop.res.last), &d);
	if (r == 0) {
		r = -EEXIST;
		goto out;
	}
	if (r != -ENOENT)
		goto out;
	if (nop.res.last_slash) {
		r = -ENOENT;
		goto out;
	}
	if (vfs_mnt_readonly(nop.res.parent.mnt)) {
		r = -EROFS;
		goto out;
	}
	if (old.mnt != nop.res.parent.mnt) {
		r = -EXDEV;
		goto out;
	}
	ino = old.dentry->inode;
	r = may_linkat(&t->cred, ino);
	if (r < 0)
		goto out;
	/* vfs_link() */
	r = may_create(&t->cred, dir);
	if (r < 0)
		goto out;
	if (dir->inode->sb != ino->sb) {
		r = -EXDEV;
		goto out;
	}
	if ((!dir->inode->iops->mknod && !dir->inode->iops->link_at) ||
	    S_ISDIR(ino->mode)) {
		r = -EPERM;
		goto out;
	}
	/* vfs_link(): an unlinked inode only when O_TMPFILE made it
	 * linkable (I_LINKABLE, not with O_EXCL). */
	if (ino->nlink == 0 && !ino->linkable) {
		r = -ENOENT;
		goto out;
	}
	/* Overlay: both names must share the upper copy. */
	if (ino->iops->copy_up) {
		r = ino->iops->copy_up(ino);
		if (r < 0)
			goto out;
	}
	/* A gofer mount: the host links the inode, which takes the host's
	 * new link count and ctime. */
	if (dir->inode->iops->link_at) {
		r = dir->inode->iops->link_at(ino, dir->inode, nop.res.last,
					      strlen(nop.res.last));
		if (r < 0)
			goto out;
	}
	d = vfs_d_instantiate(dir, nop.res.last, strlen(nop.res.last), ino);
	if (!d) {
		r = -ENOMEM;
		goto out;
	}
	if (!dir->inode->iops->link_at)
		touch_ctime(ino, 1);
	ino->linkable = false;
	touch_dir(dir->inode, 0);
	fsnotify_link(dir->inode, nop.res.last, ino);
out:
	pthread_mutex_unlock(&vfs->lock);
done:
	nameop_done(&oop);
	nameop_done(&nop);
	return r;
}

/* ---- rename ---- */

/* Is d the dentry a or one of its ancestors (in one file system)? */
static bool is_ancestor(const struct dentry *a, const struct dentry *d)
{
	for (; d; d = d->parent)
		if (d == a)
			return true;
	return false;
}

/* Move d to (dir, name); the caller removed whatever was there. */
static int move_dentry(struct vfs *vfs, struct dentry *d, struct dentry *dir,
		       const char *name, size_t len)
{
	char *nn = strndup(name, len);
	struct dentry *neg;

	if (!nn)
		return -ENOMEM;
	neg = vfs_dentry_find(dir, name, len);
	if (neg && !neg->inode)
		vfs_d_detach(vfs, neg);
	list_del(&d->sibling);
	free(d->name);
	d->name = nn;
	d->namelen = len;
	d->parent = dir;
	d->from_lookup = false;
	d->cookie = dir->next_cookie++;
	list_add_tail(&d->sibling, &dir->children);
	return 0;
}

int vfs_renameat2(struct task *t, int olddirfd, const char *oldname,
		  int newdirfd, const char *newname, unsigned int flags)
{
	struct vfs *vfs = t->fs->vfs;
	struct nameop oop = { 0 }, nop = { 0 };
	struct dentry *odir, *ndir, *od, *nd = NULL;
	const struct cred *cred = &t->cred;
	char oname[VFS_NAME_MAX + 1];
	bool is_dir, new_is_dir = false, exchange = flags & RENAME_EXCHANGE;
	int r;

	r = nameop_start(t, olddirfd, oldname, false, &oop, NULL);
	if (r == 0)
		r = nameop_start(t, newdirfd, newname, false, &nop, NULL);
	if (r < 0)
		goto done;
	pthread_mutex_lock(&vfs->lock);
	r = vfs_walk(vfs, cred, &oop.root, &oop.start, oldname, WALK_PARENT,
		     &oop.res);
	if (r == 0)
		r = vfs_walk(vfs, cred, &nop.root, &nop.start, newname,
			     WALK_PARENT, &nop.res);
	if (r < 0)
		goto out;
	if (oop.res.parent.mnt != nop.res.parent.mnt) {
		r = -EXDEV;
		goto out;
	}
	if (oop.res.last_type != WALK_LAST_NORM) {
		r = -EBUSY;
		goto out;
	}
	if (nop.res.last_type != WALK_LAST_NORM) {
		r = (flags & RENAME_NOREPLACE) ? -EEXIST : -EBUSY;
		goto out;
	}
	if (vfs_mnt_readonly(oop.res.parent.mnt)) {
		r = -EROFS;
		goto out;
	}
	odir = oop.res.parent.dentry;
	ndir = nop.res.parent.dentry;
	r = vfs_lookup_child(vfs, odir, oop.res.last, strlen(oop.res.last),
			     &od);
	if (r < 0)
		goto out;
	r = vfs_lookup_child(vfs, ndir, nop.res.last, strlen(nop.res.last),
			     &nd);
	if (r == -ENOENT)
		nd = NULL;
	else if (r < 0)
		goto out;
	r = 0;
	if ((flags & RENAME_NOREPLACE) && nd) {
		r = -EEXIST;
		goto out;
	}
	if (exchange) {
		if (!nd) {
			r = -ENOENT;
			goto out;
		}
		if (!S_ISDIR(nd->inode->mode) && nop.res.last_slash) {
			r = -ENOTDIR;
			goto out;
		}
	}
	is_dir = S_ISDIR(od->inode->mode);
	if (!is_dir && (oop.res.last_slash ||
			(!exchange && nop.res.last_slash))) {
		r = -ENOTDIR;
		goto out;
	}
	/* The source may not be an ancestor of the target's directory... */
	if (is_ancestor(od, ndir)) {
		r = -EINVAL;
		goto out;
	}
	/* ...nor the target an ancestor of the source. */
	if (nd && is_ancestor(nd, odir)) {
		r = exchange ? -EINVAL : -ENOTEMPTY;
		goto out;
	}
	/* vfs_rename() */
	if (nd && (od->inode == nd->inode ||
		   (od->inode->sb == nd->inode->sb &&
		    od->inode->sb->kind == FS_GOFER &&
		    od->inode->ino == nd->inode->ino)))
		goto out; /* hard links to one inode: nothing to do (a gofer
			     mount may have one inode per name) */
	r = may_delete(cred, odir, od, is_dir);
	if (r < 0)
		goto out;
	if (!nd) {
		r = may_create(cred, ndir);
	} else {
		new_is_dir = S_ISDIR(nd->inode->mode);
		r = may_delete(cred, ndir, nd, exchange ? new_is_dir : is_dir);
	}
	if (r < 0)
		goto out;
	if (!odir->inode->iops->mknod && !odir->inode->iops->rename_at) {
		r = -EPERM;
		goto out;
	}
	if (odir != ndir) {
		/* ".." changes: write permission on the moved directory. */
		if (is_dir)
			r = vfs_permission(od->inode, cred, MAY_WRITE, false);
		if (r == 0 && exchange && new_is_dir)
			r = vfs_permission(nd->inode, cred, MAY_WRITE, false);
		if (r < 0)
			goto out;
	}
	if (od->mounted || (nd && nd->mounted)) {
		r = -EBUSY;
		goto out;
	}
	if (flags & RENAME_WHITEOUT) {
		r = -EINVAL; /* no whiteout inodes here */
		goto out;
	}
	if (!exchange && nd && new_is_dir && !tmpfs_dir_empty(vfs, nd)) {
		r = -ENOTEMPTY;
		goto out;
	}

	/* A gofer mount: the host renames first (it may still refuse,
	 * e.g. ENOTEMPTY for a directory whose entries are not cached). */
	if (odir->inode->iops->rename_at) {
		r = odir->inode->iops->rename_at(odir->inode, od, ndir->inode,
						 nop.res.last,
						 strlen(nop.res.last), nd,
						 flags & (RENAME_NOREPLACE |
							  RENAME_EXCHANGE));
		if (r < 0)
			goto out;
	}
	memcpy(oname, od->name, od->namelen);
	oname[od->namelen] = '\0';
	fsnotify_move(odir->inode, oname, ndir->inode, nop.res.last, od, nd,
		      exchange);
	if (exchange) {
		char nname[VFS_NAME_MAX + 1];
		size_t ol = od->namelen, nl = nd->namelen;

		memcpy(nname, nd->name, nl);
		r = move_dentry(vfs, nd, odir, oname, ol);
		if (r == 0)
			r = move_dentry(vfs, od, ndir, nname, nl);
		if (r < 0)
			goto out;
		if (odir != ndir && is_dir != new_is_dir) {
			touch_dir(odir->inode, is_dir ? -1 : 1);
			touch_dir(ndir->inode, is_dir ? 1 : -1);
		} else {
			touch_dir(odir->inode, 0);
			touch_dir(ndir->inode, 0);
		}
		touch_ctime(od->inode, 0);
		touch_ctime(nd->inode, 0);
		goto out;
	}
	if (nd) {
		/* The replaced name goes; its directory loses ".." if it
		 * was one (shmem_rename2). */
		touch_ctime(nd->inode, new_is_dir ? -(int)nd->inode->nlink : -1);
		if (new_is_dir)
			touch_dir(ndir->inode, -1);
		vfs_d_detach(vfs, nd);
	}
	r = move_dentry(vfs, od, ndir, nop.res.last, strlen(nop.res.last));
	if (r < 0)
		goto out;
	add_whiteout(vfs, odir, oname, strlen(oname));
	if (is_dir && odir != ndir) {
		touch_dir(odir->inode, -1);
		touch_dir(ndir->inode, 1);
	} else {
		touch_dir(odir->inode, 0);
		touch_dir(ndir->inode, 0);
	}
	touch_ctime(od->inode, 0);
out:
	pthread_mutex_unlock(&vfs->lock);
done:
	nameop_done(&oop);
	nameop_done(&nop);
	return r;
}

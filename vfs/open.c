// SPDX-License-Identifier: GPL-2.0
/*
 * open(2) and the path-taking queries built on the walk: stat, access,
 * opening executables, searching $PATH.
 *
 * Locks: vfs_openat() holds vfs->lock across the walk, the O_EXCL check and
 * the creation, so O_CREAT|O_EXCL is atomic (as i_rwsem makes it in
 * fs/namei.c open_last_lookups()); it drops it before truncating (inode->lock)
 * since dentries cannot go away. Nothing else here holds more than one lock.
 *
 * References: returns new file references; a dirfd's file reference from
 * vfs_walk_start() is put before returning.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvisor/task.h"
#include "vfs_impl.h"

/* Checks of do_open()/may_open() on an existing inode. */
static int may_open(const struct inode *ino, const struct cred *cred,
		    int flags)
{
	int acc = flags & O_ACCMODE;
	int mask = 0;

	if (acc == O_RDONLY || acc == O_RDWR || acc == 3)
		mask |= MAY_READ;
	if (acc == O_WRONLY || acc == O_RDWR || acc == 3 || (flags & O_TRUNC))
		mask |= MAY_WRITE;

	switch (ino->mode & S_IFMT) {
	case S_IFLNK:
		return -ELOOP;
	case S_IFDIR:
		if (mask & MAY_WRITE)
			return -EISDIR;
		break;
	case S_IFSOCK:
		return -ENXIO;
	default:
		break;
	}
	return vfs_may_access(ino, cred, mask, false);
}

static int create_last(struct task *t, struct walk_result *res, mode_t mode,
		       mode_t umask, struct path *out)
{
	struct inode *dir = res->parent.dentry->inode, *ino;
	struct dentry *d;
	int r;

	/* open("newname/", O_CREAT) is EISDIR (open_last_lookups()). */
	if (res->last_slash)
		return -EISDIR;
	/* IS_DEADDIR: nothing is created in a removed directory. */
	if (res->parent.dentry->dead)
		return -ENOENT;
	/* mnt_want_write() comes before may_o_create(): EROFS first. */
	if (dir->sb->readonly)
		return -EROFS;
	r = vfs_permission(dir, &t->cred, MAY_WRITE | MAY_EXEC, false);
	if (r < 0)
		return r;
	if (!dir->iops->create)
		return -EACCES;
	r = dir->iops->create(dir, S_IFREG | (mode & 07777 & ~umask),
			      &t->cred, &ino);
	if (r < 0)
		return r;
	/* A cached negative dentry (or whiteout) becomes positive. */
	d = vfs_d_instantiate(res->parent.dentry, res->last, strlen(res->last),
			      ino);
	if (!d) {
		vfs_inode_get(ino);
		vfs_inode_put(ino);
		return -ENOMEM;
	}
	out->mnt = res->parent.mnt;
	out->dentry = d;
	return 0;
}

int vfs_openat(struct task *t, int dirfd, const char *name, int flags,
	       mode_t mode, struct file **out)
{
	struct vfs *vfs = t->fs->vfs;
	unsigned int wflags = 0;
	struct walk_result res;
	struct path root, start, p;
	struct file *df, *f;
	bool empty, created = false;
	mode_t umask;
	int r;

	/* build_open_flags(): O_TMPFILE needs write access; no file system
	 * here supports it. */
	if ((flags & O_TMPFILE) == O_TMPFILE)
		return (flags & O_ACCMODE) == O_RDONLY ? -EINVAL : -EOPNOTSUPP;
	if (flags & O_PATH)
		flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	/* O_CREAT|O_EXCL never follows a trailing symlink. */
	if (!(flags & O_NOFOLLOW) &&
	    (flags & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL))
		wflags |= WALK_FOLLOW;
	if (flags & O_CREAT)
		wflags |= WALK_CREATE;

	r = vfs_walk_start(t, dirfd, name, false, &root, &start, &df, &empty);
	if (df)
		vfs_file_put(df);
	if (r < 0)
		return r;
	pthread_mutex_lock(&t->fs->lock);
	umask = t->fs->umask;
	pthread_mutex_unlock(&t->fs->lock);

	pthread_mutex_lock(&vfs->lock);
	r = vfs_walk(vfs, &t->cred, &root, &start, name, wflags, &res);
	if (r < 0)
		goto unlock;
	if (res.missing) {
		r = create_last(t, &res, mode, umask, &p);
		created = true;
	} else {
		struct inode *ino = res.path.dentry->inode;

		p = res.path;
		if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
			r = -EEXIST;
		else if ((flags & O_CREAT) && S_ISDIR(ino->mode))
			r = -EISDIR;
		else if ((flags & O_DIRECTORY) && !S_ISDIR(ino->mode))
			r = -ENOTDIR; /* before may_open()'s ELOOP */
		else if (!(flags & O_PATH))
			r = may_open(ino, &t->cred, flags);
	}
	if (r == 0)
		r = vfs_file_open_path(&p, flags, &f);
unlock:
	pthread_mutex_unlock(&vfs->lock);
	if (r < 0)
		return r;

	/* A FIFO open waits for the other end (fifo_open()), so it runs
	 * without vfs->lock, which that other end needs for its walk. */
	if (f->fmode & FMODE_FIFO_OPEN) {
		/* (Set only by a file system's open of a named FIFO; not by,
		 * e.g., a /proc/<pid>/fd link to a pipe, bound by its open.) */
		r = vfs_fifo_open(f->inode, f);
		if (r < 0) {
			vfs_file_put(f);
			return r;
		}
	}

	if ((flags & O_TRUNC) && !created && !(flags & O_PATH) &&
	    S_ISREG(f->inode->mode) && f->inode->iops->truncate) {
		r = f->inode->iops->truncate(f->inode, 0);
		if (r < 0) {
			vfs_file_put(f);
			return r;
		}
	}
	*out = f;
	return 0;
}

int vfs_stat_at(struct task *t, int dirfd, const char *name, int atflags,
		struct stat *st)
{
	struct vfs *vfs = t->fs->vfs;
	struct walk_result res;
	struct path root, start;
	struct file *df;
	bool empty;
	int r;

	r = vfs_walk_start(t, dirfd, name, atflags & AT_EMPTY_PATH, &root,
			   &start, &df, &empty);
	if (r == 0 && empty && df)
		r = vfs_fstat(df, st); /* fstat(2) on the dirfd itself */
	else if (r == 0 && empty)
		vfs_inode_stat(start.dentry->inode, st);
	if (df)
		vfs_file_put(df);
	if (r < 0 || empty)
		return r;
	pthread_mutex_lock(&vfs->lock);
	r = vfs_walk(vfs, &t->cred, &root, &start, name,
		     (atflags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW, &res);
	pthread_mutex_unlock(&vfs->lock);
	if (r < 0)
		return r;
	vfs_inode_stat(res.path.dentry->inode, st);
	return 0;
}

int vfs_access_at(struct task *t, int dirfd, const char *name, int mode,
		  int atflags)
{
	struct path p;
	int mask = 0;
	int r;

	r = vfs_lookup_at(t, dirfd, name,
			  (atflags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW,
			  atflags & AT_EMPTY_PATH, &p);
	if (r < 0)
		return r;
	if (mode == F_OK)
		return 0;
	if (mode & R_OK)
		mask |= MAY_READ;
	if (mode & W_OK)
		mask |= MAY_WRITE;
	if (mode & X_OK)
		mask |= MAY_EXEC;
	/* access(2) checks with the real ids unless AT_EACCESS. */
	return vfs_may_access(p.dentry->inode, &t->cred, mask,
			      !(atflags & AT_EACCESS));
}

int vfs_open_exec(struct task *t, const char *path, struct file **out)
{
	struct path p;
	struct inode *ino;
	int r;

	r = vfs_lookup_at(t, AT_FDCWD, path, WALK_FOLLOW, false, &p);
	if (r < 0)
		return r;
	ino = p.dentry->inode;
	/* do_open_execat(): only regular files, and exec permission (read
	 * permission is not needed to execute). */
	if (!S_ISREG(ino->mode))
		return -EACCES;
	r = vfs_permission(ino, &t->cred, MAY_EXEC, false);
	if (r < 0)
		return r;
	return vfs_file_open_path(&p, O_RDONLY, out);
}

int vfs_find_in_path(struct task *t, const char *name, const char *pathvar,
		     char *out, size_t outlen)
{
	bool saw_eacces = false;
	const char *p;
	int r;

	if (!*name)
		return -ENOENT;
	if (strchr(name, '/')) {
		/* Like execvp(3): a name with a slash is used as is. */
		if (name[0] == '/') {
			if (strlen(name) >= outlen)
				return -ENAMETOOLONG;
			strcpy(out, name);
			return 0;
		}
		pathvar = ".";
	}
	if (!pathvar)
		pathvar = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (p = pathvar;; p++) {
		size_t len = strcspn(p, ":");
		char cand[VFS_PATH_MAX];
		struct path fp;

		/* An empty element means the current directory. */
		if (snprintf(cand, sizeof(cand), "%.*s/%s", (int)(len ? len : 1),
			     len ? p : ".", name) < (int)sizeof(cand)) {
			r = vfs_lookup_at(t, AT_FDCWD, cand, WALK_FOLLOW, false,
					  &fp);
			if (r == 0 && S_ISREG(fp.dentry->inode->mode) &&
			    vfs_permission(fp.dentry->inode, &t->cred,
					   MAY_EXEC, false) == 0) {
				struct path root;
				int n;

				if (cand[0] == '/') {
					if (strlen(cand) >= outlen)
						return -ENAMETOOLONG;
					strcpy(out, cand);
					return 0;
				}
				pthread_mutex_lock(&t->fs->lock);
				root = t->fs->root;
				pthread_mutex_unlock(&t->fs->lock);
				n = vfs_path_name(t->fs->vfs, &root, &fp, out,
						  outlen);
				return n < 0 ? -ENAMETOOLONG : 0;
			}
			if (r == 0 || r == -EACCES)
				saw_eacces = true;
		}
		p += len;
		if (!*p)
			break;
	}
	return saw_eacces ? -EACCES : -ENOENT;
}

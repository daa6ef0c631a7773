// SPDX-License-Identifier: GPL-2.0
/*
 * open(2)/openat2(2) (with O_TMPFILE) and the path-taking queries built on
 * the walk: stat, access, opening executables, searching $PATH.
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
#include "fsnotify.h"

/* Checks of do_open()/may_open() on an existing inode. */
static int may_open(const struct inode *ino, const struct cred *cred,
		    int flags)
{
	int acc = flags & O_ACCMODE;
	int mask = 0;
	int r;

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
	r = vfs_may_access(ino, cred, mask, false);
	if (r < 0)
		return r;
	/* O_NOATIME only for the owner or CAP_FOWNER
	 * (inode_owner_or_capable()). */
	if ((flags & O_NOATIME) && ino->uid != cred->fsuid && cred->fsuid != 0)
		return -EPERM;
	return 0;
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
	if (dir->sb->readonly || vfs_mnt_readonly(res->parent.mnt))
		return -EROFS;
	r = vfs_permission(dir, &t->cred, MAY_WRITE | MAY_EXEC, false);
	if (r < 0)
		return r;
	if (dir->iops->mknod_at)
		r = dir->iops->mknod_at(dir, res->last, strlen(res->last),
					S_IFREG | (mode & 07777 & ~umask),
					&t->cred, &ino);
	else if (!dir->iops->create)
		return -EACCES;
	else
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
	fsnotify_create(dir, res->last, ino);
	out->mnt = res->parent.mnt;
	out->dentry = d;
	return 0;
}

/*
 * O_TMPFILE (do_tmpfile() + vfs_tmpfile()): an unnamed regular file in the
 * directory res->path, nlink 0, reachable only through the open file (and
 * /proc/self/fd) until linkat gives it a name, which O_EXCL forbids. Its
 * dentry is a removed one (no parent), freed with the last open file, and
 * the inode with it. File systems that make inodes (tmpfs, the overlay
 * root, whose new files live in its tmpfs upper) support it; others give
 * EOPNOTSUPP like a Linux fs with no ->tmpfile. vfs->lock held.
 */
static int open_tmpfile(struct task *t, const struct path *dirp, int flags,
			mode_t mode, mode_t umask, struct file **out)
{
	struct inode *dir = dirp->dentry->inode, *ino;
	struct dentry *d;
	struct path p;
	char name[32];
	int r, n;

	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	if (dir->sb->readonly)
		return -EROFS;	/* mnt_want_write() */
	r = vfs_permission(dir, &t->cred, MAY_WRITE | MAY_EXEC, false);
	if (r < 0)
		return r;
	if (dirp->dentry->dead)
		return -ENOENT;
	if (!dir->iops->create || !dir->iops->mknod)
		return -EOPNOTSUPP;
	r = dir->iops->create(dir, S_IFREG | (mode & 07777 & ~umask), &t->cred,
			      &ino);
	if (r < 0)
		return r;
	ino->nlink = 0;
	ino->linkable = !(flags & O_EXCL);
	/* Named like Linux's d_tmpfile(): "#<ino>", never in a directory. */
	n = snprintf(name, sizeof(name), "#%llu", (unsigned long long)ino->ino);
	d = vfs_dentry_add(NULL, name, (size_t)n, ino);
	if (!d) {
		vfs_inode_get(ino);
		vfs_inode_put(ino);
		return -ENOMEM;
	}
	d->dead = true;
	d->old_parent = dirp->dentry;	/* named "/dir/#ino (deleted)" */
	dirp->dentry->pins++;
	p.mnt = dirp->mnt;
	p.dentry = d;
	vfs_dentry_get(d);	/* frees d (and ino) below if the open fails */
	r = vfs_file_open_path(&p, flags & ~(O_CREAT | O_EXCL | O_TRUNC),
			       out);
	vfs_dentry_put(d);
	return r;
}

int vfs_openat(struct task *t, int dirfd, const char *name, int flags,
	       mode_t mode, struct file **out)
{
	return vfs_openat_resolve(t, dirfd, name, flags, mode, 0, out);
}

int vfs_openat_resolve(struct task *t, int dirfd, const char *name, int flags,
		       mode_t mode, unsigned int resolve, struct file **out)
{
	struct vfs *vfs = t->fs->vfs;
	unsigned int wflags = resolve;
	struct walk_result res;
	struct path root, start, p;
	struct file *df, *f;
	bool empty, created = false, tmpfile;
	mode_t umask;
	int r;

	if (flags & O_PATH)
		flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	/* build_open_flags() (Linux >= 6.4): O_CREAT|O_DIRECTORY once made
	 * regular files; it is refused, which also covers O_TMPFILE|O_CREAT. */
	if ((flags & (O_CREAT | O_DIRECTORY)) == (O_CREAT | O_DIRECTORY))
		return -EINVAL;
	/* O_TMPFILE comes with O_DIRECTORY and needs write access. */
	tmpfile = flags & (O_TMPFILE & ~O_DIRECTORY);
	if (tmpfile) {
		if (!(flags & O_DIRECTORY))
			return -EINVAL;
		if ((flags & O_ACCMODE) == O_RDONLY)
			return -EINVAL;
	}
	/* O_CREAT|O_EXCL never follows a trailing symlink. */
	if (!(flags & O_NOFOLLOW) &&
	    (tmpfile || (flags & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL)))
		wflags |= WALK_FOLLOW;
	if ((flags & O_CREAT) && !tmpfile)
		wflags |= WALK_CREATE;

	/* RESOLVE_IN_ROOT: even an absolute name starts at dirfd (path_init()
	 * looks at dfd unless the name is absolute and the walk unscoped). */
	if ((resolve & WALK_IN_ROOT) && name[0] == '/')
		r = vfs_walk_start(t, dirfd, ".", false, &root, &start, &df,
				   &empty);
	else
		r = vfs_walk_start(t, dirfd, name, false, &root, &start, &df,
				   &empty);
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
	if (tmpfile) {
		r = open_tmpfile(t, &res.path, flags, mode, umask, &f);
		pthread_mutex_unlock(&vfs->lock);
		if (r < 0)
			return r;
		*out = f;
		return 0;
	}
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
		/* may_open(): no devices from a nodev mount. */
		if (r == 0 && !(flags & O_PATH) && p.mnt &&
		    (p.mnt->flags & VFS_MNT_NODEV) &&
		    (S_ISCHR(ino->mode) || S_ISBLK(ino->mode)))
			r = -EACCES;
		/* A read-only mount (mnt_get_write_access() in do_open). */
		if (r == 0 && !(flags & O_PATH) && vfs_mnt_readonly(p.mnt) &&
		    ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC)) &&
		    (S_ISREG(ino->mode) || S_ISDIR(ino->mode)))
			r = -EROFS;
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
	fsnotify_open(f, (flags & O_TRUNC) && !created);
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
	r = vfs_may_access(p.dentry->inode, &t->cred, mask,
			   !(atflags & AT_EACCESS));
	/* do_faccessat(): W_OK on a read-only mount. */
	if (r == 0 && (mask & MAY_WRITE) && vfs_mnt_readonly(p.mnt) &&
	    (S_ISREG(p.dentry->inode->mode) || S_ISDIR(p.dentry->inode->mode) ||
	     S_ISLNK(p.dentry->inode->mode)))
		r = -EROFS;
	return r;
}

int vfs_open_exec(struct task *t, const char *path, struct file **out)
{
	struct path p;
	struct inode *ino;
	int r;

	/* vfs->lock (recursive) until the file holds its dentry and mount:
	 * no umount or unlink in between. */
	pthread_mutex_lock(&t->fs->vfs->lock);
	r = vfs_lookup_at(t, AT_FDCWD, path, WALK_FOLLOW, false, &p);
	if (r < 0)
		goto out;
	ino = p.dentry->inode;
	/* do_open_execat(): only regular files, and exec permission (read
	 * permission is not needed to execute). */
	r = -EACCES;
	if (!S_ISREG(ino->mode))
		goto out;
	r = vfs_permission(ino, &t->cred, MAY_EXEC, false);
	if (r < 0)
		goto out;
	/* path_noexec(): nothing runs from a noexec mount. */
	r = -EACCES;
	if (p.mnt && (p.mnt->flags & VFS_MNT_NOEXEC))
		goto out;
	r = vfs_file_open_path(&p, O_RDONLY, out);
out:
	pthread_mutex_unlock(&t->fs->vfs->lock);
	return r;
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

// SPDX-License-Identifier: GPL-2.0
/*
 * Path resolution, following path_resolution(7) and fs/namei.c, with the
 * openat2(2) RESOLVE_* restrictions (WALK_BENEATH...: scoped roots, no
 * symlinks, no magic links, no mount crossing, cache only) and magic links:
 * /proc/PID/fd/N, cwd and root jump to the target path itself
 * (nd_jump_link()) instead of re-walking their text.
 *
 * Locks: vfs_walk() runs with vfs->lock held by the caller (lookups may
 * add dentries and talk to the gofer under it). vfs_walk_start() takes
 * fs_struct->lock and fdtable->lock briefly and holds nothing on return.
 *
 * References: paths are (mount, dentry) pairs owned by the vfs (see
 * vfs_impl.h); the only reference taken here is on a dirfd's file, which
 * vfs_walk_start() hands to the caller in *dirfile.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "cvisor/task.h"
#include "vfs_impl.h"

struct nameidata {
	struct vfs *vfs;
	const struct cred *cred;
	struct path root;
	struct path cur;
	unsigned int flags;
	int nlinks;
	struct walk_result *res;
};

static bool path_equal(const struct path *a, const struct path *b)
{
	return a->mnt == b->mnt && a->dentry == b->dentry;
}

/* Step onto whatever is mounted on p (follow_mount()). Bind mounts share
 * dentries, so the mount is looked up by (mount, dentry) (vfs/mount.c). */
static void follow_mounts(struct path *p)
{
	struct mount *m;

	while (p->dentry->mounted &&
	       (m = vfs_mnt_lookup(p->dentry->inode->sb->vfs, p->mnt,
				   p->dentry))) {
		p->mnt = m;
		p->dentry = m->root;
	}
}

/* "..": never above the task's root (a chroot cannot be left this way),
 * and across a mount's root to its mountpoint (follow_dotdot()). With
 * RESOLVE_BENEATH the root is the start directory and stepping above it is
 * EXDEV; RESOLVE_IN_ROOT clamps there like a chroot; RESOLVE_NO_XDEV
 * refuses to cross a mount upwards. */
static int follow_dotdot(struct nameidata *nd)
{
	for (;;) {
		if (path_equal(&nd->cur, &nd->root))
			goto in_root;
		if (nd->cur.dentry != nd->cur.mnt->root) {
			/* A removed directory has no parent any more: ".."
			 * stays put (Linux finds the old parent; a lookup
			 * there fails anyway). */
			if (nd->cur.dentry->parent)
				nd->cur.dentry = nd->cur.dentry->parent;
			break;
		}
		if (!nd->cur.mnt->parent)
			goto in_root; /* the global root: ".." is itself */
		if (nd->flags & WALK_NO_XDEV)
			return -EXDEV;
		nd->cur.dentry = nd->cur.mnt->mountpoint;
		nd->cur.mnt = nd->cur.mnt->parent;
	}
	if ((nd->flags & WALK_NO_XDEV) && nd->cur.dentry->mounted)
		return -EXDEV;
	follow_mounts(&nd->cur);
	return 0;
in_root:
	return (nd->flags & WALK_BENEATH) ? -EXDEV : 0;
}

static int lookup_child(struct nameidata *nd, const char *name, size_t len,
			struct dentry **out)
{
	struct dentry *dir = nd->cur.dentry;

	/* RESOLVE_CACHED: only what the dentry cache answers; a name the
	 * file system would have to look up (a gofer round trip) is EAGAIN,
	 * as Linux fails a LOOKUP_CACHED walk that must leave RCU mode. */
	if ((nd->flags & WALK_CACHED) && !dir->dead &&
	    dir->inode->iops->lookup && !vfs_dentry_find(dir, name, len))
		return -EAGAIN;
	return vfs_lookup_child(nd->vfs, dir, name, len, out);
}

int vfs_lookup_child(struct vfs *vfs, struct dentry *dir, const char *name,
		     size_t len, struct dentry **out)
{
	struct dentry *d;
	struct inode *ino = NULL;
	int r;

	/* IS_DEADDIR: nothing can be found in a removed directory. */
	if (dir->dead)
		return -ENOENT;
	d = vfs_dentry_find(dir, name, len);
	if (d && dir->inode->iops->revalidate &&
	    !dir->inode->iops->revalidate(dir->inode, d)) {
		/* Stale (a PID that exited or appeared): a dentry the fs
		 * could not drop is still in use and names nothing now. */
		if (vfs_dentry_find(dir, name, len))
			return -ENOENT;
		d = NULL;
	}
	if (d) {
		if (!d->inode)
			return -ENOENT;
		*out = d;
		return 0;
	}
	if (!dir->inode->iops->lookup)
		return -ENOENT; /* in-memory fs: the tree is complete */
	r = dir->inode->iops->lookup(dir->inode, name, len, &ino);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == -ENOENT) {
		/* The gofer root is exclusive to the sandbox: remember
		 * failures, a bounded number of them. */
		if (vfs->nr_negative >= VFS_MAX_NEGATIVE)
			return -ENOENT;
		if (vfs_dentry_add(dir, name, len, NULL))
			vfs->nr_negative++;
		return -ENOENT;
	}
	d = vfs_dentry_add(dir, name, len, ino);
	if (d)
		d->from_lookup = true;
	if (!d) {
		/* The inode is not linked anywhere yet: free it here. */
		if (ino->sb->inode_free)
			ino->sb->inode_free(ino);
		pthread_mutex_destroy(&ino->lock);
		free(ino);
		return -ENOMEM;
	}
	*out = d;
	return 0;
}

static int walk_path(struct nameidata *nd, const char *p, bool final);

/* The checks of nd_jump_link() for a magic link (/proc/PID/fd/N, cwd,
 * root, exe). magic: 1 = jump to *to, 2 = followed by its text. */
static int magic_link_allowed(struct nameidata *nd, int magic,
			      const struct path *to)
{
	/* A LOOKUP_CACHED walk cannot follow them in RCU mode. */
	if (nd->flags & WALK_CACHED)
		return -EAGAIN;
	if (nd->flags & WALK_NO_MAGICLINKS)
		return -ELOOP;
	if ((nd->flags & WALK_NO_XDEV) &&
	    (magic == 2 || to->mnt != nd->cur.mnt))
		return -EXDEV;
	/* "Not currently safe for scoped-lookups." */
	if (nd->flags & (WALK_BENEATH | WALK_IN_ROOT))
		return -EXDEV;
	return 0;
}

static int follow_link(struct nameidata *nd, struct dentry *link, bool final)
{
	_cleanup_free_ char *target = NULL;
	struct path jump = { 0 };
	int n, magic;

	/* Linux counts every link followed during one resolution and
	 * fails with ELOOP past 40 (fs/namei.c MAXSYMLINKS). */
	if (++nd->nlinks > VFS_MAXSYMLINKS)
		return -ELOOP;
	/* RESOLVE_NO_SYMLINKS (pick_link()): no link is followed at all. */
	if (nd->flags & WALK_NO_SYMLINKS)
		return -ELOOP;
	magic = proc_magic_link(link->inode, &jump);
	if (magic < 0)
		return magic;
	if (magic) {
		n = magic_link_allowed(nd, magic, &jump);
		if (n < 0)
			return n;
		if (magic == 1) {
			/* nd_jump_link(): the target itself, whatever its
			 * name says (it may have none any more). */
			nd->cur = jump;
			return 0;
		}
	}
	target = malloc(VFS_PATH_MAX);
	if (!target)
		return -ENOMEM;
	if (!link->inode->iops->readlink)
		return -EINVAL;
	n = link->inode->iops->readlink(link->inode, target, VFS_PATH_MAX - 1);
	if (n < 0)
		return n;
	if (n == 0)
		return -ENOENT; /* empty target, as get_link() */
	target[n] = '\0';
	/* Relative targets resolve from the directory holding the link,
	 * which is nd->cur; absolute ones from the task's root
	 * (nd_jump_root(): EXDEV under RESOLVE_BENEATH, and under
	 * RESOLVE_NO_XDEV when that root is on another mount). */
	if (target[0] == '/') {
		if (nd->flags & WALK_BENEATH)
			return -EXDEV;
		if ((nd->flags & WALK_NO_XDEV) && nd->cur.mnt != nd->root.mnt)
			return -EXDEV;
	}
	return walk_path(nd, target, final);
}

/*
 * Resolve p from nd->cur. final: p's last component is the last one of the
 * whole resolution (false inside a symlink met in mid-path).
 */
static int walk_path(struct nameidata *nd, const char *p, bool final)
{
	int r;

	if (*p == '/') {
		nd->cur = nd->root;
		while (*p == '/')
			p++;
	}
	while (*p) {
		const char *name = p;
		size_t len = strcspn(p, "/");
		bool slash, last;
		struct dentry *child;
		struct path next;

		p += len;
		slash = *p == '/';
		while (*p == '/')
			p++;
		last = final && *p == '\0';

		if (len > VFS_NAME_MAX)
			return -ENAMETOOLONG;
		if (!S_ISDIR(nd->cur.dentry->inode->mode))
			return -ENOTDIR;
		r = vfs_permission(nd->cur.dentry->inode, nd->cred, MAY_EXEC,
				   false);
		if (r < 0)
			return r;
		if (last && (nd->flags & WALK_PARENT)) {
			/* path_parentat(): stop at the parent and name the
			 * last component with its type. */
			struct walk_result *res = nd->res;

			res->parent = nd->cur;
			memcpy(res->last, name, len);
			res->last[len] = '\0';
			res->last_slash = slash;
			if (len == 1 && name[0] == '.')
				res->last_type = WALK_LAST_DOT;
			else if (len == 2 && name[0] == '.' && name[1] == '.')
				res->last_type = WALK_LAST_DOTDOT;
			else
				res->last_type = WALK_LAST_NORM;
			res->have_parent = true;
			return 0;
		}
		if (len == 1 && name[0] == '.')
			continue;
		if (len == 2 && name[0] == '.' && name[1] == '.') {
			r = follow_dotdot(nd);
			if (r < 0)
				return r;
			continue;
		}

		r = lookup_child(nd, name, len, &child);
		if (r == -ENOENT && last && (nd->flags & WALK_CREATE)) {
			struct walk_result *res = nd->res;

			res->missing = true;
			res->parent = nd->cur;
			memcpy(res->last, name, len);
			res->last[len] = '\0';
			res->last_slash = slash;
			return 0;
		}
		if (r < 0)
			return r;

		next.mnt = nd->cur.mnt;
		next.dentry = child;
		/* traverse_mounts(): RESOLVE_NO_XDEV never steps onto a
		 * mount, the last component included. */
		if ((nd->flags & WALK_NO_XDEV) && child->mounted)
			return -EXDEV;
		follow_mounts(&next);
		if (S_ISLNK(next.dentry->inode->mode) &&
		    (!last || slash || (nd->flags & WALK_FOLLOW))) {
			r = follow_link(nd, next.dentry, last);
			if (r < 0)
				return r;
			if (nd->res->missing)
				return 0;
		} else {
			nd->cur = next;
		}
		/* "file/" is ENOTDIR, for the last name and (via the check
		 * at the top of the loop) for any other. */
		if (slash && !S_ISDIR(nd->cur.dentry->inode->mode))
			return -ENOTDIR;
	}
	return 0;
}

int vfs_walk(struct vfs *vfs, const struct cred *cred,
	     const struct path *root, const struct path *start,
	     const char *name, unsigned int flags, struct walk_result *res)
{
	struct nameidata nd = {
		.vfs = vfs,
		.cred = cred,
		.root = *root,
		.cur = *start,
		.flags = flags,
		.res = res,
	};
	int r;

	memset(res, 0, sizeof(*res));
	if (!*name)
		return -ENOENT;
	if (strnlen(name, VFS_PATH_MAX) >= VFS_PATH_MAX)
		return -ENAMETOOLONG;
	/* Scoped lookups (path_init() with LOOKUP_IS_SCOPED): the start is
	 * the root; an absolute name is EXDEV under RESOLVE_BENEATH and
	 * names the start under RESOLVE_IN_ROOT. */
	if (flags & (WALK_BENEATH | WALK_IN_ROOT)) {
		if (*name == '/' && (flags & WALK_BENEATH))
			return -EXDEV;
		nd.root = *start;
	}
	r = walk_path(&nd, name, true);
	if (r < 0)
		return r;
	if ((flags & WALK_PARENT) && !res->have_parent) {
		/* "/" or a name ending in a symlink resolved to a final
		 * "." / "..": Linux's LAST_ROOT / LAST_DOT(DOT). */
		res->parent = nd.cur;
		res->last_type = WALK_LAST_ROOT;
		res->have_parent = true;
		return 0;
	}
	if (!res->missing)
		res->path = nd.cur;
	return 0;
}

bool vfs_file_is_dir(const struct file *f)
{
	return f->inode && S_ISDIR(f->inode->mode);
}

int vfs_walk_start(struct task *t, int dirfd, const char *name,
		   bool allow_empty, struct path *root, struct path *start,
		   struct file **dirfile, bool *empty)
{
	struct fs_struct *fs = t->fs;
	struct file *f;

	*dirfile = NULL;
	*empty = false;
	pthread_mutex_lock(&fs->lock);
	*root = fs->root;
	*start = fs->cwd;
	pthread_mutex_unlock(&fs->lock);

	/* An absolute name never looks at dirfd (path_init()). */
	if (name[0] == '/')
		return 0;
	if (!name[0] && !allow_empty)
		return -ENOENT;
	if (dirfd == AT_FDCWD)
		goto out;
	f = fdtable_get(t->fdt, dirfd);
	if (!f)
		return -EBADF;
	*dirfile = f;
	if (!f->path.mnt) {
		/* A file with no path (pipe, anon inode, host stdio): only
		 * AT_EMPTY_PATH can name it, meaning the file itself, as
		 * glibc's fstat(fd) = fstatat(fd, "", AT_EMPTY_PATH) needs. */
		if (name[0])
			return -ENOTDIR;
		*empty = true;
		return 0;
	}
	*start = f->path;
	if (name[0] && !S_ISDIR(f->inode->mode))
		return -ENOTDIR;
out:
	*empty = !name[0];
	return 0;
}

int vfs_lookup_at(struct task *t, int dirfd, const char *name,
		  unsigned int walk_flags, bool allow_empty, struct path *out)
{
	struct vfs *vfs = t->fs->vfs;
	struct walk_result res;
	struct path root, start;
	struct file *df;
	bool empty;
	int r;

	r = vfs_walk_start(t, dirfd, name, allow_empty, &root, &start, &df,
			   &empty);
	if (df)
		vfs_file_put(df);
	if (r < 0)
		return r;
	if (empty) {
		*out = start;
		return 0;
	}
	pthread_mutex_lock(&vfs->lock);
	r = vfs_walk(vfs, &t->cred, &root, &start, name, walk_flags, &res);
	pthread_mutex_unlock(&vfs->lock);
	if (r < 0)
		return r;
	*out = res.path;
	return 0;
}

int vfs_lookup_locked(struct task *t, const char *name,
		      unsigned int walk_flags, struct path *out)
{
	struct walk_result res;
	struct path root, start;
	struct file *df;
	bool empty;
	int r;

	r = vfs_walk_start(t, AT_FDCWD, name, false, &root, &start, &df,
			   &empty);
	if (df)
		vfs_file_put(df);
	if (r < 0)
		return r;
	r = vfs_walk(t->fs->vfs, &t->cred, &root, &start, name, walk_flags,
		     &res);
	if (r < 0)
		return r;
	*out = res.path;
	return 0;
}

int vfs_path_name(struct vfs *vfs, const struct path *root,
		  const struct path *p, char *buf, size_t size)
{
	struct path cur = *p;
	size_t pos = size;

	if (size < 2)
		return -ERANGE;
	buf[--pos] = '\0';
	pthread_mutex_lock(&vfs->lock);
	while (!path_equal(&cur, root)) {
		struct dentry *d = cur.dentry;
		struct dentry *up = d->parent ? d->parent : d->old_parent;

		if (d == cur.mnt->root || !up) {
			if (!cur.mnt->parent || d != cur.mnt->root)
				break; /* outside the root: print from "/" */
			cur.dentry = cur.mnt->mountpoint;
			cur.mnt = cur.mnt->parent;
			continue;
		}
		if (pos < d->namelen + 1) {
			pthread_mutex_unlock(&vfs->lock);
			return -ERANGE;
		}
		pos -= d->namelen;
		memcpy(buf + pos, d->name, d->namelen);
		buf[--pos] = '/';
		cur.dentry = up;
	}
	pthread_mutex_unlock(&vfs->lock);
	if (pos == size - 1)
		buf[--pos] = '/';
	memmove(buf, buf + pos, size - pos);
	return (int)(size - pos - 1);
}

int vfs_readlink_path(const struct path *p, char *buf, size_t size)
{
	struct inode *ino = p->dentry->inode;

	if (!S_ISLNK(ino->mode) || !ino->iops->readlink)
		return -EINVAL;
	return ino->iops->readlink(ino, buf, size);
}

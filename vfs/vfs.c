// SPDX-License-Identifier: GPL-2.0
/*
 * The VFS object model: super blocks, inodes, dentries, mounts, the mount
 * tree built at sandbox start, fs_struct, permission checks.
 *
 * Locks: vfs->lock guards the dentry tree (children lists, negative count)
 * and the mount links; inode->lock guards inode attributes. vfs->lock is
 * taken before inode->lock. fs_struct->lock guards root/cwd/umask; it may
 * be taken inside vfs->lock (chdir holds vfs->lock from the walk until the
 * cwd holds its mount), never the other way round.
 *
 * Ownership: the vfs owns every super block, mount, dentry and inode until
 * vfs_destroy(), which must run after the last file is put and after every
 * mm that maps tmpfs pages is gone (mm holds its own frame references, so
 * the order only matters for the memory file itself). The memory file is
 * borrowed from vfs_config (the kernel's) or, without one, owned.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "cvisor/log.h"
#include "cvisor/mm.h"
#include "cvisor/task.h"
#include "vfs_impl.h"

void vfs_now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

struct super_block *vfs_sb_new(struct vfs *vfs, enum fs_kind kind,
			       const char *name, bool readonly)
{
	struct super_block *sb = calloc(1, sizeof(*sb));

	if (!sb)
		return NULL;
	sb->vfs = vfs;
	sb->kind = kind;
	sb->name = name;
	sb->readonly = readonly;
	/* Anonymous block devices are 0:N on Linux (fs/super.c
	 * get_anon_bdev); every mount gets its own so st_dev differs. */
	sb->dev = makedev(0, vfs->next_minor++);
	atomic_init(&sb->next_ino, 1);
	list_add_tail(&sb->link, &vfs->sbs);
	return sb;
}

/* Inodes with no file system behaviour (synthetic mountpoints). */
static const struct inode_ops empty_iops;

struct inode *vfs_inode_new(struct super_block *sb, mode_t mode)
{
	struct inode *ino = calloc(1, sizeof(*ino));

	if (!ino)
		return NULL;
	pthread_mutex_init(&ino->lock, NULL);
	ino->sb = sb;
	ino->iops = &empty_iops;
	ino->mode = mode;
	ino->nlink = S_ISDIR(mode) ? 2 : 1;
	ino->ino = atomic_fetch_add(&sb->next_ino, 1);
	atomic_init(&ino->refs, 0);
	list_init(&ino->locks);
	vfs_now(&ino->atime);
	ino->mtime = ino->ctime = ino->atime;
	return ino;
}

static void inode_free(struct inode *ino)
{
	if (!ino)
		return;
	if (ino->sb->inode_free)
		ino->sb->inode_free(ino);
	vfs_locks_free(ino);
	pthread_mutex_destroy(&ino->lock);
	free(ino);
}

void vfs_inode_get(struct inode *ino)
{
	atomic_fetch_add(&ino->refs, 1);
}

/* The last link and the last open file are gone: the inode and its data
 * (tmpfs frames) go back (evict()). */
void vfs_inode_put(struct inode *ino)
{
	if (ino && atomic_fetch_sub(&ino->refs, 1) == 1)
		inode_free(ino);
}

static void dentry_free(struct dentry *d)
{
	struct dentry *c, *tmp, *op = d->old_parent;

	/* Only negative children (cached misses, whiteouts) can be left in
	 * a removed directory. */
	list_for_each_entry_safe(c, tmp, &d->children, sibling) {
		list_del(&c->sibling);
		c->parent = NULL;
		c->dead = true;
		if (!c->refs)
			dentry_free(c);
	}
	vfs_inode_put(d->inode);
	free(d->name);
	free(d);
	if (op && --op->pins == 0 && op->dead && !op->refs)
		dentry_free(op);
}

void vfs_dentry_get(struct dentry *d)
{
	struct vfs *vfs = d->inode ? d->inode->sb->vfs : NULL;

	if (vfs)
		pthread_mutex_lock(&vfs->lock);
	d->refs++;
	if (vfs)
		pthread_mutex_unlock(&vfs->lock);
}

void vfs_dentry_put(struct dentry *d)
{
	struct vfs *vfs;

	if (!d || !d->inode)
		return;
	vfs = d->inode->sb->vfs;
	pthread_mutex_lock(&vfs->lock);
	if (--d->refs == 0 && d->dead && !d->pins)
		dentry_free(d);
	pthread_mutex_unlock(&vfs->lock);
}

void vfs_d_detach(struct vfs *vfs, struct dentry *d)
{
	struct dentry *c, *tmp;

	if (d->inode == NULL) {
		list_del(&d->sibling);
		vfs->nr_negative--;
		free(d->name);
		free(d);
		return;
	}
	list_del(&d->sibling);
	list_init(&d->sibling);
	if (d->parent && !d->old_parent) {
		d->old_parent = d->parent;
		d->parent->pins++;
	}
	d->parent = NULL;
	d->dead = true;
	list_for_each_entry_safe(c, tmp, &d->children, sibling) {
		if (!c->inode)
			vfs_d_detach(vfs, c);
	}
	if (!d->refs && !d->pins)
		dentry_free(d);
}

int vfs_file_d_path(struct file *f, char *buf, size_t size)
{
	struct vfs *vfs;
	struct path root;
	int n;

	if (!f->path.mnt || !f->inode)
		return -ENOENT;
	vfs = f->inode->sb->vfs;
	root.mnt = vfs->root_mnt;
	root.dentry = vfs->root_mnt->root;
	n = vfs_path_name(vfs, &root, &f->path, buf, size);
	if (n >= 0 && f->path.dentry->dead)
		n += snprintf(buf + n, size - (size_t)n, " (deleted)");
	return n < (int)size ? n : -ENAMETOOLONG;
}

struct dentry *vfs_d_instantiate(struct dentry *parent, const char *name,
				 size_t len, struct inode *ino)
{
	struct dentry *d = vfs_dentry_find(parent, name, len);

	if (d && !d->inode) {
		/* A cached miss or a whiteout becomes positive. */
		d->inode = ino;
		d->from_lookup = false;
		vfs_inode_get(ino);
		ino->sb->vfs->nr_negative--;
		return d;
	}
	return vfs_dentry_add(parent, name, len, ino);
}
struct dentry *vfs_dentry_add(struct dentry *parent, const char *name,
			      size_t len, struct inode *ino)
{
	struct dentry *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->name = strndup(name, len);
	if (!d->name) {
		free(d);
		return NULL;
	}
	d->namelen = len;
	d->inode = ino;
	if (ino)
		vfs_inode_get(ino);
	d->parent = parent;
	list_init(&d->children);
	list_init(&d->sibling);
	/* 0 and 1 are "." and ".." (positions in getdents). */
	d->next_cookie = 2;
	if (parent) {
		d->cookie = parent->next_cookie++;
		list_add_tail(&d->sibling, &parent->children);
	}
	return d;
}

struct dentry *vfs_dentry_find(struct dentry *parent, const char *name,
			       size_t len)
{
	struct dentry *d;

	/* The last byte first: sibling names often share a prefix (f00,
	 * f01...), so most mismatches end here without a memcmp call. */
	list_for_each_entry(d, &parent->children, sibling)
		if (d->namelen == len &&
		    (!len || d->name[len - 1] == name[len - 1]) &&
		    !memcmp(d->name, name, len))
			return d;
	return NULL;
}

static void dentry_free_tree(struct dentry *d)
{
	struct dentry *c, *tmp;

	list_for_each_entry_safe(c, tmp, &d->children, sibling)
		dentry_free_tree(c);
	vfs_inode_put(d->inode);
	free(d->name);
	free(d);
}

int vfs_mount(struct vfs *vfs, struct mount *parent, struct dentry *mp,
	      struct super_block *sb, struct dentry *root, struct mount **out)
{
	struct mount *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->parent = parent;
	m->mountpoint = mp;
	m->root = root;
	m->sb = sb;
	m->id = vfs->next_mnt_id++;
	m->flags = VFS_MNT_RELATIME;
	m->pinned = true;	/* mount.c unpins the ones it makes */
	/* A mount holds its root and mountpoint (vfs/mount.c drops them). */
	root->refs++;
	if (mp)
		mp->refs++;
	if (mp)
		mp->mounted = m;
	list_add_tail(&m->link, &vfs->mounts);
	if (out)
		*out = m;
	return 0;
}

void vfs_inode_stat(struct inode *ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&ino->lock);
	st->st_dev = ino->sb->dev;
	st->st_ino = ino->ino;
	st->st_mode = ino->mode;
	st->st_nlink = ino->nlink;
	st->st_uid = ino->uid;
	st->st_gid = ino->gid;
	st->st_rdev = ino->rdev;
	st->st_size = ino->size;
	st->st_blksize = 4096;
	/* tmpfs regular files count their pages exactly (a sparse file may
	 * have none); elsewhere 0 means "not known": estimate from size. */
	if ((ino->sb->kind == FS_TMPFS || ino->sb->kind == FS_OVERLAY) &&
	    S_ISREG(ino->mode))
		st->st_blocks = ino->blocks;
	else
		st->st_blocks = ino->blocks ? ino->blocks : (ino->size + 511) / 512;
	st->st_atim = ino->atime;
	st->st_mtim = ino->mtime;
	st->st_ctim = ino->ctime;
	pthread_mutex_unlock(&ino->lock);
}

static bool in_group(const struct cred *c, gid_t gid, bool real)
{
	if ((real ? c->rgid : c->fsgid) == gid)
		return true;
	for (int i = 0; i < c->ngroups && i < (int)ARRAY_SIZE(c->groups); i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

/* generic_permission() + capable(CAP_DAC_OVERRIDE) for uid 0: root may read
 * and write anything and search any directory, but executes a file only if
 * some x bit is set (fs/namei.c generic_permission). */
int vfs_permission(const struct inode *ino, const struct cred *cred,
		   int mask, bool real_ids)
{
	uid_t uid = real_ids ? cred->ruid : cred->fsuid;
	mode_t m = ino->mode;

	mask &= MAY_READ | MAY_WRITE | MAY_EXEC;
	if (uid == 0) {
		if (!(mask & MAY_EXEC) || S_ISDIR(m) || (m & 0111))
			return 0;
		return -EACCES;
	}
	if (uid == ino->uid)
		m >>= 6;
	else if (in_group(cred, ino->gid, real_ids))
		m >>= 3;
	return (mask & ~m & 7) ? -EACCES : 0;
}

int vfs_may_access(const struct inode *ino, const struct cred *cred, int mask,
		   bool real_ids)
{
	/* inode_permission(): a read-only mount refuses writes to regular
	 * files, directories and symlinks before any mode check. */
	if ((mask & MAY_WRITE) && ino->sb->readonly &&
	    (S_ISREG(ino->mode) || S_ISDIR(ino->mode) || S_ISLNK(ino->mode)))
		return -EROFS;
	return vfs_permission(ino, cred, mask, real_ids);
}

static unsigned int dtype(mode_t m)
{
	return (m & S_IFMT) >> 12;
}

int vfs_dcache_iterate(struct file *f, struct dir_ctx *ctx)
{
	struct vfs *vfs = f->inode->sb->vfs;
	struct dentry *dir = f->path.dentry, *d;
	struct inode *pino;

	pthread_mutex_lock(&vfs->lock);
	if (ctx->pos == 0) {
		if (!ctx->actor(ctx, ".", 1, dir->inode->ino, DT_DIR, 1))
			goto out;
	}
	if (ctx->pos == 1) {
		pino = dir->parent ? dir->parent->inode : dir->inode;
		if (!ctx->actor(ctx, "..", 2, pino->ino, DT_DIR, 2))
			goto out;
	}
	/* Children are kept in cookie order, so positions stay stable
	 * across creations (telldir/seekdir work). */
	list_for_each_entry(d, &dir->children, sibling) {
		if ((int64_t)d->cookie < ctx->pos || !d->inode)
			continue;
		if (!ctx->actor(ctx, d->name, d->namelen, d->inode->ino,
				dtype(d->inode->mode), d->cookie + 1))
			break;
	}
out:
	pthread_mutex_unlock(&vfs->lock);
	return 0;
}

/* A directory to mount on: the existing dentry, or a synthetic one when
 * the root file system has no such directory. */
static int mountpoint(struct vfs *vfs, struct dentry *root, const char *name,
		      struct dentry **out)
{
	struct dentry *d = vfs_dentry_find(root, name, strlen(name));
	struct inode *ino = NULL;
	int r = -ENOENT;

	if (d && d->inode) {
		*out = d;
		return 0;
	}
	if (!d && root->inode->iops->lookup)
		r = root->inode->iops->lookup(root->inode, name, strlen(name),
					      &ino);
	if (r == 0 && !S_ISDIR(ino->mode)) {
		inode_free(ino);
		r = -ENOTDIR;
	}
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == -ENOENT) {
		ino = vfs_inode_new(root->inode->sb, S_IFDIR | 0755);
		if (!ino)
			return -ENOMEM;
	}
	if (d) {
		d->inode = ino;
		vfs_inode_get(ino);
		vfs->nr_negative--;
	} else {
		d = vfs_dentry_add(root, name, strlen(name), ino);
		if (!d) {
			inode_free(ino);
			return -ENOMEM;
		}
	}
	*out = d;
	return 0;
}

static int mount_dev_mqueue(struct vfs *vfs, struct dentry *devroot)
{
	struct mount *m, *devmnt = NULL;
	struct super_block *sb;
	struct dentry *mp, *root;
	int r;

	list_for_each_entry(m, &vfs->mounts, link)
		if (m->root == devroot)
			devmnt = m;
	if (!devmnt)
		return 0;
	r = mountpoint(vfs, devroot, "mqueue", &mp);
	if (r == 0)
		r = mqueue_fs_new(vfs, &sb, &root);
	if (r == 0)
		r = vfs_mount(vfs, devmnt, mp, sb, root, NULL);
	return r;
}

static int mount_fs(struct vfs *vfs, const char *where, struct super_block *sb,
		    struct dentry *root)
{
	struct dentry *mp;
	int r = mountpoint(vfs, vfs->root_mnt->root, where, &mp);

	if (r < 0)
		return r;
	return vfs_mount(vfs, vfs->root_mnt, mp, sb, root, NULL);
}

/* vfs_destroy(): lazily unmounted mounts are freed with the others. */
static void list_splice_mounts(struct vfs *vfs)
{
	while (!list_empty(&vfs->detached)) {
		struct list_head *n = vfs->detached.next;

		list_del(n);
		list_add_tail(n, &vfs->mounts);
	}
}

void vfs_sb_release(struct vfs *vfs, struct super_block *sb,
		    struct dentry *root)
{
	(void)vfs;
	dentry_free_tree(root);
	list_del(&sb->link);
	if (sb->destroy)
		sb->destroy(sb);
	free(sb->opts);
	free(sb);
}

/* Docker's flags for the mounts every sandbox has. */
static void default_mount_flags(struct vfs *vfs)
{
	struct mount *m;

	list_for_each_entry(m, &vfs->mounts, link) {
		if (m == vfs->root_mnt)
			continue;
		switch (m->sb->kind) {
		case FS_PROC:
		case FS_MQUEUE:
			m->flags |= VFS_MNT_NOSUID | VFS_MNT_NODEV |
				    VFS_MNT_NOEXEC;
			break;
		case FS_SYSFS:
			m->flags |= VFS_MNT_NOSUID | VFS_MNT_NODEV |
				    VFS_MNT_NOEXEC | VFS_MNT_RDONLY;
			break;
		case FS_DEVFS:
			m->flags |= VFS_MNT_NOSUID;
			if (!strcmp(m->sb->name, "devpts"))
				m->flags |= VFS_MNT_NOEXEC;
			break;
		case FS_TMPFS:	/* /tmp: like the root it replaces */
		case FS_GOFER: case FS_HOST: case FS_OVERLAY:
			break;
		}
	}
}

void vfs_destroy(struct vfs *vfs)
{
	struct mount *m, *mt;
	struct super_block *sb, *st;
	struct dentry **roots;
	size_t nroots = 0;

	if (!vfs)
		return;
	/* Trees first (they hold the mountpoints of later mounts, but
	 * freeing a tree never follows d->mounted). Bind mounts share their
	 * source's tree: each whole tree (a root with no parent) once. */
	list_splice_mounts(vfs);
	/* Roots taken out of their tree (rmdir of a bind source) are held
	 * only by their mounts, one reference each: the last frees it. */
	list_for_each_entry(m, &vfs->mounts, link) {
		struct dentry *r = m->root;

		if (!r->dead)
			continue;
		m->root = NULL;
		if (--r->refs == 0 && !r->pins)
			dentry_free(r);
	}
	/* Then every whole tree once; collected first, as a bind mount's
	 * root lies inside another mount's tree. */
	list_for_each_entry(m, &vfs->mounts, link)
		nroots++;
	roots = calloc(nroots ? nroots : 1, sizeof(*roots));
	nroots = 0;
	list_for_each_entry(m, &vfs->mounts, link) {
		struct dentry *top = m->root;
		bool seen = false;

		if (!roots || !top)
			continue;
		/* A bind of a subtree (or the cgroup view of sysfs) is the
		 * only holder of its super block's tree: free from the top. */
		while (top->parent)
			top = top->parent;
		if (top->dead)
			continue;
		for (size_t i = 0; i < nroots; i++)
			seen |= roots[i] == top;
		if (!seen)
			roots[nroots++] = top;
	}
	for (size_t i = 0; i < nroots; i++)
		dentry_free_tree(roots[i]);
	free(roots);
	list_for_each_entry_safe(m, mt, &vfs->mounts, link) {
		free(m->source);
		free(m);
	}
	list_for_each_entry_safe(sb, st, &vfs->sbs, link) {
		if (sb->destroy)
			sb->destroy(sb);
		free(sb->opts);
		free(sb);
	}
	/* Inodes gave their frames back above. */
	if (vfs->mf_owned)
		memfile_destroy(vfs->mf);
	vfs_locks_destroy(vfs);
	pthread_mutex_destroy(&vfs->lock);
	free(vfs);
}

#define VFS_OWN_MEMFILE_BYTES (2ULL << 30)

int vfs_new(const struct vfs_config *cfg, struct vfs **out)
{
	struct vfs *vfs = calloc(1, sizeof(*vfs));
	struct super_block *sb;
	struct dentry *root;
	int sock = cfg->gofer_sock;
	int r, consumed = 0;

	if (!vfs) {
		if (sock >= 0)
			close(sock);
		for (int j = 0; j < cfg->nmounts; j++)
			if (cfg->mounts[j].gofer_sock >= 0)
				close(cfg->mounts[j].gofer_sock);
		return -ENOMEM;
	}
	{
		/* Recursive: the last put of a file or dentry may come while
		 * an operation holds the lock (an open that fails). */
		pthread_mutexattr_t a;

		pthread_mutexattr_init(&a);
		pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
		pthread_mutex_init(&vfs->lock, &a);
		pthread_mutexattr_destroy(&a);
	}
	list_init(&vfs->mounts);
	list_init(&vfs->detached);
	list_init(&vfs->sbs);
	vfs->next_mnt_id = 1;
	vfs->next_minor = 0x20;
	vfs->mf = cfg->mf;
	if (!vfs->mf) {
		/* Standalone (unit tests): a private memory file, sparse,
		 * big enough for the three tmpfs instances' limits. */
		r = memfile_new(VFS_OWN_MEMFILE_BYTES, &vfs->mf);
		if (r < 0) {
			vfs->mf = NULL;
			if (sock >= 0)
				close(sock); /* ours from here on */
			goto fail;
		}
		vfs->mf_owned = true;
	}

	/* Without a gofer (unit tests, `do` with no rootfs) the root is an
	 * empty tmpfs. */
	if (sock >= 0) {
		r = goferfs_new(vfs, sock, cfg->root_readonly, &sb, &root);
		if (r == 0 && cfg->root_overlay) {
			struct dentry *lower = root;

			r = overlay_new(vfs, sb, lower, &sb, &root);
			/* The overlay root holds the gofer root inode. */
			dentry_free(lower);
		}
	} else
		r = tmpfs_new(vfs, FS_TMPFS, "tmpfs", S_IFDIR | 0755, &sb,
			      &root);
	if (r < 0)
		goto fail;
	r = vfs_mount(vfs, NULL, NULL, sb, root, &vfs->root_mnt);
	if (r < 0)
		goto fail;

	/* /tmp: sticky and world-writable as on any Linux host. */
	r = tmpfs_new(vfs, FS_TMPFS, "tmpfs", S_IFDIR | 01777, &sb, &root);
	if (r == 0)
		r = mount_fs(vfs, "tmp", sb, root);
	if (r < 0)
		goto fail;

	/* /dev: a tmpfs with device nodes, like Docker's /dev. */
	r = tmpfs_new(vfs, FS_DEVFS, "devfs", S_IFDIR | 0755, &sb, &root);
	if (r == 0)
		r = devfs_populate(root);
	if (r == 0)
		r = mount_fs(vfs, "dev", sb, root);
	if (r == 0)	/* /dev/pts (vfs/fs/devpts.c) */
		r = devpts_mount(vfs, root);
	if (r == 0)	/* /dev/mqueue, as Docker and runsc mount it */
		r = mount_dev_mqueue(vfs, root);
	if (r < 0)
		goto fail;

	/* procfs: /proc shows only the sandbox's tasks (vfs/fs/procfs.c). */
	r = procfs_new(vfs, &sb, &root);
	if (r == 0)
		r = mount_fs(vfs, "proc", sb, root);
	if (r < 0)
		goto fail;

	/* sysfs: CPU topology and a cgroup view, read-only. */
	r = sysfs_new(vfs, &sb, &root);
	if (r == 0)
		r = mount_fs(vfs, "sys", sb, root);
	if (r < 0)
		goto fail;
	default_mount_flags(vfs);

	/* The caller's mounts (--volume, --mount, config.json), in order. */
	for (int i = 0; i < cfg->nmounts; i++) {
		consumed = i + 1; /* vfs_setup_mount takes the socket */
		r = vfs_setup_mount(vfs, &cfg->mounts[i]);
		if (r < 0) {
			log_warn("vfs: mount at %s failed: %s",
				 cfg->mounts[i].dst, strerror(-r));
			goto fail;
		}
	}

	*out = vfs;
	return 0;
fail:
	for (int j = consumed; j < cfg->nmounts; j++)
		if (cfg->mounts[j].gofer_sock >= 0)
			close(cfg->mounts[j].gofer_sock);
	log_warn("vfs: building the mount tree failed: %s", strerror(-r));
	vfs_destroy(vfs);
	return r;
}

/* ---- fs_struct ---- */

int fs_struct_new(struct vfs *vfs, struct fs_struct **out)
{
	struct fs_struct *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return -ENOMEM;
	atomic_init(&fs->refs, 1);
	pthread_mutex_init(&fs->lock, NULL);
	fs->vfs = vfs;
	fs->root.mnt = vfs->root_mnt;
	fs->root.dentry = vfs->root_mnt->root;
	fs->cwd = fs->root;
	fs->umask = 022;
	vfs_dentry_get(fs->root.dentry);
	vfs_dentry_get(fs->cwd.dentry);
	vfs_mnt_get(fs->root.mnt);
	vfs_mnt_get(fs->cwd.mnt);
	*out = fs;
	return 0;
}

void fs_struct_get_ref(struct fs_struct *fs)
{
	atomic_fetch_add(&fs->refs, 1);
}

int fs_struct_copy(struct fs_struct *src, struct fs_struct **out)
{
	struct fs_struct *fs;
	int r = fs_struct_new(src->vfs, &fs);

	if (r < 0)
		return r;
	vfs_dentry_put(fs->root.dentry);
	vfs_dentry_put(fs->cwd.dentry);
	vfs_mnt_put(fs->root.mnt);
	vfs_mnt_put(fs->cwd.mnt);
	pthread_mutex_lock(&src->lock);
	fs->root = src->root;
	fs->cwd = src->cwd;
	fs->umask = src->umask;
	vfs_mnt_get(fs->root.mnt);
	vfs_mnt_get(fs->cwd.mnt);
	pthread_mutex_unlock(&src->lock);
	vfs_dentry_get(fs->root.dentry);
	vfs_dentry_get(fs->cwd.dentry);
	*out = fs;
	return 0;
}

void fs_struct_put(struct fs_struct *fs)
{
	if (!fs || atomic_fetch_sub(&fs->refs, 1) != 1)
		return;
	vfs_dentry_put(fs->root.dentry);
	vfs_dentry_put(fs->cwd.dentry);
	vfs_mnt_put(fs->root.mnt);
	vfs_mnt_put(fs->cwd.mnt);
	pthread_mutex_destroy(&fs->lock);
	free(fs);
}

int fs_struct_chdir(struct fs_struct *fs, const char *path)
{
	/* Setup-time chdir (--cwd) acts with full privileges. */
	struct cred root_cred = { 0 };
	struct walk_result res;
	struct path root;
	int r;

	if (path[0] != '/')
		return -EINVAL;
	pthread_mutex_lock(&fs->lock);
	root = fs->root;
	pthread_mutex_unlock(&fs->lock);

	pthread_mutex_lock(&fs->vfs->lock);
	r = vfs_walk(fs->vfs, &root_cred, &root, &root, path, WALK_FOLLOW,
		     &res);
	pthread_mutex_unlock(&fs->vfs->lock);
	if (r < 0)
		return r;
	if (!S_ISDIR(res.path.dentry->inode->mode))
		return -ENOTDIR;
	fs_struct_set_cwd(fs, &res.path);
	return 0;
}

void fs_struct_set_cwd(struct fs_struct *fs, const struct path *p)
{
	struct dentry *old;
	struct mount *oldmnt;

	vfs_dentry_get(p->dentry);
	vfs_mnt_get(p->mnt);
	pthread_mutex_lock(&fs->lock);
	old = fs->cwd.dentry;
	oldmnt = fs->cwd.mnt;
	fs->cwd = *p;
	pthread_mutex_unlock(&fs->lock);
	vfs_dentry_put(old);
	vfs_mnt_put(oldmnt);
}

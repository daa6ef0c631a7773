// SPDX-License-Identifier: GPL-2.0
/*
 * The mount table: mount IDs, per-mount flags, bind mounts of a subtree,
 * mount(2) and umount2(2) (fs/namespace.c), and the /proc/<pid>/mountinfo
 * and /proc/<pid>/mounts text (fs/proc_namespace.c).
 *
 * A mount is (super block, root dentry) attached at (parent mount,
 * mountpoint dentry). Bind mounts share their source's dentry tree, so a
 * mount crossing is looked up by the pair (parent mount, dentry) as Linux's
 * __lookup_mnt() does; dentry->mounted only says "something may be mounted
 * here" for the cheap test in the path walk. Every mount is private: there
 * are no peer groups, MS_SHARED/MS_SLAVE are accepted and change nothing
 * (mountinfo shows no optional fields, as for a private mount).
 *
 * Locks: vfs->lock (recursive) guards the mount lists, the ids, the
 * dentry->mounted links and the dentry references taken here; everything
 * in this file runs under it. fs_struct->lock is taken before it only to
 * read root/cwd.
 *
 * References: a mount holds a dentry reference on its root and on its
 * mountpoint (vfs_mount(); so an rmdir cannot free them); umount drops
 * them. Busy: open files and fs_struct root/cwd count their mount
 * (mount->users, like Linux's mnt_count), checked under vfs->lock.
 * Mounts are freed by a non-busy umount, or, when lazily detached while
 * busy (MNT_DETACH), kept on vfs->detached until vfs_destroy(): open files
 * name their mount without a reference of their own. A super block made
 * by mount(2) (tmpfs, proc, sysfs) is freed with its last mount.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include "cvisor/task.h"
#include "vfs_impl.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#define CV_CAP_SYS_ADMIN 21
/* Attached mounts at most (Linux: sysctl fs.mount-max, 100000). */
#define VFS_MOUNT_MAX 10000
/* size=0 on remount: back to tmpfs's default (TMPFS_MAX_BYTES, tmpfs.c). */
#define TMPFS_DEFAULT_BYTES (512LL << 20)

struct mount *vfs_mnt_lookup(struct vfs *vfs, const struct mount *mnt,
			     const struct dentry *d)
{
	struct mount *m, *found = NULL;

	/* The last one mounted wins (it is on top). */
	list_for_each_entry(m, &vfs->mounts, link)
		if (m->parent == mnt && m->mountpoint == d)
			found = m;
	return found;
}

/* ---- text of mountinfo and mounts ---- */

static const char *mnt_type(const struct super_block *sb)
{
	switch (sb->kind) {
	case FS_GOFER:
		return "9p";
	case FS_TMPFS:
	case FS_DEVFS:
		if (!strcmp(sb->name, "devpts"))
			return sb->name;
		return "tmpfs";
	case FS_MQUEUE:
		return "mqueue";
	case FS_OVERLAY:
		return "overlay";
	case FS_PROC:
		return "proc";
	case FS_SYSFS:
		return !strcmp(sb->name, "cgroup2") ? "cgroup2" : "sysfs";
	case FS_HOST:
		return "none";
	}
	return "none";
}

static const char *mnt_source(const struct mount *m)
{
	if (m->source)
		return m->source;
	if (m->sb->kind == FS_GOFER)
		return "none";
	if (m->sb->kind == FS_DEVFS && strcmp(m->sb->name, "devpts"))
		return "tmpfs";
	return mnt_type(m->sb);
}

/* mangle(): space, tab, newline and backslash as \ooo. */
static void put_escaped(struct pfs_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\\')
			pfs_printf(b, "\\%03o", (unsigned char)*s);
		else
			pfs_put(b, s, 1);
	}
}

/* show_mnt_opts(): the per-mount flags after "rw"/"ro". */
static void put_mnt_opts(struct pfs_buf *b, const struct mount *m)
{
	static const struct { unsigned int flag; const char *s; } o[] = {
		{ VFS_MNT_NOSUID, ",nosuid" }, { VFS_MNT_NODEV, ",nodev" },
		{ VFS_MNT_NOEXEC, ",noexec" }, { VFS_MNT_NOATIME, ",noatime" },
		{ VFS_MNT_NODIRATIME, ",nodiratime" },
		{ VFS_MNT_RELATIME, ",relatime" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(o); i++)
		if (m->flags & o[i].flag)
			pfs_printf(b, "%s", o[i].s);
}

/* The mount's root within its file system ("/" or "/sub/dir"). */
static int root_path(const struct dentry *d, char *buf, size_t size)
{
	size_t pos = size;

	buf[--pos] = '\0';
	for (; d && d->parent; d = d->parent) {
		if (pos < d->namelen + 2)
			return -ENAMETOOLONG;
		pos -= d->namelen;
		memcpy(buf + pos, d->name, d->namelen);
		buf[--pos] = '/';
	}
	if (pos == size - 1)
		buf[--pos] = '/';
	memmove(buf, buf + pos, size - pos);
	return 0;
}

static bool path_eq(const struct path *a, const struct path *b)
{
	return a->mnt == b->mnt && a->dentry == b->dentry;
}

/* Is m's root at or below root (seq_path_root() skips the others)? */
static bool mnt_visible(const struct mount *m, const struct path *root)
{
	struct path cur = { (struct mount *)m, m->root };

	for (;;) {
		if (path_eq(&cur, root))
			return true;
		if (cur.dentry == cur.mnt->root) {
			if (!cur.mnt->parent)
				return false;
			cur.dentry = cur.mnt->mountpoint;
			cur.mnt = cur.mnt->parent;
		} else if (cur.dentry->parent) {
			cur.dentry = cur.dentry->parent;
		} else {
			return false;
		}
	}
}

void vfs_show_mounts(struct vfs *vfs, const struct path *root,
		     struct pfs_buf *b, bool info)
{
	_cleanup_free_ char *path = malloc(VFS_PATH_MAX);
	_cleanup_free_ char *rp = malloc(VFS_PATH_MAX);
	struct mount *m;

	if (!path || !rp) {
		b->err = -ENOMEM;
		return;
	}
	pthread_mutex_lock(&vfs->lock);
	list_for_each_entry(m, &vfs->mounts, link) {
		struct path mp = { .mnt = m, .dentry = m->root };
		bool ro = vfs_mnt_readonly(m);
		const char *sbopts = m->sb->opts ? m->sb->opts : "";

		if (!mnt_visible(m, root) ||
		    vfs_path_name(vfs, root, &mp, path, VFS_PATH_MAX) < 0)
			continue;
		if (!info) {
			/* show_vfsmnt() */
			put_escaped(b, mnt_source(m));
			pfs_put(b, " ", 1);
			put_escaped(b, path);
			pfs_printf(b, " %s %s", mnt_type(m->sb),
				   ro ? "ro" : "rw");
			put_mnt_opts(b, m);
			pfs_printf(b, "%s 0 0\n", sbopts);
			continue;
		}
		/* show_mountinfo(): ID parent major:minor root mountpoint
		 * mount-options [optional fields] - type source super-options.
		 * The root mount is its own parent; private: no optional
		 * fields. */
		if (root_path(m->root, rp, VFS_PATH_MAX) < 0)
			continue;
		pfs_printf(b, "%d %d %u:%u ", m->id,
			   m->parent ? m->parent->id : m->id,
			   major(m->sb->dev), minor(m->sb->dev));
		put_escaped(b, rp);
		pfs_put(b, " ", 1);
		put_escaped(b, path);
		pfs_printf(b, " %s", ro ? "ro" : "rw");
		put_mnt_opts(b, m);
		pfs_printf(b, " - %s ", mnt_type(m->sb));
		put_escaped(b, mnt_source(m));
		pfs_printf(b, " %s%s\n", m->sb->readonly ? "ro" : "rw", sbopts);
	}
	pthread_mutex_unlock(&vfs->lock);
}

unsigned long vfs_mnt_statfs_flags(const struct mount *m)
{
	/* flags_by_mnt() | flags_by_sb() | ST_VALID (fs/statfs.c). */
	unsigned long f = 0x20;

	if (vfs_mnt_readonly(m))
		f |= ST_RDONLY;
	if (m->flags & VFS_MNT_NOSUID)
		f |= ST_NOSUID;
	if (m->flags & VFS_MNT_NODEV)
		f |= ST_NODEV;
	if (m->flags & VFS_MNT_NOEXEC)
		f |= ST_NOEXEC;
	if (m->flags & VFS_MNT_NOATIME)
		f |= ST_NOATIME;
	if (m->flags & VFS_MNT_NODIRATIME)
		f |= ST_NODIRATIME;
	if (m->flags & VFS_MNT_RELATIME)
		f |= ST_RELATIME;
	return f;
}

/* ---- making and dropping mounts ---- */

/* Attach a new mount; takes the dentry references (vfs->lock held). */
static int mnt_attach(struct vfs *vfs, struct mount *parent,
		      struct dentry *mp, struct super_block *sb,
		      struct dentry *root, unsigned int flags,
		      const char *source, struct mount **out)
{
	struct mount *m;
	char *src = NULL;
	int r, count = 0;

	list_for_each_entry(m, &vfs->mounts, link)
		if (++count >= VFS_MOUNT_MAX)
			return -ENOSPC;	/* fs.mount-max (count_mounts()) */
	if (source && !(src = strdup(source)))
		return -ENOMEM;
	r = vfs_mount(vfs, parent, mp, sb, root, &m);
	if (r < 0) {
		free(src);
		return r;
	}
	m->pinned = false;
	m->flags = flags;
	m->source = src;
	if (out)
		*out = m;
	return 0;
}

static bool sb_in_use(struct vfs *vfs, const struct super_block *sb)
{
	struct mount *m;

	list_for_each_entry(m, &vfs->mounts, link)
		if (m->sb == sb)
			return true;
	list_for_each_entry(m, &vfs->detached, link)
		if (m->sb == sb)
			return true;
	return false;
}

/* Open files, cwds or roots on m (Linux: mnt_count beyond the tree's). */
static bool mnt_busy(const struct mount *m)
{
	return atomic_load(&m->users) > 0;
}

static bool has_children(struct vfs *vfs, const struct mount *m)
{
	struct mount *c;

	list_for_each_entry(c, &vfs->mounts, link)
		if (c->parent == m)
			return true;
	return false;
}

/* Off the tree: the mountpoint forgets m, m forgets its parent. */
static void mnt_unhash(struct vfs *vfs, struct mount *m)
{
	struct dentry *mp = m->mountpoint;

	list_del(&m->link);
	m->parent = NULL;
	if (mp) {
		struct mount *o;

		mp->mounted = NULL;
		list_for_each_entry(o, &vfs->mounts, link)
			if (o->mountpoint == mp)
				mp->mounted = o;
	}
}

/* A mount kept after umount (busy, or pinned) needs no mountpoint. */
static void mnt_keep_detached(struct vfs *vfs, struct mount *m)
{
	struct dentry *mp = m->mountpoint;

	m->detached = true;
	m->mountpoint = NULL;
	list_add_tail(&m->link, &vfs->detached);
	if (mp)
		vfs_dentry_put(mp);
}

static void mnt_free(struct vfs *vfs, struct mount *m)
{
	struct super_block *sb = m->sb;
	struct dentry *root = m->root, *mp = m->mountpoint;

	if (m->pinned) {
		/* Set-up mounts are named elsewhere (devpts, root_mnt). */
		mnt_keep_detached(vfs, m);
		return;
	}
	free(m->source);
	free(m);
	vfs_dentry_put(root);
	if (mp)
		vfs_dentry_put(mp);
	if (sb_in_use(vfs, sb) ||
	    (sb->kind != FS_TMPFS && sb->kind != FS_PROC &&
	     sb->kind != FS_SYSFS && sb->kind != FS_MQUEUE))
		return;
	while (root->parent)
		root = root->parent;
	if (!root->dead)
		vfs_sb_release(vfs, sb, root);
}

/* umount_tree(): m and every mount below it leave the tree; the ones
 * still in use wait on vfs->detached. */
static void umount_tree(struct vfs *vfs, struct mount *m, bool busy)
{
	struct mount *c;
	bool again = true;

	/* A recursive call takes more than c off the list (its subtree):
	 * look again from the start after each one. */
	while (again) {
		again = false;
		list_for_each_entry(c, &vfs->mounts, link)
			if (c->parent == m) {
				umount_tree(vfs, c, busy || mnt_busy(c));
				again = true;
				break;
			}
	}
	mnt_unhash(vfs, m);
	if (busy)
		mnt_keep_detached(vfs, m);
	else
		mnt_free(vfs, m);
}

/* ---- option parsing ---- */

struct mnt_opts {
	int64_t size;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	bool have_size, have_mode, have_uid, have_gid, ro;
};

/* tmpfs size=: bytes with k/m/g/t suffix or a % of "RAM" (the memory
 * file's tmpfs default). */
static int parse_size(const char *v, int64_t *out)
{
	char *end;
	unsigned long long n = strtoull(v, &end, 0);
	int shift = 0;

	if (end == v)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	case '%':
		if (n > 100)
			return -EINVAL;
		*out = (int64_t)(n * (1024ULL << 20) / 100);
		return end[1] ? -EINVAL : 0;
	default:
		break;
	}
	if (*end || n > (1ULL << (62 - shift)))
		return -EINVAL;
	*out = (int64_t)(n << shift);
	/* shmem rounds up to whole pages. */
	*out = (*out + 4095) & ~4095LL;
	return 0;
}

static int parse_num(const char *v, unsigned long max, int base,
		     unsigned long *out)
{
	char *end;
	unsigned long n = strtoul(v, &end, base);

	if (end == v || *end || n > max)
		return -EINVAL;
	*out = n;
	return 0;
}

/* The data string of mount(2): generic sb flags plus the fs's options
 * (tmpfs: size, mode, uid, gid, nr_inodes, nr_blocks, huge, inode64).
 * Unknown options are EINVAL, as fs_parse() reports them. */
static int parse_opts(const char *data, bool tmpfs, struct mnt_opts *o)
{
	_cleanup_free_ char *copy = NULL;
	char *save = NULL, *tok;

	if (!data || !*data)
		return 0;
	copy = strdup(data);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *v = strchr(tok, '=');
		unsigned long n;

		if (v)
			*v++ = '\0';
		if (!v && (!strcmp(tok, "rw") || !strcmp(tok, "ro"))) {
			o->ro = tok[1] == 'o';
			continue;
		}
		if (!v && (!strcmp(tok, "sync") || !strcmp(tok, "async") ||
			   !strcmp(tok, "lazytime") || !strcmp(tok, "dirsync")))
			continue;
		if (!tmpfs) {
			/* proc/sysfs options (hidepid, gid, subset...): taken
			 * and ignored, the sandbox has one user view. */
			continue;
		}
		if (!v)
			return -EINVAL;
		if (!strcmp(tok, "size")) {
			if (parse_size(v, &o->size) < 0)
				return -EINVAL;
			o->have_size = true;
		} else if (!strcmp(tok, "mode")) {
			if (parse_num(v, 07777, 8, &n) < 0)
				return -EINVAL;
			o->mode = (mode_t)n;
			o->have_mode = true;
		} else if (!strcmp(tok, "uid")) {
			if (parse_num(v, 0xfffffffeUL, 10, &n) < 0)
				return -EINVAL;
			o->uid = (uid_t)n;
			o->have_uid = true;
		} else if (!strcmp(tok, "gid")) {
			if (parse_num(v, 0xfffffffeUL, 10, &n) < 0)
				return -EINVAL;
			o->gid = (gid_t)n;
			o->have_gid = true;
		} else if (strcmp(tok, "nr_inodes") && strcmp(tok, "nr_blocks") &&
			   strcmp(tok, "huge") && strcmp(tok, "mpol")) {
			return -EINVAL;
		}
	}
	return 0;
}

/* A tmpfs instance. */
static int new_tmpfs(struct vfs *vfs, const char *name,
		     const struct mnt_opts *o, struct super_block **sb,
		     struct dentry **root)
{
	mode_t mode = o->have_mode ? o->mode : 01777;
	char opts[128];
	int n = 0, r;

	r = tmpfs_new(vfs, FS_TMPFS, name, S_IFDIR | mode, sb, root);
	if (r < 0)
		return r;
	if (o->have_size && o->size > 0)
		(*sb)->bytes_max = o->size;
	(*root)->inode->uid = o->uid;
	(*root)->inode->gid = o->gid;
	(*sb)->readonly = o->ro;
	/* shmem_show_options(): what differs from the defaults. */
	opts[0] = '\0';
	if (o->have_size && o->size > 0)
		n += snprintf(opts + n, sizeof(opts) - n, ",size=%lldk",
			      (long long)(o->size >> 10));
	if (mode != 01777)
		n += snprintf(opts + n, sizeof(opts) - n, ",mode=%o", mode);
	if (o->uid)
		n += snprintf(opts + n, sizeof(opts) - n, ",uid=%u", o->uid);
	if (o->gid)
		snprintf(opts + n, sizeof(opts) - n, ",gid=%u", o->gid);
	if (opts[0] && !((*sb)->opts = strdup(opts)))
		return -ENOMEM;
	return 0;
}

/* The cgroup v2 view of sysfs (/sys/fs/cgroup), read-only. */
static int new_cgroup(struct vfs *vfs, struct super_block **sb,
		      struct dentry **root)
{
	struct dentry *d, *fs;
	int r = sysfs_new(vfs, sb, &d);

	if (r < 0)
		return r;
	(*sb)->name = "cgroup2";
	(*sb)->readonly = true;
	r = vfs_lookup_child(vfs, d, "fs", 2, &fs);
	if (r == 0)
		r = vfs_lookup_child(vfs, fs, "cgroup", 6, root);
	if (r < 0)
		*root = d;
	return 0;
}

/* A new super block of type fstype (do_new_mount()/get_fs_type()). */
static int new_sb(struct vfs *vfs, const char *fstype, const char *data,
		  struct super_block **sb, struct dentry **root)
{
	struct mnt_opts o = { 0 };
	bool tmpfs = !strcmp(fstype, "tmpfs") || !strcmp(fstype, "ramfs");
	int r;

	if (!tmpfs && strcmp(fstype, "proc") && strcmp(fstype, "sysfs") &&
	    strcmp(fstype, "cgroup") && strcmp(fstype, "cgroup2") &&
	    strcmp(fstype, "mqueue"))
		return -ENODEV;
	r = parse_opts(data, tmpfs, &o);
	if (r < 0)
		return r;
	if (tmpfs)
		return new_tmpfs(vfs, "tmpfs", &o, sb, root);
	if (!strcmp(fstype, "mqueue"))
		/* The sandbox's POSIX queues (sentry/ipc/mqueue.c). */
		r = mqueue_fs_new(vfs, sb, root);
	else if (!strcmp(fstype, "proc"))
		r = procfs_new(vfs, sb, root);
	else if (!strcmp(fstype, "sysfs"))
		r = sysfs_new(vfs, sb, root);
	else
		return new_cgroup(vfs, sb, root);
	if (r == 0 && o.ro)
		(*sb)->readonly = true;
	return r;
}

static bool dentry_under(const struct dentry *d, const struct dentry *root)
{
	for (; d; d = d->parent)
		if (d == root)
			return true;
	return false;
}

/* do_loopback(): a mount of src's tree from root at (parent, mp); with
 * rec, also copies of the mounts below root (copy_tree()). The children
 * are listed before anything is attached and mounts made by this call
 * (id >= first_new) are never copied, so a tree bound into itself is
 * copied as it was. Recursion depth: the depth of the mount tree. */
static int clone_tree(struct vfs *vfs, struct mount *src, struct dentry *root,
		      struct mount *parent, struct dentry *mp, bool rec,
		      int first_new, struct mount **out)
{
	_cleanup_free_ struct mount **kids = NULL;
	struct mount *m, *c;
	size_t n = 0, cap = 0;
	int r;

	if (rec) {
		list_for_each_entry(c, &vfs->mounts, link) {
			/* Copies made by this very call (ids from first_new
			 * on) are not copied again: a tree bound into
			 * itself is copied as it was (copy_tree()). */
			if (c->parent != src || c->id >= first_new ||
			    !dentry_under(c->mountpoint, root))
				continue;
			if (n == cap) {
				struct mount **nk;

				cap = cap ? cap * 2 : 8;
				nk = realloc(kids, cap * sizeof(*nk));
				if (!nk)
					return -ENOMEM;
				kids = nk;
			}
			kids[n++] = c;
		}
	}
	r = mnt_attach(vfs, parent, mp, src->sb, root, src->flags, src->source,
		       &m);
	if (r < 0)
		return r;
	if (out)
		*out = m;
	for (size_t i = 0; i < n; i++) {
		r = clone_tree(vfs, kids[i], kids[i]->root, m,
			       kids[i]->mountpoint, true, first_new, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

/* MS_* per-mount flags to VFS_MNT_* (path_mount()). */
static unsigned int mnt_flags_of(unsigned long flags)
{
	unsigned int f = 0;

	if (flags & MS_RDONLY)
		f |= VFS_MNT_RDONLY;
	if (flags & MS_NOSUID)
		f |= VFS_MNT_NOSUID;
	if (flags & MS_NODEV)
		f |= VFS_MNT_NODEV;
	if (flags & MS_NOEXEC)
		f |= VFS_MNT_NOEXEC;
	if (flags & MS_NOATIME)
		f |= VFS_MNT_NOATIME;
	if (flags & MS_NODIRATIME)
		f |= VFS_MNT_NODIRATIME;
	/* The default is relatime unless strictatime or noatime. */
	if (flags & MS_STRICTATIME)
		f &= ~(VFS_MNT_NOATIME | VFS_MNT_NODIRATIME);
	else if (!(f & VFS_MNT_NOATIME))
		f |= VFS_MNT_RELATIME;
	return f;
}

/* MS_REMOUNT keeps the atime flags when none are given (path_mount()). */
static unsigned int remount_flags(const struct mount *m, unsigned long flags)
{
	const unsigned int atime = VFS_MNT_NOATIME | VFS_MNT_NODIRATIME |
				   VFS_MNT_RELATIME;
	unsigned int f = mnt_flags_of(flags);

	if (!(flags & (MS_NOATIME | MS_NODIRATIME | MS_RELATIME |
		       MS_STRICTATIME)))
		f = (f & ~atime) | (m->flags & atime);
	return f;
}

/* Replace size= in a tmpfs super block's options (remount). */
static int tmpfs_set_size_opt(struct super_block *sb, int64_t size)
{
	char buf[256], *save = NULL, *tok;
	_cleanup_free_ char *old = sb->opts ? strdup(sb->opts) : NULL;
	int n = 0;

	if (sb->opts && !old)
		return -ENOMEM;
	buf[0] = '\0';
	if (size > 0)
		n = snprintf(buf, sizeof(buf), ",size=%lldk",
			     (long long)(size >> 10));
	for (tok = old ? strtok_r(old, ",", &save) : NULL; tok;
	     tok = strtok_r(NULL, ",", &save))
		if (strncmp(tok, "size=", 5) && n < (int)sizeof(buf))
			n += snprintf(buf + n, sizeof(buf) - n, ",%s", tok);
	free(sb->opts);
	sb->opts = NULL;
	if (buf[0] && !(sb->opts = strdup(buf)))
		return -ENOMEM;
	return 0;
}

static int do_mount_locked(struct task *t, const char *source,
			   const char *target, const char *fstype,
			   unsigned long flags, const char *data)
{
	struct vfs *vfs = t->fs->vfs;
	const unsigned long prop = MS_SHARED | MS_PRIVATE | MS_SLAVE |
				   MS_UNBINDABLE;
	struct super_block *sb;
	struct dentry *root;
	struct path p, src;
	int r;

	r = vfs_lookup_locked(t, target, WALK_FOLLOW, &p);
	if (r < 0)
		return r;
	/* check_mnt(): nothing happens on a lazily unmounted tree. */
	if (p.mnt->detached)
		return -EINVAL;
	if ((flags & (MS_REMOUNT | MS_BIND)) == (MS_REMOUNT | MS_BIND)) {
		/* do_reconfigure_mnt(): only the per-mount flags change. */
		if (p.dentry != p.mnt->root)
			return -EINVAL;
		p.mnt->flags = remount_flags(p.mnt, flags);
		return 0;
	}
	if (flags & MS_REMOUNT) {
		/* do_remount(): the super block's ro/rw and options, and
		 * the mount's flags. */
		struct mnt_opts o = { 0 };

		if (p.dentry != p.mnt->root)
			return -EINVAL;
		r = parse_opts(data, p.mnt->sb->kind == FS_TMPFS, &o);
		if (r < 0)
			return r;
		if (o.have_size && p.mnt->sb->kind == FS_TMPFS) {
			/* shmem_reconfigure(): not below what is used. */
			int64_t size = o.size ? o.size : TMPFS_DEFAULT_BYTES;

			if (size < atomic_load(&p.mnt->sb->bytes_used))
				return -EINVAL;
			r = tmpfs_set_size_opt(p.mnt->sb, o.size);
			if (r < 0)
				return r;
			p.mnt->sb->bytes_max = size;
		}
		/* sysfs stays read-only (a gofer root that is read-only on
		 * the host refuses writes in the gofer either way). */
		if (!(flags & MS_RDONLY) && !o.ro && p.mnt->sb->readonly &&
		    p.mnt->sb->kind == FS_SYSFS)
			return -EROFS;
		p.mnt->sb->readonly = (flags & MS_RDONLY) || o.ro;
		p.mnt->flags = remount_flags(p.mnt, flags);
		return 0;
	}
	if (flags & MS_BIND) {
		if (!source)
			return -EFAULT;
		r = vfs_lookup_locked(t, source, WALK_FOLLOW, &src);
		if (r < 0)
			return r;
		/* graft_tree(): a directory only on a directory. */
		if (S_ISDIR(src.dentry->inode->mode) !=
		    S_ISDIR(p.dentry->inode->mode))
			return -ENOTDIR;
		if (src.mnt->detached)
			return -EINVAL;
		return clone_tree(vfs, src.mnt, src.dentry, p.mnt, p.dentry,
				  flags & MS_REC, vfs->next_mnt_id, NULL);
	}
	if (flags & prop) {
		/* do_change_type(): a mount root and one type at a time.
		 * Every mount stays private (no peer groups here). */
		unsigned long type = flags & prop;

		if (p.dentry != p.mnt->root)
			return -EINVAL;
		if (type & (type - 1))
			return -EINVAL;
		return 0;
	}
	if (flags & MS_MOVE)
		return -EINVAL; /* not supported: see docs/architecture.md */
	/* do_new_mount() */
	if (!fstype)
		return -EINVAL;
	if (!S_ISDIR(p.dentry->inode->mode))
		return -ENOTDIR;
	r = new_sb(vfs, fstype, data, &sb, &root);
	if (r < 0)
		return r;
	if (flags & MS_RDONLY)
		sb->readonly = true;
	return mnt_attach(vfs, p.mnt, p.dentry, sb, root, mnt_flags_of(flags),
			  source && *source ? source : NULL, NULL);
}

int vfs_do_mount(struct task *t, const char *source, const char *target,
		 const char *fstype, unsigned long flags, const char *data)
{
	struct vfs *vfs = t->fs->vfs;
	int r;

	/* path_mount(): the old magic number in the top 16 bits. */
	if ((flags & 0xffff0000UL) == MS_MGC_VAL)
		flags &= ~0xffff0000UL;
	if (!cred_capable(&t->cred, CV_CAP_SYS_ADMIN))
		return -EPERM;
	pthread_mutex_lock(&vfs->lock);
	r = do_mount_locked(t, source, target, fstype, flags, data);
	pthread_mutex_unlock(&vfs->lock);
	return r;
}

int vfs_do_umount(struct task *t, const char *target, int flags)
{
	struct vfs *vfs = t->fs->vfs;
	struct path p;
	bool busy;
	int r;

	/* ksys_umount(): flags first, then the path, then may_mount(). */
	if (flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW))
		return -EINVAL;
	if ((flags & MNT_EXPIRE) && (flags & (MNT_FORCE | MNT_DETACH)))
		return -EINVAL;
	pthread_mutex_lock(&vfs->lock);
	r = vfs_lookup_locked(t, target,
			      (flags & UMOUNT_NOFOLLOW) ? 0 : WALK_FOLLOW, &p);
	if (r < 0)
		goto out;
	r = -EPERM;
	if (!cred_capable(&t->cred, CV_CAP_SYS_ADMIN))
		goto out;
	r = -EINVAL;
	if (p.dentry != p.mnt->root || p.mnt->detached)
		goto out;
	/* The root of the sandbox (and of the caller) stays. */
	r = -EBUSY;
	if (p.mnt == vfs->root_mnt || !p.mnt->parent)
		goto out;
	if (flags & MNT_EXPIRE) {
		r = -EAGAIN; /* first call only marks it, as Linux */
		goto out;
	}
	busy = has_children(vfs, p.mnt) || mnt_busy(p.mnt);
	if (busy && !(flags & MNT_DETACH))
		goto out;
	umount_tree(vfs, p.mnt, busy);
	r = 0;
out:
	pthread_mutex_unlock(&vfs->lock);
	return r;
}

/* ---- mounts at sandbox start ---- */

/* The directory at absolute path `path`, made (synthetic, in memory) where
 * missing. Symlinks are not followed: the caller's paths name directories. */
static int setup_mountpoint(struct vfs *vfs, const char *path,
			    struct path *out)
{
	struct path cur = { vfs->root_mnt, vfs->root_mnt->root };
	const char *p = path;

	if (*p != '/')
		return -EINVAL;
	while (*p) {
		size_t len;
		struct dentry *d;
		struct mount *m;
		int r;

		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if (!len)
			break;
		if (len > VFS_NAME_MAX)
			return -ENAMETOOLONG;
		if ((len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;
		r = vfs_lookup_child(vfs, cur.dentry, p, len, &d);
		if (r == -ENOENT) {
			struct dentry *neg = vfs_dentry_find(cur.dentry, p, len);
			struct inode *ino = vfs_inode_new(cur.dentry->inode->sb,
							  S_IFDIR | 0755);

			if (!ino)
				return -ENOMEM;
			if (neg) {
				neg->inode = ino;
				vfs_inode_get(ino);
				vfs->nr_negative--;
				d = neg;
			} else {
				d = vfs_dentry_add(cur.dentry, p, len, ino);
				if (!d) {
					vfs_inode_get(ino);
					vfs_inode_put(ino);
					return -ENOMEM;
				}
			}
			r = 0;
		}
		if (r < 0)
			return r;
		if (!S_ISDIR(d->inode->mode))
			return -ENOTDIR;
		cur.dentry = d;
		while (cur.dentry->mounted &&
		       (m = vfs_mnt_lookup(vfs, cur.mnt, cur.dentry))) {
			cur.mnt = m;
			cur.dentry = m->root;
		}
		p += len;
	}
	*out = cur;
	return 0;
}

int vfs_setup_mount(struct vfs *vfs, const struct vfs_mount_spec *ms)
{
	struct super_block *sb = NULL;
	struct dentry *root;
	struct path p;
	unsigned int flags = VFS_MNT_RELATIME;
	int sock = ms->gofer_sock;
	int r;

	if (ms->nosuid)
		flags |= VFS_MNT_NOSUID;
	if (ms->nodev)
		flags |= VFS_MNT_NODEV;
	if (ms->noexec)
		flags |= VFS_MNT_NOEXEC;
	if (ms->readonly)
		flags |= VFS_MNT_RDONLY;
	pthread_mutex_lock(&vfs->lock);
	r = setup_mountpoint(vfs, ms->dst, &p);
	if (r < 0)
		goto out;
	if (!strcmp(ms->type, "bind")) {
		if (sock < 0) {
			r = -EINVAL;
			goto out;
		}
		r = goferfs_new(vfs, steal_fd(&sock), ms->readonly, &sb, &root);
	} else if (!strcmp(ms->type, "devpts")) {
		/* The sandbox's one devpts instance is at /dev/pts already:
		 * bind it. */
		struct mount *m, *dp = NULL;

		list_for_each_entry(m, &vfs->mounts, link)
			if (!strcmp(m->sb->name, "devpts"))
				dp = m;
		r = -ENODEV;
		if (dp && !(p.mnt == dp && p.dentry == dp->root))
			r = clone_tree(vfs, dp, dp->root, p.mnt, p.dentry,
				       false, vfs->next_mnt_id, NULL);
		else if (dp)
			r = 0;
		goto out;
	} else {
		struct mnt_opts o = { 0 };
		bool tmpfs = !strcmp(ms->type, "tmpfs");

		o.size = ms->size;
		o.have_size = ms->size > 0;
		o.mode = ms->mode;
		o.have_mode = ms->mode != 0;
		o.ro = ms->readonly;
		if (tmpfs)
			r = new_tmpfs(vfs, "tmpfs", &o, &sb, &root);
		else
			r = new_sb(vfs, ms->type, ms->readonly ? "ro" : NULL,
				   &sb, &root);
	}
	if (r < 0)
		goto out;
	r = mnt_attach(vfs, p.mnt, p.dentry, sb, root, flags,
		       ms->source && strcmp(ms->type, "bind") ? ms->source
							       : NULL,
		       NULL);
out:
	pthread_mutex_unlock(&vfs->lock);
	if (sock >= 0)
		close(sock);
	return r;
}

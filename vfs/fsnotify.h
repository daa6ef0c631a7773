/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fsnotify: the vfs's event points for inotify (include/linux/fsnotify.h,
 * fs/notify/fsnotify.c, fs/notify/inotify/).
 *
 * The vfs calls one hook per event point (fsnotify_create, fsnotify_delete,
 * fsnotify_move, fsnotify_modify, ...). Watches (marks) hang off the inode
 * (inode->fsnotify), and sb->fsnotify_marks counts the marks on a file
 * system, so a hook on a file system nobody watches costs one load and a
 * compare (the inline wrappers below) and never takes a lock.
 *
 * Events go, as in Linux, to the marks of the inode itself (no name) and,
 * for ACCESS/MODIFY/ATTRIB/OPEN/CLOSE_* (FS_EVENTS_POSS_ON_CHILD), to the
 * marks of the parent directory with the child's name first. Directory
 * entry events (CREATE, DELETE, MOVED_FROM/TO) go to the directory.
 *
 * Locks: marks, the per-inode lists and the per-group mark lists are
 * guarded by vfs->lock (recursive; hooks take it themselves, so they may be
 * called with it held or not, but never with an inode->lock held). A
 * group's event queue has its own leaf lock inside vfs->lock, and its wait
 * queue is woken with vfs->lock held (waitq locks are leaves).
 *
 * References: a mark holds an inode reference (fsnotify_mark_add) and is
 * owned by its group; the group is owned by its inotify file.
 */
#ifndef CVISOR_VFS_FSNOTIFY_H
#define CVISOR_VFS_FSNOTIFY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cvisor/util.h"
#include "cvisor/waitq.h"
#include "vfs_impl.h"

/* IN_* values (include/uapi/linux/inotify.h). */
#define FSN_ACCESS 0x00000001
#define FSN_MODIFY 0x00000002
#define FSN_ATTRIB 0x00000004
#define FSN_CLOSE_WRITE 0x00000008
#define FSN_CLOSE_NOWRITE 0x00000010
#define FSN_OPEN 0x00000020
#define FSN_MOVED_FROM 0x00000040
#define FSN_MOVED_TO 0x00000080
#define FSN_CREATE 0x00000100
#define FSN_DELETE 0x00000200
#define FSN_DELETE_SELF 0x00000400
#define FSN_MOVE_SELF 0x00000800
#define FSN_ALL_EVENTS 0x00000fff
#define FSN_UNMOUNT 0x00002000
#define FSN_Q_OVERFLOW 0x00004000
#define FSN_IGNORED 0x00008000
#define FSN_ONLYDIR 0x01000000
#define FSN_DONT_FOLLOW 0x02000000
#define FSN_EXCL_UNLINK 0x04000000
#define FSN_MASK_CREATE 0x10000000
#define FSN_MASK_ADD 0x20000000
#define FSN_ISDIR 0x40000000
#define FSN_ONESHOT 0x80000000
/* Events a directory watch also gets for its children. */
#define FSN_ON_CHILD (FSN_ACCESS | FSN_MODIFY | FSN_ATTRIB | FSN_CLOSE_WRITE | \
		      FSN_CLOSE_NOWRITE | FSN_OPEN)

/* Limits (fs/notify/inotify/inotify_user.c; /proc/sys/fs/inotify/), per
 * sandbox where Linux counts per user. They bound the sentry memory a
 * workload can pin: watches ~80 bytes each, a queue at most
 * INOTIFY_MAX_EVENTS * ~300 bytes per instance. */
#define INOTIFY_MAX_EVENTS 16384	/* max_queued_events */
#define INOTIFY_MAX_INSTANCES 128	/* max_user_instances: EMFILE */
#define INOTIFY_MAX_WATCHES 262144	/* max_user_watches: ENOSPC */
#define INOTIFY_WD_BUCKETS 256

struct fsnotify_group;

/* One watch: (group, inode) -> wd and mask. vfs->lock. */
struct fsnotify_mark {
	struct list_head ilink;		/* inode->fsnotify->marks */
	struct list_head glink;		/* group->wds[wd % INOTIFY_WD_BUCKETS] */
	struct inode *ino;		/* referenced */
	struct fsnotify_group *g;
	int wd;
	uint32_t mask;			/* events | ONESHOT | EXCL_UNLINK */
};

/* A removed name of an inode that open files still use: Linux keeps such
 * a dentry's d_parent and d_name, so the directory's watches (those
 * without IN_EXCL_UNLINK) go on getting the file's events under the old
 * name. Dropped at the last close through that dentry. vfs->lock. */
struct fsnotify_orphan {
	struct list_head link;		/* conn->orphans */
	const struct dentry *d;		/* identity only (dead, refs > 0) */
	struct inode *dir;		/* referenced */
	size_t len;
	char name[];
};

/* The marks and orphans of one inode: allocated with the first, freed
 * with the last of either. */
struct fsnotify_conn {
	struct list_head marks;
	struct list_head orphans;
};

/* An inotify instance (vfs/anon/inotify.c). */
struct fsnotify_group {
	struct vfs *vfs;
	/* vfs->lock: */
	struct list_head wds[INOTIFY_WD_BUCKETS];	/* marks by wd */
	int nmarks;
	int next_wd;
	bool wd_wrapped;		/* wds may be taken above next_wd */
	/* lock (leaf): the event queue */
	pthread_mutex_t lock;
	struct list_head events;
	unsigned int qlen;
	size_t qbytes;			/* what FIONREAD reports */
	struct waitq wq;
};

/* ---- inotify.c ---- */
/* Queue an event (merging with an identical last one, overflowing at
 * INOTIFY_MAX_EVENTS) and wake readers. Any context but g->lock. */
void inotify_queue(struct fsnotify_group *g, int wd, uint32_t mask,
		   uint32_t cookie, const char *name, size_t len);
int inotify_create(struct vfs *vfs, int flags, struct file **out);
bool file_is_inotify(const struct file *f);
/* inotify_add_watch(2)/inotify_rm_watch(2) on an inotify file (checked). */
int inotify_add_watch_file(struct task *t, struct file *f, const char *path,
			   uint32_t mask);
int inotify_rm_watch_file(struct file *f, int wd);

/* ---- fsnotify.c: marks (vfs->lock held) ---- */
/* inotify_update_watch(): the wd of g's mark on ino, made or updated. */
int fsnotify_mark_update(struct fsnotify_group *g, struct inode *ino,
			 uint32_t arg);
/* Remove g's mark wd, queueing IN_IGNORED; -EINVAL if none. */
int fsnotify_mark_remove(struct fsnotify_group *g, int wd);
/* The group is going away: drop all its marks, no events. */
void fsnotify_group_clear(struct fsnotify_group *g);

/* ---- fsnotify.c: the slow paths of the hooks ---- */
void fsnotify_file_event(struct file *f, uint32_t mask);
void fsnotify_close_slow(struct file *f);
void fsnotify_path_event(const struct path *p, uint32_t mask);
void fsnotify_inode_event(struct inode *ino, uint32_t mask);
void fsnotify_create_slow(struct inode *dir, const char *name,
			  struct inode *ino, bool link);
void fsnotify_delete_slow(struct inode *dir, struct dentry *d, bool isdir);
void fsnotify_move_slow(struct inode *odir, const char *oname,
			struct inode *ndir, const char *nname,
			struct dentry *od, struct dentry *nd, bool exchange);

/* ---- hooks ---- */
static inline bool fsnotify_sb_watched(const struct inode *ino)
{
	return ino && atomic_load_explicit(&ino->sb->fsnotify_marks,
					   memory_order_relaxed) > 0;
}

static inline bool fsnotify_file_ok(const struct file *f)
{
	return f->path.mnt && !(f->fmode & FMODE_PATH) &&
	       fsnotify_sb_watched(f->inode);
}

/* read(2) moved data / getdents: IN_ACCESS. Returns r. */
static inline long fsnotify_access_ret(struct file *f, long r, long min)
{
	if (r >= min && fsnotify_file_ok(f))
		fsnotify_file_event(f, FSN_ACCESS);
	return r;
}

/* write(2) moved data, fallocate(2) succeeded: IN_MODIFY. Returns r. */
static inline long fsnotify_modify_ret(struct file *f, long r, long min)
{
	if (r >= min && fsnotify_file_ok(f))
		fsnotify_file_event(f, FSN_MODIFY);
	return r;
}

/* open(2) succeeded: IN_OPEN, then IN_MODIFY for O_TRUNC of an existing
 * file (Linux 6.10+, where fsnotify_open() runs in do_dentry_open(), before
 * the truncate; 6.1 had them the other way round). Marks the file so that
 * its last close reports IN_CLOSE_*; O_PATH files report nothing (5.19+). */
static inline void fsnotify_open(struct file *f, bool truncated)
{
	if (f->fmode & FMODE_PATH)
		return;
	f->fmode |= FMODE_FSNOTIFY;
	if (!fsnotify_file_ok(f))
		return;
	fsnotify_file_event(f, FSN_OPEN);
	if (truncated && S_ISREG(f->inode->mode))
		fsnotify_file_event(f, FSN_MODIFY);
}

/* The last reference of a file is going (__fput): IN_CLOSE_* for files
 * of open(2), and for any file holding the last use of a removed name,
 * IN_DELETE_SELF if that was the inode's last and the end of the name's
 * orphan record. */
static inline void fsnotify_close(struct file *f)
{
	if (f->path.mnt && f->inode &&
	    (__atomic_load_n(&f->inode->fsnotify, __ATOMIC_RELAXED) ||
	     fsnotify_sb_watched(f->inode)))
		fsnotify_close_slow(f);
}

/* notify_change() succeeded with VFS_ATTR_* valid (fsnotify_change()).
 * p: the path, or f's when f is set. */
static inline void fsnotify_change(struct file *f, const struct path *p,
				   unsigned int valid,
				   const struct vfs_setattr *a)
{
	uint32_t mask = 0;

	if (f)
		p = f->path.mnt ? &f->path : NULL;
	if (!p || !fsnotify_sb_watched(p->dentry->inode))
		return;
	if (valid & (VFS_ATTR_UID | VFS_ATTR_GID | VFS_ATTR_MODE |
		     VFS_ATTR_TIMES_NULL))
		mask |= FSN_ATTRIB;
	if (valid & VFS_ATTR_SIZE)
		mask |= FSN_MODIFY;
	if (valid & VFS_ATTR_TIMES) {
		bool at = a->atime.tv_nsec != UTIME_OMIT;
		bool mt = a->mtime.tv_nsec != UTIME_OMIT;

		if (at && mt)
			mask |= FSN_ATTRIB;
		else if (at)
			mask |= FSN_ACCESS;
		else if (mt)
			mask |= FSN_MODIFY;
	}
	if (mask)
		fsnotify_path_event(p, mask);
}

/* An xattr was set or removed: IN_ATTRIB (on the inode's own watches; the
 * xattr calls have no dentry for the parent's). */
static inline void fsnotify_xattr(struct inode *ino)
{
	if (fsnotify_sb_watched(ino))
		fsnotify_inode_event(ino, FSN_ATTRIB);
}

/* ino was made as name in dir (open O_CREAT, mknod, mkdir, symlink). */
static inline void fsnotify_create(struct inode *dir, const char *name,
				   struct inode *ino)
{
	if (fsnotify_sb_watched(dir))
		fsnotify_create_slow(dir, name, ino, false);
}

/* link(2): IN_ATTRIB on ino, IN_CREATE in dir. */
static inline void fsnotify_link(struct inode *dir, const char *name,
				 struct inode *ino)
{
	if (fsnotify_sb_watched(dir))
		fsnotify_create_slow(dir, name, ino, true);
}

/* d is about to leave dir (unlink, rmdir), its link count already
 * dropped: IN_ATTRIB (unlink), IN_DELETE_SELF + IN_IGNORED when that was
 * the last link and nothing holds d open (else at the last close), then
 * IN_DELETE in dir. vfs->lock held. */
static inline void fsnotify_delete(struct inode *dir, struct dentry *d,
				   bool isdir)
{
	if (fsnotify_sb_watched(dir))
		fsnotify_delete_slow(dir, d, isdir);
}

/* rename(2) of od in odir (oname) to nname in ndir over nd (or NULL),
 * called after every check and before the tree changes (fsnotify_move()).
 * vfs->lock held. */
static inline void fsnotify_move(struct inode *odir, const char *oname,
				 struct inode *ndir, const char *nname,
				 struct dentry *od, struct dentry *nd,
				 bool exchange)
{
	if (fsnotify_sb_watched(odir))
		fsnotify_move_slow(odir, oname, ndir, nname, od, nd, exchange);
}

#endif

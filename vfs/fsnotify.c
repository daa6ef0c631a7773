// SPDX-License-Identifier: GPL-2.0
/*
 * fsnotify: watches (marks) on inodes and the delivery of vfs events to
 * them (fs/notify/fsnotify.c, fs/notify/mark.c, the inotify parts of
 * fs/notify/inotify/inotify_user.c). The hooks and their fast paths are in
 * vfs/fsnotify.h; the inotify instance (queue, read, poll) in
 * vfs/anon/inotify.c.
 *
 * Linux behaviour copied (inotify(7)):
 *  - a child event goes to the parent directory's marks with the name,
 *    then to the inode's own marks without one;
 *  - IN_DELETE_SELF and IN_MOVE_SELF never carry IN_ISDIR
 *    (inotify_handle_inode_event());
 *  - IN_ONESHOT marks go after their first event, queueing IN_IGNORED;
 *  - the last link of an inode gone (unlink, rmdir, rename over it) gives
 *    IN_DELETE_SELF and IN_IGNORED for every mark, when its dentry is no
 *    longer in use (d_delete/dentry_unlink_inode): at once, or at the last
 *    close of a file that kept it open.
 *  - a name removed while open files use it keeps reporting their events
 *    to its old directory under the old name (Linux keeps d_parent), except
 *    to marks with IN_EXCL_UNLINK: here a removed dentry forgets its
 *    parent, so the name is kept in an orphan record on the inode.
 * Differences: xattr changes reach only the inode's own marks; IN_UNMOUNT
 * is not generated.
 *
 * Locks: vfs->lock (recursive) guards every mark list; each slow path
 * takes it, and the queueing in inotify_queue() takes the group's leaf
 * lock inside it. No inode->lock is taken here.
 *
 * References: a mark holds one inode reference, dropped after the mark is
 * unlinked (never while walking the inode's list: inodes are put at the
 * end, since the caller's own reference may be the only other one). An
 * orphan record holds its directory inode, dropped at the last close of a
 * file through the removed dentry (fsnotify_close). Gap: a removed name
 * whose last user is not an open file (a bind mount of a file) keeps its
 * record, and so its directory, until the sandbox ends.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fsnotify.h"

/* ---- marks ---- */

static struct fsnotify_mark *find_mark(struct fsnotify_group *g,
				       struct inode *ino)
{
	struct fsnotify_mark *m;

	if (!ino->fsnotify)
		return NULL;
	list_for_each_entry(m, &ino->fsnotify->marks, ilink)
		if (m->g == g)
			return m;
	return NULL;
}

static struct fsnotify_mark *find_wd(struct fsnotify_group *g, int wd)
{
	struct fsnotify_mark *m;

	if (wd <= 0)
		return NULL;
	list_for_each_entry(m, &g->wds[wd % INOTIFY_WD_BUCKETS], glink)
		if (m->wd == wd)
			return m;
	return NULL;
}

/* idr_alloc_cyclic(..., 1, 0): wds grow and are not reused at once; only
 * after INT_MAX of them must a free one be searched for. */
static int alloc_wd(struct fsnotify_group *g)
{
	int wd = g->next_wd;

	while (g->wd_wrapped && find_wd(g, wd))
		wd = wd == INT32_MAX ? 1 : wd + 1;
	if (wd == INT32_MAX) {
		g->next_wd = 1;
		g->wd_wrapped = true;
	} else {
		g->next_wd = wd + 1;
	}
	return wd;
}

static struct fsnotify_conn *conn_get(struct inode *ino)
{
	struct fsnotify_conn *conn = ino->fsnotify;

	if (conn)
		return conn;
	conn = calloc(1, sizeof(*conn));
	if (!conn)
		return NULL;
	list_init(&conn->marks);
	list_init(&conn->orphans);
	__atomic_store_n(&ino->fsnotify, conn, __ATOMIC_RELEASE);
	return conn;
}

int fsnotify_mark_update(struct fsnotify_group *g, struct inode *ino,
			 uint32_t arg)
{
	/* inotify_arg_to_mask(): only events and these flags are kept. */
	uint32_t mask = arg & (FSN_ALL_EVENTS | FSN_ONESHOT | FSN_EXCL_UNLINK);
	struct fsnotify_mark *m = find_mark(g, ino);
	struct fsnotify_conn *conn;

	if (m) {
		/* inotify_update_existing_watch() */
		if (arg & FSN_MASK_CREATE)
			return -EEXIST;
		if (arg & FSN_MASK_ADD)
			mask |= m->mask;
		m->mask = mask;
		return m->wd;
	}
	if (atomic_fetch_add(&g->vfs->inotify_watches, 1) >=
	    INOTIFY_MAX_WATCHES) {
		atomic_fetch_sub(&g->vfs->inotify_watches, 1);
		return -ENOSPC;
	}
	m = calloc(1, sizeof(*m));
	conn = m ? conn_get(ino) : NULL;
	if (!conn) {
		free(m);
		m = NULL;
	}
	if (!m) {
		atomic_fetch_sub(&g->vfs->inotify_watches, 1);
		return -ENOMEM;
	}
	m->ino = ino;
	m->g = g;
	m->mask = mask;
	m->wd = alloc_wd(g);
	vfs_inode_get(ino);
	list_add_tail(&m->ilink, &conn->marks);
	list_add_tail(&m->glink, &g->wds[m->wd % INOTIFY_WD_BUCKETS]);
	g->nmarks++;
	atomic_fetch_add(&ino->sb->fsnotify_marks, 1);
	return m->wd;
}

/* Unlink m (and free it); the caller puts m->ino afterwards and frees the
 * inode's list with conn_maybe_free() once it no longer walks it. */
static void mark_unlink(struct fsnotify_mark *m, bool ignored)
{
	if (ignored)
		inotify_queue(m->g, m->wd, FSN_IGNORED, 0, NULL, 0);
	list_del(&m->ilink);
	list_del(&m->glink);
	m->g->nmarks--;
	atomic_fetch_sub(&m->g->vfs->inotify_watches, 1);
	atomic_fetch_sub(&m->ino->sb->fsnotify_marks, 1);
	free(m);
}

static void conn_maybe_free(struct inode *ino)
{
	struct fsnotify_conn *conn = ino->fsnotify;

	if (conn && list_empty(&conn->marks) && list_empty(&conn->orphans)) {
		__atomic_store_n(&ino->fsnotify, NULL, __ATOMIC_RELEASE);
		free(conn);
	}
}

static void put_refs(struct inode *ino, int n)
{
	while (n-- > 0)
		vfs_inode_put(ino);
}

int fsnotify_mark_remove(struct fsnotify_group *g, int wd)
{
	struct fsnotify_mark *m = find_wd(g, wd);
	struct inode *ino;

	if (!m)
		return -EINVAL;
	ino = m->ino;
	mark_unlink(m, true);
	conn_maybe_free(ino);
	vfs_inode_put(ino);
	return 0;
}

void fsnotify_group_clear(struct fsnotify_group *g)
{
	for (int i = 0; i < INOTIFY_WD_BUCKETS; i++) {
		while (!list_empty(&g->wds[i])) {
			struct fsnotify_mark *m =
				container_of(g->wds[i].next,
					     struct fsnotify_mark, glink);
			struct inode *ino = m->ino;

			mark_unlink(m, false);
			conn_maybe_free(ino);
			vfs_inode_put(ino);
		}
	}
}

/* ---- delivery (vfs->lock held) ---- */

/* Queue mask to ino's marks that want it; returns how many inode
 * references the caller must put (IN_ONESHOT marks that went). */
static int send(struct inode *ino, uint32_t mask, const char *name,
		size_t len, uint32_t cookie, bool unlinked)
{
	struct fsnotify_mark *m, *tmp;
	int puts = 0;

	if (!ino || !ino->fsnotify)
		return 0;
	/* inotify never reported IN_ISDIR with the *_SELF events. */
	if (mask & (FSN_DELETE_SELF | FSN_MOVE_SELF))
		mask &= ~FSN_ISDIR;
	list_for_each_entry_safe(m, tmp, &ino->fsnotify->marks, ilink) {
		if (!(m->mask & mask & FSN_ALL_EVENTS))
			continue;
		if (unlinked && (m->mask & FSN_EXCL_UNLINK))
			continue;
		inotify_queue(m->g, m->wd, mask, cookie, name, len);
		if (m->mask & FSN_ONESHOT) {
			mark_unlink(m, true);
			puts++;
		}
	}
	return puts;
}

static void send_put(struct inode *ino, uint32_t mask, const char *name,
		     size_t len, uint32_t cookie)
{
	int n = send(ino, mask, name, len, cookie, false);

	if (ino && ino->fsnotify) {
		conn_maybe_free(ino);
		put_refs(ino, n);
	}
}

static uint32_t isdir(const struct inode *ino)
{
	return ino && S_ISDIR(ino->mode) ? FSN_ISDIR : 0;
}

/* fsnotify_inoderemove(): IN_DELETE_SELF, then every mark goes with
 * IN_IGNORED (__fsnotify_inode_delete). */
static void delete_self(struct inode *ino)
{
	int puts;

	if (!ino->fsnotify)
		return;
	puts = send(ino, FSN_DELETE_SELF, NULL, 0, 0, false);
	while (ino->fsnotify && !list_empty(&ino->fsnotify->marks)) {
		mark_unlink(container_of(ino->fsnotify->marks.next,
					     struct fsnotify_mark, ilink),
			    true);
		puts++;
	}
	conn_maybe_free(ino);
	put_refs(ino, puts);
}

static struct fsnotify_orphan *find_orphan(struct inode *ino,
					   const struct dentry *d)
{
	struct fsnotify_orphan *o;

	if (!ino->fsnotify)
		return NULL;
	list_for_each_entry(o, &ino->fsnotify->orphans, link)
		if (o->d == d)
			return o;
	return NULL;
}

/* d (a name of ino in dir) is being removed while open files use it. */
static void orphan_add(struct inode *ino, struct dentry *d, struct inode *dir,
		       const char *name, size_t len)
{
	struct fsnotify_conn *conn;
	struct fsnotify_orphan *o;

	if (d->refs == 0 || S_ISDIR(ino->mode) || find_orphan(ino, d))
		return;
	o = malloc(sizeof(*o) + len);
	conn = o ? conn_get(ino) : NULL;
	if (!conn) {
		free(o);	/* best effort: the directory misses events */
		return;
	}
	o->d = d;
	o->dir = dir;
	o->len = len;
	memcpy(o->name, name, len);
	vfs_inode_get(dir);
	list_add_tail(&o->link, &conn->orphans);
}

/* The last use of the removed name d is going. */
static void orphan_drop(struct inode *ino, const struct dentry *d)
{
	struct fsnotify_orphan *o = find_orphan(ino, d);

	if (!o)
		return;
	list_del(&o->link);
	conn_maybe_free(ino);
	vfs_inode_put(o->dir);
	free(o);
}

/* A child event on d (inode ino): the parent's marks with d's name, then
 * ino's own (fsnotify_parent() + fsnotify()). */
static void child_event(struct dentry *d, struct inode *ino, uint32_t mask)
{
	struct dentry *parent = d && !d->dead ? d->parent : NULL;

	mask |= isdir(ino);
	if (mask & FSN_ON_CHILD) {
		struct fsnotify_orphan *o;

		if (parent && parent->inode && parent->inode->fsnotify) {
			send_put(parent->inode, mask, d->name, d->namelen, 0);
		} else if (d && d->dead && (o = find_orphan(ino, d)) &&
			   o->dir->fsnotify) {
			int n = send(o->dir, mask, o->name, o->len, 0, true);

			conn_maybe_free(o->dir);
			put_refs(o->dir, n);
		}
	}
	send_put(ino, mask, NULL, 0, 0);
}

void fsnotify_file_event(struct file *f, uint32_t mask)
{
	struct vfs *vfs = f->inode->sb->vfs;

	pthread_mutex_lock(&vfs->lock);
	child_event(f->path.dentry, f->inode, mask);
	pthread_mutex_unlock(&vfs->lock);
}

void fsnotify_path_event(const struct path *p, uint32_t mask)
{
	struct vfs *vfs = p->dentry->inode->sb->vfs;

	pthread_mutex_lock(&vfs->lock);
	child_event(p->dentry, p->dentry->inode, mask);
	pthread_mutex_unlock(&vfs->lock);
}

void fsnotify_inode_event(struct inode *ino, uint32_t mask)
{
	struct vfs *vfs = ino->sb->vfs;

	pthread_mutex_lock(&vfs->lock);
	send_put(ino, mask | isdir(ino), NULL, 0, 0);
	pthread_mutex_unlock(&vfs->lock);
}

void fsnotify_close_slow(struct file *f)
{
	struct inode *ino = f->inode;
	struct vfs *vfs = ino->sb->vfs;
	struct dentry *d = f->path.dentry;

	pthread_mutex_lock(&vfs->lock);
	if ((f->fmode & FMODE_FSNOTIFY) && ino->sb->fsnotify_marks)
		child_event(d, ino, (f->fmode & FMODE_WRITE)
					    ? FSN_CLOSE_WRITE
					    : FSN_CLOSE_NOWRITE);
	/* This file held the last use of a removed name: the inode is gone
	 * for good now if that was its last (dput -> dentry_unlink_inode). */
	if (d->dead && d->refs == 1) {
		if (ino->nlink == 0)
			delete_self(ino);
		orphan_drop(ino, d);
	}
	pthread_mutex_unlock(&vfs->lock);
}

void fsnotify_create_slow(struct inode *dir, const char *name,
			  struct inode *ino, bool link)
{
	struct vfs *vfs = dir->sb->vfs;

	pthread_mutex_lock(&vfs->lock);
	/* fsnotify_link(): the link count change first, inode only. */
	if (link)
		send_put(ino, FSN_ATTRIB | isdir(ino), NULL, 0, 0);
	send_put(dir, FSN_CREATE | isdir(ino), name, strlen(name), 0);
	pthread_mutex_unlock(&vfs->lock);
}

void fsnotify_delete_slow(struct inode *dir, struct dentry *d, bool dir_op)
{
	struct vfs *vfs = dir->sb->vfs;
	struct inode *ino = d->inode;

	pthread_mutex_lock(&vfs->lock);
	/* vfs_unlink(): fsnotify_link_count(); rmdir has no IN_ATTRIB. */
	if (!dir_op)
		send_put(ino, FSN_ATTRIB | isdir(ino), NULL, 0, 0);
	if (ino->nlink == 0 && d->refs == 0)
		delete_self(ino);
	if (!dir_op)
		orphan_add(ino, d, dir, d->name, d->namelen);
	send_put(dir, FSN_DELETE | isdir(ino), d->name, d->namelen, 0);
	pthread_mutex_unlock(&vfs->lock);
}

/* fsnotify_move() for one moved dentry; target: the inode replaced, with
 * the dentry that named it (NULL for none or an exchange). */
static void move_one(struct inode *odir, const char *oname, size_t olen,
		     struct inode *ndir, const char *nname, size_t nlen,
		     struct inode *src, struct dentry *target)
{
	/* A replaced name still open keeps reporting to ndir as nname. */
	if (target)
		orphan_add(target->inode, target, ndir, nname, nlen);
	uint32_t cookie = atomic_fetch_add(&odir->sb->fsnotify_cookie, 1) + 1;
	uint32_t dirbit = isdir(src);

	send_put(odir, FSN_MOVED_FROM | dirbit, oname, olen, cookie);
	send_put(ndir, FSN_MOVED_TO | dirbit, nname, nlen, cookie);
	if (target) {
		struct inode *t = target->inode;

		send_put(t, FSN_ATTRIB | isdir(t), NULL, 0, 0);
	}
	send_put(src, FSN_MOVE_SELF, NULL, 0, 0);
	/* The replaced inode loses a link (all of a directory's) when the
	 * caller detaches target; if that is its last and nothing uses the
	 * dentry, it goes now, as the final dput of the rename does. */
	if (target && target->refs == 0 &&
	    (S_ISDIR(target->inode->mode) || target->inode->nlink <= 1))
		delete_self(target->inode);
}

void fsnotify_move_slow(struct inode *odir, const char *oname,
			struct inode *ndir, const char *nname,
			struct dentry *od, struct dentry *nd, bool exchange)
{
	struct vfs *vfs = odir->sb->vfs;

	pthread_mutex_lock(&vfs->lock);
	move_one(odir, oname, strlen(oname), ndir, nname, strlen(nname),
		 od->inode, exchange ? NULL : nd);
	if (exchange && nd)
		move_one(ndir, nname, strlen(nname), odir, oname, strlen(oname),
			 nd->inode, NULL);
	pthread_mutex_unlock(&vfs->lock);
}

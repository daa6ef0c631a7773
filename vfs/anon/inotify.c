// SPDX-License-Identifier: GPL-2.0
/*
 * inotify instances (fs/notify/inotify/inotify_user.c, inotify(7)): an
 * anonymous file holding a group of watches (marks, vfs/fsnotify.c) and
 * the queue of events they produced.
 *
 * read(2) returns whole struct inotify_event records, names NUL-padded to
 * a multiple of 16 bytes; EINVAL when the buffer cannot hold the next one.
 * An event identical to the last queued one (mask, wd, name) is merged;
 * past INOTIFY_MAX_EVENTS one IN_Q_OVERFLOW (wd -1) ends the queue.
 * FIONREAD gives the queued bytes; poll reports EPOLLIN while events wait.
 *
 * Locks: vfs->lock for the marks (add/rm watch, release) -> g->lock (the
 * queue; a leaf but for waitq locks). Events are queued from vfs hooks
 * with vfs->lock held and the group woken after g->lock is dropped.
 *
 * References: the file owns the group; the group owns its marks (each
 * holding an inode reference) and its queued events.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>

#include "cvisor/task.h"
#include "../fsnotify.h"

struct inotify_kevent {
	struct list_head link;
	int32_t wd;
	uint32_t mask;
	uint32_t cookie;
	uint32_t len;		/* name bytes with padding; 0: no name */
	uint32_t namelen;
	char name[];
};

/* struct inotify_event of the UAPI. */
struct inotify_uevent {
	int32_t wd;
	uint32_t mask;
	uint32_t cookie;
	uint32_t len;
};

#define EVENT_HDR sizeof(struct inotify_uevent)
/* NAME_MAX + NUL, rounded up to a whole record header. */
#define EVENT_MAX (EVENT_HDR + ((VFS_NAME_MAX + 1 + EVENT_HDR - 1) / \
				EVENT_HDR) * EVENT_HDR)

static const struct file_ops inotify_fops;

bool file_is_inotify(const struct file *f)
{
	return f->ops == &inotify_fops;
}

static struct inotify_kevent *last_event(struct fsnotify_group *g)
{
	if (list_empty(&g->events))
		return NULL;
	return container_of(g->events.prev, struct inotify_kevent, link);
}

/* Add ev (or, over the limit or out of memory, the one overflow event).
 * g->lock held. */
static void enqueue(struct fsnotify_group *g, struct inotify_kevent *ev)
{
	struct inotify_kevent *last = last_event(g);

	if (!ev || g->qlen >= INOTIFY_MAX_EVENTS) {
		free(ev);
		/* fsnotify_add_event(): one IN_Q_OVERFLOW at the tail. */
		if (last && last->mask == FSN_Q_OVERFLOW)
			return;
		ev = calloc(1, sizeof(*ev));
		if (!ev)
			return;	/* no memory even for that: drop */
		ev->wd = -1;
		ev->mask = FSN_Q_OVERFLOW;
	}
	list_add_tail(&ev->link, &g->events);
	g->qlen++;
	g->qbytes += EVENT_HDR + ev->len;
}

void inotify_queue(struct fsnotify_group *g, int wd, uint32_t mask,
		   uint32_t cookie, const char *name, size_t len)
{
	struct inotify_kevent *ev, *last;
	size_t padded = len ? (len + EVENT_HDR) / EVENT_HDR * EVENT_HDR : 0;

	if (len > VFS_NAME_MAX)
		return;
	pthread_mutex_lock(&g->lock);
	/* inotify_merge(): only against the last event, never IN_IGNORED. */
	last = last_event(g);
	if (last && !(last->mask & FSN_IGNORED) && last->mask == mask &&
	    last->wd == wd && last->namelen == len &&
	    (!len || !memcmp(last->name, name, len))) {
		pthread_mutex_unlock(&g->lock);
		return;
	}
	ev = NULL;
	if (g->qlen < INOTIFY_MAX_EVENTS) {
		ev = calloc(1, sizeof(*ev) + padded);
		if (ev) {
			ev->wd = wd;
			ev->mask = mask;
			ev->cookie = cookie;
			ev->len = (uint32_t)padded;
			ev->namelen = (uint32_t)len;
			if (len)
				memcpy(ev->name, name, len);
		}
	}
	enqueue(g, ev);
	pthread_mutex_unlock(&g->lock);
	waitq_wake(&g->wq, EPOLLIN | EPOLLRDNORM);
}

static ssize_t inotify_read(struct file *f, const struct iovec *iov, int cnt,
			    int64_t *off)
{
	struct fsnotify_group *g = f->priv;
	struct task *t = ipc_current();
	size_t count = iov_total(iov, cnt), done = 0;
	char rec[EVENT_MAX];
	bool waiting = false;
	struct waiter w;
	ssize_t r = 0;

	(void)off;
	waiter_init(&w, t, EPOLLIN);
	pthread_mutex_lock(&g->lock);
	for (;;) {
		struct inotify_kevent *ev;

		if (!list_empty(&g->events)) {
			struct inotify_uevent ue;
			size_t sz;

			ev = container_of(g->events.next, struct inotify_kevent,
					  link);
			sz = EVENT_HDR + ev->len;
			/* get_one_event(): a buffer too small for the next
			 * event is EINVAL, unless something was read. */
			if (sz > count - done) {
				r = -EINVAL;
				break;
			}
			list_del(&ev->link);
			g->qlen--;
			g->qbytes -= sz;
			ue.wd = ev->wd;
			ue.mask = ev->mask;
			ue.cookie = ev->cookie;
			ue.len = ev->len;
			memcpy(rec, &ue, EVENT_HDR);
			memset(rec + EVENT_HDR, 0, ev->len);
			memcpy(rec + EVENT_HDR, ev->name, ev->namelen);
			iov_copy_out(iov, cnt, done, rec, sz);
			done += sz;
			free(ev);
			continue;
		}
		if (done)
			break;
		if (f->flags & O_NONBLOCK) {
			r = -EAGAIN;
			break;
		}
		if (!waiting) {
			waitq_add(&g->wq, &w);
			waiting = true;
			continue;
		}
		pthread_mutex_unlock(&g->lock);
		r = ipc_block_simple(t);
		pthread_mutex_lock(&g->lock);
		if (r < 0)
			break;
	}
	pthread_mutex_unlock(&g->lock);
	if (waiting)
		waitq_remove(&g->wq, &w);
	return done ? (ssize_t)done : r;
}

static uint32_t inotify_poll(struct file *f, struct poll_table *pt)
{
	struct fsnotify_group *g = f->priv;
	uint32_t m = 0;

	poll_wait(f, &g->wq, pt);
	pthread_mutex_lock(&g->lock);
	if (!list_empty(&g->events))
		m = EPOLLIN | EPOLLRDNORM;
	pthread_mutex_unlock(&g->lock);
	return m;
}

static long inotify_ioctl(struct file *f, unsigned int cmd, void *arg)
{
	struct fsnotify_group *g = f->priv;

	if (cmd != FIONREAD)
		return -ENOTTY;
	pthread_mutex_lock(&g->lock);
	*(int *)arg = (int)MIN(g->qbytes, (size_t)INT32_MAX);
	pthread_mutex_unlock(&g->lock);
	return 0;
}

static void inotify_release(struct file *f)
{
	struct fsnotify_group *g = f->priv;
	struct inotify_kevent *ev, *tmp;

	epoll_release_file(f, &g->wq);
	pthread_mutex_lock(&g->vfs->lock);
	fsnotify_group_clear(g);
	pthread_mutex_unlock(&g->vfs->lock);
	list_for_each_entry_safe(ev, tmp, &g->events, link)
		free(ev);
	waitq_destroy(&g->wq);
	pthread_mutex_destroy(&g->lock);
	atomic_fetch_sub(&g->vfs->inotify_instances, 1);
	free(g);
}

static const struct file_ops inotify_fops = {
	.read = inotify_read,
	.ioctl = inotify_ioctl,
	.llseek = anon_noop_llseek,
	.fstat = anon_fstat,
	.release = inotify_release,
	.poll = inotify_poll,
};

int inotify_create(struct vfs *vfs, int flags, struct file **out)
{
	struct fsnotify_group *g;
	struct file *f;
	int r;

	if (flags & ~(O_CLOEXEC | O_NONBLOCK))
		return -EINVAL;
	/* inotify_new_group(): max_user_instances. */
	if (atomic_fetch_add(&vfs->inotify_instances, 1) >=
	    INOTIFY_MAX_INSTANCES) {
		atomic_fetch_sub(&vfs->inotify_instances, 1);
		return -EMFILE;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		atomic_fetch_sub(&vfs->inotify_instances, 1);
		return -ENOMEM;
	}
	g->vfs = vfs;
	g->next_wd = 1;
	for (int i = 0; i < INOTIFY_WD_BUCKETS; i++)
		list_init(&g->wds[i]);
	list_init(&g->events);
	pthread_mutex_init(&g->lock, NULL);
	waitq_init(&g->wq);
	r = anon_file_new(&inotify_fops, g, (unsigned int)flags, &f);
	if (r < 0) {
		waitq_destroy(&g->wq);
		pthread_mutex_destroy(&g->lock);
		free(g);
		atomic_fetch_sub(&vfs->inotify_instances, 1);
		return r;
	}
	/* anon_inode_getfd("inotify", ..., O_RDONLY | flags). */
	f->flags = O_RDONLY | (flags & O_NONBLOCK);
	f->fmode = FMODE_READ | FMODE_STREAM;
	*out = f;
	return 0;
}

int inotify_add_watch_file(struct task *t, struct file *f, const char *path,
			   uint32_t mask)
{
	struct fsnotify_group *g = f->priv;
	struct vfs *vfs = t->fs->vfs;
	struct inode *ino;
	struct path p;
	int r;

	if (vfs != g->vfs)
		return -EXDEV;
	/* vfs->lock from the walk to the mark, so the inode stays. */
	pthread_mutex_lock(&vfs->lock);
	r = vfs_lookup_locked(t, path,
			      (mask & FSN_DONT_FOLLOW) ? 0 : WALK_FOLLOW, &p);
	if (r < 0)
		goto out;
	ino = p.dentry->inode;
	/* LOOKUP_DIRECTORY, then inotify_find_inode()'s MAY_READ. */
	if ((mask & FSN_ONLYDIR) && !S_ISDIR(ino->mode)) {
		r = -ENOTDIR;
		goto out;
	}
	r = vfs_permission(ino, &t->cred, MAY_READ, false);
	if (r < 0)
		goto out;
	r = fsnotify_mark_update(g, ino, mask);
out:
	pthread_mutex_unlock(&vfs->lock);
	return r;
}

int inotify_rm_watch_file(struct file *f, int wd)
{
	struct fsnotify_group *g = f->priv;
	int r;

	pthread_mutex_lock(&g->vfs->lock);
	r = fsnotify_mark_remove(g, wd);
	pthread_mutex_unlock(&g->vfs->lock);
	return r;
}

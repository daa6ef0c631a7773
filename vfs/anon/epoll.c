// SPDX-License-Identifier: GPL-2.0
/*
 * epoll (fs/eventpoll.c, epoll(7)).
 *
 * An epoll instance keeps one item per (file, fd) pair. Each item hangs a
 * waiter with a callback on the wait queue its file handed to poll_wait();
 * the callback puts the item on the ready list and wakes the instance's own
 * queue (epoll_wait sleepers, poll() callers, outer epolls). epoll_wait
 * takes items off the ready list, polls each file again and reports what is
 * ready; level-triggered items go back on the list, edge-triggered ones wait
 * for the next wake-up, EPOLLONESHOT ones are disabled until EPOLL_CTL_MOD.
 * Items whose readiness changes with no wake-up (host fds, timerfds: see
 * struct poll_table) are "volatile": every epoll_wait pass polls them and
 * the wait is bounded by their deadlines (so for those, edge-triggered
 * reports behave like level-triggered ones: a documented gap).
 *
 * Items are weak, like Linux's: they hold no file reference. A file's
 * release calls epoll_release_file(), which unhooks and kills its items;
 * dead items are freed by the next operation on the instance. To poll an
 * item's file we take a reference with vfs_file_tryget() (which fails once
 * the last one is gone).
 *
 * Locks, outermost first:
 *   epnest (one per sentry; Linux's epnested_mutex): adding an epoll file
 *     to another, so loop checks see a stable graph
 *   ep->mtx: the item list, ctl, wait, poll of the epoll file; an outer
 *     instance's mtx before an inner one's
 *   file-internal locks (pipe->lock ...), then waitq locks
 *   ep->lock (leaf): the ready list, item->file, item state; taken by the
 *     callbacks under a waitq lock, so never held while calling a poll op
 *     or a waitq function.
 * References: the epoll file owns the eventpoll (freed on release).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "cvisor/task.h"
#include "cvisor/waitq.h"
#include "../vfs_impl.h"

#define EP_MAX_NESTS 4
#define EP_PRIVATE_BITS (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)

struct eventpoll {
	pthread_mutex_t mtx;
	pthread_mutex_t lock;
	struct waitq wq;
	struct list_head items;
	struct list_head rdlist;
	int nvolatile;
};

struct epitem {
	struct list_head link;	/* ep->items, under mtx */
	struct list_head rdlink; /* ep->rdlist, under lock */
	struct eventpoll *ep;
	struct file *file;	/* weak; NULL when dead */
	int fd;
	uint32_t events;
	uint64_t data;
	struct waiter w;
	struct waitq *wq;	/* where w is queued (NULL: nowhere) */
	bool on_rdlist;
	bool in_tx;		/* being reported by ep_send_events */
	bool tx_event;		/* woken while in_tx */
	bool dead;
	bool vol;
};

static pthread_mutex_t epnest = PTHREAD_MUTEX_INITIALIZER;

static const struct file_ops epoll_fops;

bool file_is_epoll(const struct file *f)
{
	return f->ops == &epoll_fops;
}

/* Lock held. */
static void rd_add(struct eventpoll *ep, struct epitem *it)
{
	if (it->in_tx) {
		it->tx_event = true;
		return;
	}
	if (!it->on_rdlist) {
		list_add_tail(&it->rdlink, &ep->rdlist);
		it->on_rdlist = true;
	}
}

static void rd_del(struct epitem *it)
{
	if (it->on_rdlist) {
		list_del(&it->rdlink);
		it->on_rdlist = false;
	}
}

/* ep_poll_callback(): runs under the target queue's lock. */
static void ep_callback(struct waiter *w, uint64_t events)
{
	struct epitem *it = w->priv;
	struct eventpoll *ep = it->ep;
	bool wake = false;

	pthread_mutex_lock(&ep->lock);
	if (!it->dead && (it->events & ~EP_PRIVATE_BITS) &&
	    (!(uint32_t)events || ((uint32_t)events & it->events))) {
		rd_add(ep, it);
		wake = true;
	}
	pthread_mutex_unlock(&ep->lock);
	if (wake)
		waitq_wake(&ep->wq, EPOLLIN | EPOLLRDNORM);
}

void epoll_release_file(struct file *f, struct waitq *wq)
{
	struct waiter *w, *tmp;

	pthread_mutex_lock(&wq->lock);
	list_for_each_entry_safe(w, tmp, &wq->head, link) {
		struct epitem *it;

		if (w->func != ep_callback)
			continue;
		it = w->priv;
		if (it->file != f)
			continue;
		pthread_mutex_lock(&it->ep->lock);
		it->dead = true;
		it->file = NULL;
		it->wq = NULL;
		rd_del(it);
		pthread_mutex_unlock(&it->ep->lock);
		list_del(&w->link);
	}
	pthread_mutex_unlock(&wq->lock);
}

/* The item's file with a reference, or NULL if it is gone. */
static struct file *item_file(struct epitem *it)
{
	struct file *f;

	pthread_mutex_lock(&it->ep->lock);
	f = it->file;
	if (f && !vfs_file_tryget(f))
		f = NULL;
	pthread_mutex_unlock(&it->ep->lock);
	return f;
}

/* Unhook and free an item (mtx held). */
static void ep_remove(struct eventpoll *ep, struct epitem *it)
{
	for (;;) {
		struct file *f;
		bool dead;

		pthread_mutex_lock(&ep->lock);
		dead = it->dead;
		f = it->file;
		if (!dead && !vfs_file_tryget(f))
			f = NULL; /* being released: it will mark us dead */
		pthread_mutex_unlock(&ep->lock);
		if (dead)
			break;
		if (f) {
			if (it->wq)
				waitq_remove(it->wq, &it->w);
			pthread_mutex_lock(&ep->lock);
			it->dead = true;
			it->file = NULL;
			pthread_mutex_unlock(&ep->lock);
			vfs_file_put(f);
			break;
		}
		sched_yield();
	}
	pthread_mutex_lock(&ep->lock);
	rd_del(it);
	pthread_mutex_unlock(&ep->lock);
	if (it->vol)
		ep->nvolatile--;
	list_del(&it->link);
	free(it);
}

static void ep_gc(struct eventpoll *ep)
{
	struct epitem *it, *tmp;

	list_for_each_entry_safe(it, tmp, &ep->items, link) {
		bool dead;

		pthread_mutex_lock(&ep->lock);
		dead = it->dead;
		pthread_mutex_unlock(&ep->lock);
		if (dead)
			ep_remove(ep, it);
	}
}

static struct epitem *ep_find(struct eventpoll *ep, struct file *f, int fd)
{
	struct epitem *it;

	list_for_each_entry(it, &ep->items, link) {
		bool match;

		pthread_mutex_lock(&ep->lock);
		match = !it->dead && it->file == f && it->fd == fd;
		pthread_mutex_unlock(&ep->lock);
		if (match)
			return it;
	}
	return NULL;
}

static void ep_ptable_queue(struct poll_table *pt, struct file *f,
			    struct waitq *wq)
{
	struct epitem *it = pt->priv;

	(void)f;
	if (it->wq)
		return; /* one queue per file type here */
	waiter_init(&it->w, NULL, ~0ULL);
	it->w.func = ep_callback;
	it->w.priv = it;
	it->wq = wq;
	waitq_add(wq, &it->w);
}

static bool pt_volatile(const struct poll_table *pt)
{
	return pt->hostfd >= 0 || pt->repoll || pt->expire_ns != INT64_MAX;
}

/* Track whether the item needs polling on every wait (mtx held): a
 * timerfd becomes volatile when armed. */
static void item_set_vol(struct epitem *it, const struct poll_table *pt)
{
	bool vol = pt_volatile(pt);

	if (vol == it->vol)
		return;
	it->vol = vol;
	it->ep->nvolatile += vol ? 1 : -1;
}

/* Poll an item's file without registering; fills pt's hints. mtx held. */
static uint32_t item_poll(struct epitem *it, struct poll_table *pt)
{
	struct file *f = item_file(it);
	uint32_t m;

	poll_table_reset(pt);
	pt->queue = NULL;
	if (!f)
		return 0;
	pt->key = it->events;
	m = vfs_poll(f, pt);
	vfs_file_put(f);
	item_set_vol(it, pt);
	return m;
}

/* Depth of epoll nesting below ep, or -1 if target is reachable. */
static int ep_loop_walk(struct eventpoll *ep, struct eventpoll *target,
			int depth)
{
	struct epitem *it;
	int max = 0;

	if (ep == target)
		return -1;
	if (depth > EP_MAX_NESTS)
		return -1;
	pthread_mutex_lock(&ep->mtx);
	list_for_each_entry(it, &ep->items, link) {
		struct file *f = item_file(it);
		int d;

		if (!f)
			continue;
		if (file_is_epoll(f)) {
			d = ep_loop_walk(f->priv, target, depth + 1);
			if (d < 0) {
				vfs_file_put(f);
				max = -1;
				break;
			}
			max = MAX(max, d + 1);
		}
		vfs_file_put(f);
	}
	pthread_mutex_unlock(&ep->mtx);
	return max;
}

static int ep_insert(struct eventpoll *ep, struct file *tf, int fd,
		     uint32_t events, uint64_t data)
{
	struct epitem *it = calloc(1, sizeof(*it));
	struct poll_table pt;
	uint32_t revents;

	if (!it)
		return -ENOMEM;
	it->ep = ep;
	it->file = tf;
	it->fd = fd;
	it->events = events;
	it->data = data;
	list_init(&it->rdlink);
	list_init(&it->w.link);
	list_add_tail(&it->link, &ep->items);

	poll_table_reset(&pt);
	pt.queue = ep_ptable_queue;
	pt.priv = it;
	pt.key = events;
	revents = vfs_poll(tf, &pt);
	item_set_vol(it, &pt);
	if (revents & events) {
		pthread_mutex_lock(&ep->lock);
		rd_add(ep, it);
		pthread_mutex_unlock(&ep->lock);
		waitq_wake(&ep->wq, EPOLLIN | EPOLLRDNORM);
	}
	return 0;
}

static int ep_modify(struct eventpoll *ep, struct epitem *it, uint32_t events,
		     uint64_t data)
{
	struct poll_table pt;
	uint32_t revents;

	pthread_mutex_lock(&ep->lock);
	it->events = events;
	it->data = data;
	pthread_mutex_unlock(&ep->lock);
	revents = item_poll(it, &pt);
	if (revents & events) {
		pthread_mutex_lock(&ep->lock);
		rd_add(ep, it);
		pthread_mutex_unlock(&ep->lock);
		waitq_wake(&ep->wq, EPOLLIN | EPOLLRDNORM);
	}
	return 0;
}

int epoll_ctl_file(struct file *epf, int op, int fd, struct file *tf,
		   uint32_t events, uint64_t data)
{
	struct eventpoll *ep = epf->priv;
	const uint32_t excl_ok = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP |
				 EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
	bool nested = false;
	struct epitem *it;
	int r;

	if (!tf->ops->poll)
		return -EPERM;
	if (epf == tf || !file_is_epoll(epf))
		return -EINVAL;
	if ((op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) &&
	    (events & EPOLLEXCLUSIVE)) {
		if (op == EPOLL_CTL_MOD)
			return -EINVAL;
		if (file_is_epoll(tf) || (events & ~excl_ok))
			return -EINVAL;
	}
	if (op == EPOLL_CTL_ADD && file_is_epoll(tf)) {
		pthread_mutex_lock(&epnest);
		nested = true;
		if (ep_loop_walk(tf->priv, ep, 1) < 0) {
			pthread_mutex_unlock(&epnest);
			return -ELOOP;
		}
	}
	pthread_mutex_lock(&ep->mtx);
	ep_gc(ep);
	it = ep_find(ep, tf, fd);
	switch (op) {
	case EPOLL_CTL_ADD:
		if (it)
			r = -EEXIST;
		else
			r = ep_insert(ep, tf, fd, events | EPOLLERR | EPOLLHUP,
				      data);
		break;
	case EPOLL_CTL_DEL:
		if (it) {
			ep_remove(ep, it);
			r = 0;
		} else {
			r = -ENOENT;
		}
		break;
	case EPOLL_CTL_MOD:
		if (!it)
			r = -ENOENT;
		else if (it->events & EPOLLEXCLUSIVE)
			r = -EINVAL;
		else
			r = ep_modify(ep, it, events | EPOLLERR | EPOLLHUP,
				      data);
		break;
	default:
		r = -EINVAL;
		break;
	}
	pthread_mutex_unlock(&ep->mtx);
	if (nested)
		pthread_mutex_unlock(&epnest);
	return r;
}

/* Poll the volatile items: ready ones go on the ready list; their hints
 * go into ws (may be NULL). mtx held. */
static void ep_scan_volatile(struct eventpoll *ep, struct ipc_waitset *ws)
{
	struct epitem *it;

	if (!ep->nvolatile)
		return;
	list_for_each_entry(it, &ep->items, link) {
		struct poll_table pt;
		uint32_t m;

		if (!it->vol)
			continue;
		m = item_poll(it, &pt);
		if (ws)
			ipc_waitset_note(ws, &pt, it->events);
		if (m & it->events) {
			pthread_mutex_lock(&ep->lock);
			if (!it->dead && (it->events & ~EP_PRIVATE_BITS))
				rd_add(ep, it);
			pthread_mutex_unlock(&ep->lock);
		}
	}
}

/* ep_send_events(): mtx held. */
static int ep_send_events(struct eventpoll *ep, struct cv_epoll_event *out,
			  int maxevents)
{
	struct list_head tx;
	struct epitem *it;
	int n = 0;

	list_init(&tx);
	pthread_mutex_lock(&ep->lock);
	while (!list_empty(&ep->rdlist)) {
		it = container_of(ep->rdlist.next, struct epitem, rdlink);
		list_del(&it->rdlink);
		list_add_tail(&it->rdlink, &tx);
		it->in_tx = true;
		it->tx_event = false;
	}
	pthread_mutex_unlock(&ep->lock);

	for (;;) {
		struct poll_table pt;
		uint32_t revents;
		bool again = false;

		/* epoll_release_file() may take a dying item off tx. */
		pthread_mutex_lock(&ep->lock);
		it = list_empty(&tx) ? NULL :
				       container_of(tx.next, struct epitem, rdlink);
		pthread_mutex_unlock(&ep->lock);
		if (!it || n >= maxevents)
			break;
		revents = item_poll(it, &pt) & it->events;
		pthread_mutex_lock(&ep->lock);
		list_del(&it->rdlink);
		it->in_tx = false;
		it->on_rdlist = false;
		if (!it->dead && revents && (it->events & ~EP_PRIVATE_BITS)) {
			out[n].events = revents;
			out[n].data = it->data;
			n++;
			if (it->events & EPOLLONESHOT)
				it->events &= EP_PRIVATE_BITS;
			else if (!(it->events & EPOLLET))
				again = true;
		}
		if (it->tx_event && !it->dead)
			again = true;
		if (again)
			rd_add(ep, it);
		pthread_mutex_unlock(&ep->lock);
	}
	/* Not reported (maxevents reached): back to the front, in order. */
	pthread_mutex_lock(&ep->lock);
	while (!list_empty(&tx)) {
		it = container_of(tx.prev, struct epitem, rdlink);
		list_del(&it->rdlink);
		it->in_tx = false;
		list_add_tail(&it->rdlink, ep->rdlist.next);
		it->on_rdlist = true;
	}
	pthread_mutex_unlock(&ep->lock);
	return n;
}

int epoll_wait_file(struct task *t, struct file *f, struct cv_epoll_event *out,
		    int maxevents, int64_t deadline_ns)
{
	struct eventpoll *ep = f->priv;
	struct ipc_waitset ws;
	struct waiter w;
	bool waiting = false;
	int n, r;

	waiter_init(&w, t, ~0ULL);
	for (;;) {
		ipc_waitset_init(&ws);
		pthread_mutex_lock(&ep->mtx);
		ep_gc(ep);
		ep_scan_volatile(ep, &ws);
		/* Sentry objects among the items can wake us; with only host
		 * fds, ipc_block waits in host poll. */
		{
			struct epitem *it;

			list_for_each_entry(it, &ep->items, link)
				if (!it->vol) {
					ws.sentry = true;
					break;
				}
		}
		n = ep_send_events(ep, out, maxevents);
		pthread_mutex_unlock(&ep->mtx);
		if (n || deadline_ns == 0)
			break;
		if (!waiting) {
			waitq_add(&ep->wq, &w);
			waiting = true;
			ipc_waitset_free(&ws);
			continue;
		}
		r = ipc_block(t, deadline_ns, &ws);
		ipc_waitset_free(&ws);
		if (r == -ETIMEDOUT) {
			n = 0;
			break;
		}
		if (r < 0) {
			n = r;
			break;
		}
	}
	ipc_waitset_free(&ws);
	if (waiting)
		waitq_remove(&ep->wq, &w);
	return n;
}

/* ep_eventpoll_poll(): readable when some item is ready. */
static uint32_t epoll_poll(struct file *f, struct poll_table *pt)
{
	struct eventpoll *ep = f->priv;
	struct ipc_waitset ws;
	struct epitem *it;
	uint32_t mask = 0;

	poll_wait(f, &ep->wq, pt);
	ipc_waitset_init(&ws);
	pthread_mutex_lock(&ep->mtx);
	ep_scan_volatile(ep, &ws);
	list_for_each_entry(it, &ep->items, link) {
		struct poll_table ipt;
		bool ready;

		pthread_mutex_lock(&ep->lock);
		ready = it->on_rdlist && !it->dead;
		pthread_mutex_unlock(&ep->lock);
		if (ready && (item_poll(it, &ipt) & it->events)) {
			mask = EPOLLIN | EPOLLRDNORM;
			break;
		}
	}
	pthread_mutex_unlock(&ep->mtx);
	if (pt) {
		if (ws.nhost || ws.repoll)
			pt->repoll = true;
		if (ws.expire_ns < pt->expire_ns)
			pt->expire_ns = ws.expire_ns;
	}
	ipc_waitset_free(&ws);
	return mask;
}

static void epoll_release(struct file *f)
{
	struct eventpoll *ep = f->priv;
	struct epitem *it, *tmp;

	epoll_release_file(f, &ep->wq);
	pthread_mutex_lock(&ep->mtx);
	list_for_each_entry_safe(it, tmp, &ep->items, link)
		ep_remove(ep, it);
	pthread_mutex_unlock(&ep->mtx);
	waitq_destroy(&ep->wq);
	pthread_mutex_destroy(&ep->lock);
	pthread_mutex_destroy(&ep->mtx);
	free(ep);
}

static const struct file_ops epoll_fops = {
	.llseek = anon_noop_llseek,
	.fstat = anon_fstat,
	.release = epoll_release,
	.poll = epoll_poll,
};

int epoll_create_file(unsigned int flags, struct file **out)
{
	struct eventpoll *ep = calloc(1, sizeof(*ep));
	int r;

	if (!ep)
		return -ENOMEM;
	pthread_mutex_init(&ep->mtx, NULL);
	pthread_mutex_init(&ep->lock, NULL);
	waitq_init(&ep->wq);
	list_init(&ep->items);
	list_init(&ep->rdlist);
	r = anon_file_new(&epoll_fops, ep, flags & ~O_NONBLOCK, out);
	if (r < 0) {
		waitq_destroy(&ep->wq);
		free(ep);
	}
	return r;
}

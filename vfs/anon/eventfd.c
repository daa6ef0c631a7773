// SPDX-License-Identifier: GPL-2.0
/*
 * eventfd (fs/eventfd.c, eventfd(2)): a 64-bit counter. read takes the
 * whole count (or 1 with EFD_SEMAPHORE) and blocks at 0; write adds and
 * blocks while the sum would exceed 0xfffffffffffffffe. Reads and writes
 * move exactly 8 bytes; shorter buffers are EINVAL.
 *
 * Locks: ctx->lock (leaf except for waitq locks; wakes happen after it is
 * dropped). References: the file owns the context.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "cvisor/task.h"
#include "cvisor/waitq.h"
#include "../vfs_impl.h"

#define EFD_MAX 0xfffffffffffffffeULL	/* ULLONG_MAX - 1 */

struct eventfd_ctx {
	pthread_mutex_t lock;
	struct waitq wq;
	uint64_t count;
	bool semaphore;
};

static ssize_t efd_read(struct file *f, const struct iovec *iov, int cnt,
			int64_t *off)
{
	struct eventfd_ctx *c = f->priv;
	struct task *t = ipc_current();
	struct waiter w;
	bool waiting = false;
	uint64_t v = 0;
	ssize_t r;

	(void)off;
	if (iov_total(iov, cnt) < sizeof(v))
		return -EINVAL;
	waiter_init(&w, t, EPOLLIN);
	pthread_mutex_lock(&c->lock);
	for (;;) {
		if (c->count) {
			v = c->semaphore ? 1 : c->count;
			c->count -= v;
			r = sizeof(v);
			break;
		}
		if (f->flags & O_NONBLOCK) {
			r = -EAGAIN;
			break;
		}
		if (!waiting) {
			waitq_add(&c->wq, &w);
			waiting = true;
			continue;
		}
		pthread_mutex_unlock(&c->lock);
		r = ipc_block_simple(t);
		pthread_mutex_lock(&c->lock);
		if (r < 0)
			break;
	}
	pthread_mutex_unlock(&c->lock);
	if (waiting)
		waitq_remove(&c->wq, &w);
	if (r > 0) {
		iov_copy_out(iov, cnt, 0, &v, sizeof(v));
		waitq_wake(&c->wq, EPOLLOUT | EPOLLWRNORM);
	}
	return r;
}

static ssize_t efd_write(struct file *f, const struct iovec *iov, int cnt,
			 int64_t *off)
{
	struct eventfd_ctx *c = f->priv;
	struct task *t = ipc_current();
	struct waiter w;
	bool waiting = false;
	uint64_t v;
	ssize_t r;

	(void)off;
	if (iov_total(iov, cnt) < sizeof(v))
		return -EINVAL;
	iov_copy_in(&v, iov, cnt, 0, sizeof(v));
	if (v == ~0ULL)
		return -EINVAL;
	waiter_init(&w, t, EPOLLOUT);
	pthread_mutex_lock(&c->lock);
	for (;;) {
		if (EFD_MAX - c->count >= v) {
			c->count += v;
			r = sizeof(v);
			break;
		}
		if (f->flags & O_NONBLOCK) {
			r = -EAGAIN;
			break;
		}
		if (!waiting) {
			waitq_add(&c->wq, &w);
			waiting = true;
			continue;
		}
		pthread_mutex_unlock(&c->lock);
		r = ipc_block_simple(t);
		pthread_mutex_lock(&c->lock);
		if (r < 0)
			break;
	}
	pthread_mutex_unlock(&c->lock);
	if (waiting)
		waitq_remove(&c->wq, &w);
	/* Even adding 0 wakes (edge-triggered epoll sees it). */
	if (r > 0)
		waitq_wake(&c->wq, EPOLLIN | EPOLLRDNORM);
	return r;
}

static uint32_t efd_poll(struct file *f, struct poll_table *pt)
{
	struct eventfd_ctx *c = f->priv;
	uint32_t m = 0;

	poll_wait(f, &c->wq, pt);
	pthread_mutex_lock(&c->lock);
	if (c->count > 0)
		m |= EPOLLIN | EPOLLRDNORM;
	if (c->count == ~0ULL)
		m |= EPOLLERR;
	if (c->count < EFD_MAX)
		m |= EPOLLOUT | EPOLLWRNORM;
	pthread_mutex_unlock(&c->lock);
	return m;
}

static void efd_release(struct file *f)
{
	struct eventfd_ctx *c = f->priv;

	epoll_release_file(f, &c->wq);
	waitq_destroy(&c->wq);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static const struct file_ops eventfd_fops = {
	.read = efd_read,
	.write = efd_write,
	.llseek = anon_noop_llseek,
	.fstat = anon_fstat,
	.release = efd_release,
	.poll = efd_poll,
};

int eventfd_create(uint64_t initval, int flags, struct file **out)
{
	struct eventfd_ctx *c;
	int r;

	if (flags & ~(EFD_SEMAPHORE | EFD_CLOEXEC | EFD_NONBLOCK))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	waitq_init(&c->wq);
	c->count = initval;
	c->semaphore = flags & EFD_SEMAPHORE;
	r = anon_file_new(&eventfd_fops, c, (unsigned int)flags, out);
	if (r < 0) {
		waitq_destroy(&c->wq);
		free(c);
	}
	return r;
}

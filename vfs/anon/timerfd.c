// SPDX-License-Identifier: GPL-2.0
/*
 * timerfd (fs/timerfd.c, timerfd_create(2)) without a timer thread: the
 * expiry count is brought up to date from the clock whenever the file is
 * read, polled or queried, and a blocked reader (or poller, through
 * poll_table.expire_ns) sleeps with a deadline at the next expiry,
 * converted to CLOCK_MONOTONIC. settime wakes blocked readers so they
 * recompute their deadline. TFD_TIMER_CANCEL_ON_SET is accepted but the
 * sandbox cannot set the clock, so it never cancels.
 *
 * Locks: ctx->lock (leaf except for waitq locks). References: the file
 * owns the context.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>

#include "cvisor/task.h"
#include "cvisor/waitq.h"
#include "../vfs_impl.h"

#define NSEC 1000000000LL

struct timerfd_ctx {
	pthread_mutex_t lock;
	struct waitq wq;
	clockid_t clock;	/* the host clock read for this timer */
	int64_t next_ns;	/* next expiry on clock; 0 = disarmed */
	int64_t interval_ns;
	uint64_t ticks;		/* expirations not yet read */
};

static const struct file_ops timerfd_fops;

bool file_is_timerfd(const struct file *f)
{
	return f->ops == &timerfd_fops;
}

static int64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec * NSEC + ts.tv_nsec;
}

/* Count the expirations up to now (lock held). */
static void tfd_update(struct timerfd_ctx *c, int64_t now)
{
	if (!c->next_ns || now < c->next_ns)
		return;
	if (c->interval_ns) {
		uint64_t n = 1 + (uint64_t)(now - c->next_ns) /
				     (uint64_t)c->interval_ns;

		c->ticks += n;
		c->next_ns += (int64_t)n * c->interval_ns;
	} else {
		c->ticks++;
		c->next_ns = 0;
	}
}

/* The next expiry as a CLOCK_MONOTONIC deadline, INT64_MAX if none. */
static int64_t tfd_mono_deadline(struct timerfd_ctx *c, int64_t now)
{
	if (!c->next_ns)
		return INT64_MAX;
	if (c->clock == CLOCK_MONOTONIC)
		return c->next_ns;
	return (int64_t)util_now_ns() + (c->next_ns - now);
}

static ssize_t tfd_read(struct file *f, const struct iovec *iov, int cnt,
			int64_t *off)
{
	struct timerfd_ctx *c = f->priv;
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
		struct ipc_waitset ws;
		int64_t now = clock_ns(c->clock);

		tfd_update(c, now);
		if (c->ticks) {
			v = c->ticks;
			c->ticks = 0;
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
		ipc_waitset_init(&ws);
		ws.sentry = true;
		ws.expire_ns = tfd_mono_deadline(c, now);
		pthread_mutex_unlock(&c->lock);
		if (t)
			r = ipc_block(t, -1, &ws) == -EINTR ? -ERESTARTSYS : 0;
		else
			r = ipc_block_simple(t);
		pthread_mutex_lock(&c->lock);
		if (r < 0)
			break;
	}
	pthread_mutex_unlock(&c->lock);
	if (waiting)
		waitq_remove(&c->wq, &w);
	if (r > 0)
		iov_copy_out(iov, cnt, 0, &v, sizeof(v));
	return r;
}

static uint32_t tfd_poll(struct file *f, struct poll_table *pt)
{
	struct timerfd_ctx *c = f->priv;
	uint32_t m = 0;
	int64_t now;

	poll_wait(f, &c->wq, pt);
	pthread_mutex_lock(&c->lock);
	now = clock_ns(c->clock);
	tfd_update(c, now);
	if (c->ticks)
		m = EPOLLIN | EPOLLRDNORM;
	else if (pt && c->next_ns)
		pt->expire_ns = MIN(pt->expire_ns, tfd_mono_deadline(c, now));
	pthread_mutex_unlock(&c->lock);
	return m;
}

static void tfd_release(struct file *f)
{
	struct timerfd_ctx *c = f->priv;

	epoll_release_file(f, &c->wq);
	waitq_destroy(&c->wq);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static const struct file_ops timerfd_fops = {
	.read = tfd_read,
	.llseek = anon_noop_llseek,
	.fstat = anon_fstat,
	.release = tfd_release,
	.poll = tfd_poll,
};

int timerfd_create_file(int clockid, int flags, struct file **out)
{
	struct timerfd_ctx *c;
	clockid_t host;
	int r;

	if (flags & ~(TFD_CLOEXEC | TFD_NONBLOCK))
		return -EINVAL;
	switch (clockid) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_ALARM:
		host = CLOCK_REALTIME;
		break;
	case CLOCK_MONOTONIC:
		host = CLOCK_MONOTONIC;
		break;
	case CLOCK_BOOTTIME:
	case CLOCK_BOOTTIME_ALARM:
		host = CLOCK_BOOTTIME;
		break;
	default:
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	waitq_init(&c->wq);
	c->clock = host;
	r = anon_file_new(&timerfd_fops, c, (unsigned int)flags, out);
	if (r < 0) {
		waitq_destroy(&c->wq);
		free(c);
	}
	return r;
}

static void ns_to_ts(int64_t ns, struct timespec *ts)
{
	ts->tv_sec = ns / NSEC;
	ts->tv_nsec = ns % NSEC;
}

/* timerfd_gettime (lock held). */
static void tfd_get(struct timerfd_ctx *c, struct itimerspec *cur)
{
	int64_t now = clock_ns(c->clock);

	tfd_update(c, now);
	memset(cur, 0, sizeof(*cur));
	if (c->next_ns)
		ns_to_ts(c->next_ns - now, &cur->it_value);
	ns_to_ts(c->interval_ns, &cur->it_interval);
}

int timerfd_gettime_file(struct file *f, struct itimerspec *cur)
{
	struct timerfd_ctx *c;

	if (!file_is_timerfd(f))
		return -EINVAL;
	c = f->priv;
	pthread_mutex_lock(&c->lock);
	tfd_get(c, cur);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

int timerfd_settime_file(struct file *f, int flags,
			 const struct itimerspec *nv, struct itimerspec *old)
{
	struct timerfd_ctx *c;
	int64_t val, now;

	if (!file_is_timerfd(f))
		return -EINVAL;
	c = f->priv;
	pthread_mutex_lock(&c->lock);
	tfd_get(c, old);
	/* timerfd_setup(): pending expirations are forgotten. */
	c->ticks = 0;
	val = nv->it_value.tv_sec * NSEC + nv->it_value.tv_nsec;
	c->interval_ns = nv->it_interval.tv_sec * NSEC +
			 nv->it_interval.tv_nsec;
	now = clock_ns(c->clock);
	if (!val)
		c->next_ns = 0;
	else if (flags & TFD_TIMER_ABSTIME)
		c->next_ns = val;
	else
		c->next_ns = now + val;
	pthread_mutex_unlock(&c->lock);
	/* Blocked readers and pollers recompute their deadline. */
	waitq_wake(&c->wq, ~0ULL);
	return 0;
}

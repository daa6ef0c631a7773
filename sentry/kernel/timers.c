// SPDX-License-Identifier: GPL-2.0
/*
 * The timer service: one host thread serves every timer of the sandbox
 * (itimers, alarm, POSIX timers), never one host thread per timer.
 *
 * Timers sit on one list sorted by expiry (CLOCK_MONOTONIC ns). The thread
 * sleeps on a condition variable until the first expiry, takes the timer
 * off the list, marks it firing and calls its fire() WITHOUT the service
 * lock (fire takes group locks to queue a signal); fire returns the next
 * expiry for periodic timers. timer_arm/timer_cancel wait until a running
 * fire() of that timer returns (like del_timer_sync), so after
 * timer_cancel the timer can be freed.
 *
 * Locks: svc.lock is a leaf; never held while calling fire(). Callers of
 * timer_arm/timer_cancel must not hold a lock that fire() takes.
 *
 * The service is one per sentry process (there is one sandbox per sentry
 * process), started on first use; it moves into struct kernel when that
 * grows a `timers` field.
 */
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "cvisor/signal.h"
#include "cvisor/util.h"

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* CLOCK_MONOTONIC: list changed */
	pthread_cond_t done;	/* a fire() returned */
	struct list_head list;
	pthread_t thread;
	bool firing_any;
} svc = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.done = PTHREAD_COND_INITIALIZER,
};
static pthread_once_t svc_once = PTHREAD_ONCE_INIT;

static void insert_locked(struct cv_timer *tm)
{
	struct list_head *pos = svc.list.next;

	while (pos != &svc.list &&
	       container_of(pos, struct cv_timer, link)->expires <= tm->expires)
		pos = pos->next;
	/* insert before pos */
	list_add_tail(&tm->link, pos);
	tm->queued = true;
}

static void *timer_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&svc.lock);
	for (;;) {
		struct cv_timer *tm;
		uint64_t now, next;

		if (list_empty(&svc.list)) {
			pthread_cond_wait(&svc.cond, &svc.lock);
			continue;
		}
		tm = container_of(svc.list.next, struct cv_timer, link);
		now = util_now_ns();
		if (tm->expires > now) {
			struct timespec ts = {
				.tv_sec = (time_t)(tm->expires / 1000000000ULL),
				.tv_nsec = (long)(tm->expires % 1000000000ULL),
			};

			pthread_cond_timedwait(&svc.cond, &svc.lock, &ts);
			continue;
		}
		list_del(&tm->link);
		tm->queued = false;
		tm->firing = true;
		pthread_mutex_unlock(&svc.lock);
		next = tm->fire(tm, now);
		pthread_mutex_lock(&svc.lock);
		tm->firing = false;
		tm->expires = next;
		if (next)
			insert_locked(tm);
		pthread_cond_broadcast(&svc.done);
	}
	return NULL;
}

static void svc_start(void)
{
	pthread_condattr_t ca;
	pthread_attr_t at;
	sigset_t all, old;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&svc.cond, &ca);
	pthread_condattr_destroy(&ca);
	list_init(&svc.list);
	/* The thread takes no host signals (CV_SIG_INTERRUPT is only for
	 * task threads). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 256 * 1024);
	pthread_create(&svc.thread, &at, timer_thread, NULL);
	pthread_attr_destroy(&at);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void timer_init(struct cv_timer *tm, uint64_t (*fire)(struct cv_timer *, uint64_t),
		void *priv)
{
	tm->expires = 0;
	tm->fire = fire;
	tm->priv = priv;
	list_init(&tm->link);
	tm->queued = false;
	tm->firing = false;
}

void timer_arm(struct cv_timer *tm, uint64_t expires)
{
	pthread_once(&svc_once, svc_start);
	pthread_mutex_lock(&svc.lock);
	while (tm->firing)
		pthread_cond_wait(&svc.done, &svc.lock);
	if (tm->queued) {
		list_del(&tm->link);
		tm->queued = false;
	}
	tm->expires = expires;
	if (expires) {
		insert_locked(tm);
		pthread_cond_signal(&svc.cond);
	}
	pthread_mutex_unlock(&svc.lock);
}

void timer_cancel(struct cv_timer *tm)
{
	timer_arm(tm, 0);
}

uint64_t timer_remaining(struct cv_timer *tm)
{
	uint64_t r = 0, now;

	pthread_once(&svc_once, svc_start);
	pthread_mutex_lock(&svc.lock);
	now = util_now_ns();
	if (tm->queued)
		r = tm->expires > now ? tm->expires - now : 1;
	pthread_mutex_unlock(&svc.lock);
	return r;
}

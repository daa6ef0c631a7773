// SPDX-License-Identifier: GPL-2.0
/*
 * Interval timers, alarm and POSIX timers (kernel/time/itimer.c,
 * posix-timers.c). All timers run on the sandbox's one timer thread
 * (sentry/kernel/timers.c); their state lives in the thread group's
 * struct signal_group and is guarded by its lock. timer_arm/timer_cancel
 * are always called with that lock dropped (they wait for fire(), which
 * takes it).
 *
 * CLOCK_REALTIME timers run on the monotonic clock from the moment they
 * are armed (a later clock_settime does not move them: there is none in
 * the sandbox). CPU-time clocks for timer_create are not supported yet.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "../kernel/signal_impl.h"

#define NS 1000000000ULL

struct cv_timeval {
	int64_t sec, usec;
};
struct cv_itimerval {
	struct cv_timeval interval, value;
};
struct cv_timespec {
	int64_t sec, nsec;
};
struct cv_itimerspec {
	struct cv_timespec interval, value;
};

/* The group's itimers: ITIMER_REAL on the timer thread, and a 10 ms tick
 * that interrupts the workload while a CPU-time itimer is armed so
 * signal_check_cpu_timers runs even for a thread that makes no calls. */
struct group_timers {
	struct cv_timer real;
	uint64_t real_interval;
	struct cv_timer cpu_tick;
	bool tick_armed;
	struct signal_group *g;
};

struct posix_timer {
	struct cv_timer tm;
	struct list_head link;	/* signal_group.posix_timers */
	struct signal_group *g;
	int id;
	int clockid;
	int notify;		/* SIGEV_* */
	int tid;		/* SIGEV_THREAD_ID */
	uint64_t interval;
	int overrun_pending, overrun_last;
	struct sigqueue q;	/* preallocated signal */
};

static struct task *group_thread_locked(struct signal_group *g, int tid)
{
	struct task_signal *ts;

	list_for_each_entry(ts, &g->threads, group_link) {
		struct task *o = container_of(ts, struct task, sig);

		if (!tid || o->tid == tid)
			return o;
	}
	return NULL;
}

/* Next expiry of a periodic timer that fired late, counting the missed
 * periods as overruns (hrtimer_forward). */
static uint64_t forward(uint64_t expires, uint64_t interval, uint64_t now,
			int *overrun)
{
	uint64_t next = expires + interval;

	if (next <= now) {
		uint64_t n = (now - expires) / interval;

		if (overrun)
			*overrun = (int)MIN((uint64_t)INT_MAX, (uint64_t)*overrun + n);
		next = expires + (n + 1) * interval;
	}
	return next;
}

static uint64_t itimer_real_fire(struct cv_timer *tm, uint64_t now)
{
	struct group_timers *gt = tm->priv;
	struct signal_group *g = gt->g;
	struct task *t;
	uint64_t next = 0;

	pthread_mutex_lock(&g->lock);
	t = group_thread_locked(g, 0);
	if (t) {
		siginfo_t info;

		/* kill_pid_info(SIGALRM, SEND_SIG_PRIV): SI_KERNEL. */
		memset(&info, 0, sizeof(info));
		info.si_signo = SIGALRM;
		info.si_code = SI_KERNEL;
		signal_send_group_locked(t, &info);
	}
	if (gt->real_interval)
		next = forward(tm->expires, gt->real_interval, now, NULL);
	pthread_mutex_unlock(&g->lock);
	return next;
}

static uint64_t cpu_tick_fire(struct cv_timer *tm, uint64_t now)
{
	struct group_timers *gt = tm->priv;
	struct signal_group *g = gt->g;
	struct task_signal *ts;
	uint64_t next = 0;

	pthread_mutex_lock(&g->lock);
	if (g->itimer_cpu_value[0] || g->itimer_cpu_value[1]) {
		list_for_each_entry(ts, &g->threads, group_link) {
			struct task *o = container_of(ts, struct task, sig);

			if (o->ctx)
				o->k->platform->ops->ctx_interrupt(o->ctx);
		}
		next = now + 10000000ULL;
	} else {
		gt->tick_armed = false;
	}
	pthread_mutex_unlock(&g->lock);
	return next;
}

static struct group_timers *group_timers_get(struct signal_group *g)
{
	struct group_timers *gt;

	if (g->itimer_real)
		return container_of(g->itimer_real, struct group_timers, real);
	gt = calloc(1, sizeof(*gt));
	if (!gt)
		return NULL;
	gt->g = g;
	timer_init(&gt->real, itimer_real_fire, gt);
	timer_init(&gt->cpu_tick, cpu_tick_fire, gt);
	g->itimer_real = &gt->real;
	return gt;
}

void signal_group_timers_free(struct signal_group *g)
{
	struct posix_timer *pt, *tmp;
	struct group_timers *gt = NULL;
	struct list_head dead;

	list_init(&dead);
	pthread_mutex_lock(&g->lock);
	if (g->itimer_real) {
		gt = container_of(g->itimer_real, struct group_timers, real);
		g->itimer_real = NULL;
	}
	g->itimer_cpu_value[0] = g->itimer_cpu_value[1] = 0;
	list_for_each_entry_safe(pt, tmp, &g->posix_timers, link) {
		list_del(&pt->link);
		if (!list_empty(&pt->q.link))
			list_del(&pt->q.link);
		list_add_tail(&pt->link, &dead);
	}
	pthread_mutex_unlock(&g->lock);
	if (gt) {
		timer_cancel(&gt->real);
		timer_cancel(&gt->cpu_tick);
		free(gt);
	}
	list_for_each_entry_safe(pt, tmp, &dead, link) {
		timer_cancel(&pt->tm);
		free(pt);
	}
}

uint64_t signal_task_cputime(struct task *t)
{
	uint64_t ns = 0;

	if (t->ctx && t->k->platform->ops->ctx_cputime)
		t->k->platform->ops->ctx_cputime(t->ctx, &ns);
	return ns;
}

void signal_check_cpu_timers(struct task *t)
{
	struct signal_group *g = t->sig.group;
	static const int sigs[2] = { SIGVTALRM, SIGPROF };
	uint64_t now;

	if (!__atomic_load_n(&g->itimer_cpu_value[0], __ATOMIC_RELAXED) &&
	    !__atomic_load_n(&g->itimer_cpu_value[1], __ATOMIC_RELAXED))
		return;
	now = signal_task_cputime(t);
	pthread_mutex_lock(&g->lock);
	for (int i = 0; i < 2; i++) {
		uint64_t v = g->itimer_cpu_value[i];
		siginfo_t info;

		if (!v || now < v)
			continue;
		g->itimer_cpu_value[i] = g->itimer_cpu_interval[i] ?
			forward(v, g->itimer_cpu_interval[i], now, NULL) : 0;
		memset(&info, 0, sizeof(info));
		info.si_signo = sigs[i];
		info.si_code = SI_KERNEL;
		signal_send_group_locked(t, &info);
	}
	pthread_mutex_unlock(&g->lock);
}

/* ---- getitimer/setitimer/alarm ---- */

static void ns_to_tv(uint64_t ns, struct cv_timeval *tv)
{
	tv->sec = (int64_t)(ns / NS);
	tv->usec = (int64_t)(ns % NS / 1000);
}

static int get_itimer(struct task *t, int which, struct cv_itimerval *v)
{
	struct signal_group *g = t->sig.group;
	uint64_t val = 0, intv = 0;

	memset(v, 0, sizeof(*v));
	if (which == ITIMER_REAL) {
		struct group_timers *gt;

		pthread_mutex_lock(&g->lock);
		gt = g->itimer_real ?
			     container_of(g->itimer_real, struct group_timers, real) :
			     NULL;
		intv = gt ? gt->real_interval : 0;
		pthread_mutex_unlock(&g->lock);
		if (gt) {
			val = timer_remaining(&gt->real);
			if (val && val < 1000)
				val = 1000; /* itimer_get_remtime */
		}
	} else {
		int i = which == ITIMER_VIRTUAL ? 0 : 1;
		uint64_t now = signal_task_cputime(t);

		pthread_mutex_lock(&g->lock);
		if (g->itimer_cpu_value[i])
			val = g->itimer_cpu_value[i] > now ?
				      g->itimer_cpu_value[i] - now : 1000;
		intv = g->itimer_cpu_interval[i];
		pthread_mutex_unlock(&g->lock);
	}
	ns_to_tv(val, &v->value);
	ns_to_tv(intv, &v->interval);
	return 0;
}

static bool tv_valid(const struct cv_timeval *tv)
{
	return tv->sec >= 0 && tv->usec >= 0 && tv->usec < 1000000;
}

static uint64_t tv_ns(const struct cv_timeval *tv)
{
	return (uint64_t)tv->sec * NS + (uint64_t)tv->usec * 1000;
}

static int set_itimer(struct task *t, int which, const struct cv_itimerval *nv,
		      struct cv_itimerval *old)
{
	struct signal_group *g = t->sig.group;
	uint64_t val = tv_ns(&nv->value), intv = tv_ns(&nv->interval);
	struct group_timers *gt;

	get_itimer(t, which, old);
	pthread_mutex_lock(&g->lock);
	gt = group_timers_get(g);
	if (!gt) {
		pthread_mutex_unlock(&g->lock);
		return -ENOMEM;
	}
	if (which == ITIMER_REAL) {
		gt->real_interval = val ? intv : 0;
		pthread_mutex_unlock(&g->lock);
		timer_arm(&gt->real, val ? util_now_ns() + val : 0);
		return 0;
	}
	{
		int i = which == ITIMER_VIRTUAL ? 0 : 1;
		bool tick;

		pthread_mutex_unlock(&g->lock);
		{
			uint64_t now = signal_task_cputime(t);

			pthread_mutex_lock(&g->lock);
			g->itimer_cpu_value[i] = val ? now + val : 0;
		}
		g->itimer_cpu_interval[i] = val ? intv : 0;
		tick = val && !gt->tick_armed;
		if (tick)
			gt->tick_armed = true;
		pthread_mutex_unlock(&g->lock);
		if (tick)
			timer_arm(&gt->cpu_tick, util_now_ns() + 10000000ULL);
	}
	return 0;
}

SYSCALL_DEFINE(getitimer)
{
	int which = (int)args->a[0];
	struct cv_itimerval v;

	if (which < ITIMER_REAL || which > ITIMER_PROF)
		return -EINVAL;
	get_itimer(t, which, &v);
	if (mm_copy_out(t->mm, args->a[1], &v, sizeof(v)))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE(setitimer)
{
	int which = (int)args->a[0];
	struct cv_itimerval nv, old;
	int r;

	/* A NULL new value disarms (Linux accepts it with a warning). */
	memset(&nv, 0, sizeof(nv));
	if (args->a[1] && mm_copy_in(t->mm, &nv, args->a[1], sizeof(nv)))
		return -EFAULT;
	if (which < ITIMER_REAL || which > ITIMER_PROF)
		return -EINVAL;
	if (!tv_valid(&nv.value) || !tv_valid(&nv.interval))
		return -EINVAL;
	r = set_itimer(t, which, &nv, &old);
	if (r)
		return r;
	if (args->a[2] && mm_copy_out(t->mm, args->a[2], &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE(alarm)
{
	struct cv_itimerval nv, old;
	unsigned int secs = (unsigned int)args->a[0];

	memset(&nv, 0, sizeof(nv));
	nv.value.sec = secs;
	if (set_itimer(t, ITIMER_REAL, &nv, &old))
		return 0;
	/* alarm_setitimer: round to the nearest second, never 0 if armed. */
	if ((!old.value.sec && old.value.usec) || old.value.usec >= 500000)
		old.value.sec++;
	return (long)old.value.sec;
}

/* ---- POSIX timers ---- */

int posix_timer_dequeued(struct cv_timer *tm)
{
	struct posix_timer *pt = container_of(tm, struct posix_timer, tm);

	/* With the group lock held (dequeue). */
	pt->overrun_last = pt->overrun_pending;
	pt->overrun_pending = 0;
	return pt->overrun_last;
}

static uint64_t posix_timer_fire(struct cv_timer *tm, uint64_t now)
{
	struct posix_timer *pt = tm->priv;
	struct signal_group *g = pt->g;
	uint64_t next = 0;

	pthread_mutex_lock(&g->lock);
	if (pt->notify != SIGEV_NONE) {
		struct task *t = group_thread_locked(g, pt->tid);

		if (t && !signal_send_prealloc(t, &pt->q, pt->tid != 0) &&
		    pt->overrun_pending < INT_MAX)
			pt->overrun_pending++;
	}
	if (pt->interval)
		next = forward(tm->expires, pt->interval, now,
			       pt->notify != SIGEV_NONE ? &pt->overrun_pending : NULL);
	pthread_mutex_unlock(&g->lock);
	return next;
}

static struct posix_timer *find_timer_locked(struct signal_group *g, int64_t id)
{
	struct posix_timer *pt;

	list_for_each_entry(pt, &g->posix_timers, link)
		if (pt->id == id)
			return pt;
	return NULL;
}

struct cv_sigevent {
	uint64_t value;
	int32_t signo;
	int32_t notify;
	int32_t tid;
	int32_t pad[11];
};

SYSCALL_DEFINE(timer_create)
{
	int clk = (int)args->a[0];
	struct signal_group *g = t->sig.group;
	struct cv_sigevent ev;
	struct posix_timer *pt;
	int32_t id;

	switch (clk) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_BOOTTIME:
	case CLOCK_TAI:
	case CLOCK_REALTIME_ALARM:
	case CLOCK_BOOTTIME_ALARM:
		break;
	default:
		return -EINVAL;
	}
	if (args->a[1]) {
		if (mm_copy_in(t->mm, &ev, args->a[1], sizeof(ev)))
			return -EFAULT;
		/* good_sigevent() */
		switch (ev.notify) {
		case SIGEV_SIGNAL | SIGEV_THREAD_ID:
			pthread_mutex_lock(&g->lock);
			if (!group_thread_locked(g, ev.tid) || ev.tid <= 0) {
				pthread_mutex_unlock(&g->lock);
				return -EINVAL;
			}
			pthread_mutex_unlock(&g->lock);
			/* fallthrough */
		case SIGEV_SIGNAL:
		case SIGEV_THREAD:
			if (ev.signo <= 0 || ev.signo > CV_NSIG)
				return -EINVAL;
			break;
		case SIGEV_NONE:
			break;
		default:
			return -EINVAL;
		}
	}
	pt = calloc(1, sizeof(*pt));
	if (!pt)
		return -EAGAIN;
	pthread_mutex_lock(&g->lock);
	id = g->next_timer_id;
	while (find_timer_locked(g, id))
		id = id == INT_MAX ? 0 : id + 1;
	g->next_timer_id = id == INT_MAX ? 0 : id + 1;
	pt->id = id;
	pt->g = g;
	pt->clockid = clk;
	if (args->a[1]) {
		pt->notify = ev.notify & ~SIGEV_THREAD_ID;
		pt->tid = (ev.notify & SIGEV_THREAD_ID) ? ev.tid : 0;
		pt->q.info.si_signo = ev.signo;
		pt->q.info.si_value.sival_ptr = (void *)(uintptr_t)ev.value;
	} else {
		/* NULL sevp: SIGALRM with the timer id as value. */
		pt->notify = SIGEV_SIGNAL;
		pt->q.info.si_signo = SIGALRM;
		pt->q.info.si_value.sival_int = id;
	}
	pt->q.info.si_code = SI_TIMER;
	pt->q.info.si_timerid = id;
	pt->q.timer = &pt->tm;
	list_init(&pt->q.link);
	timer_init(&pt->tm, posix_timer_fire, pt);
	list_add_tail(&pt->link, &g->posix_timers);
	pthread_mutex_unlock(&g->lock);
	if (mm_copy_out(t->mm, args->a[2], &id, sizeof(id))) {
		pthread_mutex_lock(&g->lock);
		list_del(&pt->link);
		pthread_mutex_unlock(&g->lock);
		free(pt);
		return -EFAULT;
	}
	return 0;
}

static void timer_get_locked(struct posix_timer *pt, struct cv_itimerspec *v)
{
	uint64_t rem = timer_remaining(&pt->tm);

	v->interval.sec = (int64_t)(pt->interval / NS);
	v->interval.nsec = (int64_t)(pt->interval % NS);
	v->value.sec = (int64_t)(rem / NS);
	v->value.nsec = (int64_t)(rem % NS);
}

SYSCALL_DEFINE(timer_gettime)
{
	struct signal_group *g = t->sig.group;
	struct cv_itimerspec v;
	struct posix_timer *pt;

	pthread_mutex_lock(&g->lock);
	pt = find_timer_locked(g, (int32_t)args->a[0]);
	if (!pt) {
		pthread_mutex_unlock(&g->lock);
		return -EINVAL;
	}
	timer_get_locked(pt, &v);
	pthread_mutex_unlock(&g->lock);
	if (mm_copy_out(t->mm, args->a[1], &v, sizeof(v)))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE(timer_getoverrun)
{
	struct signal_group *g = t->sig.group;
	struct posix_timer *pt;
	long r;

	pthread_mutex_lock(&g->lock);
	pt = find_timer_locked(g, (int32_t)args->a[0]);
	r = pt ? pt->overrun_last : -EINVAL;
	pthread_mutex_unlock(&g->lock);
	return r;
}

SYSCALL_DEFINE(timer_settime)
{
	struct signal_group *g = t->sig.group;
	int flags = (int)args->a[1];
	struct cv_itimerspec nv, old;
	struct posix_timer *pt;
	uint64_t val, expires = 0;

	if (!args->a[2])
		return -EINVAL;
	if (mm_copy_in(t->mm, &nv, args->a[2], sizeof(nv)))
		return -EFAULT;
	if (nv.value.sec < 0 || nv.value.nsec < 0 || nv.value.nsec >= (int64_t)NS ||
	    nv.interval.sec < 0 || nv.interval.nsec < 0 ||
	    nv.interval.nsec >= (int64_t)NS)
		return -EINVAL;
	pthread_mutex_lock(&g->lock);
	pt = find_timer_locked(g, (int32_t)args->a[0]);
	if (!pt) {
		pthread_mutex_unlock(&g->lock);
		return -EINVAL;
	}
	timer_get_locked(pt, &old);
	val = (uint64_t)nv.value.sec * NS + (uint64_t)nv.value.nsec;
	if (val) {
		uint64_t now = util_now_ns();

		if (flags & TIMER_ABSTIME) {
			uint64_t cnow = time_clock_ns(pt->clockid);

			expires = val > cnow ? now + (val - cnow) : now;
		} else {
			expires = now + val;
		}
		if (!expires)
			expires = 1;
	}
	pt->interval = val ? (uint64_t)nv.interval.sec * NS +
				     (uint64_t)nv.interval.nsec : 0;
	/* A new setting drops the overrun count and a pending signal
	 * (posix_timer_set: the old expiry is gone). */
	pt->overrun_pending = 0;
	pthread_mutex_unlock(&g->lock);
	timer_arm(&pt->tm, expires);
	if (args->a[3] && mm_copy_out(t->mm, args->a[3], &old, sizeof(old)))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE(timer_delete)
{
	struct signal_group *g = t->sig.group;
	struct posix_timer *pt;

	pthread_mutex_lock(&g->lock);
	pt = find_timer_locked(g, (int32_t)args->a[0]);
	if (!pt) {
		pthread_mutex_unlock(&g->lock);
		return -EINVAL;
	}
	list_del(&pt->link);
	pthread_mutex_unlock(&g->lock);
	timer_cancel(&pt->tm);
	pthread_mutex_lock(&g->lock);
	if (!list_empty(&pt->q.link)) {
		/* Drop its queued signal (the bit stays if another instance
		 * of the signal is queued). */
		struct sigqueue *q;
		int sig = pt->q.info.si_signo;
		bool more = false;
		struct list_head *owner = pt->q.link.next;

		list_del(&pt->q.link);
		(void)owner;
		list_for_each_entry(q, &g->shared_pending.list, link)
			more |= q->info.si_signo == sig;
		if (!more)
			g->shared_pending.set &= ~CV_SIGBIT(sig);
	}
	pthread_mutex_unlock(&g->lock);
	free(pt);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * signalfd (fs/signalfd.c, signalfd(2)): a file whose reads dequeue the
 * reader's own pending signals that are in the file's mask, as struct
 * signalfd_siginfo records. Like Linux, the signals are those of the task
 * that reads (or polls), not of the task that made the file.
 *
 * Wake-ups: every queued signal wakes its thread group's signalfd_wq
 * (signal.c complete_signal); a blocked reader waits there. poll/epoll
 * register on the file's own queue, ctx->wq, which is woken when the mask
 * changes and, through a hook, whenever a signal is queued in any thread
 * group that has polled the file: the first poll from a group hangs a
 * waiter (struct sfd_hook) on that group's signalfd_wq and takes a group
 * reference, so the group's queue outlives the hook; the file's release
 * unhooks and drops them. (Linux instead hooks pollers on the sighand's
 * queue and detaches them with wake_up_pollfree() when it dies.)
 *
 * Locks: ctx->lock guards the mask and the hook list; a group's
 * signalfd_wq lock is taken inside it (waitq_add/remove of hooks). The hook
 * function runs under that queue lock, with the group lock held by the
 * sender, and only wakes ctx->wq. Signal dequeues take the reader's group
 * lock with no lock of this file held.
 * References: the file owns the context; each hook one group reference.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include "cvisor/signal.h"
#include "cvisor/task.h"
#include "cvisor/waitq.h"
#include "../vfs_impl.h"

struct signalfd_ctx {
	pthread_mutex_t lock;
	struct waitq wq;	/* pollers: mask changes, queued signals */
	uint64_t mask;		/* signals this file reads (no KILL/STOP) */
	struct list_head hooks;	/* struct sfd_hook, under lock */
};

/* ctx watches g's signalfd_wq. */
struct sfd_hook {
	struct list_head link;
	struct signal_group *g;	/* referenced */
	struct waiter w;
};

static const struct file_ops signalfd_fops;

bool file_is_signalfd(const struct file *f)
{
	return f->ops == &signalfd_fops;
}

static uint64_t sfd_mask(struct signalfd_ctx *c)
{
	uint64_t m;

	pthread_mutex_lock(&c->lock);
	m = c->mask;
	pthread_mutex_unlock(&c->lock);
	return m;
}

uint64_t signalfd_file_mask(struct file *f)
{
	return sfd_mask(f->priv);
}

/* signalfd_copyinfo(): which union members are meaningful depends on the
 * siginfo layout (kernel/signal.c siginfo_layout). */
static void copyinfo(struct signalfd_siginfo *o, const siginfo_t *i)
{
	int sig = i->si_signo, code = i->si_code;

	memset(o, 0, sizeof(*o));
	o->ssi_signo = (uint32_t)sig;
	o->ssi_errno = i->si_errno;
	o->ssi_code = code;
	if (code == SI_TIMER) {
		o->ssi_tid = (uint32_t)i->si_timerid;
		o->ssi_overrun = (uint32_t)i->si_overrun;
		o->ssi_ptr = (uint64_t)(uintptr_t)i->si_ptr;
		o->ssi_int = (uint32_t)i->si_int;
	} else if (code > SI_USER && code < SI_KERNEL && sig == SIGCHLD) {
		o->ssi_pid = (uint32_t)i->si_pid;
		o->ssi_uid = i->si_uid;
		o->ssi_status = i->si_status;
		o->ssi_utime = (uint64_t)i->si_utime;
		o->ssi_stime = (uint64_t)i->si_stime;
	} else if (code > SI_USER && code < SI_KERNEL &&
		   (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
		    sig == SIGFPE || sig == SIGTRAP)) {
		o->ssi_addr = (uint64_t)(uintptr_t)i->si_addr;
	} else if ((code > SI_USER && code < SI_KERNEL && sig == SIGIO) ||
		   code == SI_SIGIO) {
		o->ssi_band = (uint32_t)i->si_band;
		o->ssi_fd = i->si_fd;
	} else if (code < 0) {
		/* SIL_RT: sigqueue, tkill, mq_notify... */
		o->ssi_pid = (uint32_t)i->si_pid;
		o->ssi_uid = i->si_uid;
		o->ssi_ptr = (uint64_t)(uintptr_t)i->si_ptr;
		o->ssi_int = (uint32_t)i->si_int;
	} else {
		/* SIL_KILL: kill(2), SI_KERNEL. */
		o->ssi_pid = (uint32_t)i->si_pid;
		o->ssi_uid = i->si_uid;
	}
}

/* signalfd_dequeue(): the first record; blocks unless nonblocking. */
static ssize_t sfd_dequeue(struct file *f, struct task *t, bool block,
			   struct signalfd_siginfo *out)
{
	struct signalfd_ctx *c = f->priv;
	struct signal_group *g = t->sig.group;
	struct waiter w;
	bool waiting = false;
	siginfo_t info;
	ssize_t r;

	waiter_init(&w, t, ~0ULL);
	for (;;) {
		int sig = signal_dequeue_mask(t, sfd_mask(c), &info);

		if (sig) {
			copyinfo(out, &info);
			r = sizeof(*out);
			break;
		}
		if (!block) {
			r = -EAGAIN;
			break;
		}
		if (!waiting) {
			waitq_add(&g->signalfd_wq, &w);
			waiting = true;
			continue;
		}
		if (task_block(t, NULL) == -EINTR) {
			r = -ERESTARTSYS;
			break;
		}
	}
	if (waiting)
		waitq_remove(&g->signalfd_wq, &w);
	return r;
}

static ssize_t sfd_read(struct file *f, const struct iovec *iov, int cnt,
			int64_t *off)
{
	struct task *t = ipc_current();
	size_t count = iov_total(iov, cnt) / sizeof(struct signalfd_siginfo);
	struct signalfd_siginfo rec;
	ssize_t total = 0, r;

	(void)off;
	if (!count)
		return -EINVAL;
	if (!t)
		return -EAGAIN;
	do {
		r = sfd_dequeue(f, t, !(f->flags & O_NONBLOCK) && total == 0,
				&rec);
		if (r <= 0)
			break;
		iov_copy_out(iov, cnt, (size_t)total, &rec, sizeof(rec));
		total += r;
	} while (--count);
	return total ? total : r;
}

static void sfd_hook_fn(struct waiter *w, uint64_t events)
{
	struct signalfd_ctx *c = w->priv;

	(void)events;
	waitq_wake(&c->wq, EPOLLIN | EPOLLRDNORM);
}

/* Make sure signals queued in t's group wake c's pollers. false when that
 * cannot be arranged (no memory, an embedded group). */
static bool sfd_hook(struct signalfd_ctx *c, struct task *t)
{
	struct signal_group *g = t->sig.group;
	struct sfd_hook *h;
	bool ok = false;

	if (!g || !g->allocated)
		return false;
	pthread_mutex_lock(&c->lock);
	list_for_each_entry(h, &c->hooks, link) {
		if (h->g == g) {
			ok = true;
			break;
		}
	}
	if (!ok) {
		h = calloc(1, sizeof(*h));
		if (h) {
			signal_group_get(g);
			h->g = g;
			waiter_init(&h->w, NULL, ~0ULL);
			h->w.func = sfd_hook_fn;
			h->w.priv = c;
			list_add_tail(&h->link, &c->hooks);
			waitq_add(&g->signalfd_wq, &h->w);
			ok = true;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return ok;
}

static uint32_t sfd_poll(struct file *f, struct poll_table *pt)
{
	struct signalfd_ctx *c = f->priv;
	struct task *t = ipc_current();

	poll_wait(f, &c->wq, pt);
	/* Without a hook, look again soon (poll_table.repoll). */
	if (pt && (!t || !sfd_hook(c, t)))
		pt->repoll = true;
	if (t && signal_pending_mask(t, sfd_mask(c)))
		return EPOLLIN | EPOLLRDNORM;
	return 0;
}

static void sfd_release(struct file *f)
{
	struct signalfd_ctx *c = f->priv;
	struct sfd_hook *h, *tmp;

	list_for_each_entry_safe(h, tmp, &c->hooks, link) {
		/* After the remove, sfd_hook_fn is not running on it. */
		waitq_remove(&h->g->signalfd_wq, &h->w);
		signal_group_put(h->g);
		list_del(&h->link);
		free(h);
	}
	epoll_release_file(f, &c->wq);
	waitq_destroy(&c->wq);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static const struct file_ops signalfd_fops = {
	.read = sfd_read,
	.llseek = anon_noop_llseek,
	.fstat = anon_fstat,
	.release = sfd_release,
	.poll = sfd_poll,
};

int signalfd_create(uint64_t mask, int flags, struct file **out)
{
	struct signalfd_ctx *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	waitq_init(&c->wq);
	list_init(&c->hooks);
	c->mask = mask;
	r = anon_file_new(&signalfd_fops, c, (unsigned int)flags, out);
	if (r < 0) {
		waitq_destroy(&c->wq);
		pthread_mutex_destroy(&c->lock);
		free(c);
		return r;
	}
	return 0;
}

int signalfd_update(struct file *f, uint64_t mask)
{
	struct signalfd_ctx *c;

	if (!file_is_signalfd(f))
		return -EINVAL;
	c = f->priv;
	pthread_mutex_lock(&c->lock);
	c->mask = mask;
	pthread_mutex_unlock(&c->lock);
	waitq_wake(&c->wq, ~0ULL);
	return 0;
}

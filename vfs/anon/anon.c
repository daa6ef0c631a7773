// SPDX-License-Identifier: GPL-2.0
/*
 * Shared pieces of the IPC files: the generic poll entry point, the current
 * task of a host thread, anonymous-inode files (fs/anon_inodes.c), iovec
 * copies, and the one blocking helper that poll/select/epoll use.
 *
 * Blocking on host fds (the workload's stdio). A host fd cannot wake a
 * sentry wait queue, so ipc_block() does one of two things (documented
 * choice, see docs/architecture.md):
 *  - every watched object is a host fd: wait in host ppoll() on them, in
 *    slices of at most HOST_SLICE_NS, around signal_host_block_begin/end so
 *    a signal or a sandbox kill (CV_SIG_INTERRUPT, see kernel_kill) knocks
 *    the thread out with EINTR; the slice bounds the latency of a wake-up
 *    that races with entering ppoll();
 *  - host fds mixed with sentry objects: task_block() with a deadline of at
 *    most MIXED_SLICE_NS, then the caller polls everything again.
 * No helper threads.
 *
 * Locks: none of its own. References: anon_file_new() returns a file with
 * one reference that owns priv through ops->release.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "cvisor/signal.h"
#include "cvisor/task.h"
#include "../vfs_impl.h"

#define HOST_SLICE_NS (100 * 1000000LL)
#define MIXED_SLICE_NS (10 * 1000000LL)
#define REPOLL_NS (10 * 1000000LL)

/* Provided by the signals work when it lands (weak until then). */
extern struct task *signal_current(void) __attribute__((weak));
extern void signal_host_block_begin(struct task *t) __attribute__((weak));
extern void signal_host_block_end(struct task *t) __attribute__((weak));

static __thread struct task *cur_task;

void ipc_set_current(struct task *t)
{
	cur_task = t;
}

struct task *ipc_current(void)
{
	if (signal_current) {
		struct task *t = signal_current();

		if (t)
			return t;
	}
	return cur_task;
}

uint32_t vfs_poll(struct file *f, struct poll_table *pt)
{
	if (f->ops->poll)
		return f->ops->poll(f, pt);
	return EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM;
}

bool vfs_file_tryget(struct file *f)
{
	long r = atomic_load(&f->refs);

	while (r > 0)
		if (atomic_compare_exchange_weak(&f->refs, &r, r + 1))
			return true;
	return false;
}

size_t iov_total(const struct iovec *iov, int cnt)
{
	size_t n = 0;

	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	return n;
}

size_t iov_copy_out(const struct iovec *iov, int cnt, size_t skip,
		    const void *src, size_t len)
{
	const char *s = src;
	size_t done = 0;

	for (int i = 0; i < cnt && done < len; i++) {
		size_t l = iov[i].iov_len, n;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		n = MIN(l - skip, len - done);
		memcpy((char *)iov[i].iov_base + skip, s + done, n);
		done += n;
		skip = 0;
	}
	return done;
}

size_t iov_copy_in(void *dst, const struct iovec *iov, int cnt, size_t skip,
		   size_t len)
{
	char *d = dst;
	size_t done = 0;

	for (int i = 0; i < cnt && done < len; i++) {
		size_t l = iov[i].iov_len, n;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		n = MIN(l - skip, len - done);
		memcpy(d + done, (char *)iov[i].iov_base + skip, n);
		done += n;
		skip = 0;
	}
	return done;
}

/* anon_inode_getfile(): every anonymous file shares one inode. */
#define ANON_INO 1
#define ANON_DEV makedev(0, 16)

int anon_file_new(const struct file_ops *ops, void *priv, unsigned int flags,
		  struct file **out)
{
	struct file *f;
	int r = vfs_file_alloc(&f);

	if (r < 0)
		return r;
	f->ops = ops;
	f->priv = priv;
	/* O_RDWR plus the status flags asked for; O_CLOEXEC lives in the
	 * fd table (F_GETFL shows 0x802 for EFD_NONBLOCK|EFD_CLOEXEC). */
	f->flags = O_RDWR | (flags & O_NONBLOCK);
	f->fmode = FMODE_READ | FMODE_WRITE | FMODE_STREAM;
	*out = f;
	return 0;
}

int anon_fstat(struct file *f, struct stat *st)
{
	(void)f;
	memset(st, 0, sizeof(*st));
	st->st_dev = ANON_DEV;
	st->st_ino = ANON_INO;
	st->st_mode = S_IRUSR | S_IWUSR;
	st->st_nlink = 1;
	st->st_blksize = 4096;
	return 0;
}

/* noop_llseek(): succeeds and leaves the position (0) alone. */
int64_t anon_noop_llseek(struct file *f, int64_t off, int whence)
{
	(void)off;
	(void)whence;
	return f->pos;
}

void ipc_waitset_init(struct ipc_waitset *ws)
{
	memset(ws, 0, sizeof(*ws));
	ws->expire_ns = INT64_MAX;
}

void ipc_waitset_free(struct ipc_waitset *ws)
{
	free(ws->host);
	ws->host = NULL;
	ws->nhost = ws->cap = 0;
}

int ipc_waitset_note(struct ipc_waitset *ws, const struct poll_table *pt,
		     uint32_t events)
{
	if (pt->repoll)
		ws->repoll = true;
	if (pt->expire_ns < ws->expire_ns)
		ws->expire_ns = pt->expire_ns;
	if (pt->hostfd < 0) {
		ws->sentry = true;
		return 0;
	}
	if (ws->nhost == ws->cap) {
		int ncap = ws->cap ? ws->cap * 2 : 8;
		struct pollfd *n = realloc(ws->host, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		ws->host = n;
		ws->cap = ncap;
	}
	ws->host[ws->nhost].fd = pt->hostfd;
	/* The host reports ERR/HUP whatever is asked. */
	ws->host[ws->nhost].events =
		(short)(events & (POLLIN | POLLPRI | POLLOUT | POLLRDHUP |
				  POLLRDNORM | POLLWRNORM));
	ws->host[ws->nhost].revents = 0;
	ws->nhost++;
	return 0;
}

static void ns_to_ts(int64_t ns, struct timespec *ts)
{
	ts->tv_sec = ns / 1000000000LL;
	ts->tv_nsec = ns % 1000000000LL;
}

static int host_wait(struct task *t, const struct ipc_waitset *ws,
		     int64_t rel_ns)
{
	struct timespec ts;
	int r, e;

	if (signal_pending(t))
		return -EINTR;
	ns_to_ts(rel_ns, &ts);
	if (signal_host_block_begin)
		signal_host_block_begin(t);
	r = ppoll(ws->host, (nfds_t)ws->nhost, &ts, NULL);
	e = errno;
	if (signal_host_block_end)
		signal_host_block_end(t);
	if (r < 0 && e == EINTR && signal_pending(t))
		return -EINTR;
	return 0;
}

int ipc_block(struct task *t, int64_t deadline_ns,
	      const struct ipc_waitset *ws)
{
	int64_t now = (int64_t)util_now_ns();
	int64_t until = deadline_ns < 0 ? INT64_MAX : deadline_ns;
	struct timespec ts;
	int r;

	if (deadline_ns >= 0 && now >= deadline_ns)
		return -ETIMEDOUT;
	if (ws) {
		if (ws->expire_ns < until)
			until = ws->expire_ns;
		if (ws->repoll)
			until = MIN(until, now + REPOLL_NS);
		if (ws->nhost && !ws->sentry) {
			until = MIN(until, now + HOST_SLICE_NS);
			r = host_wait(t, ws, MAX(until - now, 0));
			goto out;
		}
		if (ws->nhost)
			until = MIN(until, now + MIXED_SLICE_NS);
	}
	if (until == INT64_MAX) {
		r = task_block(t, NULL);
	} else {
		ns_to_ts(MAX(until, 0), &ts);
		r = task_block(t, &ts);
	}
out:
	if (r == -EINTR)
		return -EINTR;
	if (deadline_ns >= 0 && (int64_t)util_now_ns() >= deadline_ns)
		return -ETIMEDOUT;
	return 0;
}

int ipc_block_simple(struct task *t)
{
	if (!t) {
		/* No task known for this thread (see ipc_current): poll the
		 * object again shortly rather than sleep without a waker. */
		struct timespec ts = { 0, 2 * 1000000 };

		nanosleep(&ts, NULL);
		return 0;
	}
	return task_block(t, NULL) == -EINTR ? -ERESTARTSYS : 0;
}

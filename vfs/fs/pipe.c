// SPDX-License-Identifier: GPL-2.0
/*
 * Pipes (fs/pipe.c, pipe(7)).
 *
 * A pipe is a ring of page-sized buffers, 16 by default (65536 bytes). A
 * write first tops up the last buffer with the part of itself that is not
 * a whole page, if that part fits (so writes of at most PIPE_BUF are never
 * split); the rest goes into fresh pages, one per slot. Reads drain from
 * the oldest buffer. O_DIRECT writes make packets: each write fills its own
 * buffers and a read returns at most one packet, the rest of it discarded.
 * F_SETPIPE_SZ resizes the ring (power-of-two pages, EBUSY below the data,
 * EPERM above PIPE_MAX_SIZE: the sentry keeps that cap even for root).
 *
 * Blocking: one wait queue per pipe; readers wait for EPOLLIN, writers for
 * EPOLLOUT, and every change wakes with the events that became true (each
 * write wakes readers, as Linux does when the pipe is polled, so edge-
 * triggered epoll sees every write). Interrupted waits return -ERESTARTSYS.
 *
 * Locks: pipe->lock (leaf except for waitq locks: waitq_add/remove may be
 * called under it; wakes happen after it is dropped). References: each end's
 * file holds the pipe (refs); the last release frees it. Epoll items on a
 * pipe end are unhooked by epoll_release_file() from that end's release.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>

#include "cvisor/signal.h"
#include "cvisor/task.h"
#include "cvisor/waitq.h"
#include "../vfs_impl.h"

#define PIPE_BUF_SIZE 4096	/* PIPE_BUF: atomic writes up to this */
#define PIPEFS_DEV makedev(0, 15)

#ifndef F_SETPIPE_SZ
#define F_SETPIPE_SZ 1031
#define F_GETPIPE_SZ 1032
#endif

struct pipe_buf {
	char *page;
	uint32_t off, len;
	bool packet;	/* O_DIRECT write: one read takes it whole */
};

struct pipe {
	pthread_mutex_t lock;
	struct waitq wq;
	struct pipe_buf *bufs;
	unsigned int nslots;	/* ring size and usable slots (power of 2) */
	unsigned int head, tail; /* free-running; slot = n & (nslots - 1) */
	int readers, writers;	/* open ends */
	int refs;		/* files */
	/* FIFOs: the inode's slot for this pipe and the lock guarding it
	 * (taken before pipe->lock); counters of opens of each end, for
	 * the blocking open rule of fifo(7). */
	struct pipe **slot;
	pthread_mutex_t *slot_lock;
	unsigned int r_counter, w_counter;
	char *spare;		/* one freed page kept for the next write */
	/* fstat */
	uint64_t ino;
	uid_t uid;
	gid_t gid;
	struct timespec atime, mtime, ctime;
};

/* pipefs inode numbers: unique per sentry (one sandbox per process). */
static _Atomic uint64_t pipe_next_ino = 1;

static inline unsigned int occupancy(const struct pipe *p)
{
	return p->head - p->tail;
}

static inline struct pipe_buf *slot(struct pipe *p, unsigned int n)
{
	return &p->bufs[n & (p->nslots - 1)];
}

static char *page_get(struct pipe *p)
{
	char *pg = p->spare;

	if (pg) {
		p->spare = NULL;
		return pg;
	}
	return malloc(PAGE_SIZE);
}

static void page_put(struct pipe *p, char *pg)
{
	if (!p->spare)
		p->spare = pg;
	else
		free(pg);
}

static size_t bytes_queued(struct pipe *p)
{
	size_t n = 0;

	for (unsigned int i = p->tail; i != p->head; i++)
		n += slot(p, i)->len;
	return n;
}

static void pipe_free(struct pipe *p)
{
	for (unsigned int i = p->tail; i != p->head; i++)
		free(slot(p, i)->page);
	free(p->spare);
	free(p->bufs);
	waitq_destroy(&p->wq);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static void send_sigpipe(struct task *t)
{
	siginfo_t info;

	if (!t)
		return;
	/* send_sig(SIGPIPE, current, 0): SI_USER from the writer itself. */
	memset(&info, 0, sizeof(info));
	info.si_signo = SIGPIPE;
	info.si_code = SI_USER;
	info.si_pid = t->tgid;
	info.si_uid = t->cred.ruid;
	signal_send_task(t, &info);
}

/* What one step of a pipe wait found (p->lock held). */
enum pipe_step {
	PIPE_DONE,	  /* the step has its result: stop waiting */
	PIPE_BLOCK,	  /* nothing to do yet: block */
	PIPE_BLOCK_WAKE,  /* block, after waking readers (a writer that
			     queued part of its data lets them drain it) */
};

/*
 * Wait on the pipe until step() is done: the one blocking loop of reads,
 * writes, the splice waits and FIFO opens (fs/pipe.c pipe_wait_readable/
 * pipe_wait_writable and the loops of their callers). p->lock is held
 * around every step and on return; it is dropped while blocked. Before the
 * first block the waiter (events of interest: mask) is queued and step
 * runs again, so a wake between its check and the block is never lost.
 * Returns 0 once step is done, -ERESTARTSYS when a signal interrupted the
 * wait (step's partial result stays in its arg).
 */
static int pipe_wait_until(struct pipe *p, uint64_t mask,
			   enum pipe_step (*step)(struct pipe *p, void *arg),
			   void *arg)
{
	struct task *t = ipc_current();
	bool queued = false;
	enum pipe_step st;
	struct waiter w;
	int r = 0;

	waiter_init(&w, t, mask);
	while ((st = step(p, arg)) != PIPE_DONE) {
		if (!queued) {
			waitq_add(&p->wq, &w);
			queued = true;
			continue;	/* recheck with the waiter queued */
		}
		pthread_mutex_unlock(&p->lock);
		if (st == PIPE_BLOCK_WAKE)
			waitq_wake(&p->wq, EPOLLIN | EPOLLRDNORM);
		r = ipc_block_simple(t);
		pthread_mutex_lock(&p->lock);
		if (r < 0)
			break;
	}
	if (queued)
		waitq_remove(&p->wq, &w);
	return r;
}

/* State of one read(2) or write(2) across the steps of its wait. */
struct pipe_io {
	struct file *f;
	const struct iovec *iov;
	int cnt;
	size_t total, done;
	ssize_t ret;
	bool woke;	/* read: freed a slot; write: queued data */
	bool sigpipe;
};

static enum pipe_step read_step(struct pipe *p, void *arg)
{
	struct pipe_io *io = arg;

	while (occupancy(p) && io->done < io->total) {
		struct pipe_buf *b = slot(p, p->tail);
		size_t n = MIN((size_t)b->len, io->total - io->done);

		iov_copy_out(io->iov, io->cnt, io->done, b->page + b->off, n);
		io->done += n;
		b->off += (uint32_t)n;
		b->len -= (uint32_t)n;
		if (b->packet) {
			b->len = 0;
			io->total = io->done; /* one packet per read */
		}
		if (!b->len) {
			page_put(p, b->page);
			b->page = NULL;
			p->tail++;
			io->woke = true;
		}
	}
	if (io->done) {
		io->ret = (ssize_t)io->done;
		return PIPE_DONE;
	}
	if (!p->writers) {
		io->ret = 0;
		return PIPE_DONE;
	}
	if (io->f->flags & O_NONBLOCK) {
		io->ret = -EAGAIN;
		return PIPE_DONE;
	}
	return PIPE_BLOCK;
}

static ssize_t pipe_read(struct file *f, const struct iovec *iov, int cnt,
			 int64_t *off)
{
	struct pipe *p = f->priv;
	struct pipe_io io = { .f = f, .iov = iov, .cnt = cnt,
			      .total = iov_total(iov, cnt) };
	int r;

	(void)off;
	if (!io.total)
		return 0;
	pthread_mutex_lock(&p->lock);
	r = pipe_wait_until(p, EPOLLIN | EPOLLHUP, read_step, &io);
	if (r < 0)
		io.ret = r;	/* nothing read: the step ends on data */
	if (io.done)
		vfs_now(&p->atime);
	pthread_mutex_unlock(&p->lock);
	if (io.woke)
		waitq_wake(&p->wq, EPOLLOUT | EPOLLWRNORM);
	return io.ret;
}

static enum pipe_step write_step(struct pipe *p, void *arg)
{
	struct pipe_io *io = arg;
	bool packet = io->f->flags & O_DIRECT;

	while (io->done < io->total) {
		if (!p->readers) {
			io->sigpipe = true;
			if (!io->done)
				io->ret = -EPIPE;
			return PIPE_DONE;
		}
		if (occupancy(p) < p->nslots) {
			struct pipe_buf *b = slot(p, p->head);
			size_t n = MIN((size_t)PAGE_SIZE, io->total - io->done);
			char *pg = page_get(p);

			if (!pg) {
				if (!io->done)
					io->ret = -ENOMEM;
				return PIPE_DONE;
			}
			iov_copy_in(pg, io->iov, io->cnt, io->done, n);
			b->page = pg;
			b->off = 0;
			b->len = (uint32_t)n;
			b->packet = packet;
			p->head++;
			io->done += n;
			io->woke = true;
			continue;
		}
		if (io->f->flags & O_NONBLOCK) {
			if (!io->done)
				io->ret = -EAGAIN;
			return PIPE_DONE;
		}
		return io->woke ? PIPE_BLOCK_WAKE : PIPE_BLOCK;
	}
	return PIPE_DONE;
}

static ssize_t pipe_write(struct file *f, const struct iovec *iov, int cnt,
			  int64_t *off)
{
	struct pipe *p = f->priv;
	struct pipe_io io = { .f = f, .iov = iov, .cnt = cnt,
			      .total = iov_total(iov, cnt) };
	size_t chars = io.total & (PAGE_SIZE - 1);
	int r;

	(void)off;
	if (!io.total)
		return 0;
	pthread_mutex_lock(&p->lock);
	if (!p->readers) {
		io.sigpipe = true;
		io.ret = -EPIPE;
		goto out;
	}
	/* Top up the last buffer with the sub-page part, if it fits. */
	if (chars && occupancy(p)) {
		struct pipe_buf *b = slot(p, p->head - 1);

		if (!b->packet && b->off + b->len + chars <= PAGE_SIZE) {
			iov_copy_in(b->page + b->off + b->len, iov, cnt, 0,
				    chars);
			b->len += (uint32_t)chars;
			io.done = chars;
			io.woke = true;
		}
	}
	r = pipe_wait_until(p, EPOLLOUT | EPOLLERR, write_step, &io);
	if (r < 0)
		io.ret = r;
	if (io.done) {
		io.ret = (ssize_t)io.done;
		vfs_now(&p->mtime);
		p->ctime = p->mtime;
	}
out:
	pthread_mutex_unlock(&p->lock);
	if (io.woke)
		waitq_wake(&p->wq, EPOLLIN | EPOLLRDNORM);
	if (io.sigpipe)
		send_sigpipe(ipc_current());
	return io.ret;
}

static uint32_t pipe_poll(struct file *f, struct poll_table *pt)
{
	struct pipe *p = f->priv;
	uint32_t mask = 0;

	poll_wait(f, &p->wq, pt);
	pthread_mutex_lock(&p->lock);
	if (f->fmode & FMODE_READ) {
		if (occupancy(p))
			mask |= EPOLLIN | EPOLLRDNORM;
		if (!p->writers)
			mask |= EPOLLHUP;
	}
	if (f->fmode & FMODE_WRITE) {
		if (occupancy(p) < p->nslots)
			mask |= EPOLLOUT | EPOLLWRNORM;
		if (!p->readers)
			mask |= EPOLLERR;
	}
	pthread_mutex_unlock(&p->lock);
	return mask;
}

static long pipe_ioctl(struct file *f, unsigned int cmd, void *arg)
{
	struct pipe *p = f->priv;
	int v;

	switch (cmd) {
	case FIONREAD:
		pthread_mutex_lock(&p->lock);
		v = (int)MIN(bytes_queued(p), (size_t)INT_MAX);
		pthread_mutex_unlock(&p->lock);
		memcpy(arg, &v, sizeof(v));
		return 0;
	default:
		return -ENOTTY;
	}
}

/* round_pipe_size(): pages, rounded up to a power of two; 0 if too big. */
static uint64_t round_pipe_size(uint64_t size)
{
	uint64_t r = PAGE_SIZE;

	if (size > (1ULL << 31))
		return 0;
	while (r < size)
		r <<= 1;
	return r;
}

/* pipe_set_size() + pipe_resize_ring(). Lock held. */
static long pipe_set_size(struct pipe *p, uint64_t arg)
{
	uint64_t size = round_pipe_size(arg);
	unsigned int nslots = (unsigned int)(size >> PAGE_SHIFT);
	struct pipe_buf *nb;
	unsigned int n = occupancy(p);

	if (!nslots)
		return -EINVAL;
	if (nslots > p->nslots && size > PIPE_MAX_SIZE)
		return -EPERM;
	if (nslots < n)
		return -EBUSY;
	nb = calloc(nslots, sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++)
		nb[i] = *slot(p, p->tail + i);
	free(p->bufs);
	p->bufs = nb;
	p->nslots = nslots;
	p->tail = 0;
	p->head = n;
	return (long)(nslots * PAGE_SIZE);
}

static long pipe_fcntl(struct file *f, unsigned int cmd, uint64_t arg)
{
	struct pipe *p = f->priv;
	long r;

	switch (cmd) {
	case F_GETPIPE_SZ:
		pthread_mutex_lock(&p->lock);
		r = (long)(p->nslots * PAGE_SIZE);
		pthread_mutex_unlock(&p->lock);
		return r;
	case F_SETPIPE_SZ:
		pthread_mutex_lock(&p->lock);
		/* The argument is an unsigned int (pipe_fcntl()). */
		r = pipe_set_size(p, (uint32_t)arg);
		pthread_mutex_unlock(&p->lock);
		if (r > 0)
			waitq_wake(&p->wq, EPOLLOUT | EPOLLWRNORM);
		return r;
	default:
		return -EINVAL;
	}
}

static int pipe_fstat(struct file *f, struct stat *st)
{
	struct pipe *p = f->priv;

	if (f->inode) {		/* a FIFO: its own inode */
		vfs_inode_stat(f->inode, st);
		return 0;
	}
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&p->lock);
	st->st_dev = PIPEFS_DEV;
	st->st_ino = p->ino;
	st->st_mode = S_IFIFO | S_IRUSR | S_IWUSR;
	st->st_nlink = 1;
	st->st_uid = p->uid;
	st->st_gid = p->gid;
	st->st_blksize = PIPE_BUF_SIZE;
	st->st_atim = p->atime;
	st->st_mtim = p->mtime;
	st->st_ctim = p->ctime;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static int64_t pipe_llseek(struct file *f, int64_t off, int whence)
{
	(void)f;
	(void)off;
	(void)whence;
	return -ESPIPE;
}

static void pipe_release(struct file *f)
{
	struct pipe *p = f->priv;
	pthread_mutex_t *slot_lock = p->slot_lock;
	bool last;

	epoll_release_file(f, &p->wq);
	if (slot_lock)
		pthread_mutex_lock(slot_lock);
	pthread_mutex_lock(&p->lock);
	if (f->fmode & FMODE_READ)
		p->readers--;
	if (f->fmode & FMODE_WRITE)
		p->writers--;
	last = --p->refs == 0;
	if (last && p->slot)
		*p->slot = NULL;	/* the next open makes a new pipe */
	pthread_mutex_unlock(&p->lock);
	if (slot_lock)
		pthread_mutex_unlock(slot_lock);
	if (last) {
		pipe_free(p);
		return;
	}
	/* pipe_release(): the other end sees HUP (no writers) or ERR (no
	 * readers); blocked readers see EOF, writers EPIPE. */
	waitq_wake(&p->wq, EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM |
				   EPOLLERR | EPOLLHUP);
}

static const struct file_ops pipe_fops = {
	.read = pipe_read,
	.write = pipe_write,
	.llseek = pipe_llseek,
	.ioctl = pipe_ioctl,
	.fstat = pipe_fstat,
	.release = pipe_release,
	.poll = pipe_poll,
	.fcntl = pipe_fcntl,
};

static int pipe_new(struct task *t, struct pipe **out)
{
	struct pipe *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->bufs = calloc(PIPE_DEF_BUFFERS, sizeof(*p->bufs));
	if (!p->bufs) {
		free(p);
		return -ENOMEM;
	}
	p->nslots = PIPE_DEF_BUFFERS;
	pthread_mutex_init(&p->lock, NULL);
	waitq_init(&p->wq);
	p->ino = atomic_fetch_add(&pipe_next_ino, 1);
	if (t) {
		p->uid = t->cred.fsuid;
		p->gid = t->cred.fsgid;
	}
	vfs_now(&p->ctime);
	p->atime = p->mtime = p->ctime;
	*out = p;
	return 0;
}

static int pipe_file(struct pipe *p, unsigned int fmode, unsigned int flags,
		     struct file **out)
{
	struct file *f;
	int r = vfs_file_alloc(&f);

	if (r < 0)
		return r;
	f->ops = &pipe_fops;
	f->priv = p;
	f->fmode = fmode | FMODE_STREAM;
	f->flags = (fmode & FMODE_WRITE ? O_WRONLY : O_RDONLY) |
		   (flags & (O_NONBLOCK | O_DIRECT));
	pthread_mutex_lock(&p->lock);
	p->refs++;
	if (fmode & FMODE_READ)
		p->readers++;
	if (fmode & FMODE_WRITE)
		p->writers++;
	pthread_mutex_unlock(&p->lock);
	*out = f;
	return 0;
}

int pipe_create(struct task *t, unsigned int flags, struct file **rd,
		struct file **wr)
{
	struct pipe *p;
	int r = pipe_new(t, &p);

	if (r < 0)
		return r;
	r = pipe_file(p, FMODE_READ, flags, rd);
	if (r < 0) {
		pipe_free(p);
		return r;
	}
	r = pipe_file(p, FMODE_WRITE, flags, wr);
	if (r < 0) {
		vfs_file_put(*rd);
		return r;
	}
	return 0;
}

static const struct file_ops fifo_undone_fops = { 0 };

struct partner_wait {
	unsigned int *counter;
	unsigned int seen;
};

static enum pipe_step partner_step(struct pipe *p, void *arg)
{
	struct partner_wait *pw = arg;

	(void)p;
	return *pw->counter == pw->seen ? PIPE_BLOCK : PIPE_DONE;
}

/* Wait (p->lock held) until *counter moves from its value now:
 * fifo_open()'s wait_for_partner(). 0 or -ERESTARTSYS. */
static int wait_for_partner(struct pipe *p, unsigned int *counter)
{
	struct partner_wait pw = { counter, *counter };

	return pipe_wait_until(p, ~0ULL, partner_step, &pw);
}

/*
 * Open a FIFO (fs/pipe.c fifo_open()): f is a file being opened on a FIFO
 * inode (f->fmode holds the access mode, f->flags the open flags). The
 * file system keeps one `struct pipe *` per FIFO inode, NULL at first,
 * guarded by slot_lock (the inode's lock: not held by the caller), and
 * calls this from its open op. Opening for read blocks until a writer
 * opens and vice versa, unless O_NONBLOCK (then a write-only open with no
 * reader is ENXIO) or O_RDWR.
 */
int pipe_fifo_open(struct pipe **slot, pthread_mutex_t *slot_lock,
		   struct file *f)
{
	struct pipe *p;
	bool nonblock = f->flags & O_NONBLOCK;
	unsigned int fmode = f->fmode & (FMODE_READ | FMODE_WRITE);
	int r = 0;

	pthread_mutex_lock(slot_lock);
	p = *slot;
	if (!p) {
		r = pipe_new(ipc_current(), &p);
		if (r < 0) {
			pthread_mutex_unlock(slot_lock);
			return r;
		}
		p->slot = slot;
		p->slot_lock = slot_lock;
		*slot = p;
	}
	pthread_mutex_lock(&p->lock);
	if (fmode == FMODE_WRITE && nonblock && !p->readers) {
		if (!p->refs) {
			*slot = NULL;
			pthread_mutex_unlock(&p->lock);
			pthread_mutex_unlock(slot_lock);
			pipe_free(p);
			return -ENXIO;
		}
		r = -ENXIO;
		goto out_unlock;
	}
	p->refs++;
	if (fmode & FMODE_READ) {
		p->readers++;
		p->r_counter++;
	}
	if (fmode & FMODE_WRITE) {
		p->writers++;
		p->w_counter++;
	}
	pthread_mutex_unlock(slot_lock);
	f->ops = &pipe_fops;
	f->priv = p;
	f->fmode = (f->fmode & ~FMODE_PREAD) | FMODE_STREAM;
	waitq_wake(&p->wq, EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM);
	if (fmode == FMODE_READ && !p->writers && !nonblock)
		r = wait_for_partner(p, &p->w_counter);
	else if (fmode == FMODE_WRITE && !p->readers)
		r = wait_for_partner(p, &p->r_counter);
	pthread_mutex_unlock(&p->lock);
	if (r < 0) {
		/* Undo as a release would; the caller must not call
		 * release again (its f->ops is reset). */
		pipe_release(f);
		f->ops = &fifo_undone_fops;
		f->priv = NULL;
	}
	return r;
out_unlock:
	pthread_mutex_unlock(&p->lock);
	pthread_mutex_unlock(slot_lock);
	return r;
}

int vfs_fifo_open(struct inode *ino, struct file *f)
{
	f->fmode &= ~FMODE_FIFO_OPEN;
	return pipe_fifo_open(&ino->fifo, &ino->lock, f);
}

/* ---- splice(2), tee(2), vmsplice(2), sendfile(2) to a pipe ----
 * (sentry/syscalls/sys_splice.c). Linux moves page references between
 * pipes; here the data is copied through a bounded sentry buffer by the
 * caller, and these helpers give it the waits of fs/splice.c
 * (ipipe_prep/opipe_prep/wait_for_space) and a non-consuming read (tee). */

bool pipe_file_is_pipe(const struct file *f)
{
	return f && f->ops == &pipe_fops;
}

bool pipe_files_same(const struct file *a, const struct file *b)
{
	return a->priv == b->priv;
}

/* State of a splice wait. */
struct pipe_splice_wait {
	bool nonblock;
	bool sigpipe;
	ssize_t ret;
};

static enum pipe_step data_step(struct pipe *p, void *arg)
{
	struct pipe_splice_wait *sw = arg;

	if (occupancy(p))
		sw->ret = 1;
	else if (!p->writers)
		sw->ret = 0;
	else if (sw->nonblock)
		sw->ret = -EAGAIN;
	else
		return PIPE_BLOCK;
	return PIPE_DONE;
}

/* Block (unless nonblock) until the pipe holds data: 1 data, 0 empty with
 * no writers (EOF), -EAGAIN, -ERESTARTSYS. */
int pipe_wait_data(struct file *f, bool nonblock)
{
	struct pipe *p = f->priv;
	struct pipe_splice_wait sw = { .nonblock = nonblock };
	int r;

	pthread_mutex_lock(&p->lock);
	r = pipe_wait_until(p, EPOLLIN | EPOLLHUP, data_step, &sw);
	pthread_mutex_unlock(&p->lock);
	return r < 0 ? r : (int)sw.ret;
}

static enum pipe_step space_step(struct pipe *p, void *arg)
{
	struct pipe_splice_wait *sw = arg;

	if (!p->readers) {
		sw->sigpipe = true;
		sw->ret = -EPIPE;
	} else if (occupancy(p) < p->nslots) {
		sw->ret = (ssize_t)(p->nslots - occupancy(p)) * PAGE_SIZE;
	} else if (sw->nonblock) {
		sw->ret = -EAGAIN;
	} else {
		return PIPE_BLOCK;
	}
	return PIPE_DONE;
}

/* Block (unless nonblock) until a slot is free: the free bytes (whole
 * free slots), -EPIPE after SIGPIPE when there is no reader, -EAGAIN,
 * -ERESTARTSYS. */
ssize_t pipe_wait_space(struct file *f, bool nonblock)
{
	struct pipe *p = f->priv;
	struct pipe_splice_wait sw = { .nonblock = nonblock };
	int r;

	pthread_mutex_lock(&p->lock);
	r = pipe_wait_until(p, EPOLLOUT | EPOLLERR, space_step, &sw);
	pthread_mutex_unlock(&p->lock);
	if (sw.sigpipe)
		send_sigpipe(ipc_current());
	return r < 0 ? r : sw.ret;
}

/* Copy up to len queued bytes, from byte skip on, into buf without
 * consuming them; never blocks. A packet (O_DIRECT write) ends the copy. */
size_t pipe_peek(struct file *f, size_t skip, void *buf, size_t len)
{
	struct pipe *p = f->priv;
	size_t done = 0;

	pthread_mutex_lock(&p->lock);
	for (unsigned int i = p->tail; i != p->head && done < len; i++) {
		struct pipe_buf *b = slot(p, i);
		size_t n, k = MIN((size_t)b->len, skip);

		skip -= k;
		if (b->len == k) {
			if (b->packet)
				break;
			continue;
		}
		n = MIN((size_t)b->len - k, len - done);
		memcpy((char *)buf + done, b->page + b->off + k, n);
		done += n;
		if (b->packet)
			break;
	}
	pthread_mutex_unlock(&p->lock);
	return done;
}

/* Drop the first n queued bytes (after a pipe_peek of at least n). */
void pipe_consume(struct file *f, size_t n)
{
	struct pipe *p = f->priv;
	bool freed = false;

	pthread_mutex_lock(&p->lock);
	while (n && occupancy(p)) {
		struct pipe_buf *b = slot(p, p->tail);
		size_t k = MIN((size_t)b->len, n);

		b->off += (uint32_t)k;
		b->len -= (uint32_t)k;
		n -= k;
		if (b->packet)
			b->len = 0;
		if (!b->len) {
			page_put(p, b->page);
			b->page = NULL;
			p->tail++;
			freed = true;
		}
	}
	vfs_now(&p->atime);
	pthread_mutex_unlock(&p->lock);
	if (freed)
		waitq_wake(&p->wq, EPOLLOUT | EPOLLWRNORM);
}

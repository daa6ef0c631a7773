// SPDX-License-Identifier: GPL-2.0
/*
 * Host fd files: the workload's stdio (fds 0, 1, 2) wrap host fds the
 * runtime was given (a tty, a pipe, a log file).
 *
 * The host fd keeps its own offset, shared with whoever else holds it on
 * the host (a shell redirecting to a file with O_APPEND), so these files
 * are FMODE_STREAM: reads and writes use the host position, lseek goes to
 * the host. Only a short list of ioctls passes through, with sizes fixed by
 * the syscall layer.
 *
 * Readiness (poll/select/epoll) asks the host with a zero-timeout poll();
 * the poll op also names the host fd in the poll table so a waiter can
 * sleep in host ppoll() (vfs/anon/anon.c ipc_block: host poll in slices
 * when only host fds are watched, short task_block slices when mixed).
 * Blocking reads and writes wait in the host call itself, bracketed by
 * signal_host_block_begin/end so a signal knocks the thread out
 * (CV_SIG_INTERRUPT); an interrupted call returns -ERESTARTSYS. The
 * workload's O_NONBLOCK lives in f->flags only (the host fd is shared
 * with the host side), so a non-blocking read or write first asks host
 * poll() and returns -EAGAIN when the fd is not ready.
 *
 * Locks: none; the host kernel serialises. Ownership: the file owns
 * f->hostfd (closed by vfs_file_put()) and its struct hostfd (priv: the
 * wait queue epoll items hang on, never woken but on release).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <termios.h>

#include "cvisor/signal.h"
#include "cvisor/task.h"
#include "cvisor/waitq.h"
#include "../vfs_impl.h"

/* From the signals work (weak until it lands). */
extern void signal_host_block_begin(struct task *t) __attribute__((weak));
extern void signal_host_block_end(struct task *t) __attribute__((weak));

struct hostfd {
	struct waitq wq;
};

static bool host_ready(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, 0) > 0;
}

/* One blocking host call; EINTR from a signal for the task becomes
 * -ERESTARTSYS, a stray interrupt is retried. */
static ssize_t host_io(struct file *f, bool write, const struct iovec *iov,
		       int cnt, int64_t *off)
{
	struct task *t = ipc_current();
	ssize_t n;
	int e;

	if ((f->flags & O_NONBLOCK) && !off &&
	    !host_ready(f->hostfd, write ? POLLOUT : POLLIN))
		return -EAGAIN;
	for (;;) {
		if (t && signal_host_block_begin)
			signal_host_block_begin(t);
		if (write)
			n = off ? pwritev(f->hostfd, iov, cnt, *off)
				: writev(f->hostfd, iov, cnt);
		else
			n = off ? preadv(f->hostfd, iov, cnt, *off)
				: readv(f->hostfd, iov, cnt);
		e = errno;
		if (t && signal_host_block_end)
			signal_host_block_end(t);
		if (n >= 0 || e != EINTR)
			break;
		if (!t)
			return -EINTR;
		if (signal_pending(t))
			return -ERESTARTSYS;
	}
	if (n < 0)
		return -e;
	if (off)
		*off += n;
	return n;
}

static ssize_t host_read(struct file *f, const struct iovec *iov, int cnt,
			 int64_t *off)
{
	return host_io(f, false, iov, cnt, off);
}

static ssize_t host_write(struct file *f, const struct iovec *iov, int cnt,
			  int64_t *off)
{
	return host_io(f, true, iov, cnt, off);
}

static uint32_t host_poll(struct file *f, struct poll_table *pt)
{
	struct hostfd *h = f->priv;
	struct pollfd p = { .fd = f->hostfd };

	poll_wait(f, &h->wq, pt);
	if (pt)
		pt->hostfd = f->hostfd;
	if (f->fmode & FMODE_READ)
		p.events |= POLLIN | POLLPRI | POLLRDHUP;
	if (f->fmode & FMODE_WRITE)
		p.events |= POLLOUT;
	if (poll(&p, 1, 0) <= 0)
		return 0;
	/* POLL* and EPOLL* share values for these bits. */
	return (uint32_t)p.revents & (EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLERR |
				      EPOLLHUP | EPOLLRDHUP | EPOLLRDNORM |
				      EPOLLWRNORM);
}

static void host_release(struct file *f)
{
	struct hostfd *h = f->priv;

	epoll_release_file(f, &h->wq);
	waitq_destroy(&h->wq);
	free(h);
}

static int64_t host_llseek(struct file *f, int64_t off, int whence)
{
	off_t r = lseek(f->hostfd, off, whence);

	return r < 0 ? -errno : r;
}

static int host_fstat(struct file *f, struct stat *st)
{
	return fstat(f->hostfd, st) < 0 ? -errno : 0;
}

/* Only requests whose argument is a plain buffer the syscall layer has
 * already sized and copied; anything else is ENOTTY. */
static long host_ioctl(struct file *f, unsigned int cmd, void *arg)
{
	switch (cmd) {
	case TCGETS:
	case TCSETS:
	case TCSETSW:
	case TCSETSF:
	case TIOCGWINSZ:
	case TIOCSWINSZ:
	case TIOCGPGRP:
	case FIONREAD:
		return ioctl(f->hostfd, cmd, arg) < 0 ? -errno : 0;
	default:
		return -ENOTTY;
	}
}

static const struct file_ops host_fops = {
	.read = host_read,
	.write = host_write,
	.llseek = host_llseek,
	.fstat = host_fstat,
	.ioctl = host_ioctl,
	.poll = host_poll,
	.release = host_release,
};

int hostfd_file_new(int hostfd, struct file **out)
{
	struct hostfd *h;
	struct file *f;
	int fl = fcntl(hostfd, F_GETFL);
	int r;

	if (fl < 0)
		return -errno;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	r = vfs_file_alloc(&f);
	if (r < 0) {
		free(h);
		return r;
	}
	waitq_init(&h->wq);
	f->priv = h;
	f->hostfd = hostfd;
	f->ops = &host_fops;
	f->flags = fl & ~O_CLOEXEC;
	f->fmode = FMODE_STREAM;
	switch (fl & O_ACCMODE) {
	case O_RDONLY:
		f->fmode |= FMODE_READ;
		break;
	case O_WRONLY:
		f->fmode |= FMODE_WRITE;
		break;
	case O_RDWR:
		f->fmode |= FMODE_READ | FMODE_WRITE;
		break;
	default:
		break;
	}
	/* pread/pwrite only where the host fd can seek (not pipes, ttys). */
	if (lseek(hostfd, 0, SEEK_CUR) >= 0)
		f->fmode |= FMODE_PREAD;
	*out = f;
	return 0;
}

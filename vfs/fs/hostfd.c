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
 * Locks: none; the host kernel serialises. Ownership: the file owns
 * f->hostfd (closed by vfs_file_put()).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <termios.h>

#include "../vfs_impl.h"

static ssize_t host_read(struct file *f, const struct iovec *iov, int cnt,
			 int64_t *off)
{
	ssize_t n = off ? preadv(f->hostfd, iov, cnt, *off)
			: readv(f->hostfd, iov, cnt);

	if (n < 0)
		return -errno;
	if (off)
		*off += n;
	return n;
}

static ssize_t host_write(struct file *f, const struct iovec *iov, int cnt,
			  int64_t *off)
{
	ssize_t n = off ? pwritev(f->hostfd, iov, cnt, *off)
			: writev(f->hostfd, iov, cnt);

	if (n < 0)
		return -errno;
	if (off)
		*off += n;
	return n;
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
};

int hostfd_file_new(int hostfd, struct file **out)
{
	struct file *f;
	int fl = fcntl(hostfd, F_GETFL);
	int r;

	if (fl < 0)
		return -errno;
	r = vfs_file_alloc(&f);
	if (r < 0)
		return r;
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

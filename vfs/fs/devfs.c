// SPDX-License-Identifier: GPL-2.0
/*
 * devfs: /dev as a tmpfs holding the memory devices of drivers/char/mem.c
 * (null, zero, full, random, urandom, kmsg) and the usual symlinks.
 *
 * Locks: the memory devices are stateless; a /dev/kmsg file has its own
 * position lock (struct kmsg_file), taken around the syslog ring's lock.
 * Population runs at vfs_new() before anything else can see the tree.
 *
 * Ownership: the nodes are ordinary tmpfs inodes; only their file_ops are
 * defined here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/sysmacros.h>

#include "cvisor/syslog.h"
#include "cvisor/waitq.h"
#include "../vfs_impl.h"

static ssize_t devfs_iov_len(const struct iovec *iov, int cnt)
{
	size_t total = 0;

	for (int i = 0; i < cnt; i++)
		total += iov[i].iov_len;
	return (ssize_t)total;
}

static ssize_t null_read(struct file *f UNUSED, const struct iovec *iov UNUSED,
			 int cnt UNUSED, int64_t *off UNUSED)
{
	return 0;
}

static ssize_t null_write(struct file *f UNUSED, const struct iovec *iov,
			  int cnt, int64_t *off UNUSED)
{
	return devfs_iov_len(iov, cnt);
}

static ssize_t zero_read(struct file *f UNUSED, const struct iovec *iov,
			 int cnt, int64_t *off UNUSED)
{
	for (int i = 0; i < cnt; i++)
		memset(iov[i].iov_base, 0, iov[i].iov_len);
	return devfs_iov_len(iov, cnt);
}

static ssize_t full_write(struct file *f UNUSED, const struct iovec *iov UNUSED,
			  int cnt UNUSED, int64_t *off UNUSED)
{
	return -ENOSPC;
}

static ssize_t random_read(struct file *f UNUSED, const struct iovec *iov,
			   int cnt, int64_t *off UNUSED)
{
	ssize_t done = 0;

	for (int i = 0; i < cnt; i++) {
		size_t got = 0;

		while (got < iov[i].iov_len) {
			ssize_t n = getrandom((char *)iov[i].iov_base + got,
					      iov[i].iov_len - got, 0);
			if (n < 0)
				return done ? done : -errno;
			got += n;
			done += n;
		}
	}
	return done;
}

static ssize_t null_read_nodata(struct file *f UNUSED, size_t len UNUSED)
{
	return 0;
}

static ssize_t null_write_nodata(struct file *f UNUSED, size_t len)
{
	return (ssize_t)len;
}

static ssize_t full_write_nodata(struct file *f UNUSED, size_t len UNUSED)
{
	return -ENOSPC;
}

/* The memory devices ignore the position: lseek "succeeds" at 0
 * (null_lseek()). */
static int64_t null_llseek(struct file *f, int64_t off UNUSED,
			   int whence UNUSED)
{
	pthread_mutex_lock(&f->pos_lock);
	f->pos = 0;
	pthread_mutex_unlock(&f->pos_lock);
	return 0;
}

static const struct file_ops null_fops = {
	.read = null_read, .write = null_write, .llseek = null_llseek,
	.read_nodata = null_read_nodata, .write_nodata = null_write_nodata,
};
static const struct file_ops zero_fops = {
	.read = zero_read, .write = null_write, .llseek = null_llseek,
	.write_nodata = null_write_nodata,
};
static const struct file_ops full_fops = {
	.read = zero_read, .write = full_write, .llseek = null_llseek,
	.write_nodata = full_write_nodata,
};
static const struct file_ops random_fops = {
	.read = random_read, .write = null_write, .llseek = null_llseek,
};

/* The memory devices (drivers/char/mem.c), major 1. */
static const struct {
	const char *name;
	unsigned int minor;
	const struct file_ops *fops;
} mem[] = {
	{ "null", 3, &null_fops },   { "zero", 5, &zero_fops },
	{ "full", 7, &full_fops },   { "random", 8, &random_fops },
	{ "urandom", 9, &random_fops },
};

/* The driver of a character device number, for mknod(2) and device nodes
 * in the image; NULL when the sandbox has none. */
const struct file_ops *devfs_driver(dev_t rdev)
{
	if (major(rdev) != 1)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(mem); i++)
		if (minor(rdev) == mem[i].minor)
			return mem[i].fops;
	return NULL;
}

/*
 * /dev/kmsg (Documentation/ABI/testing/dev-kmsg, devkmsg_* in
 * kernel/printk/printk.c) over the sentry's syslog ring: each read returns
 * one record "prio,seq,usec,-;text\n" (EINVAL if the buffer is too small,
 * EPIPE once if records were overwritten under the reader, EAGAIN at the
 * end with O_NONBLOCK, else it waits); each write adds one record; lseek
 * takes offset 0 with SEEK_SET/SEEK_DATA (the oldest record: the ring has
 * no separate clear point) or SEEK_END.
 */
#define KMSG_REC_MAX 8192	/* CONSOLE_EXT_LOG_MAX */

struct kmsg_file {
	pthread_mutex_t lock;
	struct kernel *k;
	uint64_t seq;
};

static ssize_t kmsg_read(struct file *f, const struct iovec *iov, int cnt,
			 int64_t *off UNUSED)
{
	struct kmsg_file *kf = f->priv;
	struct waitq *wq = syslog_kmsg_waitq(kf->k);
	size_t len = iov_total(iov, cnt);
	char *buf = malloc(KMSG_REC_MAX);
	struct task *t = NULL;
	struct waiter w;
	bool waiting = false;
	long r;

	if (!buf || !wq) {
		free(buf);
		return -ENOMEM;
	}
	for (;;) {
		pthread_mutex_lock(&kf->lock);
		r = syslog_kmsg_read(kf->k, &kf->seq, buf,
				     MIN(len, (size_t)KMSG_REC_MAX));
		pthread_mutex_unlock(&kf->lock);
		if (r != -EAGAIN || (f->flags & O_NONBLOCK))
			break;
		if (!waiting) {
			/* Queue first, then look again: no lost wake-up. */
			t = ipc_current();
			waiter_init(&w, t, ~0ULL);
			waitq_add(wq, &w);
			waiting = true;
			continue;
		}
		r = ipc_block_simple(t);
		if (r < 0)
			break;
	}
	if (waiting)
		waitq_remove(wq, &w);
	if (r > 0)
		iov_copy_out(iov, cnt, 0, buf, (size_t)r);
	free(buf);
	return r;
}

static ssize_t kmsg_write(struct file *f, const struct iovec *iov, int cnt,
			  int64_t *off UNUSED)
{
	struct kmsg_file *kf = f->priv;
	size_t len = iov_total(iov, cnt);
	char buf[1024];

	if (len > sizeof(buf))
		return -EINVAL; /* LOG_LINE_MAX: syslog_kmsg_write says so */
	iov_copy_in(buf, iov, cnt, 0, len);
	return syslog_kmsg_write(kf->k, buf, len);
}

static int64_t kmsg_llseek(struct file *f, int64_t off, int whence)
{
	struct kmsg_file *kf = f->priv;
	uint64_t seq;
	int r;

	if (off)
		return -ESPIPE;
	if (whence != SEEK_SET && whence != SEEK_DATA && whence != SEEK_END)
		return -EINVAL;
	r = syslog_kmsg_seq(kf->k, whence == SEEK_END, &seq);
	if (r < 0)
		return r;
	pthread_mutex_lock(&kf->lock);
	kf->seq = seq;
	pthread_mutex_unlock(&kf->lock);
	return 0;
}

static uint32_t kmsg_poll(struct file *f, struct poll_table *pt)
{
	struct kmsg_file *kf = f->priv;
	struct waitq *wq = syslog_kmsg_waitq(kf->k);
	uint64_t first, next, seq;

	if (!wq)
		return EPOLLERR;
	poll_wait(f, wq, pt);
	if (syslog_kmsg_seq(kf->k, false, &first) < 0 ||
	    syslog_kmsg_seq(kf->k, true, &next) < 0)
		return EPOLLERR;
	pthread_mutex_lock(&kf->lock);
	seq = kf->seq;
	pthread_mutex_unlock(&kf->lock);
	if (seq < first)
		return EPOLLIN | EPOLLRDNORM | EPOLLERR | EPOLLPRI;
	return seq < next ? EPOLLIN | EPOLLRDNORM : 0;
}

static void kmsg_release(struct file *f)
{
	struct kmsg_file *kf = f->priv;
	struct waitq *wq = syslog_kmsg_waitq(kf->k);

	if (wq)
		epoll_release_file(f, wq);
	pthread_mutex_destroy(&kf->lock);
	free(kf);
}

static const struct file_ops kmsg_fops = {
	.read = kmsg_read,
	.write = kmsg_write,
	.llseek = kmsg_llseek,
	.poll = kmsg_poll,
	.release = kmsg_release,
};

static int kmsg_open(struct inode *ino UNUSED, struct file *f)
{
	struct kernel *k = proc_kernel();
	struct kmsg_file *kf;
	int r;

	if (!k)
		return -ENXIO;
	kf = calloc(1, sizeof(*kf));
	if (!kf)
		return -ENOMEM;
	kf->k = k;
	r = syslog_kmsg_seq(k, false, &kf->seq);
	if (r < 0) {
		free(kf);
		return r;
	}
	pthread_mutex_init(&kf->lock, NULL);
	f->priv = kf;
	f->ops = &kmsg_fops;
	return 0;
}

static const struct inode_ops kmsg_iops = { .open = kmsg_open };

/* Terminals (vfs/fs/tty.c): /dev/tty is the caller's controlling terminal
 * (tty(4): ENXIO without one); /dev/console is that terminal too, or else
 * an alias of the sandbox's own standard output (the host stdio file).
 * Both are resolved at open, hence their own inode_ops. */
static const struct inode_ops devtty_iops = { .open = tty_open_current };
static const struct inode_ops console_iops = { .open = tty_open_console };

static int devfs_add_tty(struct dentry *root, const char *name, dev_t rdev,
			 mode_t mode, const struct inode_ops *iops)
{
	struct dentry *d;
	int r = tmpfs_add_node(root, name, S_IFCHR | mode, rdev, NULL, &d);

	if (r == 0)
		d->inode->iops = iops;
	return r;
}

int devfs_populate(struct dentry *root)
{
	static const char *const links[][2] = {
		{ "stdin", "/proc/self/fd/0" },
		{ "stdout", "/proc/self/fd/1" },
		{ "stderr", "/proc/self/fd/2" },
		{ "fd", "/proc/self/fd" },
		{ "ptmx", "pts/ptmx" },
	};
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(mem); i++) {
		r = tmpfs_add_node(root, mem[i].name, S_IFCHR | 0666,
				   makedev(1, mem[i].minor), mem[i].fops, NULL);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		r = tmpfs_add_symlink(root, links[i][0], links[i][1]);
		if (r < 0)
			return r;
	}
	r = devfs_add_tty(root, "tty", makedev(5, 0), 0666, &devtty_iops);
	if (r == 0)
		r = devfs_add_tty(root, "kmsg", makedev(1, 11), 0644,
				  &kmsg_iops);
	if (r == 0)
		r = devfs_add_tty(root, "console", makedev(5, 1), 0600,
				  &console_iops);
	if (r < 0)
		return r;
	/* Empty directories programs expect (POSIX shm, ptys: devpts.c
	 * mounts on pts). */
	r = tmpfs_add_node(root, "shm", S_IFDIR | 01777, 0, NULL, NULL);
	if (r == 0)
		r = tmpfs_add_node(root, "pts", S_IFDIR | 0755, 0, NULL, NULL);
	return r;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * devfs: /dev as a tmpfs holding the memory devices of drivers/char/mem.c
 * (null, zero, full, random, urandom) and the usual symlinks.
 *
 * Locks: none of its own; the devices are stateless. Population runs at
 * vfs_new() before anything else can see the tree.
 *
 * Ownership: the nodes are ordinary tmpfs inodes; only their file_ops are
 * defined here.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sysmacros.h>

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

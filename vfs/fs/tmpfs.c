// SPDX-License-Identifier: GPL-2.0
/*
 * tmpfs: a read-write file system in sentry memory (mounted at /tmp, and
 * the base of devfs). The dentry tree is the directory: there is no lookup
 * op, a name not in the tree does not exist.
 *
 * Locks: creation runs under vfs->lock (held by the caller). File data and
 * size are guarded by inode->lock; readers and writers take only that (the
 * caller holds file->pos_lock outside it).
 *
 * Ownership: an inode owns its struct tmpfs_data (file bytes, link target);
 * bytes are accounted in sb->bytes_used against sb->bytes_max (ENOSPC).
 * Invariant: bytes in [size, cap) are zero, so extending is just a size
 * change.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "cvisor/task.h"
#include "../vfs_impl.h"

#define TMPFS_MAX_BYTES (512LL << 20)

struct tmpfs_data {
	char *buf;
	size_t cap;
	char *link;
	size_t linklen;
};

static const struct inode_ops tmpfs_iops;

static void tmpfs_inode_free(struct inode *ino)
{
	struct tmpfs_data *td = ino->priv;

	if (!td)
		return;
	atomic_fetch_sub(&ino->sb->bytes_used, (int64_t)td->cap);
	free(td->buf);
	free(td->link);
	free(td);
}

static struct inode *tmpfs_inode(struct super_block *sb, mode_t mode)
{
	struct inode *ino = vfs_inode_new(sb, mode);

	if (!ino)
		return NULL;
	ino->priv = calloc(1, sizeof(struct tmpfs_data));
	if (!ino->priv) {
		pthread_mutex_destroy(&ino->lock);
		free(ino);
		return NULL;
	}
	ino->iops = &tmpfs_iops;
	return ino;
}

/* Grow the buffer to hold `size` bytes (inode->lock held). */
static int tmpfs_reserve(struct inode *ino, int64_t size)
{
	struct tmpfs_data *td = ino->priv;
	size_t ncap;
	char *nb;

	if (size <= (int64_t)td->cap)
		return 0;
	if (size > ino->sb->bytes_max)
		return -EFBIG;
	ncap = td->cap ? td->cap : 4096;
	while ((int64_t)ncap < size)
		ncap *= 2;
	if (atomic_fetch_add(&ino->sb->bytes_used, (int64_t)(ncap - td->cap)) +
		    (int64_t)(ncap - td->cap) > ino->sb->bytes_max) {
		atomic_fetch_sub(&ino->sb->bytes_used, (int64_t)(ncap - td->cap));
		return -ENOSPC;
	}
	nb = realloc(td->buf, ncap);
	if (!nb) {
		atomic_fetch_sub(&ino->sb->bytes_used, (int64_t)(ncap - td->cap));
		return -ENOMEM;
	}
	memset(nb + td->cap, 0, ncap - td->cap);
	td->buf = nb;
	td->cap = ncap;
	return 0;
}

static ssize_t tmpfs_read(struct file *f, const struct iovec *iov, int cnt,
			  int64_t *off)
{
	struct inode *ino = f->inode;
	struct tmpfs_data *td = ino->priv;
	int64_t pos = *off;
	ssize_t done = 0;

	pthread_mutex_lock(&ino->lock);
	for (int i = 0; i < cnt && pos < ino->size; i++) {
		size_t n = MIN((uint64_t)iov[i].iov_len,
			       (uint64_t)(ino->size - pos));

		memcpy(iov[i].iov_base, td->buf + pos, n);
		pos += n;
		done += n;
	}
	vfs_now(&ino->atime);
	pthread_mutex_unlock(&ino->lock);
	*off = pos;
	return done;
}

static ssize_t tmpfs_write(struct file *f, const struct iovec *iov, int cnt,
			   int64_t *off)
{
	struct inode *ino = f->inode;
	struct tmpfs_data *td = ino->priv;
	size_t total = 0;
	int64_t pos, end;
	int r;

	for (int i = 0; i < cnt; i++)
		total += iov[i].iov_len;
	pthread_mutex_lock(&ino->lock);
	/* O_APPEND: the offset is the size at the time of the write, under
	 * the inode lock (generic_write_checks()); pwrite too, as Linux. */
	pos = (f->flags & O_APPEND) ? ino->size : *off;
	if (__builtin_add_overflow(pos, (int64_t)total, &end)) {
		r = -EFBIG;
		goto out;
	}
	r = tmpfs_reserve(ino, end);
	if (r < 0)
		goto out;
	for (int i = 0; i < cnt; i++) {
		memcpy(td->buf + pos, iov[i].iov_base, iov[i].iov_len);
		pos += iov[i].iov_len;
	}
	if (end > ino->size)
		ino->size = end;
	vfs_now(&ino->mtime);
	ino->ctime = ino->mtime;
	*off = pos;
out:
	pthread_mutex_unlock(&ino->lock);
	return r < 0 ? r : (ssize_t)total;
}

static int tmpfs_truncate(struct inode *ino, int64_t size)
{
	struct tmpfs_data *td = ino->priv;
	int r = 0;

	if (size < 0)
		return -EINVAL;
	pthread_mutex_lock(&ino->lock);
	if (size < ino->size)
		memset(td->buf + size, 0, ino->size - size);
	else
		r = tmpfs_reserve(ino, size);
	if (r == 0) {
		ino->size = size;
		vfs_now(&ino->mtime);
		ino->ctime = ino->mtime;
	}
	pthread_mutex_unlock(&ino->lock);
	return r;
}

static const struct file_ops tmpfs_file_ops = {
	.read = tmpfs_read,
	.write = tmpfs_write,
};

static const struct file_ops tmpfs_dir_ops = {
	.iterate = vfs_dcache_iterate,
};

static int tmpfs_open(struct inode *ino, struct file *f)
{
	if (S_ISDIR(ino->mode))
		f->ops = &tmpfs_dir_ops;
	else if (S_ISREG(ino->mode))
		f->ops = &tmpfs_file_ops;
	else if (ino->fops)
		f->ops = ino->fops;	/* devfs device */
	else
		return -ENXIO;		/* a node with no driver */
	return 0;
}

static int tmpfs_readlink(struct inode *ino, char *buf, size_t len)
{
	struct tmpfs_data *td = ino->priv;
	size_t n = MIN(len, td->linklen);

	memcpy(buf, td->link, n);
	return (int)n;
}

static int tmpfs_create(struct inode *dir, mode_t mode,
			const struct cred *cred, struct inode **out)
{
	struct inode *ino = tmpfs_inode(dir->sb, mode);

	if (!ino)
		return -ENOMEM;
	ino->uid = cred->fsuid;
	/* setgid directories pass their group on (inode_init_owner()). */
	ino->gid = (dir->mode & S_ISGID) ? dir->gid : cred->fsgid;
	pthread_mutex_lock(&dir->lock);
	vfs_now(&dir->mtime);
	dir->ctime = dir->mtime;
	pthread_mutex_unlock(&dir->lock);
	*out = ino;
	return 0;
}

static const struct inode_ops tmpfs_iops = {
	.create = tmpfs_create,
	.readlink = tmpfs_readlink,
	.open = tmpfs_open,
	.truncate = tmpfs_truncate,
};

int tmpfs_new(struct vfs *vfs, enum fs_kind kind, const char *name,
	      mode_t root_mode, struct super_block **sbp, struct dentry **root)
{
	struct super_block *sb = vfs_sb_new(vfs, kind, name, false);
	struct inode *ino;

	if (!sb)
		return -ENOMEM;
	sb->bytes_max = TMPFS_MAX_BYTES;
	sb->inode_free = tmpfs_inode_free;
	ino = tmpfs_inode(sb, root_mode);
	if (!ino)
		return -ENOMEM;
	*root = vfs_dentry_add(NULL, "/", 1, ino);
	if (!*root) {
		tmpfs_inode_free(ino);
		free(ino);
		return -ENOMEM;
	}
	*sbp = sb;
	return 0;
}

int tmpfs_add_node(struct dentry *dir, const char *name, mode_t mode,
		   dev_t rdev, const struct file_ops *fops, struct dentry **out)
{
	struct inode *ino = tmpfs_inode(dir->inode->sb, mode);
	struct dentry *d;

	if (!ino)
		return -ENOMEM;
	ino->rdev = rdev;
	ino->fops = fops;
	d = vfs_dentry_add(dir, name, strlen(name), ino);
	if (!d) {
		tmpfs_inode_free(ino);
		pthread_mutex_destroy(&ino->lock);
		free(ino);
		return -ENOMEM;
	}
	if (S_ISDIR(mode)) {
		pthread_mutex_lock(&dir->inode->lock);
		dir->inode->nlink++;
		pthread_mutex_unlock(&dir->inode->lock);
	}
	if (out)
		*out = d;
	return 0;
}

int tmpfs_add_symlink(struct dentry *dir, const char *name,
		      const char *target)
{
	struct dentry *d;
	struct tmpfs_data *td;
	int r = tmpfs_add_node(dir, name, S_IFLNK | 0777, 0, NULL, &d);

	if (r < 0)
		return r;
	td = d->inode->priv;
	td->link = strdup(target);
	if (!td->link)
		return -ENOMEM;
	td->linklen = strlen(target);
	d->inode->size = (int64_t)td->linklen;
	return 0;
}

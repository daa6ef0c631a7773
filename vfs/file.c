// SPDX-License-Identifier: GPL-2.0
/*
 * Open file descriptions: allocation, reference counting, dispatch to the
 * file system's file_ops, and the generic lseek.
 *
 * Locks: file->pos_lock is held by the syscall layer around one whole
 * read/write/lseek/getdents call on a positional file (f_pos_lock in
 * fs/file.c); vfs_llseek() takes it itself. inode->lock is taken inside it
 * to read the size.
 *
 * References: a file holds no references on its path (the vfs owns
 * dentries); it owns f->hostfd and f->priv, released on the last put.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "cvisor/mm.h"
#include "vfs_impl.h"
#include "fsnotify.h"

static const struct file_ops path_fops = { 0 };

int vfs_file_alloc(struct file **out)
{
	struct file *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	atomic_init(&f->refs, 1);
	pthread_mutex_init(&f->pos_lock, NULL);
	f->hostfd = -1;
	f->ops = &path_fops;
	*out = f;
	return 0;
}

void vfs_file_get(struct file *f)
{
	atomic_fetch_add(&f->refs, 1);
}

void vfs_file_put(struct file *f)
{
	if (!f || atomic_fetch_sub(&f->refs, 1) != 1)
		return;
	fsnotify_close(f);
	if (f->ops->release)
		f->ops->release(f);
	if (f->has_locks)
		vfs_locks_release_file(f);
	if (f->hostfd >= 0)
		close(f->hostfd);
	if (f->path.mnt) {
		vfs_dentry_put(f->path.dentry);
		vfs_mnt_put(f->path.mnt);
	}
	if (f->inode && f->path.mnt)
		vfs_inode_put(f->inode);
	pthread_mutex_destroy(&f->pos_lock);
	free(f);
}

int vfs_file_open_path(const struct path *p, unsigned int flags,
		       struct file **out)
{
	struct inode *ino = p->dentry->inode;
	struct file *f;
	int r = vfs_file_alloc(&f);

	if (r < 0)
		return r;
	f->path = *p;
	f->inode = ino;
	vfs_dentry_get(p->dentry);
	vfs_mnt_get(p->mnt);
	vfs_inode_get(ino);
	/* x86-64 forces O_LARGEFILE (force_o_largefile()), and F_GETFL
	 * shows it; creation-only flags are not kept. */
	f->flags = (flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC |
			      O_CLOEXEC)) | O_LARGEFILE;
	if (flags & O_PATH) {
		f->flags = flags & (O_PATH | O_DIRECTORY | O_NOFOLLOW);
		f->fmode = FMODE_PATH;
		*out = f;
		return 0;
	}
	switch (flags & O_ACCMODE) {
	case O_RDONLY:
		f->fmode = FMODE_READ;
		break;
	case O_WRONLY:
		f->fmode = FMODE_WRITE;
		break;
	case O_RDWR:
		f->fmode = FMODE_READ | FMODE_WRITE;
		break;
	default: /* 3: ioctl-only, as Linux */
		break;
	}
	f->fmode |= FMODE_PREAD;
	if (ino->iops->open) {
		r = ino->iops->open(ino, f);
		if (r < 0) {
			f->ops = &path_fops;
			vfs_file_put(f);
			return r;
		}
	}
	*out = f;
	return 0;
}

ssize_t vfs_read_iov(struct file *f, const struct iovec *iov, int cnt,
		     int64_t *off)
{
	if (!f->ops->read)
		return vfs_file_is_dir(f) ? -EISDIR : -EINVAL;
	return fsnotify_access_ret(f, f->ops->read(f, iov, cnt, off), 1);
}

ssize_t vfs_write_iov(struct file *f, const struct iovec *iov, int cnt,
		      int64_t *off)
{
	if (!f->ops->write)
		return vfs_file_is_dir(f) ? -EISDIR : -EINVAL;
	return fsnotify_modify_ret(f, f->ops->write(f, iov, cnt, off), 1);
}

ssize_t vfs_pread(struct file *f, void *buf, size_t len, uint64_t off)
{
	struct iovec iov = { buf, len };
	int64_t o = (int64_t)off;

	if ((int64_t)off < 0)
		return -EINVAL;
	if (f->fmode & FMODE_STREAM)
		return -ESPIPE;
	return vfs_read_iov(f, &iov, 1, &o);
}

ssize_t vfs_read_frames(struct file *f, struct memfile *mf, uint64_t mfoff,
			size_t len, uint64_t off)
{
	if (!f->ops->read_frames || (int64_t)off < 0)
		return -EOPNOTSUPP;
	return f->ops->read_frames(f, mf, mfoff, len, off);
}

ssize_t vfs_read_iov_frames(struct file *f, struct memfile *mf,
			    const struct iovec *iov, int cnt, int64_t *off)
{
	const uint8_t *base = memfile_ptr(mf, 0);
	ssize_t total = 0;

	if (!f->ops->read_frames || *off < 0)
		return -EOPNOTSUPP;
	for (int i = 0; i < cnt; i++) {
		uint64_t mfoff = (uint64_t)((const uint8_t *)iov[i].iov_base - base);
		ssize_t n = f->ops->read_frames(f, mf, mfoff, iov[i].iov_len,
						(uint64_t)*off);

		if (n < 0) {
			if (total)
				break;
			return n == -EOPNOTSUPP ? n : fsnotify_access_ret(f, n, 1);
		}
		*off += n;
		total += n;
		if ((size_t)n < iov[i].iov_len)
			break;	/* end of file */
	}
	return fsnotify_access_ret(f, total, 1);
}

bool vfs_file_mappable(struct file *f)
{
	return f->ops->get_page != NULL;
}

int vfs_file_get_page(struct file *f, uint64_t pgoff, unsigned int flags,
		      uint64_t *frame)
{
	if (!f->ops->get_page)
		return -ENXIO;
	return f->ops->get_page(f, pgoff, flags, frame);
}

int vfs_file_punch(struct file *f, uint64_t off, uint64_t len)
{
	if (!f->ops->punch)
		return -ENXIO;
	return f->ops->punch(f, off, len);
}

int vfs_fstat(struct file *f, struct stat *st)
{
	if (f->ops->fstat)
		return f->ops->fstat(f, st);
	if (!f->inode)
		return -EBADF;
	vfs_inode_stat(f->inode, st);
	return 0;
}

int vfs_iterate(struct file *f, struct dir_ctx *ctx)
{
	if (!vfs_file_is_dir(f))
		return -ENOTDIR;
	if (!f->ops->iterate)
		return -ENOTDIR;
	return (int)fsnotify_access_ret(f, f->ops->iterate(f, ctx), 0);
}

/* generic_file_llseek() for files, dcache_dir_lseek() for directories
 * (positions there are opaque cookies: only SEEK_SET and SEEK_CUR). */
int64_t vfs_llseek(struct file *f, int64_t off, int whence)
{
	int64_t size, npos;
	int r = 0;

	if (f->ops->llseek)
		return f->ops->llseek(f, off, whence);
	if (f->fmode & FMODE_STREAM)
		return -ESPIPE;
	if (!f->inode)
		return -ESPIPE;

	pthread_mutex_lock(&f->inode->lock);
	size = f->inode->size;
	pthread_mutex_unlock(&f->inode->lock);

	pthread_mutex_lock(&f->pos_lock);
	if (vfs_file_is_dir(f) && whence != SEEK_SET && whence != SEEK_CUR) {
		r = -EINVAL;
		goto out;
	}
	switch (whence) {
	case SEEK_SET:
		npos = off;
		break;
	case SEEK_CUR:
		if (__builtin_add_overflow(f->pos, off, &npos))
			r = -EOVERFLOW;
		break;
	case SEEK_END:
		if (__builtin_add_overflow(size, off, &npos))
			r = -EOVERFLOW;
		break;
	case SEEK_DATA:
		/* No holes are reported: everything before EOF is data. */
		if (off < 0 || off >= size)
			r = -ENXIO;
		npos = off;
		break;
	case SEEK_HOLE:
		if (off < 0 || off >= size)
			r = -ENXIO;
		npos = size;
		break;
	default:
		r = -EINVAL;
		break;
	}
	if (r == 0 && npos < 0)
		r = -EINVAL;
	if (r == 0)
		f->pos = npos;
out:
	pthread_mutex_unlock(&f->pos_lock);
	return r < 0 ? r : npos;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * tmpfs: a read-write file system in sentry memory (mounted at /tmp, and
 * the base of devfs). The dentry tree is the directory: there is no lookup
 * op, a name not in the tree does not exist.
 *
 * File data lives in frames of the sandbox memory file (gVisor's tmpfs
 * keeps it in its MemoryFile the same way): each regular-file inode has a
 * sparse page index, pgoff -> frame offset, and MAP_SHARED mappings map
 * those frames themselves (tmpfs_get_page), so stores through any mapping
 * and read()/write() see one copy of the data, as with Linux's shmem.
 * Holes read as zero; a page is allocated when written, or when a shared
 * mapping faults on it (shmem_fault allocates too).
 *
 * Locks: creation runs under vfs->lock (held by the caller). The page index,
 * the data in its frames (for read/write) and the size are guarded by
 * inode->lock; readers and writers take only that (the caller holds
 * file->pos_lock outside it). The memfile allocator lock nests inside
 * inode->lock. mm->lock is outside inode->lock: mm calls vfs_pread() and
 * vfs_file_get_page() with it held. tmpfs never calls into mm, and
 * read/write copy between frames and sentry iovecs the syscall layer
 * resolved beforehand (mm_iovecs), so no workload fault happens under
 * inode->lock and the whole copy may hold it. Stores through a mapping do
 * not take inode->lock (like the page cache, a racing read may see a
 * partial store).
 *
 * Ownership: an inode owns its struct tmpfs_data: one frame reference per
 * present page of the index, and the link target. A mapping that took a
 * page holds its own frame reference, so the frame outlives a truncate
 * (gap: the mapping keeps the old frame instead of getting SIGBUS). Frames
 * are accounted in sb->bytes_used against sb->bytes_max (ENOSPC); the size
 * is capped at bytes_max as well (EFBIG). Pages go back when the inode is
 * freed: there is no unlink yet, so that is vfs_destroy().
 * Invariant: bytes of the last page beyond the size are zero when the size
 * grows (writes through a mapping may dirty them; they are zeroed again on
 * extension, as Linux's truncate_setsize/pagecache_isize_extended).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "cvisor/mm.h"
#include "cvisor/task.h"
#include "../vfs_impl.h"

#define TMPFS_MAX_BYTES (512LL << 20)
/* Page index entry: frame offset | TMPFS_PRESENT (frame 0 is valid). */
#define TMPFS_PRESENT 1ULL

struct tmpfs_data {
	uint64_t *pages;	/* page index; 0 = hole */
	uint64_t npages;	/* entries in pages[] */
	uint64_t nframes;	/* present entries (frames held) */
	char *link;
	size_t linklen;
};

static const struct inode_ops tmpfs_iops;

static struct memfile *ino_mf(const struct inode *ino)
{
	return ino->sb->vfs->mf;
}

/* Drop the pages at index >= first (inode->lock held, or the inode is
 * private to the caller). */
static void tmpfs_pages_free(struct inode *ino, uint64_t first)
{
	struct tmpfs_data *td = ino->priv;
	uint64_t freed = 0;

	for (uint64_t i = first; i < td->npages; i++) {
		if (!td->pages[i])
			continue;
		memfile_frame_put(ino_mf(ino), td->pages[i] & PAGE_MASK);
		td->pages[i] = 0;
		freed++;
	}
	if (first == 0) {
		free(td->pages);
		td->pages = NULL;
		td->npages = 0;
	}
	td->nframes -= freed;
	ino->blocks = (int64_t)(td->nframes * (PAGE_SIZE / 512));
	atomic_fetch_sub(&ino->sb->bytes_used, (int64_t)(freed * PAGE_SIZE));
}

static void tmpfs_inode_free(struct inode *ino)
{
	struct tmpfs_data *td = ino->priv;

	if (!td)
		return;
	tmpfs_pages_free(ino, 0);
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

/* The frame of page pgoff, allocating it (zeroed) if it is a hole.
 * inode->lock held. Returns the frame offset or -ENOSPC/-ENOMEM. */
static int64_t tmpfs_page_alloc(struct inode *ino, uint64_t pgoff)
{
	struct tmpfs_data *td = ino->priv;
	int64_t off;

	if (pgoff < td->npages && td->pages[pgoff])
		return (int64_t)(td->pages[pgoff] & PAGE_MASK);
	if (pgoff >= td->npages) {
		/* Grow geometrically; the size cap bounds the index
		 * (bytes_max / PAGE_SIZE entries). */
		uint64_t n = MAX(MAX(td->npages * 2, 16), pgoff + 1);
		uint64_t *np = realloc(td->pages, n * sizeof(*np));

		if (!np)
			return -ENOMEM;
		memset(np + td->npages, 0, (n - td->npages) * sizeof(*np));
		td->pages = np;
		td->npages = n;
	}
	if (atomic_fetch_add(&ino->sb->bytes_used, (int64_t)PAGE_SIZE) +
		    (int64_t)PAGE_SIZE > ino->sb->bytes_max) {
		atomic_fetch_sub(&ino->sb->bytes_used, (int64_t)PAGE_SIZE);
		return -ENOSPC;
	}
	off = memfile_alloc(ino_mf(ino));
	if (off < 0) {
		atomic_fetch_sub(&ino->sb->bytes_used, (int64_t)PAGE_SIZE);
		return -ENOMEM;
	}
	td->pages[pgoff] = (uint64_t)off | TMPFS_PRESENT;
	td->nframes++;
	ino->blocks = (int64_t)(td->nframes * (PAGE_SIZE / 512));
	return off;
}

/* Sentry pointer to file byte pos, or NULL in a hole. inode->lock held. */
static char *tmpfs_byte(struct inode *ino, int64_t pos)
{
	struct tmpfs_data *td = ino->priv;
	uint64_t pg = (uint64_t)pos >> PAGE_SHIFT;

	if (pg >= td->npages || !td->pages[pg])
		return NULL;
	return (char *)memfile_ptr(ino_mf(ino), td->pages[pg] & PAGE_MASK) +
	       ((uint64_t)pos & ~PAGE_MASK);
}

/* The size grows from ino->size to at least `to`: zero what a mapping may
 * have stored past the old EOF in its last page. inode->lock held. */
static void tmpfs_zero_tail(struct inode *ino, int64_t to)
{
	int64_t from = ino->size;
	int64_t end = MIN(to, (int64_t)PAGE_ALIGN_UP((uint64_t)from));
	char *p;

	if (end <= from || !(p = tmpfs_byte(ino, from)))
		return;
	memset(p, 0, (size_t)(end - from));
}

static ssize_t tmpfs_read(struct file *f, const struct iovec *iov, int cnt,
			  int64_t *off)
{
	struct inode *ino = f->inode;
	int64_t pos = *off;
	ssize_t done = 0;

	pthread_mutex_lock(&ino->lock);
	for (int i = 0; i < cnt && pos < ino->size; i++) {
		size_t left = MIN((uint64_t)iov[i].iov_len,
				  (uint64_t)(ino->size - pos));
		char *dst = iov[i].iov_base;

		while (left) {
			size_t n = MIN(left, PAGE_SIZE -
						     ((uint64_t)pos & ~PAGE_MASK));
			const char *src = tmpfs_byte(ino, pos);

			if (src)
				memcpy(dst, src, n);
			else
				memset(dst, 0, n);
			dst += n;
			pos += (int64_t)n;
			done += (ssize_t)n;
			left -= n;
		}
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
	size_t total = 0, done = 0;
	int64_t pos;
	int r = 0;

	for (int i = 0; i < cnt; i++)
		total += iov[i].iov_len;
	pthread_mutex_lock(&ino->lock);
	/* O_APPEND: the offset is the size at the time of the write, under
	 * the inode lock (generic_write_checks()); pwrite too, as Linux. */
	pos = (f->flags & O_APPEND) ? ino->size : *off;
	if (pos < 0) {
		r = -EINVAL;
		goto out;
	}
	/* generic_write_check_limits() with s_maxbytes = bytes_max: EFBIG at
	 * the limit, a short write across it. */
	if (pos >= ino->sb->bytes_max) {
		r = total ? -EFBIG : 0;
		goto out;
	}
	total = (size_t)MIN((uint64_t)total, (uint64_t)(ino->sb->bytes_max - pos));
	if (total && pos > ino->size)
		tmpfs_zero_tail(ino, pos);
	/* Page by page, as generic_perform_write: running out of space
	 * after some progress returns the progress. */
	for (int i = 0; i < cnt && done < total; i++) {
		const char *src = iov[i].iov_base;
		size_t left = MIN((size_t)iov[i].iov_len, total - done);

		while (left) {
			size_t n = MIN(left, PAGE_SIZE -
						     ((uint64_t)pos & ~PAGE_MASK));
			int64_t fr = tmpfs_page_alloc(ino,
						      (uint64_t)pos >> PAGE_SHIFT);

			if (fr < 0) {
				r = (int)fr;
				goto stop;
			}
			memcpy((char *)memfile_ptr(ino_mf(ino), (uint64_t)fr) +
				       ((uint64_t)pos & ~PAGE_MASK),
			       src, n);
			src += n;
			pos += (int64_t)n;
			done += n;
			left -= n;
		}
	}
stop:
	if (done) {
		if (pos > ino->size)
			ino->size = pos;
		vfs_now(&ino->mtime);
		ino->ctime = ino->mtime;
		*off = pos;
		r = 0;
	}
out:
	pthread_mutex_unlock(&ino->lock);
	return r < 0 ? r : (ssize_t)done;
}

static int tmpfs_truncate(struct inode *ino, int64_t size)
{
	int r = 0;

	if (size < 0)
		return -EINVAL;
	pthread_mutex_lock(&ino->lock);
	if (size > ino->sb->bytes_max) {
		r = -EFBIG;
	} else if (size < ino->size) {
		/* shmem_setattr -> shmem_truncate_range: whole pages past
		 * the new EOF go, the tail of a partial last page is zeroed
		 * (a hole reads as zero already). */
		char *p = tmpfs_byte(ino, size);

		if (p && ((uint64_t)size & ~PAGE_MASK))
			memset(p, 0, PAGE_SIZE - ((uint64_t)size & ~PAGE_MASK));
		tmpfs_pages_free(ino, PAGE_ALIGN_UP((uint64_t)size) >> PAGE_SHIFT);
	} else {
		/* Growing is sparse: no pages until written. */
		tmpfs_zero_tail(ino, size);
	}
	if (r == 0) {
		ino->size = size;
		vfs_now(&ino->mtime);
		ino->ctime = ino->mtime;
	}
	pthread_mutex_unlock(&ino->lock);
	return r;
}

static int tmpfs_get_page(struct file *f, uint64_t pgoff, unsigned int flags,
			  uint64_t *frame)
{
	struct inode *ino = f->inode;
	struct tmpfs_data *td = ino->priv;
	int64_t off;
	int r = 0;

	pthread_mutex_lock(&ino->lock);
	/* shmem_fault: a page wholly past EOF is VM_FAULT_SIGBUS. */
	if (pgoff >= PAGE_ALIGN_UP((uint64_t)ino->size) >> PAGE_SHIFT) {
		r = -EFAULT;
	} else if ((flags & VFS_PAGE_NOALLOC) &&
		   (pgoff >= td->npages || !td->pages[pgoff])) {
		r = -ENOENT;
	} else {
		off = tmpfs_page_alloc(ino, pgoff);
		if (off < 0) {
			r = (int)off;
		} else {
			/* The index keeps its reference; this one is the
			 * caller's. */
			memfile_frame_get(ino_mf(ino), (uint64_t)off);
			*frame = (uint64_t)off;
		}
	}
	pthread_mutex_unlock(&ino->lock);
	return r;
}

/* shmem_fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE): zero the
 * partial pages at the edges, free the whole pages in between. */
static int tmpfs_punch(struct file *f, uint64_t off, uint64_t len)
{
	struct inode *ino = f->inode;
	struct tmpfs_data *td = ino->priv;
	uint64_t end, first, last, freed = 0;

	if (__builtin_add_overflow(off, len, &end) || (int64_t)off < 0)
		return -EINVAL;
	pthread_mutex_lock(&ino->lock);
	end = MIN(end, PAGE_ALIGN_UP((uint64_t)ino->size));
	first = PAGE_ALIGN_UP(off) >> PAGE_SHIFT;
	last = PAGE_ALIGN_DOWN(end) >> PAGE_SHIFT;
	for (uint64_t pos = off; pos < end && pos < first << PAGE_SHIFT;) {
		uint64_t n = MIN(end, PAGE_ALIGN_UP(pos + 1)) - pos;
		char *p = tmpfs_byte(ino, (int64_t)pos);

		if (p)
			memset(p, 0, n);
		pos += n;
	}
	if (end > off && end & ~PAGE_MASK && last >= first) {
		char *p = tmpfs_byte(ino, (int64_t)PAGE_ALIGN_DOWN(end));

		if (p)
			memset(p, 0, end & ~PAGE_MASK);
	}
	for (uint64_t i = first; i < last && i < td->npages; i++) {
		if (!td->pages[i])
			continue;
		memfile_frame_put(ino_mf(ino), td->pages[i] & PAGE_MASK);
		td->pages[i] = 0;
		freed++;
	}
	td->nframes -= freed;
	ino->blocks = (int64_t)(td->nframes * (PAGE_SIZE / 512));
	atomic_fetch_sub(&ino->sb->bytes_used, (int64_t)(freed * PAGE_SIZE));
	pthread_mutex_unlock(&ino->lock);
	return 0;
}

static const struct file_ops tmpfs_file_ops = {
	.read = tmpfs_read,
	.write = tmpfs_write,
	.get_page = tmpfs_get_page,
	.punch = tmpfs_punch,
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

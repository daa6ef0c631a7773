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
 * freed: with its last link and its last open file (vfs_inode_put).
 *
 * The overlay root (FS_OVERLAY, runsc --overlay2=root:memory) is this file
 * system with a lower layer: each inode may stand for a gofer inode
 * (tmpfs_data.lower). Directories merge the lower listing (ovl_lookup,
 * ovl_iterate); removed names leave whiteouts (negative dentries, see
 * vfs/dirops.c); a directory made here is opaque (no lower). Regular files
 * are read from the gofer's donated read-only fd until their first write,
 * truncate or link copies the data into frames (ovl_copy_up_locked); the
 * inode keeps the lower inode number. Metadata changes never need a copy:
 * attributes live in the sentry inode. The host is never written.
 * Lock order: overlay inode->lock -> gofer inode->lock -> gofer client.
 * Invariant: bytes of the last page beyond the size are zero when the size
 * grows (writes through a mapping may dirty them; they are zeroed again on
 * extension, as Linux's truncate_setsize/pagecache_isize_extended).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <linux/falloc.h>
#include <sys/xattr.h>
#include <sys/uio.h>

#include "cvisor/mm.h"
#include "cvisor/task.h"
#include "../vfs_impl.h"

#define TMPFS_MAX_BYTES (512LL << 20)
/* s_maxbytes: a size= limit below it gives ENOSPC (pages), not EFBIG. */
#define TMPFS_FILE_MAX(sb) MAX((sb)->bytes_max, TMPFS_MAX_BYTES)
/* Page index entry: frame offset | TMPFS_PRESENT (frame 0 is valid). */
#define TMPFS_PRESENT 1ULL

struct tmpfs_xattr {
	struct tmpfs_xattr *next;
	char *name;
	size_t size;
	char value[];
};

struct tmpfs_data {
	uint64_t *pages;	/* page index; 0 = hole */
	uint64_t npages;	/* entries in pages[] */
	uint64_t nframes;	/* present entries (frames held) */
	char *link;
	size_t linklen;
	struct tmpfs_xattr *xattrs; /* inode->lock */
	/* Overlay: the gofer inode this one stands for. Directories keep it
	 * to merge its entries; a regular file drops it once copied up
	 * (inode->lock); a symlink reads its target from it once. */
	struct inode *lower;
};

static const struct inode_ops tmpfs_iops;
static const struct inode_ops ovl_iops;

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
	while (td->xattrs) {
		struct tmpfs_xattr *x = td->xattrs;

		td->xattrs = x->next;
		free(x->name);
		free(x);
	}
	vfs_inode_put(td->lower);
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
	ino->iops = sb->kind == FS_OVERLAY ? &ovl_iops : &tmpfs_iops;
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
	if (pos >= TMPFS_FILE_MAX(ino->sb)) {
		r = total ? -EFBIG : 0;
		goto out;
	}
	total = (size_t)MIN((uint64_t)total, (uint64_t)(TMPFS_FILE_MAX(ino->sb) - pos));
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

static int ovl_copy_up_locked(struct inode *ino, int64_t maxlen);

static int tmpfs_truncate(struct inode *ino, int64_t size)
{
	int r = 0;

	if (size < 0)
		return -EINVAL;
	pthread_mutex_lock(&ino->lock);
	if (((struct tmpfs_data *)ino->priv)->lower && S_ISREG(ino->mode)) {
		/* Overlay: copy up only what survives the truncate. */
		r = ovl_copy_up_locked(ino, size);
		if (r < 0) {
			pthread_mutex_unlock(&ino->lock);
			return r;
		}
	}
	if (size > TMPFS_FILE_MAX(ino->sb)) {
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
static int tmpfs_punch_inode(struct inode *ino, uint64_t off, uint64_t len)
{
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

static int tmpfs_punch(struct file *f, uint64_t off, uint64_t len)
{
	return tmpfs_punch_inode(f->inode, off, len);
}

int tmpfs_fallocate(struct inode *ino, int mode, int64_t off, int64_t len)
{
	int64_t end = off + len;
	int r = 0;

	if (ino->iops->copy_up) {
		r = ino->iops->copy_up(ino);
		if (r < 0)
			return r;
	}
	if (mode & FALLOC_FL_PUNCH_HOLE) {
		r = tmpfs_punch_inode(ino, (uint64_t)off, (uint64_t)len);
	} else {
		pthread_mutex_lock(&ino->lock);
		for (uint64_t pg = (uint64_t)off >> PAGE_SHIFT;
		     pg <= (uint64_t)(end - 1) >> PAGE_SHIFT && r == 0; pg++) {
			int64_t fr = tmpfs_page_alloc(ino, pg);

			if (fr < 0)
				r = (int)fr;
		}
		if (r == 0 && !(mode & FALLOC_FL_KEEP_SIZE) &&
		    end > ino->size) {
			tmpfs_zero_tail(ino, end);
			ino->size = end;
		}
		pthread_mutex_unlock(&ino->lock);
	}
	if (r == 0) {
		pthread_mutex_lock(&ino->lock);
		vfs_now(&ino->ctime);
		pthread_mutex_unlock(&ino->lock);
	}
	return r;
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

/* ---- overlay: lower-only regular files ---- */

/* Read a file that was still lower-only when it was opened: from the
 * donated host fd until it is copied up, then from the upper copy, so every
 * open file sees one file (unlike pre-4.19 overlayfs). */
static ssize_t ovl_lower_read(struct file *f, const struct iovec *iov, int cnt,
			      int64_t *off)
{
	struct inode *ino = f->inode;
	struct tmpfs_data *td = ino->priv;
	bool lower;
	ssize_t n;

	pthread_mutex_lock(&ino->lock);
	lower = td->lower != NULL;
	pthread_mutex_unlock(&ino->lock);
	if (!lower)
		return tmpfs_read(f, iov, cnt, off);
	do
		n = preadv(f->hostfd, iov, cnt, *off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -EIO;
	*off += n;
	return n;
}

/* Pages of a mapping of a lower-only file: host fd -> memory file inside
 * the host kernel (memfile_fill_fd); once copied up, mm reads the upper
 * copy with vfs_pread. inode->lock keeps a copy-up out meanwhile. */
static ssize_t ovl_lower_read_frames(struct file *f, struct memfile *mf,
				     uint64_t mfoff, size_t len, uint64_t off)
{
	struct inode *ino = f->inode;
	struct tmpfs_data *td = ino->priv;
	ssize_t n = -EOPNOTSUPP;

	pthread_mutex_lock(&ino->lock);
	if (td->lower && f->hostfd >= 0)
		n = memfile_fill_fd(mf, mfoff, len, f->hostfd, off);
	pthread_mutex_unlock(&ino->lock);
	return n;
}

static const struct file_ops ovl_lower_fops = {
	.read = ovl_lower_read,
	.read_frames = ovl_lower_read_frames,
};

/* Copy a lower-only regular file's first maxlen bytes into frames of the
 * memory file and forget the lower file (ovl_copy_up_data). The host file
 * is only ever read. inode->lock held. */
static int ovl_copy_up_locked(struct inode *ino, int64_t maxlen)
{
	struct tmpfs_data *td = ino->priv;
	int64_t len = MIN(ino->size, maxlen), pos = 0;
	int fd, r = 0;

	if (!td->lower || !S_ISREG(ino->mode))
		return 0;
	fd = goferfs_open_ro(td->lower);
	if (fd < 0)
		return fd;
	while (pos < len) {
		size_t n = (size_t)MIN(len - pos, (int64_t)PAGE_SIZE);
		int64_t fr = tmpfs_page_alloc(ino, (uint64_t)pos >> PAGE_SHIFT);
		ssize_t got;

		if (fr < 0) {
			r = (int)fr;
			break;
		}
		do
			got = pread(fd, memfile_ptr(ino_mf(ino), (uint64_t)fr), n,
				    pos);
		while (got < 0 && errno == EINTR);
		if (got < 0) {
			r = -EIO;
			break;
		}
		if ((size_t)got < n) {
			/* The file shrank under us: the rest reads as zero. */
			memset((char *)memfile_ptr(ino_mf(ino), (uint64_t)fr) + got,
			       0, n - (size_t)got);
		}
		pos += (int64_t)n;
	}
	close(fd);
	if (r < 0) {
		tmpfs_pages_free(ino, 0);
		return r;
	}
	vfs_inode_put(td->lower);
	td->lower = NULL;
	return 0;
}

static int ovl_copy_up(struct inode *ino)
{
	int r;

	pthread_mutex_lock(&ino->lock);
	r = ovl_copy_up_locked(ino, INT64_MAX);
	pthread_mutex_unlock(&ino->lock);
	return r;
}

static bool ovl_has_lower(struct inode *dir)
{
	struct tmpfs_data *td = dir->priv;

	return S_ISDIR(dir->mode) && td->lower;
}

/* An overlay inode standing for lower inode low (reference taken over):
 * the lower inode number (stable across copy-up), attributes cached. */
static int ovl_wrap(struct super_block *sb, struct inode *low,
		    struct inode **out)
{
	struct inode *ino = tmpfs_inode(sb, low->mode);

	if (!ino) {
		vfs_inode_get(low);
		vfs_inode_put(low);
		return -ENOMEM;
	}
	pthread_mutex_lock(&low->lock);
	ino->ino = low->ino;
	ino->uid = low->uid;
	ino->gid = low->gid;
	ino->nlink = low->nlink;
	ino->rdev = low->rdev;
	ino->size = low->size;
	ino->blocks = low->blocks;
	ino->atime = low->atime;
	ino->mtime = low->mtime;
	ino->ctime = low->ctime;
	pthread_mutex_unlock(&low->lock);
	if (S_ISCHR(ino->mode))
		ino->fops = devfs_driver(ino->rdev);
	vfs_inode_get(low);
	((struct tmpfs_data *)ino->priv)->lower = low;
	*out = ino;
	return 0;
}

static int ovl_lookup(struct inode *dir, const char *name, size_t len,
		      struct inode **out)
{
	struct tmpfs_data *td = dir->priv;
	struct inode *low;
	int r;

	/* A directory made in the upper layer (or over a whiteout) is
	 * opaque: it has no lower. */
	if (!td->lower || !S_ISDIR(dir->mode))
		return -ENOENT;
	r = td->lower->iops->lookup(td->lower, name, len, &low);
	if (r < 0)
		return r;
	return ovl_wrap(dir->sb, low, out);
}

struct ovl_iter {
	struct dir_ctx *ctx;
	struct dentry *dir;
	int64_t index;
	bool full;
};

static unsigned int dtype(mode_t m)
{
	return (m & S_IFMT) >> 12;
}

#define OVL_LOWER_POS (1LL << 40)

static int ovl_iter_one(void *arg, const char *name, size_t len, uint64_t ino,
			unsigned int type)
{
	struct ovl_iter *it = arg;
	int64_t i = it->index++;
	struct dentry *d;

	if (it->full || OVL_LOWER_POS + i < it->ctx->pos)
		return 0;
	d = vfs_dentry_find(it->dir, name, len);
	/* A whiteout hides the name; a name created or renamed in the upper
	 * layer was listed with the directory's own entries. */
	if (d && (!d->inode || !d->from_lookup))
		return 0;
	if (d) {
		ino = d->inode->ino;
		type = dtype(d->inode->mode);
	}
	if (!it->ctx->actor(it->ctx, name, len, ino, type, OVL_LOWER_POS + i + 1))
		it->full = true;
	return 0;
}

/* readdir of a merged directory: ".", "..", the upper entries (created or
 * renamed here) in creation order, then the lower entries that are not
 * whited out (upper wins). Positions stay stable. */
static int ovl_iterate(struct file *f, struct dir_ctx *ctx)
{
	struct inode *dir = f->inode;
	struct tmpfs_data *td = dir->priv;
	struct vfs *vfs = dir->sb->vfs;
	struct dentry *dd = f->path.dentry, *d;
	struct ovl_iter it = { .ctx = ctx, .dir = dd };
	int r = 0;

	pthread_mutex_lock(&vfs->lock);
	if (ctx->pos == 0 && !ctx->actor(ctx, ".", 1, dir->ino, DT_DIR, 1))
		goto out;
	if (ctx->pos == 1 &&
	    !ctx->actor(ctx, "..", 2,
			dd->parent ? dd->parent->inode->ino : dir->ino, DT_DIR, 2))
		goto out;
	if (ctx->pos < OVL_LOWER_POS) {
		list_for_each_entry(d, &dd->children, sibling) {
			if ((int64_t)d->cookie < ctx->pos || !d->inode ||
			    (d->from_lookup && td->lower))
				continue;
			if (!ctx->actor(ctx, d->name, d->namelen, d->inode->ino,
					dtype(d->inode->mode), d->cookie + 1))
				goto out;
		}
		ctx->pos = OVL_LOWER_POS;
	}
	if (td->lower && !dd->dead)
		r = goferfs_list(td->lower, ovl_iter_one, &it);
out:
	pthread_mutex_unlock(&vfs->lock);
	return r;
}

static const struct file_ops ovl_dir_ops = {
	.iterate = ovl_iterate,
};

static int ovl_empty_one(void *arg, const char *name, size_t len,
			 uint64_t ino, unsigned int type)
{
	struct dentry *dir = arg;
	struct dentry *d = vfs_dentry_find(dir, name, len);

	(void)ino;
	(void)type;
	return d && !d->inode ? 0 : -ENOTEMPTY;
}

bool tmpfs_dir_empty(struct vfs *vfs, struct dentry *d)
{
	struct tmpfs_data *td = d->inode->priv;
	struct dentry *c;

	(void)vfs;
	list_for_each_entry(c, &d->children, sibling)
		if (c->inode)
			return false;
	if (d->inode->sb->kind == FS_OVERLAY && td && td->lower &&
	    S_ISDIR(d->inode->mode))
		return goferfs_list(td->lower, ovl_empty_one, d) == 0;
	return true;
}

static int tmpfs_open(struct inode *ino, struct file *f)
{
	struct tmpfs_data *td = ino->priv;
	int r;

	if (S_ISDIR(ino->mode)) {
		f->ops = ino->sb->kind == FS_OVERLAY ? &ovl_dir_ops
						     : &tmpfs_dir_ops;
	} else if (S_ISREG(ino->mode)) {
		f->ops = &tmpfs_file_ops;
		if (ino->sb->kind != FS_OVERLAY)
			return 0;
		/* Writers get the upper copy (copy-up on open for write,
		 * as overlayfs); readers of a lower-only file its host fd. */
		if (f->fmode & FMODE_WRITE)
			return ovl_copy_up(ino);
		pthread_mutex_lock(&ino->lock);
		r = 0;
		if (td->lower) {
			r = goferfs_open_ro(td->lower);
			if (r >= 0) {
				f->hostfd = r;
				f->ops = &ovl_lower_fops;
				r = 0;
			}
		}
		pthread_mutex_unlock(&ino->lock);
		return r;
	} else if (ino->fops) {
		f->ops = ino->fops;	/* devfs device */
	} else if (S_ISFIFO(ino->mode)) {
		/* vfs_open() calls vfs_fifo_open() without vfs->lock. */
		f->fmode |= FMODE_FIFO_OPEN;
	} else {
		return -ENXIO;		/* a node with no driver */
	}
	return 0;
}

static int tmpfs_readlink(struct inode *ino, char *buf, size_t len)
{
	struct tmpfs_data *td = ino->priv;
	size_t n;

	pthread_mutex_lock(&ino->lock);
	if (!td->link && td->lower && td->lower->iops->readlink) {
		char *tmp = malloc(VFS_PATH_MAX);
		int r = tmp ? td->lower->iops->readlink(td->lower, tmp,
							VFS_PATH_MAX - 1)
			    : -ENOMEM;

		if (r < 0) {
			free(tmp);
			pthread_mutex_unlock(&ino->lock);
			return r;
		}
		td->link = tmp;
		td->linklen = (size_t)r;
	}
	n = MIN(len, td->linklen);
	if (n)
		memcpy(buf, td->link, n);
	pthread_mutex_unlock(&ino->lock);
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

/* shmem_mknod/shmem_mkdir/shmem_symlink: a fresh inode owned by cred;
 * directories under a setgid directory inherit the bit. */
static int tmpfs_mknod(struct inode *dir, mode_t mode, dev_t rdev,
		       const char *target, const struct cred *cred,
		       struct inode **out)
{
	struct inode *ino;
	struct tmpfs_data *td;
	int r = tmpfs_create(dir, mode, cred, &ino);

	if (r < 0)
		return r;
	if (S_ISDIR(mode) && (dir->mode & S_ISGID))
		ino->mode |= S_ISGID;
	ino->rdev = rdev;
	if (S_ISCHR(mode))
		ino->fops = devfs_driver(rdev);
	if (S_ISLNK(mode)) {
		td = ino->priv;
		td->linklen = strlen(target);
		td->link = strdup(target);
		ino->size = (int64_t)td->linklen;
		if (!td->link) {
			vfs_inode_get(ino);
			vfs_inode_put(ino);
			return -ENOMEM;
		}
	}
	*out = ino;
	return 0;
}

/* ---- xattrs (simple_xattr_*) ---- */

static struct tmpfs_xattr **xattr_find(struct tmpfs_data *td, const char *name)
{
	struct tmpfs_xattr **pp;

	for (pp = &td->xattrs; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->name, name))
			return pp;
	return pp;
}

static ssize_t tmpfs_getxattr(struct inode *ino, const char *name, void *buf,
			      size_t size)
{
	struct tmpfs_data *td = ino->priv;
	struct tmpfs_xattr *x;
	ssize_t r;

	pthread_mutex_lock(&ino->lock);
	x = *xattr_find(td, name);
	if (!x)
		r = -ENODATA;
	else if (size && size < x->size)
		r = -ERANGE;
	else {
		if (size)
			memcpy(buf, x->value, x->size);
		r = (ssize_t)x->size;
	}
	pthread_mutex_unlock(&ino->lock);
	return r;
}

static int tmpfs_setxattr(struct inode *ino, const char *name, const void *val,
			  size_t size, int flags)
{
	struct tmpfs_data *td = ino->priv;
	struct tmpfs_xattr **pp, *x;
	int r = 0;

	x = malloc(sizeof(*x) + size);
	if (!x)
		return -ENOMEM;
	x->name = strdup(name);
	if (!x->name) {
		free(x);
		return -ENOMEM;
	}
	x->size = size;
	if (size)
		memcpy(x->value, val, size);
	pthread_mutex_lock(&ino->lock);
	pp = xattr_find(td, name);
	if (*pp && (flags & XATTR_CREATE)) {
		r = -EEXIST;
	} else if (!*pp && (flags & XATTR_REPLACE)) {
		r = -ENODATA;
	} else {
		struct tmpfs_xattr *old = *pp;

		x->next = old ? old->next : NULL;
		*pp = x;
		if (old) {
			free(old->name);
			free(old);
		}
		x = NULL;
	}
	pthread_mutex_unlock(&ino->lock);
	if (x) {
		free(x->name);
		free(x);
	}
	return r;
}

static ssize_t tmpfs_listxattr(struct inode *ino, char *buf, size_t size)
{
	struct tmpfs_data *td = ino->priv;
	struct tmpfs_xattr *x;
	size_t used = 0;
	ssize_t r = 0;

	pthread_mutex_lock(&ino->lock);
	for (x = td->xattrs; x; x = x->next) {
		size_t l = strlen(x->name) + 1;

		if (used + l > size) {
			r = -ERANGE;
			break;
		}
		memcpy(buf + used, x->name, l);
		used += l;
	}
	pthread_mutex_unlock(&ino->lock);
	return r < 0 ? r : (ssize_t)used;
}

static int tmpfs_removexattr(struct inode *ino, const char *name)
{
	struct tmpfs_data *td = ino->priv;
	struct tmpfs_xattr **pp, *x;
	int r = 0;

	pthread_mutex_lock(&ino->lock);
	pp = xattr_find(td, name);
	x = *pp;
	if (!x) {
		r = -ENODATA;
	} else {
		*pp = x->next;
		free(x->name);
		free(x);
	}
	pthread_mutex_unlock(&ino->lock);
	return r;
}

static const struct inode_ops tmpfs_iops = {
	.create = tmpfs_create,
	.readlink = tmpfs_readlink,
	.open = tmpfs_open,
	.truncate = tmpfs_truncate,
	.mknod = tmpfs_mknod,
	.getxattr = tmpfs_getxattr,
	.setxattr = tmpfs_setxattr,
	.listxattr = tmpfs_listxattr,
	.removexattr = tmpfs_removexattr,
};

static const struct inode_ops ovl_iops = {
	.lookup = ovl_lookup,
	.create = tmpfs_create,
	.readlink = tmpfs_readlink,
	.open = tmpfs_open,
	.truncate = tmpfs_truncate,
	.mknod = tmpfs_mknod,
	.has_lower = ovl_has_lower,
	.copy_up = ovl_copy_up,
	.getxattr = tmpfs_getxattr,
	.setxattr = tmpfs_setxattr,
	.listxattr = tmpfs_listxattr,
	.removexattr = tmpfs_removexattr,
};

int overlay_new(struct vfs *vfs, struct super_block *lower_sb,
		struct dentry *lower_root, struct super_block **sbp,
		struct dentry **root)
{
	struct super_block *sb = vfs_sb_new(vfs, FS_OVERLAY, "overlay", false);
	struct inode *ino;
	int r;

	if (!sb)
		return -ENOMEM;
	sb->bytes_max = TMPFS_MAX_BYTES;
	sb->inode_free = tmpfs_inode_free;
	sb->priv = lower_sb;
	/* Upper-only inodes are numbered far above any lower (host) inode
	 * number so st_ino never collides. */
	atomic_store(&sb->next_ino, 1ULL << 40);
	r = ovl_wrap(sb, lower_root->inode, &ino);
	if (r < 0)
		return r;
	*root = vfs_dentry_add(NULL, "/", 1, ino);
	if (!*root) {
		vfs_inode_get(ino);
		vfs_inode_put(ino);
		return -ENOMEM;
	}
	*sbp = sb;
	return 0;
}

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

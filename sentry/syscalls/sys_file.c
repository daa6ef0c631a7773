// SPDX-License-Identifier: GPL-2.0
/*
 * File descriptor system calls: read/write and their vector and positional
 * forms, open/close, lseek, getdents64, dup*, fcntl, ioctl.
 *
 * Errors come in Linux's order (fs/read_write.c, fs/open.c, fs/fcntl.c,
 * fs/ioctl.c, fs/readdir.c): EBADF for the fd first, then flag and count
 * checks, then EFAULT from workload memory. Workload memory is reached only
 * through mm_* (never dereferenced); data moves between the file and the
 * workload's pages through sentry iovecs from mm_iovecs(), so regular gofer
 * files and host fds are read with one preadv/readv and no bounce buffer.
 *
 * Locks: file->pos_lock around one positional read/write (f_pos_lock);
 * everything else is taken inside vfs/. References: every fdtable_get() is
 * put before returning (file_putp cleanup).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "cvisor/util.h"
#include "cvisor/vfs.h"
#include "../../vfs/vfs_impl.h"
#include "uaccess.h"

#define KIOV_MAX 256

static void file_putp(struct file **f)
{
	if (*f)
		vfs_file_put(*f);
}
#define _cleanup_file_ _cleanup_(file_putp)

static int nofile_limit(struct task *t)
{
	uint64_t cur = t->rlimits[RLIMIT_NOFILE].rlim_cur;

	return cur > VFS_NR_OPEN ? VFS_NR_OPEN : (int)cur;
}

/*
 * Move data between f and the workload ranges uv[0..n). off: the position
 * (advanced), or NULL for files with their own position. A stream read
 * returns after one batch so a pipe or tty read does not block for more
 * once it has data. Short transfers stop; a fault after some progress
 * returns the progress (as copy_to_user short counts do).
 */
/* rw_user: reads of this size go through vfs_read_iov_frames. */
#define FRAMES_READ_MIN (2 * PAGE_SIZE)
#define FRAMES_READ_MAX (256u << 10)

static ssize_t rw_user(struct task *t, struct file *f, bool write,
		       struct uvec *uv, int n, int64_t *off)
{
	struct iovec kiov[KIOV_MAX];
	ssize_t total = 0;
	int ui = 0;

	while (ui < n) {
		size_t chunk = 0;
		bool fault = false;
		int kn = 0;
		ssize_t r;

		while (ui < n && kn < KIOV_MAX) {
			size_t got = 0;
			int c;

			if (!uv[ui].len) {
				ui++;
				continue;
			}
			c = mm_iovecs(t->mm, uv[ui].base, uv[ui].len, !write,
				      kiov + kn, KIOV_MAX - kn);
			if (c <= 0) {
				fault = true;
				break;
			}
			for (int i = 0; i < c; i++)
				got += kiov[kn + i].iov_len;
			kn += c;
			chunk += got;
			uv[ui].base += got;
			uv[ui].len -= got;
			if (!uv[ui].len)
				ui++;
		}
		if (kn == 0)
			return total ? total : -EFAULT;
		r = -EOPNOTSUPP;
		/* A read of a few pages and more (a whole .pyc into a fresh
		 * buffer) likely lands in pages the sentry never touched:
		 * each would cost a host page fault here (~8 us with shadow
		 * paging) on top of the copy; the host kernel copies file
		 * data into the memory file without one. Bigger reads
		 * (streaming into one hot buffer) stay one preadv. */
		if (!write && off && chunk >= FRAMES_READ_MIN &&
		    chunk <= FRAMES_READ_MAX)
			r = vfs_read_iov_frames(f, t->k->mf, kiov, kn, off);
		if (r == -EOPNOTSUPP)
			r = write ? vfs_write_iov(f, kiov, kn, off)
				  : vfs_read_iov(f, kiov, kn, off);
		if (r < 0)
			return total ? total : r;
		total += r;
		if ((size_t)r < chunk || fault || (!off && !write))
			break;
	}
	return total;
}

/* Positional I/O at f's own position under f_pos_lock. */
static ssize_t rw_pos(struct task *t, struct file *f, bool write,
		      struct uvec *uv, int n)
{
	ssize_t r;

	if (f->fmode & FMODE_STREAM)
		return rw_user(t, f, write, uv, n, NULL);
	pthread_mutex_lock(&f->pos_lock);
	r = rw_user(t, f, write, uv, n, &f->pos);
	pthread_mutex_unlock(&f->pos_lock);
	return r;
}

static ssize_t rw_nodata(struct file *f, bool write, uint64_t len)
{
	if (write && f->ops->write_nodata)
		return f->ops->write_nodata(f, len);
	if (!write && f->ops->read_nodata)
		return f->ops->read_nodata(f, len);
	return -ENOSYS;
}

/* vfs_read()/vfs_write() checks before any data moves. */
static int rw_check(struct file *f, bool write)
{
	if (!(f->fmode & (write ? FMODE_WRITE : FMODE_READ)))
		return -EBADF;
	if (vfs_file_is_dir(f))
		return -EISDIR;
	return 0;
}

static ssize_t do_rw(struct task *t, int fd, bool write, uint64_t buf,
		     uint64_t count, int64_t *pos)
{
	_cleanup_file_ struct file *f = fdtable_get(t->fdt, fd);
	struct uvec uv;
	ssize_t nd;
	int r;

	if (!f)
		return -EBADF;
	if (pos && !(f->fmode & FMODE_PREAD))
		return -ESPIPE;
	r = rw_check(f, write);
	if (r < 0)
		return r;
	if (!access_ok(buf, count))
		return -EFAULT;
	if (count == 0)
		return 0;
	uv.base = buf;
	uv.len = MIN(count, (uint64_t)VFS_MAX_RW_COUNT);
	nd = rw_nodata(f, write, uv.len);
	if (nd != -ENOSYS)
		return nd;
	if (pos)
		return rw_user(t, f, write, &uv, 1, pos);
	return rw_pos(t, f, write, &uv, 1);
}

SYSCALL_DEFINE(read)
{
	return do_rw(t, (int)args->a[0], false, args->a[1], args->a[2], NULL);
}

SYSCALL_DEFINE(write)
{
	return do_rw(t, (int)args->a[0], true, args->a[1], args->a[2], NULL);
}

SYSCALL_DEFINE(pread64)
{
	int64_t pos = (int64_t)args->a[3];

	/* ksys_pread64(): a negative offset fails before the fd lookup. */
	if (pos < 0)
		return -EINVAL;
	return do_rw(t, (int)args->a[0], false, args->a[1], args->a[2], &pos);
}

SYSCALL_DEFINE(pwrite64)
{
	int64_t pos = (int64_t)args->a[3];

	if (pos < 0)
		return -EINVAL;
	return do_rw(t, (int)args->a[0], true, args->a[1], args->a[2], &pos);
}

int import_iovec(struct task *t, uint64_t addr, uint64_t cnt,
		 struct uvec **out, uint64_t *totalp)
{
	struct uvec *uv;
	uint64_t total = 0;

	*out = NULL;
	if (totalp)
		*totalp = 0;
	if (cnt > UIO_MAXIOV)
		return -EINVAL;
	if (cnt == 0)
		return 0;
	uv = calloc(cnt, sizeof(*uv));
	if (!uv)
		return -ENOMEM;
	if (mm_copy_in(t->mm, uv, addr, cnt * sizeof(*uv))) {
		free(uv);
		return -EFAULT;
	}
	for (uint64_t i = 0; i < cnt; i++) {
		if ((int64_t)uv[i].len < 0) {
			free(uv);
			return -EINVAL;
		}
		if (!access_ok(uv[i].base, uv[i].len)) {
			free(uv);
			return -EFAULT;
		}
		if (uv[i].len > (uint64_t)VFS_MAX_RW_COUNT - total)
			uv[i].len = (uint64_t)VFS_MAX_RW_COUNT - total;
		total += uv[i].len;
	}
	*out = uv;
	if (totalp)
		*totalp = total;
	return (int)cnt;
}

static ssize_t do_rwv(struct task *t, int fd, bool write, uint64_t iov,
		      uint64_t cnt, int64_t *pos)
{
	_cleanup_file_ struct file *f = fdtable_get(t->fdt, fd);
	_cleanup_free_ struct uvec *uv = NULL;
	int n, r;

	if (!f)
		return -EBADF;
	if (pos && !(f->fmode & FMODE_PREAD))
		return -ESPIPE;
	n = import_iovec(t, iov, cnt, &uv, NULL);
	if (n < 0)
		return n;
	r = rw_check(f, write);
	if (r < 0)
		return r;
	if (n == 0)
		return 0;
	if (f->ops->read_nodata || f->ops->write_nodata) {
		uint64_t total = 0;
		ssize_t nr;

		for (int i = 0; i < n; i++)
			total += uv[i].len;
		nr = rw_nodata(f, write, total);
		if (nr != -ENOSYS)
			return nr;
	}
	if (pos)
		return rw_user(t, f, write, uv, n, pos);
	return rw_pos(t, f, write, uv, n);
}

SYSCALL_DEFINE(readv)
{
	return do_rwv(t, (int)args->a[0], false, args->a[1], args->a[2], NULL);
}

SYSCALL_DEFINE(writev)
{
	return do_rwv(t, (int)args->a[0], true, args->a[1], args->a[2], NULL);
}

/* ---- open / close ---- */

static long do_open(struct task *t, int dirfd, uint64_t upath, int flags,
		    mode_t mode)
{
	char path[VFS_PATH_MAX]; /* no malloc per open: 1 MiB host stacks */
	_cleanup_file_ struct file *f = NULL;
	ssize_t n;
	int r;

	n = mm_strncpy_in(t->mm, path, upath, VFS_PATH_MAX);
	if (n < 0)
		return n;
	r = vfs_openat(t, dirfd, path, flags, mode, &f);
	if (r < 0)
		return r;
	return fdtable_alloc(t->fdt, f, 0, flags & O_CLOEXEC, nofile_limit(t));
}

SYSCALL_DEFINE(open)
{
	return do_open(t, AT_FDCWD, args->a[0], (int)args->a[1],
		       (mode_t)args->a[2]);
}

SYSCALL_DEFINE(openat)
{
	return do_open(t, (int)args->a[0], args->a[1], (int)args->a[2],
		       (mode_t)args->a[3]);
}

SYSCALL_DEFINE(creat)
{
	return do_open(t, AT_FDCWD, args->a[0], O_CREAT | O_WRONLY | O_TRUNC,
		       (mode_t)args->a[1]);
}

/* ---- openat2(2): struct open_how, include/uapi/linux/openat2.h ---- */

struct cv_open_how {
	uint64_t flags;
	uint64_t mode;
	uint64_t resolve;
};
#define OPEN_HOW_SIZE_VER0 24
#define CV_RESOLVE_NO_XDEV 0x01
#define CV_RESOLVE_NO_MAGICLINKS 0x02
#define CV_RESOLVE_NO_SYMLINKS 0x04
#define CV_RESOLVE_BENEATH 0x08
#define CV_RESOLVE_IN_ROOT 0x10
#define CV_RESOLVE_CACHED 0x20
#define CV_RESOLVE_ALL 0x3f
/* VALID_OPEN_FLAGS (include/linux/fcntl.h), in the raw x86-64 values:
 * glibc defines O_LARGEFILE as 0 on 64-bit. */
#define CV_O_LARGEFILE 0100000
#define CV_O_TMPFILE_BIT 020000000
#define CV_VALID_OPEN_FLAGS                                                   \
	(O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND |         \
	 O_NONBLOCK | O_DSYNC | O_ASYNC | O_DIRECT | CV_O_LARGEFILE |          \
	 O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_SYNC | O_PATH |  \
	 CV_O_TMPFILE_BIT)
#define CV_O_PATH_FLAGS (O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC)

/* copy_struct_from_user(): a larger struct is fine if its tail is zero
 * (else E2BIG); read a page at a time so no size makes the sentry
 * allocate. */
static int copy_struct_in(struct task *t, void *dst, size_t ksize,
			  uint64_t src, uint64_t usize)
{
	if (usize > ksize) {
		uint64_t off = ksize;

		if (!access_ok(src, usize))
			return -EFAULT;
		while (off < usize) {
			unsigned char buf[512];
			size_t n = MIN(sizeof(buf), usize - off);

			if (mm_copy_in(t->mm, buf, src + off, n))
				return -EFAULT;
			for (size_t i = 0; i < n; i++)
				if (buf[i])
					return -E2BIG;
			off += n;
		}
	}
	memset(dst, 0, ksize);
	if (mm_copy_in(t->mm, dst, src, MIN(ksize, usize)))
		return -EFAULT;
	return 0;
}

/* build_open_flags() for openat2: every argument is checked. */
static int openat2_flags(const struct cv_open_how *how, unsigned int *walk)
{
	uint64_t flags = how->flags & ~(uint64_t)O_CLOEXEC;
	bool creates = (flags & O_CREAT) || (flags & CV_O_TMPFILE_BIT);

	*walk = 0;
	if (flags & ~(uint64_t)CV_VALID_OPEN_FLAGS)
		return -EINVAL;
	if (how->resolve & ~(uint64_t)CV_RESOLVE_ALL)
		return -EINVAL;
	if ((how->resolve & CV_RESOLVE_BENEATH) &&
	    (how->resolve & CV_RESOLVE_IN_ROOT))
		return -EINVAL;
	if (creates ? (how->mode & ~(uint64_t)07777) : how->mode)
		return -EINVAL;
	if (flags & CV_O_TMPFILE_BIT) {
		if (!(flags & O_DIRECTORY))
			return -EINVAL;
		if ((flags & O_ACCMODE) == O_RDONLY)
			return -EINVAL;
	}
	if ((flags & O_PATH) && (flags & ~(uint64_t)CV_O_PATH_FLAGS))
		return -EINVAL;
	if (how->resolve & CV_RESOLVE_NO_XDEV)
		*walk |= WALK_NO_XDEV;
	if (how->resolve & CV_RESOLVE_NO_MAGICLINKS)
		*walk |= WALK_NO_MAGICLINKS;
	if (how->resolve & CV_RESOLVE_NO_SYMLINKS)
		*walk |= WALK_NO_SYMLINKS;
	if (how->resolve & CV_RESOLVE_BENEATH)
		*walk |= WALK_BENEATH;
	if (how->resolve & CV_RESOLVE_IN_ROOT)
		*walk |= WALK_IN_ROOT;
	if (how->resolve & CV_RESOLVE_CACHED) {
		/* "Don't bother even trying for create/truncate/tmpfile." */
		if (flags & (O_TRUNC | O_CREAT | CV_O_TMPFILE_BIT))
			return -EAGAIN;
		*walk |= WALK_CACHED;
	}
	return 0;
}

SYSCALL_DEFINE(openat2)
{
	int dirfd = (int)args->a[0];
	uint64_t usize = args->a[3];
	_cleanup_free_ char *path = NULL;
	_cleanup_file_ struct file *f = NULL;
	struct cv_open_how how;
	unsigned int walk;
	ssize_t n;
	int r;

	if (usize < OPEN_HOW_SIZE_VER0)
		return -EINVAL;
	r = copy_struct_in(t, &how, sizeof(how), args->a[2], usize);
	if (r < 0)
		return r;
	r = openat2_flags(&how, &walk);
	if (r < 0)
		return r;
	path = malloc(VFS_PATH_MAX);
	if (!path)
		return -ENOMEM;
	n = mm_strncpy_in(t->mm, path, args->a[1], VFS_PATH_MAX);
	if (n < 0)
		return n;
	r = vfs_openat_resolve(t, dirfd, path, (int)how.flags,
			       (mode_t)how.mode, walk, &f);
	if (r < 0)
		return r;
	return fdtable_alloc(t->fdt, f, 0, how.flags & O_CLOEXEC,
			     nofile_limit(t));
}

SYSCALL_DEFINE(flock)
{
	_cleanup_file_ struct file *f = fdtable_get(t->fdt, (int)args->a[0]);

	if (!f || (f->fmode & FMODE_PATH))
		return -EBADF;
	return vfs_flock(f, (int)args->a[1]);
}

SYSCALL_DEFINE(close)
{
	return fdtable_close(t->fdt, (int)args->a[0]);
}

SYSCALL_DEFINE(close_range)
{
	unsigned int first = (unsigned int)args->a[0];
	unsigned int last = (unsigned int)args->a[1];
	unsigned int flags = (unsigned int)args->a[2];

	if (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC))
		return -EINVAL;
	if (first > last)
		return -EINVAL;
	if ((flags & CLOSE_RANGE_UNSHARE) && atomic_load(&t->fdt->refs) > 1) {
		struct fdtable *n;
		int r = fdtable_copy(t->fdt, &n);

		if (r < 0)
			return r;
		fdtable_put(t->fdt);
		t->fdt = n;
	}
	return fdtable_close_range(t->fdt, first, last,
				   flags & CLOSE_RANGE_CLOEXEC);
}

/* ---- lseek, getdents64 ---- */

SYSCALL_DEFINE(lseek)
{
	_cleanup_file_ struct file *f = fdtable_get(t->fdt, (int)args->a[0]);
	unsigned int whence = (unsigned int)args->a[2];

	if (!f || (f->fmode & FMODE_PATH))
		return -EBADF;
	if (whence > SEEK_HOLE)
		return -EINVAL;
	return vfs_llseek(f, (int64_t)args->a[1], (int)whence);
}

struct getdents_ctx {
	struct dir_ctx ctx;
	char *buf;
	size_t size, used;
};

/* filldir64(): records of linux_dirent64, 8-byte aligned, d_off is the
 * position after the entry. */
static bool filldir64(struct dir_ctx *ctx, const char *name, size_t len,
		      uint64_t ino, unsigned int type, int64_t next)
{
	struct getdents_ctx *g = container_of(ctx, struct getdents_ctx, ctx);
	size_t reclen = (19 + len + 1 + 7) & ~7UL;
	char *p = g->buf + g->used;
	uint16_t rl = (uint16_t)reclen;
	uint8_t ty = (uint8_t)type;

	if (g->used + reclen > g->size)
		return false;
	memset(p, 0, reclen);
	memcpy(p, &ino, 8);
	memcpy(p + 8, &next, 8);
	memcpy(p + 16, &rl, 2);
	memcpy(p + 18, &ty, 1);
	memcpy(p + 19, name, len);
	g->used += reclen;
	ctx->pos = next;
	return true;
}

SYSCALL_DEFINE(getdents64)
{
	_cleanup_file_ struct file *f = fdtable_get(t->fdt, (int)args->a[0]);
	uint64_t count = (uint32_t)args->a[2];
	struct getdents_ctx g = { .ctx.actor = filldir64 };
	_cleanup_free_ char *buf = NULL;
	int64_t saved;
	int r;

	if (!f || (f->fmode & FMODE_PATH))
		return -EBADF;
	if (!vfs_file_is_dir(f) || !f->ops->iterate)
		return -ENOTDIR;
	if (!access_ok(args->a[1], count))
		return -EFAULT;
	/* A bounded sentry buffer: a huge count just returns fewer. */
	g.size = MIN(count, (uint64_t)65536);
	buf = malloc(g.size ? g.size : 1);
	if (!buf)
		return -ENOMEM;
	g.buf = buf;

	pthread_mutex_lock(&f->pos_lock);
	saved = f->pos;
	g.ctx.pos = f->pos;
	r = vfs_iterate(f, &g.ctx);
	if (r == 0 && g.used == 0 && g.ctx.pos == saved) {
		/* Nothing fitted: EINVAL if an entry was there. Probe with
		 * a large buffer to tell EOF from "too small". */
		struct getdents_ctx probe = { .ctx.actor = filldir64 };
		char tmp[19 + VFS_NAME_MAX + 1 + 8];

		probe.buf = tmp;
		probe.size = sizeof(tmp);
		probe.ctx.pos = saved;
		r = vfs_iterate(f, &probe.ctx);
		if (r == 0 && probe.used)
			r = -EINVAL;
	}
	if (r == 0 && g.used && mm_copy_out(t->mm, args->a[1], buf, g.used))
		r = -EFAULT;
	if (r == 0)
		f->pos = g.ctx.pos;
	pthread_mutex_unlock(&f->pos_lock);
	return r < 0 ? r : (long)g.used;
}

/* ---- dup, fcntl ---- */

SYSCALL_DEFINE(dup)
{
	_cleanup_file_ struct file *f = fdtable_get(t->fdt, (int)args->a[0]);

	if (!f)
		return -EBADF;
	return fdtable_alloc(t->fdt, f, 0, false, nofile_limit(t));
}

static long do_dup3(struct task *t, unsigned int oldfd, unsigned int newfd,
		    int flags)
{
	_cleanup_file_ struct file *f = NULL;

	/* ksys_dup3() order: flags, same fd, newfd limit, then oldfd. */
	if (flags & ~O_CLOEXEC)
		return -EINVAL;
	if (oldfd == newfd)
		return -EINVAL;
	if (newfd >= (unsigned int)nofile_limit(t))
		return -EBADF;
	f = fdtable_get(t->fdt, (int)oldfd);
	if (!f)
		return -EBADF;
	return fdtable_replace(t->fdt, (int)newfd, f, flags & O_CLOEXEC);
}

SYSCALL_DEFINE(dup2)
{
	unsigned int oldfd = (unsigned int)args->a[0];
	unsigned int newfd = (unsigned int)args->a[1];

	if (oldfd == newfd) {
		_cleanup_file_ struct file *f = fdtable_get(t->fdt, (int)oldfd);

		return f ? (long)newfd : -EBADF;
	}
	return do_dup3(t, oldfd, newfd, 0);
}

SYSCALL_DEFINE(dup3)
{
	return do_dup3(t, (unsigned int)args->a[0], (unsigned int)args->a[1],
		       (int)args->a[2]);
}

SYSCALL_DEFINE(fcntl)
{
	int fd = (int)args->a[0];
	unsigned int cmd = (unsigned int)args->a[1];
	uint64_t arg = args->a[2];
	_cleanup_file_ struct file *f = fdtable_get(t->fdt, fd);
	/* setfl(): the only status flags F_SETFL may change. */
	const unsigned int setfl_mask = O_APPEND | O_NONBLOCK | O_DIRECT |
					O_NOATIME | O_ASYNC;
	int r;

	if (!f)
		return -EBADF;
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		/* f_dupfd(): a start beyond RLIMIT_NOFILE is EINVAL. */
		if (arg >= (uint64_t)nofile_limit(t))
			return -EINVAL;
		return fdtable_alloc(t->fdt, f, (int)arg, cmd == F_DUPFD_CLOEXEC,
				     nofile_limit(t));
	case F_GETFD:
		r = fdtable_get_cloexec(t->fdt, fd);
		return r < 0 ? r : (r ? FD_CLOEXEC : 0);
	case F_SETFD:
		return fdtable_set_cloexec(t->fdt, fd, arg & FD_CLOEXEC);
	case F_GETFL:
		return f->flags;
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_GETLK:
	case F_OFD_SETLK:
	case F_OFD_SETLKW: {
		struct flock fl;

		if (f->fmode & FMODE_PATH)
			return -EBADF;
		if (mm_copy_in(t->mm, &fl, arg, sizeof(fl)))
			return -EFAULT;
		r = vfs_fcntl_lock(f, (int)cmd, &fl, t->fdt, t->tgid);
		if (r == 0 && (cmd == F_GETLK || cmd == F_OFD_GETLK) &&
		    mm_copy_out(t->mm, arg, &fl, sizeof(fl)))
			return -EFAULT;
		return r;
	}
	case F_SETFL:
		/* O_PATH files take only the fd-level commands. */
		if (f->fmode & FMODE_PATH)
			return -EBADF;
		/* setfl(): O_NOATIME only for the owner or CAP_FOWNER. */
		if ((arg & O_NOATIME) && !(f->flags & O_NOATIME) && f->inode &&
		    f->inode->uid != t->cred.fsuid && t->cred.fsuid != 0)
			return -EPERM;
		pthread_mutex_lock(&f->pos_lock);
		f->flags = (f->flags & ~setfl_mask) |
			   ((unsigned int)arg & setfl_mask);
		pthread_mutex_unlock(&f->pos_lock);
		return 0;
	default:
		if (f->fmode & FMODE_PATH)
			return -EBADF;
		/* File-specific commands: the pipe sizes. fs/fcntl.c: on a
		 * file that is not a pipe they give EBADF. */
		if (cmd == F_GETPIPE_SZ || cmd == F_SETPIPE_SZ)
			return (f->ops && f->ops->fcntl) ?
				       f->ops->fcntl(f, (int)cmd, arg) : -EBADF;
		return -EINVAL;
	}
}

/* ---- ioctl ---- */

/* Kernel struct termios (asm-generic/termbits.h): 4 flags, c_line and 19
 * control characters. glibc's struct termios is larger. */
#define KTERMIOS_SIZE 36

SYSCALL_DEFINE(ioctl)
{
	int fd = (int)args->a[0];
	unsigned int cmd = (unsigned int)args->a[1];
	uint64_t arg = args->a[2];
	_cleanup_file_ struct file *f = fdtable_get(t->fdt, fd);
	char buf[64];
	size_t size = 0;
	bool in = false, out = false, pty;
	int v;
	long r;

	if (!f || (f->fmode & FMODE_PATH))
		return -EBADF;
	pty = tty_file_is_pty(f);
	/* do_vfs_ioctl(): the generic requests, for every file. */
	switch (cmd) {
	case FIOCLEX:
		return fdtable_set_cloexec(t->fdt, fd, true);
	case FIONCLEX:
		return fdtable_set_cloexec(t->fdt, fd, false);
	case FIONBIO:
		if (mm_copy_in(t->mm, &v, arg, sizeof(v)))
			return -EFAULT;
		pthread_mutex_lock(&f->pos_lock);
		if (v)
			f->flags |= O_NONBLOCK;
		else
			f->flags &= ~O_NONBLOCK;
		pthread_mutex_unlock(&f->pos_lock);
		return 0;
	case FIONREAD:
		/* file_ioctl(): bytes left before EOF on regular files. */
		if (f->inode && S_ISREG(f->inode->mode)) {
			int64_t left;

			pthread_mutex_lock(&f->pos_lock);
			pthread_mutex_lock(&f->inode->lock);
			left = f->inode->size - f->pos;
			pthread_mutex_unlock(&f->inode->lock);
			pthread_mutex_unlock(&f->pos_lock);
			v = (int)MAX(MIN(left, (int64_t)INT_MAX), 0);
			return mm_copy_out(t->mm, arg, &v, sizeof(v)) ? -EFAULT
								     : 0;
		}
		size = sizeof(int);
		out = true;
		break;
	case TCGETS:
		size = KTERMIOS_SIZE;
		out = true;
		break;
	case TCSETS:
	case TCSETSW:
	case TCSETSF:
		size = KTERMIOS_SIZE;
		in = true;
		break;
	case TIOCGWINSZ:
		size = sizeof(struct winsize);
		out = true;
		break;
	case TIOCSWINSZ:
		size = sizeof(struct winsize);
		in = true;
		break;
	case TIOCGPGRP:
	/* Sandbox terminals (vfs/fs/tty.c), int results. */
	case TIOCGPTN:
	case TIOCGPTLCK:
	case TIOCGSID:
	case TIOCOUTQ:
	case TIOCGETD:
		size = sizeof(int);
		out = true;
		break;
	case TIOCSPTLCK:
	case TIOCSETD:
		size = sizeof(int);
		in = true;
		break;
	case TIOCSCTTY:
	case TIOCGPTPEER:
	case TIOCSIG:
	case TCFLSH:
	case TCXONC:
	case TCSBRK:
	case TCSBRKP:
		/* The argument is a value: the file op gets it as an int. */
		v = (int)arg;
		size = 0;
		memset(buf, 0, sizeof(buf));
		memcpy(buf, &v, sizeof(v));
		if (!f->ops->ioctl)
			return -ENOTTY;
		return f->ops->ioctl(f, cmd, buf);
	case TIOCNOTTY:
	case TIOCEXCL:
	case TIOCNXCL:
		break;
	case TIOCSPGRP:
		if (pty) {
			size = sizeof(int);
			in = true;
			break;
		}
		/* Job control within the sandbox only: accept our own
		 * process group on a host terminal, leave the host's alone. */
		if (!f->ops->ioctl ||
		    f->ops->ioctl(f, TCGETS, buf) < 0)
			return -ENOTTY;
		if (mm_copy_in(t->mm, &v, arg, sizeof(v)))
			return -EFAULT;
		return v == t->pgid ? 0 : -EPERM;
	default:
		return -ENOTTY;
	}
	if (!f->ops->ioctl)
		return -ENOTTY;
	memset(buf, 0, sizeof(buf));
	if (in && mm_copy_in(t->mm, buf, arg, size))
		return -EFAULT;
	r = f->ops->ioctl(f, cmd, buf);
	if (r < 0)
		return r;
	if (cmd == TIOCGPGRP && !pty) {
		/* The host's process group means nothing in here: the
		 * terminal's foreground group is the caller's. */
		v = t->pgid;
		memcpy(buf, &v, sizeof(v));
	}
	if (out && mm_copy_out(t->mm, arg, buf, size))
		return -EFAULT;
	return r;
}

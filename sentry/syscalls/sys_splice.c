// SPDX-License-Identifier: GPL-2.0
/*
 * Moving data between files in the sentry: sendfile(2), copy_file_range(2),
 * splice(2), tee(2), vmsplice(2) (fs/read_write.c, fs/splice.c).
 *
 * Linux moves page references through pipes; here the data goes through
 * one bounded sentry buffer per call (SPLICE_CHUNK), with the files' own
 * read/write ops, so no length makes the sentry allocate more and no host
 * system call is made per byte (tmpfs and pipes are copied in memory,
 * gofer files are read with one pread per chunk). What is observable
 * follows Linux: the errno order of each call, the offsets (a user offset
 * pointer, else the file position), how much one call moves (a splice into
 * a pipe fills at most its free slots; out of a pipe it takes what is
 * queued; sendfile/copy_file_range between files move the whole count)
 * and the waits (SPLICE_F_NONBLOCK or O_NONBLOCK of the pipe side).
 *
 * Locks: file->pos_lock of each file whose position is used, taken in
 * address order (one lock when both sides are one file) and held across
 * the copy, like f_pos_lock; pipe->lock is taken inside the pipe helpers
 * only, never two at a time. References: every fdtable_get() is put on
 * return (file_putp).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "cvisor/util.h"
#include "cvisor/vfs.h"
#include "../../vfs/vfs_impl.h"
#include "uaccess.h"

#define SPLICE_CHUNK (64 * 1024)
/* include/uapi/linux/splice.h */
#define CV_SPLICE_F_MOVE 0x01
#define CV_SPLICE_F_NONBLOCK 0x02
#define CV_SPLICE_F_MORE 0x04
#define CV_SPLICE_F_GIFT 0x08
#define CV_SPLICE_F_ALL 0x0f

static void file_putp(struct file **f)
{
	if (*f)
		vfs_file_put(*f);
}
#define _cleanup_file_ _cleanup_(file_putp)

/* fdget(): an O_PATH file is no file for these calls (EBADF). */
static struct file *file_get(struct task *t, int fd)
{
	struct file *f = fdtable_get(t->fdt, fd);

	if (f && (f->fmode & FMODE_PATH)) {
		vfs_file_put(f);
		return NULL;
	}
	return f;
}

/* Both positions of a transfer under f_pos_lock, in address order. */
struct pos_locks {
	pthread_mutex_t *a, *b;
};

static void pos_lock2(struct pos_locks *l, struct file *x, struct file *y)
{
	l->a = x ? &x->pos_lock : NULL;
	l->b = y ? &y->pos_lock : NULL;
	if (l->a == l->b)
		l->b = NULL;
	if (l->a && l->b && l->a > l->b) {
		pthread_mutex_t *tmp = l->a;

		l->a = l->b;
		l->b = tmp;
	}
	if (!l->a) {
		l->a = l->b;
		l->b = NULL;
	}
	if (l->a)
		pthread_mutex_lock(l->a);
	if (l->b)
		pthread_mutex_lock(l->b);
}

static void pos_unlock2(struct pos_locks *l)
{
	if (l->b)
		pthread_mutex_unlock(l->b);
	if (l->a)
		pthread_mutex_unlock(l->a);
}

/* rw_verify_area() for files without FMODE_UNSIGNED_OFFSET: a count that
 * is negative as ssize_t, a negative position, or an end beyond loff_t
 * are all EINVAL. */
static int verify_area(int64_t pos, uint64_t count)
{
	if ((int64_t)count < 0)
		return -EINVAL;
	if (pos < 0)
		return -EINVAL;
	if ((uint64_t)pos + count > (uint64_t)INT64_MAX)
		return -EINVAL;
	return 0;
}

/* Can f be read by splice (->splice_read)? Regular files and devices
 * (and host stdio); not pipes, directories or anonymous files. */
static bool splice_readable(struct file *f)
{
	if (pipe_file_is_pipe(f))
		return false;
	if (!f->inode)
		return f->hostfd >= 0;
	return S_ISREG(f->inode->mode) || S_ISCHR(f->inode->mode) ||
	       S_ISBLK(f->inode->mode);
}

static ssize_t write_all(struct file *out, const char *buf, size_t n,
			 int64_t *opos)
{
	size_t done = 0;

	while (done < n) {
		struct iovec iov = { (void *)(buf + done), n - done };
		ssize_t w = vfs_write_iov(out, &iov, 1, opos);

		if (w < 0)
			return done ? (ssize_t)done : w;
		if (w == 0)
			break;
		done += (size_t)w;
	}
	return (ssize_t)done;
}

/*
 * do_splice_direct(): regular file -> any file, the whole count unless a
 * read comes up short (EOF) or a write fails. ipos advances by what was
 * written; opos NULL for files with their own position.
 */
static ssize_t file_to_file(struct file *in, int64_t *ipos, struct file *out,
			    int64_t *opos, size_t len)
{
	_cleanup_free_ char *buf = malloc(MIN(len, (size_t)SPLICE_CHUNK));
	size_t done = 0;

	if (!buf)
		return -ENOMEM;
	while (done < len) {
		size_t n = MIN((size_t)SPLICE_CHUNK, len - done);
		struct iovec iov = { buf, n };
		ssize_t r = vfs_read_iov(in, &iov, 1, ipos), w;

		if (r < 0)
			return done ? (ssize_t)done : r;
		if (r == 0)
			break;
		w = write_all(out, buf, (size_t)r, opos);
		if (w < r) {
			/* Give back what was read but not written. */
			*ipos -= r - (w > 0 ? w : 0);
			if (w > 0)
				done += (size_t)w;
			return done ? (ssize_t)done : w;
		}
		done += (size_t)r;
		if ((size_t)r < n)
			break;
	}
	return (ssize_t)done;
}

/* The copy of file_to_pipe() once the room is known; pos NULL: a stream. */
static ssize_t file_to_pipe_copy(struct file *in, int64_t *pos,
				 struct file *out, char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		size_t n = MIN((size_t)SPLICE_CHUNK, len - done);
		struct iovec iov = { buf, n };
		ssize_t got = vfs_read_iov(in, &iov, 1, pos), w;

		if (got < 0)
			return done ? (ssize_t)done : got;
		if (got == 0)
			break;
		w = write_all(out, buf, (size_t)got, NULL);
		if (w < got) {
			if (pos)
				*pos -= got - (w > 0 ? w : 0);
			if (w > 0)
				done += (size_t)w;
			return done ? (ssize_t)done : w;
		}
		done += (size_t)got;
		if ((size_t)got < n || !pos)
			break;
	}
	return (ssize_t)done;
}

/*
 * splice_file_to_pipe(): wait for a free slot (wait_for_space), then read
 * at most what the free slots hold. upos: the caller's offset; NULL: in's
 * own position (taken under f_pos_lock after the wait, so no one waits
 * for a pipe while holding it), or for a stream (one read only, it may
 * block).
 */
static ssize_t file_to_pipe(struct file *in, int64_t *upos, struct file *out,
			    size_t len, bool nonblock)
{
	_cleanup_free_ char *buf = NULL;
	ssize_t space = pipe_wait_space(out, nonblock), r;
	bool own = !upos && !(in->fmode & FMODE_STREAM);
	int64_t pos = 0, *pp = upos;

	if (space < 0)
		return space;
	if (own) {
		pthread_mutex_lock(&in->pos_lock);
		pos = in->pos;
		pp = &pos;
	}
	/* Linux fills one slot per page of the file: the first takes the
	 * rest of the page at the position. */
	if (pp && *pp >= 0)
		space -= (ssize_t)(*pp & (PAGE_SIZE - 1));
	len = MIN(len, (size_t)space);
	r = pp ? verify_area(*pp, len) : 0;
	len = MIN(len, (size_t)VFS_MAX_RW_COUNT);
	if (r == 0 && !splice_readable(in))
		r = -EINVAL;
	if (r == 0) {
		buf = malloc(MIN(len, (size_t)SPLICE_CHUNK));
		r = buf ? file_to_pipe_copy(in, pp, out, buf, len) : -ENOMEM;
	}
	if (own) {
		if (r > 0)
			in->pos = pos;
		pthread_mutex_unlock(&in->pos_lock);
	}
	return r;
}

/* The copy of pipe_to_file() once data is queued. */
static ssize_t pipe_to_file_copy(struct file *in, struct file *out,
				 int64_t *pos, char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		size_t n = pipe_peek(in, 0, buf,
				     MIN((size_t)SPLICE_CHUNK, len - done));
		ssize_t w;

		if (!n)
			break;
		w = write_all(out, buf, n, pos);
		if (w > 0) {
			pipe_consume(in, (size_t)w);
			done += (size_t)w;
		}
		if (w < (ssize_t)n)
			return done ? (ssize_t)done : w;
	}
	return (ssize_t)done;
}

/*
 * iter_file_splice_write(): wait for data (none and no writer: 0), then
 * write what is queued, up to len; the pipe gives up only what was
 * written. upos: the caller's offset (checked already); NULL: out's own
 * position, under f_pos_lock taken after the wait, or a stream.
 */
static ssize_t pipe_to_file(struct file *in, struct file *out, int64_t *upos,
			    size_t len, bool nonblock)
{
	_cleanup_free_ char *buf = NULL;
	bool own = !upos && !(out->fmode & FMODE_STREAM);
	int64_t pos = 0, *pp = upos;
	ssize_t r = pipe_wait_data(in, nonblock);

	if (r <= 0)
		return r;
	if (own) {
		pthread_mutex_lock(&out->pos_lock);
		pos = out->pos;
		pp = &pos;
	}
	r = pp ? verify_area(*pp, len) : 0;
	if (r == 0) {
		buf = malloc(MIN(len, (size_t)SPLICE_CHUNK));
		r = buf ? pipe_to_file_copy(in, out, pp, buf, len) : -ENOMEM;
	}
	if (own) {
		if (r > 0)
			out->pos = pos;
		pthread_mutex_unlock(&out->pos_lock);
	}
	return r;
}

/*
 * splice_pipe_to_pipe() and link_pipe() (tee: consume false): wait for
 * input (ipipe_prep) and for room (opipe_prep), then move what is queued
 * and fits, without waiting again.
 */
static ssize_t pipe_to_pipe(struct file *in, struct file *out, size_t len,
			    bool nonblock, bool consume)
{
	_cleanup_free_ char *buf = NULL;
	ssize_t space;
	size_t done = 0;
	int r = pipe_wait_data(in, nonblock);

	if (r <= 0)
		return r;
	space = pipe_wait_space(out, nonblock);
	if (space < 0)
		return space;
	len = MIN(len, (size_t)space);
	buf = malloc(MIN(len, (size_t)SPLICE_CHUNK));
	if (!buf)
		return -ENOMEM;
	while (done < len) {
		size_t n = pipe_peek(in, consume ? 0 : done, buf,
				     MIN((size_t)SPLICE_CHUNK, len - done));
		ssize_t w;

		if (!n)
			break;
		w = write_all(out, buf, n, NULL);
		if (w > 0) {
			if (consume)
				pipe_consume(in, (size_t)w);
			done += (size_t)w;
		}
		if (w < (ssize_t)n)
			return done ? (ssize_t)done : w;
	}
	return (ssize_t)done;
}

/* ---- sendfile ---- */

/* do_sendfile(); ppos: the user's offset (NULL: in's position). */
static ssize_t do_sendfile(struct task *t, int out_fd, int in_fd,
			   int64_t *ppos, uint64_t count)
{
	_cleanup_file_ struct file *in = file_get(t, in_fd);
	_cleanup_file_ struct file *out = NULL;
	struct pos_locks l;
	bool in_own_pos, out_pos_used;
	int64_t pos, opos;
	ssize_t r;

	if (!in || !(in->fmode & FMODE_READ))
		return -EBADF;
	if (ppos && !(in->fmode & FMODE_PREAD))
		return -ESPIPE;
	in_own_pos = !ppos && !(in->fmode & FMODE_STREAM);
	/* rw_verify_area(READ) comes before the output fd is looked at;
	 * the position is read again under f_pos_lock below. */
	r = verify_area(ppos ? *ppos : in->pos, count);
	if (r < 0)
		return r;
	out = file_get(t, out_fd);
	if (!out || !(out->fmode & FMODE_WRITE))
		return -EBADF;
	count = MIN(count, (uint64_t)VFS_MAX_RW_COUNT);
	r = verify_area(out->pos, count);
	if (r < 0)
		return r;
	if (pipe_file_is_pipe(out)) {
		/* splice_file_to_pipe(): it takes in's position itself,
		 * after waiting for room. */
		pos = ppos ? *ppos : 0;
		r = file_to_pipe(in, ppos ? &pos : NULL, out, count,
				 out->flags & O_NONBLOCK);
		if (r > 0 && ppos)
			*ppos = pos;
		return r;
	}
	out_pos_used = !(out->fmode & FMODE_STREAM);
	pos_lock2(&l, in_own_pos ? in : NULL, out_pos_used ? out : NULL);
	pos = ppos ? *ppos : in->pos;
	opos = out->pos;
	/* do_splice_direct(): no appending output, and the input must be a
	 * regular file. */
	if (out->flags & O_APPEND)
		r = -EINVAL;
	else if (!in->inode || !S_ISREG(in->inode->mode))
		r = -EINVAL;
	else
		r = file_to_file(in, &pos, out, out_pos_used ? &opos : NULL,
				 count);
	if (r > 0) {
		if (out_pos_used)
			out->pos = opos;
		if (ppos)
			*ppos = pos;
		else if (in_own_pos)
			in->pos = pos;
	}
	pos_unlock2(&l);
	return r;
}

SYSCALL_DEFINE(sendfile)
{
	uint64_t uoff = args->a[2];
	int64_t pos;
	ssize_t r;

	ipc_set_current(t);
	if (!uoff)
		return do_sendfile(t, (int)args->a[0], (int)args->a[1], NULL,
				   args->a[3]);
	if (mm_copy_in(t->mm, &pos, uoff, sizeof(pos)))
		return -EFAULT;
	r = do_sendfile(t, (int)args->a[0], (int)args->a[1], &pos, args->a[3]);
	if (mm_copy_out(t->mm, uoff, &pos, sizeof(pos)))
		return -EFAULT;
	return r;
}

/* ---- copy_file_range ---- */

SYSCALL_DEFINE(copy_file_range)
{
	_cleanup_file_ struct file *in = file_get(t, (int)args->a[0]);
	_cleanup_file_ struct file *out = NULL;
	uint64_t uoff_in = args->a[1], uoff_out = args->a[3];
	uint64_t len = args->a[4];
	int64_t pos_in, pos_out, size_in;
	struct pos_locks l = { 0 };
	bool locked = false;
	ssize_t r;

	if (!in)
		return -EBADF;
	out = file_get(t, (int)args->a[2]);
	if (!out)
		return -EBADF;
	if (uoff_in && mm_copy_in(t->mm, &pos_in, uoff_in, sizeof(pos_in)))
		return -EFAULT;
	if (uoff_out && mm_copy_in(t->mm, &pos_out, uoff_out, sizeof(pos_out)))
		return -EFAULT;
	if (args->a[5] != 0)
		return -EINVAL;
	/* generic_file_rw_checks() */
	if (!in->inode || !out->inode)
		return -EINVAL;
	if (S_ISDIR(in->inode->mode) || S_ISDIR(out->inode->mode))
		return -EISDIR;
	if (!S_ISREG(in->inode->mode) || !S_ISREG(out->inode->mode))
		return -EINVAL;
	if (!(in->fmode & FMODE_READ) || !(out->fmode & FMODE_WRITE) ||
	    (out->flags & O_APPEND))
		return -EBADF;
	/* Linux >= 5.19: across file systems only through a shared
	 * ->copy_file_range (none here), so EXDEV. */
	if (in->inode->sb != out->inode->sb)
		return -EXDEV;

	if (!uoff_in || !uoff_out) {
		pos_lock2(&l, uoff_in ? NULL : in, uoff_out ? NULL : out);
		locked = true;
	}
	if (!uoff_in)
		pos_in = in->pos;
	if (!uoff_out)
		pos_out = out->pos;
	/* generic_copy_file_checks(): offsets must not wrap; the count
	 * stops at EOF; no overlap within one file. */
	if ((uint64_t)pos_in + len < (uint64_t)pos_in ||
	    (uint64_t)pos_out + len < (uint64_t)pos_out) {
		r = -EOVERFLOW;
		goto out;
	}
	pthread_mutex_lock(&in->inode->lock);
	size_in = in->inode->size;
	pthread_mutex_unlock(&in->inode->lock);
	if (pos_in >= size_in)
		len = 0;
	else
		len = MIN(len, (uint64_t)(size_in - pos_in));
	/* (pos_in + len fits: len stops at EOF; pos_out + len may not.) */
	if (in->inode == out->inode && pos_in >= 0 &&
	    (uint64_t)pos_out + len > (uint64_t)pos_in &&
	    pos_out < pos_in + (int64_t)len) {
		r = -EINVAL;
		goto out;
	}
	r = verify_area(pos_in, len);
	if (r == 0)
		r = verify_area(pos_out, len);
	if (r < 0 || len == 0)
		goto out;
	r = file_to_file(in, &pos_in, out, &pos_out,
			 MIN(len, (uint64_t)VFS_MAX_RW_COUNT));
	if (r > 0) {
		if (!uoff_in)
			in->pos = pos_in;
		if (!uoff_out)
			out->pos = pos_out;
	}
out:
	if (locked)
		pos_unlock2(&l);
	if (r > 0) {
		if (uoff_in && mm_copy_out(t->mm, uoff_in, &pos_in,
					   sizeof(pos_in)))
			return -EFAULT;
		if (uoff_out && mm_copy_out(t->mm, uoff_out, &pos_out,
					    sizeof(pos_out)))
			return -EFAULT;
	}
	return r;
}

/* ---- splice ---- */

/* do_splice() after the offsets were read (off_in/off_out NULL: none). */
static ssize_t do_splice(struct file *in, int64_t *off_in, struct file *out,
			 int64_t *off_out, size_t len, unsigned int flags)
{
	bool ipipe = pipe_file_is_pipe(in), opipe = pipe_file_is_pipe(out);
	bool nonblock = flags & CV_SPLICE_F_NONBLOCK;
	int64_t offset;
	ssize_t r;

	if (!(in->fmode & FMODE_READ) || !(out->fmode & FMODE_WRITE))
		return -EBADF;
	if (ipipe && opipe) {
		if (off_in || off_out)
			return -ESPIPE;
		/* "Splicing to self would be fun, but..." */
		if (pipe_files_same(in, out))
			return -EINVAL;
		if ((in->flags | out->flags) & O_NONBLOCK)
			nonblock = true;
		return pipe_to_pipe(in, out, len, nonblock, true);
	}
	if (ipipe) {
		if (off_in)
			return -ESPIPE;
		if (off_out && !(out->fmode & FMODE_PREAD))
			return -EINVAL;
		if (out->flags & O_APPEND)
			return -EINVAL;
		/* rw_verify_area(WRITE) before any wait. */
		r = verify_area(off_out ? *off_out : 0, len);
		if (r < 0)
			return r;
		if (in->flags & O_NONBLOCK)
			nonblock = true;
		offset = off_out ? *off_out : 0;
		r = pipe_to_file(in, out, off_out ? &offset : NULL, len,
				 nonblock);
		if (r > 0 && off_out)
			*off_out = offset;
		return r;
	}
	if (opipe) {
		if (off_out)
			return -ESPIPE;
		if (off_in && !(in->fmode & FMODE_PREAD))
			return -EINVAL;
		if (out->flags & O_NONBLOCK)
			nonblock = true;
		offset = off_in ? *off_in : 0;
		r = file_to_pipe(in, off_in ? &offset : NULL, out, len,
				 nonblock);
		if (r > 0 && off_in)
			*off_in = offset;
		return r;
	}
	return -EINVAL;
}

SYSCALL_DEFINE(splice)
{
	uint64_t uoff_in = args->a[1], uoff_out = args->a[3];
	uint64_t len = args->a[4];
	unsigned int flags = (unsigned int)args->a[5];
	_cleanup_file_ struct file *in = NULL;
	_cleanup_file_ struct file *out = NULL;
	int64_t off_in, off_out;
	ssize_t r;

	ipc_set_current(t);
	if (!len)
		return 0;
	if (args->a[5] & ~(uint64_t)CV_SPLICE_F_ALL)
		return -EINVAL;
	in = file_get(t, (int)args->a[0]);
	if (!in)
		return -EBADF;
	out = file_get(t, (int)args->a[2]);
	if (!out)
		return -EBADF;
	/* __do_splice(): a pipe side takes no offset. */
	if (pipe_file_is_pipe(in) && uoff_in)
		return -ESPIPE;
	if (pipe_file_is_pipe(out) && uoff_out)
		return -ESPIPE;
	if (uoff_out && mm_copy_in(t->mm, &off_out, uoff_out, sizeof(off_out)))
		return -EFAULT;
	if (uoff_in && mm_copy_in(t->mm, &off_in, uoff_in, sizeof(off_in)))
		return -EFAULT;
	r = do_splice(in, uoff_in ? &off_in : NULL, out,
		      uoff_out ? &off_out : NULL, (size_t)len, flags);
	if (r < 0)
		return r;
	if (uoff_out && mm_copy_out(t->mm, uoff_out, &off_out, sizeof(off_out)))
		return -EFAULT;
	if (uoff_in && mm_copy_out(t->mm, uoff_in, &off_in, sizeof(off_in)))
		return -EFAULT;
	return r;
}

/* ---- tee ---- */

SYSCALL_DEFINE(tee)
{
	uint64_t len = args->a[2];
	unsigned int flags = (unsigned int)args->a[3];
	_cleanup_file_ struct file *in = NULL;
	_cleanup_file_ struct file *out = NULL;
	bool nonblock = flags & CV_SPLICE_F_NONBLOCK;

	ipc_set_current(t);
	if (args->a[3] & ~(uint64_t)CV_SPLICE_F_ALL)
		return -EINVAL;
	if (!len)
		return 0;
	in = file_get(t, (int)args->a[0]);
	if (!in)
		return -EBADF;
	out = file_get(t, (int)args->a[1]);
	if (!out)
		return -EBADF;
	if (!(in->fmode & FMODE_READ) || !(out->fmode & FMODE_WRITE))
		return -EBADF;
	if (!pipe_file_is_pipe(in) || !pipe_file_is_pipe(out) ||
	    pipe_files_same(in, out))
		return -EINVAL;
	if ((in->flags | out->flags) & O_NONBLOCK)
		nonblock = true;
	return pipe_to_pipe(in, out, (size_t)len, nonblock, false);
}

/* ---- vmsplice ---- */

/* vmsplice_to_pipe(): wait for room, then fill what the free slots hold. */
static ssize_t vmsplice_to_pipe(struct task *t, struct file *f,
				struct uvec *uv, int n, uint64_t total,
				bool nonblock)
{
	_cleanup_free_ char *buf = NULL;
	ssize_t space = pipe_wait_space(f, nonblock);
	size_t done = 0, want;
	int i = 0;

	if (space < 0)
		return space;
	want = MIN(total, (uint64_t)space);
	buf = malloc(MIN(want, (size_t)SPLICE_CHUNK));
	if (!buf)
		return -ENOMEM;
	while (done < want) {
		size_t fill = 0, cap = MIN((size_t)SPLICE_CHUNK, want - done);
		bool fault = false;
		ssize_t w;

		while (fill < cap && i < n) {
			size_t k = MIN(cap - fill, uv[i].len);

			if (k && mm_copy_in(t->mm, buf + fill, uv[i].base, k)) {
				fault = true;
				break;
			}
			fill += k;
			uv[i].base += k;
			uv[i].len -= k;
			if (!uv[i].len)
				i++;
		}
		if (fill) {
			w = write_all(f, buf, fill, NULL);
			if (w < 0)
				return done ? (ssize_t)done : w;
			done += (size_t)w;
			if ((size_t)w < fill)
				break;
		}
		if (fault)
			return done ? (ssize_t)done : -EFAULT;
		if (!fill)
			break;
	}
	return (ssize_t)done;
}

/* vmsplice_to_user(): like readv, waiting (unless SPLICE_F_NONBLOCK) for
 * data, then taking what is queued. */
static ssize_t vmsplice_to_user(struct task *t, struct file *f,
				struct uvec *uv, int n, uint64_t total,
				bool nonblock)
{
	_cleanup_free_ char *buf = NULL;
	size_t done = 0;
	int i = 0, r = pipe_wait_data(f, nonblock);

	if (r <= 0)
		return r;
	buf = malloc(MIN(total, (uint64_t)SPLICE_CHUNK));
	if (!buf)
		return -ENOMEM;
	while (done < total) {
		size_t got = pipe_peek(f, 0, buf,
				       MIN((size_t)SPLICE_CHUNK, total - done));
		size_t put = 0;

		if (!got)
			break;
		while (put < got && i < n) {
			size_t k = MIN(got - put, uv[i].len);

			if (k && mm_copy_out(t->mm, uv[i].base, buf + put, k)) {
				pipe_consume(f, put);
				done += put;
				return done ? (ssize_t)done : -EFAULT;
			}
			put += k;
			uv[i].base += k;
			uv[i].len -= k;
			if (!uv[i].len)
				i++;
		}
		pipe_consume(f, put);
		done += put;
		if (put < got)
			break;
	}
	return (ssize_t)done;
}

SYSCALL_DEFINE(vmsplice)
{
	_cleanup_file_ struct file *f = NULL;
	_cleanup_free_ struct uvec *uv = NULL;
	unsigned int flags = (unsigned int)args->a[3];
	uint64_t total;
	bool to_pipe;
	int n;

	ipc_set_current(t);
	if (args->a[3] & ~(uint64_t)CV_SPLICE_F_ALL)
		return -EINVAL;
	f = file_get(t, (int)args->a[0]);
	if (!f)
		return -EBADF;
	/* vmsplice_type(): the direction is the fd's. */
	if (f->fmode & FMODE_WRITE)
		to_pipe = true;
	else if (f->fmode & FMODE_READ)
		to_pipe = false;
	else
		return -EBADF;
	n = import_iovec(t, args->a[1], args->a[2], &uv, &total);
	if (n < 0)
		return n;
	if (!total)
		return 0;
	if (!pipe_file_is_pipe(f))
		return -EBADF;
	if (to_pipe)
		return vmsplice_to_pipe(t, f, uv, n, total,
					(flags & CV_SPLICE_F_NONBLOCK) ||
						(f->flags & O_NONBLOCK));
	return vmsplice_to_user(t, f, uv, n, total,
				flags & CV_SPLICE_F_NONBLOCK);
}

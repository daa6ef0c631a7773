// SPDX-License-Identifier: GPL-2.0
/*
 * The gofer's request loop: one request datagram in, one reply out, over
 * the protocol in cvisor/gofer_proto.h.
 *
 * Trust: the peer (the sentry) may be compromised, so every field of every
 * request is checked (length, op, handle, name) and a bad request gets an
 * error reply; nothing a request contains can crash the gofer or name a file
 * outside the root. Handles are O_PATH|O_NOFOLLOW fds obtained one component
 * at a time from the root, never by walking a path; symlinks are never
 * followed (the sentry resolves them itself with READLINK).
 *
 * The process is single threaded: no locks. The server owns every handle
 * fd and closes them all when the peer hangs up.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cvisor/gofer.h"
#include "cvisor/util.h"
#include "gofer_impl.h"

#define REQ_HDR offsetof(struct gofer_req, name)
#define REPLY_HDR offsetof(struct gofer_reply, data)
#define DATA_MAX (GOFER_MSG_MAX - REPLY_HDR)
#define DIRENT_HDR offsetof(struct gofer_dirent, name)
#define PLUS_HDR offsetof(struct gofer_direntplus, name)
/* Most READDIR_PLUS records in one reply (names of at least one byte). */
#define PLUS_MAX (DATA_MAX / ((PLUS_HDR + 1 + 7) & ~7UL))
#define MAX_HANDLES (1u << 20)
/* READDIR reads on while this much reply is free (a few records). */
#define READDIR_MIN_ROOM 4096
#define GOFER_RING_ENTRIES 512
/* Fewer names than this are stat'ed by the loop: for 4 names the ring and
 * the loop take the same time, from 16-64 on the ring wins, by 2.3x at 1000
 * (docs/architecture.md, "Gofer"). */
#define GOFER_RING_MIN 32
_Static_assert(PLUS_MAX <= GOFER_RING_ENTRIES, "a READDIR_PLUS batch fits the ring");

struct gofer_server {
	int procfd;
	bool readonly;
	int *fds;
	uint32_t nfds;
	uint32_t hint;	/* no free slot below this */
	union {
		struct gofer_req req;
		char raw[GOFER_MSG_MAX];
	} *in;
	union {
		struct gofer_reply rep;
		char raw[GOFER_MSG_MAX];
	} *out;
	char *dents;	/* getdents64 buffer, DATA_MAX bytes */
	/* READDIR_PLUS batches: the names (pointing into dents) and their
	 * stat results, PLUS_MAX each; the ring when batching by io_uring. */
	const char **pnames;
	struct statx *pstx;
	struct io_uring ring;
	bool have_ring;
};

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	uint16_t d_reclen;
	uint8_t d_type;
	char d_name[];
};

static int handle_fd(struct gofer_server *s, uint32_t h)
{
	if (h >= s->nfds || s->fds[h] < 0)
		return -EBADF;
	return s->fds[h];
}

static int handle_new(struct gofer_server *s, int fd, uint32_t *out)
{
	uint32_t h;

	for (h = s->hint; h < s->nfds && s->fds[h] >= 0; h++)
		;
	if (h == s->nfds) {
		uint32_t n = s->nfds ? s->nfds * 2 : 256;
		int *nf;

		if (s->nfds >= MAX_HANDLES)
			return -EMFILE;
		nf = realloc(s->fds, n * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		for (uint32_t i = s->nfds; i < n; i++)
			nf[i] = -1;
		s->fds = nf;
		s->nfds = n;
	}
	s->fds[h] = fd;
	s->hint = h + 1;
	*out = h;
	return 0;
}

static void fill_stat(struct gofer_stat *g, const struct stat *st)
{
	memset(g, 0, sizeof(*g));
	g->dev = st->st_dev;
	g->ino = st->st_ino;
	g->nlink = st->st_nlink;
	g->mode = st->st_mode;
	g->uid = st->st_uid;
	g->gid = st->st_gid;
	g->rdev = st->st_rdev;
	g->size = st->st_size;
	g->blksize = st->st_blksize;
	g->blocks = st->st_blocks;
	g->atime_sec = st->st_atim.tv_sec;
	g->atime_nsec = st->st_atim.tv_nsec;
	g->mtime_sec = st->st_mtim.tv_sec;
	g->mtime_nsec = st->st_mtim.tv_nsec;
	g->ctime_sec = st->st_ctim.tv_sec;
	g->ctime_nsec = st->st_ctim.tv_nsec;
}

static int stat_fd(int fd, struct stat *st)
{
	return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0
		       ? -errno
		       : 0;
}

/* One component, never "", ".", "..", or anything with '/' or NUL. */
static int check_name(const char *name, size_t len)
{
	if (len == 0)
		return -EINVAL;
	if (len > GOFER_NAME_MAX)
		return -ENAMETOOLONG;
	if (memchr(name, '/', len) || memchr(name, '\0', len))
		return -EINVAL;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return -EINVAL;
	return 0;
}

/* The refactor of every name-taking op: one checked component of the
 * request, as a C string in buf. */
static int take_name(const char *name, size_t len,
		     char buf[static GOFER_NAME_MAX + 1])
{
	int r = check_name(name, len);

	if (r < 0)
		return r;
	memcpy(buf, name, len);
	buf[len] = '\0';
	return 0;
}

/* SYMLINK, RENAME, SETXATTR: the payload is "first\0second": the first
 * part ends at the first NUL, the second is the rest, checked by the op (a
 * name or target holds no NUL, an xattr value may). Lengths are the
 * datagram's: nothing is read past len. */
static int split_payload(const char *p, size_t len, size_t *alen,
			 const char **b, size_t *blen)
{
	const char *nul = memchr(p, '\0', len);

	if (!nul)
		return -EINVAL;
	*alen = (size_t)(nul - p);
	*b = nul + 1;
	*blen = len - *alen - 1;
	return 0;
}

/* Walk the checked C-string component buf of directory fd. */
static int walk_cstr(struct gofer_server *s, int fd, const char *buf)
{
	struct stat st;
	uint32_t h;
	int nfd, r;

	/* O_PATH|O_NOFOLLOW: a symlink becomes a handle on the link itself;
	 * openat() of a single checked component cannot leave fd's dir. */
	nfd = openat(fd, buf, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (nfd < 0)
		return -errno;
	r = stat_fd(nfd, &st);
	if (r == 0)
		r = handle_new(s, nfd, &h);
	if (r < 0) {
		close(nfd);
		return r;
	}
	s->out->rep.handle = h;
	fill_stat(&s->out->rep.st, &st);
	return 0;
}

static int do_walk(struct gofer_server *s, int fd, const char *name, size_t len)
{
	char buf[GOFER_NAME_MAX + 1];
	int r = take_name(name, len, buf);

	return r < 0 ? r : walk_cstr(s, fd, buf);
}

/* CREATE/MKDIR: make one checked component in the directory handle fd
 * (O_EXCL|O_NOFOLLOW: never through an existing name or symlink), then
 * walk it like WALK. The mode is the sentry's (umask applied there; the
 * gofer's own umask is 0). */
static int do_make(struct gofer_server *s, int fd, const char *name,
		   size_t len, uint64_t mode, bool dir)
{
	char buf[GOFER_NAME_MAX + 1];
	int r, nfd;

	if (s->readonly)
		return -EROFS;
	r = take_name(name, len, buf);
	if (r < 0)
		return r;
	if (mode & ~07777ULL)
		return -EINVAL;
	if (dir) {
		if (mkdirat(fd, buf, (mode_t)mode) < 0)
			return -errno;
	} else {
		nfd = openat(fd, buf, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY |
			     O_CLOEXEC | O_NOCTTY, (mode_t)mode);
		if (nfd < 0)
			return -errno;
		close(nfd);
	}
	return walk_cstr(s, fd, buf);
}

/* UNLINK: unlinkat() of one checked component of the directory handle. */
static int do_unlink(struct gofer_server *s, int fd, const char *name,
		     size_t len, uint64_t arg)
{
	char buf[GOFER_NAME_MAX + 1];
	int r;

	if (s->readonly)
		return -EROFS;
	if (arg & ~(uint64_t)AT_REMOVEDIR)
		return -EINVAL;
	r = take_name(name, len, buf);
	if (r < 0)
		return r;
	return unlinkat(fd, buf, (int)arg) < 0 ? -errno : 0;
}

/* SYMLINK: symlinkat(target, fd, name). The target is data (the sentry
 * resolves links itself, the gofer never follows one): any bytes but NUL,
 * 1..GOFER_TARGET_MAX of them. */
static int do_symlink(struct gofer_server *s, int fd, const char *p, size_t len)
{
	char buf[GOFER_NAME_MAX + 1], target[GOFER_TARGET_MAX + 1];
	const char *t;
	size_t nlen, tlen;
	int r;

	r = split_payload(p, len, &nlen, &t, &tlen);
	if (r == 0)
		r = take_name(p, nlen, buf);
	if (r < 0)
		return r;
	if (tlen == 0 || memchr(t, '\0', tlen))
		return -EINVAL;
	if (tlen > GOFER_TARGET_MAX)
		return -ENAMETOOLONG;
	if (s->readonly)
		return -EROFS;
	memcpy(target, t, tlen);
	target[tlen] = '\0';
	if (symlinkat(target, fd, buf) < 0)
		return -errno;
	return walk_cstr(s, fd, buf);
}

/* LINK: linkat(fd, "", dirfd, name, AT_EMPTY_PATH) links exactly the
 * handle's inode (CAP_DAC_READ_SEARCH, kept by the gofer); no old name is
 * walked, so nothing can be swapped under it. Not a directory (the kernel
 * says EPERM too). Replies with the file's new stat. */
static int do_link(struct gofer_server *s, int fd, int dirfd, const char *name,
		   size_t len)
{
	char buf[GOFER_NAME_MAX + 1];
	struct stat st;
	int r;

	r = take_name(name, len, buf);
	if (r < 0)
		return r;
	if (s->readonly)
		return -EROFS;
	r = stat_fd(fd, &st);
	if (r < 0)
		return r;
	if (S_ISDIR(st.st_mode))
		return -EPERM;
	if (linkat(fd, "", dirfd, buf, AT_EMPTY_PATH) < 0)
		return -errno;
	r = stat_fd(fd, &st);
	if (r == 0)
		fill_stat(&s->out->rep.st, &st);
	return r;
}

/* RENAME: renameat2() of one checked component of a held directory to one
 * of another (or the same) held directory of this root; never follows
 * either name. Flags: RENAME_NOREPLACE, RENAME_EXCHANGE (no WHITEOUT). */
static int do_rename(struct gofer_server *s, int ofd, int nfd, const char *p,
		     size_t len, uint64_t flags)
{
	char oname[GOFER_NAME_MAX + 1], nname[GOFER_NAME_MAX + 1];
	const char *n;
	size_t olen, nlen;
	int r;

	if (flags & ~(uint64_t)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	r = split_payload(p, len, &olen, &n, &nlen);
	if (r == 0)
		r = take_name(p, olen, oname);
	if (r == 0)
		r = take_name(n, nlen, nname);
	if (r < 0)
		return r;
	if (s->readonly)
		return -EROFS;
	/* The raw call: glibc turns renameat2(..., 0) into renameat, one
	 * more syscall for the filter. */
	return syscall(SYS_renameat2, ofd, oname, nfd, nname,
		       (unsigned int)flags) < 0
		       ? -errno
		       : 0;
}

/* Reopen handle fd with real flags through /proc/self/fd: the magic link
 * names exactly the handle's file, no path walk is involved. (This is why
 * O_NOFOLLOW cannot be added here: it would refuse the magic link itself;
 * the handle was checked not to be a symlink instead.) */
static int reopen(struct gofer_server *s, int fd, int flags)
{
	char name[16];
	int nfd;

	snprintf(name, sizeof(name), "%d", fd);
	nfd = openat(s->procfd, name, flags | O_CLOEXEC | O_NOCTTY);
	return nfd < 0 ? -errno : nfd;
}

/* OPEN's checks and reopen of handle fd, whose lstat is *st. */
static int open_stat(struct gofer_server *s, int fd, const struct stat *st,
		     uint64_t flags, int *outfd)
{
	const uint64_t allowed = O_ACCMODE | O_APPEND | O_TRUNC | O_DIRECTORY;
	struct stat st2;
	int nfd;

	if (flags & ~allowed || (flags & O_ACCMODE) == O_ACCMODE)
		return -EINVAL;
	if (s->readonly && ((flags & O_ACCMODE) != O_RDONLY ||
			    (flags & (O_TRUNC | O_APPEND))))
		return -EROFS;
	if (S_ISLNK(st->st_mode))
		return -ELOOP;
	/* Only files and directories: opening a fifo would block the gofer,
	 * a device would hand out host hardware. */
	if (S_ISDIR(st->st_mode)) {
		if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC))
			return -EISDIR;
		flags |= O_DIRECTORY;
	} else if (!S_ISREG(st->st_mode)) {
		return -ENXIO;
	} else if (flags & O_DIRECTORY) {
		return -ENOTDIR;
	}
	nfd = reopen(s, fd, (int)flags);
	if (nfd < 0)
		return nfd;
	/* Belt and braces: the reopened fd is the handle's inode. */
	if (fstat(nfd, &st2) < 0 || st2.st_dev != st->st_dev ||
	    st2.st_ino != st->st_ino) {
		close(nfd);
		return -EIO;
	}
	*outfd = nfd;
	return 0;
}

static int do_open(struct gofer_server *s, int fd, uint64_t flags, int *outfd)
{
	struct stat st;
	int r = stat_fd(fd, &st);

	return r < 0 ? r : open_stat(s, fd, &st, flags, outfd);
}

/*
 * WALK_OPEN: exactly WALK then OPEN of the new handle, in one round trip.
 * The same openat(O_PATH|O_NOFOLLOW) of one checked component makes the
 * handle, the same checks and /proc/self/fd reopen make the fd, and the
 * errors are WALK's then OPEN's. All or nothing: when the open fails the
 * handle is not kept, so an error reply never leaves one behind. With
 * GOFER_WALK_OPEN_LOOKUP, only a regular file is opened, a symlink's
 * target is read as READLINK does (readlinkat(fd, "") of the new handle:
 * follows nothing), and a failed open or readlink leaves the reply WALK's.
 */
static int do_walk_open(struct gofer_server *s, int fd, const char *name,
			size_t len, uint64_t flags, int *outfd)
{
	char buf[GOFER_NAME_MAX + 1];
	struct stat st;
	uint32_t h = 0;
	int r, nfd, ofd = -1;

	r = take_name(name, len, buf);
	if (r < 0)
		return r;
	nfd = openat(fd, buf, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (nfd < 0)
		return -errno;
	r = stat_fd(nfd, &st);
	if (r == 0 && !(flags & GOFER_WALK_OPEN_LOOKUP)) {
		r = open_stat(s, nfd, &st, flags, &ofd);
	} else if (r == 0 && S_ISREG(st.st_mode)) {
		if (open_stat(s, nfd, &st, flags & ~GOFER_WALK_OPEN_LOOKUP,
			      &ofd) < 0)
			ofd = -1;
	} else if (r == 0 && S_ISLNK(st.st_mode)) {
		ssize_t n = readlinkat(nfd, "", s->out->rep.data, DATA_MAX);

		s->out->rep.datalen = n > 0 ? (uint32_t)n : 0;
	}
	if (r == 0)
		r = handle_new(s, nfd, &h);
	if (r < 0) {
		if (ofd >= 0)
			close(ofd);
		close(nfd);
		return r;
	}
	s->out->rep.handle = h;
	fill_stat(&s->out->rep.st, &st);
	*outfd = ofd;
	return 0;
}

/*
 * SETATTR on a held handle, one kind at a time as the syscalls ask: owner
 * by fchownat(fd, "", AT_EMPTY_PATH) (a link handle: the link, lchown),
 * mode by fchmodat() of the handle's /proc/self/fd entry (exactly its
 * inode; a link has no mode of its own: EOPNOTSUPP as fchmodat2's
 * AT_SYMLINK_NOFOLLOW), size by ftruncate() of a write-only reopen of a
 * regular file, times by utimensat(fd, "", AT_EMPTY_PATH |
 * AT_SYMLINK_NOFOLLOW). Replies with the new stat.
 */
static int do_setattr(struct gofer_server *s, int fd, const char *p,
		      size_t len)
{
	struct gofer_setattr a;
	const uint32_t known = GOFER_SETATTR_MODE | GOFER_SETATTR_UID |
			       GOFER_SETATTR_GID | GOFER_SETATTR_SIZE |
			       GOFER_SETATTR_TIMES;
	struct stat st;
	int r;

	if (len != sizeof(a))
		return -EINVAL;
	memcpy(&a, p, sizeof(a));
	if (!a.valid || (a.valid & ~known) || (a.mode & ~07777U) ||
	    ((a.valid & GOFER_SETATTR_SIZE) && a.size < 0))
		return -EINVAL;
	if (s->readonly)
		return -EROFS;
	r = stat_fd(fd, &st);
	if (r < 0)
		return r;
	if (a.valid & (GOFER_SETATTR_UID | GOFER_SETATTR_GID) &&
	    fchownat(fd, "", (a.valid & GOFER_SETATTR_UID) ? a.uid : (uid_t)-1,
		     (a.valid & GOFER_SETATTR_GID) ? a.gid : (gid_t)-1,
		     AT_EMPTY_PATH) < 0)
		return -errno;
	if (a.valid & GOFER_SETATTR_MODE) {
		char name[16];

		if (S_ISLNK(st.st_mode))
			return -EOPNOTSUPP;
		snprintf(name, sizeof(name), "%d", fd);
		if (fchmodat(s->procfd, name, (mode_t)a.mode, 0) < 0)
			return -errno;
	}
	if (a.valid & GOFER_SETATTR_SIZE) {
		int wfd;

		if (!S_ISREG(st.st_mode))
			return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		wfd = reopen(s, fd, O_WRONLY);
		if (wfd < 0)
			return wfd;
		r = ftruncate(wfd, (off_t)a.size) < 0 ? -errno : 0;
		close(wfd);
		if (r < 0)
			return r;
	}
	if (a.valid & GOFER_SETATTR_TIMES) {
		struct timespec ts[2] = {
			{ .tv_sec = a.atime_sec, .tv_nsec = a.atime_nsec },
			{ .tv_sec = a.mtime_sec, .tv_nsec = a.mtime_nsec },
		};

		if (utimensat(fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	r = stat_fd(fd, &st);
	if (r == 0)
		fill_stat(&s->out->rep.st, &st);
	return r;
}

/* An xattr name: "user." and a non-empty rest, no NUL, at most
 * GOFER_XATTR_NAME_MAX bytes; as a C string in buf. */
static int take_xattr_name(const char *name, size_t len,
			   char buf[static GOFER_XATTR_NAME_MAX + 1])
{
	const size_t plen = sizeof(GOFER_XATTR_PREFIX) - 1;

	if (len > GOFER_XATTR_NAME_MAX)
		return -ERANGE;	/* as setxattr(2) for a long name */
	if (len <= plen || memchr(name, '\0', len))
		return -EINVAL;
	if (memcmp(name, GOFER_XATTR_PREFIX, plen))
		return -EOPNOTSUPP;
	memcpy(buf, name, len);
	buf[len] = '\0';
	return 0;
}

/* A read-only reopen of a regular file or directory handle for the
 * f*xattr calls (never a fifo, which would block, or a device). */
static int xattr_fd(struct gofer_server *s, int fd)
{
	struct stat st;
	int r = stat_fd(fd, &st);

	if (r < 0)
		return r;
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return -EPERM;	/* user.* on other types, as xattr_permission() */
	return reopen(s, fd, O_RDONLY);
}

/* GETXATTR, LISTXATTR, SETXATTR, REMOVEXATTR on the handle's own inode.
 * The value or list is returned whole (the sentry applies the caller's
 * size); more than a reply holds is E2BIG. */
static int do_xattr(struct gofer_server *s, uint32_t op, int fd, const char *p,
		    size_t len, uint64_t arg)
{
	struct gofer_reply *rep = &s->out->rep;
	char name[GOFER_XATTR_NAME_MAX + 1];
	const char *val = NULL;
	size_t nlen = len, vlen = 0;
	ssize_t n;
	int xfd, r = 0;

	if (op == GOFER_OP_LISTXATTR) {
		if (len || arg)
			return -EINVAL;
	} else {
		if (op == GOFER_OP_SETXATTR) {
			if (arg & ~(uint64_t)(XATTR_CREATE | XATTR_REPLACE))
				return -EINVAL;
			r = split_payload(p, len, &nlen, &val, &vlen);
		} else if (arg) {
			return -EINVAL;
		}
		if (r == 0)
			r = take_xattr_name(p, nlen, name);
		if (r < 0)
			return r;
	}
	if (s->readonly &&
	    (op == GOFER_OP_SETXATTR || op == GOFER_OP_REMOVEXATTR))
		return -EROFS;
	xfd = xattr_fd(s, fd);
	if (xfd < 0)
		return xfd;
	switch (op) {
	case GOFER_OP_GETXATTR:
		n = fgetxattr(xfd, name, rep->data, DATA_MAX);
		break;
	case GOFER_OP_LISTXATTR:
		n = flistxattr(xfd, rep->data, DATA_MAX);
		break;
	case GOFER_OP_SETXATTR:
		n = fsetxattr(xfd, name, val, vlen, (int)arg);
		break;
	default:
		n = fremovexattr(xfd, name);
		break;
	}
	r = n < 0 ? (errno == ERANGE && op != GOFER_OP_SETXATTR ? -E2BIG
							       : -errno)
		   : 0;
	if (r == 0 && (op == GOFER_OP_GETXATTR || op == GOFER_OP_LISTXATTR))
		rep->datalen = (uint32_t)n;
	close(xfd);
	return r;
}

static int do_readdir(struct gofer_server *s, int fd, uint64_t cookie)
{
	struct gofer_reply *rep = &s->out->rep;
	size_t used = 0;
	int dfd, r = 0;

	if (cookie > INT64_MAX)
		return -EINVAL;
	dfd = reopen(s, fd, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return dfd;
	if (lseek(dfd, (off_t)cookie, SEEK_SET) < 0) {
		r = -errno;
		goto out;
	}
	rep->next = 0;
	/* Records shrink in conversion (12-byte header vs 19), so a batch
	 * read into a buffer of the reply's free space always fits it. Loop
	 * while a batch held only "." and "..", so progress means data, and
	 * then while there is room, so a listing that fits one reply says so
	 * (next 0) instead of costing the sentry a round trip to learn it. */
	for (;;) {
		size_t room = DATA_MAX - used;
		long n, pos = 0;

		if (used && room < READDIR_MIN_ROOM)
			break;	/* next: the last d_off sent */
		n = getdents64(dfd, s->dents, room);
		if (n < 0) {
			if (used && errno == EINVAL)
				break; /* the next record did not fit room */
			r = -errno;
			break;
		}
		if (n == 0) {
			rep->next = 0;
			break;
		}
		while (pos < n) {
			struct linux_dirent64 *d = (void *)(s->dents + pos);
			size_t len = strlen(d->d_name);
			struct gofer_dirent g;

			pos += d->d_reclen;
			rep->next = (uint64_t)d->d_off;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			if (len > GOFER_NAME_MAX)
				continue;
			g.ino = d->d_ino;
			g.type = d->d_type;
			g.namelen = (uint8_t)len;
			g.reclen = (uint16_t)((DIRENT_HDR + len + 7) & ~7UL);
			if (used + g.reclen > DATA_MAX) {
				r = -EIO; /* cannot happen, see above */
				goto out;
			}
			memset(rep->data + used, 0, g.reclen);
			memcpy(rep->data + used, &g, DIRENT_HDR);
			memcpy(rep->data + used + DIRENT_HDR, d->d_name, len);
			used += g.reclen;
		}
	}
	rep->datalen = (uint32_t)used;
out:
	close(dfd);
	return r;
}

static void fill_statx(struct gofer_stat *g, const struct statx *x)
{
	memset(g, 0, sizeof(*g));
	g->dev = makedev(x->stx_dev_major, x->stx_dev_minor);
	g->ino = x->stx_ino;
	g->nlink = x->stx_nlink;
	g->mode = x->stx_mode;
	g->uid = x->stx_uid;
	g->gid = x->stx_gid;
	g->rdev = makedev(x->stx_rdev_major, x->stx_rdev_minor);
	g->size = (int64_t)x->stx_size;
	g->blksize = x->stx_blksize;
	g->blocks = (int64_t)x->stx_blocks;
	g->atime_sec = x->stx_atime.tv_sec;
	g->atime_nsec = x->stx_atime.tv_nsec;
	g->mtime_sec = x->stx_mtime.tv_sec;
	g->mtime_nsec = x->stx_mtime.tv_nsec;
	g->ctime_sec = x->stx_ctime.tv_sec;
	g->ctime_nsec = x->stx_ctime.tv_nsec;
}

/* Reap n completions of the ring into errs[]; false if the ring fails. */
static bool ring_reap(struct gofer_server *s, size_t n, int32_t *errs)
{
	for (size_t done = 0; done < n; done++) {
		struct io_uring_cqe *cqe;
		uint64_t k;
		int r;

		do
			r = io_uring_wait_cqe(&s->ring, &cqe);
		while (r == -EINTR);
		if (r < 0)
			return false;
		k = io_uring_cqe_get_data64(cqe);
		if (k < n)
			errs[k] = cqe->res < 0 ? cqe->res : 0;
		io_uring_cqe_seen(&s->ring, cqe);
	}
	return true;
}

/* lstat the n names of dfd into s->pstx, errors into errs[]. By the ring
 * when there is one: n IORING_OP_STATX, one io_uring_enter for the lot
 * (the kernel's io-wq runs them in parallel) for GOFER_RING_MIN names or
 * more; else a statx() loop. Each
 * name is one component from getdents64 ('.' and '..' skipped) and
 * AT_SYMLINK_NOFOLLOW: neither way can leave dfd. */
static void stat_batch(struct gofer_server *s, int dfd, size_t n, int32_t *errs)
{
	const unsigned int mask = STATX_BASIC_STATS;

	if (s->have_ring && n >= GOFER_RING_MIN && n <= GOFER_RING_ENTRIES) {
		int sub;

		for (size_t i = 0; i < n; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);

			io_uring_prep_statx(sqe, dfd, s->pnames[i],
					    AT_SYMLINK_NOFOLLOW, mask,
					    &s->pstx[i]);
			io_uring_sqe_set_data64(sqe, i);
		}
		do
			sub = io_uring_submit_and_wait(&s->ring, (unsigned)n);
		while (sub == -EINTR);
		if (sub == (int)n && ring_reap(s, n, errs))
			return;
		/* A ring that failed is not used again. Requests it took must
		 * finish before pstx is reused, or they would write into the
		 * next batch: wait for them, or die (the sentry sees EIO). */
		s->have_ring = false;
		if (sub > 0 && !ring_reap(s, (size_t)sub, errs))
			abort();
	}
	for (size_t i = 0; i < n; i++)
		errs[i] = statx(dfd, s->pnames[i], AT_SYMLINK_NOFOLLOW, mask,
				&s->pstx[i]) < 0
				  ? -errno
				  : 0;
}

/*
 * READDIR_PLUS: the names of one batch of getdents64 (those whose records
 * fit the reply), then their stats in one go. Resumes at the d_off of the
 * last entry sent, so a batch that does not fit whole is continued by the
 * next request.
 */
static int do_readdir_plus(struct gofer_server *s, int fd, uint64_t cookie)
{
	struct gofer_reply *rep = &s->out->rep;
	size_t used = 0, n = 0, doff = 0;
	size_t offs[PLUS_MAX];
	int32_t errs[PLUS_MAX];
	int dfd, r = 0;

	if (cookie > INT64_MAX)
		return -EINVAL;
	dfd = reopen(s, fd, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return dfd;
	if (lseek(dfd, (off_t)cookie, SEEK_SET) < 0) {
		r = -errno;
		goto out;
	}
	rep->next = 0;
	/* Loop while a batch held only "." and "..", so progress means
	 * data, and then while the reply and the dents buffer have room
	 * (each read goes after the last: pnames point into it), so a
	 * listing that fits one reply ends with next 0 (see do_readdir). A
	 * smaller read than READDIR's: records grow here. */
	for (;;) {
		size_t want = MIN((size_t)DATA_MAX / 4, (size_t)DATA_MAX - doff);
		long got, pos = 0;

		if (n && (want < READDIR_MIN_ROOM || n == PLUS_MAX ||
			  DATA_MAX - used < READDIR_MIN_ROOM))
			break;	/* next: the last d_off sent */
		got = getdents64(dfd, s->dents + doff, want);
		if (got < 0) {
			if (n && errno == EINVAL)
				break; /* the next record did not fit want */
			r = -errno;
			break;
		}
		if (got == 0) {
			rep->next = 0;
			break;
		}
		while (pos < got) {
			struct linux_dirent64 *d = (void *)(s->dents + doff + pos);
			size_t len = strlen(d->d_name);
			size_t reclen = (PLUS_HDR + len + 7) & ~7UL;
			struct gofer_direntplus *g;

			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..") ||
			    len > GOFER_NAME_MAX) {
				pos += d->d_reclen;
				rep->next = (uint64_t)d->d_off;
				continue;
			}
			if (used + reclen > DATA_MAX || n == PLUS_MAX)
				break; /* the next request resumes here */
			pos += d->d_reclen;
			rep->next = (uint64_t)d->d_off;
			g = (void *)(rep->data + used);
			memset(g, 0, reclen);
			g->ino = d->d_ino;
			g->type = d->d_type;
			g->namelen = (uint8_t)len;
			g->reclen = (uint16_t)reclen;
			memcpy(g->name, d->d_name, len);
			s->pnames[n] = d->d_name;
			offs[n++] = used;
			used += reclen;
		}
		if (pos < got && n == 0) {
			r = -EIO; /* one record always fits: cannot happen */
			break;
		}
		if (pos < got)
			break;	/* the reply is full */
		doff += (size_t)got; /* d_reclen is 8-aligned: so is doff */
	}
	if (r == 0 && n) {
		stat_batch(s, dfd, n, errs);
		for (size_t i = 0; i < n; i++) {
			struct gofer_direntplus *g = (void *)(rep->data + offs[i]);

			g->err = errs[i];
			if (errs[i] == 0)
				fill_statx(&g->st, &s->pstx[i]);
		}
	}
	rep->datalen = r == 0 ? (uint32_t)used : 0;
out:
	close(dfd);
	return r;
}

static int do_readlink(struct gofer_server *s, int fd)
{
	ssize_t n = readlinkat(fd, "", s->out->rep.data, DATA_MAX);

	if (n < 0)
		return -errno;
	s->out->rep.datalen = (uint32_t)n;
	return 0;
}

static int do_statfs(struct gofer_server *s, int fd)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) < 0)
		return -errno;
	memcpy(s->out->rep.data, &sfs, sizeof(sfs));
	s->out->rep.datalen = sizeof(sfs);
	return 0;
}

/* Decode and run one request of len bytes; fills s->out, maybe *outfd. */
static int dispatch(struct gofer_server *s, size_t len, int *outfd)
{
	const struct gofer_req *req = &s->in->req;
	struct stat st;
	int fd, r;

	if (len < REQ_HDR)
		return -EINVAL;
	if (req->namelen != len - REQ_HDR)
		return -EINVAL;
	switch ((enum gofer_op)req->op) {
	case GOFER_OP_WALK: case GOFER_OP_CREATE: case GOFER_OP_MKDIR:
	case GOFER_OP_UNLINK: case GOFER_OP_SETATTR: case GOFER_OP_SYMLINK:
	case GOFER_OP_LINK: case GOFER_OP_RENAME: case GOFER_OP_GETXATTR:
	case GOFER_OP_SETXATTR: case GOFER_OP_REMOVEXATTR:
	case GOFER_OP_WALK_OPEN:
		break;	/* payload checked by the op */
	case GOFER_OP_STAT: case GOFER_OP_OPEN: case GOFER_OP_READDIR:
	case GOFER_OP_READLINK: case GOFER_OP_CLOSE: case GOFER_OP_STATFS:
	case GOFER_OP_READDIR_PLUS: case GOFER_OP_LISTXATTR:
		if (req->namelen)
			return -EINVAL;
		break;
	}
	/* Only LINK and RENAME name a second handle. */
	if (req->handle2 && req->op != GOFER_OP_LINK &&
	    req->op != GOFER_OP_RENAME)
		return -EINVAL;
	fd = handle_fd(s, req->handle);

	switch ((enum gofer_op)req->op) {
	case GOFER_OP_WALK:
		/* One checked component by openat(O_PATH|O_NOFOLLOW). */
		return fd < 0 ? fd : do_walk(s, fd, req->name, req->namelen);
	case GOFER_OP_WALK_OPEN:
		/* WALK's one checked component by openat(O_PATH|O_NOFOLLOW),
		 * then OPEN's checks and reopen of that new handle. */
		return fd < 0 ? fd : do_walk_open(s, fd, req->name,
						  req->namelen, req->arg, outfd);
	case GOFER_OP_STAT:
		/* fstatat(AT_EMPTY_PATH) on a held handle: no path. */
		if (fd < 0)
			return fd;
		r = stat_fd(fd, &st);
		if (r == 0)
			fill_stat(&s->out->rep.st, &st);
		return r;
	case GOFER_OP_OPEN:
		/* Flags allowlisted, EROFS on a read-only root, regular
		 * files and directories only, reopened via its own fd. */
		return fd < 0 ? fd : do_open(s, fd, req->arg, outfd);
	case GOFER_OP_READDIR:
		/* Reads names of a held directory; output bounded. */
		return fd < 0 ? fd : do_readdir(s, fd, req->arg);
	case GOFER_OP_READLINK:
		/* readlinkat(fd, ""): returns the text, follows nothing. */
		return fd < 0 ? fd : do_readlink(s, fd);
	case GOFER_OP_CLOSE:
		/* Drops a handle; the root (handle 0) stays. */
		if (fd < 0)
			return fd;
		if (req->handle == GOFER_ROOT_HANDLE)
			return -EINVAL;
		close(fd);
		s->fds[req->handle] = -1;
		if (req->handle < s->hint)
			s->hint = req->handle;
		return 0;
	case GOFER_OP_STATFS:
		/* fstatfs() on a held handle. */
		return fd < 0 ? fd : do_statfs(s, fd);
	case GOFER_OP_READDIR_PLUS:
		/* READDIR plus a no-follow statx of each listed name relative
		 * to the reopened directory; no handles made, output bounded. */
		return fd < 0 ? fd : do_readdir_plus(s, fd, req->arg);
	case GOFER_OP_CREATE:
		/* EROFS on a read-only root; one checked component created
		 * O_EXCL|O_NOFOLLOW in a held directory, then walked. */
		return fd < 0 ? fd : do_make(s, fd, req->name, req->namelen,
					     req->arg, false);
	case GOFER_OP_MKDIR:
		/* As CREATE, with mkdirat() (never follows a final link). */
		return fd < 0 ? fd : do_make(s, fd, req->name, req->namelen,
					     req->arg, true);
	case GOFER_OP_UNLINK:
		/* unlinkat() of one checked component of a held directory:
		 * removes a name, never follows one. */
		return fd < 0 ? fd : do_unlink(s, fd, req->name, req->namelen,
					       req->arg);
	case GOFER_OP_SETATTR:
		/* EROFS on a read-only root; a fixed-size record; acts on the
		 * held handle's inode only (AT_EMPTY_PATH or its own
		 * /proc/self/fd entry), never on a name. */
		return fd < 0 ? fd : do_setattr(s, fd, req->name, req->namelen);
	case GOFER_OP_SYMLINK:
		/* One checked component made by symlinkat() in a held
		 * directory; the target is stored, never followed. */
		return fd < 0 ? fd : do_symlink(s, fd, req->name, req->namelen);
	case GOFER_OP_LINK:
		/* linkat(AT_EMPTY_PATH) of a held handle into one checked
		 * component of a held directory of the same root. */
		if (fd < 0)
			return fd;
		r = handle_fd(s, req->handle2);
		return r < 0 ? r : do_link(s, fd, r, req->name, req->namelen);
	case GOFER_OP_RENAME:
		/* renameat2() between checked components of two held
		 * directories of the same root; follows neither name. */
		if (fd < 0)
			return fd;
		r = handle_fd(s, req->handle2);
		return r < 0 ? r : do_rename(s, fd, r, req->name, req->namelen,
					     req->arg);
	case GOFER_OP_GETXATTR:
	case GOFER_OP_LISTXATTR:
	case GOFER_OP_SETXATTR:
	case GOFER_OP_REMOVEXATTR:
		/* user.* only, on a read-only reopen of a held file or
		 * directory (f*xattr: no path); SET/REMOVE EROFS on a
		 * read-only root; output bounded by the reply. */
		return fd < 0 ? fd : do_xattr(s, req->op, fd, req->name,
					      req->namelen, req->arg);
	}
	return -EINVAL; /* unknown op */
}

static int send_reply(int sock, const struct gofer_server *s, int fd)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} cmsg;
	struct iovec iov = { s->out, REPLY_HDR + s->out->rep.datalen };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(&cmsg, 0, sizeof(cmsg));
		msg.msg_control = &cmsg;
		msg.msg_controllen = sizeof(cmsg);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

/* recv() returns 0 both for an empty datagram and for a hang-up. */
static bool peer_gone(int sock)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR));
}

/* One request of n bytes already in s->in (n may exceed the buffer: the
 * datagram was truncated). Fills s->out and maybe *outfd; returns the reply
 * length. */
static size_t handle_request(struct gofer_server *s, size_t n, int *outfd)
{
	int r;

	*outfd = -1;
	memset(&s->out->rep, 0, REPLY_HDR);
	if (n > sizeof(*s->in))
		r = -EMSGSIZE;
	else
		r = dispatch(s, n, outfd);
	s->out->rep.err = r;
	if (r < 0)
		s->out->rep.datalen = 0;
	return REPLY_HDR + s->out->rep.datalen;
}

int gofer_server_new(int rootfd, int procfd, bool readonly,
		     struct gofer_server **out)
{
	struct gofer_server *s = calloc(1, sizeof(*s));
	uint32_t h;
	int r;

	if (s) {
		s->procfd = procfd;
		s->readonly = readonly;
		s->in = malloc(sizeof(*s->in));
		s->out = malloc(sizeof(*s->out));
		s->dents = malloc(DATA_MAX);
		s->pnames = calloc(PLUS_MAX, sizeof(*s->pnames));
		s->pstx = calloc(PLUS_MAX, sizeof(*s->pstx));
	}
	r = (s && s->in && s->out && s->dents && s->pnames && s->pstx)
		    ? handle_new(s, rootfd, &h)
		    : -ENOMEM;
	if (r < 0) {
		close(rootfd);
		if (s) {
			s->procfd = -1;
			gofer_server_free(s);
		}
		close(procfd);
		return r;
	}
	*out = s;
	return 0;
}

size_t gofer_server_handle(struct gofer_server *s, const void *req, size_t len,
			   const struct gofer_reply **reply, int *outfd)
{
	if (len <= sizeof(*s->in))
		memcpy(s->in, req, len);
	*reply = &s->out->rep;
	return handle_request(s, len, outfd);
}

void gofer_server_reset(struct gofer_server *s)
{
	for (uint32_t i = 0; i < s->nfds; i++)
		if (i != GOFER_ROOT_HANDLE && s->fds[i] >= 0) {
			close(s->fds[i]);
			s->fds[i] = -1;
		}
	s->hint = GOFER_ROOT_HANDLE + 1;
}

void gofer_server_free(struct gofer_server *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->nfds; i++)
		if (s->fds[i] >= 0)
			close(s->fds[i]);
	free(s->fds);
	free(s->in);
	free(s->out);
	free(s->dents);
	free(s->pnames);
	free(s->pstx);
	if (s->have_ring)
		io_uring_queue_exit(&s->ring);
	if (s->procfd >= 0)
		close(s->procfd);
	free(s);
}

int gofer_server_enable_uring(struct gofer_server *s)
{
	struct io_uring_restriction res[] = {
		{ .opcode = IORING_RESTRICTION_SQE_OP,
		  .sqe_op = IORING_OP_STATX },
	};
	/* io-wq workers per ring: bounded, unbounded. */
	unsigned int workers[2] = { 4, 4 };
	int r;

	if (s->have_ring)
		return 0;
	r = io_uring_queue_init(GOFER_RING_ENTRIES, &s->ring,
				IORING_SETUP_R_DISABLED);
	if (r < 0)
		return r;
	r = io_uring_register_iowq_max_workers(&s->ring, workers);
	/* Raw io_uring_register(2): Debian's liburing 2.3 declares but does
	 * not export io_uring_register_restrictions/enable_rings. */
	if (r == 0 &&
	    syscall(SYS_io_uring_register, s->ring.ring_fd,
		    IORING_REGISTER_RESTRICTIONS, res, ARRAY_SIZE(res)) < 0)
		r = -errno;
	if (r == 0 && syscall(SYS_io_uring_register, s->ring.ring_fd,
			      IORING_REGISTER_ENABLE_RINGS, NULL, 0) < 0)
		r = -errno;
	if (r < 0) {
		io_uring_queue_exit(&s->ring);
		return r;
	}
	s->have_ring = true;
	return 0;
}

int gofer_serve_fds(int sock, int rootfd, int procfd, bool readonly)
{
	struct gofer_server *s;
	int r;

	r = gofer_server_new(rootfd, procfd, readonly, &s);
	if (r < 0) {
		close(sock);
		return r;
	}
	return gofer_server_serve(s, sock);
}

/* One request and its reply: 1 served, 0 the peer hung up, -errno. */
static int serve_one(struct gofer_server *s, int sock)
{
	ssize_t n;
	int fd, r;

	do
		n = recv(sock, s->in, sizeof(*s->in), MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0 && peer_gone(sock))
		return 0;
	handle_request(s, (size_t)n, &fd);
	r = send_reply(sock, s, fd);
	if (fd >= 0)
		close(fd);
	if (r == -EPIPE || r == -ECONNRESET)
		return 0;
	return r < 0 ? r : 1;
}

int gofer_server_serve(struct gofer_server *s, int sock)
{
	int r;

	while ((r = serve_one(s, sock)) > 0)
		;
	gofer_server_free(s);
	close(sock);
	return r;
}

int gofer_server_serve_many(struct gofer_server **s, int *socks, int n)
{
	struct pollfd pfd[GOFER_MAX_ROOTS];
	int live = n, r = 0;

	if (n > GOFER_MAX_ROOTS)
		return -EINVAL;
	while (live > 0) {
		for (int i = 0; i < n; i++) {
			pfd[i].fd = s[i] ? socks[i] : -1;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		for (int i = 0; i < n; i++) {
			int one;

			if (!s[i] || !pfd[i].revents)
				continue;
			one = (pfd[i].revents & POLLIN) ? serve_one(s[i], socks[i])
							 : 0;
			if (one > 0)
				continue;
			/* Hung up (or broken): that root is done. */
			gofer_server_free(s[i]);
			s[i] = NULL;
			close(socks[i]);
			live--;
			if (one < 0)
				r = one;
		}
	}
	for (int i = 0; i < n; i++)
		if (s[i]) {
			gofer_server_free(s[i]);
			close(socks[i]);
		}
	return r;
}

int gofer_serve(int sock, int rootfd)
{
	/* Without gofer_spawn()'s setup the host /proc is still visible.
	 * This entry point only serves read-only roots. */
	int procfd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (procfd < 0) {
		int r = -errno;

		close(rootfd);
		close(sock);
		return r;
	}
	return gofer_serve_fds(sock, rootfd, procfd, true);
}

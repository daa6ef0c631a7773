// SPDX-License-Identifier: GPL-2.0
/*
 * goferfs: the root file system, served by the gofer process over the
 * protocol in cvisor/gofer_proto.h.
 *
 * The root is exclusive to the sandbox (runsc --file-access=exclusive), so
 * attributes from WALK, symlink targets and whole directory listings are
 * cached for the life of the inode, and failed lookups become negative
 * dentries. Regular files are opened once per open file description; the
 * gofer donates the host fd and reads go straight to it (preadv into the
 * caller's iovecs, no copies through the gofer). A lookup that has to ask
 * the gofer asks for the open too (WALK_OPEN with its LOOKUP bit: a regular
 * file comes with a read-only fd, a symlink with its target) while lookups
 * are mostly followed by opens, so opening a file costs one round trip.
 *
 * On a writable mount (rw bind, --overlay2=none root) every name and
 * attribute op goes to the host through the gofer, and the reply's stat
 * replaces the cached attributes of what it touched; listings of touched
 * directories are dropped (the dentry tree is edited by vfs/dirops.c).
 *
 * Locks: client->lock serialises one request/reply on the socket and the
 * reply buffer; it is the innermost lock (taken under vfs->lock for walks
 * and under inode->lock for listings and link targets), so attributes from
 * a reply are copied out and applied after it is dropped.
 *
 * Ownership: each inode owns its gofer handle (released when the socket
 * closes at vfs_destroy()), its link target and listing. The super block
 * owns the client and the socket.
 *
 * Replies are validated (lengths, errno range, record sizes): the gofer is
 * a separate, less trusted process.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>

#include "cvisor/gofer_proto.h"
#include "cvisor/log.h"
#include "cvisor/task.h"
#include "cvisor/mm.h"
#include "../vfs_impl.h"

#define REPLY_HDR offsetof(struct gofer_reply, data)
#define REQ_HDR offsetof(struct gofer_req, name)
#define DIRENT_HDR offsetof(struct gofer_dirent, name)
#define PLUS_HDR offsetof(struct gofer_direntplus, name)
#define PLUS_WARMUP 256
#define SPEC_WARMUP 64
#define SPEC_MAX_HELD 512

struct gofer_client {
	/* READDIR_PLUS pays a stat per entry: worth it only when lookups
	 * follow listings (find -type f, ls: no). Entries listed, and lookups
	 * that found their name in a listing, for the whole mount; atomic.
	 * Listings use READDIR_PLUS while lookups are >= 1/4 of entries (and
	 * for the first PLUS_WARMUP entries). */
	uint64_t listed, found;
	int sock;
	pthread_mutex_t lock;
	/* Round trips by op (client->lock held), logged at teardown with
	 * --debug: what a workload costs in gofer round trips. */
	uint64_t nops[GOFER_OP_COUNT];
	uint64_t op_ns[GOFER_OP_COUNT];	/* and their time, send to reply */
	/* A lookup's WALK of a regular file is followed by its open (import,
	 * exec, cat) or not (stat, ls -l). Lookups speculate, walking and
	 * opening read-only in one round trip (WALK_OPEN), while at least
	 * 1/8 of the regular files walked are then opened (and for the
	 * first SPEC_WARMUP); an unused fd costs the gofer a reopen and the
	 * sentry an fd until the inode goes, so at most SPEC_MAX_HELD are
	 * held unused. walked, opened: client->lock; held: atomic. */
	uint64_t spec_walked, spec_opened;
	uint32_t spec_held;
	bool nospec;	/* CVISOR_GOFER_SPEC=0, for measurements */
	size_t replen;
	union {
		struct gofer_reply rep;
		char raw[GOFER_MSG_MAX];
	} *in;
	union {
		struct gofer_req req;
		char raw[GOFER_MSG_MAX];	/* SETXATTR: up to a message */
	} out;
};

struct gofer_entry {
	uint64_t ino;
	uint8_t type;
	uint8_t len;
	char *name;
	int32_t sterr;		/* READDIR_PLUS: 0 = st valid, else -errno */
	struct gofer_stat st;
};

struct gofer_inode {
	uint32_t handle;
	/* Read-only host fd for the file, opened on first read-only open and
	 * shared (dup'ed) by later ones: the root is exclusive to the
	 * sandbox and reads use pread with the sentry's own offsets, so one
	 * host open serves every open(2). Saves a gofer round trip per open.
	 * Guarded by the client lock; -1 = none yet. */
	int rofd;
	bool have_link, listed;
	char *link;
	size_t linklen;
	struct gofer_entry *ents;
	size_t nents;
	/* Made from a READDIR_PLUS record: handle is GOFER_NO_HANDLE until
	 * gofer_need_handle() walks walkname from the parent's handle. */
	uint32_t parent;
	char *walkname;
	uint8_t walklen;
	/* A regular file a lookup walked, not opened yet (counts in
	 * spec_opened when it is); spec_fd: rofd is that lookup's
	 * speculative open, unused yet (counts in spec_held). Client lock. */
	bool walked, spec_fd;
};

static const struct inode_ops gofer_iops;

/* One round trip (client->lock held) with a second handle (LINK, RENAME)
 * and a payload of up to sizeof(c->out) - REQ_HDR bytes. Returns the
 * reply's err, or -EIO when the gofer is gone or answered nonsense. */
static int gofer_rpc2(struct gofer_client *c, uint32_t op, uint32_t handle,
		      uint32_t handle2, uint64_t arg, const void *name,
		      size_t namelen, int *fdp)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} cmsg;
	struct iovec iov = { c->in, sizeof(*c->in) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = &cmsg, .msg_controllen = sizeof(cmsg),
	};
	struct cmsghdr *cm;
	struct timespec t0, t1;
	int fd = -1, err;
	ssize_t n;

	if (fdp)
		*fdp = -1;
	if (namelen > sizeof(c->out) - REQ_HDR)
		return -ENAMETOOLONG;
	if (op < GOFER_OP_COUNT)
		c->nops[op]++;
	memset(&c->out.req, 0, sizeof(c->out.req));
	c->out.req.op = op;
	c->out.req.handle = handle;
	c->out.req.handle2 = handle2;
	c->out.req.arg = arg;
	c->out.req.namelen = (uint32_t)namelen;
	if (namelen && name != c->out.req.name)	/* (built in place) */
		memcpy(c->out.req.name, name, namelen);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		n = send(c->sock, &c->out, REQ_HDR + namelen, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -EIO;
	do
		n = recvmsg(c->sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (op < GOFER_OP_COUNT)
		c->op_ns[op] += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000LL +
					   (t1.tv_nsec - t0.tv_nsec));
	for (cm = CMSG_FIRSTHDR(&msg); n >= 0 && cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	if (n < (ssize_t)REPLY_HDR || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    c->in->rep.datalen > (size_t)n - REPLY_HDR) {
		err = -EIO;
		goto out;
	}
	c->replen = n;
	err = c->in->rep.err;
	if (err > 0 || err < -4095)
		err = -EIO;
	if (err == 0 && fdp && fd >= 0) {
		*fdp = fd;
		fd = -1;
	}
out:
	if (fd >= 0)
		close(fd);
	return err;
}

/* One round trip naming at most one component. */
static int gofer_rpc(struct gofer_client *c, uint32_t op, uint32_t handle,
		     uint64_t arg, const char *name, size_t namelen, int *fdp)
{
	if (namelen > GOFER_NAME_MAX)
		return -ENAMETOOLONG;
	return gofer_rpc2(c, op, handle, 0, arg, name, namelen, fdp);
}

static struct gofer_client *client(struct inode *ino)
{
	return ino->sb->priv;
}

static struct gofer_inode *gi(struct inode *ino)
{
	return ino->priv;
}

static void apply_stat(struct inode *ino, const struct gofer_stat *st)
{
	ino->ino = st->ino;
	ino->mode = st->mode;
	ino->nlink = st->nlink;
	ino->uid = st->uid;
	ino->gid = st->gid;
	ino->rdev = st->rdev;
	ino->size = st->size;
	ino->blocks = st->blocks;
	ino->atime.tv_sec = st->atime_sec;
	ino->atime.tv_nsec = st->atime_nsec;
	ino->mtime.tv_sec = st->mtime_sec;
	ino->mtime.tv_nsec = st->mtime_nsec;
	ino->ctime.tv_sec = st->ctime_sec;
	ino->ctime.tv_nsec = st->ctime_nsec;
}

static int gofer_inode_new(struct super_block *sb, uint32_t handle,
			   const struct gofer_stat *st, struct inode **out)
{
	struct inode *ino;
	struct gofer_inode *g;

	/* A file type the vfs does not know would confuse every later
	 * S_IS* test: refuse it. */
	switch (st->mode & S_IFMT) {
	case S_IFREG: case S_IFDIR: case S_IFLNK: case S_IFCHR:
	case S_IFBLK: case S_IFIFO: case S_IFSOCK:
		break;
	default:
		return -EIO;
	}
	ino = vfs_inode_new(sb, st->mode);
	g = calloc(1, sizeof(*g));
	if (!ino || !g) {
		free(g);
		if (ino) {
			pthread_mutex_destroy(&ino->lock);
			free(ino);
		}
		return -ENOMEM;
	}
	g->handle = handle;
	g->rofd = -1;
	ino->priv = g;
	ino->iops = &gofer_iops;
	apply_stat(ino, st);
	*out = ino;
	return 0;
}

static void gofer_inode_free(struct inode *ino)
{
	struct gofer_inode *g = ino->priv;

	if (!g)
		return;
	for (size_t i = 0; i < g->nents; i++)
		free(g->ents[i].name);
	free(g->ents);
	free(g->link);
	free(g->walkname);
	if (g->rofd >= 0)
		close(g->rofd);
	if (g->spec_fd) {
		struct gofer_client *c = ino->sb->priv;

		__atomic_fetch_sub(&c->spec_held, 1, __ATOMIC_RELAXED);
	}
	free(g);
}

/* An inode made from a READDIR_PLUS record has no handle until it is
 * first needed: walk its name from the parent's handle now (client->lock
 * held). The walk must find the file the listing saw; if the host changed
 * it under the (exclusive) root, -ESTALE rather than a handle on a file
 * whose attributes the inode does not have. */
static int gofer_need_handle(struct gofer_client *c, struct inode *ino)
{
	struct gofer_inode *g = ino->priv;
	const struct gofer_stat *st = &c->in->rep.st;
	int r;

	if (g->handle != GOFER_NO_HANDLE)
		return 0;
	r = gofer_rpc(c, GOFER_OP_WALK, g->parent, 0, g->walkname, g->walklen,
		      NULL);
	if (r < 0)
		return r;
	if (st->ino != ino->ino || ((st->mode ^ ino->mode) & S_IFMT)) {
		(void)gofer_rpc(c, GOFER_OP_CLOSE, c->in->rep.handle, 0, NULL,
				0, NULL);
		return -ESTALE;
	}
	g->handle = c->in->rep.handle;
	return 0;
}

/* A read-only open of ino (client->lock held): a looked-up file opened
 * counts for speculation, its speculative fd is used now. */
static void gofer_opened(struct gofer_client *c, struct gofer_inode *g)
{
	if (g->walked) {
		g->walked = false;
		c->spec_opened++;
	}
	if (g->spec_fd) {
		g->spec_fd = false;
		__atomic_fetch_sub(&c->spec_held, 1, __ATOMIC_RELAXED);
	}
}

/* OPEN of ino with flags, the host fd into *fdp (client->lock held). An
 * inode without a handle walks and opens in one round trip (WALK_OPEN),
 * with gofer_need_handle()'s check that the walk found the listed file. */
static int gofer_open_rpc(struct gofer_client *c, struct inode *ino,
			  uint64_t flags, int *fdp)
{
	struct gofer_inode *g = ino->priv;
	const struct gofer_stat *st = &c->in->rep.st;
	int r;

	if (g->handle != GOFER_NO_HANDLE)
		return gofer_rpc(c, GOFER_OP_OPEN, g->handle, flags, NULL, 0,
				 fdp);
	r = gofer_rpc(c, GOFER_OP_WALK_OPEN, g->parent, flags, g->walkname,
		      g->walklen, fdp);
	if (r < 0)
		return r;
	if (st->ino != ino->ino || ((st->mode ^ ino->mode) & S_IFMT)) {
		if (*fdp >= 0)
			close(*fdp);
		*fdp = -1;
		(void)gofer_rpc(c, GOFER_OP_CLOSE, c->in->rep.handle, 0, NULL,
				0, NULL);
		return -ESTALE;
	}
	g->handle = c->in->rep.handle;
	return 0;
}

/* Fetch the whole listing once (inode->lock held). While lookups follow
 * listings (stat of every entry: ls -l, du, find -ls), with each entry's
 * attributes (READDIR_PLUS), so those lookups need no round trip. */
static int gofer_list(struct inode *dir)
{
	struct gofer_client *c = client(dir);
	struct gofer_inode *g = gi(dir);
	struct gofer_entry *ents = NULL;
	size_t n = 0, cap = 0;
	uint64_t cookie = 0;
	int r = 0;
	uint64_t nl = __atomic_load_n(&c->listed, __ATOMIC_RELAXED);
	bool plus = nl < PLUS_WARMUP ||
		    __atomic_load_n(&c->found, __ATOMIC_RELAXED) * 4 >= nl;
	size_t hdr = plus ? PLUS_HDR : DIRENT_HDR;

	if (g->listed)
		return 0;
	pthread_mutex_lock(&c->lock);
	r = gofer_need_handle(c, dir);
	while (r == 0) {
		const char *p = c->in->rep.data;
		size_t left;

		r = gofer_rpc(c, plus ? GOFER_OP_READDIR_PLUS : GOFER_OP_READDIR,
			      g->handle, cookie, NULL, 0, NULL);
		if (r < 0)
			break;
		left = c->in->rep.datalen;
		cookie = c->in->rep.next;
		if (cookie && !left) {
			r = -EIO; /* no progress: a looping gofer */
			break;
		}
		while (left) {
			struct gofer_direntplus de = { .err = -ENODATA };

			if (left < hdr) {
				r = -EIO;
				break;
			}
			if (plus) {
				memcpy(&de, p, PLUS_HDR);
			} else {
				struct gofer_dirent d;

				memcpy(&d, p, DIRENT_HDR);
				de.ino = d.ino;
				de.reclen = d.reclen;
				de.type = d.type;
				de.namelen = d.namelen;
			}
			if (de.reclen < hdr + de.namelen ||
			    de.reclen > left || !de.namelen) {
				r = -EIO;
				break;
			}
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				void *ne = realloc(ents, ncap * sizeof(*ents));

				if (!ne) {
					r = -ENOMEM;
					break;
				}
				ents = ne;
				cap = ncap;
			}
			ents[n].name = strndup(p + hdr, de.namelen);
			if (!ents[n].name) {
				r = -ENOMEM;
				break;
			}
			ents[n].ino = de.ino;
			ents[n].type = de.type;
			ents[n].len = de.namelen;
			/* An out-of-range err: no attributes, WALK on lookup. */
			ents[n].sterr = de.err <= 0 && de.err >= -4095 ? de.err
								       : -EIO;
			ents[n].st = de.st;
			n++;
			p += de.reclen;
			left -= de.reclen;
		}
		if (!cookie)
			break;
	}
	pthread_mutex_unlock(&c->lock);
	__atomic_fetch_add(&c->listed, n, __ATOMIC_RELAXED);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			free(ents[i].name);
		free(ents);
		return r;
	}
	g->ents = ents;
	g->nents = n;
	g->listed = true;
	return 0;
}

static int gofer_lookup(struct inode *dir, const char *name, size_t len,
			struct inode **out)
{
	struct gofer_client *c = client(dir);
	struct gofer_inode *g = gi(dir), *wg;
	struct gofer_stat st;
	uint32_t h;
	int r, fd = -1;
	bool spec;
	char *link = NULL;
	size_t linklen = 0;

	/* A complete cached listing answers misses without a round trip,
	 * and hits with the attributes READDIR_PLUS brought: the inode walks
	 * its handle only when an operation needs one. */
	pthread_mutex_lock(&dir->lock);
	if (g->listed) {
		struct gofer_entry *e = NULL;

		for (size_t i = 0; i < g->nents && !e; i++)
			if (g->ents[i].len == len &&
			    !memcmp(g->ents[i].name, name, len))
				e = &g->ents[i];
		if (!e) {
			pthread_mutex_unlock(&dir->lock);
			return -ENOENT;
		}
		__atomic_fetch_add(&c->found, 1, __ATOMIC_RELAXED);
		if (e->sterr == 0) {
			st = e->st;
			r = gofer_inode_new(dir->sb, GOFER_NO_HANDLE, &st, out);
			if (r == 0) {
				struct gofer_inode *ng = gi(*out);

				ng->parent = g->handle;
				ng->walklen = e->len;
				ng->walkname = strndup(e->name, e->len);
				if (!ng->walkname) {
					gofer_inode_free(*out);
					(*out)->priv = NULL;
					pthread_mutex_destroy(&(*out)->lock);
					free(*out);
					r = -ENOMEM;
				}
			}
			pthread_mutex_unlock(&dir->lock);
			return r;
		}
	}
	pthread_mutex_unlock(&dir->lock);

	pthread_mutex_lock(&c->lock);
	r = gofer_need_handle(c, dir);
	spec = !c->nospec && (c->spec_walked < SPEC_WARMUP ||
			      c->spec_opened * 8 >= c->spec_walked);
	spec = spec && __atomic_load_n(&c->spec_held, __ATOMIC_RELAXED) <
			       SPEC_MAX_HELD;
	if (r == 0 && spec)
		r = gofer_rpc(c, GOFER_OP_WALK_OPEN, g->handle,
			      O_RDONLY | GOFER_WALK_OPEN_LOOKUP, name, len, &fd);
	else if (r == 0)
		r = gofer_rpc(c, GOFER_OP_WALK, g->handle, 0, name, len, NULL);
	h = c->in->rep.handle;
	st = c->in->rep.st;
	if (r == 0 && S_ISREG(st.mode))
		c->spec_walked++;
	/* A link's target came with it: the first readlink is free. */
	if (r == 0 && spec && S_ISLNK(st.mode) && c->in->rep.datalen) {
		linklen = c->in->rep.datalen;
		link = malloc(linklen);
		if (link)
			memcpy(link, c->in->rep.data, linklen);
	}
	pthread_mutex_unlock(&c->lock);
	if (r < 0)
		return r;
	r = gofer_inode_new(dir->sb, h, &st, out);
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		free(link);
		return r;
	}
	wg = gi(*out);
	if (link) {
		wg->link = link;
		wg->linklen = linklen;
		wg->have_link = true;
	}
	wg->walked = S_ISREG(st.mode);
	if (fd >= 0 && wg->walked) {
		wg->rofd = fd;
		wg->spec_fd = true;
		__atomic_fetch_add(&c->spec_held, 1, __ATOMIC_RELAXED);
	} else if (fd >= 0) {
		close(fd);	/* (a gofer that opened a non-file) */
	}
	return 0;
}

static int gofer_readlink(struct inode *ino, char *buf, size_t len)
{
	struct gofer_client *c = client(ino);
	struct gofer_inode *g = gi(ino);
	int r = 0;

	pthread_mutex_lock(&ino->lock);
	if (!g->have_link) {
		pthread_mutex_lock(&c->lock);
		r = gofer_need_handle(c, ino);
		if (r == 0)
			r = gofer_rpc(c, GOFER_OP_READLINK, g->handle, 0, NULL,
				      0, NULL);
		if (r == 0) {
			g->link = malloc(c->in->rep.datalen + 1);
			if (!g->link) {
				r = -ENOMEM;
			} else {
				g->linklen = c->in->rep.datalen;
				memcpy(g->link, c->in->rep.data, g->linklen);
				g->have_link = true;
			}
		}
		pthread_mutex_unlock(&c->lock);
	}
	if (r == 0) {
		r = (int)MIN(len, g->linklen);
		memcpy(buf, g->link, r);
	}
	pthread_mutex_unlock(&ino->lock);
	return r;
}

static ssize_t gofer_read(struct file *f, const struct iovec *iov, int cnt,
			  int64_t *off)
{
	ssize_t n;

	do
		n = preadv(f->hostfd, iov, cnt, *off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	*off += n;
	return n;
}

/* Pages of a file mapping: straight from the donated host fd into the
 * memory file (memfile_fill_fd), no copy through the sentry's mapping. */
static ssize_t gofer_read_frames(struct file *f, struct memfile *mf,
				 uint64_t mfoff, size_t len, uint64_t off)
{
	if (f->hostfd < 0)
		return -EOPNOTSUPP;
	return memfile_fill_fd(mf, mfoff, len, f->hostfd, off);
}

static ssize_t gofer_write(struct file *f, const struct iovec *iov, int cnt,
			   int64_t *off)
{
	int64_t pos = *off;
	struct stat st;
	ssize_t n;

	/* The host fd has O_APPEND too (pwritev then appends whatever the
	 * offset): the file position ends after the data written, at the
	 * end of the file, as on Linux. */
	if (f->flags & O_APPEND) {
		pos = lseek(f->hostfd, 0, SEEK_END);
		if (pos < 0)
			return -errno;
	}
	n = pwritev(f->hostfd, iov, cnt, pos);
	if (n < 0)
		return -errno;
	*off = pos + n;
	/* A writable bind mount: the cached attributes follow our writes. */
	if (fstat(f->hostfd, &st) == 0) {
		pthread_mutex_lock(&f->inode->lock);
		f->inode->size = st.st_size;
		f->inode->blocks = st.st_blocks;
		f->inode->mtime = st.st_mtim;
		f->inode->ctime = st.st_ctim;
		pthread_mutex_unlock(&f->inode->lock);
	}
	return n;
}

static int gofer_iterate(struct file *f, struct dir_ctx *ctx)
{
	struct inode *dir = f->inode;
	struct gofer_inode *g = gi(dir);
	struct dentry *parent = f->path.dentry->parent;
	int r;

	pthread_mutex_lock(&dir->lock);
	r = gofer_list(dir);
	if (r < 0)
		goto out;
	if (ctx->pos == 0 && !ctx->actor(ctx, ".", 1, dir->ino, DT_DIR, 1))
		goto out;
	if (ctx->pos == 1 &&
	    !ctx->actor(ctx, "..", 2, parent ? parent->inode->ino : dir->ino,
			DT_DIR, 2))
		goto out;
	/* Positions are indexes into the cached listing + 2: stable. */
	for (int64_t i = ctx->pos - 2; i >= 0 && i < (int64_t)g->nents; i++) {
		struct gofer_entry *e = &g->ents[i];

		if (!ctx->actor(ctx, e->name, e->len, e->ino, e->type, i + 3))
			break;
	}
out:
	pthread_mutex_unlock(&dir->lock);
	return r;
}

static const struct file_ops gofer_file_ops = {
	.read = gofer_read,
	.write = gofer_write,
	.read_frames = gofer_read_frames,
};

static const struct file_ops gofer_dir_ops = {
	.iterate = gofer_iterate,
};

static int gofer_open(struct inode *ino, struct file *f)
{
	struct gofer_client *c = client(ino);
	int fd, r;

	if (S_ISDIR(ino->mode)) {
		f->ops = &gofer_dir_ops;
		return 0;
	}
	/* Device nodes, fifos and sockets in the image are not opened on
	 * the host (a fifo would block the gofer; devices are devfs's). */
	if (!S_ISREG(ino->mode))
		return -ENXIO;
	/* (An inode from a listing: one WALK_OPEN, not WALK then OPEN.) */
	pthread_mutex_lock(&c->lock);
	if ((f->flags & (O_ACCMODE | O_APPEND)) == O_RDONLY) {
		struct gofer_inode *g = gi(ino);

		r = 0;
		gofer_opened(c, g);
		if (g->rofd < 0)
			r = gofer_open_rpc(c, ino, O_RDONLY, &g->rofd);
		fd = -1;
		if (r >= 0 && g->rofd >= 0) {
			fd = fcntl(g->rofd, F_DUPFD_CLOEXEC, 3);
			if (fd < 0)
				r = -errno;
		}
	} else {
		r = gofer_open_rpc(c, ino, f->flags & (O_ACCMODE | O_APPEND),
				   &fd);
	}
	pthread_mutex_unlock(&c->lock);
	if (r < 0)
		return r;
	if (fd < 0)
		return -EIO;
	f->hostfd = fd;
	f->ops = &gofer_file_ops;
	return 0;
}

/* statfs(2) passes through to the host file system of the root. */
static int gofer_statfs(struct inode *ino, struct statfs *sfs)
{
	struct gofer_client *c = client(ino);
	int r;

	pthread_mutex_lock(&c->lock);
	r = gofer_need_handle(c, ino);
	if (r == 0)
		r = gofer_rpc(c, GOFER_OP_STATFS, gi(ino)->handle, 0, NULL, 0,
			      NULL);
	if (r == 0 && c->in->rep.datalen < sizeof(*sfs))
		r = -EIO;
	if (r == 0)
		memcpy(sfs, c->in->rep.data, sizeof(*sfs));
	pthread_mutex_unlock(&c->lock);
	if (r == 0 && ino->sb->readonly)
		sfs->f_flags |= ST_RDONLY;
	return r;
}

/* The stat a reply brought becomes ino's cached attributes (after
 * client->lock is dropped: inode->lock is taken outside it elsewhere). */
static void refresh(struct inode *ino, const struct gofer_stat *st)
{
	pthread_mutex_lock(&ino->lock);
	apply_stat(ino, st);
	pthread_mutex_unlock(&ino->lock);
}

/* One SETATTR of ino; the host's new stat becomes the cached one. */
static int setattr_rpc(struct gofer_client *c, struct inode *ino,
		       const struct gofer_setattr *ga)
{
	struct gofer_stat st;
	int r;

	pthread_mutex_lock(&c->lock);
	r = gofer_need_handle(c, ino);
	if (r == 0)
		r = gofer_rpc2(c, GOFER_OP_SETATTR, gi(ino)->handle, 0, 0, ga,
			       sizeof(*ga), NULL);
	st = c->in->rep.st;
	pthread_mutex_unlock(&c->lock);
	if (r == 0)
		refresh(ino, &st);
	return r;
}

/* truncate(2), ftruncate(2) and O_TRUNC on a writable gofer mount: one
 * SETATTR (the gofer ftruncates a write-only reopen of the handle). */
static int gofer_truncate(struct inode *ino, int64_t size)
{
	struct gofer_setattr ga = { .valid = GOFER_SETATTR_SIZE, .size = size };

	if (ino->sb->readonly)
		return -EROFS;
	return setattr_rpc(client(ino), ino, &ga);
}

/* chmod, chown and utimensat on a writable gofer mount, after
 * vfs_setattr()'s permission checks: the host applies its own side
 * effects (suid kill on chown, ctime) and the inode takes its new stat. */
static int gofer_setattr(struct inode *ino, const struct vfs_setattr *a)
{
	struct gofer_setattr ga = { 0 };

	if (ino->sb->readonly)
		return -EROFS;
	if (a->valid & VFS_ATTR_MODE) {
		ga.valid |= GOFER_SETATTR_MODE;
		ga.mode = a->mode & 07777;
	}
	if (a->valid & VFS_ATTR_UID) {
		ga.valid |= GOFER_SETATTR_UID;
		ga.uid = a->uid;
	}
	if (a->valid & VFS_ATTR_GID) {
		ga.valid |= GOFER_SETATTR_GID;
		ga.gid = a->gid;
	}
	if (a->valid & VFS_ATTR_TIMES_NULL) {
		ga.valid |= GOFER_SETATTR_TIMES;
		ga.atime_nsec = ga.mtime_nsec = UTIME_NOW;
	} else if (a->valid & VFS_ATTR_TIMES) {
		ga.valid |= GOFER_SETATTR_TIMES;
		ga.atime_sec = a->atime.tv_sec;
		ga.atime_nsec = a->atime.tv_nsec;
		ga.mtime_sec = a->mtime.tv_sec;
		ga.mtime_nsec = a->mtime.tv_nsec;
	}
	if (!ga.valid)
		return 0;
	return setattr_rpc(client(ino), ino, &ga);
}

/* A name was made or removed on the host: the cached listing is stale
 * (lookups then ask the gofer again). */
static void gofer_forget_listing(struct inode *dir)
{
	struct gofer_inode *g = gi(dir);

	pthread_mutex_lock(&dir->lock);
	for (size_t i = 0; i < g->nents; i++)
		free(g->ents[i].name);
	free(g->ents);
	g->ents = NULL;
	g->nents = 0;
	g->listed = false;
	pthread_mutex_unlock(&dir->lock);
}

/*
 * A new file belongs to the creating task, as on Linux (inode_init_owner():
 * fsuid, and fsgid unless the directory is setgid, where the host already
 * gave it the directory's group), but the gofer made it as its own user:
 * one more SETATTR when they differ (a workload that is not root). The
 * mode goes with it, as the chown cleared set-id bits. Best effort: on
 * failure the file keeps the gofer's owner (client->lock held).
 */
static void own_new(struct gofer_client *c, struct inode *dir,
		    const struct cred *cred, uint32_t h, struct gofer_stat *st)
{
	struct gofer_setattr ga = {
		.valid = GOFER_SETATTR_UID | GOFER_SETATTR_GID,
		.uid = cred->fsuid,
		.gid = (dir->mode & S_ISGID) ? st->gid : cred->fsgid,
	};

	if (ga.uid == st->uid && ga.gid == st->gid)
		return;
	if (!S_ISLNK(st->mode)) {
		ga.valid |= GOFER_SETATTR_MODE;
		ga.mode = st->mode & 07777;
	}
	if (gofer_rpc2(c, GOFER_OP_SETATTR, h, 0, 0, &ga, sizeof(ga), NULL) == 0)
		*st = c->in->rep.st;
}

/* The end of a CREATE/MKDIR/SYMLINK round trip whose result is r (client
 * lock held; released here): the new file goes to the creating task, the
 * directory's listing is stale, *out gets the new inode. */
static int created(struct gofer_client *c, struct inode *dir,
		   const struct cred *cred, int r, struct inode **out)
{
	uint32_t h = c->in->rep.handle;
	struct gofer_stat st = c->in->rep.st;

	if (r == 0)
		own_new(c, dir, cred, h, &st);
	pthread_mutex_unlock(&c->lock);
	if (r < 0)
		return r;
	gofer_forget_listing(dir);
	return gofer_inode_new(dir->sb, h, &st, out);
}

/* open(O_CREAT) and mkdir on a writable gofer mount: made on the host by
 * the gofer (CREATE/MKDIR), then given to the creating task. */
static int gofer_mknod_at(struct inode *dir, const char *name, size_t len,
			  mode_t mode, const struct cred *cred,
			  struct inode **out)
{
	struct gofer_client *c = client(dir);
	int r;

	if (!S_ISREG(mode) && !S_ISDIR(mode))
		return -EPERM;
	if (dir->sb->readonly)
		return -EROFS;
	pthread_mutex_lock(&c->lock);
	r = gofer_need_handle(c, dir);
	if (r == 0)
		r = gofer_rpc(c, S_ISDIR(mode) ? GOFER_OP_MKDIR : GOFER_OP_CREATE,
			      gi(dir)->handle, mode & 07777, name, len, NULL);
	return created(c, dir, cred, r, out);
}

static int gofer_unlink(struct inode *dir, const char *name, size_t len,
			bool is_dir)
{
	struct gofer_client *c = client(dir);
	int r;

	if (dir->sb->readonly)
		return -EROFS;
	pthread_mutex_lock(&c->lock);
	r = gofer_need_handle(c, dir);
	if (r == 0)
		r = gofer_rpc(c, GOFER_OP_UNLINK, gi(dir)->handle,
			      is_dir ? AT_REMOVEDIR : 0, name, len, NULL);
	pthread_mutex_unlock(&c->lock);
	if (r == 0)
		gofer_forget_listing(dir);
	return r;
}

/* "a\0b" into buf (sized for the longest SYMLINK payload); its length. */
static size_t two_names(char *buf, const char *a, size_t alen, const char *b,
			size_t blen)
{
	memcpy(buf, a, alen);
	buf[alen] = '\0';
	memcpy(buf + alen + 1, b, blen);
	return alen + 1 + blen;
}

/* symlink(2) on a writable gofer mount: made by the gofer (SYMLINK),
 * owned by the creating task like CREATE's files. */
static int gofer_symlink_at(struct inode *dir, const char *name, size_t len,
			    const char *target, const struct cred *cred,
			    struct inode **out)
{
	struct gofer_client *c = client(dir);
	char buf[GOFER_NAME_MAX + 1 + GOFER_TARGET_MAX];
	size_t tlen = strlen(target);
	int r;

	if (dir->sb->readonly)
		return -EROFS;
	if (len > GOFER_NAME_MAX)
		return -ENAMETOOLONG;
	if (tlen > GOFER_TARGET_MAX)
		return -ENAMETOOLONG;
	pthread_mutex_lock(&c->lock);
	r = gofer_need_handle(c, dir);
	if (r == 0)
		r = gofer_rpc2(c, GOFER_OP_SYMLINK, gi(dir)->handle, 0, 0, buf,
			       two_names(buf, name, len, target, tlen), NULL);
	return created(c, dir, cred, r, out);
}

/* link(2): the gofer links the inode's own handle (LINK), so the name the
 * workload gave for the old file is not walked again on the host. */
static int gofer_link_at(struct inode *ino, struct inode *dir,
			 const char *name, size_t len)
{
	struct gofer_client *c = client(dir);
	struct gofer_stat st;
	int r;

	if (dir->sb->readonly)
		return -EROFS;
	pthread_mutex_lock(&c->lock);
	r = gofer_need_handle(c, ino);
	if (r == 0)
		r = gofer_need_handle(c, dir);
	if (r == 0)
		r = gofer_rpc2(c, GOFER_OP_LINK, gi(ino)->handle,
			       gi(dir)->handle, 0, name, len, NULL);
	st = c->in->rep.st;
	pthread_mutex_unlock(&c->lock);
	if (r == 0) {
		refresh(ino, &st);
		gofer_forget_listing(dir);
	}
	return r;
}

/* rename(2)/renameat2(2) within one gofer mount (RENAME). The moved
 * inodes get their handles first: an inode from a listing would otherwise
 * walk its old name later. */
static int gofer_rename_at(struct inode *odir, struct dentry *od,
			   struct inode *ndir, const char *nname, size_t nlen,
			   struct dentry *nd, unsigned int flags)
{
	struct gofer_client *c = client(odir);
	char buf[GOFER_NAME_MAX + 1 + GOFER_TARGET_MAX];
	int r;

	if (odir->sb->readonly)
		return -EROFS;
	if (od->namelen > GOFER_NAME_MAX || nlen > GOFER_NAME_MAX)
		return -ENAMETOOLONG;
	pthread_mutex_lock(&c->lock);
	r = gofer_need_handle(c, odir);
	if (r == 0)
		r = gofer_need_handle(c, ndir);
	if (r == 0)
		r = gofer_need_handle(c, od->inode);
	if (r == 0 && nd && nd->inode && (flags & RENAME_EXCHANGE))
		r = gofer_need_handle(c, nd->inode);
	if (r == 0)
		r = gofer_rpc2(c, GOFER_OP_RENAME, gi(odir)->handle,
			       gi(ndir)->handle, flags, buf,
			       two_names(buf, od->name, od->namelen, nname, nlen),
			       NULL);
	pthread_mutex_unlock(&c->lock);
	if (r == 0) {
		gofer_forget_listing(odir);
		if (ndir != odir)
			gofer_forget_listing(ndir);
	}
	return r;
}

/* ---- user.* xattrs, served by the gofer (other namespaces: none) ---- */

static bool user_xattr(const char *name)
{
	return !strncmp(name, GOFER_XATTR_PREFIX, sizeof(GOFER_XATTR_PREFIX) - 1);
}

/* GETXATTR or LISTXATTR: the whole value/list into the reply (client->lock
 * held); its length. */
static int xattr_fetch(struct gofer_client *c, struct inode *ino, uint32_t op,
		       const char *name)
{
	int r = gofer_need_handle(c, ino);

	if (r == 0)
		r = gofer_rpc(c, op, gi(ino)->handle, 0, name,
			      name ? strlen(name) : 0, NULL);
	return r < 0 ? r : (int)c->in->rep.datalen;
}

static ssize_t gofer_getxattr(struct inode *ino, const char *name, void *buf,
			      size_t size)
{
	struct gofer_client *c = client(ino);
	int r;

	if (!user_xattr(name))
		return -EOPNOTSUPP;
	pthread_mutex_lock(&c->lock);
	r = xattr_fetch(c, ino, GOFER_OP_GETXATTR, name);
	if (r > 0 && size && size < (size_t)r)
		r = -ERANGE;
	else if (r > 0 && size)
		memcpy(buf, c->in->rep.data, r);
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* The host's list, user.* names only (the others are not served). */
static ssize_t gofer_listxattr(struct inode *ino, char *buf, size_t size)
{
	struct gofer_client *c = client(ino);
	ssize_t used = 0;
	int n;

	pthread_mutex_lock(&c->lock);
	n = xattr_fetch(c, ino, GOFER_OP_LISTXATTR, NULL);
	for (int i = 0; i < n;) {
		const char *nm = c->in->rep.data + i;
		void *end = memchr(nm, '\0', (size_t)(n - i));
		size_t l = end ? (size_t)((char *)end - nm) + 1 : 0;

		if (!l) {
			used = -EIO;	/* an unterminated name */
			break;
		}
		i += (int)l;
		if (!user_xattr(nm))
			continue;
		if ((size_t)used + l > size) {
			used = -ERANGE;
			break;
		}
		memcpy(buf + used, nm, l);
		used += (ssize_t)l;
	}
	pthread_mutex_unlock(&c->lock);
	return n < 0 ? n : used;
}

static int gofer_setxattr(struct inode *ino, const char *name, const void *val,
			  size_t size, int flags)
{
	struct gofer_client *c = client(ino);
	size_t nlen = strlen(name);
	int r;

	if (!user_xattr(name))
		return -EOPNOTSUPP;
	if (ino->sb->readonly)
		return -EROFS;
	if (nlen + 1 + size > sizeof(c->out) - REQ_HDR)
		return -E2BIG;	/* more than one message carries */
	pthread_mutex_lock(&c->lock);
	r = gofer_need_handle(c, ino);
	if (r == 0) {
		/* Built in place: the value may be most of a message. */
		char *p = c->out.req.name;

		memcpy(p, name, nlen + 1);
		memmove(p + nlen + 1, val, size);
		r = gofer_rpc2(c, GOFER_OP_SETXATTR, gi(ino)->handle, 0,
			       (uint64_t)flags, p, nlen + 1 + size, NULL);
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}

static int gofer_removexattr(struct inode *ino, const char *name)
{
	struct gofer_client *c = client(ino);
	int r;

	if (!user_xattr(name))
		return -EOPNOTSUPP;
	if (ino->sb->readonly)
		return -EROFS;
	pthread_mutex_lock(&c->lock);
	r = gofer_need_handle(c, ino);
	if (r == 0)
		r = gofer_rpc(c, GOFER_OP_REMOVEXATTR, gi(ino)->handle, 0, name,
			      strlen(name), NULL);
	pthread_mutex_unlock(&c->lock);
	return r;
}

static const struct inode_ops gofer_iops = {
	.lookup = gofer_lookup,
	.readlink = gofer_readlink,
	.open = gofer_open,
	.statfs = gofer_statfs,
	.mknod_at = gofer_mknod_at,
	.unlink = gofer_unlink,
	.truncate = gofer_truncate,
	.setattr = gofer_setattr,
	.symlink_at = gofer_symlink_at,
	.link_at = gofer_link_at,
	.rename_at = gofer_rename_at,
	.getxattr = gofer_getxattr,
	.setxattr = gofer_setxattr,
	.listxattr = gofer_listxattr,
	.removexattr = gofer_removexattr,
};

int goferfs_list(struct inode *dir, goferfs_entry_fn fn, void *arg)
{
	struct gofer_inode *g = gi(dir);
	int r;

	pthread_mutex_lock(&dir->lock);
	r = gofer_list(dir);
	for (size_t i = 0; r == 0 && i < g->nents; i++)
		r = fn(arg, g->ents[i].name, g->ents[i].len, g->ents[i].ino,
		       g->ents[i].type);
	pthread_mutex_unlock(&dir->lock);
	return r;
}

int goferfs_open_ro(struct inode *ino)
{
	struct gofer_client *c = client(ino);
	struct gofer_inode *g = gi(ino);
	int fd = -1, r = 0;

	if (!S_ISREG(ino->mode))
		return -ENXIO;
	pthread_mutex_lock(&c->lock);
	gofer_opened(c, g);
	if (g->rofd < 0)
		r = gofer_open_rpc(c, ino, O_RDONLY, &g->rofd);
	if (r >= 0 && g->rofd < 0)
		r = -EIO;
	if (r >= 0) {
		fd = fcntl(g->rofd, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			r = -errno;
	}
	pthread_mutex_unlock(&c->lock);
	return r < 0 ? r : fd;
}

/* --debug: the mount's gofer round trips, by op. */
static void log_round_trips(const struct gofer_client *c)
{
	static const char *const names[GOFER_OP_COUNT] = {
		[GOFER_OP_WALK] = "walk", [GOFER_OP_STAT] = "stat",
		[GOFER_OP_OPEN] = "open", [GOFER_OP_READDIR] = "readdir",
		[GOFER_OP_READLINK] = "readlink", [GOFER_OP_CLOSE] = "close",
		[GOFER_OP_STATFS] = "statfs",
		[GOFER_OP_READDIR_PLUS] = "readdir+",
		[GOFER_OP_CREATE] = "create", [GOFER_OP_MKDIR] = "mkdir",
		[GOFER_OP_UNLINK] = "unlink", [GOFER_OP_SETATTR] = "setattr",
		[GOFER_OP_SYMLINK] = "symlink", [GOFER_OP_LINK] = "link",
		[GOFER_OP_RENAME] = "rename", [GOFER_OP_GETXATTR] = "getxattr",
		[GOFER_OP_LISTXATTR] = "listxattr",
		[GOFER_OP_SETXATTR] = "setxattr",
		[GOFER_OP_REMOVEXATTR] = "removexattr",
		[GOFER_OP_WALK_OPEN] = "walk+open",
	};
	char buf[512];
	size_t used = 0;
	uint64_t total = 0, ns = 0;

	if (cv_log.level < LOG_DEBUG)
		return;
	for (size_t op = 1; op < GOFER_OP_COUNT; op++) {
		int n;

		if (!c->nops[op])
			continue;
		total += c->nops[op];
		ns += c->op_ns[op];
		n = snprintf(buf + used, sizeof(buf) - used, " %s %llu (%llu us)",
			     names[op] ? names[op] : "?",
			     (unsigned long long)c->nops[op],
			     (unsigned long long)(c->op_ns[op] / 1000));
		if (n < 0 || (size_t)n >= sizeof(buf) - used)
			break;
		used += (size_t)n;
	}
	buf[used] = '\0';
	log_debug("goferfs: %llu round trips in %llu us:%s",
		  (unsigned long long)total,
		  (unsigned long long)(ns / 1000), buf);
}

static void gofer_sb_destroy(struct super_block *sb)
{
	struct gofer_client *c = sb->priv;

	if (!c)
		return;
	log_round_trips(c);
	/* Closing the socket ends the gofer and drops every handle. */
	close(c->sock);
	pthread_mutex_destroy(&c->lock);
	free(c->in);
	free(c);
}

int goferfs_new(struct vfs *vfs, int sock, bool readonly,
		struct super_block **sbp, struct dentry **root)
{
	struct super_block *sb = vfs_sb_new(vfs, FS_GOFER, "gofer", readonly);
	struct gofer_client *c = calloc(1, sizeof(*c));
	struct gofer_stat st;
	struct inode *ino;
	int r;

	if (!sb || !c) {
		free(c);
		close(sock);
		return -ENOMEM;
	}
	c->sock = sock;
	c->nospec = getenv("CVISOR_GOFER_SPEC") &&
		    !strcmp(getenv("CVISOR_GOFER_SPEC"), "0");
	pthread_mutex_init(&c->lock, NULL);
	c->in = malloc(sizeof(*c->in));
	sb->priv = c;
	sb->destroy = gofer_sb_destroy;
	sb->inode_free = gofer_inode_free;
	if (!c->in)
		return -ENOMEM;

	pthread_mutex_lock(&c->lock);
	r = gofer_rpc(c, GOFER_OP_STAT, GOFER_ROOT_HANDLE, 0, NULL, 0, NULL);
	st = c->in->rep.st;
	pthread_mutex_unlock(&c->lock);
	if (r < 0)
		return r;
	if (!S_ISDIR(st.mode))
		return -ENOTDIR;
	r = gofer_inode_new(sb, GOFER_ROOT_HANDLE, &st, &ino);
	if (r < 0)
		return r;
	*root = vfs_dentry_add(NULL, "/", 1, ino);
	if (!*root) {
		gofer_inode_free(ino);
		free(ino);
		return -ENOMEM;
	}
	*sbp = sb;
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the gofer's request decoder and handler
 * (gofer/server.c): each input is one request datagram, exactly as the
 * (possibly compromised) sentry could send it.
 *
 * The server runs read-only over a small real tree made once under a temp
 * dir (no pivot_root, no seccomp: those are defence in depth, the handler
 * itself must hold). Before every input the handle table is the same
 * baseline (root plus a few pre-walked handles), so a crash reproduces from
 * its one input: a request that adds or drops a handle is followed by a
 * reset and a re-walk of the baseline.
 *
 * Besides sanitizer findings it aborts on broken invariants: a reply longer
 * than a datagram, an error reply carrying data or an fd, a donated fd that
 * is writable or not the inode WALK_OPEN's reply names, a WALK or WALK_OPEN
 * result that is not an inode of the tree (an escape), WALK_OPEN data
 * other than a symlink's target,
 * malformed READDIR or READDIR_PLUS records, a READDIR_PLUS stat of an
 * inode outside the tree, an fd leak.
 *
 * READDIR_PLUS runs on the server's io_uring (as in the gofer) when the
 * kernel allows one; tests/unit/test_gofer.c compares it with the loop.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cvisor/gofer_proto.h"
#include "cvisor/util.h"
#include "../../gofer/gofer_impl.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQ_HDR offsetof(struct gofer_req, name)
#define REPLY_HDR offsetof(struct gofer_reply, data)
#define MAX_INODES 256

static char tmpdir[] = "/tmp/cvisor-fuzz-gofer.XXXXXX";
static struct gofer_server *srv;
static dev_t tree_dev;
static ino_t tree_inos[MAX_INODES];
static size_t ntree_inos;
static int lowest_free_fd;

/* The baseline handles, walked in this order after the root (handle 0):
 * parent handle index, name. Handles 1..N in order. */
static const struct {
	uint32_t parent;
	const char *name;
} baseline[] = {
	{ 0, "dir" },	  /* 1: directory with many entries */
	{ 0, "file" },	  /* 2: regular file */
	{ 0, "link" },	  /* 3: symlink to "file" */
	{ 0, "escape" },  /* 4: symlink to ../../../etc/passwd */
	{ 0, "fifo" },	  /* 5: a fifo (OPEN must refuse, never block) */
	{ 0, "empty" },	  /* 6: empty directory */
	{ 1, "sub" },	  /* 7: dir/sub */
	{ 0, "dangling" }, /* 8: symlink to a missing file */
};

static __attribute__((noreturn, format(printf, 1, 2))) void fail(const char *fmt,
								 ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fuzz_gofer: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

static void mk(int r, const char *what)
{
	if (r < 0)
		fail("setup: %s: %s", what, strerror(errno));
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	mk(fd, path);
	mk((int)write(fd, text, strlen(text)), path);
	close(fd);
}

static void build_tree(void)
{
	char p[PATH_MAX], longname[GOFER_NAME_MAX + 1];

	if (!mkdtemp(tmpdir))
		fail("mkdtemp: %s", strerror(errno));
#define P(fmt, ...) (snprintf(p, sizeof(p), "%s/" fmt, tmpdir, ##__VA_ARGS__), p)
	mk(mkdir(P("dir"), 0755), p);
	mk(mkdir(P("dir/sub"), 0755), p);
	write_file(P("dir/sub/deep"), "deep\n");
	/* Enough entries that READDIR pages through cookies. */
	for (int i = 0; i < 40; i++) {
		snprintf(longname, sizeof(longname), "entry-%02d", i);
		write_file(P("dir/%s", longname), "x");
	}
	memset(longname, 'n', GOFER_NAME_MAX);
	longname[GOFER_NAME_MAX] = 0;
	write_file(P("dir/%s", longname), "longest name");
	mk(symlink("sub", P("dir/sublink")), p);
	write_file(P("file"), "hello, gofer\n");
	mk(symlink("file", P("link")), p);
	mk(symlink("../../../../etc/passwd", P("escape")), p);
	mk(symlink("/nonexistent/target", P("dangling")), p);
	mk(mkfifo(P("fifo"), 0644), p);
	mk(mkdir(P("empty"), 0755), p);
#undef P
}

static int collect(const char *path UNUSED, const struct stat *st,
		   int flag UNUSED, struct FTW *ftw UNUSED)
{
	if (ntree_inos == MAX_INODES)
		fail("tree too large");
	tree_inos[ntree_inos++] = st->st_ino;
	return 0;
}

static int rm_one(const char *path, const struct stat *st UNUSED, int flag,
		  struct FTW *ftw UNUSED)
{
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void cleanup(void)
{
	gofer_server_free(srv);
	srv = NULL;
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static bool in_tree(dev_t dev, ino_t ino)
{
	if (dev != tree_dev)
		return false;
	for (size_t i = 0; i < ntree_inos; i++)
		if (tree_inos[i] == ino)
			return true;
	return false;
}

static bool fd_is_pipe(int fd)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	return strncmp(link, "pipe:", 5) == 0;
}

static int lowest_free(void)
{
	int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);

	if (fd < 0)
		fail("F_DUPFD: %s", strerror(errno));
	close(fd);
	return fd;
}

static void walk_baseline(void)
{
	union {
		struct gofer_req req;
		char raw[REQ_HDR + GOFER_NAME_MAX];
	} m;

	for (uint32_t i = 0; i < ARRAY_SIZE(baseline); i++) {
		const struct gofer_reply *rep;
		size_t n = strlen(baseline[i].name);
		int fd;

		memset(&m, 0, sizeof(m));
		m.req.op = GOFER_OP_WALK;
		m.req.handle = baseline[i].parent;
		m.req.namelen = (uint32_t)n;
		memcpy(m.req.name, baseline[i].name, n);
		gofer_server_handle(srv, &m, REQ_HDR + n, &rep, &fd);
		if (rep->err || rep->handle != i + 1 || fd >= 0)
			fail("baseline walk of %s: err %d handle %u", baseline[i].name,
			     rep->err, rep->handle);
	}
}

int LLVMFuzzerInitialize(int *argc UNUSED, char ***argv UNUSED)
{
	struct stat st;
	int rootfd, procfd, r;

	build_tree();
	atexit(cleanup);
	if (stat(tmpdir, &st) < 0)
		fail("stat %s: %s", tmpdir, strerror(errno));
	tree_dev = st.st_dev;
	if (nftw(tmpdir, collect, 16, FTW_PHYS) < 0)
		fail("nftw: %s", strerror(errno));
	rootfd = open(tmpdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	procfd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0 || procfd < 0)
		fail("open root or /proc/self/fd: %s", strerror(errno));
	r = gofer_server_new(rootfd, procfd, true, &srv);
	if (r < 0)
		fail("gofer_server_new: %s", strerror(-r));
	(void)gofer_server_enable_uring(srv);
	walk_baseline();
	lowest_free_fd = lowest_free();
	return 0;
}

/* READDIR data must be well-formed gofer_dirent records of tree entries. */
static void check_dirents(const struct gofer_reply *rep)
{
	size_t pos = 0;

	while (pos < rep->datalen) {
		struct gofer_dirent d;
		const char *name;

		if (rep->datalen - pos < offsetof(struct gofer_dirent, name))
			fail("READDIR: truncated record header at %zu", pos);
		memcpy(&d, rep->data + pos, offsetof(struct gofer_dirent, name));
		name = rep->data + pos + offsetof(struct gofer_dirent, name);
		if (d.reclen & 7 || d.reclen < offsetof(struct gofer_dirent, name) + d.namelen ||
		    d.reclen > rep->datalen - pos)
			fail("READDIR: bad reclen %u at %zu", d.reclen, pos);
		if (!d.namelen || memchr(name, '/', d.namelen) ||
		    memchr(name, 0, d.namelen) ||
		    (d.namelen == 1 && name[0] == '.') ||
		    (d.namelen == 2 && name[0] == '.' && name[1] == '.'))
			fail("READDIR: bad name at %zu", pos);
		pos += d.reclen;
	}
}

/* READDIR_PLUS data: well-formed gofer_direntplus records of tree entries,
 * each stat (when err is 0) an inode of the tree. */
static void check_direntplus(const struct gofer_reply *rep)
{
	const size_t hdr = offsetof(struct gofer_direntplus, name);
	size_t pos = 0;

	while (pos < rep->datalen) {
		struct gofer_direntplus d;
		const char *name;

		if (rep->datalen - pos < hdr)
			fail("READDIR_PLUS: truncated record header at %zu", pos);
		memcpy(&d, rep->data + pos, hdr);
		name = rep->data + pos + hdr;
		if (d.reclen & 7 || d.reclen < hdr + d.namelen ||
		    d.reclen > rep->datalen - pos)
			fail("READDIR_PLUS: bad reclen %u at %zu", d.reclen, pos);
		if (!d.namelen || memchr(name, '/', d.namelen) ||
		    memchr(name, 0, d.namelen) ||
		    (d.namelen == 1 && name[0] == '.') ||
		    (d.namelen == 2 && name[0] == '.' && name[1] == '.'))
			fail("READDIR_PLUS: bad name at %zu", pos);
		if (d.err > 0 || d.err < -4095)
			fail("READDIR_PLUS: entry err %d", d.err);
		if (d.err == 0 &&
		    (!in_tree((dev_t)d.st.dev, (ino_t)d.st.ino) || d.st.ino != d.ino))
			fail("READDIR_PLUS: inode %llu is not the entry's or not in the tree",
			     (unsigned long long)d.st.ino);
		pos += d.reclen;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct gofer_reply *rep;
	uint32_t op = 0;
	size_t n;
	int fd;

	if (size >= sizeof(op))
		memcpy(&op, data, sizeof(op));
	n = gofer_server_handle(srv, data, size, &rep, &fd);

	if (n > GOFER_MSG_MAX || n != REPLY_HDR + rep->datalen)
		fail("reply length %zu (datalen %u)", n, rep->datalen);
	if (rep->err > 0 || rep->err < -4095)
		fail("reply err %d is not 0 or -errno", rep->err);
	if (rep->err && (rep->datalen || fd >= 0))
		fail("error reply %d with %u data bytes, fd %d", rep->err,
		     rep->datalen, fd);
	if (fd >= 0) {
		int fl = fcntl(fd, F_GETFL);
		struct stat st;

		if (op != GOFER_OP_OPEN && op != GOFER_OP_WALK_OPEN)
			fail("op %u donated an fd", op);
		/* Read-only root: never a writable fd, only files and dirs of
		 * the tree. */
		if (fl < 0 || (fl & O_ACCMODE) != O_RDONLY || (fl & O_PATH))
			fail("donated fd has flags %#x", fl);
		if (fstat(fd, &st) < 0 || !in_tree(st.st_dev, st.st_ino) ||
		    !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
			fail("donated fd is not a file or dir of the tree");
		if (op == GOFER_OP_WALK_OPEN &&
		    (st.st_ino != rep->st.ino || st.st_dev != rep->st.dev))
			fail("WALK_OPEN fd is not the inode of its reply");
		close(fd);
	}
	if (rep->err == 0) {
		switch (op) {
		case GOFER_OP_WALK_OPEN:
			if (rep->datalen && !S_ISLNK(rep->st.mode))
				fail("WALK_OPEN: %u bytes of data for mode %o",
				     rep->datalen, rep->st.mode);
			/* fallthrough */
		case GOFER_OP_WALK:
		case GOFER_OP_STAT:
			if (!in_tree((dev_t)rep->st.dev, (ino_t)rep->st.ino))
				fail("op %u: inode %llu is not in the tree", op,
				     (unsigned long long)rep->st.ino);
			break;
		case GOFER_OP_READDIR:
			check_dirents(rep);
			break;
		case GOFER_OP_READDIR_PLUS:
			check_direntplus(rep);
			break;
		default:
			break;
		}
	}
	/* A new or dropped handle: back to the baseline table. */
	if (rep->err == 0 && (op == GOFER_OP_WALK || op == GOFER_OP_WALK_OPEN ||
			      op == GOFER_OP_CLOSE)) {
		gofer_server_reset(srv);
		walk_baseline();
	}
	/* The server makes no pipes (it never calls pipe()); an anonymous
	 * pipe at the old lowest free fd is the fuzzing runtime's own (seen
	 * appearing once, mid-run): move the baseline past it. */
	if (lowest_free() != lowest_free_fd && fd_is_pipe(lowest_free_fd))
		lowest_free_fd = lowest_free();
	if (lowest_free() != lowest_free_fd)
		fail("fd leak: lowest free fd %d, was %d", lowest_free(),
		     lowest_free_fd);
	return 0;
}

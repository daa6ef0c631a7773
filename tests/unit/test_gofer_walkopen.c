// SPDX-License-Identifier: GPL-2.0
/*
 * GOFER_OP_WALK_OPEN (gofer/server.c): one round trip that is exactly WALK
 * then OPEN of the new handle. Checked against the two ops themselves on
 * a matrix of names and flags (read-only and writable roots), then the
 * cases one by one: regular files, directories, symlinks and fifos
 * refused as OPEN refuses them, missing and malformed names, a "directory"
 * handle that is not one, EROFS, no handle or fd left behind by an error,
 * the GOFER_WALK_OPEN_LOOKUP speculation, and the op through a spawned
 * gofer under its seccomp filter. TAP output. Needs root (mount
 * namespaces) for the spawned gofer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit_tap.h"
#include "unit_gofer.h"

static int walk_open(uint32_t dir, const char *name, uint64_t flags, int *fdp)
{
	return rpc(GOFER_OP_WALK_OPEN, dir, flags, name, fdp);
}

/* WALK then OPEN of the new handle (CLOSEd after): the two-op answer. */
static int walk_then_open(uint32_t dir, const char *name, uint64_t flags)
{
	uint32_t h;
	int r, fd;

	r = rpc(GOFER_OP_WALK, dir, 0, name, NULL);
	if (r < 0)
		return r;
	h = in.rep.handle;
	r = rpc(GOFER_OP_OPEN, h, flags, NULL, &fd);
	if (fd >= 0)
		close(fd);
	(void)rpc(GOFER_OP_CLOSE, h, 0, NULL, NULL);
	return r;
}

/* The lowest free fd of this process: a leaked handle or donated fd of a
 * direct server moves it. */
static int lowest_free(void)
{
	int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);

	close(fd);
	return fd;
}

static void put(const char *root, const char *name, const char *data)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", root, name);
	fd = open(p, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, data, strlen(data)) < 0) {
		perror(p);
		exit(2);
	}
	close(fd);
}

static void make_tree(const char *root)
{
	char p[512];

	put(root, "hello", "hello gofer\n");
	put(root, "t", "scratch\n");
	snprintf(p, sizeof(p), "%s/d", root);
	mkdir(p, 0755);
	put(p, "x", "x\n");
	snprintf(p, sizeof(p), "%s/esc", root);
	if (symlink("../../../etc/passwd", p) < 0)
		perror(p);
	snprintf(p, sizeof(p), "%s/dangling", root);
	if (symlink("/nonexistent", p) < 0)
		perror(p);
	snprintf(p, sizeof(p), "%s/fifo", root);
	mkfifo(p, 0644);
}

static struct gofer_server *server_on(const char *root, bool readonly)
{
	struct gofer_server *s;
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int procfd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (rootfd < 0 || procfd < 0 || gofer_server_new(rootfd, procfd, readonly, &s))
		return NULL;
	return s;
}

static const char *const names[] = { "hello", "t", "d", "esc", "dangling",
				     "fifo", "missing", "..", ".", "",
				     "d/x", "/" };
static const uint64_t flagset[] = {
	O_RDONLY, O_WRONLY, O_RDWR, O_RDONLY | O_TRUNC, O_WRONLY | O_APPEND,
	O_RDONLY | O_DIRECTORY, O_RDONLY | O_CREAT, O_ACCMODE,
	O_RDONLY | GOFER_WALK_OPEN_LOOKUP << 1,
};

/* Every (name, flags) pair: WALK_OPEN's errno is WALK-then-OPEN's. The
 * writable root's write opens touch only "t" (a scratch file). */
static void matrix(bool readonly)
{
	int bad = 0, n = 0, base = lowest_free();

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		for (size_t j = 0; j < sizeof(flagset) / sizeof(flagset[0]); j++) {
			int a, b, fd = -1;

			if (!readonly && !strcmp(names[i], "hello") &&
			    (flagset[j] & (O_TRUNC | O_ACCMODE)))
				continue;
			a = walk_then_open(0, names[i], flagset[j]);
			b = walk_open(0, names[i], flagset[j], &fd);
			if (b == 0)
				(void)rpc(GOFER_OP_CLOSE, in.rep.handle, 0,
					  NULL, NULL);
			if (fd >= 0)
				close(fd);
			n++;
			if (a != b || (b == 0) != (fd >= 0)) {
				printf("# %s \"%s\" flags %#llx: WALK+OPEN %d, WALK_OPEN %d fd %d\n",
				       readonly ? "ro" : "rw", names[i],
				       (unsigned long long)flagset[j], a, b, fd);
				bad++;
			}
		}
	ok(!bad && lowest_free() == base,
	   "%s root: WALK_OPEN == WALK then OPEN for %d name/flag pairs, no fd left",
	   readonly ? "read-only" : "writable", n);
}

static void cases(const char *root)
{
	char buf[64] = { 0 };
	struct stat st, hst;
	uint32_t h, hf;
	int r, fd, base;
	char p[512];

	direct = server_on(root, true);
	ok(direct != NULL, "direct read-only server");
	if (!direct)
		return;
	base = lowest_free();

	snprintf(p, sizeof(p), "%s/hello", root);
	r = walk_open(0, "hello", O_RDONLY, &fd);
	h = in.rep.handle;
	ok(r == 0 && fd >= 0 && pread(fd, buf, sizeof(buf), 0) == 12 &&
		   !strcmp(buf, "hello gofer\n") && lstat(p, &hst) == 0 &&
		   in.rep.st.ino == hst.st_ino && S_ISREG(in.rep.st.mode) &&
		   in.rep.st.size == 12,
	   "regular file: one reply with WALK's stat and a readable fd");
	ok(fd >= 0 && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY &&
		   (fcntl(fd, F_GETFD) & FD_CLOEXEC) && write(fd, "x", 1) < 0,
	   "the fd is read-only and close-on-exec");
	if (fd >= 0)
		close(fd);
	ok(rpc(GOFER_OP_STAT, h, 0, NULL, NULL) == 0 && in.rep.st.ino == hst.st_ino,
	   "the new handle is held (STAT on it)");
	ok(rpc(GOFER_OP_WALK_OPEN, h, O_RDONLY, "x", NULL) == -ENOTDIR,
	   "from a handle that is not a directory -> ENOTDIR");
	hf = h;

	r = walk_open(0, "d", O_RDONLY, &fd);
	ok(r == 0 && fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) &&
		   (fcntl(fd, F_GETFL) & O_DIRECTORY),
	   "directory: an O_DIRECTORY fd, as OPEN gives");
	if (fd >= 0)
		close(fd);
	h = in.rep.handle;
	r = walk_open(h, "x", O_RDONLY, &fd);
	ok(r == 0 && fd >= 0, "WALK_OPEN from that directory's handle");
	if (fd >= 0)
		close(fd);
	ok(walk_open(0, "d", O_RDONLY | O_TRUNC, NULL) == -EROFS &&
		   walk_open(0, "hello", O_RDONLY | O_DIRECTORY, NULL) == -ENOTDIR,
	   "directory with O_TRUNC -> EROFS (read-only), file with O_DIRECTORY -> ENOTDIR");

	base = lowest_free();
	ok(walk_open(0, "esc", O_RDONLY, NULL) == -ELOOP &&
		   walk_open(0, "dangling", O_RDONLY, NULL) == -ELOOP &&
		   lowest_free() == base,
	   "symlinks (escaping, dangling) -> ELOOP, never followed, no handle kept");
	ok(walk_open(0, "fifo", O_RDONLY, NULL) == -ENXIO,
	   "fifo -> ENXIO (never blocks the gofer)");
	ok(walk_open(0, "missing", O_RDONLY, NULL) == -ENOENT,
	   "missing name -> ENOENT");
	{
		static const char *const bad[] = { "..", ".", "", "a/b", "../etc",
						   "/", "d/", "/etc", "d/x" };
		union {
			struct gofer_req req;
			char raw[REQ_HDR + 300];
		} m;
		bool all = true;

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			if (walk_open(0, bad[i], O_RDONLY, NULL) != -EINVAL) {
				printf("# \"%s\" -> %d\n", bad[i], in.rep.err);
				all = false;
			}
		memset(&m, 0, sizeof(m));
		m.req.op = GOFER_OP_WALK_OPEN;
		m.req.namelen = 3;
		memcpy(m.req.name, "d\0x", 3);
		if (raw_rpc(&m, REQ_HDR + 3, NULL) != -EINVAL)
			all = false;
		memset(m.req.name, 'a', 300);
		m.req.namelen = 300;
		if (raw_rpc(&m, REQ_HDR + 300, NULL) != -ENAMETOOLONG)
			all = false;
		m.req.namelen = 3;
		m.req.handle2 = 1;
		if (raw_rpc(&m, REQ_HDR + 3, NULL) != -EINVAL)
			all = false;
		ok(all, "\"..\", \".\", \"\", names with '/' or NUL -> EINVAL, 300 bytes -> ENAMETOOLONG, a handle2 -> EINVAL");
	}
	ok(walk_open(0, "hello", O_WRONLY, NULL) == -EROFS &&
		   walk_open(0, "hello", O_RDWR, NULL) == -EROFS &&
		   walk_open(0, "hello", O_RDONLY | O_APPEND, NULL) == -EROFS &&
		   walk_open(0, "hello", O_RDONLY | O_TRUNC, NULL) == -EROFS,
	   "read-only root: write, append, truncate -> EROFS");
	ok(walk_open(0, "hello", O_RDONLY | O_CREAT, NULL) == -EINVAL &&
		   walk_open(0, "hello", O_ACCMODE, NULL) == -EINVAL &&
		   rpc(GOFER_OP_OPEN, hf, O_RDONLY | GOFER_WALK_OPEN_LOOKUP,
		       NULL, NULL) == -EINVAL,
	   "O_CREAT, O_ACCMODE -> EINVAL; OPEN refuses the LOOKUP bit");
	ok(walk_open(9999, "hello", O_RDONLY, NULL) == -EBADF &&
		   walk_open(GOFER_NO_HANDLE, "hello", O_RDONLY, NULL) == -EBADF,
	   "bad directory handles -> EBADF");
	ok(lowest_free() == base, "no fd or handle left behind by the errors");

	/* GOFER_WALK_OPEN_LOOKUP: the sentry's lookups. */
	r = walk_open(0, "hello", O_RDONLY | GOFER_WALK_OPEN_LOOKUP, &fd);
	ok(r == 0 && fd >= 0 && in.rep.datalen == 0 && S_ISREG(in.rep.st.mode),
	   "LOOKUP: a regular file comes opened");
	if (fd >= 0)
		close(fd);
	r = walk_open(0, "esc", O_RDONLY | GOFER_WALK_OPEN_LOOKUP, &fd);
	ok(r == 0 && fd < 0 && S_ISLNK(in.rep.st.mode) &&
		   in.rep.datalen == 19 &&
		   !memcmp(in.rep.data, "../../../etc/passwd", 19),
	   "LOOKUP: a symlink comes with its target, not followed, no fd");
	h = in.rep.handle;
	ok(rpc(GOFER_OP_READLINK, h, 0, NULL, NULL) == 0 && in.rep.datalen == 19,
	   "LOOKUP: the link's handle is held");
	r = walk_open(0, "d", O_RDONLY | GOFER_WALK_OPEN_LOOKUP, &fd);
	ok(r == 0 && fd < 0 && in.rep.datalen == 0 && S_ISDIR(in.rep.st.mode),
	   "LOOKUP: a directory is only walked");
	r = walk_open(0, "fifo", O_RDONLY | GOFER_WALK_OPEN_LOOKUP, &fd);
	ok(r == 0 && fd < 0 && S_ISFIFO(in.rep.st.mode),
	   "LOOKUP: a fifo is only walked (never opened)");
	r = walk_open(0, "hello", O_WRONLY | GOFER_WALK_OPEN_LOOKUP, &fd);
	ok(r == 0 && fd < 0 && S_ISREG(in.rep.st.mode),
	   "LOOKUP: a refused open (EROFS) leaves WALK's reply");
	ok(walk_open(0, "missing", O_RDONLY | GOFER_WALK_OPEN_LOOKUP, NULL) == -ENOENT &&
		   walk_open(0, "..", O_RDONLY | GOFER_WALK_OPEN_LOOKUP, NULL) == -EINVAL,
	   "LOOKUP: missing -> ENOENT, \"..\" -> EINVAL");
	gofer_server_free(direct);
	direct = NULL;

	direct = server_on(root, false);
	ok(direct != NULL, "direct writable server");
	if (!direct)
		return;
	put(root, "t", "scratch\n");	/* (the matrix truncated it) */
	r = walk_open(0, "t", O_RDWR, &fd);
	snprintf(p, sizeof(p), "%s/t", root);
	ok(r == 0 && fd >= 0 && pwrite(fd, "SCRATCH", 7, 0) == 7 &&
		   stat(p, &st) == 0 && st.st_size == 8,
	   "writable root: O_RDWR donates a writable fd of the host file");
	if (fd >= 0)
		close(fd);
	r = walk_open(0, "t", O_WRONLY | O_TRUNC, &fd);
	ok(r == 0 && fd >= 0 && stat(p, &st) == 0 && st.st_size == 0,
	   "writable root: O_TRUNC truncates, as OPEN");
	if (fd >= 0)
		close(fd);
	ok(walk_open(0, "d", O_WRONLY, NULL) == -EISDIR &&
		   walk_open(0, "d", O_RDONLY | O_TRUNC, NULL) == -EISDIR,
	   "writable root: a directory for writing -> EISDIR");
	gofer_server_free(direct);
	direct = NULL;
}

/* Through a spawned gofer: namespaces, pivot_root, the seccomp filter. */
static void spawned(const char *root)
{
	pid_t pid;
	int r, fd, status;
	char buf[16] = { 0 };

	r = gofer_spawn(root, true, &sock, &pid);
	ok(r == 0, "gofer_spawn (%d)", r);
	if (r)
		return;
	r = walk_open(0, "hello", O_RDONLY, &fd);
	ok(r == 0 && fd >= 0 && pread(fd, buf, 5, 0) == 5 && !strcmp(buf, "hello"),
	   "spawned gofer: WALK_OPEN under its seccomp filter");
	if (fd >= 0)
		close(fd);
	r = walk_open(0, "esc", O_RDONLY | GOFER_WALK_OPEN_LOOKUP, &fd);
	ok(r == 0 && fd < 0 && in.rep.datalen == 19,
	   "spawned gofer: LOOKUP of a symlink reads its target");
	ok(walk_open(0, "hello", O_RDWR, NULL) == -EROFS &&
		   walk_open(0, "esc", O_RDONLY, NULL) == -ELOOP &&
		   rpc(GOFER_OP_STAT, 0, 0, NULL, NULL) == 0,
	   "spawned gofer: EROFS, ELOOP, and it keeps serving");
	close(sock);
	r = waitpid(pid, &status, 0);
	ok(r == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "the gofer exits cleanly (%#x)", status);
}

int main(void)
{
	char root[] = "/tmp/cvisor-walkopen-XXXXXX";
	char p[600];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 2;
	}
	make_tree(root);
	printf("1..35\n");

	direct = server_on(root, true);
	ok(direct != NULL, "direct server for the matrix");
	if (direct) {
		matrix(true);
		gofer_server_free(direct);
	}
	direct = server_on(root, false);
	if (direct) {
		matrix(false);
		gofer_server_free(direct);
	} else {
		ok(0, "writable server");
	}
	direct = NULL;
	cases(root);
	spawned(root);

	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	if (system(p) != 0)
		fprintf(stderr, "cleanup failed\n");
	return tap_failed ? 1 : 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The gofer's writing ops (gofer/server.c: SETATTR, SYMLINK, LINK, RENAME,
 * the xattr ops) on the request handler alone, over a temp tree: the
 * decoder's refusals (lengths, NULs, names, flags, second handles), EROFS
 * on a read-only server, and the handle semantics that make a host-side
 * swap harmless: after a walked directory is renamed away and its name
 * replaced by a symlink to a directory outside, RENAME, LINK and SYMLINK on
 * the handle still act inside the original directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cvisor/gofer_proto.h"
#include "../../gofer/gofer_impl.h"

#define REQ_HDR offsetof(struct gofer_req, name)

#include "unit_tap.h"

static struct gofer_server *srv;
static const struct gofer_reply *rep;
static char top[] = "/tmp/cvisor-gofer-write.XXXXXX";

/* One request with a payload of len bytes; the reply's err. */
static int rpc(uint32_t op, uint32_t h, uint32_t h2, uint64_t arg,
	       const void *p, size_t len)
{
	static union {
		struct gofer_req req;
		char raw[GOFER_MSG_MAX];
	} m;
	int fd;

	memset(&m.req, 0, sizeof(m.req));
	m.req.op = op;
	m.req.handle = h;
	m.req.handle2 = h2;
	m.req.arg = arg;
	m.req.namelen = (uint32_t)len;
	memcpy(m.req.name, p, len);
	gofer_server_handle(srv, &m, REQ_HDR + len, &rep, &fd);
	if (fd >= 0)
		close(fd);
	return rep->err;
}

static int rpcs(uint32_t op, uint32_t h, uint32_t h2, uint64_t arg,
		const char *s)
{
	return rpc(op, h, h2, arg, s, strlen(s));
}

/* "a\0b" */
static int rpc2(uint32_t op, uint32_t h, uint32_t h2, uint64_t arg,
		const char *a, const char *b)
{
	char buf[600];
	size_t la = strlen(a), lb = strlen(b);

	memcpy(buf, a, la + 1);
	memcpy(buf + la + 1, b, lb);
	return rpc(op, h, h2, arg, buf, la + 1 + lb);
}

static uint32_t walk(uint32_t h, const char *name)
{
	return rpcs(GOFER_OP_WALK, h, 0, 0, name) == 0 ? rep->handle : 0;
}

static char *at(const char *rel)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", top, rel);
	return buf[i];
}

static void put(const char *rel, const char *data)
{
	FILE *f = fopen(at(rel), "w");

	if (f) {
		fputs(data, f);
		fclose(f);
	}
}

static void server(bool readonly)
{
	int rootfd = open(at("root"), O_PATH | O_DIRECTORY | O_CLOEXEC);
	int procfd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (srv)
		gofer_server_free(srv);
	srv = NULL;
	if (gofer_server_new(rootfd, procfd, readonly, &srv) < 0) {
		printf("Bail out! gofer_server_new\n");
		exit(1);
	}
}

int main(void)
{
	struct gofer_setattr ga = { .valid = GOFER_SETATTR_MODE, .mode = 0600 };
	struct stat st;
	uint32_t d, f, l;

	if (!mkdtemp(top)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	mkdir(at("root"), 0755);
	mkdir(at("root/d"), 0755);
	mkdir(at("root/e"), 0755);
	mkdir(at("outside"), 0755);
	put("root/d/f", "data");
	put("root/d/a", "a");
	put("outside/a", "outside");
	symlink("f", at("root/d/l"));
	server(false);

	d = walk(0, "d");
	f = walk(d, "f");
	l = walk(d, "l");
	ok(d && f && l, "walk d, d/f, d/l");

	/* SETATTR */
	ok(rpc(GOFER_OP_SETATTR, f, 0, 0, &ga, sizeof(ga) - 1) == -EINVAL,
	   "SETATTR short record: EINVAL");
	ok(rpc(GOFER_OP_SETATTR, f, 0, 0, &ga, sizeof(ga)) == 0 &&
		   (rep->st.mode & 07777) == 0600 && stat(at("root/d/f"), &st) == 0 &&
		   (st.st_mode & 07777) == 0600,
	   "SETATTR mode: host and reply 0600");
	ga.valid = 0;
	ok(rpc(GOFER_OP_SETATTR, f, 0, 0, &ga, sizeof(ga)) == -EINVAL,
	   "SETATTR nothing valid: EINVAL");
	ga.valid = 0x80;
	ok(rpc(GOFER_OP_SETATTR, f, 0, 0, &ga, sizeof(ga)) == -EINVAL,
	   "SETATTR unknown bit: EINVAL");
	ga = (struct gofer_setattr){ .valid = GOFER_SETATTR_MODE, .mode = 010000 };
	ok(rpc(GOFER_OP_SETATTR, f, 0, 0, &ga, sizeof(ga)) == -EINVAL,
	   "SETATTR mode with type bits: EINVAL");
	ga = (struct gofer_setattr){ .valid = GOFER_SETATTR_MODE, .mode = 0777 };
	ok(rpc(GOFER_OP_SETATTR, l, 0, 0, &ga, sizeof(ga)) == -EOPNOTSUPP,
	   "SETATTR mode of a symlink: EOPNOTSUPP");
	ga = (struct gofer_setattr){ .valid = GOFER_SETATTR_SIZE, .size = 2 };
	ok(rpc(GOFER_OP_SETATTR, d, 0, 0, &ga, sizeof(ga)) == -EISDIR,
	   "SETATTR size of a directory: EISDIR");
	ok(rpc(GOFER_OP_SETATTR, f, 0, 0, &ga, sizeof(ga)) == 0 && rep->st.size == 2,
	   "SETATTR size 2");
	ga.size = -1;
	ok(rpc(GOFER_OP_SETATTR, f, 0, 0, &ga, sizeof(ga)) == -EINVAL,
	   "SETATTR negative size: EINVAL");
	ga = (struct gofer_setattr){ .valid = GOFER_SETATTR_TIMES,
				     .atime_nsec = UTIME_OMIT,
				     .mtime_sec = 1234567, .mtime_nsec = 5 };
	ok(rpc(GOFER_OP_SETATTR, f, 0, 0, &ga, sizeof(ga)) == 0 &&
		   rep->st.mtime_sec == 1234567 && rep->st.mtime_nsec == 5,
	   "SETATTR times (atime UTIME_OMIT)");
	ga.mtime_nsec = 1000000000;
	ok(rpc(GOFER_OP_SETATTR, f, 0, 0, &ga, sizeof(ga)) == -EINVAL,
	   "SETATTR nsec out of range: EINVAL (the kernel's)");

	/* SYMLINK */
	ok(rpcs(GOFER_OP_SYMLINK, d, 0, 0, "s") == -EINVAL,
	   "SYMLINK without NUL: EINVAL");
	ok(rpc2(GOFER_OP_SYMLINK, d, 0, 0, "s", "") == -EINVAL,
	   "SYMLINK empty target: EINVAL");
	ok(rpc(GOFER_OP_SYMLINK, d, 0, 0, "s\0a\0b", 5) == -EINVAL,
	   "SYMLINK target with NUL: EINVAL");
	ok(rpc2(GOFER_OP_SYMLINK, d, 0, 0, "..", "x") == -EINVAL &&
		   rpc2(GOFER_OP_SYMLINK, d, 0, 0, "a/b", "x") == -EINVAL &&
		   rpc2(GOFER_OP_SYMLINK, d, 0, 0, "", "x") == -EINVAL,
	   "SYMLINK names \"..\", \"a/b\", \"\": EINVAL");
	ok(rpc2(GOFER_OP_SYMLINK, d, 0, 0, "s", "../../../etc") == 0 &&
		   S_ISLNK(rep->st.mode),
	   "SYMLINK made, walked (a link's target is data)");

	/* LINK */
	ok(rpcs(GOFER_OP_LINK, d, d, 0, "dd") == -EPERM, "LINK a directory: EPERM");
	ok(rpcs(GOFER_OP_LINK, f, 99, 0, "x") == -EBADF, "LINK bad handle2: EBADF");
	ok(rpcs(GOFER_OP_LINK, f, d, 0, "x/y") == -EINVAL, "LINK name with '/': EINVAL");
	ok(rpcs(GOFER_OP_LINK, f, d, 0, "hard") == 0 && rep->st.nlink == 2,
	   "LINK: nlink 2 in the reply");
	ok(rpcs(GOFER_OP_LINK, f, d, 0, "hard") == -EEXIST, "LINK over a name: EEXIST");

	/* RENAME */
	ok(rpc2(GOFER_OP_RENAME, d, d, RENAME_WHITEOUT, "a", "b") == -EINVAL,
	   "RENAME_WHITEOUT: EINVAL");
	ok(rpc2(GOFER_OP_RENAME, d, d, RENAME_NOREPLACE | RENAME_EXCHANGE, "a",
		"hard") == -EINVAL,
	   "NOREPLACE|EXCHANGE: EINVAL");
	ok(rpcs(GOFER_OP_RENAME, d, d, 0, "ab") == -EINVAL, "RENAME without NUL: EINVAL");
	ok(rpc2(GOFER_OP_RENAME, d, d, 0, "..", "b") == -EINVAL &&
		   rpc2(GOFER_OP_RENAME, d, d, 0, "a", "../b") == -EINVAL &&
		   rpc2(GOFER_OP_RENAME, d, d, 0, "a", ".") == -EINVAL,
	   "RENAME \"..\", \"../b\", \".\": EINVAL");
	ok(rpc2(GOFER_OP_RENAME, d, d, RENAME_NOREPLACE, "a", "hard") == -EEXIST,
	   "RENAME_NOREPLACE over a name: EEXIST");
	ok(rpc2(GOFER_OP_RENAME, d, walk(0, "e"), 0, "a", "moved") == 0 &&
		   access(at("root/e/moved"), F_OK) == 0,
	   "RENAME across directories of the root");
	ok(rpcs(GOFER_OP_STAT, 0, d, 0, "") == -EINVAL,
	   "handle2 on an op without one: EINVAL");

	/* xattrs */
	if (setxattr(at("root/d/f"), "user.probe", "1", 1, 0) == 0) {
		char v[8];

		ok(rpc(GOFER_OP_SETXATTR, f, 0, 0, "user.k\0v\0w", 10) == 0 &&
			   getxattr(at("root/d/f"), "user.k", v, sizeof(v)) == 3 &&
			   !memcmp(v, "v\0w", 3),
		   "SETXATTR: a value with a NUL in it");
		ok(rpcs(GOFER_OP_GETXATTR, f, 0, 0, "user.k") == 0 &&
			   rep->datalen == 3,
		   "GETXATTR: 3 bytes");
		ok(rpc2(GOFER_OP_SETXATTR, f, 0, 0, "trusted.k", "v") == -EOPNOTSUPP,
		   "SETXATTR trusted.*: EOPNOTSUPP");
		ok(rpc2(GOFER_OP_SETXATTR, f, 0, 4, "user.k", "v") == -EINVAL,
		   "SETXATTR bad flags: EINVAL");
		ok(rpcs(GOFER_OP_GETXATTR, l, 0, 0, "user.k") == -EPERM,
		   "GETXATTR on a symlink handle: EPERM, nothing reopened");
		ok(rpcs(GOFER_OP_REMOVEXATTR, f, 0, 0, "user.k") == 0 &&
			   getxattr(at("root/d/f"), "user.k", v, sizeof(v)) < 0,
		   "REMOVEXATTR");
	} else {
		for (int i = 0; i < 6; i++)
			ok(1, "# SKIP no user xattrs on %s", top);
	}

	/* The swap: d's name now a symlink to outside; d's handle stays d. */
	rename(at("root/d"), at("root/d.real"));
	symlink(at("outside"), at("root/d"));
	ok(rpc2(GOFER_OP_RENAME, d, d, 0, "hard", "a") == 0 &&
		   access(at("root/d.real/a"), F_OK) == 0 &&
		   access(at("outside/hard"), F_OK) != 0,
	   "after a swap RENAME acts in the handle's directory");
	ok(rpcs(GOFER_OP_LINK, f, d, 0, "l2") == 0 &&
		   access(at("root/d.real/l2"), F_OK) == 0 &&
		   access(at("outside/l2"), F_OK) != 0,
	   "after a swap LINK acts in the handle's directory");
	ok(rpc2(GOFER_OP_SYMLINK, d, 0, 0, "s2", "x") == 0 &&
		   access(at("outside/s2"), F_OK) != 0,
	   "after a swap SYMLINK acts in the handle's directory");
	ok(walk(0, "d") && rpc2(GOFER_OP_RENAME, rep->handle, rep->handle, 0,
				"a", "b") == -ENOTDIR,
	   "the new name \"d\" is a symlink handle: RENAME in it ENOTDIR");
	{
		FILE *fp = fopen(at("outside/a"), "r");
		char b[16] = "";

		ok(fp && fgets(b, sizeof(b), fp) && !strcmp(b, "outside"),
		   "outside/a untouched");
		if (fp)
			fclose(fp);
	}

	/* Read-only: every writing op EROFS (after its decoding). */
	server(true);
	d = walk(0, "d.real");
	f = walk(d, "f");
	ga = (struct gofer_setattr){ .valid = GOFER_SETATTR_MODE, .mode = 0644 };
	ok(rpc(GOFER_OP_SETATTR, f, 0, 0, &ga, sizeof(ga)) == -EROFS &&
		   rpc2(GOFER_OP_SYMLINK, d, 0, 0, "r", "x") == -EROFS &&
		   rpcs(GOFER_OP_LINK, f, d, 0, "r") == -EROFS &&
		   rpc2(GOFER_OP_RENAME, d, d, 0, "f", "r") == -EROFS &&
		   rpc2(GOFER_OP_SETXATTR, f, 0, 0, "user.r", "1") == -EROFS &&
		   rpcs(GOFER_OP_REMOVEXATTR, f, 0, 0, "user.r") == -EROFS,
	   "read-only server: SETATTR, SYMLINK, LINK, RENAME, SETXATTR, REMOVEXATTR EROFS");
	gofer_server_free(srv);

	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", top);
	}
	return tap_done();
}

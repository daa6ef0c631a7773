// SPDX-License-Identifier: GPL-2.0
/*
 * The gofer protocol against a real gofer (gofer_spawn) serving a temporary
 * directory: walks, opens, readdir completeness, symlinks never followed,
 * and malformed requests that must get error replies while the gofer keeps
 * serving. TAP output. Needs root (mount namespaces).
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cvisor/gofer.h"
#include "cvisor/gofer_proto.h"

#define REQ_HDR offsetof(struct gofer_req, name)
#define REPLY_HDR offsetof(struct gofer_reply, data)

static int ntest, nfail;

static void ok(int cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++ntest);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		nfail++;
}

static int sock = -1;
static union {
	struct gofer_reply rep;
	char raw[GOFER_MSG_MAX];
} in;

/* Send raw bytes, receive one reply; returns reply err or -1000 on a
 * transport failure. */
static int raw_rpc(const void *msg, size_t len, int *fdp)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &in, sizeof(in) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n;

	if (fdp)
		*fdp = -1;
	if (send(sock, msg, len, MSG_NOSIGNAL) != (ssize_t)len)
		return -1000;
	n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	if (n < (ssize_t)REPLY_HDR)
		return -1000;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		int fd;

		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
		if (fdp)
			*fdp = fd;
		else
			close(fd);
	}
	return in.rep.err;
}

static int rpc(uint32_t op, uint32_t handle, uint64_t arg, const char *name,
	       int *fdp)
{
	union {
		struct gofer_req req;
		char raw[REQ_HDR + 512];
	} m;
	size_t nl = name ? strlen(name) : 0;

	memset(&m, 0, sizeof(m));
	m.req.op = op;
	m.req.handle = handle;
	m.req.arg = arg;
	m.req.namelen = (uint32_t)nl;
	memcpy(m.req.name, name ? name : "", nl);
	return raw_rpc(&m, REQ_HDR + nl, fdp);
}

static int walk(uint32_t dir, const char *name, uint32_t *h)
{
	int r = rpc(GOFER_OP_WALK, dir, 0, name, NULL);

	if (r == 0 && h)
		*h = in.rep.handle;
	return r;
}

static void put_file(const char *dir, const char *name, const char *data,
		     mode_t mode)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, mode);
	if (fd < 0 || write(fd, data, strlen(data)) < 0) {
		perror(p);
		exit(2);
	}
	close(fd);
}

static void sym(const char *dir, const char *name, const char *target)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (symlink(target, p) < 0) {
		perror(p);
		exit(2);
	}
}

int main(void)
{
	char root[] = "/tmp/cvisor-gofer-test-XXXXXX";
	char p[512];
	uint32_t h, hd, hl;
	pid_t pid;
	int r, fd, status;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 2;
	}
	put_file(root, "hello", "hello gofer\n", 0644);
	sym(root, "esc", "../../../etc/passwd");
	sym(root, "abs", "/etc/passwd");
	sym(root, "loop", "loop");
	snprintf(p, sizeof(p), "%s/fifo", root);
	mkfifo(p, 0644);
	snprintf(p, sizeof(p), "%s/d", root);
	mkdir(p, 0755);
	for (int i = 0; i < 1000; i++) {
		char n[96];

		snprintf(n, sizeof(n), "entry-%04d-%s", i,
			 "padpadpadpadpadpadpadpadpadpadpadpadpad");
		put_file(p, n, "", 0644);
	}

	printf("1..36\n");
	r = gofer_spawn(root, true, &sock, &pid);
	ok(r == 0, "gofer_spawn on %s (%d)", root, r);
	if (r) {
		printf("Bail out! no gofer\n");
		return 1;
	}

	r = rpc(GOFER_OP_STAT, GOFER_ROOT_HANDLE, 0, NULL, NULL);
	ok(r == 0 && S_ISDIR(in.rep.st.mode), "STAT root is a directory");

	r = walk(0, "hello", &h);
	ok(r == 0 && S_ISREG(in.rep.st.mode) && in.rep.st.size == 12,
	   "WALK hello: regular, 12 bytes");
	r = rpc(GOFER_OP_OPEN, h, O_RDONLY, NULL, &fd);
	{
		char buf[32] = { 0 };

		ok(r == 0 && fd >= 0 && pread(fd, buf, sizeof(buf), 0) == 12 &&
			   !strcmp(buf, "hello gofer\n"),
		   "OPEN O_RDONLY donates a readable fd");
		ok(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC),
		   "donated fd is close-on-exec");
		ok(fd >= 0 && write(fd, "x", 1) < 0, "donated fd is read-only");
		if (fd >= 0)
			close(fd);
	}
	ok(rpc(GOFER_OP_OPEN, h, O_WRONLY, NULL, NULL) == -EROFS,
	   "OPEN O_WRONLY on a read-only root -> EROFS");
	ok(rpc(GOFER_OP_OPEN, h, O_RDONLY | O_TRUNC, NULL, NULL) == -EROFS,
	   "OPEN O_TRUNC -> EROFS");
	ok(rpc(GOFER_OP_OPEN, h, O_RDONLY | O_CREAT, NULL, NULL) == -EINVAL,
	   "OPEN with O_CREAT -> EINVAL");
	ok(walk(h, "x", NULL) == -ENOTDIR, "WALK from a file -> ENOTDIR");

	r = walk(0, "esc", &hl);
	ok(r == 0 && S_ISLNK(in.rep.st.mode), "WALK does not follow a symlink");
	r = rpc(GOFER_OP_READLINK, hl, 0, NULL, NULL);
	ok(r == 0 && in.rep.datalen == 19 &&
		   !memcmp(in.rep.data, "../../../etc/passwd", 19),
	   "READLINK returns the target text");
	ok(rpc(GOFER_OP_OPEN, hl, O_RDONLY, NULL, NULL) == -ELOOP,
	   "OPEN a symlink -> ELOOP");
	ok(walk(hl, "x", NULL) == -ENOTDIR, "WALK through a symlink handle fails");
	ok(walk(0, "etc", NULL) == -ENOENT,
	   "the gofer's root is the temp dir (no /etc)");
	ok(walk(0, "..", NULL) == -EINVAL && walk(0, ".", NULL) == -EINVAL,
	   "WALK \"..\" and \".\" -> EINVAL");
	ok(walk(0, "", NULL) == -EINVAL, "WALK \"\" -> EINVAL");
	ok(walk(0, "d/entry", NULL) == -EINVAL, "WALK a name with '/' -> EINVAL");
	ok(walk(0, "nope", NULL) == -ENOENT, "WALK a missing name -> ENOENT");

	{
		union {
			struct gofer_req req;
			char raw[REQ_HDR + 8];
		} m;

		memset(&m, 0, sizeof(m));
		m.req.op = GOFER_OP_WALK;
		m.req.namelen = 3;
		memcpy(m.req.name, "a\0b", 3);
		ok(raw_rpc(&m, REQ_HDR + 3, NULL) == -EINVAL,
		   "WALK a name with NUL -> EINVAL");
		m.req.namelen = 0xffffffffu;
		ok(raw_rpc(&m, REQ_HDR + 3, NULL) == -EINVAL,
		   "namelen larger than the message -> EINVAL");
		ok(raw_rpc(&m, 3, NULL) == -EINVAL, "short message -> EINVAL");
		ok(raw_rpc(&m, 0, NULL) == -EINVAL, "empty message -> EINVAL");
		m.req.namelen = 0;
		m.req.op = 99;
		ok(raw_rpc(&m, REQ_HDR, NULL) == -EINVAL, "unknown op -> EINVAL");
		m.req.op = 0;
		ok(raw_rpc(&m, REQ_HDR, NULL) == -EINVAL, "op 0 -> EINVAL");
	}
	{
		char big[REQ_HDR + 300];
		struct gofer_req *q = (struct gofer_req *)big;

		memset(big, 'a', sizeof(big));
		q->op = GOFER_OP_WALK;
		q->handle = 0;
		q->arg = 0;
		q->namelen = 300;
		q->pad = 0;
		ok(raw_rpc(big, sizeof(big), NULL) == -ENAMETOOLONG,
		   "300-byte name -> ENAMETOOLONG");
	}
	{
		char *huge = calloc(1, GOFER_MSG_MAX + 100);

		((struct gofer_req *)huge)->op = GOFER_OP_STAT;
		ok(raw_rpc(huge, GOFER_MSG_MAX + 100, NULL) == -EMSGSIZE,
		   "oversize datagram -> EMSGSIZE");
		free(huge);
	}
	ok(rpc(GOFER_OP_STAT, 12345, 0, NULL, NULL) == -EBADF &&
		   rpc(GOFER_OP_STAT, 0xffffffffu, 0, NULL, NULL) == -EBADF,
	   "bad handles -> EBADF");

	{
		uint32_t hf;

		r = walk(0, "fifo", &hf);
		ok(r == 0 && rpc(GOFER_OP_OPEN, hf, O_RDONLY, NULL, NULL) == -ENXIO,
		   "OPEN a fifo -> ENXIO (never blocks the gofer)");
	}

	/* READDIR: all 1000 names exactly once over several batches. */
	{
		static char seen[1000];
		uint64_t cookie = 0;
		int batches = 0, count = 0, bad = 0;

		r = walk(0, "d", &hd);
		do {
			size_t off = 0;

			r = rpc(GOFER_OP_READDIR, hd, cookie, NULL, NULL);
			if (r)
				break;
			batches++;
			while (off < in.rep.datalen) {
				struct gofer_dirent de;
				char name[256];
				int idx;

				memcpy(&de, in.rep.data + off,
				       offsetof(struct gofer_dirent, name));
				memcpy(name, in.rep.data + off +
					     offsetof(struct gofer_dirent, name),
				       de.namelen);
				name[de.namelen] = 0;
				if (de.reclen % 8 || sscanf(name, "entry-%d", &idx) != 1 ||
				    idx < 0 || idx >= 1000 || seen[idx]++)
					bad++;
				count++;
				off += de.reclen;
			}
			cookie = in.rep.next;
		} while (cookie && batches < 1000);
		ok(r == 0 && count == 1000 && !bad && batches > 1,
		   "READDIR: 1000 entries once each in %d batches", batches);
	}

	r = rpc(GOFER_OP_STATFS, 0, 0, NULL, NULL);
	ok(r == 0 && in.rep.datalen == sizeof(struct statfs), "STATFS root");
	ok(rpc(GOFER_OP_CLOSE, 0, 0, NULL, NULL) == -EINVAL,
	   "CLOSE the root -> EINVAL");
	ok(rpc(GOFER_OP_CLOSE, h, 0, NULL, NULL) == 0 &&
		   rpc(GOFER_OP_STAT, h, 0, NULL, NULL) == -EBADF,
	   "CLOSE drops a handle");
	ok(rpc(GOFER_OP_STAT, hd, 0, "x", NULL) == -EINVAL,
	   "a name on a non-WALK op -> EINVAL");
	ok(rpc(GOFER_OP_STAT, 0, 0, NULL, NULL) == 0,
	   "the gofer survived every malformed request");

	close(sock);
	r = waitpid(pid, &status, 0);
	ok(r == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "the gofer exits cleanly when the socket closes (status %#x)",
	   status);

	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	if (system(p) != 0)
		fprintf(stderr, "cleanup failed\n");
	return nfail ? 1 : 0;
}

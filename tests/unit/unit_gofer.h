/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A gofer client for the unit tests: one request, one reply, either
 * straight to a server's handler (direct != NULL) or over sock to a
 * spawned gofer. The reply lands in `in`.
 */
#ifndef CVISOR_TESTS_UNIT_GOFER_H
#define CVISOR_TESTS_UNIT_GOFER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cvisor/gofer.h"
#include "cvisor/gofer_proto.h"
#include "../../gofer/gofer_impl.h"

#define REQ_HDR offsetof(struct gofer_req, name)
#define REPLY_HDR offsetof(struct gofer_reply, data)

static int sock = -1;
static union {
	struct gofer_reply rep;
	char raw[GOFER_MSG_MAX];
} in;
/* When set, requests go straight to this server's handler, no socket. */
static struct gofer_server *direct;

/* Send raw bytes, receive one reply; returns reply err or -1000 on a
 * transport failure. A donated fd goes to *fdp (-1: none), or is closed. */
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
	if (direct) {
		const struct gofer_reply *rp;
		int ofd;
		size_t rl = gofer_server_handle(direct, msg, len, &rp, &ofd);

		memcpy(&in, rp, rl < sizeof(in) ? rl : sizeof(in));
		if (fdp)
			*fdp = ofd;
		else if (ofd >= 0)
			close(ofd);
		return in.rep.err;
	}
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

#endif

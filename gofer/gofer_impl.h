/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Gofer internals shared by server.c, spawn.c and filter.c.
 */
#ifndef CVISOR_GOFER_IMPL_H
#define CVISOR_GOFER_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "cvisor/gofer.h"

/* Serve on sock. rootfd: O_PATH directory fd of the root (handle 0);
 * procfd: O_PATH fd of this process's /proc/self/fd, used to reopen
 * handles with real open flags. Takes ownership of all three fds. */
int gofer_serve_fds(int sock, int rootfd, int procfd, bool readonly);

/*
 * The request handler without the socket, shared by the serve loop and
 * tests/fuzz/fuzz_gofer.c. gofer_server_new() takes ownership of rootfd
 * (handle 0) and procfd, also on failure. gofer_server_handle() decodes and
 * runs one request datagram of len bytes (len may exceed GOFER_MSG_MAX, as
 * recv(MSG_TRUNC) reports a truncated datagram) and returns the reply length;
 * *reply stays valid until the next call, and *outfd is an fd to donate with
 * SCM_RIGHTS or -1 (the caller closes it). gofer_server_reset() forgets
 * every handle but the root.
 */
struct gofer_reply;
struct gofer_server;
int gofer_server_new(int rootfd, int procfd, bool readonly,
		     struct gofer_server **out);
size_t gofer_server_handle(struct gofer_server *s, const void *req, size_t len,
			   const struct gofer_reply **reply, int *outfd);
void gofer_server_reset(struct gofer_server *s);
void gofer_server_free(struct gofer_server *s);

/* Serve s on sock until the peer hangs up; frees s and closes sock. */
int gofer_server_serve(struct gofer_server *s, int sock);
/* Serve n servers, s[i] on socks[i], from one poll loop until every peer
 * has hung up; frees them all and closes the sockets. */
int gofer_server_serve_many(struct gofer_server **s, int *socks, int n);

/* Batch READDIR_PLUS stats through io_uring (IORING_OP_STATX) instead of
 * a statx() loop. The ring is created disabled, restricted to
 * IORING_OP_STATX with no register ops, then enabled: call it before
 * gofer_filter_install(), which refuses io_uring_setup/register. Holds
 * one more fd (the ring). Returns 0 or -errno (then the loop is used). */
int gofer_server_enable_uring(struct gofer_server *s);

/* Install the gofer's seccomp allowlist (the last step before serving).
 * readonly: every root is read-only (no creating or writing calls). */
int gofer_filter_install(bool readonly);

/* The pid-namespace reaper's filter: wait4 and exit only. */
int gofer_reaper_filter_install(void);

#endif

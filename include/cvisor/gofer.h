/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Starting the gofer process and talking to it (gofer/, vfs/fs/goferfs.c).
 */
#ifndef CVISOR_GOFER_H
#define CVISOR_GOFER_H

#include <stdbool.h>
#include <sys/types.h>

#include "cvisor/gofer_proto.h"

/* Fork the gofer for host directory `root`. The child enters new mount (and
 * pid/ipc/uts/net where possible) namespaces, bind-mounts root (read-only if
 * readonly), pivot_roots into it, installs its seccomp filter and serves
 * requests on its end of a SOCK_SEQPACKET socketpair until the peer closes.
 * The parent gets its end in *sock and the child's pid in *pid.
 * Returns 0 or -errno. Call before starting any thread. */
int gofer_spawn(const char *root, bool readonly, int *sock, pid_t *pid);

/* Roots one gofer serves: the sandbox root and up to 63 bind sources. */
#define GOFER_MAX_ROOTS 64

/* One host directory served by the gofer: the root ("/" of the sandbox)
 * or the source of a bind mount. */
struct gofer_root {
	const char *path;	/* host directory, resolved before pivot_root */
	bool readonly;		/* EROFS for writes; a read-only host mount */
	int sock;		/* out: the sentry's end, one per root */
};

/* Like gofer_spawn, for n roots served by one gofer process. roots[0] is
 * the sandbox root; every root has its own socket and its own handle
 * namespace (handle 0 is that root), so no request on one socket can name
 * a file of another root. On failure no socket is left open. */
int gofer_spawn_roots(struct gofer_root *roots, int n, pid_t *pid);

/* The server loop (runs in the gofer child). Returns when the peer hangs up. */
int gofer_serve(int sock, int rootfd);

#endif

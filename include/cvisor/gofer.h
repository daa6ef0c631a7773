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

/* The server loop (runs in the gofer child). Returns when the peer hangs up. */
int gofer_serve(int sock, int rootfd);

#endif

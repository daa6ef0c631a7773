/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Gofer internals shared by server.c, spawn.c and filter.c.
 */
#ifndef CVISOR_GOFER_IMPL_H
#define CVISOR_GOFER_IMPL_H

#include <stdbool.h>

/* Serve on sock. rootfd: O_PATH directory fd of the root (handle 0);
 * procfd: O_PATH fd of this process's /proc/self/fd, used to reopen
 * handles with real open flags. Takes ownership of all three fds. */
int gofer_serve_fds(int sock, int rootfd, int procfd, bool readonly);

/* Install the gofer's seccomp allowlist (the last step before serving). */
int gofer_filter_install(bool readonly);

#endif

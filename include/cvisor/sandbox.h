/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One sandbox from the CLI's point of view (sentry/sandbox.c): gofer +
 * kernel + init task. The OCI commands (create/start/...) build on this.
 */
#ifndef CVISOR_SANDBOX_H
#define CVISOR_SANDBOX_H

#include <stdbool.h>

#include "cvisor/vfs.h"

struct sandbox_config {
	const char *platform;	/* "systrap" (default), "ptrace", "kvm" */
	const char *rootfs;	/* host directory served as / */
	bool root_overlay;	/* writable in-memory overlay over it (default) */
	/* Without the overlay (--overlay2=none): / is the host directory
	 * itself, written through the gofer (runsc), unless root_readonly
	 * (config.json root.readonly). */
	bool root_readonly;
	const char *cwd;	/* inside the sandbox; NULL = "/" */
	bool cwd_optional;	/* fall back to "/" if cwd is not reachable */
	char *const *argv;	/* argv[0] is the command */
	char *const *envp;
	/* Extra mounts in order (--volume, --mount, config.json mounts[]);
	 * "bind" ones name a host directory in source, served by the gofer
	 * (gofer_sock is filled in by sandbox_run). */
	const struct vfs_mount_spec *mounts;
	int nmounts;
};

/* Run argv in a fresh sandbox, wait for it, and return the exit code a shell
 * would report (status, or 128+signal). Returns -errno if the sandbox could
 * not be set up (after printing why). */
int sandbox_run(const struct sandbox_config *cfg);

#endif

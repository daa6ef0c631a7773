/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mount arguments of the CLI and the OCI runtime config.json (the parts
 * `cvisor do` uses), parsed into sandbox_config pieces (runsc-compat/spec.c).
 * Every function reports a failure as -errno plus a message in err.
 */
#ifndef CVISOR_RUNSC_SPEC_H
#define CVISOR_RUNSC_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "cvisor/vfs.h"

struct mount_list {
	struct vfs_mount_spec *m; /* strings owned (strdup) */
	int n, cap;
};

/* The subset of config.json that `do` runs: process and root and mounts. */
struct oci_spec {
	char **args;		/* NULL-terminated, or NULL when absent */
	char **env;		/* NULL-terminated, or NULL when absent */
	char *cwd;
	bool terminal;
	char *root_path;	/* resolved against the bundle directory */
	bool root_readonly;
};

/* --volume HOST:GUEST[:ro|:rw[,nosuid,nodev,noexec]] (docker/runsc -v). */
int spec_parse_volume(const char *arg, struct mount_list *ml, char *err,
		      size_t errlen);
/* --mount type=tmpfs|bind|proc|...,dst=/x[,src=/h][,size=N][,mode=0755]
 * [,ro|readonly][,nosuid][,nodev][,noexec] (docker --mount spelling:
 * destination/target/dst, source/src, tmpfs-size, tmpfs-mode too). */
int spec_parse_mount(const char *arg, struct mount_list *ml, char *err,
		     size_t errlen);
/* Read an OCI runtime config.json: process.args/env/cwd/terminal,
 * root.path/readonly, mounts[] (bind, tmpfs, proc, sysfs, devpts, mqueue,
 * cgroup with ro/rw/nosuid/nodev/noexec/mode=/size=). Mounts the sandbox
 * always has (/proc, /sys, /dev, /dev/pts) are skipped. */
int spec_load(const char *file, struct oci_spec *spec, struct mount_list *ml,
	      char *err, size_t errlen);
void spec_free(struct oci_spec *spec);
void mount_list_free(struct mount_list *ml);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * cvisor do [--root DIR] [--cwd DIR] [--env K=V]... [--volume HOST:GUEST[:ro]]...
 *           [--mount type=tmpfs,dst=/x[,size=N][,mode=M]]... [--spec config.json]
 *           [--] CMD [ARG...]
 * Like runsc do: run CMD in a fresh sandbox whose root is a host directory
 * (read-only; /tmp is a private tmpfs), with stdio connected and the exit
 * status propagated. --volume binds a host directory through the gofer
 * (rw: writes reach the host; ro: EROFS); --spec takes process, root and
 * mounts from an OCI config.json (runsc-compat/spec.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "spec.h"
#include "cvisor/gofer.h"
#include "cvisor/sandbox.h"
#include "cvisor/util.h"

extern char **environ;

#define MAX_ENV 4096

/* Add or replace K=V in env (which has room for MAX_ENV entries). */
static void env_set(char **env, int *n, char *kv)
{
	size_t klen = strcspn(kv, "=");

	for (int i = 0; i < *n; i++) {
		if (!strncmp(env[i], kv, klen) && env[i][klen] == '=') {
			env[i] = kv;
			return;
		}
	}
	if (*n < MAX_ENV - 1)
		env[(*n)++] = kv;
}

/* A flag taking a value, as "--name V" or "--name=V" (one dash too). */
static const char *flag_value(int argc, char **argv, int *i, const char *name)
{
	const char *a = argv[*i] + (argv[*i][1] == '-' ? 2 : 1);
	size_t len = strlen(name);

	if (strncmp(a, name, len))
		return NULL;
	if (a[len] == '=')
		return a + len + 1;
	if (a[len] || *i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

static const char *const value_flags[] = { "root", "cwd", "env", "volume",
					   "v", "mount", "spec" };

int cmd_do(const struct global_opts *g, int argc, char **argv)
{
	struct sandbox_config cfg = { 0 };
	_cleanup_free_ char **env = calloc(MAX_ENV, sizeof(char *));
	struct mount_list ml = { 0 };
	struct oci_spec spec = { 0 };
	const char *specfile = NULL;
	char err[512];
	struct stat st;
	char cwdbuf[4096];
	int nenv = 0, i, ret;

	if (!env)
		return 1;
	cfg.platform = g->platform;
	cfg.rootfs = "/";
	cfg.root_overlay = strcmp(g->overlay2, "none") != 0;
	/* runsc do passes the caller's environment through. */
	for (char **e = environ; *e && nenv < MAX_ENV - 1; e++)
		env[nenv++] = *e;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		size_t k;

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-')
			break;
		for (k = 0; k < ARRAY_SIZE(value_flags); k++) {
			const char *name = argv[i] + (a[1] == '-' ? 2 : 1);
			size_t len = strlen(value_flags[k]);

			if (!strncmp(name, value_flags[k], len) &&
			    (name[len] == '=' || name[len] == '\0'))
				break;
		}
		if (k == ARRAY_SIZE(value_flags)) {
			fprintf(stderr, "cvisor do: unknown flag %s\n", argv[i]);
			return 2;
		}
		v = flag_value(argc, argv, &i, value_flags[k]);
		if (!v) {
			fprintf(stderr, "cvisor do: %s needs a value\n", a);
			return 2;
		}
		ret = 0;
		switch (k) {
		case 0:
			cfg.rootfs = v;
			break;
		case 1:
			cfg.cwd = v;
			break;
		case 2:
			if (!strchr(v, '=')) {
				fprintf(stderr, "cvisor do: --env wants K=V, got %s\n",
					v);
				return 2;
			}
			env_set(env, &nenv, (char *)v);
			break;
		case 3:
		case 4:
			ret = spec_parse_volume(v, &ml, err, sizeof(err));
			break;
		case 5:
			ret = spec_parse_mount(v, &ml, err, sizeof(err));
			break;
		case 6:
			specfile = v;
			break;
		}
		if (ret < 0) {
			/* Bad mounts are a sandbox set-up failure (runsc:
			 * 125), like an unreadable config.json. */
			fprintf(stderr, "cvisor do: %s\n",
				ret == -ENOMEM ? "out of memory" : err);
			mount_list_free(&ml);
			return 125;
		}
	}
	if (specfile) {
		/* config.json: its mounts come before the command line's. */
		struct mount_list sml = { 0 };

		ret = spec_load(specfile, &spec, &sml, err, sizeof(err));
		if (ret == 0 && sml.n + ml.n > GOFER_MAX_ROOTS - 1) {
			snprintf(err, sizeof(err), "too many mounts");
			ret = -E2BIG;
		}
		if (ret < 0) {
			fprintf(stderr, "cvisor do: --spec %s: %s\n", specfile,
				ret == -ENOMEM ? "out of memory" : err);
			mount_list_free(&sml);
			mount_list_free(&ml);
			spec_free(&spec);
			return 125;
		}
		for (int j = 0; j < ml.n; j++) {
			if (sml.n == sml.cap) {
				int cap = sml.cap ? sml.cap * 2 : 8;
				struct vfs_mount_spec *nm =
					realloc(sml.m, cap * sizeof(*nm));

				if (!nm)
					return 125;
				sml.m = nm;
				sml.cap = cap;
			}
			sml.m[sml.n++] = ml.m[j];
		}
		free(ml.m);
		ml = sml;
		if (spec.root_path)
			cfg.rootfs = spec.root_path;
		if (spec.root_readonly) {
			cfg.root_overlay = false;
			cfg.root_readonly = true;
		}
		if (spec.cwd && !cfg.cwd)
			cfg.cwd = spec.cwd;
		if (spec.env) {
			/* The spec's environment replaces the caller's. */
			nenv = 0;
			for (char **e = spec.env; *e && nenv < MAX_ENV - 1; e++)
				env[nenv++] = *e;
		}
	}
	if (i >= argc && !(spec.args && spec.args[0])) {
		fprintf(stderr, "usage: cvisor do [--root DIR] [--cwd DIR] [--env K=V]... "
			"[--volume HOST:GUEST[:ro]]... [--mount type=tmpfs,dst=/x[,size=N]]... "
			"[--spec config.json] [--] CMD [ARG...]\n");
		mount_list_free(&ml);
		spec_free(&spec);
		return 2;
	}
	if (stat(cfg.rootfs, &st) || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "cvisor do: root %s is not a directory\n", cfg.rootfs);
		mount_list_free(&ml);
		spec_free(&spec);
		return 2;
	}
	env[nenv] = NULL;
	/* Like runsc do: with the host root, start in the caller's directory. */
	if (!cfg.cwd && !strcmp(cfg.rootfs, "/") && getcwd(cwdbuf, sizeof(cwdbuf))) {
		cfg.cwd = cwdbuf;
		cfg.cwd_optional = true; /* e.g. under /tmp, hidden by the tmpfs */
	}
	cfg.argv = i < argc ? argv + i : spec.args;
	cfg.envp = env;
	cfg.mounts = ml.m;
	cfg.nmounts = ml.n;
	ret = sandbox_run(&cfg);
	mount_list_free(&ml);
	spec_free(&spec);
	/* Set-up failures were printed by sandbox_run; use runsc's exit code
	 * for an internal error. */
	return ret < 0 ? 125 : ret;
}

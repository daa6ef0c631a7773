// SPDX-License-Identifier: GPL-2.0
/*
 * cvisor do [--root DIR] [--cwd DIR] [--env K=V]... [--] CMD [ARG...]
 * Like runsc do: run CMD in a fresh sandbox whose root is a host directory
 * (read-only; /tmp is a private tmpfs), with stdio connected and the exit
 * status propagated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
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

int cmd_do(const struct global_opts *g, int argc, char **argv)
{
	struct sandbox_config cfg = { 0 };
	_cleanup_free_ char **env = calloc(MAX_ENV, sizeof(char *));
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
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-')
			break;
		if (a[1] == '-')
			a++;
		if (!strcmp(a, "-root") || !strcmp(a, "-cwd") ||
		    !strcmp(a, "-env")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "cvisor do: %s needs a value\n", argv[i]);
				return 2;
			}
			if (!strcmp(a, "-root"))
				cfg.rootfs = argv[++i];
			else if (!strcmp(a, "-cwd"))
				cfg.cwd = argv[++i];
			else if (strchr(argv[i + 1], '='))
				env_set(env, &nenv, argv[++i]);
			else {
				fprintf(stderr, "cvisor do: --env wants K=V, got %s\n",
					argv[i + 1]);
				return 2;
			}
		} else if (!strncmp(a, "-root=", 6)) {
			cfg.rootfs = a + 6;
		} else if (!strncmp(a, "-cwd=", 5)) {
			cfg.cwd = a + 5;
		} else if (!strncmp(a, "-env=", 5) && strchr(a + 5, '=')) {
			env_set(env, &nenv, (char *)a + 5);
		} else {
			fprintf(stderr, "cvisor do: unknown flag %s\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "usage: cvisor do [--root DIR] [--cwd DIR] [--env K=V]... [--] CMD [ARG...]\n");
		return 2;
	}
	if (stat(cfg.rootfs, &st) || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "cvisor do: root %s is not a directory\n", cfg.rootfs);
		return 2;
	}
	env[nenv] = NULL;
	/* Like runsc do: with the host root, start in the caller's directory. */
	if (!cfg.cwd && !strcmp(cfg.rootfs, "/") && getcwd(cwdbuf, sizeof(cwdbuf))) {
		cfg.cwd = cwdbuf;
		cfg.cwd_optional = true; /* e.g. under /tmp, hidden by the tmpfs */
	}
	cfg.argv = argv + i;
	cfg.envp = env;
	ret = sandbox_run(&cfg);
	/* Set-up failures were printed by sandbox_run; use runsc's exit code
	 * for an internal error. */
	return ret < 0 ? 125 : ret;
}

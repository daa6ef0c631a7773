// SPDX-License-Identifier: GPL-2.0
/*
 * cvisor: a runsc-compatible OCI runtime. Global flags come first, in any
 * order, in runsc spelling (--flag=value, --flag value, or -flag); then the
 * subcommand and its own flags. Each subcommand lives in cmd_<verb>.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cvisor/log.h"
#include "cvisor/version.h"

static void usage(FILE *f)
{
	fputs("usage: cvisor [global flags] <command> [flags] [args]\n"
	      "\n"
	      "commands:\n"
	      "  do       run a command in a fresh sandbox with a host directory as root\n"
	      "  help     show this text\n"
	      "  version  show the version (also --version)\n"
	      "\n"
	      "global flags:\n"
	      "  --platform=systrap|ptrace|kvm  how workload system calls are intercepted (default systrap)\n"
	      "  --systrap-patch=true|false     systrap: patch `mov $nr,%eax; syscall` sites into\n"
	      "                                 a trampoline jump (default true; env CVISOR_SYSTRAP_PATCH)\n"
	      "  --strace                       log every system call of the workload to stderr\n"
	      "  --debug                        debug logging\n"
	      "  --debug-log=FILE               write debug logging to FILE\n"
	      "  --root=DIR                     state directory (default /var/run/cvisor)\n"
	      "  --overlay2=root:memory|none    in-memory overlay root (default), or none: writes reach the host root\n"
	      "  --log=FILE, --log-format=text|json, --network=sandbox|host|none\n"
	      "\n"
	      "do: cvisor do [--root DIR] [--cwd DIR] [--env K=V]... [--volume HOST:GUEST[:ro]]...\n"
	      "              [--mount type=tmpfs,dst=/x[,size=N][,mode=M]]... [--spec config.json]\n"
	      "              [--] CMD [ARG...]\n",
	      f);
}

static void version(void)
{
	printf("cvisor version %s\nspec: %s\n", CVISOR_VERSION,
	       CVISOR_OCI_VERSION);
}

/* Match "--name", "-name", "--name=value", "-name=value". If the flag takes a
 * value and none is attached, it is taken from the next argument. */
static int match_flag(char **argv, int argc, int *i, const char *name,
		      bool has_value, const char **value)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (a[0] != '-')
		return 0;
	a += (a[1] == '-') ? 2 : 1;
	if (strncmp(a, name, n))
		return 0;
	if (a[n] == '\0') {
		if (!has_value)
			return 1;
		if (*i + 1 >= argc) {
			fprintf(stderr, "cvisor: flag --%s needs a value\n", name);
			exit(2);
		}
		*value = argv[++*i];
		return 1;
	}
	if (a[n] == '=' && has_value) {
		*value = a + n + 1;
		return 1;
	}
	if (a[n] == '=' && !has_value) {
		/* --debug=true / --strace=false, as Go's flag package accepts. */
		*value = a + n + 1;
		return 2;
	}
	return 0;
}

static bool parse_bool(const char *v)
{
	return !(strcmp(v, "false") == 0 || strcmp(v, "0") == 0);
}

int main(int argc, char **argv)
{
	struct global_opts g = { .platform = "systrap",
				 .root = "/var/run/cvisor",
				 .network = "sandbox",
				 .overlay2 = "root:memory" };
	const char *cmd = NULL;
	int i;

	for (i = 1; i < argc; i++) {
		const char *v = NULL;
		int m;

		if (argv[i][0] != '-')
			break;
		if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-version") ||
		    !strcmp(argv[i], "-v")) {
			version();
			return 0;
		}
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") ||
		    !strcmp(argv[i], "-help")) {
			usage(stdout);
			return 0;
		}
		if (match_flag(argv, argc, &i, "platform", true, &g.platform) ||
		    match_flag(argv, argc, &i, "root", true, &g.root) ||
		    match_flag(argv, argc, &i, "log-format", true, &g.log_format) ||
		    match_flag(argv, argc, &i, "log", true, &g.log) ||
		    match_flag(argv, argc, &i, "debug-log", true, &g.debug_log) ||
		    match_flag(argv, argc, &i, "network", true, &g.network) ||
		    match_flag(argv, argc, &i, "overlay2", true, &g.overlay2))
			continue;
		if ((m = match_flag(argv, argc, &i, "strace", false, &v))) {
			g.strace = m == 1 || parse_bool(v);
			continue;
		}
		if ((m = match_flag(argv, argc, &i, "systrap-patch", false, &v))) {
			/* Read by the systrap platform when it starts. */
			setenv("CVISOR_SYSTRAP_PATCH",
			       m == 1 || parse_bool(v) ? "1" : "0", 1);
			continue;
		}
		if ((m = match_flag(argv, argc, &i, "debug", false, &v))) {
			g.debug = m == 1 || parse_bool(v);
			continue;
		}
		fprintf(stderr, "cvisor: unknown global flag %s (try cvisor help)\n",
			argv[i]);
		return 2;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[i];
	if (strcmp(g.platform, "systrap") && strcmp(g.platform, "ptrace") &&
	    strcmp(g.platform, "kvm")) {
		fprintf(stderr, "cvisor: unknown platform \"%s\" (systrap, ptrace, kvm)\n",
			g.platform);
		return 2;
	}
	/* runsc's --overlay2: "none" or "root:<medium>"; the upper layer is
	 * always sentry memory here ("root:self" is accepted as memory). */
	if (strcmp(g.overlay2, "none") && strcmp(g.overlay2, "root:memory") &&
	    strcmp(g.overlay2, "root:self")) {
		fprintf(stderr, "cvisor: unsupported --overlay2=%s (none, root:memory)\n",
			g.overlay2);
		return 2;
	}
	log_open(g.debug_log, g.debug, g.strace);

	if (!strcmp(cmd, "do"))
		return cmd_do(&g, argc - i, argv + i);
	if (!strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "version")) {
		version();
		return 0;
	}
	fprintf(stderr, "cvisor: unknown command \"%s\" (try cvisor help)\n", cmd);
	return 2;
}

/* SPDX-License-Identifier: GPL-2.0 */
/* Global options of the cvisor CLI, parsed in main.c, read by cmd_*.c. */
#ifndef CVISOR_CLI_H
#define CVISOR_CLI_H

#include <stdbool.h>

struct global_opts {
	const char *platform;
	const char *root;	/* state directory (--root) */
	const char *log;	/* --log */
	const char *log_format;
	const char *debug_log;
	const char *network;
	const char *overlay2;	/* "root:memory" (default) | "none" */
	bool debug;
	bool strace;
};

int cmd_do(const struct global_opts *g, int argc, char **argv);

#endif

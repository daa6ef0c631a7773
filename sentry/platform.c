// SPDX-License-Identifier: GPL-2.0
/*
 * Platform registry: --platform=NAME picks one of these (the names runsc
 * uses). systrap is the default. Locks: none (read-only table).
 */
#include <string.h>

#include "cvisor/platform.h"

const struct platform_ops *platform_lookup(const char *name)
{
	if (!name || !*name || !strcmp(name, "systrap"))
		return &platform_systrap_ops;
	if (!strcmp(name, "ptrace"))
		return &platform_ptrace_ops;
	/* "kvm": platform-kvm/ is not registered yet. */
	return NULL;
}

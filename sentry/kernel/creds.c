// SPDX-License-Identifier: GPL-2.0
/*
 * Credentials of the sandbox (kernel/cred.c, security/commoncap.c). Root
 * inside the sandbox is root of the sandbox only: these bits never reach
 * the host. A task's creds are touched only by its own thread.
 */
#include <linux/capability.h>
#include <string.h>

#include "cvisor/task.h"

#define CAP_FULL ((1ULL << (CAP_LAST_CAP + 1)) - 1)

void cred_init_root(struct cred *c)
{
	memset(c, 0, sizeof(*c));
	c->cap_permitted = c->cap_effective = c->cap_bset = CAP_FULL;
}

bool cred_capable(const struct cred *c, int cap)
{
	return cap >= 0 && cap <= CAP_LAST_CAP && (c->cap_effective >> cap) & 1;
}

void cred_exec(struct cred *c)
{
	/* No set-id bits or file capabilities: ids stay, saved = effective
	 * (fs/exec.c), and root gets the bounding set (cap_bprm_creds_from_
	 * file for a root process with no file caps). */
	c->suid = c->euid;
	c->fsuid = c->euid;
	c->sgid = c->egid;
	c->fsgid = c->egid;
	if (c->euid == 0 || c->ruid == 0)
		c->cap_permitted = (c->cap_inheritable | c->cap_bset) & CAP_FULL;
	else
		c->cap_permitted = c->cap_ambient;
	c->cap_effective = c->euid == 0 ? c->cap_permitted : c->cap_ambient;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Credentials (kernel/sys.c, kernel/groups.c, kernel/capability.c,
 * security/commoncap.c) within the sandbox's own ids: CAP_SETUID/CAP_SETGID
 * inside the sandbox decide, the host never sees these ids. Each handler
 * changes only the calling thread's creds (Linux does too; glibc
 * broadcasts set*id to every thread with a signal).
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "cvisor/util.h"

#define INVALID_ID 0xffffffffu
#define NGROUPS_MAX_LINUX 65536
#define CAP_FULL ((1ULL << (CAP_LAST_CAP + 1)) - 1)
#define SECBIT_KEEP_CAPS_BIT (1u << 4)
/* CAP_FS_MASK (include/linux/capability.h). */
#define CAP_FS_MASK ((1ULL << CAP_CHOWN) | (1ULL << CAP_MKNOD) |              \
		     (1ULL << CAP_DAC_OVERRIDE) | (1ULL << CAP_DAC_READ_SEARCH) | \
		     (1ULL << CAP_FOWNER) | (1ULL << CAP_FSETID) |             \
		     (1ULL << CAP_MAC_OVERRIDE))

SYSCALL_DEFINE(getuid) { (void)args; return t->cred.ruid; }
SYSCALL_DEFINE(geteuid) { (void)args; return t->cred.euid; }
SYSCALL_DEFINE(getgid) { (void)args; return t->cred.rgid; }
SYSCALL_DEFINE(getegid) { (void)args; return t->cred.egid; }

/* cap_emulate_setxuid() and the fsuid fix-up (security/commoncap.c). */
static void fix_caps_uid(struct cred *n, const struct cred *o)
{
	if ((o->ruid == 0 || o->euid == 0 || o->suid == 0) &&
	    (n->ruid != 0 && n->euid != 0 && n->suid != 0)) {
		if (!(n->securebits & SECBIT_KEEP_CAPS_BIT)) {
			n->cap_permitted = 0;
			n->cap_effective = 0;
		}
		n->cap_ambient = 0;
	}
	if (o->euid == 0 && n->euid != 0)
		n->cap_effective = 0;
	if (o->euid != 0 && n->euid == 0)
		n->cap_effective = n->cap_permitted;
	if (o->fsuid == 0 && n->fsuid != 0)
		n->cap_effective &= ~CAP_FS_MASK;
	else if (o->fsuid != 0 && n->fsuid == 0)
		n->cap_effective |= n->cap_permitted & CAP_FS_MASK;
}

static long commit_uid(struct task *t, struct cred *n)
{
	fix_caps_uid(n, &t->cred);
	t->cred = *n;
	return 0;
}

SYSCALL_DEFINE(setuid)
{
	uint32_t uid = (uint32_t)args->a[0];
	struct cred n = t->cred;

	if (uid == INVALID_ID)
		return -EINVAL;
	if (cred_capable(&t->cred, CAP_SETUID)) {
		n.ruid = n.suid = uid;
	} else if (uid != t->cred.ruid && uid != t->cred.suid) {
		return -EPERM;
	}
	n.euid = n.fsuid = uid;
	return commit_uid(t, &n);
}

SYSCALL_DEFINE(setgid)
{
	uint32_t gid = (uint32_t)args->a[0];
	struct cred *c = &t->cred;

	if (gid == INVALID_ID)
		return -EINVAL;
	if (cred_capable(c, CAP_SETGID)) {
		c->rgid = c->sgid = gid;
	} else if (gid != c->rgid && gid != c->sgid) {
		return -EPERM;
	}
	c->egid = c->fsgid = gid;
	return 0;
}

SYSCALL_DEFINE(setreuid)
{
	uint32_t ruid = (uint32_t)args->a[0], euid = (uint32_t)args->a[1];
	const struct cred *o = &t->cred;
	bool cap = cred_capable(o, CAP_SETUID);
	struct cred n = *o;

	if (ruid != INVALID_ID) {
		n.ruid = ruid;
		if (ruid != o->ruid && ruid != o->euid && !cap)
			return -EPERM;
	}
	if (euid != INVALID_ID) {
		n.euid = euid;
		if (euid != o->ruid && euid != o->euid && euid != o->suid && !cap)
			return -EPERM;
	}
	if (ruid != INVALID_ID || (euid != INVALID_ID && euid != o->ruid))
		n.suid = n.euid;
	n.fsuid = n.euid;
	return commit_uid(t, &n);
}

SYSCALL_DEFINE(setregid)
{
	uint32_t rgid = (uint32_t)args->a[0], egid = (uint32_t)args->a[1];
	const struct cred *o = &t->cred;
	bool cap = cred_capable(o, CAP_SETGID);
	struct cred n = *o;

	if (rgid != INVALID_ID) {
		n.rgid = rgid;
		if (rgid != o->rgid && rgid != o->egid && !cap)
			return -EPERM;
	}
	if (egid != INVALID_ID) {
		n.egid = egid;
		if (egid != o->rgid && egid != o->egid && egid != o->sgid && !cap)
			return -EPERM;
	}
	if (rgid != INVALID_ID || (egid != INVALID_ID && egid != o->rgid))
		n.sgid = n.egid;
	n.fsgid = n.egid;
	t->cred = n;
	return 0;
}

static bool one_of(uint32_t v, uint32_t a, uint32_t b, uint32_t c)
{
	return v == a || v == b || v == c;
}

SYSCALL_DEFINE(setresuid)
{
	uint32_t r = (uint32_t)args->a[0], e = (uint32_t)args->a[1],
		 s = (uint32_t)args->a[2];
	const struct cred *o = &t->cred;
	struct cred n = *o;

	if (!cred_capable(o, CAP_SETUID)) {
		if (r != INVALID_ID && !one_of(r, o->ruid, o->euid, o->suid))
			return -EPERM;
		if (e != INVALID_ID && !one_of(e, o->ruid, o->euid, o->suid))
			return -EPERM;
		if (s != INVALID_ID && !one_of(s, o->ruid, o->euid, o->suid))
			return -EPERM;
	}
	if (r != INVALID_ID)
		n.ruid = r;
	if (e != INVALID_ID)
		n.euid = e;
	if (s != INVALID_ID)
		n.suid = s;
	n.fsuid = n.euid;
	return commit_uid(t, &n);
}

SYSCALL_DEFINE(setresgid)
{
	uint32_t r = (uint32_t)args->a[0], e = (uint32_t)args->a[1],
		 s = (uint32_t)args->a[2];
	struct cred *o = &t->cred;

	if (!cred_capable(o, CAP_SETGID)) {
		if (r != INVALID_ID && !one_of(r, o->rgid, o->egid, o->sgid))
			return -EPERM;
		if (e != INVALID_ID && !one_of(e, o->rgid, o->egid, o->sgid))
			return -EPERM;
		if (s != INVALID_ID && !one_of(s, o->rgid, o->egid, o->sgid))
			return -EPERM;
	}
	if (r != INVALID_ID)
		o->rgid = r;
	if (e != INVALID_ID)
		o->egid = e;
	if (s != INVALID_ID)
		o->sgid = s;
	o->fsgid = o->egid;
	return 0;
}

static long put_ids(struct task *t, const struct syscall_args *args,
		    uint32_t a, uint32_t b, uint32_t c)
{
	if (mm_copy_out(t->mm, args->a[0], &a, 4) ||
	    mm_copy_out(t->mm, args->a[1], &b, 4) ||
	    mm_copy_out(t->mm, args->a[2], &c, 4))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE(getresuid)
{
	return put_ids(t, args, t->cred.ruid, t->cred.euid, t->cred.suid);
}

SYSCALL_DEFINE(getresgid)
{
	return put_ids(t, args, t->cred.rgid, t->cred.egid, t->cred.sgid);
}

/* setfsuid/setfsgid return the old value whatever happens. */
SYSCALL_DEFINE(setfsuid)
{
	uint32_t uid = (uint32_t)args->a[0];
	const struct cred *o = &t->cred;
	uint32_t old = o->fsuid;
	struct cred n = *o;

	if (uid == INVALID_ID)
		return old;
	if (one_of(uid, o->ruid, o->euid, o->suid) || uid == o->fsuid ||
	    cred_capable(o, CAP_SETUID)) {
		n.fsuid = uid;
		commit_uid(t, &n);
	}
	return old;
}

SYSCALL_DEFINE(setfsgid)
{
	uint32_t gid = (uint32_t)args->a[0];
	struct cred *o = &t->cred;
	uint32_t old = o->fsgid;

	if (gid == INVALID_ID)
		return old;
	if (one_of(gid, o->rgid, o->egid, o->sgid) || gid == o->fsgid ||
	    cred_capable(o, CAP_SETGID))
		o->fsgid = gid;
	return old;
}

SYSCALL_DEFINE(getgroups)
{
	int size = (int)args->a[0];
	int n = t->cred.ngroups;

	if (size < 0)
		return -EINVAL;
	if (size == 0)
		return n;
	if (size < n)
		return -EINVAL;
	if (mm_copy_out(t->mm, args->a[1], t->cred.groups,
			(size_t)n * sizeof(uint32_t)))
		return -EFAULT;
	return n;
}

static int cmp_gid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

SYSCALL_DEFINE(setgroups)
{
	int size = (int)args->a[0];
	uint32_t *g;

	if (!cred_capable(&t->cred, CAP_SETGID))
		return -EPERM;
	if ((unsigned int)size > NGROUPS_MAX_LINUX)
		return -EINVAL;
	if (size > CV_NGROUPS_MAX)
		return -ENOMEM;	/* more than cvisor keeps */
	g = calloc((size_t)size + 1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	if (size && mm_copy_in(t->mm, g, args->a[1], (size_t)size * 4)) {
		free(g);
		return -EFAULT;
	}
	for (int i = 0; i < size; i++) {
		if (g[i] == INVALID_ID) {
			free(g);
			return -EINVAL;
		}
	}
	qsort(g, (size_t)size, sizeof(*g), cmp_gid);	/* groups_sort() */
	memcpy(t->cred.groups, g, (size_t)size * 4);
	t->cred.ngroups = size;
	free(g);
	return 0;
}

/* capget/capset (kernel/capability.c). */
#define CAP_V1 0x19980330
#define CAP_V2 0x20071026
#define CAP_V3 0x20080522

struct cap_data {
	uint32_t effective, permitted, inheritable;
};

static int cap_magic(struct task *t, uint64_t hdr, int *words)
{
	uint32_t version;

	if (mm_copy_in(t->mm, &version, hdr, 4))
		return -EFAULT;
	switch (version) {
	case CAP_V1:
		*words = 1;
		return 0;
	case CAP_V2:
	case CAP_V3:
		*words = 2;
		return 0;
	default:
		version = CAP_V3;
		if (mm_copy_out(t->mm, hdr, &version, 4))
			return -EFAULT;
		return -EINVAL;
	}
}

SYSCALL_DEFINE(capget)
{
	struct cap_data d[2];
	struct cred c = { 0 };
	int words, r, pid;

	r = cap_magic(t, args->a[0], &words);
	if (!args->a[1] || r)
		return (!args->a[1] && r == -EINVAL) ? 0 : r;
	if (mm_copy_in(t->mm, &pid, args->a[0] + 4, 4))
		return -EFAULT;
	if (pid < 0)
		return -EINVAL;
	if (pid && pid != t->tid) {
		struct task *o;
		bool found = false;

		pthread_mutex_lock(&t->k->lock);
		o = kernel_find_task(t->k, pid);
		if (o && !o->exited) {
			c = o->cred;
			found = true;
		}
		pthread_mutex_unlock(&t->k->lock);
		if (!found)
			return -ESRCH;
	} else {
		c = t->cred;
	}
	for (int i = 0; i < 2; i++) {
		d[i].effective = (uint32_t)(c.cap_effective >> (32 * i));
		d[i].permitted = (uint32_t)(c.cap_permitted >> (32 * i));
		d[i].inheritable = (uint32_t)(c.cap_inheritable >> (32 * i));
	}
	if (mm_copy_out(t->mm, args->a[1], d, (size_t)words * sizeof(d[0])))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE(capset)
{
	struct cap_data d[2] = { 0 };
	uint64_t e = 0, p = 0, in = 0;
	const struct cred *o = &t->cred;
	int words, r, pid;

	r = cap_magic(t, args->a[0], &words);
	if (r)
		return r;
	if (mm_copy_in(t->mm, &pid, args->a[0] + 4, 4))
		return -EFAULT;
	if (pid != 0 && pid != t->tid)
		return -EPERM;
	if (mm_copy_in(t->mm, d, args->a[1], (size_t)words * sizeof(d[0])))
		return -EFAULT;
	for (int i = 0; i < words; i++) {
		e |= (uint64_t)d[i].effective << (32 * i);
		p |= (uint64_t)d[i].permitted << (32 * i);
		in |= (uint64_t)d[i].inheritable << (32 * i);
	}
	e &= CAP_FULL;
	p &= CAP_FULL;
	in &= CAP_FULL;
	/* cap_capset(). */
	if (!cred_capable(o, CAP_SETPCAP) &&
	    (in & ~(o->cap_inheritable | o->cap_permitted)))
		return -EPERM;
	if (in & ~(o->cap_inheritable | o->cap_bset))
		return -EPERM;
	if (p & ~o->cap_permitted)
		return -EPERM;
	if (e & ~p)
		return -EPERM;
	t->cred.cap_effective = e;
	t->cred.cap_permitted = p;
	t->cred.cap_inheritable = in;
	t->cred.cap_ambient &= p & in;
	return 0;
}

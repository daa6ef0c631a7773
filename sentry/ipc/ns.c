// SPDX-License-Identifier: GPL-2.0
/*
 * The sandbox's IPC namespace and what the System V kinds share: id
 * tables, permission checks (ipc/util.c in Linux).
 *
 * Locks: see ipc_impl.h. The namespace is made on first use with an atomic
 * compare-and-swap on kernel->ipc and freed by kernel_destroy when no task
 * is left, so it needs no lock of its own. References: the kernel owns the
 * namespace; each id table slot owns one reference on its object.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <time.h>

#include "cvisor/mm.h"
#include "ipc_impl.h"

#define CAP_SYS_ADMIN 21
#define CAP_IPC_OWNER 15

struct ipc_namespace *ipc_ns(struct kernel *k)
{
	struct ipc_namespace *ns = __atomic_load_n(&k->ipc, __ATOMIC_ACQUIRE);
	struct ipc_namespace *exp = NULL;

	if (ns)
		return ns;
	ns = calloc(1, sizeof(*ns));
	if (!ns)
		return NULL;
	ns->k = k;
	pthread_mutex_init(&ns->shm_lock, NULL);
	pthread_mutex_init(&ns->sem_lock, NULL);
	pthread_mutex_init(&ns->msg_lock, NULL);
	pthread_mutex_init(&ns->mq_lock, NULL);
	ns->shm_ids.max_idx = ns->sem_ids.max_idx = ns->msg_ids.max_idx = -1;
	list_init(&ns->mqueues);
	list_init(&ns->mq_users);
	if (!__atomic_compare_exchange_n(&k->ipc, &exp, ns, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		pthread_mutex_destroy(&ns->shm_lock);
		pthread_mutex_destroy(&ns->sem_lock);
		pthread_mutex_destroy(&ns->msg_lock);
		pthread_mutex_destroy(&ns->mq_lock);
		free(ns);
		return exp;
	}
	return ns;
}

void ipc_ns_free(struct kernel *k)
{
	struct ipc_namespace *ns = k->ipc;

	if (!ns)
		return;
	shm_ns_free(ns);
	sem_ns_free(ns);
	msg_ns_free(ns);
	mq_ns_free(ns);
	pthread_mutex_destroy(&ns->shm_lock);
	pthread_mutex_destroy(&ns->sem_lock);
	pthread_mutex_destroy(&ns->msg_lock);
	pthread_mutex_destroy(&ns->mq_lock);
	free(ns);
	k->ipc = NULL;
}

void ipc_process_exit(struct kernel *k, int tgid)
{
	struct ipc_namespace *ns = __atomic_load_n(&k->ipc, __ATOMIC_ACQUIRE);

	if (!ns)
		return;
	pthread_mutex_lock(&ns->sem_lock);
	sem_exit_locked(ns, tgid);
	pthread_mutex_unlock(&ns->sem_lock);
	shm_exit_reap(ns);
}

/* ---- id tables (ipc_addid, ipc_obtain_object_check) ---- */

int ipc_ids_add(struct ipc_ids *ids, struct ipc_obj *o, int limit)
{
	int idx;

	if (ids->in_use >= limit)
		return -ENOSPC;
	for (idx = 0; idx < ids->cap && ids->slot[idx]; idx++)
		;
	if (idx >= IPC_IDX_MAX)
		return -ENOSPC;
	if (idx == ids->cap) {
		int ncap = ids->cap ? ids->cap * 2 : 16;
		struct ipc_obj **n = realloc(ids->slot, (size_t)ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		memset(n + ids->cap, 0, (size_t)(ncap - ids->cap) * sizeof(*n));
		ids->slot = n;
		ids->cap = ncap;
	}
	/* ipc_idr_alloc: each new object takes the next sequence number. */
	o->seq = ids->seq++;
	if (ids->seq >= (1U << (31 - IPC_SEQ_SHIFT)))
		ids->seq = 0;
	o->id = (int)(o->seq << IPC_SEQ_SHIFT) + idx;
	o->refs++;
	ids->slot[idx] = o;
	ids->in_use++;
	if (idx > ids->max_idx)
		ids->max_idx = idx;
	return o->id;
}

void ipc_ids_remove(struct ipc_ids *ids, struct ipc_obj *o)
{
	int idx = o->id & (IPC_IDX_MAX - 1);

	if (idx >= ids->cap || ids->slot[idx] != o)
		return;
	ids->slot[idx] = NULL;
	ids->in_use--;
	o->deleted = true;
	o->refs--;
	while (ids->max_idx >= 0 && !ids->slot[ids->max_idx])
		ids->max_idx--;
}

struct ipc_obj *ipc_ids_find(struct ipc_ids *ids, int id)
{
	struct ipc_obj *o;

	if (id < 0)
		return NULL;
	o = ipc_ids_at(ids, id & (IPC_IDX_MAX - 1));
	if (!o || (uint32_t)id >> IPC_SEQ_SHIFT != o->seq)
		return NULL;
	return o;
}

struct ipc_obj *ipc_ids_find_key(struct ipc_ids *ids, int key)
{
	for (int i = 0; i <= ids->max_idx; i++)
		if (ids->slot[i] && ids->slot[i]->key == key)
			return ids->slot[i];
	return NULL;
}

struct ipc_obj *ipc_ids_at(struct ipc_ids *ids, int idx)
{
	if (idx < 0 || idx >= ids->cap)
		return NULL;
	return ids->slot[idx];
}

void ipc_ids_free(struct ipc_ids *ids)
{
	free(ids->slot);
	memset(ids, 0, sizeof(*ids));
	ids->max_idx = -1;
}

/* ---- permissions ---- */

void ipc_obj_init(struct ipc_obj *o, const struct cred *c, int key, int flg)
{
	o->key = key;
	o->uid = o->cuid = c->euid;
	o->gid = o->cgid = c->egid;
	o->mode = (uint32_t)flg & 0777;
}

static bool in_group(const struct cred *c, uint32_t gid)
{
	if (c->egid == gid)
		return true;
	for (int i = 0; i < c->ngroups && i < CV_NGROUPS_MAX; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

int ipc_perms(const struct cred *c, const struct ipc_obj *o, int flg)
{
	uint32_t granted = o->mode;
	int req = (flg >> 6) | (flg >> 3) | flg;

	if (c->euid == o->cuid || c->euid == o->uid)
		granted >>= 6;
	else if (in_group(c, o->cgid) || in_group(c, o->gid))
		granted >>= 3;
	if ((req & ~(int)granted & 0007) && !cred_capable(c, CAP_IPC_OWNER))
		return -EACCES;
	return 0;
}

int ipc_owner_check(const struct cred *c, const struct ipc_obj *o)
{
	if (c->euid == o->cuid || c->euid == o->uid ||
	    cred_capable(c, CAP_SYS_ADMIN))
		return 0;
	return -EPERM;
}

void ipc_obj_set(struct ipc_obj *o, uint32_t uid, uint32_t gid, uint32_t mode)
{
	o->uid = uid;
	o->gid = gid;
	o->mode = (o->mode & ~0777U) | (mode & 0777);
}

void ipc_obj_to_perm(const struct ipc_obj *o, struct ipc_perm *p)
{
	memset(p, 0, sizeof(*p));
	p->__key = o->key;
	p->uid = o->uid;
	p->gid = o->gid;
	p->cuid = o->cuid;
	p->cgid = o->cgid;
	p->mode = (unsigned short)o->mode;
	p->__seq = (unsigned short)o->seq;
}

int64_t ipc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

int ipc_msg_charge(struct ipc_namespace *ns, uint64_t bytes)
{
	uint64_t cur = __atomic_add_fetch(&ns->msg_bytes, bytes, __ATOMIC_RELAXED);

	if (cur > IPC_MSG_BYTES_CAP) {
		__atomic_sub_fetch(&ns->msg_bytes, bytes, __ATOMIC_RELAXED);
		return -ENOMEM;
	}
	return 0;
}

void ipc_msg_uncharge(struct ipc_namespace *ns, uint64_t bytes)
{
	__atomic_sub_fetch(&ns->msg_bytes, bytes, __ATOMIC_RELAXED);
}

/* ---- what the *ctl calls share (ipc/util.c, ipc/{shm,sem,msg}.c) ---- */

static pthread_mutex_t *kind_lock(struct ipc_namespace *ns, enum ipc_kind k)
{
	switch (k) {
	case IPC_KIND_SHM:
		return &ns->shm_lock;
	case IPC_KIND_SEM:
		return &ns->sem_lock;
	case IPC_KIND_MSG:
		break;
	}
	return &ns->msg_lock;
}

static struct ipc_ids *kind_ids(struct ipc_namespace *ns, enum ipc_kind k)
{
	switch (k) {
	case IPC_KIND_SHM:
		return &ns->shm_ids;
	case IPC_KIND_SEM:
		return &ns->sem_ids;
	case IPC_KIND_MSG:
		break;
	}
	return &ns->msg_ids;
}

/* Large enough for every kind's *id_ds and info structs. */
#define IPC_CTL_BUF 256

long ipc_ctl_common(struct task *t, struct ipc_namespace *ns,
		    const struct ipc_ctl_ops *ops, int id, int cmd,
		    uint64_t buf)
{
	pthread_mutex_t *lock = kind_lock(ns, ops->kind);
	struct ipc_ids *ids = kind_ids(ns, ops->kind);
	_Alignas(16) char ds[IPC_CTL_BUF];
	struct ipc_obj *o;
	long r = 0;

	if (ops->ds_size > sizeof(ds) || ops->info_size > sizeof(ds) ||
	    ops->ipc_info_size > sizeof(ds))
		return -EINVAL;
	if (cmd == IPC_INFO || cmd == ops->info_cmd) {
		size_t len = cmd == IPC_INFO ? ops->ipc_info_size
					     : ops->info_size;

		/* The highest index in use (0 for none), as ipc_get_maxidx. */
		memset(ds, 0, len);
		pthread_mutex_lock(lock);
		if (ops->sync)
			ops->sync(ns);
		ops->info(ns, cmd, ds);
		r = ids->max_idx < 0 ? 0 : ids->max_idx;
		pthread_mutex_unlock(lock);
		return mm_copy_out(t->mm, buf, ds, len) ? -EFAULT : r;
	}
	if (cmd == IPC_STAT || cmd == ops->stat_cmd ||
	    cmd == ops->stat_any_cmd) {
		/* IPC_STAT takes an id, X_STAT(_ANY) an index and returns
		 * the id; X_STAT_ANY skips the read permission check. */
		pthread_mutex_lock(lock);
		if (ops->sync)
			ops->sync(ns);
		o = cmd == IPC_STAT ? ipc_ids_find(ids, id) : ipc_ids_at(ids, id);
		if (!o) {
			r = -EINVAL;
		} else if (cmd != ops->stat_any_cmd &&
			   ipc_perms(&t->cred, o, 0444)) {
			r = -EACCES;
		} else {
			memset(ds, 0, ops->ds_size);
			ipc_obj_to_perm(o, (struct ipc_perm *)ds);
			ops->stat(o, ds);
			r = cmd == IPC_STAT ? 0 : o->id;
		}
		pthread_mutex_unlock(lock);
		if (r >= 0 && mm_copy_out(t->mm, buf, ds, ops->ds_size))
			r = -EFAULT;
		return r;
	}
	if (cmd != IPC_SET && cmd != IPC_RMID)
		return -EINVAL;
	/* ipcctl_obtain_check(): the copy first, then the id, then the
	 * owner; IPC_SET updates uid, gid and the low mode bits. */
	if (cmd == IPC_SET && mm_copy_in(t->mm, ds, buf, ops->ds_size))
		return -EFAULT;
	pthread_mutex_lock(lock);
	if (ops->sync)
		ops->sync(ns);
	o = ipc_ids_find(ids, id);
	if (!o) {
		r = -EINVAL;
	} else if ((r = ipc_owner_check(&t->cred, o))) {
		/* -EPERM */
	} else if (cmd == IPC_SET) {
		const struct ipc_perm *p = (const struct ipc_perm *)ds;

		r = ops->set ? ops->set(t, o, ds) : 0;
		if (!r) {
			ipc_obj_set(o, p->uid, p->gid, p->mode);
			ops->set_ctime(o, ipc_now());
		}
	} else {
		ops->rmid(ns, o);
	}
	pthread_mutex_unlock(lock);
	return r;
}

/* ---- /proc/sysvipc (ipc/util.c sysvipc_proc_show) ---- */

int ipc_sysvipc_show(struct kernel *k, const char *name, char **out,
		     size_t *outlen)
{
	static const struct ipc_ctl_ops *const kinds[] = {
		&shm_ctl_ops, &sem_ctl_ops, &msg_ctl_ops,
	};
	const struct ipc_ctl_ops *ops = NULL;
	struct ipc_namespace *ns = ipc_ns(k);
	struct ipc_ids *ids;
	pthread_mutex_t *lock;
	size_t len, cap;
	char *text;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kinds[i]->proc_name, name))
			ops = kinds[i];
	if (!ops)
		return -ENOENT;
	if (!ns)
		return -ENOMEM;
	lock = kind_lock(ns, ops->kind);
	ids = kind_ids(ns, ops->kind);
	pthread_mutex_lock(lock);
	if (ops->sync)
		ops->sync(ns);
	len = strlen(ops->proc_header);
	/* Every line is under 256 bytes. */
	cap = len + (size_t)(ids->in_use + 1) * 256;
	text = malloc(cap);
	if (!text) {
		pthread_mutex_unlock(lock);
		return -ENOMEM;
	}
	memcpy(text, ops->proc_header, len);
	for (int i = 0; i <= ids->max_idx; i++) {
		int n;

		if (!ids->slot[i] || cap - len < 256)
			continue;
		n = ops->proc_line(ids->slot[i], text + len, 256);
		if (n > 0 && n < 256)
			len += (size_t)n;
	}
	pthread_mutex_unlock(lock);
	*out = text;
	*outlen = len;
	return 0;
}

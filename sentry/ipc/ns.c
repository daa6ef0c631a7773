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
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <time.h>

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

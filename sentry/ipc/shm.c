// SPDX-License-Identifier: GPL-2.0
/*
 * System V shared memory (ipc/shm.c, shmget(2), shmat(2), shmctl(2)).
 *
 * A segment's pages are an mm shared object (mm_shm_new): shmat maps it
 * (MAP_SHARED), fork copies the VMA (the child shares the attachment), exit,
 * exec and munmap drop VMAs. nattch is the object's VMA count, read from
 * mm, so implicit detaches need no hook here. IPC_RMID of an attached
 * segment marks it SHM_DEST with key IPC_PRIVATE (it still answers
 * IPC_STAT and shmat, as in Linux); it is destroyed by the first shm call
 * (or shmdt, or process exit) that sees nattch 0 — so after an exec that
 * dropped the last attachment, or an exit that raced with a shm call, its
 * frames stay allocated until the next shm call in the sandbox (gap: Linux
 * frees at once; shm_dtime/shm_lpid are not updated by exit/exec
 * detaches).
 *
 * Locks: ns->shm_lock around everything here, then mm->lock inside
 * mm_shm_attach/mm_shm_detach. References: the id table owns each
 * segment; the segment owns one reference on its mm object.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>

#include "cvisor/mm.h"
#include "ipc_impl.h"

#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif
#ifndef SHM_EXEC
#define SHM_EXEC 0100000
#endif
#define IPC_64_FLAG 0x100
#define SHMLBA_ PAGE_SIZE
#define CAP_IPC_LOCK 14

struct shm_seg {
	struct ipc_obj perm;	/* first: the id table points here */
	uint64_t size;
	uint64_t npages;
	struct mobj *obj;
	int64_t atime, dtime, ctime;
	int cpid, lpid;
};

static struct shm_seg *seg_of(struct ipc_obj *o)
{
	return (struct shm_seg *)o;
}

static void seg_destroy(struct ipc_namespace *ns, struct shm_seg *s)
{
	ipc_ids_remove(&ns->shm_ids, &s->perm);
	ns->shm_tot -= s->npages;
	mm_shm_put(ns->k->mf, s->obj);
	free(s);
}

/* Destroy the removed segments nobody has attached any more. */
static void shm_reap_locked(struct ipc_namespace *ns)
{
	for (int i = 0; i <= ns->shm_ids.max_idx; i++) {
		struct ipc_obj *o = ns->shm_ids.slot[i];

		if (o && (o->mode & SHM_DEST) && !mm_shm_nattch(seg_of(o)->obj))
			seg_destroy(ns, seg_of(o));
	}
}

/* A process's last thread is gone (its mm with it, unless shared): free
 * the removed segments it was the last to hold. Called under
 * kernel->lock, so only if shm_lock is free right now (a trylock keeps
 * kernel->lock out of the shm_lock -> mm->lock order); otherwise the next
 * shm call does it. */
void shm_exit_reap(struct ipc_namespace *ns)
{
	if (pthread_mutex_trylock(&ns->shm_lock))
		return;
	shm_reap_locked(ns);
	pthread_mutex_unlock(&ns->shm_lock);
}

void shm_ns_free(struct ipc_namespace *ns)
{
	for (int i = 0; i <= ns->shm_ids.max_idx; i++)
		if (ns->shm_ids.slot[i])
			seg_destroy(ns, seg_of(ns->shm_ids.slot[i]));
	ipc_ids_free(&ns->shm_ids);
}

/* newseg() */
static long shm_new(struct ipc_namespace *ns, struct task *t, int key,
		    uint64_t size, int flg)
{
	uint64_t npages = (size + PAGE_SIZE - 1) >> PAGE_SHIFT;
	struct shm_seg *s;
	long id;

	if (size < IPC_SHMMIN || size > IPC_SHMMAX)
		return -EINVAL;
	if ((npages << PAGE_SHIFT) < size)
		return -ENOSPC;
	if (ns->shm_tot + npages < ns->shm_tot ||
	    ns->shm_tot + npages > IPC_SHMALL)
		return -ENOSPC;
	/* Past the sentry's own cap: as if the memory accounting of the
	 * shmem file failed (Linux: ENOMEM for more than memory allows). */
	if (ns->shm_tot + npages > IPC_SHM_CAP_PAGES)
		return -ENOMEM;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (mm_shm_new(npages, &s->obj)) {
		free(s);
		return -ENOMEM;
	}
	ipc_obj_init(&s->perm, &t->cred, key, flg);
	s->size = size;
	s->npages = npages;
	s->cpid = t->tgid;
	s->ctime = ipc_now();
	id = ipc_ids_add(&ns->shm_ids, &s->perm, IPC_SHMMNI);
	if (id < 0) {
		mm_shm_put(ns->k->mf, s->obj);
		free(s);
		return id;
	}
	ns->shm_tot += npages;
	return id;
}

long shm_get(struct task *t, int key, uint64_t size, int flg)
{
	struct ipc_namespace *ns = ipc_ns(t->k);
	struct ipc_obj *o;
	long r;

	if (!ns)
		return -ENOMEM;
	pthread_mutex_lock(&ns->shm_lock);
	shm_reap_locked(ns);
	o = key == IPC_PRIVATE ? NULL : ipc_ids_find_key(&ns->shm_ids, key);
	if (key == IPC_PRIVATE || (!o && (flg & IPC_CREAT)))
		r = shm_new(ns, t, key, size, flg);
	else if (!o)
		r = -ENOENT;
	else if ((flg & IPC_CREAT) && (flg & IPC_EXCL))
		r = -EEXIST;
	else if (ipc_perms(&t->cred, o, flg))
		r = -EACCES;
	else if (seg_of(o)->size < size)	/* shm_more_checks */
		r = -EINVAL;
	else
		r = o->id;
	pthread_mutex_unlock(&ns->shm_lock);
	return r;
}

long shm_at(struct task *t, int id, uint64_t addr, int flg)
{
	struct ipc_namespace *ns = ipc_ns(t->k);
	enum mm_shm_place how = MM_SHM_ANYWHERE;
	int prot, maxprot, acc;
	struct ipc_obj *o;
	long r;

	if (!ns)
		return -ENOMEM;
	/* do_shmat() order: id, address, then the segment. */
	if (id < 0)
		return -EINVAL;
	if (addr) {
		if (addr & (SHMLBA_ - 1)) {
			if (!(flg & SHM_RND))
				return -EINVAL;
			addr &= ~(SHMLBA_ - 1);
			if (!addr && (flg & SHM_REMAP))
				return -EINVAL;
		}
		how = (flg & SHM_REMAP) ? MM_SHM_FIXED_REPLACE
					: MM_SHM_FIXED_FREE;
	} else if (flg & SHM_REMAP) {
		return -EINVAL;
	}
	if (flg & SHM_RDONLY) {
		prot = PROT_READ;
		acc = 0444;
		maxprot = PROT_READ | PROT_EXEC;
	} else {
		prot = PROT_READ | PROT_WRITE;
		acc = 0666;
		maxprot = PROT_READ | PROT_WRITE | PROT_EXEC;
	}
	if (flg & SHM_EXEC) {
		prot |= PROT_EXEC;
		acc |= 0111;
	}
	pthread_mutex_lock(&ns->shm_lock);
	o = ipc_ids_find(&ns->shm_ids, id);
	if (!o) {
		r = -EINVAL;
	} else if (ipc_perms(&t->cred, o, acc)) {
		r = -EACCES;
	} else {
		r = mm_shm_attach(t->mm, seg_of(o)->obj, addr, prot, maxprot,
				  how);
		if (r >= 0) {
			seg_of(o)->atime = ipc_now();
			seg_of(o)->lpid = t->tgid;
		}
	}
	shm_reap_locked(ns);
	pthread_mutex_unlock(&ns->shm_lock);
	return r;
}

long shm_dt(struct task *t, uint64_t addr)
{
	struct ipc_namespace *ns = ipc_ns(t->k);
	struct mobj *which;
	long r;

	if (!ns)
		return -ENOMEM;
	if (addr & (PAGE_SIZE - 1))
		return -EINVAL;
	pthread_mutex_lock(&ns->shm_lock);
	r = mm_shm_detach(t->mm, addr, &which);
	if (!r) {
		/* The segment, if still in the table, is alive (its own
		 * reference), so comparing the identity is safe. */
		for (int i = 0; i <= ns->shm_ids.max_idx; i++) {
			struct ipc_obj *o = ns->shm_ids.slot[i];

			if (o && seg_of(o)->obj == which) {
				seg_of(o)->dtime = ipc_now();
				seg_of(o)->lpid = t->tgid;
			}
		}
	}
	shm_reap_locked(ns);
	pthread_mutex_unlock(&ns->shm_lock);
	return r;
}

static void shm_stat(struct ipc_obj *o, void *out)
{
	struct shmid_ds *ds = out;
	struct shm_seg *s = seg_of(o);

	ds->shm_segsz = s->size;
	ds->shm_atime = s->atime;
	ds->shm_dtime = s->dtime;
	ds->shm_ctime = s->ctime;
	ds->shm_cpid = s->cpid;
	ds->shm_lpid = s->lpid;
	ds->shm_nattch = (shmatt_t)mm_shm_nattch(s->obj);
}

static void shm_info(struct ipc_namespace *ns, int cmd, void *out)
{
	if (cmd == IPC_INFO) {
		struct shminfo *si = out;

		si->shmmax = IPC_SHMMAX;
		si->shmmin = IPC_SHMMIN;
		si->shmmni = IPC_SHMMNI;
		si->shmseg = IPC_SHMMNI;
		si->shmall = IPC_SHMALL;
	} else {
		struct shm_info *si = out;

		si->used_ids = ns->shm_ids.in_use;
		si->shm_tot = ns->shm_tot;
		for (int i = 0; i <= ns->shm_ids.max_idx; i++)
			if (ns->shm_ids.slot[i])
				si->shm_rss += mm_shm_resident(
					seg_of(ns->shm_ids.slot[i])->obj);
	}
}

static void shm_set_ctime(struct ipc_obj *o, int64_t now)
{
	seg_of(o)->ctime = now;
}

static void shm_rmid(struct ipc_namespace *ns, struct ipc_obj *o)
{
	if (!mm_shm_nattch(seg_of(o)->obj)) {
		seg_destroy(ns, seg_of(o));
	} else {
		/* do_shm_rmid: destroyed at the last detach. */
		o->mode |= SHM_DEST;
		o->key = IPC_PRIVATE;
	}
}

/* sysvipc_shm_proc_show() */
static int shm_proc_line(struct ipc_obj *o, char *buf, size_t size)
{
	struct shm_seg *s = seg_of(o);

	return snprintf(buf, size,
			"%10d %10d  %4o %21lu %5u %5u  %5lu %5u %5u %5u %5u "
			"%10lld %10lld %10lld %21lu %21lu\n",
			o->key, o->id, o->mode, (unsigned long)s->size,
			(unsigned)s->cpid, (unsigned)s->lpid,
			(unsigned long)mm_shm_nattch(s->obj), o->uid, o->gid,
			o->cuid, o->cgid, (long long)s->atime,
			(long long)s->dtime, (long long)s->ctime,
			(unsigned long)mm_shm_resident(s->obj) * PAGE_SIZE,
			0UL);
}

const struct ipc_ctl_ops shm_ctl_ops = {
	.kind = IPC_KIND_SHM,
	.info_cmd = SHM_INFO,
	.stat_cmd = SHM_STAT,
	.stat_any_cmd = SHM_STAT_ANY,
	.ds_size = sizeof(struct shmid_ds),
	.ipc_info_size = sizeof(struct shminfo),	/* shminfo64 */
	.info_size = sizeof(struct shm_info),
	.sync = shm_reap_locked,
	.info = shm_info,
	.stat = shm_stat,
	.set_ctime = shm_set_ctime,
	.rmid = shm_rmid,
	.proc_name = "shm",
	.proc_header = "       key      shmid perms                  size  cpid"
		       "  lpid nattch   uid   gid  cuid  cgid      atime      dtime"
		       "      ctime                   rss                  swap\n",
	.proc_line = shm_proc_line,
};

long shm_ctl(struct task *t, int id, int cmd, uint64_t buf)
{
	struct ipc_namespace *ns = ipc_ns(t->k);
	struct ipc_obj *o;
	long r = 0;

	if (!ns)
		return -ENOMEM;
	if (cmd >= 0 && (cmd & IPC_64_FLAG))
		cmd ^= IPC_64_FLAG;
	if (cmd < 0 || id < 0)
		return -EINVAL;
	switch (cmd) {
	case SHM_LOCK:
	case SHM_UNLOCK:
		pthread_mutex_lock(&ns->shm_lock);
		o = ipc_ids_find(&ns->shm_ids, id);
		if (!o) {
			r = -EINVAL;
		} else if (!cred_capable(&t->cred, CAP_IPC_LOCK) &&
			   ((t->cred.euid != o->uid && t->cred.euid != o->cuid) ||
			    (cmd == SHM_LOCK &&
			     !t->rlimits[RLIMIT_MEMLOCK].rlim_cur))) {
			r = -EPERM;
		} else if (cmd == SHM_LOCK) {
			/* Nothing is ever swapped: only the flag. */
			o->mode |= SHM_LOCKED;
		} else {
			o->mode &= ~(uint32_t)SHM_LOCKED;
		}
		pthread_mutex_unlock(&ns->shm_lock);
		return r;
	default:
		return ipc_ctl_common(t, ns, &shm_ctl_ops, id, cmd, buf);
	}
}

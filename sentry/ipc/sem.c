// SPDX-License-Identifier: GPL-2.0
/*
 * System V semaphores (ipc/sem.c, semget(2), semop(2), semctl(2)).
 *
 * A semop applies all its operations or none (perform_atomic_semop: apply
 * in order, roll back on the first that would block or overflow). A task
 * that must wait sleeps on the array's wait queue and tries again whenever
 * a semop, SETVAL/SETALL or an exit's undo changes the array (every
 * sleeper is woken; Linux wakes only those whose operations can now
 * proceed, so the wake-up order among competing waiters may differ).
 * semncnt/semzcnt count sleepers by the operation that blocks them.
 * SEM_UNDO adjustments are kept per process (tgid) and per array, applied
 * when the process's last thread exits (ipc_process_exit) and kept across
 * execve; fork starts the child without any (semop(2)).
 *
 * Locks: ns->sem_lock around all state here; sleepers drop it in
 * task_block. References: the id table and each sleeper hold one on the
 * array (ipc_obj.refs, under sem_lock); an array owns its undo records.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <time.h>

#include "cvisor/mm.h"
#include "cvisor/signal.h"
#include "cvisor/waitq.h"
#include "ipc_impl.h"

#ifndef SEM_STAT_ANY
#define SEM_STAT_ANY 20
#endif
#define IPC_64_FLAG 0x100
#define SEMUSZ 20	/* sizeof(struct sem_undo) in Linux's seminfo */

struct sem {
	int val;
	int pid;
	int ncnt, zcnt;
};

struct sem_undo {
	struct list_head link;	/* sma->undos */
	int tgid;
	short adj[];
};

struct sem_array {
	struct ipc_obj perm;	/* first */
	int nsems;
	int64_t otime, ctime;
	struct waitq wq;
	struct list_head undos;
	struct sem sems[];
};

static struct sem_array *sma_of(struct ipc_obj *o)
{
	return (struct sem_array *)o;
}

static size_t undo_size(const struct sem_array *sma)
{
	return sizeof(struct sem_undo) + (size_t)sma->nsems * sizeof(short);
}

static void undo_free(struct ipc_namespace *ns, struct sem_array *sma,
		      struct sem_undo *u)
{
	ns->sem_undo_bytes -= undo_size(sma);
	list_del(&u->link);
	free(u);
}

static void sma_put_locked(struct ipc_namespace *ns, struct sem_array *sma)
{
	struct sem_undo *u, *tmp;

	if (--sma->perm.refs)
		return;
	list_for_each_entry_safe(u, tmp, &sma->undos, link)
		undo_free(ns, sma, u);
	waitq_destroy(&sma->wq);
	free(sma);
}

static void sma_remove_locked(struct ipc_namespace *ns, struct sem_array *sma)
{
	ns->used_sems -= sma->nsems;
	sma->perm.refs++;
	ipc_ids_remove(&ns->sem_ids, &sma->perm);
	/* Sleepers see perm.deleted and return EIDRM (freeary). */
	waitq_wake(&sma->wq, ~0ULL);
	sma_put_locked(ns, sma);
}

void sem_ns_free(struct ipc_namespace *ns)
{
	for (int i = 0; i <= ns->sem_ids.max_idx; i++)
		if (ns->sem_ids.slot[i])
			sma_remove_locked(ns, sma_of(ns->sem_ids.slot[i]));
	ipc_ids_free(&ns->sem_ids);
}

static struct sem_undo *undo_find(struct sem_array *sma, int tgid)
{
	struct sem_undo *u;

	list_for_each_entry(u, &sma->undos, link)
		if (u->tgid == tgid)
			return u;
	return NULL;
}

/* exit_sem(): apply and drop every adjustment of tgid. */
void sem_exit_locked(struct ipc_namespace *ns, int tgid)
{
	for (int i = 0; i <= ns->sem_ids.max_idx; i++) {
		struct sem_array *sma;
		struct sem_undo *u;

		if (!ns->sem_ids.slot[i])
			continue;
		sma = sma_of(ns->sem_ids.slot[i]);
		u = undo_find(sma, tgid);
		if (!u)
			continue;
		for (int n = 0; n < sma->nsems; n++) {
			int v = sma->sems[n].val + u->adj[n];

			if (!u->adj[n])
				continue;
			/* Linux clamps rather than block or fail. */
			if (v < 0)
				v = 0;
			if (v > IPC_SEMVMX)
				v = IPC_SEMVMX;
			sma->sems[n].val = v;
			sma->sems[n].pid = tgid;
		}
		undo_free(ns, sma, u);
		waitq_wake(&sma->wq, ~0ULL);
	}
}

static void undo_clear(struct sem_array *sma, int num)
{
	struct sem_undo *u;

	list_for_each_entry(u, &sma->undos, link) {
		if (num < 0)
			memset(u->adj, 0, (size_t)sma->nsems * sizeof(short));
		else
			u->adj[num] = 0;
	}
}

long sem_get(struct task *t, int key, int nsems, int flg)
{
	struct ipc_namespace *ns = ipc_ns(t->k);
	struct sem_array *sma;
	struct ipc_obj *o;
	long r;

	if (!ns)
		return -ENOMEM;
	if (nsems < 0 || nsems > IPC_SEMMSL)
		return -EINVAL;
	pthread_mutex_lock(&ns->sem_lock);
	o = key == IPC_PRIVATE ? NULL : ipc_ids_find_key(&ns->sem_ids, key);
	if (key == IPC_PRIVATE || (!o && (flg & IPC_CREAT))) {
		/* newary() */
		if (!nsems) {
			r = -EINVAL;
		} else if (ns->used_sems + nsems > IPC_SEMMNS ||
			   ns->used_sems + nsems > IPC_SEM_CAP) {
			r = -ENOSPC;
		} else if (!(sma = calloc(1, sizeof(*sma) +
					      (size_t)nsems * sizeof(struct sem)))) {
			r = -ENOMEM;
		} else {
			ipc_obj_init(&sma->perm, &t->cred, key, flg);
			sma->nsems = nsems;
			sma->ctime = ipc_now();
			waitq_init(&sma->wq);
			list_init(&sma->undos);
			r = ipc_ids_add(&ns->sem_ids, &sma->perm, IPC_SEMMNI);
			if (r < 0) {
				waitq_destroy(&sma->wq);
				free(sma);
			} else {
				ns->used_sems += nsems;
			}
		}
	} else if (!o) {
		r = -ENOENT;
	} else if ((flg & IPC_CREAT) && (flg & IPC_EXCL)) {
		r = -EEXIST;
	} else if (ipc_perms(&t->cred, o, flg)) {
		r = -EACCES;
	} else if (nsems > sma_of(o)->nsems) {	/* sem_more_checks */
		r = -EINVAL;
	} else {
		r = o->id;
	}
	pthread_mutex_unlock(&ns->sem_lock);
	return r;
}

/*
 * perform_atomic_semop(): 0 done, 1 must wait (*blk = the op), -EAGAIN
 * (IPC_NOWAIT on the blocking op), -ERANGE. Nothing changes unless 0.
 */
static int try_ops(struct sem_array *sma, const struct sembuf *sops,
		   int nsops, struct sem_undo *u, int tgid, int *blk)
{
	int i, r = 0;

	for (i = 0; i < nsops; i++) {
		const struct sembuf *s = &sops[i];
		struct sem *cur = &sma->sems[s->sem_num];
		int v = cur->val;

		if (!s->sem_op && v) {
			r = 1;
			break;
		}
		v += s->sem_op;
		if (v < 0) {
			r = 1;
			break;
		}
		if (v > IPC_SEMVMX) {
			r = -ERANGE;
			break;
		}
		if (s->sem_flg & SEM_UNDO) {
			int adj = u->adj[s->sem_num] - s->sem_op;

			if (adj < -IPC_SEMAEM - 1 || adj > IPC_SEMAEM) {
				r = -ERANGE;
				break;
			}
			u->adj[s->sem_num] = (short)adj;
		}
		cur->val = v;
	}
	if (!r) {
		for (i = 0; i < nsops; i++)
			sma->sems[sops[i].sem_num].pid = tgid;
		return 0;
	}
	if (r == 1) {
		*blk = i;
		if (sops[i].sem_flg & IPC_NOWAIT)
			r = -EAGAIN;
	}
	/* Roll back what was applied. */
	while (--i >= 0) {
		sma->sems[sops[i].sem_num].val -= sops[i].sem_op;
		if (sops[i].sem_flg & SEM_UNDO)
			u->adj[sops[i].sem_num] += sops[i].sem_op;
	}
	return r;
}

static void count_waiter(struct sem_array *sma, const struct sembuf *s, int d)
{
	if (s->sem_op)
		sma->sems[s->sem_num].ncnt += d;
	else
		sma->sems[s->sem_num].zcnt += d;
}

long sem_timedop(struct task *t, int id, uint64_t usops, uint64_t nsops,
		 uint64_t utimeout)
{
	struct ipc_namespace *ns = ipc_ns(t->k);
	struct timespec dl, *dlp = NULL;
	struct sembuf *sops;
	struct sem_array *sma;
	struct ipc_obj *o;
	struct waiter w;
	bool undos = false, alter = false, waiting = false;
	int max = 0, blk = 0, r;

	if (!ns)
		return -ENOMEM;
	if (nsops < 1)
		return -EINVAL;
	if (nsops > IPC_SEMOPM)
		return -E2BIG;
	sops = malloc(nsops * sizeof(*sops));
	if (!sops)
		return -ENOMEM;
	if (mm_copy_in(t->mm, sops, usops, nsops * sizeof(*sops))) {
		free(sops);
		return -EFAULT;
	}
	if (utimeout) {
		struct timespec ts, now;
		int64_t ns_;

		if (mm_copy_in(t->mm, &ts, utimeout, sizeof(ts))) {
			free(sops);
			return -EFAULT;
		}
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 ||
		    ts.tv_nsec >= 1000000000L) {
			free(sops);
			return -EINVAL;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		ns_ = ts.tv_nsec + now.tv_nsec;
		dl.tv_sec = now.tv_sec + ts.tv_sec + ns_ / 1000000000L;
		dl.tv_nsec = ns_ % 1000000000L;
		dlp = &dl;
	}
	for (uint64_t i = 0; i < nsops; i++) {
		if (sops[i].sem_num > max)
			max = sops[i].sem_num;
		if (sops[i].sem_flg & SEM_UNDO)
			undos = true;
		if (sops[i].sem_op)
			alter = true;
	}
	waiter_init(&w, t, ~0ULL);
	pthread_mutex_lock(&ns->sem_lock);
	o = ipc_ids_find(&ns->sem_ids, id);
	if (!o) {
		r = -EINVAL;
		goto out;
	}
	sma = sma_of(o);
	if (max >= sma->nsems) {
		r = -EFBIG;
		goto out;
	}
	if (ipc_perms(&t->cred, o, alter ? 0222 : 0444)) {
		r = -EACCES;
		goto out;
	}
	if (undos && !undo_find(sma, t->tgid)) {
		struct sem_undo *u = NULL;

		if (ns->sem_undo_bytes + undo_size(sma) <= IPC_SEM_UNDO_CAP)
			u = calloc(1, undo_size(sma));
		if (!u) {
			r = -ENOMEM;
			goto out;
		}
		ns->sem_undo_bytes += undo_size(sma);
		u->tgid = t->tgid;
		list_add_tail(&u->link, &sma->undos);
	}
	for (;;) {
		struct sem_undo *u = undos ? undo_find(sma, t->tgid) : NULL;
		int br;

		r = try_ops(sma, sops, (int)nsops, u, t->tgid, &blk);
		if (r <= 0)
			break;
		if (!waiting) {
			sma->perm.refs++;
			waitq_add(&sma->wq, &w);
			waiting = true;
		}
		count_waiter(sma, &sops[blk], 1);
		pthread_mutex_unlock(&ns->sem_lock);
		br = task_block(t, dlp);
		pthread_mutex_lock(&ns->sem_lock);
		count_waiter(sma, &sops[blk], -1);
		if (sma->perm.deleted) {
			r = -EIDRM;
			break;
		}
		if (br) {
			/* A wake-up that raced with the signal or timeout
			 * may have made the operations possible. */
			u = undos ? undo_find(sma, t->tgid) : NULL;
			r = try_ops(sma, sops, (int)nsops, u, t->tgid, &blk);
			if (r > 0)
				r = br == -ETIMEDOUT ? -EAGAIN : -EINTR;
			break;
		}
	}
	if (!r) {
		sma->otime = ipc_now();
		if (alter)
			waitq_wake(&sma->wq, ~0ULL);
	}
	if (waiting) {
		waitq_remove(&sma->wq, &w);
		sma_put_locked(ns, sma);
	}
out:
	pthread_mutex_unlock(&ns->sem_lock);
	free(sops);
	return r;
}

static void sem_info(struct ipc_namespace *ns, int cmd, void *out)
{
	struct seminfo *si = out;

	si->semmap = IPC_SEMMNS;
	si->semmni = IPC_SEMMNI;
	si->semmns = IPC_SEMMNS;
	si->semmnu = IPC_SEMMNS;
	si->semmsl = IPC_SEMMSL;
	si->semopm = IPC_SEMOPM;
	si->semume = IPC_SEMOPM;
	si->semusz = SEMUSZ;
	si->semvmx = IPC_SEMVMX;
	si->semaem = IPC_SEMAEM;
	if (cmd == SEM_INFO) {
		si->semusz = ns->sem_ids.in_use;
		si->semaem = ns->used_sems;
	}
}

static void sem_stat(struct ipc_obj *o, void *out)
{
	struct semid_ds *ds = out;

	ds->sem_otime = sma_of(o)->otime;
	ds->sem_ctime = sma_of(o)->ctime;
	ds->sem_nsems = (unsigned long)sma_of(o)->nsems;
}

static void sem_set_ctime(struct ipc_obj *o, int64_t now)
{
	sma_of(o)->ctime = now;
}

static void sem_rmid(struct ipc_namespace *ns, struct ipc_obj *o)
{
	sma_remove_locked(ns, sma_of(o));
}

/* sysvipc_sem_proc_show() */
static int sem_proc_line(struct ipc_obj *o, char *buf, size_t size)
{
	struct sem_array *sma = sma_of(o);

	return snprintf(buf, size,
			"%10d %10d  %4o %10u %5u %5u %5u %5u %10lld %10lld\n",
			o->key, o->id, o->mode, (unsigned)sma->nsems, o->uid,
			o->gid, o->cuid, o->cgid, (long long)sma->otime,
			(long long)sma->ctime);
}

const struct ipc_ctl_ops sem_ctl_ops = {
	.kind = IPC_KIND_SEM,
	.info_cmd = SEM_INFO,
	.stat_cmd = SEM_STAT,
	.stat_any_cmd = SEM_STAT_ANY,
	.ds_size = sizeof(struct semid_ds),
	.ipc_info_size = sizeof(struct seminfo),
	.info_size = sizeof(struct seminfo),
	.info = sem_info,
	.stat = sem_stat,
	.set_ctime = sem_set_ctime,
	.rmid = sem_rmid,
	.proc_name = "sem",
	.proc_header = "       key      semid perms      nsems   uid   gid  cuid"
		       "  cgid      otime      ctime\n",
	.proc_line = sem_proc_line,
};

/* GETALL and SETALL move the whole array through a sentry buffer, with
 * sem_lock dropped around the copy (a reference keeps the array). */
static long sem_all(struct task *t, struct ipc_namespace *ns,
		    struct sem_array *sma, int cmd, uint64_t arg)
{
	size_t n = (size_t)sma->nsems;
	unsigned short *v = malloc(n * sizeof(*v));
	long r = 0;

	if (!v)
		return -ENOMEM;
	if (cmd == GETALL) {
		for (size_t i = 0; i < n; i++)
			v[i] = (unsigned short)sma->sems[i].val;
		pthread_mutex_unlock(&ns->sem_lock);
		if (mm_copy_out(t->mm, arg, v, n * sizeof(*v)))
			r = -EFAULT;
		pthread_mutex_lock(&ns->sem_lock);
		free(v);
		return r;
	}
	sma->perm.refs++;
	pthread_mutex_unlock(&ns->sem_lock);
	if (mm_copy_in(t->mm, v, arg, n * sizeof(*v)))
		r = -EFAULT;
	for (size_t i = 0; !r && i < n; i++)
		if (v[i] > IPC_SEMVMX)
			r = -ERANGE;
	pthread_mutex_lock(&ns->sem_lock);
	if (!r && sma->perm.deleted)
		r = -EIDRM;
	if (!r) {
		for (size_t i = 0; i < n; i++) {
			sma->sems[i].val = v[i];
			sma->sems[i].pid = t->tgid;
		}
		undo_clear(sma, -1);
		sma->ctime = ipc_now();
		waitq_wake(&sma->wq, ~0ULL);
	}
	sma_put_locked(ns, sma);
	free(v);
	return r;
}

long sem_ctl(struct task *t, int id, int num, int cmd, uint64_t arg)
{
	struct ipc_namespace *ns = ipc_ns(t->k);
	struct sem_array *sma;
	struct ipc_obj *o;
	long r = 0;

	if (!ns)
		return -ENOMEM;
	if (cmd >= 0 && (cmd & IPC_64_FLAG))
		cmd ^= IPC_64_FLAG;
	if (id < 0)
		return -EINVAL;
	switch (cmd) {
	case SETVAL: {
		int val = (int)arg;	/* union semun by value: the int */

		if (val < 0 || val > IPC_SEMVMX)
			return -ERANGE;
		pthread_mutex_lock(&ns->sem_lock);
		o = ipc_ids_find(&ns->sem_ids, id);
		if (!o) {
			r = -EINVAL;
		} else if (num < 0 || num >= sma_of(o)->nsems) {
			r = -EINVAL;
		} else if (ipc_perms(&t->cred, o, 0222)) {
			r = -EACCES;
		} else {
			sma = sma_of(o);
			undo_clear(sma, num);
			sma->sems[num].val = val;
			sma->sems[num].pid = t->tgid;
			sma->ctime = ipc_now();
			waitq_wake(&sma->wq, ~0ULL);
		}
		pthread_mutex_unlock(&ns->sem_lock);
		return r;
	}
	case GETALL:
	case SETALL:
	case GETVAL:
	case GETPID:
	case GETNCNT:
	case GETZCNT:
		pthread_mutex_lock(&ns->sem_lock);
		o = ipc_ids_find(&ns->sem_ids, id);
		if (!o) {
			r = -EINVAL;
		} else if (ipc_perms(&t->cred, o, cmd == SETALL ? 0222 : 0444)) {
			r = -EACCES;
		} else if (cmd == GETALL || cmd == SETALL) {
			r = sem_all(t, ns, sma_of(o), cmd, arg);
		} else if (num < 0 || num >= sma_of(o)->nsems) {
			r = -EINVAL;
		} else {
			struct sem *s = &sma_of(o)->sems[num];

			r = cmd == GETVAL ? s->val : cmd == GETPID ? s->pid :
			    cmd == GETNCNT ? s->ncnt : s->zcnt;
		}
		pthread_mutex_unlock(&ns->sem_lock);
		return r;
	default:
		return ipc_ctl_common(t, ns, &sem_ctl_ops, id, cmd, arg);
	}
}

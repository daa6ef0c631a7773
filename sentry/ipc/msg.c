// SPDX-License-Identifier: GPL-2.0
/*
 * System V message queues (ipc/msg.c, msgget(2), msgsnd(2), msgrcv(2),
 * msgctl(2)).
 *
 * A queue is a FIFO list of messages; msgrcv picks by msgtyp (0: first,
 * > 0: first of that type or, with MSG_EXCEPT, of another type, < 0: first
 * of the lowest type <= |msgtyp|; MSG_COPY: the msgtyp'th message, left in
 * place). Senders block while msgsz + bytes > msg_qbytes or the message
 * count would exceed msg_qbytes (msg_fits_inqueue). Blocked senders and
 * receivers sleep on one wait queue and all look again after any change.
 * Signals give -ERESTARTNOHAND (EINTR with a handler, restarted after a
 * stop), IPC_RMID gives EIDRM.
 *
 * Memory: message text is copied into the sentry and charged to the
 * namespace's message budget (IPC_MSG_BYTES_CAP) besides msg_qbytes.
 *
 * Locks: ns->msg_lock around all state; no lock while copying from or to
 * the workload. References: the id table and each sleeper hold one on the
 * queue (ipc_obj.refs under msg_lock); a queue owns its messages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>

#include "cvisor/mm.h"
#include "cvisor/signal.h"
#include "cvisor/waitq.h"
#include "ipc_impl.h"

#ifndef MSG_STAT_ANY
#define MSG_STAT_ANY 13
#endif
#ifndef MSG_COPY
#define MSG_COPY 040000
#endif
#define IPC_64_FLAG 0x100
#define MSG_OVERHEAD 64		/* charged per message besides its text */
#define CAP_SYS_RESOURCE 24
#define MSGPOOL_ (IPC_MSGMNI * IPC_MSGMNB / 1024)
#define MSGSSZ_ 16
#define MSGSEG_ 0xffff

struct msg_msg {
	struct list_head link;
	long mtype;
	size_t len;
	char text[];
};

struct msg_queue {
	struct ipc_obj perm;	/* first */
	int64_t stime, rtime, ctime;
	uint64_t cbytes, qnum, qbytes;
	int lspid, lrpid;
	struct list_head msgs;
	struct waitq wq;
};

static struct msg_queue *mq_of(struct ipc_obj *o)
{
	return (struct msg_queue *)o;
}

static void msg_free(struct ipc_namespace *ns, struct msg_msg *m)
{
	ipc_msg_uncharge(ns, m->len + MSG_OVERHEAD);
	free(m);
}

static void queue_put_locked(struct ipc_namespace *ns, struct msg_queue *q)
{
	struct msg_msg *m, *tmp;

	if (--q->perm.refs)
		return;
	list_for_each_entry_safe(m, tmp, &q->msgs, link) {
		list_del(&m->link);
		msg_free(ns, m);
	}
	waitq_destroy(&q->wq);
	free(q);
}

static void queue_remove_locked(struct ipc_namespace *ns, struct msg_queue *q)
{
	ns->msg_hdrs -= q->qnum;
	ns->msg_text -= q->cbytes;
	q->perm.refs++;
	ipc_ids_remove(&ns->msg_ids, &q->perm);
	waitq_wake(&q->wq, ~0ULL);
	queue_put_locked(ns, q);
}

void msg_ns_free(struct ipc_namespace *ns)
{
	for (int i = 0; i <= ns->msg_ids.max_idx; i++)
		if (ns->msg_ids.slot[i])
			queue_remove_locked(ns, mq_of(ns->msg_ids.slot[i]));
	ipc_ids_free(&ns->msg_ids);
}

long msg_get(struct task *t, int key, int flg)
{
	struct ipc_namespace *ns = ipc_ns(t->k);
	struct msg_queue *q;
	struct ipc_obj *o;
	long r;

	if (!ns)
		return -ENOMEM;
	pthread_mutex_lock(&ns->msg_lock);
	o = key == IPC_PRIVATE ? NULL : ipc_ids_find_key(&ns->msg_ids, key);
	if (key == IPC_PRIVATE || (!o && (flg & IPC_CREAT))) {
		q = calloc(1, sizeof(*q));
		if (!q) {
			r = -ENOMEM;
		} else {
			ipc_obj_init(&q->perm, &t->cred, key, flg);
			q->qbytes = IPC_MSGMNB;
			q->ctime = ipc_now();
			list_init(&q->msgs);
			waitq_init(&q->wq);
			r = ipc_ids_add(&ns->msg_ids, &q->perm, IPC_MSGMNI);
			if (r < 0) {
				waitq_destroy(&q->wq);
				free(q);
			}
		}
	} else if (!o) {
		r = -ENOENT;
	} else if ((flg & IPC_CREAT) && (flg & IPC_EXCL)) {
		r = -EEXIST;
	} else if (ipc_perms(&t->cred, o, flg)) {
		r = -EACCES;
	} else {
		r = o->id;
	}
	pthread_mutex_unlock(&ns->msg_lock);
	return r;
}

/* Sleep on q's queue with msg_lock dropped; 0 or -ERESTARTNOHAND/-EIDRM. */
static int queue_wait(struct ipc_namespace *ns, struct task *t,
		      struct msg_queue *q, struct waiter *w, bool *waiting)
{
	int br;

	if (!*waiting) {
		q->perm.refs++;
		waitq_add(&q->wq, w);
		*waiting = true;
	}
	pthread_mutex_unlock(&ns->msg_lock);
	br = task_block(t, NULL);
	pthread_mutex_lock(&ns->msg_lock);
	if (q->perm.deleted)
		return -EIDRM;
	return br ? -ERESTARTNOHAND : 0;
}

static void queue_unwait(struct ipc_namespace *ns, struct msg_queue *q,
			 struct waiter *w, bool waiting)
{
	if (!waiting)
		return;
	waitq_remove(&q->wq, w);
	queue_put_locked(ns, q);
}

long msg_snd(struct task *t, int id, uint64_t msgp, uint64_t sz, int flg)
{
	struct ipc_namespace *ns = ipc_ns(t->k);
	struct msg_msg *m;
	struct msg_queue *q;
	struct ipc_obj *o;
	struct waiter w;
	bool waiting = false;
	long mtype;
	int r;

	if (!ns)
		return -ENOMEM;
	if (sz > IPC_MSGMAX || id < 0)
		return -EINVAL;
	if (mm_copy_in(t->mm, &mtype, msgp, sizeof(mtype)))
		return -EFAULT;
	if (mtype < 1)
		return -EINVAL;
	if (ipc_msg_charge(ns, sz + MSG_OVERHEAD))
		return -ENOMEM;
	m = malloc(sizeof(*m) + sz);
	if (!m) {
		ipc_msg_uncharge(ns, sz + MSG_OVERHEAD);
		return -ENOMEM;
	}
	m->mtype = mtype;
	m->len = sz;
	if (mm_copy_in(t->mm, m->text, msgp + sizeof(long), sz)) {
		msg_free(ns, m);
		return -EFAULT;
	}
	waiter_init(&w, t, ~0ULL);
	pthread_mutex_lock(&ns->msg_lock);
	o = ipc_ids_find(&ns->msg_ids, id);
	if (!o) {
		pthread_mutex_unlock(&ns->msg_lock);
		msg_free(ns, m);
		return -EINVAL;
	}
	q = mq_of(o);
	for (;;) {
		if (ipc_perms(&t->cred, o, 0222)) {
			r = -EACCES;
			break;
		}
		if (sz + q->cbytes <= q->qbytes && q->qnum + 1 <= q->qbytes) {
			list_add_tail(&m->link, &q->msgs);
			m = NULL;
			q->cbytes += sz;
			q->qnum++;
			q->lspid = t->tgid;
			q->stime = ipc_now();
			ns->msg_hdrs++;
			ns->msg_text += sz;
			waitq_wake(&q->wq, ~0ULL);
			r = 0;
			break;
		}
		if (flg & IPC_NOWAIT) {
			r = -EAGAIN;
			break;
		}
		r = queue_wait(ns, t, q, &w, &waiting);
		if (r)
			break;
	}
	queue_unwait(ns, q, &w, waiting);
	pthread_mutex_unlock(&ns->msg_lock);
	if (m)
		msg_free(ns, m);
	return r;
}

/* find_msg() */
static struct msg_msg *find_msg(struct msg_queue *q, long typ, int flg)
{
	struct msg_msg *m, *found = NULL;
	long count = 0;

	list_for_each_entry(m, &q->msgs, link) {
		if (flg & MSG_COPY) {
			if (count++ == typ)
				return m;
		} else if (typ == 0) {
			return m;
		} else if (typ < 0) {
			if (m->mtype <= -typ &&
			    (!found || m->mtype < found->mtype)) {
				found = m;
				if (m->mtype == 1)
					return m;
			}
		} else if ((flg & MSG_EXCEPT) ? m->mtype != typ
					      : m->mtype == typ) {
			return m;
		}
	}
	return found;
}

long msg_rcv(struct task *t, int id, uint64_t msgp, uint64_t sz, long typ,
	     int flg)
{
	struct ipc_namespace *ns = ipc_ns(t->k);
	struct msg_msg *m = NULL, *found;
	struct msg_queue *q;
	struct ipc_obj *o;
	struct waiter w;
	bool waiting = false;
	long r;

	if (!ns)
		return -ENOMEM;
	if (id < 0 || (int64_t)sz < 0)
		return -EINVAL;
	if ((flg & MSG_COPY) && ((flg & MSG_EXCEPT) || !(flg & IPC_NOWAIT)))
		return -EINVAL;
	waiter_init(&w, t, ~0ULL);
	pthread_mutex_lock(&ns->msg_lock);
	o = ipc_ids_find(&ns->msg_ids, id);
	if (!o) {
		pthread_mutex_unlock(&ns->msg_lock);
		return -EINVAL;
	}
	q = mq_of(o);
	for (;;) {
		if (ipc_perms(&t->cred, o, 0444)) {
			r = -EACCES;
			break;
		}
		found = find_msg(q, typ, flg);
		if (found) {
			if (sz < found->len && !(flg & MSG_NOERROR)) {
				r = -E2BIG;
				break;
			}
			if (flg & MSG_COPY) {
				if (ipc_msg_charge(ns, found->len + MSG_OVERHEAD)) {
					r = -ENOMEM;
					break;
				}
				m = malloc(sizeof(*m) + found->len);
				if (!m) {
					ipc_msg_uncharge(ns, found->len +
								MSG_OVERHEAD);
					r = -ENOMEM;
					break;
				}
				memcpy(m, found, sizeof(*m) + found->len);
			} else {
				m = found;
				list_del(&m->link);
				q->cbytes -= m->len;
				q->qnum--;
				q->lrpid = t->tgid;
				q->rtime = ipc_now();
				ns->msg_hdrs--;
				ns->msg_text -= m->len;
				waitq_wake(&q->wq, ~0ULL);
			}
			r = 0;
			break;
		}
		if (flg & IPC_NOWAIT) {
			r = -ENOMSG;
			break;
		}
		r = queue_wait(ns, t, q, &w, &waiting);
		if (r)
			break;
	}
	queue_unwait(ns, q, &w, waiting);
	pthread_mutex_unlock(&ns->msg_lock);
	if (r)
		return r;
	/* The message is gone from the queue even if the copy faults, as
	 * in Linux. */
	r = (long)MIN(sz, m->len);
	if (mm_copy_out(t->mm, msgp, &m->mtype, sizeof(long)) ||
	    mm_copy_out(t->mm, msgp + sizeof(long), m->text, (size_t)r))
		r = -EFAULT;
	msg_free(ns, m);
	return r;
}

static void msg_info(struct ipc_namespace *ns, int cmd, void *out)
{
	struct msginfo *mi = out;

	mi->msgpool = MSGPOOL_;
	mi->msgmap = IPC_MSGMNB;
	mi->msgmax = IPC_MSGMAX;
	mi->msgmnb = IPC_MSGMNB;
	mi->msgmni = IPC_MSGMNI;
	mi->msgssz = MSGSSZ_;
	mi->msgtql = IPC_MSGMNB;
	mi->msgseg = MSGSEG_;
	if (cmd == MSG_INFO) {
		mi->msgpool = ns->msg_ids.in_use;
		mi->msgmap = (int)ns->msg_hdrs;
		mi->msgtql = (int)ns->msg_text;
	}
}

static void msg_stat(struct ipc_obj *o, void *out)
{
	struct msqid_ds *ds = out;
	struct msg_queue *q = mq_of(o);

	ds->msg_stime = q->stime;
	ds->msg_rtime = q->rtime;
	ds->msg_ctime = q->ctime;
	ds->__msg_cbytes = q->cbytes;
	ds->msg_qnum = q->qnum;
	ds->msg_qbytes = q->qbytes;
	ds->msg_lspid = q->lspid;
	ds->msg_lrpid = q->lrpid;
}

/* msgctl_down(IPC_SET): raising msg_qbytes past MSGMNB needs
 * CAP_SYS_RESOURCE. */
static int msg_set(struct task *t, struct ipc_obj *o, const void *in)
{
	const struct msqid_ds *ds = in;
	struct msg_queue *q = mq_of(o);

	if (ds->msg_qbytes > IPC_MSGMNB &&
	    !cred_capable(&t->cred, CAP_SYS_RESOURCE))
		return -EPERM;
	q->qbytes = ds->msg_qbytes;
	/* Senders may fit now. */
	waitq_wake(&q->wq, ~0ULL);
	return 0;
}

static void msg_set_ctime(struct ipc_obj *o, int64_t now)
{
	mq_of(o)->ctime = now;
}

static void msg_rmid(struct ipc_namespace *ns, struct ipc_obj *o)
{
	queue_remove_locked(ns, mq_of(o));
}

/* sysvipc_msg_proc_show() */
static int msg_proc_line(struct ipc_obj *o, char *buf, size_t size)
{
	struct msg_queue *q = mq_of(o);

	return snprintf(buf, size,
			"%10d %10d  %4o  %10lu %10lu %5u %5u %5u %5u %5u %5u "
			"%10lld %10lld %10lld\n",
			o->key, o->id, o->mode, (unsigned long)q->cbytes,
			(unsigned long)q->qnum, (unsigned)q->lspid,
			(unsigned)q->lrpid, o->uid, o->gid, o->cuid, o->cgid,
			(long long)q->stime, (long long)q->rtime,
			(long long)q->ctime);
}

const struct ipc_ctl_ops msg_ctl_ops = {
	.kind = IPC_KIND_MSG,
	.info_cmd = MSG_INFO,
	.stat_cmd = MSG_STAT,
	.stat_any_cmd = MSG_STAT_ANY,
	.ds_size = sizeof(struct msqid_ds),
	.ipc_info_size = sizeof(struct msginfo),
	.info_size = sizeof(struct msginfo),
	.info = msg_info,
	.stat = msg_stat,
	.set = msg_set,
	.set_ctime = msg_set_ctime,
	.rmid = msg_rmid,
	.proc_name = "msg",
	.proc_header = "       key      msqid perms      cbytes       qnum lspid"
		       " lrpid   uid   gid  cuid  cgid      stime      rtime"
		       "      ctime\n",
	.proc_line = msg_proc_line,
};

long msg_ctl(struct task *t, int id, int cmd, uint64_t buf)
{
	struct ipc_namespace *ns = ipc_ns(t->k);

	if (!ns)
		return -ENOMEM;
	if (cmd >= 0 && (cmd & IPC_64_FLAG))
		cmd ^= IPC_64_FLAG;
	if (id < 0 || cmd < 0)
		return -EINVAL;
	return ipc_ctl_common(t, ns, &msg_ctl_ops, id, cmd, buf);
}

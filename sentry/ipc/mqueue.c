// SPDX-License-Identifier: GPL-2.0
/*
 * POSIX message queues (ipc/mqueue.c, mq_overview(7)).
 *
 * Queues live in the namespace's name table, which every mqueue mount
 * shows (the end of this file; /dev/mqueue by default), and are opened as
 * anonymous files: the fd polls EPOLLIN while messages are
 * queued and EPOLLOUT while there is room, and read() gives the
 * "QSIZE:... NOTIFY:... SIGNO:... NOTIFY_PID:..." line (QSIZE: bytes of the
 * queued messages; Linux also adds the size of a priority tree node when
 * one is allocated rather than taken from its one-node cache). Descriptors are close-on-exec, as do_mq_open
 * makes them. Messages are kept in descending priority, FIFO within one
 * priority. Creating a queue charges its maximum size to the creator's
 * RLIMIT_MSGQUEUE (per uid, EMFILE past it), like mqueue_get_inode.
 *
 * Notification: SIGEV_SIGNAL (si_code SI_MESGQ) and SIGEV_NONE, sent when
 * a message arrives on an empty queue that no receiver is waiting on, then
 * unregistered. SIGEV_THREAD needs a netlink socket (glibc makes one
 * first); there are no sockets, so its fd is -EBADF or -ENOTSOCK as in
 * Linux. The owner's registration is dropped when it closes the open file
 * description's last reference (exit included); Linux drops it at any
 * close by the owner (mqueue_flush_file), e.g. of one of two dup'ed fds.
 *
 * Locks: ns->mq_lock for the name table and the per-uid byte counts; each
 * queue's lock for its state (mq_lock -> queue lock); waitq locks inside.
 * No lock is held while copying from/to the workload or sending a signal.
 * References: the name table and each open file hold one on a queue
 * (atomic refs); the queue owns its messages.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "cvisor/mm.h"
#include "cvisor/signal.h"
#include "cvisor/vfs.h"
#include "cvisor/waitq.h"
#include "ipc_impl.h"
#include "../../vfs/vfs_impl.h"

#define MQ_PRIO_MAX_ 32768
#define MQ_NODE_SIZE 48		/* struct msg_msg / posix_msg_tree_node */
#define MQ_MSG_OVERHEAD 64
#define CAP_DAC_OVERRIDE 1
#define CAP_FOWNER 3
#define CAP_SYS_RESOURCE 24

/* struct mq_attr (x86-64). */
struct cv_mq_attr {
	long mq_flags, mq_maxmsg, mq_msgsize, mq_curmsgs;
	long reserved[4];
};

/* struct sigevent (x86-64): value, signo, notify, 48 bytes of union. */
struct cv_sigevent {
	uint64_t value;
	int signo;
	int notify;
	char pad[48];
};

struct pmq_msg {
	struct list_head link;
	long prio;
	size_t len;
	char text[];
};

struct pmq {
	pthread_mutex_t lock;
	int refs;			/* atomic */
	struct ipc_namespace *ns;
	struct list_head link;		/* ns->mqueues while named */
	bool linked;
	char name[NAME_MAX + 1];
	uint32_t uid, gid, mode;
	int fid;			/* its node in the mqueue fs */
	uint32_t charged_uid;
	uint64_t charged;		/* RLIMIT_MSGQUEUE bytes */
	long maxmsg, msgsize, curmsgs;
	uint64_t qsize;
	struct list_head msgs;		/* descending prio, FIFO within */
	int recv_waiting;
	struct waitq wq;		/* senders, receivers, pollers */
	int notify_tgid;		/* 0: none registered */
	int notify_how, notify_signo;
	uint64_t notify_value;
};

/* RLIMIT_MSGQUEUE accounting per uid (struct user_struct mq_bytes). */
struct mq_user {
	struct list_head link;
	uint32_t uid;
	uint64_t bytes;
};

static const struct file_ops pmq_fops;

/* Charge or refund (negative) RLIMIT_MSGQUEUE bytes of uid; mq_lock. */
static int mq_user_charge(struct ipc_namespace *ns, uint32_t uid,
			  int64_t bytes, uint64_t limit)
{
	struct mq_user *u, *found = NULL;

	list_for_each_entry(u, &ns->mq_users, link)
		if (u->uid == uid)
			found = u;
	if (bytes < 0) {
		if (found) {
			found->bytes -= (uint64_t)-bytes;
			if (!found->bytes) {
				list_del(&found->link);
				free(found);
			}
		}
		return 0;
	}
	if (!found) {
		found = calloc(1, sizeof(*found));
		if (!found)
			return -ENOMEM;
		found->uid = uid;
		list_add_tail(&found->link, &ns->mq_users);
	}
	if (found->bytes + (uint64_t)bytes < found->bytes ||
	    found->bytes + (uint64_t)bytes > limit) {
		if (!found->bytes) {
			list_del(&found->link);
			free(found);
		}
		return -EMFILE;
	}
	found->bytes += (uint64_t)bytes;
	return 0;
}

static void pmq_put(struct pmq *q)
{
	struct ipc_namespace *ns = q->ns;
	struct pmq_msg *m, *tmp;

	if (__atomic_sub_fetch(&q->refs, 1, __ATOMIC_ACQ_REL))
		return;
	list_for_each_entry_safe(m, tmp, &q->msgs, link) {
		ipc_msg_uncharge(ns, m->len + MQ_MSG_OVERHEAD);
		free(m);
	}
	pthread_mutex_lock(&ns->mq_lock);
	ns->mq_count--;
	mq_user_charge(ns, q->charged_uid, -(int64_t)q->charged, 0);
	pthread_mutex_unlock(&ns->mq_lock);
	waitq_destroy(&q->wq);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

void mq_ns_free(struct ipc_namespace *ns)
{
	struct pmq *q, *tmp;
	struct mq_user *u, *utmp;

	/* No task is left, so no open file either: the names hold the
	 * last references. */
	list_for_each_entry_safe(q, tmp, &ns->mqueues, link) {
		list_del(&q->link);
		q->linked = false;
		pmq_put(q);
	}
	list_for_each_entry_safe(u, utmp, &ns->mq_users, link) {
		list_del(&u->link);
		free(u);
	}
}

/* ---- the file ---- */

static int mq_show(struct pmq *q, char *buf, size_t len)
{
	int n;

	pthread_mutex_lock(&q->lock);
	n = snprintf(buf, len,
		     "QSIZE:%-10lu NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n",
		     (unsigned long)q->qsize,
		     q->notify_tgid ? q->notify_how : 0,
		     q->notify_tgid && q->notify_how == SIGEV_SIGNAL
			     ? q->notify_signo : 0,
		     q->notify_tgid);
	pthread_mutex_unlock(&q->lock);
	return n;
}

static ssize_t pmq_read(struct file *f, const struct iovec *iov, int cnt,
			int64_t *off)
{
	char buf[128];
	int n = mq_show(f->priv, buf, sizeof(buf));
	int64_t pos;
	size_t len;

	pthread_mutex_lock(&f->pos_lock);
	pos = off ? *off : f->pos;
	if (pos < 0 || pos >= n) {
		pthread_mutex_unlock(&f->pos_lock);
		return 0;
	}
	len = iov_copy_out(iov, cnt, 0, buf + pos, (size_t)(n - pos));
	if (off)
		*off = pos + (int64_t)len;
	else
		f->pos = pos + (int64_t)len;
	pthread_mutex_unlock(&f->pos_lock);
	return (ssize_t)len;
}

static int64_t pmq_llseek(struct file *f, int64_t off, int whence)
{
	int64_t npos;

	pthread_mutex_lock(&f->pos_lock);
	npos = whence == SEEK_SET ? off : whence == SEEK_CUR ? f->pos + off : -1;
	if (npos >= 0)
		f->pos = npos;
	pthread_mutex_unlock(&f->pos_lock);
	return npos < 0 ? -EINVAL : npos;
}

static uint32_t pmq_poll(struct file *f, struct poll_table *pt)
{
	struct pmq *q = f->priv;
	uint32_t m = 0;

	poll_wait(f, &q->wq, pt);
	pthread_mutex_lock(&q->lock);
	if (q->curmsgs)
		m |= EPOLLIN | EPOLLRDNORM;
	if (q->curmsgs < q->maxmsg)
		m |= EPOLLOUT | EPOLLWRNORM;
	pthread_mutex_unlock(&q->lock);
	return m;
}

static int pmq_fstat(struct file *f, struct stat *st)
{
	struct pmq *q = f->priv;

	anon_fstat(f, st);
	pthread_mutex_lock(&q->lock);
	st->st_mode = S_IFREG | (q->mode & 0777);
	st->st_uid = q->uid;
	st->st_gid = q->gid;
	st->st_size = (off_t)q->qsize;
	pthread_mutex_unlock(&q->lock);
	return 0;
}

static void pmq_release(struct file *f)
{
	struct pmq *q = f->priv;
	struct task *cur = ipc_current();

	/* mqueue_flush_file: the owner's close drops its registration
	 * (here only the close of the description's last reference). */
	pthread_mutex_lock(&q->lock);
	if (cur && q->notify_tgid == cur->tgid)
		q->notify_tgid = 0;
	pthread_mutex_unlock(&q->lock);
	epoll_release_file(f, &q->wq);
	pmq_put(q);
}

static const struct file_ops pmq_fops = {
	.read = pmq_read,
	.llseek = pmq_llseek,
	.fstat = pmq_fstat,
	.release = pmq_release,
	.poll = pmq_poll,
};

/* The queue behind fd, referenced through its file (put *fp after). */
static struct pmq *pmq_fget(struct task *t, int fd, struct file **fp)
{
	struct file *f = fdtable_get(t->fdt, fd);

	if (!f)
		return NULL;
	if (f->ops != &pmq_fops) {
		vfs_file_put(f);
		return NULL;
	}
	*fp = f;
	return f->priv;
}

/* ---- names ---- */

/* getname + lookup_one_len: the name as given to the system call (glibc
 * strips the leading '/'). */
static int pmq_name(struct task *t, uint64_t uname, char *out)
{
	char *buf = malloc(PATH_MAX);
	ssize_t n;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	n = mm_strncpy_in(t->mm, buf, uname, PATH_MAX);
	if (n < 0) {
		r = (int)n;
	} else if (n == 0) {
		r = -ENOENT;	/* getname("") */
	} else if (!strcmp(buf, ".") || !strcmp(buf, "..") || strchr(buf, '/')) {
		r = -EACCES;
	} else if (n > NAME_MAX) {
		r = -ENAMETOOLONG;
	} else {
		memcpy(out, buf, (size_t)n + 1);
	}
	free(buf);
	return r;
}

static struct pmq *pmq_lookup(struct ipc_namespace *ns, const char *name)
{
	struct pmq *q;

	list_for_each_entry(q, &ns->mqueues, link)
		if (!strcmp(q->name, name))
			return q;
	return NULL;
}

static bool in_group(const struct cred *c, uint32_t gid)
{
	if (c->fsgid == gid)
		return true;
	for (int i = 0; i < c->ngroups && i < CV_NGROUPS_MAX; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

/* inode_permission() on the queue: mask of 4 (read) / 2 (write). */
static int pmq_permission(const struct cred *c, const struct pmq *q, int mask)
{
	uint32_t m = q->mode;

	if (cred_capable(c, CAP_DAC_OVERRIDE))
		return 0;
	if (c->fsuid == q->uid)
		m >>= 6;
	else if (in_group(c, q->gid))
		m >>= 3;
	return (mask & ~(int)m & 7) ? -EACCES : 0;
}

static int pmq_create(struct task *t, struct ipc_namespace *ns,
		      const char *name, uint32_t mode,
		      const struct cv_mq_attr *attr, struct pmq **out)
{
	bool res = cred_capable(&t->cred, CAP_SYS_RESOURCE);
	long maxmsg = IPC_MQ_MSG_DEFAULT, msgsize = IPC_MQ_MSGSIZE_DEFAULT;
	uint64_t bytes;
	struct pmq *q;
	int r;

	if (ns->mq_count >= IPC_MQ_QUEUES_CAP ||
	    (ns->mq_count >= IPC_MQ_QUEUES_MAX && !res))
		return -ENOSPC;
	if (attr) {
		maxmsg = attr->mq_maxmsg;
		msgsize = attr->mq_msgsize;
	}
	if (maxmsg <= 0 || msgsize <= 0)
		return -EINVAL;
	if (res ? (maxmsg > IPC_MQ_HARD_MSGMAX ||
		   msgsize > IPC_MQ_HARD_MSGSIZEMAX)
		: (maxmsg > IPC_MQ_MSG_MAX || msgsize > IPC_MQ_MSGSIZE_MAX))
		return -EINVAL;
	/* mq_treesize + the message space, as mqueue_get_inode counts. */
	bytes = (uint64_t)maxmsg * MQ_NODE_SIZE +
		(uint64_t)MIN(maxmsg, MQ_PRIO_MAX_) * MQ_NODE_SIZE +
		(uint64_t)maxmsg * (uint64_t)msgsize;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	r = mq_user_charge(ns, t->cred.ruid, (int64_t)bytes,
			   t->rlimits[RLIMIT_MSGQUEUE].rlim_cur);
	if (r) {
		free(q);
		return r;
	}
	pthread_mutex_init(&q->lock, NULL);
	waitq_init(&q->wq);
	list_init(&q->msgs);
	q->refs = 1;	/* the name */
	q->ns = ns;
	snprintf(q->name, sizeof(q->name), "%s", name);
	q->uid = t->cred.fsuid;
	q->gid = t->cred.fsgid;
	pthread_mutex_lock(&t->fs->lock);
	q->mode = mode & ~t->fs->umask & 0777;
	pthread_mutex_unlock(&t->fs->lock);
	q->charged_uid = t->cred.ruid;
	q->charged = bytes;
	q->maxmsg = maxmsg;
	q->msgsize = msgsize;
	q->linked = true;
	q->fid = ++ns->mq_next_fid;
	if (q->fid <= 0)	/* after 2^31 queues: wrap past 0 */
		q->fid = ns->mq_next_fid = 1;
	list_add_tail(&q->link, &ns->mqueues);
	ns->mq_count++;
	*out = q;
	return 0;
}

long pmq_open(struct task *t, uint64_t uname, int oflag, uint32_t mode,
	      uint64_t uattr)
{
	struct ipc_namespace *ns = ipc_ns(t->k);
	uint64_t lim = t->rlimits[RLIMIT_NOFILE].rlim_cur;
	char name[NAME_MAX + 1];
	struct cv_mq_attr attr;
	struct pmq *q;
	struct file *f;
	int acc = oflag & O_ACCMODE, r;

	if (!ns)
		return -ENOMEM;
	if (uattr && mm_copy_in(t->mm, &attr, uattr, sizeof(attr)))
		return -EFAULT;
	r = pmq_name(t, uname, name);
	if (r)
		return r;
	pthread_mutex_lock(&ns->mq_lock);
	q = pmq_lookup(ns, name);
	if (!q) {
		if (!(oflag & O_CREAT))
			r = -ENOENT;
		else
			r = pmq_create(t, ns, name, mode, uattr ? &attr : NULL,
				       &q);
	} else if ((oflag & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) {
		r = -EEXIST;
	} else if (acc == O_ACCMODE) {
		r = -EINVAL;
	} else {
		r = pmq_permission(&t->cred, q,
				   acc == O_RDONLY ? 4 : acc == O_WRONLY ? 2 : 6);
	}
	if (!r)
		__atomic_add_fetch(&q->refs, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&ns->mq_lock);
	if (r)
		return r;
	r = anon_file_new(&pmq_fops, q, (unsigned int)oflag, &f);
	if (r < 0) {
		pmq_put(q);
		return r;
	}
	f->flags = (unsigned int)(oflag & (O_ACCMODE | O_NONBLOCK));
	f->fmode = FMODE_STREAM | (acc != O_WRONLY ? FMODE_READ : 0) |
		   (acc != O_RDONLY ? FMODE_WRITE : 0);
	r = fdtable_alloc(t->fdt, f, 0, true,
			  lim > VFS_NR_OPEN ? VFS_NR_OPEN : (int)lim);
	vfs_file_put(f);
	return r;
}

/* mq_unlink(2) and unlink(2) in an mqueue mount: the name goes, the
 * queue stays while open. */
static int pmq_remove(struct ipc_namespace *ns, const struct cred *c,
		      const char *name)
{
	struct pmq *q;
	int r = 0;

	pthread_mutex_lock(&ns->mq_lock);
	q = pmq_lookup(ns, name);
	if (!q) {
		r = -ENOENT;
	} else if (c->fsuid != q->uid && c->fsuid != 0 &&
		   !cred_capable(c, CAP_FOWNER)) {
		/* The mqueue root is sticky (01777) and root's. */
		r = -EPERM;
	} else {
		list_del(&q->link);
		q->linked = false;
	}
	pthread_mutex_unlock(&ns->mq_lock);
	if (!r)
		pmq_put(q);
	return r;
}

long pmq_unlink(struct task *t, uint64_t uname)
{
	struct ipc_namespace *ns = ipc_ns(t->k);
	char name[NAME_MAX + 1];
	int r;

	if (!ns)
		return -ENOMEM;
	r = pmq_name(t, uname, name);
	if (r)
		return r;
	return pmq_remove(ns, &t->cred, name);
}

/* prepare_timeout(): absolute CLOCK_REALTIME -> a monotonic deadline. */
static int read_abs_timeout(struct task *t, uint64_t uts, struct timespec *dl)
{
	struct timespec ts, now, rt;
	int64_t ns_;

	if (mm_copy_in(t->mm, &ts, uts, sizeof(ts)))
		return -EFAULT;
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L)
		return -EINVAL;
	clock_gettime(CLOCK_MONOTONIC, &now);
	clock_gettime(CLOCK_REALTIME, &rt);
	ns_ = ((int64_t)ts.tv_sec - rt.tv_sec) * 1000000000LL +
	      (ts.tv_nsec - rt.tv_nsec);
	if (ns_ < 0)
		ns_ = 0;
	ns_ += now.tv_nsec;
	dl->tv_sec = now.tv_sec + ns_ / 1000000000LL;
	dl->tv_nsec = ns_ % 1000000000LL;
	return 0;
}

/* Sleep on q with q->lock dropped: 0, -ETIMEDOUT or -ERESTARTSYS. */
static int pmq_wait(struct task *t, struct pmq *q, struct waiter *w,
		    bool *waiting, const struct timespec *dl)
{
	int br;

	if (!*waiting) {
		waitq_add(&q->wq, w);
		*waiting = true;
	}
	pthread_mutex_unlock(&q->lock);
	br = task_block(t, dl);
	pthread_mutex_lock(&q->lock);
	if (br == -EINTR)
		return -ERESTARTSYS;
	return br;
}

long pmq_timedsend(struct task *t, int fd, uint64_t umsg, uint64_t len,
		   uint32_t prio, uint64_t uts)
{
	struct ipc_namespace *ns = ipc_ns(t->k);
	struct timespec dl, *dlp = NULL;
	struct pmq_msg *m = NULL, *pos;
	siginfo_t si;
	bool notify = false, waiting = false;
	struct waiter w;
	struct file *f;
	struct pmq *q;
	int r, tgid = 0;

	if (!ns)
		return -ENOMEM;
	if (uts) {
		r = read_abs_timeout(t, uts, &dl);
		if (r)
			return r;
		dlp = &dl;
	}
	if (prio >= MQ_PRIO_MAX_)
		return -EINVAL;
	q = pmq_fget(t, fd, &f);
	if (!q)
		return -EBADF;
	if (!(f->fmode & FMODE_WRITE)) {
		r = -EBADF;
		goto out;
	}
	if (len > (uint64_t)q->msgsize) {
		r = -EMSGSIZE;
		goto out;
	}
	if (ipc_msg_charge(ns, len + MQ_MSG_OVERHEAD)) {
		r = -ENOMEM;
		goto out;
	}
	m = malloc(sizeof(*m) + len);
	if (!m) {
		ipc_msg_uncharge(ns, len + MQ_MSG_OVERHEAD);
		r = -ENOMEM;
		goto out;
	}
	m->prio = prio;
	m->len = len;
	if (mm_copy_in(t->mm, m->text, umsg, len)) {
		r = -EFAULT;
		goto out;
	}
	waiter_init(&w, t, ~0ULL);
	pthread_mutex_lock(&q->lock);
	for (;;) {
		if (q->curmsgs < q->maxmsg) {
			/* After the last message of higher or equal prio. */
			list_for_each_entry(pos, &q->msgs, link)
				if (pos->prio < m->prio)
					break;
			list_add_tail(&m->link, &pos->link);
			q->curmsgs++;
			q->qsize += len;
			m = NULL;
			/* __do_notify: empty -> non-empty, nobody receiving. */
			if (q->notify_tgid && q->curmsgs == 1 &&
			    !q->recv_waiting) {
				if (q->notify_how == SIGEV_SIGNAL &&
				    q->notify_signo) {
					memset(&si, 0, sizeof(si));
					si.si_signo = q->notify_signo;
					si.si_code = SI_MESGQ;
					si.si_value.sival_ptr =
						(void *)(uintptr_t)q->notify_value;
					si.si_pid = t->tgid;
					si.si_uid = t->cred.ruid;
					tgid = q->notify_tgid;
					notify = true;
				}
				q->notify_tgid = 0;
			}
			r = 0;
			break;
		}
		if (f->flags & O_NONBLOCK) {
			r = -EAGAIN;
			break;
		}
		r = pmq_wait(t, q, &w, &waiting, dlp);
		if (r)
			break;
	}
	pthread_mutex_unlock(&q->lock);
	if (waiting)
		waitq_remove(&q->wq, &w);
	if (!r)
		waitq_wake(&q->wq, EPOLLIN | EPOLLRDNORM);
	if (notify)
		signal_send_tgid(t->k, tgid, &si);
out:
	if (m) {
		ipc_msg_uncharge(ns, m->len + MQ_MSG_OVERHEAD);
		free(m);
	}
	vfs_file_put(f);
	return r;
}

long pmq_timedreceive(struct task *t, int fd, uint64_t umsg, uint64_t len,
		      uint64_t uprio, uint64_t uts)
{
	struct ipc_namespace *ns = ipc_ns(t->k);
	struct timespec dl, *dlp = NULL;
	struct pmq_msg *m = NULL;
	bool waiting = false;
	struct waiter w;
	struct file *f;
	struct pmq *q;
	long r;

	if (!ns)
		return -ENOMEM;
	if (uts) {
		r = read_abs_timeout(t, uts, &dl);
		if (r)
			return r;
		dlp = &dl;
	}
	q = pmq_fget(t, fd, &f);
	if (!q)
		return -EBADF;
	if (!(f->fmode & FMODE_READ)) {
		r = -EBADF;
		goto out;
	}
	if (len < (uint64_t)q->msgsize) {
		r = -EMSGSIZE;
		goto out;
	}
	waiter_init(&w, t, ~0ULL);
	pthread_mutex_lock(&q->lock);
	for (;;) {
		if (q->curmsgs) {
			m = container_of(q->msgs.next, struct pmq_msg, link);
			list_del(&m->link);
			q->curmsgs--;
			q->qsize -= m->len;
			r = 0;
			break;
		}
		if (f->flags & O_NONBLOCK) {
			r = -EAGAIN;
			break;
		}
		q->recv_waiting++;
		r = pmq_wait(t, q, &w, &waiting, dlp);
		q->recv_waiting--;
		if (r)
			break;
	}
	pthread_mutex_unlock(&q->lock);
	if (waiting)
		waitq_remove(&q->wq, &w);
	if (r)
		goto out;
	waitq_wake(&q->wq, EPOLLOUT | EPOLLWRNORM);
	r = (long)m->len;
	if (uprio) {
		uint32_t p = (uint32_t)m->prio;

		if (mm_copy_out(t->mm, uprio, &p, sizeof(p)))
			r = -EFAULT;
	}
	if (r >= 0 && mm_copy_out(t->mm, umsg, m->text, m->len))
		r = -EFAULT;
	ipc_msg_uncharge(ns, m->len + MQ_MSG_OVERHEAD);
	free(m);
out:
	vfs_file_put(f);
	return r;
}

long pmq_notify(struct task *t, int fd, uint64_t usev)
{
	struct cv_sigevent sev;
	struct file *f;
	struct pmq *q;
	long r = 0;

	if (usev) {
		if (mm_copy_in(t->mm, &sev, usev, sizeof(sev)))
			return -EFAULT;
		if (sev.notify != SIGEV_NONE && sev.notify != SIGEV_SIGNAL &&
		    sev.notify != SIGEV_THREAD)
			return -EINVAL;
		if (sev.notify == SIGEV_SIGNAL &&
		    (unsigned int)sev.signo > CV_NSIG)
			return -EINVAL;
		if (sev.notify == SIGEV_THREAD) {
			/* netlink_getsockbyfilp on sigev_signo: no sockets. */
			struct file *nf = fdtable_get(t->fdt, sev.signo);

			if (!nf)
				return -EBADF;
			vfs_file_put(nf);
			return -ENOTSOCK;
		}
	}
	q = pmq_fget(t, fd, &f);
	if (!q)
		return -EBADF;
	pthread_mutex_lock(&q->lock);
	if (!usev) {
		if (q->notify_tgid == t->tgid)
			q->notify_tgid = 0;
	} else if (q->notify_tgid) {
		r = -EBUSY;
	} else {
		q->notify_tgid = t->tgid;
		q->notify_how = sev.notify;
		q->notify_signo = sev.signo;
		q->notify_value = sev.value;
	}
	pthread_mutex_unlock(&q->lock);
	vfs_file_put(f);
	return r;
}

long pmq_getsetattr(struct task *t, int fd, uint64_t unew, uint64_t uold)
{
	struct cv_mq_attr nattr, oattr;
	struct file *f;
	struct pmq *q;

	if (unew) {
		if (mm_copy_in(t->mm, &nattr, unew, sizeof(nattr)))
			return -EFAULT;
		if (nattr.mq_flags & ~(long)O_NONBLOCK)
			return -EINVAL;
	}
	q = pmq_fget(t, fd, &f);
	if (!q)
		return -EBADF;
	memset(&oattr, 0, sizeof(oattr));
	pthread_mutex_lock(&q->lock);
	oattr.mq_maxmsg = q->maxmsg;
	oattr.mq_msgsize = q->msgsize;
	oattr.mq_curmsgs = q->curmsgs;
	pthread_mutex_unlock(&q->lock);
	pthread_mutex_lock(&f->pos_lock);
	oattr.mq_flags = f->flags & O_NONBLOCK;
	if (unew) {
		if (nattr.mq_flags & O_NONBLOCK)
			f->flags |= O_NONBLOCK;
		else
			f->flags &= ~(unsigned int)O_NONBLOCK;
	}
	pthread_mutex_unlock(&f->pos_lock);
	vfs_file_put(f);
	if (uold && mm_copy_out(t->mm, uold, &oattr, sizeof(oattr)))
		return -EFAULT;
	return 0;
}

/* ---- the mqueue file system (ipc/mqueue.c mqueue_fs_type) ----
 *
 * Each mount shows the sandbox's one name table: a root directory
 * (01777) with a file per named queue (its mode and owner), whose text
 * is the QSIZE line; unlink(2) there is mq_unlink. Nodes name a queue by
 * its fid, looked up again on every use (pfs revalidates cached
 * dentries by name, so a queue unlinked and made again is a new file).
 * Gaps: open(O_CREAT) of a new name there fails with EACCES (Linux's
 * mqueue_create makes a queue with the default attributes), the files'
 * st_size is 0, and the files cannot be opened for writing. Runs with
 * vfs->lock held (lookup, iterate, unlink): vfs->lock -> mq_lock.
 */
#define MQUEUE_MAGIC 0x19800202

static const struct pfs_entry mqfs_file;

static struct ipc_namespace *mqfs_ns(void)
{
	struct kernel *k = proc_kernel();

	return k ? ipc_ns(k) : NULL;
}

static int mqfs_show(const struct pfs_node *n, struct pfs_buf *b)
{
	struct ipc_namespace *ns = mqfs_ns();
	struct pmq *q, *found = NULL;
	char buf[128];
	int len;

	if (!ns)
		return -ENOENT;
	pthread_mutex_lock(&ns->mq_lock);
	list_for_each_entry(q, &ns->mqueues, link)
		if (q->fid == n->fd)
			found = q;
	if (found)
		__atomic_add_fetch(&found->refs, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&ns->mq_lock);
	if (!found)
		return -ENOENT;
	len = mq_show(found, buf, sizeof(buf));
	pmq_put(found);
	if (len > 0)
		pfs_put(b, buf, (size_t)len);
	return 0;
}

static int mqfs_lookup(const struct pfs_node *dir UNUSED, const char *name,
		       size_t len, struct pfs_node *out)
{
	struct ipc_namespace *ns = mqfs_ns();
	char nm[NAME_MAX + 1];
	struct pmq *q;
	int r = -ENOENT;

	if (!ns || len > NAME_MAX)
		return -ENOENT;
	memcpy(nm, name, len);
	nm[len] = '\0';
	pthread_mutex_lock(&ns->mq_lock);
	q = pmq_lookup(ns, nm);
	if (q) {
		out->e = &mqfs_file;
		out->fd = q->fid;
		out->pid = out->tid = 0;
		out->mode = S_IFREG | (q->mode & 0777);
		out->uid = q->uid;
		out->gid = q->gid;
		r = 0;
	}
	pthread_mutex_unlock(&ns->mq_lock);
	return r;
}

static int mqfs_iterate(const struct pfs_node *dir, struct dir_ctx *ctx)
{
	struct ipc_namespace *ns = mqfs_ns();
	struct mqfs_ent {
		char name[NAME_MAX + 1];
		int fid;
	} *ents = NULL;
	struct pmq *q;
	int64_t skip = ctx->pos - PFS_DYN_POS;
	int n = 0, cap;

	if (!ns)
		return 0;
	/* A snapshot of the names; the actor runs with no IPC lock. */
	pthread_mutex_lock(&ns->mq_lock);
	cap = ns->mq_count;
	if (cap > 0)
		ents = calloc((size_t)cap, sizeof(*ents));
	if (ents)
		list_for_each_entry(q, &ns->mqueues, link) {
			if (n == cap)
				break;
			snprintf(ents[n].name, sizeof(ents[n].name), "%s",
				 q->name);
			ents[n++].fid = q->fid;
		}
	pthread_mutex_unlock(&ns->mq_lock);
	if (cap > 0 && !ents)
		return -ENOMEM;
	for (int i = (int)(skip > 0 ? skip : 0); i < n; i++) {
		struct pfs_node cn = *dir;

		cn.e = &mqfs_file;
		cn.fd = ents[i].fid;
		cn.mode = 0;
		if (!ctx->actor(ctx, ents[i].name, strlen(ents[i].name),
				pfs_node_ino(&cn), DT_REG,
				PFS_DYN_POS + i + 1))
			break;
	}
	free(ents);
	return 0;
}

static int mqfs_unlink(const struct pfs_node *dir UNUSED, const char *name,
		       size_t len)
{
	struct ipc_namespace *ns = mqfs_ns();
	struct task *t = ipc_current();
	char nm[NAME_MAX + 1];

	if (!ns || !t || len > NAME_MAX)
		return -ENOENT;
	memcpy(nm, name, len);
	nm[len] = '\0';
	return pmq_remove(ns, &t->cred, nm);
}

static const struct pfs_entry mqfs_file = {
	.name = "queue",
	.mode = S_IFREG | 0600,
	.show = mqfs_show,
	.dynamic = true,
};

static const struct pfs_entry mqfs_root = {
	.name = "/",
	.mode = S_IFDIR | 01777,
	.lookup = mqfs_lookup,
	.iterate = mqfs_iterate,
	.unlink = mqfs_unlink,
};

int mqueue_fs_new(struct vfs *vfs, struct super_block **sb,
		  struct dentry **root)
{
	return pfs_new(vfs, FS_MQUEUE, "mqueue", &mqfs_root, MQUEUE_MAGIC, sb,
		       root);
}

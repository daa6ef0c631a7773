// SPDX-License-Identifier: GPL-2.0
/*
 * Advisory locks (fs/locks.c): flock(2) locks owned by the open file
 * description, POSIX record locks owned by the fd table (fl_owner is
 * current->files) and OFD record locks owned by the description. flock
 * locks never conflict with record locks; POSIX and OFD locks conflict
 * with each other.
 *
 * A conflicting F_SETLK/LOCK_NB is EAGAIN/EWOULDBLOCK, F_GETLK reports the
 * first conflicting lock. F_SETLKW, F_OFD_SETLKW and flock without LOCK_NB
 * sleep until the lock can be granted (fs/locks.c: locks_lock_inode_wait):
 * every change that drops or downgrades a lock (unlock, close, last put of
 * the file, exit) wakes all waiters on one wait queue and they look again.
 * A signal ends the wait with -ERESTARTSYS (restarted under SA_RESTART,
 * EINTR otherwise; signal(7) lists F_SETLKW and flock). A POSIX waiter
 * that would wait for its own fd table through a chain of blocked POSIX
 * waiters gets EDEADLK (posix_locks_deadlock(): OFD and flock locks are
 * not checked, as in Linux).
 *
 * Locks: inode->lock guards inode->locks; lockstate->blocked_lock (a leaf,
 * taken under inode->lock) guards the list of blocked POSIX waiters used
 * for deadlock detection; the wait queue's own lock is a leaf too. References: a lock record
 * points at its owner without a reference; the owner removes its records
 * before going away (close, last put of the file). A blocked waiter lives
 * on its task's stack for the duration of the call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/file.h>

#include "cvisor/task.h"
#include "cvisor/waitq.h"
#include "vfs_impl.h"

enum lock_kind { LK_FLOCK, LK_POSIX, LK_OFD };

struct vfs_lock {
	struct list_head link;
	enum lock_kind kind;
	void *owner;		/* struct fdtable (POSIX) or struct file */
	short type;		/* F_RDLCK / F_WRLCK */
	int pid;
	int64_t start, end;	/* inclusive; end INT64_MAX = to EOF */
};

/* Per sandbox (vfs->lockstate): everyone sleeping for a lock, woken by
 * every unlock (like Linux's fl_blocked_requests, but one queue: waits are
 * rare and short), and the blocked POSIX waiters (blocked_hash in
 * fs/locks.c) under blocked_lock. */
struct vfs_lockstate {
	struct waitq wq;
	pthread_mutex_t blocked_lock;
	struct list_head blocked_list;
};

/* A POSIX waiter: owner waits for a lock held by blocker. */
struct blocked {
	struct list_head link;
	void *owner, *blocker;
};
#define MAX_DEADLK_ITERATIONS 10	/* fs/locks.c */

static struct vfs_lockstate *lockstate(struct inode *ino)
{
	struct vfs *vfs = ino->sb->vfs;
	struct vfs_lockstate *ls, *exp = NULL;

	ls = __atomic_load_n(&vfs->lockstate, __ATOMIC_ACQUIRE);
	if (ls)
		return ls;
	ls = calloc(1, sizeof(*ls));
	if (!ls)
		return NULL;
	waitq_init(&ls->wq);
	pthread_mutex_init(&ls->blocked_lock, NULL);
	list_init(&ls->blocked_list);
	if (!__atomic_compare_exchange_n(&vfs->lockstate, &exp, ls, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		waitq_destroy(&ls->wq);
		pthread_mutex_destroy(&ls->blocked_lock);
		free(ls);
		return exp;
	}
	return ls;
}

void vfs_locks_destroy(struct vfs *vfs)
{
	struct vfs_lockstate *ls = vfs->lockstate;

	if (!ls)
		return;
	vfs->lockstate = NULL;
	waitq_destroy(&ls->wq);
	pthread_mutex_destroy(&ls->blocked_lock);
	free(ls);
}

static void locks_wake(struct inode *ino)
{
	struct vfs_lockstate *ls = __atomic_load_n(&ino->sb->vfs->lockstate,
						   __ATOMIC_ACQUIRE);

	if (ls) /* nobody ever waited without one */
		waitq_wake(&ls->wq, ~0ULL);
}

static void locks_init(struct inode *ino)
{
	/* Inodes made without vfs_inode_new() (zeroed) start empty. */
	if (!ino->locks.next)
		list_init(&ino->locks);
}

void vfs_locks_free(struct inode *ino)
{
	struct vfs_lock *l, *tmp;

	if (!ino->locks.next)
		return;
	list_for_each_entry_safe(l, tmp, &ino->locks, link) {
		list_del(&l->link);
		free(l);
	}
}

static bool is_record(enum lock_kind k)
{
	return k == LK_POSIX || k == LK_OFD;
}

static bool conflicts(const struct vfs_lock *a, enum lock_kind kind,
		      void *owner, short type, int64_t start, int64_t end)
{
	if ((a->kind == LK_FLOCK) != (kind == LK_FLOCK))
		return false;
	if (a->owner == owner && a->kind == kind)
		return false;
	if (a->type != F_WRLCK && type != F_WRLCK)
		return false;
	return a->start <= end && start <= a->end;
}

static struct vfs_lock *find_conflict(struct inode *ino, enum lock_kind kind,
				      void *owner, short type, int64_t start,
				      int64_t end)
{
	struct vfs_lock *l;

	list_for_each_entry(l, &ino->locks, link)
		if (conflicts(l, kind, owner, type, start, end))
			return l;
	return NULL;
}

/* Remove owner's locks of kind in [start, end], splitting those that
 * stick out (posix_lock_inode()). inode->lock held. */
static int unlock_range(struct inode *ino, enum lock_kind kind, void *owner,
			int64_t start, int64_t end)
{
	struct vfs_lock *l, *tmp;

	list_for_each_entry_safe(l, tmp, &ino->locks, link) {
		if (l->kind != kind || l->owner != owner || l->end < start ||
		    l->start > end)
			continue;
		if (l->start < start && l->end > end) {
			struct vfs_lock *r = malloc(sizeof(*r));

			if (!r)
				return -ENOLCK;
			*r = *l;
			r->start = end + 1;
			l->end = start - 1;
			list_add_tail(&r->link, &ino->locks);
			continue;
		}
		if (l->start < start) {
			l->end = start - 1;
		} else if (l->end > end) {
			l->start = end + 1;
		} else {
			list_del(&l->link);
			free(l);
		}
	}
	return 0;
}

static int set_lock(struct inode *ino, enum lock_kind kind, void *owner,
		    short type, int64_t start, int64_t end, int pid)
{
	struct vfs_lock *l, *tmp, *n = NULL;
	int r;

	if (type != F_UNLCK) {
		n = malloc(sizeof(*n));
		if (!n)
			return -ENOLCK;
		/* Absorb our own same-type locks that touch the range. */
		list_for_each_entry_safe(l, tmp, &ino->locks, link) {
			if (l->kind != kind || l->owner != owner ||
			    l->type != type)
				continue;
			if (l->end < start - (start > 0) ||
			    l->start > end + (end < INT64_MAX))
				continue;
			start = MIN(start, l->start);
			end = MAX(end, l->end);
		}
	}
	r = unlock_range(ino, kind, owner, start, end);
	if (r < 0) {
		free(n);
		return r;
	}
	if (n) {
		n->kind = kind;
		n->owner = owner;
		n->type = type;
		n->pid = pid;
		n->start = start;
		n->end = end;
		list_add_tail(&n->link, &ino->locks);
	}
	return 0;
}

/* Would owner, waiting for a lock of blocker, close a cycle of blocked
 * POSIX waiters (posix_locks_deadlock)? blocked_lock held. */
static bool would_deadlock(struct vfs_lockstate *ls, void *owner,
			   void *blocker)
{
	for (int i = 0; blocker && i < MAX_DEADLK_ITERATIONS; i++) {
		struct blocked *b;
		void *next = NULL;

		if (blocker == owner)
			return true;
		list_for_each_entry(b, &ls->blocked_list, link) {
			if (b->owner == blocker) {
				next = b->blocker;
				break;
			}
		}
		blocker = next;
	}
	return false;
}

int vfs_flock(struct file *f, int op)
{
	struct inode *ino = f->inode;
	int cmd = op & ~LOCK_NB;
	struct vfs_lockstate *ls = NULL;
	struct task *t = NULL;
	struct waiter w;
	struct vfs_lock *l;
	bool wait, first = true;
	short type;
	int r = 0;

	if (cmd == LOCK_SH)
		type = F_RDLCK;
	else if (cmd == LOCK_EX)
		type = F_WRLCK;
	else if (cmd == LOCK_UN)
		type = F_UNLCK;
	else
		return -EINVAL;
	if (!ino)
		return 0; /* host fds: nothing else in the sandbox sees them */
	wait = type != F_UNLCK && !(op & LOCK_NB);
	if (wait) {
		ls = lockstate(ino);
		if (!ls)
			return -ENOLCK;
		t = ipc_current();
		waiter_init(&w, t, ~0ULL);
		waitq_add(&ls->wq, &w);
	}
	for (;;) {
		pthread_mutex_lock(&ino->lock);
		locks_init(ino);
		/* A conversion drops the old lock first, so two LOCK_SH
		 * holders upgrading do not wait for each other forever
		 * (flock_lock_inode(); flock(2): not atomic). */
		if (first && type != F_UNLCK) {
			list_for_each_entry(l, &ino->locks, link) {
				if (l->kind == LK_FLOCK && l->owner == f &&
				    l->type != type) {
					r = unlock_range(ino, LK_FLOCK, f, 0,
							 INT64_MAX);
					break;
				}
			}
		}
		first = false;
		if (r < 0)
			;
		else if (type != F_UNLCK &&
			 find_conflict(ino, LK_FLOCK, f, type, 0, INT64_MAX))
			r = wait ? 1 : -EWOULDBLOCK;
		else
			r = set_lock(ino, LK_FLOCK, f, type, 0, INT64_MAX, 0);
		if (r == 0 && type != F_UNLCK)
			f->has_locks = true;
		pthread_mutex_unlock(&ino->lock);
		if (r != 1)
			break;
		r = ipc_block_simple(t);
		if (r < 0)
			break;
	}
	if (wait)
		waitq_remove(&ls->wq, &w);
	locks_wake(ino); /* an unlock or a conversion may let others in */
	return r;
}

/* flock_to_posix_lock() */
static int to_range(struct file *f, const struct flock *fl, int64_t *startp,
		    int64_t *endp)
{
	int64_t base, start, end;

	switch (fl->l_whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		pthread_mutex_lock(&f->pos_lock);
		base = f->pos;
		pthread_mutex_unlock(&f->pos_lock);
		break;
	case SEEK_END:
		pthread_mutex_lock(&f->inode->lock);
		base = f->inode->size;
		pthread_mutex_unlock(&f->inode->lock);
		break;
	default:
		return -EINVAL;
	}
	if (__builtin_add_overflow(base, (int64_t)fl->l_start, &start))
		return -EOVERFLOW;
	if (fl->l_len > 0) {
		if (fl->l_len - 1 > INT64_MAX - start)
			return -EOVERFLOW;
		end = start + fl->l_len - 1;
	} else if (fl->l_len < 0) {
		if (start + fl->l_len < 0)
			return -EINVAL;
		end = start - 1;
		start += fl->l_len;
	} else {
		end = INT64_MAX;
	}
	if (start < 0)
		return -EINVAL;
	*startp = start;
	*endp = end;
	return 0;
}

/* F_SETLK(W)/F_OFD_SETLK(W) after validation: grant, fail or wait. */
static int set_record_lock(struct file *f, enum lock_kind kind, void *owner,
			   short type, int64_t start, int64_t end, int pid,
			   bool wait)
{
	struct inode *ino = f->inode;
	struct blocked me = { .owner = owner };
	struct vfs_lockstate *ls = NULL;
	struct task *t = NULL;
	struct waiter w;
	bool listed = false;
	int r;

	if (type == F_UNLCK)
		wait = false;
	if (wait) {
		ls = lockstate(ino);
		if (!ls)
			return -ENOLCK;
		t = ipc_current();
		waiter_init(&w, t, ~0ULL);
		waitq_add(&ls->wq, &w);
	}
	for (;;) {
		struct vfs_lock *c = NULL;

		pthread_mutex_lock(&ino->lock);
		locks_init(ino);
		if (type != F_UNLCK)
			c = find_conflict(ino, kind, owner, type, start, end);
		if (!c) {
			r = set_lock(ino, kind, owner, type, start, end, pid);
			if (r == 0 && type != F_UNLCK)
				f->has_locks = true;
		} else if (!wait) {
			r = -EAGAIN;
		} else if (kind != LK_POSIX) {
			r = 1;
		} else {
			/* Check and (re)record what we wait for in one step,
			 * so two processes closing a cycle at the same time
			 * see each other. */
			pthread_mutex_lock(&ls->blocked_lock);
			if (c->kind == LK_POSIX &&
			    would_deadlock(ls, owner, c->owner)) {
				r = -EDEADLK;
			} else {
				me.blocker = c->kind == LK_POSIX ? c->owner
								 : NULL;
				if (!listed)
					list_add_tail(&me.link,
						      &ls->blocked_list);
				listed = true;
				r = 1;
			}
			pthread_mutex_unlock(&ls->blocked_lock);
		}
		pthread_mutex_unlock(&ino->lock);
		if (r != 1)
			break;
		r = ipc_block_simple(t);
		if (listed) {
			/* Woken: not waiting for anyone until we look again
			 * (locks_delete_block), so no stale edge makes a
			 * false EDEADLK for others. */
			pthread_mutex_lock(&ls->blocked_lock);
			list_del(&me.link);
			pthread_mutex_unlock(&ls->blocked_lock);
			listed = false;
		}
		if (r < 0)
			break;
	}
	if (listed) {
		pthread_mutex_lock(&ls->blocked_lock);
		list_del(&me.link);
		pthread_mutex_unlock(&ls->blocked_lock);
	}
	if (wait)
		waitq_remove(&ls->wq, &w);
	if (r == 0)
		locks_wake(ino); /* an unlock or a downgrade may let others in */
	return r;
}

int vfs_fcntl_lock(struct file *f, int cmd, struct flock *fl, void *owner,
		   int pid)
{
	bool ofd = cmd == F_OFD_GETLK || cmd == F_OFD_SETLK ||
		   cmd == F_OFD_SETLKW;
	bool get = cmd == F_GETLK || cmd == F_OFD_GETLK;
	enum lock_kind kind = ofd ? LK_OFD : LK_POSIX;
	struct inode *ino = f->inode;
	struct vfs_lock *c;
	int64_t start, end;
	int r;

	if (ofd) {
		if (fl->l_pid != 0)
			return -EINVAL;
		owner = f;
		pid = -1;
	}
	if (get) {
		if (fl->l_type != F_RDLCK && fl->l_type != F_WRLCK)
			return -EINVAL;
	} else {
		switch (fl->l_type) {
		case F_RDLCK:
			if (!(f->fmode & FMODE_READ))
				return -EBADF;
			break;
		case F_WRLCK:
			if (!(f->fmode & FMODE_WRITE))
				return -EBADF;
			break;
		case F_UNLCK:
			break;
		default:
			return -EINVAL;
		}
	}
	if (!ino) {
		if (get)
			fl->l_type = F_UNLCK;
		return 0;
	}
	r = to_range(f, fl, &start, &end);
	if (r < 0)
		return r;
	if (get) {
		pthread_mutex_lock(&ino->lock);
		locks_init(ino);
		c = find_conflict(ino, kind, owner, fl->l_type, start, end);
		if (c) {
			fl->l_type = c->type;
			fl->l_whence = SEEK_SET;
			fl->l_start = c->start;
			fl->l_len = c->end == INT64_MAX ? 0
							: c->end - c->start + 1;
			fl->l_pid = c->kind == LK_OFD ? -1 : c->pid;
		} else {
			fl->l_type = F_UNLCK;
		}
		pthread_mutex_unlock(&ino->lock);
		return 0;
	}
	return set_record_lock(f, kind, owner, fl->l_type, start, end, pid,
			       cmd == F_SETLKW || cmd == F_OFD_SETLKW);
}

static void remove_owned(struct inode *ino, void *owner, bool posix)
{
	struct vfs_lock *l, *tmp;

	pthread_mutex_lock(&ino->lock);
	if (ino->locks.next) {
		list_for_each_entry_safe(l, tmp, &ino->locks, link) {
			if (l->owner != owner ||
			    (posix ? l->kind != LK_POSIX : is_record(l->kind) &&
							   l->kind == LK_POSIX))
				continue;
			list_del(&l->link);
			free(l);
		}
	}
	pthread_mutex_unlock(&ino->lock);
	locks_wake(ino);
}

void vfs_locks_close_posix(struct file *f, void *owner)
{
	if (f->inode)
		remove_owned(f->inode, owner, true);
}

void vfs_locks_release_file(struct file *f)
{
	if (f->inode)
		remove_owned(f->inode, f, false);
}

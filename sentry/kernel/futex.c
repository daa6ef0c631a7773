// SPDX-License-Identifier: GPL-2.0
/*
 * Futexes (kernel/futex/): WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP,
 * WAIT_BITSET, WAKE_BITSET; robust lists at exit; the PI lock operations
 * LOCK_PI, LOCK_PI2, TRYLOCK_PI, UNLOCK_PI.
 *
 * PI futexes (kernel/futex/pi.c, futex(2) "Priority-inheritance futexes")
 * keep Linux's word protocol: the owner's TID, FUTEX_WAITERS while someone
 * may be queued in the sentry, FUTEX_OWNER_DIED after a robust owner died.
 * Ownership is handed off by the sentry: UNLOCK_PI with waiters writes the
 * first waiter's TID | FUTEX_WAITERS into the word and wakes that waiter,
 * which returns owning the lock (a waiter that times out or is interrupted
 * first is simply dequeued). An owner that exits holding the lock hands it
 * to the first waiter too, with FUTEX_OWNER_DIED set (handle_futex_death
 * for robust locks, exit_pi_state_list + fixup_pi_state_owner otherwise).
 * There is no priority boosting (no real-time scheduling in the sandbox),
 * and WAIT_REQUEUE_PI/CMP_REQUEUE_PI (condition variables with PI mutexes)
 * stay ENOSYS; glibc's PTHREAD_PRIO_INHERIT mutexes need only the four
 * lock operations.
 *
 * Keys: a private futex is (mm, address). A shared one is the sentry address
 * of its byte in the memory file (frame + page offset), so MAP_SHARED memory
 * matches across processes; the page is resolved for write first so a
 * copy-on-write page is broken before its frame becomes the key. Shared
 * wakes also wake private waiters of the same (mm, address): Linux keys a
 * "shared" futex in private anonymous memory by (mm, address) too.
 * Locks: kernel->futex_lock over the whole table (one lock: 2 vCPUs, short
 * sections); it is taken with no other lock held and mm->lock may be taken
 * inside it (the value read), as may kernel->lock (LOCK_PI checks that the
 * owner exists; nobody takes futex_lock with kernel->lock held). Waiters
 * live on their task's stack and remove themselves before returning (a PI
 * waiter granted the lock is removed by the granter).
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cvisor/mm.h"
#include "cvisor/signal.h"
#include "cvisor/task.h"
#include "cvisor/util.h"

#define FUTEX_BUCKETS 256
#define ROBUST_LIST_LIMIT 2048	/* kernel/futex/core.c */

struct futex_key {
	const void *mm;		/* NULL for a shared key */
	uint64_t addr;		/* workload address, or sentry address */
};

struct futex_waiter {
	struct list_head link;
	struct futex_key key;
	uint32_t bitset;	/* 0 for PI waiters: no WAKE reaches them */
	struct task *t;
	bool woken;
	/* PI waiters: the word, and whether the lock was handed to us. */
	bool pi;
	bool acquired;
	uint32_t *word;
};

struct futex_table {
	struct list_head b[FUTEX_BUCKETS];
};

int futex_table_new(struct futex_table **out)
{
	struct futex_table *ft = calloc(1, sizeof(*ft));

	if (!ft)
		return -ENOMEM;
	for (int i = 0; i < FUTEX_BUCKETS; i++)
		list_init(&ft->b[i]);
	*out = ft;
	return 0;
}

void futex_table_free(struct futex_table *ft)
{
	free(ft);
}

static struct list_head *bucket(struct kernel *k, const struct futex_key *key)
{
	uint64_t h = key->addr ^ ((uint64_t)(uintptr_t)key->mm * 0x9e3779b97f4a7c15ULL);

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	return &k->futex->b[(h >> 32) % FUTEX_BUCKETS];
}

static bool key_eq(const struct futex_key *a, const struct futex_key *b)
{
	return a->mm == b->mm && a->addr == b->addr;
}

/* get_futex_key(): alignment, then the key; *word points at the futex
 * word in the memory file. */
static int get_key(struct task *t, uint64_t uaddr, bool shared, bool write,
		   struct futex_key *key, uint32_t **word)
{
	struct iovec iov;
	int n;

	if (uaddr & 3)
		return -EINVAL;
	n = mm_iovecs(t->mm, uaddr, sizeof(uint32_t), write || shared, &iov, 1);
	if (n < 0)
		return -EFAULT;
	if (n != 1 || iov.iov_len < sizeof(uint32_t))
		return -EFAULT;
	*word = iov.iov_base;
	if (shared) {
		key->mm = NULL;
		key->addr = (uint64_t)(uintptr_t)iov.iov_base;
	} else {
		key->mm = t->mm;
		key->addr = uaddr;
	}
	return 0;
}

/* Wake up to n waiters of key (k->futex_lock held). */
static int wake_locked(struct kernel *k, const struct futex_key *key,
		       uint32_t bitset, int n)
{
	struct list_head *b = bucket(k, key);
	struct futex_waiter *w, *tmp;
	int woken = 0;

	list_for_each_entry_safe(w, tmp, b, link) {
		if (woken >= n)
			break;
		if (!key_eq(&w->key, key) || !(w->bitset & bitset))
			continue;
		list_del(&w->link);
		w->woken = true;
		task_wake(w->t);
		woken++;
	}
	return woken;
}

int futex_wake(struct kernel *k, struct mm *mm, uint64_t uaddr, int n)
{
	struct futex_key key = { .mm = mm, .addr = uaddr };
	struct iovec iov;
	int woken;

	pthread_mutex_lock(&k->futex_lock);
	woken = wake_locked(k, &key, FUTEX_BITSET_MATCH_ANY, n);
	pthread_mutex_unlock(&k->futex_lock);
	/* CLONE_CHILD_CLEARTID wakes are shared futex wakes in Linux. */
	if (woken < n && mm_iovecs(mm, uaddr, sizeof(uint32_t), true, &iov, 1) == 1) {
		key.mm = NULL;
		key.addr = (uint64_t)(uintptr_t)iov.iov_base;
		pthread_mutex_lock(&k->futex_lock);
		woken += wake_locked(k, &key, FUTEX_BITSET_MATCH_ANY, n - woken);
		pthread_mutex_unlock(&k->futex_lock);
	}
	return woken;
}

static int read_timeout(struct task *t, uint64_t utime, bool absolute,
			bool realtime, struct timespec *deadline)
{
	struct timespec ts, now;
	int64_t ns;

	if (mm_copy_in(t->mm, &ts, utime, sizeof(ts)))
		return -EFAULT;
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L)
		return -EINVAL;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!absolute) {
		ns = (int64_t)ts.tv_nsec + now.tv_nsec;
		deadline->tv_sec = now.tv_sec + ts.tv_sec + ns / 1000000000L;
		deadline->tv_nsec = ns % 1000000000L;
		return 0;
	}
	if (realtime) {
		struct timespec rt;

		/* task_block sleeps on CLOCK_MONOTONIC: convert. */
		clock_gettime(CLOCK_REALTIME, &rt);
		ns = ((int64_t)ts.tv_sec - rt.tv_sec) * 1000000000LL +
		     (ts.tv_nsec - rt.tv_nsec);
		if (ns < 0)
			ns = 0;
		ns += now.tv_nsec;
		deadline->tv_sec = now.tv_sec + ns / 1000000000L;
		deadline->tv_nsec = ns % 1000000000L;
		return 0;
	}
	*deadline = ts;
	return 0;
}

static long futex_wait(struct task *t, uint64_t uaddr, bool shared,
		       uint32_t val, const struct timespec *deadline,
		       uint32_t bitset)
{
	struct kernel *k = t->k;
	struct futex_waiter w = { .bitset = bitset, .t = t };
	uint32_t *word;
	int r;

	if (!bitset)
		return -EINVAL;
	r = get_key(t, uaddr, shared, false, &w.key, &word);
	if (r)
		return r;
	pthread_mutex_lock(&k->futex_lock);
	if (__atomic_load_n(word, __ATOMIC_SEQ_CST) != val) {
		pthread_mutex_unlock(&k->futex_lock);
		return -EAGAIN;
	}
	list_add_tail(&w.link, bucket(k, &w.key));
	pthread_mutex_unlock(&k->futex_lock);
	for (;;) {
		r = task_block(t, deadline);
		pthread_mutex_lock(&k->futex_lock);
		if (w.woken) {
			pthread_mutex_unlock(&k->futex_lock);
			return 0;
		}
		if (r) {
			list_del(&w.link);
			pthread_mutex_unlock(&k->futex_lock);
			if (r == -ETIMEDOUT)
				return -ETIMEDOUT;
			/* Interrupted: restart when no timeout (futex_wait
			 * uses a restart block for the timed case; -EINTR
			 * is what a handler sees there). */
			return deadline ? -EINTR : -ERESTARTSYS;
		}
		pthread_mutex_unlock(&k->futex_lock);
	}
}

static long futex_wake_op_(struct task *t, bool shared, uint64_t uaddr,
			   uint32_t bitset, int n)
{
	struct futex_key key, pkey;
	uint32_t *word;
	long woken;
	int r;

	if (!bitset)
		return -EINVAL;
	r = get_key(t, uaddr, shared, false, &key, &word);
	if (r)
		return r;
	pthread_mutex_lock(&t->k->futex_lock);
	woken = wake_locked(t->k, &key, bitset, n);
	if (shared && woken < n) {
		pkey.mm = t->mm;
		pkey.addr = uaddr;
		woken += wake_locked(t->k, &pkey, bitset, n - (int)woken);
	}
	pthread_mutex_unlock(&t->k->futex_lock);
	return woken;
}

static long futex_requeue(struct task *t, bool shared, uint64_t uaddr,
			  uint64_t uaddr2, int nr_wake, int nr_requeue,
			  bool cmp, uint32_t val3)
{
	struct kernel *k = t->k;
	struct futex_key k1, k2;
	struct futex_waiter *w, *tmp;
	uint32_t *word, *word2;
	struct list_head *b1, *b2;
	long woken = 0, moved = 0;
	int r;

	if (nr_wake < 0 || nr_requeue < 0)
		return -EINVAL;
	r = get_key(t, uaddr, shared, false, &k1, &word);
	if (!r)
		r = get_key(t, uaddr2, shared, false, &k2, &word2);
	if (r)
		return r;
	b1 = bucket(k, &k1);
	b2 = bucket(k, &k2);
	pthread_mutex_lock(&k->futex_lock);
	if (cmp && __atomic_load_n(word, __ATOMIC_SEQ_CST) != val3) {
		pthread_mutex_unlock(&k->futex_lock);
		return -EAGAIN;
	}
	list_for_each_entry_safe(w, tmp, b1, link) {
		if (!key_eq(&w->key, &k1) || w->pi)
			continue;
		if (woken < nr_wake) {
			list_del(&w->link);
			w->woken = true;
			task_wake(w->t);
			woken++;
		} else if (moved < nr_requeue) {
			list_del(&w->link);
			w->key = k2;
			list_add_tail(&w->link, b2);
			moved++;
		} else {
			break;
		}
	}
	pthread_mutex_unlock(&k->futex_lock);
	return woken + moved;
}

static int sext12(uint32_t v)
{
	return (int)(v << 20) >> 20;
}

static long futex_wake_op(struct task *t, bool shared, uint64_t uaddr,
			  uint64_t uaddr2, int nr_wake, int nr_wake2,
			  uint32_t encoded)
{
	struct kernel *k = t->k;
	unsigned int op = (encoded >> 28) & 7, cmp = (encoded >> 24) & 15;
	int oparg = sext12(encoded >> 12), cmparg = sext12(encoded);
	struct futex_key k1, k2;
	uint32_t *word, *word2, old, nv;
	long woken;
	bool hit;
	int r;

	if (encoded & ((uint32_t)FUTEX_OP_OPARG_SHIFT << 28)) {
		if (oparg < 0 || oparg > 31)
			oparg &= 31;	/* Linux warns once and masks */
		oparg = (int)(1u << oparg);
	}
	if (op > FUTEX_OP_XOR || cmp > FUTEX_OP_CMP_GE)
		return -ENOSYS;
	r = get_key(t, uaddr, shared, false, &k1, &word);
	if (!r)
		r = get_key(t, uaddr2, shared, true, &k2, &word2);
	if (r)
		return r;
	pthread_mutex_lock(&k->futex_lock);
	old = __atomic_load_n(word2, __ATOMIC_SEQ_CST);
	do {
		switch (op) {
		case FUTEX_OP_SET: nv = (uint32_t)oparg; break;
		case FUTEX_OP_ADD: nv = old + (uint32_t)oparg; break;
		case FUTEX_OP_OR: nv = old | (uint32_t)oparg; break;
		case FUTEX_OP_ANDN: nv = old & ~(uint32_t)oparg; break;
		default: nv = old ^ (uint32_t)oparg; break;
		}
	} while (!__atomic_compare_exchange_n(word2, &old, nv, false,
					      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	switch (cmp) {
	case FUTEX_OP_CMP_EQ: hit = (int)old == cmparg; break;
	case FUTEX_OP_CMP_NE: hit = (int)old != cmparg; break;
	case FUTEX_OP_CMP_LT: hit = (int)old < cmparg; break;
	case FUTEX_OP_CMP_LE: hit = (int)old <= cmparg; break;
	case FUTEX_OP_CMP_GT: hit = (int)old > cmparg; break;
	default: hit = (int)old >= cmparg; break;
	}
	woken = wake_locked(k, &k1, FUTEX_BITSET_MATCH_ANY, nr_wake);
	if (hit)
		woken += wake_locked(k, &k2, FUTEX_BITSET_MATCH_ANY, nr_wake2);
	pthread_mutex_unlock(&k->futex_lock);
	return woken;
}

/* ---- PI futexes ---- */

#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2 13
#endif

/* The first PI waiter of key (k->futex_lock held), or NULL. */
static struct futex_waiter *pi_top(struct kernel *k,
				   const struct futex_key *key)
{
	struct futex_waiter *w;

	list_for_each_entry(w, bucket(k, key), link)
		if (w->pi && key_eq(&w->key, key))
			return w;
	return NULL;
}

/* Give the lock to w (futex_lock held): the word already names it. */
static void pi_grant(struct futex_waiter *w)
{
	list_del(&w->link);
	w->woken = true;
	w->acquired = true;
	task_wake(w->t);
}

/* attach_to_pi_owner(): does the alleged owner exist? 1 yes, 0 gone (a
 * thread that has finished exiting: handle_exit_race gives ESRCH), -1 it
 * is exiting (Linux's -EBUSY: wait until its robust list and PI hand-off
 * are done, then look again). */
static int pi_owner_state(struct kernel *k, int tid)
{
	struct task *o;
	int r;

	pthread_mutex_lock(&k->lock);
	o = kernel_find_task(k, tid);
	if (!o || o->exited)
		r = 0;
	else if (o->exiting || __atomic_load_n(&o->killed, __ATOMIC_SEQ_CST) ||
		 (o->proc && __atomic_load_n(&o->proc->group_exiting,
					     __ATOMIC_SEQ_CST)))
		r = -1;
	else
		r = 1;
	pthread_mutex_unlock(&k->lock);
	return r;
}

static long futex_lock_pi(struct task *t, uint64_t uaddr, bool shared,
			  const struct timespec *deadline, bool trylock)
{
	struct kernel *k = t->k;
	struct futex_waiter w = { .t = t, .pi = true };
	uint32_t tid = (uint32_t)t->tid, v, nv;
	int r;

	r = get_key(t, uaddr, shared, true, &w.key, &w.word);
	if (r)
		return r;
	pthread_mutex_lock(&k->futex_lock);
	for (;;) {
		v = __atomic_load_n(w.word, __ATOMIC_SEQ_CST);
		if ((v & FUTEX_TID_MASK) == tid) {
			r = -EDEADLK;
			break;
		}
		if (!(v & FUTEX_TID_MASK)) {
			/* Free (maybe OWNER_DIED): take it, keeping that bit. */
			nv = (v & FUTEX_OWNER_DIED) | tid |
			     (pi_top(k, &w.key) ? FUTEX_WAITERS : 0);
			if (__atomic_compare_exchange_n(w.word, &v, nv, false,
							__ATOMIC_SEQ_CST,
							__ATOMIC_SEQ_CST)) {
				r = 0;
				break;
			}
			continue;
		}
		/* futex_lock_pi_atomic(): announce a waiter (so the owner's
		 * unlock comes here), then look the owner up. */
		if (!(v & FUTEX_WAITERS) &&
		    !__atomic_compare_exchange_n(w.word, &v, v | FUTEX_WAITERS,
						 false, __ATOMIC_SEQ_CST,
						 __ATOMIC_SEQ_CST))
			continue;
		r = pi_owner_state(k, (int)(v & FUTEX_TID_MASK));
		if (r == 0) {
			r = -ESRCH;
			break;
		}
		if (r < 0) {
			struct timespec ts;

			pthread_mutex_unlock(&k->futex_lock);
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += 1000000;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			if (task_block(t, &ts) == -EINTR)
				return -ERESTARTNOINTR;
			pthread_mutex_lock(&k->futex_lock);
			continue;
		}
		r = trylock ? -EWOULDBLOCK : 1;
		break;
	}
	if (r != 1) {
		pthread_mutex_unlock(&k->futex_lock);
		return r;
	}
	list_add_tail(&w.link, bucket(k, &w.key));
	pthread_mutex_unlock(&k->futex_lock);
	for (;;) {
		r = task_block(t, deadline);
		pthread_mutex_lock(&k->futex_lock);
		if (w.acquired) {
			pthread_mutex_unlock(&k->futex_lock);
			return 0;
		}
		if (r) {
			list_del(&w.link);
			pthread_mutex_unlock(&k->futex_lock);
			/* futex_lock_pi() restarts after a handler. */
			return r == -ETIMEDOUT ? -ETIMEDOUT : -ERESTARTNOINTR;
		}
		pthread_mutex_unlock(&k->futex_lock);
	}
}

static long futex_unlock_pi(struct task *t, uint64_t uaddr, bool shared)
{
	struct kernel *k = t->k;
	struct futex_waiter *top;
	struct futex_key key;
	uint32_t *word, tid = (uint32_t)t->tid, v, nv;
	int r;

	r = get_key(t, uaddr, shared, true, &key, &word);
	if (r)
		return r;
	pthread_mutex_lock(&k->futex_lock);
	v = __atomic_load_n(word, __ATOMIC_SEQ_CST);
	do {
		if ((v & FUTEX_TID_MASK) != tid) {
			pthread_mutex_unlock(&k->futex_lock);
			return -EPERM;
		}
		/* wake_futex_pi(): the next owner's TID, WAITERS kept since
		 * more may queue; no waiter: 0 (neither bit preserved). */
		top = pi_top(k, &key);
		nv = top ? ((uint32_t)top->t->tid | FUTEX_WAITERS) : 0;
	} while (!__atomic_compare_exchange_n(word, &v, nv, false,
					      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	if (top)
		pi_grant(top);
	pthread_mutex_unlock(&k->futex_lock);
	return 0;
}

/* The owner tid died holding a PI futex whose waiters are queued under
 * key (futex_lock held, word's TID checked by the caller): hand it on. */
static bool pi_owner_died_locked(struct kernel *k, const struct futex_key *key,
				 uint32_t *word, uint32_t tid, bool robust)
{
	struct futex_waiter *top = pi_top(k, key);
	uint32_t v = __atomic_load_n(word, __ATOMIC_SEQ_CST), nv;

	do {
		if ((v & FUTEX_TID_MASK) != tid)
			return false;
		if (top)	/* fixup_pi_state_owner(): owner died */
			nv = (uint32_t)top->t->tid | FUTEX_WAITERS |
			     FUTEX_OWNER_DIED;
		else if (!robust)
			return false;
		else
			nv = (v & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
	} while (!__atomic_compare_exchange_n(word, &v, nv, false,
					      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	if (top)
		pi_grant(top);
	return true;
}

/* exit_pi_state_list(): PI futexes with sentry waiters that the exiting
 * task still owns (not on its robust list) go to their first waiter. */
static void pi_exit_owned(struct task *t)
{
	struct kernel *k = t->k;
	uint32_t tid = (uint32_t)t->tid;
	bool again = true;

	pthread_mutex_lock(&k->futex_lock);
	while (again) {
		again = false;
		for (int i = 0; i < FUTEX_BUCKETS && !again; i++) {
			struct futex_waiter *w;

			list_for_each_entry(w, &k->futex->b[i], link) {
				if (!w->pi || (__atomic_load_n(w->word,
							       __ATOMIC_SEQ_CST) &
					       FUTEX_TID_MASK) != tid)
					continue;
				pi_owner_died_locked(k, &w->key, w->word, tid,
						     false);
				again = true;	/* the list changed */
				break;
			}
		}
	}
	pthread_mutex_unlock(&k->futex_lock);
}

long futex_op(struct task *t, uint64_t uaddr, int op, uint32_t val,
	      uint64_t utime, uint64_t uaddr2, uint32_t val3)
{
	int cmd = op & FUTEX_CMD_MASK;
	bool shared = !(op & FUTEX_PRIVATE_FLAG);
	bool realtime = op & FUTEX_CLOCK_REALTIME;
	struct timespec deadline, *dl = NULL;
	int r;

	/* futex_wait/wait_bitset/wait_requeue_pi/lock_pi2 take a clock. */
	if (realtime && cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET &&
	    cmd != FUTEX_WAIT_REQUEUE_PI && cmd != 13 /* LOCK_PI2 */)
		return -ENOSYS;
	switch (cmd) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
		if (utime) {
			r = read_timeout(t, utime, cmd == FUTEX_WAIT_BITSET,
					 realtime, &deadline);
			if (r)
				return r;
			dl = &deadline;
		}
		return futex_wait(t, uaddr, shared, val, dl,
				  cmd == FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : val3);
	case FUTEX_WAKE:
		return futex_wake_op_(t, shared, uaddr, FUTEX_BITSET_MATCH_ANY,
				      (int)MIN(val, (uint32_t)INT_MAX));
	case FUTEX_WAKE_BITSET:
		return futex_wake_op_(t, shared, uaddr, val3,
				      (int)MIN(val, (uint32_t)INT_MAX));
	case FUTEX_REQUEUE:
		return futex_requeue(t, shared, uaddr, uaddr2, (int)val,
				     (int)utime, false, 0);
	case FUTEX_CMP_REQUEUE:
		return futex_requeue(t, shared, uaddr, uaddr2, (int)val,
				     (int)utime, true, val3);
	case FUTEX_WAKE_OP:
		return futex_wake_op(t, shared, uaddr, uaddr2, (int)val,
				     (int)utime, val3);
	case FUTEX_LOCK_PI:
	case FUTEX_LOCK_PI2:
		/* LOCK_PI: absolute CLOCK_REALTIME; LOCK_PI2: absolute,
		 * CLOCK_MONOTONIC unless FUTEX_CLOCK_REALTIME. */
		if (utime) {
			r = read_timeout(t, utime, true,
					 cmd == FUTEX_LOCK_PI || realtime,
					 &deadline);
			if (r)
				return r;
			dl = &deadline;
		}
		return futex_lock_pi(t, uaddr, shared, dl, false);
	case FUTEX_TRYLOCK_PI:
		return futex_lock_pi(t, uaddr, shared, NULL, true);
	case FUTEX_UNLOCK_PI:
		return futex_unlock_pi(t, uaddr, shared);
	case FUTEX_WAIT_REQUEUE_PI:
	case FUTEX_CMP_REQUEUE_PI:
		return -ENOSYS;	/* PI condition variables: not offered */
	default:
		return -ENOSYS;
	}
}

/* handle_futex_death(): the owner died holding the lock. */
static void futex_death(struct task *t, uint64_t uaddr, bool pi)
{
	uint32_t *word, v, nv;
	struct futex_key key;

	if (get_key(t, uaddr, false, true, &key, &word))
		return;
	if (pi) {
		/* Waiters may be queued under the private or the shared
		 * key; the word gets OWNER_DIED either way. */
		struct futex_key skey = { NULL, (uint64_t)(uintptr_t)word };
		struct kernel *k = t->k;

		pthread_mutex_lock(&k->futex_lock);
		if (!pi_top(k, &key) && pi_top(k, &skey))
			key = skey;
		pi_owner_died_locked(k, &key, word, (uint32_t)t->tid, true);
		pthread_mutex_unlock(&k->futex_lock);
		return;
	}
	v = __atomic_load_n(word, __ATOMIC_SEQ_CST);
	do {
		if ((v & FUTEX_TID_MASK) != (uint32_t)t->tid)
			return;
		nv = (v & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
	} while (!__atomic_compare_exchange_n(word, &v, nv, false,
					      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	if (v & FUTEX_WAITERS)
		futex_wake(t->k, t->mm, uaddr, 1);
}

static void exit_robust_list(struct task *t)
{
	uint64_t head = t->robust_list, entry, pending, next;
	int64_t off;
	struct {
		uint64_t list;
		int64_t futex_offset;
		uint64_t list_op_pending;
	} h;

	if (!head)
		return;
	if (mm_copy_in(t->mm, &h, head, sizeof(h)))
		return;
	entry = h.list;
	off = h.futex_offset;
	pending = h.list_op_pending & ~1ULL;
	for (int n = 0; entry != head && n < ROBUST_LIST_LIMIT; n++) {
		uint64_t e = entry & ~1ULL;	/* bit 0: PI */

		if (!e || mm_copy_in(t->mm, &next, e, sizeof(next)))
			break;
		if (e != pending)
			futex_death(t, e + (uint64_t)off, entry & 1);
		entry = next;
	}
	if (pending)
		futex_death(t, pending + (uint64_t)off, h.list_op_pending & 1);
}

void futex_exit_robust_list(struct task *t)
{
	exit_robust_list(t);
	pi_exit_owned(t);
}

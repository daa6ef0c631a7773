// SPDX-License-Identifier: GPL-2.0
/*
 * Futexes (kernel/futex/): WAIT, WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP,
 * WAIT_BITSET, WAKE_BITSET; robust lists at exit. PI ops are ENOSYS.
 *
 * Keys: a private futex is (mm, address). A shared one is the sentry address
 * of its byte in the memory file (frame + page offset), so MAP_SHARED memory
 * matches across processes; the page is resolved for write first so a
 * copy-on-write page is broken before its frame becomes the key. Shared
 * wakes also wake private waiters of the same (mm, address): Linux keys a
 * "shared" futex in private anonymous memory by (mm, address) too.
 * Locks: kernel->futex_lock over the whole table (one lock: 2 vCPUs, short
 * sections); it is taken with no other lock held and mm->lock may be taken
 * inside it (the value read). Waiters live on their task's stack and remove
 * themselves before returning.
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
	uint32_t bitset;
	struct task *t;
	bool woken;
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
		if (!key_eq(&w->key, &k1))
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
	case FUTEX_UNLOCK_PI:
	case FUTEX_TRYLOCK_PI:
	case FUTEX_WAIT_REQUEUE_PI:
	case FUTEX_CMP_REQUEUE_PI:
	case 13: /* FUTEX_LOCK_PI2 */
		return -ENOSYS;	/* priority inheritance: not offered */
	default:
		return -ENOSYS;
	}
}

/* handle_futex_death(): the owner died holding the lock. */
static void futex_death(struct task *t, uint64_t uaddr)
{
	uint32_t *word, v, nv;
	struct futex_key key;

	if (get_key(t, uaddr, false, true, &key, &word))
		return;
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

void futex_exit_robust_list(struct task *t)
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
			futex_death(t, e + (uint64_t)off);
		entry = next;
	}
	if (pending)
		futex_death(t, pending + (uint64_t)off);
}

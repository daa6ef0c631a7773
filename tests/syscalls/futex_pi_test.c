/*
 * futex_pi_test: PI futexes — FUTEX_LOCK_PI, LOCK_PI2, TRYLOCK_PI,
 * UNLOCK_PI on the raw word protocol (TID | FUTEX_WAITERS |
 * FUTEX_OWNER_DIED), EDEADLK/EPERM/ESRCH, timeouts, ownership hand-off,
 * robust owner death, and glibc PTHREAD_PRIO_INHERIT mutexes under
 * contention.
 */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2 13
#endif

static long fx(uint32_t *w, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, w, op, val, ts, NULL, 0);
}

static struct timespec after_ms(clockid_t c, long ms)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	ts.tv_nsec += ms * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	return ts;
}

static uint32_t word;
static volatile int holder_ready, holder_release;
static volatile pid_t holder_tid;

/* Takes the raw lock, waits for the go, releases it like glibc does. */
static void *holder(void *arg)
{
	uint32_t tid = (uint32_t)gettid(), zero = 0;

	(void)arg;
	holder_tid = (pid_t)tid;
	if (!__atomic_compare_exchange_n(&word, &zero, tid, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		fx(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL);
	holder_ready = 1;
	while (!holder_release)
		usleep(1000);
	usleep(20000);	/* let the main thread block in LOCK_PI */
	if (!__atomic_compare_exchange_n(&word, &(uint32_t){ tid }, 0, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		fx(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL);
	return NULL;
}

/* ---- glibc PI mutex contention ---- */
#define NTHREADS 4
#define ITERS 3000
static pthread_mutex_t pim;
static long counter;

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < ITERS; i++) {
		pthread_mutex_lock(&pim);
		long c = counter;

		if ((i & 255) == 0)
			sched_yield();	/* hold it across a switch */
		counter = c + 1;
		pthread_mutex_unlock(&pim);
	}
	return NULL;
}

struct tl {
	struct timespec dl;
	int r;
};

static void *timed_locker(void *arg)
{
	struct tl *x = arg;

	x->r = pthread_mutex_timedlock(&pim, &x->dl);
	return NULL;
}

static pthread_mutex_t *robust;

/* Takes the raw lock and exits holding it (not on any robust list). */
static void *exit_holding(void *arg)
{
	uint32_t zero = 0;

	(void)arg;
	holder_tid = gettid();
	__atomic_compare_exchange_n(&word, &zero, (uint32_t)gettid(), false,
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	holder_ready = 1;
	usleep(50000);
	return NULL;
}

static void *die_holding(void *arg)
{
	(void)arg;
	pthread_mutex_lock(robust);
	return NULL;	/* exits owning it */
}

int main(void)
{
	uint32_t me = (uint32_t)gettid();
	struct timespec ts;
	pthread_t th;
	long r;

	/* Uncontended raw protocol. */
	word = 0;
	is_long(fx(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL), 0, "LOCK_PI on a free word");
	is_long(word, me, "word holds our TID");
	is_errno(fx(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL), EDEADLK,
		 "LOCK_PI again: EDEADLK");
	is_errno(fx(&word, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL), EDEADLK,
		 "TRYLOCK_PI by the owner: EDEADLK");
	is_long(fx(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL), 0, "UNLOCK_PI");
	is_long(word, 0, "word is 0 again");
	is_errno(fx(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL), EPERM,
		 "UNLOCK_PI when not the owner: EPERM");
	is_long(fx(&word, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL), 0, "TRYLOCK_PI free");
	is_long(word, me, "owned");
	word = 0;
	word = FUTEX_OWNER_DIED;
	is_long(fx(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL), 0,
		"LOCK_PI on TID 0 | OWNER_DIED");
	is_long(word, me | FUTEX_OWNER_DIED, "OWNER_DIED is kept");
	word = 0x3ffffff;	/* a TID nobody has */
	is_errno(fx(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL), ESRCH,
		 "owner does not exist: ESRCH");
	is_errno(fx(&word, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL), ESRCH,
		 "TRYLOCK_PI, owner does not exist: ESRCH");
	is_errno(fx(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL), EPERM,
		 "UNLOCK_PI of someone's lock: EPERM");
	is_errno(fx(BAD_PTR, FUTEX_LOCK_PI_PRIVATE, 0, NULL), EINVAL,
		 "misaligned: EINVAL");
	is_errno(fx((uint32_t *)8, FUTEX_LOCK_PI_PRIVATE, 0, NULL), EFAULT,
		 "unmapped: EFAULT");
	word = 0;
	is_errno(fx(&word, FUTEX_LOCK_PI_PRIVATE | FUTEX_CLOCK_REALTIME, 0, NULL),
		 ENOSYS, "LOCK_PI with FUTEX_CLOCK_REALTIME: ENOSYS");

	/* Contended: timeouts, then a hand-off. */
	word = 0;
	holder_ready = holder_release = 0;
	pthread_create(&th, NULL, holder, NULL);
	while (!holder_ready)
		usleep(1000);
	is_errno(fx(&word, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL), EAGAIN,
		 "TRYLOCK_PI on a held lock: EAGAIN");
	ts = after_ms(CLOCK_REALTIME, 50);
	is_errno(fx(&word, FUTEX_LOCK_PI_PRIVATE, 0, &ts), ETIMEDOUT,
		 "LOCK_PI with an absolute CLOCK_REALTIME timeout: ETIMEDOUT");
	ok((word & FUTEX_TID_MASK) == (uint32_t)holder_tid && (word & FUTEX_WAITERS),
	   "the waiter set FUTEX_WAITERS (%#x)", word);
	ts = after_ms(CLOCK_MONOTONIC, 30);
	is_errno(fx(&word, FUTEX_LOCK_PI2_PRIVATE, 0, &ts), ETIMEDOUT,
		 "LOCK_PI2 with a CLOCK_MONOTONIC timeout: ETIMEDOUT");
	ts = after_ms(CLOCK_REALTIME, 30);
	is_errno(fx(&word, FUTEX_LOCK_PI2_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &ts),
		 ETIMEDOUT, "LOCK_PI2 | FUTEX_CLOCK_REALTIME: ETIMEDOUT");
	is_errno(fx(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL), EPERM,
		 "UNLOCK_PI by a waiter: EPERM");
	holder_release = 1;
	r = fx(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL);
	is_long(r, 0, "LOCK_PI blocks until the owner unlocks");
	is_long(word & FUTEX_TID_MASK, me, "ownership handed to us (%#x)", word);
	pthread_join(th, NULL);
	if (!__atomic_compare_exchange_n(&word, &(uint32_t){ me }, 0, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		is_long(fx(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL), 0,
			"UNLOCK_PI with the WAITERS bit left");
	else
		ok(1, "unlocked in user space");
	is_long(word, 0, "free");

	/* The owner exits holding it while we wait (exit_pi_state_list):
	 * the lock passes to the waiter, marked OWNER_DIED. */
	word = 0;
	holder_ready = 0;
	pthread_create(&th, NULL, exit_holding, NULL);
	while (!holder_ready)
		usleep(1000);
	r = fx(&word, FUTEX_LOCK_PI_PRIVATE, 0, NULL);
	is_long(r, 0, "non-robust owner exited: the waiter gets the lock");
	ok((word & FUTEX_TID_MASK) == me && (word & FUTEX_OWNER_DIED),
	   "word names us, OWNER_DIED (%#x)", word);
	pthread_join(th, NULL);
	fx(&word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL);
	is_long(word, 0, "and unlocks");
	word = 0;

	/* glibc PTHREAD_PRIO_INHERIT mutex, several threads. */
	{
		pthread_mutexattr_t a;
		pthread_t ths[NTHREADS];
		struct timespec dl;

		pthread_mutexattr_init(&a);
		is_long(pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT), 0,
			"PTHREAD_PRIO_INHERIT");
		pthread_mutex_init(&pim, &a);
		for (int i = 0; i < NTHREADS; i++)
			pthread_create(&ths[i], NULL, worker, NULL);
		for (int i = 0; i < NTHREADS; i++)
			pthread_join(ths[i], NULL);
		is_long(counter, (long)NTHREADS * ITERS, "PI mutex: no lost updates");
		pthread_mutex_lock(&pim);
		dl = after_ms(CLOCK_REALTIME, 30);
		/* Another thread's timed lock of the held mutex times out. */
		{
			struct tl tl = { dl, -1 };
			pthread_t t2;

			if (!pthread_create(&t2, NULL, timed_locker, &tl))
				pthread_join(t2, NULL);
			is_long(tl.r, ETIMEDOUT, "pthread_mutex_timedlock: ETIMEDOUT");
		}
		pthread_mutex_unlock(&pim);
		pthread_mutex_destroy(&pim);
	}

	/* Robust PI: the owner thread exits holding it. */
	{
		pthread_mutexattr_t a;

		robust = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		pthread_mutexattr_init(&a);
		pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
		pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
		pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
		is_long(pthread_mutex_init(robust, &a), 0, "robust PI mutex");
		pthread_create(&th, NULL, die_holding, NULL);
		pthread_join(th, NULL);
		is_long(pthread_mutex_lock(robust), EOWNERDEAD,
			"owner thread exited: EOWNERDEAD");
		is_long(pthread_mutex_consistent(robust), 0, "consistent");
		is_long(pthread_mutex_unlock(robust), 0, "unlock");

		/* A child process dies holding it while we wait. */
		pid_t pid = fork();

		if (pid == 0) {
			pthread_mutex_lock(robust);
			usleep(100000);
			_exit(0);	/* dies holding it */
		}
		usleep(30000);
		r = pthread_mutex_lock(robust);
		is_long(r, EOWNERDEAD, "waiter gets the dead child's lock: EOWNERDEAD");
		if (r == EOWNERDEAD)
			pthread_mutex_consistent(robust);
		is_long(pthread_mutex_unlock(robust), 0, "unlock");
		waitpid(pid, NULL, 0);
		is_long(pthread_mutex_trylock(robust), 0, "free again");
		pthread_mutex_unlock(robust);
	}
	return done_testing();
}

/* futex: WAIT (EAGAIN, ETIMEDOUT, relative), WAIT_BITSET (absolute, both
 * clocks), WAKE, WAKE_BITSET, REQUEUE, CMP_REQUEUE, WAKE_OP, argument errors,
 * cross-process MAP_SHARED futexes, and waking between threads. */
#include "tap.h"

#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

static long futex(uint32_t *u, int op, uint32_t val, const void *ts, uint32_t *u2, uint32_t v3)
{
	return syscall(SYS_futex, u, op, val, ts, u2, v3);
}

static long now_ms(int clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t tword;

static void *waker(void *arg)
{
	(void)arg;
	struct timespec ts = { 0, 100000000L };
	nanosleep(&ts, NULL);
	__atomic_store_n(&tword, 1, __ATOMIC_SEQ_CST);
	futex(&tword, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	return NULL;
}

int main(void)
{
	static uint32_t w = 5, w2 = 0;
	struct timespec rel = { 0, 50000000L }, abs;
	long t0, dt;

	is_errno(futex(&w, FUTEX_WAIT_PRIVATE, 4, NULL, NULL, 0), EAGAIN, "WAIT on a changed value -> EAGAIN");
	t0 = now_ms(CLOCK_MONOTONIC);
	is_errno(futex(&w, FUTEX_WAIT_PRIVATE, 5, &rel, NULL, 0), ETIMEDOUT, "WAIT relative 50 ms -> ETIMEDOUT");
	dt = now_ms(CLOCK_MONOTONIC) - t0;
	ok(dt >= 45 && dt < 2000, "slept about 50 ms (%ld)", dt);
	clock_gettime(CLOCK_MONOTONIC, &abs);
	abs.tv_nsec += 50000000L;
	if (abs.tv_nsec >= 1000000000L) { abs.tv_sec++; abs.tv_nsec -= 1000000000L; }
	t0 = now_ms(CLOCK_MONOTONIC);
	is_errno(futex(&w, FUTEX_WAIT_BITSET_PRIVATE, 5, &abs, NULL, FUTEX_BITSET_MATCH_ANY),
		 ETIMEDOUT, "WAIT_BITSET absolute monotonic -> ETIMEDOUT");
	dt = now_ms(CLOCK_MONOTONIC) - t0;
	ok(dt >= 40 && dt < 2000, "until the deadline (%ld ms)", dt);
	clock_gettime(CLOCK_REALTIME, &abs);
	abs.tv_nsec += 50000000L;
	if (abs.tv_nsec >= 1000000000L) { abs.tv_sec++; abs.tv_nsec -= 1000000000L; }
	is_errno(futex(&w, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 5, &abs, NULL,
		       FUTEX_BITSET_MATCH_ANY), ETIMEDOUT, "WAIT_BITSET CLOCK_REALTIME -> ETIMEDOUT");
	clock_gettime(CLOCK_MONOTONIC, &abs);
	abs.tv_sec -= 1;
	is_errno(futex(&w, FUTEX_WAIT_BITSET_PRIVATE, 5, &abs, NULL, FUTEX_BITSET_MATCH_ANY),
		 ETIMEDOUT, "WAIT_BITSET deadline in the past -> ETIMEDOUT at once");
	is_errno(futex(&w, FUTEX_WAIT_BITSET_PRIVATE, 5, NULL, NULL, 0), EINVAL, "WAIT_BITSET bitset 0 -> EINVAL");
	is_errno(futex(&w, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0), EINVAL, "WAKE_BITSET bitset 0 -> EINVAL");
	struct timespec bad = { 0, 1000000000L };
	is_errno(futex(&w, FUTEX_WAIT_PRIVATE, 5, &bad, NULL, 0), EINVAL, "WAIT tv_nsec 1e9 -> EINVAL");
	is_errno(futex((uint32_t *)((char *)&w + 1), FUTEX_WAIT_PRIVATE, 5, NULL, NULL, 0), EINVAL,
		 "unaligned address -> EINVAL");
	is_errno(futex(BAD_PTR - 1 + 4, FUTEX_WAIT_PRIVATE, 5, NULL, NULL, 0), EFAULT, "unmapped address -> EFAULT");
	is_errno(futex(&w, FUTEX_WAIT_PRIVATE, 5, BAD_PTR, NULL, 0), EFAULT, "bad timeout pointer -> EFAULT");
	is_errno(futex(&w, FUTEX_WAKE_PRIVATE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0), ENOSYS,
		 "CLOCK_REALTIME with WAKE -> ENOSYS");
	is_errno(futex(&w, 99, 1, NULL, NULL, 0), ENOSYS, "unknown op -> ENOSYS");
	is_long(futex(&w, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0), 0, "WAKE with no waiters -> 0");
	is_errno(futex(&w, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1, &w2, 4), EAGAIN, "CMP_REQUEUE value differs -> EAGAIN");
	is_long(futex(&w, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1, &w2, 5), 0, "CMP_REQUEUE nobody waiting -> 0");
	is_errno(futex(&w, FUTEX_CMP_REQUEUE_PRIVATE, (uint32_t)-1, (void *)1, &w2, 5), EINVAL,
		 "CMP_REQUEUE negative nr_wake -> EINVAL");
	w2 = 5;
	/* WAKE_OP: *w2 += 3, wake w, and w2 if old == 5. */
	uint32_t op = (FUTEX_OP_ADD << 28) | (FUTEX_OP_CMP_EQ << 24) | (3 << 12) | 5;
	is_long(futex(&w, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, &w2, op), 0, "WAKE_OP with no waiters -> 0");
	is_long(w2, 8, "WAKE_OP added 3");
	op = (FUTEX_OP_SET << 28) | (FUTEX_OP_OPARG_SHIFT << 28) | (FUTEX_OP_CMP_NE << 24) | (4 << 12);
	futex(&w, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, &w2, op);
	is_long(w2, 16, "WAKE_OP SET with OPARG_SHIFT: 1 << 4");

	/* A thread wakes us. */
	pthread_t th;
	tword = 0;
	if (pthread_create(&th, NULL, waker, NULL) == 0) {
		long r;
		do
			r = futex(&tword, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
		while (r == -1 && errno == EINTR);
		ok((r == 0 || errno == EAGAIN) && tword == 1, "woken by another thread");
		pthread_join(th, NULL);
	} else {
		ok(0, "pthread_create");
	}

	/* Shared futex across processes (MAP_SHARED anonymous memory), with a
	 * requeue from a to b. */
	uint32_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	m[0] = 0;
	m[1] = 0;
	pid_t c = fork();
	if (c == 0) {
		long r = futex(&m[0], FUTEX_WAIT, 0, NULL, NULL, 0);
		_exit(r == 0 && m[1] == 1 ? 0 : 1);
	}
	long moved = 0;
	for (int i = 0; i < 500 && moved == 0; i++) {
		moved = futex(&m[0], FUTEX_CMP_REQUEUE, 0, (void *)1, &m[1], 0);
		if (moved == 0) {
			struct timespec ts = { 0, 2000000L };
			nanosleep(&ts, NULL);
		}
	}
	is_long(moved, 1, "CMP_REQUEUE moved the other process's waiter");
	m[1] = 1;
	is_long(futex(&m[1], FUTEX_WAKE, 1, NULL, NULL, 0), 1, "WAKE on the requeue target wakes it");
	int st;
	is_long(waitpid(c, &st, 0), c, "child exits");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child was woken with the value set");
	return done_testing();
}

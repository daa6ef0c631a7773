// SPDX-License-Identifier: GPL-2.0
/*
 * Blocking and waking tasks. Each task has one futex word, t->block_word:
 * BW_IDLE, BW_PENDING (a sticky wake not consumed yet) or BW_SLEEPING (the
 * task sleeps on the word). No lock: a wake is one atomic exchange plus a
 * FUTEX_WAKE only when the task announced that it sleeps. (A mutex +
 * condition variable here cost up to three host wake-ups per task_wake on
 * a busy CPU: the woken thread ran into the mutex its waker still held.)
 * A blocked task wakes for task_wake(), for a kill (kernel_kill, group exit
 * and init's end call task_kick -> task_wake on every task concerned) and
 * at its deadline. Only the task's own thread blocks on its word.
 */
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cvisor/platform.h"
#include "cvisor/signal.h"
#include "cvisor/task.h"

__thread int platform_waker_cpu = -1;

#define BW_IDLE 0
#define BW_PENDING 1
#define BW_SLEEPING 2

void task_sched_init(struct task *t)
{
	__atomic_store_n(&t->block_word, BW_IDLE, __ATOMIC_RELAXED);
	__atomic_store_n(&t->waker_cpu, -1, __ATOMIC_RELAXED);
}

void task_sched_destroy(struct task *t)
{
	(void)t;
}

/* Consume a pending wake. */
static bool take_wake(struct task *t)
{
	uint32_t w = BW_PENDING;

	return __atomic_compare_exchange_n(&t->block_word, &w, BW_IDLE, false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static int do_block(struct task *t, const struct timespec *deadline,
		    bool (*interrupted)(struct task *))
{
	for (;;) {
		uint32_t w = BW_IDLE;

		/* A pending wake wins over an interruption, as it did with
		 * the condition variable: the caller rechecks its state. */
		if (take_wake(t))
			return 0;
		if (interrupted(t))
			return -EINTR;
		/* Announce the sleep; fails when a wake came in between.
		 * Whoever makes interrupted() true wakes us afterwards
		 * (signal_send, task_kick), so the wait below ends. */
		if (!__atomic_compare_exchange_n(&t->block_word, &w, BW_SLEEPING,
						 false, __ATOMIC_SEQ_CST,
						 __ATOMIC_SEQ_CST))
			continue;
		/* Whatever waits for this task's result (systrap's stub
		 * thread) can stop spinning: it is not coming soon. */
		if (t->ctx && t->k->platform->ops->ctx_will_block)
			t->k->platform->ops->ctx_will_block(t->ctx);
		/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC
		 * deadline (futex(2)). EINTR (CV_SIG_INTERRUPT), EAGAIN (the
		 * word changed) and wake-ups all loop back to the checks. */
		if (syscall(SYS_futex, &t->block_word,
			    FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, BW_SLEEPING,
			    deadline, NULL, FUTEX_BITSET_MATCH_ANY) &&
		    errno == ETIMEDOUT) {
			w = BW_SLEEPING;
			if (__atomic_compare_exchange_n(&t->block_word, &w,
							BW_IDLE, false,
							__ATOMIC_SEQ_CST,
							__ATOMIC_SEQ_CST))
				return -ETIMEDOUT;
			/* A wake raced with the timeout: it wins. */
			continue;
		}
		w = BW_SLEEPING;
		__atomic_compare_exchange_n(&t->block_word, &w, BW_IDLE, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		/* Slept: tell the platform where the waker ran. */
		platform_waker_cpu =
			__atomic_load_n(&t->waker_cpu, __ATOMIC_RELAXED);
	}
}

static bool interruptible(struct task *t)
{
	return task_must_die(t) || signal_pending(t);
}

int task_block(struct task *t, const struct timespec *deadline)
{
	return do_block(t, deadline, interruptible);
}

int task_block_killable(struct task *t, const struct timespec *deadline)
{
	return do_block(t, deadline, task_must_die);
}

void task_wake(struct task *t)
{
	__atomic_store_n(&t->waker_cpu, sched_getcpu(), __ATOMIC_RELAXED);
	if (__atomic_exchange_n(&t->block_word, BW_PENDING, __ATOMIC_SEQ_CST) ==
	    BW_SLEEPING)
		syscall(SYS_futex, &t->block_word,
			FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0);
}

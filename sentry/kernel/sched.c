// SPDX-License-Identifier: GPL-2.0
/*
 * Blocking and waking tasks. Each task has a mutex + condition variable +
 * sticky wake flag; t->block_lock is a leaf lock. A blocked task wakes for
 * task_wake(), for a kill (kernel_kill, group exit and init's end call
 * task_kick -> task_wake on every task concerned) and at its deadline.
 */
#include <errno.h>
#include <time.h>

#include "cvisor/signal.h"
#include "cvisor/task.h"

void task_sched_init(struct task *t)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&t->block_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->block_cond, &ca);
	pthread_condattr_destroy(&ca);
	t->wake_pending = false;
}

void task_sched_destroy(struct task *t)
{
	pthread_cond_destroy(&t->block_cond);
	pthread_mutex_destroy(&t->block_lock);
}

static int do_block(struct task *t, const struct timespec *deadline,
		    bool (*interrupted)(struct task *))
{
	int r = 0;

	pthread_mutex_lock(&t->block_lock);
	while (!t->wake_pending) {
		if (interrupted(t)) {
			r = -EINTR;
			break;
		}
		if (deadline) {
			if (pthread_cond_timedwait(&t->block_cond, &t->block_lock,
						   deadline) == ETIMEDOUT &&
			    !t->wake_pending) {
				r = -ETIMEDOUT;
				break;
			}
		} else {
			pthread_cond_wait(&t->block_cond, &t->block_lock);
		}
	}
	if (r == 0)
		t->wake_pending = false;
	pthread_mutex_unlock(&t->block_lock);
	return r;
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
	pthread_mutex_lock(&t->block_lock);
	t->wake_pending = true;
	pthread_cond_signal(&t->block_cond);
	pthread_mutex_unlock(&t->block_lock);
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Wait queues: the one way a sentry object (pipe, futex, child exit, epoll,
 * timer) tells blocked tasks that something changed.
 *
 * A waiter sits on a queue with an interest mask; waitq_wake(wq, events)
 * calls each waiter whose mask intersects events: its func if set (epoll
 * uses this to chain readiness), else task_wake(waiter->task).
 *
 * The no-lost-wakeup pattern for a blocking call:
 *
 *	waitq_add(wq, &w);
 *	for (;;) {
 *		if (condition_is_true(...))	// checked under the object's lock
 *			break;
 *		r = task_block(t, deadline);	// 0 | -ETIMEDOUT | -EINTR
 *		if (r)
 *			break;
 *	}
 *	waitq_remove(wq, &w);
 *
 * task_block() returns at once if task_wake() happened since the last
 * task_block() returned (a sticky flag), so a wake between the condition
 * check and the block is never lost.
 *
 * Locking: wq->lock is a leaf lock held only inside these functions; a
 * waiter's func runs with wq->lock held and must not block or take locks
 * that are held around waitq_* calls (it may take its own leaf lock).
 */
#ifndef CVISOR_WAITQ_H
#define CVISOR_WAITQ_H

#include <pthread.h>
#include <stdint.h>

#include "cvisor/util.h"

struct task;
struct waiter;

typedef void (*waiter_fn)(struct waiter *w, uint64_t events);

struct waitq {
	pthread_mutex_t lock;
	struct list_head head;
};

struct waiter {
	struct list_head link;
	struct task *task;	/* woken with task_wake() when func is NULL */
	uint64_t mask;		/* events of interest; ~0 = all */
	waiter_fn func;		/* optional */
	void *priv;		/* for func */
};

void waitq_init(struct waitq *wq);
void waitq_destroy(struct waitq *wq);
void waiter_init(struct waiter *w, struct task *t, uint64_t mask);
void waitq_add(struct waitq *wq, struct waiter *w);
void waitq_remove(struct waitq *wq, struct waiter *w);
/* Wake every waiter whose mask & events != 0. Returns how many. */
int waitq_wake(struct waitq *wq, uint64_t events);
/* Wake at most n such waiters (futex). Returns how many. */
int waitq_wake_n(struct waitq *wq, uint64_t events, int n);

#endif

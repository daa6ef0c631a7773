// SPDX-License-Identifier: GPL-2.0
/*
 * Wait queues (include/cvisor/waitq.h). wq->lock is a leaf lock; waiter
 * callbacks run under it. A waiter is on at most one queue at a time; its
 * owner removes it before the waiter goes out of scope.
 */
#include "cvisor/task.h"
#include "cvisor/waitq.h"

void waitq_init(struct waitq *wq)
{
	pthread_mutex_init(&wq->lock, NULL);
	list_init(&wq->head);
}

void waitq_destroy(struct waitq *wq)
{
	pthread_mutex_destroy(&wq->lock);
}

void waiter_init(struct waiter *w, struct task *t, uint64_t mask)
{
	list_init(&w->link);
	w->task = t;
	w->mask = mask;
	w->func = NULL;
	w->priv = NULL;
}

void waitq_add(struct waitq *wq, struct waiter *w)
{
	pthread_mutex_lock(&wq->lock);
	list_add_tail(&w->link, &wq->head);
	pthread_mutex_unlock(&wq->lock);
}

void waitq_remove(struct waitq *wq, struct waiter *w)
{
	pthread_mutex_lock(&wq->lock);
	list_del(&w->link);
	pthread_mutex_unlock(&wq->lock);
}

int waitq_wake_n(struct waitq *wq, uint64_t events, int n)
{
	struct waiter *w, *tmp;
	int woken = 0;

	pthread_mutex_lock(&wq->lock);
	list_for_each_entry_safe(w, tmp, &wq->head, link) {
		if (woken >= n)
			break;
		if (!(w->mask & events))
			continue;
		if (w->func)
			w->func(w, events);
		else if (w->task)
			task_wake(w->task);
		woken++;
	}
	pthread_mutex_unlock(&wq->lock);
	return woken;
}

int waitq_wake(struct waitq *wq, uint64_t events)
{
	return waitq_wake_n(wq, events, 0x7fffffff);
}

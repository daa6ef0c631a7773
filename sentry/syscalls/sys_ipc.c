// SPDX-License-Identifier: GPL-2.0
/*
 * System V IPC system calls (ipc/syscall.c's split x86-64 entry points):
 * shared memory, semaphores, message queues. The work is in sentry/ipc/.
 *
 * Locks: none here. References: none.
 */
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "../ipc/ipc_impl.h"

SYSCALL_DEFINE(shmget)
{
	return shm_get(t, (int)args->a[0], args->a[1], (int)args->a[2]);
}

SYSCALL_DEFINE(shmat)
{
	return shm_at(t, (int)args->a[0], args->a[1], (int)args->a[2]);
}

SYSCALL_DEFINE(shmdt)
{
	return shm_dt(t, args->a[0]);
}

SYSCALL_DEFINE(shmctl)
{
	return shm_ctl(t, (int)args->a[0], (int)args->a[1], args->a[2]);
}

SYSCALL_DEFINE(semget)
{
	return sem_get(t, (int)args->a[0], (int)args->a[1], (int)args->a[2]);
}

SYSCALL_DEFINE(semop)
{
	/* nsops is an unsigned int in the kernel's prototype. */
	return sem_timedop(t, (int)args->a[0], args->a[1],
			   (uint32_t)args->a[2], 0);
}

SYSCALL_DEFINE(semtimedop)
{
	return sem_timedop(t, (int)args->a[0], args->a[1],
			   (uint32_t)args->a[2], args->a[3]);
}

SYSCALL_DEFINE(semctl)
{
	return sem_ctl(t, (int)args->a[0], (int)args->a[1], (int)args->a[2],
		       args->a[3]);
}

SYSCALL_DEFINE(msgget)
{
	return msg_get(t, (int)args->a[0], (int)args->a[1]);
}

SYSCALL_DEFINE(msgsnd)
{
	return msg_snd(t, (int)args->a[0], args->a[1], args->a[2],
		       (int)args->a[3]);
}

SYSCALL_DEFINE(msgrcv)
{
	return msg_rcv(t, (int)args->a[0], args->a[1], args->a[2],
		       (long)args->a[3], (int)args->a[4]);
}

SYSCALL_DEFINE(msgctl)
{
	return msg_ctl(t, (int)args->a[0], (int)args->a[1], args->a[2]);
}

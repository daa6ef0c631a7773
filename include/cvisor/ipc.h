/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inter-process communication objects of the sandbox (sentry/ipc/): System V
 * shared memory, semaphores and message queues, and POSIX message queues.
 * One IPC namespace per sandbox, hung off struct kernel and made on first
 * use; everything in it goes away with the sandbox (kernel_destroy).
 *
 * Limits are Linux's defaults (include/uapi/linux/{shm,sem,msg}.h,
 * ipc/mq_sysctl.c) and are what /proc/sys/kernel/{shm*,sem,msg*} and
 * /proc/sys/fs/mqueue/ show; they are fixed (not writable). Where Linux's
 * defaults would let a workload make the sentry allocate without bound,
 * an internal cap (IPC_*_CAP, not visible as a sysctl) fails the call the
 * way Linux fails when it runs out (ENOSPC/ENOMEM).
 */
#ifndef CVISOR_IPC_H
#define CVISOR_IPC_H

#include <stddef.h>

struct kernel;

/* System V shared memory (include/uapi/linux/shm.h). */
#define IPC_SHMMIN 1UL
#define IPC_SHMMNI 4096
#define IPC_SHMMAX (~0UL - (1UL << 24))
#define IPC_SHMALL (~0UL - (1UL << 24))	/* pages */
#define IPC_SHM_CAP_PAGES (16UL << 18)		/* 16 GiB of segments */
/* Semaphores (include/uapi/linux/sem.h). */
#define IPC_SEMMSL 32000
#define IPC_SEMMNS (IPC_SEMMNI * IPC_SEMMSL)
#define IPC_SEMOPM 500
#define IPC_SEMMNI 32000
#define IPC_SEMVMX 32767
#define IPC_SEMAEM IPC_SEMVMX
#define IPC_SEM_CAP (1 << 20)			/* semaphores in all sets */
#define IPC_SEM_UNDO_CAP (64UL << 20)		/* bytes of SEM_UNDO records */
/* Message queues (include/uapi/linux/msg.h). */
#define IPC_MSGMNI 32000
#define IPC_MSGMAX 8192
#define IPC_MSGMNB 16384
/* POSIX message queues (ipc/mq_sysctl.c, include/linux/ipc_namespace.h). */
#define IPC_MQ_QUEUES_MAX 256
#define IPC_MQ_MSG_MAX 10
#define IPC_MQ_MSGSIZE_MAX 8192
#define IPC_MQ_MSG_DEFAULT 10
#define IPC_MQ_MSGSIZE_DEFAULT 8192
#define IPC_MQ_HARD_MSGMAX 65536
#define IPC_MQ_HARD_MSGSIZEMAX (16 * 1024 * 1024)
#define IPC_MQ_QUEUES_CAP 4096			/* even with CAP_SYS_RESOURCE */
/* Bytes of queued message text (System V and POSIX together, plus a
 * per-message overhead) the sentry holds for a sandbox; past it sends
 * fail with ENOMEM. */
#define IPC_MSG_BYTES_CAP (256UL << 20)

/* /proc/sysvipc/NAME (shm, sem, msg): a header line and one line per
 * object of the sandbox's namespace, in Linux's format; the text is
 * malloc'd into *out. 0 or -errno. */
int ipc_sysvipc_show(struct kernel *k, const char *name, char **out,
		     size_t *len);

/* Free the namespace at sandbox teardown (no task left). */
void ipc_ns_free(struct kernel *k);
/* The last thread of process tgid is exiting: apply its SEM_UNDO
 * adjustments (ipc/sem.c exit_sem) and free removed shm segments nobody
 * holds any more. Called with kernel->lock held; takes only IPC locks
 * (kernel->lock -> sem lock; the shm lock only by trylock) and wakes
 * tasks. */
void ipc_process_exit(struct kernel *k, int tgid);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * prctl (kernel/sys.c): the options a container workload uses; the rest
 * are EINVAL like an unknown option. Touches the caller's own task and,
 * for process-wide flags, its process under kernel->lock.
 */
#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "cvisor/util.h"

static long put_int(struct task *t, uint64_t addr, int v)
{
	return mm_copy_out(t->mm, addr, &v, sizeof(v)) ? -EFAULT : 0;
}

SYSCALL_DEFINE(prctl)
{
	int option = (int)args->a[0];
	uint64_t a2 = args->a[1], a3 = args->a[2], a4 = args->a[3],
		 a5 = args->a[4];
	char comm[CV_TASK_COMM_LEN];
	ssize_t n;
	long r;

	switch (option) {
	case PR_SET_NAME:
		memset(comm, 0, sizeof(comm));
		/* strncpy_from_user of at most 15 bytes: a longer name is
		 * cut, never an error. */
		n = mm_strncpy_in(t->mm, comm, a2, sizeof(comm));
		if (n == -ENAMETOOLONG) {
			if (mm_copy_in(t->mm, comm, a2, sizeof(comm) - 1))
				return -EFAULT;
			comm[sizeof(comm) - 1] = '\0';
		} else if (n < 0) {
			return -EFAULT;
		}
		memcpy(t->comm, comm, sizeof(comm));
		return 0;
	case PR_GET_NAME:
		memcpy(comm, t->comm, sizeof(comm));
		comm[sizeof(comm) - 1] = '\0';
		return mm_copy_out(t->mm, a2, comm, sizeof(comm)) ? -EFAULT : 0;
	case PR_SET_PDEATHSIG:
		if (a2 > 64)
			return -EINVAL;
		t->pdeath_signal = (int)a2;
		return 0;
	case PR_GET_PDEATHSIG:
		return put_int(t, a2, t->pdeath_signal);
	case PR_GET_DUMPABLE:
		return t->proc->dumpable ? 1 : 0;
	case PR_SET_DUMPABLE:
		if (a2 != 0 && a2 != 1)	/* SUID_DUMP_DISABLE/USER */
			return -EINVAL;
		t->proc->dumpable = a2;
		return 0;
	case PR_SET_NO_NEW_PRIVS:
		if (a2 != 1 || a3 || a4 || a5)
			return -EINVAL;
		t->no_new_privs = true;
		return 0;
	case PR_GET_NO_NEW_PRIVS:
		if (a2 || a3 || a4 || a5)
			return -EINVAL;
		return t->no_new_privs ? 1 : 0;
	case PR_SET_CHILD_SUBREAPER:
		pthread_mutex_lock(&t->k->lock);
		t->proc->is_child_subreaper = !!a2;
		pthread_mutex_unlock(&t->k->lock);
		return 0;
	case PR_GET_CHILD_SUBREAPER:
		pthread_mutex_lock(&t->k->lock);
		r = t->proc->is_child_subreaper;
		pthread_mutex_unlock(&t->k->lock);
		return put_int(t, a2, (int)r);
	case PR_CAPBSET_READ:
		if (a2 > CAP_LAST_CAP)
			return -EINVAL;
		return (t->cred.cap_bset >> a2) & 1;
	case PR_CAPBSET_DROP:
		if (!cred_capable(&t->cred, CAP_SETPCAP))
			return -EPERM;
		if (a2 > CAP_LAST_CAP)
			return -EINVAL;
		t->cred.cap_bset &= ~(1ULL << a2);
		return 0;
	case PR_GET_KEEPCAPS:
		return !!(t->cred.securebits & (1u << 4));
	case PR_SET_KEEPCAPS:
		if (a2 > 1)
			return -EINVAL;
		if (a2)
			t->cred.securebits |= 1u << 4;
		else
			t->cred.securebits &= ~(1u << 4);
		return 0;
	default:
		return -EINVAL;
	}
}

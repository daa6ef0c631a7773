/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internals of sentry/ipc/ shared between its files.
 *
 * Each kind of System V object has an id table (struct ipc_ids, Linux's
 * ipc_ids) under its own mutex in the namespace: shm_lock, sem_lock,
 * msg_lock; POSIX queues have mq_lock for the name table. Object state is
 * under the kind's lock too (one lock per kind, not per object: simple, and
 * the sandbox is small). Blocked tasks sleep on an object's waitq without
 * any of these locks held and hold a reference (obj refs) so a removed
 * object stays readable until they see it is gone (EIDRM).
 *
 * Lock order: kernel->lock -> sem_lock (exit's SEM_UNDO); shm_lock ->
 * mm->lock (shmat/shmdt); mq queue lock -> waitq locks. No IPC lock is
 * held while sending a signal or copying to/from workload memory, except
 * shm_lock around mm_shm_attach/detach.
 */
#ifndef CVISOR_IPC_IMPL_H
#define CVISOR_IPC_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cvisor/ipc.h"
#include "cvisor/task.h"
#include "cvisor/util.h"

#define IPC_SEQ_SHIFT 15	/* ipcmni_seq_shift(): id = seq << 15 | idx */
#define IPC_IDX_MAX (1 << IPC_SEQ_SHIFT)

/* kern_ipc_perm */
struct ipc_obj {
	int id;
	int key;
	uint32_t uid, gid, cuid, cgid;
	uint32_t mode;		/* low 9 bits + SHM_DEST/SHM_LOCKED */
	uint32_t seq;
	bool deleted;
	int refs;		/* under the kind's lock: table + sleepers */
};

struct ipc_ids {
	struct ipc_obj **slot;
	int cap;
	int in_use;
	int max_idx;		/* highest used index, -1 none */
	uint32_t seq;
};

struct mq_table;

struct ipc_namespace {
	struct kernel *k;
	pthread_mutex_t shm_lock, sem_lock, msg_lock, mq_lock;
	struct ipc_ids shm_ids, sem_ids, msg_ids;
	uint64_t shm_tot;	/* pages of all segments */
	int used_sems;
	uint64_t sem_undo_bytes;	/* sem_lock */
	/* Message bytes held (System V and POSIX), with overhead: atomic. */
	uint64_t msg_bytes;
	uint64_t msg_hdrs, msg_text;	/* MSG_INFO: messages, bytes */
	struct list_head mqueues;	/* named POSIX queues, mq_lock */
	struct list_head mq_users;	/* RLIMIT_MSGQUEUE use, mq_lock */
	int mq_count;
	int mq_next_fid;	/* mqueue fs node numbers, mq_lock */
};

struct ipc_namespace *ipc_ns(struct kernel *k);

/* Id tables (caller holds the kind's lock). */
int ipc_ids_add(struct ipc_ids *ids, struct ipc_obj *o, int limit);
void ipc_ids_remove(struct ipc_ids *ids, struct ipc_obj *o);
/* By id: NULL for a bad index or a stale sequence number (EINVAL). */
struct ipc_obj *ipc_ids_find(struct ipc_ids *ids, int id);
struct ipc_obj *ipc_ids_find_key(struct ipc_ids *ids, int key);
/* By index (SHM_STAT and friends). */
struct ipc_obj *ipc_ids_at(struct ipc_ids *ids, int idx);
void ipc_ids_free(struct ipc_ids *ids);
/* Fill a new object's perm from the creator (mode = flg & 0777). */
void ipc_obj_init(struct ipc_obj *o, const struct cred *c, int key, int flg);
/* ipcperms(): flg holds S_IRUGO/S_IWUGO-style bits; 0 or -EACCES. */
int ipc_perms(const struct cred *c, const struct ipc_obj *o, int flg);
/* IPC_SET/IPC_RMID: owner, creator or CAP_SYS_ADMIN; else -EPERM. */
int ipc_owner_check(const struct cred *c, const struct ipc_obj *o);
/* IPC_SET of uid/gid/mode. */
void ipc_obj_set(struct ipc_obj *o, uint32_t uid, uint32_t gid, uint32_t mode);
/* struct ipc_perm as the workload sees it (glibc's = the kernel's
 * ipc64_perm on x86-64). */
struct ipc_perm;
void ipc_obj_to_perm(const struct ipc_obj *o, struct ipc_perm *p);
int64_t ipc_now(void);	/* CLOCK_REALTIME seconds */

/*
 * What the *ctl calls of the three System V kinds share (ipc/util.c
 * ipcctl_obtain_check, ipc_update_perm, and the sysvipc proc files):
 * each kind describes itself once; ipc_ctl_common() does the lookup,
 * the permission or owner check, the copy to or from the workload and
 * the locking for IPC_INFO/X_INFO, IPC_STAT/X_STAT/X_STAT_ANY, IPC_SET
 * and IPC_RMID. The hooks run with the kind's lock held.
 */
enum ipc_kind { IPC_KIND_SHM, IPC_KIND_SEM, IPC_KIND_MSG };

struct ipc_ctl_ops {
	enum ipc_kind kind;
	int info_cmd, stat_cmd, stat_any_cmd;	/* SHM_INFO, SHM_STAT... */
	size_t ds_size;		/* struct shmid_ds...: ipc_perm first */
	/* What IPC_INFO and info_cmd copy out (shminfo and shm_info
	 * differ; seminfo and msginfo serve both). */
	size_t ipc_info_size, info_size;
	/* Optional: runs first under the lock (shm: reap removed segments). */
	void (*sync)(struct ipc_namespace *ns);
	/* Fill the info struct for IPC_INFO or info_cmd. */
	void (*info)(struct ipc_namespace *ns, int cmd, void *out);
	/* Fill ds (zeroed, perm already set) for the STAT commands. */
	void (*stat)(struct ipc_obj *o, void *ds);
	/* IPC_SET of the kind's own fields, after the owner check: 0 or
	 * -errno (nothing changed); the perm fields and ctime follow. */
	int (*set)(struct task *t, struct ipc_obj *o, const void *ds);
	void (*set_ctime)(struct ipc_obj *o, int64_t now);
	void (*rmid)(struct ipc_namespace *ns, struct ipc_obj *o);
	/* /proc/sysvipc/<name>: header line and one line per object. */
	const char *proc_name, *proc_header;
	int (*proc_line)(struct ipc_obj *o, char *buf, size_t size);
};

extern const struct ipc_ctl_ops shm_ctl_ops, sem_ctl_ops, msg_ctl_ops;

/* One of the shared *ctl commands (cmd without IPC_64), or -EINVAL. */
long ipc_ctl_common(struct task *t, struct ipc_namespace *ns,
		    const struct ipc_ctl_ops *ops, int id, int cmd,
		    uint64_t buf);

/* Message memory accounting (msg.c, mqueue.c). */
int ipc_msg_charge(struct ipc_namespace *ns, uint64_t bytes);
void ipc_msg_uncharge(struct ipc_namespace *ns, uint64_t bytes);

/* Teardown of each kind (ns.c calls them). */
void shm_ns_free(struct ipc_namespace *ns);
void sem_ns_free(struct ipc_namespace *ns);
void msg_ns_free(struct ipc_namespace *ns);
void mq_ns_free(struct ipc_namespace *ns);
void sem_exit_locked(struct ipc_namespace *ns, int tgid);
void shm_exit_reap(struct ipc_namespace *ns);

/* Entry points called by the syscall handlers (raw syscall arguments). */
long shm_get(struct task *t, int key, uint64_t size, int flg);
long shm_at(struct task *t, int id, uint64_t addr, int flg);
long shm_dt(struct task *t, uint64_t addr);
long shm_ctl(struct task *t, int id, int cmd, uint64_t buf);
long sem_get(struct task *t, int key, int nsems, int flg);
long sem_timedop(struct task *t, int id, uint64_t sops, uint64_t nsops,
		 uint64_t timeout);
long sem_ctl(struct task *t, int id, int num, int cmd, uint64_t arg);
long msg_get(struct task *t, int key, int flg);
long msg_snd(struct task *t, int id, uint64_t msgp, uint64_t sz, int flg);
long msg_rcv(struct task *t, int id, uint64_t msgp, uint64_t sz, long typ,
	     int flg);
long msg_ctl(struct task *t, int id, int cmd, uint64_t buf);
long pmq_open(struct task *t, uint64_t name, int oflag, uint32_t mode,
	     uint64_t attr);
long pmq_unlink(struct task *t, uint64_t name);
long pmq_timedsend(struct task *t, int fd, uint64_t msg, uint64_t len,
		  uint32_t prio, uint64_t timeout);
long pmq_timedreceive(struct task *t, int fd, uint64_t msg, uint64_t len,
		     uint64_t prio, uint64_t timeout);
long pmq_notify(struct task *t, int fd, uint64_t sev);
long pmq_getsetattr(struct task *t, int fd, uint64_t newattr, uint64_t oldattr);

#endif

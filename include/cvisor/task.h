/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tasks and the sandbox kernel.
 *
 * struct kernel is one per sandbox: the memory file, the platform, the VFS,
 * PID allocation. struct task is one per workload thread; one host thread runs
 * each task's loop (sentry/kernel/task.c). Fields of a task are touched only
 * by its own host thread unless a comment says otherwise.
 *
 * Locking order: kernel->lock (task list, PIDs) before mm->lock before
 * memfile lock. Nothing here is global: everything hangs off struct kernel.
 */
#ifndef CVISOR_TASK_H
#define CVISOR_TASK_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "cvisor/platform.h"

struct file;
struct fdtable;
struct fs_struct;
struct memfile;
struct mm;
struct vfs;

#define CV_NSIG 64
#define CV_RLIM_NLIMITS 16

struct cred {
	uint32_t ruid, euid, suid, fsuid;
	uint32_t rgid, egid, sgid, fsgid;
	int ngroups;
	uint32_t groups[32];
};

/* Linux's struct k_sigaction layout for rt_sigaction (x86-64). */
struct cv_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

struct kernel {
	pthread_mutex_t lock;
	struct memfile *mf;
	struct platform *platform;
	struct vfs *vfs;
	int next_pid;
	int nr_tasks;
	char hostname[65];
	char domainname[65];
	uint64_t boot_ns;	/* monotonic time at sandbox start */
	/* Names reported once as unimplemented (bitmap over syscall nr). */
	uint64_t enosys_reported[8];
	/* Signal sent to the whole sandbox from outside (cvisor kill, ^C):
	 * read by task loops after STOP_INTERRUPTED. Atomic. */
	int kill_sig;
	struct task *init;	/* under lock */
	struct rlimit default_rlimits[CV_RLIM_NLIMITS];
};

struct task {
	struct kernel *k;
	int tid, tgid, ppid, pgid, sid;
	pid_t host_tid;		/* the host thread running task_run(); atomic */
	struct mm *mm;
	struct fdtable *fdt;
	struct fs_struct *fs;
	struct platform_ctx *ctx;
	cpu_regs_t regs;
	struct cred cred;

	/* Signals: recorded now, delivered by the processes issue. */
	struct cv_sigaction sigactions[CV_NSIG];
	uint64_t sigmask;
	uint64_t sigaltstack_sp, sigaltstack_size;
	int sigaltstack_flags;

	uint64_t clear_child_tid;
	uint64_t robust_list, robust_list_len;
	struct rlimit rlimits[CV_RLIM_NLIMITS];
	char comm[16];

	/* task_block/task_wake (sentry/kernel/sched.c). */
	pthread_mutex_t block_lock;
	pthread_cond_t block_cond;	/* CLOCK_MONOTONIC */
	bool wake_pending;

	/* Set when the task must stop running: exit(2), fatal signal. */
	bool exiting;
	int exit_status; /* wait(2) status word */
};

int kernel_new(const char *platform_name, struct kernel **out);
void kernel_destroy(struct kernel *k);

/* Start the initial task from an executable and wait for the sandbox to end.
 * Returns the wait status of the init task (as from waitpid). */
struct task_start {
	const char *path;	/* executable, resolved in the sandbox */
	char *const *argv;
	char *const *envp;
	const char *cwd;
	bool cwd_optional;	/* an unreachable cwd falls back to "/" */
	int stdio[3];		/* host fds for the workload's 0,1,2 */
};
int kernel_run_init(struct kernel *k, const struct task_start *ts,
		    int *wait_status);

/* Host signal that knocks a task thread out of a blocking host call
 * (nanosleep, read of a host fd) with EINTR; its handler does nothing. */
#define CV_SIG_INTERRUPT (SIGRTMIN + 1)

/* Deliver sig to every task of the sandbox from outside (thread-safe, not
 * async-signal-safe: call it from a signal-waiting thread). */
void kernel_kill(struct kernel *k, int sig);

/* Blocking (see include/cvisor/waitq.h for the pattern). task_block waits
 * until task_wake(), a deliverable signal, the sandbox being killed, or the
 * absolute CLOCK_MONOTONIC deadline (NULL = none). Returns 0 when woken,
 * -ETIMEDOUT, or -EINTR when a signal (or kill) is pending: the caller then
 * returns -EINTR or a restart code. task_wake is callable from any thread. */
struct timespec;
int task_block(struct task *t, const struct timespec *deadline);
void task_wake(struct task *t);
/* Initialise/destroy the blocking state of a new task. */
void task_sched_init(struct task *t);
void task_sched_destroy(struct task *t);

/* Run a task's loop until it exits (sentry/kernel/task.c). */
void task_run(struct task *t);

/* Mark the task (and for now its whole sandbox) as exiting with a status. */
void task_exit(struct task *t, int wait_status);

#endif

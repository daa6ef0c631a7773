/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tasks, processes and the sandbox kernel.
 *
 * struct kernel is one per sandbox: the memory file, the platform, the VFS,
 * PID allocation, the task list. struct task is one per workload thread; one
 * host thread runs each task's loop (sentry/kernel/task.c) and creates that
 * task's platform context (and the address spaces it creates: ptrace tracer
 * rule, PDEATHSIG of stubs). struct process is the thread group (Linux's
 * signal_struct + the pid/tree parts of task_struct): shared by CLONE_THREAD.
 * An address space (struct mm) is shared by CLONE_VM tasks with mm_get/
 * mm_put; fork copies it with mm_fork on the parent's thread.
 *
 * Locking order:
 *   kernel->lock  (task list, PIDs, process tree, thread lists, exit state,
 *                  pgid/sid)
 *   -> sighand->lock (cvisor/signal.h); task_wake takes no lock
 *   kernel->futex_lock is a separate leaf-ish lock: futex.c takes it and then
 *   mm->lock (reading the futex word) or kernel->lock (the owner look-up of
 *   FUTEX_LOCK_PI); never with kernel->lock held.
 *   mm->lock -> memfile lock (cvisor/mm.h). kernel->lock is never held while
 *   calling into mm, vfs or the platform (except ctx_interrupt, which is
 *   callable from anywhere).
 * Fields of a task are touched only by its own host thread unless a comment
 * says otherwise. Nothing here is global: everything hangs off struct kernel.
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
#include "cvisor/signal.h"
#include "cvisor/util.h"
#include "cvisor/waitq.h"

struct file;
struct fdtable;
struct fs_struct;
struct memfile;
struct mm;
struct vfs;
struct futex_table;
struct timer_service;
struct ipc_namespace;

#define CV_NSIG 64
#define CV_RLIM_NLIMITS 16
#define CV_NGROUPS_MAX 1024	/* Linux allows 65536; more gives ENOMEM */
#define CV_TASK_COMM_LEN 16
/* Sandbox-wide cap on tasks (threads), like kernel.threads-max. */
#define CV_MAX_TASKS 4096
/* PIDs wrap here (like /proc/sys/kernel/pid_max's default on small hosts). */
#define CV_PID_MAX 32768

struct cred {
	uint32_t ruid, euid, suid, fsuid;
	uint32_t rgid, egid, sgid, fsgid;
	uint64_t cap_inheritable, cap_permitted, cap_effective, cap_bset,
		cap_ambient;
	unsigned int securebits;	/* SECBIT_KEEP_CAPS only */
	int ngroups;
	uint32_t groups[CV_NGROUPS_MAX];	/* sorted (groups_sort) */
};

struct kernel {
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* with lock: task counts, vm counts */
	struct memfile *mf;
	struct platform *platform;
	struct vfs *vfs;
	struct timer_service *timers;	/* signals engineer (timers.c) */
	int next_pid;
	int nr_tasks;		/* live tasks (threads), under lock */
	int nr_host_threads;	/* task host threads still running */
	struct list_head tasks;	/* every task with a PID: task->k_link */
	struct list_head processes;	/* every process: process->k_link */
	struct list_head dead_tasks;	/* released, to task_put unlocked */
	char hostname[65];
	char domainname[65];
	uint64_t boot_ns;	/* monotonic time at sandbox start */
	/* Names reported once as unimplemented (bitmap over syscall nr). */
	uint64_t enosys_reported[8];
	/* Signal sent to the whole sandbox from outside (cvisor kill, ^C):
	 * read by task loops after STOP_INTERRUPTED. Atomic. */
	int kill_sig;
	/* Init (pid 1) has exited: every task is being killed. Atomic. */
	int shutting_down;
	struct task *init;	/* under lock */
	struct rlimit default_rlimits[CV_RLIM_NLIMITS];
	pthread_mutex_t futex_lock;
	struct futex_table *futex;	/* sentry/kernel/futex.c */
	/* syslog: the sentry's kernel log ring (sentry/kernel/syslog.c),
	 * made on first use; read by syslog(2) and /dev/kmsg. Atomic. */
	struct syslog *syslog;
	/* System V IPC and POSIX message queues (sentry/ipc/, cvisor/ipc.h):
	 * the sandbox's IPC namespace, made on first use. Atomic. */
	struct ipc_namespace *ipc;
};

enum process_state {
	PROC_RUNNING,	/* at least one thread alive */
	PROC_ZOMBIE,	/* every thread exited, not yet reaped */
	PROC_DEAD,	/* reaped (or auto-reaped); off every list */
};

/* A thread group (a process). Fields under kernel->lock unless noted. */
struct process {
	int refs;			/* atomic: member tasks + 1 until reaped */
	int tgid;
	struct task *leader;
	struct list_head threads;	/* task->thread_link */
	int nr_threads;			/* threads not yet exited */
	struct process *parent;		/* NULL for init */
	struct list_head children;	/* process->sibling */
	struct list_head sibling;
	struct list_head k_link;	/* kernel->processes */
	int pgid, sid;
	int exit_signal;	/* sent to the parent at exit (0: none) */
	enum process_state state;
	int exit_status;	/* wait status once ZOMBIE */
	bool group_exiting;	/* exit_group/fatal signal under way; atomic */
	int group_exit_status;
	bool did_exec;		/* setpgid: EACCES on a child after exec */
	bool dumpable;		/* PR_SET_DUMPABLE (per mm in Linux) */
	bool is_child_subreaper, has_child_subreaper;
	/* wait4/waitid sleepers of this process (Linux's wait_chldexit). */
	struct waitq child_wait;
	/* pidfd pollers (Linux's pid->wait_pidfd): woken when the process
	 * becomes a zombie and when it is reaped. */
	struct waitq pidfd_wq;
	/* execve by a non-leader: the thread that waits in de_thread. */
	struct task *exec_waiter;
	/* itimers live in the signals engineer's signal_group. */
	/* Controlling terminal (vfs/fs/tty.c): a terminal belongs to a
	 * session (tty->session), so the process's terminal is its
	 * session's unless it gave it up with TIOCNOTTY (not a leader). Not
	 * copied by fork (a gap: the child has the session's terminal). */
	bool tty_dropped;
};

struct vfork_done;

struct task {
	struct kernel *k;
	int tid, tgid;		/* tid under kernel->lock (exec swaps it) */
	int ppid, pgid, sid;	/* cached copies, read-only for others' code:
				   use process_*() for the live values */
	pid_t host_tid;		/* the host thread running task_run(); atomic */
	int refs;		/* atomic: host thread + PID/list membership */
	struct process *proc;
	struct mm *mm;		/* one mm reference */
	struct fdtable *fdt;
	struct fs_struct *fs;
	struct platform_ctx *ctx;
	cpu_regs_t regs;
	struct cred cred;

	/* Signals (struct task_signal in cvisor/signal.h: mask, pending set,
	 * shared handlers and thread-group state). */
	struct task_signal sig;

	uint64_t clear_child_tid;
	uint64_t robust_list, robust_list_len;
	/* Process-wide in Linux: every thread keeps a copy and prlimit
	 * updates all copies of the process under kernel->lock. */
	struct rlimit rlimits[CV_RLIM_NLIMITS];
	char comm[CV_TASK_COMM_LEN];
	int pdeath_signal;	/* PR_SET_PDEATHSIG */
	bool no_new_privs;

	struct list_head k_link;	/* kernel->tasks, under kernel->lock */
	struct list_head thread_link;	/* proc->threads */
	/* CLONE_VFORK: released at exec or exit (under kernel->lock). */
	struct vfork_done *vfork_done;

	/* task_block/task_wake (sentry/kernel/sched.c): a futex word,
	 * 0 idle, 1 wake pending, 2 the task sleeps on it. */
	uint32_t block_word;
	int waker_cpu;		/* CPU of the last task_wake(); atomic */

	/* Page faults served for this thread since its last exec (ru_minflt,
	 * ru_majflt; procinfo.c): written by its own thread, atomic. */
	uint64_t min_flt, maj_flt;

	/* Set when the task must stop running: exit(2), fatal signal. */
	bool exiting;
	bool killed;	/* set by others (group exit, de_thread); atomic */
	bool exited;	/* do_exit done; under kernel->lock */
	int exit_status; /* wait(2) status word */
};

int kernel_new(const char *platform_name, struct kernel **out);
void kernel_destroy(struct kernel *k);

/* Start the initial task from an executable and wait for the sandbox to end
 * (init exits: every other task is killed, like a PID namespace). Returns
 * the wait status of the init task (as from waitpid). */
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

/* Task lookup. Called WITH k->lock held; the pointer is valid until the
 * lock is dropped (task_get() keeps it longer). Zombie leaders are found;
 * exited non-leader threads are not. */
struct task *kernel_find_task(struct kernel *k, int tid);
/* Every task with a PID, WITH k->lock held. */
void kernel_for_each_task(struct kernel *k, void (*fn)(struct task *, void *),
			  void *arg);
/* Every thread of t's process, WITH k->lock held. */
void process_for_each_thread(struct task *t,
			     void (*fn)(struct task *, void *), void *arg);
void task_get(struct task *t);
void task_put(struct task *t);

/* Knock a task out of the workload / a block / a host call so it looks at
 * its state again (any thread; k->lock may be held). */
void task_kick(struct task *t);

/* Blocking (see include/cvisor/waitq.h for the pattern). task_block waits
 * until task_wake(), a deliverable signal, the task being killed, or the
 * absolute CLOCK_MONOTONIC deadline (NULL = none). Returns 0 when woken,
 * -ETIMEDOUT, or -EINTR when a signal (or kill) is pending: the caller then
 * returns -EINTR or a restart code. task_wake is callable from any thread.
 * task_block_killable only returns -EINTR when the task must die. */
struct timespec;
int task_block(struct task *t, const struct timespec *deadline);
int task_block_killable(struct task *t, const struct timespec *deadline);
void task_wake(struct task *t);
/* Initialise/destroy the blocking state of a new task. */
void task_sched_init(struct task *t);
void task_sched_destroy(struct task *t);
/* Must the task stop (killed, group exit, sandbox shutdown/kill)? */
bool task_must_die(struct task *t);

/* Run a task's loop until it exits (sentry/kernel/task.c). */
void task_run(struct task *t);

/* End this thread only (exit(2)) with a wait status. */
void task_exit(struct task *t, int wait_status);
/* End every thread of t's process (exit_group(2), fatal signal), like
 * do_group_exit. Callable from any thread; the first status wins. */
void task_group_exit(struct task *t, int wait_status);
/* Exit processing on the task's own host thread after task_run returns
 * (sentry/kernel/exit.c): robust list, clear_child_tid, vfork release,
 * resources, zombie/reap, SIGCHLD, reparenting, sandbox end at init. */
void task_do_exit(struct task *t);

/* The group of `child` stopped or continued (signals engineer): wake its
 * parent's waiters. */
void process_child_state_changed(struct task *child);

/* A session leader's process is exiting (vfs/fs/tty.c, like
 * disassociate_ctty(1)): its terminal's foreground group gets SIGHUP and
 * the session loses the terminal. Call without k->lock, before the
 * process becomes a zombie. */
void tty_session_leader_exit(struct task *t);

/* Live process-tree values (take k->lock). */
int process_getppid(struct task *t);
int process_getpgid(struct task *t);
int process_getsid(struct task *t);

/* fork/clone (sentry/kernel/process.c). flags are CLONE_* | exit signal;
 * Returns the child's tid or -errno. */
struct clone_params {
	uint64_t flags;
	int exit_signal;
	uint64_t stack;		/* new rsp, 0 = same */
	uint64_t parent_tid, child_tid, tls;
	uint64_t pidfd;		/* CLONE_PIDFD: where the new fd goes */
};
long process_clone(struct task *t, const struct clone_params *cp);

/* pidfds (sentry/syscalls/sys_pidfd.c, the file in vfs/anon/pidfd.c).
 * pidfd_install: a new pidfd (O_CLOEXEC) for p in t's fd table, its number
 * written as an int to uaddr unless 0: the fd or -errno. pidfd_get_tgid: the tgid a pidfd refers to (0 once reaped) or
 * -EBADF; *f_flags gets the file's status flags (PIDFD_NONBLOCK). */
int pidfd_install(struct task *t, struct process *p, uint64_t uaddr);
int pidfd_get_tgid(struct task *t, int fd, unsigned int *f_flags);

/* CPU usage (sentry/kernel/procinfo.c). task_cputimes: one thread, user =
 * its workload thread (platform ctx_cputime), sys = the sentry host thread
 * serving it; callers hold kernel->lock or are t's own thread (the
 * platform call only reads /proc and takes no sentry lock).
 * process_rusage: RUSAGE_SELF (live threads + exited ones), RUSAGE_THREAD,
 * RUSAGE_CHILDREN (reaped children), for getrusage(2) and times(2).
 * Takes kernel->lock for RUSAGE_SELF. */
void task_cputimes(struct task *t, uint64_t *user, uint64_t *sys);
void process_rusage(struct task *t, int who, struct rusage *ru);
/* /proc/[pid]/stat: utime, stime, cutime, cstime in ns of t's thread
 * (thread) or process, for a task of any process (takes kernel->lock). */
void procinfo_cputimes(struct task *t, bool thread, uint64_t ns[4]);
/* ... and minflt, cminflt, majflt, cmajflt. */
void procinfo_faults(struct task *t, bool thread, uint64_t flt[4]);
/* mm_fault for a fault of t's workload thread, counted as a minor fault
 * or, when it read a file, a major one. */
int task_mm_fault(struct task *t, uint64_t addr, int access);
/* Exit (and execve, for the context it drops): fold t's usage into its
 * group (k->lock held, in the section that clears or swaps t->ctx;
 * user/sys/rss_kb measured just before by the caller). */
void task_account_exit_locked(struct task *t, uint64_t user, uint64_t sys,
			      uint64_t rss_kb);
/* wait: the usage of zombie c (its threads and its reaped children), and
 * the parent's children totals when c is reaped (k->lock held). */
void process_zombie_rusage(const struct process *c, struct rusage *ru);
void process_reap_account_locked(struct process *parent, struct process *c);

/* wait4/waitid core (sentry/kernel/wait.c): the pid reported, 0, or
 * -errno (-ERESTARTSYS when a signal interrupts the wait). */
long process_wait4(struct task *t, int pid, int options, int *status,
		   struct rusage *ru);
long process_waitid(struct task *t, int which, int id, int options,
		    siginfo_t *info, struct rusage *ru);

/* execve core (sentry/kernel/exec.c) on workload pointers; returns 0
 * (regs are the new image's) or -errno with the old image intact. */
long process_execve(struct task *t, int dirfd, uint64_t upath, uint64_t uargv,
		    uint64_t uenvp, int flags);

/* Futexes (sentry/kernel/futex.c). */
int futex_table_new(struct futex_table **out);
void futex_table_free(struct futex_table *ft);
long futex_op(struct task *t, uint64_t uaddr, int op, uint32_t val,
	      uint64_t timeout, uint64_t uaddr2, uint32_t val3);
/* Wake up to n waiters of the private futex at uaddr in mm. */
int futex_wake(struct kernel *k, struct mm *mm, uint64_t uaddr, int n);
/* exit: walk the robust list (kernel/futex/core.c exit_robust_list). */
void futex_exit_robust_list(struct task *t);

/* ---- Internal to sentry/kernel/ (process.c, exit.c, wait.c, exec.c) ---- */
int process_create_init(struct kernel *k, struct task **out);
/* Reap: unlink p (a zombie, or anything at teardown) from every list, state
 * DEAD; its leader goes to kernel->dead_tasks. k->lock held. */
void process_release_locked(struct process *p);
/* task_put every task on kernel->dead_tasks (k->lock NOT held). */
void process_release_flush(struct kernel *k);
void process_get(struct process *p);
void process_put(struct process *p);
/* Release a vfork parent waiting on t (k->lock held). */
void task_vfork_release_locked(struct task *t);

/* ---- procfs accessors (sentry/kernel/procinfo.c) ----
 * References on another task's mm, fd table and fs_struct, taken under
 * kernel->lock while the task still has its platform context (task_do_exit
 * clears it under kernel->lock before dropping them). Fields not asked for
 * or already released (zombies) are NULL. procinfo_put drops all. */
#define PROCINFO_MM 0x1
#define PROCINFO_FDT 0x2
#define PROCINFO_FS 0x4
struct task_refs {
	struct task *t;
	struct mm *mm;
	struct fdtable *fdt;
	struct fs_struct *fs;
};
int procinfo_get(struct kernel *k, int tid, unsigned int want,
		 struct task_refs *out);
void procinfo_put(struct task_refs *r);
/* The argv (env false) or envp strings of mm's initial stack, NUL
 * separated, as /proc/[pid]/cmdline and environ show them; malloc'ed. */
int procinfo_args(struct mm *mm, bool env, char **buf, size_t *len);

struct syslog;

/* Credentials (sentry/kernel/creds.c). */
void cred_init_root(struct cred *c);
bool cred_capable(const struct cred *c, int cap);
/* execve: creds of the new image (no set-id or file capabilities). */
void cred_exec(struct cred *c);

#endif

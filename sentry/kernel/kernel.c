// SPDX-License-Identifier: GPL-2.0
/*
 * The sandbox kernel: creation, the task table, the init task, teardown.
 *
 * Locks: kernel->lock guards the task and process lists, PID allocation,
 * the process tree, hostname and kill_sig updates. It is taken before a
 * sighand lock (task blocking takes no lock: sched.c), and is never held while calling into
 * mm, vfs or the platform (ctx_interrupt excepted: callable from anywhere).
 * The init task runs on kernel_run_init's caller thread, every other task on
 * a host thread of its own (process.c); kernel_run_init returns once init's
 * process has ended and every task host thread has finished.
 * References: kernel->tasks holds one reference on each task listed (see
 * process.c for the rest).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cvisor/ipc.h"
#include "cvisor/loader.h"
#include "cvisor/log.h"
#include "cvisor/mm.h"
#include "cvisor/signal.h"
#include "cvisor/syslog.h"
#include "cvisor/task.h"
#include "cvisor/util.h"
#include "cvisor/vfs.h"

/* 64 GiB of address space for the memory file; pages are allocated sparsely. */
#define MEMFILE_MAX (64ULL << 30)

static void interrupt_handler(int sig)
{
	(void)sig;
}

int kernel_new(const char *platform_name, struct kernel **out)
{
	struct sigaction sa = { .sa_handler = interrupt_handler };
	const struct platform_ops *ops = platform_lookup(platform_name);
	struct platform_config cfg = { 0 };
	struct kernel *k;
	int err;

	if (!ops)
		return -ENODEV;
	/* No SA_RESTART: blocking host calls must return EINTR. */
	sigemptyset(&sa.sa_mask);
	sigaction(CV_SIG_INTERRUPT, &sa, NULL);
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	pthread_mutex_init(&k->lock, NULL);
	pthread_cond_init(&k->cond, NULL);
	pthread_mutex_init(&k->futex_lock, NULL);
	list_init(&k->tasks);
	list_init(&k->processes);
	list_init(&k->dead_tasks);
	k->next_pid = 1;
	k->boot_ns = util_now_ns();
	if (gethostname(k->hostname, sizeof(k->hostname) - 1))
		strcpy(k->hostname, "cvisor");
	strcpy(k->domainname, "(none)");
	for (int i = 0; i < CV_RLIM_NLIMITS && i < RLIM_NLIMITS; i++)
		getrlimit(i, &k->default_rlimits[i]);
	err = futex_table_new(&k->futex);
	if (err)
		goto fail;
	err = memfile_new(MEMFILE_MAX, &k->mf);
	if (err)
		goto fail;
	cfg.memfd = memfile_fd(k->mf);
	cfg.debug = cv_log.level >= LOG_DEBUG;
	err = ops->init(&cfg, &k->platform);
	if (err)
		goto fail;
	*out = k;
	return 0;
fail:
	kernel_destroy(k);
	return err;
}

void kernel_destroy(struct kernel *k)
{
	if (!k)
		return;
	if (k->vfs)
		vfs_destroy(k->vfs);
	if (k->platform)
		k->platform->ops->destroy(k->platform);
	ipc_ns_free(k);	/* shm segments hold memory-file frames */
	if (k->mf)
		memfile_destroy(k->mf);
	if (k->futex)
		futex_table_free(k->futex);
	syslog_free(k);
	pthread_mutex_destroy(&k->futex_lock);
	pthread_cond_destroy(&k->cond);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

struct task *kernel_find_task(struct kernel *k, int tid)
{
	struct task *t;

	if (tid <= 0)
		return NULL;
	list_for_each_entry(t, &k->tasks, k_link)
		if (t->tid == tid)
			return t;
	return NULL;
}

void kernel_for_each_task(struct kernel *k, void (*fn)(struct task *, void *),
			  void *arg)
{
	struct task *t, *tmp;

	list_for_each_entry_safe(t, tmp, &k->tasks, k_link)
		fn(t, arg);
}

void process_for_each_thread(struct task *t,
			     void (*fn)(struct task *, void *), void *arg)
{
	struct task *th, *tmp;

	list_for_each_entry_safe(th, tmp, &t->proc->threads, thread_link)
		fn(th, arg);
}

void task_kick(struct task *t)
{
	pid_t tid;

	if (t->ctx)
		t->k->platform->ops->ctx_interrupt(t->ctx);
	task_wake(t);
	/* Knock the task thread out of a blocking host call; a kick that
	 * lands before the call is seen through the task's state, which the
	 * thread checks before blocking again. */
	tid = __atomic_load_n(&t->host_tid, __ATOMIC_SEQ_CST);
	if (tid > 0)
		syscall(SYS_tgkill, getpid(), tid, CV_SIG_INTERRUPT);
}

static void kick_fn(struct task *t, void *arg)
{
	(void)arg;
	if (!t->exited)
		task_kick(t);
}

void kernel_kill(struct kernel *k, int sig)
{
	pthread_mutex_lock(&k->lock);
	if (!k->kill_sig)
		__atomic_store_n(&k->kill_sig, sig, __ATOMIC_SEQ_CST);
	kernel_for_each_task(k, kick_fn, NULL);
	pthread_mutex_unlock(&k->lock);
}

static const char *default_path =
	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

static const char *env_lookup(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (!strncmp(*envp, name, n) && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/* Shell conventions for a command that cannot run: 127 not found, 126
 * found but not executable. */
static int start_error_status(int err)
{
	return (err == -ENOENT || err == -ENOTDIR) ? 127 : 126;
}

/* Load the init image into t (mm, regs, comm). Sets *wait_status and
 * returns 1 when the command cannot run (the sandbox then ends). */
static int init_load(struct kernel *k, struct task *t,
		     const struct task_start *ts, int *wait_status)
{
	char resolved[4096], errbuf[256] = "";
	struct loader_args la = { 0 };
	struct file *exe = NULL;
	const char *path = ts->path;
	const char *base;
	int err;

	err = mm_new(k->mf, k->platform, &t->mm);
	if (err)
		return err;
	if (!strchr(path, '/')) {
		const char *pv = env_lookup(ts->envp, "PATH");

		err = vfs_find_in_path(t, path, pv ? pv : default_path,
				       resolved, sizeof(resolved));
		if (err) {
			fprintf(stderr, "cvisor: %s: command not found\n", path);
			*wait_status = 127 << 8;
			return 1;
		}
		path = resolved;
	}
	err = vfs_open_exec(t, path, &exe);
	if (err) {
		fprintf(stderr, "cvisor: %s: %s\n", path, strerror(-err));
		*wait_status = start_error_status(err) << 8;
		return 1;
	}
	la.file = exe;
	la.exec_path = ts->path;
	la.argv = ts->argv;
	la.envp = ts->envp;
	/* ld.so of a dynamic executable is opened the way the program was. */
	la.open_interp = loader_open_exec;
	la.open_ctx = t;
	err = loader_load(t->mm, &la, &t->regs, errbuf, sizeof(errbuf));
	vfs_file_put(exe);
	if (err) {
		fprintf(stderr, "cvisor: %s: cannot execute: %s%s%s\n", path,
			strerror(-err), errbuf[0] ? ": " : "", errbuf);
		*wait_status = 126 << 8;
		return 1;
	}
	/* comm is truncated to 15 bytes like Linux's TASK_COMM_LEN. */
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	memset(t->comm, 0, sizeof(t->comm));
	memcpy(t->comm, base, MIN(strlen(base), sizeof(t->comm) - 1));
	return 0;
}

static int init_setup(struct kernel *k, struct task *t,
		      const struct task_start *ts)
{
	int err;

	err = fs_struct_new(k->vfs, &t->fs);
	if (!err && ts->cwd) {
		err = fs_struct_chdir(t->fs, ts->cwd);
		if (err && ts->cwd_optional) {
			log_debug("cwd %s not reachable in the sandbox (%s); using /",
				  ts->cwd, strerror(-err));
			err = 0;
		}
	}
	if (err) {
		fprintf(stderr, "cvisor: cannot change to directory %s: %s\n",
			ts->cwd, strerror(-err));
		return err;
	}
	err = fdtable_new(&t->fdt);
	for (int i = 0; !err && i < 3; i++)
		if (ts->stdio[i] >= 0)
			err = fdtable_install_host(t->fdt, i, ts->stdio[i]);
	return err;
}

/* The sandbox is over: free what is left (zombies nobody reaped). */
static void kernel_reap_all(struct kernel *k)
{
	struct process *p, *ptmp;

	pthread_mutex_lock(&k->lock);
	list_for_each_entry_safe(p, ptmp, &k->processes, k_link)
		process_release_locked(p);
	pthread_mutex_unlock(&k->lock);
	process_release_flush(k);
}

int kernel_run_init(struct kernel *k, const struct task_start *ts,
		    int *wait_status)
{
	struct process *p;
	struct task *t;
	int err, r = -1;

	err = process_create_init(k, &t);
	if (err)
		return err;
	p = t->proc;
	err = init_setup(k, t, ts);
	if (!err) {
		r = init_load(k, t, ts, wait_status);
		if (r < 0)
			err = r;
		else if (r == 0)
			err = k->platform->ops->ctx_new(mm_platform_as(t->mm), &t->ctx);
		else
			r = -1;
		if (err)
			fprintf(stderr, "cvisor: cannot start: %s\n", strerror(-err));
		if (err || r)
			task_exit(t, SIGKILL);
	} else {
		task_exit(t, SIGKILL);
	}
	pthread_mutex_lock(&k->lock);
	k->init = t;
	pthread_mutex_unlock(&k->lock);
	/* A kill that raced with start-up is honoured by the task loop. */
	if (!t->exiting)
		task_run(t);
	task_do_exit(t);

	/* Init's process ends when its last thread does; then every task is
	 * killed (exit.c) and we wait for their host threads. */
	pthread_mutex_lock(&k->lock);
	while (p->state == PROC_RUNNING || k->nr_host_threads > 0)
		pthread_cond_wait(&k->cond, &k->lock);
	if (!err && r == 0)
		*wait_status = p->exit_status;
	k->init = NULL;
	pthread_mutex_unlock(&k->lock);
	task_put(t);	/* the "host thread" reference of init */
	kernel_reap_all(k);
	return err;
}

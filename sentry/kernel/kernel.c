// SPDX-License-Identifier: GPL-2.0
/*
 * The sandbox kernel: creation, the init task, teardown.
 *
 * Locks: kernel->lock guards the task list, PID allocation, hostname and
 * kill_sig updates; it is never held while calling into mm, vfs or the
 * platform. The init task is owned by kernel_run_init's caller thread (the
 * ptrace tracer rule: the thread that creates an address space drives it).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cvisor/loader.h"
#include "cvisor/log.h"
#include "cvisor/mm.h"
#include "cvisor/signal.h"
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
	k->next_pid = 1;
	k->boot_ns = util_now_ns();
	if (gethostname(k->hostname, sizeof(k->hostname) - 1))
		strcpy(k->hostname, "cvisor");
	strcpy(k->domainname, "(none)");
	for (int i = 0; i < CV_RLIM_NLIMITS && i < RLIM_NLIMITS; i++)
		getrlimit(i, &k->default_rlimits[i]);
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
	if (k->mf)
		memfile_destroy(k->mf);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

void kernel_kill(struct kernel *k, int sig)
{
	struct task *init;

	pthread_mutex_lock(&k->lock);
	if (!k->kill_sig)
		__atomic_store_n(&k->kill_sig, sig, __ATOMIC_SEQ_CST);
	init = k->init;
	if (init && init->ctx)
		k->platform->ops->ctx_interrupt(init->ctx);
	if (init)
		task_wake(init);
	if (init) {
		pid_t tid = __atomic_load_n(&init->host_tid, __ATOMIC_SEQ_CST);

		/* Knock the task thread out of a blocking host call; a
		 * signal arriving before the call is seen through kill_sig,
		 * which the thread checks before blocking again. */
		if (tid > 0)
			syscall(SYS_tgkill, getpid(), tid, CV_SIG_INTERRUPT);
	}
	pthread_mutex_unlock(&k->lock);
}

static void task_free(struct task *t)
{
	if (t->ctx)
		t->k->platform->ops->ctx_release(t->ctx);
	if (t->mm)
		mm_destroy(t->mm);
	if (t->fdt)
		fdtable_put(t->fdt);
	if (t->fs)
		fs_struct_put(t->fs);
	signal_task_free(t);
	task_sched_destroy(t);
	free(t);
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

int kernel_run_init(struct kernel *k, const struct task_start *ts,
		    int *wait_status)
{
	char resolved[4096], errbuf[256] = "";
	struct loader_args la = { 0 };
	struct file *exe = NULL;
	const char *path = ts->path;
	struct task *t;
	int err;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->k = k;
	task_sched_init(t);
	pthread_mutex_lock(&k->lock);
	t->tid = t->tgid = k->next_pid++;
	k->nr_tasks++;
	pthread_mutex_unlock(&k->lock);
	t->ppid = 0;
	t->pgid = t->sid = t->tid;
	/* Root inside the sandbox (its own credentials, not the host's). */
	memset(&t->cred, 0, sizeof(t->cred));
	memcpy(t->rlimits, k->default_rlimits, sizeof(t->rlimits));
	err = signal_task_init(t, NULL, 0);
	if (err)
		goto out;
	

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
		goto out;
	}
	err = fdtable_new(&t->fdt);
	for (int i = 0; !err && i < 3; i++)
		if (ts->stdio[i] >= 0)
			err = fdtable_install_host(t->fdt, i, ts->stdio[i]);
	if (err)
		goto out;
	err = mm_new(k->mf, k->platform, &t->mm);
	if (err)
		goto out;

	if (!strchr(path, '/')) {
		const char *pv = env_lookup(ts->envp, "PATH");

		err = vfs_find_in_path(t, path, pv ? pv : default_path,
				       resolved, sizeof(resolved));
		if (err) {
			fprintf(stderr, "cvisor: %s: command not found\n", path);
			*wait_status = 127 << 8;
			err = 0;
			goto out;
		}
		path = resolved;
	}
	err = vfs_open_exec(t, path, &exe);
	if (err) {
		fprintf(stderr, "cvisor: %s: %s\n", path, strerror(-err));
		*wait_status = start_error_status(err) << 8;
		err = 0;
		goto out;
	}
	la.file = exe;
	la.exec_path = ts->path;
	la.argv = ts->argv;
	la.envp = ts->envp;
	err = loader_load(t->mm, &la, &t->regs, errbuf, sizeof(errbuf));
	vfs_file_put(exe);
	if (err) {
		fprintf(stderr, "cvisor: %s: cannot execute: %s%s%s\n", path,
			strerror(-err), errbuf[0] ? ": " : "", errbuf);
		*wait_status = 126 << 8;
		err = 0;
		goto out;
	}
	{
		const char *base = strrchr(path, '/');

		/* comm is truncated to 15 bytes like Linux's TASK_COMM_LEN. */
		base = base ? base + 1 : path;
		memcpy(t->comm, base, MIN(strlen(base), sizeof(t->comm) - 1));
	}
	err = k->platform->ops->ctx_new(mm_platform_as(t->mm), &t->ctx);
	if (err) {
		fprintf(stderr, "cvisor: cannot create a context: %s\n",
			strerror(-err));
		goto out;
	}
	pthread_mutex_lock(&k->lock);
	k->init = t;
	pthread_mutex_unlock(&k->lock);
	/* A kill that raced with start-up is honoured by the task loop. */
	task_run(t);
	pthread_mutex_lock(&k->lock);
	k->init = NULL;
	pthread_mutex_unlock(&k->lock);
	*wait_status = t->exit_status;
out:
	pthread_mutex_lock(&k->lock);
	k->nr_tasks--;
	pthread_mutex_unlock(&k->lock);
	task_free(t);
	return err;
}

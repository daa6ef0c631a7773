// SPDX-License-Identifier: GPL-2.0
/*
 * Set up and run one sandbox: gofer first (fork before any thread exists),
 * then the kernel (memory file + platform), the VFS over the gofer, the init
 * task on this thread. Signals from outside (^C, kill of cvisor) are waited
 * for by one thread and turned into kernel_kill().
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cvisor/gofer.h"
#include "cvisor/log.h"
#include "cvisor/sandbox.h"
#include "cvisor/task.h"
#include "cvisor/util.h"
#include "cvisor/vfs.h"

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
				 SIGUSR2 };

static void *signal_thread(void *arg)
{
	struct kernel *k = arg;
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		sigaddset(&set, forwarded[i]);
	for (;;) {
		int sig = sigwaitinfo(&set, NULL);

		if (sig > 0) {
			log_debug("forwarding signal %d to the sandbox", sig);
			kernel_kill(k, sig);
		}
	}
	return NULL;
}

static int status_to_exit_code(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int sandbox_run(const struct sandbox_config *cfg)
{
	struct vfs_config vcfg = { 0 };
	struct task_start ts = { 0 };
	struct kernel *k = NULL;
	pthread_t sigthr;
	bool have_sigthr = false;
	sigset_t set, oldset;
	int sock = -1, status = 0, err;
	pid_t gofer = -1;
	struct gofer_root roots[GOFER_MAX_ROOTS];
	int bind_of[GOFER_MAX_ROOTS];
	int nroots = 1;
	bool root_ro;
	_cleanup_free_ struct vfs_mount_spec *mounts = NULL;

	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		sigaddset(&set, forwarded[i]);

	/* One gofer for the root and every bind mount: each host directory
	 * is opened before its pivot_root and served on a socket of its own
	 * (own handle namespace). */
	if (cfg->nmounts < 0 || cfg->nmounts >= GOFER_MAX_ROOTS)
		return -E2BIG;
	mounts = calloc((size_t)cfg->nmounts + 1, sizeof(*mounts));
	if (!mounts)
		return -ENOMEM;
	/* The host root is written only without the overlay, as runsc's
	 * --overlay2=none; with it, writes stay in memory and the gofer
	 * serves the root read-only. */
	root_ro = cfg->root_overlay || cfg->root_readonly;
	roots[0] = (struct gofer_root){ .path = cfg->rootfs,
					.readonly = root_ro, .sock = -1 };
	for (int i = 0; i < cfg->nmounts; i++) {
		mounts[i] = cfg->mounts[i];
		mounts[i].gofer_sock = -1;
		if (!strcmp(mounts[i].type, "bind")) {
			bind_of[nroots] = i;
			roots[nroots++] = (struct gofer_root){
				.path = mounts[i].source,
				.readonly = mounts[i].readonly, .sock = -1 };
		}
	}
	err = gofer_spawn_roots(roots, nroots, &gofer);
	if (err) {
		fprintf(stderr, "cvisor: cannot start the gofer for %s%s: %s\n",
			cfg->rootfs, nroots > 1 ? " and its bind mounts" : "",
			strerror(-err));
		return err;
	}
	sock = roots[0].sock;
	for (int i = 1; i < nroots; i++)
		mounts[bind_of[i]].gofer_sock = roots[i].sock;
	/* Forwarded signals are blocked in every sentry thread from here
	 * on and picked up by signal_thread. */
	pthread_sigmask(SIG_BLOCK, &set, &oldset);
	err = kernel_new(cfg->platform, &k);
	if (err) {
		if (err == -ENODEV)
			fprintf(stderr, "cvisor: platform \"%s\" is not available\n",
				cfg->platform);
		else
			fprintf(stderr, "cvisor: cannot start the %s platform: %s\n",
				cfg->platform, strerror(-err));
		close(sock);
		for (int i = 1; i < nroots; i++)
			close(roots[i].sock);
		goto out;
	}
	vcfg.gofer_sock = sock;
	vcfg.mounts = mounts;
	vcfg.nmounts = cfg->nmounts;
	vcfg.root_readonly = root_ro;
	vcfg.root_overlay = cfg->root_overlay;
	vcfg.mf = k->mf;
	err = vfs_new(&vcfg, &k->vfs);
	if (err) {
		fprintf(stderr, "cvisor: cannot build the mount tree: %s\n",
			strerror(-err));
		goto out;
	}
	if (pthread_create(&sigthr, NULL, signal_thread, k) == 0)
		have_sigthr = true;

	ts.path = cfg->argv[0];
	ts.argv = cfg->argv;
	ts.envp = cfg->envp;
	ts.cwd = cfg->cwd;
	ts.cwd_optional = cfg->cwd_optional;
	for (int i = 0; i < 3; i++)
		ts.stdio[i] = fcntl(i, F_GETFD) >= 0 ? i : -1;
	err = kernel_run_init(k, &ts, &status);
out:
	if (have_sigthr) {
		pthread_cancel(sigthr);
		pthread_join(sigthr, NULL);
	}
	kernel_destroy(k);
	if (gofer > 0) {
		/* The gofer exits when its socket closes (vfs_destroy);
		 * make sure it is gone even if it is wedged. */
		if (waitpid(gofer, NULL, WNOHANG) == 0) {
			kill(gofer, SIGKILL);
			waitpid(gofer, NULL, 0);
		}
	}
	pthread_sigmask(SIG_SETMASK, &oldset, NULL);
	if (err)
		return err;
	return status_to_exit_code(status);
}

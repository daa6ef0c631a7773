// SPDX-License-Identifier: GPL-2.0
/*
 * Starting the gofer: fork, confine, serve.
 *
 * The child builds its own view of the world the way bubblewrap does:
 * private mount namespace (plus ipc/uts/net when permitted), the root
 * directory bind-mounted (recursively read-only when asked) and made the
 * process root with pivot_root(".", "."), the old root detached. It keeps
 * exactly three fds (the socket, the root, /proc/self/fd of the host proc
 * opened before the pivot so handles can be reopened), drops capabilities
 * to what reading an image needs, installs its seccomp filter last, then
 * serves until the sentry hangs up.
 *
 * No locks, no shared state: the parent must be single threaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cvisor/gofer.h"
#include "cvisor/util.h"
#include "gofer_impl.h"

static int make_readonly(const char *path)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

	/* mount_setattr(AT_RECURSIVE) covers submounts too (Linux 5.12);
	 * a plain MS_REMOUNT only does the top mount. */
	if (syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &attr,
		    sizeof(attr)) == 0)
		return 0;
	if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
		return -errno;
	return 0;
}

/* Keep only the capabilities needed to read any file of the image. */
static int drop_caps(void)
{
	static const cap_value_t keep[] = { CAP_DAC_OVERRIDE,
					    CAP_DAC_READ_SEARCH };
	cap_t caps = cap_init();
	int r = 0;

	if (!caps)
		return -errno;
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
		bool k = c == keep[0] || c == keep[1];

		if (!k && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 &&
		    errno != EINVAL)
			r = -errno;
	}
	if (cap_set_flag(caps, CAP_EFFECTIVE, ARRAY_SIZE(keep), keep,
			 CAP_SET) < 0 ||
	    cap_set_flag(caps, CAP_PERMITTED, ARRAY_SIZE(keep), keep,
			 CAP_SET) < 0 ||
	    cap_set_proc(caps) < 0)
		r = -errno;
	cap_free(caps);
	return r;
}

/* Close every fd except the three we keep. */
static void close_others(int a, int b, int c)
{
	int keep[3] = { a, b, c };
	unsigned int lo = 0;

	/* sort three */
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (keep[j] < keep[i]) {
				int t = keep[i];

				keep[i] = keep[j];
				keep[j] = t;
			}
	for (int i = 0; i < 3; i++) {
		if ((unsigned int)keep[i] > lo)
			syscall(SYS_close_range, lo, keep[i] - 1, 0);
		lo = keep[i] + 1;
	}
	syscall(SYS_close_range, lo, ~0U, 0);
}

/*
 * Make the (read-only) root the current directory, on a mount of its own.
 * Preferred: clone the tree detached (open_tree, Linux 5.2), set it
 * read-only recursively, and attach it over /proc (already opened, and a
 * directory every host has); chdir there. This also works for root "/",
 * where a bind onto itself would stay hidden under the process root.
 * Fallback: bind the root onto itself and chdir into it.
 */
static int attach_root(const char *root, bool readonly)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
	int tfd, r = 0;

	/* Not AT_RECURSIVE: submounts of the root (the host's /proc, /sys,
	 * /dev, /run...) must not be served — the sandbox has its own, and
	 * the host's /proc would name host processes and host files. */
	tfd = (int)syscall(SYS_open_tree, AT_FDCWD, root,
			   OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tfd >= 0) {
		if (readonly &&
		    syscall(SYS_mount_setattr, tfd, "",
			    AT_EMPTY_PATH | AT_RECURSIVE, &attr,
			    sizeof(attr)) < 0)
			r = -errno;
		if (r == 0 && syscall(SYS_move_mount, tfd, "", AT_FDCWD,
				      "/proc", MOVE_MOUNT_F_EMPTY_PATH) < 0)
			r = -errno;
		close(tfd);
		if (r == 0 && chdir("/proc") < 0)
			r = -errno;
		return r;
	}
	if (mount(root, root, NULL, MS_BIND, NULL) < 0)
		return -errno;
	if (readonly) {
		r = make_readonly(root);
		if (r < 0)
			return r;
	}
	return chdir(root) < 0 ? -errno : 0;
}

static int child_setup(const char *root, bool readonly, int sock,
		       int *rootfd, int *procfd)
{
	struct rlimit rl;
	int r;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return -errno;
	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	/* Optional isolation: fine to fail (nested containers). */
	(void)unshare(CLONE_NEWIPC);
	(void)unshare(CLONE_NEWUTS);
	(void)unshare(CLONE_NEWNET);

	/* Nothing we do may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	*procfd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*procfd < 0)
		return -errno;
	r = attach_root(root, readonly);
	if (r < 0)
		return r;
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return -errno;
	/* The old root is stacked under "."; detach it. */
	if (umount2(".", MNT_DETACH) < 0)
		return -errno;
	if (chdir("/") < 0)
		return -errno;
	*rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*rootfd < 0)
		return -errno;
	close_others(sock, *rootfd, *procfd);

	/* One handle per walked file: allow as many as the host does. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	return drop_caps();
}

int gofer_spawn(const char *root, bool readonly, int *sock, pid_t *pid)
{
	int sv[2], sync[2];
	int32_t status = 0;
	pid_t child;
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	if (pipe2(sync, O_CLOEXEC) < 0) {
		int r = -errno;

		close(sv[0]);
		close(sv[1]);
		return r;
	}
	child = fork();
	if (child < 0) {
		int r = -errno;

		close(sv[0]);
		close(sv[1]);
		close(sync[0]);
		close(sync[1]);
		return r;
	}
	if (child == 0) {
		int rootfd = -1, procfd = -1;
		int r;

		close(sv[0]);
		close(sync[0]);
		r = child_setup(root, readonly, sv[1], &rootfd, &procfd);
		/* close_others() closed sync[1] on success: report failure
		 * only; on success the pipe's EOF is the "ready". */
		if (r < 0) {
			status = r;
			if (write(sync[1], &status, sizeof(status)) < 0)
				_exit(127);
			_exit(127);
		}
		r = gofer_filter_install(readonly);
		if (r < 0)
			_exit(126);
		r = gofer_serve_fds(sv[1], rootfd, procfd, readonly);
		_exit(r < 0 ? 1 : 0);
	}
	close(sv[1]);
	close(sync[1]);
	do
		n = read(sync[0], &status, sizeof(status));
	while (n < 0 && errno == EINTR);
	close(sync[0]);
	if (n == (ssize_t)sizeof(status) && status < 0) {
		waitpid(child, NULL, 0);
		close(sv[0]);
		return status;
	}
	*sock = sv[0];
	*pid = child;
	return 0;
}

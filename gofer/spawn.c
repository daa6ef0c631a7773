// SPDX-License-Identifier: GPL-2.0
/*
 * Starting the gofer: fork, confine, serve.
 *
 * The child builds its own view of the world the way bubblewrap does:
 * private mount, pid, ipc, uts and net namespaces (all but mount optional:
 * nested containers may refuse them), with one more fork so the server is
 * pid 1 of its pid namespace while its parent waits as a confined reaper;
 * the root directory cloned onto a mount of its own (recursively read-only
 * when asked) and made the process root with pivot_root(".", "."), the old
 * root detached. The server keeps exactly three fds (the socket, the root,
 * /proc/self/fd of the host proc opened before the pivot so handles can be
 * reopened) plus its io_uring (restricted to STATX), drops capabilities to
 * what brokering needs, sets no_new_privs, installs its seccomp filter
 * last, then serves until the sentry hangs up.
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

/*
 * Keep only what brokering files of any owner needs, as root without
 * CAP_SYS_ADMIN: CAP_DAC_READ_SEARCH (read and search any file or
 * directory), plus CAP_DAC_OVERRIDE on a writable root (open for writing
 * files of any owner). Nothing inheritable or ambient; the bounding set is
 * emptied (it only matters across execve, which seccomp refuses anyway)
 * and no_new_privs is set.
 */
static int drop_caps(bool readonly)
{
	static const cap_value_t keep[] = { CAP_DAC_READ_SEARCH,
					    CAP_DAC_OVERRIDE };
	int nkeep = readonly ? 1 : 2;
	cap_t caps;
	int r = 0;

	/* PR_CAPBSET_DROP needs CAP_SETPCAP: before cap_set_proc(). */
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return -errno;
	caps = cap_init(); /* all three sets empty */
	if (!caps)
		return -errno;
	if (cap_set_flag(caps, CAP_EFFECTIVE, nkeep, keep, CAP_SET) < 0 ||
	    cap_set_flag(caps, CAP_PERMITTED, nkeep, keep, CAP_SET) < 0 ||
	    cap_set_proc(caps) < 0)
		r = -errno;
	cap_free(caps);
	if (r == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		r = -errno;
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
	/* Optional isolation: fine to fail (nested containers). No
	 * CLONE_NEWUSER: the gofer needs real root's DAC capabilities on the
	 * host files of the image, which a user namespace would not give. */
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
	return drop_caps(readonly);
}

static __attribute__((noreturn)) void child_fail(int syncfd, int32_t status)
{
	if (write(syncfd, &status, sizeof(status)) < 0)
		_exit(127);
	_exit(127);
}

/*
 * The pid namespace's reaper: the gofer's parent, outside the namespace,
 * holding no fd, under a filter that allows waiting and exiting only.
 * Exits with the gofer's status; dies with the sentry (PDEATHSIG), and the
 * gofer dies with it (its own PDEATHSIG, delivered although it is pid 1:
 * the signal comes from an ancestor namespace).
 */
static __attribute__((noreturn)) void reaper(pid_t server)
{
	int status;

	syscall(SYS_close_range, 0, ~0U, 0);
	if (gofer_reaper_filter_install() < 0) {
		kill(server, SIGKILL);
		_exit(126);
	}
	while (waitpid(server, &status, 0) < 0)
		if (errno != EINTR)
			_exit(1);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* The forked child: own pid namespace (when permitted) with the server as
 * its pid 1 — it cannot see or signal any host process, and when it exits
 * the kernel kills anything left in it — then setup, ring, filter, serve. */
static __attribute__((noreturn)) void gofer_child(const char *root,
						  bool readonly, int sock,
						  int syncfd)
{
	const char *uring = getenv("CVISOR_GOFER_URING");
	struct gofer_server *s;
	int rootfd = -1, procfd = -1;
	int r;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail(syncfd, -errno);
	if (unshare(CLONE_NEWPID) == 0) {
		pid_t server = fork();

		if (server < 0)
			child_fail(syncfd, -errno);
		if (server > 0)
			reaper(server);
	}
	r = child_setup(root, readonly, sock, &rootfd, &procfd);
	/* close_others() closed syncfd on success: report failure only; on
	 * success the pipe's EOF is the "ready". */
	if (r < 0)
		child_fail(syncfd, r);
	r = gofer_server_new(rootfd, procfd, readonly, &s);
	if (r < 0)
		_exit(1);
	/* io_uring for READDIR_PLUS stats unless CVISOR_GOFER_URING=0 (to
	 * measure the plain loop); the loop is the fallback anyway. */
	if (!uring || strcmp(uring, "0"))
		(void)gofer_server_enable_uring(s);
	if (gofer_filter_install(readonly) < 0)
		_exit(126);
	r = gofer_server_serve(s, sock);
	_exit(r < 0 ? 1 : 0);
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
		close(sv[0]);
		close(sync[0]);
		gofer_child(root, readonly, sv[1], sync[1]);
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

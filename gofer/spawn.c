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
 * root detached. Bind-mount sources (gofer_spawn_roots) are opened before
 * the pivot as detached clones of their host mounts. The server keeps the
 * socket and root fd of each root, /proc/self/fd of the host proc opened
 * before the pivot so handles can be reopened (one dup per root's server),
 * and its io_uring (restricted to STATX); it drops capabilities to what
 * brokering needs, sets no_new_privs, installs its seccomp filter last,
 * then serves until the sentry hangs up on every socket.
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
#include <sys/stat.h>
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
 * directory; also LINK's linkat(AT_EMPTY_PATH)), plus on a writable root
 * CAP_DAC_OVERRIDE (open for writing files of any owner) and what SETATTR
 * needs for files of any owner: CAP_CHOWN, CAP_FOWNER (chmod, utimes),
 * CAP_FSETID (keep setgid on chmod). The sentry has already checked the
 * workload's own permission for each op. Nothing inheritable or ambient;
 * the bounding set is
 * emptied (it only matters across execve, which seccomp refuses anyway)
 * and no_new_privs is set.
 */
static int drop_caps(bool readonly)
{
	static const cap_value_t keep[] = { CAP_DAC_READ_SEARCH,
					    CAP_DAC_OVERRIDE, CAP_CHOWN,
					    CAP_FOWNER, CAP_FSETID };
	int nkeep = readonly ? 1 : (int)ARRAY_SIZE(keep);
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

/* Close every fd except the n in keep (sorted here). */
static void close_others(int *keep, int n)
{
	unsigned int lo = 0;

	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (keep[j] < keep[i]) {
				int t = keep[i];

				keep[i] = keep[j];
				keep[j] = t;
			}
	for (int i = 0; i < n; i++) {
		if ((unsigned int)keep[i] > lo)
			syscall(SYS_close_range, lo, keep[i] - 1, 0);
		lo = keep[i] + 1;
	}
	syscall(SYS_close_range, lo, ~0U, 0);
}

/*
 * A bind-mount source, opened before pivot_root: a detached clone of the
 * directory's mount (open_tree OPEN_TREE_CLONE, not recursive: its
 * submounts are not served), read-only on the host when asked. The fd is
 * O_PATH on the clone's root: handle 0 of that root's server. Without
 * open_tree, a plain O_PATH fd (the server still refuses writes).
 */
static int open_extra_root(const char *path, bool readonly)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
	struct stat st;
	int fd;

	fd = (int)syscall(SYS_open_tree, AT_FDCWD, path,
			  OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (fd >= 0 && readonly &&
	    syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE,
		    &attr, sizeof(attr)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	if (fd < 0)
		fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		close(fd);
		return -ENOTDIR;
	}
	return fd;
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

static bool all_readonly(const struct gofer_root *roots, int n)
{
	for (int i = 0; i < n; i++)
		if (!roots[i].readonly)
			return false;
	return true;
}

/* socks[i]: the gofer's end for roots[i]; fds[i] gets its root fd. */
static int child_setup(const struct gofer_root *roots, int n, int *socks,
		       int *fds, int *procfd)
{
	int keep[2 * GOFER_MAX_ROOTS + 1];
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
	/* Modes of created files are the sentry's (its umask applied). */
	umask(0);

	/* Nothing we do may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	*procfd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*procfd < 0)
		return -errno;
	/* Bind-mount sources: host paths, so before the pivot. */
	for (int i = 1; i < n; i++) {
		fds[i] = open_extra_root(roots[i].path, roots[i].readonly);
		if (fds[i] < 0)
			return fds[i];
	}
	r = attach_root(roots[0].path, roots[0].readonly);
	if (r < 0)
		return r;
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return -errno;
	/* The old root is stacked under "."; detach it. */
	if (umount2(".", MNT_DETACH) < 0)
		return -errno;
	if (chdir("/") < 0)
		return -errno;
	fds[0] = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fds[0] < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		keep[2 * i] = socks[i];
		keep[2 * i + 1] = fds[i];
	}
	keep[2 * n] = *procfd;
	close_others(keep, 2 * n + 1);

	/* One handle per walked file: allow as many as the host does. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	return drop_caps(all_readonly(roots, n));
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
 * the kernel kills anything left in it — then setup, ring, filter, serve.
 * One server (handle table) per root, all in this one process. */
static __attribute__((noreturn)) void gofer_child(const struct gofer_root *roots,
						  int n, int *socks,
						  int syncfd)
{
	const char *uring = getenv("CVISOR_GOFER_URING");
	struct gofer_server *s[GOFER_MAX_ROOTS];
	int fds[GOFER_MAX_ROOTS];
	int procfd = -1;
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
	for (int i = 0; i < n; i++)
		fds[i] = -1;
	r = child_setup(roots, n, socks, fds, &procfd);
	/* close_others() closed syncfd on success: report failure only; on
	 * success the pipe's EOF is the "ready". */
	if (r < 0)
		child_fail(syncfd, r);
	for (int i = 0; i < n; i++) {
		/* Each server owns a procfd of its own. */
		int pfd = i + 1 < n ? fcntl(procfd, F_DUPFD_CLOEXEC, 3) : procfd;

		if (pfd < 0)
			_exit(1);
		r = gofer_server_new(fds[i], pfd, roots[i].readonly, &s[i]);
		if (r < 0)
			_exit(1);
	}
	/* io_uring for READDIR_PLUS stats of the root unless
	 * CVISOR_GOFER_URING=0 (to measure the plain loop); the loop is the
	 * fallback anyway, and serves the bind mounts. */
	if (!uring || strcmp(uring, "0"))
		(void)gofer_server_enable_uring(s[0]);
	if (gofer_filter_install(all_readonly(roots, n)) < 0)
		_exit(126);
	if (n == 1)
		r = gofer_server_serve(s[0], socks[0]);
	else
		r = gofer_server_serve_many(s, socks, n);
	_exit(r < 0 ? 1 : 0);
}

int gofer_spawn_roots(struct gofer_root *roots, int n, pid_t *pid)
{
	int sv[GOFER_MAX_ROOTS][2], child_socks[GOFER_MAX_ROOTS], sync[2];
	int32_t status = 0;
	pid_t child;
	ssize_t n_read;
	int made = 0, r = 0;

	if (n < 1 || n > GOFER_MAX_ROOTS)
		return -EINVAL;
	for (; made < n; made++)
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
			       sv[made]) < 0) {
			r = -errno;
			break;
		}
	if (r == 0 && pipe2(sync, O_CLOEXEC) < 0)
		r = -errno;
	if (r < 0) {
		for (int i = 0; i < made; i++) {
			close(sv[i][0]);
			close(sv[i][1]);
		}
		return r;
	}
	child = fork();
	if (child < 0) {
		r = -errno;
		for (int i = 0; i < n; i++) {
			close(sv[i][0]);
			close(sv[i][1]);
		}
		close(sync[0]);
		close(sync[1]);
		return r;
	}
	if (child == 0) {
		for (int i = 0; i < n; i++) {
			close(sv[i][0]);
			child_socks[i] = sv[i][1];
		}
		close(sync[0]);
		gofer_child(roots, n, child_socks, sync[1]);
	}
	for (int i = 0; i < n; i++)
		close(sv[i][1]);
	close(sync[1]);
	do
		n_read = read(sync[0], &status, sizeof(status));
	while (n_read < 0 && errno == EINTR);
	close(sync[0]);
	if (n_read == (ssize_t)sizeof(status) && status < 0) {
		waitpid(child, NULL, 0);
		for (int i = 0; i < n; i++)
			close(sv[i][0]);
		return status;
	}
	for (int i = 0; i < n; i++)
		roots[i].sock = sv[i][0];
	*pid = child;
	return 0;
}

int gofer_spawn(const char *root, bool readonly, int *sock, pid_t *pid)
{
	struct gofer_root r = { .path = root, .readonly = readonly,
				.sock = -1 };
	int err = gofer_spawn_roots(&r, 1, pid);

	if (err == 0)
		*sock = r.sock;
	return err;
}

/*
 * pidfd_test: pidfd_open, pidfd_send_signal, pidfd_getfd, CLONE_PIDFD with
 * clone and clone3, waitid(P_PIDFD), poll/epoll on a pidfd, the /proc fd
 * link and fdinfo.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x1000
#endif

struct clone_args_ {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack,
		stack_size, tls, set_tid, set_tid_size, cgroup;
};

static int pidfd_open(pid_t pid, unsigned int flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

static int pidfd_send_signal(int fd, int sig, siginfo_t *info, unsigned int fl)
{
	return (int)syscall(SYS_pidfd_send_signal, fd, sig, info, fl);
}

static int pidfd_getfd(int fd, int target, unsigned int fl)
{
	return (int)syscall(SYS_pidfd_getfd, fd, target, fl);
}

/* A child that waits until its stdin pipe is closed or it is killed. */
static pid_t sleeper(int *wr)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		char c;

		close(p[1]);
		while (read(p[0], &c, 1) > 0)
			;
		_exit(5);
	}
	close(p[0]);
	*wr = p[1];
	return pid;
}

static volatile pid_t thread_tid;

static void *thread_fn(void *arg)
{
	int *go = arg;

	thread_tid = gettid();
	while (!__atomic_load_n(go, __ATOMIC_SEQ_CST))
		usleep(1000);
	return NULL;
}

static int fdinfo_has(int fd, const char *want)
{
	char path[64], buf[512];
	int f;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY);
	if (f < 0)
		return 0;
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	buf[n > 0 ? n : 0] = 0;
	return strstr(buf, want) != NULL;
}

int main(void)
{
	siginfo_t si;
	int fd, wr, r, st;
	pid_t pid;
	char want[64];

	/* pidfd_open argument checks. */
	is_errno(pidfd_open(0, 0), EINVAL, "pid 0: EINVAL");
	is_errno(pidfd_open(-1, 0), EINVAL, "pid -1: EINVAL");
	is_errno(pidfd_open(getpid(), 0x1), EINVAL, "bad flags: EINVAL");
	fd = pidfd_open(getpid(), 0);
	ok_sys(fd, "pidfd_open(self)");
	is_long(fcntl(fd, F_GETFD), FD_CLOEXEC, "close-on-exec always set");
	is_long(fcntl(fd, F_GETFL) & O_NONBLOCK, 0, "blocking by default");
	{
		char link[64], path[64];
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = 0;
		ok(n > 0 && !strcmp(link, "anon_inode:[pidfd]"),
		   "readlink says anon_inode:[pidfd] (%s)", link);
		snprintf(want, sizeof(want), "Pid:\t%d\n", getpid());
		ok(fdinfo_has(fd, want), "fdinfo shows Pid:");
	}
	{
		/* A /proc/[pid] directory fd works as a pidfd for
		 * pidfd_send_signal only; /proc/self/status does not. */
		char path[64];
		int dfd, sfd;

		snprintf(path, sizeof(path), "/proc/%d", getpid());
		dfd = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
		ok_sys(dfd, "open /proc/<pid>");
		ok_sys(pidfd_send_signal(dfd, 0, NULL, 0),
		       "pidfd_send_signal through a /proc/<pid> dir fd");
		is_errno(pidfd_getfd(dfd, 0, 0), EBADF,
			 "pidfd_getfd refuses a /proc/<pid> dir fd");
		sfd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
		is_errno(pidfd_send_signal(sfd, 0, NULL, 0), EBADF,
			 "pidfd_send_signal refuses /proc/self/status");
		close(sfd);
		close(dfd);
	}
	{
		struct pollfd p = { .fd = fd, .events = POLLIN };

		is_long(poll(&p, 1, 0), 0, "own pidfd: not readable");
	}
	is_long(pidfd_send_signal(fd, 0, NULL, 0), 0, "signal 0 to self");
	is_errno(pidfd_send_signal(fd, 0, NULL, 8), EINVAL, "bad flags: EINVAL");
	is_errno(pidfd_send_signal(fd, 1000, NULL, 0), EINVAL, "bad signal: EINVAL");
	is_errno(pidfd_send_signal(0, 0, NULL, 0), EBADF, "not a pidfd: EBADF");
	is_errno(pidfd_send_signal(999, 0, NULL, 0), EBADF, "closed fd: EBADF");
	{
		/* Arbitrary siginfo may be sent to oneself. */
		sigset_t set;
		struct timespec z = { 1, 0 };

		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		memset(&si, 0, sizeof(si));
		si.si_signo = SIGUSR1;
		si.si_code = SI_USER;
		si.si_pid = 4242;
		is_long(pidfd_send_signal(fd, SIGUSR1, &si, 0), 0,
			"SI_USER info to self");
		memset(&si, 0, sizeof(si));
		is_long(sigtimedwait(&set, &si, &z), SIGUSR1, "received");
		ok(si.si_code == SI_USER && si.si_pid == 4242, "info kept");
		is_long(pidfd_send_signal(fd, SIGUSR1, NULL, 0), 0, "NULL info");
		memset(&si, 0, sizeof(si));
		sigtimedwait(&set, &si, &z);
		ok(si.si_code == SI_USER && si.si_pid == getpid() &&
		   si.si_uid == getuid(), "kill-like info");
		sigprocmask(SIG_UNBLOCK, &set, NULL);
	}
	close(fd);

	/* A thread is not a thread-group leader. */
	{
		pthread_t th;
		int go = 0;

		pthread_create(&th, NULL, thread_fn, &go);
		while (!thread_tid)
			usleep(1000);
		/* EINVAL before Linux 6.9, ENOENT since (pidfd_prepare). */
		is_errno(pidfd_open(thread_tid, 0), ENOENT,
			 "non-leader thread: ENOENT");
		__atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
		pthread_join(th, NULL);
	}

	/* A child: poll, signal, waitid(P_PIDFD). */
	pid = sleeper(&wr);
	fd = pidfd_open(pid, 0);
	ok_sys(fd, "pidfd_open(child)");
	{
		struct pollfd p = { .fd = fd, .events = POLLIN };

		is_long(poll(&p, 1, 0), 0, "running child: not readable");
		memset(&si, 0, sizeof(si));
		si.si_signo = SIGKILL;
		si.si_code = SI_USER;
		is_errno(pidfd_send_signal(fd, SIGTERM, &si, 0), EINVAL,
			 "info signo differs: EINVAL");
		is_errno(pidfd_send_signal(fd, SIGKILL, &si, 0), EPERM,
			 "SI_USER info to another process: EPERM");
		is_errno(pidfd_send_signal(fd, SIGKILL, BAD_PTR, 0), EFAULT,
			 "bad info pointer: EFAULT");
		is_long(pidfd_send_signal(fd, SIGKILL, NULL, 0), 0, "SIGKILL");
		r = poll(&p, 1, 5000);
		ok(r == 1 && (p.revents & POLLIN), "readable once it exits");
		ok(!(p.revents & POLLHUP), "not hung up before reaping");
		is_long(pidfd_send_signal(fd, 0, NULL, 0), 0, "signal to a zombie: 0");
		memset(&si, 0, sizeof(si));
		is_long(waitid(P_PIDFD, fd, &si, WEXITED), 0, "waitid(P_PIDFD)");
		ok(si.si_pid == pid && si.si_code == CLD_KILLED &&
		   si.si_status == SIGKILL, "reports the kill");
		r = poll(&p, 1, 0);
		ok(r == 1 && (p.revents & POLLIN) && (p.revents & POLLHUP),
		   "reaped: POLLIN|POLLHUP");
		is_errno(pidfd_send_signal(fd, 0, NULL, 0), ESRCH, "reaped: ESRCH");
		is_errno(waitid(P_PIDFD, fd, &si, WEXITED), ECHILD,
			 "waitid again: ECHILD");
		snprintf(want, sizeof(want), "Pid:\t-1\n");
		ok(fdinfo_has(fd, want), "fdinfo Pid: -1 once reaped");
		is_errno(pidfd_open(pid, 0), ESRCH, "pidfd_open of a reaped pid: ESRCH");
	}
	close(fd);
	close(wr);

	/* PIDFD_NONBLOCK and waitid. */
	pid = sleeper(&wr);
	fd = pidfd_open(pid, PIDFD_NONBLOCK);
	ok_sys(fd, "pidfd_open(PIDFD_NONBLOCK)");
	is_long(fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK, "O_NONBLOCK set");
	is_errno(waitid(P_PIDFD, fd, &si, WEXITED), EAGAIN,
		 "nonblocking waitid on a running child: EAGAIN");
	is_long(waitid(P_PIDFD, fd, &si, WEXITED | WNOHANG), 0,
		"with WNOHANG: 0");
	is_errno(waitid(P_PIDFD, 0, &si, WEXITED), EBADF,
		 "waitid(P_PIDFD) on a non-pidfd: EBADF");

	/* pidfd_getfd: take the child's copy of the pipe's write end. */
	{
		int nfd;
		int ep = epoll_create1(0);
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 9 };

		is_errno(pidfd_getfd(fd, wr, 1), EINVAL, "getfd flags: EINVAL");
		is_errno(pidfd_getfd(fd, 999, 0), EBADF, "getfd closed fd: EBADF");
		is_errno(pidfd_getfd(0, wr, 0), EBADF, "getfd non-pidfd: EBADF");
		/* Take the child's stdout (a copy of ours). */
		nfd = pidfd_getfd(fd, 1, 0);
		ok_sys(nfd, "pidfd_getfd(child's fd 1)");
		is_long(fcntl(nfd, F_GETFD), FD_CLOEXEC, "new fd is close-on-exec");
		if (nfd >= 0)
			close(nfd);
		ok_sys(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), "epoll on a pidfd");
		is_long(epoll_wait(ep, &ev, 1, 0), 0, "epoll: running");
		close(wr);	/* the child exits */
		r = epoll_wait(ep, &ev, 1, 5000);
		ok(r == 1 && (ev.events & EPOLLIN) && ev.data.u64 == 9,
		   "epoll: EPOLLIN at exit");
		close(ep);
		memset(&si, 0, sizeof(si));
		is_long(waitid(P_PIDFD, fd, &si, WEXITED), 0, "waitid after exit");
		ok(si.si_code == CLD_EXITED && si.si_status == 5, "exit status 5");
	}
	close(fd);

	/* clone(CLONE_PIDFD): the fd comes back through parent_tid. */
	{
		int pfd = -1;

		r = (int)syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD,
				 0, &pfd, 0, 0);
		is_errno(r, EINVAL, "clone CLONE_PIDFD|CLONE_PARENT_SETTID: EINVAL");
		r = (int)syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, BAD_PTR, 0, 0);
		is_errno(r, EFAULT, "clone CLONE_PIDFD with a bad pointer: EFAULT");
		pid = (pid_t)syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &pfd, 0, 0);
		if (pid == 0)
			_exit(7);
		ok(pid > 0 && pfd >= 0, "clone CLONE_PIDFD: pidfd %d", pfd);
		is_long(fcntl(pfd, F_GETFD), FD_CLOEXEC, "close-on-exec");
		memset(&si, 0, sizeof(si));
		is_long(waitid(P_PIDFD, pfd, &si, WEXITED), 0, "waitid on it");
		ok(si.si_pid == pid && si.si_status == 7, "its child exited 7");
		close(pfd);
	}
	/* clone3(CLONE_PIDFD). */
	{
		struct clone_args_ ca;
		int pfd = -1, ptid = 0;

		memset(&ca, 0, sizeof(ca));
		ca.flags = CLONE_PIDFD | CLONE_PARENT_SETTID;
		ca.pidfd = (uint64_t)(uintptr_t)&pfd;
		ca.parent_tid = (uint64_t)(uintptr_t)&pfd;
		ca.exit_signal = SIGCHLD;
		is_errno(syscall(SYS_clone3, &ca, 64), EINVAL,
			 "clone3 pidfd == parent_tid: EINVAL");
		ca.parent_tid = (uint64_t)(uintptr_t)&ptid;
		pid = (pid_t)syscall(SYS_clone3, &ca, 64);
		if (pid == 0)
			_exit(3);
		ok(pid > 0 && pfd >= 0 && ptid == pid,
		   "clone3 CLONE_PIDFD|PARENT_SETTID: pidfd and tid");
		r = waitpid(pid, &st, 0);
		ok(r == pid && WIFEXITED(st) && WEXITSTATUS(st) == 3,
		   "waitpid still works");
		close(pfd);
	}
	return done_testing();
}

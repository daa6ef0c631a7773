/*
 * signalfd_test: signalfd(2)/signalfd4 — argument checks, reading thread-
 * and process-directed signals as signalfd_siginfo records, mask updates,
 * nonblocking and blocking reads (woken by another process, interrupted by
 * a handled signal), poll/select/epoll readiness, /proc fd link and fdinfo.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

static long sfd4(int fd, const void *mask, size_t size, int flags)
{
	return syscall(SYS_signalfd4, fd, mask, size, flags);
}

static void on_alrm(int sig)
{
	(void)sig;
}

int main(void)
{
	uint64_t m = (1ULL << (SIGUSR1 - 1)) | (1ULL << (SIGUSR2 - 1)) |
		     (1ULL << (SIGRTMIN - 1));
	struct signalfd_siginfo si[4];
	sigset_t set, pend;
	int fd, fd2, efd, r;
	char buf[256];

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &set, NULL);

	/* Argument checks, in Linux's order. */
	is_errno(sfd4(-1, &m, 4, 0), EINVAL, "sizemask 4: EINVAL");
	is_errno(sfd4(-1, &m, 16, 0), EINVAL, "sizemask 16: EINVAL");
	is_errno(sfd4(-1, BAD_PTR, 8, 0), EFAULT, "bad mask pointer: EFAULT");
	is_errno(sfd4(-1, &m, 8, 0x1), EINVAL, "bad flags: EINVAL");
	is_errno(sfd4(-1, BAD_PTR, 8, 0x1), EFAULT, "EFAULT before flags");
	is_errno(sfd4(1000, &m, 8, 0), EBADF, "closed fd: EBADF");
	is_errno(sfd4(-2, &m, 8, 0), EBADF, "fd -2: EBADF");
	efd = (int)syscall(SYS_eventfd2, 0, 0);
	is_errno(sfd4(efd, &m, 8, 0), EINVAL, "update of a non-signalfd: EINVAL");
	close(efd);

	fd = (int)sfd4(-1, &m, 8, SFD_NONBLOCK | SFD_CLOEXEC);
	ok_sys(fd, "signalfd4(NONBLOCK|CLOEXEC)");
	is_long(fcntl(fd, F_GETFL), O_RDWR | O_NONBLOCK, "F_GETFL O_RDWR|O_NONBLOCK");
	is_long(fcntl(fd, F_GETFD), FD_CLOEXEC, "FD_CLOEXEC");
	is_errno(read(fd, si, sizeof(si[0])), EAGAIN, "nothing pending: EAGAIN");
	is_errno(read(fd, si, sizeof(si[0]) - 1), EINVAL, "short buffer: EINVAL");
	is_errno(write(fd, buf, 8), EINVAL, "write: EINVAL");

	{
		char link[64], path[64];
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = 0;
		ok(n > 0 && !strcmp(link, "anon_inode:[signalfd]"),
		   "readlink says anon_inode:[signalfd] (%s)", link);
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
		int ifd = open(path, O_RDONLY);
		n = ifd >= 0 ? read(ifd, buf, sizeof(buf) - 1) : -1;
		buf[n > 0 ? n : 0] = 0;
		if (ifd >= 0)
			close(ifd);
		snprintf(link, sizeof(link), "sigmask:\t%016llx\n",
			 (unsigned long long)m);
		ok(strstr(buf, link) != NULL, "fdinfo shows the mask");
	}

	/* A thread-directed signal. */
	syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
	{
		struct pollfd p = { .fd = fd, .events = POLLIN };

		is_long(poll(&p, 1, 0), 1, "poll: ready with a pending signal");
		is_long(p.revents, POLLIN, "POLLIN");
	}
	is_long(read(fd, si, sizeof(si)), (long)sizeof(si[0]), "read one record");
	is_long(si[0].ssi_signo, SIGUSR1, "ssi_signo SIGUSR1");
	is_long(si[0].ssi_code, SI_TKILL, "ssi_code SI_TKILL");
	is_long(si[0].ssi_pid, getpid(), "ssi_pid");
	is_long(si[0].ssi_uid, getuid(), "ssi_uid");
	sigpending(&pend);
	ok(!sigismember(&pend, SIGUSR1), "dequeued: no longer pending");

	/* A process-directed one. */
	kill(getpid(), SIGUSR2);
	is_long(read(fd, si, sizeof(si)), (long)sizeof(si[0]), "read kill()ed signal");
	is_long(si[0].ssi_signo, SIGUSR2, "SIGUSR2");
	is_long(si[0].ssi_code, SI_USER, "SI_USER");

	/* Several queued rt signals in one read. */
	{
		union sigval v;

		v.sival_int = 11;
		sigqueue(getpid(), SIGRTMIN, v);
		v.sival_int = 22;
		sigqueue(getpid(), SIGRTMIN, v);
		is_long(read(fd, si, sizeof(si)), 2 * (long)sizeof(si[0]),
			"two records in one read");
		ok(si[0].ssi_int == 11 && si[1].ssi_int == 22 &&
		   si[0].ssi_code == SI_QUEUE, "in order, with their values");
	}

	/* Mask update on an existing signalfd. */
	{
		uint64_t m2 = 1ULL << (SIGUSR2 - 1);

		is_long(sfd4(fd, &m2, 8, 0), fd, "mask update returns the fd");
		kill(getpid(), SIGUSR1);
		is_errno(read(fd, si, sizeof(si)), EAGAIN, "SIGUSR1 no longer read");
		is_long(sfd4(fd, &m, 8, 0), fd, "mask back");
		is_long(read(fd, si, sizeof(si)), (long)sizeof(si[0]), "now it is");
		is_long(si[0].ssi_signo, SIGUSR1, "SIGUSR1");
	}

	/* epoll and select readiness. */
	{
		int ep = epoll_create1(0);
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 7 };
		fd_set rf;
		struct timeval tv = { 0, 0 };

		ok_sys(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), "epoll_ctl ADD");
		is_long(epoll_wait(ep, &ev, 1, 0), 0, "epoll: nothing yet");
		kill(getpid(), SIGUSR2);
		r = epoll_wait(ep, &ev, 1, 1000);
		ok(r == 1 && ev.events == EPOLLIN && ev.data.u64 == 7,
		   "epoll: EPOLLIN after kill");
		FD_ZERO(&rf);
		FD_SET(fd, &rf);
		is_long(select(fd + 1, &rf, NULL, NULL, &tv), 1, "select: readable");
		read(fd, si, sizeof(si));
		/* A blocked epoll_wait woken by a signal from a child. */
		{
			pid_t parent = getpid(), pid = fork();

			if (pid == 0) {
				usleep(30000);
				kill(parent, SIGUSR2);
				_exit(0);
			}
			r = epoll_wait(ep, &ev, 1, 5000);
			ok(r == 1 && ev.events == EPOLLIN,
			   "blocked epoll_wait woken by a signal");
			waitpid(pid, NULL, 0);
			read(fd, si, sizeof(si));
		}
		close(ep);
	}

	/* Blocking read woken by a signal from another process. */
	fd2 = (int)syscall(SYS_signalfd, -1, &m, 8);
	ok_sys(fd2, "signalfd (old call), blocking");
	is_long(fcntl(fd2, F_GETFL), O_RDWR, "blocking by default");
	{
		pid_t parent = getpid(), pid = fork();

		if (pid == 0) {
			usleep(50000);
			kill(parent, SIGUSR1);
			_exit(0);
		}
		r = (int)read(fd2, si, sizeof(si));
		is_long(r, (long)sizeof(si[0]), "blocking read returns a record");
		ok(si[0].ssi_signo == SIGUSR1 && (pid_t)si[0].ssi_pid == pid,
		   "from the child");
		waitpid(pid, NULL, 0);
	}

	/* A handled signal interrupts a blocking read (no SA_RESTART). */
	{
		struct sigaction sa;
		struct itimerval it = { { 0, 0 }, { 0, 50000 } };

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_alrm;
		sigaction(SIGALRM, &sa, NULL);
		setitimer(ITIMER_REAL, &it, NULL);
		is_errno(read(fd2, si, sizeof(si)), EINTR,
			 "blocking read interrupted: EINTR");
	}
	/* The fd reads the reader's own signals: a child sees its own. */
	{
		pid_t pid = fork();

		if (pid == 0) {
			int ok_ = read(fd, si, sizeof(si)) < 0 && errno == EAGAIN;

			raise(SIGUSR2);
			ok_ = ok_ && read(fd, si, sizeof(si)) == sizeof(si[0]) &&
			      si[0].ssi_signo == SIGUSR2;
			_exit(ok_ ? 0 : 1);
		}
		kill(getpid(), SIGUSR1); /* pending in the parent only */
		int st;

		waitpid(pid, &st, 0);
		ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		   "child reads its own signals through the inherited fd");
		is_long(read(fd, si, sizeof(si)), (long)sizeof(si[0]),
			"parent's SIGUSR1 still there");
	}
	close(fd);
	close(fd2);
	return done_testing();
}

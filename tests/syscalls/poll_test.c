/*
 * poll_test: poll(2), ppoll(2), select(2), pselect6(2) on pipes, eventfds
 * and regular files, with timeouts, within one process (plus a fork-based
 * wake-up check when fork works).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

static long ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

static volatile int usr1_seen;
static void on_usr1(int sig)
{
	(void)sig;
	usr1_seen++;
}

int main(void)
{
	int p[2], e;
	struct pollfd pfd[4];
	struct timespec t0;
	char c;

	ok_sys(pipe(p), "pipe");

	/* poll basics. */
	pfd[0] = (struct pollfd){ .fd = p[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = p[1], .events = POLLOUT };
	is_long(poll(pfd, 2, 0), 1, "empty pipe: only the write end is ready");
	is_long(pfd[0].revents, 0, "read end revents 0");
	is_long(pfd[1].revents, POLLOUT, "write end POLLOUT");
	is_long(write(p[1], "a", 1), 1, "write a byte");
	is_long(poll(pfd, 2, 0), 2, "both ready");
	is_long(pfd[0].revents, POLLIN, "read end POLLIN");
	pfd[0].events = POLLIN | POLLRDNORM;
	poll(pfd, 1, 0);
	is_long(pfd[0].revents, POLLIN | POLLRDNORM, "POLLRDNORM reported when asked");
	is_long(read(p[0], &c, 1), 1, "drain");

	/* Timeouts. */
	pfd[0].events = POLLIN;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_long(poll(pfd, 1, 100), 0, "poll times out");
	ok(ms_since(&t0) >= 95, "after about 100 ms (%ld)", ms_since(&t0));

	/* Negative fd, bad fd, nfds. */
	pfd[0] = (struct pollfd){ .fd = -1, .events = POLLIN, .revents = 7 };
	pfd[1] = (struct pollfd){ .fd = 999, .events = POLLIN };
	is_long(poll(pfd, 2, 0), 1, "bad fd counts once");
	is_long(pfd[0].revents, 0, "negative fd: revents cleared");
	is_long(pfd[1].revents, POLLNVAL, "closed fd: POLLNVAL");
	{
		struct rlimit rl;

		getrlimit(RLIMIT_NOFILE, &rl);
		is_errno(poll(pfd, rl.rlim_cur + 1, 0), EINVAL,
			 "nfds above RLIMIT_NOFILE: EINVAL");
	}
	is_errno(syscall(SYS_poll, BAD_PTR, 1, 0), EFAULT, "bad array: EFAULT");
	is_long(poll(NULL, 0, 10), 0, "no fds: a sleep");

	/* HUP / ERR. */
	{
		int q[2];

		ok_sys(pipe(q), "second pipe");
		close(q[1]);
		pfd[0] = (struct pollfd){ .fd = q[0], .events = POLLIN };
		is_long(poll(pfd, 1, 0), 1, "writer gone: ready");
		is_long(pfd[0].revents, POLLHUP, "POLLHUP (even unasked)");
		close(q[0]);
		ok_sys(pipe(q), "third pipe");
		close(q[0]);
		pfd[0] = (struct pollfd){ .fd = q[1], .events = 0 };
		is_long(poll(pfd, 1, 0), 1, "reader gone: ready");
		is_long(pfd[0].revents, POLLERR, "POLLERR");
		close(q[1]);
	}

	/* Regular files are always ready. */
	{
		int f = open("/proc/self/exe", O_RDONLY);

		if (f < 0)
			f = open("/bin/sh", O_RDONLY);
		pfd[0] = (struct pollfd){ .fd = f, .events = POLLIN | POLLOUT };
		is_long(poll(pfd, 1, 0), 1, "regular file ready");
		is_long(pfd[0].revents, POLLIN | POLLOUT, "POLLIN|POLLOUT");
		close(f);
	}

	/* eventfd. */
	e = eventfd(0, EFD_NONBLOCK);
	ok_sys(e, "eventfd");
	pfd[0] = (struct pollfd){ .fd = e, .events = POLLIN | POLLOUT };
	is_long(poll(pfd, 1, 0), 1, "eventfd writable");
	is_long(pfd[0].revents, POLLOUT, "POLLOUT only");
	eventfd_write(e, 1);
	poll(pfd, 1, 0);
	is_long(pfd[0].revents, POLLIN | POLLOUT, "then POLLIN|POLLOUT");

	/* ppoll. */
	{
		struct timespec ts = { 0, 50 * 1000000 };
		sigset_t ss;

		pfd[0] = (struct pollfd){ .fd = p[0], .events = POLLIN };
		sigemptyset(&ss);
		sigaddset(&ss, SIGUSR1);
		is_long(syscall(SYS_ppoll, pfd, 1, &ts, &ss, 8), 0, "ppoll times out");
		ok(ts.tv_sec == 0 && ts.tv_nsec < 5 * 1000000,
		   "ppoll updated the timeout (%ld ns left)", ts.tv_nsec);
		ts.tv_nsec = 1000000000;
		is_errno(ppoll(pfd, 1, &ts, NULL), EINVAL, "bad timespec: EINVAL");
		ts.tv_nsec = 0;
		is_errno(syscall(SYS_ppoll, pfd, 1, &ts, &ss, 4), EINVAL,
			 "sigsetsize 4: EINVAL");
		{
			sigset_t cur;

			sigprocmask(SIG_SETMASK, NULL, &cur);
			ok(!sigismember(&cur, SIGUSR1), "mask restored after ppoll");
		}
	}

	/* select. */
	{
		fd_set r, w;
		struct timeval tv = { 0, 0 };

		FD_ZERO(&r);
		FD_ZERO(&w);
		FD_SET(p[0], &r);
		FD_SET(p[1], &w);
		is_long(select(p[1] + 1, &r, &w, NULL, &tv), 1, "select: write end ready");
		ok(!FD_ISSET(p[0], &r) && FD_ISSET(p[1], &w), "sets updated");
		FD_ZERO(&r);
		FD_SET(p[0], &r);
		FD_SET(p[1], &r);
		FD_ZERO(&w);
		FD_SET(p[1], &w);
		ok(write(p[1], "b", 1) == 1, "write b");
		is_long(select(p[1] + 1, &r, &w, NULL, &tv), 2,
			"select counts bits (read + write)");
		FD_ZERO(&r);
		/* Below 64: inside the smallest fd table (max_fds). */
		FD_SET(60, &r);
		is_errno(select(61, &r, NULL, NULL, &tv), EBADF, "closed fd: EBADF");
		is_errno(select(-1, NULL, NULL, NULL, &tv), EINVAL, "nfds < 0: EINVAL");
		tv.tv_usec = -1;
		is_errno(select(0, NULL, NULL, NULL, &tv), EINVAL, "negative usec: EINVAL");
		ok(read(p[0], &c, 1) == 1, "drain one");
		FD_ZERO(&r);
		FD_SET(p[0], &r);
		tv.tv_sec = 0;
		tv.tv_usec = 80000;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		is_long(select(p[0] + 1, &r, NULL, NULL, &tv), 0, "select times out");
		ok(ms_since(&t0) >= 75, "after about 80 ms");
		ok(tv.tv_sec == 0 && tv.tv_usec < 5000, "timeval updated to ~0 (%ld)",
		   (long)tv.tv_usec);
		ok(!FD_ISSET(p[0], &r), "set cleared on timeout");
		tv.tv_sec = 0;
		tv.tv_usec = 1500000;
		FD_SET(p[1], &w);
		is_long(select(p[1] + 1, NULL, &w, NULL, &tv), 1,
			"usec >= 1e6 carries (no EINVAL)");
	}

	/* pselect6. */
	{
		fd_set r;
		struct timespec ts = { 0, 20 * 1000000 };
		sigset_t ss;

		sigemptyset(&ss);
		FD_ZERO(&r);
		FD_SET(p[0], &r);
		is_long(pselect(p[0] + 1, &r, NULL, NULL, &ts, &ss), 0, "pselect times out");
		ok(write(p[1], "c", 1) == 1, "write c");
		FD_SET(p[0], &r);
		is_long(pselect(p[0] + 1, &r, NULL, NULL, NULL, NULL), 1,
			"pselect ready without a timeout");
		ok(read(p[0], &c, 1) == 1, "drain one");
	}

	/* The temporary mask of ppoll/pselect lets a blocked, pending signal
	 * in: EINTR, the handler runs, the old mask is back afterwards. */
	{
		struct sigaction sa = { .sa_handler = on_usr1 };
		struct timespec ts = { 5, 0 };
		sigset_t block, empty, cur;
		fd_set r;

		sigaction(SIGUSR1, &sa, NULL);
		sigemptyset(&block);
		sigaddset(&block, SIGUSR1);
		sigemptyset(&empty);
		sigprocmask(SIG_BLOCK, &block, NULL);
		raise(SIGUSR1);
		pfd[0] = (struct pollfd){ .fd = p[0], .events = POLLIN };
		is_errno(ppoll(pfd, 1, &ts, &empty), EINTR, "ppoll: EINTR for an unmasked signal");
		is_long(usr1_seen, 1, "handler ran");
		sigprocmask(SIG_SETMASK, NULL, &cur);
		ok(sigismember(&cur, SIGUSR1), "blocked again after the handler");
		raise(SIGUSR1);
		FD_ZERO(&r);
		FD_SET(p[0], &r);
		is_errno(pselect(p[0] + 1, &r, NULL, NULL, &ts, &empty), EINTR,
			 "pselect: EINTR for an unmasked signal");
		is_long(usr1_seen, 2, "handler ran");
		sigprocmask(SIG_UNBLOCK, &block, NULL);
	}

	/* Blocking poll woken by another process. */
	{
		pid_t pid = fork();

		if (pid < 0) {
			skip("fork not available", "poll woken by a child's write");
		} else if (pid == 0) {
			usleep(50000);
			if (write(p[1], "d", 1) != 1)
				_exit(1);
			_exit(0);
		} else {
			int st;

			pfd[0] = (struct pollfd){ .fd = p[0], .events = POLLIN };
			is_long(poll(pfd, 1, 5000), 1, "poll woken by a child's write");
			waitpid(pid, &st, 0);
		}
	}
	return done_testing();
}

/*
 * epoll_test: epoll(7) on pipes, eventfds and timerfds within one process:
 * level/edge triggered, EPOLLONESHOT, epoll_ctl error rules, nesting and
 * loops, automatic removal on close, plus a fork-based wake-up check.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int mod(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static long ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

int main(void)
{
	struct epoll_event ev[8];
	struct timespec t0;
	int ep, p[2], q[2], e;
	char c;

	is_long(sizeof(struct epoll_event), 12, "struct epoll_event is packed (12 bytes)");
	is_errno(epoll_create(0), EINVAL, "epoll_create(0): EINVAL");
	is_errno(epoll_create1(0x1), EINVAL, "epoll_create1 bad flags: EINVAL");
	ep = epoll_create1(EPOLL_CLOEXEC);
	ok_sys(ep, "epoll_create1(EPOLL_CLOEXEC)");
	is_long(fcntl(ep, F_GETFD), FD_CLOEXEC, "FD_CLOEXEC");
	is_long(fcntl(ep, F_GETFL), O_RDWR, "F_GETFL O_RDWR");
	ok_sys(pipe2(p, O_NONBLOCK), "pipe");

	/* Level-triggered. */
	ok_sys(add(ep, p[0], EPOLLIN, 111), "ADD read end (LT)");
	is_errno(add(ep, p[0], EPOLLIN, 0), EEXIST, "ADD twice: EEXIST");
	is_long(epoll_wait(ep, ev, 8, 0), 0, "nothing ready");
	write(p[1], "a", 1);
	is_long(epoll_wait(ep, ev, 8, 0), 1, "one ready after a write");
	ok(ev[0].events == EPOLLIN && ev[0].data.u64 == 111, "EPOLLIN with our data");
	is_long(epoll_wait(ep, ev, 8, 0), 1, "LT: still reported");
	read(p[0], &c, 1);
	is_long(epoll_wait(ep, ev, 8, 0), 0, "LT: not after draining");

	/* Edge-triggered. */
	ok_sys(mod(ep, p[0], EPOLLIN | EPOLLET, 222), "MOD to EPOLLET");
	write(p[1], "b", 1);
	is_long(epoll_wait(ep, ev, 8, 0), 1, "ET: reported once");
	is_long(ev[0].data.u64, 222, "MOD changed the data");
	is_long(epoll_wait(ep, ev, 8, 0), 0, "ET: not again without a new event");
	write(p[1], "c", 1);
	is_long(epoll_wait(ep, ev, 8, 0), 1, "ET: a new write is a new edge");
	while (read(p[0], &c, 1) == 1)
		;

	/* One-shot. */
	ok_sys(mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 333), "MOD to EPOLLONESHOT");
	write(p[1], "d", 1);
	is_long(epoll_wait(ep, ev, 8, 0), 1, "ONESHOT: reported");
	write(p[1], "e", 1);
	is_long(epoll_wait(ep, ev, 8, 0), 0, "ONESHOT: disabled after one report");
	ok_sys(mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 334), "re-arm with MOD");
	is_long(epoll_wait(ep, ev, 8, 0), 1, "re-armed: reported (data pending)");
	while (read(p[0], &c, 1) == 1)
		;

	/* Write end and HUP/ERR. */
	ok_sys(add(ep, p[1], EPOLLOUT, 444), "ADD write end EPOLLOUT");
	ok_sys(mod(ep, p[0], EPOLLIN, 111), "read end back to LT");
	is_long(epoll_wait(ep, ev, 8, 0), 1, "write end ready");
	ok(ev[0].events == EPOLLOUT && ev[0].data.u64 == 444, "EPOLLOUT");
	ok_sys(epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL), "DEL write end");
	is_errno(epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL), ENOENT, "DEL again: ENOENT");
	is_errno(mod(ep, p[1], EPOLLIN, 0), ENOENT, "MOD unknown: ENOENT");

	/* ctl errors. */
	is_errno(add(ep, ep, EPOLLIN, 0), EINVAL, "ADD epoll to itself: EINVAL");
	is_errno(add(p[0], p[1], EPOLLIN, 0), EINVAL, "epfd not an epoll: EINVAL");
	is_errno(add(ep, 99, EPOLLIN, 0), EBADF, "bad target fd: EBADF");
	is_errno(add(99, p[0], EPOLLIN, 0), EBADF, "bad epfd: EBADF");
	{
		struct epoll_event x = { .events = EPOLLIN };

		is_errno(epoll_ctl(ep, 42, p[1], &x), EINVAL, "bad op: EINVAL");
		is_errno(epoll_ctl(ep, EPOLL_CTL_ADD, p[1], BAD_PTR), EFAULT,
			 "bad event pointer: EFAULT");
	}
	{
		int f = open("/proc/self/exe", O_RDONLY);

		if (f < 0)
			f = open("/bin/sh", O_RDONLY);
		is_errno(add(ep, f, EPOLLIN, 0), EPERM, "regular file: EPERM");
		close(f);
	}
	is_errno(epoll_wait(ep, ev, 0, 0), EINVAL, "maxevents 0: EINVAL");
	is_errno(syscall(SYS_epoll_wait, ep, ev, -1, 0), EINVAL, "maxevents -1: EINVAL");
	is_errno(epoll_wait(p[0], ev, 1, 0), EINVAL, "wait on a non-epoll: EINVAL");
	is_errno(epoll_wait(99, ev, 1, 0), EBADF, "wait on a bad fd: EBADF");
	write(p[1], "f", 1);
	is_errno(syscall(SYS_epoll_wait, ep, BAD_PTR, 1, 0), EFAULT, "bad events pointer: EFAULT");
	read(p[0], &c, 1);

	/* EPOLLEXCLUSIVE rules. */
	ok_sys(pipe(q), "second pipe");
	ok_sys(add(ep, q[0], EPOLLIN | EPOLLEXCLUSIVE, 5), "ADD with EPOLLEXCLUSIVE");
	is_errno(mod(ep, q[0], EPOLLIN, 5), EINVAL, "MOD an exclusive item: EINVAL");
	is_errno(mod(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE, 5), EINVAL,
		 "MOD with EPOLLEXCLUSIVE: EINVAL");
	is_errno(add(ep, q[1], EPOLLOUT | EPOLLEXCLUSIVE | EPOLLONESHOT, 0), EINVAL,
		 "EXCLUSIVE with ONESHOT: EINVAL");
	ok_sys(epoll_ctl(ep, EPOLL_CTL_DEL, q[0], NULL), "DEL exclusive item");

	/* HUP without asking. */
	ok_sys(add(ep, q[0], 0, 6), "ADD with no events");
	close(q[1]);
	is_long(epoll_wait(ep, ev, 8, 0), 1, "writer closed: reported");
	ok(ev[0].events == EPOLLHUP && ev[0].data.u64 == 6, "EPOLLHUP always reported");

	/* Closing the last fd removes the item. */
	close(q[0]);
	is_long(epoll_wait(ep, ev, 8, 0), 0, "closed file: item gone");

	/* A dup keeps the item alive. */
	ok_sys(pipe(q), "third pipe");
	ok_sys(add(ep, q[0], EPOLLIN, 7), "ADD");
	{
		int d = dup(q[0]);

		close(q[0]);
		write(q[1], "g", 1);
		is_long(epoll_wait(ep, ev, 8, 0), 1, "still reported through the dup");
		is_long(ev[0].data.u64, 7, "the item's data");
		is_errno(epoll_ctl(ep, EPOLL_CTL_DEL, q[0], NULL), EBADF,
			 "DEL by the closed number: EBADF");
		close(d);
	}
	close(q[1]);
	is_long(epoll_wait(ep, ev, 8, 0), 0, "gone with the last reference");

	/* Timeout. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_long(epoll_wait(ep, ev, 8, 60), 0, "epoll_wait times out");
	ok(ms_since(&t0) >= 55, "after about 60 ms (%ld)", ms_since(&t0));

	/* eventfd, edge-triggered. */
	e = eventfd(0, EFD_NONBLOCK);
	ok_sys(add(ep, e, EPOLLIN | EPOLLET, 8), "ADD eventfd ET");
	eventfd_write(e, 1);
	is_long(epoll_wait(ep, ev, 8, 0), 1, "eventfd: reported");
	is_long(epoll_wait(ep, ev, 8, 0), 0, "ET: once");
	eventfd_write(e, 0);
	is_long(epoll_wait(ep, ev, 8, 0), 1, "writing 0 is an edge too");

	/* maxevents smaller than the ready list. */
	write(p[1], "h", 1);
	ok_sys(mod(ep, e, EPOLLIN, 8), "eventfd to LT");
	is_long(epoll_wait(ep, ev, 1, 0), 1, "maxevents 1: one event");
	{
		uint64_t first = ev[0].data.u64;

		is_long(epoll_wait(ep, ev, 1, 0), 1, "next call: one event");
		ok(ev[0].data.u64 != first, "the other one (round robin)");
	}
	is_long(epoll_wait(ep, ev, 8, 0), 2, "both with room");
	read(p[0], &c, 1);
	ok_sys(epoll_ctl(ep, EPOLL_CTL_DEL, e, NULL), "DEL eventfd");
	close(e);

	/* Nesting. */
	{
		int outer = epoll_create1(0), outer2 = epoll_create1(0);

		ok_sys(add(outer, ep, EPOLLIN, 9), "ADD epoll into epoll");
		is_long(epoll_wait(outer, ev, 8, 0), 0, "inner not ready");
		write(p[1], "i", 1);
		is_long(epoll_wait(outer, ev, 8, 0), 1, "inner ready -> outer ready");
		ok(ev[0].events == EPOLLIN && ev[0].data.u64 == 9, "outer reports inner");
		{
			struct pollfd pf = { .fd = ep, .events = POLLIN };

			is_long(poll(&pf, 1, 0), 1, "poll() on an epoll fd");
		}
		read(p[0], &c, 1);
		is_errno(add(ep, outer, EPOLLIN, 0), ELOOP, "a cycle: ELOOP");
		ok_sys(add(outer2, outer, EPOLLIN, 0), "a longer chain is fine");
		is_errno(add(ep, outer2, EPOLLIN, 0), ELOOP, "a longer cycle: ELOOP");
		is_errno(add(ep, outer, EPOLLIN | EPOLLEXCLUSIVE, 0), EINVAL,
			 "EXCLUSIVE on an epoll target: EINVAL");
		close(outer2);
		close(outer);
	}

	/* timerfd: the wait ends at the expiry. */
	{
		int tf = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
		struct itimerspec its = { .it_value = { 0, 40 * 1000000 } };

		ok_sys(add(ep, tf, EPOLLIN, 10), "ADD timerfd");
		timerfd_settime(tf, 0, &its, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		is_long(epoll_wait(ep, ev, 8, 2000), 1, "timerfd expiry wakes epoll_wait");
		ok(ev[0].data.u64 == 10 && ms_since(&t0) >= 35 && ms_since(&t0) < 1500,
		   "after about 40 ms (%ld)", ms_since(&t0));
		close(tf);
	}

	/* epoll_pwait sigmask size. */
	{
		sigset_t ss;

		sigemptyset(&ss);
		is_errno(syscall(SYS_epoll_pwait, ep, ev, 8, 0, &ss, 4), EINVAL,
			 "epoll_pwait sigsetsize 4: EINVAL");
		is_long(epoll_pwait(ep, ev, 8, 0, &ss), 0, "epoll_pwait");
	}

	/* Woken by another process. */
	{
		pid_t pid = fork();

		if (pid < 0) {
			skip("fork not available", "epoll_wait woken by a child's write");
		} else if (pid == 0) {
			usleep(50000);
			_exit(write(p[1], "j", 1) == 1 ? 0 : 1);
		} else {
			int st;

			is_long(epoll_wait(ep, ev, 8, 5000), 1,
				"epoll_wait woken by a child's write");
			waitpid(pid, &st, 0);
		}
	}
	close(ep);
	return done_testing();
}

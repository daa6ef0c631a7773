/*
 * timerfd_test: timerfd_create(2), timerfd_settime, timerfd_gettime, read
 * semantics, within one process.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

static long ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

int main(void)
{
	struct itimerspec its, old;
	struct timespec t0;
	uint64_t v;
	int tf;

	is_errno(timerfd_create(12345, 0), EINVAL, "bad clock: EINVAL");
	is_errno(timerfd_create(CLOCK_MONOTONIC, 0x1), EINVAL, "bad flags: EINVAL");
	tf = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	ok_sys(tf, "timerfd_create(MONOTONIC, NONBLOCK|CLOEXEC)");
	is_long(fcntl(tf, F_GETFL), O_RDWR | O_NONBLOCK, "F_GETFL");
	is_long(fcntl(tf, F_GETFD), FD_CLOEXEC, "FD_CLOEXEC");
	is_errno(read(tf, &v, 8), EAGAIN, "disarmed: EAGAIN");
	ok_sys(timerfd_gettime(tf, &its), "gettime");
	ok(its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0, "disarmed value 0");

	/* One shot, relative. */
	memset(&its, 0, sizeof(its));
	its.it_value.tv_nsec = 50 * 1000000;
	ok_sys(timerfd_settime(tf, 0, &its, &old), "arm 50 ms");
	ok_sys(timerfd_gettime(tf, &its), "gettime");
	ok(its.it_value.tv_sec == 0 && its.it_value.tv_nsec > 0 &&
	   its.it_value.tv_nsec <= 50 * 1000000, "remaining in (0, 50 ms]");
	is_errno(read(tf, &v, 8), EAGAIN, "not yet: EAGAIN");
	{
		struct pollfd p = { .fd = tf, .events = POLLIN };

		clock_gettime(CLOCK_MONOTONIC, &t0);
		is_long(poll(&p, 1, 1000), 1, "poll wakes at expiry");
		ok(ms_since(&t0) >= 40 && ms_since(&t0) < 900,
		   "after about 50 ms (%ld)", ms_since(&t0));
	}
	is_long(read(tf, &v, 8), 8, "read 8 bytes");
	is_long((long)v, 1, "one expiration");
	is_errno(read(tf, &v, 8), EAGAIN, "then EAGAIN");
	ok_sys(timerfd_gettime(tf, &its), "gettime after expiry");
	ok(its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0,
	   "one-shot disarmed after expiry");
	{
		char small[4];

		is_errno(read(tf, small, 4), EINVAL, "read < 8 bytes: EINVAL");
	}

	/* Periodic: count overruns. */
	its.it_value.tv_sec = 0;
	its.it_value.tv_nsec = 10 * 1000000;
	its.it_interval = its.it_value;
	ok_sys(timerfd_settime(tf, 0, &its, NULL), "arm periodic 10 ms");
	usleep(55000);
	is_long(read(tf, &v, 8), 8, "read");
	ok(v >= 4 && v <= 6, "about 5 expirations (%lu)", (unsigned long)v);
	ok_sys(timerfd_gettime(tf, &old), "gettime");
	is_long(old.it_interval.tv_nsec, 10 * 1000000, "interval reported");

	/* Old value on settime; disarm. */
	memset(&its, 0, sizeof(its));
	ok_sys(timerfd_settime(tf, 0, &its, &old), "disarm");
	ok(old.it_interval.tv_nsec == 10 * 1000000, "old value returned");
	usleep(20000);
	is_errno(read(tf, &v, 8), EAGAIN, "disarmed timer does not fire");

	/* Absolute, in the past: fires at once. */
	clock_gettime(CLOCK_MONOTONIC, &its.it_value);
	its.it_value.tv_sec -= 1;
	ok_sys(timerfd_settime(tf, TFD_TIMER_ABSTIME, &its, NULL), "ABSTIME in the past");
	is_long(read(tf, &v, 8), 8, "fires at once");

	/* Validation. */
	its.it_value.tv_nsec = 1000000000;
	is_errno(timerfd_settime(tf, 0, &its, NULL), EINVAL, "bad nsec: EINVAL");
	its.it_value.tv_nsec = 0;
	is_errno(timerfd_settime(tf, 0x4, &its, NULL), EINVAL, "bad flags: EINVAL");
	ok_sys(timerfd_settime(tf, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL),
	       "CANCEL_ON_SET accepted");
	is_errno(timerfd_settime(99, 0, &its, NULL), EBADF, "bad fd: EBADF");
	is_errno(timerfd_settime(0 + 1, 0, &its, NULL), EINVAL, "not a timerfd: EINVAL");
	is_errno(timerfd_gettime(1, &its), EINVAL, "gettime not a timerfd: EINVAL");
	close(tf);

	/* Blocking read, REALTIME and BOOTTIME clocks. */
	{
		int clocks[2] = { CLOCK_REALTIME, CLOCK_BOOTTIME };

		for (int i = 0; i < 2; i++) {
			tf = timerfd_create(clocks[i], 0);
			ok_sys(tf, "timerfd_create(clock %d)", clocks[i]);
			memset(&its, 0, sizeof(its));
			its.it_value.tv_nsec = 30 * 1000000;
			timerfd_settime(tf, 0, &its, NULL);
			clock_gettime(CLOCK_MONOTONIC, &t0);
			is_long(read(tf, &v, 8), 8, "blocking read returns");
			ok(v == 1 && ms_since(&t0) >= 25, "after about 30 ms (%ld)",
			   ms_since(&t0));
			close(tf);
		}
	}
	return done_testing();
}

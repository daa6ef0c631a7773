/*
 * lock_test: blocking advisory locks between processes (fcntl(2) F_SETLKW,
 * F_OFD_SETLKW, flock(2) without LOCK_NB): wake-up on unlock, close and
 * exit; EINTR from a signal handler installed without SA_RESTART; EDEADLK
 * for a cycle of two processes waiting for each other's POSIX locks.
 *
 * Each case forks a child that blocks while the parent holds the lock; a
 * pipe tells the parent the child is about to block, then the parent waits
 * a little (so the child really sleeps) before releasing. The child's exit
 * status carries its verdict (0 = as expected).
 */
#include <signal.h>
#include <stdbool.h>
#include <sys/file.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#include "tap.h"

#define HOLD_MS 150

static char path[PATH_MAX];

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int setlk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET,
			    .l_start = start, .l_len = len };

	return fcntl(fd, cmd, &fl);
}

/* The child's "ready" byte (tap_fork_ready). */
static bool wait_ready(int rfd)
{
	char c;

	return read(rfd, &c, 1) == 1;
}

/* Wait for the child's "about to block" byte, then a little more. */
static void await_block(int rfd)
{
	if (!wait_ready(rfd))
		diag("child did not report");
	sleep_ms(HOLD_MS);
}

static int child_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static bool tell_ready(int readyfd)
{
	return write(readyfd, "x", 1) == 1;
}

struct blocking_args {
	int kind;	/* 0 F_SETLKW, 1 F_OFD_SETLKW, 2 flock */
	int parentfd;
};

/* Child: open the file itself, signal, take the lock blocking; 0 if it
 * got it only after about HOLD_MS. */
static int blocking_body(void *arg, int readyfd)
{
	const struct blocking_args *a = arg;
	int fd = open(path, O_RDWR), r;
	long long t0;

	close(a->parentfd); /* else it keeps the parent's flock alive */
	if (fd < 0)
		return 10;
	t0 = now_ms();
	if (!tell_ready(readyfd))
		return 11;
	if (a->kind == 0)
		r = setlk(fd, F_SETLKW, F_WRLCK, 0, 10);
	else if (a->kind == 1)
		r = setlk(fd, F_OFD_SETLKW, F_WRLCK, 0, 10);
	else
		r = flock(fd, LOCK_EX);
	if (r)
		return 12;
	if (now_ms() - t0 < HOLD_MS / 2)
		return 13; /* did not wait */
	return 0;
}

static pid_t blocking_child(int kind, int parentfd, int *rfd)
{
	struct blocking_args a = { kind, parentfd };

	return tap_fork_ready(blocking_body, &a, rfd);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void test_unlock_wakes(void)
{
	int fd = open(path, O_RDWR), rfd;
	pid_t pid;

	ok_sys(setlk(fd, F_SETLK, F_WRLCK, 0, 10), "parent F_SETLK write lock");
	pid = blocking_child(0, fd, &rfd);
	await_block(rfd);
	ok_sys(setlk(fd, F_SETLK, F_UNLCK, 0, 10), "parent unlocks");
	is_long(child_status(pid), 0, "F_SETLKW child woken by unlock");
	close(rfd);
	close(fd);
}

static void test_close_wakes(void)
{
	int fd = open(path, O_RDWR), rfd;
	pid_t pid;

	ok_sys(setlk(fd, F_SETLK, F_WRLCK, 0, 0), "parent locks the whole file");
	pid = blocking_child(0, fd, &rfd);
	await_block(rfd);
	close(fd); /* drops the process's POSIX locks */
	is_long(child_status(pid), 0, "F_SETLKW child woken by close");
	close(rfd);
}

/* Child: take the lock, report, hold it a while, exit (which releases
 * it). */
static int holder_body(void *arg, int readyfd)
{
	int hfd = open(path, O_RDWR);

	(void)arg;
	if (setlk(hfd, F_SETLK, F_WRLCK, 0, 10))
		return 1;
	if (!tell_ready(readyfd))
		return 2;
	sleep_ms(HOLD_MS);
	return 0; /* exit releases the lock */
}

static void test_exit_wakes(void)
{
	int fd = open(path, O_RDWR), rfd;
	long long t0;
	pid_t holder;

	holder = tap_fork_ready(holder_body, NULL, &rfd);
	if (holder < 0)
		return;
	ok(wait_ready(rfd), "holder has the lock");
	t0 = now_ms();
	ok_sys(setlk(fd, F_SETLKW, F_WRLCK, 0, 10), "F_SETLKW after holder exits");
	ok(now_ms() - t0 >= HOLD_MS / 2, "waited for the holder's exit");
	is_long(child_status(holder), 0, "holder exited");
	ok_sys(setlk(fd, F_SETLK, F_UNLCK, 0, 10), "unlock");
	close(rfd);
	close(fd);
}

static void test_ofd(void)
{
	int fd = open(path, O_RDWR), rfd;
	pid_t pid;

	ok_sys(setlk(fd, F_OFD_SETLK, F_RDLCK, 0, 10), "parent OFD read lock");
	pid = blocking_child(1, fd, &rfd);
	await_block(rfd);
	ok_sys(setlk(fd, F_OFD_SETLK, F_UNLCK, 0, 10), "parent OFD unlock");
	is_long(child_status(pid), 0, "F_OFD_SETLKW child woken by unlock");
	close(rfd);
	close(fd);
}

static void test_flock(void)
{
	int fd = open(path, O_RDWR), rfd;
	pid_t pid;

	ok_sys(flock(fd, LOCK_SH), "parent LOCK_SH");
	pid = blocking_child(2, fd, &rfd);
	await_block(rfd);
	ok_sys(flock(fd, LOCK_UN), "parent LOCK_UN");
	is_long(child_status(pid), 0, "flock(LOCK_EX) child woken by LOCK_UN");
	close(rfd);

	/* Last close of the description releases its flock lock. */
	ok_sys(flock(fd, LOCK_EX), "parent LOCK_EX");
	pid = blocking_child(2, fd, &rfd);
	await_block(rfd);
	close(fd);
	is_long(child_status(pid), 0, "flock child woken by close");
	close(rfd);
}

/* Child: F_SETLKW and flock interrupted by a handler without
 * SA_RESTART (EINTR), then a F_SETLKW that goes on after an SA_RESTART
 * handler until the parent unlocks. */
static int eintr_body(void *arg, int readyfd)
{
	struct itimerval it = { .it_value = { 0, 100000 } };
	struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART */
	int cfd = open(path, O_RDWR), r, e;

	(void)arg;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	r = setlk(cfd, F_SETLKW, F_WRLCK, 0, 10);
	e = errno;
	if (r != -1 || e != EINTR)
		return 1;
	setitimer(ITIMER_REAL, &it, NULL);
	r = flock(cfd, LOCK_EX);
	e = errno;
	if (r != -1 || e != EINTR)
		return 2;
	/* With SA_RESTART the wait goes on after the handler. */
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	if (!tell_ready(readyfd))
		return 3;
	r = setlk(cfd, F_SETLKW, F_WRLCK, 0, 10);
	return r == 0 ? 0 : 4;
}

static void test_eintr(void)
{
	int fd = open(path, O_RDWR), rfd;
	pid_t pid;

	ok_sys(setlk(fd, F_SETLK, F_WRLCK, 0, 10), "parent holds a write lock");
	ok_sys(flock(fd, LOCK_EX), "parent holds LOCK_EX");
	pid = tap_fork_ready(eintr_body, NULL, &rfd);
	if (pid < 0)
		return;
	ok(wait_ready(rfd), "child saw EINTR twice");
	sleep_ms(300); /* the SA_RESTART alarm fires while the child waits */
	ok_sys(setlk(fd, F_SETLK, F_UNLCK, 0, 10), "parent unlocks");
	is_long(child_status(pid), 0,
		"F_SETLKW and flock: EINTR without SA_RESTART, restarted with it");
	close(rfd);
	close(fd);
}

/* Child: lock byte 1, report, then wait for the parent's byte 0. */
static int edeadlk_body(void *arg, int readyfd)
{
	int cfd = open(path, O_RDWR);

	(void)arg;
	if (setlk(cfd, F_SETLK, F_WRLCK, 1, 1))
		return 1;
	if (!tell_ready(readyfd))
		return 2;
	/* Blocks on the parent's byte 0 until the parent unlocks. */
	if (setlk(cfd, F_SETLKW, F_WRLCK, 0, 1))
		return 3;
	return 0;
}

static void test_edeadlk(void)
{
	int fd = open(path, O_RDWR), rfd;
	pid_t pid;

	ok_sys(setlk(fd, F_SETLK, F_WRLCK, 0, 1), "parent locks byte 0");
	pid = tap_fork_ready(edeadlk_body, NULL, &rfd);
	if (pid < 0)
		return;
	ok(wait_ready(rfd), "child locked byte 1");
	sleep_ms(HOLD_MS);
	is_errno(setlk(fd, F_SETLKW, F_WRLCK, 1, 1), EDEADLK,
		 "F_SETLKW closing a cycle: EDEADLK");
	/* A nonblocking attempt still says EAGAIN. */
	is_errno(setlk(fd, F_SETLK, F_WRLCK, 1, 1), EAGAIN,
		 "F_SETLK on the child's byte: EAGAIN");
	ok_sys(setlk(fd, F_SETLK, F_UNLCK, 0, 1), "parent unlocks byte 0");
	is_long(child_status(pid), 0, "child got byte 0 after the unlock");
	close(rfd);
	close(fd);
}

int main(void)
{
	int fd;

	scratch_init("lock");
	snprintf(path, sizeof(path), "%s", SPATH("lockfile"));
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		bail_out("create %s: %s", path, strerror(errno));
	if (write(fd, "0123456789abcdef", 16) != 16)
		bail_out("write");
	close(fd);

	test_unlock_wakes();
	test_close_wakes();
	test_exit_wakes();
	test_ofd();
	test_flock();
	test_eintr();
	test_edeadlk();

	unlink(path);
	scratch_cleanup();
	return done_testing();
}

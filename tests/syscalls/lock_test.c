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

/* Wait for the child's "about to block" byte, then a little more. */
static void await_block(int rfd)
{
	char c;

	if (read(rfd, &c, 1) != 1)
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

/* Child: open the file itself, signal, take the lock blocking; exit 0 if
 * it got it only after about HOLD_MS. kind: 0 F_SETLKW, 1 F_OFD_SETLKW,
 * 2 flock. */
static pid_t blocking_child(int kind, int parentfd, int *rfd)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		int fd = open(path, O_RDWR), r;
		long long t0;

		close(p[0]);
		close(parentfd); /* else it keeps the parent's flock alive */
		if (fd < 0)
			_exit(10);
		t0 = now_ms();
		if (write(p[1], "x", 1) != 1)
			_exit(11);
		if (kind == 0)
			r = setlk(fd, F_SETLKW, F_WRLCK, 0, 10);
		else if (kind == 1)
			r = setlk(fd, F_OFD_SETLKW, F_WRLCK, 0, 10);
		else
			r = flock(fd, LOCK_EX);
		if (r)
			_exit(12);
		if (now_ms() - t0 < HOLD_MS / 2)
			_exit(13); /* did not wait */
		_exit(0);
	}
	close(p[1]);
	*rfd = p[0];
	return pid;
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

static void test_exit_wakes(void)
{
	int p[2], fd = open(path, O_RDWR);
	long long t0;
	pid_t holder;
	char c;

	if (pipe(p))
		return;
	holder = fork();
	if (holder == 0) {
		int hfd = open(path, O_RDWR);

		if (setlk(hfd, F_SETLK, F_WRLCK, 0, 10))
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(2);
		sleep_ms(HOLD_MS);
		_exit(0); /* exit releases the lock */
	}
	close(p[1]);
	ok(read(p[0], &c, 1) == 1, "holder has the lock");
	t0 = now_ms();
	ok_sys(setlk(fd, F_SETLKW, F_WRLCK, 0, 10), "F_SETLKW after holder exits");
	ok(now_ms() - t0 >= HOLD_MS / 2, "waited for the holder's exit");
	is_long(child_status(holder), 0, "holder exited");
	ok_sys(setlk(fd, F_SETLK, F_UNLCK, 0, 10), "unlock");
	close(p[0]);
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

static void test_eintr(void)
{
	struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART */
	struct itimerval it = { .it_value = { 0, 100000 } };
	int fd = open(path, O_RDWR), p[2];
	pid_t pid;
	char c;

	ok_sys(setlk(fd, F_SETLK, F_WRLCK, 0, 10), "parent holds a write lock");
	ok_sys(flock(fd, LOCK_EX), "parent holds LOCK_EX");
	if (pipe(p))
		return;
	pid = fork();
	if (pid == 0) {
		int cfd = open(path, O_RDWR), r, e;

		sigaction(SIGALRM, &sa, NULL);
		setitimer(ITIMER_REAL, &it, NULL);
		r = setlk(cfd, F_SETLKW, F_WRLCK, 0, 10);
		e = errno;
		if (r != -1 || e != EINTR)
			_exit(1);
		setitimer(ITIMER_REAL, &it, NULL);
		r = flock(cfd, LOCK_EX);
		e = errno;
		if (r != -1 || e != EINTR)
			_exit(2);
		/* With SA_RESTART the wait goes on after the handler. */
		sa.sa_flags = SA_RESTART;
		sigaction(SIGALRM, &sa, NULL);
		setitimer(ITIMER_REAL, &it, NULL);
		if (write(p[1], "x", 1) != 1)
			_exit(3);
		r = setlk(cfd, F_SETLKW, F_WRLCK, 0, 10);
		_exit(r == 0 ? 0 : 4);
	}
	close(p[1]);
	ok(read(p[0], &c, 1) == 1, "child saw EINTR twice");
	sleep_ms(300); /* the SA_RESTART alarm fires while the child waits */
	ok_sys(setlk(fd, F_SETLK, F_UNLCK, 0, 10), "parent unlocks");
	is_long(child_status(pid), 0,
		"F_SETLKW and flock: EINTR without SA_RESTART, restarted with it");
	close(p[0]);
	close(fd);
}

static void test_edeadlk(void)
{
	int fd = open(path, O_RDWR), p[2];
	pid_t pid;
	char c;

	ok_sys(setlk(fd, F_SETLK, F_WRLCK, 0, 1), "parent locks byte 0");
	if (pipe(p))
		return;
	pid = fork();
	if (pid == 0) {
		int cfd = open(path, O_RDWR);

		if (setlk(cfd, F_SETLK, F_WRLCK, 1, 1))
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(2);
		/* Blocks on the parent's byte 0 until the parent unlocks. */
		if (setlk(cfd, F_SETLKW, F_WRLCK, 0, 1))
			_exit(3);
		_exit(0);
	}
	close(p[1]);
	ok(read(p[0], &c, 1) == 1, "child locked byte 1");
	sleep_ms(HOLD_MS);
	is_errno(setlk(fd, F_SETLKW, F_WRLCK, 1, 1), EDEADLK,
		 "F_SETLKW closing a cycle: EDEADLK");
	/* A nonblocking attempt still says EAGAIN. */
	is_errno(setlk(fd, F_SETLK, F_WRLCK, 1, 1), EAGAIN,
		 "F_SETLK on the child's byte: EAGAIN");
	ok_sys(setlk(fd, F_SETLK, F_UNLCK, 0, 1), "parent unlocks byte 0");
	is_long(child_status(pid), 0, "child got byte 0 after the unlock");
	close(p[0]);
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

/* POSIX message queues: mq_open, mq_unlink, mq_timedsend, mq_timedreceive,
 * mq_notify, mq_getsetattr, poll and read() on the descriptor
 * (mq_overview(7)). Queue names carry the pid and are unlinked at the end
 * (natively this runs in the host's IPC namespace). */
#include "tap.h"

#include <mqueue.h>
#include <poll.h>
#include <dirent.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>

static char qname[64];

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timespec in_ms(long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += ms * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	return ts;
}

static int wait_child(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static short revents(mqd_t q)
{
	struct pollfd p = { .fd = q, .events = POLLIN | POLLOUT };

	return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

static void test_basic(void)
{
	struct mq_attr a = { .mq_maxmsg = 4, .mq_msgsize = 64 }, g;
	char buf[128];
	unsigned prio;
	mqd_t q;
	ssize_t r;

	q = mq_open(qname, O_CREAT | O_EXCL | O_RDWR, 0600, &a);
	ok_sys(q, "mq_open O_CREAT|O_EXCL");
	is_errno(mq_open(qname, O_CREAT | O_EXCL | O_RDWR, 0600, &a), EEXIST,
		 "again with O_EXCL: EEXIST");
	ok((fcntl(q, F_GETFD) & FD_CLOEXEC) != 0, "descriptor is close-on-exec");
	ok_sys(mq_getattr(q, &g), "mq_getattr");
	ok(g.mq_maxmsg == 4 && g.mq_msgsize == 64 && g.mq_curmsgs == 0 &&
		   g.mq_flags == 0, "attributes");
	is_long(revents(q), POLLOUT, "empty: POLLOUT only");

	ok_sys(mq_send(q, "low", 3, 1), "send prio 1");
	ok_sys(mq_send(q, "high", 4, 5), "send prio 5");
	ok_sys(mq_send(q, "low2", 4, 1), "send prio 1 again");
	is_long(revents(q), POLLIN | POLLOUT, "some: POLLIN|POLLOUT");
	ok_sys(mq_send(q, "mid", 3, 3), "send prio 3");
	is_long(revents(q), POLLIN, "full: POLLIN only");
	mq_getattr(q, &g);
	is_long(g.mq_curmsgs, 4, "mq_curmsgs 4");
	r = read(q, buf, sizeof(buf) - 1);
	buf[r > 0 ? r : 0] = 0;
	ok(r > 0 && !strncmp(buf, "QSIZE:14 ", 9), "read gives QSIZE: %s", buf);
	is_long(read(q, buf, sizeof(buf)), 0, "second read: EOF");
	is_long(lseek(q, 0, SEEK_SET), 0, "lseek back");
	ok(read(q, buf, 6) == 6 && !strncmp(buf, "QSIZE:", 6), "read again");
	lseek(q, 0, SEEK_SET);
	is_errno(mq_receive(q, buf, 63, NULL), EMSGSIZE,
		 "buffer < mq_msgsize: EMSGSIZE");
	is_errno(mq_send(q, buf, 65, 0), EMSGSIZE, "message > mq_msgsize: EMSGSIZE");
	is_errno(mq_send(q, "x", 1, 32768), EINVAL, "prio >= MQ_PRIO_MAX: EINVAL");

	memset(buf, 0, sizeof(buf));
	r = mq_receive(q, buf, sizeof(buf), &prio);
	ok(r == 4 && prio == 5 && !strcmp(buf, "high"), "highest priority first");
	memset(buf, 0, sizeof(buf));
	r = mq_receive(q, buf, sizeof(buf), &prio);
	ok(r == 3 && prio == 3 && !strcmp(buf, "mid"), "then prio 3");
	memset(buf, 0, sizeof(buf));
	r = mq_receive(q, buf, sizeof(buf), &prio);
	ok(r == 3 && prio == 1 && !strcmp(buf, "low"), "FIFO within a priority");
	memset(buf, 0, sizeof(buf));
	r = mq_receive(q, buf, sizeof(buf), &prio);
	ok(r == 4 && prio == 1 && !strcmp(buf, "low2"), "second of prio 1");

	/* O_NONBLOCK through mq_setattr. */
	a.mq_flags = O_NONBLOCK;
	ok_sys(mq_setattr(q, &a, &g), "mq_setattr O_NONBLOCK");
	is_long(g.mq_flags, 0, "old flags returned");
	is_errno(mq_receive(q, buf, sizeof(buf), NULL), EAGAIN, "empty: EAGAIN");
	for (int i = 0; i < 4; i++)
		mq_send(q, "f", 1, 0);
	is_errno(mq_send(q, "f", 1, 0), EAGAIN, "full: EAGAIN");
	a.mq_flags = O_NONBLOCK | O_APPEND;
	is_errno(mq_setattr(q, &a, NULL), EINVAL, "other flags: EINVAL");
	a.mq_flags = 0;
	mq_setattr(q, &a, NULL);
	mq_getattr(q, &g);
	is_long(g.mq_flags, 0, "blocking again");

	/* Timeouts. */
	{
		struct timespec ts = in_ms(50);
		long t0 = now_ms();

		is_errno(mq_timedsend(q, "f", 1, 0, &ts), ETIMEDOUT,
			 "full, timed send: ETIMEDOUT");
		ok(now_ms() - t0 >= 40, "waited");
		while (mq_receive(q, buf, sizeof(buf), NULL) > 0) {
			mq_getattr(q, &g);
			if (!g.mq_curmsgs)
				break;
		}
		ts = in_ms(50);
		t0 = now_ms();
		is_errno(mq_timedreceive(q, buf, sizeof(buf), NULL, &ts), ETIMEDOUT,
			 "empty, timed receive: ETIMEDOUT");
		ok(now_ms() - t0 >= 40, "waited");
		ts.tv_nsec = 1000000000L;
		is_errno(mq_timedreceive(q, buf, sizeof(buf), NULL, &ts), EINVAL,
			 "bad timeout: EINVAL");
		ts = (struct timespec){ 0, 0 };
		is_errno(mq_timedreceive(q, buf, sizeof(buf), NULL, &ts), ETIMEDOUT,
			 "timeout in the past: ETIMEDOUT");
	}
	mq_send(q, "lost", 4, 0);
	is_errno(mq_receive(q, BAD_PTR, 64, NULL), EFAULT, "bad buffer: EFAULT");
	is_errno(mq_send(q, BAD_PTR, 4, 0), EFAULT, "bad message: EFAULT");
	ok_sys(mq_close(q), "mq_close");
	is_errno(mq_send(q, "x", 1, 0), EBADF, "closed descriptor: EBADF");
}

static void test_blocking(void)
{
	char buf[64];
	unsigned prio;
	mqd_t q = mq_open(qname, O_RDONLY);
	pid_t pid;
	ssize_t r;

	ok_sys(q, "reopen O_RDONLY");
	is_errno(mq_send(q, "x", 1, 0), EBADF, "send on O_RDONLY: EBADF");
	pid = fork();
	if (pid == 0) {
		mqd_t w = mq_open(qname, O_WRONLY);

		msleep(50);
		_exit(w < 0 || mq_send(w, "hello", 5, 7) ? 1 : 0);
	}
	memset(buf, 0, sizeof(buf));
	r = mq_receive(q, buf, sizeof(buf), &prio);
	ok(r == 5 && prio == 7 && !strcmp(buf, "hello"),
	   "blocking receive woken by a child's send");
	is_long(wait_child(pid), 0, "child sent");

	/* epoll readiness follows a send from another process. */
	{
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 7 }, out;
		int ep = epoll_create1(0);

		ok_sys(epoll_ctl(ep, EPOLL_CTL_ADD, q, &ev), "epoll_ctl ADD mq fd");
		is_long(epoll_wait(ep, &out, 1, 0), 0, "empty: not readable");
		pid = fork();
		if (pid == 0) {
			mqd_t w = mq_open(qname, O_WRONLY);

			msleep(50);
			_exit(w < 0 || mq_send(w, "e", 1, 0) ? 1 : 0);
		}
		ok(epoll_wait(ep, &out, 1, 5000) == 1 && out.data.u32 == 7 &&
			   (out.events & EPOLLIN),
		   "epoll_wait woken by the child's send");
		wait_child(pid);
		mq_receive(q, buf, sizeof(buf), NULL);
		close(ep);
	}
	mq_close(q);
}

static volatile sig_atomic_t got_sig;

static void test_notify(void)
{
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL,
				.sigev_signo = SIGUSR1 };
	mqd_t q = mq_open(qname, O_RDWR | O_NONBLOCK);
	struct timespec ts = { 2, 0 };
	char buf[64];
	siginfo_t si;
	sigset_t set;
	pid_t pid;
	ssize_t r;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sev.sigev_value.sival_int = 42;
	ok_sys(mq_notify(q, &sev), "mq_notify SIGEV_SIGNAL");
	is_errno(mq_notify(q, &sev), EBUSY, "second registration: EBUSY");
	r = read(q, buf, sizeof(buf) - 1);
	buf[r > 0 ? r : 0] = 0;
	ok(strstr(buf, "NOTIFY:0") && strstr(buf, "SIGNO:10"),
	   "read shows the registration: %s", buf);
	pid = fork();
	if (pid == 0) {
		mqd_t w = mq_open(qname, O_WRONLY);

		_exit(w < 0 || mq_send(w, "n", 1, 0) ? 1 : 0);
	}
	is_long(wait_child(pid), 0, "child sent to the empty queue");
	memset(&si, 0, sizeof(si));
	is_long(sigtimedwait(&set, &si, &ts), SIGUSR1, "notification signal");
	is_long(si.si_code, SI_MESGQ, "si_code SI_MESGQ");
	is_long(si.si_value.sival_int, 42, "si_value");
	is_long(si.si_pid, pid, "si_pid is the sender");
	ok_sys(mq_notify(q, &sev), "registration was removed: register again");
	ok_sys(mq_notify(q, NULL), "unregister");
	ok_sys(mq_notify(q, &sev), "register again");
	ok_sys(mq_send(q, "m", 1, 0), "send to a non-empty queue");
	ts = (struct timespec){ 0, 50000000L };
	is_errno(sigtimedwait(&set, &si, &ts), EAGAIN,
		 "no notification when the queue was not empty");
	ok_sys(mq_notify(q, NULL), "unregister");
	sev.sigev_notify = SIGEV_NONE;
	while (mq_receive(q, buf, sizeof(buf), NULL) > 0)
		;
	ok_sys(mq_notify(q, &sev), "SIGEV_NONE registration");
	mq_send(q, "z", 1, 0);
	ok_sys(mq_notify(q, &sev), "SIGEV_NONE consumed by the arrival");
	mq_notify(q, NULL);
	sev.sigev_notify = 99;
	is_errno(mq_notify(q, &sev), EINVAL, "bad sigev_notify: EINVAL");
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = 200;
	is_errno(mq_notify(q, &sev), EINVAL, "bad signal: EINVAL");
	is_errno(mq_notify(-1, NULL), EBADF, "bad fd: EBADF");
	is_errno(mq_notify(0, NULL), EBADF, "not a queue: EBADF");
	{
		mqd_t q2 = mq_open(qname, O_RDWR);

		sev.sigev_signo = SIGUSR1;
		ok_sys(mq_notify(q2, &sev), "register on a second description");
		mq_close(q2);
		q2 = mq_open(qname, O_RDWR);
		ok_sys(mq_notify(q2, &sev), "the owner's close dropped it");
		mq_notify(q2, NULL);
		mq_close(q2);
	}
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	mq_close(q);
}

static void test_names(void)
{
	struct mq_attr a = { .mq_maxmsg = 0, .mq_msgsize = 8 };
	char big[300];

	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = 0;
	is_errno(mq_open("noslash", O_RDWR | O_CREAT, 0600, NULL), EINVAL,
		 "no leading '/': EINVAL");
	is_errno(mq_open("/a/b", O_RDWR | O_CREAT, 0600, NULL), EACCES,
		 "'/' inside: EACCES");
	is_errno(mq_open(big, O_RDWR | O_CREAT, 0600, NULL), ENAMETOOLONG,
		 "too long: ENAMETOOLONG");
	is_errno(mq_open("/cvisor-mq-none-x", O_RDWR), ENOENT,
		 "missing without O_CREAT: ENOENT");
	is_errno(mq_open("/cvisor-mq-none-x", O_RDWR | O_CREAT, 0600, &a), EINVAL,
		 "mq_maxmsg 0: EINVAL");
	a.mq_maxmsg = 1;
	a.mq_msgsize = -1;
	is_errno(mq_open("/cvisor-mq-none-x", O_RDWR | O_CREAT, 0600, &a), EINVAL,
		 "mq_msgsize -1: EINVAL");
	is_errno(mq_open(qname, O_RDWR | O_WRONLY), EINVAL, "O_ACCMODE 3: EINVAL");
	if (geteuid() == 0) {
		pid_t pid = fork();

		if (pid == 0) {
			int r = 0;

			if (setuid(65534))
				_exit(9);
			if (mq_open(qname, O_WRONLY) != -1 || errno != EACCES)
				r |= 1;
			/* Linux's sticky mqueue root gives EPERM (may_delete);
			 * some hosts answer EACCES. */
			if (mq_unlink(qname) != -1 ||
			    (errno != EPERM && errno != EACCES))
				r |= 2;
			_exit(r);
		}
		is_long(wait_child(pid), 0, "other uid: EACCES open, unlink refused");
	} else {
		skip("not root", "permission checks");
	}
	{
		mqd_t q = mq_open(qname, O_RDWR | O_NONBLOCK);
		char buf[64];

		while (mq_receive(q, buf, sizeof(buf), NULL) > 0)
			;
		ok_sys(mq_unlink(qname), "mq_unlink");
		is_errno(mq_open(qname, O_RDWR), ENOENT, "unlinked: ENOENT");
		is_errno(mq_unlink(qname), ENOENT, "unlink again: ENOENT");
		ok(mq_send(q, "still", 5, 0) == 0 &&
			   mq_receive(q, buf, sizeof(buf), NULL) == 5,
		   "an open unlinked queue still works");
		mq_close(q);
	}
}

/* The mqueue file system (mq_overview(7) "Mounting the message queue
 * file system"): a mount lists the queues, a file's text is the QSIZE
 * line, unlink(2) there removes the queue. Natively this needs root (a
 * mount of our own on a scratch directory). */
static int listed(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (!strcmp(e->d_name, name))
			found = e->d_type == DT_REG ? 1 : 2;
	closedir(d);
	return found;
}

static void test_mqueue_fs(void)
{
	char dir[PATH_MAX], path[PATH_MAX + 64], text[256];
	struct mq_attr a = { .mq_maxmsg = 4, .mq_msgsize = 32 };
	unsigned long qsize;
	int notify, signo, npid;
	struct stat st;
	ssize_t n;
	mqd_t q;
	int fd;

	scratch_init("mqfs");
	snprintf(dir, sizeof(dir), "%s", SPATH("mq"));
	ok_sys(mkdir(dir, 0755), "mkdir a mount point");
	if (mount("none", dir, "mqueue", 0, NULL)) {
		skip("mount mqueue needs CAP_SYS_ADMIN", "mqueue fs (%s)",
		     strerror(errno));
		rmdir(dir);
		scratch_cleanup();
		return;
	}
	ok(stat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
	   (st.st_mode & 07777) == 01777, "mqueue root is a 01777 directory");
	q = mq_open(qname, O_CREAT | O_RDWR, 0640, &a);
	ok_sys(q, "mq_open O_CREAT");
	ok(mq_send(q, "hello", 5, 1) == 0 && mq_send(q, "hi", 2, 3) == 0,
	   "two messages");
	ok(listed(dir, qname + 1) == 1, "the queue is listed (DT_REG)");
	snprintf(path, sizeof(path), "%s/%s", dir, qname + 1);
	ok(stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	   (st.st_mode & 0777) == 0640 && st.st_uid == geteuid(),
	   "its mode and owner are the queue's");
	fd = open(path, O_RDONLY);
	ok_sys(fd, "open the queue's file");
	n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n < 0)
		n = 0;
	text[n] = '\0';
	ok(sscanf(text, "QSIZE:%lu NOTIFY:%d SIGNO:%d NOTIFY_PID:%d", &qsize,
		  &notify, &signo, &npid) == 4 && qsize >= 7 && notify == 0 &&
	   npid == 0 && text[n - 1] == '\n',
	   "cat: QSIZE:... NOTIFY:... SIGNO:... NOTIFY_PID:... (%.*s)",
	   (int)strcspn(text, "\n"), text);
	{
		struct statfs sf;

		/* Docker and runsc mount one at /dev/mqueue. */
		if (statfs("/dev/mqueue", &sf) == 0 && sf.f_type == 0x19800202)
			ok(listed("/dev/mqueue", qname + 1) == 1,
			   "/dev/mqueue lists it too");
		else
			skip("no mqueue mount at /dev/mqueue",
			     "/dev/mqueue lists it too");
	}
	{
		char q2[80];

		snprintf(q2, sizeof(q2), "%s-b", qname);
		mqd_t b = mq_open(q2, O_CREAT | O_RDWR, 0600, &a);

		ok(b != (mqd_t)-1 && listed(dir, q2 + 1) == 1 &&
		   listed(dir, qname + 1) == 1, "a second queue: both listed");
		mq_close(b);
		ok_sys(mq_unlink(q2), "mq_unlink the second");
		ok(listed(dir, q2 + 1) == 0, "mq_unlink: no longer listed");
		ok(stat(path, &st) == 0, "the first is still there");
	}
	is_errno(rmdir(path), ENOTDIR, "rmdir of a queue file: ENOTDIR");
	ok_sys(unlink(path), "unlink(2) in the mount removes the queue");
	ok(listed(dir, qname + 1) == 0, "no longer listed");
	is_errno(stat(path, &st), ENOENT, "stat: ENOENT");
	is_errno(mq_open(qname, O_RDWR), ENOENT, "mq_open: ENOENT");
	{
		char buf[8];
		unsigned prio;

		ok(mq_receive(q, buf, 32, &prio) == 2 && prio == 3,
		   "the open queue still works after the unlink");
	}
	mq_close(q);
	is_errno(unlink(path), ENOENT, "unlink again: ENOENT");
	ok_sys(umount(dir), "umount");
	rmdir(dir);
	scratch_cleanup();
}

int main(void)
{
	snprintf(qname, sizeof(qname), "/cvisor-mq-%d", getpid());
	test_basic();
	test_blocking();
	test_notify();
	test_names();
	test_mqueue_fs();
	return done_testing();
}

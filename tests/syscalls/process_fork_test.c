/* fork, vfork, clone, clone3, execve/execveat (#! scripts), exit, wait4/waitid,
 * zombies, reparenting to a subreaper, setpgid/setsid/getpgid/getsid.
 * Re-executes itself (argv[0]) with "--exec-child" / "--script-child" for the
 * exec cases. */
#include "tap.h"

#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static char *self;

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

static pid_t sys_fork(void)
{
	return (pid_t)syscall(SYS_fork);
}

static int child_exec_main(int argc, char **argv)
{
	/* --exec-child CODE: check argv and the environment, exit CODE. */
	const char *foo = getenv("CVISOR_FOO");
	if (argc != 3 || !foo || strcmp(foo, "bar"))
		return 99;
	return atoi(argv[2]);
}

static int script_child_main(int argc, char **argv)
{
	/* "#!self --script-child" run as SCRIPT a: argv = self --script-child SCRIPT a */
	if (argc != 4 || strcmp(argv[3], "a") || !strstr(argv[2], "script"))
		return 98;
	return 44;
}

static void test_fork_wait(void)
{
	int st = 0;
	pid_t me = getpid();
	pid_t c = sys_fork();
	if (c == 0)
		_exit(getppid() == me ? 42 : 1);
	ok(c > 0, "fork returns the child's pid (%d)", c);
	is_long(wait4(c, &st, 0, NULL), c, "wait4 returns the child");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 42, "exit status 42 and getppid in child (st=%#x)", st);
	is_errno(wait4(-1, &st, 0, NULL), ECHILD, "wait4 with no children -> ECHILD");
	is_errno(wait4(c, &st, WNOHANG, NULL), ECHILD, "wait4 on a reaped pid -> ECHILD");
	is_errno(wait4(-1, &st, 0x1000, NULL), EINVAL, "wait4 bad options -> EINVAL");
	is_errno(waitid(P_ALL, 0, NULL, 0), EINVAL, "waitid without WEXITED etc. -> EINVAL");
	is_errno(waitid(P_PID, 0, NULL, WEXITED), EINVAL, "waitid P_PID 0 -> EINVAL");

	/* WNOHANG while the child runs, then a blocking wait. */
	c = sys_fork();
	if (c == 0) {
		msleep(200);
		_exit(7);
	}
	is_long(wait4(c, &st, WNOHANG, NULL), 0, "WNOHANG on a running child -> 0");
	is_long(waitpid(-1, &st, 0), c, "waitpid(-1) blocks until the child exits");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 7, "status 7");

	/* Zombie: waitid WNOWAIT leaves it, wait4 reaps it. */
	c = sys_fork();
	if (c == 0)
		_exit(5);
	msleep(100);
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	is_long(waitid(P_PID, c, &si, WEXITED | WNOWAIT), 0, "waitid WNOWAIT on a zombie");
	ok(si.si_pid == c && si.si_code == CLD_EXITED && si.si_status == 5 &&
	   si.si_signo == SIGCHLD, "siginfo: pid, CLD_EXITED, status 5");
	is_long(wait4(c, &st, WNOHANG, NULL), c, "the zombie is still there after WNOWAIT");
	memset(&si, 0xff, sizeof(si));
	c = sys_fork();
	if (c == 0) {
		msleep(300);
		_exit(0);
	}
	is_long(waitid(P_ALL, 0, &si, WEXITED | WNOHANG), 0, "waitid WNOHANG nothing ready -> 0");
	is_long(si.si_pid, 0, "and si_pid is 0");
	is_long(waitid(P_PGID, 0, &si, WEXITED), 0, "waitid P_PGID 0 (own group)");
	is_long(si.si_pid, c, "reports the child");

	/* Death by a fault. */
	c = sys_fork();
	if (c == 0) {
		*(volatile int *)16 = 1;
		_exit(0);
	}
	is_long(wait4(c, &st, 0, NULL), c, "wait for a crashing child");
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "killed by SIGSEGV (st=%#x)", st);

	/* Many children, reaped in any order. */
	int n = 0;
	for (int i = 0; i < 20; i++) {
		pid_t p = sys_fork();
		if (p == 0)
			_exit(i);
		if (p > 0)
			n++;
	}
	int sum = 0, got = 0;
	while ((c = wait4(-1, &st, 0, NULL)) > 0) {
		got++;
		sum += WEXITSTATUS(st);
	}
	ok(n == 20 && got == 20 && sum == 190, "20 children reaped (%d, sum %d)", got, sum);
}

static void test_reparent(void)
{
	int st;
	/* We are a subreaper, so an orphaned grandchild comes to us (natively
	 * and in the sandbox alike). */
	is_long(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0, "PR_SET_CHILD_SUBREAPER");
	pid_t me = getpid();
	int *gc = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t c = sys_fork();
	if (c == 0) {
		pid_t g = sys_fork();
		if (g == 0) {
			pid_t old = getppid();
			for (int i = 0; i < 500 && getppid() == old; i++)
				msleep(10);
			_exit(getppid() == me ? 9 : 10);
		}
		*gc = g;
		_exit(0);
	}
	is_long(wait4(c, &st, 0, NULL), c, "middle child exits");
	pid_t g = *gc;
	ok(g > 0, "grandchild pid shared back (%d)", g);
	is_long(wait4(g, &st, 0, NULL), g, "the orphaned grandchild is our child now");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 9, "grandchild saw getppid() == us (st=%#x)", st);
	prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
	munmap(gc, 4096);
}

static void test_vfork(void)
{
	int st;
	long t0 = now_ms();
	pid_t c = vfork();
	if (c == 0) {
		/* Only async-signal-safe calls in a vfork child. */
		struct timespec ts = { 0, 150000000L };
		syscall(SYS_nanosleep, &ts, NULL);
		_exit(3);
	}
	long dt = now_ms() - t0;
	ok(c > 0, "vfork returns the child");
	ok(dt >= 140, "the parent waited for the child to exit (%ld ms)", dt);
	is_long(wait4(c, &st, 0, NULL), c, "reap the vfork child");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 3, "vfork child status 3");

	/* vfork + execve. */
	char *av[] = { "x", "--exec-child", "21", NULL };
	char *ev[] = { "CVISOR_FOO=bar", NULL };
	c = vfork();
	if (c == 0) {
		execve(self, av, ev);
		_exit(127);
	}
	is_long(wait4(c, &st, 0, NULL), c, "vfork+execve child");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 21, "exec'd image ran with argv/envp (st=%#x)", st);
}

static char scratch[256];

static void wfile(const char *path, const char *data, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd >= 0) {
		if (write(fd, data, strlen(data)) < 0)
			diag("write %s: %s", path, strerror(errno));
		close(fd);
	}
	chmod(path, mode);
}

static void test_execve(void)
{
	char *ev[] = { "CVISOR_FOO=bar", NULL };
	char path[512], p2[512];
	int st;

	char *av[] = { "x", "--exec-child", "33", NULL };
	pid_t c = sys_fork();
	if (c == 0) {
		execve(self, av, ev);
		_exit(127);
	}
	is_long(wait4(c, &st, 0, NULL), c, "fork+execve");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 33, "exec'd self exits 33 (st=%#x)", st);

	is_errno(execve("/nonexistent/x", av, ev), ENOENT, "execve missing file -> ENOENT");
	is_errno(syscall(SYS_execve, BAD_PTR, av, ev), EFAULT, "execve bad path -> EFAULT");
	is_errno(syscall(SYS_execve, self, BAD_PTR, ev), EFAULT, "execve bad argv -> EFAULT");
	is_errno(syscall(SYS_execveat, AT_FDCWD, self, av, ev, 0x1234), EINVAL,
		 "execveat bad flags -> EINVAL");
	is_errno(execve("", av, ev), ENOENT, "execve empty path -> ENOENT");
	{
		size_t big = 200 * 1024;
		char *s = malloc(big);
		memset(s, 'a', big - 1);
		s[big - 1] = 0;
		char *bav[] = { "x", s, NULL };
		is_errno(execve(self, bav, ev), E2BIG, "a 200 KiB argument -> E2BIG");
		free(s);
	}
	snprintf(path, sizeof(path), "%s/noexec", scratch);
	wfile(path, "data\n", 0644);
	is_errno(execve(path, av, ev), EACCES, "execve without an exec bit -> EACCES");
	snprintf(path, sizeof(path), "%s/garbage", scratch);
	wfile(path, "\x01\x02\x03 not an executable\n", 0755);
	is_errno(execve(path, av, ev), ENOEXEC, "execve of garbage -> ENOEXEC");
	snprintf(path, sizeof(path), "%s/badshebang", scratch);
	wfile(path, "#!\n", 0755);
	is_errno(execve(path, av, ev), ENOEXEC, "#! without an interpreter -> ENOEXEC");

	/* A #! script run by this binary. */
	char body[600];
	snprintf(path, sizeof(path), "%s/script1", scratch);
	snprintf(body, sizeof(body), "#!%s --script-child\necho not reached\n", self);
	wfile(path, body, 0755);
	char *sav[] = { path, "a", NULL };
	c = sys_fork();
	if (c == 0) {
		execve(path, sav, ev);
		_exit(127);
	}
	is_long(wait4(c, &st, 0, NULL), c, "fork+execve of a #! script");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 44,
	   "interpreter got argv = interp, arg, script, a (st=%#x)", st);

	/* Scripts whose interpreters are scripts: too deep gives ELOOP. */
	snprintf(p2, sizeof(p2), "%s/loop0", scratch);
	snprintf(body, sizeof(body), "#!%s\n", p2);
	wfile(p2, body, 0755);	/* interprets itself */
	is_errno(execve(p2, av, ev), ELOOP, "a self-interpreting script -> ELOOP");

	/* execveat with a directory fd, and AT_EMPTY_PATH on an fd. */
	int dfd = open(scratch, O_RDONLY | O_DIRECTORY);
	c = sys_fork();
	if (c == 0) {
		char *av2[] = { "x", "a", NULL };
		syscall(SYS_execveat, dfd, "script1", av2, ev, 0);
		_exit(127);
	}
	is_long(wait4(c, &st, 0, NULL), c, "execveat(dirfd, \"script1\")");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 44, "script ran via execveat (st=%#x)", st);
	close(dfd);
	int efd = open(self, O_RDONLY);
	c = sys_fork();
	if (c == 0) {
		char *av3[] = { "x", "--exec-child", "34", NULL };
		syscall(SYS_execveat, efd, "", av3, ev, AT_EMPTY_PATH);
		_exit(127);
	}
	is_long(wait4(c, &st, 0, NULL), c, "execveat(fd, \"\", AT_EMPTY_PATH)");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 34, "exit 34 (st=%#x)", st);
	close(efd);
}

static void test_clone(void)
{
	int st;
	is_errno(syscall(SYS_clone, CLONE_THREAD | SIGCHLD, 0, 0, 0, 0), EINVAL,
		 "CLONE_THREAD without CLONE_SIGHAND -> EINVAL");
	is_errno(syscall(SYS_clone, CLONE_SIGHAND | SIGCHLD, 0, 0, 0, 0), EINVAL,
		 "CLONE_SIGHAND without CLONE_VM -> EINVAL");
	is_errno(syscall(SYS_clone, CLONE_FS | CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0), EINVAL,
		 "CLONE_FS|CLONE_NEWNS -> EINVAL");

	/* clone with CHILD_SETTID / PARENT_SETTID, fork-like. */
	static int ptid, ctid;
	pid_t c = (pid_t)syscall(SYS_clone, CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | SIGCHLD,
				 0, &ptid, &ctid, 0);
	if (c == 0)
		_exit(ctid == getpid() ? 11 : 12);
	ok(c > 0 && ptid == c, "CLONE_PARENT_SETTID wrote the tid in the parent");
	is_long(wait4(c, &st, 0, NULL), c, "reap clone child");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 11, "CLONE_CHILD_SETTID wrote it in the child");

	/* exit signal 0: a "clone" child, seen only with __WCLONE/__WALL. */
	c = (pid_t)syscall(SYS_clone, 0, 0, 0, 0, 0);
	if (c == 0)
		_exit(13);
	msleep(50);
	is_errno(wait4(c, &st, WNOHANG, NULL), ECHILD, "a clone child is invisible to plain wait");
	is_long(wait4(c, &st, __WCLONE, NULL), c, "__WCLONE finds it");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 13, "status 13");

	/* clone3. */
	struct clone_args ca;
	memset(&ca, 0, sizeof(ca));
	ca.exit_signal = SIGCHLD;
	is_errno(syscall(SYS_clone3, &ca, 32), EINVAL, "clone3 size < 64 -> EINVAL");
	is_errno(syscall(SYS_clone3, &ca, 8192), E2BIG, "clone3 size > page -> E2BIG");
	{
		unsigned char big[128];
		memset(big, 0, sizeof(big));
		memcpy(big, &ca, sizeof(ca) < 88 ? sizeof(ca) : 88);
		big[100] = 1;
		is_errno(syscall(SYS_clone3, big, sizeof(big)), E2BIG,
			 "clone3 non-zero unknown tail -> E2BIG");
	}
	ca.flags = 0x11;	/* CSIGNAL bits in flags */
	is_errno(syscall(SYS_clone3, &ca, 64), EINVAL, "clone3 signal in flags -> EINVAL");
	ca.flags = 0;
	ca.exit_signal = 65;
	is_errno(syscall(SYS_clone3, &ca, 64), EINVAL, "clone3 exit_signal 65 -> EINVAL");
	ca.exit_signal = SIGCHLD;
	ca.stack_size = 4096;
	is_errno(syscall(SYS_clone3, &ca, 64), EINVAL, "clone3 stack_size without stack -> EINVAL");
	ca.stack_size = 0;
	ca.flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM;
	is_errno(syscall(SYS_clone3, &ca, 64), EINVAL, "clone3 CLONE_THREAD with exit_signal -> EINVAL");
	ca.flags = 0;
	c = (pid_t)syscall(SYS_clone3, &ca, 64);
	if (c == 0)
		_exit(14);
	ok(c > 0, "clone3 fork-like (%d)", c);
	is_long(wait4(c, &st, 0, NULL), c, "reap clone3 child");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 14, "clone3 child status 14");
}

static void test_pgid_sid(void)
{
	int st;
	is_long(getpgrp(), getpgid(0), "getpgrp == getpgid(0)");
	is_long(getsid(0), getsid(getpid()), "getsid(0) == getsid(self)");
	is_errno(setpgid(0, -1), EINVAL, "setpgid negative pgid -> EINVAL");
	is_errno(getpgid(0x3ffffff), ESRCH, "getpgid of no process -> ESRCH");
	is_errno(getsid(0x3ffffff), ESRCH, "getsid of no process -> ESRCH");
	is_errno(setpgid(0x3ffffff, 0), ESRCH, "setpgid of no process -> ESRCH");

	pid_t c = sys_fork();
	if (c == 0) {
		int r = 0;
		if (setpgid(0, 0) != 0 || getpgid(0) != getpid())
			r |= 1;
		if (setsid() != -1 || errno != EPERM)	/* group leader now */
			r |= 2;
		pid_t g = sys_fork();
		if (g == 0) {
			if (setsid() != getpid() || getsid(0) != getpid() || getpgrp() != getpid())
				_exit(1);
			if (setpgid(0, 0) != -1 || errno != EPERM)	/* session leader */
				_exit(2);
			_exit(0);
		}
		int gst;
		waitpid(g, &gst, 0);
		if (!WIFEXITED(gst) || WEXITSTATUS(gst))
			r |= 4 | (WEXITSTATUS(gst) << 4);
		_exit(r);
	}
	is_long(wait4(c, &st, 0, NULL), c, "pgid/sid child");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "setpgid/setsid rules in children (st=%#x)", st);

	/* The parent moves a child into a group of its own. */
	c = sys_fork();
	if (c == 0) {
		msleep(100);
		_exit(getpgrp() == getpid() ? 0 : 1);
	}
	is_long(setpgid(c, c), 0, "parent setpgid(child, child)");
	is_long(getpgid(c), c, "getpgid(child)");
	is_long(wait4(c, &st, 0, NULL), c, "reap");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child saw its own group");
}

static void test_nproc(void)
{
	int st;
	/* RLIMIT_NPROC applies to non-root users: a bounded fork bomb. */
	pid_t c = sys_fork();
	if (c == 0) {
		struct rlimit rl = { 4, 4 };
		if (setrlimit(RLIMIT_NPROC, &rl) || setgid(65534) || setuid(65534))
			_exit(100);
		int made = 0, err = 0;
		for (int i = 0; i < 64; i++) {
			pid_t g = sys_fork();
			if (g == 0) {
				msleep(300);
				_exit(0);
			}
			if (g < 0) {
				err = errno;
				break;
			}
			made++;
		}
		while (wait(NULL) > 0)
			;
		_exit(err == EAGAIN && made < 64 ? 0 : 1);
	}
	is_long(wait4(c, &st, 0, NULL), c, "nproc child");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fork beyond RLIMIT_NPROC -> EAGAIN (st=%#x)", st);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--exec-child"))
		return child_exec_main(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "--script-child"))
		return script_child_main(argc, argv);
	self = argv[0];
	snprintf(scratch, sizeof(scratch), "/tmp/cvisor-proc-%d", getpid());
	if (mkdir(scratch, 0755) && errno != EEXIST)
		snprintf(scratch, sizeof(scratch), "/tmp");
	test_fork_wait();
	test_reparent();
	test_vfork();
	if (self[0] == '/')
		test_execve();
	else
		skip("argv[0] is not an absolute path", "execve tests");
	test_clone();
	test_pgid_sid();
	test_nproc();
	return done_testing();
}

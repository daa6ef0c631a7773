/*
 * stopcont_test.c — job control between processes: SIGSTOP/SIGCONT sent with
 * kill(pid), tgkill, kill(-pgrp) and pidfd_send_signal, what the parent sees through wait4
 * (WUNTRACED, WCONTINUED) and through SIGCHLD (CLD_STOPPED, CLD_CONTINUED), and
 * SA_NOCLDSTOP silencing both.
 */
#include "tap.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static pid_t spawn_sleeper(int own_pgrp)
{
	pid_t c = fork();

	if (c == 0) {
		if (own_pgrp)
			setpgid(0, 0);
		for (;;)
			pause();
	}
	if (c > 0 && own_pgrp)
		setpgid(c, c); /* no race with the child's own call */
	return c;
}

/* Wait up to 5 s for SIGCHLD (blocked) and return its si_code, or -1. */
static int chld_code(pid_t child)
{
	struct timespec ts = { 5, 0 };
	siginfo_t si;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (;;) {
		int s = sigtimedwait(&set, &si, &ts);

		if (s < 0)
			return -1;
		if (si.si_pid == child)
			return si.si_code;
	}
}

static int do_cont(int how, pid_t c)
{
	switch (how) {
	case 0: return kill(c, SIGCONT);
	case 1: return (int)syscall(SYS_tgkill, c, c, SIGCONT);
	case 3: {
		int fd = (int)syscall(SYS_pidfd_open, c, 0), r;

		if (fd < 0)
			return -1;
		r = (int)syscall(SYS_pidfd_send_signal, fd, SIGCONT, NULL, 0);
		close(fd);
		return r;
	}
	default: return kill(-c, SIGCONT);
	}
}

static void stop_cont_round(int how, const char *name)
{
	pid_t c = spawn_sleeper(how == 2);
	int st = 0;

	ok(c > 0, "%s: fork", name);
	if (c <= 0)
		return;
	ok_sys(kill(c, SIGSTOP), "%s: SIGSTOP sent", name);
	is_long(waitpid(c, &st, WUNTRACED), c, "%s: waitpid WUNTRACED", name);
	ok(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, "%s: stopped by SIGSTOP (%#x)",
	   name, st);
	is_long(chld_code(c), CLD_STOPPED, "%s: SIGCHLD CLD_STOPPED", name);
	ok_sys(do_cont(how, c), "%s: SIGCONT sent", name);
	is_long(waitpid(c, &st, WCONTINUED), c, "%s: waitpid WCONTINUED", name);
	ok(WIFCONTINUED(st), "%s: continued (%#x)", name, st);
	is_long(chld_code(c), CLD_CONTINUED, "%s: SIGCHLD CLD_CONTINUED", name);
	/* A second SIGCONT on a running process reports nothing. */
	ok_sys(do_cont(how, c), "%s: SIGCONT to a running process", name);
	is_long(waitpid(c, &st, WCONTINUED | WNOHANG), 0,
		"%s: nothing to report after a redundant SIGCONT", name);
	kill(c, SIGKILL);
	is_long(waitpid(c, &st, 0), c, "%s: reaped", name);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "%s: killed (%#x)", name, st);
	while (chld_code(c) != CLD_KILLED && errno != EAGAIN)
		;
}

int main(void)
{
	struct sigaction sa;
	sigset_t set;
	pid_t c;
	int st;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);

	stop_cont_round(0, "kill");
	stop_cont_round(1, "tgkill");
	stop_cont_round(2, "kill(-pgrp)");
	stop_cont_round(3, "pidfd_send_signal");

	/* SA_NOCLDSTOP: the parent gets no SIGCHLD for stop and continue, but
	 * wait still reports both. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	c = spawn_sleeper(0);
	ok(c > 0, "SA_NOCLDSTOP: fork");
	if (c > 0) {
		struct timespec zero = { 0, 200 * 1000 * 1000 };
		siginfo_t si;

		kill(c, SIGSTOP);
		is_long(waitpid(c, &st, WUNTRACED), c, "SA_NOCLDSTOP: stop reported by wait");
		kill(c, SIGCONT);
		is_long(waitpid(c, &st, WCONTINUED), c,
			"SA_NOCLDSTOP: continue reported by wait");
		is_errno(sigtimedwait(&set, &si, &zero), EAGAIN,
			 "SA_NOCLDSTOP: no SIGCHLD queued for stop/continue");
		kill(c, SIGKILL);
		is_long(waitpid(c, &st, 0), c, "SA_NOCLDSTOP: reaped");
	}
	return done_testing();
}

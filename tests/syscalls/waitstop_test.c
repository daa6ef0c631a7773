/*
 * waitstop_test.c — stop/continue/kill churn between processes, as stress-ng
 * --wait does it: a "runner" that pauses, a "killer" that keeps sending it
 * SIGSTOP and SIGCONT, and the parent collecting WUNTRACED/WCONTINUED reports
 * with waitpid, wait4 and waitid; at the end the runner is killed, maybe while
 * stopped. Also SIGKILL to a stopped process (single and multi-threaded),
 * that a group stop stops and a SIGCONT continues every thread, and the
 * CLD_CONTINUED SIGCHLD when a third process sends the SIGCONT
 * (kernel/signal.c prepare_signal, get_signal, do_notify_parent_cldstop).
 * Every wait is bounded: a hang fails the test instead of blocking it.
 */
#include "tap.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* waitpid with a deadline: the pid, 0 on timeout, -1 on error. */
static pid_t wait_ms(pid_t pid, int *st, int options, long ms)
{
	long end = now_ms() + ms;

	for (;;) {
		pid_t r = waitpid(pid, st, options | WNOHANG);

		if (r != 0 || now_ms() >= end)
			return r;
		sleep_ms(1);
	}
}

static pid_t spawn_pauser(void)
{
	pid_t c = fork();

	if (c == 0) {
		alarm(60);
		for (;;)
			pause();
	}
	return c;
}

/* ---- SIGKILL to a stopped process ---- */

static atomic_long *ticks;	/* shared with children: one per thread */

static void *ticker(void *arg)
{
	atomic_long *mine = arg;

	for (;;) {
		atomic_fetch_add(mine, 1);
		sleep_ms(1);
	}
	return NULL;
}

/* A child with nthreads-1 extra threads, each bumping its own tick. */
static pid_t spawn_ticker(int nthreads)
{
	pid_t c = fork();

	if (c == 0) {
		pthread_t th;

		alarm(60);
		for (int i = 1; i < nthreads; i++)
			if (pthread_create(&th, NULL, ticker, &ticks[i]))
				_exit(3);
		ticker(&ticks[0]);
	}
	return c;
}

static bool all_ticking(int n, long wait)
{
	long before[8];

	for (int i = 0; i < n; i++)
		before[i] = atomic_load(&ticks[i]);
	for (long end = now_ms() + wait; now_ms() < end;) {
		bool all = true;

		for (int i = 0; i < n; i++)
			all = all && atomic_load(&ticks[i]) != before[i];
		if (all)
			return true;
		sleep_ms(2);
	}
	return false;
}

static bool none_ticking(int n, long ms)
{
	long before[8];

	for (int i = 0; i < n; i++)
		before[i] = atomic_load(&ticks[i]);
	sleep_ms(ms);
	for (int i = 0; i < n; i++)
		if (atomic_load(&ticks[i]) != before[i])
			return false;
	return true;
}

static void test_kill_stopped(int nthreads)
{
	pid_t c;
	int st = 0;

	for (int i = 0; i < 8; i++)
		atomic_store(&ticks[i], 0);
	c = spawn_ticker(nthreads);
	if (c < 0) {
		ok(0, "%d thread(s): fork", nthreads);
		return;
	}
	ok(all_ticking(nthreads, 5000), "%d thread(s): every thread runs",
	   nthreads);
	kill(c, SIGSTOP);
	is_long(wait_ms(c, &st, WUNTRACED, 5000), c,
		"%d thread(s): stop reported", nthreads);
	ok(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP,
	   "%d thread(s): stopped by SIGSTOP (%#x)", nthreads, st);
	ok(none_ticking(nthreads, 100), "%d thread(s): no thread runs while "
	   "stopped", nthreads);
	kill(c, SIGCONT);
	is_long(wait_ms(c, &st, WCONTINUED, 5000), c,
		"%d thread(s): continue reported", nthreads);
	ok(all_ticking(nthreads, 5000), "%d thread(s): every thread runs again",
	   nthreads);
	kill(c, SIGSTOP);
	is_long(wait_ms(c, &st, WUNTRACED, 5000), c,
		"%d thread(s): stopped again", nthreads);
	ok_sys(kill(c, SIGKILL), "%d thread(s): SIGKILL to the stopped process",
	       nthreads);
	is_long(wait_ms(c, &st, 0, 5000), c,
		"%d thread(s): the stopped process dies", nthreads);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	   "%d thread(s): killed by SIGKILL (%#x)", nthreads, st);
	if (WIFSTOPPED(st) || st == 0) {
		kill(c, SIGKILL);
		kill(c, SIGCONT);
		wait_ms(c, &st, 0, 2000);
	}
}

/* SIGSTOP and SIGKILL in a row, before the stop was even taken; and
 * SIGCONT and SIGKILL in a row on a stopped process. */
static void test_kill_races(void)
{
	int bad = 0, st;

	for (int i = 0; i < 50; i++) {
		pid_t c = spawn_pauser();

		if (c < 0)
			break;
		if (i & 1) {
			kill(c, SIGSTOP);
			kill(c, SIGKILL);
		} else {
			kill(c, SIGSTOP);
			wait_ms(c, &st, WUNTRACED, 5000);
			kill(c, SIGCONT);
			kill(c, SIGKILL);
		}
		st = 0;
		if (wait_ms(c, &st, 0, 5000) != c || !WIFSIGNALED(st) ||
		    WTERMSIG(st) != SIGKILL) {
			diag("  round %d: status %#x", i, st);
			bad++;
			kill(c, SIGKILL);
			kill(c, SIGCONT);
			wait_ms(c, &st, 0, 2000);
		}
	}
	is_long(bad, 0, "SIGSTOP/SIGCONT then SIGKILL at once: 50 children die");
}

/* ---- CLD_CONTINUED when a third process sends SIGCONT ---- */

static int chld_code(pid_t child, long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	siginfo_t si;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (;;) {
		if (sigtimedwait(&set, &si, &ts) < 0)
			return -1;
		if (si.si_pid == child)
			return si.si_code;
	}
}

static void test_third_party_cont(void)
{
	pid_t c, k;
	int st, hold[2];

	/* Standard signals coalesce: drop SIGCHLDs of earlier children. */
	while (chld_code(0, 0) >= 0)
		;
	c = spawn_pauser();
	if (c < 0) {
		ok(0, "third party: fork");
		return;
	}
	kill(c, SIGSTOP);
	is_long(wait_ms(c, &st, WUNTRACED, 5000), c, "third party: stopped");
	is_long(chld_code(c, 5000), CLD_STOPPED, "third party: CLD_STOPPED");
	/* The sender stays alive until the CLD_CONTINUED has been taken:
	 * its own exit's SIGCHLD, pending first, would swallow it (standard
	 * signals coalesce), natively too. */
	if (pipe(hold)) {
		ok(0, "third party: pipe");
		return;
	}
	k = fork();
	if (k == 0) {
		char b;
		int r = kill(c, SIGCONT) ? 1 : 0;

		close(hold[1]);
		while (read(hold[0], &b, 1) < 0 && errno == EINTR)
			;
		_exit(r);
	}
	close(hold[0]);
	is_long(wait_ms(c, &st, WCONTINUED, 5000), c,
		"third party: continue reported by wait");
	is_long(chld_code(c, 5000), CLD_CONTINUED,
		"third party: SIGCHLD CLD_CONTINUED from a sibling's SIGCONT");
	close(hold[1]);
	st = -1;
	wait_ms(k, &st, 0, 5000);
	is_long(st, 0, "third party: sender done");
	kill(c, SIGKILL);
	wait_ms(c, &st, 0, 5000);
	while (chld_code(c, 100) >= 0)
		;
}

/* ---- the stress-ng --wait pattern ---- */

static void test_churn(long ms)
{
	const int opts = WUNTRACED | WCONTINUED;
	pid_t runner, killer;
	long stops = 0, conts = 0, bad = 0, end;
	int st;

	runner = spawn_pauser();
	if (runner < 0) {
		ok(0, "churn: fork");
		return;
	}
	killer = fork();
	if (killer == 0) {
		alarm(60);
		end = now_ms() + ms;
		while (now_ms() < end) {
			kill(runner, SIGSTOP);
			sched_yield();
			kill(runner, SIGCONT);
		}
		/* Kill it, quite likely while stopped. */
		kill(runner, SIGSTOP);
		kill(runner, SIGKILL);
		_exit(0);
	}
	end = now_ms() + ms + 10000;
	for (int round = 0; now_ms() < end; round++) {
		siginfo_t si;
		pid_t r;

		st = 0;
		switch (round % 4) {
		case 0:
			r = waitpid(runner, &st, opts | WNOHANG);
			break;
		case 1:
			r = wait4(-1, &st, opts | WNOHANG, NULL);
			break;
		case 2:
			r = wait4(0, &st, opts | WNOHANG, NULL);
			break;
		default:
			memset(&si, 0, sizeof(si));
			r = waitid(P_PID, (id_t)runner, &si,
				   WEXITED | opts | WNOHANG) ? -1 : si.si_pid;
			if (r > 0)
				st = si.si_code == CLD_STOPPED ? 0x7f | (si.si_status << 8) :
				     si.si_code == CLD_CONTINUED ? 0xffff :
				     si.si_code == CLD_KILLED ? si.si_status : 0x100;
			break;
		}
		if (r == 0) {
			sleep_ms(1);
			continue;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;		/* ECHILD: both reaped */
		}
		if (WIFSTOPPED(st))
			stops++;
		else if (WIFCONTINUED(st))
			conts++;
		else if (r != killer && r != runner)
			bad++;
		else if (r == runner && !(WIFSIGNALED(st) &&
					  WTERMSIG(st) == SIGKILL))
			bad++;
	}
	diag("churn: %ld stop and %ld continue reports", stops, conts);
	ok(now_ms() < end, "churn: runner and killer both reaped in time");
	ok(stops > 0 && conts > 0, "churn: stops and continues were reported");
	is_long(bad, 0, "churn: no unexpected status");
	if (now_ms() >= end) {
		kill(runner, SIGKILL);
		kill(killer, SIGKILL);
		kill(runner, SIGCONT);
		wait_ms(runner, &st, 0, 2000);
		wait_ms(killer, &st, 0, 2000);
	}
}

int main(void)
{
	sigset_t set;

	alarm(120);
	ticks = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ticks == MAP_FAILED)
		bail_out("mmap");
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);

	test_kill_stopped(1);
	test_kill_stopped(3);
	test_kill_races();
	test_third_party_cont();
	test_churn(700);
	return done_testing();
}

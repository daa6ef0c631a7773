/* Signal delivery: handlers, frames, sigreturn, faults, waiting, restart.
 * signal(7), sigaction(2), sigaltstack(2), rt_sigtimedwait(2),
 * sigsuspend(2), arch/x86/kernel/signal.c (frame layout and alignment). */
#include "tap.h"

#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/ucontext.h>
#include <time.h>

static volatile sig_atomic_t hits, last_sig;
static volatile uint64_t seen_mask, seen_rsp, seen_code, seen_pid, seen_value;
static volatile uintptr_t seen_info, seen_uc, seen_addr;
static volatile int seen_onstack;

static uint64_t cur_mask(void)
{
	uint64_t m = 0;
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &m, 8);
	return m;
}

static void h_simple(int sig)
{
	hits++;
	last_sig = sig;
	seen_mask = cur_mask();
	uint64_t rsp;
	__asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
	seen_rsp = rsp;
}

static void h_info(int sig, siginfo_t *si, void *uc)
{
	hits++;
	last_sig = sig;
	seen_info = (uintptr_t)si;
	seen_uc = (uintptr_t)uc;
	seen_code = (uint64_t)(int64_t)si->si_code;
	seen_pid = (uint64_t)si->si_pid;
	seen_value = (uint64_t)si->si_value.sival_int;
	seen_addr = (uintptr_t)si->si_addr;
}

static int set_handler(int sig, void *h, int flags, uint64_t mask_bits)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	if (flags & SA_SIGINFO)
		sa.sa_sigaction = h;
	else
		sa.sa_handler = h;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	for (int s = 1; s <= 64; s++)
		if (mask_bits & (1ULL << (s - 1)))
			sigaddset(&sa.sa_mask, s);
	return sigaction(sig, &sa, NULL);
}

#define BIT(s) (1ULL << ((s) - 1))

static void test_raise(void)
{
	hits = 0;
	set_handler(SIGUSR1, h_simple, 0, BIT(SIGUSR2));
	raise(SIGUSR1);
	is_long(hits, 1, "raise(SIGUSR1) runs the handler");
	is_long(last_sig, SIGUSR1, "handler gets the signal number");
	ok((seen_mask & BIT(SIGUSR1)) && (seen_mask & BIT(SIGUSR2)),
	   "mask during handler = mask | sa_mask | sig");
	is_long(cur_mask() & (BIT(SIGUSR1) | BIT(SIGUSR2)), 0, "mask restored after sigreturn");
	/* At entry rsp % 16 == 8 (as after a call); inside the function the
	 * compiler's frame keeps rsp 16-aligned. */
	is_long(seen_rsp % 16, 0, "stack 16-byte aligned in the handler");

	hits = 0;
	kill(getpid(), SIGUSR1);
	is_long(hits, 1, "kill(getpid()) runs the handler");
	hits = 0;
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
	is_long(hits, 1, "tgkill runs the handler");
	hits = 0;
	syscall(SYS_tkill, syscall(SYS_gettid), SIGUSR1);
	is_long(hits, 1, "tkill runs the handler");
	signal(SIGUSR1, SIG_DFL);
}

static void test_siginfo(void)
{
	hits = 0;
	set_handler(SIGUSR2, h_info, SA_SIGINFO, 0);
	kill(getpid(), SIGUSR2);
	is_long(hits, 1, "SA_SIGINFO handler runs");
	is_long((long)seen_code, SI_USER, "kill: si_code SI_USER");
	is_long((long)seen_pid, getpid(), "kill: si_pid is the sender");
	ok(seen_info && seen_uc, "info and ucontext pointers passed");
	ucontext_t *uc = (ucontext_t *)seen_uc;
	(void)uc;
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2);
	is_long((long)seen_code, SI_TKILL, "tgkill: si_code SI_TKILL");

	union sigval v = { .sival_int = 4242 };
	sigqueue(getpid(), SIGUSR2, v);
	is_long((long)seen_code, SI_QUEUE, "sigqueue: si_code SI_QUEUE");
	is_long((long)seen_value, 4242, "sigqueue: si_value");

	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_code = SI_USER;
	is_errno(syscall(SYS_rt_sigqueueinfo, 1 == getpid() ? 2 : 1, SIGUSR2, &si), EPERM,
		 "rt_sigqueueinfo si_code >= 0 to another process -> EPERM");
	is_errno(syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR2, BAD_PTR), EFAULT,
		 "rt_sigqueueinfo bad info -> EFAULT");
	signal(SIGUSR2, SIG_DFL);
}

static void test_kill_errors(void)
{
	is_errno(kill(getpid(), 65), EINVAL, "kill sig 65 -> EINVAL");
	is_errno(kill(99999, SIGUSR1), ESRCH, "kill nonexistent pid -> ESRCH");
	is_long(kill(getpid(), 0), 0, "kill sig 0 probes");
	is_errno(syscall(SYS_tgkill, 0, 1, SIGUSR1), EINVAL, "tgkill tgid 0 -> EINVAL");
	is_errno(syscall(SYS_tkill, -1, SIGUSR1), EINVAL, "tkill tid -1 -> EINVAL");
	is_errno(syscall(SYS_tgkill, getpid(), 99999, SIGUSR1), ESRCH, "tgkill bad tid -> ESRCH");
	if (getpid() == 1) {
		/* init of a pid namespace ignores unhandled signals from
		 * inside it. */
		is_long(kill(1, SIGTERM), 0, "kill(1, SIGTERM) as init");
		is_long(1, 1, "init survived SIGTERM without a handler");
	} else {
		skip("not pid 1", "init ignores unhandled SIGTERM");
		skip("not pid 1", "init survived");
	}
}

static char altstk[65536] __attribute__((aligned(16)));

static void h_onstack(int sig)
{
	(void)sig;
	stack_t cur;
	char here;
	syscall(SYS_sigaltstack, NULL, &cur);
	seen_onstack = cur.ss_flags;
	seen_addr = (uintptr_t)&here;
	hits++;
}

static void test_altstack(void)
{
	stack_t ss = { .ss_sp = altstk, .ss_size = sizeof(altstk), .ss_flags = 0 };
	is_long(sigaltstack(&ss, NULL), 0, "sigaltstack set");
	set_handler(SIGUSR1, h_onstack, SA_ONSTACK, 0);
	hits = 0;
	raise(SIGUSR1);
	is_long(hits, 1, "SA_ONSTACK handler runs");
	ok(seen_addr >= (uintptr_t)altstk && seen_addr < (uintptr_t)altstk + sizeof(altstk),
	   "handler runs on the alternate stack");
	is_long(seen_onstack, SS_ONSTACK, "sigaltstack reports SS_ONSTACK inside");
	stack_t o;
	sigaltstack(NULL, &o);
	is_long(o.ss_flags, 0, "not on it after return");

	/* Without SA_ONSTACK the normal stack is used. */
	set_handler(SIGUSR1, h_onstack, 0, 0);
	raise(SIGUSR1);
	ok(!(seen_addr >= (uintptr_t)altstk && seen_addr < (uintptr_t)altstk + sizeof(altstk)),
	   "without SA_ONSTACK: normal stack");

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif
	ss.ss_flags = (int)SS_AUTODISARM;
	is_long(sigaltstack(&ss, NULL), 0, "sigaltstack SS_AUTODISARM");
	set_handler(SIGUSR1, h_onstack, SA_ONSTACK, 0);
	raise(SIGUSR1);
	is_long(seen_onstack, SS_DISABLE, "SS_AUTODISARM: disarmed inside the handler");
	sigaltstack(NULL, &o);
	ok(o.ss_sp == altstk && (o.ss_flags & SS_AUTODISARM), "re-armed after sigreturn");
	stack_t dis = { .ss_flags = SS_DISABLE };
	sigaltstack(&dis, NULL);
	signal(SIGUSR1, SIG_DFL);
}

static void test_resethand_nodefer(void)
{
	struct sigaction got;
	hits = 0;
	set_handler(SIGUSR1, h_simple, SA_RESETHAND, 0);
	raise(SIGUSR1);
	is_long(hits, 1, "SA_RESETHAND handler runs once");
	sigaction(SIGUSR1, NULL, &got);
	ok(got.sa_handler == SIG_DFL, "SA_RESETHAND: disposition reset to SIG_DFL");

	set_handler(SIGUSR1, h_simple, SA_NODEFER, 0);
	raise(SIGUSR1);
	is_long(seen_mask & BIT(SIGUSR1), 0, "SA_NODEFER: signal not blocked in its handler");
	signal(SIGUSR1, SIG_DFL);
}

/* Registers across a handler: the handler clobbers callee- and
 * caller-saved registers; sigreturn must bring them all back. */
static void h_clobber(int sig)
{
	(void)sig;
	__asm__ volatile(
		"mov $0x1111, %%rbx\n mov $0x2222, %%r12\n mov $0x3333, %%r13\n"
		"mov $0x4444, %%r14\n mov $0x5555, %%r15\n mov $0x6666, %%r8\n"
		"mov $0x7777, %%r9\n mov $0x8888, %%r10\n mov $0x9999, %%r11\n"
		"pxor %%xmm0, %%xmm0\n pxor %%xmm7, %%xmm7\n"
		::: "rbx", "r12", "r13", "r14", "r15", "r8", "r9", "r10", "r11", "xmm0", "xmm7");
	hits++;
}

uint64_t g_out[7], g_x0[2], g_x7[2];
long g_pid, g_tid;

static void test_regs_restored(void)
{
	set_handler(SIGUSR1, h_clobber, 0, 0);
	hits = 0;
	g_tid = syscall(SYS_gettid);
	g_pid = getpid();
	/* Signal ourselves with a raw tgkill; the handler runs as the call
	 * returns, with every register live. */
	__asm__ volatile(
		"mov $0xa1, %%rbx\n mov $0xa2, %%r12\n mov $0xa3, %%r13\n"
		"mov $0xa4, %%r14\n mov $0xa5, %%r15\n mov $0xa6, %%r8\n"
		"mov $0xa7, %%r9\n"
		"movq %%rbx, %%xmm0\n movq %%r12, %%xmm7\n"
		"mov g_pid(%%rip), %%rdi\n mov g_tid(%%rip), %%rsi\n mov %[sig], %%edx\n"
		"mov %[nr], %%eax\n syscall\n"
		"mov %%rbx, g_out(%%rip)\n mov %%r12, g_out+8(%%rip)\n mov %%r13, g_out+16(%%rip)\n"
		"mov %%r14, g_out+24(%%rip)\n mov %%r15, g_out+32(%%rip)\n mov %%r8, g_out+40(%%rip)\n"
		"mov %%r9, g_out+48(%%rip)\n"
		"movdqu %%xmm0, g_x0(%%rip)\n movdqu %%xmm7, g_x7(%%rip)\n"
		:
		: [sig] "i"(SIGUSR1), [nr] "i"(SYS_tgkill)
		: "rax", "rbx", "rcx", "rdx", "rdi", "rsi", "r8", "r9", "r10", "r11",
		  "r12", "r13", "r14", "r15", "xmm0", "xmm7", "memory");
	is_long(hits, 1, "handler ran between the syscall and the next insn");
	ok(g_out[0] == 0xa1 && g_out[1] == 0xa2 && g_out[2] == 0xa3 && g_out[3] == 0xa4 &&
	   g_out[4] == 0xa5 && g_out[5] == 0xa6 && g_out[6] == 0xa7,
	   "general registers restored by sigreturn");
	ok(g_x0[0] == 0xa1 && g_x7[0] == 0xa2, "xmm registers restored by sigreturn");
	signal(SIGUSR1, SIG_DFL);
}

static sigjmp_buf jb;

static void h_fault(int sig, siginfo_t *si, void *uc)
{
	last_sig = sig;
	seen_code = (uint64_t)(int64_t)si->si_code;
	seen_addr = (uintptr_t)si->si_addr;
	(void)uc;
	siglongjmp(jb, 1);
}

static void test_faults(void)
{
	set_handler(SIGSEGV, h_fault, SA_SIGINFO | SA_NODEFER, 0);
	if (!sigsetjmp(jb, 1)) {
		*(volatile int *)0 = 1;
		ok(0, "NULL write faulted");
	} else {
		is_long(last_sig, SIGSEGV, "NULL write -> SIGSEGV");
		is_long((long)seen_code, SEGV_MAPERR, "si_code SEGV_MAPERR");
		is_long((long)seen_addr, 0, "si_addr is the faulting address");
	}
	if (!sigsetjmp(jb, 1)) {
		*(volatile int *)(uintptr_t)"readonly literal" = 1;
		ok(0, "read-only write faulted");
	} else {
		is_long((long)seen_code, SEGV_ACCERR, "write to a read-only page: SEGV_ACCERR");
	}
	ok(1, "recovered with siglongjmp");

	set_handler(SIGFPE, h_fault, SA_SIGINFO, 0);
	if (!sigsetjmp(jb, 1)) {
		volatile int z = 0;
		volatile int r = 1 / z;
		(void)r;
	} else {
		is_long(last_sig, SIGFPE, "division by zero -> SIGFPE");
		is_long((long)seen_code, FPE_INTDIV, "si_code FPE_INTDIV");
	}
	set_handler(SIGILL, h_fault, SA_SIGINFO, 0);
	if (!sigsetjmp(jb, 1)) {
		__asm__ volatile("ud2");
	} else {
		is_long(last_sig, SIGILL, "ud2 -> SIGILL");
		is_long((long)seen_code, ILL_ILLOPN, "si_code ILL_ILLOPN");
	}
	set_handler(SIGTRAP, h_fault, SA_SIGINFO, 0);
	if (!sigsetjmp(jb, 1)) {
		__asm__ volatile("int3");
	} else {
		is_long(last_sig, SIGTRAP, "int3 -> SIGTRAP");
		is_long((long)seen_code, SI_KERNEL, "int3: si_code SI_KERNEL");
	}
	signal(SIGSEGV, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
	signal(SIGILL, SIG_DFL);
	signal(SIGTRAP, SIG_DFL);
}

static void test_pending_and_wait(void)
{
	sigset_t set, old, pend;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &set, &old);
	hits = 0;
	set_handler(SIGUSR1, h_simple, 0, 0);
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
	is_long(hits, 0, "blocked signal not delivered");
	sigpending(&pend);
	ok(sigismember(&pend, SIGUSR1), "sigpending shows it");

	siginfo_t si;
	struct timespec ts = { 0, 0 };
	/* Raw call: glibc's sigtimedwait rewrites SI_TKILL to SI_USER. */
	is_long(syscall(SYS_rt_sigtimedwait, &set, &si, &ts, 8), SIGUSR1, "sigtimedwait takes it");
	is_long(si.si_code, SI_TKILL, "tgkill: SI_TKILL");
	is_errno(sigtimedwait(&set, &si, &ts), EAGAIN, "standard signals coalesce: only one");

	union sigval v;
	v.sival_int = 1; sigqueue(getpid(), SIGRTMIN, v);
	v.sival_int = 2; sigqueue(getpid(), SIGRTMIN, v);
	is_long(sigtimedwait(&set, &si, &ts), SIGRTMIN, "rt signal 1");
	is_long(si.si_value.sival_int, 1, "rt signals queue in order (1)");
	is_long(sigtimedwait(&set, &si, &ts), SIGRTMIN, "rt signal 2");
	is_long(si.si_value.sival_int, 2, "rt signals queue in order (2)");

	struct timespec t0, t1, to = { 0, 50 * 1000 * 1000 };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_errno(sigtimedwait(&set, &si, &to), EAGAIN, "sigtimedwait times out");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ok((t1.tv_sec - t0.tv_sec) * 1000000000L + t1.tv_nsec - t0.tv_nsec >= 45000000L,
	   "after about the timeout");
	struct timespec badts = { 0, 1000000000 };
	is_errno(sigtimedwait(&set, &si, &badts), EINVAL, "bad timeout -> EINVAL");

	/* sigsuspend: atomically unblock and wait. */
	hits = 0;
	raise(SIGUSR1);
	sigset_t none;
	sigemptyset(&none);
	is_errno(sigsuspend(&none), EINTR, "sigsuspend returns EINTR after the handler");
	is_long(hits, 1, "handler ran inside sigsuspend");
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	ok(sigismember(&now, SIGUSR1), "sigsuspend restored the mask");

	/* Ignoring a pending signal discards it. */
	raise(SIGUSR1);
	signal(SIGUSR1, SIG_IGN);
	sigpending(&pend);
	ok(!sigismember(&pend, SIGUSR1), "SIG_IGN discards the pending signal");
	signal(SIGUSR1, SIG_DFL);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static int alarm_pipe = -1;

static void h_alarm(int sig)
{
	(void)sig;
	hits++;
	if (hits == 2 && alarm_pipe >= 0)
		write(alarm_pipe, "x", 1);
}

static void test_restart(void)
{
	int p[2];
	char c;
	struct itimerval it = { { 0, 0 }, { 0, 50000 } };

	/* A blocking read: EINTR without SA_RESTART. */
	if (pipe(p) == 0) {
		set_handler(SIGALRM, h_alarm, 0, 0);
		hits = 0;
		setitimer(ITIMER_REAL, &it, NULL);
		is_errno(read(p[0], &c, 1), EINTR, "read of an empty pipe: EINTR without SA_RESTART");
		is_long(hits, 1, "alarm handler ran");
		/* With SA_RESTART the read restarts after the first alarm;
		 * the second alarm's handler writes the byte it returns. */
		struct itimerval per = { { 0, 30000 }, { 0, 30000 } }, off = { { 0, 0 }, { 0, 0 } };
		set_handler(SIGALRM, h_alarm, SA_RESTART, 0);
		hits = 0;
		alarm_pipe = p[1];
		setitimer(ITIMER_REAL, &per, NULL);
		is_long(read(p[0], &c, 1), 1, "SA_RESTART: read restarted and got the byte");
		setitimer(ITIMER_REAL, &off, NULL);
		ok(hits >= 2, "two alarms interrupted it");
		alarm_pipe = -1;
		close(p[0]);
		close(p[1]);
	} else {
		skip("no pipes", "read EINTR");
		skip("no pipes", "alarm handler");
		skip("no pipes", "SA_RESTART read");
		skip("no pipes", "two alarms");
	}
	/* nanosleep is never restarted after a handler: EINTR + rem. */
	set_handler(SIGALRM, h_alarm, SA_RESTART, 0);
	hits = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	struct timespec req = { 2, 0 }, rem = { 0, 0 };
	is_errno(nanosleep(&req, &rem), EINTR, "nanosleep interrupted by a handler: EINTR even with SA_RESTART");
	ok(rem.tv_sec >= 1 && rem.tv_sec <= 2, "remaining time reported");
	/* pause: ERESTARTNOHAND -> EINTR with a handler. */
	setitimer(ITIMER_REAL, &it, NULL);
	is_errno(pause(), EINTR, "pause returns EINTR");
	signal(SIGALRM, SIG_DFL);
}

/* A SIGSEGV handler that returns after fixing nothing is re-entered;
 * instead check sigreturn with a corrupted frame kills... not testable
 * without fork. Check that SA_RESTORER is required by the kernel ABI:
 * glibc always sets it, so this just documents the behaviour. */

int main(void)
{
	test_raise();
	test_siginfo();
	test_kill_errors();
	test_altstack();
	test_resethand_nodefer();
	test_regs_restored();
	test_faults();
	test_pending_and_wait();
	test_restart();
	return done_testing();
}

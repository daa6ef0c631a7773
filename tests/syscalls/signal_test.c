/* rt_sigaction / rt_sigprocmask / sigaltstack bookkeeping only — no signal is ever
 * delivered (that is the next milestone). rt_sigaction(2), sigprocmask(2),
 * sigaltstack(2), kernel/signal.c do_sigaction(), sigprocmask(). */
#include "tap.h"

#include <signal.h>
#include <stdint.h>

/* The kernel's struct sigaction on x86-64 (not glibc's). */
struct ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};
#define KSET 8 /* sizeof(kernel sigset_t) */
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif
#define BIT(s) (1ULL << ((s) - 1))

static void handler(int sig) { (void)sig; }
static void restorer(void) {}

static long sigact(int sig, const struct ksigaction *a, struct ksigaction *o, size_t sz)
{
	return syscall(SYS_rt_sigaction, sig, a, o, sz);
}
static long procmask(int how, const uint64_t *s, uint64_t *o, size_t sz)
{
	return syscall(SYS_rt_sigprocmask, how, s, o, sz);
}

static void test_sigaction(void)
{
	struct ksigaction orig, act = { 0 }, got;
	is_long(sigact(SIGUSR1, NULL, &orig, KSET), 0, "get SIGUSR1 disposition");
	is_long((long)orig.handler, (long)SIG_DFL, "initial disposition is SIG_DFL");

	act.handler = (void *)handler;
	act.flags = SA_RESTORER | SA_RESTART | SA_SIGINFO | SA_ONSTACK;
	act.restorer = (void *)restorer;
	act.mask = BIT(SIGUSR2) | BIT(SIGTERM) | BIT(SIGRTMIN + 3);
	is_long(sigact(SIGUSR1, &act, NULL, KSET), 0, "set SIGUSR1 handler");
	memset(&got, 0, sizeof(got));
	is_long(sigact(SIGUSR1, NULL, &got, KSET), 0, "get it back");
	is_long((long)got.handler, (long)handler, "handler recorded");
	is_long((long)got.flags, (long)act.flags, "flags recorded");
	is_long((long)got.restorer, (long)restorer, "restorer recorded");
	is_long((long)got.mask, (long)act.mask, "mask recorded");

	/* old action is returned atomically when setting. */
	struct ksigaction ign = { .handler = SIG_IGN, .flags = SA_RESTORER, .restorer = (void *)restorer };
	memset(&got, 0, sizeof(got));
	is_long(sigact(SIGUSR1, &ign, &got, KSET), 0, "set SIG_IGN, fetch old");
	is_long((long)got.handler, (long)handler, "old action returned when replacing");
	sigact(SIGUSR1, NULL, &got, KSET);
	is_long((long)got.handler, (long)SIG_IGN, "SIG_IGN recorded");

	/* SIGKILL and SIGSTOP are silently removed from sa_mask. */
	act.mask = BIT(SIGKILL) | BIT(SIGSTOP) | BIT(SIGHUP);
	sigact(SIGUSR2, &act, NULL, KSET);
	sigact(SIGUSR2, NULL, &got, KSET);
	is_long((long)got.mask, (long)BIT(SIGHUP), "SIGKILL/SIGSTOP dropped from sa_mask");

	/* Real-time signals up to 64. */
	act.mask = 0;
	is_long(sigact(64, &act, NULL, KSET), 0, "sigaction on signal 64");
	sigact(64, NULL, &got, KSET);
	is_long((long)got.handler, (long)handler, "signal 64 recorded");

	is_errno(sigact(SIGKILL, &act, NULL, KSET), EINVAL, "set SIGKILL -> EINVAL");
	is_errno(sigact(SIGSTOP, &act, NULL, KSET), EINVAL, "set SIGSTOP -> EINVAL");
	is_errno(sigact(SIGKILL, &ign, NULL, KSET), EINVAL, "SIG_IGN for SIGKILL -> EINVAL");
	is_long(sigact(SIGKILL, NULL, &got, KSET), 0, "get SIGKILL is allowed");
	is_long((long)got.handler, (long)SIG_DFL, "SIGKILL is SIG_DFL");
	is_errno(sigact(0, NULL, &got, KSET), EINVAL, "signal 0 -> EINVAL");
	is_errno(sigact(65, NULL, &got, KSET), EINVAL, "signal 65 -> EINVAL");
	is_errno(sigact(-1, NULL, &got, KSET), EINVAL, "signal -1 -> EINVAL");
	is_errno(sigact(SIGUSR1, &act, NULL, 4), EINVAL, "sigsetsize 4 -> EINVAL");
	is_errno(sigact(SIGUSR1, &act, NULL, 16), EINVAL, "sigsetsize 16 -> EINVAL");
	is_errno(sigact(SIGUSR1, NULL, NULL, 0), EINVAL, "sigsetsize checked first (0, NULLs) -> EINVAL");
	is_errno(sigact(SIGUSR1, BAD_PTR, NULL, KSET), EFAULT, "act (void*)1 -> EFAULT");
	is_errno(sigact(SIGUSR1, NULL, KERNEL_PTR, KSET), EFAULT, "oldact kernel address -> EFAULT");
	sigact(SIGUSR1, NULL, &got, KSET);
	is_long((long)got.handler, (long)SIG_IGN, "failed calls did not change the action");
	is_long(sigact(SIGUSR1, NULL, NULL, KSET), 0, "both NULL is a no-op");

	sigact(SIGUSR1, &orig, NULL, KSET);
	sigact(SIGUSR2, &orig, NULL, KSET);
	sigact(64, &orig, NULL, KSET);
}

static void test_sigprocmask(void)
{
	uint64_t orig, set, got;
	is_long(procmask(SIG_BLOCK, NULL, &orig, KSET), 0, "get current mask");

	set = BIT(SIGUSR1) | BIT(SIGRTMIN);
	is_long(procmask(SIG_SETMASK, &set, NULL, KSET), 0, "SIG_SETMASK");
	procmask(SIG_BLOCK, NULL, &got, KSET);
	is_long((long)got, (long)set, "mask reads back");
	set = BIT(SIGUSR2);
	uint64_t old = 0;
	is_long(procmask(SIG_BLOCK, &set, &old, KSET), 0, "SIG_BLOCK adds");
	is_long((long)old, (long)(BIT(SIGUSR1) | BIT(SIGRTMIN)), "old mask returned");
	procmask(SIG_BLOCK, NULL, &got, KSET);
	is_long((long)got, (long)(BIT(SIGUSR1) | BIT(SIGUSR2) | BIT(SIGRTMIN)), "union after SIG_BLOCK");
	set = BIT(SIGUSR1);
	is_long(procmask(SIG_UNBLOCK, &set, NULL, KSET), 0, "SIG_UNBLOCK removes");
	procmask(SIG_BLOCK, NULL, &got, KSET);
	is_long((long)got, (long)(BIT(SIGUSR2) | BIT(SIGRTMIN)), "difference after SIG_UNBLOCK");

	set = BIT(SIGKILL) | BIT(SIGSTOP) | BIT(SIGHUP);
	is_long(procmask(SIG_SETMASK, &set, NULL, KSET), 0, "try to block SIGKILL/SIGSTOP");
	procmask(SIG_BLOCK, NULL, &got, KSET);
	is_long((long)got, (long)BIT(SIGHUP), "SIGKILL/SIGSTOP cannot be blocked");
	set = ~0ULL;
	procmask(SIG_BLOCK, &set, NULL, KSET);
	procmask(SIG_BLOCK, NULL, &got, KSET);
	is_long((long)got, (long)(~0ULL & ~(BIT(SIGKILL) | BIT(SIGSTOP))), "block all = all but KILL/STOP");

	is_errno(procmask(3, &set, NULL, KSET), EINVAL, "bad how -> EINVAL");
	is_errno(procmask(-1, &set, NULL, KSET), EINVAL, "how -1 -> EINVAL");
	is_long(procmask(99, NULL, &got, KSET), 0, "how ignored when set is NULL");
	is_errno(procmask(SIG_BLOCK, &set, NULL, 4), EINVAL, "sigsetsize 4 -> EINVAL");
	is_errno(procmask(SIG_BLOCK, NULL, &got, 16), EINVAL, "sigsetsize 16 -> EINVAL");
	is_errno(procmask(SIG_SETMASK, BAD_PTR, NULL, KSET), EFAULT, "set (void*)1 -> EFAULT");
	is_errno(procmask(SIG_SETMASK, NULL, KERNEL_PTR, KSET), EFAULT, "oldset kernel address -> EFAULT");
	set = 0;
	procmask(SIG_SETMASK, &set, NULL, KSET);
	procmask(SIG_BLOCK, NULL, &got, KSET);
	is_long((long)got, 0, "SIG_SETMASK 0 unblocks everything");
	procmask(SIG_SETMASK, &orig, NULL, KSET);
}

static void test_sigaltstack(void)
{
	static char stk[64 * 1024];
	stack_t ss = { .ss_sp = stk, .ss_size = sizeof(stk), .ss_flags = 0 }, old;
	memset(&old, 0xff, sizeof(old));
	is_long(syscall(SYS_sigaltstack, NULL, &old), 0, "sigaltstack get");
	is_long(old.ss_flags, SS_DISABLE, "initially SS_DISABLE");
	is_long(syscall(SYS_sigaltstack, &ss, NULL), 0, "sigaltstack set 64 KiB");
	memset(&old, 0, sizeof(old));
	syscall(SYS_sigaltstack, NULL, &old);
	ok(old.ss_sp == stk && old.ss_size == sizeof(stk) && old.ss_flags == 0, "alt stack recorded");
	stack_t small = { .ss_sp = stk, .ss_size = 512, .ss_flags = 0 };
	is_errno(syscall(SYS_sigaltstack, &small, NULL), ENOMEM, "size < MINSIGSTKSZ -> ENOMEM");
	stack_t badf = { .ss_sp = stk, .ss_size = sizeof(stk), .ss_flags = 0x1234 };
	is_errno(syscall(SYS_sigaltstack, &badf, NULL), EINVAL, "bad ss_flags -> EINVAL");
	is_errno(syscall(SYS_sigaltstack, BAD_PTR, NULL), EFAULT, "ss (void*)1 -> EFAULT");
	stack_t dis = { .ss_flags = SS_DISABLE };
	is_long(syscall(SYS_sigaltstack, &dis, NULL), 0, "SS_DISABLE");
	syscall(SYS_sigaltstack, NULL, &old);
	is_long(old.ss_flags, SS_DISABLE, "disabled again");
}

int main(void)
{
	test_sigaction();
	test_sigprocmask();
	test_sigaltstack();
	return done_testing();
}

/* trap_bench: cost of catching a syscall with a SIGSYS handler in the same
 * process, the systrap platform's floor: native getpid, then the same
 * syscall instruction caught by Syscall User Dispatch (prctl
 * PR_SET_SYSCALL_USER_DISPATCH), then by a seccomp filter returning
 * SECCOMP_RET_TRAP. The handler "emulates" the call by writing rax in the
 * frame, as stub_handler + the sentry do. Host only (not run under cvisor:
 * it installs a seccomp filter). Not in bench/run.sh's table. */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "bench.h"

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_OFF 0
#define PR_SYS_DISPATCH_ON 1
#endif

/* The trapped syscall lives on its own page, far above the static
 * binary, so one address test (SUD's allowed range, the filter's IP
 * check) separates it from libc's own calls (rt_sigreturn). */
#define TRAP_PAGE 0x7e0000000000UL
static long (*trap_getpid)(void);
static volatile long handled;

static void on_sigsys(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;

	(void)sig;
	(void)si;
	uc->uc_mcontext.gregs[REG_RAX] = 4242;
	handled++;
}

static void op_native(void) { syscall(SYS_getpid); }
static void op_trap(void) { trap_getpid(); }

int main(int argc, char **argv)
{
	/* mov $39,%eax; syscall; ret */
	static const unsigned char code[] = { 0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xc3 };
	struct sigaction sa;
	void *page;

	page = mmap((void *)TRAP_PAGE, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (page != (void *)TRAP_PAGE)
		return 1;
	memcpy(page, code, sizeof(code));
	mprotect(page, 4096, PROT_READ | PROT_EXEC);
	trap_getpid = (long (*)(void))page;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, NULL);

	printf("native_getpid %.1f\n", bench_run(argc, argv, op_native));

	/* SUD: everything below TRAP_PAGE is allowed; no selector byte
	 * means every other syscall is dispatched. */
	if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0UL,
		  TRAP_PAGE, 0UL) == 0) {
		handled = 0;
		double ns = bench_run(argc, argv, op_trap);

		prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0);
		printf("sud_sigsys %.1f%s\n", ns, handled ? "" : " (not trapped)");
	} else {
		printf("sud_sigsys n/a\n");
	}

	/* seccomp: TRAP when the IP is on the trap page, else ALLOW. */
	{
		struct sock_filter f[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
				 offsetof(struct seccomp_data, arch)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
				 offsetof(struct seccomp_data, instruction_pointer) + 4),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
				 (uint32_t)(TRAP_PAGE >> 32), 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0) {
			handled = 0;
			double ns = bench_run(argc, argv, op_trap);

			printf("seccomp_trap_sigsys %.1f%s\n", ns,
			       handled ? "" : " (not trapped)");
			printf("native_getpid_under_filter %.1f\n",
			       bench_run(argc, argv, op_native));
		} else {
			printf("seccomp_trap_sigsys n/a\n");
		}
	}
	return 0;
}

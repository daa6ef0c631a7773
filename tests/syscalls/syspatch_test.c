/*
 * syspatch_test: syscall sites of the form `mov $nr,%eax; syscall`, which
 * systrap patches into a jump to its trampoline (docs/architecture.md,
 * "Syscall patching"). Everything here must hold natively too: the same
 * results, registers as the syscall ABI leaves them (rcx = the address
 * after the syscall, r11 = rflags, the rest and the vector registers
 * preserved), the red zone untouched, signals with an exact interrupted
 * context, fork, threads, execve, and the executable's bytes as read from
 * its file unchanged. Whether the patched path was really taken is checked
 * by tests/integration/test_syspatch.sh (systrap's debug counters).
 */
#include <elf.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>

#include "tap.h"

#ifndef ARCH_SET_GS
#define ARCH_SET_GS 0x1001
#define ARCH_GET_GS 0x1004
#endif

/* Each site is 16-byte aligned (so even a multi-threaded process can have
 * it patched with one atomic store) and exists once. */
extern long site_getpid(void);
extern long site_gettid(void);
extern long site_getppid(void);
extern long site_read(int fd, void *buf, size_t n);
extern long redzone_loop(long n);	/* returns the number of mismatches */
extern long sig_loop(long n);		/* returns the number of mismatches */
extern void regs_check(void);
extern const char regs_after[], sig_loop_start[], sig_loop_end[];

#define MAGIC_R12 0x1234567890abcdefULL
#define MAGIC_XMM8 0x0f1e2d3c4b5a6978ULL

uint64_t regs_saved[18];	/* rax rbx rcx rdx rsi rdi rbp r8..r15 flags */
uint64_t xmm_saved[32];
uint64_t xmm_in[32];

__asm__(
	".text\n"
	".p2align 4\n"
	".globl site_getpid\n"
	"site_getpid:\n"
	"	mov $39, %eax\n"
	"	syscall\n"
	"	ret\n"
	".p2align 4\n"
	".globl site_gettid\n"
	"site_gettid:\n"
	"	mov $186, %eax\n"
	"	syscall\n"
	"	ret\n"
	".p2align 4\n"
	".globl site_getppid\n"
	"site_getppid:\n"
	"	mov $110, %eax\n"
	"	syscall\n"
	"	ret\n"
	/* The C arguments are already where the syscall wants them (but
	 * the 4th: none here); the return value is the raw -errno. */
	".p2align 4\n"
	".globl site_read\n"
	"site_read:\n"
	"	mov $0, %eax\n"
	"	syscall\n"
	"	ret\n"

	/* A pattern in the 128-byte red zone below %rsp survives the
	 * syscall (a leaf routine may keep data there: the x86-64 ABI). */
	".p2align 4\n"
	".globl redzone_loop\n"
	"redzone_loop:\n"
	"	mov %rdi, %r8\n"
	"	xor %r9d, %r9d\n"
	"1:	mov $16, %ecx\n"
	"	movabs $0x5a5a5a5a00000000, %r10\n"
	"2:	lea (%r10,%rcx), %rdx\n"
	"	mov %rdx, -136(%rsp,%rcx,8)\n"
	"	dec %ecx\n"
	"	jnz 2b\n"
	"	jmp 3f\n"
	".p2align 4\n"
	"3:	mov $39, %eax\n"
	"	syscall\n"
	"	mov $16, %ecx\n"
	"4:	lea (%r10,%rcx), %rdx\n"
	"	cmp %rdx, -136(%rsp,%rcx,8)\n"
	"	je 5f\n"
	"	inc %r9\n"
	"5:	dec %ecx\n"
	"	jnz 4b\n"
	"	dec %r8\n"
	"	jnz 1b\n"
	"	mov %r9, %rax\n"
	"	ret\n"

	/* Known values in every register, one syscall, everything saved. */
	".p2align 4\n"
	".globl regs_check\n"
	"regs_check:\n"
	"	push %rbx\n"
	"	push %rbp\n"
	"	push %r12\n"
	"	push %r13\n"
	"	push %r14\n"
	"	push %r15\n"
	"	lea xmm_in(%rip), %rax\n"
	"	movdqu 0(%rax), %xmm0\n"
	"	movdqu 16(%rax), %xmm1\n"
	"	movdqu 32(%rax), %xmm2\n"
	"	movdqu 48(%rax), %xmm3\n"
	"	movdqu 64(%rax), %xmm4\n"
	"	movdqu 80(%rax), %xmm5\n"
	"	movdqu 96(%rax), %xmm6\n"
	"	movdqu 112(%rax), %xmm7\n"
	"	movdqu 128(%rax), %xmm8\n"
	"	movdqu 144(%rax), %xmm9\n"
	"	movdqu 160(%rax), %xmm10\n"
	"	movdqu 176(%rax), %xmm11\n"
	"	movdqu 192(%rax), %xmm12\n"
	"	movdqu 208(%rax), %xmm13\n"
	"	movdqu 224(%rax), %xmm14\n"
	"	movdqu 240(%rax), %xmm15\n"
	"	movabs $0x1111111111111111, %rbx\n"
	"	movabs $0x2222222222222222, %rdx\n"
	"	movabs $0x3333333333333333, %rsi\n"
	"	movabs $0x4444444444444444, %rdi\n"
	"	movabs $0x5555555555555555, %rbp\n"
	"	movabs $0x6666666666666666, %r8\n"
	"	movabs $0x7777777777777777, %r9\n"
	"	movabs $0x0888888888888888, %r10\n"
	"	movabs $0x0999999999999999, %r12\n"
	"	movabs $0x0aaaaaaaaaaaaaaa, %r13\n"
	"	movabs $0x0bbbbbbbbbbbbbbb, %r14\n"
	"	movabs $0x0ccccccccccccccc, %r15\n"
	"	movabs $0xdeadbeefdeadbeef, %rcx\n"
	"	movabs $0xfeedfacefeedface, %r11\n"
	"	jmp 1f\n"
	".p2align 4\n"
	"1:	mov $39, %eax\n"
	"	syscall\n"
	".globl regs_after\n"
	"regs_after:\n"
	"	mov %rax, regs_saved+0(%rip)\n"
	"	mov %rbx, regs_saved+8(%rip)\n"
	"	mov %rcx, regs_saved+16(%rip)\n"
	"	mov %rdx, regs_saved+24(%rip)\n"
	"	mov %rsi, regs_saved+32(%rip)\n"
	"	mov %rdi, regs_saved+40(%rip)\n"
	"	mov %rbp, regs_saved+48(%rip)\n"
	"	mov %r8, regs_saved+56(%rip)\n"
	"	mov %r9, regs_saved+64(%rip)\n"
	"	mov %r10, regs_saved+72(%rip)\n"
	"	mov %r11, regs_saved+80(%rip)\n"
	"	mov %r12, regs_saved+88(%rip)\n"
	"	mov %r13, regs_saved+96(%rip)\n"
	"	mov %r14, regs_saved+104(%rip)\n"
	"	mov %r15, regs_saved+112(%rip)\n"
	"	pushfq\n"
	"	popq regs_saved+120(%rip)\n"
	"	lea xmm_saved(%rip), %rax\n"
	"	movdqu %xmm0, 0(%rax)\n"
	"	movdqu %xmm1, 16(%rax)\n"
	"	movdqu %xmm2, 32(%rax)\n"
	"	movdqu %xmm3, 48(%rax)\n"
	"	movdqu %xmm4, 64(%rax)\n"
	"	movdqu %xmm5, 80(%rax)\n"
	"	movdqu %xmm6, 96(%rax)\n"
	"	movdqu %xmm7, 112(%rax)\n"
	"	movdqu %xmm8, 128(%rax)\n"
	"	movdqu %xmm9, 144(%rax)\n"
	"	movdqu %xmm10, 160(%rax)\n"
	"	movdqu %xmm11, 176(%rax)\n"
	"	movdqu %xmm12, 192(%rax)\n"
	"	movdqu %xmm13, 208(%rax)\n"
	"	movdqu %xmm14, 224(%rax)\n"
	"	movdqu %xmm15, 240(%rax)\n"
	"	pop %r15\n"
	"	pop %r14\n"
	"	pop %r13\n"
	"	pop %r12\n"
	"	pop %rbp\n"
	"	pop %rbx\n"
	"	ret\n"

	/* A hot loop over one site with r12 and xmm8 holding markers that a
	 * signal handler checks in the interrupted context (and clobbers in
	 * its own registers, which sigreturn must undo). */
	".p2align 4\n"
	".globl sig_loop\n"
	".globl sig_loop_start\n"
	".globl sig_loop_end\n"
	"sig_loop:\n"
	"	push %r12\n"
	"	movabs $0x1234567890abcdef, %r12\n"
	"	movabs $0x0f1e2d3c4b5a6978, %rax\n"
	"	movq %rax, %xmm8\n"
	"	mov %rdi, %r8\n"
	"	xor %r9d, %r9d\n"
	"sig_loop_start:\n"
	"	jmp 1f\n"
	".p2align 4\n"
	"1:	mov $39, %eax\n"
	"	syscall\n"
	"	movabs $0x1234567890abcdef, %rdx\n"
	"	cmp %rdx, %r12\n"
	"	je 2f\n"
	"	inc %r9\n"
	"2:	movq %xmm8, %rax\n"
	"	movabs $0x0f1e2d3c4b5a6978, %rdx\n"
	"	cmp %rdx, %rax\n"
	"	je 3f\n"
	"	inc %r9\n"
	"3:	dec %r8\n"
	"	jnz 1b\n"
	"sig_loop_end:\n"
	"	mov %r9, %rax\n"
	"	pop %r12\n"
	"	ret\n");

static const char *self_path = "/proc/self/exe";

static int site_loop(long (*fn)(void), long want, int n)
{
	int bad = 0;

	for (int i = 0; i < n; i++)
		if (fn() != want)
			bad++;
	return bad;
}

/* ---- registers ---- */

static void test_registers(void)
{
	int bad = 0;

	for (int i = 0; i < 32; i++)
		xmm_in[i] = 0x0101010101010101ULL * (uint64_t)(i + 1);
	/* First call traps (and may get patched), then the patched path. */
	for (int round = 0; round < 3; round++) {
		regs_check();
		if ((long)regs_saved[0] != getpid() ||
		    regs_saved[1] != 0x1111111111111111ULL ||
		    regs_saved[3] != 0x2222222222222222ULL ||
		    regs_saved[4] != 0x3333333333333333ULL ||
		    regs_saved[5] != 0x4444444444444444ULL ||
		    regs_saved[6] != 0x5555555555555555ULL ||
		    regs_saved[7] != 0x6666666666666666ULL ||
		    regs_saved[8] != 0x7777777777777777ULL ||
		    regs_saved[9] != 0x0888888888888888ULL ||
		    regs_saved[11] != 0x0999999999999999ULL ||
		    regs_saved[12] != 0x0aaaaaaaaaaaaaaaULL ||
		    regs_saved[13] != 0x0bbbbbbbbbbbbbbbULL ||
		    regs_saved[14] != 0x0cccccccccccccccULL) {
			bad++;
			diag("round %d: rax %#lx rbx %#lx rdx %#lx r10 %#lx r15 %#lx",
			     round, regs_saved[0], regs_saved[1], regs_saved[3],
			     regs_saved[9], regs_saved[14]);
		}
		ok(regs_saved[2] == (uint64_t)regs_after,
		   "round %d: rcx is the address after the syscall (%#lx)", round,
		   regs_saved[2]);
		/* Linux: r11 = rflags at the syscall; RF (bit 16) aside they
		 * are the flags we have afterwards. */
		ok((regs_saved[10] & ~0x10000ULL) == (regs_saved[15] & ~0x10000ULL),
		   "round %d: r11 is rflags (%#lx vs %#lx)", round, regs_saved[10],
		   regs_saved[15]);
		ok(!memcmp(xmm_in, xmm_saved, sizeof(xmm_in)),
		   "round %d: xmm0-15 preserved", round);
	}
	ok(bad == 0, "general registers preserved, rax = getpid()");
}

/* ---- red zone, hot loops ---- */

static void test_loops(void)
{
	pid_t pid = getpid(), ppid = getppid();
	long tid = syscall(SYS_gettid);

	ok(site_loop(site_getpid, pid, 20000) == 0, "20000 x getpid site");
	ok(site_loop(site_gettid, tid, 20000) == 0, "20000 x gettid site");
	ok(site_loop(site_getppid, ppid, 20000) == 0, "20000 x getppid site");
	ok(redzone_loop(20000) == 0, "red zone below %%rsp survives 20000 syscalls");
}

/* ---- signals while looping on a patched site ---- */

static volatile sig_atomic_t sig_count, sig_bad, sig_in_loop;

static void on_alarm(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	uint64_t rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];

	(void)si;
	if (sig != SIGALRM)
		sig_bad++;
	sig_count++;
	if (rip >= (uint64_t)sig_loop_start && rip < (uint64_t)sig_loop_end) {
		sig_in_loop++;
		if ((uint64_t)uc->uc_mcontext.gregs[REG_R12] != MAGIC_R12)
			sig_bad++;
		/* xmm8 in the saved FP state is the loop's marker. */
		if (uc->uc_mcontext.fpregs &&
		    memcmp(&uc->uc_mcontext.fpregs->_xmm[8], &(uint64_t){ MAGIC_XMM8 }, 8))
			sig_bad++;
	}
	/* Clobber the live registers: sigreturn must restore the loop's. */
	__asm__ volatile("pxor %%xmm8, %%xmm8" ::: "xmm8");
}

static void test_signals(void)
{
	struct sigaction sa = { .sa_sigaction = on_alarm, .sa_flags = SA_SIGINFO | SA_RESTART };
	struct itimerval it = { { 0, 500 }, { 0, 500 } };
	struct timespec t0, t1;
	long bad = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		bad += sig_loop(2000);
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while (sig_in_loop < 20 && t1.tv_sec - t0.tv_sec < 5);
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	signal(SIGALRM, SIG_IGN);
	diag("%d signals, %d inside the loop", (int)sig_count, (int)sig_in_loop);
	ok(sig_in_loop > 0, "timer signals interrupted the patched loop");
	ok(sig_bad == 0, "interrupted context exact (r12, xmm8 in the frame)");
	ok(bad == 0, "loop registers intact after the handlers (%ld bad)", bad);

	/* kill() to self from the site's own process, between site calls. */
	sig_count = 0;
	sa.sa_sigaction = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	for (int i = 0; i < 200; i++) {
		if (site_getpid() != getpid())
			bad++;
		if (i % 20 == 0)
			kill(getpid(), SIGALRM);
	}
	signal(SIGALRM, SIG_IGN);
	ok(sig_count == 10 && bad == 0, "kill to self between patched calls (%d)",
	   (int)sig_count);
}

/* ---- restarts: an interrupted blocking call on a patched site ---- */

static void on_restart_sig(int sig)
{
	(void)sig;
	sig_count++;
}

static void *late_writer(void *arg)
{
	struct timespec ts = { 0, 60 * 1000000 };

	nanosleep(&ts, NULL);
	if (write(*(int *)arg, "x", 1) != 1)
		return (void *)1;
	return NULL;
}

static void test_restart(void)
{
	struct sigaction sa = { .sa_handler = on_restart_sig, .sa_flags = SA_RESTART };
	struct itimerval it = { { 0, 0 }, { 0, 20000 } };
	pthread_t th;
	int p[2];
	char c = 0;
	long r;

	/* read() on an empty pipe, a SA_RESTART handler runs meanwhile (the
	 * kernel restarts the call: rip back onto the old syscall place). */
	if (!ok_sys(pipe(p), "pipe"))
		return;
	site_read(p[0], &c, 0);	/* first call traps (and patches) */
	sig_count = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	pthread_create(&th, NULL, late_writer, &p[1]);
	setitimer(ITIMER_REAL, &it, NULL);
	r = site_read(p[0], &c, 1);
	pthread_join(th, NULL);
	signal(SIGALRM, SIG_IGN);
	ok(r == 1 && c == 'x' && sig_count == 1,
	   "read restarted after a SA_RESTART handler (r=%ld, %d signals)", r,
	   (int)sig_count);
	close(p[0]);
	close(p[1]);

	/* (restart_syscall after SIGSTOP/SIGCONT is not tested: the sentry
	 * does not continue stopped tasks yet, patched or not.) */
}

/* ---- fork, threads, execve ---- */

static void test_fork(void)
{
	int st = -1;
	pid_t c;

	site_getpid();
	site_getpid();
	c = fork();
	if (c == 0) {
		int b = site_loop(site_getpid, getpid(), 5000) +
			site_loop(site_getppid, getppid(), 5000);

		_exit(b ? 1 : 0);
	}
	ok(site_loop(site_getpid, getpid(), 5000) == 0, "parent after fork");
	waitpid(c, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "fork child runs the patched sites (status %#x)", st);
}

#define NTHREADS 4
static volatile int go;

static void *thread_fn(void *arg)
{
	long tid = syscall(SYS_gettid), pid = getpid(), bad = 0;

	(void)arg;
	while (!go)
		;
	for (int i = 0; i < 10000; i++) {
		bad += site_gettid() != tid;
		bad += site_getpid() != pid;
	}
	return (void *)bad;
}

static void test_threads(void)
{
	pthread_t th[NTHREADS];
	long bad = 0;

	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, thread_fn, NULL);
	go = 1;
	for (int i = 0; i < NTHREADS; i++) {
		void *r;

		pthread_join(th[i], &r);
		bad += (long)r;
	}
	ok(bad == 0, "%d threads hammering the same sites (%ld bad)", NTHREADS, bad);
}

static uint64_t gs_area[512];

static void *gs_thread(void *arg)
{
	long pid = getpid(), bad = 0;
	uint64_t v = 0;

	(void)arg;
	/* A GS base of the workload's own: the sites must still work. */
	if (syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)gs_area))
		return (void *)1000L;
	for (int i = 0; i < 200; i++)
		bad += site_getpid() != pid;
	if (syscall(SYS_arch_prctl, ARCH_GET_GS, &v) || v != (uint64_t)gs_area)
		bad += 100;
	if (syscall(SYS_arch_prctl, ARCH_SET_GS, 0x10000UL))	/* unmapped */
		return (void *)1000L;
	for (int i = 0; i < 200; i++)
		bad += site_getpid() != pid;
	if (syscall(SYS_arch_prctl, ARCH_GET_GS, &v) || v != 0x10000UL)
		bad += 100;
	return (void *)bad;
}

static void test_gs(void)
{
	pthread_t th;
	void *r = NULL;

	pthread_create(&th, NULL, gs_thread, NULL);
	pthread_join(th, &r);
	ok(r == NULL, "thread with its own GS base runs the sites (%ld)", (long)r);
	ok(site_loop(site_getpid, getpid(), 1000) == 0, "main thread still fine");
}

static void test_exec(void)
{
	int st = -1;
	pid_t c;

	site_getpid();
	c = fork();
	if (c == 0) {
		char *argv[] = { "syspatch_test", "--exec-child", NULL };

		execv(self_path, argv);
		_exit(127);
	}
	waitpid(c, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "execve of a patched program runs its sites (status %#x)", st);
}

/* ---- the file keeps the original bytes ---- */

static void test_file_bytes(void)
{
	static const uint8_t orig[7] = { 0xb8, 39, 0, 0, 0, 0x0f, 0x05 };
	extern const char __ehdr_start[];
	uint64_t addr = (uint64_t)site_getpid, off = ~0ULL, bias;
	Elf64_Ehdr eh;
	Elf64_Phdr ph[32];
	uint8_t buf[7], mem[7];
	int fd = open(self_path, O_RDONLY);

	if (!ok_sys(fd, "open own executable %s", self_path))
		return;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || eh.e_phnum > 32 ||
	    pread(fd, ph, eh.e_phnum * sizeof(ph[0]), (off_t)eh.e_phoff) !=
		    (ssize_t)(eh.e_phnum * sizeof(ph[0]))) {
		ok(0, "read ELF headers");
		close(fd);
		return;
	}
	bias = 0;
	for (int i = 0; i < eh.e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0)
			bias = (uint64_t)__ehdr_start - ph[i].p_vaddr;
	for (int i = 0; i < eh.e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && addr - bias >= ph[i].p_vaddr &&
		    addr - bias < ph[i].p_vaddr + ph[i].p_filesz)
			off = addr - bias - ph[i].p_vaddr + ph[i].p_offset;
	site_getpid();
	site_getpid();
	memcpy(mem, (void *)addr, 7);
	diag("in memory: %02x %02x %02x (%s)", mem[0], mem[1], mem[2],
	     mem[0] == 0xff ? "patched" : "original");
	ok(off != ~0ULL && pread(fd, buf, 7, (off_t)off) == 7 &&
		   !memcmp(buf, orig, 7),
	   "read() of the executable shows the original site bytes");
	{
		uint64_t pg = off & ~4095ULL;
		uint8_t *m = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, (off_t)pg);
		uint8_t *s = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, (off_t)pg);

		ok(m != MAP_FAILED && !memcmp(m + (off - pg), orig, 7),
		   "private mmap of the executable: original bytes");
		ok(s != MAP_FAILED && !memcmp(s + (off - pg), orig, 7),
		   "shared mmap of the executable: original bytes");
		if (m != MAP_FAILED)
			munmap(m, 8192);
		if (s != MAP_FAILED)
			munmap(s, 8192);
	}
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--exec-child")) {
		int b = site_loop(site_getpid, getpid(), 5000) +
			site_loop(site_gettid, syscall(SYS_gettid), 5000);

		return b ? 1 : 0;
	}
	if (access(self_path, R_OK))
		self_path = argv[0];
	test_registers();
	test_loops();
	test_file_bytes();
	test_signals();
	test_restart();
	test_fork();
	test_threads();
	test_gs();
	test_exec();
	ok(site_loop(site_getpid, getpid(), 1000) == 0, "sites fine at the end");
	return done_testing();
}

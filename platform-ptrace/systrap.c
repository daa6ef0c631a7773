// SPDX-License-Identifier: GPL-2.0
/*
 * The "systrap" platform (default): the stub thread runs the workload under
 * a seccomp filter that returns SECCOMP_RET_TRAP for every syscall not made
 * from the stub's own code page. The kernel then delivers SIGSYS, and
 * faults deliver SIGSEGV & co., to stub_handler (stub.S), which runs on a
 * sigaltstack inside a "sysmsg" slot: a second memfd that the sentry maps
 * too. The kernel writes the whole signal frame (registers, FP state) into
 * that slot, so the sentry reads and edits the workload's registers in
 * place; rt_sigreturn in the stub loads them.
 *
 * Hand-off is the slot header's state word: the side that waits spins for a
 * bounded time (rdtsc budget), then announces it sleeps and FUTEX_WAITs;
 * the other side wakes it only when it announced. Never spin unbounded: with
 * two vCPUs both parties may share one CPU, where a spin costs ~34 us
 * (notes/ptrace-family.md). The stub is not ptraced; it is a plain child
 * watched through a pidfd. A dead stub is noticed when the sentry's futex
 * wait times out (SENTRY_WAIT_TIMEOUT_NS) and the pidfd polls readable.
 *
 * Threads: the stub's first thread is the *control thread*: it parks in
 * slot 0 for good and never runs workload code. Mapping changes (and the
 * creation of context threads) are commands in its slot header (syscall
 * number and args), executed from the stub's code page (allowed by the
 * filter), so they work from any sentry thread while context threads run
 * workload code; a mutex per address space serialises them. Each context
 * is a stub thread of its own (clone(CLONE_VM|CLONE_THREAD|...) made by the
 * control thread) with its own slot, parked and resumed exactly like the
 * control thread; ctx_release makes it run exit(2) from its slot, and the
 * slot is reused once CLONE_CHILD_CLEARTID has cleared its tid word and
 * tgkill(0) says the thread is gone. Stubs are fork()ed by the platform's
 * spawner thread (stub.c), so PR_SET_PDEATHSIG ties them to the platform
 * rather than to the task thread that created the address space.
 *
 * Everything in the sysmsg region is writable by the workload: pointers and
 * numbers read from it are validated and copied before use, and the frame
 * fields the kernel trusts on sigreturn (uc_stack, uc_sigmask) are rewritten
 * by the sentry on every resume.
 *
 * Threading (include/cvisor/platform.h): a context is driven by its owner;
 * ctx->interrupt and as->dead are touched from other threads (atomically).
 * Locks: as->cmd_lock (control slot) and as->slot_lock (slot bitmap), never
 * nested. Ownership: the address space owns the stub pid, pidfd and the
 * sysmsg mapping; it is reference counted (the sentry's handle plus one per
 * context) and freed with the last reference.
 */
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cvisor/log.h"
#include "cvisor/util.h"
#include "internal.h"

/* Spin budgets in TSC cycles (~2.1 GHz here): long enough to cover a
 * trap/handle/resume round trip (~1.5 us), short enough that losing the
 * CPU to the peer costs little. */
#define SENTRY_SPIN_CYCLES 40000ULL /* ~20 us */
#define STUB_SPIN_CYCLES 40000ULL
/* After its spin, the sentry thread keeps looking for the next stop up to
 * SENTRY_YIELD_CYCLES, yielding its CPU between looks (a stub thread or
 * another task sharing it runs at once): sleeping would make the stop pay
 * for waking this thread, 12 us after a short sleep and 80 us after 200 us
 * here (an idle vCPU halts), more than the workload usually computes
 * between two syscalls (python's import: 2100 syscalls in 85 ms). */
#define SENTRY_YIELD_CYCLES 400000ULL /* ~200 us */
#define SENTRY_WAIT_TIMEOUT_NS 10000000L /* death check period */
/* Adaptive spinning: after SPIN_FAIL_MAX waits in a row where the sentry's
 * spin ran out (the workload computes between traps), the sentry goes
 * straight to the futex for SPIN_OFF_WAITS waits. The stub keeps spinning
 * for results: services are short whatever the workload does between them
 * (it used to stop too, and every syscall then paid two wake-ups). */
#define SPIN_FAIL_MAX 8
#define SPIN_OFF_WAITS 1024
/* Co-location (see colocate()): a service longer than SLOW_SERVICE_CYCLES
 * (the sentry blocked: the stub's spin ran out and it sleeps) after a run
 * of the workload shorter than SHORT_RUN_CYCLES pins the stub thread and
 * the sentry thread to the CPU the latter is on; UNPIN_QUICK quick
 * services in a row, or a long run, let them go again. */
#define SLOW_SERVICE_CYCLES STUB_SPIN_CYCLES
#define SHORT_RUN_CYCLES 2000000ULL /* ~1 ms */
#define UNPIN_QUICK 64

struct systrap_platform {
	struct platform base;
	int memfd;
	struct stub_spawner *spawner;
	bool patch;	/* syscall patching (CVISOR_SYSTRAP_PATCH != 0) */
	cpu_set_t cpus;	/* the sentry's CPUs: a co-located stub's way back */
	bool coloc;	/* co-location (CVISOR_SYSTRAP_COLOC != 0) */
	/* patching statistics, summed over address spaces (debug log) */
	atomic_ulong st_patched, st_fast, st_reframe, st_fallback;
};

/* Adaptive spin state of one waiter (one per slot). */
struct spin_state {
	unsigned fail;	/* consecutive waits whose spin ran out */
	unsigned off;	/* waits left with spinning disabled */
	pid_t tid;	/* context thread waited for (0: control thread) */
	bool yield_first; /* the stub was just woken: yield from the start */
};

struct systrap_as {
	struct platform_as base;
	pid_t pid;
	int pidfd;
	atomic_bool dead;	/* the stub is gone (or released) */
	atomic_int refs;	/* the sentry's handle + one per context */
	uint8_t *sysmsg;	/* sentry mapping of the sysmsg region */
	pthread_mutex_t cmd_lock; /* the control slot: one command at a time */
	struct spin_state ctl_spin;
	pthread_mutex_t slot_lock;
	uint64_t slot_busy[(SYSMSG_SLOTS + 63) / 64]; /* in use or leaked */
	/* Syscall patching: the owning mm's services (NULL: no patching),
	 * and under patch_lock the table state and the context count (a
	 * lone context may have its code patched with plain stores). */
	const struct platform_mm_ops *mmops;
	void *mm;
	pthread_mutex_t patch_lock;
	int nctx;
	bool table_ready;
	atomic_bool patch_off;	/* no new sites (GS used, table full...) */
	atomic_ulong st_patched, st_fast, st_reframe, st_fallback;
};

struct systrap_ctx {
	struct platform_ctx base;
	atomic_int interrupt;
	unsigned slot;
	pid_t tid;
	struct sysmsg_hdr *hdr;
	uint64_t uc;	/* stub address of the parked frame's ucontext */
	struct spin_state spin;
	bool fresh;	/* first run: write every register */
	bool ut;	/* parked in the syscall trampoline, registers in
			   hdr->ut_gregs (else on a signal frame at uc) */
	greg_t ut_last[UT_NGREGS]; /* hdr->ut_gregs as last read/written */
	bool fs_known;	/* cur_fs/cur_gs describe the stub thread */
	uint64_t cur_fs, cur_gs;
	/* The general registers as they are in the parked frame: only the
	 * ones that differ are written back, so that the frame's cache
	 * lines stay shared with the stub's CPU (each line moved between
	 * the vCPUs here costs hundreds of ns). */
	greg_t frame[NGREG];
	/* Co-location (colocate()): the CPU the stub thread and the owner
	 * thread are pinned to (-1: free, they spin), quick services since,
	 * and the TSC when the workload was resumed / its stop was seen. */
	int pin_cpu;
	unsigned quick;
	uint64_t post_tsc, trap_tsc;
};

static struct systrap_as *to_as(struct platform_as *as)
{
	return container_of(as, struct systrap_as, base);
}

static struct systrap_ctx *to_ctx(struct platform_ctx *c)
{
	return container_of(c, struct systrap_ctx, base);
}

static inline uint64_t rdtsc(void)
{
	return __builtin_ia32_rdtsc();
}

static long futex(uint32_t *uaddr, int op, uint32_t val,
		  const struct timespec *ts)
{
	/* Not FUTEX_PRIVATE_FLAG: the word is shared with another mm. */
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

/* Tell the stub thread where this thread runs (a store only when it
 * moved: the line is shared); returns the CPU. */
static int note_cpu(struct sysmsg_hdr *h)
{
	int cpu = sched_getcpu(); /* glibc: the rseq area, no syscall */

	if (__atomic_load_n(&h->sentry_cpu, __ATOMIC_RELAXED) != (uint32_t)cpu)
		__atomic_store_n(&h->sentry_cpu, (uint32_t)cpu, __ATOMIC_RELAXED);
	return cpu;
}

static uint64_t slot_addr(unsigned slot)
{
	return SYSMSG_SLOT0 + (uint64_t)slot * SYSMSG_SLOT_SIZE;
}

static struct sysmsg_hdr *slot_hdr(struct systrap_as *as, unsigned slot)
{
	return (struct sysmsg_hdr *)(as->sysmsg + (slot_addr(slot) - SYSMSG_BASE));
}

static uint64_t st_user_max(struct platform *p UNUSED)
{
	return STUB_BASE;
}

static int st_init(const struct platform_config *cfg, struct platform **out)
{
	struct systrap_platform *sp;
	int r;

	if (cfg->memfd < 0)
		return -EBADF;
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return -ENOMEM;
	sp->base.ops = &platform_systrap_ops;
	sp->memfd = cfg->memfd;
	{
		/* The switch for both paths (runsc-compat: --systrap-patch). */
		const char *e = getenv("CVISOR_SYSTRAP_PATCH");

		sp->patch = !(e && (!strcmp(e, "0") || !strcmp(e, "false")));
	}
	{
		/* Off by default: it wins a little on a pipe ping-pong but
		 * makes every short syscall after a slow one a same-CPU
		 * futex switch (open+close 3x, a stat walk 8x slower). */
		const char *e = getenv("CVISOR_SYSTRAP_COLOC");

		sp->coloc = e && strcmp(e, "0") && strcmp(e, "false");
	}
	if (sched_getaffinity(0, sizeof(sp->cpus), &sp->cpus))
		CPU_ZERO(&sp->cpus);
	r = stub_spawner_start(&sp->spawner);
	if (r) {
		free(sp);
		return r;
	}
	*out = &sp->base;
	return 0;
}

static void st_destroy(struct platform *p)
{
	struct systrap_platform *sp = container_of(p, struct systrap_platform, base);

	if (sp->patch)
		log_debug("systrap: syscall patching: %lu sites patched, %lu "
			  "patched syscalls, %lu reframes, %lu fallbacks",
			  atomic_load(&sp->st_patched), atomic_load(&sp->st_fast),
			  atomic_load(&sp->st_reframe),
			  atomic_load(&sp->st_fallback));
	stub_spawner_stop(sp->spawner);
	free(sp);
}

static bool stub_alive(struct systrap_as *as)
{
	struct pollfd pfd = { .fd = as->pidfd, .events = POLLIN };

	if (atomic_load(&as->dead))
		return false;
	/* A pidfd polls readable once the process has exited
	 * (pidfd_open(2)). */
	if (poll(&pfd, 1, 0) > 0)
		atomic_store(&as->dead, true);
	return !atomic_load(&as->dead);
}

/*
 * Wait until the stub thread of header h publishes state `want`, spinning
 * first unless !spin (the stub shares our CPU). Returns 0, or -ESRCH when
 * the stub died.
 */
static int sysmsg_wait(struct systrap_as *as, struct sysmsg_hdr *h,
		       struct spin_state *sp, uint32_t want, bool spin)
{
	struct timespec ts = { 0, SENTRY_WAIT_TIMEOUT_NS };
	uint64_t deadline;
	uint32_t s;

	if (!spin) {
		/* straight to the futex */
	} else if (sp->off) {
		sp->off--;
	} else {
		uint64_t t0 = rdtsc();
		/* The stub thread on our CPU cannot run while we spin: then
		 * yield to it at each look. Decided once a wait. */
		bool coloc = note_cpu(h) ==
			     (int)__atomic_load_n(&h->stub_cpu, __ATOMIC_RELAXED);

		deadline = t0 + (sp->yield_first ? 0 : SENTRY_SPIN_CYCLES);
		sp->yield_first = false;
		do {
			if (__atomic_load_n(&h->state, __ATOMIC_ACQUIRE) == want) {
				sp->fail = 0;
				return 0;
			}
			if (coloc)
				sched_yield();
			else
				__builtin_ia32_pause();
		} while (rdtsc() < deadline);
		deadline = t0 + SENTRY_YIELD_CYCLES;
		do {
			sched_yield();
			if (__atomic_load_n(&h->state, __ATOMIC_ACQUIRE) == want) {
				sp->fail = 0;
				return 0;
			}
		} while (rdtsc() < deadline);
		if (++sp->fail >= SPIN_FAIL_MAX) {
			sp->fail = 0;
			sp->off = SPIN_OFF_WAITS;
		}
	}

	for (;;) {
		/* xchg = full barrier; pairs with the stub's xchg of the
		 * state followed by its read of sentry_sleeping. */
		__atomic_exchange_n(&h->sentry_sleeping, 1, __ATOMIC_SEQ_CST);
		s = __atomic_load_n(&h->state, __ATOMIC_SEQ_CST);
		if (s == want)
			break;
		/* On a timeout: has the stub, or this one thread of it,
		 * gone? (A context thread only exits when told to, or if
		 * its start in stub.S .Lthread failed.) */
		if (futex(&h->state, FUTEX_WAIT, s, &ts) && errno == ETIMEDOUT &&
		    (!stub_alive(as) ||
		     (sp->tid && syscall(SYS_tgkill, as->pid, sp->tid, 0) &&
		      errno == ESRCH))) {
			__atomic_store_n(&h->sentry_sleeping, 0, __ATOMIC_RELAXED);
			return -ESRCH;
		}
	}
	__atomic_store_n(&h->sentry_sleeping, 0, __ATOMIC_RELAXED);
	return 0;
}

/* Hand a parked stub thread a new state (CMD or RESUME). */
static bool sysmsg_post(struct sysmsg_hdr *h, uint32_t state)
{
	note_cpu(h);
	__atomic_exchange_n(&h->state, state, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&h->stub_sleeping, __ATOMIC_SEQ_CST))
		return false;
	futex(&h->state, FUTEX_WAKE, 1, NULL);
	return true;
}

/* Translate a stub address inside the stack area of a slot into a sentry
 * pointer, or NULL when [addr, addr+len) leaves it or is misaligned. */
static void *slot_ptr(struct systrap_as *as, unsigned slot, uint64_t addr,
		      uint64_t len)
{
	const uint64_t lo = slot_addr(slot) + SYSMSG_HDR_SIZE;
	const uint64_t hi = slot_addr(slot) + SYSMSG_SLOT_SIZE;

	if (addr < lo || addr > hi || len > hi - addr || (addr & 7))
		return NULL;
	return as->sysmsg + (addr - SYSMSG_BASE);
}

/* The part of the frame's ucontext the kernel defines: glibc's ucontext_t
 * has a 128-byte sigset and FP area after it that the kernel's lacks. */
#define KUC_SIZE (offsetof(ucontext_t, uc_sigmask) + 8)

/*
 * The context this sentry thread is serving a stop of (its stub thread is
 * parked in stub.S .Lwait_state, spinning or about to), or NULL. Set when
 * ctx_switch returns a stop, cleared before the context resumes and when
 * it is released (both on this thread).
 */
static __thread struct systrap_ctx *serving;

static void cmd_put(struct sysmsg_hdr *h, long nr, uint64_t a0, uint64_t a1,
		    uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	h->cmd_nr = (uint64_t)nr;
	h->cmd_args[0] = a0;
	h->cmd_args[1] = a1;
	h->cmd_args[2] = a2;
	h->cmd_args[3] = a3;
	h->cmd_args[4] = a4;
	h->cmd_args[5] = a5;
}

/* Run one syscall in the control thread (slot 0). Any thread. */
static long sysmsg_cmd(struct systrap_as *as, long nr, uint64_t a0,
		       uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		       uint64_t a5)
{
	struct sysmsg_hdr *h = slot_hdr(as, 0);
	long r;

	pthread_mutex_lock(&as->cmd_lock);
	if (!stub_alive(as)) {
		pthread_mutex_unlock(&as->cmd_lock);
		return -ESRCH;
	}
	cmd_put(h, nr, a0, a1, a2, a3, a4, a5);
	sysmsg_post(h, ST_CMD);
	r = sysmsg_wait(as, h, &as->ctl_spin, ST_CMD_DONE, true);
	if (!r)
		r = (long)__atomic_load_n(&h->cmd_ret, __ATOMIC_ACQUIRE);
	pthread_mutex_unlock(&as->cmd_lock);
	return r;
}

/*
 * Run one mmap/munmap/mprotect in address space as. When this thread is
 * serving a stop of a context of as, that context's stub thread runs it:
 * it is parked in its slot and usually still spinning, where the control
 * thread sleeps and waking it costs a cross-CPU wake-up (12-80 us here).
 * Never clone: a thread cloned there would start on the wrong slot.
 */
static long sysmsg_mm_cmd(struct systrap_as *as, long nr, uint64_t a0,
			  uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			  uint64_t a5)
{
	struct systrap_ctx *c = serving;
	uint32_t st;
	int r;

	if (!c || c->base.as != &as->base)
		return sysmsg_cmd(as, nr, a0, a1, a2, a3, a4, a5);
	st = __atomic_load_n(&c->hdr->state, __ATOMIC_ACQUIRE);
	if (st != ST_TRAPPED && st != ST_CMD_DONE)
		return sysmsg_cmd(as, nr, a0, a1, a2, a3, a4, a5);
	cmd_put(c->hdr, nr, a0, a1, a2, a3, a4, a5);
	sysmsg_post(c->hdr, ST_CMD);
	r = sysmsg_wait(as, c->hdr, &c->spin, ST_CMD_DONE, true);
	if (r)
		return r;
	return (long)__atomic_load_n(&c->hdr->cmd_ret, __ATOMIC_ACQUIRE);
}

static int build_filter(struct sock_filter *f, size_t max)
{
	static const uint32_t allowed[] = {
		__NR_rt_sigreturn, __NR_futex,	     __NR_mmap,
		__NR_munmap,	   __NR_mprotect,    __NR_arch_prctl,
		__NR_clone,	   __NR_sigaltstack, __NR_rt_sigprocmask,
		__NR_exit,	   __NR_sched_yield,
	};
	const uint32_t lo = (uint32_t)STUB_CODE;
	const uint32_t hi = (uint32_t)(STUB_CODE >> 32);
	size_t n = 0, na = ARRAY_SIZE(allowed);
	/* Layout: 0..7 checks, 8..8+na-1 allow list, then TRAP, ALLOW,
	 * KILL. Jump offsets are relative to the next instruction. */
	const size_t i_trap = 8 + na, i_allow = i_trap + 1, i_kill = i_allow + 1;

	if (i_kill + 1 > max)
		return -E2BIG;
#define AT(i) ((uint8_t)((i) - (n + 1)))
	/* 32-bit entries (int 0x80, sysenter) are a different ABI. */
	f[n] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					    offsetof(struct seccomp_data, arch));
	n++;
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
					    AUDIT_ARCH_X86_64, 0, AT(i_kill));
	n++;
	/* Only the stub page may make host syscalls: the IP reported is
	 * the one after the syscall insn (KSTK_EIP). */
	f[n] = (struct sock_filter)BPF_STMT(
		BPF_LD | BPF_W | BPF_ABS,
		offsetof(struct seccomp_data, instruction_pointer) + 4);
	n++;
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi, 0,
					    AT(i_trap));
	n++;
	f[n] = (struct sock_filter)BPF_STMT(
		BPF_LD | BPF_W | BPF_ABS,
		offsetof(struct seccomp_data, instruction_pointer));
	n++;
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, lo, 0,
					    AT(i_trap));
	n++;
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K,
					    lo + STUB_CODE_MAX, AT(i_trap), 0);
	n++;
	f[n] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					    offsetof(struct seccomp_data, nr));
	n++;
	for (size_t i = 0; i < na; i++, n++)
		f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						    allowed[i], AT(i_allow), 0);
#undef AT
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
					      SECCOMP_RET_KILL_PROCESS);
	return (int)n;
}

/* Read and validate the trap the stub just published. */
struct trap {
	int signo;
	/* the first 32 bytes of siginfo_t: signo, errno, code and the
	 * union's leading fields (si_pid, si_addr, si_syscall, si_arch) */
	siginfo_t si;
	greg_t gregs[NGREG];
};

static int read_trap(struct systrap_as *as, unsigned slot, struct trap *t,
		     uint64_t *ucp)
{
	struct sysmsg_hdr *h = slot_hdr(as, slot);
	uint64_t info = __atomic_load_n(&h->info, __ATOMIC_RELAXED);
	uint64_t uc = __atomic_load_n(&h->uc, __ATOMIC_RELAXED);
	uint64_t sig = __atomic_load_n(&h->signo, __ATOMIC_RELAXED);
	const void *pi = slot_ptr(as, slot, info, sizeof(siginfo_t));
	const ucontext_t *puc = slot_ptr(as, slot, uc, KUC_SIZE);

	if (!pi || !puc || sig == 0 || sig > 64)
		return -EIO;
	memcpy(&t->si, pi, 32);
	memcpy(t->gregs, puc->uc_mcontext.gregs, sizeof(t->gregs));
	t->signo = (int)sig;
	*ucp = uc;
	return 0;
}

static void gregs_to_regs(const greg_t *g, cpu_regs_t *r)
{
	r->r8 = (uint64_t)g[REG_R8];
	r->r9 = (uint64_t)g[REG_R9];
	r->r10 = (uint64_t)g[REG_R10];
	r->r11 = (uint64_t)g[REG_R11];
	r->r12 = (uint64_t)g[REG_R12];
	r->r13 = (uint64_t)g[REG_R13];
	r->r14 = (uint64_t)g[REG_R14];
	r->r15 = (uint64_t)g[REG_R15];
	r->rdi = (uint64_t)g[REG_RDI];
	r->rsi = (uint64_t)g[REG_RSI];
	r->rbp = (uint64_t)g[REG_RBP];
	r->rbx = (uint64_t)g[REG_RBX];
	r->rdx = (uint64_t)g[REG_RDX];
	r->rax = (uint64_t)g[REG_RAX];
	r->rcx = (uint64_t)g[REG_RCX];
	r->rsp = (uint64_t)g[REG_RSP];
	r->rip = (uint64_t)g[REG_RIP];
	r->eflags = (uint64_t)g[REG_EFL];
	r->orig_rax = (uint64_t)-1;
	stub_sanitize_regs(r);
}

/* The inverse of gregs_to_regs: g[REG_R8 .. REG_EFL] (UT_NGREGS words, the
 * trampoline's slot and a signal frame's gregs alike) from r. */
static void regs_to_gregs(const cpu_regs_t *r, greg_t *g)
{
	g[REG_R8] = (greg_t)r->r8;
	g[REG_R9] = (greg_t)r->r9;
	g[REG_R10] = (greg_t)r->r10;
	g[REG_R11] = (greg_t)r->r11;
	g[REG_R12] = (greg_t)r->r12;
	g[REG_R13] = (greg_t)r->r13;
	g[REG_R14] = (greg_t)r->r14;
	g[REG_R15] = (greg_t)r->r15;
	g[REG_RDI] = (greg_t)r->rdi;
	g[REG_RSI] = (greg_t)r->rsi;
	g[REG_RBP] = (greg_t)r->rbp;
	g[REG_RBX] = (greg_t)r->rbx;
	g[REG_RDX] = (greg_t)r->rdx;
	g[REG_RAX] = (greg_t)r->rax;
	g[REG_RCX] = (greg_t)r->rcx;
	g[REG_RSP] = (greg_t)r->rsp;
	g[REG_RIP] = (greg_t)r->rip;
	/* In a signal frame restore_sigcontext() keeps only the FIX_EFLAGS
	 * bits of this; cs/ss in REG_CSGSFS stay as the kernel wrote them. */
	g[REG_EFL] = (greg_t)r->eflags;
}

/* Write the registers that changed since the frame was read (all of them
 * when `all`). */
static void regs_to_frame(const cpu_regs_t *r, greg_t *last, greg_t *g,
			  bool all)
{
	greg_t v[UT_NGREGS];

	regs_to_gregs(r, v);
	for (int i = 0; i < UT_NGREGS; i++)
		if (all || v[i] != last[i])
			g[i] = v[i];
}

/*
 * The fpstate of the context's parked frame, or NULL. The pointer is in
 * workload-writable memory: it must lie in the context's own slot, be
 * 64-byte aligned (XRSTOR's rule) and leave room for the whole XSAVE area
 * plus the FP_XSTATE_MAGIC2 word.
 */
static uint8_t *frame_fp(struct systrap_as *as, struct systrap_ctx *c)
{
	const struct fp_host *fh = fp_host();
	const ucontext_t *uc = slot_ptr(as, c->slot, c->uc, KUC_SIZE);
	uint64_t fp;

	if (!uc)
		return NULL;
	memcpy(&fp, &uc->uc_mcontext.fpregs, 8);
	if (fp & 63)
		return NULL;
	return slot_ptr(as, c->slot, fp, (uint64_t)fh->size + 4);
}

/* Write a validated image into the frame, with the sw_reserved words and
 * the trailing magic that make the kernel's sigreturn XRSTOR it
 * (arch/x86/kernel/fpu/signal.c check_xstate_in_sigframe). */
static void frame_put_fp(uint8_t *fp, const uint8_t *buf, size_t len)
{
	const struct fp_host *fh = fp_host();
	uint32_t w;
	uint64_t q;

	memcpy(fp, buf, FP_SW_OFF);
	memset(fp + FP_SW_OFF, 0, 512 - FP_SW_OFF);
	if (fh->size == 512)
		return;
	w = FP_XSTATE_MAGIC1;
	memcpy(fp + FP_SW_OFF, &w, 4);
	w = fh->size + 4; /* extended_size */
	memcpy(fp + FP_SW_OFF + 4, &w, 4);
	q = fh->features;
	memcpy(fp + FP_SW_OFF + 8, &q, 8);
	w = fh->size; /* xstate_size */
	memcpy(fp + FP_SW_OFF + 16, &w, 4);
	len = len < fh->size ? len : fh->size;
	memcpy(fp + 512, buf + 512, len - 512);
	memset(fp + len, 0, fh->size - len);
	w = FP_XSTATE_MAGIC2;
	memcpy(fp + fh->size, &w, 4);
}

static int ut_reframe(struct systrap_as *as, struct systrap_ctx *c);
static void coloc_release(struct systrap_platform *sp, struct systrap_ctx *c);

static size_t st_fpstate_size(struct platform *p UNUSED)
{
	return fp_host()->size;
}

static int st_ctx_get_fpstate(struct platform_ctx *bc, void *buf, size_t len)
{
	struct systrap_ctx *c = to_ctx(bc);
	const struct fp_host *fh = fp_host();
	uint8_t *out = buf, *fp;
	uint32_t magic, size;
	uint64_t bv = 3;

	if (len < fh->size)
		return -EINVAL;
	/* Parked in the trampoline, the FP state is still in the CPU. */
	if (c->ut && ut_reframe(to_as(bc->as), c))
		return -EIO;
	fp = frame_fp(to_as(bc->as), c);
	if (!fp)
		return -EIO;
	memset(buf, 0, len);
	memcpy(&magic, fp + FP_SW_OFF, 4);
	memcpy(&size, fp + FP_SW_OFF + 16, 4);
	if (fh->size > 512 && magic == FP_XSTATE_MAGIC1 && size == fh->size) {
		memcpy(out, fp, fh->size);
	} else {
		/* A legacy-only frame (a workload scribbled on it): x87
		 * and SSE are what it holds. */
		memcpy(out, fp, 512);
		if (fh->size > 512)
			memcpy(out + 512, &bv, 8);
	}
	/* sw_reserved as the kernel would write it for this host. */
	memset(out + FP_SW_OFF, 0, 512 - FP_SW_OFF);
	if (fh->size > 512) {
		uint32_t w = FP_XSTATE_MAGIC1;
		uint64_t q = fh->features;

		memcpy(out + FP_SW_OFF, &w, 4);
		w = fh->size + 4;
		memcpy(out + FP_SW_OFF + 4, &w, 4);
		memcpy(out + FP_SW_OFF + 8, &q, 8);
		w = fh->size;
		memcpy(out + FP_SW_OFF + 16, &w, 4);
	}
	return 0;
}

static int st_ctx_set_fpstate(struct platform_ctx *bc, const void *buf,
			      size_t len)
{
	struct systrap_ctx *c = to_ctx(bc);
	uint8_t *fp;
	int r = fp_validate(buf, len);

	if (r)
		return r;
	if (c->ut && ut_reframe(to_as(bc->as), c))
		return -EIO;
	fp = frame_fp(to_as(bc->as), c);
	if (!fp)
		return -EIO;
	frame_put_fp(fp, buf, len);
	return 0;
}

static void as_put(struct systrap_as *as)
{
	if (atomic_fetch_sub(&as->refs, 1) != 1)
		return;
	if (as->pidfd >= 0)
		close(as->pidfd);
	if (as->sysmsg)
		munmap(as->sysmsg, SYSMSG_MAP_SIZE);
	pthread_mutex_destroy(&as->cmd_lock);
	pthread_mutex_destroy(&as->slot_lock);
	pthread_mutex_destroy(&as->patch_lock);
	free(as);
}

/* SIGKILL the whole stub and reap it. */
static void as_kill(struct systrap_as *as)
{
	if (as->pid <= 0)
		return;
	if (as->pidfd < 0 ||
	    syscall(SYS_pidfd_send_signal, as->pidfd, SIGKILL, NULL, 0))
		kill(as->pid, SIGKILL);
	atomic_store(&as->dead, true);
	/* The spawner thread forked it; any thread of ours may reap it. */
	while (waitpid(as->pid, NULL, __WALL) < 0 && errno == EINTR)
		;
	as->pid = 0;
}

static int st_as_setup(struct systrap_platform *sp, struct systrap_as *as)
{
	struct stub_spawn_args a = { .memfd = sp->memfd, .mode = STUB_MODE_SYSTRAP };
	_cleanup_close_ int fd = -1;
	struct sock_fprog *fprog;
	struct sysmsg_hdr *h;
	struct trap t;
	uint64_t uc;
	pid_t pid;
	int n, r;
	void *m;

	fd = memfd_create("cvisor-sysmsg", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, SYSMSG_MAP_SIZE))
		return -errno;
	m = mmap(NULL, SYSMSG_MAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	as->sysmsg = m;
	h = slot_hdr(as, 0);
	h->spin_cycles = STUB_SPIN_CYCLES;
	h->stub_cpu = h->sentry_cpu = ~0u; /* unknown */

	n = build_filter((struct sock_filter *)(as->sysmsg + SETUP_FILTER_OFF),
			 SETUP_FILTER_MAX);
	if (n < 0)
		return n;
	fprog = (struct sock_fprog *)(as->sysmsg + SETUP_FPROG_OFF);
	fprog->len = (unsigned short)n;
	fprog->filter = (struct sock_filter *)(SYSMSG_SETUP + SETUP_FILTER_OFF);

	a.sysmsg_fd = fd;
	pid = stub_spawner_spawn(sp->spawner, &a);
	if (pid < 0)
		return pid;
	as->pid = pid;
	as->pidfd = (int)syscall(SYS_pidfd_open, as->pid, 0);
	if (as->pidfd < 0)
		return -errno;

	/* The stub parks itself with an int3 once set up: from now on it is
	 * the control thread. */
	r = sysmsg_wait(as, h, &as->ctl_spin, ST_TRAPPED, true);
	if (r)
		return r;
	r = read_trap(as, 0, &t, &uc);
	if (r)
		return r;
	return t.signo == SIGTRAP ? 0 : -EIO;
}

static int st_as_new(struct platform *p, struct platform_as **out)
{
	struct systrap_platform *sp = container_of(p, struct systrap_platform, base);
	struct systrap_as *as;
	int r;

	as = calloc(1, sizeof(*as));
	if (!as)
		return -ENOMEM;
	as->base.p = p;
	as->pidfd = -1;
	atomic_init(&as->refs, 1);
	atomic_init(&as->dead, false);
	pthread_mutex_init(&as->cmd_lock, NULL);
	pthread_mutex_init(&as->slot_lock, NULL);
	pthread_mutex_init(&as->patch_lock, NULL);
	atomic_init(&as->patch_off, false);
	as->slot_busy[0] = 1; /* the control thread */
	r = st_as_setup(sp, as);
	if (r) {
		as_kill(as);
		as_put(as);
		return r;
	}
	*out = &as->base;
	return 0;
}

static void st_as_release(struct platform_as *bas)
{
	struct systrap_as *as = to_as(bas);
	struct systrap_platform *sp =
		container_of(bas->p, struct systrap_platform, base);

	if (as->mmops) {
		atomic_fetch_add(&sp->st_patched, atomic_load(&as->st_patched));
		atomic_fetch_add(&sp->st_fast, atomic_load(&as->st_fast));
		atomic_fetch_add(&sp->st_reframe, atomic_load(&as->st_reframe));
		atomic_fetch_add(&sp->st_fallback, atomic_load(&as->st_fallback));
		log_debug("systrap: stub %d: %lu sites patched, %lu patched "
			  "syscalls, %lu reframes, %lu fallbacks", as->pid,
			  atomic_load(&as->st_patched), atomic_load(&as->st_fast),
			  atomic_load(&as->st_reframe),
			  atomic_load(&as->st_fallback));
	}

	as_kill(as);
	as_put(as);
}

static void st_as_set_mm(struct platform_as *bas,
			 const struct platform_mm_ops *ops, void *mm)
{
	struct systrap_platform *sp =
		container_of(bas->p, struct systrap_platform, base);
	struct systrap_as *as = to_as(bas);

	if (!sp->patch)
		return;
	as->mmops = ops;
	as->mm = mm;
}

static int check_range(uint64_t addr, uint64_t len)
{
	if (!IS_PAGE_ALIGNED(addr) || !IS_PAGE_ALIGNED(len) || len == 0 ||
	    addr + len < addr || addr + len > STUB_BASE)
		return -EINVAL;
	return 0;
}

static int st_as_map(struct platform_as *bas, uint64_t addr, uint64_t len,
		     int prot, uint64_t off)
{
	long r = check_range(addr, len);

	if (r)
		return (int)r;
	r = sysmsg_mm_cmd(to_as(bas), __NR_mmap, addr, len, (uint64_t)prot,
		       MAP_SHARED | MAP_FIXED, STUB_FD_MEM, off);
	if (r < 0 && r > -4096)
		return (int)r;
	return (uint64_t)r == addr ? 0 : -EIO;
}

static int st_as_unmap(struct platform_as *bas, uint64_t addr, uint64_t len)
{
	long r = check_range(addr, len);

	if (r)
		return (int)r;
	return (int)sysmsg_mm_cmd(to_as(bas), __NR_munmap, addr, len, 0, 0, 0,
				  0);
}

static int st_as_protect(struct platform_as *bas, uint64_t addr, uint64_t len,
			 int prot)
{
	long r = check_range(addr, len);

	if (r)
		return (int)r;
	return (int)sysmsg_mm_cmd(to_as(bas), __NR_mprotect, addr, len,
				  (uint64_t)prot, 0, 0, 0);
}

static int slot_alloc(struct systrap_as *as)
{
	int slot = -EAGAIN;

	pthread_mutex_lock(&as->slot_lock);
	for (unsigned i = 1; i < SYSMSG_SLOTS; i++) {
		if (!(as->slot_busy[i / 64] & (1ULL << (i % 64)))) {
			as->slot_busy[i / 64] |= 1ULL << (i % 64);
			slot = (int)i;
			break;
		}
	}
	pthread_mutex_unlock(&as->slot_lock);
	return slot;
}

static void slot_free(struct systrap_as *as, unsigned slot)
{
	pthread_mutex_lock(&as->slot_lock);
	as->slot_busy[slot / 64] &= ~(1ULL << (slot % 64));
	pthread_mutex_unlock(&as->slot_lock);
}

/*
 * Make the parked thread of c exit and wait until it is gone, so its slot
 * can be reused. Returns false if it did not go away in time (the slot is
 * then never reused: a workload can scribble on slot headers).
 */
static bool ctx_thread_exit(struct systrap_as *as, struct systrap_ctx *c)
{
	struct sysmsg_hdr *h = c->hdr;
	struct timespec ts = { 0, 1000000 };

	if (!stub_alive(as))
		return true;
	h->cmd_nr = __NR_exit;
	memset(h->cmd_args, 0, sizeof(h->cmd_args));
	sysmsg_post(h, ST_CMD);
	for (int i = 0; i < 1000; i++) {
		uint32_t tid = __atomic_load_n(&h->tid, __ATOMIC_ACQUIRE);

		/* CLONE_CHILD_CLEARTID clears the word (and wakes it)
		 * early in exit; tgkill tells when the thread is gone. */
		if (tid == 0 &&
		    syscall(SYS_tgkill, as->pid, c->tid, 0) && errno == ESRCH)
			return true;
		if (!stub_alive(as))
			return true;
		if (tid)
			futex(&h->tid, FUTEX_WAIT, tid, &ts);
		else
			sched_yield();
	}
	log_warn("systrap: stub thread %d did not exit", c->tid);
	return false;
}

static int st_ctx_new(struct platform_as *bas, struct platform_ctx **out)
{
	struct systrap_platform *sp =
		container_of(bas->p, struct systrap_platform, base);
	struct systrap_as *as = to_as(bas);
	const struct fp_host *fh = fp_host();
	struct systrap_ctx *c;
	struct trap t;
	uint8_t *img, *fp;
	long tid;
	int slot, r;

	if (!stub_alive(as))
		return -ESRCH;
	c = calloc(1, sizeof(*c));
	img = calloc(1, fh->size);
	if (!c || !img) {
		free(c);
		free(img);
		return -ENOMEM;
	}
	slot = slot_alloc(as);
	if (slot < 0) {
		free(c);
		free(img);
		return slot;
	}
	c->base.as = bas;
	atomic_init(&c->interrupt, 0);
	c->slot = (unsigned)slot;
	c->hdr = slot_hdr(as, c->slot);
	memset(c->hdr, 0, sizeof(*c->hdr));
	c->hdr->spin_cycles = STUB_SPIN_CYCLES;
	c->hdr->stub_cpu = c->hdr->sentry_cpu = ~0u; /* unknown */
	c->hdr->ut_magic = UT_MAGIC;
	c->hdr->ut_stack = slot_addr(c->slot) + SYSMSG_HDR_SIZE;
	c->fresh = true;
	c->pin_cpu = -1;
	if (sp->coloc && CPU_COUNT(&sp->cpus) > 1) {
		/* A thread made by a co-located one inherits its pin. */
		cpu_set_t cur;

		if (!sched_getaffinity(0, sizeof(cur), &cur) &&
		    !CPU_EQUAL(&cur, &sp->cpus))
			sched_setaffinity(0, sizeof(sp->cpus), &sp->cpus);
	}
	/* Before the thread exists: a patch with plain stores (one context)
	 * finishes before a second context can run workload code. */
	pthread_mutex_lock(&as->patch_lock);
	as->nctx++;
	pthread_mutex_unlock(&as->patch_lock);

	/* The new thread starts on the top of its header page, sets its
	 * altstack to the rest of the slot, unblocks signals and parks with
	 * an int3 like the control thread did (stub.S .Lthread). */
	tid = sysmsg_cmd(as, __NR_clone,
			 STUB_CLONE_FLAGS | STUB_CLONE_TID_FLAGS,
			 slot_addr(c->slot) + SYSMSG_HDR_SIZE, 0,
			 slot_addr(c->slot) + HDR_TID, 0, 0);
	if (tid <= 0) {
		r = tid < 0 ? (int)tid : -EIO;
		goto fail_slot;
	}
	c->tid = (pid_t)tid;
	c->spin.tid = c->tid;
	r = sysmsg_wait(as, c->hdr, &c->spin, ST_TRAPPED, true);
	if (!r)
		r = read_trap(as, c->slot, &t, &c->uc);
	if (!r && t.signo != SIGTRAP)
		r = -EIO;
	if (!r) {
		memcpy(c->frame, t.gregs, sizeof(c->frame));
		/* execve-like FP state, nothing inherited from the stub. */
		fp = frame_fp(as, c);
		if (!fp) {
			r = -EIO;
		} else {
			fp_init_image(img, fh->size);
			frame_put_fp(fp, img, fh->size);
		}
	}
	if (r) {
		if (!ctx_thread_exit(as, c))
			goto fail;
		goto fail_slot;
	}
	free(img);
	atomic_fetch_add(&as->refs, 1);
	*out = &c->base;
	return 0;
fail_slot:
	slot_free(as, c->slot);
fail:
	pthread_mutex_lock(&as->patch_lock);
	as->nctx--;
	pthread_mutex_unlock(&as->patch_lock);
	free(c);
	free(img);
	return r;
}

static void st_ctx_release(struct platform_ctx *bc)
{
	struct systrap_ctx *c = to_ctx(bc);
	struct systrap_as *as = to_as(bc->as);

	/* On the owner thread (platform.h): its own pin goes too. */
	if (serving == c)
		serving = NULL;
	coloc_release(container_of(bc->as->p, struct systrap_platform, base), c);
	if (ctx_thread_exit(as, c))
		slot_free(as, c->slot);
	pthread_mutex_lock(&as->patch_lock);
	as->nctx--;
	pthread_mutex_unlock(&as->patch_lock);
	free(c);
	as_put(as);
}

/* Write the sentry's view of the registers into the parked frame. */
static int load_frame(struct systrap_ctx *c, struct systrap_as *as,
		      const cpu_regs_t *regs)
{
	ucontext_t *uc = slot_ptr(as, c->slot, c->uc, KUC_SIZE);
	struct sysmsg_hdr *h = c->hdr;

	if (!uc)
		return -EIO;
	/* uc_sigmask and uc_stack are rewritten by the stub itself. */
	regs_to_frame(regs, c->frame, uc->uc_mcontext.gregs, c->fresh);
	c->fresh = false;
	/* fs/gs bases are not part of the signal frame: the stub loads them
	 * with arch_prctl before returning, only when they changed. */
	if (!c->fs_known || regs->fs_base != c->cur_fs) {
		h->fs_base = regs->fs_base;
		h->set_fs = 1;
		c->cur_fs = regs->fs_base;
	}
	if (!c->fs_known || regs->gs_base != c->cur_gs) {
		/* With patching, a thread without a GS base of its own runs
		 * with GS = its slot (the trampoline's per-thread pointer;
		 * the sentry's view stays 0, so ARCH_GET_GS says 0). A base
		 * of the workload's own wins: the trampoline then finds no
		 * UT_MAGIC and falls back to trapping; no new sites. */
		h->gs_base = regs->gs_base;
		if (as->mmops && !regs->gs_base)
			h->gs_base = slot_addr(c->slot);
		if (regs->gs_base)
			atomic_store(&as->patch_off, true);
		h->set_gs = 1;
		c->cur_gs = regs->gs_base;
	}
	c->fs_known = true;
	return 0;
}

/* ---- syscall patching ("usertrap") ----
 *
 * A syscall that traps through SIGSYS from `mov $nr,%eax; syscall`
 * (b8 imm32 0f 05, imm32 == nr) gets its 7 bytes replaced by
 * `jmp *ENTRY` (ff 24 25 disp32) where ENTRY is a 32-byte entry of the
 * trampoline table at UT_TABLE (internal.h): a pointer to the entry's
 * code, `mov $nr,%eax; movabs $site+7,%rcx; jmp *UT_TABLE`, and the
 * table's first quadword is stub_ut_entry (stub.S). The table is a
 * reserved VMA of the mm and all writes go through mm_text_poke, which
 * breaks copy-on-write first: a page shared with another process or
 * backing a file is never changed, and fork copies table and code alike.
 * Sites are patched with plain stores while the address space has one
 * context; with more, only when the 7 bytes fit one aligned 8- or 16-byte
 * window (one atomic compare-and-exchange), else never. A thread that ran
 * the old `mov` and then reaches the old `syscall` place finds 0x06 there
 * (the displacement's third byte): SIGILL, restarted at the site below.
 *
 * No host syscall becomes reachable: the table's code makes none, and the
 * trampoline's (futex, and the exit/cmd calls the signal handler already
 * made) sit in the stub page the seccomp filter already allows; the filter
 * is unchanged.
 */

/* Resume from the trampoline without a signal frame? It restores the
 * general registers, rip and the arithmetic flags (+DF); anything else
 * (fs/gs base, other flags) needs the signal frame. */
#define UT_FLAGS_FREE 0xcd5ULL /* CF PF AF ZF SF DF OF */
static bool ut_fast_ok(const struct systrap_ctx *c, const cpu_regs_t *regs)
{
	return regs->fs_base == c->cur_fs && regs->gs_base == c->cur_gs &&
	       !((regs->eflags ^ (uint64_t)c->ut_last[REG_EFL]) &
		 ~UT_FLAGS_FREE);
}

/* Write the registers to return to into the trampoline's slot (only
 * those that changed: the lines stay shared with the stub's CPU). */
static void ut_load(struct systrap_ctx *c, const cpu_regs_t *r)
{
	greg_t v[UT_NGREGS];

	regs_to_gregs(r, v);
	for (int i = 0; i < UT_NGREGS; i++) {
		if (v[i] != c->ut_last[i]) {
			c->hdr->ut_gregs[i] = (uint64_t)v[i];
			c->ut_last[i] = v[i];
		}
	}
}

/* The thread waits in the trampoline; make it trap so that it parks on a
 * full signal frame (FP state, fs/gs base, all flags), as after SIGSYS. */
static int ut_reframe(struct systrap_as *as, struct systrap_ctx *c)
{
	struct trap t;
	int r;

	sysmsg_post(c->hdr, ST_UT_REFRAME);
	r = sysmsg_wait(as, c->hdr, &c->spin, ST_TRAPPED, c->pin_cpu < 0);
	if (r)
		return r;
	r = read_trap(as, c->slot, &t, &c->uc);
	if (r)
		return r;
	if (t.signo != SIGILL ||
	    (uint64_t)t.gregs[REG_RIP] != stub_addr(stub_ut_reframe)) {
		log_warn("systrap: reframe: signal %d at %#lx", t.signo,
			 (unsigned long)t.gregs[REG_RIP]);
		return -EIO;
	}
	/* The frame holds the trampoline's registers: load_frame writes
	 * every one that differs from them. */
	memcpy(c->frame, t.gregs, sizeof(c->frame));
	c->ut = false;
	atomic_fetch_add_explicit(&as->st_reframe, 1, memory_order_relaxed);
	return 0;
}

static int ut_table_init(struct systrap_as *as)
{
	uint64_t hdr[2], want[2] = { stub_addr(stub_ut_entry), 1 };
	static const uint64_t zero[2];
	int r;

	r = as->mmops->reserve(as->mm, UT_TABLE, UT_TABLE_SIZE);
	if (r)
		return r;
	r = as->mmops->read(as->mm, UT_TABLE, hdr, sizeof(hdr));
	if (r)
		return r;
	if (hdr[0] == 0)
		/* New; or else inherited through fork, and in use. */
		r = as->mmops->poke(as->mm, UT_TABLE, zero, want, sizeof(want),
				    MM_POKE_PLAIN);
	else if (hdr[0] != want[0])
		r = -EIO;
	return r;
}

/* Allocate and fill a table entry for (nr, ret). Returns its address or
 * 0 when the table is full. patch_lock held. */
static uint64_t ut_entry_new(struct systrap_as *as, uint32_t nr, uint64_t ret)
{
	static const uint8_t zero[16];
	uint64_t next, next1, e;
	uint8_t code[UT_ENTRY_SIZE];
	uint32_t tab = UT_TABLE;

	if (as->mmops->read(as->mm, UT_TABLE + 8, &next, 8) || next == 0 ||
	    next >= UT_ENTRIES)
		return 0;
	e = UT_TABLE + next * UT_ENTRY_SIZE;
	memset(code, 0xcc, sizeof(code));	/* int3 */
	{
		uint64_t target = e + 8;

		memcpy(code, &target, 8);
	}
	code[8] = 0xb8;				/* mov $nr, %eax */
	memcpy(code + 9, &nr, 4);
	code[13] = 0x48;			/* movabs $ret, %rcx */
	code[14] = 0xb9;
	memcpy(code + 15, &ret, 8);
	code[23] = 0xff;			/* jmp *UT_TABLE */
	code[24] = 0x24;
	code[25] = 0x25;
	memcpy(code + 26, &tab, 4);
	next1 = next + 1;
	if (as->mmops->poke(as->mm, e, zero, code, 16, MM_POKE_PLAIN) ||
	    as->mmops->poke(as->mm, e + 16, zero, code + 16, 16, MM_POKE_PLAIN) ||
	    as->mmops->poke(as->mm, UT_TABLE + 8, &next, &next1, 8,
			    MM_POKE_PLAIN))
		return 0;
	return e;
}

/* A syscall trapped through SIGSYS at regs->rip: patch its site if it is
 * `mov $nr,%eax; syscall`. Best effort: on any failure it keeps trapping. */
static void ut_try_patch(struct systrap_as *as, const cpu_regs_t *regs)
{
	uint64_t site = regs->rip - 7, e;
	uint32_t nr = (uint32_t)regs->orig_rax;
	uint8_t code[7], want[7] = { 0xb8, 0, 0, 0, 0, 0x0f, 0x05 }, jmp[7];
	bool atomic_ok;
	int mode;

	if (!as->mmops || atomic_load_explicit(&as->patch_off,
					       memory_order_relaxed) ||
	    regs->rip < 7 || regs->rip > STUB_BASE)
		return;
	memcpy(want + 1, &nr, 4);
	if (as->mmops->read(as->mm, site, code, sizeof(code)) ||
	    memcmp(code, want, sizeof(want)))
		return;
	atomic_ok = (site & ~7ULL) + 8 >= site + 7 ||
		    (site & ~15ULL) + 16 >= site + 7;
	pthread_mutex_lock(&as->patch_lock);
	mode = as->nctx == 1 ? MM_POKE_PLAIN : MM_POKE_ATOMIC;
	if ((mode == MM_POKE_ATOMIC && !atomic_ok) ||
	    (site & (PAGE_SIZE - 1)) > PAGE_SIZE - 7)
		goto out;
	if (!as->table_ready) {
		if (ut_table_init(as)) {
			log_debug("systrap: stub %d: no trampoline table at %#x",
				  as->pid, UT_TABLE);
			atomic_store(&as->patch_off, true);
			goto out;
		}
		as->table_ready = true;
	}
	e = ut_entry_new(as, nr, regs->rip);
	if (!e) {
		atomic_store(&as->patch_off, true);
		goto out;
	}
	jmp[0] = 0xff;
	jmp[1] = 0x24;
	jmp[2] = 0x25;
	{
		uint32_t d = (uint32_t)e;

		memcpy(jmp + 3, &d, 4);
	}
	/* Compares again: never patch bytes that changed since the trap. */
	if (as->mmops->poke(as->mm, site, want, jmp, 7, mode) == 0) {
		atomic_fetch_add_explicit(&as->st_patched, 1,
					  memory_order_relaxed);
		log_debug("systrap: stub %d: patched syscall %u at %#lx", as->pid,
			  nr, (unsigned long)site);
	}
out:
	pthread_mutex_unlock(&as->patch_lock);
}

/* SIGILL at rip: the old `syscall` place of a site patched after this
 * thread ran its `mov` (or a syscall restart that moved rip back there).
 * true: regs now say what to do (rip at the site, or a restart_syscall
 * stop when *sys is set). */
static bool ut_fix_sigill(struct systrap_as *as, cpu_regs_t *regs, bool *sys)
{
	uint8_t code[7];
	uint32_t d;

	*sys = false;
	if (!as->mmops || regs->rip < 5 ||
	    as->mmops->read(as->mm, regs->rip - 5, code, sizeof(code)))
		return false;
	memcpy(&d, code + 3, 4);
	if (code[0] != 0xff || code[1] != 0x24 || code[2] != 0x25 ||
	    d < UT_TABLE + UT_ENTRY_SIZE || d >= UT_TABLE + UT_TABLE_SIZE ||
	    code[5] != 0x06 || code[6] != 0x00)
		return false;
	if (regs->rax == __NR_restart_syscall) {
		/* The sentry restarts with restart_syscall: the site would
		 * load its own number, so serve it here. */
		*sys = true;
		regs->rip += 2;
		regs->rcx = regs->rip;
		regs->r11 = regs->eflags;
		regs->orig_rax = regs->rax;
		return true;
	}
	regs->rip -= 5;
	return true;
}

/*
 * Keep a stub thread and its sentry thread on one CPU while spinning does
 * not pay. Spinning hands a stop over in ~1 us when both threads stay
 * awake on two CPUs (getpid). But after a syscall that blocked the sentry
 * thread (a pipe read: another process must run first) the stub's spin has
 * run out and it sleeps; waking it wherever the host puts it (an idle vCPU
 * here: tens of us), and its next stop waking us across CPUs again, cost
 * more than the syscall, and with two processes ping-ponging, four threads
 * spin against each other on two vCPUs. So after a slow service that
 * followed a short run of the workload, both threads are pinned to the
 * CPU the sentry thread is on: a hand-off is then a same-CPU futex switch
 * (~4 us) and nobody spins (spinning against a thread of one's own CPU
 * only delays it). Both are let go after UNPIN_QUICK quick services in a
 * row (spinning may pay again) or a long run of the workload (it computes:
 * the host should balance it). The sentry thread's pin is its own (a
 * systrap context has one owner thread); ctx_release drops it.
 */
static void pin_thread(pid_t tid, int cpu, const cpu_set_t *all)
{
	cpu_set_t one;

	if (cpu < 0) {
		if (CPU_COUNT(all))
			sched_setaffinity(tid, sizeof(*all), all);
		return;
	}
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	sched_setaffinity(tid, sizeof(one), &one);
}

static void coloc_release(struct systrap_platform *sp, struct systrap_ctx *c)
{
	if (c->pin_cpu < 0)
		return;
	pin_thread(c->tid, -1, &sp->cpus);
	pin_thread(0, -1, &sp->cpus);
	c->pin_cpu = -1;
	c->hdr->spin_cycles = STUB_SPIN_CYCLES;
}

static void colocate(struct systrap_platform *sp, struct systrap_ctx *c)
{
	uint64_t now = rdtsc();
	bool seen = c->post_tsc && c->trap_tsc > c->post_tsc;
	bool slow = seen && now - c->trap_tsc > SLOW_SERVICE_CYCLES;
	bool short_run = seen && c->trap_tsc - c->post_tsc < SHORT_RUN_CYCLES;
	int cpu = platform_waker_cpu;	/* hints are good for one service */
	cpu_set_t one;

	platform_waker_cpu = -1;
	if (c->pin_cpu >= 0) {
		if (!(slow && short_run)) {
			if ((seen && !short_run) || ++c->quick >= UNPIN_QUICK)
				coloc_release(sp, c);
			return;
		}
		c->quick = 0;
	} else if (!slow || !short_run || CPU_COUNT(&sp->cpus) < 2) {
		return;
	}
	/* Where? To the CPU of the task that woke us if we slept in the
	 * sentry (it is about to block: a pipe ping-pong then stays on one
	 * CPU, as the host's sync wake-ups keep it natively), else here. */
	if (cpu < 0 || !CPU_ISSET(cpu, &sp->cpus))
		cpu = c->pin_cpu >= 0 ? c->pin_cpu : sched_getcpu();
	if (cpu < 0 || cpu == c->pin_cpu)
		return;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(c->tid, sizeof(one), &one))
		return;
	sched_setaffinity(0, sizeof(one), &one);
	c->quick = 0;
	c->pin_cpu = cpu;
	c->hdr->spin_cycles = 0;
}

static int st_ctx_switch(struct platform_ctx *bc, cpu_regs_t *regs,
			 struct stop_info *stop)
{
	struct systrap_ctx *c = to_ctx(bc);
	struct systrap_as *as = to_as(bc->as);
	struct systrap_platform *sp =
		container_of(bc->as->p, struct systrap_platform, base);
	struct trap t;
	int r;

	memset(stop, 0, sizeof(*stop));
	stop->trapno = ~0ULL;
	/* No syscall on this path (a poll() costs ~1 us here): death is
	 * noticed by sysmsg_wait's timeout. */
	if (atomic_load_explicit(&as->dead, memory_order_relaxed)) {
		stop->reason = STOP_DEAD;
		return 0;
	}
	if (atomic_exchange(&c->interrupt, 0)) {
		stop->reason = STOP_INTERRUPTED;
		return 0;
	}

	for (;;) {
		if (c->ut && !ut_fast_ok(c, regs)) {
			r = ut_reframe(as, c);
			if (r == -ESRCH) {
				stop->reason = STOP_DEAD;
				return 0;
			}
			if (r)
				return r;
		}
		if (c->ut) {
			ut_load(c, regs);
		} else {
			r = load_frame(c, as, regs);
			if (r)
				return r;
		}
		if (sp->coloc) /* off by default: no work per syscall */
			colocate(sp, c);
		serving = NULL;
		c->hdr->sentry_blocked = 0; /* ordered before the state */
		c->hdr->sentry_serving = 0;
		/* A stub thread we had to wake may land on our CPU before
		 * it can tell us (stub_cpu is where it last trapped): no
		 * pause-spin keeping it off, yield from the start. */
		c->spin.yield_first = sysmsg_post(c->hdr, ST_RESUME);
		if (sp->coloc)
			c->post_tsc = rdtsc();
		r = sysmsg_wait(as, c->hdr, &c->spin, ST_TRAPPED,
				c->pin_cpu < 0);
		if (sp->coloc)
			c->trap_tsc = rdtsc();
		/* Running its stop now: the stub may keep spinning. */
		__atomic_store_n(&c->hdr->sentry_serving, 1, __ATOMIC_RELAXED);
		if (r == -ESRCH) {
			stop->reason = STOP_DEAD;
			return 0;
		}
		serving = c;
		if (__atomic_load_n(&c->hdr->signo, __ATOMIC_RELAXED) == 0) {
			/* From the trampoline: a patched syscall, or an
			 * interrupt signal it noticed. */
			memcpy(c->ut_last, c->hdr->ut_gregs, sizeof(c->ut_last));
			c->ut = true;
			gregs_to_regs(c->ut_last, regs);
			regs->fs_base = c->cur_fs;
			regs->gs_base = c->cur_gs;
			if (c->hdr->ut_reason == UT_IRQ) {
				if (!atomic_exchange(&c->interrupt, 0))
					continue; /* stale */
				stop->reason = STOP_INTERRUPTED;
				return 0;
			}
			atomic_fetch_add_explicit(&as->st_fast, 1,
						  memory_order_relaxed);
			stop->reason = STOP_SYSCALL;
			regs->orig_rax = (uint64_t)(uint32_t)regs->rax;
			return 0;
		}
		r = read_trap(as, c->slot, &t, &c->uc);
		if (r)
			return r;
		c->ut = false;	/* parked on a signal frame */
		memcpy(c->frame, t.gregs, sizeof(c->frame));
		gregs_to_regs(t.gregs, regs);
		regs->fs_base = c->cur_fs;
		regs->gs_base = c->cur_gs;

		if (t.signo == SIGSYS && t.si.si_code == 1 /* SYS_SECCOMP */) {
			stop->reason = STOP_SYSCALL;
			regs->orig_rax = (uint64_t)(uint32_t)t.si.si_syscall;
			ut_try_patch(as, regs);
			return 0;
		}
		/* The trampoline could not use its slot (the workload has a
		 * GS base of its own): the patched syscall, from rax and
		 * rcx (stub.S stub_ut_entry). */
		if ((t.signo == SIGSEGV &&
		     regs->rip == stub_addr(stub_ut_entry)) ||
		    (t.signo == SIGILL && regs->rip == stub_addr(stub_ut_nogs))) {
			atomic_fetch_add_explicit(&as->st_fallback, 1,
						  memory_order_relaxed);
			regs->rip = regs->rcx;
			regs->r11 = regs->eflags;
			regs->orig_rax = (uint64_t)(uint32_t)regs->rax;
			stop->reason = STOP_SYSCALL;
			return 0;
		}
		if (t.signo == SIGILL && t.si.si_code > 0 &&
		    (uint64_t)t.si.si_addr == regs->rip) {
			bool sys;

			if (ut_fix_sigill(as, regs, &sys)) {
				if (!sys)
					continue;
				stop->reason = STOP_SYSCALL;
				return 0;
			}
		}
		if (t.signo == STUB_INTERRUPT_SIG &&
		    (t.si.si_code == SI_TKILL || t.si.si_code == SI_USER) &&
		    t.si.si_pid == getpid()) {
			if (!atomic_exchange(&c->interrupt, 0))
				continue; /* stale signal: resume silently */
			stop->reason = STOP_INTERRUPTED;
			return 0;
		}
		stop->signo = t.signo;
		if (stub_is_fault_signal(t.signo) && t.si.si_code > 0) {
			stop->reason = STOP_FAULT;
			stop->si_code = t.si.si_code;
			stop->addr = (uint64_t)t.si.si_addr;
			stop->trapno = (uint64_t)t.gregs[REG_TRAPNO];
			if (stop->trapno == 14) {
				/* x86 page-fault error code: bit 1 write,
				 * bit 4 instruction fetch. */
				uint64_t err = (uint64_t)t.gregs[REG_ERR];

				stop->access = (err & 2)    ? PROT_WRITE
					       : (err & 16) ? PROT_EXEC
							    : PROT_READ;
			}
		} else {
			stop->reason = STOP_SIGNAL;
		}
		return 0;
	}
}

/* The owner thread is about to sleep in the sentry while this context
 * is stopped: the stub thread, spinning for the result, sleeps at once
 * (on 2 CPUs its spin would take the CPU the waker needs). */
static void st_ctx_will_block(struct platform_ctx *bc)
{
	struct systrap_ctx *c = to_ctx(bc);

	if (!c->hdr->sentry_blocked)
		__atomic_store_n(&c->hdr->sentry_blocked, 1, __ATOMIC_RELAXED);
}

static void st_ctx_interrupt(struct platform_ctx *bc)
{
	struct systrap_ctx *c = to_ctx(bc);
	struct systrap_as *as = to_as(bc->as);

	/* Flag first, then the signal: ctx_switch either consumes the flag
	 * before resuming or the stub thread traps with the signal; a
	 * signal whose flag was already consumed is dropped as stale. The
	 * signal is thread-directed: the control thread and the other
	 * contexts never see it. */
	atomic_store(&c->interrupt, 1);
	if (!atomic_load(&as->dead))
		syscall(SYS_tgkill, as->pid, c->tid, STUB_INTERRUPT_SIG);
}

static int st_ctx_cputime(struct platform_ctx *bc, uint64_t *ns)
{
	struct systrap_as *as = to_as(bc->as);

	return stub_thread_cputime(as->pid, to_ctx(bc)->tid, ns);
}

const struct platform_ops platform_systrap_ops = {
	.name = "systrap",
	.user_max = st_user_max,
	.init = st_init,
	.destroy = st_destroy,
	.as_new = st_as_new,
	.as_release = st_as_release,
	.as_map = st_as_map,
	.as_unmap = st_as_unmap,
	.as_protect = st_as_protect,
	.as_set_mm = st_as_set_mm,
	.ctx_new = st_ctx_new,
	.ctx_release = st_ctx_release,
	.ctx_switch = st_ctx_switch,
	.ctx_interrupt = st_ctx_interrupt,
	.ctx_will_block = st_ctx_will_block,
	.ctx_cputime = st_ctx_cputime,
	.fpstate_size = st_fpstate_size,
	.ctx_get_fpstate = st_ctx_get_fpstate,
	.ctx_set_fpstate = st_ctx_set_fpstate,
	.vdso = stub_vdso, /* stub.c */
};

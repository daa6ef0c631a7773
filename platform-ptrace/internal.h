/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared between the two ptrace-family platforms (systrap, ptrace) and the
 * stub assembly (stub.S includes this file with __ASSEMBLER__ defined, so
 * only plain #defines live outside the C block).
 *
 * Address layout of every stub process (x86-64, 4-level paging, the top of
 * user space is 0x7ffffffff000):
 *
 *   [0, STUB_BASE)                  the workload's (user_max())
 *   [STUB_CODE, +STUB_CODE_MAX)     stub code, r-x, a copy of stub.S
 *   [SYSMSG_BASE, +SYSMSG_MAP_SIZE) systrap only: a second memfd shared
 *                                   with the sentry: one setup block, then
 *                                   one 64 KiB slot per stub thread (header
 *                                   page + sigaltstack). Slot 0 belongs to
 *                                   the control thread (the stub's first
 *                                   thread, which never runs workload
 *                                   code); slots 1.. to context threads.
 *                                   The memfd is sparse: an unused slot
 *                                   costs address space only.
 *   [STUB_VDSO - vvar, STUB_VDSO + vdso)
 *                                   the host's [vvar*] and [vdso] pages,
 *                                   inherited from the sentry at fork and
 *                                   moved here by stage 1 (stub.c), when
 *                                   the sentry has them
 *   vsyscall page (above TASK_SIZE; cannot be unmapped, harmless)
 *
 * Everything in the sysmsg region is writable by the workload and is
 * therefore untrusted by the sentry: pointers found there are validated
 * and copied before use.
 */
#ifndef CVISOR_PLATFORM_PTRACE_INTERNAL_H
#define CVISOR_PLATFORM_PTRACE_INTERNAL_H

#define STUB_BASE 0x7ffff0000000 /* 256 MiB under the top: room for
				      SYSMSG_SLOTS slots */
#define STUB_CODE STUB_BASE
#define STUB_CODE_MAX 0x10000
#define SYSMSG_BASE (STUB_BASE + STUB_CODE_MAX)
#define SYSMSG_SLOT_SIZE 0x10000 /* power of two: the handler finds its
				    slot by masking %rsp */
#define SYSMSG_SLOT_SHIFT 16
#define SYSMSG_SLOTS 1024	 /* stub threads per address space,
				    control thread included (room for 4094) */
#define SYSMSG_SETUP SYSMSG_BASE /* setup block, one slot wide */
#define SYSMSG_SLOT0 (SYSMSG_BASE + SYSMSG_SLOT_SIZE)
#define SYSMSG_MAP_SIZE (SYSMSG_SLOT_SIZE * (1 + SYSMSG_SLOTS))
#define SYSMSG_HDR_SIZE 0x1000	 /* header page; the altstack follows */
#define USER_TOP 0x7ffffffff000	 /* TASK_SIZE_MAX, arch/x86 page_64_types.h */

/* The host vDSO in every stub: its [vdso] at STUB_VDSO, the data pages
 * the kernel put right below it ([vvar], [vvar_vclock] on 6.x) kept right
 * below it (the vDSO code reaches them RIP-relative). Far above the sysmsg
 * region, clear of where an ASLR-off host puts the sentry's own vDSO
 * (0x7ffff7fc0000..): stage 1 cannot move a mapping onto itself. */
#define STUB_VDSO 0x7ffffe000000
#define STUB_VDSO_MAX 0x100000	/* [vdso] at most this long */
#define STUB_VVAR_MAX 0x100000	/* data pages below it, at most */
#define STUB_VDSO_MAPS 4	/* mappings moved, [vdso] included */

/* Stage 1's work list (stub.c writes it in the page before the temporary
 * code copy, stub.S runs it before anything else): syscalls {nr, a0..a4},
 * each of which must succeed. munmaps of all but the copy and the host
 * vDSO, then one mremap per vDSO mapping. */
#define STUB_PLAN_OPS 8
#define PLAN_N 0
#define PLAN_OP 8
#define PLAN_OP_SIZE 48

/* Setup block (systrap): the seccomp program the stub installs. */
#define SETUP_FPROG_OFF 0
#define SETUP_FILTER_OFF 64
#define SETUP_FILTER_MAX 64

/* Fixed descriptors in the stub (everything else is closed). */
#define STUB_FD_MEM 3
#define STUB_FD_SYSMSG 4

/* Flags of the stub's thread-creating clone (a context thread shares
 * everything with the control thread; kernel/fork.c copy_process). */
#define STUB_CLONE_FLAGS                                                      \
	(0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000) /* CLONE_VM|FS|  \
		FILES|SIGHAND|THREAD|SYSVSEM */
#define STUB_CLONE_TID_FLAGS (0x01000000 | 0x00200000) /* CHILD_SETTID|  \
							 CHILD_CLEARTID */

/* Stub modes (argument to stub_entry). */
#define STUB_MODE_PTRACE 0
#define STUB_MODE_SYSTRAP 1

/* sysmsg header: states of the hand-off word. The stub writes TRAPPED and
 * CMD_DONE, the sentry writes CMD and RESUME; the stub sets RUNNING. */
#define ST_RUNNING 0
#define ST_TRAPPED 1
#define ST_CMD 2
#define ST_CMD_DONE 3
#define ST_RESUME 4
#define ST_UT_REFRAME 5	/* sentry -> trampoline: trap with a full frame */

/* sysmsg header offsets (checked against the C struct below). */
#define HDR_STATE 0
#define HDR_SENTRY_SLEEP 4
#define HDR_STUB_SLEEP 8
#define HDR_SENTRY_BLOCKED 12
#define HDR_SIGNO 16
#define HDR_INFO 24
#define HDR_UC 32
#define HDR_CMD_NR 40
#define HDR_CMD_ARGS 48
#define HDR_CMD_RET 96
#define HDR_FS_BASE 104
#define HDR_GS_BASE 112
#define HDR_SET_FS 120
#define HDR_SET_GS 124
#define HDR_SPIN_CYCLES 128
#define HDR_TID 136	/* CLONE_CHILD_SETTID/CLEARTID word of the thread */
#define HDR_SENTRY_SERVING 140 /* the sentry thread has picked the stop up */
/* The stub spins up to spin_cycles for its stop to be picked up, and up to
 * SERVING_SPIN_FACTOR times that while the sentry thread serves it. */
#define SERVING_SPIN_FACTOR 8
/* Syscall patching ("usertrap", see systrap.c). A stop published with
 * signo 0 comes from the trampoline: the registers are in HDR_UT_GREGS. */
#define HDR_UT_REASON 144 /* UT_SYSCALL or UT_IRQ */
#define HDR_UT_IRQ 148	  /* set by the handler: interrupt signal seen in
			     the trampoline */
#define HDR_UT_MAGIC 152  /* UT_MAGIC: %gs points at this slot */
#define HDR_STUB_CPU 156  /* CPU the stub thread last trapped on */
#define HDR_UT_STACK 160  /* top of the trampoline's stack (slot +
			     SYSMSG_HDR_SIZE: the end of the header page) */
#define HDR_SENTRY_CPU 168 /* CPU of the sentry thread serving the slot */
/* Selector of the GDT entry whose limit holds the CPU number (Linux x86-64
 * GDT_ENTRY_CPUNODE, as the vDSO's getcpu reads it with lsl when the CPU
 * has no rdpid): the stub learns its CPU in ~17 ns without a syscall. */
#define CPUNODE_SEL (15 * 8 + 3)
#define HDR_UT_GREGS 256  /* greg_t[UT_NGREGS] in ucontext order */
#define UT_NGREGS 18	  /* REG_R8 .. REG_EFL */
#define UT_SYSCALL 1
#define UT_IRQ 2
#define UT_MAGIC 0x70617475 /* < 2^31: checked with lea -UT_MAGIC */
/* ucontext order (sys/ucontext.h REG_*), times 8 */
#define G_R8 0
#define G_R9 8
#define G_R10 16
#define G_R11 24
#define G_R12 32
#define G_R13 40
#define G_R14 48
#define G_R15 56
#define G_RDI 64
#define G_RSI 72
#define G_RBP 80
#define G_RBX 88
#define G_RDX 96
#define G_RAX 104
#define G_RCX 112
#define G_RSP 120
#define G_RIP 128
#define G_EFL 136

/* The trampoline table: a reserved VMA of every patched address space
 * (mm_text_reserve), so fork copies it with the patched code. Below 2 GiB
 * for `jmp *ABS32`, and in [0x60000, 0x70000) so byte 2 of the
 * displacement is 0x06, an invalid opcode in 64-bit mode: a thread that
 * executed the old `mov` before the patch and then fetches the old
 * syscall insn's place gets SIGILL there, which the platform restarts at
 * the site. Entry 0: the trampoline's address, then the next free entry
 * (so a forked copy goes on allocating where the parent stopped). */
#define UT_TABLE 0x60000
#define UT_TABLE_SIZE 0x10000
#define UT_ENTRY_SIZE 32
#define UT_ENTRIES (UT_TABLE_SIZE / UT_ENTRY_SIZE)

/* Kernel struct ucontext (x86-64) offsets the stub rewrites before
 * rt_sigreturn: uc_stack {ss_sp, ss_flags, ss_size}, uc_sigmask. */
#define UC_SS_SP 16
#define UC_SS_FLAGS 24
#define UC_SS_SIZE 32
#define UC_SIGMASK 296
#define UC_RSP 160	/* uc_mcontext.gregs[REG_RSP] */
#define UC_RIP 168	/* uc_mcontext.gregs[REG_RIP] */

/* Host signal that ctx_interrupt() sends to a stub thread. The workload
 * never sends host signals (it has no syscalls), so any SIGUSR1 comes
 * from us. */
#define STUB_INTERRUPT_SIG 10 /* SIGUSR1 */

#ifndef __ASSEMBLER__
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cvisor/platform.h"

struct sysmsg_hdr {
	uint32_t state;
	uint32_t sentry_sleeping;
	uint32_t stub_sleeping;
	uint32_t sentry_blocked; /* the sentry sleeps while serving this
				    stop: the stub stops spinning */
	uint64_t signo;
	uint64_t info;	/* stub address of the siginfo */
	uint64_t uc;	/* stub address of the ucontext */
	uint64_t cmd_nr;
	uint64_t cmd_args[6];
	uint64_t cmd_ret;
	uint64_t fs_base;
	uint64_t gs_base;
	uint32_t set_fs;
	uint32_t set_gs;
	uint64_t spin_cycles; /* stub-side spin budget (rdtsc cycles) */
	uint32_t tid;	      /* set by the kernel at clone, cleared (and
				 futex-woken) when the thread has exited */
	uint32_t sentry_serving; /* the sentry thread has picked the stop up
				    and runs: the stub may spin longer */
	uint32_t ut_reason;
	uint32_t ut_irq;
	uint32_t ut_magic;
	uint32_t stub_cpu;	/* where the stub thread last trapped (lsl) */
	uint64_t ut_stack;
	uint32_t sentry_cpu;	/* where the serving sentry thread runs: on
				   the same CPU the two yield, not spin */
	uint32_t pad2;
	uint64_t pad3[10];
	uint64_t ut_gregs[UT_NGREGS];
};

_Static_assert(offsetof(struct sysmsg_hdr, state) == HDR_STATE, "hdr");
_Static_assert(offsetof(struct sysmsg_hdr, sentry_sleeping) == HDR_SENTRY_SLEEP, "hdr");
_Static_assert(offsetof(struct sysmsg_hdr, stub_sleeping) == HDR_STUB_SLEEP, "hdr");
_Static_assert(offsetof(struct sysmsg_hdr, sentry_blocked) == HDR_SENTRY_BLOCKED, "hdr");
_Static_assert(offsetof(struct sysmsg_hdr, signo) == HDR_SIGNO, "hdr");
_Static_assert(offsetof(struct sysmsg_hdr, info) == HDR_INFO, "hdr");
_Static_assert(offsetof(struct sysmsg_hdr, uc) == HDR_UC, "hdr");
_Static_assert(offsetof(struct sysmsg_hdr, cmd_nr) == HDR_CMD_NR, "hdr");
_Static_assert(offsetof(struct sysmsg_hdr, cmd_args) == HDR_CMD_ARGS, "hdr");
_Static_assert(offsetof(struct sysmsg_hdr, cmd_ret) == HDR_CMD_RET, "hdr");
_Static_assert(offsetof(struct sysmsg_hdr, fs_base) == HDR_FS_BASE, "hdr");
_Static_assert(offsetof(struct sysmsg_hdr, gs_base) == HDR_GS_BASE, "hdr");
_Static_assert(offsetof(struct sysmsg_hdr, set_fs) == HDR_SET_FS, "hdr");
_Static_assert(offsetof(struct sysmsg_hdr, set_gs) == HDR_SET_GS, "hdr");
_Static_assert(offsetof(struct sysmsg_hdr, spin_cycles) == HDR_SPIN_CYCLES, "hdr");
_Static_assert(offsetof(struct sysmsg_hdr, tid) == HDR_TID, "hdr");
_Static_assert(offsetof(struct sysmsg_hdr, sentry_serving) == HDR_SENTRY_SERVING, "hdr");
_Static_assert(offsetof(struct sysmsg_hdr, ut_reason) == HDR_UT_REASON, "hdr");
_Static_assert(offsetof(struct sysmsg_hdr, ut_irq) == HDR_UT_IRQ, "hdr");
_Static_assert(offsetof(struct sysmsg_hdr, ut_magic) == HDR_UT_MAGIC, "hdr");
_Static_assert(offsetof(struct sysmsg_hdr, stub_cpu) == HDR_STUB_CPU, "hdr");
_Static_assert(offsetof(struct sysmsg_hdr, sentry_cpu) == HDR_SENTRY_CPU, "hdr");
_Static_assert(offsetof(struct sysmsg_hdr, ut_stack) == HDR_UT_STACK, "hdr");
_Static_assert(offsetof(struct sysmsg_hdr, ut_gregs) == HDR_UT_GREGS, "hdr");

#include <ucontext.h>
_Static_assert(offsetof(ucontext_t, uc_stack.ss_sp) == UC_SS_SP, "uc");
_Static_assert(offsetof(ucontext_t, uc_stack.ss_flags) == UC_SS_FLAGS, "uc");
_Static_assert(offsetof(ucontext_t, uc_stack.ss_size) == UC_SS_SIZE, "uc");
_Static_assert(offsetof(ucontext_t, uc_sigmask) == UC_SIGMASK, "uc");
_Static_assert(offsetof(ucontext_t, uc_mcontext.gregs[REG_RSP]) == UC_RSP, "uc");
_Static_assert(offsetof(ucontext_t, uc_mcontext.gregs[REG_RIP]) == UC_RIP, "uc");
_Static_assert(REG_R8 * 8 == G_R8 && REG_R11 * 8 == G_R11 &&
	       REG_R15 * 8 == G_R15 && REG_RDI * 8 == G_RDI &&
	       REG_RBX * 8 == G_RBX && REG_RAX * 8 == G_RAX &&
	       REG_RCX * 8 == G_RCX && REG_RSP * 8 == G_RSP &&
	       REG_RIP * 8 == G_RIP && REG_EFL * 8 == G_EFL &&
	       REG_EFL + 1 == UT_NGREGS, "greg order");

/* Symbols of stub.S (addresses in the sentry image; only offsets from
 * stub_start mean anything in a stub). */
extern const char stub_start[], stub_end[];
extern const char stub_entry[], stub_syscall_int3[], stub_handler[],
	stub_restorer[], stub_clone_int3[], stub_clone_int3_ret[];
/* The syscall trampoline (systrap syscall patching). */
extern const char stub_ut_entry[], stub_ut_nogs[], stub_ut_reframe[],
	stub_ut_end[];

static inline uint64_t stub_addr(const char *sym)
{
	return STUB_CODE + (uint64_t)(sym - stub_start);
}

struct stub_plan {
	uint64_t n;
	uint64_t op[STUB_PLAN_OPS][6];	/* nr, rdi, rsi, rdx, r10, r8 */
};
_Static_assert(offsetof(struct stub_plan, op) == PLAN_OP, "plan");
_Static_assert(sizeof(((struct stub_plan *)0)->op[0]) == PLAN_OP_SIZE, "plan");
_Static_assert(STUB_VDSO - STUB_VVAR_MAX >= SYSMSG_BASE + SYSMSG_MAP_SIZE &&
	       STUB_VDSO + STUB_VDSO_MAX <= USER_TOP, "vdso place");

/* The platform op vdso (include/cvisor/platform.h) of both platforms: the
 * host vDSO as every stub has it, or NULL when the sentry has none (then
 * stubs have none either). Found once, on first use. */
const struct platform_vdso *stub_vdso(struct platform *p);

struct stub_spawn_args {
	int memfd;
	int sysmsg_fd;	/* systrap: the sysmsg memfd; ptrace: -1 */
	int mode;	/* STUB_MODE_* */
};

/* fork() a stub (see stub.c). Returns the pid or -errno. In ptrace mode the
 * child has done PTRACE_TRACEME and stops itself with SIGSTOP before its
 * address space is wiped; the caller must waitpid() for it. */
pid_t stub_spawn(const struct stub_spawn_args *a);
/* SIGKILL and reap a stub unless already reaped. */
void stub_kill_reap(pid_t pid, int pidfd, bool reaped);
/* CPU time used by the stub process (all its threads), in ns. */
int stub_cputime(pid_t pid, uint64_t *ns);
/* CPU time used by one stub thread, in ns (falls back to the process's). */
int stub_thread_cputime(pid_t pid, pid_t tid, uint64_t *ns);

/* Pin the calling thread to the CPU it runs on (nested; per thread). */
void stub_pin_self(void);
void stub_unpin_self(void);
/* Pin another thread to the CPU the calling thread runs on. */
void stub_pin_peer(pid_t tid);

/*
 * A long-lived thread that fork()s stubs, so that PR_SET_PDEATHSIG (which
 * fires when the forking *thread* exits) ties stubs to the platform, not to
 * whichever task thread happened to create the address space.
 */
struct stub_spawner;
int stub_spawner_start(struct stub_spawner **out);
void stub_spawner_stop(struct stub_spawner *s);
pid_t stub_spawner_spawn(struct stub_spawner *s, const struct stub_spawn_args *a);

/*
 * FP state in the XSAVE standard (non-compacted) layout, as the kernel
 * writes it into signal frames and exchanges it through NT_X86_XSTATE
 * (see fpstate.c).
 */
struct fp_host {
	uint32_t size;		/* bytes of the XSAVE area (CPUID 0xD.0 EBX) */
	uint64_t features;	/* user xfeatures (XCR0) */
	uint32_t mxcsr_mask;	/* writable MXCSR bits (FXSAVE mxcsr_mask) */
	uint32_t comp_off[64];	/* standard-format offset of component i */
	uint32_t comp_size[64];
};
const struct fp_host *fp_host(void);
/* -EINVAL unless buf is an acceptable XSAVE image for this host (the
 * checks of the kernel's validate_user_xstate_header and MXCSR mask). */
int fp_validate(const void *buf, size_t len);
/* The state of a freshly exec'd thread (FNINIT, MXCSR 0x1f80). */
void fp_init_image(void *buf, size_t len);
/* sw_reserved (fx_sw_bytes) words of a signal frame's fpstate. */
#define FP_XSTATE_MAGIC1 0x46505853U
#define FP_XSTATE_MAGIC2 0x46505845U
#define FP_SW_OFF 464

/* user_regs_struct sanity shared by both modes. */
void stub_sanitize_regs(cpu_regs_t *r);

bool stub_is_fault_signal(int signo);

#endif /* !__ASSEMBLER__ */
#endif

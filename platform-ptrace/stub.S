/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stub code: the only code of its own a stub process ever runs.
 *
 * Position independent: stub.c copies [stub_start, stub_end) to a temporary
 * anonymous mapping and jumps to stub_entry; stage 1 wipes the address space
 * around that copy, re-creates itself at the fixed STUB_CODE address and
 * continues there (stage 2), where every absolute address is a constant.
 * Written in assembly so that no compiler instrumentation (ASan, stack
 * protector, -pg) and no libc state is involved: after stage 1 nothing but
 * this page exists.
 *
 * Syscalls from this code are the only ones the systrap seccomp filter
 * allows (it checks seccomp_data.instruction_pointer against this page).
 */
#include <asm/unistd_64.h>
#include "internal.h"

#define SYS(nr) mov $nr, %eax; syscall
/* Address of a stub symbol in the stub process (stage 2 and later). */
#define STUB_ADDR(sym) (STUB_CODE + ((sym) - stub_start))

	.text
	.p2align 12
	.globl stub_start, stub_end, stub_entry, stub_syscall_int3
	.globl stub_handler, stub_restorer, stub_clone_int3, stub_clone_int3_ret
	.globl stub_ut_entry, stub_ut_nogs, stub_ut_reframe, stub_ut_end
stub_start:

/*
 * stub_entry(%rdi = base of this copy, %rsi = STUB_MODE_*, %rdx = length,
 *            %rcx = struct stub_plan, in the page right below the copy)
 * Never returns. No stack is used.
 */
stub_entry:
	mov	%rdi, %r12
	mov	%rsi, %r13
	mov	%rdx, %r14
	mov	%rcx, %r15

	/* Run the plan (stub.c plan_build): munmap everything but this copy
	 * and the host vDSO (the sentry image, heap, libraries, stack ...),
	 * then mremap the vDSO's mappings to STUB_VDSO. */
	mov	PLAN_N(%r15), %rbx
	lea	PLAN_OP(%r15), %rbp
1:	test	%rbx, %rbx
	jz	2f
	mov	(%rbp), %rax
	mov	8(%rbp), %rdi
	mov	16(%rbp), %rsi
	mov	24(%rbp), %rdx
	mov	32(%rbp), %r10
	mov	40(%rbp), %r8
	syscall
	cmp	$-4095, %rax
	jae	.Lfail
	add	$PLAN_OP_SIZE, %rbp
	dec	%rbx
	jmp	1b
2:

	/* mmap(STUB_CODE, len, RW, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED) */
	movabs	$STUB_CODE, %rdi
	mov	%r14, %rsi
	mov	$3, %edx
	mov	$0x32, %r10d
	mov	$-1, %r8
	xor	%r9d, %r9d
	SYS(__NR_mmap)
	cmp	$-4095, %rax
	jae	.Lfail

	mov	%r12, %rsi
	movabs	$STUB_CODE, %rdi
	mov	%r14, %rcx
	rep movsb

	/* mprotect(STUB_CODE, len, PROT_READ|PROT_EXEC) */
	movabs	$STUB_CODE, %rdi
	mov	%r14, %rsi
	mov	$5, %edx
	SYS(__NR_mprotect)
	test	%rax, %rax
	jnz	.Lfail

	movabs	$(STUB_CODE + (.Lstage2 - stub_start)), %rax
	jmp	*%rax

.Lstage2:
	/* Now running at STUB_CODE: drop the temporary copy and its plan. */
	mov	%r15, %rdi
	lea	(%r12,%r14), %rsi
	sub	%r15, %rsi
	SYS(__NR_munmap)

	cmp	$STUB_MODE_SYSTRAP, %r13
	je	.Lsystrap

	/* ptrace: report "ready" with SIGTRAP; the tracer takes over. */
1:	int3
	jmp	1b

.Lsystrap:
	/* mmap(SYSMSG_BASE, SYSMSG_MAP_SIZE, RW, MAP_SHARED|MAP_FIXED,
	 *      STUB_FD_SYSMSG, 0) */
	movabs	$SYSMSG_BASE, %rdi
	mov	$SYSMSG_MAP_SIZE, %esi
	mov	$3, %edx
	mov	$0x11, %r10d
	mov	$STUB_FD_SYSMSG, %r8d
	xor	%r9d, %r9d
	SYS(__NR_mmap)
	cmp	$-4095, %rax
	jae	.Lfail

	/* seccomp(SECCOMP_SET_MODE_FILTER, 0, &setup->fprog); the sentry
	 * wrote the program; no_new_privs was set before the jump. */
	mov	$1, %edi
	xor	%esi, %esi
	movabs	$(SYSMSG_SETUP + SETUP_FPROG_OFF), %rdx
	SYS(__NR_seccomp)
	test	%rax, %rax
	jnz	.Lfail

	/* First trap: parks this thread in stub_handler, where the first
	 * ctx_switch() replaces all registers with the workload's. */
2:	int3
	jmp	2b

.Lfail:
	mov	$127, %edi
	SYS(__NR_exit_group)
	ud2

/* ptrace mode: syscall injection point (rip = here, rax = nr, args). */
	.p2align 4
stub_syscall_int3:
	syscall
	int3
	ud2

/* ptrace mode: clone injection point. The parent (the control thread)
 * reports with int3 as above; the new thread is not traced yet, so it must
 * not trap: it waits in pause() until its tracer PTRACE_SEIZEs and
 * PTRACE_INTERRUPTs it, then gets the workload's registers. */
	.p2align 4
stub_clone_int3:
	syscall
	test	%rax, %rax
	jz	1f
	int3
stub_clone_int3_ret:
	ud2
1:	SYS(__NR_pause)
	jmp	1b

/*
 * stub_handler(%rdi = signo, %rsi = siginfo, %rdx = ucontext)
 * SA_SIGINFO|SA_ONSTACK, all signals blocked. Runs on the altstack inside a
 * sysmsg slot; the slot header sits at %rsp rounded down to the slot size.
 * Registers may be clobbered freely (rt_sigreturn restores them all from
 * the frame the sentry edited); %rsp must stay as the kernel left it.
 */
	.p2align 4
stub_handler:
	mov	%rdx, %r15		/* kernel-provided: trusted */
	mov	%rsp, %rbx
	and	$~(SYSMSG_SLOT_SIZE - 1), %rbx
	/* The interrupt signal can arrive while this thread runs the
	 * syscall trampoline (below: its code, or its stack in our header
	 * page, also inside .Lwait_state) and must then not touch the
	 * hand-off: note it for the trampoline and return. In the
	 * trampoline's tail (registers half restored) restart the tail,
	 * which reloads everything from the slot. */
	cmp	$STUB_INTERRUPT_SIG, %edi
	jne	.Lnot_ut
	mov	UC_RIP(%r15), %rax
	movabs	$STUB_ADDR(stub_ut_entry), %rcx
	cmp	%rcx, %rax
	jb	1f
	movabs	$STUB_ADDR(stub_ut_end), %rcx
	cmp	%rcx, %rax
	jb	.Lin_ut
1:	mov	UC_RSP(%r15), %rax
	cmp	%rbx, %rax
	jb	.Lnot_ut
	lea	SYSMSG_HDR_SIZE(%rbx), %rcx
	cmp	%rcx, %rax
	ja	.Lnot_ut
.Lin_ut:
	movl	$1, HDR_UT_IRQ(%rbx)
	mov	UC_RIP(%r15), %rax
	movabs	$STUB_ADDR(.Lut_tail), %rcx
	cmp	%rcx, %rax
	jb	2f
	movabs	$STUB_ADDR(.Lut_tail_end), %rcx
	cmp	%rcx, %rax
	jae	2f
	movabs	$STUB_ADDR(.Lut_tail), %rcx
	mov	%rcx, UC_RIP(%r15)
	mov	HDR_UT_STACK(%rbx), %rax
	mov	%rax, UC_RSP(%r15)
2:	ret				/* to stub_restorer */

.Lnot_ut:
	mov	%rdi, HDR_SIGNO(%rbx)
	mov	%rsi, HDR_INFO(%rbx)
	mov	%rdx, HDR_UC(%rbx)
	/* xchg is a full barrier: the state store is visible before we
	 * read sentry_sleeping (pairs with the sentry's xchg + re-check). */
	mov	$ST_TRAPPED, %eax
	xchg	%eax, HDR_STATE(%rbx)
	call	.Lwake_sentry
	call	.Lwait_state
	jmp	.Lresume

/*
 * Wait for the sentry (%rbx = slot): serve commands, return when the
 * state is RESUME or UT_REFRAME (in %eax). Clobbers everything but %rbx,
 * %r15 and %rsp.
 */
.Lwait_state:
.Lwait:
	/* On the sentry thread's CPU, spinning would keep it off the CPU
	 * until the budget is gone: then yield to it at each look instead.
	 * Decided once a wait (lsl ~17 ns): %r14 = 1 when on its CPU. */
	xor	%r14d, %r14d
	mov	$CPUNODE_SEL, %eax
	lsl	%eax, %eax
	jnz	7f
	and	$0xfff, %eax
	cmp	HDR_SENTRY_CPU(%rbx), %eax
	sete	%r14b
7:	rdtsc
	shl	$32, %rdx
	or	%rdx, %rax
	mov	HDR_SPIN_CYCLES(%rbx), %r12
	lea	(%rax,%r12,SERVING_SPIN_FACTOR), %r13
	add	%rax, %r12
.Lspin:
	mov	HDR_STATE(%rbx), %eax
	cmp	$ST_CMD, %eax
	je	.Lcmd
	cmp	$ST_RESUME, %eax
	je	.Lwait_done
	cmp	$ST_UT_REFRAME, %eax
	je	.Lwait_done
	/* The sentry sleeps while serving us (a blocking syscall): the
	 * result is not coming soon, give the CPU away now. */
	cmpl	$0, HDR_SENTRY_BLOCKED(%rbx)
	jne	.Lspin_over
	test	%r14d, %r14d
	jz	1f
	SYS(__NR_sched_yield)
	jmp	2f
1:	pause
2:	rdtsc
	shl	$32, %rdx
	or	%rdx, %rax
	cmp	%r12, %rax
	jb	.Lspin
	/* Past the short budget: keep spinning, up to the long one, only
	 * while the sentry thread is known to be running our stop (then it
	 * runs on another CPU, and its result is on the way: a 1 MiB read,
	 * a gofer round trip, a page fill). */
	cmpl	$0, HDR_SENTRY_SERVING(%rbx)
	je	.Lspin_over
	cmp	%r13, %rax
	jb	.Lspin

	/* Bounded spin over: announce we sleep, re-check, FUTEX_WAIT while
	 * the state is still one we published. */
.Lspin_over:
	mov	$1, %eax
	xchg	%eax, HDR_STUB_SLEEP(%rbx)
	mov	HDR_STATE(%rbx), %edx
	cmp	$ST_TRAPPED, %edx
	je	1f
	cmp	$ST_CMD_DONE, %edx
	jne	.Lwoke
1:	lea	HDR_STATE(%rbx), %rdi
	xor	%esi, %esi		/* FUTEX_WAIT (shared: another mm) */
	xor	%r10d, %r10d
	SYS(__NR_futex)
.Lwoke:
	movl	$0, HDR_STUB_SLEEP(%rbx)
	jmp	.Lwait
.Lwait_done:
	ret

.Lcmd:
	mov	HDR_CMD_NR(%rbx), %rax
	cmp	$__NR_clone, %rax
	je	.Lclone
	mov	HDR_CMD_ARGS+0(%rbx), %rdi
	mov	HDR_CMD_ARGS+8(%rbx), %rsi
	mov	HDR_CMD_ARGS+16(%rbx), %rdx
	mov	HDR_CMD_ARGS+24(%rbx), %r10
	mov	HDR_CMD_ARGS+32(%rbx), %r8
	mov	HDR_CMD_ARGS+40(%rbx), %r9
	syscall
	mov	%rax, HDR_CMD_RET(%rbx)
	mov	$ST_CMD_DONE, %eax
	xchg	%eax, HDR_STATE(%rbx)
	call	.Lwake_sentry
	jmp	.Lwait

	/* Control thread: create a context thread. args: flags, the child's
	 * initial stack (top of its slot's header page), -, child_tid (its
	 * slot's HDR_TID). The child shares the filter, the handlers and
	 * the memory; it inherits our all-blocked mask and no altstack. */
.Lclone:
	mov	HDR_CMD_ARGS+0(%rbx), %rdi
	mov	HDR_CMD_ARGS+8(%rbx), %rsi
	xor	%edx, %edx
	mov	HDR_CMD_ARGS+24(%rbx), %r10
	xor	%r8d, %r8d
	SYS(__NR_clone)
	test	%rax, %rax
	jz	.Lthread
	mov	%rax, HDR_CMD_RET(%rbx)
	mov	$ST_CMD_DONE, %eax
	xchg	%eax, HDR_STATE(%rbx)
	call	.Lwake_sentry
	jmp	.Lwait

.Lthread:
	/* New thread, %rsp = its slot + SYSMSG_HDR_SIZE. */
	mov	%rsp, %rbx
	and	$~(SYSMSG_SLOT_SIZE - 1), %rbx
	/* sigaltstack(&{ss_sp, ss_flags 0, ss_size}, NULL) */
	push	$(SYSMSG_SLOT_SIZE - SYSMSG_HDR_SIZE)
	push	$0
	lea	SYSMSG_HDR_SIZE(%rbx), %rax
	push	%rax
	mov	%rsp, %rdi
	xor	%esi, %esi
	SYS(__NR_sigaltstack)
	test	%rax, %rax
	jnz	.Lthread_fail
	/* rt_sigprocmask(SIG_SETMASK, &0, NULL, 8) */
	push	$0
	mov	$2, %edi
	mov	%rsp, %rsi
	xor	%edx, %edx
	mov	$8, %r10d
	SYS(__NR_rt_sigprocmask)
	test	%rax, %rax
	jnz	.Lthread_fail
	/* Park in stub_handler on our own slot, like the first thread. */
3:	int3
	jmp	3b
.Lthread_fail:
	mov	$127, %edi
	SYS(__NR_exit)
	ud2

.Lresume:
	cmpl	$0, HDR_SET_FS(%rbx)
	je	1f
	movl	$0, HDR_SET_FS(%rbx)
	mov	$0x1002, %edi		/* ARCH_SET_FS */
	mov	HDR_FS_BASE(%rbx), %rsi
	SYS(__NR_arch_prctl)
1:	cmpl	$0, HDR_SET_GS(%rbx)
	je	2f
	movl	$0, HDR_SET_GS(%rbx)
	mov	$0x1001, %edi		/* ARCH_SET_GS */
	mov	HDR_GS_BASE(%rbx), %rsi
	SYS(__NR_arch_prctl)
2:	/* rt_sigreturn also restores the signal mask and the altstack
	 * from the frame, which lies in workload-writable memory: make
	 * sure no signal we need stays blocked and the altstack stays
	 * ours (kernel/signal.c restore_altstack). Done here rather than
	 * by the sentry so these cache lines never leave this CPU. */
	movq	$0, UC_SIGMASK(%r15)
	lea	SYSMSG_HDR_SIZE(%rbx), %rax
	mov	%rax, UC_SS_SP(%r15)
	movl	$0, UC_SS_FLAGS(%r15)
	movq	$(SYSMSG_SLOT_SIZE - SYSMSG_HDR_SIZE), UC_SS_SIZE(%r15)
	movl	$ST_RUNNING, HDR_STATE(%rbx)
	ret				/* to stub_restorer */

/* Called with the altstack usable (the frame lies below %rsp). Notes the
 * CPU we are on for the sentry (stored only when it changed: the line is
 * shared with the sentry's CPU). */
.Lwake_sentry:
	mov	$CPUNODE_SEL, %eax
	lsl	%eax, %eax
	jnz	1f
	and	$0xfff, %eax
	cmp	HDR_STUB_CPU(%rbx), %eax
	je	1f
	mov	%eax, HDR_STUB_CPU(%rbx)
1:	cmpl	$0, HDR_SENTRY_SLEEP(%rbx)
	je	2f
	lea	HDR_STATE(%rbx), %rdi
	mov	$1, %esi		/* FUTEX_WAKE */
	mov	$1, %edx
	SYS(__NR_futex)
2:	ret

	.p2align 4
stub_restorer:
	SYS(__NR_rt_sigreturn)
	ud2

/*
 * The syscall trampoline. A patched site `jmp *ENTRY` (ENTRY in the
 * trampoline table, UT_TABLE) lands in the site's table entry, which does
 * `mov $nr, %eax; movabs $site+7, %rcx; jmp *UT_TABLE` and so comes here
 * with the workload's registers but rax (the nr, as the replaced `mov`
 * left it) and rcx (the return address; the syscall insn clobbers rcx and
 * r11). The workload's stack is never touched (red zone).
 *
 * %gs is this thread's slot (systrap.c sets it while the workload has no
 * GS base of its own). It is checked first without changing the flags: if
 * the load faults (SIGSEGV at stub_ut_entry) or finds no UT_MAGIC (SIGILL
 * at stub_ut_nogs), the platform turns the fault into the syscall, from
 * rax and rcx. Otherwise the registers go to HDR_UT_GREGS, as the kernel's
 * syscall entry would see them (rcx = rip = return address, r11 = rflags),
 * the sentry is told with signo 0 and we wait like the signal handler.
 * RESUME: the sentry wrote the state to return to into HDR_UT_GREGS (the
 * general registers, rip and the flags it may set); the tail loads it.
 * UT_REFRAME: the sentry needs more (FP state, fs/gs base, other flags):
 * trap (SIGILL at stub_ut_reframe) so the handler parks on a full signal
 * frame, and carry on there.
 */
	.p2align 4
stub_ut_entry:
	mov	%gs:HDR_UT_MAGIC, %r11d
	lea	-UT_MAGIC(%r11), %r11
	xchg	%r11, %rcx
	jrcxz	1f
	mov	%r11, %rcx
stub_ut_nogs:
	ud2
1:	mov	%r11, %gs:HDR_UT_GREGS+G_RIP
	mov	%r11, %gs:HDR_UT_GREGS+G_RCX
	mov	%rsp, %gs:HDR_UT_GREGS+G_RSP
	mov	%gs:HDR_UT_STACK, %rsp
	pushfq
	pop	%r11
	mov	%r11, %gs:HDR_UT_GREGS+G_EFL
	mov	%r11, %gs:HDR_UT_GREGS+G_R11
	mov	%rax, %gs:HDR_UT_GREGS+G_RAX
	mov	%rbx, %gs:HDR_UT_GREGS+G_RBX
	mov	%rdx, %gs:HDR_UT_GREGS+G_RDX
	mov	%rsi, %gs:HDR_UT_GREGS+G_RSI
	mov	%rdi, %gs:HDR_UT_GREGS+G_RDI
	mov	%rbp, %gs:HDR_UT_GREGS+G_RBP
	mov	%r8, %gs:HDR_UT_GREGS+G_R8
	mov	%r9, %gs:HDR_UT_GREGS+G_R9
	mov	%r10, %gs:HDR_UT_GREGS+G_R10
	mov	%r12, %gs:HDR_UT_GREGS+G_R12
	mov	%r13, %gs:HDR_UT_GREGS+G_R13
	mov	%r14, %gs:HDR_UT_GREGS+G_R14
	mov	%r15, %gs:HDR_UT_GREGS+G_R15
	mov	%rsp, %rbx
	and	$~(SYSMSG_SLOT_SIZE - 1), %rbx
	movl	$UT_SYSCALL, HDR_UT_REASON(%rbx)
.Lut_report:
	movq	$0, HDR_SIGNO(%rbx)
	mov	$ST_TRAPPED, %eax
	xchg	%eax, HDR_STATE(%rbx)
	call	.Lwake_sentry
	call	.Lwait_state
	cmp	$ST_UT_REFRAME, %eax
	jne	1f
stub_ut_reframe:
	ud2
1:	movl	$ST_RUNNING, HDR_STATE(%rbx)
/* Restartable from the top (the handler does so on an interrupt signal):
 * everything comes from the slot; %rsp is the trampoline stack's top. */
.Lut_tail:
	cmpl	$0, %gs:HDR_UT_IRQ
	jne	.Lut_irq
	pushq	%gs:HDR_UT_GREGS+G_EFL
	popfq
	mov	%gs:HDR_UT_GREGS+G_R8, %r8
	mov	%gs:HDR_UT_GREGS+G_R9, %r9
	mov	%gs:HDR_UT_GREGS+G_R10, %r10
	mov	%gs:HDR_UT_GREGS+G_R11, %r11
	mov	%gs:HDR_UT_GREGS+G_R12, %r12
	mov	%gs:HDR_UT_GREGS+G_R13, %r13
	mov	%gs:HDR_UT_GREGS+G_R14, %r14
	mov	%gs:HDR_UT_GREGS+G_R15, %r15
	mov	%gs:HDR_UT_GREGS+G_RDI, %rdi
	mov	%gs:HDR_UT_GREGS+G_RSI, %rsi
	mov	%gs:HDR_UT_GREGS+G_RBP, %rbp
	mov	%gs:HDR_UT_GREGS+G_RBX, %rbx
	mov	%gs:HDR_UT_GREGS+G_RDX, %rdx
	mov	%gs:HDR_UT_GREGS+G_RAX, %rax
	mov	%gs:HDR_UT_GREGS+G_RCX, %rcx
	mov	%gs:HDR_UT_GREGS+G_RSP, %rsp
	jmp	*%gs:HDR_UT_GREGS+G_RIP
.Lut_tail_end:
	/* An interrupt signal came while we were here: report it (the
	 * state to resume is in the slot) and wait again. */
.Lut_irq:
	movl	$0, %gs:HDR_UT_IRQ
	mov	%rsp, %rbx
	and	$~(SYSMSG_SLOT_SIZE - 1), %rbx
	movl	$UT_IRQ, HDR_UT_REASON(%rbx)
	jmp	.Lut_report
stub_ut_end:

	.p2align 12
stub_end:

	.section .note.GNU-stack,"",%progbits

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

	.text
	.p2align 12
	.globl stub_start, stub_end, stub_entry, stub_syscall_int3
	.globl stub_handler, stub_restorer, stub_clone_int3, stub_clone_int3_ret
stub_start:

/*
 * stub_entry(%rdi = base of this copy, %rsi = STUB_MODE_*, %rdx = length)
 * Never returns. No stack is used.
 */
stub_entry:
	mov	%rdi, %r12
	mov	%rsi, %r13
	mov	%rdx, %r14

	/* munmap(0, base): the sentry image, heap, libraries, stack ... */
	xor	%edi, %edi
	mov	%r12, %rsi
	SYS(__NR_munmap)
	/* munmap(base + len, USER_TOP - (base + len)): vdso, vvar, stack */
	lea	(%r12,%r14), %rdi
	movabs	$USER_TOP, %rsi
	sub	%rdi, %rsi
	SYS(__NR_munmap)

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
	/* Now running at STUB_CODE: drop the temporary copy. */
	mov	%r12, %rdi
	mov	%r14, %rsi
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
	mov	%rdi, HDR_SIGNO(%rbx)
	mov	%rsi, HDR_INFO(%rbx)
	mov	%rdx, HDR_UC(%rbx)
	/* xchg is a full barrier: the state store is visible before we
	 * read sentry_sleeping (pairs with the sentry's xchg + re-check). */
	mov	$ST_TRAPPED, %eax
	xchg	%eax, HDR_STATE(%rbx)
	call	.Lwake_sentry

.Lwait:
	rdtsc
	shl	$32, %rdx
	or	%rdx, %rax
	mov	HDR_SPIN_CYCLES(%rbx), %r12
	add	%rax, %r12
.Lspin:
	mov	HDR_STATE(%rbx), %eax
	cmp	$ST_CMD, %eax
	je	.Lcmd
	cmp	$ST_RESUME, %eax
	je	.Lresume
	pause
	rdtsc
	shl	$32, %rdx
	or	%rdx, %rax
	cmp	%r12, %rax
	jb	.Lspin

	/* Bounded spin over: announce we sleep, re-check, FUTEX_WAIT. */
	mov	$1, %eax
	xchg	%eax, HDR_STUB_SLEEP(%rbx)
	mov	HDR_STATE(%rbx), %edx
	cmp	$ST_CMD, %edx
	je	.Lwoke
	cmp	$ST_RESUME, %edx
	je	.Lwoke
	lea	HDR_STATE(%rbx), %rdi
	xor	%esi, %esi		/* FUTEX_WAIT (shared: another mm) */
	xor	%r10d, %r10d
	SYS(__NR_futex)
.Lwoke:
	movl	$0, HDR_STUB_SLEEP(%rbx)
	jmp	.Lwait

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

/* Called with the altstack usable (the frame lies below %rsp). */
.Lwake_sentry:
	cmpl	$0, HDR_SENTRY_SLEEP(%rbx)
	je	1f
	lea	HDR_STATE(%rbx), %rdi
	mov	$1, %esi		/* FUTEX_WAKE */
	mov	$1, %edx
	SYS(__NR_futex)
1:	ret

	.p2align 4
stub_restorer:
	SYS(__NR_rt_sigreturn)
	ud2

	.p2align 12
stub_end:

	.section .note.GNU-stack,"",%progbits

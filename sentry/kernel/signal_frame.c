// SPDX-License-Identifier: GPL-2.0
/*
 * x86-64 signal frames, laid out exactly like Linux's struct rt_sigframe
 * (arch/x86/include/asm/sigframe.h, uapi/asm/sigcontext.h) and placed like
 * get_sigframe() in arch/x86/kernel/signal.c:
 *
 *	sp = rsp - 128 (red zone), or the top of the altstack (SA_ONSTACK)
 *	fpstate = round_down(sp - fpstate_size, 64)
 *	frame = round_down(fpstate - sizeof(rt_sigframe), 16) - 8
 *
 * so rsp % 16 == 8 at handler entry, as after a call.
 *
 * FP state comes from the platform (ctx_get/set_fpstate, XSAVE standard
 * format): the frame carries the image with fpx_sw_bytes (FP_XSTATE_MAGIC1)
 * and FP_XSTATE_MAGIC2 after it, uc_flags has UC_FP_XSTATE, the handler
 * starts with the initial FP state, and rt_sigreturn restores the image.
 * A platform without FP access gets a legacy FXSAVE image in its initial
 * state (what Linux writes without XSAVE) and the live registers carry
 * through unchanged.
 *
 * Runs on the task's own thread; takes no locks (workload memory through
 * mm_copy_*, which take mm->lock).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cvisor/mm.h"
#include "cvisor/signal.h"
#include "cvisor/task.h"
#include "signal_impl.h"

#define UC_FP_XSTATE 0x1
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4

/* arch/x86/include/asm/sighandling.h FIX_EFLAGS (64-bit). */
#define X86_EFLAGS_CF 0x0001
#define X86_EFLAGS_PF 0x0004
#define X86_EFLAGS_AF 0x0010
#define X86_EFLAGS_ZF 0x0040
#define X86_EFLAGS_SF 0x0080
#define X86_EFLAGS_TF 0x0100
#define X86_EFLAGS_DF 0x0400
#define X86_EFLAGS_OF 0x0800
#define X86_EFLAGS_RF 0x10000
#define X86_EFLAGS_AC 0x40000
#define FIX_EFLAGS (X86_EFLAGS_AC | X86_EFLAGS_OF | X86_EFLAGS_DF |     \
		    X86_EFLAGS_TF | X86_EFLAGS_SF | X86_EFLAGS_ZF |     \
		    X86_EFLAGS_AF | X86_EFLAGS_PF | X86_EFLAGS_CF |     \
		    X86_EFLAGS_RF)

struct k_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;
	uint64_t reserved1[8];
};

struct k_stack {
	uint64_t sp;
	int32_t flags;
	int32_t pad;
	uint64_t size;
};

struct k_ucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	struct k_stack uc_stack;
	struct k_sigcontext uc_mcontext;
	uint64_t uc_sigmask;
};

struct rt_sigframe {
	uint64_t pretcode;
	struct k_ucontext uc;
	siginfo_t info;
};

/* struct fxregs_state / _fpstate_64 (legacy area). */
struct k_fxsave {
	uint16_t cwd, swd, twd, fop;
	uint64_t rip, rdp;
	uint32_t mxcsr, mxcsr_mask;
	uint32_t st_space[32];
	uint32_t xmm_space[64];
	uint32_t padding[12];
	uint32_t sw_reserved[12];	/* fpx_sw_bytes */
};

_Static_assert(sizeof(struct k_sigcontext) == 256, "sigcontext");
_Static_assert(offsetof(struct k_ucontext, uc_mcontext) == 40, "ucontext");
_Static_assert(sizeof(struct k_ucontext) == 304, "ucontext size");
_Static_assert(offsetof(struct rt_sigframe, info) == 312, "rt_sigframe");
_Static_assert(sizeof(struct rt_sigframe) == 440, "rt_sigframe size");
_Static_assert(sizeof(struct k_fxsave) == 512, "fxsave");

#define FP_XSTATE_MAGIC1 0x46505853U
#define FP_XSTATE_MAGIC2 0x46505845U

/* FP state through the platform (XSAVE standard format, cvisor/platform.h);
 * a platform without it gets a legacy FXSAVE image in the initial state and
 * the live registers simply carry through. */
static bool fp_supported(struct task *t)
{
	const struct platform_ops *ops = t->k->platform->ops;

	return t->ctx && ops->fpstate_size && ops->ctx_get_fpstate &&
	       ops->ctx_set_fpstate;
}

static size_t fp_size(struct task *t)
{
	size_t n = fp_supported(t) ? t->k->platform->ops->fpstate_size(t->k->platform) : 512;

	return n < 512 ? 512 : n;
}

static void fp_init_image(uint8_t *img)
{
	struct k_fxsave *fx = (struct k_fxsave *)img;

	fx->cwd = 0x37f;
	fx->mxcsr = 0x1f80;
}

static int fp_get(struct task *t, uint8_t *img, size_t n)
{
	if (!fp_supported(t)) {
		fp_init_image(img);
		((struct k_fxsave *)img)->mxcsr_mask = 0xffff;
		return 0;
	}
	return t->k->platform->ops->ctx_get_fpstate(t->ctx, img, n);
}

static int fp_set(struct task *t, const uint8_t *img, size_t n)
{
	if (!fp_supported(t))
		return 0;
	return t->k->platform->ops->ctx_set_fpstate(t->ctx, img, n);
}

/* rt_sigreturn's FP half (restore_fpregs_from_user): a NULL fpstate
 * gives the initial state; a frame without the XSAVE magic restores the
 * legacy area only. */
static int restore_fp(struct task *t, uint64_t addr)
{
	size_t n = fp_size(t);
	uint8_t *img;
	int r = 0;

	if (!fp_supported(t))
		return 0;
	img = calloc(1, n);
	if (!img)
		return -EFAULT;
	if (!addr) {
		fp_init_image(img);
	} else if (mm_copy_in(t->mm, img, addr, 512)) {
		r = -EFAULT;
	} else if (n > 512) {
		struct k_fxsave *fx = (struct k_fxsave *)img;
		uint32_t m2 = 0;

		if (fx->sw_reserved[0] == FP_XSTATE_MAGIC1 &&
		    fx->sw_reserved[4] == n && !mm_copy_in(t->mm, &m2, addr + n, 4) &&
		    m2 == FP_XSTATE_MAGIC2) {
			if (mm_copy_in(t->mm, img, addr, n))
				r = -EFAULT;
		} else {
			uint64_t xbv = 3; /* x87 | SSE from the legacy area */

			memset(img + 512, 0, n - 512);
			memcpy(img + 512, &xbv, sizeof(xbv));
		}
	}
	if (!r && fp_set(t, img, n))
		r = -EFAULT;
	free(img);
	return r;
}

bool signal_on_altstack(struct task *t, uint64_t sp)
{
	/* on_sig_stack(): with SS_AUTODISARM the task is never "on" it. */
	if (t->sig.altstack_flags & SS_AUTODISARM)
		return false;
	return sp > t->sig.altstack_sp &&
	       sp - t->sig.altstack_sp <= t->sig.altstack_size;
}

static int sas_ss_flags(struct task *t, uint64_t sp)
{
	if (!t->sig.altstack_size)
		return SS_DISABLE;
	return signal_on_altstack(t, sp) ? SS_ONSTACK : 0;
}

int signal_frame_setup(struct task *t, int sig, const siginfo_t *info,
		       const struct cv_sigaction *ka, uint64_t oldmask)
{
	struct rt_sigframe f;
	cpu_regs_t *r = &t->regs;
	uint64_t sp = r->rsp - 128, fp, frame;
	bool onstack = false, xsave;
	size_t n = fp_size(t), math;
	uint8_t *img;
	int err;

	/* x86-64 needs a restorer: there is no vDSO fallback. */
	if (!(ka->flags & SA_RESTORER))
		return -EFAULT;
	if (ka->flags & SA_ONSTACK) {
		if (sas_ss_flags(t, sp) == 0) {
			sp = t->sig.altstack_sp + t->sig.altstack_size;
			onstack = true;
		}
	}
	onstack = onstack || signal_on_altstack(t, sp);
	xsave = n > 512;
	/* xstate_sigframe_size: the image plus FP_XSTATE_MAGIC2 after it. */
	math = xsave ? n + 4 : n;
	fp = (sp - math) & ~63ULL;
	frame = ((fp - sizeof(f)) & ~15ULL) - 8;
	/* Overflowing the altstack gets a bogus frame: SIGSEGV. */
	if (onstack && !signal_on_altstack(t, frame) &&
	    !(t->sig.altstack_flags & SS_AUTODISARM))
		return -EFAULT;

	img = calloc(1, math);
	if (!img)
		return -EFAULT;
	if (fp_get(t, img, n)) {
		free(img);
		return -EFAULT;
	}
	if (xsave) {
		struct k_fxsave *fx = (struct k_fxsave *)img;
		uint64_t xbv;

		/* fx_sw_bytes: magic1, extended_size, xfeatures,
		 * xstate_size (uapi/asm/sigcontext.h); magic2 after. */
		if (fx->sw_reserved[0] != FP_XSTATE_MAGIC1) {
			memcpy(&xbv, img + 512, sizeof(xbv));
			fx->sw_reserved[0] = FP_XSTATE_MAGIC1;
			fx->sw_reserved[1] = (uint32_t)math;
			memcpy(&fx->sw_reserved[2], &xbv, sizeof(xbv));
			fx->sw_reserved[4] = (uint32_t)n;
		}
		{
			uint32_t m2 = FP_XSTATE_MAGIC2;

			memcpy(img + n, &m2, sizeof(m2));
		}
	}

	memset(&f, 0, sizeof(f));
	f.pretcode = ka->restorer;
	f.uc.uc_flags = UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS |
			(xsave ? UC_FP_XSTATE : 0);
	f.uc.uc_link = 0;
	/* __save_altstack: the flags the task would read with
	 * sigaltstack() at the interrupted sp. */
	f.uc.uc_stack.sp = t->sig.altstack_sp;
	f.uc.uc_stack.size = t->sig.altstack_size;
	f.uc.uc_stack.flags = sas_ss_flags(t, r->rsp) |
			      (int32_t)(t->sig.altstack_flags & SS_AUTODISARM);
	{
		struct k_sigcontext *sc = &f.uc.uc_mcontext;

		sc->r8 = r->r8;
		sc->r9 = r->r9;
		sc->r10 = r->r10;
		sc->r11 = r->r11;
		sc->r12 = r->r12;
		sc->r13 = r->r13;
		sc->r14 = r->r14;
		sc->r15 = r->r15;
		sc->rdi = r->rdi;
		sc->rsi = r->rsi;
		sc->rbp = r->rbp;
		sc->rbx = r->rbx;
		sc->rdx = r->rdx;
		sc->rax = r->rax;
		sc->rcx = r->rcx;
		sc->rsp = r->rsp;
		sc->rip = r->rip;
		sc->eflags = r->eflags;
		sc->cs = (uint16_t)r->cs;
		sc->gs = 0;
		sc->fs = 0;
		sc->ss = (uint16_t)r->ss;
		if (info->si_code > 0 &&
		    (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE ||
		     sig == SIGILL || sig == SIGTRAP)) {
			sc->trapno = t->sig.fault_trapno == ~0ULL ?
					     0 : t->sig.fault_trapno;
			if (sig == SIGSEGV || sig == SIGBUS) {
				sc->err = t->sig.fault_err;
				sc->cr2 = t->sig.fault_addr;
				if (!sc->trapno)
					sc->trapno = 14; /* #PF */
			}
		}
		sc->oldmask = oldmask;
		sc->fpstate = fp;
	}
	f.uc.uc_sigmask = oldmask;
	if (ka->flags & SA_SIGINFO)
		f.info = *info;

	err = mm_copy_out(t->mm, fp, img, math) ||
	      mm_copy_out(t->mm, frame, &f, sizeof(f));
	if (!err) {
		/* fpu__clear_user_states: the handler starts with the
		 * execve FP state. */
		memset(img, 0, math);
		fp_init_image(img);
		err = fp_set(t, img, n);
	}
	free(img);
	if (err)
		return -EFAULT;

	/* SS_AUTODISARM: the altstack is off while the handler runs; the
	 * saved uc_stack brings it back on return. */
	if (t->sig.altstack_flags & SS_AUTODISARM) {
		t->sig.altstack_sp = 0;
		t->sig.altstack_size = 0;
		t->sig.altstack_flags = 0;
	}
	r->rdi = (uint64_t)sig;
	r->rsi = frame + offsetof(struct rt_sigframe, info);
	r->rdx = frame + offsetof(struct rt_sigframe, uc);
	r->rax = 0;
	r->rsp = frame;
	r->rip = ka->handler;
	r->eflags &= ~(uint64_t)(X86_EFLAGS_DF | X86_EFLAGS_RF | X86_EFLAGS_TF);
	return 0;
}

/* restore_altstack -> do_sigaltstack(uss, NULL, sp). */
static int restore_altstack(struct task *t, const struct k_stack *ss)
{
	uint32_t mode = (uint32_t)ss->flags & ~SS_AUTODISARM;

	if (ss->sp == t->sig.altstack_sp && ss->size == t->sig.altstack_size &&
	    ((uint32_t)ss->flags & SS_AUTODISARM) ==
		    ((uint32_t)t->sig.altstack_flags & SS_AUTODISARM))
		return 0;
	if (signal_on_altstack(t, t->regs.rsp))
		return -EPERM;
	if (mode == SS_DISABLE) {
		t->sig.altstack_sp = 0;
		t->sig.altstack_size = 0;
		t->sig.altstack_flags = 0;
		return 0;
	}
	if (mode != 0 && mode != SS_ONSTACK)
		return -EINVAL;
	if (ss->size < (uint64_t)MINSIGSTKSZ)
		return -ENOMEM;
	t->sig.altstack_sp = ss->sp;
	t->sig.altstack_size = ss->size;
	t->sig.altstack_flags = (int)((uint32_t)ss->flags & SS_AUTODISARM);
	return 0;
}

int signal_frame_return(struct task *t)
{
	struct rt_sigframe f;
	struct k_sigcontext *sc = &f.uc.uc_mcontext;
	cpu_regs_t *r = &t->regs;
	uint64_t frame = r->rsp - 8;

	if (mm_copy_in(t->mm, &f, frame, sizeof(f)))
		return -EFAULT;
	sig_lock(t);
	signal_set_blocked_locked(t, f.uc.uc_sigmask);
	sig_unlock(t);
	r->r8 = sc->r8;
	r->r9 = sc->r9;
	r->r10 = sc->r10;
	r->r11 = sc->r11;
	r->r12 = sc->r12;
	r->r13 = sc->r13;
	r->r14 = sc->r14;
	r->r15 = sc->r15;
	r->rdi = sc->rdi;
	r->rsi = sc->rsi;
	r->rbp = sc->rbp;
	r->rbx = sc->rbx;
	r->rdx = sc->rdx;
	r->rax = sc->rax;
	r->rcx = sc->rcx;
	r->rsp = sc->rsp;
	r->rip = sc->rip;
	/* Only the arithmetic/user flags come from the frame; cs and ss
	 * stay the platform's user selectors (restore_sigcontext forces
	 * RPL 3; nothing else is valid for a 64-bit task here). */
	r->eflags = (r->eflags & ~(uint64_t)FIX_EFLAGS) |
		    (sc->eflags & FIX_EFLAGS);
	/* No syscall restart after sigreturn. */
	r->orig_rax = (uint64_t)-1;
	if (restore_altstack(t, &f.uc.uc_stack))
		return -EFAULT;
	return restore_fp(t, sc->fpstate);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The "ptrace" platform: every workload syscall is a PTRACE_SYSEMU stop.
 *
 * The sentry thread that creates an address space is the tracer of its stub
 * (PTRACE_TRACEME from the child of that thread), and only that thread may
 * drive it: ptrace requests from other threads fail with ESRCH. This
 * revision has one context per address space. Tracer and stub are pinned to
 * one CPU (stub_pin_self), which makes a stop/resume ~10x cheaper here.
 *
 * Mapping changes are syscalls injected into the stopped stub: registers
 * point at `syscall; int3` in the stub page, PTRACE_CONT, wait for the
 * SIGTRAP, read rax, put the registers back.
 *
 * Locks: none; ctx->interrupt is the only field touched from other threads
 * (atomically). Ownership: the address space owns the stub pid/pidfd, the
 * context borrows the address space.
 */
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cvisor/log.h"
#include "cvisor/util.h"
#include "internal.h"

struct ptrace_platform {
	struct platform base;
	int memfd;
};

struct ptrace_as {
	struct platform_as base;
	pid_t pid;
	int pidfd;
	bool dead;	/* the stub is gone and reaped */
	bool has_ctx;
};

struct ptrace_ctx {
	struct platform_ctx base;
	atomic_int interrupt;
};

static struct ptrace_as *to_as(struct platform_as *as)
{
	return container_of(as, struct ptrace_as, base);
}

static struct ptrace_ctx *to_ctx(struct platform_ctx *c)
{
	return container_of(c, struct ptrace_ctx, base);
}

static uint64_t pt_user_max(struct platform *p UNUSED)
{
	return STUB_BASE;
}

static int pt_init(const struct platform_config *cfg, struct platform **out)
{
	struct ptrace_platform *pp;

	if (cfg->memfd < 0)
		return -EBADF;
	pp = calloc(1, sizeof(*pp));
	if (!pp)
		return -ENOMEM;
	pp->base.ops = &platform_ptrace_ops;
	pp->memfd = cfg->memfd;
	*out = &pp->base;
	return 0;
}

static void pt_destroy(struct platform *p)
{
	free(container_of(p, struct ptrace_platform, base));
}

/* waitpid() for the stub; marks it dead (and reaped) when it is gone. */
static int pt_wait(struct ptrace_as *as, int *status)
{
	for (;;) {
		pid_t r = waitpid(as->pid, status, __WALL);

		if (r == as->pid)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		/* ECHILD: someone else reaped it (SIGCHLD set to SIG_IGN). */
		as->dead = true;
		return -ESRCH;
	}
	if (WIFEXITED(*status) || WIFSIGNALED(*status)) {
		as->dead = true;
		return -ESRCH;
	}
	return 0;
}

/* Wait until the stub stops with signal sig, resuming (and suppressing)
 * any other signal on the way. */
static int pt_wait_for_signal(struct ptrace_as *as, int sig)
{
	int status, r;

	for (;;) {
		r = pt_wait(as, &status);
		if (r)
			return r;
		if (WIFSTOPPED(status) && WSTOPSIG(status) == sig)
			return 0;
		if (ptrace(PTRACE_CONT, as->pid, 0, 0))
			return -errno;
	}
}

static int pt_as_new(struct platform *p, struct platform_as **out)
{
	struct ptrace_platform *pp = container_of(p, struct ptrace_platform, base);
	struct stub_spawn_args a = {
		.memfd = pp->memfd, .sysmsg_fd = -1, .mode = STUB_MODE_PTRACE,
	};
	struct ptrace_as *as;
	int r;

	as = calloc(1, sizeof(*as));
	if (!as)
		return -ENOMEM;
	as->base.p = p;
	as->pidfd = -1;

	/* Pin before fork: the stub inherits the affinity. */
	stub_pin_self();
	as->pid = stub_spawn(&a);
	if (as->pid < 0) {
		r = as->pid;
		goto fail;
	}
	as->pidfd = (int)syscall(SYS_pidfd_open, as->pid, 0);

	/* 1. the child's self-SIGSTOP after PTRACE_TRACEME */
	r = pt_wait_for_signal(as, SIGSTOP);
	if (r)
		goto fail;
	/* EXITKILL: the stub dies with its tracer (ptrace(2)). */
	if (ptrace(PTRACE_SETOPTIONS, as->pid, 0,
		   PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD)) {
		r = -errno;
		goto fail;
	}
	if (ptrace(PTRACE_CONT, as->pid, 0, 0)) {
		r = -errno;
		goto fail;
	}
	/* 2. the int3 of stage 2: address space wiped, stub ready */
	r = pt_wait_for_signal(as, SIGTRAP);
	if (r)
		goto fail;
	*out = &as->base;
	return 0;
fail:
	stub_kill_reap(as->pid, as->pidfd, as->dead);
	stub_unpin_self();
	free(as);
	return r;
}

static void pt_as_release(struct platform_as *bas)
{
	struct ptrace_as *as = to_as(bas);

	stub_kill_reap(as->pid, as->pidfd, as->dead);
	stub_unpin_self();
	free(as);
}

/* Make the stopped stub run one syscall from its own code page. */
static long pt_inject(struct ptrace_as *as, long nr, uint64_t a0, uint64_t a1,
		      uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	struct user_regs_struct saved, r;
	uint64_t site = stub_addr(stub_syscall_int3);
	int err;

	if (as->dead)
		return -ESRCH;
	if (ptrace(PTRACE_GETREGS, as->pid, 0, &saved))
		return -errno;
	r = saved;
	r.rip = site;
	r.rax = (uint64_t)nr;
	/* orig_rax = -1: no syscall restart fixup may move rip
	 * (arch/x86/kernel/signal.c, handle_signal). */
	r.orig_rax = (uint64_t)-1;
	r.rdi = a0;
	r.rsi = a1;
	r.rdx = a2;
	r.r10 = a3;
	r.r8 = a4;
	r.r9 = a5;
	if (ptrace(PTRACE_SETREGS, as->pid, 0, &r))
		return -errno;
	if (ptrace(PTRACE_CONT, as->pid, 0, 0))
		return -errno;
	err = pt_wait_for_signal(as, SIGTRAP);
	if (err)
		return err;
	if (ptrace(PTRACE_GETREGS, as->pid, 0, &r))
		return -errno;
	if (r.rip != site + 3) /* after `syscall; int3` */
		return -EIO;
	if (ptrace(PTRACE_SETREGS, as->pid, 0, &saved))
		return -errno;
	return (long)r.rax;
}

static int check_range(uint64_t addr, uint64_t len)
{
	if (!IS_PAGE_ALIGNED(addr) || !IS_PAGE_ALIGNED(len) || len == 0 ||
	    addr + len < addr || addr + len > STUB_BASE)
		return -EINVAL;
	return 0;
}

static int pt_as_map(struct platform_as *bas, uint64_t addr, uint64_t len,
		     int prot, uint64_t off)
{
	struct ptrace_as *as = to_as(bas);
	long r = check_range(addr, len);

	if (r)
		return (int)r;
	r = pt_inject(as, __NR_mmap, addr, len, (uint64_t)prot,
		      MAP_SHARED | MAP_FIXED, STUB_FD_MEM, off);
	if (r < 0)
		return (int)r;
	return (uint64_t)r == addr ? 0 : -EIO;
}

static int pt_as_unmap(struct platform_as *bas, uint64_t addr, uint64_t len)
{
	long r = check_range(addr, len);

	if (r)
		return (int)r;
	return (int)pt_inject(to_as(bas), __NR_munmap, addr, len, 0, 0, 0, 0);
}

static int pt_as_protect(struct platform_as *bas, uint64_t addr, uint64_t len,
			 int prot)
{
	long r = check_range(addr, len);

	if (r)
		return (int)r;
	return (int)pt_inject(to_as(bas), __NR_mprotect, addr, len,
			      (uint64_t)prot, 0, 0, 0);
}

static int pt_ctx_new(struct platform_as *bas, struct platform_ctx **out)
{
	struct ptrace_as *as = to_as(bas);
	struct ptrace_ctx *c;

	if (as->has_ctx) /* one context per address space (this revision) */
		return -EBUSY;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->base.as = bas;
	atomic_init(&c->interrupt, 0);
	as->has_ctx = true;
	*out = &c->base;
	return 0;
}

static void pt_ctx_release(struct platform_ctx *bc)
{
	to_as(bc->as)->has_ctx = false;
	free(to_ctx(bc));
}

static int pt_ctx_switch(struct platform_ctx *bc, cpu_regs_t *regs,
			 struct stop_info *stop)
{
	struct ptrace_ctx *c = to_ctx(bc);
	struct ptrace_as *as = to_as(bc->as);
	siginfo_t si;
	int status, sig, r;

	memset(stop, 0, sizeof(*stop));
	stop->trapno = ~0ULL;
	if (as->dead) {
		stop->reason = STOP_DEAD;
		return 0;
	}
	if (atomic_exchange(&c->interrupt, 0)) {
		stop->reason = STOP_INTERRUPTED;
		return 0;
	}
	stub_sanitize_regs(regs);
	if (ptrace(PTRACE_SETREGS, as->pid, 0, regs))
		goto gone;

	for (;;) {
		/* Signals stopped on are never delivered: resume with 0. */
		if (ptrace(PTRACE_SYSEMU, as->pid, 0, 0))
			goto gone;
		r = pt_wait(as, &status);
		if (r)
			goto gone;
		if (!WIFSTOPPED(status))
			continue;
		sig = WSTOPSIG(status);
		if (sig == (SIGTRAP | 0x80)) {
			/* SYSEMU syscall-enter stop: rip is past the
			 * syscall insn, orig_rax holds the number. */
			stop->reason = STOP_SYSCALL;
			break;
		}
		if (status >> 16) /* PTRACE_EVENT_*: none requested */
			continue;
		if (ptrace(PTRACE_GETSIGINFO, as->pid, 0, &si))
			goto gone;
		if (sig == STUB_INTERRUPT_SIG && si.si_code == SI_USER &&
		    si.si_pid == getpid()) {
			if (!atomic_exchange(&c->interrupt, 0))
				continue; /* stale: already reported */
			stop->reason = STOP_INTERRUPTED;
			break;
		}
		stop->signo = sig;
		if (stub_is_fault_signal(sig) && si.si_code > 0) {
			stop->reason = STOP_FAULT;
			stop->si_code = si.si_code;
			stop->addr = (uint64_t)si.si_addr;
			/* ptrace does not expose the page-fault error code
			 * or the trap number. */
			stop->access = 0;
		} else {
			stop->reason = STOP_SIGNAL;
		}
		break;
	}
	if (ptrace(PTRACE_GETREGS, as->pid, 0, regs))
		goto gone;
	return 0;
gone:
	if (!as->dead) {
		/* ESRCH from ptrace: the stub was killed and is not yet
		 * reaped, or it is not stopped; find out which. */
		r = pt_wait(as, &status);
		if (!r && !as->dead) {
			log_warn("ptrace: stub %d in unexpected state %#x",
				 as->pid, status);
			return -EIO;
		}
	}
	stop->reason = STOP_DEAD;
	return 0;
}

static void pt_ctx_interrupt(struct platform_ctx *bc)
{
	struct ptrace_ctx *c = to_ctx(bc);
	struct ptrace_as *as = to_as(bc->as);

	/* Flag first, then the signal: the tracer either sees the flag
	 * before resuming or gets a signal-delivery stop; a flag consumed
	 * early turns the late signal into a stale one that is dropped. */
	atomic_store(&c->interrupt, 1);
	if (as->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, as->pidfd, STUB_INTERRUPT_SIG,
			NULL, 0);
	else
		kill(as->pid, STUB_INTERRUPT_SIG);
}

static int pt_ctx_cputime(struct platform_ctx *ctx, uint64_t *ns)
{
	struct ptrace_as *as = (struct ptrace_as *)ctx->as;

	return stub_cputime(as->pid, ns);
}

const struct platform_ops platform_ptrace_ops = {
	.name = "ptrace",
	.user_max = pt_user_max,
	.init = pt_init,
	.destroy = pt_destroy,
	.as_new = pt_as_new,
	.as_release = pt_as_release,
	.as_map = pt_as_map,
	.as_unmap = pt_as_unmap,
	.as_protect = pt_as_protect,
	.ctx_new = pt_ctx_new,
	.ctx_release = pt_ctx_release,
	.ctx_switch = pt_ctx_switch,
	.ctx_interrupt = pt_ctx_interrupt,
	.ctx_cputime = pt_ctx_cputime,
};

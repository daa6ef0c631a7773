// SPDX-License-Identifier: GPL-2.0
/*
 * The "ptrace" platform: every workload syscall is a PTRACE_SYSEMU stop.
 *
 * Threads. ptrace requests are only accepted from the tracing thread, so:
 *  - every address space has a *helper* host thread (started by as_new,
 *    all signals blocked) that fork()s the stub and traces its first
 *    thread, the *control thread*, which never runs workload code. The
 *    helper serves requests from any sentry thread over a one-slot queue
 *    (mutex + condvar): inject mmap/munmap/mprotect, or clone a context
 *    thread. The helper and the control thread are pinned to one CPU. A
 *    mapping change from another thread thus costs two thread wake-ups on
 *    top of the injection (tens of us across vCPUs here) but needs no
 *    cooperation from the threads running workload code;
 *  - a context is a stub thread cloned by the control thread at
 *    stub_clone_int3: the new thread waits in pause() until the ctx_new
 *    caller PTRACE_SEIZEs and PTRACE_INTERRUPTs it; that caller is its
 *    tracer and owner from then on, and pins itself and the thread to its
 *    CPU (a stop/resume across vCPUs costs ~10x more here);
 *  - ctx_release (owner) injects exit(2) into the thread and reaps it;
 *    as_release kills the stub; the helper then reaps the control thread,
 *    which the kernel allows only after every context thread was reaped by
 *    its own tracer, so the helper is detached when contexts remain.
 * Lifetime: PDEATHSIG ties the stub to the helper, and PTRACE_O_EXITKILL
 * kills it if any tracer (helper or context owner) exits while tracing: a
 * context thread is never left running untraced workload code.
 *
 * Mapping changes are syscalls injected into the stopped control thread:
 * registers point at `syscall; int3` in the stub page, PTRACE_CONT, wait
 * for the SIGTRAP, read rax, put the registers back.
 *
 * Locks: as->call serialises requesters, then as->lock guards the request
 * slot. ctx->interrupt and as->dead are touched from other threads
 * (atomically). Ownership: the address space is reference counted (the
 * sentry's handle, the helper, one per context).
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <elf.h>
#include <unistd.h>

#include "cvisor/log.h"
#include "cvisor/util.h"
#include "internal.h"

struct ptrace_platform {
	struct platform base;
	int memfd;
};

struct pt_req {
	bool quit;
	long nr;
	uint64_t args[6];
	uint64_t site, ret_rip; /* injection site, rip expected after it */
	long ret;
};

struct ptrace_as {
	struct platform_as base;
	int memfd;
	pid_t pid;	/* the control thread (thread group leader) */
	int pidfd;
	atomic_bool dead;
	atomic_int refs;	/* handle + helper + one per context */
	atomic_int nctx;
	pthread_t helper;
	pthread_mutex_t call;	/* one requester at a time */
	pthread_mutex_t lock;
	pthread_cond_t cv;
	struct pt_req *req;	/* pending request, NULL when served */
	bool started;
	int start_err;
};

struct ptrace_ctx {
	struct platform_ctx base;
	atomic_int interrupt;
	pid_t tid;	/* the stub thread */
	pid_t owner;	/* its tracer */
	bool reaped;
	bool fresh;
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

/* waitpid() for one traced thread; -ESRCH once it is gone (and reaped). */
static int pt_wait(pid_t tid, int *status)
{
	for (;;) {
		pid_t r = waitpid(tid, status, __WALL);

		if (r == tid)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		/* ECHILD: someone else reaped it (SIGCHLD set to SIG_IGN). */
		return -ESRCH;
	}
	if (WIFEXITED(*status) || WIFSIGNALED(*status))
		return -ESRCH;
	return 0;
}

/* Wait until the thread stops with signal sig, resuming (and suppressing)
 * any other signal on the way. */
static int pt_wait_for_signal(pid_t tid, int sig)
{
	int status, r;

	for (;;) {
		r = pt_wait(tid, &status);
		if (r)
			return r;
		if (WIFSTOPPED(status) && WSTOPSIG(status) == sig &&
		    !(status >> 16))
			return 0;
		if (ptrace(PTRACE_CONT, tid, 0, 0))
			return -errno;
	}
}

/* Make the stopped thread run one syscall from its own code page. */
static long pt_inject(pid_t tid, const struct pt_req *q)
{
	struct user_regs_struct saved, r;
	int err;

	if (ptrace(PTRACE_GETREGS, tid, 0, &saved))
		return -errno;
	r = saved;
	r.rip = q->site;
	r.rax = (uint64_t)q->nr;
	/* orig_rax = -1: no syscall restart fixup may move rip
	 * (arch/x86/kernel/signal.c, handle_signal). */
	r.orig_rax = (uint64_t)-1;
	r.rdi = q->args[0];
	r.rsi = q->args[1];
	r.rdx = q->args[2];
	r.r10 = q->args[3];
	r.r8 = q->args[4];
	r.r9 = q->args[5];
	if (ptrace(PTRACE_SETREGS, tid, 0, &r))
		return -errno;
	if (ptrace(PTRACE_CONT, tid, 0, 0))
		return -errno;
	err = pt_wait_for_signal(tid, SIGTRAP);
	if (err)
		return err;
	if (ptrace(PTRACE_GETREGS, tid, 0, &r))
		return -errno;
	if (r.rip != q->ret_rip)
		return -EIO;
	if (ptrace(PTRACE_SETREGS, tid, 0, &saved))
		return -errno;
	return (long)r.rax;
}

static void as_put(struct ptrace_as *as)
{
	if (atomic_fetch_sub(&as->refs, 1) != 1)
		return;
	if (as->pidfd >= 0)
		close(as->pidfd);
	pthread_cond_destroy(&as->cv);
	pthread_mutex_destroy(&as->lock);
	pthread_mutex_destroy(&as->call);
	free(as);
}

static int helper_start_stub(struct ptrace_as *as)
{
	struct stub_spawn_args a = {
		.memfd = as->memfd, .sysmsg_fd = -1, .mode = STUB_MODE_PTRACE,
	};
	int r;

	as->pid = stub_spawn(&a);
	if (as->pid < 0) {
		r = as->pid;
		as->pid = 0;
		return r;
	}
	as->pidfd = (int)syscall(SYS_pidfd_open, as->pid, 0);
	/* 1. the child's self-SIGSTOP after PTRACE_TRACEME */
	r = pt_wait_for_signal(as->pid, SIGSTOP);
	if (r)
		return r;
	/* EXITKILL: the stub dies with its tracer (ptrace(2)). */
	if (ptrace(PTRACE_SETOPTIONS, as->pid, 0,
		   PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD))
		return -errno;
	if (ptrace(PTRACE_CONT, as->pid, 0, 0))
		return -errno;
	/* 2. the int3 of stage 2: address space wiped, stub ready */
	return pt_wait_for_signal(as->pid, SIGTRAP);
}

static void *helper_main(void *arg)
{
	struct ptrace_as *as = arg;
	struct pt_req *q;
	int r;

	/* Pin before fork: the stub inherits the affinity. */
	stub_pin_self();
	r = helper_start_stub(as);
	pthread_mutex_lock(&as->lock);
	as->start_err = r;
	as->started = true;
	pthread_cond_broadcast(&as->cv);
	while (!r) {
		while (!as->req)
			pthread_cond_wait(&as->cv, &as->lock);
		q = as->req;
		if (q->quit)
			break;
		pthread_mutex_unlock(&as->lock);
		q->ret = atomic_load(&as->dead) ? -ESRCH : pt_inject(as->pid, q);
		if (q->ret == -ESRCH)
			atomic_store(&as->dead, true);
		pthread_mutex_lock(&as->lock);
		as->req = NULL;
		pthread_cond_broadcast(&as->cv);
	}
	as->req = NULL;
	pthread_mutex_unlock(&as->lock);
	/* Kill and reap; the kernel holds back the leader's exit status
	 * until every context thread has been reaped by its tracer. */
	atomic_store(&as->dead, true);
	if (as->pid > 0)
		stub_kill_reap(as->pid, -1, false);
	stub_unpin_self();
	as_put(as);
	return NULL;
}

/* Run a request on the helper. Any thread. */
static long pt_call(struct ptrace_as *as, struct pt_req *q)
{
	pthread_mutex_lock(&as->call);
	pthread_mutex_lock(&as->lock);
	as->req = q;
	pthread_cond_broadcast(&as->cv);
	while (as->req == q)
		pthread_cond_wait(&as->cv, &as->lock);
	pthread_mutex_unlock(&as->lock);
	pthread_mutex_unlock(&as->call);
	return q->ret;
}

static long pt_syscall(struct ptrace_as *as, long nr, uint64_t a0, uint64_t a1,
		       uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	struct pt_req q = {
		.nr = nr,
		.args = { a0, a1, a2, a3, a4, a5 },
		.site = stub_addr(stub_syscall_int3),
		.ret_rip = stub_addr(stub_syscall_int3) + 3, /* syscall; int3 */
	};

	if (atomic_load(&as->dead))
		return -ESRCH;
	return pt_call(as, &q);
}

static int pt_as_new(struct platform *p, struct platform_as **out)
{
	struct ptrace_platform *pp = container_of(p, struct ptrace_platform, base);
	struct ptrace_as *as;
	sigset_t all, old;
	int r;

	as = calloc(1, sizeof(*as));
	if (!as)
		return -ENOMEM;
	as->base.p = p;
	as->memfd = pp->memfd;
	as->pidfd = -1;
	atomic_init(&as->dead, false);
	atomic_init(&as->refs, 2); /* handle + helper */
	atomic_init(&as->nctx, 0);
	pthread_mutex_init(&as->call, NULL);
	pthread_mutex_init(&as->lock, NULL);
	pthread_cond_init(&as->cv, NULL);

	/* The helper takes no signal meant for task threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&as->helper, NULL, helper_main, as);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		free(as);
		return -r;
	}
	pthread_mutex_lock(&as->lock);
	while (!as->started)
		pthread_cond_wait(&as->cv, &as->lock);
	r = as->start_err;
	pthread_mutex_unlock(&as->lock);
	if (r) {
		pthread_join(as->helper, NULL); /* it killed the stub */
		as_put(as);
		return r;
	}
	*out = &as->base;
	return 0;
}

static void pt_as_release(struct platform_as *bas)
{
	struct ptrace_as *as = to_as(bas);
	struct pt_req q = { .quit = true };

	atomic_store(&as->dead, true);
	/* Wake any context thread's tracer out of its wait early. */
	if (as->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, as->pidfd, SIGKILL, NULL, 0);
	pthread_mutex_lock(&as->call);
	pthread_mutex_lock(&as->lock);
	as->req = &q;
	pthread_cond_broadcast(&as->cv);
	pthread_mutex_unlock(&as->lock);
	pthread_mutex_unlock(&as->call);
	/* With no context left the helper's reap is immediate: wait for it
	 * so that no zombie outlives as_release. */
	if (atomic_load(&as->nctx) == 0)
		pthread_join(as->helper, NULL);
	else
		pthread_detach(as->helper);
	as_put(as);
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
	r = pt_syscall(as, __NR_mmap, addr, len, (uint64_t)prot,
		       MAP_SHARED | MAP_FIXED, STUB_FD_MEM, off);
	if (r < 0 && r > -4096)
		return (int)r;
	return (uint64_t)r == addr ? 0 : -EIO;
}

static int pt_as_unmap(struct platform_as *bas, uint64_t addr, uint64_t len)
{
	long r = check_range(addr, len);

	if (r)
		return (int)r;
	return (int)pt_syscall(to_as(bas), __NR_munmap, addr, len, 0, 0, 0, 0);
}

static int pt_as_protect(struct platform_as *bas, uint64_t addr, uint64_t len,
			 int prot)
{
	long r = check_range(addr, len);

	if (r)
		return (int)r;
	return (int)pt_syscall(to_as(bas), __NR_mprotect, addr, len,
			       (uint64_t)prot, 0, 0, 0);
}

/* Reap the context's thread once it is dying or dead. */
static void ctx_reap(struct ptrace_ctx *c)
{
	int status;

	while (!c->reaped) {
		if (pt_wait(c->tid, &status))
			c->reaped = true;
		else if (ptrace(PTRACE_CONT, c->tid, 0, 0) && errno == ESRCH &&
			 pt_wait(c->tid, &status))
			c->reaped = true;
	}
}

static size_t pt_fpstate_size(struct platform *p UNUSED)
{
	return fp_host()->size;
}

static int pt_ctx_get_fpstate(struct platform_ctx *bc, void *buf, size_t len)
{
	struct ptrace_ctx *c = to_ctx(bc);
	const struct fp_host *fh = fp_host();
	struct iovec iov = { buf, len };

	if (len < fh->size)
		return -EINVAL;
	memset(buf, 0, len);
	if (fh->size == 512)
		return ptrace(PTRACE_GETFPREGS, c->tid, 0, buf) ? -ESRCH : 0;
	if (ptrace(PTRACE_GETREGSET, c->tid, NT_X86_XSTATE, &iov))
		return -ESRCH;
	return 0;
}

static int pt_ctx_set_fpstate(struct platform_ctx *bc, const void *buf,
			      size_t len)
{
	struct ptrace_ctx *c = to_ctx(bc);
	const struct fp_host *fh = fp_host();
	_cleanup_free_ uint8_t *img = NULL;
	struct iovec iov;
	int r = fp_validate(buf, len);

	if (r)
		return r;
	/* The kernel takes exactly its XSAVE size (xstateregs_set). */
	img = calloc(1, fh->size);
	if (!img)
		return -ENOMEM;
	memcpy(img, buf, len < fh->size ? len : fh->size);
	memset(img + FP_SW_OFF, 0, 512 - FP_SW_OFF);
	if (fh->size == 512)
		return ptrace(PTRACE_SETFPREGS, c->tid, 0, img) ? -errno : 0;
	iov.iov_base = img;
	iov.iov_len = fh->size;
	if (ptrace(PTRACE_SETREGSET, c->tid, NT_X86_XSTATE, &iov))
		return errno == ESRCH ? -ESRCH : -EINVAL;
	return 0;
}

static int pt_ctx_new(struct platform_as *bas, struct platform_ctx **out)
{
	struct ptrace_as *as = to_as(bas);
	const struct fp_host *fh = fp_host();
	struct pt_req q = {
		.nr = __NR_clone,
		.args = { STUB_CLONE_FLAGS, 0, 0, 0, 0, 0 },
		.site = stub_addr(stub_clone_int3),
		.ret_rip = stub_addr(stub_clone_int3_ret),
	};
	_cleanup_free_ uint8_t *img = NULL;
	struct ptrace_ctx *c;
	int status, r;
	long tid;

	if (atomic_load(&as->dead))
		return -ESRCH;
	c = calloc(1, sizeof(*c));
	img = calloc(1, fh->size);
	if (!c || !img) {
		free(c);
		return -ENOMEM;
	}
	c->base.as = bas;
	atomic_init(&c->interrupt, 0);
	c->owner = gettid();
	c->fresh = true;
	tid = pt_call(as, &q);
	if (tid <= 0) {
		free(c);
		return tid < 0 ? (int)tid : -EIO;
	}
	c->tid = (pid_t)tid;
	/* The new thread waits in pause() (stub_clone_int3); take it over. */
	if (ptrace(PTRACE_SEIZE, c->tid, 0,
		   PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD) ||
	    ptrace(PTRACE_INTERRUPT, c->tid, 0, 0)) {
		r = -errno;
		log_warn("ptrace: cannot seize stub thread %d: %d", c->tid, r);
		free(c);
		return r; /* it stays in pause() until as_release */
	}
	for (;;) {
		r = pt_wait(c->tid, &status);
		if (r) {
			c->reaped = true;
			free(c);
			return r;
		}
		if (WIFSTOPPED(status) && (status >> 16) == PTRACE_EVENT_STOP)
			break;
		if (ptrace(PTRACE_CONT, c->tid, 0, 0)) {
			r = -errno;
			ctx_reap(c);
			free(c);
			return r;
		}
	}
	stub_pin_self();
	stub_pin_peer(c->tid);
	/* execve-like FP state: nothing inherited from the sentry's fork. */
	fp_init_image(img, fh->size);
	r = pt_ctx_set_fpstate(&c->base, img, fh->size);
	if (r)
		log_warn("ptrace: cannot reset FP state of %d: %d", c->tid, r);
	atomic_fetch_add(&as->refs, 1);
	atomic_fetch_add(&as->nctx, 1);
	*out = &c->base;
	return 0;
}

static void pt_ctx_release(struct platform_ctx *bc)
{
	struct ptrace_ctx *c = to_ctx(bc);
	struct ptrace_as *as = to_as(bc->as);
	struct user_regs_struct r;

	if (gettid() != c->owner) {
		/* Only the tracer can make the thread exit; the next best
		 * safe thing is to end the whole address space. */
		log_warn("ptrace: ctx_release of %d off its owner thread: "
			 "killing the address space", c->tid);
		atomic_store(&as->dead, true);
		if (as->pidfd >= 0)
			syscall(SYS_pidfd_send_signal, as->pidfd, SIGKILL, NULL, 0);
	} else {
		if (!c->reaped && !ptrace(PTRACE_GETREGS, c->tid, 0, &r)) {
			r.rip = stub_addr(stub_syscall_int3);
			r.rax = __NR_exit;
			r.rdi = 0;
			r.orig_rax = (uint64_t)-1;
			if (!ptrace(PTRACE_SETREGS, c->tid, 0, &r))
				ptrace(PTRACE_CONT, c->tid, 0, 0);
		}
		ctx_reap(c);
		stub_unpin_self();
	}
	atomic_fetch_sub(&as->nctx, 1);
	free(c);
	as_put(as);
}

static int pt_ctx_switch(struct platform_ctx *bc, cpu_regs_t *regs,
			 struct stop_info *stop)
{
	struct ptrace_ctx *c = to_ctx(bc);
	siginfo_t si;
	int status, sig, r;

	memset(stop, 0, sizeof(*stop));
	stop->trapno = ~0ULL;
	if (c->reaped) {
		stop->reason = STOP_DEAD;
		return 0;
	}
	if (atomic_exchange(&c->interrupt, 0)) {
		stop->reason = STOP_INTERRUPTED;
		return 0;
	}
	stub_sanitize_regs(regs);
	if (c->fresh) {
		/* The thread was stopped inside pause(): no restart. */
		cpu_regs_t first = *regs;

		first.orig_rax = (uint64_t)-1;
		if (ptrace(PTRACE_SETREGS, c->tid, 0, &first))
			goto gone;
		c->fresh = false;
	} else if (ptrace(PTRACE_SETREGS, c->tid, 0, regs)) {
		goto gone;
	}

	for (;;) {
		/* Signals stopped on are never delivered: resume with 0. */
		if (ptrace(PTRACE_SYSEMU, c->tid, 0, 0))
			goto gone;
		r = pt_wait(c->tid, &status);
		if (r) {
			c->reaped = true;
			goto gone;
		}
		if (!WIFSTOPPED(status))
			continue;
		sig = WSTOPSIG(status);
		if (sig == (SIGTRAP | 0x80)) {
			/* SYSEMU syscall-enter stop: rip is past the
			 * syscall insn, orig_rax holds the number. */
			stop->reason = STOP_SYSCALL;
			break;
		}
		if (status >> 16) /* PTRACE_EVENT_STOP (group stop) */
			continue;
		if (ptrace(PTRACE_GETSIGINFO, c->tid, 0, &si))
			goto gone;
		if (sig == STUB_INTERRUPT_SIG &&
		    (si.si_code == SI_TKILL || si.si_code == SI_USER) &&
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
	if (ptrace(PTRACE_GETREGS, c->tid, 0, regs))
		goto gone;
	return 0;
gone:
	if (!c->reaped) {
		/* ESRCH from ptrace: the stub was killed and the thread is
		 * not yet reaped, or it is not stopped; find out which. */
		r = pt_wait(c->tid, &status);
		if (!r) {
			log_warn("ptrace: stub thread %d in unexpected state %#x",
				 c->tid, status);
			return -EIO;
		}
		c->reaped = true;
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
	if (!c->reaped)
		syscall(SYS_tgkill, as->pid, c->tid, STUB_INTERRUPT_SIG);
}

static int pt_ctx_cputime(struct platform_ctx *bc, uint64_t *ns)
{
	struct ptrace_as *as = to_as(bc->as);

	return stub_thread_cputime(as->pid, to_ctx(bc)->tid, ns);
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
	.fpstate_size = pt_fpstate_size,
	.ctx_get_fpstate = pt_ctx_get_fpstate,
	.ctx_set_fpstate = pt_ctx_set_fpstate,
	.vdso = stub_vdso, /* stub.c */
};

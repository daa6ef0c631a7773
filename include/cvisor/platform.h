/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The platform interface: how the sentry runs workload code.
 *
 * A platform provides address spaces (built only from ranges of the sandbox's
 * memory file) and execution contexts (one per task thread). The sentry calls
 * ctx_switch() to run the workload until the next event: a system call, a
 * fault, another signal or an interrupt. Platforms are picked by name at run
 * time (platform_lookup) and registered in platform.c.
 *
 * Threading rules (this revision):
 *  - an address space and its contexts are driven by the host thread that
 *    created them (ptrace tracer rules); the sentry never calls as_map() etc.
 *    while a context of that address space is inside ctx_switch();
 *  - ctx_interrupt() may be called from any thread at any time; it makes a
 *    running or about-to-run ctx_switch() return STOP_INTERRUPTED soon.
 */
#ifndef CVISOR_PLATFORM_H
#define CVISOR_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/user.h>

struct platform;
struct platform_as;
struct platform_ctx;

/* Register file of one workload thread. fs_base/gs_base are authoritative:
 * the platform loads them into the thread when they change. */
typedef struct user_regs_struct cpu_regs_t;

enum stop_reason {
	STOP_SYSCALL,	  /* regs.orig_rax = nr, rip = after the syscall insn */
	STOP_FAULT,	  /* synchronous fault: signo SEGV/BUS/FPE/ILL/TRAP */
	STOP_SIGNAL,	  /* another host signal reached the stub thread */
	STOP_INTERRUPTED, /* ctx_interrupt() was called */
	STOP_DEAD,	  /* the stub thread died (killed from outside) */
};

struct stop_info {
	enum stop_reason reason;
	int signo;	 /* FAULT, SIGNAL */
	int si_code;	 /* FAULT */
	uint64_t addr;	 /* FAULT: si_addr */
	int access;	 /* FAULT: PROT_READ|PROT_WRITE|PROT_EXEC if known,
			    0 if the platform can't tell */
	uint64_t trapno; /* FAULT: x86 trap number if known, else ~0 */
};

struct platform_config {
	int memfd;		/* the memory file; platforms map only from it */
	bool debug;
};

struct platform_ops {
	const char *name;
	/* Highest usable workload address + 1 (addresses above belong to the
	 * platform's stub). */
	uint64_t (*user_max)(struct platform *p);
	int (*init)(const struct platform_config *cfg, struct platform **out);
	void (*destroy)(struct platform *p);

	int (*as_new)(struct platform *p, struct platform_as **out);
	void (*as_release)(struct platform_as *as);
	/* Map [addr, addr+len) to memory-file offset off with prot
	 * (PROT_* bits). Replaces whatever was mapped there. Page aligned. */
	int (*as_map)(struct platform_as *as, uint64_t addr, uint64_t len,
		      int prot, uint64_t off);
	int (*as_unmap)(struct platform_as *as, uint64_t addr, uint64_t len);
	int (*as_protect)(struct platform_as *as, uint64_t addr, uint64_t len,
			  int prot);

	int (*ctx_new)(struct platform_as *as, struct platform_ctx **out);
	void (*ctx_release)(struct platform_ctx *ctx);
	/* Run until the next stop. regs is read on entry (the state to
	 * resume with) and written on return. Returns 0 or -errno on an
	 * internal failure (the sentry then kills the task). */
	int (*ctx_switch)(struct platform_ctx *ctx, cpu_regs_t *regs,
			  struct stop_info *stop);
	void (*ctx_interrupt)(struct platform_ctx *ctx);
	/* CPU time the context's workload thread has used, in ns (for
	 * CLOCK_*_CPUTIME_ID and getrusage). */
	int (*ctx_cputime)(struct platform_ctx *ctx, uint64_t *ns);
};

/* Registered platforms. */
extern const struct platform_ops platform_systrap_ops;
extern const struct platform_ops platform_ptrace_ops;

const struct platform_ops *platform_lookup(const char *name);

/* A platform instance starts with a pointer to its ops. */
struct platform {
	const struct platform_ops *ops;
};
struct platform_as {
	struct platform *p;
};
struct platform_ctx {
	struct platform_as *as;
};

#endif

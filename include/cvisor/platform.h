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
 * Threading rules:
 *  - an address space may have many contexts (one per task thread sharing
 *    the mm); ctx_new() may be called from any host thread, and that thread
 *    becomes the context's owner: ctx_switch() and ctx_get/set_fpstate()
 *    are called only by the owner (ptrace tracer rules), ctx_release() by
 *    the owner too (under ptrace another thread cannot make the stub
 *    thread exit; it kills the whole address space instead);
 *  - as_map/as_unmap/as_protect may be called from any host thread at any
 *    time, also while other contexts of the address space run workload
 *    code; they are serialised per address space;
 *  - as_release() may be called from any thread; it kills every stub thread
 *    of the address space. Contexts still alive then report STOP_DEAD and
 *    must still be released (the memory is freed with the last of them);
 *  - ctx_interrupt() may be called from any thread at any time; it makes a
 *    running or about-to-run ctx_switch() return STOP_INTERRUPTED soon.
 */
#ifndef CVISOR_PLATFORM_H
#define CVISOR_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
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

/*
 * What the sentry's memory manager does for a platform address space that
 * patches workload code (systrap's syscall patching). `mm` is the opaque
 * owner given to as_set_mm; every call takes the mm's lock itself, so the
 * platform must hold none of its own locks that mm may need (as_map etc.).
 * read: copy workload memory as the workload may read it (0 / -EFAULT).
 * reserve, poke: mm_text_reserve / mm_text_poke (include/cvisor/mm.h).
 */
#define MM_POKE_PLAIN 0	/* plain stores */
#define MM_POKE_ATOMIC 1	/* one atomic compare-and-exchange */
struct platform_mm_ops {
	int (*read)(void *mm, uint64_t addr, void *buf, size_t len);
	int (*reserve)(void *mm, uint64_t addr, uint64_t len);
	int (*poke)(void *mm, uint64_t addr, const void *old, const void *new,
		    size_t len, int mode);
};

/*
 * A vDSO the platform maps into every address space it creates, above
 * user_max and the same in all of them (fork and execve keep it in place),
 * as Linux maps one into every process (arch/x86/entry/vdso/vma.c). The
 * loader passes base as AT_SYSINFO_EHDR; /proc/PID/maps lists maps[].
 */
#define PLATFORM_VDSO_MAPS 4
struct platform_vdso {
	uint64_t base;		/* the vDSO's ELF header */
	unsigned int nmaps;	/* ascending, contiguous */
	struct {
		uint64_t start, end;
		int prot;	/* PROT_* */
		char name[16];	/* "[vvar]", "[vvar_vclock]", "[vdso]" */
	} maps[PLATFORM_VDSO_MAPS];
};

struct platform_config {
	int memfd;		/* the memory file; platforms map only from it */
	bool debug;
};

/* The CPU on which the task_wake() that ended the calling task thread's
 * last sentry block (task_block) ran, or -1; sentry/kernel/sched.c sets
 * it. A platform that pins its threads may follow it: a task woken by
 * another one usually runs while the waker blocks (systrap co-location). */
extern __thread int platform_waker_cpu;

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
	/* Optional: the mm that owns the address space, for platforms that
	 * patch workload code. Called once by mm_new, right after as_new;
	 * the mm outlives the address space. */
	void (*as_set_mm)(struct platform_as *as,
			  const struct platform_mm_ops *ops, void *mm);

	int (*ctx_new)(struct platform_as *as, struct platform_ctx **out);
	void (*ctx_release)(struct platform_ctx *ctx);
	/* Run until the next stop. regs is read on entry (the state to
	 * resume with) and written on return. Returns 0 or -errno on an
	 * internal failure (the sentry then kills the task). */
	int (*ctx_switch)(struct platform_ctx *ctx, cpu_regs_t *regs,
			  struct stop_info *stop);
	void (*ctx_interrupt)(struct platform_ctx *ctx);
	/* Optional: the owner thread is about to sleep in the sentry
	 * (task_block) while the context is stopped, i.e. the result of the
	 * stop will not come soon. A platform whose workload side spins for
	 * the result stops that spin (systrap). Owner thread only. */
	void (*ctx_will_block)(struct platform_ctx *ctx);
	/* CPU time the context's workload thread has used, in ns (for
	 * CLOCK_*_CPUTIME_ID and getrusage). */
	int (*ctx_cputime)(struct platform_ctx *ctx, uint64_t *ns);

	/*
	 * FP/vector state of a stopped context, for signal frames. The image
	 * is the host's XSAVE standard (non-compacted) format: the 512-byte
	 * legacy (FXSAVE) area, whose bytes 464..511 (sw_reserved) carry the
	 * kernel's fx_sw_bytes as in a signal frame, the 64-byte XSAVE header
	 * and the extended components at their CPUID leaf 0xD offsets. Its
	 * size is fpstate_size(); 512 on a CPU without XSAVE.
	 * get: len >= fpstate_size() (else -EINVAL); bytes past the image
	 * are zeroed. set: len >= 576 (512 without XSAVE); -EINVAL when MXCSR
	 * has bits outside the host's MXCSR mask, xstate_bv has a feature the
	 * host does not enable or whose component lies past len, xcomp_bv is
	 * not 0, or a header reserved byte is set; sw_reserved is ignored.
	 * Owner thread only, outside ctx_switch(). A fresh context starts
	 * with the execve state (FCW 0x37f, MXCSR 0x1f80, all else zero).
	 */
	size_t (*fpstate_size)(struct platform *p);
	int (*ctx_get_fpstate)(struct platform_ctx *ctx, void *buf, size_t len);
	int (*ctx_set_fpstate)(struct platform_ctx *ctx, const void *buf,
			       size_t len);

	/* Optional: the vDSO of every address space (struct platform_vdso),
	 * or NULL: none (then, or when the op is NULL, processes get no
	 * AT_SYSINFO_EHDR and make every time call a syscall). */
	const struct platform_vdso *(*vdso)(struct platform *p);
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

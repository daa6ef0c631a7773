// SPDX-License-Identifier: GPL-2.0
/*
 * Platform tests (systrap and ptrace): tiny workloads written in assembly
 * below are copied into a memory file, mapped into a fresh address space and
 * run with ctx_switch; the test plays the sentry. TAP output; timing is
 * printed as comments, never asserted.
 */
#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cvisor/platform.h"

/*
 * Workloads (position independent; absolute addresses are the fixed
 * layout below). Placed in .rodata: the test never executes them itself.
 */
#define CODE_VA 0x400000UL
#define RO_VA 0x500000UL
#define DATA_VA 0x600000UL
#define LAZY_VA 0x700000UL
#define SCRATCH_VA 0x800000UL

#define OFF_CODE 0x0
#define OFF_RO 0x1000
#define OFF_DATA 0x2000
#define OFF_LAZY 0x3000
#define OFF_SCRATCH 0x4000
#define MEM_SIZE (4 << 20)

__asm__(".pushsection .rodata.test_platform, \"a\"\n"
	/* basic: syscall, fault + demand map, write to r/o, %fs */
	"wl_basic:\n"
	"	mov $39, %eax\n"
	"	syscall\n"
	"	mov %rax, 0x600000\n"
	"	mov 0x700000, %rax\n"
	"	mov %rax, 0x600008\n"
	"	movq $7, 0x500000\n"
	"	mov %fs:8, %rax\n"
	"	mov %rax, 0x600010\n"
	"	mov $60, %eax\n"
	"	syscall\n"
	"	ud2\n"
	"wl_basic_end:\n"
	/* spin forever */
	"wl_spin:\n"
	"1:	jmp 1b\n"
	"wl_spin_end:\n"
	/* getpid in a loop */
	"wl_loop:\n"
	"1:	mov $39, %eax\n"
	"	syscall\n"
	"	jmp 1b\n"
	"wl_loop_end:\n"
	/* registers survive a round trip; int3 is a SIGTRAP fault */
	"wl_regs:\n"
	"	mov $0x1111, %rbx\n"
	"	mov $0x2222, %r12\n"
	"	mov $0x3333, %r15\n"
	"	mov $0x4444, %eax\n"
	"	movq %rax, %xmm0\n"
	"	mov $1, %eax\n"
	"	syscall\n"
	"	movq %xmm0, %rcx\n"
	"	int3\n"
	"	ud2\n"
	"wl_regs_end:\n"
	/* count in (%rbx), getpid, forever: a thread's progress */
	"wl_count:\n"
	"1:	incq (%rbx)\n"
	"	mov $39, %eax\n"
	"	syscall\n"
	"	jmp 1b\n"
	"wl_count_end:\n"
	/* FP state: store ymm0 and MXCSR as the sentry set them, load ymm1
	 * from memory, stop at a syscall, then int3 */
	"wl_fp:\n"
	"	vmovdqu %ymm0, 0x600400\n"
	"	stmxcsr 0x600440\n"
	"	vmovdqu 0x600480, %ymm1\n"
	"	mov $39, %eax\n"
	"	syscall\n"
	"	vmovdqu %ymm1, 0x600500\n"
	"	int3\n"
	"	ud2\n"
	"wl_fp_end:\n"
	".popsection\n");

extern const char wl_basic[], wl_basic_end[], wl_spin[], wl_spin_end[],
	wl_loop[], wl_loop_end[], wl_regs[], wl_regs_end[], wl_count[],
	wl_count_end[], wl_fp[], wl_fp_end[];

static int failed, ntests;

static void ok(int cond, const char *fmt, const char *plat, const char *what)
{
	ntests++;
	printf("%sok %d - %s: %s", cond ? "" : "not ", ntests, plat, what);
	if (!cond && fmt)
		printf(" (%s)", fmt);
	printf("\n");
	fflush(stdout);
	if (!cond)
		failed++;
}

struct env {
	const struct platform_ops *ops;
	struct platform *p;
	int memfd;
	uint8_t *mem;
};

static void load_code(struct env *e, const char *start, const char *end)
{
	memset(e->mem + OFF_CODE, 0xcc, 4096);
	memcpy(e->mem + OFF_CODE, start, (size_t)(end - start));
}

static void init_regs(cpu_regs_t *r, uint64_t rip)
{
	memset(r, 0, sizeof(*r));
	r->rip = rip;
	r->rsp = DATA_VA + 0x1000 - 64;
	r->eflags = 0x202;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Children of every thread of this process (stubs are forked by platform
 * helper threads), for finding a stub's pid. */
static int children(pid_t *out, int max)
{
	char path[96];
	struct dirent *de;
	DIR *d = opendir("/proc/self/task");
	FILE *f;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%d/children",
			 atoi(de->d_name));
		f = fopen(path, "r");
		if (!f)
			continue;
		while (n < max && fscanf(f, "%d", &out[n]) == 1)
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

static pid_t newest_child(void)
{
	pid_t c[64], best = -1;
	int n = children(c, 64);

	for (int i = 0; i < n; i++)
		if (c[i] > best)
			best = c[i];
	return best;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n++;
	closedir(d);
	return n;
}

static int new_as_ctx(struct env *e, struct platform_as **as,
		      struct platform_ctx **ctx)
{
	int r = e->ops->as_new(e->p, as);

	if (r)
		return r;
	r = e->ops->as_map(*as, CODE_VA, 4096, PROT_READ | PROT_EXEC, OFF_CODE);
	if (!r)
		r = e->ops->as_map(*as, DATA_VA, 4096, PROT_READ | PROT_WRITE,
				   OFF_DATA);
	if (!r)
		r = e->ops->ctx_new(*as, ctx);
	if (r)
		e->ops->as_release(*as);
	return r;
}

static void test_basic(struct env *e)
{
	const char *pn = e->ops->name;
	struct platform_as *as;
	struct platform_ctx *ctx;
	struct stop_info st;
	cpu_regs_t r;
	char msg[128];
	int rc;

	load_code(e, wl_basic, wl_basic_end);
	memset(e->mem + OFF_DATA, 0, 4096);
	memcpy(e->mem + OFF_LAZY, "\x88\x77\x66\x55\x44\x33\x22\x11", 8);
	*(uint64_t *)(e->mem + OFF_DATA + 0x108) = 0xf5f5f5f5;
	rc = new_as_ctx(e, &as, &ctx);
	ok(rc == 0, "as_new/as_map/ctx_new", pn, "address space and context");
	if (rc)
		return;
	rc = e->ops->as_map(as, RO_VA, 4096, PROT_READ, OFF_RO);
	ok(rc == 0, NULL, pn, "map read-only page");
	ok(e->ops->as_map(as, e->ops->user_max(e->p), 4096, PROT_READ, 0) ==
		   -EINVAL,
	   NULL, pn, "map over the stub region is refused");

	init_regs(&r, CODE_VA);
	r.fs_base = DATA_VA + 0x100;
	rc = e->ops->ctx_switch(ctx, &r, &st);
	snprintf(msg, sizeof(msg), "rc %d reason %d orig_rax %llu rip %#llx", rc,
		 st.reason, r.orig_rax, r.rip);
	ok(rc == 0 && st.reason == STOP_SYSCALL && r.orig_rax == 39 &&
		   r.rip == CODE_VA + 7,
	   msg, pn, "getpid stops with STOP_SYSCALL, orig_rax 39");

	r.rax = 12345;
	rc = e->ops->ctx_switch(ctx, &r, &st);
	snprintf(msg, sizeof(msg), "rc %d reason %d signo %d addr %#llx access %d",
		 rc, st.reason, st.signo, (unsigned long long)st.addr, st.access);
	ok(rc == 0 && st.reason == STOP_FAULT && st.signo == SIGSEGV &&
		   st.addr == LAZY_VA,
	   msg, pn, "read of unmapped page is STOP_FAULT with si_addr");
	ok(st.access == 0 || st.access == PROT_READ, msg, pn,
	   "fault access is read (or unknown)");
	ok(*(uint64_t *)(e->mem + OFF_DATA) == 12345, NULL, pn,
	   "workload saw the syscall result");

	rc = e->ops->as_map(as, LAZY_VA, 4096, PROT_READ, OFF_LAZY);
	ok(rc == 0, NULL, pn, "demand map of the faulting page");
	rc = e->ops->ctx_switch(ctx, &r, &st);
	snprintf(msg, sizeof(msg), "rc %d reason %d signo %d addr %#llx access %d",
		 rc, st.reason, st.signo, (unsigned long long)st.addr, st.access);
	ok(*(uint64_t *)(e->mem + OFF_DATA + 8) == 0x1122334455667788ULL, NULL,
	   pn, "faulting read retried after the map");
	ok(rc == 0 && st.reason == STOP_FAULT && st.signo == SIGSEGV &&
		   st.addr == RO_VA,
	   msg, pn, "write to a read-only mapping faults");
	ok(st.access == 0 || st.access == PROT_WRITE, msg, pn,
	   "fault access is write (or unknown)");

	rc = e->ops->as_protect(as, RO_VA, 4096, PROT_READ | PROT_WRITE);
	ok(rc == 0, NULL, pn, "as_protect to read-write");
	rc = e->ops->ctx_switch(ctx, &r, &st);
	snprintf(msg, sizeof(msg), "rc %d reason %d orig_rax %llu", rc,
		 st.reason, r.orig_rax);
	ok(rc == 0 && st.reason == STOP_SYSCALL && r.orig_rax == 60, msg, pn,
	   "exit syscall reached");
	ok(*(uint64_t *)(e->mem + OFF_RO) == 7, NULL, pn,
	   "write went through after as_protect");
	ok(*(uint64_t *)(e->mem + OFF_DATA + 0x10) == 0xf5f5f5f5, NULL, pn,
	   "fs_base from regs is seen by %fs loads");
	ok(r.fs_base == DATA_VA + 0x100, NULL, pn, "fs_base reported back");

	/* unmap: the code page goes away, so resuming faults on fetch */
	rc = e->ops->as_unmap(as, CODE_VA, 4096);
	ok(rc == 0, NULL, pn, "as_unmap");
	rc = e->ops->ctx_switch(ctx, &r, &st);
	ok(rc == 0 && st.reason == STOP_FAULT && st.addr == r.rip &&
		   (st.access == 0 || st.access == PROT_EXEC),
	   NULL, pn, "instruction fetch from an unmapped page faults");

	e->ops->ctx_release(ctx);
	e->ops->as_release(as);
}

static void test_regs(struct env *e)
{
	const char *pn = e->ops->name;
	struct platform_as *as;
	struct platform_ctx *ctx;
	struct stop_info st;
	cpu_regs_t r;
	int rc;

	load_code(e, wl_regs, wl_regs_end);
	if (new_as_ctx(e, &as, &ctx)) {
		ok(0, NULL, pn, "registers: setup");
		return;
	}
	init_regs(&r, CODE_VA);
	r.r13 = 0xabcdef;
	rc = e->ops->ctx_switch(ctx, &r, &st);
	ok(rc == 0 && st.reason == STOP_SYSCALL && r.orig_rax == 1 &&
		   r.rbx == 0x1111 && r.r12 == 0x2222 && r.r15 == 0x3333 &&
		   r.r13 == 0xabcdef && r.rsp == DATA_VA + 0x1000 - 64,
	   NULL, pn, "registers reported at a syscall stop");
	r.rbx = 0x5555;
	rc = e->ops->ctx_switch(ctx, &r, &st);
	ok(rc == 0 && st.reason == STOP_FAULT && st.signo == SIGTRAP &&
		   r.rcx == 0x4444 && r.rbx == 0x5555,
	   NULL, pn, "int3 is a SIGTRAP fault; FP and edited registers kept");
	e->ops->ctx_release(ctx);
	e->ops->as_release(as);
}

struct intr_arg {
	const struct platform_ops *ops;
	struct platform_ctx *ctx;
	pid_t kill_pid;
	unsigned delay_us;
};

static void *intr_thread(void *p)
{
	struct intr_arg *a = p;

	usleep(a->delay_us);
	if (a->kill_pid > 0)
		kill(a->kill_pid, SIGKILL);
	else
		a->ops->ctx_interrupt(a->ctx);
	return NULL;
}

static void test_interrupt(struct env *e)
{
	const char *pn = e->ops->name;
	struct platform_as *as;
	struct platform_ctx *ctx;
	struct stop_info st;
	struct intr_arg a = { .ops = e->ops, .delay_us = 20000 };
	pthread_t t;
	cpu_regs_t r;
	uint64_t t0, dt;
	char msg[96];
	int rc;

	load_code(e, wl_spin, wl_spin_end);
	if (new_as_ctx(e, &as, &ctx)) {
		ok(0, NULL, pn, "interrupt: setup");
		return;
	}
	a.ctx = ctx;
	init_regs(&r, CODE_VA);
	pthread_create(&t, NULL, intr_thread, &a);
	t0 = now_ns();
	rc = e->ops->ctx_switch(ctx, &r, &st);
	dt = now_ns() - t0;
	pthread_join(t, NULL);
	snprintf(msg, sizeof(msg), "rc %d reason %d after %llu us", rc,
		 st.reason, (unsigned long long)dt / 1000);
	ok(rc == 0 && st.reason == STOP_INTERRUPTED && r.rip == CODE_VA, msg,
	   pn, "ctx_interrupt breaks a `jmp .` loop");
	printf("# %s: interrupt latency %llu us after a 20000 us delay\n", pn,
	       (unsigned long long)dt / 1000);

	/* Interrupt while not running: the next switch returns at once,
	 * and the one after runs normally (the late signal is dropped). */
	e->ops->ctx_interrupt(ctx);
	rc = e->ops->ctx_switch(ctx, &r, &st);
	ok(rc == 0 && st.reason == STOP_INTERRUPTED, NULL, pn,
	   "pending interrupt is reported by the next switch");
	a.delay_us = 5000;
	pthread_create(&t, NULL, intr_thread, &a);
	rc = e->ops->ctx_switch(ctx, &r, &st);
	pthread_join(t, NULL);
	ok(rc == 0 && st.reason == STOP_INTERRUPTED, NULL, pn,
	   "no stale interrupt left behind");

	/* The stub is killed from outside while the workload spins. */
	a.kill_pid = newest_child();
	a.delay_us = 10000;
	pthread_create(&t, NULL, intr_thread, &a);
	t0 = now_ns();
	rc = e->ops->ctx_switch(ctx, &r, &st);
	dt = now_ns() - t0;
	pthread_join(t, NULL);
	snprintf(msg, sizeof(msg), "rc %d reason %d after %llu us", rc,
		 st.reason, (unsigned long long)dt / 1000);
	ok(a.kill_pid > 0 && rc == 0 && st.reason == STOP_DEAD, msg, pn,
	   "SIGKILL of the stub gives STOP_DEAD");
	rc = e->ops->ctx_switch(ctx, &r, &st);
	ok(rc == 0 && st.reason == STOP_DEAD, NULL, pn, "and stays dead");
	ok(e->ops->as_map(as, DATA_VA, 4096, PROT_READ, OFF_DATA) < 0, NULL,
	   pn, "as_map on a dead stub fails");
	e->ops->ctx_release(ctx);
	e->ops->as_release(as);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void test_bench(struct env *e, int iters)
{
	const char *pn = e->ops->name;
	struct platform_as *as;
	struct platform_ctx *ctx;
	struct stop_info st;
	cpu_regs_t r;
	uint64_t *lat, sum = 0;
	int i, bad = 0;

	load_code(e, wl_loop, wl_loop_end);
	lat = calloc((size_t)iters, sizeof(*lat));
	if (!lat || new_as_ctx(e, &as, &ctx)) {
		ok(0, NULL, pn, "benchmark: setup");
		free(lat);
		return;
	}
	init_regs(&r, CODE_VA);
	if (e->ops->ctx_switch(ctx, &r, &st) || st.reason != STOP_SYSCALL)
		bad++;
	for (i = 0; i < iters && !bad; i++) {
		uint64_t t0 = now_ns();

		r.rax = (uint64_t)i;
		if (e->ops->ctx_switch(ctx, &r, &st) ||
		    st.reason != STOP_SYSCALL || r.orig_rax != 39)
			bad++;
		lat[i] = now_ns() - t0;
		sum += lat[i];
	}
	ok(!bad, NULL, pn, "getpid round trips all stop as syscalls");
	if (!bad) {
		qsort(lat, (size_t)iters, sizeof(*lat), cmp_u64);
		printf("# %s: getpid round trip over %d iterations: median %llu ns, "
		       "mean %llu ns, p99 %llu ns\n",
		       pn, iters, (unsigned long long)lat[iters / 2],
		       (unsigned long long)(sum / (uint64_t)iters),
		       (unsigned long long)lat[iters * 99 / 100]);
	}
	free(lat);
	e->ops->ctx_release(ctx);
	e->ops->as_release(as);
}

static void test_create_cost(struct env *e)
{
	const char *pn = e->ops->name;
	struct platform_as *as;
	uint64_t t0 = now_ns();
	int i, n = 20, bad = 0;

	for (i = 0; i < n; i++) {
		if (e->ops->as_new(e->p, &as)) {
			bad++;
			break;
		}
		e->ops->as_release(as);
	}
	ok(!bad, NULL, pn, "create and release 20 address spaces");
	printf("# %s: as_new + as_release %llu us each\n", pn,
	       (unsigned long long)(now_ns() - t0) / 1000 / (unsigned)n);
}

/* ---- several contexts in one address space ---- */

struct worker {
	struct env *e;
	struct platform_as *as;
	int idx, iters;
	int rc_new, bad, done_iters;
	uint64_t ns_new;
	volatile int *stop_mapper;
};

/* A task thread: its own context (not the address space's creator),
 * getpid loop, counter at DATA_VA + 0x200 + 8 * idx. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const struct platform_ops *ops = w->e->ops;
	struct platform_ctx *ctx;
	struct stop_info st;
	cpu_regs_t r;
	uint64_t t0 = now_ns();

	w->rc_new = ops->ctx_new(w->as, &ctx);
	w->ns_new = now_ns() - t0;
	if (w->rc_new)
		return NULL;
	init_regs(&r, CODE_VA);
	r.rbx = DATA_VA + 0x200 + 8 * (uint64_t)w->idx;
	for (int i = 0; i < w->iters; i++) {
		r.rax = 0;
		if (ops->ctx_switch(ctx, &r, &st) || st.reason != STOP_SYSCALL ||
		    r.orig_rax != 39) {
			w->bad++;
			break;
		}
		w->done_iters++;
	}
	ops->ctx_release(ctx);
	return NULL;
}

struct mapper {
	struct env *e;
	struct platform_as *as;
	volatile int *stop;
	int rounds, bad;
	uint64_t ns;
};

static void *mapper_main(void *arg)
{
	struct mapper *m = arg;
	const struct platform_ops *ops = m->e->ops;
	uint64_t t0 = now_ns();

	while (!*m->stop || m->rounds < 20) {
		if (ops->as_map(m->as, SCRATCH_VA, 4096, PROT_READ | PROT_WRITE,
				OFF_SCRATCH) ||
		    ops->as_protect(m->as, SCRATCH_VA, 4096, PROT_READ) ||
		    ops->as_unmap(m->as, SCRATCH_VA, 4096)) {
			m->bad++;
			break;
		}
		m->rounds++;
	}
	m->ns = now_ns() - t0;
	/* leave it mapped: another context reads it next */
	if (ops->as_map(m->as, SCRATCH_VA, 4096, PROT_READ, OFF_SCRATCH))
		m->bad++;
	return NULL;
}

static void test_threads(struct env *e, int iters)
{
	const char *pn = e->ops->name;
	struct platform_as *as;
	struct platform_ctx *ctx;
	struct worker w[2];
	struct mapper m = { 0 };
	volatile int stop = 0;
	pthread_t tw[2], tm;
	struct stop_info st;
	cpu_regs_t r;
	uint64_t *cnt = (uint64_t *)(e->mem + OFF_DATA + 0x200);
	char msg[160];
	int rc;

	load_code(e, wl_count, wl_count_end);
	memset(e->mem + OFF_DATA, 0, 4096);
	memcpy(e->mem + OFF_SCRATCH, "scratch!", 8);
	rc = e->ops->as_new(e->p, &as);
	if (!rc)
		rc = e->ops->as_map(as, CODE_VA, 4096, PROT_READ | PROT_EXEC,
				    OFF_CODE);
	if (!rc)
		rc = e->ops->as_map(as, DATA_VA, 4096, PROT_READ | PROT_WRITE,
				    OFF_DATA);
	ok(rc == 0, NULL, pn, "threads: address space");
	if (rc)
		return;
	m.e = e;
	m.as = as;
	m.stop = &stop;
	for (int i = 0; i < 2; i++) {
		w[i] = (struct worker){ .e = e, .as = as, .idx = i,
					.iters = iters };
		pthread_create(&tw[i], NULL, worker_main, &w[i]);
	}
	pthread_create(&tm, NULL, mapper_main, &m);
	for (int i = 0; i < 2; i++)
		pthread_join(tw[i], NULL);
	stop = 1;
	pthread_join(tm, NULL);

	ok(w[0].rc_new == 0 && w[1].rc_new == 0, NULL, pn,
	   "ctx_new from threads other than the address space's creator");
	snprintf(msg, sizeof(msg), "iters %d/%d %d/%d bad %d %d counters %llu %llu",
		 w[0].done_iters, iters, w[1].done_iters, iters, w[0].bad,
		 w[1].bad, (unsigned long long)cnt[0],
		 (unsigned long long)cnt[1]);
	ok(!w[0].bad && !w[1].bad && w[0].done_iters == iters &&
		   w[1].done_iters == iters,
	   msg, pn, "two contexts run getpid loops concurrently");
	/* the counter is bumped before each syscall: iters stops have
	 * been preceded by iters increments (the last run is in flight
	 * only when the thread was killed mid-loop, which ctx_release
	 * does after its last stop) */
	ok(cnt[0] == (uint64_t)iters && cnt[1] == (uint64_t)iters, msg, pn,
	   "each context has its own registers, memory is shared");
	snprintf(msg, sizeof(msg), "%d rounds, bad %d", m.rounds, m.bad);
	ok(m.bad == 0 && m.rounds >= 20, msg, pn,
	   "map/protect/unmap from a third thread while contexts run");
	printf("# %s: ctx_new %llu us, %llu us; map+protect+unmap from another "
	       "thread %llu us per round (%d rounds)\n",
	       pn, (unsigned long long)w[0].ns_new / 1000,
	       (unsigned long long)w[1].ns_new / 1000,
	       m.rounds ? (unsigned long long)(m.ns / 1000 / (uint64_t)m.rounds) : 0,
	       m.rounds);

	/* A new context after both released (slot/thread reuse) sees the
	 * page the mapper thread left mapped. */
	rc = e->ops->ctx_new(as, &ctx);
	ok(rc == 0, NULL, pn, "ctx_new after other contexts were released");
	if (!rc) {
		init_regs(&r, CODE_VA);
		r.rbx = SCRATCH_VA;
		rc = e->ops->ctx_switch(ctx, &r, &st);
		snprintf(msg, sizeof(msg), "rc %d reason %d signo %d addr %#llx",
			 rc, st.reason, st.signo, (unsigned long long)st.addr);
		/* incq on a read-only page: a write fault, not a missing
		 * page, proves the mapping is there */
		ok(rc == 0 && st.reason == STOP_FAULT && st.addr == SCRATCH_VA &&
			   (st.access == 0 || st.access == PROT_WRITE),
		   msg, pn, "mapping made by another thread is visible");
		e->ops->ctx_release(ctx);
	}

	/* Two live contexts; releasing one leaves the other running. */
	{
		struct platform_ctx *c1, *c2;

		rc = e->ops->ctx_new(as, &c1);
		if (!rc) {
			rc = e->ops->ctx_new(as, &c2);
			if (rc)
				e->ops->ctx_release(c1);
		}
		ok(rc == 0, NULL, pn, "two contexts on one thread");
		if (!rc) {
			e->ops->ctx_release(c1);
			init_regs(&r, CODE_VA);
			r.rbx = DATA_VA + 0x300;
			rc = e->ops->ctx_switch(c2, &r, &st);
			ok(rc == 0 && st.reason == STOP_SYSCALL, NULL, pn,
			   "ctx_release of one context leaves the other alive");
			e->ops->ctx_release(c2);
		}
	}
	e->ops->as_release(as);
}

/* ---- FP state ---- */

static uint32_t xsave_off(int comp)
{
	unsigned a, b, c, d;

	__cpuid_count(0xd, (unsigned)comp, a, b, c, d);
	return b;
}

static void test_fpstate(struct env *e)
{
	const char *pn = e->ops->name;
	struct platform_as *as;
	struct platform_ctx *ctx;
	struct stop_info st;
	cpu_regs_t r;
	size_t size = e->ops->fpstate_size(e->p);
	uint8_t *buf, *bad;
	uint32_t mxcsr, ymm = xsave_off(2);
	uint16_t fcw;
	uint64_t bv, q[4];
	char msg[128];
	int rc;

	if (!__builtin_cpu_supports("avx") || size < ymm + 256) {
		printf("# %s: no AVX; FP state tests skipped\n", pn);
		return;
	}
	load_code(e, wl_fp, wl_fp_end);
	memset(e->mem + OFF_DATA, 0, 4096);
	for (int i = 0; i < 4; i++)
		((uint64_t *)(e->mem + OFF_DATA + 0x480))[i] =
			0xc0c0c0c000000000ULL + (uint64_t)i;
	buf = calloc(1, size);
	bad = calloc(1, size);
	if (!buf || !bad || new_as_ctx(e, &as, &ctx)) {
		ok(0, NULL, pn, "fpstate: setup");
		free(buf);
		free(bad);
		return;
	}
	rc = e->ops->ctx_get_fpstate(ctx, buf, size);
	memcpy(&fcw, buf, 2);
	memcpy(&mxcsr, buf + 24, 4);
	memcpy(q, buf + 160, 16);
	snprintf(msg, sizeof(msg), "rc %d fcw %#x mxcsr %#x size %zu", rc, fcw,
		 mxcsr, size);
	ok(rc == 0 && fcw == 0x37f && mxcsr == 0x1f80 && q[0] == 0 && q[1] == 0,
	   msg, pn, "fresh context has the execve FP state");
	printf("# %s: fpstate_size %zu\n", pn, size);
	ok(e->ops->ctx_get_fpstate(ctx, buf, 100) == -EINVAL, NULL, pn,
	   "get_fpstate with a short buffer is EINVAL");

	/* xmm0 low half, ymm0 high half, MXCSR with FTZ */
	q[0] = 0x1111111111111111ULL;
	q[1] = 0x2222222222222222ULL;
	memcpy(buf + 160, q, 16);
	q[2] = 0x3333333333333333ULL;
	q[3] = 0x4444444444444444ULL;
	memcpy(buf + ymm, q + 2, 16);
	memcpy(&bv, buf + 512, 8);
	bv |= 7;
	memcpy(buf + 512, &bv, 8);
	mxcsr = 0x9f80;
	memcpy(buf + 24, &mxcsr, 4);
	rc = e->ops->ctx_set_fpstate(ctx, buf, size);
	ok(rc == 0, NULL, pn, "set_fpstate accepts a valid image");

	/* invalid images: nothing changes, EINVAL */
	memcpy(bad, buf, size);
	mxcsr = 0x9f80 | 0x80000000U;
	memcpy(bad + 24, &mxcsr, 4);
	ok(e->ops->ctx_set_fpstate(ctx, bad, size) == -EINVAL, NULL, pn,
	   "reserved MXCSR bit rejected");
	memcpy(bad, buf, size);
	bv |= 1ULL << 62;
	memcpy(bad + 512, &bv, 8);
	ok(e->ops->ctx_set_fpstate(ctx, bad, size) == -EINVAL, NULL, pn,
	   "unsupported xstate_bv feature rejected");
	memcpy(bad, buf, size);
	bv = 1ULL << 63;
	memcpy(bad + 520, &bv, 8);
	ok(e->ops->ctx_set_fpstate(ctx, bad, size) == -EINVAL, NULL, pn,
	   "compacted format (xcomp_bv) rejected");
	memcpy(bad, buf, size);
	bad[540] = 1;
	ok(e->ops->ctx_set_fpstate(ctx, bad, size) == -EINVAL, NULL, pn,
	   "reserved header byte rejected");
	ok(e->ops->ctx_set_fpstate(ctx, buf, 300) == -EINVAL &&
		   e->ops->ctx_set_fpstate(ctx, buf, ymm) == -EINVAL,
	   NULL, pn, "image shorter than its components rejected");

	init_regs(&r, CODE_VA);
	rc = e->ops->ctx_switch(ctx, &r, &st);
	memcpy(q, e->mem + OFF_DATA + 0x400, 32);
	memcpy(&mxcsr, e->mem + OFF_DATA + 0x440, 4);
	snprintf(msg, sizeof(msg), "rc %d reason %d ymm0 %llx %llx %llx %llx mxcsr %#x",
		 rc, st.reason, (unsigned long long)q[0], (unsigned long long)q[1],
		 (unsigned long long)q[2], (unsigned long long)q[3], mxcsr);
	ok(rc == 0 && st.reason == STOP_SYSCALL && q[0] == 0x1111111111111111ULL &&
		   q[1] == 0x2222222222222222ULL &&
		   q[2] == 0x3333333333333333ULL &&
		   q[3] == 0x4444444444444444ULL && mxcsr == 0x9f80,
	   msg, pn, "workload sees ymm0 and MXCSR set through set_fpstate");

	rc = e->ops->ctx_get_fpstate(ctx, buf, size);
	memcpy(q, buf + 160 + 16, 16);
	memcpy(q + 2, buf + ymm + 16, 16);
	snprintf(msg, sizeof(msg), "rc %d ymm1 %llx %llx %llx %llx", rc,
		 (unsigned long long)q[0], (unsigned long long)q[1],
		 (unsigned long long)q[2], (unsigned long long)q[3]);
	ok(rc == 0 && q[0] == 0xc0c0c0c000000000ULL &&
		   q[1] == 0xc0c0c0c000000001ULL &&
		   q[2] == 0xc0c0c0c000000002ULL &&
		   q[3] == 0xc0c0c0c000000003ULL,
	   msg, pn, "get_fpstate sees ymm1 loaded by the workload");

	/* round trip the image unchanged, with ymm1 edited */
	q[0] = 0x5555;
	memcpy(buf + 160 + 16, q, 8);
	rc = e->ops->ctx_set_fpstate(ctx, buf, size);
	if (!rc)
		rc = e->ops->ctx_switch(ctx, &r, &st);
	memcpy(q, e->mem + OFF_DATA + 0x500, 32);
	ok(rc == 0 && st.reason == STOP_FAULT && st.signo == SIGTRAP &&
		   q[0] == 0x5555 && q[1] == 0xc0c0c0c000000001ULL &&
		   q[3] == 0xc0c0c0c000000003ULL,
	   NULL, pn, "get/set round trip keeps the state, edits apply");
	e->ops->ctx_release(ctx);
	e->ops->as_release(as);
	free(buf);
	free(bad);
}

static void run_platform(const char *name, int iters)
{
	struct platform_config cfg = { 0 };
	struct env e = { 0 };
	int fds0, rc;
	pid_t kids[8];

	e.ops = platform_lookup(name);
	ok(e.ops != NULL && !strcmp(e.ops->name, name), NULL, name,
	   "platform_lookup");
	if (!e.ops)
		return;
	e.memfd = memfd_create("test-mem", MFD_CLOEXEC);
	if (e.memfd < 0 || ftruncate(e.memfd, MEM_SIZE)) {
		ok(0, NULL, name, "memfd");
		return;
	}
	e.mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		     e.memfd, 0);
	cfg.memfd = e.memfd;
	rc = e.ops->init(&cfg, &e.p);
	ok(rc == 0 && e.mem != MAP_FAILED, NULL, name, "init");
	if (rc)
		return;
	fds0 = count_fds();

	test_basic(&e);
	test_regs(&e);
	test_interrupt(&e);
	test_bench(&e, iters);
	test_create_cost(&e);
	test_threads(&e, iters < 20000 ? iters : 20000);
	test_fpstate(&e);

	ok(count_fds() == fds0, NULL, name, "no descriptor leaked");
	ok(children(kids, 8) == 0, NULL, name, "no stub process left");
	e.ops->destroy(e.p);
	munmap(e.mem, MEM_SIZE);
	close(e.memfd);
}

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 100000;

	ok(platform_lookup("kvm") == NULL, NULL, "registry",
	   "kvm is not registered yet");
	ok(platform_lookup("nonsense") == NULL, NULL, "registry",
	   "unknown name");
	run_platform("systrap", iters);
	run_platform("ptrace", iters);
	printf("1..%d\n", ntests);
	return failed ? 1 : 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Stub processes: creation and teardown, shared by the systrap and ptrace
 * platforms.
 *
 * A stub is fork()ed from the sentry thread that owns the address space. The
 * child runs a few lines of C (below) while it still has libc, then jumps
 * into stub.S, which unmaps everything but itself and the host vDSO. From
 * then on the process consists of one code page at STUB_CODE (plus, in
 * systrap mode, the sysmsg region), the host's vDSO at STUB_VDSO and
 * whatever the sentry maps from the memory file.
 *
 * Locks: stub_spawner.call serialises callers of one spawner, then
 * stub_spawner.lock guards the request; vdso_once guards the vDSO
 * description, written once and read-only afterwards. Ownership: the caller
 * owns the pid (and must reap it). Thread-local state: the CPU pinning
 * depth of the calling thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cvisor/log.h"
#include "cvisor/util.h"
#include "internal.h"

/* Layout of struct sigaction as rt_sigaction(2) takes it
 * (arch/x86/include/uapi/asm/signal.h, kernel_sigaction). */
struct ksigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};
#define KSA_RESTORER 0x04000000

static const int stub_handled_signals[] = {
	SIGSYS, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, STUB_INTERRUPT_SIG,
};

bool stub_is_fault_signal(int signo)
{
	return signo == SIGSEGV || signo == SIGBUS || signo == SIGFPE ||
	       signo == SIGILL || signo == SIGTRAP;
}

/*
 * The host vDSO. Every stub is a fork of the sentry and so starts with the
 * sentry's [vvar], [vvar_vclock] and [vdso] (the kernel maps them into each
 * process at exec; fork copies them). Stage 1 keeps them and moves them to
 * STUB_VDSO with mremap, which Linux allows for these special mappings as a
 * whole (mm/mmap.c special_mapping_mremap; x86's vdso_mremap just records
 * the new place). The time calls the vDSO answers read the host's clocks,
 * the very values the sentry's clock_gettime would return (sys_time.c);
 * the rest fall back to a syscall instruction in the vDSO, which traps like
 * any other workload syscall.
 */
static pthread_once_t vdso_once = PTHREAD_ONCE_INIT;
static struct platform_vdso vdso_info;	/* stub addresses; base 0: none */
static uint64_t vdso_host[PLATFORM_VDSO_MAPS]; /* the sentry's addresses */

static bool vdso_special(const char *name)
{
	return strcmp(name, "[vdso]") == 0 || strncmp(name, "[vvar", 5) == 0;
}

static void vdso_find(void)
{
	struct platform_vdso v = { 0 };
	uint64_t host[PLATFORM_VDSO_MAPS] = { 0 }, lo, vs, hi;
	const char *env = getenv("CVISOR_VDSO");
	_cleanup_free_ char *line = NULL;
	bool found = false;
	size_t cap = 0;
	FILE *f;

	if (env && strcmp(env, "0") == 0) {
		log_debug("vdso: off (CVISOR_VDSO=0)");
		return;
	}
	f = fopen("/proc/self/maps", "re");
	if (!f) {
		log_debug("vdso: no /proc/self/maps: off");
		return;
	}
	/* The [vdso] line and the special mappings right below it with no
	 * gap: those the vDSO reads its data from. */
	while (!found && getline(&line, &cap, f) > 0) {
		unsigned long long s, e;
		char perms[8], name[sizeof(v.maps[0].name)] = "";

		if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %15s", &s, &e, perms,
			   name) < 3 || !vdso_special(name)) {
			v.nmaps = 0;
			continue;
		}
		if (v.nmaps && host[v.nmaps - 1] +
			       (v.maps[v.nmaps - 1].end - v.maps[v.nmaps - 1].start) != s)
			v.nmaps = 0;
		if (v.nmaps == PLATFORM_VDSO_MAPS)
			break;
		host[v.nmaps] = s;
		v.maps[v.nmaps].start = s;
		v.maps[v.nmaps].end = e;
		v.maps[v.nmaps].prot = (perms[0] == 'r' ? PROT_READ : 0) |
				       (perms[1] == 'w' ? PROT_WRITE : 0) |
				       (perms[2] == 'x' ? PROT_EXEC : 0);
		memcpy(v.maps[v.nmaps].name, name, sizeof(name));
		v.nmaps++;
		found = strcmp(name, "[vdso]") == 0;
	}
	/* Data pages above the code (not x86-64's layout since 3.16) would
	 * be left behind. */
	if (found && getline(&line, &cap, f) > 0) {
		unsigned long long s;
		char name[sizeof(v.maps[0].name)] = "";

		if (sscanf(line, "%llx-%*x %*s %*s %*s %*s %15s", &s, name) == 2 &&
		    vdso_special(name) && s == v.maps[v.nmaps - 1].end)
			found = false;
	}
	fclose(f);
	if (!found) {
		log_debug("vdso: no [vdso] with its data pages below it: off");
		return;
	}
	lo = host[0];
	vs = host[v.nmaps - 1];
	hi = v.maps[v.nmaps - 1].end;
	if (!IS_PAGE_ALIGNED(lo) || !IS_PAGE_ALIGNED(hi) ||
	    hi - vs > STUB_VDSO_MAX || vs - lo > STUB_VVAR_MAX) {
		log_debug("vdso: odd host vDSO %#lx-%#lx-%#lx: off",
			  (unsigned long)lo, (unsigned long)vs, (unsigned long)hi);
		return;
	}
	/* Already (partly) where it must go (ASLR off?): mremap cannot move
	 * a mapping onto itself. */
	if (lo < STUB_VDSO + (hi - vs) && STUB_VDSO - (vs - lo) < hi) {
		log_debug("vdso: host vDSO at %#lx overlaps %#lx: off",
			  (unsigned long)vs, (unsigned long)STUB_VDSO);
		return;
	}
	for (unsigned int i = 0; i < v.nmaps; i++) {
		v.maps[i].start = v.maps[i].start - vs + STUB_VDSO;
		v.maps[i].end = v.maps[i].end - vs + STUB_VDSO;
	}
	v.base = STUB_VDSO;
	memcpy(vdso_host, host, sizeof(host));
	vdso_info = v;
	log_debug("vdso: host vDSO %#lx-%#lx (%u mappings) goes to %#lx-%#lx",
		  (unsigned long)lo, (unsigned long)hi, v.nmaps,
		  (unsigned long)v.maps[0].start,
		  (unsigned long)v.maps[v.nmaps - 1].end);
}

const struct platform_vdso *stub_vdso(struct platform *p UNUSED)
{
	pthread_once(&vdso_once, vdso_find);
	return vdso_info.base ? &vdso_info : NULL;
}

static void plan_op(struct stub_plan *pl, uint64_t nr, uint64_t a0,
		    uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
{
	uint64_t *op = pl->op[pl->n++];

	op[0] = nr;
	op[1] = a0;
	op[2] = a1;
	op[3] = a2;
	op[4] = a3;
	op[5] = a4;
}

/* Stage 1's work (runs in the child: no libc): unmap everything but
 * [keep_lo, keep_hi) (the temporary copy) and the host vDSO, then move the
 * vDSO's mappings to STUB_VDSO. */
static void plan_build(struct stub_plan *pl, uint64_t keep_lo, uint64_t keep_hi)
{
	uint64_t keep[2][2] = { { keep_lo, keep_hi }, { 0, 0 } }, at = 0;
	unsigned int nkeep = 1, nv = vdso_info.base ? vdso_info.nmaps : 0;

	pl->n = 0;
	if (nv) {
		uint64_t lo = vdso_host[0];
		uint64_t hi = vdso_host[nv - 1] + (vdso_info.maps[nv - 1].end -
						   vdso_info.maps[nv - 1].start);

		nkeep = 2;
		if (lo < keep_lo) {
			keep[1][0] = keep_lo;
			keep[1][1] = keep_hi;
			keep[0][0] = lo;
			keep[0][1] = hi;
		} else {
			keep[1][0] = lo;
			keep[1][1] = hi;
		}
	}
	for (unsigned int i = 0; i < nkeep; i++) {
		if (keep[i][0] > at)
			plan_op(pl, __NR_munmap, at, keep[i][0] - at, 0, 0, 0);
		at = keep[i][1];
	}
	plan_op(pl, __NR_munmap, at, USER_TOP - at, 0, 0, 0);
	for (unsigned int i = 0; i < nv; i++) {
		uint64_t len = vdso_info.maps[i].end - vdso_info.maps[i].start;

		plan_op(pl, __NR_mremap, vdso_host[i], len, len,
			MREMAP_MAYMOVE | MREMAP_FIXED, vdso_info.maps[i].start);
	}
}

static void __attribute__((noreturn)) child_fail(int code)
{
	syscall(SYS_exit_group, code);
	__builtin_unreachable();
}

/*
 * Runs in the fork()ed child of a (possibly multi-threaded, possibly
 * ASan-instrumented) sentry: only raw system calls, no malloc, no locks.
 */
static void __attribute__((noreturn))
stub_child(const struct stub_spawn_args *a, pid_t ppid)
{
	struct ksigaction sa = { 0 };
	uint64_t mask = 0;
	size_t len = (size_t)(stub_end - stub_start);
	uint64_t code;
	long tmp;
	int fd_mem, fd_msg = -1;

	/* PDEATHSIG fires when the forking *thread* exits (prctl(2)): the
	 * thread that owns the address space. Re-check the parent to close
	 * the race with its death before the prctl. */
	if (syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) ||
	    syscall(SYS_getppid) != ppid)
		child_fail(1);
	/* Out of the sentry's session: no terminal signals reach stubs. */
	syscall(SYS_setsid);

	/* Inherited handlers point into the sentry image, which is about to
	 * vanish. Reset all, unblock all. */
	for (int sig = 1; sig <= 64; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		sa.handler = (uint64_t)SIG_DFL;
		syscall(SYS_rt_sigaction, sig, &sa, NULL, 8);
	}
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, 8);

	/* rseq registration survives fork (kernel/rseq.c, rseq_fork); the
	 * area lives in the sentry's TLS that stage 1 unmaps, and the kernel
	 * answers a failed rseq update with SIGSEGV. Unregister it. */
	if (__rseq_size > 0) {
		void *area = (char *)__builtin_thread_pointer() + __rseq_offset;

		if (syscall(SYS_rseq, area, __rseq_size, RSEQ_FLAG_UNREGISTER,
			    RSEQ_SIG) &&
		    syscall(SYS_rseq, area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG))
			child_fail(2);
	}

	/* A stub killed by a fault must not write a core of the sandbox. */
	struct rlimit rl = { 0, 0 };
	syscall(SYS_setrlimit, RLIMIT_CORE, &rl);

	/* Keep only the memory file (and the sysmsg file) at fixed numbers. */
	fd_mem = (int)syscall(SYS_fcntl, a->memfd, F_DUPFD, 100);
	if (a->sysmsg_fd >= 0)
		fd_msg = (int)syscall(SYS_fcntl, a->sysmsg_fd, F_DUPFD, 100);
	if (fd_mem < 0 || (a->sysmsg_fd >= 0 && fd_msg < 0))
		child_fail(3);
	if (syscall(SYS_dup2, fd_mem, STUB_FD_MEM) < 0)
		child_fail(3);
	if (fd_msg >= 0 && syscall(SYS_dup2, fd_msg, STUB_FD_SYSMSG) < 0)
		child_fail(3);
	syscall(SYS_close_range, 0, STUB_FD_MEM - 1, 0);
	syscall(SYS_close_range,
		fd_msg >= 0 ? STUB_FD_SYSMSG + 1 : STUB_FD_MEM + 1, ~0U, 0);

	if (a->mode == STUB_MODE_SYSTRAP) {
		stack_t ss = {
			.ss_sp = (void *)(SYSMSG_SLOT0 + SYSMSG_HDR_SIZE),
			.ss_size = SYSMSG_SLOT_SIZE - SYSMSG_HDR_SIZE,
		};

		/* Handlers at their final addresses: the kernel does not
		 * look at them until a signal is delivered, by which time
		 * stage 2 has mapped them. All signals blocked inside. */
		sa.handler = stub_addr(stub_handler);
		sa.flags = SA_SIGINFO | SA_ONSTACK | KSA_RESTORER;
		sa.restorer = stub_addr(stub_restorer);
		sa.mask = ~0ULL;
		for (size_t i = 0; i < ARRAY_SIZE(stub_handled_signals); i++)
			if (syscall(SYS_rt_sigaction, stub_handled_signals[i],
				    &sa, NULL, 8))
				child_fail(4);
		if (syscall(SYS_sigaltstack, &ss, NULL))
			child_fail(4);
		/* seccomp(2) without CAP_SYS_ADMIN needs no_new_privs. */
		if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
			child_fail(4);
	} else {
		if (syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0))
			child_fail(5);
		/* The tracer sets its options, then lets us continue. */
		syscall(SYS_kill, syscall(SYS_getpid), SIGSTOP);
	}

	/* A temporary copy of the stub code, away from the stub region, from
	 * which stage 1 can unmap everything else; its work list (struct
	 * stub_plan) in the page before it. */
	tmp = syscall(SYS_mmap, 0x100000000UL, PAGE_SIZE + len,
		      PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (tmp == -1 || (uint64_t)tmp + PAGE_SIZE + len > STUB_BASE)
		child_fail(6);
	code = (uint64_t)tmp + PAGE_SIZE;
	for (size_t i = 0; i < len; i++)
		((volatile char *)code)[i] = stub_start[i];
	plan_build((struct stub_plan *)tmp, (uint64_t)tmp,
		   PAGE_ALIGN_UP(code + len));
	if (syscall(SYS_mprotect, code, len, PROT_READ | PROT_EXEC))
		child_fail(6);

	{
		register uint64_t rdi __asm__("rdi") = code;
		register uint64_t rsi __asm__("rsi") = (uint64_t)a->mode;
		register uint64_t rdx __asm__("rdx") = len;
		register uint64_t rcx __asm__("rcx") = (uint64_t)tmp;
		uint64_t entry = code + (uint64_t)(stub_entry - stub_start);

		__asm__ volatile("jmp *%4"
				 :
				 : "r"(rdi), "r"(rsi), "r"(rdx), "r"(rcx),
				   "r"(entry)
				 : "memory");
	}
	__builtin_unreachable();
}

pid_t stub_spawn(const struct stub_spawn_args *a)
{
	pid_t ppid = getpid();
	pid_t pid;

	/* Before the fork: the child reads what it found. */
	stub_vdso(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		stub_child(a, ppid);
	return pid;
}

struct stub_spawner {
	pthread_t thread;
	pthread_mutex_t call;	/* one request at a time */
	pthread_mutex_t lock;
	pthread_cond_t cv;
	const struct stub_spawn_args *req;
	pid_t result;
	bool done, quit;
};

static void *spawner_main(void *arg)
{
	struct stub_spawner *s = arg;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->req && !s->quit)
			pthread_cond_wait(&s->cv, &s->lock);
		if (s->quit)
			break;
		s->result = stub_spawn(s->req);
		s->req = NULL;
		s->done = true;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int stub_spawner_start(struct stub_spawner **out)
{
	struct stub_spawner *s = calloc(1, sizeof(*s));
	sigset_t all, old;
	int r;

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->call, NULL);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cv, NULL);
	/* No signal meant for task threads may land here. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&s->thread, NULL, spawner_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		free(s);
		return -r;
	}
	*out = s;
	return 0;
}

void stub_spawner_stop(struct stub_spawner *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->quit = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->call);
	free(s);
}

pid_t stub_spawner_spawn(struct stub_spawner *s, const struct stub_spawn_args *a)
{
	pid_t r;

	pthread_mutex_lock(&s->call);
	pthread_mutex_lock(&s->lock);
	s->req = a;
	s->done = false;
	pthread_cond_broadcast(&s->cv);
	while (!s->done)
		pthread_cond_wait(&s->cv, &s->lock);
	r = s->result;
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_unlock(&s->call);
	return r;
}

void stub_kill_reap(pid_t pid, int pidfd, bool reaped)
{
	if (!reaped && pid > 0) {
		/* pidfd_send_signal cannot hit a recycled pid; fall back
		 * to kill() only when there is no pidfd. */
		if (pidfd < 0 || syscall(SYS_pidfd_send_signal, pidfd, SIGKILL,
					 NULL, 0))
			kill(pid, SIGKILL);
		while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
			;
	}
	if (pidfd >= 0)
		close(pidfd);
}

/*
 * Tracer and tracee on one CPU: a ptrace stop + wake across the two vCPUs
 * here costs ~55 us, on one CPU ~4.8 us (notes/ptrace-family.md). Nested
 * per thread so several address spaces of one sentry thread share it.
 */
static __thread int pin_depth;
static __thread cpu_set_t pin_saved;

void stub_pin_self(void)
{
	cpu_set_t one;
	int cpu;

	if (pin_depth++ > 0)
		return;
	if (sched_getaffinity(0, sizeof(pin_saved), &pin_saved))
		CPU_ZERO(&pin_saved);
	cpu = sched_getcpu();
	if (cpu < 0)
		return;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	sched_setaffinity(0, sizeof(one), &one);
}

void stub_unpin_self(void)
{
	if (pin_depth <= 0 || --pin_depth > 0)
		return;
	if (CPU_COUNT(&pin_saved) > 0)
		sched_setaffinity(0, sizeof(pin_saved), &pin_saved);
}

void stub_pin_peer(pid_t tid)
{
	cpu_set_t one;
	int cpu = sched_getcpu();

	if (cpu < 0)
		return;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	sched_setaffinity(tid, sizeof(one), &one);
}

void stub_sanitize_regs(cpu_regs_t *r)
{
	/* The only selectors a 64-bit task may run with; anything else
	 * makes PTRACE_SETREGS fail with EIO or sigreturn fault. */
	r->cs = 0x33;
	r->ss = 0x2b;
	r->ds = r->es = r->fs = r->gs = 0;
}

int stub_cputime(pid_t pid, uint64_t *ns)
{
	struct timespec ts;
	clockid_t cid;

	/* A process CPU clock of another process may be read by anyone who
	 * can see it (kernel/time/posix-cpu-timers.c pid_for_clock). */
	if (clock_getcpuclockid(pid, &cid) || clock_gettime(cid, &ts))
		return -ESRCH;
	*ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	return 0;
}

int stub_thread_cputime(pid_t pid, pid_t tid, uint64_t *ns)
{
	char path[64], buf[64];
	unsigned long long v;
	ssize_t n;
	int fd;

	/* A thread CPU clock of another process cannot be read with
	 * clock_gettime (posix-cpu-timers.c wants the same thread group);
	 * schedstat's first field is the same sum_exec_runtime. */
	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", pid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = 0;
			if (sscanf(buf, "%llu", &v) == 1) {
				*ns = v;
				return 0;
			}
		}
	}
	return stub_cputime(pid, ns);
}

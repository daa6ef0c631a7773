// SPDX-License-Identifier: GPL-2.0
/*
 * What procfs needs to know about other tasks: references on their mm, fd
 * table and fs_struct, and the argument and environment strings of an
 * address space.
 *
 * Locks: procinfo_get takes kernel->lock only; the references it returns
 * are used after dropping it (mm->lock, fdtable->lock, fs->lock are never
 * taken under kernel->lock). procinfo_args takes mm->lock through
 * mm_copy_in.
 *
 * Why the references are safe: task_do_exit clears t->ctx under
 * kernel->lock before it puts mm, fdt and fs, and execve swaps mm under
 * kernel->lock too; so while kernel->lock is held and t->ctx is set, the
 * task's own references keep the objects alive and ours can be added.
 * (execve's fd table unsharing swaps t->fdt without kernel->lock: a reader
 * racing it could take a reference on the table being dropped; the window
 * is a few instructions and only an fd listing of an exec'ing task hits it.
 * The exec code should do that swap under kernel->lock.)
 *
 * References: procinfo_get returns one task reference and one reference per
 * object; procinfo_put drops them.
 *
 * CPU usage (getrusage, times, wait4/waitid rusage): user time is the
 * workload thread's (platform ctx_cputime: the stub thread's run time),
 * system time the sentry host thread's that serves the task. A thread's
 * figures move into its signal_group's dead_* totals under kernel->lock in
 * the same critical section that clears t->ctx, so a concurrent sum counts
 * each thread exactly once. Reaping adds a child's totals to the parent's
 * cutime/cstime (wait_task_zombie). ctx_cputime is called under
 * kernel->lock: it only reads a /proc file of the stub and takes no lock.
 * execve folds the user time of the context it drops the same way.
 * Gaps: ru_maxrss is the larger of the current resident size and the size at
 * each thread's exit (not a true high-water mark); fault and context
 * switch counts are zero.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cvisor/mm.h"
#include "cvisor/task.h"
#include "cvisor/vfs.h"
#include "../../vfs/vfs_impl.h"

int procinfo_get(struct kernel *k, int tid, unsigned int want,
		 struct task_refs *out)
{
	struct task *t;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&k->lock);
	t = kernel_find_task(k, tid);
	if (!t) {
		pthread_mutex_unlock(&k->lock);
		return -ENOENT;
	}
	task_get(t);
	out->t = t;
	if (t->ctx && !t->exited) {
		if ((want & PROCINFO_MM) && t->mm) {
			mm_get(t->mm);
			out->mm = t->mm;
		}
		if ((want & PROCINFO_FDT) && t->fdt) {
			fdtable_get_ref(t->fdt);
			out->fdt = t->fdt;
		}
		if ((want & PROCINFO_FS) && t->fs) {
			fs_struct_get_ref(t->fs);
			out->fs = t->fs;
		}
	}
	pthread_mutex_unlock(&k->lock);
	return 0;
}

void procinfo_put(struct task_refs *r)
{
	if (r->mm)
		mm_put(r->mm);
	if (r->fdt)
		fdtable_put(r->fdt);
	if (r->fs)
		fs_struct_put(r->fs);
	if (r->t)
		task_put(r->t);
	memset(r, 0, sizeof(*r));
}

#define ARGS_WINDOW (256 * 1024)
#define AT_EXECFN_TAG 31

static uint64_t word_at(const uint8_t *buf, size_t off)
{
	uint64_t w;

	memcpy(&w, buf + off, sizeof(w));
	return w;
}

/*
 * The initial stack (sentry/loader/stack.c, like create_elf_tables) ends
 * with 8 zero bytes, AT_EXECFN's string, and below it the argv then envp
 * strings, contiguous. mm keeps no arg_start/env_start (Linux's mm_struct
 * does), so find the argc word whose argv/envp arrays point exactly at
 * contiguous strings ending at AT_EXECFN, below the auxv entry naming it.
 * Programs that rewrite their argv in place are shown as rewritten.
 */
/* Copy [start, end) of the workload's memory, at most ARGS_WINDOW bytes;
 * an unreadable tail ends it (access_remote_vm). */
static int copy_range(struct mm *mm, uint64_t start, uint64_t end,
		      char **out, size_t *outlen)
{
	size_t want = MIN(end - start, (uint64_t)ARGS_WINDOW), got = 0;
	char *buf = malloc(want ? want : 1);

	if (!buf)
		return -ENOMEM;
	while (got < want) {
		uint64_t a = start + got;
		size_t n = MIN(want - got, PAGE_SIZE - (a & (PAGE_SIZE - 1)));

		if (mm_copy_in(mm, buf + got, a, n))
			break;
		got += n;
	}
	*out = buf;
	*outlen = got;
	return 0;
}

/* The ranges execve recorded (get_mm_cmdline()/environ_read() in
 * fs/proc/base.c). cmdline is argv's area; if its last byte is no longer
 * NUL the program rewrote its title (setproctitle): then the text runs on
 * into the environment area up to the first NUL, as Linux shows it. */
static int args_from_ranges(struct mm *mm, const struct mm_args *a, bool env,
			    char **out, size_t *outlen)
{
	char last = 0;
	size_t n;
	int r;

	if (env)
		return copy_range(mm, a->env_start, a->env_end, out, outlen);
	if (a->arg_end <= a->arg_start)
		return 0;
	if (mm_copy_in(mm, &last, a->arg_end - 1, 1) || !last)
		return copy_range(mm, a->arg_start, a->arg_end, out, outlen);
	r = copy_range(mm, a->arg_start,
		       a->env_start == a->arg_end && a->env_end > a->env_start
			       ? a->env_end : a->arg_end, out, outlen);
	if (r == 0) {
		n = strnlen(*out, *outlen);
		*outlen = n < *outlen ? n + 1 : n;
	}
	return r;
}

int procinfo_args(struct mm *mm, bool env, char **out, size_t *outlen)
{
	uint64_t top = mm_stack_top(mm), base, execfn = 0;
	_cleanup_free_ uint8_t *buf = malloc(ARGS_WINDOW);
	size_t len = 0, aux = 0, end;
	bool found = false;

	*out = NULL;
	*outlen = 0;
	if (!buf)
		return -ENOMEM;
	{
		struct mm_args ma;

		mm_get_args(mm, &ma);
		if (ma.arg_start)
			return args_from_ranges(mm, &ma, env, out, outlen);
	}
	/* Read downwards a page at a time while it is mapped. */
	while (len < ARGS_WINDOW) {
		if (mm_copy_in(mm, buf + ARGS_WINDOW - len - PAGE_SIZE,
			       top - len - PAGE_SIZE, PAGE_SIZE))
			break;
		len += PAGE_SIZE;
	}
	if (len < PAGE_SIZE)
		return 0;
	base = top - len;
	memmove(buf, buf + ARGS_WINDOW - len, len);
	/* AT_EXECFN: the string just below the 8-byte end marker. */
	end = len - 9;
	if (buf[end] != '\0')
		return 0;
	for (size_t i = end; i-- > 0;) {
		if (buf[i] == '\0') {
			execfn = base + i + 1;
			break;
		}
	}
	if (!execfn)
		return 0;
	for (size_t off = (execfn - base) & ~7UL; off >= 16; off -= 8) {
		if (word_at(buf, off - 16) == AT_EXECFN_TAG &&
		    word_at(buf, off - 8) == execfn) {
			aux = off - 16;
			break;
		}
	}
	if (!aux)
		return 0;
	for (size_t a = aux; a >= 8 && !found;) {
		uint64_t argc, p, want;
		size_t w;

		a -= 8;
		argc = word_at(buf, a);
		if (argc > 65536 || a + 8 * (argc + 2) > aux)
			continue;
		w = a + 8;
		want = 0;
		/* argv then envp: each pointer starts where the previous
		 * string ended; a NULL ends each array. */
		for (int arr = 0; arr < 2; arr++) {
			uint64_t n = 0;

			for (;; w += 8, n++) {
				if (w + 8 > aux)
					goto next;
				p = word_at(buf, w);
				if (!p)
					break;
				if (p < base || p >= execfn || (want && p != want))
					goto next;
				if (arr == 0 && n == argc)
					goto next;
				want = p + strnlen((char *)buf + (p - base),
						   execfn - p) + 1;
			}
			if (arr == 0 && n != argc)
				goto next;
			w += 8;
			if (arr == 0) {
				uint64_t a0 = argc ? word_at(buf, a + 8) : 0;
				uint64_t e0 = word_at(buf, w);

				if (!env && argc) {
					/* argv strings: [argv[0], envp[0] or
					 * execfn). */
					uint64_t stop = e0 ? e0 : execfn;

					if (stop < a0 || stop > execfn)
						goto next;
					*outlen = stop - a0;
					*out = malloc(*outlen ? *outlen : 1);
					if (!*out)
						return -ENOMEM;
					memcpy(*out, buf + (a0 - base), *outlen);
					/* Still verify envp below. */
				}
			} else {
				if ((want ? want : execfn) != execfn)
					goto next;
				found = true;
			}
		}
		if (env) {
			uint64_t e0 = word_at(buf, a + 8 * (argc + 2));

			if (e0) {
				*outlen = execfn - e0;
				*out = malloc(*outlen);
				if (!*out)
					return -ENOMEM;
				memcpy(*out, buf + (e0 - base), *outlen);
			}
		}
		break;
next:
		free(*out);
		*out = NULL;
		*outlen = 0;
	}
	return 0;
}

/* ---- CPU usage ---- */

void task_cputimes(struct task *t, uint64_t *user, uint64_t *sys)
{
	const struct platform_ops *ops = t->k->platform->ops;
	pid_t host = __atomic_load_n(&t->host_tid, __ATOMIC_SEQ_CST);
	struct timespec ts;
	clockid_t cid;
	uint64_t ns = 0;

	*user = *sys = 0;
	if (t->ctx && ops->ctx_cputime && !ops->ctx_cputime(t->ctx, &ns))
		*user = ns;
	if (host <= 0)
		return;
	if (host == (pid_t)syscall(SYS_gettid))
		cid = CLOCK_THREAD_CPUTIME_ID;
	else	/* MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED): same process */
		cid = (clockid_t)((~(unsigned int)host << 3) | 6);
	if (!clock_gettime(cid, &ts))
		*sys = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void max_update(uint64_t *p, uint64_t v)
{
	uint64_t old = __atomic_load_n(p, __ATOMIC_RELAXED);

	while (v > old && !__atomic_compare_exchange_n(p, &old, v, false,
						       __ATOMIC_RELAXED,
						       __ATOMIC_RELAXED))
		;
}

static uint64_t ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void ns_to_tv(uint64_t ns, struct timeval *tv)
{
	tv->tv_sec = (time_t)(ns / 1000000000ULL);
	tv->tv_usec = (suseconds_t)(ns % 1000000000ULL / 1000);
}

void task_account_exit_locked(struct task *t, uint64_t user, uint64_t sys,
			      uint64_t rss_kb)
{
	struct signal_group *g = t->sig.group;

	if (!g)
		return;
	__atomic_add_fetch(&g->dead_utime_ns, user, __ATOMIC_RELAXED);
	__atomic_add_fetch(&g->dead_stime_ns, sys, __ATOMIC_RELAXED);
	max_update(&g->maxrss_kb, rss_kb);
	/* Faults move to the group too (execve calls this for the old
	 * image, and the thread goes on counting from 0). */
	__atomic_add_fetch(&g->dead_min_flt,
			   __atomic_exchange_n(&t->min_flt, 0, __ATOMIC_RELAXED),
			   __ATOMIC_RELAXED);
	__atomic_add_fetch(&g->dead_maj_flt,
			   __atomic_exchange_n(&t->maj_flt, 0, __ATOMIC_RELAXED),
			   __ATOMIC_RELAXED);
}

int task_mm_fault(struct task *t, uint64_t addr, int access)
{
	uint64_t fills = mm_file_fills;
	int r = mm_fault(t->mm, addr, access);

	/* Linux counts in handle_mm_fault (mm_account_fault): major when
	 * the page needed I/O (VM_FAULT_MAJOR). */
	if (r == 0)
		__atomic_add_fetch(mm_file_fills != fills ? &t->maj_flt
							  : &t->min_flt,
				   1, __ATOMIC_RELAXED);
	return r;
}

struct sum {
	uint64_t u, s;
	uint64_t min, maj;
};

static void sum_thread(struct task *th, void *arg)
{
	struct sum *sm = arg;
	uint64_t u, s;

	if (th->exited || !th->ctx)
		return;	/* already in the dead totals */
	task_cputimes(th, &u, &s);
	sm->u += u;
	sm->s += s;
	sm->min += ld(&th->min_flt);
	sm->maj += ld(&th->maj_flt);
}

void process_rusage(struct task *t, int who, struct rusage *ru)
{
	struct signal_group *g = t->sig.group;
	struct sum sm = { 0 };
	uint64_t rss = 0;

	memset(ru, 0, sizeof(*ru));
	switch (who) {
	case RUSAGE_THREAD:
		task_cputimes(t, &sm.u, &sm.s);
		sm.min = ld(&t->min_flt);
		sm.maj = ld(&t->maj_flt);
		break;
	case RUSAGE_CHILDREN:
		sm.u = ld(&g->cutime_ns);
		sm.s = ld(&g->cstime_ns);
		ru->ru_maxrss = (long)ld(&g->cmaxrss_kb);
		ru->ru_minflt = (long)ld(&g->cmin_flt);
		ru->ru_majflt = (long)ld(&g->cmaj_flt);
		ns_to_tv(sm.u, &ru->ru_utime);
		ns_to_tv(sm.s, &ru->ru_stime);
		return;
	default:	/* RUSAGE_SELF */
		pthread_mutex_lock(&t->k->lock);
		process_for_each_thread(t, sum_thread, &sm);
		sm.u += ld(&g->dead_utime_ns);
		sm.s += ld(&g->dead_stime_ns);
		sm.min += ld(&g->dead_min_flt);
		sm.maj += ld(&g->dead_maj_flt);
		pthread_mutex_unlock(&t->k->lock);
		break;
	}
	ru->ru_minflt = (long)sm.min;
	ru->ru_majflt = (long)sm.maj;
	if (t->mm)
		rss = mm_resident(t->mm) / 1024;
	max_update(&g->maxrss_kb, rss);
	ru->ru_maxrss = (long)ld(&g->maxrss_kb);
	ns_to_tv(sm.u, &ru->ru_utime);
	ns_to_tv(sm.s, &ru->ru_stime);
}

void procinfo_cputimes(struct task *t, bool thread, uint64_t ns[4])
{
	struct signal_group *g;
	struct sum sm = { 0 };

	pthread_mutex_lock(&t->k->lock);
	g = t->sig.group;
	if (thread) {
		sum_thread(t, &sm);
	} else if (g) {
		if (t->proc)
			process_for_each_thread(t, sum_thread, &sm);
		sm.u += ld(&g->dead_utime_ns);
		sm.s += ld(&g->dead_stime_ns);
	}
	ns[0] = sm.u;
	ns[1] = sm.s;
	ns[2] = g ? ld(&g->cutime_ns) : 0;
	ns[3] = g ? ld(&g->cstime_ns) : 0;
	pthread_mutex_unlock(&t->k->lock);
}

void procinfo_faults(struct task *t, bool thread, uint64_t flt[4])
{
	struct signal_group *g;
	struct sum sm = { 0 };

	/* do_task_stat(): a thread's own counts, or the whole group's; the
	 * children's counts either way. */
	pthread_mutex_lock(&t->k->lock);
	g = t->sig.group;
	if (thread) {
		sm.min = ld(&t->min_flt);
		sm.maj = ld(&t->maj_flt);
	} else if (g) {
		if (t->proc)
			process_for_each_thread(t, sum_thread, &sm);
		sm.min += ld(&g->dead_min_flt);
		sm.maj += ld(&g->dead_maj_flt);
	}
	flt[0] = sm.min;
	flt[1] = g ? ld(&g->cmin_flt) : 0;
	flt[2] = sm.maj;
	flt[3] = g ? ld(&g->cmaj_flt) : 0;
	pthread_mutex_unlock(&t->k->lock);
}

void process_zombie_rusage(const struct process *c, struct rusage *ru)
{
	struct signal_group *g = c->leader ? c->leader->sig.group : NULL;

	memset(ru, 0, sizeof(*ru));
	if (!g)
		return;
	/* getrusage(child, RUSAGE_BOTH) as wait4 reports it. */
	ns_to_tv(ld(&g->dead_utime_ns) + ld(&g->cutime_ns), &ru->ru_utime);
	ns_to_tv(ld(&g->dead_stime_ns) + ld(&g->cstime_ns), &ru->ru_stime);
	ru->ru_maxrss = (long)MAX(ld(&g->maxrss_kb), ld(&g->cmaxrss_kb));
	ru->ru_minflt = (long)(ld(&g->dead_min_flt) + ld(&g->cmin_flt));
	ru->ru_majflt = (long)(ld(&g->dead_maj_flt) + ld(&g->cmaj_flt));
}

void process_reap_account_locked(struct process *parent, struct process *c)
{
	struct signal_group *pg, *g;

	if (!parent || !parent->leader || !c->leader)
		return;
	pg = parent->leader->sig.group;
	g = c->leader->sig.group;
	if (!pg || !g)
		return;
	__atomic_add_fetch(&pg->cutime_ns,
			   ld(&g->dead_utime_ns) + ld(&g->cutime_ns),
			   __ATOMIC_RELAXED);
	__atomic_add_fetch(&pg->cstime_ns,
			   ld(&g->dead_stime_ns) + ld(&g->cstime_ns),
			   __ATOMIC_RELAXED);
	max_update(&pg->cmaxrss_kb, MAX(ld(&g->maxrss_kb), ld(&g->cmaxrss_kb)));
	__atomic_add_fetch(&pg->cmin_flt,
			   ld(&g->dead_min_flt) + ld(&g->cmin_flt),
			   __ATOMIC_RELAXED);
	__atomic_add_fetch(&pg->cmaj_flt,
			   ld(&g->dead_maj_flt) + ld(&g->cmaj_flt),
			   __ATOMIC_RELAXED);
}

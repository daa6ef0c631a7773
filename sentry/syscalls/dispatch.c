// SPDX-License-Identifier: GPL-2.0
/*
 * System call dispatch: one table lookup on the hot path. --strace logging and
 * the once-per-name ENOSYS report are off the fast path (a flag test each).
 * The report bitmap lives in struct kernel (no global mutable state); it is
 * updated with atomic or-s so concurrent tasks need no lock.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cvisor/log.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "cvisor/util.h"

static void report_enosys(struct task *t, uint64_t nr)
{
	uint64_t bit, old;
	const char *name;

	if (nr >= SYSCALL_MAX) {
		log_debug("unknown syscall %llu: ENOSYS", (unsigned long long)nr);
		return;
	}
	bit = 1ULL << (nr % 64);
	old = __atomic_fetch_or(&t->k->enosys_reported[nr / 64], bit,
				__ATOMIC_RELAXED);
	if (old & bit)
		return;
	name = syscall_table[nr].name ? syscall_table[nr].name : "?";
	log_msg(LOG_INFO, "unimplemented syscall %s (%llu): ENOSYS", name,
		(unsigned long long)nr);
}

/* "[tid] +T name(args) = ret <D>": T the entry time (s, monotonic), D the
 * time spent in the sentry (s), as strace -ttt -T. */
static void strace_line(struct task *t, uint64_t nr, const struct syscall_args *a,
			long ret, uint64_t t0, uint64_t t1)
{
	char buf[256];
	const char *name = nr < SYSCALL_MAX && syscall_table[nr].name ?
				   syscall_table[nr].name : "unknown";
	int n;

	n = snprintf(buf, sizeof(buf),
		     "[%5d] +%llu.%06llu %s(%#llx, %#llx, %#llx, %#llx, %#llx, %#llx) = ",
		     t->tid, (unsigned long long)(t0 / 1000000000ULL),
		     (unsigned long long)(t0 % 1000000000ULL / 1000), name, (unsigned long long)a->a[0],
		     (unsigned long long)a->a[1], (unsigned long long)a->a[2],
		     (unsigned long long)a->a[3], (unsigned long long)a->a[4],
		     (unsigned long long)a->a[5]);
	if (ret < 0 && ret > -4096)
		snprintf(buf + n, sizeof(buf) - (size_t)n, "-1 %s (%s) <%.6f>\n",
			 strerrorname_np((int)-ret) ? strerrorname_np((int)-ret) : "E?",
			 strerror((int)-ret), (double)(t1 - t0) / 1e9);
	else
		snprintf(buf + n, sizeof(buf) - (size_t)n, "%#lx <%.6f>\n", ret,
			 (double)(t1 - t0) / 1e9);
	fputs(buf, stderr);
}

long syscall_dispatch(struct task *t, uint64_t nr, const struct syscall_args *a)
{
	uint64_t t0 = unlikely(cv_log.strace) ? util_now_ns() : 0;
	long ret;

	if (likely(nr < SYSCALL_MAX && syscall_table[nr].fn))
		ret = syscall_table[nr].fn(t, a);
	else {
		report_enosys(t, nr);
		ret = -ENOSYS;
	}
	if (unlikely(cv_log.strace))
		strace_line(t, nr, a, ret, t0, util_now_ns());
	return ret;
}

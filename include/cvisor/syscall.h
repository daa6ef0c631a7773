/* SPDX-License-Identifier: GPL-2.0 */
/*
 * System call dispatch. The table is generated from sentry/syscalls/syscalls.tbl
 * (nr name handler status note) into build/gen/syscall_table.c; the same file
 * generates docs/compatibility.md. Handlers return a value or -errno.
 */
#ifndef CVISOR_SYSCALL_H
#define CVISOR_SYSCALL_H

#include <stdint.h>

struct task;

struct syscall_args {
	uint64_t a[6];
};

typedef long (*syscall_fn)(struct task *t, const struct syscall_args *args);

struct syscall_entry {
	const char *name;
	syscall_fn fn; /* NULL: not implemented, -ENOSYS */
};

#define SYSCALL_MAX 512
extern const struct syscall_entry syscall_table[SYSCALL_MAX];

/* Dispatch one call: looks up the table, logs for --strace, reports an
 * unimplemented name once in the debug log. */
long syscall_dispatch(struct task *t, uint64_t nr, const struct syscall_args *a);

#define SYSCALL_DEFINE(name) \
	long sys_##name(struct task *t, const struct syscall_args *args)

/* Prototypes of every handler, generated from the table. */
#include "syscall_decls.h"

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Checks and imports of workload address ranges shared by the syscall
 * handlers (the kernel's access_ok() and import_iovec()).
 */
#ifndef CVISOR_SYSCALLS_UACCESS_H
#define CVISOR_SYSCALLS_UACCESS_H

#include <stdbool.h>
#include <stdint.h>

struct task;

/* access_ok(): the x86-64 user address limit (TASK_SIZE_MAX). */
#define USER_ADDR_MAX 0x7ffffffff000ULL
#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024
#endif

static inline bool access_ok(uint64_t addr, uint64_t len)
{
	return len <= USER_ADDR_MAX && addr <= USER_ADDR_MAX - len;
}

/* One struct iovec of the workload. */
struct uvec {
	uint64_t base;
	uint64_t len;
};

/* import_iovec(): at most UIO_MAXIOV segments, each below SSIZE_MAX and
 * inside the user range, the total clamped to MAX_RW_COUNT (segments past
 * it shortened). Returns the count with *out a malloc'd copy (NULL for 0)
 * and *total the clamped sum (when total is not NULL), or -errno. */
int import_iovec(struct task *t, uint64_t addr, uint64_t cnt,
		 struct uvec **out, uint64_t *total);

#endif

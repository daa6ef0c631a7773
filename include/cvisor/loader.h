/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ELF loading into a fresh address space (sentry/loader/).
 */
#ifndef CVISOR_LOADER_H
#define CVISOR_LOADER_H

#include <stdint.h>

#include "cvisor/platform.h"

struct file;
struct mm;
struct task;

struct loader_args {
	struct file *file;	/* the executable, opened with vfs_open_exec */
	const char *exec_path;	/* as given to execve; AT_EXECFN */
	char *const *argv;	/* host strings */
	char *const *envp;
	uint32_t uid, euid, gid, egid;
};

/* Load the ELF into mm (which must be empty), build the initial stack, set
 * the break, and fill regs (rip, rsp, zeroed rest). Returns 0 or -errno:
 * -ENOEXEC for a file that is not a loadable x86-64 ELF, -ENOMEM, -EFAULT,
 * -E2BIG for oversize argv/envp. A human-readable reason is put in errbuf. */
int loader_load(struct mm *mm, const struct loader_args *la, cpu_regs_t *regs,
		char *errbuf, size_t errlen);

#endif

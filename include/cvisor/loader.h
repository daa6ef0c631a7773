/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ELF loading into a fresh address space (sentry/loader/).
 */
#ifndef CVISOR_LOADER_H
#define CVISOR_LOADER_H

#include <stdint.h>

#include "cvisor/platform.h"
#include "cvisor/vfs.h"

struct file;
struct mm;
struct task;

struct loader_args {
	struct file *file;	/* the executable, opened with vfs_open_exec */
	const char *exec_path;	/* as given to execve; AT_EXECFN */
	char *const *argv;	/* host strings */
	char *const *envp;
	uint32_t uid, euid, gid, egid;
	/* Opens the PT_INTERP path of a dynamic executable (as written in
	 * the ELF, e.g. /lib64/ld-linux-x86-64.so.2) the way execve opens
	 * the executable, returning a referenced file (the loader puts it).
	 * In the sentry: .open_interp = loader_open_exec, .open_ctx = the
	 * task doing the exec (paths resolve against its root and cwd).
	 * NULL: dynamic executables fail with -ENOEXEC. A callback rather
	 * than a vfs call so the loader links without the vfs (unit tests,
	 * fuzzing). */
	int (*open_interp)(void *ctx, const char *path, struct file **out);
	void *open_ctx;
};

/* The open_interp of the sentry: ctx is the struct task * doing the exec. */
static inline int loader_open_exec(void *ctx, const char *path,
				   struct file **out)
{
	return vfs_open_exec((struct task *)ctx, path, out);
}

/*
 * Load the ELF into mm (which must be empty), build the initial stack, set
 * the break, and fill regs (rip, rsp, zeroed rest). Returns 0 or -errno:
 * -ENOEXEC for a file that is not a loadable x86-64 ELF, -ELIBBAD for an
 * interpreter that is not one, the open error of a missing interpreter
 * (-ENOENT, -EACCES), -ENOMEM, -EFAULT, -E2BIG for oversize argv/envp. A
 * human-readable reason is put in errbuf.
 *
 * Dynamic executables (PT_INTERP): the executable is mapped at its own
 * addresses (ET_EXEC) or at 0x555555554000 (PIE), the interpreter where
 * mmap places it (below the mmap base); the process starts at the
 * interpreter's entry with AT_BASE = its load address and AT_PHDR,
 * AT_ENTRY describing the executable, as fs/binfmt_elf.c does.
 *
 * The initial stack is a growsdown VMA of the argument pages plus 128 KiB
 * (setup_arg_pages); it grows on faults up to RLIMIT_STACK (8 MiB, see
 * mm_set_stack_rlimit).
 *
 * execve (fs/exec.c) with this: build the new image in a fresh mm and swap
 * only when loading succeeded, so a failed exec leaves the caller intact:
 *
 *	struct mm *nmm;
 *	struct loader_args la = { .file = exe, .exec_path = path,
 *		.argv = argv, .envp = envp, .uid = ..., .open_interp =
 *		loader_open_exec, .open_ctx = t };
 *	err = mm_new(k->mf, k->platform, &nmm);
 *	if (!err)
 *		err = loader_load(nmm, &la, &regs, errbuf, sizeof(errbuf));
 *	if (err) {
 *		mm_put(nmm);		// NULL-safe; nothing else was touched
 *		return err;		// the old mm still runs
 *	}
 *	// point of no return: kill other threads, then
 *	new ctx = ctx_new(mm_platform_as(nmm)); release the old ctx;
 *	old = t->mm; t->mm = nmm; mm_put(old); t->regs = regs;
 *
 * loader_load only touches the mm it is given and takes file references
 * of its own (dropped when the mm goes), so mm_put of a half-loaded mm
 * releases everything. argv/envp must be host copies made before the swap
 * (they live in the old mm).
 */
int loader_load(struct mm *mm, const struct loader_args *la, cpu_regs_t *regs,
		char *errbuf, size_t errlen);

#endif

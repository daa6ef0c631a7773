/* SPDX-License-Identifier: GPL-2.0 */
/* Internals shared by sentry/loader/elf.c and stack.c. */
#ifndef CVISOR_LOADER_IMPL_H
#define CVISOR_LOADER_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "cvisor/loader.h"

/* Linux's default RLIMIT_STACK (8 MiB) and exec limits (fs/exec.c). */
#define LOADER_STACK_SIZE (8ULL << 20)
#define LOADER_MAX_ARG_STRLEN (32 * 4096)	/* MAX_ARG_STRLEN */
#define LOADER_ARG_MAX (LOADER_STACK_SIZE / 4)	/* _STK_LIM / 4 */

/* What create_elf_tables needs to know about the loaded image. */
struct loader_image {
	uint64_t entry;		/* AT_ENTRY: the executable's entry */
	uint64_t phdr;		/* AT_PHDR */
	uint64_t phnum;		/* AT_PHNUM */
	uint64_t base;		/* AT_BASE: interpreter load address or 0 */
};

/* Check argv/envp against exec's limits before anything is mapped. */
int loader_check_args(const struct loader_args *la, char *errbuf,
		      size_t errlen);
/* Write strings, AT_RANDOM, auxv, envp, argv and argc below stack_top;
 * returns the initial rsp in *sp. */
int loader_build_stack(struct mm *mm, const struct loader_args *la,
		       const struct loader_image *img, uint64_t stack_top,
		       uint64_t *sp, char *errbuf, size_t errlen);

int loader_fail(char *errbuf, size_t errlen, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif

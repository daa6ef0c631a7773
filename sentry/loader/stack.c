// SPDX-License-Identifier: GPL-2.0
/*
 * The initial process stack, laid out as fs/exec.c and fs/binfmt_elf.c
 * (create_elf_tables) do on x86-64, from the top down:
 *
 *   8 zero bytes                           (end marker)
 *   AT_EXECFN string
 *   envp strings, argv strings             (argv[0] lowest)
 *   -- aligned to 16 --
 *   "x86_64"                               (AT_PLATFORM)
 *   16 random bytes                        (AT_RANDOM)
 *   -- aligned to 16 so that rsp is --
 *   auxv pairs ... AT_NULL
 *   NULL, envp[envc-1] ... envp[0]
 *   NULL, argv[argc-1] ... argv[0]
 *   argc                                   <- rsp, 16-byte aligned
 *
 * Everything is built in one host buffer and written with one mm_copy_out.
 *
 * Locks: none (mm_copy_out takes mm->lock). References: none kept.
 */
#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <time.h>

#include "cvisor/mm.h"
#include "cvisor/util.h"
#include "loader_impl.h"

#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif

int loader_fail(char *errbuf, size_t errlen, int err, const char *fmt, ...)
{
	va_list ap;

	if (errbuf && errlen) {
		va_start(ap, fmt);
		vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	return err;
}

static size_t vec_count(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

int loader_check_args(const struct loader_args *la, char *errbuf,
		      size_t errlen)
{
	char *const *vecs[2] = { la->argv, la->envp };
	uint64_t total = 0;

	/* fs/exec.c: each string at most MAX_ARG_STRLEN, and strings plus
	 * their pointers at most a quarter of the stack limit. */
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; vecs[k] && vecs[k][i]; i++) {
			size_t l = strnlen(vecs[k][i], LOADER_MAX_ARG_STRLEN) + 1;

			if (l > LOADER_MAX_ARG_STRLEN)
				return loader_fail(errbuf, errlen, -E2BIG,
						   "%s string %zu is too long",
						   k ? "environment" : "argument", i);
			total += l + sizeof(uint64_t);
			if (total > LOADER_ARG_MAX)
				return loader_fail(errbuf, errlen, -E2BIG,
						   "argument list too long");
		}
	}
	return 0;
}

static uint64_t hwcap(void)
{
	unsigned int a, b, c, d;

	/* x86's ELF_HWCAP is CPUID.1:EDX. */
	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	return d;
}

static uint64_t minsigstksz(void)
{
	/* The sentry runs on the same CPU (and XSAVE layout) as the workload,
	 * so the host kernel's value is the right one. */
	uint64_t v = getauxval(AT_MINSIGSTKSZ);

	return v ? v : 2048;
}

static void random_bytes(uint8_t out[16])
{
	size_t got = 0;

	while (got < 16) {
		ssize_t r = getrandom(out + got, 16 - got, 0);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got < 16) {
		/* Not reachable on a sane host; never leave it predictable
		 * zeros though. */
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		for (size_t i = got; i < 16; i++)
			out[i] = (uint8_t)((uint64_t)ts.tv_nsec >> (i % 8 * 8)) ^
				 (uint8_t)i;
	}
}

/* The platform's vDSO (the same in every address space of a platform), or
 * 0. An mm without a platform address space (unit tests) has none. */
static uint64_t loader_vdso_base(struct mm *mm)
{
	struct platform_as *as = mm_platform_as(mm);
	const struct platform_vdso *v;

	if (!as || !as->p || !as->p->ops->vdso)
		return 0;
	v = as->p->ops->vdso(as->p);
	return v ? v->base : 0;
}

int loader_build_stack(struct mm *mm, const struct loader_args *la,
		       const struct loader_image *img, uint64_t stack_top,
		       uint64_t *sp_out, char *errbuf, size_t errlen)
{
	static const char platform[] = "x86_64";
	size_t argc = vec_count(la->argv), envc = vec_count(la->envp);
	const char *execfn = la->exec_path ? la->exec_path :
			     argc ? la->argv[0] : "";
	uint64_t strings = 0, p, sp, execfn_addr, plat_addr, rand_addr;
	uint64_t vdso_base = loader_vdso_base(mm);
	uint64_t auxv[2 * 32], *w;
	size_t nauxv = 0, items, size;
	_cleanup_free_ uint8_t *buf = NULL;
	uint8_t rnd[16];
	int err;

	for (size_t i = 0; i < argc; i++)
		strings += strlen(la->argv[i]) + 1;
	for (size_t i = 0; i < envc; i++)
		strings += strlen(la->envp[i]) + 1;
	if (strlen(execfn) + 1 > LOADER_MAX_ARG_STRLEN)
		return loader_fail(errbuf, errlen, -E2BIG, "exec path too long");

	p = stack_top - sizeof(uint64_t);
	p -= strlen(execfn) + 1;
	execfn_addr = p;
	p -= strings;
	/* arch_align_stack without randomisation. */
	p &= ~15ULL;
	p -= sizeof(platform);
	plat_addr = p;
	p -= sizeof(rnd);
	rand_addr = p;

#define AUX(k, v)                                                              \
	do {                                                                   \
		auxv[nauxv++] = (k);                                           \
		auxv[nauxv++] = (v);                                           \
	} while (0)
	/* The order of create_elf_tables: x86's ARCH_DLINFO first, with
	 * AT_SYSINFO_EHDR only when there is a vDSO (vdso64_enabled). */
	if (vdso_base)
		AUX(AT_SYSINFO_EHDR, vdso_base);
	AUX(AT_MINSIGSTKSZ, minsigstksz());
	AUX(AT_HWCAP, hwcap());
	AUX(AT_PAGESZ, PAGE_SIZE);
	AUX(AT_CLKTCK, 100);
	AUX(AT_PHDR, img->phdr);
	AUX(AT_PHENT, sizeof(Elf64_Phdr));
	AUX(AT_PHNUM, img->phnum);
	AUX(AT_BASE, img->base);
	AUX(AT_FLAGS, 0);
	AUX(AT_ENTRY, img->entry);
	AUX(AT_UID, la->uid);
	AUX(AT_EUID, la->euid);
	AUX(AT_GID, la->gid);
	AUX(AT_EGID, la->egid);
	AUX(AT_SECURE, 0);
	AUX(AT_RANDOM, rand_addr);
	/* ELF_HWCAP2 bits (ring3mwait, fsgsbase) depend on the platform
	 * (ptrace vs KVM); advertise none. */
	AUX(AT_HWCAP2, 0);
	AUX(AT_EXECFN, execfn_addr);
	AUX(AT_PLATFORM, plat_addr);
	AUX(AT_NULL, 0);
#undef AUX

	/* STACK_ROUND: rsp (at argc) 16-byte aligned. */
	items = 1 + (argc + 1) + (envc + 1) + nauxv;
	sp = (p - items * sizeof(uint64_t)) & ~15ULL;
	size = (size_t)(stack_top - sp);
	if (size > LOADER_STACK_SIZE / 2)
		return loader_fail(errbuf, errlen, -E2BIG,
				   "argument list too long");
	buf = calloc(1, size);
	if (!buf)
		return -ENOMEM;

#define AT(addr) (buf + ((addr) - sp))
	/* Strings: argv then envp ascending, execfn above them. */
	{
		uint64_t s = execfn_addr - strings;

		w = (uint64_t *)AT(sp);
		*w++ = argc;
		for (size_t i = 0; i < argc; i++) {
			size_t l = strlen(la->argv[i]) + 1;

			memcpy(AT(s), la->argv[i], l);
			*w++ = s;
			s += l;
		}
		*w++ = 0;
		for (size_t i = 0; i < envc; i++) {
			size_t l = strlen(la->envp[i]) + 1;

			memcpy(AT(s), la->envp[i], l);
			*w++ = s;
			s += l;
		}
		*w++ = 0;
		memcpy(w, auxv, nauxv * sizeof(uint64_t));
	}
	memcpy(AT(execfn_addr), execfn, strlen(execfn) + 1);
	memcpy(AT(plat_addr), platform, sizeof(platform));
	random_bytes(rnd);
	memcpy(AT(rand_addr), rnd, sizeof(rnd));
#undef AT

	err = mm_copy_out(mm, sp, buf, size);
	if (err)
		return loader_fail(errbuf, errlen, err,
				   "cannot write the initial stack");
	{
		/* For /proc/PID/{exe,cmdline,environ} (mm->arg_start...). */
		struct mm_args ma = { .arg_start = execfn_addr - strings,
				      .env_end = execfn_addr };

		ma.arg_end = ma.arg_start;
		for (size_t i = 0; i < argc; i++)
			ma.arg_end += strlen(la->argv[i]) + 1;
		ma.env_start = ma.arg_end;
		mm_set_exec(mm, la->file, &ma);
	}
	*sp_out = sp;
	return 0;
}

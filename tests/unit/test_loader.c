// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for sentry/loader: a real static binary (busybox-static), a
 * static PIE built here with gcc -static-pie, a dynamic binary with the
 * host's ld.so as its interpreter, corrupted ELFs and a header fuzz loop. Runs against the fake
 * platform and a fake vfs whose files are memory buffers (with an optional
 * patched prefix, so fuzzing does not copy whole binaries).
 */
#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cvisor/loader.h"
#include "cvisor/mm.h"
#include "cvisor/util.h"
#include "cvisor/vfs.h"
#include "fake_platform.h"

#include "fake_vfs.h"

/* ---- helpers ---- */
static struct memfile *mf;

static uint8_t *slurp(const char *path, size_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *b;

	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	b = malloc((size_t)st.st_size + 1);
	if (!b || util_read_all(fd, b, (size_t)st.st_size) != st.st_size) {
		free(b);
		close(fd);
		return NULL;
	}
	close(fd);
	*size = (size_t)st.st_size;
	return b;
}

static char *const test_argv[] = { "prog", "arg one", "", "last", NULL };
static char *const test_envp[] = { "A=1", "PATH=/bin:/usr/bin", NULL };

/* The interpreter opener loads use (NULL: none, like a bare caller). */
static int (*test_open_interp)(void *ctx, const char *path, struct file **out);
static void *test_open_ctx;

static int load(struct file *f, struct mm **mmp, cpu_regs_t *regs, char *err,
		size_t errlen)
{
	struct loader_args la = {
		.file = f, .exec_path = "/bin/prog", .argv = test_argv,
		.envp = test_envp, .uid = 1000, .euid = 1001, .gid = 1002,
		.egid = 1003, .open_interp = test_open_interp,
		.open_ctx = test_open_ctx,
	};

	if (mm_new(mf, &fake_platform, mmp))
		abort();
	return loader_load(*mmp, &la, regs, err, errlen);
}

static int read_str(struct mm *mm, uint64_t addr, char *out, size_t max)
{
	return mm_strncpy_in(mm, out, addr, max) >= 0;
}

/* Check the initial stack against the Linux ABI. */
static void check_stack(struct mm *mm, const cpu_regs_t *regs,
			const uint8_t *file, const char *what)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)file;
	uint64_t sp = regs->rsp, v, aux[64][2] = { { 0 } };
	uint64_t at[64] = { 0 };
	char s[256];
	int ok, n = 0;

	tap_ok((sp & 15) == 0, "%s: rsp is 16-byte aligned", what);
	tap_ok(mm_copy_in(mm, &v, sp, 8) == 0 && v == 4, "%s: argc", what);
	ok = 1;
	for (int i = 0; i < 4; i++) {
		ok &= mm_copy_in(mm, &v, sp + 8 + 8 * (uint64_t)i, 8) == 0 &&
		      read_str(mm, v, s, sizeof(s)) && !strcmp(s, test_argv[i]);
	}
	ok &= mm_copy_in(mm, &v, sp + 8 + 8 * 4, 8) == 0 && v == 0;
	tap_ok(ok, "%s: argv strings and NULL", what);
	ok = 1;
	for (int i = 0; i < 2; i++)
		ok &= mm_copy_in(mm, &v, sp + 48 + 8 * (uint64_t)i, 8) == 0 &&
		      read_str(mm, v, s, sizeof(s)) && !strcmp(s, test_envp[i]);
	ok &= mm_copy_in(mm, &v, sp + 48 + 16, 8) == 0 && v == 0;
	tap_ok(ok, "%s: envp strings and NULL", what);
	for (uint64_t p = sp + 48 + 24; n < 64; p += 16, n++) {
		if (mm_copy_in(mm, aux[n], p, 16))
			break;
		if (aux[n][0] < 64)
			at[aux[n][0]] = aux[n][1];
		if (aux[n][0] == AT_NULL)
			break;
	}
	tap_ok(n < 64 && aux[n][0] == AT_NULL, "%s: auxv ends with AT_NULL (%d entries)",
	       what, n);
	tap_ok(aux[0][0] == AT_MINSIGSTKSZ && aux[1][0] == AT_HWCAP &&
		       aux[2][0] == AT_PAGESZ,
	       "%s: auxv starts like Linux's (MINSIGSTKSZ, HWCAP, PAGESZ)", what);
	tap_ok(at[AT_PAGESZ] == 4096 && at[AT_CLKTCK] == 100 &&
		       at[AT_PHENT] == sizeof(Elf64_Phdr) &&
		       at[AT_PHNUM] == eh->e_phnum && at[AT_BASE] == 0 &&
		       at[AT_SECURE] == 0 && at[AT_FLAGS] == 0,
	       "%s: AT_PAGESZ/CLKTCK/PHENT/PHNUM/BASE/SECURE/FLAGS", what);
	tap_ok(at[AT_UID] == 1000 && at[AT_EUID] == 1001 && at[AT_GID] == 1002 &&
		       at[AT_EGID] == 1003, "%s: credentials", what);
	tap_ok(at[AT_ENTRY] == regs->rip, "%s: AT_ENTRY is rip", what);
	{
		unsigned int a = 0, b = 0, c = 0, d = 0;

		__get_cpuid(1, &a, &b, &c, &d);
		tap_ok(at[AT_HWCAP] == d, "%s: AT_HWCAP is CPUID.1:EDX", what);
	}
	{
		uint8_t ph[sizeof(Elf64_Phdr)];

		tap_ok(at[AT_PHDR] && mm_copy_in(mm, ph, at[AT_PHDR], sizeof(ph)) == 0 &&
			       !memcmp(ph, file + eh->e_phoff, sizeof(ph)),
		       "%s: AT_PHDR points at the program headers in memory", what);
	}
	{
		uint8_t r[16];

		tap_ok(at[AT_RANDOM] && mm_copy_in(mm, r, at[AT_RANDOM], 16) == 0,
		       "%s: AT_RANDOM is readable", what);
	}
	tap_ok(read_str(mm, at[AT_EXECFN], s, sizeof(s)) && !strcmp(s, "/bin/prog"),
	       "%s: AT_EXECFN", what);
	tap_ok(read_str(mm, at[AT_PLATFORM], s, sizeof(s)) && !strcmp(s, "x86_64"),
	       "%s: AT_PLATFORM", what);
	/* The execfn string ends 8 bytes below the top (end marker). */
	tap_ok(at[AT_EXECFN] + sizeof("/bin/prog") + 8 == mm_stack_top(mm),
	       "%s: strings at the top of the stack", what);
	tap_ok(regs->eflags == 0x202 && regs->cs == 0x33 && regs->ss == 0x2b &&
		       regs->rax == 0 && regs->rdi == 0 && regs->fs_base == 0,
	       "%s: registers", what);
}

static void check_image(struct mm *mm, const cpu_regs_t *regs,
			const uint8_t *file, uint64_t bias, const char *what)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)file;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(file + eh->e_phoff);
	uint64_t end = 0;
	int ok = 1;

	tap_ok(regs->rip == eh->e_entry + bias, "%s: rip is the entry (%#llx)",
	       what, (unsigned long long)regs->rip);
	for (int i = 0; i < eh->e_phnum; i++) {
		uint8_t b[64], z[64] = { 0 };
		uint64_t len;

		if (ph[i].p_type != PT_LOAD)
			continue;
		end = MAX(end, ph[i].p_vaddr + bias + ph[i].p_memsz);
		len = MIN(ph[i].p_filesz, sizeof(b));
		if (len)
			ok &= mm_copy_in(mm, b, ph[i].p_vaddr + bias, len) == 0 &&
			      !memcmp(b, file + ph[i].p_offset, len);
		/* The bss reads as zero, also the tail of the file page. */
		if (ph[i].p_memsz > ph[i].p_filesz) {
			len = MIN(ph[i].p_memsz - ph[i].p_filesz, sizeof(b));
			ok &= mm_copy_in(mm, b, ph[i].p_vaddr + bias + ph[i].p_filesz,
					 len) == 0 && !memcmp(b, z, len);
		}
	}
	tap_ok(ok, "%s: segments hold the file contents, bss is zero", what);
	tap_ok(mm_brk(mm, 0) == PAGE_ALIGN_UP(end), "%s: the break starts after the image",
	       what);
	tap_ok(mm_fault(mm, regs->rip, PROT_EXEC) == 0, "%s: entry is executable", what);
}

/* ---- tests ---- */

static void test_busybox(void)
{
	size_t size;
	uint8_t *bb = slurp("/bin/busybox", &size);
	struct file f = { 0 };
	struct mm *mm;
	cpu_regs_t regs;
	char err[256];
	int r;

	if (!bb) {
		tap_ok(1, "# SKIP /bin/busybox not installed");
		return;
	}
	f.data = bb;
	f.size = size;
	f.refs = 1;
	r = load(&f, &mm, &regs, err, sizeof(err));
	tap_ok(r == 0, "busybox loads (%d %s)", r, err);
	if (!r) {
		check_image(mm, &regs, bb, 0, "busybox");
		check_stack(mm, &regs, bb, "busybox");
		{
			char maps[4096];

			mm_dump_maps(mm, maps, sizeof(maps));
			tap_ok(strstr(maps, "[stack]") != NULL, "busybox: maps show [stack]");
		}
	}
	mm_destroy(mm);
	tap_ok(f.refs == 1, "busybox: all file references dropped");
	free(bb);
}

static void test_static_pie(void)
{
	char dir[] = "/tmp/cvisor-loader-XXXXXX", src[128], bin[128], cmd[512];
	struct file f = { 0 };
	uint8_t *b;
	size_t size;
	struct mm *mm;
	cpu_regs_t regs;
	char err[256];
	FILE *fp;
	int r;

	if (!mkdtemp(dir)) {
		tap_ok(0, "mkdtemp");
		return;
	}
	snprintf(src, sizeof(src), "%s/pie.c", dir);
	snprintf(bin, sizeof(bin), "%s/pie", dir);
	fp = fopen(src, "w");
	if (!fp) {
		tap_ok(0, "write pie.c");
		return;
	}
	fputs("#include <stdio.h>\nint zero[4096];\n"
	      "int main(int c, char **v) { printf(\"%d %s\\n\", c, v[0]);"
	      " return zero[17]; }\n", fp);
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "gcc -O1 -static-pie -fPIE -o %s %s", bin, src);
	if (system(cmd) != 0) {
		tap_ok(1, "# SKIP gcc -static-pie unavailable");
		return;
	}
	b = slurp(bin, &size);
	unlink(bin);
	unlink(src);
	rmdir(dir);
	if (!b) {
		tap_ok(0, "read the static PIE");
		return;
	}
	tap_ok(((Elf64_Ehdr *)b)->e_type == ET_DYN, "static-pie is ET_DYN");
	f.data = b;
	f.size = size;
	f.refs = 1;
	r = load(&f, &mm, &regs, err, sizeof(err));
	tap_ok(r == 0, "static PIE loads (%d %s)", r, err);
	if (!r) {
		uint64_t bias = regs.rip - ((Elf64_Ehdr *)b)->e_entry;

		tap_ok(bias == 0x555555554000ULL, "static PIE at ELF_ET_DYN_BASE (%#llx)",
		       (unsigned long long)bias);
		check_image(mm, &regs, b, bias, "static-pie");
		check_stack(mm, &regs, b, "static-pie");
	}
	mm_destroy(mm);
	free(b);
}

/* An interpreter opener serving a host file (or canned bytes/an error). */
struct interp_ctx {
	char path[256];
	int err;		/* returned instead of opening */
	struct file f;		/* refs: ours 1 + the loader's while open */
	uint8_t *data;
};

static int fake_open_interp(void *ctx, const char *path, struct file **out)
{
	struct interp_ctx *c = ctx;

	snprintf(c->path, sizeof(c->path), "%s", path);
	if (c->err)
		return c->err;
	if (!c->f.data) {
		c->data = slurp(path, &c->f.size);
		if (!c->data)
			return -ENOENT;
		c->f.data = c->data;
	}
	c->f.refs++;
	*out = &c->f;
	return 0;
}

static void read_auxv(struct mm *mm, uint64_t sp, uint64_t at[64])
{
	uint64_t v, p = sp + 8, pair[2];

	memset(at, 0, 64 * sizeof(uint64_t));
	/* Skip argv and envp (each NULL-terminated). */
	for (int k = 0; k < 2; k++)
		do {
			if (mm_copy_in(mm, &v, p, 8))
				return;
			p += 8;
		} while (v);
	for (int n = 0; n < 64; n++, p += 16) {
		if (mm_copy_in(mm, pair, p, 16) || pair[0] == AT_NULL)
			return;
		if (pair[0] < 64)
			at[pair[0]] = pair[1];
	}
}

static void test_dynamic(void)
{
	size_t size;
	uint8_t *b = slurp("/bin/true", &size);
	struct interp_ctx ic = { .f.refs = 1 };
	struct file f = { 0 };
	struct mm *mm;
	cpu_regs_t regs;
	uint64_t at[64];
	char err[256] = "", maps[8192];
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)b, *ieh;
	int r;

	if (!b) {
		tap_ok(1, "# SKIP no /bin/true");
		return;
	}
	f.data = b;
	f.size = size;
	f.refs = 1;
	tap_ok(load(&f, &mm, &regs, err, sizeof(err)) == -ENOEXEC &&
		       strstr(err, "interpreter"),
	       "dynamic executable without an opener: ENOEXEC (%s)", err);
	mm_destroy(mm);
	tap_ok(f.refs == 1, "dynamic: no reference leaked");

	test_open_interp = fake_open_interp;
	test_open_ctx = &ic;
	r = load(&f, &mm, &regs, err, sizeof(err));
	tap_ok(r == 0, "dynamic /bin/true loads with its interpreter (%d %s)", r,
	       err);
	tap_ok(!strcmp(ic.path, "/lib64/ld-linux-x86-64.so.2"),
	       "the interpreter opened is PT_INTERP (%s)", ic.path);
	if (!r && ic.data) {
		uint64_t base;
		uint8_t hdr[64];

		ieh = (const Elf64_Ehdr *)ic.data;
		read_auxv(mm, regs.rsp, at);
		base = at[AT_BASE];
		tap_ok(base && !(base & (PAGE_SIZE - 1)) && base < mm_mmap_base(mm) &&
			       base > mm_mmap_base(mm) - (64ULL << 20),
		       "AT_BASE %#llx: page aligned, just below the mmap base",
		       (unsigned long long)base);
		tap_ok(regs.rip == base + ieh->e_entry,
		       "rip is the interpreter's entry");
		tap_ok(at[AT_ENTRY] == 0x555555554000ULL + eh->e_entry,
		       "AT_ENTRY is the PIE's entry at 0x555555554000");
		tap_ok(at[AT_PHDR] && mm_copy_in(mm, hdr, at[AT_PHDR], sizeof(Elf64_Phdr)) == 0 &&
			       !memcmp(hdr, b + eh->e_phoff, sizeof(Elf64_Phdr)) &&
			       at[AT_PHNUM] == eh->e_phnum,
		       "AT_PHDR/AT_PHNUM describe the executable");
		tap_ok(mm_copy_in(mm, hdr, base, sizeof(hdr)) == 0 &&
			       !memcmp(hdr, ic.data, sizeof(hdr)),
		       "the interpreter's first page is mapped at AT_BASE");
		tap_ok(mm_copy_in(mm, hdr, 0x555555554000ULL, sizeof(hdr)) == 0 &&
			       !memcmp(hdr, b, sizeof(hdr)),
		       "the executable is mapped at 0x555555554000");
		tap_ok(mm_fault(mm, regs.rip, PROT_EXEC) == 0,
		       "the interpreter's entry is executable");
		tap_ok(mm_brk(mm, 0) > 0x555555554000ULL &&
			       mm_brk(mm, 0) < 0x555555554000ULL + (16ULL << 20),
		       "the break follows the executable, not the interpreter");
		mm_dump_maps(mm, maps, sizeof(maps));
		{
			char *l = strstr(maps, "[stack]");
			unsigned long long s0 = 0, e0 = 0;

			while (l && l > maps && l[-1] != '\n')
				l--;
			if (!l || sscanf(l, "%llx-%llx", &s0, &e0) != 2)
				s0 = e0 = 0;
			tap_ok(e0 - s0 <= (256ULL << 10) && e0 - s0 >= (128ULL << 10),
			       "the initial stack VMA is small (%llu KiB)",
			       (e0 - s0) >> 10);
			tap_ok(mm_fault(mm, e0 - (8ULL << 20), PROT_WRITE) == 0 &&
				       mm_fault(mm, e0 - (8ULL << 20) - PAGE_SIZE,
						PROT_WRITE) == -EFAULT,
			       "the stack grows to 8 MiB and no further");
		}
	}
	mm_destroy(mm);
	tap_ok(f.refs == 1 && ic.f.refs == 1,
	       "dynamic: all file references dropped (exe %d, interp %d)", f.refs,
	       ic.f.refs);

	/* Interpreter failures. */
	ic.err = -ENOENT;
	tap_ok(load(&f, &mm, &regs, err, sizeof(err)) == -ENOENT && mm_is_empty(mm),
	       "missing interpreter: ENOENT, nothing mapped (%s)", err);
	mm_destroy(mm);
	ic.err = 0;
	free(ic.data);
	ic.data = NULL;
	ic.f.data = (const uint8_t *)"#!/bin/sh\necho not an ELF at all\n";
	ic.f.size = strlen((const char *)ic.f.data);
	tap_ok(load(&f, &mm, &regs, err, sizeof(err)) == -ELIBBAD,
	       "interpreter that is not an ELF: ELIBBAD (%s)", err);
	mm_destroy(mm);
	ic.f.data = b; /* an executable, not a shared object: still loads */
	ic.f.size = size;
	r = load(&f, &mm, &regs, err, sizeof(err));
	tap_ok(r == 0 || r == -ELIBBAD, "an odd interpreter fails cleanly or loads (%d %s)",
	       r, err);
	mm_destroy(mm);
	tap_ok(f.refs == 1 && ic.f.refs == 1,
	       "interpreter failures: no reference leaked");
	test_open_interp = NULL;
	test_open_ctx = NULL;
	free(b);
}

static void test_e2big(void)
{
	static uint8_t dummy[64];
	struct file f = { .data = dummy, .size = sizeof(dummy), .refs = 1 };
	char *big = malloc(200 * 1024), err[256];
	char *argv[] = { "x", big, NULL };
	struct loader_args la = { .file = &f, .argv = argv, .envp = test_envp };
	char **many = calloc(40001, sizeof(char *));
	cpu_regs_t regs;
	struct mm *mm;

	memset(big, 'a', 200 * 1024 - 1);
	big[200 * 1024 - 1] = 0;
	mm_new(mf, &fake_platform, &mm);
	tap_ok(loader_load(mm, &la, &regs, err, sizeof(err)) == -E2BIG,
	       "an argument over MAX_ARG_STRLEN: E2BIG");
	big[100 * 1024] = 0;
	for (int i = 0; i < 40000; i++)
		many[i] = big + 50 * 1024;
	la.argv = many;
	tap_ok(loader_load(mm, &la, &regs, err, sizeof(err)) == -E2BIG,
	       "argv over the total limit: E2BIG");
	mm_destroy(mm);
	free(many);
	free(big);
}

/* Corruptions of busybox's headers (patched prefix of the file). */
static uint8_t *bb_data;
static size_t bb_size;
static uint8_t patch[8192];

static int try_patched(size_t size, char *err, size_t errlen)
{
	struct file f = { .data = bb_data, .size = size, .patch = patch,
			  .patch_len = sizeof(patch), .refs = 1 };
	cpu_regs_t regs;
	struct mm *mm;
	int r;

	err[0] = 0;
	r = load(&f, &mm, &regs, err, errlen);
	mm_destroy(mm);
	if (f.refs != 1)
		return -9999;
	return r;
}

static Elf64_Ehdr *P_EH(void)
{
	return (Elf64_Ehdr *)patch;
}

static Elf64_Phdr *P_PH(int i)
{
	return (Elf64_Phdr *)(patch + P_EH()->e_phoff) + i;
}

static int first_load(void)
{
	for (int i = 0; i < P_EH()->e_phnum; i++)
		if (P_PH(i)->p_type == PT_LOAD)
			return i;
	return -1;
}

static int next_load(int i)
{
	for (i++; i < P_EH()->e_phnum; i++)
		if (P_PH(i)->p_type == PT_LOAD)
			return i;
	return -1;
}

#define CORRUPT(desc, size, stmt)                                              \
	do {                                                                   \
		char err_[256];                                                \
		int r_;                                                        \
		memcpy(patch, bb_data, sizeof(patch));                         \
		stmt;                                                          \
		r_ = try_patched(size, err_, sizeof(err_));                    \
		tap_ok(r_ == -ENOEXEC && err_[0], "corrupt ELF, %s: ENOEXEC (%s)", \
		       desc, err_);                                            \
	} while (0)

static void test_corrupt(void)
{
	int l0, l1;

	bb_data = slurp("/bin/busybox", &bb_size);
	if (!bb_data || bb_size < sizeof(patch) ||
	    P_EH()->e_phoff + P_EH()->e_phnum * sizeof(Elf64_Phdr) > sizeof(patch)) {
		tap_ok(1, "# SKIP no usable /bin/busybox");
		return;
	}
	memcpy(patch, bb_data, sizeof(patch));
	l0 = first_load();
	l1 = next_load(l0);
	CORRUPT("empty", 0, (void)0);
	CORRUPT("truncated header", 40, (void)0);
	CORRUPT("truncated before the phdrs end", 100, (void)0);
	CORRUPT("bad magic", bb_size, patch[1] = 'X');
	CORRUPT("32-bit class", bb_size, patch[EI_CLASS] = ELFCLASS32);
	CORRUPT("big endian", bb_size, patch[EI_DATA] = ELFDATA2MSB);
	CORRUPT("wrong machine", bb_size, P_EH()->e_machine = EM_AARCH64);
	CORRUPT("ET_REL", bb_size, P_EH()->e_type = ET_REL);
	CORRUPT("bad phentsize", bb_size, P_EH()->e_phentsize = 12);
	CORRUPT("no phdrs", bb_size, P_EH()->e_phnum = 0);
	CORRUPT("too many phdrs", bb_size, P_EH()->e_phnum = 0xffff);
	CORRUPT("phoff past EOF", bb_size, P_EH()->e_phoff = bb_size - 8);
	CORRUPT("phoff overflowing", bb_size, P_EH()->e_phoff = -16ULL);
	CORRUPT("filesz > memsz", bb_size,
		P_PH(l0)->p_filesz = P_PH(l0)->p_memsz + 1);
	CORRUPT("segment past EOF", bb_size, P_PH(l1)->p_offset = bb_size);
	CORRUPT("segment offset overflowing", bb_size,
		P_PH(l1)->p_offset = -4096ULL);
	CORRUPT("huge p_memsz", bb_size, P_PH(l1)->p_memsz = 1ULL << 46);
	CORRUPT("p_memsz wrapping", bb_size, P_PH(l1)->p_memsz = -4096ULL);
	CORRUPT("overlapping segments", bb_size,
		P_PH(l1)->p_vaddr = P_PH(l0)->p_vaddr;
		P_PH(l1)->p_offset = P_PH(l0)->p_offset);
	CORRUPT("vaddr/offset incongruent", bb_size, P_PH(l1)->p_vaddr += 8);
	CORRUPT("alignment not a power of two", bb_size,
		P_PH(l1)->p_align = 0x3000);
	CORRUPT("entry outside the segments", bb_size, P_EH()->e_entry = 0x1000);
	CORRUPT("segment in the kernel half", bb_size,
		P_PH(l1)->p_vaddr = 0xffff800000000000ULL;
		P_PH(l1)->p_offset = 0);
	CORRUPT("segment at page 0", bb_size,
		P_PH(l0)->p_vaddr = 0; P_PH(l0)->p_offset = 0;
		P_EH()->e_entry = 0x100);
	CORRUPT("no PT_LOAD", bb_size,
		for (int i = 0; i < P_EH()->e_phnum; i++)
			if (P_PH(i)->p_type == PT_LOAD)
				P_PH(i)->p_type = PT_NOTE);
}

/* Random corruption of the header bytes: any result but a crash or leak. */
static void test_fuzz(void)
{
	int crashes = 0, loaded = 0;
	size_t hdr;

	if (!bb_data)
		return;
	hdr = P_EH()->e_phoff + P_EH()->e_phnum * sizeof(Elf64_Phdr);
	srand(7);
	for (int i = 0; i < 3000; i++) {
		char err[256];
		int r;

		memcpy(patch, bb_data, sizeof(patch));
		for (int k = rand() % 4 + 1; k; k--) {
			size_t at = (size_t)rand() % hdr;

			patch[at] = rand() % 3 ? (uint8_t)rand() : (uint8_t)(patch[at] ^ 0x80);
		}
		r = try_patched(bb_size, err, sizeof(err));
		if (r == -9999 || r > 0)
			crashes++;
		loaded += r == 0;
	}
	tap_ok(!crashes, "3000 fuzzed headers: no crash, no leak (%d still loaded)",
	       loaded);
}

int main(void)
{
	if (memfile_new(1ULL << 30, &mf)) {
		printf("Bail out! memfile_new\n");
		return 1;
	}
	test_busybox();
	test_static_pie();
	test_dynamic();
	test_e2big();
	test_corrupt();
	test_fuzz();
	tap_ok(memfile_used(mf) == 0, "every frame released");
	free(bb_data);
	memfile_destroy(mf);
	return tap_done();
}

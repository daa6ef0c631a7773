// SPDX-License-Identifier: GPL-2.0
/*
 * ELF loading (fs/binfmt_elf.c load_elf_binary, reduced): validate the
 * headers, map PT_LOAD segments as private file mappings with zeroed bss,
 * load the PT_INTERP interpreter of a dynamic executable (load_elf_interp),
 * create the stack, set the break and the initial registers.
 *
 * The ELF comes from the workload's file system, so it is untrusted: every
 * header field is checked here before use (libelf only decodes), and a file
 * that lies gives -ENOEXEC (-ELIBBAD for the interpreter) with a reason in
 * errbuf. The interpreter is opened and checked before anything is mapped.
 *
 * Locks: none (mm functions take mm->lock). References: the executable's
 * file is borrowed from the caller; the interpreter's comes from
 * la->open_interp and is put before loader_load returns; each mapping
 * takes its own reference.
 */
#include <elf.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "cvisor/loader.h"
#include "cvisor/mm.h"
#include "cvisor/util.h"
#include "cvisor/vfs.h"
#include "loader_impl.h"

/* ELF_ET_DYN_BASE without randomisation (2/3 of the 47-bit space, the
 * address Linux gives PIEs when ASLR is off). */
#define ET_DYN_BASE 0x555555554000ULL
/* No sane image spans more than the memory file. */
#define MAX_IMAGE_SPAN (64ULL << 30)
#define MAX_ALIGN (1ULL << 30)
/* Linux refuses program headers over 64 KiB (elf_read_phdrs). */
#define MAX_PHDRS_SIZE 65536
#define MIN_ADDR 0x10000ULL

static void elf_endp(Elf **e)
{
	if (*e)
		elf_end(*e);
}

static pthread_once_t elf_once = PTHREAD_ONCE_INIT;
static bool elf_ok;

static void elf_init(void)
{
	elf_ok = elf_version(EV_CURRENT) != EV_NONE;
}

struct elf_image {
	Elf64_Ehdr eh;
	Elf64_Phdr *ph;		/* eh.e_phnum entries */
	uint64_t file_size;
	uint64_t min_vaddr, max_vaddr; /* page-rounded span of PT_LOADs */
	uint64_t align;		/* largest PT_LOAD alignment */
	const Elf64_Phdr *interp;
	int stack_prot;
};

static int read_exact(struct file *f, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = vfs_pread(f, (char *)buf + done, len - done,
				      off + done);

		if (r == -EINTR)
			continue;
		if (r < 0)
			return (int)r;
		if (r == 0)
			return -ENOEXEC; /* shorter than its headers say */
		done += (size_t)r;
	}
	return 0;
}

/*
 * Read and check the ELF and program headers. libelf decodes a private copy
 * made of the ELF header followed by the program headers (with the section
 * header fields cleared: sections are not needed to run a file, and this
 * way a corrupt section table can't matter).
 */
static int elf_read_headers(struct file *f, struct elf_image *img,
			    char *errbuf, size_t errlen)
{
	_cleanup_(elf_endp) Elf *e = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	Elf64_Ehdr raw, *eh;
	Elf64_Phdr *ph;
	struct stat st;
	size_t phsize;
	int err;

	pthread_once(&elf_once, elf_init);
	if (!elf_ok)
		return loader_fail(errbuf, errlen, -ENOEXEC, "libelf unusable");
	err = vfs_fstat(f, &st);
	if (err)
		return loader_fail(errbuf, errlen, err, "cannot stat the file");
	img->file_size = (uint64_t)st.st_size;
	if (img->file_size < sizeof(raw))
		return loader_fail(errbuf, errlen, -ENOEXEC,
				   "file too short for an ELF header");
	err = read_exact(f, &raw, sizeof(raw), 0);
	if (err)
		return loader_fail(errbuf, errlen, err == -ENOEXEC ? err : -EIO,
				   "cannot read the ELF header");
	if (memcmp(raw.e_ident, ELFMAG, SELFMAG))
		return loader_fail(errbuf, errlen, -ENOEXEC,
				   "not an ELF file (bad magic)");
	if (raw.e_ident[EI_CLASS] != ELFCLASS64)
		return loader_fail(errbuf, errlen, -ENOEXEC, "not a 64-bit ELF");
	if (raw.e_ident[EI_DATA] != ELFDATA2LSB)
		return loader_fail(errbuf, errlen, -ENOEXEC,
				   "not a little-endian ELF");
	if (raw.e_ident[EI_VERSION] != EV_CURRENT || raw.e_version != EV_CURRENT)
		return loader_fail(errbuf, errlen, -ENOEXEC, "bad ELF version");
	if (raw.e_machine != EM_X86_64)
		return loader_fail(errbuf, errlen, -ENOEXEC,
				   "not an x86-64 ELF (e_machine %u)",
				   raw.e_machine);
	if (raw.e_type != ET_EXEC && raw.e_type != ET_DYN)
		return loader_fail(errbuf, errlen, -ENOEXEC,
				   "not an executable (e_type %u)", raw.e_type);
	if (raw.e_phentsize != sizeof(Elf64_Phdr))
		return loader_fail(errbuf, errlen, -ENOEXEC,
				   "bad program header size %u", raw.e_phentsize);
	phsize = (size_t)raw.e_phnum * sizeof(Elf64_Phdr);
	if (!raw.e_phnum || phsize > MAX_PHDRS_SIZE)
		return loader_fail(errbuf, errlen, -ENOEXEC,
				   "bad program header count %u", raw.e_phnum);
	if (raw.e_phoff > img->file_size || phsize > img->file_size - raw.e_phoff)
		return loader_fail(errbuf, errlen, -ENOEXEC,
				   "program headers beyond the end of the file");

	buf = malloc(sizeof(raw) + phsize);
	if (!buf)
		return -ENOMEM;
	err = read_exact(f, buf + sizeof(raw), phsize, raw.e_phoff);
	if (err)
		return loader_fail(errbuf, errlen, err == -ENOEXEC ? err : -EIO,
				   "cannot read the program headers");
	raw.e_phoff = sizeof(raw);
	raw.e_shoff = 0;
	raw.e_shnum = 0;
	raw.e_shstrndx = SHN_UNDEF;
	memcpy(buf, &raw, sizeof(raw));

	e = elf_memory((char *)buf, sizeof(raw) + phsize);
	if (!e || elf_kind(e) != ELF_K_ELF || gelf_getclass(e) != ELFCLASS64)
		return loader_fail(errbuf, errlen, -ENOEXEC,
				   "libelf: %s", elf_errmsg(-1));
	eh = elf64_getehdr(e);
	ph = eh ? elf64_getphdr(e) : NULL;
	if (!eh || !ph)
		return loader_fail(errbuf, errlen, -ENOEXEC,
				   "libelf: %s", elf_errmsg(-1));
	img->eh = *eh;
	img->ph = malloc(phsize);
	if (!img->ph)
		return -ENOMEM;
	memcpy(img->ph, ph, phsize);
	return 0;
}

static int prot_of(uint32_t pflags)
{
	return (pflags & PF_R ? PROT_READ : 0) |
	       (pflags & PF_W ? PROT_WRITE : 0) |
	       (pflags & PF_X ? PROT_EXEC : 0);
}

/* Check the segments and compute the image span; everything must lie
 * below limit (the mmap base: above it are the stack and its gap). */
static int elf_check_segments(struct elf_image *img, uint64_t limit,
			      char *errbuf, size_t errlen)
{
	uint64_t prev_end = 0, entry = img->eh.e_entry;
	bool have_load = false, entry_ok = false;

	img->align = PAGE_SIZE;
	/* No PT_GNU_STACK: an executable stack, as Linux's EXSTACK_DEFAULT
	 * on x86. */
	img->stack_prot = PROT_READ | PROT_WRITE | PROT_EXEC;
	for (unsigned int i = 0; i < img->eh.e_phnum; i++) {
		const Elf64_Phdr *p = &img->ph[i];
		uint64_t end;

		switch (p->p_type) {
		case PT_INTERP:
			if (img->interp)
				return loader_fail(errbuf, errlen, -ENOEXEC,
						   "more than one PT_INTERP");
			if (p->p_filesz < 2 || p->p_filesz > PATH_MAX ||
			    p->p_offset > img->file_size ||
			    p->p_filesz > img->file_size - p->p_offset)
				return loader_fail(errbuf, errlen, -ENOEXEC,
						   "bad PT_INTERP");
			img->interp = p;
			continue;
		case PT_GNU_STACK:
			img->stack_prot = PROT_READ | PROT_WRITE |
					  (p->p_flags & PF_X ? PROT_EXEC : 0);
			continue;
		case PT_LOAD:
			break;
		default:
			continue;
		}
		if (p->p_filesz > p->p_memsz)
			return loader_fail(errbuf, errlen, -ENOEXEC,
					   "segment %u: p_filesz > p_memsz", i);
		if (p->p_offset > img->file_size ||
		    p->p_filesz > img->file_size - p->p_offset)
			return loader_fail(errbuf, errlen, -ENOEXEC,
					   "segment %u: beyond the end of the file",
					   i);
		if (p->p_align > 1) {
			if (p->p_align & (p->p_align - 1))
				return loader_fail(errbuf, errlen, -ENOEXEC,
						   "segment %u: alignment not a power of two",
						   i);
			if (p->p_align > MAX_ALIGN)
				return loader_fail(errbuf, errlen, -ENOEXEC,
						   "segment %u: alignment too large", i);
			if ((p->p_vaddr - p->p_offset) & (p->p_align - 1))
				return loader_fail(errbuf, errlen, -ENOEXEC,
						   "segment %u: p_vaddr and p_offset disagree modulo p_align",
						   i);
			img->align = MAX(img->align, p->p_align);
		}
		/* elf_map() maps whole pages of the file at the vaddr. */
		if ((p->p_vaddr - p->p_offset) & (PAGE_SIZE - 1))
			return loader_fail(errbuf, errlen, -ENOEXEC,
					   "segment %u: p_vaddr and p_offset disagree modulo the page size",
					   i);
		if (p->p_memsz > MAX_IMAGE_SPAN ||
		    p->p_vaddr > limit - p->p_memsz)
			return loader_fail(errbuf, errlen, -ENOEXEC,
					   "segment %u: too large or out of range",
					   i);
		end = p->p_vaddr + p->p_memsz;
		/* The ELF spec orders PT_LOADs by vaddr; byte overlap would
		 * make one segment silently overwrite another. */
		if (have_load && p->p_vaddr < prev_end)
			return loader_fail(errbuf, errlen, -ENOEXEC,
					   "segment %u overlaps or is out of order",
					   i);
		if (!have_load)
			img->min_vaddr = PAGE_ALIGN_DOWN(p->p_vaddr);
		have_load = true;
		prev_end = end;
		img->max_vaddr = PAGE_ALIGN_UP(end);
		if (entry >= p->p_vaddr && entry < end)
			entry_ok = true;
	}
	if (!have_load)
		return loader_fail(errbuf, errlen, -ENOEXEC, "no PT_LOAD segment");
	if (img->max_vaddr - img->min_vaddr > MAX_IMAGE_SPAN)
		return loader_fail(errbuf, errlen, -ENOEXEC, "image too large");
	if (!entry_ok)
		return loader_fail(errbuf, errlen, -ENOEXEC,
				   "entry point outside the loaded segments");
	return 0;
}

/* Map one PT_LOAD at bias (load_elf_binary's elf_map + set_brk/padzero). */
static int map_segment(struct mm *mm, struct file *f, const Elf64_Phdr *p,
		       uint64_t bias, char *errbuf, size_t errlen)
{
	int prot = prot_of(p->p_flags);
	uint64_t start = PAGE_ALIGN_DOWN(p->p_vaddr + bias);
	uint64_t file_end = p->p_vaddr + bias + p->p_filesz;
	uint64_t mem_end = p->p_vaddr + bias + p->p_memsz;
	uint64_t anon_start = start;
	int64_t r;

	if (p->p_filesz) {
		uint64_t map_end = PAGE_ALIGN_UP(file_end);
		bool bss_tail = p->p_memsz > p->p_filesz &&
				(file_end & (PAGE_SIZE - 1));
		/* The file bytes after p_filesz in the last page belong to
		 * bss and must read as zero: map it writable long enough
		 * to clear them. */
		int mprot = bss_tail ? prot | PROT_WRITE : prot;

		r = mm_mmap(mm, start, map_end - start, mprot,
			    MAP_PRIVATE | MAP_FIXED, f,
			    PAGE_ALIGN_DOWN(p->p_offset));
		if (r < 0)
			return loader_fail(errbuf, errlen, (int)r,
					   "cannot map a segment at %#llx",
					   (unsigned long long)start);
		if (bss_tail) {
			r = mm_zero(mm, file_end, map_end - file_end);
			if (!r && mprot != prot)
				r = mm_mprotect(mm, start, map_end - start, prot);
			if (r)
				return loader_fail(errbuf, errlen, (int)r,
						   "cannot clear the bss");
		}
		anon_start = map_end;
	}
	if (PAGE_ALIGN_UP(mem_end) > anon_start) {
		r = mm_mmap(mm, anon_start, PAGE_ALIGN_UP(mem_end) - anon_start,
			    prot, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, NULL,
			    0);
		if (r < 0)
			return loader_fail(errbuf, errlen, (int)r,
					   "cannot map the bss at %#llx",
					   (unsigned long long)anon_start);
	}
	return 0;
}

static void file_putp(struct file **f)
{
	if (*f)
		vfs_file_put(*f);
}

/* Open the interpreter named by PT_INTERP and read its headers
 * (load_elf_binary before the point of no return). A file that is not an
 * x86-64 ELF executable or shared object is -ELIBBAD, as in Linux. */
static int open_interp(const struct loader_args *la,
		       const struct elf_image *img, uint64_t limit,
		       struct file **fp, struct elf_image *ii, char *errbuf,
		       size_t errlen)
{
	char path[PATH_MAX + 1];
	size_t n = img->interp->p_filesz;
	int err;

	err = read_exact(la->file, path, n, img->interp->p_offset);
	if (err || path[n - 1] != '\0' || strlen(path) != n - 1)
		return loader_fail(errbuf, errlen, -ENOEXEC, "bad PT_INTERP");
	if (!la->open_interp)
		return loader_fail(errbuf, errlen, -ENOEXEC,
				   "no way to open the interpreter %s", path);
	err = la->open_interp(la->open_ctx, path, fp);
	if (err)
		return loader_fail(errbuf, errlen, err,
				   "cannot open the interpreter %s", path);
	err = elf_read_headers(*fp, ii, errbuf, errlen);
	if (!err)
		err = elf_check_segments(ii, limit, errbuf, errlen);
	if (err == -ENOEXEC) {
		size_t l = errbuf && errlen ? strlen(errbuf) : 0;

		/* Keep the reason, say whose it is. */
		if (l + 1 < errlen)
			snprintf(errbuf + l, errlen - l, " (interpreter %s)",
				 path);
		return -ELIBBAD;
	}
	return err;
}

/* Map the interpreter (load_elf_interp): an ET_DYN one where mmap places
 * its whole span (top-down below the mmap base), aligned to its largest
 * p_align; an ET_EXEC one at its own addresses. Holes between segments stay
 * unmapped, as in Linux. *bias is AT_BASE, *entry the initial rip. */
static int load_interp(struct mm *mm, struct file *f,
		       const struct elf_image *ii, uint64_t *bias,
		       uint64_t *entry, char *errbuf, size_t errlen)
{
	uint64_t span = ii->max_vaddr - ii->min_vaddr, b = 0;
	int64_t r;
	int err;

	if (ii->eh.e_type == ET_DYN) {
		uint64_t lo = ii->min_vaddr & ~(ii->align - 1);
		uint64_t extra = ii->align - PAGE_SIZE;

		span = ii->max_vaddr - lo;
		/* Ask mmap for room (no other mapping can appear before the
		 * segments go there: the mm is private to the loader). */
		r = mm_mmap(mm, 0, span + extra, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
		if (r < 0)
			return loader_fail(errbuf, errlen, (int)r,
					   "no room for the interpreter");
		mm_munmap(mm, (uint64_t)r, span + extra);
		b = (((uint64_t)r + ii->align - 1) & ~(ii->align - 1)) - lo;
	} else if (ii->min_vaddr < MIN_ADDR) {
		return loader_fail(errbuf, errlen, -ELIBBAD,
				   "interpreter below mmap_min_addr");
	}
	for (unsigned int i = 0; i < ii->eh.e_phnum; i++) {
		if (ii->ph[i].p_type != PT_LOAD)
			continue;
		err = map_segment(mm, f, &ii->ph[i], b, errbuf, errlen);
		if (err)
			return err;
	}
	*bias = b;
	*entry = ii->eh.e_entry + b;
	return 0;
}

/* Size of the initial stack VMA: the argument pages plus 128 KiB
 * (setup_arg_pages' stack_expand); it grows down from there on faults. */
static uint64_t initial_stack_size(const struct loader_args *la)
{
	uint64_t bytes = 1024; /* auxv, AT_RANDOM, platform, alignment */
	char *const *vecs[2] = { la->argv, la->envp };

	for (int k = 0; k < 2; k++)
		for (size_t i = 0; vecs[k] && vecs[k][i]; i++)
			bytes += strlen(vecs[k][i]) + 1 + sizeof(uint64_t);
	if (la->exec_path)
		bytes += strlen(la->exec_path) + 1;
	return MIN(PAGE_ALIGN_UP(bytes) + (128ULL << 10), LOADER_STACK_SIZE);
}

int loader_load(struct mm *mm, const struct loader_args *la, cpu_regs_t *regs,
		char *errbuf, size_t errlen)
{
	struct elf_image img = { 0 }, ii = { 0 };
	_cleanup_(file_putp) struct file *interp = NULL;
	uint64_t bias = 0, stack_top, stack_size, sp;
	uint64_t entry, brk = 0, interp_base = 0, phdr_addr = 0;
	struct loader_image li;
	int64_t r;
	int err;

	if (errbuf && errlen)
		errbuf[0] = 0;
	if (!la->file)
		return loader_fail(errbuf, errlen, -EINVAL, "no file");
	if (!mm_is_empty(mm))
		return loader_fail(errbuf, errlen, -EINVAL,
				   "address space not empty");
	err = loader_check_args(la, errbuf, errlen);
	if (err)
		return err;
	err = elf_read_headers(la->file, &img, errbuf, errlen);
	if (err)
		goto out;
	err = elf_check_segments(&img, mm_mmap_base(mm), errbuf, errlen);
	if (err)
		goto out;

	if (img.eh.e_type == ET_DYN) {
		/* Static PIE (and later the interpreter's executable): at
		 * ELF_ET_DYN_BASE, aligned for the largest p_align. */
		uint64_t lo = img.min_vaddr & ~(img.align - 1);
		uint64_t want = (ET_DYN_BASE + img.align - 1) & ~(img.align - 1);

		bias = lo < want ? want - lo : 0;
		if (img.max_vaddr > mm_mmap_base(mm) - bias) {
			err = loader_fail(errbuf, errlen, -ENOEXEC,
					  "image does not fit");
			goto out;
		}
	} else if (img.min_vaddr < MIN_ADDR) {
		err = loader_fail(errbuf, errlen, -ENOEXEC,
				  "segment below mmap_min_addr");
		goto out;
	}

	entry = img.eh.e_entry + bias;
	if (img.interp) {
		err = open_interp(la, &img, mm_mmap_base(mm), &interp, &ii,
				  errbuf, errlen);
		if (err)
			goto out;
	}

	for (unsigned int i = 0; i < img.eh.e_phnum; i++) {
		const Elf64_Phdr *p = &img.ph[i];

		if (p->p_type == PT_PHDR)
			phdr_addr = p->p_vaddr + bias;
		if (p->p_type != PT_LOAD)
			continue;
		err = map_segment(mm, la->file, p, bias, errbuf, errlen);
		if (err)
			goto out;
		brk = MAX(brk, PAGE_ALIGN_UP(p->p_vaddr + p->p_memsz + bias));
		/* AT_PHDR: where the headers sit in memory (the PT_LOAD
		 * holding e_phoff, as newer Linux computes it). */
		if (!phdr_addr && p->p_filesz &&
		    img.eh.e_phoff >= p->p_offset &&
		    img.eh.e_phoff - p->p_offset < p->p_filesz)
			phdr_addr = p->p_vaddr + bias +
				    (img.eh.e_phoff - p->p_offset);
	}

	/* The interpreter after the executable, as load_elf_binary does,
	 * so mmap places it around the executable's fixed addresses. */
	if (interp) {
		err = load_interp(mm, interp, &ii, &interp_base, &entry,
				  errbuf, errlen);
		if (err)
			goto out;
	}

	/* The stack: small, growing down on faults to RLIMIT_STACK. */
	stack_top = mm_stack_top(mm);
	stack_size = initial_stack_size(la);
	r = mm_mmap(mm, stack_top - stack_size, stack_size, img.stack_prot,
		    MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_GROWSDOWN |
			    MAP_STACK,
		    NULL, 0);
	if (r < 0) {
		err = loader_fail(errbuf, errlen, (int)r,
				  "cannot map the stack");
		goto out;
	}
	li.entry = img.eh.e_entry + bias;
	li.phdr = phdr_addr;
	li.phnum = img.eh.e_phnum;
	li.base = interp_base;
	err = loader_build_stack(mm, la, &li, stack_top, &sp, errbuf, errlen);
	if (err)
		goto out;
	mm_set_start_stack(mm, sp);
	mm_set_brk_start(mm, brk);

	/* start_thread(): everything zero but rip, rsp, flags (IF and the
	 * reserved bit) and the user segments. */
	memset(regs, 0, sizeof(*regs));
	regs->rip = entry;
	regs->rsp = sp;
	regs->eflags = 0x202;
	regs->cs = 0x33;
	regs->ss = 0x2b;
out:
	free(img.ph);
	free(ii.ph);
	return err;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Writes seed inputs for the fuzz targets (run on the host by
 * tests/fuzz/seeds.sh): well-formed gofer requests, one per file, against
 * the baseline handles of fuzz_gofer.c, and a few hand-made tiny ELFs
 * (the compiled ones come from seeds.sh).
 *   gen_seeds GOFER_DIR ELF_DIR
 */
#include <elf.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvisor/gofer_proto.h"

#define REQ_HDR offsetof(struct gofer_req, name)

static const char *gdir, *edir;

static void put(const char *dir, const char *name, const void *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void req(const char *file, uint32_t op, uint32_t handle, uint64_t arg,
		const char *name)
{
	union {
		struct gofer_req r;
		char raw[REQ_HDR + GOFER_NAME_MAX + 1];
	} m;
	size_t n = name ? strlen(name) : 0;

	memset(&m, 0, sizeof(m));
	m.r.op = op;
	m.r.handle = handle;
	m.r.arg = arg;
	m.r.namelen = (uint32_t)n;
	memcpy(m.r.name, name ? name : "", n);
	put(gdir, file, &m, REQ_HDR + n);
}

/* A minimal static executable: one PT_LOAD covering the file plus bss. */
static void tiny_elf(const char *file, uint16_t type, uint64_t vaddr,
		     int extra_phdrs)
{
	struct {
		Elf64_Ehdr eh;
		Elf64_Phdr ph[3];
		uint8_t code[16];
		char interp[16];
	} e;
	int n = 1;

	memset(&e, 0, sizeof(e));
	memcpy(e.eh.e_ident, ELFMAG, SELFMAG);
	e.eh.e_ident[EI_CLASS] = ELFCLASS64;
	e.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	e.eh.e_ident[EI_VERSION] = EV_CURRENT;
	e.eh.e_type = type;
	e.eh.e_machine = EM_X86_64;
	e.eh.e_version = EV_CURRENT;
	e.eh.e_entry = vaddr + offsetof(__typeof__(e), code);
	e.eh.e_phoff = offsetof(__typeof__(e), ph);
	e.eh.e_ehsize = sizeof(Elf64_Ehdr);
	e.eh.e_phentsize = sizeof(Elf64_Phdr);
	e.ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X | PF_W,
				.p_offset = 0, .p_vaddr = vaddr, .p_paddr = vaddr,
				.p_filesz = sizeof(e), .p_memsz = sizeof(e) + 0x3000,
				.p_align = 0x1000 };
	/* mov $60,%eax; xor %edi,%edi; syscall */
	memcpy(e.code, "\xb8\x3c\x00\x00\x00\x31\xff\x0f\x05", 9);
	if (extra_phdrs) {
		e.ph[n++] = (Elf64_Phdr){ .p_type = PT_GNU_STACK,
					  .p_flags = PF_R | PF_W };
		strcpy(e.interp, "/lib/ld.so");
		e.ph[n++] = (Elf64_Phdr){ .p_type = PT_INTERP, .p_flags = PF_R,
					  .p_offset = offsetof(__typeof__(e), interp),
					  .p_filesz = sizeof("/lib/ld.so"),
					  .p_memsz = sizeof("/lib/ld.so") };
	}
	e.eh.e_phnum = (uint16_t)n;
	put(edir, file, &e, sizeof(e));
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: gen_seeds GOFER_DIR ELF_DIR\n");
		return 2;
	}
	gdir = argv[1];
	edir = argv[2];

	/* Handles as fuzz_gofer.c sets them up: 0 root, 1 dir, 2 file,
	 * 3 link, 4 escape, 5 fifo, 6 empty, 7 dir/sub, 8 dangling. */
	req("walk-dir", GOFER_OP_WALK, 0, 0, "dir");
	req("walk-file", GOFER_OP_WALK, 0, 0, "file");
	req("walk-link", GOFER_OP_WALK, 0, 0, "link");
	req("walk-sub-deep", GOFER_OP_WALK, 7, 0, "deep");
	req("walk-entry", GOFER_OP_WALK, 1, 0, "entry-07");
	req("walk-missing", GOFER_OP_WALK, 0, 0, "missing");
	req("walk-dotdot", GOFER_OP_WALK, 0, 0, "..");
	req("walk-slash", GOFER_OP_WALK, 1, 0, "sub/deep");
	req("walk-through-link", GOFER_OP_WALK, 3, 0, "x");
	req("stat-root", GOFER_OP_STAT, 0, 0, NULL);
	req("stat-link", GOFER_OP_STAT, 3, 0, NULL);
	req("stat-bad", GOFER_OP_STAT, 99, 0, NULL);
	req("open-file", GOFER_OP_OPEN, 2, O_RDONLY, NULL);
	req("open-dir", GOFER_OP_OPEN, 1, O_RDONLY | O_DIRECTORY, NULL);
	req("open-fifo", GOFER_OP_OPEN, 5, O_RDONLY, NULL);
	req("open-link", GOFER_OP_OPEN, 3, O_RDONLY, NULL);
	req("open-rdwr", GOFER_OP_OPEN, 2, O_RDWR | O_TRUNC, NULL);
	req("readdir-dir", GOFER_OP_READDIR, 1, 0, NULL);
	req("readdir-dir-cookie", GOFER_OP_READDIR, 1, 5, NULL);
	req("readdir-empty", GOFER_OP_READDIR, 6, 0, NULL);
	req("readdir-file", GOFER_OP_READDIR, 2, 0, NULL);
	req("readlink-link", GOFER_OP_READLINK, 3, 0, NULL);
	req("readlink-escape", GOFER_OP_READLINK, 4, 0, NULL);
	req("readlink-file", GOFER_OP_READLINK, 2, 0, NULL);
	req("close-file", GOFER_OP_CLOSE, 2, 0, NULL);
	req("close-root", GOFER_OP_CLOSE, 0, 0, NULL);
	req("statfs-root", GOFER_OP_STATFS, 0, 0, NULL);
	req("statfs-dir", GOFER_OP_STATFS, 1, 0, NULL);
	req("readdirplus-dir", GOFER_OP_READDIR_PLUS, 1, 0, NULL);
	req("readdirplus-root", GOFER_OP_READDIR_PLUS, 0, 0, NULL);
	req("readdirplus-cookie", GOFER_OP_READDIR_PLUS, 1, 5, NULL);
	req("readdirplus-file", GOFER_OP_READDIR_PLUS, 2, 0, NULL);
	req("readdirplus-link", GOFER_OP_READDIR_PLUS, 3, 0, NULL);
	req("walkopen-file", GOFER_OP_WALK_OPEN, 0, O_RDONLY, "file");
	req("walkopen-dir", GOFER_OP_WALK_OPEN, 0, O_RDONLY | O_DIRECTORY, "dir");
	req("walkopen-deep", GOFER_OP_WALK_OPEN, 7, O_RDONLY, "deep");
	req("walkopen-link", GOFER_OP_WALK_OPEN, 0, O_RDONLY, "link");
	req("walkopen-fifo", GOFER_OP_WALK_OPEN, 0, O_RDONLY, "fifo");
	req("walkopen-missing", GOFER_OP_WALK_OPEN, 0, O_RDONLY, "missing");
	req("walkopen-dotdot", GOFER_OP_WALK_OPEN, 0, O_RDONLY, "..");
	req("walkopen-slash", GOFER_OP_WALK_OPEN, 1, O_RDONLY, "sub/deep");
	req("walkopen-from-file", GOFER_OP_WALK_OPEN, 2, O_RDONLY, "x");
	req("walkopen-rdwr", GOFER_OP_WALK_OPEN, 0, O_RDWR | O_TRUNC, "file");
	req("walkopen-lookup-file", GOFER_OP_WALK_OPEN, 0,
	    O_RDONLY | GOFER_WALK_OPEN_LOOKUP, "file");
	req("walkopen-lookup-escape", GOFER_OP_WALK_OPEN, 0,
	    O_RDONLY | GOFER_WALK_OPEN_LOOKUP, "escape");
	req("walkopen-lookup-fifo", GOFER_OP_WALK_OPEN, 0,
	    O_RDONLY | GOFER_WALK_OPEN_LOOKUP, "fifo");

	tiny_elf("tiny-exec", ET_EXEC, 0x400000, 0);
	tiny_elf("tiny-pie", ET_DYN, 0, 0);
	tiny_elf("tiny-interp", ET_EXEC, 0x400000, 1);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the ELF loader (sentry/loader/): each input is the
 * whole executable file, loaded with loader_load() into a fresh mm over the
 * real memory file and the fake platform of tests/unit/fake_platform.h. The
 * fake vfs serves the input buffer (as tests/unit/test_loader.c does).
 *
 * One memory file for the whole run (creating it costs an mmap of the
 * frame arrays); the mm is destroyed after every input, and then every
 * frame and every file reference must be back (a leak aborts). A loaded
 * image is also touched at its entry point and initial stack so demand
 * faults read the (possibly short) file.
 */
#include <errno.h>
#include <stdarg.h>
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
#include "../unit/fake_platform.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#include "../unit/fake_vfs.h"

static struct memfile *mf;

static char *const fuzz_argv[] = { "prog", "arg", NULL };
static char *const fuzz_envp[] = { "PATH=/bin", NULL };

int LLVMFuzzerInitialize(int *argc UNUSED, char ***argv UNUSED)
{
	if (memfile_new(1ULL << 30, &mf)) {
		fprintf(stderr, "fuzz_elf: memfile_new failed\n");
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct file f = { .data = data, .size = size };
	struct loader_args la = {
		.file = &f, .exec_path = "/bin/prog", .argv = fuzz_argv,
		.envp = fuzz_envp, .uid = 1000, .euid = 1000, .gid = 1000,
		.egid = 1000,
	};
	cpu_regs_t regs;
	struct mm *mm;
	char err[256];
	int r;

	if (mm_new(mf, &fake_platform, &mm))
		abort();
	r = loader_load(mm, &la, &regs, err, sizeof(err));
	/* Every refusal but running out of memory carries a reason. */
	if (r > 0 || (r < 0 && r != -ENOMEM && !err[0])) {
		fprintf(stderr, "fuzz_elf: loader_load returned %d, reason \"%s\"\n",
			r, err);
		abort();
	}
	if (r == 0) {
		uint8_t b[16];
		uint64_t v;

		if (regs.rsp & 15)
			abort();
		/* argc at rsp must read back (the stack was built). */
		if (mm_copy_in(mm, &v, regs.rsp, 8) || v != 2)
			abort();
		/* The entry lies in a PT_LOAD: fault it in from the file
		 * (not readable is fine, e.g. a segment without PF_R). */
		(void)mm_copy_in(mm, b, regs.rip, 1);
		(void)mm_fault(mm, regs.rip, PROT_EXEC);
	}
	mm_destroy(mm);
	if (f.refs != 0) {
		fprintf(stderr, "fuzz_elf: %d file references left\n", f.refs);
		abort();
	}
	if (memfile_used(mf) != 0) {
		fprintf(stderr, "fuzz_elf: %llu bytes of the memory file leaked\n",
			(unsigned long long)memfile_used(mf));
		abort();
	}
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The generated syscall table agrees with the kernel's numbering (the host's
 * <asm/unistd_64.h>), dispatch returns -ENOSYS for unimplemented and
 * out-of-range numbers, and an implemented handler is reached.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cvisor/syscall.h"
#include "cvisor/task.h"

static int failed, n;

static void ok(int cond, const char *desc)
{
	n++;
	printf("%sok %d - %s\n", cond ? "" : "not ", n, desc);
	if (!cond)
		failed++;
}

int main(void)
{
	FILE *f = fopen("/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "r");
	struct kernel k;
	struct task t;
	struct syscall_args a = { { 0 } };
	char line[256], name[128];
	int nr, checked = 0, mismatched = 0, implemented = 0;

	printf("1..6\n");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "#define __NR_%127s %d", name, &nr) != 2)
				continue;
			checked++;
			if (nr < 0 || nr >= SYSCALL_MAX || !syscall_table[nr].name ||
			    strcmp(syscall_table[nr].name, name)) {
				printf("# mismatch: %d %s vs %s\n", nr, name,
				       nr >= 0 && nr < SYSCALL_MAX && syscall_table[nr].name ?
					       syscall_table[nr].name : "(none)");
				mismatched++;
			}
		}
		fclose(f);
	}
	ok(checked > 300, "host syscall list read");
	ok(mismatched == 0, "every host syscall number has the same name in the table");
	for (int i = 0; i < SYSCALL_MAX; i++)
		implemented += syscall_table[i].fn != NULL;
	printf("# %d handlers implemented\n", implemented);
	ok(implemented >= 60, "the first milestone's handlers are in the table");

	memset(&k, 0, sizeof(k));
	memset(&t, 0, sizeof(t));
	t.k = &k;
	t.tid = t.tgid = 1;
	ok(syscall_dispatch(&t, 100000, &a) == -ENOSYS, "out-of-range nr gives ENOSYS");
	ok(syscall_dispatch(&t, 334 /* rseq */, &a) == -ENOSYS,
	   "unimplemented call gives ENOSYS");
	ok(syscall_dispatch(&t, 39 /* getpid */, &a) == 1, "getpid reaches its handler");
	return failed ? 1 : 0;
}

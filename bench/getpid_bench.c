/* getpid_bench: cost of the cheapest syscall round trip. getpid() is a raw
 * syscall in glibc >= 2.25 (no pid cache), compiled as `mov $39,%eax;
 * syscall` like most libc syscall stubs, so under systrap it measures the
 * patched path (syscall(SYS_getpid) would load the number from a register
 * and keep trapping: see docs/architecture.md, syscall patching). */
#include <unistd.h>

#include "bench.h"

static void op(void) { getpid(); }

int main(int argc, char **argv)
{
	printf("getpid %.1f\n", bench_run(argc, argv, op));
	return 0;
}

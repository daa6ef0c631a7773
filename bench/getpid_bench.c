/* getpid_bench: cost of the cheapest syscall round trip (raw syscall, no libc cache). */
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

static void op(void) { syscall(SYS_getpid); }

int main(int argc, char **argv)
{
	printf("getpid %.1f\n", bench_run(argc, argv, op));
	return 0;
}

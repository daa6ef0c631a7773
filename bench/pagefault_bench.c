/* pagefault_bench: first-touch cost of fresh private anonymous memory, ns per
 * 4 KiB page. Each round maps REGION bytes (no THP), writes one byte per page
 * (timed) and unmaps (untimed), until BENCH_MIN_NS of touching have elapsed. */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

#define REGION (16UL << 20)
#define PAGE 4096UL

int main(int argc, char **argv)
{
	long long rounds_fixed = argc > 1 ? atoll(argv[1]) : 0;
	long long el = 0, pages = 0, rounds = 0;

	for (;;) {
		volatile char *p = mmap(NULL, REGION, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		madvise((void *)p, REGION, MADV_NOHUGEPAGE); /* best effort */
		long long t0 = bench_now();
		for (unsigned long off = 0; off < REGION; off += PAGE)
			p[off] = 1;
		el += bench_now() - t0;
		pages += REGION / PAGE;
		munmap((void *)p, REGION);
		rounds++;
		if (rounds_fixed ? rounds >= rounds_fixed : el >= BENCH_MIN_NS)
			break;
	}
	printf("pagefault %.1f\n", (double)el / (double)pages);
	return 0;
}

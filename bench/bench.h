/* bench.h — shared timing loop for the static micro-benchmarks in bench/.
 * Each benchmark runs its op in batches until at least BENCH_MIN_NS have elapsed
 * (or argv[1] iterations, if given) and prints "name ns_per_op". The warm-up is
 * 100 ops or 50 ms, whichever comes first, and batches start at 1 op, so
 * millisecond-scale ops (fork under ptrace) stay near BENCH_MIN_NS too. */
#ifndef CVISOR_BENCH_H
#define CVISOR_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BENCH_MIN_NS 300000000LL /* 0.3 s */

static inline long long bench_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Runs op() until enough time has passed; returns ns per op. */
static inline double bench_run(int argc, char **argv, void (*op)(void))
{
	long long fixed = argc > 1 ? atoll(argv[1]) : 0;
	long long w0 = bench_now();
	for (int i = 0; i < 100 && bench_now() - w0 < 50000000LL; i++) /* warm up */
		op();
	long long iters = 0, t0 = bench_now(), el = 0, batch = 1;
	for (;;) {
		for (long long i = 0; i < batch; i++)
			op();
		iters += batch;
		el = bench_now() - t0;
		if (fixed ? iters >= fixed : el >= BENCH_MIN_NS)
			break;
		if (!fixed && batch < (1 << 20))
			batch *= 2;
	}
	return (double)el / (double)iters;
}

#endif

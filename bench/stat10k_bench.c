/* stat10k_bench DIR [MIN_MS]: walks DIR like find(1) — openat(O_DIRECTORY),
 * getdents64, fstatat(AT_SYMLINK_NOFOLLOW) on every entry, recursing into
 * directories — repeated (at least 3 walks, then until MIN_MS, default 1000,
 * or 50 walks). Prints the median ms per walk, the first (coldest) walk's ms
 * and the entry count. */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

#define MAX_WALKS 50

static long long entries;

static int walk(int dirfd)
{
	char buf[32768];
	long n;

	while ((n = syscall(SYS_getdents64, dirfd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			struct stat st;

			off += d->d_reclen;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			if (fstatat(dirfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
				perror(d->d_name);
				return -1;
			}
			entries++;
			if (S_ISDIR(st.st_mode)) {
				int sub = openat(dirfd, d->d_name,
						 O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
				if (sub < 0) {
					perror(d->d_name);
					return -1;
				}
				int r = walk(sub);
				close(sub);
				if (r)
					return r;
			}
		}
	}
	if (n < 0) {
		perror("getdents64");
		return -1;
	}
	return 0;
}

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	long long t[MAX_WALKS], total = 0, count = 0;
	int w;

	if (argc < 2) {
		fprintf(stderr, "usage: stat10k_bench DIR [MIN_MS]\n");
		return 2;
	}
	long long min_ns = (argc > 2 ? atoll(argv[2]) : 1000) * 1000000LL;
	for (w = 0; w < MAX_WALKS && (w < 3 || total < min_ns); w++) {
		int fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			perror(argv[1]);
			return 1;
		}
		entries = 0;
		long long t0 = bench_now();
		if (walk(fd))
			return 1;
		t[w] = bench_now() - t0;
		close(fd);
		total += t[w];
		if (w == 0)
			count = entries;
		else if (entries != count) {
			fprintf(stderr, "stat10k: walk %d saw %lld entries, first saw %lld\n",
				w, entries, count);
			return 1;
		}
	}
	double first = t[0] / 1e6;
	qsort(t, w, sizeof(t[0]), cmp);
	double med = w % 2 ? t[w / 2] / 1e6 : (t[w / 2 - 1] + t[w / 2]) / 2e6;
	printf("stat10k %.2f\nstat10k_first %.2f\nstat10k_entries %lld\n", med, first, count);
	return 0;
}

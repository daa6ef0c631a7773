/* seqread_bench FILE [MIN_MS]: sequential read() of FILE in 1 MiB chunks,
 * start to EOF, repeated (lseek 0) until MIN_MS (default 1000) have elapsed
 * or 20 passes; prints the aggregate MiB/s. No untimed warm-up pass: the
 * first pass counts too. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define CHUNK (1 << 20)

static char buf[CHUNK];

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: seqread_bench FILE [MIN_MS]\n");
		return 2;
	}
	long long min_ns = (argc > 2 ? atoll(argv[2]) : 1000) * 1000000LL;
	int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	memset(buf, 0, sizeof(buf)); /* fault the buffer in outside the timing */
	long long bytes = 0, el = 0;
	for (int pass = 0; pass < 20 && el < min_ns; pass++) {
		if (lseek(fd, 0, SEEK_SET) != 0) {
			perror("lseek");
			return 1;
		}
		long long t0 = bench_now(), got = 0;
		ssize_t n;
		while ((n = read(fd, buf, CHUNK)) > 0)
			got += n;
		if (n < 0) {
			perror("read");
			return 1;
		}
		el += bench_now() - t0;
		if (got == 0) {
			fprintf(stderr, "%s: empty\n", argv[1]);
			return 1;
		}
		bytes += got;
	}
	close(fd);
	printf("seqread %.0f\n", (double)bytes / (1 << 20) / ((double)el / 1e9));
	return 0;
}

/* read4k_bench: pread of 4 KiB at offset 0 from a file in /tmp (tmpfs in the sandbox). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

static int fd;
static char buf[4096];

static void op(void)
{
	if (pread(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf)) {
		perror("pread");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	char path[] = "/tmp/cvisor-read4k-XXXXXX";
	fd = mkstemp(path);
	if (fd < 0) { /* no mkstemp support: fall back to a fixed name */
		strcpy(path, "/tmp/cvisor-read4k");
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	}
	if (fd < 0) {
		perror(path);
		return 1;
	}
	memset(buf, 'r', sizeof(buf));
	if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) {
		perror("write");
		return 1;
	}
	double ns = bench_run(argc, argv, op);
	unlink(path);
	printf("read4k %.1f\n", ns);
	return 0;
}

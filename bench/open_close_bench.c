/* open_close_bench: openat+close of a host file (the gofer path in cvisor). The path
 * can be given as argv[2]; default /etc/passwd. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"

static const char *path = "/etc/passwd";

static void op(void)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc > 2)
		path = argv[2];
	printf("open_close %.1f\n", bench_run(argc > 1 ? 2 : 1, argv, op));
	return 0;
}

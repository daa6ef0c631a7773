/* pipe_bench: 1-byte ping-pong between two processes over two pipes; µs per
 * round trip (parent write, child read + write back, parent read). */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static int to_child[2], to_parent[2];

static void op(void)
{
	char c = 'p';

	if (write(to_child[1], &c, 1) != 1 || read(to_parent[0], &c, 1) != 1) {
		perror("ping");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	pid_t pid;
	int st;

	if (pipe(to_child) || pipe(to_parent)) {
		perror("pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		char c;

		close(to_child[1]);
		close(to_parent[0]);
		while (read(to_child[0], &c, 1) == 1)
			if (write(to_parent[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(to_child[0]);
	close(to_parent[1]);
	double ns = bench_run(argc, argv, op);
	close(to_child[1]); /* EOF: the child exits */
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "pipe_bench: echo child failed\n");
		return 1;
	}
	printf("pipe_rtt %.2f\n", ns / 1000.0);
	return 0;
}

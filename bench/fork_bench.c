/* fork_bench: fork + _exit(0) in the child + waitpid in the parent, µs per iteration. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static void op(void)
{
	int st;
	pid_t pid = fork();

	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0)
		_exit(0);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		perror("waitpid");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	printf("fork_exit_wait %.1f\n", bench_run(argc, argv, op) / 1000.0);
	return 0;
}

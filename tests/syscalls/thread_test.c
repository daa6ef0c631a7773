/* Threads: pthread_create/join (CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|
 * PARENT_SETTID|CHILD_CLEARTID), TLS, gettid, 50 threads, exit of one thread,
 * exit_group from a thread. */
#include "tap.h"

#include <pthread.h>
#include <sys/wait.h>

static __thread int tls_var = 7;
static int shared_counter;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
	long id = (long)arg;
	tls_var = (int)id;	/* private per thread */
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(&mu);
		shared_counter++;
		pthread_mutex_unlock(&mu);
	}
	if (tls_var != (int)id)
		return (void *)-1L;
	return (void *)(id * 2);
}

static void *tid_fn(void *arg)
{
	long *out = arg;
	out[0] = syscall(SYS_gettid);
	out[1] = getpid();
	return NULL;
}

static void *exit_group_fn(void *arg)
{
	(void)arg;
	syscall(SYS_exit_group, 17);
	return NULL;
}

int main(void)
{
	pthread_t th[50];
	long ids[2] = { 0, 0 };
	void *ret;
	int st;

	ok(pthread_create(&th[0], NULL, tid_fn, ids) == 0, "pthread_create");
	ok(pthread_join(th[0], NULL) == 0, "pthread_join (CLONE_CHILD_CLEARTID + futex wake)");
	ok(ids[0] > 0 && ids[0] != getpid(), "thread has its own tid (%ld)", ids[0]);
	is_long(ids[1], getpid(), "thread shares the pid");

	int made = 0;
	for (long i = 0; i < 50; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)i) == 0)
			made++;
	is_long(made, 50, "50 threads created");
	int good = 0;
	for (long i = 0; i < made; i++)
		if (pthread_join(th[i], &ret) == 0 && (long)ret == i * 2)
			good++;
	is_long(good, 50, "50 threads joined with their TLS intact");
	is_long(shared_counter, 50 * 1000, "mutex-protected counter");
	is_long(tls_var, 7, "main thread TLS untouched");

	/* exit_group from a thread ends the whole process with its status. */
	pid_t c = fork();
	if (c == 0) {
		pthread_t t;
		pthread_create(&t, NULL, exit_group_fn, NULL);
		pthread_join(t, NULL);
		_exit(1);
	}
	is_long(waitpid(c, &st, 0), c, "wait for a child whose thread calls exit_group");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 17, "exit_group(17) from the thread (st=%#x)", st);
	return done_testing();
}

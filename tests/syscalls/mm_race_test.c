/* Threads faulting on one page at once, and memory shared across fork: what
 * stress-ng --sem does (POSIX semaphores, a bogo-op counter in MAP_SHARED
 * memory written by a forked child's threads and read by the parent).
 *
 * Under the ptrace platform the sentry cannot learn the access type of a
 * fault. Two threads that fault on one page at the same time reach the
 * sentry one after the other; the first maps the page (or breaks its
 * copy-on-write), and the second then finds it mapped as its VMA allows.
 * That must not be taken for a protection fault (it was a SIGSEGV that
 * killed the stressor, whose parent then read a zero checksum). Every
 * access here is allowed, so any SIGSEGV fails the test. */
#include "tap.h"

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define PG 4096L
#define BLK (16 * PG)		/* fault-around block of the sentry */
#define NTHR 3

static void *map_anon(size_t len, int flags)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS,
		       -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* ---- threads touching the same fresh or copy-on-write pages ---- */

struct race {
	atomic_int go;		/* round number the threads may start */
	atomic_int done;	/* threads finished with the round */
	volatile char *buf;
	size_t len;
	long stride;
	bool cow;		/* every thread writes */
};

static struct race R;

static void *racer(void *arg)
{
	long id = (long)arg;

	for (int round = 1;; round++) {
		int go;

		while ((go = atomic_load(&R.go)) >= 0 && go < round)
			;
		if (go < 0)
			return NULL;
		/* All threads walk the pages in the same order, so they hit
		 * each one together: reads and writes mixed. */
		for (size_t off = 0; off < R.len; off += (size_t)R.stride) {
			if ((id & 1) || R.cow)
				R.buf[off + (size_t)id] = (char)id;
			else
				(void)R.buf[off];
		}
		atomic_fetch_add(&R.done, 1);
	}
}

/* rounds x (fresh or copy-on-write) pages touched by NTHR threads at once;
 * runs in a child so that a SIGSEGV shows as its status. cow: the pages are
 * written before a fork each round, so the threads break copy-on-write. */
static int race_rounds(int rounds, bool cow)
{
	pthread_t th[NTHR];
	size_t len = 16 * BLK;

	R.len = len;
	R.cow = cow;
	/* One page per fault-around block: every touch is a fault. */
	R.stride = BLK;
	for (long i = 0; i < NTHR; i++)
		if (pthread_create(&th[i], NULL, racer, (void *)i))
			return 2;
	for (int round = 1; round <= rounds; round++) {
		char *p = map_anon(len, MAP_PRIVATE);
		pid_t pid = 0;

		if (!p)
			return 3;
		if (cow) {
			memset(p, 1, len);
			pid = fork();
			if (pid < 0)
				return 4;
			if (pid == 0) {
				/* The child's own writes break its side. */
				memset(p, 2, len);
				_exit(p[len - 1] == 2 ? 0 : 1);
			}
		}
		R.buf = p;
		atomic_store(&R.done, 0);
		atomic_store(&R.go, round);
		while (atomic_load(&R.done) < NTHR)
			sched_yield();
		if (pid > 0) {
			int st;

			if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
			    WEXITSTATUS(st))
				return 5;
		}
		munmap(p, len);
	}
	atomic_store(&R.go, -1);
	for (int i = 0; i < NTHR; i++)
		pthread_join(th[i], NULL);
	return 0;
}

static void test_race(const char *what, int rounds, bool cow)
{
	pid_t pid = fork();
	int st = 0;

	if (pid == 0) {
		alarm(50);
		_exit(race_rounds(rounds, cow));
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid) {
		ok(0, "%s: fork/wait", what);
		return;
	}
	if (WIFSIGNALED(st))
		diag("  killed by signal %d", WTERMSIG(st));
	else if (WEXITSTATUS(st))
		diag("  exit status %d", WEXITSTATUS(st));
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "%s: %d rounds, %d threads, no SIGSEGV", what, rounds, NTHR);
}

/* ---- a counter in MAP_SHARED memory across fork ---- */

struct shared {
	sem_t sem;		/* process-shared POSIX semaphore */
	uint64_t locked;	/* incremented under sem */
	atomic_uint_fast64_t atomic;	/* incremented atomically */
};

#define INCS 3000

static struct shared *S;

static void bump(int n)
{
	for (int i = 0; i < n; i++) {
		while (sem_wait(&S->sem) < 0)
			;
		S->locked++;
		sem_post(&S->sem);
		atomic_fetch_add(&S->atomic, 1);
	}
}

static void *bumper(void *arg)
{
	(void)arg;
	bump(INCS);
	return NULL;
}

static void test_shared_counter(void)
{
	/* The checksum page is mapped before fork but first touched by the
	 * child, after its threads are gone (as stress-ng's). */
	uint64_t *sum = map_anon(4 * PG, MAP_SHARED);
	pthread_t th[2];
	int st = 0;
	pid_t pid;

	S = map_anon(PG, MAP_SHARED);
	if (!S || !sum || sem_init(&S->sem, 1, 1)) {
		ok(0, "MAP_SHARED counter: set-up");
		return;
	}
	pid = fork();
	if (pid == 0) {
		alarm(50);
		for (int i = 0; i < 2; i++)
			if (pthread_create(&th[i], NULL, bumper, NULL))
				_exit(2);
		bump(INCS);
		for (int i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		sum[0] = 3 * INCS;
		sum[1] = ~sum[0];
		_exit(0);
	}
	bump(INCS);
	ok(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		   WEXITSTATUS(st) == 0, "MAP_SHARED counter: child exits 0");
	is_long((long)S->locked, 4 * INCS,
		"counter under a process-shared sem_t: every increment seen");
	is_long((long)atomic_load(&S->atomic), 4 * INCS,
		"atomic counter: every increment seen");
	ok(sum[0] == 3 * INCS && sum[1] == ~(uint64_t)(3 * INCS),
	   "child's last write to a fresh shared page seen by the parent "
	   "(%lu)", (unsigned long)sum[0]);
	sem_destroy(&S->sem);
	munmap(S, PG);
	munmap(sum, 4 * PG);
}

int main(void)
{
	test_race("first touch of fresh pages", 30, false);
	test_race("writes to copy-on-write pages", 12, true);
	test_shared_counter();
	return done_testing();
}

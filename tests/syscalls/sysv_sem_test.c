/* System V semaphores: semget, semop, semtimedop, semctl (svipc(7)).
 * IPC_PRIVATE sets only, all removed at the end (natively this runs in the
 * host's IPC namespace). */
#include "tap.h"
#include "sysvipc.h"

#include <pthread.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <time.h>

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *__buf;
};

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_child(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int op(int id, unsigned short num, short val, short flg)
{
	struct sembuf sb = { num, val, flg };

	return semop(id, &sb, 1);
}

static int getval(int id, int num)
{
	return semctl(id, num, GETVAL);
}

static void on_sig(int sig)
{
	(void)sig;
}

static void test_basic(void)
{
	int id = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
	unsigned short all[3] = { 1, 2, 3 }, got[3] = { 0 };
	struct semid_ds ds;
	union semun arg;

	ok_sys(id, "semget IPC_PRIVATE 3");
	arg.buf = &ds;
	ok_sys(semctl(id, 0, IPC_STAT, arg), "IPC_STAT");
	is_long((long)ds.sem_nsems, 3, "sem_nsems");
	is_long((long)ds.sem_otime, 0, "otime 0");
	is_long(ds.sem_perm.mode & 0777, 0600, "mode");
	is_long(getval(id, 0), 0, "new semaphores are 0");
	arg.val = 5;
	ok_sys(semctl(id, 1, SETVAL, arg), "SETVAL");
	is_long(getval(id, 1), 5, "GETVAL");
	arg.array = all;
	ok_sys(semctl(id, 0, SETALL, arg), "SETALL");
	arg.array = got;
	ok_sys(semctl(id, 0, GETALL, arg), "GETALL");
	ok(got[0] == 1 && got[1] == 2 && got[2] == 3, "GETALL values");
	ok_sys(op(id, 2, -3, 0), "semop -3");
	is_long(getval(id, 2), 0, "value 0");
	is_long(semctl(id, 2, GETPID), getpid(), "GETPID");
	arg.buf = &ds;
	semctl(id, 0, IPC_STAT, arg);
	ok(ds.sem_otime > 0, "otime set by semop");
	is_errno(op(id, 2, -1, IPC_NOWAIT), EAGAIN, "IPC_NOWAIT would block: EAGAIN");
	is_errno(op(id, 0, 0, IPC_NOWAIT), EAGAIN, "wait-for-zero on 1: EAGAIN");
	ok_sys(op(id, 2, 0, 0), "wait-for-zero on 0 succeeds");

	/* Atomic: the second op blocks, so the first is not applied. */
	{
		struct sembuf sb[2] = { { 0, -1, 0 }, { 2, -1, IPC_NOWAIT } };

		is_errno(semop(id, sb, 2), EAGAIN, "multi-op blocks: EAGAIN");
		is_long(getval(id, 0), 1, "first op rolled back");
		sb[1].sem_op = 1;
		ok_sys(semop(id, sb, 2), "multi-op applies");
		ok(getval(id, 0) == 0 && getval(id, 2) == 1, "both applied");
	}

	/* Errors. */
	{
		struct sembuf big[501];

		memset(big, 0, sizeof(big));
		is_errno(semop(id, big, 501), E2BIG, "nsops > SEMOPM: E2BIG");
		is_errno(semop(id, big, 0), EINVAL, "nsops 0: EINVAL");
		is_errno(op(id, 3, 1, 0), EFBIG, "sem_num >= nsems: EFBIG");
		is_errno(semop(id, BAD_PTR, 1), EFAULT, "bad sops: EFAULT");
		is_errno(op(-1, 0, 1, 0), EINVAL, "bad id: EINVAL");
		arg.val = 40000;
		is_errno(semctl(id, 0, SETVAL, arg), ERANGE, "SETVAL > SEMVMX: ERANGE");
		arg.val = 32767;
		semctl(id, 0, SETVAL, arg);
		is_errno(op(id, 0, 1, 0), ERANGE, "semop past SEMVMX: ERANGE");
		arg.val = 1;
		is_errno(semctl(id, 3, SETVAL, arg), EINVAL, "SETVAL semnum out of range");
		is_errno(semctl(id, -1, GETVAL), EINVAL, "GETVAL semnum -1");
		is_errno(semctl(id, 0, 9999), EINVAL, "bad cmd: EINVAL");
		is_errno(semctl(-1, 0, GETVAL), EINVAL, "semctl bad id");
		is_errno(semget(IPC_PRIVATE, 0, 0600), EINVAL, "nsems 0: EINVAL");
		is_errno(semget(IPC_PRIVATE, -1, 0600), EINVAL, "nsems -1: EINVAL");
		arg.buf = BAD_PTR;
		is_errno(semctl(id, 0, IPC_STAT, arg), EFAULT, "IPC_STAT bad ptr");
	}
	ok_sys(semctl(id, 0, IPC_RMID), "IPC_RMID");
	is_errno(getval(id, 0), EINVAL, "removed: EINVAL");
}

static void test_blocking(void)
{
	int id = semget(IPC_PRIVATE, 2, 0600);
	struct timespec ts = { 0, 50 * 1000000L };
	long t0;
	pid_t pid;

	/* Woken by another process; it sees us in GETNCNT first. */
	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 500 && semctl(id, 0, GETNCNT) != 1; i++)
			msleep(5);
		if (semctl(id, 0, GETNCNT) != 1)
			_exit(1);
		_exit(op(id, 0, 1, 0) ? 2 : 0);
	}
	ok_sys(op(id, 0, -1, 0), "blocking semop woken by a child");
	is_long(wait_child(pid), 0, "child saw GETNCNT 1 and posted");
	is_long(semctl(id, 0, GETNCNT), 0, "GETNCNT back to 0");

	/* Wait for zero, counted in GETZCNT. */
	op(id, 1, 1, 0);
	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 500 && semctl(id, 1, GETZCNT) != 1; i++)
			msleep(5);
		if (semctl(id, 1, GETZCNT) != 1)
			_exit(1);
		_exit(op(id, 1, -1, 0) ? 2 : 0);
	}
	ok_sys(op(id, 1, 0, 0), "wait-for-zero woken");
	is_long(wait_child(pid), 0, "child saw GETZCNT 1");

	/* Timeout. */
	t0 = now_ms();
	is_errno(semtimedop(id, &(struct sembuf){ 0, -1, 0 }, 1, &ts), EAGAIN,
		 "semtimedop timeout: EAGAIN");
	ok(now_ms() - t0 >= 40, "waited for the timeout");
	ts.tv_nsec = 1000000000L;
	is_errno(semtimedop(id, &(struct sembuf){ 0, -1, 0 }, 1, &ts), EINVAL,
		 "bad timeout: EINVAL");

	/* A signal interrupts: EINTR even with SA_RESTART (never restarted). */
	{
		struct sigaction sa = { .sa_handler = on_sig, .sa_flags = SA_RESTART };
		pid_t parent = getpid();

		sigaction(SIGUSR1, &sa, NULL);
		pid = fork();
		if (pid == 0) {
			for (int i = 0; i < 500 && semctl(id, 0, GETNCNT) != 1; i++)
				msleep(5);
			kill(parent, SIGUSR1);
			_exit(0);
		}
		is_errno(op(id, 0, -1, 0), EINTR, "signal interrupts semop: EINTR");
		wait_child(pid);
		is_long(semctl(id, 0, GETNCNT), 0, "GETNCNT 0 after EINTR");
		signal(SIGUSR1, SIG_DFL);
	}

	/* IPC_RMID wakes sleepers with EIDRM. */
	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 500 && semctl(id, 0, GETNCNT) != 1; i++)
			msleep(5);
		_exit(semctl(id, 0, IPC_RMID) ? 1 : 0);
	}
	is_errno(op(id, 0, -1, 0), EIDRM, "IPC_RMID wakes the sleeper: EIDRM");
	is_long(wait_child(pid), 0, "child removed the set");
}

static int thread_id;

static void *poster(void *arg)
{
	(void)arg;
	for (int i = 0; i < 500 && semctl(thread_id, 0, GETNCNT) != 1; i++)
		msleep(5);
	return (void *)(long)op(thread_id, 0, 1, 0);
}

static void test_threads(void)
{
	pthread_t th;
	void *ret;

	thread_id = semget(IPC_PRIVATE, 1, 0600);
	pthread_create(&th, NULL, poster, NULL);
	ok_sys(op(thread_id, 0, -1, 0), "semop woken by another thread");
	pthread_join(th, &ret);
	is_long((long)ret, 0, "thread posted");
	semctl(thread_id, 0, IPC_RMID);
}

static void test_undo(void)
{
	int id = semget(IPC_PRIVATE, 2, 0600);
	union semun arg;
	pid_t pid;

	pid = fork();
	if (pid == 0)
		_exit(op(id, 0, 2, SEM_UNDO) ? 1 : 0);
	is_long(wait_child(pid), 0, "child semop +2 SEM_UNDO");
	is_long(getval(id, 0), 0, "undone at the child's exit");

	arg.val = 5;
	semctl(id, 1, SETVAL, arg);
	pid = fork();
	if (pid == 0) {
		if (op(id, 1, -1, SEM_UNDO) || op(id, 1, -1, SEM_UNDO))
			_exit(1);
		_exit(getval(id, 1) == 3 ? 0 : 2);
	}
	is_long(wait_child(pid), 0, "child took 2 with SEM_UNDO");
	is_long(getval(id, 1), 5, "given back at exit");

	/* Undo clamps at 0 when the value was taken meanwhile. */
	pid = fork();
	if (pid == 0) {
		if (op(id, 0, 3, SEM_UNDO))
			_exit(1);
		arg.val = 1;
		semctl(id, 0, SETVAL, arg);	/* clears the adjustment */
		_exit(0);
	}
	wait_child(pid);
	is_long(getval(id, 0), 1, "SETVAL clears the undo adjustment");

	/* Killed processes are undone too. */
	pid = fork();
	if (pid == 0) {
		op(id, 0, 4, SEM_UNDO);
		pause();
		_exit(0);
	}
	for (int i = 0; i < 500 && getval(id, 0) != 5; i++)
		msleep(5);
	is_long(getval(id, 0), 5, "child added 4");
	kill(pid, SIGKILL);
	wait_child(pid);
	is_long(getval(id, 0), 1, "undone when killed");
	semctl(id, 0, IPC_RMID);
}

static void test_info(void)
{
	struct seminfo si;
	union semun arg = { .__buf = &si };
	int id = semget(IPC_PRIVATE, 4, 0600);
	struct semid_ds ds;
	int r, found = 0;

	r = semctl(0, 0, IPC_INFO, arg);
	ok(r >= 0 && si.semmsl > 0 && si.semopm > 0 && si.semvmx == 32767,
	   "IPC_INFO");
	r = semctl(0, 0, SEM_INFO, arg);
	ok(r >= 0 && si.semusz >= 1 && si.semaem >= 4, "SEM_INFO counts sets and semaphores");
	arg.buf = &ds;
	for (int i = 0; i <= r; i++)
		if (semctl(i, 0, SEM_STAT, arg) == id && ds.sem_nsems == 4)
			found = 1;
	ok(found, "SEM_STAT by index");
	semctl(id, 0, IPC_RMID);
}

static void test_proc(void)
{
	static const char hdr[] =
		"       key      semid perms      nsems   uid   gid  cuid  cgid"
		"      otime      ctime\n";
	char line[512];
	int id = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600), key, sid;
	unsigned perms, nsems, uid, gid, cuid, cgid;
	long long otime, ctime;
	struct sembuf op = { 0, 1, 0 };

	ok_sys(id, "proc: semget");
	ok(sysvipc_line("sem", hdr, id, line, sizeof(line)) == 0,
	   "/proc/sysvipc/sem: header and a line for the set");
	ok(sscanf(line, "%d %d %o %u %u %u %u %u %lld %lld", &key, &sid, &perms,
		  &nsems, &uid, &gid, &cuid, &cgid, &otime, &ctime) == 10 &&
	   perms == 0600 && nsems == 3 && uid == geteuid() &&
	   cgid == getegid() && otime == 0 && ctime > 0,
	   "sem line: perms, nsems 3, owner, otime 0 (%s)", line);
	ok_sys(semop(id, &op, 1), "proc: semop");
	ok(sysvipc_line("sem", hdr, id, line, sizeof(line)) == 0 &&
	   sscanf(line, "%*d %*d %*o %*u %*u %*u %*u %*u %lld", &otime) == 1 &&
	   otime > 0, "after semop: otime set (%s)", line);
	ok_sys(semctl(id, 0, IPC_RMID), "proc: IPC_RMID");
	ok(sysvipc_line("sem", hdr, id, line, sizeof(line)) == -3,
	   "removed: the set is gone from the list");
}

int main(void)
{
	test_basic();
	test_blocking();
	test_threads();
	test_undo();
	test_info();
	test_proc();
	return done_testing();
}

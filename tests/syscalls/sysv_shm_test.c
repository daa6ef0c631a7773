/* System V shared memory: shmget, shmat, shmdt, shmctl (svipc(7)).
 * Segments are IPC_PRIVATE or use keys made from the pid, and every test
 * removes what it creates: natively this runs in the host's namespace.
 * Re-executes itself with "--exec-child ID" to check the detach at exec. */
#include "tap.h"
#include "sysvipc.h"

#include <signal.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>

#ifndef SHM_REMAP
#define SHM_REMAP 040000
#endif

static key_t test_key(int n)
{
	return (key_t)(0x5c000000 | ((getpid() & 0xfffff) << 4) | n);
}

static int wait_child(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static long nattch(int id)
{
	struct shmid_ds ds;

	if (shmctl(id, IPC_STAT, &ds))
		return -1;
	return (long)ds.shm_nattch;
}

static int exec_child(const char *arg)
{
	/* Only the parent's attachment is left after our exec. */
	return nattch(atoi(arg)) == 1 ? 0 : 1;
}

static void test_basic(void)
{
	struct shmid_ds ds;
	int id = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
	char *p;
	pid_t pid;

	ok_sys(id, "shmget IPC_PRIVATE 8192");
	ok_sys(shmctl(id, IPC_STAT, &ds), "IPC_STAT");
	is_long((long)ds.shm_segsz, 8192, "shm_segsz");
	is_long((long)ds.shm_nattch, 0, "nattch 0 before shmat");
	is_long(ds.shm_cpid, getpid(), "shm_cpid");
	is_long(ds.shm_perm.mode & 0777, 0600, "mode 0600");
	is_long(ds.shm_perm.uid, geteuid(), "uid is euid");
	is_long(ds.shm_perm.cuid, geteuid(), "cuid is euid");
	is_long(ds.shm_perm.__key, IPC_PRIVATE, "key IPC_PRIVATE");
	is_long((long)ds.shm_atime, 0, "atime 0");
	ok(ds.shm_ctime > 0, "ctime set");

	p = shmat(id, NULL, 0);
	ok(p != (void *)-1, "shmat NULL");
	ok(((uintptr_t)p & 4095) == 0, "attach address page aligned");
	ok(p[0] == 0 && p[8191] == 0, "new segment reads zero");
	strcpy(p, "parent");
	strcpy(p + 4096, "page2");
	shmctl(id, IPC_STAT, &ds);
	is_long((long)ds.shm_nattch, 1, "nattch 1");
	is_long(ds.shm_lpid, getpid(), "shm_lpid after shmat");
	ok(ds.shm_atime > 0, "atime set by shmat");

	pid = fork();
	if (pid == 0) {
		int bad = 0;

		if (strcmp(p, "parent") || strcmp(p + 4096, "page2"))
			bad |= 1;
		if (nattch(id) != 2)
			bad |= 2;
		strcpy(p, "child");
		_exit(bad);
	}
	is_long(wait_child(pid), 0, "child inherits the attachment, nattch 2");
	ok(!strcmp(p, "child"), "parent sees the child's write");
	is_long(nattch(id), 1, "nattch back to 1 after child exit");

	/* A child that attaches on its own. */
	pid = fork();
	if (pid == 0) {
		char *q;

		if (shmdt(p))
			_exit(1);
		q = shmat(id, NULL, 0);
		if (q == (void *)-1)
			_exit(2);
		strcpy(q + 100, "fresh");
		if (shmdt(q))
			_exit(3);
		_exit(0);
	}
	is_long(wait_child(pid), 0, "child shmdt + own shmat");
	ok(!strcmp(p + 100, "fresh"), "data written through another attach");

	/* SHM_RDONLY. */
	{
		char *r = shmat(id, NULL, SHM_RDONLY);

		ok(r != (void *)-1 && !strcmp(r, "child"),
		   "SHM_RDONLY attach reads");
		is_long(nattch(id), 2, "two attachments");
		ok(mprotect(r, 4096, PROT_READ | PROT_WRITE) == -1 &&
			   errno == EACCES,
		   "mprotect(PROT_WRITE) of SHM_RDONLY is EACCES");
		ok_sys(shmdt(r), "shmdt read-only attach");
	}

	is_errno(shmdt(p + 4096), EINVAL, "shmdt inside an attach: EINVAL");
	is_errno(shmdt(p + 1), EINVAL, "shmdt unaligned: EINVAL");
	ok_sys(shmdt(p), "shmdt");
	is_errno(shmdt(p), EINVAL, "shmdt twice: EINVAL");
	shmctl(id, IPC_STAT, &ds);
	is_long((long)ds.shm_nattch, 0, "nattch 0 after shmdt");
	ok(ds.shm_dtime > 0, "dtime set");
	ok_sys(shmctl(id, IPC_RMID, NULL), "IPC_RMID");
	is_errno(shmctl(id, IPC_STAT, &ds), EINVAL, "removed: IPC_STAT EINVAL");
}

static void test_addresses(void)
{
	int id = shmget(IPC_PRIVATE, 4096, 0600);
	char *hole, *p;
	char *m;

	hole = mmap(NULL, 4 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(hole, 4 * 4096);
	is_errno((long)shmat(id, hole + 1, 0), EINVAL,
		 "unaligned shmaddr without SHM_RND: EINVAL");
	p = shmat(id, hole + 4096 + 5, SHM_RND);
	ok(p == hole + 4096, "SHM_RND rounds down");
	is_errno((long)shmat(id, hole + 4096, 0), EINVAL,
		 "shmat over a mapping without SHM_REMAP: EINVAL");
	m = shmat(id, hole + 4096, SHM_REMAP);
	ok(m == hole + 4096, "SHM_REMAP replaces");
	is_long(nattch(id), 1, "the replaced attach is gone");
	is_errno((long)shmat(id, NULL, SHM_REMAP), EINVAL,
		 "SHM_REMAP with NULL: EINVAL");
	ok_sys(shmdt(m), "shmdt");
	/* An attach that was munmap()ed is not one for shmdt. */
	p = shmat(id, NULL, 0);
	munmap(p, 4096);
	is_errno(shmdt(p), EINVAL, "shmdt after munmap: EINVAL");
	is_long(nattch(id), 0, "munmap detaches");
	shmctl(id, IPC_RMID, NULL);
}

static void test_errors(void)
{
	key_t key = test_key(1);
	struct shmid_ds ds;
	int id;

	is_errno(shmget(IPC_PRIVATE, 0, 0600), EINVAL, "size 0: EINVAL");
	is_errno(shmget(IPC_PRIVATE, (size_t)-1, 0600), EINVAL,
		 "size > SHMMAX: EINVAL");
	is_errno(shmget(key, 4096, 0600), ENOENT, "unknown key: ENOENT");
	id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
	ok_sys(id, "shmget key IPC_CREAT|IPC_EXCL");
	is_errno(shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600), EEXIST,
		 "again with IPC_EXCL: EEXIST");
	is_long(shmget(key, 100, 0), id, "lookup by key, smaller size");
	is_errno(shmget(key, 8192, 0), EINVAL, "lookup with larger size: EINVAL");
	is_errno((long)shmat(-1, NULL, 0), EINVAL, "shmat id -1: EINVAL");
	is_errno((long)shmat(id + (1 << 15), NULL, 0), EINVAL,
		 "shmat stale sequence: EINVAL");
	is_errno(shmctl(-1, IPC_STAT, &ds), EINVAL, "shmctl id -1: EINVAL");
	is_errno(shmctl(id, 12345, &ds), EINVAL, "shmctl bad cmd: EINVAL");
	is_errno(shmctl(id, IPC_STAT, BAD_PTR), EFAULT, "IPC_STAT bad ptr: EFAULT");
	is_errno(shmctl(id, IPC_SET, BAD_PTR), EFAULT, "IPC_SET bad ptr: EFAULT");

	/* IPC_SET */
	shmctl(id, IPC_STAT, &ds);
	ds.shm_perm.mode = 0640;
	ok_sys(shmctl(id, IPC_SET, &ds), "IPC_SET");
	shmctl(id, IPC_STAT, &ds);
	is_long(ds.shm_perm.mode & 0777, 0640, "IPC_SET changed mode");

	if (geteuid() == 0) {
		pid_t pid = fork();

		if (pid == 0) {
			int r = 0;

			if (setuid(65534))
				_exit(9);
			if (shmget(key, 4096, 0600) != -1 || errno != EACCES)
				r |= 1;
			if (shmat(id, NULL, 0) != (void *)-1 || errno != EACCES)
				r |= 2;
			if (shmctl(id, IPC_RMID, NULL) != -1 || errno != EPERM)
				r |= 4;
			_exit(r);
		}
		is_long(wait_child(pid), 0,
			"other uid: shmget/shmat EACCES, IPC_RMID EPERM");
	} else {
		skip("not root", "permission checks");
	}

	ok_sys(shmctl(id, SHM_LOCK, NULL), "SHM_LOCK");
	shmctl(id, IPC_STAT, &ds);
	ok(ds.shm_perm.mode & SHM_LOCKED, "SHM_LOCKED in mode");
	ok_sys(shmctl(id, SHM_UNLOCK, NULL), "SHM_UNLOCK");
	ok_sys(shmctl(id, IPC_RMID, NULL), "IPC_RMID");
	is_errno(shmget(key, 4096, 0), ENOENT, "key gone after IPC_RMID");
}

static void test_rmid_deferred(char *argv0)
{
	key_t key = test_key(2);
	int id = shmget(key, 4096, IPC_CREAT | 0600);
	struct shmid_ds ds;
	char *p = shmat(id, NULL, 0);
	pid_t pid;
	int pfd[2];
	char c;

	strcpy(p, "kept");
	ok_sys(shmctl(id, IPC_RMID, NULL), "IPC_RMID while attached");
	ok_sys(shmctl(id, IPC_STAT, &ds), "IPC_STAT still works");
	ok(ds.shm_perm.mode & SHM_DEST, "SHM_DEST set");
	is_long(ds.shm_perm.__key, IPC_PRIVATE, "key is IPC_PRIVATE now");
	is_long((long)ds.shm_nattch, 1, "nattch 1");
	is_errno(shmget(key, 4096, 0), ENOENT, "old key: ENOENT");
	ok(!strcmp(p, "kept"), "data still there");

	/* Exit of the last attacher destroys it. */
	if (pipe(pfd))
		bail_out("pipe");
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		if (write(pfd[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &c, 1) != 1)
		bail_out("read");
	close(pfd[0]);
	is_long(nattch(id), 2, "child holds the removed segment");
	ok_sys(shmdt(p), "parent shmdt");
	is_long(nattch(id), 1, "nattch 1 (child)");
	kill(pid, SIGKILL);
	wait_child(pid);
	is_errno(shmctl(id, IPC_STAT, &ds), EINVAL,
		 "destroyed after the last attacher exits");

	/* Exec detaches. */
	id = shmget(IPC_PRIVATE, 4096, 0600);
	p = shmat(id, NULL, 0);
	pid = fork();
	if (pid == 0) {
		char arg[32];

		snprintf(arg, sizeof(arg), "%d", id);
		execl(argv0, argv0, "--exec-child", arg, (char *)NULL);
		_exit(127);
	}
	is_long(wait_child(pid), 0, "exec drops the inherited attachment");
	shmdt(p);
	shmctl(id, IPC_RMID, NULL);
}

static void test_info(void)
{
	struct shminfo si;
	struct shm_info sinfo;
	struct shmid_ds ds;
	int id = shmget(IPC_PRIVATE, 3 * 4096, 0600);
	char *p = shmat(id, NULL, 0);
	int maxidx, r;

	p[0] = 1;
	maxidx = shmctl(0, IPC_INFO, (struct shmid_ds *)&si);
	ok(maxidx >= 0, "IPC_INFO returns the highest index");
	ok(si.shmmax > 0 && si.shmmni > 0 && si.shmall > 0 && si.shmmin == 1,
	   "shminfo limits");
	r = shmctl(0, SHM_INFO, (struct shmid_ds *)&sinfo);
	ok(r >= 0 && sinfo.used_ids >= 1, "SHM_INFO used_ids");
	ok(sinfo.shm_tot >= 3, "SHM_INFO shm_tot counts pages");
	ok(sinfo.shm_rss >= 1, "SHM_INFO shm_rss counts touched pages");
	/* SHM_STAT takes an index and returns the id. */
	r = -1;
	for (int i = 0; i <= maxidx; i++) {
		int got = shmctl(i, SHM_STAT, &ds);

		if (got == id) {
			r = 0;
			is_long((long)ds.shm_segsz, 3 * 4096, "SHM_STAT segsz");
		}
	}
	is_long(r, 0, "SHM_STAT finds the segment by index");
	shmdt(p);
	shmctl(id, IPC_RMID, NULL);
}

static void test_proc(void)
{
	static const char hdr[] =
		"       key      shmid perms                  size  cpid  lpid"
		" nattch   uid   gid  cuid  cgid      atime      dtime      ctime"
		"                   rss                  swap\n";
	char line[512];
	int id = shmget(IPC_PRIVATE, 5000, IPC_CREAT | 0640), key, sid;
	unsigned perms, cpid, lpid, uid;
	unsigned long size, nattch;
	void *a;

	ok_sys(id, "proc: shmget");
	a = shmat(id, NULL, 0);
	ok(a != (void *)-1, "proc: shmat");
	ok(sysvipc_line("shm", hdr, id, line, sizeof(line)) == 0,
	   "/proc/sysvipc/shm: header and a line for the segment");
	ok(sscanf(line, "%d %d %o %lu %u %u %lu %u", &key, &sid, &perms, &size,
		  &cpid, &lpid, &nattch, &uid) == 8 && key == 0 &&
	   perms == 0640 && size == 5000 && cpid == (unsigned)getpid() &&
	   lpid == (unsigned)getpid() && nattch == 1 && uid == geteuid(),
	   "shm line: key 0, perms 640, size, cpid, lpid, nattch 1 (%s)", line);
	ok_sys(shmctl(id, IPC_RMID, NULL), "proc: IPC_RMID while attached");
	ok(sysvipc_line("shm", hdr, id, line, sizeof(line)) == 0 &&
	   sscanf(line, "%d %d %o", &key, &sid, &perms) == 3 &&
	   perms == 01640, "removed, attached: perms show SHM_DEST (%s)", line);
	shmdt(a);
	ok(sysvipc_line("shm", hdr, id, line, sizeof(line)) == -3,
	   "detached: the segment is gone from the list");
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--exec-child"))
		return exec_child(argv[2]);
	test_basic();
	test_addresses();
	test_errors();
	test_rmid_deferred(argv[0]);
	test_info();
	test_proc();
	return done_testing();
}

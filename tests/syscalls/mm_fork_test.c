/* msync, mincore, MAP_GROWSDOWN and main-stack growth, then copy-on-write fork
 * (msync(2), mincore(2), mmap(2) MAP_GROWSDOWN, fork(2), madvise(2)
 * MADV_DONTFORK/MADV_WIPEONFORK; mm/msync.c, mm/mincore.c, mm/mmap.c
 * expand_downwards, kernel/fork.c dup_mmap). The fork checks come last and are
 * skipped while fork(2) gives ENOSYS. No signal delivery is needed: every
 * fault here is one the kernel resolves. */
#include "tap.h"

#include <sched.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define PG 4096L

static void *sys_mmap(void *a, size_t l, int prot, int fl, int fd, off_t off)
{
	return (void *)syscall(SYS_mmap, a, l, prot, fl, fd, off);
}
static int is_map_err(void *p) { return (unsigned long)p > -4096UL; }

static void test_msync(void)
{
	char *p = sys_mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (is_map_err(p))
		bail_out("mmap");
	p[0] = 1;
	ok_sys(syscall(SYS_msync, p, 4 * PG, MS_SYNC), "msync MS_SYNC");
	ok_sys(syscall(SYS_msync, p, 4 * PG, MS_ASYNC), "msync MS_ASYNC");
	ok_sys(syscall(SYS_msync, p, 4 * PG, MS_INVALIDATE), "msync MS_INVALIDATE");
	ok_sys(syscall(SYS_msync, p, 4 * PG, 0), "msync flags 0");
	ok_sys(syscall(SYS_msync, p, 100, MS_SYNC), "msync of a partial page length");
	ok_sys(syscall(SYS_msync, p, 0, MS_SYNC), "msync length 0");
	is_errno(syscall(SYS_msync, p, PG, MS_SYNC | MS_ASYNC), EINVAL,
		 "msync MS_SYNC|MS_ASYNC: EINVAL");
	is_errno(syscall(SYS_msync, p, PG, 0x100), EINVAL, "msync unknown flag: EINVAL");
	is_errno(syscall(SYS_msync, p + 1, PG, MS_SYNC), EINVAL, "msync unaligned: EINVAL");
	munmap(p + 2 * PG, PG);
	is_errno(syscall(SYS_msync, p, 4 * PG, MS_SYNC), ENOMEM,
		 "msync over a hole: ENOMEM");
	is_errno(syscall(SYS_msync, p + 2 * PG, PG, MS_SYNC), ENOMEM,
		 "msync of unmapped memory: ENOMEM");
	is_errno(syscall(SYS_msync, p, -4096L * 4, MS_SYNC), ENOMEM,
		 "msync with a wrapping range: ENOMEM");
	munmap(p, 4 * PG);

	/* A shared file mapping on tmpfs stays coherent; msync is a no-op. */
	char path[] = "/tmp/cvisor-msync-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		skip("no mkstemp", "msync MAP_SHARED file");
		return;
	}
	unlink(path);
	if (ftruncate(fd, PG) < 0) {
		char z[PG] = { 0 };
		if (write(fd, z, PG) != PG)
			bail_out("grow file");
	}
	char *m = sys_mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (is_map_err(m)) {
		skip("no shared file mmap", "msync MAP_SHARED file");
		close(fd);
		return;
	}
	memcpy(m, "synced", 6);
	ok_sys(syscall(SYS_msync, m, PG, MS_SYNC), "msync MS_SYNC of a shared file mapping");
	char b[6] = { 0 };
	ok(pread(fd, b, 6, 0) == 6 && !memcmp(b, "synced", 6),
	   "the file has the data after msync");
	munmap(m, PG);
	close(fd);
}

static void test_mincore(void)
{
	unsigned char vec[70];
	char *p = sys_mmap(NULL, 64 * PG, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (is_map_err(p))
		bail_out("mmap");
	p[0] = 1;
	p[2 * PG] = 1;
	memset(vec, 0xff, sizeof(vec));
	ok_sys(syscall(SYS_mincore, p, 64 * PG, vec), "mincore");
	/* Untouched pages near touched ones may be resident (fault-around,
	 * huge pages); pages far from any touched one are not. */
	ok((vec[0] & 1) && (vec[2] & 1) && !(vec[40] & 1) && !(vec[63] & 1) &&
		   vec[64] == 0xff,
	   "mincore: touched pages resident, far untouched ones not (%x %x %x %x)",
	   vec[0], vec[2], vec[40], vec[63]);
	ok_sys(syscall(SYS_mincore, p, 1, vec), "mincore of a partial page");
	ok_sys(syscall(SYS_mincore, p, 0, vec), "mincore length 0");
	is_errno(syscall(SYS_mincore, p + 1, PG, vec), EINVAL, "mincore unaligned: EINVAL");
	is_errno(syscall(SYS_mincore, p, PG, BAD_PTR), EFAULT, "mincore bad vec: EFAULT");
	is_errno(syscall(SYS_mincore, p, PG, KERNEL_PTR), EFAULT,
		 "mincore kernel vec: EFAULT");
	is_errno(syscall(SYS_mincore, KERNEL_PTR, PG, vec), ENOMEM,
		 "mincore of a kernel address: ENOMEM");
	munmap(p + 3 * PG, PG);
	is_errno(syscall(SYS_mincore, p, 4 * PG, vec), ENOMEM,
		 "mincore over a hole: ENOMEM");
	is_errno(syscall(SYS_mincore, p + 3 * PG, PG, vec), ENOMEM,
		 "mincore of unmapped memory: ENOMEM");
	munmap(p, 64 * PG);
}

static void test_growsdown(void)
{
	unsigned char vec[1];
	/* Make a 32 MiB hole so nothing lies within the guard gap. */
	char *hole = sys_mmap(NULL, 32 << 20, PROT_NONE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (is_map_err(hole))
		bail_out("mmap hole");
	munmap(hole, 32 << 20);
	char *top = hole + (32 << 20) - PG;
	char *g = sys_mmap(top, PG, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, -1, 0);
	ok(g == top, "MAP_GROWSDOWN mapping");
	if (g != top)
		return;
	is_errno(syscall(SYS_mincore, top - 8 * PG, PG, vec), ENOMEM,
		 "the pages below are not mapped yet");
	volatile char *below = top - 8 * PG;
	*below = 42;
	ok(*below == 42, "a write 8 pages below grows the mapping");
	ok_sys(syscall(SYS_mincore, top - 8 * PG, 9 * PG, (unsigned char[9]){ 0 }),
	       "the grown range is mapped (mincore)");
	/* A kernel copy below it grows it too (read(2) into the stack). */
	int fd = open("/dev/zero", O_RDONLY);
	ok(fd >= 0 && read(fd, top - 64 * PG, 16) == 16,
	   "read(2) into memory below the growsdown mapping grows it");
	close(fd);
	munmap(top - 64 * PG, 65 * PG);
	is_errno((long)sys_mmap(NULL, PG, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0),
		 EINVAL, "shared anonymous MAP_GROWSDOWN: EINVAL");
}

/* Touch `bytes` of stack, one byte per page from the top down. */
__attribute__((noinline)) static int use_stack(size_t bytes)
{
	volatile char *buf = __builtin_alloca(bytes);
	int sum = 0;

	for (size_t i = bytes; i >= PG; i -= PG)
		buf[i - 1] = (char)i;
	buf[0] = 1;
	for (size_t i = bytes; i >= PG; i -= PG)
		sum += buf[i - 1] == (char)i;
	return sum == (int)(bytes / PG);
}

static void test_main_stack(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_STACK, &rl) || rl.rlim_cur < (8UL << 20)) {
		skip("RLIMIT_STACK below 8 MiB", "main stack grows to 6 MiB");
		return;
	}
	ok(use_stack(6UL << 20), "the main stack grows to 6 MiB on demand");
}

/* ---- fork ---- */

static volatile int *flag;	/* in a MAP_SHARED page */

static int child_status(pid_t pid)
{
	int st = 0;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void wait_flag(int v)
{
	for (long i = 0; *flag != v && i < 200000000L; i++)
		sched_yield();
}

static void test_fork(void)
{
	char *priv = sys_mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *shared = sys_mmap(NULL, PG, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *dontfork = sys_mmap(NULL, PG, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *wipe = sys_mmap(NULL, PG, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *ro = sys_mmap(NULL, PG, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (is_map_err(priv) || is_map_err(shared) || is_map_err(dontfork) ||
	    is_map_err(wipe) || is_map_err(ro))
		bail_out("mmap");
	flag = (volatile int *)(shared + PG - 64);
	memset(priv, 'A', 4 * PG);
	memset(dontfork, 'D', PG);
	memset(wipe, 'W', PG);
	memset(ro, 'R', PG);
	mprotect(ro, PG, PROT_READ);
	ok_sys(madvise(dontfork, PG, MADV_DONTFORK), "MADV_DONTFORK");
	ok_sys(madvise(wipe, PG, MADV_WIPEONFORK), "MADV_WIPEONFORK");

	pid_t pid = fork();
	if (pid < 0 && errno == ENOSYS) {
		skip("fork(2) not implemented yet", "fork: copy-on-write checks");
		return;
	}
	if (pid < 0) {
		ok(0, "fork: errno %d", errno);
		return;
	}
	if (pid == 0) {
		unsigned char vec[1];
		int bad = 0;

		/* Old data visible, then private writes. */
		for (long i = 0; i < 4 * PG; i++)
			bad |= priv[i] != 'A';
		if (bad)
			_exit(10);
		memset(priv, 'C', PG);
		/* A kernel write into a COW page (read from /dev/zero). */
		int fd = open("/dev/zero", O_RDONLY);
		if (fd < 0 || read(fd, priv + PG, 16) != 16 || priv[PG] != 0)
			_exit(11);
		close(fd);
		if (syscall(SYS_mincore, dontfork, PG, vec) != -1 || errno != ENOMEM)
			_exit(12);
		for (long i = 0; i < PG; i++)
			bad |= wipe[i] != 0;
		if (bad)
			_exit(13);
		if (ro[0] != 'R')
			_exit(14);
		shared[0] = 'S';
		*flag = 1;		/* tell the parent: write your page now */
		wait_flag(2);
		if (*flag != 2 || priv[2 * PG] != 'A')
			_exit(15);
		_exit(0);
	}
	wait_flag(1);
	memset(priv + 2 * PG, 'P', PG);	/* must not reach the child */
	*flag = 2;
	is_long(child_status(pid), 0,
		"child saw the old data, its writes are private, DONTFORK is a hole, "
		"WIPEONFORK reads zero, parent's later writes stay in the parent");
	ok(priv[0] == 'A' && priv[PG] == 'A' && priv[2 * PG] == 'P' && priv[3 * PG] == 'A',
	   "parent's private pages are unchanged by the child");
	ok(shared[0] == 'S', "MAP_SHARED anonymous memory is shared with the child");
	ok(dontfork[0] == 'D' && wipe[0] == 'W',
	   "parent keeps its DONTFORK and WIPEONFORK data");

	/* Many children writing the same COW pages. */
	int good = 1;
	for (int k = 0; k < 8; k++) {
		pid = fork();
		if (pid == 0) {
			for (long i = 0; i < 4 * PG; i += 512)
				priv[i] = (char)k;
			_exit(priv[PG] == (char)k ? 0 : 1);
		}
		good &= pid > 0 && child_status(pid) == 0;
	}
	ok(good && priv[0] == 'A' && priv[3 * PG] == 'A',
	   "eight children in turn write COW pages privately");

	/* Parent writes first, child then sees the old value. */
	memset(priv, 'A', PG);
	*flag = 0;
	pid = fork();
	if (pid == 0) {
		wait_flag(1);
		_exit(priv[0] == 'A' ? 0 : 1);
	}
	priv[0] = 'Z';
	*flag = 1;
	is_long(child_status(pid), 0, "a parent write after fork is invisible to the child");
}

int main(void)
{
	test_msync();
	test_mincore();
	test_growsdown();
	test_main_stack();
	test_fork();
	return done_testing();
}

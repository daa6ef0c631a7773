/* Process identity and limits: getpid/getppid/gettid, get*id, getgroups, set_tid_address,
 * arch_prctl, prlimit64/getrlimit, uname, sysinfo, umask, sched_yield,
 * sched_getaffinity, set_robust_list, sigaltstack is in signal_test. No fork here. */
#include "tap.h"

#include <asm/prctl.h>
#include <sched.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

static void test_ids(void)
{
	long pid = syscall(SYS_getpid), tid = syscall(SYS_gettid);
	ok(pid > 0, "getpid > 0 (%ld)", pid);
	is_long(tid, pid, "gettid == getpid in a single-threaded process");
	ok(syscall(SYS_getppid) >= 0, "getppid >= 0");
	is_long(syscall(SYS_getpid), pid, "getpid is stable");
	long uid = syscall(SYS_getuid), euid = syscall(SYS_geteuid);
	long gid = syscall(SYS_getgid), egid = syscall(SYS_getegid);
	ok(uid >= 0 && euid >= 0 && gid >= 0 && egid >= 0, "uid/euid/gid/egid non-negative");
	is_long(uid, euid, "uid == euid (no setuid)");
	is_long(gid, egid, "gid == egid");
	long n = syscall(SYS_getgroups, 0, NULL);
	ok(n >= 0 && n <= 65536, "getgroups(0, NULL) returns the count (%ld)", n);
	gid_t groups[65536 / 64];
	if (n <= (long)(sizeof(groups) / sizeof(groups[0]))) {
		is_long(syscall(SYS_getgroups, n, groups), n, "getgroups(n) returns n");
		if (n > 0)
			is_errno(syscall(SYS_getgroups, n - 1, groups), EINVAL, "getgroups too small -> EINVAL");
		else
			skip("no supplementary groups", "getgroups too small -> EINVAL");
		if (n > 0)
			is_errno(syscall(SYS_getgroups, n, BAD_PTR), EFAULT, "getgroups (void*)1 -> EFAULT");
		else
			skip("no supplementary groups", "getgroups (void*)1 -> EFAULT");
	}
	is_errno(syscall(SYS_getgroups, -1, groups), EINVAL, "getgroups negative size -> EINVAL");
}

static void test_tid_address(void)
{
	static int word;
	is_long(syscall(SYS_set_tid_address, &word), syscall(SYS_gettid), "set_tid_address returns tid");
	is_long(syscall(SYS_set_tid_address, NULL), syscall(SYS_gettid), "set_tid_address(NULL) returns tid");
	struct { void *a, *b, *c; } head = { &head, 0, 0 };
	is_long(syscall(SYS_set_robust_list, &head, sizeof(head)), 0, "set_robust_list");
	is_errno(syscall(SYS_set_robust_list, &head, sizeof(head) + 1), EINVAL,
		 "set_robust_list bad len -> EINVAL");
}

static void test_arch_prctl(void)
{
	unsigned long fs = 0, gs = 0;
	is_long(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs), 0, "ARCH_GET_FS");
	ok(fs != 0, "FS base is set (TLS) %#lx", fs);
	unsigned long self = 0;
	__asm__ volatile("mov %%fs:0, %0" : "=r"(self));
	is_long((long)self, (long)fs, "%%fs:0 is the TCB self pointer == FS base");
	/* Round trip through a copy of the TCB so libc keeps working meanwhile. */
	static char tcb_copy[4096] __attribute__((aligned(64)));
	memcpy(tcb_copy + 2048, (void *)fs, 256); /* self, stack guard, pointer guard */
	unsigned long nfs = (unsigned long)tcb_copy + 2048;
	*(unsigned long *)nfs = nfs;
	long r = syscall(SYS_arch_prctl, ARCH_SET_FS, nfs);
	unsigned long got = 0, seen = 0;
	syscall(SYS_arch_prctl, ARCH_GET_FS, &got);
	__asm__ volatile("mov %%fs:0, %0" : "=r"(seen));
	syscall(SYS_arch_prctl, ARCH_SET_FS, fs);
	is_long(r, 0, "ARCH_SET_FS");
	is_long((long)got, (long)nfs, "ARCH_GET_FS returns the new base");
	is_long((long)seen, (long)nfs, "%%fs-relative loads use the new base");
	unsigned long back = 0;
	syscall(SYS_arch_prctl, ARCH_GET_FS, &back);
	is_long((long)back, (long)fs, "restored FS base");
	is_long(syscall(SYS_arch_prctl, ARCH_GET_GS, &gs), 0, "ARCH_GET_GS");
	is_errno(syscall(SYS_arch_prctl, ARCH_GET_FS, BAD_PTR), EFAULT, "ARCH_GET_FS into (void*)1 -> EFAULT");
	is_errno(syscall(SYS_arch_prctl, ARCH_SET_FS, 0xffff800000000000UL), EPERM,
		 "ARCH_SET_FS kernel address -> EPERM");
	is_errno(syscall(SYS_arch_prctl, 0x9999, 0), EINVAL, "unknown arch_prctl code -> EINVAL");
}

static void test_rlimits(void)
{
	struct rlimit rl, rl2;
	is_long(syscall(SYS_getrlimit, RLIMIT_NOFILE, &rl), 0, "getrlimit NOFILE");
	ok(rl.rlim_cur > 0 && rl.rlim_cur <= rl.rlim_max, "NOFILE cur <= max (%lu/%lu)",
	   (unsigned long)rl.rlim_cur, (unsigned long)rl.rlim_max);
	is_long(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl2), 0, "prlimit64 get NOFILE");
	ok(rl.rlim_cur == rl2.rlim_cur && rl.rlim_max == rl2.rlim_max, "prlimit64 agrees with getrlimit");
	is_long(syscall(SYS_prlimit64, syscall(SYS_getpid), RLIMIT_STACK, NULL, &rl2), 0,
		"prlimit64 with own pid");
	ok(rl2.rlim_cur >= 1024 * 1024 || rl2.rlim_cur == RLIM_INFINITY, "RLIMIT_STACK >= 1 MiB");
	/* Lower NOFILE's soft limit and read it back; then restore. */
	struct rlimit lower = { 64, rl.rlim_max }, old;
	is_long(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &lower, &old), 0, "prlimit64 set NOFILE=64");
	is_long((long)old.rlim_cur, (long)rl.rlim_cur, "prlimit64 returned the old limit");
	syscall(SYS_getrlimit, RLIMIT_NOFILE, &rl2);
	is_long((long)rl2.rlim_cur, 64, "new soft limit visible");
	is_errno(syscall(SYS_dup2, 0, 64), EBADF, "dup2 to fd >= new limit -> EBADF");
	syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &rl, NULL);
	struct rlimit bad = { 10, 5 };
	is_errno(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &bad, NULL), EINVAL, "cur > max -> EINVAL");
	is_errno(syscall(SYS_getrlimit, 999, &rl2), EINVAL, "getrlimit bad resource -> EINVAL");
	is_errno(syscall(SYS_prlimit64, 0, 999, NULL, &rl2), EINVAL, "prlimit64 bad resource -> EINVAL");
	is_errno(syscall(SYS_getrlimit, RLIMIT_NOFILE, BAD_PTR), EFAULT, "getrlimit (void*)1 -> EFAULT");
	is_errno(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, KERNEL_PTR), EFAULT,
		 "prlimit64 old kernel ptr -> EFAULT");
	is_errno(syscall(SYS_prlimit64, 0x3fffffff, RLIMIT_NOFILE, NULL, &rl2), ESRCH,
		 "prlimit64 missing pid -> ESRCH");
}

static void test_uname_sysinfo(void)
{
	struct utsname u;
	is_long(syscall(SYS_uname, &u), 0, "uname");
	is_long(strcmp(u.sysname, "Linux"), 0, "sysname is Linux");
	is_long(strcmp(u.machine, "x86_64"), 0, "machine is x86_64");
	int maj = 0, min = 0;
	ok(sscanf(u.release, "%d.%d", &maj, &min) == 2 && maj >= 3, "release looks like a version (%s)",
	   u.release);
	ok(u.nodename[0] != '\0' && memchr(u.nodename, 0, sizeof(u.nodename)), "nodename set, NUL-terminated");
	ok(u.version[0] != '\0', "version non-empty");
	is_errno(syscall(SYS_uname, BAD_PTR), EFAULT, "uname (void*)1 -> EFAULT");

	struct sysinfo si;
	memset(&si, 0, sizeof(si));
	is_long(syscall(SYS_sysinfo, &si), 0, "sysinfo");
	ok(si.uptime > 0, "uptime > 0");
	ok(si.totalram > 0 && si.freeram <= si.totalram, "freeram <= totalram");
	ok(si.mem_unit >= 1, "mem_unit >= 1");
	ok(si.procs >= 1, "procs >= 1");
	is_errno(syscall(SYS_sysinfo, KERNEL_PTR), EFAULT, "sysinfo kernel ptr -> EFAULT");
}

static void test_misc(void)
{
	long old = syscall(SYS_umask, 027);
	ok(old >= 0 && old <= 0777, "umask returns the old mask");
	is_long(syscall(SYS_umask, 0777 | 07000), 027, "umask returns the previous value");
	is_long(syscall(SYS_umask, old), 0777, "umask keeps only the permission bits");

	is_long(syscall(SYS_sched_yield), 0, "sched_yield");

	cpu_set_t set;
	CPU_ZERO(&set);
	long n = syscall(SYS_sched_getaffinity, 0, sizeof(set), &set);
	ok(n > 0 && n % 8 == 0 && n <= (long)sizeof(set), "sched_getaffinity returns mask size (%ld)", n);
	ok(CPU_COUNT(&set) >= 1, "at least one CPU in the mask (%d)", CPU_COUNT(&set));
	is_long(syscall(SYS_sched_getaffinity, syscall(SYS_getpid), sizeof(set), &set), n,
		"sched_getaffinity with own pid");
	is_errno(syscall(SYS_sched_getaffinity, 0, 4, &set), EINVAL, "size not multiple of 8 -> EINVAL");
	is_errno(syscall(SYS_sched_getaffinity, 0, 0, &set), EINVAL, "size 0 -> EINVAL");
	is_errno(syscall(SYS_sched_getaffinity, 0, sizeof(set), BAD_PTR), EFAULT, "mask (void*)1 -> EFAULT");
	is_errno(syscall(SYS_sched_getaffinity, 0x3fffffff, sizeof(set), &set), ESRCH, "missing pid -> ESRCH");
}

int main(void)
{
	test_ids();
	test_tid_address();
	test_arch_prctl();
	test_rlimits();
	test_uname_sysinfo();
	test_misc();
	return done_testing();
}

/* /proc and /sys self-consistency (proc(5), sysfs(5)), and in the sandbox
 * (tests/run.sh sets CVISOR_EXPECT_OVERLAY or CVISOR_EXPECT_RO_ROOT) that
 * /proc shows only the sandbox and dmesg shows cvisor's log. */
#include "tap.h"

#include <dirent.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>

static int in_sandbox(void)
{
	return getenv("CVISOR_EXPECT_OVERLAY") || getenv("CVISOR_EXPECT_RO_ROOT") ||
	       getenv("CVISOR_SANDBOX");
}

static ssize_t slurp(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (got + 1 < size && (n = read(fd, buf + got, size - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	return (ssize_t)got;
}

static char buf[1 << 16];

static void test_stat_status(void)
{
	char comm[32], *p;
	int pid = -1, ppid = -1;
	char state = 0;

	ok(slurp("/proc/self/stat", buf, sizeof(buf)) > 0, "read /proc/self/stat");
	p = strrchr(buf, ')');
	ok(sscanf(buf, "%d", &pid) == 1 && pid == getpid(), "stat pid == getpid() (%d)", pid);
	ok(p && sscanf(p + 1, " %c %d", &state, &ppid) == 2 && ppid == getppid(),
	   "stat ppid == getppid() (%d)", ppid);
	ok(state == 'R', "stat state of self is R (%c)", state);

	ok(slurp("/proc/self/comm", comm, sizeof(comm)) > 0, "read comm");
	comm[strcspn(comm, "\n")] = '\0';
	ok(slurp("/proc/self/status", buf, sizeof(buf)) > 0, "read status");
	p = strstr(buf, "Name:\t");
	ok(p && !strncmp(p + 6, comm, strlen(comm)) && p[6 + strlen(comm)] == '\n',
	   "status Name matches comm (%s)", comm);
	p = strstr(buf, "\nPid:\t");
	ok(p && atoi(p + 6) == getpid(), "status Pid");
	p = strstr(buf, "\nPPid:\t");
	ok(p && atoi(p + 7) == getppid(), "status PPid");
	p = strstr(buf, "\nUid:\t");
	ok(p && (uid_t)atoi(p + 6) == getuid(), "status Uid");

	/* comm is writable for one's own threads. */
	ok(write_file("/proc/self/comm", "proctest-x", 10) == 0, "write comm");
	ok(slurp("/proc/self/comm", comm, sizeof(comm)) > 0 && !strcmp(comm, "proctest-x\n"),
	   "comm reads back (%s)", comm);
	ok(slurp("/proc/thread-self/comm", comm, sizeof(comm)) > 0 &&
	   !strcmp(comm, "proctest-x\n"), "thread-self/comm");

	ok(slurp("/proc/self/statm", buf, sizeof(buf)) > 0 && atol(buf) > 0, "statm size > 0");
}

static void test_links(const char *argv0)
{
	char link[PATH_MAX], want[PATH_MAX], cwd[PATH_MAX];
	ssize_t n;
	int fd;

	n = readlink("/proc/self/exe", link, sizeof(link) - 1);
	ok(n > 0, "readlink /proc/self/exe");
	link[n > 0 ? n : 0] = '\0';
	ok(realpath(argv0, want) && !strcmp(link, want), "exe is our path (%s vs %s)", link, want);

	n = readlink("/proc/self/cwd", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	ok(getcwd(cwd, sizeof(cwd)) && n > 0 && !strcmp(link, cwd), "cwd link == getcwd (%s)", link);
	n = readlink("/proc/self/root", link, sizeof(link) - 1);
	ok(n == 1 && link[0] == '/', "root link is /");

	snprintf(want, sizeof(want), "%d", getpid());
	n = readlink("/proc/self", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	ok(!strcmp(link, want), "/proc/self -> %s", link);

	fd = open("/dev/null", O_RDONLY);
	snprintf(want, sizeof(want), "/proc/self/fd/%d", fd);
	n = readlink(want, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	ok(fd >= 0 && !strcmp(link, "/dev/null"), "fd link to /dev/null (%s)", link);
	{
		pid_t c = fork();
		int st = 0;

		if (c == 0) {
			char *cargv[] = { "child", NULL };

			setenv("PROCTEST_CHILD", "1", 1);
			execv("/proc/self/exe", cargv);
			_exit(1);
		}
		ok(c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 42,
		   "execv(/proc/self/exe) runs our image");
	}
	{
		DIR *d = opendir("/proc/self/fd");
		struct dirent *de;
		int seen = 0;

		while (d && (de = readdir(d)))
			if (atoi(de->d_name) == fd && de->d_name[0] != '.')
				seen = 1;
		if (d)
			closedir(d);
		ok(seen, "fd/ lists fd %d", fd);
	}
	snprintf(want, sizeof(want), "/proc/self/fdinfo/%d", fd);
	ok(slurp(want, buf, sizeof(buf)) > 0 && strstr(buf, "pos:") && strstr(buf, "flags:"),
	   "fdinfo has pos and flags");
	close(fd);
	snprintf(want, sizeof(want), "/proc/self/fd/%d", fd);
	ok(readlink(want, link, sizeof(link)) < 0 && errno == ENOENT, "closed fd is gone");

	{
		int p[2];
		char got[8] = { 0 };

		ok_sys(pipe(p), "pipe");
		snprintf(want, sizeof(want), "/proc/self/fd/%d", p[0]);
		n = readlink(want, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		ok(!strncmp(link, "pipe:[", 6), "pipe fd link (%s)", link);
		/* Opening through the link reaches the same pipe. */
		fd = open(want, O_RDONLY);
		ok(fd >= 0, "open pipe through fd link");
		ok(write(p[1], "hey", 3) == 3 && fd >= 0 && read(fd, got, 3) == 3 &&
		   !strcmp(got, "hey"), "read pipe data through the reopened fd");
		close(fd);
		close(p[0]);
		close(p[1]);
	}
	{
		char path[PATH_MAX], got[8] = { 0 };
		int wfd;

		snprintf(path, sizeof(path), "%s", SPATH("reopen"));
		wfd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
		ok(wfd >= 0 && write(wfd, "data", 4) == 4, "make a file");
		snprintf(want, sizeof(want), "/proc/self/fd/%d", wfd);
		n = readlink(want, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		ok(realpath(path, cwd) && !strcmp(link, cwd), "file fd link is its path (%s)", link);
		fd = open(want, O_RDONLY);
		ok(fd >= 0 && read(fd, got, 4) == 4 && !strcmp(got, "data"),
		   "reopen a file through its fd link");
		close(fd);
		close(wfd);
		unlink(path);
	}
}

static void test_maps_cmdline(int argc, char **argv)
{
	char want[64];
	void *m = mmap(NULL, 3 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ssize_t n;
	char *p;
	int i;

	ok(m != MAP_FAILED, "mmap");
	snprintf(want, sizeof(want), "%lx-%lx r--p", (unsigned long)m, (unsigned long)m + 3 * 4096);
	ok(slurp("/proc/self/maps", buf, sizeof(buf)) > 0 && strstr(buf, want),
	   "maps lists our mapping %s", want);
	ok(strstr(buf, "[stack]") != NULL, "maps has [stack]");
	munmap(m, 3 * 4096);

	n = slurp("/proc/self/cmdline", buf, sizeof(buf));
	for (i = 0, p = buf; i < argc && p < buf + n; i++, p += strlen(p) + 1)
		if (strcmp(p, argv[i]))
			break;
	ok(i == argc && p == buf + n, "cmdline round trip (%d args, %zd bytes)", argc, n);
	n = slurp("/proc/self/environ", buf, sizeof(buf));
	ok(n > 0 && memmem(buf, (size_t)n, "PROCTEST_ENV=1", 15) != NULL, "environ has our variable");
}

static void test_global(void)
{
	struct sysinfo si;
	struct utsname u;
	long long total = -1;
	char *p;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int blocks = 0;

	ok(slurp("/proc/version", buf, sizeof(buf)) > 0 && !strncmp(buf, "Linux version ", 14),
	   "/proc/version starts with Linux version");
	ok(uname(&u) == 0 && strstr(buf, u.release) != NULL, "/proc/version has uname -r");

	ok(slurp("/proc/meminfo", buf, sizeof(buf)) > 0 &&
	   sscanf(buf, "MemTotal: %lld kB", &total) == 1, "meminfo MemTotal");
	ok(sysinfo(&si) == 0 &&
	   llabs(total - (long long)si.totalram * si.mem_unit / 1024) < 1024,
	   "MemTotal agrees with sysinfo(2)");
	ok(strstr(buf, "MemFree:") && strstr(buf, "MemAvailable:"), "MemFree/MemAvailable");

	ok(slurp("/proc/cpuinfo", buf, sizeof(buf)) > 0, "read cpuinfo");
	for (p = buf; (p = strstr(p, "processor")); p++)
		if (p == buf || p[-1] == '\n')
			blocks++;
	ok(blocks == ncpu, "cpuinfo has one block per online CPU (%d/%ld)", blocks, ncpu);

	{
		double up = -1, idle = -1;

		ok(slurp("/proc/uptime", buf, sizeof(buf)) > 0 &&
		   sscanf(buf, "%lf %lf", &up, &idle) == 2 && up >= 0, "uptime");
	}
	ok(slurp("/proc/loadavg", buf, sizeof(buf)) > 0 && strchr(buf, '/'), "loadavg");
	ok(slurp("/proc/stat", buf, sizeof(buf)) > 0 && !strncmp(buf, "cpu ", 4), "stat");
	ok(slurp("/proc/sys/kernel/ostype", buf, sizeof(buf)) > 0 && !strcmp(buf, "Linux\n"),
	   "sys/kernel/ostype");
	ok(slurp("/proc/sys/kernel/osrelease", buf, sizeof(buf)) > 0 &&
	   !strncmp(buf, u.release, strlen(u.release)), "osrelease == uname -r");
	ok(slurp("/proc/sys/kernel/pid_max", buf, sizeof(buf)) > 0 && atoi(buf) > 0, "pid_max");
	ok(slurp("/proc/sys/kernel/hostname", buf, sizeof(buf)) > 0 &&
	   !strncmp(buf, u.nodename, strlen(u.nodename)), "hostname == uname -n");
	ok(slurp("/proc/sys/fs/nr_open", buf, sizeof(buf)) > 0 && atoi(buf) >= 1024, "nr_open");
	ok(slurp("/proc/self/mounts", buf, sizeof(buf)) > 0 && strstr(buf, " /proc proc "),
	   "mounts lists /proc");
	ok(slurp("/proc/self/limits", buf, sizeof(buf)) > 0 && strstr(buf, "Max open files"),
	   "limits");
	{
		int fd = open("/proc/self/oom_score_adj", O_RDWR);

		ok(fd >= 0 && write(fd, "500", 3) == 3, "write oom_score_adj");
		if (fd >= 0)
			close(fd);
		ok(slurp("/proc/self/oom_score_adj", buf, sizeof(buf)) > 0 && atoi(buf) == 500,
		   "oom_score_adj reads back");
		fd = open("/proc/self/oom_score_adj", O_WRONLY);
		ok(fd >= 0 && write(fd, "1001", 4) < 0 && errno == EINVAL, "1001 is EINVAL");
		if (fd >= 0)
			close(fd);
	}
	{
		char path[64];
		struct stat st;

		snprintf(path, sizeof(path), "/proc/self/task/%d", (int)gettid());
		ok(stat(path, &st) == 0 && S_ISDIR(st.st_mode), "task/<tid> exists");
	}
	ok(slurp("/sys/devices/system/cpu/online", buf, sizeof(buf)) > 0 && buf[0] == '0',
	   "sysfs cpu/online");
}

static void test_sandbox(void)
{
	DIR *d;
	struct dirent *de;
	int numeric = 0;
	int n;

	if (!in_sandbox()) {
		skip("native run", "sandbox: few PIDs in /proc");
		skip("native run", "sandbox: /proc/version says cvisor");
		skip("native run", "sandbox: syslog READ_ALL has cvisor's log");
		skip("native run", "sandbox: SIZE_BUFFER");
		return;
	}
	d = opendir("/proc");
	while (d && (de = readdir(d)))
		if (de->d_name[0] >= '0' && de->d_name[0] <= '9')
			numeric++;
	if (d)
		closedir(d);
	ok(numeric >= 1 && numeric < 10, "sandbox: few PIDs in /proc (%d)", numeric);
	ok(slurp("/proc/version", buf, sizeof(buf)) > 0 && strstr(buf, "cvisor"),
	   "sandbox: /proc/version says cvisor");
	n = klogctl(3, buf, sizeof(buf) - 1);
	if (n > 0)
		buf[n] = '\0';
	ok(n > 0 && strstr(buf, "cvisor"), "sandbox: syslog READ_ALL has cvisor's log");
	ok(klogctl(10, NULL, 0) > 0, "sandbox: SIZE_BUFFER");
}

/* proc files cannot be removed, even by root (no
 * ->unlink in proc's inode operations): EPERM, and they stay. */
static void test_no_unlink(void)
{
	struct stat st;

	is_errno(unlink("/proc/cpuinfo"), EPERM, "unlink /proc/cpuinfo: EPERM");
	is_errno(unlink("/proc/self/status"), EPERM,
		 "unlink /proc/self/status: EPERM");
	ok(stat("/proc/cpuinfo", &st) == 0, "still there");
}

int main(int argc, char **argv)
{
	if (!getenv("PROCTEST_ENV")) {
		/* Re-exec with a marker in the environment and extra args so
		 * cmdline/environ have something known to find. */
		char *nargv[] = { argv[0], "arg one", "", "three", NULL };

		setenv("PROCTEST_ENV", "1", 1);
		execv(argv[0], nargv);
		return 1;
	}
	if (getenv("PROCTEST_CHILD")) {
		char l[PATH_MAX];

		/* Started through /proc/self/exe: reading exe must not loop. */
		(void)!readlink("/proc/self/exe", l, sizeof(l));
		return 42;
	}
	plan(65);
	scratch_init("proc");
	test_stat_status();
	test_links(argv[0]);
	test_maps_cmdline(argc, argv);
	test_global();
	test_sandbox();
	test_no_unlink();
	scratch_cleanup();
	return done_testing();
}

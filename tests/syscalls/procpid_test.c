/*
 * procpid_test: /proc/PID entries follow tasks as they come and go (no
 * stale dentries: an exited PID is ENOENT, a new one appears, /proc/self
 * is right in a fresh child), and what execve records: /proc/PID/exe is
 * the executed binary (for a #! script, the interpreter; " (deleted)"
 * once unlinked), /proc/PID/cmdline and environ are the argv and envp
 * areas (showing an argv rewritten in place, and a setproctitle-style
 * overrun into the environment area as Linux does).
 *
 * The exec cases re-run this binary with a mode argument: as the
 * interpreter of a script, and as a copy in the scratch directory.
 */
#include <dirent.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tap.h"

static char self_exe[PATH_MAX];

static ssize_t slurp(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n, got = 0;

	if (fd < 0)
		return -1;
	while (got < (ssize_t)size && (n = read(fd, buf + got, size - got)) > 0)
		got += n;
	close(fd);
	return got;
}

static int in_proc_listing(pid_t pid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char want[32];
	int found = 0;

	if (!d)
		return -1;
	snprintf(want, sizeof(want), "%d", pid);
	while ((e = readdir(d)))
		if (!strcmp(e->d_name, want))
			found = 1;
	closedir(d);
	return found;
}

static int run_child(char *const argv[])
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_revalidate(void)
{
	char p[64], buf[4096];
	int pfd[2], dirfd;
	struct stat st;
	pid_t pid;

	if (pipe(pfd))
		return;
	pid = fork();
	if (pid == 0) {
		char c;

		close(pfd[1]);
		(void)read(pfd[0], &c, 1);
		_exit(0);
	}
	close(pfd[0]);
	snprintf(p, sizeof(p), "/proc/%d", pid);
	ok_sys(stat(p, &st), "stat %s of a live child", p);
	snprintf(p, sizeof(p), "/proc/%d/status", pid);
	ok(slurp(p, buf, sizeof(buf)) > 0, "read its status");
	is_long(in_proc_listing(pid), 1, "listed in /proc");
	snprintf(p, sizeof(p), "/proc/%d", pid);
	dirfd = open(p, O_RDONLY | O_DIRECTORY);
	ok_sys(dirfd, "hold /proc/PID open");
	close(pfd[1]);
	waitpid(pid, NULL, 0);
	is_errno(stat(p, &st), ENOENT, "stat /proc/PID after it exited: ENOENT");
	is_errno(open(p, O_RDONLY | O_DIRECTORY), ENOENT,
		 "open /proc/PID after it exited: ENOENT");
	snprintf(p, sizeof(p), "/proc/%d/status", pid);
	is_errno(open(p, O_RDONLY), ENOENT, "open /proc/PID/status: ENOENT");
	is_long(in_proc_listing(pid), 0, "gone from the /proc listing");
	{
		/* Linux: ESRCH (the held inode's task is gone) or ENOENT. */
		int r = openat(dirfd, "status", O_RDONLY), e = errno;

		ok(r == -1 && (e == ESRCH || e == ENOENT),
		   "openat(held dir of a dead PID, status) fails (errno %d)", e);
	}
	close(dirfd);

	/* A PID looked up before it exists, then created: PIDs are handed
	 * out in order when nothing else forks, as in the sandbox. */
	{
		pid_t next = pid + 1, got;
		int r, e;

		snprintf(p, sizeof(p), "/proc/%d", next);
		r = stat(p, &st);
		e = errno;
		if (pipe(pfd))
			return;
		got = fork();
		if (got == 0) {
			char c;

			close(pfd[1]);
			(void)read(pfd[0], &c, 1);
			_exit(0);
		}
		close(pfd[0]);
		if (r == -1 && e == ENOENT && got == next) {
			ok_sys(stat(p, &st), "a PID that was ENOENT appears once it exists");
		} else {
			skip("PID not predictable here", "negative PID dentry revalidated");
		}
		close(pfd[1]);
		waitpid(got, NULL, 0);
	}

	/* /proc/self in a new child is the child. */
	if (pipe(pfd))
		return;
	pid = fork();
	if (pid == 0) {
		char link[64], want[64], stat_buf[512];
		ssize_t n = readlink("/proc/self", link, sizeof(link) - 1);
		int bad = 0;

		if (n < 0)
			_exit(1);
		link[n] = '\0';
		snprintf(want, sizeof(want), "%d", getpid());
		bad |= strcmp(link, want) != 0;
		n = slurp("/proc/self/stat", stat_buf, sizeof(stat_buf) - 1);
		bad |= n <= 0 || atoi(stat_buf) != getpid();
		_exit(bad ? 2 : 0);
	}
	close(pfd[0]);
	close(pfd[1]);
	{
		int st2;

		waitpid(pid, &st2, 0);
		ok(WIFEXITED(st2) && WEXITSTATUS(st2) == 0,
		   "/proc/self and /proc/self/stat are the child after fork");
	}
}

/* Child modes (exit status 0 = all good). */
static int child_exe(const char *want)
{
	char link[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", link, sizeof(link) - 1);

	if (n < 0)
		return 1;
	link[n] = '\0';
	if (strcmp(link, want)) {
		printf("# exe %s, want %s\n", link, want);
		return 2;
	}
	return 0;
}

static int child_deleted(const char *me)
{
	char link[PATH_MAX], want[PATH_MAX];
	ssize_t n;

	if (unlink(me))
		return 1;
	n = readlink("/proc/self/exe", link, sizeof(link) - 1);
	if (n < 0)
		return 2;
	link[n] = '\0';
	snprintf(want, sizeof(want), "%s (deleted)", me);
	/* cvisor gap: a removed dentry forgets its parent, so the path
	 * part may be lost (fd links too); the marker must be there. */
	if (strcmp(link, want) &&
	    (n < 10 || strcmp(link + n - 10, " (deleted)"))) {
		printf("# exe %s, want %s\n", link, want);
		return 3;
	}
	return 0;
}

static int child_args(int argc, char **argv, char **envp)
{
	static char buf[65536], want[65536];
	size_t wl = 0, area;
	ssize_t n;

	for (int i = 0; i < argc; i++) {
		memcpy(want + wl, argv[i], strlen(argv[i]) + 1);
		wl += strlen(argv[i]) + 1;
	}
	n = slurp("/proc/self/cmdline", buf, sizeof(buf));
	if (n != (ssize_t)wl || memcmp(buf, want, wl))
		return 1;
	wl = 0;
	for (char **e = envp; *e; e++) {
		memcpy(want + wl, *e, strlen(*e) + 1);
		wl += strlen(*e) + 1;
	}
	n = slurp("/proc/self/environ", buf, sizeof(buf));
	if (n != (ssize_t)wl || memcmp(buf, want, wl))
		return 2;
	/* Rewrite argv[1] in place: cmdline shows it. */
	memset(argv[1], 'Z', strlen(argv[1]));
	n = slurp("/proc/self/cmdline", buf, sizeof(buf));
	if (n < (ssize_t)strlen(argv[0]) + 2 ||
	    memcmp(buf + strlen(argv[0]) + 1, argv[1], strlen(argv[1]) + 1))
		return 3;
	/* setproctitle: fill the whole argv area, NULs too: the title runs
	 * on into the environment area up to its first NUL. */
	area = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 - argv[0]);
	if (!envp[0] || envp[0] != argv[0] + area)
		return 0; /* not the usual layout: nothing to compare */
	memset(argv[0], 'T', area);
	memset(want, 'T', area);
	memcpy(want + area, envp[0], strlen(envp[0]) + 1);
	wl = area + strlen(envp[0]) + 1;
	n = slurp("/proc/self/cmdline", buf, sizeof(buf));
	if (n != (ssize_t)wl || memcmp(buf, want, wl))
		return 4;
	return 0;
}

static void test_exec(const char *argv0)
{
	char script[PATH_MAX], copy[PATH_MAX], text[PATH_MAX + 64];
	int fd, r;

	(void)argv0;
	{
		char *args[] = { self_exe, "--child-exe", self_exe, NULL };

		is_long(run_child(args), 0, "exe of an exec'd binary is that binary");
	}
	{
		char *args[] = { self_exe, "--child-args", "second-arg",
				 "third", NULL };

		is_long(run_child(args), 0,
			"cmdline/environ: argv, envp, in-place rewrite, setproctitle");
	}
	/* A #! script: exe is its interpreter (this binary). */
	snprintf(script, sizeof(script), "%s", SPATH("script.sh"));
	snprintf(text, sizeof(text), "#!%s --child-exe\n", self_exe);
	fd = open(script, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (fd >= 0) {
		ok(write(fd, text, strlen(text)) == (ssize_t)strlen(text),
		   "write a #! script");
		close(fd);
		/* The interpreter gets: self --child-exe script; it compares
		 * its exe with argv[2], i.e. the script: that must fail. */
		{
			char *args[] = { script, NULL };

			r = run_child(args);
			is_long(r, 2, "script's exe is not the script");
		}
	}
	/* A copy of this binary: exe names the copy; unlinked: (deleted). */
	snprintf(copy, sizeof(copy), "%s", SPATH("exe-copy"));
	{
		char buf[65536];
		int in = open(self_exe, O_RDONLY), out;
		ssize_t n;

		out = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0755);
		while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, n) != n)
				break;
		if (in >= 0)
			close(in);
		if (out >= 0)
			close(out);
	}
	{
		char real[PATH_MAX];

		if (!realpath(copy, real))
			snprintf(real, sizeof(real), "%s", copy);
		{
			char *args[] = { real, "--child-exe", real, NULL };

			is_long(run_child(args), 0, "exe of a copy is the copy");
		}
		{
			char *args[] = { real, "--child-deleted", real, NULL };

			is_long(run_child(args), 0,
				"exe of an unlinked image says (deleted)");
		}
	}
	unlink(script);
	unlink(copy);
}

/* Does /proc/self/maps have a line ending in name? */
static int maps_has(const char *name)
{
	static char maps[1 << 16];
	ssize_t n = slurp("/proc/self/maps", maps, sizeof(maps) - 1);
	size_t len = strlen(name);
	char *line, *save;

	if (n <= 0)
		return 0;
	maps[n] = '\0';
	for (line = strtok_r(maps, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t l = strlen(line);

		if (l > len && line[l - len - 1] == ' ' &&
		    !strcmp(line + l - len, name))
			return 1;
	}
	return 0;
}

static int fd_link_is(int fd, const char *want)
{
	char p[64], got[PATH_MAX + 32];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, got, sizeof(got) - 1);
	if (n < 0)
		return 0;
	got[n] = '\0';
	if (strcmp(got, want))
		diag("fd %d: got '%s', want '%s'", fd, got, want);
	return !strcmp(got, want);
}

/* An open (and mapped) file that is unlinked keeps its path, with
 * " (deleted)" (fs/d_path.c: the unhashed dentry keeps d_parent). */
static void test_deleted_names(void)
{
	char dir[PATH_MAX], file[PATH_MAX], sub[PATH_MAX], want[PATH_MAX + 32];
	char real[PATH_MAX];
	void *m;
	int fd, fd2;

	ok(maps_has(self_exe), "maps names the executable");
	if (!realpath(scratch_dir, dir))
		snprintf(dir, sizeof(dir), "%s", scratch_dir);
	snprintf(file, sizeof(file), "%s/gone", dir);
	fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ok_sys(fd, "create %s", file);
	ok(ftruncate(fd, 4096) == 0, "ftruncate");
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	ok(m != MAP_FAILED, "mmap the file");
	ok(fd_link_is(fd, file), "fd link names the file");
	ok(maps_has(file), "maps names the mapped file");
	ok_sys(unlink(file), "unlink it");
	snprintf(want, sizeof(want), "%s (deleted)", file);
	ok(fd_link_is(fd, want), "unlinked: fd link is path + (deleted)");
	ok(maps_has(want), "unlinked: maps says path + (deleted)");
	if (m != MAP_FAILED)
		munmap(m, 4096);
	close(fd);

	/* A file in a directory that is removed too: the names remain. */
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	ok_sys(mkdir(sub, 0700), "mkdir sub");
	snprintf(file, sizeof(file), "%s/x", sub);
	fd = open(file, O_RDWR | O_CREAT, 0600);
	ok_sys(fd, "create sub/x");
	ok_sys(unlink(file), "unlink sub/x");
	ok_sys(rmdir(sub), "rmdir sub");
	snprintf(want, sizeof(want), "%s (deleted)", file);
	ok(fd_link_is(fd, want), "removed dir: fd link is dir/x (deleted)");
	/* Renamed over: the replaced file is the deleted one. */
	snprintf(file, sizeof(file), "%s/a", dir);
	snprintf(real, sizeof(real), "%s/b", dir);
	fd2 = open(file, O_RDWR | O_CREAT, 0600);
	close(open(real, O_RDWR | O_CREAT, 0600));
	close(fd);
	fd = open(real, O_RDONLY);
	ok_sys(rename(file, real), "rename a over b");
	snprintf(want, sizeof(want), "%s (deleted)", real);
	ok(fd_link_is(fd, want), "renamed over: old b is b (deleted)");
	ok(fd_link_is(fd2, real), "renamed: a is now b");
	close(fd);
	close(fd2);
	unlink(real);

	/* A removed cwd. */
	snprintf(sub, sizeof(sub), "%s/gone-cwd", dir);
	ok_sys(mkdir(sub, 0700), "mkdir gone-cwd");
	{
		char cwd[PATH_MAX + 32];
		int here = open(".", O_RDONLY | O_DIRECTORY);
		ssize_t n;

		ok(chdir(sub) == 0 && rmdir(sub) == 0, "chdir into it, rmdir it");
		n = readlink("/proc/self/cwd", cwd, sizeof(cwd) - 1);
		cwd[n > 0 ? n : 0] = '\0';
		snprintf(want, sizeof(want), "%s (deleted)", sub);
		ok(!strcmp(cwd, want), "cwd link: dir (deleted) (%s)", cwd);
		if (here >= 0) {
			(void)!fchdir(here);
			close(here);
		}
	}

	/* O_TMPFILE: "dir/#ino (deleted)" (d_tmpfile). */
	fd = open(dir, O_RDWR | O_TMPFILE, 0600);
	if (fd < 0) {
		skip("no O_TMPFILE here", "tmpfile name");
	} else {
		struct stat st;

		fstat(fd, &st);
		snprintf(want, sizeof(want), "%s/#%llu (deleted)", dir,
			 (unsigned long long)st.st_ino);
		ok(fd_link_is(fd, want), "O_TMPFILE: dir/#ino (deleted)");
		close(fd);
	}
}

int main(int argc, char **argv, char **envp)
{
	ssize_t n;

	if (argc >= 3 && !strcmp(argv[1], "--child-exe"))
		return child_exe(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "--child-deleted"))
		return child_deleted(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "--child-args"))
		return child_args(argc, argv, envp);

	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (n <= 0)
		bail_out("readlink /proc/self/exe");
	self_exe[n] = '\0';
	scratch_init("procpid");
	test_revalidate();
	test_exec(argv[0]);
	test_deleted_names();
	scratch_cleanup();
	return done_testing();
}

/* mount(2), umount2(2), /proc/self/mountinfo and statfs per mount
 * (mount(2), umount(2), proc(5)). Natively (as root on the host) everything
 * happens in a private mount namespace: unshare(CLONE_NEWNS), then / made
 * recursively private. In the sandbox the sandbox is the namespace; an
 * unshare(CLONE_NEWNS) that fails there is skipped, nothing else. */
#include "tap.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#define TMPFS_MAGIC_ 0x01021994
#define PROC_SUPER_MAGIC_ 0x9fa0

static char base[PATH_MAX];
static char info[1 << 16];

static int in_sandbox(void)
{
	return getenv("CVISOR_EXPECT_OVERLAY") || getenv("CVISOR_EXPECT_RO_ROOT") ||
	       getenv("CVISOR_SANDBOX");
}

static const char *P(const char *leaf)
{
	static char bufs[4][PATH_MAX];
	static int i;
	char *b = bufs[i++ & 3];

	snprintf(b, PATH_MAX, "%s/%s", base, leaf);
	return b;
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

static int put(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

struct mi {
	int id, parent;
	unsigned int maj, min;
	char root[PATH_MAX], mnt[PATH_MAX], opts[256], type[64], src[PATH_MAX],
		sopts[512];
};

/* The last mountinfo line whose mount point is mnt (the top mount). */
static int find_mountinfo(const char *mnt, struct mi *out)
{
	char *line, *save = NULL;
	int found = 0;

	if (slurp("/proc/self/mountinfo", info, sizeof(info)) <= 0)
		return 0;
	for (line = strtok_r(info, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct mi m;
		char *dash = strstr(line, " - ");

		if (!dash)
			continue;
		if (sscanf(line, "%d %d %u:%u %4095s %4095s %255s", &m.id,
			   &m.parent, &m.maj, &m.min, m.root, m.mnt, m.opts) != 7)
			continue;
		if (sscanf(dash + 3, "%63s %4095s %511s", m.type, m.src,
			   m.sopts) != 3)
			continue;
		if (!strcmp(m.mnt, mnt)) {
			*out = m;
			found = 1;
		}
	}
	return found;
}

static int mountinfo_has_id(int id)
{
	char *line, *save = NULL;

	if (slurp("/proc/self/mountinfo", info, sizeof(info)) <= 0)
		return 0;
	for (line = strtok_r(info, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (atoi(line) == id)
			return 1;
	return 0;
}

static void test_namespace(void)
{
	if (unshare(CLONE_NEWNS) == 0) {
		ok(1, "unshare(CLONE_NEWNS)");
	} else if (in_sandbox() &&
		   (errno == EINVAL || errno == EPERM || errno == ENOSYS)) {
		/* Only this step is skipped: the sandbox is one namespace. */
		skip("the sandbox is the mount namespace",
		     "unshare(CLONE_NEWNS): %s", strerror(errno));
	} else if (in_sandbox()) {
		ok(0, "unshare(CLONE_NEWNS): unexpected %s", strerror(errno));
	} else {
		bail_out("unshare(CLONE_NEWNS): %s (run natively as root)",
			 strerror(errno));
	}
	ok_sys(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL),
	       "mount --make-rprivate /");
}

static void test_tmpfs(void)
{
	struct stat st, bst;
	struct statfs sfs;
	struct mi m;
	char buf[64], chunk[65536];
	ssize_t n;
	long total = 0;
	int fd, err = 0;

	mkdir(P("t"), 0755);
	ok_sys(mount("tmpfs", P("t"), "tmpfs", MS_NOSUID | MS_NODEV,
		     "size=1m,mode=0750"),
	       "mount tmpfs size=1m,mode=0750");
	ok(stat(P("t"), &st) == 0 && (st.st_mode & 07777) == 0750,
	   "mode= applies to the root (%o)", st.st_mode & 07777);
	ok(stat(base, &bst) == 0 && st.st_dev != bst.st_dev,
	   "st_dev differs across the mount point");
	ok(statfs(P("t"), &sfs) == 0 && sfs.f_type == TMPFS_MAGIC_,
	   "statfs f_type TMPFS_MAGIC (%lx)", (long)sfs.f_type);
	ok((long long)sfs.f_blocks * sfs.f_bsize == 1 << 20,
	   "statfs size is 1 MiB (%lld)", (long long)sfs.f_blocks * sfs.f_bsize);
	ok((sfs.f_flags & ST_NOSUID) && (sfs.f_flags & ST_NODEV) &&
	   !(sfs.f_flags & ST_RDONLY), "statfs f_flags nosuid,nodev,rw (%lx)",
	   (long)sfs.f_flags);
	ok(put(P("t/f"), "hello") == 0 && slurp(P("t/f"), buf, sizeof(buf)) == 5 &&
	   !strcmp(buf, "hello"), "write and read a file on it");
	if (mknod(P("t/null"), S_IFCHR | 0666, makedev(1, 3)) == 0) {
		is_errno(open(P("t/null"), O_WRONLY), EACCES,
			 "a device node on a nodev mount: EACCES");
		unlink(P("t/null"));
	} else {
		ok(0, "mknod %s: %s", P("t/null"), strerror(errno));
	}

	if (ok(find_mountinfo(P("t"), &m), "mountinfo has %s", P("t"))) {
		ok(m.maj == major(st.st_dev) && m.min == minor(st.st_dev),
		   "mountinfo major:minor is st_dev (%u:%u)", m.maj, m.min);
		ok(!strcmp(m.root, "/"), "mountinfo root / (%s)", m.root);
		ok(!strncmp(m.opts, "rw,", 3) && strstr(m.opts, "nosuid") &&
		   strstr(m.opts, "nodev"), "mount options %s", m.opts);
		ok(!strcmp(m.type, "tmpfs") && !strcmp(m.src, "tmpfs"),
		   "fstype and source tmpfs (%s %s)", m.type, m.src);
		ok(!strncmp(m.sopts, "rw", 2) && strstr(m.sopts, "size=1024k") &&
		   strstr(m.sopts, "mode=750"), "super options %s", m.sopts);
		ok(m.id != m.parent && mountinfo_has_id(m.parent),
		   "parent id %d is a listed mount", m.parent);
	} else {
		for (int i = 0; i < 6; i++)
			ok(0, "mountinfo field (no line)");
	}
	slurp("/proc/self/mounts", info, sizeof(info));
	snprintf(buf, sizeof(buf), " tmpfs rw,");
	ok(strstr(info, P("t")) && strstr(info, buf), "/proc/self/mounts lists it");

	/* Past size=: ENOSPC. */
	fd = open(P("t/big"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	memset(chunk, 'x', sizeof(chunk));
	while (fd >= 0 && total < (4 << 20)) {
		n = write(fd, chunk, sizeof(chunk));
		if (n < 0) {
			err = errno;
			break;
		}
		total += n;
	}
	ok(err == ENOSPC && total <= (1 << 20), "ENOSPC past size= (%s after %ld)",
	   strerror(err), total);
	if (fd >= 0)
		close(fd);
	unlink(P("t/big"));

	/* Busy: an open file on it. */
	fd = open(P("t/f"), O_RDONLY);
	is_errno(umount2(P("t"), 0), EBUSY, "umount2 with an open file: EBUSY");
	close(fd);
	if (chdir(P("t")) == 0) {
		is_errno(umount2(P("t"), 0), EBUSY, "umount2 of the cwd: EBUSY");
		(void)!chdir("/");
	}
	ok_sys(umount2(P("t"), 0), "umount2 tmpfs");
	is_errno(access(P("t/f"), F_OK), ENOENT, "its files are gone");
}

static void test_errors(void)
{
	is_errno(umount2(P("src"), 0), EINVAL, "umount2 not a mount point: EINVAL");
	is_errno(umount2(P("nonexistent"), 0), ENOENT, "umount2 missing: ENOENT");
	is_errno(umount2(P("t"), 0x80000000), EINVAL, "umount2 bad flags: EINVAL");
	is_errno(mount("x", P("t"), "nosuchfs-cvisor", 0, NULL), ENODEV,
		 "unknown fs type: ENODEV");
	is_errno(mount("tmpfs", P("nonexistent"), "tmpfs", 0, NULL), ENOENT,
		 "missing mount point: ENOENT");
	is_errno(mount("tmpfs", P("src/file/x"), "tmpfs", 0, NULL), ENOTDIR,
		 "mount point under a file: ENOTDIR");
	is_errno(mount(NULL, P("src"), NULL, MS_REMOUNT, NULL), EINVAL,
		 "remount of a non-mount-point: EINVAL");
	is_errno(mount(NULL, P("src"), NULL, MS_PRIVATE, NULL), EINVAL,
		 "MS_PRIVATE on a non-mount-point: EINVAL");
}

static void test_bind(void)
{
	struct statfs sfs;
	struct stat a, b;
	struct mi m;
	char buf[64];
	int fd;

	ok_sys(mount(P("src"), P("dst"), NULL, MS_BIND, NULL), "bind mount a directory");
	ok(slurp(P("dst/file"), buf, sizeof(buf)) == 1 && buf[0] == 'x',
	   "the bind shows the source's files");
	ok(put(P("dst/new"), "y") == 0 && access(P("src/new"), F_OK) == 0,
	   "a file made through the bind is in the source");
	ok(stat(P("src"), &a) == 0 && stat(P("dst"), &b) == 0 &&
	   a.st_ino == b.st_ino && a.st_dev == b.st_dev,
	   "same inode and st_dev through the bind");
	if (ok(find_mountinfo(P("dst"), &m), "mountinfo has the bind")) {
		size_t l = strlen(m.root);

		ok(l >= 4 && !strcmp(m.root + l - 4, "/src"),
		   "mountinfo root is the source directory (%s)", m.root);
	} else {
		ok(0, "mountinfo root (no line)");
	}
	ok_sys(mount(NULL, P("dst"), NULL, MS_SHARED, NULL),
	       "MS_SHARED on a mount root accepted");
	ok_sys(mount(NULL, P("dst"), NULL, MS_PRIVATE, NULL),
	       "MS_PRIVATE accepted");

	ok_sys(mount(NULL, P("dst"), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL),
	       "remount the bind read-only");
	is_errno(open(P("dst/new2"), O_WRONLY | O_CREAT, 0644), EROFS,
		 "create on the read-only bind: EROFS");
	is_errno(open(P("dst/file"), O_WRONLY), EROFS,
		 "open for writing on it: EROFS");
	is_errno(mkdir(P("dst/d"), 0755), EROFS, "mkdir on it: EROFS");
	is_errno(unlink(P("dst/new")), EROFS, "unlink on it: EROFS");
	ok(put(P("src/w"), "z") == 0, "the source stays writable");
	ok(statfs(P("dst"), &sfs) == 0 && (sfs.f_flags & ST_RDONLY),
	   "statfs f_flags has ST_RDONLY");
	ok(statfs(P("src"), &sfs) == 0 && !(sfs.f_flags & ST_RDONLY),
	   "the source's statfs does not");
	ok(find_mountinfo(P("dst"), &m) && !strncmp(m.opts, "ro", 2) &&
	   !strncmp(m.sopts, "rw", 2), "mountinfo: mount ro, super block rw (%s | %s)",
	   m.opts, m.sopts);

	/* Lazy unmount of a busy mount. */
	fd = open(P("dst/file"), O_RDONLY);
	is_errno(umount2(P("dst"), 0), EBUSY, "umount2 busy bind: EBUSY");
	ok_sys(umount2(P("dst"), MNT_DETACH), "umount2 MNT_DETACH");
	ok(fd >= 0 && pread(fd, buf, 1, 0) == 1 && buf[0] == 'x',
	   "an open file keeps working after MNT_DETACH");
	ok(access(P("dst/file"), F_OK) < 0, "the mount point is bare again");
	if (fd >= 0)
		close(fd);
	is_errno(umount2(P("dst"), 0), EINVAL, "umount2 again: EINVAL");
}

static void test_rbind_proc(void)
{
	struct statfs sfs;
	struct stat sub, rsub, nsub, src;
	char l[64];

	mkdir(P("src/sub"), 0755);
	ok_sys(mount("tmpfs", P("src/sub"), "tmpfs", 0, NULL), "tmpfs under the source");
	ok_sys(mount(P("src"), P("dst"), NULL, MS_BIND | MS_REC, NULL),
	       "MS_BIND|MS_REC");
	ok_sys(mount(P("src"), P("dst2"), NULL, MS_BIND, NULL), "MS_BIND alone");
	ok(stat(P("src/sub"), &sub) == 0 && stat(P("dst/sub"), &rsub) == 0 &&
	   sub.st_dev == rsub.st_dev, "MS_REC copies the submount");
	ok(stat(P("dst2/sub"), &nsub) == 0 && stat(P("src"), &src) == 0 &&
	   nsub.st_dev == src.st_dev && nsub.st_dev != sub.st_dev,
	   "without MS_REC the submount is not there");
	is_errno(umount2(P("dst"), 0), EBUSY, "umount2 with a submount: EBUSY");
	ok_sys(umount2(P("dst/sub"), 0), "umount2 the copied submount");
	ok_sys(umount2(P("dst"), 0), "then the bind");
	ok_sys(umount2(P("dst2"), 0), "umount2 the plain bind");
	ok_sys(umount2(P("src/sub"), 0), "umount2 the original submount");
	/* Busy is per mount: a cwd in the source does not pin a bind of it. */
	if (chdir(P("src")) == 0) {
		ok(mount(P("src"), P("dst"), NULL, MS_BIND, NULL) == 0 &&
		   umount2(P("dst"), 0) == 0,
		   "cwd in the source: its bind still unmounts");
		(void)!chdir("/");
	} else {
		ok(0, "chdir %s", P("src"));
	}

	ok_sys(mount("proc", P("t"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
	       "mount proc");
	ok(readlink(P("t/self"), l, sizeof(l)) > 0, "it has self");
	ok(statfs(P("t"), &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC_ &&
	   (sfs.f_flags & ST_NOEXEC), "statfs: PROC_SUPER_MAGIC, noexec");
	ok_sys(umount2(P("t"), 0), "umount2 proc");
}

static void test_eperm(void)
{
	pid_t pid = fork();
	int status = 0;

	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(3);
		if (mount("tmpfs", "/tmp", "tmpfs", 0, NULL) == 0 || errno != EPERM)
			_exit(1);
		if (umount2("/tmp", 0) == 0 || errno != EPERM)
			_exit(2);
		_exit(0);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	   WEXITSTATUS(status) == 0,
	   "without CAP_SYS_ADMIN: mount and umount2 EPERM (%d)",
	   WEXITSTATUS(status));
}

int main(void)
{
	plan(69);
	snprintf(base, sizeof(base), "/tmp/mount_test.XXXXXX");
	if (!mkdtemp(base))
		bail_out("mkdtemp: %s", strerror(errno));
	chmod(base, 0755);
	test_namespace();
	mkdir(P("src"), 0755);
	mkdir(P("dst"), 0755);
	mkdir(P("dst2"), 0755);
	if (put(P("src/file"), "x"))
		bail_out("cannot write %s", P("src/file"));
	test_tmpfs();
	test_errors();
	test_bind();
	test_rbind_proc();
	test_eperm();

	unlink(P("src/file"));
	unlink(P("src/new"));
	unlink(P("src/w"));
	rmdir(P("src/sub"));
	rmdir(P("src"));
	rmdir(P("dst"));
	rmdir(P("dst2"));
	rmdir(P("t"));
	rmdir(base);
	return done_testing();
}

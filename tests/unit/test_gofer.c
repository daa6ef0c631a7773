// SPDX-License-Identifier: GPL-2.0
/*
 * The gofer protocol against a real gofer (gofer_spawn) serving a temporary
 * directory: walks, opens, readdir completeness, symlinks never followed,
 * and malformed requests that must get error replies while the gofer keeps
 * serving. TAP output. Needs root (mount namespaces).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit_tap.h"
#include "unit_gofer.h"

static int walk(uint32_t dir, const char *name, uint32_t *h)
{
	int r = rpc(GOFER_OP_WALK, dir, 0, name, NULL);

	if (r == 0 && h)
		*h = in.rep.handle;
	return r;
}

static void put_file(const char *dir, const char *name, const char *data,
		     mode_t mode)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, mode);
	if (fd < 0 || write(fd, data, strlen(data)) < 0) {
		perror(p);
		exit(2);
	}
	close(fd);
}

static void sym(const char *dir, const char *name, const char *target)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (symlink(target, p) < 0) {
		perror(p);
		exit(2);
	}
}

/* READDIR_PLUS over dir handle hd: every entry once, its stat equal to
 * the host's lstat of hostdir/name. Returns entries seen, -1 on a bad one. */
static int readdir_plus_all(uint32_t hd, const char *hostdir, int *batches)
{
	uint64_t cookie = 0;
	int count = 0;

	*batches = 0;
	do {
		size_t off = 0;

		if (rpc(GOFER_OP_READDIR_PLUS, hd, cookie, NULL, NULL))
			return -1;
		++*batches;
		while (off < in.rep.datalen) {
			struct gofer_direntplus de;
			char name[256], hp[1024];
			struct stat st;

			memcpy(&de, in.rep.data + off,
			       offsetof(struct gofer_direntplus, name));
			memcpy(name, in.rep.data + off +
				     offsetof(struct gofer_direntplus, name),
			       de.namelen);
			name[de.namelen] = 0;
			snprintf(hp, sizeof(hp), "%s/%s", hostdir, name);
			if (de.reclen % 8 || de.err || lstat(hp, &st) ||
			    st.st_ino != de.st.ino || st.st_ino != de.ino ||
			    st.st_mode != de.st.mode ||
			    st.st_size != de.st.size ||
			    st.st_mtim.tv_sec != de.st.mtime_sec)
				return -1;
			count++;
			off += de.reclen;
		}
		cookie = in.rep.next;
	} while (cookie && *batches < 1000);
	return count;
}

/* The first line of /proc/PID/status starting with key, or "". */
static const char *status_of(pid_t pid, const char *key)
{
	static char line[256];
	char p[64];
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	line[0] = 0;
	f = fopen(p, "r");
	if (!f)
		return line;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			break;
		else
			line[0] = 0;
	fclose(f);
	line[strcspn(line, "\n")] = 0;
	return line;
}

static int count_fds(pid_t pid, int *uring)
{
	char p[64], l[128];
	struct dirent *d;
	int n = 0;
	DIR *dir;

	snprintf(p, sizeof(p), "/proc/%d/fd", (int)pid);
	dir = opendir(p);
	if (!dir)
		return -1;
	*uring = 0;
	while ((d = readdir(dir))) {
		char fp[320];
		ssize_t k;

		if (d->d_name[0] == '.')
			continue;
		snprintf(fp, sizeof(fp), "%s/%s", p, d->d_name);
		k = readlink(fp, l, sizeof(l) - 1);
		if (k > 0) {
			l[k] = 0;
			if (strstr(l, "io_uring"))
				++*uring;
		}
		n++;
	}
	closedir(dir);
	return n;
}

/* The gofer's isolation, read from the host's /proc: pid is the reaper
 * gofer_spawn returned; the server is its only child. */
static void check_isolation(pid_t pid)
{
	static const char *const ns[] = { "mnt", "pid", "ipc", "uts", "net" };
	char p[128], a[64], b[64];
	pid_t server = 0;
	int uring = 0, nfd;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/task/%d/children", (int)pid,
		 (int)pid);
	f = fopen(p, "r");
	if (f) {
		int v;

		if (fscanf(f, "%d", &v) == 1)
			server = v;
		fclose(f);
	}
	ok(server > 0 && !strcmp(status_of(server, "NSpid:") +
					 strlen(status_of(server, "NSpid:")) - 2,
				 "\t1"),
	   "the server is pid 1 of its own pid namespace (%s)",
	   status_of(server, "NSpid:"));
	{
		bool diff = true;

		for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
			ssize_t ka, kb;

			snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)server,
				 ns[i]);
			ka = readlink(p, a, sizeof(a) - 1);
			snprintf(p, sizeof(p), "/proc/self/ns/%s", ns[i]);
			kb = readlink(p, b, sizeof(b) - 1);
			if (ka <= 0 || kb <= 0) {
				diff = false;
				continue;
			}
			a[ka] = b[kb] = 0;
			if (!strcmp(a, b))
				diff = false;
		}
		ok(diff, "own mount, pid, ipc, uts and net namespaces");
	}
	ok(!strcmp(status_of(server, "CapEff:"), "CapEff:\t0000000000000004") &&
		   !strcmp(status_of(server, "CapPrm:"),
			   "CapPrm:\t0000000000000004") &&
		   !strcmp(status_of(server, "CapInh:"),
			   "CapInh:\t0000000000000000") &&
		   !strcmp(status_of(server, "CapBnd:"),
			   "CapBnd:\t0000000000000000") &&
		   !strcmp(status_of(server, "CapAmb:"),
			   "CapAmb:\t0000000000000000"),
	   "read-only gofer: only CAP_DAC_READ_SEARCH, empty bounding set");
	ok(!strcmp(status_of(server, "NoNewPrivs:"), "NoNewPrivs:\t1") &&
		   !strcmp(status_of(server, "Seccomp:"), "Seccomp:\t2"),
	   "no_new_privs and a seccomp filter");
	nfd = count_fds(server, &uring);
	ok(nfd == 4 && uring == 1,
	   "server fds: socket, root, /proc/self/fd, io_uring (%d, ring %d)",
	   nfd, uring);
	ok(count_fds(pid, &uring) == 0 &&
		   !strcmp(status_of(pid, "Seccomp:"), "Seccomp:\t2"),
	   "the reaper holds no fd and is filtered");
}

/*
 * One gofer, three roots (gofer_spawn_roots): the image root read-only, a
 * writable bind source and a read-only one, each on its own socket with
 * its own handles; CREATE/MKDIR/UNLINK only on the writable one and only
 * one checked component, never through a symlink. 16 tests.
 */
static void test_roots(const char *root)
{
	char vol[PATH_MAX], vro[PATH_MAX], p[2 * PATH_MAX + 64];
	struct gofer_root roots[3];
	struct stat st;
	uint32_t h, hdir;
	pid_t gpid;
	int r, fd, status;

	snprintf(vol, sizeof(vol), "%s/../%s.vol", root, strrchr(root, '/') + 1);
	snprintf(vro, sizeof(vro), "%s/../%s.vro", root, strrchr(root, '/') + 1);
	mkdir(vol, 0755);
	mkdir(vro, 0755);
	put_file(vol, "f", "vol file", 0644);
	put_file(vro, "r", "ro file", 0644);
	sym(vol, "lnk", "/etc/passwd");
	roots[0] = (struct gofer_root){ .path = root, .readonly = true };
	roots[1] = (struct gofer_root){ .path = vol, .readonly = false };
	roots[2] = (struct gofer_root){ .path = vro, .readonly = true };
	r = gofer_spawn_roots(roots, 3, &gpid);
	ok(r == 0, "gofer_spawn_roots: image root + rw + ro bind sources (%d)", r);
	if (r) {
		for (int i = 0; i < 15; i++)
			ok(0, "no gofer");
		return;
	}
	sock = roots[1].sock;
	r = rpc(GOFER_OP_STAT, GOFER_ROOT_HANDLE, 0, NULL, NULL);
	ok(r == 0 && stat(vol, &st) == 0 && in.rep.st.ino == st.st_ino,
	   "handle 0 on the second socket is the second root");
	ok(walk(0, "f", &h) == 0 && h != GOFER_ROOT_HANDLE,
	   "WALK f in the rw root");
	sock = roots[0].sock;
	ok(walk(0, "f", NULL) == -ENOENT && rpc(GOFER_OP_STAT, h, 0, NULL, NULL) == -EBADF,
	   "the image root's socket knows neither its names nor its handles");
	ok(rpc(GOFER_OP_CREATE, 0, 0644, "x", NULL) == -EROFS &&
		   rpc(GOFER_OP_MKDIR, 0, 0755, "x", NULL) == -EROFS &&
		   rpc(GOFER_OP_UNLINK, 0, 0, "hello", NULL) == -EROFS,
	   "CREATE/MKDIR/UNLINK on the read-only image root -> EROFS");
	sock = roots[2].sock;
	ok(walk(0, "r", &h) == 0 &&
		   rpc(GOFER_OP_OPEN, h, O_WRONLY, NULL, NULL) == -EROFS &&
		   rpc(GOFER_OP_CREATE, 0, 0644, "x", NULL) == -EROFS &&
		   rpc(GOFER_OP_UNLINK, 0, 0, "r", NULL) == -EROFS,
	   "the read-only bind root: OPEN for write, CREATE, UNLINK -> EROFS");

	sock = roots[1].sock;
	r = rpc(GOFER_OP_CREATE, 0, 0640, "new", NULL);
	snprintf(p, sizeof(p), "%s/new", vol);
	ok(r == 0 && S_ISREG(in.rep.st.mode) && (in.rep.st.mode & 07777) == 0640 &&
		   stat(p, &st) == 0 && (st.st_mode & 07777) == 0640,
	   "CREATE makes the host file with the exact mode (umask 0)");
	h = in.rep.handle;
	r = rpc(GOFER_OP_OPEN, h, O_RDWR, NULL, &fd);
	ok(r == 0 && fd >= 0 && pwrite(fd, "data", 4, 0) == 4 &&
		   stat(p, &st) == 0 && st.st_size == 4,
	   "OPEN O_RDWR of it donates a writable fd");
	if (fd >= 0)
		close(fd);
	ok(rpc(GOFER_OP_CREATE, 0, 0644, "new", NULL) == -EEXIST,
	   "CREATE an existing name -> EEXIST");
	ok(rpc(GOFER_OP_CREATE, 0, 0644, "lnk", NULL) == -EEXIST &&
		   stat("/etc/passwd", &st) == 0,
	   "CREATE over a symlink -> EEXIST, never follows it");
	ok(rpc(GOFER_OP_CREATE, 0, 0644, "..", NULL) == -EINVAL &&
		   rpc(GOFER_OP_CREATE, 0, 0644, "a/b", NULL) == -EINVAL &&
		   rpc(GOFER_OP_MKDIR, 0, 0755, ".", NULL) == -EINVAL &&
		   rpc(GOFER_OP_UNLINK, 0, 0, "../x", NULL) == -EINVAL,
	   "CREATE/MKDIR/UNLINK of \"..\", \".\", a/b -> EINVAL");
	ok(rpc(GOFER_OP_CREATE, 0, 010644, "x", NULL) == -EINVAL &&
		   rpc(GOFER_OP_UNLINK, 0, 0x1234, "f", NULL) == -EINVAL,
	   "CREATE with a file type in the mode, UNLINK bad flags -> EINVAL");
	r = rpc(GOFER_OP_MKDIR, 0, 0750, "dir", NULL);
	hdir = in.rep.handle;
	snprintf(p, sizeof(p), "%s/dir", vol);
	ok(r == 0 && S_ISDIR(in.rep.st.mode) && stat(p, &st) == 0 &&
		   S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0750,
	   "MKDIR makes a host directory");
	ok(rpc(GOFER_OP_CREATE, hdir, 0600, "in", NULL) == 0 &&
		   rpc(GOFER_OP_UNLINK, 0, AT_REMOVEDIR, "dir", NULL) == -ENOTEMPTY &&
		   rpc(GOFER_OP_UNLINK, hdir, 0, "in", NULL) == 0 &&
		   rpc(GOFER_OP_UNLINK, 0, AT_REMOVEDIR, "dir", NULL) == 0 &&
		   stat(p, &st) < 0,
	   "UNLINK: ENOTEMPTY, then the file, then the directory");
	snprintf(p, sizeof(p), "%s/lnk", vol);
	ok(rpc(GOFER_OP_UNLINK, 0, 0, "lnk", NULL) == 0 && lstat(p, &st) < 0 &&
		   stat("/etc/passwd", &st) == 0,
	   "UNLINK a symlink removes the link, not its target");
	close(roots[0].sock);
	close(roots[1].sock);
	close(roots[2].sock);
	r = waitpid(gpid, &status, 0);
	ok(r == gpid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "the gofer exits cleanly when every socket is closed (%#x)", status);
	snprintf(p, sizeof(p), "rm -rf '%s' '%s'", vol, vro);
	if (system(p) != 0)
		fprintf(stderr, "cleanup failed\n");
}

int main(void)
{
	char root[] = "/tmp/cvisor-gofer-test-XXXXXX";
	char p[512];
	uint32_t h, hd, hl;
	pid_t pid;
	int r, fd, status;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 2;
	}
	put_file(root, "hello", "hello gofer\n", 0644);
	sym(root, "esc", "../../../etc/passwd");
	sym(root, "abs", "/etc/passwd");
	sym(root, "loop", "loop");
	snprintf(p, sizeof(p), "%s/fifo", root);
	mkfifo(p, 0644);
	snprintf(p, sizeof(p), "%s/d", root);
	mkdir(p, 0755);
	for (int i = 0; i < 1000; i++) {
		char n[96];

		snprintf(n, sizeof(n), "entry-%04d-%s", i,
			 "padpadpadpadpadpadpadpadpadpadpadpadpad");
		put_file(p, n, "", 0644);
	}

	printf("1..66\n");
	r = gofer_spawn(root, true, &sock, &pid);
	ok(r == 0, "gofer_spawn on %s (%d)", root, r);
	if (r) {
		printf("Bail out! no gofer\n");
		return 1;
	}
	/* Once serving (the filter is in), before any WALK (every handle is
	 * one more fd). */
	(void)rpc(GOFER_OP_STAT, 0, 0, NULL, NULL);
	check_isolation(pid);

	r = rpc(GOFER_OP_STAT, GOFER_ROOT_HANDLE, 0, NULL, NULL);
	ok(r == 0 && S_ISDIR(in.rep.st.mode), "STAT root is a directory");

	r = walk(0, "hello", &h);
	ok(r == 0 && S_ISREG(in.rep.st.mode) && in.rep.st.size == 12,
	   "WALK hello: regular, 12 bytes");
	r = rpc(GOFER_OP_OPEN, h, O_RDONLY, NULL, &fd);
	{
		char buf[32] = { 0 };

		ok(r == 0 && fd >= 0 && pread(fd, buf, sizeof(buf), 0) == 12 &&
			   !strcmp(buf, "hello gofer\n"),
		   "OPEN O_RDONLY donates a readable fd");
		ok(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC),
		   "donated fd is close-on-exec");
		ok(fd >= 0 && write(fd, "x", 1) < 0, "donated fd is read-only");
		if (fd >= 0)
			close(fd);
	}
	ok(rpc(GOFER_OP_OPEN, h, O_WRONLY, NULL, NULL) == -EROFS,
	   "OPEN O_WRONLY on a read-only root -> EROFS");
	ok(rpc(GOFER_OP_OPEN, h, O_RDONLY | O_TRUNC, NULL, NULL) == -EROFS,
	   "OPEN O_TRUNC -> EROFS");
	ok(rpc(GOFER_OP_OPEN, h, O_RDONLY | O_CREAT, NULL, NULL) == -EINVAL,
	   "OPEN with O_CREAT -> EINVAL");
	ok(walk(h, "x", NULL) == -ENOTDIR, "WALK from a file -> ENOTDIR");

	r = walk(0, "esc", &hl);
	ok(r == 0 && S_ISLNK(in.rep.st.mode), "WALK does not follow a symlink");
	r = rpc(GOFER_OP_READLINK, hl, 0, NULL, NULL);
	ok(r == 0 && in.rep.datalen == 19 &&
		   !memcmp(in.rep.data, "../../../etc/passwd", 19),
	   "READLINK returns the target text");
	ok(rpc(GOFER_OP_OPEN, hl, O_RDONLY, NULL, NULL) == -ELOOP,
	   "OPEN a symlink -> ELOOP");
	ok(walk(hl, "x", NULL) == -ENOTDIR, "WALK through a symlink handle fails");
	ok(walk(0, "etc", NULL) == -ENOENT,
	   "the gofer's root is the temp dir (no /etc)");
	ok(walk(0, "..", NULL) == -EINVAL && walk(0, ".", NULL) == -EINVAL,
	   "WALK \"..\" and \".\" -> EINVAL");
	ok(walk(0, "", NULL) == -EINVAL, "WALK \"\" -> EINVAL");
	ok(walk(0, "d/entry", NULL) == -EINVAL, "WALK a name with '/' -> EINVAL");
	ok(walk(0, "nope", NULL) == -ENOENT, "WALK a missing name -> ENOENT");

	{
		union {
			struct gofer_req req;
			char raw[REQ_HDR + 8];
		} m;

		memset(&m, 0, sizeof(m));
		m.req.op = GOFER_OP_WALK;
		m.req.namelen = 3;
		memcpy(m.req.name, "a\0b", 3);
		ok(raw_rpc(&m, REQ_HDR + 3, NULL) == -EINVAL,
		   "WALK a name with NUL -> EINVAL");
		m.req.namelen = 0xffffffffu;
		ok(raw_rpc(&m, REQ_HDR + 3, NULL) == -EINVAL,
		   "namelen larger than the message -> EINVAL");
		ok(raw_rpc(&m, 3, NULL) == -EINVAL, "short message -> EINVAL");
		ok(raw_rpc(&m, 0, NULL) == -EINVAL, "empty message -> EINVAL");
		m.req.namelen = 0;
		m.req.op = 99;
		ok(raw_rpc(&m, REQ_HDR, NULL) == -EINVAL, "unknown op -> EINVAL");
		m.req.op = 0;
		ok(raw_rpc(&m, REQ_HDR, NULL) == -EINVAL, "op 0 -> EINVAL");
	}
	{
		char big[REQ_HDR + 300];
		struct gofer_req *q = (struct gofer_req *)big;

		memset(big, 'a', sizeof(big));
		q->op = GOFER_OP_WALK;
		q->handle = 0;
		q->arg = 0;
		q->namelen = 300;
		q->handle2 = 0;
		ok(raw_rpc(big, sizeof(big), NULL) == -ENAMETOOLONG,
		   "300-byte name -> ENAMETOOLONG");
	}
	{
		char *huge = calloc(1, GOFER_MSG_MAX + 100);

		((struct gofer_req *)huge)->op = GOFER_OP_STAT;
		ok(raw_rpc(huge, GOFER_MSG_MAX + 100, NULL) == -EMSGSIZE,
		   "oversize datagram -> EMSGSIZE");
		free(huge);
	}
	ok(rpc(GOFER_OP_STAT, 12345, 0, NULL, NULL) == -EBADF &&
		   rpc(GOFER_OP_STAT, 0xffffffffu, 0, NULL, NULL) == -EBADF,
	   "bad handles -> EBADF");

	{
		uint32_t hf;

		r = walk(0, "fifo", &hf);
		ok(r == 0 && rpc(GOFER_OP_OPEN, hf, O_RDONLY, NULL, NULL) == -ENXIO,
		   "OPEN a fifo -> ENXIO (never blocks the gofer)");
	}

	/* READDIR: all 1000 names exactly once over several batches. */
	{
		static char seen[1000];
		uint64_t cookie = 0;
		int batches = 0, count = 0, bad = 0;

		r = walk(0, "d", &hd);
		do {
			size_t off = 0;

			r = rpc(GOFER_OP_READDIR, hd, cookie, NULL, NULL);
			if (r)
				break;
			batches++;
			while (off < in.rep.datalen) {
				struct gofer_dirent de;
				char name[256];
				int idx;

				memcpy(&de, in.rep.data + off,
				       offsetof(struct gofer_dirent, name));
				memcpy(name, in.rep.data + off +
					     offsetof(struct gofer_dirent, name),
				       de.namelen);
				name[de.namelen] = 0;
				if (de.reclen % 8 || sscanf(name, "entry-%d", &idx) != 1 ||
				    idx < 0 || idx >= 1000 || seen[idx]++)
					bad++;
				count++;
				off += de.reclen;
			}
			cookie = in.rep.next;
		} while (cookie && batches < 1000);
		ok(r == 0 && count == 1000 && !bad && batches > 1,
		   "READDIR: 1000 entries once each in %d batches", batches);
	}

	/* READDIR_PLUS (the gofer's io_uring batches): the same 1000, each
	 * with the host's lstat; the root's symlinks and fifo not followed. */
	{
		int batches, n;

		snprintf(p, sizeof(p), "%s/d", root);
		n = readdir_plus_all(hd, p, &batches);
		ok(n == 1000 && batches > 1,
		   "READDIR_PLUS: 1000 entries with their stats in %d batches (%d)",
		   batches, n);
		n = readdir_plus_all(0, root, &batches);
		ok(n == 6, "READDIR_PLUS root: symlinks and fifo lstat'ed (%d)", n);
		ok(rpc(GOFER_OP_READDIR_PLUS, 9999, 0, NULL, NULL) == -EBADF &&
			   rpc(GOFER_OP_READDIR_PLUS, hd, (uint64_t)INT64_MAX + 1,
			       NULL, NULL) == -EINVAL,
		   "READDIR_PLUS: bad handle, bad cookie refused");
	}

	r = rpc(GOFER_OP_STATFS, 0, 0, NULL, NULL);
	ok(r == 0 && in.rep.datalen == sizeof(struct statfs), "STATFS root");
	ok(rpc(GOFER_OP_CLOSE, 0, 0, NULL, NULL) == -EINVAL,
	   "CLOSE the root -> EINVAL");
	ok(rpc(GOFER_OP_CLOSE, h, 0, NULL, NULL) == 0 &&
		   rpc(GOFER_OP_STAT, h, 0, NULL, NULL) == -EBADF,
	   "CLOSE drops a handle");
	ok(rpc(GOFER_OP_STAT, hd, 0, "x", NULL) == -EINVAL,
	   "a name on a non-WALK op -> EINVAL");
	ok(rpc(GOFER_OP_STAT, 0, 0, NULL, NULL) == 0,
	   "the gofer survived every malformed request");

	close(sock);
	r = waitpid(pid, &status, 0);
	ok(r == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "the gofer exits cleanly when the socket closes (status %#x)",
	   status);

	/* The handler alone (gofer_server_handle): no namespaces, no filter,
	 * so these are the checks themselves, not defence in depth. */
	{
		int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		int procfd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
		static const char *const bad[] = { "..", ".", "", "a/b", "../etc",
						   "/", "d/", "/etc" };
		char big[300];
		bool all = true;
		int n1, n2, b1, b2;

		r = gofer_server_new(rootfd, procfd, true, &direct);
		ok(r == 0, "gofer_server_new over the tree");
		if (r)
			direct = NULL;
		for (size_t i = 0; direct && i < sizeof(bad) / sizeof(bad[0]); i++) {
			r = walk(0, bad[i], NULL);
			if (r != -EINVAL) {
				printf("# WALK \"%s\" -> %d\n", bad[i], r);
				all = false;
			}
		}
		ok(direct && all,
		   "direct: WALK \"..\", \".\", \"\", \"a/b\", \"../etc\", \"/\" -> EINVAL");
		{
			union {
				struct gofer_req req;
				char raw[64];
			} m;

			memset(&m, 0, sizeof(m));
			m.req.op = GOFER_OP_WALK;
			m.req.namelen = 3;
			memcpy(m.req.name, "d\0x", 3);
			memset(big, 'a', sizeof(big) - 1);
			big[sizeof(big) - 1] = 0;
			ok(direct &&
				   raw_rpc(&m, offsetof(struct gofer_req, name) + 3,
					   NULL) == -EINVAL &&
				   walk(0, big, NULL) == -ENAMETOOLONG,
			   "direct: WALK a name with NUL -> EINVAL, 299 bytes -> ENAMETOOLONG");
		}
		all = direct != NULL;
		{
			static const uint32_t hs[] = { 1, 2, 999, 1u << 20,
						       UINT32_MAX - 1,
						       GOFER_NO_HANDLE };
			static const uint32_t ops[] = {
				GOFER_OP_STAT, GOFER_OP_OPEN, GOFER_OP_READDIR,
				GOFER_OP_READLINK, GOFER_OP_CLOSE,
				GOFER_OP_STATFS, GOFER_OP_READDIR_PLUS };

			for (size_t i = 0; direct && i < sizeof(hs) / sizeof(hs[0]); i++) {
				if (walk(hs[i], "d", NULL) != -EBADF)
					all = false;
				for (size_t j = 0; j < sizeof(ops) / sizeof(ops[0]); j++)
					if (rpc(ops[j], hs[i], 0, NULL, NULL) != -EBADF)
						all = false;
			}
		}
		ok(all, "direct: handles out of range -> EBADF for every op");

		/* READDIR_PLUS: the statx loop and the ring agree. */
		snprintf(p, sizeof(p), "%s/d", root);
		r = direct ? walk(0, "d", &hd) : -1;
		n1 = r ? -1 : readdir_plus_all(hd, p, &b1);
		r = direct ? gofer_server_enable_uring(direct) : -1;
		n2 = r ? -1 : readdir_plus_all(hd, p, &b2);
		ok(n1 == 1000 && n2 == 1000 && b1 == b2,
		   "direct: READDIR_PLUS by statx loop and by io_uring agree (%d, %d)",
		   n1, n2);
		gofer_server_free(direct);
		direct = NULL;
	}

	test_roots(root);

	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	if (system(p) != 0)
		fprintf(stderr, "cleanup failed\n");
	return tap_failed ? 1 : 0;
}

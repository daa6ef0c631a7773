// SPDX-License-Identifier: GPL-2.0
/*
 * VFS path walk and file semantics over a real gofer serving a temporary
 * tree, with tmpfs at /tmp and devfs at /dev. Exercises the vfs functions
 * that work on sentry buffers (no workload memory needed). TAP output.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cvisor/gofer.h"
#include "cvisor/mm.h"
#include "cvisor/task.h"
#include "cvisor/vfs.h"
#include "../../vfs/vfs_impl.h"

#include "unit_tap.h"

static struct task T;
static char hostroot[] = "/tmp/cvisor-vfs-test-XXXXXX";

static void hpath(char *buf, size_t n, const char *rel)
{
	snprintf(buf, n, "%s/%s", hostroot, rel);
}

static void put_file(const char *rel, const char *data, mode_t mode)
{
	char p[512];
	int fd;

	hpath(p, sizeof(p), rel);
	fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, mode);
	if (fd < 0 || write(fd, data, strlen(data)) < 0) {
		perror(p);
		exit(2);
	}
	fchmod(fd, mode);
	close(fd);
}

static void sym(const char *rel, const char *target)
{
	char p[512];

	hpath(p, sizeof(p), rel);
	if (symlink(target, p) < 0) {
		perror(p);
		exit(2);
	}
}

static void mkd(const char *rel)
{
	char p[512];

	hpath(p, sizeof(p), rel);
	mkdir(p, 0755);
}

/* Resolve like stat(2)/lstat(2) from the task's cwd. */
static int lookup(const char *path, bool follow, struct path *out)
{
	return vfs_lookup_at(&T, AT_FDCWD, path, follow ? WALK_FOLLOW : 0,
			     false, out);
}

static int lookup_err(const char *path)
{
	struct path p;

	return lookup(path, true, &p);
}

static int open_file(const char *path, int flags, mode_t mode,
		     struct file **f)
{
	return vfs_openat(&T, AT_FDCWD, path, flags, mode, f);
}

static ssize_t fread_all(struct file *f, char *buf, size_t n)
{
	struct iovec iov = { buf, n };
	ssize_t r;

	pthread_mutex_lock(&f->pos_lock);
	r = vfs_read_iov(f, &iov, 1, &f->pos);
	pthread_mutex_unlock(&f->pos_lock);
	return r;
}

static ssize_t fwrite_all(struct file *f, const char *buf, size_t n)
{
	struct iovec iov = { (void *)buf, n };
	ssize_t r;

	pthread_mutex_lock(&f->pos_lock);
	r = vfs_write_iov(f, &iov, 1, &f->pos);
	pthread_mutex_unlock(&f->pos_lock);
	return r;
}

struct collect {
	struct dir_ctx ctx;
	int count, dots, max;
	char names[2048][64];
};

static bool collect_actor(struct dir_ctx *ctx, const char *name, size_t len,
			  uint64_t ino, unsigned int type, int64_t next)
{
	struct collect *c = container_of(ctx, struct collect, ctx);

	(void)ino;
	(void)type;
	if (c->max && c->count >= c->max)
		return false;
	if ((len == 1 && name[0] == '.') || (len == 2 && !memcmp(name, "..", 2)))
		c->dots++;
	if (c->count < 2048)
		snprintf(c->names[c->count], 64, "%.*s", (int)len, name);
	c->count++;
	ctx->pos = next;
	return true;
}

/* List a directory in batches of `batch` entries, like small getdents. */
static int list_dir(const char *path, int batch, struct collect *c)
{
	struct file *f;
	int r = open_file(path, O_RDONLY | O_DIRECTORY, 0, &f);

	if (r < 0)
		return r;
	memset(c, 0, sizeof(*c));
	c->ctx.actor = collect_actor;
	for (;;) {
		int before = c->count;

		c->max = c->count + batch;
		c->ctx.pos = f->pos;
		r = vfs_iterate(f, &c->ctx);
		f->pos = c->ctx.pos;
		if (r < 0 || c->count == before)
			break;
	}
	vfs_file_put(f);
	return r;
}

static ssize_t pwrite_at(struct file *f, const void *buf, size_t n, int64_t off)
{
	struct iovec iov = { (void *)buf, n };

	return vfs_write_iov(f, &iov, 1, &off);
}

/* tmpfs data lives in memory-file frames that vfs_file_get_page() hands
 * out: a "mapping" (a frame reference) and read()/write() see one copy. */
static void test_tmpfs_pages(struct vfs *vfs)
{
	struct memfile *mf = vfs->mf;
	uint64_t used0 = memfile_used(mf), fr, fr2;
	const int64_t P = 4096;
	struct file *f, *ro;
	struct stat st;
	char buf[3 * 4096 + 64];
	char *pg;
	int r;

	r = open_file("/tmp/pages", O_CREAT | O_EXCL | O_RDWR, 0644, &f);
	ok(r == 0, "create /tmp/pages (%d)", r);
	if (r)
		return;
	ok(vfs_file_mappable(f), "a tmpfs file is mappable");
	ok(pwrite_at(f, "abc", 3, 2 * P + 10) == 3 &&
		   vfs_fstat(f, &st) == 0 && st.st_size == 2 * P + 13 &&
		   st.st_blocks == 8,
	   "a sparse write allocates one page (blocks %ld)",
	   (long)st.st_blocks);
	memset(buf, 1, sizeof(buf));
	ok(vfs_pread(f, buf, sizeof(buf), 0) == 2 * P + 13 && !buf[0] &&
		   !buf[P + 5] && !memcmp(buf + 2 * P + 10, "abc", 3),
	   "holes read as zero");
	ok(vfs_file_get_page(f, 2, VFS_PAGE_WRITE, &fr) == 0 &&
		   memfile_frame_refs(mf, fr) == 2,
	   "get_page: the file's frame with a reference for the caller");
	pg = memfile_ptr(mf, fr);
	pg[11] = 'Z';
	ok(vfs_pread(f, buf, 3, 2 * P + 10) == 3 && !memcmp(buf, "aZc", 3),
	   "a store to the frame is what read() returns");
	pwrite_at(f, "Q", 1, 2 * P + 12);
	ok(pg[12] == 'Q', "write() lands in the mapped frame");
	ok(vfs_file_get_page(f, 3, 0, &fr2) == -EFAULT,
	   "a page past EOF: EFAULT (SIGBUS)");
	ok(vfs_file_get_page(f, 0, VFS_PAGE_NOALLOC, &fr2) == -ENOENT,
	   "NOALLOC on a hole: ENOENT");
	ok(vfs_file_get_page(f, 1, 0, &fr2) == 0 && vfs_fstat(f, &st) == 0 &&
		   st.st_blocks == 16,
	   "get_page on a hole allocates it (shmem_fault)");
	memfile_frame_put(mf, fr2);
	r = f->inode->iops->truncate(f->inode, 2 * P + 12);
	ok(r == 0 && pg[10] == 'a' && pg[11] == 'Z' && !pg[12],
	   "truncate zeroes the tail of the last page in place");
	r = f->inode->iops->truncate(f->inode, P);
	ok(r == 0 && memfile_frame_refs(mf, fr) == 1,
	   "truncate drops the file's pages past EOF (a mapping keeps its own)");
	memfile_frame_put(mf, fr);
	r = f->inode->iops->truncate(f->inode, 3 * P);
	ok(r == 0 && vfs_pread(f, buf, P, 2 * P) == P && !buf[10] && !buf[11],
	   "extending again reads zeroes");
	ok(pwrite_at(f, "x", 1, f->inode->sb->bytes_max) == -EFBIG,
	   "a write at the size limit: EFBIG");
	{
		struct super_block *sb = f->inode->sb;
		int64_t max = sb->bytes_max;
		static char big[4 * 4096];
		struct file *g;

		/* Another file takes 4 pages, then there is room for one
		 * more page only (bytes_max is also the size limit). */
		if (open_file("/tmp/pages2", O_CREAT | O_RDWR, 0644, &g) == 0) {
			pwrite_at(g, big, sizeof(big), 0);
			sb->bytes_max = atomic_load(&sb->bytes_used) + P;
			ok(pwrite_at(f, big, 2 * P, 0) == P &&
				   pwrite_at(f, big, 2 * P, P) == -ENOSPC,
			   "out of tmpfs space: a short write, then ENOSPC");
			sb->bytes_max = max;
			g->inode->iops->truncate(g->inode, 0);
			vfs_file_put(g);
		}
	}
	pwrite_at(f, "123456789", 9, P - 3);
	ok(vfs_file_punch(f, 0, 2 * P) == 0 && vfs_fstat(f, &st) == 0 &&
		   st.st_size == 3 * P && st.st_blocks == 0 &&
		   vfs_pread(f, buf, 9, P - 3) == 9 && !buf[0] && !buf[8],
	   "punch frees whole pages and keeps the size");
	r = open_file("/tmp/pages", O_RDONLY, 0, &ro);
	if (r == 0) {
		ok(pwrite_at(f, "m", 1, 5) == 1 &&
			   vfs_file_get_page(ro, 0, 0, &fr) == 0 &&
			   *(char *)memfile_ptr(mf, fr + 5) == 'm',
		   "two open files of one inode share its frames");
		memfile_frame_put(mf, fr);
		vfs_file_put(ro);
	}
	vfs_file_put(f);
	r = open_file("/tmp/pages", O_RDWR | O_TRUNC, 0, &f);
	if (r == 0)
		vfs_file_put(f);
	ok(r == 0 && memfile_used(mf) == used0,
	   "O_TRUNC gives every frame back (%lld bytes left)",
	   (long long)(memfile_used(mf) - used0));
	r = open_file("/dev/null", O_RDWR, 0, &f);
	if (r == 0) {
		ok(!vfs_file_mappable(f) &&
			   vfs_file_get_page(f, 0, 0, &fr) == -ENXIO,
		   "a device is not mappable: ENXIO");
		vfs_file_put(f);
	}
	r = open_file("/etc/passwd", O_RDONLY, 0, &f);
	if (r == 0) {
		ok(!vfs_file_mappable(f), "a gofer file is not mappable");
		vfs_file_put(f);
	}
}

int main(void)
{
	struct vfs_config cfg = { .root_readonly = true };
	struct vfs *vfs;
	struct path p, q;
	struct file *f;
	struct stat st, st2;
	static struct collect c;
	char buf[8192], out[512];
	pid_t gpid;
	int sock, r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!mkdtemp(hostroot)) {
		perror("mkdtemp");
		return 2;
	}
	chmod(hostroot, 0755);
	mkd("etc");
	mkd("bin");
	mkd("tmp");
	mkd("d");
	mkd("a");
	mkd("a/b");
	put_file("etc/passwd", "root:x:0:0\n", 0644);
	put_file("etc/shadow", "secret\n", 0600);
	put_file("bin/sh", "#!fake\n", 0755);
	put_file("a/b/file", "deep\n", 0644);
	sym("lnk_abs", "/etc/passwd");
	sym("lnk_rel", "etc/passwd");
	sym("esc", "../../../../etc/passwd");
	sym("a/b/up", "../../../../../../etc");
	sym("lnk_dir", "a/b");
	sym("loop1", "loop2");
	sym("loop2", "loop1");
	sym("dangling", "/tmp/created-through-link");
	sym("empty_dir_link", "d");
	/* A chain of 40 links resolves, 41 is ELOOP (MAXSYMLINKS). */
	put_file("chain_end", "end\n", 0644);
	for (int i = 0; i < 41; i++) {
		char n[32], tgt[32];

		snprintf(n, sizeof(n), "c%d", i);
		if (i == 0)
			snprintf(tgt, sizeof(tgt), "chain_end");
		else
			snprintf(tgt, sizeof(tgt), "c%d", i - 1);
		sym(n, tgt);
	}
	for (int i = 0; i < 1000; i++) {
		char n[64];

		snprintf(n, sizeof(n), "d/f%04d", i);
		put_file(n, "", 0644);
	}

	r = gofer_spawn(hostroot, true, &sock, &gpid);
	ok(r == 0, "gofer_spawn (%d)", r);
	if (r) {
		printf("Bail out!\n");
		return 1;
	}
	cfg.gofer_sock = sock;
	r = vfs_new(&cfg, &vfs);
	ok(r == 0, "vfs_new: gofer root, tmpfs /tmp, devfs /dev (%d)", r);
	if (r)
		return 1;
	fs_struct_new(vfs, &T.fs);
	fdtable_new(&T.fdt);
	T.rlimits[RLIMIT_NOFILE].rlim_cur = 1024;

	/* --- walks --- */
	ok(lookup("/etc/passwd", true, &p) == 0 && S_ISREG(p.dentry->inode->mode),
	   "absolute path");
	ok(lookup("etc/passwd", true, &q) == 0 && q.dentry == p.dentry,
	   "relative path from cwd /, same dentry");
	ok(lookup("//etc///passwd", true, &q) == 0 && q.dentry == p.dentry,
	   "repeated slashes");
	ok(lookup("/etc/./../etc/passwd", true, &q) == 0 && q.dentry == p.dentry,
	   ". and ..");
	ok(lookup("/../../../etc/passwd", true, &q) == 0 && q.dentry == p.dentry,
	   ".. at the root stays at the root");
	ok(lookup("/lnk_abs", true, &q) == 0 && q.dentry == p.dentry,
	   "absolute symlink resolves inside the sandbox");
	ok(lookup("/lnk_rel", true, &q) == 0 && q.dentry == p.dentry,
	   "relative symlink");
	ok(lookup("/esc", true, &q) == 0 && q.dentry == p.dentry,
	   "symlink to ../../../../etc/passwd stays inside");
	ok(lookup("/a/b/up/passwd", true, &q) == 0 && q.dentry == p.dentry,
	   "mid-path escaping symlink stays inside");
	ok(lookup("/lnk_abs", false, &q) == 0 && S_ISLNK(q.dentry->inode->mode),
	   "no-follow returns the link");
	ok(lookup("/lnk_dir/file", true, &q) == 0, "symlink to a dir mid-path");
	ok(lookup("/lnk_dir/", false, &q) == 0 && S_ISDIR(q.dentry->inode->mode),
	   "trailing slash follows a link even without FOLLOW");
	ok(lookup_err("/loop1") == -ELOOP, "symlink loop -> ELOOP");
	ok(lookup_err("/c39") == 0, "40 links in a chain resolve");
	ok(lookup_err("/c40") == -ELOOP, "41 links -> ELOOP");
	ok(lookup_err("/etc/passwd/") == -ENOTDIR, "trailing slash on a file -> ENOTDIR");
	ok(lookup_err("/etc/passwd/x") == -ENOTDIR, "file mid-path -> ENOTDIR");
	ok(lookup_err("/nope/x") == -ENOENT && lookup_err("/nope") == -ENOENT,
	   "missing -> ENOENT (and again from the negative cache)");
	ok(lookup_err("") == -ENOENT, "empty path -> ENOENT");
	memset(buf, 'x', 256);
	buf[256] = 0;
	ok(lookup_err(buf) == -ENAMETOOLONG, "256-byte component -> ENAMETOOLONG");
	buf[255] = 0;
	ok(lookup_err(buf) == -ENOENT, "255-byte component is fine (ENOENT)");
	for (int i = 0; i < 4096; i += 2) {
		buf[i] = 'a';
		buf[i + 1] = '/';
	}
	buf[4096] = 0;
	ok(lookup_err(buf) == -ENAMETOOLONG, "4096-byte path -> ENAMETOOLONG");

	/* --- mounts --- */
	ok(vfs_stat_at(&T, AT_FDCWD, "/", 0, &st) == 0 &&
		   vfs_stat_at(&T, AT_FDCWD, "/tmp", 0, &st2) == 0 &&
		   st.st_dev != st2.st_dev && (st2.st_mode & 07777) == 01777,
	   "/tmp is its own mount (st_dev differs, mode 1777)");
	ok(vfs_stat_at(&T, AT_FDCWD, "/dev", 0, &st2) == 0 &&
		   st.st_dev != st2.st_dev,
	   "/dev is its own mount");
	ok(lookup("/tmp/..", true, &q) == 0 && q.dentry == vfs->root_mnt->root &&
		   q.mnt == vfs->root_mnt,
	   "/tmp/.. crosses back to /");

	/* --- opens on the read-only root --- */
	r = open_file("/etc/passwd", O_RDONLY, 0, &f);
	ok(r == 0, "open /etc/passwd");
	if (r == 0) {
		memset(buf, 0, sizeof(buf));
		ok(fread_all(f, buf, sizeof(buf)) == 11 &&
			   !strcmp(buf, "root:x:0:0\n"),
		   "read through the donated host fd");
		ok(fread_all(f, buf, sizeof(buf)) == 0, "then EOF");
		ok(vfs_llseek(f, 5, SEEK_SET) == 5 && fread_all(f, buf, 1) == 1 &&
			   buf[0] == 'x',
		   "lseek + read");
		ok(vfs_llseek(f, 0, SEEK_END) == 11 &&
			   vfs_llseek(f, -1, SEEK_SET) == -EINVAL &&
			   vfs_llseek(f, 20, SEEK_DATA) == -ENXIO,
		   "SEEK_END, negative -> EINVAL, SEEK_DATA past EOF -> ENXIO");
		ok(vfs_pread(f, buf, 4, 0) == 4 && !memcmp(buf, "root", 4),
		   "vfs_pread (loader path)");
		ok(fwrite_all(f, "x", 1) < 0, "no write op on a read-only open");
		vfs_file_put(f);
	}
	ok(open_file("/etc/passwd", O_WRONLY, 0, &f) == -EROFS,
	   "O_WRONLY on the gofer root -> EROFS");
	ok(open_file("/etc/new", O_CREAT | O_WRONLY, 0644, &f) == -EROFS,
	   "O_CREAT on the gofer root -> EROFS");
	ok(open_file("/etc", O_RDWR, 0, &f) == -EISDIR ||
		   open_file("/etc", O_RDWR, 0, &f) == -EROFS,
	   "O_RDWR on a directory refused");
	ok(open_file("/lnk_abs", O_RDONLY | O_NOFOLLOW, 0, &f) == -ELOOP,
	   "O_NOFOLLOW on a symlink -> ELOOP");
	ok(open_file("/etc/passwd", O_RDONLY | O_DIRECTORY, 0, &f) == -ENOTDIR,
	   "O_DIRECTORY on a file -> ENOTDIR");
	r = open_file("/lnk_abs", O_PATH | O_NOFOLLOW, 0, &f);
	ok(r == 0 && S_ISLNK(f->inode->mode), "O_PATH|O_NOFOLLOW opens the link");
	if (r == 0)
		vfs_file_put(f);

	/* --- permissions --- */
	T.cred.fsuid = T.cred.ruid = 1000;
	T.cred.fsgid = T.cred.rgid = 1000;
	ok(open_file("/etc/shadow", O_RDONLY, 0, &f) == -EACCES,
	   "uid 1000 cannot read a 0600 root file");
	ok(vfs_access_at(&T, AT_FDCWD, "/etc/passwd", R_OK, 0) == 0 &&
		   vfs_access_at(&T, AT_FDCWD, "/etc/passwd", W_OK, 0) == -EROFS,
	   "access: R_OK ok, W_OK on the ro root -> EROFS");
	T.cred = (struct cred){ 0 };
	ok(open_file("/etc/shadow", O_RDONLY, 0, &f) == 0, "root can");
	vfs_file_put(f);
	ok(vfs_open_exec(&T, "/etc/passwd", &f) == -EACCES,
	   "exec of a 0644 file -> EACCES even for root");
	r = vfs_open_exec(&T, "/bin/sh", &f);
	ok(r == 0, "exec of a 0755 file");
	if (r == 0)
		vfs_file_put(f);
	ok(vfs_open_exec(&T, "/etc", &f) == -EACCES, "exec of a directory -> EACCES");
	ok(vfs_find_in_path(&T, "sh", "/nope:/etc:/bin", out, sizeof(out)) == 0 &&
		   !strcmp(out, "/bin/sh"),
	   "vfs_find_in_path finds /bin/sh (%s)", out);
	ok(vfs_find_in_path(&T, "passwd", "/etc", out, sizeof(out)) == -EACCES,
	   "a non-executable match -> EACCES");

	/* --- tmpfs --- */
	r = open_file("/tmp/f", O_CREAT | O_EXCL | O_RDWR, 0644, &f);
	ok(r == 0, "O_CREAT|O_EXCL on /tmp");
	if (r == 0) {
		ok(fwrite_all(f, "hello world", 11) == 11, "write");
		vfs_llseek(f, 0, SEEK_SET);
		memset(buf, 0, 32);
		ok(fread_all(f, buf, 32) == 11 && !strcmp(buf, "hello world"),
		   "read back");
		vfs_file_put(f);
	}
	ok(open_file("/tmp/f", O_CREAT | O_EXCL | O_RDWR, 0644, &f) == -EEXIST,
	   "O_EXCL on an existing file -> EEXIST");
	r = open_file("/tmp/f", O_WRONLY | O_APPEND, 0, &f);
	if (r == 0) {
		fwrite_all(f, "!", 1);
		vfs_file_put(f);
	}
	ok(vfs_stat_at(&T, AT_FDCWD, "/tmp/f", 0, &st) == 0 && st.st_size == 12,
	   "O_APPEND appends");
	r = open_file("/tmp/f", O_WRONLY | O_TRUNC, 0, &f);
	if (r == 0)
		vfs_file_put(f);
	ok(r == 0 && vfs_stat_at(&T, AT_FDCWD, "/tmp/f", 0, &st) == 0 &&
		   st.st_size == 0,
	   "O_TRUNC empties");
	T.fs->umask = 022;
	r = open_file("/dangling", O_CREAT | O_WRONLY, 0666, &f);
	if (r == 0)
		vfs_file_put(f);
	ok(r == 0 && vfs_stat_at(&T, AT_FDCWD, "/tmp/created-through-link", 0,
				 &st) == 0 && (st.st_mode & 0777) == 0644,
	   "O_CREAT through a dangling symlink creates the target, umask applied");
	ok(open_file("/tmp/g/", O_CREAT | O_WRONLY, 0644, &f) == -EISDIR,
	   "O_CREAT with a trailing slash -> EISDIR");
	ok(open_file("/tmp", O_WRONLY, 0, &f) == -EISDIR,
	   "writing a directory -> EISDIR");

	/* --- devfs --- */
	r = open_file("/dev/zero", O_RDONLY, 0, &f);
	if (r == 0) {
		memset(buf, 1, 16);
		ok(fread_all(f, buf, 16) == 16 && !buf[0] && !buf[15],
		   "/dev/zero reads zeros");
		vfs_file_put(f);
	} else {
		ok(0, "/dev/zero (%d)", r);
	}
	r = open_file("/dev/null", O_RDWR, 0, &f);
	ok(r == 0 && fread_all(f, buf, 16) == 0 && fwrite_all(f, "x", 1) == 1,
	   "/dev/null");
	if (r == 0)
		vfs_file_put(f);

	/* --- readdir --- */
	r = list_dir("/d", 7, &c);
	{
		int once = 1;
		static char seen[1000];

		for (int i = 0; i < c.count; i++) {
			int n;

			if (sscanf(c.names[i], "f%d", &n) == 1 &&
			    (n < 0 || n >= 1000 || seen[n]++))
				once = 0;
		}
		ok(r == 0 && c.count == 1002 && c.dots == 2 && once,
		   "1000-entry dir: every name once plus . and .. (%d)",
		   c.count);
	}
	r = list_dir("/tmp", 1, &c);
	ok(r == 0 && c.count == 4 && c.dots == 2,
	   "tmpfs listing in 1-entry batches (%d)", c.count);

	/* --- tmpfs pages in the memory file --- */
	test_tmpfs_pages(vfs);

	/* --- cwd --- */
	ok(fs_struct_chdir(T.fs, "/a/b") == 0 && lookup("file", true, &q) == 0,
	   "relative lookup from a new cwd");
	{
		int n = vfs_path_name(vfs, &T.fs->root, &T.fs->cwd, out,
				      sizeof(out));
		ok(n == 4 && !strcmp(out, "/a/b"), "cwd name is /a/b (%s)", out);
	}

	fdtable_put(T.fdt);
	fs_struct_put(T.fs);
	vfs_destroy(vfs);
	{
		int status = 0;

		r = waitpid(gpid, &status, 0);
		ok(r == gpid && WIFEXITED(status) && !WEXITSTATUS(status),
		   "the gofer exits when the vfs is destroyed");
	}
	snprintf(buf, sizeof(buf), "rm -rf '%s'", hostroot);
	if (system(buf) != 0)
		fprintf(stderr, "cleanup failed\n");
	return tap_done();
}

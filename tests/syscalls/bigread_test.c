/* read()/readv()/pread() of several pages at a time from a host file (the
 * program's own executable: under cvisor it comes through the gofer), into
 * fresh, unaligned, copy-on-write, shared and read-only memory, across EOF;
 * and the same from a file in /tmp. Every result is checked against 4 KiB
 * preads of the same bytes. read(2), readv(2); mm/filemap.c. */
#include "tap.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

static unsigned char *ref; /* the whole file, read in 4 KiB preads */
static size_t ref_len;

static int load_ref(int fd)
{
	struct stat st;

	if (fstat(fd, &st) || st.st_size < 300 * 1024)
		return -1;
	ref_len = (size_t)st.st_size;
	ref = malloc(ref_len);
	if (!ref)
		return -1;
	for (size_t o = 0; o < ref_len; o += 4096) {
		size_t n = ref_len - o < 4096 ? ref_len - o : 4096;

		if (pread(fd, ref + o, n, (off_t)o) != (ssize_t)n)
			return -1;
	}
	return 0;
}

static void *fresh(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		bail_out("mmap");
	return p;
}

static void test_file(int fd, const char *what)
{
	unsigned char *b = fresh(512 * 1024);
	struct iovec iov[3];
	ssize_t n;

	/* Fresh pages, page-aligned buffer and offset. */
	lseek(fd, 0, SEEK_SET);
	n = read(fd, b, 64 * 1024);
	ok(n == 64 * 1024 && !memcmp(b, ref, 64 * 1024), "%s: 64 KiB read into fresh pages", what);
	is_long(lseek(fd, 0, SEEK_CUR), 64 * 1024, "%s: the offset moved by 64 KiB", what);

	/* Unaligned buffer and file offset, odd length. */
	lseek(fd, 777, SEEK_SET);
	n = read(fd, b + 123 + 128 * 1024, 50000);
	ok(n == 50000 && !memcmp(b + 123 + 128 * 1024, ref + 777, 50000),
	   "%s: 50000 bytes at file offset 777 into buffer offset 123", what);
	ok(b[128 * 1024 + 122] == 0 && b[128 * 1024 + 123 + 50000] == 0,
	   "%s: the bytes around it stay zero", what);

	/* The same buffer again (pages now in use). */
	lseek(fd, 4096, SEEK_SET);
	n = read(fd, b, 200 * 1024);
	ok(n == 200 * 1024 && !memcmp(b, ref + 4096, 200 * 1024), "%s: 200 KiB into used pages", what);

	/* readv over three pieces. */
	memset(b, 0, 512 * 1024);
	iov[0] = (struct iovec){ b, 8192 };
	iov[1] = (struct iovec){ b + 100000, 20000 };
	iov[2] = (struct iovec){ b + 300001, 100 * 1024 };
	lseek(fd, 12345, SEEK_SET);
	n = readv(fd, iov, 3);
	ok(n == 8192 + 20000 + 100 * 1024 && !memcmp(b, ref + 12345, 8192) &&
		   !memcmp(b + 100000, ref + 12345 + 8192, 20000) &&
		   !memcmp(b + 300001, ref + 12345 + 8192 + 20000, 100 * 1024),
	   "%s: readv of 8 KiB, 20000 bytes and 100 KiB", what);

	/* pread does not move the offset. */
	off_t cur = lseek(fd, 0, SEEK_CUR);
	n = pread(fd, b + 4096, 30000, 99999);
	ok(n == 30000 && !memcmp(b + 4096, ref + 99999, 30000), "%s: pread of 30000 bytes", what);
	is_long(lseek(fd, 0, SEEK_CUR), cur, "%s: pread leaves the offset", what);

	/* Across the end of the file, then at it. */
	lseek(fd, (off_t)ref_len - 10000, SEEK_SET);
	n = read(fd, b, 64 * 1024);
	ok(n == 10000 && !memcmp(b, ref + ref_len - 10000, 10000), "%s: a read across EOF is short (%zd)", what, n);
	is_long(lseek(fd, 0, SEEK_CUR), (long)ref_len, "%s: the offset is at EOF", what);
	is_long(read(fd, b, 64 * 1024), 0, "%s: a read at EOF returns 0", what);

	/* Read-only memory: EFAULT, nothing read. */
	void *ro = mmap(NULL, 64 * 1024, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	lseek(fd, 0, SEEK_SET);
	is_errno(read(fd, ro, 64 * 1024), EFAULT, "%s: read into read-only memory -> EFAULT", what);
	munmap(ro, 64 * 1024);

	/* Copy-on-write after fork: the child's read stays in the child. */
	memset(b, 'A', 64 * 1024);
	pid_t pid = fork();
	if (pid == 0) {
		lseek(fd, 0, SEEK_SET);
		_exit(read(fd, b, 64 * 1024) == 64 * 1024 && !memcmp(b, ref, 64 * 1024) ? 0 : 1);
	}
	int st = -1;
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: a child reads into its copy of a COW buffer", what);
	int intact = 1;
	for (int i = 0; i < 64 * 1024; i++)
		intact &= b[i] == 'A';
	ok(intact, "%s: the parent's buffer is untouched", what);

	/* MAP_SHARED anonymous memory: the child's read shows in the parent. */
	unsigned char *sh = mmap(NULL, 64 * 1024, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid = fork();
	if (pid == 0)
		_exit(pread(fd, sh, 16384, 4096) == 16384 ? 0 : 1);
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 && !memcmp(sh, ref + 4096, 16384),
	   "%s: a child's read into shared memory shows in the parent", what);
	munmap(sh, 64 * 1024);
	munmap(b, 512 * 1024);
}

int main(void)
{
	int fd = open("/proc/self/exe", O_RDONLY);

	if (fd < 0 || load_ref(fd))
		bail_out("cannot read /proc/self/exe (static test binaries are > 300 KiB)");
	test_file(fd, "host file");
	close(fd);

	/* A copy in /tmp (tmpfs in the sandbox, or whatever /tmp is). */
	char path[] = "/tmp/cvisor-bigread-XXXXXX";
	fd = mkstemp(path);
	if (fd < 0 || write(fd, ref, ref_len) != (ssize_t)ref_len)
		bail_out("cannot write %s", path);
	unlink(path);
	test_file(fd, "/tmp file");
	close(fd);
	return done_testing();
}

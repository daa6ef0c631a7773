// SPDX-License-Identifier: GPL-2.0
/*
 * mmap of a file of the image root (the test binary itself, through
 * /proc/self/exe): private and shared mappings read what read() reads,
 * zero past EOF, private writes stay private (also across fork), and
 * anonymous memory touched in order reads back what was written. Under
 * cvisor these pages are filled from the host fd inside the host kernel
 * (memfile_fill_fd) in fault-around blocks of up to 1 MiB.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tap.h"

#define PG 4096L

static unsigned char *whole;	/* the file as read() sees it */
static long size;

static int same_as_file(const unsigned char *p, long off, long len)
{
	for (long i = 0; i < len; i++) {
		unsigned char want = off + i < size ? whole[off + i] : 0;

		if (p[i] != want)
			return 0;
	}
	return 1;
}

static void test_private(int fd)
{
	long maplen = (size + PG - 1) & ~(PG - 1);
	unsigned char *p = mmap(NULL, maplen, PROT_READ, MAP_PRIVATE, fd, 0);
	unsigned char *x, *w;
	unsigned char c;

	ok(p != MAP_FAILED && same_as_file(p, 0, maplen),
	   "MAP_PRIVATE read-only: the file's bytes, zero to the page end");
	/* Executable, at an offset: the biggest fault-around blocks. */
	x = mmap(NULL, maplen - PG, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, PG);
	ok(x != MAP_FAILED && same_as_file(x, PG, maplen - PG),
	   "MAP_PRIVATE PROT_EXEC at offset one page");
	w = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ok(w != MAP_FAILED, "MAP_PRIVATE writable");
	if (w != MAP_FAILED) {
		w[10] ^= 0xff;
		w[PG + 5] = (unsigned char)~whole[PG + 5];
		ok(pread(fd, &c, 1, 10) == 1 && c == whole[10] && p[10] == whole[10],
		   "a private write reaches neither the file nor another mapping");
		ok(w[10] == (unsigned char)(whole[10] ^ 0xff) &&
			   same_as_file(w + 11, 11, PG - 11),
		   "and the writer sees its own write and the file around it");
	}
	if (p != MAP_FAILED && w != MAP_FAILED) {
		pid_t pid = fork();
		int st = -1;

		if (pid == 0) {
			/* Copy-on-write across fork: the child's writes are
			 * its own, and the file pages still read right. */
			w[20] = (unsigned char)(w[20] + 1);
			_exit(p[20] == whole[20] && w[10] == (unsigned char)(whole[10] ^ 0xff) ? 0 : 1);
		}
		waitpid(pid, &st, 0);
		ok(pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
			   w[20] == whole[20],
		   "fork: the child's write to the private mapping stays in the child");
	}
	if (w != MAP_FAILED)
		munmap(w, 2 * PG);
	if (x != MAP_FAILED)
		munmap(x, maplen - PG);
	if (p != MAP_FAILED)
		munmap(p, maplen);
}

static void test_shared(int fd)
{
	long len = size > 8 * PG ? 8 * PG : (size & ~(PG - 1));
	unsigned char *s = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);

	ok(s != MAP_FAILED && len > 0 && same_as_file(s, 0, len),
	   "MAP_SHARED read-only of the file: the file's bytes");
	if (s != MAP_FAILED)
		munmap(s, len);
}

static void test_anon_sequential(void)
{
	long len = 8L << 20;
	unsigned char *a = mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int good = a != MAP_FAILED;

	for (long i = 0; good && i < len; i += PG)
		a[i] = (unsigned char)(i / PG);
	for (long i = 0; good && i < len; i += 1024)
		good = a[i] == (i % PG ? 0 : (unsigned char)(i / PG));
	ok(good, "8 MiB of anonymous memory touched in order reads back");
	/* A lone touch far into a fresh mapping. */
	if (a != MAP_FAILED) {
		munmap(a, len);
		a = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ok(a != MAP_FAILED && a[len / 2 + 7] == 0 && (a[len / 2] = 1) &&
			   a[len / 2 - PG] == 0 && a[len / 2 + PG] == 0,
		   "a lone touch in the middle: its neighbours read zero");
		if (a != MAP_FAILED)
			munmap(a, len);
	}
}

int main(void)
{
	struct stat st;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	ok_sys(fd, "open /proc/self/exe");
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < 3 * PG)
		return done_testing();
	size = st.st_size;
	whole = malloc((size_t)size);
	ok(whole && pread(fd, whole, (size_t)size, 0) == size, "read the file");
	if (!whole)
		return done_testing();
	test_private(fd);
	test_shared(fd);
	test_anon_sequential();
	close(fd);
	return done_testing();
}

/* brk, mmap, munmap, mprotect, mremap, madvise. Protections are checked only through
 * syscalls that copy user memory (EFAULT), never by touching pages: no signal delivery
 * in this milestone. mmap(2), mremap(2), madvise(2), mm/mmap.c, mm/mremap.c. */
#include "tap.h"

#include <stdint.h>
#include <sys/mman.h>

#define PG 4096L

static int probe_fd = -1;

static void *sys_mmap(void *a, size_t l, int prot, int fl, int fd, off_t off)
{
	return (void *)syscall(SYS_mmap, a, l, prot, fl, fd, off);
}
static int is_map_err(void *p) { return (unsigned long)p > -4096UL; }

/* readable: the kernel can copy from p (write(2) from it). */
static int readable(const void *p) { return syscall(SYS_pwrite64, probe_fd, p, 1, 0) == 1; }
/* writable: the kernel can copy into p (read(2) into it); preserves the byte. */
static int writable(void *p)
{
	if (syscall(SYS_pwrite64, probe_fd, p, 1, 0) != 1)
		return syscall(SYS_pread64, probe_fd, p, 1, 0) == 1; /* PROT_WRITE w/o read */
	return syscall(SYS_pread64, probe_fd, p, 1, 0) == 1;
}

static void test_brk(void)
{
	uintptr_t cur = (uintptr_t)syscall(SYS_brk, 0);
	ok(cur != 0, "brk(0) returns the current break");
	uintptr_t want = cur + 64 * 1024;
	is_long(syscall(SYS_brk, want), (long)want, "brk grows by 64 KiB");
	char *p = (char *)cur;
	ok(writable(p) && writable(p + 64 * 1024 - 1), "new heap is writable");
	int zero = 1;
	for (long i = 0; i < 64 * 1024; i += 512)
		zero &= p[i] == 0;
	ok(zero, "new heap is zero-filled");
	memset(p, 0xab, 64 * 1024);
	is_long(syscall(SYS_brk, cur + PG), (long)(cur + PG), "brk shrinks");
	ok(!readable(p + 8 * PG), "memory past the shrunk break is gone");
	is_long(syscall(SYS_brk, 4096), (long)(cur + PG), "brk below the start fails: returns old break");
	is_long(syscall(SYS_brk, 0xffff800000000000UL), (long)(cur + PG), "brk to kernel space fails");
	is_long(syscall(SYS_brk, want), (long)want, "brk grows again");
	ok(p[2 * PG] == 0, "regrown heap is zeroed again");
	syscall(SYS_brk, cur);
}

static void test_anon(void)
{
	char *p = sys_mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ok(!is_map_err(p) && ((uintptr_t)p % PG) == 0, "mmap anon 4 pages, page aligned");
	ok(writable(p) && writable(p + 4 * PG - 1), "anon mapping writable");
	ok(p[0] == 0 && p[4 * PG - 1] == 0, "anon mapping zero-filled");
	memset(p, 'a', 4 * PG);

	/* Partial munmap of the second page. */
	is_long(syscall(SYS_munmap, p + PG, PG), 0, "munmap middle page");
	ok(!readable(p + PG), "unmapped page is not readable (EFAULT)");
	ok(readable(p) && readable(p + 2 * PG) && p[2 * PG] == 'a', "neighbours intact");
	is_long(syscall(SYS_munmap, p + PG, PG), 0, "munmap of an unmapped range is 0");
	is_errno(syscall(SYS_munmap, p + 1, PG), EINVAL, "munmap unaligned -> EINVAL");
	is_errno(syscall(SYS_munmap, p, 0), EINVAL, "munmap len 0 -> EINVAL");
	is_errno(syscall(SYS_munmap, 0xffff800000000000UL, PG), EINVAL, "munmap kernel address -> EINVAL");

	/* MAP_FIXED replaces, MAP_FIXED_NOREPLACE refuses. */
	char *q = sys_mmap(p + PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ok(q == p + PG, "MAP_FIXED into the hole");
	ok(q[0] == 0, "fixed mapping is fresh");
	q = sys_mmap(p, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ok(q == p && p[0] == 0 && p[2 * PG] == 'a', "MAP_FIXED over existing page replaces it");
	q = sys_mmap(p, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	is_errno((long)q, EEXIST, "MAP_FIXED_NOREPLACE over a mapping -> EEXIST");
	syscall(SYS_munmap, p, 4 * PG);
	q = sys_mmap(p, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	ok(q == p, "MAP_FIXED_NOREPLACE into a free range");
	syscall(SYS_munmap, q, PG);

	/* A hint at a free address is honoured (mm/mmap.c get_unmapped_area). */
	q = sys_mmap(p + PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ok(q == p + PG, "free hint address is used");
	syscall(SYS_munmap, q, PG);
	q = sys_mmap((char *)p + 123, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ok(!is_map_err(q) && (uintptr_t)q % PG == 0, "unaligned hint still gives an aligned mapping");
	syscall(SYS_munmap, q, PG);

	is_errno((long)sys_mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL, "mmap len 0 -> EINVAL");
	is_errno(syscall(SYS_mmap, NULL, PG, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL,
		 "mmap without PRIVATE/SHARED -> EINVAL");
	is_errno(syscall(SYS_mmap, p + 1, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
		 EINVAL, "MAP_FIXED unaligned -> EINVAL");
	is_errno(syscall(SYS_mmap, NULL, -PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), ENOMEM,
		 "mmap huge length -> ENOMEM");
	is_errno(syscall(SYS_mmap, NULL, PG, PROT_READ, MAP_PRIVATE, -1, 0), EBADF,
		 "file mmap with fd -1 -> EBADF");

	/* MAP_SHARED|MAP_ANONYMOUS is plain memory too. */
	q = sys_mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ok(!is_map_err(q) && writable(q) && q[0] == 0, "MAP_SHARED|MAP_ANONYMOUS");
	syscall(SYS_munmap, q, PG);
}

static void test_mprotect(void)
{
	char *p = sys_mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(p, 'm', 3 * PG);
	is_long(syscall(SYS_mprotect, p, PG, PROT_READ), 0, "mprotect page 0 PROT_READ");
	ok(readable(p), "PROT_READ page: write() from it works");
	is_errno(syscall(SYS_pread64, probe_fd, p, 1, 0), EFAULT, "PROT_READ page: read() into it -> EFAULT");
	is_long(syscall(SYS_mprotect, p + PG, PG, PROT_NONE), 0, "mprotect page 1 PROT_NONE");
	is_errno(syscall(SYS_pwrite64, probe_fd, p + PG, 1, 0), EFAULT,
		 "PROT_NONE page: write() from it -> EFAULT");
	is_errno(syscall(SYS_pread64, probe_fd, p + PG, 1, 0), EFAULT,
		 "PROT_NONE page: read() into it -> EFAULT");
	ok(writable(p + 2 * PG), "page 2 still read-write");
	is_long(syscall(SYS_pwrite64, probe_fd, p + PG - 100, 200, 0), 100,
		"write() straddling READ|NONE boundary copies the readable part");
	is_long(syscall(SYS_mprotect, p, 3 * PG, PROT_READ | PROT_WRITE), 0, "mprotect all back to RW");
	ok(writable(p) && writable(p + PG) && p[PG] == 'm', "contents survive protection changes");
	is_errno(syscall(SYS_mprotect, p + 1, PG, PROT_READ), EINVAL, "mprotect unaligned -> EINVAL");
	is_errno(syscall(SYS_mprotect, p, PG, 0x100), EINVAL, "mprotect bad prot -> EINVAL");
	syscall(SYS_munmap, p + PG, PG);
	is_errno(syscall(SYS_mprotect, p, 3 * PG, PROT_READ), ENOMEM, "mprotect over a hole -> ENOMEM");
	is_long(syscall(SYS_mprotect, p, 0, PROT_READ), 0, "mprotect len 0 is 0");
	syscall(SYS_munmap, p, 3 * PG);
}

static void test_mremap(void)
{
	char *p = sys_mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(p, 'r', 2 * PG);
	char *q = (char *)syscall(SYS_mremap, p, 2 * PG, 8 * PG, MREMAP_MAYMOVE);
	ok(!is_map_err(q), "mremap grow MAYMOVE");
	ok(q[0] == 'r' && q[2 * PG - 1] == 'r', "grown mapping keeps the data");
	ok(writable(q + 8 * PG - 1) && q[8 * PG - 1] == 0, "grown tail is zero-filled and writable");
	q = (char *)syscall(SYS_mremap, q, 8 * PG, PG, 0);
	ok(!is_map_err(q), "mremap shrink in place");
	ok(!readable(q + PG), "shrunk tail is unmapped");

	/* Move to a fixed destination. */
	char *dst = sys_mmap(NULL, 4 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *m = (char *)syscall(SYS_mremap, q, PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst + PG);
	ok(m == dst + PG, "mremap MREMAP_FIXED to a chosen address");
	ok(m[0] == 'r' && readable(m + PG), "moved data present, grown part mapped");
	ok(!readable(q), "old address unmapped after the move");

	/* Cannot grow in place past a neighbour without MAYMOVE. */
	char *g = sys_mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	syscall(SYS_munmap, g + PG, PG);
	char *n = sys_mmap(g + PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	is_errno(syscall(SYS_mremap, g, PG, 2 * PG, 0), ENOMEM, "mremap grow blocked, no MAYMOVE -> ENOMEM");
	is_errno(syscall(SYS_mremap, g + 1, PG, 2 * PG, MREMAP_MAYMOVE), EINVAL, "mremap unaligned -> EINVAL");
	is_errno(syscall(SYS_mremap, g, PG, 2 * PG, 0x80), EINVAL, "mremap bad flags -> EINVAL");
	is_errno(syscall(SYS_mremap, g, PG, 2 * PG, MREMAP_FIXED, dst), EINVAL,
		 "MREMAP_FIXED without MAYMOVE -> EINVAL");
	is_errno(syscall(SYS_mremap, g, PG, 0, MREMAP_MAYMOVE), EINVAL, "mremap new_len 0 -> EINVAL");
	is_errno(syscall(SYS_mremap, dst + 3 * PG + PG * 1000, PG, 2 * PG, MREMAP_MAYMOVE), EFAULT,
		 "mremap of an unmapped address -> EFAULT");
	syscall(SYS_munmap, g, PG);
	syscall(SYS_munmap, n, PG);
	syscall(SYS_munmap, dst, 4 * PG);
}

static void test_madvise(void)
{
	char *p = sys_mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(p, 'd', 2 * PG);
	is_long(syscall(SYS_madvise, p, PG, MADV_DONTNEED), 0, "madvise DONTNEED");
	ok(p[0] == 0 && p[PG - 1] == 0, "DONTNEED anon private page reads back zero");
	ok(p[PG] == 'd', "page outside the range untouched");
	is_long(syscall(SYS_madvise, p, 2 * PG, MADV_NORMAL), 0, "madvise NORMAL");
	is_long(syscall(SYS_madvise, p, 2 * PG, MADV_WILLNEED), 0, "madvise WILLNEED");
	is_errno(syscall(SYS_madvise, p, PG, 12345), EINVAL, "madvise bad advice -> EINVAL");
	is_errno(syscall(SYS_madvise, p + 1, PG, MADV_NORMAL), EINVAL, "madvise unaligned -> EINVAL");
	syscall(SYS_munmap, p + PG, PG);
	is_errno(syscall(SYS_madvise, p, 2 * PG, MADV_NORMAL), ENOMEM, "madvise over a hole -> ENOMEM");
	syscall(SYS_munmap, p, PG);
}

static void test_file(void)
{
	char f[PATH_MAX];
	spath(f, sizeof(f), "map");
	char data[2 * PG];
	memset(data, 'F', PG);
	memset(data + PG, 'G', PG);
	write_file(f, data, 2 * PG - 10); /* last page partially filled */
	int fd = (int)syscall(SYS_openat, AT_FDCWD, f, O_RDWR);

	char *p = sys_mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ok(!is_map_err(p), "mmap file MAP_PRIVATE");
	ok(p[0] == 'F' && p[PG] == 'G', "file contents visible");
	ok(p[2 * PG - 11] == 'G' && p[2 * PG - 10] == 0, "bytes past EOF in the last page are zero");
	p[0] = 'x';
	char c = 0;
	syscall(SYS_pread64, fd, &c, 1, 0);
	ok(c == 'F', "MAP_PRIVATE writes do not reach the file");
	is_long(syscall(SYS_madvise, p, PG, MADV_DONTNEED), 0, "DONTNEED on private file page");
	ok(p[0] == 'F', "DONTNEED private file page reverts to file contents");
	syscall(SYS_munmap, p, 2 * PG);

	p = sys_mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, PG);
	ok(!is_map_err(p) && p[0] == 'G', "mmap with offset 4096");
	syscall(SYS_munmap, p, PG);
	is_errno(syscall(SYS_mmap, NULL, PG, PROT_READ, MAP_PRIVATE, fd, 100), EINVAL,
		 "unaligned file offset -> EINVAL");

	p = sys_mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ok(!is_map_err(p), "mmap file MAP_SHARED");
	p[1] = 'S';
	syscall(SYS_pread64, fd, &c, 1, 1);
	ok(c == 'S', "MAP_SHARED store visible to read()");
	syscall(SYS_pwrite64, fd, "W", 1, 2);
	ok(p[2] == 'W', "write() visible through MAP_SHARED mapping");
	syscall(SYS_munmap, p, PG);
	syscall(SYS_close, fd);

	fd = (int)syscall(SYS_openat, AT_FDCWD, f, O_RDONLY);
	is_errno(syscall(SYS_mmap, NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EACCES,
		 "MAP_SHARED|PROT_WRITE on O_RDONLY fd -> EACCES");
	p = sys_mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ok(!is_map_err(p) && writable(p), "MAP_PRIVATE|PROT_WRITE on O_RDONLY fd is fine");
	syscall(SYS_munmap, p, PG);
	p = sys_mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
	is_errno(syscall(SYS_mprotect, p, PG, PROT_READ | PROT_WRITE), EACCES,
		 "mprotect PROT_WRITE on read-only MAP_SHARED file mapping -> EACCES");
	syscall(SYS_munmap, p, PG);
	syscall(SYS_close, fd);

	fd = (int)syscall(SYS_openat, AT_FDCWD, f, O_WRONLY);
	is_errno(syscall(SYS_mmap, NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0), EACCES,
		 "mmap of an O_WRONLY fd -> EACCES");
	syscall(SYS_close, fd);
	fd = (int)syscall(SYS_openat, AT_FDCWD, "/tmp", O_RDONLY | O_DIRECTORY);
	is_errno(syscall(SYS_mmap, NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0), ENODEV,
		 "mmap of a directory -> ENODEV");
	syscall(SYS_close, fd);

	/* A read-only host file, mapped privately. */
	fd = (int)syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
	p = sys_mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);
	ok(!is_map_err(p) && !strncmp(p, "root:", 5), "mmap /etc/passwd starts with root:");
	syscall(SYS_munmap, p, PG);
	syscall(SYS_close, fd);

	fd = (int)syscall(SYS_openat, AT_FDCWD, "/dev/zero", O_RDWR);
	p = sys_mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ok(!is_map_err(p) && p[0] == 0 && writable(p), "MAP_PRIVATE of /dev/zero is anonymous memory");
	syscall(SYS_munmap, p, PG);
	syscall(SYS_close, fd);
}

int main(void)
{
	scratch_init("mm");
	char pf[PATH_MAX];
	probe_fd = (int)syscall(SYS_openat, AT_FDCWD, spath(pf, sizeof(pf), "probe"),
				O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (probe_fd < 0)
		bail_out("cannot create probe file in %s", scratch_dir);
	test_brk();
	test_anon();
	test_mprotect();
	test_mremap();
	test_madvise();
	test_file();
	syscall(SYS_close, probe_fd);
	scratch_cleanup();
	return done_testing();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for sentry/mm: memfile, VMAs, page table, demand paging and
 * the copy helpers, against a fake platform (fake_platform.h) and a fake
 * vfs (files are memory buffers). Link with the mm objects explicitly, not
 * the whole library, so the fake vfs functions here are the only ones.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cvisor/mm.h"
#include "cvisor/util.h"
#include "cvisor/vfs.h"
#include "fake_platform.h"

/* ---- fake vfs ---- */
#define FAKE_PAGES 16

static struct memfile *mf;

struct file {
	const uint8_t *data;
	size_t size;
	int refs;
	int fail;	/* vfs_pread returns -EIO */
	/* Mappable (like tmpfs): the data of a MAP_SHARED mapping is these
	 * frames (offset | 1, 0 = hole), not `data`. */
	bool mappable;
	uint64_t frames[FAKE_PAGES];
	int punched;	/* pages freed by vfs_file_punch */
	int datafd;	/* > 0: vfs_read_frames splices from this host fd
			 * (which holds the same bytes as data) */
	int frames_read;	/* vfs_read_frames calls that succeeded */
};

bool vfs_file_mappable(struct file *f)
{
	return f->mappable;
}

int vfs_file_get_page(struct file *f, uint64_t pgoff, unsigned int flags,
		      uint64_t *frame)
{
	int64_t off;

	if (!f->mappable)
		return -ENXIO;
	if (pgoff >= PAGE_ALIGN_UP(f->size) / PAGE_SIZE || pgoff >= FAKE_PAGES)
		return -EFAULT;
	if (!f->frames[pgoff]) {
		if (flags & VFS_PAGE_NOALLOC)
			return -ENOENT;
		off = memfile_alloc(mf);
		if (off < 0)
			return (int)off;
		f->frames[pgoff] = (uint64_t)off | 1;
	}
	*frame = f->frames[pgoff] & PAGE_MASK;
	memfile_frame_get(mf, *frame);
	return 0;
}

int vfs_file_punch(struct file *f, uint64_t off, uint64_t len)
{
	if (!f->mappable)
		return -ENXIO;
	for (uint64_t i = off / PAGE_SIZE; i < (off + len) / PAGE_SIZE &&
					   i < FAKE_PAGES; i++) {
		if (!f->frames[i])
			continue;
		memfile_frame_put(mf, f->frames[i] & PAGE_MASK);
		f->frames[i] = 0;
		f->punched++;
	}
	return 0;
}

/* /proc/PID/maps names files with it; nothing to name here. */
int vfs_file_d_path(struct file *f UNUSED, char *buf UNUSED,
		    size_t size UNUSED)
{
	return -ENOENT;
}

/* Like goferfs: straight from the host fd when there is one. */
ssize_t vfs_read_frames(struct file *f, struct memfile *m, uint64_t mfoff,
			size_t len, uint64_t off)
{
	ssize_t n;

	if (f->fail)
		return -EIO;
	if (f->datafd <= 0)
		return -EOPNOTSUPP;
	n = memfile_fill_fd(m, mfoff, len, f->datafd, off);
	if (n >= 0)
		f->frames_read++;
	return n;
}

/* The file's own byte (what read() would see), 0 in a hole. */
static uint8_t *fake_byte(struct file *f, uint64_t pos)
{
	static uint8_t zero;
	uint64_t fr = f->frames[pos / PAGE_SIZE];

	if (!fr) {
		zero = 0;
		return &zero;
	}
	return (uint8_t *)memfile_ptr(mf, fr & PAGE_MASK) + pos % PAGE_SIZE;
}

void vfs_file_get(struct file *f)
{
	f->refs++;
}

void vfs_file_put(struct file *f)
{
	if (--f->refs < 0)
		abort();
}

ssize_t vfs_pread(struct file *f, void *buf, size_t len, uint64_t off)
{
	if (f->fail)
		return -EIO;
	if (off >= f->size)
		return 0;
	len = MIN(len, f->size - off);
	/* Short reads on purpose: mm must loop. */
	len = MIN(len, 3000);
	memcpy(buf, f->data + off, len);
	return (ssize_t)len;
}

int vfs_fstat(struct file *f, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFREG | 0644;
	st->st_size = (off_t)f->size;
	st->st_ino = 42;
	return 0;
}

/* ---- helpers ---- */

#define P (PAGE_SIZE)
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static struct mm *new_mm(struct fake_as **as)
{
	struct mm *mm;

	if (mm_new(mf, &fake_platform, &mm))
		abort();
	*as = fake_last_as;
	return mm;
}

static int count_vmas(struct mm *mm)
{
	char buf[8192];
	int n = 0;

	mm_dump_maps(mm, buf, sizeof(buf));
	for (char *p = buf; *p; p++)
		n += *p == '\n';
	return n;
}

static int fill(struct mm *mm, uint64_t addr, size_t len, uint8_t v)
{
	uint8_t *b = malloc(len);
	int r;

	memset(b, v, len);
	r = mm_copy_out(mm, addr, b, len);
	free(b);
	return r;
}

/* All bytes of [addr, addr+len) equal v? */
static int check(struct mm *mm, uint64_t addr, size_t len, uint8_t v)
{
	uint8_t *b = malloc(len);
	int ok = mm_copy_in(mm, b, addr, len) == 0;

	for (size_t i = 0; ok && i < len; i++)
		ok = b[i] == v;
	free(b);
	return ok;
}

/* Every page the fake platform maps must be inside a VMA with the same
 * prot (parsed from mm_dump_maps); a copy-on-write page of a writable VMA
 * may be mapped without PROT_WRITE. */
static int platform_consistent(struct mm *mm, struct fake_as *as)
{
	static char buf[1 << 16];
	char *line;

	mm_dump_maps(mm, buf, sizeof(buf));
	for (size_t i = 0; i < as->npages; i++) {
		uint64_t va = as->pages[i].va;
		int found = 0;

		for (line = buf; *line; line = strchr(line, '\n') + 1) {
			unsigned long long s, e;
			char perm[5];
			int prot;

			if (sscanf(line, "%llx-%llx %4s", &s, &e, perm) != 3)
				return 0;
			if (va < s || va >= e)
				continue;
			prot = (perm[0] == 'r' ? PROT_READ : 0) |
			       (perm[1] == 'w' ? PROT_WRITE : 0) |
			       (perm[2] == 'x' ? PROT_EXEC : 0);
			found = prot == as->pages[i].prot ||
				((prot & PROT_WRITE) &&
				 as->pages[i].prot ==
					 ((prot & ~PROT_WRITE) | PROT_READ));
			break;
		}
		if (!found) {
			fprintf(stderr, "# stray platform page %#llx prot %d\n",
				(unsigned long long)va, as->pages[i].prot);
			return 0;
		}
	}
	return 1;
}

/* ---- tests ---- */

static void test_memfile(void)
{
	uint64_t used0 = memfile_used(mf);
	int64_t a = memfile_alloc(mf), b = memfile_alloc(mf);

	tap_ok(a >= 0 && b >= 0 && a != b && IS_PAGE_ALIGNED(a),
	       "memfile_alloc gives distinct aligned frames");
	tap_ok(memfile_used(mf) == used0 + 2 * P, "memfile_used counts frames");
	memset(memfile_ptr(mf, (uint64_t)a), 0xab, P);
	memfile_frame_get(mf, (uint64_t)a);
	tap_ok(memfile_frame_refs(mf, (uint64_t)a) == 2, "frame_get adds a ref");
	memfile_frame_put(mf, (uint64_t)a);
	memfile_frame_put(mf, (uint64_t)a);
	memfile_frame_put(mf, (uint64_t)b);
	tap_ok(memfile_used(mf) == used0 && memfile_frame_refs(mf, (uint64_t)a) == 0,
	       "last put frees the frame");
	{
		int64_t c = memfile_alloc(mf);
		const uint8_t *p = memfile_ptr(mf, (uint64_t)c);
		int zero = 1;

		for (size_t i = 0; i < P; i++)
			zero &= p[i] == 0;
		tap_ok(c == a && zero, "a reused frame comes back zeroed");
		memset(memfile_ptr(mf, (uint64_t)c), 0xcd, P);
		memfile_frame_put(mf, (uint64_t)c);
		memfile_trim(mf);
		c = memfile_alloc(mf);
		p = memfile_ptr(mf, (uint64_t)c);
		zero = 1;
		for (size_t i = 0; i < P; i++)
			zero &= p[i] == 0;
		tap_ok(zero, "a trimmed (hole-punched) frame reads as zero");
		memfile_frame_put(mf, (uint64_t)c);
	}
}

static void test_mmap_placement(void)
{
	struct fake_as *as;
	struct mm *mm = new_mm(&as);
	uint64_t base = mm_mmap_base(mm);
	int64_t a, b, c, d;

	a = mm_mmap(mm, 0, 3 * P, RW, ANON, NULL, 0);
	b = mm_mmap(mm, 0, P, RW, ANON, NULL, 0);
	tap_ok(a > 0 && (uint64_t)a + 3 * P <= base && IS_PAGE_ALIGNED(a),
	       "default placement below mmap_base (%#llx)", (long long)a);
	tap_ok(b > 0 && (uint64_t)b + P <= (uint64_t)a, "placement is top-down");
	tap_ok(as->nmap == 0, "mmap maps nothing in the platform");
	c = mm_mmap(mm, 0x200000000ULL, 2 * P, RW, ANON, NULL, 0);
	tap_ok(c == 0x200000000LL, "a free hint is honoured");
	d = mm_mmap(mm, 0x200000000ULL, P, RW, ANON, NULL, 0);
	tap_ok(d > 0 && d != 0x200000000LL, "a used hint is not");
	d = mm_mmap(mm, 0x300000123ULL, P, RW, ANON, NULL, 0);
	tap_ok(d == 0x300001000LL, "an unaligned hint is rounded up");

	/* MAP_FIXED replaces. */
	tap_ok(fill(mm, (uint64_t)c, 2 * P, 0x11) == 0, "fill");
	d = mm_mmap(mm, (uint64_t)c + P, P, PROT_READ, ANON | MAP_FIXED, NULL, 0);
	tap_ok(d == c + (int64_t)P && check(mm, (uint64_t)c, P, 0x11) &&
		       check(mm, (uint64_t)c + P, P, 0),
	       "MAP_FIXED replaces the old pages with zero ones");
	/* a, b and the relocated hint merged (adjacent anonymous RW). */
	tap_ok(count_vmas(mm) == 4, "MAP_FIXED split the old VMA (%d VMAs)",
	       count_vmas(mm));
	tap_ok(mm_mmap(mm, (uint64_t)c + 5, P, RW, ANON | MAP_FIXED, NULL, 0) ==
		       -EINVAL, "MAP_FIXED unaligned: EINVAL");
	tap_ok(mm_mmap(mm, (uint64_t)c, P, RW, ANON | MAP_FIXED_NOREPLACE, NULL,
		       0) == -EEXIST, "MAP_FIXED_NOREPLACE on a mapping: EEXIST");
	tap_ok(mm_mmap(mm, 0x400000000ULL, P, RW, ANON | MAP_FIXED_NOREPLACE,
		       NULL, 0) == 0x400000000LL,
	       "MAP_FIXED_NOREPLACE on free space works");
	tap_ok(mm_mmap(mm, 0, 0, RW, ANON, NULL, 0) == -EINVAL, "len 0: EINVAL");
	tap_ok(mm_mmap(mm, 0, P, RW, MAP_ANONYMOUS, NULL, 0) == -EINVAL,
	       "neither SHARED nor PRIVATE: EINVAL");
	tap_ok(mm_mmap(mm, 0, P, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, NULL,
		       0) == -EINVAL, "anonymous MAP_SHARED_VALIDATE: EINVAL");
	tap_ok(mm_mmap(mm, 0, -2ULL, RW, ANON, NULL, 0) == -ENOMEM,
	       "len overflowing on rounding: ENOMEM");
	tap_ok(mm_mmap(mm, 0, 1ULL << 50, RW, ANON, NULL, 0) == -ENOMEM,
	       "len larger than the address space: ENOMEM");
	tap_ok(mm_mmap(mm, FAKE_USER_MAX - P, 2 * P, RW, ANON | MAP_FIXED, NULL,
		       0) == -ENOMEM, "MAP_FIXED past user_max: ENOMEM");
	tap_ok(mm_mmap(mm, 0x1000, P, RW, ANON | MAP_FIXED, NULL, 0) == -EPERM,
	       "MAP_FIXED below mmap_min_addr: EPERM");
	tap_ok(mm_mmap(mm, 0, P, RW, ANON | MAP_HUGETLB, NULL, 0) == -ENOMEM,
	       "MAP_HUGETLB without huge pages: ENOMEM");
	d = mm_mmap(mm, 0, P, RW, ANON | MAP_32BIT, NULL, 0);
	tap_ok(d >= 0x40000000LL && d < 0x80000000LL, "MAP_32BIT is low");
	tap_ok(platform_consistent(mm, as), "platform consistent");
	mm_destroy(mm);
}

static void test_fault(void)
{
	struct memfile *saved = mf, *fresh;
	struct fake_as *as;
	struct mm *mm;

	/* A fresh memory file: frames come out in order. */
	if (memfile_new(1ULL << 26, &fresh))
		abort();
	mf = fresh;
	mm = new_mm(&as);
	mf = saved;
	int64_t a = mm_mmap(mm, 0x100000000ULL, 64 * P, RW, ANON | MAP_FIXED,
			    NULL, 0);
	int64_t ro = mm_mmap(mm, 0, 4 * P, PROT_READ, ANON, NULL, 0);
	int64_t none = mm_mmap(mm, 0, 4 * P, PROT_NONE, ANON, NULL, 0);
	uint64_t addr = (uint64_t)a + 20 * P + 123;

	tap_ok(mm_fault(mm, addr, PROT_WRITE) == 0, "write fault resolves");
	tap_ok(fake_find(as, PAGE_ALIGN_DOWN(addr)) &&
		       fake_find(as, PAGE_ALIGN_DOWN(addr))->prot == RW,
	       "the faulting page is mapped RW");
	tap_ok(fake_count(as, (uint64_t)a, (uint64_t)a + 64 * P) == 32 &&
		       fake_count(as, (uint64_t)a, (uint64_t)a + 32 * P) == 32,
	       "fault-around mapped the aligned 32-page block");
	tap_ok(as->nmap == 1, "with one as_map call (contiguous frames)");
	tap_ok(mm_fault(mm, (uint64_t)a + 63 * P, 0) == 0 &&
		       fake_count(as, (uint64_t)a + 48 * P, (uint64_t)a + 64 * P) == 16,
	       "unknown-access fault resolves");
	tap_ok(mm_fault(mm, (uint64_t)ro, PROT_WRITE) == -EFAULT,
	       "write fault on read-only: EFAULT");
	tap_ok(mm_fault(mm, (uint64_t)ro, PROT_READ) == 0, "read fault on read-only");
	tap_ok(mm_fault(mm, (uint64_t)ro, PROT_WRITE) == -EFAULT,
	       "write fault on a present read-only page: EFAULT");
	/* Unknown access on a page mapped as the VMA allows: retried once
	 * (another thread may have mapped it since), then SIGSEGV. */
	tap_ok(mm_fault(mm, (uint64_t)ro, 0) == 0 &&
		       mm_fault(mm, (uint64_t)ro, 0) == -EFAULT,
	       "unknown-access fault on a mapped page: one retry, then EFAULT "
	       "(no fault loop)");
	tap_ok(mm_fault(mm, (uint64_t)ro + P, PROT_READ) == 0 &&
		       mm_fault(mm, (uint64_t)ro, 0) == 0 &&
		       mm_fault(mm, (uint64_t)ro, 0) == -EFAULT,
	       "a mapping change since the last try allows another retry");
	{
		int n = 0;

		/* Another thread keeps changing a mapped page elsewhere. */
		do {
			mm_mprotect(mm, (uint64_t)a + 63 * P, P,
				    n & 1 ? RW : PROT_READ);
			n++;
		} while (n < 100 && mm_fault(mm, (uint64_t)ro, 0) == 0);
		mm_mprotect(mm, (uint64_t)a + 63 * P, P, RW);
		tap_ok(n > 1 && n < 100,
		       "retries end even while other mappings change (%d)", n);
	}
	tap_ok(mm_fault(mm, (uint64_t)none, PROT_READ) == -EFAULT &&
		       mm_fault(mm, (uint64_t)none, 0) == -EFAULT,
	       "fault on PROT_NONE: EFAULT");
	tap_ok(mm_fault(mm, 0, PROT_READ) == -EFAULT, "fault at NULL: EFAULT");
	tap_ok(mm_fault(mm, 0xffff800000000000ULL, PROT_READ) == -EFAULT,
	       "fault at a kernel address: EFAULT");
	tap_ok(mm_fault(mm, (uint64_t)a - P, PROT_READ) == -EFAULT ||
		       (uint64_t)a - P == (uint64_t)ro + 3 * P,
	       "fault on unmapped memory: EFAULT");
	/* Spurious: the platform lost a page; the fault must remap it. */
	fake_drop(as, PAGE_ALIGN_DOWN(addr));
	tap_ok(mm_fault(mm, addr, PROT_READ) == 0 &&
		       fake_find(as, PAGE_ALIGN_DOWN(addr)),
	       "a fault on a present page remaps it");
	as->fail_map = 1;
	tap_ok(mm_fault(mm, (uint64_t)a + 40 * P, PROT_READ) == -EFAULT,
	       "platform map failure: EFAULT, no crash");
	as->fail_map = 0;
	tap_ok(platform_consistent(mm, as), "platform consistent");
	mm_destroy(mm);
	tap_ok(memfile_used(fresh) == 0, "all frames released");
	memfile_destroy(fresh);
}

static void test_copies(void)
{
	struct fake_as *as;
	struct mm *mm = new_mm(&as);
	int64_t a = mm_mmap(mm, 0, 4 * P, RW, ANON, NULL, 0);
	int64_t ro = mm_mmap(mm, 0, P, PROT_READ, ANON, NULL, 0);
	int64_t wo = mm_mmap(mm, 0, P, PROT_WRITE, ANON, NULL, 0);
	int64_t none = mm_mmap(mm, 0, P, PROT_NONE, ANON, NULL, 0);
	char buf[3 * 4096], out[3 * 4096], s[64];
	struct iovec iov[4];
	unsigned long nmap;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7);
	nmap = as->nmap;
	tap_ok(mm_copy_out(mm, (uint64_t)a + 100, buf, sizeof(buf)) == 0 &&
		       mm_copy_in(mm, out, (uint64_t)a + 100, sizeof(out)) == 0 &&
		       !memcmp(buf, out, sizeof(buf)),
	       "copy out/in round trip across pages");
	tap_ok(as->nmap == nmap, "sentry copies do not drive the platform");
	tap_ok(mm_copy_in(mm, out, 0, 8) == -EFAULT, "copy_in from NULL: EFAULT");
	tap_ok(mm_copy_out(mm, 8, buf, 8) == -EFAULT, "copy_out to 8: EFAULT");
	tap_ok(mm_copy_in(mm, out, 0xffffffff81000000ULL, 8) == -EFAULT,
	       "copy_in from a kernel address: EFAULT");
	tap_ok(mm_copy_in(mm, out, FAKE_USER_MAX - 4, 8) == -EFAULT,
	       "copy_in straddling user_max: EFAULT");
	tap_ok(mm_copy_in(mm, out, (uint64_t)a, (size_t)-1) == -EFAULT,
	       "copy_in with an overflowing length: EFAULT");
	tap_ok(mm_copy_in(mm, out, UINT64_MAX - 3, 8) == -EFAULT,
	       "copy_in wrapping around: EFAULT");
	tap_ok(mm_copy_in(mm, out, (uint64_t)a + 4 * P - 4, 8) == -EFAULT ||
		       (uint64_t)a + 4 * P == (uint64_t)ro + 0,
	       "copy_in running off the end of a mapping: EFAULT");
	tap_ok(mm_copy_in(mm, out, (uint64_t)none, 1) == -EFAULT,
	       "copy_in from PROT_NONE: EFAULT");
	tap_ok(mm_copy_out(mm, (uint64_t)ro, buf, 1) == -EFAULT,
	       "copy_out to read-only: EFAULT");
	tap_ok(mm_copy_in(mm, out, (uint64_t)ro, 16) == 0,
	       "copy_in from read-only works");
	tap_ok(mm_copy_in(mm, out, (uint64_t)wo, 16) == 0,
	       "copy_in from write-only works (x86 has no write-only pages)");
	tap_ok(mm_zero(mm, (uint64_t)a + 50, 5000) == 0 &&
		       check(mm, (uint64_t)a + 50, 5000, 0),
	       "mm_zero");
	tap_ok(mm_zero(mm, (uint64_t)ro, 1) == -EFAULT, "mm_zero on read-only: EFAULT");

	/* strncpy_in */
	mm_copy_out(mm, (uint64_t)a, "hello", 6);
	tap_ok(mm_strncpy_in(mm, s, (uint64_t)a, sizeof(s)) == 5 &&
		       !strcmp(s, "hello"),
	       "strncpy_in");
	tap_ok(mm_strncpy_in(mm, s, (uint64_t)a, 5) == -ENAMETOOLONG,
	       "strncpy_in without NUL in max: ENAMETOOLONG");
	fill(mm, (uint64_t)a + 4 * P - 10, 10, 'x');
	tap_ok(mm_strncpy_in(mm, s, (uint64_t)a + 4 * P - 10, sizeof(s)) == -EFAULT ||
		       (uint64_t)a + 4 * P == (uint64_t)ro,
	       "strncpy_in running into unmapped memory: EFAULT");
	tap_ok(mm_strncpy_in(mm, s, 0, sizeof(s)) == -EFAULT, "strncpy_in NULL: EFAULT");

	/* iovecs: the first two pages are contiguous frames (fault order). */
	tap_ok(mm_iovecs(mm, (uint64_t)a + 10, 3 * P, true, iov, 4) >= 1 &&
		       (char *)iov[0].iov_base != NULL,
	       "mm_iovecs translates");
	{
		int n = mm_iovecs(mm, (uint64_t)a + 10, 3 * P, false, iov, 4);
		size_t tot = 0;

		for (int i = 0; i < n; i++)
			tot += iov[i].iov_len;
		tap_ok(n >= 1 && tot == 3 * P, "mm_iovecs covers the range (%d iovecs)", n);
	}
	tap_ok(mm_iovecs(mm, (uint64_t)ro, P, true, iov, 4) == -EFAULT,
	       "mm_iovecs for writing read-only memory: EFAULT");
	tap_ok(mm_iovecs(mm, 0, P, false, iov, 4) == -EFAULT, "mm_iovecs on NULL: EFAULT");
	mm_destroy(mm);
}

static void test_munmap_mprotect(void)
{
	struct fake_as *as;
	struct mm *mm = new_mm(&as);
	int64_t a = mm_mmap(mm, 0, 10 * P, RW, ANON, NULL, 0);
	uint64_t u = (uint64_t)a;

	fill(mm, u, 10 * P, 0x5a);
	mm_fault(mm, u, PROT_READ);
	mm_fault(mm, u + 9 * P, PROT_READ);
	tap_ok(fake_count(as, u, u + 10 * P) == 10, "all 10 pages mapped");
	tap_ok(mm_munmap(mm, u + 4 * P, 2 * P) == 0, "munmap the middle");
	tap_ok(count_vmas(mm) == 2, "munmap split the VMA in two");
	tap_ok(fake_count(as, u + 4 * P, u + 6 * P) == 0 &&
		       fake_count(as, u, u + 10 * P) == 8,
	       "the hole is unmapped from the platform");
	tap_ok(check(mm, u, 4 * P, 0x5a) && check(mm, u + 6 * P, 4 * P, 0x5a),
	       "the rest keeps its contents");
	tap_ok(mm_copy_in(mm, &a, u + 4 * P, 1) == -EFAULT, "the hole faults");
	tap_ok(mm_munmap(mm, u + 1, P) == -EINVAL, "munmap unaligned: EINVAL");
	tap_ok(mm_munmap(mm, u, 0) == -EINVAL, "munmap len 0: EINVAL");
	tap_ok(mm_munmap(mm, u + 4 * P, P) == 0, "munmap of a hole is fine");
	tap_ok(mm_munmap(mm, -4096ULL, 8192) == -EINVAL, "munmap overflow: EINVAL");

	tap_ok(mm_mprotect(mm, u + P, 2 * P, PROT_READ) == 0, "mprotect a part");
	tap_ok(count_vmas(mm) == 4, "mprotect split the VMA (%d)", count_vmas(mm));
	tap_ok(fake_find(as, u + P)->prot == PROT_READ &&
		       fake_find(as, u)->prot == RW &&
		       fake_find(as, u + 3 * P)->prot == RW,
	       "the platform got the new protection on that part only");
	tap_ok(mm_copy_out(mm, u + P, "x", 1) == -EFAULT &&
		       mm_copy_out(mm, u, "x", 1) == 0,
	       "copy_out honours the new protection");
	tap_ok(mm_mprotect(mm, u + P, 2 * P, RW) == 0 && count_vmas(mm) == 2,
	       "mprotect back merges the VMAs");
	tap_ok(mm_mprotect(mm, u, 10 * P, PROT_READ) == -ENOMEM,
	       "mprotect across a hole: ENOMEM");
	tap_ok(mm_mprotect(mm, u + 6 * P, P, PROT_NONE) == 0 &&
		       mm_copy_in(mm, &a, u + 6 * P, 1) == -EFAULT &&
		       mm_fault(mm, u + 6 * P, PROT_READ) == -EFAULT,
	       "PROT_NONE blocks copies and faults");
	tap_ok(mm_mprotect(mm, u + 1, P, PROT_READ) == -EINVAL,
	       "mprotect unaligned: EINVAL");
	tap_ok(mm_mprotect(mm, u, P, 0x40) == -EINVAL, "mprotect bad prot: EINVAL");
	tap_ok(mm_mprotect(mm, u, 0, PROT_READ) == 0, "mprotect len 0: 0");
	tap_ok(mm_mprotect(mm, -4096ULL, 8192, PROT_READ) == -ENOMEM,
	       "mprotect overflow: ENOMEM");
	tap_ok(platform_consistent(mm, as), "platform consistent");
	mm_destroy(mm);
}

static void test_mremap(void)
{
	struct fake_as *as;
	struct mm *mm = new_mm(&as);
	int64_t a = mm_mmap(mm, 0x100000000ULL, 4 * P, RW, ANON, NULL, 0);
	int64_t b, r;
	uint64_t u = (uint64_t)a;

	fill(mm, u, 4 * P, 0x77);
	mm_fault(mm, u, PROT_READ);
	r = mm_mremap(mm, u, 4 * P, 8 * P, 0, 0);
	tap_ok(r == a && check(mm, u, 4 * P, 0x77) && check(mm, u + 4 * P, 4 * P, 0),
	       "mremap grows in place");
	tap_ok(count_vmas(mm) == 1, "still one VMA");
	b = mm_mmap(mm, u + 8 * P, P, RW, ANON | MAP_FIXED, NULL, 0);
	tap_ok(b == (int64_t)(u + 8 * P), "block the space after it");
	tap_ok(mm_mremap(mm, u, 8 * P, 16 * P, 0, 0) == -ENOMEM,
	       "mremap without MAYMOVE can't grow: ENOMEM");
	r = mm_mremap(mm, u, 8 * P, 16 * P, MREMAP_MAYMOVE, 0);
	tap_ok(r > 0 && r != a && check(mm, (uint64_t)r, 4 * P, 0x77) &&
		       check(mm, (uint64_t)r + 4 * P, 12 * P, 0),
	       "mremap MAYMOVE moves with the contents");
	tap_ok(mm_copy_in(mm, &b, u, 1) == -EFAULT &&
		       fake_count(as, u, u + 8 * P) == 0,
	       "the old range is gone, also from the platform");
	u = (uint64_t)r;
	r = mm_mremap(mm, u, 16 * P, 2 * P, 0, 0);
	tap_ok(r == (int64_t)u && mm_copy_in(mm, &b, u + 2 * P, 1) == -EFAULT,
	       "mremap shrinks");
	r = mm_mremap(mm, u, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED,
		      0x500000000ULL);
	tap_ok(r == 0x500000000LL && check(mm, 0x500000000ULL, P, 0x77),
	       "mremap MREMAP_FIXED");
	tap_ok(mm_mremap(mm, 0x500000000ULL, P, P, MREMAP_FIXED, 0x600000000ULL) ==
		       -EINVAL, "MREMAP_FIXED without MAYMOVE: EINVAL");
	tap_ok(mm_mremap(mm, 0x500000000ULL, 2 * P, 3 * P,
			 MREMAP_MAYMOVE | MREMAP_FIXED, 0x500000000ULL + P) == -EINVAL,
	       "overlapping MREMAP_FIXED: EINVAL");
	tap_ok(mm_mremap(mm, 0x500000000ULL, P, P, 0x80, 0) == -EINVAL,
	       "mremap bad flags: EINVAL");
	tap_ok(mm_mremap(mm, 0x700000000ULL, P, 2 * P, MREMAP_MAYMOVE, 0) == -EFAULT,
	       "mremap of unmapped memory: EFAULT");
	mm_mmap(mm, 0x500000000ULL + 2 * P, P, PROT_READ, ANON | MAP_FIXED, NULL, 0);
	tap_ok(mm_mremap(mm, 0x500000000ULL, 3 * P, 4 * P, MREMAP_MAYMOVE, 0) ==
		       -EFAULT, "mremap across two VMAs: EFAULT");
	tap_ok(mm_mremap(mm, 0x500000000ULL, 0, P, MREMAP_MAYMOVE, 0) == -EINVAL,
	       "mremap old_len 0 of a private mapping: EINVAL");

	/* Shared anonymous memory: old_len 0 makes a second view. */
	a = mm_mmap(mm, 0, 2 * P, RW, MAP_SHARED | MAP_ANONYMOUS, NULL, 0);
	fill(mm, (uint64_t)a, 2 * P, 0x33);
	r = mm_mremap(mm, (uint64_t)a, 0, 2 * P, MREMAP_MAYMOVE, 0);
	tap_ok(r > 0 && r != a && check(mm, (uint64_t)r, 2 * P, 0x33),
	       "mremap old_len 0 duplicates a shared mapping");
	fill(mm, (uint64_t)r, 1, 0x44);
	tap_ok(check(mm, (uint64_t)a, 1, 0x44), "both views share the pages");
	tap_ok(mm_madvise(mm, (uint64_t)a, 2 * P, MADV_DONTNEED) == 0 &&
		       check(mm, (uint64_t)a, 1, 0x44),
	       "MADV_DONTNEED keeps shared data");
	r = mm_mremap(mm, (uint64_t)a, 2 * P, 4 * P, MREMAP_MAYMOVE, 0);
	tap_ok(r > 0 && check(mm, (uint64_t)r, 1, 0x44) &&
		       check(mm, (uint64_t)r + 2 * P, 2 * P, 0),
	       "growing a shared mapping");

	/* DONTUNMAP */
	a = mm_mmap(mm, 0, 2 * P, RW, ANON, NULL, 0);
	fill(mm, (uint64_t)a, 2 * P, 0x99);
	r = mm_mremap(mm, (uint64_t)a, 2 * P, 2 * P,
		      MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
	tap_ok(r > 0 && check(mm, (uint64_t)r, 2 * P, 0x99) &&
		       check(mm, (uint64_t)a, 2 * P, 0),
	       "MREMAP_DONTUNMAP moves pages and leaves an empty mapping");
	tap_ok(platform_consistent(mm, as), "platform consistent");
	mm_destroy(mm);
}

static void test_brk(void)
{
	struct fake_as *as;
	struct mm *mm = new_mm(&as);
	uint64_t start = 0x10000000, cur;

	mm_set_brk_start(mm, start - 100);
	tap_ok(mm_brk(mm, 0) == start, "brk(0) gives the page-aligned start");
	cur = mm_brk(mm, start + 3 * P + 10);
	tap_ok(cur == start + 3 * P + 10, "brk grows");
	tap_ok(fill(mm, start, 4 * P, 0x42) == 0, "the heap is writable");
	tap_ok(mm_copy_in(mm, &cur, start + 4 * P, 1) == -EFAULT,
	       "and ends at the page after the break");
	tap_ok(mm_brk(mm, start + P) == start + P &&
		       mm_copy_in(mm, &cur, start + P, 1) == -EFAULT,
	       "brk shrinks");
	tap_ok(mm_brk(mm, start + 2 * P) == start + 2 * P &&
		       check(mm, start + P, P, 0) && check(mm, start, P, 0x42),
	       "grown again: new pages are zero, old kept");
	tap_ok(mm_brk(mm, start - P) == start + 2 * P, "brk below start fails");
	mm_mmap(mm, start + 10 * P, P, RW, ANON | MAP_FIXED, NULL, 0);
	tap_ok(mm_brk(mm, start + 20 * P) == start + 2 * P,
	       "brk into a mapping fails and returns the old break");
	tap_ok(mm_brk(mm, -1ULL) == start + 2 * P, "absurd brk fails");
	tap_ok(count_vmas(mm) == 2, "heap is one VMA");
	mm_destroy(mm);
}

static void test_madvise(void)
{
	struct fake_as *as;
	struct mm *mm = new_mm(&as);
	int64_t a = mm_mmap(mm, 0, 4 * P, RW, ANON, NULL, 0);
	uint64_t u = (uint64_t)a;

	fill(mm, u, 4 * P, 0x66);
	mm_fault(mm, u, PROT_READ);
	tap_ok(mm_madvise(mm, u + P, 2 * P, MADV_DONTNEED) == 0, "MADV_DONTNEED");
	tap_ok(check(mm, u + P, 2 * P, 0) && check(mm, u, P, 0x66) &&
		       check(mm, u + 3 * P, P, 0x66),
	       "dropped pages read as zero, others kept");
	tap_ok(fake_count(as, u + P, u + 3 * P) == 0, "and are unmapped from the platform");
	tap_ok(mm_madvise(mm, u, P, 12345) == -EINVAL, "unknown advice: EINVAL");
	tap_ok(mm_madvise(mm, u + 1, P, MADV_NORMAL) == -EINVAL, "unaligned: EINVAL");
	tap_ok(mm_madvise(mm, u, 8 * P, MADV_WILLNEED) == -ENOMEM ||
		       mm_madvise(mm, u, 8 * P, MADV_WILLNEED) == 0,
	       "range past the mapping");
	tap_ok(mm_madvise(mm, 0x10000, P, MADV_NORMAL) == -ENOMEM,
	       "unmapped range: ENOMEM");
	tap_ok(mm_madvise(mm, u, 4 * P, MADV_HUGEPAGE) == 0 &&
		       mm_madvise(mm, u, 4 * P, MADV_SEQUENTIAL) == 0,
	       "hints are accepted");
	tap_ok(mm_madvise(mm, u, P, MADV_DONTFORK) == 0 && count_vmas(mm) == 2 &&
		       mm_madvise(mm, u, P, MADV_DOFORK) == 0 && count_vmas(mm) == 1,
	       "DONTFORK/DOFORK split and merge");
	tap_ok(mm_madvise(mm, u, 0, MADV_DONTNEED) == 0, "len 0: 0");
	mm_destroy(mm);
}

static void test_file(void)
{
	struct fake_as *as;
	struct mm *mm = new_mm(&as);
	static uint8_t data[5 * 4096 + 100];
	struct file f = { .data = data, .size = sizeof(data), .refs = 1 };
	uint8_t b[4096];
	int64_t a, s;
	int ok = 1;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i % 251);
	a = mm_mmap(mm, 0, 7 * P, PROT_READ, MAP_PRIVATE, &f, P);
	tap_ok(a > 0 && f.refs == 2, "private file mapping holds a file reference");
	for (int pg = 0; pg < 5 && ok; pg++) {
		ok = mm_copy_in(mm, b, (uint64_t)a + (uint64_t)pg * P, P) == 0;
		for (size_t i = 0; ok && i < P; i++) {
			uint64_t fo = P + (uint64_t)pg * P + i;
			uint8_t want = fo < sizeof(data) ? data[fo] : 0;

			ok = b[i] == want;
		}
	}
	tap_ok(ok, "contents come from the file at the offset, zero past EOF");
	tap_ok(mm_fault(mm, (uint64_t)a + 6 * P, PROT_READ) == 0,
	       "a page wholly past EOF reads as zero (no SIGBUS, simplified)");
	tap_ok(mm_mprotect(mm, (uint64_t)a, P, RW) == 0 &&
		       fill(mm, (uint64_t)a, 10, 0xee) == 0 && data[P] == (P % 251),
	       "writing a private mapping leaves the file alone");
	tap_ok(mm_madvise(mm, (uint64_t)a, P, MADV_DONTNEED) == 0 &&
		       mm_copy_in(mm, b, (uint64_t)a, 1) == 0 && b[0] == data[P],
	       "MADV_DONTNEED on a private file mapping brings the file back");
	tap_ok(mm_mmap(mm, 0, P, PROT_READ, MAP_PRIVATE, &f, 100) == -EINVAL,
	       "unaligned offset: EINVAL");
	tap_ok(mm_mmap(mm, 0, P, PROT_READ, MAP_SHARED_VALIDATE | 0x200000, &f,
		       0) == -EOPNOTSUPP, "MAP_SHARED_VALIDATE unknown flag: EOPNOTSUPP");
	tap_ok(mm_mmap(mm, 0, P, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, &f,
		       0) == -EOPNOTSUPP, "MAP_SYNC (no DAX): EOPNOTSUPP");
	tap_ok(mm_mmap(mm, 0, P, PROT_READ, MAP_PRIVATE | 0x200000, &f, 0) > 0,
	       "unknown flags are ignored without MAP_SHARED_VALIDATE");
	tap_ok(f.refs == 4, "file refs %d (two halves of the split private mapping, one more)", f.refs);
	tap_ok(mm_mmap(mm, 0, 2 * P, PROT_READ, MAP_PRIVATE, &f, -4096ULL) ==
		       -EOVERFLOW, "offset + len overflow: EOVERFLOW");
	s = mm_mmap_file(mm, 0, P, PROT_READ, MAP_SHARED, &f, 0, PROT_READ);
	tap_ok(s > 0 && check(mm, (uint64_t)s, 1, data[0]), "shared file mapping");
	tap_ok(mm_mprotect(mm, (uint64_t)s, P, RW) == -EACCES,
	       "mprotect beyond maxprot: EACCES");
	{
		int64_t e = mm_mmap(mm, 0, 2 * P, PROT_READ, MAP_PRIVATE, &f, 0);

		f.fail = 1;
		tap_ok(mm_fault(mm, (uint64_t)e, PROT_READ) == -EFAULT &&
			       mm_copy_in(mm, b, (uint64_t)e, 8) == -EFAULT,
		       "a file read error faults (SIGBUS in Linux)");
		f.fail = 0;
		tap_ok(mm_copy_in(mm, b, (uint64_t)e + P, 8) == 0 && b[0] == data[P],
		       "and the page is read again once the file works");
		mm_munmap(mm, (uint64_t)e, 2 * P);
	}
	mm_munmap(mm, (uint64_t)a, 7 * P);
	tap_ok(f.refs == 3, "munmap drops the private mapping's file references");
	mm_destroy(mm);
	tap_ok(f.refs == 1, "mm_destroy drops the rest");
}

/* File pages filled inside the host kernel (memfile_fill_fd, splice) read
 * the same as through the sentry's mapping, zero past EOF. */
static void test_file_splice(void)
{
	struct fake_as *as;
	struct mm *mm = new_mm(&as);
	static uint8_t data[5 * 4096 + 100];
	struct file f = { .data = data, .size = sizeof(data), .refs = 1 };
	uint8_t b[4096];
	int64_t a, s, fr;
	ssize_t n;
	int ok = 1, fd = memfd_create("test-data", MFD_CLOEXEC);

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 % 253);
	tap_ok(fd > 0 && write(fd, data, sizeof(data)) == (ssize_t)sizeof(data),
	       "splice source file");
	f.datafd = fd;
	fr = memfile_alloc(mf);
	n = memfile_fill_fd(mf, (uint64_t)fr, P, fd, 4 * P + 50);
	tap_ok(n == P && !memcmp(memfile_ptr(mf, (uint64_t)fr),
				 data + 4 * P + 50, P),
	       "memfile_fill_fd: one page at an unaligned file offset");
	memfile_frame_put(mf, (uint64_t)fr);
	fr = memfile_alloc(mf);
	n = memfile_fill_fd(mf, (uint64_t)fr, P, fd, 5 * P + 50);
	tap_ok(n == 50 && !memcmp(memfile_ptr(mf, (uint64_t)fr),
				  data + 5 * P + 50, 50) &&
		       !((uint8_t *)memfile_ptr(mf, (uint64_t)fr))[50] &&
		       !((uint8_t *)memfile_ptr(mf, (uint64_t)fr))[P - 1],
	       "memfile_fill_fd: short at EOF, the rest stays zero (%zd)", n);
	tap_ok(memfile_fill_fd(mf, (uint64_t)fr, P, -1, 0) == -EBADF,
	       "memfile_fill_fd of a bad fd: EBADF");
	tap_ok(memfile_fill_fd(mf, (1ULL << 30) - P, 2 * P, fd, 0) == -EINVAL,
	       "memfile_fill_fd past the memory file: EINVAL");
	memfile_frame_put(mf, (uint64_t)fr);

	a = mm_mmap(mm, 0, 7 * P, PROT_READ | PROT_EXEC, MAP_PRIVATE, &f, P);
	for (int pg = 0; pg < 6 && ok; pg++) {
		ok = mm_copy_in(mm, b, (uint64_t)a + (uint64_t)pg * P, P) == 0;
		for (size_t i = 0; ok && i < P; i++) {
			uint64_t fo = P + (uint64_t)pg * P + i;

			ok = b[i] == (fo < sizeof(data) ? data[fo] : 0);
		}
	}
	tap_ok(a > 0 && ok && f.frames_read > 0,
	       "private mapping filled by splice: file contents, zero past EOF");
	tap_ok(mm_mprotect(mm, (uint64_t)a, P, RW) == 0 &&
		       fill(mm, (uint64_t)a, 10, 0xee) == 0 &&
		       pread(fd, b, 1, P) == 1 && b[0] == data[P],
	       "a write to it stays private");
	s = mm_mmap_file(mm, 0, 2 * P, PROT_READ, MAP_SHARED, &f, 4 * P,
			 PROT_READ);
	tap_ok(s > 0 && mm_copy_in(mm, b, (uint64_t)s + P, P) == 0 &&
		       !memcmp(b, data + 5 * P, 100) && !b[100],
	       "shared mapping of a non-mappable file filled by splice");
	mm_destroy(mm);
	close(fd);
	tap_ok(f.refs == 1, "file references dropped");
}

/* MAP_SHARED of a mappable file maps the file's frames: every mapping and
 * the file itself see one copy of the data. */
static void test_shared_file(void)
{
	struct fake_as *as;
	struct mm *mm = new_mm(&as);
	static uint8_t data[3 * 4096 + 100];
	struct file f = { .data = data, .size = sizeof(data), .refs = 1,
			  .mappable = true };
	uint64_t fr0, res;
	int64_t a, b, c, pv;
	int err;
	char buf[512];

	a = mm_mmap(mm, 0, 6 * P, RW, MAP_SHARED, &f, 0);
	b = mm_mmap(mm, 0, 4 * P, PROT_READ, MAP_SHARED, &f, 0);
	tap_ok(a > 0 && b > 0 && f.refs == 3,
	       "shared mappings of a mappable file hold file references");
	tap_ok(mm_fault(mm, (uint64_t)a + 10, PROT_WRITE) == 0 && f.frames[0] &&
		       !f.frames[1] && !f.frames[2] && !f.frames[3],
	       "a fault allocates its page; fault-around leaves holes alone");
	fr0 = f.frames[0] & PAGE_MASK;
	tap_ok(fill(mm, (uint64_t)a + 5, 3, 0x5a) == 0 && *fake_byte(&f, 6) == 0x5a,
	       "a store through the mapping is in the file (read() sees it)");
	*fake_byte(&f, 100) = 0x77;
	tap_ok(check(mm, (uint64_t)a + 100, 1, 0x77) &&
		       check(mm, (uint64_t)b + 100, 1, 0x77) &&
		       check(mm, (uint64_t)b + 5, 3, 0x5a),
	       "the file's data (write()) shows in every mapping");
	tap_ok(memfile_frame_refs(mf, fr0) == 3,
	       "frame refs: the file's plus one per mapping PTE (%u)",
	       memfile_frame_refs(mf, fr0));
	tap_ok(fill(mm, (uint64_t)a + 2 * P, 1, 1) == 0 && f.frames[2],
	       "a copy into a hole allocates the file's page");
	res = mm_resident(mm);
	err = mm_fault(mm, (uint64_t)b + 3 * P, PROT_READ);
	res = mm_resident(mm) - res;
	/* Page 3 (a hole: allocated for the fault) and page 2; not the
	 * hole at page 1, page 0 was there already. */
	tap_ok(err == 0 && res == 2 * P && f.frames[3] && !f.frames[1],
	       "fault-around maps only the pages the file has (%llu)",
	       (unsigned long long)(res / P));
	tap_ok(mm_fault(mm, (uint64_t)a + 4 * P, PROT_READ) == -EFAULT &&
		       fill(mm, (uint64_t)a + 4 * P, 1, 1) == -EFAULT,
	       "past EOF: EFAULT (SIGBUS in Linux)");
	tap_ok(fill(mm, (uint64_t)b, 1, 1) == -EFAULT,
	       "a read-only shared mapping is not writable");
	pv = mm_mmap(mm, 0, P, RW, MAP_PRIVATE, &f, 0);
	tap_ok(pv > 0 && fill(mm, (uint64_t)pv, 16, 0xcc) == 0 &&
		       *fake_byte(&f, 6) == 0x5a,
	       "MAP_PRIVATE of a mappable file still copies");
	c = mm_mremap(mm, (uint64_t)a, 0, 2 * P, MREMAP_MAYMOVE, 0);
	tap_ok(c > 0 && check(mm, (uint64_t)c + 5, 3, 0x5a),
	       "mremap old_len 0 duplicates a shared file mapping");
	mm_dump_maps(mm, buf, sizeof(buf));
	tap_ok(strstr(buf, "rw-s") != NULL, "maps shows it shared");
	tap_ok(mm_madvise(mm, (uint64_t)b, P, MADV_REMOVE) == -EACCES,
	       "MADV_REMOVE needs a writable mapping");
	tap_ok(mm_madvise(mm, (uint64_t)a + 2 * P, P, MADV_REMOVE) == 0 &&
		       f.punched == 1 && !f.frames[2] &&
		       check(mm, (uint64_t)a + 2 * P, 1, 0),
	       "MADV_REMOVE punches the file");
	mm_munmap(mm, (uint64_t)b, 4 * P);
	tap_ok(memfile_frame_refs(mf, fr0) == 3 && f.refs == 4,
	       "munmap drops the mapping's frame and file references");
	mm_destroy(mm);
	tap_ok(memfile_frame_refs(mf, fr0) == 1 && f.refs == 1,
	       "mm_destroy leaves the file's own reference only");
	vfs_file_punch(&f, 0, FAKE_PAGES * P);
}

/* Random operations; afterwards the platform must mirror the VMAs. */
static void test_random(void)
{
	struct fake_as *as;
	struct mm *mm = new_mm(&as);
	uint64_t base = 0x100000000ULL;
	int bad = 0;

	srand(1);
	for (int i = 0; i < 3000; i++) {
		uint64_t addr = base + (uint64_t)(rand() % 256) * P;
		uint64_t len = (uint64_t)(rand() % 32 + 1) * P;
		int prot = rand() % 4 == 0 ? PROT_NONE : rand() % 2 ? RW : PROT_READ;
		uint8_t x;

		switch (rand() % 7) {
		case 0:
			mm_mmap(mm, addr, len, prot, ANON | MAP_FIXED, NULL, 0);
			break;
		case 1:
			mm_munmap(mm, addr, len);
			break;
		case 2:
			mm_mprotect(mm, addr, len, prot);
			break;
		case 3:
			mm_mremap(mm, addr, len, (uint64_t)(rand() % 32 + 1) * P,
				  MREMAP_MAYMOVE, 0);
			break;
		case 4:
			mm_madvise(mm, addr, len, MADV_DONTNEED);
			break;
		case 5:
			mm_fault(mm, addr + (uint64_t)(rand() % 4096), 0);
			break;
		default:
			mm_copy_in(mm, &x, addr, 1);
			break;
		}
		if (!platform_consistent(mm, as)) {
			bad = 1;
			break;
		}
	}
	tap_ok(!bad, "3000 random operations keep the platform consistent");
	mm_destroy(mm);
}

static void *alloc_thread(void *arg UNUSED)
{
	int64_t fr[64];

	for (int i = 0; i < 2000; i++) {
		for (int k = 0; k < 64; k++) {
			fr[k] = memfile_alloc(mf);
			if (fr[k] < 0)
				return (void *)1;
			*(uint64_t *)memfile_ptr(mf, (uint64_t)fr[k]) = (uint64_t)fr[k];
		}
		for (int k = 0; k < 64; k++) {
			if (*(uint64_t *)memfile_ptr(mf, (uint64_t)fr[k]) != (uint64_t)fr[k])
				return (void *)1;
			memfile_frame_put(mf, (uint64_t)fr[k]);
		}
	}
	return NULL;
}

static void test_memfile_threads(void)
{
	uint64_t used = memfile_used(mf);
	pthread_t th[4];
	void *r;
	int bad = 0;

	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, alloc_thread, NULL);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], &r);
		bad |= r != NULL;
	}
	tap_ok(!bad && memfile_used(mf) == used,
	       "4 threads allocating and freeing: no frame handed out twice");
}

static void test_fault_speed(void)
{
	struct fake_as *as;
	struct mm *mm = new_mm(&as);
	uint64_t len = 64ULL << 20, t0, t1;
	int64_t a = mm_mmap(mm, 0, len, RW, ANON, NULL, 0);
	int ok = a > 0;

	t0 = util_now_ns();
	/* a is 64 KiB aligned (mmap_base is 2 MiB aligned): a fault every
	 * 16 pages (those inside a bigger block just find it mapped). */
	for (uint64_t o = 0; ok && o < len; o += 16 * P)
		ok = mm_fault(mm, (uint64_t)a + o, PROT_WRITE) == 0;
	t1 = util_now_ns();
	tap_ok(ok && as->npages == len / P, "faulting 64 MiB in (%.1f ms, %lu as_map calls)",
	       (double)(t1 - t0) / 1e6, as->nmap);
	mm_destroy(mm);
}

/* Anonymous memory touched in ascending order gets growing fault-around
 * blocks (up to 256 pages); a lone fault maps 32. */
static void test_fault_around_anon(void)
{
	struct fake_as *as;
	struct mm *mm = new_mm(&as);
	uint64_t len = 4ULL << 20, faults = 0, n = 0;
	int64_t a = mm_mmap(mm, 0, len, RW, ANON, NULL, 0);
	int64_t b = mm_mmap(mm, 0, 1ULL << 20, RW, ANON, NULL, 0);
	int ok = a > 0 && b > 0;

	for (uint64_t o = 0; ok && o < len; o += P) {
		if (fake_find(as, (uint64_t)a + o))
			continue;
		ok = mm_fault(mm, (uint64_t)a + o, PROT_WRITE) == 0;
		faults++;
	}
	tap_ok(ok && faults <= len / (256 * P) + 4,
	       "sequential touch of 4 MiB: %llu faults",
	       (unsigned long long)faults);
	tap_ok(ok && mm_fault(mm, (uint64_t)b + (512 << 10) + 5 * P,
			      PROT_READ) == 0, "a lone fault");
	for (uint64_t o = 0; o < (1ULL << 20); o += P)
		n += fake_find(as, (uint64_t)b + o) != NULL;
	tap_ok(n == 32, "maps one 32-page block (%llu pages)",
	       (unsigned long long)n);
	mm_destroy(mm);
}

/* The frame the fake platform maps at va (or ~0). */
static uint64_t frame_at(struct fake_as *as, uint64_t va)
{
	struct fake_page *pg = fake_find(as, va);

	return pg ? pg->off : ~0ULL;
}

static void test_fork(void)
{
	static const uint8_t fdata[3 * P] = { [0] = 0x11, [P] = 0x22 };
	struct file f = { .data = fdata, .size = sizeof(fdata), .refs = 1 };
	struct fake_as *pas, *cas;
	struct mm *mm = new_mm(&pas), *child = NULL;
	uint64_t used = memfile_used(mf), fr, base = 0x200000000ULL;
	uint64_t a = base, s = base + 16 * P, d = base + 32 * P;
	uint64_t w = base + 48 * P, ro = base + 64 * P, fm = base + 80 * P;
	uint8_t byte;

	mm_mmap(mm, a, 8 * P, RW, ANON | MAP_FIXED, NULL, 0);
	mm_mmap(mm, s, 2 * P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
	mm_mmap(mm, d, 2 * P, RW, ANON | MAP_FIXED, NULL, 0);
	mm_mmap(mm, w, 2 * P, RW, ANON | MAP_FIXED, NULL, 0);
	mm_mmap(mm, ro, 2 * P, RW, ANON | MAP_FIXED, NULL, 0);
	mm_mmap(mm, fm, 3 * P, RW, MAP_PRIVATE | MAP_FIXED, &f, 0);
	tap_ok(mm_madvise(mm, d, 2 * P, MADV_DONTFORK) == 0 &&
		       mm_madvise(mm, w, 2 * P, MADV_WIPEONFORK) == 0,
	       "fork: DONTFORK/WIPEONFORK set");
	fill(mm, a, 8 * P, 0xaa);
	fill(mm, s, 2 * P, 0x55);
	fill(mm, d, 2 * P, 0xdd);
	fill(mm, w, 2 * P, 0x77);
	fill(mm, ro, 2 * P, 0x33);
	mm_mprotect(mm, ro, 2 * P, PROT_READ);
	mm_fault(mm, a, PROT_WRITE);
	mm_fault(mm, s, PROT_WRITE);
	mm_fault(mm, ro, PROT_READ);
	mm_fault(mm, fm, PROT_READ);
	fr = frame_at(pas, a);
	tap_ok(fr != ~0ULL && pas->pages[0].prot && fake_find(pas, a)->prot == RW,
	       "fork: parent page mapped RW before fork");

	tap_ok(mm_fork(mm, &child) == 0 && child, "mm_fork succeeds");
	if (!child)
		return;
	cas = fake_last_as;
	tap_ok(cas != pas && cas->npages == 0,
	       "child has its own, empty platform address space");
	tap_ok(fake_find(pas, a)->prot == PROT_READ &&
		       fake_find(pas, a + 15 * P) == NULL,
	       "parent's private pages are read-only in the platform now");
	tap_ok(fake_find(pas, s)->prot == RW,
	       "parent's shared pages stay writable");
	tap_ok(memfile_frame_refs(mf, fr) == 2, "private frame shared: refs 2");
	tap_ok(count_vmas(child) == count_vmas(mm) - 1,
	       "child has every VMA but the DONTFORK one");

	/* Both see the old data. */
	tap_ok(check(mm, a, 8 * P, 0xaa) && check(child, a, 8 * P, 0xaa),
	       "both sides see the old data");
	tap_ok(check(child, fm, 1, 0x11) && check(child, fm + P, 1, 0x22),
	       "private file mapping: child sees the file data");
	tap_ok(mm_copy_in(child, &byte, d, 1) == -EFAULT,
	       "DONTFORK range is a hole in the child");
	tap_ok(check(child, w, 2 * P, 0) && check(mm, w, 2 * P, 0x77),
	       "WIPEONFORK: child reads zeros, parent keeps its data");

	/* Child: an unknown-access fault maps the COW page read-only; the
	 * next unknown-access fault on it is a write and breaks COW. */
	tap_ok(mm_fault(child, a, 0) == 0 && fake_find(cas, a) &&
		       fake_find(cas, a)->prot == PROT_READ &&
		       frame_at(cas, a) == fr,
	       "child: first fault maps the shared frame read-only");
	tap_ok(mm_fault(child, a, 0) == 0 && fake_find(cas, a)->prot == RW &&
		       frame_at(cas, a) != fr,
	       "child: unknown-access fault on a mapped COW page copies it");
	tap_ok(memfile_frame_refs(mf, fr) == 1, "shared frame back to refs 1");
	tap_ok(mm_fault(mm, a, 0) == 0 && frame_at(pas, a) == fr &&
		       fake_find(pas, a)->prot == RW,
	       "parent: sole owner takes the frame over without a copy");
	fill(child, a, P, 0xbb);
	fill(mm, a + P, P, 0xcc);
	tap_ok(check(child, a, P, 0xbb) && check(mm, a, P, 0xaa),
	       "child's write is private");
	tap_ok(check(mm, a + P, P, 0xcc) && check(child, a + P, P, 0xaa),
	       "parent's write (sentry copy) is private");
	tap_ok(fake_find(pas, a + P)->prot == RW &&
		       frame_at(pas, a + P) != ~0ULL,
	       "a sentry write remaps the parent's copied page RW");
	tap_ok(mm_fault(child, a + 2 * P, PROT_WRITE) == 0 &&
		       fake_find(cas, a + 2 * P)->prot == RW,
	       "child: known write fault breaks COW directly");

	/* Shared mappings stay shared. */
	fill(child, s, 1, 0x66);
	tap_ok(check(mm, s, 1, 0x66), "MAP_SHARED anonymous stays shared");

	/* Read-only private: COW pages, but no write is allowed. */
	tap_ok(mm_fault(child, ro, 0) == 0 && mm_fault(child, ro, 0) == 0 &&
		       mm_fault(child, ro, 0) == -EFAULT,
	       "read-only COW page: unknown-access fault maps it, then a "
	       "retry, then SIGSEGV");
	tap_ok(mm_fault(child, ro, PROT_WRITE) == -EFAULT,
	       "read-only COW page: write fault is SIGSEGV");
	tap_ok(mm_mprotect(child, ro, 2 * P, RW) == 0 &&
		       fake_find(cas, ro)->prot == PROT_READ,
	       "mprotect RW keeps a COW page read-only in the platform");
	tap_ok(mm_fault(child, ro, 0) == 0 && fake_find(cas, ro)->prot == RW &&
		       check(child, ro, P, 0x33) && check(mm, ro, P, 0x33),
	       "after mprotect RW the write breaks COW with the data");

	/* Parent unmaps: the child keeps its pages. */
	mm_munmap(mm, a + 4 * P, 4 * P);
	tap_ok(check(child, a + 4 * P, 4 * P, 0xaa), "child keeps pages the parent unmapped");
	tap_ok(platform_consistent(mm, pas) && platform_consistent(child, cas),
	       "fork: platforms consistent");

	/* mm_get/mm_put */
	mm_get(child);
	mm_put(child);
	tap_ok(check(child, a, P, 0xbb), "mm_put of an extra reference keeps the mm");
	mm_put(child);
	tap_ok(check(mm, a, P, 0xaa) && check(mm, a + P, P, 0xcc),
	       "parent intact after the child is gone");
	mm_destroy(mm);
	tap_ok(memfile_used(mf) == used && f.refs == 1,
	       "fork: frames and file references back to baseline");
}

static void test_fork_chain(void)
{
	struct fake_as *as;
	struct mm *mm = new_mm(&as), *c1 = NULL, *c2 = NULL;
	uint64_t used = memfile_used(mf), a;
	int ok = 1;

	a = (uint64_t)mm_mmap(mm, 0, 32 * P, RW, ANON, NULL, 0);
	fill(mm, a, 32 * P, 1);
	ok = mm_fork(mm, &c1) == 0 && mm_fork(c1, &c2) == 0;
	fill(c1, a, 8 * P, 2);
	fill(c2, a + 8 * P, 8 * P, 3);
	ok = ok && check(mm, a, 32 * P, 1) && check(c1, a, 8 * P, 2) &&
	     check(c1, a + 8 * P, 24 * P, 1) && check(c2, a, 8 * P, 1) &&
	     check(c2, a + 8 * P, 8 * P, 3);
	tap_ok(ok, "fork of a fork: three private views");
	mm_destroy(c1);
	fill(mm, a, 32 * P, 4);
	tap_ok(check(c2, a, 8 * P, 1) && check(c2, a + 16 * P, 16 * P, 1),
	       "grandchild unaffected by the parent's later writes");
	mm_destroy(mm);
	mm_destroy(c2);
	tap_ok(memfile_used(mf) == used, "fork chain: frames back to baseline");
}

static void test_stack_grow(void)
{
	struct fake_as *as;
	struct mm *mm = new_mm(&as);
	uint64_t top = 0x7f0000000000ULL, st = top - 4 * P, below;
	char buf[8192];

	tap_ok(mm_mmap(mm, st, 4 * P, RW,
		       ANON | MAP_FIXED | MAP_GROWSDOWN, NULL, 0) == (int64_t)st,
	       "growsdown mapping");
	tap_ok(mm_fault(mm, st - P + 8, PROT_WRITE) == 0 && count_vmas(mm) == 1,
	       "fault just below grows the VMA");
	mm_dump_maps(mm, buf, sizeof(buf));
	tap_ok(strtoull(buf, NULL, 16) == st - P, "VMA starts one page lower");
	below = top - (8ULL << 20);
	tap_ok(mm_fault(mm, below, 0) == 0, "grows to 8 MiB total (RLIMIT_STACK)");
	tap_ok(mm_fault(mm, below - P, PROT_READ) == -EFAULT,
	       "not past RLIMIT_STACK");
	tap_ok(fill(mm, below + 64 * P, 16, 1) == 0,
	       "copy_out into the grown range works");
	mm_set_stack_rlimit(mm, (uint64_t)RLIM_INFINITY);
	tap_ok(fill(mm, below - 3 * P, 16, 1) == 0,
	       "a sentry copy below the stack grows it (RLIM_INFINITY)");
	/* Guard gap: a mapping 512 KiB below stops growth 1 MiB above it. */
	mm_mmap(mm, below - (2ULL << 20), P, RW, ANON | MAP_FIXED, NULL, 0);
	tap_ok(mm_fault(mm, below - (2ULL << 20) + P + (512ULL << 10), PROT_READ) ==
		       -EFAULT,
	       "stack_guard_gap keeps growth 1 MiB away from a mapping below");
	tap_ok(mm_fault(mm, below - (2ULL << 20) + P + (1ULL << 20), PROT_READ) == 0,
	       "growth up to the guard gap is fine");
	tap_ok(mm_mmap(mm, 0x100000000ULL, P, RW,
		       MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN, NULL, 0) == -EINVAL,
	       "shared anonymous growsdown: EINVAL");
	/* Placement keeps the guard gap below a growsdown VMA too. */
	{
		struct mm *m2 = new_mm(&as);
		uint64_t hi = mm_mmap_base(m2) - 16 * P;
		int64_t r;

		mm_mmap(m2, hi, 16 * P, RW, ANON | MAP_FIXED | MAP_GROWSDOWN,
			NULL, 0);
		r = mm_mmap(m2, 0, P, RW, ANON, NULL, 0);
		tap_ok(r > 0 && (uint64_t)r + P <= hi - (1ULL << 20),
		       "mmap places nothing within the guard gap");
		r = mm_mmap(m2, hi - P, P, RW, ANON, NULL, 0);
		tap_ok(r != (int64_t)(hi - P), "a hint inside the guard gap is not taken");
		mm_destroy(m2);
	}
	mm_destroy(mm);
}

static void test_msync_mincore(void)
{
	struct fake_as *as;
	struct mm *mm = new_mm(&as);
	uint64_t a = (uint64_t)mm_mmap(mm, 0, 4 * P, RW, ANON, NULL, 0);
	uint8_t vec[8];

	tap_ok(mm_msync(mm, a, 4 * P, MS_SYNC) == 0 &&
		       mm_msync(mm, a, 4 * P, MS_ASYNC | MS_INVALIDATE) == 0,
	       "msync of a mapping: 0");
	tap_ok(mm_msync(mm, a, P, MS_SYNC | MS_ASYNC) == -EINVAL,
	       "msync MS_SYNC|MS_ASYNC: EINVAL");
	tap_ok(mm_msync(mm, a, P, 8) == -EINVAL, "msync bad flag: EINVAL");
	tap_ok(mm_msync(mm, a + 1, P, MS_SYNC) == -EINVAL, "msync unaligned: EINVAL");
	tap_ok(mm_msync(mm, a, 0, MS_SYNC) == 0, "msync len 0: 0");
	tap_ok(mm_msync(mm, a + 4 * P, P, MS_SYNC) == -ENOMEM,
	       "msync unmapped: ENOMEM");
	tap_ok(mm_msync(mm, a, 5 * P, MS_SYNC) == -ENOMEM,
	       "msync partly unmapped: ENOMEM");
	fill(mm, a, 1, 1);
	fill(mm, a + 2 * P, 1, 1);
	memset(vec, 9, sizeof(vec));
	tap_ok(mm_mincore(mm, a, 4, vec) == 4 && vec[0] == 1 && vec[1] == 0 &&
		       vec[2] == 1 && vec[3] == 0 && vec[4] == 9,
	       "mincore: present pages 1, others 0");
	tap_ok(mm_mincore(mm, a, 6, vec) == 4, "mincore stops at a hole");
	tap_ok(mm_mincore(mm, a + 4 * P, 1, vec) == -ENOMEM,
	       "mincore unmapped: ENOMEM");
	mm_destroy(mm);
}

int main(void)
{
	uint64_t used;

	if (memfile_new(1ULL << 30, &mf)) {
		printf("Bail out! memfile_new\n");
		return 1;
	}
	test_memfile();
	used = memfile_used(mf);
	test_mmap_placement();
	test_fault();
	test_copies();
	test_munmap_mprotect();
	test_mremap();
	test_brk();
	test_madvise();
	test_file();
	test_file_splice();
	test_shared_file();
	test_random();
	test_memfile_threads();
	test_fault_speed();
	test_fault_around_anon();
	test_fork();
	test_fork_chain();
	test_stack_grow();
	test_msync_mincore();
	tap_ok(memfile_used(mf) == used, "every frame is released (%llu bytes left)",
	       (unsigned long long)(memfile_used(mf) - used));
	memfile_destroy(mf);
	return tap_done();
}

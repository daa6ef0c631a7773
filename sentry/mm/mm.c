// SPDX-License-Identifier: GPL-2.0
/*
 * Address spaces: VMAs, the sentry page table, demand paging, mmap(2) and
 * friends, and the copy helpers that are the sentry's EFAULT boundary.
 *
 * Locks, in order: mm->lock (every public function takes it, the static
 * helpers expect it held) -> mobj->lock (a shared memory object, possibly
 * used by several mms later) -> inode->lock (inside vfs/) -> the memfile
 * allocator lock. vfs_pread() and vfs_file_get_page() are called with
 * mm->lock held, as Linux reads a file page with mmap_lock held during a
 * fault; vfs/ never calls back into mm, and read()/write() on a file copy
 * to sentry iovecs resolved by mm_iovecs() after mm->lock was dropped.
 *
 * Mappings of files:
 *  - MAP_SHARED of a mappable file (tmpfs: vfs_file_mappable) maps the
 *    file's own frames (vfs_file_get_page), so all mappings and
 *    read()/write() share one copy of the data, as with Linux's page cache.
 *    A page wholly past EOF faults with -EFAULT (SIGSEGV; Linux: SIGBUS).
 *  - MAP_SHARED of other files (gofer) uses a mobj filled from the file;
 *  - MAP_PRIVATE of any file copies the page on fault (fill_frames:
 *    vfs_read_frames, a copy inside the host kernel from the file's host
 *    fd, else vfs_pread); this is where copy-on-write of file pages will
 *    go.
 *
 * References:
 *  - each present PTE holds one reference on its frame (for a mappable file
 *    the one vfs_file_get_page() took; the file's page index holds its own);
 *  - a VMA holds a reference on its file (vfs_file_get) and on its mobj;
 *  - a mobj holds one reference on each of its frames and on its file.
 *
 * Platform: the platform address space only ever maps pages whose PTE has
 * PTE_MAPPED, with the PROT_* stored in the PTE. mm_fault() maps pages; the
 * copy helpers populate the sentry page table only, so the workload's first
 * access to such a page costs one fault that just maps it. The exception is
 * a sentry write into a copy-on-write page the platform maps: the old frame
 * must leave the platform at once, so cow_break() remaps it (as_map or
 * as_protect) from whichever task thread copies; this relies on platform
 * address-space operations being callable from any host thread.
 *
 * Copy-on-write (fork, mm_fork): both address spaces' PTEs of a private page
 * point at one frame with PTE_COW set and a frame reference each; the
 * platform maps such a page without PROT_WRITE (map_prot), also after
 * mprotect. A write fault, a fault with unknown access on a page mapped
 * read-only for COW (ptrace cannot tell a write), or a sentry write copies
 * the frame, or takes it over when its reference count shows no other
 * owner (cow_break, Linux's do_wp_page/wp_can_reuse_anon). Shared mappings
 * never carry PTE_COW.
 *
 * Lifetime: an mm is reference counted (mm_get/mm_put) for tasks sharing it
 * (CLONE_VM threads, vfork); the last put frees it.
 *
 * Stacks: growsdown VMAs are extended on a fault (or sentry copy) below
 * them, within RLIMIT_STACK (mm->stack_rlimit) and stack_guard_gap
 * (vma_find_expand, Linux's expand_downwards).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cvisor/log.h"
#include "cvisor/mm.h"
#include "cvisor/util.h"
#include "cvisor/vfs.h"
#include "mm_impl.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_UNINITIALIZED
#define MAP_UNINITIALIZED 0x4000000
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#define MAP_HUGE_2MB_ (21 << MAP_HUGE_SHIFT)
#define MAP_HUGE_1GB_ (30 << MAP_HUGE_SHIFT)

/* Flags Linux accepts with MAP_SHARED_VALIDATE (include/linux/mman.h,
 * LEGACY_MAP_MASK), plus MAP_FIXED_NOREPLACE which we understand. */
#define MAP_VALID_MASK                                                         \
	(MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE | \
	 MAP_EXECUTABLE | MAP_UNINITIALIZED | MAP_GROWSDOWN | MAP_LOCKED |     \
	 MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK |             \
	 MAP_HUGETLB | MAP_32BIT | MAP_HUGE_2MB_ | MAP_HUGE_1GB_ |             \
	 MAP_FIXED_NOREPLACE)

/* Linux's default vm.mmap_min_addr: nothing is mapped below it. */
#define MM_MIN_ADDR 0x10000ULL
/* vm.max_map_count default. */
#define MM_MAX_VMAS 65530
/* Gap between the stack top and the mmap base: Linux's minimum MIN_GAP
 * (arch/x86/mm/mmap.c) keeps room for the stack to grow. */
#define MM_STACK_GAP (128ULL << 20)
/* Pages populated and mapped per fault (aligned block around the address). */
#define FAULT_AROUND_PAGES 32
/* Anonymous private memory touched in order (heap, arenas, a big memset)
 * doubles its block per sequential fault up to this (fault_in). */
#define FAULT_AROUND_ANON_MAX 256
#define FAULT_AROUND_FILE 128	/* private file mappings (fault_in) */
#define FAULT_AROUND_TEXT 256	/* ... that are executable (code) */
/* stack_guard_gap (mm/mmap.c): 256 pages kept free below a growsdown VMA. */
#define STACK_GUARD_GAP (256ULL << PAGE_SHIFT)
/* Default RLIMIT_STACK (_STK_LIM). */
#define MM_STACK_RLIMIT (8ULL << 20)
/* MAP_32BIT window on x86-64 (arch/x86/kernel/sys_x86_64.c). */
#define MAP32_BEGIN 0x40000000ULL
#define MAP32_END 0x80000000ULL

/* VMA flags of our own, beside MAP_SHARED/MAP_PRIVATE/MAP_GROWSDOWN. */
#define VMA_DONTFORK (1 << 28)
#define VMA_WIPEONFORK (1 << 29)
/* A region the platform reserved (mm_text_reserve: the syscall-patching
 * trampoline table). The workload cannot unmap, remap, mprotect, madvise
 * or map over it; it is inherited by fork like a private mapping. */
#define VMA_RESERVED (1 << 30)
#define VMA_KEEP_FLAGS (MAP_SHARED | MAP_PRIVATE | MAP_GROWSDOWN | \
			VMA_DONTFORK | VMA_WIPEONFORK | VMA_RESERVED)

/*
 * A shared memory object: the pages of a MAP_SHARED mapping (anonymous, or a
 * file's contents as loaded into the sandbox). Kept apart from the VMA so that
 * fork() and mremap() can share it between mappings and address spaces.
 *
 * Only for files that are not mappable (gofer files; tmpfs files map their
 * own frames, see vma_file_shared). Gap: for those the object is per mmap()
 * call, not per inode. Pages are read from the file on first touch; writes
 * are not written back (no msync) and two separate mmap() calls of one file
 * do not see each other's writes. That needs a page cache for gofer files.
 */
struct mobj {
	pthread_mutex_t lock;
	int refs;		/* atomic */
	uint64_t npages;
	uint64_t *frames;	/* frame offset | 1, or 0 when not populated */
	struct file *file;	/* contents come from here (NULL: zero) */
	uint64_t file_off;	/* file offset of page 0 */
	bool shm;		/* System V segment (mm_shm_*): fixed size */
};

struct vma {
	uint64_t start, end;
	int prot;		/* PROT_READ|WRITE|EXEC */
	int maxprot;		/* what mprotect may grant (VM_MAY*) */
	int flags;		/* VMA_KEEP_FLAGS subset */
	struct file *file;	/* private, or shared mappable, file mapping:
				 * referenced */
	uint64_t off;		/* file offset of start */
	struct mobj *obj;	/* shared mapping: referenced */
	uint64_t pgoff;		/* obj page index of start */
	/* Anonymous private: where the last fault-around block ended and
	 * its size in pages (0: FAULT_AROUND_PAGES), see fault_in. */
	uint64_t fa_next;
	unsigned int fa_pages;
};

struct mm {
	pthread_mutex_t lock;
	struct memfile *mf;
	struct platform *p;
	struct platform_as *as;
	struct vma **vmas;	/* sorted by start, non-overlapping */
	size_t nvmas, cap;
	struct pt pt;
	uint64_t user_max, stack_top, mmap_base;
	uint64_t brk_start, brk;
	uint64_t start_stack;
	uint64_t stack_rlimit;	/* RLIMIT_STACK for growsdown VMAs */
	int refs;		/* atomic: tasks sharing this mm */
	struct file *exe_file;	/* referenced; mm_set_exec */
	struct mm_args args;
	uint64_t map_seq;	/* platform mapping changes made (mm_fault) */
};

/* ---- small helpers ---- */

/* What the hardware grants for prot on x86: write and exec imply read. */
static int eff_prot(int prot)
{
	prot &= PROT_READ | PROT_WRITE | PROT_EXEC;
	if (prot & (PROT_WRITE | PROT_EXEC))
		prot |= PROT_READ;
	return prot;
}

/* The protection a page of v is mapped with in the platform: a
 * copy-on-write page is never writable there, so the first write faults. */
static int map_prot(const struct vma *v, uint64_t pte)
{
	if ((pte & PTE_COW) && (v->prot & PROT_WRITE))
		return (v->prot & ~PROT_WRITE) | PROT_READ;
	return v->prot;
}

static const struct platform_ops *pops(struct mm *mm)
{
	return mm->p->ops;
}

/* A MAP_SHARED mapping of a mappable file: its pages are the file's. */
static bool vma_file_shared(const struct vma *v)
{
	return v->file && (v->flags & MAP_SHARED);
}

static void mobj_put(struct memfile *mf, struct mobj *o)
{
	if (!o || __atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL))
		return;
	for (uint64_t i = 0; i < o->npages; i++)
		if (o->frames[i])
			memfile_frame_put(mf, o->frames[i] & PAGE_MASK);
	if (o->file)
		vfs_file_put(o->file);
	pthread_mutex_destroy(&o->lock);
	free(o->frames);
	free(o);
}

static struct mobj *mobj_new(uint64_t npages, struct file *file,
			     uint64_t file_off)
{
	struct mobj *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->frames = calloc(npages ? npages : 1, sizeof(uint64_t));
	if (!o->frames) {
		free(o);
		return NULL;
	}
	pthread_mutex_init(&o->lock, NULL);
	o->refs = 1;
	o->npages = npages;
	if (file) {
		vfs_file_get(file);
		o->file = file;
		o->file_off = file_off;
	}
	return o;
}

/* Grow a shared object to npages (mremap of a shared mapping). Linux keeps
 * the shmem size and raises SIGBUS past it; growing is kinder and simple. */
static int mobj_grow(struct mobj *o, uint64_t npages)
{
	uint64_t *f;
	int err = 0;

	pthread_mutex_lock(&o->lock);
	/* A shm segment keeps its size (pages past it fault, SIGBUS in
	 * Linux), and its size is what shmget accounted. */
	if (npages > o->npages && !o->shm) {
		f = realloc(o->frames, npages * sizeof(uint64_t));
		if (!f) {
			err = -ENOMEM;
		} else {
			memset(f + o->npages, 0,
			       (npages - o->npages) * sizeof(uint64_t));
			o->frames = f;
			o->npages = npages;
		}
	}
	pthread_mutex_unlock(&o->lock);
	return err;
}

/* Read file contents at off into sentry memory; the rest stays zero (the
 * frames are fresh). Past EOF there is nothing to read: Linux would raise
 * SIGBUS for whole pages beyond EOF, we give zeroes (simplification). */
static int fill_from_file(struct file *f, void *dst, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = vfs_pread(f, (char *)dst + done, len - done,
				      off + done);

		if (r < 0) {
			if (r == -EINTR)
				continue;
			return (int)r;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return 0;
}

__thread uint64_t mm_file_fills;

/* Fill fresh (zeroed) frames [off, off+len) from f at file offset foff:
 * inside the host kernel when the file's data is a host fd
 * (vfs_read_frames: the sentry never maps these pages in), else through
 * the sentry's mapping. 0 or -errno. */
static int fill_frames(struct mm *mm, struct file *f, uint64_t off,
		       uint64_t len, uint64_t foff)
{
	mm_file_fills++;	/* a major fault, if a fault (procinfo.c) */
	if (vfs_read_frames(f, mm->mf, off, len, foff) >= 0)
		return 0;
	/* Not possible for this file (or the splice failed part way): read
	 * the whole range through the sentry's mapping. Fresh frames are
	 * holes in the memory file: make the run present with one call
	 * rather than one host page fault per page inside the read. */
	if (len > PAGE_SIZE)
		(void)madvise(memfile_ptr(mm->mf, off), len,
			      23 /* MADV_POPULATE_WRITE, Linux 5.14 */);
	return fill_from_file(f, memfile_ptr(mm->mf, off), len, foff);
}

/* ---- VMA array ---- */

/* Index of the first VMA with end > addr (nvmas if none). */
static size_t vma_lower(struct mm *mm, uint64_t addr)
{
	size_t lo = 0, hi = mm->nvmas;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (mm->vmas[mid]->end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct vma *vma_find(struct mm *mm, uint64_t addr)
{
	size_t i = vma_lower(mm, addr);

	if (i < mm->nvmas && mm->vmas[i]->start <= addr)
		return mm->vmas[i];
	return NULL;
}

/* Where a VMA's guard gap starts (vm_start_gap): nothing is placed within
 * stack_guard_gap below a growsdown VMA. */
static uint64_t vma_start_gap(const struct vma *v)
{
	if (!(v->flags & MAP_GROWSDOWN))
		return v->start;
	return v->start > STACK_GUARD_GAP ? v->start - STACK_GUARD_GAP : 0;
}

/*
 * The VMA holding addr, or the growsdown VMA just above it, extended down
 * to addr's page (find_extend_vma/expand_downwards): the stack grows on a
 * fault (or a sentry copy) below it, up to RLIMIT_STACK in total size
 * (acct_stack_growth), and never to within stack_guard_gap of an accessible
 * mapping below that is not itself a stack. The extended VMA is not merged
 * with anything, so it stays valid for the caller.
 */
static struct vma *vma_find_expand(struct mm *mm, uint64_t addr)
{
	size_t i = vma_lower(mm, addr);
	struct vma *v, *prev;
	uint64_t start, delta;

	if (i >= mm->nvmas)
		return NULL;
	v = mm->vmas[i];
	if (v->start <= addr)
		return v;
	if (!(v->flags & MAP_GROWSDOWN) || v->obj)
		return NULL;
	start = PAGE_ALIGN_DOWN(addr);
	if (start < MM_MIN_ADDR)
		return NULL;
	if (mm->stack_rlimit != (uint64_t)RLIM_INFINITY &&
	    v->end - start > mm->stack_rlimit)
		return NULL;
	prev = i ? mm->vmas[i - 1] : NULL;
	if (prev && !(prev->flags & MAP_GROWSDOWN) && prev->prot &&
	    start - prev->end < STACK_GUARD_GAP)
		return NULL;
	delta = v->start - start;
	if (v->file) {
		if (v->off < delta)
			return NULL;
		v->off -= delta;
	}
	v->start = start;
	return v;
}

/* Is any of [start, end) mapped? */
static bool range_used(struct mm *mm, uint64_t start, uint64_t end)
{
	size_t i = vma_lower(mm, start);

	return i < mm->nvmas && mm->vmas[i]->start < end;
}

/* Does [start, end) touch a platform-reserved VMA? */
static bool range_reserved(struct mm *mm, uint64_t start, uint64_t end)
{
	for (size_t i = vma_lower(mm, start);
	     i < mm->nvmas && mm->vmas[i]->start < end; i++)
		if (mm->vmas[i]->flags & VMA_RESERVED)
			return true;
	return false;
}

static int vma_array_reserve(struct mm *mm, size_t extra)
{
	struct vma **n;
	size_t cap;

	if (mm->nvmas + extra > MM_MAX_VMAS)
		return -ENOMEM;
	if (mm->nvmas + extra <= mm->cap)
		return 0;
	cap = MAX(mm->cap * 2, mm->nvmas + extra + 16);
	n = realloc(mm->vmas, cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	mm->vmas = n;
	mm->cap = cap;
	return 0;
}

/* Insert at sorted position; the caller reserved room. */
static void vma_insert(struct mm *mm, struct vma *v)
{
	size_t i = vma_lower(mm, v->start);

	memmove(&mm->vmas[i + 1], &mm->vmas[i],
		(mm->nvmas - i) * sizeof(*mm->vmas));
	mm->vmas[i] = v;
	mm->nvmas++;
}

static void vma_free(struct mm *mm, struct vma *v)
{
	if (v->file)
		vfs_file_put(v->file);
	mobj_put(mm->mf, v->obj);
	free(v);
}

static void vma_remove_at(struct mm *mm, size_t i)
{
	struct vma *v = mm->vmas[i];

	memmove(&mm->vmas[i], &mm->vmas[i + 1],
		(mm->nvmas - i - 1) * sizeof(*mm->vmas));
	mm->nvmas--;
	vma_free(mm, v);
}

static struct vma *vma_clone(const struct vma *v)
{
	struct vma *n = malloc(sizeof(*n));

	if (!n)
		return NULL;
	*n = *v;
	if (n->file)
		vfs_file_get(n->file);
	if (n->obj)
		__atomic_add_fetch(&n->obj->refs, 1, __ATOMIC_RELAXED);
	return n;
}

/* Split the VMA at index i at addr (strictly inside it): [start, addr) stays
 * at i, [addr, end) is inserted at i + 1. */
static int vma_split(struct mm *mm, size_t i, uint64_t addr)
{
	struct vma *v = mm->vmas[i], *n;
	int err = vma_array_reserve(mm, 1);

	if (err)
		return err;
	n = vma_clone(v);
	if (!n)
		return -ENOMEM;
	n->start = addr;
	if (n->file)
		n->off += addr - v->start;
	if (n->obj)
		n->pgoff += (addr - v->start) >> PAGE_SHIFT;
	v->end = addr;
	memmove(&mm->vmas[i + 2], &mm->vmas[i + 1],
		(mm->nvmas - i - 1) * sizeof(*mm->vmas));
	mm->vmas[i + 1] = n;
	mm->nvmas++;
	return 0;
}

/* Split VMAs so that start and end fall on VMA boundaries. */
static int vma_isolate(struct mm *mm, uint64_t start, uint64_t end)
{
	size_t i = vma_lower(mm, start);
	int err;

	if (i < mm->nvmas && mm->vmas[i]->start < start) {
		err = vma_split(mm, i, start);
		if (err)
			return err;
	}
	i = vma_lower(mm, end);
	if (i < mm->nvmas && mm->vmas[i]->start < end)
		return vma_split(mm, i, end);
	return 0;
}

static bool vma_mergeable(const struct vma *a, const struct vma *b)
{
	if (a->end != b->start || a->prot != b->prot ||
	    a->maxprot != b->maxprot || a->flags != b->flags ||
	    a->file != b->file || a->obj != b->obj)
		return false;
	if (a->file && a->off + (a->end - a->start) != b->off)
		return false;
	if (a->obj && a->pgoff + ((a->end - a->start) >> PAGE_SHIFT) != b->pgoff)
		return false;
	return true;
}

/* Merge compatible neighbours of [start, end), as Linux's vma_merge keeps
 * the VMA count low (brk growth, mprotect back and forth). */
static void vma_merge_range(struct mm *mm, uint64_t start, uint64_t end)
{
	size_t i = vma_lower(mm, start);

	if (i > 0)
		i--;
	while (i + 1 < mm->nvmas && mm->vmas[i]->start <= end) {
		struct vma *a = mm->vmas[i], *b = mm->vmas[i + 1];

		if (vma_mergeable(a, b)) {
			a->end = b->end;
			vma_remove_at(mm, i + 1);
		} else {
			i++;
		}
	}
}

/* ---- page table and platform ---- */

/* Accumulates a run of contiguous pages for one platform call. */
struct run {
	uint64_t start, end;	/* virtual range */
	uint64_t off;		/* frame of start (for as_map) */
	int prot;
};

struct clear_ctx {
	struct mm *mm;
	struct run r;
};

static void unmap_run(struct mm *mm, struct run *r)
{
	int err;

	if (r->start == r->end)
		return;
	err = pops(mm)->as_unmap(mm->as, r->start, r->end - r->start);
	if (err)
		log_err("mm: platform unmap %#" PRIx64 "+%#" PRIx64 ": %d",
			r->start, r->end - r->start, err);
	r->start = r->end = 0;
}

static uint64_t clear_fn(void *p, uint64_t va, uint64_t pte)
{
	struct clear_ctx *c = p;

	if (pte & PTE_MAPPED) {
		if (c->r.end != va) {
			unmap_run(c->mm, &c->r);
			c->r.start = va;
		}
		c->r.end = va + PAGE_SIZE;
	}
	memfile_frame_put(c->mm->mf, pte_frame(pte));
	return 0;
}

/* Drop every page of [start, end): unmap it from the platform (before the
 * frame can be reused) and release the frame. */
static void range_clear(struct mm *mm, uint64_t start, uint64_t end)
{
	struct clear_ctx c = { .mm = mm };

	/* Unmap before the frames go back to the allocator: collect first. */
	pt_update(&mm->pt, start, end, clear_fn, &c);
	unmap_run(mm, &c.r);
}

static void protect_run(struct mm *mm, struct run *r)
{
	int err;

	if (r->start == r->end)
		return;
	mm->map_seq++;
	err = pops(mm)->as_protect(mm->as, r->start, r->end - r->start,
				   r->prot);
	if (err)
		log_err("mm: platform protect %#" PRIx64 "+%#" PRIx64 ": %d",
			r->start, r->end - r->start, err);
	r->start = r->end = 0;
}

struct protect_ctx {
	struct mm *mm;
	const struct vma *v;	/* with the new protection */
	struct run r;
};

static uint64_t protect_fn(void *p, uint64_t va, uint64_t pte)
{
	struct protect_ctx *c = p;
	int prot = map_prot(c->v, pte);

	if (!(pte & PTE_MAPPED) || pte_prot(pte) == prot)
		return pte;
	if (c->r.end != va || c->r.prot != prot) {
		protect_run(c->mm, &c->r);
		c->r.start = va;
		c->r.prot = prot;
	}
	c->r.end = va + PAGE_SIZE;
	return (pte & ~PTE_PROT_MASK) | ((uint64_t)prot << PTE_PROT_SHIFT);
}

/* Bring the platform mappings of [start, end) (inside v) in line with
 * v->prot (copy-on-write pages stay read-only). */
static void range_protect(struct mm *mm, const struct vma *v, uint64_t start,
			  uint64_t end)
{
	struct protect_ctx c = { .mm = mm, .v = v };

	pt_update(&mm->pt, start, end, protect_fn, &c);
	protect_run(mm, &c.r);
}

/* Drop the VMAs and pages of [start, end) (page aligned, no overflow). */
static int do_unmap(struct mm *mm, uint64_t start, uint64_t end)
{
	size_t i;
	int err;

	if (!range_used(mm, start, end))
		return 0;
	/* munmap, MAP_FIXED, mremap over the platform's reserved region:
	 * refused (Linux has no such region; EPERM as for mmap_min_addr). */
	if (range_reserved(mm, start, end))
		return -EPERM;
	/* Splitting may need memory; fail before changing anything. Linux
	 * can fail munmap with ENOMEM the same way (map count). */
	err = vma_isolate(mm, start, end);
	if (err)
		return err;
	i = vma_lower(mm, start);
	while (i < mm->nvmas && mm->vmas[i]->start < end)
		vma_remove_at(mm, i);
	range_clear(mm, start, end);
	return 0;
}

/* Get the frame for page va of a shared VMA, with a new reference for the
 * caller's PTE. */
static int64_t mobj_frame(struct mm *mm, struct vma *v, uint64_t va)
{
	struct mobj *o = v->obj;
	uint64_t idx = v->pgoff + ((va - v->start) >> PAGE_SHIFT);
	int64_t off;
	int err;

	pthread_mutex_lock(&o->lock);
	if (idx >= o->npages) {
		pthread_mutex_unlock(&o->lock);
		return -EFAULT;
	}
	if (o->frames[idx]) {
		off = (int64_t)(o->frames[idx] & PAGE_MASK);
	} else {
		off = memfile_alloc(mm->mf);
		if (off < 0) {
			pthread_mutex_unlock(&o->lock);
			return off;
		}
		if (o->file) {
			err = fill_frames(mm, o->file, (uint64_t)off, PAGE_SIZE,
					  o->file_off + (idx << PAGE_SHIFT));
			if (err) {
				memfile_frame_put(mm->mf, (uint64_t)off);
				pthread_mutex_unlock(&o->lock);
				return -EFAULT;
			}
		}
		o->frames[idx] = (uint64_t)off | 1;
	}
	memfile_frame_get(mm->mf, (uint64_t)off);
	pthread_mutex_unlock(&o->lock);
	return off;
}

/* A failed file read: drop the (not yet mapped) pages of the run so the
 * next touch tries again instead of seeing zeroes. */
static int fill_run(struct mm *mm, struct vma *v, uint64_t va, uint64_t off,
		    uint64_t len)
{
	if (!fill_frames(mm, v->file, off, len, v->off + (va - v->start)))
		return 0;
	range_clear(mm, va, va + len);
	return -EFAULT;
}

/* The file's frame for page va of a shared mappable-file VMA, referenced
 * for the caller's PTE. around: a fault-around neighbour, which only maps
 * pages the file already has (filemap_map_pages), so -ENOENT for a hole or
 * -EFAULT past EOF just means "skip". */
static int64_t file_frame(struct vma *v, uint64_t va, bool around)
{
	uint64_t pgoff = (v->off + (va - v->start)) >> PAGE_SHIFT, fr;
	int err = vfs_file_get_page(v->file, pgoff,
				    around ? VFS_PAGE_NOALLOC : 0, &fr);

	return err ? err : (int64_t)fr;
}

/*
 * Make [start, end) (inside VMA v) present in the sentry page table. Private
 * file pages are read in runs of contiguous frames so a fault-around costs
 * one pread. Returns 0 or -ENOMEM/-EFAULT/...; pages done before a failure
 * stay, pages whose file read failed are dropped again. around: the range is
 * a fault-around block, and pages of a shared mappable file that are holes
 * or past EOF are left out rather than allocated (not an error).
 */
static int populate(struct mm *mm, struct vma *v, uint64_t start, uint64_t end,
		    bool around)
{
	uint64_t run_va = 0, run_off = 0, run_len = 0;
	bool fshared = vma_file_shared(v);
	int err = 0;

	for (uint64_t va = start; va < end; va += PAGE_SIZE) {
		int64_t off;

		if (pt_get(&mm->pt, va) & PTE_PRESENT)
			continue;
		if (fshared)
			off = file_frame(v, va, around);
		else if (v->obj)
			off = mobj_frame(mm, v, va);
		else
			off = memfile_alloc(mm->mf);
		if (off < 0 && fshared && around &&
		    (off == -ENOENT || off == -EFAULT))
			continue;
		if (off < 0) {
			err = (int)off;
			break;
		}
		err = pt_set(&mm->pt, va, (uint64_t)off | PTE_PRESENT);
		if (err) {
			memfile_frame_put(mm->mf, (uint64_t)off);
			break;
		}
		if (!v->file || fshared)
			continue;
		if (run_len && va == run_va + run_len &&
		    (uint64_t)off == run_off + run_len) {
			run_len += PAGE_SIZE;
			continue;
		}
		if (run_len && fill_run(mm, v, run_va, run_off, run_len))
			err = -EFAULT;
		/* This page starts the next run (filled, or dropped on a
		 * read error, below when we stop). */
		run_va = va;
		run_off = (uint64_t)off;
		run_len = PAGE_SIZE;
		if (err)
			break;
	}
	if (run_len && fill_run(mm, v, run_va, run_off, run_len))
		err = -EFAULT;
	return err;
}

struct map_ctx {
	struct mm *mm;
	const struct vma *v;
	struct run r;
	int err;
};

static void map_run(struct map_ctx *c)
{
	int err;

	if (c->r.start == c->r.end)
		return;
	c->mm->map_seq++;
	err = pops(c->mm)->as_map(c->mm->as, c->r.start, c->r.end - c->r.start,
				  c->r.prot, c->r.off);
	if (err) {
		/* The PTEs were already marked mapped; the platform maps
		 * nothing extra on failure, and unmapping a range that is
		 * not mapped is harmless. */
		log_err("mm: platform map %#" PRIx64 "+%#" PRIx64 ": %d",
			c->r.start, c->r.end - c->r.start, err);
		c->err = err;
	}
	c->r.start = c->r.end = 0;
}

static uint64_t map_fn(void *p, uint64_t va, uint64_t pte)
{
	struct map_ctx *c = p;
	int prot;

	if (!(pte & PTE_PRESENT) || (pte & PTE_MAPPED))
		return pte;
	prot = map_prot(c->v, pte);
	if (c->r.end != va || c->r.prot != prot ||
	    pte_frame(pte) != c->r.off + (c->r.end - c->r.start)) {
		map_run(c);
		c->r.start = va;
		c->r.off = pte_frame(pte);
		c->r.prot = prot;
	}
	c->r.end = va + PAGE_SIZE;
	return (pte & ~PTE_PROT_MASK) | PTE_MAPPED |
	       ((uint64_t)prot << PTE_PROT_SHIFT);
}

/* Map the present-but-unmapped pages of [start, end) (one VMA) into the
 * platform, one as_map per run of contiguous frames with one protection. */
static int map_range(struct mm *mm, struct vma *v, uint64_t start,
		     uint64_t end)
{
	struct map_ctx c = { .mm = mm, .v = v };

	pt_update(&mm->pt, start, end, map_fn, &c);
	map_run(&c);
	return c.err;
}

/* Populate and map the fault-around block of va inside v. va itself must
 * succeed; neighbours are best effort. */
static int fault_in(struct mm *mm, struct vma *v, uint64_t va)
{
	/* Private file mappings (text, data of binaries and libraries) take
	 * bigger blocks: each fault is a round trip to the platform, dearer
	 * than reading and mapping a few more pages of a file (a splice of
	 * 64 pages costs ~50 us, a fault 100+ us). Code gets the biggest
	 * (1 MiB): it is read front to back by the loader and startup of
	 * big programs (python's text is 5 MiB); data mappings keep 256 KiB
	 * so random access to a big file does not read 1 MiB a touch. */
	uint64_t blk = (v->file && !vma_file_shared(v) ?
			((v->prot & PROT_EXEC) ? FAULT_AROUND_TEXT :
						 FAULT_AROUND_FILE) :
			FAULT_AROUND_PAGES) * PAGE_SIZE;
	uint64_t start, end;
	int err;

	/* Anonymous private memory: a fault just past the previous block
	 * (memory touched in ascending order) doubles the block, like
	 * readahead; any other fault starts again at FAULT_AROUND_PAGES.
	 * Frames never touched stay holes of the memory file (no host
	 * memory), but count as resident, so the block stays modest. */
	if (!v->file && !v->obj) {
		unsigned int pages = v->fa_pages ? v->fa_pages :
				     FAULT_AROUND_PAGES;

		if (v->fa_next && PAGE_ALIGN_DOWN(va) == v->fa_next)
			pages = MIN(pages * 2, FAULT_AROUND_ANON_MAX);
		else
			pages = FAULT_AROUND_PAGES;
		v->fa_pages = pages;
		blk = (uint64_t)pages * PAGE_SIZE;
	}
	start = MAX(v->start, va & ~(blk - 1));
	end = MIN(v->end, (va & ~(blk - 1)) + blk);
	if (!v->file && !v->obj)
		v->fa_next = end;

	/* Ascending order, so fresh frames come out contiguous and the
	 * block needs one as_map. Neighbours are best effort (and, for a
	 * shared mappable file, only pages the file has); va itself must be
	 * there. */
	populate(mm, v, start, end, true);
	if (!(pt_get(&mm->pt, va) & PTE_PRESENT)) {
		err = populate(mm, v, va, va + PAGE_SIZE, false);
		if (err)
			return err;
	}
	return map_range(mm, v, start, end);
}

/*
 * Break copy-on-write for the present page va of v (do_wp_page): take the
 * frame over when this entry holds its only reference (wp_can_reuse_anon),
 * else copy it to a fresh frame. If the platform maps the page, it is
 * mapped again with v's protection right away. Returns 0 or -ENOMEM.
 */
static int cow_break(struct mm *mm, const struct vma *v, uint64_t va,
		     uint64_t pte)
{
	uint64_t old = pte_frame(pte), frame = old, npte;
	int err;

	if (memfile_frame_refs(mm->mf, old) != 1) {
		int64_t off = memfile_alloc(mm->mf);

		if (off < 0)
			return (int)off;
		frame = (uint64_t)off;
		memcpy(memfile_ptr(mm->mf, frame), memfile_ptr(mm->mf, old),
		       PAGE_SIZE);
	}
	npte = frame | PTE_PRESENT;
	if (pte & PTE_MAPPED) {
		mm->map_seq++;
		/* The old (shared) frame must not stay visible here. */
		err = frame == old ?
			pops(mm)->as_protect(mm->as, va, PAGE_SIZE, v->prot) :
			pops(mm)->as_map(mm->as, va, PAGE_SIZE, v->prot, frame);
		if (err) {
			log_err("mm: platform remap after COW at %#" PRIx64 ": %d",
				va, err);
			pops(mm)->as_unmap(mm->as, va, PAGE_SIZE);
		} else {
			npte |= PTE_MAPPED | ((uint64_t)v->prot << PTE_PROT_SHIFT);
		}
	}
	/* The entry exists, so this cannot fail. */
	pt_set(&mm->pt, va, npte);
	if (frame != old)
		memfile_frame_put(mm->mf, old);
	return 0;
}

/*
 * A fault of unknown access (ptrace) on a page the platform maps as its VMA
 * allows: a protection fault (say a write to a read-only page), or a stale
 * one. Threads of one address space fault concurrently and are served one
 * at a time, so the fault may have seen the page before another thread
 * mapped it, broke its copy-on-write or mprotect()ed it. Without the access
 * type the two look the same, so the faulting thread retries once: a stale
 * fault does not come back; a real one does with no mapping change since
 * (mm->map_seq), and is a SIGSEGV. Mapping changes by other threads in
 * between allow another retry, up to STALE_TRIES. Per task thread: this
 * runs on the faulting task's own host thread.
 */
#define STALE_TRIES 8
static __thread struct {
	const struct mm *mm;
	uint64_t va, seq;
	unsigned int tries;
} last_stale;

static bool fault_maybe_stale(struct mm *mm, uint64_t va)
{
	if (last_stale.mm == mm && last_stale.va == va &&
	    (last_stale.seq == mm->map_seq ||
	     ++last_stale.tries >= STALE_TRIES)) {
		last_stale.tries = 0;
		return false;
	}
	if (last_stale.mm != mm || last_stale.va != va)
		last_stale.tries = 0;
	last_stale.mm = mm;
	last_stale.va = va;
	last_stale.seq = mm->map_seq;
	return true;
}

int mm_fault(struct mm *mm, uint64_t addr, int access)
{
	uint64_t va = PAGE_ALIGN_DOWN(addr), pte;
	struct vma *v;
	int err = -EFAULT;

	pthread_mutex_lock(&mm->lock);
	v = addr < mm->user_max ? vma_find_expand(mm, addr) : NULL;
	if (!v)
		goto out;
	access &= PROT_READ | PROT_WRITE | PROT_EXEC;
	/* Present but not allowed: a real protection fault (SIGSEGV). */
	if (access & ~eff_prot(v->prot))
		goto out;
	if (!access && !eff_prot(v->prot))
		goto out;
	pte = pt_get(&mm->pt, va);
	/* A write to a copy-on-write page. When the platform cannot tell the
	 * access (ptrace), a fault on a page it already maps readable (for
	 * COW) in a writable VMA can only have been a write. */
	if ((pte & PTE_COW) && (v->prot & PROT_WRITE) &&
	    ((access & PROT_WRITE) ||
	     (!access && (pte & PTE_MAPPED) &&
	      pte_prot(pte) == map_prot(v, pte)))) {
		if (cow_break(mm, v, va, pte))
			goto out;
		pte = pt_get(&mm->pt, va);
		if (pte & PTE_MAPPED) {
			err = 0;
			goto out;
		}
	}
	if (pte & PTE_MAPPED) {
		/* The platform already maps the page with the VMA's
		 * protection. If it could not tell the access, this was a
		 * protection fault (say a write to a read-only page): SIGSEGV,
		 * else the workload would fault here forever; unless it may be
		 * stale (fault_maybe_stale): retry. With a known, allowed
		 * access it is spurious (a platform that lost the mapping):
		 * map the page again. */
		if (!access && pte_prot(pte) == map_prot(v, pte)) {
			if (fault_maybe_stale(mm, va))
				err = 0;
			goto out;
		}
		log_debug("mm: spurious fault at %#" PRIx64, addr);
		pt_set(&mm->pt, va, pte & ~PTE_MAPPED);
	}
	err = fault_in(mm, v, va);
	if (err)
		err = -EFAULT;
out:
	pthread_mutex_unlock(&mm->lock);
	return err;
}

/* ---- placement ---- */

/* Highest free gap of len bytes inside [lo, hi). */
static int64_t find_gap_topdown(struct mm *mm, uint64_t len, uint64_t lo,
				uint64_t hi)
{
	size_t i = vma_lower(mm, hi);
	uint64_t top = hi;

	if (hi < lo || hi - lo < len)
		return -ENOMEM;
	/* Walk gaps downwards: the gap below vmas[i] ends at its start. */
	for (;;) {
		uint64_t gap_end = top, gap_start;

		if (i < mm->nvmas && vma_start_gap(mm->vmas[i]) < gap_end)
			gap_end = vma_start_gap(mm->vmas[i]);
		gap_start = i > 0 ? mm->vmas[i - 1]->end : 0;
		gap_start = MAX(gap_start, lo);
		if (gap_end > gap_start && gap_end - gap_start >= len)
			return (int64_t)(gap_end - len);
		if (i == 0 || mm->vmas[i - 1]->end <= lo)
			return -ENOMEM;
		top = mm->vmas[i - 1]->start;
		i--;
	}
}

/* Lowest free gap of len bytes inside [lo, hi). */
static int64_t find_gap_bottomup(struct mm *mm, uint64_t len, uint64_t lo,
				 uint64_t hi)
{
	size_t i = vma_lower(mm, lo);
	uint64_t cur = lo;

	for (;;) {
		uint64_t gap_end = i < mm->nvmas ? MIN(mm->vmas[i]->start, hi) : hi;

		if (gap_end > cur && gap_end - cur >= len)
			return (int64_t)cur;
		if (i >= mm->nvmas || mm->vmas[i]->end >= hi)
			return -ENOMEM;
		cur = MAX(cur, mm->vmas[i]->end);
		i++;
	}
}

/* Linux's get_unmapped_area for the non-fixed case: the hint if free, else
 * top-down below mmap_base, else bottom-up over everything. */
static int64_t get_unmapped_area(struct mm *mm, uint64_t hint, uint64_t len,
				 int flags)
{
	int64_t a;

	if (len > mm->user_max - MM_MIN_ADDR)
		return -ENOMEM;
	if (flags & MAP_32BIT)
		return find_gap_bottomup(mm, len, MAP32_BEGIN, MAP32_END);
	if (hint) {
		size_t i;

		hint = PAGE_ALIGN_UP(hint);
		i = vma_lower(mm, hint);
		if (hint >= MM_MIN_ADDR && hint <= mm->user_max - len &&
		    (i >= mm->nvmas || hint + len <= vma_start_gap(mm->vmas[i])))
			return (int64_t)hint;
	}
	a = find_gap_topdown(mm, len, MM_MIN_ADDR, mm->mmap_base);
	if (a < 0)
		a = find_gap_bottomup(mm, len, MM_MIN_ADDR, mm->user_max);
	return a;
}

/* ---- mmap ---- */

static struct vma *vma_new(uint64_t start, uint64_t end, int prot,
			   int maxprot, int flags)
{
	struct vma *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->start = start;
	v->end = end;
	v->prot = prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
	v->maxprot = maxprot;
	/* Only the mapping type and growsdown come from mmap's flags; unknown
	 * bits from the workload must not alias our VMA_* flags. */
	v->flags = flags & (MAP_SHARED | MAP_PRIVATE | MAP_GROWSDOWN);
	return v;
}

int64_t mm_mmap_file(struct mm *mm, uint64_t addr, uint64_t len, int prot,
		     int flags, struct file *file, uint64_t off, int maxprot)
{
	int type = flags & MAP_TYPE;
	bool shared = type == MAP_SHARED || type == MAP_SHARED_VALIDATE;
	struct vma *v = NULL;
	int64_t res;
	int err;

	if (flags & MAP_ANONYMOUS)
		file = NULL;
	/* ksys_mmap_pgoff/do_mmap checks. */
	if (type == MAP_SHARED_VALIDATE) {
		if (!file)
			return -EINVAL; /* anon: only MAP_SHARED/PRIVATE */
		if (flags & ~MAP_VALID_MASK)
			return -EOPNOTSUPP; /* includes MAP_SYNC: no DAX */
	} else if (type != MAP_SHARED && type != MAP_PRIVATE) {
		return -EINVAL;
	}
	if (off & ~PAGE_MASK)
		return -EINVAL;
	if (flags & MAP_HUGETLB)
		/* No hugetlbfs: Linux gives EINVAL for a regular file and
		 * ENOMEM when no huge pages are reserved. */
		return file ? -EINVAL : -ENOMEM;
	if (!len)
		return -EINVAL;
	if (shared && !file && (flags & MAP_GROWSDOWN))
		return -EINVAL;
	len = PAGE_ALIGN_UP(len);
	if (!len)
		return -ENOMEM;
	if (file && off + len < off)
		return -EOVERFLOW;
	if (flags & MAP_FIXED_NOREPLACE)
		flags |= MAP_FIXED;

	pthread_mutex_lock(&mm->lock);
	if (flags & MAP_FIXED) {
		if (addr & ~PAGE_MASK) {
			res = -EINVAL;
			goto out;
		}
		if (len > mm->user_max || addr > mm->user_max - len) {
			res = -ENOMEM;
			goto out;
		}
		if (addr < MM_MIN_ADDR) {
			/* mmap_min_addr without CAP_SYS_RAWIO. */
			res = -EPERM;
			goto out;
		}
		if ((flags & MAP_FIXED_NOREPLACE) &&
		    range_used(mm, addr, addr + len)) {
			res = -EEXIST;
			goto out;
		}
	} else {
		res = get_unmapped_area(mm, addr, len, flags);
		if (res < 0)
			goto out;
		addr = (uint64_t)res;
	}

	err = vma_array_reserve(mm, 3); /* new VMA + splits of old ones */
	if (err) {
		res = err;
		goto out;
	}
	v = vma_new(addr, addr + len, prot, maxprot,
		    (shared ? MAP_SHARED : MAP_PRIVATE) | (flags & ~MAP_TYPE));
	if (!v) {
		res = -ENOMEM;
		goto out;
	}
	if (shared && file && vfs_file_mappable(file)) {
		/* tmpfs: map the file's own frames (see populate). */
		vfs_file_get(file);
		v->file = file;
		v->off = off;
	} else if (shared) {
		/* MAP_SHARED anonymous or gofer file: pages live in a
		 * shared object (see struct mobj). */
		v->obj = mobj_new(len >> PAGE_SHIFT, file, off);
		if (!v->obj) {
			free(v);
			res = -ENOMEM;
			goto out;
		}
	} else if (file) {
		vfs_file_get(file);
		v->file = file;
		v->off = off;
	}
	if (flags & MAP_FIXED) {
		err = do_unmap(mm, addr, addr + len);
		if (err) {
			vma_free(mm, v);
			res = err;
			goto out;
		}
	}
	vma_insert(mm, v);
	res = (int64_t)addr;
	if (flags & MAP_POPULATE) {
		/* Best effort, as in Linux (mm_populate ignores errors). */
		for (uint64_t va = addr; va < addr + len;
		     va += FAULT_AROUND_PAGES * PAGE_SIZE) {
			uint64_t e = MIN(addr + len,
					 va + FAULT_AROUND_PAGES * PAGE_SIZE);

			if (populate(mm, v, va, e, false) ||
			    map_range(mm, v, va, e))
				break;
		}
	}
	vma_merge_range(mm, addr, addr + len);
out:
	pthread_mutex_unlock(&mm->lock);
	return res;
}

int64_t mm_mmap(struct mm *mm, uint64_t addr, uint64_t len, int prot,
		int flags, struct file *file, uint64_t off)
{
	return mm_mmap_file(mm, addr, len, prot, flags, file, off,
			    PROT_READ | PROT_WRITE | PROT_EXEC);
}

int mm_munmap(struct mm *mm, uint64_t addr, uint64_t len)
{
	int err;

	/* mm/mmap.c do_vmi_munmap: EINVAL for unaligned, empty or
	 * out-of-range; unmapping nothing is fine. */
	if ((addr & ~PAGE_MASK) || !len)
		return -EINVAL;
	len = PAGE_ALIGN_UP(len);
	if (!len)
		return -EINVAL;
	pthread_mutex_lock(&mm->lock);
	if (len > mm->user_max || addr > mm->user_max - len)
		err = -EINVAL;
	else
		err = do_unmap(mm, addr, addr + len);
	pthread_mutex_unlock(&mm->lock);
	return err;
}

int mm_mprotect(struct mm *mm, uint64_t addr, uint64_t len, int prot)
{
	uint64_t end, cur;
	size_t i;
	int err = 0;

	/* mm/mprotect.c: PROT_GROWSDOWN/UP extend the range to the VMA
	 * edge; we accept and ignore them on non-growing VMAs (EINVAL in
	 * Linux when the VMA does not grow). */
	if (addr & ~PAGE_MASK)
		return -EINVAL;
	if ((prot & (PROT_GROWSDOWN | PROT_GROWSUP)) ==
	    (PROT_GROWSDOWN | PROT_GROWSUP))
		return -EINVAL;
	if (prot & PROT_GROWSUP)
		return -EINVAL; /* no VM_GROWSUP on x86 */
	prot &= ~PROT_GROWSDOWN;
	/* arch_validate_prot: READ|WRITE|EXEC|SEM. */
	if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | 0x8))
		return -EINVAL;
	prot &= PROT_READ | PROT_WRITE | PROT_EXEC;
	if (!len)
		return 0;
	len = PAGE_ALIGN_UP(len);
	end = addr + len;
	if (!len || end <= addr)
		return -ENOMEM;

	pthread_mutex_lock(&mm->lock);
	/* Like Linux, apply VMA by VMA from addr and stop with ENOMEM at the
	 * first hole (earlier VMAs stay changed). */
	cur = addr;
	i = vma_lower(mm, addr);
	if (i >= mm->nvmas || mm->vmas[i]->start > addr) {
		err = -ENOMEM;
		goto out;
	}
	if (range_reserved(mm, addr, end)) {
		err = -EACCES;
		goto out;
	}
	while (cur < end) {
		struct vma *v;
		uint64_t e;

		i = vma_lower(mm, cur);
		if (i >= mm->nvmas || mm->vmas[i]->start > cur) {
			err = -ENOMEM;
			break;
		}
		v = mm->vmas[i];
		if (prot & ~v->maxprot) {
			err = -EACCES;
			break;
		}
		e = MIN(end, v->end);
		if (v->prot != prot) {
			err = vma_isolate(mm, cur, e);
			if (err)
				break;
			v = mm->vmas[vma_lower(mm, cur)];
			v->prot = prot;
			range_protect(mm, v, cur, e);
		}
		cur = e;
	}
	vma_merge_range(mm, addr, cur);
out:
	pthread_mutex_unlock(&mm->lock);
	return err;
}

/* Move the pages of [from, from+len) to [to, to+len): PTEs move, frames
 * stay where they are (no copy), old platform mappings are removed and the
 * new ones come on the next fault. */
struct move_ctx {
	struct mm *mm;
	int64_t delta;
	struct run r;
};

static uint64_t move_fn(void *p, uint64_t va, uint64_t pte)
{
	struct move_ctx *c = p;

	if (pte & PTE_MAPPED) {
		if (c->r.end != va) {
			unmap_run(c->mm, &c->r);
			c->r.start = va;
		}
		c->r.end = va + PAGE_SIZE;
	}
	/* Cannot fail: the destination tables were reserved. */
	pt_set(&c->mm->pt, (uint64_t)((int64_t)va + c->delta),
	       pte & ~(PTE_MAPPED | PTE_PROT_MASK));
	return 0;
}

static int move_pages(struct mm *mm, uint64_t from, uint64_t to, uint64_t len)
{
	struct move_ctx c = { .mm = mm, .delta = (int64_t)(to - from) };
	int err;

	if (!len)
		return 0;
	err = pt_reserve(&mm->pt, to, to + len);
	if (err)
		return err;
	pt_update(&mm->pt, from, from + len, move_fn, &c);
	unmap_run(mm, &c.r);
	return 0;
}

/* The VMA that holds all of [addr, addr+old_len) (vma_to_resize). */
static struct vma *vma_to_resize(struct mm *mm, uint64_t addr, uint64_t old_len,
				 int *err)
{
	struct vma *v = vma_find(mm, addr);

	if (!v || old_len > v->end - addr) {
		*err = -EFAULT;
		return NULL;
	}
	if (v->flags & VMA_RESERVED) {
		*err = -EINVAL;
		return NULL;
	}
	/* old_len == 0 duplicates a shared mapping only. */
	if (!old_len && !(v->flags & MAP_SHARED)) {
		*err = -EINVAL;
		return NULL;
	}
	return v;
}

/* move_vma: a new VMA at new_addr with v's attributes, the pages moved. */
static int64_t move_vma(struct mm *mm, struct vma *v, uint64_t addr,
			uint64_t old_len, uint64_t new_addr, uint64_t new_len,
			bool dontunmap)
{
	struct vma *n;
	int err;

	err = vma_array_reserve(mm, 3);
	if (err)
		return err;
	n = vma_clone(v);
	if (!n)
		return -ENOMEM;
	n->start = new_addr;
	n->end = new_addr + new_len;
	if (n->file)
		n->off += addr - v->start;
	if (n->obj) {
		n->pgoff += (addr - v->start) >> PAGE_SHIFT;
		err = mobj_grow(n->obj, n->pgoff + (new_len >> PAGE_SHIFT));
		if (err) {
			vma_free(mm, n);
			return err;
		}
	}
	err = move_pages(mm, addr, new_addr, old_len);
	if (err) {
		vma_free(mm, n);
		return err;
	}
	vma_insert(mm, n);
	if (old_len && !dontunmap)
		/* Pages are gone already; this removes the VMA. Splits
		 * were reserved above, so it does not fail. */
		do_unmap(mm, addr, addr + old_len);
	vma_merge_range(mm, new_addr, new_addr + new_len);
	return (int64_t)new_addr;
}

int64_t mm_mremap(struct mm *mm, uint64_t addr, uint64_t old_len,
		  uint64_t new_len, int flags, uint64_t new_addr)
{
	struct vma *v;
	int64_t res;
	int err = 0;

	/* mm/mremap.c argument checks, in its order. */
	if (flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP))
		return -EINVAL;
	if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
		return -EINVAL;
	if ((flags & MREMAP_DONTUNMAP) &&
	    (!(flags & MREMAP_MAYMOVE) || old_len != new_len))
		return -EINVAL;
	if (addr & ~PAGE_MASK)
		return -EINVAL;
	old_len = PAGE_ALIGN_UP(old_len);
	new_len = PAGE_ALIGN_UP(new_len);
	if (!new_len)
		return -EINVAL;

	pthread_mutex_lock(&mm->lock);
	if (old_len > mm->user_max || addr > mm->user_max - old_len) {
		res = -EFAULT;
		goto out;
	}
	if (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) {
		/* mremap_to */
		if (flags & MREMAP_FIXED) {
			if (new_addr & ~PAGE_MASK) {
				res = -EINVAL;
				goto out;
			}
			if (new_len > mm->user_max ||
			    new_addr > mm->user_max - new_len ||
			    new_addr < MM_MIN_ADDR) {
				res = -EINVAL;
				goto out;
			}
			if (addr + old_len > new_addr &&
			    new_addr + new_len > addr) {
				res = -EINVAL;
				goto out;
			}
		}
		v = vma_to_resize(mm, addr, old_len, &err);
		if (!v) {
			res = err;
			goto out;
		}
		if ((flags & MREMAP_DONTUNMAP) && (v->flags & MAP_SHARED)) {
			/* Originally private anonymous only; keep it so. */
			res = -EINVAL;
			goto out;
		}
		if (flags & MREMAP_FIXED) {
			err = do_unmap(mm, new_addr, new_addr + new_len);
			if (err) {
				res = err;
				goto out;
			}
		}
		if (old_len > new_len) {
			err = do_unmap(mm, addr + new_len, addr + old_len);
			if (err) {
				res = err;
				goto out;
			}
			old_len = new_len;
		}
		v = vma_to_resize(mm, addr, old_len, &err);
		if (!v) {
			res = err;
			goto out;
		}
		if (!(flags & MREMAP_FIXED)) {
			res = get_unmapped_area(mm, 0, new_len,
						v->flags & MAP_SHARED);
			if (res < 0)
				goto out;
			new_addr = (uint64_t)res;
		}
		res = move_vma(mm, v, addr, old_len, new_addr, new_len,
			       flags & MREMAP_DONTUNMAP);
		goto out;
	}

	if (old_len >= new_len) {
		/* Shrink in place (also checks nothing else). */
		res = do_unmap(mm, addr + new_len, addr + old_len);
		if (!res)
			res = (int64_t)addr;
		goto out;
	}
	v = vma_to_resize(mm, addr, old_len, &err);
	if (!v) {
		res = err;
		goto out;
	}
	/* Grow in place when the VMA ends at the old end and the space
	 * after it is free. */
	if (old_len && addr + old_len == v->end &&
	    new_len <= mm->user_max - addr &&
	    !range_used(mm, v->end, addr + new_len)) {
		if (v->obj) {
			err = mobj_grow(v->obj, v->pgoff + ((addr + new_len -
							      v->start) >>
							     PAGE_SHIFT));
			if (err) {
				res = err;
				goto out;
			}
		}
		v->end = addr + new_len;
		vma_merge_range(mm, v->start, v->end);
		res = (int64_t)addr;
		goto out;
	}
	if (!(flags & MREMAP_MAYMOVE)) {
		res = -ENOMEM;
		goto out;
	}
	res = get_unmapped_area(mm, 0, new_len, v->flags & MAP_SHARED);
	if (res >= 0)
		res = move_vma(mm, v, addr, old_len, (uint64_t)res, new_len,
			       false);
out:
	pthread_mutex_unlock(&mm->lock);
	return res;
}

/* Drop the pages of [start, end) from a shared object (MADV_REMOVE). */
static void mobj_punch(struct mm *mm, struct vma *v, uint64_t start,
		       uint64_t end)
{
	struct mobj *o = v->obj;
	uint64_t first = v->pgoff + ((start - v->start) >> PAGE_SHIFT);
	uint64_t n = (end - start) >> PAGE_SHIFT;

	pthread_mutex_lock(&o->lock);
	for (uint64_t i = first; i < first + n && i < o->npages; i++) {
		if (o->frames[i])
			memfile_frame_put(mm->mf, o->frames[i] & PAGE_MASK);
		o->frames[i] = 0;
	}
	pthread_mutex_unlock(&o->lock);
}

int mm_madvise(struct mm *mm, uint64_t addr, uint64_t len, int advice)
{
	uint64_t end, cur;
	int err = 0;

	/* madvise_behavior_valid() */
	switch (advice) {
	case MADV_NORMAL:
	case MADV_RANDOM:
	case MADV_SEQUENTIAL:
	case MADV_WILLNEED:
	case MADV_DONTNEED:
	case MADV_FREE:
	case MADV_REMOVE:
	case MADV_DONTFORK:
	case MADV_DOFORK:
	case MADV_MERGEABLE:
	case MADV_UNMERGEABLE:
	case MADV_HUGEPAGE:
	case MADV_NOHUGEPAGE:
	case MADV_DONTDUMP:
	case MADV_DODUMP:
	case MADV_WIPEONFORK:
	case MADV_KEEPONFORK:
	case MADV_COLD:
	case MADV_PAGEOUT:
	case 22: /* MADV_POPULATE_READ */
	case 23: /* MADV_POPULATE_WRITE */
	case 24: /* MADV_DONTNEED_LOCKED */
		break;
	case MADV_HWPOISON:
	case 101: /* MADV_SOFT_OFFLINE */
		return -EPERM; /* CAP_SYS_ADMIN on the host only */
	default:
		return -EINVAL;
	}
	if (addr & ~PAGE_MASK)
		return -EINVAL;
	end = PAGE_ALIGN_UP(len);
	if (len && !end)
		return -EINVAL;
	len = end;
	end = addr + len;
	if (end < addr)
		return -EINVAL;
	if (end == addr)
		return 0;

	pthread_mutex_lock(&mm->lock);
	if (range_reserved(mm, addr, end)) {
		err = -EINVAL;
		goto out;
	}
	/* madvise_walk_vmas: apply to the mapped parts; a hole anywhere
	 * gives ENOMEM at the end. */
	cur = addr;
	while (cur < end) {
		size_t i = vma_lower(mm, cur);
		struct vma *v;
		uint64_t s, e;
		int flag = 0;

		if (i >= mm->nvmas || mm->vmas[i]->start >= end) {
			err = -ENOMEM;
			break;
		}
		v = mm->vmas[i];
		if (v->start > cur)
			err = -ENOMEM;
		s = MAX(cur, v->start);
		e = MIN(end, v->end);
		cur = e;
		switch (advice) {
		case MADV_DONTNEED:
		case 24:
			/* Private: next touch gives zero or the file again.
			 * Shared: the object keeps the data. */
			range_clear(mm, s, e);
			break;
		case MADV_FREE:
			if (v->obj || v->file) {
				err = -EINVAL;
				goto out;
			}
			range_clear(mm, s, e);
			break;
		case MADV_REMOVE:
			if (vma_file_shared(v)) {
				/* madvise_remove: a writable shared mapping,
				 * then fallocate(PUNCH_HOLE) on the file. */
				if (!(v->prot & PROT_WRITE)) {
					err = -EACCES;
					goto out;
				}
				range_clear(mm, s, e);
				err = vfs_file_punch(v->file,
						     v->off + (s - v->start),
						     e - s);
				if (err)
					goto out;
				break;
			}
			if (!v->obj) {
				err = -EINVAL;
				goto out;
			}
			range_clear(mm, s, e);
			mobj_punch(mm, v, s, e);
			break;
		case 22:
		case 23: {
			int need = advice == 22 ? PROT_READ : PROT_WRITE;

			if (!(eff_prot(v->prot) & need)) {
				err = -EFAULT;
				goto out;
			}
			if (populate(mm, v, s, e, false)) {
				err = -ENOMEM;
				goto out;
			}
			break;
		}
		case MADV_DONTFORK:
			flag = VMA_DONTFORK;
			goto setflag;
		case MADV_DOFORK:
			flag = -VMA_DONTFORK;
			goto setflag;
		case MADV_WIPEONFORK:
			if (v->obj || v->file) {
				err = -EINVAL;
				goto out;
			}
			flag = VMA_WIPEONFORK;
			goto setflag;
		case MADV_KEEPONFORK:
			flag = -VMA_WIPEONFORK;
setflag: {
			int nf = flag > 0 ? v->flags | flag : v->flags & ~(-flag);

			if (nf == v->flags)
				break;
			if (vma_isolate(mm, s, e)) {
				err = -ENOMEM;
				goto out;
			}
			mm->vmas[vma_lower(mm, s)]->flags = nf;
			vma_merge_range(mm, s, e);
			break;
		}
		default:
			/* Hints (WILLNEED, COLD, HUGEPAGE, ...): no-op. */
			break;
		}
	}
out:
	pthread_mutex_unlock(&mm->lock);
	return err;
}

void mm_set_brk_start(struct mm *mm, uint64_t start)
{
	pthread_mutex_lock(&mm->lock);
	mm->brk_start = mm->brk = PAGE_ALIGN_UP(start);
	pthread_mutex_unlock(&mm->lock);
}

uint64_t mm_brk(struct mm *mm, uint64_t brk)
{
	uint64_t oldpg, newpg, res;
	struct vma *v;

	pthread_mutex_lock(&mm->lock);
	res = mm->brk;
	/* mm/mmap.c brk: below the start or unchanged -> current break. */
	if (brk < mm->brk_start || brk > mm->user_max)
		goto out;
	oldpg = PAGE_ALIGN_UP(mm->brk);
	newpg = PAGE_ALIGN_UP(brk);
	if (newpg == oldpg) {
		mm->brk = res = brk;
		goto out;
	}
	if (brk < mm->brk) {
		if (do_unmap(mm, newpg, oldpg) == 0)
			mm->brk = res = brk;
		goto out;
	}
	/* Grow: leave a guard page before the next mapping, as Linux's
	 * check_brk_limits/find_vma_intersection(oldbrk, newbrk+PAGE_SIZE). */
	if (newpg > mm->user_max - PAGE_SIZE ||
	    range_used(mm, oldpg, newpg + PAGE_SIZE))
		goto out;
	if (vma_array_reserve(mm, 1))
		goto out;
	v = vma_new(oldpg, newpg, PROT_READ | PROT_WRITE,
		    PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE);
	if (!v)
		goto out;
	vma_insert(mm, v);
	vma_merge_range(mm, oldpg, newpg);
	mm->brk = res = brk;
out:
	pthread_mutex_unlock(&mm->lock);
	return res;
}

/* ---- copies ---- */

/*
 * Walk [addr, addr+len) page by page with permission `need` (effective
 * PROT_*), populating pages, and call fn on each sentry chunk. Stops at the
 * first bad byte: returns the number of bytes done before it, so callers
 * can tell "all" from "partial".
 */
typedef int (*chunk_fn)(void *ctx, void *p, size_t n);

static size_t user_walk(struct mm *mm, uint64_t addr, size_t len, int need,
			chunk_fn fn, void *ctx)
{
	struct vma *v = NULL;
	size_t done = 0;

	if (addr >= mm->user_max)
		return 0;
	len = MIN(len, mm->user_max - addr);
	while (done < len) {
		uint64_t va = addr + done;
		uint64_t pg = PAGE_ALIGN_DOWN(va), pte;
		size_t n = MIN(len - done, PAGE_SIZE - (va - pg));

		if (!v || va >= v->end || va < v->start) {
			/* Kernel accesses grow the stack too (the fault
			 * path of copy_to_user is the same as the user's). */
			v = vma_find_expand(mm, va);
			if (!v || (eff_prot(v->prot) & need) != need)
				break;
		}
		pte = pt_get(&mm->pt, pg);
		if (!(pte & PTE_PRESENT)) {
			if (populate(mm, v, pg, pg + PAGE_SIZE, false))
				break;
			pte = pt_get(&mm->pt, pg);
		}
		if ((need & PROT_WRITE) && (pte & PTE_COW)) {
			if (cow_break(mm, v, pg, pte))
				break;
			pte = pt_get(&mm->pt, pg);
		}
		if (fn(ctx, (char *)memfile_ptr(mm->mf, pte_frame(pte)) +
				    (va - pg), n))
			break;
		done += n;
	}
	return done;
}

struct buf_ctx {
	char *buf;
};

/* access_ok(): the whole range must lie below user_max, so an absurd
 * length fails before anything is copied. */
static bool access_ok(struct mm *mm, uint64_t addr, size_t len)
{
	return addr < mm->user_max && len <= mm->user_max - addr;
}

static int copy_in_fn(void *p, void *src, size_t n)
{
	struct buf_ctx *c = p;

	memcpy(c->buf, src, n);
	c->buf += n;
	return 0;
}

static int copy_out_fn(void *p, void *dst, size_t n)
{
	struct buf_ctx *c = p;

	memcpy(dst, c->buf, n);
	c->buf += n;
	return 0;
}

static int zero_fn(void *p UNUSED, void *dst, size_t n)
{
	memset(dst, 0, n);
	return 0;
}

int mm_copy_in(struct mm *mm, void *dst, uint64_t src, size_t len)
{
	struct buf_ctx c = { .buf = dst };
	size_t done;

	if (!len)
		return 0;
	if (!access_ok(mm, src, len))
		return -EFAULT;
	pthread_mutex_lock(&mm->lock);
	done = user_walk(mm, src, len, PROT_READ, copy_in_fn, &c);
	pthread_mutex_unlock(&mm->lock);
	return done == len ? 0 : -EFAULT;
}

int mm_copy_out(struct mm *mm, uint64_t dst, const void *src, size_t len)
{
	struct buf_ctx c = { .buf = (char *)src };
	size_t done;

	if (!len)
		return 0;
	if (!access_ok(mm, dst, len))
		return -EFAULT;
	/* copy_to_user into a read-only mapping is EFAULT in Linux too. */
	pthread_mutex_lock(&mm->lock);
	done = user_walk(mm, dst, len, PROT_WRITE, copy_out_fn, &c);
	pthread_mutex_unlock(&mm->lock);
	return done == len ? 0 : -EFAULT;
}

/* ---- text patching for the platform (platform_mm_ops) ---- */

int mm_text_reserve(struct mm *mm, uint64_t addr, uint64_t len)
{
	struct vma *v;
	int err = 0;

	if ((addr & ~PAGE_MASK) || !len || (len & ~PAGE_MASK) ||
	    addr < MM_MIN_ADDR || addr + len > mm->user_max)
		return -EINVAL;
	pthread_mutex_lock(&mm->lock);
	v = vma_find(mm, addr);
	if (v && (v->flags & VMA_RESERVED) && v->start == addr &&
	    v->end == addr + len)
		goto out; /* already there (this mm, or inherited by fork) */
	if (range_used(mm, addr, addr + len)) {
		err = -EEXIST;
		goto out;
	}
	err = vma_array_reserve(mm, 1);
	if (err)
		goto out;
	v = vma_new(addr, addr + len, PROT_READ | PROT_EXEC,
		    PROT_READ | PROT_EXEC, MAP_PRIVATE);
	if (!v) {
		err = -ENOMEM;
		goto out;
	}
	v->flags |= VMA_RESERVED;
	vma_insert(mm, v);
out:
	pthread_mutex_unlock(&mm->lock);
	return err;
}

/* One aligned 16-byte compare-and-exchange (CMPXCHG16B), so a thread
 * fetching the instruction bytes sees either the old or the new ones. */
static bool cas16(void *p, const void *old, const void *new)
{
	uint64_t o[2], n[2];
	bool ok;

	memcpy(o, old, 16);
	memcpy(n, new, 16);
	__asm__ volatile("lock cmpxchg16b %1"
			 : "=@ccz"(ok), "+m"(*(volatile __int128 *)p),
			   "+a"(o[0]), "+d"(o[1])
			 : "b"(n[0]), "c"(n[1])
			 : "memory");
	return ok;
}

int mm_text_poke(struct mm *mm, uint64_t addr, const void *old,
		 const void *new, size_t len, int mode)
{
	uint64_t pg = PAGE_ALIGN_DOWN(addr), pte;
	uint8_t *p, w_old[16], w_new[16];
	uint64_t win = 0;
	struct vma *v;
	int err = 0;

	if (!len || len > 16 || addr + len > pg + PAGE_SIZE ||
	    addr >= mm->user_max)
		return -EINVAL;
	if (mode == MM_POKE_ATOMIC) {
		/* The smallest aligned window (8 or 16 bytes) holding it. */
		win = (addr & ~7ULL) + 8 >= addr + len ? 8 :
		      (addr & ~15ULL) + 16 >= addr + len ? 16 : 0;
		if (!win)
			return -EINVAL;
	}
	pthread_mutex_lock(&mm->lock);
	v = vma_find(mm, addr);
	/* Private mappings only: a shared one is the file's (or another
	 * process's) data. Private file pages are copies (populate), so a
	 * page shared with anything is shared copy-on-write, broken below. */
	if (!v || (v->flags & MAP_SHARED) || v->obj ||
	    !(v->prot & PROT_EXEC) || addr + len > v->end) {
		err = -EFAULT;
		goto out;
	}
	pte = pt_get(&mm->pt, pg);
	if (!(pte & PTE_PRESENT)) {
		if (populate(mm, v, pg, pg + PAGE_SIZE, false)) {
			err = -EFAULT;
			goto out;
		}
		pte = pt_get(&mm->pt, pg);
	}
	if (pte & PTE_COW) {
		if (cow_break(mm, v, pg, pte)) {
			err = -ENOMEM;
			goto out;
		}
		pte = pt_get(&mm->pt, pg);
	}
	p = (uint8_t *)memfile_ptr(mm->mf, pte_frame(pte)) + (addr - pg);
	if (mode != MM_POKE_ATOMIC) {
		if (memcmp(p, old, len))
			err = -EAGAIN;
		else
			memcpy(p, new, len);
		goto out;
	}
	{
		uint8_t *wp = p - (addr & (win - 1));
		size_t at = (size_t)(p - wp);

		memcpy(w_old, wp, win);
		if (memcmp(w_old + at, old, len)) {
			err = -EAGAIN;
			goto out;
		}
		memcpy(w_new, w_old, win);
		memcpy(w_new + at, new, len);
		if (win == 8) {
			uint64_t o, n;

			memcpy(&o, w_old, 8);
			memcpy(&n, w_new, 8);
			if (!__atomic_compare_exchange_n((uint64_t *)wp, &o, n,
							 false, __ATOMIC_SEQ_CST,
							 __ATOMIC_SEQ_CST))
				err = -EAGAIN;
		} else if (!cas16(wp, w_old, w_new)) {
			err = -EAGAIN;
		}
	}
out:
	pthread_mutex_unlock(&mm->lock);
	return err;
}

int mm_zero(struct mm *mm, uint64_t dst, size_t len)
{
	size_t done;

	if (!len)
		return 0;
	if (!access_ok(mm, dst, len))
		return -EFAULT;
	pthread_mutex_lock(&mm->lock);
	done = user_walk(mm, dst, len, PROT_WRITE, zero_fn, NULL);
	pthread_mutex_unlock(&mm->lock);
	return done == len ? 0 : -EFAULT;
}

struct str_ctx {
	char *dst;
	size_t len;	/* bytes copied */
	bool found;
};

static int str_fn(void *p, void *src, size_t n)
{
	struct str_ctx *c = p;
	char *nul = memchr(src, 0, n);
	size_t k = nul ? (size_t)(nul - (char *)src) + 1 : n;

	memcpy(c->dst + c->len, src, k);
	c->len += k;
	if (nul) {
		c->found = true;
		return 1; /* stop */
	}
	return 0;
}

ssize_t mm_strncpy_in(struct mm *mm, char *dst, uint64_t src, size_t max)
{
	struct str_ctx c = { .dst = dst };

	if (!max)
		return -ENAMETOOLONG;
	pthread_mutex_lock(&mm->lock);
	user_walk(mm, src, max, PROT_READ, str_fn, &c);
	pthread_mutex_unlock(&mm->lock);
	if (c.found)
		return (ssize_t)c.len - 1;
	/* Like strncpy_from_user: a fault before the NUL or the limit wins. */
	if (c.len < max)
		return -EFAULT;
	return -ENAMETOOLONG;
}

struct iov_ctx {
	struct iovec *iov;
	int n, max;
};

static int iov_fn(void *p, void *ptr, size_t n)
{
	struct iov_ctx *c = p;

	if (c->n && (char *)c->iov[c->n - 1].iov_base +
				    c->iov[c->n - 1].iov_len == ptr) {
		c->iov[c->n - 1].iov_len += n;
		return 0;
	}
	if (c->n == c->max)
		return 1;
	c->iov[c->n].iov_base = ptr;
	c->iov[c->n].iov_len = n;
	c->n++;
	return 0;
}

int mm_iovecs(struct mm *mm, uint64_t addr, size_t len, bool write,
	      struct iovec *iov, int max)
{
	struct iov_ctx c = { .iov = iov, .max = max };

	if (!len || max <= 0)
		return 0;
	pthread_mutex_lock(&mm->lock);
	user_walk(mm, addr, len, write ? PROT_WRITE : PROT_READ, iov_fn, &c);
	pthread_mutex_unlock(&mm->lock);
	return c.n ? c.n : -EFAULT;
}

/* ---- lifetime and introspection ---- */

static int mm_ops_read(void *mm, uint64_t addr, void *buf, size_t len)
{
	return mm_copy_in(mm, buf, addr, len);
}

static int mm_ops_reserve(void *mm, uint64_t addr, uint64_t len)
{
	return mm_text_reserve(mm, addr, len);
}

static int mm_ops_poke(void *mm, uint64_t addr, const void *old,
		       const void *new, size_t len, int mode)
{
	return mm_text_poke(mm, addr, old, new, len, mode);
}

static const struct platform_mm_ops mm_platform_ops = {
	.read = mm_ops_read,
	.reserve = mm_ops_reserve,
	.poke = mm_ops_poke,
};

int mm_new(struct memfile *mf, struct platform *p, struct mm **out)
{
	struct mm *mm = calloc(1, sizeof(*mm));
	uint64_t max;
	int err;

	if (!mm)
		return -ENOMEM;
	max = PAGE_ALIGN_DOWN(p->ops->user_max(p));
	if (max < MM_MIN_ADDR + 2 * MM_STACK_GAP) {
		free(mm);
		return -EINVAL;
	}
	err = p->ops->as_new(p, &mm->as);
	if (err) {
		free(mm);
		return err;
	}
	pthread_mutex_init(&mm->lock, NULL);
	mm->refs = 1;
	mm->mf = mf;
	mm->p = p;
	mm->user_max = max;
	mm->stack_rlimit = MM_STACK_RLIMIT;
	/* x86-64 STACK_TOP is TASK_SIZE minus a page, mmap_base sits a gap
	 * below it (arch/x86/mm/mmap.c, without randomisation). */
	mm->stack_top = max - PAGE_SIZE;
	/* 2 MiB aligned so huge-page-friendly placement is possible later. */
	mm->mmap_base = (mm->stack_top - MM_STACK_GAP) & ~((2ULL << 20) - 1);
	if (p->ops->as_set_mm)
		p->ops->as_set_mm(mm->as, &mm_platform_ops, mm);
	*out = mm;
	return 0;
}

static uint64_t release_fn(void *p, uint64_t va UNUSED, uint64_t pte)
{
	struct mm *mm = p;

	memfile_frame_put(mm->mf, pte_frame(pte));
	return 0;
}

static void mm_free(struct mm *mm)
{
	/* The platform address space goes first, so no frame is still
	 * mapped anywhere when it returns to the allocator. */
	if (mm->as)
		mm->p->ops->as_release(mm->as);
	pt_update(&mm->pt, 0, UINT64_MAX, release_fn, mm);
	pt_free(&mm->pt);
	for (size_t i = 0; i < mm->nvmas; i++)
		vma_free(mm, mm->vmas[i]);
	free(mm->vmas);
	if (mm->exe_file)
		vfs_file_put(mm->exe_file);
	pthread_mutex_destroy(&mm->lock);
	free(mm);
}

void mm_get(struct mm *mm)
{
	__atomic_add_fetch(&mm->refs, 1, __ATOMIC_RELAXED);
}

void mm_put(struct mm *mm)
{
	if (mm && !__atomic_sub_fetch(&mm->refs, 1, __ATOMIC_ACQ_REL))
		mm_free(mm);
}

void mm_destroy(struct mm *mm)
{
	mm_put(mm);
}

void mm_set_stack_rlimit(struct mm *mm, uint64_t bytes)
{
	pthread_mutex_lock(&mm->lock);
	mm->stack_rlimit = bytes;
	pthread_mutex_unlock(&mm->lock);
}

/* ---- fork ---- */

struct fork_ctx {
	struct mm *parent, *child;
	const struct vma *v;
	bool cow;		/* private VMA: share the pages copy-on-write */
	struct run r;		/* parent pages to make read-only */
	int err;
};

static uint64_t fork_fn(void *p, uint64_t va, uint64_t pte)
{
	struct fork_ctx *c = p;
	uint64_t cpte = pte_frame(pte) | PTE_PRESENT;
	int prot;

	if (c->err)
		return pte;
	if (c->cow)
		cpte |= PTE_COW;
	/* The child starts with nothing mapped in its platform address
	 * space; its faults map pages (read-only while COW). */
	c->err = pt_set(&c->child->pt, va, cpte);
	if (c->err)
		return pte;
	memfile_frame_get(c->parent->mf, pte_frame(pte));
	if (!c->cow)
		return pte;
	pte |= PTE_COW;
	if (!(pte & PTE_MAPPED))
		return pte;
	prot = map_prot(c->v, pte);
	if (pte_prot(pte) == prot)
		return pte;
	/* Downgrade the parent's platform mapping, one as_protect per run. */
	if (c->r.end != va || c->r.prot != prot) {
		protect_run(c->parent, &c->r);
		c->r.start = va;
		c->r.prot = prot;
	}
	c->r.end = va + PAGE_SIZE;
	return (pte & ~PTE_PROT_MASK) | ((uint64_t)prot << PTE_PROT_SHIFT);
}

int mm_fork(struct mm *parent, struct mm **out)
{
	struct mm *child;
	int err;

	err = mm_new(parent->mf, parent->p, &child);
	if (err)
		return err;
	pthread_mutex_lock(&parent->lock);
	/* dup_mmap(): the layout and the break come along. */
	child->stack_top = parent->stack_top;
	child->mmap_base = parent->mmap_base;
	child->brk_start = parent->brk_start;
	child->brk = parent->brk;
	child->start_stack = parent->start_stack;
	child->stack_rlimit = parent->stack_rlimit;
	child->args = parent->args;
	child->exe_file = parent->exe_file;
	if (child->exe_file)
		vfs_file_get(child->exe_file);
	err = vma_array_reserve(child, parent->nvmas);
	for (size_t i = 0; !err && i < parent->nvmas; i++) {
		const struct vma *v = parent->vmas[i];
		struct fork_ctx c = { .parent = parent, .child = child, .v = v };
		struct vma *n;

		/* MADV_DONTFORK: the child has a hole there. */
		if (v->flags & VMA_DONTFORK)
			continue;
		n = vma_clone(v);
		if (!n) {
			err = -ENOMEM;
			break;
		}
		child->vmas[child->nvmas++] = n;
		/* MADV_WIPEONFORK: the child gets zero-fill-on-demand. */
		if (v->flags & VMA_WIPEONFORK)
			continue;
		/* Shared mappings (anonymous, tmpfs, gofer objects) keep
		 * sharing the same frames; private ones go copy-on-write. */
		c.cow = !(v->flags & MAP_SHARED);
		pt_update(&parent->pt, v->start, v->end, fork_fn, &c);
		protect_run(parent, &c.r);
		err = c.err;
	}
	pthread_mutex_unlock(&parent->lock);
	if (err) {
		/* The parent's pages that became COW stay correct: once the
		 * child's references are gone a write takes the frame over. */
		mm_put(child);
		return err;
	}
	*out = child;
	return 0;
}

/* ---- msync, mincore ---- */

int mm_msync(struct mm *mm, uint64_t addr, uint64_t len, int flags)
{
	uint64_t end, cur;
	int err = 0;

	/* mm/msync.c, in its order. */
	if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC))
		return -EINVAL;
	if (addr & ~PAGE_MASK)
		return -EINVAL;
	if ((flags & MS_ASYNC) && (flags & MS_SYNC))
		return -EINVAL;
	/* A length that rounds up past 2^64 wraps to 0: nothing to do,
	 * exactly as in Linux. */
	end = addr + PAGE_ALIGN_UP(len);
	if (end < addr)
		return -ENOMEM;
	if (end == addr)
		return 0;
	pthread_mutex_lock(&mm->lock);
	/* Every part must be mapped (ENOMEM for a hole, reported after the
	 * rest is done). There is nothing to write back: tmpfs mappings are
	 * the file's own pages, and gofer shared mappings are not written
	 * back at all (see struct mobj), so MS_SYNC is as MS_ASYNC. No
	 * VM_LOCKED either, so MS_INVALIDATE never gives EBUSY. */
	cur = addr;
	while (cur < end) {
		size_t i = vma_lower(mm, cur);

		if (i >= mm->nvmas || mm->vmas[i]->start >= end) {
			err = -ENOMEM;
			break;
		}
		if (mm->vmas[i]->start > cur)
			err = -ENOMEM;
		cur = mm->vmas[i]->end;
	}
	pthread_mutex_unlock(&mm->lock);
	return err;
}

/* Is page va of v resident? For a file's shared pages: does the file
 * have the page (its page cache), as mincore_page() looks it up. */
static uint8_t page_resident(struct mm *mm, struct vma *v, uint64_t va)
{
	uint64_t fr;

	if (pt_get(&mm->pt, va) & PTE_PRESENT)
		return 1;
	if (vma_file_shared(v)) {
		if (vfs_file_get_page(v->file,
				      (v->off + (va - v->start)) >> PAGE_SHIFT,
				      VFS_PAGE_NOALLOC, &fr))
			return 0;
		memfile_frame_put(mm->mf, fr);
		return 1;
	}
	if (v->obj) {
		uint64_t idx = v->pgoff + ((va - v->start) >> PAGE_SHIFT);
		uint8_t r;

		pthread_mutex_lock(&v->obj->lock);
		r = idx < v->obj->npages && v->obj->frames[idx];
		pthread_mutex_unlock(&v->obj->lock);
		return r;
	}
	return 0;
}

long mm_mincore(struct mm *mm, uint64_t addr, uint64_t npages, uint8_t *vec)
{
	uint64_t done = 0;

	pthread_mutex_lock(&mm->lock);
	while (done < npages) {
		uint64_t va = addr + (done << PAGE_SHIFT);
		struct vma *v = va < mm->user_max ? vma_find(mm, va) : NULL;

		if (!v)
			break;
		for (; done < npages && va < v->end; done++, va += PAGE_SIZE)
			vec[done] = page_resident(mm, v, va);
	}
	pthread_mutex_unlock(&mm->lock);
	return done ? (long)done : -ENOMEM;
}

struct platform_as *mm_platform_as(struct mm *mm)
{
	return mm->as;
}

uint64_t mm_user_max(struct mm *mm)
{
	return mm->user_max;
}

uint64_t mm_stack_top(struct mm *mm)
{
	return mm->stack_top;
}

uint64_t mm_mmap_base(struct mm *mm)
{
	return mm->mmap_base;
}

void mm_set_start_stack(struct mm *mm, uint64_t sp)
{
	pthread_mutex_lock(&mm->lock);
	mm->start_stack = sp;
	pthread_mutex_unlock(&mm->lock);
}

void mm_set_exec(struct mm *mm, struct file *exe, const struct mm_args *a)
{
	struct file *old;

	if (exe)
		vfs_file_get(exe);
	pthread_mutex_lock(&mm->lock);
	old = mm->exe_file;
	__atomic_store_n(&mm->exe_file, exe, __ATOMIC_RELEASE);
	mm->args = *a;
	pthread_mutex_unlock(&mm->lock);
	if (old)
		vfs_file_put(old);
}

struct file *mm_exe_file(struct mm *mm)
{
	/* No mm->lock: /proc/PID/exe is followed under vfs->lock, which
	 * nests inside mm->lock. exe_file is set by the loader before the
	 * mm is shared and stays while the caller's mm reference does. */
	struct file *f = __atomic_load_n(&mm->exe_file, __ATOMIC_ACQUIRE);

	if (f)
		vfs_file_get(f);
	return f;
}

void mm_get_args(struct mm *mm, struct mm_args *out)
{
	pthread_mutex_lock(&mm->lock);
	*out = mm->args;
	pthread_mutex_unlock(&mm->lock);
}

bool mm_is_empty(struct mm *mm)
{
	bool r;

	pthread_mutex_lock(&mm->lock);
	r = mm->nvmas == 0;
	pthread_mutex_unlock(&mm->lock);
	return r;
}

uint64_t mm_resident(struct mm *mm)
{
	uint64_t r;

	pthread_mutex_lock(&mm->lock);
	r = mm->pt.nr_present << PAGE_SHIFT;
	pthread_mutex_unlock(&mm->lock);
	return r;
}

int mm_dump_maps(struct mm *mm, char *buf, size_t size)
{
	char fname[4096 + 16];	/* a path and " (deleted)" */
	size_t pos = 0;

	if (!size)
		return 0;
	buf[0] = 0;
	pthread_mutex_lock(&mm->lock);
	for (size_t i = 0; i < mm->nvmas; i++) {
		const struct vma *v = mm->vmas[i];
		struct file *f = v->file ? v->file : v->obj ? v->obj->file : NULL;
		uint64_t off = v->file ? v->off :
			       v->obj ? v->obj->file_off + (v->pgoff << PAGE_SHIFT) : 0;
		unsigned int maj = 0, min = 0;
		unsigned long ino = 0;
		const char *name = "";
		struct stat st;
		int n;

		if (f && vfs_fstat(f, &st) == 0) {
			maj = major(st.st_dev);
			min = minor(st.st_dev);
			ino = (unsigned long)st.st_ino;
		}
		if (v->start <= mm->start_stack && mm->start_stack < v->end)
			name = "[stack]";
		else if (f && vfs_file_d_path(f, fname, sizeof(fname)) > 0)
			name = fname;
		else if (!f && v->start >= mm->brk_start &&
			 v->end <= PAGE_ALIGN_UP(mm->brk) && mm->brk_start)
			name = "[heap]";
		else if (!f && v->obj)
			name = "/dev/zero (deleted)";
		else if (v->flags & VMA_RESERVED)
			name = "[usertrap]";
		n = snprintf(buf + pos, size - pos,
			     "%08" PRIx64 "-%08" PRIx64 " %c%c%c%c %08" PRIx64
			     " %02x:%02x %lu%s%s\n",
			     v->start, v->end, v->prot & PROT_READ ? 'r' : '-',
			     v->prot & PROT_WRITE ? 'w' : '-',
			     v->prot & PROT_EXEC ? 'x' : '-',
			     (v->flags & MAP_SHARED) ? 's' : 'p', off, maj, min, ino,
			     name[0] ? "                          " : "", name);
		if (n < 0 || (size_t)n >= size - pos) {
			pos = size - 1;
			break;
		}
		pos += (size_t)n;
	}
	pthread_mutex_unlock(&mm->lock);
	return (int)pos;
}

/* ---- System V shared memory segments (sentry/ipc/shm.c) ----
 * A segment is a shared object of fixed size: the segment holds one
 * reference and every VMA mapping it one more, so refs - 1 is Linux's
 * shm_nattch (a VMA split by mprotect counts twice, as in Linux, and fork
 * adds the child's VMAs through vma_clone). */

int mm_shm_new(uint64_t npages, struct mobj **out)
{
	struct mobj *o = mobj_new(npages, NULL, 0);

	if (!o)
		return -ENOMEM;
	o->shm = true;
	*out = o;
	return 0;
}

void mm_shm_put(struct memfile *mf, struct mobj *o)
{
	mobj_put(mf, o);
}

int mm_shm_nattch(struct mobj *o)
{
	return __atomic_load_n(&o->refs, __ATOMIC_ACQUIRE) - 1;
}

uint64_t mm_shm_resident(struct mobj *o)
{
	uint64_t n = 0;

	pthread_mutex_lock(&o->lock);
	for (uint64_t i = 0; i < o->npages; i++)
		n += o->frames[i] != 0;
	pthread_mutex_unlock(&o->lock);
	return n;
}

int64_t mm_shm_attach(struct mm *mm, struct mobj *o, uint64_t addr, int prot,
		      int maxprot, enum mm_shm_place how)
{
	uint64_t len = o->npages << PAGE_SHIFT;
	struct vma *v;
	int64_t res;
	int err;

	pthread_mutex_lock(&mm->lock);
	if (how == MM_SHM_ANYWHERE) {
		res = get_unmapped_area(mm, 0, len, MAP_SHARED);
		if (res < 0)
			goto out;
		addr = (uint64_t)res;
	} else {
		/* do_shmat: a given address must not wrap or (without
		 * SHM_REMAP) overlap a mapping; then do_mmap's checks. */
		if (addr + len < addr ||
		    (how == MM_SHM_FIXED_FREE && range_used(mm, addr, addr + len))) {
			res = -EINVAL;
			goto out;
		}
		if (len > mm->user_max || addr > mm->user_max - len) {
			res = -ENOMEM;
			goto out;
		}
		if (addr < MM_MIN_ADDR) {
			res = -EPERM;
			goto out;
		}
	}
	err = vma_array_reserve(mm, 3);
	if (err) {
		res = err;
		goto out;
	}
	v = vma_new(addr, addr + len, prot, maxprot, MAP_SHARED);
	if (!v) {
		res = -ENOMEM;
		goto out;
	}
	v->obj = o;
	__atomic_add_fetch(&o->refs, 1, __ATOMIC_RELAXED);
	err = do_unmap(mm, addr, addr + len);
	if (err) {
		vma_free(mm, v);
		res = err;
		goto out;
	}
	vma_insert(mm, v);
	res = (int64_t)addr;
out:
	pthread_mutex_unlock(&mm->lock);
	return res;
}

/* Is v part of a segment attached at addr (ipc/shm.c ksys_shmdt)? */
static bool shm_vma_at(const struct vma *v, uint64_t addr, struct mobj *o)
{
	return v->obj && v->obj->shm && (!o || v->obj == o) &&
	       v->start >= addr &&
	       ((v->start - addr) >> PAGE_SHIFT) == v->pgoff;
}

int mm_shm_detach(struct mm *mm, uint64_t addr, struct mobj **which)
{
	struct mobj *o = NULL;
	uint64_t end = 0;
	size_t i;

	pthread_mutex_lock(&mm->lock);
	/* The first segment VMA at or after addr whose page offset matches
	 * addr as its attach address; then the rest of that attachment
	 * within the segment's size. */
	for (i = vma_lower(mm, addr); i < mm->nvmas; i++) {
		if (shm_vma_at(mm->vmas[i], addr, NULL)) {
			o = mm->vmas[i]->obj;
			end = addr + (o->npages << PAGE_SHIFT);
			break;
		}
	}
	if (!o) {
		pthread_mutex_unlock(&mm->lock);
		return -EINVAL;
	}
	*which = o;	/* an identity for the caller; not a reference */
	while (i < mm->nvmas && mm->vmas[i]->end <= end) {
		struct vma *v = mm->vmas[i];

		if (shm_vma_at(v, addr, o))
			/* Whole VMA: no split, cannot fail. */
			do_unmap(mm, v->start, v->end);
		else
			i++;
	}
	pthread_mutex_unlock(&mm->lock);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Workload memory.
 *
 * The memory file (struct memfile) is one memfd per sandbox. It holds every
 * page of workload memory; the sentry maps all of it once (memfile_ptr) and so
 * reads and writes workload memory directly. Frames (4 KiB units of the file)
 * are reference counted so fork() can share them copy-on-write.
 *
 * An address space (struct mm) owns the VMAs and a sentry-side page table
 * (virtual page -> frame, with permission bits). The platform address space is
 * kept in step with it through platform_ops.as_map/as_unmap/as_protect; the
 * platform never maps anything mm did not ask for. Pages are populated on
 * demand (mm_fault) both for workload faults and for sentry copies.
 *
 * Locking: struct mm has one mutex (mm->lock) taken by every function here;
 * memfile has its own allocator lock, taken inside mm->lock, never the other
 * way round. File pages are fetched with mm->lock held (vfs_pread,
 * vfs_file_get_page take inode->lock inside it); vfs/ never calls into mm.
 * References: an mm holds a reference on each file it maps and one frame
 * reference per present page (for a tmpfs MAP_SHARED page, besides the
 * file's own).
 */
#ifndef CVISOR_MM_H
#define CVISOR_MM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "cvisor/platform.h"

struct file;
struct memfile;
struct mm;

int memfile_new(uint64_t max_bytes, struct memfile **out);
void memfile_destroy(struct memfile *mf);
int memfile_fd(const struct memfile *mf);
/* Sentry pointer to byte `off` of the memory file. */
void *memfile_ptr(const struct memfile *mf, uint64_t off);
/* Allocate one zeroed frame; returns its file offset or -ENOMEM. */
int64_t memfile_alloc(struct memfile *mf);
void memfile_frame_get(struct memfile *mf, uint64_t off);
void memfile_frame_put(struct memfile *mf, uint64_t off);
/* Bytes of the memory file currently allocated (for RSS reporting). */
uint64_t memfile_used(const struct memfile *mf);
/* Reference count of an allocated frame (0 if free). */
uint32_t memfile_frame_refs(struct memfile *mf, uint64_t off);
/* Return every freed frame to the host now (FALLOC_FL_PUNCH_HOLE). */
void memfile_trim(struct memfile *mf);
/* Copy len bytes of host file fd from fd_off into the memory file at off
 * (zeroed frames the caller owns) inside the host kernel (splice), without
 * touching them through the sentry's mapping. Returns the bytes copied
 * (short at EOF: the rest stays zero) or -errno (the frames may then hold
 * part of the data); the file must support splice (regular files). */
ssize_t memfile_fill_fd(struct memfile *mf, uint64_t off, size_t len, int fd,
			uint64_t fd_off);

/* Create an empty address space backed by a new platform address space,
 * with one reference for the caller. */
int mm_new(struct memfile *mf, struct platform *p, struct mm **out);
/* References: every task using the mm holds one (threads with CLONE_VM and
 * a vfork child share their parent's mm: mm_get it). The last mm_put frees
 * the platform address space, the pages and the VMAs; the caller must have
 * released its platform contexts (ctx_release) on the mm's address space
 * before dropping the last reference. mm_destroy() is mm_put() (kept for
 * old callers). */
void mm_get(struct mm *mm);
void mm_put(struct mm *mm);
void mm_destroy(struct mm *mm);
struct platform_as *mm_platform_as(struct mm *mm);

/*
 * fork(2) without CLONE_VM (kernel/fork.c dup_mmap): a new mm (new platform
 * address space from the same platform, one reference for the caller) with
 * a copy of parent's VMAs, layout and break.
 *  - private mappings share their present pages copy-on-write: both page
 *    tables mark them PTE_COW, each holds a frame reference, and the
 *    parent's platform mappings of them become read-only (as_protect) before
 *    this returns. The first write in either (mm_fault, or a sentry copy
 *    into the page) copies the frame, or takes it over when the other side
 *    has already let go of it;
 *  - MAP_SHARED mappings (anonymous, tmpfs, gofer) keep the same frames;
 *  - MADV_DONTFORK ranges are left out of the child, MADV_WIPEONFORK ones
 *    are empty (zero-filled on touch) in the child.
 * The child has nothing mapped in its platform address space yet; its
 * faults map pages. Called on the parent's task thread (it drives the
 * parent's platform address space). Returns 0 or -ENOMEM; on failure the
 * parent is unchanged except that some pages stay marked COW (harmless:
 * their next write takes the frame over).
 */
int mm_fork(struct mm *parent, struct mm **child);

/* mmap(2) semantics (prot/flags as Linux; file may be NULL for anonymous).
 * Returns the address or -errno. Private file mappings are copied from the
 * file on demand (vfs_read_frames: a host-kernel copy from the file's host
 * fd, else vfs_pread). Shared mappings of a
 * mappable file (tmpfs, vfs_file_mappable) map the file's own frames, so
 * they are coherent with read()/write() and each other; shared mappings of
 * other files get a private copy per mmap() call. */
int64_t mm_mmap(struct mm *mm, uint64_t addr, uint64_t len, int prot,
		int flags, struct file *file, uint64_t off);
/* The same with the protections mprotect may later grant (Linux's VM_MAY*):
 * a MAP_SHARED mapping of a file opened read-only has maxprot without
 * PROT_WRITE, so mprotect(PROT_WRITE) gives EACCES. mm_mmap() passes RWX. */
int64_t mm_mmap_file(struct mm *mm, uint64_t addr, uint64_t len, int prot,
		     int flags, struct file *file, uint64_t off, int maxprot);
int mm_munmap(struct mm *mm, uint64_t addr, uint64_t len);
int mm_mprotect(struct mm *mm, uint64_t addr, uint64_t len, int prot);
int64_t mm_mremap(struct mm *mm, uint64_t old_addr, uint64_t old_len,
		  uint64_t new_len, int flags, uint64_t new_addr);
int mm_madvise(struct mm *mm, uint64_t addr, uint64_t len, int advice);
/* brk(2): returns the new (or unchanged) break. */
uint64_t mm_brk(struct mm *mm, uint64_t brk);
/* Set the initial break (just past the loaded image). */
void mm_set_brk_start(struct mm *mm, uint64_t start);

/* msync(2): flag and range checks (EINVAL, ENOMEM for an unmapped part).
 * Shared tmpfs mappings are the file's pages, so there is nothing to write
 * back; gofer shared mappings are not written back (gap). */
int mm_msync(struct mm *mm, uint64_t addr, uint64_t len, int flags);
/* mincore(2) core: fill vec[0..npages) with residency (1/0) of the pages
 * from addr (page aligned, the range already checked against user space by
 * the caller). Returns how many pages were filled before the first
 * unmapped one (< npages: the caller reports ENOMEM after copying those),
 * or -ENOMEM if addr itself is unmapped. */
long mm_mincore(struct mm *mm, uint64_t addr, uint64_t npages, uint8_t *vec);

/* Growsdown VMAs (MAP_GROWSDOWN, the main stack) grow on a fault below them
 * up to this total size (RLIMIT_STACK soft limit, bytes; RLIM_INFINITY for
 * none); 8 MiB by default. setrlimit/prlimit(RLIMIT_STACK) should call it. */
void mm_set_stack_rlimit(struct mm *mm, uint64_t bytes);

/* Handle a workload fault at addr. access is PROT_* or 0 when unknown.
 * 0: resolved (resume the workload), -EFAULT: deliver SIGSEGV (also used
 * when memory or the file read runs out, and for a page of a shared tmpfs
 * mapping wholly past EOF, where Linux would OOM-kill or raise SIGBUS).
 * Maps the page and the rest of its aligned block in the same VMA into the
 * platform (fault-around: 16 pages, up to 64 for anonymous memory touched
 * in order, 64 for private file mappings, 256 for executable ones). */
int mm_fault(struct mm *mm, uint64_t addr, int access);
/* File reads made to fill pages by this host thread, ever: a fault that
 * moved it was a major one (getrusage ru_majflt; procinfo.c). */
extern __thread uint64_t mm_file_fills;

/* Copies between sentry memory and workload memory. They check VMAs and
 * permissions (as the workload would see them) and fault pages in.
 * Return 0 or -EFAULT. */
int mm_copy_in(struct mm *mm, void *dst, uint64_t src, size_t len);
int mm_copy_out(struct mm *mm, uint64_t dst, const void *src, size_t len);
/* Copy a NUL-terminated string of at most max bytes including the NUL.
 * Returns its length, -EFAULT, or -ENAMETOOLONG if no NUL within max. */
ssize_t mm_strncpy_in(struct mm *mm, char *dst, uint64_t src, size_t max);
/* Zero workload memory. */
int mm_zero(struct mm *mm, uint64_t dst, size_t len);
/* Translate [addr, addr+len) into sentry iovecs (faulting pages in) for
 * direct host I/O. write=true means the workload memory will be written
 * (read(2) into it). Returns the number of iovecs used (<= max; the range
 * may be cut short, the caller loops), or -EFAULT if the first byte is bad. */
int mm_iovecs(struct mm *mm, uint64_t addr, size_t len, bool write,
	      struct iovec *iov, int max);

/*
 * Syscall patching (asked for by the platform through platform_mm_ops).
 * mm_text_reserve: map [addr, addr+len) (page aligned) as a private
 * anonymous read+exec region the workload cannot unmap, remap, mprotect,
 * madvise or map over (EPERM/EACCES/EINVAL); fork copies it like any
 * private mapping. 0 if created or already reserved there, -EEXIST if
 * something else is mapped there.
 * mm_text_poke: replace len (<= 16) bytes at addr, inside one page of a
 * private executable mapping, by new iff they equal old (-EAGAIN if not),
 * whatever the protection. Copy-on-write is broken first, so the change
 * never reaches another address space or a file. MM_POKE_ATOMIC: the bytes
 * must fit an aligned 8- or 16-byte window, written with one atomic
 * compare-and-exchange (-EINVAL if they don't fit).
 */
/* MM_POKE_PLAIN, MM_POKE_ATOMIC: include/cvisor/platform.h */
int mm_text_reserve(struct mm *mm, uint64_t addr, uint64_t len);
int mm_text_poke(struct mm *mm, uint64_t addr, const void *old,
		 const void *new, size_t len, int mode);

/* Layout: user_max is the platform's limit (page aligned); the initial
 * stack ends at mm_stack_top and mmap places mappings top-down from
 * mm_mmap_base, a gap below it (like Linux's mmap_base). */
uint64_t mm_user_max(struct mm *mm);
uint64_t mm_stack_top(struct mm *mm);
uint64_t mm_mmap_base(struct mm *mm);
/* Record the initial stack pointer ("[stack]" in maps). */
void mm_set_start_stack(struct mm *mm, uint64_t sp);
/* What execve records (Linux's mm->exe_file and mm->arg_start..env_end):
 * the executed file (the interpreter of a #! script; a reference is
 * taken, dropped with the mm; fork copies it) and the argv and envp string
 * ranges on the initial stack, for /proc/PID/{exe,cmdline,environ}. */
struct mm_args {
	uint64_t arg_start, arg_end, env_start, env_end; /* 0: not recorded */
};
void mm_set_exec(struct mm *mm, struct file *exe, const struct mm_args *a);
/* The executable with a new reference (vfs_file_put it), or NULL. Takes
 * no lock (mm_set_exec runs before the mm is shared). */
struct file *mm_exe_file(struct mm *mm);
void mm_get_args(struct mm *mm, struct mm_args *out);
bool mm_is_empty(struct mm *mm);
/* Resident bytes (pages present in this address space). */
uint64_t mm_resident(struct mm *mm);

/* Describe the mappings like /proc/self/maps (for debug and procfs). */
int mm_dump_maps(struct mm *mm, char *buf, size_t size);

/*
 * System V shared memory (sentry/ipc/shm.c). A segment's pages are a
 * shared object of fixed size (npages), like a MAP_SHARED anonymous
 * mapping's: the segment holds the reference mm_shm_new returns and each
 * VMA mapping it holds one more, so fork shares an attachment and exit,
 * exec and munmap drop it. mm_shm_nattch is the number of such VMAs
 * (Linux's shm_nattch). Lock order: the caller's shm lock -> mm->lock.
 */
struct mobj;
enum mm_shm_place {
	MM_SHM_ANYWHERE,	/* shmaddr NULL: pick an address */
	MM_SHM_FIXED_FREE,	/* at addr, -EINVAL if anything is there */
	MM_SHM_FIXED_REPLACE,	/* at addr, replacing mappings (SHM_REMAP) */
};
int mm_shm_new(uint64_t npages, struct mobj **out);
void mm_shm_put(struct memfile *mf, struct mobj *o);
int mm_shm_nattch(struct mobj *o);
/* Pages of the segment that have a frame (SHM_INFO shm_rss). */
uint64_t mm_shm_resident(struct mobj *o);
/* Map the whole object; returns the address or -errno. */
int64_t mm_shm_attach(struct mm *mm, struct mobj *o, uint64_t addr, int prot,
		      int maxprot, enum mm_shm_place how);
/* shmdt: unmap the attachment made at addr; *which is the object's
 * identity (no reference: compare it only). -EINVAL if none. */
int mm_shm_detach(struct mm *mm, uint64_t addr, struct mobj **which);

#endif

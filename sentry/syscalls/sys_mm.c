// SPDX-License-Identifier: GPL-2.0
/*
 * Memory system calls: brk, mmap, munmap, mprotect, mremap, madvise, msync,
 * mincore. The
 * work is in sentry/mm/mm.c; this file turns fds into files and applies
 * Linux's open-mode checks (mm/mmap.c do_mmap). MAP_SHARED of a tmpfs file
 * maps the file's own pages (coherent with read/write); the checks here are
 * what keeps a read-only open from writing them.
 *
 * Locks: none directly (mm functions take mm->lock). References: the file
 * from fdtable_get() is put before returning; the mapping takes its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "cvisor/util.h"
#include "cvisor/vfs.h"
/* For struct file: its F_GETFL flags give the open mode. */
struct inode;
#include "../../vfs/vfs_impl.h"

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif

static void file_putp(struct file **f)
{
	if (*f)
		vfs_file_put(*f);
}

SYSCALL_DEFINE(brk)
{
	return (long)mm_brk(t->mm, args->a[0]);
}

SYSCALL_DEFINE(mmap)
{
	uint64_t addr = args->a[0], len = args->a[1], off = args->a[5];
	int prot = (int)args->a[2], flags = (int)args->a[3];
	int maxprot = PROT_READ | PROT_WRITE | PROT_EXEC;
	_cleanup_(file_putp) struct file *f = NULL;
	int type = flags & MAP_TYPE;
	struct stat st;
	int acc;

	/* arch/x86/kernel/sys_x86_64.c: the offset must be page aligned. */
	if (off & ~PAGE_MASK)
		return -EINVAL;
	if (flags & MAP_ANONYMOUS)
		return mm_mmap(t->mm, addr, len, prot, flags, NULL, 0);

	/* The fd is an unsigned int for fget(). */
	f = fdtable_get(t->fdt, (int)(uint32_t)args->a[4]);
	/* ksys_mmap_pgoff uses fget(): O_PATH files are not there. */
	if (!f || (f->fmode & FMODE_PATH))
		return -EBADF;
	if (vfs_fstat(f, &st))
		return -ENODEV;
	if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
	    minor(st.st_rdev) == 5) {
		/* /dev/zero: private is anonymous memory, shared is shared
		 * anonymous memory (drivers/char/mem.c mmap_zero). */
		return mm_mmap(t->mm, addr, len, prot, flags | MAP_ANONYMOUS,
			       NULL, 0);
	}
	/* Only regular files can be mapped (others have no ->mmap). */
	if (!S_ISREG(st.st_mode))
		return -ENODEV;

	acc = (int)(f->flags & O_ACCMODE);
	/* do_mmap: a mapping must be readable from the file. */
	if (acc != O_RDONLY && acc != O_RDWR)
		return -EACCES;
	if (type == MAP_SHARED || type == MAP_SHARED_VALIDATE) {
		if ((prot & PROT_WRITE) && acc != O_RDWR)
			return -EACCES;
		/* Writes to an O_APPEND file through a mapping would
		 * bypass append-only semantics. */
		if ((prot & PROT_WRITE) && (f->flags & O_APPEND))
			return -EACCES;
		/* VM_MAYWRITE cleared: mprotect can't add write later. */
		if (acc != O_RDWR)
			maxprot &= ~PROT_WRITE;
	}
	return mm_mmap_file(t->mm, addr, len, prot, flags, f, off, maxprot);
}

SYSCALL_DEFINE(munmap)
{
	return mm_munmap(t->mm, args->a[0], args->a[1]);
}

SYSCALL_DEFINE(mprotect)
{
	return mm_mprotect(t->mm, args->a[0], args->a[1], (int)args->a[2]);
}

SYSCALL_DEFINE(mremap)
{
	return mm_mremap(t->mm, args->a[0], args->a[1], args->a[2],
			 (int)args->a[3], args->a[4]);
}

SYSCALL_DEFINE(madvise)
{
	return mm_madvise(t->mm, args->a[0], args->a[1], (int)args->a[2]);
}

SYSCALL_DEFINE(msync)
{
	return mm_msync(t->mm, args->a[0], args->a[1], (int)args->a[2]);
}

/* mm/mincore.c: EINVAL for an unaligned start, ENOMEM for a range outside
 * user space or with an unmapped page (the vector is written up to it),
 * EFAULT for a bad vector. */
SYSCALL_DEFINE(mincore)
{
	uint64_t start = args->a[0], len = args->a[1], vec = args->a[2];
	uint64_t max = mm_user_max(t->mm), pages;
	uint8_t buf[PAGE_SIZE];

	if (start & ~PAGE_MASK)
		return -EINVAL;
	if (start > max || len > max - start)
		return -ENOMEM;
	pages = (len >> PAGE_SHIFT) + ((len & ~PAGE_MASK) != 0);
	if (vec > max || pages > max - vec)
		return -EFAULT;
	while (pages) {
		uint64_t n = MIN(pages, sizeof(buf));
		long r = mm_mincore(t->mm, start, n, buf);

		if (r < 0)
			return r;
		if (mm_copy_out(t->mm, vec, buf, (size_t)r))
			return -EFAULT;
		if ((uint64_t)r < n)
			return -ENOMEM;
		pages -= n;
		vec += n;
		start += n << PAGE_SHIFT;
	}
	return 0;
}

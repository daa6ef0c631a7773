/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fake vfs for the loader's tests and fuzz target: a struct file over a
 * buffer (data, size), optionally with its first patch_len bytes replaced
 * by patch, counting references; not mappable, no host fd, so mm copies
 * the bytes with vfs_pread. Include after cvisor/vfs.h and util.h.
 */
#ifndef CVISOR_TESTS_FAKE_VFS_H
#define CVISOR_TESTS_FAKE_VFS_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct file {
	const uint8_t *data;
	size_t size;
	const uint8_t *patch;	/* replaces data[0, patch_len) */
	size_t patch_len;
	int refs;
};

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
	size_t done = 0;

	if (off >= f->size)
		return 0;
	len = MIN(len, f->size - off);
	if (off < f->patch_len) {
		done = MIN(len, f->patch_len - off);
		memcpy(buf, f->patch + off, done);
	}
	memcpy((char *)buf + done, f->data + off + done, len - done);
	return (ssize_t)len;
}

int vfs_fstat(struct file *f, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFREG | 0755;
	st->st_size = (off_t)f->size;
	return 0;
}

/* Not mappable (like gofer files): mm copies them. */
bool vfs_file_mappable(struct file *f UNUSED)
{
	return false;
}

int vfs_file_get_page(struct file *f UNUSED, uint64_t pgoff UNUSED,
		      unsigned int flags UNUSED, uint64_t *frame UNUSED)
{
	return -ENXIO;
}

int vfs_file_punch(struct file *f UNUSED, uint64_t off UNUSED,
		   uint64_t len UNUSED)
{
	return -ENXIO;
}

/* /proc/PID/maps names files with it; nothing to name here. */
int vfs_file_d_path(struct file *f UNUSED, char *buf UNUSED,
		    size_t size UNUSED)
{
	return -ENOENT;
}

/* No host fd behind these files: mm reads them with vfs_pread. */
ssize_t vfs_read_frames(struct file *f UNUSED, struct memfile *m UNUSED,
			uint64_t mfoff UNUSED, size_t len UNUSED,
			uint64_t off UNUSED)
{
	return -EOPNOTSUPP;
}

#endif

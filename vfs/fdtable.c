// SPDX-License-Identifier: GPL-2.0
/*
 * File descriptor tables (fs/file.c): fd -> open file description, with a
 * close-on-exec bit per fd.
 *
 * Locks: fdtable->lock guards the arrays. It is a leaf: files are put
 * (which may run release code) only after it is dropped.
 *
 * References: each installed fd holds one file reference; fdtable_get()
 * returns a new reference the caller must put.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "vfs_impl.h"

/* A file leaves fd table fdt: close(2) semantics, so the table's POSIX
 * record locks on it go too (locks_remove_posix()). */
static void fd_drop(struct fdtable *fdt, struct file *f)
{
	if (f->has_locks)
		vfs_locks_close_posix(f, fdt);
	vfs_file_put(f);
}

int fdtable_new(struct fdtable **out)
{
	struct fdtable *fdt = calloc(1, sizeof(*fdt));

	if (!fdt)
		return -ENOMEM;
	atomic_init(&fdt->refs, 1);
	pthread_mutex_init(&fdt->lock, NULL);
	*out = fdt;
	return 0;
}

void fdtable_get_ref(struct fdtable *fdt)
{
	atomic_fetch_add(&fdt->refs, 1);
}

void fdtable_put(struct fdtable *fdt)
{
	if (!fdt || atomic_fetch_sub(&fdt->refs, 1) != 1)
		return;
	for (int i = 0; i < fdt->size; i++)
		if (fdt->files[i])
			fd_drop(fdt, fdt->files[i]);
	free(fdt->files);
	free(fdt->cloexec);
	pthread_mutex_destroy(&fdt->lock);
	free(fdt);
}

/* Make room for fd (lock held). */
static int expand(struct fdtable *fdt, int fd)
{
	int nsize = fdt->size ? fdt->size : 64;
	struct file **nf;
	uint8_t *nc;

	if (fd < fdt->size)
		return 0;
	if (fd >= VFS_NR_OPEN)
		return -EMFILE;
	while (nsize <= fd)
		nsize *= 2;
	nf = realloc(fdt->files, nsize * sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	fdt->files = nf;
	nc = realloc(fdt->cloexec, nsize);
	if (!nc)
		return -ENOMEM;
	fdt->cloexec = nc;
	memset(nf + fdt->size, 0, (nsize - fdt->size) * sizeof(*nf));
	memset(nc + fdt->size, 0, nsize - fdt->size);
	fdt->size = nsize;
	return 0;
}

int fdtable_alloc(struct fdtable *fdt, struct file *f, int minfd,
		  bool cloexec, int limit)
{
	int fd, r;

	if (minfd < 0)
		return -EINVAL;
	pthread_mutex_lock(&fdt->lock);
	for (fd = minfd; fd < fdt->size && fdt->files[fd]; fd++)
		;
	if (fd >= limit) {
		r = -EMFILE;
		goto out;
	}
	r = expand(fdt, fd);
	if (r < 0)
		goto out;
	vfs_file_get(f);
	fdt->files[fd] = f;
	fdt->cloexec[fd] = cloexec;
	r = fd;
out:
	pthread_mutex_unlock(&fdt->lock);
	return r;
}

int fdtable_install(struct fdtable *fdt, struct file *f, int minfd,
		    bool cloexec)
{
	return fdtable_alloc(fdt, f, minfd, cloexec, VFS_NR_OPEN);
}

int fdtable_install_host(struct fdtable *fdt, int fd, int hostfd)
{
	struct file *f;
	int nfd, r;

	nfd = fcntl(hostfd, F_DUPFD_CLOEXEC, 3);
	if (nfd < 0)
		return -errno;
	r = hostfd_file_new(nfd, &f);
	if (r < 0) {
		close(nfd);
		return r;
	}
	r = fdtable_replace(fdt, fd, f, false);
	vfs_file_put(f);
	return r < 0 ? r : 0;
}

struct file *fdtable_get(struct fdtable *fdt, int fd)
{
	struct file *f = NULL;

	pthread_mutex_lock(&fdt->lock);
	if (fd >= 0 && fd < fdt->size && fdt->files[fd]) {
		f = fdt->files[fd];
		vfs_file_get(f);
	}
	pthread_mutex_unlock(&fdt->lock);
	return f;
}

/* dup2/dup3: install at exactly fd, closing what was there (do_dup2()). */
int fdtable_replace(struct fdtable *fdt, int fd, struct file *f,
		    bool cloexec)
{
	struct file *old = NULL;
	int r;

	if (fd < 0)
		return -EBADF;
	pthread_mutex_lock(&fdt->lock);
	r = expand(fdt, fd);
	if (r == 0) {
		old = fdt->files[fd];
		vfs_file_get(f);
		fdt->files[fd] = f;
		fdt->cloexec[fd] = cloexec;
		r = fd;
	}
	pthread_mutex_unlock(&fdt->lock);
	if (old)
		fd_drop(fdt, old);
	return r;
}

int fdtable_close(struct fdtable *fdt, int fd)
{
	struct file *f = NULL;

	pthread_mutex_lock(&fdt->lock);
	if (fd >= 0 && fd < fdt->size) {
		f = fdt->files[fd];
		fdt->files[fd] = NULL;
		fdt->cloexec[fd] = 0;
	}
	pthread_mutex_unlock(&fdt->lock);
	if (!f)
		return -EBADF;
	fd_drop(fdt, f);
	return 0;
}

int fdtable_close_range(struct fdtable *fdt, unsigned int first,
			unsigned int last, bool cloexec_only)
{
	for (;;) {
		struct file *f = NULL;
		unsigned int fd;

		pthread_mutex_lock(&fdt->lock);
		for (fd = first; fd <= last && fd < (unsigned int)fdt->size;
		     fd++) {
			if (!fdt->files[fd])
				continue;
			if (cloexec_only) {
				fdt->cloexec[fd] = 1;
				continue;
			}
			f = fdt->files[fd];
			fdt->files[fd] = NULL;
			fdt->cloexec[fd] = 0;
			break;
		}
		pthread_mutex_unlock(&fdt->lock);
		if (!f)
			return 0;
		/* Put outside the lock, then continue after this fd. */
		fd_drop(fdt, f);
		if (fd == last)
			return 0;
		first = fd + 1;
	}
}

int fdtable_get_cloexec(struct fdtable *fdt, int fd)
{
	int r = -EBADF;

	pthread_mutex_lock(&fdt->lock);
	if (fd >= 0 && fd < fdt->size && fdt->files[fd])
		r = fdt->cloexec[fd];
	pthread_mutex_unlock(&fdt->lock);
	return r;
}

int fdtable_set_cloexec(struct fdtable *fdt, int fd, bool cloexec)
{
	int r = -EBADF;

	pthread_mutex_lock(&fdt->lock);
	if (fd >= 0 && fd < fdt->size && fdt->files[fd]) {
		fdt->cloexec[fd] = cloexec;
		r = 0;
	}
	pthread_mutex_unlock(&fdt->lock);
	return r;
}

void fdtable_close_on_exec(struct fdtable *fdt)
{
	for (int fd = 0;; fd++) {
		struct file *f = NULL;

		pthread_mutex_lock(&fdt->lock);
		for (; fd < fdt->size; fd++) {
			if (fdt->files[fd] && fdt->cloexec[fd]) {
				f = fdt->files[fd];
				fdt->files[fd] = NULL;
				fdt->cloexec[fd] = 0;
				break;
			}
		}
		pthread_mutex_unlock(&fdt->lock);
		if (!f)
			return;
		fd_drop(fdt, f);
	}
}

int fdtable_copy(struct fdtable *src, struct fdtable **out)
{
	struct fdtable *fdt;
	int r = fdtable_new(&fdt);

	if (r < 0)
		return r;
	pthread_mutex_lock(&src->lock);
	if (src->size)
		r = expand(fdt, src->size - 1);
	for (int i = 0; r == 0 && i < src->size; i++) {
		fdt->files[i] = src->files[i];
		fdt->cloexec[i] = src->cloexec[i];
		if (fdt->files[i])
			vfs_file_get(fdt->files[i]);
	}
	pthread_mutex_unlock(&src->lock);
	if (r < 0) {
		fdtable_put(fdt);
		return r;
	}
	*out = fdt;
	return 0;
}

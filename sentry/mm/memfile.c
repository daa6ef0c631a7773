// SPDX-License-Identifier: GPL-2.0
/*
 * The memory file: one sparse memfd holding every page of workload memory.
 *
 * Locks: mf->lock (a leaf lock; callers may hold mm->lock, never the other
 * way round) protects the frame allocator: refcounts, the free ring, the bump
 * pointer and the counters, and the pool of idle splice pipes.
 *
 * References: a frame's refcount is the number of owners (page-table entries,
 * shared-memory objects). memfile_alloc() returns a frame with one reference;
 * the last memfile_frame_put() puts it on the free ring.
 *
 * Allocation: frames are handed out first from the free ring (FIFO, so a run
 * of frames freed together comes back in the same ascending order and stays
 * contiguous, which lets mm map it with one platform as_map), then by bumping
 * the high-water mark of the file. A freed frame is "dirty" (its old contents
 * are still there) until it is either zeroed on reuse or, once enough dirty
 * frames pile up, returned to the host with FALLOC_FL_PUNCH_HOLE (after which
 * reading it yields zeroes, so reuse needs no memset).
 *
 * Filling frames from a host file (memfile_fill_fd) copies inside the host
 * kernel: splice(file -> pipe -> memfd at the frame's offset). A copy
 * through the sentry's mapping (pread into memfile_ptr()) costs a host page
 * fault per fresh frame on top of the copy, and on a VM with shadow paging
 * that fault is the dearest part (~8 us a page here against ~0.7 us for the
 * splice); the sentry never needs to see a file page it only maps for the
 * workload. Pipes come from a small pool (mf->lock) so concurrent faults in
 * several threads do not share one.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cvisor/log.h"
#include "cvisor/mm.h"
#include "cvisor/util.h"

/* Refcount word of a free frame: 0 = clean (hole or never used), DIRTY =
 * freed with old contents. Allocated frames have 1..REF_MAX. */
#define FRAME_DIRTY 0x80000000u
#define FRAME_REF_MAX 0x7fffffffu
/* Punch holes once this many dirty frames (64 MiB) wait on the ring. */
#define DIRTY_TRIM_THRESHOLD 16384u
/* Idle splice pipes kept for memfile_fill_fd, and the size asked for each
 * (one fault-around block of a file mapping per splice pair). */
#define FILL_PIPES 4
#define FILL_PIPE_BYTES (256u << 10)

struct memfile {
	int fd;
	uint8_t *base;		/* whole file mapped into the sentry */
	uint64_t nframes;
	pthread_mutex_t lock;
	uint32_t *ref;		/* per-frame refcount (lazily zeroed mmap) */
	uint32_t *ring;		/* free frames, FIFO, capacity nframes */
	uint64_t ring_head, ring_len;
	uint64_t bump;		/* frames [bump, nframes) were never used */
	uint64_t used;		/* frames with refcount > 0 */
	uint64_t dirty;		/* dirty frames on the ring */
	int pipes[FILL_PIPES][2];	/* idle splice pipes (empty) */
	int npipes;
};

static void *anon_array(uint64_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int memfile_new(uint64_t max_bytes, struct memfile **out)
{
	struct memfile *mf;
	uint64_t nframes = max_bytes >> PAGE_SHIFT;
	int err;

	/* Frame indices are stored in 32 bits (16 TiB is plenty). */
	if (!nframes || nframes > UINT32_MAX)
		return -EINVAL;
	mf = calloc(1, sizeof(*mf));
	if (!mf)
		return -ENOMEM;
	mf->fd = -1;
	mf->base = MAP_FAILED;
	mf->nframes = nframes;
	pthread_mutex_init(&mf->lock, NULL);

	mf->fd = memfd_create("cvisor-memory", MFD_CLOEXEC);
	if (mf->fd < 0)
		goto fail_errno;
	/* Sparse: blocks are only allocated when a page is first written. */
	if (ftruncate(mf->fd, (off_t)(nframes << PAGE_SHIFT)) < 0)
		goto fail_errno;
	mf->base = mmap(NULL, nframes << PAGE_SHIFT, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_NORESERVE, mf->fd, 0);
	if (mf->base == MAP_FAILED)
		goto fail_errno;
	mf->ref = anon_array(nframes * sizeof(uint32_t));
	mf->ring = anon_array(nframes * sizeof(uint32_t));
	if (!mf->ref || !mf->ring) {
		memfile_destroy(mf);
		return -ENOMEM;
	}
	*out = mf;
	return 0;

fail_errno:
	err = -errno;
	memfile_destroy(mf);
	return err;
}

void memfile_destroy(struct memfile *mf)
{
	if (!mf)
		return;
	if (mf->ref)
		munmap(mf->ref, mf->nframes * sizeof(uint32_t));
	if (mf->ring)
		munmap(mf->ring, mf->nframes * sizeof(uint32_t));
	if (mf->base != MAP_FAILED)
		munmap(mf->base, mf->nframes << PAGE_SHIFT);
	if (mf->fd >= 0)
		close(mf->fd);
	for (int i = 0; i < mf->npipes; i++) {
		close(mf->pipes[i][0]);
		close(mf->pipes[i][1]);
	}
	pthread_mutex_destroy(&mf->lock);
	free(mf);
}

int memfile_fd(const struct memfile *mf)
{
	return mf->fd;
}

void *memfile_ptr(const struct memfile *mf, uint64_t off)
{
	return mf->base + off;
}

/* Return all dirty frames on the ring to the host. Called with mf->lock.
 * Runs of consecutive frames (the common case: a munmap frees ranges in
 * order) cost one fallocate each. */
static void trim_locked(struct memfile *mf)
{
	uint64_t run_start = 0, run_len = 0;

	for (uint64_t i = 0; i < mf->ring_len; i++) {
		uint32_t fr = mf->ring[(mf->ring_head + i) % mf->nframes];

		if (mf->ref[fr] != FRAME_DIRTY)
			continue;
		mf->ref[fr] = 0;
		if (run_len && fr == run_start + run_len) {
			run_len++;
			continue;
		}
		if (run_len)
			fallocate(mf->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  (off_t)(run_start << PAGE_SHIFT),
				  (off_t)(run_len << PAGE_SHIFT));
		run_start = fr;
		run_len = 1;
	}
	if (run_len)
		fallocate(mf->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  (off_t)(run_start << PAGE_SHIFT),
			  (off_t)(run_len << PAGE_SHIFT));
	mf->dirty = 0;
}

/* Give every freed frame back to the host now (e.g. under memory pressure
 * or before checkpointing). */
void memfile_trim(struct memfile *mf)
{
	pthread_mutex_lock(&mf->lock);
	trim_locked(mf);
	pthread_mutex_unlock(&mf->lock);
}

int64_t memfile_alloc(struct memfile *mf)
{
	uint64_t fr;
	bool zero = false;

	pthread_mutex_lock(&mf->lock);
	if (mf->ring_len) {
		fr = mf->ring[mf->ring_head];
		mf->ring_head = (mf->ring_head + 1) % mf->nframes;
		mf->ring_len--;
		if (mf->ref[fr] == FRAME_DIRTY) {
			zero = true;
			mf->dirty--;
		}
	} else if (mf->bump < mf->nframes) {
		fr = mf->bump++;
	} else {
		pthread_mutex_unlock(&mf->lock);
		return -ENOMEM;
	}
	mf->ref[fr] = 1;
	mf->used++;
	pthread_mutex_unlock(&mf->lock);

	/* The frame is ours alone now, so zero it outside the lock. */
	if (zero)
		memset(mf->base + (fr << PAGE_SHIFT), 0, PAGE_SIZE);
	return (int64_t)(fr << PAGE_SHIFT);
}

void memfile_frame_get(struct memfile *mf, uint64_t off)
{
	uint64_t fr = off >> PAGE_SHIFT;

	pthread_mutex_lock(&mf->lock);
	if (fr < mf->nframes && mf->ref[fr] && mf->ref[fr] < FRAME_REF_MAX)
		mf->ref[fr]++;
	else
		log_err("memfile: get of bad frame %#llx (ref %#x)",
			(unsigned long long)off,
			fr < mf->nframes ? mf->ref[fr] : 0);
	pthread_mutex_unlock(&mf->lock);
}

void memfile_frame_put(struct memfile *mf, uint64_t off)
{
	uint64_t fr = off >> PAGE_SHIFT;

	pthread_mutex_lock(&mf->lock);
	if (fr >= mf->nframes || !mf->ref[fr] || mf->ref[fr] > FRAME_REF_MAX) {
		log_err("memfile: put of free frame %#llx",
			(unsigned long long)off);
	} else if (--mf->ref[fr] == 0) {
		mf->ref[fr] = FRAME_DIRTY;
		mf->ring[(mf->ring_head + mf->ring_len) % mf->nframes] =
			(uint32_t)fr;
		mf->ring_len++;
		mf->used--;
		if (++mf->dirty >= DIRTY_TRIM_THRESHOLD)
			trim_locked(mf);
	}
	pthread_mutex_unlock(&mf->lock);
}

/* Reference count of a frame (tests, and copy-on-write decisions later). */
uint32_t memfile_frame_refs(struct memfile *mf, uint64_t off)
{
	uint64_t fr = off >> PAGE_SHIFT;
	uint32_t r;

	pthread_mutex_lock(&mf->lock);
	r = fr < mf->nframes && mf->ref[fr] <= FRAME_REF_MAX ? mf->ref[fr] : 0;
	pthread_mutex_unlock(&mf->lock);
	return r;
}

uint64_t memfile_used(const struct memfile *mf)
{
	/* A racy read is fine for RSS reporting. */
	return __atomic_load_n(&mf->used, __ATOMIC_RELAXED) << PAGE_SHIFT;
}

/* An empty pipe for memfile_fill_fd, from the pool or new. */
static int fill_pipe_get(struct memfile *mf, int p[2])
{
	pthread_mutex_lock(&mf->lock);
	if (mf->npipes) {
		mf->npipes--;
		p[0] = mf->pipes[mf->npipes][0];
		p[1] = mf->pipes[mf->npipes][1];
		pthread_mutex_unlock(&mf->lock);
		return 0;
	}
	pthread_mutex_unlock(&mf->lock);
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	/* Best effort: the default 64 KiB only means more splice calls. */
	(void)fcntl(p[1], F_SETPIPE_SZ, FILL_PIPE_BYTES);
	return 0;
}

/* Give an empty pipe back (a pipe that may hold data is closed). */
static void fill_pipe_put(struct memfile *mf, int p[2], bool empty)
{
	if (empty) {
		pthread_mutex_lock(&mf->lock);
		if (mf->npipes < FILL_PIPES) {
			mf->pipes[mf->npipes][0] = p[0];
			mf->pipes[mf->npipes][1] = p[1];
			mf->npipes++;
			pthread_mutex_unlock(&mf->lock);
			return;
		}
		pthread_mutex_unlock(&mf->lock);
	}
	close(p[0]);
	close(p[1]);
}

ssize_t memfile_fill_fd(struct memfile *mf, uint64_t off, size_t len, int fd,
			uint64_t fd_off)
{
	size_t done = 0;
	bool empty = true;
	int p[2], err = 0;

	if (off >= mf->nframes << PAGE_SHIFT ||
	    len > (mf->nframes << PAGE_SHIFT) - off ||
	    fd_off > (uint64_t)LLONG_MAX || len > (size_t)SSIZE_MAX)
		return -EINVAL;
	err = fill_pipe_get(mf, p);
	if (err)
		return err;
	while (done < len) {
		loff_t in = (loff_t)(fd_off + done);
		ssize_t n = splice(fd, &in, p[1], NULL, len - done,
				   SPLICE_F_NONBLOCK);
		size_t moved = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (n == 0)
			break; /* EOF: the frames stay zero from here */
		empty = false;
		while (moved < (size_t)n) {
			loff_t out = (loff_t)(off + done + moved);
			ssize_t m = splice(p[0], NULL, mf->fd, &out,
					   (size_t)n - moved, 0);

			if (m < 0 && errno == EINTR)
				continue;
			if (m <= 0) {
				err = m < 0 ? -errno : -EIO;
				break;
			}
			moved += (size_t)m;
		}
		if (err)
			break;
		empty = true;
		done += (size_t)n;
	}
	fill_pipe_put(mf, p, empty);
	return err ? err : (ssize_t)done;
}

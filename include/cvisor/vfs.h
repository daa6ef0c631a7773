/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sentry's virtual file system, as the rest of the sentry sees it.
 * Internals (dentries, mounts, filesystem ops) live in vfs/vfs_impl.h.
 *
 * References: vfs_file_get/put count open file descriptions; an fd table
 * holds one reference per installed fd. fs_struct (root, cwd, umask) and
 * fdtable are reference counted so threads can share them later.
 *
 * Mappable files: tmpfs regular files keep their data in frames of the
 * sandbox memory file (struct memfile), so MAP_SHARED mappings map those very
 * frames and stay coherent with read()/write() (gVisor's tmpfs does the
 * same). vfs_file_get_page() hands mm a frame with a reference of its own.
 * Lock order: mm->lock -> inode->lock -> memfile lock; vfs/ never calls
 * into mm.
 */
#ifndef CVISOR_VFS_H
#define CVISOR_VFS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

struct file;
struct fdtable;
struct memfile;
struct fs_struct;
struct task;
struct vfs;

/* One mount made at sandbox start (--volume, --mount, config.json
 * mounts[]), vfs/mount.c. */
struct vfs_mount_spec {
	const char *type;	/* "bind" (a gofer root), "tmpfs", "proc",
				   "sysfs", "devpts", "mqueue", "cgroup" */
	const char *source;	/* host path (bind) or source name shown in
				   mountinfo; NULL: the type */
	const char *dst;	/* absolute path in the sandbox */
	int gofer_sock;		/* bind: connected to its gofer server
				   (vfs_new takes it), else -1 */
	bool readonly, nosuid, nodev, noexec;
	int64_t size;		/* tmpfs: bytes, 0 = default */
	mode_t mode;		/* tmpfs: root mode, 0 = 01777 */
};

struct vfs_config {
	int gofer_sock;		/* connected to the gofer serving "/" */
	bool root_readonly;	/* the gofer serves the root read-only */
	/* runsc --overlay2=root:memory, the default: / is an overlay of the
	 * (read-only) gofer root and a tmpfs upper layer in the sentry, so
	 * the workload can write anywhere and the host never changes.
	 * false (--overlay2=none): / is the bare gofer root (read-only when
	 * root_readonly). The sandbox sets it from its config. */
	bool root_overlay;
	/* Memory file holding tmpfs data (the kernel's, shared with mm).
	 * NULL: the vfs makes a private one (unit tests). Must outlive the
	 * vfs. */
	struct memfile *mf;
	/* Extra mounts, in order (parents first); vfs_new takes every
	 * gofer_sock in them, also on failure. */
	const struct vfs_mount_spec *mounts;
	int nmounts;
};

/* Build the mount tree: gofer root (or the overlay over it) at /, tmpfs
 * at /tmp, devfs at /dev.
 * Takes ownership of gofer_sock. */
int vfs_new(const struct vfs_config *cfg, struct vfs **out);
void vfs_destroy(struct vfs *vfs);

/* Root and cwd at "/"; umask 022. */
int fs_struct_new(struct vfs *vfs, struct fs_struct **out);
void fs_struct_put(struct fs_struct *fs);
/* chdir to an absolute sandbox path (used for --cwd). */
int fs_struct_chdir(struct fs_struct *fs, const char *path);

int fdtable_new(struct fdtable **out);
void fdtable_put(struct fdtable *fdt);
/* Install host fd `hostfd` (dup'ed) as workload fd `fd` (stdio). */
int fdtable_install_host(struct fdtable *fdt, int fd, int hostfd);
/* Install file at the lowest free fd >= minfd. Takes a new reference.
 * Returns the fd or -EMFILE. */
int fdtable_install(struct fdtable *fdt, struct file *f, int minfd,
		    bool cloexec);
/* Get a referenced file for fd, or NULL (EBADF). */
struct file *fdtable_get(struct fdtable *fdt, int fd);

void vfs_file_get(struct file *f);
void vfs_file_put(struct file *f);
ssize_t vfs_pread(struct file *f, void *buf, size_t len, uint64_t off);
/* Read len bytes at off into frames [mfoff, mfoff+len) of the memory file
 * (zeroed, owned by the caller) without the sentry touching them (see
 * memfile_fill_fd). Returns bytes read (short at EOF) or -errno;
 * -EOPNOTSUPP when the file cannot (the caller uses vfs_pread). Called
 * with mm->lock held, like vfs_pread. */
ssize_t vfs_read_frames(struct file *f, struct memfile *mf, uint64_t mfoff,
			size_t len, uint64_t off);
/* Read into iovecs that lie in mf's mapping (workload memory) at *off, the
 * file's data copied by the host kernel straight into the memory file
 * (read_frames), so the sentry's mapping never first-touches those pages.
 * -EOPNOTSUPP when the file cannot (then nothing was read). */
ssize_t vfs_read_iov_frames(struct file *f, struct memfile *mf,
			    const struct iovec *iov, int cnt, int64_t *off);
int vfs_fstat(struct file *f, struct stat *st);
/* f's path from the sandbox root, with " (deleted)" once unlinked, as
 * /proc/PID/maps names it (d_path()); -ENOENT for files with no path. */
int vfs_file_d_path(struct file *f, char *buf, size_t size);

/* Flags for vfs_file_get_page(). */
#define VFS_PAGE_WRITE 0x1	/* the page is going to be written */
#define VFS_PAGE_NOALLOC 0x2	/* a hole gives -ENOENT instead of a new frame */

/* Can f's pages be mapped directly (MAP_SHARED coherent with read/write)? */
bool vfs_file_mappable(struct file *f);
/* The memory-file offset of the frame holding page pgoff of f, with a
 * reference taken for the caller (memfile_frame_put it). A hole below EOF
 * gets a fresh zeroed frame (as Linux's shmem_fault allocates one for a
 * shared mapping) unless VFS_PAGE_NOALLOC. Errors: -ENXIO the file is not
 * mappable this way (gofer files, devices); -EFAULT the page lies wholly
 * beyond EOF (SIGBUS in Linux); -ENOENT a hole with VFS_PAGE_NOALLOC;
 * -ENOSPC/-ENOMEM out of tmpfs space or memory. Takes inode->lock (and the
 * memfile lock inside it): may be called with mm->lock held. */
int vfs_file_get_page(struct file *f, uint64_t pgoff, unsigned int flags,
		      uint64_t *frame);
/* fallocate(PUNCH_HOLE | KEEP_SIZE) on a mappable file, for MADV_REMOVE:
 * the range reads as zero and its whole pages are freed (mappings that
 * still hold a freed frame keep it: see the truncate gap in tmpfs.c).
 * -ENXIO if the file is not mappable. Same locking as vfs_file_get_page. */
int vfs_file_punch(struct file *f, uint64_t off, uint64_t len);

/* Open an executable for execve/the loader: path resolved relative to the
 * task's cwd and root; regular file with an exec bit, else -EACCES. */
int vfs_open_exec(struct task *t, const char *path, struct file **out);

/* Find `name` (no '/') in the colon-separated search path like execvp(3).
 * Writes the absolute sandbox path into out. */
int vfs_find_in_path(struct task *t, const char *name, const char *pathvar,
		     char *out, size_t outlen);

#endif

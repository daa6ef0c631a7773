/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VFS internals shared by vfs/, vfs/fs/ and the file system calls in
 * sentry/syscalls/sys_{file,fs,stat}.c.
 *
 * Object lifetimes (this revision):
 *  - mounts, dentries and inodes belong to the struct vfs and live until
 *    vfs_destroy(): nothing is evicted and nothing is unlinked yet, so a
 *    struct path held by a file or an fs_struct needs no reference count.
 *    Negative dentries (gofer lookups that failed) are bounded in number.
 *  - struct file is reference counted (vfs_file_get/put); an fdtable holds
 *    one reference per installed fd; every fdtable_get() returns a new one.
 *  - fdtable and fs_struct are reference counted for sharing between threads.
 *
 * Lock order (outermost first):
 *    fdtable->lock | fs_struct->lock     (short, never held while walking)
 *    file->pos_lock                      (one read/write/lseek/getdents call)
 *    vfs->lock                           (dentry tree, mounts, path walks,
 *                                         creation; gofer walks happen here)
 *    inode->lock                         (attributes, tmpfs data, gofer
 *                                         directory listing and link cache)
 *    memfile lock                        (frame allocator; tmpfs pages)
 *
 * mm->lock (sentry/mm) sits outside inode->lock: mm reads files with
 * vfs_pread() and gets tmpfs pages with vfs_file_get_page() while holding
 * it. Nothing here calls into mm: read/write get sentry iovecs that the
 * syscall layer resolved beforehand (mm_iovecs), so no workload fault is
 * ever taken under inode->lock.
 *    gofer_client->lock                  (one request/reply on the socket)
 */
#ifndef CVISOR_VFS_IMPL_H
#define CVISOR_VFS_IMPL_H

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include "cvisor/util.h"
#include "cvisor/vfs.h"

struct cred;
struct task;
struct inode;
struct file;
struct dentry;
struct mount;

#define VFS_MAXSYMLINKS 40	/* fs/namei.c: MAXSYMLINKS */
#define VFS_PATH_MAX 4096	/* PATH_MAX, including the NUL */
#define VFS_NAME_MAX 255	/* NAME_MAX */
#define VFS_MAX_RW_COUNT 0x7ffff000L /* include/linux/fs.h: MAX_RW_COUNT */
#define VFS_NR_OPEN (1 << 20)	/* fs/file.c: sysctl_nr_open default */
#define VFS_MAX_NEGATIVE 65536	/* cached failed gofer lookups */

/* may_* masks, as MAY_EXEC/MAY_WRITE/MAY_READ in include/linux/fs.h. */
#define MAY_EXEC 1
#define MAY_WRITE 2
#define MAY_READ 4

/* file->fmode */
#define FMODE_READ 0x1
#define FMODE_WRITE 0x2
#define FMODE_PATH 0x4	 /* O_PATH: no I/O */
#define FMODE_STREAM 0x8 /* the file keeps its own position (host fds) */
#define FMODE_PREAD 0x10 /* pread/pwrite allowed (else ESPIPE) */

enum fs_kind { FS_GOFER, FS_TMPFS, FS_DEVFS, FS_HOST };

struct super_block {
	struct vfs *vfs;
	enum fs_kind kind;
	const char *name;
	dev_t dev;
	bool readonly;
	_Atomic uint64_t next_ino;
	_Atomic int64_t bytes_used; /* tmpfs data accounting */
	int64_t bytes_max;
	void *priv;		/* goferfs: struct gofer_client */
	void (*destroy)(struct super_block *sb);
	void (*inode_free)(struct inode *ino);
	struct list_head link;	/* vfs->sbs */
};

struct inode_ops {
	/* Find `name` in directory `dir`; -ENOENT when absent. vfs->lock
	 * held. NULL: the dentry tree is complete (tmpfs, devfs). */
	int (*lookup)(struct inode *dir, const char *name, size_t len,
		      struct inode **out);
	/* Create a regular file; vfs->lock held. NULL: -EACCES. */
	int (*create)(struct inode *dir, mode_t mode, const struct cred *cred,
		      struct inode **out);
	/* Copy the symlink target (not NUL-terminated); returns its length. */
	int (*readlink)(struct inode *ino, char *buf, size_t len);
	/* Attach the fs's state to a new open file (sets f->ops etc.). */
	int (*open)(struct inode *ino, struct file *f);
	int (*truncate)(struct inode *ino, int64_t size);
};

struct inode {
	struct super_block *sb;
	const struct inode_ops *iops;
	const struct file_ops *fops; /* devfs devices: the driver */
	pthread_mutex_t lock;
	uint64_t ino;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	nlink_t nlink;
	dev_t rdev;
	int64_t size;
	int64_t blocks;
	struct timespec atime, mtime, ctime;
	void *priv;
};

struct dentry {
	char *name;
	size_t namelen;
	struct dentry *parent;	/* NULL for the root of a file system */
	struct inode *inode;	/* NULL: negative (cached ENOENT) */
	struct list_head children;
	struct list_head sibling;
	uint64_t cookie;	/* getdents position in the parent */
	uint64_t next_cookie;	/* for new children */
	struct mount *mounted;	/* mount stacked on this dentry */
};

struct mount {
	struct mount *parent;
	struct dentry *mountpoint; /* in parent */
	struct dentry *root;
	struct super_block *sb;
	struct list_head link;	/* vfs->mounts */
};

struct path {
	struct mount *mnt;
	struct dentry *dentry;
};

/* getdents: the fs calls actor once per entry, in position order. */
struct dir_ctx {
	int64_t pos;
	/* Returns false when the caller's buffer is full; the entry is then
	 * not consumed and ctx->pos stays put. next is the position after it. */
	bool (*actor)(struct dir_ctx *ctx, const char *name, size_t len,
		      uint64_t ino, unsigned int type, int64_t next);
};

struct file_ops {
	/* Data I/O on sentry iovecs. off NULL: FMODE_STREAM files use their
	 * own position. Positional files advance *off. */
	ssize_t (*read)(struct file *f, const struct iovec *iov, int cnt,
			int64_t *off);
	ssize_t (*write)(struct file *f, const struct iovec *iov, int cnt,
			 int64_t *off);
	/* Devices that never touch the caller's buffer (read_null,
	 * write_null in drivers/char/mem.c): the result for len bytes, so a
	 * wild pointer is not EFAULT there either. Optional. */
	ssize_t (*read_nodata)(struct file *f, size_t len);
	ssize_t (*write_nodata)(struct file *f, size_t len);
	int (*iterate)(struct file *f, struct dir_ctx *ctx);
	/* arg is a sentry buffer sized for cmd by the syscall layer. */
	long (*ioctl)(struct file *f, unsigned int cmd, void *arg);
	int64_t (*llseek)(struct file *f, int64_t off, int whence);
	int (*fstat)(struct file *f, struct stat *st);
	void (*release)(struct file *f);
	/* Mappable files (tmpfs): see vfs_file_get_page() in cvisor/vfs.h.
	 * Optional; NULL means MAP_SHARED copies (mm's shared object). */
	int (*get_page)(struct file *f, uint64_t pgoff, unsigned int flags,
			uint64_t *frame);
	/* vfs_file_punch(); optional, with get_page. */
	int (*punch)(struct file *f, uint64_t off, uint64_t len);
};

struct file {
	_Atomic long refs;
	pthread_mutex_t pos_lock;
	int64_t pos;
	unsigned int flags;	/* F_GETFL: access mode and status flags */
	unsigned int fmode;
	struct path path;	/* mnt NULL for host fds */
	struct inode *inode;	/* NULL for host fds */
	const struct file_ops *ops;
	int hostfd;		/* donated host fd or -1; closed on release */
	void *priv;
};

struct vfs {
	pthread_mutex_t lock;
	struct memfile *mf;	/* tmpfs data lives in its frames */
	bool mf_owned;		/* made by vfs_new (no vfs_config.mf) */
	struct mount *root_mnt;
	struct list_head mounts;
	struct list_head sbs;
	unsigned int next_minor;
	unsigned int nr_negative;
};

struct fs_struct {
	_Atomic int refs;
	pthread_mutex_t lock;
	struct vfs *vfs;
	struct path root, cwd;
	mode_t umask;
};

struct fdtable {
	_Atomic int refs;
	pthread_mutex_t lock;
	int size;
	struct file **files;
	uint8_t *cloexec;
};

/* ---- vfs.c: objects ---- */
struct super_block *vfs_sb_new(struct vfs *vfs, enum fs_kind kind,
			       const char *name, bool readonly);
struct inode *vfs_inode_new(struct super_block *sb, mode_t mode);
/* Add a child dentry (vfs->lock held or during setup). */
struct dentry *vfs_dentry_add(struct dentry *parent, const char *name,
			      size_t len, struct inode *ino);
struct dentry *vfs_dentry_find(struct dentry *parent, const char *name,
			       size_t len);
int vfs_mount(struct vfs *vfs, struct mount *parent, struct dentry *mp,
	      struct super_block *sb, struct dentry *root,
	      struct mount **out);
void vfs_now(struct timespec *ts);
void vfs_inode_stat(struct inode *ino, struct stat *st);
int vfs_permission(const struct inode *ino, const struct cred *cred,
		   int mask, bool real_ids);
/* inode_permission(): EROFS for writes to files on a read-only mount. */
int vfs_may_access(const struct inode *ino, const struct cred *cred, int mask,
		   bool real_ids);
/* Iterate an in-memory directory (tmpfs, devfs): ".", "..", children. */
int vfs_dcache_iterate(struct file *f, struct dir_ctx *ctx);

/* ---- namei.c: path walk (caller holds vfs->lock) ---- */
#define WALK_FOLLOW 0x1	/* follow a trailing symlink */
#define WALK_CREATE 0x2	/* a missing last component is not an error */

struct walk_result {
	struct path path;	/* found; dentry NULL when missing */
	struct path parent;	/* WALK_CREATE and missing: the directory */
	char last[VFS_NAME_MAX + 1];
	bool missing;
	bool last_slash;	/* the missing name had a trailing slash */
};
int vfs_walk(struct vfs *vfs, const struct cred *cred,
	     const struct path *root, const struct path *start,
	     const char *name, unsigned int flags, struct walk_result *res);
/* Resolve dirfd/name to (root, start) per openat(2): absolute names ignore
 * dirfd. Empty name: -ENOENT unless allow_empty (then start is the dirfd's
 * own path and *empty is set). No locks held. */
int vfs_walk_start(struct task *t, int dirfd, const char *name,
		   bool allow_empty, struct path *root, struct path *start,
		   struct file **dirfile, bool *empty);
/* The whole thing: start + lock + walk + unlock. */
int vfs_lookup_at(struct task *t, int dirfd, const char *name,
		  unsigned int walk_flags, bool allow_empty, struct path *out);
/* Absolute path of p as seen from root; returns the length (no NUL). */
int vfs_path_name(struct vfs *vfs, const struct path *root,
		  const struct path *p, char *buf, size_t size);
int vfs_readlink_path(const struct path *p, char *buf, size_t size);

/* ---- file.c ---- */
int vfs_file_alloc(struct file **out);
/* Open an inode at path for an open file description (permission checks
 * done by the caller). */
int vfs_file_open_path(const struct path *p, unsigned int flags,
		       struct file **out);
ssize_t vfs_read_iov(struct file *f, const struct iovec *iov, int cnt,
		     int64_t *off);
ssize_t vfs_write_iov(struct file *f, const struct iovec *iov, int cnt,
		      int64_t *off);
int64_t vfs_llseek(struct file *f, int64_t off, int whence);
int vfs_iterate(struct file *f, struct dir_ctx *ctx);
bool vfs_file_is_dir(const struct file *f);

/* ---- open.c ---- */
int vfs_openat(struct task *t, int dirfd, const char *name, int flags,
	       mode_t mode, struct file **out);
int vfs_stat_at(struct task *t, int dirfd, const char *name, int atflags,
		struct stat *st);
int vfs_access_at(struct task *t, int dirfd, const char *name, int mode,
		  int atflags);

/* ---- fdtable.c ---- */
int fdtable_alloc(struct fdtable *fdt, struct file *f, int minfd,
		  bool cloexec, int limit);
int fdtable_replace(struct fdtable *fdt, int fd, struct file *f,
		    bool cloexec);
int fdtable_close(struct fdtable *fdt, int fd);
int fdtable_close_range(struct fdtable *fdt, unsigned int first,
			unsigned int last, bool cloexec_only);
int fdtable_get_cloexec(struct fdtable *fdt, int fd);
int fdtable_set_cloexec(struct fdtable *fdt, int fd, bool cloexec);
/* execve(2): close every FD_CLOEXEC fd. */
void fdtable_close_on_exec(struct fdtable *fdt);
/* fork(2) without CLONE_FILES: a copy sharing the open files. */
int fdtable_copy(struct fdtable *src, struct fdtable **out);
void fdtable_get_ref(struct fdtable *fdt);
/* fork(2) without CLONE_FS. */
int fs_struct_copy(struct fs_struct *src, struct fs_struct **out);
void fs_struct_get_ref(struct fs_struct *fs);

/* ---- file systems ---- */
int goferfs_new(struct vfs *vfs, int sock, bool readonly,
		struct super_block **sb, struct dentry **root);
int tmpfs_new(struct vfs *vfs, enum fs_kind kind, const char *name,
	      mode_t root_mode, struct super_block **sb, struct dentry **root);
/* tmpfs helpers used by devfs (vfs->lock held or during setup). */
int tmpfs_add_node(struct dentry *dir, const char *name, mode_t mode,
		   dev_t rdev, const struct file_ops *fops,
		   struct dentry **out);
int tmpfs_add_symlink(struct dentry *dir, const char *name,
		      const char *target);
int devfs_populate(struct dentry *root);
int hostfd_file_new(int hostfd, struct file **out);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VFS internals shared by vfs/, vfs/fs/ and the file system calls in
 * sentry/syscalls/sys_{file,fs,stat}.c.
 *
 * Object lifetimes:
 *  - mounts and super blocks belong to the struct vfs until vfs_destroy().
 *  - dentries stay in the tree until removed (unlink, rmdir, rename over
 *    them: vfs_d_detach); a removed dentry is freed by its last reference
 *    (open files and fs_struct root/cwd hold one: vfs_dentry_get/put).
 *    It pins the directory it was removed from (old_parent, pins) until
 *    then, so d_path can still name it "/dir/name (deleted)".
 *    Negative dentries (failed gofer lookups, overlay whiteouts) are
 *    bounded in number, except whiteouts, which must stay.
 *  - inodes are counted (inode->refs): one per positive dentry (hard link),
 *    open file and overlay wrapper; the last put frees them and their data.
 *    A struct path from a walk is valid while vfs->lock is held or while
 *    something references the dentry.
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
#include <sys/statfs.h>
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
struct flock;
struct poll_table;

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
#define FMODE_FIFO_OPEN 0x20 /* a FIFO whose pipe vfs_open() must still open */
#define FMODE_FSNOTIFY 0x40 /* opened by open(2): the last close reports
			      IN_CLOSE_* (vfs/fsnotify.h) */

enum fs_kind { FS_GOFER, FS_TMPFS, FS_DEVFS, FS_HOST, FS_OVERLAY, FS_PROC,
	       FS_SYSFS, FS_MQUEUE };

/* statfs(2) f_type values (include/uapi/linux/magic.h). */
#define VFS_TMPFS_MAGIC 0x01021994
#define VFS_OVERLAYFS_MAGIC 0x794c7630

struct super_block {
	struct vfs *vfs;
	enum fs_kind kind;
	const char *name;
	dev_t dev;
	bool readonly;
	_Atomic uint64_t next_ino;
	_Atomic int64_t bytes_used; /* tmpfs data accounting */
	int64_t bytes_max;
	char *opts;		/* mountinfo super options after rw/ro
				   (",size=1024k,mode=755"), or NULL */
	void *priv;		/* goferfs: struct gofer_client; overlay: the
				   lower (gofer) super block */
	void (*destroy)(struct super_block *sb);
	void (*inode_free)(struct inode *ino);
	/* inotify marks on this sb's inodes (0: every fsnotify hook is a
	 * no-op) and the rename cookie counter (vfs/fsnotify.c). */
	_Atomic int fsnotify_marks;
	_Atomic uint32_t fsnotify_cookie;
	struct list_head link;	/* vfs->sbs */
};

struct vfs_setattr;
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
	/* ---- writable file systems (tmpfs, overlay); vfs->lock held ----
	 * Make an inode of any type (S_IFDIR, S_IFREG, S_IFIFO, S_IFCHR,
	 * S_IFBLK, S_IFSOCK; S_IFLNK with target) owned by cred in dir;
	 * the caller links it (vfs_d_instantiate). NULL: the fs is not
	 * writable (EPERM; read-only mounts fail with EROFS earlier). */
	int (*mknod)(struct inode *dir, mode_t mode, dev_t rdev,
		     const char *target, const struct cred *cred,
		     struct inode **out);
	/* Overlay: does dir still merge a lower directory (so a removed
	 * name must leave a whiteout)? NULL: never. */
	bool (*has_lower)(struct inode *dir);
	/* Overlay: copy a lower-only regular file's data up (open for
	 * write, truncate, link). NULL or 0: nothing to do. No vfs->lock
	 * needed; takes inode->lock. */
	int (*copy_up)(struct inode *ino);
	/* Extended attributes (fs/xattr.c semantics; the name is full,
	 * "user.foo"). NULL: -EOPNOTSUPP. list fills buf with NUL-separated
	 * names (size 0: just the length). */
	ssize_t (*getxattr)(struct inode *ino, const char *name, void *buf,
			    size_t size);
	int (*setxattr)(struct inode *ino, const char *name, const void *val,
			size_t size, int flags);
	ssize_t (*listxattr)(struct inode *ino, char *buf, size_t size);
	int (*removexattr)(struct inode *ino, const char *name);
	/* statfs(2); NULL: a tmpfs-like answer from sb->bytes_*. */
	int (*statfs)(struct inode *ino, struct statfs *sfs);
	/* Is the cached child d of dir (positive or negative) still right
	 * (d_revalidate)? false: the fs dropped what it could of it and the
	 * walk looks the name up again. vfs->lock held. NULL: always. */
	bool (*revalidate)(struct inode *dir, struct dentry *d);
	/* File systems whose directories live elsewhere (goferfs on a
	 * writable bind mount): make `name` there (S_IFREG for open(O_CREAT),
	 * S_IFDIR for mkdir; others -EPERM); the caller links the inode.
	 * Used instead of create/mknod when set. vfs->lock held. */
	int (*mknod_at)(struct inode *dir, const char *name, size_t len,
			mode_t mode, const struct cred *cred,
			struct inode **out);
	/* ... and remove a name there before its dentry goes (unlink,
	 * rmdir). NULL: the dentry tree is the directory. vfs->lock held. */
	int (*unlink)(struct inode *dir, const char *name, size_t len,
		      bool is_dir);
	/* ... and the rest of the name and attribute ops there (goferfs):
	 * the host makes the change, the fs refreshes the cached attributes
	 * of what it touched; the caller edits the dentry tree after
	 * success. setattr (chmod/chown/utimes after vfs_setattr's checks;
	 * sizes go through truncate) takes no vfs->lock; the others hold
	 * it. rename_at: od (and nd, if any) are the dentries in odir and
	 * ndir; flags RENAME_NOREPLACE or RENAME_EXCHANGE. */
	int (*setattr)(struct inode *ino, const struct vfs_setattr *a);
	int (*symlink_at)(struct inode *dir, const char *name, size_t len,
			  const char *target, const struct cred *cred,
			  struct inode **out);
	int (*link_at)(struct inode *ino, struct inode *dir, const char *name,
		       size_t len);
	int (*rename_at)(struct inode *odir, struct dentry *od,
			 struct inode *ndir, const char *nname, size_t nlen,
			 struct dentry *nd, unsigned int flags);
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
	/* Positive dentries (links) + open files + overlay wrappers point
	 * here; the inode and its data are freed when the last goes away
	 * (vfs_inode_put). */
	_Atomic long refs;
	/* Byte-range and flock locks (vfs/locks.c), inode->lock. */
	struct list_head locks;
	/* A FIFO's pipe while it is open (Linux's i_pipe): made by the
	 * first open, cleared by the last release (vfs/fs/pipe.c),
	 * inode->lock. */
	struct pipe *fifo;
	/* inotify marks on this inode (vfs/fsnotify.c), vfs->lock; NULL
	 * when unwatched. */
	struct fsnotify_conn *fsnotify;
	/* O_TMPFILE without O_EXCL (I_LINKABLE): linkat may give this
	 * unlinked inode a name. vfs->lock. */
	bool linkable;
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
	/* Open files and fs_struct root/cwd holding this dentry
	 * (vfs_dentry_get/put, vfs->lock). A dentry removed from the tree
	 * (unlink, rmdir, rename over it) is `dead`: parent NULL, off its
	 * parent's list, freed by the last put. */
	int refs;
	bool dead;
	/* The directory a dead dentry was removed from, kept (pinned) only
	 * so its path can still be named, as Linux keeps d_parent of an
	 * unhashed dentry: readlink of /proc/PID/fd/N and maps say
	 * "/dir/name (deleted)". pins counts dead children naming this one;
	 * a dead dentry is freed when refs and pins are both 0. */
	struct dentry *old_parent;
	int pins;
	/* Made by iops->lookup at this name (not created or renamed here):
	 * the overlay lists it with the lower directory's entries. */
	bool from_lookup;
};

/* Per-mount flags (MNT_* in include/linux/mount.h), vfs/mount.c. */
#define VFS_MNT_RDONLY 0x1
#define VFS_MNT_NOSUID 0x2
#define VFS_MNT_NODEV 0x4
#define VFS_MNT_NOEXEC 0x8
#define VFS_MNT_NOATIME 0x10
#define VFS_MNT_NODIRATIME 0x20
#define VFS_MNT_RELATIME 0x40
#define VFS_MNT_STRICTATIME 0x80

struct mount {
	struct mount *parent;	/* NULL: the root, or a detached mount */
	struct dentry *mountpoint; /* in parent */
	struct dentry *root;
	struct super_block *sb;
	struct list_head link;	/* vfs->mounts (attached, in mount order)
				   or vfs->detached */
	int id;			/* mountinfo mount ID, never reused */
	unsigned int flags;	/* VFS_MNT_* */
	/* Open files and fs_struct roots/cwds on this mount (mnt_count):
	 * umount2 is EBUSY while there are any. vfs_mnt_get/put. */
	_Atomic long users;
	bool detached;		/* umount2(MNT_DETACH) while busy */
	bool pinned;		/* made by vfs_new (devpts and the vfs keep
				   pointers to it): never freed before
				   vfs_destroy, only detached */
	char *source;		/* mountinfo "mount source"; NULL: fs name */
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
	/* vfs_read_frames(); optional (files whose data is a host fd). */
	ssize_t (*read_frames)(struct file *f, struct memfile *mf,
			       uint64_t mfoff, size_t len, uint64_t off);
	/* ---- IPC (see the IPC section below) ---- */
	/* f_op->poll: the ready EPOLL* events now; registers the caller on
	 * the file's wait queue(s) with poll_wait(f, wq, pt). NULL: always
	 * EPOLLIN|EPOLLOUT|EPOLLRDNORM|EPOLLWRNORM (DEFAULT_POLLMASK) and
	 * epoll_ctl refuses the file (EPERM), as Linux does. */
	uint32_t (*poll)(struct file *f, struct poll_table *pt);
	/* fcntl commands of the file type (F_GETPIPE_SZ, F_SETPIPE_SZ): the
	 * syscall layer passes unknown commands here. NULL or -EINVAL: not
	 * the type's command (pipe commands give -EBADF on other files). */
	long (*fcntl)(struct file *f, unsigned int cmd, uint64_t arg);
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
	/* flock(2)/OFD locks are owned by the description; POSIX locks by
	 * the fd table (fl_owner). Set when the file ever locked. */
	bool has_locks;
};

struct vfs {
	pthread_mutex_t lock;
	struct memfile *mf;	/* tmpfs data lives in its frames */
	bool mf_owned;		/* made by vfs_new (no vfs_config.mf) */
	struct mount *root_mnt;
	struct list_head mounts;
	struct list_head detached; /* lazily unmounted, kept until destroy */
	int next_mnt_id;
	struct list_head sbs;
	unsigned int next_minor;
	unsigned int nr_negative;
	/* locks.c: advisory-lock sleepers and blocked POSIX waiters, made
	 * on first use (atomic), freed by vfs_destroy. */
	struct vfs_lockstate *lockstate;
	/* inotify instances and watches of the sandbox, against Linux's
	 * per-user limits (vfs/fsnotify.h). */
	_Atomic int inotify_instances;
	_Atomic int inotify_watches;
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

/* ---- mount.c: the mount table (mount(2), umount2(2), mountinfo) ---- */
static inline void vfs_mnt_get(struct mount *m)
{
	if (m)
		atomic_fetch_add(&m->users, 1);
}
static inline void vfs_mnt_put(struct mount *m)
{
	if (m)
		atomic_fetch_sub(&m->users, 1);
}
static inline bool vfs_mnt_readonly(const struct mount *m)
{
	return m && ((m->flags & VFS_MNT_RDONLY) || m->sb->readonly);
}
/* The mount stacked last on (mnt, d), or NULL (__lookup_mnt()). vfs->lock
 * held. */
struct mount *vfs_mnt_lookup(struct vfs *vfs, const struct mount *mnt,
			     const struct dentry *d);
/* mount(2) and umount2(2) on resolved arguments; vfs->lock taken inside.
 * data: the option string (NUL-terminated copy) or NULL. */
int vfs_do_mount(struct task *t, const char *source, const char *target,
		 const char *fstype, unsigned long flags, const char *data);
int vfs_do_umount(struct task *t, const char *target, int flags);
/* /proc/<pid>/mountinfo (info) or /proc/<pid>/mounts as seen from root. */
struct pfs_buf;
void vfs_show_mounts(struct vfs *vfs, const struct path *root,
		     struct pfs_buf *b, bool info);
/* statfs f_flags (ST_*) from a mount's flags. */
unsigned long vfs_mnt_statfs_flags(const struct mount *m);
/* Set-up mounts (sandbox config): tmpfs/proc/sysfs/bind of a gofer root at
 * an absolute path; missing directories are made (synthetic). */
int vfs_setup_mount(struct vfs *vfs, const struct vfs_mount_spec *ms);
/* Free a super block and its whole dentry tree (vfs.c; vfs->lock held). */
void vfs_sb_release(struct vfs *vfs, struct super_block *sb,
		    struct dentry *root);
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
#define WALK_PARENT 0x4	/* stop at the parent of the last component */
/* openat2(2) RESOLVE_* (LOOKUP_* in fs/namei.c). BENEATH and IN_ROOT make
 * the start directory the root of the walk. */
#define WALK_BENEATH 0x8	/* EXDEV for anything leaving the start */
#define WALK_IN_ROOT 0x10	/* "/" and ".." clamp at the start */
#define WALK_NO_SYMLINKS 0x20	/* ELOOP for any symlink to follow */
#define WALK_NO_MAGICLINKS 0x40 /* ELOOP for /proc fd/cwd/root/exe links */
#define WALK_NO_XDEV 0x80	/* EXDEV for any mount crossing */
#define WALK_CACHED 0x100	/* EAGAIN if the gofer would be asked */

/* The last component's kind with WALK_PARENT (LAST_NORM etc. in
 * fs/namei.c). "a/." is LAST_DOT; "/" LAST_ROOT. */
enum walk_last { WALK_LAST_NORM, WALK_LAST_DOT, WALK_LAST_DOTDOT,
		 WALK_LAST_ROOT };

struct walk_result {
	struct path path;	/* found; dentry NULL when missing */
	struct path parent;	/* WALK_CREATE and missing, WALK_PARENT:
				   the directory */
	char last[VFS_NAME_MAX + 1];
	bool missing;
	bool last_slash;	/* the last name had a trailing slash */
	bool have_parent;	/* WALK_PARENT: parent/last/last_type set */
	enum walk_last last_type;
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
/* vfs_lookup_at() from the cwd (or the root: absolute names), for a caller
 * that holds vfs->lock and keeps it while it uses the result (mount,
 * umount, inotify marks). An empty name is -ENOENT. */
int vfs_lookup_locked(struct task *t, const char *name,
		      unsigned int walk_flags, struct path *out);
/* One component in dir (no mount crossing): a positive dentry, or -ENOENT
 * (also in a removed directory). vfs->lock held. */
int vfs_lookup_child(struct vfs *vfs, struct dentry *dir, const char *name,
		     size_t len, struct dentry **out);
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
/* openat2(2): resolve is WALK_BENEATH... (RESOLVE_* already checked). */
int vfs_openat_resolve(struct task *t, int dirfd, const char *name, int flags,
		       mode_t mode, unsigned int resolve, struct file **out);
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

/* ---- vfs.c: references and tree edits (filesystem issue) ---- */
void vfs_inode_get(struct inode *ino);
void vfs_inode_put(struct inode *ino);
/* Dentry references (open files, fs_struct root/cwd); take vfs->lock. */
void vfs_dentry_get(struct dentry *d);
void vfs_dentry_put(struct dentry *d);
/* Link ino under name in parent (reusing a negative dentry); takes an
 * inode reference. NULL on ENOMEM. vfs->lock held. */
struct dentry *vfs_d_instantiate(struct dentry *parent, const char *name,
				 size_t len, struct inode *ino);
/* Take d out of the tree (unlink/rmdir/rename over it); freed now or by
 * its last vfs_dentry_put(). vfs->lock held. */
void vfs_d_detach(struct vfs *vfs, struct dentry *d);
void fs_struct_set_cwd(struct fs_struct *fs, const struct path *p);

/* ---- dirops.c: name operations (fs/namei.c) ---- */
int vfs_mknodat(struct task *t, int dirfd, const char *name, mode_t mode,
		dev_t rdev);
int vfs_mkdirat(struct task *t, int dirfd, const char *name, mode_t mode);
int vfs_symlinkat(struct task *t, const char *target, int dirfd,
		  const char *name);
int vfs_unlinkat(struct task *t, int dirfd, const char *name, int flags);
int vfs_linkat(struct task *t, int olddirfd, const char *oldname,
	       int newdirfd, const char *newname, int flags);
int vfs_renameat2(struct task *t, int olddirfd, const char *oldname,
		  int newdirfd, const char *newname, unsigned int flags);

/* ---- attr.c: attributes (fs/attr.c, fs/open.c, fs/utimes.c) ---- */
struct vfs_setattr {
	unsigned int valid;	/* VFS_ATTR_* */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	int64_t size;
	struct timespec atime, mtime; /* tv_nsec may be UTIME_NOW/OMIT */
};
#define VFS_ATTR_MODE 0x1
#define VFS_ATTR_UID 0x2
#define VFS_ATTR_GID 0x4
#define VFS_ATTR_SIZE 0x8
#define VFS_ATTR_TIMES 0x10	/* atime/mtime with UTIME_* */
#define VFS_ATTR_TIMES_NULL 0x20 /* utimes(NULL): both now, write perm ok */
/* notify_change() on the inode behind p (or f when non-NULL: ftruncate,
 * fchmod...). Permission checks by t's credentials. */
int vfs_setattr(struct task *t, const struct path *p, struct file *f,
		const struct vfs_setattr *a);
int vfs_fallocate(struct file *f, int mode, int64_t off, int64_t len);
int vfs_statfs(const struct path *p, struct statfs *sfs);
/* xattrs (fs/xattr.c): namespace checks, then the fs op. */
ssize_t vfs_getxattr(struct task *t, struct inode *ino, const char *name,
		     void *buf, size_t size);
int vfs_setxattr(struct task *t, struct inode *ino, bool ro,
		 const char *name, const void *val, size_t size, int flags);
ssize_t vfs_listxattr(struct task *t, struct inode *ino, char *buf,
		      size_t size);
int vfs_removexattr(struct task *t, struct inode *ino, bool ro,
		    const char *name);

/* ---- locks.c: flock(2), fcntl record locks, OFD locks ---- */
int vfs_flock(struct file *f, int op);
/* cmd: F_GETLK/F_SETLK/F_SETLKW/F_OFD_*; fl is struct flock in/out;
 * owner: the fd table for POSIX locks; pid: reported by F_GETLK. */
int vfs_fcntl_lock(struct file *f, int cmd, struct flock *fl, void *owner,
		   int pid);
/* close(2) of any fd of this file by owner drops its POSIX locks. */
void vfs_locks_close_posix(struct file *f, void *owner);
void vfs_locks_release_file(struct file *f);
void vfs_locks_free(struct inode *ino);
void vfs_locks_destroy(struct vfs *vfs);

/* ---- fs helpers for the overlay and mknod ---- */
/* No positive child and, in an overlay directory, no lower entry that is
 * not whited out. vfs->lock held. */
bool tmpfs_dir_empty(struct vfs *vfs, struct dentry *d);
/* fallocate on a tmpfs/overlay regular file (shmem_fallocate). */
int tmpfs_fallocate(struct inode *ino, int mode, int64_t off, int64_t len);
const struct file_ops *devfs_driver(dev_t rdev);
/* Overlay root: tmpfs upper over the gofer tree rooted at lower_root. */
int overlay_new(struct vfs *vfs, struct super_block *lower_sb,
		struct dentry *lower_root, struct super_block **sb,
		struct dentry **root);
/* goferfs helpers for the overlay (inode->lock is taken inside). */
typedef int (*goferfs_entry_fn)(void *arg, const char *name, size_t len,
				uint64_t ino, unsigned int type);
int goferfs_list(struct inode *dir, goferfs_entry_fn fn, void *arg);
int goferfs_open_ro(struct inode *ino);	/* a read-only host fd or -errno */
/* Opening a FIFO (vfs/fs/pipe.c) on the pipe of inode->fifo. It may block
 * until the other end opens, so a file system's open op only marks a FIFO
 * file FMODE_FIFO_OPEN and vfs_open() calls this after dropping vfs->lock. */
int vfs_fifo_open(struct inode *ino, struct file *f);


/* ---- IPC: readiness, pipes and anonymous files ----
 * (vfs/fs/pipe.c, vfs/anon/{anon,eventfd,timerfd,epoll}.c; the system calls
 * in sentry/syscalls/sys_{pipe,poll,epoll,eventfd,timerfd}.c.)
 *
 * Readiness follows Linux's f_op->poll + poll_wait(): a file's poll op
 * returns its ready EPOLL* events and calls poll_wait() for the wait queue
 * that is woken (waitq_wake with the events that became true) when they
 * change. Files whose readiness changes with no wake-up say so in the poll
 * table instead: host fds (hostfd), deadlines (timerfd).
 *
 * Waiters of a file's queue that belong to an epoll instance hold no file
 * reference (epoll's items are weak, like Linux's): every file type with a
 * poll op calls epoll_release_file(f, wq) from its release for each queue
 * it hands to poll_wait.
 */
struct waitq;

struct poll_table {
	/* poll_wait() calls this for each wait queue; NULL: only report. */
	void (*queue)(struct poll_table *pt, struct file *f,
		      struct waitq *wq);
	void *priv;
	uint32_t key;		/* events the caller asks for */
	/* Set by poll ops (callers reset them before each call): */
	int hostfd;		/* readiness is a host fd's: host-poll it */
	bool repoll;		/* changes unannounced: poll again soon */
	int64_t expire_ns;	/* CLOCK_MONOTONIC ns when it changes, or
				   INT64_MAX */
};

static inline void poll_wait(struct file *f, struct waitq *wq,
			     struct poll_table *pt)
{
	if (pt && pt->queue && wq)
		pt->queue(pt, f, wq);
}

static inline void poll_table_reset(struct poll_table *pt)
{
	pt->hostfd = -1;
	pt->repoll = false;
	pt->expire_ns = INT64_MAX;
}

/* anon.c */
/* f->ops->poll or DEFAULT_POLLMASK. pt may be NULL. */
uint32_t vfs_poll(struct file *f, struct poll_table *pt);
/* The task whose system call this host thread is serving (for blocking
 * file ops and SIGPIPE, whose file_ops have no task argument). */
struct task *ipc_current(void);
void ipc_set_current(struct task *t);
/* A reference unless the last one is already gone (epoll's weak items). */
bool vfs_file_tryget(struct file *f);
/* Copy between a flat buffer and sentry iovecs from byte skip on. */
size_t iov_copy_out(const struct iovec *iov, int cnt, size_t skip,
		    const void *src, size_t len);
size_t iov_copy_in(void *dst, const struct iovec *iov, int cnt, size_t skip,
		   size_t len);
size_t iov_total(const struct iovec *iov, int cnt);
/* Anonymous-inode files (eventfd, timerfd, epoll): fstat gives mode 0600,
 * one shared inode number, like fs/anon_inodes.c. flags: O_NONBLOCK etc. */
int anon_file_new(const struct file_ops *ops, void *priv, unsigned int flags,
		  struct file **out);
int anon_fstat(struct file *f, struct stat *st);
int64_t anon_noop_llseek(struct file *f, int64_t off, int whence);

/* What a blocked poller also waits for besides task_wake (anon.c). */
struct ipc_waitset {
	struct pollfd *host;	/* host fds (fd, events) */
	int nhost, cap;
	bool repoll;
	bool sentry;		/* some sentry queue can wake us */
	int64_t expire_ns;	/* earliest CLOCK_MONOTONIC expiry */
};
void ipc_waitset_init(struct ipc_waitset *ws);
void ipc_waitset_free(struct ipc_waitset *ws);
/* Fold what a poll op left in pt into ws (-ENOMEM). */
int ipc_waitset_note(struct ipc_waitset *ws, const struct poll_table *pt,
		     uint32_t events);
/* Block t until task_wake, a host fd of ws is ready, an expiry of ws, or
 * deadline_ns (CLOCK_MONOTONIC ns, < 0 none). 0: look again (maybe
 * spuriously); -ETIMEDOUT: deadline_ns passed; -EINTR: signal pending. */
int ipc_block(struct task *t, int64_t deadline_ns, const struct ipc_waitset *ws);
/* Block for a blocking file op on wq's object: 0, -ERESTARTSYS. */
int ipc_block_simple(struct task *t);

/* sentry/syscalls/sys_poll.c: the sigmask of ppoll/pselect6/epoll_pwait
 * (set_user_sigmask / restore_saved_sigmask_unless). */
int poll_set_sigmask(struct task *t, uint64_t umask, uint64_t size,
		     bool *applied);
void poll_restore_sigmask(struct task *t, bool applied, long ret);

/* pipe.c: an anonymous pipe (pipe2 flags O_NONBLOCK | O_DIRECT). */
int pipe_create(struct task *t, unsigned int flags, struct file **rd,
		struct file **wr);
/* FIFOs: see the comment at pipe_fifo_open() in vfs/fs/pipe.c. */
struct pipe;
int pipe_fifo_open(struct pipe **slot, pthread_mutex_t *slot_lock,
		   struct file *f);
/* splice/tee/vmsplice/sendfile helpers (see the end of pipe.c). */
bool pipe_file_is_pipe(const struct file *f);
bool pipe_files_same(const struct file *a, const struct file *b);
int pipe_wait_data(struct file *f, bool nonblock);
ssize_t pipe_wait_space(struct file *f, bool nonblock);
size_t pipe_peek(struct file *f, size_t skip, void *buf, size_t len);
void pipe_consume(struct file *f, size_t n);
#define PIPE_DEF_BUFFERS 16
#define PIPE_MAX_SIZE (1024 * 1024) /* /proc/sys/fs/pipe-max-size */

/* eventfd.c, timerfd.c, epoll.c */
int eventfd_create(uint64_t initval, int flags, struct file **out);
bool file_is_timerfd(const struct file *f);
struct itimerspec;
int timerfd_create_file(int clockid, int flags, struct file **out);
/* -EINVAL if f is not a timerfd; values already validated. */
int timerfd_settime_file(struct file *f, int flags,
			 const struct itimerspec *nv, struct itimerspec *old);
int timerfd_gettime_file(struct file *f, struct itimerspec *cur);
/* signalfd.c: mask is the set read (SIGKILL/SIGSTOP already removed);
 * update: -EINVAL if f is not a signalfd. */
int signalfd_create(uint64_t mask, int flags, struct file **out);
int signalfd_update(struct file *f, uint64_t mask);
bool file_is_signalfd(const struct file *f);
uint64_t signalfd_file_mask(struct file *f);
/* pidfd.c: the file holds a reference on p. pidfd_file_process: NULL if f
 * is not a pidfd; pidfd_file_pid: the tgid, -1 once reaped (fdinfo). */
struct process;
int pidfd_create(struct process *p, unsigned int flags, struct file **out);
bool file_is_pidfd(const struct file *f);
struct process *pidfd_file_process(const struct file *f);
int pidfd_file_pid(const struct file *f);
bool file_is_epoll(const struct file *f);
void epoll_release_file(struct file *f, struct waitq *wq);
/* struct epoll_event as x86-64 lays it out: packed, 12 bytes. */
struct cv_epoll_event {
	uint32_t events;
	uint64_t data;
} __attribute__((packed));
int epoll_create_file(unsigned int flags, struct file **out);
/* EPOLL_CTL_*: tf is the target (referenced by the caller). */
int epoll_ctl_file(struct file *epf, int op, int fd, struct file *tf,
		   uint32_t events, uint64_t data);
/* Up to maxevents into out; deadline_ns CLOCK_MONOTONIC, 0 = don't wait,
 * < 0 = forever. Returns the count, 0 on timeout, -EINTR. */
int epoll_wait_file(struct task *t, struct file *f, struct cv_epoll_event *out,
		    int maxevents, int64_t deadline_ns);

/* ---- procfs and sysfs (vfs/fs/procfs.c, proc_pid.c, sysfs.c) ----
 * Synthetic file systems described by tables of pfs_entry: a file's text
 * is made by show() when it is opened (a snapshot, like a seq_file read
 * from offset 0) and written through store(); symlinks answer link();
 * directories list their table and, when dynamic, lookup()/iterate() add
 * children (PIDs, TIDs, fds). Inodes are made afresh by each lookup and
 * carry a struct pfs_node naming what they show (entry + pid/tid/fd), so a
 * node never points at a task: everything is looked up again when used.
 * Dentries of dynamic children are pruned (pfs_prune) so that stale PIDs
 * and fds do not stay in the dentry cache; see the comment in procfs.c.
 */
struct pfs_entry;

struct pfs_buf {
	char *s;
	size_t len, cap;
	int err;	/* -ENOMEM once an append failed */
};
void pfs_printf(struct pfs_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void pfs_put(struct pfs_buf *b, const void *p, size_t len);

struct pfs_node {
	const struct pfs_entry *e;
	int pid, tid, fd;	/* 0 / -1 when not part of the name */
	mode_t mode;		/* 0: e->mode */
	uid_t uid;
	gid_t gid;
};

struct pfs_entry {
	const char *name;	/* NULL ends a table */
	mode_t mode;		/* S_IFREG/S_IFDIR/S_IFLNK | permissions */
	int (*show)(const struct pfs_node *n, struct pfs_buf *b);
	/* One write(2) call; returns 0 or -errno. */
	int (*store)(const struct pfs_node *n, const char *buf, size_t len);
	/* Symlink text (not NUL-terminated): length or -errno. */
	int (*link)(const struct pfs_node *n, char *buf, size_t size);
	const struct pfs_entry *children;	/* static children */
	/* Dynamic directories. lookup fills out (from a copy of dir) or
	 * returns -ENOENT; iterate emits children at positions >=
	 * PFS_DYN_POS. Both run with vfs->lock held. */
	int (*lookup)(const struct pfs_node *dir, const char *name,
		      size_t len, struct pfs_node *out);
	int (*iterate)(const struct pfs_node *dir, struct dir_ctx *ctx);
	/* Replaces the generic open (fd proxies). */
	int (*open)(const struct pfs_node *n, struct file *f);
	/* Can the dentry of this node go stale (PIDs, fds)? */
	bool dynamic;
	/* A directory whose children can be removed (the mqueue root):
	 * unlink(2) of child `name`, 0 or -errno; without it, unlink and
	 * rmdir in a pfs directory are -EPERM as in procfs and sysfs.
	 * vfs->lock held. */
	int (*unlink)(const struct pfs_node *dir, const char *name,
		      size_t len);
};
#define PFS_DYN_POS 0x100000LL

int pfs_new(struct vfs *vfs, enum fs_kind kind, const char *name,
	    const struct pfs_entry *root_entry, long magic,
	    struct super_block **sb, struct dentry **root);
/* Drop unreferenced dynamic dentries under the root of sb's tree (vfs->lock
 * held). */
void pfs_prune(struct super_block *sb);
/* The inode number pfs gives a node (for iterate()'s entries). */
uint64_t pfs_node_ino(const struct pfs_node *n);
int procfs_new(struct vfs *vfs, struct super_block **sb, struct dentry **root);
int sysfs_new(struct vfs *vfs, struct super_block **sb, struct dentry **root);
/* The mqueue file system (sentry/ipc/mqueue.c): the POSIX queues of the
 * sandbox's IPC namespace as files. */
int mqueue_fs_new(struct vfs *vfs, struct super_block **sb,
		  struct dentry **root);
/* proc_pid.c: the /proc/[pid] and /proc/[pid]/task/[tid] directory. */
extern const struct pfs_entry proc_pid_dir;
int procfs_file_tgid(const struct file *f);
extern const struct pfs_entry proc_tid_dir;
int proc_root_lookup(const struct pfs_node *dir, const char *name, size_t len,
		     struct pfs_node *out);
int proc_root_iterate(const struct pfs_node *dir, struct dir_ctx *ctx);
/* Is ino a magic link (fd/N, cwd, root, exe)? 1: *out is its target;
 * 2: magic, follow its text; 0: not magic; -errno (proc_pid.c). */
int proc_magic_link(struct inode *ino, struct path *out);
/* The task whose system call is being served (-ESRCH outside one). */
struct kernel;
struct kernel *proc_kernel(void);

/* ---- tty: pseudo-terminals (pty(7)) and the line discipline ----
 * vfs/fs/devpts.c: the devpts file system mounted at /dev/pts (ptmx, the
 * pts/N nodes, index allocation). vfs/fs/tty.c: struct tty (a pty pair),
 * n_tty, termios and tty ioctls, controlling terminals and job control,
 * /dev/tty and /dev/console. Lock order: vfs->lock -> devpts->lock ->
 * tty->lock; kernel->lock and signal locks are taken with no tty lock held.
 */
struct tty;
struct devpts;
/* devpts.c */
int devpts_mount(struct vfs *vfs, struct dentry *devroot);
/* The terminal owned by session sid, referenced (tty_put), or NULL. */
struct tty *devpts_find_session(struct vfs *vfs, int sid);
/* The master closed: /dev/pts/N goes away, the index is free again. */
void devpts_pty_gone(struct tty *tty);
/* TIOCGPTPEER: a new open file of the slave (flags as open(2)). */
int devpts_open_peer(struct tty *tty, int flags, struct file **out);
/* tty.c */
int tty_pty_new(struct devpts *dp, int index, struct tty **out);
void tty_get(struct tty *tty);
void tty_put(struct tty *tty);
int tty_index(const struct tty *tty);
struct devpts *tty_devpts(const struct tty *tty);
int tty_session(struct tty *tty);
void tty_open_master(struct tty *tty, struct file *f);
int tty_open_slave(struct tty *tty, struct file *f);
/* Is f a pty master or slave (sys_file.c routes TIOC[GS]PGRP to it)? */
bool tty_file_is_pty(const struct file *f);
/* inode_ops.open of /dev/tty and /dev/console (devfs.c). */
int tty_open_current(struct inode *ino, struct file *f);
int tty_open_console(struct inode *ino, struct file *f);

#endif

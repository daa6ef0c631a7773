/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sentry's virtual file system, as the rest of the sentry sees it.
 * Internals (dentries, mounts, filesystem ops) live in vfs/vfs_impl.h.
 *
 * References: vfs_file_get/put count open file descriptions; an fd table
 * holds one reference per installed fd. fs_struct (root, cwd, umask) and
 * fdtable are reference counted so threads can share them later.
 */
#ifndef CVISOR_VFS_H
#define CVISOR_VFS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct file;
struct fdtable;
struct fs_struct;
struct task;
struct vfs;

struct vfs_config {
	int gofer_sock;		/* connected to the gofer serving "/" */
	bool root_readonly;	/* true in this revision */
};

/* Build the mount tree: gofer root at /, tmpfs at /tmp, devfs at /dev.
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
int vfs_fstat(struct file *f, struct stat *st);

/* Open an executable for execve/the loader: path resolved relative to the
 * task's cwd and root; regular file with an exec bit, else -EACCES. */
int vfs_open_exec(struct task *t, const char *path, struct file **out);

/* Find `name` (no '/') in the colon-separated search path like execvp(3).
 * Writes the absolute sandbox path into out. */
int vfs_find_in_path(struct task *t, const char *name, const char *pathvar,
		     char *out, size_t outlen);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * devpts (fs/devpts/inode.c, pty(7)): the file system at /dev/pts.
 *
 *   /dev/pts/ptmx   c 5:2, mode 0666 (Docker's ptmxmode=666); /dev/ptmx is
 *                   a symlink to it (devfs.c). Each open makes a new pty
 *                   pair: the file is its master, locked (TIOCSPTLCK)
 *                   until unlockpt().
 *   /dev/pts/N      c 136+N/256:N%256, the slave, owned by the opener of
 *                   the master, group tty (5), mode 0620 (Docker's
 *                   gid=5,mode=620). It appears when the master is opened
 *                   and goes away when the master is closed; the index is
 *                   reused from then on (lowest free first, like the ida).
 *
 * The terminal itself (line discipline, ioctls, job control) is tty.c.
 *
 * Locks: devpts->lock guards ptys[] and is taken before tty->lock (tty.c)
 * and never together with vfs->lock (node creation and removal take
 * vfs->lock with devpts->lock dropped). References: ptys[] holds none: an
 * entry lives from the master's open to its release (devpts_pty_gone());
 * lookups take a tty reference under devpts->lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "cvisor/task.h"
#include "../vfs_impl.h"

#define DEVPTS_MAX 4096		/* /proc/sys/kernel/pty/max */
#define DEVPTS_SUPER_MAGIC 0x1cd1
#define PTMX_DEV makedev(5, 2)
#define PTS_MAJOR 136		/* UNIX98_PTY_SLAVE_MAJOR, 8 majors */
#define TTY_GID 5

struct devpts {
	struct vfs *vfs;
	struct super_block *sb;
	struct mount *mnt;
	struct dentry *root;
	pthread_mutex_t lock;
	struct tty *ptys[DEVPTS_MAX];
};

static const struct inode_ops devpts_iops;
static void devpts_destroy(struct super_block *sb);

static const struct file_ops devpts_dir_ops = {
	.iterate = vfs_dcache_iterate,
};

static int pts_index(dev_t rdev)
{
	unsigned int ma = major(rdev), mi = minor(rdev);

	if (ma < PTS_MAJOR || ma >= PTS_MAJOR + DEVPTS_MAX / 256 || mi > 255)
		return -1;
	return (int)((ma - PTS_MAJOR) * 256 + mi);
}

static dev_t pts_dev(int index)
{
	return makedev(PTS_MAJOR + (unsigned int)index / 256,
		       (unsigned int)index % 256);
}

/* devpts_pty_new(): the /dev/pts/N node of a new pty. */
static int pts_node_add(struct devpts *dp, int index)
{
	struct task *t = ipc_current();
	struct inode *ino = vfs_inode_new(dp->sb, S_IFCHR | 0620);
	char name[16];
	struct dentry *d;

	if (!ino)
		return -ENOMEM;
	ino->iops = &devpts_iops;
	ino->rdev = pts_dev(index);
	ino->uid = t ? t->cred.fsuid : 0;
	ino->gid = TTY_GID;
	snprintf(name, sizeof(name), "%d", index);
	pthread_mutex_lock(&dp->vfs->lock);
	d = vfs_dentry_add(dp->root, name, strlen(name), ino);
	pthread_mutex_unlock(&dp->vfs->lock);
	if (!d) {
		vfs_inode_get(ino);
		vfs_inode_put(ino);	/* frees it */
		return -ENOMEM;
	}
	return 0;
}

static void pts_node_remove(struct devpts *dp, int index)
{
	char name[16];
	struct dentry *d;

	snprintf(name, sizeof(name), "%d", index);
	pthread_mutex_lock(&dp->vfs->lock);
	d = vfs_dentry_find(dp->root, name, strlen(name));
	if (d && d->inode)
		vfs_d_detach(dp->vfs, d);
	pthread_mutex_unlock(&dp->vfs->lock);
}

/* ptmx_open(): a new pair; f becomes its master. */
static int ptmx_open(struct devpts *dp, struct file *f)
{
	struct tty *tty;
	int index = -1, r;

	pthread_mutex_lock(&dp->lock);
	for (int i = 0; i < DEVPTS_MAX; i++) {
		if (!dp->ptys[i]) {
			index = i;
			break;
		}
	}
	if (index < 0) {
		pthread_mutex_unlock(&dp->lock);
		return -ENOSPC;	/* pty/max reached */
	}
	r = tty_pty_new(dp, index, &tty);
	if (r == 0)
		dp->ptys[index] = tty;
	pthread_mutex_unlock(&dp->lock);
	if (r < 0)
		return r;
	r = pts_node_add(dp, index);
	if (r < 0) {
		pthread_mutex_lock(&dp->lock);
		dp->ptys[index] = NULL;
		pthread_mutex_unlock(&dp->lock);
		tty_put(tty);
		return r;
	}
	tty_open_master(tty, f);
	return 0;
}

static struct tty *pty_lookup(struct devpts *dp, int index)
{
	struct tty *tty = NULL;

	if (index < 0 || index >= DEVPTS_MAX)
		return NULL;
	pthread_mutex_lock(&dp->lock);
	tty = dp->ptys[index];
	if (tty)
		tty_get(tty);
	pthread_mutex_unlock(&dp->lock);
	return tty;
}

static int devpts_open(struct inode *ino, struct file *f)
{
	struct devpts *dp = ino->sb->priv;
	struct tty *tty;
	int r;

	if (S_ISDIR(ino->mode)) {
		f->ops = &devpts_dir_ops;
		return 0;
	}
	if (ino->rdev == PTMX_DEV)
		return ptmx_open(dp, f);
	tty = pty_lookup(dp, pts_index(ino->rdev));
	if (!tty)
		return -EIO;
	r = tty_open_slave(tty, f);
	tty_put(tty);
	return r;
}

static int devpts_statfs(struct inode *ino, struct statfs *sfs)
{
	(void)ino;
	memset(sfs, 0, sizeof(*sfs));
	sfs->f_type = DEVPTS_SUPER_MAGIC;
	sfs->f_bsize = 4096;
	sfs->f_frsize = 4096;
	sfs->f_namelen = VFS_NAME_MAX;
	return 0;
}

static const struct inode_ops devpts_iops = {
	.open = devpts_open,
	.statfs = devpts_statfs,
};

void devpts_pty_gone(struct tty *tty)
{
	struct devpts *dp = tty_devpts(tty);
	int index = tty_index(tty);

	pthread_mutex_lock(&dp->lock);
	if (dp->ptys[index] == tty)
		dp->ptys[index] = NULL;
	pthread_mutex_unlock(&dp->lock);
	pts_node_remove(dp, index);
}

/* TIOCGPTPEER: open the slave of tty through its node. */
int devpts_open_peer(struct tty *tty, int flags, struct file **out)
{
	struct devpts *dp = tty_devpts(tty);
	char name[16];
	struct path p = { .mnt = dp->mnt };
	int r;

	snprintf(name, sizeof(name), "%d", tty_index(tty));
	pthread_mutex_lock(&dp->vfs->lock);
	p.dentry = vfs_dentry_find(dp->root, name, strlen(name));
	if (!p.dentry || !p.dentry->inode) {
		pthread_mutex_unlock(&dp->vfs->lock);
		return -EIO;
	}
	r = vfs_file_open_path(&p, (unsigned int)flags & ~O_CLOEXEC, out);
	pthread_mutex_unlock(&dp->vfs->lock);
	return r;
}

static struct devpts *devpts_of(struct vfs *vfs)
{
	struct super_block *sb;
	struct devpts *dp = NULL;

	pthread_mutex_lock(&vfs->lock);
	list_for_each_entry(sb, &vfs->sbs, link) {
		if (sb->destroy == devpts_destroy && sb->priv) {
			dp = sb->priv;
			break;
		}
	}
	pthread_mutex_unlock(&vfs->lock);
	return dp;
}

struct tty *devpts_find_session(struct vfs *vfs, int sid)
{
	struct devpts *dp = devpts_of(vfs);
	struct tty *found = NULL;

	if (!dp || sid <= 0)
		return NULL;
	pthread_mutex_lock(&dp->lock);
	for (int i = 0; i < DEVPTS_MAX && !found; i++) {
		if (dp->ptys[i] && tty_session(dp->ptys[i]) == sid) {
			found = dp->ptys[i];
			tty_get(found);
		}
	}
	pthread_mutex_unlock(&dp->lock);
	return found;
}

static void devpts_destroy(struct super_block *sb)
{
	struct devpts *dp = sb->priv;

	pthread_mutex_destroy(&dp->lock);
	free(dp);
	sb->priv = NULL;
}

/* Mount a devpts instance on the "pts" directory of the devfs whose root
 * is devroot (vfs_new(); vfs->lock not needed during setup). */
int devpts_mount(struct vfs *vfs, struct dentry *devroot)
{
	struct mount *m, *devmnt = NULL;
	struct dentry *mp = vfs_dentry_find(devroot, "pts", 3);
	struct devpts *dp;
	struct inode *ino;
	struct dentry *d;

	list_for_each_entry(m, &vfs->mounts, link) {
		if (m->root == devroot)
			devmnt = m;
	}
	if (!devmnt || !mp || !mp->inode)
		return 0;	/* no /dev/pts to mount on: no ptys */
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	pthread_mutex_init(&dp->lock, NULL);
	dp->vfs = vfs;
	dp->sb = vfs_sb_new(vfs, FS_DEVFS, "devpts", false);
	if (!dp->sb) {
		free(dp);
		return -ENOMEM;
	}
	dp->sb->priv = dp;
	dp->sb->destroy = devpts_destroy;
	ino = vfs_inode_new(dp->sb, S_IFDIR | 0755);
	if (!ino)
		return -ENOMEM;
	ino->iops = &devpts_iops;
	dp->root = vfs_dentry_add(NULL, "/", 1, ino);
	if (!dp->root) {
		vfs_inode_get(ino);
		vfs_inode_put(ino);
		return -ENOMEM;
	}
	ino = vfs_inode_new(dp->sb, S_IFCHR | 0666);
	if (!ino)
		return -ENOMEM;
	ino->iops = &devpts_iops;
	ino->rdev = PTMX_DEV;
	d = vfs_dentry_add(dp->root, "ptmx", 4, ino);
	if (!d) {
		vfs_inode_get(ino);
		vfs_inode_put(ino);
		return -ENOMEM;
	}
	return vfs_mount(vfs, devmnt, mp, dp->sb, dp->root, &dp->mnt);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * procfs: /proc for the sandbox's own tasks (proc(5)), and the small table
 * file system framework ("pfs") that sysfs.c uses too. The host's /proc is
 * never consulted for anything a workload sees except the CPU description
 * (/proc/cpuinfo), read once at mount time.
 *
 * Model: a tree of struct pfs_entry tables (vfs_impl.h). Every lookup makes
 * a fresh inode whose priv is a struct pfs_node (entry + pid/tid/fd): an
 * inode never points at a task, so it cannot dangle; contents are made at
 * open() from whatever the PID names then.
 *
 * Dentry cache: vfs_lookup_child() caches every answer, positive or
 * negative, and has no revalidation hook (d_revalidate in Linux,
 * pid_revalidate in fs/proc/base.c). PIDs and fds come and go, so this file
 * prunes the dentries below the PID directories itself: on every lookup in
 * the /proc root, every readlink of /proc/self and /proc/thread-self (the
 * way almost all programs enter /proc) and every listing of /proc, all
 * unreferenced dentries of PID subtrees and all negative dentries of the
 * root go. A walk that is still using a pruned dentry after dropping
 * vfs->lock (stat does) must not see it freed, so pruned dentries wait in
 * a limbo list for at least PFS_LIMBO_NS before their last put. A stale
 * positive dentry that survives (someone holds it open) still names a PID
 * or fd number, so it shows the current owner or fails with ENOENT.
 *
 * Locks: the iops run with vfs->lock held (lookup, readlink); pruning needs
 * it. kernel->lock is taken inside vfs->lock, never the other way round
 * (task.h: kernel->lock is never held while calling into the vfs).
 * fdtable->lock and fs_struct->lock are taken briefly inside vfs->lock:
 * nothing takes vfs->lock while holding them.
 *
 * Ownership: each inode owns its pfs_node; each open file owns its text
 * snapshot (struct pfs_file).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "cvisor/ipc.h"
#include "cvisor/task.h"
#include "cvisor/util.h"
#include "cvisor/version.h"
#include "../vfs_impl.h"

#define PFS_LIMBO_NS (2 * 1000000000LL)
#define PROC_SUPER_MAGIC 0x9fa0

struct pfs_sb {
	const struct pfs_entry *root;
	long magic;
	struct list_head limbo_new, limbo_old;
	int64_t rotated_ns;
};

/* ---- text buffers ---- */

static bool pfs_reserve(struct pfs_buf *b, size_t more)
{
	size_t need = b->len + more + 1;
	char *n;

	if (b->err)
		return false;
	if (need <= b->cap)
		return true;
	if (need > (64u << 20)) {
		b->err = -ENOMEM;
		return false;
	}
	n = realloc(b->s, MAX(need, b->cap * 2));
	if (!n) {
		b->err = -ENOMEM;
		return false;
	}
	b->s = n;
	b->cap = MAX(need, b->cap * 2);
	return true;
}

void pfs_put(struct pfs_buf *b, const void *p, size_t len)
{
	if (!pfs_reserve(b, len))
		return;
	memcpy(b->s + b->len, p, len);
	b->len += len;
	b->s[b->len] = '\0';
}

void pfs_printf(struct pfs_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !pfs_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct kernel *proc_kernel(void)
{
	struct task *t = ipc_current();

	return t ? t->k : NULL;
}

/* ---- inodes ---- */

static const struct inode_ops pfs_iops;

/* Stable inode numbers: the same name gives the same number. */
static uint64_t pfs_ino(const struct pfs_node *n)
{
	uint64_t h = 1469598103934665603ULL;
	uint64_t v[4] = { (uintptr_t)n->e, (uint64_t)(uint32_t)n->pid,
			  (uint64_t)(uint32_t)n->tid, (uint64_t)(uint32_t)n->fd };

	for (int i = 0; i < 4; i++) {
		h ^= v[i];
		h *= 1099511628211ULL;
	}
	return (h & 0x3fffffffffffffffULL) | 2;
}

uint64_t pfs_node_ino(const struct pfs_node *n)
{
	return pfs_ino(n);
}

static void pfs_inode_free(struct inode *ino)
{
	free(ino->priv);
	ino->priv = NULL;
}

static int pfs_make_inode(struct super_block *sb, const struct pfs_node *n,
			  struct inode **out)
{
	mode_t mode = n->mode ? n->mode : n->e->mode;
	struct pfs_node *copy = malloc(sizeof(*copy));
	struct inode *ino;

	if (!copy)
		return -ENOMEM;
	ino = vfs_inode_new(sb, mode);
	if (!ino) {
		free(copy);
		return -ENOMEM;
	}
	*copy = *n;
	ino->priv = copy;
	ino->iops = &pfs_iops;
	ino->ino = pfs_ino(n);
	ino->uid = n->uid;
	ino->gid = n->gid;
	*out = ino;
	return 0;
}

/* The thread-group ID an open /proc/[pid] directory names, or -1 for any
 * other file: such an fd is accepted where a pidfd is (pidfd_send_signal). */
int procfs_file_tgid(const struct file *f)
{
	const struct pfs_node *n;

	if (!f || !f->inode || f->inode->iops != &pfs_iops || !f->inode->priv)
		return -1;
	n = f->inode->priv;
	if (n->e != &proc_pid_dir || n->pid <= 0)
		return -1;
	return n->pid;
}

/* ---- pruning (see the top comment) ---- */

static void limbo_flush(struct list_head *l)
{
	struct dentry *d, *tmp;

	list_for_each_entry_safe(d, tmp, l, sibling) {
		list_del(&d->sibling);
		list_init(&d->sibling);
		vfs_dentry_put(d);	/* the limbo's reference */
	}
}

static void prune_one(struct pfs_sb *ps, struct vfs *vfs, struct dentry *d)
{
	struct dentry *c, *tmp;

	list_for_each_entry_safe(c, tmp, &d->children, sibling)
		prune_one(ps, vfs, c);
	if (!d->inode) {
		list_del(&d->sibling);
		vfs->nr_negative--;
		free(d->name);
		free(d);
		return;
	}
	if (d->refs || d->pins || !list_empty(&d->children) || d->mounted)
		return;
	list_del(&d->sibling);
	d->parent = NULL;
	d->dead = true;
	d->refs++;
	list_add_tail(&d->sibling, &ps->limbo_new);
}

void pfs_prune(struct super_block *sb)
{
	struct pfs_sb *ps = sb->priv;
	struct vfs *vfs = sb->vfs;
	struct mount *m;
	struct dentry *c, *tmp;
	int64_t now = mono_ns();

	pthread_mutex_lock(&vfs->lock);
	if (now - ps->rotated_ns >= PFS_LIMBO_NS) {
		limbo_flush(&ps->limbo_old);
		while (!list_empty(&ps->limbo_new)) {
			struct list_head *n = ps->limbo_new.next;

			list_del(n);
			list_add_tail(n, &ps->limbo_old);
		}
		ps->rotated_ns = now;
	}
	list_for_each_entry(m, &vfs->mounts, link) {
		if (m->sb != sb)
			continue;
		list_for_each_entry_safe(c, tmp, &m->root->children, sibling) {
			const struct pfs_node *n = c->inode ? c->inode->priv : NULL;

			if (!c->inode || (n && n->e->dynamic))
				prune_one(ps, vfs, c);
		}
	}
	pthread_mutex_unlock(&vfs->lock);
}

static void pfs_sb_destroy(struct super_block *sb)
{
	struct pfs_sb *ps = sb->priv;

	/* Limbo dentries are detached: free them like any dead dentry. The
	 * vfs is going away, so nothing else refers to them. */
	limbo_flush(&ps->limbo_old);
	limbo_flush(&ps->limbo_new);
	free(ps);
}

/* ---- inode operations ---- */

/* Does the task a /proc/PID (or .../task/TID) node names still exist?
 * Nodes outside PID directories (and sysfs's) always do. */
static bool pfs_task_alive(const struct pfs_node *n)
{
	struct kernel *k;
	struct task_refs r;

	if (n->pid <= 0 || !(k = proc_kernel()))
		return true;
	if (procinfo_get(k, n->tid > 0 ? n->tid : n->pid, 0, &r) < 0)
		return false;
	procinfo_put(&r);
	return true;
}


static int pfs_lookup(struct inode *dir, const char *name, size_t len,
		      struct inode **out)
{
	const struct pfs_node *dn = dir->priv;
	const struct pfs_entry *e = dn->e;
	struct pfs_node n;
	int r;

	/* proc_pident_lookup(): nothing is found in a dead task's dir. */
	if (!pfs_task_alive(dn))
		return -ENOENT;
	if (e->children) {
		for (const struct pfs_entry *c = e->children; c->name; c++) {
			if (strlen(c->name) == len && !memcmp(c->name, name, len)) {
				n = *dn;
				n.e = c;
				n.mode = 0;
				return pfs_make_inode(dir->sb, &n, out);
			}
		}
	}
	if (!e->lookup)
		return -ENOENT;
	/* The /proc root: a PID may be new or gone; drop stale entries. */
	if (dir->ino == 1)
		pfs_prune(dir->sb);
	n = *dn;
	n.mode = 0;
	r = e->lookup(dn, name, len, &n);
	if (r < 0)
		return r;
	return pfs_make_inode(dir->sb, &n, out);
}

/* pid_revalidate()/tid_fd_revalidate() in fs/proc: a cached child of a
 * dynamic directory (PIDs, TIDs, fds) is right while the directory's
 * lookup still finds the same thing, and a negative one while it still
 * finds nothing. A stale one is pruned (with its subtree), which drops it
 * unless it is in use. */
static bool pfs_revalidate(struct inode *dir, struct dentry *d)
{
	const struct pfs_node *dn = dir->priv;
	const struct pfs_node *cn = d->inode ? d->inode->priv : NULL;
	struct pfs_node n;
	bool valid;
	int r;

	if (cn && !cn->e->dynamic)
		return true;
	if (cn && dn->e->children) {
		/* A static child (flagged dynamic when it lives in a PID
		 * directory) is valid while that task is. */
		for (const struct pfs_entry *c = dn->e->children; c->name; c++) {
			if (c != cn->e)
				continue;
			if (pfs_task_alive(dn))
				return true;
			prune_one(dir->sb->priv, dir->sb->vfs, d);
			return false;
		}
	}
	if (!dn->e->lookup)
		return true;
	n = *dn;
	n.mode = 0;
	r = dn->e->lookup(dn, d->name, d->namelen, &n);
	if (cn)
		valid = r == 0 && n.e == cn->e && n.pid == cn->pid &&
			n.tid == cn->tid && n.fd == cn->fd;
	else
		valid = r < 0;
	if (!valid)
		prune_one(dir->sb->priv, dir->sb->vfs, d);
	return valid;
}

static int pfs_readlink(struct inode *ino, char *buf, size_t len)
{
	const struct pfs_node *n = ino->priv;

	if (!n->e->link)
		return -EINVAL;
	return n->e->link(n, buf, len);
}

static int pfs_statfs(struct inode *ino, struct statfs *sfs)
{
	struct pfs_sb *ps = ino->sb->priv;

	memset(sfs, 0, sizeof(*sfs));
	sfs->f_type = ps->magic;
	sfs->f_bsize = 4096;
	sfs->f_namelen = VFS_NAME_MAX;
	sfs->f_frsize = 4096;
	return 0;
}

/* ---- regular files ---- */

struct pfs_file {
	struct pfs_node node;
	pthread_mutex_t lock;	/* making the text */
	bool made;
	struct pfs_buf text;
};

/* The text is made by the first read, not at open: open runs with
 * vfs->lock held and the generators take mm->lock, which is outside it. */
static ssize_t pfs_read(struct file *f, const struct iovec *iov, int cnt,
			int64_t *off)
{
	struct pfs_file *pf = f->priv;
	int64_t pos = off ? *off : f->pos;
	size_t n;

	if (pos < 0)
		return -EINVAL;
	pthread_mutex_lock(&pf->lock);
	if (!pf->made && pf->node.e->show) {
		int r = pf->node.e->show(&pf->node, &pf->text);

		if (r == 0)
			r = pf->text.err;
		if (r < 0) {
			free(pf->text.s);
			memset(&pf->text, 0, sizeof(pf->text));
			pthread_mutex_unlock(&pf->lock);
			return r;
		}
		pf->made = true;
	}
	pthread_mutex_unlock(&pf->lock);
	if ((uint64_t)pos >= pf->text.len)
		return 0;
	n = iov_copy_out(iov, cnt, 0, pf->text.s + pos,
			 pf->text.len - (size_t)pos);
	if (off)
		*off += (int64_t)n;
	else
		f->pos += (int64_t)n;
	return (ssize_t)n;
}

static ssize_t pfs_write(struct file *f, const struct iovec *iov, int cnt,
			 int64_t *off)
{
	struct pfs_file *pf = f->priv;
	size_t len = iov_total(iov, cnt);
	_cleanup_free_ char *buf = NULL;
	int r;

	if (!pf->node.e->store)
		return -EINVAL;
	if (len > PAGE_SIZE)
		len = PAGE_SIZE;	/* proc_pid_attr_write and friends */
	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	iov_copy_in(buf, iov, cnt, 0, len);
	buf[len] = '\0';
	r = pf->node.e->store(&pf->node, buf, len);
	if (r < 0)
		return r;
	if (off)
		*off += (int64_t)len;
	return (ssize_t)len;
}

static int64_t pfs_llseek(struct file *f, int64_t off, int whence)
{
	struct pfs_file *pf = f->priv;
	int64_t npos;

	pthread_mutex_lock(&f->pos_lock);
	switch (whence) {
	case SEEK_SET:
		npos = off;
		break;
	case SEEK_CUR:
		npos = f->pos + off;
		break;
	case SEEK_END:
		npos = (int64_t)pf->text.len + off;
		break;
	default:
		npos = -1;
		break;
	}
	if (npos >= 0)
		f->pos = npos;
	pthread_mutex_unlock(&f->pos_lock);
	return npos < 0 ? -EINVAL : npos;
}

static void pfs_release(struct file *f)
{
	struct pfs_file *pf = f->priv;

	if (pf) {
		free(pf->text.s);
		pthread_mutex_destroy(&pf->lock);
	}
	free(pf);
	f->priv = NULL;
}

static const struct file_ops pfs_file_fops = {
	.read = pfs_read,
	.write = pfs_write,
	.llseek = pfs_llseek,
	.release = pfs_release,
};

/* ---- directories ---- */

static int pfs_iterate(struct file *f, struct dir_ctx *ctx)
{
	const struct pfs_node *n = f->inode->priv;
	const struct pfs_entry *e = n->e;
	struct vfs *vfs = f->inode->sb->vfs;
	uint64_t pino = f->inode->ino;
	int64_t i = 0;

	pthread_mutex_lock(&vfs->lock);
	if (f->path.dentry->parent && f->path.dentry->parent->inode)
		pino = f->path.dentry->parent->inode->ino;
	pthread_mutex_unlock(&vfs->lock);

	if (ctx->pos == 0 && !ctx->actor(ctx, ".", 1, f->inode->ino, DT_DIR, 1))
		return 0;
	if (ctx->pos == 1 && !ctx->actor(ctx, "..", 2, pino, DT_DIR, 2))
		return 0;
	if (e->children) {
		for (const struct pfs_entry *c = e->children; c->name; c++, i++) {
			struct pfs_node cn = *n;

			if (ctx->pos > 2 + i)
				continue;
			cn.e = c;
			if (!ctx->actor(ctx, c->name, strlen(c->name),
					pfs_ino(&cn), (c->mode & S_IFMT) >> 12,
					3 + i))
				return 0;
		}
	}
	if (!e->iterate)
		return 0;
	if (ctx->pos < PFS_DYN_POS)
		ctx->pos = PFS_DYN_POS;
	if (f->inode->ino == 1)
		pfs_prune(f->inode->sb);
	return e->iterate(n, ctx);
}

static const struct file_ops pfs_dir_fops = {
	.iterate = pfs_iterate,
};

static int pfs_open(struct inode *ino, struct file *f)
{
	const struct pfs_node *n = ino->priv;
	struct pfs_file *pf;

	if (n->e->open)
		return n->e->open(n, f);
	if (S_ISDIR(ino->mode)) {
		f->ops = &pfs_dir_fops;
		return 0;
	}
	if ((f->fmode & FMODE_WRITE) && !n->e->store)
		return -EACCES;
	pf = calloc(1, sizeof(*pf));
	if (!pf)
		return -ENOMEM;
	pf->node = *n;
	pthread_mutex_init(&pf->lock, NULL);
	f->priv = pf;
	f->ops = &pfs_file_fops;
	return 0;
}

/* proc and sysfs files cannot be removed (EPERM, as simple_unlink is
 * not among their inode operations); a directory with an unlink hook
 * decides for its children. */
static int pfs_unlink(struct inode *dir, const char *name, size_t len,
		      bool is_dir)
{
	const struct pfs_node *dn = dir->priv;

	if (is_dir || !dn->e->unlink)
		return -EPERM;
	return dn->e->unlink(dn, name, len);
}

static const struct inode_ops pfs_iops = {
	.lookup = pfs_lookup,
	.unlink = pfs_unlink,
	.readlink = pfs_readlink,
	.open = pfs_open,
	.statfs = pfs_statfs,
	.revalidate = pfs_revalidate,
};

int pfs_new(struct vfs *vfs, enum fs_kind kind, const char *name,
	    const struct pfs_entry *root_entry, long magic,
	    struct super_block **sbp, struct dentry **rootp)
{
	struct pfs_node n = { .e = root_entry, .fd = -1 };
	struct super_block *sb;
	struct pfs_sb *ps = calloc(1, sizeof(*ps));
	struct inode *ino;
	struct dentry *d;
	int r;

	if (!ps)
		return -ENOMEM;
	ps->root = root_entry;
	ps->magic = magic;
	list_init(&ps->limbo_new);
	list_init(&ps->limbo_old);
	sb = vfs_sb_new(vfs, kind, name, false);
	if (!sb) {
		free(ps);
		return -ENOMEM;
	}
	sb->priv = ps;
	sb->destroy = pfs_sb_destroy;
	sb->inode_free = pfs_inode_free;
	r = pfs_make_inode(sb, &n, &ino);
	if (r < 0)
		return r;
	ino->ino = 1;
	d = vfs_dentry_add(NULL, "/", 1, ino);
	if (!d) {
		vfs_inode_get(ino);
		vfs_inode_put(ino);
		return -ENOMEM;
	}
	*sbp = sb;
	*rootp = d;
	return 0;
}

/* ---- /proc contents that are not per process ---- */

static long ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? n : 1;
}

static uint64_t uptime_ns(struct kernel *k)
{
	return util_now_ns() - k->boot_ns;
}

static int self_link(const struct pfs_node *n UNUSED, char *buf, size_t size)
{
	struct task *t = ipc_current();
	char tmp[32];
	int len;

	if (!t)
		return -ENOENT;
	/* Entering /proc: the moment to drop stale PID dentries. */
	if (t->k->vfs) {
		struct mount *m;

		list_for_each_entry(m, &t->k->vfs->mounts, link)
			if (m->sb->kind == FS_PROC)
				pfs_prune(m->sb);
	}
	len = snprintf(tmp, sizeof(tmp), "%d", t->tgid);
	len = MIN(len, (int)size);
	memcpy(buf, tmp, (size_t)len);
	return len;
}

static int thread_self_link(const struct pfs_node *n, char *buf, size_t size)
{
	struct task *t = ipc_current();
	char tmp[48];
	int len;

	if (!t)
		return -ENOENT;
	self_link(n, tmp, sizeof(tmp));
	len = snprintf(tmp, sizeof(tmp), "%d/task/%d", t->tgid, t->tid);
	len = MIN(len, (int)size);
	memcpy(buf, tmp, (size_t)len);
	return len;
}

static int mounts_link(const struct pfs_node *n UNUSED, char *buf, size_t size)
{
	static const char target[] = "self/mounts";
	size_t len = MIN(sizeof(target) - 1, size);

	memcpy(buf, target, len);
	return (int)len;
}

static int show_version(const struct pfs_node *n UNUSED, struct pfs_buf *b)
{
	/* proc(5): the same string as uname -srv, plus the compiler. */
	pfs_printf(b, "Linux version %s (cvisor@cvisor) (gcc) %s\n",
		   CVISOR_KERNEL_RELEASE, CVISOR_KERNEL_VERSION);
	return 0;
}

/* The same figures as sysinfo(2) in sentry/syscalls/sys_misc.c. */
static int show_meminfo(const struct pfs_node *n UNUSED, struct pfs_buf *b)
{
	struct sysinfo si;
	uint64_t total = 0, freek = 0;

	if (sysinfo(&si) == 0) {
		total = (uint64_t)si.totalram * si.mem_unit / 1024;
		freek = (uint64_t)si.freeram * si.mem_unit / 1024;
	}
	pfs_printf(b,
		   "MemTotal:       %8" PRIu64 " kB\n"
		   "MemFree:        %8" PRIu64 " kB\n"
		   "MemAvailable:   %8" PRIu64 " kB\n"
		   "Buffers:        %8d kB\n"
		   "Cached:         %8d kB\n"
		   "SwapCached:     %8d kB\n"
		   "Active:         %8d kB\n"
		   "Inactive:       %8d kB\n"
		   "SwapTotal:      %8d kB\n"
		   "SwapFree:       %8d kB\n"
		   "Dirty:          %8d kB\n"
		   "Shmem:          %8d kB\n"
		   "Slab:           %8d kB\n"
		   "SReclaimable:   %8d kB\n"
		   "CommitLimit:    %8" PRIu64 " kB\n"
		   "Committed_AS:   %8" PRIu64 " kB\n"
		   "VmallocTotal:   %8d kB\n",
		   total, freek, freek, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		   total, total - freek, 0);
	return 0;
}

/* Read once at mount time (before any workload runs). */
static char *host_cpuinfo;

static int show_cpuinfo(const struct pfs_node *n UNUSED, struct pfs_buf *b)
{
	if (host_cpuinfo && *host_cpuinfo) {
		pfs_put(b, host_cpuinfo, strlen(host_cpuinfo));
		return 0;
	}
	for (long i = 0; i < ncpus(); i++)
		pfs_printf(b, "processor\t: %ld\nvendor_id\t: unknown\n"
			   "model name\t: unknown\n\n", i);
	return 0;
}

static int show_uptime(const struct pfs_node *n UNUSED, struct pfs_buf *b)
{
	struct kernel *k = proc_kernel();
	uint64_t up = k ? uptime_ns(k) : 0;
	uint64_t cs = up / 10000000ULL, idle = cs * (uint64_t)ncpus();

	pfs_printf(b, "%" PRIu64 ".%02" PRIu64 " %" PRIu64 ".%02" PRIu64 "\n",
		   cs / 100, cs % 100, idle / 100, idle % 100);
	return 0;
}

static int show_loadavg(const struct pfs_node *n UNUSED, struct pfs_buf *b)
{
	struct kernel *k = proc_kernel();
	int nr = 1, last = 1;

	if (k) {
		pthread_mutex_lock(&k->lock);
		nr = k->nr_tasks;
		last = k->next_pid - 1;
		pthread_mutex_unlock(&k->lock);
	}
	/* The sandbox keeps no load average (sysinfo(2) reports 0 too). */
	pfs_printf(b, "0.00 0.00 0.00 1/%d %d\n", nr, last);
	return 0;
}

static int show_stat(const struct pfs_node *n UNUSED, struct pfs_buf *b)
{
	struct kernel *k = proc_kernel();
	uint64_t up = k ? uptime_ns(k) : 0, idle = up / 10000000ULL;
	int nr = 1, last = 1;
	struct timespec now;

	if (k) {
		pthread_mutex_lock(&k->lock);
		nr = k->nr_tasks;
		last = k->next_pid - 1;
		pthread_mutex_unlock(&k->lock);
	}
	clock_gettime(CLOCK_REALTIME, &now);
	/* No CPU accounting yet: every tick since boot was idle. */
	pfs_printf(b, "cpu  0 0 0 %" PRIu64 " 0 0 0 0 0 0\n",
		   idle * (uint64_t)ncpus());
	for (long i = 0; i < ncpus(); i++)
		pfs_printf(b, "cpu%ld 0 0 0 %" PRIu64 " 0 0 0 0 0 0\n", i, idle);
	pfs_printf(b, "intr 0\nctxt 0\nbtime %lld\nprocesses %d\n"
		   "procs_running %d\nprocs_blocked 0\nsoftirq 0\n",
		   (long long)(now.tv_sec - (time_t)(up / 1000000000ULL)), last,
		   nr);
	return 0;
}

static int show_filesystems(const struct pfs_node *n UNUSED, struct pfs_buf *b)
{
	pfs_printf(b, "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\n"
		   "nodev\tdevtmpfs\nnodev\toverlay\nnodev\t9p\n");
	return 0;
}

static int show_cmdline(const struct pfs_node *n UNUSED, struct pfs_buf *b)
{
	pfs_printf(b, "BOOT_IMAGE=cvisor\n");
	return 0;
}

/* ---- /proc/sys ---- */

static int show_hostname(const struct pfs_node *n UNUSED, struct pfs_buf *b)
{
	struct kernel *k = proc_kernel();

	if (!k)
		return -ESRCH;
	pthread_mutex_lock(&k->lock);
	pfs_printf(b, "%s\n", k->hostname);
	pthread_mutex_unlock(&k->lock);
	return 0;
}

static int show_domainname(const struct pfs_node *n UNUSED, struct pfs_buf *b)
{
	struct kernel *k = proc_kernel();

	if (!k)
		return -ESRCH;
	pthread_mutex_lock(&k->lock);
	pfs_printf(b, "%s\n", k->domainname[0] ? k->domainname : "(none)");
	pthread_mutex_unlock(&k->lock);
	return 0;
}

/* Writing kernel.hostname is sethostname(2) (CAP_SYS_ADMIN in the UTS
 * namespace, proc_do_uts_string); a trailing newline is dropped. */
static int store_hostname(const struct pfs_node *n UNUSED, const char *buf,
			  size_t len)
{
	struct task *t = ipc_current();

	if (!t)
		return -ESRCH;
	if (!cred_capable(&t->cred, 21 /* CAP_SYS_ADMIN */))
		return -EPERM;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\0'))
		len--;
	if (len >= sizeof(t->k->hostname))
		len = sizeof(t->k->hostname) - 1;
	pthread_mutex_lock(&t->k->lock);
	memcpy(t->k->hostname, buf, len);
	t->k->hostname[len] = '\0';
	pthread_mutex_unlock(&t->k->lock);
	return 0;
}

#define CONST_FILE(fn, fmt, ...)                                              \
	static int fn(const struct pfs_node *n UNUSED, struct pfs_buf *b)     \
	{                                                                     \
		pfs_printf(b, fmt "\n", __VA_ARGS__);                         \
		return 0;                                                     \
	}

CONST_FILE(show_ostype, "%s", "Linux")
CONST_FILE(show_osrelease, "%s", CVISOR_KERNEL_RELEASE)
CONST_FILE(show_kversion, "%s", CVISOR_KERNEL_VERSION)
CONST_FILE(show_pid_max, "%d", CV_PID_MAX)
CONST_FILE(show_threads_max, "%d", CV_MAX_TASKS)
CONST_FILE(show_ngroups_max, "%d", CV_NGROUPS_MAX)
CONST_FILE(show_cap_last_cap, "%d", 40)	/* CAP_CHECKPOINT_RESTORE in 6.1 */
CONST_FILE(show_zero, "%d", 0)
CONST_FILE(show_overcommit_ratio, "%d", 50)
CONST_FILE(show_max_map_count, "%d", 65530)
CONST_FILE(show_file_max, "%s", "9223372036854775807")
CONST_FILE(show_nr_open, "%d", VFS_NR_OPEN)
CONST_FILE(show_pipe_max, "%d", PIPE_MAX_SIZE)
CONST_FILE(show_somaxconn, "%d", 4096)
CONST_FILE(show_file_nr, "%d\t%d\t%s", 0, 0, "9223372036854775807")
/* IPC limits (cvisor/ipc.h: Linux's defaults, fixed). */
CONST_FILE(show_shmmax, "%lu", IPC_SHMMAX)
CONST_FILE(show_shmall, "%lu", IPC_SHMALL)
CONST_FILE(show_shmmni, "%d", IPC_SHMMNI)
CONST_FILE(show_sem, "%d\t%d\t%d\t%d", IPC_SEMMSL, IPC_SEMMNS, IPC_SEMOPM,
	   IPC_SEMMNI)
CONST_FILE(show_msgmax, "%d", IPC_MSGMAX)
CONST_FILE(show_msgmnb, "%d", IPC_MSGMNB)
CONST_FILE(show_msgmni, "%d", IPC_MSGMNI)
CONST_FILE(show_mq_msg_default, "%d", IPC_MQ_MSG_DEFAULT)
CONST_FILE(show_mq_msg_max, "%d", IPC_MQ_MSG_MAX)
CONST_FILE(show_mq_msgsize_default, "%d", IPC_MQ_MSGSIZE_DEFAULT)
CONST_FILE(show_mq_msgsize_max, "%d", IPC_MQ_MSGSIZE_MAX)
CONST_FILE(show_mq_queues_max, "%d", IPC_MQ_QUEUES_MAX)

/* /proc/sysvipc/{shm,sem,msg}: the sandbox's IPC namespace
 * (sentry/ipc/ns.c), read by ipcs(1). */
static int show_sysvipc(const struct pfs_node *n, struct pfs_buf *b)
{
	struct kernel *k = proc_kernel();
	char *text;
	size_t len;
	int r;

	if (!k)
		return -ENOENT;
	r = ipc_sysvipc_show(k, n->e->name, &text, &len);
	if (r < 0)
		return r;
	pfs_put(b, text, len);
	free(text);
	return 0;
}

#define RO_FILE(nm, fn) { .name = nm, .mode = S_IFREG | 0444, .show = fn }
#define DIR(nm, tbl) { .name = nm, .mode = S_IFDIR | 0555, .children = tbl }

static const struct pfs_entry sys_kernel[] = {
	RO_FILE("cap_last_cap", show_cap_last_cap),
	RO_FILE("dmesg_restrict", show_zero),
	{ .name = "domainname", .mode = S_IFREG | 0644, .show = show_domainname },
	{ .name = "hostname", .mode = S_IFREG | 0644, .show = show_hostname,
	  .store = store_hostname },
	RO_FILE("msgmax", show_msgmax),
	RO_FILE("msgmnb", show_msgmnb),
	RO_FILE("msgmni", show_msgmni),
	RO_FILE("ngroups_max", show_ngroups_max),
	RO_FILE("osrelease", show_osrelease),
	RO_FILE("ostype", show_ostype),
	RO_FILE("pid_max", show_pid_max),
	RO_FILE("sem", show_sem),
	RO_FILE("shmall", show_shmall),
	RO_FILE("shmmax", show_shmmax),
	RO_FILE("shmmni", show_shmmni),
	RO_FILE("threads-max", show_threads_max),
	RO_FILE("version", show_kversion),
	{ 0 },
};
static const struct pfs_entry sys_vm[] = {
	RO_FILE("max_map_count", show_max_map_count),
	RO_FILE("overcommit_memory", show_zero),
	RO_FILE("overcommit_ratio", show_overcommit_ratio),
	{ 0 },
};
static const struct pfs_entry sys_fs_mqueue[] = {
	RO_FILE("msg_default", show_mq_msg_default),
	RO_FILE("msg_max", show_mq_msg_max),
	RO_FILE("msgsize_default", show_mq_msgsize_default),
	RO_FILE("msgsize_max", show_mq_msgsize_max),
	RO_FILE("queues_max", show_mq_queues_max),
	{ 0 },
};
static const struct pfs_entry sys_fs[] = {
	RO_FILE("file-max", show_file_max),
	RO_FILE("file-nr", show_file_nr),
	DIR("mqueue", sys_fs_mqueue),
	RO_FILE("nr_open", show_nr_open),
	RO_FILE("pipe-max-size", show_pipe_max),
	{ 0 },
};
static const struct pfs_entry sys_net_core[] = {
	RO_FILE("somaxconn", show_somaxconn),
	{ 0 },
};
static const struct pfs_entry sys_net[] = {
	DIR("core", sys_net_core),
	{ 0 },
};
static const struct pfs_entry proc_sys[] = {
	DIR("fs", sys_fs),
	DIR("kernel", sys_kernel),
	DIR("net", sys_net),
	DIR("vm", sys_vm),
	{ 0 },
};

static const struct pfs_entry proc_sysvipc[] = {
	RO_FILE("msg", show_sysvipc),
	RO_FILE("sem", show_sysvipc),
	RO_FILE("shm", show_sysvipc),
	{ 0 },
};

static const struct pfs_entry proc_root_children[] = {
	RO_FILE("cmdline", show_cmdline),
	RO_FILE("cpuinfo", show_cpuinfo),
	RO_FILE("filesystems", show_filesystems),
	RO_FILE("loadavg", show_loadavg),
	RO_FILE("meminfo", show_meminfo),
	{ .name = "mounts", .mode = S_IFLNK | 0777, .link = mounts_link },
	{ .name = "self", .mode = S_IFLNK | 0777, .link = self_link },
	RO_FILE("stat", show_stat),
	DIR("sys", proc_sys),
	DIR("sysvipc", proc_sysvipc),
	{ .name = "thread-self", .mode = S_IFLNK | 0777,
	  .link = thread_self_link },
	RO_FILE("uptime", show_uptime),
	RO_FILE("version", show_version),
	{ 0 },
};

static const struct pfs_entry proc_root = {
	.name = "/",
	.mode = S_IFDIR | 0555,
	.children = proc_root_children,
	.lookup = proc_root_lookup,
	.iterate = proc_root_iterate,
};

static void load_host_cpuinfo(void)
{
	struct pfs_buf b = { 0 };
	char chunk[4096];
	FILE *fp;
	size_t n;

	if (host_cpuinfo)
		return;
	fp = fopen("/proc/cpuinfo", "re");
	if (!fp)
		return;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		pfs_put(&b, chunk, n);
	fclose(fp);
	if (b.err)
		free(b.s);
	else
		host_cpuinfo = b.s;
}

int procfs_new(struct vfs *vfs, struct super_block **sb, struct dentry **root)
{
	load_host_cpuinfo();
	return pfs_new(vfs, FS_PROC, "proc", &proc_root, PROC_SUPER_MAGIC, sb,
		       root);
}

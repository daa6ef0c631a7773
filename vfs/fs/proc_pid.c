// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/[pid] and /proc/[pid]/task/[tid] (fs/proc/base.c, array.c): the
 * per-process files, the fd/ and fdinfo/ directories, and the links exe,
 * cwd, root and fd/N.
 *
 * Locks: text generators (show) run from read(2) with no vfs lock held, so
 * they may take mm->lock (maps, cmdline) — mm->lock is outside vfs->lock
 * (mm puts files under it). Lookups, listings and link texts run with
 * vfs->lock held and take only kernel->lock, fdtable->lock and
 * fs_struct->lock briefly inside it, never mm->lock — except the exe link
 * (see exe_link). kernel->lock is never held across anything else.
 *
 * References: struct task_refs from procinfo_get (sentry/kernel/procinfo.c)
 * are dropped before returning; fd proxies hold one file reference.
 *
 * fd/N links read like Linux's ("/path", "pipe:[ino]", "anon_inode:[...]",
 * "socket:[ino]"). Opening a path link reopens the file by its path, as
 * Linux reopens the inode. Opening a non-path link: the walk resolves the
 * relative text inside fd/, where lookup answers with a proxy that forwards
 * I/O to the very open file description (dup semantics; Linux opens a new
 * description of the same pipe, which differs only in O_* flags and mode).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cvisor/mm.h"
#include "cvisor/task.h"
#include "../vfs_impl.h"

static int parse_num(const char *name, size_t len)
{
	long v = 0;

	if (!len || len > 9 || (name[0] == '0' && len > 1))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		v = v * 10 + (name[i] - '0');
	}
	return (int)v;
}

static int node_get(const struct pfs_node *n, unsigned int want,
		    struct task_refs *r)
{
	struct kernel *k = proc_kernel();

	if (!k)
		return -ESRCH;
	return procinfo_get(k, n->tid > 0 ? n->tid : n->pid, want, r);
}

/* ---- the root: PIDs ---- */

struct idlist {
	int *ids;
	int n, cap;
	bool leaders;
	struct task *group;	/* threads of this group only */
};

static void collect(struct task *t, void *arg)
{
	struct idlist *l = arg;

	if (l->leaders && t->tid != t->tgid)
		return;
	if (l->n == l->cap) {
		int ncap = l->cap ? l->cap * 2 : 64;
		int *n = realloc(l->ids, sizeof(int) * (size_t)ncap);

		if (!n)
			return;
		l->ids = n;
		l->cap = ncap;
	}
	l->ids[l->n++] = l->leaders ? t->tgid : t->tid;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void emit_ids(struct idlist *l, struct dir_ctx *ctx, unsigned int type)
{
	qsort(l->ids, (size_t)l->n, sizeof(int), cmp_int);
	for (int i = 0; i < l->n; i++) {
		char name[16];
		int len;

		if (PFS_DYN_POS + l->ids[i] < ctx->pos)
			continue;
		len = snprintf(name, sizeof(name), "%d", l->ids[i]);
		if (!ctx->actor(ctx, name, (size_t)len,
				0x100000000ULL + (uint64_t)l->ids[i], type,
				PFS_DYN_POS + l->ids[i] + 1))
			break;
	}
	free(l->ids);
}

int proc_root_iterate(const struct pfs_node *dir UNUSED, struct dir_ctx *ctx)
{
	struct kernel *k = proc_kernel();
	struct idlist l = { .leaders = true };

	if (!k)
		return 0;
	pthread_mutex_lock(&k->lock);
	kernel_for_each_task(k, collect, &l);
	pthread_mutex_unlock(&k->lock);
	emit_ids(&l, ctx, DT_DIR);
	return 0;
}

/* /proc/N for any live TID N (Linux lists only thread-group leaders but
 * finds every thread). */
int proc_root_lookup(const struct pfs_node *dir UNUSED, const char *name,
		     size_t len, struct pfs_node *out)
{
	struct kernel *k = proc_kernel();
	int id = parse_num(name, len);
	struct task *t;

	if (id <= 0 || !k)
		return -ENOENT;
	pthread_mutex_lock(&k->lock);
	t = kernel_find_task(k, id);
	if (t) {
		out->pid = t->tgid;
		out->tid = id;
		out->uid = t->cred.euid;
		out->gid = t->cred.egid;
	}
	pthread_mutex_unlock(&k->lock);
	if (!t)
		return -ENOENT;
	out->e = &proc_pid_dir;
	out->fd = -1;
	return 0;
}

/* ---- task/ ---- */

static int task_iterate(const struct pfs_node *dir, struct dir_ctx *ctx)
{
	struct kernel *k = proc_kernel();
	struct idlist l = { .leaders = false };
	struct task *t;

	if (!k)
		return 0;
	pthread_mutex_lock(&k->lock);
	t = kernel_find_task(k, dir->pid);
	if (t)
		process_for_each_thread(t, collect, &l);
	pthread_mutex_unlock(&k->lock);
	emit_ids(&l, ctx, DT_DIR);
	return 0;
}

static int task_lookup(const struct pfs_node *dir, const char *name,
		       size_t len, struct pfs_node *out)
{
	struct kernel *k = proc_kernel();
	int id = parse_num(name, len);
	struct task *t;
	bool ok = false;

	if (id <= 0 || !k)
		return -ENOENT;
	pthread_mutex_lock(&k->lock);
	t = kernel_find_task(k, id);
	if (t && t->tgid == dir->pid) {
		ok = true;
		out->uid = t->cred.euid;
		out->gid = t->cred.egid;
	}
	pthread_mutex_unlock(&k->lock);
	if (!ok)
		return -ENOENT;
	out->e = &proc_tid_dir;
	out->tid = id;
	return 0;
}

/* ---- fd/ and fdinfo/ ---- */

static struct file *fd_file(const struct pfs_node *n, int fd,
			    struct task_refs *r)
{
	struct file *f;

	if (node_get(n, PROCINFO_FDT | PROCINFO_FS, r) < 0)
		return NULL;
	f = r->fdt ? fdtable_get(r->fdt, fd) : NULL;
	if (!f)
		procinfo_put(r);
	return f;
}

/* What readlink(2) of /proc/PID/fd/N says (fs/d_path.c, pipefs dname). */
static int file_link_text(struct file *f, struct fs_struct *fs, char *buf,
			  size_t size)
{
	struct stat st;
	int n;

	if (f->path.mnt) {
		struct path root;

		pthread_mutex_lock(&fs->lock);
		root = fs->root;
		pthread_mutex_unlock(&fs->lock);
		n = vfs_path_name(f->inode->sb->vfs, &root, &f->path, buf,
				  size);
		if (n >= 0 && f->path.dentry->dead)
			n += snprintf(buf + n, size - (size_t)n, " (deleted)");
		return n < (int)size ? n : -ENAMETOOLONG;
	}
	if (f->hostfd >= 0 && !f->inode) {
		/* Host stdio: say what it is without naming host paths. */
		if (fstat(f->hostfd, &st) < 0)
			return -errno;
		if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 136)
			return snprintf(buf, size, "/dev/pts/%u",
					minor(st.st_rdev));
		if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
		    minor(st.st_rdev) == 3)
			return snprintf(buf, size, "/dev/null");
		if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 5)
			return snprintf(buf, size, "/dev/tty");
		if (S_ISFIFO(st.st_mode))
			return snprintf(buf, size, "pipe:[%lu]",
					(unsigned long)st.st_ino);
		if (S_ISSOCK(st.st_mode))
			return snprintf(buf, size, "socket:[%lu]",
					(unsigned long)st.st_ino);
		return snprintf(buf, size, "host:[%lu]",
				(unsigned long)st.st_ino);
	}
	if (file_is_epoll(f))
		return snprintf(buf, size, "anon_inode:[eventpoll]");
	if (file_is_timerfd(f))
		return snprintf(buf, size, "anon_inode:[timerfd]");
	if (file_is_signalfd(f))
		return snprintf(buf, size, "anon_inode:[signalfd]");
	/* pidfs keeps the anon_inode name for compatibility. */
	if (file_is_pidfd(f))
		return snprintf(buf, size, "anon_inode:[pidfd]");
	if (vfs_fstat(f, &st) == 0) {
		if (S_ISFIFO(st.st_mode))
			return snprintf(buf, size, "pipe:[%lu]",
					(unsigned long)st.st_ino);
		if (S_ISSOCK(st.st_mode))
			return snprintf(buf, size, "socket:[%lu]",
					(unsigned long)st.st_ino);
	}
	return snprintf(buf, size, "anon_inode:[eventfd]");
}

static int fd_link(const struct pfs_node *n, char *buf, size_t size)
{
	struct task_refs r;
	struct file *f = fd_file(n, n->fd, &r);
	char tmp[VFS_PATH_MAX];
	int len;

	if (!f)
		return -ENOENT;
	len = file_link_text(f, r.fs, tmp, sizeof(tmp));
	vfs_file_put(f);
	procinfo_put(&r);
	if (len < 0)
		return len;
	len = MIN(len, (int)size);
	memcpy(buf, tmp, (size_t)len);
	return len;
}

static int show_fdinfo(const struct pfs_node *n, struct pfs_buf *b)
{
	struct task_refs r;
	struct file *f = fd_file(n, n->fd, &r);
	struct stat st = { 0 };
	int cloexec;

	if (!f)
		return -ENOENT;
	cloexec = fdtable_get_cloexec(r.fdt, n->fd);
	vfs_fstat(f, &st);
	pfs_printf(b, "pos:\t%lld\nflags:\t0%o\nmnt_id:\t%d\nino:\t%lu\n",
		   (long long)f->pos,
		   f->flags | (cloexec > 0 ? O_CLOEXEC : 0),
		   f->path.mnt ? 1 : 0, (unsigned long)st.st_ino);
	/* pidfd_show_fdinfo(), signalfd_show_fdinfo() */
	if (file_is_pidfd(f))
		pfs_printf(b, "Pid:\t%d\nNSpid:\t%d\n", pidfd_file_pid(f),
			   pidfd_file_pid(f));
	if (file_is_signalfd(f))
		pfs_printf(b, "sigmask:\t%016llx\n",
			   (unsigned long long)signalfd_file_mask(f));
	vfs_file_put(f);
	procinfo_put(&r);
	return 0;
}

/* ---- fd proxies: open through a non-path fd link ---- */

static ssize_t fwd_read(struct file *f, const struct iovec *iov, int cnt,
			int64_t *off UNUSED)
{
	struct file *o = f->priv;

	return vfs_read_iov(o, iov, cnt, NULL);
}

static ssize_t fwd_write(struct file *f, const struct iovec *iov, int cnt,
			 int64_t *off UNUSED)
{
	struct file *o = f->priv;

	return vfs_write_iov(o, iov, cnt, NULL);
}

static long fwd_ioctl(struct file *f, unsigned int cmd, void *arg)
{
	struct file *o = f->priv;

	return o->ops->ioctl ? o->ops->ioctl(o, cmd, arg) : -ENOTTY;
}

static int fwd_fstat(struct file *f, struct stat *st)
{
	return vfs_fstat(f->priv, st);
}

static int64_t fwd_llseek(struct file *f UNUSED, int64_t off UNUSED,
			  int whence UNUSED)
{
	return -ESPIPE;
}

static void fwd_release(struct file *f)
{
	vfs_file_put(f->priv);
	f->priv = NULL;
}

static const struct file_ops fwd_fops = {
	.read = fwd_read,
	.write = fwd_write,
	.ioctl = fwd_ioctl,
	.fstat = fwd_fstat,
	.llseek = fwd_llseek,
	.release = fwd_release,
};

static int proxy_open(const struct pfs_node *n, struct file *f)
{
	struct task_refs r;
	struct file *o = fd_file(n, n->fd, &r);

	if (!o)
		return -ENOENT;
	procinfo_put(&r);
	if (((f->fmode & FMODE_READ) && !(o->fmode & FMODE_READ)) ||
	    ((f->fmode & FMODE_WRITE) && !(o->fmode & FMODE_WRITE))) {
		vfs_file_put(o);
		return -EACCES;
	}
	f->priv = o;
	f->ops = &fwd_fops;
	f->fmode = (f->fmode & ~FMODE_PREAD) | FMODE_STREAM;
	f->flags = (f->flags & O_ACCMODE) | (o->flags & ~O_ACCMODE);
	return 0;
}

static const struct pfs_entry fd_link_entry = {
	.name = "fd", .mode = S_IFLNK | 0700, .link = fd_link, .dynamic = true,
};
static const struct pfs_entry fd_proxy_entry = {
	.name = "proxy", .mode = S_IFIFO | 0600, .open = proxy_open,
	.dynamic = true,
};
static const struct pfs_entry fdinfo_entry = {
	.name = "fdinfo", .mode = S_IFREG | 0444, .show = show_fdinfo,
	.dynamic = true,
};

static void fd_list(const struct pfs_node *dir, struct dir_ctx *ctx,
		    unsigned int type)
{
	struct task_refs r;
	int fd;

	if (node_get(dir, PROCINFO_FDT, &r) < 0)
		return;
	for (fd = (int)MAX(ctx->pos - PFS_DYN_POS, 0); r.fdt; fd++) {
		char name[16];
		bool open;
		int len;

		pthread_mutex_lock(&r.fdt->lock);
		if (fd >= r.fdt->size) {
			pthread_mutex_unlock(&r.fdt->lock);
			break;
		}
		open = r.fdt->files[fd] != NULL;
		pthread_mutex_unlock(&r.fdt->lock);
		if (!open)
			continue;
		len = snprintf(name, sizeof(name), "%d", fd);
		if (!ctx->actor(ctx, name, (size_t)len,
				0x200000000ULL + (uint64_t)fd, type,
				PFS_DYN_POS + fd + 1))
			break;
	}
	procinfo_put(&r);
}

static int fd_iterate(const struct pfs_node *dir, struct dir_ctx *ctx)
{
	fd_list(dir, ctx, DT_LNK);
	return 0;
}

static int fdinfo_iterate(const struct pfs_node *dir, struct dir_ctx *ctx)
{
	fd_list(dir, ctx, DT_REG);
	return 0;
}

static int fd_lookup_common(const struct pfs_node *dir, const char *name,
			    size_t len, struct pfs_node *out, bool info)
{
	int fd = parse_num(name, len);
	struct task_refs r;
	struct file *f;

	if (fd >= 0) {
		f = fd_file(dir, fd, &r);
		if (!f)
			return -ENOENT;
		out->fd = fd;
		out->e = info ? &fdinfo_entry : &fd_link_entry;
		if (!info)
			out->mode = S_IFLNK |
				((f->fmode & FMODE_READ) ? 0500 : 0100) |
				((f->fmode & FMODE_WRITE) ? 0200 : 0);
		vfs_file_put(f);
		procinfo_put(&r);
		return 0;
	}
	if (info)
		return -ENOENT;
	/* The text of a non-path link ("pipe:[5]"), met while following
	 * it: the first fd that reads that way. */
	if (node_get(dir, PROCINFO_FDT | PROCINFO_FS, &r) < 0)
		return -ENOENT;
	for (fd = 0; r.fdt; fd++) {
		char text[64];
		struct stat st;
		int n;

		pthread_mutex_lock(&r.fdt->lock);
		if (fd >= r.fdt->size) {
			pthread_mutex_unlock(&r.fdt->lock);
			break;
		}
		pthread_mutex_unlock(&r.fdt->lock);
		f = fdtable_get(r.fdt, fd);
		if (!f)
			continue;
		if (f->path.mnt) {
			vfs_file_put(f);
			continue;
		}
		n = file_link_text(f, r.fs, text, sizeof(text));
		if (n == (int)len && !memcmp(text, name, len)) {
			out->fd = fd;
			out->e = &fd_proxy_entry;
			out->mode = S_IFIFO | 0600;
			if (vfs_fstat(f, &st) == 0 && (st.st_mode & S_IFMT))
				out->mode = (st.st_mode & S_IFMT) | 0600;
			vfs_file_put(f);
			procinfo_put(&r);
			return 0;
		}
		vfs_file_put(f);
	}
	procinfo_put(&r);
	return -ENOENT;
}

static int fd_lookup(const struct pfs_node *dir, const char *name, size_t len,
		     struct pfs_node *out)
{
	return fd_lookup_common(dir, name, len, out, false);
}

static int fdinfo_lookup(const struct pfs_node *dir, const char *name,
			 size_t len, struct pfs_node *out)
{
	return fd_lookup_common(dir, name, len, out, true);
}

/* ---- links: cwd, root, exe ---- */

static int copy_text(const char *tmp, int len, char *buf, size_t size)
{
	if (len < 0)
		return len;
	len = MIN(len, (int)size);
	memcpy(buf, tmp, (size_t)len);
	return len;
}

static int fs_link(const struct pfs_node *n, char *buf, size_t size, bool cwd)
{
	struct task_refs r;
	char tmp[VFS_PATH_MAX];
	struct path root, p;
	int len;

	if (node_get(n, PROCINFO_FS, &r) < 0)
		return -ENOENT;
	if (!r.fs) {
		procinfo_put(&r);
		return -ENOENT;
	}
	pthread_mutex_lock(&r.fs->lock);
	root = r.fs->root;
	p = cwd ? r.fs->cwd : r.fs->root;
	pthread_mutex_unlock(&r.fs->lock);
	/* Seen from the task's own root, like the reader's in Linux when
	 * both share a root (always, in one sandbox without chroot). */
	len = vfs_path_name(r.fs->vfs, &root, &p, tmp, sizeof(tmp) - 16);
	/* A removed cwd: d_path() says " (deleted)" too. */
	if (len >= 0 && p.dentry->dead) {
		memcpy(tmp + len, " (deleted)", 10);
		len += 10;
	}
	procinfo_put(&r);
	return copy_text(tmp, len, buf, size);
}

static int cwd_link(const struct pfs_node *n, char *buf, size_t size)
{
	return fs_link(n, buf, size, true);
}

static int root_link(const struct pfs_node *n, char *buf, size_t size)
{
	return fs_link(n, buf, size, false);
}

/*
 * exe: the path of mm->exe_file, the file execve loaded (for a #! script,
 * its interpreter), recorded by the loader; reading it takes no mm->lock.
 * Only an mm without one (none today) falls back to AT_EXECFN resolved in
 * the task's root and cwd, which reads the stack under mm->lock and so
 * inverts mm->lock -> vfs->lock when a walk follows the link.
 */
static __thread int exe_depth;

static int exe_link(const struct pfs_node *n, char *buf, size_t size)
{
	struct task_refs r;
	struct walk_result res;
	char tmp[VFS_PATH_MAX];
	struct path root, cwd;
	char *args = NULL;
	size_t alen, i;
	int len = -ENOENT;
	uint64_t top;

	if (node_get(n, PROCINFO_MM | PROCINFO_FS, &r) < 0)
		return -ENOENT;
	if (!r.mm || !r.fs)
		goto out;
	{
		/* The file execve recorded (mm->exe_file): its path now,
		 * " (deleted)" once unlinked, as d_path() shows it. */
		struct file *ef = mm_exe_file(r.mm);

		if (ef && ef->path.mnt) {
			pthread_mutex_lock(&r.fs->lock);
			root = r.fs->root;
			pthread_mutex_unlock(&r.fs->lock);
			len = vfs_path_name(r.fs->vfs, &root, &ef->path, tmp,
					    sizeof(tmp) - 16);
			if (len >= 0 && ef->path.dentry->dead) {
				memcpy(tmp + len, " (deleted)", 10);
				len += 10;
			}
			vfs_file_put(ef);
			goto out;
		}
		if (ef)
			vfs_file_put(ef);
	}
	/* Fallback without a recorded file. AT_EXECFN is the string just below the stack's 8-byte marker. */
	top = mm_stack_top(r.mm);
	{
		char page[PAGE_SIZE];

		if (mm_copy_in(r.mm, page, top - PAGE_SIZE, PAGE_SIZE))
			goto out;
		i = PAGE_SIZE - 9;
		if (page[i])
			goto out;
		while (i > 0 && page[i - 1])
			i--;
		alen = PAGE_SIZE - 9 - i;
		if (!alen || alen >= sizeof(tmp))
			goto out;
		memcpy(tmp, page + i, alen);
		tmp[alen] = '\0';
	}
	pthread_mutex_lock(&r.fs->lock);
	root = r.fs->root;
	cwd = r.fs->cwd;
	pthread_mutex_unlock(&r.fs->lock);
	/* An image started through /proc/self/exe has that as AT_EXECFN:
	 * resolving it would come back here for ever. Say the name as given
	 * instead (a walk then fails with ELOOP). */
	if (exe_depth) {
		len = (int)alen;
		goto out;
	}
	exe_depth++;
	{
		struct cred c = { 0 };	/* path lookup as the kernel */
		int w;

		pthread_mutex_lock(&r.fs->vfs->lock);
		w = vfs_walk(r.fs->vfs, &c, &root, &cwd, tmp, WALK_FOLLOW, &res);
		pthread_mutex_unlock(&r.fs->vfs->lock);
		if (w == 0 && res.path.dentry)
			len = vfs_path_name(r.fs->vfs, &root, &res.path, tmp,
					    sizeof(tmp));
		else
			len = (int)alen;	/* gone: the name as given */
	}
	exe_depth--;
out:
	free(args);
	procinfo_put(&r);
	return copy_text(tmp, len, buf, size);
}

/* ---- text files ---- */

static char state_char(struct task *t)
{
	if (t->exited || (t->proc && t->proc->state != PROC_RUNNING &&
			  t->tid == t->tgid && t->proc->nr_threads == 0))
		return 'Z';
	if (t == ipc_current())
		return 'R';
	return 'S';
}

static const char *state_name(char c)
{
	switch (c) {
	case 'R':
		return "R (running)";
	case 'Z':
		return "Z (zombie)";
	default:
		return "S (sleeping)";
	}
}

/* The platform's vDSO mappings as maps lines (Linux lists [vvar],
 * [vvar_vclock] and [vdso] like any VMA, fs/proc/task_mmu.c show_map).
 * They lie above every workload VMA, so they go last. Returns the length
 * written, or -1 when buf is too small. */
static int maps_vdso(struct mm *mm, char *buf, size_t size)
{
	struct platform_as *as = mm_platform_as(mm);
	const struct platform_vdso *v;
	size_t pos = 0;

	if (size)
		buf[0] = 0;
	if (!as || !as->p || !as->p->ops->vdso)
		return 0;
	v = as->p->ops->vdso(as->p);
	for (unsigned int i = 0; v && i < v->nmaps; i++) {
		int n = snprintf(buf + pos, size - pos,
				 "%08" PRIx64 "-%08" PRIx64
				 " %c%c%cp 00000000 00:00 0                          %s\n",
				 v->maps[i].start, v->maps[i].end,
				 v->maps[i].prot & PROT_READ ? 'r' : '-',
				 v->maps[i].prot & PROT_WRITE ? 'w' : '-',
				 v->maps[i].prot & PROT_EXEC ? 'x' : '-',
				 v->maps[i].name);

		if (n < 0 || (size_t)n >= size - pos)
			return -1;
		pos += (size_t)n;
	}
	return (int)pos;
}

/* The maps text of mm into buf: the mm's VMAs, then the vDSO's. The
 * length, or -1 when it does not fit. */
static int maps_text(struct mm *mm, char *buf, size_t cap)
{
	int len = mm_dump_maps(mm, buf, cap), n;

	if (len < 0 || (size_t)len + 1 >= cap)
		return -1;
	n = maps_vdso(mm, buf + len, cap - (size_t)len);
	return n < 0 ? -1 : len + n;
}

/* VmSize and the text size from the maps listing. */
static void vm_sizes(struct mm *mm, uint64_t *vsize, uint64_t *rss)
{
	size_t cap = 1 << 20;
	char *buf = malloc(cap);
	char *p;

	*vsize = 0;
	*rss = 0;
	if (!mm || !buf) {
		free(buf);
		return;
	}
	if (maps_text(mm, buf, cap) < 0)
		mm_dump_maps(mm, buf, cap);
	for (p = buf; *p;) {
		unsigned long long s, e;

		if (sscanf(p, "%llx-%llx", &s, &e) == 2 && e > s)
			*vsize += e - s;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	free(buf);
	*rss = mm_resident(mm);
}

struct stat_info {
	char comm[CV_TASK_COMM_LEN];
	char state;
	int pid, tid, ppid, pgid, sid, nthreads, exit_signal;
	uint32_t uid[4], gid[4];
	uint64_t blocked, pending;
	int ngroups;
	uint32_t groups[32];
	uint64_t capinh, capprm, capeff, capbnd, capamb;
	bool nnp;
	struct rlimit rl[CV_RLIM_NLIMITS];
};

static int stat_info(const struct pfs_node *n, struct stat_info *si,
		     struct task_refs *r, unsigned int want)
{
	struct task *t;
	struct kernel *k;
	int err = node_get(n, want, r);

	if (err < 0)
		return err;
	t = r->t;
	k = t->k;
	memset(si, 0, sizeof(*si));
	pthread_mutex_lock(&k->lock);
	memcpy(si->comm, t->comm, sizeof(si->comm));
	si->comm[sizeof(si->comm) - 1] = '\0';
	si->state = state_char(t);
	si->pid = t->tgid;
	si->tid = t->tid;
	si->ppid = t->proc && t->proc->parent ? t->proc->parent->tgid : 0;
	si->pgid = t->proc ? t->proc->pgid : t->pgid;
	si->sid = t->proc ? t->proc->sid : t->sid;
	si->nthreads = t->proc ? t->proc->nr_threads : 1;
	if (si->nthreads < 1)
		si->nthreads = 1;
	si->exit_signal = t->proc ? t->proc->exit_signal : 17;
	si->uid[0] = t->cred.ruid;
	si->uid[1] = t->cred.euid;
	si->uid[2] = t->cred.suid;
	si->uid[3] = t->cred.fsuid;
	si->gid[0] = t->cred.rgid;
	si->gid[1] = t->cred.egid;
	si->gid[2] = t->cred.sgid;
	si->gid[3] = t->cred.fsgid;
	si->ngroups = MIN(t->cred.ngroups, 32);
	memcpy(si->groups, t->cred.groups, sizeof(uint32_t) * (size_t)si->ngroups);
	si->capinh = t->cred.cap_inheritable;
	si->capprm = t->cred.cap_permitted;
	si->capeff = t->cred.cap_effective;
	si->capbnd = t->cred.cap_bset;
	si->capamb = t->cred.cap_ambient;
	si->nnp = t->no_new_privs;
	si->blocked = __atomic_load_n(&t->sig.blocked, __ATOMIC_RELAXED);
	memcpy(si->rl, t->rlimits, sizeof(si->rl));
	pthread_mutex_unlock(&k->lock);
	return 0;
}

static bool in_tid_dir(const struct pfs_node *n);

static int show_stat(const struct pfs_node *n, struct pfs_buf *b)
{
	struct task_refs r;
	struct stat_info si;
	uint64_t vsize, rss, cpu[4], flt[4];
	uint64_t tick = 1000000000ULL / 100;	/* USER_HZ */
	int err = stat_info(n, &si, &r, PROCINFO_MM);

	if (err < 0)
		return err;
	vm_sizes(r.mm, &vsize, &rss);
	/* The same figures as getrusage/times (sentry/kernel/procinfo.c). */
	procinfo_cputimes(r.t, in_tid_dir(n), cpu);
	procinfo_faults(r.t, in_tid_dir(n), flt);
	/* fs/proc/array.c do_task_stat(): 52 fields. The start time is 0. */
	pfs_printf(b,
		   "%d (%s) %c %d %d %d 0 -1 4194560 %" PRIu64 " %" PRIu64
		   " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
		   " %" PRIu64 " %" PRIu64 " 20 0 %d 0 "
		   "0 %" PRIu64 " %" PRIu64 " 18446744073709551615 0 0 0 0 0 "
		   "0 %" PRIu64 " 0 0 0 0 0 %d 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		   n->tid > 0 ? n->tid : si.pid, si.comm, si.state, si.ppid,
		   si.pgid, si.sid, flt[0], flt[1], flt[2], flt[3],
		   cpu[0] / tick, cpu[1] / tick, cpu[2] / tick, cpu[3] / tick,
		   si.nthreads, vsize, rss / PAGE_SIZE, si.blocked,
		   si.exit_signal);
	procinfo_put(&r);
	return 0;
}

static int show_statm(const struct pfs_node *n, struct pfs_buf *b)
{
	struct task_refs r;
	uint64_t vsize, rss;

	if (node_get(n, PROCINFO_MM, &r) < 0)
		return -ESRCH;
	vm_sizes(r.mm, &vsize, &rss);
	pfs_printf(b, "%" PRIu64 " %" PRIu64 " 0 0 0 0 0\n", vsize / PAGE_SIZE,
		   rss / PAGE_SIZE);
	procinfo_put(&r);
	return 0;
}

static int show_status(const struct pfs_node *n, struct pfs_buf *b)
{
	struct task_refs r;
	struct stat_info si;
	uint64_t vsize, rss;
	int err = stat_info(n, &si, &r, PROCINFO_MM | PROCINFO_FDT);
	int fdsize = 0;

	if (err < 0)
		return err;
	vm_sizes(r.mm, &vsize, &rss);
	if (r.fdt) {
		pthread_mutex_lock(&r.fdt->lock);
		fdsize = r.fdt->size;
		pthread_mutex_unlock(&r.fdt->lock);
	}
	/* fs/proc/array.c proc_pid_status(). */
	pfs_printf(b, "Name:\t%s\nUmask:\t0022\nState:\t%s\nTgid:\t%d\n"
		   "Ngid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n"
		   "Uid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\n"
		   "FDSize:\t%d\nGroups:\t",
		   si.comm, state_name(si.state), si.pid,
		   n->tid > 0 ? n->tid : si.pid, si.ppid, si.uid[0], si.uid[1],
		   si.uid[2], si.uid[3], si.gid[0], si.gid[1], si.gid[2],
		   si.gid[3], fdsize);
	for (int i = 0; i < si.ngroups; i++)
		pfs_printf(b, "%u ", si.groups[i]);
	pfs_printf(b, "\nNStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n",
		   si.pid, n->tid > 0 ? n->tid : si.pid, si.pgid, si.sid);
	if (r.mm)
		pfs_printf(b, "VmPeak:\t%8" PRIu64 " kB\nVmSize:\t%8" PRIu64
			   " kB\nVmRSS:\t%8" PRIu64 " kB\n",
			   vsize / 1024, vsize / 1024, rss / 1024);
	pfs_printf(b, "Threads:\t%d\nSigQ:\t0/%lu\n"
		   "SigPnd:\t%016" PRIx64 "\nShdPnd:\t%016" PRIx64 "\n"
		   "SigBlk:\t%016" PRIx64 "\nSigIgn:\t%016" PRIx64 "\n"
		   "SigCgt:\t%016" PRIx64 "\n"
		   "CapInh:\t%016" PRIx64 "\nCapPrm:\t%016" PRIx64 "\n"
		   "CapEff:\t%016" PRIx64 "\nCapBnd:\t%016" PRIx64 "\n"
		   "CapAmb:\t%016" PRIx64 "\nNoNewPrivs:\t%d\nSeccomp:\t0\n"
		   "Cpus_allowed_list:\t0-%ld\n"
		   "voluntary_ctxt_switches:\t0\n"
		   "nonvoluntary_ctxt_switches:\t0\n",
		   si.nthreads,
		   (unsigned long)si.rl[RLIMIT_SIGPENDING].rlim_cur,
		   (uint64_t)0, (uint64_t)0, si.blocked, (uint64_t)0,
		   (uint64_t)0, si.capinh, si.capprm, si.capeff, si.capbnd,
		   si.capamb, si.nnp ? 1 : 0, sysconf(_SC_NPROCESSORS_ONLN) - 1);
	procinfo_put(&r);
	return 0;
}

static int show_args(const struct pfs_node *n, struct pfs_buf *b, bool env)
{
	struct task_refs r;
	char *s = NULL;
	size_t len = 0;
	int err;

	if (node_get(n, PROCINFO_MM, &r) < 0)
		return -ESRCH;
	err = r.mm ? procinfo_args(r.mm, env, &s, &len) : 0;
	if (err == 0 && s)
		pfs_put(b, s, len);
	free(s);
	procinfo_put(&r);
	return err;
}

static int show_cmdline(const struct pfs_node *n, struct pfs_buf *b)
{
	return show_args(n, b, false);
}

static int show_environ(const struct pfs_node *n, struct pfs_buf *b)
{
	return show_args(n, b, true);
}

static int show_maps(const struct pfs_node *n, struct pfs_buf *b)
{
	struct task_refs r;
	size_t cap = 1 << 16;

	if (node_get(n, PROCINFO_MM, &r) < 0)
		return -ESRCH;
	while (r.mm) {
		char *buf = malloc(cap);
		int len;

		if (!buf)
			break;
		len = maps_text(r.mm, buf, cap);
		if (len >= 0) {
			pfs_put(b, buf, (size_t)len);
			free(buf);
			break;
		}
		free(buf);
		if (cap >= (64u << 20))
			break;
		cap *= 4;
	}
	procinfo_put(&r);
	return 0;
}

/* The text comes from the mount table (vfs/mount.c), as seen from the
 * task's root. */
static int show_mounts_common(const struct pfs_node *n, struct pfs_buf *b,
			      bool info)
{
	struct task_refs r;
	struct path root;

	if (node_get(n, PROCINFO_FS, &r) < 0)
		return -ESRCH;
	if (!r.fs) {
		procinfo_put(&r);
		return 0;
	}
	pthread_mutex_lock(&r.fs->lock);
	root = r.fs->root;
	pthread_mutex_unlock(&r.fs->lock);
	vfs_show_mounts(r.fs->vfs, &root, b, info);
	procinfo_put(&r);
	return 0;
}

static int show_mounts(const struct pfs_node *n, struct pfs_buf *b)
{
	return show_mounts_common(n, b, false);
}

static int show_mountinfo(const struct pfs_node *n, struct pfs_buf *b)
{
	return show_mounts_common(n, b, true);
}

static int show_comm(const struct pfs_node *n, struct pfs_buf *b)
{
	struct task_refs r;
	struct stat_info si;
	int err = stat_info(n, &si, &r, 0);

	if (err < 0)
		return err;
	pfs_printf(b, "%s\n", si.comm);
	procinfo_put(&r);
	return 0;
}

/* comm_write(): only threads of the writer's own process (Linux checks
 * same_thread_group); the bytes as written, cut to 15. */
static int store_comm(const struct pfs_node *n, const char *buf, size_t len)
{
	struct task *cur = ipc_current();
	struct task_refs r;
	int err;

	if (!cur)
		return -ESRCH;
	err = node_get(n, 0, &r);
	if (err < 0)
		return err;
	if (r.t->tgid != cur->tgid) {
		procinfo_put(&r);
		return -EINVAL;
	}
	/* Linux keeps a trailing newline (comm_write copies the bytes). */
	len = MIN(len, (size_t)CV_TASK_COMM_LEN - 1);
	pthread_mutex_lock(&r.t->k->lock);
	memset(r.t->comm, 0, sizeof(r.t->comm));
	memcpy(r.t->comm, buf, len);
	pthread_mutex_unlock(&r.t->k->lock);
	procinfo_put(&r);
	return 0;
}

static int show_limits(const struct pfs_node *n, struct pfs_buf *b)
{
	static const struct {
		const char *name, *unit;
	} lim[] = {
		{ "Max cpu time", "seconds" },
		{ "Max file size", "bytes" },
		{ "Max data size", "bytes" },
		{ "Max stack size", "bytes" },
		{ "Max core file size", "bytes" },
		{ "Max resident set", "bytes" },
		{ "Max processes", "processes" },
		{ "Max open files", "files" },
		{ "Max locked memory", "bytes" },
		{ "Max address space", "bytes" },
		{ "Max file locks", "locks" },
		{ "Max pending signals", "signals" },
		{ "Max msgqueue size", "bytes" },
		{ "Max nice priority", "" },
		{ "Max realtime priority", "" },
		{ "Max realtime timeout", "us" },
	};
	struct task_refs r;
	struct stat_info si;
	int err = stat_info(n, &si, &r, 0);

	if (err < 0)
		return err;
	/* fs/proc/base.c proc_pid_limits(). */
	pfs_printf(b, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit",
		   "Hard Limit", "Units");
	for (size_t i = 0; i < ARRAY_SIZE(lim) && i < CV_RLIM_NLIMITS; i++) {
		char soft[32], hard[32];

		if (si.rl[i].rlim_cur == RLIM_INFINITY)
			strcpy(soft, "unlimited");
		else
			snprintf(soft, sizeof(soft), "%llu",
				 (unsigned long long)si.rl[i].rlim_cur);
		if (si.rl[i].rlim_max == RLIM_INFINITY)
			strcpy(hard, "unlimited");
		else
			snprintf(hard, sizeof(hard), "%llu",
				 (unsigned long long)si.rl[i].rlim_max);
		pfs_printf(b, "%-25s %-20s %-20s %-10s\n", lim[i].name, soft,
			   hard, lim[i].unit);
	}
	procinfo_put(&r);
	return 0;
}

/* oom_score_adj: no OOM killer in the sandbox; the value is kept per
 * process number so a read returns what was written (-1000..1000). */
#define OOM_SLOTS 64
static struct {
	pthread_mutex_t lock;
	int pid[OOM_SLOTS];
	int val[OOM_SLOTS];
} oom = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int show_oom_adj(const struct pfs_node *n, struct pfs_buf *b)
{
	int v = 0;

	pthread_mutex_lock(&oom.lock);
	for (int i = 0; i < OOM_SLOTS; i++)
		if (oom.pid[i] == n->pid)
			v = oom.val[i];
	pthread_mutex_unlock(&oom.lock);
	pfs_printf(b, "%d\n", v);
	return 0;
}

static int store_oom_adj(const struct pfs_node *n, const char *buf,
			 size_t len UNUSED)
{
	struct task *cur = ipc_current();
	char *end;
	long v = strtol(buf, &end, 10);
	int slot = -1;

	while (*end == '\n' || *end == ' ')
		end++;
	if (end == buf || *end || v < -1000 || v > 1000)
		return -EINVAL;
	/* Lowering needs CAP_SYS_RESOURCE (__set_oom_adj). */
	if (v < 0 && cur && !cred_capable(&cur->cred, 24))
		return -EACCES;
	pthread_mutex_lock(&oom.lock);
	for (int i = 0; i < OOM_SLOTS; i++) {
		if (oom.pid[i] == n->pid) {
			slot = i;
			break;
		}
		if (slot < 0 && (!oom.pid[i] || !oom.val[i]))
			slot = i;
	}
	if (slot < 0)
		slot = n->pid % OOM_SLOTS;
	oom.pid[slot] = n->pid;
	oom.val[slot] = (int)v;
	pthread_mutex_unlock(&oom.lock);
	return 0;
}

static int show_zero(const struct pfs_node *n UNUSED, struct pfs_buf *b)
{
	pfs_printf(b, "0\n");
	return 0;
}

static int show_cgroup(const struct pfs_node *n UNUSED, struct pfs_buf *b)
{
	pfs_printf(b, "0::/\n");
	return 0;
}

#define PID_FILE(nm, fn) \
	{ .name = nm, .mode = S_IFREG | 0444, .show = fn, .dynamic = true }
#define PID_LINK(nm, fn) \
	{ .name = nm, .mode = S_IFLNK | 0777, .link = fn, .dynamic = true }

#define COMMON_ENTRIES                                                         \
	PID_FILE("cgroup", show_cgroup),                                       \
	PID_FILE("cmdline", show_cmdline),                                     \
	{ .name = "comm", .mode = S_IFREG | 0644, .show = show_comm,           \
	  .store = store_comm, .dynamic = true },                              \
	PID_LINK("cwd", cwd_link),                                             \
	{ .name = "environ", .mode = S_IFREG | 0400, .show = show_environ,     \
	  .dynamic = true },                                                   \
	PID_LINK("exe", exe_link),                                             \
	{ .name = "fd", .mode = S_IFDIR | 0500, .lookup = fd_lookup,           \
	  .iterate = fd_iterate, .dynamic = true },                            \
	{ .name = "fdinfo", .mode = S_IFDIR | 0500, .lookup = fdinfo_lookup,   \
	  .iterate = fdinfo_iterate, .dynamic = true },                        \
	PID_FILE("limits", show_limits),                                       \
	PID_FILE("maps", show_maps),                                           \
	PID_FILE("mountinfo", show_mountinfo),                                 \
	PID_FILE("mounts", show_mounts),                                       \
	PID_FILE("oom_score", show_zero),                                      \
	{ .name = "oom_score_adj", .mode = S_IFREG | 0644,                     \
	  .show = show_oom_adj, .store = store_oom_adj, .dynamic = true },     \
	PID_LINK("root", root_link),                                           \
	PID_FILE("stat", show_stat),                                           \
	PID_FILE("statm", show_statm),                                         \
	PID_FILE("status", show_status)

static const struct pfs_entry tid_entries[] = {
	COMMON_ENTRIES,
	{ 0 },
};

static const struct pfs_entry pid_entries[] = {
	COMMON_ENTRIES,
	{ .name = "task", .mode = S_IFDIR | 0555, .lookup = task_lookup,
	  .iterate = task_iterate, .dynamic = true },
	{ 0 },
};

const struct pfs_entry proc_pid_dir = {
	.name = "pid", .mode = S_IFDIR | 0555, .children = pid_entries,
	.dynamic = true,
};
const struct pfs_entry proc_tid_dir = {
	.name = "tid", .mode = S_IFDIR | 0555, .children = tid_entries,
	.dynamic = true,
};

/* A file of /proc/PID/task/TID (per-thread figures, do_task_stat whole=0). */
static bool in_tid_dir(const struct pfs_node *n)
{
	return n->e >= tid_entries &&
	       n->e < tid_entries + sizeof(tid_entries) / sizeof(tid_entries[0]);
}

/*
 * Magic links (nd_jump_link() in fs/namei.c), for the walk in vfs/namei.c
 * (vfs->lock held): following fd/N of a file that has a path, cwd or root
 * jumps to that very (mount, dentry), so an unlinked or O_TMPFILE file is
 * reached too. Returns 1 with *out set; 2 for a magic link that is
 * followed by its text (fd/N of a pipe or anonymous file: see the proxies
 * above; exe); 0 for any other inode. The path stays valid while vfs->lock
 * is held unless the only other reference (the fd) is closed by another
 * thread meanwhile: a known gap, Linux pins it with a path reference.
 */
int proc_magic_link(struct inode *ino, struct path *out)
{
	const struct pfs_node *n = ino->priv;
	struct task_refs r;
	struct file *f;

	if (ino->sb->kind != FS_PROC || !S_ISLNK(ino->mode) || !n || !n->e)
		return 0;
	if (n->e == &fd_link_entry) {
		f = fd_file(n, n->fd, &r);
		if (!f)
			return -ENOENT;
		procinfo_put(&r);
		if (!f->path.mnt) {
			vfs_file_put(f);
			return 2;
		}
		*out = f->path;
		vfs_file_put(f);
		return 1;
	}
	if (n->e->link == cwd_link || n->e->link == root_link) {
		if (node_get(n, PROCINFO_FS, &r) < 0)
			return -ENOENT;
		if (!r.fs) {
			procinfo_put(&r);
			return -ENOENT;
		}
		pthread_mutex_lock(&r.fs->lock);
		*out = n->e->link == cwd_link ? r.fs->cwd : r.fs->root;
		pthread_mutex_unlock(&r.fs->lock);
		procinfo_put(&r);
		return 1;
	}
	if (n->e->link == exe_link) {
		/* Jump to the executable itself (proc_exe_link()), so
		 * execv("/proc/self/exe") works even once it is unlinked. */
		struct file *ef = NULL;

		if (node_get(n, PROCINFO_MM, &r) < 0)
			return -ENOENT;
		if (r.mm)
			ef = mm_exe_file(r.mm);
		procinfo_put(&r);
		if (!ef)
			return 2;
		if (!ef->path.mnt) {
			vfs_file_put(ef);
			return 2;
		}
		*out = ef->path;
		vfs_file_put(ef);
		return 1;
	}
	return 0;
}

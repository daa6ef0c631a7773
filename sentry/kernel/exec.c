// SPDX-License-Identifier: GPL-2.0
/*
 * execve/execveat (fs/exec.c, fs/binfmt_script.c).
 *
 * Everything up to loading the new image into a fresh mm can fail and
 * returns -errno with the caller intact. Past that point (de_thread) the
 * old image is gone: errors kill the task.
 * Locks: kernel->lock for de_thread (killing and waiting for the other
 * threads, the leader swap), the context swap and the vfork release;
 * nothing is held across vfs, mm or loader calls.
 * References: argv/envp are host copies freed here; the new mm's reference
 * moves to the task, the old one is put.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cvisor/loader.h"
#include "cvisor/log.h"
#include "cvisor/mm.h"
#include "cvisor/signal.h"
#include "cvisor/task.h"
#include "cvisor/util.h"
#include "cvisor/vfs.h"
#include "../../vfs/vfs_impl.h"

#define MAX_ARG_STRLEN (32 * 4096)	/* include/uapi/linux/binfmts.h */
#define MAX_ARG_STRINGS 0x7fffffff
#define ARG_MAX_MIN (32 * 4096)		/* fs/exec.c: ARG_MAX */
#define STK_LIM (8 << 20)
#define BINPRM_BUF_SIZE 256
#define EXEC_PATH_MAX 4096
/* fs/exec.c exec_binprm(): more nested interpreters give ELOOP. */
#define MAX_INTERP_DEPTH 5

struct strvec {
	char **v;
	size_t n, cap;
};

static void strvec_free(struct strvec *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

static int strvec_insert(struct strvec *s, size_t at, const char *str)
{
	char *d = strdup(str);

	if (!d)
		return -ENOMEM;
	if (s->n + 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **v = realloc(s->v, cap * sizeof(*v));

		if (!v) {
			free(d);
			return -ENOMEM;
		}
		s->v = v;
		s->cap = cap;
	}
	memmove(&s->v[at + 1], &s->v[at], (s->n - at) * sizeof(*s->v));
	s->v[at] = d;
	s->n++;
	s->v[s->n] = NULL;
	return 0;
}

/* count() + copy_strings(): the pointer array and strings of argv/envp. */
static int copy_strings(struct task *t, uint64_t uvec, struct strvec *out,
			char *buf, size_t *bytes)
{
	for (size_t i = 0; uvec; i++) {
		uint64_t p;
		ssize_t len;
		int err;

		if (i >= MAX_ARG_STRINGS)
			return -E2BIG;
		if (mm_copy_in(t->mm, &p, uvec + i * 8, sizeof(p)))
			return -EFAULT;
		if (!p)
			break;
		len = mm_strncpy_in(t->mm, buf, p, MAX_ARG_STRLEN);
		if (len == -ENAMETOOLONG)
			return -E2BIG;
		if (len < 0)
			return (int)len;
		*bytes += (size_t)len + 1;
		err = strvec_insert(out, out->n, buf);
		if (err)
			return err;
	}
	return 0;
}

/* bprm_stack_limits(): a quarter of the stack limit, at least ARG_MAX,
 * at most 3/4 of _STK_LIM, pointers included. */
static int check_limits(struct task *t, size_t argc, size_t envc,
			size_t bytes)
{
	uint64_t limit = STK_LIM / 4 * 3;
	uint64_t ptrs = (MAX(argc, 1) + envc) * sizeof(void *);
	uint64_t stk = t->rlimits[RLIMIT_STACK].rlim_cur;

	limit = MIN(limit, stk / 4);
	limit = MAX(limit, (uint64_t)ARG_MAX_MIN);
	if (limit <= ptrs)
		return -E2BIG;
	return bytes > limit - ptrs ? -E2BIG : 0;
}

/* The executable: by path (relative to cwd or dirfd) or the fd itself. */
static int open_exec_at(struct task *t, int dirfd, const char *path, int flags,
			struct file **out)
{
	struct stat st;
	struct file *f;
	int err;

	if (path[0] == '/' || (dirfd == AT_FDCWD && path[0]))
		return vfs_open_exec(t, path, out);
	if (!path[0]) {
		f = fdtable_get(t->fdt, dirfd);
		if (!f)
			return -EBADF;
	} else {
		err = vfs_openat(t, dirfd, path,
				 O_RDONLY | ((flags & AT_SYMLINK_NOFOLLOW) ? O_NOFOLLOW : 0),
				 0, &f);
		if (err)
			return err;
	}
	err = vfs_fstat(f, &st);
	if (!err && (!S_ISREG(st.st_mode) || !(st.st_mode & 0111)))
		err = -EACCES;
	if (err) {
		vfs_file_put(f);
		return err;
	}
	*out = f;
	return 0;
}

static bool spacetab(char c)
{
	return c == ' ' || c == '\t';
}

/* binfmt_script: 1 and the interpreter (+ argument) if buf is a "#!"
 * script, 0 if not, -ENOEXEC if the line is unusable. */
static int parse_shebang(char *buf, size_t len, char **name, char **arg)
{
	char *end = buf + BINPRM_BUF_SIZE - 1, *i_end, *p, *sep;

	if (len < 2 || buf[0] != '#' || buf[1] != '!')
		return 0;
	buf[BINPRM_BUF_SIZE - 1] = '\0';
	i_end = memchr(buf, '\n', BINPRM_BUF_SIZE);
	if (!i_end) {
		/* No newline in the buffer: only accept a complete name
		 * (a space, tab or NUL must follow it). */
		for (p = buf + 2; p < end && spacetab(*p); p++)
			;
		if (p >= end)
			return -ENOEXEC;
		for (sep = p; sep < end && !spacetab(*sep) && *sep; sep++)
			;
		if (sep >= end)
			return -ENOEXEC;
		i_end = end;
	}
	while (i_end > buf + 2 && spacetab(i_end[-1]))
		i_end--;
	*i_end = '\0';
	for (p = buf + 2; p < i_end && spacetab(*p); p++)
		;
	if (p >= i_end || !*p)
		return -ENOEXEC;
	*name = p;
	for (sep = p; sep < i_end && !spacetab(*sep) && *sep; sep++)
		;
	*arg = NULL;
	if (sep < i_end && *sep) {
		*sep++ = '\0';
		while (sep < i_end && spacetab(*sep))
			sep++;
		if (sep < i_end && *sep)
			*arg = sep;
	}
	return 1;
}

struct kill_others {
	struct task *self;
};

static void kill_other_fn(struct task *th, void *arg)
{
	struct kill_others *ko = arg;

	if (th == ko->self || th->exited)
		return;
	__atomic_store_n(&th->killed, true, __ATOMIC_SEQ_CST);
	task_kick(th);
}

/* de_thread(): end every other thread of the group; a non-leader takes
 * over the leader's tid. Returns 0, or -EINTR when this task is killed
 * meanwhile (a group exit won). */
static int de_thread(struct task *t)
{
	struct kernel *k = t->k;
	struct process *p = t->proc;
	struct kill_others ko = { .self = t };
	int r = 0;

	pthread_mutex_lock(&k->lock);
	if (p->nr_threads > 1 || p->leader != t) {
		process_for_each_thread(t, kill_other_fn, &ko);
		p->exec_waiter = t;
		while (p->nr_threads > 1) {
			pthread_mutex_unlock(&k->lock);
			r = task_block_killable(t, NULL);
			pthread_mutex_lock(&k->lock);
			if (r == -EINTR)
				break;
			r = 0;
		}
		p->exec_waiter = NULL;
		if (!r && p->leader != t) {
			struct task *old = p->leader;

			/* The old leader has exited (a zombie thread): it
			 * goes, we take its tid. */
			list_del(&old->k_link);
			list_add_tail(&old->k_link, &k->dead_tasks);
			t->tid = p->tgid;
			p->leader = t;
		}
	}
	pthread_mutex_unlock(&k->lock);
	process_release_flush(k);
	return r;
}

struct exec_image {
	struct mm *mm;
	cpu_regs_t regs;
};

/* Load the file (following "#!" up to MAX_INTERP_DEPTH levels) into a
 * fresh mm. Consumes the reference on f. */
static int load_image(struct task *t, struct file *f, const char *filename,
		      struct strvec *argv, struct strvec *envp,
		      struct exec_image *img)
{
	char errbuf[256] = "";
	struct loader_args la = { 0 };
	char buf[BINPRM_BUF_SIZE];
	int err = 0;

	for (int depth = 0;; depth++) {
		char *name, *arg;
		ssize_t n;
		int s;

		if (depth > MAX_INTERP_DEPTH) {
			err = -ELOOP;
			break;
		}
		memset(buf, 0, sizeof(buf));
		n = vfs_pread(f, buf, sizeof(buf), 0);
		if (n < 0) {
			err = (int)n;
			break;
		}
		s = parse_shebang(buf, (size_t)n, &name, &arg);
		if (s < 0) {
			err = s;
			break;
		}
		if (s == 0)
			break;
		/* argv: interpreter, optional argument, the script's name
		 * in place of argv[0]. */
		free(argv->v[0]);
		memmove(&argv->v[0], &argv->v[1], argv->n * sizeof(char *));
		argv->n--;
		err = strvec_insert(argv, 0, filename);
		if (!err && arg)
			err = strvec_insert(argv, 0, arg);
		if (!err)
			err = strvec_insert(argv, 0, name);
		if (err)
			break;
		vfs_file_put(f);
		f = NULL;
		err = vfs_open_exec(t, argv->v[0], &f);
		if (err)
			break;
	}
	if (err) {
		if (f)
			vfs_file_put(f);
		return err;
	}
	err = mm_new(t->k->mf, t->k->platform, &img->mm);
	if (err) {
		vfs_file_put(f);
		return err;
	}
	mm_set_stack_rlimit(img->mm, t->rlimits[RLIMIT_STACK].rlim_cur);
	la.file = f;
	la.exec_path = filename;
	la.argv = argv->v;
	la.envp = envp->v;
	la.uid = t->cred.ruid;
	la.euid = t->cred.euid;
	la.gid = t->cred.rgid;
	la.egid = t->cred.egid;
	la.open_interp = loader_open_exec;
	la.open_ctx = t;
	err = loader_load(img->mm, &la, &img->regs, errbuf, sizeof(errbuf));
	vfs_file_put(f);
	if (err) {
		log_debug("execve %s: %s", filename, errbuf);
		mm_put(img->mm);
		img->mm = NULL;
	}
	return err;
}

/* Past the point of no return. */
static void exec_commit(struct task *t, const char *filename,
			struct exec_image *img)
{
	struct kernel *k = t->k;
	struct platform_ctx *old_ctx, *ctx = NULL;
	struct fdtable *nfdt;
	struct mm *old_mm;
	const char *base;
	uint64_t old_user = 0, rss_kb;
	int err;

	if (de_thread(t)) {
		mm_put(img->mm);
		task_exit(t, SIGKILL);
		return;
	}
	err = k->platform->ops->ctx_new(mm_platform_as(img->mm), &ctx);
	/* The old context's CPU time would vanish with it: keep it in the
	 * group's totals (procinfo.c), like the resident size. */
	if (t->ctx && k->platform->ops->ctx_cputime)
		k->platform->ops->ctx_cputime(t->ctx, &old_user);
	rss_kb = t->mm ? mm_resident(t->mm) / 1024 : 0;
	pthread_mutex_lock(&k->lock);
	task_account_exit_locked(t, old_user, 0, rss_kb);
	old_ctx = t->ctx;
	t->ctx = ctx;
	old_mm = t->mm;
	t->mm = img->mm;
	t->proc->did_exec = true;
	task_vfork_release_locked(t);
	pthread_mutex_unlock(&k->lock);
	if (old_ctx)
		k->platform->ops->ctx_release(old_ctx);
	mm_put(old_mm);
	if (err) {
		log_warn("execve: no context for the new image: %s",
			 strerror(-err));
		task_exit(t, SIGKILL);
		return;
	}
	t->regs = img->regs;
	/* unshare_files() + close-on-exec. */
	if (fdtable_copy(t->fdt, &nfdt) == 0) {
		fdtable_put(t->fdt);
		t->fdt = nfdt;
	}
	fdtable_close_on_exec(t->fdt);
	signal_task_exec(t);
	cred_exec(&t->cred);
	t->clear_child_tid = 0;
	t->robust_list = 0;
	t->robust_list_len = 0;
	base = strrchr(filename, '/');
	base = base ? base + 1 : filename;
	memset(t->comm, 0, sizeof(t->comm));
	memcpy(t->comm, base, MIN(strlen(base), sizeof(t->comm) - 1));
}

long process_execve(struct task *t, int dirfd, uint64_t upath, uint64_t uargv,
		    uint64_t uenvp, int flags)
{
	struct strvec argv = { 0 }, envp = { 0 };
	struct exec_image img = { 0 };
	char path[EXEC_PATH_MAX], filename[EXEC_PATH_MAX + 32];
	struct file *f = NULL;
	size_t bytes = 0;
	char *buf = NULL;
	ssize_t len;
	long err;

	if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -EINVAL;
	len = mm_strncpy_in(t->mm, path, upath, sizeof(path));
	if (len < 0)
		return len;
	if (!len && !(flags & AT_EMPTY_PATH))
		return -ENOENT;
	if (path[0] == '/' || dirfd == AT_FDCWD)
		snprintf(filename, sizeof(filename), "%s", path);
	else if (!path[0])
		snprintf(filename, sizeof(filename), "/dev/fd/%d", dirfd);
	else
		snprintf(filename, sizeof(filename), "/dev/fd/%d/%s", dirfd, path);

	err = open_exec_at(t, dirfd, path, flags, &f);
	if (err)
		return err;
	buf = malloc(MAX_ARG_STRLEN);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	err = copy_strings(t, uargv, &argv, buf, &bytes);
	if (!err)
		err = copy_strings(t, uenvp, &envp, buf, &bytes);
	if (!err)
		err = check_limits(t, argv.n, envp.n, bytes);
	/* Linux 5.18+: an empty argv gets "" as argv[0]. */
	if (!err && argv.n == 0)
		err = strvec_insert(&argv, 0, "");
	if (!err && !envp.v) {
		envp.v = calloc(1, sizeof(char *));	/* an empty list */
		if (!envp.v)
			err = -ENOMEM;
	}
	free(buf);
	if (err)
		goto out;
	err = load_image(t, f, filename, &argv, &envp, &img);
	f = NULL;
	if (err)
		goto out;
	exec_commit(t, filename, &img);
	err = 0;
out:
	if (f)
		vfs_file_put(f);
	strvec_free(&argv);
	strvec_free(&envp);
	return err;
}

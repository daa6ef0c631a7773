// SPDX-License-Identifier: GPL-2.0
/*
 * What procfs needs to know about other tasks: references on their mm, fd
 * table and fs_struct, and the argument and environment strings of an
 * address space.
 *
 * Locks: procinfo_get takes kernel->lock only; the references it returns
 * are used after dropping it (mm->lock, fdtable->lock, fs->lock are never
 * taken under kernel->lock). procinfo_args takes mm->lock through
 * mm_copy_in.
 *
 * Why the references are safe: task_do_exit clears t->ctx under
 * kernel->lock before it puts mm, fdt and fs, and execve swaps mm under
 * kernel->lock too; so while kernel->lock is held and t->ctx is set, the
 * task's own references keep the objects alive and ours can be added.
 * (execve's fd table unsharing swaps t->fdt without kernel->lock: a reader
 * racing it could take a reference on the table being dropped; the window
 * is a few instructions and only an fd listing of an exec'ing task hits it.
 * The exec code should do that swap under kernel->lock.)
 *
 * References: procinfo_get returns one task reference and one reference per
 * object; procinfo_put drops them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cvisor/mm.h"
#include "cvisor/task.h"
#include "cvisor/vfs.h"
#include "../../vfs/vfs_impl.h"

int procinfo_get(struct kernel *k, int tid, unsigned int want,
		 struct task_refs *out)
{
	struct task *t;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&k->lock);
	t = kernel_find_task(k, tid);
	if (!t) {
		pthread_mutex_unlock(&k->lock);
		return -ENOENT;
	}
	task_get(t);
	out->t = t;
	if (t->ctx && !t->exited) {
		if ((want & PROCINFO_MM) && t->mm) {
			mm_get(t->mm);
			out->mm = t->mm;
		}
		if ((want & PROCINFO_FDT) && t->fdt) {
			fdtable_get_ref(t->fdt);
			out->fdt = t->fdt;
		}
		if ((want & PROCINFO_FS) && t->fs) {
			fs_struct_get_ref(t->fs);
			out->fs = t->fs;
		}
	}
	pthread_mutex_unlock(&k->lock);
	return 0;
}

void procinfo_put(struct task_refs *r)
{
	if (r->mm)
		mm_put(r->mm);
	if (r->fdt)
		fdtable_put(r->fdt);
	if (r->fs)
		fs_struct_put(r->fs);
	if (r->t)
		task_put(r->t);
	memset(r, 0, sizeof(*r));
}

#define ARGS_WINDOW (256 * 1024)
#define AT_EXECFN_TAG 31

static uint64_t word_at(const uint8_t *buf, size_t off)
{
	uint64_t w;

	memcpy(&w, buf + off, sizeof(w));
	return w;
}

/*
 * The initial stack (sentry/loader/stack.c, like create_elf_tables) ends
 * with 8 zero bytes, AT_EXECFN's string, and below it the argv then envp
 * strings, contiguous. mm keeps no arg_start/env_start (Linux's mm_struct
 * does), so find the argc word whose argv/envp arrays point exactly at
 * contiguous strings ending at AT_EXECFN, below the auxv entry naming it.
 * Programs that rewrite their argv in place are shown as rewritten.
 */
int procinfo_args(struct mm *mm, bool env, char **out, size_t *outlen)
{
	uint64_t top = mm_stack_top(mm), base, execfn = 0;
	_cleanup_free_ uint8_t *buf = malloc(ARGS_WINDOW);
	size_t len = 0, aux = 0, end;
	bool found = false;

	*out = NULL;
	*outlen = 0;
	if (!buf)
		return -ENOMEM;
	/* Read downwards a page at a time while it is mapped. */
	while (len < ARGS_WINDOW) {
		if (mm_copy_in(mm, buf + ARGS_WINDOW - len - PAGE_SIZE,
			       top - len - PAGE_SIZE, PAGE_SIZE))
			break;
		len += PAGE_SIZE;
	}
	if (len < PAGE_SIZE)
		return 0;
	base = top - len;
	memmove(buf, buf + ARGS_WINDOW - len, len);
	/* AT_EXECFN: the string just below the 8-byte end marker. */
	end = len - 9;
	if (buf[end] != '\0')
		return 0;
	for (size_t i = end; i-- > 0;) {
		if (buf[i] == '\0') {
			execfn = base + i + 1;
			break;
		}
	}
	if (!execfn)
		return 0;
	for (size_t off = (execfn - base) & ~7UL; off >= 16; off -= 8) {
		if (word_at(buf, off - 16) == AT_EXECFN_TAG &&
		    word_at(buf, off - 8) == execfn) {
			aux = off - 16;
			break;
		}
	}
	if (!aux)
		return 0;
	for (size_t a = aux; a >= 8 && !found;) {
		uint64_t argc, p, want;
		size_t w;

		a -= 8;
		argc = word_at(buf, a);
		if (argc > 65536 || a + 8 * (argc + 2) > aux)
			continue;
		w = a + 8;
		want = 0;
		/* argv then envp: each pointer starts where the previous
		 * string ended; a NULL ends each array. */
		for (int arr = 0; arr < 2; arr++) {
			uint64_t n = 0;

			for (;; w += 8, n++) {
				if (w + 8 > aux)
					goto next;
				p = word_at(buf, w);
				if (!p)
					break;
				if (p < base || p >= execfn || (want && p != want))
					goto next;
				if (arr == 0 && n == argc)
					goto next;
				want = p + strnlen((char *)buf + (p - base),
						   execfn - p) + 1;
			}
			if (arr == 0 && n != argc)
				goto next;
			w += 8;
			if (arr == 0) {
				uint64_t a0 = argc ? word_at(buf, a + 8) : 0;
				uint64_t e0 = word_at(buf, w);

				if (!env && argc) {
					/* argv strings: [argv[0], envp[0] or
					 * execfn). */
					uint64_t stop = e0 ? e0 : execfn;

					if (stop < a0 || stop > execfn)
						goto next;
					*outlen = stop - a0;
					*out = malloc(*outlen ? *outlen : 1);
					if (!*out)
						return -ENOMEM;
					memcpy(*out, buf + (a0 - base), *outlen);
					/* Still verify envp below. */
				}
			} else {
				if ((want ? want : execfn) != execfn)
					goto next;
				found = true;
			}
		}
		if (env) {
			uint64_t e0 = word_at(buf, a + 8 * (argc + 2));

			if (e0) {
				*outlen = execfn - e0;
				*out = malloc(*outlen);
				if (!*out)
					return -ENOMEM;
				memcpy(*out, buf + (e0 - base), *outlen);
			}
		}
		break;
next:
		free(*out);
		*out = NULL;
		*outlen = 0;
	}
	return 0;
}

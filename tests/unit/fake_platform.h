/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fake platform for mm/loader unit tests: it records as_map/unmap/protect
 * calls and keeps a page-granular shadow of what a real platform address
 * space would contain, so tests can check that mm mirrors every change.
 * Header-only, included by one test file each.
 */
#ifndef CVISOR_TEST_FAKE_PLATFORM_H
#define CVISOR_TEST_FAKE_PLATFORM_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvisor/platform.h"
#include "cvisor/util.h"

#define FAKE_USER_MAX 0x7ffffffff000ULL

struct fake_page {
	uint64_t va, off;
	int prot;
};

struct fake_as {
	struct platform_as base;
	struct fake_page *pages;
	size_t npages, cap;
	unsigned long nmap, nunmap, nprotect; /* calls */
	int fail_map;	/* make as_map fail (error injection) */
};

static struct fake_as *fake_last_as;

static inline struct fake_page *fake_find(struct fake_as *as, uint64_t va)
{
	for (size_t i = 0; i < as->npages; i++)
		if (as->pages[i].va == va)
			return &as->pages[i];
	return NULL;
}

static inline void fake_drop(struct fake_as *as, uint64_t va)
{
	for (size_t i = 0; i < as->npages; i++)
		if (as->pages[i].va == va) {
			as->pages[i] = as->pages[--as->npages];
			return;
		}
}

static uint64_t fake_user_max(struct platform *p UNUSED)
{
	return FAKE_USER_MAX;
}

static int fake_as_new(struct platform *p, struct platform_as **out)
{
	struct fake_as *as = calloc(1, sizeof(*as));

	if (!as)
		return -ENOMEM;
	as->base.p = p;
	fake_last_as = as;
	*out = &as->base;
	return 0;
}

static void fake_as_release(struct platform_as *a)
{
	struct fake_as *as = (struct fake_as *)a;

	if (fake_last_as == as)
		fake_last_as = NULL;
	free(as->pages);
	free(as);
}

static int fake_as_map(struct platform_as *a, uint64_t addr, uint64_t len,
		       int prot, uint64_t off)
{
	struct fake_as *as = (struct fake_as *)a;

	if (as->fail_map)
		return -ENOMEM;
	if (!IS_PAGE_ALIGNED(addr) || !IS_PAGE_ALIGNED(len) || !len ||
	    !IS_PAGE_ALIGNED(off))
		abort();
	as->nmap++;
	for (uint64_t o = 0; o < len; o += PAGE_SIZE) {
		struct fake_page *pg = fake_find(as, addr + o);

		if (!pg) {
			if (as->npages == as->cap) {
				as->cap = as->cap ? as->cap * 2 : 256;
				as->pages = realloc(as->pages,
						    as->cap * sizeof(*pg));
				if (!as->pages)
					abort();
			}
			pg = &as->pages[as->npages++];
		}
		pg->va = addr + o;
		pg->off = off + o;
		pg->prot = prot;
	}
	return 0;
}

static int fake_as_unmap(struct platform_as *a, uint64_t addr, uint64_t len)
{
	struct fake_as *as = (struct fake_as *)a;

	if (!IS_PAGE_ALIGNED(addr) || !IS_PAGE_ALIGNED(len) || !len)
		abort();
	as->nunmap++;
	for (uint64_t o = 0; o < len; o += PAGE_SIZE)
		fake_drop(as, addr + o);
	return 0;
}

static int fake_as_protect(struct platform_as *a, uint64_t addr, uint64_t len,
			   int prot)
{
	struct fake_as *as = (struct fake_as *)a;

	if (!IS_PAGE_ALIGNED(addr) || !IS_PAGE_ALIGNED(len) || !len)
		abort();
	as->nprotect++;
	for (uint64_t o = 0; o < len; o += PAGE_SIZE) {
		struct fake_page *pg = fake_find(as, addr + o);

		/* Real platforms (host mprotect) fail on holes. */
		if (!pg)
			return -ENOMEM;
		pg->prot = prot;
	}
	return 0;
}

static const struct platform_ops fake_ops = {
	.name = "fake",
	.user_max = fake_user_max,
	.as_new = fake_as_new,
	.as_release = fake_as_release,
	.as_map = fake_as_map,
	.as_unmap = fake_as_unmap,
	.as_protect = fake_as_protect,
};

static struct platform fake_platform = { .ops = &fake_ops };

/* Pages mapped in [start, end). */
static inline size_t fake_count(struct fake_as *as, uint64_t start, uint64_t end)
{
	size_t n = 0;

	for (size_t i = 0; i < as->npages; i++)
		if (as->pages[i].va >= start && as->pages[i].va < end)
			n++;
	return n;
}

/* ---- TAP ---- */
#include "unit_tap.h"

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * The sentry-side page table: a 4-level radix tree over virtual page numbers
 * (9 bits per level, like x86-64's), holding PTEs described in mm_impl.h.
 *
 * Locks: none of its own; the owning mm's lock protects it.
 * References: entries reference frames, but frame refcounts are handled by
 * mm.c; this file only stores values and owns the table memory.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "cvisor/util.h"
#include "mm_impl.h"

#define PT_BITS 9
#define PT_ENTRIES (1u << PT_BITS)
#define PT_LEVELS 4
#define VA_LIMIT (1ULL << (PAGE_SHIFT + PT_BITS * PT_LEVELS)) /* 2^48 */

struct pt_node {
	union {
		struct pt_node *child[PT_ENTRIES];
		uint64_t pte[PT_ENTRIES];
	};
	uint32_t nr; /* non-zero entries, to free empty tables */
};

static inline unsigned int pt_index(uint64_t va, int level)
{
	return (unsigned int)(va >> (PAGE_SHIFT + PT_BITS * level)) &
	       (PT_ENTRIES - 1);
}

uint64_t pt_get(const struct pt *pt, uint64_t va)
{
	const struct pt_node *n = pt->root;

	if (va >= VA_LIMIT)
		return 0;
	for (int level = PT_LEVELS - 1; n && level > 0; level--)
		n = n->child[pt_index(va, level)];
	return n ? n->pte[pt_index(va, 0)] : 0;
}

/* Walk to the leaf for va, allocating tables on the way. */
static struct pt_node *pt_leaf_alloc(struct pt *pt, uint64_t va)
{
	struct pt_node **slot = &pt->root, *parent = NULL;

	for (int level = PT_LEVELS - 1;; level--) {
		if (!*slot) {
			*slot = calloc(1, sizeof(struct pt_node));
			if (!*slot)
				return NULL;
			if (parent)
				parent->nr++;
		}
		if (level == 0)
			return *slot;
		parent = *slot;
		slot = &parent->child[pt_index(va, level)];
	}
}

int pt_reserve(struct pt *pt, uint64_t start, uint64_t end)
{
	if (end > VA_LIMIT)
		return -EINVAL;
	/* One leaf covers 512 pages. */
	for (uint64_t va = start; va < end;
	     va = (va | ((1ULL << (PAGE_SHIFT + PT_BITS)) - 1)) + 1)
		if (!pt_leaf_alloc(pt, va))
			return -ENOMEM;
	return 0;
}

static uint64_t set_fn(void *ctx, uint64_t va UNUSED, uint64_t pte UNUSED)
{
	return *(uint64_t *)ctx;
}

int pt_set(struct pt *pt, uint64_t va, uint64_t pte)
{
	struct pt_node *leaf;
	unsigned int i;

	if (va >= VA_LIMIT)
		return -EINVAL;
	if (!pte) {
		/* Goes through pt_update so empty tables are freed. */
		pt_update(pt, va, va + PAGE_SIZE, set_fn, &pte);
		return 0;
	}
	leaf = pt_leaf_alloc(pt, va);
	if (!leaf)
		return -ENOMEM;
	i = pt_index(va, 0);
	if (!leaf->pte[i]) {
		leaf->nr++;
		pt->nr_present++;
	}
	leaf->pte[i] = pte;
	return 0;
}

/* Returns true when n became empty (the caller frees it). */
static bool update_level(struct pt *pt, struct pt_node *n, int level,
			 uint64_t base, uint64_t start, uint64_t end,
			 pt_update_fn fn, void *ctx)
{
	unsigned int shift = PAGE_SHIFT + PT_BITS * (unsigned int)level;
	unsigned int first = (unsigned int)((start - base) >> shift);
	unsigned int last = (unsigned int)((end - 1 - base) >> shift);

	for (unsigned int i = first; i <= last; i++) {
		uint64_t cbase = base + ((uint64_t)i << shift);

		if (level == 0) {
			uint64_t old = n->pte[i], new;

			if (!old)
				continue;
			new = fn(ctx, cbase, old);
			n->pte[i] = new;
			if (!new) {
				n->nr--;
				pt->nr_present--;
			}
		} else if (n->child[i]) {
			uint64_t cend = cbase + (1ULL << shift);

			if (update_level(pt, n->child[i], level - 1, cbase,
					 MAX(start, cbase), MIN(end, cend), fn,
					 ctx)) {
				free(n->child[i]);
				n->child[i] = NULL;
				n->nr--;
			}
		}
	}
	return n->nr == 0;
}

void pt_update(struct pt *pt, uint64_t start, uint64_t end, pt_update_fn fn,
	       void *ctx)
{
	end = MIN(end, VA_LIMIT);
	if (!pt->root || start >= end)
		return;
	if (update_level(pt, pt->root, PT_LEVELS - 1, 0, start, end, fn, ctx)) {
		free(pt->root);
		pt->root = NULL;
	}
}

static void free_level(struct pt_node *n, int level)
{
	if (level > 0)
		for (unsigned int i = 0; i < PT_ENTRIES; i++)
			if (n->child[i])
				free_level(n->child[i], level - 1);
	free(n);
}

void pt_free(struct pt *pt)
{
	if (pt->root)
		free_level(pt->root, PT_LEVELS - 1);
	pt->root = NULL;
	pt->nr_present = 0;
}

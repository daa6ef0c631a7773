/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internals of sentry/mm shared between its files (not for other
 * subsystems). The page table takes no locks: it is owned by one mm and used
 * under mm->lock.
 */
#ifndef CVISOR_MM_IMPL_H
#define CVISOR_MM_IMPL_H

#include <stdint.h>

/*
 * Page-table entry: like an x86 PTE, the frame's offset in the memory file
 * in bits 12..51 plus flag bits, so the KVM platform can translate it into a
 * hardware PTE directly. 0 = nothing there.
 */
#define PTE_PRESENT	(1ULL << 0)	/* a frame backs this page */
#define PTE_MAPPED	(1ULL << 1)	/* and the platform maps it */
#define PTE_PROT_SHIFT	2		/* bits 2..4: PROT_* it is mapped with */
#define PTE_PROT_MASK	(7ULL << PTE_PROT_SHIFT)
/* Copy-on-write: the frame may be shared with another address space (after
 * fork). The platform maps it without PROT_WRITE; the first write copies it,
 * or takes it over when this entry holds the only reference. */
#define PTE_COW		(1ULL << 5)
#define PTE_ADDR_MASK	0x000ffffffffff000ULL

static inline uint64_t pte_frame(uint64_t pte) { return pte & PTE_ADDR_MASK; }
static inline int pte_prot(uint64_t pte)
{
	return (int)((pte & PTE_PROT_MASK) >> PTE_PROT_SHIFT);
}

/* 4-level radix tree over 48-bit virtual addresses, 9 bits per level. */
struct pt_node;
struct pt {
	struct pt_node *root;
	uint64_t nr_present;	/* entries != 0 (resident pages) */
};

typedef uint64_t (*pt_update_fn)(void *ctx, uint64_t va, uint64_t pte);

uint64_t pt_get(const struct pt *pt, uint64_t va);
/* Set one entry; setting 0 frees tables that become empty. -ENOMEM when a
 * table can't be allocated (only possible for a non-zero pte). */
int pt_set(struct pt *pt, uint64_t va, uint64_t pte);
/* Make sure tables for [start, end) exist so pt_set there cannot fail. */
int pt_reserve(struct pt *pt, uint64_t start, uint64_t end);
/* Call fn for every non-zero entry in [start, end), in ascending order;
 * the entry becomes fn's return value. Empty tables are freed. */
void pt_update(struct pt *pt, uint64_t start, uint64_t end, pt_update_fn fn,
	       void *ctx);
/* Free all tables (entries must already have been released). */
void pt_free(struct pt *pt);

#endif

/*
 * pps_dedup.h - "report each (address, port) once", with memory fixed at start.
 *
 * Exact mode, when one bit per target fits the memory budget (--dedup-memory, default
 * PPS_DEDUP_MEMORY_DEFAULT = 1 GiB = 2^33 bits: every IPv4 address on two ports): a bitmap
 * indexed by the target index (address index * n_ports + port index). It is mapped, not
 * written: untouched pages of an anonymous mapping are not resident, so a scan pays only for
 * the pages its responses touch (a /16 on 4 ports: 32 KiB of bitmap, all of it or not).
 *
 * Window mode, beyond the budget: an 8-way set-associative cache of (address, port) keys
 * that fills the budget, a set per 64-byte cache line (budget / 64 sets: one miss a lookup),
 * replacing first in, first out within a set (the victim's way number in the top 3 bits of
 * way 0). Lemire's multiply-shift range reduction of a Fibonacci hash chooses the set. A key
 * is forgotten when its set has taken 8 newer keys, so a repeat arriving after d other
 * distinct results is reported again with probability about P(Poisson(d / sets) >= 8), more
 * when many repeats are themselves forgotten (each one re-recorded pushes out another key
 * of a crowded set). Measured by tests/test_dedup_ring.c with every result repeated once,
 * d results later: d = sets: 7.9e-5 (the formula: 1.0e-5), d = 2 sets: 6.7e-3 (1.1e-3).
 * With the default budget there are 16.8 million sets: a repeat within 16 million results
 * (minutes of a fast scan; a target's SYN-ACK retransmissions come within a minute) is
 * missed less than 1e-4 of the time. ZMap's IP dedup window makes the same trade; -P N with
 * a space beyond the budget repeats each answer a whole pass later, beyond any window.
 */
#ifndef PPS_DEDUP_H
#define PPS_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#define PPS_DEDUP_MEMORY_DEFAULT (1ULL << 30) /* bytes: 2^33 targets exact */
#define PPS_DEDUP_MEMORY_MIN (1ULL << 16)
#define PPS_DEDUP_WAYS 8
#define PPS_DEDUP_KEY_MASK ((1ULL << 61) - 1) /* way 0's top 3 bits: the next victim */

/* Visible so that the per-response calls below inline; fields are the module's own. */
struct pps_dedup {
	int exact;
	uint64_t *bits;	   /* exact mode: n_targets bits */
	uint64_t *entries; /* window mode: sets * ways, key (0 = empty) | way 0: victim << 61 */
	uint64_t sets;	   /* window mode: number of sets (< 2^32) */
	void *map;	   /* the one mapping holding all of the above */
	size_t map_bytes;
};

/**
 * pps_dedup_bitmap_bytes - bytes of the exact bitmap for @n_targets target indices.
 */
static inline uint64_t pps_dedup_bitmap_bytes(uint64_t n_targets)
{
	return (n_targets + 63) / 64 * 8;
}

/**
 * pps_dedup_new - sized for a target space of @n_targets indices within @budget_bytes
 * (at least PPS_DEDUP_MEMORY_MIN): exact when pps_dedup_bitmap_bytes(@n_targets) <=
 * @budget_bytes, else the window filling the budget (budget / 64 sets). The memory is one anonymous mapping
 * (MAP_NORESERVE), zero and not resident until written. Returns NULL with errno set (ENOMEM
 * when the mapping fails, EINVAL for a budget below the minimum). Not thread-safe: one RX
 * thread owns it.
 */
struct pps_dedup *pps_dedup_new(uint64_t n_targets, uint64_t budget_bytes);

/** pps_dedup_free - NULL allowed. */
void pps_dedup_free(struct pps_dedup *d);

/** The window key of (@ip_h, @port_h): never 0 (0 marks an empty way). */
static inline uint64_t pps_dedup_window_key(uint32_t ip_h, uint16_t port_h)
{
	return ((uint64_t)ip_h << 16 | port_h) + 1;
}

/** The window mode's set of @key: Fibonacci hash, then multiply-shift onto [0, sets). */
static inline uint64_t pps_dedup_window_set(const struct pps_dedup *d, uint64_t key)
{
	return ((key * 0x9e3779b97f4a7c15ULL) >> 32) * d->sets >> 32;
}

int pps_dedup_check_set_window(struct pps_dedup *d, uint32_t ip_h, uint16_t port_h);

/**
 * pps_dedup_check_set - returns 1 if (@target_index, or @ip_h/@port_h in window mode) was
 * seen before, else records it and returns 0. Both keys are given so the caller need not
 * know the mode. @target_index < the n_targets of pps_dedup_new().
 */
static inline int pps_dedup_check_set(struct pps_dedup *d, uint64_t target_index, uint32_t ip_h,
				      uint16_t port_h)
{
	if (d->exact) {
		uint64_t m = 1ULL << (target_index & 63);
		uint64_t *w = &d->bits[target_index >> 6];

		if (*w & m)
			return 1;
		*w |= m;
		return 0;
	}
	return pps_dedup_check_set_window(d, ip_h, port_h);
}

/**
 * pps_dedup_prefetch - starts loading the memory pps_dedup_check_set() will touch for the
 * same keys (a random word of a large bitmap is a cache miss); the RX burst path calls it
 * for every candidate before it validates the first.
 */
static inline void pps_dedup_prefetch(const struct pps_dedup *d, uint64_t target_index,
				      uint32_t ip_h, uint16_t port_h)
{
	if (d->exact)
		__builtin_prefetch(&d->bits[target_index >> 6], 1);
	else
		__builtin_prefetch(
			&d->entries[pps_dedup_window_set(d, pps_dedup_window_key(ip_h, port_h)) *
				    PPS_DEDUP_WAYS],
			1);
}

/** pps_dedup_is_exact - 1 in exact mode. */
int pps_dedup_is_exact(const struct pps_dedup *d);

/** pps_dedup_window_results - window mode: the keys it holds at most (sets * ways); 0 exact. */
uint64_t pps_dedup_window_results(const struct pps_dedup *d);

#endif /* PPS_DEDUP_H */

/*
 * pps_dedup.h - "report each (address, port) once", with memory fixed at start.
 *
 * Exact mode (target space <= PPS_DEDUP_EXACT_MAX): one bit per target index
 * (address index * n_ports + port index), at most 32 MiB.
 * Window mode (larger spaces): a 4-way set-associative cache of the last 2^22 (address, port)
 * pairs seen (32 MiB), replacing round-robin within a set; a duplicate arriving after millions
 * of other results can be reported again (ZMap's IP dedup window makes the same trade).
 */
#ifndef PPS_DEDUP_H
#define PPS_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#define PPS_DEDUP_EXACT_MAX (1ULL << 28)
#define PPS_DEDUP_WINDOW_SETS (1u << 20)
#define PPS_DEDUP_WAYS 4

/* Visible so that the per-response calls below inline; fields are the module's own. */
struct pps_dedup {
	int exact;
	uint64_t *bits;	   /* exact mode */
	uint64_t *entries; /* window mode: sets * ways, value = key + 1 (0 = empty) */
	uint8_t *next_way; /* window mode: round-robin victim per set */
};

/**
 * pps_dedup_new - sized for a target space of @n_targets indices. Returns NULL with errno
 * set (ENOMEM) on failure. Not thread-safe: one RX thread owns it.
 */
struct pps_dedup *pps_dedup_new(uint64_t n_targets);

/** pps_dedup_free - NULL allowed. */
void pps_dedup_free(struct pps_dedup *d);

/** The window mode's set of (@ip_h, @port_h) and its check (pps_dedup.c). */
static inline uint32_t pps_dedup_window_set(uint64_t key)
{
	return (uint32_t)((key * 0x9e3779b97f4a7c15ULL) >> 44) & (PPS_DEDUP_WINDOW_SETS - 1);
}

int pps_dedup_check_set_window(struct pps_dedup *d, uint32_t ip_h, uint16_t port_h);

/**
 * pps_dedup_check_set - returns 1 if (@target_index, or @ip_h/@port_h in window mode) was
 * seen before, else records it and returns 0. Both keys are given so the caller need not
 * know the mode.
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
 * same keys (a random word of a bitmap up to 32 MiB is a cache miss); the RX burst path
 * calls it for every candidate before it validates the first.
 */
static inline void pps_dedup_prefetch(const struct pps_dedup *d, uint64_t target_index,
				      uint32_t ip_h, uint16_t port_h)
{
	if (d->exact)
		__builtin_prefetch(&d->bits[target_index >> 6], 1);
	else
		__builtin_prefetch(&d->entries[(size_t)pps_dedup_window_set(
						       ((uint64_t)ip_h << 16 | port_h) + 1) *
					       PPS_DEDUP_WAYS],
				   1);
}

/** pps_dedup_is_exact - 1 in exact mode. */
int pps_dedup_is_exact(const struct pps_dedup *d);

#endif /* PPS_DEDUP_H */

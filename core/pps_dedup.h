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

#include <stdint.h>

#define PPS_DEDUP_EXACT_MAX (1ULL << 28)
#define PPS_DEDUP_WINDOW_SETS (1u << 20)
#define PPS_DEDUP_WAYS 4

struct pps_dedup;

/**
 * pps_dedup_new - sized for a target space of @n_targets indices. Returns NULL with errno
 * set (ENOMEM) on failure. Not thread-safe: one RX thread owns it.
 */
struct pps_dedup *pps_dedup_new(uint64_t n_targets);

/** pps_dedup_free - NULL allowed. */
void pps_dedup_free(struct pps_dedup *d);

/**
 * pps_dedup_check_set - returns 1 if (@target_index, or @ip_h/@port_h in window mode) was
 * seen before, else records it and returns 0. Both keys are given so the caller need not
 * know the mode.
 */
int pps_dedup_check_set(struct pps_dedup *d, uint64_t target_index, uint32_t ip_h,
			uint16_t port_h);

/**
 * pps_dedup_prefetch - starts loading the memory pps_dedup_check_set() will touch for the
 * same keys (a random word of a bitmap up to 32 MiB is a cache miss); the RX burst path
 * calls it for every candidate before it validates the first.
 */
void pps_dedup_prefetch(const struct pps_dedup *d, uint64_t target_index, uint32_t ip_h,
			uint16_t port_h);

/** pps_dedup_is_exact - 1 in exact mode. */
int pps_dedup_is_exact(const struct pps_dedup *d);

#endif /* PPS_DEDUP_H */

/*
 * pps_shard.h - splitting the index space between shards (machines) and sender threads by
 * arithmetic alone (masscan's approach; ZMap's shard.c does the same on its cycle).
 *
 * Index j in [0, total): shard s of N takes j = s (mod N); within it, thread k of T takes
 * every T-th of those: j = s + N*k + N*T*m, m = 0, 1, ... So the shards' sets are disjoint,
 * their union is [0, total), and a shard's set does not depend on how many threads the other
 * shards use. Worked example: total 10, N = 2, T = 2: shard 0 thread 0 sends 0, 4, 8;
 * shard 0 thread 1 sends 2, 6; shard 1 thread 0 sends 1, 5, 9; shard 1 thread 1 sends 3, 7.
 */
#ifndef PPS_SHARD_H
#define PPS_SHARD_H

#include <stdint.h>

/** One sender's share: the indices next, next + stride, ... below end. */
struct pps_slice {
	uint64_t next;	 /* the next index to send */
	uint64_t stride; /* N * T */
	uint64_t end;	 /* exclusive bound: total */
};

/**
 * pps_slice_init - the share of thread @thread (0-based, < @n_threads) of shard @shard
 * (0-based, < @n_shards) of [0, @total). Returns 0, or -EINVAL for out-of-range arguments.
 */
int pps_slice_init(struct pps_slice *sl, uint64_t total, uint32_t shard, uint32_t n_shards,
		   uint32_t thread, uint32_t n_threads);

/** pps_slice_remaining - how many indices are left in @sl. */
static inline uint64_t pps_slice_remaining(const struct pps_slice *sl)
{
	return sl->next >= sl->end ? 0 : (sl->end - sl->next + sl->stride - 1) / sl->stride;
}

#endif /* PPS_SHARD_H */

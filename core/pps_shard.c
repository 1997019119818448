#include "pps_shard.h"

#include <errno.h>

int pps_slice_init(struct pps_slice *sl, uint64_t total, uint32_t shard, uint32_t n_shards,
		   uint32_t thread, uint32_t n_threads)
{
	if (n_shards == 0 || n_threads == 0 || shard >= n_shards || thread >= n_threads)
		return -EINVAL;
	sl->stride = (uint64_t)n_shards * n_threads;
	sl->next = shard + (uint64_t)n_shards * thread;
	sl->end = total;
	return 0;
}

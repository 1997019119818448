/*
 * Dedup storage (pps_dedup.h): the exact bitmap, or the 8-way set-associative window with a
 * first-in first-out victim per set, in one anonymous mapping that is zero and not resident until
 * a response writes to it.
 */
#include "pps_dedup.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

/* Bytes of one window set: a cache line (the mapping is page-aligned). */
#define SET_BYTES (PPS_DEDUP_WAYS * sizeof(uint64_t))

struct pps_dedup *pps_dedup_new(uint64_t n_targets, uint64_t budget_bytes)
{
	struct pps_dedup *d;
	uint64_t bytes;

	if (budget_bytes < PPS_DEDUP_MEMORY_MIN) {
		errno = EINVAL;
		return NULL;
	}
	if (!(d = calloc(1, sizeof(*d))))
		return NULL;
	bytes = pps_dedup_bitmap_bytes(n_targets ? n_targets : 1);
	if (bytes <= budget_bytes) {
		d->exact = 1;
	} else {
		d->sets = budget_bytes / SET_BYTES;
		if (d->sets > 0xffffffffULL)
			d->sets = 0xffffffffULL;
		bytes = d->sets * SET_BYTES;
	}
	if (bytes > SIZE_MAX)
		goto fail;
	d->map = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (d->map == MAP_FAILED) {
		d->map = NULL;
		goto fail;
	}
	d->map_bytes = (size_t)bytes;
	if (d->exact) {
		d->bits = d->map;
	} else {
		d->entries = d->map;
	}
	return d;
fail:
	free(d);
	errno = ENOMEM;
	return NULL;
}

void pps_dedup_free(struct pps_dedup *d)
{
	if (!d)
		return;
	if (d->map)
		munmap(d->map, d->map_bytes);
	free(d);
}

int pps_dedup_is_exact(const struct pps_dedup *d)
{
	return d->exact;
}

uint64_t pps_dedup_window_results(const struct pps_dedup *d)
{
	return d->exact ? 0 : d->sets * PPS_DEDUP_WAYS;
}

int pps_dedup_check_set_window(struct pps_dedup *d, uint32_t ip_h, uint16_t port_h)
{
	uint64_t key = pps_dedup_window_key(ip_h, port_h);
	uint64_t set = pps_dedup_window_set(d, key);
	uint64_t *e = &d->entries[set * PPS_DEDUP_WAYS];

	unsigned v;

	for (int w = 0; w < PPS_DEDUP_WAYS; w++)
		if ((e[w] & PPS_DEDUP_KEY_MASK) == key)
			return 1;
	v = (unsigned)(e[0] >> 61);
	e[v] = (e[v] & ~PPS_DEDUP_KEY_MASK) | key;
	e[0] = (e[0] & PPS_DEDUP_KEY_MASK) | (uint64_t)((v + 1) % PPS_DEDUP_WAYS) << 61;
	return 0;
}

#include "pps_dedup.h"

#include <errno.h>
#include <stdlib.h>

struct pps_dedup {
	int exact;
	uint64_t *bits;	   /* exact mode */
	uint64_t *entries; /* window mode: sets * ways, value = key + 1 (0 = empty) */
	uint8_t *next_way; /* window mode: round-robin victim per set */
};

struct pps_dedup *pps_dedup_new(uint64_t n_targets)
{
	struct pps_dedup *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	if (n_targets <= PPS_DEDUP_EXACT_MAX) {
		d->exact = 1;
		d->bits = calloc((n_targets + 63) / 64 + 1, sizeof(uint64_t));
		if (!d->bits)
			goto fail;
	} else {
		d->entries = calloc((size_t)PPS_DEDUP_WINDOW_SETS * PPS_DEDUP_WAYS,
				    sizeof(uint64_t));
		d->next_way = calloc(PPS_DEDUP_WINDOW_SETS, 1);
		if (!d->entries || !d->next_way)
			goto fail;
	}
	return d;
fail:
	pps_dedup_free(d);
	errno = ENOMEM;
	return NULL;
}

void pps_dedup_free(struct pps_dedup *d)
{
	if (!d)
		return;
	free(d->bits);
	free(d->entries);
	free(d->next_way);
	free(d);
}

int pps_dedup_is_exact(const struct pps_dedup *d)
{
	return d->exact;
}

static inline uint32_t window_set(uint64_t key)
{
	return (uint32_t)((key * 0x9e3779b97f4a7c15ULL) >> 44) & (PPS_DEDUP_WINDOW_SETS - 1);
}

void pps_dedup_prefetch(const struct pps_dedup *d, uint64_t target_index, uint32_t ip_h,
			uint16_t port_h)
{
	if (d->exact)
		__builtin_prefetch(&d->bits[target_index >> 6], 1);
	else
		__builtin_prefetch(&d->entries[(size_t)window_set(((uint64_t)ip_h << 16 | port_h) + 1) *
						PPS_DEDUP_WAYS],
				   1);
}

int pps_dedup_check_set(struct pps_dedup *d, uint64_t target_index, uint32_t ip_h,
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
	uint64_t key = ((uint64_t)ip_h << 16 | port_h) + 1;
	uint32_t set = window_set(key);
	uint64_t *e = &d->entries[(size_t)set * PPS_DEDUP_WAYS];
	for (int w = 0; w < PPS_DEDUP_WAYS; w++)
		if (e[w] == key)
			return 1;
	e[d->next_way[set]] = key;
	d->next_way[set] = (uint8_t)((d->next_way[set] + 1) % PPS_DEDUP_WAYS);
	return 0;
}

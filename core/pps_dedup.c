/*
 * Dedup storage (pps_dedup.h): the exact bitmap, or the 4-way set-associative window with a
 * round-robin victim per set.
 */
#include "pps_dedup.h"

#include <errno.h>
#include <stdlib.h>

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
		d->entries =
			calloc((size_t)PPS_DEDUP_WINDOW_SETS * PPS_DEDUP_WAYS, sizeof(uint64_t));
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

int pps_dedup_check_set_window(struct pps_dedup *d, uint32_t ip_h, uint16_t port_h)
{
	uint64_t key = ((uint64_t)ip_h << 16 | port_h) + 1;
	uint32_t set = pps_dedup_window_set(key);
	uint64_t *e = &d->entries[(size_t)set * PPS_DEDUP_WAYS];

	for (int w = 0; w < PPS_DEDUP_WAYS; w++)
		if (e[w] == key)
			return 1;
	e[d->next_way[set]] = key;
	d->next_way[set] = (uint8_t)((d->next_way[set] + 1) % PPS_DEDUP_WAYS);
	return 0;
}

/*
 * pps_hostcount.c - open ports per address (pps_hostcount.h): linear probing on a
 * the address hash pps_pps_ip_hash(), grown by
 * rehashing at half load. Entries are never removed.
 */
#include "pps_hostcount.h"

#include <errno.h>
#include <stdlib.h>

int pps_hostcount_init(struct pps_hostcount *h)
{
	h->mask = 1023;
	h->used = 0;
	h->untracked = 0;
	h->slot = calloc((size_t)h->mask + 1, sizeof(*h->slot));
	return h->slot ? 0 : -ENOMEM;
}

static void grow(struct pps_hostcount *h)
{
	uint32_t nmask = h->mask * 2 + 1;
	struct pps_hostcount_slot *ns;

	if (h->used >= PPS_HOSTCOUNT_MAX || !(ns = calloc((size_t)nmask + 1, sizeof(*ns))))
		return;
	for (uint32_t k = 0; k <= h->mask; k++) {
		uint32_t i;

		if (!h->slot[k].n)
			continue;
		for (i = pps_ip_hash(h->slot[k].ip_h) & nmask; ns[i].n; i = (i + 1) & nmask)
			;
		ns[i] = h->slot[k];
	}
	free(h->slot);
	h->slot = ns;
	h->mask = nmask;
}

uint32_t pps_hostcount_add(struct pps_hostcount *h, uint32_t ip_h)
{
	uint32_t i;

	if (!h->slot)
		return 0;
	if ((h->used + 1) * 2 > h->mask + 1)
		grow(h);
	for (i = pps_ip_hash(ip_h) & h->mask; h->slot[i].n; i = (i + 1) & h->mask)
		if (h->slot[i].ip_h == ip_h)
			return ++h->slot[i].n;
	if ((h->used + 1) * 2 > h->mask + 1) { /* could not grow: keep the load at half */
		h->untracked++;
		return 0;
	}
	h->slot[i].ip_h = ip_h;
	h->slot[i].n = 1;
	h->used++;
	return 1;
}

uint32_t pps_hostcount_get(const struct pps_hostcount *h, uint32_t ip_h)
{
	if (!h->slot)
		return 0;
	for (uint32_t i = pps_ip_hash(ip_h) & h->mask; h->slot[i].n; i = (i + 1) & h->mask)
		if (h->slot[i].ip_h == ip_h)
			return h->slot[i].n;
	return 0;
}

void pps_hostcount_free(struct pps_hostcount *h)
{
	free(h->slot);
	h->slot = NULL;
}

#include "pps_ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct pps_ring *pps_ring_new(size_t capacity)
{
	struct pps_ring *r;
	size_t cap = 2;

	while (cap < capacity)
		cap <<= 1;
	r = aligned_alloc(64, sizeof(*r));
	if (!r)
		goto nomem;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	r->mask = cap - 1;
	/* cache-line aligned: a result is two lines, never three */
	r->slots = aligned_alloc(64, cap * sizeof(struct pps_result));
	if (!r->slots) {
		free(r);
		goto nomem;
	}
	memset(r->slots, 0, cap * sizeof(struct pps_result));
	return r;
nomem:
	errno = ENOMEM;
	return NULL;
}

void pps_ring_free(struct pps_ring *r)
{
	if (!r)
		return;
	free(r->slots);
	free(r);
}

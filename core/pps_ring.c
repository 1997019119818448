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
	r->extra = NULL;
	r->extra_size = 0;
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

int pps_ring_set_extra(struct pps_ring *r, size_t size)
{
	free(r->extra);
	r->extra = calloc(r->mask + 1, size);
	r->extra_size = r->extra ? size : 0;
	return r->extra ? 0 : -ENOMEM;
}

void pps_ring_free(struct pps_ring *r)
{
	if (!r)
		return;
	free(r->extra);
	free(r->slots);
	free(r);
}

/*
 * pps_ring.h - single-producer single-consumer ring of struct pps_result (Lamport's queue
 * with C11 acquire/release, the head and tail on separate cache lines). The RX loop pushes,
 * the output thread pops; a full ring never blocks RX: the caller counts the loss.
 */
#ifndef PPS_RING_H
#define PPS_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pps_result.h"

struct pps_ring {
	_Alignas(64) _Atomic uint64_t head; /* written by the producer */
	_Alignas(64) _Atomic uint64_t tail; /* written by the consumer */
	_Alignas(64) uint64_t mask;
	struct pps_result *slots;
	uint8_t *extra; /* extra_size bytes per slot (pps_ring_set_extra()), or NULL */
	size_t extra_size;
};

/**
 * pps_ring_set_extra - gives each slot of @r @size bytes of extra storage (--banners: the
 * first bytes of a data segment), which a result flagged `extra` carries through the ring.
 * Returns 0 or -ENOMEM.
 */
int pps_ring_set_extra(struct pps_ring *r, size_t size);

/** pps_ring_reserve_extra - producer side: the extra bytes of the slot pps_ring_reserve()
 * returned (NULL without extra storage). */
static inline uint8_t *pps_ring_reserve_extra(struct pps_ring *r)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);

	return r->extra ? r->extra + (h & r->mask) * r->extra_size : NULL;
}

/**
 * pps_ring_new - a ring of @capacity results (rounded up to a power of two, >= 2).
 * Returns NULL with errno = ENOMEM on failure. Free with pps_ring_free().
 */
struct pps_ring *pps_ring_new(size_t capacity);

/** pps_ring_free - NULL allowed. */
void pps_ring_free(struct pps_ring *r);

/** pps_ring_push - producer side; copies *@res in. Returns 1, or 0 if the ring is full. */
static inline int pps_ring_push(struct pps_ring *r, const struct pps_result *res)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);

	if (h - t > r->mask)
		return 0;
	r->slots[h & r->mask] = *res;
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
	return 1;
}

/**
 * pps_ring_reserve - producer side, without a copy: the slot the next pps_ring_commit()
 * publishes, for the caller to fill in place, or NULL if the ring is full. Calling it again
 * before the commit returns the same slot.
 */
static inline struct pps_result *pps_ring_reserve(struct pps_ring *r)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);

	return h - t > r->mask ? NULL : &r->slots[h & r->mask];
}

/** pps_ring_commit - publishes the slot pps_ring_reserve() returned (release). */
static inline void pps_ring_commit(struct pps_ring *r)
{
	atomic_store_explicit(&r->head, atomic_load_explicit(&r->head, memory_order_relaxed) + 1,
			      memory_order_release);
}

/** pps_ring_pop - consumer side; copies up to @max results to @out. Returns how many. */
static inline size_t pps_ring_pop(struct pps_ring *r, struct pps_result *out, size_t max)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
	size_t n = 0;

	while (t + n < h && n < max) {
		out[n] = r->slots[(t + n) & r->mask];
		n++;
	}
	atomic_store_explicit(&r->tail, t + n, memory_order_release);
	return n;
}

/**
 * pps_ring_pop_extra - pps_ring_pop() that also copies the extra bytes of each result
 * flagged `extra` to @xout + i * r->extra_size (room for @max of them), before the slots go
 * back to the producer.
 */
static inline size_t pps_ring_pop_extra(struct pps_ring *r, struct pps_result *out, uint8_t *xout,
					size_t max)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
	size_t n = 0;

	while (t + n < h && n < max) {
		uint64_t q = (t + n) & r->mask;

		out[n] = r->slots[q];
		if (out[n].extra && r->extra)
			memcpy(xout + n * r->extra_size, r->extra + q * r->extra_size,
			       r->extra_size);
		n++;
	}
	atomic_store_explicit(&r->tail, t + n, memory_order_release);
	return n;
}

#endif /* PPS_RING_H */

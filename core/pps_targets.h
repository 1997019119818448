/*
 * pps_targets.h - the set of target addresses: IPv4 addresses and CIDR blocks, kept as a
 * sorted list of disjoint inclusive ranges with prefix counts, so that
 *   index -> address (TX, O(log ranges)) and address -> index (RX, O(log ranges))
 * are exact for any set, including 0.0.0.0/0 (2^32 addresses).
 */
#ifndef PPS_TARGETS_H
#define PPS_TARGETS_H

#include <stddef.h>
#include <stdint.h>

/** One inclusive range of addresses, host byte order. */
struct pps_range {
	uint32_t first_h;
	uint32_t last_h;
};

/** A finalised target set. Owned by the caller of pps_targets_new(); free with pps_targets_free(). */
struct pps_targets {
	struct pps_range *ranges; /* sorted, disjoint, non-adjacent after finalize */
	uint64_t *before;	  /* before[i] = number of addresses in ranges[0..i) */
	size_t n_ranges;
	size_t cap;
	uint64_t n_addresses; /* 0 .. 2^32 */
	int finalized;
};

/**
 * pps_parse_ipv4 - strict dotted-quad parser: exactly four decimal octets 0..255, no sign,
 * no spaces, no leading zero (inet_aton() would read "010" as octal 8), at most 3 digits. Writes the address in host order to @out_h.
 * Returns 0, or -EINVAL.
 */
int pps_parse_ipv4(const char *s, uint32_t *out_h);

/**
 * pps_format_ipv4 - writes "a.b.c.d" (NUL-terminated, at most 16 bytes) for @ip_h (host
 * order) into @buf. Returns the number of characters written, excluding the NUL.
 */
int pps_format_ipv4(uint32_t ip_h, char buf[16]);

/**
 * pps_parse_cidr - parses "a.b.c.d" or "a.b.c.d/len" (len 0..32). Host bits need not be
 * zero: 198.18.0.5/24 means the whole 198.18.0.0/24 (as ZMap and masscan read it).
 * Returns 0 with the inclusive range in @out, or -EINVAL.
 */
int pps_parse_cidr(const char *s, struct pps_range *out);

/** pps_targets_new - an empty set. Returns NULL and sets errno on allocation failure. */
struct pps_targets *pps_targets_new(void);

/** pps_targets_free - frees @t and everything it owns; NULL is allowed. */
void pps_targets_free(struct pps_targets *t);

/**
 * pps_targets_add - adds an inclusive range (host order, first <= last). Allowed only before
 * pps_targets_finalize(). Returns 0, -EINVAL (reversed range or already finalized) or -ENOMEM.
 */
int pps_targets_add(struct pps_targets *t, uint32_t first_h, uint32_t last_h);

/**
 * pps_targets_subtract - removes every address of @block from the (finalized or not) set;
 * used for blocklists. Returns 0 or -ENOMEM. The set is finalized afterwards.
 */
int pps_targets_subtract(struct pps_targets *t, const struct pps_targets *block);

/**
 * pps_targets_finalize - sorts and merges the ranges (overlapping or adjacent ranges
 * become one, so each address is counted once) and computes the prefix counts.
 * Returns 0 or -ENOMEM.
 */
int pps_targets_finalize(struct pps_targets *t);

/** pps_targets_at_search, pps_targets_index_of_search - the binary searches behind the two below. */
uint32_t pps_targets_at_search(const struct pps_targets *t, uint64_t index);
int64_t pps_targets_index_of_search(const struct pps_targets *t, uint32_t ip_h);

/**
 * pps_targets_at - the @index-th address (host order) of a finalized set, 0 <= index <
 * n_addresses, in ascending address order. Undefined for an out-of-range index.
 * One range (a single block, the common scan) is a sum; more ranges take a binary search.
 */
static inline uint32_t pps_targets_at(const struct pps_targets *t, uint64_t index)
{
	if (t->n_ranges == 1)
		return t->ranges[0].first_h + (uint32_t)index;
	return pps_targets_at_search(t, index);
}

/**
 * pps_targets_index_of - the index of @ip_h in a finalized set, or -1 if it is not a target.
 */
static inline int64_t pps_targets_index_of(const struct pps_targets *t, uint32_t ip_h)
{
	if (t->n_ranges == 1)
		return ip_h - t->ranges[0].first_h <= t->ranges[0].last_h - t->ranges[0].first_h
			       ? (int64_t)(ip_h - t->ranges[0].first_h)
			       : -1;
	return pps_targets_index_of_search(t, ip_h);
}

#endif /* PPS_TARGETS_H */

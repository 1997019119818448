/*
 * pps_permutation.h - a keyed bijection over the index space [0, n), n up to 2^48 and beyond.
 *
 * Construction: an unbalanced Feistel network over the mixed-radix domain [0, a) x [0, b) with
 * a*b >= n, plus cycle walking to stay inside [0, n). This is masscan's BlackRock
 * (Robert Graham, crypto-blackrock.c), itself after Black & Rogaway, "Ciphers with Arbitrary
 * Finite Domains" (CT-RSA 2002). Chosen over ZMap's cyclic multiplicative group because it is
 * random-access: perm(i) needs no state, so shards, sender threads, retries and resume are
 * plain arithmetic on i; and because a ~ sqrt(n) keeps a*b/n < 1 + 2/sqrt(n), so cycle walking
 * almost never takes a second step (ZMap's fixed groups can waste up to ~256x for n just
 * above a group prime). bench/bench_core measures the cost per probe.
 */
#ifndef PPS_PERMUTATION_H
#define PPS_PERMUTATION_H

#include <stdint.h>

#include "pps_fastdiv.h"

#define PPS_PERM_ROUNDS 6 /* even, so the output packs as a*R + L */

/** Permutation state: read-only after pps_perm_init(), safe to share between threads. */
struct pps_perm {
	uint64_t n; /* domain size */
	uint64_t a; /* a*b >= n, a ~ sqrt(n) */
	uint64_t b;
	uint64_t round_key[PPS_PERM_ROUNDS];
	struct pps_fastdiv div_a; /* reciprocal of a: m -> (m mod a, m div a) without a divide */
};

/**
 * pps_perm_init - keys a bijection of [0, @n) with @seed (any 64-bit value; the same seed and
 * n give the same order on every machine). n may be 0 (empty) or 1. Returns 0, or -EINVAL if
 * n > 2^62.
 */
int pps_perm_init(struct pps_perm *p, uint64_t n, uint64_t seed);

/**
 * pps_perm_apply - the image of @i (0 <= i < n) under the permutation; always < n.
 * Cost: one reciprocal-multiply split of i into (i mod a, i div a), then 6 Feistel rounds of
 * three multiplies each (a 32-bit multiply-xorshift mix scaled into the radix by a
 * multiply-shift: no divide instruction), repeated only while the result falls in [n, a*b).
 */
uint64_t pps_perm_apply(const struct pps_perm *p, uint64_t i);

/**
 * pps_perm_apply_burst - @out[k] = pps_perm_apply(@p, @in[k]) for k < @n (@in and @out may
 * be the same array). Same results, faster: one image is a ~130-cycle dependency chain, most
 * of it multiply latency, so indices go through the Feistel rounds together: 32 at a time as
 * AVX-512 lanes where the CPU has it (about 8 TSC cycles an index on the lab machine, see
 * bench/bench_core), otherwise four in lockstep so the CPU overlaps four independent chains.
 */
void pps_perm_apply_burst(const struct pps_perm *p, const uint64_t *in, uint64_t *out, unsigned n);

/** pps_splitmix64 - SplitMix64 step (Steele, Lea & Flood 2014): advances *state, returns 64 bits. */
uint64_t pps_splitmix64(uint64_t *state);

#endif /* PPS_PERMUTATION_H */

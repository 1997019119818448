/*
 * pps_fastdiv.h - division and remainder by a run-time constant without a divide
 * instruction: a precomputed reciprocal, a 64x64->128 multiply and one correction step.
 *
 * For a divisor d >= 1, M = floor((2^64 - 1) / d) >= (2^64 - d) / d, so 2^64/d - M <= 1 and
 * x/d - x*M/2^64 <= x/2^64 < 1 for any x < 2^64: q' = floor(x * M / 2^64) is q = floor(x/d)
 * or q - 1, r' = x - q' * d < 2d, and one conditional step makes both exact (the classic reciprocal method; Granlund & Montgomery, "Division by
 * invariant integers using multiplication", PLDI 1994, use the same bound argument).
 * Worked example: d = 7, M = 2635249153387078802; x = 100: q' = 14, r' = 2 -> 14 r 2.
 */
#ifndef PPS_FASTDIV_H
#define PPS_FASTDIV_H

#include <stdint.h>

/** A divisor with its reciprocal. Read-only after pps_fastdiv_init(). */
struct pps_fastdiv {
	uint64_t d;
	uint64_t m;
};

/** pps_fastdiv_init - prepares division by @d (>= 1; 0 is treated as 1). */
static inline void pps_fastdiv_init(struct pps_fastdiv *f, uint64_t d)
{
	f->d = d ? d : 1;
	f->m = UINT64_MAX / f->d;
}

/** pps_fastdiv_divmod - floor(@x / d) as the return value, x mod d in *@rem. Exact for all x. */
static inline uint64_t pps_fastdiv_divmod(const struct pps_fastdiv *f, uint64_t x, uint64_t *rem)
{
	uint64_t q = (uint64_t)(((unsigned __int128)x * f->m) >> 64);
	uint64_t r = x - q * f->d;
	/* branch-free: the correction is needed for a data-dependent share of x (a quarter of
	 * all x for d = 4), so a branch here would be mispredicted that often */
	uint64_t c = r >= f->d;

	*rem = r - (f->d & (0 - c));
	return q + c;
}

/** pps_fastdiv_mod - @x mod d. */
static inline uint64_t pps_fastdiv_mod(const struct pps_fastdiv *f, uint64_t x)
{
	uint64_t r;
	(void)pps_fastdiv_divmod(f, x, &r);
	return r;
}

#endif /* PPS_FASTDIV_H */

/*
 * pps_siphash.h - SipHash-2-4, the keyed PRF behind ppscan's SYN cookies.
 *
 * Source: J.-P. Aumasson and D. J. Bernstein, "SipHash: a fast short-input PRF",
 * INDOCRYPT 2012 (the paper, appendix A, gives the test vectors; the reference
 * implementation's vectors.h gives 64 more, checked in tests/test_siphash.c).
 */
#ifndef PPS_SIPHASH_H
#define PPS_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/** A 128-bit SipHash key as two little-endian 64-bit words (k0 = key bytes 0..7). */
struct pps_siphash_key {
	uint64_t k0;
	uint64_t k1;
};

/**
 * pps_siphash_key_from_bytes - load a key from 16 raw bytes (little-endian words,
 * as the paper's reference code reads them).
 */
struct pps_siphash_key pps_siphash_key_from_bytes(const uint8_t bytes[16]);

/**
 * pps_siphash24 - SipHash-2-4 of @len bytes at @data under @key.
 * Returns the 64-bit tag (the reference implementation writes it little-endian).
 * Pure function; @data may be NULL when @len is 0.
 */
uint64_t pps_siphash24(const struct pps_siphash_key *key, const void *data, size_t len);

/**
 * pps_siphash24_4tuple - SipHash-2-4 of the 12-byte message
 *   dst_ip (4, little-endian) | src_ip (4, little-endian) | dst_port (2, little-endian) |
 *   src_port (2, little-endian)
 * Arguments are numbers (host order); the result equals pps_siphash24() of those 12 bytes.
 * Little-endian because SipHash reads its message as little-endian words: the two words are
 * then plain shifts and ors of the numbers, with no byte swap in the per-probe path.
 * This is the per-probe and per-response cookie function; it is specialised for the
 * fixed length (one compression round plus the final block), no loop, no branch.
 */
uint64_t pps_siphash24_4tuple(const struct pps_siphash_key *key, uint32_t dst_ip_h,
			      uint32_t src_ip_h, uint16_t dst_port_h, uint16_t src_port_h);

/**
 * pps_siphash24_4tuple_burst - @out[k] = pps_siphash24_4tuple(@key, @dst_ip_h[k],
 * @src_ip_h[k], @dst_port_h[k], @src_port_h[k]) for k < @n. Bit-identical to the scalar
 * function; eight messages go through the SipRounds as the lanes of one vector (AVX-512,
 * AVX2 or SSE2, picked at run time for the CPU), so a burst of probes or responses costs
 * a fraction of @n scalar calls (32 lanes a call; a shorter tail is padded).
 */
void pps_siphash24_4tuple_burst(const struct pps_siphash_key *key, const uint32_t *dst_ip_h,
				const uint32_t *src_ip_h, const uint16_t *dst_port_h,
				const uint16_t *src_port_h, uint64_t *out, unsigned n);

#endif /* PPS_SIPHASH_H */

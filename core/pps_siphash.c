/*
 * SipHash-2-4 (Aumasson & Bernstein, 2012).
 *
 * State v0..v3 is initialised from the key and the constants "somepseudorandomlygeneratedbytes";
 * each 8-byte little-endian message word m is absorbed as v3 ^= m; 2 SipRounds; v0 ^= m.
 * The last word holds the remaining bytes and (len mod 256) << 56. Finalisation: v2 ^= 0xff,
 * 4 SipRounds, tag = v0 ^ v1 ^ v2 ^ v3.
 * Worked example (paper, appendix A): key 00..0f, message 00..0e (15 bytes) -> a129ca6149be45e5.
 */
#include "pps_siphash.h"

#include <string.h>

/* no cast: the same macros serve uint64_t and the 8-lane vectors below */
#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND(v0, v1, v2, v3)                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = ROTL(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = ROTL(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = ROTL(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = ROTL(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = ROTL(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = ROTL(v2, 32);                                                                 \
	} while (0)

static inline uint64_t load_le64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
	       (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

struct pps_siphash_key pps_siphash_key_from_bytes(const uint8_t bytes[16])
{
	struct pps_siphash_key k = { load_le64(bytes), load_le64(bytes + 8) };
	return k;
}

/* The state after keying, one absorbed 8-byte word, and the finalisation (paper, section 2). */
struct sip_state {
	uint64_t v0, v1, v2, v3;
};

static inline struct sip_state sip_init(const struct pps_siphash_key *key)
{
	struct sip_state s = {
		0x736f6d6570736575ULL ^ key->k0,
		0x646f72616e646f6dULL ^ key->k1,
		0x6c7967656e657261ULL ^ key->k0,
		0x7465646279746573ULL ^ key->k1,
	};
	return s;
}

static inline void sip_absorb(struct sip_state *s, uint64_t m)
{
	s->v3 ^= m;
	SIPROUND(s->v0, s->v1, s->v2, s->v3);
	SIPROUND(s->v0, s->v1, s->v2, s->v3);
	s->v0 ^= m;
}

static inline uint64_t sip_final(struct sip_state *s)
{
	s->v2 ^= 0xff;
	SIPROUND(s->v0, s->v1, s->v2, s->v3);
	SIPROUND(s->v0, s->v1, s->v2, s->v3);
	SIPROUND(s->v0, s->v1, s->v2, s->v3);
	SIPROUND(s->v0, s->v1, s->v2, s->v3);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

uint64_t pps_siphash24(const struct pps_siphash_key *key, const void *data, size_t len)
{
	const uint8_t *in = data;
	struct sip_state s = sip_init(key);
	size_t full = len & ~(size_t)7;
	uint64_t b = (uint64_t)(len & 0xff) << 56;

	for (size_t i = 0; i < full; i += 8)
		sip_absorb(&s, load_le64(in + i));
	for (size_t i = 0; i < (len & 7); i++)
		b |= (uint64_t)in[full + i] << (8 * i);
	sip_absorb(&s, b);
	return sip_final(&s);
}

uint64_t pps_siphash24_4tuple(const struct pps_siphash_key *key, uint32_t dst_ip_h,
			      uint32_t src_ip_h, uint16_t dst_port_h, uint16_t src_port_h)
{
	/* Message bytes in wire order, read as little-endian words without a buffer. */
	uint64_t m = (uint64_t)__builtin_bswap32(dst_ip_h) |
		     (uint64_t)__builtin_bswap32(src_ip_h) << 32;
	uint64_t b = (uint64_t)12 << 56 | (uint64_t)(dst_port_h >> 8) |
		     (uint64_t)(dst_port_h & 0xff) << 8 | (uint64_t)(src_port_h >> 8) << 16 |
		     (uint64_t)(src_port_h & 0xff) << 24;
	struct sip_state s = sip_init(key);

	sip_absorb(&s, m);
	sip_absorb(&s, b);
	return sip_final(&s);
}

/*
 * Eight lanes at a time with GCC vector extensions: the same SipRound on a vector of eight
 * 64-bit words. target_clones compiles it for AVX-512 (one 512-bit register a word, native
 * 64-bit rotates), AVX2 and the x86-64 baseline, and the loader picks one for the CPU.
 */
typedef uint64_t pps_u64x8 __attribute__((vector_size(64)));

/* The lanes reuse SIPROUND: GCC vector extensions give the same operators lane by lane. */

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PPS_SIP_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PPS_SIP_CLONES
#endif

PPS_SIP_CLONES
static void siphash_x8(uint64_t k0, uint64_t k1, const pps_u64x8 *m, const pps_u64x8 *b,
		       pps_u64x8 *out)
{
	/* (uint64_t): clang adds a scalar to a vector only of the element type */
	pps_u64x8 v0 = (pps_u64x8){ 0 } + (uint64_t)(0x736f6d6570736575ULL ^ k0);
	pps_u64x8 v1 = (pps_u64x8){ 0 } + (uint64_t)(0x646f72616e646f6dULL ^ k1);
	pps_u64x8 v2 = (pps_u64x8){ 0 } + (uint64_t)(0x6c7967656e657261ULL ^ k0);
	pps_u64x8 v3 = (pps_u64x8){ 0 } + (uint64_t)(0x7465646279746573ULL ^ k1);

	v3 ^= *m;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= *m;
	v3 ^= *b;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= *b;
	v2 ^= 0xff;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	*out = v0 ^ v1 ^ v2 ^ v3;
}

void pps_siphash24_4tuple_burst(const struct pps_siphash_key *key, const uint32_t *dst_ip_h,
				const uint32_t *src_ip_h, const uint16_t *dst_port_h,
				const uint16_t *src_port_h, uint64_t *out, unsigned n)
{
	for (unsigned k = 0; k < n; k += 8) {
		unsigned w = n - k < 8 ? n - k : 8;
		pps_u64x8 m = { 0 }, b = { 0 }, h;

		/* the two message words of pps_siphash24_4tuple(), lane by lane */
		for (unsigned l = 0; l < w; l++) {
			uint16_t dp = dst_port_h[k + l], sp = src_port_h[k + l];

			m[l] = (uint64_t)__builtin_bswap32(dst_ip_h[k + l]) |
			       (uint64_t)__builtin_bswap32(src_ip_h[k + l]) << 32;
			b[l] = (uint64_t)12 << 56 | (uint64_t)(dp >> 8) | (uint64_t)(dp & 0xff) << 8 |
			       (uint64_t)(sp >> 8) << 16 | (uint64_t)(sp & 0xff) << 24;
		}
		siphash_x8(key->k0, key->k1, &m, &b, &h);
		for (unsigned l = 0; l < w; l++)
			out[k + l] = h[l];
	}
}

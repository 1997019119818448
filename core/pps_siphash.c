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
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
	       (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	       (uint64_t)p[7] << 56;
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
	/* The 12 message bytes as the two little-endian words SipHash reads: no byte swap. */
	uint64_t m = (uint64_t)dst_ip_h | (uint64_t)src_ip_h << 32;
	uint64_t b = (uint64_t)12 << 56 | (uint64_t)dst_port_h | (uint64_t)src_port_h << 16;
	struct sip_state s = sip_init(key);

	sip_absorb(&s, m);
	sip_absorb(&s, b);
	return sip_final(&s);
}

/*
 * 32 lanes at a time with GCC vector extensions: four vectors of eight 64-bit words go
 * through the same SipRounds side by side (four independent dependency chains for the CPU
 * to overlap). target_clones compiles it for AVX-512 (one 512-bit register a vector,
 * native 64-bit rotates), AVX2 and the x86-64 baseline, and the loader picks one for the
 * CPU. The message words are built lane by lane with vector widening, shifts and ors.
 */
typedef uint64_t pps_u64x8 __attribute__((vector_size(64)));
typedef uint32_t pps_u32x8 __attribute__((vector_size(32)));
typedef uint16_t pps_u16x8 __attribute__((vector_size(16)));

#define PPS_SIP_LANES 32
#define PPS_SIP_VECS (PPS_SIP_LANES / 8)

/* The lanes reuse SIPROUND: GCC vector extensions give the same operators lane by lane. */

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PPS_SIP_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PPS_SIP_CLONES
#endif

#define SIPROUND_X(v0, v1, v2, v3)                                                                 \
	do {                                                                                       \
		for (int q = 0; q < PPS_SIP_VECS; q++)                                             \
			SIPROUND(v0[q], v1[q], v2[q], v3[q]);                                      \
	} while (0)

PPS_SIP_CLONES
static void siphash_x32(uint64_t k0, uint64_t k1, const uint32_t *dst_ip_h,
			const uint32_t *src_ip_h, const uint16_t *dst_port_h,
			const uint16_t *src_port_h, uint64_t *out)
{
	pps_u64x8 v0[PPS_SIP_VECS], v1[PPS_SIP_VECS], v2[PPS_SIP_VECS], v3[PPS_SIP_VECS];
	pps_u64x8 m[PPS_SIP_VECS], b[PPS_SIP_VECS];

	for (int q = 0; q < PPS_SIP_VECS; q++) {
		pps_u32x8 dip, sip;
		pps_u16x8 dp, sp;

		memcpy(&dip, dst_ip_h + 8 * q, sizeof(dip));
		memcpy(&sip, src_ip_h + 8 * q, sizeof(sip));
		memcpy(&dp, dst_port_h + 8 * q, sizeof(dp));
		memcpy(&sp, src_port_h + 8 * q, sizeof(sp));
		m[q] = __builtin_convertvector(dip, pps_u64x8) |
		       __builtin_convertvector(sip, pps_u64x8) << 32;
		/* the ports through 32 bits: GCC widens u16 -> u64 lane by lane otherwise */
		b[q] = __builtin_convertvector(__builtin_convertvector(dp, pps_u32x8) |
						       __builtin_convertvector(sp, pps_u32x8) << 16,
					       pps_u64x8) |
		       (uint64_t)12 << 56;
		/* (uint64_t): clang adds a scalar to a vector only of the element type */
		v0[q] = (pps_u64x8){ 0 } + (uint64_t)(0x736f6d6570736575ULL ^ k0);
		v1[q] = (pps_u64x8){ 0 } + (uint64_t)(0x646f72616e646f6dULL ^ k1);
		v2[q] = (pps_u64x8){ 0 } + (uint64_t)(0x6c7967656e657261ULL ^ k0);
		v3[q] = ((pps_u64x8){ 0 } + (uint64_t)(0x7465646279746573ULL ^ k1)) ^ m[q];
	}
	SIPROUND_X(v0, v1, v2, v3);
	SIPROUND_X(v0, v1, v2, v3);
	for (int q = 0; q < PPS_SIP_VECS; q++) {
		v0[q] ^= m[q];
		v3[q] ^= b[q];
	}
	SIPROUND_X(v0, v1, v2, v3);
	SIPROUND_X(v0, v1, v2, v3);
	for (int q = 0; q < PPS_SIP_VECS; q++) {
		v0[q] ^= b[q];
		v2[q] ^= 0xff;
	}
	SIPROUND_X(v0, v1, v2, v3);
	SIPROUND_X(v0, v1, v2, v3);
	SIPROUND_X(v0, v1, v2, v3);
	SIPROUND_X(v0, v1, v2, v3);
	for (int q = 0; q < PPS_SIP_VECS; q++) {
		pps_u64x8 h = v0[q] ^ v1[q] ^ v2[q] ^ v3[q];

		memcpy(out + 8 * q, &h, sizeof(h));
	}
}

void pps_siphash24_4tuple_burst(const struct pps_siphash_key *key, const uint32_t *dst_ip_h,
				const uint32_t *src_ip_h, const uint16_t *dst_port_h,
				const uint16_t *src_port_h, uint64_t *out, unsigned n)
{
	unsigned k = 0;

	for (; k + PPS_SIP_LANES <= n; k += PPS_SIP_LANES)
		siphash_x32(key->k0, key->k1, dst_ip_h + k, src_ip_h + k, dst_port_h + k,
			    src_port_h + k, out + k);
	if (k < n) { /* the tail, padded to a whole call */
		uint32_t dip[PPS_SIP_LANES] = { 0 }, sip[PPS_SIP_LANES] = { 0 };
		uint16_t dp[PPS_SIP_LANES] = { 0 }, sp[PPS_SIP_LANES] = { 0 };
		uint64_t h[PPS_SIP_LANES];
		unsigned w = n - k;

		memcpy(dip, dst_ip_h + k, w * sizeof(*dip));
		memcpy(sip, src_ip_h + k, w * sizeof(*sip));
		memcpy(dp, dst_port_h + k, w * sizeof(*dp));
		memcpy(sp, src_port_h + k, w * sizeof(*sp));
		siphash_x32(key->k0, key->k1, dip, sip, dp, sp, h);
		memcpy(out + k, h, w * sizeof(*h));
	}
}

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

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

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

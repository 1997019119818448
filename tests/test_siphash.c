/*
 * test_siphash.c - SipHash-2-4 against the reference implementation's 64 vectors
 * (veorq/SipHash vectors.h: key 00..0f, message 00..i-1 of length i) and the 4-tuple
 * specialisation against the generic function.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "pps_cookie.h"
#include "pps_siphash.h"
#include "unit_util.h"

/* The 8 output bytes of vector i in wire order (the tag as uint64 read little-endian). */
static const char *const vectors[64] = {
	"310e0edd47db6f72", "fd67dc93c539f874", "5a4fa9d909806c0d", "2d7efbd796666785",
	"b7877127e09427cf", "8da699cd64557618", "cee3fe586e46c9cb", "37d1018bf50002ab",
	"6224939a79f5f593", "b0e4a90bdf82009e", "f3b9dd94c5bb5d7a", "a7ad6b22462fb3f4",
	"fbe50e86bc8f1e75", "903d84c02756ea14", "eef27a8e90ca23f7", "e545be4961ca29a1",
	"db9bc2577fcc2a3f", "9447be2cf5e99a69", "9cd38d96f0b3c14b", "bd6179a71dc96dbb",
	"98eea21af25cd6be", "c7673b2eb0cbf2d0", "883ea3e395675393", "c8ce5ccd8c030ca8",
	"94af49f6c650adb8", "eab8858ade92e1bc", "f315bb5bb835d817", "adcf6b0763612e2f",
	"a5c91da7acaa4dde", "716595876650a2a6", "28ef495c53a387ad", "42c341d8fa92d832",
	"ce7cf2722f512771", "e37859f94623f3a7", "381205bb1ab0e012", "ae97a10fd434e015",
	"b4a31508beff4d31", "81396229f0907902", "4d0cf49ee5d4dcca", "5c73336a76d8bf9a",
	"d0a704536ba93e0e", "925958fcd6420cad", "a915c29bc8067318", "952b79f3bc0aa6d4",
	"f21df2e41d4535f9", "87577519048f53a9", "10a56cf5dfcd9adb", "eb75095ccd986cd0",
	"51a9cb9ecba312e6", "96afadfc2ce666c7", "72fe52975a4364ee", "5a1645b276d592a1",
	"b274cb8ebf87870a", "6f9bb4203de7b381", "eaecb2a30b22a87f", "9924a43cc1315724",
	"bd838d3aafbf8db7", "0b1a2a3265d51aea", "135079a3231ce660", "932b2846e4d70666",
	"e1915f5cb1eca46c", "f325965ca16d629f", "575ff28e60381be5", "724506eb4c328a95",
};

static struct pps_siphash_key ref_key(void)
{
	uint8_t k[16];

	for (int i = 0; i < 16; i++)
		k[i] = (uint8_t)i;
	return pps_siphash_key_from_bytes(k);
}

/* tag -> its 8 bytes little-endian, as lowercase hex */
static void tag_hex(uint64_t tag, char out[17])
{
	for (int b = 0; b < 8; b++)
		snprintf(out + 2 * b, 3, "%02x", (unsigned)(tag >> (8 * b)) & 0xff);
}

Test(siphash, key_from_bytes_little_endian)
{
	struct pps_siphash_key k = ref_key();

	cr_assert_eq(k.k0, 0x0706050403020100ULL);
	cr_assert_eq(k.k1, 0x0f0e0d0c0b0a0908ULL);
}

Test(siphash, reference_vectors_all_64)
{
	struct pps_siphash_key k = ref_key();
	uint8_t msg[64];
	char hex[17];

	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++) {
		tag_hex(pps_siphash24(&k, msg, (size_t)i), hex);
		cr_expect_str_eq(hex, vectors[i], "vector %d: got %s, want %s", i, hex, vectors[i]);
	}
}

Test(siphash, tags_as_integers)
{
	struct pps_siphash_key k = ref_key();
	uint8_t msg[15];

	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	cr_assert_eq(pps_siphash24(&k, msg, 0), 0x726fdb47dd0e0e31ULL);
	cr_assert_eq(pps_siphash24(&k, NULL, 0), 0x726fdb47dd0e0e31ULL, "NULL with length 0");
	/* the paper's worked example (appendix A): 15 bytes 00..0e */
	cr_assert_eq(pps_siphash24(&k, msg, 15), 0xa129ca6149be45e5ULL);
}

Test(siphash, unaligned_input)
{
	struct pps_siphash_key k = ref_key();
	uint8_t buf[64 + 7];
	char hex[17];

	/* same message at every misalignment gives the same tag */
	for (int shift = 1; shift < 8; shift++) {
		for (int i = 0; i < 64; i++)
			buf[shift + i] = (uint8_t)i;
		tag_hex(pps_siphash24(&k, buf + shift, 63), hex);
		cr_assert_str_eq(hex, vectors[63], "shift %d", shift);
	}
}

static uint64_t tuple_generic(const struct pps_siphash_key *k, uint32_t dst, uint32_t src,
			      uint16_t dport, uint16_t sport)
{
	/* the fields little-endian, as pps_siphash24_4tuple() defines the message */
	uint8_t m[12] = { (uint8_t)dst,		 (uint8_t)(dst >> 8),  (uint8_t)(dst >> 16),
			  (uint8_t)(dst >> 24),	 (uint8_t)src,	       (uint8_t)(src >> 8),
			  (uint8_t)(src >> 16),	 (uint8_t)(src >> 24), (uint8_t)dport,
			  (uint8_t)(dport >> 8), (uint8_t)sport,       (uint8_t)(sport >> 8) };

	return pps_siphash24(k, m, sizeof(m));
}

Test(siphash, fourtuple_equals_generic_12_bytes)
{
	struct ut_rng r;
	int bad = 0;

	ut_rng_seed(&r, 20240601);
	for (int i = 0; i < 20000; i++) {
		struct pps_siphash_key k = { ut_rand64(&r), ut_rand64(&r) };
		uint32_t dst = ut_rand32(&r), src = ut_rand32(&r);
		uint16_t dport = (uint16_t)ut_rand32(&r), sport = (uint16_t)ut_rand32(&r);
		uint64_t want = tuple_generic(&k, dst, src, dport, sport);
		uint64_t got = pps_siphash24_4tuple(&k, dst, src, dport, sport);

		if (got != want && bad++ == 0)
			cr_log_error("tuple %d: %08x %08x %u %u: %016llx != %016llx", i, dst, src,
				     dport, sport, (unsigned long long)got,
				     (unsigned long long)want);
	}
	cr_assert_eq(bad, 0, "%d of 20000 tuples differ", bad);
}

Test(siphash, fourtuple_edge_values)
{
	static const uint32_t ips[] = { 0, 1, 0x7fffffff, 0x80000000, 0xc0000201, 0xffffffff };
	static const uint16_t ports[] = { 0, 1, 0x00ff, 0xff00, 0x8000, 0xffff };
	struct pps_siphash_key k = ref_key();

	for (size_t n = 0; n < 6 * 6 * 6 * 6; n++) {
		uint32_t dst = ips[n % 6], src = ips[n / 6 % 6];
		uint16_t dport = ports[n / 36 % 6], sport = ports[n / 216];

		cr_assert_eq(pps_siphash24_4tuple(&k, dst, src, dport, sport),
			     tuple_generic(&k, dst, src, dport, sport), "%08x %08x %u %u", dst, src,
			     dport, sport);
	}
}

Test(siphash, cookie_field_order)
{
	struct pps_siphash_key k = ref_key();
	uint64_t h = pps_cookie(&k, 0xc6120005, 80, 0xc0000201, 40000);

	/* pps_cookie(key, dst ip, dst port, src ip, src port) hashes dst|src|dport|sport */
	cr_assert_eq(h, tuple_generic(&k, 0xc6120005, 0xc0000201, 80, 40000));
	/* each field matters */
	cr_assert_neq(h, pps_cookie(&k, 0xc6120006, 80, 0xc0000201, 40000));
	cr_assert_neq(h, pps_cookie(&k, 0xc6120005, 81, 0xc0000201, 40000));
	cr_assert_neq(h, pps_cookie(&k, 0xc6120005, 80, 0xc0000202, 40000));
	cr_assert_neq(h, pps_cookie(&k, 0xc6120005, 80, 0xc0000201, 40001));
	/* swapping the ports is a different message */
	cr_assert_neq(pps_cookie(&k, 1, 80, 2, 443), pps_cookie(&k, 1, 443, 2, 80));
}

Test(siphash, fourtuple_burst_matches_scalar)
{
	struct ut_rng r;
	uint32_t dst[100], src[100];
	uint16_t dport[100], sport[100];
	uint64_t out[100];

	ut_rng_seed(&r, 99);
	for (unsigned len = 1; len <= 100; len++) {
		struct pps_siphash_key k = { ut_rand64(&r), ut_rand64(&r) };

		for (unsigned i = 0; i < len; i++) {
			dst[i] = ut_rand32(&r);
			src[i] = ut_rand32(&r);
			dport[i] = (uint16_t)ut_rand32(&r);
			sport[i] = (uint16_t)ut_rand32(&r);
		}
		pps_siphash24_4tuple_burst(&k, dst, src, dport, sport, out, len);
		for (unsigned i = 0; i < len; i++)
			cr_assert_eq(out[i],
				     pps_siphash24_4tuple(&k, dst[i], src[i], dport[i], sport[i]),
				     "len %u lane %u", len, i);
	}
}

/*
 * test_targets.c - strict IPv4/CIDR parsing and the target set: merging, index <-> address
 * mapping (incl. the 0.0.0.0 and 255.255.255.255 edges and /0), and blocklist subtraction,
 * the latter also checked against a bitmap over random sets.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "pps_targets.h"
#include "unit_util.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

Test(ipv4, parses_valid)
{
	static const struct {
		const char *s;
		uint32_t ip;
	} ok[] = {
		{ "0.0.0.0", 0 },
		{ "255.255.255.255", 0xffffffff },
		{ "198.18.0.1", IP(198, 18, 0, 1) },
		{ "10.20.30.40", IP(10, 20, 30, 40) },
		{ "10.0.100.0", IP(10, 0, 100, 0) },
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint32_t ip = 0x5a5a5a5a;

		cr_assert_eq(pps_parse_ipv4(ok[i].s, &ip), 0, "%s", ok[i].s);
		cr_assert_eq(ip, ok[i].ip, "%s -> %08x", ok[i].s, ip);
	}
}

Test(ipv4, rejects_invalid)
{
	static const char *const bad[] = {
		"1.2.3",
		"1.2.3.4.5",
		"256.1.1.1",
		"1.2.3.256",
		"1.2.3.4 ",
		" 1.2.3.4",
		"-1.2.3.4",
		"+1.2.3.4",
		"01234.1.1.1",
		"1.2.3.0004",
		"",
		"1..2.3",
		"1.2.3.",
		".1.2.3",
		"a.b.c.d",
		"1.2.3.4/",
		"0x1.2.3.4",
		"1.2.3.4\n",
		"1,2,3,4",
		"999.0.0.0",
		/* leading zeros: inet_aton() reads them as octal, so they are ambiguous */
		"001.002.003.004",
		"01.2.3.4",
		"198.018.0.1",
		"1.2.3.00",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t ip;

		cr_assert_eq(pps_parse_ipv4(bad[i], &ip), -EINVAL, "'%s' accepted", bad[i]);
	}
	cr_assert_eq(pps_parse_ipv4(NULL, &(uint32_t){ 0 }), -EINVAL);
}

Test(ipv4, format_round_trip)
{
	static const uint32_t ips[] = { 0, 1, 0xffffffff, IP(198, 18, 0, 1), IP(10, 0, 255, 9) };
	char buf[16];
	uint32_t back;

	cr_assert_eq(pps_format_ipv4(0xffffffff, buf), 15);
	cr_assert_str_eq(buf, "255.255.255.255");
	cr_assert_eq(pps_format_ipv4(IP(198, 18, 0, 1), buf), 10);
	cr_assert_str_eq(buf, "198.18.0.1");
	for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
		pps_format_ipv4(ips[i], buf);
		cr_assert_eq(pps_parse_ipv4(buf, &back), 0);
		cr_assert_eq(back, ips[i]);
	}
}

Test(cidr, host_bits_ignored_and_prefixes)
{
	struct pps_range r;

	cr_assert_eq(pps_parse_cidr("198.18.0.5/24", &r), 0);
	cr_assert_eq(r.first_h, IP(198, 18, 0, 0));
	cr_assert_eq(r.last_h, IP(198, 18, 0, 255));

	cr_assert_eq(pps_parse_cidr("198.18.0.5", &r), 0);
	cr_assert_eq(r.first_h, IP(198, 18, 0, 5));
	cr_assert_eq(r.last_h, IP(198, 18, 0, 5));

	cr_assert_eq(pps_parse_cidr("198.18.0.5/32", &r), 0);
	cr_assert_eq(r.first_h, IP(198, 18, 0, 5));
	cr_assert_eq(r.last_h, IP(198, 18, 0, 5));

	cr_assert_eq(pps_parse_cidr("198.18.0.5/31", &r), 0);
	cr_assert_eq(r.first_h, IP(198, 18, 0, 4));
	cr_assert_eq(r.last_h, IP(198, 18, 0, 5));

	cr_assert_eq(pps_parse_cidr("10.200.3.4/8", &r), 0);
	cr_assert_eq(r.first_h, IP(10, 0, 0, 0));
	cr_assert_eq(r.last_h, IP(10, 255, 255, 255));

	cr_assert_eq(pps_parse_cidr("255.255.255.255/1", &r), 0);
	cr_assert_eq(r.first_h, 0x80000000u);
	cr_assert_eq(r.last_h, 0xffffffffu);

	cr_assert_eq(pps_parse_cidr("1.2.3.4/0", &r), 0);
	cr_assert_eq(r.first_h, 0);
	cr_assert_eq(r.last_h, 0xffffffffu);
}

Test(cidr, rejects_invalid)
{
	static const char *const bad[] = {
		"1.2.3.4/33",	 "1.2.3.4/",	"1.2.3.4/-1",  "1.2.3.4/ab",
		"1.2.3.4/24x",	 "1.2.3.4/ 24", "1.2.3.4//24", "1.2.3.4/100",
		"1.2.3.4/0032",	 "1.2.3.4/+8",	"/24",	       "/",
		"/33",		 "/-1",		"/ab",	       "",
		"1.2.3/24",	 "256.0.0.0/8", "1.2.3.4 /24", "1.2.3.4/24/24",
		"198.18.0.1/08", "01.2.3.4/8",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pps_range r;

		cr_assert_eq(pps_parse_cidr(bad[i], &r), -EINVAL, "'%s' accepted", bad[i]);
	}
}

static struct pps_targets *set_of(const struct pps_range *r, size_t n)
{
	struct pps_targets *t = pps_targets_new();

	cr_assert_not_null(t);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(pps_targets_add(t, r[i].first_h, r[i].last_h), 0);
	cr_assert_eq(pps_targets_finalize(t), 0);
	return t;
}

Test(targets, slash_zero_counts_2_to_32)
{
	struct pps_range r;
	struct pps_targets *t;

	cr_assert_eq(pps_parse_cidr("0.0.0.0/0", &r), 0);
	t = set_of(&r, 1);
	cr_assert_eq(t->n_addresses, 1ULL << 32);
	cr_assert_eq(t->n_ranges, 1);
	cr_assert_eq(pps_targets_at(t, 0), 0);
	cr_assert_eq(pps_targets_at(t, (1ULL << 32) - 1), 0xffffffffu);
	cr_assert_eq(pps_targets_at(t, 0xc6120001), 0xc6120001);
	cr_assert_eq(pps_targets_index_of(t, 0xffffffff), (int64_t)0xffffffff);
	cr_assert_eq(pps_targets_index_of(t, 0), 0);
	pps_targets_free(t);
}

Test(targets, merge_counts_each_address_once)
{
	/* given out of order: overlapping, contained, adjacent and duplicate ranges */
	const struct pps_range in[] = {
		{ IP(192, 168, 0, 1), IP(192, 168, 0, 1) },
		{ IP(10, 0, 0, 200), IP(10, 0, 2, 10) },  /* overlaps both /24s */
		{ IP(10, 0, 1, 0), IP(10, 0, 1, 255) },	  /* adjacent to the first */
		{ IP(10, 0, 0, 128), IP(10, 0, 0, 255) }, /* contained */
		{ IP(10, 0, 0, 0), IP(10, 0, 0, 255) },
		{ IP(192, 168, 0, 1), IP(192, 168, 0, 1) }, /* duplicate */
		{ IP(192, 168, 0, 3), IP(192, 168, 0, 3) }, /* not adjacent to .1 */
	};
	struct pps_targets *t = set_of(in, sizeof(in) / sizeof(in[0]));

	cr_assert_eq(t->n_ranges, 3);
	cr_assert_eq(t->ranges[0].first_h, IP(10, 0, 0, 0));
	cr_assert_eq(t->ranges[0].last_h, IP(10, 0, 2, 10));
	cr_assert_eq(t->ranges[1].first_h, IP(192, 168, 0, 1));
	cr_assert_eq(t->ranges[1].last_h, IP(192, 168, 0, 1));
	cr_assert_eq(t->ranges[2].first_h, IP(192, 168, 0, 3));
	cr_assert_eq(t->n_addresses, 256 + 256 + 11 + 1 + 1);
	cr_assert_eq(pps_targets_index_of(t, IP(192, 168, 0, 1)), 523);
	cr_assert_eq(pps_targets_index_of(t, IP(192, 168, 0, 2)), -1);
	cr_assert_eq(pps_targets_at(t, 524), IP(192, 168, 0, 3));
	pps_targets_free(t);
}

Test(targets, header_worked_example)
{
	struct pps_range r[2];
	struct pps_targets *t;

	cr_assert_eq(pps_parse_cidr("198.18.0.5/24", &r[0]), 0);
	cr_assert_eq(pps_parse_cidr("198.18.1.0/24", &r[1]), 0);
	t = set_of(r, 2);
	cr_assert_eq(t->n_ranges, 1);
	cr_assert_eq(t->n_addresses, 512);
	cr_assert_eq(pps_targets_at(t, 256), IP(198, 18, 1, 0));
	cr_assert_eq(pps_targets_index_of(t, IP(198, 18, 1, 0)), 256);
	pps_targets_free(t);
}

Test(targets, adjacent_at_the_edges_merge)
{
	const struct pps_range in[] = {
		{ 0xffffff00, 0xffffffff },
		{ 0xfffffe00, 0xfffffeff },
		{ 1, 1 },
		{ 0, 0 },
	};
	struct pps_targets *t = set_of(in, 4);

	cr_assert_eq(t->n_ranges, 2);
	cr_assert_eq(t->ranges[0].first_h, 0);
	cr_assert_eq(t->ranges[0].last_h, 1);
	cr_assert_eq(t->ranges[1].first_h, 0xfffffe00);
	cr_assert_eq(t->ranges[1].last_h, 0xffffffff);
	cr_assert_eq(t->n_addresses, 2 + 512);
	pps_targets_free(t);
}

Test(targets, at_index_of_round_trip)
{
	const struct pps_range in[] = {
		{ 0, 9 }, /* 0.0.0.0 edge */
		{ IP(10, 1, 0, 0), IP(10, 1, 255, 255) },
		{ IP(172, 16, 5, 5), IP(172, 16, 5, 5) },
		{ IP(198, 18, 0, 0), IP(198, 18, 3, 255) },
		{ 0xfffffffa, 0xffffffff }, /* 255.255.255.255 edge */
	};
	struct pps_targets *t = set_of(in, 5);
	uint64_t n = 10 + 65536 + 1 + 1024 + 6;
	uint32_t prev = 0;
	int bad = 0;

	cr_assert_eq(t->n_addresses, n);
	for (uint64_t i = 0; i < n; i++) {
		uint32_t ip = pps_targets_at(t, i);

		if (pps_targets_index_of(t, ip) != (int64_t)i || (i > 0 && ip <= prev))
			bad++;
		prev = ip;
	}
	cr_assert_eq(bad, 0, "%d indices do not round-trip in ascending order", bad);
	cr_assert_eq(pps_targets_at(t, 0), 0);
	cr_assert_eq(pps_targets_at(t, 9), 9);
	cr_assert_eq(pps_targets_at(t, 10), IP(10, 1, 0, 0));
	cr_assert_eq(pps_targets_at(t, 10 + 65536), IP(172, 16, 5, 5));
	cr_assert_eq(pps_targets_at(t, n - 1), 0xffffffff);
	cr_assert_eq(pps_targets_index_of(t, 0xffffffff), (int64_t)(n - 1));
	cr_assert_eq(pps_targets_index_of(t, 0xfffffffa), (int64_t)(n - 6));

	/* non-targets, including the neighbours of every range */
	static const uint32_t outside[] = {
		10,
		IP(10, 0, 255, 255),
		IP(10, 2, 0, 0),
		IP(172, 16, 5, 4),
		IP(172, 16, 5, 6),
		IP(198, 17, 255, 255),
		IP(198, 18, 4, 0),
		0xfffffff9,
		0x80000000,
	};
	for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++)
		cr_assert_eq(pps_targets_index_of(t, outside[i]), -1, "%08x", outside[i]);
	pps_targets_free(t);
}

Test(targets, empty_set)
{
	struct pps_targets *t = set_of(NULL, 0);

	cr_assert_eq(t->n_addresses, 0);
	cr_assert_eq(t->n_ranges, 0);
	cr_assert_eq(pps_targets_index_of(t, 0), -1);
	cr_assert_eq(pps_targets_index_of(t, 0xffffffff), -1);
	pps_targets_free(t);
	pps_targets_free(NULL);
}

Test(targets, add_rejects_reversed_and_after_finalize)
{
	struct pps_targets *t = pps_targets_new();

	cr_assert_eq(pps_targets_add(t, 5, 4), -EINVAL);
	cr_assert_eq(pps_targets_add(t, 4, 4), 0);
	cr_assert_eq(pps_targets_finalize(t), 0);
	cr_assert_eq(pps_targets_add(t, 7, 9), -EINVAL);
	cr_assert_eq(t->n_addresses, 1);
	pps_targets_free(t);
}

Test(subtract, splits_a_range)
{
	const struct pps_range in = { IP(10, 0, 0, 0), IP(10, 0, 0, 255) };
	const struct pps_range bl = { IP(10, 0, 0, 100), IP(10, 0, 0, 110) };
	struct pps_targets *t = set_of(&in, 1), *b = set_of(&bl, 1);

	cr_assert_eq(pps_targets_subtract(t, b), 0);
	cr_assert(t->finalized);
	cr_assert_eq(t->n_ranges, 2);
	cr_assert_eq(t->ranges[0].first_h, IP(10, 0, 0, 0));
	cr_assert_eq(t->ranges[0].last_h, IP(10, 0, 0, 99));
	cr_assert_eq(t->ranges[1].first_h, IP(10, 0, 0, 111));
	cr_assert_eq(t->ranges[1].last_h, IP(10, 0, 0, 255));
	cr_assert_eq(t->n_addresses, 256 - 11);
	cr_assert_eq(pps_targets_at(t, 100), IP(10, 0, 0, 111));
	cr_assert_eq(pps_targets_index_of(t, IP(10, 0, 0, 105)), -1);
	cr_assert_eq(pps_targets_index_of(t, IP(10, 0, 0, 111)), 100);
	pps_targets_free(t);
	pps_targets_free(b);
}

Test(subtract, removes_everything)
{
	const struct pps_range in[] = { { IP(10, 0, 0, 0), IP(10, 0, 0, 255) }, { 7, 7 } };
	const struct pps_range bl = { 0, 0xffffffff };
	struct pps_targets *t = set_of(in, 2), *b = set_of(&bl, 1);

	cr_assert_eq(pps_targets_subtract(t, b), 0);
	cr_assert_eq(t->n_addresses, 0);
	cr_assert_eq(t->n_ranges, 0);
	cr_assert_eq(pps_targets_index_of(t, 7), -1);
	pps_targets_free(t);
	pps_targets_free(b);
}

Test(subtract, edges_and_multiple_blocks)
{
	const struct pps_range all = { 0, 0xffffffff };
	const struct pps_range bl[] = {
		{ 0, 0 },
		{ 0xffffffff, 0xffffffff },
		{ IP(10, 0, 0, 0), IP(10, 255, 255, 255) },
		{ IP(127, 0, 0, 0), IP(127, 255, 255, 255) },
	};
	struct pps_targets *t = set_of(&all, 1), *b = set_of(bl, 4);

	cr_assert_eq(pps_targets_subtract(t, b), 0);
	cr_assert_eq(t->n_addresses, (1ULL << 32) - 2 - 2 * (1ULL << 24));
	cr_assert_eq(t->n_ranges, 3);
	cr_assert_eq(pps_targets_at(t, 0), 1);
	cr_assert_eq(pps_targets_at(t, t->n_addresses - 1), 0xfffffffe);
	cr_assert_eq(pps_targets_index_of(t, IP(10, 1, 2, 3)), -1);
	cr_assert_eq(pps_targets_index_of(t, IP(11, 0, 0, 0)), (int64_t)IP(10, 0, 0, 0) - 1);
	pps_targets_free(t);
	pps_targets_free(b);
}

Test(subtract, disjoint_block_and_unfinalized_set)
{
	const struct pps_range bl = { IP(192, 0, 2, 0), IP(192, 0, 2, 255) };
	struct pps_targets *t = pps_targets_new(), *b = set_of(&bl, 1);

	/* not finalized yet, with an overlap to merge */
	cr_assert_eq(pps_targets_add(t, 100, 199), 0);
	cr_assert_eq(pps_targets_add(t, 150, 300), 0);
	cr_assert_eq(pps_targets_subtract(t, b), 0);
	cr_assert_eq(t->n_ranges, 1);
	cr_assert_eq(t->n_addresses, 201);
	cr_assert_eq(pps_targets_index_of(t, 300), 200);
	pps_targets_free(t);
	pps_targets_free(b);
}

/* Random sets in a 4096-address window at @base, checked against a bitmap. */
static void subtract_vs_bitmap(uint32_t base, uint64_t seed)
{
	struct ut_rng r;

	ut_rng_seed(&r, seed);
	for (int round = 0; round < 200; round++) {
		static uint8_t want[4096];
		struct pps_targets *t = pps_targets_new(), *b = pps_targets_new();
		uint64_t count = 0, idx = 0;
		int nt = 1 + (int)ut_below(&r, 8), nb = (int)ut_below(&r, 8);

		memset(want, 0, sizeof(want));
		for (int i = 0; i < nt; i++) {
			uint32_t a = (uint32_t)ut_below(&r, 4096);
			uint32_t len = (uint32_t)ut_below(&r, 600);
			uint32_t z = a + len > 4095 ? 4095 : a + len;

			cr_assert_eq(pps_targets_add(t, base + a, base + z), 0);
			memset(want + a, 1, z - a + 1);
		}
		cr_assert_eq(pps_targets_finalize(t), 0);
		for (int i = 0; i < nb; i++) {
			uint32_t a = (uint32_t)ut_below(&r, 4096);
			uint32_t len = (uint32_t)ut_below(&r, 300);
			uint32_t z = a + len > 4095 ? 4095 : a + len;

			cr_assert_eq(pps_targets_add(b, base + a, base + z), 0);
			memset(want + a, 0, z - a + 1);
		}
		cr_assert_eq(pps_targets_finalize(b), 0);
		cr_assert_eq(pps_targets_subtract(t, b), 0);

		for (int i = 0; i < 4096; i++)
			count += want[i];
		cr_assert_eq(t->n_addresses, count, "round %d: %llu != %llu", round,
			     (unsigned long long)t->n_addresses, (unsigned long long)count);
		for (uint32_t i = 0; i < 4096; i++) {
			int64_t got = pps_targets_index_of(t, base + i);

			if (want[i]) {
				cr_assert_eq(got, (int64_t)idx, "round %d: %u", round, i);
				cr_assert_eq(pps_targets_at(t, idx), base + i);
				idx++;
			} else {
				cr_assert_eq(got, -1, "round %d: %u should be blocked", round, i);
			}
		}
		/* the result is merged: no two ranges touch */
		for (size_t i = 1; i < t->n_ranges; i++)
			cr_assert_gt((uint64_t)t->ranges[i].first_h,
				     (uint64_t)t->ranges[i - 1].last_h + 1);
		pps_targets_free(t);
		pps_targets_free(b);
	}
}

Test(subtract, random_sets_match_bitmap)
{
	subtract_vs_bitmap(IP(198, 18, 0, 0), 11);
	subtract_vs_bitmap(0, 12);
	subtract_vs_bitmap(0xfffff000, 13);
}

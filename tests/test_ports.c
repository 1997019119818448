/*
 * test_ports.c - the port list parser: ranges include their end, duplicates count once,
 * every malformed item is rejected with a reason, and probe counts are 64-bit.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "pps_config.h"
#include "pps_ports.h"
#include "unit_util.h"

static struct pps_ports *p;
static char err[128];

static void setup(void)
{
	p = malloc(sizeof(*p));
	cr_assert_not_null(p);
	err[0] = '\0';
}

static void teardown(void)
{
	free(p);
}

TestSuite(ports, .init = setup, .fini = teardown);

Test(ports, list_and_range)
{
	cr_assert_eq(pps_ports_parse(p, "22,80,8000-8100", err, sizeof(err)), 0);
	cr_assert_eq(p->n, 103);
	cr_assert_eq(p->list[0], 22);
	cr_assert_eq(p->list[1], 80);
	cr_assert_eq(p->list[2], 8000);
	cr_assert_eq(p->list[102], 8100, "a range includes its end");
	cr_assert_eq(p->index[22], 0);
	cr_assert_eq(p->index[8000], 2);
	cr_assert_eq(p->index[8100], 102);
	cr_assert(pps_ports_contains(p, 8050));
	cr_assert(!pps_ports_contains(p, 81));
	cr_assert(!pps_ports_contains(p, 8101));
	cr_assert(!pps_ports_contains(p, 0));
	cr_assert_eq(p->index[7999], PPS_PORT_NONE);
}

Test(ports, sorted_and_duplicates_once)
{
	cr_assert_eq(pps_ports_parse(p, "80,80,79-81", err, sizeof(err)), 0);
	cr_assert_eq(p->n, 3);
	cr_assert_eq(p->list[0], 79);
	cr_assert_eq(p->list[1], 80);
	cr_assert_eq(p->list[2], 81);

	cr_assert_eq(pps_ports_parse(p, "443,22,100-105,103-110,22", err, sizeof(err)), 0);
	cr_assert_eq(p->n, 2 + 11);
	cr_assert_eq(p->list[0], 22);
	cr_assert_eq(p->list[1], 100);
	cr_assert_eq(p->list[11], 110);
	cr_assert_eq(p->list[12], 443);
	for (uint32_t i = 0; i < p->n; i++)
		cr_assert_eq(p->index[p->list[i]], i);
}

Test(ports, full_range_and_single_ports)
{
	cr_assert_eq(pps_ports_parse(p, "1-65535", err, sizeof(err)), 0);
	cr_assert_eq(p->n, 65535);
	cr_assert_eq(p->list[0], 1);
	cr_assert_eq(p->list[65534], 65535);
	cr_assert_eq(p->index[65535], 65534);
	cr_assert(!pps_ports_contains(p, 0));

	/* reparsing reuses the struct: nothing of the previous set remains */
	cr_assert_eq(pps_ports_parse(p, "65535", err, sizeof(err)), 0);
	cr_assert_eq(p->n, 1);
	cr_assert_eq(p->list[0], 65535);
	cr_assert(!pps_ports_contains(p, 1));

	cr_assert_eq(pps_ports_parse(p, "1", err, sizeof(err)), 0);
	cr_assert_eq(p->n, 1);
	cr_assert_eq(pps_ports_parse(p, "5-5", err, sizeof(err)), 0);
	cr_assert_eq(p->n, 1);
	cr_assert_eq(p->list[0], 5);
}

Test(ports, rejects_bad_items)
{
	static const struct {
		const char *spec;
		const char *why; /* a substring of the reason */
	} bad[] = {
		{ "0", "0" },
		{ "65536", "65536" },
		{ "-5", "-5" },
		{ "10-5", "10-5" },
		{ "", "empty" },
		{ "80,", "trailing" },
		{ ",80", "" },
		{ "8a", "8a" },
		{ "1-65536", "65536" },
		{ "80,,81", "" },
		{ "80-", "80-" },
		{ "-", "-" },
		{ "1-2-3", "1-2-3" },
		{ " 80", "80" },
		{ "80 ", "80" },
		{ "0-10", "0" },
		{ "99999999999", "9999" },
		{ "22,foo,80", "foo" },
		{ "+80", "+80" },
		{ "0x50", "0x50" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(pps_ports_parse(p, bad[i].spec, err, sizeof(err)), -EINVAL,
			     "'%s' accepted", bad[i].spec);
		cr_assert_eq(p->n, 0, "'%s': set not left empty", bad[i].spec);
		cr_assert_neq(err[0], '\0', "'%s': no reason", bad[i].spec);
		cr_assert_not_null(strstr(err, bad[i].why), "'%s': reason '%s' lacks '%s'",
				   bad[i].spec, err, bad[i].why);
	}
	cr_assert_eq(pps_ports_parse(p, NULL, err, sizeof(err)), -EINVAL);
}

Test(ports, failure_leaves_set_empty)
{
	cr_assert_eq(pps_ports_parse(p, "80,443", err, sizeof(err)), 0);
	cr_assert_eq(pps_ports_parse(p, "22,80,x", err, sizeof(err)), -EINVAL);
	cr_assert_eq(p->n, 0);
	cr_assert(!pps_ports_contains(p, 22));
	cr_assert(!pps_ports_contains(p, 80));
	cr_assert(!pps_ports_contains(p, 443));
}

/* The whole space needs an empty blocklist: the default one removes reserved ranges. */
Test(ports, probe_count_is_64_bit)
{
	struct pps_config cfg;
	char *errtext;

	cr_assert_eq(ut_parse_args(&cfg, PPS_BACKEND_DPDK,
				   ARGV(DRY_NOBL, "-p", "1-65535", "0.0.0.0/0"), &errtext),
		     PPS_PARSE_OK, "%s", errtext);
	cr_assert_str_empty(errtext);
	cr_assert_eq(cfg.targets->n_addresses, 1ULL << 32);
	cr_assert_eq(cfg.ports->n, 65535);
	cr_assert_eq(cfg.target_space, 281470681743360ULL);
	pps_config_free(&cfg);
	free(errtext);
}

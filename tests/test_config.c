/*
 * test_config.c - option parsing: every bad value gives PPS_PARSE_ERROR and exactly one
 * line on the error stream naming the value and the option; good input lands in the right
 * fields; defaults; backend-specific requirements.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>

#include "pps_config.h"
#include "probe/pps_probe.h"
#include "unit_util.h"

struct bad_case {
	char *argv[12];	       /* NULL-terminated, argv[0] included */
	const char *needle[3]; /* substrings the error line must contain */
};

#define D "--dryrun"
#define T "1.2.3.4" /* not in the default blocklist */

static const struct bad_case bad[] = {
	/* targets */
	{ { "ppscan", D, "-p", "80", "1.2.3.256" }, { "'1.2.3.256'", "target" } },
	{ { "ppscan", D, "-p", "80", "1.2.3.4/33" }, { "'1.2.3.4/33'", "target" } },
	{ { "ppscan", D, "-p", "80", "foo" }, { "'foo'", "target" } },
	{ { "ppscan", D, "-p", "80", T, "10.0.0.0/8x" }, { "'10.0.0.0/8x'", "target" } },
	{ { "ppscan", D, "-p", "80" }, { "no targets" } },
	{ { "ppscan", D, "-p", "80", "198.18.0.1" }, { "blocklist", "--blocklist-file" } },
	{ { "ppscan", D, "-b", "/nonexistent/bl.conf", "-p", "80", T },
	  { "/nonexistent/bl.conf", "--blocklist-file" } },
	/* ports */
	{ { "ppscan", D, "-p", "0", T }, { "'0'", "--target-ports" } },
	{ { "ppscan", D, "-p", "65536", T }, { "'65536'", "--target-ports" } },
	{ { "ppscan", D, "-p", "10-5", T }, { "'10-5'", "--target-ports" } },
	{ { "ppscan", D, "--target-ports", "", T }, { "''", "--target-ports" } },
	{ { "ppscan", D, "--top-ports", "0", T }, { "'0'", "--top-ports" } },
	{ { "ppscan", D, "--top-ports", "1001", T }, { "'1001'", "--top-ports" } },
	/* rates */
	{ { "ppscan", D, "-r", "-1", "-p", "80", T }, { "'-1'", "--rate" } },
	{ { "ppscan", D, "-r", "abc", "-p", "80", T }, { "'abc'", "--rate" } },
	{ { "ppscan", D, "--rate", "1e20", "-p", "80", T }, { "'1e20'", "--rate" } },
	{ { "ppscan", D, "-r", "nan", "-p", "80", T }, { "'nan'", "--rate" } },
	{ { "ppscan", D, "-r", "inf", "-p", "80", T }, { "'inf'", "--rate" } },
	{ { "ppscan", D, "-r", "10k", "-p", "80", T }, { "'10k'", "--rate" } },
	{ { "ppscan", D, "-r", "", "-p", "80", T }, { "''", "--rate" } },
	/* MACs */
	{ { "ppscan", D, "-G", "zz", "-p", "80", T }, { "'zz'", "--gateway-mac" } },
	{ { "ppscan", D, "-G", "aa:bb:cc:dd:ee", "-p", "80", T },
	  { "'aa:bb:cc:dd:ee'", "--gateway-mac" } },
	{ { "ppscan", D, "-G", "aa:bb:cc:dd:ee:ff:00", "-p", "80", T },
	  { "'aa:bb:cc:dd:ee:ff:00'", "--gateway-mac" } },
	{ { "ppscan", D, "--gateway-mac", "aa:bb:cc:dd:ee:fg", "-p", "80", T },
	  { "'aa:bb:cc:dd:ee:fg'", "--gateway-mac" } },
	{ { "ppscan", D, "--source-mac", "aa-bb:cc:dd:ee:ff", "-p", "80", T },
	  { "'aa-bb:cc:dd:ee:ff'", "--source-mac" } },
	/* several machines, metrics */
	{ { "ppscan", D, "--metrics", "9100", "-p", "80", T },
	  { "'9100'", "--metrics", "ADDRESS:PORT" } },
	{ { "ppscan", D, "--metrics", "127.0.0.1:0", "-p", "80", T },
	  { "'127.0.0.1:0'", "1-65535" } },
	{ { "ppscan", D, "--metrics", "host:80", "-p", "80", T }, { "'host'", "IPv4" } },
	{ { "ppscan", "--plan", "--shards", "4", "-e", "1", "-p", "80", T },
	  { "--plan needs --redis" } },
	{ { "ppscan", "--join", "-p", "80", T }, { "--join needs --redis" } },
	{ { "ppscan", D, "--follow", "-p", "80", T }, { "--follow goes with --status" } },
	{ { "ppscan", D, "--worker", "w1", "-p", "80", T }, { "--worker", "--join" } },
	{ { "ppscan", D, "--lease", "1", "-p", "80", T }, { "'1'", "--lease", "2-86400" } },
	{ { "ppscan", "--plan", "--status", "-p", "80", T },
	  { "one of --plan, --join and --status" } },
	/* addresses */
	{ { "ppscan", D, "-S", "1.2.3", "-p", "80", T }, { "'1.2.3'", "--source-ip" } },
	{ { "ppscan", D, "--gateway-ip", "300.1.1.1", "-p", "80", T },
	  { "'300.1.1.1'", "--gateway-ip" } },
	/* TTL */
	{ { "ppscan", D, "--probe-ttl", "0", "-p", "80", T }, { "'0'", "--probe-ttl" } },
	{ { "ppscan", D, "--probe-ttl", "256", "-p", "80", T }, { "'256'", "--probe-ttl" } },
	{ { "ppscan", D, "--probe-ttl", "-1", "-p", "80", T }, { "'-1'", "--probe-ttl" } },
	/* source ports */
	{ { "ppscan", D, "-s", "0-10", "-p", "80", T }, { "'0-10'", "--source-port" } },
	{ { "ppscan", D, "-s", "100-50", "-p", "80", T }, { "'100-50'", "--source-port" } },
	{ { "ppscan", D, "-s", "1-65536", "-p", "80", T }, { "'1-65536'", "--source-port" } },
	{ { "ppscan", D, "-s", "40000-", "-p", "80", T }, { "'40000-'", "--source-port" } },
	/* seed */
	{ { "ppscan", D, "--seed", "-1", "-p", "80", T }, { "'-1'", "--seed" } },
	{ { "ppscan", D, "--seed", "x", "-p", "80", T }, { "'x'", "--seed" } },
	{ { "ppscan", D, "--seed", "18446744073709551616", "-p", "80", T },
	  { "'18446744073709551616'", "--seed" } },
	/* cooldown */
	{ { "ppscan", D, "-c", "-3", "-p", "80", T }, { "'-3'", "--cooldown" } },
	{ { "ppscan", D, "--cooldown-time", "x", "-p", "80", T }, { "'x'", "--cooldown" } },
	/* options */
	{ { "ppscan", D, "--bogus", "-p", "80", T }, { "'--bogus'" } },
	{ { "ppscan", D, "-x", "-p", "80", T }, { "'-x'" } },
	/* a value for a flag, an abbreviation, an ambiguous prefix: each named as typed */
	{ { "ppscan", D, "--no-rst=1", "-p", "80", T },
	  { "'--no-rst'", "takes no value", "'--no-rst=1'" } },
	{ { "ppscan", D, "--quiet=yes", "-p", "80", T }, { "'--quiet'", "'--quiet=yes'" } },
	{ { "ppscan", D, "--no-r", "-p", "80", T }, { "'--no-r'", "written in full", "--no-rst" } },
	{ { "ppscan", D, "--no", "-p", "80", T }, { "ambiguous", "--no-rst", "--no-config" } },
	{ { "ppscan", D, "--ra", "5", "-p", "80", T }, { "'--ra'", "--rate" } },
	{ { "ppscan", D, "--output", "x", "-p", "80", T },
	  { "ambiguous", "'--output'", "--output-file" } },
	{ { "ppscan", D, T, "-p" }, { "'-p'", "value" } },
	{ { "ppscan", D, "-p", "80", T, "--rate" }, { "'--rate'", "value" } },
	{ { "ppscan", D, "--tcp-options", "solaris", "-p", "80", T },
	  { "'solaris'", "--tcp-options" } },
	/* probes, shards, threads, limits */
	{ { "ppscan", D, "-P", "0", "-p", "80", T }, { "'0'", "--probes" } },
	{ { "ppscan", D, "-T", "0", "-p", "80", T }, { "'0'", "--sender-threads" } },
	{ { "ppscan", D, "--shards", "0", "-p", "80", T }, { "'0'", "--shards" } },
	{ { "ppscan", D, "--seed", "1", "--shards", "2", "--shard", "2", "-p", "80", T },
	  { "'2'", "--shard" } },
	{ { "ppscan", D, "-n", "0", "-p", "80", T }, { "'0'", "--max-targets" } },
	{ { "ppscan", D, "-B", "fast", "-p", "80", T }, { "'fast'", "--bandwidth" } },
	/* output */
	{ { "ppscan", D, "-O", "xml", "-p", "80", T }, { "'xml'", "--output-module" } },
	{ { "ppscan", D, "-f", "saddr,bogus", "-p", "80", T },
	  { "'saddr,bogus'", "--output-fields", "bogus" } },
	{ { "ppscan", D, "-f", "saddr,saddr", "-p", "80", T }, { "--output-fields", "twice" } },
	{ { "ppscan", D, "-f", "", "-p", "80", T }, { "--output-fields" } },
	{ { "ppscan", D, "-o", "", "-p", "80", T }, { "--output-file" } },
	/* DPDK-only requirements without --dryrun */
	{ { "ppscan", "-G", "aa:bb:cc:dd:ee:ff", "-p", "80", T }, { "-S/--source-ip" } },
	{ { "ppscan", "-S", "192.0.2.1", "-p", "80", T }, { "--gateway-mac", "--gateway-ip" } },
	/* probe modules */
	{ { "ppscan", D, "-M", "udpx", "-p", "80", T }, { "'udpx'", "--probe-module" } },
	{ { "ppscan", D, "--probe-args", "x", "-p", "80", T }, { "'x'", "--probe-args" } },
	{ { "ppscan", D, "--redis-prefix", "a b", "-p", "80", T }, { "'a b'", "--redis-prefix" } },
	/* dedup budget */
	{ { "ppscan", D, "--dedup-memory", "64", "-p", "80", T }, { "'64'", "--dedup-memory" } },
	{ { "ppscan", D, "--dedup-memory", "2T", "-p", "80", T }, { "'2T'", "--dedup-memory" } },
	{ { "ppscan", D, "--dedup-memory", "1 G", "-p", "80", T }, { "'1 G'", "--dedup-memory" } },
	{ { "ppscan", D, "--dedup-memory", "G", "-p", "80", T }, { "'G'", "--dedup-memory" } },
	/* pcap-only option on the DPDK backend */
	{ { "ppscan", D, "-i", "eth0", "-p", "80", T }, { "'-i'" } },
};

static void expect_error(enum pps_backend backend, char **argv, const char *const *needle,
			 const char *prog)
{
	struct pps_config cfg;
	char *errtext;
	int rc = ut_parse_args(&cfg, backend, argv, &errtext);

	cr_assert_eq(rc, PPS_PARSE_ERROR, "accepted: %s ...", argv[1]);
	cr_assert_eq(ut_count_lines(errtext), 1, "want one line, got: %s", errtext);
	cr_assert_eq(errtext[strlen(errtext) - 1], '\n', "line not terminated: %s", errtext);
	cr_assert_eq(strncmp(errtext, prog, strlen(prog)), 0, "no program prefix: %s", errtext);
	cr_assert_eq(errtext[strlen(prog)], ':', "no program prefix: %s", errtext);
	for (int k = 0; k < 3 && needle[k]; k++)
		cr_assert_not_null(strstr(errtext, needle[k]), "'%s' not in: %s", needle[k],
				   errtext);
	cr_assert_null(cfg.targets, "targets not freed on error");
	cr_assert_null(cfg.ports, "ports not freed on error");
	free(errtext);
}

Test(config, bad_values_one_line_each)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[12];

		memcpy(argv, bad[i].argv, sizeof(argv)); /* getopt may permute the array */
		expect_error(PPS_BACKEND_DPDK, argv, bad[i].needle, "ppscan");
	}
}

Test(config, pcap_backend_requirements)
{
	static const char *const need_iface[] = { "--interface", NULL };
	static const char *const bad_iface[] = { "--interface", NULL };
	struct pps_config cfg;
	char *errtext;

	expect_error(PPS_BACKEND_PCAP, ARGV("-p", "80", T), need_iface, "ppscan-pcap");
	expect_error(PPS_BACKEND_PCAP, ARGV("-i", "", "-p", "80", T), bad_iface, "ppscan-pcap");
	/* pcap needs neither -S nor a gateway option at parse time */
	cr_assert_eq(ut_parse_args(&cfg, PPS_BACKEND_PCAP, ARGV("-i", "veth0", "-p", "80", T),
				   &errtext),
		     PPS_PARSE_OK, "%s", errtext);
	cr_assert_str_eq(cfg.iface, "veth0");
	cr_assert_str_eq(cfg.prog, "ppscan-pcap");
	cr_assert_eq(cfg.backend, PPS_BACKEND_PCAP);
	pps_config_free(&cfg);
	free(errtext);
}

Test(config, defaults)
{
	struct pps_config cfg;
	char *errtext;

	cr_assert_eq(ut_parse_args(&cfg, PPS_BACKEND_DPDK, ARGV(D, "-p", "80", T), &errtext),
		     PPS_PARSE_OK, "%s", errtext);
	cr_assert_str_empty(errtext);
	cr_assert_eq(cfg.backend, PPS_BACKEND_DPDK);
	cr_assert_str_eq(cfg.prog, "ppscan");
	cr_assert_eq(cfg.rate_pps, 10000);
	cr_assert_eq(cfg.sport_first_h, 32768);
	cr_assert_eq(cfg.sport_last_h, 61000);
	cr_assert_eq(cfg.ttl, 64);
	cr_assert_eq(cfg.cooldown_s, 8);
	cr_assert_eq(cfg.tcpopt, PPS_TCPOPT_WINDOWS);
	cr_assert_eq(cfg.output_format, PPS_OUT_CSV);
	cr_assert_str_eq(cfg.output_fields, "saddr,sport,classification");
	cr_assert_null(cfg.output_file);
	cr_assert_eq(cfg.output_closed, 0);
	cr_assert_eq(cfg.quiet, 0);
	cr_assert_eq(cfg.dryrun, 1);
	cr_assert_eq(cfg.seed_given, 0);
	cr_assert_eq(cfg.have_src_ip, 0);
	cr_assert_eq(cfg.have_gw_mac, 0);
	cr_assert_eq(cfg.have_gw_ip, 0);
	cr_assert_eq(cfg.have_src_mac, 0);
	cr_assert_eq(cfg.target_space, 1);
	cr_assert_eq(cfg.targets->n_addresses, 1);
	cr_assert_eq(pps_targets_at(cfg.targets, 0), 0x01020304);
	cr_assert_eq(cfg.ports->n, 1);
	cr_assert_eq(cfg.ports->list[0], 80);
	cr_assert_gt(cfg.rx_ring, 0);
	pps_config_free(&cfg);
	free(errtext);
}

Test(config, good_values_land_in_fields)
{
	struct pps_config cfg;
	char *errtext;
	static const uint8_t gw[6] = { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	static const uint8_t sm[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a };

	/* not a dry run: -S and -G satisfy the DPDK requirements */
	cr_assert_eq(ut_parse_args(&cfg, PPS_BACKEND_DPDK,
				   ARGV("-r", "0.5", "-s", "40000-40010", "-G", "aa:bb:cc:dd:ee:ff",
					"--seed", "123", "-S", "192.0.2.1", "--source-mac",
					"02-00-00-00-00-0A", "--probe-ttl", "255", "--tcp-options",
					"bsd", "-c", "2.5", "-o", "/tmp/out.csv", "-O", "json",
					"-f", "saddr,daddr,timestamp_str", "--output-closed", "-q",
					"--target-ports", "443,22", "45.33.32.0/24",
					"45.33.32.128/25", "1.2.3.4"),
				   &errtext),
		     PPS_PARSE_OK, "%s", errtext);
	cr_assert_str_empty(errtext);
	cr_assert_eq(cfg.rate_pps, 0.5);
	cr_assert_eq(cfg.sport_first_h, 40000);
	cr_assert_eq(cfg.sport_last_h, 40010);
	cr_assert(cfg.have_gw_mac);
	cr_assert_eq(memcmp(cfg.gw_mac, gw, 6), 0);
	cr_assert(cfg.have_src_mac);
	cr_assert_eq(memcmp(cfg.src_mac, sm, 6), 0);
	cr_assert_eq(cfg.seed, 123);
	cr_assert(cfg.seed_given);
	cr_assert(cfg.have_src_ip);
	cr_assert_eq(cfg.src_ip_h, 0xc0000201);
	cr_assert_eq(cfg.ttl, 255);
	cr_assert_eq(cfg.tcpopt, PPS_TCPOPT_BSD);
	cr_assert_eq(cfg.cooldown_s, 2.5);
	cr_assert_str_eq(cfg.output_file, "/tmp/out.csv");
	cr_assert_eq(cfg.output_format, PPS_OUT_JSON);
	cr_assert_str_eq(cfg.output_fields, "saddr,daddr,timestamp_str");
	cr_assert(cfg.output_closed);
	cr_assert(cfg.quiet);
	cr_assert_eq(cfg.dryrun, 0);
	cr_assert_eq(cfg.targets->n_addresses, 257, "overlapping targets merged");
	cr_assert_eq(cfg.ports->n, 2);
	cr_assert_eq(cfg.target_space, 514);
	pps_config_free(&cfg);
	free(errtext);
}

Test(config, more_good_values)
{
	static const struct {
		char *argv[10];
	} good[] = {
		{ { "ppscan", D, "-r", "0", "-p", "80", T } }, /* unlimited */
		{ { "ppscan", D, "-r", "1e10", "-p", "80", T } },
		{ { "ppscan", D, "--probe-ttl", "1", "-p", "80", T } },
		{ { "ppscan", D, "-s", "40000", "-p", "80", T } }, /* one port */
		{ { "ppscan", D, "-s", "1-65535", "-p", "80", T } },
		{ { "ppscan", D, "--seed", "18446744073709551615", "-p", "80", T } },
		{ { "ppscan", D, "--seed", "0", "-p", "80", T } },
		{ { "ppscan", D, "-c", "0", "-p", "80", T } },
		{ { "ppscan", "-S", "192.0.2.1", "--gateway-ip", "192.0.2.254", "-p", "80", T } },
		{ { "ppscan", D, "--tcp-options", "linux", "-p", "80", T } },
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct pps_config cfg;
		char *argv[10], *errtext;

		memcpy(argv, good[i].argv, sizeof(argv));
		cr_assert_eq(ut_parse_args(&cfg, PPS_BACKEND_DPDK, argv, &errtext), PPS_PARSE_OK,
			     "case %zu: %s", i, errtext);
		cr_assert_str_empty(errtext);
		switch (i) {
		case 0: cr_assert_eq(cfg.rate_pps, 0); break;
		case 1: cr_assert_eq(cfg.rate_pps, 1e10); break;
		case 2: cr_assert_eq(cfg.ttl, 1); break;
		case 3:
			cr_assert_eq(cfg.sport_first_h, 40000);
			cr_assert_eq(cfg.sport_last_h, 40000);
			break;
		case 4:
			cr_assert_eq(cfg.sport_first_h, 1);
			cr_assert_eq(cfg.sport_last_h, 65535);
			break;
		case 5: cr_assert_eq(cfg.seed, UINT64_MAX); break;
		case 6:
			cr_assert_eq(cfg.seed, 0);
			cr_assert(cfg.seed_given, "seed 0 is a given seed");
			break;
		case 7: cr_assert_eq(cfg.cooldown_s, 0); break;
		case 8:
			cr_assert(cfg.have_gw_ip);
			cr_assert_eq(cfg.gw_ip_h, 0xc00002fe);
			break;
		case 9: cr_assert_eq(cfg.tcpopt, PPS_TCPOPT_LINUX); break;
		}
		pps_config_free(&cfg);
		free(errtext);
	}
}

Test(config, dedup_memory_sizes)
{
	static const struct {
		const char *v;
		uint64_t bytes;
	} c[] = { { NULL, 1ULL << 30 },	    { "65536", 65536 },	  { "64K", 65536 },
		  { "512m", 512ULL << 20 }, { "3G", 3ULL << 30 }, { "1T", 1ULL << 40 },
		  { "1048576", 1ULL << 20 } };

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char *with[] = {
			"ppscan", D, "--dedup-memory", (char *)c[i].v, "-p", "80", T, NULL
		};
		char *without[] = { "ppscan", D, "-p", "80", T, NULL };
		struct pps_config cfg;
		char *errtext;

		cr_assert_eq(ut_parse_args(&cfg, PPS_BACKEND_DPDK, c[i].v ? with : without,
					   &errtext),
			     PPS_PARSE_OK, "%s: %s", c[i].v, errtext);
		cr_assert_eq(cfg.dedup_memory, c[i].bytes, "%s", c[i].v);
		free(errtext);
		pps_config_free(&cfg);
	}
}

Test(config, repeated_parses_are_independent)
{
	struct pps_config cfg;
	char *errtext;

	/* getopt state is reset on every call */
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(ut_parse_args(&cfg, PPS_BACKEND_DPDK,
					   ARGV(D, "--seed", "7", "-p", "22", T), &errtext),
			     PPS_PARSE_OK, "round %d: %s", i, errtext);
		cr_assert_eq(cfg.seed, 7);
		pps_config_free(&cfg);
		free(errtext);
		cr_assert_eq(ut_parse_args(&cfg, PPS_BACKEND_DPDK, ARGV(D, "-p", "0", T), &errtext),
			     PPS_PARSE_ERROR);
		free(errtext);
	}
}

Test(config, options_after_targets)
{
	struct pps_config cfg;
	char *errtext;

	cr_assert_eq(ut_parse_args(&cfg, PPS_BACKEND_DPDK,
				   ARGV(T, D, "-p", "80,443", "45.33.32.0/30"), &errtext),
		     PPS_PARSE_OK, "%s", errtext);
	cr_assert_eq(cfg.target_space, 5 * 2);
	pps_config_free(&cfg);
	free(errtext);
}

Test(config, default_ports_are_top_ports)
{
	struct pps_config cfg;
	char *errtext;

	cr_assert_eq(ut_parse_args(&cfg, PPS_BACKEND_DPDK, ARGV(D, T), &errtext), PPS_PARSE_OK,
		     "%s", errtext);
	cr_assert_eq(cfg.ports->n, 1000);
	cr_assert(pps_ports_contains(cfg.ports, 22));
	cr_assert(pps_ports_contains(cfg.ports, 80));
	cr_assert(pps_ports_contains(cfg.ports, 443));
	cr_assert_eq(cfg.target_space, 1000);
	pps_config_free(&cfg);
	free(errtext);

	cr_assert_eq(ut_parse_args(&cfg, PPS_BACKEND_DPDK, ARGV(D, "--top-ports", "10", T),
				   &errtext),
		     PPS_PARSE_OK, "%s", errtext);
	cr_assert_eq(cfg.ports->n, 10);
	cr_assert(pps_ports_contains(cfg.ports, 80));
	pps_config_free(&cfg);
	free(errtext);
}

Test(config, default_blocklist)
{
	struct pps_config cfg;
	char *errtext;

	/* reserved ranges are removed from the targets unless -b names another list */
	cr_assert_eq(ut_parse_args(&cfg, PPS_BACKEND_DPDK, ARGV(D, "-p", "80", "198.18.0.0/23", T),
				   &errtext),
		     PPS_PARSE_OK, "%s", errtext);
	cr_assert_eq(cfg.targets->n_addresses, 1);
	cr_assert_eq(cfg.blocked, 512);
	pps_config_free(&cfg);
	free(errtext);

	cr_assert_eq(ut_parse_args(&cfg, PPS_BACKEND_DPDK,
				   ARGV(D, "-b", "/dev/null", "-p", "80", "198.18.0.0/23", T),
				   &errtext),
		     PPS_PARSE_OK, "%s", errtext);
	cr_assert_eq(cfg.targets->n_addresses, 513);
	cr_assert_eq(cfg.blocked, 0);
	pps_config_free(&cfg);
	free(errtext);

	cr_assert_eq(ut_parse_args(&cfg, PPS_BACKEND_DPDK, ARGV(D, "-p", "80", "0.0.0.0/0"),
				   &errtext),
		     PPS_PARSE_OK, "%s", errtext);
	cr_assert_eq(cfg.targets->n_addresses + cfg.blocked, 1ULL << 32);
	cr_assert_gt(cfg.blocked, 0);
	cr_assert_eq(pps_targets_index_of(cfg.targets, 0x0a000001), -1, "10.0.0.1 scanned");
	cr_assert_eq(pps_targets_index_of(cfg.targets, 0x7f000001), -1, "127.0.0.1 scanned");
	cr_assert_eq(pps_targets_index_of(cfg.targets, 0xffffffff), -1, "broadcast scanned");
	cr_assert_geq(pps_targets_index_of(cfg.targets, 0x08080808), 0, "8.8.8.8 blocked");
	cr_assert_eq(cfg.target_space, cfg.targets->n_addresses);
	pps_config_free(&cfg);
	free(errtext);
}

Test(config, random_seed_when_not_given)
{
	struct pps_config a, b;
	char *errtext;

	cr_assert_eq(ut_parse_args(&a, PPS_BACKEND_DPDK, ARGV(D, "-p", "80", T), &errtext),
		     PPS_PARSE_OK);
	free(errtext);
	cr_assert_eq(ut_parse_args(&b, PPS_BACKEND_DPDK, ARGV(D, "-p", "80", T), &errtext),
		     PPS_PARSE_OK);
	free(errtext);
	cr_assert_eq(a.seed_given, 0);
	cr_assert_neq(a.seed, b.seed, "two drawn seeds collide");
	pps_config_free(&a);
	pps_config_free(&b);
}

Test(config, version_exits, .init = cr_redirect_stdout)
{
	struct pps_config cfg;
	char *errtext;

	cr_assert_eq(ut_parse_args(&cfg, PPS_BACKEND_DPDK, ARGV("--version"), &errtext),
		     PPS_PARSE_EXIT);
	cr_assert_str_empty(errtext);
	free(errtext);
	fflush(stdout);
	cr_assert_stdout_eq_str("ppscan " PPS_VERSION "\n");
}

Test(config, usage_lists_backend_options)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	pps_config_usage(PPS_BACKEND_DPDK, "ppscan", f);
	fclose(f);
	cr_assert_not_null(strstr(text, "usage: ppscan"));
	cr_assert_not_null(strstr(text, "--target-ports"));
	cr_assert_not_null(strstr(text, "--gateway-mac"));
	cr_assert_null(strstr(text, "--interface"), "pcap-only option in DPDK usage");
	free(text);

	text = NULL;
	f = open_memstream(&text, &len);
	pps_config_usage(PPS_BACKEND_PCAP, "ppscan-pcap", f);
	fclose(f);
	cr_assert_not_null(strstr(text, "usage: ppscan-pcap -i IFACE"));
	cr_assert_not_null(strstr(text, "--interface"));
	free(text);
}

Test(config, probe_module_chosen_and_listed, .init = cr_redirect_stdout)
{
	struct pps_config cfg;
	char *errtext;

	cr_assert_eq(ut_parse_args(&cfg, PPS_BACKEND_DPDK,
				   ARGV(D, "-M", "tcp_synscan", "-f", "*", "-p", "80", T),
				   &errtext),
		     PPS_PARSE_OK, "%s", errtext);
	free(errtext);
	cr_assert_eq(cfg.probe, pps_probe_find("tcp_synscan"));
	cr_assert_eq(cfg.probe, pps_probe_default());
	cr_assert_str_eq(cfg.output_fields, "*");
	pps_config_free(&cfg);
	cr_assert_eq(ut_parse_args(&cfg, PPS_BACKEND_DPDK, ARGV("--list-probe-modules"), &errtext),
		     PPS_PARSE_EXIT);
	cr_assert_str_empty(errtext);
	free(errtext);
	fflush(stdout);
	cr_assert_stdout_eq_str(
		"tcp_synscan (default)\n    "
		"TCP SYN with the SYN cookie as its sequence number (--tcp-options: "
		"its options); SYN-ACK with ack = cookie + 1 is synack (open, answered "
		"with a RST unless --no-rst), RST with ack = cookie or cookie + 1 is rst "
		"(closed)\n"
		"udp\n    "
		"UDP datagram with the port's payload (data/udp-payloads.conf; --probe-args "
		"payloads:PATH, text:STR, hex:HEX or file:PATH), its source port, IP ID and "
		"echoed fields (DNS ID, SNMP request-id, STUN transaction ID, NTP origin, ...) "
		"from the cookie; a valid reply is udp (open, first bytes kept), ICMP port "
		"unreachable quoting the probe port-unreach (closed), another ICMP unreachable "
		"unreach (filtered); silence is open|filtered\n");
}

/* The pcap backend's filter: the module's terms, our addresses as ranges, ARP for them. */
Test(config, bpf_filter_of_the_probe_module)
{
	struct pps_config cfg;
	char *errtext, buf[4096];

	cr_assert_eq(ut_parse_args(&cfg, PPS_BACKEND_PCAP,
				   ARGV(D, "-S", "192.0.2.1,192.0.2.8-192.0.2.9", "-s",
					"40000-40100", "-p", "80", T),
				   &errtext),
		     PPS_PARSE_OK, "%s", errtext);
	free(errtext);
	cr_assert_gt(pps_probe_bpf(&cfg, 0, 0, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "(tcp and dst portrange 40000-40100 and "
			      "(tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack) or "
			      "tcp[tcpflags] & tcp-rst != 0) and (ip[16:4] == 0xc0000201 or "
			      "(ip[16:4] >= 0xc0000208 and ip[16:4] <= 0xc0000209)))");
	cr_assert_gt(pps_probe_bpf(&cfg, 1, 0, buf, sizeof(buf)), 0);
	cr_assert_not_null(strstr(buf,
				  ") or (arp and arp[6:2] == 1 and (arp[24:4] == 0xc0000201 or "
				  "(arp[24:4] >= 0xc0000208 and arp[24:4] <= 0xc0000209)))"),
			   "%s", buf);
	cr_assert_eq(pps_probe_bpf(&cfg, 1, 0, buf, 40), -ENOSPC);
	pps_config_free(&cfg);
}

/*
 * Scan control without root or a device: coverage exactly once under shards x
 * sender threads x probes, block/allowlist semantics and file parsing, huge target spaces,
 * top ports, bandwidth, limits, source address lists, source-port wrap, resume union,
 * config file round trip, and one clear error (exit code 2) for bad values of every option.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pps_cidrfile.h"
#include "pps_data.h"
#include "pps_monitor.h"
#include "pps_scan.h"
#include "probe/probe_tcp_synscan.h"
#include "pps_shard.h"
#include "unit_util.h"

static const uint8_t zmac[6];

static char tmpdir[] = "/tmp/ppscan-ut-XXXXXX";

static void mk_tmp(void)
{
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void rm_tmp(void)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

static const char *write_file(const char *name, const char *text, size_t len)
{
	static char path[8][256];
	static int k;
	char *p = path[k++ & 7];
	FILE *f;

	snprintf(p, 256, "%s/%s", tmpdir, name);
	f = fopen(p, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(text, 1, len, f), len);
	fclose(f);
	return p;
}

static void parse_ok(struct pps_config *cfg, char **argv)
{
	char *err;
	int rc = ut_parse_args(cfg, PPS_BACKEND_DPDK, argv, &err);

	cr_assert_eq(rc, PPS_PARSE_OK, "parse failed: %s", err ? err : "");
	free(err);
}

static void parse_bad(char **argv, const char *needle)
{
	struct pps_config cfg;
	char *err;
	int rc = ut_parse_args(&cfg, PPS_BACKEND_DPDK, argv, &err);

	cr_expect_eq(rc, PPS_PARSE_ERROR, "expected an error naming '%s'", needle);
	cr_expect_eq(ut_count_lines(err), 1, "expected one error line, got: %s", err);
	cr_expect(err && strstr(err, needle), "error '%s' does not name '%s'", err, needle);
	free(err);
}

/* Counts, for every (address, port) of a /26 x 3 ports, how often the senders probe it. */
Test(scan_control, coverage_exactly_once_under_shards_threads_probes)
{
	static const unsigned shard_counts[] = { 1, 2, 3, 5 };
	static const unsigned thread_counts[] = { 1, 2, 3 };
	static const unsigned probe_counts[] = { 1, 2, 3 };

	for (size_t a = 0; a < 4; a++)
		for (size_t b = 0; b < 3; b++)
			for (size_t c = 0; c < 3; c++) {
				unsigned N = shard_counts[a], T = thread_counts[b],
					 P = probe_counts[c];
				static uint8_t hits[64][3];
				uint64_t total = 0;

				memset(hits, 0, sizeof(hits));
				for (unsigned s = 0; s < N; s++) {
					char ns[12], ss[12], ts[12], ps[12];
					struct pps_config cfg;
					struct pps_scan sc;

					snprintf(ns, sizeof(ns), "%u", N);
					snprintf(ss, sizeof(ss), "%u", s);
					snprintf(ts, sizeof(ts), "%u", T);
					snprintf(ps, sizeof(ps), "%u", P);
					parse_ok(&cfg,
						 ARGV("--dryrun", "--seed", "9", "-b", "/dev/null",
						      "-p", "22,80,443", "-P", ps, "--shards", ns,
						      "--shard", ss, "-T", ts, "198.18.0.0/26"));
					cr_assert_eq(pps_scan_init(&sc, &cfg, zmac, zmac, 1), 0);
					cr_assert_eq(sc.total, 64ull * 3 * P);
					for (unsigned k = 0; k < T; k++) {
						struct pps_slice sl;
						cr_assert_eq(pps_scan_slice(&sc, k, &sl), 0);
						for (uint64_t j = sl.next; j < sl.end;
						     j += sl.stride) {
							struct pps_syn_probe p;
							int pi;
							pps_synscan_probe_at(&sc, j, &p);
							cr_assert_eq(p.dst_ip_h & ~63u,
								     0xc6120000u);
							pi = p.dst_port_h == 22	  ? 0
							     : p.dst_port_h == 80 ? 1
										  : 2;
							hits[p.dst_ip_h & 63][pi]++;
							total++;
						}
					}
					cr_assert_eq(pps_scan_planned(&sc),
						     (64ull * 3 * P + N - 1 - s) / N);
					pps_scan_fini(&sc);
					pps_config_free(&cfg);
				}
				cr_assert_eq(total, 64ull * 3 * P, "N=%u T=%u P=%u", N, T, P);
				for (int i = 0; i < 64; i++)
					for (int j = 0; j < 3; j++)
						cr_assert_eq(
							hits[i][j], P,
							"N=%u T=%u P=%u: target %d/%d hit %u times",
							N, T, P, i, j, hits[i][j]);
			}
}

/* With -P 3 the probes of one target are one pass (n indices) apart and use distinct ports. */
Test(scan_control, probes_are_spread_in_time)
{
	struct pps_config cfg;
	struct pps_scan sc;
	struct pps_syn_probe a, b;

	parse_ok(&cfg, ARGV("--dryrun", "--seed", "3", "-b", "/dev/null", "-p", "80", "-P", "3",
			    "198.18.0.0/24"));
	cr_assert_eq(pps_scan_init(&sc, &cfg, zmac, zmac, 1), 0);
	for (uint64_t i = 0; i < 256; i++) {
		pps_synscan_probe_at(&sc, i, &a);
		pps_synscan_probe_at(&sc, i + 256, &b);
		cr_assert_eq(a.dst_ip_h, b.dst_ip_h);
		cr_assert_neq(a.src_port_h, b.src_port_h);
		cr_assert_neq(a.seq_h, b.seq_h);
	}
	pps_scan_fini(&sc);
	pps_config_free(&cfg);
}

Test(scan_control, huge_spaces_count_exactly)
{
	struct pps_config cfg;

	parse_ok(&cfg, ARGV("--dryrun", "-b", "/dev/null", "-p", "80-84", "0.0.0.0/0"));
	cr_assert_eq(cfg.target_space, 21474836480ull);
	pps_config_free(&cfg);
	parse_ok(&cfg, ARGV("--dryrun", "-p", "80", "0.0.0.0/0"));
	cr_assert_eq(cfg.targets->n_addresses, 3702258432ull, "default blocklist leaves %llu",
		     (unsigned long long)cfg.targets->n_addresses);
	cr_assert_eq(cfg.blocked, 4294967296ull - 3702258432ull);
	pps_config_free(&cfg);
}

Test(scan_control, list_files_parse_every_accepted_form, .init = mk_tmp, .fini = rm_tmp)
{
	static const char text[] = "\xef\xbb\xbf# allowlist\r\n"
				   "198.18.0.0/30\r\n"
				   "\n"
				   "   198.18.1.7   # one address, trailing comment\n"
				   "\t198.18.2.0/31\t\r\n"
				   "198.18.3.9"; /* no final newline */
	struct pps_targets *t = pps_targets_new();
	char err[256];

	cr_assert_eq(pps_cidr_load_file(t, write_file("allow.txt", text, sizeof(text) - 1), 0, err,
					sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(pps_targets_finalize(t), 0);
	cr_assert_eq(t->n_addresses, 4 + 1 + 2 + 1);
	cr_assert_geq(pps_targets_index_of(t, 0xc6120309u), 0);
	pps_targets_free(t);
}

Test(scan_control, list_file_errors_name_file_and_line, .init = mk_tmp, .fini = rm_tmp)
{
	static const char text[] = "198.18.0.0/30\n# fine\n198.18.0.300\n";
	const char *p = write_file("bad.txt", text, sizeof(text) - 1);
	char needle[300];

	snprintf(needle, sizeof(needle), "%s:3: '198.18.0.300'", p);
	parse_bad(ARGV("--dryrun", "-p", "80", "-w", (char *)p), needle);
	parse_bad(ARGV("--dryrun", "-p", "80", "-b", (char *)p, "198.18.0.0/24"), needle);
	snprintf(needle, sizeof(needle), "%s:1: '198.18.0.0/30' is not an IPv4 address", p);
	parse_bad(ARGV("--dryrun", "-p", "80", "-b", "/dev/null", "-I", (char *)p), needle);
	parse_bad(ARGV("--dryrun", "-p", "80", "-w", "/nonexistent/allow"), "/nonexistent/allow");
}

/* The messages a new user met: each names the value, the option or file, and what to do. */
Test(scan_control, messages_name_what_is_wrong, .init = mk_tmp, .fini = rm_tmp)
{
	static const char nul[] = "198.18.0.1\n198.18.0.2\0junk\n";
	const char *empty = write_file("empty.txt", "", 0);
	const char *comments = write_file("comments.txt", "# nothing\n\n", 11);
	const char *withnul = write_file("nul.txt", nul, sizeof(nul) - 1);
	char needle[300];

	/* an empty -w file: named, not "no targets given" */
	snprintf(needle, sizeof(needle), "'%s' (from -w/--allowlist-file)", empty);
	parse_bad(ARGV("--dryrun", "-p", "80", "-w", (char *)empty), needle);
	snprintf(needle, sizeof(needle), "'%s' (from -I/--list-of-ips-file)", comments);
	parse_bad(ARGV("--dryrun", "-p", "80", "-I", (char *)comments), needle);
	/* a NUL byte in a target file */
	snprintf(needle, sizeof(needle), "%s:2: NUL byte", withnul);
	parse_bad(ARGV("--dryrun", "-p", "80", "-w", (char *)withnul), needle);
	parse_bad(ARGV("--dryrun", "-p", "80", "-b", (char *)withnul, "198.18.0.0/24"), needle);
	/* -G: no broadcast, multicast or all-zero next hop; an address points to --gateway-ip */
	parse_bad(ARGV("-S", "198.19.0.2", "-G", "ff:ff:ff:ff:ff:ff", "-p", "80", "198.18.0.1"),
		  "'ff:ff:ff:ff:ff:ff' (from -G/--gateway-mac): broadcast");
	parse_bad(ARGV("-S", "198.19.0.2", "-G", "01:00:5e:00:00:01", "-p", "80", "198.18.0.1"),
		  "'01:00:5e:00:00:01' (from -G/--gateway-mac): multicast");
	parse_bad(ARGV("-S", "198.19.0.2", "-G", "00:00:00:00:00:00", "-p", "80", "198.18.0.1"),
		  "'00:00:00:00:00:00' (from -G/--gateway-mac): all zero");
	parse_bad(ARGV("-S", "198.19.0.2", "-G", "198.19.0.1", "-p", "80", "198.18.0.1"),
		  "--gateway-ip 198.19.0.1");
	parse_bad(ARGV("-S", "198.19.0.2", "--source-mac", "ff:ff:ff:ff:ff:ff", "-G",
		       "02:00:00:00:00:01", "-p", "80", "198.18.0.1"),
		  "(from --source-mac): broadcast");
	/* -G and --gateway-ip together */
	parse_bad(ARGV("-S", "198.19.0.2", "-G", "02:00:00:00:00:01", "--gateway-ip", "198.19.0.1",
		       "-p", "80", "-b", "/dev/null", "198.18.0.1"),
		  "-G/--gateway-mac or --gateway-ip, not both");
	/* a newline in a path would break the metadata file and --dump-config */
	parse_bad(ARGV("--dryrun", "-p", "80", "-o", "a\nb", "198.18.0.1"),
		  "(from -o/--output-file): a newline");
	parse_bad(ARGV("--dryrun", "-p", "80", "-w", "x\ny", "198.18.0.1"),
		  "(from -w/--allowlist-file): a newline");
}

Test(scan_control, blocklist_wins_over_allowlist_and_arguments, .init = mk_tmp, .fini = rm_tmp)
{
	static const char allow[] = "198.18.1.0/24\n";
	static const char block[] = "198.18.0.128/25\n198.18.1.0/26\n";
	const char *a = write_file("allow", allow, sizeof(allow) - 1);
	const char *b = write_file("block", block, sizeof(block) - 1);
	struct pps_config cfg;

	parse_ok(&cfg,
		 ARGV("--dryrun", "-p", "80", "-w", (char *)a, "-b", (char *)b, "198.18.0.0/24"));
	cr_assert_eq(cfg.targets->n_addresses, 128 + 192);
	cr_assert_lt(pps_targets_index_of(cfg.targets, 0xc6120080u), 0);  /* .0.128 blocked */
	cr_assert_lt(pps_targets_index_of(cfg.targets, 0xc6120100u), 0);  /* .1.0 blocked */
	cr_assert_geq(pps_targets_index_of(cfg.targets, 0xc6120140u), 0); /* .1.64 allowed */
	cr_assert_eq(cfg.blocked, 128 + 64);
	pps_config_free(&cfg);

	/* a blocklist that leaves nothing is an error before anything is sent */
	parse_bad(ARGV("--dryrun", "-p", "80", "-b", (char *)b, "198.18.0.128/25"),
		  "leaves no target");
	/* the default blocklist keeps the IANA ranges out */
	parse_bad(ARGV("--dryrun", "-p", "80", "10.0.0.0/8", "192.168.1.1"), "leaves no target");
}

Test(scan_control, list_of_ips_counts_duplicates_once, .init = mk_tmp, .fini = rm_tmp)
{
	struct ut_rng r;
	size_t cap = 200000 * 16, len = 0;
	char *text = malloc(cap);
	static uint8_t seen[65536];
	uint64_t unique = 0;
	struct pps_config cfg;
	const char *p;

	ut_rng_seed(&r, 77);
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < 200000; i++) {
		uint32_t low = (uint32_t)ut_below(&r, 65536);
		if (!seen[low]++)
			unique++;
		len += (size_t)sprintf(text + len, "198.18.%u.%u\n", low >> 8, low & 255);
	}
	p = write_file("ips.txt", text, len);
	free(text);
	parse_ok(&cfg, ARGV("--dryrun", "-p", "80", "-b", "/dev/null", "-I", (char *)p));
	cr_assert_eq(cfg.targets->n_addresses, unique);
	pps_config_free(&cfg);
}

Test(scan_control, top_ports_default_and_count)
{
	struct pps_config cfg;
	static const uint16_t top10[] = { 80, 23, 443, 21, 22, 25, 3389, 110, 445, 139 };

	cr_assert_eq(pps_top_ports_n, 1000);
	parse_ok(&cfg, ARGV("--dryrun", "-b", "/dev/null", "198.18.0.1"));
	cr_assert_eq(cfg.ports->n, 1000, "no -p gives the top 1000 ports");
	pps_config_free(&cfg);
	parse_ok(&cfg, ARGV("--dryrun", "-b", "/dev/null", "--top-ports", "10", "198.18.0.1"));
	cr_assert_eq(cfg.ports->n, 10);
	for (int i = 0; i < 10; i++)
		cr_assert(pps_ports_contains(cfg.ports, top10[i]), "port %u missing", top10[i]);
	pps_config_free(&cfg);
}

Test(scan_control, bandwidth_uses_the_probe_frame_size)
{
	struct pps_config cfg;

	/* windows preset: 14 + 20 + 32 = 66 bytes, + 24 on the wire = 720 bits */
	parse_ok(&cfg, ARGV("--dryrun", "-B", "10M", "-p", "80", "-b", "/dev/null", "198.18.0.1"));
	cr_assert_float_eq(cfg.rate_pps, 10e6 / 720.0, 1e-6);
	pps_config_free(&cfg);
	/* smallest: 58 bytes, padded to 60, + 24 = 672 bits */
	parse_ok(&cfg, ARGV("--dryrun", "-B", "1G", "--tcp-options", "smallest", "-p", "80", "-b",
			    "/dev/null", "198.18.0.1"));
	cr_assert_float_eq(cfg.rate_pps, 1e9 / 672.0, 1e-6);
	pps_config_free(&cfg);
	parse_bad(ARGV("--dryrun", "-B", "1M", "-r", "5", "-p", "80", "-b", "/dev/null",
		       "198.18.0.1"),
		  "not both");
}

Test(scan_control, max_targets_number_and_percentage)
{
	struct pps_config cfg;
	struct pps_scan sc;
	static uint8_t seen[1024];

	parse_ok(&cfg, ARGV("--dryrun", "--seed", "4", "-n", "10", "-p", "80,81", "-b", "/dev/null",
			    "198.18.0.0/24"));
	cr_assert_eq(pps_scan_init(&sc, &cfg, zmac, zmac, 1), 0);
	cr_assert_eq(sc.total, 10);
	memset(seen, 0, sizeof(seen));
	for (uint64_t j = 0; j < sc.total; j++) {
		struct pps_syn_probe p;
		pps_synscan_probe_at(&sc, j, &p);
		cr_assert_eq(seen[(p.dst_ip_h & 255) * 2 + (p.dst_port_h - 80)]++, 0);
	}
	pps_scan_fini(&sc);
	pps_config_free(&cfg);
	parse_ok(&cfg, ARGV("--dryrun", "--seed", "4", "-n", "25%", "-p", "80,81", "-b",
			    "/dev/null", "198.18.0.0/24"));
	cr_assert_eq(cfg.max_targets, 128);
	pps_config_free(&cfg);
}

Test(scan_control, source_addresses_are_each_used_and_validated)
{
	struct pps_config cfg;
	struct pps_scan sc;
	unsigned used[4] = { 0 };

	parse_ok(&cfg, ARGV("--seed", "8", "-S", "198.19.0.2-198.19.0.4,198.19.0.9", "-G",
			    "02:00:00:00:00:01", "-p", "80", "-b", "/dev/null", "198.18.0.0/24"));
	cr_assert_eq(cfg.sources->n_addresses, 4);
	cr_assert_eq(pps_scan_init(&sc, &cfg, zmac, zmac, 1), 0);
	for (uint64_t j = 0; j < sc.total; j++) {
		struct pps_syn_probe p;
		struct pps_tcp_pkt t = { 0 };
		uint64_t idx;

		pps_synscan_probe_at(&sc, j, &p);
		used[p.src_ip_h == 0xc6130009u ? 3 : (p.src_ip_h & 255) - 2]++;
		t.saddr_h = p.dst_ip_h;
		t.daddr_h = p.src_ip_h;
		t.sport_h = p.dst_port_h;
		t.dport_h = p.src_port_h;
		t.ack_h = p.seq_h + 1;
		t.flags = PPS_TCP_SYN | PPS_TCP_ACK;
		cr_assert_eq(pps_synscan_validate(&sc, &t, &idx), PPS_V_SYNACK);
		t.daddr_h = 0xc6130005u; /* not one of ours */
		cr_assert_eq(pps_synscan_validate(&sc, &t, &idx), PPS_V_NOT_OURS);
	}
	for (int i = 0; i < 4; i++)
		cr_assert_eq(used[i], 64, "source %d used %u times", i, used[i]);
	pps_scan_fini(&sc);
	pps_config_free(&cfg);
}

/*
 * Every (source address, source port) pair occurs: with -S of A addresses and -s of B ports
 * sharing a factor, the plain rotation (i mod A, i mod B) would give only lcm(A, B) of the
 * A x B pairs ((A,P) and (B,Q) only, for two and two). Over the whole space each pair is
 * used equally often, one probe at a time and a burst at a time alike.
 */
static void all_source_pairs(const char *sources, const char *sports, unsigned n_src, unsigned n_sp,
			     const char *ports)
{
	struct pps_config cfg;
	struct pps_scan sc;
	static unsigned used[64][64];
	uint32_t first_ip;

	memset(used, 0, sizeof(used));
	parse_ok(&cfg, ARGV("--seed", "8", "-S", (char *)sources, "-s", (char *)sports, "-G",
			    "02:00:00:00:00:01", "-p", (char *)ports, "-b", "/dev/null",
			    "198.18.0.0/24"));
	cr_assert_eq(pps_scan_init(&sc, &cfg, zmac, zmac, 1), 0);
	first_ip = pps_targets_at(cfg.sources, 0);
	for (uint64_t j = 0; j < sc.total; j += PPS_BURST) {
		struct pps_target_burst tb;
		unsigned n = sc.total - j < PPS_BURST ? (unsigned)(sc.total - j) : PPS_BURST;

		pps_scan_targets_burst(&sc, j, 1, n, &tb);
		for (unsigned k = 0; k < n; k++) {
			struct pps_target t;
			int64_t a = pps_targets_index_of(cfg.sources, tb.src_ip_h[k]);

			pps_scan_target_at(&sc, j + k, &t);
			cr_assert_eq(t.src_ip_h, tb.src_ip_h[k]);
			cr_assert_eq(t.src_port_h, tb.src_port_h[k]);
			cr_assert_geq(a, 0);
			used[a][tb.src_port_h[k] - cfg.sport_first_h]++;
		}
	}
	for (unsigned a = 0; a < n_src; a++)
		for (unsigned p = 0; p < n_sp; p++)
			cr_assert_eq(used[a][p], sc.total / (n_src * n_sp),
				     "%s x %s: source %u (%08x) port %u used %u times", sources,
				     sports, a, first_ip + a, p, used[a][p]);
	pps_scan_fini(&sc);
	pps_config_free(&cfg);
}

Test(scan_control, every_source_address_and_port_pair_is_used)
{
	all_source_pairs("198.19.0.2-198.19.0.3", "40000-40001", 2, 2, "80");
	all_source_pairs("198.19.0.2-198.19.0.5", "40000-40005", 4, 6, "80,443,8080");
	all_source_pairs("198.19.0.2-198.19.0.4", "40000-40003", 3, 4, "80,443,8080"); /* coprime */
}

Test(scan_control, source_port_window_wraps_and_validates)
{
	struct pps_config cfg;
	struct pps_scan sc;
	unsigned per_port[3] = { 0 };

	parse_ok(&cfg, ARGV("--dryrun", "--seed", "2", "-s", "61000-61002", "-S", "198.19.0.2",
			    "-p", "80", "-P", "2", "-b", "/dev/null", "198.18.0.0/28"));
	cr_assert_eq(pps_scan_init(&sc, &cfg, zmac, zmac, 1), 0);
	for (uint64_t j = 0; j < sc.total; j++) {
		struct pps_syn_probe p;
		struct pps_tcp_pkt t = { 0 };
		uint64_t idx;

		pps_synscan_probe_at(&sc, j, &p);
		cr_assert(p.src_port_h >= 61000 && p.src_port_h <= 61002);
		per_port[p.src_port_h - 61000]++;
		t.saddr_h = p.dst_ip_h;
		t.daddr_h = 0xc6130002u;
		t.sport_h = 80;
		t.dport_h = p.src_port_h;
		t.ack_h = p.seq_h + 1;
		t.flags = PPS_TCP_SYN | PPS_TCP_ACK;
		cr_assert_eq(pps_synscan_validate(&sc, &t, &idx), PPS_V_SYNACK);
		t.dport_h = 61003;
		cr_assert_eq(pps_synscan_validate(&sc, &t, &idx), PPS_V_BAD_DPORT);
	}
	for (int i = 0; i < 3; i++)
		cr_assert_gt(per_port[i], 0);
	pps_scan_fini(&sc);
	pps_config_free(&cfg);
}

Test(scan_control, default_tcp_options_are_windows)
{
	struct pps_config cfg;
	struct pps_scan sc;
	static const uint8_t windows[12] = { 2, 4, 5, 0xb4, 1, 3, 3, 7, 1, 1, 4, 2 };

	parse_ok(&cfg, ARGV("--dryrun", "-p", "80", "-b", "/dev/null", "198.18.0.1"));
	cr_assert_eq(cfg.tcpopt, PPS_TCPOPT_WINDOWS);
	cr_assert_eq(pps_scan_init(&sc, &cfg, zmac, zmac, 1), 0);
	cr_assert_eq(pps_synscan_state(&sc)->tmpl.len, 66);
	cr_assert_arr_eq(pps_synscan_state(&sc)->tmpl.bytes + PPS_TCP_OFF + 20, windows, 12);
	pps_scan_fini(&sc);
	pps_config_free(&cfg);
}

/* Writes a scan's probes (thread order) from each slice's current position to the end. */
static void collect(struct pps_scan *sc, unsigned T, uint8_t *hits)
{
	for (unsigned k = 0; k < T; k++) {
		struct pps_slice sl;
		cr_assert_eq(pps_scan_slice(sc, k, &sl), 0);
		for (uint64_t j = sl.next; j < sl.end; j += sl.stride) {
			struct pps_syn_probe p;
			pps_synscan_probe_at(sc, j, &p);
			hits[(p.dst_ip_h & 255) * 2 + (p.dst_port_h == 443)]++;
		}
	}
}

Test(scan_control, resume_continues_exactly_where_it_stopped, .init = mk_tmp, .fini = rm_tmp)
{
	static uint8_t hits[512];
	struct pps_config cfg, cfg2;
	struct pps_scan sc, sc2;
	uint64_t next[3];
	char path[256], *err;
	char *argv2[4];

	memset(hits, 0, sizeof(hits));
	parse_ok(&cfg,
		 ARGV("--seed", "12", "-T", "3", "-S", "198.19.0.2", "-G", "02:00:00:00:00:01",
		      "-p", "80,443", "-b", "/dev/null", "-o", "out.csv", "198.18.0.0/24"));
	cr_assert_eq(pps_scan_init(&sc, &cfg, zmac, zmac, 1), 0);
	/* "interrupt" each thread after a different number of its probes */
	for (unsigned k = 0; k < 3; k++) {
		struct pps_slice sl;
		uint64_t stop = 17 + 40 * k, n = 0;

		cr_assert_eq(pps_scan_slice(&sc, k, &sl), 0);
		for (; sl.next < sl.end && n < stop; sl.next += sl.stride, n++) {
			struct pps_syn_probe p;
			pps_synscan_probe_at(&sc, sl.next, &p);
			hits[(p.dst_ip_h & 255) * 2 + (p.dst_port_h == 443)]++;
		}
		next[k] = sl.next;
	}
	snprintf(path, sizeof(path), "%s/paused.conf", tmpdir);
	cr_assert_eq(pps_config_write_resume(&cfg, path, "--no-huge -l 0-1", next, 3), 0);

	argv2[0] = "ppscan";
	argv2[1] = "--resume";
	argv2[2] = path;
	argv2[3] = NULL;
	cr_assert_eq(ut_parse_args(&cfg2, PPS_BACKEND_DPDK, argv2, &err), PPS_PARSE_OK, "%s", err);
	free(err);
	cr_assert_eq(cfg2.seed, 12);
	cr_assert_eq(cfg2.n_resume_next, 3);
	cr_assert_str_eq(cfg2.eal_args, "--no-huge -l 0-1");
	/* relative paths are written absolute, so a resume appends from any directory */
	cr_assert_eq(cfg2.output_file[0], '/');
	cr_assert_str_eq(cfg2.output_file + strlen(cfg2.output_file) - 8, "/out.csv");
	cr_assert_eq(pps_scan_init(&sc2, &cfg2, zmac, zmac, 1), 0);
	collect(&sc2, 3, hits);
	for (int i = 0; i < 512; i++)
		cr_assert_eq(hits[i], 1, "target %d probed %u times across both runs", i, hits[i]);
	cr_assert_eq(pps_scan_planned(&sc2), 512 - (17 + 57 + 97));
	pps_scan_fini(&sc);
	pps_scan_fini(&sc2);
	pps_config_free(&cfg);
	pps_config_free(&cfg2);
}

Test(scan_control, dump_config_reads_back_to_the_same_scan, .init = mk_tmp, .fini = rm_tmp)
{
	struct pps_config a, b;
	struct pps_scan sa, sb;
	char path[256], *err;
	char *argv2[6];
	FILE *f;

	parse_ok(&a, ARGV("--dryrun", "-p", "22,80", "-r", "0.5", "--probe-ttl", "33", "-s",
			  "40000-40100", "--tcp-options", "bsd", "--output-closed", "-P", "2", "-b",
			  "/dev/null", "198.18.0.0/28", "198.18.5.5"));
	snprintf(path, sizeof(path), "%s/dump.conf", tmpdir);
	f = fopen(path, "w");
	cr_assert_eq(pps_config_dump(&a, f), 0);
	fclose(f);
	argv2[0] = "ppscan";
	argv2[1] = "--dryrun";
	argv2[2] = "-C";
	argv2[3] = path;
	argv2[4] = NULL;
	cr_assert_eq(ut_parse_args(&b, PPS_BACKEND_DPDK, argv2, &err), PPS_PARSE_OK, "%s", err);
	free(err);
	cr_assert_eq(b.seed, a.seed, "a drawn seed is written out");
	cr_assert_eq(b.ttl, 33);
	cr_assert_float_eq(b.rate_pps, 0.5, 1e-12);
	cr_assert_eq(b.tcpopt, PPS_TCPOPT_BSD);
	cr_assert_eq(b.output_closed, 1);
	cr_assert_eq(b.target_space, a.target_space);
	cr_assert_eq(pps_scan_init(&sa, &a, zmac, zmac, 1), 0);
	cr_assert_eq(pps_scan_init(&sb, &b, zmac, zmac, 1), 0);
	cr_assert_eq(sa.total, sb.total);
	for (uint64_t j = 0; j < sa.total; j++) {
		struct pps_syn_probe p, q;
		pps_synscan_probe_at(&sa, j, &p);
		pps_synscan_probe_at(&sb, j, &q);
		cr_assert(p.dst_ip_h == q.dst_ip_h && p.dst_port_h == q.dst_port_h &&
			  p.src_port_h == q.src_port_h && p.seq_h == q.seq_h);
	}
	pps_scan_fini(&sa);
	pps_scan_fini(&sb);
	pps_config_free(&a);
	pps_config_free(&b);
}

Test(scan_control, config_file_errors_name_file_and_line, .init = mk_tmp, .fini = rm_tmp)
{
	static const char unknown[] = "# comment\nrate = 100\nfrobnicate = 3\n";
	static const char badval[] = "target-ports = 80\nrate = fast\n";
	static const char nokv[] = "rate 100\n";
	char needle[300];
	const char *p;

	p = write_file("u.conf", unknown, sizeof(unknown) - 1);
	snprintf(needle, sizeof(needle), "%s:3: unknown key 'frobnicate'", p);
	parse_bad(ARGV("--dryrun", "-C", (char *)p, "198.18.0.1"), needle);
	p = write_file("v.conf", badval, sizeof(badval) - 1);
	snprintf(needle, sizeof(needle), "(in %s:2)", p);
	parse_bad(ARGV("--dryrun", "-C", (char *)p, "-b", "/dev/null", "198.18.0.1"), needle);
	p = write_file("k.conf", nokv, sizeof(nokv) - 1);
	snprintf(needle, sizeof(needle), "%s:1: expected 'key = value'", p);
	parse_bad(ARGV("--dryrun", "-C", (char *)p, "198.18.0.1"), needle);
	parse_bad(ARGV("--resume", "/nonexistent/paused.conf"), "/nonexistent/paused.conf");
}

/* Every scan-control option rejects a bad value with one line naming it. */
Test(scan_control, bad_values_name_value_and_option)
{
	static const struct {
		const char *opt, *val, *needle;
	} cases[] = {
		{ "--top-ports", "0", "'0' (from --top-ports)" },
		{ "--top-ports", "1001", "'1001' (from --top-ports)" },
		{ "-B", "fast", "'fast' (from -B/--bandwidth)" },
		{ "-B", "0", "'0' (from -B/--bandwidth)" },
		{ "-n", "0", "'0' (from -n/--max-targets)" },
		{ "-n", "101%", "'101%' (from -n/--max-targets)" },
		{ "-n", "x%", "'x%' (from -n/--max-targets)" },
		{ "-t", "0", "'0' (from -t/--max-runtime)" },
		{ "-t", "-5", "'-5' (from -t/--max-runtime)" },
		{ "-N", "0", "'0' (from -N/--max-results)" },
		{ "-P", "0", "'0' (from -P/--probes)" },
		{ "-P", "1001", "'1001' (from -P/--probes)" },
		{ "--shards", "0", "'0' (from --shards)" },
		{ "-T", "0", "'0' (from -T/--sender-threads)" },
		{ "-T", "65", "'65' (from -T/--sender-threads)" },
		{ "-S", "198.19.0.5-198.19.0.2", "'198.19.0.5-198.19.0.2' (from -S/--source-ip)" },
		{ "-S", "198.19.0.2,", "'198.19.0.2,' (from -S/--source-ip)" },
		{ "-s", "0-10", "'0-10' (from -s/--source-port)" },
		{ "-s", "70000", "'70000' (from -s/--source-port)" },
		{ "-u", "", "empty file name (from -u/--status-updates-file)" },
		{ "--tcp-options", "solaris", "'solaris' (from --tcp-options)" },
		{ "-c", "-1", "'-1' (from -c/--cooldown)" },
		{ "-r", "1e11", "'1e11' (from -r/--rate)" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		parse_bad(ARGV("--dryrun", "-p", "80", "-b", "/dev/null", (char *)cases[i].opt,
			       (char *)cases[i].val, "198.18.0.1"),
			  cases[i].needle);
	parse_bad(ARGV("--dryrun", "-p", "80", "--shards", "2", "--shard", "2", "--seed", "1", "-b",
		       "/dev/null", "198.18.0.1"),
		  "'2' (from --shard)");
	parse_bad(ARGV("--dryrun", "-p", "80", "--shards", "2", "-b", "/dev/null", "198.18.0.1"),
		  "without --seed");
}

/* Checking the outputs creates and writes nothing; starting them does (the header). */
Test(scan_control, output_check_writes_nothing_start_does, .init = mk_tmp, .fini = rm_tmp)
{
	static const char *const names[4] = { "r.csv", "s.csv", "s.json", "m.json" };
	char f[4][300], o[300];
	struct pps_config cfg;
	struct pps_monitor m;

	for (int i = 0; i < 4; i++)
		snprintf(f[i], sizeof(f[i]), "%s/%s", tmpdir, names[i]);
	parse_ok(&cfg,
		 ARGV("-S", "198.19.0.2", "-G", "02:00:00:00:00:01", "-p", "80", "-b", "/dev/null",
		      "-o", f[0], "-u", f[1], "--status-json", f[2], "-m", f[3], "198.18.0.1"));
	memset(&m, 0, sizeof(m));
	cr_assert_eq(pps_outputs_check(&m, &cfg, stderr), 0);
	for (int i = 0; i < 4; i++)
		cr_assert_neq(access(f[i], F_OK), 0, "checking created %s", f[i]);
	cr_assert_eq(pps_outputs_start(&m, &cfg, stderr), 0);
	pps_outputs_close(&m);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(access(f[i], F_OK), 0, "starting did not create %s", f[i]);
	pps_config_free(&cfg);
	/* a -o in a directory that does not exist: refused at the check */
	snprintf(o, sizeof(o), "%s/nodir/r.csv", tmpdir);
	parse_ok(&cfg, ARGV("-S", "198.19.0.2", "-G", "02:00:00:00:00:01", "-p", "80", "-b",
			    "/dev/null", "-o", o, "198.18.0.1"));
	memset(&m, 0, sizeof(m));
	cr_assert_lt(pps_outputs_check(&m, &cfg, stderr), 0);
	pps_config_free(&cfg);
}

/* Files the scan writes are checked before anything is sent. */
Test(scan_control, output_files_checked_at_start, .init = mk_tmp, .fini = rm_tmp)
{
	static const char old_csv[] = "saddr\n198.18.0.9\n";
	const char *csv = write_file("old.csv", old_csv, sizeof(old_csv) - 1);
	char same[300], dir[300];
	struct pps_config cfg;
	struct pps_monitor m;
	char *err = NULL;
	size_t len = 0;
	FILE *e;

	snprintf(same, sizeof(same), "%s/x", tmpdir);
	snprintf(dir, sizeof(dir), "%s", tmpdir);
	/* same file for results and status */
	parse_ok(&cfg, ARGV("-S", "198.19.0.2", "-G", "02:00:00:00:00:01", "-p", "80", "-b",
			    "/dev/null", "-o", same, "-u", same, "198.18.0.1"));
	memset(&m, 0, sizeof(m));
	e = open_memstream(&err, &len);
	cr_assert_lt(pps_outputs_open(&m, &cfg, e), 0);
	fclose(e);
	cr_assert(strstr(err, "named by both -o/--output-file and -u/--status-updates-file"), "%s",
		  err);
	free(err);
	pps_config_free(&cfg);
	/* appending other fields to an existing CSV */
	parse_ok(&cfg, ARGV("-S", "198.19.0.2", "-G", "02:00:00:00:00:01", "-p", "80", "-b",
			    "/dev/null", "-o", (char *)csv, "198.18.0.1"));
	memset(&m, 0, sizeof(m));
	e = open_memstream(&err, &len);
	cr_assert_lt(pps_outputs_open(&m, &cfg, e), 0);
	fclose(e);
	cr_assert(strstr(err, "has the header 'saddr'"), "%s", err);
	free(err);
	pps_config_free(&cfg);
	/* a metadata file that cannot be created, a resume file that is a directory */
	parse_ok(&cfg, ARGV("-S", "198.19.0.2", "-G", "02:00:00:00:00:01", "-p", "80", "-b",
			    "/dev/null", "-m", "/nonexistent/meta.json", "198.18.0.1"));
	memset(&m, 0, sizeof(m));
	e = open_memstream(&err, &len);
	cr_assert_lt(pps_outputs_open(&m, &cfg, e), 0);
	fclose(e);
	cr_assert(strstr(err, "'/nonexistent/meta.json' (from -m/--metadata-file)"), "%s", err);
	free(err);
	pps_config_free(&cfg);
	parse_ok(&cfg, ARGV("-S", "198.19.0.2", "-G", "02:00:00:00:00:01", "-p", "80", "-b",
			    "/dev/null", "--resume-file", dir, "198.18.0.1"));
	memset(&m, 0, sizeof(m));
	e = open_memstream(&err, &len);
	cr_assert_lt(pps_outputs_open(&m, &cfg, e), 0);
	fclose(e);
	cr_assert(strstr(err, "(from --resume-file): it is a directory"), "%s", err);
	free(err);
	pps_config_free(&cfg);
}

Test(scan_control, config_and_resume_files_are_strict, .init = mk_tmp, .fini = rm_tmp)
{
	static const char twice[] = "rate = 100\nrate = 200\n";
	static const char beyond[] = "seed = 3\ntarget-ports = 80\nblocklist-file = /dev/null\n"
				     "source-ip = 198.19.0.2\ngateway-mac = 02:00:00:00:00:01\n"
				     "targets = 198.18.0.0/24\nresume-next = 99999999\n";
	const char *p = write_file("twice.conf", twice, sizeof(twice) - 1);
	char needle[300];
	struct pps_config cfg;
	struct pps_scan sc;
	struct pps_slice sl;

	snprintf(needle, sizeof(needle), "%s:2: 'rate' given twice", p);
	parse_bad(ARGV("--dryrun", "-C", (char *)p, "198.18.0.1"), needle);
	parse_bad(ARGV("--dryrun", "-C", (char *)p, "-C", (char *)p, "198.18.0.1"),
		  "-C/--config given twice");
	parse_bad(ARGV("--dryrun", "-C", tmpdir, "198.18.0.1"), "it is a directory");
	/* a resume position past the end of the scan does not fit it */
	p = write_file("beyond.conf", beyond, sizeof(beyond) - 1);
	parse_ok(&cfg, ARGV("--resume", (char *)p));
	cr_assert_eq(pps_scan_init(&sc, &cfg, zmac, zmac, 1), 0);
	cr_assert_eq(pps_scan_slice(&sc, 0, &sl), -EINVAL);
	pps_scan_fini(&sc);
	pps_config_free(&cfg);
}

/*
 * UDP scans in the lab (root): tests/lab/udp_lab.sh runs real servers from Debian packages in
 * the target namespace (dnsmasq, chrony, snmpd, memcached -U, coturn, tftpd-hpa, rpcbind,
 * kamailio, libcoap's coap-server, openbsd-inetd's echo), the kernel answers every other port
 * with ICMP port unreachable, nftables drops some and answers some with host unreachable.
 * Both binaries scan 198.18.4.0/22 x 13 ports with -M udp: the results are the ground truth
 * (precision 100%, recall >= 99.9%), the summary's open|filtered count is exact, the probes
 * on the wire are the dry run's, and forged UDP replies and ICMP errors sent from the target
 * namespace (tests/lab/forge_udp.py) are never reported but counted invalid.
 */
#include <criterion/criterion.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab_util.h"
#include "pps_targets.h"

#define LAB "ppsu1"
#define NS_SCAN LAB "-scan"
#define NS_TGT LAB "-tgt"
#define IF_SCAN LAB "s"
#define IF_TGT LAB "t"
#define UDPLAB PPS_SOURCE_DIR "/tests/lab/udp_lab.sh " LAB
#define PORTS "7,53,69,111,123,161,1900,3478,5060,5353,5683,9999,11211"
#define BLOCK "198.18.4.0/22"
#define OPTS                                                                                       \
	"-M udp -b " PPS_SOURCE_DIR "/scripts/lab-blocklist.conf -S 198.19.0.2 "                   \
	"--gateway-ip 198.19.0.1 -p " PORTS " -r 4000 -c 3 -q --output-closed --seed 21 "          \
	"-f saddr,sport,status"
#define EAL "--no-huge -m 256 --no-shconf --no-telemetry --no-pci -l 0-1"
#define N_PROBES (1024 * 13)

static char dir[] = "/tmp/ppscan-udplab-XXXXXX";

static void setup(void)
{
	lab_suite_setup(LAB, dir);
	cr_assert_eq(lab_sh(UDPLAB " up"), 0, "udp_lab.sh up failed");
	cr_assert_eq(lab_sh(UDPLAB " truth >%s/truth.csv", dir), 0);
	cr_assert_eq(lab_sh("%s " OPTS " --dryrun -f daddr,dport,sport,ipid,payload,bytes " BLOCK " >%s/dry.csv 2>/dev/null",
			    PPSCAN_PCAP_BIN, dir),
		     0, "--dryrun failed");
}

static void teardown(void)
{
	lab_sh(UDPLAB " down");
	lab_suite_teardown(LAB, dir);
}

/* Precision and recall of results @path against the truth; returns the results' count. */
static size_t assert_truth(const char *tag, const char *path, const char *extra)
{
	struct lab_set got, truth;
	char tpath[256];
	size_t common, want;

	snprintf(tpath, sizeof(tpath), "%s/truth.csv", dir);
	cr_assert_eq(lab_read_lines(tpath, 0, &truth), 0);
	cr_assert_eq(lab_read_lines(path, 1, &got), 0, "%s: cannot read %s", tag, path);
	cr_assert_gt(truth.n, 10000, "%s: truth has %zu lines", tag, truth.n);
	common = lab_set_common(&got, &truth);
	want = truth.n;
	if (extra) {
		struct lab_set one = { .items = (char **)&extra, .n = 1 };

		cr_assert_eq(lab_set_common(&got, &one), 1, "%s: %s is not reported", tag, extra);
		common++;
		want++;
	}
	cr_assert_eq(common, got.n, "%s: precision: %zu of %zu results are not in the truth", tag,
		     got.n - common, got.n);
	cr_assert_geq(common * 1000, want * 999, "%s: recall %zu/%zu below 99.9%%", tag, common,
		      want);
	fprintf(stderr, "%s: %zu results, %zu of %zu truth lines, precision 100%%\n", tag, got.n,
		common, want);
	lab_set_free(&truth);
	lab_set_free(&got);
	return common;
}

/* Each service's line is there, with the right status (a few spot checks beyond counts). */
static void assert_services(const char *path)
{
	static const char *const want[] = {
		"198.18.4.1,53,open",	 "198.18.4.2,123,open",	  "198.18.4.3,161,open",
		"198.18.4.4,11211,open", "198.18.4.5,3478,open",  "198.18.4.6,69,open",
		"198.18.4.7,111,open",	 "198.18.4.8,5060,open",  "198.18.4.9,5683,open",
		"198.18.4.10,7,open",	 "198.18.4.1,123,closed", "198.18.6.200,161,filtered",
	};
	struct lab_set got;

	cr_assert_eq(lab_read_lines(path, 1, &got), 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct lab_set one = { .items = (char **)&want[i], .n = 1 };

		cr_assert_eq(lab_set_common(&got, &one), 1, "%s is not reported", want[i]);
	}
	lab_set_free(&got);
}

/* The UDP probes in capture @pcap as "daddr,dport,sport,ipid" lines. */
static void read_udp_probes(const char *pcap, struct lab_set *s)
{
	char errbuf[PCAP_ERRBUF_SIZE], line[96], ip[16], tmp[256];
	pcap_t *p = pcap_open_offline(pcap, errbuf);
	struct pcap_pkthdr *h;
	const u_char *data;
	FILE *f;

	cr_assert_not_null(p, "%s", errbuf);
	snprintf(tmp, sizeof(tmp), "%s/wire.txt", dir);
	f = fopen(tmp, "w");
	while (pcap_next_ex(p, &h, &data) == 1) {
		const u_char *q = data + 14, *u = q + 20;

		/* read from the bytes (tcpdump keeps 128 of them): Ethernet, IPv4, UDP headers */
		if (h->caplen < 42 || data[12] != 8 || data[13] != 0 || q[0] != 0x45 || q[9] != 17)
			continue;
		pps_format_ipv4((uint32_t)q[16] << 24 | (uint32_t)q[17] << 16 |
					(uint32_t)q[18] << 8 | q[19],
				ip);
		snprintf(line, sizeof(line), "%s,%u,%u,%u", ip, u[2] << 8 | u[3], u[0] << 8 | u[1],
			 q[4] << 8 | q[5]);
		fprintf(f, "%s\n", line);
	}
	pcap_close(p);
	fclose(f);
	cr_assert_eq(lab_read_lines(tmp, 0, s), 0);
}

static void assert_summary(const char *tag, const char *err, size_t truth_lines)
{
	long long sent = lab_summary_value(err, "sent");
	long long silent = lab_summary_value(err, "(no answer)");
	long long unreach = lab_summary_value(err, "other ICMP unreachable");

	cr_assert_eq(sent, N_PROBES, "%s: sent %lld", tag, sent);
	/* silent: 198.18.6.0/25 on every port, 198.18.7.0/24 on 53 */
	cr_assert_eq(silent, N_PROBES - (long long)truth_lines, "%s: open|filtered %lld", tag,
		     silent);
	cr_assert_eq(unreach, 128, "%s: other unreachables %lld", tag, unreach);
}

static void scan(const char *tag, const char *cmd)
{
	char out[256], err[256], pcap[256];
	struct lab_set wire, dry;
	size_t n;
	int cap;

	snprintf(out, sizeof(out), "%s/%s.csv", dir, tag);
	snprintf(err, sizeof(err), "%s/%s.err", dir, tag);
	snprintf(pcap, sizeof(pcap), "%s/%s.pcap", dir, tag);
	cap = lab_capture_start(NS_TGT, IF_TGT, pcap, "udp and src host 198.19.0.2");
	cr_assert_eq(lab_sh("%s -o %s " BLOCK " 2>%s", cmd, out, err), 0, "%s failed: see %s", tag,
		     err);
	lab_capture_stop(cap);
	n = assert_truth(tag, out, NULL);
	assert_services(out);
	assert_summary(tag, err, n);
	/* the probes on the wire are exactly the dry run's (daddr,dport,sport,ipid) */
	cr_assert_eq(lab_sh("tail -n +2 %s/dry.csv | cut -d, -f1-4 >%s/dry4.txt", dir, dir), 0);
	snprintf(out, sizeof(out), "%s/dry4.txt", dir);
	cr_assert_eq(lab_read_lines(out, 0, &dry), 0);
	read_udp_probes(pcap, &wire);
	cr_assert_eq(dry.n, N_PROBES);
	cr_assert_eq(wire.n, dry.n, "%s: %zu probes on the wire, %zu in the dry run", tag, wire.n,
		     dry.n);
	cr_assert(lab_set_equal(&wire, &dry), "%s: the wire differs from the dry run", tag);
	lab_set_free(&wire);
	lab_set_free(&dry);
}

Test(lab_udp, ppscan_pcap_finds_the_truth, .init = setup, .fini = teardown, .timeout = 300)
{
	scan("pcap", "ip netns exec " NS_SCAN " " PPSCAN_PCAP_BIN " -i " IF_SCAN " " OPTS);
}

Test(lab_udp, ppscan_finds_the_truth, .init = setup, .fini = teardown, .timeout = 300)
{
	scan("dpdk", "ip netns exec " NS_SCAN " " PPSCAN_BIN " " EAL
		     " --vdev net_af_packet0,iface=" IF_SCAN " -- " OPTS);
}

/* Forged replies and ICMP errors while @cmd scans; @banner: its start-up line. */
static void forged(const char *tag, const char *cmd, const char *banner)
{
	char out[256], err[256], rep[256], control[2][64];
	long long invalid;
	int n = -1;
	FILE *f;

	snprintf(out, sizeof(out), "%s/%s-f.csv", dir, tag);
	snprintf(err, sizeof(err), "%s/%s-f.err", dir, tag);
	snprintf(rep, sizeof(rep), "%s/%s-f.forged", dir, tag);
	cr_assert_eq(
		lab_sh("cd %s && { %s -o %s " BLOCK " 2>%s; echo $? >%s-f.rc; } & "
		       "for i in $(seq 100); do grep -q '%s' %s 2>/dev/null && break; sleep "
		       "0.1; done; ip netns exec %s /usr/bin/python3 %s/tests/lab/forge_udp.py "
		       "--dryrun %s/dry.csv --src 198.19.0.2 >%s; f=$?; wait; exit $f",
		       dir, cmd, out, err, tag, banner, err, NS_TGT, PPS_SOURCE_DIR, dir, rep),
		0, "%s: the forger failed", tag);
	cr_assert_eq(lab_sh("test \"$(cat %s/%s-f.rc)\" = 0", dir, tag), 0, "%s: scan failed", tag);
	f = fopen(rep, "r");
	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "invalid %d control %63s control %63s", &n, control[0], control[1]),
		     3, "%s: cannot read the forger's report", tag);
	fclose(f);
	/* exactly the truth plus the two controls (about silent targets: only forgeries) */
	strcat(control[0], ",closed");
	strcat(control[1], ",open");
	{
		char path[256];
		struct lab_set t;

		snprintf(path, sizeof(path), "%s/truth.csv", dir);
		cr_assert_eq(lab_sh("cp %s/truth.csv %s/truth-f.csv && printf '%%s\\n%%s\\n' %s %s "
				    ">>%s/truth-f.csv",
				    dir, dir, control[0], control[1], dir),
			     0);
		(void)t;
	}
	{
		char tp[256];
		struct lab_set got, truth;
		size_t common;

		snprintf(tp, sizeof(tp), "%s/truth-f.csv", dir);
		cr_assert_eq(lab_read_lines(tp, 0, &truth), 0);
		cr_assert_eq(lab_read_lines(out, 1, &got), 0);
		common = lab_set_common(&got, &truth);
		cr_assert_eq(common, got.n, "%s: %zu forged or wrong results", tag, got.n - common);
		cr_assert_geq(common * 1000, truth.n * 999, "%s: recall %zu/%zu", tag, common,
			      truth.n);
		for (int k = 0; k < 2; k++) {
			struct lab_set one = { .items = (char *[]){ control[k] }, .n = 1 };

			cr_assert_eq(lab_set_common(&got, &one), 1, "%s: control %s missing", tag,
				     control[k]);
		}
		lab_set_free(&got);
		lab_set_free(&truth);
	}
	invalid = lab_summary_value(err, "invalid");
	cr_assert_geq(invalid, n, "%s: %lld counted invalid, %d forged", tag, invalid, n);
}

Test(lab_udp, ppscan_pcap_ignores_forgeries, .init = setup, .fini = teardown, .timeout = 300)
{
	forged("pcap", "ip netns exec " NS_SCAN " " PPSCAN_PCAP_BIN " -i " IF_SCAN " " OPTS,
	       "ppscan-pcap: interface");
}

Test(lab_udp, ppscan_ignores_forgeries, .init = setup, .fini = teardown, .timeout = 300)
{
	forged("dpdk",
	       "ip netns exec " NS_SCAN " " PPSCAN_BIN " " EAL
	       " --vdev net_af_packet0,iface=" IF_SCAN " -- " OPTS,
	       "ppscan: port");
}

/*
 * Resume and shards, as for TCP: -t stops the first run mid-scan, --resume sends the rest
 * (the wire holds the dry run exactly once, the appended output is the truth); then the two
 * shards of a --shards 2 scan together find the truth again.
 */
Test(lab_udp, resume_and_shards_cover_the_truth, .init = setup, .fini = teardown, .timeout = 300)
{
	char out[256], pcap[256];
	struct lab_set wire, dry;
	int cap;

	snprintf(out, sizeof(out), "%s/resumed.csv", dir);
	snprintf(pcap, sizeof(pcap), "%s/resume.pcap", dir);
	cap = lab_capture_start(NS_TGT, IF_TGT, pcap, "udp and src host 198.19.0.2");
	cr_assert_eq(lab_sh("cd %s && ip netns exec " NS_SCAN " %s -i " IF_SCAN " " OPTS
			    " -t 1.5 --resume-file %s/paused.conf -o %s " BLOCK " 2>%s/first.err",
			    dir, PPSCAN_PCAP_BIN, dir, out, dir),
		     0, "first run failed");
	cr_assert_eq(lab_sh("grep -q 'resume state saved' %s/first.err", dir), 0,
		     "no resume file announced");
	cr_assert_eq(lab_sh("cd %s && ip netns exec " NS_SCAN " %s --resume %s/paused.conf "
			    "2>%s/second.err",
			    dir, PPSCAN_PCAP_BIN, dir, dir),
		     0, "resumed run failed");
	lab_capture_stop(cap);
	assert_truth("resumed", out, NULL);
	cr_assert_eq(lab_sh("tail -n +2 %s/dry.csv | cut -d, -f1-4 >%s/dry4.txt", dir, dir), 0);
	snprintf(out, sizeof(out), "%s/dry4.txt", dir);
	cr_assert_eq(lab_read_lines(out, 0, &dry), 0);
	read_udp_probes(pcap, &wire);
	cr_assert(lab_set_equal(&wire, &dry), "the two runs sent %zu probes, not the dry run's %zu",
		  wire.n, dry.n);
	lab_set_free(&wire);
	lab_set_free(&dry);

	for (int k = 0; k < 2; k++)
		cr_assert_eq(lab_sh("ip netns exec " NS_SCAN " %s -i " IF_SCAN " " OPTS
				    " --shards 2 --shard %d -o %s/shard%d.csv " BLOCK
				    " 2>%s/shard%d.err",
				    PPSCAN_PCAP_BIN, k, dir, k, dir, k),
			     0, "shard %d failed", k);
	cr_assert_eq(lab_sh("{ head -1 %s/shard0.csv; tail -q -n +2 %s/shard0.csv %s/shard1.csv; } "
			    ">%s/shards.csv",
			    dir, dir, dir, dir),
		     0);
	snprintf(out, sizeof(out), "%s/shards.csv", dir);
	assert_truth("shards", out, NULL);
}

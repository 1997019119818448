/*
 * End to end in the lab (root): ppscan over 198.18.0.0/20 x {22,80,443,8080} (16,384 probes,
 * open, closed and filtered mixed) against the target namespace's own Linux TCP stack.
 * Asserts precision 100% and recall >= 99.9% against netlab.sh truth, that a capture in the
 * target namespace shows no probe outside the targets, and that the same seed gives the same
 * result set twice (once with --no-huge, once on hugepages).
 * Bad input: each invalid value gives one error line naming it, exit 2, and no packet.
 */
#include <criterion/criterion.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab_util.h"
#include "pps_parse.h"
#include "pps_targets.h"

#define LAB "ppstlab"
#define NS_SCAN LAB "-scan"
#define NS_TGT LAB "-tgt"
#define IF_SCAN LAB "s"
#define IF_TGT LAB "t"
#define EAL_NOHUGE "--no-huge -m 256 --no-shconf --no-telemetry --no-pci -l 0-1"
#define EAL_HUGE "--in-memory --no-telemetry --no-pci -l 0-1"
#define SCAN_OPTS                                                                                  \
	"-b " PPS_SOURCE_DIR                                                                       \
	"/scripts/lab-blocklist.conf -S 198.19.0.2 --gateway-ip 198.19.0.1 -p 22,80,443,8080 -r 20000 -c 4 -q --output-closed"

static char dir[] = "/tmp/ppscan-lab-XXXXXX";

static void setup(void)
{
	lab_suite_setup(LAB, dir);
}

static void teardown(void)
{
	lab_suite_teardown(LAB, dir);
}

/* ppscan over the lab's /20 on af_packet (@vdev_opts appended to the --vdev, "" for none). */
static int run_scan_vdev(const char *eal, const char *vdev_opts, const char *extra, const char *out,
			 const char *err)
{
	return lab_sh(
		"cd %s && ip netns exec %s %s %s --vdev net_af_packet0,iface=%s%s -- " SCAN_OPTS
		" %s -o %s 198.18.0.0/20 2>%s",
		dir, NS_SCAN, PPSCAN_BIN, eal, IF_SCAN, vdev_opts, extra, out, err);
}

static int run_scan(const char *eal, const char *extra, const char *out, const char *err)
{
	return run_scan_vdev(eal, "", extra, out, err);
}

/* Checks @path against the truth: precision 100%, recall >= 99.9%. */
static void check_against_truth(const char *path, struct lab_set *got)
{
	lab_assert_truth(path, "", NULL, NULL, got);
}

static unsigned char seen[4096][4];

/* Reads the probes (SYN without ACK) of a capture; asserts each is a target. Returns count. */
static size_t check_capture(const char *pcap_path, size_t *unique)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(pcap_path, errbuf);
	struct pcap_pkthdr *h;
	const u_char *data;
	size_t n = 0;
	static const unsigned short ports[4] = { 22, 80, 443, 8080 };

	cr_assert_not_null(p, "pcap: %s", errbuf);
	memset(seen, 0, sizeof(seen));
	*unique = 0;
	while (pcap_next_ex(p, &h, &data) == 1) {
		struct pps_pkt pkt;
		int pi = -1;

		cr_assert_eq(pps_parse_frame(data, h->caplen, 1, &pkt), PPS_PKT_TCP,
			     "non-TCP frame in a SYN-only capture");
		cr_assert_eq(pkt.tcp.flags & (PPS_TCP_SYN | PPS_TCP_ACK), PPS_TCP_SYN);
		cr_assert_eq(pkt.tcp.saddr_h, 0xc6130002u, "probe from an unexpected source");
		cr_assert((pkt.tcp.daddr_h & 0xfffff000u) == 0xc6120000u,
			  "probe to %08x outside 198.18.0.0/20", pkt.tcp.daddr_h);
		for (int i = 0; i < 4; i++)
			if (pkt.tcp.dport_h == ports[i])
				pi = i;
		cr_assert_geq(pi, 0, "probe to port %u outside the target ports", pkt.tcp.dport_h);
		cr_assert(pkt.tcp.sport_h >= 32768 && pkt.tcp.sport_h <= 61000);
		if (!seen[pkt.tcp.daddr_h & 0xfff][pi]++)
			(*unique)++;
		n++;
	}
	pcap_close(p);
	return n;
}

Test(lab, scan_matches_truth_and_is_reproducible, .init = setup, .fini = teardown, .timeout = 240)
{
	char out1[256], out2[256], err1[256], err2[256], pcap[256];
	struct lab_set a, b;
	size_t probes, unique;
	int cap, rc;

	snprintf(out1, sizeof(out1), "%s/run1.csv", dir);
	snprintf(out2, sizeof(out2), "%s/run2.csv", dir);
	snprintf(err1, sizeof(err1), "%s/run1.err", dir);
	snprintf(err2, sizeof(err2), "%s/run2.err", dir);
	snprintf(pcap, sizeof(pcap), "%s/probes.pcap", dir);

	cap = lab_capture_start(NS_TGT, IF_TGT, pcap,
				"tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack == 0");
	rc = run_scan(EAL_NOHUGE, "--seed 11", out1, err1);
	cr_assert_eq(rc, 0, "ppscan (no-huge) exited %d; stderr in %s", rc, err1);
	lab_capture_stop(cap);

	check_against_truth(out1, &a);
	probes = check_capture(pcap, &unique);
	cr_assert_eq(probes, 16384, "capture shows %zu probes, expected 16384", probes);
	cr_assert_eq(unique, 16384, "capture shows %zu distinct targets, expected 16384", unique);
	cr_assert_eq(lab_sh("grep -q 'sent 16384' %s", err1), 0, "summary lacks 'sent 16384'");

	rc = lab_sh("test -d /dev/hugepages && grep -q hugetlbfs /proc/mounts");
	cr_assert_eq(rc, 0, "hugetlbfs is not mounted: run scripts/hugepages.sh");
	rc = run_scan(EAL_HUGE, "--seed 11", out2, err2);
	cr_assert_eq(rc, 0, "ppscan (hugepages) exited %d; stderr in %s", rc, err2);
	check_against_truth(out2, &b);
	cr_assert_eq(a.n, b.n, "same seed, different result counts: %zu vs %zu", a.n, b.n);
	cr_assert_eq(lab_set_common(&a, &b), a.n, "same seed, different result sets");
	lab_set_free(&a);
	lab_set_free(&b);
}

/* Bad input: one line naming the value, exit 2, and nothing on the wire. */
Test(lab, bad_input_exits_2_and_sends_nothing, .init = setup, .fini = teardown, .timeout = 240)
{
	static const struct {
		const char *args;
		const char *needle;
	} cases[] = {
		{ "198.18.0.0/33", "'198.18.0.0/33'" },
		{ "198.18.0.256", "'198.18.0.256'" },
		{ "example.com", "'example.com'" },
		{ "-p 0 198.18.0.0/24", "'0'" },
		{ "-p 65536 198.18.0.0/24", "'65536'" },
		{ "-p 100-50 198.18.0.0/24", "'100-50'" },
		{ "-r abc 198.18.0.0/24", "'abc'" },
		{ "-r -5 198.18.0.0/24", "'-5'" },
		{ "-G 00:11:22:33:44 198.18.0.0/24", "'00:11:22:33:44'" },
		{ "-G zz:11:22:33:44:55 198.18.0.0/24", "'zz:11:22:33:44:55'" },
		{ "--probe-ttl 300 198.18.0.0/24", "'300'" },
		{ "--bogus-option 198.18.0.0/24", "'--bogus-option'" },
		{ "-S 198.19.0.999 198.18.0.0/24", "'198.19.0.999'" },
	};
	char pcap[256], err[256];
	int cap;

	snprintf(pcap, sizeof(pcap), "%s/bad.pcap", dir);
	snprintf(err, sizeof(err), "%s/bad.err", dir);
	cap = lab_capture_start(NS_TGT, IF_TGT, pcap, "not arp");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* -p and -S given first so the bad value under test is the first error */
		int rc = lab_sh(
			"ip netns exec %s %s " EAL_NOHUGE
			" --vdev net_af_packet0,iface=%s -- -b " PPS_SOURCE_DIR
			"/scripts/lab-blocklist.conf -S 198.19.0.2 --gateway-ip 198.19.0.1 -p 80 %s >/dev/null 2>%s",
			NS_SCAN, PPSCAN_BIN, IF_SCAN, cases[i].args, err);
		cr_expect_eq(rc, 2, "'%s' exited %d, expected 2", cases[i].args, rc);
		cr_expect_eq(lab_sh("test $(wc -l < %s) -eq 1", err), 0,
			     "'%s' printed more or less than one error line", cases[i].args);
		cr_expect_eq(lab_sh("grep -qF -- \"%s\" %s", cases[i].needle, err), 0,
			     "'%s': error line does not name %s", cases[i].args, cases[i].needle);
	}
	lab_capture_stop(cap);
	{
		char errbuf[PCAP_ERRBUF_SIZE];
		struct pcap_pkthdr *h;
		const u_char *d;
		size_t n = 0;
		pcap_t *p = pcap_open_offline(pcap, errbuf);

		cr_assert_not_null(p, "pcap: %s", errbuf);
		while (pcap_next_ex(p, &h, &d) == 1)
			n++;
		pcap_close(p);
		cr_assert_eq(n, 0, "bad input put %zu frames on the wire", n);
	}
}

/* Every target of the lab probed exactly @times times in the last check_capture(). */
static void assert_each_target_probed(unsigned times)
{
	for (int a = 0; a < 4096; a++)
		for (int p = 0; p < 4; p++)
			cr_assert_eq(seen[a][p], times,
				     "198.18.%d.%d port #%d probed %u times, expected %u", a >> 8,
				     a & 255, p, seen[a][p], times);
}

/* Two shards run one after the other find together what one unsharded run finds. */
Test(lab, shards_together_equal_unsharded, .init = setup, .fini = teardown, .timeout = 300)
{
	char out[3][256], err[3][256];
	struct lab_set s0, s1, whole;
	int rc;

	for (int i = 0; i < 3; i++) {
		snprintf(out[i], sizeof(out[i]), "%s/shard%d.csv", dir, i);
		snprintf(err[i], sizeof(err[i]), "%s/shard%d.err", dir, i);
	}
	rc = run_scan(EAL_NOHUGE, "--seed 21 --shards 2 --shard 0", out[0], err[0]);
	cr_assert_eq(rc, 0, "shard 0 exited %d", rc);
	rc = run_scan(EAL_NOHUGE, "--seed 21 --shards 2 --shard 1", out[1], err[1]);
	cr_assert_eq(rc, 0, "shard 1 exited %d", rc);
	rc = run_scan(EAL_NOHUGE, "--seed 21", out[2], err[2]);
	cr_assert_eq(rc, 0, "unsharded run exited %d", rc);
	cr_assert_eq(lab_sh("grep -q 'sent 8192,' %s && grep -q 'sent 8192,' %s", err[0], err[1]),
		     0, "each of 2 shards must send half of the 16384 probes");
	cr_assert_eq(lab_read_results(out[0], &s0), 0);
	cr_assert_eq(lab_read_results(out[1], &s1), 0);
	check_against_truth(out[2], &whole);
	cr_assert_eq(lab_set_common(&s0, &s1), 0, "the shards' results overlap");
	cr_assert_eq(lab_set_common(&s0, &whole) + lab_set_common(&s1, &whole), whole.n,
		     "shards together miss results of the unsharded run");
	cr_assert_eq(s0.n + s1.n, whole.n, "shards together found %zu, unsharded %zu", s0.n + s1.n,
		     whole.n);
	lab_set_free(&s0);
	lab_set_free(&s1);
	lab_set_free(&whole);
}

/*
 * -t stops sending mid-scan and writes a resume file; `ppscan --resume FILE` with no other
 * argument continues: together every target is probed exactly once (capture) and the
 * appended output equals the truth.
 */
Test(lab, resume_probes_every_target_exactly_once, .init = setup, .fini = teardown, .timeout = 300)
{
	char out[256], err1[256], err2[256], pcap[256], resume[256];
	struct lab_set got;
	size_t probes, unique;
	int cap, rc;

	snprintf(out, sizeof(out), "%s/resumed.csv", dir);
	snprintf(err1, sizeof(err1), "%s/first.err", dir);
	snprintf(err2, sizeof(err2), "%s/second.err", dir);
	snprintf(pcap, sizeof(pcap), "%s/resume.pcap", dir);
	snprintf(resume, sizeof(resume), "%s/paused.conf", dir);

	cap = lab_capture_start(NS_TGT, IF_TGT, pcap,
				"tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack == 0");
	rc = lab_sh("cd %s && ip netns exec %s %s " EAL_NOHUGE
		    " --vdev net_af_packet0,iface=%s -- " SCAN_OPTS
		    " -r 4000 -T 1 -t 1.5 -c 3 --seed 31 --resume-file %s -o %s"
		    " 198.18.0.0/20 2>%s",
		    dir, NS_SCAN, PPSCAN_BIN, IF_SCAN, resume, out, err1);
	if (rc != 0 || lab_sh("grep -q 'resume state saved' %s", err1) != 0)
		lab_sh("cat %s >&2", err1);
	cr_assert_eq(rc, 0, "first run exited %d", rc);
	cr_assert_eq(lab_sh("grep -q 'resume state saved' %s", err1), 0,
		     "no resume file announced");
	cr_assert_eq(lab_sh("test -s %s", resume), 0, "no resume file written");
	rc = lab_sh("cd %s && ip netns exec %s %s --resume %s 2>%s", dir, NS_SCAN, PPSCAN_BIN,
		    resume, err2);
	cr_assert_eq(rc, 0, "resumed run exited %d (stderr in %s)", rc, err2);
	lab_capture_stop(cap);

	probes = check_capture(pcap, &unique);
	cr_assert_eq(probes, 16384, "both runs sent %zu probes, expected 16384", probes);
	assert_each_target_probed(1);
	check_against_truth(out, &got); /* also fails on a second CSV header */
	lab_set_free(&got);
}

/* -P 2: every target gets exactly two SYNs; each result is still reported once. */
Test(lab, two_probes_per_target_one_result_each, .init = setup, .fini = teardown, .timeout = 300)
{
	char out[256], err[256], pcap[256];
	struct lab_set got;
	size_t probes, unique;
	int cap, rc;

	snprintf(out, sizeof(out), "%s/p2.csv", dir);
	snprintf(err, sizeof(err), "%s/p2.err", dir);
	snprintf(pcap, sizeof(pcap), "%s/p2.pcap", dir);
	cap = lab_capture_start(NS_TGT, IF_TGT, pcap,
				"tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack == 0");
	rc = run_scan(EAL_NOHUGE, "--seed 41 -P 2", out, err);
	cr_assert_eq(rc, 0, "ppscan -P 2 exited %d", rc);
	lab_capture_stop(cap);
	probes = check_capture(pcap, &unique);
	cr_assert_eq(probes, 2 * 16384, "capture shows %zu probes", probes);
	assert_each_target_probed(2);
	check_against_truth(out, &got);
	cr_assert_eq(got.n, 15104, "results reported more than once");
	lab_set_free(&got);
}

/*
 * Several source addresses: the target resolves each with ARP, so ppscan must answer for all
 * of them (not only the first), and answers to each validate: the result equals the truth.
 */
Test(lab, several_source_addresses_each_answer_arp, .init = setup, .fini = teardown, .timeout = 300)
{
	char out[256], err[256];
	struct lab_set got;
	int rc;

	snprintf(out, sizeof(out), "%s/multi.csv", dir);
	snprintf(err, sizeof(err), "%s/multi.err", dir);
	rc = run_scan(EAL_NOHUGE, "-S 198.19.0.2-198.19.0.5 --seed 51", out, err);
	cr_assert_eq(rc, 0, "ppscan with four source addresses exited %d", rc);
	check_against_truth(out, &got);
	lab_set_free(&got);
	/* the target's neighbour table learned every source address from our ARP replies */
	for (int i = 2; i <= 5; i++)
		cr_assert_eq(lab_sh("ip -n %s neigh show 198.19.0.%d | grep -qv FAILED", NS_TGT, i),
			     0, "198.19.0.%d never resolved", i);
}

/* Asserts the RST counts of a finished scan (stderr @err) and the target's counters. */
static void check_rsts(const char *tag, const char *err, long long embryonic_rsts,
		       long long synack_retrans, int rst_on)
{
	long long open = lab_summary_value(err, "open"), dup = lab_summary_value(err, "duplicates");
	long long rst = lab_summary_value(err, "connections");

	cr_assert_gt(open, 10000, "%s: %lld open", tag, open);
	if (!rst_on) {
		cr_assert_eq(lab_sh("grep -q 'connections: off (--no-rst)' %s", err), 0,
			     "%s: the summary does not say the RSTs are off", tag);
		cr_assert_eq(embryonic_rsts, 0, "%s: %lld half-open connections reset", tag,
			     embryonic_rsts);
		return;
	}
	cr_assert_eq(lab_summary_value(err, "not sent"), 0, "%s: RSTs not sent", tag);
	/* one RST per genuine SYN-ACK (a repeat included), none for anything else */
	cr_assert(rst >= open && rst <= open + dup, "%s: %lld RSTs for %lld open + %lld repeats",
		  tag, rst, open, dup);
	/* each closed a half-open connection on the target, before it retransmitted its SYN-ACK */
	cr_assert_geq(embryonic_rsts * 1000, open * 999, "%s: the target reset %lld of %lld", tag,
		      embryonic_rsts, open);
	cr_assert_leq(synack_retrans * 100, open, "%s: %lld SYN-ACKs retransmitted", tag,
		      synack_retrans);
}

/* Every genuine SYN-ACK is answered with a RST (RFC 793), so the target holds nothing half-open. */
Test(lab, synacks_are_answered_with_rsts, .init = setup, .fini = teardown, .timeout = 240)
{
	char out[256], err[256];
	struct lab_set got;
	long long e0, r0, e1, r1, e2;
	int rc;

	snprintf(out, sizeof(out), "%s/rst.csv", dir);
	snprintf(err, sizeof(err), "%s/rst.err", dir);
	e0 = lab_netstat(NS_TGT, "EmbryonicRsts");
	r0 = lab_netstat(NS_TGT, "TCPSynRetrans");
	cr_assert(e0 >= 0 && r0 >= 0, "cannot read the target's /proc/net/netstat");
	rc = run_scan(EAL_NOHUGE, "--seed 13", out, err);
	cr_assert_eq(rc, 0, "ppscan exited %d; stderr in %s", rc, err);
	e1 = lab_netstat(NS_TGT, "EmbryonicRsts");
	r1 = lab_netstat(NS_TGT, "TCPSynRetrans");
	check_against_truth(out, &got);
	lab_set_free(&got);
	check_rsts("default", err, e1 - e0, r1 - r0, 1);

	snprintf(out, sizeof(out), "%s/norst.csv", dir);
	snprintf(err, sizeof(err), "%s/norst.err", dir);
	rc = run_scan(EAL_NOHUGE, "--seed 14 --no-rst", out, err);
	cr_assert_eq(rc, 0, "ppscan --no-rst exited %d; stderr in %s", rc, err);
	e2 = lab_netstat(NS_TGT, "EmbryonicRsts");
	check_against_truth(out, &got);
	lab_set_free(&got);
	check_rsts("--no-rst", err, e2 - e1, 0, 0);
}

/*
 * -T 2 on af_packet with qpairs=2, as README says: the kernel spreads the responses over both
 * queue pairs' sockets (PACKET_FANOUT), so both RX queues must be read: the gateway's ARP reply
 * and every SYN-ACK and RST, whichever socket they land on.
 */
Test(lab, two_senders_on_two_queue_pairs_miss_nothing, .init = setup, .fini = teardown,
     .timeout = 240)
{
	char out[256], err[256];
	struct lab_set got;
	int rc;

	snprintf(out, sizeof(out), "%s/qpairs.csv", dir);
	snprintf(err, sizeof(err), "%s/qpairs.err", dir);
	/* main + 2 TX + 1 RX lcores on 2 cores */
	rc = run_scan_vdev("--no-huge -m 256 --no-shconf --no-telemetry --no-pci "
			   "--lcores=0@0,1@0,2@1,3@0",
			   ",qpairs=2", "-T 2 --seed 17", out, err);
	cr_assert_eq(rc, 0, "ppscan -T 2 with qpairs=2 exited %d; stderr in %s", rc, err);
	check_against_truth(out, &got);
	lab_set_free(&got);
	cr_assert_eq(lab_summary_value(err, "duplicates"), 0,
		     "SYN-ACKs answered late (retransmitted ones reached the scanner)");
}

/*
 * A port on a tun device (no Ethernet header): ppscan refuses it with one line naming the
 * interface and exit 2, and writes nothing into it (the device's TX counter stays 0).
 * Its own namespace, no lab.
 */
Test(lab, a_tun_port_is_refused, .timeout = 120)
{
	char err[] = "/tmp/ppscan-tun-err-XXXXXX";
	int fd = mkstemp(err), rc;

	cr_assert_geq(fd, 0);
	close(fd);
	lab_sh("ip netns del ppstun15 2>/dev/null");
	cr_assert_eq(
		lab_sh("ip netns add ppstun15 && ip -n ppstun15 tuntap add ppstun0 mode tun && "
		       "ip -n ppstun15 link set ppstun0 up"),
		0);
	rc = lab_sh("ip netns exec ppstun15 " PPSCAN_BIN " " EAL_NOHUGE
		    " --vdev net_af_packet0,iface=ppstun0 -- -S 198.19.0.2 -G 02:00:00:00:00:01"
		    " -b /dev/null -p 80 198.18.0.1 2>%s",
		    err);
	cr_expect_eq(rc, 2, "exit %d, expected 2", rc);
	cr_expect_eq(lab_sh("grep -q \"interface 'ppstun0'.*no Ethernet header\" %s", err), 0,
		     "no line naming the tun device");
	cr_expect_eq(lab_sh("ip netns exec ppstun15 sh -c 'cd /sys/class/net/ppstun0/statistics "
			    "&& test $(($(cat tx_packets) + $(cat tx_dropped))) = 0'"),
		     0, "frames went into the tun device");
	lab_sh("ip netns del ppstun15");
	unlink(err);
}

/*
 * -S is an address of this host (here: of the scan namespace's veth): ppscan says, as
 * ppscan-pcap does, that the kernel answers SYN-ACKs with RSTs of its own, which its
 * receive path then sees leave (the "not ours" count), and the results are still right.
 */
Test(lab, host_source_address_gets_the_note, .init = setup, .fini = teardown, .timeout = 240)
{
	char out[256], err[256];
	struct lab_set got;

	snprintf(out, sizeof(out), "%s/host.csv", dir);
	snprintf(err, sizeof(err), "%s/host.err", dir);
	cr_assert_eq(lab_sh("ip -n %s addr add 198.19.0.2/24 dev %s", NS_SCAN, IF_SCAN), 0);
	cr_assert_eq(run_scan(EAL_NOHUGE, "", out, err), 0, "scan failed; stderr in %s", err);
	cr_expect_eq(lab_sh("grep -q 'note: 198.19.0.2 is this host.s address.*not ours' %s", err),
		     0, "no note about the kernel's RSTs in %s", err);
	check_against_truth(out, &got);
	lab_set_free(&got);
}

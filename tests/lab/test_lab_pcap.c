/*
 * ppscan-pcap end to end in the lab (root): the kernel-stack scanner over 198.18.0.0/20 x
 * {22,80,443,8080} against the target namespace's Linux TCP stack, held to the same bar as
 * ppscan (precision 100%, recall >= 99.9% against netlab.sh truth); the same probes as ppscan
 * and as --dryrun for the same seed (compared in a capture: addresses, ports, source ports and
 * sequence numbers); interface facts from the kernel (source address, route, neighbour table,
 * our own ARP); raw-IP links (tun) get bare IPv4 packets; loopback; and the refusals: bad input
 * and a missing CAP_NET_RAW exit 2 with one line and put nothing on the wire.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab_util.h"

#define LAB "ppsp3"
#define NS_SCAN LAB "-scan"
#define NS_TGT LAB "-tgt"
#define IF_SCAN LAB "s"
#define IF_TGT LAB "t"
#define BLOCK "-b " PPS_SOURCE_DIR "/scripts/lab-blocklist.conf"
#define PORTS "-p 22,80,443,8080"
#define RUN "-r 20000 -c 4 -q --output-closed"
#define LAB_OPTS BLOCK " -S 198.19.0.2 --gateway-ip 198.19.0.1 " PORTS " " RUN
#define EAL "--no-huge -m 256 --no-shconf --no-telemetry --no-pci -l 0-1"
#define SYN_ONLY "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn"

static char dir[] = "/tmp/ppscan-pcap-lab-XXXXXX";

static void setup(void)
{
	lab_suite_setup(LAB, dir);
}

static void teardown(void)
{
	lab_suite_teardown(LAB, dir);
}

/* ppscan-pcap in the scan namespace with @opts; results to dir/@tag.csv, stderr to .err */
static int run_pcap(const char *opts, const char *tag)
{
	return lab_sh("cd %s && ip netns exec %s %s -i %s %s -o %s.csv 198.18.0.0/20 2>%s.err", dir,
		      NS_SCAN, PPSCAN_PCAP_BIN, IF_SCAN, opts, tag, tag);
}

static void path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

Test(lab_pcap, scan_matches_truth, .init = setup, .fini = teardown, .timeout = 240)
{
	char out[256], err[256], pcap[256];
	struct lab_set got, probes;
	int cap, rc;

	path(out, sizeof(out), "pcap.csv");
	path(err, sizeof(err), "pcap.err");
	path(pcap, sizeof(pcap), "probes.pcap");
	cap = lab_capture_start(NS_TGT, IF_TGT, pcap, SYN_ONLY);
	rc = run_pcap(LAB_OPTS " --seed 11", "pcap");
	lab_capture_stop(cap);
	cr_assert_eq(rc, 0, "ppscan-pcap exited %d; stderr in %s", rc, err);
	lab_assert_truth(out, "", NULL, NULL, &got);
	cr_assert_eq(lab_read_probes(pcap, &probes), 0, "non-probe frames in the SYN capture");
	cr_assert_eq(probes.n, 16384, "capture shows %zu probes, expected 16384", probes.n);
	cr_assert_eq(lab_summary_value(err, "sent"), 16384, "summary lacks 'sent 16384'");
	cr_assert_eq(lab_summary_value(err, "invalid"), 0);
	lab_set_free(&got);
	lab_set_free(&probes);
}

/*
 * Every genuine SYN-ACK is answered with a RST (198.19.0.2 is not the scan namespace's own
 * address, so its kernel sends none): the target resets each half-open connection and does
 * not retransmit; --no-rst sends none.
 */
Test(lab_pcap, synacks_are_answered_with_rsts, .init = setup, .fini = teardown, .timeout = 240)
{
	char err[256];
	long long e0, r0, e1, r1, e2, open, dup, rst;
	int rc;

	path(err, sizeof(err), "rst.err");
	e0 = lab_netstat(NS_TGT, "EmbryonicRsts");
	r0 = lab_netstat(NS_TGT, "TCPSynRetrans");
	cr_assert(e0 >= 0 && r0 >= 0, "cannot read the target's /proc/net/netstat");
	rc = run_pcap(LAB_OPTS " --seed 13", "rst");
	cr_assert_eq(rc, 0, "ppscan-pcap exited %d; stderr in %s", rc, err);
	e1 = lab_netstat(NS_TGT, "EmbryonicRsts");
	r1 = lab_netstat(NS_TGT, "TCPSynRetrans");
	open = lab_summary_value(err, "open");
	dup = lab_summary_value(err, "duplicates");
	rst = lab_summary_value(err, "connections");
	cr_assert_gt(open, 10000);
	cr_assert(rst >= open && rst <= open + dup, "%lld RSTs for %lld open + %lld repeats", rst,
		  open, dup);
	cr_assert_eq(lab_summary_value(err, "not sent"), 0);
	cr_assert_geq((e1 - e0) * 1000, open * 999, "the target reset %lld of %lld", e1 - e0, open);
	cr_assert_leq((r1 - r0) * 100, open, "%lld SYN-ACKs retransmitted", r1 - r0);

	path(err, sizeof(err), "norst.err");
	rc = run_pcap(LAB_OPTS " --seed 14 --no-rst", "norst");
	cr_assert_eq(rc, 0, "ppscan-pcap --no-rst exited %d; stderr in %s", rc, err);
	e2 = lab_netstat(NS_TGT, "EmbryonicRsts");
	cr_assert_eq(lab_sh("grep -q 'connections: off (--no-rst)' %s", err), 0);
	cr_assert_eq(e2 - e1, 0, "%lld half-open connections reset with --no-rst", e2 - e1);
}

/*
 * Same seed, targets and ports: ppscan (DPDK af_packet), ppscan-pcap with each send method
 * and with two sender threads put the same probes on the wire as --dryrun lists (same
 * sequence numbers and source ports) and report the same result set.
 */
Test(lab_pcap, same_probes_and_results_as_ppscan, .init = setup, .fini = teardown, .timeout = 600)
{
	static const char *const runs[][2] = {
		{ "ppscan", "" },
		{ "ring", "--send-method ring" },
		{ "mmsg", "--send-method mmsg" },
		{ "inject", "--send-method inject" },
		{ "t2", "-T 2" },
	};
	char file[256], dry[256];
	struct lab_set expect, first = { 0 };
	int rc;

	path(dry, sizeof(dry), "dryrun.csv");
	rc = lab_sh("%s %s -S 198.19.0.2 " PORTS " --seed 7 --dryrun 198.18.0.0/20 >%s 2>/dev/null",
		    PPSCAN_PCAP_BIN, BLOCK, dry);
	cr_assert_eq(rc, 0, "--dryrun exited %d", rc);
	cr_assert_eq(lab_read_lines(dry, 1, &expect), 0);
	cr_assert_eq(expect.n, 16384);
	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
		const char *tag = runs[r][0];
		char opts[512], out[256], err[256];
		struct lab_set probes, got;
		int cap;

		snprintf(file, sizeof(file), "%s/%s.pcap", dir, tag);
		snprintf(out, sizeof(out), "%s/%s.csv", dir, tag);
		snprintf(err, sizeof(err), "%s/%s.err", dir, tag);
		cap = lab_capture_start(NS_TGT, IF_TGT, file, SYN_ONLY);
		if (!strcmp(tag, "ppscan")) {
			rc = lab_sh("cd %s && ip netns exec %s %s " EAL
				    " --vdev net_af_packet0,iface=%s -- " LAB_OPTS
				    " --seed 7 -o %s 198.18.0.0/20 2>%s",
				    dir, NS_SCAN, PPSCAN_BIN, IF_SCAN, out, err);
		} else {
			snprintf(opts, sizeof(opts), LAB_OPTS " --seed 7 %s", runs[r][1]);
			rc = run_pcap(opts, tag);
		}
		lab_capture_stop(cap);
		cr_assert_eq(rc, 0, "%s exited %d; stderr in %s", tag, rc, err);
		cr_assert_eq(lab_read_probes(file, &probes), 0, "%s: non-probe frames captured",
			     tag);
		cr_assert_eq(probes.n, expect.n, "%s: %zu probes on the wire, --dryrun lists %zu",
			     tag, probes.n, expect.n);
		cr_assert(lab_set_equal(&probes, &expect),
			  "%s: %zu of the probes on the wire differ from --dryrun's", tag,
			  probes.n - lab_set_common(&probes, &expect));
		lab_assert_truth(out, "", NULL, NULL, &got);
		if (!first.n) {
			first = got;
		} else {
			cr_assert(lab_set_equal(&got, &first),
				  "%s reports %zu results, ppscan %zu (%zu in common)", tag, got.n,
				  first.n, lab_set_common(&got, &first));
			lab_set_free(&got);
		}
		lab_set_free(&probes);
	}
	lab_set_free(&first);
	lab_set_free(&expect);
}

/*
 * Interface facts from the kernel: with 198.19.0.2/24 on the scan interface and a route to
 * the targets via 198.19.0.1, no -S and no gateway option are needed: the source comes from
 * the route, the gateway from the routing table, its MAC from our ARP request (empty
 * neighbour table) or from the neighbour table when it has an entry.
 */
Test(lab_pcap, interface_facts_from_the_kernel, .init = setup, .fini = teardown, .timeout = 240)
{
	char out[256], err[256];
	struct lab_set got;
	int rc;

	rc = lab_sh("ip -n %s addr add 198.19.0.2/24 dev %s && ip -n %s link set %s arp on && "
		    "ip -n %s route add 198.18.0.0/20 via 198.19.0.1",
		    NS_SCAN, IF_SCAN, NS_SCAN, IF_SCAN, NS_SCAN);
	cr_assert_eq(rc, 0, "cannot configure the scan interface");
	path(out, sizeof(out), "facts.csv");
	path(err, sizeof(err), "facts.err");
	rc = run_pcap(BLOCK " " PORTS " " RUN " --seed 5", "facts");
	cr_assert_eq(rc, 0, "ppscan-pcap exited %d; stderr in %s", rc, err);
	cr_assert_eq(lab_sh("grep -q 'source 198.19.0.2 (this host' %s", err), 0,
		     "the banner does not name the interface's address as this host's");
	cr_assert_eq(
		lab_sh("grep -q \"gateway MAC $(ip -n %s -br link show %s | awk '{print $3}')\" %s",
		       NS_TGT, IF_TGT, err),
		0, "the gateway MAC is not the target veth's");
	cr_assert_eq(lab_sh("grep -q 'RST' %s", err), 0, "no note about the kernel's RSTs");
	lab_assert_truth(out, "", NULL, NULL, &got);
	lab_set_free(&got);

	/* A (deliberately wrong) permanent neighbour entry wins over ARP. */
	rc = lab_sh(
		"ip -n %s neigh replace 198.19.0.1 lladdr 02:00:00:00:00:99 dev %s nud permanent",
		NS_SCAN, IF_SCAN);
	cr_assert_eq(rc, 0);
	rc = run_pcap(BLOCK " -p 22 -c 0 -q --seed 5", "neigh");
	cr_assert_eq(rc, 0, "ppscan-pcap exited %d", rc);
	cr_assert_eq(lab_sh("grep -q 'gateway MAC 02:00:00:00:00:99' %s/neigh.err", dir), 0,
		     "the neighbour table's entry was not used");
}

/*
 * A tun device carries bare IPv4: a responder on the tun fd checks that no frame has an
 * Ethernet header and answers every SYN to port 22 with a SYN-ACK (ack = seq + 1), every
 * other port with a RST; ppscan-pcap reads those through pcap's DLT_RAW.
 */
Test(lab_pcap, tun_gets_bare_ip_packets, .init = setup, .fini = teardown, .timeout = 120)
{
	char counts[256], out[256];
	struct lab_set got;
	size_t open = 0, closed = 0;
	int rc;

	path(counts, sizeof(counts), "responder.out");
	path(out, sizeof(out), "tun.csv");
	rc = lab_sh("ip netns exec %s /usr/bin/python3 %s/tests/lab/tun_responder.py --name %s "
		    "--out %s --ready %s/ready --pidfile %s/responder.pid --seconds 60 & "
		    "for i in $(seq 100); do test -e %s/ready && break; sleep 0.1; done; "
		    "test -e %s/ready",
		    NS_SCAN, PPS_SOURCE_DIR, LAB "tun", counts, dir, dir, dir, dir);
	cr_assert_eq(rc, 0, "the tun responder did not start");
	rc = lab_sh("cd %s && ip netns exec %s %s -i %s %s -S 198.19.0.2 -p 22,80 -r 5000 -c 1 -q "
		    "--output-closed -o tun.csv 198.18.0.0/24 2>tun.err",
		    dir, NS_SCAN, PPSCAN_PCAP_BIN, LAB "tun", BLOCK);
	lab_sh("kill $(cat %s/responder.pid) 2>/dev/null; sleep 0.2", dir);
	cr_assert_eq(rc, 0, "ppscan-pcap on tun exited %d; stderr in %s/tun.err", rc, dir);
	/* 512 bare IPv4 probes and a correct RST for each of the 256 SYN-ACKs, nothing else */
	cr_assert_eq(
		lab_sh("grep -qx 'syn 512 rst 256 badrst 0 ipv4 768 ethernet 0' %s", counts), 0,
		"the responder did not read exactly 512 bare IPv4 probes and 256 RSTs (see %s)",
		counts);
	cr_assert_eq(lab_read_results(out, &got), 0);
	for (size_t i = 0; i < got.n; i++) {
		open += strstr(got.items[i], ",22,open") != NULL;
		closed += strstr(got.items[i], ",80,closed") != NULL;
	}
	cr_assert_eq(got.n, 512, "%zu results on tun, expected 512", got.n);
	cr_assert_eq(open, 256, "%zu open, expected 256 (port 22)", open);
	cr_assert_eq(closed, 256, "%zu closed, expected 256 (port 80)", closed);
	lab_set_free(&got);
}

/*
 * Loopback: an Ethernet-shaped header with zero addresses and no ARP. Frames sent on lo come
 * back as received packets from a local address, which Linux drops as martians unless
 * accept_local is set: without it ppscan-pcap refuses (exit 2, naming the sysctl); with it, in
 * the target namespace, whose lo holds 198.18.0.0/20, a scan from 198.18.15.1 (one of its
 * addresses) finds the open and closed ports of 198.18.0.0/24 that the truth lists.
 */
Test(lab_pcap, loopback_scan, .init = setup, .fini = teardown, .timeout = 120)
{
	static const char *const ports[] = { "22", "8080", NULL };
	char out[256];
	struct lab_set got;
	int rc;

	path(out, sizeof(out), "lo.csv");
	rc = lab_sh("ip netns exec %s %s -i lo %s -S 198.18.15.1 -p 22 198.18.0.0/24 "
		    ">/dev/null 2>%s/lo-refused.err",
		    NS_TGT, PPSCAN_PCAP_BIN, BLOCK, dir);
	cr_assert_eq(rc, 2, "lo without accept_local: exit %d, expected 2", rc);
	cr_assert_eq(lab_sh("grep -q 'accept_local' %s/lo-refused.err", dir), 0,
		     "the refusal does not name the accept_local sysctl");
	cr_assert_eq(lab_sh("ip netns exec %s sysctl -qw net.ipv4.conf.lo.accept_local=1", NS_TGT),
		     0);
	rc = lab_sh("cd %s && ip netns exec %s %s -i lo %s -S 198.18.15.1 -p 22,8080 -r 5000 -c 1 "
		    "-q --output-closed -o lo.csv 198.18.0.0/24 2>lo.err",
		    dir, NS_TGT, PPSCAN_PCAP_BIN, BLOCK);
	cr_assert_eq(rc, 0, "ppscan-pcap on lo exited %d; stderr in %s/lo.err", rc, dir);
	lab_assert_truth(out, "198.18.0.", ports, NULL, &got);
	lab_set_free(&got);
}

/* Bad input, an unknown interface, or no CAP_NET_RAW: one line naming it, exit 2, no frame. */
Test(lab_pcap, refusals_exit_2_and_send_nothing, .init = setup, .fini = teardown, .timeout = 240)
{
	static const struct {
		const char *pre;  /* before the command (privilege changes) */
		const char *args; /* after -i IFACE, before the targets */
		const char *needle;
	} cases[] = {
		{ "", "-p 80 198.18.0.0/33", "'198.18.0.0/33'" },
		{ "", "-p 0 198.18.0.0/24", "'0'" },
		{ "", "-p 80 -r abc 198.18.0.0/24", "'abc'" },
		{ "", "-p 80 -G zz:11:22:33:44:55 198.18.0.0/24", "'zz:11:22:33:44:55'" },
		{ "", "-p 80 --pcap-buffer 12 198.18.0.0/24", "'12'" },
		{ "", "-p 80 --send-method fast 198.18.0.0/24", "'fast'" },
		{ "", "-p 80 -i nosuchif0 198.18.0.0/24", "'nosuchif0'" },
		{ "setpriv --inh-caps=-net_raw --bounding-set=-net_raw", "-p 80 198.18.0.0/24",
		  "CAP_NET_RAW" },
		{ "setpriv --reuid=65534 --regid=65534 --clear-groups", "-p 80 198.18.0.0/24",
		  "CAP_NET_RAW" },
	};
	char pcap[256], err[256];
	struct lab_set probes;
	int cap;

	path(pcap, sizeof(pcap), "refusals.pcap");
	path(err, sizeof(err), "refusal.err");
	cap = lab_capture_start(NS_TGT, IF_TGT, pcap, "not arp");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = lab_sh("cd /tmp && ip netns exec %s %s %s -i %s %s -S 198.19.0.2 "
				"--gateway-ip 198.19.0.1 %s -o /dev/null 2>%s",
				NS_SCAN, cases[i].pre, PPSCAN_PCAP_BIN, IF_SCAN, BLOCK,
				cases[i].args, err);
		cr_expect_eq(rc, 2, "'%s %s' exited %d, expected 2", cases[i].pre, cases[i].args,
			     rc);
		cr_expect_eq(lab_sh("test $(wc -l < %s) -eq 1", err), 0,
			     "'%s %s' printed more or less than one line", cases[i].pre,
			     cases[i].args);
		cr_expect_eq(lab_sh("grep -qF -- \"%s\" %s", cases[i].needle, err), 0,
			     "'%s %s': the line does not name %s", cases[i].pre, cases[i].args,
			     cases[i].needle);
	}
	lab_capture_stop(cap);
	cr_assert_eq(lab_read_probes(pcap, &probes), 0, "refused runs put frames on the wire");
	cr_assert_eq(probes.n, 0, "refused runs sent %zu probes", probes.n);
	lab_set_free(&probes);
}

/*
 * A start that fails after the options were fine (no ARP reply from the gateway: exit 1)
 * leaves nothing behind: no -o file, no -u, --status-json or -m file, no CSV header on
 * stdout, and a file that existed (empty) is still empty.
 */
Test(lab_pcap, failed_start_leaves_no_output, .init = setup, .fini = teardown, .timeout = 120)
{
	char err[256];
	int rc;

	path(err, sizeof(err), "nogw.err");
	rc = lab_sh("cd %s && : > existing.csv && ip netns exec %s %s -i %s " BLOCK
		    " -S 198.19.0.2 --gateway-ip 198.19.0.99 -p 80 -o nogw.csv -u nogw.u "
		    "--status-json nogw.json -m nogw.meta 198.18.0.0/28 2>%s",
		    dir, NS_SCAN, PPSCAN_PCAP_BIN, IF_SCAN, err);
	cr_assert_eq(rc, 1, "exited %d, expected 1 (no ARP reply)", rc);
	cr_assert_eq(lab_sh("grep -q \"no ARP reply from gateway 198.19.0.99 (from --gateway-ip) "
			    "on '%s'\" %s",
			    IF_SCAN, err),
		     0, "the message does not name the gateway and the interface");
	cr_expect_neq(lab_sh("test -e %s/nogw.csv", dir), 0, "-o file left behind");
	cr_expect_neq(lab_sh("test -e %s/nogw.u", dir), 0, "-u file left behind");
	cr_expect_neq(lab_sh("test -e %s/nogw.json", dir), 0, "--status-json file left behind");
	cr_expect_neq(lab_sh("test -e %s/nogw.meta", dir), 0, "-m file left behind");
	/* stdout: nothing at all */
	rc = lab_sh("cd %s && ip netns exec %s %s -i %s " BLOCK
		    " -S 198.19.0.2 --gateway-ip 198.19.0.99 -p 80 198.18.0.0/28 >stdout.txt 2>%s",
		    dir, NS_SCAN, PPSCAN_PCAP_BIN, IF_SCAN, err);
	cr_assert_eq(rc, 1);
	cr_expect_eq(lab_sh("test ! -s %s/stdout.txt", dir), 0, "the CSV header went to stdout");
	rc = lab_sh(
		"cd %s && ip netns exec %s %s -i %s " BLOCK
		" -S 198.19.0.2 --gateway-ip 198.19.0.99 -p 80 -o existing.csv 198.18.0.0/28 2>%s",
		dir, NS_SCAN, PPSCAN_PCAP_BIN, IF_SCAN, err);
	cr_assert_eq(rc, 1);
	cr_expect_eq(lab_sh("test ! -s %s/existing.csv", dir), 0, "a header went into the file");
	/* one on-link target without a gateway route: the message says it is the target */
	cr_assert_eq(lab_sh("ip -n %s route add 198.18.100.5/32 dev %s", NS_SCAN, IF_SCAN), 0);
	rc = lab_sh("cd %s && ip netns exec %s %s -i %s " BLOCK
		    " -S 198.19.0.2 -p 80 198.18.100.5 -o onlink.csv 2>%s",
		    dir, NS_SCAN, PPSCAN_PCAP_BIN, IF_SCAN, err);
	cr_assert_eq(rc, 1, "exited %d, expected 1", rc);
	cr_expect_eq(
		lab_sh("grep -q \"no ARP reply from the target 198.18.100.5 itself on '%s'\" %s",
		       IF_SCAN, err),
		0, "the message does not say the next hop is the target");
	cr_expect_neq(lab_sh("test -e %s/onlink.csv", dir), 0, "-o file left behind");
}

/*
 * Forged responses (root, lab): while ppscan and then ppscan-pcap scan 198.18.0.0/23 x {22,80}
 * with a fixed seed, tests/lab/forge_responses.py sends from the target namespace SYN-ACKs
 * with a wrong ack, from an unprobed address, from an unprobed port, to a wrong source port,
 * and RSTs with a wrong ack, all about 198.18.1.0/24 (whose real answers the lab drops), plus
 * one correct SYN-ACK as a control. Neither binary reports a forged tuple (the results are
 * exactly the truth plus the control) and each counts every forged packet as invalid. With
 * --banners, forged data segments (forge_responses.py --data) are never recorded either.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab_util.h"

#define LAB "ppsp3b"
#define NS_SCAN LAB "-scan"
#define NS_TGT LAB "-tgt"
#define IF_SCAN LAB "s"
#define OPTS                                                                                       \
	"-b " PPS_SOURCE_DIR "/scripts/lab-blocklist.conf -S 198.19.0.2 --gateway-ip 198.19.0.1 "  \
	"-p 22,80 -r 5000 -c 8 -q --output-closed --seed 99"
#define TARGETS "198.18.0.0/23"
#define EAL "--no-huge -m 256 --no-shconf --no-telemetry --no-pci -l 0-1"

static char dir[] = "/tmp/ppscan-forged-XXXXXX";

static void setup(void)
{
	lab_suite_setup(LAB, dir);
	cr_assert_eq(lab_sh("%s " OPTS " --dryrun " TARGETS " >%s/dry.csv 2>/dev/null",
			    PPSCAN_PCAP_BIN, dir),
		     0, "--dryrun failed");
}

static void teardown(void)
{
	lab_suite_teardown(LAB, dir);
}

/*
 * Runs @scanner (a shell command line writing results to @tag.csv and stderr to @tag.err) in
 * the background, forges once its banner is out, waits for it; checks the outcome.
 */
static void scan_under_forgery(const char *tag, const char *scanner, const char *banner)
{
	char out[256], err[256], forged[256], control[64] = "";
	long long invalid, sent, open, dup, rst;
	struct lab_set got;
	FILE *f;
	int n = -1, rc;

	snprintf(out, sizeof(out), "%s/%s.csv", dir, tag);
	snprintf(err, sizeof(err), "%s/%s.err", dir, tag);
	snprintf(forged, sizeof(forged), "%s/%s.forged", dir, tag);
	rc = lab_sh(
		"cd %s && { %s -o %s " TARGETS " 2>%s; echo $? >%s.rc; } & "
		"for i in $(seq 100); do grep -q '%s' %s 2>/dev/null && break; sleep 0.1; done; "
		"ip netns exec %s /usr/bin/python3 %s/tests/lab/forge_responses.py --dryrun %s/dry.csv "
		"--src 198.19.0.2 >%s; f=$?; wait; exit $f",
		dir, scanner, out, err, tag, banner, err, NS_TGT, PPS_SOURCE_DIR, dir, forged);
	cr_assert_eq(rc, 0, "%s: the forger failed (exit %d)", tag, rc);
	cr_assert_eq(lab_sh("test \"$(cat %s/%s.rc)\" = 0", dir, tag), 0,
		     "%s: the scanner failed; stderr in %s", tag, err);
	f = fopen(forged, "r");
	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "invalid %d control %63s", &n, control), 2,
		     "%s: cannot read the forger's report", tag);
	fclose(f);
	strcat(control, ",open");
	/* exactly the truth for 198.18.0.0/24 x {22,80} (198.18.1.0/24 is filtered) + control */
	lab_assert_truth(out, "198.18.0.", (const char *const[]){ "22", "80", NULL }, control,
			 &got);
	cr_assert_eq(got.n, 513, "%s: %zu results, expected 512 + the control", tag, got.n);
	lab_set_free(&got);
	sent = lab_summary_value(err, "sent");
	invalid = lab_summary_value(err, "invalid");
	cr_assert_eq(sent, 1024, "%s: sent %lld probes, expected 1024", tag, sent);
	cr_assert_geq(invalid, n, "%s: %lld counted invalid, %d forged invalid", tag, invalid, n);
	/* a RST for each genuine SYN-ACK (the control included), none for a forgery */
	open = lab_summary_value(err, "open");
	dup = lab_summary_value(err, "duplicates");
	rst = lab_summary_value(err, "connections");
	cr_assert(rst >= open && rst <= open + dup, "%s: %lld RSTs for %lld open + %lld repeats",
		  tag, rst, open, dup);
}

/*
 * --banners: forged data segments (wrong ack, unprobed address, unprobed port, wrong source
 * port, bad checksum, a RST in place of the data) about 198.18.1.0/24 x 22 while ppscan-pcap
 * scans: none is recorded, the one genuine-looking segment is (classification data, its
 * bytes), and the forgeries are counted invalid.
 */
Test(lab_forged, banners_record_no_forged_data, .init = setup, .fini = teardown, .timeout = 240)
{
	char cmd[1024], control[64] = "";
	long long invalid;
	FILE *f;
	int n = -1, rc;

	snprintf(cmd, sizeof(cmd),
		 "ip netns exec %s %s -i %s " OPTS " --banners -f saddr,sport,classification,data_len",
		 NS_SCAN, PPSCAN_PCAP_BIN, IF_SCAN);
	rc = lab_sh("cd %s && { %s -o %s/b.csv " TARGETS " 2>%s/b.err; echo $? >%s/b.rc; } & "
		    "for i in $(seq 100); do grep -q 'ppscan-pcap: interface' %s/b.err 2>/dev/null "
		    "&& break; sleep 0.1; done; ip netns exec %s /usr/bin/python3 "
		    "%s/tests/lab/forge_responses.py --data --dryrun %s/dry.csv --src 198.19.0.2 "
		    ">%s/b.forged; f=$?; wait; exit $f",
		    dir, cmd, dir, dir, dir, dir, NS_TGT, PPS_SOURCE_DIR, dir, dir);
	cr_assert_eq(rc, 0, "the forger failed (exit %d)", rc);
	cr_assert_eq(lab_sh("test \"$(cat %s/b.rc)\" = 0", dir), 0, "ppscan-pcap failed");
	snprintf(cmd, sizeof(cmd), "%s/b.forged", dir);
	f = fopen(cmd, "r");
	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "invalid %d control %63s", &n, control), 2);
	fclose(f);
	/* 198.18.1.0/24 answers nothing for real: its only result is the control's data */
	cr_assert_eq(lab_sh("test \"$(grep -c '^198\\.18\\.1\\.' %s/b.csv)\" = 1", dir), 0,
		     "forged data recorded: %s/b.csv", dir);
	cr_assert_eq(lab_sh("grep -q '^%s,data,20$' %s/b.csv", control, dir), 0,
		     "the control segment %s is not recorded as data", control);
	snprintf(cmd, sizeof(cmd), "%s/b.err", dir);
	invalid = lab_summary_value(cmd, "invalid");
	cr_assert_geq(invalid, n, "%lld counted invalid, %d forged", invalid, n);
}

Test(lab_forged, ppscan_ignores_and_counts_forgeries, .init = setup, .fini = teardown,
     .timeout = 240)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "ip netns exec %s %s " EAL " --vdev net_af_packet0,iface=%s -- " OPTS, NS_SCAN,
		 PPSCAN_BIN, IF_SCAN);
	scan_under_forgery("ppscan", cmd, "ppscan: port");
}

Test(lab_forged, ppscan_pcap_ignores_and_counts_forgeries, .init = setup, .fini = teardown,
     .timeout = 240)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "ip netns exec %s %s -i %s " OPTS, NS_SCAN, PPSCAN_PCAP_BIN,
		 IF_SCAN);
	scan_under_forgery("pcap", cmd, "ppscan-pcap: interface");
}

/*
 * test_bpf.c - the pcap backend's receive filter (pps_probe_bpf()) compiled by the real
 * libpcap and run over frames (pcap_offline_filter(), the same BPF program the kernel runs):
 * SYN-ACKs and RSTs to our addresses and port range pass untagged, with one 802.1Q tag and
 * as QinQ (802.1ad outer, 802.1Q inner; two 802.1Q tags), as the DPDK backend's parser
 * takes them; ARP requests for our addresses too; anything else is dropped in the kernel.
 */
#include <criterion/criterion.h>
#include <pcap/pcap.h>
#include <string.h>

#include "probe/pps_probe.h"
#include "unit_util.h"

/* An Ethernet frame with @n_tags tags (@tpid[k]) carrying IPv4/TCP @flags from 198.18.0.7:80
 * to @dst_h:@dport, or an ARP request for @dst_h (@arp). Returns its length. */
static size_t frame(uint8_t *f, const uint16_t *tpid, unsigned n_tags, int arp, uint32_t dst_h,
		    uint16_t dport, uint8_t flags)
{
	size_t n = 12;
	uint8_t *l3;

	memset(f, 0, 128);
	memset(f, 0x02, 12);
	for (unsigned k = 0; k < n_tags; k++) {
		f[n++] = (uint8_t)(tpid[k] >> 8);
		f[n++] = (uint8_t)tpid[k];
		f[n++] = 0;
		f[n++] = (uint8_t)(10 + k);
	}
	f[n++] = arp ? 0x08 : 0x08;
	f[n++] = arp ? 0x06 : 0x00;
	l3 = f + n;
	if (arp) {
		static const uint8_t head[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };

		memcpy(l3, head, 8);
		l3[24] = (uint8_t)(dst_h >> 24);
		l3[25] = (uint8_t)(dst_h >> 16);
		l3[26] = (uint8_t)(dst_h >> 8);
		l3[27] = (uint8_t)dst_h;
		return n + 28;
	}
	l3[0] = 0x45;
	l3[3] = 40;
	l3[8] = 64;
	l3[9] = 6;
	l3[12] = 198, l3[13] = 18, l3[14] = 0, l3[15] = 7;
	l3[16] = (uint8_t)(dst_h >> 24), l3[17] = (uint8_t)(dst_h >> 16);
	l3[18] = (uint8_t)(dst_h >> 8), l3[19] = (uint8_t)dst_h;
	l3[20] = 0, l3[21] = 80;
	l3[22] = (uint8_t)(dport >> 8), l3[23] = (uint8_t)dport;
	l3[32] = 0x50;
	l3[33] = flags;
	return n + 40;
}

Test(bpf, tagged_and_qinq_responses_pass_the_filter)
{
	static const uint16_t none[1], one[1] = { 0x8100 }, qinq[2] = { 0x88a8, 0x8100 },
				       two[2] = { 0x8100, 0x8100 };
	static const struct {
		const uint16_t *tpid;
		unsigned n;
	} tags[] = { { none, 0 }, { one, 1 }, { qinq, 2 }, { two, 2 } };
	struct pps_config cfg;
	struct bpf_program prog;
	char *errtext, filter[8192];
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	uint8_t f[128];

	cr_assert_not_null(p);
	cr_assert_eq(ut_parse_args(&cfg, PPS_BACKEND_PCAP,
				   ARGV("--dryrun", "-S", "192.0.2.1", "-s", "40000-40100", "-p",
					"80", "1.2.3.4"),
				   &errtext),
		     PPS_PARSE_OK, "%s", errtext);
	free(errtext);
	cr_assert_gt(pps_probe_bpf(&cfg, 1, 1, filter, sizeof(filter)), 0);
	cr_assert_eq(pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN), 0, "%s: %s", filter,
		     pcap_geterr(p));
	for (size_t t = 0; t < sizeof(tags) / sizeof(tags[0]); t++) {
		struct {
			int arp;
			uint32_t dst;
			uint16_t dport;
			uint8_t flags;
			int pass;
		} c[] = {
			{ 0, 0xc0000201, 40050, 0x12, 1 }, /* SYN-ACK to us */
			{ 0, 0xc0000201, 40050, 0x14, 1 }, /* RST-ACK */
			{ 0, 0xc0000201, 40050, 0x02, 0 }, /* a SYN: our own kind */
			{ 0, 0xc0000202, 40050, 0x12, 0 }, /* another address */
			{ 0, 0xc0000201, 40101, 0x12, 0 }, /* outside the port range */
			{ 1, 0xc0000201, 0, 0, 1 },	   /* ARP request for us */
			{ 1, 0xc0000209, 0, 0, 0 },	   /* ARP request for another */
		};

		for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
			struct pcap_pkthdr h = { 0 };

			h.len = h.caplen = (bpf_u_int32)frame(f, tags[t].tpid, tags[t].n, c[i].arp,
							      c[i].dst, c[i].dport, c[i].flags);
			cr_expect_eq(pcap_offline_filter(&prog, &h, f) != 0, c[i].pass,
				     "%u tag(s) (first 0x%04x), case %zu: %s", tags[t].n,
				     tags[t].n ? tags[t].tpid[0] : 0, i,
				     c[i].pass ? "dropped" : "passed");
		}
	}
	pcap_freecode(&prog);
	pcap_close(p);
	pps_config_free(&cfg);
}

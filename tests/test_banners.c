/*
 * --banners (tcp_synscan): the first-payload table, the ClientHello, the answer to a SYN-ACK
 * (ACK + PSH with the port's payload, seq = cookie + 1, ack = its seq + 1), the validation
 * of what comes after (ack = cookie + 1 + the payload's length, checksums) and the output
 * side's naming of the first bytes (TLS ServerHello, data/fingerprints).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "pps_banner.h"
#include "pps_checksum.h"
#include "pps_hostcount.h"
#include "pps_cookie.h"
#include "pps_ring.h"
#include "pps_scan.h"
#include "probe/pps_first_payload.h"
#include "probe/probe_tcp_synscan.h"
#include "unit_scan.h"
#include "unit_util.h"

#define SRC "198.19.0.2"
#define SRC_IP 0xc6130002u
#define TGT_IP 0xc612000au /* 198.18.0.10 */

Test(banners, table_has_a_payload_for_every_port)
{
	struct pps_first_table t;
	char why[256] = "";
	const struct pps_first_payload *p;

	cr_assert_eq(pps_first_table_load(&t, NULL, "first-payloads.conf", "svc.lab.test", why,
					  sizeof(why)),
		     0, "%s", why);
	p = pps_first_payload_for(&t, 80);
	cr_assert_str_eq(p->name, "http");
	cr_assert(p->len > 20 && !memcmp(p->bytes, "GET / HTTP/1.1\r\nHost: svc.lab.test\r\n", 36));
	cr_assert_eq(p->bytes[p->len - 1], '\n');
	p = pps_first_payload_for(&t, 22);
	cr_assert_str_eq(p->name, "ssh");
	cr_assert_eq(p->len, 0, "SSH servers speak first");
	p = pps_first_payload_for(&t, 443);
	cr_assert_str_eq(p->name, "tls");
	cr_assert(p->len > 100 && p->bytes[0] == 0x16 && p->bytes[5] == 1);
	cr_assert(memmem(p->bytes, p->len, "svc.lab.test", 12), "server_name from --sni");
	p = pps_first_payload_for(&t, 12345);
	cr_assert_str_eq(p->name, "generic");
	cr_assert(p->len > 100 && p->bytes[0] == 0x16, "unknown ports get the ClientHello");
	pps_first_table_free(&t);
}

Test(banners, bad_tables_are_one_line)
{
	struct pps_first_table t;
	char why[256] = "";

	cr_assert_eq(pps_first_table_load(&t, "80 http \"x\"\n", "t.conf", NULL, why, sizeof(why)),
		     -EINVAL);
	cr_assert(strstr(why, "no default line"), "%s", why);
	pps_first_table_free(&t);
	cr_assert_eq(pps_first_table_load(&t, "80 http\ndefault g \"\"\n", "t.conf", NULL, why,
					  sizeof(why)),
		     -EINVAL);
	cr_assert(strstr(why, "t.conf:1"), "%s", why);
	pps_first_table_free(&t);
}

Test(banners, client_hello_lengths_are_consistent)
{
	uint8_t b[1460];
	int n = pps_tls_client_hello(b, sizeof(b), NULL);

	cr_assert_gt(n, 100);
	cr_assert_eq(ut_get16(b + 3), n - 5, "record length");
	cr_assert_eq((unsigned)(b[6] << 16 | b[7] << 8 | b[8]), (unsigned)n - 9,
		     "handshake length");
	cr_assert_eq(ut_get16(b + 9), 0x0303);
	cr_assert(memmem(b, (size_t)n, "\x00\x2b\x00\x05\x04\x03\x04\x03\x03", 9),
		  "supported_versions 1.3, 1.2");
	cr_assert_eq(pps_tls_client_hello(b, 50, NULL), -ENOSPC);
}

struct rx {
	struct pps_config cfg;
	struct pps_scan s;
	struct pps_ring *ring;
	struct pps_counters c;
	uint8_t frame[256];
	struct pps_pkt pkt[PPS_BURST];
};

static void rx_setup(struct rx *x)
{
	memset(x, 0, sizeof(*x));
	ut_scan_from(&x->cfg, &x->s, PPS_BACKEND_PCAP,
		     ARGV(DRY_NOBL, "--banners", "-S", SRC, "--seed", "5", "-p", "22,80",
			  "198.18.0.10"));
	x->ring = pps_ring_new(64);
	cr_assert_eq(pps_ring_set_extra(x->ring, x->cfg.banner_bytes), 0);
}

static void rx_teardown(struct rx *x)
{
	pps_ring_free(x->ring);
	pps_scan_fini(&x->s);
	pps_config_free(&x->cfg);
}

static uint32_t cookie_of(const struct rx *x, uint16_t port, uint16_t sport)
{
	return (uint32_t)pps_cookie(&x->s.key, TGT_IP, port, SRC_IP, sport);
}

/* Judges frame @f; returns its verdict and whether the module answers it (*@reply). */
static enum pps_verdict judge(struct rx *x, const struct ut_frame *f, int *reply)
{
	const uint8_t *frames[1] = { x->frame };
	uint32_t lens[1];
	struct pps_rx_burst b = { 0 };

	lens[0] = (uint32_t)ut_build(x->frame, f);
	b.n = 1;
	b.frames = frames;
	b.lens = lens;
	b.with_ethernet = 1;
	b.c = &x->c;
	b.ring = x->ring;
	b.pkt = x->pkt;
	pps_scan_classify(&x->s, &b);
	*reply = (int)(b.reply & 1);
	return (enum pps_verdict)x->pkt[0].verdict;
}

static struct ut_frame from_target(const struct rx *x, uint16_t port, uint32_t ack, uint8_t flags,
				   int payload)
{
	struct ut_frame f = ut_synack();

	(void)x;
	f.saddr = TGT_IP;
	f.daddr = SRC_IP;
	f.sport = port;
	f.dport = 40000;
	f.ack = ack;
	f.flags = flags;
	f.payload = payload;
	return f;
}

Test(banners, synack_gets_the_first_payload)
{
	struct rx x;
	int reply;
	uint32_t ck;
	struct ut_frame f;
	uint8_t out[PPS_FRAME_MAX];
	uint16_t len;
	const uint8_t *ip, *tcp;
	const struct pps_first_payload *fp;

	rx_setup(&x);
	ck = cookie_of(&x, 80, 40000);
	f = from_target(&x, 80, ck + 1, 0x12, 0);
	cr_assert_eq(judge(&x, &f, &reply), PPS_V_SYNACK);
	cr_assert_eq(reply, 1);
	len = pps_synscan_fill_first(&x.s, &x.pkt[0].tcp, out);
	fp = pps_first_payload_for(&pps_synscan_state(&x.s)->first, 80);
	ip = out + 14;
	tcp = ip + 20;
	cr_assert_eq(len, 14 + 40 + fp->len);
	cr_assert_eq(ut_get32(ip + 12), SRC_IP);
	cr_assert_eq(ut_get32(ip + 16), TGT_IP);
	cr_assert_eq(ut_get16(tcp), 40000);
	cr_assert_eq(ut_get16(tcp + 2), 80);
	cr_assert_eq(ut_get32(tcp + 4), ck + 1, "seq = cookie + 1");
	cr_assert_eq(ut_get32(tcp + 8), 0x11223344u + 1, "ack = the SYN-ACK's seq + 1");
	cr_assert_eq(tcp[13], 0x18, "ACK + PSH");
	cr_assert(!memcmp(tcp + 20, "GET / HTTP/1.1\r\n", 16));
	cr_assert(pps_csum_ipv4_tcp_ok(ip, 20, 20u + fp->len), "checksums");
	cr_assert_eq(ut_csum(ip, 20, 0), 0);
	/* a retransmitted SYN-ACK is answered again */
	cr_assert_eq(judge(&x, &f, &reply), PPS_V_SYNACK);
	cr_assert_eq(reply, 1);
	rx_teardown(&x);
}

Test(banners, data_is_recorded_only_with_the_right_ack)
{
	struct rx x;
	int reply;
	uint32_t ck = 0, plen;
	struct ut_frame f;
	struct pps_result r[8];
	uint8_t xb[8 * 512];
	size_t n;

	rx_setup(&x);
	ck = cookie_of(&x, 80, 40000);
	plen = pps_synscan_first_len(pps_synscan_state(&x.s), 80);
	/* forged: wrong ack (one off either way, the SYN-ACK's ack), bad checksum, wrong port */
	f = from_target(&x, 80, ck + plen, 0x18, 40);
	cr_assert_eq(judge(&x, &f, &reply), PPS_V_BAD_COOKIE);
	f.ack = ck + plen + 2;
	cr_assert_eq(judge(&x, &f, &reply), PPS_V_BAD_COOKIE);
	f.ack = ck + 1;
	cr_assert_eq(judge(&x, &f, &reply), PPS_V_BAD_COOKIE);
	f = from_target(&x, 80, ck + 1 + plen, 0x18, 40);
	f.dport = 40001; /* another source port's cookie */
	cr_assert_neq(judge(&x, &f, &reply), PPS_V_DATA);
	f = from_target(&x, 80, ck + 1 + plen, 0x18, 40);
	f.saddr = TGT_IP + 1; /* unprobed address */
	cr_assert_eq(judge(&x, &f, &reply), PPS_V_NOT_TARGET);
	f = from_target(&x, 8080, ck + 1 + plen, 0x18, 40); /* unprobed port */
	cr_assert_eq(judge(&x, &f, &reply), PPS_V_NOT_TARGET);
	f = from_target(&x, 80, ck + 1 + plen, 0x18, 40);
	f.window ^= 1;
	ut_build(x.frame, &f);
	{
		/* corrupt the payload after building: the checksum no longer holds */
		struct ut_frame g = f;
		const uint8_t *frames[1] = { x.frame };
		uint32_t lens[1] = { (uint32_t)ut_build(x.frame, &g) };
		struct pps_rx_burst b = { .n = 1,
					  .frames = frames,
					  .lens = lens,
					  .with_ethernet = 1,
					  .c = &x.c,
					  .ring = x.ring,
					  .pkt = x.pkt };

		x.frame[14 + 40 + 3] ^= 0x20;
		pps_scan_classify(&x.s, &b);
		cr_assert_eq(x.pkt[0].verdict, PPS_V_BAD_CHECKSUM);
		cr_assert_eq(b.reply, 0, "no answer to a bad segment");
	}
	cr_assert_eq(pps_ring_pop_extra(x.ring, r, xb, 8), 0, "nothing forged is recorded");
	/* the genuine one: recorded with its bytes, answered with the RST */
	f = from_target(&x, 80, ck + 1 + plen, 0x18, 40);
	cr_assert_eq(judge(&x, &f, &reply), PPS_V_DATA);
	cr_assert_eq(reply, 1);
	cr_assert_eq(judge(&x, &f, &reply), PPS_V_DATA, "a retransmission: answered again");
	cr_assert_eq(reply, 1);
	n = pps_ring_pop_extra(x.ring, r, xb, 8);
	cr_assert_eq(n, 1, "one result per endpoint");
	cr_assert_eq(r[0].classification, PPS_CLASS_DATA);
	cr_assert_eq(r[0].banner.data_len_h, 40);
	cr_assert_eq(r[0].extra, 1);
	cr_assert(!memcmp(xb, "abcdefghij", 10));
	/* server-first port 22: data acks cookie + 1; FIN and RST classified */
	ck = cookie_of(&x, 22, 40002);
	f = from_target(&x, 22, ck + 1, 0x11, 0);
	f.dport = 40002;
	cr_assert_eq(judge(&x, &f, &reply), PPS_V_FIN);
	cr_assert_eq(reply, 1, "a FIN is answered with the RST");
	n = pps_ring_pop_extra(x.ring, r, xb, 8);
	cr_assert_eq(n, 1);
	cr_assert_eq(r[0].classification, PPS_CLASS_FIN);
	ck = cookie_of(&x, 80, 40003);
	f = from_target(&x, 80, ck + 1 + plen, 0x14, 0);
	f.dport = 40003;
	cr_assert_eq(judge(&x, &f, &reply), PPS_V_RST_DATA);
	cr_assert_eq(reply, 0, "a RST is never answered");
	rx_teardown(&x);
}

Test(banners, first_bytes_are_named)
{
	char why[256] = "";
	struct pps_banner_out *b = pps_banner_new(4, 512, why, sizeof(why));
	struct pps_fp_match m;
	static const uint8_t ssh[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";
	static const uint8_t http[] = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n\r\n";
	/* a ServerHello: TLS 1.2 legacy version, supported_versions 1.3, suite 0x1302 */
	uint8_t sh[128] = { 0x16, 3, 3, 0, 0, 2, 0, 0, 0, 3, 3 };
	size_t n = 11 + 32;

	cr_assert(b, "%s", why);
	sh[n++] = 0; /* session id */
	sh[n++] = 0x13;
	sh[n++] = 0x02;
	sh[n++] = 0;
	sh[n++] = 0;
	sh[n++] = 6;
	memcpy(sh + n, "\x00\x2b\x00\x02\x03\x04", 6);
	n += 6;
	sh[4] = (uint8_t)(n - 5);
	sh[8] = (uint8_t)(n - 9);
	cr_assert_eq(pps_banner_identify(b->db, sh, n, &m), 1);
	cr_assert_str_eq(m.protocol, "tls");
	cr_assert_str_eq(m.version, "TLSv1.3");
	cr_assert_str_eq(m.product, "0x1302");
	cr_assert_eq(pps_banner_identify(b->db, ssh, sizeof(ssh) - 1, &m), 1);
	cr_assert_str_eq(m.protocol, "ssh");
	cr_assert_str_eq(m.product, "OpenSSH");
	cr_assert_eq(pps_banner_identify(b->db, http, sizeof(http) - 1, &m), 1);
	cr_assert_str_eq(m.protocol, "http");
	cr_assert_str_eq(m.product, "nginx", "from the Server header");
	cr_assert_str_eq(m.version, "1.22.1");
	cr_assert_eq(pps_banner_identify(b->db, (const uint8_t *)"220 x ESMTP Postfix\r\n", 21, &m),
		     1);
	cr_assert_str_eq(m.protocol, "smtp");
	cr_assert_eq(pps_banner_identify(b->db, (const uint8_t *)"220 hello\r\n", 11, &m), 0,
		     "a bare 220 is FTP or SMTP: not guessed");
	cr_assert_eq(pps_banner_identify(b->db, (const uint8_t *)"qqqq", 4, &m), 0);
	/* nginx's h2c port answering GET /: SETTINGS (3 settings), then GOAWAY */
	static const uint8_t h2[] = { 0, 0, 18, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 128, 0, 4, 0,
				      1, 0, 0, 0, 5, 0, 255, 255, 255, 0, 0, 8, 7, 0, 0, 0,
				      0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	cr_assert_eq(pps_banner_identify(b->db, h2, sizeof(h2), &m), 1);
	cr_assert_str_eq(m.protocol, "http2");
	/* binary noise is not named by a file that reads a field (x11's vendor catch-all) */
	static const uint8_t noise[] = { 0, 7, 1, 2, 'a', 'b', 'c', 9, 8, 7, 6, 5 };
	cr_assert_eq(pps_banner_identify(b->db, noise, sizeof(noise), &m), 0, "%s", m.protocol);
	cr_assert_eq(pps_banner_identify(b->db, (const uint8_t *)"The X.Org Foundation", 20, &m),
		     0, "%s", m.protocol);
	cr_assert_eq(pps_banner_identify(b->db,
					 (const uint8_t *)":irc.lab.test NOTICE * :*** Looking up "
							  "your hostname\r\n",
					 54, &m),
		     1);
	cr_assert_str_eq(m.protocol, "irc");
	pps_banner_free(b);
}

Test(banners, bad_options_are_refused)
{
	struct pps_config cfg;
	char *err = NULL;

	cr_assert_neq(ut_parse_args(&cfg, PPS_BACKEND_PCAP,
				    ARGV(DRY_NOBL, "--banners", "--sni", "a\r\nX: y", "198.18.0.1"),
				    &err),
		      PPS_PARSE_OK);
	cr_assert(strstr(err, "--sni"), "%s", err);
	free(err);
	pps_config_free(&cfg);
	cr_assert_neq(ut_parse_args(&cfg, PPS_BACKEND_PCAP,
				    ARGV(DRY_NOBL, "--banners", "--no-rst", "198.18.0.1"), &err),
		      PPS_PARSE_OK);
	cr_assert(strstr(err, "--no-rst"), "%s", err);
	free(err);
	pps_config_free(&cfg);
	cr_assert_neq(ut_parse_args(&cfg, PPS_BACKEND_PCAP,
				    ARGV(DRY_NOBL, "--banners", "-M", "udp", "198.18.0.1"), &err),
		      PPS_PARSE_OK);
	cr_assert(strstr(err, "-M udp"), "%s", err);
	free(err);
	pps_config_free(&cfg);
}

/* The middlebox rule of ppscan and ppscan-id (pps_hostcount.h) and its per-address table. */
Test(banners, middlebox_counts_and_rule)
{
	struct pps_hostcount h;

	cr_assert_eq(pps_hostcount_init(&h), 0);
	/* 200,000 addresses: the table grows well past its first 1024 slots */
	for (uint32_t ip = 0; ip < 200000; ip++)
		cr_assert_eq(pps_hostcount_add(&h, 0xc6120000u + ip * 7), 1);
	for (unsigned k = 2; k <= 30; k++)
		cr_assert_eq(pps_hostcount_add(&h, 0xc6120000u + 7 * 12345), k);
	cr_assert_eq(pps_hostcount_get(&h, 0xc6120000u + 7 * 12345), 30);
	cr_assert_eq(pps_hostcount_get(&h, 0xc6120000u + 7 * 199999), 1);
	cr_assert_eq(pps_hostcount_get(&h, 0x0a000001u), 0);
	cr_assert_eq(h.untracked, 0);
	pps_hostcount_free(&h);
	cr_assert_eq(pps_hostcount_add(&h, 1), 0, "a freed table counts nothing");

	/* at least --middlebox-ports open, and more than half of the probed ports */
	cr_expect(pps_middlebox(16, 20, 16));
	cr_expect(!pps_middlebox(15, 20, 16));
	cr_expect(!pps_middlebox(16, 32, 16), "exactly half is not most");
	cr_expect(pps_middlebox(17, 32, 16));
	cr_expect(pps_middlebox(16, 0, 16), "probed ports unknown: the count alone");
	cr_expect(!pps_middlebox(1000, 65535, 16));
}

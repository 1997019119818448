/*
 * test_udp.c - the udp probe module: the payload table (built-in and users', every error
 * naming file and line), the probes (burst = one at a time, byte for byte; checksums, the
 * cookie's source port, IP ID and echo bytes), the judging of replies and ICMP errors built
 * from those probes (genuine ones reported once, every kind of forgery rejected), the output
 * fields (hex, escaped text, CSV and JSON), shards of the dry run.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <unistd.h>

#include "output/pps_fields.h"
#include "output/pps_output.h"
#include "pps_checksum.h"
#include "pps_parse.h"
#include "pps_ring.h"
#include "pps_scan.h"
#include "probe/probe_udp.h"
#include "unit_scan.h"
#include "unit_util.h"

#define SRC "198.19.0.2"
#define SRC_IP 0xc6130002u

static void scan_from(struct pps_config *cfg, struct pps_scan *s, char **argv)
{
	ut_scan_from(cfg, s, PPS_BACKEND_PCAP, argv);
}

/* ---- the payload table ---- */

static int table(const char *text, char *why)
{
	struct pps_udp_table t;
	int rc = pps_udp_table_parse(&t, text, "my.conf", why, 256);

	pps_udp_table_free(&t);
	return rc;
}

Test(udp_table, builtin_parses_with_the_named_services)
{
	static const struct {
		uint16_t port;
		const char *name;
	} want[] = { { 53, "dns" },
		     { 123, "ntp" },
		     { 161, "snmp" },
		     { 1900, "ssdp" },
		     { 11211, "memcached" },
		     { 137, "netbios-ns" },
		     { 3478, "stun" },
		     { 5683, "coap" },
		     { 5060, "sip" },
		     { 500, "ike" },
		     { 1194, "openvpn" },
		     { 5353, "mdns" },
		     { 3702, "ws-discovery" },
		     { 69, "tftp" },
		     { 111, "portmapper" },
		     { 443, "quic" } };
	struct pps_udp_table t;
	char why[256];

	cr_assert_eq(pps_udp_table_from_args(&t, NULL, why, sizeof(why)), 0, "%s", why);
	cr_assert_geq(t.n, 16);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert_str_eq(pps_udp_table_get(&t, want[i].port)->name, want[i].name);
	cr_assert_eq(pps_udp_table_get(&t, 9999)->len, 0, "ports without a line: empty");
	cr_assert_eq(pps_udp_table_get(&t, 69)->any_sport, 1);
	cr_assert_eq(pps_udp_table_get(&t, 161)->echo, PPS_UDP_ECHO_SNMP);
	cr_assert_eq(pps_udp_table_get(&t, 5060)->n_text, 2);
	cr_assert_eq(pps_udp_table_get(&t, 443)->len, 1200);
	cr_assert_eq(t.max_len, 1200);
	pps_udp_table_free(&t);
}

Test(udp_table, formats)
{
	struct pps_udp_table t;
	char why[256];
	const struct pps_udp_payload *p;

	cr_assert_eq(pps_udp_table_parse(&t,
					 "# comment\n"
					 "\n"
					 "53,5353 dns echo=0+2 hex:0000 0100\t00 01\n"
					 "  1000-1002\tx  \"a\\r\\n\\x41\\\\\\\"\\0\"  # trailing\n"
					 "5060 sip \"id=${cookie};b=${cookie}\"\n"
					 "123 ntp echo=40+8@24 hex:23000000000000000000000000000000"
					 "00000000000000000000000000000000"
					 "00000000000000000000000000000000\n"
					 "69 tftp sport=any \"\"\n",
					 "my.conf", why, sizeof(why)),
		     0, "%s", why);
	p = pps_udp_table_get(&t, 5353);
	cr_assert_str_eq(p->name, "dns");
	cr_assert_eq(p->len, 6);
	cr_assert_eq(p->bytes[2], 1);
	cr_assert_eq(p->echo, PPS_UDP_ECHO_AT);
	cr_assert_eq(p->off, 0);
	cr_assert_eq(p->clen, 2);
	for (unsigned q = 1000; q <= 1002; q++)
		cr_assert_str_eq(pps_udp_table_get(&t, (uint16_t)q)->name, "x");
	p = pps_udp_table_get(&t, 1001);
	cr_assert_eq(p->len, 7);
	cr_assert_arr_eq(p->bytes, "a\r\nA\\\"\0", 7);
	p = pps_udp_table_get(&t, 5060);
	cr_assert_eq(p->n_text, 2);
	cr_assert_eq(p->text_off[0], 3);
	cr_assert_eq(p->text_off[1], 3 + 16 + 3);
	cr_assert_eq(p->len, 3 + 16 + 3 + 16);
	p = pps_udp_table_get(&t, 123);
	cr_assert_eq(p->roff, 24);
	cr_assert_eq(p->len, 48);
	cr_assert_eq(pps_udp_table_get(&t, 69)->len, 0);
	cr_assert_eq(t.n_any_sport, 1);
	cr_assert_eq(t.any_sport[0], 69);
	pps_udp_table_free(&t);
}

Test(udp_table, errors_name_file_and_line)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "53 dns hex:0g\n", "my.conf:1: payload: '0g' is not a pair of hex digits" },
		{ "#\n53 dns hex:00\n53 again hex:00\n",
		  "my.conf:3: port 53 has a payload already (dns)" },
		{ "0 x hex:00\n", "my.conf:1: bad port in '0' (1 to 65535)" },
		{ "70000 x hex:00\n", "my.conf:1: bad port in '70000' (1 to 65535)" },
		{ "10-5 x hex:00\n", "my.conf:1: bad port range in '10-5'" },
		{ "53\n", "my.conf:1: a name must follow the ports" },
		{ "53 d!ns hex:00\n", "my.conf:1: bad name 'd!ns' (1 to 23 of A-Z a-z 0-9 _ . -)" },
		{ "53 dns\n", "my.conf:1: dns: no payload (hex:... or \"text\")" },
		{ "53 dns echo=0+2\n", "my.conf:1: dns: no payload (hex:... or \"text\")" },
		{ "53 dns bogus hex:00\n",
		  "my.conf:1: unknown check 'bogus' (echo=OFF+LEN[@ROFF|@any], "
		  "snmp-id=OFF, sport=any)" },
		{ "53 dns echo=0+2 hex:00\n",
		  "my.conf:1: dns: cookie bytes 0..1 lie outside the 1-byte payload" },
		{ "53 dns echo=0+17 hex:00\n",
		  "my.conf:1: 'echo=0+17': expected echo=OFF+LEN, LEN 1 to 16" },
		{ "53 dns echo=0+1@x hex:00\n",
		  "my.conf:1: 'echo=0+1@x': expected @REPLY-OFFSET or @any" },
		{ "53 dns echo=0+1 echo=0+1 hex:00\n",
		  "my.conf:1: 'echo=0+1': one echo or snmp-id check per line" },
		{ "161 snmp snmp-id=2 hex:0000000000000000\n",
		  "my.conf:1: snmp: snmp-id=2 does not follow an INTEGER header (02 04)" },
		{ "53 dns \"abc\n", "my.conf:1: payload: no closing quote" },
		{ "53 dns \"a\\q\"\n", "my.conf:1: payload: unknown escape '\\q'" },
		{ "53 dns \"a\" b\n", "my.conf:1: dns: unexpected 'b' after the payload" },
	};
	char why[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		cr_assert_eq(table(bad[i].text, why), -EINVAL, "accepted: %s", bad[i].text);
		cr_assert_str_eq(why, bad[i].why);
	}
}

Test(udp_table, probe_args_forms)
{
	struct pps_udp_table t;
	char why[256], path[] = "/tmp/ppscan-udp-XXXXXX";
	int fd = mkstemp(path);

	cr_assert_eq(pps_udp_table_from_args(&t, "hex:cafe", why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(pps_udp_table_get(&t, 53)->len, 2, "one payload for every port");
	cr_assert_eq(pps_udp_table_get(&t, 53)->bytes[0], 0xca);
	pps_udp_table_free(&t);
	cr_assert_eq(pps_udp_table_from_args(&t, "text:GET /\\r\\n", why, sizeof(why)), 0);
	cr_assert_eq(pps_udp_table_get(&t, 7)->len, 7);
	pps_udp_table_free(&t);
	cr_assert_eq(write(fd, "9 x echo=0+1 \"z\"\n10 y \"\\x\"\n", 27), 27);
	close(fd);
	snprintf(why, sizeof(why), "payloads:%s", path);
	{
		char args[300], want[300];

		snprintf(args, sizeof(args), "%s", why);
		cr_assert_eq(pps_udp_table_from_args(&t, args, why, sizeof(why)), -EINVAL);
		snprintf(want, sizeof(want), "%s:2: payload: \\x needs two hex digits", path);
		cr_assert_str_eq(why, want);
		pps_udp_table_free(&t);
		snprintf(args, sizeof(args), "file:%s", path);
		cr_assert_eq(pps_udp_table_from_args(&t, args, why, sizeof(why)), 0, "%s", why);
		cr_assert_eq(pps_udp_table_get(&t, 1)->len, 27);
		pps_udp_table_free(&t);
	}
	unlink(path);
	cr_assert_eq(pps_udp_table_from_args(&t, "payloads:/nonexistent/x", why, sizeof(why)),
		     -EINVAL);
	cr_assert_str_eq(why, "cannot open '/nonexistent/x': No such file or directory");
	pps_udp_table_free(&t);
	cr_assert_eq(pps_udp_table_from_args(&t, "bogus", why, sizeof(why)), -EINVAL);
	pps_udp_table_free(&t);
}

Test(udp_table, bad_probe_args_are_one_line_and_exit_2)
{
	struct pps_config cfg;
	char *errtext;

	cr_assert_eq(ut_parse_args(&cfg, PPS_BACKEND_PCAP,
				   ARGV(DRY_NOBL, "-M", "udp", "--probe-args", "hex:0", "-p", "53",
					"198.18.0.0/30"),
				   &errtext),
		     PPS_PARSE_ERROR);
	cr_assert_str_eq(errtext, "ppscan-pcap: invalid probe arguments 'hex:0' (from "
				  "--probe-args): payload: '0' is not a pair of hex digits\n");
	free(errtext);
}

/* ---- probes ---- */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#define PORTS "7,53,69,123,161,3478,5060,5683,9999,443"

Test(udp_probe, burst_equals_one_at_a_time_and_frames_are_right)
{
	struct pps_config cfg;
	struct pps_scan s;
	uint8_t *bufs[PPS_BURST], *ref = malloc(2048);
	uint16_t lens[PPS_BURST];
	uint64_t n = 0;

	scan_from(&cfg, &s,
		  ARGV(DRY_NOBL, "-M", "udp", "-S", SRC, "--seed", "7", "-p", PORTS,
		       "198.18.0.0/26"));
	for (unsigned k = 0; k < PPS_BURST; k++)
		bufs[k] = malloc(pps_scan_frame_max(&s));
	for (uint64_t j0 = 0; j0 < s.total; j0 += PPS_BURST) {
		unsigned m = s.total - j0 < PPS_BURST ? (unsigned)(s.total - j0) : PPS_BURST;

		pps_scan_fill_burst(&s, j0, 1, m, bufs, lens);
		for (unsigned k = 0; k < m; k++) {
			const uint8_t *ip = bufs[k] + 14, *udp = ip + 20;
			struct pps_target t;
			const struct pps_udp_payload *p;
			uint64_t h;
			uint8_t c[16], want[PPS_UDP_PAYLOAD_MAX];
			uint16_t len = pps_udp_fill(&s, j0 + k, ref);

			cr_assert_eq(len, lens[k]);
			cr_assert_arr_eq(ref, bufs[k], len, "probe %llu",
					 (unsigned long long)(j0 + k));
			pps_scan_target_at(&s, j0 + k, &t);
			p = pps_udp_table_get(&pps_udp_state(&s)->tab, t.dst_port_h);
			h = pps_cookie(&s.key, t.dst_ip_h, t.dst_port_h, SRC_IP, 0);
			cr_assert_eq(be16(bufs[k] + 12), 0x0800);
			cr_assert_eq(ip[9], 17);
			cr_assert_eq(be32(ip + 12), SRC_IP);
			cr_assert_eq(be32(ip + 16), t.dst_ip_h);
			cr_assert_eq(be16(ip + 4), (uint16_t)(h >> 48), "IP ID from the cookie");
			cr_assert_eq(be16(ip + 2), 28 + p->len);
			cr_assert_eq(be16(udp), 32768 + (uint32_t)h % (61000 - 32768 + 1));
			cr_assert_eq(be16(udp + 2), t.dst_port_h);
			cr_assert_eq(be16(udp + 4), 8 + p->len);
			cr_assert(pps_csum_ipv4_udp_ok(ip, 20, 8 + p->len), "checksums");
			cr_assert_neq(be16(udp + 6), 0, "a UDP checksum is sent");
			/* an independent checksum */
			cr_assert_eq(ut_csum(udp, 8 + p->len,
					     ut_add16(ip + 12, 8, 17u + 8u + p->len)),
				     0);
			pps_udp_cookie_bytes(h, c);
			pps_udp_write_payload(p, c, want);
			cr_assert_arr_eq(udp + 8, want, p->len);
			if (t.dst_port_h == 53)
				cr_assert_arr_eq(udp + 8, c, 2, "DNS ID = cookie bytes");
			if (t.dst_port_h == 161)
				cr_assert_eq(udp[8 + 17] & 0xc0, 0x40,
					     "request-id positive, minimal");
			if (len < 60)
				cr_assert_fail("short frame not padded");
			n++;
		}
	}
	cr_assert_eq(n, 64 * 10);
	for (unsigned k = 0; k < PPS_BURST; k++)
		free(bufs[k]);
	free(ref);
	pps_scan_fini(&s);
	pps_config_free(&cfg);
}

/* ---- replies ---- */

struct rx {
	struct pps_config cfg;
	struct pps_scan s;
	struct pps_ring *ring;
	struct pps_counters c;
};

static void rx_setup(struct rx *x)
{
	memset(x, 0, sizeof(*x));
	scan_from(&x->cfg, &x->s,
		  ARGV(DRY_NOBL, "-M", "udp", "-S", SRC, "--seed", "11", "-p", PORTS,
		       "198.18.0.0/28"));
	x->ring = pps_ring_new(1024);
}

static void rx_teardown(struct rx *x)
{
	pps_ring_free(x->ring);
	pps_scan_fini(&x->s);
	pps_config_free(&x->cfg);
}

/* The probe to @ip_h:@port: its frame into @buf; returns the length. */
static uint16_t probe_to(struct rx *x, uint32_t ip_h, uint16_t port, uint8_t *buf)
{
	for (uint64_t j = 0; j < x->s.total; j++) {
		struct pps_target t;

		pps_scan_target_at(&x->s, j, &t);
		if (t.dst_ip_h == ip_h && t.dst_port_h == port)
			return pps_udp_fill(&x->s, j, buf);
	}
	cr_assert_fail("no probe to %08x:%u", ip_h, port);
	return 0;
}

static void fix_ip(uint8_t *ip, size_t tot)
{
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	ip[10] = ip[11] = 0;
	uint16_t c = ut_csum(ip, 20, 0);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
}

/*
 * The Ethernet header back to the sender of probe frame @probe and an IPv4 header (TTL @ttl,
 * protocol @proto, from @from_h) to the probe's source, into @out. Returns the IPv4 header.
 */
static uint8_t *head_to(const uint8_t *probe, uint32_t from_h, uint8_t ttl, uint8_t proto,
			uint8_t *out)
{
	uint8_t *ip = out + 14;

	memcpy(out, probe + 6, 6);
	memcpy(out + 6, probe, 6);
	out[12] = 8;
	out[13] = 0;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[5] = 77;
	ip[8] = ttl;
	ip[9] = proto;
	ut_put32(ip + 12, from_h);
	memcpy(ip + 16, probe + 14 + 12, 4);
	return ip;
}

/*
 * A reply to probe frame @probe: swapped addresses and ports (sport @from_port, or the
 * probe's destination port for 0), payload @data; checksums right. Returns its length.
 */
static size_t reply_to(const uint8_t *probe, uint16_t from_port, const uint8_t *data, size_t dlen,
		       uint8_t *out)
{
	uint8_t *ip = head_to(probe, be32(probe + 14 + 16), 63, 17, out), *udp = ip + 20;
	uint16_t c;

	if (from_port) {
		udp[0] = (uint8_t)(from_port >> 8);
		udp[1] = (uint8_t)from_port;
	} else {
		memcpy(udp, probe + 34 + 2, 2);
	}
	memcpy(udp + 2, probe + 34, 2);
	udp[4] = (uint8_t)((8 + dlen) >> 8);
	udp[5] = (uint8_t)(8 + dlen);
	udp[6] = udp[7] = 0;
	memcpy(udp + 8, data, dlen);
	c = ut_csum(udp, 8 + dlen, ut_add16(ip + 12, 8, 17u + 8u + (uint32_t)dlen));
	udp[6] = (uint8_t)(c >> 8);
	udp[7] = (uint8_t)c;
	fix_ip(ip, 28 + dlen);
	return 14 + 28 + dlen;
}

/* ICMP type/code from @from_h quoting probe frame @probe (IP header + 8 bytes). */
static size_t icmp_to(const uint8_t *probe, uint32_t from_h, uint8_t type, uint8_t code,
		      uint8_t *out)
{
	uint8_t *ip = head_to(probe, from_h, 64, 1, out), *icmp = ip + 20;
	uint16_t c;

	memset(icmp, 0, 8);
	icmp[0] = type;
	icmp[1] = code;
	memcpy(icmp + 8, probe + 14, 28);
	c = ut_csum(icmp, 36, 0);
	icmp[2] = (uint8_t)(c >> 8);
	icmp[3] = (uint8_t)c;
	fix_ip(ip, 20 + 36);
	return 14 + 20 + 36;
}

static void refix_icmp(uint8_t *frame)
{
	uint8_t *icmp = frame + 34;
	uint16_t c;

	icmp[2] = icmp[3] = 0;
	c = ut_csum(icmp, 36, 0);
	icmp[2] = (uint8_t)(c >> 8);
	icmp[3] = (uint8_t)c;
}

static uint8_t judge(struct rx *x, const uint8_t *frame, size_t len)
{
	struct pps_pkt pkt;

	pps_scan_rx(&x->s, frame, (uint32_t)len, 1, 5000, 0, &x->c, x->ring, &pkt);
	return pkt.verdict;
}

#define T0 0xc6120003u /* 198.18.0.3 */

Test(udp_rx, genuine_replies_and_forgeries)
{
	struct rx x;
	uint8_t probe[2048], f[2048], data[256];
	struct pps_result r;
	size_t len;
	uint16_t plen;

	rx_setup(&x);
	/* DNS: the reply echoes the ID (the probe's first two payload bytes) */
	plen = probe_to(&x, T0, 53, probe);
	memcpy(data, probe + 42, 12);
	data[2] |= 0x80; /* QR */
	len = reply_to(probe, 0, data, 12, f);
	f[42] ^= 1; /* wrong ID */
	reply_to(probe, 0, (uint8_t[]){ (uint8_t)(probe[42] ^ 1), probe[43], 0x81, 0x80 }, 4, f);
	cr_assert_eq(judge(&x, f, 14 + 28 + 4), PPS_V_BAD_ECHO);
	len = reply_to(probe, 0, data, 12, f);
	f[34 + 3] ^= 1; /* to another source port */
	cr_assert_neq(judge(&x, f, len), PPS_V_UDP);
	len = reply_to(probe, 0, data, 12, f);
	f[34 + 7] ^= 0x10; /* UDP checksum wrong */
	cr_assert_eq(judge(&x, f, len), PPS_V_BAD_CHECKSUM);
	len = reply_to(probe, 0, data, 12, f);
	f[14 + 15] = 99; /* from an address not probed */
	fix_ip(f + 14, len - 14);
	cr_assert_eq(judge(&x, f, len), PPS_V_NOT_TARGET);
	len = reply_to(probe, 4444, data, 12, f); /* from a port not probed */
	cr_assert_eq(judge(&x, f, len), PPS_V_NOT_TARGET);
	cr_assert_eq(pps_ring_pop(x.ring, &r, 1), 0, "nothing reported yet");
	len = reply_to(probe, 0, data, 12, f);
	cr_assert_eq(judge(&x, f, len), PPS_V_UDP);
	cr_assert_eq(judge(&x, f, len), PPS_V_UDP, "a repeat is valid");
	cr_assert_eq(pps_ring_pop(x.ring, &r, 1), 1);
	cr_assert_eq(pps_ring_pop(x.ring, &r, 1), 0, "reported once");
	cr_assert_eq(r.probe, PPS_PROBE_UDP);
	cr_assert_eq(r.classification, PPS_UDP_CLASS_UDP);
	cr_assert_eq(r.saddr_h, T0);
	cr_assert_eq(r.sport_h, 53);
	cr_assert_eq(r.daddr_h, SRC_IP);
	cr_assert_eq(r.dport_h, be16(probe + 34));
	cr_assert_eq(r.udp.udp_len_h, 12);
	cr_assert_eq(r.part_len, 12);
	cr_assert_arr_eq(r.udp.data, data, 12);
	cr_assert_eq(r.ttl, 63);
	cr_assert_eq(x.c.open, 1);
	cr_assert_eq(x.c.dup, 1);
	(void)plen;

	/* ICMP port unreachable quoting the probe to 9999: closed; forged quotes are not */
	plen = probe_to(&x, T0, 9999, probe);
	len = icmp_to(probe, T0, 3, 3, f);
	f[34 + 8 + 4] ^= 1; /* quoted IP ID */
	refix_icmp(f);
	cr_assert_eq(judge(&x, f, len), PPS_V_BAD_QUOTE);
	len = icmp_to(probe, T0, 3, 3, f);
	f[34 + 8 + 20 + 1] ^= 1; /* quoted source port */
	refix_icmp(f);
	cr_assert_neq(judge(&x, f, len), PPS_V_PORT_UNREACH);
	len = icmp_to(probe, T0, 3, 3, f);
	f[34 + 8 + 20 + 5] ^= 1; /* quoted UDP length */
	refix_icmp(f);
	cr_assert_eq(judge(&x, f, len), PPS_V_BAD_QUOTE);
	len = icmp_to(probe, T0, 3, 3, f);
	f[34 + 8 + 16 + 3] = 200; /* quoted destination: not a target */
	refix_icmp(f);
	cr_assert_eq(judge(&x, f, len), PPS_V_NOT_TARGET);
	len = icmp_to(probe, T0, 3, 3, f);
	f[34 + 5] ^= 1; /* ICMP checksum */
	cr_assert_eq(judge(&x, f, len), PPS_V_BAD_CHECKSUM);
	len = icmp_to(probe, T0, 11, 0, f); /* time exceeded: no result */
	cr_assert_eq(judge(&x, f, len), PPS_V_BAD_FLAGS);
	cr_assert_eq(pps_ring_pop(x.ring, &r, 1), 0);
	len = icmp_to(probe, T0, 3, 3, f);
	cr_assert_eq(judge(&x, f, len), PPS_V_PORT_UNREACH);
	cr_assert_eq(pps_ring_pop(x.ring, &r, 1), 1);
	cr_assert_eq(r.classification, PPS_UDP_CLASS_PORT_UNREACH);
	cr_assert_eq(r.saddr_h, T0);
	cr_assert_eq(r.sport_h, 9999);
	cr_assert_eq(r.udp.icmp_type, 3);
	cr_assert_eq(r.udp.icmp_code, 3);
	cr_assert_eq(r.udp.icmp_src_h, T0);
	cr_assert_eq(x.c.closed, 1);

	/* a router's host unreachable about the probe to 7: unreach, counted apart */
	probe_to(&x, T0, 7, probe);
	len = icmp_to(probe, 0xc6130001u, 3, 1, f);
	cr_assert_eq(judge(&x, f, len), PPS_V_UNREACH);
	cr_assert_eq(pps_ring_pop(x.ring, &r, 1), 1);
	cr_assert_eq(r.classification, PPS_UDP_CLASS_UNREACH);
	cr_assert_eq(r.udp.icmp_src_h, 0xc6130001u);
	cr_assert_eq(x.c.unreach, 1);
	/* port unreachable from another host than the target: not "closed" */
	probe_to(&x, T0 + 1, 7, probe);
	len = icmp_to(probe, 0xc6130001u, 3, 3, f);
	cr_assert_eq(judge(&x, f, len), PPS_V_UNREACH);
	rx_teardown(&x);
}

Test(udp_rx, echoed_fields_of_each_kind)
{
	struct rx x;
	uint8_t probe[2048], f[2048], d[1300];
	size_t len;

	rx_setup(&x);
	/* NTP: the transmit timestamp comes back as origin (24) */
	probe_to(&x, T0, 123, probe);
	memset(d, 0, 48);
	d[0] = 0x24;
	memcpy(d + 24, probe + 42 + 40, 8);
	len = reply_to(probe, 0, d, 48, f);
	cr_assert_eq(judge(&x, f, len), PPS_V_UDP);
	d[31] ^= 1;
	probe_to(&x, T0 + 1, 123, probe);
	memcpy(d + 24, probe + 42 + 40, 8);
	d[24] ^= 0x80;
	len = reply_to(probe, 0, d, 48, f);
	cr_assert_eq(judge(&x, f, len), PPS_V_BAD_ECHO);
	/* SNMP: request-id found through long-form BER lengths */
	probe_to(&x, T0, 161, probe);
	{
		const uint8_t *rid = probe + 42 + 17;
		uint8_t resp[] = { 0x30, 0x82, 0x00, 0x1a, 0x02,   0x01,   0x01,   0x04,
				   0x06, 'p',  'u',  'b',  'l',	   'i',	   'c',	   0xa2,
				   0x81, 0x0d, 0x02, 0x04, rid[0], rid[1], rid[2], rid[3],
				   0x02, 0x01, 0x00, 0x02, 0x01,   0x00,   0x30,   0x00 };

		len = reply_to(probe, 0, resp, sizeof(resp), f);
		cr_assert_eq(judge(&x, f, len), PPS_V_UDP);
		resp[23] ^= 1;
		probe_to(&x, T0 + 1, 161, probe);
		len = reply_to(probe, 0, resp, sizeof(resp), f);
		cr_assert_eq(judge(&x, f, len), PPS_V_BAD_ECHO);
		len = reply_to(probe, 0, resp, 12, f); /* truncated BER */
		cr_assert_eq(judge(&x, f, len), PPS_V_BAD_ECHO);
	}
	/* SIP: the reply carries the Call-ID (hex cookie digits) */
	probe_to(&x, T0, 5060, probe);
	{
		const char *cid = memmem(probe + 42, 600, "Call-ID: ", 9);
		char text[128];
		int n;

		cr_assert_not_null(cid);
		n = snprintf(text, sizeof(text), "SIP/2.0 200 OK\r\nCall-ID: %.16s\r\n\r\n",
			     cid + 9);
		len = reply_to(probe, 0, (uint8_t *)text, (size_t)n, f);
		cr_assert_eq(judge(&x, f, len), PPS_V_UDP);
		n = snprintf(text, sizeof(text), "SIP/2.0 200 OK\r\nCall-ID: 0123456789abcdef\r\n");
		probe_to(&x, T0 + 1, 5060, probe);
		len = reply_to(probe, 0, (uint8_t *)text, (size_t)n, f);
		cr_assert_eq(judge(&x, f, len), PPS_V_BAD_ECHO);
	}
	/* STUN: the transaction ID at 8..19 */
	probe_to(&x, T0, 3478, probe);
	memcpy(d, probe + 42, 20);
	d[0] = 0x01;
	d[1] = 0x01;
	len = reply_to(probe, 0, d, 20, f);
	cr_assert_eq(judge(&x, f, len), PPS_V_UDP);
	/* TFTP: an answer from a new port (its TID) is the probed port's */
	probe_to(&x, T0, 69, probe);
	len = reply_to(probe, 50123, (const uint8_t *)"\0\5\0\1File not found\0", 19, f);
	cr_assert_eq(judge(&x, f, len), PPS_V_UDP);
	{
		struct pps_result r[8];
		size_t n = pps_ring_pop(x.ring, r, 8);

		cr_assert_eq(n, 5);
		cr_assert_eq(r[4].sport_h, 69, "reported as the probed port");
		cr_assert_eq(r[4].udp.udp_len_h, 19);
	}
	rx_teardown(&x);
}

/* The burst path agrees with frame-by-frame judging (a mix of kinds in one burst). */
Test(udp_rx, burst_equals_single)
{
	struct rx a, b;
	uint8_t probe[2048], fr[8][2048];
	const uint8_t *frames[8];
	uint32_t lens[8];
	struct pps_pkt pkts[8];
	uint8_t dns[4];
	unsigned n = 0;

	rx_setup(&a);
	rx_setup(&b);
	probe_to(&a, T0, 53, probe);
	dns[0] = probe[42];
	dns[1] = probe[43];
	dns[2] = 0x81;
	dns[3] = 0x80;
	lens[n] = (uint32_t)reply_to(probe, 0, dns, 4, fr[n]);
	n++;
	lens[n] = (uint32_t)icmp_to(probe, T0, 3, 3, fr[n]); /* a second answer: a repeat */
	n++;
	probe_to(&a, T0 + 2, 9999, probe);
	lens[n] = (uint32_t)icmp_to(probe, T0 + 2, 3, 3, fr[n]);
	n++;
	dns[0] ^= 1;
	probe_to(&a, T0 + 4, 53, probe);
	lens[n] = (uint32_t)reply_to(probe, 0, dns, 4, fr[n]);
	n++;
	probe_to(&a, T0 + 5, 7, probe);
	lens[n] = (uint32_t)icmp_to(probe, 0xc6130001u, 3, 13, fr[n]);
	n++;
	lens[n] = 20; /* malformed */
	memcpy(fr[n], fr[0], 20);
	n++;
	for (unsigned k = 0; k < n; k++)
		frames[k] = fr[k];
	pps_scan_rx_burst(&b.s, frames, lens, n, 1, 5000, 0, &b.c, b.ring, pkts);
	for (unsigned k = 0; k < n; k++)
		cr_assert_eq(judge(&a, fr[k], lens[k]), pkts[k].verdict, "frame %u", k);
	cr_assert_eq(memcmp(&a.c, &b.c, sizeof(a.c)), 0);
	cr_assert_eq(b.c.open, 1);
	cr_assert_eq(b.c.closed, 1);
	cr_assert_eq(b.c.unreach, 1);
	cr_assert_eq(b.c.dup, 1);
	cr_assert_eq(b.c.malformed, 1);
	rx_teardown(&a);
	rx_teardown(&b);
}

/* ---- output ---- */

static char *write_one(const char *format, const char *fields, const struct pps_result *r)
{
	char path[] = "/tmp/ppscan-udpout-XXXXXX", why[128], *text = NULL;
	struct pps_output o;
	size_t cap = 0;
	FILE *f;
	int fd = mkstemp(path);

	close(fd);
	cr_assert_eq(pps_output_open(&o, format, path, &pps_probe_udp, fields, 1, why, sizeof(why)),
		     0, "%s", why);
	cr_assert_eq(pps_output_write(&o, r), 0);
	cr_assert_eq(pps_output_close(&o), 0);
	f = fopen(path, "r");
	cr_assert_eq(getdelim(&text, &cap, '\0', f) > 0, 1);
	fclose(f);
	unlink(path);
	return text;
}

Test(udp_output, data_as_hex_and_escaped_text_in_csv_and_json)
{
	struct pps_result r = { 0 };
	static const uint8_t d[] = { 'a', ',', '"', '\\', '\r', '\n', 0, 0xff, 'z' };
	char *t;

	r.saddr_h = T0;
	r.sport_h = 53;
	r.probe = PPS_PROBE_UDP;
	r.classification = PPS_UDP_CLASS_UDP;
	r.udp.udp_len_h = 200;
	r.part_len = sizeof(d);
	memcpy(r.udp.data, d, sizeof(d));
	t = write_one("csv", "saddr,sport,status,udp_pkt_size,data,data_text", &r);
	cr_assert_str_eq(
		t, "saddr,sport,status,udp_pkt_size,data,data_text\n"
		   "198.18.0.3,53,open,200,612c225c0d0a00ff7a,\"a,\"\"\\\\\\r\\n\\x00\\xffz\"\n");
	free(t);
	t = write_one("json", "saddr,data,data_text,classification", &r);
	cr_assert_str_eq(t, "{\"saddr\":\"198.18.0.3\",\"data\":\"612c225c0d0a00ff7a\","
			    "\"data_text\":\"a,\\\"\\\\\\\\\\\\r\\\\n\\\\x00\\\\xffz\","
			    "\"classification\":\"udp\"}\n");
	free(t);
	/* every field of the kind; an ICMP result's */
	memset(&r, 0, sizeof(r));
	r.saddr_h = T0;
	r.sport_h = 161;
	r.probe = PPS_PROBE_UDP;
	r.classification = PPS_UDP_CLASS_UNREACH;
	r.udp.icmp_type = 3;
	r.udp.icmp_code = 13;
	r.udp.icmp_src_h = 0xc6130001u;
	t = write_one("csv",
		      "status,classification,success,icmp_responder,icmp_type,icmp_code,data", &r);
	cr_assert_str_eq(t,
			 "status,classification,success,icmp_responder,icmp_type,icmp_code,data\n"
			 "filtered,unreach,0,198.19.0.1,3,13,\n");
	free(t);
	t = write_one("csv", "*", &r);
	cr_assert(strstr(t, "udp_pkt_size,data,data_text,icmp_responder,icmp_type,icmp_code\n"));
	free(t);
}

Test(udp_output, journal_inverse_of_the_stream_fields)
{
	struct pps_field_sel sel;
	struct pps_result r = { 0 }, back = { 0 };
	char why[128], scratch[PPS_VALUE_SCRATCH], num[32];

	cr_assert_eq(pps_fields_select(&pps_probe_udp,
				       "ip=saddr,port=sport,status,ttl,ts=timestamp_unix,"
				       "classification,udp_pkt_size,data,icmp_responder,icmp_type,"
				       "icmp_code",
				       &sel, why, sizeof(why)),
		     0, "%s", why);
	r.probe = back.probe = PPS_PROBE_UDP;
	r.saddr_h = T0;
	r.sport_h = 5683;
	r.ttl = 60;
	r.ts_ns = 1700000000123456000ULL;
	r.classification = PPS_UDP_CLASS_UNREACH;
	r.udp.udp_len_h = 3;
	r.part_len = 3;
	memcpy(r.udp.data, "\x01\x02\xff", 3);
	r.udp.icmp_type = 3;
	r.udp.icmp_code = 10;
	r.udp.icmp_src_h = 0x01020304;
	for (unsigned k = 0; k < sel.n; k++) {
		struct pps_value v;
		size_t len;
		char text[PPS_VALUE_SCRATCH];

		pps_fields_get(&sel, k, &r, &v, scratch);
		snprintf(text, sizeof(text), "%s", pps_value_text(&v, num, &len));
		cr_assert_not_null(sel.f[k]->set, "%s has no inverse", sel.name[k]);
		cr_assert_eq(sel.f[k]->set(&back, text), 0, "%s=%s", sel.name[k], text);
	}
	cr_assert_eq(back.saddr_h, r.saddr_h);
	cr_assert_eq(back.sport_h, r.sport_h);
	cr_assert_eq(back.classification, r.classification);
	cr_assert_eq(back.part_len, 3);
	cr_assert_arr_eq(back.udp.data, r.udp.data, 3);
	cr_assert_eq(back.udp.udp_len_h, 3);
	cr_assert_eq(back.udp.icmp_code, 10);
	cr_assert_eq(back.udp.icmp_src_h, 0x01020304);
	cr_assert_eq(back.ts_ns, r.ts_ns);
}

/* ---- dry run, shards ---- */

static char *dryrun(char **argv)
{
	struct pps_config cfg;
	char *errtext, *text = NULL;
	size_t cap = 0;
	FILE *out = open_memstream(&text, &cap), *err = fopen("/dev/null", "w");

	cr_assert_eq(ut_parse_args(&cfg, PPS_BACKEND_PCAP, argv, &errtext), PPS_PARSE_OK, "%s",
		     errtext);
	free(errtext);
	cr_assert_eq(pps_scan_dryrun(&cfg, out, err), 0);
	fclose(out);
	fclose(err);
	pps_config_free(&cfg);
	return text;
}

static size_t count_lines(const char *t)
{
	size_t n = 0;

	for (; *t; t++)
		n += *t == '\n';
	return n;
}

Test(udp_dryrun, shards_partition_the_probes)
{
	char *all = dryrun(ARGV(DRY_NOBL, "-M", "udp", "-S", SRC, "--seed", "3", "-p", PORTS,
				"198.18.0.0/27"));
	char *s0 = dryrun(ARGV(DRY_NOBL, "-M", "udp", "-S", SRC, "--seed", "3", "-p", PORTS,
			       "--shards", "2", "--shard", "0", "198.18.0.0/27"));
	char *s1 = dryrun(ARGV(DRY_NOBL, "-M", "udp", "-S", SRC, "--seed", "3", "-p", PORTS,
			       "--shards", "2", "--shard", "1", "198.18.0.0/27"));

	cr_assert(!strncmp(all, "daddr,dport,sport,ipid,payload,bytes\n", 37));
	cr_assert_eq(count_lines(all), 1 + 32 * 10);
	cr_assert_eq(count_lines(s0) + count_lines(s1), 2 + 32 * 10);
	/* every line of a shard is a line of the whole scan, none in both shards */
	for (char *l = strchr(s0, '\n') + 1; *l; l = strchr(l, '\n') + 1) {
		char line[128];
		size_t n = strcspn(l, "\n");

		snprintf(line, sizeof(line), "\n%.*s\n", (int)n, l);
		cr_assert_not_null(strstr(all, line), "%s", line);
		cr_assert_null(strstr(s1, line), "%s in both shards", line);
	}
	cr_assert_not_null(strstr(all, ",53,"));
	cr_assert_not_null(strstr(all, ",dns,30\n"));
	cr_assert_not_null(strstr(all, ",9999,"));
	free(all);
	free(s0);
	free(s1);
}

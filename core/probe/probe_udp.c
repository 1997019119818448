/*
 * udp: the UDP probe (probe_udp.h).
 *
 * TX: a burst computes its cookies eight per vector (pps_siphash24_4tuple_burst() with source
 * port 0), then writes each frame: the constant link and IPv4 header (pps_template_put_l3(),
 * built once), the UDP header with the source port the cookie selects, the port's payload
 * with its cookie bytes, the IPv4 header checksum and the UDP checksum (RFC 768: over the
 * pseudo header, header and payload; 0 sent as 0xffff). Frames differ in length per port;
 * Ethernet frames below 60 bytes are zero-padded.
 * RX: a burst is parsed (pps_parse_frame(): UDP replies and ICMP errors with their quote),
 * pre-checked without a cookie (our address, our port range, a probed target), the
 * candidates' cookies computed eight per vector, then each judged in frame order (see
 * probe_udp.h for the classes). Nothing is answered.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "probe_udp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../output/pps_fields.h"
#include "../pps_checksum.h"
#include "../pps_config.h"
#include "../pps_template.h"

static const struct pps_probe_class classes[] = {
	[PPS_UDP_CLASS_UDP] = { "udp", 1, "open" },
	[PPS_UDP_CLASS_PORT_UNREACH] = { "port-unreach", 0, "closed" },
	[PPS_UDP_CLASS_UNREACH] = { "unreach", 0, "filtered" },
};

static int udp_check_args(const struct pps_config *cfg, char *why, size_t whylen)
{
	struct pps_udp_table t;
	int rc = pps_udp_table_from_args(&t, cfg->probe_args, why, whylen);

	pps_udp_table_free(&t);
	return rc < 0 ? -EINVAL : 0;
}

/* Ethernet + IPv4 + UDP + the longest payload. */
static unsigned udp_frame_bytes(const struct pps_config *cfg)
{
	struct pps_udp_table t;
	char why[256];
	unsigned n = 14 + 20 + 8 + PPS_UDP_PAYLOAD_MAX;

	if (!pps_udp_table_from_args(&t, cfg->probe_args, why, sizeof(why)))
		n = 14 + 20 + 8 + t.max_len;
	pps_udp_table_free(&t);
	return n;
}

static int udp_init(struct pps_scan *s)
{
	struct pps_template_params prm = { 0 };
	struct pps_udp_state *st = calloc(1, sizeof(*st));
	char why[256];

	if (!st)
		return -ENOMEM;
	s->probe_priv = st;
	if (pps_udp_table_from_args(&st->tab, s->cfg->probe_args, why, sizeof(why)))
		return -EINVAL; /* checked at option time already */
	if (s->with_ethernet) {
		memcpy(prm.src_mac, s->src_mac, 6);
		memcpy(prm.dst_mac, s->dst_mac, 6);
	}
	prm.with_ethernet = s->with_ethernet;
	prm.ttl = s->cfg->ttl;
	st->ip_off = (uint16_t)pps_template_put_l3(st->l3, &prm, 17, 0);
	st->with_ethernet = (uint8_t)(s->with_ethernet != 0);
	return 0;
}

static void udp_fini(struct pps_scan *s)
{
	struct pps_udp_state *st = s->probe_priv;

	if (st)
		pps_udp_table_free(&st->tab);
	free(st);
	s->probe_priv = NULL;
}

/* One probe: to @dst_ip_h:@dst_port_h from @src_ip_h with cookie @h. Returns its length. */
static uint16_t fill_one(const struct pps_scan *s, const struct pps_udp_state *st, uint8_t *buf,
			 uint32_t src_ip_h, uint32_t dst_ip_h, uint16_t dst_port_h, uint64_t h)
{
	const struct pps_udp_payload *p = pps_udp_table_get(&st->tab, dst_port_h);
	uint8_t *ip = buf + st->ip_off, *udp = ip + 20, c[16];
	uint16_t ulen = (uint16_t)(8 + p->len), len = (uint16_t)(st->ip_off + 20 + ulen), sum;
	uint64_t ps;

	memcpy(buf, st->l3, (size_t)st->ip_off + 20);
	pps_put_be16(ip + 2, (uint16_t)(20 + ulen));
	pps_put_be16(ip + 4, (uint16_t)(h >> 48));
	pps_put_be32(ip + 12, src_ip_h);
	pps_put_be32(ip + 16, dst_ip_h);
	pps_put_be16(ip + 10, pps_csum_ipv4_header(ip, 20));
	pps_put_be16(udp, pps_udp_sport(s, h));
	pps_put_be16(udp + 2, dst_port_h);
	pps_put_be16(udp + 4, ulen);
	udp[6] = udp[7] = 0;
	pps_udp_cookie_bytes(h, c);
	pps_udp_write_payload(p, c, udp + 8);
	ps = (uint64_t)(src_ip_h >> 16) + (src_ip_h & 0xffff) + (dst_ip_h >> 16) +
	     (dst_ip_h & 0xffff) + 17 + ulen;
	sum = pps_csum_fold(pps_csum_partial(udp, ulen, ps));
	pps_put_be16(udp + 6, sum ? sum : 0xffff);
	if (st->with_ethernet && len < PPS_ETH_MIN_FRAME) {
		memset(buf + len, 0, PPS_ETH_MIN_FRAME - len);
		len = PPS_ETH_MIN_FRAME;
	}
	return len;
}

static void udp_fill_burst(const struct pps_scan *s, const struct pps_target_burst *tb,
			   uint8_t *const *bufs, uint16_t *lens)
{
	static const uint16_t zero[PPS_BURST];
	const struct pps_udp_state *st = pps_udp_state(s);
	uint64_t h[PPS_BURST];

	pps_siphash24_4tuple_burst(&s->key, tb->dst_ip_h, tb->src_ip_h, tb->dst_port_h, zero, h,
				   tb->n);
	for (unsigned k = 0; k < tb->n; k++)
		lens[k] = fill_one(s, st, bufs[k], tb->src_ip_h[k], tb->dst_ip_h[k],
				   tb->dst_port_h[k], h[k]);
}

uint16_t pps_udp_fill(const struct pps_scan *s, uint64_t j, uint8_t *buf)
{
	struct pps_target t;

	pps_scan_target_at(s, j, &t);
	return fill_one(s, pps_udp_state(s), buf, t.src_ip_h, t.dst_ip_h, t.dst_port_h,
			pps_cookie(&s->key, t.dst_ip_h, t.dst_port_h, t.src_ip_h, 0));
}

/* ---- validation ---- */

/* A BER length (X.690 8.1.3) at *@p (before @end); advances *@p. Returns it, or -1. */
static long ber_len(const uint8_t **p, const uint8_t *end)
{
	long n = 0;
	unsigned k;

	if (*p >= end)
		return -1;
	k = *(*p)++;
	if (k < 0x80)
		return k;
	k &= 0x7f;
	if (k == 0 || k > 3 || end - *p < (long)k)
		return -1;
	while (k--)
		n = n << 8 | *(*p)++;
	return n;
}

/* Enters a BER element of tag @tag (any tag for -1) at *@p; *@p then points at its content. */
static long ber_enter(const uint8_t **p, const uint8_t *end, int tag)
{
	long n;

	if (*p >= end || (tag >= 0 && **p != tag))
		return -1;
	(*p)++;
	n = ber_len(p, end);
	return n < 0 || n > end - *p ? -1 : n;
}

/*
 * RFC 3416 3 / RFC 1157 4: Message ::= SEQUENCE { version INTEGER, community OCTET STRING,
 * PDU [tag] SEQUENCE { request-id INTEGER, ... } }: finds the request-id's content.
 */
static int snmp_request_id(const uint8_t *d, size_t len, const uint8_t **id, long *idlen)
{
	const uint8_t *p = d, *end = d + len;
	long n;

	if (ber_enter(&p, end, 0x30) < 0)
		return -1;
	if ((n = ber_enter(&p, end, 0x02)) < 0) /* version */
		return -1;
	p += n;
	if ((n = ber_enter(&p, end, 0x04)) < 0) /* community */
		return -1;
	p += n;
	if (p >= end || (*p & 0xe0) != 0xa0 || ber_enter(&p, end, -1) < 0) /* the PDU */
		return -1;
	if ((n = ber_enter(&p, end, 0x02)) < 0)
		return -1;
	*id = p;
	*idlen = n;
	return 0;
}

int pps_udp_reply_echo_ok(const struct pps_udp_payload *p, const uint8_t c[16], const uint8_t *d,
			  size_t len)
{
	uint8_t want[16];
	const uint8_t *id;
	long idlen;

	if (p->echo != PPS_UDP_ECHO_NONE) {
		/* what the probe carried: the payload's bytes as pps_udp_write_payload() wrote */
		memcpy(want, c, p->clen);
		if (p->echo == PPS_UDP_ECHO_SNMP)
			want[0] = (uint8_t)(0x40 | (c[0] & 0x3f));
	}
	switch (p->echo) {
	case PPS_UDP_ECHO_AT:
		if (len < (size_t)p->roff + p->clen || memcmp(d + p->roff, want, p->clen))
			return 0;
		break;
	case PPS_UDP_ECHO_ANY:
		if (!memmem(d, len, want, p->clen))
			return 0;
		break;
	case PPS_UDP_ECHO_SNMP:
		if (snmp_request_id(d, len, &id, &idlen) || idlen != 4 || memcmp(id, want, 4))
			return 0;
		break;
	default: break;
	}
	if (p->n_text) {
		static const char hex[] = "0123456789abcdef";
		char t[PPS_UDP_COOKIE_HEX];

		for (unsigned i = 0; i < 8; i++) {
			t[2 * i] = hex[c[i] >> 4];
			t[2 * i + 1] = hex[c[i] & 15];
		}
		if (!memmem(d, len, t, sizeof(t)))
			return 0;
	}
	return 1;
}

/*
 * What the judging of one frame needs besides the frame: for a candidate, the target as the
 * cookie covers it (address, probed port), our address and the target index.
 */
struct cand {
	uint32_t tgt_ip, our_ip;
	uint16_t tgt_port;
	uint64_t idx;
};

/* The checks without a cookie for a UDP reply; PPS_V_UDP means "candidate". */
static enum pps_verdict pre_udp(const struct pps_scan *s, const struct pps_udp_pkt *u,
				struct cand *c)
{
	const struct pps_udp_state *st = pps_udp_state(s);
	int64_t idx;

	if (!pps_scan_is_source(s, u->daddr_h))
		return PPS_V_NOT_OURS;
	if ((uint32_t)(uint16_t)(u->dport_h - s->sport_first_h) >= s->n_sports)
		return PPS_V_BAD_DPORT;
	c->tgt_ip = u->saddr_h;
	c->our_ip = u->daddr_h;
	c->tgt_port = u->sport_h;
	idx = pps_scan_target_index(s, u->saddr_h, u->sport_h);
	if (idx >= 0 && !pps_udp_table_get(&st->tab, u->sport_h)->any_sport) {
		c->idx = (uint64_t)idx;
		return PPS_V_UDP;
	}
	/* a server that answers from a new port (TFTP): the probed port the cookie confirms */
	for (unsigned a = 0; a < st->tab.n_any_sport; a++) {
		uint16_t port = st->tab.any_sport[a];

		idx = pps_scan_target_index(s, u->saddr_h, port);
		if (idx >= 0 && pps_udp_sport(s, pps_cookie(&s->key, u->saddr_h, port, u->daddr_h,
							    0)) == u->dport_h) {
			c->tgt_port = port;
			c->idx = (uint64_t)idx;
			return PPS_V_UDP;
		}
	}
	return PPS_V_NOT_TARGET;
}

/* The same for an ICMP error: it must quote a UDP datagram from us to a target. */
static enum pps_verdict pre_icmp(const struct pps_scan *s, const struct pps_icmp_pkt *m,
				 struct cand *c)
{
	int64_t idx;

	if (!m->has_quote || m->q_proto != 17 || !pps_scan_is_source(s, m->daddr_h) ||
	    !pps_scan_is_source(s, m->q_saddr_h))
		return PPS_V_NOT_OURS;
	if ((uint32_t)(uint16_t)(m->q_sport_h - s->sport_first_h) >= s->n_sports)
		return PPS_V_BAD_DPORT;
	idx = pps_scan_target_index(s, m->q_daddr_h, m->q_dport_h);
	if (idx < 0)
		return PPS_V_NOT_TARGET;
	c->tgt_ip = m->q_daddr_h;
	c->our_ip = m->q_saddr_h;
	c->tgt_port = m->q_dport_h;
	c->idx = (uint64_t)idx;
	return PPS_V_PORT_UNREACH;
}

/* Second half with the cookie @h: a UDP reply. */
static enum pps_verdict judge_udp(const struct pps_scan *s, const struct pps_udp_pkt *u,
				  const struct cand *c, uint64_t h, int csum_ok)
{
	const struct pps_udp_payload *p = pps_udp_table_get(&pps_udp_state(s)->tab, c->tgt_port);
	uint8_t cb[16];

	if (pps_udp_sport(s, h) != u->dport_h)
		return PPS_V_BAD_COOKIE;
	pps_udp_cookie_bytes(h, cb);
	if (!pps_udp_reply_echo_ok(p, cb, u->data, (size_t)u->udp_len - 8))
		return PPS_V_BAD_ECHO;
	if (!csum_ok && !pps_csum_ipv4_udp_ok(u->ip, u->ihl, u->udp_len))
		return PPS_V_BAD_CHECKSUM;
	return PPS_V_UDP;
}

/*
 * An ICMP error: the quote must be our probe as sent (source port, IP ID and UDP length from
 * the cookie and the port's payload); port unreachable (RFC 1122 3.2.2.1, code 3) from the
 * probed host is closed, other destination unreachables are counted apart, other errors
 * (time exceeded, ...) are no result.
 */
static enum pps_verdict judge_icmp(const struct pps_scan *s, const struct pps_icmp_pkt *m,
				   const struct cand *c, uint64_t h)
{
	const struct pps_udp_payload *p = pps_udp_table_get(&pps_udp_state(s)->tab, c->tgt_port);

	if (pps_udp_sport(s, h) != m->q_sport_h || m->q_ipid_h != (uint16_t)(h >> 48) ||
	    m->q_udp_len != 8 + p->len)
		return PPS_V_BAD_QUOTE;
	if (!pps_csum_ipv4_icmp_ok(m->ip, m->ihl, m->icmp_len))
		return PPS_V_BAD_CHECKSUM;
	if (m->type != 3)
		return PPS_V_BAD_FLAGS;
	return m->code == 3 && m->saddr_h == m->q_daddr_h ? PPS_V_PORT_UNREACH : PPS_V_UNREACH;
}

struct judge {
	struct pps_counters *c;
	struct pps_ring *ring;
	uint64_t now_ns;
	uint8_t cooldown;
};

static void judged(struct pps_scan *s, const struct judge *j, const struct pps_pkt *pkt,
		   const struct cand *c, enum pps_verdict v)
{
	struct pps_result *r;
	_Atomic uint64_t *outcome;
	uint8_t cls;

	switch (v) {
	case PPS_V_UDP:
		outcome = &j->c->open;
		cls = PPS_UDP_CLASS_UDP;
		break;
	case PPS_V_PORT_UNREACH:
		outcome = &j->c->closed;
		cls = PPS_UDP_CLASS_PORT_UNREACH;
		break;
	case PPS_V_UNREACH:
		outcome = &j->c->unreach;
		cls = PPS_UDP_CLASS_UNREACH;
		break;
	default: pps_scan_rx_reject(j->c, v); return;
	}
	r = pps_scan_rx_accept_as(s, j->c, j->ring, c->idx, c->tgt_ip, c->tgt_port, outcome);
	if (!r)
		return;
	memset(r, 0, sizeof(*r));
	r->saddr_h = c->tgt_ip;
	r->daddr_h = c->our_ip;
	r->sport_h = c->tgt_port;
	r->probe = PPS_PROBE_UDP;
	r->classification = cls;
	r->cooldown = j->cooldown;
	r->ts_ns = j->now_ns;
	if (pkt->kind == PPS_PKT_UDP) {
		const struct pps_udp_pkt *u = &pkt->udp;
		size_t n = (size_t)u->udp_len - 8;

		r->dport_h = u->dport_h;
		r->ipid_h = u->ipid_h;
		r->ttl = u->ttl;
		r->udp.udp_len_h = (uint16_t)n;
		r->part_len = (uint8_t)(n < PPS_UDP_DATA_MAX ? n : PPS_UDP_DATA_MAX);
		memcpy(r->udp.data, u->data, r->part_len);
	} else {
		const struct pps_icmp_pkt *m = &pkt->icmp;

		r->dport_h = m->q_sport_h;
		r->ipid_h = m->ipid_h;
		r->ttl = m->ttl;
		r->udp.icmp_type = m->type;
		r->udp.icmp_code = m->code;
		r->udp.icmp_src_h = m->saddr_h;
	}
	pps_ring_commit(j->ring);
}

static void udp_classify_burst(struct pps_scan *s, struct pps_rx_burst *b)
{
	struct cand cand[PPS_BURST];
	uint64_t h[PPS_BURST], arp = 0;
	uint32_t tip[PPS_BURST], oip[PPS_BURST];
	uint16_t tport[PPS_BURST];
	static const uint16_t zero[PPS_BURST];
	uint8_t verdict[PPS_BURST], slot[PPS_BURST];
	const struct judge j = { b->c, b->ring, b->now_ns, (uint8_t)(b->cooldown != 0) };
	struct pps_pkt *const pkt = b->pkt;
	unsigned m = 0;

	/* 1: parse, the checks without a cookie */
	for (unsigned k = 0; k < b->n; k++) {
		enum pps_parse_kind kind =
			pps_parse_frame(b->frames[k], b->lens[k], b->with_ethernet, &pkt[k]);

		verdict[k] = PPS_V_NONE;
		if (kind == PPS_PKT_UDP)
			verdict[k] = (uint8_t)pre_udp(s, &pkt[k].udp, &cand[k]);
		else if (kind == PPS_PKT_ICMP)
			verdict[k] = (uint8_t)pre_icmp(s, &pkt[k].icmp, &cand[k]);
		else {
			pps_scan_rx_skip(j.c, kind, k, &arp);
			continue;
		}
		if (verdict[k] != PPS_V_UDP && verdict[k] != PPS_V_PORT_UNREACH)
			continue;
		pps_dedup_prefetch(s->dedup, cand[k].idx, cand[k].tgt_ip, cand[k].tgt_port);
		slot[k] = (uint8_t)m;
		tip[m] = cand[k].tgt_ip;
		oip[m] = cand[k].our_ip;
		tport[m] = cand[k].tgt_port;
		m++;
	}
	/* 2: the candidates' cookies: pps_cookie(key; target, its port, our address, 0) */
	if (m)
		pps_siphash24_4tuple_burst(&s->key, tip, oip, tport, zero, h, m);
	/* 3: in frame order */
	for (unsigned k = 0; k < b->n; k++) {
		uint8_t v = verdict[k];

		if (v == PPS_V_UDP)
			v = (uint8_t)judge_udp(s, &pkt[k].udp, &cand[k], h[slot[k]],
					       (int)((b->csum_ok >> k) & 1));
		else if (v == PPS_V_PORT_UNREACH)
			v = (uint8_t)judge_icmp(s, &pkt[k].icmp, &cand[k], h[slot[k]]);
		pkt[k].verdict = v;
		if (v != PPS_V_NONE)
			judged(s, &j, &pkt[k], &cand[k], (enum pps_verdict)v);
	}
	b->arp = arp;
	b->reply = 0;
}

/* Replies to our source ports, and ICMP destination unreachables (pcap-filter(7)). */
static int udp_bpf_filter(const struct pps_config *cfg, char *buf, size_t len)
{
	int n = snprintf(buf, len,
			 "((udp and dst portrange %u-%u) or "
			 "(icmp and icmp[icmptype] == icmp-unreach))",
			 cfg->sport_first_h, cfg->sport_last_h);

	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

/* The columns of a dry run, read back from the filled datagram (what would go on the wire). */
enum {
	UDRY_DADDR,
	UDRY_DPORT,
	UDRY_SADDR,
	UDRY_SPORT,
	UDRY_IPID,
	UDRY_TTL,
	UDRY_PAYLOAD,
	UDRY_BYTES
};
static const char *const udp_dryrun_fields[] = {
	[UDRY_DADDR] = "daddr",	    [UDRY_DPORT] = "dport", [UDRY_SADDR] = "saddr",
	[UDRY_SPORT] = "sport",	    [UDRY_IPID] = "ipid",   [UDRY_TTL] = "ttl",
	[UDRY_PAYLOAD] = "payload", [UDRY_BYTES] = "bytes",
};

static int udp_dryrun_burst(const struct pps_scan *s, const struct pps_target_burst *tb,
			    uint8_t *const *frames, const uint16_t *lens, const uint8_t *cols,
			    unsigned n_cols, FILE *out)
{
	const struct pps_udp_state *st = pps_udp_state(s);
	char ip[16];

	(void)lens;
	for (unsigned k = 0; k < tb->n; k++) {
		const uint8_t *ipb = frames[k] + st->ip_off, *udp = ipb + 20;
		uint16_t dport = (uint16_t)(udp[2] << 8 | udp[3]);

		for (unsigned c = 0; c < n_cols; c++) {
			if (c)
				fputc(',', out);
			switch (cols[c]) {
			case UDRY_DADDR:
			case UDRY_SADDR: {
				const uint8_t *a = ipb + (cols[c] == UDRY_DADDR ? 16 : 12);

				pps_format_ipv4((uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
							(uint32_t)a[2] << 8 | a[3],
						ip);
				fputs(ip, out);
				break;
			}
			case UDRY_DPORT: fprintf(out, "%u", dport); break;
			case UDRY_SPORT:
				fprintf(out, "%u", (unsigned)(udp[0] << 8 | udp[1]));
				break;
			case UDRY_IPID: fprintf(out, "%u", (unsigned)(ipb[4] << 8 | ipb[5])); break;
			case UDRY_TTL: fprintf(out, "%u", ipb[8]); break;
			case UDRY_PAYLOAD:
				fputs(pps_udp_table_get(&st->tab, dport)->name, out);
				break;
			default: fprintf(out, "%u", (unsigned)(udp[4] << 8 | udp[5]) - 8); break;
			}
		}
		if (fputc('\n', out) == EOF)
			return -EIO;
	}
	return 0;
}

static void udp_summary(FILE *out, const char *prog, const struct pps_totals *t, uint64_t targets)
{
	fprintf(out,
		"%s:   udp: open %" PRIu64 ", closed (port unreachable) %" PRIu64
		", other ICMP unreachable %" PRIu64 ", open|filtered (no answer) %" PRIu64
		" of %" PRIu64 " targets\n",
		prog, t->open, t->closed, t->unreach, pps_totals_silent(t, targets), targets);
}

const struct pps_probe_ops pps_probe_udp = {
	.name = "udp",
	.help = "UDP datagram with the port's payload (data/udp-payloads.conf; --probe-args "
		"payloads:PATH, text:STR, hex:HEX or file:PATH), its source port, IP ID and "
		"echoed fields (DNS ID, SNMP request-id, STUN transaction ID, NTP origin, ...) "
		"from the cookie; a valid reply is udp (open, first bytes kept), ICMP port "
		"unreachable quoting the probe port-unreach (closed), another ICMP unreachable "
		"unreach (filtered); silence is open|filtered",
	.id = PPS_PROBE_UDP,
	.classes = classes,
	.n_classes = sizeof(classes) / sizeof(classes[0]),
	.fields = pps_fields_udp,
	.n_fields = PPS_FIELDS_UDP_N,
	.stream_fields = "classification,udp_pkt_size,data,icmp_responder,icmp_type,icmp_code",
	.check_args = udp_check_args,
	.frame_bytes = udp_frame_bytes,
	.init = udp_init,
	.fini = udp_fini,
	.fill_burst = udp_fill_burst,
	.classify_burst = udp_classify_burst,
	.fill_replies = NULL,
	.bpf_filter = udp_bpf_filter,
	.dryrun_fields = udp_dryrun_fields,
	.n_dryrun_fields = sizeof(udp_dryrun_fields) / sizeof(udp_dryrun_fields[0]),
	.dryrun_header = "daddr,dport,sport,ipid,payload,bytes",
	.dryrun_burst = udp_dryrun_burst,
	.summary = udp_summary,
};

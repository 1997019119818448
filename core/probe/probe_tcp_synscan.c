/*
 * tcp_synscan: the stateless TCP SYN probe (probe_tcp_synscan.h).
 *
 * TX: the template (pps_template.h: Ethernet + IPv4 + TCP SYN with the --tcp-options
 * preset) is built once; a burst computes its cookies eight per vector
 * (pps_siphash24_4tuple_burst()), its checksums lane-parallel from the template's partial
 * sums (RFC 1624), then writes each frame with one copy and seven stores.
 * RX: a burst is parsed and pre-checked first (our address and port range, a probed target),
 * the candidates' dedup words prefetched and their cookies computed eight per vector, then
 * each is judged in frame order: SYN-ACK with ack == cookie + 1 (RFC 793: the peer
 * acknowledges our SYN) is open, RST with ack == cookie or cookie + 1 closed, both with
 * right checksums (the software check unless the device verified them).
 * Replies: a RST for each genuine SYN-ACK (pps_synscan_fill_rst()).
 */
#include "probe_tcp_synscan.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../output/pps_fields.h"
#include "../pps_config.h"

static const struct pps_probe_class classes[] = {
	[PPS_CLASS_SYNACK] = { "synack", 1 }, [PPS_CLASS_RST] = { "rst", 0 },
	[PPS_CLASS_DATA] = { "data", 1 },     [PPS_CLASS_RST_ON_DATA] = { "rst_on_data", 1 },
	[PPS_CLASS_FIN] = { "fin", 1 },	      [PPS_CLASS_NO_DATA] = { "no_data", 1 },
};

static int synscan_check_args(const struct pps_config *cfg, char *why, size_t whylen)
{
	if (cfg->probe_args && *cfg->probe_args) {
		snprintf(
			why, whylen,
			"tcp_synscan takes no probe arguments (its SYN options are --tcp-options)");
		return -EINVAL;
	}
	return 0;
}

/* Ethernet + IPv4 + TCP + the preset's options (ZMap's layouts: 4, 12, 20, 24 bytes). */
static unsigned synscan_frame_bytes(const struct pps_config *cfg)
{
	static const unsigned optlen[] = { 4, 12, 20, 24 };

	/* --banners: the control frames carry first payloads (one segment at most) */
	if (cfg->banners)
		return 14 + 20 + 20 + PPS_FIRST_PAYLOAD_MAX;
	return 14 + 20 + 20 + optlen[cfg->tcpopt];
}

static int synscan_init(struct pps_scan *s)
{
	const struct pps_config *cfg = s->cfg;
	struct pps_template_params prm = { 0 };
	struct pps_synscan *st = aligned_alloc(64, (sizeof(*st) + 63) & ~(size_t)63);
	int rc;

	if (!st)
		return -ENOMEM;
	memset(st, 0, sizeof(*st));
	s->probe_priv = st;
	if (s->with_ethernet) {
		memcpy(prm.src_mac, s->src_mac, 6);
		memcpy(prm.dst_mac, s->dst_mac, 6);
	}
	prm.with_ethernet = s->with_ethernet;
	prm.src_ip_h = cfg->src_ip_h;
	prm.ttl = cfg->ttl;
	prm.window_h = 65535;
	prm.mss_h = 1460;
	prm.options = cfg->tcpopt;
	if ((rc = pps_template_build(&st->tmpl, &prm)) < 0)
		return rc;
	prm.rst = 1;
	if ((rc = pps_template_build(&st->rst_tmpl, &prm)) < 0)
		return rc;
	st->no_rst = cfg->no_rst;
	st->banners = cfg->banners;
	st->banner_bytes = cfg->banner_bytes;
	if (cfg->banners) {
		char why[256];

		if ((rc = pps_first_table_load(&st->first, NULL, "data/first-payloads.conf",
					       cfg->sni, why, sizeof(why))) < 0) {
			fprintf(stderr, "%s: %s\n", cfg->prog, why);
			return rc;
		}
	}
	return 0;
}

static void synscan_fini(struct pps_scan *s)
{
	struct pps_synscan *st = s->probe_priv;

	if (st)
		pps_first_table_free(&st->first);
	free(s->probe_priv);
	s->probe_priv = NULL;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void
synscan_fill_burst(const struct pps_scan *s, const struct pps_target_burst *tb,
		   uint8_t *const *bufs, uint16_t *lens)
{
	const struct pps_template *t = &pps_synscan_state(s)->tmpl;
	uint64_t h[PPS_BURST];
	uint16_t ipcs[PPS_BURST], tcpcs[PPS_BURST];
	const unsigned n = tb->n;

	pps_siphash24_4tuple_burst(&s->key, tb->dst_ip_h, tb->src_ip_h, tb->dst_port_h,
				   tb->src_port_h, h, n);
	/* checksums lane-parallel (a loop the compiler vectorises), then the stores */
	for (unsigned k = 0; k < n; k++) {
		ipcs[k] = pps_template_ip_csum(t, tb->src_ip_h[k], tb->dst_ip_h[k],
					       (uint16_t)(h[k] >> 32));
		tcpcs[k] = pps_template_tcp_csum(t, tb->src_ip_h[k], tb->dst_ip_h[k],
						 tb->dst_port_h[k], tb->src_port_h[k],
						 (uint32_t)h[k]);
	}
	for (unsigned k = 0; k < n; k++)
		lens[k] = pps_template_fill_csum(t, bufs[k], tb->src_ip_h[k], tb->dst_ip_h[k],
						 tb->dst_port_h[k], tb->src_port_h[k],
						 (uint32_t)h[k], (uint16_t)(h[k] >> 32), ipcs[k],
						 tcpcs[k]);
}

/*
 * Validation in two halves around the cookie, so the burst path can compute the cookies of
 * a whole burst at once. First half: the checks that need no cookie; PPS_V_SYNACK here means
 * "candidate", with the target index in *@target_index.
 */
static inline enum pps_verdict validate_pre(const struct pps_scan *s, const struct pps_tcp_pkt *t,
					    uint64_t *target_index)
{
	int64_t idx;

	if (!pps_scan_is_source(s, t->daddr_h))
		return PPS_V_NOT_OURS;
	if ((uint32_t)(uint16_t)(t->dport_h - s->sport_first_h) >= s->n_sports)
		return PPS_V_BAD_DPORT;
	idx = pps_scan_target_index(s, t->saddr_h, t->sport_h);
	if (idx < 0)
		return PPS_V_NOT_TARGET;
	*target_index = (uint64_t)idx;
	return PPS_V_SYNACK;
}

/*
 * Second half: flags and acknowledgment number against the cookie, then (for a response that
 * would be reported: few, so the cost stays off the common path) both checksums, unless the
 * device verified them (@csum_ok). A SYN-ACK may carry PSH, ECE, CWR (ECN) but not FIN or
 * URG; RST wins over every other flag (RFC 793 processes it first).
 */
static inline enum pps_verdict validate_cookie(const struct pps_tcp_pkt *t, uint32_t cookie,
					       int csum_ok, const struct pps_synscan *st)
{
	uint8_t f = t->flags;
	enum pps_verdict v;

	if (f & PPS_TCP_RST) {
		if (t->ack_h == cookie || t->ack_h == cookie + 1)
			v = PPS_V_RST;
		else if (st->banners &&
			 t->ack_h == cookie + 1 + pps_synscan_first_len(st, t->sport_h))
			v = PPS_V_RST_DATA; /* it reset after reading our payload */
		else
			v = PPS_V_BAD_COOKIE;
	} else if ((f & (PPS_TCP_SYN | PPS_TCP_ACK | PPS_TCP_FIN | PPS_TCP_URG)) ==
		   (PPS_TCP_SYN | PPS_TCP_ACK)) {
		v = t->ack_h == cookie + 1 ? PPS_V_SYNACK : PPS_V_BAD_COOKIE;
	} else if (st->banners && (f & (PPS_TCP_SYN | PPS_TCP_ACK)) == PPS_TCP_ACK) {
		/* after our ACK: ours only if it acknowledges exactly our payload */
		if (t->ack_h != cookie + 1 + pps_synscan_first_len(st, t->sport_h))
			v = PPS_V_BAD_COOKIE;
		else if (pps_synscan_payload_len(t))
			v = PPS_V_DATA;
		else
			v = f & PPS_TCP_FIN ? PPS_V_FIN : PPS_V_ACK;
	} else {
		return PPS_V_BAD_FLAGS;
	}
	if (v != PPS_V_BAD_COOKIE && !csum_ok && t->ip &&
	    !pps_csum_ipv4_tcp_ok(t->ip, t->ihl, t->tcp_len))
		return PPS_V_BAD_CHECKSUM;
	return v;
}

enum pps_verdict pps_synscan_validate(const struct pps_scan *s, const struct pps_tcp_pkt *t,
				      uint64_t *target_index)
{
	enum pps_verdict v = validate_pre(s, t, target_index);

	if (v != PPS_V_SYNACK)
		return v;
	return validate_cookie(
		t, (uint32_t)pps_cookie(&s->key, t->saddr_h, t->sport_h, t->daddr_h, t->dport_h), 0,
		pps_synscan_state(s));
}

/* What the judging of one burst reads for every frame, in locals (see below). */
struct judge {
	struct pps_counters *c;
	struct pps_ring *ring;
	uint64_t now_ns;
	uint8_t cooldown;
	unsigned banner_bytes;
};

/* The fields every tcp_synscan result takes from its segment @t. */
static inline void result_head(struct pps_result *r, const struct judge *j,
			       const struct pps_tcp_pkt *t, enum pps_class cls)
{
	r->saddr_h = t->saddr_h;
	r->daddr_h = t->daddr_h;
	r->sport_h = t->sport_h;
	r->dport_h = t->dport_h;
	r->ipid_h = t->ipid_h;
	r->ttl = t->ttl;
	r->probe = PPS_PROBE_TCP_SYNSCAN;
	r->classification = (uint8_t)cls;
	r->cooldown = j->cooldown;
	r->middlebox = 0; /* the output side marks it */
	r->ts_ns = j->now_ns;
}

/* --banners: the answer after our ACK (data, FIN, RST), deduplicated on its own; the data's
 * first bytes go into the slot's extra storage. */
static void judged_data(struct pps_scan *s, const struct judge *j, const struct pps_tcp_pkt *t,
			enum pps_verdict v, uint64_t idx)
{
	struct pps_result *r;
	unsigned n = 0, seg = 0;
	uint8_t *x;

	r = pps_scan_rx_accept_data(s, j->c, j->ring, idx, t->saddr_h, t->sport_h);
	if (!r)
		return;
	memset(r, 0, sizeof(*r));
	result_head(r, j, t,
		    v == PPS_V_DATA  ? PPS_CLASS_DATA
		    : v == PPS_V_FIN ? PPS_CLASS_FIN
				     : PPS_CLASS_RST_ON_DATA);
	r->banner.seq_h = t->seq_h;
	r->banner.ack_h = t->ack_h;
	r->banner.window_h = t->window_h;
	r->banner.flags = t->flags;
	if (v == PPS_V_DATA && (x = pps_ring_reserve_extra(j->ring))) {
		seg = pps_synscan_payload_len(t);
		n = seg < j->banner_bytes ? seg : j->banner_bytes;
		memcpy(x, t->ip + t->ihl + (t->tcp_len - seg), n);
		r->extra = 1;
	}
	r->banner.data_len_h = (uint16_t)n;
	r->banner.seg_len_h = (uint16_t)seg;
	pps_ring_commit(j->ring);
}

/* After a verdict: counters, dedup, result (written in place into the ring). */
static inline void judged(struct pps_scan *s, const struct judge *j, const struct pps_tcp_pkt *t,
			  enum pps_verdict v, uint64_t idx)
{
	struct pps_result *r;

	if (v == PPS_V_DATA || v == PPS_V_FIN || v == PPS_V_RST_DATA) {
		judged_data(s, j, t, v, idx);
		return;
	}
	if (v == PPS_V_ACK) {
		pps_counter_add(&j->c->acks, 1);
		return;
	}
	if (v != PPS_V_SYNACK && v != PPS_V_RST) {
		pps_scan_rx_reject(j->c, v);
		return;
	}
	r = pps_scan_rx_accept(s, j->c, j->ring, idx, t->saddr_h, t->sport_h, v == PPS_V_SYNACK);
	if (!r)
		return;
	result_head(r, j, t, v == PPS_V_SYNACK ? PPS_CLASS_SYNACK : PPS_CLASS_RST);
	r->part_len = 0;
	memset(r->pad, 0, sizeof(r->pad));
	r->tcp.seq_h = t->seq_h;
	r->tcp.ack_h = t->ack_h;
	r->tcp.window_h = t->window_h;
	r->tcp.flags = t->flags;
	pps_ring_commit(j->ring);
}

static void synscan_classify_burst(struct pps_scan *s, struct pps_rx_burst *b)
{
	const struct pps_synscan *st = pps_synscan_state(s);
	uint64_t idx[PPS_BURST], h[PPS_BURST], arp = 0, synacks = 0, closes = 0;
	uint32_t saddr[PPS_BURST], daddr[PPS_BURST];
	uint16_t sport[PPS_BURST], dport[PPS_BURST];
	uint8_t cand[PPS_BURST], verdict[PPS_BURST];
	/* locals: the counter and ring stores below would make the compiler reload *b */
	const struct judge j = { b->c, b->ring, b->now_ns, (uint8_t)(b->cooldown != 0),
				 st->banner_bytes };
	const uint8_t *const *frames = b->frames;
	const uint32_t *lens = b->lens;
	struct pps_pkt *const pkt = b->pkt;
	const unsigned n = b->n;
	const int with_ethernet = b->with_ethernet;
	const uint64_t csum_ok = b->csum_ok;
	unsigned m = 0;

	/* 1: parse, the checks without a cookie, prefetch the candidates' dedup words */
	for (unsigned k = 0; k < n; k++) {
		enum pps_parse_kind kind =
			pps_parse_frame(frames[k], lens[k], with_ethernet, &pkt[k]);
		const struct pps_tcp_pkt *t = &pkt[k].tcp;

		verdict[k] = PPS_V_NONE;
		if (kind != PPS_PKT_TCP) {
			pps_scan_rx_skip(j.c, kind, k, &arp);
			continue;
		}
		verdict[k] = (uint8_t)validate_pre(s, t, &idx[k]);
		if (verdict[k] != PPS_V_SYNACK)
			continue;
		pps_dedup_prefetch(s->dedup, idx[k], t->saddr_h, t->sport_h);
		cand[m] = (uint8_t)k;
		saddr[m] = t->saddr_h;
		daddr[m] = t->daddr_h;
		sport[m] = t->sport_h;
		dport[m] = t->dport_h;
		m++;
	}
	/* 2: the candidates' cookies (pps_cookie(key; saddr, sport, daddr, dport)) */
	if (m)
		pps_siphash24_4tuple_burst(&s->key, saddr, daddr, sport, dport, h, m);
	for (unsigned q = 0; q < m; q++) {
		unsigned k = cand[q];

		verdict[k] = (uint8_t)validate_cookie(&pkt[k].tcp, (uint32_t)h[q],
						      (int)((csum_ok >> k) & 1), st);
		synacks |= (uint64_t)(verdict[k] == PPS_V_SYNACK) << k;
		/* --banners: the first data segment and a FIN are answered with the RST */
		closes |= (uint64_t)(verdict[k] == PPS_V_DATA || verdict[k] == PPS_V_FIN) << k;
	}
	/* 3: in frame order, so results enter the ring as they arrived */
	for (unsigned k = 0; k < n; k++) {
		uint8_t v = verdict[k];

		pkt[k].verdict = v;
		if (v != PPS_V_NONE)
			judged(s, &j, &pkt[k].tcp, (enum pps_verdict)v, idx[k]);
	}
	b->arp = arp;
	/* every genuine SYN-ACK, repeats included, is answered with a RST */
	b->reply = st->banners ? synacks | closes : st->no_rst ? 0 : synacks;
}

static unsigned synscan_fill_replies(const struct pps_scan *s, const struct pps_rx_burst *b,
				     uint8_t *const *bufs, uint16_t *lens)
{
	unsigned q = 0;

	for (uint64_t m = b->reply; m; m &= m - 1, q++) {
		const struct pps_pkt *p = &b->pkt[__builtin_ctzll(m)];

		/* --banners: a SYN-ACK gets the first payload, the first data or FIN the RST
		 * (seq = its ack = cookie + 1 + the payload's length) */
		lens[q] = pps_synscan_state(s)->banners && p->verdict == PPS_V_SYNACK
				  ? pps_synscan_fill_first(s, &p->tcp, bufs[q])
				  : pps_synscan_fill_rst(s, &p->tcp, bufs[q]);
	}
	return q;
}

uint32_t pps_synscan_first_len_of(const void *scan, uint16_t port_h)
{
	return pps_synscan_first_len(pps_synscan_state(scan), port_h);
}

uint16_t pps_synscan_fill_first(const struct pps_scan *s, const struct pps_tcp_pkt *synack,
				uint8_t *buf)
{
	const struct pps_synscan *st = pps_synscan_state(s);
	const struct pps_template *t = &st->rst_tmpl;
	const struct pps_first_payload *fp = pps_first_payload_for(&st->first, synack->sport_h);
	uint8_t *ip = buf + t->ip_off, *tcp = buf + t->tcp_off;
	unsigned tcp_len = t->tcp_len + fp->len, len;

	pps_template_fill_src(t, buf, synack->daddr_h, synack->saddr_h, synack->sport_h,
			      synack->dport_h, synack->ack_h, (uint16_t)(synack->ack_h >> 16));
	pps_put_be32(tcp + 8, synack->seq_h + 1);
	tcp[13] = fp->len ? 0x18 : PPS_TCP_ACK; /* ACK, PSH with a payload */
	pps_put_be16(tcp + 14, 65535);
	memcpy(tcp + t->tcp_len, fp->bytes, fp->len);
	pps_put_be16(ip + 2, (uint16_t)((unsigned)(t->tcp_off - t->ip_off) + tcp_len));
	pps_put_be16(ip + 10, 0);
	pps_put_be16(ip + 10, pps_csum_ipv4_header(ip, (size_t)(t->tcp_off - t->ip_off)));
	pps_put_be16(tcp + 16, 0);
	pps_put_be16(tcp + 16, pps_csum_tcp_full(synack->daddr_h, synack->saddr_h, tcp, tcp_len));
	len = t->tcp_off + tcp_len;
	if (s->with_ethernet && len < PPS_ETH_MIN_FRAME) {
		memset(buf + len, 0, PPS_ETH_MIN_FRAME - len);
		len = PPS_ETH_MIN_FRAME;
	}
	return (uint16_t)len;
}

/* SYN-ACKs and RSTs (any ACK bit) to our source-port range (pcap-filter(7)). */
static int synscan_bpf_filter(const struct pps_config *cfg, char *buf, size_t len)
{
	int n;

	/* --banners: every segment to our ports (data, FIN, RST after the handshake) */
	if (cfg->banners) {
		n = snprintf(buf, len, "tcp and dst portrange %u-%u", cfg->sport_first_h,
			     cfg->sport_last_h);
		return n < 0 || (size_t)n >= len ? -ENOSPC : n;
	}
	n = snprintf(buf, len,
		     "tcp and dst portrange %u-%u and "
		     "(tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack) or "
		     "tcp[tcpflags] & tcp-rst != 0)",
		     cfg->sport_first_h, cfg->sport_last_h);

	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The columns of a dry run, read back from the filled frame (what would go on the wire). */
enum {
	DRY_DADDR,
	DRY_DPORT,
	DRY_SADDR,
	DRY_SPORT,
	DRY_SEQNUM,
	DRY_IPID,
	DRY_TTL
};
static const char *const dryrun_fields[] = {
	[DRY_DADDR] = "daddr", [DRY_DPORT] = "dport",	[DRY_SADDR] = "saddr",
	[DRY_SPORT] = "sport", [DRY_SEQNUM] = "seqnum", [DRY_IPID] = "ipid",
	[DRY_TTL] = "ttl",
};

static int synscan_dryrun_burst(const struct pps_scan *s, const struct pps_target_burst *tb,
				uint8_t *const *frames, const uint16_t *lens, const uint8_t *cols,
				unsigned n_cols, FILE *out)
{
	const struct pps_template *t = &pps_synscan_state(s)->tmpl;
	char ip[16];

	(void)lens;
	for (unsigned k = 0; k < tb->n; k++) {
		const uint8_t *ipb = frames[k] + t->ip_off, *tcp = frames[k] + t->tcp_off;

		for (unsigned c = 0; c < n_cols; c++) {
			if (c)
				fputc(',', out);
			switch (cols[c]) {
			case DRY_DADDR:
			case DRY_SADDR:
				pps_format_ipv4(get32(ipb + (cols[c] == DRY_DADDR ? 16 : 12)), ip);
				fputs(ip, out);
				break;
			case DRY_DPORT: fprintf(out, "%u", (unsigned)(tcp[2] << 8 | tcp[3])); break;
			case DRY_SPORT: fprintf(out, "%u", (unsigned)(tcp[0] << 8 | tcp[1])); break;
			case DRY_SEQNUM: fprintf(out, "%" PRIu32, get32(tcp + 4)); break;
			case DRY_IPID: fprintf(out, "%u", (unsigned)(ipb[4] << 8 | ipb[5])); break;
			default: fprintf(out, "%u", ipb[8]); break;
			}
		}
		if (fputc('\n', out) == EOF)
			return -EIO;
	}
	return 0;
}

const struct pps_probe_ops pps_probe_tcp_synscan = {
	.name = "tcp_synscan",
	.help = "TCP SYN with the SYN cookie as its sequence number (--tcp-options: its "
		"options); SYN-ACK with ack = cookie + 1 is synack (open, answered with a RST "
		"unless --no-rst), RST with ack = cookie or cookie + 1 is rst (closed)",
	.id = PPS_PROBE_TCP_SYNSCAN,
	.classes = classes,
	.n_classes = sizeof(classes) / sizeof(classes[0]),
	.fields = pps_fields_tcp_synscan,
	.n_fields = PPS_FIELDS_TCP_SYNSCAN_N,
	.check_args = synscan_check_args,
	.frame_bytes = synscan_frame_bytes,
	.init = synscan_init,
	.fini = synscan_fini,
	.fill_burst = synscan_fill_burst,
	.classify_burst = synscan_classify_burst,
	.fill_replies = synscan_fill_replies,
	.bpf_filter = synscan_bpf_filter,
	.dryrun_fields = dryrun_fields,
	.n_dryrun_fields = sizeof(dryrun_fields) / sizeof(dryrun_fields[0]),
	.dryrun_header = "daddr,dport,sport,seqnum",
	.dryrun_burst = synscan_dryrun_burst,
};

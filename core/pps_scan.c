#include "pps_scan.h"

#include "pps_fastdiv_avx512.h"
#include "pps_shard.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

int pps_scan_init(struct pps_scan *s, const struct pps_config *cfg, const uint8_t src_mac[6],
		  const uint8_t dst_mac[6], int with_ethernet)
{
	struct pps_template_params prm = { 0 };
	uint64_t st = cfg->seed;
	uint64_t perm_seed;
	int rc;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->targets = cfg->targets;
	s->ports = cfg->ports;
	s->n_ports = cfg->ports->n;
	s->n = cfg->n_probes;
	s->probes = cfg->probes ? cfg->probes : 1;
	s->n_sel = cfg->max_targets && cfg->max_targets < s->n ? cfg->max_targets : s->n;
	s->total = s->n_sel * s->probes;
	s->sources = cfg->sources;
	s->n_sources = cfg->sources ? cfg->sources->n_addresses : 1;
	if (s->n_sources == 0)
		return -EINVAL;
	s->src_ip_h = cfg->src_ip_h;
	s->sport_first_h = cfg->sport_first_h;
	s->n_sports = (uint32_t)cfg->sport_last_h - cfg->sport_first_h + 1;
	pps_fastdiv_init(&s->div_sel, s->n_sel);
	pps_fastdiv_init(&s->div_ports, s->n_ports);
	pps_fastdiv_init(&s->div_sports, s->n_sports);
	pps_fastdiv_init(&s->div_sources, s->n_sources);

	perm_seed = pps_splitmix64(&st);
	s->key.k0 = pps_splitmix64(&st);
	s->key.k1 = pps_splitmix64(&st);
	if ((rc = pps_perm_init(&s->perm, s->n, perm_seed)) < 0)
		return rc;

	if (with_ethernet) {
		memcpy(prm.src_mac, src_mac, 6);
		memcpy(prm.dst_mac, dst_mac, 6);
	}
	prm.with_ethernet = with_ethernet;
	prm.src_ip_h = cfg->src_ip_h;
	prm.ttl = cfg->ttl;
	prm.window_h = 65535;
	prm.mss_h = 1460;
	prm.options = cfg->tcpopt;
	if ((rc = pps_template_build(&s->tmpl, &prm)) < 0)
		return rc;
	prm.rst = 1;
	if ((rc = pps_template_build(&s->rst_tmpl, &prm)) < 0)
		return rc;

	s->dedup = pps_dedup_new(s->n);
	if (!s->dedup)
		return -ENOMEM;
	return 0;
}

void pps_scan_fini(struct pps_scan *s)
{
	pps_dedup_free(s->dedup);
	s->dedup = NULL;
}

#if PPS_HAVE_AVX512_CODE
/*
 * The split of pps_scan_fill_burst() for one target block, eight lanes a vector: t[k] ->
 * address first_h + t[k] div n_ports and port plist[t[k] mod n_ports] (pps_divmod_v(), the
 * same exact division as the scalar loop). Returns the lanes done (whole vectors of @w); the
 * caller's scalar loop does the rest. Only called where pps_cpu_has_avx512().
 */
__attribute__((target("avx512f"))) static unsigned split_one_range_avx512(
	const uint64_t *t, unsigned w, const struct pps_fastdiv *div_ports, uint32_t first_h,
	const uint16_t *plist, uint32_t *dip, uint16_t *dport)
{
	const struct pps_div_v d = pps_div_v_init(div_ports);
	const __m512i first = _mm512_set1_epi64(first_h);
	unsigned k = 0;

	for (; k + 8 <= w; k += 8) {
		__m512i rem, q = pps_divmod_v(_mm512_loadu_si512(t + k), &d, &rem);
		uint64_t r[8];

		_mm256_storeu_si256((__m256i *)(dip + k),
				    _mm512_cvtepi64_epi32(_mm512_add_epi64(q, first)));
		_mm512_storeu_si512(r, rem);
		for (int l = 0; l < 8; l++)
			dport[k + l] = plist[r[l]];
	}
	return k;
}
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
uint16_t pps_scan_fill_burst(const struct pps_scan *s, uint64_t j0, uint64_t stride, unsigned n,
			     uint8_t *const *bufs)
{
	uint64_t i[PPS_SCAN_BURST], r[PPS_SCAN_BURST], t[PPS_SCAN_BURST], h[PPS_SCAN_BURST];
	uint32_t dip[PPS_SCAN_BURST], sip[PPS_SCAN_BURST];
	uint16_t dport[PPS_SCAN_BURST], sport[PPS_SCAN_BURST];
	uint16_t ipcs[PPS_SCAN_BURST], tcpcs[PPS_SCAN_BURST];
	/* read once: the stores into the arrays above would otherwise make the compiler reload
	 * these from *s in every iteration */
	const struct pps_fastdiv div_ports = s->div_ports, div_sports = s->div_sports;
	const uint16_t *plist = s->ports->list;
	const int one_range = s->targets->n_ranges == 1;
	const uint32_t first_h = one_range ? s->targets->ranges[0].first_h : 0;
	const uint32_t src_ip_h = s->src_ip_h;
	const uint16_t sport_first_h = s->sport_first_h;

	while (n) {
		unsigned w = n < PPS_SCAN_BURST ? n : PPS_SCAN_BURST, k0;

		/* the steps of pps_scan_probe_at(), each over the whole burst */
		if (s->probes == 1)
			for (unsigned k = 0; k < w; k++)
				i[k] = j0 + k * stride;
		else
			for (unsigned k = 0; k < w; k++)
				r[k] = pps_fastdiv_divmod(&s->div_sel, j0 + k * stride, &i[k]);
		pps_perm_apply_burst(&s->perm, i, t, w);
		k0 = 0;
#if PPS_HAVE_AVX512_CODE
		if (one_range && pps_cpu_has_avx512())
			k0 = split_one_range_avx512(t, w, &div_ports, first_h, plist, dip, dport);
#endif
		/* the rest (or all): pps_targets_at() is a sum for one block, else a search */
		for (unsigned k = k0; k < w; k++) {
			uint64_t port_idx, a = pps_fastdiv_divmod(&div_ports, t[k], &port_idx);

			dip[k] = pps_targets_at(s->targets, a);
			dport[k] = plist[port_idx];
		}
		if (s->probes == 1) { /* i[k] = j0 + k * stride: step the remainder, no division */
			uint64_t m = pps_fastdiv_mod(&div_sports, j0);
			uint64_t step = pps_fastdiv_mod(&div_sports, stride);

			for (unsigned k = 0; k < w; k++) {
				sport[k] = (uint16_t)(sport_first_h + (uint32_t)m);
				m += step;
				m = m >= div_sports.d ? m - div_sports.d : m;
			}
		} else {
			for (unsigned k = 0; k < w; k++)
				sport[k] = (uint16_t)(sport_first_h +
						      (uint32_t)pps_fastdiv_mod(&div_sports, i[k] + r[k]));
		}
		if (s->n_sources == 1)
			for (unsigned k = 0; k < w; k++)
				sip[k] = src_ip_h;
		else
			for (unsigned k = 0; k < w; k++)
				sip[k] = pps_targets_at(s->sources,
							pps_fastdiv_mod(&s->div_sources, i[k]));
		pps_siphash24_4tuple_burst(&s->key, dip, sip, dport, sport, h, w);
		/* checksums lane-parallel (a loop the compiler vectorises), then the stores */
		for (unsigned k = 0; k < w; k++) {
			ipcs[k] = pps_template_ip_csum(&s->tmpl, sip[k], dip[k], (uint16_t)(h[k] >> 32));
			tcpcs[k] = pps_template_tcp_csum(&s->tmpl, sip[k], dip[k], dport[k], sport[k],
							 (uint32_t)h[k]);
		}
		for (unsigned k = 0; k < w; k++)
			pps_template_fill_csum(&s->tmpl, bufs[k], sip[k], dip[k], dport[k], sport[k],
					       (uint32_t)h[k], (uint16_t)(h[k] >> 32), ipcs[k],
					       tcpcs[k]);
		j0 += w * stride;
		bufs += w;
		n -= w;
	}
	return s->tmpl.len;
}

/*
 * Validation in two halves around the cookie, so the burst path can compute the cookies of
 * a whole burst at once. First half: the checks that need no cookie; PPS_V_SYNACK here means
 * "candidate", with the target index in *@target_index.
 */
static inline enum pps_verdict validate_pre(const struct pps_scan *s, const struct pps_tcp_pkt *t,
					    uint64_t *target_index)
{
	int64_t a;

	if (t->daddr_h != s->src_ip_h &&
	    (s->n_sources == 1 || pps_targets_index_of(s->sources, t->daddr_h) < 0))
		return PPS_V_NOT_OURS;
	if ((uint32_t)(uint16_t)(t->dport_h - s->sport_first_h) >= s->n_sports)
		return PPS_V_BAD_DPORT;
	if (!pps_ports_contains(s->ports, t->sport_h))
		return PPS_V_NOT_TARGET;
	a = pps_targets_index_of(s->targets, t->saddr_h);
	if (a < 0)
		return PPS_V_NOT_TARGET;
	*target_index = (uint64_t)a * s->n_ports + s->ports->index[t->sport_h];
	return PPS_V_SYNACK;
}

/*
 * Second half: flags and acknowledgment number against the cookie, then (for a response that
 * would be reported: few, so the cost stays off the common path) both checksums. A SYN-ACK
 * may carry PSH, ECE, CWR (ECN) but not FIN or URG; RST wins over every other flag (RFC 793
 * processes it first).
 */
static inline enum pps_verdict validate_cookie(const struct pps_tcp_pkt *t, uint32_t cookie)
{
	uint8_t f = t->flags;
	enum pps_verdict v;

	if (f & PPS_TCP_RST)
		v = (t->ack_h == cookie || t->ack_h == cookie + 1) ? PPS_V_RST : PPS_V_BAD_COOKIE;
	else if ((f & (PPS_TCP_SYN | PPS_TCP_ACK | PPS_TCP_FIN | PPS_TCP_URG)) ==
		 (PPS_TCP_SYN | PPS_TCP_ACK))
		v = t->ack_h == cookie + 1 ? PPS_V_SYNACK : PPS_V_BAD_COOKIE;
	else
		return PPS_V_BAD_FLAGS;
	if (v != PPS_V_BAD_COOKIE && t->ip && !pps_csum_ipv4_tcp_ok(t->ip, t->ihl, t->tcp_len))
		return PPS_V_BAD_CHECKSUM;
	return v;
}

enum pps_verdict pps_scan_validate(const struct pps_scan *s, const struct pps_tcp_pkt *t,
				   uint64_t *target_index)
{
	enum pps_verdict v = validate_pre(s, t, target_index);

	if (v != PPS_V_SYNACK)
		return v;
	return validate_cookie(
		t, (uint32_t)pps_cookie(&s->key, t->saddr_h, t->sport_h, t->daddr_h, t->dport_h));
}

/* After a verdict: counters, dedup, result (the tail both RX paths share). */
static inline void rx_judged(struct pps_scan *s, const struct pps_tcp_pkt *t, enum pps_verdict v,
			     uint64_t idx, uint64_t now_ns, int cooldown, struct pps_counters *c,
			     struct pps_ring *ring)
{
	struct pps_result r;

	if (v == PPS_V_NOT_OURS) {
		pps_counter_add(&c->other, 1);
		return;
	}
	if (v != PPS_V_SYNACK && v != PPS_V_RST) {
		pps_counter_add(&c->invalid, 1);
		return;
	}
	pps_counter_add(&c->valid, 1);
	if (pps_dedup_check_set(s->dedup, idx, t->saddr_h, t->sport_h)) {
		pps_counter_add(&c->dup, 1);
		return;
	}
	pps_counter_add(v == PPS_V_SYNACK ? &c->open : &c->closed, 1);
	r.saddr_h = t->saddr_h;
	r.daddr_h = t->daddr_h;
	r.sport_h = t->sport_h;
	r.dport_h = t->dport_h;
	r.seq_h = t->seq_h;
	r.ack_h = t->ack_h;
	r.window_h = t->window_h;
	r.ipid_h = t->ipid_h;
	r.ttl = t->ttl;
	r.classification = v == PPS_V_SYNACK ? PPS_CLASS_SYNACK : PPS_CLASS_RST;
	r.cooldown = (uint8_t)(cooldown != 0);
	r.pad = 0;
	r.pad2 = 0;
	r.ts_ns = now_ns;
	if (!pps_ring_push(ring, &r))
		pps_counter_add(&c->ring_full, 1);
}

enum pps_parse_kind pps_scan_rx(struct pps_scan *s, const uint8_t *frame, uint32_t len,
				int with_ethernet, uint64_t now_ns, int cooldown,
				struct pps_counters *c, struct pps_ring *ring, struct pps_pkt *pkt)
{
	enum pps_parse_kind k = pps_parse_frame(frame, len, with_ethernet, pkt);
	uint64_t idx = 0;
	enum pps_verdict v;

	pps_counter_add(&c->recv, 1);
	pkt->verdict = PPS_V_NONE;
	if (k == PPS_PKT_MALFORMED) {
		pps_counter_add(&c->malformed, 1);
		return k;
	}
	if (k != PPS_PKT_TCP) {
		pps_counter_add(&c->other, 1);
		return k;
	}
	v = pps_scan_validate(s, &pkt->tcp, &idx); /* sets idx: call it before reading idx */
	pkt->verdict = (uint8_t)v;
	rx_judged(s, &pkt->tcp, v, idx, now_ns, cooldown, c, ring);
	return k;
}

uint64_t pps_scan_rx_burst(struct pps_scan *s, const uint8_t *const *frames, const uint32_t *lens,
			   unsigned n, int with_ethernet, uint64_t now_ns, int cooldown,
			   struct pps_counters *c, struct pps_ring *ring, struct pps_pkt *pkts)
{
	uint64_t idx[PPS_SCAN_BURST], h[PPS_SCAN_BURST], arp = 0;
	uint32_t saddr[PPS_SCAN_BURST], daddr[PPS_SCAN_BURST];
	uint16_t sport[PPS_SCAN_BURST], dport[PPS_SCAN_BURST];
	uint8_t verdict[PPS_SCAN_BURST], cand[PPS_SCAN_BURST];
	unsigned m = 0;

	if (n > PPS_SCAN_BURST)
		n = PPS_SCAN_BURST;
	pps_counter_add(&c->recv, n);
	/* 1: parse, the checks without a cookie, prefetch the candidates' dedup words */
	for (unsigned k = 0; k < n; k++) {
		enum pps_parse_kind kind = pps_parse_frame(frames[k], lens[k], with_ethernet, &pkts[k]);
		const struct pps_tcp_pkt *t = &pkts[k].tcp;

		verdict[k] = PPS_V_NONE; /* not TCP: counted in step 1 */
		if (kind == PPS_PKT_MALFORMED) {
			pps_counter_add(&c->malformed, 1);
			continue;
		}
		if (kind != PPS_PKT_TCP) {
			pps_counter_add(&c->other, 1);
			if (kind == PPS_PKT_ARP)
				arp |= 1ULL << k;
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
	pps_siphash24_4tuple_burst(&s->key, saddr, daddr, sport, dport, h, m);
	for (unsigned q = 0; q < m; q++)
		verdict[cand[q]] = (uint8_t)validate_cookie(&pkts[cand[q]].tcp, (uint32_t)h[q]);
	/* 3: in frame order, so results enter the ring as pps_scan_rx() would push them */
	for (unsigned k = 0; k < n; k++) {
		pkts[k].verdict = verdict[k];
		if (verdict[k] != PPS_V_NONE)
			rx_judged(s, &pkts[k].tcp, (enum pps_verdict)verdict[k], idx[k], now_ns,
				  cooldown, c, ring);
	}
	return arp;
}

int pps_scan_slice(const struct pps_scan *s, unsigned thread, struct pps_slice *sl)
{
	const struct pps_config *cfg = s->cfg;
	int rc = pps_slice_init(sl, s->total, cfg->shard, cfg->shards, thread, cfg->sender_threads);

	if (rc < 0)
		return rc;
	if (cfg->n_resume_next) {
		uint64_t next = cfg->resume_next[thread];
		/* a resume position must lie on this slice's lattice, at most one step past its end */
		if (next < sl->next || (next - sl->next) % sl->stride ||
		    next - sl->next > pps_slice_remaining(sl) * sl->stride)
			return -EINVAL;
		sl->next = next;
	}
	return 0;
}

uint64_t pps_scan_planned(const struct pps_scan *s)
{
	uint64_t n = 0;

	for (unsigned k = 0; k < s->cfg->sender_threads; k++) {
		struct pps_slice sl;
		if (pps_scan_slice(s, k, &sl) == 0)
			n += pps_slice_remaining(&sl);
	}
	return n;
}

int pps_scan_dryrun(const struct pps_config *cfg, FILE *out, FILE *err)
{
	static const uint8_t zero[6];
	struct pps_scan s;
	char ip[16];
	int rc = pps_scan_init(&s, cfg, zero, zero, 1);

	if (rc < 0)
		return rc;
	fprintf(err, "%s: dry run, seed %" PRIu64 ", shard %u of %u, %u sender thread(s)\n",
		cfg->prog, cfg->seed, cfg->shard, cfg->shards, cfg->sender_threads);
	fprintf(out, "daddr,dport,sport,seqnum\n");
	for (uint32_t k = 0; k < cfg->sender_threads && !rc; k++) {
		struct pps_slice sl;

		if ((rc = pps_scan_slice(&s, k, &sl)) < 0)
			break;
		for (uint64_t j = sl.next; j < sl.end; j += sl.stride) {
			struct pps_probe p;

			pps_scan_probe_at(&s, j, &p);
			pps_format_ipv4(p.dst_ip_h, ip);
			if (fprintf(out, "%s,%u,%u,%" PRIu32 "\n", ip, p.dst_port_h, p.src_port_h,
				    p.seq_h) < 0) {
				rc = -EIO;
				break;
			}
		}
	}
	pps_scan_fini(&s);
	if (fflush(out) && !rc)
		rc = -errno;
	return rc;
}

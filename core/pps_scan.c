/*
 * The index space of a scan (pps_scan.h): seed expansion, the targets of a burst, the
 * senders' slices and the dry run. Probe bytes and verdicts are the probe module's
 * (core/probe/); this file calls it once per burst.
 */
#include "pps_scan.h"

#include "pps_fastdiv_avx512.h"
#include "pps_shard.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

int pps_scan_init(struct pps_scan *s, const struct pps_config *cfg, const uint8_t src_mac[6],
		  const uint8_t dst_mac[6], int with_ethernet)
{
	uint64_t st = cfg->seed;
	uint64_t perm_seed;
	int rc;

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->probe = cfg->probe ? cfg->probe : pps_probe_default();
	s->targets = cfg->targets;
	s->ports = cfg->ports;
	s->n_ports = cfg->ports->n;
	s->n = cfg->target_space;
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
	s->with_ethernet = with_ethernet;
	if (with_ethernet) {
		memcpy(s->src_mac, src_mac, 6);
		memcpy(s->dst_mac, dst_mac, 6);
	}
	pps_fastdiv_init(&s->div_sel, s->n_sel);
	pps_fastdiv_init(&s->div_ports, s->n_ports);
	pps_fastdiv_init(&s->div_sports, s->n_sports);
	pps_fastdiv_init(&s->div_sources, s->n_sources);
	{
		uint64_t a = s->n_sources, b = s->n_sports;

		while (b) {
			uint64_t t = a % b;
			a = b;
			b = t;
		}
		s->pair_shift = a > 1; /* a = gcd */
		pps_fastdiv_init(&s->div_pair, s->n_sources / a * s->n_sports);
	}

	perm_seed = pps_splitmix64(&st);
	s->key.k0 = pps_splitmix64(&st);
	s->key.k1 = pps_splitmix64(&st);
	if ((rc = pps_perm_init(&s->perm, s->n, perm_seed)) < 0)
		return rc;
	s->dedup = pps_dedup_new(s->n, cfg->dedup_memory);
	if (!s->dedup)
		return -ENOMEM;
	if (cfg->banners && !(s->dedup_data = pps_dedup_new(s->n, cfg->dedup_memory)))
		return -ENOMEM;
	return s->probe->init(s);
}

void pps_scan_fini(struct pps_scan *s)
{
	if (s->probe && s->probe->fini)
		s->probe->fini(s);
	s->probe_priv = NULL;
	pps_dedup_free(s->dedup);
	s->dedup = NULL;
	pps_dedup_free(s->dedup_data);
	s->dedup_data = NULL;
}

unsigned pps_scan_frame_max(const struct pps_scan *s)
{
	unsigned n = s->probe->frame_bytes(s->cfg);

	return n < PPS_ETH_MIN_FRAME ? PPS_ETH_MIN_FRAME : n;
}

#if PPS_HAVE_AVX512_CODE
/*
 * The split of pps_scan_targets_burst() for one target block, eight lanes a vector: t[k] ->
 * address first_h + t[k] div n_ports and port plist[t[k] mod n_ports] (pps_divmod_v(), the
 * same exact division as the scalar loop). Returns the lanes done (whole vectors of @w); the
 * caller's scalar loop does the rest. Only called where pps_cpu_has_avx512().
 */
__attribute__((target("avx512f"))) static unsigned
split_one_range_avx512(const uint64_t *t, unsigned w, const struct pps_fastdiv *div_ports,
		       uint32_t first_h, const uint16_t *plist, uint32_t *dip, uint16_t *dport)
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
void pps_scan_targets_burst(const struct pps_scan *s, uint64_t j0, uint64_t stride, unsigned n,
			    struct pps_target_burst *tb)
{
	uint64_t i[PPS_BURST], r[PPS_BURST], t[PPS_BURST];
	/* read once: the stores into the arrays would otherwise make the compiler reload these
	 * from *s in every iteration */
	const struct pps_fastdiv div_ports = s->div_ports, div_sports = s->div_sports;
	const uint16_t *plist = s->ports->list;
	const uint32_t src_ip_h = s->src_ip_h;
	const uint16_t sport_first_h = s->sport_first_h;
	unsigned k0 = 0;

	tb->n = n;
	if (n == 0)
		return;
	/* the steps of pps_scan_target_at(), each over the whole burst */
	if (s->probes == 1)
		for (unsigned k = 0; k < n; k++)
			i[k] = j0 + k * stride;
	else
		for (unsigned k = 0; k < n; k++)
			r[k] = pps_fastdiv_divmod(&s->div_sel, j0 + k * stride, &i[k]);
	pps_perm_apply_burst(&s->perm, i, t, n);
#if PPS_HAVE_AVX512_CODE
	if (s->targets->n_ranges == 1 && pps_cpu_has_avx512())
		k0 = split_one_range_avx512(t, n, &div_ports, s->targets->ranges[0].first_h, plist,
					    tb->dst_ip_h, tb->dst_port_h);
#endif
	/* the rest (or all): pps_targets_at() is a sum for one block, else a search */
	for (unsigned k = k0; k < n; k++) {
		uint64_t port_idx, a = pps_fastdiv_divmod(&div_ports, t[k], &port_idx);

		tb->dst_ip_h[k] = pps_targets_at(s->targets, a);
		tb->dst_port_h[k] = plist[port_idx];
	}
	if (s->probes == 1 && !s->pair_shift) { /* i[k] = j0 + k * stride: step, no division */
		uint64_t m = pps_fastdiv_mod(&div_sports, j0);
		uint64_t step = pps_fastdiv_mod(&div_sports, stride);

		for (unsigned k = 0; k < n; k++) {
			tb->src_port_h[k] = (uint16_t)(sport_first_h + (uint32_t)m);
			m += step;
			m = m >= div_sports.d ? m - div_sports.d : m;
		}
	} else {
		for (unsigned k = 0; k < n; k++)
			tb->src_port_h[k] = (uint16_t)(sport_first_h +
						       pps_scan_sport_index(
							       s, i[k], s->probes == 1 ? 0 : r[k]));
	}
	if (s->n_sources == 1)
		for (unsigned k = 0; k < n; k++)
			tb->src_ip_h[k] = src_ip_h;
	else
		for (unsigned k = 0; k < n; k++)
			tb->src_ip_h[k] =
				pps_targets_at(s->sources, pps_fastdiv_mod(&s->div_sources, i[k]));
}

void pps_scan_fill_burst(const struct pps_scan *s, uint64_t j0, uint64_t stride, unsigned n,
			 uint8_t *const *bufs, uint16_t *lens)
{
	struct pps_target_burst tb;

	while (n) {
		unsigned w = n < PPS_BURST ? n : PPS_BURST;

		pps_scan_targets_burst(s, j0, stride, w, &tb);
		s->probe->fill_burst(s, &tb, bufs, lens);
		j0 += w * stride;
		bufs += w;
		lens += w;
		n -= w;
	}
}

uint64_t pps_scan_rx_burst(struct pps_scan *s, const uint8_t *const *frames, const uint32_t *lens,
			   unsigned n, int with_ethernet, uint64_t now_ns, int cooldown,
			   struct pps_counters *c, struct pps_ring *ring, struct pps_pkt *pkts)
{
	struct pps_rx_burst b = {
		.n = n < PPS_BURST ? n : PPS_BURST,
		.frames = frames,
		.lens = lens,
		.with_ethernet = with_ethernet,
		.now_ns = now_ns,
		.cooldown = cooldown,
		.c = c,
		.ring = ring,
		.pkt = pkts,
	};

	pps_scan_classify(s, &b);
	return b.arp;
}

enum pps_parse_kind pps_scan_rx(struct pps_scan *s, const uint8_t *frame, uint32_t len,
				int with_ethernet, uint64_t now_ns, int cooldown,
				struct pps_counters *c, struct pps_ring *ring, struct pps_pkt *pkt)
{
	pps_scan_rx_burst(s, &frame, &len, 1, with_ethernet, now_ns, cooldown, c, ring, pkt);
	return pkt->kind;
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
	static uint8_t frames[PPS_BURST][PPS_FRAME_MAX];
	uint8_t *bufs[PPS_BURST];
	uint16_t lens[PPS_BURST];
	struct pps_target_burst tb;
	struct pps_scan s;
	uint8_t cols[sizeof(cfg->dryrun_cols)];
	char why[256], src[96];
	int n_cols = (int)cfg->n_dryrun_cols, rc = pps_scan_init(&s, cfg, zero, zero, 1);

	if (rc < 0) {
		pps_scan_fini(&s);
		return rc;
	}
	if (n_cols)
		memcpy(cols, cfg->dryrun_cols, (size_t)n_cols);
	else if ((n_cols = pps_probe_dryrun_cols(s.probe, s.probe->dryrun_header, cols,
						 sizeof(cols), why, sizeof(why))) < 0) {
		rc = n_cols;
		goto out;
	}
	for (unsigned k = 0; k < PPS_BURST; k++)
		bufs[k] = frames[k];
	pps_config_sources_text(cfg, src, sizeof(src));
	fprintf(err,
		"%s: dry run, probe module %s, source %s, seed %" PRIu64
		", shard %u of %u, %u sender thread(s)\n",
		cfg->prog, s.probe->name, src, cfg->seed, cfg->shard, cfg->shards,
		cfg->sender_threads);
	for (int c = 0; c < n_cols; c++)
		fprintf(out, "%s%s", c ? "," : "", s.probe->dryrun_fields[cols[c]]);
	fputc('\n', out);
	for (uint32_t k = 0; k < cfg->sender_threads && !rc; k++) {
		struct pps_slice sl;

		if ((rc = pps_scan_slice(&s, k, &sl)) < 0)
			break;
		while (sl.next < sl.end && !rc) {
			uint64_t left = pps_slice_remaining(&sl);
			unsigned w = left < PPS_BURST ? (unsigned)left : PPS_BURST;

			pps_scan_targets_burst(&s, sl.next, sl.stride, w, &tb);
			s.probe->fill_burst(&s, &tb, bufs, lens);
			rc = s.probe->dryrun_burst(&s, &tb, bufs, lens, cols, (unsigned)n_cols,
						   out);
			sl.next += w * sl.stride;
		}
	}
out:
	pps_scan_fini(&s);
	if (fflush(out) && !rc)
		rc = -errno;
	return rc;
}

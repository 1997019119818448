/*
 * pps_scan.h - one scan's read-only state and what both backends do with it per burst:
 * "write probes j0, j0 + stride, ... into these buffers" (TX) and "judge these frames" (RX),
 * both through the scan's probe module (probe/pps_probe.h).
 *
 * Index space: j in [0, total), total = m * probes, m = min(n, --max-targets),
 * n = n_addresses * n_ports (the target space). Pass r = j / m, i = j mod m (so a target's
 * probes are m indices apart: spread in time). t = perm(i) (a bijection of [0, n), so the
 * first m indices are a random sample); the target is address t / n_ports, port t % n_ports;
 * the source port is first + (i + r) mod n_source_ports, the source address number
 * i mod n_source_addresses. Worked example: 2 addresses x 2 ports, one probe each: n = 4,
 * j = i = 2, perm(2) = 3 gives address 1, port 1.
 */
#ifndef PPS_SCAN_H
#define PPS_SCAN_H

#include <stdint.h>
#include <stdio.h>

#include "pps_config.h"
#include "pps_cookie.h"
#include "pps_dedup.h"
#include "pps_fastdiv.h"
#include "pps_parse.h"
#include "pps_permutation.h"
#include "pps_result.h"
#include "pps_ring.h"
#include "pps_shard.h"
#include "pps_stats.h"
#include "probe/pps_probe.h"

struct pps_scan {
	const struct pps_config *cfg;
	const struct pps_targets *targets;
	const struct pps_ports *ports;
	const struct pps_probe_ops *probe; /* the probe module (cfg->probe), called per burst */
	void *probe_priv;		   /* its state: templates, tables (its init() owns it) */
	struct pps_perm perm;
	struct pps_siphash_key key;
	uint64_t n;	/* the target space: n_addresses * n_ports */
	uint64_t n_sel; /* targets selected: min(n, -n/--max-targets) */
	uint64_t total; /* probes: n_sel * cfg->probes; the index space senders walk */
	uint32_t probes;
	uint32_t n_ports;
	uint32_t src_ip_h;		   /* the first (or only) source address */
	const struct pps_targets *sources; /* all source addresses */
	uint64_t n_sources;
	uint16_t sport_first_h;
	uint32_t n_sports;
	int with_ethernet;  /* 1: frames carry an Ethernet header; 0: bare IPv4 (tun links) */
	uint8_t src_mac[6]; /* the probes' source and destination (next hop) MACs */
	uint8_t dst_mac[6];
	struct pps_dedup *dedup;      /* owned by the RX thread */
	struct pps_dedup *dedup_data; /* --banners: the second answer per target (RX thread) */
	/* (source address, source port) pairs: with gcd(n_sources, n_sports) > 1 the rotation
	 * (i mod n_sources, i mod n_sports) repeats after lcm of them; the port then moves one
	 * further each lcm indices, so every pair occurs (pair_shift 1, div_pair by the lcm) */
	int pair_shift;
	/* reciprocals of the per-probe divisors (pps_fastdiv.h): no divide instruction per probe */
	struct pps_fastdiv div_sel, div_ports, div_sports, div_sources, div_pair;
};

/**
 * pps_scan_sport_index - the source port's place in the range for pre-permutation index @i
 * of pass @r: (i + r) mod n_sports, plus one each lcm(n_sources, n_sports) indices when the
 * two counts share a factor, so that the probes use every (source address, source port)
 * pair (the address is i mod n_sources), each equally often over a whole space.
 */
static inline uint32_t pps_scan_sport_index(const struct pps_scan *s, uint64_t i, uint64_t r)
{
	uint64_t shift = 0, rem;

	if (s->pair_shift)
		shift = pps_fastdiv_divmod(&s->div_pair, i, &rem);
	return (uint32_t)pps_fastdiv_mod(&s->div_sports, i + r + shift);
}

/** One probe's target, as the index space gives it (host order). */
struct pps_target {
	uint32_t src_ip_h;
	uint32_t dst_ip_h;
	uint16_t dst_port_h;
	uint16_t src_port_h; /* the rotating default (struct pps_target_burst) */
};

/**
 * pps_scan_init - derives the permutation and the SipHash key from cfg->seed (SplitMix64
 * expansion, so a seed reproduces order and cookies), sizes the dedup structure and lets
 * the probe module (cfg->probe) build its templates with @src_mac and @dst_mac (ignored when
 * @with_ethernet is 0). Returns 0 or -errno (-ENOMEM, -EINVAL); undo with pps_scan_fini().
 */
int pps_scan_init(struct pps_scan *s, const struct pps_config *cfg, const uint8_t src_mac[6],
		  const uint8_t dst_mac[6], int with_ethernet);

/** pps_scan_fini - frees what pps_scan_init() allocated (also after it failed). */
void pps_scan_fini(struct pps_scan *s);

/** pps_scan_target_at - the target of probe index @j (0 <= j < s->total), one at a time. */
static inline void pps_scan_target_at(const struct pps_scan *s, uint64_t j, struct pps_target *t)
{
	uint64_t i = j, r = s->probes == 1 ? 0 : pps_fastdiv_divmod(&s->div_sel, j, &i);
	uint64_t p = pps_perm_apply(&s->perm, i);
	uint64_t port_idx, a = pps_fastdiv_divmod(&s->div_ports, p, &port_idx);

	t->dst_ip_h = pps_targets_at(s->targets, a);
	t->dst_port_h = s->ports->list[port_idx];
	t->src_port_h = (uint16_t)(s->sport_first_h + pps_scan_sport_index(s, i, r));
	t->src_ip_h = s->n_sources == 1
			      ? s->src_ip_h
			      : pps_targets_at(s->sources, pps_fastdiv_mod(&s->div_sources, i));
}

/**
 * pps_scan_targets_burst - the targets of probes @j0, @j0 + @stride, ... (@n <= PPS_BURST of
 * them, each < s->total) into @tb: lane k is what pps_scan_target_at() gives for
 * j0 + k * stride, computed a burst at a time (the permutation 32 indices per AVX-512 call,
 * the divisions by multiply-shift, eight lanes a vector where the CPU has AVX-512).
 */
void pps_scan_targets_burst(const struct pps_scan *s, uint64_t j0, uint64_t stride, unsigned n,
			    struct pps_target_burst *tb);

/**
 * pps_scan_fill_burst - writes probes @j0, @j0 + @stride, ... (@n of them, any number, each
 * < s->total) into @bufs[0..n) (caller-owned, each at least pps_scan_frame_max() bytes: mbuf
 * data areas or TX-ring frames) and their lengths in bytes into @lens[0..n): the targets a
 * burst at a time, then the probe module's fill_burst(). No allocation.
 */
void pps_scan_fill_burst(const struct pps_scan *s, uint64_t j0, uint64_t stride, unsigned n,
			 uint8_t *const *bufs, uint16_t *lens);

/** pps_scan_frame_max - bytes the largest probe or control frame of this scan needs. */
unsigned pps_scan_frame_max(const struct pps_scan *s);

/**
 * pps_scan_classify - judges the b->n frames of @b (n <= PPS_BURST) with the probe module:
 * counts each in b->c, pushes new results to b->ring in frame order, sets b->arp (frames
 * for the control path to answer) and b->reply (frames the module answers with
 * pps_scan_fill_replies()). The receive loop's one call per burst.
 */
static inline void pps_scan_classify(struct pps_scan *s, struct pps_rx_burst *b)
{
	pps_counter_add(&b->c->recv, b->n);
	b->arp = 0;
	b->reply = 0;
	s->probe->classify_burst(s, b);
}

/**
 * pps_scan_fill_replies - the module's control frames for the bits of b->reply, written
 * into @bufs (each at least pps_scan_frame_max() bytes) with lengths in @lens. Returns how
 * many (0 for a module that never answers).
 */
static inline unsigned pps_scan_fill_replies(const struct pps_scan *s, const struct pps_rx_burst *b,
					     uint8_t *const *bufs, uint16_t *lens)
{
	return s->probe->fill_replies ? s->probe->fill_replies(s, b, bufs, lens) : 0;
}

/**
 * pps_scan_rx_burst - pps_scan_classify() for @n (<= PPS_BURST) frames @frames[k] of
 * @lens[k] bytes, parsed into @pkts[k] (caller-owned, @n entries), software checksums.
 * Returns the ARP mask (b->arp); @pkts[k].verdict is frame k's enum pps_verdict.
 */
uint64_t pps_scan_rx_burst(struct pps_scan *s, const uint8_t *const *frames, const uint32_t *lens,
			   unsigned n, int with_ethernet, uint64_t now_ns, int cooldown,
			   struct pps_counters *c, struct pps_ring *ring, struct pps_pkt *pkts);

/**
 * pps_scan_rx - pps_scan_rx_burst() for one frame. Returns its parse kind; for PPS_PKT_ARP
 * the parsed ARP fields are in @pkt for the caller.
 */
enum pps_parse_kind pps_scan_rx(struct pps_scan *s, const uint8_t *frame, uint32_t len,
				int with_ethernet, uint64_t now_ns, int cooldown,
				struct pps_counters *c, struct pps_ring *ring, struct pps_pkt *pkt);

/*
 * For the modules' classify_burst(): the steps every module shares.
 */

/**
 * pps_scan_rx_skip - counts frame @k of parse kind @kind that the module does not judge:
 * malformed, or not ours (c->not_ours; an ARP frame also noted in *@arp for the control path).
 */
static inline void pps_scan_rx_skip(struct pps_counters *c, enum pps_parse_kind kind, unsigned k,
				    uint64_t *arp)
{
	if (kind == PPS_PKT_MALFORMED) {
		pps_counter_add(&c->malformed, 1);
		return;
	}
	pps_counter_add(&c->not_ours, 1);
	if (kind == PPS_PKT_ARP)
		*arp |= 1ULL << k;
}

/** pps_scan_rx_reject - counts a frame the module judged not to be a result (@v). */
static inline void pps_scan_rx_reject(struct pps_counters *c, enum pps_verdict v)
{
	pps_counter_add(v == PPS_V_NOT_OURS ? &c->not_ours : &c->invalid, 1);
}

/* The accept step of the two below: @d is the dedup structure the answer counts in. */
static inline struct pps_result *pps_scan_rx_accept_in(struct pps_dedup *d, struct pps_counters *c,
						       struct pps_ring *ring, uint64_t idx,
						       uint32_t saddr_h, uint16_t sport_h,
						       _Atomic uint64_t *outcome)
{
	struct pps_result *r;

	pps_counter_add(&c->valid, 1);
	if (pps_dedup_check_set(d, idx, saddr_h, sport_h)) {
		pps_counter_add(&c->dup, 1);
		return NULL;
	}
	pps_counter_add(outcome, 1);
	r = pps_ring_reserve(ring);
	if (!r)
		pps_counter_add(&c->ring_full, 1);
	return r;
}

/**
 * pps_scan_rx_accept_as - a validated response from @saddr_h:@sport_h (target index @idx):
 * counts it valid in @c, then a repeat (dedup) as a duplicate, a new one in @outcome (one of
 * @c's counters: open, closed, unreach). Returns the slot of @ring for the new result, for
 * the module to fill and publish with pps_ring_commit(); NULL for a repeat or a full ring
 * (counted ring_full).
 */
static inline struct pps_result *pps_scan_rx_accept_as(struct pps_scan *s, struct pps_counters *c,
						       struct pps_ring *ring, uint64_t idx,
						       uint32_t saddr_h, uint16_t sport_h,
						       _Atomic uint64_t *outcome)
{
	return pps_scan_rx_accept_in(s->dedup, c, ring, idx, saddr_h, sport_h, outcome);
}

/** pps_scan_rx_accept_data - pps_scan_rx_accept_as() for a target's second answer (--banners:
 * what it did after the ACK), deduplicated on its own (s->dedup_data), counted in banners. */
static inline struct pps_result *pps_scan_rx_accept_data(struct pps_scan *s, struct pps_counters *c,
							 struct pps_ring *ring, uint64_t idx,
							 uint32_t saddr_h, uint16_t sport_h)
{
	return pps_scan_rx_accept_in(s->dedup_data, c, ring, idx, saddr_h, sport_h, &c->banners);
}

/** pps_scan_rx_accept - pps_scan_rx_accept_as() counting a new response open (@success) or
 * closed. */
static inline struct pps_result *pps_scan_rx_accept(struct pps_scan *s, struct pps_counters *c,
						    struct pps_ring *ring, uint64_t idx,
						    uint32_t saddr_h, uint16_t sport_h, int success)
{
	return pps_scan_rx_accept_as(s, c, ring, idx, saddr_h, sport_h,
				     success ? &c->open : &c->closed);
}

/**
 * pps_scan_target_index - the dedup index of target @saddr_h:@sport_h (address index *
 * n_ports + port index), or -1 when it is no target of this scan.
 */
static inline int64_t pps_scan_target_index(const struct pps_scan *s, uint32_t saddr_h,
					    uint16_t sport_h)
{
	int64_t a;

	if (!pps_ports_contains(s->ports, sport_h))
		return -1;
	a = pps_targets_index_of(s->targets, saddr_h);
	return a < 0 ? -1 : a * (int64_t)s->n_ports + s->ports->index[sport_h];
}

/** pps_scan_is_source - 1 if @ip_h is one of our source addresses (-S). */
static inline int pps_scan_is_source(const struct pps_scan *s, uint32_t ip_h)
{
	return ip_h == s->src_ip_h ||
	       (s->n_sources > 1 && pps_targets_index_of(s->sources, ip_h) >= 0);
}

/**
 * pps_scan_slice - sender thread @thread's share of this scan (cfg shard/shards and
 * sender_threads, pps_shard.h), starting where a resumed scan left off (cfg->resume_next).
 * Returns 0 or -EINVAL.
 */
int pps_scan_slice(const struct pps_scan *s, unsigned thread, struct pps_slice *sl);

/** pps_scan_planned - probes this run will send over all its sender threads. */
uint64_t pps_scan_planned(const struct pps_scan *s);

/**
 * pps_scan_dryrun - --dryrun: writes every probe of @cfg's scan as CSV (the module's header,
 * tcp_synscan: daddr,dport,sport,seqnum) to @out, in send order, read back from the frames
 * the senders would send, and a one-line note on @err. Needs no device and no privilege.
 * Returns 0, or -errno.
 */
int pps_scan_dryrun(const struct pps_config *cfg, FILE *out, FILE *err);

#endif /* PPS_SCAN_H */

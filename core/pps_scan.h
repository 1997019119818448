/*
 * pps_scan.h - one scan's read-only state and the two per-packet operations both backends
 * share: "write probe i into this buffer" (TX) and "judge this frame" (RX).
 *
 * Index space: j in [0, total), total = m * probes, m = min(n, --max-targets),
 * n = n_addresses * n_ports. Pass r = j / m, i = j mod m (so a target's probes are m indices
 * apart: spread in time). t = perm(i) (a bijection of [0, n), so the first m indices are a
 * random sample); the target is address t / n_ports, port t % n_ports; the source port is
 * first + (i + r) mod n_source_ports, the source address number i mod n_source_addresses.
 * The SYN cookie is SipHash-2-4 over (dst ip, src ip, dst port, src port) (pps_cookie.h).
 */
#ifndef PPS_SCAN_H
#define PPS_SCAN_H

#include <stdint.h>

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
#include "pps_template.h"

struct pps_scan {
	const struct pps_config *cfg;
	const struct pps_targets *targets;
	const struct pps_ports *ports;
	struct pps_perm perm;
	struct pps_siphash_key key;
	struct pps_template tmpl;
	struct pps_template rst_tmpl; /* the RST that closes a half-open connection */
	uint64_t n;	/* targets: n_addresses * n_ports */
	uint64_t n_sel; /* targets selected: min(n, -n/--max-targets) */
	uint64_t total; /* probes: n_sel * cfg->probes; the index space senders walk */
	uint32_t probes;
	uint32_t n_ports;
	uint32_t src_ip_h;			/* the first (or only) source address */
	const struct pps_targets *sources;	/* all source addresses */
	uint64_t n_sources;
	uint16_t sport_first_h;
	uint32_t n_sports;
	struct pps_dedup *dedup; /* owned by the RX thread */
	/* reciprocals of the per-probe divisors (pps_fastdiv.h): no divide instruction per probe */
	struct pps_fastdiv div_sel, div_ports, div_sports, div_sources;
};

/** One probe's identity, as --dryrun prints it and tests check it. */
struct pps_probe {
	uint32_t src_ip_h;
	uint32_t dst_ip_h;
	uint16_t dst_port_h;
	uint16_t src_port_h;
	uint32_t seq_h;
	uint16_t ipid_h;
};

/**
 * pps_scan_init - derives the permutation and the SipHash key from cfg->seed (SplitMix64
 * expansion, so a seed reproduces order and cookies), builds the template with @src_mac and
 * @dst_mac (ignored when @with_ethernet is 0) and sizes the dedup structure. Returns 0 or
 * -errno (-ENOMEM, -EINVAL).
 */
int pps_scan_init(struct pps_scan *s, const struct pps_config *cfg, const uint8_t src_mac[6],
		  const uint8_t dst_mac[6], int with_ethernet);

/** pps_scan_fini - frees what pps_scan_init() allocated. */
void pps_scan_fini(struct pps_scan *s);

/** pps_scan_probe_at - the probe with index @j (0 <= j < s->total). */
static inline void pps_scan_probe_at(const struct pps_scan *s, uint64_t j, struct pps_probe *p)
{
	uint64_t i = j, r = s->probes == 1 ? 0 : pps_fastdiv_divmod(&s->div_sel, j, &i);
	uint64_t t = pps_perm_apply(&s->perm, i);
	uint64_t port_idx, a = pps_fastdiv_divmod(&s->div_ports, t, &port_idx);
	uint64_t h;

	p->dst_ip_h = pps_targets_at(s->targets, a);
	p->dst_port_h = s->ports->list[port_idx];
	p->src_port_h =
		(uint16_t)(s->sport_first_h + (uint32_t)pps_fastdiv_mod(&s->div_sports, i + r));
	p->src_ip_h = s->n_sources == 1
			      ? s->src_ip_h
			      : pps_targets_at(s->sources, pps_fastdiv_mod(&s->div_sources, i));
	h = pps_cookie(&s->key, p->dst_ip_h, p->dst_port_h, p->src_ip_h, p->src_port_h);
	p->seq_h = (uint32_t)h;
	p->ipid_h = (uint16_t)(h >> 32);
}

/**
 * pps_scan_fill - writes probe @i (0 <= i < s->total) into @buf (caller-owned, >= s->tmpl.len bytes: an mbuf's
 * data area or a batch slot). Returns the frame length in bytes.
 */
static inline uint16_t pps_scan_fill(const struct pps_scan *s, uint64_t i, uint8_t *buf)
{
	struct pps_probe p;

	pps_scan_probe_at(s, i, &p);
	return pps_template_fill_src(&s->tmpl, buf, p.src_ip_h, p.dst_ip_h, p.dst_port_h,
				     p.src_port_h, p.seq_h, p.ipid_h);
}

/** Largest burst pps_scan_fill_burst() computes in one go (longer ones are split). */
#define PPS_SCAN_BURST 64

/**
 * pps_scan_fill_burst - writes probes @j0, @j0 + @stride, ... (@n of them, each < s->total)
 * into @bufs[0..n) (caller-owned, each >= s->tmpl.len bytes). Byte for byte what @n calls of
 * pps_scan_fill() write, computed a burst at a time: the permutation 32 indices per AVX-512
 * call (pps_perm_apply_burst()), the cookies eight per vector (pps_siphash24_4tuple_burst()),
 * so the TX loop should pass bursts of 32 or more. Returns the frame
 * length in bytes (the same for every probe).
 */
uint16_t pps_scan_fill_burst(const struct pps_scan *s, uint64_t j0, uint64_t stride, unsigned n,
			     uint8_t *const *bufs);

/** Verdicts of pps_scan_validate(). */
enum pps_verdict {
	PPS_V_SYNACK = 0,  /* genuine SYN-ACK */
	PPS_V_RST,	   /* genuine RST */
	PPS_V_NOT_OURS,	   /* not addressed to our source address (e.g. our own probes) */
	PPS_V_BAD_DPORT,   /* to a port outside our source-port range */
	PPS_V_NOT_TARGET,  /* from an address or port we did not probe */
	PPS_V_BAD_COOKIE,  /* ack does not match the SYN cookie */
	PPS_V_BAD_FLAGS,   /* neither SYN-ACK nor RST (a SYN-ACK with FIN or URG is neither) */
	PPS_V_BAD_CHECKSUM, /* cookie right, but the IPv4 or TCP checksum is wrong */
	PPS_V_NONE = 0xff, /* struct pps_pkt.verdict of a frame that is not TCP */
};

/**
 * pps_scan_validate - judges a parsed TCP segment (RFC 793 / ZMap validate.c / masscan
 * syn-cookie.c rules): SYN-ACK (without FIN or URG) is open only if it comes from a probed
 * address and port, to a source port of our range and one of our source addresses, with
 * ack == cookie + 1; RST (with or without ACK) is closed if ack is cookie or cookie + 1; and
 * both only with right checksums (pps_csum_ipv4_tcp_ok(), when @t came from a frame). Writes the target index (for dedup) to @target_index.
 */
enum pps_verdict pps_scan_validate(const struct pps_scan *s, const struct pps_tcp_pkt *t,
				   uint64_t *target_index);

/**
 * pps_scan_rx - the whole RX path for one frame: parse, validate, dedup, and on a new
 * result push it to @ring. Updates @c (owned by the calling RX thread). @now_ns is the
 * receive time (Unix ns); @cooldown marks results arriving after the last probe.
 * Returns the parse kind; for PPS_PKT_ARP the parsed ARP fields are in @pkt for the caller;
 * @pkt->verdict is the frame's enum pps_verdict (PPS_V_SYNACK for every genuine SYN-ACK,
 * repeats included: the caller answers those with pps_scan_fill_rst()).
 */
enum pps_parse_kind pps_scan_rx(struct pps_scan *s, const uint8_t *frame, uint32_t len,
				int with_ethernet, uint64_t now_ns, int cooldown,
				struct pps_counters *c, struct pps_ring *ring, struct pps_pkt *pkt);

/**
 * pps_scan_rx_burst - pps_scan_rx() for @n (<= PPS_SCAN_BURST) frames @frames[k] of @lens[k]
 * bytes: the same counters, the same results pushed in the same order, each frame parsed
 * into @pkts[k] (caller-owned, @n entries). Faster per frame: the frames are parsed and
 * pre-checked first, the dedup words of the candidates prefetched, their cookies computed
 * eight per vector, then judged in order. Returns a mask with bit k set where frame k is ARP
 * (its fields in @pkts[k].arp, for the caller to answer); @pkts[k].verdict as pps_scan_rx().
 */
uint64_t pps_scan_rx_burst(struct pps_scan *s, const uint8_t *const *frames, const uint32_t *lens,
			   unsigned n, int with_ethernet, uint64_t now_ns, int cooldown,
			   struct pps_counters *c, struct pps_ring *ring, struct pps_pkt *pkts);

/**
 * pps_scan_fill_rst - writes into @buf (caller-owned, >= s->rst_tmpl.len bytes) the RST that
 * closes the half-open connection a genuine SYN-ACK @synack reports (verdict PPS_V_SYNACK),
 * and returns its length in bytes. RFC 793 (3.4, reset generation): to a segment carrying an
 * ACK the reset is <SEQ=SEG.ACK><CTL=RST>; so seq = @synack->ack_h (our cookie + 1), from
 * the address and port the SYN-ACK was sent to, to the address and port it came from, TTL
 * and next-hop MAC as the probes'. Without it the target keeps the connection half-open
 * and retransmits its SYN-ACK (Linux: 5 times over ~1 min); masscan sends the same reset.
 * Never call it for a frame that failed validation: that would make the scanner a reflector.
 */
static inline uint16_t pps_scan_fill_rst(const struct pps_scan *s, const struct pps_tcp_pkt *synack,
					 uint8_t *buf)
{
	return pps_template_fill_src(&s->rst_tmpl, buf, synack->daddr_h, synack->saddr_h,
				     synack->sport_h, synack->dport_h, synack->ack_h,
				     (uint16_t)(synack->ack_h >> 16));
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
 * pps_scan_dryrun - --dryrun: writes every probe of @cfg's scan as CSV
 * (header daddr,dport,sport,seqnum) to @out, in send order, and a one-line note on @err.
 * Needs no device and no privilege. Returns 0, or -errno.
 */
int pps_scan_dryrun(const struct pps_config *cfg, FILE *out, FILE *err);

#endif /* PPS_SCAN_H */

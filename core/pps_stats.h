/*
 * pps_stats.h - per-thread counters (one cache-line-aligned struct per TX/RX loop, written
 * only by its owner, read by the monitor) and the text both binaries print: the ZMap-shaped
 * status line and the end-of-scan summary.
 */
#ifndef PPS_STATS_H
#define PPS_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/**
 * Counters of one loop. Written with relaxed atomic stores by the owning thread (a plain
 * add on x86), read with relaxed loads by the monitor; no locks.
 */
struct pps_counters {
	_Alignas(64) _Atomic uint64_t sent; /* probes handed to the device */
	_Atomic uint64_t tx_full;	    /* probes the device refused (retried) */
	_Atomic uint64_t recv;		    /* frames received */
	_Atomic uint64_t valid;		    /* responses that passed validation (incl. repeats) */
	_Atomic uint64_t open;		    /* unique SYN-ACKs */
	_Atomic uint64_t closed;	    /* unique RSTs */
	_Atomic uint64_t dup;		    /* valid repeats (retransmitted SYN-ACKs, ...) */
	_Atomic uint64_t invalid;	    /* addressed to us, failed validation */
	_Atomic uint64_t malformed;	    /* truncated / inconsistent headers */
	_Atomic uint64_t not_ours;	    /* not for us: other hosts, protocols, our own probes */
	_Atomic uint64_t ring_full;	    /* results lost because the output ring was full */
	_Atomic uint64_t rst;		    /* RSTs sent to close half-open connections */
	_Atomic uint64_t rst_lost;	    /* RSTs not sent (no buffer, queue or device room) */
	_Atomic uint64_t unreach;	    /* unique answers that are neither open nor closed (udp:
					       ICMP unreachables other than port unreachable) */
	_Atomic uint64_t banners;	    /* --banners: unique first answers after our ACK
					       (data, fin, rst_on_data) */
	_Atomic uint64_t acks;		    /* --banners: payload-less ACKs of our payload */
};

/** pps_counter_add - owner-thread increment (relaxed). */
static inline void pps_counter_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

/** A plain snapshot of summed counters plus the device's drop count. */
struct pps_totals {
	uint64_t sent, tx_full, recv, valid, open, closed, dup, invalid, malformed, not_ours,
		ring_full, rst, rst_lost, unreach, banners, acks;
	uint64_t nic_drops; /* rte_eth_stats imissed + rx_nombuf, or pcap ps_drop + ps_ifdrop */
};

/**
 * pps_totals_silent - of @targets probed, how many gave no answer that was reported (open,
 * closed or unreach): udp's open|filtered. Never negative.
 */
static inline uint64_t pps_totals_silent(const struct pps_totals *t, uint64_t targets)
{
	uint64_t answered = t->open + t->closed + t->unreach;

	return targets > answered ? targets - answered : 0;
}

/** pps_totals_sum - sums @n counter structs into @t (nic_drops left untouched). */
void pps_totals_sum(struct pps_totals *t, const struct pps_counters *c, size_t n);

/**
 * pps_totals_collect - a backend's totals: the @n_tx sender threads' counters @tx plus the
 * receive loop's @rx, summed into @t (nic_drops left untouched; the backend adds its device's).
 */
void pps_totals_collect(struct pps_totals *t, const struct pps_counters *tx, size_t n_tx,
			const struct pps_counters *rx);

/** What the status line needs besides the totals. */
struct pps_status_ctx {
	double elapsed_s;	/* since the first probe */
	double dt_s;		/* since the previous line */
	uint64_t total_probes;	/* probes the scan will send */
	unsigned probes;	/* probes per target (-P; 0 counts as 1) */
	int sending_done;	/* all probes sent: cooldown */
	double send_elapsed_s;	/* duration of the sending phase, once done (for the send avg) */
	double cooldown_left_s; /* cooldown still to come: all of it while sending (the time
				   left then is the sending's plus this, as ZMap counts it) */
};

/**
 * pps_hit_rate - percent of the targets probed so far that answered open: @t's open over
 * min(sent, targets), targets = @total_probes / @probes (-P sends each target once a pass,
 * the passes one after another). Counts targets, not probes, as ZMap's hit rate does. 0
 * before the first probe.
 */
double pps_hit_rate(const struct pps_totals *t, uint64_t total_probes, unsigned probes);

/**
 * pps_time_left_s - seconds left in the scan, as ZMap counts them: while sending, the probes
 * still to send at the average rate so far plus the cooldown still to come (all of it); after,
 * the cooldown left. Never negative; 0 while nothing has been sent (no rate yet).
 */
double pps_time_left_s(const struct pps_totals *now, const struct pps_status_ctx *ctx);

/**
 * pps_status_format - the once-a-second line, ZMap's shape:
 *   " 0:05 12% (1m07s left); send: 1203100 240 Kp/s (240 Kp/s avg); recv: 1311 262 p/s
 *    (262 p/s avg); drops: 0 p/s (0 p/s avg); hitrate: 0.11%"
 * recv counts unique responses (open, plus closed); progress is clamped to 0..100%, rates
 * and hit rate never print NaN. Writes at most @len bytes to @buf; returns @buf.
 */
char *pps_status_format(char *buf, size_t len, const struct pps_totals *now,
			const struct pps_totals *prev, const struct pps_status_ctx *ctx);

/**
 * pps_send_phase_print - the summary's last line: the sending phase alone (first probe to
 * the last sender's end, @seconds) and its rate, "PROG:   send phase S s, N probes, R
 * probes/s" (bench/bench.py reads it). Both backends print it after pps_summary_print().
 */
void pps_send_phase_print(FILE *out, const char *prog, double seconds, uint64_t probes);

/**
 * pps_summary_print - the end-of-scan summary (sent, received, valid, open, closed,
 * invalid, duplicates, NIC drops, ..., RSTs sent, or "off" when @rst_off: --no-rst) as lines
 * prefixed with @prog.
 */
void pps_summary_print(FILE *out, const char *prog, const struct pps_totals *t, double elapsed_s,
		       uint64_t seed, int rst_off);

#endif /* PPS_STATS_H */

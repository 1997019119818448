/*
 * The TX and RX loops. TX: bulk-allocate a burst of mbufs, fill them straight from the
 * template (pps_scan_fill_burst writes into the mbuf data areas), rte_eth_tx_burst, free the
 * unsent tail and give its pacing budget back; paced with TSC deadlines. RX: rte_eth_rx_burst,
 * prefetch, pps_scan_rx_burst (parse, validate, dedup, push to the results ring), a RST for
 * each genuine SYN-ACK (built in RX, queued on the control ring, sent by TX queue 0's loop;
 * not paced: at most one per SYN-ACK), bulk free.
 * No allocation other than mbufs, no log call, no lock, no syscall in either loop.
 */
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "app.h"
#include "pps_arp.h"
#include "pps_pacer.h"
#include "pps_shard.h"

int app_lcore_role[RTE_MAX_LCORE];
uint16_t app_lcore_txq[RTE_MAX_LCORE];

#define LD(x) atomic_load_explicit(&(x), memory_order_acquire)

/* 1 for an IPv4 frame (a RST), 0 for ARP: the two kinds of control frame. */
static inline unsigned is_rst_frame(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod(m, const uint8_t *)[12] == 0x08 &&
	       rte_pktmbuf_mtod(m, const uint8_t *)[13] == 0x00;
}

/*
 * Sends queued control frames (ARP replies, RSTs) on TX queue 0, which this loop owns: up to
 * four bursts a call, so a receive loop queueing a RST per SYN-ACK is drained as fast as it
 * fills. RSTs sent and refused are counted in @c (this loop's counters).
 */
static void drain_ctrl(struct app *a, struct pps_counters *c)
{
	for (int round = 0; round < 4; round++) {
		struct rte_mbuf *m[APP_BURST];
		unsigned n = rte_ring_dequeue_burst(a->ctrl, (void **)m, APP_BURST, NULL);
		unsigned rst = 0, unsent = 0;
		uint16_t sent;

		if (!n)
			return;
		for (unsigned k = 0; k < n; k++) /* before the device owns (and may free) them */
			rst += is_rst_frame(m[k]);
		sent = rte_eth_tx_burst(a->port_id, 0, m, (uint16_t)n);
		for (unsigned k = sent; k < n; k++)
			unsent += is_rst_frame(m[k]);
		pps_counter_add(&c->rst, rst - unsent);
		if (unsent)
			pps_counter_add(&c->rst_lost, unsent);
		if (sent < n)
			rte_pktmbuf_free_bulk(m + sent, n - sent);
		if (n < APP_BURST)
			return;
	}
}

/* Answers an ARP request for our source address (built here, sent by the TX loop). */
static void answer_arp(struct app *a, const struct pps_arp_pkt *arp)
{
	struct rte_mbuf *m;

	/* requests for any of our -S addresses */
	if (arp->op_h != 1 ||
	    (arp->tpa_h != a->cfg.src_ip_h && pps_targets_index_of(a->cfg.sources, arp->tpa_h) < 0))
		return;
	m = rte_pktmbuf_alloc(a->pool);
	if (!m)
		return;
	m->data_len = m->pkt_len = pps_arp_build(rte_pktmbuf_mtod(m, uint8_t *), 2, a->src_mac,
						 arp->tpa_h, arp->sha, arp->spa_h);
	if (rte_ring_enqueue(a->ctrl, m) != 0)
		rte_pktmbuf_free(m);
}

/*
 * Queues a RST for each genuine SYN-ACK among @pkt[0..n) (pps_scan_fill_rst: closes the
 * target's half-open connection), for TX queue 0's loop to send; failures counted in @c.
 */
static void queue_rsts(struct app *a, const struct pps_rx_burst *b, struct pps_counters *c)
{
	struct rte_mbuf *m[APP_BURST];
	uint8_t *buf[APP_BURST];
	uint16_t len[APP_BURST];
	unsigned k = (unsigned)__builtin_popcountll(b->reply), q;

	if (!k)
		return;
	if (rte_pktmbuf_alloc_bulk(a->pool, m, k) != 0) {
		pps_counter_add(&c->rst_lost, k);
		return;
	}
	for (unsigned j = 0; j < k; j++)
		buf[j] = rte_pktmbuf_mtod(m[j], uint8_t *);
	pps_scan_fill_replies(&a->scan, b, buf, len);
	for (unsigned j = 0; j < k; j++) {
		m[j]->data_len = len[j];
		m[j]->pkt_len = len[j];
	}
	q = rte_ring_enqueue_burst(a->ctrl, (void **)m, k, NULL);
	if (q < k) {
		pps_counter_add(&c->rst_lost, k - q);
		rte_pktmbuf_free_bulk(m + q, k - q);
	}
}

/* One RX burst from queue @rxq; returns the number of frames received. */
static inline uint16_t rx_queue_step(struct app *a, uint16_t rxq, int cooldown)
{
	struct rte_mbuf *m[APP_BURST];
	uint16_t n = rte_eth_rx_burst(a->port_id, rxq, m, APP_BURST);
	uint64_t now_ns;

	if (!n)
		return 0;
	now_ns = a->start_ns + (uint64_t)((double)(rte_rdtsc() - a->start_tsc) * 1e9 /
					  (double)a->tsc_hz);
	{
		const uint8_t *f[APP_BURST];
		uint32_t len[APP_BURST];
		struct pps_pkt pkt[APP_BURST];
		struct pps_rx_burst b = { .n = n, .frames = f, .lens = len, .with_ethernet = 1,
					  .now_ns = now_ns, .cooldown = cooldown,
					  .c = &a->run.rx_c, .ring = a->run.results, .pkt = pkt };

		for (uint16_t i = 0; i < n; i++) {
			f[i] = rte_pktmbuf_mtod(m[i], const uint8_t *);
			len[i] = m[i]->data_len;
			rte_prefetch0(f[i]);
		}
		pps_scan_classify(&a->scan, &b);
		for (uint64_t arp = b.arp; arp; arp &= arp - 1)
			answer_arp(a, &pkt[__builtin_ctzll(arp)].arp);
		queue_rsts(a, &b, &a->run.rx_c);
	}
	rte_pktmbuf_free_bulk(m, n);
	return n;
}

/*
 * One RX burst from each RX queue (one, except on the kernel-socket PMDs with several queue
 * pairs: app_port_init()); returns the number of frames received.
 */
static inline unsigned rx_step(struct app *a, int cooldown)
{
	unsigned n = 0;

	for (uint16_t q = 0; q < a->n_rxq; q++)
		n += rx_queue_step(a, q, cooldown);
	return n;
}

/* One TX burst of up to APP_BURST probes of @sl on queue @q; returns how many were sent. */
static inline unsigned tx_step(struct app *a, uint16_t q, struct pps_counters *c,
			       struct pps_pacer *pacer, struct pps_slice *sl)
{
	struct rte_mbuf *m[APP_BURST];
	uint64_t left = pps_slice_remaining(sl);
	unsigned want = left < APP_BURST ? (unsigned)left : APP_BURST;
	unsigned k = pps_pacer_take(pacer, rte_rdtsc(), want);
	uint16_t sent;

	if (!k)
		return 0;
	if (rte_pktmbuf_alloc_bulk(a->pool, m, k) != 0) {
		pps_pacer_return(pacer, k);
		return 0;
	}
	{
		uint8_t *buf[APP_BURST];
		uint16_t len[APP_BURST];

		for (unsigned j = 0; j < k; j++)
			buf[j] = rte_pktmbuf_mtod(m[j], uint8_t *);
		pps_scan_fill_burst(&a->scan, sl->next, sl->stride, k, buf, len);
		for (unsigned j = 0; j < k; j++) {
			m[j]->data_len = len[j];
			m[j]->pkt_len = len[j];
		}
	}
	sent = rte_eth_tx_burst(a->port_id, q, m, (uint16_t)k);
	if (sent < k) {
		rte_pktmbuf_free_bulk(m + sent, k - sent);
		pps_pacer_return(pacer, k - sent);
		pps_counter_add(&c->tx_full, k - sent);
	}
	sl->next += sent * sl->stride;
	pps_counter_add(&c->sent, sent);
	return sent;
}

int app_worker(void *arg)
{
	struct app *a = arg;
	unsigned lcore = rte_lcore_id();
	int role = app_lcore_role[lcore];
	int do_tx = role & APP_ROLE_TX, do_rx = role & APP_ROLE_RX;
	uint16_t q = app_lcore_txq[lcore];
	struct pps_counters *c = &a->run.tx_c[q];
	struct pps_pacer pacer;
	struct pps_slice sl;

	while (!LD(a->ready))
		rte_pause();
	pps_scan_slice(&a->scan, q, &sl); /* checked by main before launch */
	pps_pacer_init(&pacer, a->tsc_hz, a->cfg.rate_pps / a->cfg.sender_threads, APP_BURST, rte_rdtsc());

	/* Sending phase. */
	if (do_tx) {
		while (sl.next < sl.end && !pps_run_stopping(&a->run)) {
			if (q == 0)
				drain_ctrl(a, c);
			unsigned sent = tx_step(a, q, c, &pacer, &sl);
			if (do_rx) /* what arrived meanwhile: full bursts mean more is waiting */
				for (int k = 0; k < 4 && rx_step(a, 0) >= APP_BURST; k++)
					;
			else if (!sent)
				rte_pause();
		}
		uint64_t end = rte_rdtsc();

		if (pps_run_sender_done(&a->run, q, sl.next))
			atomic_store_explicit(&a->tx_done_tsc, end, memory_order_relaxed);
	}
	/* Receive phase (RX lcore: the whole scan; TX lcore 0: ARP replies and RSTs in cooldown). */
	while (!pps_run_rx_stopping(&a->run)) {
		unsigned n = 0;

		if (do_rx)
			n = rx_step(a, pps_run_done(&a->run));
		if (do_tx && q == 0)
			drain_ctrl(a, c);
		if (!n)
			rte_pause();
	}
	if (do_tx && q == 0)
		drain_ctrl(a, c);
	return 0;
}

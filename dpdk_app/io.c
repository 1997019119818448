/*
 * ppscan's per-burst hooks (core/pps_io.h) on a DPDK port, DPDK's own way (examples/l2fwd,
 * app/test-pmd/txonly.c): TX bulk-allocates a burst of mbufs, core fills their data areas,
 * rte_eth_tx_burst() sends them and the unsent tail is freed; RX takes a burst from each RX
 * queue, prefetches the frames, hands them to core with the PMD's checksum verdicts and
 * frees them in bulk. Control frames built by the receive lcore travel through a ring to the
 * lcore that owns TX queue 0 (a queue is one lcore's). The clock is the TSC.
 * No allocation other than mbufs, no log call, no lock, no system call.
 */
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "io.h"

uint64_t pps_io_ticks(void)
{
	return rte_rdtsc();
}

uint64_t pps_io_hz(void)
{
	return rte_get_tsc_hz();
}

struct pps_io_txq *pps_io_txq(struct pps_app *a, unsigned k)
{
	return &a->io->txq[k];
}

unsigned pps_io_tx_get(struct pps_io_txq *q, uint8_t **bufs, unsigned n)
{
	if (rte_pktmbuf_alloc_bulk(q->pool, q->m, n) != 0)
		return 0;
	for (unsigned j = 0; j < n; j++)
		bufs[j] = rte_pktmbuf_mtod(q->m[j], uint8_t *);
	return n;
}

unsigned pps_io_tx_put(struct pps_io_txq *q, const uint16_t *lens, unsigned n)
{
	uint16_t sent;

	for (unsigned j = 0; j < n; j++) {
		q->m[j]->data_len = lens[j];
		q->m[j]->pkt_len = lens[j];
	}
	sent = rte_eth_tx_burst(q->port_id, q->queue, q->m, (uint16_t)n);
	if (sent < n)
		rte_pktmbuf_free_bulk(q->m + sent, n - sent);
	return sent;
}

void pps_io_tx_idle(struct pps_io_txq *q, uint64_t wait_ticks)
{
	(void)q;
	(void)wait_ticks; /* a poll-mode lcore spins: the next burst is due within a few us */
	rte_pause();
}

void pps_io_tx_flush(struct pps_io_txq *q)
{
	(void)q; /* rte_eth_tx_burst() has handed every frame to the device */
}

/* A received frame's checksums were verified by the NIC (the PMD's mbuf flags). */
static inline uint64_t csum_good(const struct rte_mbuf *m)
{
	return (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
	       (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD;
}

unsigned pps_io_rx_poll(struct pps_app *a)
{
	struct pps_io *io = a->io;
	unsigned total = 0;

	for (uint16_t rxq = 0; rxq < io->n_rxq; rxq++) {
		struct rte_mbuf *m[PPS_BURST];
		const uint8_t *f[PPS_BURST];
		uint32_t len[PPS_BURST];
		uint64_t good = 0;
		uint16_t n = rte_eth_rx_burst(io->port_id, rxq, m, PPS_BURST);

		if (!n)
			continue;
		for (uint16_t i = 0; i < n; i++) {
			f[i] = rte_pktmbuf_mtod(m[i], const uint8_t *);
			len[i] = m[i]->data_len;
			rte_prefetch0(f[i]);
			good |= csum_good(m[i]) << i;
		}
		pps_rx_frames(a, f, len, n, good, pps_app_now_ns(a, rte_rdtsc()));
		rte_pktmbuf_free_bulk(m, n);
		total += n;
	}
	return total;
}

void pps_io_rx_idle(struct pps_app *a)
{
	(void)a;
	rte_pause();
}

unsigned pps_io_ctrl_get(struct pps_app *a, uint8_t **bufs, unsigned n)
{
	struct pps_io *io = a->io;

	if (rte_pktmbuf_alloc_bulk(io->pool, io->ctrl_m, n) != 0)
		return 0;
	for (unsigned j = 0; j < n; j++)
		bufs[j] = rte_pktmbuf_mtod(io->ctrl_m[j], uint8_t *);
	return n;
}

/* Control frames carry their kind in the mbuf's user tag: 1 for a module's reply. */
void pps_io_ctrl_put(struct pps_app *a, const uint16_t *lens, unsigned n, unsigned first_reply,
		     struct pps_counters *c)
{
	struct pps_io *io = a->io;
	unsigned q;

	for (unsigned j = 0; j < n; j++) {
		io->ctrl_m[j]->data_len = lens[j];
		io->ctrl_m[j]->pkt_len = lens[j];
		io->ctrl_m[j]->hash.usr = j >= first_reply;
	}
	q = rte_ring_enqueue_burst(io->ctrl, (void **)io->ctrl_m, n, NULL);
	if (q < n) {
		pps_rx_count_replies(c, 0, n - (q > first_reply ? q : first_reply));
		rte_pktmbuf_free_bulk(io->ctrl_m + q, n - q);
	}
}

/*
 * Sends queued control frames on TX queue 0, which this lcore owns: up to four bursts a
 * call, so a receive loop queueing a RST per SYN-ACK is drained as fast as it fills.
 */
void pps_io_ctrl_flush(struct pps_app *a, struct pps_counters *c)
{
	struct pps_io *io = a->io;

	for (int round = 0; round < 4; round++) {
		struct rte_mbuf *m[PPS_BURST];
		unsigned n = rte_ring_dequeue_burst(io->ctrl, (void **)m, PPS_BURST, NULL);
		unsigned replies = 0, unsent = 0;
		uint16_t sent;

		if (!n)
			return;
		for (unsigned k = 0; k < n; k++) /* before the device owns (and may free) them */
			replies += m[k]->hash.usr;
		sent = rte_eth_tx_burst(io->port_id, 0, m, (uint16_t)n);
		for (unsigned k = sent; k < n; k++)
			unsent += m[k]->hash.usr;
		pps_rx_count_replies(c, replies - unsent, unsent);
		if (sent < n)
			rte_pktmbuf_free_bulk(m + sent, n - sent);
		if (n < PPS_BURST)
			return;
	}
}

/*
 * The sending side of pps_worker() (pps_app.h), the same for every backend: a sender walks
 * its slice of the index space (pps_shard.h) a burst at a time. Each burst: the pacer says
 * how many probes are due (deadline pacing, pps_pacer.h), the device gives that many frame
 * buffers (pps_io_tx_get: mbufs, TX-ring frames, sendmmsg slots), the probe module fills
 * them (pps_scan_fill_burst), the device takes what it can (pps_io_tx_put); probes it had no
 * buffer or room for go back to the pacer and are sent in a later burst, so none is skipped.
 * No allocation, no log, no lock, no system call here; the device's own calls are per burst.
 */
#include "pps_app.h"
#include "pps_pacer.h"

/* One TX burst of up to PPS_BURST probes of @sl on @q; returns how many were sent. */
static unsigned tx_step(struct pps_app *a, struct pps_io_txq *q, struct pps_counters *c,
			struct pps_pacer *pacer, struct pps_slice *sl, uint64_t coalesce_ticks)
{
	uint8_t *buf[PPS_BURST];
	uint16_t len[PPS_BURST];
	uint64_t left = pps_slice_remaining(sl), now = pps_io_ticks();
	unsigned want = left < PPS_BURST ? (unsigned)left : PPS_BURST, k, got, sent;

	/* a kernel path pays a system call a burst: wait for a whole one unless it is close */
	if (coalesce_ticks && pps_pacer_due_in(pacer, now, want) > coalesce_ticks)
		return 0;
	k = pps_pacer_take(pacer, now, want);
	if (!k)
		return 0;
	got = pps_io_tx_get(q, buf, k);
	if (got < k) {
		pps_pacer_return(pacer, k - got);
		pps_counter_add(&c->tx_full, k - got);
		if (!got)
			return 0;
	}
	pps_scan_fill_burst(&a->scan, sl->next, sl->stride, got, buf, len);
	sent = pps_io_tx_put(q, len, got);
	if (sent < got) {
		pps_pacer_return(pacer, got - sent);
		pps_counter_add(&c->tx_full, got - sent);
	}
	sl->next += sent * sl->stride;
	pps_counter_add(&c->sent, sent);
	return sent;
}

/*
 * Sender @k's loop, until its slice is done or sending is to stop. With PPS_ROLE_RX too (one
 * worker lcore doing everything) it receives between bursts, up to four full bursts, so
 * responses never wait behind a long sending phase; with PPS_ROLE_CTRL it sends the queued
 * control frames first.
 */
static void tx_loop(struct pps_app *a, int role, unsigned k)
{
	struct pps_io_txq *q = pps_io_txq(a, k);
	struct pps_counters *c = &a->run.tx_c[k];
	const uint64_t hz = pps_io_hz(), coalesce = a->tx_coalesce_ticks;
	struct pps_pacer pacer;
	struct pps_slice sl;

	pps_scan_slice(&a->scan, k, &sl); /* checked by pps_run_init() */
	pps_pacer_init(&pacer, hz, a->cfg.rate_pps / a->cfg.sender_threads, PPS_BURST,
		       pps_io_ticks());
	while (sl.next < sl.end && !pps_run_stopping(&a->run)) {
		unsigned sent;

		if (role & PPS_ROLE_CTRL)
			pps_io_ctrl_flush(a, c);
		sent = tx_step(a, q, c, &pacer, &sl, coalesce);
		if (role & PPS_ROLE_RX) { /* what arrived meanwhile: full bursts mean more */
			for (int r = 0; r < 4 && pps_io_rx_poll(a) >= PPS_BURST; r++)
				;
			pps_rx_resets(a);
		} else if (!sent)
			pps_io_tx_idle(q, pps_pacer_due_in(&pacer, pps_io_ticks(), 1));
	}
	pps_io_tx_flush(q);
	{
		uint64_t end = pps_io_ticks();

		if (pps_run_sender_done(&a->run, k, sl.next))
			atomic_store_explicit(&a->tx_done_ticks, end, memory_order_relaxed);
	}
}

void pps_worker(struct pps_app *a, int role, unsigned k)
{
	struct pps_counters *c = &a->run.tx_c[k];

	if (role & PPS_ROLE_TX)
		tx_loop(a, role, k);
	if (!(role & (PPS_ROLE_RX | PPS_ROLE_CTRL)))
		return;
	/* receive phase (the whole scan for a receive loop; the cooldown for a sender that
	 * also receives or sends control frames) */
	while (!pps_run_rx_stopping(&a->run)) {
		unsigned n = 0;

		if (role & PPS_ROLE_RX) {
			n = pps_io_rx_poll(a);
			pps_rx_resets(a);
		}
		if (role & PPS_ROLE_CTRL)
			pps_io_ctrl_flush(a, c);
		if (!n)
			pps_io_rx_idle(a);
	}
	if (role & PPS_ROLE_RX) /* what is left in the device's queues, bounded */
		for (int r = 0; r < 64 && pps_io_rx_poll(a) > 0; r++)
			;
	if (role & PPS_ROLE_CTRL)
		pps_io_ctrl_flush(a, c);
}

/*
 * The receive step (pps_rx_frames(), pps_app.h), the same for every backend: the probe
 * module judges the burst, then everything the burst asks to be answered leaves as one batch
 * of control frames: ARP replies for our source addresses (RFC 826: the scanner's addresses
 * are nobody else's, so it answers for them itself) and the module's replies (tcp_synscan:
 * the RST that closes each half-open connection). Nothing is answered that failed
 * validation, so the scanner cannot be used as a reflector.
 */
#include "pps_app.h"
#include "pps_arp.h"
#include "probe/probe_tcp_synscan.h" /* --banners is tcp_synscan's */

void pps_rx_resets(struct pps_app *a)
{
	struct pps_result r[PPS_BURST];
	uint8_t *buf[PPS_BURST];
	uint16_t len[PPS_BURST];
	unsigned n;

	if (!a->run.resets || !(n = (unsigned)pps_ring_pop(a->run.resets, r, PPS_BURST)))
		return;
	if (pps_io_ctrl_get(a, buf, n) != n) {
		pps_rx_count_replies(&a->run.rx_c, 0, n);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		len[i] = pps_synscan_fill_reset(&a->scan, &r[i], buf[i]);
	pps_io_ctrl_put(a, len, n, 0, &a->run.rx_c);
}

void pps_rx_frames(struct pps_app *a, const uint8_t *const *frames, const uint32_t *lens,
		   unsigned n, uint64_t csum_ok, uint64_t now_ns)
{
	struct pps_pkt pkt[PPS_BURST];
	struct pps_rx_burst b = {
		.n = n < PPS_BURST ? n : PPS_BURST,
		.frames = frames,
		.lens = lens,
		.with_ethernet = a->with_ethernet,
		.csum_ok = csum_ok,
		.now_ns = now_ns,
		.cooldown = pps_run_done(&a->run),
		.c = &a->run.rx_c,
		.ring = a->run.results,
		.pkt = pkt,
	};
	uint8_t *buf[PPS_BURST];
	uint16_t len[PPS_BURST];
	uint64_t arp = 0;
	unsigned n_arp = 0, n_reply, k;

	pps_scan_classify(&a->scan, &b);
	if (b.arp && a->answer_arp)
		for (uint64_t m = b.arp; m; m &= m - 1) {
			const struct pps_arp_pkt *p = &pkt[__builtin_ctzll(m)].arp;

			if (p->op_h == 1 && pps_scan_is_source(&a->scan, p->tpa_h)) {
				arp |= m & -m;
				n_arp++;
			}
		}
	n_reply = (unsigned)__builtin_popcountll(b.reply);
	k = n_arp + n_reply; /* a frame is ARP or the module's, so k <= n */
	if (!k)
		return;
	if (pps_io_ctrl_get(a, buf, k) != k) {
		pps_rx_count_replies(b.c, 0, n_reply);
		return;
	}
	for (unsigned q = 0; arp; arp &= arp - 1, q++) {
		const struct pps_arp_pkt *p = &pkt[__builtin_ctzll(arp)].arp;

		len[q] = pps_arp_build(buf[q], 2, a->src_mac, p->tpa_h, p->sha, p->spa_h);
	}
	pps_scan_fill_replies(&a->scan, &b, buf + n_arp, len + n_arp);
	pps_io_ctrl_put(a, len, k, n_arp, b.c);
}

/* Port, queue and pool setup; gateway ARP before the scan. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "app.h"
#include "pps_arp.h"
#include "pps_parse.h"

static int setup_tx_queues(struct app *a, uint16_t nb_txd)
{
	for (unsigned q = 0; q < a->cfg.sender_threads; q++) {
		int rc = rte_eth_tx_queue_setup(a->port_id, (uint16_t)q, nb_txd,
						rte_eth_dev_socket_id(a->port_id), NULL);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int setup_rx_queues(struct app *a, uint16_t nb_rxd)
{
	for (uint16_t q = 0; q < a->n_rxq; q++) {
		int rc = rte_eth_rx_queue_setup(a->port_id, q, nb_rxd,
						rte_eth_dev_socket_id(a->port_id), NULL, a->pool);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int app_port_init(struct app *a)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t nb_rxd = APP_RX_DESC, nb_txd = APP_TX_DESC;
	int rc;

	memset(&conf, 0, sizeof(conf));
	a->pool = rte_pktmbuf_pool_create("ppscan_pool", APP_POOL_SIZE, APP_POOL_CACHE, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (!a->pool) {
		fprintf(stderr, "ppscan: cannot create mbuf pool: %s\n", rte_strerror(rte_errno));
		return -ENOMEM;
	}
	a->ctrl = rte_ring_create("ppscan_ctrl", APP_CTRL_RING, rte_socket_id(), RING_F_SC_DEQ);
	if (!a->ctrl) {
		fprintf(stderr, "ppscan: cannot create control ring: %s\n", rte_strerror(rte_errno));
		return -ENOMEM;
	}
	if ((rc = rte_eth_dev_info_get(a->port_id, &info)) != 0) {
		fprintf(stderr, "ppscan: port %u: cannot get device info: %s\n", a->port_id,
			strerror(-rc));
		return rc;
	}
	if (a->cfg.sender_threads > info.max_tx_queues) {
		fprintf(stderr,
			"ppscan: port %u (%s) has %u TX queue(s), %u sender threads asked for (af_packet: add qpairs=%u to the --vdev)\n",
			a->port_id, info.driver_name, info.max_tx_queues, a->cfg.sender_threads, a->cfg.sender_threads);
		return -EINVAL;
	}
	/*
	 * RX queues: one (no RSS asked for, so a NIC delivers everything to queue 0), except on
	 * the kernel-socket PMDs, whose queues are sockets that exist whatever is configured and
	 * that the kernel fills itself (af_packet qpairs=N: PACKET_FANOUT by flow hash; af_xdp
	 * queue_count=N: the NIC's RSS): every one of them is polled, or the responses hashed
	 * to the others are lost.
	 */
	a->n_rxq = 1;
	if ((!strcmp(info.driver_name, "net_af_packet") || !strcmp(info.driver_name, "net_af_xdp")) &&
	    info.max_rx_queues > 1)
		a->n_rxq = info.max_rx_queues < APP_MAX_RXQ ? info.max_rx_queues : APP_MAX_RXQ;
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
	if ((rc = rte_eth_dev_configure(a->port_id, a->n_rxq, (uint16_t)a->cfg.sender_threads,
					&conf)) < 0 ||
	    (rc = rte_eth_dev_adjust_nb_rx_tx_desc(a->port_id, &nb_rxd, &nb_txd)) < 0 ||
	    (rc = setup_rx_queues(a, nb_rxd)) < 0 ||
	    (rc = setup_tx_queues(a, nb_txd)) < 0 ||
	    (rc = rte_eth_dev_start(a->port_id)) < 0) {
		fprintf(stderr, "ppscan: port %u (%s): setup failed: %s\n", a->port_id,
			info.driver_name, strerror(-rc));
		return rc;
	}
	if (!a->cfg.have_src_mac) {
		struct rte_ether_addr mac;
		if ((rc = rte_eth_macaddr_get(a->port_id, &mac)) < 0) {
			fprintf(stderr, "ppscan: port %u: no MAC address: %s\n", a->port_id,
				strerror(-rc));
			return rc;
		}
		memcpy(a->src_mac, mac.addr_bytes, 6);
	} else {
		memcpy(a->src_mac, a->cfg.src_mac, 6);
	}
	return 0;
}

static void send_arp(struct app *a, uint16_t op, const uint8_t tha[6], uint32_t tpa_h)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(a->pool);

	if (!m)
		return;
	uint8_t *buf = rte_pktmbuf_mtod(m, uint8_t *);
	m->data_len = m->pkt_len = pps_arp_build(buf, op, a->src_mac, a->cfg.src_ip_h, tha, tpa_h);
	if (rte_eth_tx_burst(a->port_id, 0, &m, 1) != 1)
		rte_pktmbuf_free(m);
}

int app_resolve_gateway(struct app *a, double timeout_s)
{
	static const uint8_t zero[6];
	uint64_t hz = rte_get_tsc_hz();
	uint64_t deadline = rte_rdtsc() + (uint64_t)(timeout_s * (double)hz);
	uint64_t next_req = 0;
	struct rte_mbuf *m[APP_BURST];
	uint16_t rxq = 0;

	while (rte_rdtsc() < deadline) {
		if (rte_rdtsc() >= next_req) {
			send_arp(a, 1, zero, a->cfg.gw_ip_h);
			next_req = rte_rdtsc() + hz;
		}
		uint16_t n = rte_eth_rx_burst(a->port_id, rxq, m, APP_BURST);

		rxq = (uint16_t)((rxq + 1) % a->n_rxq); /* the reply may come on any RX queue */
		for (uint16_t i = 0; i < n; i++) {
			struct pps_pkt p;
			if (pps_parse_frame(rte_pktmbuf_mtod(m[i], uint8_t *), m[i]->data_len, 1, &p) ==
			    PPS_PKT_ARP) {
				if (p.arp.op_h == 2 && p.arp.spa_h == a->cfg.gw_ip_h) {
					memcpy(a->gw_mac, p.arp.sha, 6);
					rte_pktmbuf_free_bulk(m, n);
					return 0;
				}
				if (p.arp.op_h == 1 && p.arp.tpa_h == a->cfg.src_ip_h)
					send_arp(a, 2, p.arp.sha, p.arp.spa_h);
			}
		}
		rte_pktmbuf_free_bulk(m, n);
		if (!n)
			rte_delay_us_sleep(1000);
	}
	return -ETIMEDOUT;
}

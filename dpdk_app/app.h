/*
 * app.h - ppscan (DPDK): state shared by the main lcore (monitor + output) and the worker
 * lcores (TX, RX, or both in one loop on small machines).
 */
#ifndef PPS_APP_H
#define PPS_APP_H

#include <stdatomic.h>
#include <stdint.h>

#include <rte_mempool.h>
#include <rte_ring.h>

#include "pps_config.h"
#include "pps_ring.h"
#include "pps_run.h"
#include "pps_scan.h"
#include "pps_stats.h"

#define APP_BURST 32
#define APP_RX_DESC 1024
#define APP_TX_DESC 1024
#define APP_MAX_TX 16
#define APP_MAX_RXQ 16 /* RX queues polled at most (kernel-socket PMDs: app_port_init) */
#define APP_POOL_SIZE 16383
#define APP_POOL_CACHE 256
#define APP_CTRL_RING 4096 /* control frames in flight: a RST per SYN-ACK of a few bursts */

enum app_role {
	APP_ROLE_TX = 1,
	APP_ROLE_RX = 2,
};

struct app {
	struct pps_config cfg;
	struct pps_scan scan;
	uint16_t port_id;
	uint16_t n_rxq; /* RX queues polled: 1, or every queue of af_packet/af_xdp */
	struct rte_mempool *pool;
	struct rte_ring *ctrl; /* ARP replies and RSTs built by RX, sent by TX queue 0's loop (MP/SC) */
	uint8_t src_mac[6];
	uint8_t gw_mac[6];

	struct pps_run run; /* counters, resume positions, stop flags (core) */

	uint64_t tsc_hz;
	uint64_t start_tsc; /* when sending started */
	uint64_t start_ns;  /* the same instant, Unix epoch ns */
	_Atomic uint64_t tx_done_tsc;

	_Atomic int ready;    /* main has set the start time: workers may begin */
};

/**
 * app_port_init - configures @a->port_id with one RX queue (every queue pair's RX queue on
 * af_packet/af_xdp, whose queues the kernel fills by hash) and one TX queue per sender
 * (cfg.sender_threads), creates the mbuf pool and the control ring, starts the port. Returns 0 or -errno (message on stderr).
 */
int app_port_init(struct app *a);

/**
 * app_resolve_gateway - sends ARP requests for cfg.gw_ip from cfg.src_ip once a second and
 * polls RX until the reply arrives (at most @timeout_s seconds), answering ARP requests for
 * our address meanwhile. Runs on the main lcore before the workers start. Returns 0 with
 * a->gw_mac set, or -ETIMEDOUT.
 */
int app_resolve_gateway(struct app *a, double timeout_s);

/** app_worker - the lcore entry point: runs the TX loop, the RX loop, or both interleaved. */
int app_worker(void *arg);

/** Role of each worker lcore and its TX queue, set by main before launch (by lcore id). */
extern int app_lcore_role[RTE_MAX_LCORE];
extern uint16_t app_lcore_txq[RTE_MAX_LCORE];

#endif /* PPS_APP_H */

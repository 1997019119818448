/*
 * io.h - ppscan's device state (struct pps_io of core/pps_io.h) on one DPDK port: the mbuf
 * pool, the TX queues (one per sender lcore), the RX queues the receive loop polls, and the
 * control ring that carries the receive lcore's control frames (ARP replies, RSTs) to the
 * lcore that owns TX queue 0. port.c sets it up (EAL, port, lcores), io.c moves the frames.
 */
#ifndef PPS_DPDK_IO_H
#define PPS_DPDK_IO_H

#include <stdint.h>

#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "pps_app.h"

#define IO_RX_DESC 1024
#define IO_TX_DESC 1024
#define IO_MAX_TX 16  /* TX queues (sender lcores) at most */
#define IO_MAX_RXQ 16 /* RX queues polled at most (kernel-socket PMDs: port.c) */
#define IO_POOL_SIZE 16383
#define IO_POOL_CACHE 256
#define IO_CTRL_RING 4096 /* control frames in flight: a RST per SYN-ACK of a few bursts */

/* One TX queue and the mbufs of its last pps_io_tx_get(). */
struct pps_io_txq {
	uint16_t port_id;
	uint16_t queue;
	struct rte_mempool *pool;
	struct rte_mbuf *m[PPS_BURST];
} __rte_cache_aligned;

struct pps_io {
	int eal_up;
	int port_up;
	uint16_t port_id;
	uint16_t n_rxq; /* RX queues polled: 1, or every queue of af_packet/af_xdp */
	struct rte_mempool *pool;
	struct rte_ring *ctrl; /* control frames built by RX, sent by TX queue 0's lcore (MP/SC) */
	unsigned n_workers;
	struct pps_io_txq txq[IO_MAX_TX];
	int lcore_role[RTE_MAX_LCORE];	    /* enum pps_role bits, 0: idle */
	uint16_t lcore_txq[RTE_MAX_LCORE];  /* its TX queue (sender number) */
	struct rte_mbuf *ctrl_m[PPS_BURST]; /* the receive lcore's pps_io_ctrl_get() */

	/* start-up receive: frames of the last burst not yet handed to pps_io_recv() */
	struct rte_mbuf *stash[PPS_BURST];
	uint16_t stash_n, stash_i, rxq_next;

	/* EAL arguments: before "--", or the "eal" key of a -C/--resume file */
	int sep; /* index of "--" in argv, or -1 */
	int argc;
	char **argv;
	char eal_buf[4096], eal_joined[4096];
	char *eal_argv[128];
	int eal_argc;
};

/** io_port_init - the port, its queues, the pool and the control ring (port.c). Exit code. */
int io_port_init(struct pps_app *a);

#endif /* PPS_DPDK_IO_H */

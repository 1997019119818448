/*
 * app.h - ppscan-pcap: the same scan as ppscan on the kernel's network stack. State shared by
 * the main thread (monitor + output), the sender threads (one AF_PACKET socket each) and the
 * receive thread (one libpcap handle). Everything per packet comes from core/; this directory
 * holds only device setup (port.c, netlink.c) and the two loops (loops.c).
 */
#ifndef PPS_FALLBACK_APP_H
#define PPS_FALLBACK_APP_H

#include <net/if.h>
#include <linux/if_packet.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include "pps_config.h"
#include "pps_ring.h"
#include "pps_run.h"
#include "pps_scan.h"
#include "pps_stats.h"

#define APP_BURST	  PPS_BURST /* probes per sendmmsg() or per TX-ring kick (64) */
#define APP_RING_FRAME	  256	/* TX ring frame: tpacket2 header (32 B) + probe (<= 128 B) */
#define APP_RING_FRAMES	  4096	/* TX ring frames per sender: 1 MiB */
#define APP_RX_SNAPLEN	  65535 /* whole frames; libpcap caps ring frames at the MTU */
#define APP_RX_BATCH	  PPS_BURST /* frames per pcap_dispatch() and per judged burst */
#define APP_RX_SLOT	  256		 /* batch slot: larger frames are judged one by one */
#define APP_ARP_TIMEOUT_S 5.0

/** Link-layer framing of the interface (from its ARPHRD type). */
enum app_link {
	APP_LINK_ETHER = 0, /* Ethernet: frames with a 14-byte header */
	APP_LINK_LOOPBACK,  /* lo: Ethernet-shaped header, zero addresses, no ARP */
	APP_LINK_RAWIP,	    /* tun, PPP, raw-IP links: bare IPv4 packets, never a MAC header */
};

/** Responses copied out of libpcap's ring, judged together (receive thread only). */
struct app_rx_batch {
	unsigned n;
	uint64_t ts_ns;			    /* receive time of the last frame, Unix ns */
	const uint8_t *frame[APP_RX_BATCH]; /* slot[k] */
	uint32_t len[APP_RX_BATCH];
	uint8_t slot[APP_RX_BATCH][APP_RX_SLOT];
};

/** One sender thread: its socket (or pcap handle) and batch storage. */
struct app_tx {
	struct app *a;
	unsigned index;		/* 0-based thread number: selects its slice */
	int fd;			/* AF_PACKET SOCK_RAW, bound to the interface, receives nothing */
	pcap_t *pcap;		/* PPS_SEND_INJECT only */
	uint8_t *ring;		/* PPS_SEND_RING: mmap'ed PACKET_TX_RING */
	size_t ring_len;	/* bytes */
	unsigned head;		/* next ring frame to fill */
	struct sockaddr_ll dst; /* interface index and EtherType (ETH_P_IP) for every send */
	struct mmsghdr msg[APP_BURST];
	struct iovec iov[APP_BURST];
	uint8_t slot[APP_BURST][PPS_TEMPLATE_MAX]; /* PPS_SEND_MMSG / INJECT frames */
	uint8_t *slotp[APP_BURST]; /* slot[j], as pps_scan_fill_burst() takes them */
	pthread_t thread;
	int last_errno; /* the last hard send error (not ENOBUFS/EAGAIN), read after the join */
};

struct app {
	struct pps_config cfg;
	struct pps_scan scan;

	char ifname[IF_NAMESIZE];
	int ifindex;
	unsigned ifflags; /* IFF_* */
	enum app_link link;
	int with_ethernet; /* template and parser framing */
	int src_is_local; /* the source address is the host's own: the kernel answers ARP (and RSTs) */
	int answer_arp; /* we answer ARP requests for the source address */
	uint32_t gw_ip_h;
	int have_gw_ip;
	uint8_t src_mac[6];
	uint8_t gw_mac[6];

	pcap_t *rx; /* receive handle: immediate mode, BPF filter, inbound only */
	struct app_rx_batch rxb;
	unsigned n_tx;
	struct app_tx *tx; /* n_tx of them */
	struct app_tx rst; /* the receive thread's: one sendmmsg() for a burst's RSTs */

	struct pps_run run;	    /* counters, resume positions, stop flags (core) */
	_Atomic uint64_t nic_drops; /* pcap ps_drop + ps_ifdrop, published by the receiver */
};

/** Route lookup result (host order addresses). */
struct app_route {
	unsigned char type; /* RTN_UNICAST, RTN_LOCAL, ... */
	int oif;
	uint32_t gw_h;
	int has_gw;
	uint32_t prefsrc_h;
	int has_prefsrc;
};

/**
 * app_nl_route_get - the kernel's route to @dst_h (host order), restricted to output
 * interface @oif when > 0 (`ip route get DST oif IF`). Returns 0, or -errno (-ENETUNREACH
 * when there is no route).
 */
int app_nl_route_get(uint32_t dst_h, int oif, struct app_route *r);

/**
 * app_nl_neigh_get - the link-layer address of @ip_h in the neighbour table of interface
 * @ifindex, if the entry is usable (reachable, stale, delay, probe, permanent). Returns 0
 * with @mac set, or -ENOENT.
 */
int app_nl_neigh_get(int ifindex, uint32_t ip_h, uint8_t mac[6]);

/**
 * app_iface_open - looks up cfg.iface: index, flags, link type and MAC (SIOCGIF* ioctls).
 * Then checks CAP_NET_RAW by opening a packet socket. On failure prints one line naming the
 * interface (or the capability) and returns -errno; main exits 2.
 */
int app_iface_open(struct app *a);

/**
 * app_iface_facts - the source address (-S, else the route's preferred source, else the
 * interface's address), the source MAC (--source-mac, else the interface's), and the
 * next hop's MAC (-G; else the neighbour entry of --gateway-ip or of the route's gateway,
 * with our own ARP requests for up to APP_ARP_TIMEOUT_S when the entry is missing).
 * Returns 0; -EINVAL after printing a line about missing facts (exit 2); -ETIMEDOUT or
 * another -errno after printing the reason (exit 1).
 */
int app_iface_facts(struct app *a);

/**
 * app_rx_open - the receive handle: libpcap in immediate mode with cfg.pcap_buffer bytes of
 * ring, nanosecond timestamps, inbound only, and a BPF filter passing only SYN-ACKs and RSTs
 * to our address and source-port range (and ARP requests for our address when we answer
 * them). Returns 0 or -errno (message printed).
 */
int app_rx_open(struct app *a);

/**
 * app_tx_open - the sender socket of @t for @method (a sender: cfg.send_method; the receive
 * thread's RSTs: PPS_SEND_MMSG): AF_PACKET SOCK_RAW bound to the interface with
 * PACKET_QDISC_BYPASS, plus a PACKET_TX_RING (ring) or batch slots (mmsg), or a pcap handle
 * (inject). Returns 0 or -errno (message printed).
 */
int app_tx_open(struct app *a, struct app_tx *t, enum pps_send_method method);

/** app_tx_close - releases what app_tx_open() set up (also after it failed; t->fd -1 = none). */
void app_tx_close(struct app_tx *t);

/** app_tx_loop - sender thread: its slice of the index space, paced at rate / threads. */
void *app_tx_loop(void *arg);

/** app_rx_loop - receive thread: pcap_dispatch() into pps_scan_rx() until stop_rx. */
void *app_rx_loop(void *arg);

#endif /* PPS_FALLBACK_APP_H */

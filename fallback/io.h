/*
 * io.h - ppscan-pcap's device state (struct pps_io of core/pps_io.h) on a kernel interface:
 * one AF_PACKET socket per sender (a PACKET_TX_RING, sendmmsg() slots, or a pcap handle for
 * pcap_inject()), one libpcap receive handle with a BPF filter, one AF_PACKET socket the
 * receive thread sends its control frames on, and the facts of the interface (rtnetlink).
 * port.c sets it up, io.c moves the frames, netlink.c asks the kernel's tables.
 */
#ifndef PPS_PCAP_IO_H
#define PPS_PCAP_IO_H

#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include "pps_app.h"

#define IO_RX_SNAPLEN 65535 /* whole frames; libpcap caps ring frames at the MTU */
#define IO_RX_SLOT 256	    /* receive batch slot: larger frames are judged one by one */
#define IO_RING_FRAMES 4096 /* TX ring frames per sender */

/** Link-layer framing of the interface (from its ARPHRD type). */
enum io_link {
	IO_LINK_ETHER = 0, /* Ethernet: frames with a 14-byte header */
	IO_LINK_LOOPBACK,  /* lo: Ethernet-shaped header, zero addresses, no ARP */
	IO_LINK_RAWIP,	   /* tun, PPP, raw-IP links: bare IPv4 packets, never a MAC header */
};

/* One sender's socket (or pcap handle), or the receive thread's control socket. */
struct pps_io_txq {
	struct pps_io *io;
	unsigned index;		     /* sender number: selects its slice */
	enum pps_send_method method; /* ring, mmsg or inject */
	int fd;			/* AF_PACKET SOCK_RAW, bound to the interface, receives nothing */
	pcap_t *pcap;		/* PPS_SEND_INJECT only */
	uint8_t *ring;		/* PPS_SEND_RING: mmap'ed PACKET_TX_RING */
	size_t ring_len;	/* bytes */
	unsigned frame_size;	/* bytes of a ring frame */
	unsigned head;		/* next ring frame to fill */
	unsigned n;		/* frames of the last pps_io_tx_get() */
	struct sockaddr_ll dst; /* interface index and EtherType for every send */
	struct mmsghdr msg[PPS_BURST];
	struct iovec iov[PPS_BURST];
	struct tpacket2_hdr *hdr[PPS_BURST]; /* ring frames of the last pps_io_tx_get() */
	uint8_t *slot[PPS_BURST];	     /* mmsg/inject/control frames, frame_max bytes each */
	uint8_t *slots;			     /* their storage */
	pthread_t thread;
	int last_errno; /* the last hard send error (not ENOBUFS/EAGAIN), read after the join */
};

/* Responses copied out of libpcap's ring, judged together (receive thread only). */
struct io_rx_batch {
	unsigned n;
	uint64_t ts_ns;			 /* receive time of the last frame, Unix ns */
	const uint8_t *frame[PPS_BURST]; /* slot[k] */
	uint32_t len[PPS_BURST];
	uint8_t slot[PPS_BURST][IO_RX_SLOT];
};

struct pps_io {
	struct pps_app *app; /* for the sender threads */
	char ifname[IF_NAMESIZE];
	int ifindex;
	unsigned ifflags; /* IFF_* */
	enum io_link link;
	int src_is_local; /* the source address is the host's own: its kernel answers too */
	int arp_fd;	  /* gateway resolution: AF_PACKET bound to ETH_P_ARP, -1 after */
	pcap_t *rx;	  /* receive handle: immediate mode, BPF filter, inbound only */
	struct io_rx_batch rxb;
	uint64_t last_stats_ns;	    /* when pcap_stats() last ran (receive thread) */
	_Atomic uint64_t nic_drops; /* pcap ps_drop + ps_ifdrop, published by the receiver */
	unsigned n_tx;
	struct pps_io_txq *tx;	/* n_tx senders */
	struct pps_io_txq ctrl; /* the receive thread's: one sendmmsg() for a burst's replies */
	pthread_t rx_thread;
	unsigned started; /* sender threads running */
	int rx_started;
};

/** Route lookup result (host order addresses). */
struct io_route {
	unsigned char type; /* RTN_UNICAST, RTN_LOCAL, ... */
	int oif;
	uint32_t gw_h;
	int has_gw;
	uint32_t prefsrc_h;
	int has_prefsrc;
};

/**
 * io_nl_route_get - the kernel's route to @dst_h (host order), restricted to output
 * interface @oif when > 0 (`ip route get DST oif IF`). Returns 0, or -errno (-ENETUNREACH
 * when there is no route).
 */
int io_nl_route_get(uint32_t dst_h, int oif, struct io_route *r);

/**
 * io_nl_neigh_get - the link-layer address of @ip_h in the neighbour table of interface
 * @ifindex, if the entry is usable (reachable, stale, delay, probe, permanent). Returns 0
 * with @mac set, or -ENOENT.
 */
int io_nl_neigh_get(int ifindex, uint32_t ip_h, uint8_t mac[6]);

/**
 * io_tx_open - the socket of @t for @method (a sender: cfg.send_method; the receive
 * thread's control frames: PPS_SEND_MMSG): AF_PACKET SOCK_RAW bound to the interface with
 * PACKET_QDISC_BYPASS, plus a PACKET_TX_RING (ring) or batch slots (mmsg), or a pcap handle
 * (inject); frames up to @frame_max bytes. Returns 0 or -errno (message printed).
 */
int io_tx_open(struct pps_app *a, struct pps_io_txq *t, enum pps_send_method method,
	       unsigned frame_max);

/** io_tx_close - releases what io_tx_open() set up (also after it failed; fd -1 = none). */
void io_tx_close(struct pps_io_txq *t);

/** io_publish_drops - pcap_stats() into nic_drops (receive thread: it is not reentrant). */
void io_publish_drops(struct pps_io *io);

/**
 * io_nft_add - --drop-kernel-rst (fallback/nft.c): adds the nftables table that drops the
 * host's RSTs from @src_ip_h, TCP source ports @sport_first_h..@sport_last_h (host order),
 * after deleting the tables crashed scans left; removed by io_nft_remove() and at exit.
 * 0, or -EIO with one line in @why.
 */
int io_nft_add(uint32_t src_ip_h, uint16_t sport_first_h, uint16_t sport_last_h, char *why,
	       size_t whylen);

/** io_nft_remove - deletes the table io_nft_add() added (none: nothing). */
void io_nft_remove(void);

#endif /* PPS_PCAP_IO_H */

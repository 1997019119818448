/*
 * ppscan-pcap's set-up hooks (core/pps_io.h): interface facts (ioctl and rtnetlink), the
 * CAP_NET_RAW check, the ARP socket of the gateway resolution, the libpcap receive handle,
 * the sender sockets and the threads. Nothing here runs per probe (io.c does).
 *
 * Sender sockets: AF_PACKET SOCK_RAW bound to the interface with protocol 0, so the socket
 * never receives (packet(7)); PACKET_QDISC_BYPASS hands frames straight to the driver
 * (dev_direct_xmit, Linux >= 3.14), as ZMap and the DPDK af_packet PMD do. The TX ring is
 * TPACKET_V2 (Documentation/networking/packet_mmap.rst): frames are filled in place and one
 * send() transmits every frame marked TP_STATUS_SEND_REQUEST.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if_arp.h>
#include <linux/if_ether.h>
#include <linux/filter.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "io.h"
#include "pps_arp.h"
#include "pps_parse.h"

#define ERR(a, ...)                                                                                \
	do {                                                                                       \
		fprintf(stderr, "%s: ", (a)->cfg.prog);                                            \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fputc('\n', stderr);                                                               \
	} while (0)

static struct pps_io io_state; /* one interface per process */

void pps_io_args(struct pps_app *a, int argc, char **argv, int *app_argc, char ***app_argv)
{
	a->io = &io_state;
	a->io->arp_fd = -1;
	a->io->ctrl.fd = -1;
	*app_argc = argc;
	*app_argv = argv;
}

/* The interface: index, flags, link type and MAC (SIOCGIF* ioctls), then CAP_NET_RAW. */
int pps_io_prepare(struct pps_app *a)
{
	struct pps_io *io = a->io;
	const char *ifn = a->cfg.iface;
	struct ifreq ifr;
	int fd, rc = 0;

	if (strlen(ifn) >= IF_NAMESIZE) {
		ERR(a, "invalid interface '%s' (from -i/--interface): longer than %d characters",
		    ifn, IF_NAMESIZE - 1);
		return 2;
	}
	snprintf(io->ifname, sizeof(io->ifname), "%s", ifn);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ERR(a, "cannot open a socket: %s", strerror(errno));
		return 2;
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, io->ifname, sizeof(io->ifname));
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
		rc = -errno;
		ERR(a, "invalid interface '%s' (from -i/--interface): %s", ifn,
		    errno == ENODEV ? "no such interface" : strerror(errno));
		goto out;
	}
	io->ifindex = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		rc = -errno;
		ERR(a, "invalid interface '%s' (from -i/--interface): %s", ifn, strerror(errno));
		goto out;
	}
	io->ifflags = (unsigned)(unsigned short)ifr.ifr_flags;
	if (!(io->ifflags & IFF_UP)) {
		ERR(a, "invalid interface '%s' (from -i/--interface): the interface is down", ifn);
		rc = -ENETDOWN;
		goto out;
	}
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		rc = -errno;
		ERR(a, "invalid interface '%s' (from -i/--interface): %s", ifn, strerror(errno));
		goto out;
	}
	switch (ifr.ifr_hwaddr.sa_family) {
	case ARPHRD_ETHER:
		io->link = IO_LINK_ETHER;
		memcpy(a->src_mac, ifr.ifr_hwaddr.sa_data, 6);
		break;
	case ARPHRD_LOOPBACK: io->link = IO_LINK_LOOPBACK; break;
	case ARPHRD_NONE:
	case ARPHRD_RAWIP:
	case ARPHRD_PPP: io->link = IO_LINK_RAWIP; break;
	default:
		ERR(a,
		    "invalid interface '%s' (from -i/--interface): link type %u is neither Ethernet nor raw IP",
		    ifn, ifr.ifr_hwaddr.sa_family);
		rc = -EPROTONOSUPPORT;
		goto out;
	}
	a->with_ethernet = io->link != IO_LINK_RAWIP;
	if (!a->with_ethernet && (a->cfg.have_gw_mac || a->cfg.have_src_mac)) {
		ERR(a, "'%s' carries bare IP packets without an Ethernet header: %s does not apply",
		    ifn, a->cfg.have_gw_mac ? "-G/--gateway-mac" : "--source-mac");
		rc = -EINVAL;
		goto out;
	}
	close(fd);

	/* CAP_NET_RAW: packet sockets need it (packet(7)); say so before anything is opened. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		if (errno == EPERM || errno == EACCES)
			ERR(a,
			    "cannot open a packet socket on '%s' (from -i/--interface): missing capability CAP_NET_RAW (run as root, or: setcap cap_net_raw+ep %s)",
			    ifn, a->cfg.prog);
		else
			ERR(a, "cannot open a packet socket on '%s': %s", ifn, strerror(errno));
		return 2;
	}
out:
	close(fd);
	return rc ? 2 : 0; /* a bad interface or no privilege: bad input, nothing sent */
}

/* The first IPv4 address of the interface (SIOCGIFADDR), or 0. */
static uint32_t iface_addr(const struct pps_io *io)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	uint32_t ip = 0;

	if (fd < 0)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, io->ifname, sizeof(io->ifname));
	ifr.ifr_addr.sa_family = AF_INET;
	if (ioctl(fd, SIOCGIFADDR, &ifr) == 0)
		ip = ntohl(((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr);
	close(fd);
	return ip;
}

/* 1 if sysctl net.ipv4.conf.{all,lo}.accept_local is set (ip-sysctl.rst: either enables it). */
static int loopback_accepts_local(void)
{
	static const char *const paths[] = { "/proc/sys/net/ipv4/conf/all/accept_local",
					     "/proc/sys/net/ipv4/conf/lo/accept_local" };

	for (size_t i = 0; i < 2; i++) {
		FILE *f = fopen(paths[i], "r");
		int v = 0;

		if (f) {
			if (fscanf(f, "%d", &v) != 1)
				v = 0;
			fclose(f);
		}
		if (v)
			return 1;
	}
	return 0;
}

/* The socket of the gateway resolution (pps_io_xmit/recv): ARP frames only. */
static int arp_open(struct pps_app *a)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ARP),
				   .sll_ifindex = a->io->ifindex };
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP));

	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		ERR(a, "cannot open an ARP socket on '%s': %s", a->io->ifname, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	a->io->arp_fd = fd;
	return 0;
}

int pps_io_xmit(struct pps_app *a, const uint8_t *frame, uint16_t len)
{
	return send(a->io->arp_fd, frame, len, 0) < 0 ? -errno : 0;
}

size_t pps_io_recv(struct pps_app *a, uint8_t *buf, size_t cap, int wait_ms)
{
	struct pollfd pfd = { .fd = a->io->arp_fd, .events = POLLIN };
	ssize_t n = recv(a->io->arp_fd, buf, cap, MSG_DONTWAIT);

	if (n <= 0 && poll(&pfd, 1, wait_ms) > 0)
		n = recv(a->io->arp_fd, buf, cap, MSG_DONTWAIT);
	return n > 0 ? (size_t)n : 0;
}

/*
 * The source address (-S, else the route's preferred source, else the interface's address),
 * the source MAC (--source-mac, else the interface's), and the next hop: -G; else the
 * neighbour entry of --gateway-ip or of the route's gateway; else our own ARP requests
 * (pps_app_resolve_gateway(), gw_resolve). Returns 0, or -EINVAL after a line about
 * missing facts.
 */
static int iface_facts(struct pps_app *a)
{
	struct pps_io *io = a->io;
	struct pps_config *cfg = &a->cfg;
	uint32_t first = pps_targets_at(cfg->targets, 0);
	struct io_route rt, self;
	char ip[16];
	int have_rt;

	pps_format_ipv4(first, ip);
	have_rt = io_nl_route_get(first, io->ifindex, &rt) == 0;
	if (!cfg->have_src_ip) {
		uint32_t src = have_rt && rt.has_prefsrc ? rt.prefsrc_h : iface_addr(io);

		if (!src) {
			ERR(a,
			    "no source address: '%s' (from -i/--interface) has no IPv4 address; give -S/--source-ip",
			    io->ifname);
			return -EINVAL;
		}
		/* the parser left 0.0.0.0 as the (only) source: this is the one to use */
		pps_targets_free(cfg->sources);
		cfg->sources = pps_targets_new();
		if (!cfg->sources || pps_targets_add(cfg->sources, src, src) ||
		    pps_targets_finalize(cfg->sources)) {
			ERR(a, "out of memory");
			return -ENOMEM;
		}
		cfg->src_ip_h = src;
		cfg->have_src_ip = 1;
	}
	io->src_is_local = io_nl_route_get(cfg->src_ip_h, 0, &self) == 0 && self.type == RTN_LOCAL;
	if (io->src_is_local)
		snprintf(a->src_note, sizeof(a->src_note), " (this host's)");
	if (cfg->banners && io->src_is_local && !cfg->drop_kernel_rst) {
		pps_format_ipv4(cfg->src_ip_h, ip);
		ERR(a,
		    "invalid --banners from %s, this host's own address: its TCP stack resets each connection before the data comes; add --drop-kernel-rst (an nftables rule drops those RSTs while the scan runs)",
		    ip);
		return -EINVAL;
	}
	if (cfg->drop_kernel_rst && io->src_is_local) {
		char why[256];

		if (io_nft_add(cfg->src_ip_h, cfg->sport_first_h, cfg->sport_last_h, why,
			       sizeof(why)) < 0) {
			ERR(a, "%s", why);
			return -EIO;
		}
	}
	/* the kernel answers ARP for its own address, unless the interface does no ARP */
	a->answer_arp = io->link == IO_LINK_ETHER &&
			(!io->src_is_local || (io->ifflags & IFF_NOARP));
	if (cfg->have_src_mac)
		memcpy(a->src_mac, cfg->src_mac, 6);
	if (io->link == IO_LINK_LOOPBACK && !loopback_accepts_local()) {
		ERR(a,
		    "'%s' (from -i/--interface) is the loopback: frames sent on it come back as received packets from a local address, which Linux drops as martians; set sysctl net.ipv4.conf.%s.accept_local=1 to scan through it",
		    io->ifname, io->ifname);
		return -EINVAL;
	}
	snprintf(a->link_name, sizeof(a->link_name), "%s", io->ifname);
	if (io->link != IO_LINK_ETHER || cfg->have_gw_mac)
		return 0; /* loopback: zero addresses; raw IP: no link header; -G: given */
	if (cfg->have_gw_ip) {
		a->gw_ip_h = cfg->gw_ip_h;
		a->gw_origin = "--gateway-ip";
	} else if (!have_rt) {
		ERR(a,
		    "no route to %s via '%s' (from -i/--interface): give --gateway-ip or -G/--gateway-mac",
		    ip, io->ifname);
		return -EINVAL;
	} else if (rt.has_gw) {
		a->gw_ip_h = rt.gw_h;
		a->gw_origin = "the routing table";
	} else if (cfg->targets->n_addresses == 1 && rt.type == RTN_UNICAST) {
		a->gw_ip_h = first; /* one on-link target is its own next hop */
		a->gw_origin = "the routing table";
		a->gw_is_target = 1;
	} else {
		ERR(a,
		    "%s is on-link on '%s' (no gateway in the routing table): every probe goes to one next hop; give -G/--gateway-mac or --gateway-ip",
		    ip, io->ifname);
		return -EINVAL;
	}
	if (io_nl_neigh_get(io->ifindex, a->gw_ip_h, a->gw_mac) == 0)
		return 0;
	a->gw_resolve = 1;
	return arp_open(a) < 0 ? -EIO : 0;
}

int pps_io_open(struct pps_app *a)
{
	struct pps_io *io = a->io;
	int rc;

	io->n_tx = a->cfg.sender_threads;
	io->tx = calloc(io->n_tx, sizeof(*io->tx));
	if (!io->tx) {
		ERR(a, "out of memory");
		return 1;
	}
	for (unsigned k = 0; k < io->n_tx; k++)
		io->tx[k].fd = -1;
	/* a system call a burst: a sender waits for a whole burst unless it is 20 us away */
	a->tx_coalesce_ticks = 20000;
	if ((rc = iface_facts(a)) < 0)
		return rc == -EINVAL ? 2 : 1;
	return 0;
}

/*
 * The receive handle: libpcap in immediate mode with cfg.pcap_buffer bytes of ring,
 * nanosecond timestamps, inbound only, and the probe module's BPF filter (pps_probe_bpf():
 * its responses to our addresses, and ARP requests for them when we answer them).
 */
static int rx_open(struct pps_app *a)
{
	struct pps_io *io = a->io;
	const struct pps_config *cfg = &a->cfg;
	char errbuf[PCAP_ERRBUF_SIZE], filter[16384];
	struct bpf_program prog;
	int rc, dlt, want;

	io->rx = pcap_create(io->ifname, errbuf);
	if (!io->rx) {
		ERR(a, "cannot capture on '%s': %s", io->ifname, errbuf);
		return -ENODEV;
	}
	pcap_set_snaplen(io->rx, IO_RX_SNAPLEN);
	pcap_set_promisc(io->rx, 0);
	pcap_set_immediate_mode(io->rx, 1);
	pcap_set_buffer_size(io->rx, (int)cfg->pcap_buffer);
	pcap_set_tstamp_precision(io->rx, PCAP_TSTAMP_PRECISION_NANO);
	rc = pcap_activate(io->rx);
	if (rc < 0) {
		if (rc == PCAP_ERROR_PERM_DENIED)
			ERR(a,
			    "cannot capture on '%s' (from -i/--interface): missing capability CAP_NET_RAW",
			    io->ifname);
		else
			ERR(a, "cannot capture on '%s': %s", io->ifname, pcap_geterr(io->rx));
		return rc == PCAP_ERROR_PERM_DENIED ? -EPERM : -EIO;
	}
	dlt = pcap_datalink(io->rx);
	want = a->with_ethernet ? DLT_EN10MB : DLT_RAW;
	if (dlt != want && !(dlt == DLT_IPV4 && !a->with_ethernet)) {
		ERR(a, "'%s' captures as %s, expected %s", io->ifname,
		    pcap_datalink_val_to_name(dlt), pcap_datalink_val_to_name(want));
		return -EPROTONOSUPPORT;
	}
	pcap_setdirection(io->rx, PCAP_D_IN); /* our own probes never reach the filter */
	if (pps_probe_bpf(cfg, a->answer_arp, a->with_ethernet, filter, sizeof(filter)) < 0) {
		ERR(a, "BPF filter: more than %zu bytes", sizeof(filter));
		return -EINVAL;
	}
	if (pcap_compile(io->rx, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0 ||
	    pcap_setfilter(io->rx, &prog) < 0) {
		ERR(a, "BPF filter '%s': %s", filter, pcap_geterr(io->rx));
		return -EINVAL;
	}
	pcap_freecode(&prog);
	if (pcap_setnonblock(io->rx, 1, errbuf) < 0) {
		ERR(a, "'%s': %s", io->ifname, errbuf);
		return -EIO;
	}
	for (unsigned k = 0; k < PPS_BURST; k++)
		io->rxb.frame[k] = io->rxb.slot[k];
	return 0;
}

/* A pcap handle that sends (pcap_inject) and keeps nothing it captures: BPF "ret #0". */
static int tx_open_inject(struct pps_app *a, struct pps_io_txq *t)
{
	static struct sock_filter reject[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	struct bpf_program none = { .bf_len = 1, .bf_insns = (struct bpf_insn *)reject };
	char errbuf[PCAP_ERRBUF_SIZE];

	t->pcap = pcap_create(a->io->ifname, errbuf);
	if (!t->pcap || pcap_set_snaplen(t->pcap, 64) || pcap_set_buffer_size(t->pcap, 1 << 16) ||
	    pcap_activate(t->pcap) < 0 || pcap_setfilter(t->pcap, &none) < 0) {
		ERR(a, "cannot open '%s' for pcap_inject: %s", a->io->ifname,
		    t->pcap ? pcap_geterr(t->pcap) : errbuf);
		return -EIO;
	}
	return 0;
}

/*
 * A TPACKET_V2 TX ring of IO_RING_FRAMES frames, each the tpacket2 header plus the largest
 * frame, a power of two of at least 256 bytes (so a 64 KiB block holds whole frames).
 */
static int tx_open_ring(struct pps_app *a, struct pps_io_txq *t, unsigned frame_max)
{
	unsigned frame = 256;
	struct tpacket_req req;
	int v2 = TPACKET_V2, one = 1;
	void *m;

	while (frame < TPACKET_ALIGN(sizeof(struct tpacket2_hdr)) + frame_max)
		frame *= 2;
	req = (struct tpacket_req){
		.tp_block_size = 16 * 4096,
		.tp_frame_size = frame,
		.tp_frame_nr = IO_RING_FRAMES,
		.tp_block_nr = IO_RING_FRAMES / (16 * 4096 / frame),
	};
	if (setsockopt(t->fd, SOL_PACKET, PACKET_VERSION, &v2, sizeof(v2)) < 0 ||
	    setsockopt(t->fd, SOL_PACKET, PACKET_LOSS, &one, sizeof(one)) < 0 ||
	    setsockopt(t->fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) < 0) {
		ERR(a, "'%s': cannot set up a PACKET_TX_RING: %s (try --send-method mmsg)",
		    a->io->ifname, strerror(errno));
		return -errno;
	}
	t->ring_len = (size_t)req.tp_block_size * req.tp_block_nr;
	m = mmap(NULL, t->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0);
	if (m == MAP_FAILED) {
		ERR(a, "'%s': cannot map the TX ring: %s", a->io->ifname, strerror(errno));
		t->ring_len = 0;
		return -errno;
	}
	t->ring = m;
	t->frame_size = frame;
	t->head = 0;
	return 0;
}

int io_tx_open(struct pps_app *a, struct pps_io_txq *t, enum pps_send_method method,
	       unsigned frame_max)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = a->io->ifindex };
	int one = 1, sndbuf = 4 << 20;

	t->io = a->io;
	t->fd = -1;
	t->method = method;
	if (method != PPS_SEND_RING) {
		t->slots = malloc((size_t)PPS_BURST * frame_max);
		if (!t->slots) {
			ERR(a, "out of memory");
			return -ENOMEM;
		}
		for (unsigned j = 0; j < PPS_BURST; j++)
			t->slot[j] = t->slots + (size_t)j * frame_max;
	}
	if (method == PPS_SEND_INJECT)
		return tx_open_inject(a, t);
	t->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (t->fd < 0 || bind(t->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		ERR(a, "cannot open a packet socket on '%s': %s", a->io->ifname, strerror(errno));
		return -errno;
	}
	/* Best effort: without the bypass (Linux < 3.14) frames go through the qdisc. */
	setsockopt(t->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	setsockopt(t->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	t->dst = sll;
	t->dst.sll_protocol = htons(ETH_P_IP); /* skb->protocol, also for headerless links */
	if (method == PPS_SEND_RING)
		return tx_open_ring(a, t, frame_max);
	for (unsigned j = 0; j < PPS_BURST; j++) {
		t->iov[j].iov_base = t->slot[j];
		t->msg[j].msg_hdr.msg_name = &t->dst;
		t->msg[j].msg_hdr.msg_namelen = sizeof(t->dst);
		t->msg[j].msg_hdr.msg_iov = &t->iov[j];
		t->msg[j].msg_hdr.msg_iovlen = 1;
	}
	return 0;
}

void io_tx_close(struct pps_io_txq *t)
{
	if (t->ring)
		munmap(t->ring, t->ring_len);
	t->ring = NULL;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (t->pcap)
		pcap_close(t->pcap);
	t->pcap = NULL;
	free(t->slots);
	t->slots = NULL;
}

int pps_io_start(struct pps_app *a)
{
	struct pps_io *io = a->io;
	unsigned frame_max = pps_scan_frame_max(&a->scan);

	if (io->arp_fd >= 0) { /* the gateway is resolved: ARP frames are the filter's now */
		close(io->arp_fd);
		io->arp_fd = -1;
	}
	if (rx_open(a) < 0)
		return 1;
	for (unsigned k = 0; k < io->n_tx; k++) {
		io->tx[k].index = k;
		if (io_tx_open(a, &io->tx[k], a->cfg.send_method, frame_max) < 0)
			return 1;
	}
	/* the receive thread's control frames: ARP replies and the module's replies */
	if ((a->answer_arp || !a->cfg.no_rst) &&
	    io_tx_open(a, &io->ctrl, PPS_SEND_MMSG, frame_max) < 0)
		return 1;
	return 0;
}

void pps_io_describe(struct pps_app *a, char *dev, size_t dev_len, char *threads,
		     size_t threads_len, char *note, size_t note_len)
{
	static const char *const method[] = { [PPS_SEND_RING] = "PACKET_TX_RING",
					      [PPS_SEND_MMSG] = "sendmmsg",
					      [PPS_SEND_INJECT] = "pcap_inject" };
	struct pps_io *io = a->io;

	snprintf(dev, dev_len, "interface %s", io->ifname);
	snprintf(threads, threads_len, "%u sender thread(s), %s", io->n_tx,
		 method[a->cfg.send_method]);
	note[0] = '\0';
	if (io->src_is_local && io->link == IO_LINK_ETHER)
		pps_app_host_source_note(a->cfg.src_ip_h, note, note_len);
}

static void *sender_main(void *arg)
{
	struct pps_io_txq *t = arg;
	struct pps_app *app = t->io->app;

	prctl(PR_SET_TIMERSLACK, 1000UL); /* 1 us: sleeps end close to the burst's deadline */
	pps_worker(app, PPS_ROLE_TX, t->index);
	return NULL;
}

static void *receiver_main(void *arg)
{
	pps_worker(arg, PPS_ROLE_RX, 0);
	return NULL;
}

int pps_io_launch(struct pps_app *a)
{
	struct pps_io *io = a->io;
	int rc;

	io->app = a;
	if ((rc = pthread_create(&io->rx_thread, NULL, receiver_main, a)) != 0) {
		ERR(a, "cannot start the receive thread: %s", strerror(rc));
		return 1;
	}
	io->rx_started = 1;
	for (; io->started < io->n_tx; io->started++)
		if ((rc = pthread_create(&io->tx[io->started].thread, NULL, sender_main,
					 &io->tx[io->started])) != 0) {
			ERR(a, "cannot start sender thread %u: %s", io->started, strerror(rc));
			pps_run_stop_tx(&a->run);
			pps_run_stop_rx(&a->run);
			pps_io_join(a);
			return 1;
		}
	return 0;
}

int pps_io_join(struct pps_app *a)
{
	struct pps_io *io = a->io;
	int rc = 0;

	for (unsigned k = 0; k < io->started; k++)
		pthread_join(io->tx[k].thread, NULL);
	if (io->rx_started)
		pthread_join(io->rx_thread, NULL);
	for (unsigned k = 0; k < io->started && !rc; k++)
		if (io->tx[k].last_errno) {
			ERR(a, "sending on %s failed: %s", io->ifname,
			    strerror(io->tx[k].last_errno));
			rc = 1;
		}
	io->started = 0;
	io->rx_started = 0;
	return rc;
}

void pps_io_close(struct pps_app *a)
{
	struct pps_io *io = a->io;

	if (!io)
		return;
	if (io->tx)
		for (unsigned k = 0; k < io->n_tx; k++)
			io_tx_close(&io->tx[k]);
	free(io->tx);
	io->tx = NULL;
	io_tx_close(&io->ctrl);
	if (io->rx)
		pcap_close(io->rx);
	io->rx = NULL;
	if (io->arp_fd >= 0)
		close(io->arp_fd);
	io->arp_fd = -1;
	io_nft_remove();
}

uint64_t pps_io_drops(struct pps_app *a)
{
	return atomic_load_explicit(&a->io->nic_drops, memory_order_relaxed);
}

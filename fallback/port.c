/*
 * Device setup for ppscan-pcap: interface facts (ioctl and rtnetlink), the CAP_NET_RAW check,
 * gateway ARP, the libpcap receive handle and the sender sockets. Nothing here runs per probe.
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
#include <unistd.h>

#include "app.h"
#include "pps_arp.h"
#include "pps_monitor.h"
#include "pps_parse.h"

#define ERR(a, ...)                                                                                \
	do {                                                                                       \
		fprintf(stderr, "%s: ", (a)->cfg.prog);                                            \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fputc('\n', stderr);                                                               \
	} while (0)

int app_iface_open(struct app *a)
{
	const char *ifn = a->cfg.iface;
	struct ifreq ifr;
	int fd, rc = 0;

	if (strlen(ifn) >= IF_NAMESIZE) {
		ERR(a, "invalid interface '%s' (from -i/--interface): longer than %d characters",
		    ifn, IF_NAMESIZE - 1);
		return -EINVAL;
	}
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifn);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		ERR(a, "cannot open a socket: %s", strerror(errno));
		return rc;
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, a->ifname, sizeof(a->ifname));
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
		rc = -errno;
		ERR(a, "invalid interface '%s' (from -i/--interface): %s", ifn,
		    errno == ENODEV ? "no such interface" : strerror(errno));
		goto out;
	}
	a->ifindex = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		rc = -errno;
		ERR(a, "invalid interface '%s' (from -i/--interface): %s", ifn, strerror(errno));
		goto out;
	}
	a->ifflags = (unsigned)(unsigned short)ifr.ifr_flags;
	if (!(a->ifflags & IFF_UP)) {
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
		a->link = APP_LINK_ETHER;
		memcpy(a->src_mac, ifr.ifr_hwaddr.sa_data, 6);
		break;
	case ARPHRD_LOOPBACK:
		a->link = APP_LINK_LOOPBACK;
		break;
	case ARPHRD_NONE:
	case ARPHRD_RAWIP:
	case ARPHRD_PPP:
		a->link = APP_LINK_RAWIP;
		break;
	default:
		ERR(a, "invalid interface '%s' (from -i/--interface): link type %u is neither Ethernet nor raw IP",
		    ifn, ifr.ifr_hwaddr.sa_family);
		rc = -EPROTONOSUPPORT;
		goto out;
	}
	a->with_ethernet = a->link != APP_LINK_RAWIP;
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
			ERR(a, "cannot open a packet socket on '%s' (from -i/--interface): missing capability CAP_NET_RAW (run as root, or: setcap cap_net_raw+ep %s)",
			    ifn, a->cfg.prog);
		else
			ERR(a, "cannot open a packet socket on '%s': %s", ifn, strerror(errno));
		return rc;
	}
out:
	close(fd);
	return rc;
}

/* The first IPv4 address of the interface (SIOCGIFADDR), or 0. */
static uint32_t iface_addr(const struct app *a)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	uint32_t ip = 0;

	if (fd < 0)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, a->ifname, sizeof(a->ifname));
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

/* Sends one ARP frame of op @op_h to @tha / @tpa_h on the ARP socket @fd. */
static void arp_send(const struct app *a, int fd, uint16_t op_h, const uint8_t tha[6],
		     uint32_t tpa_h)
{
	uint8_t buf[PPS_ARP_FRAME_LEN];
	uint16_t len = pps_arp_build(buf, op_h, a->src_mac, a->cfg.src_ip_h, tha, tpa_h);

	(void)!send(fd, buf, len, 0);
}

/*
 * Asks for @gw_ip_h's MAC with our own ARP requests (once a second, as ppscan does), answering
 * requests for our address meanwhile when the kernel does not. Returns 0 or -ETIMEDOUT.
 */
static int arp_resolve(struct app *a, uint32_t gw_ip_h, double timeout_s)
{
	static const uint8_t zero[6];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ARP),
				   .sll_ifindex = a->ifindex };
	double deadline = pps_monotonic_s() + timeout_s, next_req = 0;
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP)), rc = -ETIMEDOUT;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	for (double now; (now = pps_monotonic_s()) < deadline && rc;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint8_t buf[256];
		struct pps_pkt p;
		ssize_t n;

		if (now >= next_req) {
			arp_send(a, fd, 1, zero, gw_ip_h);
			next_req = now + 1.0;
		}
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		while (rc && (n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			if (pps_parse_frame(buf, (size_t)n, 1, &p) != PPS_PKT_ARP)
				continue;
			if (p.arp.op_h == 2 && p.arp.spa_h == gw_ip_h) {
				memcpy(a->gw_mac, p.arp.sha, 6);
				rc = 0;
			} else if (a->answer_arp && p.arp.op_h == 1 &&
				   p.arp.tpa_h == a->cfg.src_ip_h) {
				arp_send(a, fd, 2, p.arp.sha, p.arp.spa_h);
			}
		}
	}
	close(fd);
	return rc;
}

int app_iface_facts(struct app *a)
{
	struct pps_config *cfg = &a->cfg;
	uint32_t first = pps_targets_at(cfg->targets, 0);
	struct app_route rt, self;
	char ip[16], ip2[16];
	int have_rt, rc;

	pps_format_ipv4(first, ip);
	have_rt = app_nl_route_get(first, a->ifindex, &rt) == 0;
	if (!cfg->have_src_ip) {
		uint32_t src = have_rt && rt.has_prefsrc ? rt.prefsrc_h : iface_addr(a);

		if (!src) {
			ERR(a, "no source address: '%s' (from -i/--interface) has no IPv4 address; give -S/--source-ip",
			    a->ifname);
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
	a->src_is_local = app_nl_route_get(cfg->src_ip_h, 0, &self) == 0 && self.type == RTN_LOCAL;
	a->answer_arp = a->link == APP_LINK_ETHER && (!a->src_is_local || (a->ifflags & IFF_NOARP));
	if (cfg->have_src_mac)
		memcpy(a->src_mac, cfg->src_mac, 6);
	if (a->link == APP_LINK_LOOPBACK && !loopback_accepts_local()) {
		ERR(a, "'%s' (from -i/--interface) is the loopback: frames sent on it come back as received packets from a local address, which Linux drops as martians; set sysctl net.ipv4.conf.%s.accept_local=1 to scan through it",
		    a->ifname, a->ifname);
		return -EINVAL;
	}
	if (a->link != APP_LINK_ETHER)
		return 0; /* loopback: zero addresses; raw IP: no link header at all */
	if (cfg->have_gw_mac) {
		memcpy(a->gw_mac, cfg->gw_mac, 6);
		return 0;
	}
	if (cfg->have_gw_ip) {
		a->gw_ip_h = cfg->gw_ip_h;
	} else if (!have_rt) {
		ERR(a, "no route to %s via '%s' (from -i/--interface): give --gateway-ip or -G/--gateway-mac",
		    ip, a->ifname);
		return -EINVAL;
	} else if (rt.has_gw) {
		a->gw_ip_h = rt.gw_h;
	} else if (cfg->targets->n_addresses == 1 && rt.type == RTN_UNICAST) {
		a->gw_ip_h = first; /* one on-link target is its own next hop */
	} else {
		ERR(a, "%s is on-link on '%s' (no gateway in the routing table): every probe goes to one next hop; give -G/--gateway-mac or --gateway-ip",
		    ip, a->ifname);
		return -EINVAL;
	}
	a->have_gw_ip = 1;
	if (app_nl_neigh_get(a->ifindex, a->gw_ip_h, a->gw_mac) == 0)
		return 0;
	rc = arp_resolve(a, a->gw_ip_h, APP_ARP_TIMEOUT_S);
	if (rc < 0) {
		pps_format_ipv4(a->gw_ip_h, ip2);
		ERR(a, "no ARP reply from gateway %s (from %s) within %.0f s; give -G/--gateway-mac or check the link",
		    ip2, cfg->have_gw_ip ? "--gateway-ip" : "the routing table", APP_ARP_TIMEOUT_S);
	}
	return rc;
}

int app_rx_open(struct app *a)
{
	const struct pps_config *cfg = &a->cfg;
	char errbuf[PCAP_ERRBUF_SIZE], filter[4096];
	struct bpf_program prog;
	int rc, dlt, want;

	a->rx = pcap_create(a->ifname, errbuf);
	if (!a->rx) {
		ERR(a, "cannot capture on '%s': %s", a->ifname, errbuf);
		return -ENODEV;
	}
	pcap_set_snaplen(a->rx, APP_RX_SNAPLEN);
	pcap_set_promisc(a->rx, 0);
	pcap_set_immediate_mode(a->rx, 1);
	pcap_set_buffer_size(a->rx, (int)cfg->pcap_buffer);
	pcap_set_tstamp_precision(a->rx, PCAP_TSTAMP_PRECISION_NANO);
	rc = pcap_activate(a->rx);
	if (rc < 0) {
		if (rc == PCAP_ERROR_PERM_DENIED)
			ERR(a, "cannot capture on '%s' (from -i/--interface): missing capability CAP_NET_RAW",
			    a->ifname);
		else
			ERR(a, "cannot capture on '%s': %s", a->ifname, pcap_geterr(a->rx));
		return rc == PCAP_ERROR_PERM_DENIED ? -EPERM : -EIO;
	}
	dlt = pcap_datalink(a->rx);
	want = a->with_ethernet ? DLT_EN10MB : DLT_RAW;
	if (dlt != want && !(dlt == DLT_IPV4 && !a->with_ethernet)) {
		ERR(a, "'%s' captures as %s, expected %s", a->ifname,
		    pcap_datalink_val_to_name(dlt), pcap_datalink_val_to_name(want));
		return -EPROTONOSUPPORT;
	}
	pcap_setdirection(a->rx, PCAP_D_IN); /* our own probes never reach the filter */
	/* the probe module's responses to our addresses (and ARP requests for them) */
	if (pps_probe_bpf(cfg, a->answer_arp, filter, sizeof(filter)) < 0) {
		ERR(a, "BPF filter: more than %zu bytes", sizeof(filter));
		return -EINVAL;
	}
	if (pcap_compile(a->rx, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0 ||
	    pcap_setfilter(a->rx, &prog) < 0) {
		ERR(a, "BPF filter '%s': %s", filter, pcap_geterr(a->rx));
		return -EINVAL;
	}
	pcap_freecode(&prog);
	if (pcap_setnonblock(a->rx, 1, errbuf) < 0) {
		ERR(a, "'%s': %s", a->ifname, errbuf);
		return -EIO;
	}
	return 0;
}

/* A pcap handle that sends (pcap_inject) and keeps nothing it captures: BPF "ret #0". */
static int tx_open_inject(struct app *a, struct app_tx *t)
{
	static struct sock_filter reject[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	struct bpf_program none = { .bf_len = 1, .bf_insns = (struct bpf_insn *)reject };
	char errbuf[PCAP_ERRBUF_SIZE];

	t->pcap = pcap_create(a->ifname, errbuf);
	if (!t->pcap || pcap_set_snaplen(t->pcap, 64) || pcap_set_buffer_size(t->pcap, 1 << 16) ||
	    pcap_activate(t->pcap) < 0 || pcap_setfilter(t->pcap, &none) < 0) {
		ERR(a, "cannot open '%s' for pcap_inject: %s", a->ifname,
		    t->pcap ? pcap_geterr(t->pcap) : errbuf);
		return -EIO;
	}
	return 0;
}

static int tx_open_ring(struct app *a, struct app_tx *t)
{
	struct tpacket_req req = {
		.tp_block_size = 16 * 4096,
		.tp_frame_size = APP_RING_FRAME,
		.tp_frame_nr = APP_RING_FRAMES,
		.tp_block_nr = APP_RING_FRAMES / (16 * 4096 / APP_RING_FRAME),
	};
	int v2 = TPACKET_V2, one = 1;
	void *m;

	if (setsockopt(t->fd, SOL_PACKET, PACKET_VERSION, &v2, sizeof(v2)) < 0 ||
	    setsockopt(t->fd, SOL_PACKET, PACKET_LOSS, &one, sizeof(one)) < 0 ||
	    setsockopt(t->fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) < 0) {
		ERR(a, "'%s': cannot set up a PACKET_TX_RING: %s (try --send-method mmsg)",
		    a->ifname, strerror(errno));
		return -errno;
	}
	t->ring_len = (size_t)req.tp_block_size * req.tp_block_nr;
	m = mmap(NULL, t->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0);
	if (m == MAP_FAILED) {
		ERR(a, "'%s': cannot map the TX ring: %s", a->ifname, strerror(errno));
		t->ring_len = 0;
		return -errno;
	}
	t->ring = m;
	t->head = 0;
	return 0;
}

int app_tx_open(struct app *a, struct app_tx *t, enum pps_send_method method)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = a->ifindex };
	int one = 1, sndbuf = 4 << 20;

	t->a = a;
	t->fd = -1;
	for (unsigned j = 0; j < APP_BURST; j++)
		t->slotp[j] = t->slot[j];
	if (method == PPS_SEND_INJECT)
		return tx_open_inject(a, t);
	t->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (t->fd < 0 || bind(t->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		ERR(a, "cannot open a packet socket on '%s': %s", a->ifname, strerror(errno));
		return -errno;
	}
	/* Best effort: without the bypass (Linux < 3.14) frames go through the qdisc. */
	setsockopt(t->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	setsockopt(t->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	t->dst = sll;
	t->dst.sll_protocol = htons(ETH_P_IP); /* skb->protocol, also for headerless links */
	if (method == PPS_SEND_RING)
		return tx_open_ring(a, t);
	for (unsigned j = 0; j < APP_BURST; j++) {
		t->iov[j].iov_base = t->slot[j];
		t->msg[j].msg_hdr.msg_name = &t->dst;
		t->msg[j].msg_hdr.msg_namelen = sizeof(t->dst);
		t->msg[j].msg_hdr.msg_iov = &t->iov[j];
		t->msg[j].msg_hdr.msg_iovlen = 1;
	}
	return 0;
}

void app_tx_close(struct app_tx *t)
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
}

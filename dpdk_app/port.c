/*
 * ppscan's set-up hooks (core/pps_io.h): the EAL (its arguments before "--", or the "eal" key
 * of a -C/--resume file), the port with one TX queue per sender lcore and the RX queues the
 * receive loop polls, the mbuf pool, the control ring, the lcores' roles and their launch.
 * Nothing here runs per burst (io.c does).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_log.h>

#include "io.h"

static struct pps_io io_state; /* one port per process; large (per-lcore tables) */

void pps_io_args(struct pps_app *a, int argc, char **argv, int *app_argc, char ***app_argv)
{
	struct pps_io *io = &io_state;

	a->io = io;
	io->sep = -1;
	io->argc = argc;
	io->argv = argv;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			io->sep = i;
			break;
		}
	/* scan options: after "--" (that slot becomes argv[0]), or everything without "--" */
	if (io->sep < 0) {
		*app_argc = argc;
		*app_argv = argv;
	} else {
		*app_argc = argc - io->sep;
		*app_argv = argv + io->sep;
		argv[io->sep] = argv[0];
	}
}

int pps_io_prepare(struct pps_app *a)
{
	(void)a;
	return 0;
}

/* EAL argv from a config or resume file's "eal" key (split at blanks). */
static int split_eal(char *prog, const char *eal, char **out, int max, char *buf, size_t len)
{
	int n = 0;
	char *save = NULL, *tok;

	snprintf(buf, len, "%s", eal);
	out[n++] = prog;
	for (tok = strtok_r(buf, " \t", &save); tok && n < max - 1;
	     tok = strtok_r(NULL, " \t", &save))
		out[n++] = tok;
	out[n] = NULL;
	return n;
}

/* The EAL's arguments: before "--", or the file's when nothing comes before "--". */
static void eal_args(struct pps_app *a, struct pps_io *io)
{
	const int max = (int)(sizeof(io->eal_argv) / sizeof(io->eal_argv[0]));

	if (io->sep <= 1 && a->cfg.eal_args) {
		io->eal_argc = split_eal(io->argv[0], a->cfg.eal_args, io->eal_argv, max,
					 io->eal_buf, sizeof(io->eal_buf));
	} else {
		io->eal_argc = io->sep < 0 ? 1 : io->sep;
		if (io->eal_argc > max - 1)
			io->eal_argc = max - 1;
		for (int i = 0; i < io->eal_argc; i++)
			io->eal_argv[i] = io->argv[i];
		io->eal_argv[io->eal_argc] = NULL;
	}
	for (int i = 1, off = 0; i < io->eal_argc && off < (int)sizeof(io->eal_joined); i++)
		off += snprintf(io->eal_joined + off, sizeof(io->eal_joined) - (size_t)off, "%s%s",
				i > 1 ? " " : "", io->eal_argv[i]);
	a->eal_args = io->eal_joined;
}

/* Roles: T TX lcores then one RX lcore; one worker for T = 1 does everything. */
static int assign_lcores(struct pps_app *a, struct pps_io *io)
{
	unsigned lcore, k = 0, t = a->cfg.sender_threads;

	io->n_workers = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		io->n_workers++;
	}
	if (io->n_workers == 0) {
		fprintf(stderr,
			"%s: need at least one worker lcore besides the main one (e.g. -l 0-1)\n",
			a->cfg.prog);
		return 2;
	}
	if (t > IO_MAX_TX || (t > 1 && io->n_workers < t + 1)) {
		fprintf(stderr,
			"%s: %u sender threads (from -T/--sender-threads) need %u worker lcores, EAL gave %u (use -l 0-%u)\n",
			a->cfg.prog, t, t + 1, io->n_workers, t + 1);
		return 2;
	}
	RTE_LCORE_FOREACH_WORKER(lcore) {
		int role = 0;

		if (io->n_workers == 1)
			role = PPS_ROLE_TX | PPS_ROLE_RX;
		else if (k < t)
			role = PPS_ROLE_TX;
		else if (k == t)
			role = PPS_ROLE_RX;
		if (k == 0)
			role |= PPS_ROLE_CTRL; /* TX queue 0's lcore sends the control frames */
		io->lcore_role[lcore] = role;
		io->lcore_txq[lcore] = (uint16_t)(k < t ? k : 0);
		k++;
	}
	return 0;
}

int pps_io_open(struct pps_app *a)
{
	struct pps_io *io = a->io;
	int rc;

	eal_args(a, io);
	rte_openlog_stream(stderr); /* the EAL logs to stderr: stdout carries only results */
	if (rte_eal_init(io->eal_argc, io->eal_argv) < 0) {
		fprintf(stderr,
			"%s: EAL initialisation failed: %s (check the EAL options before '--')\n",
			a->cfg.prog, rte_strerror(rte_errno));
		return 2;
	}
	io->eal_up = 1;
	if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr,
			"%s: no DPDK port: bind a NIC or give --vdev (e.g. --vdev net_af_packet0,iface=eth1)\n",
			a->cfg.prog);
		return 2;
	}
	io->port_id = (uint16_t)rte_eth_find_next_owned_by(0, RTE_ETH_DEV_NO_OWNER);
	if ((rc = assign_lcores(a, io)) != 0)
		return rc;
	if ((rc = io_port_init(a)) != 0)
		return rc;
	a->with_ethernet = 1;
	a->answer_arp = 1; /* the port's addresses are ours alone: no kernel answers for them */
	a->gw_resolve = !a->cfg.have_gw_mac;
	a->gw_ip_h = a->cfg.gw_ip_h;
	a->gw_origin = "--gateway-ip";
	return 0;
}

static int setup_queues(struct pps_app *a, struct pps_io *io, uint16_t nb_rxd, uint16_t nb_txd)
{
	int rc;

	for (uint16_t q = 0; q < io->n_rxq; q++)
		if ((rc = rte_eth_rx_queue_setup(io->port_id, q, nb_rxd,
						 rte_eth_dev_socket_id(io->port_id), NULL,
						 io->pool)) < 0)
			return rc;
	for (unsigned q = 0; q < a->cfg.sender_threads; q++) {
		struct pps_io_txq *t = &io->txq[q];

		if ((rc = rte_eth_tx_queue_setup(io->port_id, (uint16_t)q, nb_txd,
						 rte_eth_dev_socket_id(io->port_id), NULL)) < 0)
			return rc;
		t->port_id = io->port_id;
		t->queue = (uint16_t)q;
		t->pool = io->pool;
	}
	return 0;
}

/*
 * The kernel interface under a port (net_af_packet and net_af_xdp name it in the device
 * info): ppscan writes Ethernet frames, so a link without an Ethernet header (tun, PPP,
 * raw IP: ARPHRD other than ether and loopback, whose frames carry a zero Ethernet header)
 * would get garbage. Returns 0, or 2 after one line naming the interface.
 */
static int check_link_type(struct pps_app *a, const struct rte_eth_dev_info *info)
{
	char name[IF_NAMESIZE], path[96];
	unsigned type = ARPHRD_ETHER;
	FILE *f;

	if (!info->if_index || !if_indextoname(info->if_index, name))
		return 0; /* a NIC of its own: Ethernet */
	snprintf(a->link_name, sizeof(a->link_name), "%s", name);
	snprintf(path, sizeof(path), "/sys/class/net/%s/type", name);
	if ((f = fopen(path, "r"))) {
		if (fscanf(f, "%u", &type) != 1)
			type = ARPHRD_ETHER;
		fclose(f);
	}
	if (type == ARPHRD_ETHER || type == ARPHRD_LOOPBACK)
		return 0;
	fprintf(stderr,
		"%s: interface '%s' (port %s) has no Ethernet header (link type %u%s): ppscan sends Ethernet frames; scan it with ppscan-pcap -i %s, which sends bare IPv4 there\n",
		a->cfg.prog, name, info->driver_name, type,
		type == ARPHRD_NONE  ? ", a tun device"
		: type == ARPHRD_PPP ? ", PPP"
				     : "",
		name);
	return 2;
}

int io_port_init(struct pps_app *a)
{
	struct pps_io *io = a->io;
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t nb_rxd = IO_RX_DESC, nb_txd = IO_TX_DESC;
	const uint64_t rx_csum = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM |
				 RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	int rc;

	memset(&conf, 0, sizeof(conf));
	io->pool = rte_pktmbuf_pool_create("ppscan_pool", IO_POOL_SIZE, IO_POOL_CACHE, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (!io->pool) {
		fprintf(stderr, "%s: cannot create mbuf pool: %s\n", a->cfg.prog,
			rte_strerror(rte_errno));
		return 1;
	}
	io->ctrl = rte_ring_create("ppscan_ctrl", IO_CTRL_RING, rte_socket_id(), RING_F_SC_DEQ);
	if (!io->ctrl) {
		fprintf(stderr, "%s: cannot create control ring: %s\n", a->cfg.prog,
			rte_strerror(rte_errno));
		return 1;
	}
	if ((rc = rte_eth_dev_info_get(io->port_id, &info)) != 0) {
		fprintf(stderr, "%s: port %u: cannot get device info: %s\n", a->cfg.prog,
			io->port_id, strerror(-rc));
		return 1;
	}
	snprintf(a->link_name, sizeof(a->link_name), "port %u (%s)", io->port_id, info.driver_name);
	if ((rc = check_link_type(a, &info)) != 0)
		return rc;
	if (a->cfg.sender_threads > info.max_tx_queues) {
		fprintf(stderr,
			"%s: port %u (%s) has %u TX queue(s), %u sender threads asked for (af_packet: add qpairs=%u to the --vdev)\n",
			a->cfg.prog, io->port_id, info.driver_name, info.max_tx_queues,
			a->cfg.sender_threads, a->cfg.sender_threads);
		return 1;
	}
	/*
	 * RX queues: one (no RSS asked for, so a NIC delivers everything to queue 0), except on
	 * the kernel-socket PMDs, whose queues are sockets that exist whatever is configured and
	 * that the kernel fills itself (af_packet qpairs=N: PACKET_FANOUT by flow hash; af_xdp
	 * queue_count=N: the NIC's RSS): every one of them is polled, or the responses hashed
	 * to the others are lost.
	 */
	io->n_rxq = 1;
	if ((!strcmp(info.driver_name, "net_af_packet") ||
	     !strcmp(info.driver_name, "net_af_xdp")) &&
	    info.max_rx_queues > 1)
		io->n_rxq = info.max_rx_queues < IO_MAX_RXQ ? info.max_rx_queues : IO_MAX_RXQ;
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
	/* a NIC that verifies checksums says so in each mbuf (io.c); others leave it to us */
	if ((info.rx_offload_capa & rx_csum) == rx_csum)
		conf.rxmode.offloads |= rx_csum;
	if ((rc = rte_eth_dev_configure(io->port_id, io->n_rxq, (uint16_t)a->cfg.sender_threads,
					&conf)) < 0 ||
	    (rc = rte_eth_dev_adjust_nb_rx_tx_desc(io->port_id, &nb_rxd, &nb_txd)) < 0 ||
	    (rc = setup_queues(a, io, nb_rxd, nb_txd)) < 0 ||
	    (rc = rte_eth_dev_start(io->port_id)) < 0) {
		fprintf(stderr, "%s: port %u (%s): setup failed: %s\n", a->cfg.prog, io->port_id,
			info.driver_name, strerror(-rc));
		return 1;
	}
	io->port_up = 1;
	if (!a->cfg.have_src_mac) {
		struct rte_ether_addr mac;

		if ((rc = rte_eth_macaddr_get(io->port_id, &mac)) < 0) {
			fprintf(stderr, "%s: port %u: no MAC address: %s\n", a->cfg.prog,
				io->port_id, strerror(-rc));
			return 1;
		}
		memcpy(a->src_mac, mac.addr_bytes, 6);
	} else {
		memcpy(a->src_mac, a->cfg.src_mac, 6);
	}
	return 0;
}

int pps_io_start(struct pps_app *a)
{
	struct pps_io *io = a->io;

	/* the queues are up since pps_io_open() (gateway ARP needs them); frames the
	 * resolution received but did not look at are dropped */
	while (io->stash_i < io->stash_n)
		rte_pktmbuf_free(io->stash[io->stash_i++]);
	return 0;
}

void pps_io_describe(struct pps_app *a, char *dev, size_t dev_len, char *threads,
		     size_t threads_len, char *note, size_t note_len)
{
	snprintf(dev, dev_len, "port %u", a->io->port_id);
	snprintf(threads, threads_len, "%u TX lcore(s), %u worker lcore(s)", a->cfg.sender_threads,
		 a->io->n_workers);
	if (note_len)
		note[0] = '\0';
	{ /* a -S address this host owns (any interface of this namespace) */
		struct ifaddrs *ifs, *i;

		if (!note_len || getifaddrs(&ifs) < 0)
			return;
		for (i = ifs; i; i = i->ifa_next)
			if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET) {
				uint32_t ip_h = ntohl(
					((const struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);

				if (ip_h == a->cfg.src_ip_h ||
				    (a->cfg.sources &&
				     pps_targets_index_of(a->cfg.sources, ip_h) >= 0)) {
					pps_app_host_source_note(ip_h, note, note_len);
					break;
				}
			}
		freeifaddrs(ifs);
	}
}

static int lcore_main(void *arg)
{
	struct pps_app *a = arg;
	unsigned lcore = rte_lcore_id();

	pps_worker(a, a->io->lcore_role[lcore], a->io->lcore_txq[lcore]);
	return 0;
}

int pps_io_launch(struct pps_app *a)
{
	unsigned lcore;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (a->io->lcore_role[lcore])
			rte_eal_remote_launch(lcore_main, a, lcore);
	}
	return 0;
}

int pps_io_join(struct pps_app *a)
{
	(void)a;
	rte_eal_mp_wait_lcore();
	return 0;
}

void pps_io_close(struct pps_app *a)
{
	struct pps_io *io = a->io;

	if (!io)
		return;
	if (io->port_up) {
		rte_eth_dev_stop(io->port_id);
		rte_eth_dev_close(io->port_id);
		io->port_up = 0;
	}
	if (io->eal_up) {
		rte_eal_cleanup();
		io->eal_up = 0;
	}
}

uint64_t pps_io_drops(struct pps_app *a)
{
	struct rte_eth_stats st;

	return rte_eth_stats_get(a->io->port_id, &st) == 0 ? st.imissed + st.rx_nombuf : 0;
}

int pps_io_xmit(struct pps_app *a, const uint8_t *frame, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(a->io->pool);

	if (!m)
		return -ENOMEM;
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), frame, len);
	m->data_len = m->pkt_len = len;
	if (rte_eth_tx_burst(a->io->port_id, 0, &m, 1) != 1) {
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	return 0;
}

size_t pps_io_recv(struct pps_app *a, uint8_t *buf, size_t cap, int wait_ms)
{
	struct pps_io *io = a->io;
	uint64_t deadline = rte_rdtsc() + (uint64_t)wait_ms * rte_get_tsc_hz() / 1000;

	while (io->stash_i == io->stash_n) {
		io->stash_i = 0;
		io->stash_n = rte_eth_rx_burst(io->port_id, io->rxq_next, io->stash, PPS_BURST);
		io->rxq_next =
			(uint16_t)((io->rxq_next + 1) % io->n_rxq); /* any queue may hold it */
		if (io->stash_n)
			break;
		if (rte_rdtsc() >= deadline)
			return 0;
		rte_delay_us_sleep(1000);
	}
	{
		struct rte_mbuf *m = io->stash[io->stash_i++];
		size_t n = m->data_len < cap ? m->data_len : cap;

		memcpy(buf, rte_pktmbuf_mtod(m, const uint8_t *), n);
		rte_pktmbuf_free(m);
		return n;
	}
}

/*
 * ppscan-pcap - the stateless TCP SYN scanner of ppscan on the kernel's network stack.
 *
 *   ppscan-pcap -i IFACE [scan options] TARGET...
 *
 * Same options, outputs, status line and summary as ppscan (core/ parses, builds, validates
 * and writes everything). Threads: one sender per -T (AF_PACKET socket, TX ring or sendmmsg),
 * one receiver (libpcap, BPF filter), and the main thread running the monitor and the output
 * sinks. Bad input exits 2 before any socket is opened, so nothing is sent.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "pps_arp.h"
#include "pps_monitor.h"
#include "pps_scan.h"

/* The monitor's device drop count: libpcap's, as the receive thread last published it. */
static uint64_t app_drops(void *dev)
{
	struct app *a = dev;
	return atomic_load_explicit(&a->nic_drops, memory_order_relaxed);
}

static const char *method_name(enum pps_send_method m)
{
	return m == PPS_SEND_RING   ? "PACKET_TX_RING"
	       : m == PPS_SEND_MMSG ? "sendmmsg"
				    : "pcap_inject";
}

int main(int argc, char **argv)
{
	static struct app app;
	struct app *a = &app;
	static struct pps_monitor mon;
	char ip[16], mac[18];
	unsigned started = 0;
	pthread_t rx_thread;
	int rc, exit_code = 0;

	if ((rc = pps_run_parse(&a->cfg, PPS_BACKEND_PCAP, argc, argv)) >= 0)
		return rc; /* --help, --dryrun, bad input, ... */
	/* Interface and CAP_NET_RAW first: bad input or no privilege exits 2, nothing sent. */
	if (app_iface_open(a) < 0) {
		pps_config_free(&a->cfg);
		return 2;
	}
	mon.cfg = &a->cfg;
	if (pps_monitor_open_sinks(&mon, &a->cfg, stderr) < 0) {
		pps_config_free(&a->cfg);
		return 2;
	}
	a->n_tx = a->cfg.sender_threads;
	a->tx = calloc(a->n_tx, sizeof(*a->tx));
	if (!a->tx) {
		fprintf(stderr, "ppscan-pcap: out of memory\n");
		exit_code = 1;
		goto out;
	}
	for (unsigned k = 0; k < a->n_tx; k++)
		a->tx[k].fd = -1;
	a->rst.fd = -1;
	if ((rc = app_iface_facts(a)) < 0) {
		exit_code = rc == -EINVAL ? 2 : 1;
		goto out;
	}
	if ((rc = pps_run_init(&a->run, &a->scan, &a->cfg, a->src_mac, a->gw_mac, a->with_ethernet,
			       app_drops, a, stderr)) < 0) {
		exit_code = rc == -EINVAL ? 2 : 1;
		goto out;
	}
	if (app_rx_open(a) < 0) {
		exit_code = 1;
		goto out_dev;
	}
	for (unsigned k = 0; k < a->n_tx; k++) {
		a->tx[k].index = k;
		if (app_tx_open(a, &a->tx[k], a->cfg.send_method) < 0) {
			exit_code = 1;
			goto out_dev;
		}
	}
	if (!a->cfg.no_rst && app_tx_open(a, &a->rst, PPS_SEND_MMSG) < 0) {
		exit_code = 1;
		goto out_dev;
	}

	pps_format_ipv4(a->cfg.src_ip_h, ip);
	pps_format_mac(a->gw_mac, mac);
	fprintf(stderr, "ppscan-pcap: interface %s, source %s%s, gateway MAC %s, %" PRIu64
		" addresses x %u ports = %" PRIu64
		" targets x %u probe(s), shard %u of %u, rate %g pps, seed %" PRIu64
		"%s, %u sender thread(s), %s\n",
		a->ifname, ip, a->src_is_local ? " (this host's)" : "",
		a->link == APP_LINK_RAWIP ? "none (raw IP)" : mac, a->cfg.targets->n_addresses,
		a->cfg.ports->n, a->scan.n, a->scan.probes, a->cfg.shard, a->cfg.shards,
		a->cfg.rate_pps, a->cfg.seed, a->cfg.seed_given ? "" : " (random)", a->n_tx,
		method_name(a->cfg.send_method));
	if (a->src_is_local && a->link == APP_LINK_ETHER)
		fprintf(stderr, "ppscan-pcap: note: %s is this host's address, so its TCP stack also answers SYN-ACKs with a RST where it has a route back (see README: the kernel's RST)\n",
			ip);

	pps_run_catch_signals(&a->run);

	if ((rc = pthread_create(&rx_thread, NULL, app_rx_loop, a)) != 0) {
		fprintf(stderr, "ppscan-pcap: cannot start the receive thread: %s\n", strerror(rc));
		exit_code = 1;
		goto out_dev;
	}
	for (; started < a->n_tx; started++) {
		if ((rc = pthread_create(&a->tx[started].thread, NULL, app_tx_loop,
					 &a->tx[started])) != 0) {
			fprintf(stderr, "ppscan-pcap: cannot start sender thread %u: %s\n", started,
				strerror(rc));
			pps_run_stop_tx(&a->run);
			for (unsigned k = started; k < a->n_tx; k++)
				pps_run_sender_done(&a->run, k, a->run.tx_next[k]);
			exit_code = 1;
			break;
		}
	}

	/* Main thread: output and monitor until the cooldown is over. */
	pps_run_attach(&a->run, &mon, &a->scan);
	pps_monitor_loop(&mon);
	pps_run_stop_tx(&a->run);
	for (unsigned k = 0; k < started; k++)
		pthread_join(a->tx[k].thread, NULL);
	pps_run_stop_rx(&a->run);
	pthread_join(rx_thread, NULL);
	if (pps_monitor_finish(&mon) < 0)
		exit_code = 1;
	{ /* the sending phase alone, from the monitor's clock (1 ms polling) */
		struct pps_totals t = { 0 };

		pps_totals_sum(&t, a->run.tx_c, a->n_tx);
		pps_send_phase_print(stderr, "ppscan-pcap", mon.done_at >= 0 ? mon.done_at - mon.t0 : 0,
				     t.sent);
	}
	for (unsigned k = 0; k < started; k++)
		if (a->tx[k].last_errno) {
			fprintf(stderr, "ppscan-pcap: sending on %s failed: %s\n", a->ifname,
				strerror(a->tx[k].last_errno));
			exit_code = 1;
			break;
		}
out_dev:
	for (unsigned k = 0; k < a->n_tx; k++)
		app_tx_close(&a->tx[k]);
	app_tx_close(&a->rst);
	if (a->rx)
		pcap_close(a->rx);
	pps_run_fini(&a->run, &a->scan);
out:
	free(a->tx);
	pps_monitor_close_sinks(&mon); /* no-op after pps_monitor_finish() */
	pps_config_free(&a->cfg);
	return exit_code;
}

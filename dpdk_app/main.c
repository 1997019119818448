/*
 * ppscan - stateless TCP SYN scanner on a DPDK port.
 *
 *   ppscan [EAL options] -- [scan options] TARGET...
 *
 * Scan options are validated before the EAL starts, so bad input costs no hugepage and sends
 * nothing. The main lcore then runs the monitor (status line once a second) and the output
 * sink; worker lcores run the TX and RX loops (loops.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "app.h"
#include "output/pps_output.h"
#include "pps_arp.h"
#include "pps_monitor.h"
#include "pps_scan.h"

/* The monitor's device drop count: the port's missed and no-mbuf counters. */
static uint64_t app_drops(void *dev)
{
	struct app *a = dev;
	struct rte_eth_stats st;

	return rte_eth_stats_get(a->port_id, &st) == 0 ? st.imissed + st.rx_nombuf : 0;
}

/* EAL argv from a config or resume file's "eal" key (split at blanks). */
static int split_eal(char *prog, const char *eal, char **out, int max, char *buf, size_t len)
{
	int n = 0;
	char *save = NULL, *tok;

	snprintf(buf, len, "%s", eal);
	out[n++] = prog;
	for (tok = strtok_r(buf, " \t", &save); tok && n < max - 1; tok = strtok_r(NULL, " \t", &save))
		out[n++] = tok;
	out[n] = NULL;
	return n;
}

int main(int argc, char **argv)
{
	static struct app app; /* large (ports tables); zero-initialised */
	struct app *a = &app;
	static struct pps_monitor mon;
	static char eal_buf[4096], eal_joined[4096];
	char *eal_argv[128];
	char ip[16], mac[18];
	int sep = -1, eal_argc, rc, exit_code = 0;
	unsigned n_workers = 0, lcore;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			sep = i;
			break;
		}
	/* App options: after "--", or everything if there is no "--". */
	{
		int app_argc = sep < 0 ? argc : argc - sep;
		char **app_argv = sep < 0 ? argv : argv + sep;
		char *saved = app_argv[0];

		app_argv[0] = argv[0];
		rc = pps_run_parse(&a->cfg, PPS_BACKEND_DPDK, app_argc, app_argv);
		app_argv[0] = saved;
		if (rc >= 0)
			return rc; /* --help, --dryrun, bad input, ... */
	}
	/* Open the sinks before the EAL: a bad path or URL is bad input (exit 2). */
	mon.cfg = &a->cfg;
	if (pps_monitor_open_sinks(&mon, &a->cfg, stderr) < 0) {
		pps_config_free(&a->cfg);
		return 2;
	}

	/* EAL arguments: before "--", or the "eal" key of a -C/--resume file. */
	if (sep <= 1 && a->cfg.eal_args) { /* nothing before "--": the file's EAL arguments */
		eal_argc = split_eal(argv[0], a->cfg.eal_args, eal_argv, 128, eal_buf, sizeof(eal_buf));
	} else {
		eal_argc = sep < 0 ? 1 : sep;
		for (int i = 0; i < eal_argc && i < 127; i++)
			eal_argv[i] = argv[i];
		eal_argv[eal_argc < 127 ? eal_argc : 127] = NULL;
	}
	for (int i = 1, off = 0; i < eal_argc && off < (int)sizeof(eal_joined); i++)
		off += snprintf(eal_joined + off, sizeof(eal_joined) - off, "%s%s", i > 1 ? " " : "",
				eal_argv[i]);
	mon.eal_args = eal_joined;

	/* EAL: logs to stderr so stdout carries only results. */
	rte_openlog_stream(stderr);
	rc = rte_eal_init(eal_argc, eal_argv);
	if (rc < 0) {
		fprintf(stderr, "ppscan: EAL initialisation failed: %s (check the EAL options before '--')\n",
			rte_strerror(rte_errno));
		pps_monitor_close_sinks(&mon); /* e.g. the Redis meta hash: not left "running" */
		return 2;
	}
	if (rte_eth_dev_count_avail() == 0) {
		fprintf(stderr, "ppscan: no DPDK port: bind a NIC or give --vdev (e.g. --vdev net_af_packet0,iface=eth1)\n");
		exit_code = 2;
		goto out_eal;
	}
	a->port_id = (uint16_t)rte_eth_find_next_owned_by(0, RTE_ETH_DEV_NO_OWNER);
	RTE_LCORE_FOREACH_WORKER(lcore) {
		n_workers++;
	}
	if (n_workers == 0) {
		fprintf(stderr, "ppscan: need at least one worker lcore besides the main one (e.g. -l 0-1)\n");
		exit_code = 2;
		goto out_eal;
	}
	/* Roles: T TX lcores then one RX lcore; one worker for T = 1 runs both. */
	if (a->cfg.sender_threads > APP_MAX_TX || (a->cfg.sender_threads > 1 && n_workers < a->cfg.sender_threads + 1)) {
		fprintf(stderr,
			"ppscan: %u sender threads (from -T/--sender-threads) need %u worker lcores, EAL gave %u (use -l 0-%u)\n",
			a->cfg.sender_threads, a->cfg.sender_threads + 1, n_workers, a->cfg.sender_threads + 1);
		exit_code = 2;
		goto out_eal;
	}
	{
		unsigned k = 0;
		RTE_LCORE_FOREACH_WORKER(lcore) {
			if (n_workers == 1)
				app_lcore_role[lcore] = APP_ROLE_TX | APP_ROLE_RX;
			else if (k < a->cfg.sender_threads)
				app_lcore_role[lcore] = APP_ROLE_TX;
			else if (k == a->cfg.sender_threads)
				app_lcore_role[lcore] = APP_ROLE_RX;
			else
				app_lcore_role[lcore] = 0;
			app_lcore_txq[lcore] = (uint16_t)(k < a->cfg.sender_threads ? k : 0);
			k++;
		}
	}
	if (app_port_init(a) < 0) {
		exit_code = 1;
		goto out_eal;
	}
	if (a->cfg.have_gw_mac) {
		memcpy(a->gw_mac, a->cfg.gw_mac, 6);
	} else if (app_resolve_gateway(a, 5.0) < 0) {
		pps_format_ipv4(a->cfg.gw_ip_h, ip);
		fprintf(stderr, "ppscan: no ARP reply from gateway %s (from --gateway-ip) within 5 s; give -G/--gateway-mac or check the link\n",
			ip);
		exit_code = 1;
		goto out_port;
	}
	if ((rc = pps_run_init(&a->run, &a->scan, &a->cfg, a->src_mac, a->gw_mac, 1, app_drops, a,
			       stderr)) < 0) {
		exit_code = rc == -EINVAL ? 2 : 1;
		goto out_port;
	}

	pps_format_ipv4(a->cfg.src_ip_h, ip);
	pps_format_mac(a->gw_mac, mac);
	fprintf(stderr,
		"ppscan: port %u, source %s, gateway MAC %s, %" PRIu64 " addresses x %u ports = %" PRIu64
		" targets x %u probe(s), shard %u of %u, rate %g pps, seed %" PRIu64
		"%s, %u TX lcore(s), %u worker lcore(s)\n",
		a->port_id, ip, mac, a->cfg.targets->n_addresses, a->cfg.ports->n, a->scan.n,
		a->scan.probes, a->cfg.shard, a->cfg.shards, a->cfg.rate_pps, a->cfg.seed,
		a->cfg.seed_given ? "" : " (random)", a->cfg.sender_threads, n_workers);

	pps_run_catch_signals(&a->run);

	a->tsc_hz = rte_get_tsc_hz();
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (app_lcore_role[lcore])
			rte_eal_remote_launch(app_worker, a, lcore);
	}
	a->start_ns = pps_realtime_ns();
	a->start_tsc = rte_rdtsc();
	atomic_store(&a->ready, 1);

	/* Main lcore: output and monitor until the cooldown is over. */
	{
		pps_run_attach(&a->run, &mon, &a->scan);
		pps_monitor_loop(&mon);
		pps_run_stop_rx(&a->run);
		rte_eal_mp_wait_lcore();
		if (pps_monitor_finish(&mon) < 0)
			exit_code = 1;
		/* the sending phase alone, timed on the TSC (bench/run.sh reads this line) */
		{
			struct pps_totals t = { 0 };
			uint64_t done = atomic_load(&a->tx_done_tsc);
			double s = done > a->start_tsc
					   ? (double)(done - a->start_tsc) / (double)a->tsc_hz
					   : 0;

			pps_totals_sum(&t, a->run.tx_c, a->cfg.sender_threads);
			pps_send_phase_print(stderr, "ppscan", s, t.sent);
		}
	}
	pps_run_fini(&a->run, &a->scan);
out_port:
	rte_eth_dev_stop(a->port_id);
	rte_eth_dev_close(a->port_id);
out_eal:
	pps_monitor_close_sinks(&mon); /* no-op after pps_monitor_finish() */
	rte_eal_cleanup();
	pps_config_free(&a->cfg);
	return exit_code;
}

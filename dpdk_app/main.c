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
#include "pps_scan.h"

static struct app *g_app; /* for the signal handler only */
static volatile sig_atomic_t g_sigints;

static void on_sigint(int sig)
{
	(void)sig;
	g_sigints++;
	if (g_app)
		atomic_store(&g_app->stop_tx, 1);
}

static uint64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --dryrun: print every probe (no EAL, no device, no root). */
static int dryrun(const struct pps_config *cfg)
{
	static const uint8_t zero[6];
	struct pps_scan s;
	char ip[16];
	int rc = pps_scan_init(&s, cfg, zero, zero, 1);

	if (rc < 0) {
		fprintf(stderr, "%s: cannot set up the scan: %s\n", cfg->prog, strerror(-rc));
		return 1;
	}
	fprintf(stderr, "%s: dry run, seed %" PRIu64 ", %" PRIu64 " probes\n", cfg->prog,
		cfg->seed, s.n);
	printf("daddr,dport,sport,seqnum\n");
	for (uint64_t i = 0; i < s.n; i++) {
		struct pps_probe p;
		pps_scan_probe_at(&s, i, &p);
		pps_format_ipv4(p.dst_ip_h, ip);
		printf("%s,%u,%u,%" PRIu32 "\n", ip, p.dst_port_h, p.src_port_h, p.seq_h);
	}
	pps_scan_fini(&s);
	return fflush(stdout) ? 1 : 0;
}

static void nic_drops(struct app *a, struct pps_totals *t)
{
	struct rte_eth_stats st;
	if (rte_eth_stats_get(a->port_id, &st) == 0)
		t->nic_drops = st.imissed + st.rx_nombuf;
}

static size_t drain_results(struct app *a, struct pps_output *out)
{
	struct pps_result buf[256];
	size_t n, total = 0;

	while ((n = pps_ring_pop(a->results, buf, 256)) > 0) {
		for (size_t i = 0; i < n; i++)
			pps_output_write(out, &buf[i]);
		total += n;
	}
	return total;
}

int main(int argc, char **argv)
{
	static struct app app; /* large (ports tables); zero-initialised */
	struct app *a = &app;
	struct pps_output out;
	char why[256], ip[16], mac[18], line[512];
	int sep = -1, eal_argc, rc, exit_code = 0;
	unsigned n_workers = 0, lcore;
	struct pps_totals prev = { 0 }, now = { 0 };

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
		rc = pps_config_parse(&a->cfg, PPS_BACKEND_DPDK, app_argc, app_argv, stderr);
		app_argv[0] = saved;
		if (rc == PPS_PARSE_EXIT)
			return 0;
		if (rc != PPS_PARSE_OK)
			return 2;
	}
	if (a->cfg.dryrun) {
		rc = dryrun(&a->cfg);
		pps_config_free(&a->cfg);
		return rc;
	}
	/* Check the output file before the EAL: a bad path is bad input (exit 2). */
	if (pps_output_open(&out, a->cfg.output_format == PPS_OUT_JSON ? "json" : "csv",
			    a->cfg.output_file, a->cfg.output_fields, a->cfg.output_closed, why,
			    sizeof(why)) < 0) {
		fprintf(stderr, "ppscan: %s (from -o/--output-file)\n", why);
		pps_config_free(&a->cfg);
		return 2;
	}

	/* EAL: logs to stderr so stdout carries only results. */
	rte_openlog_stream(stderr);
	eal_argc = sep < 0 ? 1 : sep;
	rc = rte_eal_init(eal_argc, argv);
	if (rc < 0) {
		fprintf(stderr, "ppscan: EAL initialisation failed: %s (check the EAL options before '--')\n",
			rte_strerror(rte_errno));
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
	{
		unsigned k = 0;
		RTE_LCORE_FOREACH_WORKER(lcore) {
			if (n_workers == 1)
				app_lcore_role[lcore] = APP_ROLE_TX | APP_ROLE_RX;
			else
				app_lcore_role[lcore] = k == 0 ? APP_ROLE_TX : k == 1 ? APP_ROLE_RX : 0;
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
	if ((rc = pps_scan_init(&a->scan, &a->cfg, a->src_mac, a->gw_mac, 1)) < 0) {
		fprintf(stderr, "ppscan: cannot set up the scan: %s\n", strerror(-rc));
		exit_code = 1;
		goto out_port;
	}
	a->results = pps_ring_new(a->cfg.rx_ring);
	if (!a->results) {
		fprintf(stderr, "ppscan: out of memory for the results ring\n");
		exit_code = 1;
		goto out_scan;
	}

	pps_format_ipv4(a->cfg.src_ip_h, ip);
	pps_format_mac(a->gw_mac, mac);
	fprintf(stderr,
		"ppscan: port %u, source %s, gateway MAC %s, %" PRIu64 " addresses x %u ports = %" PRIu64
		" probes, rate %.0f pps, seed %" PRIu64 "%s, %u worker lcore(s)\n",
		a->port_id, ip, mac, a->cfg.targets->n_addresses, a->cfg.ports->n, a->scan.n,
		a->cfg.rate_pps, a->cfg.seed, a->cfg.seed_given ? "" : " (random)", n_workers);

	g_app = a;
	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);

	a->tsc_hz = rte_get_tsc_hz();
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (app_lcore_role[lcore])
			rte_eal_remote_launch(app_worker, a, lcore);
	}
	a->start_ns = wall_ns();
	a->start_tsc = rte_rdtsc();
	atomic_store(&a->ready, 1);

	/* Main lcore: output and monitor. */
	{
		double t0 = mono_s(), last_status = t0, last_flush = t0, done_at = -1;
		int interrupted_announced = 0;

		for (;;) {
			double t = mono_s();

			drain_results(a, &out);
			if (t - last_flush >= 0.1) {
				pps_output_flush(&out);
				last_flush = t;
			}
			if (done_at < 0 && atomic_load(&a->tx_done))
				done_at = t;
			if (g_sigints && !interrupted_announced) {
				fprintf(stderr, "ppscan: interrupted: sending stopped, waiting %.0f s for responses (Ctrl-C again to stop now)\n",
					a->cfg.cooldown_s);
				interrupted_announced = 1;
			}
			if (done_at >= 0 && (t - done_at >= a->cfg.cooldown_s || g_sigints > 1))
				break;
			if (t - last_status >= 1.0) {
				struct pps_status_ctx ctx = {
					.elapsed_s = t - t0,
					.dt_s = t - last_status,
					.total_probes = a->scan.n,
					.sending_done = done_at >= 0,
					.send_elapsed_s = done_at >= 0 ? done_at - t0 : 0,
					.cooldown_left_s = done_at >= 0 ? a->cfg.cooldown_s - (t - done_at) : 0,
				};
				pps_totals_sum(&now, (const struct pps_counters[]){ a->tx_c, a->rx_c }, 2);
				nic_drops(a, &now);
				if (!a->cfg.quiet)
					fprintf(stderr, "%s\n", pps_status_format(line, sizeof(line), &now, &prev, &ctx));
				prev = now;
				last_status = t;
			}
			usleep(1000);
		}
		atomic_store(&a->stop_rx, 1);
		rte_eal_mp_wait_lcore();
		drain_results(a, &out);
		if (pps_output_close(&out) < 0)
			fprintf(stderr, "ppscan: error writing results: %s\n", strerror(errno));
		pps_totals_sum(&now, (const struct pps_counters[]){ a->tx_c, a->rx_c }, 2);
		nic_drops(a, &now);
		pps_summary_print(stderr, "ppscan", &now, mono_s() - t0, a->cfg.seed);
		if (g_sigints)
			fprintf(stderr, "ppscan: scan interrupted after %" PRIu64 " of %" PRIu64 " probes\n",
				now.sent, a->scan.n);
	}
	pps_ring_free(a->results);
out_scan:
	pps_scan_fini(&a->scan);
out_port:
	rte_eth_dev_stop(a->port_id);
	rte_eth_dev_close(a->port_id);
out_eal:
	rte_eal_cleanup();
	pps_config_free(&a->cfg);
	return exit_code;
}

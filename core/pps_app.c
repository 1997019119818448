/*
 * The program outline both binaries share (pps_app.h): main() of ppscan and of ppscan-pcap
 * is pps_app_main() with their backend; the device's part of each step is a pps_io_*()
 * hook (pps_io.h). Bad input is found before anything is opened that sends: options first,
 * then the device's own checks, then the output files and Redis, then the device.
 */
#include "pps_app.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pps_arp.h"
#include "pps_clock.h"

/* The monitor's device drop count. */
static uint64_t app_drops(void *dev)
{
	return pps_io_drops(dev);
}

/* 1 if @ip_h is one of the -S addresses (before the scan is set up). */
static int is_source(const struct pps_config *cfg, uint32_t ip_h)
{
	return ip_h == cfg->src_ip_h ||
	       (cfg->sources && pps_targets_index_of(cfg->sources, ip_h) >= 0);
}

void pps_app_host_source_note(uint32_t ip_h, char *note, size_t len)
{
	char ip[16];

	pps_format_ipv4(ip_h, ip);
	snprintf(
		note, len,
		"%s is this host's address, so its TCP stack also answers SYN-ACKs with a RST where it has a route back; ppscan (net_af_packet) sees those RSTs leave and counts them as not ours (see README: the kernel's RST)",
		ip);
}

int pps_app_resolve_gateway(struct pps_app *a, double timeout_s)
{
	static const uint8_t zero[6];
	const struct pps_config *cfg = &a->cfg;
	double deadline = pps_monotonic_s() + timeout_s, next_req = 0;
	uint8_t frame[PPS_ARP_FRAME_LEN], buf[256];

	for (double now; (now = pps_monotonic_s()) < deadline;) {
		struct pps_pkt p;
		size_t n;

		if (now >= next_req) {
			pps_io_xmit(a, frame,
				    pps_arp_build(frame, 1, a->src_mac, cfg->src_ip_h, zero,
						  a->gw_ip_h));
			next_req = now + 1.0;
		}
		n = pps_io_recv(a, buf, sizeof(buf), 100);
		if (!n || pps_parse_frame(buf, n, 1, &p) != PPS_PKT_ARP)
			continue;
		if (p.arp.op_h == 2 && p.arp.spa_h == a->gw_ip_h) {
			memcpy(a->gw_mac, p.arp.sha, 6);
			return 0;
		}
		if (a->answer_arp && p.arp.op_h == 1 && is_source(cfg, p.arp.tpa_h))
			pps_io_xmit(a, frame,
				    pps_arp_build(frame, 2, a->src_mac, p.arp.tpa_h, p.arp.sha,
						  p.arp.spa_h));
	}
	return -ETIMEDOUT;
}

/* One line: the device, addresses, target space, pace, seed and threads. */
static void banner(struct pps_app *a)
{
	const struct pps_config *cfg = &a->cfg;
	char ip[96], mac[18], dev[96], threads[96], note[512] = "";

	pps_io_describe(a, dev, sizeof(dev), threads, sizeof(threads), note, sizeof(note));
	pps_config_sources_text(cfg, ip, sizeof(ip));
	pps_format_mac(a->gw_mac, mac);
	fprintf(stderr,
		"%s: %s, source %s%s, gateway MAC %s, %" PRIu64 " addresses x %u ports = %" PRIu64
		" targets x %u probe(s), probe module %s, shard %u of %u, rate %g pps, seed %" PRIu64
		"%s, %s\n",
		cfg->prog, dev, ip, a->src_note, a->with_ethernet ? mac : "none (raw IP)",
		cfg->targets->n_addresses, cfg->ports->n, a->scan.n, a->scan.probes,
		a->scan.probe->name, cfg->shard, cfg->shards, cfg->rate_pps, cfg->seed,
		cfg->seed_given ? "" : " (random)", threads);
	if (note[0])
		fprintf(stderr, "%s: note: %s\n", cfg->prog, note);
	if (!pps_dedup_is_exact(a->scan.dedup))
		fprintf(stderr,
			"%s: note: exact dedup of %" PRIu64 " targets needs %" PRIu64
			" MiB, more than --dedup-memory (%" PRIu64 " MiB): a window of %" PRIu64
			" results instead, so a target answering again much later may be reported twice\n",
			cfg->prog, a->scan.n,
			(pps_dedup_bitmap_bytes(a->scan.n) + (1 << 20) - 1) >> 20,
			cfg->dedup_memory >> 20, pps_dedup_window_results(a->scan.dedup));
}

int pps_app_main(enum pps_backend backend, int argc, char **argv)
{
	static struct pps_app app; /* large (the run's counters, ports tables): zeroed */
	struct pps_app *a = &app;
	char **app_argv, ip[16];
	int app_argc, rc, exit_code = 0;

	a->backend = backend;
	pps_io_args(a, argc, argv, &app_argc, &app_argv);
	if ((rc = pps_run_parse(&a->cfg, backend, app_argc, app_argv)) >= 0)
		return rc; /* --help, --dryrun, bad input, ... */
	if ((rc = pps_io_prepare(a)) != 0) {
		pps_config_free(&a->cfg);
		return rc;
	}
	/* the sinks checked before the device: a bad path or URL is bad input (exit 2); the
	 * files are created only once the scan starts, so a failed start leaves none behind */
	a->mon.cfg = &a->cfg;
	if (pps_outputs_check(&a->mon, &a->cfg, stderr) < 0) {
		pps_config_free(&a->cfg);
		return 2;
	}
	if ((exit_code = pps_io_open(a)) != 0)
		goto out;
	a->mon.eal_args = a->eal_args;
	if (a->with_ethernet && a->cfg.have_gw_mac) {
		memcpy(a->gw_mac, a->cfg.gw_mac, 6);
	} else if (a->gw_resolve && pps_app_resolve_gateway(a, PPS_ARP_TIMEOUT_S) < 0) {
		pps_format_ipv4(a->gw_ip_h, ip);
		if (a->gw_is_target)
			fprintf(stderr,
				"%s: no ARP reply from the target %s itself on '%s' within %.0f s (it is on-link: %s has no gateway for it); check that it is up, or give -G/--gateway-mac\n",
				a->cfg.prog, ip, a->link_name, PPS_ARP_TIMEOUT_S, a->gw_origin);
		else
			fprintf(stderr,
				"%s: no ARP reply from gateway %s (from %s) on '%s' within %.0f s; give -G/--gateway-mac or check the link\n",
				a->cfg.prog, ip, a->gw_origin, a->link_name, PPS_ARP_TIMEOUT_S);
		exit_code = 1;
		goto out;
	}
	if ((rc = pps_run_init(&a->run, &a->scan, &a->cfg, a->src_mac, a->gw_mac, a->with_ethernet,
			       app_drops, a, stderr)) < 0) {
		exit_code = rc == -EINVAL ? 2 : 1;
		goto out;
	}
	if ((exit_code = pps_io_start(a)) != 0)
		goto out_run;
	if (pps_outputs_start(&a->mon, &a->cfg, stderr) < 0) {
		exit_code = 1;
		goto out_run;
	}
	banner(a);
	pps_run_catch_signals(&a->run);

	a->hz = pps_io_hz();
	a->start_ns = pps_realtime_ns();
	a->start_ticks = pps_io_ticks();
	if ((exit_code = pps_io_launch(a)) != 0)
		goto out_run;
	/* the main thread: output and monitor until the cooldown is over */
	pps_run_attach(&a->run, &a->mon, &a->scan);
	pps_monitor_loop(&a->mon);
	pps_run_stop_tx(&a->run);
	pps_run_stop_rx(&a->run);
	exit_code = pps_io_join(a);
	if (pps_monitor_finish(&a->mon) < 0)
		exit_code = 1;
	{ /* the sending phase alone, on the device's clock (bench/ reads this line) */
		struct pps_totals t = { 0 };
		uint64_t done = atomic_load(&a->tx_done_ticks);

		pps_totals_sum(&t, a->run.tx_c, a->cfg.sender_threads);
		pps_send_phase_print(
			stderr, a->cfg.prog,
			done > a->start_ticks ? (double)(done - a->start_ticks) / (double)a->hz : 0,
			t.sent);
	}
out_run:
	pps_run_fini(&a->run, &a->scan);
out:
	pps_io_close(a);
	pps_outputs_close(&a->mon); /* no-op after pps_monitor_finish() */
	pps_config_free(&a->cfg);
	return exit_code;
}

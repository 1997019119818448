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

#include <stdlib.h>
#include <unistd.h>

#include "pps_arp.h"
#include "pps_clock.h"
#include "pps_metrics.h"
#if PPS_HAVE_HIREDIS
#include "output/out_redis.h"
#include "pps_plan.h"
#endif

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

/* ---- metrics (--metrics): the scanner's series, in snapshot order ---- */

enum {
	M_SENT,
	M_RECV,
	M_VALID,
	M_OPEN,
	M_CLOSED,
	M_DUP,
	M_INV_COOKIE,
	M_INV_MALFORMED,
	M_INV_NOT_OURS,
	M_NIC_DROPS,
	M_RING_FULL,
	M_TX_FULL,
	M_RST,
	M_RST_LOST,
	M_RESULTS,
	M_OUTAGES,
	M_PENDING,
	M_JOURNALED,
	M_JOURNAL,
	M_RATE,
	M_PHASE_SENDING,
	M_PHASE_COOLDOWN,
	M_PHASE_DONE,
	M_SHARD,
	M_SHARDS_DONE,
	M_N
};

#define C PPS_METRIC_COUNTER
#define G PPS_METRIC_GAUGE
static const struct pps_metric scan_metrics[M_N] = {
	[M_SENT] = { "ppscan_probes_sent_total", "probes sent", C, NULL },
	[M_RECV] = { "ppscan_responses_received_total", "distinct responding targets", C, NULL },
	[M_VALID] = { "ppscan_responses_valid_total", "responses that passed validation", C, NULL },
	[M_OPEN] = { "ppscan_open_total", "open ports found", C, NULL },
	[M_CLOSED] = { "ppscan_closed_total", "closed ports found", C, NULL },
	[M_DUP] = { "ppscan_duplicates_total", "valid responses for a target already reported", C,
		    NULL },
	[M_INV_COOKIE] = { "ppscan_responses_invalid_total", "responses rejected, by reason", C,
			   "reason=\"validation\"" },
	[M_INV_MALFORMED] = { "ppscan_responses_invalid_total", "responses rejected, by reason", C,
			      "reason=\"malformed\"" },
	[M_INV_NOT_OURS] = { "ppscan_responses_invalid_total", "responses rejected, by reason", C,
			     "reason=\"not_ours\"" },
	[M_NIC_DROPS] = { "ppscan_nic_drops_total",
			  "frames the NIC or the kernel dropped on receive", C, NULL },
	[M_RING_FULL] = { "ppscan_ring_full_total", "results lost to a full output ring", C, NULL },
	[M_TX_FULL] = { "ppscan_tx_full_total", "probes retried for lack of device room", C, NULL },
	[M_RST] = { "ppscan_rst_sent_total", "RSTs sent to close half-open connections", C, NULL },
	[M_RST_LOST] = { "ppscan_rst_not_sent_total", "RSTs not sent (no buffer or queue room)", C,
			 NULL },
	[M_RESULTS] = { "ppscan_results_written_total", "results handed to the outputs", C, NULL },
	[M_OUTAGES] = { "ppscan_redis_outages_total", "Redis connections lost", C, NULL },
	[M_PENDING] = { "ppscan_redis_pending_results", "results not yet confirmed by Redis", G,
			NULL },
	[M_JOURNALED] = { "ppscan_redis_journaled_total", "results written to the journal", C,
			  NULL },
	[M_JOURNAL] = { "ppscan_redis_journal_results", "results in the journal now", G, NULL },
	[M_RATE] = { "ppscan_send_rate_pps", "probes per second over the last second", G, NULL },
	[M_PHASE_SENDING] = { "ppscan_phase", "1 for the phase the scan is in", G,
			      "phase=\"sending\"" },
	[M_PHASE_COOLDOWN] = { "ppscan_phase", "1 for the phase the scan is in", G,
			       "phase=\"cooldown\"" },
	[M_PHASE_DONE] = { "ppscan_phase", "1 for the phase the scan is in", G, "phase=\"done\"" },
	[M_SHARD] = { "ppscan_shard", "the shard being sent (-1: none)", G, NULL },
	[M_SHARDS_DONE] = { "ppscan_shards_done_total", "shards this process acknowledged", C,
			    NULL },
};
#undef C
#undef G

/* The snapshot of @t (and the Redis sink's counters) for the metrics endpoint. */
static void metrics_publish(struct pps_app *a, const struct pps_totals *t, int done)
{
	double v[M_N] = { 0 };

	if (!a->metrics)
		return;
	v[M_SENT] = (double)t->sent;
	v[M_RECV] = (double)t->recv;
	v[M_VALID] = (double)t->valid;
	v[M_OPEN] = (double)t->open;
	v[M_CLOSED] = (double)t->closed;
	v[M_DUP] = (double)t->dup;
	v[M_INV_COOKIE] = (double)t->invalid;
	v[M_INV_MALFORMED] = (double)t->malformed;
	v[M_INV_NOT_OURS] = (double)t->not_ours;
	v[M_NIC_DROPS] = (double)t->nic_drops;
	v[M_RING_FULL] = (double)t->ring_full;
	v[M_TX_FULL] = (double)t->tx_full;
	v[M_RST] = (double)t->rst;
	v[M_RST_LOST] = (double)t->rst_lost;
	v[M_RESULTS] = (double)a->mon.written;
#if PPS_HAVE_HIREDIS
	for (int s = 0; s < a->mon.n_sinks; s++)
		if (a->mon.sinks[s]->ops == &pps_output_redis) {
			struct pps_redis_stats st;

			pps_output_redis_stats(a->mon.sinks[s], &st);
			v[M_OUTAGES] = (double)st.outages;
			v[M_PENDING] = (double)st.pending;
			v[M_JOURNALED] = (double)st.journaled;
			v[M_JOURNAL] = (double)st.journal_lines;
		}
	{ /* the sinks are closed at the end: keep their last values */
		static double last[M_JOURNAL - M_OUTAGES + 1];

		if (a->mon.n_sinks)
			memcpy(last, &v[M_OUTAGES], sizeof(last));
		else
			memcpy(&v[M_OUTAGES], last, sizeof(last));
	}
#endif
	v[M_RATE] = done ? 0 : a->rate_pps;
	v[M_PHASE_SENDING] = !done && a->mon.done_at < 0;
	v[M_PHASE_COOLDOWN] = !done && a->mon.done_at >= 0;
	v[M_PHASE_DONE] = done;
	v[M_SHARD] = a->shard_active ? (double)a->cfg.shard : -1;
	v[M_SHARDS_DONE] = (double)a->shards_done;
	pps_metrics_publish(a->metrics, v);
}

/* Where every sender of the running shard stands: the lowest next index (pps_shard.h). */
static uint64_t shard_low_water(struct pps_app *a, int exact)
{
	uint64_t low = UINT64_MAX, stride = (uint64_t)a->cfg.shards * a->run.n_tx;

	for (unsigned k = 0; k < a->run.n_tx; k++) {
		uint64_t next =
			exact ? a->run.tx_next[k]
			      : a->start_next[k] + (atomic_load_explicit(&a->run.tx_c[k].sent,
									 memory_order_relaxed) -
						    a->sent_base[k]) *
							   stride;
		if (next < low)
			low = next;
	}
	return low;
}

/* The monitor's once-a-second hook: rate, the joined shard's checkpoint, the metrics. */
static void on_second(void *arg, const struct pps_totals *now, double dt_s)
{
	struct pps_app *a = arg;

	a->rate_pps = dt_s > 0 ? (double)(now->sent - a->prev_sent) / dt_s : 0;
	a->prev_sent = now->sent;
#if PPS_HAVE_HIREDIS
	if (a->join && a->shard_active) {
		/* the checkpoint written is the one of a second ago: every response to a probe
		 * below it has had a second to arrive and reach Redis before a crash */
		uint64_t low = shard_low_water(a, 0);

		pps_join_beat(a->join, a->ckpt_prev, now->sent, a->rate_pps);
		a->ckpt_prev = low;
	}
#endif
	metrics_publish(a, now, 0);
}

/*
 * A joined shard starts at @checkpoint: each sender k at the first index of its lattice
 * (shard s of N, thread k of T: s + N*k + N*T*m) at or above it, at most one step past its
 * end. Every index below the checkpoint was sent, whatever -T the earlier worker had.
 */
static void resume_from(struct pps_config *cfg, uint64_t checkpoint)
{
	uint64_t n_sel = cfg->max_targets ? cfg->max_targets : cfg->target_space;
	uint64_t total = n_sel * cfg->probes;

	cfg->n_resume_next = 0;
	if (!checkpoint)
		return;
	for (unsigned k = 0; k < cfg->sender_threads; k++) {
		struct pps_slice sl;
		uint64_t m = 0, left;

		pps_slice_init(&sl, total, cfg->shard, cfg->shards, k, cfg->sender_threads);
		left = pps_slice_remaining(&sl);
		if (checkpoint > sl.next)
			m = (checkpoint - sl.next + sl.stride - 1) / sl.stride;
		cfg->resume_next[k] = sl.next + (m < left ? m : left) * sl.stride;
	}
	cfg->n_resume_next = cfg->sender_threads;
}

/*
 * One pass of the scan over shard cfg.shard (the whole scan without --join): set up the run
 * (the counters of earlier shards carried over), start the device's queues the first time,
 * launch the workers, run the monitor until the cooldown is over, stop and join them.
 * Returns the exit code.
 */
static int run_shard(struct pps_app *a, int first)
{
	static struct pps_counters tx_keep[PPS_MAX_SENDERS], rx_keep;
	int rc;

	if (!first) {
		memcpy(tx_keep, a->run.tx_c, sizeof(tx_keep));
		rx_keep = a->run.rx_c;
		pps_run_fini(&a->run, &a->scan);
	}
	if ((rc = pps_run_init(&a->run, &a->scan, &a->cfg, a->src_mac, a->gw_mac, a->with_ethernet,
			       app_drops, a, stderr)) < 0)
		return rc == -EINVAL ? 2 : 1;
	if (!first) {
		memcpy(a->run.tx_c, tx_keep, sizeof(tx_keep));
		a->run.rx_c = rx_keep;
	}
	for (unsigned k = 0; k < a->run.n_tx; k++) {
		a->sent_base[k] = atomic_load_explicit(&a->run.tx_c[k].sent, memory_order_relaxed);
		a->start_next[k] = a->run.tx_next[k];
	}
	a->ckpt_prev = shard_low_water(a, 0);
	if (first) {
		if ((rc = pps_io_start(a)) != 0)
			return rc;
		/* the output files are created only now: a failed start leaves none behind */
		if (pps_outputs_start(&a->mon, &a->cfg, stderr) < 0)
			return 1;
		banner(a);
		pps_run_catch_signals(&a->run);
		a->hz = pps_io_hz();
		a->start_ns = pps_realtime_ns();
	}
	atomic_store(&a->tx_done_ticks, 0);
	a->start_ticks = pps_io_ticks();
	a->shard_active = 1;
	if ((rc = pps_io_launch(a)) != 0)
		return rc;
	/* the main thread: output and monitor until the cooldown is over */
	pps_run_attach(&a->run, &a->mon, &a->scan);
	a->mon.second = on_second;
	a->mon.second_arg = a;
	pps_monitor_loop(&a->mon);
	pps_run_stop_tx(&a->run);
	/* --banners: no connection left open on the targets (the receive loop still runs) */
	if (pps_monitor_banner_flush(&a->mon, 2.0) < 0)
		fprintf(stderr, "%s: --banners: resets for silent endpoints left unsent\n",
			a->cfg.prog);
	pps_run_stop_rx(&a->run);
	rc = pps_io_join(a);
	{
		uint64_t done = atomic_load(&a->tx_done_ticks);

		if (done > a->start_ticks)
			a->send_s += (double)(done - a->start_ticks) / (double)a->hz;
	}
	return rc;
}

#if PPS_HAVE_HIREDIS
/*
 * --join: shard after shard of the plan until none is left. A shard is acknowledged only
 * once its cooldown is over and its results are confirmed in Redis; an interrupted one is
 * left with its exact checkpoint for another worker. Returns the exit code.
 */
static int run_joined(struct pps_app *a)
{
	static struct pps_join join;
	uint64_t checkpoint;
	uint32_t shard;
	int rc, first = 1, got;

	if ((rc = pps_join_open(&join, &a->cfg, stderr)) != 0)
		return rc;
	a->join = &join;
	while ((got = pps_join_claim(&join, a->mon.sigints, &shard, &checkpoint, stderr)) == 1) {
		a->cfg.shard = shard;
		resume_from(&a->cfg, checkpoint);
		if (checkpoint)
			fprintf(stderr, "%s: join: shard %u of %u, resumed at index %" PRIu64 "\n",
				a->cfg.prog, shard, join.shards, checkpoint);
		else
			fprintf(stderr, "%s: join: shard %u of %u\n", a->cfg.prog, shard,
				join.shards);
		if ((rc = run_shard(a, first)) != 0)
			break;
		first = 0;
		if (pps_monitor_settle(&a->mon, 10.0)) {
			fprintf(stderr,
				"%s: join: shard %u: results not confirmed by Redis; left for another worker\n",
				a->cfg.prog, shard);
			pps_join_release(&join, shard_low_water(a, 1));
			a->shard_active = 0;
			rc = 1;
			break;
		}
		a->shard_active = 0;
		if (*a->mon.sigints) {
			pps_join_release(&join, shard_low_water(a, 1));
			fprintf(stderr,
				"%s: join: interrupted; shard %u left at its checkpoint for another worker\n",
				a->cfg.prog, shard);
			break;
		}
		if (pps_join_ack(&join, stderr) == 0)
			a->shards_done++;
	}
	if (got < 0 && !rc)
		rc = 1;
	if (first && !rc) /* nothing to do: no run to report */
		rc = -1;
	fprintf(stderr,
		"%s: join: worker %s did %" PRIu64 " shard(s) (%" PRIu64 " taken over), %" PRIu64
		" coordination commands\n",
		a->cfg.prog, join.worker, a->shards_done, join.takeovers, join.commands);
	return rc;
}
#endif

/* --plan and --status: Redis only, no device. Returns the exit code. */
static int redis_only(struct pps_app *a)
{
#if PPS_HAVE_HIREDIS
	return a->cfg.plan ? pps_plan_write(&a->cfg, stderr)
			   : pps_plan_status(&a->cfg, NULL, stdout, stderr);
#else
	fprintf(stderr,
		"%s: %s: built without Redis support (install libhiredis-dev and rebuild with meson -Dredis=enabled)\n",
		a->cfg.prog, a->cfg.plan ? "--plan" : "--status");
	return 2;
#endif
}

int pps_app_main(enum pps_backend backend, int argc, char **argv)
{
	static struct pps_app app; /* large (the run's counters, ports tables): zeroed */
	struct pps_app *a = &app;
	char **app_argv, ip[16], *plan = NULL;
	int app_argc, rc, exit_code = 0, ran = 0;

	a->backend = backend;
	pps_io_args(a, argc, argv, &app_argc, &app_argv);
#if PPS_HAVE_HIREDIS
	if ((rc = pps_plan_fetch(backend == PPS_BACKEND_DPDK ? "ppscan" : "ppscan-pcap", app_argc,
				 app_argv, &plan, stderr)) != 0)
		return rc;
#endif
	if ((rc = pps_run_parse_plan(&a->cfg, backend, app_argc, app_argv, plan)) >= 0) {
		free(plan);
		return rc; /* --help, --dryrun, bad input, ... */
	}
	if (a->cfg.plan || a->cfg.status) {
		exit_code = redis_only(a);
		goto out_cfg;
	}
	if (a->cfg.join && !a->cfg.worker) {
		char host[64] = "";

		gethostname(host, sizeof(host) - 1);
		snprintf(a->worker, sizeof(a->worker), "%s-%ld", host[0] ? host : "worker",
			 (long)getpid());
		a->cfg.worker = a->worker;
	}
	if ((exit_code = pps_io_prepare(a)) != 0)
		goto out_cfg;
	if (a->cfg.metrics_addr) {
		char why[256];

		a->metrics =
			pps_metrics_start(a->cfg.metrics_addr, scan_metrics, M_N, why, sizeof(why));
		if (!a->metrics) {
			fprintf(stderr, "%s: --metrics %s: %s\n", a->cfg.prog, a->cfg.metrics_addr,
				why);
			exit_code = 2;
			goto out_cfg;
		}
	}
	/* the sinks checked before the device: a bad path or URL is bad input (exit 2); the
	 * files are created only once the scan starts, so a failed start leaves none behind */
	a->mon.cfg = &a->cfg;
	if (pps_outputs_check(&a->mon, &a->cfg, stderr) < 0) {
		exit_code = 2;
		goto out_cfg;
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
#if PPS_HAVE_HIREDIS
	if (a->cfg.join) {
		static volatile sig_atomic_t no_signal;

		a->mon.sigints = &no_signal; /* until the first shard's run catches them */
		exit_code = run_joined(a);
		ran = exit_code != -1 && a->join->claims > 0;
		if (exit_code == -1)
			exit_code = 0;
		pps_join_close(a->join);
	} else
#endif
	{
		exit_code = run_shard(a, 1);
		ran = 1;
	}
	if (ran && a->mon.totals) {
		struct pps_totals t = { 0 };

		if (pps_monitor_finish(&a->mon) < 0)
			exit_code = exit_code ? exit_code : 1;
		/* the sending phase alone, on the device's clock (bench/ reads this line) */
		pps_totals_sum(&t, a->run.tx_c, a->cfg.sender_threads);
		pps_send_phase_print(stderr, a->cfg.prog, a->send_s, t.sent);
		a->shard_active = 0;
		a->mon.totals(a->mon.ctx, &t);
		metrics_publish(a, &t, 1);
	}
	if (a->run.results)
		pps_run_fini(&a->run, &a->scan);
out:
	pps_io_close(a);
	pps_outputs_close(&a->mon); /* no-op after pps_monitor_finish() */
out_cfg:
	pps_metrics_stop(a->metrics);
	pps_config_free(&a->cfg);
	free(plan);
	return exit_code;
}

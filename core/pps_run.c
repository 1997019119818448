#include "pps_run.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "probe/probe_tcp_synscan.h" /* --banners is tcp_synscan's */

int pps_run_init(struct pps_run *r, struct pps_scan *s, const struct pps_config *cfg,
		 const uint8_t src_mac[6], const uint8_t dst_mac[6], int with_ethernet,
		 uint64_t (*dev_drops)(void *dev), void *dev, FILE *err)
{
	unsigned n_tx = cfg->sender_threads;
	int rc;

	memset(r, 0, sizeof(*r));
	if (n_tx < 1 || n_tx > PPS_MAX_SENDERS) {
		fprintf(err, "%s: %u sender threads: expected 1-%u\n", cfg->prog, n_tx,
			PPS_MAX_SENDERS);
		return -EINVAL;
	}
	if ((rc = pps_scan_init(s, cfg, src_mac, dst_mac, with_ethernet)) < 0) {
		fprintf(err, "%s: cannot set up the scan: %s\n", cfg->prog, strerror(-rc));
		return rc == -EINVAL ? -EIO : rc;
	}
	r->n_tx = n_tx;
	r->dev_drops = dev_drops;
	r->dev = dev;
	for (unsigned k = 0; k < n_tx; k++) {
		struct pps_slice sl;

		if (pps_scan_slice(s, k, &sl) < 0) {
			fprintf(err,
				"%s: the resume state (from --resume) does not fit this scan\n",
				cfg->prog);
			pps_scan_fini(s);
			return -EINVAL;
		}
		r->tx_next[k] = sl.next;
	}
	r->results = pps_ring_new(cfg->rx_ring);
	if (!r->results || (cfg->banners && pps_ring_set_extra(r->results, cfg->banner_bytes))) {
		fprintf(err, "%s: out of memory for the results ring\n", cfg->prog);
		pps_scan_fini(s);
		return -ENOMEM;
	}
	if (cfg->banners && !(r->resets = pps_ring_new(PPS_RESETS_RING))) {
		fprintf(err, "%s: out of memory for the resets ring\n", cfg->prog);
		pps_ring_free(r->results);
		pps_scan_fini(s);
		return -ENOMEM;
	}
	atomic_store(&r->tx_running, n_tx);
	return 0;
}

void pps_run_fini(struct pps_run *r, struct pps_scan *s)
{
	pps_ring_free(r->results);
	r->results = NULL;
	pps_ring_free(r->resets);
	r->resets = NULL;
	pps_scan_fini(s);
}

int pps_run_sender_done(struct pps_run *r, unsigned k, uint64_t next)
{
	r->tx_next[k] = next;
	if (atomic_fetch_sub(&r->tx_running, 1) != 1)
		return 0;
	atomic_store_explicit(&r->tx_done, 1, memory_order_release);
	return 1;
}

static void run_totals(void *ctx, struct pps_totals *t)
{
	struct pps_run *r = ctx;

	pps_totals_collect(t, r->tx_c, r->n_tx, &r->rx_c);
	if (r->dev_drops)
		t->nic_drops = r->dev_drops(r->dev);
}

static int run_tx_done(void *ctx)
{
	return pps_run_done(ctx);
}

static void run_stop_tx(void *ctx)
{
	pps_run_stop_tx(ctx);
}

static unsigned run_resume_state(void *ctx, uint64_t *next, unsigned max)
{
	struct pps_run *r = ctx;
	unsigned n = r->n_tx < max ? r->n_tx : max;

	memcpy(next, r->tx_next, n * sizeof(*next));
	return n;
}

/* For the signal handler only: the process's one run and its SIGINT/SIGTERM count. */
static struct pps_run *volatile g_run;
static volatile sig_atomic_t g_sigints;

static void on_signal(int sig)
{
	(void)sig;
	g_sigints++;
	if (g_run)
		pps_run_stop_tx(g_run);
}

void pps_run_catch_signals(struct pps_run *r)
{
	g_run = r;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP,
	       on_signal); /* a dropped ssh session stops cleanly and saves the resume file */
}

void pps_run_attach(struct pps_run *r, struct pps_monitor *m, const struct pps_scan *s)
{
	m->results = r->results;
	m->resets = r->resets;
	m->first_len = pps_synscan_first_len_of;
	m->first_arg = s;
	m->total_probes = pps_scan_planned(s);
	m->ctx = r;
	m->totals = run_totals;
	m->tx_done = run_tx_done;
	m->stop_tx = run_stop_tx;
	m->resume_state = run_resume_state;
	m->sigints = &g_sigints;
}

int pps_run_parse(struct pps_config *cfg, enum pps_backend backend, int argc, char **argv)
{
	return pps_run_parse_plan(cfg, backend, argc, argv, NULL);
}

int pps_run_parse_plan(struct pps_config *cfg, enum pps_backend backend, int argc, char **argv,
		       const char *plan_text)
{
	int rc = pps_config_parse_plan(cfg, backend, argc, argv, plan_text, stderr);

	if (rc == PPS_PARSE_EXIT)
		return 0;
	if (rc != PPS_PARSE_OK)
		return 2;
	if (!cfg->dryrun)
		return -1;
	{
		/* a dry run writes the probe list and nothing else: an output it would skip is refused */
		const char *unused = cfg->metadata_file		? "-m/--metadata-file"
				     : cfg->status_updates_file ? "-u/--status-updates-file"
				     : cfg->status_json_file	? "--status-json"
				     : cfg->redis_url		? "--redis"
								: NULL;
		FILE *out = stdout;

		if (unused) {
			fprintf(stderr,
				"%s: --dryrun writes only the probe list (to -o/--output-file or stdout): %s is not used\n",
				cfg->prog, unused);
			pps_config_free(cfg);
			return 2;
		}
		if (cfg->output_file && strcmp(cfg->output_file, "-") &&
		    !(out = fopen(cfg->output_file, "w"))) {
			fprintf(stderr, "%s: cannot write '%s' (from -o/--output-file): %s\n",
				cfg->prog, cfg->output_file, strerror(errno));
			pps_config_free(cfg);
			return 2;
		}
		rc = pps_scan_dryrun(cfg, out, stderr);
		if (out != stdout && fclose(out) && rc >= 0)
			rc = -errno;
	}
	if (rc < 0)
		fprintf(stderr, "%s: dry run failed: %s\n", cfg->prog, strerror(-rc));
	pps_config_free(cfg);
	return rc < 0 ? 1 : 0;
}

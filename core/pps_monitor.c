/*
 * The monitor loop (pps_monitor.h): results from the ring to the sinks, the status line and
 * the progress files once a second, the end of sending, the cooldown, the summary. The
 * files it writes are opened by pps_outputs.c; what it leaves at the end, pps_metadata.c.
 */
#include "pps_monitor.h"

#include "pps_banner.h"
#include "pps_hostcount.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "probe/pps_probe.h"
#if PPS_HAVE_HIREDIS
#include "output/out_redis.h"
#endif

const char *pps_stop_reason_name(enum pps_stop_reason r)
{
	static const char *const names[] = { "done", "interrupted", "max-runtime", "max-results" };
	return (unsigned)r < 4 ? names[r] : "?";
}

/* One status record (ZMap's -u columns) as CSV and/or JSON. */
/* What the status line and the status files need at monotonic time @t, @dt after the last. */
static struct pps_status_ctx status_ctx(const struct pps_monitor *m, double t, double dt)
{
	struct pps_status_ctx ctx = {
		.elapsed_s = t - m->t0,
		.dt_s = dt,
		.total_probes = m->total_probes,
		.probes = m->cfg->probes,
		.sending_done = m->done_at >= 0,
		.send_elapsed_s = m->done_at >= 0 ? m->done_at - m->t0 : 0,
		.cooldown_left_s = m->done_at >= 0 ? m->cfg->cooldown_s - (t - m->done_at)
						   : m->cfg->cooldown_s,
	};
	return ctx;
}

static void write_status_files(struct pps_monitor *m, const struct pps_totals *now,
			       const struct pps_totals *prev, const struct pps_status_ctx *ctx,
			       int final, int with_csv)
{
	char ts[40];
	double elapsed = ctx->elapsed_s, d = ctx->dt_s > 0 ? ctx->dt_s : 1;
	double e = elapsed > 0 ? elapsed : 1, left = pps_time_left_s(now, ctx), pct, hit, sent_avg;
	uint64_t succ = now->open + now->closed, succ_prev = prev->open + prev->closed;

	pct = m->total_probes ? 100.0 * (double)now->sent / (double)m->total_probes : 100;
	if (pct > 100)
		pct = 100;
	sent_avg = (double)now->sent / e;
	hit = pps_hit_rate(now, m->total_probes, m->cfg->probes);
	pps_output_format_timestamp(pps_realtime_ns(), ts, sizeof(ts));
	if (m->status_csv && with_csv) {
		fprintf(m->status_csv,
			"%s,%.3f,%.3f,%.2f,%.4f,%" PRIu64 ",%.0f,%.0f,%" PRIu64
			",%.0f,%.0f,%" PRIu64 ",%.0f,%.0f,%" PRIu64 ",%.0f,%.0f,%" PRIu64
			",%" PRIu64 "\n",
			ts, elapsed, left, pct, hit, now->sent,
			(double)(now->sent - prev->sent) / d, sent_avg, succ,
			(double)(succ - succ_prev) / d, (double)succ / e, now->recv,
			(double)(now->recv - prev->recv) / d, (double)now->recv / e, now->nic_drops,
			(double)(now->nic_drops - prev->nic_drops) / d, (double)now->nic_drops / e,
			now->invalid, now->dup);
		fflush(m->status_csv);
	}
	if (m->status_json) {
		json_t *o = json_pack(
			"{s:s, s:f, s:f, s:f, s:f, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
			"real_time", ts, "time_elapsed", elapsed, "time_remaining", left,
			"percent_complete", pct, "hit_rate", hit, "sent", (json_int_t)now->sent,
			"send_rate", (double)(now->sent - prev->sent) / d, "recv",
			(json_int_t)now->recv, "open", (json_int_t)now->open, "closed",
			(json_int_t)now->closed, "invalid", (json_int_t)now->invalid, "duplicates",
			(json_int_t)now->dup, "drops", (json_int_t)now->nic_drops, "rst_sent",
			(json_int_t)now->rst, "results", (json_int_t)m->written, "phase",
			final		  ? pps_stop_reason_name(m->stop_reason)
			: m->done_at >= 0 ? "cooldown"
					  : "sending");
		if (o) {
			json_dumpf(o, m->status_json, JSON_COMPACT | JSON_PRESERVE_ORDER);
			fputc('\n', m->status_json);
			fflush(m->status_json);
			json_decref(o);
		}
	}
}

/* Tells the sinks where the scan stands (Redis meta hash); @final after the last result. */
static void sinks_progress(struct pps_monitor *m, const struct pps_totals *t, double now, int final)
{
	struct pps_progress p = {
		.totals = t,
		.total_probes = m->total_probes,
		.results = m->written,
		.elapsed_s = now - m->t0,
		.state = !final ? PPS_SCAN_RUNNING
			 : m->stop_reason == PPS_STOP_INTERRUPTED ||
					 m->stop_reason == PPS_STOP_MAX_RUNTIME
				 ? PPS_SCAN_INTERRUPTED
				 : PPS_SCAN_DONE,
		.stop_reason = final ? pps_stop_reason_name(m->stop_reason) : "",
	};

	for (int s = 0; s < m->n_sinks; s++)
		pps_output_progress(m->sinks[s], &p);
}

/*
 * tcp_synscan: counts each open port per address and marks the results of an address that
 * answered on most of its probed ports (pps_middlebox(); the scan probes every address on
 * the same ports). A result written before its address reached the mark stays unmarked.
 */
static void mark_middleboxes(struct pps_monitor *m, struct pps_result *buf, size_t n)
{
	uint64_t probed = m->cfg->ports ? m->cfg->ports->n : 0;

	if (!m->cfg->probe || m->cfg->probe->id != PPS_PROBE_TCP_SYNSCAN ||
	    probed < m->cfg->middlebox_ports)
		return;
	if (!m->hosts) {
		m->hosts = calloc(1, sizeof(*m->hosts));
		if (!m->hosts || pps_hostcount_init(m->hosts)) {
			free(m->hosts);
			m->hosts = NULL;
			return;
		}
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t open;

		if (buf[i].probe != PPS_PROBE_TCP_SYNSCAN)
			continue;
		if (buf[i].classification == PPS_CLASS_SYNACK) {
			open = pps_hostcount_add(m->hosts, buf[i].saddr_h);
			if (pps_middlebox(open, probed, m->cfg->middlebox_ports) &&
			    !pps_middlebox(open - 1, probed, m->cfg->middlebox_ports))
				m->middleboxes++;
		} else {
			open = pps_hostcount_get(m->hosts, buf[i].saddr_h);
		}
		buf[i].middlebox = (uint8_t)pps_middlebox(open, probed, m->cfg->middlebox_ports);
	}
}

static void write_results(struct pps_monitor *m, struct pps_result *buf, size_t n)
{
	mark_middleboxes(m, buf, n);
	for (size_t i = 0; i < n; i++) {
		uint64_t cap = m->cfg->max_results;
		/* -N counts results as the user sees them: open, plus closed if asked */
		if (!m->cfg->output_closed && !pps_result_success(&buf[i]))
			continue;
		if (cap && m->written >= cap)
			continue;
		for (int s = 0; s < m->n_sinks; s++) {
			int rc = pps_output_write(m->sinks[s], &buf[i]);
			if (rc < 0 && !m->write_error)
				m->write_error = rc;
		}
		m->written++;
	}
}

/* The results the receive loop pushed, then (--banners) the endpoints silent for a cooldown
 * (with @all: every waiting one), whose RST the receive loop sends (pps_rx_resets()). */
static void drain_due(struct pps_monitor *m, int all)
{
	struct pps_result buf[256];
	size_t n;

	if (m->cfg->banners && !m->banner) {
		char why[256];

		m->banner = pps_banner_new(256, m->results->extra_size, why, sizeof(why));
		if (!m->banner) {
			fprintf(stderr, "%s: %s\n", m->cfg->prog, why);
			m->write_error = -ENOMEM;
		} else {
			m->banner->wait_ns = (uint64_t)(m->cfg->cooldown_s * 1e9);
		}
	}
	while ((n = m->banner ? pps_ring_pop_extra(m->results, buf, m->banner->xbuf, 256)
			      : pps_ring_pop(m->results, buf, 256)) > 0) {
		if (m->banner) {
			pps_banner_attach(m->banner, buf, n);
			if (m->resets)
				pps_banner_track(m->banner, buf, n);
		}
		write_results(m, buf, n);
	}
	while (m->banner && m->resets &&
	       (n = pps_banner_due(m->banner, pps_realtime_ns(), all, m->resets, m->first_len,
				   m->first_arg, buf, 256)) > 0)
		write_results(m, buf, n);
}

static void drain(struct pps_monitor *m)
{
	drain_due(m, 0);
}

int pps_monitor_banner_flush(struct pps_monitor *m, double timeout_s)
{
	double end = pps_monotonic_s() + timeout_s;

	if (!m->banner || !m->resets)
		return 0;
	for (;;) {
		drain_due(m, 1);
		if (!pps_banner_waiting(m->banner) &&
		    atomic_load_explicit(&m->resets->tail, memory_order_acquire) ==
			    atomic_load_explicit(&m->resets->head, memory_order_acquire))
			return 0;
		if (pps_monotonic_s() >= end)
			return -ETIMEDOUT;
		usleep(1000);
	}
}

void pps_monitor_loop(struct pps_monitor *m)
{
	struct pps_totals prev = { 0 }, now = { 0 };
	double last_status, last_flush;
	int announced = 0;
	char line[512];

	m->t0 = pps_monotonic_s();
	m->start_ns = pps_realtime_ns();
	m->done_at = -1;
	last_status = last_flush = m->t0;
	for (;;) {
		double t = pps_monotonic_s();

		drain(m);
		for (int s = 0; s < m->n_sinks; s++) {
			int rc = pps_output_poll(m->sinks[s], t);
			if (rc < 0 && !m->write_error)
				m->write_error = rc;
		}
		if (t - last_flush >= 0.1) {
			for (int s = 0; s < m->n_sinks; s++) {
				int rc = pps_output_flush(m->sinks[s]);
				if (rc < 0 && !m->write_error)
					m->write_error = rc;
			}
			last_flush = t;
		}
		if (m->done_at < 0 && m->stop_reason == PPS_STOP_DONE && m->stop_tx) {
			if (m->cfg->max_runtime_s > 0 && t - m->t0 >= m->cfg->max_runtime_s) {
				m->stop_reason = PPS_STOP_MAX_RUNTIME;
				m->stop_tx(m->ctx);
			} else if (m->cfg->max_results && m->written >= m->cfg->max_results) {
				m->stop_reason = PPS_STOP_MAX_RESULTS;
				m->stop_tx(m->ctx);
			}
		}
		if (*m->sigints && m->stop_reason == PPS_STOP_DONE)
			m->stop_reason = PPS_STOP_INTERRUPTED;
		if (m->done_at < 0 && m->tx_done(m->ctx))
			m->done_at = t;
		if (*m->sigints && !announced) {
			fprintf(stderr,
				"%s: interrupted: sending stopped, waiting %.0f s for responses (Ctrl-C again to stop now)\n",
				m->cfg->prog, m->cfg->cooldown_s);
			announced = 1;
		}
		if (*m->sigints > 1 || (m->done_at >= 0 && t - m->done_at >= m->cfg->cooldown_s))
			break;
		if (t - last_status >= 1.0) {
			struct pps_status_ctx ctx = status_ctx(m, t, t - last_status);

			m->totals(m->ctx, &now);
			if (!m->cfg->quiet)
				fprintf(stderr, "%s\n",
					pps_status_format(line, sizeof(line), &now, &prev, &ctx));
			write_status_files(m, &now, &prev, &ctx, 0, 1);
			sinks_progress(m, &now, t, 0);
			if (m->second)
				m->second(m->second_arg, &now, t - last_status);
			prev = now;
			m->last = now;
			m->last_status_t = t;
			last_status = t;
		}
		usleep(1000);
	}
}

/* Results the sinks hold unconfirmed (the Redis sink's pending; other sinks hold none). */
static uint64_t sinks_pending(const struct pps_monitor *m)
{
	uint64_t n = 0;

#if PPS_HAVE_HIREDIS
	for (int s = 0; s < m->n_sinks; s++)
		if (m->sinks[s]->ops == &pps_output_redis) {
			struct pps_redis_stats st;

			pps_output_redis_stats(m->sinks[s], &st);
			n += st.pending;
		}
#else
	(void)m;
#endif
	return n;
}

uint64_t pps_monitor_settle(struct pps_monitor *m, double timeout_s)
{
	double end = pps_monotonic_s() + timeout_s;
	uint64_t left;

	for (;;) {
		double t = pps_monotonic_s();

		drain(m);
		for (int s = 0; s < m->n_sinks; s++) {
			int rc = pps_output_flush(m->sinks[s]);

			if (rc >= 0)
				rc = pps_output_poll(m->sinks[s], t);
			if (rc < 0 && !m->write_error)
				m->write_error = rc;
		}
		if (!(left = sinks_pending(m)) || t >= end)
			return left;
		usleep(1000);
	}
}

int pps_monitor_finish(struct pps_monitor *m)
{
	struct pps_totals t = { 0 };
	const char *resume_path = NULL;
	int rc, other = 0;

	drain(m);
	m->totals(m->ctx, &t);
	sinks_progress(m, &t, pps_monotonic_s(), 1);
	for (int s = 0; s < m->n_sinks; s++) {
		rc = pps_output_close(m->sinks[s]);
		if (rc < 0 && !m->write_error)
			m->write_error = rc;
	}
	m->n_sinks = 0;
	m->elapsed_s = pps_monotonic_s() - m->t0;
	m->end_ns = pps_realtime_ns();
	m->totals(m->ctx, &t);
	/* the final record, over the time since the last one: always on --status-json, whose
	 * last line says how the scan ended; on -u not a repeat of an unchanged row */
	{
		double end = m->t0 + m->elapsed_s;
		struct pps_status_ctx ctx =
			status_ctx(m, end, end - (m->last_status_t ? m->last_status_t : m->t0));

		write_status_files(m, &t, &m->last, &ctx, 1,
				   !m->last_status_t || memcmp(&t, &m->last, sizeof(t)));
	}
	pps_summary_print(stderr, m->cfg->prog, &t, m->elapsed_s, m->cfg->seed, m->cfg->no_rst);
	if (m->cfg->probe && m->cfg->probe->summary) /* the targets this run probed */
		m->cfg->probe->summary(stderr, m->cfg->prog, &t,
				       t.sent / (m->cfg->probes ? m->cfg->probes : 1));
	if (m->banner) {
		fprintf(stderr,
			"%s: --banners: %" PRIu64 " answers after our ACK (%" PRIu64
			" first data segments named, %" PRIu64 " not), %" PRIu64 " bare ACKs, %" PRIu64
			" silent endpoints reset (no_data)%s\n",
			m->cfg->prog, t.banners, m->banner->named, m->banner->unnamed, t.acks,
			m->banner->no_data, m->banner->untracked ? ", some not tracked" : "");
		pps_banner_free(m->banner);
		m->banner = NULL;
	}
	if (m->hosts) {
		fprintf(stderr,
			"%s: %" PRIu64 " address(es) answered on at least %u and most of the %u probed "
			"ports: likely middleboxes (field middlebox)%s\n",
			m->cfg->prog, m->middleboxes, m->cfg->middlebox_ports,
			m->cfg->ports ? m->cfg->ports->n : 0,
			m->hosts->untracked ? ", some addresses not counted" : "");
		pps_hostcount_free(m->hosts);
		free(m->hosts);
		m->hosts = NULL;
	}
	/* a joined worker's interrupted shard resumes from its checkpoint in Redis instead */
	if (!m->cfg->join &&
	    (m->stop_reason == PPS_STOP_INTERRUPTED || m->stop_reason == PPS_STOP_MAX_RUNTIME))
		resume_path = pps_resume_save(m, &t, &other);
	else if (m->stop_reason == PPS_STOP_MAX_RESULTS) {
		fprintf(stderr, "%s: stopped after %" PRIu64 " results (-N/--max-results)\n",
			m->cfg->prog, m->written);
	}
	/* a resumed scan that got to the end (or saved its state elsewhere): its resume file
	 * must not send the rest a second time */
	if (m->cfg->resuming && (rc = pps_resume_mark_complete(m->cfg, resume_path)) < 0) {
		fprintf(stderr, "%s: cannot mark resume file '%s' complete: %s\n", m->cfg->prog,
			m->cfg->resume_path, strerror(-rc));
		other = rc;
	}
	if (m->cfg->metadata_file && (rc = pps_metadata_write(m, &t, resume_path)) < 0) {
		fprintf(stderr,
			"%s: cannot write metadata file '%s' (from -m/--metadata-file): %s\n",
			m->cfg->prog, m->cfg->metadata_file, strerror(-rc));
		other = rc;
	}
	rc = pps_outputs_close_status(&m->status_csv, m->cfg->status_updates_file,
				      "-u/--status-updates-file", m->cfg->prog);
	if (rc)
		other = rc;
	rc = pps_outputs_close_status(&m->status_json, m->cfg->status_json_file, "--status-json",
				      m->cfg->prog);
	if (rc)
		other = rc;
	if (m->write_error)
		fprintf(stderr, "%s: error writing results: %s\n", m->cfg->prog,
			strerror(-m->write_error));
	return m->write_error ? m->write_error : other;
}

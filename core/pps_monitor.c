#include "pps_monitor.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double pps_monotonic_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t pps_realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int pps_monitor_open_sinks(struct pps_monitor *m, const struct pps_config *cfg, FILE *err)
{
	char why[256];
	int rc;

	m->n_sinks = 0;
	rc = pps_output_open(&m->sink_store[0], cfg->output_format == PPS_OUT_JSON ? "json" : "csv",
			     cfg->output_file, cfg->output_fields, cfg->output_closed, why,
			     sizeof(why));
	if (rc < 0) {
		fprintf(err, "%s: %s (from -o/--output-file)\n", cfg->prog, why);
		return rc;
	}
	m->sinks[m->n_sinks++] = &m->sink_store[0];
	return 0;
}

void pps_monitor_close_sinks(struct pps_monitor *m)
{
	for (int s = 0; s < m->n_sinks; s++)
		pps_output_close(m->sinks[s]);
	m->n_sinks = 0;
}

static void drain(struct pps_monitor *m)
{
	struct pps_result buf[256];
	size_t n;

	while ((n = pps_ring_pop(m->results, buf, 256)) > 0) {
		for (size_t i = 0; i < n; i++)
			for (int s = 0; s < m->n_sinks; s++) {
				int rc = pps_output_write(m->sinks[s], &buf[i]);
				if (rc < 0 && !m->write_error)
					m->write_error = rc;
			}
		m->written += n;
	}
}

void pps_monitor_loop(struct pps_monitor *m)
{
	struct pps_totals prev = { 0 }, now = { 0 };
	double last_status, last_flush;
	int announced = 0;
	char line[512];

	m->t0 = pps_monotonic_s();
	m->done_at = -1;
	last_status = last_flush = m->t0;
	for (;;) {
		double t = pps_monotonic_s();

		drain(m);
		if (t - last_flush >= 0.1) {
			for (int s = 0; s < m->n_sinks; s++)
				pps_output_flush(m->sinks[s]);
			last_flush = t;
		}
		if (m->done_at < 0 && m->tx_done(m->ctx))
			m->done_at = t;
		if (*m->sigints && !announced) {
			fprintf(stderr,
				"%s: interrupted: sending stopped, waiting %.0f s for responses (Ctrl-C again to stop now)\n",
				m->cfg->prog, m->cfg->cooldown_s);
			announced = 1;
		}
		if (*m->sigints > 1 ||
		    (m->done_at >= 0 && t - m->done_at >= m->cfg->cooldown_s))
			break;
		if (t - last_status >= 1.0) {
			struct pps_status_ctx ctx = {
				.elapsed_s = t - m->t0,
				.dt_s = t - last_status,
				.total_probes = m->total_probes,
				.sending_done = m->done_at >= 0,
				.send_elapsed_s = m->done_at >= 0 ? m->done_at - m->t0 : 0,
				.cooldown_left_s =
					m->done_at >= 0 ? m->cfg->cooldown_s - (t - m->done_at) : 0,
			};
			m->totals(m->ctx, &now);
			if (!m->cfg->quiet)
				fprintf(stderr, "%s\n",
					pps_status_format(line, sizeof(line), &now, &prev, &ctx));
			prev = now;
			last_status = t;
		}
		usleep(1000);
	}
}

int pps_monitor_finish(struct pps_monitor *m)
{
	struct pps_totals t = { 0 };

	drain(m);
	for (int s = 0; s < m->n_sinks; s++) {
		int rc = pps_output_close(m->sinks[s]);
		if (rc < 0 && !m->write_error)
			m->write_error = rc;
	}
	m->n_sinks = 0;
	m->elapsed_s = pps_monotonic_s() - m->t0;
	m->totals(m->ctx, &t);
	pps_summary_print(stderr, m->cfg->prog, &t, m->elapsed_s, m->cfg->seed);
	if (*m->sigints)
		fprintf(stderr, "%s: scan interrupted after %" PRIu64 " of %" PRIu64 " probes\n",
			m->cfg->prog, t.sent, m->total_probes);
	if (m->write_error)
		fprintf(stderr, "%s: error writing results: %s\n", m->cfg->prog,
			strerror(-m->write_error));
	return m->write_error;
}

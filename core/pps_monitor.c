#include "pps_monitor.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "output/out_redis.h"
#include "output/pps_redis_url.h"
#include "probe/pps_probe.h"

/* The Redis sink lives in its own library (meson -Dredis); absent, this is NULL. */
#pragma weak pps_output_redis_open

const char *pps_stop_reason_name(enum pps_stop_reason r)
{
	static const char *const names[] = { "done", "interrupted", "max-runtime", "max-results" };
	return (unsigned)r < 4 ? names[r] : "?";
}

static const char *status_csv_header =
	"real-time,time-elapsed,time-remaining,percent-complete,hit-rate,sent-total,"
	"sent-last-one-sec,sent-avg-per-sec,recv-success-total,recv-success-last-one-sec,"
	"recv-success-avg-per-sec,recv-total,recv-total-last-one-sec,recv-total-avg-per-sec,"
	"drop-total,drop-last-one-sec,drop-avg-per-sec,invalid-total,duplicate-total";

/* One status record (ZMap's -u columns) as CSV and/or JSON. */
/* What the status line and the status files need at monotonic time @t, @dt after the last. */
static struct pps_status_ctx status_ctx(const struct pps_monitor *m, double t, double dt)
{
	struct pps_status_ctx ctx = {
		.elapsed_s = t - m->t0,
		.dt_s = dt,
		.total_probes = m->total_probes,
		.sending_done = m->done_at >= 0,
		.send_elapsed_s = m->done_at >= 0 ? m->done_at - m->t0 : 0,
		.cooldown_left_s = m->done_at >= 0 ? m->cfg->cooldown_s - (t - m->done_at)
						   : m->cfg->cooldown_s,
	};
	return ctx;
}

static void write_status_files(struct pps_monitor *m, const struct pps_totals *now,
			       const struct pps_totals *prev, const struct pps_status_ctx *ctx,
			       int final)
{
	char ts[40];
	double elapsed = ctx->elapsed_s, d = ctx->dt_s > 0 ? ctx->dt_s : 1;
	double e = elapsed > 0 ? elapsed : 1, left = pps_time_left_s(now, ctx), pct, hit, sent_avg;
	uint64_t succ = now->open + now->closed, succ_prev = prev->open + prev->closed;

	pct = m->total_probes ? 100.0 * (double)now->sent / (double)m->total_probes : 100;
	if (pct > 100)
		pct = 100;
	sent_avg = (double)now->sent / e;
	hit = now->sent ? 100.0 * (double)now->open / (double)now->sent : 0;
	pps_output_format_timestamp(pps_realtime_ns(), ts, sizeof(ts));
	if (m->status_csv) {
		fprintf(m->status_csv,
			"%s,%.3f,%.3f,%.2f,%.4f,%" PRIu64 ",%.0f,%.0f,%" PRIu64 ",%.0f,%.0f,%" PRIu64
			",%.0f,%.0f,%" PRIu64 ",%.0f,%.0f,%" PRIu64 ",%" PRIu64 "\n",
			ts, elapsed, left, pct, hit, now->sent, (double)(now->sent - prev->sent) / d,
			sent_avg, succ, (double)(succ - succ_prev) / d, (double)succ / e, now->recv,
			(double)(now->recv - prev->recv) / d, (double)now->recv / e, now->nic_drops,
			(double)(now->nic_drops - prev->nic_drops) / d, (double)now->nic_drops / e,
			now->invalid, now->dup);
		fflush(m->status_csv);
	}
	if (m->status_json) {
		json_t *o = json_pack("{s:s, s:f, s:f, s:f, s:f, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
				      "real_time", ts, "time_elapsed", elapsed, "time_remaining", left,
				      "percent_complete", pct, "hit_rate", hit,
				      "sent", (json_int_t)now->sent, "send_rate", (double)(now->sent - prev->sent) / d,
				      "recv", (json_int_t)now->recv, "open", (json_int_t)now->open,
				      "closed", (json_int_t)now->closed, "invalid", (json_int_t)now->invalid,
				      "duplicates", (json_int_t)now->dup, "drops", (json_int_t)now->nic_drops,
				      "rst_sent", (json_int_t)now->rst,
				      "results", (json_int_t)m->written,
				      "phase", final ? pps_stop_reason_name(m->stop_reason)
				      : m->done_at >= 0 ? "cooldown" : "sending");
		if (o) {
			json_dumpf(o, m->status_json, JSON_COMPACT | JSON_PRESERVE_ORDER);
			fputc('\n', m->status_json);
			fflush(m->status_json);
			json_decref(o);
		}
	}
}

static FILE *open_status(const char *path, const char *opt, const struct pps_config *cfg, FILE *err)
{
	FILE *f = fopen(path, "w");

	if (!f)
		fprintf(err, "%s: cannot open '%s' (from %s): %s\n", cfg->prog, path, opt,
			strerror(errno));
	return f;
}

/*
 * Files the scan will write must be distinct (results, -u, --status-json, -m, the resume file),
 * and an explicitly named --resume-file must be creatable: found out now, not at Ctrl-C.
 */
static int check_files(const struct pps_config *cfg, FILE *err)
{
	const char *path[5] = { cfg->output_file, cfg->status_updates_file, cfg->status_json_file,
				cfg->metadata_file, cfg->resume_file };
	static const char *const opt[5] = { "-o/--output-file", "-u/--status-updates-file",
					    "--status-json", "-m/--metadata-file", "--resume-file" };

	for (int i = 0; i < 5; i++)
		for (int j = i + 1; j < 5; j++) {
			struct stat a, b;
			int same;

			if (!path[i] || !path[j] || !strcmp(path[i], "/dev/null") ||
			    !strcmp(path[i], "-"))
				continue;
			same = !strcmp(path[i], path[j]) ||
			       (!stat(path[i], &a) && !stat(path[j], &b) && a.st_dev == b.st_dev &&
				a.st_ino == b.st_ino && S_ISREG(a.st_mode));
			if (same) {
				fprintf(err, "%s: '%s' is named by both %s and %s: each output needs its own file\n",
					cfg->prog, path[j], opt[i], opt[j]);
				return -EINVAL;
			}
		}
	if (strcmp(cfg->resume_file, "paused.conf") != 0) {
		char dir[4096];
		const char *slash = strrchr(cfg->resume_file, '/');
		struct stat st;

		snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - cfg->resume_file) : 1,
			 slash ? (slash == cfg->resume_file ? "/" : cfg->resume_file) : ".");
		if ((!stat(cfg->resume_file, &st) && S_ISDIR(st.st_mode)) ||
		    access(dir, W_OK | X_OK) != 0) {
			fprintf(err, "%s: cannot create '%s' (from --resume-file): %s\n", cfg->prog,
				cfg->resume_file,
				!stat(cfg->resume_file, &st) && S_ISDIR(st.st_mode) ? "it is a directory"
										 : strerror(errno));
			return -EINVAL;
		}
	}
	return 0;
}

int pps_monitor_open_sinks(struct pps_monitor *m, const struct pps_config *cfg, FILE *err)
{
	char why[256];
	int rc;

	m->n_sinks = 0;
	if (check_files(cfg, err) < 0)
		return -EINVAL;
	if (cfg->metadata_file) {
		/* opened now so that a bad path is bad input, not a surprise after the scan */
		m->metadata_fp = open_status(cfg->metadata_file, "-m/--metadata-file", cfg, err);
		if (!m->metadata_fp)
			return -EINVAL;
	}
	if (cfg->status_updates_file) {
		m->status_csv = open_status(cfg->status_updates_file, "-u/--status-updates-file",
					    cfg, err);
		if (!m->status_csv)
			return -EINVAL;
		fprintf(m->status_csv, "%s\n", status_csv_header);
	}
	if (cfg->status_json_file) {
		m->status_json = open_status(cfg->status_json_file, "--status-json", cfg, err);
		if (!m->status_json)
			return -EINVAL;
	}
	/* with --redis, results go to stdout only when -o asks for it */
	if (cfg->output_file || !cfg->redis_url) {
		rc = pps_output_open(&m->sink_store[0],
				     cfg->output_format == PPS_OUT_JSON ? "json" : "csv",
				     cfg->output_file, cfg->probe, cfg->output_fields,
				     cfg->output_closed, why, sizeof(why));
		if (rc < 0) {
			fprintf(err, "%s: %s (from -o/--output-file)\n", cfg->prog, why);
			pps_monitor_close_sinks(m);
			return rc;
		}
		m->sinks[m->n_sinks++] = &m->sink_store[0];
	}
	if (cfg->redis_url) {
		/* connects and checks the server now: nothing is sent if Redis is unusable */
		if (!pps_output_redis_open) {
			fprintf(err, "%s: --redis: built without Redis support (install libhiredis-dev and rebuild with meson -Dredis=enabled)\n",
				cfg->prog);
			pps_monitor_close_sinks(m);
			return -ENOTSUP;
		}
		rc = pps_output_redis_open(&m->sink_store[m->n_sinks], cfg, err);
		if (rc < 0) {
			pps_monitor_close_sinks(m);
			return rc;
		}
		m->sinks[m->n_sinks] = &m->sink_store[m->n_sinks];
		m->n_sinks++;
	}
	return 0;
}

/* Tells the sinks where the scan stands (Redis meta hash); @final after the last result. */
static void sinks_progress(struct pps_monitor *m, const struct pps_totals *t, double now,
			   int final)
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

void pps_monitor_close_sinks(struct pps_monitor *m)
{
	for (int s = 0; s < m->n_sinks; s++)
		pps_output_close(m->sinks[s]);
	m->n_sinks = 0;
	if (m->status_csv)
		fclose(m->status_csv);
	if (m->status_json)
		fclose(m->status_json);
	if (m->metadata_fp)
		fclose(m->metadata_fp);
	m->status_csv = m->status_json = m->metadata_fp = NULL;
}

/* Flushes and closes a status file; reports a write error (a full disk) by name. */
static int close_status(FILE **f, const char *path, const char *opt, const char *prog)
{
	int rc = 0;

	if (!*f)
		return 0;
	if (fflush(*f) || ferror(*f))
		rc = errno ? -errno : -EIO;
	if (fclose(*f) && !rc)
		rc = -errno;
	*f = NULL;
	if (rc)
		fprintf(stderr, "%s: error writing '%s' (from %s): %s\n", prog, path, opt,
			strerror(-rc));
	return rc;
}

static void drain(struct pps_monitor *m)
{
	struct pps_result buf[256];
	size_t n;

	while ((n = pps_ring_pop(m->results, buf, 256)) > 0) {
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
		if (*m->sigints > 1 ||
		    (m->done_at >= 0 && t - m->done_at >= m->cfg->cooldown_s))
			break;
		if (t - last_status >= 1.0) {
			struct pps_status_ctx ctx = status_ctx(m, t, t - last_status);

			m->totals(m->ctx, &now);
			if (!m->cfg->quiet)
				fprintf(stderr, "%s\n",
					pps_status_format(line, sizeof(line), &now, &prev, &ctx));
			write_status_files(m, &now, &prev, &ctx, 0);
			sinks_progress(m, &now, t, 0);
			prev = now;
			m->last = now;
			m->last_status_t = t;
			last_status = t;
		}
		usleep(1000);
	}
}

static int write_metadata(struct pps_monitor *m, const struct pps_totals *t,
			  const char *resume_path)
{
	const struct pps_config *cfg = m->cfg;
	char start[40], end[40], seed[24];
	json_t *o, *opts;
	FILE *f;
	int rc = 0;

	pps_output_format_timestamp(m->start_ns, start, sizeof(start));
	pps_output_format_timestamp(m->end_ns, end, sizeof(end));
	snprintf(seed, sizeof(seed), "%" PRIu64, cfg->seed);
	/* options as a config dump parsed back into an object */
	opts = json_object();
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *mf = open_memstream(&buf, &len);
		if (mf) {
			char *line = NULL, *save = NULL;
			pps_config_dump(cfg, mf);
			fclose(mf);
			for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
				char *eq = strstr(line, " = ");
				if (line[0] == '#' || !eq)
					continue;
				*eq = '\0';
				if (!strcmp(line, "redis")) { /* never the password */
					char shown[512];
					pps_redis_url_mask(eq + 3, shown, sizeof(shown));
					json_object_set_new(opts, line, json_string(shown));
					continue;
				}
				json_object_set_new(opts, line, json_string(eq + 3));
			}
			free(buf);
		}
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:I, s:I, s:I, s:I, s:I, s:s?}",
		      "program", cfg->prog, "version", PPS_VERSION, "seed", seed,
		      "start_time", start, "end_time", end, "duration_s", m->elapsed_s,
		      "options", opts, "counters",
		      "sent", (json_int_t)t->sent, "received", (json_int_t)t->recv,
		      "valid", (json_int_t)t->valid, "open", (json_int_t)t->open,
		      "closed", (json_int_t)t->closed, "invalid", (json_int_t)t->invalid,
		      "duplicates", (json_int_t)t->dup, "malformed", (json_int_t)t->malformed,
		      "not_ours", (json_int_t)t->other, "nic_drops", (json_int_t)t->nic_drops,
		      "ring_full", (json_int_t)t->ring_full, "tx_full", (json_int_t)t->tx_full,
		      "rst_sent", (json_int_t)t->rst, "rst_not_sent", (json_int_t)t->rst_lost,
		      "results_written", (json_int_t)m->written,
		      "target_space", (json_int_t)cfg->target_space,
		      "targets_addresses", (json_int_t)cfg->targets->n_addresses,
		      "blocked_addresses", (json_int_t)cfg->blocked,
		      "probes_planned", (json_int_t)m->total_probes,
		      "resume_file", resume_path);
	if (!o)
		return -ENOMEM;
	json_object_set_new(o, "state", json_string(pps_stop_reason_name(m->stop_reason)));
	f = m->metadata_fp;
	m->metadata_fp = NULL;
	if (!f || json_dumpf(o, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) || fputc('\n', f) == EOF ||
	    fflush(f))
		rc = errno ? -errno : -EIO;
	if (f && fclose(f) && !rc)
		rc = -errno;
	json_decref(o);
	return rc;
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
	/* the final record, over the time since the last one; not a repeat of an unchanged one */
	if (!m->last_status_t || memcmp(&t, &m->last, sizeof(t))) {
		double end = m->t0 + m->elapsed_s;
		struct pps_status_ctx ctx =
			status_ctx(m, end, end - (m->last_status_t ? m->last_status_t : m->t0));

		write_status_files(m, &t, &m->last, &ctx, 1);
	}
	pps_summary_print(stderr, m->cfg->prog, &t, m->elapsed_s, m->cfg->seed, m->cfg->no_rst);
	if (m->stop_reason == PPS_STOP_INTERRUPTED || m->stop_reason == PPS_STOP_MAX_RUNTIME) {
		uint64_t next[PPS_MAX_SENDERS];
		unsigned n = m->resume_state ? m->resume_state(m->ctx, next, PPS_MAX_SENDERS) : 0;

		fprintf(stderr, "%s: scan %s after %" PRIu64 " of %" PRIu64 " probes\n",
			m->cfg->prog,
			m->stop_reason == PPS_STOP_INTERRUPTED ? "interrupted" : "stopped by -t/--max-runtime",
			t.sent, m->total_probes);
		if (n && t.sent < m->total_probes) {
			rc = pps_config_write_resume(m->cfg, m->cfg->resume_file, m->eal_args, next, n);
			if (rc < 0) {
				fprintf(stderr, "%s: cannot write resume file '%s': %s\n", m->cfg->prog,
					m->cfg->resume_file, strerror(-rc));
				other = rc;
			} else {
				resume_path = m->cfg->resume_file;
				fprintf(stderr, "%s: resume state saved: continue with '%s --resume %s'\n",
					m->cfg->prog, m->cfg->prog, resume_path);
			}
		}
	} else if (m->stop_reason == PPS_STOP_MAX_RESULTS) {
		fprintf(stderr, "%s: stopped after %" PRIu64 " results (-N/--max-results)\n",
			m->cfg->prog, m->written);
	}
	if (m->cfg->metadata_file && (rc = write_metadata(m, &t, resume_path)) < 0) {
		fprintf(stderr, "%s: cannot write metadata file '%s' (from -m/--metadata-file): %s\n",
			m->cfg->prog, m->cfg->metadata_file, strerror(-rc));
		other = rc;
	}
	rc = close_status(&m->status_csv, m->cfg->status_updates_file, "-u/--status-updates-file",
			  m->cfg->prog);
	if (rc)
		other = rc;
	rc = close_status(&m->status_json, m->cfg->status_json_file, "--status-json", m->cfg->prog);
	if (rc)
		other = rc;
	if (m->write_error)
		fprintf(stderr, "%s: error writing results: %s\n", m->cfg->prog,
			strerror(-m->write_error));
	return m->write_error ? m->write_error : other;
}

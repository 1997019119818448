/*
 * What a scan leaves behind at its end: the -m metadata file (JSON: every option, the seed,
 * counters, times, how it ended) and, when sending was cut short, the resume file; and the
 * one writer of the options as a JSON object (also the Redis meta hash's "options"), with
 * the Redis password masked.
 */
#include "pps_monitor.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "output/pps_redis_url.h"
#include "probe/pps_probe.h"

json_t *pps_options_json(const struct pps_config *cfg)
{
	json_t *o = json_object();
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *mf;

	if (!o)
		return NULL;
	mf = open_memstream(&buf, &len);
	if (!mf) {
		json_decref(o);
		return NULL;
	}
	/* the config dump (-C's format), parsed back into keys and values */
	pps_config_dump(cfg, mf);
	fclose(mf);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strstr(line, " = "), shown[512];

		if (line[0] == '#' || !eq)
			continue;
		*eq = '\0';
		if (!strcmp(line, "redis")) { /* never the password */
			pps_redis_url_mask(eq + 3, shown, sizeof(shown));
			json_object_set_new(o, line, json_string(shown));
		} else {
			json_object_set_new(o, line, json_string(eq + 3));
		}
	}
	free(buf);
	return o;
}

int pps_metadata_write(struct pps_monitor *m, const struct pps_totals *t, const char *resume_path)
{
	const struct pps_config *cfg = m->cfg;
	char start[40], end[40], seed[24];
	json_t *o, *opts;
	FILE *f;
	int rc = 0;

	pps_output_format_timestamp(m->start_ns, start, sizeof(start));
	pps_output_format_timestamp(m->end_ns, end, sizeof(end));
	snprintf(seed, sizeof(seed), "%" PRIu64, cfg->seed);
	opts = pps_options_json(cfg);
	if (!opts)
		return -ENOMEM;
	o = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:f, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:I, s:I, s:I, s:I, s:I, s:s?}",
		"program", cfg->prog, "version", PPS_VERSION, "seed", seed, "start_time", start,
		"end_time", end, "duration_s", m->elapsed_s, "options", opts, "counters", "sent",
		(json_int_t)t->sent, "received", (json_int_t)t->recv, "valid", (json_int_t)t->valid,
		"open", (json_int_t)t->open, "closed", (json_int_t)t->closed, "invalid",
		(json_int_t)t->invalid, "duplicates", (json_int_t)t->dup, "malformed",
		(json_int_t)t->malformed, "not_ours", (json_int_t)t->not_ours, "nic_drops",
		(json_int_t)t->nic_drops, "ring_full", (json_int_t)t->ring_full, "tx_full",
		(json_int_t)t->tx_full, "rst_sent", (json_int_t)t->rst, "rst_not_sent",
		(json_int_t)t->rst_lost, "results_written", (json_int_t)m->written, "target_space",
		(json_int_t)cfg->target_space, "targets_addresses",
		(json_int_t)cfg->targets->n_addresses, "blocked_addresses",
		(json_int_t)cfg->blocked, "probes_planned", (json_int_t)m->total_probes,
		"resume_file", resume_path);
	if (!o)
		return -ENOMEM;
	json_object_set_new(o, "state", json_string(pps_stop_reason_name(m->stop_reason)));
	if (cfg->probe && cfg->probe->summary) { /* udp: other ICMP unreachables, silent targets */
		json_t *c = json_object_get(o, "counters");

		json_object_set_new(c, "unreach", json_integer((json_int_t)t->unreach));
		json_object_set_new(c, "no_answer",
				    json_integer((json_int_t)pps_totals_silent(
					    t, t->sent / (cfg->probes ? cfg->probes : 1))));
	}
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

int pps_resume_mark_complete(const struct pps_config *cfg, const char *saved_path)
{
	struct stat a, b;
	char iso[40];
	FILE *f;
	int rc = 0;

	if (saved_path && !stat(saved_path, &a) && !stat(cfg->resume_path, &b) &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return 0;
	pps_output_format_timestamp(pps_realtime_ns(), iso, sizeof(iso));
	if (!(f = fopen(cfg->resume_path, "a")))
		return -errno;
	if (fprintf(f, "resume-complete = %s\n", iso) < 0)
		rc = -EIO;
	if (fclose(f) && !rc)
		rc = -errno;
	return rc;
}

const char *pps_resume_save(struct pps_monitor *m, const struct pps_totals *t, int *err)
{
	const struct pps_config *cfg = m->cfg;
	uint64_t next[PPS_MAX_SENDERS];
	unsigned n = m->resume_state ? m->resume_state(m->ctx, next, PPS_MAX_SENDERS) : 0;
	int rc;

	fprintf(stderr, "%s: scan %s after %" PRIu64 " of %" PRIu64 " probes\n", cfg->prog,
		m->stop_reason == PPS_STOP_INTERRUPTED ? "interrupted"
						       : "stopped by -t/--max-runtime",
		t->sent, m->total_probes);
	if (!n || t->sent >= m->total_probes)
		return NULL;
	rc = pps_config_write_resume(cfg, cfg->resume_file, m->eal_args, next, n);
	if (rc < 0) {
		fprintf(stderr, "%s: cannot write resume file '%s': %s\n", cfg->prog,
			cfg->resume_file, strerror(-rc));
		*err = rc;
		return NULL;
	}
	fprintf(stderr, "%s: resume state saved: continue with '%s --resume %s'\n", cfg->prog,
		cfg->prog, cfg->resume_file);
	return cfg->resume_file;
}

/*
 * Every file and sink a scan writes, checked before anything is sent (a bad path, a bad Redis
 * URL or an unreachable server is bad input, exit 2), created only once the scan really
 * starts (a failed start leaves no file and no header behind) and closed at the end: the
 * results sink (-o/-O/-f, stdout by default), the Redis sink (--redis, connected at the
 * check), the progress files (-u, --status-json) and the metadata file (-m, written at the
 * end, created at the start).
 */
#include "pps_monitor.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output/out_redis.h"

/* The -u file's columns, ZMap's. */
const char *const pps_status_csv_header =
	"real-time,time-elapsed,time-remaining,percent-complete,hit-rate,sent-total,"
	"sent-last-one-sec,sent-avg-per-sec,recv-success-total,recv-success-last-one-sec,"
	"recv-success-avg-per-sec,recv-total,recv-total-last-one-sec,recv-total-avg-per-sec,"
	"drop-total,drop-last-one-sec,drop-avg-per-sec,invalid-total,duplicate-total";

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
					    "--status-json", "-m/--metadata-file",
					    "--resume-file" };

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
				fprintf(err,
					"%s: '%s' is named by both %s and %s: each output needs its own file\n",
					cfg->prog, path[j], opt[i], opt[j]);
				return -EINVAL;
			}
		}
	if (strcmp(cfg->resume_file, "paused.conf") != 0) {
		int rc = pps_output_path_check(cfg->resume_file);

		if (rc < 0) {
			fprintf(err, "%s: cannot create '%s' (from --resume-file): %s\n", cfg->prog,
				cfg->resume_file,
				rc == -EISDIR ? "it is a directory" : strerror(-rc));
			return -EINVAL;
		}
	}
	for (int i = 0; i < 4; i++) {
		int rc;

		if (!path[i] || (i == 0 && !strcmp(path[i], "-")))
			continue;
		if ((rc = pps_output_path_check(path[i])) < 0) {
			fprintf(err, "%s: cannot open '%s' (from %s): %s\n", cfg->prog, path[i],
				opt[i], strerror(-rc));
			return -EINVAL;
		}
	}
	return 0;
}

/* The results sink is wanted: -o, or stdout unless --redis took its place. */
static int wants_results(const struct pps_config *cfg)
{
	return cfg->output_file || !cfg->redis_url;
}

int pps_outputs_check(struct pps_monitor *m, const struct pps_config *cfg, FILE *err)
{
	char why[256];
	int rc;

	m->n_sinks = 0;
	if (check_files(cfg, err) < 0)
		return -EINVAL;
	if (wants_results(cfg) &&
	    (rc = pps_output_check(cfg->output_format == PPS_OUT_JSON ? "json" : "csv",
				   cfg->output_file, cfg->probe, cfg->output_fields, why,
				   sizeof(why))) < 0) {
		fprintf(err, "%s: %s (from -o/--output-file)\n", cfg->prog, why);
		return rc;
	}
	if (cfg->redis_url) {
		/* connects and checks the server now: nothing is sent if Redis is unusable */
#if PPS_HAVE_HIREDIS
		rc = pps_output_redis_open(&m->sink_store[1], cfg, err);
#else
		fprintf(err,
			"%s: --redis: built without Redis support (install libhiredis-dev and rebuild with meson -Dredis=enabled)\n",
			cfg->prog);
		rc = -ENOTSUP;
#endif
		if (rc < 0)
			return rc;
		m->sinks[m->n_sinks++] = &m->sink_store[1];
	}
	return 0;
}

int pps_outputs_start(struct pps_monitor *m, const struct pps_config *cfg, FILE *err)
{
	char why[256];
	int rc;

	if (cfg->metadata_file) {
		/* opened now so that a full disk shows at start, not after the scan */
		m->metadata_fp = open_status(cfg->metadata_file, "-m/--metadata-file", cfg, err);
		if (!m->metadata_fp)
			goto fail;
	}
	if (cfg->status_updates_file) {
		m->status_csv =
			open_status(cfg->status_updates_file, "-u/--status-updates-file", cfg, err);
		if (!m->status_csv)
			goto fail;
		fprintf(m->status_csv, "%s\n", pps_status_csv_header);
	}
	if (cfg->status_json_file) {
		m->status_json = open_status(cfg->status_json_file, "--status-json", cfg, err);
		if (!m->status_json)
			goto fail;
	}
	if (wants_results(cfg)) {
		rc = pps_output_open(&m->sink_store[0],
				     cfg->output_format == PPS_OUT_JSON ? "json" : "csv",
				     cfg->output_file, cfg->probe, cfg->output_fields,
				     cfg->output_closed, why, sizeof(why));
		if (rc < 0) {
			fprintf(err, "%s: %s (from -o/--output-file)\n", cfg->prog, why);
			goto fail;
		}
		/* the results sink first: the monitor writes the sinks in order */
		if (m->n_sinks)
			m->sinks[1] = m->sinks[0];
		m->sinks[0] = &m->sink_store[0];
		m->n_sinks++;
	}
	return 0;
fail:
	pps_outputs_close(m);
	return -EINVAL;
}

int pps_outputs_open(struct pps_monitor *m, const struct pps_config *cfg, FILE *err)
{
	int rc = pps_outputs_check(m, cfg, err);

	return rc < 0 ? rc : pps_outputs_start(m, cfg, err);
}
void pps_outputs_close(struct pps_monitor *m)
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
int pps_outputs_close_status(FILE **f, const char *path, const char *opt, const char *prog)
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

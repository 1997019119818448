/* The sink registry and what every sink shares: opening, appending, the output filter. */
#include "pps_output.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include "../probe/pps_probe.h"

static const struct pps_output_ops *const registry[] = { &pps_output_csv, &pps_output_json };

/*
 * Appending (a resumed scan, or -o naming an earlier result file) must not mix formats: a
 * non-empty CSV file must start with this sink's header line, a JSON file with '{'.
 */
static int check_append(struct pps_output *o, const char *path, char *why, size_t whylen)
{
	char first[512], want[512];
	size_t n = 0;
	FILE *f;

	if (fseek(o->fp, 0, SEEK_END) || ftell(o->fp) <= 0)
		return 0; /* new, empty, or not a regular file (a pipe, /dev/null) */
	f = fopen(path, "r");
	if (!f || !fgets(first, sizeof(first), f)) {
		if (f)
			fclose(f);
		return 0;
	}
	fclose(f);
	first[strcspn(first, "\r\n")] = '\0';
	if (!strcmp(o->ops->name, "json")) {
		if (first[0] == '{')
			return 0;
		snprintf(
			why, whylen,
			"output file '%s' is not JSON lines (it starts '%.40s'): appending would mix formats",
			path, first);
		return -EINVAL;
	}
	want[0] = '\0';
	for (unsigned i = 0; i < o->sel.n && n < sizeof(want); i++)
		n += (size_t)snprintf(want + n, sizeof(want) - n, "%s%s", i ? "," : "",
				      o->sel.name[i]);
	if (!strcmp(first, want))
		return 0;
	snprintf(
		why, whylen,
		"output file '%s' has the header '%.60s', this scan writes '%.60s': appending would mix formats",
		path, first, want);
	return -EINVAL;
}

/* The sink @format with the fields @fields into a zeroed @o. 0 or -EINVAL (@why). */
static int choose(struct pps_output *o, const char *format, const struct pps_probe_ops *probe,
		  const char *fields, char *why, size_t whylen)
{
	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		if (!strcmp(registry[i]->name, format))
			o->ops = registry[i];
	if (!o->ops) {
		snprintf(why, whylen, "unknown output format '%s'", format);
		return -EINVAL;
	}
	return pps_fields_select(probe, fields, &o->sel, why, whylen);
}

int pps_output_path_check(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (!stat(path, &st))
		return S_ISDIR(st.st_mode) ? -EISDIR : access(path, W_OK) ? -errno : 0;
	if (errno != ENOENT)
		return -errno;
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1,
		 slash ? (slash == path ? "/" : path) : ".");
	return access(dir, W_OK | X_OK) ? -errno : 0;
}

int pps_output_check(const char *format, const char *path, const struct pps_probe_ops *probe,
		     const char *fields, char *why, size_t whylen)
{
	struct pps_output o;
	struct stat st;
	int rc;

	if ((rc = choose(&o, format, probe, fields, why, whylen)) < 0)
		return rc;
	if (!path || !strcmp(path, "-"))
		return 0;
	if ((rc = pps_output_path_check(path)) < 0) {
		snprintf(why, whylen, "cannot open output file '%s': %s", path, strerror(-rc));
		return rc;
	}
	/* an existing regular file: appending must not mix formats (read, not written) */
	if (stat(path, &st) || !S_ISREG(st.st_mode) || !(o.fp = fopen(path, "r")))
		return 0;
	rc = check_append(&o, path, why, whylen);
	fclose(o.fp);
	return rc;
}

int pps_output_open(struct pps_output *o, const char *format, const char *path,
		    const struct pps_probe_ops *probe, const char *fields, int include_closed,
		    char *why, size_t whylen)
{
	int rc;

	if ((rc = choose(o, format, probe, fields, why, whylen)) < 0)
		return rc;
	o->include_closed = include_closed;
	if (!path || !strcmp(path, "-")) {
		o->fp = stdout;
	} else {
		o->fp = fopen(path, "a");
		if (!o->fp) {
			rc = -errno;
			snprintf(why, whylen, "cannot open output file '%s': %s", path,
				 strerror(errno));
			return rc;
		}
		o->owns_fp = 1;
		if ((rc = check_append(o, path, why, whylen)) < 0) {
			fclose(o->fp);
			o->fp = NULL;
			return rc;
		}
	}
	rc = o->ops->open ? o->ops->open(o) : 0;
	if (rc < 0)
		snprintf(why, whylen, "cannot write output: %s", strerror(-rc));
	return rc;
}

int pps_output_write(struct pps_output *o, const struct pps_result *r)
{
	if (!o->include_closed && !pps_result_success(r))
		return 0;
	o->written++;
	return o->ops->write(o, r);
}

int pps_output_flush(struct pps_output *o)
{
	if (!o->fp) /* sinks without a file (Redis) flush in poll() */
		return 0;
	if (fflush(o->fp) && !o->err)
		o->err = errno ? -errno : -EIO;
	return o->err;
}

int pps_output_poll(struct pps_output *o, double now_s)
{
	return o->ops->poll ? o->ops->poll(o, now_s) : 0;
}

void pps_output_progress(struct pps_output *o, const struct pps_progress *p)
{
	if (o->ops->progress)
		o->ops->progress(o, p);
}

const char *pps_scan_state_name(enum pps_scan_state s)
{
	static const char *const names[] = { "running", "done", "interrupted" };
	return (unsigned)s < 3 ? names[s] : "?";
}

int pps_output_close(struct pps_output *o)
{
	int rc = o->ops->close ? o->ops->close(o) : 0;

	if (!o->fp)
		return rc;
	if (fflush(o->fp) && !o->err)
		o->err = errno ? -errno : -EIO;
	if (ferror(o->fp) && !o->err)
		o->err = -EIO;
	if (o->owns_fp && fclose(o->fp) && !o->err)
		o->err = -errno;
	o->fp = NULL;
	return rc ? rc : o->err;
}

void pps_output_format_timestamp(unsigned long long ts_ns, char *buf, size_t len)
{
	time_t sec = (time_t)(ts_ns / 1000000000ULL);
	struct tm tm;
	char base[32];

	gmtime_r(&sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06lluZ", base, (ts_ns % 1000000000ULL) / 1000ULL);
}

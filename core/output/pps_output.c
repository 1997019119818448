#include "pps_output.h"

#include <errno.h>
#include <string.h>
#include <time.h>

static const char *const field_names[PPS_F_COUNT] = {
	"saddr",	  "sport",   "daddr",	       "dport",	       "seqnum",
	"acknum",	  "window",  "ttl",	       "ipid",	       "classification",
	"success",	  "cooldown", "timestamp_str", "timestamp_ts", "timestamp_us",
};

static const struct pps_output_ops *const registry[] = { &pps_output_csv, &pps_output_json };

const char *pps_field_name(int f)
{
	return f >= 0 && f < PPS_F_COUNT ? field_names[f] : "?";
}

static int parse_fields(const char *spec, int *ids, int *n, char *why, size_t whylen)
{
	const char *s = spec;

	*n = 0;
	while (1) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		int found = -1;

		for (int f = 0; f < PPS_F_COUNT; f++)
			if (strlen(field_names[f]) == len && !strncmp(field_names[f], s, len))
				found = f;
		if (found < 0) {
			snprintf(why, whylen, "unknown field '%.*s'", (int)len, s);
			return -EINVAL;
		}
		for (int i = 0; i < *n; i++)
			if (ids[i] == found) {
				snprintf(why, whylen, "field '%.*s' given twice", (int)len, s);
				return -EINVAL;
			}
		ids[(*n)++] = found;
		if (!e)
			return 0;
		s = e + 1;
	}
}

int pps_output_check_fields(const char *spec, char *why, size_t whylen)
{
	int ids[PPS_F_COUNT], n;
	return parse_fields(spec, ids, &n, why, whylen);
}

int pps_output_open(struct pps_output *o, const char *format, const char *path,
		    const char *fields, int include_closed, char *why, size_t whylen)
{
	int rc;

	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		if (!strcmp(registry[i]->name, format))
			o->ops = registry[i];
	if (!o->ops) {
		snprintf(why, whylen, "unknown output format '%s'", format);
		return -EINVAL;
	}
	if ((rc = parse_fields(fields, o->fields, &o->n_fields, why, whylen)) < 0)
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
	}
	rc = o->ops->open ? o->ops->open(o) : 0;
	if (rc < 0)
		snprintf(why, whylen, "cannot write output: %s", strerror(-rc));
	return rc;
}

int pps_output_write(struct pps_output *o, const struct pps_result *r)
{
	if (r->classification != PPS_CLASS_SYNACK && !o->include_closed)
		return 0;
	o->written++;
	return o->ops->write(o, r);
}

int pps_output_flush(struct pps_output *o)
{
	if (!o->fp) /* sinks without a file (Redis) flush in poll() */
		return 0;
	return fflush(o->fp) ? -errno : 0;
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
	if (fflush(o->fp) && !rc)
		rc = -errno;
	if (o->owns_fp && fclose(o->fp) && !rc)
		rc = -errno;
	o->fp = NULL;
	return rc;
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

/*
 * pps_output.h - result sinks behind one small ops struct (ZMap's output modules): a static
 * registry maps a format name to its ops. Sinks run on the output thread only and read every
 * value through the field extractor (pps_fields.h), so they know no probe kind.
 */
#ifndef PPS_OUTPUT_H
#define PPS_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include "../pps_result.h"
#include "../pps_stats.h"
#include "pps_fields.h"

struct pps_output;

/** Where a scan stands, for sinks that publish progress (Redis meta hash). */
enum pps_scan_state {
	PPS_SCAN_RUNNING = 0,
	PPS_SCAN_DONE,	      /* every probe sent and the cooldown over (or -N reached) */
	PPS_SCAN_INTERRUPTED, /* SIGINT/SIGTERM or -t: sending was cut short */
};

/** pps_scan_state_name - "running", "done", "interrupted". */
const char *pps_scan_state_name(enum pps_scan_state s);

/** What the monitor tells sinks once a second and once at the end. */
struct pps_progress {
	const struct pps_totals *totals; /* summed counters, as on the status line */
	uint64_t total_probes;		 /* probes this run will send */
	uint64_t results;		 /* results handed to the sinks so far */
	double elapsed_s;		 /* since the monitor started */
	enum pps_scan_state state;
	const char *stop_reason; /* "done", "interrupted", "max-runtime", "max-results" */
};

/**
 * One sink. Each function returns 0 or -errno; write() is called once per result and must
 * not block. The optional ones are NULL for the file sinks.
 */
struct pps_output_ops {
	const char *name;
	int (*open)(struct pps_output *o);
	int (*write)(struct pps_output *o, const struct pps_result *r);
	int (*close)(struct pps_output *o);
	/* optional: every monitor round (about 1 ms): batching timers, non-blocking I/O */
	int (*poll)(struct pps_output *o, double now_s);
	/* optional: once a second (state running) and once before close (done/interrupted) */
	void (*progress)(struct pps_output *o, const struct pps_progress *p);
};

struct pps_output {
	const struct pps_output_ops *ops;
	FILE *fp;
	int owns_fp;
	struct pps_field_sel sel; /* the fields written, resolved at open */
	int include_closed;	  /* else only open ports (pps_result_success()) are written */
	unsigned long long written;
	int err;    /* first write error (-errno), kept because stdio may drop it after a flush */
	void *priv; /* sink state (Redis), owned by the sink, freed by its close() */
};

/**
 * pps_output_open - opens sink @format ("csv" or "json") writing to @path (NULL or "-" =
 * stdout) with the fields @fields of probe module @probe (NULL: tcp_synscan; "*": all of
 * them). Returns 0 or -errno (message in @why).
 */
int pps_output_open(struct pps_output *o, const char *format, const char *path,
		    const struct pps_probe_ops *probe, const char *fields, int include_closed,
		    char *why, size_t whylen);

/**
 * pps_output_path_check - can @path be written without creating anything now: an existing
 * file (not a directory) that we may write, or a new name in a directory we may write.
 * Returns 0 or -errno (EISDIR, EACCES, ENOENT for a missing directory, ...).
 */
int pps_output_path_check(const char *path);

/**
 * pps_output_check - what pps_output_open() would refuse, found without opening for writing
 * or writing anything: the format, the fields, the path (pps_output_path_check()) and, for
 * an existing file, that appending would not mix formats. Returns 0 or -errno (@why).
 */
int pps_output_check(const char *format, const char *path, const struct pps_probe_ops *probe,
		     const char *fields, char *why, size_t whylen);

/** pps_output_write - writes @r if it is open or closed ones are wanted. 0 or -errno. */
int pps_output_write(struct pps_output *o, const struct pps_result *r);

/** pps_output_flush - flushes buffered output (the output thread calls it on a timer). */
int pps_output_flush(struct pps_output *o);

/** pps_output_poll - runs the sink's poll() if it has one (@now_s: CLOCK_MONOTONIC s). */
int pps_output_poll(struct pps_output *o, double now_s);

/** pps_output_progress - hands @p to the sink's progress() if it has one. */
void pps_output_progress(struct pps_output *o, const struct pps_progress *p);

/** pps_output_close - flushes and closes; returns 0 or -errno. */
int pps_output_close(struct pps_output *o);

/**
 * pps_output_format_timestamp - ISO 8601 UTC with microseconds ("2026-11-29T14:56:24.123456Z")
 * of @ts_ns (Unix epoch ns) into @buf (at least 32 bytes).
 */
void pps_output_format_timestamp(unsigned long long ts_ns, char *buf, size_t len);

extern const struct pps_output_ops pps_output_csv;
extern const struct pps_output_ops pps_output_json;

#endif /* PPS_OUTPUT_H */

/*
 * pps_outputs.h - every file and sink a scan writes (pps_outputs.c), opened at start so that
 * a bad path or an unusable Redis is bad input before anything is sent, closed at the end.
 */
#ifndef PPS_OUTPUTS_H
#define PPS_OUTPUTS_H

#include <stdio.h>

struct pps_config;
struct pps_monitor;

/** The -u file's CSV header (ZMap's columns). */
extern const char *const pps_status_csv_header;

/**
 * pps_outputs_check - checks every output @cfg asks for, writing nothing: the -o/-O/-f
 * results sink (stdout by default, but with --redis only when -o is given: format, fields,
 * a writable path, an existing file of the same format), the -u, --status-json and -m paths,
 * that the files are distinct and that a named --resume-file can be created; and opens the
 * Redis sink (--redis: connects and checks the server now; "built without Redis support"
 * without hiredis) into @m. On error prints one line naming the bad value and its option on
 * @err and returns -errno; the caller exits 2 before sending anything.
 */
int pps_outputs_check(struct pps_monitor *m, const struct pps_config *cfg, FILE *err);

/**
 * pps_outputs_start - once the scan really starts (the device is up, the gateway known):
 * creates the files pps_outputs_check() passed and writes their headers (the CSV header, to
 * stdout too). Returns 0, or -EINVAL after one line on @err (and everything closed).
 */
int pps_outputs_start(struct pps_monitor *m, const struct pps_config *cfg, FILE *err);

/**
 * pps_outputs_open - pps_outputs_check() then pps_outputs_start(): for callers without a
 * device step between them (tests, benchmarks).
 */
int pps_outputs_open(struct pps_monitor *m, const struct pps_config *cfg, FILE *err);

/** pps_outputs_close - closes them all without the summary (error paths); idempotent. */
void pps_outputs_close(struct pps_monitor *m);

/**
 * pps_outputs_close_status - flushes and closes the status file *@f (NULL: nothing) of
 * @path, named by option @opt; a write error (a full disk) is printed with @prog. Returns 0
 * or -errno.
 */
int pps_outputs_close_status(FILE **f, const char *path, const char *opt, const char *prog);

#endif /* PPS_OUTPUTS_H */

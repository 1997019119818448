/*
 * pps_metadata.h - what a scan leaves behind at its end (pps_metadata.c): the -m metadata
 * file and the resume file, and the options as one JSON object (the Redis meta hash's too).
 */
#ifndef PPS_METADATA_H
#define PPS_METADATA_H

#include <jansson.h>

struct pps_config;
struct pps_monitor;
struct pps_totals;

/**
 * pps_options_json - every option of @cfg as a JSON object of strings, keys the long option
 * names, the way --dump-config writes them (so -C reads them back), the Redis URL's
 * password as ***. Returns a new reference, or NULL (no memory).
 */
json_t *pps_options_json(const struct pps_config *cfg);

/**
 * pps_metadata_write - the -m file (opened at start by pps_outputs_open()): program, version,
 * seed, start and end times, duration, options, counters @t, the target space, the resume
 * file @resume_path (or null) and the state. Returns 0 or -errno.
 */
int pps_metadata_write(struct pps_monitor *m, const struct pps_totals *t, const char *resume_path);

/**
 * pps_resume_mark_complete - the resumed scan of @cfg (cfg->resuming) has sent the rest:
 * appends "resume-complete = TIME" (ISO 8601 UTC) to its resume file cfg->resume_path,
 * which --resume then refuses, unless @saved_path (the resume file this run saved, or
 * NULL) is that same file, which then holds the new state. Returns 0 or -errno.
 */
int pps_resume_mark_complete(const struct pps_config *cfg, const char *saved_path);

/**
 * pps_resume_save - after sending was cut short (SIGINT, -t): says so and, when probes are
 * left, writes the resume file (--resume-file) with each sender's next index. Returns its
 * path, or NULL (nothing left, or an error: *@err = -errno, printed).
 */
const char *pps_resume_save(struct pps_monitor *m, const struct pps_totals *t, int *err);

#endif /* PPS_METADATA_H */

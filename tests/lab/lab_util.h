/*
 * lab_util.h - helpers for the end-to-end suites: run shell commands, bring the lab
 * (scripts/netlab.sh) up and down, read result CSVs into sorted sets, and capture
 * in the target namespace with tcpdump. Root only; every packet stays in the lab's
 * namespaces (198.18.0.0/15).
 */
#ifndef PPS_LAB_UTIL_H
#define PPS_LAB_UTIL_H

#include <stddef.h>

/** A sorted set of "ip,port,status" lines. */
struct lab_set {
	char **items;
	size_t n;
};

/** lab_sh - runs @fmt (printf-style) with /bin/sh; returns the exit status (or -1). */
int lab_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** lab_up / lab_down - netlab.sh with PPS_LAB=@name. lab_up returns 0 on success. */
int lab_up(const char *name);
void lab_down(const char *name);

/** lab_truth - loads `netlab.sh truth` (lines ip,port,open|closed) into @s. Returns 0. */
int lab_truth(struct lab_set *s);

/**
 * lab_read_results - loads a ppscan CSV with fields saddr,sport,classification (header line
 * skipped) as "ip,port,open|closed". Returns 0, or -1 if the file cannot be read or a line
 * is not of that shape.
 */
int lab_read_results(const char *path, struct lab_set *s);

/** lab_set_free - frees the items. */
void lab_set_free(struct lab_set *s);

/** lab_set_common - number of items present in both sets. */
size_t lab_set_common(const struct lab_set *a, const struct lab_set *b);

/** lab_capture_start - tcpdump in @ns on @iface into @pcap with @filter; returns its pid. */
int lab_capture_start(const char *ns, const char *iface, const char *pcap, const char *filter);

/** lab_capture_stop - stops the capture started above (SIGINT, waits for the file). */
void lab_capture_stop(int pid);

#endif

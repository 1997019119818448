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

/**
 * lab_suite_setup - a lab suite's Criterion .init: asserts root, creates the temporary
 * directory @dir (a mkdtemp() template, completed in place) and brings lab @name up.
 */
void lab_suite_setup(const char *name, char *dir);

/** lab_suite_teardown - the matching .fini: takes lab @name down, removes @dir. */
void lab_suite_teardown(const char *name, const char *dir);

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

/** lab_set_equal - 1 if @a and @b hold the same items. */
int lab_set_equal(const struct lab_set *a, const struct lab_set *b);

/**
 * lab_read_lines - loads the lines of @path, after @skip header lines, into @s (sorted).
 * Returns 0, or -1 if the file cannot be read.
 */
int lab_read_lines(const char *path, int skip, struct lab_set *s);

/**
 * lab_read_probes - the SYN probes (SYN without ACK) in the Ethernet capture @pcap as
 * "daddr,dport,sport,seqnum" lines, the shape of --dryrun output (sorted; duplicates kept).
 * Returns the number of other frames in the capture, or -1 if it cannot be read.
 */
long lab_read_probes(const char *pcap, struct lab_set *s);

/**
 * lab_summary_value - the number after "@key " in a scanner's summary (stderr file @path),
 * e.g. lab_summary_value(err, "invalid"). Returns -1 if the file or the key is missing.
 */
long long lab_summary_value(const char *path, const char *key);

/**
 * lab_assert_truth - asserts (Criterion) that the results CSV @path has precision 100% and
 * recall >= 99.9% against `netlab.sh truth` restricted to lines starting with @prefix
 * ("" = all 15,104) and ports in @ports (NULL = all), plus the line @extra when not NULL
 * (which must be reported); leaves the results in @got.
 */
void lab_assert_truth(const char *path, const char *prefix, const char *const *ports,
		      const char *extra, struct lab_set *got);

/**
 * lab_netstat - the TcpExt counter @key (e.g. "EmbryonicRsts": RSTs that closed a half-open
 * connection; "TCPSynRetrans": SYN and SYN-ACK retransmissions) of network namespace @ns,
 * read from its /proc/net/netstat. Returns -1 if it cannot be read.
 */
long long lab_netstat(const char *ns, const char *key);

/** lab_capture_start - tcpdump in @ns on @iface into @pcap with @filter; returns its pid. */
int lab_capture_start(const char *ns, const char *iface, const char *pcap, const char *filter);

/** lab_capture_stop - stops the capture started above (SIGINT, waits for the file). */
void lab_capture_stop(int pid);

#endif

/*
 * pps_metrics.h - a small HTTP endpoint in Prometheus's text exposition format (version
 * 0.0.4: "# HELP", "# TYPE name counter|gauge", "name{label="v"} value" lines, counters
 * ending in _total), for any ppscan program: the owner defines its metrics once (a table of
 * struct pps_metric), publishes a snapshot of their values from its monitor side (once a
 * second and at the end), and a thread of this module answers GET /metrics with the last
 * snapshot. No TX or RX loop ever touches it: the snapshot is copied under a mutex.
 *
 * It listens only on the address it is given (--metrics ADDR:PORT; no wildcard default), one
 * request per connection (HTTP/1.0 semantics, "Connection: close"), with a 2 s limit per
 * request so a slow client cannot stall the next scrape.
 */
#ifndef PPS_METRICS_H
#define PPS_METRICS_H

#include <netinet/in.h>
#include <stddef.h>

enum pps_metric_type {
	PPS_METRIC_COUNTER = 0,
	PPS_METRIC_GAUGE = 1,
};

/** One exposed series: the name (counters end in _total), its help, type and labels. */
struct pps_metric {
	const char *name; /* "ppscan_probes_sent_total" */
	const char *help; /* one line, no newline */
	enum pps_metric_type type;
	const char *labels; /* "reason=\"malformed\"" or NULL; same-name series are adjacent */
};

struct pps_metrics;

/**
 * pps_metrics_parse_addr - parses "A.B.C.D:PORT" (PORT 1-65535) into @sa (network order).
 * Returns 0, or -1 with the reason in @why (@why_len bytes).
 */
int pps_metrics_parse_addr(const char *s, struct sockaddr_in *sa, char *why, size_t why_len);

/**
 * pps_metrics_start - binds @addr ("A.B.C.D:PORT", parsed by pps_metrics_parse_addr()) and
 * serves the @n metrics @defs (kept by pointer: static storage) from a thread of its own;
 * every value is 0 until the first pps_metrics_publish(). Returns the server, or NULL with
 * the reason in @why (a bad address, the port in use, no memory).
 */
struct pps_metrics *pps_metrics_start(const char *addr, const struct pps_metric *defs, unsigned n,
				      char *why, size_t why_len);

/** pps_metrics_publish - the next snapshot: @values[i] for defs[i] (copied; any thread). */
void pps_metrics_publish(struct pps_metrics *m, const double *values);

/** pps_metrics_port - the port it listens on, host order. */
unsigned pps_metrics_port(const struct pps_metrics *m);

/** pps_metrics_stop - stops the thread, closes the socket, frees @m (NULL is fine). */
void pps_metrics_stop(struct pps_metrics *m);

#endif /* PPS_METRICS_H */

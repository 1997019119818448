/*
 * pps_monitor.h - the output-and-monitor loop both backends run on their main thread: drain
 * the results ring into the sinks (flushing every 100 ms, polling sinks that do their own
 * I/O such as Redis every round), print the status line once a second (and hand the
 * counters to the sinks' progress()), notice the end of sending, run the cooldown, and at
 * the end tell the sinks the final state, close them and print the summary.
 * The run supplies its counters and stop requests through callbacks (pps_run_attach()).
 * The files and sinks are opened by pps_outputs.h, the end records written by
 * pps_metadata.h.
 */
#ifndef PPS_MONITOR_H
#define PPS_MONITOR_H

#include <signal.h>
#include <stdint.h>

#include "output/pps_output.h"
#include "pps_clock.h"
#include "pps_config.h"
#include "pps_ring.h"
#include "pps_stats.h"

#define PPS_MONITOR_MAX_SINKS 4

struct pps_monitor {
	const struct pps_config *cfg;
	struct pps_ring *results;
	struct pps_output *sinks[PPS_MONITOR_MAX_SINKS];
	struct pps_output sink_store[PPS_MONITOR_MAX_SINKS]; /* storage for opened sinks */
	int n_sinks;
	uint64_t total_probes;
	void *ctx; /* passed to the callbacks */
	/* Sums the backend's counters and device drops into @t. */
	void (*totals)(void *ctx, struct pps_totals *t);
	/* 1 once every TX loop has finished sending (or was stopped). */
	int (*tx_done)(void *ctx);
	volatile sig_atomic_t *sigints; /* SIGINT/SIGTERM count, set by the backend's handler */
	/* Asks every TX loop to stop after its current burst (-t, -N). */
	void (*stop_tx)(void *ctx);
	/* Writes each sender thread's next index into @next (at most @max); returns how many. */
	unsigned (*resume_state)(void *ctx, uint64_t *next, unsigned max);
	const char *eal_args; /* ppscan: EAL arguments to store in a resume file, or NULL */
	/* Once a second on this thread, after the status line, with the totals and the seconds
	 * since the last call (NULL: none): a joined scan's checkpoint, the metrics snapshot. */
	void (*second)(void *arg, const struct pps_totals *now, double dt_s);
	void *second_arg;

	/* filled by pps_monitor_loop() */
	double t0;		   /* CLOCK_MONOTONIC seconds at start */
	double done_at;		   /* when sending ended, or < 0 */
	double elapsed_s;	   /* total duration */
	uint64_t written;	   /* results written to sinks */
	int write_error;	   /* first sink error (-errno), 0 if none */
	uint64_t start_ns, end_ns; /* Unix epoch ns */
	enum pps_stop_reason {
		PPS_STOP_DONE = 0,    /* every probe sent */
		PPS_STOP_INTERRUPTED, /* SIGINT / SIGTERM */
		PPS_STOP_MAX_RUNTIME, /* -t */
		PPS_STOP_MAX_RESULTS, /* -N */
	} stop_reason;
	FILE *status_csv;	       /* -u */
	FILE *status_json;	       /* --status-json */
	FILE *metadata_fp;	       /* -m, opened at start, written at the end */
	struct pps_totals last;	       /* totals at the last status tick */
	struct pps_banner_out *banner; /* --banners: the output side (pps_banner.h), or NULL */
	struct pps_ring *resets;       /* --banners: endpoints to reset, to the receive loop */
	uint32_t (*first_len)(const void *arg, uint16_t port_h); /* first payload's bytes */
	const void *first_arg;
	double last_status_t;	       /* when it was written (monotonic s; 0: none yet) */
	/* tcp_synscan over at least --middlebox-ports ports: open ports per address
	 * (pps_hostcount.h), NULL until the first result; addresses marked so far */
	struct pps_hostcount *hosts;
	uint64_t middleboxes;
};

/** pps_stop_reason_name - "done", "interrupted", "max-runtime", "max-results". */
const char *pps_stop_reason_name(enum pps_stop_reason r);

/**
 * pps_monitor_banner_flush - --banners, at the end of the cooldown and before the receive
 * loops stop: every endpoint still waiting for its first data gets its no_data result and
 * its RST (pushed to m->resets), and the call waits until the receive loop has taken every
 * reset, at most @timeout_s seconds. Returns 0, or -ETIMEDOUT (resets left unsent).
 */
int pps_monitor_banner_flush(struct pps_monitor *m, double timeout_s);

/**
 * pps_monitor_loop - runs until the cooldown after the last probe has elapsed (or a second
 * SIGINT). Sleeps 1 ms between rounds; never blocks the RX path (it only pops the ring).
 * Call it after the TX/RX threads have started; stop them when it returns.
 */
void pps_monitor_loop(struct pps_monitor *m);

/**
 * pps_monitor_settle - between two shards of a joined scan (the receive loop stopped):
 * drains the ring into the sinks and polls them until the Redis sink has every result
 * confirmed, for at most @timeout_s. Returns the results still unconfirmed (0: all in).
 */
uint64_t pps_monitor_settle(struct pps_monitor *m, double timeout_s);

/**
 * pps_monitor_finish - after the RX loop has stopped: drains the ring a last time, closes
 * the sinks, prints the summary on stderr, writes the -m metadata file and, when sending was
 * cut short (SIGINT, -t), the resume file. Returns 0, or the first error (-errno).
 */
int pps_monitor_finish(struct pps_monitor *m);

#include "pps_metadata.h"
#include "pps_outputs.h"

#endif /* PPS_MONITOR_H */

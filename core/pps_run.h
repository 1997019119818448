/*
 * pps_run.h - what a running scan's threads share, the same in both backends: the counters of
 * each sender and of the receive loop (written by their owner only, summed by the monitor),
 * where each sender stopped (for the resume file), and the stop flags; plus the glue that
 * hands all of it to the monitor (pps_monitor.h callbacks). The backend keeps only what its
 * device needs. Flags use acquire/release, counters relaxed atomics (pps_stats.h): no locks.
 *
 * Life of a scan: pps_run_init() sets up the scan and the run (checks a resumed position fits);
 * senders loop while !pps_run_stopping() and end with pps_run_sender_done(); the main thread
 * runs pps_monitor_loop() on a monitor set up by pps_run_attach(), then pps_run_stop_rx().
 */
#ifndef PPS_RUN_H
#define PPS_RUN_H

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "pps_monitor.h"
#include "pps_scan.h"
#include "pps_stats.h"

/** Slots of the resets ring (16384 * 128 bytes = 2 MiB): RSTs a second at most, per drain. */
#define PPS_RESETS_RING 16384

struct pps_run {
	struct pps_counters tx_c[PPS_MAX_SENDERS]; /* sender k's, written by it only */
	struct pps_counters rx_c;		   /* the receive loop's */
	uint64_t tx_next[PPS_MAX_SENDERS];	   /* where sender k stopped (resume) */
	unsigned n_tx;				   /* sender threads or lcores */
	struct pps_ring *results;		   /* receive loop -> monitor (owned) */
	struct pps_ring *resets; /* --banners: monitor -> receive loop, endpoints to reset
				    (class no_data, pps_banner_due()); NULL without (owned) */
	_Atomic unsigned tx_running;		   /* senders still sending */
	_Atomic int stop_tx;			   /* SIGINT, -t, -N: stop after the burst */
	_Atomic int tx_done;			   /* every sender has stopped */
	_Atomic int stop_rx;			   /* cooldown over: receive loops return */
	/* The device's dropped-on-receive count (NIC imissed, pcap ps_drop), or NULL. */
	uint64_t (*dev_drops)(void *dev);
	void *dev;
};

/**
 * pps_run_init - sets up scan @s from @cfg (pps_scan_init() with the MACs @src_mac and
 * @dst_mac, framing @with_ethernet), the results ring (cfg->rx_ring results), and @r for
 * cfg->sender_threads senders: each one's starting index (pps_scan_slice(): where a resumed
 * scan left off) and the device drop counter @dev_drops(@dev) (NULL for none). On failure
 * prints one line on @err, releases what it set up and returns -EINVAL (the resume state does
 * not fit this scan: exit 2) or another -errno (exit 1). Undo with pps_run_fini().
 */
int pps_run_init(struct pps_run *r, struct pps_scan *s, const struct pps_config *cfg,
		 const uint8_t src_mac[6], const uint8_t dst_mac[6], int with_ethernet,
		 uint64_t (*dev_drops)(void *dev), void *dev, FILE *err);

/** pps_run_fini - frees the results ring and the scan pps_run_init() set up. */
void pps_run_fini(struct pps_run *r, struct pps_scan *s);

/** pps_run_stopping - a sender's loop condition: 1 once sending is to stop (acquire). */
static inline int pps_run_stopping(struct pps_run *r)
{
	return atomic_load_explicit(&r->stop_tx, memory_order_acquire);
}

/** pps_run_done - 1 once every sender has stopped: results now arrive in the cooldown. */
static inline int pps_run_done(struct pps_run *r)
{
	return atomic_load_explicit(&r->tx_done, memory_order_acquire);
}

/** pps_run_rx_stopping - a receive loop's condition: 1 once the cooldown is over. */
static inline int pps_run_rx_stopping(struct pps_run *r)
{
	return atomic_load_explicit(&r->stop_rx, memory_order_acquire);
}

/** pps_run_stop_tx - asks every sender to stop after its burst (signal-safe). */
static inline void pps_run_stop_tx(struct pps_run *r)
{
	atomic_store(&r->stop_tx, 1);
}

/** pps_run_stop_rx - ends the receive loops (after pps_monitor_loop() returned). */
static inline void pps_run_stop_rx(struct pps_run *r)
{
	atomic_store(&r->stop_rx, 1);
}

/**
 * pps_run_sender_done - sender @k stopped at index @next. Returns 1 if it was the last one
 * (tx_done is then set: the caller may first record its own end time), else 0.
 */
int pps_run_sender_done(struct pps_run *r, unsigned k, uint64_t next);

/**
 * pps_run_catch_signals - SIGINT and SIGTERM from now on count for the monitor (the first
 * stops sending and starts the cooldown, the second ends the scan) and ask @r's senders to
 * stop. One run per process: the handler needs a static pointer to @r.
 */
void pps_run_catch_signals(struct pps_run *r);

/**
 * pps_run_attach - points monitor @m at @r: its results ring, totals (senders + receiver +
 * r->dev_drops), end of sending, stop requests, resume positions and the signal count, and
 * the probes of scan @s this run sends (pps_scan_planned()).
 */
void pps_run_attach(struct pps_run *r, struct pps_monitor *m, const struct pps_scan *s);

/**
 * pps_run_parse - main()'s first step: pps_config_parse() of @argc/@argv (argv[0] the program)
 * for @backend, then --dryrun when asked (the probes on stdout). Returns -1 when the scan is
 * to run (@cfg parsed, the caller's to free), else the exit code with @cfg freed: 0 (--help,
 * --version, --dump-config, a dry run), 2 (bad input: one line on stderr), 1 (a dry run that
 * could not write its output).
 */
int pps_run_parse(struct pps_config *cfg, enum pps_backend backend, int argc, char **argv);

/** pps_run_parse_plan - pps_run_parse() of a --join worker with its plan (pps_config_parse_plan()). */
int pps_run_parse_plan(struct pps_config *cfg, enum pps_backend backend, int argc, char **argv,
		       const char *plan_text);

#endif /* PPS_RUN_H */

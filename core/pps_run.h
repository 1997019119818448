/*
 * pps_run.h - what a running scan's threads share, the same in both backends: the counters of
 * each sender and of the receive loop (written by their owner only, summed by the monitor),
 * where each sender stopped (for the resume file), and the stop flags; plus the glue that
 * hands all of it to the monitor (pps_monitor.h callbacks). The backend keeps only what its
 * device needs. Flags use acquire/release, counters relaxed atomics (pps_stats.h): no locks.
 *
 * Life of a scan: pps_run_init() once the scan is set up (checks a resumed position fits);
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

#define PPS_RUN_MAX_SENDERS 64 /* the -T limit */

struct pps_run {
	struct pps_counters tx_c[PPS_RUN_MAX_SENDERS]; /* sender k's, written by it only */
	struct pps_counters rx_c;		       /* the receive loop's */
	uint64_t tx_next[PPS_RUN_MAX_SENDERS];	       /* where sender k stopped (resume) */
	unsigned n_tx;				       /* sender threads or lcores */
	_Atomic unsigned tx_running;		       /* senders still sending */
	_Atomic int stop_tx;			       /* SIGINT, -t, -N: stop after the burst */
	_Atomic int tx_done;			       /* every sender has stopped */
	_Atomic int stop_rx;			       /* cooldown over: receive loops return */
	/* The device's dropped-on-receive count (NIC imissed, pcap ps_drop), or NULL. */
	uint64_t (*dev_drops)(void *dev);
	void *dev;
};

/**
 * pps_run_init - zeroes @r for @n_tx (1..PPS_RUN_MAX_SENDERS) senders of scan @s, sets each
 * sender's starting index (pps_scan_slice(): where a resumed scan left off) and the device
 * drop counter @dev_drops(@dev) (NULL for none). Returns 0, or -EINVAL after one line on
 * @err when @n_tx is out of range or a resumed position does not fit this scan (exit 2).
 */
int pps_run_init(struct pps_run *r, const struct pps_scan *s, unsigned n_tx,
		 uint64_t (*dev_drops)(void *dev), void *dev, FILE *err);

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
 * pps_run_attach - points monitor @m at @r: totals (senders + receiver + r->dev_drops),
 * end of sending, stop requests, resume positions and the signal count, plus the results
 * ring @results and the probes of scan @s this run sends (pps_scan_planned()).
 */
void pps_run_attach(struct pps_run *r, struct pps_monitor *m, const struct pps_scan *s,
		    struct pps_ring *results);

/**
 * pps_run_dryrun - --dryrun for main(): prints @cfg's probes (pps_scan_dryrun()) to stdout,
 * a failure on stderr, frees @cfg. Returns the exit code (0, or 1 on an I/O error).
 */
int pps_run_dryrun(struct pps_config *cfg);

#endif /* PPS_RUN_H */

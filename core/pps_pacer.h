/*
 * pps_pacer.h - send-rate pacing against a caller-supplied clock (DPDK: TSC ticks; the
 * pcap backend: CLOCK_MONOTONIC ns; tests: a simulated clock). Deadline based, as DPDK's
 * guidance prefers over calibrated spin loops: probe k is due at start + k / rate. After a
 * stall the pacer does not catch up beyond a small credit (5% of a second's probes, at most
 * one burst), so no one-second window exceeds the rate by more than that.
 */
#ifndef PPS_PACER_H
#define PPS_PACER_H

#include <stdint.h>

struct pps_pacer {
	double ticks_per_probe; /* 0 = unlimited */
	double credit_ticks;	/* how far behind the deadline may lag before it is reset */
	double next;		/* deadline of the next probe, in ticks */
};

/**
 * pps_pacer_init - @hz: clock ticks per second (> 0); @rate_pps: probes per second (> 0,
 * fractional allowed; 0 means unlimited); @burst: the largest number of probes the caller
 * sends at once; @now: the current clock value.
 */
void pps_pacer_init(struct pps_pacer *p, uint64_t hz, double rate_pps, unsigned burst,
		    uint64_t now);

/**
 * pps_pacer_take - how many probes (0..@max) may be sent at clock value @now; the caller
 * must send exactly that many (or give back the rest with pps_pacer_return()).
 */
static inline unsigned pps_pacer_take(struct pps_pacer *p, uint64_t now, unsigned max)
{
	double n_d;
	unsigned n;

	if (p->ticks_per_probe <= 0)
		return max;
	if ((double)now < p->next)
		return 0;
	if ((double)now - p->next > p->credit_ticks)
		p->next = (double)now - p->credit_ticks;
	n_d = ((double)now - p->next) / p->ticks_per_probe + 1.0;
	n = n_d >= (double)max ? max : (unsigned)n_d;
	p->next += (double)n * p->ticks_per_probe;
	return n;
}

/**
 * pps_pacer_due_in - clock ticks from @now until @n (>= 1) more probes are due, 0 if they
 * are due already (or the rate is unlimited). Lets a caller sleep until a whole burst can
 * go out in one system call instead of spinning.
 */
static inline uint64_t pps_pacer_due_in(const struct pps_pacer *p, uint64_t now, unsigned n)
{
	double due;

	if (p->ticks_per_probe <= 0 || n == 0)
		return 0;
	due = p->next + (double)(n - 1) * p->ticks_per_probe;
	return (double)now >= due ? 0 : (uint64_t)(due - (double)now);
}

/** pps_pacer_return - gives back @n probes taken but not sent (e.g. a full TX queue). */
static inline void pps_pacer_return(struct pps_pacer *p, unsigned n)
{
	p->next -= (double)n * p->ticks_per_probe;
}

#endif /* PPS_PACER_H */

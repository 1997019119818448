/*
 * pps_clock.h - the clocks every part reads (monitor, sinks, the pcap backend, tests):
 * CLOCK_MONOTONIC for intervals and deadlines, CLOCK_REALTIME for timestamps. One header
 * with no other dependency, so a sink need not include the monitor for a clock.
 */
#ifndef PPS_CLOCK_H
#define PPS_CLOCK_H

#include <stdint.h>
#include <time.h>

#define PPS_NS_PER_S 1000000000ULL

/** pps_monotonic_ns - CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t pps_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * PPS_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/** pps_monotonic_s - CLOCK_MONOTONIC in seconds. */
static inline double pps_monotonic_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/** pps_realtime_ns - CLOCK_REALTIME in Unix epoch nanoseconds. */
static inline uint64_t pps_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * PPS_NS_PER_S + (uint64_t)ts.tv_nsec;
}

#endif /* PPS_CLOCK_H */

/*
 * pps_hostcount.h - open ports counted per address, and the rule that marks an address as a
 * likely middlebox (a firewall or load balancer answering SYNs for every port: LZR, USENIX
 * Security 2021, sec. 4.3; nmap's "tcpwrapped" hosts). Used on the output side of the
 * scanner (tcp_synscan results, pps_monitor.c) and by ppscan-id (its input's open ports),
 * so both mark the same addresses.
 */
#ifndef PPS_HOSTCOUNT_H
#define PPS_HOSTCOUNT_H

#include <stdint.h>

/** Most addresses a table counts (2^24 slots at half load: 128 MiB); beyond, not counted. */
#define PPS_HOSTCOUNT_MAX (1u << 23)

/** Default open ports that mark an address (--middlebox-ports of ppscan and ppscan-id). */
#define PPS_MIDDLEBOX_PORTS 16

/** pps_ip_hash - a 32-bit mix of an address (host order) for tables indexed by address
 * (the finalizer shape of MurmurHash3, constants from Wellons' hash prospector). */
static inline uint32_t pps_ip_hash(uint32_t ip)
{
	ip ^= ip >> 16;
	ip *= 0x7feb352du;
	ip ^= ip >> 15;
	ip *= 0x846ca68bu;
	return ip ^ (ip >> 16);
}

struct pps_hostcount_slot {
	uint32_t ip_h; /* host order */
	uint32_t n;    /* open ports counted; 0 = empty slot */
};

/** An open-addressing table (linear probing), doubled at half full up to PPS_HOSTCOUNT_MAX. */
struct pps_hostcount {
	struct pps_hostcount_slot *slot;
	uint32_t mask, used;
	uint64_t untracked; /* counts refused: the table was at its bound or out of memory */
};

/** pps_hostcount_init - an empty table (1024 slots). 0, or -ENOMEM. */
int pps_hostcount_init(struct pps_hostcount *h);

/** pps_hostcount_add - counts one more open port of @ip_h (host order); returns its count
 * (0 when the address could not be stored: @untracked grows). */
uint32_t pps_hostcount_add(struct pps_hostcount *h, uint32_t ip_h);

/** pps_hostcount_get - the count of @ip_h, 0 when never counted. */
uint32_t pps_hostcount_get(const struct pps_hostcount *h, uint32_t ip_h);

/** pps_hostcount_free - frees the slots (the struct is the caller's); NULL slots are fine. */
void pps_hostcount_free(struct pps_hostcount *h);

/**
 * pps_middlebox - 1 if an address with @open open ports is a likely middlebox: at least
 * @min_ports (--middlebox-ports) of them and, when @probed (ports probed per address) is
 * known (non-zero), more than half of those.
 */
static inline int pps_middlebox(uint32_t open, uint64_t probed, unsigned min_ports)
{
	return open >= min_ports && (!probed || (uint64_t)open * 2 > probed);
}

#endif /* PPS_HOSTCOUNT_H */

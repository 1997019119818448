/*
 * pps_ports.h - the set of target TCP ports, parsed from "22,80,8000-8100".
 */
#ifndef PPS_PORTS_H
#define PPS_PORTS_H

#include <stdint.h>

#define PPS_PORT_NONE 0xffffu

/**
 * A set of ports: a sorted list without duplicates plus a 65536-entry lookup table giving
 * each port's position in the list (PPS_PORT_NONE if absent). 128 KiB + 128 KiB, no heap.
 */
struct pps_ports {
	uint32_t n;	       /* 1 .. 65535 once parsed */
	uint16_t list[65536];  /* host order, ascending */
	uint16_t index[65536]; /* port -> position in list, or PPS_PORT_NONE */
};

/**
 * pps_ports_parse - parses a comma-separated list of ports and inclusive ranges
 * ("22,80,8000-8100"; a range includes its end; duplicates are kept once). Valid ports are
 * 1..65535; 0, 65536, negative numbers, reversed ranges, empty items and trailing junk are
 * rejected. On error returns -EINVAL and writes a short reason naming the bad item into
 * @err (size @errlen); @p is left empty. Returns 0 on success.
 */
int pps_ports_parse(struct pps_ports *p, const char *spec, char *err, unsigned errlen);

/** pps_ports_contains - 1 if @port_h is in the set. */
static inline int pps_ports_contains(const struct pps_ports *p, uint16_t port_h)
{
	return p->index[port_h] != PPS_PORT_NONE;
}

#endif /* PPS_PORTS_H */

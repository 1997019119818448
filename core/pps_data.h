/*
 * pps_data.h - data shipped with ppscan (data/), embedded at build time by
 * scripts/embed_data.py so the binaries need no installed files.
 */
#ifndef PPS_DATA_H
#define PPS_DATA_H

#include <stdint.h>

/** data/blocklist.conf as text: the IANA special-purpose ranges (ZMap's default list). */
extern const char pps_default_blocklist[];

/** data/udp-payloads.conf as text: the udp module's payload per port (probe/pps_udp_payloads.h). */
extern const char pps_udp_payloads_conf[];

/** data/first-payloads.conf as text: --banners' first payload per port (probe/pps_first_payload.h). */
extern const char pps_first_payloads_conf[];

/** data/top-ports.txt: TCP ports, most often open first (Nmap's frequency ranking). */
extern const uint16_t pps_top_ports[];
extern const unsigned pps_top_ports_n;

#endif /* PPS_DATA_H */

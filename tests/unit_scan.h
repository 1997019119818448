/*
 * unit_scan.h - a scan from a command line, for the unit suites that judge probes and
 * responses (header only; Criterion asserts).
 */
#ifndef PPS_UNIT_SCAN_H
#define PPS_UNIT_SCAN_H

#include <criterion/criterion.h>

#include "pps_scan.h"
#include "unit_util.h"

/** ut_scan_from - parses @argv for @backend into @cfg and sets up scan @s (MACs zero). */
static inline void ut_scan_from(struct pps_config *cfg, struct pps_scan *s,
				enum pps_backend backend, char **argv)
{
	static const uint8_t zero_mac[6];
	char *errtext;

	cr_assert_eq(ut_parse_args(cfg, backend, argv, &errtext), PPS_PARSE_OK, "%s", errtext);
	free(errtext);
	cr_assert_eq(pps_scan_init(s, cfg, zero_mac, zero_mac, 1), 0);
}

#endif /* PPS_UNIT_SCAN_H */

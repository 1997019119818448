/*
 * pps_config.h - scan options shared by ppscan (DPDK) and ppscan-pcap: one option table,
 * parsed with getopt_long, validated once; the config is read-only afterwards and passed
 * explicitly (never a global).
 */
#ifndef PPS_CONFIG_H
#define PPS_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "pps_ports.h"
#include "pps_targets.h"
#include "pps_template.h"

#define PPS_VERSION "0.1.0"
#define PPS_MAX_FIELDS 16

/** Which binary is parsing: some options exist for one backend only. */
enum pps_backend {
	PPS_BACKEND_DPDK = 1,
	PPS_BACKEND_PCAP = 2,
};

enum pps_output_format {
	PPS_OUT_CSV = 0,
	PPS_OUT_JSON,
};

struct pps_config {
	enum pps_backend backend;
	const char *prog; /* "ppscan" or "ppscan-pcap", for messages */

	struct pps_targets *targets; /* owned */
	struct pps_ports *ports;     /* owned */
	uint64_t n_probes;	     /* targets->n_addresses * ports->n: the target space */

	uint32_t probes;	 /* -P: SYNs per target (default 1) */
	uint32_t shards;	 /* --shards (default 1) */
	uint32_t shard;		 /* --shard, 0-based */
	uint32_t sender_threads; /* -T: TX threads/lcores (default 1) */

	double rate_pps;	/* probes per second; 0 = as fast as possible */
	uint32_t src_ip_h;	/* -S */
	int have_src_ip;
	uint16_t sport_first_h; /* -s, inclusive */
	uint16_t sport_last_h;
	uint8_t gw_mac[6]; /* -G */
	int have_gw_mac;
	uint32_t gw_ip_h; /* --gateway-ip */
	int have_gw_ip;
	uint8_t src_mac[6]; /* --source-mac */
	int have_src_mac;
	uint8_t ttl;		     /* --probe-ttl */
	enum pps_tcp_options tcpopt; /* --tcp-options */
	uint64_t seed;		     /* --seed, or drawn from getrandom() */
	int seed_given;
	double cooldown_s; /* -c, seconds */

	const char *output_file; /* -o, NULL = stdout */
	enum pps_output_format output_format;
	char output_fields[256]; /* -f, comma-separated */
	int output_closed;	 /* --output-closed */

	const char *iface; /* -i, ppscan-pcap */
	int quiet;	   /* -q: no status line */
	int dryrun;	   /* --dryrun: print probes instead of sending */
	unsigned rx_ring;  /* results ring capacity */
};

/** Parse outcomes. */
#define PPS_PARSE_OK 0
#define PPS_PARSE_EXIT 1 /* --help or --version printed; exit 0 */
#define PPS_PARSE_ERROR 2 /* one error line printed to stderr; exit 2 */

/**
 * pps_config_parse - parses the scan options and TARGETS of @argc/@argv (argv[0] is the
 * program name) into @cfg for @backend. Every value is validated here: on the first bad
 * one, a single line "PROG: VALUE (from OPTION): reason" goes to @err (stderr normally)
 * and PPS_PARSE_ERROR is returned; nothing has been sent. On PPS_PARSE_OK the caller owns
 * cfg->targets and cfg->ports (pps_config_free()).
 */
int pps_config_parse(struct pps_config *cfg, enum pps_backend backend, int argc, char **argv,
		     FILE *err);

/** pps_config_free - frees what pps_config_parse() allocated; @cfg itself is the caller's. */
void pps_config_free(struct pps_config *cfg);

/** pps_config_usage - prints the option summary for @backend to @out. */
void pps_config_usage(enum pps_backend backend, const char *prog, FILE *out);

#endif /* PPS_CONFIG_H */

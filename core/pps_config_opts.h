/*
 * pps_config_opts.h - the option table, shared by the parser (pps_config.c: one handler per
 * option) and the config-file side (pps_config_file.c: -C/--resume keys, --dump-config and
 * resume files write and read the same long names). Internal to core/.
 */
#ifndef PPS_CONFIG_OPTS_H
#define PPS_CONFIG_OPTS_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pps_config.h"

/* getopt values of the options without a short letter */
enum {
	OPT_GATEWAY_IP = 256,
	OPT_SOURCE_MAC,
	OPT_PROBE_TTL,
	OPT_OUTPUT_CLOSED,
	OPT_NO_RST,
	OPT_BANNERS,
	OPT_BANNER_BYTES,
	OPT_SNI,
	OPT_DROP_KERNEL_RST,
	OPT_MIDDLEBOX_PORTS,
	OPT_TCP_OPTIONS,
	OPT_DRYRUN,
	OPT_SHARDS,
	OPT_SHARD,
	OPT_TOP_PORTS,
	OPT_STATUS_JSON,
	OPT_RESUME,
	OPT_RESUME_FILE,
	OPT_RESUME_NEXT,
	OPT_DUMP_CONFIG,
	OPT_EAL,
	OPT_PCAP_BUFFER,
	OPT_SEND_METHOD,
	OPT_REDIS,
	OPT_REDIS_PREFIX,
	OPT_SCAN_ID,
	OPT_REDIS_MAXLEN,
	OPT_REDIS_JOURNAL,
	OPT_REDIS_BUFFER,
	OPT_PROBE_ARGS,
	OPT_LIST_PROBE_MODULES,
	OPT_LIST_OUTPUT_FIELDS,
	OPT_DEDUP_MEMORY,
	OPT_REDIS_KEEP,
	OPT_RESUME_COMPLETE,
	OPT_LIST_OPTIONS,
	OPT_NO_CONFIG,
	OPT_PLAN,
	OPT_JOIN,
	OPT_STATUS,
	OPT_FOLLOW,
	OPT_LEASE,
	OPT_WORKER,
	OPT_METRICS,
};

/** The origin of the arguments a --join worker read from its plan ("plan:LINE"). */
#define PPS_PLAN_ORIGIN "plan"

struct pps_opt;

/**
 * pps_opt_plan_owned - 1 if option @o defines the scan (targets, ports, seed, pace, probe
 * shape...) and so belongs to a plan (--plan) that every worker follows; 0 for what is this
 * machine's own (device, addresses, threads, outputs, Redis connection).
 */
int pps_opt_plan_owned(const struct pps_opt *o);

struct pps_parse;
struct pps_opt;

/* An option's handler: stores @v (the option's value, "true" for a flag) into the config.
 * Returns 0, PPS_PARSE_EXIT (printed, exit 0) or -1 with the message set (pps_parse_bad()). */
typedef int (*pps_opt_set)(struct pps_parse *p, const struct pps_opt *o, const char *v);

/** One option: its getopt entry, who has it, its help, and how its value is stored. */
struct pps_opt {
	struct option lo;
	int backends;	   /* PPS_BACKEND_* bits */
	const char *arg;   /* the value's name in --help ("FILE": made absolute in dumps) */
	const char *help;  /* NULL: a hidden alias or an internal key */
	pps_opt_set set;   /* NULL: handled before the options are parsed (-C, --resume) */
	size_t off;	   /* generic handlers: the field of struct pps_config */
	uint32_t min, max; /* set_uint's bounds */
	const char *what;  /* set_uint's noun: "invalid WHAT 'V' (from OPTION): expected MIN-MAX" */
	int file_key;	   /* 1: may be a key of a -C/--resume file */
	size_t size;	   /* set_uint: bytes of the field */
	double dmin, dmax; /* set_double's bounds */
	const char *expect;	   /* set_double: what the message says is expected */
	const char *const *values; /* set_choice: the words, NULL-terminated (index = value) */
};

extern const struct pps_opt pps_opts[];
extern const size_t pps_n_opts;

/** pps_opt_find - the option with getopt value @val (the first, for an alias), or NULL. */
const struct pps_opt *pps_opt_find(int val);

/**
 * pps_config_expand - expands the -C/--config and --resume files of @argv in front of the
 * command line, as "--key=value" arguments with the origin "FILE:LINE" of each, the files'
 * targets last. Returns 0 with the vector in cfg->file_argv/origin (@argc_out arguments), or
 * -1 after printing one error line on @err.
 */
int pps_config_expand(struct pps_config *cfg, int argc, char **argv, int *argc_out, FILE *err);

#endif /* PPS_CONFIG_OPTS_H */

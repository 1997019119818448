/*
 * pps_config.h - scan options shared by ppscan (DPDK) and ppscan-pcap: one option table
 * (pps_config.c, a handler per option), parsed with getopt_long, validated once; the config
 * is read-only afterwards and passed explicitly (never a global).
 */
#ifndef PPS_CONFIG_H
#define PPS_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "output/pps_redis_url.h"
#include "pps_ports.h"
#include "pps_targets.h"
#include "pps_template.h"

struct pps_probe_ops;

#define PPS_VERSION "0.1.0"

#ifndef PPS_SYSCONFDIR
#define PPS_SYSCONFDIR "/etc" /* meson passes prefix/sysconfdir */
#endif
/** The config file read when no -C is given (PPSCAN_CONFIG in the environment replaces it). */
#define PPS_DEFAULT_CONFIG PPS_SYSCONFDIR "/ppscan/ppscan.conf"
#define PPS_MAX_OPTS 96	   /* entries in the option table */
#define PPS_MAX_SENDERS 64 /* -T limit: sender threads or TX lcores */

/** Which binary is parsing: some options exist for one backend only. */
enum pps_backend {
	PPS_BACKEND_DPDK = 1,
	PPS_BACKEND_PCAP = 2,
};

/** How ppscan-pcap hands probes to the kernel (--send-method). */
enum pps_send_method {
	PPS_SEND_RING = 0, /* AF_PACKET PACKET_TX_RING, one send() a burst */
	PPS_SEND_MMSG,	   /* AF_PACKET sendmmsg(), one call a burst */
	PPS_SEND_INJECT,   /* pcap_inject(), one call a probe */
};

enum pps_output_format {
	PPS_OUT_CSV = 0,
	PPS_OUT_JSON,
};

struct pps_config {
	enum pps_backend backend;
	const char *prog; /* "ppscan" or "ppscan-pcap", for messages */

	struct pps_targets *targets; /* owned: arguments + allowlist + list file - blocklist */
	struct pps_targets *sources; /* owned: -S addresses (one or more) */
	struct pps_ports *ports;     /* owned */
	uint64_t target_space;	     /* targets->n_addresses * ports->n (address x port) */

	uint32_t probes;	 /* -P: SYNs per target (default 1) */
	uint32_t shards;	 /* --shards (default 1) */
	uint32_t shard;		 /* --shard, 0-based */
	uint32_t sender_threads; /* -T: TX threads/lcores (default 1) */

	const struct pps_probe_ops *probe; /* -M/--probe-module (default tcp_synscan) */
	const char *probe_args;		   /* --probe-args: the module's own settings, or NULL */

	double rate_pps;   /* probes per second; 0 = as fast as possible */
	uint32_t src_ip_h; /* -S */
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
	uint8_t dryrun_cols[16]; /* --dryrun with -f: the probe module's dryrun_fields */
	unsigned n_dryrun_cols;	 /* 0: its dryrun_header's */
	int output_closed;	 /* --output-closed */
	int no_rst;		 /* --no-rst: SYN-ACKs are not answered with a RST */
	int banners;		 /* --banners: SYN-ACKs get the port's first payload, the first data
				    segment is recorded (probe/pps_first_payload.h) */
	unsigned banner_bytes;	 /* --banner-bytes: bytes of the first segment kept (1..1460) */
	unsigned middlebox_ports; /* --middlebox-ports: open ports that mark an address (16) */
	const char *sni;	 /* --sni: server_name of the TLS ClientHello, NULL: none */
	int drop_kernel_rst; /* --drop-kernel-rst (ppscan-pcap): nftables drops the host's RSTs */

	const char *iface;    /* -i, ppscan-pcap */
	uint32_t pcap_buffer; /* --pcap-buffer: libpcap receive buffer, bytes (ppscan-pcap) */
	enum pps_send_method send_method; /* --send-method (ppscan-pcap) */
	int quiet;			  /* -q: no status line */
	int dryrun;			  /* --dryrun: print probes instead of sending */
	unsigned rx_ring;		  /* results ring capacity */

	/* target space: lists and blocklists */
	const char *allowlist_file;   /* -w */
	const char *blocklist_file;   /* -b; NULL = the embedded default (data/blocklist.conf) */
	const char *list_of_ips_file; /* -I */
	unsigned top_ports;	      /* --top-ports N; used when no -p is given (default 1000) */
	uint64_t blocked;	      /* addresses the blocklist removed from the targets */

	/* pace and limits */
	double bandwidth_bps;  /* -B, bits per second; sets rate_pps from the frame size */
	uint64_t max_targets;  /* -n, 0 = all; targets (address x port) of the space */
	double max_runtime_s;  /* -t, seconds of sending, 0 = unlimited */
	uint64_t max_results;  /* -N, 0 = unlimited */
	uint64_t dedup_memory; /* --dedup-memory: bytes for dedup (pps_dedup.h) */

	/* machine-readable progress and results */
	const char *status_updates_file; /* -u: CSV, one line a second */
	const char *status_json_file;	 /* --status-json: one JSON object a second */
	const char *metadata_file;	 /* -m: JSON summary at the end */

	/* Redis sink (out_redis.h; keys {prefix}:{scan_id}:results|batches|meta, {prefix}:scans) */
	const char *redis_url;	   /* --redis, syntax checked here; NULL = no Redis */
	const char *redis_prefix;  /* --redis-prefix, default "ppscan" */
	const char *redis_journal; /* --redis-journal; NULL = ./ppscan-<scan_id>.journal */
	uint64_t redis_maxlen;	   /* --redis-maxlen: XADD MAXLEN ~ N; 0 = keep every entry */
	uint32_t redis_buffer;	   /* --redis-buffer: results held in memory during an outage */
	int redis_keep; /* --redis-keep: confirmed results kept on disk until the scan ends */
	char scan_id[PPS_REDIS_KEY_PART_MAX +
		     1]; /* --scan-id, or drawn: YYYYMMDDTHHMMSSZ-xxxxxx (UTC) */
	int scan_id_given;

	/* one scan across machines (pps_plan.h): a plan in Redis, workers that join it */
	int plan;		  /* --plan: write the plan and exit */
	int join;		  /* --join: work on the plan's shards */
	int status;		  /* --status: print the scan's progress and exit */
	int follow;		  /* --follow: with --status, a line a second until done */
	double lease_s;		  /* --lease: a silent worker's shard is taken over after this */
	const char *worker;	  /* --worker: this worker's consumer name (default HOST-PID) */
	const char *plan_text;	  /* --join: the plan's options, read before parsing */
	const char *metrics_addr; /* --metrics ADDR:PORT: Prometheus endpoint (pps_metrics.h) */

	/* resume and config files */
	const char *resume_file;     /* --resume-file: where an interrupted scan saves its state */
	int resuming;		     /* started with --resume */
	const char *resume_path;     /* its file */
	const char *resume_complete; /* "resume-complete" key: when the resumed scan ended */
	uint64_t resume_next[PPS_MAX_SENDERS]; /* per sender thread: next index to send */
	unsigned n_resume_next;
	const char *eal_args; /* "eal" key of a config/resume file (ppscan) */
	int dump_config;      /* --dump-config: print the config and exit */
	int n_target_args;
	const char **target_args;	 /* owned array; strings owned by argv or the file buffer */
	const char *given[PPS_MAX_OPTS]; /* last raw value of each option, for --dump-config */
	const char *plan_given[PPS_MAX_OPTS]; /* --join: each option's value in the plan */
	char **file_argv;		      /* owned: expanded argument vector */
	char **origin;			      /* owned: "FILE:LINE" per expanded argument or NULL */
};

/**
 * pps_config_sources_text - the -S addresses for a message: "198.19.0.2", or the ranges
 * ("198.19.0.2-198.19.0.4,198.19.0.9 (4 addresses)"), cut with "..." to fit @len bytes.
 */
void pps_config_sources_text(const struct pps_config *cfg, char *buf, size_t len);

/** Parse outcomes. */
#define PPS_PARSE_OK 0
#define PPS_PARSE_EXIT 1  /* --help or --version printed; exit 0 */
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

/**
 * pps_parse_u64 - strict unsigned decimal: digits only (no sign, space, hex), at most @max.
 * Returns 0 with the value in @out, or -EINVAL. Shared by every option parser.
 */
int pps_parse_u64(const char *s, uint64_t max, uint64_t *out);

/**
 * pps_parse_double - strict non-negative decimal number (digits, '.', exponent; no sign, hex,
 * inf or nan) within [@lo, @hi]. Returns 0 with the value in @out, or -EINVAL.
 */
int pps_parse_double(const char *s, double lo, double hi, double *out);

/** pps_config_free - frees what pps_config_parse() allocated; @cfg itself is the caller's. */
void pps_config_free(struct pps_config *cfg);

/** pps_config_usage - prints the option summary for @backend to @out. */
void pps_config_usage(enum pps_backend backend, const char *prog, FILE *out);

/**
 * pps_config_list_options - --list-options: the documented options of @backend and the
 * program's summary and synopsis as one JSON object on @out (pps_optdoc_json()); the man
 * page and the bash completion are generated from it. Returns 0 or -errno.
 */
int pps_config_list_options(enum pps_backend backend, FILE *out);

/**
 * pps_config_default_file - the default config file: $PPSCAN_CONFIG when set (empty: none),
 * else PPS_DEFAULT_CONFIG. NULL when there is none to read.
 */
const char *pps_config_default_file(void);

/**
 * pps_config_dump - writes @cfg as a config file ("key = value" lines, keys = long option
 * names) that -C/--config reads back into the same scan: every option given, the seed
 * (also a drawn one) and the targets. Returns 0 or -errno.
 */
int pps_config_dump(const struct pps_config *cfg, FILE *out);

/**
 * pps_config_write_resume - writes a resume file at @path: the config dump, the EAL
 * arguments @eal (ppscan; NULL for none) and the next index of each of the @n sender
 * threads (@next). `PROG --resume PATH` continues the scan. Returns 0 or -errno.
 */
int pps_config_write_resume(const struct pps_config *cfg, const char *path, const char *eal,
			    const uint64_t *next, unsigned n);

/**
 * pps_config_probe_frame_bytes - on-wire size of one probe for -B/--bandwidth: the frame
 * (at least 60 bytes) plus FCS, preamble, start delimiter and inter-frame gap (24 bytes),
 * as ZMap counts it.
 */
/**
 * pps_config_parse_plan - pps_config_parse() for a worker that joins a planned scan
 * (--join): @plan_text (the plan's options in -C's "key = value" form, read from Redis by
 * pps_plan_fetch(); kept by pointer) is read before the command line, with the origin
 * "plan:LINE", and an option of the scan (pps_opt_plan_owned()) that the command line gives
 * again must have the plan's value: else one line names it and PPS_PARSE_ERROR is returned.
 * @plan_text NULL is pps_config_parse().
 */
int pps_config_parse_plan(struct pps_config *cfg, enum pps_backend backend, int argc, char **argv,
			  const char *plan_text, FILE *err);

unsigned pps_config_probe_frame_bytes(const struct pps_config *cfg);

#endif /* PPS_CONFIG_H */

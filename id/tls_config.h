/*
 * tls_config.h - options of ppscan-tls (the TLS identification stage): one getopt_long table,
 * every value validated once; the config is read-only afterwards and passed explicitly.
 */
#ifndef PPS_TLS_CONFIG_H
#define PPS_TLS_CONFIG_H

#include <stdio.h>

struct pps_ports;
struct pps_targets;

/** Parse outcomes (the same as pps_config_parse()). */
#define TLS_PARSE_OK 0
#define TLS_PARSE_EXIT 1  /* --help or --version printed; exit 0 */
#define TLS_PARSE_ERROR 2 /* one error line printed; exit 2 */

#define TLS_BANNER_MAX 1024 /* bytes, upper bound of --banner-bytes */

struct tls_config {
	const char *input;  /* FILE operand; NULL = stdin, or the Redis stream with --redis */
	const char *output; /* -o: NDJSON file (appended), NULL or "-" = stdout */

	unsigned concurrency; /* -c: connections in flight (default 1000) */
	unsigned per_host;    /* --per-host: in flight per IPv4 address (default 4; 0 = no cap) */
	double rate;	      /* -r: new connections per second (default 1000; 0 = no limit) */
	double connect_timeout_s; /* --connect-timeout: SYN to established, seconds (default 5) */
	double timeout_s;	  /* -t: established to handshake done, seconds (default 5) */

	const char *sni;	       /* --sni: server name sent, NULL = none */
	unsigned char alpn_wire[256];  /* --alpn in wire format (length-prefixed names) */
	unsigned alpn_len;	       /* 0 = offer no ALPN */
	int versions;		       /* --versions: one extra handshake per TLS version */
	const char *ca_file;	       /* --ca-file: trust these CAs instead of the system store */
	unsigned banner_bytes;	       /* --banner-bytes: plaintext bytes recorded (default 64) */
	struct pps_ports *ports;       /* -p: only these ports (owned), NULL = every port */
	struct pps_targets *blocklist; /* -b: never connect to these (owned); default: the
					* scanner's, the IANA special-purpose ranges */

	const char *redis_url;	  /* --redis: redis://[:pw@]host[:port][/db] or unix:///path */
	const char *redis_prefix; /* --redis-prefix (default "ppscan") */
	const char *scan_id;	  /* --scan-id: {prefix}:{scan}:results is followed */
	const char *group;	  /* --group (default "ppscan-tls") */
	char consumer[128];	  /* --consumer (default: the host name) */
	double follow_timeout_s; /* --follow-timeout: stop after this long without an entry; 0 = off */

	int quiet; /* -q: no summary on stderr */

	/* ppscan-id only (rejected by ppscan-tls) */
	int id_mode;		      /* the program is ppscan-id (argv[0]) */
	const char *prog;	      /* "ppscan-id" or "ppscan-tls", for messages */
	double greeting_wait_s;	      /* --greeting-wait: silence before client-first (default 2) */
	unsigned max_handshakes;      /* --max-handshakes: client-first handshakes (default 5) */
	const char *fingerprints_dir; /* --fingerprints: more *.conf files, after the built-in */
	unsigned middlebox_ports;     /* --middlebox-ports: open ports that mark an address (16) */
	int list_modules;	      /* --list-modules: print the modules and exit */
};

/** tls_prog_name - "ppscan-id" or "ppscan-tls" (set by tls_config_parse), for messages. */
extern const char *tls_prog_name;

/**
 * tls_config_parse - parses @argc/@argv (argv[0] is the program name) into @cfg. On the first
 * bad value one line "ppscan-tls: invalid WHAT 'VALUE' (from OPTION): reason" goes to @err and
 * TLS_PARSE_ERROR is returned. On TLS_PARSE_OK the caller frees with tls_config_free(). Strings
 * in @cfg point into @argv.
 */
int tls_config_parse(struct tls_config *cfg, int argc, char **argv, FILE *err);

/** tls_config_free - frees what tls_config_parse() allocated (port filter, blocklist). */
void tls_config_free(struct tls_config *cfg);

/** tls_config_usage - prints the option summary to @out. */
void tls_config_usage(FILE *out);

/**
 * tls_alpn_encode - turns "h2,http/1.1" into ALPN wire format (RFC 7301: each name prefixed
 * by its length) in @out (@cap bytes). "" or "none" gives length 0. Returns the length, or
 * -EINVAL for an empty or over-long (> 255 bytes) name or a result larger than @cap.
 */
int tls_alpn_encode(const char *list, unsigned char *out, unsigned cap);

#endif /* PPS_TLS_CONFIG_H */

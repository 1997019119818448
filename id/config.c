/*
 * Option table and validation of ppscan-tls. Every value is checked here, before any input is
 * read or any connection made; a bad one gives a single line naming the value and the option.
 */
#include "tls_config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output/pps_redis_url.h"
#include "pps_cidrfile.h"
#include "pps_config.h"
#include "pps_config.h"
#include "pps_data.h"
#include "pps_ports.h"
#include "pps_targets.h"

enum {
	OPT_PER_HOST = 256,
	OPT_CONNECT_TIMEOUT,
	OPT_SNI,
	OPT_ALPN,
	OPT_VERSIONS,
	OPT_CA_FILE,
	OPT_BANNER_BYTES,
	OPT_REDIS,
	OPT_REDIS_PREFIX,
	OPT_SCAN_ID,
	OPT_GROUP,
	OPT_CONSUMER,
	OPT_FOLLOW_TIMEOUT,
	OPT_GREETING_WAIT, /* ppscan-id only from here */
	OPT_MAX_HANDSHAKES,
	OPT_FINGERPRINTS,
	OPT_MIDDLEBOX_PORTS,
	OPT_LIST_MODULES,
};

static const char *prog = "ppscan-tls";
const char *tls_prog_name = "ppscan-tls";
static int id_mode;

struct opt_desc {
	struct option lo;
	const char *arg;
	const char *help;
};

static const struct opt_desc opts[] = {
	{ { "output-file", required_argument, NULL, 'o' },
	  "FILE",
	  "NDJSON records to FILE (appended; default stdout)" },
	{ { "concurrency", required_argument, NULL, 'c' },
	  "N",
	  "connections in flight, 1-1000000 (default 1000)" },
	{ { "per-host", required_argument, NULL, OPT_PER_HOST },
	  "N",
	  "connections in flight per address (default 4; 0 = no cap)" },
	{ { "rate", required_argument, NULL, 'r' },
	  "N",
	  "new connections per second, fractional allowed (default 1000; 0 = no limit)" },
	{ { "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
	  "SECS",
	  "TCP connect timeout (default 5)" },
	{ { "timeout", required_argument, NULL, 't' },
	  "SECS",
	  "handshake timeout, from connect to the server's Finished (default 5)" },
	{ { "ports", required_argument, NULL, 'p' },
	  "PORTS",
	  "only these ports of the input, e.g. 443,8443-8449 (default all)" },
	{ { "blocklist-file", required_argument, NULL, 'b' },
	  "FILE",
	  "never connect to the addresses and CIDR blocks in FILE (default: the IANA "
	  "special-purpose ranges, as ppscan)" },
	{ { "sni", required_argument, NULL, OPT_SNI },
	  "NAME",
	  "server name to send (default none)" },
	{ { "alpn", required_argument, NULL, OPT_ALPN },
	  "LIST",
	  "ALPN protocols offered (default h2,http/1.1; none = offer none)" },
	{ { "versions", no_argument, NULL, OPT_VERSIONS },
	  NULL,
	  "also probe TLS 1.0, 1.1, 1.2 and 1.3 one handshake each" },
	{ { "ca-file", required_argument, NULL, OPT_CA_FILE },
	  "FILE",
	  "verify against the CAs in FILE (PEM) instead of the system trust store" },
	{ { "banner-bytes", required_argument, NULL, OPT_BANNER_BYTES },
	  "N",
	  "bytes of a plaintext greeting recorded, 1-1024 (default 64)" },
	{ { "redis", required_argument, NULL, OPT_REDIS },
	  "URL",
	  "redis://[[user]:password@]host[:port][/db] or unix:///path: follow the scan's results "
	  "stream (unless FILE is given), write records to {prefix}:{scan}:tls" },
	{ { "redis-prefix", required_argument, NULL, OPT_REDIS_PREFIX },
	  "P",
	  "key prefix (default ppscan)" },
	{ { "scan-id", required_argument, NULL, OPT_SCAN_ID }, "ID", "scan whose keys are used" },
	{ { "group", required_argument, NULL, OPT_GROUP },
	  "NAME",
	  "consumer group on the results stream (default ppscan-tls)" },
	{ { "consumer", required_argument, NULL, OPT_CONSUMER },
	  "NAME",
	  "consumer name in the group (default the host name); a restart with the same name resumes" },
	{ { "follow-timeout", required_argument, NULL, OPT_FOLLOW_TIMEOUT },
	  "SECS",
	  "stop following after SECS without a new entry (default 0: until the scan is done)" },
	{ { "greeting-wait", required_argument, NULL, OPT_GREETING_WAIT },
	  "SECS",
	  "ppscan-id: silence after connect before client-first handshakes (default 2)" },
	{ { "max-handshakes", required_argument, NULL, OPT_MAX_HANDSHAKES },
	  "N",
	  "ppscan-id: client-first handshakes per endpoint, 1-64 (default 5)" },
	{ { "fingerprints", required_argument, NULL, OPT_FINGERPRINTS },
	  "DIR",
	  "ppscan-id: also load DIR/*.conf fingerprints (after the built-in ones)" },
	{ { "middlebox-ports", required_argument, NULL, OPT_MIDDLEBOX_PORTS },
	  "N",
	  "ppscan-id: an address with N or more open ports (and most of the scan's) is marked "
	  "a likely middlebox, 2-65536 (default 16)" },
	{ { "list-modules", no_argument, NULL, OPT_LIST_MODULES },
	  NULL,
	  "ppscan-id: list the protocol modules and exit" },
	{ { "quiet", no_argument, NULL, 'q' }, NULL, "no summary on stderr" },
	{ { "help", no_argument, NULL, 'h' }, NULL, "this help" },
	{ { "version", no_argument, NULL, 'V' }, NULL, "print the version" },
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

void tls_config_usage(FILE *out)
{
	if (id_mode)
		fprintf(out,
			"Usage: %s [options] [FILE]\n"
			"Names the protocol, product and version behind the open ports of a ppscan result:\n"
			"FILE or stdin (\"-\"), CSV with a header (saddr,sport[,classification]) or NDJSON,\n"
			"or with --redis the scan's stream. One NDJSON record per endpoint.\n\nOptions:\n",
			prog);
	else
		fprintf(out,
			"Usage: %s [options] [FILE]\n"
			"TLS handshakes with the open ports of a ppscan result: FILE or stdin (\"-\"), CSV with a\n"
			"header (saddr,sport[,classification]) or NDJSON, or with --redis the scan's stream.\n"
			"One NDJSON record per endpoint.\n\nOptions:\n",
			prog);
	for (size_t i = 0; i < N_OPTS; i++) {
		char left[64];
		const struct option *lo = &opts[i].lo;

		if (!id_mode && lo->val >= OPT_GREETING_WAIT && lo->val < 'A')
			continue;

		if (lo->val < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", lo->val, lo->name,
				 opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", lo->name,
				 opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
		fprintf(out, "  %-28s %s\n", left, opts[i].help);
	}
}

static int parse_uint(const char *s, unsigned long max, unsigned *out)
{
	uint64_t v;

	if (pps_parse_u64(s, max, &v))
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

int tls_alpn_encode(const char *list, unsigned char *out, unsigned cap)
{
	unsigned len = 0;
	const char *p = list;

	if (!*list || !strcmp(list, "none"))
		return 0;
	for (;;) {
		size_t n = strcspn(p, ",");

		if (n == 0 || n > 255 || len + 1 + n > cap)
			return -EINVAL;
		out[len++] = (unsigned char)n;
		memcpy(out + len, p, n);
		len += (unsigned)n;
		if (!p[n])
			break;
		p += n + 1;
	}
	return (int)len;
}

#define BAD(...)                                                                                   \
	do {                                                                                       \
		fprintf(err, "%s: ", prog);                                                        \
		fprintf(err, __VA_ARGS__);                                                         \
		fputc('\n', err);                                                                  \
		return TLS_PARSE_ERROR;                                                            \
	} while (0)

int tls_config_parse(struct tls_config *cfg, int argc, char **argv, FILE *err)
{
	struct option lopts[N_OPTS + 1];
	char why[256];
	int c, li;

	const char *base = argc > 0 && argv[0] ? strrchr(argv[0], '/') : NULL;

	base = base ? base + 1 : (argc > 0 && argv[0] ? argv[0] : "");
	id_mode = !strncmp(base, "ppscan-id", 9);
	prog = id_mode ? "ppscan-id" : "ppscan-tls";
	tls_prog_name = prog;
	memset(cfg, 0, sizeof(*cfg));
	cfg->id_mode = id_mode;
	cfg->prog = prog;
	cfg->greeting_wait_s = 2;
	cfg->max_handshakes = 5;
	cfg->middlebox_ports = 16;
	cfg->concurrency = 1000;
	cfg->per_host = 4;
	cfg->rate = 1000;
	cfg->connect_timeout_s = 5;
	cfg->timeout_s = 5;
	cfg->banner_bytes = 64;
	cfg->redis_prefix = "ppscan";
	cfg->group = prog;
	cfg->alpn_len =
		(unsigned)tls_alpn_encode("h2,http/1.1", cfg->alpn_wire, sizeof(cfg->alpn_wire));
	if (gethostname(cfg->consumer, sizeof(cfg->consumer) - 1) || !cfg->consumer[0])
		snprintf(cfg->consumer, sizeof(cfg->consumer), "%s", prog);

	for (size_t i = 0; i < N_OPTS; i++)
		lopts[i] = opts[i].lo;
	memset(&lopts[N_OPTS], 0, sizeof(lopts[0]));

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:c:r:t:p:b:qhV", lopts, &li)) != -1) {
		/* the option as the user wrote it, for messages */
		const char *name = argv[optind - 1];
		char optname[64];

		if (c != '?' && c != ':') {
			if (optarg && name == optarg && optind >= 2)
				name = argv[optind - 2];
			if (!strncmp(name, "--", 2))
				snprintf(optname, sizeof(optname), "%.*s", (int)strcspn(name, "="),
					 name);
			else
				snprintf(optname, sizeof(optname), "-%c", c);
		}
		if (!id_mode && c >= OPT_GREETING_WAIT && c <= OPT_LIST_MODULES)
			BAD("unknown option '%s' (see --help)", optname);
		switch (c) {
		case 'o': cfg->output = optarg; break;
		case 'c':
			if (parse_uint(optarg, 1000000, &cfg->concurrency) || !cfg->concurrency)
				BAD("invalid concurrency '%s' (from %s): expected 1-1000000",
				    optarg, optname);
			break;
		case OPT_PER_HOST:
			if (parse_uint(optarg, 1000000, &cfg->per_host))
				BAD("invalid per-host cap '%s' (from %s): expected 0-1000000",
				    optarg, optname);
			break;
		case 'r':
			if (pps_parse_double(optarg, 0, 1e7, &cfg->rate))
				BAD("invalid rate '%s' (from %s): expected connections per second, 0 to 1e7",
				    optarg, optname);
			break;
		case OPT_CONNECT_TIMEOUT:
			if (pps_parse_double(optarg, 0.001, 3600, &cfg->connect_timeout_s))
				BAD("invalid timeout '%s' (from %s): expected seconds, 0.001 to 3600",
				    optarg, optname);
			break;
		case 't':
			if (pps_parse_double(optarg, 0.001, 3600, &cfg->timeout_s))
				BAD("invalid timeout '%s' (from %s): expected seconds, 0.001 to 3600",
				    optarg, optname);
			break;
		case 'p':
			free(cfg->ports);
			cfg->ports = malloc(sizeof(*cfg->ports));
			if (!cfg->ports)
				BAD("out of memory");
			if (pps_ports_parse(cfg->ports, optarg, why, sizeof(why)))
				BAD("invalid ports '%s' (from %s): %s", optarg, optname, why);
			break;
		case 'b':
			pps_targets_free(cfg->blocklist);
			cfg->blocklist = pps_targets_new();
			if (!cfg->blocklist)
				BAD("out of memory");
			if (pps_cidr_load_file(cfg->blocklist, optarg, 0, why, sizeof(why)) ||
			    pps_targets_finalize(cfg->blocklist))
				BAD("invalid blocklist '%s' (from %s): %s", optarg, optname, why);
			break;
		case OPT_SNI:
			if (!*optarg || strlen(optarg) > 253 ||
			    strspn(optarg,
				   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") !=
				    strlen(optarg))
				BAD("invalid server name '%s' (from %s): expected a DNS name",
				    optarg, optname);
			cfg->sni = optarg;
			break;
		case OPT_ALPN: {
			int n = tls_alpn_encode(optarg, cfg->alpn_wire, sizeof(cfg->alpn_wire));

			if (n < 0)
				BAD("invalid ALPN list '%s' (from %s): expected names separated by commas, e.g. h2,http/1.1",
				    optarg, optname);
			cfg->alpn_len = (unsigned)n;
			break;
		}
		case OPT_VERSIONS: cfg->versions = 1; break;
		case OPT_CA_FILE:
			if (access(optarg, R_OK))
				BAD("invalid CA file '%s' (from %s): %s", optarg, optname,
				    strerror(errno));
			cfg->ca_file = optarg;
			break;
		case OPT_BANNER_BYTES:
			if (parse_uint(optarg, TLS_BANNER_MAX, &cfg->banner_bytes) ||
			    !cfg->banner_bytes)
				BAD("invalid byte count '%s' (from %s): expected 1-%d", optarg,
				    optname, TLS_BANNER_MAX);
			break;
		case OPT_REDIS: {
			struct pps_redis_url u;
			char masked[512];

			if (pps_redis_url_parse(optarg, &u, why, sizeof(why))) {
				pps_redis_url_mask(optarg, masked, sizeof(masked));
				BAD("invalid Redis URL '%s' (from %s): %s", masked, optname, why);
			}
			cfg->redis_url = optarg;
			break;
		}
		case OPT_REDIS_PREFIX:
			if (pps_redis_key_part_check(optarg, why, sizeof(why)))
				BAD("invalid key prefix '%s' (from %s): %s", optarg, optname, why);
			cfg->redis_prefix = optarg;
			break;
		case OPT_SCAN_ID:
			if (pps_redis_key_part_check(optarg, why, sizeof(why)))
				BAD("invalid scan id '%s' (from %s): %s", optarg, optname, why);
			cfg->scan_id = optarg;
			break;
		case OPT_GROUP:
			if (pps_redis_key_part_check(optarg, why, sizeof(why)))
				BAD("invalid group name '%s' (from %s): %s", optarg, optname, why);
			cfg->group = optarg;
			break;
		case OPT_CONSUMER:
			if (pps_redis_key_part_check(optarg, why, sizeof(why)))
				BAD("invalid consumer name '%s' (from %s): %s", optarg, optname,
				    why);
			snprintf(cfg->consumer, sizeof(cfg->consumer), "%s", optarg);
			break;
		case OPT_FOLLOW_TIMEOUT:
			if (pps_parse_double(optarg, 0, 1e6, &cfg->follow_timeout_s))
				BAD("invalid timeout '%s' (from %s): expected seconds, 0 to 1e6",
				    optarg, optname);
			break;
		case OPT_GREETING_WAIT:
			if (pps_parse_double(optarg, 0, 3600, &cfg->greeting_wait_s))
				BAD("invalid greeting wait '%s' (from %s): expected seconds, 0 to 3600",
				    optarg, optname);
			break;
		case OPT_MAX_HANDSHAKES:
			if (parse_uint(optarg, 64, &cfg->max_handshakes) || !cfg->max_handshakes)
				BAD("invalid handshake count '%s' (from %s): expected 1-64", optarg,
				    optname);
			break;
		case OPT_FINGERPRINTS:
			if (access(optarg, R_OK | X_OK))
				BAD("invalid fingerprint directory '%s' (from %s): %s", optarg,
				    optname, strerror(errno));
			cfg->fingerprints_dir = optarg;
			break;
		case OPT_MIDDLEBOX_PORTS:
			if (parse_uint(optarg, 65536, &cfg->middlebox_ports) ||
			    cfg->middlebox_ports < 2)
				BAD("invalid port count '%s' (from %s): expected 2-65536", optarg,
				    optname);
			break;
		case OPT_LIST_MODULES: cfg->list_modules = 1; break;
		case 'q': cfg->quiet = 1; break;
		case 'h': tls_config_usage(stdout); return TLS_PARSE_EXIT;
		case 'V': printf("%s %s\n", prog, PPS_VERSION); return TLS_PARSE_EXIT;
		case ':': BAD("option '%s' needs a value", argv[optind - 1]);
		default: BAD("unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (!cfg->blocklist) {
		cfg->blocklist = pps_targets_new();
		if (!cfg->blocklist ||
		    pps_cidr_parse_buf(cfg->blocklist, pps_default_blocklist,
				       strlen(pps_default_blocklist), "default blocklist", 0, why,
				       sizeof(why)) ||
		    pps_targets_finalize(cfg->blocklist))
			BAD("cannot load the default blocklist: %s", why);
	}
	if (optind < argc)
		cfg->input = argv[optind++];
	if (optind < argc)
		BAD("unexpected argument '%s': give at most one input FILE", argv[optind]);
	if (cfg->input && strcmp(cfg->input, "-") && access(cfg->input, R_OK))
		BAD("cannot read input '%s' (from FILE): %s", cfg->input, strerror(errno));
	if (cfg->redis_url && !cfg->scan_id)
		BAD("option '--redis' needs '--scan-id ID' (the scan whose keys are used)");
	if (!cfg->redis_url && cfg->scan_id)
		BAD("option '--scan-id' given without '--redis URL'");
	return TLS_PARSE_OK;
}

void tls_config_free(struct tls_config *cfg)
{
	free(cfg->ports);
	cfg->ports = NULL;
	pps_targets_free(cfg->blocklist);
	cfg->blocklist = NULL;
}

/*
 * Option table and validation. Names follow ZMap where ZMap has the option (-p, -r, -S, -s,
 * -G, -c, -o, -O, -f, --seed, --dryrun, --probe-ttl), so users' muscle memory works.
 */
#include "pps_config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "pps_arp.h"
#include "output/pps_output.h"

enum {
	OPT_GATEWAY_IP = 256,
	OPT_SOURCE_MAC,
	OPT_PROBE_TTL,
	OPT_SEED,
	OPT_OUTPUT_CLOSED,
	OPT_TCP_OPTIONS,
	OPT_DRYRUN,
	OPT_SHARDS,
	OPT_SHARD,
};

#define BOTH (PPS_BACKEND_DPDK | PPS_BACKEND_PCAP)

struct opt_desc {
	struct option lo;
	int backends;
	const char *arg;
	const char *help;
};

static const struct opt_desc opts[] = {
	{ { "target-ports", required_argument, NULL, 'p' }, BOTH, "PORTS",
	  "ports to probe: list and ranges, e.g. 22,80,8000-8100" },
	{ { "rate", required_argument, NULL, 'r' }, BOTH, "PPS",
	  "send rate in probes per second (default 10000; 0 = no limit)" },
	{ { "source-ip", required_argument, NULL, 'S' }, BOTH, "IP", "source address of probes" },
	{ { "source-port", required_argument, NULL, 's' }, BOTH, "FIRST-LAST",
	  "source port range (default 32768-61000)" },
	{ { "gateway-mac", required_argument, NULL, 'G' }, BOTH, "MAC",
	  "next hop's MAC address (skips ARP)" },
	{ { "gateway-ip", required_argument, NULL, OPT_GATEWAY_IP }, BOTH, "IP",
	  "next hop's address, resolved with ARP" },
	{ { "source-mac", required_argument, NULL, OPT_SOURCE_MAC }, BOTH, "MAC",
	  "source MAC (default: the port's own)" },
	{ { "interface", required_argument, NULL, 'i' }, PPS_BACKEND_PCAP, "IFACE",
	  "network interface to scan from" },
	{ { "probe-ttl", required_argument, NULL, OPT_PROBE_TTL }, BOTH, "TTL",
	  "IP TTL of probes, 1-255 (default 64)" },
	{ { "tcp-options", required_argument, NULL, OPT_TCP_OPTIONS }, BOTH, "PRESET",
	  "SYN options: smallest|windows|linux|bsd (default smallest: MSS only)" },
	{ { "seed", required_argument, NULL, 'e' }, BOTH, "N",
	  "64-bit seed for the probe order and SYN cookies (default: random, reported)" },
	{ { "cooldown", required_argument, NULL, 'c' }, BOTH, "SECS",
	  "seconds to wait for responses after the last probe (default 8)" },
	{ { "cooldown-time", required_argument, NULL, 'c' }, BOTH, NULL, NULL }, /* ZMap's name */
	{ { "output-file", required_argument, NULL, 'o' }, BOTH, "FILE",
	  "write results to FILE (default: stdout)" },
	{ { "output-module", required_argument, NULL, 'O' }, BOTH, "FORMAT",
	  "csv or json (one JSON object a line)" },
	{ { "output-fields", required_argument, NULL, 'f' }, BOTH, "FIELDS",
	  "comma-separated fields (default saddr,sport,classification)" },
	{ { "output-closed", no_argument, NULL, OPT_OUTPUT_CLOSED }, BOTH, NULL,
	  "also report closed ports (RST responses)" },
	{ { "probes", required_argument, NULL, 'P' }, BOTH, "N",
	  "SYNs per target, spread over N passes (default 1)" },
	{ { "shards", required_argument, NULL, OPT_SHARDS }, BOTH, "N",
	  "split the scan into N shards (needs --seed)" },
	{ { "shard", required_argument, NULL, OPT_SHARD }, BOTH, "I",
	  "which shard this run sends, 0-based" },
	{ { "sender-threads", required_argument, NULL, 'T' }, BOTH, "N",
	  "TX threads (ppscan: defaults to one TX lcore)" },
	{ { "quiet", no_argument, NULL, 'q' }, BOTH, NULL, "no status line" },
	{ { "dryrun", no_argument, NULL, OPT_DRYRUN }, BOTH, NULL,
	  "print each probe instead of sending it (no device needed)" },
	{ { "help", no_argument, NULL, 'h' }, BOTH, NULL, "this help" },
	{ { "version", no_argument, NULL, 'V' }, BOTH, NULL, "print the version" },
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

void pps_config_usage(enum pps_backend backend, const char *prog, FILE *out)
{
	if (backend == PPS_BACKEND_DPDK)
		fprintf(out, "usage: %s [EAL options] -- [options] TARGET...\n", prog);
	else
		fprintf(out, "usage: %s -i IFACE [options] TARGET...\n", prog);
	fprintf(out, "TARGET: an IPv4 address or CIDR block (a.b.c.d/len)\n\noptions:\n");
	for (size_t i = 0; i < N_OPTS; i++) {
		char left[64];
		const struct opt_desc *d = &opts[i];

		if (!(d->backends & backend) || !d->help)
			continue;
		if (d->lo.val < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", d->lo.val, d->lo.name,
				 d->arg ? " " : "", d->arg ? d->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", d->lo.name, d->arg ? " " : "",
				 d->arg ? d->arg : "");
		fprintf(out, "  %-32s %s\n", left, d->help);
	}
}

static const char *opt_label(int val, char *buf, size_t len)
{
	for (size_t i = 0; i < N_OPTS; i++) {
		if (opts[i].lo.val != val)
			continue;
		if (val < 256)
			snprintf(buf, len, "-%c/--%s", val, opts[i].lo.name);
		else
			snprintf(buf, len, "--%s", opts[i].lo.name);
		return buf;
	}
	snprintf(buf, len, "option");
	return buf;
}

/* Strict number parsers: the whole string must be consumed. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	if (!s || !*s || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_sport_range(const char *s, uint16_t *first, uint16_t *last)
{
	char buf[32];
	char *dash;
	uint64_t a, b;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (dash) {
		*dash = '\0';
		if (parse_u64(buf, 65535, &a) || parse_u64(dash + 1, 65535, &b))
			return -EINVAL;
	} else {
		if (parse_u64(buf, 65535, &a))
			return -EINVAL;
		b = a;
	}
	if (a < 1 || b < a)
		return -EINVAL;
	*first = (uint16_t)a;
	*last = (uint16_t)b;
	return 0;
}

void pps_config_free(struct pps_config *cfg)
{
	pps_targets_free(cfg->targets);
	cfg->targets = NULL;
	free(cfg->ports);
	cfg->ports = NULL;
}

#define BAD(...)                                                                                   \
	do {                                                                                       \
		fprintf(err, "%s: ", cfg->prog);                                                   \
		fprintf(err, __VA_ARGS__);                                                         \
		fputc('\n', err);                                                                  \
		goto fail;                                                                         \
	} while (0)

int pps_config_parse(struct pps_config *cfg, enum pps_backend backend, int argc, char **argv,
		     FILE *err)
{
	struct option longopts[N_OPTS + 1];
	char shortopts[2 * N_OPTS + 2];
	char label[64], why[128];
	const char *ports_spec = NULL;
	size_t ns = 0, nl = 0;
	int c;

	memset(cfg, 0, sizeof(*cfg));
	cfg->backend = backend;
	cfg->prog = backend == PPS_BACKEND_DPDK ? "ppscan" : "ppscan-pcap";
	cfg->rate_pps = 10000;
	cfg->sport_first_h = 32768;
	cfg->sport_last_h = 61000;
	cfg->ttl = 64;
	cfg->tcpopt = PPS_TCPOPT_SMALLEST;
	cfg->cooldown_s = 8;
	cfg->output_format = PPS_OUT_CSV;
	snprintf(cfg->output_fields, sizeof(cfg->output_fields), "saddr,sport,classification");
	cfg->rx_ring = 1u << 16;
	cfg->probes = 1;
	cfg->shards = 1;
	cfg->sender_threads = 1;

	shortopts[ns++] = ':';
	for (size_t i = 0; i < N_OPTS; i++) {
		if (!(opts[i].backends & backend))
			continue;
		longopts[nl++] = opts[i].lo;
		if (opts[i].lo.val < 256) {
			shortopts[ns++] = (char)opts[i].lo.val;
			if (opts[i].lo.has_arg == required_argument)
				shortopts[ns++] = ':';
		}
	}
	shortopts[ns] = '\0';
	memset(&longopts[nl], 0, sizeof(longopts[nl]));

	opterr = 0;
	optind = 0; /* full reinitialisation (GNU), so tests may parse repeatedly */
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		uint64_t u;

		switch (c) {
		case 'p':
			ports_spec = optarg;
			break;
		case 'r':
			if (parse_double(optarg, 0, 1e10, &cfg->rate_pps))
				BAD("invalid rate '%s' (from %s): expected a number of probes per second, 0 to 1e10",
				    optarg, opt_label(c, label, sizeof(label)));
			break;
		case 'S':
			if (pps_parse_ipv4(optarg, &cfg->src_ip_h))
				BAD("invalid address '%s' (from %s): expected a.b.c.d", optarg,
				    opt_label(c, label, sizeof(label)));
			cfg->have_src_ip = 1;
			break;
		case 's':
			if (parse_sport_range(optarg, &cfg->sport_first_h, &cfg->sport_last_h))
				BAD("invalid source port range '%s' (from %s): expected FIRST-LAST within 1-65535",
				    optarg, opt_label(c, label, sizeof(label)));
			break;
		case 'G':
			if (pps_parse_mac(optarg, cfg->gw_mac))
				BAD("invalid MAC address '%s' (from %s): expected aa:bb:cc:dd:ee:ff",
				    optarg, opt_label(c, label, sizeof(label)));
			cfg->have_gw_mac = 1;
			break;
		case OPT_SOURCE_MAC:
			if (pps_parse_mac(optarg, cfg->src_mac))
				BAD("invalid MAC address '%s' (from %s): expected aa:bb:cc:dd:ee:ff",
				    optarg, opt_label(c, label, sizeof(label)));
			cfg->have_src_mac = 1;
			break;
		case OPT_GATEWAY_IP:
			if (pps_parse_ipv4(optarg, &cfg->gw_ip_h))
				BAD("invalid address '%s' (from %s): expected a.b.c.d", optarg,
				    opt_label(c, label, sizeof(label)));
			cfg->have_gw_ip = 1;
			break;
		case 'i':
			if (!*optarg)
				BAD("empty interface name (from %s)",
				    opt_label(c, label, sizeof(label)));
			cfg->iface = optarg;
			break;
		case OPT_PROBE_TTL:
			if (parse_u64(optarg, 255, &u) || u < 1)
				BAD("invalid TTL '%s' (from %s): expected 1-255", optarg,
				    opt_label(c, label, sizeof(label)));
			cfg->ttl = (uint8_t)u;
			break;
		case OPT_TCP_OPTIONS:
			if (!strcmp(optarg, "smallest"))
				cfg->tcpopt = PPS_TCPOPT_SMALLEST;
			else if (!strcmp(optarg, "windows"))
				cfg->tcpopt = PPS_TCPOPT_WINDOWS;
			else if (!strcmp(optarg, "linux"))
				cfg->tcpopt = PPS_TCPOPT_LINUX;
			else if (!strcmp(optarg, "bsd"))
				cfg->tcpopt = PPS_TCPOPT_BSD;
			else
				BAD("invalid TCP option preset '%s' (from %s): expected smallest, windows, linux or bsd",
				    optarg, opt_label(c, label, sizeof(label)));
			break;
		case 'e':
			if (parse_u64(optarg, UINT64_MAX, &cfg->seed))
				BAD("invalid seed '%s' (from %s): expected an unsigned 64-bit integer",
				    optarg, opt_label(c, label, sizeof(label)));
			cfg->seed_given = 1;
			break;
		case 'c':
			if (parse_double(optarg, 0, 86400, &cfg->cooldown_s))
				BAD("invalid cooldown '%s' (from %s): expected seconds, 0 to 86400",
				    optarg, opt_label(c, label, sizeof(label)));
			break;
		case 'o':
			if (!*optarg)
				BAD("empty file name (from %s)", opt_label(c, label, sizeof(label)));
			cfg->output_file = optarg;
			break;
		case 'O':
			if (!strcmp(optarg, "csv"))
				cfg->output_format = PPS_OUT_CSV;
			else if (!strcmp(optarg, "json"))
				cfg->output_format = PPS_OUT_JSON;
			else
				BAD("invalid output format '%s' (from %s): expected csv or json",
				    optarg, opt_label(c, label, sizeof(label)));
			break;
		case 'f':
			if (strlen(optarg) >= sizeof(cfg->output_fields) ||
			    pps_output_check_fields(optarg, why, sizeof(why)))
				BAD("invalid output fields '%s' (from %s): %s", optarg,
				    opt_label(c, label, sizeof(label)),
				    strlen(optarg) >= sizeof(cfg->output_fields) ? "too long" : why);
			snprintf(cfg->output_fields, sizeof(cfg->output_fields), "%s", optarg);
			break;
		case OPT_OUTPUT_CLOSED:
			cfg->output_closed = 1;
			break;
		case 'P':
			if (parse_u64(optarg, 1000, &u) || u < 1)
				BAD("invalid probe count '%s' (from %s): expected 1-1000", optarg,
				    opt_label(c, label, sizeof(label)));
			cfg->probes = (uint32_t)u;
			break;
		case OPT_SHARDS:
			if (parse_u64(optarg, 65535, &u) || u < 1)
				BAD("invalid shard count '%s' (from %s): expected 1-65535", optarg,
				    opt_label(c, label, sizeof(label)));
			cfg->shards = (uint32_t)u;
			break;
		case OPT_SHARD:
			if (parse_u64(optarg, 65534, &u))
				BAD("invalid shard '%s' (from %s): expected 0-65534", optarg,
				    opt_label(c, label, sizeof(label)));
			cfg->shard = (uint32_t)u;
			break;
		case 'T':
			if (parse_u64(optarg, 64, &u) || u < 1)
				BAD("invalid sender thread count '%s' (from %s): expected 1-64", optarg,
				    opt_label(c, label, sizeof(label)));
			cfg->sender_threads = (uint32_t)u;
			break;
		case 'q':
			cfg->quiet = 1;
			break;
		case OPT_DRYRUN:
			cfg->dryrun = 1;
			break;
		case 'h':
			pps_config_usage(backend, cfg->prog, stdout);
			return PPS_PARSE_EXIT;
		case 'V':
			printf("%s %s\n", cfg->prog, PPS_VERSION);
			return PPS_PARSE_EXIT;
		case ':':
			BAD("option '%s' needs a value", argv[optind - 1]);
		default:
			if (optopt && optopt < 256)
				BAD("unknown option '-%c' (see --help)", optopt);
			BAD("unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}

	/* Targets: the remaining arguments. */
	if (optind >= argc)
		BAD("no targets given: expected one or more a.b.c.d or a.b.c.d/len");
	cfg->targets = pps_targets_new();
	if (!cfg->targets)
		BAD("out of memory");
	for (int i = optind; i < argc; i++) {
		struct pps_range r;

		if (pps_parse_cidr(argv[i], &r))
			BAD("invalid target '%s' (argument %d): expected a.b.c.d or a.b.c.d/0-32",
			    argv[i], i);
		if (pps_targets_add(cfg->targets, r.first_h, r.last_h))
			BAD("out of memory");
	}
	if (pps_targets_finalize(cfg->targets))
		BAD("out of memory");

	cfg->ports = malloc(sizeof(*cfg->ports));
	if (!cfg->ports)
		BAD("out of memory");
	if (!ports_spec)
		BAD("no ports given: use -p/--target-ports, e.g. -p 22,80,443");
	if (pps_ports_parse(cfg->ports, ports_spec, why, sizeof(why)))
		BAD("invalid ports '%s' (from -p/--target-ports): %s", ports_spec, why);
	cfg->n_probes = cfg->targets->n_addresses * cfg->ports->n;

	if (!cfg->dryrun && !cfg->have_src_ip && backend == PPS_BACKEND_DPDK)
		BAD("no source address: the DPDK port has no kernel address, give -S/--source-ip");
	if (!cfg->dryrun && backend == PPS_BACKEND_DPDK && !cfg->have_gw_mac && !cfg->have_gw_ip)
		BAD("no next hop: give -G/--gateway-mac or --gateway-ip");
	if (!cfg->dryrun && backend == PPS_BACKEND_PCAP && !cfg->iface)
		BAD("no interface: give -i/--interface");

	if (cfg->shard >= cfg->shards)
		BAD("invalid shard '%u' (from --shard): must be below --shards %u (0-based)",
		    cfg->shard, cfg->shards);
	if (cfg->shards > 1 && !cfg->seed_given)
		BAD("--shards %u without --seed: the shards' orders would not fit together; give every shard the same --seed",
		    cfg->shards);
	if (!cfg->seed_given) {
		if (getrandom(&cfg->seed, sizeof(cfg->seed), 0) != sizeof(cfg->seed))
			BAD("cannot draw a random seed: %s", strerror(errno));
	}
	return PPS_PARSE_OK;
fail:
	pps_config_free(cfg);
	return PPS_PARSE_ERROR;
}

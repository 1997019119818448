/*
 * Option table and validation. Names follow ZMap where ZMap has the option (-p, -r, -B, -S,
 * -s, -G, -w, -b, -I, -n, -t, -N, -P, -c, -o, -O, -f, -u, -m, -e/--seed, --shards/--shard,
 * --dryrun, --probe-ttl), so users' muscle memory works. Config files (-C) and resume files
 * (--resume) use the long option names as keys and are expanded into arguments placed before
 * the command line, so the command line wins.
 */
#include "pps_config.h"

#include <ctype.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "output/pps_fields.h"
#include "output/pps_output.h"
#include "output/pps_redis_url.h"
#include "pps_arp.h"
#include "pps_cidrfile.h"
#include "pps_data.h"
#include "probe/pps_probe.h"

enum {
	OPT_GATEWAY_IP = 256,
	OPT_SOURCE_MAC,
	OPT_PROBE_TTL,
	OPT_OUTPUT_CLOSED,
	OPT_NO_RST,
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
};

#define BOTH (PPS_BACKEND_DPDK | PPS_BACKEND_PCAP)

struct opt_desc {
	struct option lo;
	int backends;
	const char *arg;
	const char *help; /* NULL: hidden alias or internal key */
};

static const struct opt_desc opts[] = {
	{ { "target-ports", required_argument, NULL, 'p' }, BOTH, "PORTS",
	  "ports to probe: list and ranges, e.g. 22,80,8000-8100" },
	{ { "top-ports", required_argument, NULL, OPT_TOP_PORTS }, BOTH, "N",
	  "the N most often open TCP ports (1-1000; default 1000 when no -p is given)" },
	{ { "allowlist-file", required_argument, NULL, 'w' }, BOTH, "FILE",
	  "scan the addresses and CIDR blocks in FILE (one a line, # comments)" },
	{ { "blocklist-file", required_argument, NULL, 'b' }, BOTH, "FILE",
	  "never probe these (default: the IANA special-purpose ranges)" },
	{ { "list-of-ips-file", required_argument, NULL, 'I' }, BOTH, "FILE",
	  "scan the single addresses in FILE (millions of lines are fine)" },
	{ { "rate", required_argument, NULL, 'r' }, BOTH, "PPS",
	  "send rate in probes per second, fractions allowed (default 10000; 0 = no limit)" },
	{ { "bandwidth", required_argument, NULL, 'B' }, BOTH, "BPS",
	  "send rate in bits per second, K/M/G suffixes (instead of -r)" },
	{ { "max-targets", required_argument, NULL, 'n' }, BOTH, "N|P%",
	  "probe only N targets (address x port), or P percent of the target space" },
	{ { "max-runtime", required_argument, NULL, 't' }, BOTH, "SECS",
	  "stop sending after SECS seconds (then cool down and save a resume file)" },
	{ { "max-results", required_argument, NULL, 'N' }, BOTH, "N",
	  "stop after N results" },
	{ { "probes", required_argument, NULL, 'P' }, BOTH, "N",
	  "SYNs per target, spread over N passes (default 1)" },
	{ { "source-ip", required_argument, NULL, 'S' }, BOTH, "IPS",
	  "source address(es): a.b.c.d, a list, a range a.b.c.d-e.f.g.h or a CIDR block" },
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
	{ { "pcap-buffer", required_argument, NULL, OPT_PCAP_BUFFER }, PPS_BACKEND_PCAP, "BYTES",
	  "kernel receive buffer for responses (default 64 MiB; 64 KiB to 1 GiB)" },
	{ { "send-method", required_argument, NULL, OPT_SEND_METHOD }, PPS_BACKEND_PCAP, "METHOD",
	  "ring (PACKET_TX_RING, default), mmsg (sendmmsg) or inject (pcap_inject)" },
	{ { "probe-module", required_argument, NULL, 'M' }, BOTH, "NAME",
	  "what to send: tcp_synscan (default; --list-probe-modules lists them)" },
	{ { "probe-args", required_argument, NULL, OPT_PROBE_ARGS }, BOTH, "ARGS",
	  "settings of the probe module (see --list-probe-modules)" },
	{ { "list-probe-modules", no_argument, NULL, OPT_LIST_PROBE_MODULES }, BOTH, NULL,
	  "list the probe modules and exit" },
	{ { "list-output-fields", no_argument, NULL, OPT_LIST_OUTPUT_FIELDS }, BOTH, NULL,
	  "list the output fields of the probe module (-M) and exit" },
	{ { "probe-ttl", required_argument, NULL, OPT_PROBE_TTL }, BOTH, "TTL",
	  "IP TTL of probes, 1-255 (default 64)" },
	{ { "tcp-options", required_argument, NULL, OPT_TCP_OPTIONS }, BOTH, "PRESET",
	  "SYN options: smallest|windows|linux|bsd (default windows)" },
	{ { "seed", required_argument, NULL, 'e' }, BOTH, "N",
	  "64-bit seed for the probe order and SYN cookies (default: random, reported)" },
	{ { "shards", required_argument, NULL, OPT_SHARDS }, BOTH, "N",
	  "split the scan into N shards (needs --seed)" },
	{ { "shard", required_argument, NULL, OPT_SHARD }, BOTH, "I",
	  "which shard this run sends, 0-based" },
	{ { "sender-threads", required_argument, NULL, 'T' }, BOTH, "N",
	  "TX threads or lcores, each with its own queue and slice (default 1)" },
	{ { "cooldown", required_argument, NULL, 'c' }, BOTH, "SECS",
	  "seconds to wait for responses after the last probe (default 8)" },
	{ { "cooldown-time", required_argument, NULL, 'c' }, BOTH, NULL, NULL }, /* ZMap's name */
	{ { "output-file", required_argument, NULL, 'o' }, BOTH, "FILE",
	  "write results to FILE (default: stdout; appends)" },
	{ { "output-module", required_argument, NULL, 'O' }, BOTH, "FORMAT",
	  "csv or json (one JSON object a line)" },
	{ { "output-fields", required_argument, NULL, 'f' }, BOTH, "FIELDS",
	  "comma-separated fields (default saddr,sport,classification)" },
	{ { "output-closed", no_argument, NULL, OPT_OUTPUT_CLOSED }, BOTH, NULL,
	  "also report closed ports (RST responses)" },
	{ { "no-rst", no_argument, NULL, OPT_NO_RST }, BOTH, NULL,
	  "do not answer SYN-ACKs with a RST (default: close each half-open connection)" },
	{ { "status-updates-file", required_argument, NULL, 'u' }, BOTH, "FILE",
	  "write progress as CSV, one line a second" },
	{ { "status-json", required_argument, NULL, OPT_STATUS_JSON }, BOTH, "FILE",
	  "write progress as one JSON object a line, a line a second" },
	{ { "metadata-file", required_argument, NULL, 'm' }, BOTH, "FILE",
	  "write a JSON summary (options, seed, counters, times) at the end" },
	{ { "redis", required_argument, NULL, OPT_REDIS }, BOTH, "URL",
	  "also stream results to Redis: redis://[[user]:password@]host[:port][/db] or unix:///path" },
	{ { "redis-prefix", required_argument, NULL, OPT_REDIS_PREFIX }, BOTH, "P",
	  "Redis key prefix (default ppscan): keys P:SCAN:results, P:SCAN:meta, P:scans" },
	{ { "scan-id", required_argument, NULL, OPT_SCAN_ID }, BOTH, "ID",
	  "this scan's id in Redis keys (default: UTC time and random, printed at start)" },
	{ { "redis-maxlen", required_argument, NULL, OPT_REDIS_MAXLEN }, BOTH, "N",
	  "trim the results stream to about N entries (XADD MAXLEN ~ N; default: keep all)" },
	{ { "redis-journal", required_argument, NULL, OPT_REDIS_JOURNAL }, BOTH, "FILE",
	  "where results wait while Redis is away (default ./ppscan-SCAN.journal)" },
	{ { "redis-buffer", required_argument, NULL, OPT_REDIS_BUFFER }, BOTH, "N",
	  "results held in memory while Redis is away, before the journal (default 262144)" },
	{ { "quiet", no_argument, NULL, 'q' }, BOTH, NULL, "no status line" },
	{ { "dryrun", no_argument, NULL, OPT_DRYRUN }, BOTH, NULL,
	  "print each probe instead of sending it (no device, no root)" },
	{ { "config", required_argument, NULL, 'C' }, BOTH, "FILE",
	  "read options from FILE (key = value, keys are the long option names)" },
	{ { "dump-config", no_argument, NULL, OPT_DUMP_CONFIG }, BOTH, NULL,
	  "print the effective configuration as a file -C reads, and exit" },
	{ { "resume", required_argument, NULL, OPT_RESUME }, BOTH, "FILE",
	  "continue an interrupted scan from its resume file (no other argument needed)" },
	{ { "resume-file", required_argument, NULL, OPT_RESUME_FILE }, BOTH, "FILE",
	  "where an interrupted scan saves its state (default paused.conf)" },
	{ { "resume-next", required_argument, NULL, OPT_RESUME_NEXT }, BOTH, NULL, NULL },
	{ { "eal", required_argument, NULL, OPT_EAL }, PPS_BACKEND_DPDK, NULL, NULL },
	{ { "help", no_argument, NULL, 'h' }, BOTH, NULL, "this help" },
	{ { "version", no_argument, NULL, 'V' }, BOTH, NULL, "print the version" },
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))
_Static_assert(N_OPTS <= PPS_MAX_OPTS, "raise PPS_MAX_OPTS");

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

static int opt_index(int val)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (opts[i].lo.val == val)
			return (int)i;
	return -1;
}

static const char *opt_label(int val, char *buf, size_t len)
{
	int i = opt_index(val);

	if (i < 0)
		snprintf(buf, len, "option");
	else if (val < 256)
		snprintf(buf, len, "-%c/--%s", val, opts[i].lo.name);
	else
		snprintf(buf, len, "--%s", opts[i].lo.name);
	return buf;
}

/* Strict number parsers: the whole string must be consumed. */
int pps_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int pps_parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	/* plain decimal only: no sign, no hex (strtod would take "0x10"), no inf/nan */
	if (!s || !*s || strspn(s, "0123456789.eE-") != strlen(s) || *s == '-' || *s == 'e' ||
	    *s == 'E')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

/* "10M", "1.5G", "500k", "100000": bits per second. */
static int parse_bandwidth(const char *s, double *bps)
{
	char buf[32];
	size_t n = s ? strlen(s) : 0;
	double mul = 1, v;

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n + 1);
	switch (buf[n - 1]) {
	case 'k': case 'K': mul = 1e3; break;
	case 'm': case 'M': mul = 1e6; break;
	case 'g': case 'G': mul = 1e9; break;
	default: break;
	}
	if (mul != 1)
		buf[n - 1] = '\0';
	if (pps_parse_double(buf, 1e-9, 1e13, &v))
		return -EINVAL;
	*bps = v * mul;
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
		if (pps_parse_u64(buf, 65535, &a) || pps_parse_u64(dash + 1, 65535, &b))
			return -EINVAL;
	} else {
		if (pps_parse_u64(buf, 65535, &a))
			return -EINVAL;
		b = a;
	}
	if (a < 1 || b < a)
		return -EINVAL;
	*first = (uint16_t)a;
	*last = (uint16_t)b;
	return 0;
}

/* -S: "a.b.c.d", "a,b,c", "a.b.c.d-e.f.g.h", "a.b.c.d/len", or a mix separated by commas. */
static int parse_sources(const char *s, struct pps_targets *t)
{
	char buf[1024];
	char *save = NULL, *tok;

	if (!s || !*s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		struct pps_range r;

		if (dash) {
			*dash = '\0';
			if (pps_parse_ipv4(tok, &r.first_h) || pps_parse_ipv4(dash + 1, &r.last_h) ||
			    r.last_h < r.first_h)
				return -EINVAL;
		} else if (pps_parse_cidr(tok, &r)) {
			return -EINVAL;
		}
		if (pps_targets_add(t, r.first_h, r.last_h))
			return -ENOMEM;
	}
	if (s[strlen(s) - 1] == ',' || s[0] == ',' || strstr(s, ",,"))
		return -EINVAL;
	return pps_targets_finalize(t);
}

static int parse_bool(const char *v)
{
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1") ||
	    !strcasecmp(v, "on"))
		return 1;
	if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0") ||
	    !strcasecmp(v, "off"))
		return 0;
	return -1;
}

void pps_config_free(struct pps_config *cfg)
{
	pps_targets_free(cfg->targets);
	cfg->targets = NULL;
	pps_targets_free(cfg->sources);
	cfg->sources = NULL;
	free(cfg->ports);
	cfg->ports = NULL;
	free(cfg->target_args);
	cfg->target_args = NULL;
	if (cfg->file_argv)
		for (int i = 0; cfg->file_argv[i]; i++)
			free(cfg->file_argv[i]);
	free(cfg->file_argv);
	cfg->file_argv = NULL;
	if (cfg->origin)
		for (int i = 0; cfg->origin[i] != (char *)-1; i++)
			free(cfg->origin[i]);
	free(cfg->origin);
	cfg->origin = NULL;
	free(cfg->file_text);
	cfg->file_text = NULL;
}

/* Growable argument vector with the origin ("FILE:LINE") of each argument. */
struct argvec {
	char **v;
	char **origin;
	int n, cap;
};

static int argvec_push(struct argvec *a, const char *s, const char *origin)
{
	if (a->n + 2 > a->cap) {
		int cap = a->cap ? a->cap * 2 : 32;
		char **v = realloc(a->v, (size_t)cap * sizeof(char *));
		char **o;
		if (!v)
			return -ENOMEM;
		a->v = v;
		o = realloc(a->origin, (size_t)cap * sizeof(char *));
		if (!o)
			return -ENOMEM;
		a->origin = o;
		a->cap = cap;
	}
	a->v[a->n] = strdup(s);
	a->origin[a->n] = origin ? strdup(origin) : NULL;
	if (!a->v[a->n])
		return -ENOMEM;
	a->n++;
	a->v[a->n] = NULL;
	a->origin[a->n] = (char *)-1;
	return 0;
}

/*
 * Reads a config file into arguments: "key = value" -> "--key=value"; boolean keys take
 * true/false; "targets" lists positional targets. Errors name FILE:LINE.
 */
static int expand_file(struct pps_config *cfg, const char *path, struct argvec *targets,
		       struct argvec *out, FILE *err)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, where[600];
	size_t cap = 0;
	unsigned long ln = 0;
	struct stat st;
	char seen[N_OPTS] = { 0 };

	if (!f || fstat(fileno(f), &st) || S_ISDIR(st.st_mode)) {
		fprintf(err, "%s: cannot read %s file '%s': %s\n", cfg->prog,
			cfg->resuming ? "resume" : "config", path, f ? "it is a directory" : strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	while (getline(&line, &cap, f) >= 0) {
		char *k = line, *v, *e, *hash;
		const struct opt_desc *d = NULL;

		ln++;
		if (strlen(line) != strcspn(line, "\n") + (strchr(line, '\n') ? 1 : 0)) {
			fprintf(err, "%s: %s:%lu: NUL byte in the file\n", cfg->prog, path, ln);
			goto fail;
		}
		snprintf(where, sizeof(where), "%s:%lu", path, ln);
		if (ln == 1 && !strncmp(k, "\xef\xbb\xbf", 3))
			k += 3;
		if ((hash = strchr(k, '#')))
			*hash = '\0';
		while (isspace((unsigned char)*k))
			k++;
		e = k + strlen(k);
		while (e > k && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (!*k)
			continue;
		v = strchr(k, '=');
		if (!v) {
			fprintf(err, "%s: %s: expected 'key = value', got '%s'\n", cfg->prog, where, k);
			goto fail;
		}
		e = v;
		*v++ = '\0';
		while (e > k && isspace((unsigned char)e[-1]))
			*--e = '\0';
		while (isspace((unsigned char)*v))
			v++;
		if (!strcmp(k, "targets") || !strcmp(k, "target")) {
			char *save = NULL, *tok;
			for (tok = strtok_r(v, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save))
				if (argvec_push(targets, tok, where))
					goto nomem;
			continue;
		}
		for (size_t i = 0; i < N_OPTS; i++)
			if (!strcmp(opts[i].lo.name, k) && (opts[i].backends & cfg->backend))
				d = &opts[i];
		if (d && seen[d - opts]++) {
			fprintf(err, "%s: %s: '%s' given twice in one file\n", cfg->prog, where, k);
			goto fail;
		}
		if (!d || d->lo.val == 'C' || d->lo.val == OPT_RESUME || d->lo.val == 'h' ||
		    d->lo.val == 'V' || d->lo.val == OPT_DUMP_CONFIG ||
		    d->lo.val == OPT_LIST_PROBE_MODULES || d->lo.val == OPT_LIST_OUTPUT_FIELDS) {
			fprintf(err, "%s: %s: unknown key '%s'\n", cfg->prog, where, k);
			goto fail;
		}
		if (d->lo.has_arg == no_argument) {
			int b = parse_bool(v);
			if (b < 0) {
				fprintf(err, "%s: %s: invalid value '%s' for '%s': expected true/false, yes/no, on/off or 1/0\n",
					cfg->prog, where, v, k);
				goto fail;
			}
			if (b) {
				char flag[128];
				snprintf(flag, sizeof(flag), "--%s", k);
				if (argvec_push(out, flag, where))
					goto nomem;
			}
			continue;
		}
		{
			char *arg = NULL;
			int bad = asprintf(&arg, "--%s=%s", k, v) < 0 || argvec_push(out, arg, where);
			free(arg);
			if (bad)
				goto nomem;
		}
	}
	if (ferror(f)) {
		fprintf(err, "%s: cannot read '%s': %s\n", cfg->prog, path, strerror(errno));
		goto fail;
	}
	free(line);
	fclose(f);
	return 0;
nomem:
	fprintf(err, "%s: out of memory reading '%s'\n", cfg->prog, path);
fail:
	free(line);
	fclose(f);
	return -1;
}

/* Finds "-C FILE", "--config FILE", "--config=FILE", "--resume ..." in argv (before "--"). */
static const char *find_file_opt(int argc, char **argv, const char *lng, char shrt, int *at,
				 int *width)
{
	size_t l = strlen(lng);

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--"))
			break;
		if (!strncmp(a, "--", 2) && !strncmp(a + 2, lng, l)) {
			if (a[2 + l] == '=') {
				*at = i;
				*width = 1;
				return a + 3 + l;
			}
			if (a[2 + l] == '\0' && i + 1 < argc) {
				*at = i;
				*width = 2;
				return argv[i + 1];
			}
		}
		if (shrt && a[0] == '-' && a[1] == shrt) {
			*at = i;
			if (a[2]) {
				*width = 1;
				return a + 2;
			}
			if (i + 1 < argc) {
				*width = 2;
				return argv[i + 1];
			}
		}
	}
	return NULL;
}

static char g_msg[512]; /* composed error message (parse is single-threaded, main only) */

#define BAD(...)                                                                                   \
	do {                                                                                       \
		snprintf(g_msg, sizeof(g_msg), __VA_ARGS__);                                       \
		goto fail;                                                                         \
	} while (0)

int pps_config_parse(struct pps_config *cfg, enum pps_backend backend, int argc, char **argv,
		     FILE *err)
{
	struct option longopts[N_OPTS + 1];
	char shortopts[2 * N_OPTS + 2] = { 0 }; /* kept terminated: strchr() scans it */
	char label[64], why[256];
	const char *ports_spec = NULL;
	struct argvec av = { 0 }, tv = { 0 };
	size_t ns = 0, nl = 0;
	int c, have_rate = 0, at = -1, width = 0, fields_at = -1, list_probes = 0, list_fields = 0;
	const char *cfgfile, *resfile;
	double max_targets_pct = 0;

	memset(cfg, 0, sizeof(*cfg));
	cfg->backend = backend;
	cfg->prog = backend == PPS_BACKEND_DPDK ? "ppscan" : "ppscan-pcap";
	cfg->rate_pps = 10000;
	cfg->sport_first_h = 32768;
	cfg->sport_last_h = 61000;
	cfg->ttl = 64;
	cfg->tcpopt = PPS_TCPOPT_WINDOWS;
	cfg->probe = pps_probe_default();
	cfg->cooldown_s = 8;
	cfg->output_format = PPS_OUT_CSV;
	snprintf(cfg->output_fields, sizeof(cfg->output_fields), "saddr,sport,classification");
	cfg->rx_ring = 1u << 16;
	cfg->pcap_buffer = 64u << 20;
	cfg->send_method = PPS_SEND_RING;
	cfg->probes = 1;
	cfg->shards = 1;
	cfg->sender_threads = 1;
	cfg->resume_file = "paused.conf";
	cfg->redis_prefix = "ppscan";
	cfg->redis_buffer = 1u << 18;
	g_msg[0] = '\0';

	/* Expand -C/--config and --resume files in front of the command line. */
	if (argvec_push(&av, argc > 0 ? argv[0] : cfg->prog, NULL))
		BAD("out of memory");
	resfile = find_file_opt(argc, argv, "resume", 0, &at, &width);
	if (resfile) {
		cfg->resuming = 1;
		if (expand_file(cfg, resfile, &tv, &av, err))
			goto fail_printed;
	}
	{
		int at2 = -1, w2 = 0;
		cfgfile = find_file_opt(argc, argv, "config", 'C', &at2, &w2);
		if (cfgfile) {
			int at3 = -1, w3 = 0;
			/* a second -C after the first one would be silently ignored: refuse it */
			if (find_file_opt(argc - (at2 + w2 - 1), argv + (at2 + w2 - 1), "config", 'C',
					  &at3, &w3))
				BAD("-C/--config given twice: put everything in one config file");
			if (expand_file(cfg, cfgfile, &tv, &av, err))
				goto fail_printed;
		}
	}
	for (int i = 1; i < argc; i++)
		if (argvec_push(&av, argv[i], NULL))
			BAD("out of memory");
	for (int i = 0; i < tv.n; i++) /* file targets go last, as positional arguments */
		if (argvec_push(&av, tv.v[i], tv.origin[i]))
			BAD("out of memory");
	cfg->file_argv = av.v;
	cfg->origin = av.origin;

	shortopts[ns++] = ':';
	for (size_t i = 0; i < N_OPTS; i++) {
		if (!(opts[i].backends & backend))
			continue;
		longopts[nl++] = opts[i].lo;
		if (opts[i].lo.val < 256 && !strchr(shortopts, opts[i].lo.val)) {
			shortopts[ns++] = (char)opts[i].lo.val;
			if (opts[i].lo.has_arg == required_argument)
				shortopts[ns++] = ':';
		}
	}
	shortopts[ns] = '\0';
	memset(&longopts[nl], 0, sizeof(longopts[nl]));

	/*
	 * Long options are written in full: getopt_long() would take any unique prefix (--no for
	 * --no-rst, --ra for --rate), so a typo could run a different scan. Also named here: a
	 * value given to an option that takes none, and an ambiguous prefix.
	 */
	for (int i = 1, skip = 0; i < av.n; i++) {
		const char *a = av.v[i], *name;
		size_t len;
		const struct option *exact = NULL;
		char list[512] = "";
		int n_prefix = 0;

		if (skip) { /* the value of the option before */
			skip = 0;
			continue;
		}
		if (!strcmp(a, "--"))
			break;
		if (a[0] == '-' && a[1] && a[1] != '-') { /* a cluster of short options */
			for (const char *p = a + 1; *p; p++) {
				const char *o = strchr(shortopts + 1, *p);
				if (o && o[1] == ':') {
					skip = !p[1]; /* its value is the next argument */
					break;
				}
			}
			continue;
		}
		if (strncmp(a, "--", 2) || !a[2])
			continue;
		name = a + 2; /* only now: a shorter argument has no a[2] to point at */
		len = strcspn(name, "=");
		for (size_t k = 0; k < (size_t)nl; k++) {
			if (strlen(longopts[k].name) == len && !strncmp(longopts[k].name, name, len))
				exact = &longopts[k];
			else if (!strncmp(longopts[k].name, name, len) && n_prefix++ < 6)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s--%s",
					 n_prefix > 1 ? ", " : "", longopts[k].name);
		}
		if (exact) {
			if (name[len] == '=' && exact->has_arg == no_argument)
				BAD("option '--%s' takes no value (got '%s')", exact->name, a);
			skip = exact->has_arg == required_argument && name[len] != '=';
			continue;
		}
		if (n_prefix == 1)
			BAD("unknown option '%s': long options are written in full (%s?)", a, list);
		if (n_prefix > 1)
			BAD("ambiguous option '%s': %s%s", a, list, n_prefix > 6 ? ", ..." : "");
	}

	opterr = 0;
	optind = 0; /* full reinitialisation (GNU), so tests may parse repeatedly */
	while ((c = getopt_long(av.n, av.v, shortopts, longopts, NULL)) != -1) {
		uint64_t u;
		int oi = opt_index(c);

		if (oi >= 0 && c != '?' && c != ':')
			cfg->given[oi] = optarg ? optarg : "true";
		switch (c) {
		case 'p':
			ports_spec = optarg;
			break;
		case OPT_TOP_PORTS:
			if (pps_parse_u64(optarg, pps_top_ports_n, &u) || u < 1)
				BAD("invalid port count '%s' (from %s): expected 1-%u", optarg,
				    opt_label(c, label, sizeof(label)), pps_top_ports_n);
			cfg->top_ports = (unsigned)u;
			break;
		case 'w':
			cfg->allowlist_file = optarg;
			break;
		case 'b':
			cfg->blocklist_file = optarg;
			break;
		case 'I':
			cfg->list_of_ips_file = optarg;
			break;
		case 'r':
			if (pps_parse_double(optarg, 0, 1e10, &cfg->rate_pps))
				BAD("invalid rate '%s' (from %s): expected probes per second, 0 to 1e10",
				    optarg, opt_label(c, label, sizeof(label)));
			have_rate = 1;
			break;
		case 'B':
			if (parse_bandwidth(optarg, &cfg->bandwidth_bps))
				BAD("invalid bandwidth '%s' (from %s): expected bits per second with an optional K, M or G suffix",
				    optarg, opt_label(c, label, sizeof(label)));
			break;
		case 'n': {
			size_t l = strlen(optarg);
			if (l > 1 && optarg[l - 1] == '%') {
				char num[32];
				if (l >= sizeof(num))
					BAD("invalid target count '%s' (from %s)", optarg,
					    opt_label(c, label, sizeof(label)));
				memcpy(num, optarg, l - 1);
				num[l - 1] = '\0';
				if (pps_parse_double(num, 1e-12, 100, &max_targets_pct))
					BAD("invalid target count '%s' (from %s): expected N or a percentage above 0 and up to 100%%",
					    optarg, opt_label(c, label, sizeof(label)));
				cfg->max_targets = 0;
			} else {
				if (pps_parse_u64(optarg, UINT64_MAX, &cfg->max_targets) ||
				    cfg->max_targets == 0)
					BAD("invalid target count '%s' (from %s): expected N >= 1 or a percentage",
					    optarg, opt_label(c, label, sizeof(label)));
				max_targets_pct = 0;
			}
			break;
		}
		case 't':
			if (pps_parse_double(optarg, 1e-3, 1e9, &cfg->max_runtime_s))
				BAD("invalid runtime '%s' (from %s): expected seconds above 0", optarg,
				    opt_label(c, label, sizeof(label)));
			break;
		case 'N':
			if (pps_parse_u64(optarg, UINT64_MAX, &cfg->max_results) || !cfg->max_results)
				BAD("invalid result count '%s' (from %s): expected N >= 1", optarg,
				    opt_label(c, label, sizeof(label)));
			break;
		case 'S':
			pps_targets_free(cfg->sources);
			cfg->sources = pps_targets_new();
			if (!cfg->sources)
				BAD("out of memory");
			if (parse_sources(optarg, cfg->sources))
				BAD("invalid source address '%s' (from %s): expected a.b.c.d, a list, a range a.b.c.d-e.f.g.h or a CIDR block",
				    optarg, opt_label(c, label, sizeof(label)));
			cfg->src_ip_h = cfg->sources->ranges[0].first_h;
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
		case OPT_PCAP_BUFFER:
			if (pps_parse_u64(optarg, 1u << 30, &u) || u < (1u << 16))
				BAD("invalid buffer size '%s' (from %s): expected bytes, 65536 to 1073741824",
				    optarg, opt_label(c, label, sizeof(label)));
			cfg->pcap_buffer = (uint32_t)u;
			break;
		case OPT_SEND_METHOD:
			if (!strcmp(optarg, "ring"))
				cfg->send_method = PPS_SEND_RING;
			else if (!strcmp(optarg, "mmsg"))
				cfg->send_method = PPS_SEND_MMSG;
			else if (!strcmp(optarg, "inject"))
				cfg->send_method = PPS_SEND_INJECT;
			else
				BAD("invalid send method '%s' (from %s): expected ring, mmsg or inject",
				    optarg, opt_label(c, label, sizeof(label)));
			break;
		case OPT_PROBE_TTL:
			if (pps_parse_u64(optarg, 255, &u) || u < 1)
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
			if (pps_parse_u64(optarg, UINT64_MAX, &cfg->seed))
				BAD("invalid seed '%s' (from %s): expected an unsigned 64-bit integer",
				    optarg, opt_label(c, label, sizeof(label)));
			cfg->seed_given = 1;
			break;
		case 'c':
			if (pps_parse_double(optarg, 0, 86400, &cfg->cooldown_s))
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
			if (strlen(optarg) >= sizeof(cfg->output_fields))
				BAD("invalid output fields '%s' (from %s): too long", optarg,
				    opt_label(c, label, sizeof(label)));
			/* the names are checked once the probe module is known */
			snprintf(cfg->output_fields, sizeof(cfg->output_fields), "%s", optarg);
			fields_at = optind - 1;
			break;
		case 'M':
			if (!(cfg->probe = pps_probe_find(optarg)))
				BAD("invalid probe module '%s' (from %s): --list-probe-modules lists them",
				    optarg, opt_label(c, label, sizeof(label)));
			break;
		case OPT_PROBE_ARGS:
			cfg->probe_args = optarg;
			break;
		case OPT_LIST_PROBE_MODULES:
			list_probes = 1;
			break;
		case OPT_LIST_OUTPUT_FIELDS:
			list_fields = 1;
			break;
		case OPT_OUTPUT_CLOSED:
			cfg->output_closed = 1;
			break;
		case OPT_NO_RST:
			cfg->no_rst = 1;
			break;
		case 'u':
			if (!*optarg)
				BAD("empty file name (from %s)", opt_label(c, label, sizeof(label)));
			cfg->status_updates_file = optarg;
			break;
		case OPT_STATUS_JSON:
			if (!*optarg)
				BAD("empty file name (from %s)", opt_label(c, label, sizeof(label)));
			cfg->status_json_file = optarg;
			break;
		case 'm':
			if (!*optarg)
				BAD("empty file name (from %s)", opt_label(c, label, sizeof(label)));
			cfg->metadata_file = optarg;
			break;
		case OPT_REDIS: {
			struct pps_redis_url ru;

			if (pps_redis_url_parse(optarg, &ru, why, sizeof(why))) {
				char shown[512];

				pps_redis_url_mask(optarg, shown, sizeof(shown));
				BAD("invalid Redis URL '%.160s' (from %s): %.200s", shown,
				    opt_label(c, label, sizeof(label)), why);
			}
			cfg->redis_url = optarg;
			break;
		}
		case OPT_REDIS_PREFIX:
			if (!*optarg || strlen(optarg) > 64 || strpbrk(optarg, " \t\r\n"))
				BAD("invalid Redis key prefix '%s' (from %s): expected 1-64 characters without spaces",
				    optarg, opt_label(c, label, sizeof(label)));
			cfg->redis_prefix = optarg;
			break;
		case OPT_SCAN_ID:
			if (!*optarg || strlen(optarg) >= sizeof(cfg->scan_id) ||
			    strspn(optarg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
				    strlen(optarg))
				BAD("invalid scan id '%s' (from %s): expected 1-%zu of A-Z a-z 0-9 . _ -",
				    optarg, opt_label(c, label, sizeof(label)), sizeof(cfg->scan_id) - 1);
			snprintf(cfg->scan_id, sizeof(cfg->scan_id), "%s", optarg);
			cfg->scan_id_given = 1;
			break;
		case OPT_REDIS_MAXLEN:
			if (pps_parse_u64(optarg, UINT64_MAX, &cfg->redis_maxlen))
				BAD("invalid stream length '%s' (from %s): expected N (0 = keep all)",
				    optarg, opt_label(c, label, sizeof(label)));
			break;
		case OPT_REDIS_JOURNAL:
			if (!*optarg)
				BAD("empty file name (from %s)", opt_label(c, label, sizeof(label)));
			cfg->redis_journal = optarg;
			break;
		case OPT_REDIS_BUFFER:
			if (pps_parse_u64(optarg, 1u << 26, &u) || u < 1)
				BAD("invalid buffer size '%s' (from %s): expected 1 to 67108864 results",
				    optarg, opt_label(c, label, sizeof(label)));
			cfg->redis_buffer = (uint32_t)u;
			break;
		case 'P':
			if (pps_parse_u64(optarg, 1000, &u) || u < 1)
				BAD("invalid probe count '%s' (from %s): expected 1-1000", optarg,
				    opt_label(c, label, sizeof(label)));
			cfg->probes = (uint32_t)u;
			break;
		case OPT_SHARDS:
			if (pps_parse_u64(optarg, 65535, &u) || u < 1)
				BAD("invalid shard count '%s' (from %s): expected 1-65535", optarg,
				    opt_label(c, label, sizeof(label)));
			cfg->shards = (uint32_t)u;
			break;
		case OPT_SHARD:
			if (pps_parse_u64(optarg, 65534, &u))
				BAD("invalid shard '%s' (from %s): expected 0-65534", optarg,
				    opt_label(c, label, sizeof(label)));
			cfg->shard = (uint32_t)u;
			break;
		case 'T':
			if (pps_parse_u64(optarg, PPS_MAX_SENDERS, &u) || u < 1)
				BAD("invalid sender thread count '%s' (from %s): expected 1-%d", optarg,
				    opt_label(c, label, sizeof(label)), PPS_MAX_SENDERS);
			cfg->sender_threads = (uint32_t)u;
			break;
		case 'q':
			cfg->quiet = 1;
			break;
		case OPT_DRYRUN:
			cfg->dryrun = 1;
			break;
		case 'C':
		case OPT_RESUME:
			break; /* expanded above */
		case OPT_RESUME_FILE:
			if (!*optarg)
				BAD("empty file name (from %s)", opt_label(c, label, sizeof(label)));
			cfg->resume_file = optarg;
			break;
		case OPT_RESUME_NEXT: {
			char *p = optarg, *end;
			cfg->n_resume_next = 0;
			while (*p) {
				if (cfg->n_resume_next == PPS_MAX_SENDERS || !isdigit((unsigned char)*p))
					BAD("invalid resume state '%s' (from resume-next)", optarg);
				errno = 0;
				cfg->resume_next[cfg->n_resume_next++] = strtoull(p, &end, 10);
				if (errno || (*end && *end != ','))
					BAD("invalid resume state '%s' (from resume-next)", optarg);
				p = *end ? end + 1 : end;
			}
			break;
		}
		case OPT_EAL:
			cfg->eal_args = optarg;
			break;
		case OPT_DUMP_CONFIG:
			cfg->dump_config = 1;
			break;
		case 'h':
			pps_config_usage(backend, cfg->prog, stdout);
			pps_config_free(cfg);
			return PPS_PARSE_EXIT;
		case 'V':
			printf("%s %s\n", cfg->prog, PPS_VERSION);
			pps_config_free(cfg);
			return PPS_PARSE_EXIT;
		case ':':
			BAD("option '%s' needs a value", av.v[optind - 1]);
		default:
			if (optopt && optopt < 256)
				BAD("unknown option '-%c' (see --help)", optopt);
			BAD("unknown option '%s' (see --help%s)", av.v[optind - 1],
			    backend == PPS_BACKEND_DPDK ? "; EAL options go before '--'" : "");
		}
	}

	if (list_probes || list_fields) {
		if (list_probes)
			pps_probe_list(stdout);
		else
			pps_fields_list(cfg->probe, stdout);
		pps_config_free(cfg);
		return PPS_PARSE_EXIT;
	}
	{
		struct pps_field_sel sel;

		if (pps_fields_select(cfg->probe, cfg->output_fields, &sel, why, sizeof(why))) {
			optind = fields_at + 1; /* names the file and line of a -f from a file */
			BAD("invalid output fields '%s' (from -f/--output-fields): %.200s",
			    cfg->output_fields, why);
		}
		if (cfg->probe->check_args(cfg, why, sizeof(why)))
			BAD("invalid probe arguments '%.100s' (from --probe-args): %.200s", cfg->probe_args,
			    why);
	}

	cfg->ports = malloc(sizeof(*cfg->ports));
	if (!cfg->ports)
		BAD("out of memory");
	if (ports_spec) {
		if (pps_ports_parse(cfg->ports, ports_spec, why, sizeof(why)))
			BAD("invalid ports '%s' (from -p/--target-ports): %s", ports_spec, why);
	} else {
		memset(cfg->ports->index, 0xff, sizeof(cfg->ports->index));
		cfg->ports->n = 0;
	}
	if (cfg->top_ports || !ports_spec) {
		/* --top-ports N, also the default (N = all 1000) when no -p is given */
		unsigned n = cfg->top_ports ? cfg->top_ports : pps_top_ports_n;
		for (unsigned i = 0; i < n; i++)
			cfg->ports->index[pps_top_ports[i]] = 0;
		cfg->ports->n = 0;
		for (uint32_t v = 1; v <= 65535; v++)
			if (cfg->ports->index[v] != PPS_PORT_NONE) {
				cfg->ports->index[v] = (uint16_t)cfg->ports->n;
				cfg->ports->list[cfg->ports->n++] = (uint16_t)v;
			}
	}
	/* Targets: positional arguments, the allowlist and the list of addresses. */
	cfg->targets = pps_targets_new();
	cfg->target_args = calloc((size_t)(av.n - optind) + 1, sizeof(char *));
	if (!cfg->targets || !cfg->target_args)
		BAD("out of memory");
	for (int i = optind; i < av.n; i++) {
		struct pps_range r;

		if (pps_parse_cidr(av.v[i], &r)) {
			if (av.origin[i])
				BAD("invalid target '%s' (from %s): expected a.b.c.d or a.b.c.d/0-32",
				    av.v[i], av.origin[i]);
			BAD("invalid target '%s' (argument %d): expected a.b.c.d or a.b.c.d/0-32",
			    av.v[i], i);
		}
		if (pps_targets_add(cfg->targets, r.first_h, r.last_h))
			BAD("out of memory");
		cfg->target_args[cfg->n_target_args++] = av.v[i];
	}
	if (cfg->allowlist_file &&
	    pps_cidr_load_file(cfg->targets, cfg->allowlist_file, 0, why, sizeof(why)))
		BAD("%s (from -w/--allowlist-file)", why);
	if (cfg->list_of_ips_file &&
	    pps_cidr_load_file(cfg->targets, cfg->list_of_ips_file, 1, why, sizeof(why)))
		BAD("%s (from -I/--list-of-ips-file)", why);
	if (cfg->targets->n_ranges == 0)
		BAD("no targets given: expected one or more a.b.c.d or a.b.c.d/len, -w FILE or -I FILE");
	if (pps_targets_finalize(cfg->targets))
		BAD("out of memory");
	{
		/* The blocklist wins over every way of naming a target. */
		struct pps_targets *bl = pps_targets_new();
		uint64_t before = cfg->targets->n_addresses;
		int rc;

		if (!bl)
			BAD("out of memory");
		if (cfg->blocklist_file)
			rc = pps_cidr_load_file(bl, cfg->blocklist_file, 0, why, sizeof(why));
		else
			rc = pps_cidr_parse_buf(bl, pps_default_blocklist, strlen(pps_default_blocklist),
						"default blocklist", 0, why, sizeof(why));
		if (!rc)
			rc = pps_targets_finalize(bl);
		if (!rc)
			rc = pps_targets_subtract(cfg->targets, bl);
		pps_targets_free(bl);
		if (rc)
			BAD("%s (from -b/--blocklist-file)", why);
		cfg->blocked = before - cfg->targets->n_addresses;
		if (cfg->targets->n_addresses == 0)
			BAD("the blocklist (%s) leaves no target: all %" PRIu64
			    " addresses are blocked; pass your own -b/--blocklist-file if you mean to scan them",
			    cfg->blocklist_file ? cfg->blocklist_file : "the default IANA special-purpose list",
			    before);
	}

	cfg->target_space = cfg->targets->n_addresses * cfg->ports->n;
	if (max_targets_pct > 0) {
		cfg->max_targets = (uint64_t)ceill((long double)cfg->target_space * max_targets_pct / 100);
		if (cfg->max_targets == 0)
			cfg->max_targets = 1;
	}
	if (cfg->max_targets > cfg->target_space)
		cfg->max_targets = 0; /* no cap needed */

	if (cfg->bandwidth_bps > 0) {
		if (have_rate)
			BAD("give -r/--rate or -B/--bandwidth, not both");
		cfg->rate_pps = cfg->bandwidth_bps / (8.0 * pps_config_probe_frame_bytes(cfg));
	}

	if (!cfg->sources) {
		cfg->sources = pps_targets_new();
		if (!cfg->sources)
			BAD("out of memory");
	}
	if (!cfg->dryrun && !cfg->dump_config && !cfg->have_src_ip && backend == PPS_BACKEND_DPDK)
		BAD("no source address: the DPDK port has no kernel address, give -S/--source-ip");
	if (!cfg->dryrun && !cfg->dump_config && backend == PPS_BACKEND_DPDK && !cfg->have_gw_mac &&
	    !cfg->have_gw_ip)
		BAD("no next hop: give -G/--gateway-mac or --gateway-ip");
	if (!cfg->dryrun && !cfg->dump_config && backend == PPS_BACKEND_PCAP && !cfg->iface)
		BAD("no interface: give -i/--interface");
	if (!cfg->have_src_ip) {
		/* --dryrun without -S: probes from 0.0.0.0 (ppscan-pcap fills it in later) */
		if (pps_targets_add(cfg->sources, 0, 0) || pps_targets_finalize(cfg->sources))
			BAD("out of memory");
	}

	if (cfg->shard >= cfg->shards)
		BAD("invalid shard '%u' (from --shard): must be below --shards %u (0-based)",
		    cfg->shard, cfg->shards);
	if (cfg->shards > 1 && !cfg->seed_given)
		BAD("--shards %u without --seed: the shards' orders would not fit together; give every shard the same --seed",
		    cfg->shards);
	if (cfg->resuming && !cfg->seed_given)
		BAD("resume file '%s' has no seed", resfile);
	if (cfg->n_resume_next && cfg->n_resume_next != cfg->sender_threads)
		BAD("resume state has %u sender positions but --sender-threads is %u",
		    cfg->n_resume_next, cfg->sender_threads);
	if (cfg->resuming && !cfg->n_resume_next)
		BAD("resume file '%s' has no resume-next line", resfile);
	if (!cfg->seed_given) {
		if (getrandom(&cfg->seed, sizeof(cfg->seed), 0) != sizeof(cfg->seed))
			BAD("cannot draw a random seed: %s", strerror(errno));
	}
	if (!cfg->scan_id_given) {
		/* UTC start time, sortable, plus 24 random bits: 20261129T151204Z-3f9a1c */
		time_t now = time(NULL);
		struct tm tm;
		uint32_t rnd = 0;
		char ts[20];

		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			BAD("cannot draw a random scan id: %s", strerror(errno));
		gmtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
		snprintf(cfg->scan_id, sizeof(cfg->scan_id), "%s-%06x", ts, rnd & 0xffffffu);
	}
	for (int i = 0; i < tv.n; i++) {
		free(tv.v[i]);
		free(tv.origin[i]);
	}
	free(tv.v);
	free(tv.origin);
	if (cfg->dump_config) {
		pps_config_dump(cfg, stdout);
		pps_config_free(cfg);
		return PPS_PARSE_EXIT;
	}
	return PPS_PARSE_OK;
fail:
	/* one line, whatever the bad value holds */
	for (char *q = g_msg; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			*q = '?';
	/* name the file and line when the offending option came from a config file */
	if (optind > 0 && optind - 1 < av.n && av.origin && av.origin[optind - 1] &&
	    av.origin[optind - 1] != (char *)-1 && !strstr(g_msg, av.origin[optind - 1]))
		fprintf(err, "%s: %s (in %s)\n", cfg->prog, g_msg, av.origin[optind - 1]);
	else
		fprintf(err, "%s: %s\n", cfg->prog, g_msg);
fail_printed:
	if (!cfg->file_argv) {
		cfg->file_argv = av.v;
		cfg->origin = av.origin;
	}
	for (int i = 0; i < tv.n; i++) {
		free(tv.v[i]);
		free(tv.origin[i]);
	}
	free(tv.v);
	free(tv.origin);
	pps_config_free(cfg);
	return PPS_PARSE_ERROR;
}

unsigned pps_config_probe_frame_bytes(const struct pps_config *cfg)
{
	unsigned frame = (cfg->probe ? cfg->probe : pps_probe_default())->frame_bytes(cfg);

	if (frame < 60)
		frame = 60;
	return frame + 24;
}

static int dump(const struct pps_config *cfg, FILE *out, int for_resume)
{
	fprintf(out, "# %s %s configuration: read it back with -C FILE\n", cfg->prog, PPS_VERSION);
	for (size_t i = 0; i < N_OPTS; i++) {
		int v = opts[i].lo.val;

		if (!cfg->given[i] || v == 'C' || v == OPT_RESUME || v == OPT_DUMP_CONFIG ||
		    v == OPT_RESUME_NEXT || v == OPT_EAL || v == 'e' || v == OPT_DRYRUN ||
		    v == OPT_SCAN_ID || v == OPT_LIST_PROBE_MODULES || v == OPT_LIST_OUTPUT_FIELDS)
			continue;
		if (for_resume && v == 't') /* the resumed run goes on to the end */
			continue;
		if (opts[i].arg && !strcmp(opts[i].arg, "FILE") && cfg->given[i][0] != '/' &&
		    strcmp(cfg->given[i], "-")) {
			/* absolute, so the file reads back (and a resume appends) from any directory */
			char cwd[4096];
			if (getcwd(cwd, sizeof(cwd))) {
				fprintf(out, "%s = %s/%s\n", opts[i].lo.name, cwd, cfg->given[i]);
				continue;
			}
		}
		fprintf(out, "%s = %s\n", opts[i].lo.name,
			opts[i].lo.has_arg == no_argument ? "true" : cfg->given[i]);
	}
	fprintf(out, "seed = %" PRIu64 "\n", cfg->seed);
	if (cfg->redis_url || cfg->scan_id_given) /* a resumed scan writes to the same keys */
		fprintf(out, "scan-id = %s\n", cfg->scan_id);
	if (cfg->n_target_args) {
		fprintf(out, "targets =");
		for (int i = 0; i < cfg->n_target_args; i++)
			fprintf(out, " %s", cfg->target_args[i]);
		fputc('\n', out);
	}
	return ferror(out) ? -EIO : 0;
}

int pps_config_dump(const struct pps_config *cfg, FILE *out)
{
	return dump(cfg, out, 0);
}

int pps_config_write_resume(const struct pps_config *cfg, const char *path, const char *eal,
			    const uint64_t *next, unsigned n)
{
	char tmp[4096];
	FILE *f;
	int rc;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	/* 0600: the file may hold a Redis password */
	{
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		f = fdopen(fd, "w");
		if (!f) {
			int e = -errno;
			close(fd);
			return e;
		}
	}
	rc = dump(cfg, f, 1);
	if (eal && *eal)
		fprintf(f, "eal = %s\n", eal);
	fprintf(f, "resume-next = ");
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "%s%" PRIu64, i ? "," : "", next[i]);
	fputc('\n', f);
	if (fclose(f) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	return rc;
}
